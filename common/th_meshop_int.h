/* Helpers the mesh operations share (th_meshop_*.c, and the export's
 * writers, th_export.c / th_obj_write.c, for files in id order): elements
 * in ascending id order, the order every operation visits them in
 * (th_meshop.h). */
#pragma once
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "th_mesh.h"
#include "th_meshop.h"

/* An element's id and its slot in the mesh's arrays. */
struct th_slot_id {
	uint64_t id;
	int32_t slot;
};

/* Sorts by id (repeats allowed, kept in order): insertion sort for a few,
 * an LSD radix sort otherwise (ids are spread like hashes, so a comparison
 * sort pays a cache miss per compare) of 8-bit digits below 16 k elements,
 * 16-bit ones above, qsort when its scratch cannot be had. */
void th_slot_sort(struct th_slot_id *s, uint32_t n);
/* The live faces (faces true) or vertices of m in ascending id order
 * (malloc'd, *count of them); NULL on -ENOMEM. */
struct th_slot_id *th_mesh_live_sorted(const struct th_mesh *m, bool faces, uint32_t *count);
/* qsort comparator of uint64_t. */
int th_u64_cmp(const void *a, const void *b);
/* A sorted copy of ids[n] (*out, malloc'd, free it; ids may be NULL when n
 * is 0): 0, -EINVAL when an id repeats, or -ENOMEM. */
int th_u64_sorted_set(const uint64_t *ids, size_t n, uint64_t **out);
/* Sorts a[n] ascending and drops repeats; returns how many are left. */
size_t th_u64_sort_unique(uint64_t *a, size_t n);

/* ---- appending many ops at once ----
 * An operation that knows how many ops it will append (total) reserves
 * them once, clipped to what p->max leaves, and then writes each op
 * straight into the array: th_patch_room says whether k more still fit
 * under the limit th_patch_begin returned (else the operation fails with
 * -E2BIG, as op-by-op appends would at the same op). The caller appends
 * only what th_patch_* would accept: finite positions (th_finite3),
 * nonzero ids, valid local references and materials. */
int th_patch_begin(struct th_patch *p, uint64_t total, uint32_t *limit);

static inline bool th_patch_room(const struct th_patch *p, uint32_t limit, uint32_t k)
{
	return k <= limit - p->n;
}

/* Whether the three floats are finite (positions, directions, offsets:
 * what th_patch_* and the operations check). */
static inline bool th_finite3(const float v[3])
{
	return isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]);
}

static inline struct th_pl_mesh_op *th_patch_put(struct th_patch *p, uint8_t op, uint64_t element, uint32_t arg)
{
	struct th_pl_mesh_op *o = &p->ops[p->n++];
	memset(o, 0, sizeof(*o));
	o->op = op;
	o->element = element;
	o->arg = arg;
	return o;
}

static inline void th_patch_put_pos(struct th_patch *p, uint8_t op, uint64_t element, const float pos[3])
{
	memcpy(th_patch_put(p, op, element, 0)->position, pos, 3 * sizeof(float));
}
