/* The vertex tool: the trigger adds a vertex at the tip: on the edge at
 * the tip (within half the pick radius; the edge's faces gain it as a
 * corner), else inside the face at the tip (the face becomes a fan), else
 * a free vertex in the selected mesh; positions snapped to the grid. One
 * mesh.patch (th_op_vertex_on_edge / _on_face / _free). */
#include "edit/edit_int.h"

#include <stdio.h>

static const char *const vertex_options[] = { "auto" };

#define VERTEX_EDGE_END 0.02f /* an edge point this near an end is the end's vertex: refused */

/* It adds vertices (on an edge, in a face, or free). */
static uint32_t vertex_mode(unsigned option, int param)
{
	(void)option, (void)param;
	return TH_SELECT_VERTEX;
}

/* The edge within half the pick radius, else the face: where the vertex
 * would go. */
static int vertex_hover(const struct edit *ed, const struct edit_in *in, struct edit_hit *out)
{
	float r = edit_pick_radius(ed);
	return edit_pick(in->sc, in->tip, r / 2, TH_SELECT_EDGE, out) ||
	       edit_pick(in->sc, in->tip, r, TH_SELECT_FACE, out);
}

static void vertex_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	float r = edit_pick_radius(ed), p[3] = { in->tip[0], in->tip[1], in->tip[2] };
	edit_snap_point(ed, p);
	struct edit_hit hit;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	const char *why = NULL;
	char text[EDIT_HISTORY_TEXT], b[20];
	int rv;
	th_patch_clear(&ed->patch);
	int ge = edit_pick_at(ed, in, r / 2, TH_SELECT_EDGE, &hit), gf = 0;
	if (ge < 0)
		return;
	if (ge > 0 && edit_entity_mesh(in->sc, hit.entity, &t, &m)) {
		if (hit.t < VERTEX_EDGE_END || hit.t > 1 - VERTEX_EDGE_END) {
			edit_say(ed, "vertex: the tip is at the edge's end, where a vertex is already");
			return;
		}
		rv = th_op_vertex_on_edge(m, hit.a, hit.b, hit.t, &ed->patch, &why);
		snprintf(text, sizeof text, "add a vertex on an edge of mesh %s", edit_short_id(m->id, b));
	} else if ((gf = edit_pick_at(ed, in, r, TH_SELECT_FACE, &hit)) > 0 &&
		   edit_entity_mesh(in->sc, hit.entity, &t, &m)) {
		float l[3];
		edit_xf_point_to_local(t, hit.point, l);
		rv = th_op_vertex_on_face(m, hit.element, l, &ed->patch, &why);
		snprintf(text, sizeof text, "add a vertex in a face of mesh %s", edit_short_id(m->id, b));
	} else if (gf < 0) {
		return;
	} else if (ed->sel.entity && edit_entity_mesh(in->sc, ed->sel.entity, &t, &m)) {
		float l[3];
		edit_xf_point_to_local(t, p, l);
		rv = th_op_vertex_free(m, l, &ed->patch, &why);
		snprintf(text, sizeof text, "add a free vertex to mesh %s at (%.2f, %.2f, %.2f)", edit_short_id(m->id, b),
			 p[0], p[1], p[2]);
	} else {
		edit_say(ed, "vertex: no edge or face within %.0f cm; select a mesh to add a free vertex to", r * 100);
		return;
	}
	edit_op_send(ed, "vertex", rv, why, NULL, NULL, m->id, text);
}

const struct edit_tool_ops edit_tool_vertex = {
	.tool = EDIT_TOOL_VERTEX, .name = "vertex", .noptions = 1, .options = vertex_options, .frame = vertex_frame,
	.mode = vertex_mode, .hover = vertex_hover,
};
