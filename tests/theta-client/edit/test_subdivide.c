/* The subdivide tool (edit/edit_subdiv.c): the face at the tip (or the
 * selected faces) subdivided, or the whole mesh smoothed (Catmull-Clark),
 * as one mesh.patch the scene takes. */
#include "edit_fix.h"

static void a_face_then_the_whole_mesh(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_use_tool(f, EDIT_TOOL_SUBDIVIDE);
	assert_string_equal(edit_option_name(f->ed), "faces");
	unsigned n = f->n;
	ef_click(f, ef_top);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	ef_deliver(f);
	struct th_mesh_stats st;
	ef_mesh_is(f, e, 13, 9, &st); /* the top as 4 quads, 5 others */
	ef_next_option(f, 1);
	assert_string_equal(edit_option_name(f->ed), "smooth");
	ef_deliver(f);
	ef_click(f, ef_at);
	ef_deliver(f);
	th_mesh_stats(ef_mesh_of(f, e), &st);
	assert_int_equal(st.euler, 2);
	assert_true(st.faces > 9 * 3);
	const char *why = NULL;
	assert_int_equal(th_mesh_check(ef_mesh_of(f, e), &why), 0);
	assert_non_null(strstr(ef_last_text(f), "Catmull-Clark, 1 level"));
	/* Nothing at the tip. */
	ef_refused(f, (float[3]){ 4, 4, 4 }, "no mesh within");
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_face_then_the_whole_mesh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
