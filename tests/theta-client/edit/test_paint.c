/* The palette and the paint tool (edit/edit_palette.c, edit_paint.c): 24
 * colours, glass and metal, each a valid material.set sent before the
 * slot's first use (not when the scene holds it already); paint a face,
 * the selected faces or the whole mesh as one mesh.patch. */
#include "edit_fix.h"

#include "edit/edit_palette.h"

static void palette_has_24_colours_glass_and_metal(void **state)
{
	assert_true(EDIT_PALETTE_SLOTS >= 26);
	for (unsigned i = 0; i < EDIT_PALETTE_SLOTS; i++) {
		const struct edit_palette_entry *p = edit_palette(i);
		assert_non_null(p);
		for (unsigned k = 0; k < i; k++) {
			assert_string_not_equal(p->name, edit_palette(k)->name);
			assert_false(!memcmp(p->rgba, edit_palette(k)->rgba, sizeof p->rgba) &&
				     p->metallic == edit_palette(k)->metallic);
		}
		struct th_pl_material_set m;
		edit_palette_payload(i, &m);
		assert_int_equal(m.index, EDIT_PALETTE_BASE + i);
		uint8_t buf[256];
		assert_true(th_cmd_payload_encode(TH_CMD_MATERIAL_SET, &m, buf, sizeof buf) > 0);
	}
	assert_null(edit_palette(EDIT_PALETTE_SLOTS));
	assert_string_equal(edit_palette(EDIT_PALETTE_GLASS)->name, "glass");
	assert_true(edit_palette(EDIT_PALETTE_GLASS)->rgba[3] < 0.5f);
	assert_string_equal(edit_palette(EDIT_PALETTE_METAL)->name, "metal");
	assert_float_equal(edit_palette(EDIT_PALETTE_METAL)->metallic, 1, 0);
}

static void first_use_defines_the_material_then_paints(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PAINT), 0);
	ef_next_option(f, 11); /* blue */
	assert_string_equal(edit_option_name(f->ed), "blue");
	ef_deliver(f);
	unsigned n = f->n;
	ef_click(f, ef_top);
	assert_int_equal(f->n, n + 2);
	union th_pl_any pl;
	ef_decode(f, n, TH_CMD_MATERIAL_SET, &pl);
	assert_int_equal(pl.material_set.index, edit_palette_material(11));
	assert_string_equal(pl.material_set.name, "blue");
	ef_decode(f, n + 1, TH_CMD_MESH_PATCH, &pl);
	assert_int_equal(pl.mesh_patch.ops_count, 1);
	assert_int_equal(pl.mesh_patch.ops[0].op, TH_PL_MESH_OP_FACE_MATERIAL);
	assert_int_equal(pl.mesh_patch.ops[0].arg, edit_palette_material(11));
	ef_deliver(f);
	const struct th_mesh *m = ef_mesh_of(f, e);
	int32_t fs = th_mesh_face_find(m, pl.mesh_patch.ops[0].element);
	assert_true(fs >= 0);
	assert_int_equal(m->faces[fs].material, edit_palette_material(11));
	assert_true(th_scene_material(ef_scene(f), edit_palette_material(11))->defined);
	/* The same face again: already blue, nothing sent. */
	ef_refused(f, ef_top, "already blue");
	/* The whole mesh (stick up: parameter 1): five faces, no second material.set. */
	f->in.hand[INP_RIGHT].thumbstick[1] = 1;
	ef_frame(f, (float[3]){ 9, 9, 9 }, 0, 0, 0);
	f->in.hand[INP_RIGHT].thumbstick[1] = 0;
	ef_frame(f, (float[3]){ 9, 9, 9 }, 0, 0, 0);
	ef_deliver(f);
	n = f->n;
	ef_click(f, ef_at);
	assert_int_equal(f->n, n + 1);
	ef_decode(f, n, TH_CMD_MESH_PATCH, &pl);
	assert_int_equal(pl.mesh_patch.ops_count, 5);
	ef_deliver(f);
	m = ef_mesh_of(f, e);
	for (uint32_t i = 0; i < m->nfaces; i++)
		if (m->faces[i].id)
			assert_int_equal(m->faces[i].material, edit_palette_material(11));
	const struct edit_history *h = edit_history(f->ed);
	assert_string_equal(h->e[h->n - 1].text + strlen(h->e[h->n - 1].text) - 4, "blue");
	ef_free(f);
}

static void a_material_already_in_the_scene_is_not_sent_again(void **state)
{
	struct ef *f = ef_new(NULL);
	ef_cube(f, &f->other, ef_at, 0.2f);
	/* Another client defined metal exactly. */
	struct th_pl_material_set ms;
	edit_palette_payload(EDIT_PALETTE_METAL, &ms);
	uint8_t buf[256];
	int len = th_cmd_payload_encode(TH_CMD_MATERIAL_SET, &ms, buf, sizeof buf);
	sh_add(&f->log, &f->other, TH_CMD_MATERIAL_SET, TH_SCOPE_GLOBAL, 0, buf, (size_t)len, 0);
	ef_fold(f);
	assert_true(edit_palette_defined(ef_scene(f), EDIT_PALETTE_METAL));
	assert_false(edit_palette_defined(ef_scene(f), EDIT_PALETTE_GLASS));
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PAINT), 0);
	for (unsigned i = 0; i < EDIT_PALETTE_METAL; i++)
		ef_next_option(f, 1);
	assert_string_equal(edit_option_name(f->ed), "metal");
	ef_deliver(f);
	unsigned n = f->n;
	ef_click(f, ef_top);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	/* Nothing at the tip: said. */
	ef_click(f, (float[3]){ 4, 4, 4 });
	assert_non_null(strstr(edit_take_message(f->ed), "no face within"));
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(palette_has_24_colours_glass_and_metal),
		cmocka_unit_test(first_use_defines_the_material_then_paints),
		cmocka_unit_test(a_material_already_in_the_scene_is_not_sent_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
