/* Mesh operation benchmarks (make bench-mesh; issue 11's "Figures"). Each
 * operation is timed computing its patch (the pure function a tool runs,
 * median of BENCH_RUNS) beside a baseline measured in the same run: one
 * th_mesh_copy of the mesh it reads (every array and the index copied
 * once). The goal is op <= 5 x that copy. Also printed: applying the patch
 * to a copy (th_patch_apply, as the fold would) and the patch's size as
 * encoded in mesh.patch commands (25 bytes an op, a 2-byte count per
 * command of at most 2048 ops) per face the patch adds (every face it
 * reshapes is added again, so this is per changed face).
 *
 *   mesh.baseline.copy_100k_ms       th_mesh_copy of a 316 x 316 quad grid (99 856 faces)
 *   mesh.extrude_region_1k_ms        th_op_extrude_faces of a 32 x 32 block (1 024 faces) of it
 *                                    as one region along its normal
 *   mesh.extrude_region_1k_vs_copy, mesh.extrude_region_1k_apply_ms, ..._bytes_per_face
 *   mesh.subdivide_1k_ms             th_op_subdivide of the same block
 *   mesh.subdivide_1k_vs_copy        ratio to the copy of that mesh
 *   mesh.subdivide_1k_apply_ms, mesh.subdivide_1k_bytes_per_face
 *   mesh.baseline.copy_10k_ms        a 100 x 100 quad grid
 *   mesh.catmull_clark_10k_ms        one level of it (40 000 quads out)
 *   mesh.catmull_clark_10k_vs_copy   ratio to the copy of the 10 k-face mesh (the goal's baseline)
 *   mesh.baseline.copy_cc_result_ms  th_mesh_copy of the 40 k-face result (the patch applied)
 *   mesh.catmull_clark_10k_vs_copy_result  ratio to that copy: the op writes 4 x its input, so
 *                                    this says how far it is from copying what it makes
 *   mesh.catmull_clark_10k_apply_ms, mesh.catmull_clark_10k_bytes_per_face
 *   mesh.baseline.copy_weld_ms       24 964 separate quads, 99 856 vertices
 *   mesh.weld_100k_ms                th_op_weld of all of them (into one grid: every face rebuilt)
 *   mesh.weld_100k_vs_copy, mesh.weld_100k_apply_ms, mesh.weld_100k_bytes_per_face
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_bench.h"
#include "th_bench.h"
#include "th_mesh.h"
#include "th_meshop.h"
#include "th_payload.h"
#include "th_time.h"

#define BENCH_RUNS 5
#define GRID_100K 316u /* 99 856 quads */
#define GRID_10K 100u
#define BLOCK_1K 32u   /* 1 024 faces */
#define WELD_GRID 158u /* 24 964 quads, 4 vertices each: 99 856 vertices */
#define GOAL_RATIO 5.0

static const uint8_t author[32] = { 0xbe };

static void die(const char *what, int r, const char *why)
{
	mb_die("bench_mesh", what, r, why);
}

static void apply(struct th_mesh *m, const struct th_patch *p, uint64_t seq)
{
	mb_apply("bench_mesh", m, p, author, seq);
}

/* An n x n grid of unit quads in y = 0 (shared vertices), entry seq. */
static void build_grid(struct th_mesh *m, unsigned n, uint64_t seq)
{
	struct th_patch p;
	th_patch_init(&p);
	uint32_t *ref = malloc((size_t)(n + 1) * (n + 1) * sizeof(*ref));
	if (!ref || th_mesh_init(m, 0x6d657368u))
		die("allocating the grid", -ENOMEM, NULL);
	for (unsigned z = 0; z <= n; z++)
		for (unsigned x = 0; x <= n; x++) {
			float q[3] = { (float)x, 0, (float)z };
			int r = th_patch_vertex_add(&p, q);
			if (r < 0)
				die("th_patch_vertex_add", r, NULL);
			ref[z * (n + 1) + x] = (uint32_t)r;
		}
	for (unsigned z = 0; z < n; z++)
		for (unsigned x = 0; x < n; x++) {
			unsigned a = z * (n + 1) + x;
			struct th_pref c[4] = { th_pref_local(ref[a]), th_pref_local(ref[a + n + 1]),
						th_pref_local(ref[a + n + 2]), th_pref_local(ref[a + 1]) };
			int r = th_patch_face_add(&p, 0, c, 4);
			if (r < 0)
				die("th_patch_face_add", r, NULL);
		}
	apply(m, &p, seq);
	free(ref);
	th_patch_fini(&p);
}

/* n x n quads, each with its own four corners (coincident with its
 * neighbours'). */
static void build_separate_quads(struct th_mesh *m, unsigned n, uint64_t seq)
{
	struct th_patch p;
	th_patch_init(&p);
	if (th_mesh_init(m, 0x77656c64u))
		die("allocating the quads", -ENOMEM, NULL);
	for (unsigned z = 0; z < n; z++)
		for (unsigned x = 0; x < n; x++) {
			static const unsigned dx[4] = { 0, 0, 1, 1 }, dz[4] = { 0, 1, 1, 0 };
			struct th_pref c[4];
			for (unsigned k = 0; k < 4; k++) {
				float q[3] = { (float)(x + dx[k]), 0, (float)(z + dz[k]) };
				int r = th_patch_vertex_add(&p, q);
				if (r < 0)
					die("th_patch_vertex_add", r, NULL);
				c[k] = th_pref_local((uint32_t)r);
			}
			int r = th_patch_face_add(&p, 0, c, 4);
			if (r < 0)
				die("th_patch_face_add", r, NULL);
		}
	apply(m, &p, seq);
	th_patch_fini(&p);
}

static int cmp_u64(const void *a, const void *b) { return th_bench_cmp_u64(a, b); }

static double median_ms(uint64_t *ns, unsigned n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	return (double)ns[n / 2] / 1e6;
}

/* The baseline: th_mesh_copy of m, median of BENCH_RUNS. */
static double copy_ms(const struct th_mesh *m)
{
	uint64_t ns[BENCH_RUNS];
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		struct th_mesh c;
		uint64_t t0 = th_now_ns();
		if (th_mesh_copy(&c, m))
			die("th_mesh_copy", -ENOMEM, NULL);
		ns[i] = th_now_ns() - t0;
		th_mesh_fini(&c);
	}
	return median_ms(ns, BENCH_RUNS);
}

struct op_args {
	const uint64_t *ids;
	unsigned n;
};

typedef int (*op_fn)(const struct th_mesh *m, const struct op_args *a, struct th_patch *out, const char **why);

static int run_extrude(const struct th_mesh *m, const struct op_args *a, struct th_patch *out, const char **why)
{
	return th_op_extrude_faces(m, a->ids, a->n, NULL, 0.5f, true, out, why);
}

static int run_subdivide(const struct th_mesh *m, const struct op_args *a, struct th_patch *out, const char **why)
{
	return th_op_subdivide(m, a->ids, a->n, out, why);
}

static int run_catmull_clark(const struct th_mesh *m, const struct op_args *a, struct th_patch *out,
			     const char **why)
{
	return th_op_catmull_clark(m, 1, out, why);
}

static int run_weld(const struct th_mesh *m, const struct op_args *a, struct th_patch *out, const char **why)
{
	return th_op_weld(m, NULL, 0, 1e-3f, out, why);
}

/* Times op on m (median of BENCH_RUNS), then applies its patch to a copy
 * (median too); prints NAME_ms, NAME_vs_copy, NAME_apply_ms and
 * NAME_bytes_per_face. Returns the op's median. */
static double bench_op(const char *name, const struct th_mesh *m, op_fn fn, const struct op_args *a,
		       double baseline_ms)
{
	uint64_t ns[BENCH_RUNS], apply_ns[BENCH_RUNS];
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		th_patch_clear(&p);
		uint64_t t0 = th_now_ns();
		int r = fn(m, a, &p, &why);
		ns[i] = th_now_ns() - t0;
		if (r)
			die(name, r, why);
	}
	for (unsigned i = 0; i < BENCH_RUNS; i++) {
		struct th_mesh c;
		if (th_mesh_copy(&c, m))
			die("th_mesh_copy", -ENOMEM, NULL);
		uint64_t t0 = th_now_ns();
		apply(&c, &p, 1000 + i);
		apply_ns[i] = th_now_ns() - t0;
		th_mesh_fini(&c);
	}
	uint64_t faces = 0;
	for (uint32_t i = 0; i < p.n; i++)
		faces += p.ops[i].op == TH_PL_MESH_OP_FACE_ADD;
	uint64_t commands = ((uint64_t)p.n + TH_PATCH_ENTRY_OPS - 1) / TH_PATCH_ENTRY_OPS;
	double bytes = (double)p.n * TH_PL_MAXSZ_ITEM_mesh_op + 2.0 * (double)commands;
	double op = median_ms(ns, BENCH_RUNS), ratio = op / baseline_ms;
	char fig[96], goal[32];
	snprintf(fig, sizeof(fig), "mesh.%s_ms", name);
	th_bench_figure(fig, op, "ms");
	snprintf(fig, sizeof(fig), "mesh.%s_vs_copy", name);
	snprintf(goal, sizeof(goal), "<= %.0fx", GOAL_RATIO);
	th_bench_figure_goal(fig, ratio, "x", goal, ratio <= GOAL_RATIO);
	snprintf(fig, sizeof(fig), "mesh.%s_apply_ms", name);
	th_bench_figure(fig, median_ms(apply_ns, BENCH_RUNS), "ms");
	snprintf(fig, sizeof(fig), "mesh.%s_ops", name);
	th_bench_figure(fig, (double)p.n, "ops");
	snprintf(fig, sizeof(fig), "mesh.%s_bytes_per_face", name);
	th_bench_figure(fig, faces ? bytes / (double)faces : 0, "B");
	th_patch_fini(&p);
	return op;
}

/* The mesh one Catmull-Clark level of m gives (a copy of m with the
 * patch applied). */
static void cc_result(struct th_mesh *out, const struct th_mesh *m)
{
	struct th_patch p;
	const char *why = NULL;
	th_patch_init(&p);
	int r = th_op_catmull_clark(m, 1, &p, &why);
	if (r)
		die("th_op_catmull_clark", r, why);
	if (th_mesh_copy(out, m))
		die("th_mesh_copy", -ENOMEM, NULL);
	apply(out, &p, 2000);
	th_patch_fini(&p);
}

/* Face ids of the bx x bx block at the grid's centre (faces are added
 * row by row: the grid's face slots follow creation order). */
static uint64_t *block_ids(const struct th_mesh *m, unsigned n, unsigned bx)
{
	uint64_t *ids = malloc((size_t)bx * bx * sizeof(*ids));
	if (!ids)
		die("allocating ids", -ENOMEM, NULL);
	unsigned k = 0, z0 = (n - bx) / 2, x0 = (n - bx) / 2;
	for (unsigned z = z0; z < z0 + bx; z++)
		for (unsigned x = x0; x < x0 + bx; x++)
			ids[k++] = m->faces[z * n + x].id;
	return ids;
}

int main(void)
{
	struct th_mesh big, mid, sep;
	build_grid(&big, GRID_100K, 1);
	build_grid(&mid, GRID_10K, 2);
	build_separate_quads(&sep, WELD_GRID, 3);

	double copy_big = copy_ms(&big), copy_mid = copy_ms(&mid), copy_sep = copy_ms(&sep);
	th_bench_figure("mesh.baseline.copy_100k_ms", copy_big, "ms");
	th_bench_figure("mesh.baseline.copy_10k_ms", copy_mid, "ms");
	th_bench_figure("mesh.baseline.copy_weld_ms", copy_sep, "ms");

	uint64_t *block = block_ids(&big, GRID_100K, BLOCK_1K);
	struct op_args sub = { block, BLOCK_1K * BLOCK_1K }, none = { NULL, 0 };
	bench_op("extrude_region_1k", &big, run_extrude, &sub, copy_big);
	bench_op("subdivide_1k", &big, run_subdivide, &sub, copy_big);
	double cc = bench_op("catmull_clark_10k", &mid, run_catmull_clark, &none, copy_mid);
	struct th_mesh ccm;
	cc_result(&ccm, &mid);
	double copy_ccm = copy_ms(&ccm);
	th_bench_figure("mesh.baseline.copy_cc_result_ms", copy_ccm, "ms");
	th_bench_figure("mesh.catmull_clark_10k_vs_copy_result", cc / copy_ccm, "x");
	th_mesh_fini(&ccm);
	bench_op("weld_100k", &sep, run_weld, &none, copy_sep);

	free(block);
	th_mesh_fini(&big);
	th_mesh_fini(&mid);
	th_mesh_fini(&sep);
	return 0;
}
