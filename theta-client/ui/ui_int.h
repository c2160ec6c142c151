/* The UI's insides (ui.c: frame, placement, hit-testing, presses;
 * ui_panels.c: what each panel holds; ui_mesh.c: its triangles). A panel
 * is laid out in its own pixels (x right, y down from its top left corner,
 * the font's pixels), then placed: its corner o and the world (or window)
 * step of one panel pixel right (ax) and down (ay). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ui/ui.h"
#include "ui/ui_font.h"

#define UI_ITEMS_MAX 64u        /* items of one panel */
#define UI_LABEL_MAX 96u        /* bytes of one item's label */
#define UI_TEXT_MAX 4096u       /* bytes of one panel's text */
#define UI_VERTS_MAX (1u << 18) /* vertices of one mesh: past it, the rest of the frame is not drawn */
#define UI_HISTORY_ROWS 8u      /* history entries shown, newest first */
#define UI_PAD 8.0f             /* panel pixels around and between items */
#define UI_SWATCH 26.0f         /* a colour swatch's side */
#define UI_SWATCH_COLUMNS 6u
#define UI_PANEL_GAP 12.0f      /* between neighbouring panels */

/* Headset placement (docs/ui.md, "Layout"). */
#define UI_M_PER_PX_HAND 0.0005f /* metres per panel pixel on the hand: the 16 px font 8 mm tall */
#define UI_M_PER_PX_HEAD 0.0007f /* in front of the head (farther: the same angle, about 1 degree) */
#define UI_HAND_LIFT 0.06f     /* the hand panels' bottom edge above the left grip, metres */
#define UI_HEAD_DIST 0.7f      /* history, inspector and overlay in front of the head */
#define UI_HEAD_SIDE 0.2f      /* history's centre left of the gaze, the inspector's right */
#define UI_HEAD_BELOW 0.08f    /* their top edges below the eyes */
#define UI_HEAD_ABOVE 0.12f    /* the overlay's bottom edge above them */
#define UI_RAY_MAX 10.0f       /* metres: panels farther along the ray are not hit */
#define UI_DOT 8.0f            /* the ray's dot on a panel, panel pixels */
/* Desktop placement: window pixels from its edges. */
#define UI_MARGIN 10.0f

enum ui_item_kind { UI_IT_TEXT = 1, UI_IT_BUTTON, UI_IT_SWATCH, UI_IT_TITLE };
enum ui_press { UI_PRESS_NONE = 0, UI_PRESS_TOOL, UI_PRESS_COLOUR, UI_PRESS_UNDO, UI_PRESS_REDO, UI_PRESS_OVERLAY };

struct ui_item {
	float x, y, w, h; /* panel pixels */
	uint8_t kind, press;
	bool lit;         /* the current tool / colour */
	uint32_t arg;     /* the tool, the palette slot */
	uint32_t rgba;    /* a swatch's colour */
	char label[UI_LABEL_MAX];
};

struct ui_pane {
	float w, h; /* panel pixels */
	unsigned n;
	struct ui_item it[UI_ITEMS_MAX];
	char text[UI_TEXT_MAX];
	size_t text_len;
	bool placed;              /* shown this frame (visible, and its anchor tracked) */
	float o[3], ax[3], ay[3]; /* placement: corner, one pixel right, one pixel down */
};

struct ui_buf {
	struct ui_vertex *v;
	uint32_t n, cap;
	bool full; /* UI_VERTS_MAX reached (or oom) this frame: the rest is not drawn */
	bool oom;  /* growing failed */
};

struct ui {
	bool visible[UI_PANELS];
	struct ui_pane pane[UI_PANELS];
	bool desktop;
	float scale; /* ui_frame_in.world_scale: what the headset's metres are multiplied by */
	/* The trigger (headset) or left button (desktop): down with the
	 * editor's hysteresis, and whether this press is the UI's. */
	bool down, captured;
	/* What the ray or cursor is on, this frame. */
	int hover_panel, hover_item;
	float hover_at[2]; /* panel pixels */
	/* The inspector's element counts, kept per (mesh, version). */
	const struct th_mesh *stats_mesh;
	uint64_t stats_version;
	uint32_t stats_faces, stats_edges, stats_verts;
	struct ui_buf world, screen;
};

/* ui_panels.c: the content of every panel from the editor, the scene and
 * the status (sizes in pane->w, h; items; text). */
void ui_panels_build(struct ui *u, const struct edit *ed, const struct ui_frame_in *fi);
/* ui_mesh.c: the triangles of every placed pane into u->world or
 * u->screen; 0 or -ENOMEM. */
int ui_mesh_build(struct ui *u);

/* A quad of panel pixels (x, y, w, h) with atlas rectangle uv (u0 v0 u1 v1)
 * and a colour, through the pane's placement. */
void ui_buf_quad(struct ui_buf *b, const struct ui_pane *p, const float r[4], const float uv[4], uint32_t rgba);

static inline uint32_t ui_rgba(unsigned r, unsigned g, unsigned b, unsigned a)
{
	return (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16 | (uint32_t)a << 24;
}
