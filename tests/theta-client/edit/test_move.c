/* The move tool (edit/edit_move.c): grab with the trigger, the preview
 * follows the hand every frame with nothing sent, the release sends one
 * command (the whole drag), snapped to the grid; a drag under 1 mm, a
 * grab of nothing and a tool switch mid-drag send nothing. */
#include "edit_fix.h"

#include <math.h>

static void drag_previews_every_frame_and_sends_one_command(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_next_tool(f, 1);
	assert_int_equal(edit_tool(f->ed), EDIT_TOOL_MOVE);
	ef_deliver(f); /* the tool.state */
	unsigned before = f->n;
	float tip[3] = { 0.05f, 1.05f, -0.45f }; /* inside the cube */
	ef_frame(f, tip, 1, 0, 0);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active);
	assert_int_equal(pv->entity, e);
	/* 30 frames of drag along +x, 1 cm a frame (and a bit, to see the snap). */
	for (int i = 1; i <= 30; i++) {
		float p[3] = { tip[0] + 0.0101f * (float)i, tip[1], tip[2] };
		ef_frame(f, p, 1, 0, 0);
		assert_float_equal(pv->xf.position[0], ef_at[0] + 0.01f * (float)i, 1e-5);
		assert_float_equal(pv->xf.position[1], ef_at[1], 1e-6);
		assert_int_equal(pv->frames, (uint64_t)i);
		assert_int_equal(ef_count_writes(f, TH_COMP_TRANSFORM), 0);
	}
	/* While dragging only the selection went out; the scene is where it was. */
	assert_int_equal(ef_count_writes(f, TH_COMP_SELECTION), f->n - before);
	const struct th_c_transform *t = th_scene_component(ef_scene(f), e, TH_COMP_TRANSFORM);
	assert_float_equal(t->position[0], ef_at[0], 0);
	unsigned sel_writes = f->n - before;
	float end[3] = { tip[0] + 0.303f, tip[1], tip[2] };
	ef_frame(f, end, 0, 0, 0);
	assert_false(pv->active);
	assert_int_equal(f->n, before + sel_writes + 1);
	union th_pl_any pl;
	ef_decode(f, f->n - 1, TH_CMD_COMPONENT_WRITE, &pl);
	assert_int_equal(f->cmds[f->n - 1].scope, e);
	assert_int_equal(pl.component_write.component, th_component_id(TH_COMP_TRANSFORM));
	ef_deliver(f);
	t = th_scene_component(ef_scene(f), e, TH_COMP_TRANSFORM);
	assert_float_equal(t->position[0], 0.30f, 1e-5);
	assert_float_equal(t->position[1], 1.0f, 1e-6);
	assert_float_equal(t->position[2], -0.5f, 1e-6);
	assert_non_null(strstr(ef_last_text(f), "move mesh"));
	assert_ptr_equal(ef_last_text(f), ef_last_edit(f)); /* the newest line is an edit */
	ef_free(f);
}

static void short_drags_misses_and_switches_send_nothing(void **state)
{
	struct ef *f = ef_new(NULL);
	ef_cube(f, &f->other, ef_at, 0.2f);
	ef_next_tool(f, 1);
	ef_deliver(f);
	/* Nothing at the tip: said, nothing sent. */
	unsigned n = f->n;
	ef_frame(f, (float[3]){ 3, 3, 3 }, 1, 0, 0);
	assert_non_null(strstr(edit_take_message(f->ed), "nothing within"));
	assert_false(edit_preview(f->ed)->active);
	ef_frame(f, (float[3]){ 3, 3, 3 }, 0, 0, 0);
	assert_int_equal(f->n, n);
	/* A grab moved 0.4 mm: no move. */
	ef_frame(f, ef_at, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_at[0] + 0.0004f, ef_at[1], ef_at[2] }, 0, 0, 0);
	assert_int_equal(ef_count_writes(f, TH_COMP_TRANSFORM), 0);
	ef_deliver(f);
	/* A grab, a drag, then right a (next tool): cancelled. */
	n = f->n;
	ef_frame(f, ef_at, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_at[0] + 0.2f, ef_at[1], ef_at[2] }, 1, 0, 0);
	assert_true(edit_preview(f->ed)->active);
	ef_frame(f, (float[3]){ ef_at[0] + 0.2f, ef_at[1], ef_at[2] }, 1, TH_BUTTON_A, 0);
	assert_false(edit_preview(f->ed)->active);
	ef_frame(f, (float[3]){ ef_at[0] + 0.2f, ef_at[1], ef_at[2] }, 0, 0, 0);
	ef_settle(f);
	struct th_pl_tool_state ts;
	ef_last_tool_state(f, &ts);
	assert_int_equal(ts.tool, edit_tool(f->ed));
	assert_int_not_equal(ts.tool, EDIT_TOOL_MOVE);
	assert_int_equal(ef_count_writes(f, TH_COMP_TRANSFORM), 0);
	ef_free(f);
}

static void faces_move_as_one_patch_previewed_on_a_copy(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	ef_next_option(f, 1); /* face */
	assert_string_equal(edit_option_name(f->ed), "face");
	ef_deliver(f);
	unsigned before = f->n;
	/* Grab the top face, pull up 5 cm over 10 frames. */
	float tip[3] = { 0, 1.11f, -0.5f };
	ef_frame(f, tip, 1, 0, 0);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active && pv->has_mesh);
	for (int i = 1; i <= 10; i++)
		ef_frame(f, (float[3]){ tip[0], tip[1] + 0.005f * (float)i, tip[2] }, 1, 0, 0);
	/* The preview shows the top at 0.15, the scene still at 0.1. */
	unsigned up = 0;
	for (uint32_t v = 0; v < pv->m->nverts; v++)
		if (pv->m->verts[v].id && fabsf(pv->m->verts[v].pos[1] - 0.15f) < 1e-5)
			up++;
	assert_int_equal(up, 4);
	const struct th_mesh *m = ef_mesh_of(f, e);
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id)
			assert_true(fabsf(m->verts[v].pos[1]) < 0.1f + 1e-6);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 0);
	ef_frame(f, (float[3]){ tip[0], tip[1] + 0.05f, tip[2] }, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 1);
	union th_pl_any pl;
	ef_decode(f, f->n - 1, TH_CMD_MESH_PATCH, &pl);
	assert_int_equal(pl.mesh_patch.ops_count, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pl.mesh_patch.ops[i].op, TH_PL_MESH_OP_VERTEX_MOVE);
	ef_deliver(f);
	m = ef_mesh_of(f, e);
	up = 0;
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id && fabsf(m->verts[v].pos[1] - 0.15f) < 1e-5)
			up++;
	assert_int_equal(up, 4);
	assert_non_null(strstr(ef_last_text(f), "move 4 vertices of mesh"));
	(void)before;
	ef_free(f);
}

static void the_hand_turns_the_object_in_15_degree_steps(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	ef_frame(f, (float[3]){ 9, 9, 9 }, 0, 0, 0);
	ef_deliver(f);
	/* Grab 5 cm right of the centre, turn the hand 50 degrees about +y. */
	float grab[3] = { ef_at[0] + 0.05f, ef_at[1], ef_at[2] };
	ef_frame(f, grab, 1, 0, 0);
	float half = 50.0f * (float)M_PI / 360.0f;
	float *rot = f->in.hand[INP_RIGHT].pose.rotation;
	rot[1] = sinf(half);
	rot[3] = cosf(half);
	ef_frame(f, grab, 1, 0, 0);
	const struct edit_preview *pv = edit_preview(f->ed);
	float want = 45.0f * (float)M_PI / 360.0f;
	assert_float_equal(pv->xf.rotation[1], sinf(want), 1e-5);
	assert_float_equal(pv->xf.rotation[3], cosf(want), 1e-5);
	ef_frame(f, grab, 0, 0, 0);
	ef_deliver(f);
	const struct th_c_transform *t = th_scene_component(ef_scene(f), e, TH_COMP_TRANSFORM);
	assert_float_equal(t->rotation[1], sinf(want), 1e-5);
	assert_float_equal(t->rotation[3], cosf(want), 1e-5);
	/* The centre turned 45 degrees about the grab point: from 5 cm left
	 * of it to 5 cm at 45 degrees (x -0.0354, z +0.0354). */
	assert_float_equal(t->position[0], grab[0] - 0.05f * cosf((float)M_PI / 4), 1e-5);
	assert_float_equal(t->position[2], grab[2] + 0.05f * sinf((float)M_PI / 4), 1e-5);
	const struct edit_history *h = edit_history(f->ed);
	unsigned k = h->n;
	while (k-- > 0 && h->e[k].kind != EDIT_H_EDIT)
		;
	assert_non_null(strstr(h->e[k].text, "and turn it"));
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drag_previews_every_frame_and_sends_one_command),
		cmocka_unit_test(short_drags_misses_and_switches_send_nothing),
		cmocka_unit_test(faces_move_as_one_patch_previewed_on_a_copy),
		cmocka_unit_test(the_hand_turns_the_object_in_15_degree_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
