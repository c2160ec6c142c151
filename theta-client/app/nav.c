/* Grab-the-world navigation (nav.h; docs/input.md, "Moving the world").
 *
 * The grab is measured from where it was anchored (the transform, the
 * hands' midpoint and the left -> right vector then, all in stage space),
 * so moving the hands back to where they were gives back the transform
 * the grab began with. Each frame of a grab:
 *   scale    = anchor scale * |anchor vector| / |vector|   (clamped)
 *   rotation = anchor rotation * yaw(-(turn of the vector about +Y))
 *   position such that the world point under the anchor's midpoint is
 *            under the hands' midpoint now.
 * The grab is re-anchored where a ratio or an angle would be meaningless
 * (the hands nearer than APP_NAV_MIN_SPAN, horizontally for the turn) and
 * when the scale clamps, so moving the hands back from a limit changes
 * the scale at once. */
#include "app/nav.h"

#include <math.h>
#include <string.h>

#include "th_meshop.h"
#include "th_quat.h"
#include "th_schema.h"

/* Hands nearer than this (metres; horizontally for the turn) give no
 * scale (or turn) ratio: the grab only moves the world there. */
#define APP_NAV_MIN_SPAN 0.02f

void app_xform_identity(struct app_xform *x)
{
	memset(x, 0, sizeof *x);
	x->rotation[3] = 1.0f;
	x->scale = 1.0f;
}

/* position + rotation * (scale * p), as one affine map. */
static void xform_affine(const struct app_xform *x, struct th_affine *a)
{
	static const float origin[3] = { 0, 0, 0 };
	struct th_affine s;
	th_affine_scale(&s, (const float[3]){ x->scale, x->scale, x->scale }, origin);
	th_affine_rotate(a, x->rotation, origin);
	th_affine_mul(a, a, &s);
	for (int i = 0; i < 3; i++)
		a->m[i][3] += x->position[i];
}

void app_xform_point(const struct app_xform *x, const float in[3], float out[3])
{
	struct th_affine a;
	xform_affine(x, &a);
	th_affine_apply(&a, in, out);
}

/* out = a * b (th_quat_mul), normalised (out may alias either); a
 * degenerate product is the identity. */
static void quat_mul(const float a[4], const float b[4], float out[4])
{
	float r[4];
	th_quat_mul(a, b, r);
	float n = sqrtf(r[0] * r[0] + r[1] * r[1] + r[2] * r[2] + r[3] * r[3]);
	if (!(n > 0) || !isfinite(n)) {
		memcpy(out, (const float[4]){ 0, 0, 0, 1 }, 4 * sizeof(float));
		return;
	}
	for (int i = 0; i < 4; i++)
		out[i] = r[i] / n;
}

static void pose_to_world(const struct app_xform *x, const struct th_affine *a, struct inp_pose *p)
{
	th_affine_apply(a, p->position, p->position);
	quat_mul(x->rotation, p->rotation, p->rotation);
}

void app_xform_pose(const struct app_xform *x, const struct inp_pose *in, struct inp_pose *out)
{
	struct th_affine a;
	xform_affine(x, &a);
	*out = *in;
	pose_to_world(x, &a, out);
}

void app_nav_init(struct app_nav *n)
{
	memset(n, 0, sizeof *n);
	app_xform_identity(&n->xf);
	app_xform_identity(&n->grab_xf);
	n->stick_armed = true;
}

static bool finite3(const float v[3])
{
	return isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]);
}

static bool xform_finite(const struct app_xform *x)
{
	return finite3(x->position) && isfinite(x->rotation[0]) && isfinite(x->rotation[1]) &&
	       isfinite(x->rotation[2]) && isfinite(x->rotation[3]) && isfinite(x->scale) && x->scale > 0;
}

static bool grip_held(const struct inp_controller *c)
{
	return c->grip >= APP_NAV_GRIP_HELD || (c->buttons & TH_BUTTON_GRIP);
}

static bool hand_usable(const struct inp_controller *c)
{
	return c->pose.valid && finite3(c->pose.position);
}

/* The rotation about +Y by radians (counter-clockwise seen from above). */
static void yaw_quat(float radians, float q[4])
{
	q[0] = 0;
	q[1] = sinf(radians * 0.5f);
	q[2] = 0;
	q[3] = cosf(radians * 0.5f);
}

/* The angle of v's horizontal part about +Y, from +X. */
static float yaw_of(const float v[3])
{
	return atan2f(-v[2], v[0]);
}

static float len3(const float v[3])
{
	return sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

static float hlen(const float v[3])
{
	return sqrtf(v[0] * v[0] + v[2] * v[2]);
}

/* Sets x->position so that stage point s maps to world point w. */
static void pin(struct app_xform *x, const float s[3], const float w[3])
{
	struct app_xform t = *x;
	memset(t.position, 0, sizeof t.position);
	float at[3];
	app_xform_point(&t, s, at);
	for (int i = 0; i < 3; i++)
		x->position[i] = w[i] - at[i];
}

static void hands(const struct inp_state *in, float mid[3], float vec[3])
{
	const float *l = in->hand[INP_LEFT].pose.position, *r = in->hand[INP_RIGHT].pose.position;
	for (int i = 0; i < 3; i++) {
		mid[i] = 0.5f * (l[i] + r[i]);
		vec[i] = r[i] - l[i];
	}
}

static void anchor(struct app_nav *n, const float mid[3], const float vec[3])
{
	n->grab_xf = n->xf;
	memcpy(n->grab_mid, mid, sizeof n->grab_mid);
	memcpy(n->grab_vec, vec, sizeof n->grab_vec);
	n->anchored = true;
}

/* One frame of a grab from the anchor; returns APP_NAV_CLAMPED or 0. */
static unsigned grab_update(struct app_nav *n, const float mid[3], const float vec[3])
{
	unsigned ev = 0;
	bool reanchor = false;
	struct app_xform x = n->grab_xf;

	float l0 = len3(n->grab_vec), l1 = len3(vec);
	if (l0 >= APP_NAV_MIN_SPAN && l1 >= APP_NAV_MIN_SPAN) {
		float s = n->grab_xf.scale * (l0 / l1);
		if (s < APP_NAV_SCALE_MIN || s > APP_NAV_SCALE_MAX) {
			s = s < APP_NAV_SCALE_MIN ? APP_NAV_SCALE_MIN : APP_NAV_SCALE_MAX;
			ev |= APP_NAV_CLAMPED;
			reanchor = true;
		}
		x.scale = s;
	} else {
		x.scale = n->xf.scale; /* held where it is */
		reanchor = true;
	}

	if (hlen(n->grab_vec) >= APP_NAV_MIN_SPAN && hlen(vec) >= APP_NAV_MIN_SPAN) {
		float turn = yaw_of(vec) - yaw_of(n->grab_vec), q[4];
		yaw_quat(-turn, q);
		quat_mul(n->grab_xf.rotation, q, x.rotation);
	} else {
		memcpy(x.rotation, n->xf.rotation, sizeof x.rotation);
		reanchor = true;
	}

	float held[3];
	app_xform_point(&n->grab_xf, n->grab_mid, held);
	pin(&x, mid, held);
	if (!xform_finite(&x))
		return ev;
	n->xf = x;
	if (reanchor)
		anchor(n, mid, vec);
	return ev;
}

/* A snap turn by radians about the vertical through the head (the stage
 * origin while the head is untracked). */
static void snap(struct app_nav *n, const struct inp_state *in, float radians)
{
	float pivot_stage[3] = { 0, 0, 0 }, pivot[3], q[4];
	if (in->head.valid && finite3(in->head.position))
		memcpy(pivot_stage, in->head.position, sizeof pivot_stage);
	app_xform_point(&n->xf, pivot_stage, pivot);
	yaw_quat(radians, q);
	quat_mul(q, n->xf.rotation, n->xf.rotation);
	pin(&n->xf, pivot_stage, pivot);
}

static void hide_grips(struct inp_state *in)
{
	for (int h = 0; h < INP_HANDS; h++) {
		struct inp_controller *c = &in->hand[h];
		c->grip = 0;
		c->buttons &= ~TH_BUTTON_GRIP;
		c->pressed &= ~TH_BUTTON_GRIP;
		c->released &= ~TH_BUTTON_GRIP;
	}
}

unsigned app_nav_frame(struct app_nav *n, uint64_t now_ns, struct inp_state *in)
{
	(void)now_ns; /* the navigation depends on the hands only, not on time */
	unsigned ev = 0;
	bool was_hiding = n->grabbing || n->wait_release;
	bool both = grip_held(&in->hand[INP_LEFT]) && grip_held(&in->hand[INP_RIGHT]);

	if (both) {
		ev |= APP_NAV_GRABBING;
		if (!n->grabbing) {
			ev |= APP_NAV_GRAB_BEGAN;
			n->grabbing = true;
			n->wait_release = true;
			n->anchored = false;
		}
		if (hand_usable(&in->hand[INP_LEFT]) && hand_usable(&in->hand[INP_RIGHT])) {
			float mid[3], vec[3];
			hands(in, mid, vec);
			if (n->anchored)
				ev |= grab_update(n, mid, vec);
			else
				anchor(n, mid, vec);
		} else
			n->anchored = false; /* resumes from where the hands are when tracked again */
	} else {
		n->grabbing = false;
		n->anchored = false;
		if (!grip_held(&in->hand[INP_LEFT]) && !grip_held(&in->hand[INP_RIGHT]))
			n->wait_release = false;
	}

	/* The snap turn: a flick past APP_NAV_FLICK, re-armed under
	 * APP_NAV_REARM; a flick during a grab is used up without turning. */
	float sx = in->hand[INP_LEFT].thumbstick[0];
	if (isfinite(sx)) {
		if (n->stick_armed && fabsf(sx) >= APP_NAV_FLICK) {
			n->stick_armed = false;
			if (!n->grabbing) {
				const float step = APP_NAV_SNAP_DEG * (float)M_PI / 180.0f;
				snap(n, in, sx > 0 ? -step : step); /* right: the user turns clockwise seen from above */
				ev |= APP_NAV_SNAPPED;
			}
		} else if (!n->stick_armed && fabsf(sx) <= APP_NAV_REARM)
			n->stick_armed = true;
	}

	if (was_hiding || n->grabbing || n->wait_release)
		hide_grips(in);

	struct th_affine a;
	xform_affine(&n->xf, &a);
	pose_to_world(&n->xf, &a, &in->head);
	for (int h = 0; h < INP_HANDS; h++) {
		pose_to_world(&n->xf, &a, &in->hand[h].pose);
		pose_to_world(&n->xf, &a, &in->hand[h].aim);
	}
	return ev;
}
