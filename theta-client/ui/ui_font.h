/* The UI's font (docs/ui.md, "Text"): a glyph atlas rasterised at build time
 * by FreeType from a Debian font (fonts-dejavu-core's DejaVuSans.ttf) into
 * build/gen/ui/ui_font_atlas.h by tools/ui-font (ui_font_gen.c), so the
 * client needs neither FreeType nor the font file at run time. Printable
 * ASCII (32..126); anything else draws as '?'. */
#pragma once
#include <stdint.h>

struct ui_glyph {
	uint16_t x, y, w, h;  /* in the atlas, pixels */
	int16_t bearing_x, bearing_y; /* pixels from the pen to the bitmap's left, and up to its top */
	uint16_t advance;     /* pixels */
};

struct ui_font {
	uint32_t width, height;  /* atlas pixels */
	const uint8_t *pixels;   /* coverage, one byte per pixel, rows top down */
	uint32_t pixel_size;     /* the size glyphs were rasterised at (em, pixels) */
	int32_t ascender, descender, line_height; /* pixels */
	float white_uv[2];       /* the centre of a fully covered texel (solid quads) */
	struct ui_glyph glyph[95]; /* ' ' .. '~' */
};

const struct ui_font *ui_font(void);
/* The glyph of character c ('?' for one outside 32..126). */
const struct ui_glyph *ui_font_glyph(const struct ui_font *f, unsigned char c);
/* Width in pixels of s at the atlas size (no wrapping). */
uint32_t ui_font_text_width(const struct ui_font *f, const char *s);
