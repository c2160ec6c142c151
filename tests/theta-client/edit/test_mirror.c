/* The mirror tool (edit/edit_mirror.c): the mesh at the tip mirrored
 * about the plane through the tip along the entity's axis (th_op_mirror),
 * one mesh.patch; a plane through the mesh is refused with the reason. */
#include "edit_fix.h"

static const float at[3] = { 0, 1, -0.5f };

static void a_copy_across_the_plane_at_the_tip(void **state)
{
	struct ef *f = ef_new(NULL);
	uint64_t e = ef_cube(f, &f->other, at, 0.2f);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MIRROR), 0);
	assert_string_equal(edit_option_name(f->ed), "x");
	ef_frame(f, (float[3]){ 9, 9, 9 }, 0, 0, 0);
	ef_deliver(f);
	/* Through the middle of the cube: refused, said. */
	unsigned n = f->n;
	ef_click(f, at);
	assert_int_equal(f->n, n);
	assert_non_null(strstr(edit_take_message(f->ed), "mirror: "));
	/* 4 cm beyond the +x face: a second cube on the far side of x = 0.14. */
	ef_click(f, (float[3]){ 0.14f, 1, -0.5f });
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	ef_deliver(f);
	struct th_mesh_stats st;
	const struct th_mesh *m = ef_mesh_of(f, e);
	th_mesh_stats(m, &st);
	assert_int_equal(st.vertices, 16);
	assert_int_equal(st.faces, 12);
	float hi = 0;
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id && m->verts[v].pos[0] > hi)
			hi = m->verts[v].pos[0];
	assert_float_equal(hi, 0.38f, 1e-5); /* 0.14 + (0.14 - (-0.1)) */
	const char *why = NULL;
	assert_int_equal(th_mesh_check(m, &why), 0);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_copy_across_the_plane_at_the_tip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
