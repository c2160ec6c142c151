/* The primitive tool (edit/edit_prim.c): a trigger press stamps the
 * option's primitive as one mesh.create at the tip snapped to the grid,
 * the parameter scales it, every kind makes a valid mesh. */
#include "edit_fix.h"

#include <math.h>

static void a_cube_at_the_snapped_tip(void **state)
{
	struct ef *f = ef_new(NULL);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	assert_string_equal(edit_option_name(f->ed), "cube");
	ef_frame(f, (float[3]){ 9, 9, 9 }, 0, 0, 0);
	ef_deliver(f);
	unsigned n = f->n;
	ef_click(f, (float[3]){ 0.1234f, 1.2071f, -0.4449f });
	assert_int_equal(f->n, n + 1);
	union th_pl_any pl;
	ef_decode(f, n, TH_CMD_MESH_CREATE, &pl);
	assert_float_equal(pl.mesh_create.transform[0], 0.12f, 1e-6);
	assert_float_equal(pl.mesh_create.transform[1], 1.21f, 1e-6);
	assert_float_equal(pl.mesh_create.transform[2], -0.44f, 1e-6);
	assert_float_equal(pl.mesh_create.transform[6], 1, 0);
	ef_deliver(f);
	const struct th_logrec_entry *e = &f->log.v[f->log.n - 1].e;
	uint64_t id = th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0);
	const struct th_mesh *m = ef_mesh_of(f, id);
	struct th_mesh_stats st;
	th_mesh_stats(m, &st);
	assert_int_equal(st.vertices, 8);
	assert_int_equal(st.faces, 6);
	/* 20 cm across (the default size). */
	float lo = 1, hi = -1;
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id) {
			lo = fminf(lo, m->verts[v].pos[0]);
			hi = fmaxf(hi, m->verts[v].pos[0]);
		}
	assert_float_equal(hi - lo, 0.2f, 1e-5);
	assert_non_null(strstr(ef_last_text(f), "stamp a cube (0.20 m) at (0.12, 1.21, -0.44)"));
	ef_free(f);
}

static void every_kind_and_the_size_parameter(void **state)
{
	struct ef *f = ef_new(NULL);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	/* Two steps up: 0.2 * 1.25^2 = 0.3125 m. */
	for (int i = 0; i < 2; i++) {
		f->in.hand[INP_RIGHT].thumbstick[1] = 1;
		ef_frame(f, (float[3]){ 9, 9, 9 }, 0, 0, 0);
		f->in.hand[INP_RIGHT].thumbstick[1] = 0;
		ef_frame(f, (float[3]){ 9, 9, 9 }, 0, 0, 0);
	}
	ef_deliver(f);
	const char *names[] = { "cube", "uv sphere", "icosphere", "cylinder", "cone", "torus", "plane" };
	for (unsigned k = 0; k < 7; k++) {
		assert_string_equal(edit_option_name(f->ed), names[k]);
		unsigned n = f->n;
		ef_click(f, (float[3]){ (float)k, 1, 0 });
		assert_int_equal(f->n, n + 1);
		assert_int_equal(f->cmds[n].type, TH_CMD_MESH_CREATE);
		ef_deliver(f);
		const struct th_logrec_entry *e = &f->log.v[f->log.n - 1].e;
		const struct th_mesh *m = ef_mesh_of(f, th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0));
		const char *why = NULL;
		assert_int_equal(th_mesh_check(m, &why), 0);
		assert_true(m->live_faces > 0);
		float hi = -10;
		for (uint32_t v = 0; v < m->nverts; v++)
			if (m->verts[v].id)
				hi = fmaxf(hi, m->verts[v].pos[0]);
		/* The default's extent along x, scaled to 0.3125 of its 1 m. */
		static const uint32_t kinds[] = { TH_PRIM_CUBE, TH_PRIM_UVSPHERE, TH_PRIM_ICOSPHERE, TH_PRIM_CYLINDER,
						  TH_PRIM_CONE, TH_PRIM_TORUS, TH_PRIM_PLANE };
		struct th_prim d;
		th_prim_defaults(&d, kinds[k]);
		float ext = kinds[k] == TH_PRIM_TORUS ? d.radius + d.radius2
			    : kinds[k] == TH_PRIM_CUBE || kinds[k] == TH_PRIM_PLANE ? d.size[0] / 2 : d.radius;
		assert_float_equal(hi, 0.3125f * ext, 0.3125f * ext * 0.02f);
		ef_next_option(f, 1);
		ef_deliver(f);
	}
	assert_string_equal(edit_option_name(f->ed), "cube"); /* wrapped round */
	ef_free(f);
}

static void a_stamp_on_its_way_is_not_acted_on(void **state)
{
	struct ef *f = ef_new(NULL);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	ef_settle(f);
	unsigned n = f->n;
	const float at[3] = { 0, 1, -0.5f };
	ef_click(f, at);
	assert_int_equal(f->n, n + 1);
	/* Sent as client seq 77 and shown as the mirror shows it: a tentative
	 * with the all-zero author and seq 77. */
	struct ef_cmd *c = &f->cmds[n];
	edit_on_sent(f->ed, c->tag, 77);
	struct th_logrec_entry te = { .version = 2, .type = c->type, .seq = 77, .payload_len = c->len,
				      .payload = c->payload };
	struct th_scene_refusal why;
	assert_int_equal(th_fold_tentative_add(f->fold, 77, &te, &why), 0);
	static const uint8_t zero[32];
	uint64_t provisional = th_id_derive(TH_ID_ENTITY, zero, 77, 0);
	assert_true(th_scene_has_entity(ef_scene(f), provisional));
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_click(f, at);
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	assert_non_null(strstr(edit_take_message(f->ed), "on its way"));
	/* Answered and folded: the real entity is selectable. */
	assert_int_equal(th_fold_tentative_drop(f->fold, 77), 0);
	f->client_seq = 77;
	f->delivered = n; /* ef_deliver logs it as the next seq; the tag maps again */
	ef_deliver(f);
	ef_click(f, at);
	assert_int_not_equal(edit_selection(f->ed)->entity, 0);
	assert_int_not_equal(edit_selection(f->ed)->entity, provisional);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_cube_at_the_snapped_tip),
		cmocka_unit_test(every_kind_and_the_size_parameter),
		cmocka_unit_test(a_stamp_on_its_way_is_not_acted_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
