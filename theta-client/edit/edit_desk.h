/* The desktop editor (docs/desktop.md): the same tools as in the headset,
 * driven by a mouse ray instead of a controller, with an orbit camera and
 * keyboard shortcuts for every tool. A pure function of the frame's input
 * (inp_state.desk, from inp/inp_desk.h or a test), the scene and the time.
 *
 * Each frame, before the input reaches the entities and the editor
 * (theta-client main.c's input filter), edit_desk_frame:
 *   - moves the orbit camera: right drag orbits about the target, middle
 *     drag (or shift + right drag) pans, the wheel zooms (the distance stays
 *     in [EDIT_DESK_DIST_MIN, EDIT_DESK_DIST_MAX]); F frames the selection
 *     (or everything); the camera is written to in->head (tracked), so the
 *     renderer's head camera shows it and the user's head is published;
 *   - casts the mouse ray (the camera's fovy and the window's size) into the
 *     scene (edit_ray.h) and writes in->hand[INP_RIGHT] as a virtual
 *     controller: aim = the ray; pose = the ray's hit on the scene for the
 *     current tool's mode (an edge's point nearest the surface hit, a
 *     vertex; the surface for objects, faces, the vertex tool and an edge or
 *     vertex mode with none within EDIT_DESK_PICK_PX), or a point
 *     EDIT_DESK_REACH metres along it when nothing is hit (the primitive
 *     tool: the ray's crossing of the plane through the target facing the
 *     camera), and while the left button is held after a press (its release
 *     frame included), the ray's crossing of the plane through the grabbed
 *     point facing the camera, so drags move the tip in that plane (the
 *     extrude tool's faces and region: the plane holding the grabbed face's
 *     normal that faces the camera most, so the pull follows the mouse
 *     along the normal as the screen shows it); the
 *     pose's rotation is the camera's (move's rotate option: turned about
 *     the view axis by the drag); trigger = left button (1 or 0), grip =
 *     ctrl or shift held (add to the selection); the pose is untracked
 *     while the cursor is outside the window and no drag is on;
 *   - applies the keyboard shortcuts (edit_desk_keys below) through the
 *     editor's API: tools, options, parameters, undo, redo, clear the
 *     selection; and reports what is the UI's (the overlay toggle) and the
 *     voice's (the mute toggle, push-to-talk held).
 * The left hand stays untracked. */
#pragma once
#include <stdint.h>

#include "edit/edit.h"
#include "edit/edit_ray.h"
#include "inp/input.h"
#include "th_scene.h"

#define EDIT_DESK_DIST_MIN 0.2f
#define EDIT_DESK_DIST_MAX 200.0f
#define EDIT_DESK_REACH 2.0f

#define EDIT_DESK_PITCH_DEFAULT 0.35f   /* radians above the horizontal */
#define EDIT_DESK_PITCH_MAX 1.55f       /* the orbit stops short of straight up / down */
#define EDIT_DESK_ORBIT_RAD_PER_PX 0.01f
#define EDIT_DESK_ZOOM_STEP 0.85f       /* the distance is multiplied by this per wheel step up */
#define EDIT_DESK_PICK_PX 6.0f          /* edges and vertices within this many pixels of the cursor */
#define EDIT_DESK_TWIST_RAD_PER_PX 0.01f /* move's rotate option: a horizontal drag turns about the view axis */
#define EDIT_DESK_FRAME_MARGIN 1.15f    /* F: the bounding sphere fills the view's height over this */
/* Extrude's drag plane holds the face's normal unless the view is within
 * asin(this) of it (about 6 degrees): then it faces the camera. */
#define EDIT_DESK_NORMAL_VIEW 0.1f

struct edit_desk_config {
	float fovy;         /* radians, the renderer's; 0: 60 degrees */
	float target[3];    /* where the camera looks first; all 0: (0, 0.8, 0) */
	float distance;     /* 0: 3 m */
	/* Radians: yaw about +Y (0: the camera in front, on +Z of the target),
	 * pitch above the horizontal (0: EDIT_DESK_PITCH_DEFAULT, above). */
	float yaw, pitch;
};

/* What a frame asks of others than the editor. */
enum edit_desk_action {
	EDIT_DESK_TOGGLE_OVERLAY = 1u << 0, /* O typed an odd number of times this frame */
	EDIT_DESK_QUIT = 1u << 1, /* ctrl+Q */
	EDIT_DESK_TOGGLE_MUTE = 1u << 2, /* M pressed an odd number of times this frame (repeats ignored) */
	EDIT_DESK_TALK = 1u << 3, /* V held now, whatever the modifiers (push-to-talk) */
};

struct edit_desk;

int edit_desk_create(const struct edit_desk_config *c, struct edit_desk **out);
void edit_desk_destroy(struct edit_desk **p);

/* Does nothing (returns 0) when in->desk.present is false. ed and sc may be
 * NULL (no editor / no scene yet: camera only). Returns EDIT_DESK_* flags. */
unsigned edit_desk_frame(struct edit_desk *d, uint64_t now_ns, struct inp_state *in, struct edit *ed,
			 struct edit_rays *rays, const struct th_scene *sc);

/* The camera now (world space). */
void edit_desk_camera(const struct edit_desk *d, float eye[3], float target[3], float up[3]);

/* The shortcuts, for --help and docs/desktop.md (one source of truth):
 * edit_desk_frame dispatches the key rows from this table, and the mouse
 * rows (key 0) say what the mouse does. */
enum edit_desk_cmd {
	EDIT_DESK_CMD_MOUSE = 0, /* a mouse row: documentation only */
	EDIT_DESK_CMD_TOOL,      /* arg: enum edit_tool */
	EDIT_DESK_CMD_TOOL_STEP, /* arg: +1 next / -1 previous tool */
	EDIT_DESK_CMD_OPTION,    /* arg: +1 / -1 */
	EDIT_DESK_CMD_PARAM,     /* arg: +1 / -1 */
	EDIT_DESK_CMD_UNDO,
	EDIT_DESK_CMD_REDO,
	EDIT_DESK_CMD_CLEAR,     /* clear the selection */
	EDIT_DESK_CMD_FRAME,     /* frame the selection (or everything) */
	EDIT_DESK_CMD_OVERLAY,   /* EDIT_DESK_TOGGLE_OVERLAY */
	EDIT_DESK_CMD_QUIT,      /* EDIT_DESK_QUIT */
	EDIT_DESK_CMD_MUTE,      /* EDIT_DESK_TOGGLE_MUTE */
	EDIT_DESK_CMD_TALK,      /* EDIT_DESK_TALK while held (inp_desktop.held) */
};
struct edit_desk_key {
	const char *keys; /* "1".."9", "Ctrl+Z", ... as a person reads them */
	const char *what;
	int key;          /* GLFW_KEY_* (input.h's inp_key.key); 0: a mouse row */
	uint32_t mods;    /* INP_MOD_* that must be held, exactly */
	uint8_t cmd;      /* enum edit_desk_cmd */
	int8_t arg;
};
extern const struct edit_desk_key edit_desk_keys[];
extern const unsigned edit_desk_nkeys;
