/* The shape tool (edit/edit_shape.c): inset, loop cut, bevel, weld, flip
 * and duplicate of what is at the tip or selected, each one mesh.patch the
 * scene takes (the fold checks every invariant), with the history saying
 * what it did; refusals are one sentence and send nothing. */
#include "edit_fix.h"

#include <math.h>

static unsigned verts_where(const struct th_mesh *m, int axis, float v)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < m->nverts; i++)
		n += m->verts[i].id && fabsf(m->verts[i].pos[axis] - v) < 1e-5f;
	return n;
}

/* Right after the tool cycle's old end: every script keeps its meaning. */
static void shape_comes_after_mirror(void **state)
{
	struct ef *f = ef_new(NULL);
	ef_next_tool(f, 8);
	assert_int_equal(edit_tool(f->ed), EDIT_TOOL_MIRROR);
	ef_next_tool(f, 1);
	assert_int_equal(edit_tool(f->ed), EDIT_TOOL_SHAPE);
	assert_string_equal(edit_tool_name(EDIT_TOOL_SHAPE), "shape");
	static const char *const names[] = { "inset", "loop cut", "bevel", "weld", "flip", "duplicate", "inset region",
					     "inset" };
	for (unsigned i = 0; i < 8; i++) {
		assert_string_equal(edit_option_name(f->ed), names[i]);
		ef_next_option(f, 1);
	}
	ef_next_tool(f, 1);
	assert_int_equal(edit_tool(f->ed), EDIT_TOOL_SELECT);
	ef_free(f);
}

static void inset_the_face_at_the_tip_then_the_selection(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 0, "inset");
	unsigned n = f->n;
	ef_click(f, ef_top);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	ef_deliver(f);
	ef_mesh_is(f, e, 12, 10, NULL);
	/* The inner top face's corners a quarter of the way in: +-0.075. */
	const struct th_mesh *m = ef_mesh_of(f, e);
	unsigned inner = 0;
	for (uint32_t i = 0; i < m->nverts; i++)
		inner += m->verts[i].id && fabsf(m->verts[i].pos[1] - 0.1f) < 1e-6f &&
			 fabsf(fabsf(m->verts[i].pos[0]) - 0.075f) < 1e-6f &&
			 fabsf(fabsf(m->verts[i].pos[2]) - 0.075f) < 1e-6f;
	assert_int_equal(inner, 4);
	assert_non_null(strstr(ef_last_edit(f), "inset 1 face of mesh "));
	assert_non_null(strstr(ef_last_edit(f), " by 0.25"));

	/* Select the front face and the +x face (grip adds); inset both by
	 * 0.30 (the parameter one step up). */
	ef_select_two(f, 1, "face", ef_front, (float[3]){ 0.11f, 1, -0.5f });
	ef_deliver(f);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 0, "inset");
	ef_param_up(f, 1);
	ef_click(f, ef_front);
	ef_deliver(f);
	ef_mesh_is(f, e, 20, 18, NULL);
	assert_non_null(strstr(ef_last_edit(f), "inset 2 faces of mesh "));
	assert_non_null(strstr(ef_last_edit(f), " by 0.30"));
	/* The parameter stops at EDIT_INSET_MAX. */
	ef_param_up(f, 15);
	ef_click(f, (float[3]){ 0, 0.89f, -0.5f }); /* the bottom */
	ef_deliver(f);
	assert_non_null(strstr(ef_last_edit(f), " by 0.95"));
	ef_mesh_is(f, e, 24, 22, NULL);
	/* Nothing at the tip: said, nothing sent. */
	ef_refused(f, ef_nowhere, "inset: no face within 5 cm");
	ef_free(f);
}

/* The top and front faces as one region: one ring of 6 quads round both. */
static void inset_region_rings_the_selection_once(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_select_two(f, 1, "face", ef_top, ef_front);
	ef_deliver(f);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 6, "inset region");
	ef_click(f, ef_top);
	ef_deliver(f);
	ef_mesh_is(f, e, 14, 12, NULL); /* 6 new corners; 6 - 2 + 2 + 6 faces */
	assert_non_null(strstr(ef_last_edit(f), "inset 2 faces of mesh "));
	assert_non_null(strstr(ef_last_edit(f), " as one region by 0.25"));
	/* The face at the tip alone when nothing is selected there. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_MENU);
	ef_click(f, (float[3]){ 0, 0.89f, -0.5f });
	ef_deliver(f);
	ef_mesh_is(f, e, 18, 16, NULL);
	assert_non_null(strstr(ef_last_edit(f), "inset 1 face of mesh "));
	ef_free(f);
}

/* Every face's normal points away from the cube's centre (out) or towards it. */
static bool faces_point(const struct th_mesh *m, bool out)
{
	for (uint32_t i = 0; i < m->nfaces; i++) {
		if (!m->faces[i].id)
			continue;
		float nrm[3], c[3];
		assert_int_equal(th_mesh_face_normal(m, (int32_t)i, nrm, c), 0);
		float d = nrm[0] * c[0] + nrm[1] * c[1] + nrm[2] * c[2];
		if ((d > 0) != out)
			return false;
	}
	return true;
}

static void flip_the_mesh_but_not_part_of_a_piece(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 4, "flip");
	assert_true(faces_point(ef_mesh_of(f, e), true));
	ef_click(f, ef_at);
	ef_deliver(f);
	ef_mesh_is(f, e, 8, 6, NULL);
	assert_true(faces_point(ef_mesh_of(f, e), false));
	assert_non_null(strstr(ef_last_edit(f), "flip mesh "));
	assert_non_null(strstr(ef_last_edit(f), "(every face)"));
	/* One selected face of the closed cube: refused with the reason. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_next_option(f, 1);
	ef_click(f, ef_top);
	ef_deliver(f);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 4, "flip");
	unsigned n = f->n;
	ef_click(f, ef_at);
	assert_int_equal(f->n, n);
	const char *msg = edit_take_message(f->ed);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "flip: "));
	assert_non_null(strstr(msg, "part of a connected piece"));
	/* Undo the flip: the cube faces out again. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	ef_deliver(f);
	assert_true(faces_point(ef_mesh_of(f, e), true));
	ef_free(f);
}

static void duplicate_follows_the_hand_or_steps_along_x(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 5, "duplicate");
	/* Grab the cube, drag 30 cm along +x: previewed, nothing sent. */
	unsigned n = f->n;
	ef_frame(f, ef_at, 1, 0, 0);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active && pv->has_mesh);
	for (int i = 1; i <= 30; i++) {
		ef_frame(f, (float[3]){ ef_at[0] + 0.0101f * (float)i, ef_at[1], ef_at[2] }, 1, 0, 0);
		struct th_mesh_stats st;
		th_mesh_stats(pv->m, &st);
		assert_int_equal(st.vertices, 16);
		assert_int_equal(st.faces, 12);
		assert_int_equal(verts_where(pv->m, 0, 0.1f + 0.01f * (float)i), 4);
	}
	assert_int_equal(f->n, n);
	ef_mesh_is(f, e, 8, 6, NULL);
	ef_frame(f, (float[3]){ ef_at[0] + 0.303f, ef_at[1], ef_at[2] }, 0, 0, 0);
	assert_false(pv->active);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	ef_deliver(f);
	ef_mesh_is(f, e, 16, 12, NULL);
	assert_int_equal(verts_where(ef_mesh_of(f, e), 0, 0.4f), 4);
	assert_non_null(strstr(ef_last_edit(f), "duplicate mesh "));
	assert_non_null(strstr(ef_last_edit(f), "moved by (0.300, 0.000, 0.000)"));
	/* A click: both cubes again, one step (0.10 m x 1.25) along x. */
	ef_param_up(f, 1);
	ef_click(f, ef_at);
	ef_deliver(f);
	ef_mesh_is(f, e, 32, 24, NULL);
	assert_int_equal(verts_where(ef_mesh_of(f, e), 0, 0.525f), 4);
	assert_non_null(strstr(ef_last_edit(f), "one step along x: (0.125, 0.000, 0.000)"));
	/* The selected face only. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_next_option(f, 1);
	ef_click(f, (float[3]){ 0, 1.11f, -0.5f });
	assert_int_equal(edit_selection(f->ed)->n, 1);
	ef_deliver(f);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 5, "duplicate");
	ef_frame(f, ef_at, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_at[0], ef_at[1] + 0.2f, ef_at[2] }, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_at[0], ef_at[1] + 0.2f, ef_at[2] }, 0, 0, 0);
	ef_deliver(f);
	ef_mesh_is(f, e, 36, 25, NULL);
	assert_int_equal(verts_where(ef_mesh_of(f, e), 1, 0.3f), 4);
	assert_non_null(strstr(ef_last_edit(f), "duplicate 1 face of mesh "));
	/* A tool switch mid-drag sends nothing. */
	ef_frame(f, ef_at, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_at[0] + 0.2f, ef_at[1], ef_at[2] }, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_at[0] + 0.2f, ef_at[1], ef_at[2] }, 1, TH_BUTTON_B, 0);
	assert_false(edit_preview(f->ed)->active);
	ef_frame(f, (float[3]){ ef_at[0] + 0.2f, ef_at[1], ef_at[2] }, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 3);
	ef_free(f);
}

static void loop_cut_at_the_midpoint_or_at_the_tip(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 1, "loop cut");
	/* On the top front edge (along x): a ring round the cube at x = 0. */
	ef_click(f, (float[3]){ 0.02f, 1.1f, -0.4f });
	ef_deliver(f);
	ef_mesh_is(f, e, 12, 10, NULL);
	assert_int_equal(verts_where(ef_mesh_of(f, e), 0, 0), 4);
	assert_non_null(strstr(ef_last_edit(f), "loop cut mesh "));
	assert_non_null(strstr(ef_last_edit(f), "at 0.50 of its length"));
	/* Odd parameter: where the tip is, x = 0.07 on the half edge 0..0.1. */
	ef_param_up(f, 1);
	ef_click(f, (float[3]){ 0.07f, 1.1f, -0.4f });
	ef_deliver(f);
	ef_mesh_is(f, e, 16, 14, NULL);
	assert_int_equal(verts_where(ef_mesh_of(f, e), 0, 0.07f), 4);
	/* Nothing at the tip. */
	ef_click(f, ef_nowhere);
	assert_non_null(strstr(edit_take_message(f->ed), "loop cut: no edge within"));
	ef_free(f);
}

static void bevel_an_edge_and_the_selected_edges(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 2, "bevel");
	ef_click(f, (float[3]){ 0.02f, 1.1f, -0.4f }); /* the top front edge */
	ef_deliver(f);
	ef_mesh_is(f, e, 10, 7, NULL);
	assert_non_null(strstr(ef_last_edit(f), "bevel 1 edge of mesh "));
	assert_non_null(strstr(ef_last_edit(f), "0.020 m wide"));
	/* Two bottom edges of a fresh cube, selected (edge mode, grip). */
	const float at2[3] = { 1, 1, -0.5f };
	uint64_t e2 = ef_cube(f, &f->other, at2, 0.2f);
	ef_select_two(f, 2, "edge", (float[3]){ 1.02f, 0.9f, -0.4f }, (float[3]){ 1.02f, 0.9f, -0.6f });
	ef_deliver(f);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 2, "bevel");
	ef_click(f, (float[3]){ 1.02f, 0.9f, -0.4f });
	ef_deliver(f);
	assert_non_null(strstr(ef_last_edit(f), "bevel 2 edges of mesh "));
	struct th_mesh_stats st;
	th_mesh_stats(ef_mesh_of(f, e2), &st);
	assert_int_equal(st.faces, 8);
	assert_int_equal(st.euler, 2);
	const char *why = NULL;
	assert_int_equal(th_mesh_check(ef_mesh_of(f, e2), &why), 0);
	ef_free(f);
}

/* Two quads side by side whose shared side is two pairs of vertices 0.5 mm
 * apart. */
static uint64_t two_quads(struct ef *f, const float pos[3])
{
	static const float q[8][3] = { { 0, 0, 0 },	  { 0.1f, 0, 0 },    { 0.1f, 0.1f, 0 }, { 0, 0.1f, 0 },
				       { 0.1005f, 0, 0 }, { 0.2f, 0, 0 },    { 0.2f, 0.1f, 0 }, { 0.1005f, 0.1f, 0 } };
	struct th_patch p;
	th_patch_init(&p);
	int v[8];
	for (int i = 0; i < 8; i++)
		assert_true((v[i] = th_patch_vertex_add(&p, q[i])) > 0);
	for (int k = 0; k < 2; k++) {
		struct th_pref c[4];
		for (int i = 0; i < 4; i++)
			c[i] = th_pref_local((uint32_t)v[4 * k + i]);
		assert_int_equal(th_patch_face_add(&p, 0, c, 4), 0);
	}
	uint64_t e = ef_create(f, &f->other, pos, &p);
	th_patch_fini(&p);
	return e;
}

static void weld_the_mesh_at_the_tip(void **state)
{
	struct ef *f = ef_new(NULL);
	const float pos[3] = { 0, 2, -0.5f };
	uint64_t e = two_quads(f, pos);
	ef_mesh_is(f, e, 8, 2, NULL);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 3, "weld");
	const float tip[3] = { 0.05f, 2.05f, -0.49f };
	ef_click(f, tip);
	ef_deliver(f);
	ef_mesh_is(f, e, 6, 2, NULL);
	assert_non_null(strstr(ef_last_edit(f), "weld the vertices of mesh "));
	assert_non_null(strstr(ef_last_edit(f), "within 1.0 mm: 2 joined"));
	/* Nothing left to weld: the reason, nothing sent. */
	ef_refused(f, tip, "weld: ");
	ef_free(f);
}

/* A weld distance of 0.25 mm (the parameter two steps down) joins nothing. */
static void weld_distance_follows_the_parameter(void **state)
{
	struct ef *f = ef_new(NULL);
	uint64_t e = two_quads(f, (float[3]){ 0, 2, -0.5f });
	ef_tool_option(f, EDIT_TOOL_SHAPE, 3, "weld");
	for (int i = 0; i < 2; i++) {
		f->in.hand[INP_RIGHT].thumbstick[1] = -1;
		ef_frame(f, ef_nowhere, 0, 0, 0);
		f->in.hand[INP_RIGHT].thumbstick[1] = 0;
		ef_frame(f, ef_nowhere, 0, 0, 0);
	}
	unsigned n = f->n;
	ef_click(f, (float[3]){ 0.05f, 2.05f, -0.49f });
	assert_true(f->n <= n + 1); /* at most the tool.state of the parameter */
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 0);
	assert_non_null(strstr(edit_take_message(f->ed), "weld: "));
	ef_mesh_is(f, e, 8, 2, NULL);
	ef_free(f);
}

/* A copy too large for one command is refused at the grab, before any
 * preview: a grid of 1 981 ops, duplicated once (1 981 ops fit), then the
 * whole mesh again (3 962 do not). */
static void a_copy_too_large_for_one_edit_is_refused_at_the_grab(void **state)
{
	struct ef *f = ef_new(NULL);
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_PLANE);
	pp.subdiv = 17; /* cuts: 18 x 18 quads */
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
	assert_int_equal(p.n, 19 * 19 + 5 * 18 * 18);
	uint64_t e = ef_create(f, &f->other, ef_at, &p);
	th_patch_fini(&p);
	ef_tool_option(f, EDIT_TOOL_SHAPE, 5, "duplicate");
	const float tip[3] = { 0.01f, 1.01f, -0.5f };
	ef_click(f, tip);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 1);
	ef_deliver(f);
	ef_mesh_is(f, e, 2 * 19 * 19, 2 * 18 * 18, NULL);
	ef_frame(f, tip, 1, 0, 0);
	assert_false(edit_preview(f->ed)->active);
	const char *msg = edit_take_message(f->ed);
	assert_non_null(msg);
	assert_string_equal(msg, "duplicate: the copy takes 3962 ops; one edit carries at most 2048: select fewer faces");
	ef_frame(f, (float[3]){ tip[0] + 0.1f, tip[1], tip[2] }, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), 1);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shape_comes_after_mirror),
		cmocka_unit_test(inset_the_face_at_the_tip_then_the_selection),
		cmocka_unit_test(inset_region_rings_the_selection_once),
		cmocka_unit_test(flip_the_mesh_but_not_part_of_a_piece),
		cmocka_unit_test(duplicate_follows_the_hand_or_steps_along_x),
		cmocka_unit_test(loop_cut_at_the_midpoint_or_at_the_tip),
		cmocka_unit_test(bevel_an_edge_and_the_selected_edges),
		cmocka_unit_test(weld_the_mesh_at_the_tip),
		cmocka_unit_test(weld_distance_follows_the_parameter),
		cmocka_unit_test(a_copy_too_large_for_one_edit_is_refused_at_the_grab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
