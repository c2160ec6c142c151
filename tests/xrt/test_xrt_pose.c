/* tests/xrt/xrt_pose.c on its own: the frame pacer as a pure function of
 * (period, previous prediction, now) in simulated time, and the pose
 * algebra the spaces and views are built from. The runtime's file is
 * compiled into this test (it needs nothing but libm and the OpenXR types). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xrt_pose.c"

#define P XRT_FRAME_PERIOD_NS
#define T0 1000000000ll /* any "now" for the first wait */

static void pacer_first_frame_and_an_on_time_client(void **state)
{
	struct xrt_pacer p;
	xrt_pacer_init(&p, P, false);
	int64_t wake, display;
	xrt_pacer_next(&p, T0, &wake, &display);
	assert_int_equal(display, T0 + P);
	assert_int_equal(wake, T0); /* the first wait returns at once */
	/* A client back 4 ms after each wake sleeps to the next slot. */
	for (int i = 1; i <= 5; i++) {
		int64_t prev = display;
		xrt_pacer_next(&p, wake + 4000000, &wake, &display);
		assert_int_equal(display, prev + P);
		assert_int_equal(wake, display - P);
	}
}

static void pacer_a_late_client_skips_the_missed_slots(void **state)
{
	struct xrt_pacer p;
	xrt_pacer_init(&p, P, false);
	int64_t wake, display;
	xrt_pacer_next(&p, T0, &wake, &display);
	int64_t d1 = display;
	/* Back half a period after its slot's wake time: one slot lost. */
	xrt_pacer_next(&p, d1 + P / 2, &wake, &display);
	assert_int_equal(display, d1 + 2 * P);
	assert_true(wake >= d1 + P / 2);
	/* 2.3 periods late: three slots on. */
	int64_t d2 = display;
	xrt_pacer_next(&p, d2 + 2 * P + P / 3, &wake, &display);
	assert_int_equal(display, d2 + 4 * P);
	assert_int_equal((display - d1) % P, 0);
	/* Exactly on a slot boundary: that slot still counts. */
	int64_t d3 = display;
	xrt_pacer_next(&p, d3, &wake, &display);
	assert_int_equal(display, d3 + P);
	assert_int_equal(wake, d3);
}

static void pacer_unpaced_never_sleeps_and_steps_one_period(void **state)
{
	struct xrt_pacer p;
	xrt_pacer_init(&p, P, true);
	int64_t wake, display, now = T0;
	xrt_pacer_next(&p, now, &wake, &display);
	int64_t d1 = display;
	for (int i = 1; i < 10; i++) {
		now += (i % 3) * 7 * P; /* a client of any speed */
		xrt_pacer_next(&p, now, &wake, &display);
		assert_int_equal(wake, now);
		assert_int_equal(display, d1 + i * P);
	}
}

static void assert_pose_near(XrPosef a, XrPosef b)
{
	assert_float_equal(a.position.x, b.position.x, 1e-5);
	assert_float_equal(a.position.y, b.position.y, 1e-5);
	assert_float_equal(a.position.z, b.position.z, 1e-5);
	/* q and -q are the same rotation */
	float s = a.orientation.w * b.orientation.w >= 0 ? 1.0f : -1.0f;
	assert_float_equal(a.orientation.x, s * b.orientation.x, 1e-5);
	assert_float_equal(a.orientation.y, s * b.orientation.y, 1e-5);
	assert_float_equal(a.orientation.z, s * b.orientation.z, 1e-5);
	assert_float_equal(a.orientation.w, s * b.orientation.w, 1e-5);
}

static void poses_compose_and_invert(void **state)
{
	XrPosef a = {xrt_quat_yaw(0.7f), {1, 2, 3}};
	XrPosef b = {{0.1825742f, 0.3651484f, 0.5477226f, 0.7302967f}, {-0.5f, 0.25f, 4}};
	assert_true(xrt_pose_valid(&a) && xrt_pose_valid(&b));
	assert_pose_near(xrt_pose_mul(a, xrt_pose_inverse(a)), xrt_pose_identity());
	assert_pose_near(xrt_pose_mul(xrt_pose_inverse(b), b), xrt_pose_identity());
	assert_pose_near(xrt_pose_inverse(xrt_pose_mul(a, b)), xrt_pose_mul(xrt_pose_inverse(b), xrt_pose_inverse(a)));
	/* A quarter turn left about +Y takes -Z (forward) to -X (left). */
	XrPosef turn = {xrt_quat_yaw((float)M_PI / 2), {0, 0, 0}};
	XrPosef fwd = {{0, 0, 0, 1}, {0, 0, -1}};
	XrPosef r = xrt_pose_mul(turn, fwd);
	assert_float_equal(r.position.x, -1, 1e-6);
	assert_float_equal(r.position.z, 0, 1e-6);
	XrPosef bad = {{0, 0, 0, 0.9f}, {0, 0, 0}};
	assert_false(xrt_pose_valid(&bad));
	bad = (XrPosef){{0, 0, 0, 1}, {NAN, 0, 0}};
	assert_false(xrt_pose_valid(&bad));
}

static void the_eyes_straddle_the_head(void **state)
{
	struct xrt_config cfg = {.ipd = 0.064f, .head_pos = {0, 1.6f, 0}, .head_yaw = (float)M_PI / 2};
	XrPosef l = xrt_eye_pose(&cfg, 0, 1, 0), r = xrt_eye_pose(&cfg, 0, 1, 1);
	/* Turned left to face -X: the right eye is towards -Z, the left towards +Z. */
	assert_float_equal(l.position.z, 0.032, 1e-6);
	assert_float_equal(r.position.z, -0.032, 1e-6);
	assert_float_equal(l.position.y, 1.6, 1e-6);
	/* LOCAL is the head at t0: 1.6 m up and turned with it. */
	XrPosef local = xrt_space_origin(&cfg, T0, XR_REFERENCE_SPACE_TYPE_LOCAL, T0 + 5 * P);
	assert_float_equal(local.position.y, 1.6, 1e-6);
	assert_pose_near(xrt_space_origin(&cfg, T0, XR_REFERENCE_SPACE_TYPE_STAGE, T0), xrt_pose_identity());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pacer_first_frame_and_an_on_time_client),
		cmocka_unit_test(pacer_a_late_client_skips_the_missed_slots),
		cmocka_unit_test(pacer_unpaced_never_sleeps_and_steps_one_period),
		cmocka_unit_test(poses_compose_and_invert),
		cmocka_unit_test(the_eyes_straddle_the_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
