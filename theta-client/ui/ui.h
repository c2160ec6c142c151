/* The editor's panels (docs/ui.md), in the headset and on the desktop:
 *   tools      the tool palette (one button per tool, the current one lit)
 *   colours    the paint palette (edit_palette.h's slots; picking one selects
 *              the paint tool with that colour)
 *   inspector  the selection: entity, mode, element counts (faces, edges,
 *              vertices of its mesh; elements selected), and the author of
 *              the selected face ("you" or the first bytes of the key)
 *   history    the user's newest own edits, undos and redos (edit_history.h)
 *              with their state, and Undo / Redo buttons
 *   overlay    frame time p50/p99, RTT to the host, peers, the voice (off,
 *              open, muted, push-to-talk; heard), who is speaking,
 *              the log position; hidden at first, toggled by the tools
 *              panel's overlay button, the left thumbstick click (headset)
 *              and the desktop's key (edit_desk.h; main calls ui_set_visible)
 *
 * Layout and hit-testing are pure code (no clock, no GPU); what to draw is
 * a triangle list (struct ui_mesh) textured from one font atlas (a real
 * font rasterised by FreeType at build time, ui_font.h), which the renderer
 * draws last, without depth test, alpha blended.
 *
 * In the headset (desktop false) the tools and colours panels float above
 * the left controller (its grip pose, facing the head); the history, the
 * inspector and the overlay in front of the head; they are hit by the right
 * controller's aim ray (its grip pose's -Z when the source gives no aim)
 * and the trigger presses what it hits; the ray passes through panels
 * without buttons (inspector, overlay). On the desktop
 * (desktop true) the same panels are laid out in window pixels (tools and
 * colours down the left side, history and inspector down the right, the
 * overlay at the top) and the cursor and the left button press them.
 *
 * A press that lands on a panel is the UI's: ui_frame clears the right
 * hand's trigger (the value, and TH_BUTTON_TRIGGER held, pressed and
 * released) and the desktop's left button from the input until it is
 * released, so the tool under it never sees it. A press that went down off
 * the panels stays the tool's until released. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "edit/edit.h"
#include "inp/input.h"
#include "th_scene.h"

enum ui_panel {
	UI_PANEL_TOOLS = 0,
	UI_PANEL_COLOURS,
	UI_PANEL_INSPECTOR,
	UI_PANEL_HISTORY,
	UI_PANEL_OVERLAY,
	UI_PANELS
};

/* A vertex of the UI's triangles: position (world metres, or window pixels
 * with y down and z 0 for the screen list), the atlas coordinate, colour
 * (sRGB RGBA8, little-endian r first). Solid areas sample the atlas's white
 * texel (ui_font.h). */
struct ui_vertex {
	float pos[3];
	float uv[2];
	uint32_t rgba;
};

struct ui_mesh {
	const struct ui_vertex *v;
	uint32_t n; /* vertices, a multiple of 3 */
};

/* The overlay's figures (main.c fills them from the loop, the link and the
 * scene). Unknown values: rtt_us < 0, and so on as below. */
#define UI_SPEAKERS_MAX 8u
#define UI_NAME_MAX 32u
/* ui_status.voice: the client's voice (docs/voice.md, "The client"). */
enum ui_voice {
	UI_VOICE_ON = 1u << 0,          /* the audio is open */
	UI_VOICE_MUTED = 1u << 1,       /* the user muted the microphone */
	UI_VOICE_PTT = 1u << 2,         /* push-to-talk mode */
	UI_VOICE_TALK = 1u << 3,        /* push-to-talk held */
	UI_VOICE_ADMIN_MUTED = 1u << 4, /* an admin of the session muted this user */
	UI_VOICE_SENDING = 1u << 5,     /* the daemon sends this user's voice now */
};
struct ui_status {
	double frame_p50_ms, frame_p99_ms;
	int64_t rtt_us;       /* to the session's host; < 0 unknown (or this daemon is the host: 0) */
	int32_t peers;        /* < 0: unknown (not linked) */
	uint64_t log_pos;     /* the scene's position (entries folded) */
	bool linked;          /* a daemon is there */
	unsigned nspeaking;
	char speaking[UI_SPEAKERS_MAX][UI_NAME_MAX];
	uint32_t voice;       /* UI_VOICE_*; 0: voice off */
};

struct ui_frame_in {
	const struct th_scene *sc; /* may be NULL (no scene yet) */
	const struct ui_status *status;
	bool desktop;
	/* The headset: world metres per stage metre (app/nav.h's scale), so
	 * the panels keep their size and distance to the user however the
	 * world was scaled. 0: 1. */
	float world_scale;
};

enum ui_action {
	UI_ACT_TOOL = 1u << 0,    /* a tool was chosen */
	UI_ACT_COLOUR = 1u << 1,  /* a colour was chosen */
	UI_ACT_UNDO = 1u << 2,
	UI_ACT_REDO = 1u << 3,
	UI_ACT_OVERLAY = 1u << 4, /* the overlay was toggled */
	UI_ACT_REFUSED = 1u << 5, /* a button said no (nothing to undo, ...); an undo or redo the
				   * editor refused is also one of its refusals (edit_stats.refusals
				   * grows, edit_take_message says why): pulse once for both */
};

struct ui_frame_out {
	unsigned actions;   /* UI_ACT_* this frame */
	bool hover;         /* the ray / cursor is on a panel */
	int hover_panel;    /* enum ui_panel, -1 none */
	bool consumed;      /* the trigger / left button is the UI's this frame */
};

struct ui;

int ui_create(struct ui **out);
void ui_destroy(struct ui **p);

/* One frame, after the input is in world space and before edit_frame:
 * hit-tests, applies presses to ed (edit_set_tool, edit_set_option, edit_undo,
 * edit_redo), clears what it consumed from *in, and lays out the panels for
 * ui_world_mesh / ui_screen_mesh. ed may be NULL (presses of its buttons
 * are UI_ACT_REFUSED), fi may be NULL (no scene, no status, the headset).
 * 0, -EINVAL (u or in NULL), or -ENOMEM (the triangles could not grow: the
 * rest of that frame's panels is not drawn; the presses were applied). */
int ui_frame(struct ui *u, uint64_t now_ns, struct inp_state *in, struct edit *ed, const struct ui_frame_in *fi,
	     struct ui_frame_out *out);

void ui_set_visible(struct ui *u, enum ui_panel p, bool on);
bool ui_visible(const struct ui *u, enum ui_panel p);

/* What ui_frame laid out: world-space triangles (headset) and window-pixel
 * triangles (desktop), valid until the next ui_frame. */
struct ui_mesh ui_world_mesh(const struct ui *u);
struct ui_mesh ui_screen_mesh(const struct ui *u);

/* The text a panel shows now, one line per row (tests read it). NULL for a
 * hidden panel. */
const char *ui_panel_text(const struct ui *u, enum ui_panel p);

/* The centre of panel p's button (or colour swatch) named label ("move",
 * "undo", "red", ...) as the last ui_frame placed it: world metres in the
 * headset, window pixels (z 0) on the desktop; where a test or a script
 * points. 0, or -ENOENT (no such button, or the panel is not shown). */
int ui_button_centre(const struct ui *u, enum ui_panel p, const char *label, float out[3]);
