/* The renderer (gfx.c) with the window backend on a private Xvfb: the
 * cube scene test_gfx_golden draws headless, drawn in a window through the
 * same options, with a device loss in the middle. The window's screenshot
 * (the presented image copied back) matches the headless golden
 * tests/golden/gfx_cube.png, the renderer was rebuilt once and the world
 * not touched, and the validation layer said nothing. SKIP without Xvfb. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gfx/gfx.h"
#include "gfx/gfx_png.h"
#include "th_gfxscene.h"
#include "th_golden.h"
#include "th_harness.h"
#include "th_meshop.h"
#include "th_xvfb.h"

/* What test_gfx_golden's a_cube and a_lost_device_is_rebuilt use. */
#define GW 320u
#define GH 180u
#define FRAMES 3u


static void a_lost_device_in_a_window_is_rebuilt_and_looks_as_headless(void **state)
{
	struct gs *s = *state;
	assert_int_equal(gs_cube(s, &s->a, (const float[3]){ 0, 0.35f, 0 }, 0.7f, NULL, NULL), 0);
	assert_int_equal(gs_sync(s), 0);
	uint32_t entities = app_scene_entities(s->scene);

	char shot[PATH_MAX + 16];
	snprintf(shot, sizeof shot, "%s/window.png", th_xvfb_dir());
	struct gfx_options o = { .kind = GFX_RENDERER_WINDOW,
				 .width = GW,
				 .height = GH,
				 .validation = true,
				 .camera = GFX_CAMERA_FIXED,
				 .eye = { 1.2f, 1.05f, 1.6f },
				 .target = { 0.0f, 0.3f, 0.0f },
				 .no_grid = true,
				 .lose_device_at = 2,
				 .screenshot = shot };
	struct app_renderer *r = NULL;
	const struct gfx_sources src = { .scene = s->scene };
	assert_int_equal(gfx_renderer_create(&o, s->w, &src, &r), 0);
	assert_string_equal(gfx_renderer_backend(r), "window");
	for (uint32_t f = 0; f < FRAMES + 2; f++) {
		struct app_view v = { .frame = f, .time_ns = f * 11111111ull };
		assert_int_equal(app_render(r, s->w, &v), 0);
	}
	struct gfx_renderer_stats st;
	assert_int_equal(gfx_renderer_stats(r, &st), 0);
	app_renderer_destroy(&r); /* writes the screenshot */
	assert_int_equal(st.validation_messages, 0);
	assert_int_equal(st.rebuilds, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.frames, FRAMES + 1);
	assert_int_equal(app_scene_entities(s->scene), entities);

	uint8_t *px = NULL;
	uint32_t w, h;
	char why[GFX_PNG_WHY_MAX];
	if (gfx_png_read(shot, &px, &w, &h, why, sizeof why) < 0)
		fail_msg("%s: %s", shot, why);
	assert_int_equal(w, GW);
	assert_int_equal(h, GH);
	th_golden_check("gfx_cube", px, w, h, &TH_GOLDEN_TOLERANCE);
	free(px);
}

static int setup(void **state)
{
	struct gs *s = NULL;
	int r = gs_create(&s);
	*state = s;
	return r;
}

static int teardown(void **state)
{
	struct gs *s = *state;
	gs_destroy(&s);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_lost_device_in_a_window_is_rebuilt_and_looks_as_headless, setup,
						teardown),
	};
	return th_xvfb_run_group(tests);
}
