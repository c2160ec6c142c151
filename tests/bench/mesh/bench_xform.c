/* Figures of the whole-mesh and one-element operations of th_meshop_xform.c
 * and of th_snap_mesh (make bench-mesh), on a mesh of 102 400 quads: two
 * tori of 256 x 200 (the second by th_op_duplicate). Each figure is the
 * median of BENCH_RUNS runs computing the patch (the pure function a tool
 * runs), beside a baseline measured in the same run: one th_mesh_copy of
 * the mesh (every array and the index copied once); the whole-mesh ops
 * have the goal op <= 5 x that copy.
 *
 *   mesh.xform.baseline.copy_100k_ms     th_mesh_copy of the mesh
 *   mesh.xform.transform_all_ms          th_op_transform of every vertex (a rotation)
 *   mesh.xform.duplicate_all_ms          th_op_duplicate of the whole mesh
 *   mesh.xform.flip_all_ms               th_op_flip of every face
 *   mesh.xform.mirror_ms                 th_op_mirror about a plane apart from the mesh
 *   mesh.xform.*_vs_copy                 each beside the copy
 *   mesh.xform.transform_face_us         th_op_vertices_of + th_op_transform of one face
 *                                        (a drag preview's work per frame)
 *   mesh.xform.delete_face_ms            th_op_delete of one face (it scans the mesh once)
 *   mesh.xform.delete_face_vs_copy
 *   mesh.snap.mesh_100k_ms               th_snap_mesh over every vertex, edge and face
 *   mesh.snap.mesh_100k_vs_copy
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_bench.h"
#include "th_bench.h"
#include "th_mesh.h"
#include "th_meshop.h"
#include "th_snap.h"
#include "th_time.h"

#define BENCH_RUNS 5
#define TORUS_SEGMENTS 256u
#define TORUS_RINGS 200u
#define GOAL_RATIO 5.0

static const uint8_t author[32] = { 0xb7 };

static void die(const char *what, int r, const char *why)
{
	mb_die("bench_xform", what, r, why);
}

static void apply(struct th_mesh *m, const struct th_patch *p, uint64_t seq)
{
	mb_apply("bench_xform", m, p, author, seq);
}

static void build(struct th_mesh *m)
{
	struct th_prim pp;
	struct th_patch p;
	const char *why = NULL;
	th_prim_defaults(&pp, TH_PRIM_TORUS);
	pp.segments = TORUS_SEGMENTS;
	pp.rings = TORUS_RINGS;
	th_patch_init(&p);
	int r = th_mesh_init(m, 0x78666f72u);
	if (r || (r = th_op_primitive(&pp, &p, &why)))
		die("building the torus", r, why);
	apply(m, &p, 1);
	th_patch_clear(&p);
	const float off[3] = { 2, 0, 0 };
	if ((r = th_op_duplicate(m, NULL, 0, off, &p, &why)))
		die("th_op_duplicate", r, why);
	apply(m, &p, 2);
	th_patch_fini(&p);
}

static double median_ms(uint64_t *ns)
{
	qsort(ns, BENCH_RUNS, sizeof(*ns), th_bench_cmp_u64);
	return ns[BENCH_RUNS / 2] / 1e6;
}

enum job { JOB_COPY, JOB_TRANSFORM, JOB_DUPLICATE, JOB_FLIP, JOB_MIRROR, JOB_TRANSFORM_FACE, JOB_DELETE_FACE, JOB_SNAP };

static uint64_t one_face;

static int run(const struct th_mesh *m, enum job job, struct th_patch *p, const char **why)
{
	struct th_affine a;
	const float q[4] = { 0, 0.1305262f, 0, 0.9914449f }, c[3] = { 0, 0, 0 }, off[3] = { 0, 3, 0 };
	const float at[3] = { -5, 0, 0 }, nx[3] = { 1, 0, 0 }, probe[3] = { 0.6f, 0.1f, 0.05f };
	th_patch_clear(p);
	switch (job) {
	case JOB_COPY: {
		struct th_mesh copy;
		int r = th_mesh_copy(&copy, m);
		if (!r)
			th_mesh_fini(&copy);
		return r;
	}
	case JOB_TRANSFORM:
		th_affine_rotate(&a, q, c);
		return th_op_transform(m, NULL, 0, &a, p, why);
	case JOB_DUPLICATE:
		return th_op_duplicate(m, NULL, 0, off, p, why);
	case JOB_FLIP:
		return th_op_flip(m, NULL, 0, p, why);
	case JOB_MIRROR:
		return th_op_mirror(m, at, nx, 0, p, why);
	case JOB_TRANSFORM_FACE: {
		uint64_t vs[TH_MESH_FACE_VERTS_MAX];
		int n = th_op_vertices_of(m, &one_face, 1, NULL, NULL, 0, vs, TH_MESH_FACE_VERTS_MAX);
		if (n < 0)
			return n;
		th_affine_translate(&a, off);
		return th_op_transform(m, vs, (unsigned)n, &a, p, why);
	}
	case JOB_DELETE_FACE:
		return th_op_delete(m, NULL, 0, NULL, NULL, 0, &one_face, 1, p, why);
	case JOB_SNAP: {
		struct th_snap_hit h;
		int r = th_snap_mesh(m, probe, 1, TH_SNAP_ALL, &h, why);
		return r == 1 ? 0 : r < 0 ? r : -ENOENT;
	}
	}
	return -EINVAL;
}

static double time_ms(const struct th_mesh *m, enum job job, struct th_patch *p, const char *what)
{
	uint64_t ns[BENCH_RUNS];
	for (int i = 0; i < BENCH_RUNS; i++) {
		const char *why = NULL;
		uint64_t t0 = th_now_ns();
		int r = run(m, job, p, &why);
		ns[i] = th_now_ns() - t0;
		if (r)
			die(what, r, why);
	}
	return median_ms(ns);
}

static void whole(const struct th_mesh *m, enum job job, struct th_patch *p, const char *name, double copy)
{
	char n1[96], n2[96], goal[32];
	double ms = time_ms(m, job, p, name);
	snprintf(n1, sizeof(n1), "mesh.xform.%s_ms", name);
	snprintf(n2, sizeof(n2), "mesh.xform.%s_vs_copy", name);
	snprintf(goal, sizeof(goal), "<= %.0f x copy", GOAL_RATIO);
	th_bench_figure(n1, ms, "ms");
	th_bench_figure_goal(n2, ms / copy, "x", goal, ms / copy <= GOAL_RATIO);
}

int main(void)
{
	struct th_mesh m;
	struct th_patch p;
	build(&m);
	struct th_mesh_stats st;
	th_mesh_stats(&m, &st);
	fprintf(stderr, "bench_xform: %u vertices, %u faces\n", st.vertices, st.faces);
	for (uint32_t f = 0; f < m.nfaces && !one_face; f++)
		one_face = m.faces[f].id;
	th_patch_init(&p);
	double copy = time_ms(&m, JOB_COPY, &p, "th_mesh_copy");
	th_bench_figure("mesh.xform.baseline.copy_100k_ms", copy, "ms");
	whole(&m, JOB_TRANSFORM, &p, "transform_all", copy);
	whole(&m, JOB_DUPLICATE, &p, "duplicate_all", copy);
	whole(&m, JOB_FLIP, &p, "flip_all", copy);
	whole(&m, JOB_MIRROR, &p, "mirror", copy);
	th_bench_figure("mesh.xform.transform_face_us", 1000 * time_ms(&m, JOB_TRANSFORM_FACE, &p, "transform_face"),
			"us");
	double del = time_ms(&m, JOB_DELETE_FACE, &p, "delete_face");
	th_bench_figure("mesh.xform.delete_face_ms", del, "ms");
	th_bench_figure("mesh.xform.delete_face_vs_copy", del / copy, "x");
	double snap = time_ms(&m, JOB_SNAP, &p, "th_snap_mesh");
	th_bench_figure("mesh.snap.mesh_100k_ms", snap, "ms");
	th_bench_figure("mesh.snap.mesh_100k_vs_copy", snap / copy, "x");
	th_patch_fini(&p);
	th_mesh_fini(&m);
	return 0;
}
