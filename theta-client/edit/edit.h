/* The editor (docs/editor.md): tools as state machines that turn the frame's
 * input into mesh operations (common/th_meshop.h) and commands, the
 * selection (replicated as the Selection component), the tool state
 * (tool.state) and the user's own undo/redo history.
 *
 * Nothing here reads a clock or touches a socket: edit_frame takes the
 * frame's time and input and the scene as shown (the mirror's fold,
 * tentative own edits included); commands go out through the sink (the
 * app's outbox in theta-client, a recorder in tests), each with a tag that
 * the sender reports back (edit_on_sent) with the client sequence number it
 * got, so the history can follow it to the log (edit_on_answer,
 * edit_on_entry, edit_on_refused).
 *
 * Input mapping (right hand acts, left hand manages; docs/editor.md has the
 * table): right trigger acts (press, drag, release); right grip held adds to
 * the selection; right a / b: next / previous tool; right thumbstick
 * left/right flick: previous / next option of the tool (selection mode,
 * primitive kind, palette colour, ...); right thumbstick up/down flick: the
 * tool's parameter (primitive size, paint face/whole); left x: undo; left y:
 * redo; left menu: clear the selection. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edit/edit_history.h"
#include "edit/edit_pick.h"
#include "edit/edit_preview.h"
#include "inp/input.h"
#include "th_logrec.h"
#include "th_mesh.h"
#include "th_scene.h"
#include "th_schema.h"

/* tool.state's tool field and scope (the tool id). */
enum edit_tool {
	EDIT_TOOL_SELECT = 1,
	EDIT_TOOL_MOVE,
	EDIT_TOOL_EXTRUDE,
	EDIT_TOOL_SUBDIVIDE,
	EDIT_TOOL_VERTEX,
	EDIT_TOOL_PRIMITIVE,
	EDIT_TOOL_PAINT,
	EDIT_TOOL_DELETE,
	EDIT_TOOL_MIRROR,
	EDIT_TOOL_SHAPE,
	EDIT_TOOL_MAX = EDIT_TOOL_SHAPE
};
const char *edit_tool_name(uint32_t tool); /* "select", ...; "?" */

#define EDIT_SELECT_MAX 256u          /* elements one selection holds */
#define EDIT_PEERS_MAX 64u            /* other users whose tool is remembered */
#define EDIT_TRIGGER_DOWN 0.55f       /* trigger value that presses */
#define EDIT_TRIGGER_UP 0.45f         /* and releases (hysteresis) */
#define EDIT_GRIP_HELD 0.5f
#define EDIT_STICK_FLICK 0.7f         /* thumbstick deflection that counts as a flick */
#define EDIT_STICK_REARM 0.3f         /* back under it before the next flick */
#define EDIT_MESSAGE_MAX 160u
#define EDIT_PARAM_MAX 16             /* a tool's parameter stays in [-16, 16] */
#define EDIT_TOOL_SETTINGS_VERSION 1u /* tool.state settings: u8 version, u8 option, u8 param */
#define EDIT_TOOL_STATE_MIN_NS (200ull * 1000 * 1000) /* tool.state at most this often: changes coalesce */

/* This user's presence for the others (docs/presence.md "In the client"):
 * the tool's cursor (where its tip or ray points, world space) while the
 * right hand is tracked, and while a whole-object drag of the move tool is
 * in progress its preview: the entity and the Transform the drag would
 * write now (position and rotation; the scale stays). Element drags
 * (faces, edges, vertices; extrude) change geometry, which presence does
 * not carry: they show as the cursor only. A flag cleared: that thing
 * ended (the drag was released or cancelled, the hand lost). */
#define EDIT_PRES_CURSOR 1u
#define EDIT_PRES_PREVIEW 2u
#define EDIT_PRES_MOVE_MIN 0.001f /* metres a cursor or preview moves before it is new */
#define EDIT_PRES_TURN_MIN 0.0005f /* a rotation component's change that is new (~0.06 degrees) */
struct edit_presence {
	uint32_t flags; /* EDIT_PRES_* */
	uint32_t tool;  /* enum edit_tool of the cursor */
	float cursor[3];
	uint64_t target;
	float position[3], rotation[4];
};

/* Where commands go. tag names the command in edit_on_sent. 0, or a
 * negative errno (the tool says it could not send). presence (optional):
 * the user's presence changed this frame (at most once per edit_frame, at
 * its end; a cursor or preview moving less than EDIT_PRES_MOVE_MIN is no
 * change). */
struct edit_sink {
	int (*submit)(void *ud, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag);
	void (*presence)(void *ud, const struct edit_presence *p);
	void *ud;
};

struct edit_config {
	struct edit_sink sink;
	float pick_radius;  /* metres at world scale 1 (edit_set_reach_scale); 0: EDIT_PICK_RADIUS_DEFAULT */
	float grid;         /* snapping step for positions, metres; 0: the default (1 cm); < 0: off */
	uint32_t first_tool; /* 0: EDIT_TOOL_SELECT */
};

struct edit_sel_elem {
	uint64_t id;   /* face or vertex id; th_mesh_edge_id for an edge */
	uint64_t a, b; /* an edge's vertices */
};

/* The local selection: one entity, whole or some of its elements. */
struct edit_selection {
	uint64_t entity; /* 0: nothing selected */
	uint64_t mesh;
	uint32_t mode; /* TH_SELECT_* */
	unsigned n;    /* elements (0 for an object selection) */
	struct edit_sel_elem el[EDIT_SELECT_MAX];
};

/* The kind of element a tool works on now (its option and parameter):
 * TH_SELECT_OBJECT / FACE / EDGE / VERTEX, or EDIT_MODE_NONE for a tool
 * that picks nothing (primitive). */
#define EDIT_MODE_NONE 0xffffffffu

/* What the current tool would pick at the right hand's tip this frame
 * (the renderer's hover highlight and cursor), found at the end of each
 * edit_frame with the same rules the tool's trigger uses: the mode above,
 * the pick radius, the move tool's preference for the selection under the
 * tip, the vertex tool's edge (within half the radius) before the face. */
struct edit_hover {
	bool tracked;     /* the right hand's pose is valid this frame */
	float tip[3];     /* the tool tip (the right controller's position), world space */
	uint32_t tool;    /* enum edit_tool */
	uint32_t mode;    /* edit_tool_mode */
	bool hit;         /* h is what it would pick (entity, mesh, element) */
	struct edit_hit h;
};

struct edit_stats {
	uint64_t commands;  /* handed to the sink */
	uint64_t send_errors;
	uint64_t refusals;  /* a tool said no (message) */
	uint64_t previews;  /* preview updates, all drags */
	uint64_t presences; /* presence changes told to the sink */
	uint64_t tool_switches;
	uint64_t undos, redos;
};

struct edit;

int edit_create(const struct edit_config *c, struct edit **out);
void edit_destroy(struct edit **p);

/* The world grab's scale (app/nav.h: world = position + rotation * (scale *
 * stage)): the pick radius the tools use is edit_config.pick_radius times
 * scale (at most EDIT_PICK_RADIUS_MAX), so it stays the same distance from
 * the user's hand however large the world is shown. A scale that is not
 * finite or not above 0 means 1 (what a new editor has; the desktop keeps
 * it). */
void edit_set_reach_scale(struct edit *ed, float scale);

/* One frame: the input's edges are this frame's (inp_state pressed and
 * released), sc the scene as shown (NULL before the first snapshot: only
 * tool switches work). Returns 0: what a tool cannot do (nothing in reach,
 * an operation refused, a command the sink refuses) is counted and said
 * (edit_take_message). */
int edit_frame(struct edit *ed, uint64_t now_ns, const struct inp_state *in, const struct th_scene *sc);

/* What became of the commands (from the link, through main). */
void edit_on_sent(struct edit *ed, uint64_t tag, uint64_t client_seq);
void edit_on_answer(struct edit *ed, uint64_t client_seq, bool rejected, uint64_t lamport, uint64_t seq);
/* A folded log entry of anyone (teaches the user's key; others' tool.state). */
void edit_on_entry(struct edit *ed, const struct th_logrec_entry *e);
void edit_on_refused(struct edit *ed, uint64_t lamport, uint64_t seq);

/* Undo the newest own edit still standing / redo the newest standing undo
 * (what left x and y do): 0 submitted, -ENOENT nothing to undo (message
 * says why), or the sink's error. */
int edit_undo(struct edit *ed);
int edit_redo(struct edit *ed);

/* Switches tool (a drag in progress is cancelled, its preview dropped);
 * announces it with tool.state. 0 or -EINVAL. */
int edit_set_tool(struct edit *ed, uint32_t tool);
uint32_t edit_tool(const struct edit *ed);
unsigned edit_option(const struct edit *ed); /* the current tool's option index */
unsigned edit_options(const struct edit *ed); /* how many the current tool has (0: none) */
/* The current tool's option (the UI's colour palette: the paint tool's
 * option is the palette slot) and a step through its options / parameter
 * as a thumbstick flick does (dir > 0: next / up). Announced with
 * tool.state like the flicks. 0 or -EINVAL (no such option). */
int edit_set_option(struct edit *ed, unsigned option);
void edit_step_option(struct edit *ed, int dir);
void edit_step_param(struct edit *ed, int dir);
int edit_param(const struct edit *ed); /* the current tool's parameter */
/* Drops the local selection (what left menu does). */
void edit_clear_selection(struct edit *ed);
const char *edit_option_name(const struct edit *ed);

uint32_t edit_tool_mode(const struct edit *ed);
const struct edit_hover *edit_hover(const struct edit *ed);

const struct edit_selection *edit_selection(const struct edit *ed);
const struct edit_preview *edit_preview(const struct edit *ed);
/* The presence as the last edit_frame left it (what the sink was told last). */
const struct edit_presence *edit_presence(const struct edit *ed);
const struct edit_history *edit_history(const struct edit *ed);
const struct edit_stats *edit_stats(const struct edit *ed);
/* The newest message not yet taken (a tool's refusal: one sentence), or
 * NULL; taking clears it. */
const char *edit_take_message(struct edit *ed);

/* Selection.owner and ToolState.owner of a user: the first 8 bytes of the
 * author key, little-endian. 0 while this client does not know its key. */
uint64_t edit_owner_of(const uint8_t key[TH_LOGREC_KEY_LEN]);
uint64_t edit_owner(const struct edit *ed);
/* Entities of sc with a Selection, and in *of_others (may be NULL) those
 * whose owner is not this user (all of them while the key is unknown). */
unsigned edit_selections(const struct edit *ed, const struct th_scene *sc, unsigned *of_others);
/* The tool another user announced last (tool.state), 0 when unknown. */
uint32_t edit_peer_tool(const struct edit *ed, uint64_t owner);
