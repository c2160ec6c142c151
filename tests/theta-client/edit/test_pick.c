/* Picking (edit/edit_pick.h): the tip in world space against the scene's
 * mesh entities, faces, edges and vertices within the radius, through the
 * entity's transform (translation, rotation, non-uniform scale), ties
 * broken the same way every time. */
#include "edit_fix.h"

#include <math.h>

#include "edit/edit_pick.h"
#include "th_meshfix.h"

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
	assert_int_equal(h.element, mf_face_facing(m, (float[3]){ 0, 1, 0 }));
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
	assert_int_equal(h.element, mf_face_facing(m, (float[3]){ 1, 0, 0 }));
	assert_float_equal(h.dist, 0.01f, 1e-4);
	/* Unstretched, that point is 21 cm away. */
	struct th_c_transform plain = t;
	plain.scale[0] = 1;
	assert_int_equal(edit_pick_mesh(m, &plain, (float[3]){ 1, 0, -0.31f }, 0.05f, TH_SELECT_FACE, &h), 0);
	ef_free(f);
}

/* The mesh-space reject every pick does first must never drop what is in
 * reach: over random tips around a cut, turned, stretched cube (and a
 * flattened one, zero scale: no reject), vertices and edges are what a
 * plain search of every element finds, and a face is found wherever an
 * edge is in reach (the face's distance is at most its edges'). */
static uint32_t rnd_state = 0x9e3779b9u;
static float rnd(float lo, float hi)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return lo + (hi - lo) * (float)(rnd_state >> 8) / (float)(1u << 24);
}

static float seg_dist(const float p[3], const float a[3], const float b[3])
{
	float ab[3], ap[3], l2 = 0, t = 0, d2 = 0;
	for (int k = 0; k < 3; k++) {
		ab[k] = b[k] - a[k];
		ap[k] = p[k] - a[k];
		l2 += ab[k] * ab[k];
		t += ap[k] * ab[k];
	}
	t = l2 > 0 ? fminf(fmaxf(t / l2, 0), 1) : 0;
	for (int k = 0; k < 3; k++) {
		float d = p[k] - (a[k] + t * ab[k]);
		d2 += d * d;
	}
	return sqrtf(d2);
}

static void the_quick_reject_keeps_everything_in_reach(void **state)
{
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.size[0] = pp.size[1] = pp.size[2] = 0.2f;
	pp.subdiv = 3;
	struct th_mesh m;
	static const uint8_t author[32] = { 0x7 };
	assert_int_equal(mf_prim_mesh(&m, 0x51c, &pp, author, NULL), 0);
	const struct th_c_transform xfs[2] = {
		{ .position = { 0.3f, 1, -0.2f }, .rotation = { 0.2f, 0.4f, 0.1f, 0.8888194f }, .scale = { 2.5f, 0.4f, 1.2f } },
		{ .position = { 0, 1, 0 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 0, 1 } },
	};
	const float r = 0.05f;
	unsigned hits[3] = { 0, 0, 0 };
	for (int x = 0; x < 2; x++) {
		const struct th_c_transform *t = &xfs[x];
		for (int i = 0; i < 400; i++) {
			/* Near a random vertex (within about the radius), or anywhere around. */
			float tip[3], near = i % 2 ? 0.07f : 0.35f;
			const float *c = t->position;
			if (i % 2) {
				uint32_t v = (uint32_t)rnd(0, (float)m.nverts);
				float w[3];
				edit_xf_point_to_world(t, m.verts[v < m.nverts ? v : 0].pos, w);
				c = w;
				for (int k = 0; k < 3; k++)
					tip[k] = c[k] + rnd(-near, near);
			} else {
				for (int k = 0; k < 3; k++)
					tip[k] = c[k] + rnd(-near, near);
			}
			/* The nearest vertex and edge by a plain search. */
			float bv = INFINITY, be = INFINITY;
			for (uint32_t v = 0; v < m.nverts; v++) {
				if (!m.verts[v].id)
					continue;
				float w[3];
				edit_xf_point_to_world(t, m.verts[v].pos, w);
				bv = fminf(bv, seg_dist(tip, w, w));
			}
			for (uint32_t h = 0; h < m.nhes; h++) {
				if (m.hes[h].vert == TH_MESH_NONE)
					continue;
				float a[3], b[3];
				edit_xf_point_to_world(t, m.verts[m.hes[h].vert].pos, a);
				edit_xf_point_to_world(t, m.verts[m.hes[m.hes[h].next].vert].pos, b);
				be = fminf(be, seg_dist(tip, a, b));
			}
			struct edit_hit hv, he, hf;
			int gv = edit_pick_mesh(&m, t, tip, r, TH_SELECT_VERTEX, &hv);
			int ge = edit_pick_mesh(&m, t, tip, r, TH_SELECT_EDGE, &he);
			int gf = edit_pick_mesh(&m, t, tip, r, TH_SELECT_FACE, &hf);
			/* Away from the boundary of the radius (rounding), the same answer. */
			if (fabsf(bv - r) > 1e-5f) {
				assert_int_equal(gv, bv < r);
				if (gv)
					assert_float_equal(hv.dist, bv, 1e-5);
			}
			if (fabsf(be - r) > 1e-5f) {
				assert_int_equal(ge, be < r);
				if (ge)
					assert_float_equal(he.dist, be, 1e-5);
			}
			if (ge)
				assert_int_equal(gf, 1);
			if (gf)
				assert_true(hf.dist <= be + 1e-5f);
			hits[0] += gv, hits[1] += ge, hits[2] += gf;
		}
	}
	/* The tips came near enough to test something. */
	print_message("hits: %u vertices, %u edges, %u faces of 800 tips\n", hits[0], hits[1], hits[2]);
	assert_true(hits[0] > 50 && hits[1] > 100 && hits[2] > 150);
	th_mesh_fini(&m);
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
		cmocka_unit_test(the_quick_reject_keeps_everything_in_reach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
