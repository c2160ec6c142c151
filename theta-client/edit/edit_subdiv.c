/* The subdivide tool: option "faces": the trigger subdivides the face at
 * the tip (the selected faces when it is one of them; th_op_subdivide);
 * option "smooth": Catmull-Clark of the whole mesh at the tip
 * (th_op_catmull_clark), 1 + parameter levels (1..TH_OP_CC_LEVELS_MAX).
 * One mesh.patch each; a patch too large for one command is refused with
 * its size. */
#include "edit/edit_int.h"

#include <stdio.h>

static const char *const subdiv_options[] = { "faces", "smooth" };

static uint32_t subdiv_mode(unsigned option, int param)
{
	(void)param;
	return option % 2 == 1 ? TH_SELECT_OBJECT : TH_SELECT_FACE; /* smooth: the whole mesh */
}

static void subdiv_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	bool smooth = in->option % 2 == 1;
	struct edit_hit hit;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_pick_tool(ed, in, subdiv_mode(in->option, in->param), "subdivide", &hit, &t, &m))
		return;
	th_patch_clear(&ed->patch);
	const char *why = NULL;
	char text[EDIT_HISTORY_TEXT], b[20];
	int rv;
	if (smooth) {
		int levels = 1 + in->param;
		levels = levels < 1 ? 1 : levels > (int)TH_OP_CC_LEVELS_MAX ? (int)TH_OP_CC_LEVELS_MAX : levels;
		rv = th_op_catmull_clark(m, (unsigned)levels, &ed->patch, &why);
		snprintf(text, sizeof text, "smooth mesh %s (Catmull-Clark, %d level%s)", edit_short_id(m->id, b), levels,
			 levels == 1 ? "" : "s");
	} else {
		uint64_t faces[EDIT_SELECT_MAX];
		unsigned nf = edit_sel_or_hit(ed, &hit, faces, NULL, NULL);
		rv = th_op_subdivide(m, faces, nf, &ed->patch, &why);
		snprintf(text, sizeof text, "subdivide %u face%s of mesh %s", nf, nf == 1 ? "" : "s",
			 edit_short_id(m->id, b));
	}
	edit_op_send(ed, "subdivide", rv, why, "result", "faces", m->id, text);
}

const struct edit_tool_ops edit_tool_subdivide = {
	.tool = EDIT_TOOL_SUBDIVIDE, .name = "subdivide", .noptions = 2, .options = subdiv_options,
	.frame = subdiv_frame, .mode = subdiv_mode,
};
