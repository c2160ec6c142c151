/* Helpers the mesh operations share (th_meshop_*.c, and the export's
 * writers, th_export.c / th_obj_write.c, for files in id order): elements
 * in ascending id order, the order every operation visits them in
 * (th_meshop.h). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "th_mesh.h"

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
