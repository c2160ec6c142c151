/* The extrude tool (edit/edit_extrude.c): grab a face, pull along its
 * normal: previewed every frame on a copy, one mesh.patch on release
 * (the cube's top pulled 5 cm: 10 faces, 12 vertices); a region of
 * selected faces; a boundary edge of a plane pulled by the hand's
 * displacement; a pull under 1 mm sends nothing. */
#include "edit_fix.h"

#include <math.h>

static void the_cube_top_pulled_up(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_use_tool(f, EDIT_TOOL_EXTRUDE);
	unsigned n = f->n;
	ef_frame(f, ef_top, 1, 0, 0);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active);
	for (int i = 1; i <= 5; i++) {
		ef_frame(f, (float[3]){ ef_top[0] + 0.02f, ef_top[1] + 0.01f * (float)i, ef_top[2] }, 1, 0, 0);
		struct th_mesh_stats st;
		th_mesh_stats(pv->m, &st);
		assert_int_equal(st.faces, 10);
		assert_int_equal(st.vertices, 12);
	}
	/* The preview's top is at 0.15; the scene's cube is untouched. */
	assert_float_equal(ef_max_coord(pv->m, 1), 0.15f, 1e-5);
	struct th_mesh_stats st;
	ef_mesh_is(f, e, 8, 6, NULL);
	assert_int_equal(f->n, n);
	ef_frame(f, (float[3]){ ef_top[0], ef_top[1] + 0.05f, ef_top[2] }, 0, 0, 0);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	ef_deliver(f);
	ef_mesh_is(f, e, 12, 10, &st);
	assert_int_equal(st.euler, 2);
	assert_float_equal(ef_max_coord(ef_mesh_of(f, e), 1), 0.15f, 1e-5);
	assert_non_null(strstr(ef_last_text(f), "extrude 1 face of mesh"));
	assert_non_null(strstr(ef_last_text(f), "by 0.050 m"));
	/* A pull of half a millimetre: nothing. */
	n = f->n;
	ef_frame(f, (float[3]){ 0, 1.16f, -0.5f }, 1, 0, 0);
	ef_frame(f, (float[3]){ 0, 1.1604f, -0.5f }, 0, 0, 0);
	assert_int_equal(f->n, n);
	ef_free(f);
}

static void a_region_of_selected_faces(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	/* Select the top and the +z face. */
	ef_select_two(f, 1, "face", ef_top, ef_front);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_EXTRUDE), 0);
	ef_next_option(f, 1);
	assert_string_equal(edit_option_name(f->ed), "region");
	ef_publish(f);
	unsigned n = f->n;
	ef_frame(f, ef_top, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_top[0], ef_top[1] + 0.05f, ef_top[2] + 0.05f }, 1, 0, 0);
	ef_frame(f, (float[3]){ ef_top[0], ef_top[1] + 0.05f, ef_top[2] + 0.05f }, 0, 0, 0);
	assert_int_equal(f->n, n + 1);
	ef_deliver(f);
	struct th_mesh_stats st;
	th_mesh_stats(ef_mesh_of(f, e), &st);
	/* Two faces moved as one piece: walls only on the region's border (6). */
	assert_int_equal(st.faces, 6 + 6);
	assert_int_equal(st.euler, 2);
	assert_non_null(strstr(ef_last_text(f), "extrude 2 region faces"));
	ef_free(f);
}

static void a_plane_edge_pulled_by_the_hand(void **state)
{
	struct ef *f = ef_new(NULL);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	ef_next_option(f, 6);
	assert_string_equal(edit_option_name(f->ed), "plane");
	ef_deliver(f);
	ef_click(f, ef_at);
	ef_deliver(f);
	uint64_t e = ef_newest_entity(f);
	struct th_mesh_stats st;
	th_mesh_stats(ef_mesh_of(f, e), &st);
	uint32_t faces = st.faces;
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_EXTRUDE), 0);
	ef_next_option(f, 2);
	assert_string_equal(edit_option_name(f->ed), "edges");
	ef_deliver(f);
	/* The plane (20 cm, facing +y): its +x border at x = 0.1. */
	float edge[3] = { 0.1f, 1.005f, -0.5f };
	ef_settle(f);
	unsigned n = f->n;
	ef_frame(f, edge, 1, 0, 0);
	ef_frame(f, (float[3]){ edge[0] + 0.1f, edge[1], edge[2] }, 1, 0, 0);
	ef_frame(f, (float[3]){ edge[0] + 0.1f, edge[1], edge[2] }, 0, 0, 0);
	assert_int_equal(f->n, n + 1);
	ef_deliver(f);
	th_mesh_stats(ef_mesh_of(f, e), &st);
	assert_int_equal(st.faces, faces + 1);
	assert_float_equal(ef_max_coord(ef_mesh_of(f, e), 0), 0.2f, 1e-5);
	/* A cube has no boundary edge: said. */
	ef_cube(f, &f->other, (float[3]){ 2, 1, 0 }, 0.2f);
	ef_frame(f, (float[3]){ 2.1f, 1.1f, 0 }, 1, 0, 0);
	ef_frame(f, (float[3]){ 2.2f, 1.1f, 0 }, 1, 0, 0);
	ef_frame(f, (float[3]){ 2.2f, 1.1f, 0 }, 0, 0, 0);
	assert_non_null(edit_take_message(f->ed));
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_cube_top_pulled_up),
		cmocka_unit_test(a_region_of_selected_faces),
		cmocka_unit_test(a_plane_edge_pulled_by_the_hand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
