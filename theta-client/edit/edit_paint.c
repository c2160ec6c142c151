/* The paint tool: the trigger paints the face at the tip (the selected
 * faces when it is one of them) or, with the parameter on "whole", every
 * face of the mesh, with the palette slot chosen by the option. A slot's
 * material.set goes out before its first use (edit_palette.h). */
#include "edit/edit_int.h"

#include <inttypes.h>
#include <stdio.h>

#include "th_cmd.h"

static const char *const paint_options[EDIT_PALETTE_SLOTS] = {
	"red", "vermilion", "orange", "amber", "yellow", "lime", "green", "forest", "teal",
	"cyan", "sky", "blue", "navy", "indigo", "violet", "magenta", "pink", "white",
	"light grey", "grey", "charcoal", "black", "tan", "brown", "glass", "metal",
};

/* The material.set of slot, the first time this client uses it. */
static int define_slot(struct edit *ed, const struct th_scene *sc, unsigned slot)
{
	if (ed->palette_used & (1u << slot))
		return 0;
	if (!edit_palette_defined(sc, slot)) {
		edit_palette_payload(slot, &ed->pl.mat);
		char text[EDIT_HISTORY_TEXT];
		snprintf(text, sizeof text, "define material %u (%s)", edit_palette_material(slot), edit_palette(slot)->name);
		int r = edit_send(ed, TH_CMD_MATERIAL_SET, 0, &ed->pl.mat, EDIT_H_STATE, 0, text);
		if (r < 0)
			return r;
	}
	ed->palette_used |= 1u << slot;
	return 0;
}

/* The parameter's low bit: the face (0) or the whole mesh (1). */
static uint32_t paint_mode(unsigned option, int param)
{
	(void)option;
	return param & 1 ? TH_SELECT_OBJECT : TH_SELECT_FACE;
}

static void paint_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	unsigned slot = in->option % EDIT_PALETTE_SLOTS;
	bool whole = in->param & 1;
	uint32_t material = edit_palette_material(slot);
	struct edit_hit hit;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_pick_tool(ed, in, paint_mode(in->option, in->param), "paint", &hit, &t, &m))
		return;
	th_patch_clear(&ed->patch);
	unsigned n = 0;
	if (whole) {
		for (uint32_t f = 0; f < m->nfaces; f++)
			if (m->faces[f].id && m->faces[f].material != material) {
				if (th_patch_face_material(&ed->patch, m->faces[f].id, material) < 0)
					return;
				n++;
			}
	} else {
		uint64_t faces[EDIT_SELECT_MAX];
		unsigned nf = edit_sel_or_hit(ed, &hit, faces, NULL, NULL);
		for (unsigned i = 0; i < nf; i++) {
			int32_t f = th_mesh_face_find(m, faces[i]);
			if (f == TH_MESH_NONE || m->faces[f].material == material)
				continue;
			if (th_patch_face_material(&ed->patch, faces[i], material) < 0)
				return;
			n++;
		}
	}
	char b[20];
	if (!n) {
		edit_say(ed, "paint: already %s", edit_palette(slot)->name);
		return;
	}
	if (define_slot(ed, in->sc, slot) < 0)
		return;
	char text[EDIT_HISTORY_TEXT];
	snprintf(text, sizeof text, "paint %u face%s of mesh %s %s", n, n == 1 ? "" : "s", edit_short_id(m->id, b),
		 edit_palette(slot)->name);
	edit_send_patch(ed, m->id, text);
}

const struct edit_tool_ops edit_tool_paint = {
	.tool = EDIT_TOOL_PAINT, .name = "paint", .noptions = EDIT_PALETTE_SLOTS, .options = paint_options,
	.frame = paint_frame, .mode = paint_mode,
};
