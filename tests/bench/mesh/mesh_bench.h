/* What the mesh benchmarks (bench_mesh.c, bench_xform.c) share: ending the
 * run on a failed step, and applying a patch as entry (author, seq). */
#pragma once
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "th_meshop.h"

/* Prints "PROG: WHAT failed (R: WHY)" and exits 1. */
static inline void mb_die(const char *prog, const char *what, int r, const char *why)
{
	fprintf(stderr, "%s: %s failed (%d%s%s)\n", prog, what, r, why ? ": " : "", why ? why : "");
	exit(1);
}

static inline void mb_apply(const char *prog, struct th_mesh *m, const struct th_patch *p, const uint8_t author[32],
			    uint64_t seq)
{
	const char *why = NULL;
	int r = th_patch_apply(m, p, author, seq, NULL, &why);
	if (r)
		mb_die(prog, "th_patch_apply", r, r == -EINVAL ? why : NULL);
}
