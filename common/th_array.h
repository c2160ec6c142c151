/* Growable arrays of fixed-size elements with a 32-bit capacity: room for
 * `need` elements in *p (capacity *cap), the capacity doubling from `min`
 * and never past `max`. The renderer's per-frame arrays (gfx_mesh, gfx_list)
 * grow by it. th_array_realloc is realloc of n elements for any array whose
 * count is not bounded by the memory it already holds (a capacity computed
 * ahead of the allocation): on a 32-bit size_t (theta.wasm is wasm32) n *
 * size can wrap to a small block that the caller then overruns. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* 0 when *cap already holds need (nothing moves), else realloc to the
 * first of min, 2 min, 4 min, ... that holds need (at most max): 0, or
 * -ENOMEM (need > max, or no memory) with *p and *cap as they were.
 * min >= 1. */
int th_array_grow(void **p, uint32_t *cap, uint64_t need, uint32_t min, uint32_t max, size_t size);

/* realloc(p, n * size), or NULL (p untouched, as realloc's failure) when
 * n * size does not fit a size_t. */
void *th_array_realloc(void *p, size_t n, size_t size);
