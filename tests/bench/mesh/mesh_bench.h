/* What the mesh benchmarks (bench_mesh.c, bench_xform.c, and
 * gfx/bench_gfx_mesh.c) share: ending the run on a failed step, applying a
 * patch as entry (author, seq), a torus's patch. */
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

/* th_mesh_init of m (id) and, in p (initialised), the patch of a torus of
 * segments x rings quads made against it. */
static inline void mb_torus(const char *prog, struct th_mesh *m, uint64_t id, uint32_t segments, uint32_t rings,
			    struct th_patch *p)
{
	struct th_prim pp;
	const char *why = NULL;
	th_prim_defaults(&pp, TH_PRIM_TORUS);
	pp.segments = segments;
	pp.rings = rings;
	int r = th_mesh_init(m, id);
	if (r || (r = th_op_primitive(&pp, p, &why)))
		mb_die(prog, "building the torus", r, why);
}
