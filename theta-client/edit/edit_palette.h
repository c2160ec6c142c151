/* The paint palette (docs/editor.md, "Paint"): EDIT_PALETTE_SLOTS materials,
 * 24 colours, glass and metal, kept in the scene's material table at
 * EDIT_PALETTE_BASE + slot. A slot becomes a material.set entry the first
 * time this client paints with it, unless the scene already holds exactly
 * that definition (another client defined it first). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "th_payload.h"
#include "th_scene.h"

#define EDIT_PALETTE_COLOURS 24u
#define EDIT_PALETTE_GLASS EDIT_PALETTE_COLOURS        /* slot 24 */
#define EDIT_PALETTE_METAL (EDIT_PALETTE_COLOURS + 1u) /* slot 25 */
#define EDIT_PALETTE_SLOTS (EDIT_PALETTE_COLOURS + 2u)
#define EDIT_PALETTE_BASE 1u /* material index of slot 0 (0 stays the default material) */
_Static_assert(EDIT_PALETTE_BASE + EDIT_PALETTE_SLOTS <= TH_PL_MATERIALS_MAX, "the palette fits the table");

struct edit_palette_entry {
	const char *name; /* <= TH_PL_MATERIAL_NAME_MAX bytes */
	float rgba[4];
	float roughness, metallic;
};

/* Slot's definition; NULL past the end. */
const struct edit_palette_entry *edit_palette(unsigned slot);
static inline uint32_t edit_palette_material(unsigned slot)
{
	return EDIT_PALETTE_BASE + slot;
}
/* The material.set payload of a slot (index edit_palette_material(slot)). */
void edit_palette_payload(unsigned slot, struct th_pl_material_set *out);
/* Whether the scene's table holds slot's definition exactly. */
bool edit_palette_defined(const struct th_scene *sc, unsigned slot);
