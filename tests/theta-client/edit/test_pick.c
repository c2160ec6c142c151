/* Picking (edit/edit_pick.h): the tip in world space against the scene's
 * mesh entities, faces, edges and vertices within the radius, through the
 * entity's transform (translation, rotation, non-uniform scale), ties
 * broken the same way every time. */
#include "edit_fix.h"

#include <math.h>

#include "edit/edit_pick.h"

/* The id of the face of m whose normal (mesh space) is closest to n. */
static uint64_t face_facing(const struct th_mesh *m, const float n[3])
{
	uint64_t best = 0;
	float bd = -2;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		float nn[3], c[3];
		if (!m->faces[f].id || th_mesh_face_normal(m, (int32_t)f, nn, c) < 0)
			continue;
		float d = nn[0] * n[0] + nn[1] * n[1] + nn[2] * n[2];
		if (d > bd) {
			bd = d;
			best = m->faces[f].id;
		}
	}
	return best;
}

static void faces_edges_vertices_within_the_radius(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	const struct th_mesh *m = ef_mesh_of(f, e);
	struct edit_hit h;
	/* 1 cm above the top face's centre. */
	float top[3] = { 0, 1.11f, -0.5f };
	assert_int_equal(edit_pick(ef_scene(f), top, 0.05f, TH_SELECT_FACE, &h), 1);
	assert_int_equal(h.entity, e);
	assert_int_equal(h.mesh, m->id);
	assert_int_equal(h.element, face_facing(m, (float[3]){ 0, 1, 0 }));
	assert_float_equal(h.dist, 0.01f, 1e-5);
	assert_float_equal(h.point[1], 1.1f, 1e-5);
	/* Beyond the radius: nothing. */
	assert_int_equal(edit_pick(ef_scene(f), top, 0.005f, TH_SELECT_FACE, &h), 0);
	/* Near the top front edge (y = 1.1, z = -0.4), a quarter along x. */
	float edge[3] = { -0.05f, 1.12f, -0.38f };
	assert_int_equal(edit_pick(ef_scene(f), edge, 0.05f, TH_SELECT_EDGE, &h), 1);
	assert_int_equal(h.mode, TH_SELECT_EDGE);
	assert_int_equal(h.element, th_mesh_edge_id(h.a, h.b));
	assert_true(h.a < h.b);
	int32_t va = th_mesh_vert_find(m, h.a), vb = th_mesh_vert_find(m, h.b);
	assert_true(va >= 0 && vb >= 0);
	assert_float_equal(m->verts[va].pos[1], 0.1f, 1e-6);
	assert_float_equal(m->verts[vb].pos[2], 0.1f, 1e-6);
	assert_float_equal(h.t, m->verts[va].pos[0] < 0 ? 0.25f : 0.75f, 1e-4);
	/* Near the corner (+, +, +). */
	float corner[3] = { 0.11f, 1.11f, -0.39f };
	assert_int_equal(edit_pick(ef_scene(f), corner, 0.05f, TH_SELECT_VERTEX, &h), 1);
	int32_t v = th_mesh_vert_find(m, h.element);
	assert_true(v >= 0);
	assert_float_equal(m->verts[v].pos[0], 0.1f, 1e-6);
	assert_float_equal(m->verts[v].pos[1], 0.1f, 1e-6);
	assert_float_equal(m->verts[v].pos[2], 0.1f, 1e-6);
	assert_float_equal(h.dist, sqrtf(3) * 0.01f, 1e-5);
	ef_free(f);
}

static void object_inside_or_near(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	struct edit_hit h;
	/* Inside the cube, farther than the radius from every face. */
	assert_int_equal(edit_pick(ef_scene(f), ef_at, 0.01f, TH_SELECT_OBJECT, &h), 1);
	assert_int_equal(h.entity, e);
	assert_int_equal(h.element, TH_SELECT_WHOLE);
	assert_float_equal(h.dist, 0, 0);
	/* Outside but near. */
	assert_int_equal(edit_pick(ef_scene(f), (float[3]){ 0.13f, 1, -0.5f }, 0.05f, TH_SELECT_OBJECT, &h), 1);
	assert_float_equal(h.dist, 0.03f, 1e-5);
	/* Far. */
	assert_int_equal(edit_pick(ef_scene(f), (float[3]){ 1, 1, -0.5f }, 0.05f, TH_SELECT_OBJECT, &h), 0);
	ef_free(f);
}

static void transform_rotation_and_scale_count(void **state)
{
	struct ef *f = ef_new(NULL);
	uint64_t e = ef_cube(f, &f->other, (float[3]){ 0, 0, 0 }, 0.2f);
	/* The entity turned 90 degrees about y and stretched 3x along its x. */
	struct th_c_transform t = { .position = { 1, 0, 0 }, .rotation = { 0, sinf((float)M_PI / 4), 0,
									   cosf((float)M_PI / 4) },
				    .scale = { 3, 1, 1 } };
	float w[3], l[3];
	edit_xf_point_to_world(&t, (float[3]){ 0.1f, 0, 0 }, w);
	/* Local +x (stretched to 0.3) turns to world -z. */
	assert_float_equal(w[0], 1, 1e-5);
	assert_float_equal(w[2], -0.3f, 1e-5);
	edit_xf_point_to_local(&t, w, l);
	assert_float_equal(l[0], 0.1f, 1e-5);
	assert_float_equal(l[1], 0, 1e-5);
	assert_float_equal(l[2], 0, 1e-5);
	float n[3];
	edit_xf_normal_to_world(&t, (float[3]){ 1, 0, 0 }, n);
	assert_float_equal(n[2], -1, 1e-5);

	sh_transform_write(&f->log, &f->other, e, (float[3]){ 1, 0, 0 });
	ef_fold(f);
	const struct th_mesh *m = ef_mesh_of(f, e);
	struct edit_hit h;
	/* Through the real transform: 1 cm beyond the +x face of the cube at (1, 0, 0). */
	assert_int_equal(edit_pick_mesh(m, &t, (float[3]){ 1, 0, -0.31f }, 0.05f, TH_SELECT_FACE, &h), 1);
	assert_int_equal(h.element, face_facing(m, (float[3]){ 1, 0, 0 }));
	assert_float_equal(h.dist, 0.01f, 1e-4);
	/* Unstretched, that point is 21 cm away. */
	struct th_c_transform plain = t;
	plain.scale[0] = 1;
	assert_int_equal(edit_pick_mesh(m, &plain, (float[3]){ 1, 0, -0.31f }, 0.05f, TH_SELECT_FACE, &h), 0);
	ef_free(f);
}

static void ties_go_to_the_lower_entity_id(void **state)
{
	struct ef *f = ef_new(NULL);
	uint64_t a = ef_cube(f, &f->other, (float[3]){ -0.2f, 1, 0 }, 0.2f);
	uint64_t b = ef_cube(f, &f->other, (float[3]){ 0.2f, 1, 0 }, 0.2f);
	struct edit_hit h;
	/* Exactly between them: 10 cm from each. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(edit_pick(ef_scene(f), (float[3]){ 0, 1, 0 }, 0.15f, TH_SELECT_FACE, &h), 1);
		assert_int_equal(h.entity, a < b ? a : b);
	}
	/* A little nearer b: b. */
	assert_int_equal(edit_pick(ef_scene(f), (float[3]){ 0.01f, 1, 0 }, 0.15f, TH_SELECT_FACE, &h), 1);
	assert_int_equal(h.entity, b);
	/* A bad radius picks nothing. */
	assert_int_equal(edit_pick(ef_scene(f), (float[3]){ 0.01f, 1, 0 }, NAN, TH_SELECT_FACE, &h), 0);
	assert_int_equal(edit_pick(ef_scene(f), (float[3]){ 0.01f, 1, 0 }, 0.15f, 7, &h), 0);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(faces_edges_vertices_within_the_radius),
		cmocka_unit_test(object_inside_or_near),
		cmocka_unit_test(transform_rotation_and_scale_count),
		cmocka_unit_test(ties_go_to_the_lower_entity_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
