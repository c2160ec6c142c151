/* ui_font_gen: rasterises printable ASCII (32..126) of a TrueType font with
 * FreeType into a glyph atlas and writes it as a C header that defines the
 * client's struct ui_font (theta-client/ui/ui_font.h):
 *
 *   ui_font_gen FONT.ttf PIXEL_SIZE OUT.h
 *
 * The atlas is one byte of coverage per pixel, ATLAS_WIDTH wide, glyphs
 * packed in rows left to right with GLYPH_PAD empty pixels around each, a
 * WHITE_SIZE square of full coverage first (the solid quads' texel), rows
 * top down; its height is what the glyphs need, rounded up to a multiple of
 * HEIGHT_ALIGN. The output is written to OUT.h.tmp and renamed, so a build
 * that stops half way never leaves a truncated header behind. Exit status 0,
 * or 1 with one line on stderr. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#define FIRST_CHAR 32
#define LAST_CHAR 126
#define GLYPHS (LAST_CHAR - FIRST_CHAR + 1)
#define ATLAS_WIDTH 256u
#define ATLAS_HEIGHT_MAX 2048u
#define GLYPH_PAD 1u
#define WHITE_SIZE 4u
#define HEIGHT_ALIGN 4u
#define PIXEL_SIZE_MIN 6u
#define PIXEL_SIZE_MAX 96u
/* What struct ui_glyph (int16 bearings, uint16 advance) and the header's
 * strings can hold: a font past these is refused, not truncated. */
#define METRIC_MAX 4096
#define NAME_MAX_BYTES 64u

struct glyph {
	unsigned x, y, w, h;
	int bearing_x, bearing_y;
	unsigned advance;
};

static int die(const char *what, const char *detail)
{
	fprintf(stderr, "ui_font_gen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	return 1;
}

/* s (the font's own names, a file name) as it may stand inside the
 * header's C string and comment: letters, digits, space and - _ . kept,
 * anything else '?', at most NAME_MAX_BYTES; NULL as "?". */
static const char *header_safe(const char *s, char out[NAME_MAX_BYTES + 1])
{
	size_t n = 0;
	for (; s && s[n] && n < NAME_MAX_BYTES; n++) {
		unsigned char c = (unsigned char)s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
			  c == '-' || c == '_' || c == '.';
		out[n] = ok ? (char)c : '?';
	}
	if (!n)
		out[n++] = '?';
	out[n] = 0;
	return out;
}

static bool metric_ok(long v)
{
	return v >= -METRIC_MAX && v <= METRIC_MAX;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return die("usage: ui_font_gen FONT.ttf PIXEL_SIZE OUT.h", NULL);
	const char *font_path = argv[1], *out_path = argv[3];
	char *end = NULL;
	unsigned long px = strtoul(argv[2], &end, 10);
	if (!end || *end || px < PIXEL_SIZE_MIN || px > PIXEL_SIZE_MAX)
		return die("the pixel size must be a whole number from 6 to 96", argv[2]);

	FT_Library lib;
	FT_Face face;
	if (FT_Init_FreeType(&lib))
		return die("FreeType could not start", NULL);
	if (FT_New_Face(lib, font_path, 0, &face))
		return die("FreeType could not open the font (is fonts-dejavu-core installed?)", font_path);
	if (FT_Set_Pixel_Sizes(face, 0, (FT_UInt)px))
		return die("the font has no outline at that size", font_path);

	static uint8_t atlas[ATLAS_WIDTH * ATLAS_HEIGHT_MAX];
	struct glyph g[GLYPHS];
	memset(atlas, 0, sizeof atlas);
	/* The white square at the top left. */
	for (unsigned y = GLYPH_PAD; y < GLYPH_PAD + WHITE_SIZE; y++)
		memset(atlas + y * ATLAS_WIDTH + GLYPH_PAD, 0xff, WHITE_SIZE);
	unsigned pen_x = 2 * GLYPH_PAD + WHITE_SIZE, pen_y = GLYPH_PAD, row_h = WHITE_SIZE;
	for (int c = FIRST_CHAR; c <= LAST_CHAR; c++) {
		FT_UInt gi = FT_Get_Char_Index(face, (FT_ULong)c);
		if (!gi || FT_Load_Glyph(face, gi, FT_LOAD_RENDER | FT_LOAD_TARGET_LIGHT))
			return die("the font lacks a printable ASCII character", font_path);
		FT_GlyphSlot s = face->glyph;
		if (s->bitmap.pixel_mode != FT_PIXEL_MODE_GRAY && s->bitmap.width)
			return die("FreeType did not render a grey-level bitmap", font_path);
		/* Rows read below are width bytes at buffer + y * pitch. */
		if (s->bitmap.width && s->bitmap.pitch < (int)s->bitmap.width)
			return die("FreeType gave a bitmap whose rows are shorter than its width", font_path);
		long advance = (long)((s->advance.x + 32) >> 6);
		if (!metric_ok(s->bitmap_left) || !metric_ok(s->bitmap_top) || advance < 0 || !metric_ok(advance))
			return die("a glyph's bearing or advance is out of range (-4096..4096 pixels)", font_path);
		struct glyph *o = &g[c - FIRST_CHAR];
		o->w = s->bitmap.width;
		o->h = s->bitmap.rows;
		o->bearing_x = s->bitmap_left;
		o->bearing_y = s->bitmap_top;
		o->advance = (unsigned)advance;
		if (pen_x + o->w + GLYPH_PAD > ATLAS_WIDTH) {
			pen_x = GLYPH_PAD;
			pen_y += row_h + GLYPH_PAD;
			row_h = 0;
		}
		if (o->w + 2 * GLYPH_PAD > ATLAS_WIDTH || pen_y + o->h + GLYPH_PAD > ATLAS_HEIGHT_MAX)
			return die("the glyphs do not fit the atlas at that size", argv[2]);
		o->x = pen_x;
		o->y = pen_y;
		for (unsigned y = 0; y < o->h; y++)
			memcpy(atlas + (pen_y + y) * ATLAS_WIDTH + pen_x, s->bitmap.buffer + (long)y * s->bitmap.pitch,
			       o->w);
		pen_x += o->w + GLYPH_PAD;
		if (o->h > row_h)
			row_h = o->h;
	}
	unsigned height = pen_y + row_h + GLYPH_PAD;
	height = (height + HEIGHT_ALIGN - 1) / HEIGHT_ALIGN * HEIGHT_ALIGN;
	long asc = (long)((face->size->metrics.ascender + 32) >> 6);
	long desc = -(long)((-face->size->metrics.descender + 32) >> 6);
	long lh = (long)((face->size->metrics.height + 32) >> 6);
	if (!metric_ok(asc) || !metric_ok(desc) || lh <= 0 || !metric_ok(lh))
		return die("the font's ascender, descender or line height is out of range", font_path);
	int ascender = (int)asc, descender = (int)desc, line_height = (int)lh;
	/* The font's names go into a C string and a comment: only safe bytes. */
	char family_buf[NAME_MAX_BYTES + 1], style_buf[NAME_MAX_BYTES + 1], base_buf[NAME_MAX_BYTES + 1];
	const char *family = header_safe(face->family_name, family_buf);
	const char *style = header_safe(face->style_name, style_buf);

	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", out_path) >= (int)sizeof tmp)
		return die("the output path is too long", out_path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return die("cannot write the header", strerror(errno));
	const char *base = strrchr(font_path, '/');
	base = header_safe(base ? base + 1 : font_path, base_buf);
	fprintf(f, "/* Generated by tools/ui-font/ui_font_gen from %s (%s %s, FreeType %d.%d.%d) at %lu px:\n"
		   " * do not edit. */\n",
		base, family, style, FREETYPE_MAJOR, FREETYPE_MINOR, FREETYPE_PATCH, px);
	fprintf(f, "#pragma once\n#include <stdint.h>\n\n#include \"ui/ui_font.h\"\n\n");
	fprintf(f, "#define UI_FONT_ATLAS_FONT \"%s %s\"\n\n", family, style);
	fprintf(f, "static const uint8_t ui_font_atlas_pixels[%u * %u] = {\n", ATLAS_WIDTH, height);
	for (unsigned i = 0; i < ATLAS_WIDTH * height; i++)
		fprintf(f, "%s%u,%s", i % 24 ? "" : "\t", atlas[i], i % 24 == 23 ? "\n" : "");
	fprintf(f, "\n};\n\nstatic const struct ui_font ui_font_atlas = {\n");
	fprintf(f, "\t.width = %u,\n\t.height = %u,\n\t.pixels = ui_font_atlas_pixels,\n", ATLAS_WIDTH, height);
	fprintf(f, "\t.pixel_size = %lu,\n\t.ascender = %d,\n\t.descender = %d,\n\t.line_height = %d,\n", px, ascender,
		descender, line_height);
	float white = GLYPH_PAD + WHITE_SIZE / 2 - 0.5f; /* a texel's centre, inside the square */
	fprintf(f, "\t.white_uv = { %.9gf, %.9gf },\n\t.glyph = {\n", white / ATLAS_WIDTH, white / height);
	for (int i = 0; i < GLYPHS; i++)
		fprintf(f, "\t\t{ %u, %u, %u, %u, %d, %d, %u }, /* %d */\n", g[i].x, g[i].y, g[i].w, g[i].h,
			g[i].bearing_x, g[i].bearing_y, g[i].advance, FIRST_CHAR + i);
	fprintf(f, "\t},\n};\n");
	if (ferror(f) | fclose(f)) {
		remove(tmp);
		return die("writing the header failed", strerror(errno));
	}
	if (rename(tmp, out_path)) {
		remove(tmp);
		return die("cannot rename the header into place", strerror(errno));
	}
	FT_Done_Face(face);
	FT_Done_FreeType(lib);
	return 0;
}
