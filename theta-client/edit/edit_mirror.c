/* The mirror tool: the trigger mirrors the whole mesh at the tip about the
 * plane through the tip (snapped to the grid) whose normal is the entity's
 * own x, y or z axis (the option): th_op_mirror adds the mirrored copy,
 * welding what lies on the plane, as one mesh.patch. */
#include "edit/edit_int.h"

#include <stdio.h>

static const char *const mirror_options[] = { "x", "y", "z" };

static uint32_t mirror_mode(unsigned option, int param)
{
	(void)option, (void)param;
	return TH_SELECT_OBJECT;
}

static void mirror_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	unsigned axis = in->option % 3;
	struct edit_hit hit;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_pick_tool(ed, in, mirror_mode(in->option, in->param), "mirror", &hit, &t, &m))
		return;
	float p[3] = { in->tip[0], in->tip[1], in->tip[2] }, point[3], normal[3] = { 0, 0, 0 };
	edit_snap_point(ed, p);
	edit_xf_point_to_local(t, p, point);
	normal[axis] = 1;
	th_patch_clear(&ed->patch);
	const char *why = NULL;
	int rv = th_op_mirror(m, point, normal, EDIT_MIRROR_WELD, &ed->patch, &why);
	char text[EDIT_HISTORY_TEXT], b[20];
	snprintf(text, sizeof text, "mirror mesh %s across its %s plane at %.2f", edit_short_id(m->id, b),
		 mirror_options[axis], point[axis]);
	edit_op_send(ed, "mirror", rv, why, NULL, NULL, m->id, text);
}

const struct edit_tool_ops edit_tool_mirror = {
	.tool = EDIT_TOOL_MIRROR, .name = "mirror", .noptions = 3, .options = mirror_options, .frame = mirror_frame,
	.mode = mirror_mode,
};
