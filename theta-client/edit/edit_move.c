/* The move tool: grab with the trigger (the selection when the tip is on
 * it, else what the tip picks in the tool's mode), drag (the preview
 * follows the hand every frame), release: one command, a component.write of
 * the Transform for a whole object, a mesh.patch (th_op_transform) for
 * faces, edges and vertices. The drag is snapped to the grid; a whole
 * object also turns with the hand about the grab point, snapped to 15
 * degree steps (th_snap_rotation). */
#include "edit/edit_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "th_snap.h"

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
		int got = edit_pick_at(ed, in, r, in->option, &hit);
		if (got <= 0) {
			if (got == 0)
				edit_say(ed, "move: nothing within %.0f cm of the controller to grab", r * 100);
			return false;
		}
		edit_sel_take(ed, &hit, false);
	}
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_entity_mesh(in->sc, ed->sel.entity, &t, &m))
		return false;
	struct edit_drag *d = &ed->drag;
	*d = (struct edit_drag){ .entity = ed->sel.entity, .mesh = m->id, .xf0 = *t,
				 .whole = ed->sel.mode == TH_SELECT_OBJECT };
	if (!d->whole) {
		uint64_t ids[EDIT_SELECT_MAX], ea[EDIT_SELECT_MAX], eb[EDIT_SELECT_MAX];
		unsigned n = 0;
		for (unsigned i = 0; i < ed->sel.n; i++) {
			ids[n] = ed->sel.el[i].id;
			ea[n] = ed->sel.el[i].a;
			eb[n++] = ed->sel.el[i].b;
		}
		int nv;
		if (ed->sel.mode == TH_SELECT_VERTEX) {
			memcpy(d->verts, ids, n * sizeof ids[0]);
			nv = (int)n;
		} else if (ed->sel.mode == TH_SELECT_FACE) {
			nv = th_op_vertices_of(m, ids, n, NULL, NULL, 0, d->verts, sizeof d->verts / sizeof d->verts[0]);
		} else {
			nv = th_op_vertices_of(m, NULL, 0, ea, eb, n, d->verts, sizeof d->verts / sizeof d->verts[0]);
		}
		if (nv <= 0) {
			edit_say(ed, "move: the selection names no vertex of mesh %016llx", (unsigned long long)m->id);
			return false;
		}
		d->nverts = (unsigned)nv;
	}
	if (edit_preview_begin(ed, in->sc, ed->sel.entity) < 0)
		return false;
	d->on = true;
	memcpy(d->start, in->tip, sizeof d->start);
	memcpy(d->rot0, in->rot, sizeof d->rot0);
	return true;
}

/* ed->patch: the drag's vertices moved by the world displacement w, on the
 * entity's mesh as it is now. */
static int element_patch(struct edit *ed, const struct th_scene *sc, const float w[3], const char **why)
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_entity_mesh(sc, ed->drag.entity, &t, &m) || m->id != ed->drag.mesh) {
		*why = "the mesh is gone";
		return -ENOENT;
	}
	float l[3];
	edit_xf_dir_to_local(&ed->drag.xf0, w, l);
	struct th_affine a;
	th_affine_translate(&a, l);
	th_patch_clear(&ed->patch);
	return th_op_transform(m, ed->drag.verts, ed->drag.nverts, &a, &ed->patch, why);
}

/* The whole object's transform: turned by the hand's rotation since the
 * grab (snapped) about the grab point, then moved by d. */
static void moved_transform(const struct edit *ed, const float rot[4], const float d[3], struct th_c_transform *xf)
{
	const struct edit_drag *g = &ed->drag;
	*xf = g->xf0;
	float inv0[4] = { -g->rot0[0], -g->rot0[1], -g->rot0[2], g->rot0[3] }, q[4], snapped[4];
	const char *why;
	edit_quat_mul(rot, inv0, q);
	if (th_snap_rotation(q, 0, snapped, &why) == 0 && snapped[3] != 1.0f) {
		float off[3], r[3];
		for (int k = 0; k < 3; k++)
			off[k] = g->xf0.position[k] - g->start[k];
		edit_quat_rotate(snapped, off, r);
		for (int k = 0; k < 3; k++)
			xf->position[k] = g->start[k] + r[k];
		edit_quat_mul(snapped, g->xf0.rotation, xf->rotation);
	}
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
	moved_transform(ed, in->rot, d, &xf);
	const char *why = NULL;
	if (in->act_held) {
		if (!in->tracked)
			return;
		if (ed->drag.whole)
			edit_preview_transform(ed, &xf);
		else if (element_patch(ed, in->sc, d, &why) == 0)
			edit_preview_patch(ed);
		return;
	}
	/* Released: one command for the whole drag. */
	ed->drag.on = false;
	edit_preview_end(ed);
	bool turned = memcmp(xf.rotation, ed->drag.xf0.rotation, sizeof xf.rotation) != 0;
	if (sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) < EDIT_DRAG_MIN && !(turned && ed->drag.whole))
		return;
	char text[EDIT_HISTORY_TEXT], b[20];
	if (ed->drag.whole) {
		snprintf(text, sizeof text, "move mesh %s by (%.3f, %.3f, %.3f)%s", edit_short_id(ed->drag.mesh, b), d[0],
			 d[1], d[2], turned ? " and turn it" : "");
		edit_send_transform(ed, ed->drag.entity, &xf, text);
		return;
	}
	if (element_patch(ed, in->sc, d, &why) < 0) {
		edit_say(ed, "move: %s", why ? why : "out of memory");
		return;
	}
	snprintf(text, sizeof text, "move %u vert%s of mesh %s by (%.3f, %.3f, %.3f)", ed->drag.nverts,
		 ed->drag.nverts == 1 ? "ex" : "ices", edit_short_id(ed->drag.mesh, b), d[0], d[1], d[2]);
	edit_send_patch(ed, ed->drag.mesh, text);
}

const struct edit_tool_ops edit_tool_move = {
	.tool = EDIT_TOOL_MOVE, .name = "move", .noptions = 4, .options = move_options, .frame = move_frame,
};
