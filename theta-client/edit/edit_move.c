/* The move tool: grab with the trigger (the selection when the tip is on
 * it, else what the tip picks in the tool's mode), drag (the preview
 * follows the hand every frame), release: one command, a component.write of
 * the Transform for a whole object. The drag is snapped to the grid. */
#include "edit/edit_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const move_options[] = { "object", "face", "edge", "vertex" };

/* The world displacement of the drag so far, snapped. */
static void drag_delta(const struct edit *ed, const float tip[3], float d[3])
{
	for (int k = 0; k < 3; k++)
		d[k] = edit_snap_length(ed, tip[k] - ed->drag.start[k]);
}

static bool grab(struct edit *ed, const struct edit_in *in)
{
	struct edit_hit hit;
	float r = edit_pick_radius(ed);
	bool on_sel = ed->sel.entity && edit_pick_entity(in->sc, ed->sel.entity, in->tip, r, ed->sel.mode, &hit) &&
		      edit_sel_has(ed, &hit);
	if (!on_sel) {
		if (!edit_pick(in->sc, in->tip, r, in->option, &hit)) {
			edit_say(ed, "move: nothing within %.0f cm of the controller to grab", r * 100);
			return false;
		}
		edit_sel_take(ed, &hit, false);
	}
	if (ed->sel.mode != TH_SELECT_OBJECT) {
		edit_say(ed, "move: moving faces, edges and vertices comes with the transform operation; "
			     "grab the whole object (option object)");
		return false;
	}
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_entity_mesh(in->sc, ed->sel.entity, &t, &m) || edit_preview_begin(ed, in->sc, ed->sel.entity) < 0)
		return false;
	ed->drag = (struct edit_drag){ .on = true, .entity = ed->sel.entity, .mesh = m->id, .xf0 = *t, .whole = true };
	memcpy(ed->drag.start, in->tip, sizeof ed->drag.start);
	return true;
}

static void moved_transform(const struct edit *ed, const float d[3], struct th_c_transform *xf)
{
	*xf = ed->drag.xf0;
	for (int k = 0; k < 3; k++)
		xf->position[k] += d[k];
}

static void move_frame(struct edit *ed, const struct edit_in *in)
{
	if (!ed->drag.on) {
		if (in->act_down && in->tracked)
			grab(ed, in);
		return;
	}
	float d[3];
	drag_delta(ed, in->tip, d);
	struct th_c_transform xf;
	moved_transform(ed, d, &xf);
	if (in->act_held) {
		if (in->tracked)
			edit_preview_transform(ed, &xf);
		return;
	}
	/* Released: one command for the whole drag. */
	ed->drag.on = false;
	edit_preview_end(ed);
	if (sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) < EDIT_DRAG_MIN)
		return;
	char text[EDIT_HISTORY_TEXT], b[20];
	snprintf(text, sizeof text, "move mesh %s by (%.3f, %.3f, %.3f)", edit_short_id(ed->drag.mesh, b), d[0], d[1],
		 d[2]);
	edit_send_transform(ed, ed->drag.entity, &xf, text);
}

const struct edit_tool_ops edit_tool_move = {
	.tool = EDIT_TOOL_MOVE, .name = "move", .noptions = 4, .options = move_options, .frame = move_frame,
};
