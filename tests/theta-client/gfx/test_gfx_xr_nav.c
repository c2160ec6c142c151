/* gfx.c's views_to_world: the world grab's stage -> world transform
 * (app_view.nav_*, app/nav.h: world = position + rotation * (scale *
 * stage)) applied to the OpenXR eye views, through the whole renderer, the
 * OpenXR backend, the real loader and the test runtime (tests/xrt/) on
 * lavapipe with the validation layer. A scene (a cube over the ground
 * grid) seen by a runtime head H (yaw psi) through a transform (P, theta,
 * s) must look as the same scene seen with no transform by a runtime head
 * at the world place of H (app_xform_point), yaw psi + theta, with the
 * eyes s times the IPD apart (the eyes are in the stage, so their distance
 * scales with the world's metres); and unlike the scene seen from H with
 * no transform. Not one validation message is allowed. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "app/nav.h"
#include "app/renderer.h"
#include "gfx/gfx.h"
#include "gfx/gfx_png.h"
#include "th_gfxscene.h"
#include "th_harness.h"
#include "th_xrt.h"

#define FRAMES 3u
#define IPD 0.064f
#define PIXEL_TOL 24    /* a channel this far off is a different pixel (edges land on other pixels) */
#define SAME_MAX_PPM 15000u /* equal views: at most 1.5 % of pixels different (edges) */
#define MOVED_MIN_PPM 50000u /* a view moved: at least 5 % different */

/* The user in the stage, and where the world grab put the world. */
static const float head_stage[3] = { 0.1f, 1.5f, 0.2f };
static const float head_yaw_deg = 10.0f;
static const float nav_pos[3] = { 0.3f, -0.2f, 0.4f };
static const float nav_yaw_deg = 20.0f;
static const float nav_scale = 1.5f;

static void yaw_quat(float deg, float q[4])
{
	float a = deg * (float)M_PI / 180.0f;
	q[0] = 0;
	q[1] = sinf(a / 2);
	q[2] = 0;
	q[3] = cosf(a / 2);
}

/* Runs FRAMES frames of the XR renderer over s with the runtime's head at
 * pos, yaw yaw_deg and eyes ipd apart, the views through nav (NULL: a
 * zero app_view, the identity); returns both eyes' captures of the last
 * frame (*w x *h each). */
static void xr_run(struct gs *s, const char *dir, const float pos[3], float yaw_deg, float ipd,
		   const struct app_xform *nav, uint8_t *eye[2], uint32_t *w, uint32_t *h)
{
	char v[96];
	snprintf(v, sizeof v, "%.6f,%.6f,%.6f", (double)pos[0], (double)pos[1], (double)pos[2]);
	setenv("XRT_HEAD_POS", v, 1);
	snprintf(v, sizeof v, "%.6f", (double)yaw_deg);
	setenv("XRT_HEAD_YAW", v, 1);
	snprintf(v, sizeof v, "%.6f", (double)ipd);
	setenv("XRT_IPD", v, 1);
	assert_int_equal(mkdir(dir, 0700), 0);
	setenv("XRT_CAPTURE_DIR", dir, 1);

	struct gfx_options o = { .kind = GFX_RENDERER_XR, .validation = true };
	const struct gfx_sources src = { .scene = s->scene };
	struct app_renderer *r = NULL;
	assert_int_equal(gfx_renderer_create(&o, s->w, &src, &r), 0);
	assert_string_equal(gfx_renderer_backend(r), "xr");
	assert_non_null(r->ops->wait_frame);
	for (uint32_t i = 0; i < FRAMES; i++) {
		uint64_t dt = 0;
		assert_int_equal(r->ops->wait_frame(r, &dt), 0);
		struct app_view view = { .frame = i, .time_ns = dt, .display_time_ns = dt };
		if (nav) {
			memcpy(view.nav_position, nav->position, sizeof view.nav_position);
			memcpy(view.nav_rotation, nav->rotation, sizeof view.nav_rotation);
			view.nav_scale = nav->scale;
		}
		assert_int_equal(app_render(r, s->w, &view), 0);
	}
	struct gfx_renderer_stats st;
	assert_int_equal(gfx_renderer_stats(r, &st), 0);
	app_renderer_destroy(&r);
	assert_int_equal(st.validation_messages, 0);

	static const char *const names[2] = { "left", "right" };
	for (int e = 0; e < 2; e++) {
		char path[PATH_MAX + 32], why[GFX_PNG_WHY_MAX];
		snprintf(path, sizeof path, "%s/frame-%04u-%s.png", dir, FRAMES, names[e]);
		uint32_t ew, eh;
		eye[e] = NULL;
		if (gfx_png_read(path, &eye[e], &ew, &eh, why, sizeof why) < 0)
			fail_msg("%s: %s", path, why);
		if (e == 0) {
			*w = ew;
			*h = eh;
		}
		assert_int_equal(ew, *w);
		assert_int_equal(eh, *h);
	}
}

/* Pixels (per million) of a and b (n RGBA pixels) that differ by more
 * than PIXEL_TOL in a colour channel. */
static unsigned differ_ppm(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < 3; c++)
			if (abs((int)a[i * 4 + c] - (int)b[i * 4 + c]) > PIXEL_TOL) {
				d++;
				break;
			}
	return (unsigned)(d * 1000000u / n);
}

/* Pixels that are not the clear colour's (the top-left one: sky). */
static size_t scene_pixels(const uint8_t *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += memcmp(p + i * 4, p, 3) != 0;
	return k;
}

static void views_follow_the_world_grab(void **state)
{
	(void)state;
	char json[PATH_MAX], dir[PATH_MAX], sub[3][PATH_MAX + 8];
	assert_int_equal(th_xrt_path("theta_xrt.json", json, sizeof json), 0); /* make test builds the runtime */
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	static const char *const names[3] = { "stage", "nav", "moved" };
	for (int i = 0; i < 3; i++)
		snprintf(sub[i], sizeof sub[i], "%s/%s", dir, names[i]);
	setenv("XR_RUNTIME_JSON", json, 1);
	setenv("XRT_UNPACED", "1", 1);
	char frames[16];
	snprintf(frames, sizeof frames, "%u", FRAMES);
	setenv("XRT_CAPTURE_FRAMES", frames, 1);
	setenv("XRT_FOV", "-30,30,18,-18", 1);
	const char *unset[] = { "XRT_VIEW_SIZE", "XRT_INPUT", "XRT_EXIT_AFTER", "XRT_LOSS_AT", "XRT_HEAD_VEL",
				"XRT_HEAD_YAW_RATE", "XRT_RECORD", "XRT_NO_STAGE", "XRT_NO_HMD", "XRT_UNFOCUSED",
				"XRT_PROFILE", "XRT_PROFILE_SWITCH", "XRT_REJECT_PROFILE" };
	for (size_t i = 0; i < sizeof unset / sizeof *unset; i++)
		unsetenv(unset[i]);

	/* The transform, and where it puts the head. */
	struct app_xform nav = { .scale = nav_scale };
	memcpy(nav.position, nav_pos, sizeof nav.position);
	yaw_quat(nav_yaw_deg, nav.rotation);
	float head_world[3];
	app_xform_point(&nav, head_stage, head_world);

	/* A cube 2 m in front of the head in the world (yaw 30 degrees: -Z
	 * turned toward -X), a little under the eyes. */
	struct gs *s;
	assert_int_equal(gs_create(&s), 0);
	float yaw = (head_yaw_deg + nav_yaw_deg) * (float)M_PI / 180.0f;
	const float cube[3] = { head_world[0] - 2.0f * sinf(yaw), head_world[1] - 0.4f,
				head_world[2] - 2.0f * cosf(yaw) };
	assert_int_equal(gs_cube(s, &s->a, cube, 0.6f, NULL, NULL), 0);
	assert_int_equal(gs_sync(s), 0);

	uint8_t *stage[2], *through[2], *moved[2];
	uint32_t w, h, w2, h2;
	xr_run(s, sub[0], head_stage, head_yaw_deg, IPD, NULL, stage, &w, &h);
	xr_run(s, sub[1], head_stage, head_yaw_deg, IPD, &nav, through, &w2, &h2);
	assert_int_equal(w2, w);
	assert_int_equal(h2, h);
	xr_run(s, sub[2], head_world, head_yaw_deg + nav_yaw_deg, IPD * nav_scale, NULL, moved, &w2, &h2);
	assert_int_equal(w2, w);
	assert_int_equal(h2, h);

	size_t n = (size_t)w * h;
	for (int e = 0; e < 2; e++) {
		/* The cube is in view through the transform ... */
		assert_true(scene_pixels(through[e], n) > n / 20);
		/* ... as a head at its world place sees it ... */
		unsigned same = differ_ppm(through[e], moved[e], n);
		if (same > SAME_MAX_PPM)
			fail_msg("eye %d: %u ppm differ from the moved head's view", e, same);
		/* ... and not as the stage head without the transform does. */
		unsigned apart = differ_ppm(through[e], stage[e], n);
		if (apart < MOVED_MIN_PPM)
			fail_msg("eye %d: only %u ppm differ from the view without the transform", e, apart);
	}
	/* Two eyes, two views: each eye was moved by its own place. */
	assert_true(differ_ppm(through[0], through[1], n) > 0);
	for (int e = 0; e < 2; e++) {
		free(stage[e]);
		free(through[e]);
		free(moved[e]);
	}
	gs_destroy(&s);
	static const char *const set[] = { "XRT_CAPTURE_DIR", "XRT_HEAD_POS", "XRT_HEAD_YAW", "XRT_IPD", "XRT_FOV" };
	for (size_t i = 0; i < sizeof set / sizeof *set; i++)
		unsetenv(set[i]);
	th_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(views_follow_the_world_grab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
