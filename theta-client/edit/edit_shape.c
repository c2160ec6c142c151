/* The shape tool: the operations that reshape what is there, one option
 * each, one mesh.patch per use:
 *   inset      the face at the tip (the selected faces when it is one of
 *              them), each inset by EDIT_INSET_DEFAULT + parameter *
 *              EDIT_INSET_STEP of the way to its centre (th_op_inset);
 *   loop cut   the ring of quads across the edge at the tip, at its
 *              midpoint (even parameter) or where along it the tip is (odd;
 *              th_op_loop_cut);
 *   bevel      the edge at the tip (the selected edges when it is one of
 *              them), a strip EDIT_BEVEL_DEFAULT x EDIT_BEVEL_STEP^parameter
 *              wide (th_op_bevel);
 *   weld       the vertices of the mesh at the tip (the selected vertices
 *              when the selection is vertices of it) within
 *              EDIT_WELD_DEFAULT x EDIT_WELD_STEP^parameter (th_op_weld);
 *   flip       the mesh at the tip, or its selected faces (whole connected
 *              pieces; th_op_flip);
 *   duplicate  the selected faces of the mesh at the tip, else the whole
 *              mesh: grab, drag (the copy is previewed where the hand takes
 *              it, snapped), release; a click (a drag under 1 mm) offsets
 *              the copy by EDIT_DUP_STEP_DEFAULT x EDIT_DUP_STEP_STEP^parameter
 *              along world +x (th_op_duplicate);
 *   inset region  as inset, the faces as one piece: one ring on the
 *              region's border (th_op_inset region; appended last so the
 *              options before it keep their numbers).
 * Lengths are metres in world space, turned into the mesh's units by the
 * entity's largest scale. */
#include "edit/edit_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

static const char *const shape_options[] = { "inset", "loop cut", "bevel", "weld", "flip", "duplicate",
					      "inset region" };
enum { SH_INSET, SH_LOOP_CUT, SH_BEVEL, SH_WELD, SH_FLIP, SH_DUPLICATE, SH_INSET_REGION, SH_N };
_Static_assert(sizeof shape_options / sizeof shape_options[0] == SH_N, "one name per option");

/* def x step^p within [lo, hi]. */
static float stepped(float def, float step, int p, float lo, float hi)
{
	float v = def * powf(step, (float)p);
	return v < lo ? lo : v > hi ? hi : v;
}

static float inset_amount(int p)
{
	float v = EDIT_INSET_DEFAULT + EDIT_INSET_STEP * (float)p;
	return v < EDIT_INSET_MIN ? EDIT_INSET_MIN : v > EDIT_INSET_MAX ? EDIT_INSET_MAX : v;
}

/* A world length in the mesh's units (by the largest scale, so never longer
 * than asked). 0 for a zero scale. */
static float to_mesh_units(const struct th_c_transform *t, float w)
{
	float s = fmaxf(fabsf(t->scale[0]), fmaxf(fabsf(t->scale[1]), fabsf(t->scale[2])));
	return s > 0 ? w / s : 0;
}

/* The vertices this patch removes (a weld's welded-away vertices). */
static unsigned removed_vertices(const struct th_mesh *m, const struct th_patch *p)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < p->n; i++)
		n += p->ops[i].op == TH_PL_MESH_OP_REMOVE && th_mesh_vert_find(m, p->ops[i].element) != TH_MESH_NONE;
	return n;
}

static uint32_t shape_mode(unsigned option, int param)
{
	(void)param;
	return option == SH_INSET || option == SH_INSET_REGION ? TH_SELECT_FACE
	       : option == SH_LOOP_CUT || option == SH_BEVEL  ? TH_SELECT_EDGE
							      : TH_SELECT_OBJECT;
}

static void shape_click(struct edit *ed, const struct edit_in *in, unsigned option)
{
	uint64_t ids[EDIT_SELECT_MAX], a[EDIT_SELECT_MAX], b[EDIT_SELECT_MAX];
	const char *op = shape_options[option], *why = NULL;
	uint32_t mode = shape_mode(option, in->param);
	struct edit_hit hit;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_pick_tool(ed, in, mode, op, &hit, &t, &m))
		return;
	th_patch_clear(&ed->patch);
	char text[EDIT_HISTORY_TEXT], sid[20];
	edit_short_id(m->id, sid);
	unsigned n;
	int r;
	switch (option) {
	case SH_INSET:
	case SH_INSET_REGION: {
		n = edit_sel_or_hit(ed, &hit, ids, a, b);
		float amount = inset_amount(in->param);
		bool region = option == SH_INSET_REGION;
		r = th_op_inset(m, ids, n, amount, region, &ed->patch, &why);
		snprintf(text, sizeof text, "inset %u face%s of mesh %s%s by %.2f", n, n == 1 ? "" : "s", sid,
			 region ? " as one region" : "", amount);
		break;
	}
	case SH_LOOP_CUT: {
		float at = 0.5f;
		if (in->param % 2 != 0)
			at = hit.t < EDIT_LOOP_CUT_END ? EDIT_LOOP_CUT_END
			   : hit.t > 1 - EDIT_LOOP_CUT_END ? 1 - EDIT_LOOP_CUT_END
							  : hit.t;
		r = th_op_loop_cut(m, hit.a, hit.b, at, &ed->patch, &why);
		snprintf(text, sizeof text, "loop cut mesh %s across edge %s at %.2f of its length", sid,
			 edit_short_id(hit.element, (char[20]){ 0 }), at);
		break;
	}
	case SH_BEVEL: {
		n = edit_sel_or_hit(ed, &hit, ids, a, b);
		float w = stepped(EDIT_BEVEL_DEFAULT, EDIT_BEVEL_STEP, in->param, EDIT_BEVEL_MIN, EDIT_BEVEL_MAX);
		r = th_op_bevel(m, a, b, n, to_mesh_units(t, w), &ed->patch, &why);
		snprintf(text, sizeof text, "bevel %u edge%s of mesh %s %.3f m wide", n, n == 1 ? "" : "s", sid, w);
		break;
	}
	case SH_WELD: {
		n = edit_sel_ids(ed, hit.entity, TH_SELECT_VERTEX, ids, EDIT_SELECT_MAX);
		float d = stepped(EDIT_WELD_DEFAULT, EDIT_WELD_STEP, in->param, EDIT_WELD_MIN, EDIT_WELD_MAX);
		r = th_op_weld(m, n ? ids : NULL, n, to_mesh_units(t, d), &ed->patch, &why);
		unsigned gone = r < 0 ? 0 : removed_vertices(m, &ed->patch);
		if (n)
			snprintf(text, sizeof text, "weld %u selected vertices of mesh %s within %.1f mm: %u joined", n, sid,
				 d * 1000, gone);
		else
			snprintf(text, sizeof text, "weld the vertices of mesh %s within %.1f mm: %u joined", sid, d * 1000,
				 gone);
		break;
	}
	default: { /* SH_FLIP */
		n = edit_sel_ids(ed, hit.entity, TH_SELECT_FACE, ids, EDIT_SELECT_MAX);
		r = th_op_flip(m, ids, n, &ed->patch, &why);
		if (n)
			snprintf(text, sizeof text, "flip %u face%s of mesh %s", n, n == 1 ? "" : "s", sid);
		else
			snprintf(text, sizeof text, "flip mesh %s (every face)", sid);
		break;
	}
	}
	edit_op_send(ed, op, r, why, "result", NULL, m->id, text);
}

/* ---- duplicate: a drag ------------------------------------------------------------------- */

/* The copy's world offset for the tip: the hand's displacement, snapped;
 * *by_hand false when it is under EDIT_DRAG_MIN (the fixed step then). */
static void dup_offset(const struct edit *ed, const struct edit_in *in, float w[3], bool *by_hand)
{
	for (int k = 0; k < 3; k++)
		w[k] = edit_snap_length(ed, in->tip[k] - ed->drag.start[k]);
	*by_hand = sqrtf(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]) >= EDIT_DRAG_MIN;
	if (!*by_hand) {
		w[0] = stepped(EDIT_DUP_STEP_DEFAULT, EDIT_DUP_STEP_STEP, in->param, EDIT_DUP_STEP_MIN,
			       EDIT_DUP_STEP_MAX);
		w[1] = w[2] = 0;
	}
}

static int dup_patch(struct edit *ed, const struct edit_in *in, const float w[3], const char **why)
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	struct edit_drag *d = &ed->drag;
	if (edit_drag_mesh(ed, in->sc, &t, &m, why) < 0)
		return -ENOENT;
	float l[3];
	edit_xf_dir_to_local(&d->xf0, w, l);
	th_patch_clear(&ed->patch);
	return th_op_duplicate(m, d->faces, d->nfaces, l, &ed->patch, why);
}

static void dup_grab(struct edit *ed, const struct edit_in *in)
{
	struct edit_hit hit;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_pick_tool(ed, in, shape_mode(SH_DUPLICATE, in->param), "duplicate", &hit, &t, &m))
		return;
	struct edit_drag *d = &ed->drag;
	*d = (struct edit_drag){ .entity = hit.entity, .mesh = m->id, .xf0 = *t };
	d->nfaces = edit_sel_ids(ed, hit.entity, TH_SELECT_FACE, d->faces, EDIT_SELECT_MAX);
	/* A copy too large for one command is refused now, not previewed for
	 * the whole drag and refused at the release. */
	const char *why = NULL;
	float step[3] = { EDIT_DUP_STEP_MIN, 0, 0 }, l[3];
	edit_xf_dir_to_local(t, step, l);
	th_patch_clear(&ed->patch);
	int r = th_op_duplicate(m, d->faces, d->nfaces, l, &ed->patch, &why);
	if (r == 0 && !th_patch_fits(&ed->patch)) {
		edit_say(ed, "duplicate: the copy takes %u ops; one edit carries at most %u: select fewer faces",
			 (unsigned)ed->patch.n, (unsigned)TH_PATCH_ENTRY_OPS);
		return;
	}
	if (r < 0) {
		edit_say(ed, "duplicate: %s", r == -E2BIG ? "the copy is too large for one edit: select fewer faces"
					   : why ? why : "out of memory");
		return;
	}
	edit_drag_begin(ed, in, hit.entity);
}

static void dup_frame(struct edit *ed, const struct edit_in *in)
{
	if (!ed->drag.on) {
		if (in->act_down && in->tracked)
			dup_grab(ed, in);
		return;
	}
	float w[3];
	bool by_hand;
	const char *why = NULL;
	if (in->act_held) {
		if (!in->tracked)
			return;
		dup_offset(ed, in, w, &by_hand);
		if (!by_hand)
			th_patch_clear(&ed->patch); /* nothing to show until the hand moves */
		if (!by_hand || dup_patch(ed, in, w, &why) == 0)
			edit_preview_patch(ed);
		return;
	}
	ed->drag.on = false;
	edit_preview_end(ed);
	dup_offset(ed, in, w, &by_hand);
	int r = dup_patch(ed, in, w, &why);
	char text[EDIT_HISTORY_TEXT], sid[20], what[48];
	unsigned n = ed->drag.nfaces;
	if (n)
		snprintf(what, sizeof what, "%u face%s of mesh", n, n == 1 ? "" : "s");
	else
		snprintf(what, sizeof what, "mesh");
	snprintf(text, sizeof text, "duplicate %s %s, the copy %s (%.3f, %.3f, %.3f)", what,
		 edit_short_id(ed->drag.mesh, sid), by_hand ? "moved by" : "one step along x:", w[0], w[1], w[2]);
	edit_op_send(ed, "duplicate", r, why, "copy", "faces", ed->drag.mesh, text);
}

static void shape_frame(struct edit *ed, const struct edit_in *in)
{
	unsigned option = in->option % SH_N;
	if (option == SH_DUPLICATE) {
		dup_frame(ed, in);
		return;
	}
	if (in->act_down && in->tracked)
		shape_click(ed, in, option);
}

const struct edit_tool_ops edit_tool_shape = {
	.tool = EDIT_TOOL_SHAPE, .name = "shape", .noptions = SH_N, .options = shape_options, .frame = shape_frame,
	.mode = shape_mode,
};
