/* Editor benchmarks (make bench-edit): what one frame of a tool costs on a
 * 10 k-face mesh (a cube cut 40 times per edge: 6 x 41 x 41 = 10 086
 * quads), each median of BENCH_FRAMES, beside a baseline measured in the
 * same run: one th_mesh_copy of that mesh, what a preview that copied the
 * mesh every frame would pay before doing anything.
 *
 *   edit.baseline.copy_10k_us     th_mesh_copy of the mesh
 *   edit.pick_face_10k_us         edit_pick_mesh of the face at a tip (every face's distance)
 *   edit.pick_vertex_10k_us       the same for vertices
 *   edit.extrude_frame_10k_us     one frame of an extrude drag of one face: th_op_extrude_faces
 *                                 and edit_preview_show (the previous frame's patch undone,
 *                                 this one applied on the copy made at the grab)
 *   edit.extrude_frame_vs_copy    its ratio to the copy (goal: below 1, cheaper than copying)
 *   edit.move_frame_10k_us        one frame of a drag of one face (th_op_transform + show)
 *   edit.rotate_frame_10k_us      one frame of move's rotate of 256 top faces (the most a selection
 *                                 holds) about their centroid (th_affine_rotate, th_op_transform + show)
 *   edit.duplicate_frame_10k_us   one frame of the shape tool's duplicate drag of those 256 faces
 *                                 (th_op_duplicate + show)
 *   edit.duplicate_frame_vs_copy  its ratio to the copy (goal: below 1)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit_pick.h"
#include "edit/edit_preview.h"
#include "th_bench.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"
#include "th_time.h"

#define BENCH_FRAMES 201
#define CUBE_CUTS 40u
#define SEL_FACES 256u /* EDIT_SELECT_MAX: the most faces a selection holds */

static const uint8_t author[32] = { 0xed };

static void die(const char *what, int r, const char *why)
{
	fprintf(stderr, "bench_tools: %s failed (%d%s%s)\n", what, r, why ? ": " : "", why ? why : "");
	exit(1);
}

static double median_us(uint64_t *ns, unsigned n)
{
	qsort(ns, n, sizeof ns[0], th_bench_cmp_u64);
	return (double)ns[n / 2] / 1e3;
}

int main(void)
{
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.subdiv = CUBE_CUTS;
	const char *why = NULL;
	struct th_mesh m;
	int r = mf_prim_mesh(&m, 0x10c0be, &pp, author, &why);
	if (r < 0)
		die("building the cube", r, why);
	struct th_patch p;
	th_patch_init(&p);
	struct th_mesh_stats st;
	th_mesh_stats(&m, &st);
	fprintf(stderr, "bench_tools: a cube of %u faces, %u vertices\n", st.faces, st.vertices);
	struct th_c_transform xf = { .position = { 0, 1, 0 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	float c[1][3];
	uint64_t face = 0;
	if (!mf_top_faces(&m, 1, &face, c))
		die("finding the top face", -ENOENT, NULL);
	float tip[3] = { c[0][0], c[0][1] + 1.01f, c[0][2] };
	static uint64_t ns[BENCH_FRAMES];

	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		uint64_t t0 = th_now_ns();
		struct th_mesh copy;
		if ((r = th_mesh_copy(&copy, &m)) < 0)
			die("th_mesh_copy", r, NULL);
		ns[i] = th_now_ns() - t0;
		th_mesh_fini(&copy);
	}
	double copy_us = median_us(ns, BENCH_FRAMES);
	th_bench_figure("edit.baseline.copy_10k_us", copy_us, "us");

	static const uint32_t modes[2] = { TH_SELECT_FACE, TH_SELECT_VERTEX };
	static const char *const names[2] = { "edit.pick_face_10k_us", "edit.pick_vertex_10k_us" };
	for (int k = 0; k < 2; k++) {
		for (unsigned i = 0; i < BENCH_FRAMES; i++) {
			struct edit_hit h;
			uint64_t t0 = th_now_ns();
			int got = edit_pick_mesh(&m, &xf, tip, 0.05f, modes[k], &h);
			ns[i] = th_now_ns() - t0;
			if (got != 1)
				die("picking", -ENOENT, NULL);
		}
		th_bench_figure(names[k], median_us(ns, BENCH_FRAMES), "us");
	}

	struct edit_preview pv;
	edit_preview_init(&pv);
	if ((r = edit_preview_start(&pv, 1, &m, &xf)) < 0)
		die("edit_preview_start", r, NULL);
	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		uint64_t t0 = th_now_ns();
		th_patch_clear(&p);
		r = th_op_extrude_faces(&m, &face, 1, NULL, 0.001f * (float)(i + 1), false, &p, &why);
		if (r == 0)
			r = edit_preview_show(&pv, &p, &why);
		ns[i] = th_now_ns() - t0;
		if (r < 0)
			die("an extrude frame", r, why);
	}
	double ex = median_us(ns, BENCH_FRAMES);
	th_bench_figure("edit.extrude_frame_10k_us", ex, "us");
	th_bench_figure_goal("edit.extrude_frame_vs_copy", ex / copy_us, "x", "< 1", ex < copy_us);

	uint64_t verts[64];
	int nv = th_op_vertices_of(&m, &face, 1, NULL, NULL, 0, verts, 64);
	if (nv <= 0)
		die("th_op_vertices_of", nv, NULL);
	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		uint64_t t0 = th_now_ns();
		struct th_affine a;
		th_affine_translate(&a, (float[3]){ 0, 0.001f * (float)(i + 1), 0 });
		th_patch_clear(&p);
		r = th_op_transform(&m, verts, (unsigned)nv, &a, &p, &why);
		if (r == 0)
			r = edit_preview_show(&pv, &p, &why);
		ns[i] = th_now_ns() - t0;
		if (r < 0)
			die("a move frame", r, why);
	}
	th_bench_figure("edit.move_frame_10k_us", median_us(ns, BENCH_FRAMES), "us");

	static uint64_t sel[SEL_FACES], sel_verts[SEL_FACES * 4];
	unsigned nsel = mf_top_faces(&m, SEL_FACES, sel, NULL);
	int nsv = th_op_vertices_of(&m, sel, nsel, NULL, NULL, 0, sel_verts, SEL_FACES * 4);
	if (nsel != SEL_FACES || nsv <= 0)
		die("selecting the top faces", nsv, NULL);
	double piv[3] = { 0, 0, 0 };
	for (int i = 0; i < nsv; i++)
		for (int k = 0; k < 3; k++)
			piv[k] += m.verts[th_mesh_vert_find(&m, sel_verts[i])].pos[k];
	float pivot[3] = { (float)(piv[0] / nsv), (float)(piv[1] / nsv), (float)(piv[2] / nsv) };
	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		uint64_t t0 = th_now_ns();
		float half = (float)(i % 23 + 1) * 15.0f * (float)M_PI / 360.0f;
		float q[4] = { 0, sinf(half), 0, cosf(half) };
		struct th_affine a;
		th_affine_rotate(&a, q, pivot);
		th_patch_clear(&p);
		r = th_op_transform(&m, sel_verts, (unsigned)nsv, &a, &p, &why);
		if (r == 0)
			r = edit_preview_show(&pv, &p, &why);
		ns[i] = th_now_ns() - t0;
		if (r < 0)
			die("a rotate frame", r, why);
	}
	th_bench_figure("edit.rotate_frame_10k_us", median_us(ns, BENCH_FRAMES), "us");

	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		uint64_t t0 = th_now_ns();
		th_patch_clear(&p);
		r = th_op_duplicate(&m, sel, nsel, (float[3]){ 0.01f * (float)(i + 1), 0, 0 }, &p, &why);
		if (r == 0)
			r = edit_preview_show(&pv, &p, &why);
		ns[i] = th_now_ns() - t0;
		if (r < 0)
			die("a duplicate frame", r, why);
	}
	double dup = median_us(ns, BENCH_FRAMES);
	th_bench_figure("edit.duplicate_frame_10k_us", dup, "us");
	th_bench_figure_goal("edit.duplicate_frame_vs_copy", dup / copy_us, "x", "< 1", dup < copy_us);
	if (!th_patch_fits(&p))
		die("the duplicate of a full selection fitting one command", -E2BIG, NULL);
	edit_preview_fini(&pv);
	th_mesh_fini(&m);
	th_patch_fini(&p);
	return 0;
}
