/* The select tool and the replicated selection (edit/edit_select.c): a
 * click picks an object, a face, an edge or a vertex in the tool's mode;
 * the grip adds and toggles; an empty click clears. The selection reaches
 * the scene as the entity's Selection component with the user as owner
 * (once the log has told the client its key), and goes away from the
 * entity it leaves. */
#include "edit_fix.h"

static uint64_t my_owner(struct ef *f)
{
	return edit_owner_of(f->me.kp.pk);
}

static void a_face_click_replicates_with_the_user_as_owner(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_next_option(f, 1); /* face */
	assert_string_equal(edit_option_name(f->ed), "face");
	ef_click(f, ef_top);
	const struct edit_selection *s = edit_selection(f->ed);
	assert_int_equal(s->entity, e);
	assert_int_equal(s->mode, TH_SELECT_FACE);
	assert_int_equal(s->n, 1);
	/* The key is not known yet: the tool state goes out first and its
	 * entry brings the key back; no Selection was written. */
	assert_int_equal(edit_owner(f->ed), 0);
	assert_int_equal(ef_count(f, TH_CMD_COMPONENT_WRITE), 0);
	assert_int_equal(ef_count(f, TH_CMD_TOOL_STATE), 1);
	ef_deliver(f);
	assert_int_equal(edit_owner(f->ed), my_owner(f));
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_COMPONENT_WRITE), 1);
	ef_deliver(f);
	const struct th_c_selection *sel = ef_selection(f, e);
	assert_non_null(sel);
	assert_int_equal(sel->owner, my_owner(f));
	assert_int_equal(sel->mode, TH_SELECT_FACE);
	assert_int_equal(sel->element, s->el[0].id);
	/* Nothing changed: nothing more is written. */
	unsigned n = f->n;
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(f->n, n);
	ef_free(f);
}

static void grip_adds_and_toggles_an_empty_click_clears(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_next_option(f, 1);
	ef_click(f, ef_top);
	ef_publish(f);
	f->in.hand[INP_RIGHT].grip = 1;
	ef_click(f, ef_front);
	const struct edit_selection *s = edit_selection(f->ed);
	assert_int_equal(s->n, 2);
	uint64_t front_face = s->el[1].id;
	ef_deliver(f);
	assert_int_equal(ef_selection(f, e)->element, front_face);
	/* Again with the grip: the front face leaves the selection. */
	ef_click(f, ef_front);
	assert_int_equal(s->n, 1);
	assert_true(s->el[0].id != front_face);
	f->in.hand[INP_RIGHT].grip = 0;
	ef_deliver(f);
	/* An empty click: cleared, and the Selection leaves the entity. */
	ef_click(f, ef_nowhere);
	assert_int_equal(s->entity, 0);
	assert_int_equal(f->cmds[f->n - 1].type, TH_CMD_COMPONENT_REMOVE);
	assert_int_equal(f->cmds[f->n - 1].scope, e);
	ef_deliver(f);
	assert_null(ef_selection(f, e));
	ef_free(f);
}

static void modes_edge_vertex_object(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	const struct th_mesh *m = ef_mesh_of(f, e);
	ef_next_option(f, 2); /* edge */
	ef_click(f, (float[3]){ 0, 1.11f, -0.39f });
	const struct edit_selection *s = edit_selection(f->ed);
	assert_int_equal(s->mode, TH_SELECT_EDGE);
	assert_int_equal(s->el[0].id, th_mesh_edge_id(s->el[0].a, s->el[0].b));
	ef_next_option(f, 1); /* vertex */
	ef_click(f, (float[3]){ 0.11f, 1.11f, -0.39f });
	assert_int_equal(s->mode, TH_SELECT_VERTEX);
	assert_true(th_mesh_vert_find(m, s->el[0].id) >= 0);
	ef_next_option(f, 1); /* object */
	assert_string_equal(edit_option_name(f->ed), "object");
	ef_click(f, ef_at);
	assert_int_equal(s->mode, TH_SELECT_OBJECT);
	assert_int_equal(s->n, 0);
	ef_publish(f);
	assert_int_equal(ef_selection(f, e)->element, TH_SELECT_WHOLE);
	assert_int_equal(ef_selection(f, e)->mode, TH_SELECT_OBJECT);
	ef_free(f);
}

static void moving_to_another_entity_and_losing_one(void **state)
{
	struct ef *f = ef_new(NULL);
	uint64_t a = ef_cube(f, &f->other, ef_at, 0.2f);
	uint64_t b = ef_cube(f, &f->other, (float[3]){ 1, 1, -0.5f }, 0.2f);
	ef_click(f, ef_at);
	ef_publish(f);
	assert_non_null(ef_selection(f, a));
	ef_click(f, (float[3]){ 1, 1, -0.5f });
	ef_deliver(f);
	assert_null(ef_selection(f, a));
	assert_int_equal(ef_selection(f, b)->owner, my_owner(f));
	/* Someone else deletes b: the selection goes, nothing is sent for it. */
	sh_add(&f->log, &f->other, TH_CMD_ENTITY_DESTROY, TH_SCOPE_ENTITY, b, NULL, 0, 0);
	ef_fold(f);
	unsigned n = f->n;
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	assert_int_equal(f->n, n);
	ef_free(f);
}

static void one_tool_state_brings_the_key_and_others_selections_count(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	uint64_t e2 = ef_cube(f, &f->other, (float[3]){ 1, 1, -0.5f }, 0.2f);
	ef_click(f, ef_at);
	assert_int_equal(ef_count(f, TH_CMD_TOOL_STATE), 1);
	/* Acknowledged, its log entry not yet here: no second tool.state. */
	struct ef_cmd *c = &f->cmds[0];
	edit_on_sent(f->ed, c->tag, 1);
	long i = sh_add(&f->log, &f->me, c->type, TH_SCOPE_TOOL, c->scope, c->payload, c->len, 0);
	edit_on_answer(f->ed, 1, false, f->log.v[i].e.lamport, f->log.v[i].e.seq);
	f->delivered = 1;
	f->client_seq = 1;
	for (int k = 0; k < 5; k++)
		ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(ef_count(f, TH_CMD_TOOL_STATE), 1);
	ef_fold(f); /* the entry: the key */
	ef_frame(f, ef_nowhere, 0, 0, 0);
	assert_int_equal(ef_count_writes(f, TH_COMP_SELECTION), 1);
	ef_deliver(f);
	/* Another user selects the second cube. */
	struct th_c_selection sel = { .owner = edit_owner_of(f->other.kp.pk), .mode = TH_SELECT_OBJECT };
	uint8_t value[64];
	int n = th_schema_encode(th_component_record(TH_COMP_SELECTION), &sel, value, sizeof value);
	struct th_pl_component_write cw = { .component = th_component_id(TH_COMP_SELECTION), .value = value,
					    .value_len = (uint16_t)n };
	uint8_t buf[256];
	int len = th_cmd_payload_encode(TH_CMD_COMPONENT_WRITE, &cw, buf, sizeof buf);
	sh_add(&f->log, &f->other, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, e2, buf, (size_t)len, 0);
	ef_fold(f);
	unsigned others;
	assert_int_equal(edit_selections(f->ed, ef_scene(f), &others), 2);
	assert_int_equal(others, 1);
	assert_int_equal(ef_selection(f, e2)->owner, edit_owner_of(f->other.kp.pk));
	assert_int_equal(ef_selection(f, e)->owner, my_owner(f));
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_face_click_replicates_with_the_user_as_owner),
		cmocka_unit_test(grip_adds_and_toggles_an_empty_click_clears),
		cmocka_unit_test(modes_edge_vertex_object),
		cmocka_unit_test(moving_to_another_entity_and_losing_one),
		cmocka_unit_test(one_tool_state_brings_the_key_and_others_selections_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
