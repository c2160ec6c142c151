/* The client's OpenXR path end to end: gfx_xr (theta-client/gfx/gfx_xr.c)
 * through the real Khronos loader (libopenxr-loader1 1.0.20) against the
 * project's test runtime (tests/xrt/, docs/xr-test-runtime.md), on a
 * Vulkan context the runtime created (XR_KHR_vulkan_enable2) with the
 * validation layer on. The test drives the backend the way gfx.c does
 * (wait_frame, begin_frame, record, submit, end_frame) and reads what the
 * runtime saw from its record file and its captures of the eye images.
 *
 * Without a runtime (XR_RUNTIME_JSON naming no file) gfx_xr_create says so
 * in one line and returns -ENXIO. */
#include <errno.h>
#include <fcntl.h>
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
#include <unistd.h>
#include <cmocka.h>

#include "gfx/gfx_backend.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_png.h"
#include "gfx/gfx_vk.h"
#include "th_gfxscene.h"
#include "th_golden.h"
#include "th_harness.h"
#include "th_meshop.h"
#include "th_stderr.h"
#include "th_xrt.h"

#define XT_FRAMES 90u          /* frames the runtime lets run before it ends the session */
#define XT_FRAMES_MAX 2000u    /* the loop's bound (a runtime that never ends) */
#define XT_EYE_W 320u
#define XT_EYE_H 180u
#define XT_IPD 0.064f
#define XT_CUBE_Z (-1.0f)      /* the cube's centre, metres in front of the head */
#define XT_HEAD_Y 1.6f

struct xt {
	char dir[PATH_MAX];
	char record[PATH_MAX + 16];
	char captures[PATH_MAX + 16];
	struct gfx_backend *b;
	struct gfx_vk *vk;
	struct gfx_draw *d;
	struct gs scene;
	struct gfx_list list;
	/* What the loop saw. */
	uint32_t frames, rendered;
	int end;                   /* what stopped the loop */
	float eye[GFX_VIEWS_MAX][3]; /* the last rendered frame's eyes */
	uint64_t last_display_ns;
	bool display_time_grew;
	uint64_t display_ns[XT_FRAMES_MAX]; /* what wait_frame gave each frame that was drawn */
};

static void runtime_env(const struct xt *t)
{
	/* make test builds the runtime first; unpaced: the same images on every run, no sleeping */
	assert_int_equal(th_xrt_env(t->record), 0);
	setenv("XRT_CAPTURE_DIR", t->captures, 1);
	char v[64];
	snprintf(v, sizeof v, "%ux%u", XT_EYE_W, XT_EYE_H);
	setenv("XRT_VIEW_SIZE", v, 1);
	snprintf(v, sizeof v, "%.3f", XT_IPD);
	setenv("XRT_IPD", v, 1);
	snprintf(v, sizeof v, "0,%.2f,0", XT_HEAD_Y);
	setenv("XRT_HEAD_POS", v, 1);
	snprintf(v, sizeof v, "%u", XT_FRAMES);
	setenv("XRT_EXIT_AFTER", v, 1);
	snprintf(v, sizeof v, "1,%u", XT_FRAMES);
	setenv("XRT_CAPTURE_FRAMES", v, 1);
}

static int setup(void **state)
{
	struct xt *t = calloc(1, sizeof *t);
	assert_non_null(t);
	assert_int_equal(th_mkdtemp(t->dir, sizeof t->dir), 0);
	snprintf(t->record, sizeof t->record, "%s/record", t->dir);
	snprintf(t->captures, sizeof t->captures, "%s/eyes", t->dir);
	assert_int_equal(mkdir(t->captures, 0700), 0);
	runtime_env(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct xt *t = *state;
	th_rm_rf(t->dir);
	free(t);
	return 0;
}

/* ---- the scene: a cube in front of the head, through the real fold ------------ */

static const float xt_cube_pos[3] = { 0, XT_HEAD_Y, XT_CUBE_Z };
static const float xt_cube_rot[4] = { 0, 0.3826834f, 0, 0.9238795f }; /* 45 degrees about +Y */

/* The frame list gfx.c draws (gfx_list_build): the cube as the real fold
 * made it and the client's scene mirror holds it, and the ground grid. */
static void scene_up(struct xt *t)
{
	assert_int_equal(gs_init(&t->scene), 0);
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.size[0] = pp.size[1] = pp.size[2] = 0.3f;
	assert_int_equal(gs_primitive(&t->scene, &t->scene.a, &pp, xt_cube_pos, xt_cube_rot, 0, NULL, NULL), 0);
	assert_int_equal(gs_sync(&t->scene), 0);
	gfx_list_init(&t->list);
	struct gfx_list_input in = { .w = t->scene.w, .scene = t->scene.scene, .grid = true };
	assert_int_equal(gfx_list_build(&t->list, &in), 0);
	assert_int_equal(t->list.ninst, 1);
	assert_true(t->list.nline > 0); /* the grid */
}

static void scene_down(struct xt *t)
{
	gfx_list_fini(&t->list);
	gs_fini(&t->scene);
}

/* ---- the backend as gfx.c drives it --------------------------------------------- */

/* A Vulkan context the runtime makes, the backend attached to it, the
 * core on it (what gfx.c builds, and builds again after a device loss). */
static void context_up(struct xt *t, VkFormat *format, bool *srgb)
{
	struct gfx_vk_config vc = { .validation = true };
	assert_int_equal(t->b->ops->vk_config(t->b, &vc), 0);
	assert_non_null(vc.hooks); /* the runtime makes the instance and the device */
	assert_int_equal(gfx_vk_create(&vc, &t->vk), 0);
	assert_int_equal(t->b->ops->attach(t->b, t->vk, format, srgb), 0);
	assert_int_equal(gfx_draw_create(t->vk, &(struct gfx_draw_config){ .color_format = *format, .srgb_target = *srgb },
					 &t->d),
			 0);
}

/* The core, the backend's attachment (detach) and the context go; their
 * validation messages. */
static uint64_t context_down(struct xt *t, bool detach)
{
	gfx_draw_destroy(&t->d);
	if (detach)
		t->b->ops->detach(t->b);
	uint64_t messages = t->vk->validation_messages;
	gfx_vk_destroy(&t->vk);
	return messages;
}

static void renderer_up(struct xt *t)
{
	assert_int_equal(gfx_xr_create(&(struct gfx_xr_config){ .app_name = "theta-client" }, &t->b), 0);
	assert_string_equal(t->b->name, "xr");
	assert_int_equal(t->b->width, XT_EYE_W);
	assert_int_equal(t->b->height, XT_EYE_H);
	VkFormat format = VK_FORMAT_UNDEFINED;
	bool srgb = false;
	context_up(t, &format, &srgb);
	assert_int_equal(format, VK_FORMAT_R8G8B8A8_SRGB); /* the runtime's first offer */
	assert_true(srgb);
}

static void renderer_down(struct xt *t, bool detach)
{
	uint64_t messages = context_down(t, detach);
	t->b->ops->destroy(t->b);
	t->b = NULL;
	assert_int_equal(messages, 0);
}

static int draw(struct xt *t, struct gfx_frame *f)
{
	VkCommandBuffer cmd;
	int e = gfx_draw_begin(t->d, &cmd);
	if (!e)
		e = gfx_draw_prepare(t->d, cmd, &t->list);
	for (uint32_t v = 0; !e && v < f->nviews; v++)
		e = gfx_draw_record(t->d, cmd, &t->list, &f->target[v], &f->view[v], v);
	if (!e)
		e = gfx_draw_submit(t->d, cmd, f->wait, f->wait_stage, f->signal);
	return e;
}

/* Frames until the backend says stop (1), fails, or max frames ran. */
static void run(struct xt *t, uint32_t max)
{
	t->end = 0;
	t->display_time_grew = true;
	for (uint32_t i = 0; i < max; i++) {
		uint64_t display_ns = 0;
		int e = t->b->ops->wait_frame(t->b, &display_ns);
		if (e) {
			t->end = e;
			return;
		}
		if (display_ns) {
			if (display_ns <= t->last_display_ns)
				t->display_time_grew = false;
			t->last_display_ns = display_ns;
		}
		struct gfx_frame f;
		e = t->b->ops->begin_frame(t->b, NULL, &f);
		if (e) {
			t->end = e;
			return;
		}
		if (f.render) {
			assert_int_equal(f.nviews, 2);
			assert_int_equal(f.display_time_ns, display_ns);
			if (t->rendered < XT_FRAMES_MAX)
				t->display_ns[t->rendered] = display_ns;
			for (uint32_t v = 0; v < 2; v++) {
				assert_int_equal(f.target[v].extent.width, XT_EYE_W);
				assert_int_equal(f.target[v].extent.height, XT_EYE_H);
				assert_int_equal(f.target[v].final_layout, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL);
				memcpy(t->eye[v], f.view[v].eye, sizeof t->eye[v]);
			}
			e = draw(t, &f);
			if (e) {
				t->end = e;
				return;
			}
			t->rendered++;
		}
		t->frames++;
		e = t->b->ops->end_frame(t->b, &f, gfx_draw_last_fence(t->d));
		if (e) {
			t->end = e;
			return;
		}
	}
}

/* The scene, the renderer, then frames as run() runs them. */
static void start(struct xt *t, uint32_t max)
{
	scene_up(t);
	renderer_up(t);
	run(t, max);
}

/* ---- the runtime's record ------------------------------------------------------------ */

/* No call the runtime refused (those it did are printed). */
static void assert_no_errors(const char *rec)
{
	th_xrt_print_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "error "), 0);
}

/* A clean exit: the runtime's walk down, xrEndSession, no refused call. */
static void assert_clean_exit(const char *rec)
{
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "unsupported "), 0);
	assert_int_equal(th_xrt_lines(rec, "state id=1 to=STOPPING"), 1);
	assert_int_equal(th_xrt_lines(rec, "end_session id=1"), 1);
	assert_int_equal(th_xrt_lines(rec, "state id=1 to=EXITING"), 1);
	assert_int_equal(th_xrt_lines(rec, "destroy_session id=1"), 1);
	assert_int_equal(th_xrt_value(rec, "destroy_session id=1", "errors"), 0);
	assert_int_equal(th_xrt_lines(rec, "destroy_instance"), 1);
}

/* ---- the eye images ------------------------------------------------------------------ */

static uint8_t *capture(const struct xt *t, uint32_t frame, const char *eye)
{
	char path[PATH_MAX + 64], why[GFX_PNG_WHY_MAX];
	snprintf(path, sizeof path, "%s/frame-%04u-%s.png", t->captures, frame, eye);
	uint8_t *px = NULL;
	uint32_t w = 0, h = 0;
	int e = gfx_png_read(path, &px, &w, &h, why, sizeof why);
	if (e)
		fail_msg("%s: %s", path, why);
	assert_int_equal(w, XT_EYE_W);
	assert_int_equal(h, XT_EYE_H);
	return px;
}

/* The mean x of the pixels in rows [y0, y1) unlike the top-left one's
 * colour (the background); their count in *count. */
static double mean_x_unlike_background(const uint8_t *px, uint32_t y0, uint32_t y1, uint32_t *count)
{
	double sum = 0;
	uint32_t n = 0;
	const uint8_t *bg = px;
	for (uint32_t y = y0; y < y1; y++)
		for (uint32_t x = 0; x < XT_EYE_W; x++) {
			const uint8_t *p = px + ((size_t)y * XT_EYE_W + x) * 4;
			int d = abs(p[0] - bg[0]) + abs(p[1] - bg[1]) + abs(p[2] - bg[2]);
			if (d > 24) {
				sum += x;
				n++;
			}
		}
	*count = n;
	return n ? sum / n : 0;
}

/* Where the cube is: the rows from a third of the height down to the
 * horizon (the middle: the head looks level) hold only the cube (the grid
 * lies below the horizon). */
static double cube_x(const uint8_t *px, uint32_t *count)
{
	return mean_x_unlike_background(px, XT_EYE_H / 3, XT_EYE_H / 2 - 2, count);
}

/* ---- tests ----------------------------------------------------------------------------- */

static void the_session_reaches_focused_submits_90_frames_and_exits_cleanly(void **state)
{
	struct xt *t = *state;
	start(t, XT_FRAMES_MAX);
	assert_int_equal(t->end, 1); /* the session ended: stop */
	assert_int_equal(t->rendered, XT_FRAMES);
	assert_true(t->display_time_grew);
	/* The eyes are the IPD apart along the head's x axis (world x here). */
	assert_float_equal(t->eye[1][0] - t->eye[0][0], XT_IPD, 1e-5);
	assert_float_equal(t->eye[1][1] - t->eye[0][1], 0, 1e-5);
	assert_float_equal(t->eye[1][2] - t->eye[0][2], 0, 1e-5);
	assert_float_equal(t->eye[0][1], XT_HEAD_Y, 1e-4); /* stage space: the floor at 0 */
	renderer_down(t, true);

	char *rec = th_xrt_read(t->record);
	assert_clean_exit(rec);
	assert_int_equal(th_xrt_lines(rec, "state id=1 to=FOCUSED"), 1);
	assert_int_equal(th_xrt_lines(rec, "space id=1 type=STAGE"), 1);
	assert_int_equal(th_xrt_lines(rec, "begin_session id=1"), 1);
	assert_int_equal(th_xrt_lines(rec, "request_exit"), 0); /* the runtime ended it, not the client */
	assert_int_equal(th_xrt_value(rec, "destroy_session id=1", "ended"), XT_FRAMES);
	assert_int_equal(th_xrt_value(rec, "destroy_session id=1", "discarded"), 0);
	char want[64];
	snprintf(want, sizeof want, "end frame=%u layers=1", XT_FRAMES);
	assert_int_equal(th_xrt_lines(rec, want), 1);
	assert_int_equal(th_xrt_lines(rec, "layer frame="), XT_FRAMES);
	assert_int_equal(th_xrt_lines(rec, "view frame="), 2 * XT_FRAMES);
	/* The predicted display time went from xrWaitFrame to the loop
	 * (wait_frame) and back into xrEndFrame, frame by frame. */
	for (uint32_t i = 0; i < XT_FRAMES; i++) {
		char wait[48], end[48];
		snprintf(wait, sizeof wait, "wait frame=%u ", i + 1);
		snprintf(end, sizeof end, "end frame=%u ", i + 1);
		assert_int_equal(th_xrt_value(rec, wait, "display_ns"), (long long)t->display_ns[i]);
		assert_int_equal(th_xrt_value(rec, end, "display_ns"), (long long)t->display_ns[i]);
	}
	free(rec);

	/* What the runtime got: the goldens, and the eyes differ by the IPD:
	 * the cube sits f * ipd / z pixels further right in the left eye. */
	uint8_t *left = capture(t, XT_FRAMES, "left"), *right = capture(t, XT_FRAMES, "right");
	th_golden_check("xr_left", left, XT_EYE_W, XT_EYE_H, &TH_GOLDEN_TOLERANCE);
	th_golden_check("xr_right", right, XT_EYE_W, XT_EYE_H, &TH_GOLDEN_TOLERANCE);
	uint32_t nl = 0, nr = 0;
	double xl = cube_x(left, &nl), xr = cube_x(right, &nr);
	assert_true(nl > 50 && nr > 50);
	double focal = (XT_EYE_W / 2.0) / tan(45.0 * M_PI / 180.0); /* the runtime's default fov: +-45 degrees */
	double want_px = focal * XT_IPD / -XT_CUBE_Z;
	fprintf(stderr, "cube at x %.2f (left eye) and %.2f (right eye): %.2f px apart, %.2f expected\n", xl, xr,
		xl - xr, want_px);
	assert_true(xl - xr > 0.8 * want_px && xl - xr < 1.2 * want_px);
	/* The first frame's capture is the same picture (the head does not move). */
	uint8_t *first = capture(t, 1, "left");
	assert_true(gfx_png_compare(first, left, XT_EYE_W, XT_EYE_H, &TH_GOLDEN_TOLERANCE, NULL));
	free(first);
	free(left);
	free(right);
	scene_down(t);
}

static void a_session_lost_at_frame_30_stops_with_econnreset(void **state)
{
	struct xt *t = *state;
	setenv("XRT_LOSS_AT", "30", 1);
	setenv("XRT_EXIT_AFTER", "0", 1);
	start(t, XT_FRAMES_MAX);
	assert_int_equal(t->end, -ECONNRESET);
	assert_int_equal(t->rendered, 30);
	/* A later frame says the same, without touching the runtime. */
	uint64_t ns;
	assert_int_equal(t->b->ops->wait_frame(t->b, &ns), -ECONNRESET);
	renderer_down(t, true);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "state id=1 to=LOSS_PENDING"), 1);
	assert_int_equal(th_xrt_lines(rec, "end_session"), 0); /* a lost session is destroyed, not ended */
	assert_int_equal(th_xrt_lines(rec, "destroy_session id=1"), 1);
	assert_int_equal(th_xrt_lines(rec, "destroy_instance"), 1);
	assert_int_equal(th_xrt_lines(rec, "end frame=31"), 0);
	free(rec);
	scene_down(t);
}

static void without_a_stage_space_the_local_space_is_used(void **state)
{
	struct xt *t = *state;
	setenv("XRT_NO_STAGE", "1", 1);
	setenv("XRT_EXIT_AFTER", "3", 1);
	start(t, XT_FRAMES_MAX);
	assert_int_equal(t->end, 1);
	assert_int_equal(t->rendered, 3);
	/* LOCAL is STAGE moved to the head's start: the eyes at the origin. */
	assert_float_equal(t->eye[0][0], -XT_IPD / 2, 1e-5);
	assert_float_equal(t->eye[0][1], 0, 1e-5);
	assert_float_equal(t->eye[1][0], XT_IPD / 2, 1e-5);
	renderer_down(t, true);
	char *rec = th_xrt_read(t->record);
	assert_clean_exit(rec);
	assert_int_equal(th_xrt_lines(rec, "space id=1 type=LOCAL"), 1);
	assert_int_equal(th_xrt_lines(rec, "space id=1 type=STAGE"), 0);
	free(rec);
	scene_down(t);
}

static void the_client_quitting_asks_the_runtime_and_exits_cleanly(void **state)
{
	struct xt *t = *state;
	setenv("XRT_EXIT_AFTER", "0", 1); /* the runtime would go on for ever */
	start(t, 20);
	assert_int_equal(t->end, 0);
	assert_int_equal(t->rendered, 20);
	renderer_down(t, true); /* detach: xrRequestExitSession, empty frames to exiting */
	char *rec = th_xrt_read(t->record);
	assert_clean_exit(rec);
	assert_int_equal(th_xrt_lines(rec, "request_exit id=1"), 1);
	assert_int_equal(th_xrt_lines(rec, "layer frame="), 20); /* frames after the request have no layer */
	free(rec);
	scene_down(t);
}

/* What gfx.c does on a device loss: the core, the backend's attachments
 * and the context go, new ones come; the XR backend makes a new session
 * on the new device, which runs from IDLE again to its own exit. */
static void a_lost_device_gets_a_new_session_on_the_new_context(void **state)
{
	struct xt *t = *state;
	start(t, 20);
	assert_int_equal(t->end, 0);
	t->vk->lose_after = t->vk->checks + 1; /* the next Vulkan call reports VK_ERROR_DEVICE_LOST */
	run(t, 1);
	assert_int_equal(t->end, -ENODEV);
	assert_true(t->vk->lost);
	assert_int_equal(context_down(t, true), 0);
	VkFormat format;
	bool srgb;
	context_up(t, &format, &srgb);
	uint32_t before = t->rendered;
	run(t, XT_FRAMES_MAX);
	assert_int_equal(t->end, 1);
	assert_int_equal(t->rendered - before, XT_FRAMES); /* the new session's own 90 */
	renderer_down(t, true);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "session id=2"), 1);
	assert_int_equal(th_xrt_lines(rec, "destroy_session id=1"), 1);
	assert_int_equal(th_xrt_lines(rec, "state id=2 to=FOCUSED"), 1);
	assert_int_equal(th_xrt_lines(rec, "end_session id=2"), 1);
	assert_int_equal(th_xrt_lines(rec, "state id=2 to=EXITING"), 1);
	assert_int_equal(th_xrt_value(rec, "destroy_session id=2", "errors"), 0);
	assert_int_equal(th_xrt_lines(rec, "destroy_instance"), 1);
	free(rec);
	scene_down(t);
}

/* The whole client: theta-client --renderer xr (gfx.c choosing the
 * backend, the loop paced by xrWaitFrame) until the runtime ends the
 * session after 90 frames; no daemon (the link retries, frames go on). */
static void theta_client_renders_in_the_headset_until_the_runtime_ends_the_session(void **state)
{
	struct xt *t = *state;
	const char *argv[] = { th_bin("theta-client"), "--renderer", "xr", "--validation", "--runtime-dir", t->dir, NULL };
	static char out[1 << 14], err[1 << 16];
	int rc = th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 120000);
	if (rc != 0)
		fprintf(stderr, "theta-client exit %d:\n%s", rc, err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(err, "OpenXR: the session ended"));
	const char *stats = strstr(out, "renderer xr,"); /* the summary on stdout */
	assert_non_null(stats);
	assert_non_null(strstr(stats, " 0 validation messages"));
	char *rec = th_xrt_read(t->record);
	assert_clean_exit(rec);
	assert_int_equal(th_xrt_lines(rec, "state id=1 to=FOCUSED"), 1);
	assert_int_equal(th_xrt_lines(rec, "layer frame="), XT_FRAMES);
	free(rec);
	uint8_t *left = capture(t, XT_FRAMES, "left"), *right = capture(t, XT_FRAMES, "right");
	/* No scene without a daemon: the grid, below the horizon, in each eye. */
	uint32_t nl = 0, nr = 0, above = 0;
	mean_x_unlike_background(left, XT_EYE_H / 2 + 2, XT_EYE_H, &nl);
	mean_x_unlike_background(right, XT_EYE_H / 2 + 2, XT_EYE_H, &nr);
	mean_x_unlike_background(left, 0, XT_EYE_H / 2 - 2, &above);
	assert_true(nl > XT_EYE_W && nr > XT_EYE_W);
	assert_int_equal(above, 0);
	free(left);
	free(right);
}

static int create_xr(void *b)
{
	return gfx_xr_create(&(struct gfx_xr_config){ .app_name = "theta-client" }, b);
}

static void without_a_runtime_create_says_so_in_one_line_and_gives_enxio(void **state)
{
	struct xt *t = *state;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/no-such-runtime.json", t->dir);
	setenv("XR_RUNTIME_JSON", path, 1);
	struct gfx_backend *b = NULL;
	char err[4096], errpath[PATH_MAX + 16];
	snprintf(errpath, sizeof errpath, "%s/stderr", t->dir);
	assert_int_equal(th_with_stderr(errpath, create_xr, &b, err, sizeof err), -ENXIO);
	assert_null(b);
	fprintf(stderr, "said: %s", err);
	assert_int_equal(th_count_lines(err, NULL), 1); /* the loader's own lines too */
	assert_int_equal(th_count_lines(err, "OpenXR: no runtime answered (xrCreateInstance: XR_ERROR_"), 1);

	/* A runtime without a headset: the same, in its own words. */
	runtime_env(t);
	setenv("XRT_NO_HMD", "1", 1);
	assert_int_equal(th_with_stderr(errpath, create_xr, &b, err, sizeof err), -ENXIO);
	assert_null(b);
	fprintf(stderr, "said: %s", err);
	assert_int_equal(th_count_lines(err, NULL), 1);
	assert_int_equal(th_count_lines(err, "no headset is connected"), 1);
	char *rec = th_xrt_read(t->record);
	assert_int_equal(th_xrt_lines(rec, "destroy_instance"), 1); /* nothing left behind */
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_session_reaches_focused_submits_90_frames_and_exits_cleanly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_session_lost_at_frame_30_stops_with_econnreset, setup, teardown),
		cmocka_unit_test_setup_teardown(without_a_stage_space_the_local_space_is_used, setup, teardown),
		cmocka_unit_test_setup_teardown(the_client_quitting_asks_the_runtime_and_exits_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(a_lost_device_gets_a_new_session_on_the_new_context, setup, teardown),
		cmocka_unit_test_setup_teardown(theta_client_renders_in_the_headset_until_the_runtime_ends_the_session,
						setup, teardown),
		cmocka_unit_test_setup_teardown(without_a_runtime_create_says_so_in_one_line_and_gives_enxio, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("xr", tests, NULL, NULL);
}
