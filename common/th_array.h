/* Growable arrays of fixed-size elements with a 32-bit capacity: room for
 * `need` elements in *p (capacity *cap), the capacity doubling from `min`
 * and never past `max`. The renderer's per-frame arrays (gfx_mesh, gfx_list)
 * grow by it. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* 0 when *cap already holds need (nothing moves), else realloc to the
 * first of min, 2 min, 4 min, ... that holds need (at most max): 0, or
 * -ENOMEM (need > max, or no memory) with *p and *cap as they were.
 * min >= 1. */
int th_array_grow(void **p, uint32_t *cap, uint64_t need, uint32_t min, uint32_t max, size_t size);
