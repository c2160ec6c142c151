/* Private to theta-client/edit/: the editor's state, the tools' interface
 * and the helpers every tool uses. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "edit/edit.h"
#include "edit/edit_palette.h"
#include "edit/edit_pick.h"
#include "th_journal.h"
#include "th_meshop.h"
#include "th_payload.h"

#define EDIT_DRAG_MIN 0.001f       /* a drag shorter than 1 mm submits nothing */
#define EDIT_PRIM_SIZE_DEFAULT 0.2f /* metres: a stamped primitive's size */
#define EDIT_PRIM_SIZE_MIN 0.02f
#define EDIT_PRIM_SIZE_MAX 5.0f
#define EDIT_PRIM_SIZE_STEP 1.25f  /* thumbstick up/down multiplies or divides by it */
#define EDIT_MIRROR_WELD 0.001f    /* metres, mesh space */
/* The move tool's rotate and scale options. */
#define EDIT_SCALE_SNAP 0.05f      /* the scale factor snaps to multiples of it */
#define EDIT_SCALE_MIN 0.05f       /* and stays within [min, max] */
#define EDIT_SCALE_MAX 20.0f
#define EDIT_SCALE_REACH_MIN 0.01f /* metres: a scale grab this close to the centre has no ratio to follow */
/* The shape tool's parameters (thumbstick up/down, -16..16 steps). */
#define EDIT_INSET_DEFAULT 0.25f   /* inset: fraction of the way to the face's centre */
#define EDIT_INSET_STEP 0.05f      /* added per parameter step */
#define EDIT_INSET_MIN 0.05f
#define EDIT_INSET_MAX 0.95f
#define EDIT_LOOP_CUT_END 0.05f    /* a cut at the tip stays this fraction away from the edge's ends */
#define EDIT_BEVEL_DEFAULT 0.02f   /* bevel: the strip's width, metres */
#define EDIT_BEVEL_STEP 1.25f      /* multiplied or divided per parameter step */
#define EDIT_BEVEL_MIN 0.002f
#define EDIT_BEVEL_MAX 0.5f
#define EDIT_WELD_DEFAULT 0.001f   /* weld: the distance, metres */
#define EDIT_WELD_STEP 2.0f        /* multiplied or divided per parameter step */
#define EDIT_WELD_MIN 0.0001f
#define EDIT_WELD_MAX 0.1f
#define EDIT_DUP_STEP_DEFAULT 0.1f /* duplicate by a click: offset along world +x, metres */
#define EDIT_DUP_STEP_STEP 1.25f   /* multiplied or divided per parameter step */
#define EDIT_DUP_STEP_MIN 0.01f
#define EDIT_DUP_STEP_MAX 5.0f

/* This frame's input as the tools see it (the right hand). */
struct edit_in {
	uint64_t now_ns;
	const struct th_scene *sc;
	bool tracked;
	float tip[3]; /* the controller's position, world space */
	float rot[4];
	bool act_down, act_held, act_up; /* trigger edges and level */
	bool add;                        /* grip held */
	unsigned option;                 /* the tool's option */
	int param;                       /* the tool's parameter (per tool meaning) */
};

struct edit_tool_ops {
	uint32_t tool;
	const char *name;
	unsigned noptions;
	const char *const *options;
	void (*frame)(struct edit *ed, const struct edit_in *in);
	void (*cancel)(struct edit *ed); /* a drag in progress stops, nothing is sent */
	/* The element kind the tool picks with this option and parameter
	 * (TH_SELECT_*); NULL: EDIT_MODE_NONE (picks nothing). */
	uint32_t (*mode)(unsigned option, int param);
	/* Optional: what a trigger press would pick at the tip, when that is
	 * not simply the nearest element of the mode (edit_hover): 1 with *out,
	 * 0 nothing. Says nothing, changes nothing. */
	int (*hover)(const struct edit *ed, const struct edit_in *in, struct edit_hit *out);
};

extern const struct edit_tool_ops edit_tool_select, edit_tool_move, edit_tool_primitive, edit_tool_paint,
	edit_tool_delete, edit_tool_extrude, edit_tool_subdivide, edit_tool_vertex, edit_tool_mirror,
	edit_tool_shape;

/* A drag's state (the move and extrude tools). */
struct edit_drag {
	bool on;
	uint64_t entity, mesh;
	float start[3];          /* the tip at the grab, world space */
	struct th_c_transform xf0; /* the entity's transform at the grab */
	uint64_t faces[EDIT_SELECT_MAX]; /* extrude: the faces pulled */
	unsigned nfaces;
	uint64_t verts[EDIT_SELECT_MAX * 4]; /* move: the vertices moved */
	unsigned nverts;
	bool whole;
	float rot0[4];   /* move: the controller's rotation at the grab */
	float pivot[3];  /* move rotate / scale: the vertices' centroid, mesh space */
	float pivot_w[3]; /* and in world space */
	float reach0;    /* move scale: the tip's distance from pivot_w at the grab */
	float normal[3]; /* extrude: world direction of the pull */
	float amount;    /* extrude: distance last previewed */
};

#define EDIT_PENDING_CREATES 64u /* own mesh.creates whose provisional ids are remembered */

/* An own mesh.create not yet answered: the mirror shows it as a tentative
 * edit (author all zero, seq = its client sequence number: app/scene.h), so
 * its entity has a provisional id no command may name. */
struct edit_pending_create {
	uint64_t tag;
	uint64_t entity; /* 0 until sent */
};

struct edit_peer {
	uint64_t owner;
	uint32_t tool;
};

struct edit {
	struct edit_config cfg;
	float reach_scale; /* edit_set_reach_scale's: cfg.pick_radius is multiplied by it */
	uint32_t tool;
	unsigned option[EDIT_TOOL_MAX + 1];
	int param[EDIT_TOOL_MAX + 1];
	bool trig_held, stick_x_armed, stick_y_armed;
	struct edit_selection sel;
	bool sel_dirty;            /* to be replicated */
	uint64_t sel_published;    /* entity whose Selection this user wrote last (0: none) */
	bool tool_dirty;           /* tool.state to send */
	bool tool_sent;            /* one went out, at tool_sent_ns */
	uint64_t tool_sent_ns;
	struct edit_drag drag;
	struct edit_preview pv;
	struct th_patch patch;
	uint32_t palette_used; /* bit per slot: material.set sent by this client */
	struct edit_history hist;
	struct edit_pending_create creates[EDIT_PENDING_CREATES];
	unsigned ncreates;
	struct edit_peer peers[EDIT_PEERS_MAX];
	unsigned npeers;
	struct edit_stats st;
	struct edit_hover hover;
	struct edit_presence pres; /* told to the sink last */
	char msg[EDIT_MESSAGE_MAX];
	bool has_msg;
	/* Scratch for encoding (large payload structs live here, not on the stack). */
	union {
		struct th_pl_mesh_patch patch;
		struct th_pl_mesh_create create;
		struct th_pl_component_write cw;
		struct th_pl_component_remove cr;
		struct th_pl_material_set mat;
		struct th_pl_edit_undo undo;
		struct th_pl_tool_state tool;
	} pl;
	uint8_t buf[TH_LOGREC_PAYLOAD_MAX];
};

/* ---- helpers (edit.c) ---- */

/* A tool's refusal: one sentence, counted. */
void edit_say(struct edit *ed, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Encodes the payload struct pl of type and hands it to the sink; kind
 * EDIT_H_* records it in the history with text (0: not an edit: selection,
 * tool state, materials). 0 or a negative errno (said). */
int edit_send(struct edit *ed, uint16_t type, uint64_t scope, const void *pl, uint8_t kind, uint64_t target,
	      const char *text);
/* mesh.patch of ed->patch on mesh (refused with a sentence when it does
 * not fit one command). */
int edit_send_patch(struct edit *ed, uint64_t mesh, const char *text);
/* mesh.create of ed->patch at xf with material. */
int edit_send_create(struct edit *ed, const struct th_c_transform *xf, uint32_t material, const char *text);
/* component.write of the Transform of entity. */
int edit_send_transform(struct edit *ed, uint64_t entity, const struct th_c_transform *xf, const char *text);
/* Snaps a world position to the grid (config), in place. */
void edit_snap_point(const struct edit *ed, float p[3]);
float edit_snap_length(const struct edit *ed, float d);
/* The nearest vertex, edge midpoint or face centre (th_snap_mesh) of any
 * mesh within the pick radius of world point p: 1 with *out (world), 0. */
int edit_snap_feature(const struct edit *ed, const struct th_scene *sc, const float p[3], float out[3]);
/* edit_config.pick_radius times edit_set_reach_scale's scale (at most
 * EDIT_PICK_RADIUS_MAX): what every tool, the hover and the reach use. */
float edit_pick_radius(const struct edit *ed);
/* Whether the trigger of c is held this frame, given whether it was held
 * the frame before: the value with hysteresis (EDIT_TRIGGER_DOWN / _UP) or
 * the click (a press and release inside one poll counts as down now). The
 * editor's rule, shared by the ray's reach (edit_reach.c). */
bool edit_trigger_held(bool was_held, const struct inp_controller *c);
/* edit_pick for a tool: 1 with *out, 0 nothing within radius, -EAGAIN the
 * nearest is this user's own creation still on its way to the daemon (its
 * ids provisional; said). */
int edit_pick_at(struct edit *ed, const struct edit_in *in, float radius, uint32_t mode, struct edit_hit *out);
bool edit_provisional(const struct edit *ed, uint64_t entity);
/* A tool's pick (edit_pick_at within edit_pick_radius) of the element of
 * kind mode at the tip and its entity's mesh: 1 with *hit, *t, *m; 0 (said
 * "OP: no KIND within N cm of the controller" when nothing is there). */
int edit_pick_tool(struct edit *ed, const struct edit_in *in, uint32_t mode, const char *op, struct edit_hit *hit,
		   const struct th_c_transform **t, const struct th_mesh **m);
/* A drag's start once ed->drag names what it holds: the preview of entity
 * begun, the drag on from the tip and the controller's rotation. false
 * when the preview could not begin (nothing changes then). */
bool edit_drag_begin(struct edit *ed, const struct edit_in *in, uint64_t entity);
/* The drag's mesh (ed->drag.entity's, still ed->drag.mesh) into *t, *m: 0, or
 * -ENOENT with *why "the mesh is gone". */
int edit_drag_mesh(const struct edit *ed, const struct th_scene *sc, const struct th_c_transform **t,
		   const struct th_mesh **m, const char **why);
/* A tool's th_op_* result rv: rv < 0 is said ("OP: WHY", "OP: out of memory"
 * without one; -E2BIG, when big is not NULL: "OP: the BIG is too large for
 * one edit (more than TH_PATCH_ENTRY_OPS ops): select fewer[ FEWER]") and
 * returned; else ed->patch goes out as mesh.patch of mesh with text. */
int edit_op_send(struct edit *ed, const char *op, int rv, const char *why, const char *big, const char *fewer,
		 uint64_t mesh, const char *text);
/* "mesh 1a2b3c4d": a short name of an id for history lines. */
const char *edit_short_id(uint64_t id, char buf[20]);

/* Preview (edit.c): begin copies entity's mesh (and transform); patch shows
 * ed->patch applied to the copy (the previous preview patch undone first);
 * end drops it. */
int edit_preview_begin(struct edit *ed, const struct th_scene *sc, uint64_t entity);
int edit_preview_patch(struct edit *ed);
void edit_preview_transform(struct edit *ed, const struct th_c_transform *xf);
void edit_preview_end(struct edit *ed);

/* ---- selection (edit_select.c) ---- */

void edit_sel_clear(struct edit *ed);
/* Selects what hit names; add: to the selection of the same entity and
 * mode (toggling an element already in it), else instead of it. */
void edit_sel_take(struct edit *ed, const struct edit_hit *hit, bool add);
bool edit_sel_has(const struct edit *ed, const struct edit_hit *hit);
/* Drops a selection whose entity or elements are gone from the scene. */
void edit_sel_validate(struct edit *ed, const struct th_scene *sc);
/* Replicates the selection (component.write / component.remove of
 * Selection) when it changed and the user's key is known. */
void edit_sel_publish(struct edit *ed, const struct th_scene *sc);
/* The faces / vertices the selection names on entity in mode, into out;
 * their count (0 when the selection is elsewhere). */
unsigned edit_sel_ids(const struct edit *ed, uint64_t entity, uint32_t mode, uint64_t *out, unsigned cap);
/* The selected elements of hit's entity in hit's mode when hit is one of
 * them, else hit alone (at most EDIT_SELECT_MAX): ids into ids, edge ends
 * into a / b (either may be NULL); their count. */
unsigned edit_sel_or_hit(const struct edit *ed, const struct edit_hit *hit, uint64_t *ids, uint64_t *a, uint64_t *b);
