/* Growable arrays (th_array.h). */
#include "th_array.h"

#include <errno.h>
#include <stdlib.h>

int th_array_grow(void **p, uint32_t *cap, uint64_t need, uint32_t min, uint32_t max, size_t size)
{
	if (need <= *cap)
		return 0;
	if (need > max)
		return -ENOMEM;
	uint64_t c = *cap ? *cap : (min ? min : 1);
	while (c < need)
		c *= 2;
	if (c > max)
		c = max;
	void *q = th_array_realloc(*p, c, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = (uint32_t)c;
	return 0;
}

void *th_array_realloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return realloc(p, n * size);
}
