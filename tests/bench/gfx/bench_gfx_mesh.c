/* Figures of gfx_mesh (CPU, make bench-gfx) on a mesh of 102 400 quads (a
 * torus of 256 x 200 applied twice, as two entries): a full build beside
 * the incremental update after a 1 k-face edit, each the median of
 * BENCH_RUNS runs. The full build is the baseline, measured in the same
 * run: a fresh gfx_mesh brought up to date (what a new mesh, or a rebuild,
 * costs); the edit moves the vertices of 1 000 faces (five segments of the
 * first torus, a ring around its tube: 1 200 vertices, so 1 400 faces
 * change shape, 1 800 change normals when smooth) by a patch applied
 * before the clock starts, the other way each run.
 *
 *   gfx.mesh.baseline.full_build_100k_ms        fresh build, flat
 *   gfx.mesh.update_1k_move_ms                  update after the move, flat
 *   gfx.mesh.update_1k_move_vs_full             the two side by side (goal)
 *   gfx.mesh.baseline.full_build_smooth_100k_ms fresh build, smooth
 *   gfx.mesh.update_1k_move_smooth_ms           update after the move, smooth
 *   gfx.mesh.update_1k_move_smooth_vs_full
 *   gfx.mesh.update_1k_extrude_ms               update after extruding the 1 000
 *                                               faces (faces removed and added:
 *                                               appends, dead spans, edges again)
 *   gfx.mesh.update_1k_extrude_vs_full
 *   gfx.mesh.compare_copy_ms                    an unchanged copy, flat (a
 *                                               preview before it changes
 *                                               anything: a pass over the slots)
 *   gfx.mesh.update_same_ns                     the same mesh and version again
 *   gfx.mesh.update_1k_move_upload_kib          what the move leaves dirty
 *   gfx.mesh.full_upload_kib                    the whole vertex + index arrays
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mesh/mesh_bench.h"
#include "gfx/gfx_mesh.h"
#include "th_bench.h"
#include "th_mesh.h"
#include "th_meshop.h"
#include "th_time.h"

#define BENCH_RUNS 9
#define TORUS_SEGMENTS 256u
#define TORUS_RINGS 200u
#define EDIT_FACES 1000u
/* An update's floor is a pass over every face and vertex slot (flat,
 * what gfx.mesh.compare_copy_ms measures; smooth adds every vertex
 * normal), a full build's is also writing every face:
 * an edit of 1 % of the faces should cost at most a third of a full build. */
#define GOAL_RATIO 0.33

static const uint8_t author[32] = { 0x67 };
static const char prog[] = "bench_gfx_mesh";

static void die(const char *what, int r, const char *why)
{
	mb_die(prog, what, r, why);
}

static void build(struct th_mesh *m)
{
	struct th_patch p;
	th_patch_init(&p);
	mb_torus(prog, m, 0x67667821u, TORUS_SEGMENTS, TORUS_RINGS, &p);
	mb_apply(prog, m, &p, author, 1);
	mb_apply(prog, m, &p, author, 2);
	th_patch_fini(&p);
}

static double median_ms(uint64_t *ns)
{
	return th_bench_median_ms(ns, BENCH_RUNS);
}

static uint64_t timed_update(struct gfx_mesh *g, const struct th_mesh *m, bool smooth, int want)
{
	uint64_t t0 = th_now_ns();
	int r = gfx_mesh_update(g, m, smooth);
	uint64_t t = th_now_ns() - t0;
	if (r != want)
		die("gfx_mesh_update", r < 0 ? r : -EPROTO, r >= 0 ? "an unexpected result" : NULL);
	return t;
}

static double full_build(const struct th_mesh *m, bool smooth)
{
	uint64_t ns[BENCH_RUNS];
	for (int i = 0; i < BENCH_RUNS; i++) {
		struct gfx_mesh g;
		gfx_mesh_init(&g, m->id);
		ns[i] = timed_update(&g, m, smooth, 1);
		gfx_mesh_fini(&g);
	}
	return median_ms(ns);
}

/* The vertices of the edit's faces moved by +-d, in turn. */
static void move_patch(const struct th_mesh *m, const uint64_t *faces, float dy, struct th_patch *p)
{
	static uint64_t vs[4 * EDIT_FACES];
	const char *why = NULL;
	struct th_affine a;
	const float d[3] = { 0, dy, 0 };
	th_patch_clear(p);
	int n = th_op_vertices_of(m, faces, EDIT_FACES, NULL, NULL, 0, vs, 4 * EDIT_FACES);
	if (n < 0)
		die("th_op_vertices_of", n, NULL);
	th_affine_translate(&a, d);
	int r = th_op_transform(m, vs, (unsigned)n, &a, p, &why);
	if (r)
		die("th_op_transform", r, why);
}

static uint64_t dirty_bytes(const struct gfx_mesh *g)
{
	uint64_t b = 0;
	for (uint32_t i = 0; i < g->ndirty_v; i++)
		b += (uint64_t)g->dirty_v[i].count * sizeof(struct gfx_vertex);
	for (uint32_t i = 0; i < g->ndirty_index; i++)
		b += (uint64_t)g->dirty_index[i].count * sizeof(uint32_t);
	return b;
}

/* Median update after a move of the edit's vertices (applied untimed). */
static double move_updates(struct th_mesh *m, struct gfx_mesh *g, const uint64_t *faces, bool smooth,
			   uint64_t *bytes, uint64_t *rewritten, uint64_t *seq)
{
	uint64_t ns[BENCH_RUNS];
	struct th_patch p;
	th_patch_init(&p);
	for (int i = 0; i < BENCH_RUNS; i++) {
		move_patch(m, faces, i % 2 ? -0.01f : 0.01f, &p);
		mb_apply(prog, m, &p, author, (*seq)++);
		gfx_mesh_take_dirty(g);
		uint64_t w = g->faces_rewritten;
		ns[i] = timed_update(g, m, smooth, 1);
		*rewritten = g->faces_rewritten - w;
		*bytes = dirty_bytes(g);
		if (g->full)
			die("the move's update", -EPROTO, "rebuilt everything");
	}
	th_patch_fini(&p);
	return median_ms(ns);
}

static void ratio(const char *name, double ms, double full)
{
	char goal[32];
	snprintf(goal, sizeof(goal), "<= %.2f x full", GOAL_RATIO);
	th_bench_figure_goal(name, ms / full, "x", goal, ms / full <= GOAL_RATIO);
}

int main(void)
{
	struct th_mesh m;
	uint64_t seq = 10, bytes = 0, rewritten = 0;
	build(&m);
	fprintf(stderr, "%s: %u vertices, %u faces\n", prog, m.live_verts, m.live_faces);
	/* The edit: the first 1 000 faces of the first torus (five of its
	 * segments, a strip around it), by id as a tool names them. */
	static uint64_t faces[EDIT_FACES];
	for (uint32_t f = 0, n = 0; n < EDIT_FACES; f++)
		if (m.faces[f].id)
			faces[n++] = m.faces[f].id;

	double full = full_build(&m, false);
	th_bench_figure("gfx.mesh.baseline.full_build_100k_ms", full, "ms");
	struct gfx_mesh g;
	gfx_mesh_init(&g, m.id);
	timed_update(&g, &m, false, 1);
	double full_kib = ((double)g.nv * sizeof(struct gfx_vertex) + (double)g.nindex * sizeof(uint32_t)) / 1024;
	double mv = move_updates(&m, &g, faces, false, &bytes, &rewritten, &seq);
	fprintf(stderr, "%s: the move rewrote %llu faces\n", prog, (unsigned long long)rewritten);
	th_bench_figure("gfx.mesh.update_1k_move_ms", mv, "ms");
	ratio("gfx.mesh.update_1k_move_vs_full", mv, full);
	th_bench_figure("gfx.mesh.update_1k_move_upload_kib", (double)bytes / 1024, "KiB");
	th_bench_figure("gfx.mesh.full_upload_kib", full_kib, "KiB");

	/* The same mesh and version: nothing to compare. */
	uint64_t ns[BENCH_RUNS];
	for (int i = 0; i < BENCH_RUNS; i++)
		ns[i] = timed_update(&g, &m, false, 0);
	th_bench_figure("gfx.mesh.update_same_ns", median_ms(ns) * 1e6, "ns");
	/* An unchanged copy: every face compared, none written. */
	for (int i = 0; i < BENCH_RUNS; i++) {
		struct th_mesh c;
		int r = th_mesh_copy(&c, &m);
		if (r)
			die("th_mesh_copy", r, NULL);
		ns[i] = timed_update(&g, &c, false, 0);
		th_mesh_fini(&c);
		timed_update(&g, &m, false, 0);
	}
	th_bench_figure("gfx.mesh.compare_copy_ms", median_ms(ns), "ms");

	/* Smooth. */
	double full_s = full_build(&m, true);
	th_bench_figure("gfx.mesh.baseline.full_build_smooth_100k_ms", full_s, "ms");
	timed_update(&g, &m, true, 1);
	double mvs = move_updates(&m, &g, faces, true, &bytes, &rewritten, &seq);
	fprintf(stderr, "%s: the smooth move rewrote %llu faces\n", prog, (unsigned long long)rewritten);
	th_bench_figure("gfx.mesh.update_1k_move_smooth_ms", mvs, "ms");
	ratio("gfx.mesh.update_1k_move_smooth_vs_full", mvs, full_s);

	/* Extrusions of 1 000 faces: each run a band of 1 000 faces of the
	 * second torus no earlier run touched (five segments: a ring around
	 * the tube), pulled up 1 cm as one region (the band's faces removed
	 * and added again on new vertices, walls along its two borders). */
	static uint64_t bands[BENCH_RUNS][EDIT_FACES];
	for (uint32_t b = 0; b < BENCH_RUNS; b++)
		for (uint32_t k = 0; k < EDIT_FACES; k++) {
			uint32_t f = TORUS_SEGMENTS * TORUS_RINGS + b * EDIT_FACES + k;
			if (f >= m.nfaces || !m.faces[f].id)
				die("finding the second torus", -ENOENT, NULL);
			bands[b][k] = m.faces[f].id;
		}
	timed_update(&g, &m, false, 1);
	struct th_patch p;
	th_patch_init(&p);
	for (int i = 0; i < BENCH_RUNS; i++) {
		const char *why = NULL;
		th_patch_clear(&p);
		const float up[3] = { 0, 1, 0 };
		int r = th_op_extrude_faces(&m, bands[i], EDIT_FACES, up, 0.01f, true, &p, &why);
		if (r)
			die("th_op_extrude_faces", r, why);
		mb_apply(prog, &m, &p, author, seq++);
		gfx_mesh_take_dirty(&g);
		uint64_t w = g.faces_rewritten;
		ns[i] = timed_update(&g, &m, false, 1);
		rewritten = g.faces_rewritten - w;
	}
	fprintf(stderr, "%s: an extrusion rewrote %llu faces (%u faces now)\n", prog, (unsigned long long)rewritten,
		m.live_faces);
	th_patch_fini(&p);
	double ex = median_ms(ns);
	th_bench_figure("gfx.mesh.update_1k_extrude_ms", ex, "ms");
	ratio("gfx.mesh.update_1k_extrude_vs_full", ex, full);
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
	return 0;
}
