/* The editor's frame (edit/edit.c): right a / b cycle the tools, each
 * switch and option change announced with one tool.state (tool id, option,
 * parameter), others' tool.state remembered; the trigger's hysteresis and
 * a click inside one frame; the delete tool; a sink that fails is said. */
#include "edit_fix.h"

#include <math.h>

static void tools_cycle_and_replicate_with_tool_state(void **state)
{
	struct ef *f = ef_new(NULL);
	assert_int_equal(edit_tool(f->ed), EDIT_TOOL_SELECT);
	uint32_t seen[16];
	unsigned n = 0;
	do {
		seen[n++] = edit_tool(f->ed);
		ef_next_tool(f, 1);
		ef_settle(f);
		union th_pl_any pl;
		ef_decode(f, f->n - 1, TH_CMD_TOOL_STATE, &pl);
		assert_int_equal(pl.tool_state.tool, edit_tool(f->ed));
		assert_int_equal(f->cmds[f->n - 1].scope, edit_tool(f->ed));
		assert_int_equal(pl.tool_state.settings_len, 3);
		assert_int_equal(pl.tool_state.settings[0], EDIT_TOOL_SETTINGS_VERSION);
	} while (edit_tool(f->ed) != EDIT_TOOL_SELECT && n < 16);
	/* Five switches in five frames: the first goes out, the rest coalesce
	 * into one naming where they ended. */
	unsigned before = ef_count(f, TH_CMD_TOOL_STATE);
	ef_next_tool(f, 5);
	ef_settle(f);
	assert_true(ef_count(f, TH_CMD_TOOL_STATE) - before <= 2);
	struct th_pl_tool_state ts;
	ef_last_tool_state(f, &ts);
	assert_int_equal(ts.tool, edit_tool(f->ed));
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_settle(f);
	assert_true(n >= 4);
	assert_int_equal(edit_tool(f->ed), EDIT_TOOL_SELECT);
	/* Every tool once, each with a name. */
	for (unsigned i = 0; i < n; i++) {
		assert_string_not_equal(edit_tool_name(seen[i]), "?");
		for (unsigned k = 0; k < i; k++)
			assert_int_not_equal(seen[i], seen[k]);
	}
	/* b goes back. */
	ef_frame(f, ef_nowhere, 0, TH_BUTTON_B, 0);
	assert_int_equal(edit_tool(f->ed), seen[n - 1]);
	assert_int_equal(edit_set_tool(f->ed, 0), -EINVAL);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MAX + 1), -EINVAL);
	/* Option flicks: one tool.state each (far enough apart). */
	before = f->n;
	f->in.hand[INP_RIGHT].thumbstick[0] = 0.9f;
	for (int i = 0; i < 5; i++) /* held: one flick */
		ef_frame(f, ef_nowhere, 0, 0, 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = -0.9f; /* through the centre to the left: another */
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(edit_option(f->ed), 1); /* armed only back near the centre */
	ef_settle(f);
	assert_int_equal(f->n, before + 1);
	f->in.hand[INP_RIGHT].thumbstick[0] = 0;
	ef_frame(f, ef_nowhere, 0, 0, 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = -0.9f;
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(edit_option(f->ed), 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = 0;
	ef_settle(f);
	assert_int_equal(f->n, before + 2);
	union th_pl_any pl;
	ef_decode(f, before, TH_CMD_TOOL_STATE, &pl);
	assert_int_equal(pl.tool_state.settings[1], 1);
	ef_free(f);
}

static void the_parameter_stays_in_range(void **state)
{
	struct ef *f = ef_new(NULL);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	for (int i = 0; i < EDIT_PARAM_MAX + 4; i++) {
		f->in.hand[INP_RIGHT].thumbstick[1] = 1;
		ef_frame(f, ef_nowhere, 0, 0, 0);
		f->in.hand[INP_RIGHT].thumbstick[1] = 0;
		ef_frame(f, ef_nowhere, 0, 0, 0);
	}
	ef_settle(f);
	struct th_pl_tool_state ts;
	ef_last_tool_state(f, &ts);
	assert_int_equal((int8_t)ts.settings[2], EDIT_PARAM_MAX);
	/* The stamp is as large as a stamp may be. */
	unsigned n = f->n;
	ef_click(f, ef_at);
	assert_int_equal(f->n, n + 1);
	assert_non_null(strstr(ef_last_text(f), "(5.00 m)"));
	ef_free(f);
}

static void others_tool_state_is_remembered(void **state)
{
	struct ef *f = ef_new(NULL);
	uint8_t settings[3] = { EDIT_TOOL_SETTINGS_VERSION, 2, 0 };
	struct th_pl_tool_state ts = { .tool = EDIT_TOOL_PAINT, .settings = settings, .settings_len = 3 };
	uint8_t buf[64];
	int len = th_cmd_payload_encode(TH_CMD_TOOL_STATE, &ts, buf, sizeof buf);
	sh_add(&f->log, &f->other, TH_CMD_TOOL_STATE, TH_SCOPE_TOOL, EDIT_TOOL_PAINT, buf, (size_t)len, 0);
	ef_fold(f);
	assert_int_equal(edit_peer_tool(f->ed, edit_owner_of(f->other.kp.pk)), EDIT_TOOL_PAINT);
	assert_int_equal(edit_peer_tool(f->ed, edit_owner_of(f->me.kp.pk)), 0);
	ef_free(f);
}

static void trigger_hysteresis_and_clicks(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	/* 0.5 is neither a press nor, once pressed, a release. */
	ef_frame(f, ef_at, 0.5f, 0, 0);
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	ef_frame(f, ef_at, 0.6f, 0, 0);
	assert_int_equal(edit_selection(f->ed)->entity, e);
	ef_frame(f, ef_nowhere, 0.5f, 0, 0); /* still held: no new click */
	assert_int_equal(edit_selection(f->ed)->entity, e);
	ef_frame(f, ef_nowhere, 0.4f, 0, 0);
	ef_frame(f, ef_nowhere, 0.6f, 0, 0); /* a click at nowhere: cleared */
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	ef_frame(f, ef_nowhere, 0, 0, 0);
	/* The trigger button pressed and released within one frame clicks. */
	ef_frame(f, ef_at, 0, TH_BUTTON_TRIGGER, 0);
	assert_int_equal(edit_selection(f->ed)->entity, e);
	/* Tracking lost: no click. */
	ef_frame(f, ef_nowhere, 0, 0, 0);
	f->in.hand[INP_RIGHT].pose.valid = false;
	ef_click(f, ef_nowhere);
	assert_int_equal(edit_selection(f->ed)->entity, e);
	ef_free(f);
}

static void delete_destroys_the_object(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_click(f, ef_at); /* select it */
	ef_publish(f);
	assert_non_null(ef_selection(f, e));
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_DELETE), 0);
	ef_frame(f, ef_nowhere, 0, 0, 0);
	ef_deliver(f);
	unsigned n = f->n;
	ef_click(f, ef_at);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_ENTITY_DESTROY);
	assert_int_equal(f->cmds[n].scope, e);
	ef_deliver(f);
	assert_false(th_scene_has_entity(ef_scene(f), e));
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(f->n, n + 1); /* no Selection removal for a destroyed entity */
	/* Undo brings it back. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	ef_deliver(f);
	assert_true(th_scene_has_entity(ef_scene(f), e));
	ef_free(f);
}

static void delete_faces_and_vertices(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_DELETE), 0);
	ef_next_option(f, 1); /* face */
	ef_deliver(f);
	ef_click(f, (float[3]){ 0, 1.11f, -0.5f });
	ef_deliver(f);
	struct th_mesh_stats st;
	th_mesh_stats(ef_mesh_of(f, e), &st);
	assert_int_equal(st.faces, 5);
	assert_int_equal(st.vertices, 8);
	ef_next_option(f, 2); /* vertex */
	ef_deliver(f);
	ef_click(f, (float[3]){ -0.11f, 0.89f, -0.61f });
	ef_deliver(f);
	th_mesh_stats(ef_mesh_of(f, e), &st);
	assert_int_equal(st.faces, 2); /* the corner's three faces went */
	const struct edit_history *h = edit_history(f->ed);
	unsigned k = h->n;
	while (k-- > 0 && h->e[k].kind != EDIT_H_EDIT)
		;
	assert_non_null(strstr(h->e[k].text, "delete 1 vertex of mesh"));
	const char *why = NULL;
	assert_int_equal(th_mesh_check(ef_mesh_of(f, e), &why), 0);
	ef_free(f);
}

static void a_stamp_snaps_to_a_face_centre_and_bad_configs_are_refused(void **state)
{
	struct ef *f = ef_new(NULL);
	ef_cube(f, &f->other, ef_at, 0.2f);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	ef_frame(f, ef_nowhere, 0, 0, 0);
	ef_deliver(f);
	unsigned n = f->n;
	ef_click(f, (float[3]){ 0.013f, 1.12f, -0.487f }); /* near the top face's centre */
	union th_pl_any pl;
	ef_decode(f, n, TH_CMD_MESH_CREATE, &pl);
	assert_float_equal(pl.mesh_create.transform[0], 0, 1e-6);
	assert_float_equal(pl.mesh_create.transform[1], 1.1f, 1e-6);
	assert_float_equal(pl.mesh_create.transform[2], -0.5f, 1e-6);
	ef_free(f);
	struct edit *ed;
	assert_int_equal(edit_create(&(struct edit_config){ .grid = 1e-6f }, &ed), -EINVAL);
	assert_int_equal(edit_create(&(struct edit_config){ .grid = NAN }, &ed), -EINVAL);
	assert_int_equal(edit_create(&(struct edit_config){ .pick_radius = -1 }, &ed), -EINVAL);
	assert_int_equal(edit_create(&(struct edit_config){ .first_tool = 99 }, &ed), -EINVAL);
	assert_int_equal(edit_create(&(struct edit_config){ .grid = -1 }, &ed), 0);
	edit_destroy(&ed);
	assert_null(ed);
}

static void a_failing_sink_is_said(void **state)
{
	struct ef *f = ef_new(NULL);
	f->fail_submit = -ENOBUFS;
	ef_next_tool(f, 1);
	const char *m = edit_take_message(f->ed);
	assert_non_null(m);
	assert_non_null(strstr(m, "outbox is full"));
	assert_int_equal(edit_stats(f->ed)->send_errors, 1);
	/* It is tried again next frame. */
	f->fail_submit = 0;
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_TOOL_STATE), 1);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tools_cycle_and_replicate_with_tool_state),
		cmocka_unit_test(the_parameter_stays_in_range),
		cmocka_unit_test(others_tool_state_is_remembered),
		cmocka_unit_test(trigger_hysteresis_and_clicks),
		cmocka_unit_test(delete_destroys_the_object),
		cmocka_unit_test(delete_faces_and_vertices),
		cmocka_unit_test(a_stamp_snaps_to_a_face_centre_and_bad_configs_are_refused),
		cmocka_unit_test(a_failing_sink_is_said),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
