/* The panels' triangles (docs/ui.md, "Drawing"): per placed panel, in
 * order, its background, its buttons and swatches, their words, and the
 * ray's dot; all textured from the font atlas (solid areas from its white
 * texel), to be drawn in list order without depth test, alpha blended,
 * both faces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui_int.h"

#define UI_RGBA_PANEL ui_rgba(18, 22, 30, 210)
#define UI_RGBA_TITLE ui_rgba(255, 214, 110, 255)
#define UI_RGBA_TEXT ui_rgba(232, 232, 232, 255)
#define UI_RGBA_BUTTON ui_rgba(58, 64, 80, 235)
#define UI_RGBA_BUTTON_HOVER ui_rgba(92, 102, 128, 245)
#define UI_RGBA_LIT ui_rgba(38, 108, 200, 245)
#define UI_RGBA_LIT_HOVER ui_rgba(70, 140, 230, 250)
#define UI_RGBA_RING ui_rgba(255, 255, 255, 255)
#define UI_RGBA_RING_HOVER ui_rgba(160, 160, 160, 255)
#define UI_RGBA_DOT ui_rgba(255, 255, 255, 255)
#define UI_RING 3.0f /* a lit or hovered swatch's frame, panel pixels */

static bool grow(struct ui_buf *b, uint32_t more)
{
	if (b->full)
		return false;
	if (b->n + more > UI_VERTS_MAX) {
		b->full = true;
		return false;
	}
	if (b->n + more <= b->cap)
		return true;
	uint32_t cap = b->cap ? b->cap : 1024;
	while (cap < b->n + more)
		cap *= 2;
	if (cap > UI_VERTS_MAX)
		cap = UI_VERTS_MAX;
	struct ui_vertex *v = realloc(b->v, (size_t)cap * sizeof *v);
	if (!v) {
		b->full = b->oom = true;
		return false;
	}
	b->v = v;
	b->cap = cap;
	return true;
}

static void corner(const struct ui_pane *p, float x, float y, float u, float v, uint32_t rgba, struct ui_vertex *out)
{
	for (int k = 0; k < 3; k++)
		out->pos[k] = p->o[k] + x * p->ax[k] + y * p->ay[k];
	out->uv[0] = u;
	out->uv[1] = v;
	out->rgba = rgba;
}

void ui_buf_quad(struct ui_buf *b, const struct ui_pane *p, const float r[4], const float uv[4], uint32_t rgba)
{
	if (!grow(b, 6))
		return;
	float x0 = r[0], y0 = r[1], x1 = r[0] + r[2], y1 = r[1] + r[3];
	struct ui_vertex *v = b->v + b->n;
	corner(p, x0, y0, uv[0], uv[1], rgba, &v[0]);
	corner(p, x0, y1, uv[0], uv[3], rgba, &v[1]);
	corner(p, x1, y1, uv[2], uv[3], rgba, &v[2]);
	v[3] = v[0];
	v[4] = v[2];
	corner(p, x1, y0, uv[2], uv[1], rgba, &v[5]);
	b->n += 6;
}

static void solid(struct ui_buf *b, const struct ui_pane *p, float x, float y, float w, float h, uint32_t rgba)
{
	const struct ui_font *f = ui_font();
	const float uv[4] = { f->white_uv[0], f->white_uv[1], f->white_uv[0], f->white_uv[1] };
	ui_buf_quad(b, p, (const float[4]){ x, y, w, h }, uv, rgba);
}

/* s with its baseline's left end at (x, base). */
static void text(struct ui_buf *b, const struct ui_pane *p, float x, float base, const char *s, uint32_t rgba)
{
	const struct ui_font *f = ui_font();
	float fw = (float)f->width, fh = (float)f->height;
	for (; *s; s++) {
		const struct ui_glyph *g = ui_font_glyph(f, (unsigned char)*s);
		if (g->w && g->h) {
			const float r[4] = { x + g->bearing_x, base - g->bearing_y, g->w, g->h };
			const float uv[4] = { g->x / fw, g->y / fh, (g->x + g->w) / fw, (g->y + g->h) / fh };
			ui_buf_quad(b, p, r, uv, rgba);
		}
		x += g->advance;
	}
}

static void pane(struct ui *u, struct ui_buf *b, int which)
{
	const struct ui_pane *p = &u->pane[which];
	const struct ui_font *f = ui_font();
	solid(b, p, 0, 0, p->w, p->h, UI_RGBA_PANEL);
	for (unsigned i = 0; i < p->n; i++) {
		const struct ui_item *it = &p->it[i];
		bool hov = u->hover_panel == which && u->hover_item == (int)i;
		float base = it->y + (it->h - (float)f->line_height) / 2 + (float)f->ascender;
		switch (it->kind) {
		case UI_IT_TITLE:
		case UI_IT_TEXT:
			text(b, p, it->x, base, it->label, it->kind == UI_IT_TITLE ? UI_RGBA_TITLE : UI_RGBA_TEXT);
			break;
		case UI_IT_BUTTON:
			solid(b, p, it->x, it->y, it->w, it->h,
			      it->lit ? (hov ? UI_RGBA_LIT_HOVER : UI_RGBA_LIT) : hov ? UI_RGBA_BUTTON_HOVER : UI_RGBA_BUTTON);
			text(b, p, it->x + UI_PAD, base, it->label, UI_RGBA_TEXT);
			break;
		case UI_IT_SWATCH:
			if (it->lit || hov)
				solid(b, p, it->x - UI_RING, it->y - UI_RING, it->w + 2 * UI_RING, it->h + 2 * UI_RING,
				      it->lit ? UI_RGBA_RING : UI_RGBA_RING_HOVER);
			solid(b, p, it->x, it->y, it->w, it->h, it->rgba);
			break;
		}
	}
	if (!u->desktop && u->hover_panel == which)
		solid(b, p, u->hover_at[0] - UI_DOT / 2, u->hover_at[1] - UI_DOT / 2, UI_DOT, UI_DOT, UI_RGBA_DOT);
}

int ui_mesh_build(struct ui *u)
{
	struct ui_buf *b = u->desktop ? &u->screen : &u->world;
	u->world.n = u->screen.n = 0;
	u->world.full = u->screen.full = u->world.oom = u->screen.oom = false;
	for (int i = 0; i < UI_PANELS; i++)
		if (u->pane[i].placed)
			pane(u, b, i);
	return b->oom ? -ENOMEM : 0;
}
