/* theta-client/app/nav.c: grab-the-world navigation in simulated time.
 * Each frame hands app_nav_frame a fresh stage-space input (as the
 * runtime would) and reads the world-space input it leaves. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "app/nav.h"
#include "th_schema.h"

#define FRAME_NS 11111111ull
#define EPS 1e-4f

/* What the user does, in stage space. */
struct rig {
	struct app_nav nav;
	uint64_t now_ns;
	float head[3];
	float hand[INP_HANDS][3];
	float hand_rot[INP_HANDS][4];
	bool tracked[INP_HANDS];
	float grip[INP_HANDS];
	uint32_t buttons[INP_HANDS], prev_buttons[INP_HANDS];
	float stick_x;
	struct inp_state out; /* the last frame's output (world space) */
	unsigned ev;          /* and its APP_NAV_* flags */
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof *r);
	app_nav_init(&r->nav);
	r->head[1] = 1.6f;
	const float l[3] = { -0.2f, 1.2f, -0.4f }, rr[3] = { 0.2f, 1.2f, -0.4f };
	memcpy(r->hand[INP_LEFT], l, sizeof l);
	memcpy(r->hand[INP_RIGHT], rr, sizeof rr);
	for (int h = 0; h < INP_HANDS; h++) {
		r->hand_rot[h][3] = 1;
		r->tracked[h] = true;
	}
}

static unsigned frame(struct rig *r)
{
	struct inp_state *s = &r->out;
	inp_state_init(s);
	memcpy(s->head.position, r->head, sizeof r->head);
	s->head.valid = true;
	for (int h = 0; h < INP_HANDS; h++) {
		struct inp_controller *c = &s->hand[h];
		memcpy(c->pose.position, r->hand[h], sizeof r->hand[h]);
		memcpy(c->pose.rotation, r->hand_rot[h], sizeof r->hand_rot[h]);
		c->pose.valid = r->tracked[h];
		c->aim = c->pose;
		c->grip = r->grip[h];
		c->buttons = r->buttons[h];
		c->pressed = r->buttons[h] & ~r->prev_buttons[h];
		c->released = r->prev_buttons[h] & ~r->buttons[h];
		r->prev_buttons[h] = r->buttons[h];
	}
	s->hand[INP_LEFT].thumbstick[0] = r->stick_x;
	r->ev = app_nav_frame(&r->nav, r->now_ns, s);
	r->now_ns += FRAME_NS;
	return r->ev;
}

static void move_hands(struct rig *r, float dx, float dy, float dz)
{
	for (int h = 0; h < INP_HANDS; h++) {
		r->hand[h][0] += dx;
		r->hand[h][1] += dy;
		r->hand[h][2] += dz;
	}
}

/* Places the hands about their midpoint: half-span apart along the
 * direction yaw radians about +Y from +X. */
static void place_hands(struct rig *r, const float mid[3], float span, float yaw)
{
	float d[3] = { 0.5f * span * cosf(yaw), 0, -0.5f * span * sinf(yaw) };
	for (int i = 0; i < 3; i++) {
		r->hand[INP_LEFT][i] = mid[i] - d[i];
		r->hand[INP_RIGHT][i] = mid[i] + d[i];
	}
}

static void assert_near3(const float a[3], const float b[3], float eps)
{
	for (int i = 0; i < 3; i++)
		if (!(fabsf(a[i] - b[i]) <= eps))
			fail_msg("component %d: %g vs %g (a = %g %g %g, b = %g %g %g)", i, (double)a[i], (double)b[i],
				 (double)a[0], (double)a[1], (double)a[2], (double)b[0], (double)b[1], (double)b[2]);
}

/* The yaw (radians about +Y) of a rotation that is a pure yaw. */
static float yaw_of_quat(const float q[4])
{
	assert_true(fabsf(q[0]) < EPS && fabsf(q[2]) < EPS);
	return 2.0f * atan2f(q[1], q[3]);
}

static float wrap(float a)
{
	while (a > (float)M_PI)
		a -= 2.0f * (float)M_PI;
	while (a <= -(float)M_PI)
		a += 2.0f * (float)M_PI;
	return a;
}

static void assert_xform_near(const struct app_xform *a, const struct app_xform *b)
{
	assert_near3(a->position, b->position, EPS);
	float dot = 0;
	for (int i = 0; i < 4; i++)
		dot += a->rotation[i] * b->rotation[i];
	assert_true(fabsf(fabsf(dot) - 1.0f) < EPS);
	assert_true(fabsf(a->scale - b->scale) < EPS);
}

static void grab(struct rig *r)
{
	r->grip[INP_LEFT] = r->grip[INP_RIGHT] = 1.0f;
}

static void release(struct rig *r)
{
	r->grip[INP_LEFT] = r->grip[INP_RIGHT] = 0.0f;
}

/* ---- the transform ----------------------------------------------------------------- */

static void xform_maps_points_and_poses(void **state)
{
	(void)state;
	struct app_xform x;
	app_xform_identity(&x);
	float p[3];
	app_xform_point(&x, (const float[3]){ 1, 2, 3 }, p);
	assert_near3(p, (const float[3]){ 1, 2, 3 }, 0);

	/* world = position + rotation * (scale * stage), rotation 90 degrees about +Y. */
	x = (struct app_xform){ .position = { 1, 2, 3 }, .rotation = { 0, sqrtf(0.5f), 0, sqrtf(0.5f) }, .scale = 2 };
	app_xform_point(&x, (const float[3]){ 1, 0, 0 }, p);
	assert_near3(p, (const float[3]){ 1, 2, 1 }, EPS); /* +X turns to -Z, doubled */
	app_xform_point(&x, (const float[3]){ 0, 1, 0 }, p);
	assert_near3(p, (const float[3]){ 1, 4, 3 }, EPS);

	struct inp_pose in = { .position = { 0, 0, -1 }, .rotation = { 0, sqrtf(0.5f), 0, sqrtf(0.5f) }, .valid = true },
			out;
	app_xform_pose(&x, &in, &out);
	assert_near3(out.position, (const float[3]){ -1, 2, 3 }, EPS); /* -Z turns to -X */
	assert_true(fabsf(yaw_of_quat(out.rotation) - (float)M_PI) < EPS); /* 90 + 90 degrees */
	assert_true(out.valid);
}

static void no_grab_leaves_input_alone(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	r.grip[INP_RIGHT] = 1.0f; /* one grip: the editor's "add", not a grab */
	r.buttons[INP_RIGHT] = TH_BUTTON_GRIP;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(frame(&r), 0);
		move_hands(&r, 0.01f, 0, 0);
	}
	assert_near3(r.out.hand[INP_RIGHT].pose.position, (const float[3]){ 0.29f, 1.2f, -0.4f }, EPS);
	assert_near3(r.out.head.position, r.head, 0);
	assert_true(r.out.hand[INP_RIGHT].grip == 1.0f);
	assert_true(r.out.hand[INP_RIGHT].buttons & TH_BUTTON_GRIP);
	struct app_xform id;
	app_xform_identity(&id);
	assert_xform_near(&r.nav.xf, &id);
}

/* ---- grab: translate, rotate, scale ---------------------------------------------------- */

static void grab_translates_the_world_with_the_hands(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	grab(&r);
	assert_int_equal(frame(&r), APP_NAV_GRAB_BEGAN | APP_NAV_GRABBING);
	float l0[3], r0[3];
	memcpy(l0, r.out.hand[INP_LEFT].pose.position, sizeof l0);
	memcpy(r0, r.out.hand[INP_RIGHT].pose.position, sizeof r0);
	/* Pull the world 0.5 m toward the user and 0.2 m up over 20 frames:
	 * the grabbed world points stay in the hands. */
	for (int i = 0; i < 20; i++) {
		move_hands(&r, 0, 0.01f, 0.025f);
		assert_int_equal(frame(&r), APP_NAV_GRABBING);
		assert_near3(r.out.hand[INP_LEFT].pose.position, l0, EPS);
		assert_near3(r.out.hand[INP_RIGHT].pose.position, r0, EPS);
	}
	assert_near3(r.nav.xf.position, (const float[3]){ 0, -0.2f, -0.5f }, EPS);
	assert_true(fabsf(r.nav.xf.scale - 1.0f) < EPS);
	assert_true(fabsf(yaw_of_quat(r.nav.xf.rotation)) < EPS);
	/* The head moves in the world the other way. */
	assert_near3(r.out.head.position, (const float[3]){ 0, 1.4f, -0.5f }, EPS);

	/* Released, the world stays where it was put. */
	release(&r);
	move_hands(&r, 0.3f, 0, 0);
	assert_int_equal(frame(&r), 0);
	assert_near3(r.nav.xf.position, (const float[3]){ 0, -0.2f, -0.5f }, EPS);
}

static void grab_rotates_about_the_vertical(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	const float mid[3] = { 0, 1.2f, -0.4f };
	place_hands(&r, mid, 0.4f, 0);
	grab(&r);
	frame(&r);
	float l0[3], r0[3];
	memcpy(l0, r.out.hand[INP_LEFT].pose.position, sizeof l0);
	memcpy(r0, r.out.hand[INP_RIGHT].pose.position, sizeof r0);
	/* Turn the hands 90 degrees counter-clockwise (seen from above) about
	 * their midpoint: the grabbed points stay in the hands. */
	for (int i = 1; i <= 30; i++) {
		place_hands(&r, mid, 0.4f, (float)M_PI / 2 * (float)i / 30.0f);
		frame(&r);
		assert_near3(r.out.hand[INP_LEFT].pose.position, l0, 2 * EPS);
		assert_near3(r.out.hand[INP_RIGHT].pose.position, r0, 2 * EPS);
	}
	/* The world turned with the hands: stage -> world turned the other way. */
	assert_true(fabsf(yaw_of_quat(r.nav.xf.rotation) + (float)M_PI / 2) < EPS);
	assert_true(fabsf(r.nav.xf.scale - 1.0f) < EPS);
	/* The midpoint's world point did not move. */
	float w[3];
	app_xform_point(&r.nav.xf, mid, w);
	assert_near3(w, mid, EPS);

	/* Lifting one hand (the left -> right vector tilts) neither turns
	 * nor tilts the world: the rotation stays a pure yaw. */
	r.hand[INP_RIGHT][1] += 0.2f;
	r.hand[INP_LEFT][1] -= 0.2f;
	frame(&r);
	assert_true(fabsf(yaw_of_quat(r.nav.xf.rotation) + (float)M_PI / 2) < EPS);
	/* One hand straight above the other: no direction to turn by. */
	memcpy(r.hand[INP_RIGHT], r.hand[INP_LEFT], sizeof r.hand[INP_LEFT]);
	r.hand[INP_RIGHT][1] += 0.3f;
	frame(&r);
	assert_true(fabsf(yaw_of_quat(r.nav.xf.rotation) + (float)M_PI / 2) < EPS);
}

static void grab_scales_about_the_midpoint(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	const float mid[3] = { 0.1f, 1.1f, -0.5f };
	place_hands(&r, mid, 0.4f, 0.3f);
	grab(&r);
	frame(&r);
	float l0[3], r0[3], w0[3];
	memcpy(l0, r.out.hand[INP_LEFT].pose.position, sizeof l0);
	memcpy(r0, r.out.hand[INP_RIGHT].pose.position, sizeof r0);
	app_xform_point(&r.nav.xf, mid, w0);
	/* Hands apart to twice the span: the world looks twice as big, so one
	 * stage metre covers half a world metre. */
	for (int i = 1; i <= 20; i++) {
		place_hands(&r, mid, 0.4f + 0.4f * (float)i / 20.0f, 0.3f);
		assert_int_equal(frame(&r), APP_NAV_GRABBING);
		assert_near3(r.out.hand[INP_LEFT].pose.position, l0, EPS);
		assert_near3(r.out.hand[INP_RIGHT].pose.position, r0, EPS);
	}
	assert_true(fabsf(r.nav.xf.scale - 0.5f) < EPS);
	float w[3];
	app_xform_point(&r.nav.xf, mid, w);
	assert_near3(w, w0, EPS);
	/* Together to a quarter of the start: twice the start's scale. */
	for (int i = 1; i <= 20; i++) {
		place_hands(&r, mid, 0.8f - 0.7f * (float)i / 20.0f, 0.3f);
		frame(&r);
	}
	assert_true(fabsf(r.nav.xf.scale - 4.0f) < 1e-3f);
	app_xform_point(&r.nav.xf, mid, w);
	assert_near3(w, w0, EPS);
	/* Hands closer than any span to measure: the scale holds. */
	place_hands(&r, mid, 0.01f, 0.3f);
	frame(&r);
	assert_true(fabsf(r.nav.xf.scale - 4.0f) < 1e-3f);
	app_xform_point(&r.nav.xf, mid, w);
	assert_near3(w, w0, EPS);
}

static void scale_clamps_and_comes_back_at_once(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	const float mid[3] = { 0, 1.2f, -0.4f };
	place_hands(&r, mid, 0.4f, 0);
	grab(&r);
	frame(&r);
	float w0[3];
	app_xform_point(&r.nav.xf, mid, w0);
	/* Apart to 2 m: 0.4 / 2 = 0.2 would be under the minimum. */
	unsigned seen = 0;
	for (int i = 1; i <= 16; i++) {
		place_hands(&r, mid, 0.4f + 0.1f * (float)i, 0);
		seen |= frame(&r);
		assert_true(r.nav.xf.scale >= APP_NAV_SCALE_MIN);
	}
	assert_true(seen & APP_NAV_CLAMPED);
	assert_true(r.out.hand[INP_LEFT].grip == 0); /* still grabbing */
	assert_true(r.nav.xf.scale == APP_NAV_SCALE_MIN);
	float w[3];
	app_xform_point(&r.nav.xf, mid, w);
	assert_near3(w, w0, EPS); /* clamped about the midpoint too */
	/* Back a little: the scale leaves the limit at once. */
	place_hands(&r, mid, 1.6f, 0);
	assert_int_equal(frame(&r), APP_NAV_GRABBING);
	assert_true(fabsf(r.nav.xf.scale - APP_NAV_SCALE_MIN * 2.0f / 1.6f) < EPS);

	/* The other limit: hands together from 1.6 m to 5 cm. */
	seen = 0;
	for (int i = 1; i <= 31; i++) {
		place_hands(&r, mid, 1.6f - 0.05f * (float)i, 0);
		seen |= frame(&r);
		assert_true(r.nav.xf.scale <= APP_NAV_SCALE_MAX);
	}
	assert_true(seen & APP_NAV_CLAMPED);
	assert_true(r.nav.xf.scale == APP_NAV_SCALE_MAX);
	app_xform_point(&r.nav.xf, mid, w);
	assert_near3(w, w0, EPS);
}

static void round_trip_gives_back_the_transform(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	/* Start from a transform that is not the identity (a snap). */
	r.stick_x = 1;
	frame(&r);
	r.stick_x = 0;
	frame(&r);
	const float mid[3] = { 0.05f, 1.15f, -0.35f };
	place_hands(&r, mid, 0.5f, 0.2f);
	grab(&r);
	frame(&r);
	struct app_xform start = r.nav.xf;
	/* Move, turn and scale (within the limits), and come back. */
	for (int i = 0; i <= 40; i++) {
		float t = (float)i / 40.0f, k = sinf(t * (float)M_PI);
		float m[3] = { mid[0] + 0.3f * k, mid[1] - 0.1f * k, mid[2] + 0.2f * k };
		place_hands(&r, m, 0.5f + 0.3f * k, 0.2f + 1.2f * k);
		assert_false(frame(&r) & APP_NAV_CLAMPED);
		if (i == 20) {
			assert_true(fabsf(r.nav.xf.scale - start.scale * 0.5f / 0.8f) < EPS);
			assert_true(fabsf(wrap(yaw_of_quat(r.nav.xf.rotation) - yaw_of_quat(start.rotation) + 1.2f)) <
				    EPS);
		}
	}
	assert_xform_near(&r.nav.xf, &start);
	release(&r);
	frame(&r);
	assert_xform_near(&r.nav.xf, &start);
}

static void hands_together_or_stacked_move_without_turning(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	/* Both hands at one point: no span to scale or turn by. */
	const float p[3] = { 0, 1.2f, -0.4f };
	memcpy(r.hand[INP_LEFT], p, sizeof p);
	memcpy(r.hand[INP_RIGHT], p, sizeof p);
	grab(&r);
	frame(&r);
	move_hands(&r, 0.1f, 0, 0);
	frame(&r);
	assert_near3(r.nav.xf.position, (const float[3]){ -0.1f, 0, 0 }, EPS);
	assert_true(r.nav.xf.scale == 1.0f);
	/* Stacked one above the other: scale works, no turn. */
	r.hand[INP_RIGHT][1] += 0.4f;
	frame(&r);
	r.hand[INP_RIGHT][1] += 0.4f; /* 0.4 -> 0.8 m apart: half the scale */
	frame(&r);
	assert_true(fabsf(r.nav.xf.scale - 0.5f) < EPS);
	assert_true(fabsf(yaw_of_quat(r.nav.xf.rotation)) < EPS);
	for (int i = 0; i < 3; i++)
		assert_true(isfinite(r.nav.xf.position[i]));
	/* From stacked, the hands come apart horizontally and turn: the turn
	 * counts from where they first had a horizontal span. */
	r.hand[INP_RIGHT][0] += 0.3f;
	frame(&r);
	float y0 = yaw_of_quat(r.nav.xf.rotation);
	float m[3];
	for (int i = 0; i < 3; i++)
		m[i] = 0.5f * (r.hand[INP_LEFT][i] + r.hand[INP_RIGHT][i]);
	float d[3] = { r.hand[INP_RIGHT][0] - m[0], r.hand[INP_RIGHT][1] - m[1], r.hand[INP_RIGHT][2] - m[2] };
	/* Turn the pair 45 degrees about the vertical through the midpoint. */
	float c = cosf((float)M_PI / 4), s = sinf((float)M_PI / 4);
	float rd[3] = { c * d[0] + s * d[2], d[1], -s * d[0] + c * d[2] };
	for (int i = 0; i < 3; i++) {
		r.hand[INP_RIGHT][i] = m[i] + rd[i];
		r.hand[INP_LEFT][i] = m[i] - rd[i];
	}
	frame(&r);
	assert_true(fabsf(wrap(yaw_of_quat(r.nav.xf.rotation) - y0 + (float)M_PI / 4)) < EPS);
}

/* ---- what the editor sees ---------------------------------------------------------------- */

static void grips_hidden_from_the_editor_while_grabbing(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	/* The right grip alone: the editor sees it. */
	r.grip[INP_RIGHT] = 1;
	r.buttons[INP_RIGHT] = TH_BUTTON_GRIP;
	frame(&r);
	assert_true(r.out.hand[INP_RIGHT].grip == 1);
	assert_true(r.out.hand[INP_RIGHT].pressed & TH_BUTTON_GRIP);
	/* Then the left (a click-only grip: the button bit, value 0): a grab;
	 * both hidden. */
	r.buttons[INP_LEFT] = TH_BUTTON_GRIP | TH_BUTTON_X;
	assert_int_equal(frame(&r), APP_NAV_GRAB_BEGAN | APP_NAV_GRABBING);
	for (int h = 0; h < INP_HANDS; h++) {
		assert_true(r.out.hand[h].grip == 0);
		assert_false((r.out.hand[h].buttons | r.out.hand[h].pressed | r.out.hand[h].released) & TH_BUTTON_GRIP);
	}
	assert_true(r.out.hand[INP_LEFT].buttons & TH_BUTTON_X); /* other buttons pass */
	assert_true(r.out.hand[INP_LEFT].pressed & TH_BUTTON_X);
	/* Right released: no more grab, but the left grip stays hidden until
	 * both are released (a grab does not end as an "add"). */
	r.grip[INP_RIGHT] = 0;
	r.buttons[INP_RIGHT] = 0;
	assert_int_equal(frame(&r), 0);
	assert_true(r.out.hand[INP_LEFT].grip == 0);
	assert_false(r.out.hand[INP_LEFT].buttons & TH_BUTTON_GRIP);
	assert_false(r.out.hand[INP_RIGHT].released & TH_BUTTON_GRIP);
	frame(&r);
	assert_false(r.out.hand[INP_LEFT].buttons & TH_BUTTON_GRIP);
	/* The right again while the left is still held: a new grab. */
	r.grip[INP_RIGHT] = 1;
	assert_int_equal(frame(&r), APP_NAV_GRAB_BEGAN | APP_NAV_GRABBING);
	r.grip[INP_RIGHT] = 0;
	frame(&r);
	/* Both released: hidden on that frame (its release edge too) ... */
	r.buttons[INP_LEFT] = 0;
	frame(&r);
	assert_false(r.out.hand[INP_LEFT].released & TH_BUTTON_GRIP);
	/* ... and seen again from the next press on. */
	r.grip[INP_RIGHT] = 0.8f;
	frame(&r);
	assert_true(r.out.hand[INP_RIGHT].grip == 0.8f);
}

static void grab_pauses_while_a_hand_is_untracked(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	grab(&r);
	frame(&r);
	move_hands(&r, 0.1f, 0, 0);
	frame(&r);
	struct app_xform before = r.nav.xf;
	/* The right hand drops out and reappears elsewhere: no jump. */
	r.tracked[INP_RIGHT] = false;
	r.hand[INP_RIGHT][0] += 0.5f;
	assert_int_equal(frame(&r), APP_NAV_GRABBING);
	assert_xform_near(&r.nav.xf, &before);
	assert_true(r.out.hand[INP_LEFT].grip == 0);
	r.tracked[INP_RIGHT] = true;
	assert_int_equal(frame(&r), APP_NAV_GRABBING);
	assert_xform_near(&r.nav.xf, &before);
	/* The grab goes on from there. */
	move_hands(&r, 0.1f, 0, 0);
	frame(&r);
	assert_near3(r.nav.xf.position, (const float[3]){ before.position[0] - 0.1f, 0, 0 }, EPS);
}

static void non_finite_hands_leave_the_transform_finite(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	grab(&r);
	frame(&r);
	r.hand[INP_RIGHT][0] = NAN;
	frame(&r);
	r.hand[INP_RIGHT][0] = INFINITY;
	frame(&r);
	r.hand[INP_RIGHT][0] = 0.2f;
	r.hand[INP_LEFT][2] = 1e30f;
	frame(&r);
	assert_true(isfinite(r.nav.xf.position[0]) && isfinite(r.nav.xf.position[1]) && isfinite(r.nav.xf.position[2]));
	assert_true(r.nav.xf.scale >= APP_NAV_SCALE_MIN && r.nav.xf.scale <= APP_NAV_SCALE_MAX);
	r.stick_x = NAN;
	frame(&r);
	assert_true(isfinite(r.nav.xf.rotation[1]) && isfinite(r.nav.xf.rotation[3]));
}

/* ---- snap turning ------------------------------------------------------------------------- */

static void snap_turns_about_the_head_and_rearms(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	r.head[0] = 0.5f; /* off the stage origin */
	r.head[2] = 0.3f;
	frame(&r);
	float head0[3];
	memcpy(head0, r.out.head.position, sizeof head0);

	/* Flick right: the user turns clockwise seen from above (the world
	 * the other way), once per flick; the head stays where it is. */
	r.stick_x = 0.9f;
	assert_int_equal(frame(&r), APP_NAV_SNAPPED);
	const float step = APP_NAV_SNAP_DEG * (float)M_PI / 180.0f;
	assert_true(fabsf(yaw_of_quat(r.nav.xf.rotation) + step) < EPS);
	assert_near3(r.out.head.position, head0, EPS);
	/* Looking down -Z in the stage now looks toward +X in the world. */
	struct inp_pose fwd = { .rotation = { 0, 0, 0, 1 } }, wf;
	app_xform_pose(&r.nav.xf, &fwd, &wf);
	assert_true(fabsf(wf.rotation[1] + sinf(step / 2)) < EPS);
	for (int i = 0; i < 30; i++)
		assert_int_equal(frame(&r), 0); /* held: no repeat */
	r.stick_x = 0.5f; /* between the re-arm and the flick */
	frame(&r);
	r.stick_x = 0.9f;
	assert_int_equal(frame(&r), 0);
	r.stick_x = 0.1f; /* re-armed */
	frame(&r);
	r.stick_x = 1.0f;
	assert_int_equal(frame(&r), APP_NAV_SNAPPED);
	assert_true(fabsf(yaw_of_quat(r.nav.xf.rotation) + 2 * step) < EPS);
	assert_near3(r.out.head.position, head0, EPS);
	/* Two flicks left: back to the start. */
	for (int k = 0; k < 2; k++) {
		r.stick_x = 0;
		frame(&r);
		r.stick_x = -0.8f;
		assert_int_equal(frame(&r), APP_NAV_SNAPPED);
	}
	struct app_xform id;
	app_xform_identity(&id);
	assert_xform_near(&r.nav.xf, &id);
	/* Twelve flicks one way: a full turn. */
	for (int k = 0; k < 12; k++) {
		r.stick_x = 0;
		frame(&r);
		r.stick_x = 1;
		assert_int_equal(frame(&r), APP_NAV_SNAPPED);
	}
	assert_xform_near(&r.nav.xf, &id);
}

static void snap_waits_for_the_grab_to_end(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	grab(&r);
	frame(&r);
	r.stick_x = 1;
	assert_int_equal(frame(&r), APP_NAV_GRABBING);
	struct app_xform id;
	app_xform_identity(&id);
	assert_xform_near(&r.nav.xf, &id);
	/* The flick was used up: releasing with the stick still over does not turn. */
	release(&r);
	assert_int_equal(frame(&r), 0);
	r.stick_x = 0;
	frame(&r);
	r.stick_x = 1;
	assert_int_equal(frame(&r), APP_NAV_SNAPPED);
}

/* ---- every pose to world space ------------------------------------------------------------- */

static void every_pose_leaves_in_world_space(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	/* A transform with a turn, a scale and a move. */
	r.stick_x = -1;
	frame(&r);
	r.stick_x = 0;
	const float mid[3] = { 0, 1.2f, -0.4f };
	place_hands(&r, mid, 0.4f, 0);
	grab(&r);
	frame(&r);
	for (int i = 1; i <= 10; i++) {
		place_hands(&r, (const float[3]){ 0.02f * (float)i, 1.2f, -0.4f }, 0.4f + 0.02f * (float)i, 0.05f * (float)i);
		frame(&r);
	}
	release(&r);
	frame(&r);
	struct app_xform x = r.nav.xf;
	assert_true(fabsf(x.scale - 1.0f) > 0.1f);

	/* A frame with rotated hands and a tilted head: each pose is the
	 * transform applied to the stage pose. */
	const float q[4] = { 0.1825742f, 0.3651484f, 0.5477226f, 0.7302967f };
	memcpy(r.hand_rot[INP_RIGHT], q, sizeof q);
	r.tracked[INP_LEFT] = false;
	struct inp_state stage;
	frame(&r);
	inp_state_init(&stage);
	memcpy(stage.hand[INP_RIGHT].pose.position, r.hand[INP_RIGHT], sizeof r.hand[INP_RIGHT]);
	memcpy(stage.hand[INP_RIGHT].pose.rotation, q, sizeof q);
	memcpy(stage.hand[INP_LEFT].pose.position, r.hand[INP_LEFT], sizeof r.hand[INP_LEFT]);
	memcpy(stage.head.position, r.head, sizeof r.head);
	struct inp_pose want;
	app_xform_pose(&x, &stage.head, &want);
	assert_near3(r.out.head.position, want.position, EPS);
	app_xform_pose(&x, &stage.hand[INP_RIGHT].pose, &want);
	assert_near3(r.out.hand[INP_RIGHT].pose.position, want.position, EPS);
	assert_near3(r.out.hand[INP_RIGHT].aim.position, want.position, EPS);
	for (int i = 0; i < 4; i++) {
		assert_true(fabsf(r.out.hand[INP_RIGHT].pose.rotation[i] - want.rotation[i]) < EPS);
		assert_true(fabsf(r.out.hand[INP_RIGHT].aim.rotation[i] - want.rotation[i]) < EPS);
	}
	app_xform_pose(&x, &stage.hand[INP_LEFT].pose, &want);
	assert_near3(r.out.hand[INP_LEFT].pose.position, want.position, EPS);
	assert_false(r.out.hand[INP_LEFT].pose.valid); /* validity passes through */
	assert_true(r.out.hand[INP_RIGHT].pose.valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xform_maps_points_and_poses),
		cmocka_unit_test(no_grab_leaves_input_alone),
		cmocka_unit_test(grab_translates_the_world_with_the_hands),
		cmocka_unit_test(grab_rotates_about_the_vertical),
		cmocka_unit_test(grab_scales_about_the_midpoint),
		cmocka_unit_test(scale_clamps_and_comes_back_at_once),
		cmocka_unit_test(round_trip_gives_back_the_transform),
		cmocka_unit_test(hands_together_or_stacked_move_without_turning),
		cmocka_unit_test(grips_hidden_from_the_editor_while_grabbing),
		cmocka_unit_test(grab_pauses_while_a_hand_is_untracked),
		cmocka_unit_test(non_finite_hands_leave_the_transform_finite),
		cmocka_unit_test(snap_turns_about_the_head_and_rearms),
		cmocka_unit_test(snap_waits_for_the_grab_to_end),
		cmocka_unit_test(every_pose_leaves_in_world_space),
	};
	return cmocka_run_group_tests_name("app_nav", tests, NULL, NULL);
}
