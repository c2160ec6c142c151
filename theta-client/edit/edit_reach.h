/* Reaching with the ray (docs/input.md, "Reaching with the ray"): in the
 * headset the tools pick at the right controller's tip, within the pick
 * radius (edit_pick.h); when nothing is that near, the right controller's
 * aim ray picks instead, so a face across the room is as easy to reach as
 * one at the hand.
 *
 * Each frame, in theta-client main.c's input filter, after the world grab
 * (app_nav_frame: the poses are world space) and before the input is
 * written to the entities and reaches the panels and the editor,
 * edit_reach_frame looks at the right hand:
 *   - when the current tool picks something (edit_tool_mode is not
 *     EDIT_MODE_NONE), the grip and the aim are tracked, nothing of the
 *     tool's kind lies within the editor's pick radius of the grip (the
 *     vertex tool: no face), and the aim ray (origin: aim position;
 *     direction: the aim rotation applied to -Z) hits the scene for that
 *     kind (edit_raycast, EDIT_REACH_TOLERANCE), the right tip
 *     (hand[INP_RIGHT].pose.position) is moved onto what it hit: the
 *     surface point for objects, faces and the vertex tool, the point of
 *     the edge nearest the ray (kept EDIT_REACH_EDGE_INSET of the edge's
 *     length from its ends, so that edge and no neighbour is nearest), the
 *     vertex itself. The editor's hover and a trigger press at that tip
 *     then pick what the ray points at, by the editor's own rules;
 *   - a trigger press (the editor's rule: edit.h's hysteresis or the click)
 *     made while reaching holds the reach: until the trigger is released,
 *     its release frame included, the tip keeps the offset from the hand it
 *     had at the press, so a drag follows the hand one to one; the frame
 *     after, the tip is the hand's again (or the ray's, when it reaches);
 *   - a press made at the hand stays at the hand until released (no reach
 *     starts in the middle of a drag).
 * The pose's rotation, the trigger and every other field are untouched.
 * What the frame did is in the struct's public fields (the renderer draws
 * the ray from origin to tip while reaching). Pure: no clock, no I/O. */
#pragma once
#include <stdbool.h>

#include "edit/edit.h"
#include "edit/edit_pick.h"
#include "edit/edit_ray.h"
#include "inp/input.h"
#include "th_scene.h"

#define EDIT_REACH_TOLERANCE 0.017453293f /* radians (1 degree): an edge or vertex this near the ray is hit */
#define EDIT_REACH_EDGE_INSET 0.01f       /* an edge's point stays this fraction of its length off its ends */

struct edit_reach {
	/* What the last edit_reach_frame did. */
	bool reaching;     /* the tip was moved off the hand this frame */
	bool holding;      /* ... by a held press that began while reaching (tip = hand + offset) */
	bool hit;          /* h is what the ray hit this frame (false while holding) */
	float origin[3];   /* the aim ray's origin (while holding without an aim: the hand), world space */
	float tip[3];      /* where the tip went, world space */
	struct edit_hit h; /* the ray's hit (entity, mesh, mode, element, dist, surface point) */
	/* private */
	bool trig_held, hold;
	float offset[3]; /* the held tip minus the hand, world space */
};

void edit_reach_init(struct edit_reach *r);

/* One frame (see above): may move in->hand[INP_RIGHT].pose.position.
 * ed, rays or sc NULL: no reach begins (a held one goes on until its
 * release). rays may be shared with another module (edit_desk, the
 * panels). Returns r->reaching. */
bool edit_reach_frame(struct edit_reach *r, struct inp_state *in, const struct edit *ed, struct edit_rays *rays,
		      const struct th_scene *sc);
