/* The vertex tool (edit/edit_vertex.c): a vertex on the edge at the tip
 * (the faces either side gain it), inside the face at the tip (a fan), or
 * free in the selected mesh; each one mesh.patch the scene takes. */
#include "edit_fix.h"

static void on_an_edge_in_a_face_and_free(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_use_tool(f, EDIT_TOOL_VERTEX);
	/* On the top front edge, a quarter along. */
	ef_click(f, (float[3]){ -0.05f, 1.1f, -0.4f });
	ef_deliver(f);
	ef_mesh_is(f, e, 9, 6, NULL);
	assert_non_null(strstr(ef_last_edit(f), "on an edge"));
	/* In the bottom face, away from its edges: a fan of triangles. */
	ef_click(f, (float[3]){ 0.03f, 0.9f, -0.47f });
	ef_deliver(f);
	ef_mesh_is(f, e, 10, 9, NULL);
	/* Far from everything with nothing selected: said. */
	ef_click(f, (float[3]){ 0, 1.5f, -0.5f });
	assert_non_null(strstr(edit_take_message(f->ed), "select a mesh"));
	/* With the cube selected: a free vertex, snapped. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_click(f, ef_at);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_VERTEX), 0);
	ef_deliver(f);
	ef_click(f, (float[3]){ 0.004f, 1.503f, -0.5f });
	ef_deliver(f);
	ef_mesh_is(f, e, 11, 9, NULL);
	assert_non_null(strstr(ef_last_edit(f), "free vertex"));
	assert_non_null(strstr(ef_last_edit(f), "(0.00, 1.50, -0.50)"));
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(on_an_edge_in_a_face_and_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
