/* The vertex tool (edit/edit_vertex.c): a vertex on the edge at the tip
 * (the faces either side gain it), inside the face at the tip (a fan), or
 * free in the selected mesh; each one mesh.patch the scene takes. */
#include "edit_fix.h"

static const float at[3] = { 0, 1, -0.5f };
static const float nowhere[3] = { 9, 9, 9 };

static void stats(struct ef *f, uint64_t e, uint32_t v, uint32_t fc)
{
	struct th_mesh_stats st;
	const struct th_mesh *m = ef_mesh_of(f, e);
	th_mesh_stats(m, &st);
	assert_int_equal(st.vertices, v);
	assert_int_equal(st.faces, fc);
	const char *why = NULL;
	assert_int_equal(th_mesh_check(m, &why), 0);
}

/* The newest edit's description. */
static const char *last_edit(struct ef *f)
{
	const struct edit_history *h = edit_history(f->ed);
	for (unsigned i = h->n; i-- > 0;)
		if (h->e[i].kind == EDIT_H_EDIT)
			return h->e[i].text;
	return "";
}

static void on_an_edge_in_a_face_and_free(void **state)
{
	struct ef *f = ef_new(NULL);
	uint64_t e = ef_cube(f, &f->other, at, 0.2f);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_VERTEX), 0);
	ef_frame(f, nowhere, 0, 0, 0);
	ef_deliver(f);
	/* On the top front edge, a quarter along. */
	ef_click(f, (float[3]){ -0.05f, 1.1f, -0.4f });
	ef_deliver(f);
	stats(f, e, 9, 6);
	assert_non_null(strstr(last_edit(f), "on an edge"));
	/* In the bottom face, away from its edges: a fan of triangles. */
	ef_click(f, (float[3]){ 0.03f, 0.9f, -0.47f });
	ef_deliver(f);
	stats(f, e, 10, 9);
	/* Far from everything with nothing selected: said. */
	ef_click(f, (float[3]){ 0, 1.5f, -0.5f });
	assert_non_null(strstr(edit_take_message(f->ed), "select a mesh"));
	/* With the cube selected: a free vertex, snapped. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_click(f, at);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_VERTEX), 0);
	ef_deliver(f);
	ef_click(f, (float[3]){ 0.004f, 1.503f, -0.5f });
	ef_deliver(f);
	stats(f, e, 11, 9);
	assert_non_null(strstr(last_edit(f), "free vertex"));
	assert_non_null(strstr(last_edit(f), "(0.00, 1.50, -0.50)"));
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(on_an_edge_in_a_face_and_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
