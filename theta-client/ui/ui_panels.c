/* What each panel holds (docs/ui.md, "Panels"), laid out in panel pixels
 * from the editor (tool, option, selection, history), the scene (the
 * selected entity's mesh and its faces' authors) and the overlay's status.
 * Every item's words also go to the panel's text, one line per row. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "edit/edit.h"
#include "edit/edit_palette.h"
#include "edit/edit_pick.h"
#include "th_hex.h"
#include "th_mesh.h"
#include "ui/ui_int.h"

#define UI_W_TOOLS 130.0f
#define UI_W_COLOURS (UI_SWATCH_COLUMNS * UI_SWATCH + (UI_SWATCH_COLUMNS - 1) * 4.0f + 2 * UI_PAD)
#define UI_W_HISTORY 400.0f
#define UI_W_INSPECTOR 320.0f
#define UI_W_OVERLAY 320.0f
#define UI_AUTHOR_BYTES 4u /* of a key shown for another author */

struct ui_lay {
	struct ui_pane *p;
	float y; /* the next row's top */
	const struct ui_font *f;
};

static float row_h(const struct ui_font *f)
{
	return (float)f->line_height + 4;
}

static float button_h(const struct ui_font *f)
{
	return (float)f->line_height + 8;
}

/* A string's length after appending what snprintf said it wrote (k) into
 * a buffer of cap bytes: truncation stops at the end. */
static size_t advance(size_t len, int k, size_t cap)
{
	if (k < 0)
		return len;
	return len + (size_t)k >= cap ? cap - 1 : len + (size_t)k;
}

static void text_line(struct ui_pane *p, const char *s)
{
	size_t len = strlen(s);
	if (p->text_len + len + 2 > sizeof p->text)
		return;
	memcpy(p->text + p->text_len, s, len);
	p->text_len += len;
	p->text[p->text_len++] = '\n';
	p->text[p->text_len] = 0;
}

/* label cut to fit w pixels, ending in ".." when cut. */
static void fit(const struct ui_font *f, char *label, float w)
{
	size_t n = strlen(label);
	if ((float)ui_font_text_width(f, label) <= w)
		return;
	uint32_t dots = ui_font_text_width(f, "..");
	uint32_t acc = 0;
	size_t k = 0;
	for (; k < n; k++) {
		uint32_t a = ui_font_glyph(f, (unsigned char)label[k])->advance;
		if ((float)(acc + a + dots) > w)
			break;
		acc += a;
	}
	if (k + 3 > UI_LABEL_MAX)
		k = UI_LABEL_MAX - 3;
	memcpy(label + k, "..", 3);
}

static struct ui_item *item(struct ui_lay *l, uint8_t kind, float x, float y, float w, float h)
{
	struct ui_pane *p = l->p;
	if (p->n >= UI_ITEMS_MAX)
		return NULL;
	struct ui_item *it = &p->it[p->n++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->x = x;
	it->y = y;
	it->w = w;
	it->h = h;
	return it;
}

static void set_label(struct ui_lay *l, struct ui_item *it, const char *fmt, va_list ap)
{
	vsnprintf(it->label, sizeof it->label, fmt, ap);
	fit(l->f, it->label, it->w - (it->kind == UI_IT_BUTTON ? 2 * UI_PAD : 0));
}

/* A row of text (a title when kind is UI_IT_TITLE) across the panel. */
static void row(struct ui_lay *l, uint8_t kind, const char *fmt, ...)
{
	struct ui_item *it = item(l, kind, UI_PAD, l->y, l->p->w - 2 * UI_PAD, row_h(l->f));
	l->y += row_h(l->f);
	if (!it)
		return;
	va_list ap;
	va_start(ap, fmt);
	set_label(l, it, fmt, ap);
	va_end(ap);
	text_line(l->p, it->label);
}

/* A button at x (panel pixels) of width w on the current row; its text
 * line is "[label]", "[*label]" when lit. */
static struct ui_item *button(struct ui_lay *l, float x, float w, uint8_t press, uint32_t arg, bool lit, const char *fmt,
			      ...)
{
	struct ui_item *it = item(l, UI_IT_BUTTON, x, l->y, w, button_h(l->f));
	if (!it)
		return NULL;
	it->press = press;
	it->arg = arg;
	it->lit = lit;
	va_list ap;
	va_start(ap, fmt);
	set_label(l, it, fmt, ap);
	va_end(ap);
	return it;
}

static void begin(struct ui_lay *l, struct ui *u, enum ui_panel which, float w)
{
	l->p = &u->pane[which];
	l->f = ui_font();
	l->p->w = w;
	l->p->n = 0;
	l->p->text_len = 0;
	l->p->text[0] = 0;
	l->y = UI_PAD;
}

static void end(struct ui_lay *l)
{
	l->p->h = l->y + UI_PAD;
}

static void button_line(struct ui_pane *p, const struct ui_item *const *b, unsigned n)
{
	char line[2 * UI_LABEL_MAX + 16];
	size_t len = 0;
	line[0] = 0;
	for (unsigned i = 0; i < n && len < sizeof line - 1; i++) {
		if (!b[i])
			continue;
		int k = snprintf(line + len, sizeof line - len, "%s[%s%s]", len ? " " : "", b[i]->lit ? "*" : "",
				 b[i]->label);
		len = advance(len, k, sizeof line);
	}
	text_line(p, line);
}

static void tools(struct ui *u, const struct edit *ed)
{
	struct ui_lay l;
	begin(&l, u, UI_PANEL_TOOLS, UI_W_TOOLS);
	row(&l, UI_IT_TITLE, "Tools");
	uint32_t cur = ed ? edit_tool(ed) : 0;
	for (uint32_t t = 1; t <= EDIT_TOOL_MAX; t++) {
		const struct ui_item *b = button(&l, UI_PAD, l.p->w - 2 * UI_PAD, UI_PRESS_TOOL, t, t == cur, "%s",
						 edit_tool_name(t));
		button_line(l.p, &b, 1);
		l.y += button_h(l.f) + 2;
	}
	if (ed && edit_options(ed))
		row(&l, UI_IT_TEXT, "%s", edit_option_name(ed));
	else
		row(&l, UI_IT_TEXT, "no options");
	l.y += 2;
	const struct ui_item *b = button(&l, UI_PAD, l.p->w - 2 * UI_PAD, UI_PRESS_OVERLAY, 0,
					 u->visible[UI_PANEL_OVERLAY], "overlay");
	button_line(l.p, &b, 1);
	l.y += button_h(l.f);
	end(&l);
}

/* A linear colour channel to sRGB, 0..255. */
static unsigned srgb8(float c)
{
	c = c < 0 ? 0 : c > 1 ? 1 : c;
	float s = c <= 0.0031308f ? 12.92f * c : 1.055f * powf(c, 1 / 2.4f) - 0.055f;
	return (unsigned)lrintf(s * 255);
}

static void colours(struct ui *u, const struct edit *ed)
{
	struct ui_lay l;
	begin(&l, u, UI_PANEL_COLOURS, UI_W_COLOURS);
	row(&l, UI_IT_TITLE, "Colours");
	bool painting = ed && edit_tool(ed) == EDIT_TOOL_PAINT;
	unsigned cur = painting ? edit_option(ed) : EDIT_PALETTE_SLOTS;
	char line[UI_TEXT_MAX / 8];
	size_t len = 0;
	for (unsigned s = 0; s < EDIT_PALETTE_SLOTS; s++) {
		unsigned c = s % UI_SWATCH_COLUMNS;
		const struct edit_palette_entry *pe = edit_palette(s);
		struct ui_item *it = item(&l, UI_IT_SWATCH, UI_PAD + c * (UI_SWATCH + 4), l.y, UI_SWATCH, UI_SWATCH);
		if (it) {
			it->press = UI_PRESS_COLOUR;
			it->arg = s;
			it->lit = s == cur;
			it->rgba = ui_rgba(srgb8(pe->rgba[0]), srgb8(pe->rgba[1]), srgb8(pe->rgba[2]),
					   (unsigned)lrintf(fmaxf(pe->rgba[3], 0.5f) * 255));
			snprintf(it->label, sizeof it->label, "%s", pe->name);
			int k = snprintf(line + len, sizeof line - len, "%s%s%s]", c ? " " : "", it->lit ? "[*" : "[",
					 pe->name);
			len = advance(len, k, sizeof line);
		}
		if (c == UI_SWATCH_COLUMNS - 1 || s == EDIT_PALETTE_SLOTS - 1) {
			text_line(l.p, line);
			len = 0;
			line[0] = 0;
			l.y += UI_SWATCH + 4;
		}
	}
	l.y += 2;
	if (painting && edit_palette(cur))
		row(&l, UI_IT_TEXT, "paint: %s", edit_palette(cur)->name);
	else
		row(&l, UI_IT_TEXT, "pick one to paint");
	end(&l);
}

static const char *mode_name(uint32_t mode)
{
	switch (mode) {
	case TH_SELECT_OBJECT: return "object";
	case TH_SELECT_FACE: return "face";
	case TH_SELECT_EDGE: return "edge";
	case TH_SELECT_VERTEX: return "vertex";
	}
	return "?";
}

static const char *mode_plural(uint32_t mode)
{
	switch (mode) {
	case TH_SELECT_FACE: return "faces";
	case TH_SELECT_EDGE: return "edges";
	case TH_SELECT_VERTEX: return "vertices";
	}
	return "elements";
}

/* Who made face id of m: "you", "unknown", or the key's first bytes. */
static void face_author(const struct th_mesh *m, uint64_t id, const struct edit_history *h, char *out, size_t cap)
{
	struct th_mesh_origin o;
	int32_t slot = th_mesh_face_find(m, id);
	if (slot == TH_MESH_NONE || th_mesh_face_origin(m, slot, &o) < 0) {
		snprintf(out, cap, "face gone");
		return;
	}
	static const uint8_t zero[TH_MESH_AUTHOR_LEN];
	if (memcmp(o.author, zero, sizeof zero) == 0) {
		snprintf(out, cap, "author unknown");
		return;
	}
	if (h && h->have_key && memcmp(o.author, h->key, TH_MESH_AUTHOR_LEN) == 0) {
		snprintf(out, cap, "author you (lamport %" PRIu64 ")", o.lamport);
		return;
	}
	char hex[2 * UI_AUTHOR_BYTES + 1];
	th_hex_encode(o.author, UI_AUTHOR_BYTES, hex);
	snprintf(out, cap, "author %s.. (lamport %" PRIu64 ")", hex, o.lamport);
}

static void inspector(struct ui *u, const struct edit *ed, const struct th_scene *sc)
{
	struct ui_lay l;
	begin(&l, u, UI_PANEL_INSPECTOR, UI_W_INSPECTOR);
	row(&l, UI_IT_TITLE, "Selection");
	const struct edit_selection *s = ed ? edit_selection(ed) : NULL;
	const struct th_c_transform *t = NULL;
	const struct th_mesh *m = NULL;
	if (!s || !s->entity) {
		row(&l, UI_IT_TEXT, "nothing selected");
		end(&l);
		return;
	}
	row(&l, UI_IT_TEXT, "entity %016" PRIx64, s->entity);
	if (!sc || !edit_entity_mesh(sc, s->entity, &t, &m)) {
		row(&l, UI_IT_TEXT, "no mesh (gone, or not in the scene yet)");
		end(&l);
		return;
	}
	if (m != u->stats_mesh || m->version != u->stats_version) {
		struct th_mesh_stats st;
		th_mesh_stats(m, &st);
		u->stats_mesh = m;
		u->stats_version = m->version;
		u->stats_faces = st.faces;
		u->stats_edges = st.edges;
		u->stats_verts = st.vertices;
	}
	row(&l, UI_IT_TEXT, "%" PRIu32 " faces, %" PRIu32 " edges, %" PRIu32 " vertices", u->stats_faces,
	    u->stats_edges, u->stats_verts);
	if (s->mode == TH_SELECT_OBJECT || !s->n)
		row(&l, UI_IT_TEXT, "whole object");
	else
		row(&l, UI_IT_TEXT, "%u %s selected", s->n, s->n == 1 ? mode_name(s->mode) : mode_plural(s->mode));
	if (s->mode == TH_SELECT_FACE && s->n) {
		char who[UI_LABEL_MAX];
		face_author(m, s->el[0].id, edit_history(ed), who, sizeof who);
		row(&l, UI_IT_TEXT, "face %016" PRIx64, s->el[0].id);
		row(&l, UI_IT_TEXT, "%s", who);
	} else {
		row(&l, UI_IT_TEXT, "select a face to see its author");
	}
	end(&l);
}

static void history(struct ui *u, const struct edit *ed)
{
	struct ui_lay l;
	begin(&l, u, UI_PANEL_HISTORY, UI_W_HISTORY);
	row(&l, UI_IT_TITLE, "History");
	const struct edit_history *h = ed ? edit_history(ed) : NULL;
	unsigned shown = 0;
	for (unsigned k = h ? h->n : 0; k-- > 0 && shown < UI_HISTORY_ROWS;) {
		const struct edit_hist_entry *e = &h->e[k];
		if (e->kind == EDIT_H_STATE)
			continue;
		/* The state first: a long description is cut at the edge. */
		row(&l, UI_IT_TEXT, "#%" PRIu64 " %s: %s", e->tag, edit_hist_state_name(e), e->text);
		shown++;
	}
	if (!shown)
		row(&l, UI_IT_TEXT, "no edits yet");
	l.y += 2;
	float bw = (l.p->w - 3 * UI_PAD) / 2;
	const struct ui_item *b[2] = {
		button(&l, UI_PAD, bw, UI_PRESS_UNDO, 0, false, "undo"),
		button(&l, 2 * UI_PAD + bw, bw, UI_PRESS_REDO, 0, false, "redo"),
	};
	button_line(l.p, b, 2);
	l.y += button_h(l.f);
	end(&l);
}

/* The overlay's voice row. */
static const char *voice_line(uint32_t v)
{
	if (!(v & UI_VOICE_ON))
		return "voice off";
	bool sending = v & UI_VOICE_SENDING;
	if (v & UI_VOICE_ADMIN_MUTED)
		return "voice: muted by an admin";
	if (v & UI_VOICE_MUTED)
		return "voice: muted";
	if (v & UI_VOICE_PTT) {
		if (!(v & UI_VOICE_TALK))
			return "voice: push-to-talk, not talking";
		return sending ? "voice: push-to-talk, talking, heard" : "voice: push-to-talk, talking";
	}
	return sending ? "voice: open, heard" : "voice: open";
}

static void overlay(struct ui *u, const struct ui_status *st)
{
	struct ui_lay l;
	begin(&l, u, UI_PANEL_OVERLAY, UI_W_OVERLAY);
	row(&l, UI_IT_TITLE, "Overlay");
	if (!st) {
		row(&l, UI_IT_TEXT, "no figures yet");
		end(&l);
		return;
	}
	if (st->frame_p50_ms > 0)
		row(&l, UI_IT_TEXT, "frame %.1f ms, p99 %.1f ms", st->frame_p50_ms, st->frame_p99_ms);
	else
		row(&l, UI_IT_TEXT, "frame time not measured yet");
	if (!st->linked) {
		row(&l, UI_IT_TEXT, "not linked to a daemon");
	} else {
		if (st->rtt_us > 0)
			row(&l, UI_IT_TEXT, "RTT to the host %.1f ms", (double)st->rtt_us / 1000.0);
		else if (st->rtt_us == 0)
			row(&l, UI_IT_TEXT, "RTT 0: this daemon hosts");
		else
			row(&l, UI_IT_TEXT, "RTT to the host unknown");
		if (st->peers >= 0)
			row(&l, UI_IT_TEXT, "peers %" PRId32, st->peers);
		else
			row(&l, UI_IT_TEXT, "peers unknown");
	}
	char names[UI_LABEL_MAX];
	size_t len = 0;
	unsigned ns = st->nspeaking < UI_SPEAKERS_MAX ? st->nspeaking : UI_SPEAKERS_MAX;
	names[0] = 0;
	for (unsigned i = 0; i < ns && len < sizeof names - 1; i++) {
		int k = snprintf(names + len, sizeof names - len, "%s%.*s", i ? ", " : "", (int)UI_NAME_MAX,
				 st->speaking[i]);
		len = advance(len, k, sizeof names);
	}
	row(&l, UI_IT_TEXT, "%s", voice_line(st->voice));
	row(&l, UI_IT_TEXT, "speaking: %s", ns ? names : "nobody");
	row(&l, UI_IT_TEXT, "log position %" PRIu64, st->log_pos);
	end(&l);
}

void ui_panels_build(struct ui *u, const struct edit *ed, const struct ui_frame_in *fi)
{
	tools(u, ed);
	colours(u, ed);
	inspector(u, ed, fi ? fi->sc : NULL);
	history(u, ed);
	overlay(u, fi ? fi->status : NULL);
}
