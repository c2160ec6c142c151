/* The delete tool: the trigger deletes what the tip is at in the tool's
 * mode (the selection when the tip is on it): a whole object is an
 * entity.destroy (its mesh stays in the scene for undo). */
#include "edit/edit_int.h"

#include <stdio.h>

#include "th_cmd.h"

static const char *const delete_options[] = { "object", "face", "edge", "vertex" };

static void delete_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	struct edit_hit hit;
	float r = edit_pick_radius(ed);
	if (!edit_pick(in->sc, in->tip, r, in->option, &hit)) {
		edit_say(ed, "delete: nothing within %.0f cm of the controller", r * 100);
		return;
	}
	if (hit.mode != TH_SELECT_OBJECT) {
		edit_say(ed, "delete: deleting faces, edges and vertices comes with the delete operation; "
			     "delete the whole object (option object)");
		return;
	}
	char text[EDIT_HISTORY_TEXT], b[20];
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
};
