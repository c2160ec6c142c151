/* The extrude tool: grab a face (the selected faces when it is one of
 * them) with the trigger and pull: the preview shows the extrusion along
 * the normal by the distance the hand moved along it (snapped), every
 * frame; the release sends one mesh.patch (th_op_extrude_faces). Option
 * "region" pulls the faces as one piece (walls on the region's border
 * only); "edges" pulls a boundary edge (the selected edges when it is one
 * of them) by the hand's displacement (th_op_extrude_edges). */
#include "edit/edit_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

static const char *const extrude_options[] = { "faces", "region", "edges" };
enum { EX_FACES, EX_REGION, EX_EDGES };

static float len3(const float v[3])
{
	return sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

static uint32_t extrude_mode(unsigned option, int param)
{
	(void)param;
	return option == EX_EDGES ? TH_SELECT_EDGE : TH_SELECT_FACE;
}

static bool grab(struct edit *ed, const struct edit_in *in, unsigned option)
{
	struct edit_hit hit;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_pick_tool(ed, in, extrude_mode(option, in->param), "extrude", &hit, &t, &m))
		return false;
	struct edit_drag *d = &ed->drag;
	*d = (struct edit_drag){ .entity = hit.entity, .mesh = m->id, .xf0 = *t };
	if (option == EX_EDGES) {
		/* verts holds the edges' ends as pairs. */
		uint64_t a[EDIT_SELECT_MAX], b[EDIT_SELECT_MAX];
		d->nverts = edit_sel_or_hit(ed, &hit, NULL, a, b);
		for (unsigned i = 0; i < d->nverts; i++) {
			d->verts[2 * i] = a[i];
			d->verts[2 * i + 1] = b[i];
		}
	} else {
		d->nfaces = edit_sel_or_hit(ed, &hit, d->faces, NULL, NULL);
		/* The pull direction: the faces' mean normal, in world space. */
		float sum[3] = { 0, 0, 0 };
		for (unsigned i = 0; i < d->nfaces; i++) {
			float nrm[3], c[3];
			int32_t fs = th_mesh_face_find(m, d->faces[i]);
			if (fs != TH_MESH_NONE && th_mesh_face_normal(m, fs, nrm, c) == 0)
				for (int k = 0; k < 3; k++)
					sum[k] += nrm[k];
		}
		if (len3(sum) == 0) {
			edit_say(ed, "extrude: the faces have no direction to pull along (degenerate or opposed)");
			return false;
		}
		edit_xf_normal_to_world(t, sum, d->normal);
	}
	return edit_drag_begin(ed, in, hit.entity);
}

/* ed->patch for the drag so far on the mesh as it is now; *amount: the
 * world distance (faces) or displacement length (edges), snapped. */
static int extrude_patch(struct edit *ed, const struct edit_in *in, unsigned option, float *amount, const char **why)
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	struct edit_drag *d = &ed->drag;
	if (edit_drag_mesh(ed, in->sc, &t, &m, why) < 0)
		return -ENOENT;
	float w[3];
	for (int k = 0; k < 3; k++)
		w[k] = in->tip[k] - d->start[k];
	th_patch_clear(&ed->patch);
	if (option == EX_EDGES) {
		for (int k = 0; k < 3; k++)
			w[k] = edit_snap_length(ed, w[k]);
		*amount = len3(w);
		if (*amount < EDIT_DRAG_MIN)
			return 0;
		float l[3];
		edit_xf_dir_to_local(&d->xf0, w, l);
		uint64_t a[EDIT_SELECT_MAX], b[EDIT_SELECT_MAX];
		for (unsigned i = 0; i < d->nverts; i++) {
			a[i] = d->verts[2 * i];
			b[i] = d->verts[2 * i + 1];
		}
		return th_op_extrude_edges(m, a, b, d->nverts, l, &ed->patch, why);
	}
	float dist = edit_snap_length(ed, w[0] * d->normal[0] + w[1] * d->normal[1] + w[2] * d->normal[2]);
	*amount = dist;
	if (fabsf(dist) < EDIT_DRAG_MIN)
		return 0;
	/* The world distance along the normal in mesh units. */
	float wn[3] = { d->normal[0], d->normal[1], d->normal[2] }, ln[3];
	edit_xf_dir_to_local(&d->xf0, wn, ln);
	return th_op_extrude_faces(m, d->faces, d->nfaces, NULL, dist * len3(ln), option == EX_REGION, &ed->patch, why);
}

static void extrude_frame(struct edit *ed, const struct edit_in *in)
{
	unsigned option = in->option % 3;
	if (!ed->drag.on) {
		if (in->act_down && in->tracked)
			grab(ed, in, option);
		return;
	}
	const char *why = NULL;
	float amount = 0;
	if (in->act_held) {
		if (in->tracked && extrude_patch(ed, in, option, &amount, &why) == 0)
			edit_preview_patch(ed);
		return;
	}
	ed->drag.on = false;
	edit_preview_end(ed);
	int r = extrude_patch(ed, in, option, &amount, &why);
	if (r < 0) {
		edit_say(ed, "extrude: %s", why ? why : "out of memory");
		return;
	}
	if (!ed->patch.n)
		return; /* pulled less than a millimetre */
	char text[EDIT_HISTORY_TEXT], b[20];
	unsigned n = option == EX_EDGES ? ed->drag.nverts : ed->drag.nfaces;
	const char *what = option == EX_EDGES ? (n == 1 ? "edge" : "edges") : (n == 1 ? "face" : "faces");
	snprintf(text, sizeof text, "extrude %u %s%s of mesh %s by %.3f m", n, option == EX_REGION ? "region " : "",
		 what, edit_short_id(ed->drag.mesh, b), amount);
	edit_send_patch(ed, ed->drag.mesh, text);
}

const struct edit_tool_ops edit_tool_extrude = {
	.tool = EDIT_TOOL_EXTRUDE, .name = "extrude", .noptions = 3, .options = extrude_options,
	.frame = extrude_frame, .mode = extrude_mode,
};
