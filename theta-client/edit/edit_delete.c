/* The delete tool: the trigger deletes what the tip is at in the tool's
 * mode (the selection when the tip is on it): a whole object is an
 * entity.destroy (its mesh stays in the scene for undo); faces, edges and
 * vertices one mesh.patch of th_op_delete (what is left dangling goes too). */
#include "edit/edit_int.h"

#include <stdio.h>

#include "th_cmd.h"

static const char *const delete_options[] = { "object", "face", "edge", "vertex" };

static uint32_t delete_mode(unsigned option, int param)
{
	(void)param;
	return option; /* the options are the four TH_SELECT_* in order */
}

static void delete_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	struct edit_hit hit;
	float r = edit_pick_radius(ed);
	int got = edit_pick_at(ed, in, r, delete_mode(in->option, in->param), &hit);
	if (got <= 0) {
		if (got == 0)
			edit_say(ed, "delete: nothing within %.0f cm of the controller", r * 100);
		return;
	}
	char text[EDIT_HISTORY_TEXT], b[20];
	if (hit.mode != TH_SELECT_OBJECT) {
		const struct th_c_transform *t;
		const struct th_mesh *m;
		if (!edit_entity_mesh(in->sc, hit.entity, &t, &m))
			return;
		uint64_t ids[EDIT_SELECT_MAX], ea[EDIT_SELECT_MAX], eb[EDIT_SELECT_MAX];
		unsigned n = edit_sel_or_hit(ed, &hit, ids, ea, eb);
		th_patch_clear(&ed->patch);
		const char *why = NULL;
		int rv = hit.mode == TH_SELECT_FACE ? th_op_delete(m, NULL, 0, NULL, NULL, 0, ids, n, &ed->patch, &why)
			 : hit.mode == TH_SELECT_EDGE ? th_op_delete(m, NULL, 0, ea, eb, n, NULL, 0, &ed->patch, &why)
						       : th_op_delete(m, ids, n, NULL, NULL, 0, NULL, 0, &ed->patch, &why);
		static const char *const one[] = { "object", "face", "edge", "vertex" },
					 *const many[] = { "objects", "faces", "edges", "vertices" };
		snprintf(text, sizeof text, "delete %u %s of mesh %s", n, n == 1 ? one[hit.mode] : many[hit.mode],
			 edit_short_id(m->id, b));
		edit_op_send(ed, "delete", rv, why, NULL, NULL, m->id, text);
		return;
	}
	snprintf(text, sizeof text, "delete mesh %s", edit_short_id(hit.mesh, b));
	static const struct th_pl_entity_destroy none;
	if (edit_send(ed, TH_CMD_ENTITY_DESTROY, hit.entity, &none, EDIT_H_EDIT, 0, text) < 0)
		return;
	if (ed->sel_published == hit.entity)
		ed->sel_published = 0; /* its Selection goes with it */
	if (ed->sel.entity == hit.entity)
		edit_sel_clear(ed);
}

const struct edit_tool_ops edit_tool_delete = {
	.tool = EDIT_TOOL_DELETE, .name = "delete", .noptions = 4, .options = delete_options, .frame = delete_frame,
	.mode = delete_mode,
};
