/* Random mesh operations for the property test (tests/common/
 * test_meshop_props.c) and the fuzzer (tests/fuzz/common/fuzz_meshop.c):
 * picks one operation of common/th_meshop.h and its parameters from a
 * source of numbers (a seeded generator, or the fuzzer's input bytes), runs
 * it on a mesh and says what the result must satisfy. No cmocka here: the
 * fuzzer links it too (Makefile FUZZ_TESTLIB). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "th_mesh.h"
#include "th_meshop.h"

/* Where the choices come from: pick(ctx, n) returns a number in [0, n),
 * n >= 1. */
struct mp_src {
	uint32_t (*pick)(void *ctx, uint32_t n);
	void *ctx;
};

static inline uint32_t mp_pick(struct mp_src *s, uint32_t n) { return n > 1 ? s->pick(s->ctx, n) % n : 0; }

/* The operations, and what each does to the Euler characteristic
 * V - E + F of a valid result (mp_euler). */
enum mp_op {
	MP_SUBDIVIDE,     /* keeps it (a refinement) */
	MP_CATMULL_CLARK, /* keeps it */
	MP_WELD,          /* any: joining pieces or closing seams changes it */
	MP_TRANSFORM,     /* keeps it (positions only) */
	MP_VERTEX_FREE,   /* + 1 (a vertex with no face) */
	MP_VERTEX_ON_EDGE, /* keeps it (V + 1, E + 1) */
	MP_VERTEX_ON_FACE, /* keeps it (V + 1, E + n, F + n - 1) */
	MP_EXTRUDE_EDGES, /* keeps it (a strip of quads on the boundary) */
	MP_EXTRUDE_FACES, /* keeps it (single and region) */
	MP_INSET,         /* keeps it */
	MP_LOOP_CUT,      /* keeps it */
	MP_BEVEL,         /* keeps it */
	MP_DUPLICATE,     /* the whole mesh: doubles it; some faces: any */
	MP_MIRROR,        /* any: the halves join along the plane or not */
	MP_FLIP,          /* keeps it */
	MP_DELETE,        /* any */
	MP_OPS
};

#define MP_EULER_ANY INT64_MIN

const char *mp_op_name(enum mp_op op);

struct mp_call {
	enum mp_op op;
	const char *name;
	int r;           /* what the operation returned */
	const char *why; /* its sentence when r < 0 */
	bool must_refuse; /* the parameters were invalid (a missing or repeated element, out of range) */
	int64_t euler_delta; /* the change a valid result must have, or MP_EULER_ANY */
};

/* Runs one operation picked from src on m into out. Operations that grow
 * the mesh are left out when m has more than face_cap faces, and
 * Catmull-Clark levels are kept under it. */
void mp_run(const struct th_mesh *m, struct mp_src *src, uint32_t face_cap, struct th_patch *out,
	    struct mp_call *call);

/* Start meshes (m uninitialised, id): picked from src among a cube, a plane
 * of quads, two open cubes side by side (coincident vertices to weld), a
 * cube with a hole and a free vertex, and small primitives of every kind
 * (th_op_primitive). 0, or a negative errno. */
int mp_start(struct th_mesh *m, uint64_t id, struct mp_src *src);
