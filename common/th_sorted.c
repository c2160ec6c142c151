#include "th_sorted.h"

#include <stdint.h>
#include <string.h>

size_t th_sorted_find(const void *base, size_t n, size_t stride, size_t key_off, const void *key, size_t key_len,
		      bool *found)
{
	const uint8_t *p = (const uint8_t *)base + key_off;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(p + mid * stride, key, key_len);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}
