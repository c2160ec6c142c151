/* The move tool's rotate and scale options (edit/edit_move.c): selected
 * faces, edges or vertices (or the face at the tip) turned with the hand
 * in 15 degree steps, or scaled by the hand's distance ratio from their
 * centroid (snapped), about that centroid; previewed every frame on the
 * mesh copy with nothing sent, one mesh.patch on release, which the scene
 * takes. */
#include "edit_fix.h"

#include <math.h>

#include "edit/edit_pick.h"

/* Vertices of m at (x, y, z) within 1e-5. */
static unsigned verts_at(const struct th_mesh *m, float x, float y, float z)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < m->nverts; i++)
		n += m->verts[i].id && fabsf(m->verts[i].pos[0] - x) < 1e-5f && fabsf(m->verts[i].pos[1] - y) < 1e-5f &&
		     fabsf(m->verts[i].pos[2] - z) < 1e-5f;
	return n;
}

/* The right hand turned by deg about +y (from the identity). */
static void hand_about_y(struct ef *f, float deg)
{
	float half = deg * (float)M_PI / 360.0f, *rot = f->in.hand[INP_RIGHT].pose.rotation;
	rot[0] = rot[2] = 0;
	rot[1] = sinf(half);
	rot[3] = cosf(half);
}

static const float grab[3] = { 0.03f, 1.11f, -0.5f }; /* above the top face */

/* The rotate option, the hand unturned, the trigger pressed at grab. */
static void rotate_grab(struct ef *f)
{
	ef_tool_option(f, EDIT_TOOL_MOVE, 4, "rotate");
	hand_about_y(f, 0);
	ef_frame(f, grab, 1, 0, 0);
}

static void the_options_keep_the_modes_first(void **state)
{
	struct ef *f = ef_new(NULL);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	static const char *const names[] = { "object", "face", "edge", "vertex", "rotate", "scale", "object" };
	for (unsigned i = 0; i < 7; i++) {
		assert_string_equal(edit_option_name(f->ed), names[i]);
		ef_next_option(f, 1);
	}
	ef_free(f);
}

static void rotate_the_face_at_the_tip_in_15_degree_steps(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	rotate_grab(f);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active && pv->has_mesh);
	assert_int_equal(edit_selection(f->ed)->mode, TH_SELECT_FACE);
	/* 10 degrees: under half a step, the preview shows the face as it is. */
	hand_about_y(f, 7);
	ef_frame(f, grab, 1, 0, 0);
	assert_int_equal(verts_at(pv->m, 0.1f, 0.1f, 0.1f), 1);
	/* 50 degrees: 45 in the preview; the corners of the top face (0.1414
	 * from its centre) on the axes; the scene as it was. */
	hand_about_y(f, 50);
	ef_frame(f, grab, 1, 0, 0);
	float r = 0.1f * sqrtf(2.0f);
	assert_int_equal(verts_at(pv->m, r, 0.1f, 0) + verts_at(pv->m, -r, 0.1f, 0) + verts_at(pv->m, 0, 0.1f, r) +
				 verts_at(pv->m, 0, 0.1f, -r),
			 4);
	assert_int_equal(verts_at(ef_mesh_of(f, e), 0.1f, 0.1f, 0.1f), 1);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 0);
	/* The hand moves too: a rotation does not translate. */
	ef_frame(f, (float[3]){ grab[0] + 0.2f, grab[1], grab[2] }, 0, 0, 0);
	assert_false(pv->active);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 1);
	union th_pl_any pl;
	ef_decode(f, f->n - 1, TH_CMD_MESH_PATCH, &pl);
	assert_int_equal(pl.mesh_patch.ops_count, 4);
	ef_deliver(f);
	const struct th_mesh *m = ef_mesh_of(f, e);
	assert_int_equal(verts_at(m, r, 0.1f, 0) + verts_at(m, -r, 0.1f, 0) + verts_at(m, 0, 0.1f, r) +
				 verts_at(m, 0, 0.1f, -r),
			 4);
	assert_int_equal(verts_at(m, 0.1f, -0.1f, 0.1f), 1); /* the bottom stays */
	const char *why = NULL;
	assert_int_equal(th_mesh_check(m, &why), 0);
	assert_non_null(strstr(ef_last_edit(f), "rotate 4 vertices of mesh "));
	assert_non_null(strstr(ef_last_edit(f), "by 45 degrees about their centre"));
	/* A turn under half a step sends nothing. */
	hand_about_y(f, 0);
	ef_frame(f, grab, 1, 0, 0);
	hand_about_y(f, 6);
	ef_frame(f, grab, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 1);
	ef_free(f);
}

static void scale_by_the_hands_distance_from_the_centre(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_tool_option(f, EDIT_TOOL_MOVE, 5, "scale");
	/* At the face's centre: no ratio to follow; said, nothing sent. */
	ef_frame(f, (float[3]){ 0, 1.1f, -0.5f }, 1, 0, 0);
	assert_false(edit_preview(f->ed)->active);
	assert_non_null(strstr(edit_take_message(f->ed), "scale: grab at least 1 cm from the selection's centre"));
	ef_frame(f, (float[3]){ 0.1f, 1.1f, -0.5f }, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 0);
	ef_deliver(f);
	/* 5 cm from the top's centre out to 10 cm: twice the size. */
	ef_frame(f, (float[3]){ 0.05f, 1.1f, -0.5f }, 1, 0, 0);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active);
	ef_frame(f, (float[3]){ 0.07f, 1.1f, -0.5f }, 1, 0, 0);
	assert_int_equal(verts_at(pv->m, 0.14f, 0.1f, 0.14f), 1); /* 1.4 */
	ef_frame(f, (float[3]){ 0.1f, 1.1f, -0.5f }, 1, 0, 0);
	assert_int_equal(verts_at(pv->m, 0.2f, 0.1f, 0.2f), 1);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 0);
	ef_frame(f, (float[3]){ 0.1f, 1.1f, -0.5f }, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 1);
	ef_deliver(f);
	const struct th_mesh *m = ef_mesh_of(f, e);
	assert_int_equal(verts_at(m, 0.2f, 0.1f, 0.2f) + verts_at(m, -0.2f, 0.1f, 0.2f) + verts_at(m, 0.2f, 0.1f, -0.2f) +
				 verts_at(m, -0.2f, 0.1f, -0.2f),
			 4);
	assert_non_null(strstr(ef_last_edit(f), "scale 4 vertices of mesh "));
	assert_non_null(strstr(ef_last_edit(f), "by 2.00 about their centre"));
	const char *why = NULL;
	assert_int_equal(th_mesh_check(m, &why), 0);

	/* A selected edge of a second cube, halved. */
	const float at2[3] = { 1, 1, -0.5f };
	uint64_t e2 = ef_cube(f, &f->other, at2, 0.2f);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_next_option(f, 2); /* edge */
	ef_click(f, (float[3]){ 1.02f, 1.1f, -0.4f }); /* the top front edge */
	assert_int_equal(edit_selection(f->ed)->mode, TH_SELECT_EDGE);
	ef_deliver(f);
	ef_tool_option(f, EDIT_TOOL_MOVE, 5, "scale");
	ef_frame(f, (float[3]){ 1.05f, 1.1f, -0.4f }, 1, 0, 0);
	ef_frame(f, (float[3]){ 1.025f, 1.1f, -0.4f }, 1, 0, 0);
	ef_frame(f, (float[3]){ 1.025f, 1.1f, -0.4f }, 0, 0, 0);
	ef_deliver(f);
	m = ef_mesh_of(f, e2);
	assert_int_equal(verts_at(m, 0.05f, 0.1f, 0.1f) + verts_at(m, -0.05f, 0.1f, 0.1f), 2);
	assert_non_null(strstr(ef_last_edit(f), "scale 2 vertices of mesh "));
	assert_non_null(strstr(ef_last_edit(f), "by 0.50 about their centre"));
	/* Nothing at the tip. */
	ef_frame(f, ef_nowhere, 1, 0, 0);
	assert_non_null(strstr(edit_take_message(f->ed), "move: nothing within"));
	ef_frame(f, ef_nowhere, 0, 0, 0);
	ef_free(f);
}

/* An entity turned 90 degrees about x: the hand's turn about world y still
 * turns the face at the world top about world y (in the mesh's frame that
 * is another axis), so its corners stay in the world plane y = 1.1. */
static void a_turned_entity_turns_in_world_space(void **state)
{
	struct ef *f = ef_new(NULL);
	float h = sqrtf(0.5f);
	uint64_t e = ef_cube_turned(f, &f->other, ef_at, (float[4]){ h, 0, 0, h }, 0.2f);
	rotate_grab(f);
	hand_about_y(f, 44);
	ef_frame(f, grab, 1, 0, 0);
	ef_frame(f, grab, 0, 0, 0);
	ef_deliver(f);
	assert_non_null(strstr(ef_last_edit(f), "rotate 4 vertices of mesh "));
	const struct th_c_transform *t = th_scene_component(ef_scene(f), e, TH_COMP_TRANSFORM);
	const struct th_mesh *m = ef_mesh_of(f, e);
	float r = 0.1f * sqrtf(2.0f);
	unsigned on_axes = 0, top = 0;
	for (uint32_t i = 0; i < m->nverts; i++) {
		if (!m->verts[i].id)
			continue;
		float w[3];
		edit_xf_point_to_world(t, m->verts[i].pos, w);
		if (fabsf(w[1] - 1.1f) > 1e-5f)
			continue;
		top++;
		float x = w[0] - ef_at[0], z = w[2] - ef_at[2];
		on_axes += (fabsf(fabsf(x) - r) < 1e-5f && fabsf(z) < 1e-5f) ||
			   (fabsf(fabsf(z) - r) < 1e-5f && fabsf(x) < 1e-5f);
	}
	assert_int_equal(top, 4);
	assert_int_equal(on_axes, 4);
	ef_free(f);
}

/* Undo of a rotate puts the face back. */
static void a_rotate_undoes(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	rotate_grab(f);
	hand_about_y(f, 30);
	ef_frame(f, grab, 1, 0, 0);
	ef_frame(f, grab, 0, 0, 0);
	ef_deliver(f);
	assert_int_equal(verts_at(ef_mesh_of(f, e), 0.1f, 0.1f, 0.1f), 0);
	assert_non_null(strstr(ef_last_edit(f), "by 30 degrees"));
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	ef_deliver(f);
	assert_int_equal(verts_at(ef_mesh_of(f, e), 0.1f, 0.1f, 0.1f), 1);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_options_keep_the_modes_first),
		cmocka_unit_test(rotate_the_face_at_the_tip_in_15_degree_steps),
		cmocka_unit_test(scale_by_the_hands_distance_from_the_centre),
		cmocka_unit_test(a_turned_entity_turns_in_world_space),
		cmocka_unit_test(a_rotate_undoes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
