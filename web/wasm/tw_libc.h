/* What the wasm build needs of the C library beyond Debian's wasi-libc
 * (2022): qsort_r, which common/ sorts with (th_meshop_xform.c,
 * th_model.c). Included before every source of theta.wasm (-include);
 * tw_libc.c implements it. */
#pragma once
#include <stddef.h>

void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *), void *arg);
