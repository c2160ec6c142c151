/* Ascending-id order for the mesh operations (th_meshop_int.h). The radix
 * sort is th_meshop_subdiv.c's sort_by_id, moved here so every operation
 * file shares it. */
#include "th_meshop_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SORT_SMALL 32u      /* below this many, insertion sort */
#define SORT_RADIX_BITS 16u /* LSD radix sort of ids: 4 passes of 16 bits */
#define SORT_RADIX_NARROW 8u /* below SORT_RADIX_WIDE elements: 8 passes of 8 bits */
#define SORT_RADIX_WIDE 16384u /* (4 passes over 2^16 counters cost more than the elements) */

int th_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int th_u64_sorted_set(const uint64_t *ids, size_t n, uint64_t **out)
{
	uint64_t *s = malloc((n + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (n)
		memcpy(s, ids, n * sizeof(*s));
	qsort(s, n, sizeof(*s), th_u64_cmp);
	for (size_t i = 1; i < n; i++)
		if (s[i] == s[i - 1]) {
			free(s);
			return -EINVAL;
		}
	*out = s;
	return 0;
}

size_t th_u64_sort_unique(uint64_t *a, size_t n)
{
	qsort(a, n, sizeof(*a), th_u64_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || a[i] != a[u - 1])
			a[u++] = a[i];
	return u;
}

static int slot_id_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct th_slot_id *)a)->id, y = ((const struct th_slot_id *)b)->id;
	return x < y ? -1 : x > y;
}

void th_slot_sort(struct th_slot_id *s, uint32_t n)
{
	if (n < SORT_SMALL) {
		for (uint32_t i = 1; i < n; i++) {
			struct th_slot_id x = s[i];
			uint32_t j = i;
			for (; j > 0 && s[j - 1].id > x.id; j--)
				s[j] = s[j - 1];
			s[j] = x;
		}
		return;
	}
	struct th_slot_id *tmp = malloc((size_t)n * sizeof(*tmp));
	/* Both widths make an even number of passes (the result ends in s). */
	const unsigned bits = n < SORT_RADIX_WIDE ? SORT_RADIX_NARROW : SORT_RADIX_BITS;
	const uint32_t mask = (1u << bits) - 1;
	uint32_t *count = malloc(((size_t)1 << bits) * sizeof(*count));
	if (!tmp || !count) {
		free(tmp);
		free(count);
		qsort(s, n, sizeof(*s), slot_id_cmp);
		return;
	}
	struct th_slot_id *from = s, *to = tmp;
	for (unsigned shift = 0; shift < 64; shift += bits) {
		memset(count, 0, ((size_t)1 << bits) * sizeof(*count));
		for (uint32_t i = 0; i < n; i++)
			count[from[i].id >> shift & mask]++;
		uint32_t sum = 0;
		for (uint32_t d = 0; d <= mask; d++) {
			uint32_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (uint32_t i = 0; i < n; i++)
			to[count[from[i].id >> shift & mask]++] = from[i];
		struct th_slot_id *t = from;
		from = to;
		to = t;
	}
	/* an even number of passes: the result is back in s */
	free(tmp);
	free(count);
}

struct th_slot_id *th_mesh_live_sorted(const struct th_mesh *m, bool faces, uint32_t *count)
{
	uint32_t n = faces ? m->live_faces : m->live_verts, k = 0;
	struct th_slot_id *s = malloc(((size_t)n + 1) * sizeof(*s));
	if (!s)
		return NULL;
	uint32_t slots = faces ? m->nfaces : m->nverts;
	for (uint32_t i = 0; i < slots && k < n; i++) {
		uint64_t id = faces ? m->faces[i].id : m->verts[i].id;
		if (id)
			s[k++] = (struct th_slot_id){ id, (int32_t)i };
	}
	th_slot_sort(s, k);
	*count = k;
	return s;
}
