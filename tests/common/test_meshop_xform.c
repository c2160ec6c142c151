/* th_affine_*, th_op_transform, th_op_vertices_of, th_op_duplicate,
 * th_op_mirror, th_op_flip, th_op_delete on known meshes (the unit cube of
 * th_meshfix, primitives): exact counts and positions after th_patch_apply,
 * th_mesh_check after every patch, undo through the journal back to the
 * same canonical encoding, every refusal with its sentence and the patch as
 * it was. */
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

#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"

static const float ORIGIN[3] = { 0, 0, 0 };

static const float *pos_of(const struct th_mesh *m, uint64_t id)
{
	int32_t s = th_mesh_vert_find(m, id);
	assert_int_not_equal(s, TH_MESH_NONE);
	return m->verts[s].pos;
}

static void pos_is(const struct th_mesh *m, uint64_t id, float x, float y, float z)
{
	const float *p = pos_of(m, id);
	assert_float_equal(p[0], x, 1e-6);
	assert_float_equal(p[1], y, 1e-6);
	assert_float_equal(p[2], z, 1e-6);
}

/* A case's state (the cmocka fixture of XC_TEST): th_meshfix's unit cube in
 * m with journal j (a case may replace it: prim_mesh), fp a th_meshfix
 * patch to edit m by hand, p the operation's patch and why its sentence. */
struct xc {
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *fp;
	struct th_patch p;
	const char *why;
};

static int xc_setup(void **state)
{
	struct xc *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->fp = mf_cube_setup(&t->m, &t->j, 6);
	th_patch_init(&t->p);
	*state = t;
	return 0;
}

static int xc_teardown(void **state)
{
	struct xc *t = *state;
	th_patch_fini(&t->p);
	mf_teardown(&t->m, &t->j, t->fp);
	free(t);
	return 0;
}

#define XC_TEST(f) cmocka_unit_test_setup_teardown(f, xc_setup, xc_teardown)

/* A patch is refused with this sentence and left as it was (one op in it
 * beforehand, to see that nothing was appended or lost). */
struct refusal {
	struct th_patch p;
	struct th_pl_mesh_op first;
};

static void refusal_begin(struct refusal *r)
{
	th_patch_init(&r->p);
	assert_int_equal(th_patch_vertex_move(&r->p, 1, ORIGIN), 0);
	r->first = r->p.ops[0];
}

static void refused(struct refusal *r, int got, const char **why, const char *want)
{
	assert_int_equal(got, -EINVAL);
	assert_non_null(*why);
	assert_string_equal(*why, want);
	*why = NULL;
	assert_int_equal(r->p.n, 1);
	assert_memory_equal(&r->p.ops[0], &r->first, sizeof(r->first));
}

/* ---- affine maps ---- */

static void affine_constructors_set_the_whole_map(void **state)
{
	(void)state;
	struct th_affine a;
	float q[3], d[3] = { 1, 2, 3 }, p[3] = { 1, 1, 1 };
	th_affine_identity(&a);
	th_affine_apply(&a, d, q);
	assert_memory_equal(q, d, sizeof(q));
	th_affine_translate(&a, d);
	th_affine_translate(&a, d); /* sets, does not compose */
	th_affine_apply(&a, p, q);
	assert_true(q[0] == 2 && q[1] == 3 && q[2] == 4);
	/* a quarter turn about z (x y z w), about the pivot (1, 1, 1) */
	float s = sqrtf(0.5f), rz[4] = { 0, 0, s, s };
	th_affine_rotate(&a, rz, p);
	float x[3] = { 2, 1, 5 };
	th_affine_apply(&a, x, q);
	assert_float_equal(q[0], 1, 1e-6);
	assert_float_equal(q[1], 2, 1e-6);
	assert_float_equal(q[2], 5, 1e-6);
	/* a non-unit quaternion is normalised; a zero one is the identity */
	float rz2[4] = { 0, 0, 3, 3 }, zero[4] = { 0, 0, 0, 0 };
	struct th_affine b;
	th_affine_rotate(&b, rz2, p);
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++)
			assert_float_equal(a.m[i][k], b.m[i][k], 1e-6);
	th_affine_rotate(&b, zero, p);
	th_affine_apply(&b, x, q);
	assert_memory_equal(q, x, sizeof(q));
	/* scale 2, 3, 4 about (1, 1, 1) */
	float sc[3] = { 2, 3, 4 };
	th_affine_scale(&a, sc, p);
	th_affine_apply(&a, x, q);
	assert_true(q[0] == 3 && q[1] == 1 && q[2] == 17);
	/* apply in place */
	th_affine_apply(&a, x, x);
	assert_true(x[0] == 3 && x[1] == 1 && x[2] == 17);
}

static void affine_mul_applies_the_right_map_first(void **state)
{
	(void)state;
	struct th_affine t, r, tr;
	float d[3] = { 1, 0, 0 }, s = sqrtf(0.5f), rz[4] = { 0, 0, s, s }, p[3] = { 1, 0, 0 }, q[3];
	th_affine_translate(&t, d);
	th_affine_rotate(&r, rz, ORIGIN);
	th_affine_mul(&tr, &t, &r); /* rotate, then translate */
	th_affine_apply(&tr, p, q);
	assert_float_equal(q[0], 1, 1e-6);
	assert_float_equal(q[1], 1, 1e-6);
	th_affine_mul(&tr, &r, &t); /* translate, then rotate */
	th_affine_apply(&tr, p, q);
	assert_float_equal(q[0], 0, 1e-6);
	assert_float_equal(q[1], 2, 1e-6);
	th_affine_mul(&t, &t, &t); /* out may be an input */
	th_affine_apply(&t, p, q);
	assert_float_equal(q[0], 3, 1e-6);
}

/* ---- transform ---- */

static void transform_moves_the_whole_mesh_and_undo_brings_it_back(void **state)
{
	struct xc *t = *state;
	struct th_affine a;
	float d[3] = { 0.5f, -1, 2 };
	th_affine_translate(&a, d);
	assert_int_equal(th_op_transform(&t->m, NULL, 0, &a, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 8);
	for (uint32_t i = 0; i < t->p.n; i++) { /* ascending id */
		assert_int_equal(t->p.ops[i].op, TH_PL_MESH_OP_VERTEX_MOVE);
		assert_int_equal(t->p.ops[i].element, i + 1);
	}
	mf_patch_round_trip(&t->m, &t->p, 2);
	mf_patch_applied(&t->m, &t->p, 2, NULL);
	mf_stats_are(&t->m, 8, 12, 6, 0, 2);
	for (uint64_t v = 1; v <= 8; v++) {
		const float *c = mf_cube_pos[v - 1];
		pos_is(&t->m, v, c[0] + 0.5f, c[1] - 1, c[2] + 2);
	}
}

static void transform_of_a_face_about_its_centre(void **state)
{
	struct xc *t = *state;
	struct th_affine a;
	uint64_t top = 102, vs[8];
	int n = th_op_vertices_of(&t->m, &top, 1, NULL, NULL, 0, vs, 8);
	assert_int_equal(n, 4);
	assert_true(vs[0] == 5 && vs[1] == 6 && vs[2] == 7 && vs[3] == 8);
	/* scale the top face by 2 about its centre: the cube becomes a frustum */
	float c[3], nrm[3], s[3] = { 2, 2, 2 };
	assert_int_equal(th_mesh_face_normal(&t->m, th_mesh_face_find(&t->m, top), nrm, c), 0);
	assert_float_equal(nrm[2], 1, 1e-6);
	th_affine_scale(&a, s, c);
	assert_int_equal(th_op_transform(&t->m, vs, 4, &a, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 4);
	mf_patch_round_trip(&t->m, &t->p, 2);
	mf_patch_applied(&t->m, &t->p, 2, NULL);
	pos_is(&t->m, 5, -0.5f, -0.5f, 1);
	pos_is(&t->m, 7, 1.5f, 1.5f, 1);
	pos_is(&t->m, 1, 0, 0, 0);
	/* rotating a vertex that sits on the pivot gives it no op */
	float q[4] = { 0, 0, sqrtf(0.5f), sqrtf(0.5f) };
	th_patch_clear(&t->p);
	uint64_t two[2] = { 1, 2 };
	th_affine_rotate(&a, q, ORIGIN);
	assert_int_equal(th_op_transform(&t->m, two, 2, &a, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 1);
	assert_int_equal(t->p.ops[0].element, 2);
	mf_patch_applied(&t->m, &t->p, 3, NULL);
	pos_is(&t->m, 2, 0, 1, 0);
}

static void transform_folding_a_face_inside_out_is_still_applied(void **state)
{
	struct xc *t = *state;
	struct th_affine a;
	float s[3] = { -1, 1, 1 }; /* a reflection: every face now faces in */
	th_affine_scale(&a, s, ORIGIN);
	assert_int_equal(th_op_transform(&t->m, NULL, 0, &a, &t->p, &t->why), 0);
	mf_patch_applied(&t->m, &t->p, 2, NULL);
	pos_is(&t->m, 2, -1, 0, 0);
}

static void transform_refusals(void **state)
{
	struct xc *t = *state;
	struct th_mesh empty;
	struct refusal r;
	struct th_affine a;
	float d[3] = { 1, 0, 0 }, flat[3] = { 1, 0, 1 }, huge[3] = { 3e38f, 1, 1 };
	refusal_begin(&r);
	th_affine_translate(&a, d);
	uint64_t dup[2] = { 3, 3 }, missing[2] = { 3, 99 };
	refused(&r, th_op_transform(&t->m, dup, 2, &a, &r.p, &t->why), &t->why, "verts: a vertex is named twice");
	refused(&r, th_op_transform(&t->m, missing, 2, &a, &r.p, &t->why), &t->why,
		"verts: a vertex does not exist in the mesh");
	refused(&r, th_op_transform(&t->m, dup, 0, &a, &r.p, &t->why), &t->why, "verts: no vertex to move");
	a.m[1][3] = NAN;
	refused(&r, th_op_transform(&t->m, NULL, 0, &a, &r.p, &t->why), &t->why, "transform: the map must be finite");
	th_affine_scale(&a, flat, ORIGIN);
	refused(&r, th_op_transform(&t->m, NULL, 0, &a, &r.p, &t->why), &t->why,
		"transform: the map is singular (it flattens the vertices onto a plane, line or point)");
	float left[3] = { -1, 0, 0 };
	th_affine_scale(&a, huge, left);
	refused(&r, th_op_transform(&t->m, NULL, 0, &a, &r.p, &t->why), &t->why,
		"transform: a vertex would move to a non-finite position");
	th_affine_identity(&a);
	refused(&r, th_op_transform(&t->m, NULL, 0, &a, &r.p, &t->why), &t->why,
		"transform: the map leaves every vertex where it is");
	assert_int_equal(th_mesh_init(&empty, 7), 0);
	refused(&r, th_op_transform(&empty, NULL, 0, &a, &r.p, &t->why), &t->why, "the mesh has no vertices to move");
	th_mesh_fini(&empty);
	/* out of room: -E2BIG and the patch as it was */
	th_affine_translate(&a, d);
	r.p.max = 4;
	assert_int_equal(th_op_transform(&t->m, NULL, 0, &a, &r.p, &t->why), -E2BIG);
	assert_int_equal(r.p.n, 1);
	th_patch_fini(&r.p);
}

static void vertices_of_faces_and_edges(void **state)
{
	struct xc *t = *state;
	uint64_t out[16];
	uint64_t faces[2] = { 103, 101 }; /* front and bottom */
	uint64_t ea[2] = { 3, 6 }, eb[2] = { 7, 7 };
	int n = th_op_vertices_of(&t->m, faces, 2, ea, eb, 2, out, 16);
	assert_int_equal(n, 7);
	static const uint64_t want[7] = { 1, 2, 3, 4, 5, 6, 7 };
	assert_memory_equal(out, want, sizeof(want));
	n = th_op_vertices_of(&t->m, NULL, 0, ea, eb, 1, out, 16);
	assert_int_equal(n, 2);
	assert_true(out[0] == 3 && out[1] == 7);
	assert_int_equal(th_op_vertices_of(&t->m, faces, 2, NULL, NULL, 0, out, 5), -ENOBUFS);
	uint64_t bad_face = 999, twice[2] = { 101, 101 };
	assert_int_equal(th_op_vertices_of(&t->m, &bad_face, 1, NULL, NULL, 0, out, 16), -EINVAL);
	assert_int_equal(th_op_vertices_of(&t->m, twice, 2, NULL, NULL, 0, out, 16), -EINVAL);
	uint64_t na[2] = { 1, 7 }, nb[2] = { 7, 1 }; /* a diagonal: no edge */
	assert_int_equal(th_op_vertices_of(&t->m, NULL, 0, na, nb, 1, out, 16), -EINVAL);
	uint64_t ra[2] = { 1, 2 }, rb[2] = { 2, 1 }; /* one edge named twice, either order */
	assert_int_equal(th_op_vertices_of(&t->m, NULL, 0, ra, rb, 2, out, 16), -EINVAL);
	uint64_t ma[1] = { 1 }, mb[1] = { 77 };
	assert_int_equal(th_op_vertices_of(&t->m, NULL, 0, ma, mb, 1, out, 16), -EINVAL);
	assert_int_equal(th_op_vertices_of(&t->m, NULL, 0, NULL, NULL, 0, out, 16), 0);
	assert_int_equal(th_op_vertices_of(&t->m, NULL, 0, NULL, NULL, 0, NULL, 0), 0);
	assert_int_equal(th_op_vertices_of(&t->m, NULL, 2, NULL, NULL, 0, out, 16), -EINVAL);
	assert_int_equal(th_op_vertices_of(&t->m, NULL, 0, ea, NULL, 1, out, 16), -EINVAL);
}

/* ---- helpers for the topology cases ---- */

/* Every face's Newell normal points away from (sign 1) or towards (-1)
 * the nearer of two centres (one piece each): ca with sign sa, cb with sb. */
static void pieces_face(const struct th_mesh *m, const float ca[3], int sa, const float cb[3], int sb)
{
	for (uint32_t s = 0; s < m->nfaces; s++) {
		if (!m->faces[s].id)
			continue;
		float n[3], fc[3], da = 0, db = 0, d = 0;
		assert_int_equal(th_mesh_face_normal(m, (int32_t)s, n, fc), 0);
		for (int i = 0; i < 3; i++) {
			da += (fc[i] - ca[i]) * (fc[i] - ca[i]);
			db += (fc[i] - cb[i]) * (fc[i] - cb[i]);
		}
		const float *c = da <= db ? ca : cb;
		int sign = da <= db ? sa : sb;
		for (int i = 0; i < 3; i++)
			d += n[i] * (fc[i] - c[i]);
		assert_true(sign * d > 0);
	}
}

static void faces_face(const struct th_mesh *m, const float c[3], int sign)
{
	pieces_face(m, c, sign, c, sign);
}

/* m (finished first) becomes a fresh mesh holding a primitive, applied as
 * entry (mf_author, 1). */
static void prim_mesh(struct th_mesh *m, uint32_t kind, uint32_t subdiv)
{
	struct th_prim pp;
	struct th_patch p;
	const char *why = NULL;
	th_prim_defaults(&pp, kind);
	pp.subdiv = subdiv;
	th_patch_init(&p);
	assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
	th_mesh_fini(m);
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	mf_patch_applied(m, &p, 1, NULL);
	th_patch_fini(&p);
}

/* Id of the face whose centre is nearest (x, y, z). */
static uint64_t face_near(const struct th_mesh *m, float x, float y, float z)
{
	uint64_t best = 0;
	float bd = INFINITY;
	for (uint32_t s = 0; s < m->nfaces; s++) {
		float n[3], c[3];
		if (!m->faces[s].id || th_mesh_face_normal(m, (int32_t)s, n, c))
			continue;
		float d = (c[0] - x) * (c[0] - x) + (c[1] - y) * (c[1] - y) + (c[2] - z) * (c[2] - z);
		if (d < bd)
			bd = d, best = m->faces[s].id;
	}
	return best;
}

/* Applies p (entry seq) through a journal, checked, undone and applied again. */
static void apply_checked(struct th_mesh *m, const struct th_patch *p, uint64_t seq)
{
	mf_patch_round_trip(m, p, seq);
	mf_patch_applied(m, p, seq, NULL);
}

/* ---- duplicate ---- */

static void duplicate_the_whole_cube(void **state)
{
	struct xc *t = *state;
	float off[3] = { 2, 0, 0 };
	assert_int_equal(th_op_duplicate(&t->m, NULL, 0, off, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 8 + 6 * 5);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 16, 24, 12, 0, 4);
	uint64_t ids[TH_PATCH_OPS_MAX / 4096];
	th_patch_ids(&t->p, mf_author, 2, ids);
	for (unsigned v = 0; v < 8; v++) { /* copies in ascending id of the originals */
		const float *c = mf_cube_pos[v];
		pos_is(&t->m, ids[v], c[0] + 2, c[1], c[2]);
	}
	pieces_face(&t->m, (float[3]){ 0.5f, 0.5f, 0.5f }, 1, (float[3]){ 2.5f, 0.5f, 0.5f }, 1);
}

static void duplicate_faces_and_free_vertices(void **state)
{
	struct xc *t = *state;
	float off[3] = { 0, 0, 1 };
	uint64_t top = 102;
	assert_int_equal(th_op_duplicate(&t->m, &top, 1, off, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 12, 16, 7, 4, 3); /* a loose quad above the cube */
	th_patch_clear(&t->p);
	/* the whole mesh copies a free vertex too */
	mf_p_vert(t->fp, 500, 5, 5, 5);
	mf_expect_applied(&t->m, t->fp, &t->j);
	assert_int_equal(th_op_duplicate(&t->m, NULL, 0, off, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 3);
	mf_stats_are(&t->m, 26, 32, 14, 8, 8);
}

/* Selected faces that meet at a vertex only: the copy gets that vertex
 * once per fan, so it is valid (no bowtie). */
static void duplicate_faces_meeting_at_a_point(void **state)
{
	struct xc *t = *state;
	float off[3] = { 0, 1, 0 };
	prim_mesh(&t->m, TH_PRIM_PLANE, 1);
	uint64_t diag[2] = { face_near(&t->m, -0.25f, 0, -0.25f), face_near(&t->m, 0.25f, 0, 0.25f) };
	assert_int_equal(th_op_duplicate(&t->m, diag, 2, off, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 17, 20, 6, 16, 3);
}

static void duplicate_refusals(void **state)
{
	struct xc *t = *state;
	struct th_mesh empty;
	struct refusal r;
	float off[3] = { 1, 0, 0 }, nan3[3] = { 0, NAN, 0 }, far[3] = { 3e38f, 0, 0 };
	uint64_t twice[2] = { 101, 101 }, missing[2] = { 101, 777 };
	refusal_begin(&r);
	refused(&r, th_op_duplicate(&t->m, NULL, 0, nan3, &r.p, &t->why), &t->why, "offset: must be finite");
	refused(&r, th_op_duplicate(&t->m, twice, 2, off, &r.p, &t->why), &t->why, "faces: a face is named twice");
	refused(&r, th_op_duplicate(&t->m, missing, 2, off, &r.p, &t->why), &t->why,
		"faces: a face does not exist in the mesh");
	refused(&r, th_op_duplicate(&t->m, NULL, 2, off, &r.p, &t->why), &t->why, "faces: missing");
	assert_int_equal(th_mesh_init(&empty, 7), 0);
	refused(&r, th_op_duplicate(&empty, NULL, 0, off, &r.p, &t->why), &t->why,
		"the mesh is empty: there is nothing to duplicate");
	th_mesh_fini(&empty);
	mf_p_vert(t->fp, 500, 3e38f, 0, 0);
	mf_expect_applied(&t->m, t->fp, &t->j);
	refused(&r, th_op_duplicate(&t->m, NULL, 0, far, &r.p, &t->why), &t->why,
		"offset: a copied vertex would be at a non-finite position");
	r.p.max = 10;
	assert_int_equal(th_op_duplicate(&t->m, NULL, 0, off, &r.p, &t->why), -E2BIG);
	assert_int_equal(r.p.n, 1);
	th_patch_fini(&r.p);
}

/* ---- mirror ---- */

static const float X0[3] = { 0, 0, 0 }, XN[3] = { 1, 0, 0 };

static void mirror_a_half_box_welds_it_whole(void **state)
{
	struct xc *t = *state;
	/* the cube without its left side (x = 0): a box open towards -x, one of
	 * its open corners a little off the plane, within the weld */
	mf_p_remove(t->fp, 105);
	mf_p_move(t->fp, 1, 0.00005f, 0, 0);
	mf_expect_applied(&t->m, t->fp, &t->j);
	mf_stats_are(&t->m, 8, 12, 5, 4, 1);
	assert_int_equal(th_op_mirror(&t->m, X0, XN, 1e-4f, &t->p, &t->why), 0);
	assert_int_equal(t->p.ops[0].op, TH_PL_MESH_OP_VERTEX_MOVE); /* vertex 1 onto the plane */
	assert_int_equal(t->p.ops[0].element, 1);
	assert_int_equal(t->p.ops[1].op, TH_PL_MESH_OP_VERTEX_ADD);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 12, 20, 10, 0, 2); /* closed: the box from x = -1 to 1 */
	pos_is(&t->m, 1, 0, 0, 0);
	faces_face(&t->m, (float[3]){ 0, 0.5f, 0.5f }, 1);
	float lo = 0;
	for (uint32_t v = 0; v < t->m.nverts; v++)
		lo = fminf(lo, t->m.verts[v].pos[0]);
	assert_float_equal(lo, -1, 1e-6);
	/* a non-unit normal is the same plane */
	struct th_patch q;
	const float n2[3] = { 3, 0, 0 };
	th_patch_init(&q);
	th_patch_clear(&t->p);
	struct th_mesh half;
	mf_build_cube(&half, NULL, 6);
	mf_p_remove(t->fp, 105);
	mf_expect_applied(&half, t->fp, NULL);
	assert_int_equal(th_op_mirror(&half, X0, XN, 1e-4f, &t->p, &t->why), 0);
	assert_int_equal(th_op_mirror(&half, X0, n2, 1e-4f, &q, &t->why), 0);
	assert_int_equal(t->p.n, q.n);
	assert_memory_equal(t->p.ops, q.ops, t->p.n * sizeof(*t->p.ops));
	th_mesh_fini(&half);
	th_patch_fini(&q);
}

/* A UV sphere cut along the meridians in x = 0 and mirrored back: the
 * whole sphere again, closed, every face outwards. */
static void mirror_a_half_sphere_closes_it(void **state)
{
	struct xc *t = *state;
	prim_mesh(&t->m, TH_PRIM_UVSPHERE, 0);
	uint64_t west[128];
	unsigned n = 0;
	for (uint32_t s = 0; s < t->m.nfaces; s++) {
		float nrm[3], c[3];
		if (t->m.faces[s].id && !th_mesh_face_normal(&t->m, (int32_t)s, nrm, c) && c[0] < 0)
			west[n++] = t->m.faces[s].id;
	}
	assert_int_equal(n, 64);
	assert_int_equal(th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, west, n, &t->p, &t->why), 0);
	mf_patch_applied(&t->m, &t->p, 2, NULL);
	mf_stats_are(&t->m, 2 + 7 * 9, 7 * 8 + 9 * 8, 64, 2 * 8, 1); /* a hemisphere: a disk */
	th_patch_clear(&t->p);
	assert_int_equal(th_op_mirror(&t->m, X0, XN, 1e-4f, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 3);
	mf_stats_are(&t->m, 114, 240, 128, 0, 2);
	faces_face(&t->m, X0, 1);
}

static void mirror_apart_from_the_mesh_is_a_separate_copy(void **state)
{
	struct xc *t = *state;
	const float at[3] = { -1, 0, 0 };
	assert_int_equal(th_op_mirror(&t->m, at, XN, 0.01f, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 16, 24, 12, 0, 4);
	pieces_face(&t->m, (float[3]){ 0.5f, 0.5f, 0.5f }, 1, (float[3]){ -2.5f, 0.5f, 0.5f }, 1);
}

/* The cone's apex touches the plane at a point: joining there would be a
 * bowtie, so the copy gets its own apex. */
static void mirror_touching_at_a_point_keeps_the_point_apart(void **state)
{
	struct xc *t = *state;
	const float top[3] = { 0, 0.5f, 0 }, up[3] = { 0, 1, 0 };
	prim_mesh(&t->m, TH_PRIM_CONE, 0);
	assert_int_equal(th_op_mirror(&t->m, top, up, 1e-5f, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 34, 64, 34, 0, 4);
}

static void mirror_refusals(void **state)
{
	struct xc *t = *state;
	struct th_mesh empty, wedge;
	struct refusal r;
	const float mid[3] = { 0.5f, 0, 0 }, nanp[3] = { NAN, 0, 0 }, zero[3] = { 0, 0, 0 };
	refusal_begin(&r);
	refused(&r, th_op_mirror(&t->m, nanp, XN, 0, &r.p, &t->why), &t->why, "point: must be finite");
	refused(&r, th_op_mirror(&t->m, X0, zero, 0, &r.p, &t->why), &t->why, "normal: must be finite and not zero");
	refused(&r, th_op_mirror(&t->m, X0, nanp, 0, &r.p, &t->why), &t->why, "normal: must be finite and not zero");
	refused(&r, th_op_mirror(&t->m, X0, XN, -1, &r.p, &t->why), &t->why, "weld: must be finite, 0 to 1000 metres");
	refused(&r, th_op_mirror(&t->m, X0, XN, NAN, &r.p, &t->why), &t->why, "weld: must be finite, 0 to 1000 metres");
	refused(&r, th_op_mirror(&t->m, mid, XN, 0.01f, &r.p, &t->why), &t->why,
		"the mesh lies on both sides of the mirror plane (move the plane to one side of it, or delete the "
		"half across it first)");
	refused(&r, th_op_mirror(&t->m, X0, XN, 0.01f, &r.p, &t->why), &t->why,
		"a face lies in the mirror plane (delete it first so the halves can join)");
	assert_int_equal(th_mesh_init(&empty, 7), 0);
	refused(&r, th_op_mirror(&empty, X0, XN, 0, &r.p, &t->why), &t->why,
		"the mesh is empty: there is nothing to mirror");
	mf_p_vert(t->fp, 1, 0, 3, 3);
	mf_expect_applied(&empty, t->fp, NULL);
	refused(&r, th_op_mirror(&empty, X0, XN, 0, &r.p, &t->why), &t->why,
		"every vertex lies on the mirror plane, so the mirror adds nothing");
	th_mesh_fini(&empty);
	/* two triangles on either side of an edge on the plane whose ends are on
	 * boundary edges on the plane too: the copy would give that edge four faces */
	assert_int_equal(th_mesh_init(&wedge, 8), 0);
	mf_p_vert(t->fp, 1, 0, 0, 0);
	mf_p_vert(t->fp, 2, 0, 1, 0);
	mf_p_vert(t->fp, 3, 0, 2, 0);
	mf_p_vert(t->fp, 4, 0, -1, 0);
	mf_p_vert(t->fp, 5, 1, 0.5f, 0.5f);
	mf_p_vert(t->fp, 6, 1, 0.5f, -0.5f);
	mf_p_face(t->fp, 11, 0, 3, (uint64_t[]){ 1, 2, 5 });
	mf_p_face(t->fp, 12, 0, 3, (uint64_t[]){ 2, 1, 6 });
	mf_p_face(t->fp, 13, 0, 3, (uint64_t[]){ 5, 2, 3 });
	mf_p_face(t->fp, 14, 0, 3, (uint64_t[]){ 4, 1, 5 });
	mf_expect_applied(&wedge, t->fp, NULL);
	refused(&r, th_op_mirror(&wedge, X0, XN, 1e-4f, &r.p, &t->why), &t->why,
		"an edge on the mirror plane already has faces on both of its sides, so the mirrored half cannot "
		"join there");
	th_mesh_fini(&wedge);
	th_patch_fini(&r.p);
}

/* ---- flip ---- */

static void flip_the_whole_cube_turns_it_inside_out(void **state)
{
	struct xc *t = *state;
	const float c[3] = { 0.5f, 0.5f, 0.5f };
	assert_int_equal(th_op_flip(&t->m, NULL, 0, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 6 + 6 * 5);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(t->p.ops[i].op, TH_PL_MESH_OP_REMOVE);
		assert_int_equal(t->p.ops[i].element, 101 + i);
	}
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 8, 12, 6, 0, 2);
	faces_face(&t->m, c, -1);
	for (uint32_t s = 0; s < t->m.nfaces; s++) /* materials kept, the first corner kept */
		if (t->m.faces[s].id) {
			uint64_t loop[4];
			assert_int_equal(th_mesh_face_loop(&t->m, (int32_t)s, loop, 4), 4);
			unsigned f = (unsigned)t->m.faces[s].material;
			assert_true(loop[0] == mf_cube_faces[f][0] && loop[1] == mf_cube_faces[f][3]);
		}
	th_patch_clear(&t->p); /* and back */
	assert_int_equal(th_op_flip(&t->m, NULL, 0, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 3);
	faces_face(&t->m, c, 1);
}

static void flip_whole_pieces_only(void **state)
{
	struct xc *t = *state;
	struct refusal r;
	float off[3] = { 3, 0, 0 };
	assert_int_equal(th_op_duplicate(&t->m, NULL, 0, off, &t->p, &t->why), 0);
	mf_patch_applied(&t->m, &t->p, 2, NULL);
	th_patch_clear(&t->p);
	/* the original cube's six faces: a whole piece */
	uint64_t orig[6] = { 106, 105, 104, 103, 102, 101 };
	assert_int_equal(th_op_flip(&t->m, orig, 6, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 3);
	pieces_face(&t->m, (float[3]){ 0.5f, 0.5f, 0.5f }, -1, (float[3]){ 3.5f, 0.5f, 0.5f }, 1);
	refusal_begin(&r);
	uint64_t copy_face = face_near(&t->m, 3.5f, 0.5f, 1);
	refused(&r, th_op_flip(&t->m, &copy_face, 1, &r.p, &t->why), &t->why,
		"faces: flipping part of a connected piece would turn it against its neighbours (flip whole pieces)");
	uint64_t twice[2] = { copy_face, copy_face }, missing = 101;
	refused(&r, th_op_flip(&t->m, twice, 2, &r.p, &t->why), &t->why, "faces: a face is named twice");
	refused(&r, th_op_flip(&t->m, &missing, 1, &r.p, &t->why), &t->why, "faces: a face does not exist in the mesh");
	refused(&r, th_op_flip(&t->m, NULL, 1, &r.p, &t->why), &t->why, "faces: missing");
	struct th_mesh lone;
	assert_int_equal(th_mesh_init(&lone, 9), 0);
	mf_p_vert(t->fp, 1, 0, 0, 0);
	mf_expect_applied(&lone, t->fp, NULL);
	refused(&r, th_op_flip(&lone, NULL, 0, &r.p, &t->why), &t->why, "the mesh has no faces to flip");
	th_mesh_fini(&lone);
	/* a face with only boundary edges flips alone */
	struct th_mesh quad;
	th_patch_clear(&t->p);
	mf_build_cube(&quad, NULL, 1);
	uint64_t bottom = 101;
	assert_int_equal(th_op_flip(&quad, &bottom, 1, &t->p, &t->why), 0);
	apply_checked(&quad, &t->p, 2);
	mf_stats_are(&quad, 8, 4, 1, 4, 5);
	th_mesh_fini(&quad);
	th_patch_fini(&r.p);
}

/* ---- delete ---- */

static void delete_a_face_opens_the_cube(void **state)
{
	struct xc *t = *state;
	uint64_t top = 102;
	assert_int_equal(th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, &top, 1, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 1);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 8, 12, 5, 4, 1);
}

static void delete_a_vertex_takes_its_faces(void **state)
{
	struct xc *t = *state;
	uint64_t v7 = 7;
	assert_int_equal(th_op_delete(&t->m, &v7, 1, NULL, NULL, 0, NULL, 0, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 4); /* top, back, right, then the vertex */
	assert_int_equal(t->p.ops[3].element, 7);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 7, 9, 3, 6, 1);
	assert_int_equal(th_mesh_vert_find(&t->m, 7), TH_MESH_NONE);
}

static void delete_an_edge_takes_its_two_faces(void **state)
{
	struct xc *t = *state;
	uint64_t a = 2, b = 1; /* either order */
	assert_int_equal(th_op_delete(&t->m, NULL, 0, &a, &b, 1, NULL, 0, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 8, 11, 4, 6, 1);
}

static void delete_removes_vertices_left_dangling_not_free_ones(void **state)
{
	struct xc *t = *state;
	mf_p_vert(t->fp, 500, 4, 4, 4);
	mf_expect_applied(&t->m, t->fp, &t->j);
	uint64_t all[6] = { 101, 102, 103, 104, 105, 106 };
	assert_int_equal(th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, all, 6, &t->p, &t->why), 0);
	assert_int_equal(t->p.n, 6 + 8);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 1, 0, 0, 0, 1);
	assert_int_not_equal(th_mesh_vert_find(&t->m, 500), TH_MESH_NONE);
	/* a free vertex goes when it is named */
	th_patch_clear(&t->p);
	uint64_t v = 500;
	assert_int_equal(th_op_delete(&t->m, &v, 1, NULL, NULL, 0, NULL, 0, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 3);
	mf_stats_are(&t->m, 0, 0, 0, 0, 0);
}

/* Two diagonal quads of a 2 x 2 plane deleted: the centre would join the
 * other two at a point only, so it is split in two. */
static void delete_splits_a_bowtie_left_behind(void **state)
{
	struct xc *t = *state;
	prim_mesh(&t->m, TH_PRIM_PLANE, 1);
	mf_stats_are(&t->m, 9, 12, 4, 8, 1);
	uint64_t diag[2] = { face_near(&t->m, -0.25f, 0, -0.25f), face_near(&t->m, 0.25f, 0, 0.25f) };
	assert_int_equal(th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, diag, 2, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 8, 8, 2, 8, 2);
	unsigned at_centre = 0;
	for (uint32_t v = 0; v < t->m.nverts; v++)
		at_centre += t->m.verts[v].id && t->m.verts[v].pos[0] == 0 && t->m.verts[v].pos[2] == 0;
	assert_int_equal(at_centre, 2);
	/* two triangles at a UV sphere's pole, apart: one hole through a split pole */
	prim_mesh(&t->m, TH_PRIM_UVSPHERE, 0);
	float ph = 2 * 3.14159265f / 16;
	uint64_t at_pole[2] = { face_near(&t->m, 0.05f * cosf(ph / 2), 0.5f, -0.05f * sinf(ph / 2)),
				face_near(&t->m, -0.05f * cosf(ph / 2), 0.5f, 0.05f * sinf(ph / 2)) };
	assert_int_not_equal(at_pole[0], at_pole[1]);
	th_patch_clear(&t->p);
	assert_int_equal(th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, at_pole, 2, &t->p, &t->why), 0);
	apply_checked(&t->m, &t->p, 2);
	mf_stats_are(&t->m, 115, 240, 126, 6, 1);
}

static void delete_refusals(void **state)
{
	struct xc *t = *state;
	struct refusal r;
	uint64_t v2[2] = { 3, 3 }, vmiss = 99, f2[2] = { 101, 101 }, fmiss = 99;
	uint64_t ea[2] = { 1, 2 }, eb[2] = { 2, 1 }, da = 1, db = 7, ma = 1, mb = 99;
	refusal_begin(&r);
	refused(&r, th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, NULL, 0, &r.p, &t->why), &t->why,
		"nothing to delete: name vertices, edges or faces");
	refused(&r, th_op_delete(&t->m, v2, 2, NULL, NULL, 0, NULL, 0, &r.p, &t->why), &t->why,
		"verts: a vertex is named twice");
	refused(&r, th_op_delete(&t->m, &vmiss, 1, NULL, NULL, 0, NULL, 0, &r.p, &t->why), &t->why,
		"verts: a vertex does not exist in the mesh");
	refused(&r, th_op_delete(&t->m, NULL, 1, NULL, NULL, 0, NULL, 0, &r.p, &t->why), &t->why, "verts: missing");
	refused(&r, th_op_delete(&t->m, NULL, 0, ea, NULL, 1, NULL, 0, &r.p, &t->why), &t->why, "edges: missing");
	refused(&r, th_op_delete(&t->m, NULL, 0, ea, eb, 2, NULL, 0, &r.p, &t->why), &t->why,
		"edges: an edge is named twice");
	const char *no_edge = "edges: an edge does not exist in the mesh (no face has those two vertices as a side)";
	refused(&r, th_op_delete(&t->m, NULL, 0, &da, &db, 1, NULL, 0, &r.p, &t->why), &t->why, no_edge);
	refused(&r, th_op_delete(&t->m, NULL, 0, &ma, &mb, 1, NULL, 0, &r.p, &t->why), &t->why, no_edge);
	refused(&r, th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, f2, 2, &r.p, &t->why), &t->why,
		"faces: a face is named twice");
	refused(&r, th_op_delete(&t->m, NULL, 0, NULL, NULL, 0, &fmiss, 1, &r.p, &t->why), &t->why,
		"faces: a face does not exist in the mesh");
	r.p.max = 3;
	uint64_t v7 = 7;
	assert_int_equal(th_op_delete(&t->m, &v7, 1, NULL, NULL, 0, NULL, 0, &r.p, &t->why), -E2BIG);
	assert_int_equal(r.p.n, 1);
	th_patch_fini(&r.p);
}

/* Same mesh, other slots (built in reverse order): the same ops. */
static void patches_do_not_depend_on_how_the_mesh_was_built(void **state)
{
	(void)state;
	struct th_mesh a, b;
	mf_build_cube(&a, NULL, 6);
	mf_build_cube_reversed(&b);
	const struct th_mesh *ms[2] = { &a, &b };
	struct th_patch p[2];
	const char *why = NULL;
	const float off[3] = { 0, 0, 2 }, at[3] = { -1, 0, 0 };
	const uint64_t v7 = 7, three[3] = { 104, 101, 106 }, ea = 2, eb = 6;
	struct th_affine t;
	th_affine_translate(&t, off);
	for (int step = 0; step < 6; step++) {
		for (int k = 0; k < 2; k++) {
			const struct th_mesh *m = ms[k];
			th_patch_init(&p[k]);
			int r = -1;
			switch (step) {
			case 0: r = th_op_transform(m, NULL, 0, &t, &p[k], &why); break;
			case 1: r = th_op_duplicate(m, three, 3, off, &p[k], &why); break;
			case 2: r = th_op_duplicate(m, NULL, 0, off, &p[k], &why); break;
			case 3: r = th_op_flip(m, NULL, 0, &p[k], &why); break;
			case 4: r = th_op_mirror(m, at, XN, 0, &p[k], &why); break;
			default: r = th_op_delete(m, &v7, 1, &ea, &eb, 1, three, 3, &p[k], &why); break;
			}
			assert_int_equal(r, 0);
		}
		assert_int_equal(p[0].n, p[1].n);
		assert_memory_equal(p[0].ops, p[1].ops, p[0].n * sizeof(*p[0].ops));
		th_patch_fini(&p[0]);
		th_patch_fini(&p[1]);
	}
	th_mesh_fini(&a);
	th_mesh_fini(&b);
}

/* Seeded random deletions, duplications, flips and mirrors on random
 * primitives: each either is refused with a sentence or applies, leaves a
 * valid mesh and undoes exactly. */
static uint64_t pick_face(const struct th_mesh *m)
{
	for (;;) {
		uint32_t s = mf_rn(m->nfaces);
		if (m->faces[s].id)
			return m->faces[s].id;
	}
}

static void random_edits_keep_the_mesh_valid(void **state)
{
	(void)state;
	static const uint32_t kinds[] = { TH_PRIM_CUBE, TH_PRIM_UVSPHERE, TH_PRIM_ICOSPHERE, TH_PRIM_CYLINDER,
					  TH_PRIM_CONE, TH_PRIM_TORUS, TH_PRIM_PLANE };
	unsigned applied = 0, refusals = 0;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		mf_rng = seed * 0x9e3779b97f4a7c15ull;
		struct th_prim pp;
		struct th_patch p;
		struct th_mesh m;
		const char *why = NULL;
		th_prim_defaults(&pp, kinds[mf_rn(7)]);
		pp.segments = 3 + mf_rn(10);
		pp.rings = 3 + mf_rn(5);
		pp.subdiv = mf_rn(3);
		th_patch_init(&p);
		assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
		assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
		mf_patch_applied(&m, &p, 1, NULL);
		for (uint64_t step = 2; step < 8 && m.live_faces; step++) {
			th_patch_clear(&p);
			int r;
			uint64_t fs[8], va[4], vb[4], vs[4];
			unsigned nf = 1 + mf_rn(m.live_faces < 8 ? m.live_faces : 8), ne = 0, nv = 0;
			for (unsigned k = 0; k < nf; k++) { /* distinct faces */
				fs[k] = pick_face(&m);
				for (unsigned t = 0; t < k; t++)
					if (fs[t] == fs[k])
						k--, t = k;
			}
			switch (mf_rn(5)) {
			case 0: { /* delete faces, plus an edge and a vertex of another face */
				uint64_t loop[TH_MESH_FACE_VERTS_MAX];
				int n = th_mesh_face_loop(&m, th_mesh_face_find(&m, pick_face(&m)), loop, TH_MESH_FACE_VERTS_MAX);
				unsigned c = mf_rn((unsigned)n);
				va[0] = loop[c], vb[0] = loop[(c + 1) % (unsigned)n], ne = mf_rn(2);
				vs[0] = loop[(c + 2) % (unsigned)n], nv = mf_rn(2);
				r = th_op_delete(&m, vs, nv, va, vb, ne, fs, nf, &p, &why);
				break;
			}
			case 1: {
				float off[3] = { 0.1f * mf_rn(5), 0, 0.3f };
				r = th_op_duplicate(&m, fs, nf, off, &p, &why);
				break;
			}
			case 2:
				r = th_op_flip(&m, mf_rn(2) ? NULL : fs, mf_rn(2) ? 0 : nf, &p, &why);
				break;
			case 3: {
				float pt[3] = { 0, 0, 0 }, n[3] = { 0, 0, 0 };
				unsigned axis = mf_rn(3);
				n[axis] = mf_rn(2) ? 1 : -1;
				pt[axis] = 0.25f * ((float)mf_rn(9) - 4); /* -1 .. 1 */
				r = th_op_mirror(&m, pt, n, 1e-4f * mf_rn(3), &p, &why);
				break;
			}
			default: {
				struct th_affine a;
				float q[4] = { 0.1f, 0.2f * mf_rn(3), 0.3f, 1 }, c[3] = { 0.5f, 0, 0 };
				th_affine_rotate(&a, q, c);
				r = th_op_transform(&m, NULL, 0, &a, &p, &why);
				break;
			}
			}
			if (r == -EINVAL) {
				assert_non_null(why);
				assert_int_equal(p.n, 0);
				refusals++;
				continue;
			}
			assert_int_equal(r, 0);
			mf_patch_round_trip(&m, &p, step);
			mf_patch_applied(&m, &p, step, NULL);
			applied++;
		}
		th_mesh_fini(&m);
		th_patch_fini(&p);
	}
	assert_true(applied > 500);
	assert_true(refusals > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(affine_constructors_set_the_whole_map),
		cmocka_unit_test(affine_mul_applies_the_right_map_first),
		XC_TEST(transform_moves_the_whole_mesh_and_undo_brings_it_back),
		XC_TEST(transform_of_a_face_about_its_centre),
		XC_TEST(transform_folding_a_face_inside_out_is_still_applied),
		XC_TEST(transform_refusals),
		XC_TEST(vertices_of_faces_and_edges),
		XC_TEST(duplicate_the_whole_cube),
		XC_TEST(duplicate_faces_and_free_vertices),
		XC_TEST(duplicate_faces_meeting_at_a_point),
		XC_TEST(duplicate_refusals),
		XC_TEST(mirror_a_half_box_welds_it_whole),
		XC_TEST(mirror_a_half_sphere_closes_it),
		XC_TEST(mirror_apart_from_the_mesh_is_a_separate_copy),
		XC_TEST(mirror_touching_at_a_point_keeps_the_point_apart),
		XC_TEST(mirror_refusals),
		XC_TEST(flip_the_whole_cube_turns_it_inside_out),
		XC_TEST(flip_whole_pieces_only),
		XC_TEST(delete_a_face_opens_the_cube),
		XC_TEST(delete_a_vertex_takes_its_faces),
		XC_TEST(delete_an_edge_takes_its_two_faces),
		XC_TEST(delete_removes_vertices_left_dangling_not_free_ones),
		XC_TEST(delete_splits_a_bowtie_left_behind),
		XC_TEST(delete_refusals),
		cmocka_unit_test(patches_do_not_depend_on_how_the_mesh_was_built),
		cmocka_unit_test(random_edits_keep_the_mesh_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
