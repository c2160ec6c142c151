/* qsort_r for the wasm build (tw_libc.h): a heapsort, O(n log n) with no
 * allocation. Not stable, as qsort_r need not be; common/'s callers
 * compare unique ids, so every correct sort orders them alike. */
#include "tw_libc.h"

#include <stdint.h>

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	while (size--) {
		unsigned char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

/* Sifts element i down the heap of the first n elements. */
static void sift(unsigned char *base, size_t i, size_t n, size_t size,
		 int (*cmp)(const void *, const void *, void *), void *arg)
{
	for (;;) {
		size_t big = i, l = 2 * i + 1, r = l + 1;
		if (l < n && cmp(base + l * size, base + big * size, arg) > 0)
			big = l;
		if (r < n && cmp(base + r * size, base + big * size, arg) > 0)
			big = r;
		if (big == i)
			return;
		swap_bytes(base + i * size, base + big * size, size);
		i = big;
	}
}

void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *), void *arg)
{
	unsigned char *b = base;
	if (n < 2 || size == 0)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift(b, i, n, size, cmp, arg);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift(b, 0, end, size, cmp, arg);
	}
}
