/* The move tool: grab with the trigger (the selection when the tip is on
 * it, else what the tip picks in the tool's mode), drag (the preview
 * follows the hand every frame), release: one command, a component.write of
 * the Transform for a whole object, a mesh.patch (th_op_transform) for
 * faces, edges and vertices. The drag is snapped to the grid; a whole
 * object also turns with the hand about the grab point, snapped to 15
 * degree steps (th_snap_rotation).
 *
 * Options "rotate" and "scale" (after the four modes, so scripts keep
 * their option numbers) act on selected faces, edges or vertices (the
 * selection when the tip is on it, else the face at the tip) about their
 * vertices' centroid: rotate follows the hand's rotation since the grab in
 * 15 degree steps; scale multiplies by the ratio of the tip's distance from
 * the centroid now to at the grab, snapped to EDIT_SCALE_SNAP. Previewed
 * every frame, one mesh.patch on release. */
#include "edit/edit_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "th_snap.h"

static const char *const move_options[] = { "object", "face", "edge", "vertex", "rotate", "scale" };
enum { MV_ROTATE = 4, MV_SCALE = 5, MV_N };
_Static_assert(sizeof move_options / sizeof move_options[0] == MV_N, "one name per option");

/* The world displacement of the drag so far, snapped. */
static void drag_delta(const struct edit *ed, const float tip[3], float d[3])
{
	for (int k = 0; k < 3; k++)
		d[k] = edit_snap_length(ed, tip[k] - ed->drag.start[k]);
}

/* Rotate / scale: the drag's vertices' centroid (mesh and world) and, for
 * scale, the tip's distance from it; false (said) when the tip is too close
 * to the centre to measure a ratio. */
static bool pivot(struct edit *ed, const struct th_mesh *m, const struct th_c_transform *t, const struct edit_in *in,
		  unsigned option)
{
	struct edit_drag *d = &ed->drag;
	double c[3] = { 0, 0, 0 };
	unsigned n = 0;
	for (unsigned i = 0; i < d->nverts; i++) {
		int32_t v = th_mesh_vert_find(m, d->verts[i]);
		if (v == TH_MESH_NONE)
			continue;
		for (int k = 0; k < 3; k++)
			c[k] += m->verts[v].pos[k];
		n++;
	}
	for (int k = 0; k < 3; k++)
		d->pivot[k] = n ? (float)(c[k] / n) : 0;
	edit_xf_point_to_world(t, d->pivot, d->pivot_w);
	float w[3];
	for (int k = 0; k < 3; k++)
		w[k] = in->tip[k] - d->pivot_w[k];
	d->reach0 = sqrtf(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
	if (option == MV_SCALE && d->reach0 < EDIT_SCALE_REACH_MIN) {
		edit_say(ed, "scale: grab at least %.0f cm from the selection's centre (the hand's distance from it sets "
			     "the scale)",
			 EDIT_SCALE_REACH_MIN * 100);
		return false;
	}
	return true;
}

/* Rotate or scale act on elements only, else on the face at the tip. */
static uint32_t move_mode(unsigned option, int param)
{
	(void)param;
	return option >= MV_ROTATE ? TH_SELECT_FACE : option;
}

/* The tip is on the selection (in its mode; not a whole object for rotate
 * and scale): what a grab takes then, into *hit. */
static bool on_selection(const struct edit *ed, const struct edit_in *in, unsigned option, struct edit_hit *hit)
{
	return ed->sel.entity && !(option >= MV_ROTATE && ed->sel.mode == TH_SELECT_OBJECT) &&
	       edit_pick_entity(in->sc, ed->sel.entity, in->tip, edit_pick_radius(ed), ed->sel.mode, hit) &&
	       edit_sel_has(ed, hit);
}

static int move_hover(const struct edit *ed, const struct edit_in *in, struct edit_hit *out)
{
	unsigned option = in->option % MV_N;
	return on_selection(ed, in, option, out) ||
	       edit_pick(in->sc, in->tip, edit_pick_radius(ed), move_mode(option, in->param), out);
}

static bool grab(struct edit *ed, const struct edit_in *in, unsigned option)
{
	struct edit_hit hit;
	float r = edit_pick_radius(ed);
	bool turn = option >= MV_ROTATE;
	if (!on_selection(ed, in, option, &hit)) {
		int got = edit_pick_at(ed, in, r, move_mode(option, in->param), &hit);
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
		if (turn && !pivot(ed, m, t, in, option))
			return false;
	}
	return edit_drag_begin(ed, in, ed->sel.entity);
}

/* The hand's rotation since the grab, snapped to 15 degree steps (world);
 * its angle in degrees, 0 for none. */
static float hand_turn(const struct edit *ed, const float rot[4], float snapped[4])
{
	const float *r0 = ed->drag.rot0;
	float inv0[4] = { -r0[0], -r0[1], -r0[2], r0[3] }, q[4];
	const char *why;
	edit_quat_mul(rot, inv0, q);
	if (th_snap_rotation(q, 0, snapped, &why) < 0 || snapped[3] == 1.0f) {
		snapped[0] = snapped[1] = snapped[2] = 0;
		snapped[3] = 1;
		return 0;
	}
	float w = fminf(fabsf(snapped[3]), 1.0f);
	return 2.0f * acosf(w) * 180.0f / (float)M_PI;
}

/* The scale factor for the tip: its distance from the centroid over the
 * distance at the grab, snapped, within [EDIT_SCALE_MIN, EDIT_SCALE_MAX]. */
static float hand_scale(const struct edit *ed, const float tip[3])
{
	float w[3];
	for (int k = 0; k < 3; k++)
		w[k] = tip[k] - ed->drag.pivot_w[k];
	float s = sqrtf(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]) / ed->drag.reach0;
	s = roundf(s / EDIT_SCALE_SNAP) * EDIT_SCALE_SNAP;
	return s < EDIT_SCALE_MIN ? EDIT_SCALE_MIN : s > EDIT_SCALE_MAX ? EDIT_SCALE_MAX : s;
}

/* The map the drag applies in mesh space: a translation by the world
 * displacement w (modes), a turn by the hand's snapped rotation (rotate)
 * or a scale by the hand's distance ratio (scale) about the centroid. false
 * when it is the identity (nothing to do yet). *amount: degrees or the
 * factor. */
static bool drag_map(const struct edit *ed, const struct edit_in *in, unsigned option, const float w[3],
		     struct th_affine *a, float *amount)
{
	const struct edit_drag *d = &ed->drag;
	if (option == MV_ROTATE) {
		float q[4];
		*amount = hand_turn(ed, in->rot, q);
		if (*amount == 0)
			return false;
		/* The world turn in the mesh's frame: conj(R) q R (exact for a uniform scale). */
		const float *r = d->xf0.rotation;
		float rc[4] = { -r[0], -r[1], -r[2], r[3] }, t[4], ql[4];
		edit_quat_mul(q, r, t);
		edit_quat_mul(rc, t, ql);
		th_affine_rotate(a, ql, d->pivot);
		return true;
	}
	if (option == MV_SCALE) {
		*amount = hand_scale(ed, in->tip);
		if (*amount == 1.0f)
			return false;
		float s[3] = { *amount, *amount, *amount };
		th_affine_scale(a, s, d->pivot);
		return true;
	}
	*amount = sqrtf(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
	float l[3];
	edit_xf_dir_to_local(&d->xf0, w, l);
	th_affine_translate(a, l);
	return true;
}

/* ed->patch: the drag's vertices moved by the drag's map, on the entity's
 * mesh as it is now; 1 when empty (the map is the identity). */
static int element_patch(struct edit *ed, const struct edit_in *in, unsigned option, const float w[3],
			 float *amount, const char **why)
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (edit_drag_mesh(ed, in->sc, &t, &m, why) < 0)
		return -ENOENT;
	struct th_affine a;
	th_patch_clear(&ed->patch);
	if (!drag_map(ed, in, option, w, &a, amount))
		return 1;
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
	unsigned option = in->option % MV_N;
	if (!ed->drag.on) {
		if (in->act_down && in->tracked)
			grab(ed, in, option);
		return;
	}
	float d[3] = { 0, 0, 0 }, amount = 0;
	if (option < MV_ROTATE)
		drag_delta(ed, in->tip, d);
	struct th_c_transform xf;
	moved_transform(ed, in->rot, d, &xf);
	const char *why = NULL;
	if (in->act_held) {
		if (!in->tracked)
			return;
		if (ed->drag.whole)
			edit_preview_transform(ed, &xf);
		else if (element_patch(ed, in, option, d, &amount, &why) >= 0)
			edit_preview_patch(ed);
		return;
	}
	/* Released: one command for the whole drag. */
	ed->drag.on = false;
	edit_preview_end(ed);
	char text[EDIT_HISTORY_TEXT], b[20];
	if (ed->drag.whole) {
		bool turned = memcmp(xf.rotation, ed->drag.xf0.rotation, sizeof xf.rotation) != 0;
		if (sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) < EDIT_DRAG_MIN && !turned)
			return;
		snprintf(text, sizeof text, "move mesh %s by (%.3f, %.3f, %.3f)%s", edit_short_id(ed->drag.mesh, b), d[0],
			 d[1], d[2], turned ? " and turn it" : "");
		edit_send_transform(ed, ed->drag.entity, &xf, text);
		return;
	}
	if (option < MV_ROTATE && sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) < EDIT_DRAG_MIN)
		return; /* moved less than a millimetre */
	int r = element_patch(ed, in, option, d, &amount, &why);
	if (r < 0) {
		edit_say(ed, "%s: %s", move_options[option < MV_ROTATE ? 0 : option], why ? why : "out of memory");
		return;
	}
	if (r == 1)
		return; /* turned less than a step, or scaled by 1 */
	unsigned n = ed->drag.nverts;
	const char *vs = n == 1 ? "ex" : "ices";
	edit_short_id(ed->drag.mesh, b);
	if (option == MV_ROTATE)
		snprintf(text, sizeof text, "rotate %u vert%s of mesh %s by %.0f degrees about their centre", n, vs, b,
			 amount);
	else if (option == MV_SCALE)
		snprintf(text, sizeof text, "scale %u vert%s of mesh %s by %.2f about their centre", n, vs, b, amount);
	else
		snprintf(text, sizeof text, "move %u vert%s of mesh %s by (%.3f, %.3f, %.3f)", n, vs, b, d[0], d[1], d[2]);
	edit_send_patch(ed, ed->drag.mesh, text);
}

const struct edit_tool_ops edit_tool_move = {
	.tool = EDIT_TOOL_MOVE, .name = "move", .noptions = MV_N, .options = move_options, .frame = move_frame,
	.mode = move_mode, .hover = move_hover,
};
