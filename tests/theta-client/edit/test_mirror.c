/* The mirror tool (edit/edit_mirror.c): the mesh at the tip mirrored
 * about the plane through the tip along the entity's axis (th_op_mirror),
 * one mesh.patch; a plane through the mesh is refused with the reason. */
#include "edit_fix.h"

static void a_copy_across_the_plane_at_the_tip(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_use_tool(f, EDIT_TOOL_MIRROR);
	assert_string_equal(edit_option_name(f->ed), "x");
	/* Through the middle of the cube: refused, said. */
	unsigned n = f->n;
	ef_refused(f, ef_at, "mirror: ");
	/* 4 cm beyond the +x face: a second cube on the far side of x = 0.14. */
	ef_click(f, (float[3]){ 0.14f, 1, -0.5f });
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	ef_deliver(f);
	ef_mesh_is(f, e, 16, 12, NULL);
	assert_float_equal(ef_max_coord(ef_mesh_of(f, e), 0), 0.38f, 1e-5); /* 0.14 + (0.14 - (-0.1)) */
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_copy_across_the_plane_at_the_tip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
