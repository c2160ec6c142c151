/* The UI's font (ui_font.h): the atlas tools/ui-font generated at build
 * time, compiled in. */
#include "ui/ui_font.h"

#include "ui/ui_font_atlas.h"

#define UI_FONT_FIRST 32
#define UI_FONT_LAST 126
_Static_assert(UI_FONT_LAST - UI_FONT_FIRST + 1 == sizeof ui_font_atlas.glyph / sizeof ui_font_atlas.glyph[0],
	       "the atlas holds printable ASCII");

const struct ui_font *ui_font(void)
{
	return &ui_font_atlas;
}

const struct ui_glyph *ui_font_glyph(const struct ui_font *f, unsigned char c)
{
	if (c < UI_FONT_FIRST || c > UI_FONT_LAST)
		c = '?';
	return &f->glyph[c - UI_FONT_FIRST];
}

uint32_t ui_font_text_width(const struct ui_font *f, const char *s)
{
	uint32_t w = 0;
	for (; s && *s; s++)
		w += ui_font_glyph(f, (unsigned char)*s)->advance;
	return w;
}
