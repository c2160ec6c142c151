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
	(void)state;
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *fp = mf_cube_setup(&m, &j, 6);
	struct th_patch p;
	struct th_affine a;
	const char *why = NULL;
	float d[3] = { 0.5f, -1, 2 };
	th_patch_init(&p);
	th_affine_translate(&a, d);
	assert_int_equal(th_op_transform(&m, NULL, 0, &a, &p, &why), 0);
	assert_int_equal(p.n, 8);
	for (uint32_t i = 0; i < p.n; i++) { /* ascending id */
		assert_int_equal(p.ops[i].op, TH_PL_MESH_OP_VERTEX_MOVE);
		assert_int_equal(p.ops[i].element, i + 1);
	}
	mf_patch_round_trip(&m, &p, 2);
	mf_patch_applied(&m, &p, 2, NULL);
	mf_stats_are(&m, 8, 12, 6, 0, 2);
	for (uint64_t v = 1; v <= 8; v++) {
		const float *c = mf_cube_pos[v - 1];
		pos_is(&m, v, c[0] + 0.5f, c[1] - 1, c[2] + 2);
	}
	th_patch_fini(&p);
	mf_teardown(&m, &j, fp);
}

static void transform_of_a_face_about_its_centre(void **state)
{
	(void)state;
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *fp = mf_cube_setup(&m, &j, 6);
	struct th_patch p;
	struct th_affine a;
	const char *why = NULL;
	uint64_t top = 102, vs[8];
	int n = th_op_vertices_of(&m, &top, 1, NULL, NULL, 0, vs, 8);
	assert_int_equal(n, 4);
	assert_true(vs[0] == 5 && vs[1] == 6 && vs[2] == 7 && vs[3] == 8);
	/* scale the top face by 2 about its centre: the cube becomes a frustum */
	float c[3], nrm[3], s[3] = { 2, 2, 2 };
	assert_int_equal(th_mesh_face_normal(&m, th_mesh_face_find(&m, top), nrm, c), 0);
	assert_float_equal(nrm[2], 1, 1e-6);
	th_patch_init(&p);
	th_affine_scale(&a, s, c);
	assert_int_equal(th_op_transform(&m, vs, 4, &a, &p, &why), 0);
	assert_int_equal(p.n, 4);
	mf_patch_round_trip(&m, &p, 2);
	mf_patch_applied(&m, &p, 2, NULL);
	pos_is(&m, 5, -0.5f, -0.5f, 1);
	pos_is(&m, 7, 1.5f, 1.5f, 1);
	pos_is(&m, 1, 0, 0, 0);
	/* rotating a vertex that sits on the pivot gives it no op */
	float q[4] = { 0, 0, sqrtf(0.5f), sqrtf(0.5f) };
	th_patch_clear(&p);
	uint64_t two[2] = { 1, 2 };
	th_affine_rotate(&a, q, ORIGIN);
	assert_int_equal(th_op_transform(&m, two, 2, &a, &p, &why), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.ops[0].element, 2);
	mf_patch_applied(&m, &p, 3, NULL);
	pos_is(&m, 2, 0, 1, 0);
	th_patch_fini(&p);
	mf_teardown(&m, &j, fp);
}

static void transform_folding_a_face_inside_out_is_still_applied(void **state)
{
	(void)state;
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *fp = mf_cube_setup(&m, &j, 6);
	struct th_patch p;
	struct th_affine a;
	const char *why = NULL;
	float s[3] = { -1, 1, 1 }; /* a reflection: every face now faces in */
	th_patch_init(&p);
	th_affine_scale(&a, s, ORIGIN);
	assert_int_equal(th_op_transform(&m, NULL, 0, &a, &p, &why), 0);
	mf_patch_applied(&m, &p, 2, NULL);
	pos_is(&m, 2, -1, 0, 0);
	th_patch_fini(&p);
	mf_teardown(&m, &j, fp);
}

static void transform_refusals(void **state)
{
	(void)state;
	struct th_mesh m, empty;
	struct th_journal j;
	struct mf_patch *fp = mf_cube_setup(&m, &j, 6);
	struct refusal r;
	struct th_affine a;
	const char *why = NULL;
	float d[3] = { 1, 0, 0 }, flat[3] = { 1, 0, 1 }, huge[3] = { 3e38f, 1, 1 };
	refusal_begin(&r);
	th_affine_translate(&a, d);
	uint64_t dup[2] = { 3, 3 }, missing[2] = { 3, 99 };
	refused(&r, th_op_transform(&m, dup, 2, &a, &r.p, &why), &why, "verts: a vertex is named twice");
	refused(&r, th_op_transform(&m, missing, 2, &a, &r.p, &why), &why, "verts: a vertex does not exist in the mesh");
	refused(&r, th_op_transform(&m, dup, 0, &a, &r.p, &why), &why, "verts: no vertex to move");
	a.m[1][3] = NAN;
	refused(&r, th_op_transform(&m, NULL, 0, &a, &r.p, &why), &why, "transform: the map must be finite");
	th_affine_scale(&a, flat, ORIGIN);
	refused(&r, th_op_transform(&m, NULL, 0, &a, &r.p, &why), &why,
		"transform: the map is singular (it flattens the vertices onto a plane, line or point)");
	float left[3] = { -1, 0, 0 };
	th_affine_scale(&a, huge, left);
	refused(&r, th_op_transform(&m, NULL, 0, &a, &r.p, &why), &why,
		"transform: a vertex would move to a non-finite position");
	th_affine_identity(&a);
	refused(&r, th_op_transform(&m, NULL, 0, &a, &r.p, &why), &why, "transform: the map leaves every vertex where it is");
	assert_int_equal(th_mesh_init(&empty, 7), 0);
	refused(&r, th_op_transform(&empty, NULL, 0, &a, &r.p, &why), &why, "the mesh has no vertices to move");
	th_mesh_fini(&empty);
	/* out of room: -E2BIG and the patch as it was */
	th_affine_translate(&a, d);
	r.p.max = 4;
	assert_int_equal(th_op_transform(&m, NULL, 0, &a, &r.p, &why), -E2BIG);
	assert_int_equal(r.p.n, 1);
	th_patch_fini(&r.p);
	mf_teardown(&m, &j, fp);
}

static void vertices_of_faces_and_edges(void **state)
{
	(void)state;
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *fp = mf_cube_setup(&m, &j, 6);
	uint64_t out[16];
	uint64_t faces[2] = { 103, 101 }; /* front and bottom */
	uint64_t ea[2] = { 3, 6 }, eb[2] = { 7, 7 };
	int n = th_op_vertices_of(&m, faces, 2, ea, eb, 2, out, 16);
	assert_int_equal(n, 7);
	static const uint64_t want[7] = { 1, 2, 3, 4, 5, 6, 7 };
	assert_memory_equal(out, want, sizeof(want));
	n = th_op_vertices_of(&m, NULL, 0, ea, eb, 1, out, 16);
	assert_int_equal(n, 2);
	assert_true(out[0] == 3 && out[1] == 7);
	assert_int_equal(th_op_vertices_of(&m, faces, 2, NULL, NULL, 0, out, 5), -ENOBUFS);
	uint64_t bad_face = 999, twice[2] = { 101, 101 };
	assert_int_equal(th_op_vertices_of(&m, &bad_face, 1, NULL, NULL, 0, out, 16), -EINVAL);
	assert_int_equal(th_op_vertices_of(&m, twice, 2, NULL, NULL, 0, out, 16), -EINVAL);
	uint64_t na[2] = { 1, 7 }, nb[2] = { 7, 1 }; /* a diagonal: no edge */
	assert_int_equal(th_op_vertices_of(&m, NULL, 0, na, nb, 1, out, 16), -EINVAL);
	uint64_t ra[2] = { 1, 2 }, rb[2] = { 2, 1 }; /* one edge named twice, either order */
	assert_int_equal(th_op_vertices_of(&m, NULL, 0, ra, rb, 2, out, 16), -EINVAL);
	uint64_t ma[1] = { 1 }, mb[1] = { 77 };
	assert_int_equal(th_op_vertices_of(&m, NULL, 0, ma, mb, 1, out, 16), -EINVAL);
	assert_int_equal(th_op_vertices_of(&m, NULL, 0, NULL, NULL, 0, out, 16), 0);
	mf_teardown(&m, &j, fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(affine_constructors_set_the_whole_map),
		cmocka_unit_test(affine_mul_applies_the_right_map_first),
		cmocka_unit_test(transform_moves_the_whole_mesh_and_undo_brings_it_back),
		cmocka_unit_test(transform_of_a_face_about_its_centre),
		cmocka_unit_test(transform_folding_a_face_inside_out_is_still_applied),
		cmocka_unit_test(transform_refusals),
		cmocka_unit_test(vertices_of_faces_and_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
