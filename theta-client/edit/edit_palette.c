/* The paint palette (edit_palette.h): 24 colours in hue order, then greys
 * and browns, glass (alpha blended) and metal (metallic 1). */
#include "edit/edit_palette.h"

#include <string.h>

static const struct edit_palette_entry palette[EDIT_PALETTE_SLOTS] = {
	{ "red", { 0.86f, 0.13f, 0.13f, 1 }, 0.6f, 0 },
	{ "vermilion", { 0.91f, 0.33f, 0.12f, 1 }, 0.6f, 0 },
	{ "orange", { 0.96f, 0.55f, 0.10f, 1 }, 0.6f, 0 },
	{ "amber", { 0.98f, 0.73f, 0.12f, 1 }, 0.6f, 0 },
	{ "yellow", { 0.98f, 0.90f, 0.20f, 1 }, 0.6f, 0 },
	{ "lime", { 0.66f, 0.86f, 0.20f, 1 }, 0.6f, 0 },
	{ "green", { 0.22f, 0.70f, 0.27f, 1 }, 0.6f, 0 },
	{ "forest", { 0.10f, 0.42f, 0.20f, 1 }, 0.7f, 0 },
	{ "teal", { 0.10f, 0.60f, 0.56f, 1 }, 0.6f, 0 },
	{ "cyan", { 0.20f, 0.80f, 0.90f, 1 }, 0.6f, 0 },
	{ "sky", { 0.45f, 0.70f, 0.95f, 1 }, 0.6f, 0 },
	{ "blue", { 0.15f, 0.35f, 0.85f, 1 }, 0.6f, 0 },
	{ "navy", { 0.08f, 0.13f, 0.45f, 1 }, 0.7f, 0 },
	{ "indigo", { 0.30f, 0.20f, 0.65f, 1 }, 0.6f, 0 },
	{ "violet", { 0.55f, 0.30f, 0.80f, 1 }, 0.6f, 0 },
	{ "magenta", { 0.85f, 0.20f, 0.70f, 1 }, 0.6f, 0 },
	{ "pink", { 0.97f, 0.60f, 0.72f, 1 }, 0.6f, 0 },
	{ "white", { 0.95f, 0.95f, 0.95f, 1 }, 0.7f, 0 },
	{ "light grey", { 0.70f, 0.70f, 0.70f, 1 }, 0.7f, 0 },
	{ "grey", { 0.45f, 0.45f, 0.45f, 1 }, 0.7f, 0 },
	{ "charcoal", { 0.20f, 0.20f, 0.22f, 1 }, 0.8f, 0 },
	{ "black", { 0.04f, 0.04f, 0.04f, 1 }, 0.8f, 0 },
	{ "tan", { 0.82f, 0.71f, 0.55f, 1 }, 0.8f, 0 },
	{ "brown", { 0.45f, 0.28f, 0.14f, 1 }, 0.8f, 0 },
	[EDIT_PALETTE_GLASS] = { "glass", { 0.85f, 0.93f, 1.0f, 0.25f }, 0.05f, 0 },
	[EDIT_PALETTE_METAL] = { "metal", { 0.80f, 0.80f, 0.82f, 1 }, 0.25f, 1 },
};

const struct edit_palette_entry *edit_palette(unsigned slot)
{
	return slot < EDIT_PALETTE_SLOTS ? &palette[slot] : NULL;
}

void edit_palette_payload(unsigned slot, struct th_pl_material_set *out)
{
	const struct edit_palette_entry *p = &palette[slot < EDIT_PALETTE_SLOTS ? slot : 0];
	memset(out, 0, sizeof *out);
	out->index = (uint8_t)edit_palette_material(slot);
	strncpy(out->name, p->name, sizeof out->name - 1);
	memcpy(out->base_color, p->rgba, sizeof out->base_color);
	out->roughness_metallic[0] = p->roughness;
	out->roughness_metallic[1] = p->metallic;
}

bool edit_palette_defined(const struct th_scene *sc, unsigned slot)
{
	const struct th_scene_material *m = sc ? th_scene_material(sc, edit_palette_material(slot)) : NULL;
	const struct edit_palette_entry *p = edit_palette(slot);
	return m && p && m->defined && strcmp(m->name, p->name) == 0 &&
	       memcmp(m->base_color, p->rgba, sizeof p->rgba) == 0 && m->roughness == p->roughness &&
	       m->metallic == p->metallic;
}
