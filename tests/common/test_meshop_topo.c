/* Topology operations (common/th_meshop_topo.c) on known meshes: the unit
 * cube, plane grids, a cylinder. Every patch is applied as an entry
 * (th_patch_apply), the mesh checked (th_mesh_check) and counted (vertices,
 * edges, faces), undone through the journal back to the same canonical
 * encoding, then applied again for the case to look at. Every refusal gives
 * its sentence and leaves the patch as it was. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_id.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"

/* Top face of the cube (mf_cube_faces[1]) and its neighbours. */
#define BOTTOM 101u
#define TOP 102u
#define FRONT 103u
#define BACK 104u
#define LEFT 105u
#define RIGHT 106u

struct tc {
	struct th_mesh m;
	struct th_journal j;
	struct th_patch p;
	uint64_t seq;    /* the entry the last patch was applied as */
	const char *why; /* the operations' sentence */
};

static void tc_end(struct tc *t)
{
	th_patch_fini(&t->p);
	th_mesh_fini(&t->m);
	th_journal_fini(&t->j);
}

/* A fresh journal, patch and sentence; what t held before (t zeroed or
 * used) finished first. */
static void tc_begin(struct tc *t)
{
	tc_end(t);
	th_journal_init(&t->j, 0);
	th_patch_init(&t->p);
	t->seq = 0;
	t->why = NULL;
}

static void tc_cube(struct tc *t)
{
	tc_begin(t);
	mf_build_cube(&t->m, NULL, 6);
}

/* An empty mesh in t and a patch to build it with; tc_built applies it. */
static struct mf_patch *tc_build(struct tc *t)
{
	tc_begin(t);
	assert_int_equal(th_mesh_init(&t->m, MF_MESH_ID), 0);
	return mf_patch_new();
}

static void tc_built(struct tc *t, struct mf_patch *p)
{
	mf_expect_applied(&t->m, p, NULL);
	free(p);
}

/* Vertices 1..64 (ids in v) round the unit circle in z = 0, for a 64-gon. */
static void p_circle64(struct mf_patch *p, uint64_t v[64])
{
	for (unsigned k = 0; k < 64; k++) {
		double a = 2 * M_PI * k / 64;
		v[k] = 1 + k;
		mf_p_vert(p, v[k], (float)cos(a), (float)sin(a), 0);
	}
}

/* Vertices 1 (0 0 0), 2 (1 0 0), 3 (0 1 0): a triangle's corners. */
static void p_tri_verts(struct mf_patch *p)
{
	mf_p_vert(p, 1, 0, 0, 0);
	mf_p_vert(p, 2, 1, 0, 0);
	mf_p_vert(p, 3, 0, 1, 0);
}

/* A w x h grid of unit quads in z = 0 facing +z: vertex (i, j) has id
 * 1 + i + j (w + 1), face (i, j) id 1000 + i + j w. */
static uint64_t gv(unsigned w, unsigned i, unsigned j) { return 1 + i + j * (w + 1); }
static uint64_t gf(unsigned w, unsigned i, unsigned j) { return 1000 + i + j * w; }

static void tc_grid(struct tc *t, unsigned w, unsigned h)
{
	struct mf_patch *p = tc_build(t);
	for (unsigned j = 0; j <= h; j++)
		for (unsigned i = 0; i <= w; i++)
			mf_p_vert(p, gv(w, i, j), (float)i, (float)j, 0);
	for (unsigned j = 0; j < h; j++)
		for (unsigned i = 0; i < w; i++) {
			uint64_t v[4] = { gv(w, i, j), gv(w, i + 1, j), gv(w, i + 1, j + 1), gv(w, i, j + 1) };
			mf_p_face(p, gf(w, i, j), 3, 4, v);
		}
	tc_built(t, p);
}

/* A closed cylinder of n sides: bottom ring ids 1..n (z 0), top n+1..2n
 * (z 1), side quads 201.., top cap 301, bottom cap 302. */
static void tc_cylinder(struct tc *t, unsigned n)
{
	struct mf_patch *p = tc_build(t);
	for (unsigned z = 0; z < 2; z++)
		for (unsigned k = 0; k < n; k++) {
			double a = 2 * M_PI * k / n;
			mf_p_vert(p, 1 + k + z * n, (float)cos(a), (float)sin(a), (float)z);
		}
	for (unsigned k = 0; k < n; k++) {
		unsigned k1 = (k + 1) % n;
		uint64_t v[4] = { 1 + k, 1 + k1, 1 + k1 + n, 1 + k + n };
		mf_p_face(p, 201 + k, 0, 4, v);
	}
	uint64_t top[64], bottom[64];
	for (unsigned k = 0; k < n; k++) {
		top[k] = 1 + n + k;
		bottom[k] = n - k;
	}
	mf_p_face(p, 301, 1, n, top);
	mf_p_face(p, 302, 2, n, bottom);
	tc_built(t, p);
}

/* A case's fixture (TC_TEST): the cube in a struct tc; a case may build
 * another mesh in it (tc_grid, tc_cylinder, tc_build). */
static int tc_setup(void **state)
{
	struct tc *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	tc_cube(t);
	*state = t;
	return 0;
}

static int tc_teardown(void **state)
{
	tc_end(*state);
	free(*state);
	return 0;
}

#define TC_TEST(f) cmocka_unit_test_setup_teardown(f, tc_setup, tc_teardown)

static void counts_are(const struct th_mesh *m, uint32_t v, uint32_t e, uint32_t f)
{
	struct th_mesh_stats s;
	th_mesh_stats(m, &s);
	assert_int_equal(s.vertices, v);
	assert_int_equal(s.edges, e);
	assert_int_equal(s.faces, f);
}

/* Applies t->p as the next entry: the mesh stays valid with the counts
 * given; undo through a journal gives back the mesh exactly; applied again
 * (journal t->j), it stays for the case to look at. */
static void apply_checked(struct tc *t, uint32_t v, uint32_t e, uint32_t f)
{
	t->seq++;
	mf_patch_round_trip(&t->m, &t->p, t->seq);
	mf_patch_applied(&t->m, &t->p, t->seq, &t->j);
	counts_are(&t->m, v, e, f);
}

/* The id op i of the last applied patch created. */
static uint64_t made(const struct tc *t, uint32_t i)
{
	return th_id_derive(TH_ID_MESH_ELEMENT, mf_author, t->seq, i + 1);
}

static const float *pos_of(const struct tc *t, uint64_t vid)
{
	int32_t s = th_mesh_vert_find(&t->m, vid);
	assert_true(s >= 0);
	return t->m.verts[s].pos;
}

static unsigned ops_of(const struct th_patch *p, uint8_t op)
{
	unsigned k = 0;
	for (uint32_t i = 0; i < p->n; i++)
		k += p->ops[i].op == op;
	return k;
}

static int cmp_pos(const void *a, const void *b)
{
	const float *x = a, *y = b;
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* The positions of the vertices the patch adds (VERTEX_ADD), as a set, are
 * want[k] within 1e-6. */
static void added_at(const struct th_patch *p, const float (*want)[3], unsigned k)
{
	float got[64][3], exp[64][3];
	unsigned n = 0;
	for (uint32_t i = 0; i < p->n; i++)
		if (p->ops[i].op == TH_PL_MESH_OP_VERTEX_ADD) {
			assert_true(n < 64);
			memcpy(got[n++], p->ops[i].position, sizeof(got[0]));
		}
	assert_int_equal(n, k);
	memcpy(exp, want, k * sizeof(exp[0]));
	qsort(got, n, sizeof(got[0]), cmp_pos);
	qsort(exp, n, sizeof(exp[0]), cmp_pos);
	for (unsigned i = 0; i < n; i++)
		for (int a = 0; a < 3; a++)
			if (fabsf(got[i][a] - exp[i][a]) > 1e-6f)
				fail_msg("new vertex %u: (%g %g %g), expected (%g %g %g)", i, got[i][0], got[i][1],
					 got[i][2], exp[i][0], exp[i][1], exp[i][2]);
}

/* A patch holding one op before the refused call: it must still hold one. */
static void prefill(struct tc *t)
{
	th_patch_clear(&t->p);
	const float o[3] = { 9, 9, 9 };
	assert_true(th_patch_vertex_add(&t->p, o) > 0);
}

/* The arguments' order of evaluation is unspecified: the sentence is read
 * through wp after the call. */
static void refused(struct tc *t, int r, const char *const *wp, const char *needle)
{
	const char *why = *wp;
	assert_int_equal(r, -EINVAL);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("refused with \"%s\", expected \"%s\"", why, needle);
	assert_int_equal(t->p.n, 1);
}

/* Live faces of n corners. */
static unsigned faces_with(const struct tc *t, uint32_t n)
{
	unsigned k = 0;
	for (uint32_t i = 0; i < t->m.nfaces; i++)
		k += t->m.faces[i].id && t->m.faces[i].n == n;
	return k;
}

/* Every face the patch's ops first, first + step, ... made faces +z. */
static void made_face_up(const struct tc *t, uint32_t first, uint32_t step)
{
	for (uint32_t i = first; i < t->p.n; i += step) {
		float n[3];
		assert_int_equal(th_mesh_face_normal(&t->m, th_mesh_face_find(&t->m, made(t, i)), n, NULL), 0);
		assert_true(fabsf(n[2] - 1) < 1e-6f);
	}
}

/* Corners of face id. */
static unsigned corners_of(const struct tc *t, uint64_t face)
{
	int32_t f = th_mesh_face_find(&t->m, face);
	assert_true(f >= 0);
	return t->m.faces[f].n;
}

/* ---- vertices ------------------------------------------------------------------ */

static void vertex_free_adds_a_lone_vertex(void **state)
{
	struct tc *t = *state;
	const float at[3] = { 2, 3, 4 };
	assert_int_equal(th_op_vertex_free(&t->m, at, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 1);
	apply_checked(t, 9, 12, 6);
	assert_memory_equal(pos_of(t, made(t, 0)), at, sizeof(at));

	prefill(t);
	const float bad[3] = { 0, NAN, 0 };
	refused(t, th_op_vertex_free(&t->m, bad, &t->p, &t->why), &t->why, "position: must be three finite numbers");
}

static void vertex_on_edge_splits_both_faces(void **state)
{
	struct tc *t = *state;
	assert_int_equal(th_op_vertex_on_edge(&t->m, 1, 2, 0.25f, &t->p, &t->why), 0);
	/* The vertex, two removes, two pentagons. */
	assert_int_equal(t->p.n, 1 + 2 + 2 * 6);
	apply_checked(t, 9, 13, 6);
	const float want[1][3] = { { 0.25f, 0, 0 } };
	added_at(&t->p, want, 1);
	assert_int_equal(th_mesh_face_find(&t->m, BOTTOM), TH_MESH_NONE);
	assert_int_equal(th_mesh_face_find(&t->m, FRONT), TH_MESH_NONE);
	assert_int_equal(corners_of(t, made(t, 3)), 5);
	assert_int_equal(corners_of(t, made(t, 9)), 5);
	/* The new vertex sits between 1 and 2 in both. */
	int32_t nv = th_mesh_vert_find(&t->m, made(t, 0));
	assert_true(th_mesh_he_find(&t->m, th_mesh_vert_find(&t->m, 1), nv) >= 0);
	assert_true(th_mesh_he_find(&t->m, nv, th_mesh_vert_find(&t->m, 2)) >= 0);
	assert_true(th_mesh_he_find(&t->m, nv, th_mesh_vert_find(&t->m, 1)) >= 0);

	prefill(t);
	refused(t, th_op_vertex_on_edge(&t->m, 5, 6, 0, &t->p, &t->why), &t->why, "t: must be between 0 and 1");
	refused(t, th_op_vertex_on_edge(&t->m, 5, 6, 1, &t->p, &t->why), &t->why, "t: must be between 0 and 1");
	refused(t, th_op_vertex_on_edge(&t->m, 5, 6, NAN, &t->p, &t->why), &t->why, "t: must be between 0 and 1");
	refused(t, th_op_vertex_on_edge(&t->m, 5, 5, 0.5f, &t->p, &t->why), &t->why,
		"an edge needs two different vertices");
	refused(t, th_op_vertex_on_edge(&t->m, 5, 3, 0.5f, &t->p, &t->why), &t->why, "not joined by an edge");
	refused(t, th_op_vertex_on_edge(&t->m, 5, 999, 0.5f, &t->p, &t->why), &t->why, "a vertex named does not exist");
}

static void a_face_would_pass_64_corners(void **state)
{
	struct tc *t = *state;
	struct mf_patch *p = tc_build(t);
	uint64_t v[64];
	p_circle64(p, v);
	mf_p_face(p, 100, 0, 64, v);
	tc_built(t, p);
	prefill(t);
	refused(t, th_op_vertex_on_edge(&t->m, 1, 2, 0.5f, &t->p, &t->why), &t->why, "more than 64 corners");
	/* A fan of triangles is fine. */
	th_patch_clear(&t->p);
	const float c[3] = { 0, 0, 1 };
	assert_int_equal(th_op_vertex_on_face(&t->m, 100, c, &t->p, &t->why), 0);
	apply_checked(t, 65, 128, 64);
}

static void vertex_on_face_makes_a_fan(void **state)
{
	struct tc *t = *state;
	const float at[3] = { 0.25f, 0.5f, 5 }; /* projected onto z = 1 */
	assert_int_equal(th_op_vertex_on_face(&t->m, TOP, at, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 1 + 1 + 4 * 4);
	apply_checked(t, 9, 16, 9);
	const float want[1][3] = { { 0.25f, 0.5f, 1 } };
	added_at(&t->p, want, 1);
	made_face_up(t, 2, 4); /* each triangle, as the top did */

	prefill(t);
	const float out[3] = { 1.5f, 0.5f, 1 }, edge[3] = { 0.5f, 0, 1 }, nan[3] = { NAN, 0, 0 };
	refused(t, th_op_vertex_on_face(&t->m, BOTTOM, out, &t->p, &t->why), &t->why, "must lie inside the face");
	refused(t, th_op_vertex_on_face(&t->m, BOTTOM, edge, &t->p, &t->why), &t->why, "must lie inside the face");
	refused(t, th_op_vertex_on_face(&t->m, BOTTOM, nan, &t->p, &t->why), &t->why, "position: must be three finite");
	refused(t, th_op_vertex_on_face(&t->m, TOP, at, &t->p, &t->why), &t->why, "face: the face does not exist");
}

/* ---- extrude of faces ----------------------------------------------------------- */

static void extrude_the_cube_top_gives_10_faces_12_vertices(void **state)
{
	struct tc *t = *state;
	const uint64_t top = TOP;
	assert_int_equal(th_op_extrude_faces(&t->m, &top, 1, NULL, 1, false, &t->p, &t->why), 0);
	/* 4 vertices, the remove, the top again, 4 walls. */
	assert_int_equal(t->p.n, 4 + 1 + 5 + 4 * 5);
	apply_checked(t, 12, 20, 10);
	const float want[4][3] = { { 0, 0, 2 }, { 1, 0, 2 }, { 1, 1, 2 }, { 0, 1, 2 } };
	added_at(&t->p, want, 4);
	/* The new top faces up, each wall outwards, with the top's material. */
	float n[3], c[3];
	int32_t f = th_mesh_face_find(&t->m, made(t, 5));
	assert_int_equal(th_mesh_face_normal(&t->m, f, n, c), 0);
	assert_true(fabsf(n[2] - 1) < 1e-6f && fabsf(c[2] - 2) < 1e-6f);
	assert_int_equal(t->m.faces[f].material, 1);
	for (uint32_t i = 10; i < t->p.n; i += 5) {
		f = th_mesh_face_find(&t->m, made(t, i));
		assert_int_equal(th_mesh_face_normal(&t->m, f, n, c), 0);
		double out = n[0] * (c[0] - 0.5) + n[1] * (c[1] - 0.5) + n[2] * (c[2] - 1);
		assert_true(out > 0.49);
		assert_int_equal(t->m.faces[f].material, 1);
	}
	/* Region mode of one face is the same patch. */
	struct th_patch q;
	th_patch_init(&q);
	assert_int_equal(th_op_extrude_faces(&t->m, &top, 1, NULL, 1, true, &q, &t->why), -EINVAL); /* top is gone */
	uint64_t again = made(t, 5);
	assert_int_equal(th_op_extrude_faces(&t->m, &again, 1, NULL, 1, true, &q, &t->why), 0);
	th_patch_clear(&t->p);
	assert_int_equal(th_op_extrude_faces(&t->m, &again, 1, NULL, 1, false, &t->p, &t->why), 0);
	assert_int_equal(q.n, t->p.n);
	assert_memory_equal(q.ops, t->p.ops, q.n * sizeof(*q.ops));
	apply_checked(t, 16, 28, 14);
	th_patch_fini(&q);
}

static void extrude_along_a_free_vector_and_inwards(void **state)
{
	struct tc *t = *state;
	const uint64_t top = TOP;
	const float dir[3] = { 0.5f, 0, 1 };
	assert_int_equal(th_op_extrude_faces(&t->m, &top, 1, dir, 2, false, &t->p, &t->why), 0);
	apply_checked(t, 12, 20, 10);
	const float want[4][3] = { { 1, 0, 3 }, { 2, 0, 3 }, { 2, 1, 3 }, { 1, 1, 3 } };
	added_at(&t->p, want, 4);

	tc_cube(t);
	const uint64_t right = RIGHT;
	assert_int_equal(th_op_extrude_faces(&t->m, &right, 1, NULL, -0.5f, true, &t->p, &t->why), 0);
	apply_checked(t, 12, 20, 10);
	const float in[4][3] = { { 0.5f, 0, 0 }, { 0.5f, 1, 0 }, { 0.5f, 1, 1 }, { 0.5f, 0, 1 } };
	added_at(&t->p, in, 4);
}

static void region_extrude_of_two_adjacent_cube_faces(void **state)
{
	struct tc *t = *state;
	const uint64_t two[2] = { FRONT, TOP };
	assert_int_equal(th_op_extrude_faces(&t->m, two, 2, NULL, 1, true, &t->p, &t->why), 0);
	/* One piece: 6 new vertices, the shared edge 5-6 has no wall. */
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_VERTEX_ADD), 6);
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_FACE_ADD), 2 + 6);
	apply_checked(t, 14, 24, 12);
	/* Along the mean normal (0, -1, 1) / sqrt 2. */
	float s = (float)(1 / sqrt(2.0));
	const float want[6][3] = { { 0, -s, s }, { 1, -s, s }, { 1, -s, 1 + s },
				   { 0, -s, 1 + s }, { 1, 1 - s, 1 + s }, { 0, 1 - s, 1 + s } };
	added_at(&t->p, want, 6);

	/* Each face separately: 8 vertices, 8 walls (two back to back on 5-6). */
	tc_cube(t);
	assert_int_equal(th_op_extrude_faces(&t->m, two, 2, NULL, 1, false, &t->p, &t->why), 0);
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_VERTEX_ADD), 8);
	apply_checked(t, 16, 28, 14);
}

static void region_extrude_of_a_plane(void **state)
{
	struct tc *t = *state;
	tc_grid(t, 2, 1);
	const uint64_t two[2] = { gf(2, 1, 0), gf(2, 0, 0) };
	assert_int_equal(th_op_extrude_faces(&t->m, two, 2, NULL, 1, true, &t->p, &t->why), 0);
	/* Walls on the 6 boundary edges; the bottom stays open (a disk). */
	apply_checked(t, 12, 19, 8);

	/* 3 x 3: the 4 inner vertices move, the 12 on the border are copied. */
	tc_grid(t, 3, 3);
	uint64_t all[9];
	for (unsigned k = 0; k < 9; k++)
		all[k] = gf(3, k % 3, k / 3);
	assert_int_equal(th_op_extrude_faces(&t->m, all, 9, NULL, 1, true, &t->p, &t->why), 0);
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_VERTEX_MOVE), 4);
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_VERTEX_ADD), 12);
	apply_checked(t, 28, 48, 21);
	assert_true(pos_of(t, gv(3, 1, 1))[2] == 1 && pos_of(t, gv(3, 2, 2))[2] == 1);
	assert_true(pos_of(t, gv(3, 0, 0))[2] == 0);

	/* Two faces meeting only at a corner: that vertex gets two copies, so
	 * the result has no bowtie. */
	tc_grid(t, 2, 2);
	const uint64_t diag[2] = { gf(2, 0, 0), gf(2, 1, 1) };
	assert_int_equal(th_op_extrude_faces(&t->m, diag, 2, NULL, 1, true, &t->p, &t->why), 0);
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_VERTEX_ADD), 8);
	apply_checked(t, 17, 28, 12);
}

static void extrude_is_the_same_whatever_order_built_the_mesh(void **state)
{
	struct tc *a = *state, b = { 0 };
	tc_begin(&b);
	mf_build_cube_reversed(&b.m);
	const uint64_t three[3] = { TOP, RIGHT, FRONT };
	assert_int_equal(th_op_extrude_faces(&a->m, three, 3, NULL, 0.5f, true, &a->p, &a->why), 0);
	const uint64_t shuffled[3] = { FRONT, TOP, RIGHT };
	assert_int_equal(th_op_extrude_faces(&b.m, shuffled, 3, NULL, 0.5f, true, &b.p, &b.why), 0);
	assert_int_equal(a->p.n, b.p.n);
	assert_memory_equal(a->p.ops, b.p.ops, a->p.n * sizeof(*a->p.ops));
	apply_checked(a, 14, 24, 12);
	tc_end(&b);
}

static void extrude_faces_refusals(void **state)
{
	struct tc *t = *state;
	const uint64_t top = TOP, missing = 999, twice[2] = { TOP, TOP };
	const float up[3] = { 0, 0, 1 }, nan[3] = { 0, NAN, 0 }, zero[3] = { 0, 0, 0 };
	prefill(t);
	refused(t, th_op_extrude_faces(&t->m, &top, 0, NULL, 1, false, &t->p, &t->why), &t->why,
		"give at least one face");
	refused(t, th_op_extrude_faces(&t->m, &missing, 1, NULL, 1, false, &t->p, &t->why), &t->why,
		"a face named does not exist");
	refused(t, th_op_extrude_faces(&t->m, twice, 2, NULL, 1, true, &t->p, &t->why), &t->why,
		"a face is named twice");
	refused(t, th_op_extrude_faces(&t->m, &top, 1, NULL, NAN, false, &t->p, &t->why), &t->why,
		"distance: must be finite");
	refused(t, th_op_extrude_faces(&t->m, &top, 1, NULL, 2000, false, &t->p, &t->why), &t->why,
		"at most 1000 metres");
	refused(t, th_op_extrude_faces(&t->m, &top, 1, NULL, 0, false, &t->p, &t->why), &t->why,
		"at least 10 micrometres");
	refused(t, th_op_extrude_faces(&t->m, &top, 1, nan, 1, false, &t->p, &t->why), &t->why,
		"dir: must be three finite");
	refused(t, th_op_extrude_faces(&t->m, &top, 1, zero, 1, false, &t->p, &t->why), &t->why, "the offset must be");
	refused(t, th_op_extrude_faces(&t->m, &top, 1, up, 0, false, &t->p, &t->why), &t->why, "the offset must be");
	const uint64_t all[6] = { 101, 102, 103, 104, 105, 106 };
	refused(t, th_op_extrude_faces(&t->m, all, 6, up, 1, true, &t->p, &t->why), &t->why, "closed surfaces");
	const uint64_t sides[4] = { FRONT, BACK, LEFT, RIGHT };
	refused(t, th_op_extrude_faces(&t->m, sides, 4, NULL, 1, true, &t->p, &t->why), &t->why, "point opposite ways");
	/* Each side on its own is fine. */
	th_patch_clear(&t->p);
	assert_int_equal(th_op_extrude_faces(&t->m, sides, 4, NULL, 1, false, &t->p, &t->why), 0);
	apply_checked(t, 24, 44, 22);
	/* A patch that may not grow: -E2BIG, left as it was. */
	prefill(t);
	t->p.max = 8;
	assert_int_equal(th_op_extrude_faces(&t->m, &top, 1, NULL, 1, false, &t->p, &t->why), -E2BIG);
	assert_int_equal(t->p.n, 1);

	/* A face with no area has no normal. */
	struct mf_patch *p = tc_build(t);
	mf_p_vert(p, 1, 0, 0, 0);
	mf_p_vert(p, 2, 1, 0, 0);
	mf_p_vert(p, 3, 2, 0, 0);
	const uint64_t tri[3] = { 1, 2, 3 }, flat = 10;
	mf_p_face(p, flat, 0, 3, tri);
	tc_built(t, p);
	prefill(t);
	refused(t, th_op_extrude_faces(&t->m, &flat, 1, NULL, 1, false, &t->p, &t->why), &t->why, "has no area");
	const float on[3] = { 1, 0, 0 };
	refused(t, th_op_vertex_on_face(&t->m, flat, on, &t->p, &t->why), &t->why, "no plane to put the vertex on");
	/* Sets longer than any mesh are refused before they are read. */
	refused(t, th_op_extrude_faces(&t->m, &flat, TH_MESH_ELEMENTS_MAX + 1, up, 1, true, &t->p, &t->why), &t->why,
		"more faces than a mesh can hold");
	refused(t, th_op_inset(&t->m, &flat, TH_MESH_ELEMENTS_MAX + 1, 0.5f, true, &t->p, &t->why), &t->why,
		"more faces than a mesh can hold");
	refused(t, th_op_extrude_edges(&t->m, tri, tri, TH_MESH_ELEMENTS_MAX + 1, up, &t->p, &t->why), &t->why,
		"more edges than a mesh can hold");
	refused(t, th_op_bevel(&t->m, tri, tri, TH_MESH_ELEMENTS_MAX + 1, 0.1f, &t->p, &t->why), &t->why,
		"more edges than a mesh can hold");
}

/* ---- extrude of edges ------------------------------------------------------------ */

static void extrude_boundary_edges_of_a_plane(void **state)
{
	struct tc *t = *state;
	tc_grid(t, 1, 1); /* vertices 1 (0 0) 2 (1 0) 3 (0 1) 4 (1 1); face 1 2 4 3 */
	const float down[3] = { 0, -1, 0 }, up[3] = { 0, 0, 1 };
	const uint64_t a1[1] = { 2 }, b1[1] = { 1 };
	assert_int_equal(th_op_extrude_edges(&t->m, a1, b1, 1, down, &t->p, &t->why), 0);
	apply_checked(t, 6, 7, 2);
	const float want[2][3] = { { 0, -1, 0 }, { 1, -1, 0 } };
	added_at(&t->p, want, 2);
	/* The new quad continues the plane: it faces +z too. */
	float n[3];
	assert_int_equal(th_mesh_face_normal(&t->m, th_mesh_face_find(&t->m, made(t, 2)), n, NULL), 0);
	assert_true(fabsf(n[2] - 1) < 1e-6f);

	/* Two edges meeting at 2 share its new vertex. */
	tc_grid(t, 1, 1);
	const uint64_t a2[2] = { 1, 2 }, b2[2] = { 2, 4 };
	assert_int_equal(th_op_extrude_edges(&t->m, a2, b2, 2, up, &t->p, &t->why), 0);
	apply_checked(t, 7, 9, 3);

	/* All four: an open box. */
	tc_grid(t, 1, 1);
	const uint64_t a4[4] = { 1, 2, 4, 3 }, b4[4] = { 2, 4, 3, 1 };
	assert_int_equal(th_op_extrude_edges(&t->m, a4, b4, 4, up, &t->p, &t->why), 0);
	apply_checked(t, 8, 12, 5);
}

static void extrude_edges_refusals(void **state)
{
	struct tc *t = *state;
	const float up[3] = { 0, 0, 1 }, zero[3] = { 0, 0, 0 }, nan[3] = { NAN, 0, 0 };
	const uint64_t a[2] = { 1, 2 }, b[2] = { 2, 1 };
	prefill(t);
	refused(t, th_op_extrude_edges(&t->m, a, b, 1, up, &t->p, &t->why), &t->why, "only boundary edges");

	tc_grid(t, 1, 1);
	prefill(t);
	const uint64_t d[1] = { 4 }, x[1] = { 999 };
	refused(t, th_op_extrude_edges(&t->m, a, b, 2, up, &t->p, &t->why), &t->why, "an edge is named twice");
	refused(t, th_op_extrude_edges(&t->m, a, d, 1, up, &t->p, &t->why), &t->why, "not joined by an edge");
	refused(t, th_op_extrude_edges(&t->m, a, a, 1, up, &t->p, &t->why), &t->why, "two different vertices");
	refused(t, th_op_extrude_edges(&t->m, a, x, 1, up, &t->p, &t->why), &t->why, "a vertex named does not exist");
	refused(t, th_op_extrude_edges(&t->m, a, b, 0, up, &t->p, &t->why), &t->why, "give at least one edge");
	refused(t, th_op_extrude_edges(&t->m, a, b, 1, zero, &t->p, &t->why), &t->why, "offset: must be between");
	refused(t, th_op_extrude_edges(&t->m, a, b, 1, nan, &t->p, &t->why), &t->why, "offset: must be three finite");
}

/* ---- inset ------------------------------------------------------------------------ */

static void inset_the_cube_top(void **state)
{
	struct tc *t = *state;
	const uint64_t top = TOP;
	assert_int_equal(th_op_inset(&t->m, &top, 1, 0.25f, false, &t->p, &t->why), 0);
	apply_checked(t, 12, 20, 10);
	const float want[4][3] = { { 0.125f, 0.125f, 1 }, { 0.875f, 0.125f, 1 }, { 0.875f, 0.875f, 1 },
				   { 0.125f, 0.875f, 1 } };
	added_at(&t->p, want, 4);
	made_face_up(t, 5, 5); /* the inner face and the ring */
}

static void region_inset_of_two_faces(void **state)
{
	struct tc *t = *state;
	tc_grid(t, 2, 1);
	const uint64_t two[2] = { gf(2, 0, 0), gf(2, 1, 0) };
	assert_int_equal(th_op_inset(&t->m, two, 2, 0.5f, true, &t->p, &t->why), 0);
	apply_checked(t, 12, 19, 8);
	/* The border moves in evenly: the middle vertices straight in. */
	const float want[6][3] = { { 0.25f, 0.25f, 0 }, { 1, 0.25f, 0 }, { 1.75f, 0.25f, 0 },
				   { 0.25f, 0.75f, 0 }, { 1, 0.75f, 0 }, { 1.75f, 0.75f, 0 } };
	added_at(&t->p, want, 6);

	/* Single: each face its own ring. */
	tc_grid(t, 2, 1);
	assert_int_equal(th_op_inset(&t->m, two, 2, 0.5f, false, &t->p, &t->why), 0);
	apply_checked(t, 14, 23, 10);
}

static void inset_refusals(void **state)
{
	struct tc *t = *state;
	const uint64_t top = TOP, all[6] = { 101, 102, 103, 104, 105, 106 };
	prefill(t);
	refused(t, th_op_inset(&t->m, &top, 1, 0, false, &t->p, &t->why), &t->why, "amount: must be between 0 and 1");
	refused(t, th_op_inset(&t->m, &top, 1, 1, false, &t->p, &t->why), &t->why, "amount: must be between 0 and 1");
	refused(t, th_op_inset(&t->m, &top, 1, NAN, false, &t->p, &t->why), &t->why, "amount: must be between 0 and 1");
	refused(t, th_op_inset(&t->m, all, 6, 0.5f, true, &t->p, &t->why), &t->why, "no edge to inset from");
	refused(t, th_op_inset(&t->m, all, 0, 0.5f, true, &t->p, &t->why), &t->why, "give at least one face");
}


/* ---- loop cut --------------------------------------------------------------------- */

static void loop_cut_round_the_cube(void **state)
{
	struct tc *t = *state;
	assert_int_equal(th_op_loop_cut(&t->m, 1, 2, 0.25f, &t->p, &t->why), 0);
	/* A closed ring of 4 quads: 4 new vertices, each quad in two. */
	apply_checked(t, 12, 20, 10);
	const float want[4][3] = { { 0.25f, 0, 0 }, { 0.25f, 0, 1 }, { 0.25f, 1, 1 }, { 0.25f, 1, 0 } };
	added_at(&t->p, want, 4);
	assert_int_equal(faces_with(t, 4), t->m.live_faces);
	/* The same cut named the other way round, at 1 - t: the same geometry. */
	struct th_patch q;
	th_patch_init(&q);
	struct tc u = { 0 };
	tc_cube(&u);
	assert_int_equal(th_op_loop_cut(&u.m, 2, 1, 0.75f, &u.p, &t->why), 0);
	added_at(&u.p, want, 4);
	th_patch_fini(&q);
	tc_end(&u);
}

static void loop_cut_on_a_cylinder(void **state)
{
	struct tc *t = *state;
	tc_cylinder(t, 8);
	/* Across a side edge: round the sides, a closed ring of 8 quads. */
	assert_int_equal(th_op_loop_cut(&t->m, 1, 9, 0.5f, &t->p, &t->why), 0);
	apply_checked(t, 24, 40, 18);
	for (uint32_t i = 0; i < t->p.n; i++)
		if (t->p.ops[i].op == TH_PL_MESH_OP_VERTEX_ADD)
			assert_true(t->p.ops[i].position[2] == 0.5f);
	assert_int_equal(corners_of(t, 301), 8);

	/* Across a bottom edge: one side quad, stopped by both caps, which
	 * gain the new vertices. */
	tc_cylinder(t, 8);
	assert_int_equal(th_op_loop_cut(&t->m, 1, 2, 0.5f, &t->p, &t->why), 0);
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_VERTEX_ADD), 2);
	apply_checked(t, 18, 27, 11);
	assert_int_equal(faces_with(t, 9), 2);
}

static void loop_cut_stops_at_the_boundary(void **state)
{
	struct tc *t = *state;
	tc_grid(t, 3, 1);
	assert_int_equal(th_op_loop_cut(&t->m, gv(3, 0, 0), gv(3, 0, 1), 0.5f, &t->p, &t->why), 0);
	assert_int_equal(ops_of(&t->p, TH_PL_MESH_OP_VERTEX_ADD), 4);
	apply_checked(t, 12, 17, 6);
	const float want[4][3] = { { 0, 0.5f, 0 }, { 1, 0.5f, 0 }, { 2, 0.5f, 0 }, { 3, 0.5f, 0 } };
	added_at(&t->p, want, 4);
}

static void loop_cut_refusals(void **state)
{
	struct tc *t = *state;
	struct mf_patch *p = tc_build(t);
	p_tri_verts(p);
	const uint64_t tri[3] = { 1, 2, 3 };
	mf_p_face(p, 10, 0, 3, tri);
	tc_built(t, p);
	prefill(t);
	refused(t, th_op_loop_cut(&t->m, 1, 2, 0.5f, &t->p, &t->why), &t->why, "not quads");
	refused(t, th_op_loop_cut(&t->m, 1, 2, 0, &t->p, &t->why), &t->why, "t: must be between 0 and 1");
	refused(t, th_op_loop_cut(&t->m, 1, 2, INFINITY, &t->p, &t->why), &t->why, "t: must be between 0 and 1");
	refused(t, th_op_loop_cut(&t->m, 1, 1, 0.5f, &t->p, &t->why), &t->why, "two different vertices");
	refused(t, th_op_loop_cut(&t->m, 1, 77, 0.5f, &t->p, &t->why), &t->why, "a vertex named does not exist");

	/* Two quads back to back (a tube of two sides): the ring closes after
	 * two quads that span the same two edges. */
	p = tc_build(t);
	mf_p_vert(p, 1, 0, 0, 0);
	mf_p_vert(p, 2, 1, 0, 0);
	mf_p_vert(p, 3, 0, 0, 1);
	mf_p_vert(p, 4, 1, 0, 1);
	const uint64_t qa[4] = { 1, 2, 4, 3 }, qb[4] = { 2, 1, 3, 4 };
	mf_p_face(p, 10, 0, 4, qa);
	mf_p_face(p, 11, 0, 4, qb);
	tc_built(t, p);
	prefill(t);
	refused(t, th_op_loop_cut(&t->m, 1, 2, 0.5f, &t->p, &t->why), &t->why, "two quads sharing both crossed edges");
	refused(t, th_op_loop_cut(&t->m, 1, 3, 0.5f, &t->p, &t->why), &t->why, "two quads sharing both crossed edges");

	/* A quad beside a 64-gon: the cut through the quad would give the
	 * 64-gon a 65th corner. */
	p = tc_build(t);
	uint64_t v[64];
	p_circle64(p, v);
	mf_p_vert(p, 100, 2, 0, 0);
	mf_p_vert(p, 101, 2, 0.5f, 0);
	mf_p_face(p, 200, 0, 64, v);
	const uint64_t quad[4] = { 2, 1, 100, 101 };
	mf_p_face(p, 201, 0, 4, quad);
	tc_built(t, p);
	prefill(t);
	refused(t, th_op_loop_cut(&t->m, 1, 2, 0.5f, &t->p, &t->why), &t->why, "more than 64 corners");
	/* Across the quad's other way it only cuts the quad. */
	th_patch_clear(&t->p);
	assert_int_equal(th_op_loop_cut(&t->m, 1, 100, 0.5f, &t->p, &t->why), 0);
	apply_checked(t, 68, 70, 3);
}

/* ---- bevel ------------------------------------------------------------------------- */

static void bevel_a_cube_edge(void **state)
{
	struct tc *t = *state;
	const uint64_t a[1] = { 6 }, b[1] = { 5 };
	assert_int_equal(th_op_bevel(&t->m, a, b, 1, 0.25f, &t->p, &t->why), 0);
	/* The edge's ends become two vertices each; left and right gain one
	 * corner; a strip between top and front. */
	apply_checked(t, 10, 15, 7);
	const float want[4][3] = { { 0, 0.25f, 1 }, { 0, 0, 0.75f }, { 1, 0.25f, 1 }, { 1, 0, 0.75f } };
	added_at(&t->p, want, 4);
	assert_int_equal(th_mesh_vert_find(&t->m, 5), TH_MESH_NONE);
	assert_int_equal(th_mesh_vert_find(&t->m, 6), TH_MESH_NONE);
	assert_int_equal(faces_with(t, 5), 2);
	/* The strip (the last face) faces out between top and front. */
	uint32_t last = 0;
	for (uint32_t i = 0; i < t->p.n; i++)
		if (t->p.ops[i].op == TH_PL_MESH_OP_FACE_ADD)
			last = i;
	float n[3];
	assert_int_equal(th_mesh_face_normal(&t->m, th_mesh_face_find(&t->m, made(t, last)), n, NULL), 0);
	float s = (float)(1 / sqrt(2.0));
	assert_true(fabsf(n[0]) < 1e-6f && fabsf(n[1] + s) < 1e-6f && fabsf(n[2] - s) < 1e-6f);
	assert_int_equal(t->m.faces[th_mesh_face_find(&t->m, made(t, last))].material, 1); /* the top's */

	/* Two opposite edges of the top at once. */
	tc_cube(t);
	const uint64_t a2[2] = { 5, 7 }, b2[2] = { 6, 8 };
	prefill(t);
	refused(t, th_op_bevel(&t->m, a2, b2, 2, 0.5f, &t->p, &t->why), &t->why, "wider than an edge");
	th_patch_clear(&t->p);
	assert_int_equal(th_op_bevel(&t->m, a2, b2, 2, 0.25f, &t->p, &t->why), 0);
	apply_checked(t, 12, 18, 8);
}

static void bevel_inside_a_plane(void **state)
{
	struct tc *t = *state;
	/* Ends inside the grid (four faces each) stay: the strip is a hexagon. */
	tc_grid(t, 3, 3);
	const uint64_t a[1] = { gv(3, 1, 1) }, b[1] = { gv(3, 2, 1) };
	assert_int_equal(th_op_bevel(&t->m, a, b, 1, 0.25f, &t->p, &t->why), 0);
	apply_checked(t, 20, 29, 10);
	assert_int_equal(faces_with(t, 6), 1);

	/* Ends on the boundary with only the edge's two faces go. */
	tc_grid(t, 2, 1);
	const uint64_t c[1] = { gv(2, 1, 0) }, d[1] = { gv(2, 1, 1) };
	assert_int_equal(th_op_bevel(&t->m, c, d, 1, 0.25f, &t->p, &t->why), 0);
	apply_checked(t, 8, 10, 3);
	const float want[4][3] = { { 0.75f, 0, 0 }, { 1.25f, 0, 0 }, { 0.75f, 1, 0 }, { 1.25f, 1, 0 } };
	added_at(&t->p, want, 4);
}

static void bevel_refusals(void **state)
{
	struct tc *t = *state;
	const uint64_t a[2] = { 5, 6 }, b[2] = { 6, 7 }, twice_a[2] = { 5, 6 }, twice_b[2] = { 6, 5 };
	prefill(t);
	refused(t, th_op_bevel(&t->m, a, b, 2, 0.25f, &t->p, &t->why), &t->why, "share a vertex");
	refused(t, th_op_bevel(&t->m, twice_a, twice_b, 2, 0.25f, &t->p, &t->why), &t->why, "named twice");
	refused(t, th_op_bevel(&t->m, a, b, 1, 1, &t->p, &t->why), &t->why, "wider than an edge");
	refused(t, th_op_bevel(&t->m, a, b, 1, 0, &t->p, &t->why), &t->why, "width: must be between");
	refused(t, th_op_bevel(&t->m, a, b, 1, -0.25f, &t->p, &t->why), &t->why, "width: must be between");
	refused(t, th_op_bevel(&t->m, a, b, 1, NAN, &t->p, &t->why), &t->why, "width: must be between");
	refused(t, th_op_bevel(&t->m, a, b, 0, 0.25f, &t->p, &t->why), &t->why, "give at least one edge");
	const uint64_t c[1] = { 3 };
	refused(t, th_op_bevel(&t->m, a, c, 1, 0.25f, &t->p, &t->why), &t->why, "not joined by an edge");

	tc_grid(t, 1, 1);
	prefill(t);
	const uint64_t e[1] = { 1 }, f[1] = { 2 };
	refused(t, th_op_bevel(&t->m, e, f, 1, 0.25f, &t->p, &t->why), &t->why, "on the boundary");

	/* Two triangles back to back share two edges at each end. */
	struct mf_patch *p = tc_build(t);
	p_tri_verts(p);
	const uint64_t front[3] = { 1, 2, 3 }, back[3] = { 3, 2, 1 };
	mf_p_face(p, 10, 0, 3, front);
	mf_p_face(p, 11, 0, 3, back);
	tc_built(t, p);
	prefill(t);
	refused(t, th_op_bevel(&t->m, e, f, 1, 0.25f, &t->p, &t->why), &t->why, "also share another edge");
}

/* ---- random sequences ------------------------------------------------------------- */

#define RANDOM_SEEDS 64u
#define RANDOM_STEPS 200u
#define RANDOM_ELEMENTS_MAX 3000u /* a sequence stops growing its mesh here */

/* A live face's slot, picked at random (-1 when none). */
static int32_t random_face(const struct th_mesh *m)
{
	if (!m->live_faces)
		return -1;
	for (;;) {
		int32_t f = (int32_t)mf_rn(m->nfaces);
		if (m->faces[f].id)
			return f;
	}
}

/* A random edge (a, b) of a random face; false when the mesh has none. */
static bool random_edge(const struct th_mesh *m, uint64_t *a, uint64_t *b)
{
	int32_t f = random_face(m);
	if (f < 0)
		return false;
	int32_t h = m->faces[f].he;
	for (unsigned k = mf_rn(m->faces[f].n); k; k--)
		h = m->hes[h].next;
	*a = m->verts[m->hes[h].vert].id;
	*b = m->verts[m->hes[m->hes[h].next].vert].id;
	return true;
}

/* A random boundary edge (its face's direction); false when none. */
static bool random_boundary_edge(const struct th_mesh *m, uint64_t *a, uint64_t *b)
{
	if (!m->nhes)
		return false;
	uint32_t s = mf_rn(m->nhes);
	for (uint32_t k = 0; k < m->nhes; k++) {
		const struct th_mesh_he *h = &m->hes[(s + k) % m->nhes];
		if (h->vert != TH_MESH_NONE && h->twin == TH_MESH_NONE) {
			*a = m->verts[h->vert].id;
			*b = m->verts[m->hes[h->next].vert].id;
			return true;
		}
	}
	return false;
}

/* One random operation with random parameters: a refusal leaves the patch
 * empty and says why; a patch applies and leaves a valid mesh. */
static void random_step(struct tc *t, unsigned *applied)
{
	const char *why = NULL;
	uint64_t ids[4], a[3], b[3];
	unsigned n = 1 + mf_rn(3);
	float v[3] = { (float)mf_rn(200) / 100 - 1, (float)mf_rn(200) / 100 - 1, (float)mf_rn(200) / 100 - 1 };
	float f = (float)mf_rn(100) / 100;
	int r = -EINVAL;
	th_patch_clear(&t->p);
	for (unsigned k = 0; k < n; k++) {
		int32_t s = random_face(&t->m);
		ids[k] = s >= 0 ? t->m.faces[s].id : 1;
		if (!random_edge(&t->m, &a[k], &b[k]))
			a[k] = b[k] = 1;
	}
	switch (mf_rn(9)) {
	case 0:
		r = th_op_vertex_on_edge(&t->m, a[0], b[0], f, &t->p, &why);
		break;
	case 1: {
		int32_t s = th_mesh_face_find(&t->m, ids[0]);
		float c[3] = { 0, 0, 0 };
		if (s >= 0)
			th_mesh_face_normal(&t->m, s, NULL, c);
		r = th_op_vertex_on_face(&t->m, ids[0], c, &t->p, &why);
		break;
	}
	case 2:
		for (unsigned k = 0; k < n; k++)
			if (!random_boundary_edge(&t->m, &a[k], &b[k]))
				a[k] = b[k] = 1;
		r = th_op_extrude_edges(&t->m, a, b, n, v, &t->p, &why);
		break;
	case 3:
	case 4:
		r = th_op_extrude_faces(&t->m, ids, n, mf_rn(2) ? v : NULL, f - 0.5f, mf_rn(2), &t->p, &why);
		break;
	case 5:
		r = th_op_inset(&t->m, ids, n, f, mf_rn(2), &t->p, &why);
		break;
	case 6:
		r = th_op_loop_cut(&t->m, a[0], b[0], f, &t->p, &why);
		break;
	case 7:
		r = th_op_bevel(&t->m, a, b, n, f / 32, &t->p, &why);
		break;
	default:
		r = th_op_vertex_free(&t->m, v, &t->p, &why);
	}
	if (r) {
		assert_int_equal(r, -EINVAL);
		assert_non_null(why);
		assert_int_equal(t->p.n, 0);
		return;
	}
	t->seq++;
	mf_patch_applied(&t->m, &t->p, t->seq, &t->j);
	(*applied)++;
}

static void random_sequences_keep_the_mesh_valid(void **state)
{
	unsigned applied = 0;
	for (unsigned seed = 1; seed <= RANDOM_SEEDS; seed++) {
		struct tc t = { 0 };
		if (seed % 3 == 0)
			tc_cube(&t);
		else if (seed % 3 == 1)
			tc_grid(&t, 3, 2);
		else
			tc_cylinder(&t, 6);
		mf_rng = 0x9e3779b97f4a7c15ull * seed;
		struct mf_enc start = mf_enc_of(&t.m);
		for (unsigned k = 0; k < RANDOM_STEPS && t.m.live_verts + t.m.live_faces < RANDOM_ELEMENTS_MAX; k++)
			random_step(&t, &applied);
		/* Everything undone through the journal: the mesh it started as. */
		mf_undo_to(&t.m, &t.j, 0);
		mf_assert_unchanged(&t.m, start);
		free(start.d);
		tc_end(&t);
	}
	/* Most steps apply (a sequence that only met refusals tests little). */
	assert_true(applied > RANDOM_SEEDS * RANDOM_STEPS / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TC_TEST(vertex_free_adds_a_lone_vertex),
		TC_TEST(vertex_on_edge_splits_both_faces),
		TC_TEST(a_face_would_pass_64_corners),
		TC_TEST(vertex_on_face_makes_a_fan),
		TC_TEST(extrude_the_cube_top_gives_10_faces_12_vertices),
		TC_TEST(extrude_along_a_free_vector_and_inwards),
		TC_TEST(region_extrude_of_two_adjacent_cube_faces),
		TC_TEST(region_extrude_of_a_plane),
		TC_TEST(extrude_is_the_same_whatever_order_built_the_mesh),
		TC_TEST(extrude_faces_refusals),
		TC_TEST(extrude_boundary_edges_of_a_plane),
		TC_TEST(extrude_edges_refusals),
		TC_TEST(inset_the_cube_top),
		TC_TEST(region_inset_of_two_faces),
		TC_TEST(inset_refusals),
		TC_TEST(loop_cut_round_the_cube),
		TC_TEST(loop_cut_on_a_cylinder),
		TC_TEST(loop_cut_stops_at_the_boundary),
		TC_TEST(loop_cut_refusals),
		TC_TEST(bevel_a_cube_edge),
		TC_TEST(bevel_inside_a_plane),
		TC_TEST(bevel_refusals),
		cmocka_unit_test(random_sequences_keep_the_mesh_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
