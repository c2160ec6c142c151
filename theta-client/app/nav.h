/* Grab-the-world navigation (docs/input.md, "Moving the world"), as in
 * Blocks: holding both grips grabs the world; moving the hands together
 * moves it, turning them about each other rotates it about the vertical,
 * and moving them apart or together scales it (APP_NAV_SCALE_MIN ..
 * APP_NAV_SCALE_MAX, about the hands' midpoint). A left thumbstick flick
 * left or right snap-turns APP_NAV_SNAP_DEG about the head.
 *
 * The navigation is the transform from the stage (where the runtime
 * tracks the user) to the world (where the scene is):
 *   world = position + rotation * (scale * stage)
 * app_nav_frame takes the frame's input in stage space, updates the
 * transform, and rewrites every pose of the input (head, grips, aims) into
 * world space, so the entities, the tools and the published pose are all
 * in world space; the renderer gets the transform (app_set_nav) to place
 * the runtime's eye views (stage space) in the world.
 *
 * While both grips are held (and until both are released again) the
 * output's grip values are 0, so the editor does not read the grab as
 * "add to the selection". Pure: no clock (now_ns only), no I/O. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "inp/input.h"

#define APP_NAV_SCALE_MIN 0.25f
#define APP_NAV_SCALE_MAX 4.0f
#define APP_NAV_SNAP_DEG 30.0f
#define APP_NAV_GRIP_HELD 0.5f   /* grip value that holds */
#define APP_NAV_FLICK 0.7f       /* thumbstick x that snaps */
#define APP_NAV_REARM 0.3f       /* back under it before the next snap */

struct app_xform {
	float position[3];
	float rotation[4]; /* unit quaternion x y z w */
	float scale;
};

struct app_nav {
	struct app_xform xf; /* stage -> world */
	/* private */
	bool grabbing, wait_release, stick_armed;
	bool anchored;              /* grab_* hold this grab's anchor (false after a hand lost tracking) */
	struct app_xform grab_xf;   /* the transform when the grab began */
	float grab_mid[3], grab_vec[3]; /* the hands' midpoint and left->right, stage space, then */
};

void app_xform_identity(struct app_xform *x);
void app_xform_point(const struct app_xform *x, const float in[3], float out[3]);
void app_xform_pose(const struct app_xform *x, const struct inp_pose *in, struct inp_pose *out);

void app_nav_init(struct app_nav *n);

enum app_nav_event {
	APP_NAV_SNAPPED = 1u << 0,   /* a snap turn happened this frame */
	APP_NAV_GRAB_BEGAN = 1u << 1,
	APP_NAV_GRABBING = 1u << 2,  /* both grips held this frame */
	APP_NAV_CLAMPED = 1u << 3,   /* the scale hit a limit this frame */
};
/* Returns APP_NAV_* flags. */
unsigned app_nav_frame(struct app_nav *n, uint64_t now_ns, struct inp_state *in);
