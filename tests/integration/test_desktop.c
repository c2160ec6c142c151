/* The desktop editor end to end (docs/desktop.md): a real thetad holding a
 * cube (stamped by a scripted client), a real theta-client in a window on a
 * private Xvfb (no OpenXR runtime, validation on), driven only by real X
 * input from xdotool as a person at a desk would: F frames the cube, 3
 * takes the extrude tool, a left drag up from the top face pulls it, 7
 * takes the paint tool, a click paints the front face, Ctrl+Z undoes the
 * paint, Ctrl+Q quits. Checked by the daemon's scene (faces, the OBJ
 * export's vertices and materials), by what the window shows along the way
 * (read back from the X server), by the client's history lines and by its
 * screenshot of the last frame.
 *
 * No fixed sleeps: each step waits for its effect to show (a pixel of the
 * window changing: the hover highlight coming, going with the grab, the
 * preview growing, the paint) or for the daemon's scene, with generous
 * deadlines, so a slow frame only makes the test slower. The camera after
 * F is known (edit_desk.h: yaw 0, pitch EDIT_DESK_PITCH_DEFAULT, the
 * cube's bounding sphere over EDIT_DESK_FRAME_MARGIN), so the test
 * projects the points it points at. SKIPs without Xvfb or xdotool. */
#include "editor_fixture.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <math.h>
#include <signal.h>

#include "edit/edit_desk.h"
#include "gfx/gfx_png.h"
#include "th_xvfb.h"

/* The window: large enough that the desktop panels (docs/ui.md: tools and
 * colours down the left edge, history and the inspector at the top right)
 * leave the framed cube in the middle clear. */
#define W 1024
#define H 768
#define SIZE "1024x768"
#define SCREEN "1280x1024x24" /* room beside the window for the cursor to leave it */
#define STEP_MS 30000   /* one step's effect showing, on a loaded machine */
#define POLL_MS 20
#define FOVY 1.0471976f /* the renderer's default, 60 degrees */
#define PULL_PX 60      /* the drag up */
#define COLOUR_TOL 3    /* per channel: the same colour (lavapipe draws the same frame the same) */

static const char *const no_xr_env[] = { "XR_RUNTIME_JSON=/nonexistent/openxr_runtime.json", NULL };

/* Stamp the cube and leave. */
static const char stamp_and_quit[] = "3s quit\n";

struct cam {
	float eye[3], right[3], up[3], fwd[3];
};

/* The camera F gives for the cube (20 cm at (0, 1, -0.5)). */
static void framed_camera(struct cam *c)
{
	const float target[3] = { 0, 1, -0.5f };
	float p = EDIT_DESK_PITCH_DEFAULT;
	float dist = EDIT_DESK_FRAME_MARGIN * sqrtf(3.0f) * 0.1f / sinf(0.5f * FOVY);
	float back[3] = { 0, sinf(p), cosf(p) };
	for (int k = 0; k < 3; k++) {
		c->eye[k] = target[k] + dist * back[k];
		c->fwd[k] = -back[k];
	}
	c->right[0] = 1, c->right[1] = 0, c->right[2] = 0;
	c->up[0] = 0, c->up[1] = cosf(p), c->up[2] = -sinf(p);
}

static float dot3(const float a[3], const float b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* The window pixel showing world point p. */
static void project(const struct cam *c, const float p[3], int px[2])
{
	float rel[3] = { p[0] - c->eye[0], p[1] - c->eye[1], p[2] - c->eye[2] };
	float z = dot3(rel, c->fwd), f = 0.5f * H / tanf(0.5f * FOVY);
	px[0] = (int)lroundf(0.5f * W + f * dot3(rel, c->right) / z);
	px[1] = (int)lroundf(0.5f * H - f * dot3(rel, c->up) / z);
}

/* The height where the ray through window pixel (x, y) crosses the plane
 * z = z0. */
static float cross_at_z(const struct cam *c, int x, int y, float z0)
{
	float f = 0.5f * H / tanf(0.5f * FOVY), dir[3];
	for (int k = 0; k < 3; k++)
		dir[k] = c->fwd[k] + ((float)x - 0.5f * W) / f * c->right[k] + (0.5f * H - (float)y) / f * c->up[k];
	float s = (z0 - c->eye[2]) / dir[2];
	return c->eye[1] + s * dir[1];
}

/* ---- the window, from the X server ------------------------------------- */

struct px {
	uint8_t r, g, b;
};

static Display *dpy;
static Window win;
static char wid[32];

static struct px pixel(int x, int y)
{
	assert_true(x >= 0 && x < W && y >= 0 && y < H);
	XImage *im = XGetImage(dpy, win, x, y, 1, 1, AllPlanes, ZPixmap);
	assert_non_null(im);
	unsigned long v = XGetPixel(im, 0, 0);
	struct px p = { (uint8_t)((v & im->red_mask) >> 16), (uint8_t)((v & im->green_mask) >> 8),
			(uint8_t)(v & im->blue_mask) };
	XDestroyImage(im);
	return p;
}

/* The whole window as RGBA into path (what a failing step saw). */
static void dump_window(const char *path)
{
	XImage *im = XGetImage(dpy, win, 0, 0, W, H, AllPlanes, ZPixmap);
	if (!im)
		return;
	uint8_t *rgba = malloc((size_t)W * H * 4);
	for (int y = 0; rgba && y < H; y++)
		for (int x = 0; x < W; x++) {
			unsigned long v = XGetPixel(im, x, y);
			uint8_t *o = rgba + 4 * ((size_t)y * W + x);
			o[0] = (uint8_t)((v & im->red_mask) >> 16);
			o[1] = (uint8_t)((v & im->green_mask) >> 8);
			o[2] = (uint8_t)(v & im->blue_mask);
			o[3] = 255;
		}
	char why[GFX_PNG_WHY_MAX];
	if (rgba)
		gfx_png_write(path, rgba, W, H, why, sizeof why);
	free(rgba);
	XDestroyImage(im);
}

static bool same(struct px a, struct px b)
{
	return abs(a.r - b.r) <= COLOUR_TOL && abs(a.g - b.g) <= COLOUR_TOL && abs(a.b - b.b) <= COLOUR_TOL;
}

static void nap(void) { nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL); }

/* Waits until the pixel at p is (want true) or is not (false) like ref;
 * fails naming what. The colour then. */
static struct px wait_pixel(const int p[2], struct px ref, bool want, const char *what)
{
	uint64_t end = th_now_ns() + (uint64_t)STEP_MS * TH_NS_PER_MS;
	struct px now;
	do {
		now = pixel(p[0], p[1]);
		if (same(now, ref) == want)
			return now;
		nap();
	} while (th_now_ns() < end);
	char shot[PATH_MAX];
	const char *b = getenv("THETA_BUILD");
	snprintf(shot, sizeof shot, "%s/test-logs/test_desktop_failed.png", b && *b ? b : "build");
	dump_window(shot);
	fail_msg("%s: the pixel at (%d, %d) stayed (%u, %u, %u) (%s (%u, %u, %u) wanted) for %d ms; the window is in %s",
		 what, p[0], p[1], now.r, now.g, now.b, want ? "like" : "unlike", ref.r, ref.g, ref.b, STEP_MS, shot);
	return now;
}

/* After F: two points of the front face show its colour, which is not
 * the sky's above it (a frame drawn before F, or none drawn yet, has no
 * such face there). The front face's colour. */
static struct px wait_framed(const struct cam *c, const int front_s[2])
{
	int other[2], sky[2] = { W / 2, 40 }; /* between the panels, above the cube */
	project(c, (float[3]){ 0.05f, 0.93f, -0.4f }, other);
	uint64_t end = th_now_ns() + (uint64_t)STEP_MS * TH_NS_PER_MS;
	struct px a, b, s;
	do {
		a = pixel(front_s[0], front_s[1]);
		b = pixel(other[0], other[1]);
		s = pixel(sky[0], sky[1]);
		if (same(a, b) && !same(a, s))
			return a;
		nap();
	} while (th_now_ns() < end);
	fail_msg("F did not frame the cube in %d ms: the front face shows (%u, %u, %u) and (%u, %u, %u), the sky "
		 "(%u, %u, %u)", STEP_MS, a.r, a.g, a.b, b.r, b.g, b.b, s.r, s.g, s.b);
	return a;
}

static void xdo(const char *const *args)
{
	assert_int_equal(th_xdo(args), 0);
}

static void mouse_to(const int p[2])
{
	char x[16], y[16];
	snprintf(x, sizeof x, "%d", p[0]);
	snprintf(y, sizeof y, "%d", p[1]);
	xdo((const char *[]){ "mousemove", "--window", wid, x, y, NULL });
}

/* Outside the window (the screen is larger): no hover at all. */
static void mouse_away(void)
{
	xdo((const char *[]){ "mousemove", "1270", "1010", NULL });
}

static void key(const char *k)
{
	xdo((const char *[]){ "key", "--window", wid, k, NULL });
}

/* ---- the daemon's side ---------------------------------------------------- */

static char sid[64];

/* Materials the OBJ's faces use. */
static unsigned obj_materials(const char *text)
{
	unsigned n = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "usemtl ", 7))
			n++;
	return n;
}

/* The highest y of the OBJ's vertices. */
static double obj_top(const char *text)
{
	double top = -1e9;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		double x, y, z;
		if (sscanf(l, "v %lf %lf %lf", &x, &y, &z) == 3 && y > top)
			top = y;
	}
	return top;
}

static void wait_materials(struct th_daemon_proc *d, unsigned want)
{
	uint64_t end = th_now_ns() + (uint64_t)STEP_MS * TH_NS_PER_MS;
	unsigned n;
	do {
		char *t = edf_export_obj(d, sid, "desk.obj");
		n = obj_materials(t);
		free(t);
		if (n == want)
			return;
		nap();
	} while (th_now_ns() < end);
	fail_msg("the daemon's scene uses %u materials, not %u, after %d ms", n, want, STEP_MS);
}

/* The daemon's log length now. */
static uint64_t log_count(struct th_daemon_proc *d)
{
	struct json_object *o = edf_scene_json(d);
	uint64_t n = dt_u64(o, "log_count");
	json_object_put(o);
	return n;
}

/* Waits until the one client's scene stands at the daemon's log position
 * pos or later with the same world hash (it has every entry up to there,
 * its own answers included). */
static void wait_client_at(struct th_daemon_proc *d, uint64_t pos)
{
	uint64_t end = th_now_ns() + (uint64_t)STEP_MS * TH_NS_PER_MS;
	const char *args[] = { "clients", "--json", NULL };
	do {
		assert_int_equal(th_ctl(d, args, edf_out, sizeof edf_out, edf_err, sizeof edf_err), 0);
		struct json_object *o = json_tokener_parse(edf_out), *list, *sc, *v;
		assert_non_null(o);
		bool ok = false;
		if (json_object_object_get_ex(o, "clients", &list) && json_object_array_length(list) >= 1)
			for (size_t i = 0; i < json_object_array_length(list) && !ok; i++) {
				struct json_object *row = json_object_array_get_idx(list, i);
				if (json_object_object_get_ex(row, "scene", &sc) && sc &&
				    json_object_object_get_ex(sc, "hash", &v) && !strcmp(json_object_get_string(v), "match"))
					ok = dt_u64(sc, "next_pos") >= pos;
			}
		json_object_put(o);
		if (ok)
			return;
		nap();
	} while (th_now_ns() < end);
	fail_msg("the desktop client's scene did not reach log position %llu in %d ms:\n%s", (unsigned long long)pos,
		 STEP_MS, edf_out);
}

/* ---- the test ------------------------------------------------------------------------------------- */

static void extrude_paint_and_undo_with_mouse_and_keys(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);
	char cout[PATH_MAX], cerr[PATH_MAX], *text, *etext;
	pid_t stamper = edf_spawn_scripted(d, "stamp.script", stamp_and_quit, cout, cerr);
	edf_wait_scripted(stamper, cout, cerr, &text, &etext);
	free(text);
	free(etext);
	dt_wait_scene(d, "faces", 6);
	struct json_object *o = edf_scene_json(d), *v;
	assert_true(json_object_object_get_ex(o, "session", &v));
	snprintf(sid, sizeof sid, "%s", json_object_get_string(v));
	json_object_put(o);

	/* The desktop client, until Ctrl+Q. */
	char shot[PATH_MAX], dout[PATH_MAX], derr[PATH_MAX];
	snprintf(shot, sizeof shot, "%s/desk.png", d->dir);
	snprintf(dout, sizeof dout, "%s/desk.out", d->dir);
	snprintf(derr, sizeof derr, "%s/desk.err", d->dir);
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--renderer", "window",
			       "--require-daemon", "--size", SIZE, "--validation", "--screenshot", shot, "--history",
			       NULL };
	pid_t pid = th_spawn(argv, no_xr_env, dout, derr);
	assert_true(pid > 0);
	char out[64];
	if (th_xdo_out((const char *[]){ "search", "--sync", "--name", "^Theta$", NULL }, out, sizeof out) != 0) {
		kill(pid, SIGKILL);
		th_wait_pid(pid, EDF_WAIT_MS, NULL);
		fail_msg("no window named Theta appeared: %s", th_slurp(derr));
	}
	snprintf(wid, sizeof wid, "%lu", strtoul(out, NULL, 10));
	win = (Window)strtoul(wid, NULL, 10);
	dpy = XOpenDisplay(NULL);
	assert_non_null(dpy);
	wait_client_at(d, log_count(d));
	xdo((const char *[]){ "windowfocus", "--sync", wid, NULL });
	mouse_away();

	/* F: the cube framed; the front face's middle shows it. */
	struct cam c;
	framed_camera(&c);
	/* Where the cursor goes, and beside it where the test looks (the tip's
	 * marker is drawn at the cursor). */
	int front[2], top[2], grown[2], front_s[2], top_s[2];
	project(&c, (float[3]){ 0, 1.0f, -0.4f }, front);
	project(&c, (float[3]){ 0, 1.1f, -0.5f }, top);
	project(&c, (float[3]){ -0.05f, 0.97f, -0.4f }, front_s);
	project(&c, (float[3]){ -0.05f, 1.1f, -0.5f }, top_s);
	key("f");
	struct px front0 = wait_framed(&c, front_s);

	/* 3 and a drag up from the top face's middle: the extrude. */
	/* The pull: where the ray through the cursor PULL_PX higher crosses
	 * the vertical plane through the grab facing the camera (extrude's
	 * drag plane holds the normal, +y), snapped to 1 cm. */
	float pull = roundf((cross_at_z(&c, top[0], top[1] - PULL_PX, -0.5f) - 1.1f) * 100) / 100;
	project(&c, (float[3]){ 0, 1.1f + 0.8f * pull, -0.4f }, grown);
	struct px grown0 = pixel(grown[0], grown[1]);
	key("3");
	struct px top0 = pixel(top_s[0], top_s[1]);
	mouse_to(top);
	struct px lit = wait_pixel(top_s, top0, false, "the top face highlighted under the cursor");
	xdo((const char *[]){ "mousedown", "1", NULL });
	wait_pixel(top_s, lit, false, "the highlight gone with the grab");
	int up[2] = { top[0], top[1] - PULL_PX };
	mouse_to(up);
	wait_pixel(grown, grown0, false, "the preview pulled up");
	xdo((const char *[]){ "mouseup", "1", NULL });
	dt_wait_scene(d, "faces", 10);
	char *obj = edf_export_obj(d, sid, "desk.obj");
	if (fabs(obj_top(obj) - (1.1 + pull)) > 0.0051)
		fail_msg("the top is at %.4f, not %.4f (pulled %.3f m by %d px):\n%s", obj_top(obj), 1.1 + pull, pull,
			 PULL_PX, obj);
	assert_int_equal(obj_materials(obj), 1);
	free(obj);

	/* 7 and a click on the front face: painted. */
	key("7");
	mouse_to(front);
	struct px hover = wait_pixel(front_s, front0, false, "the front face highlighted under the cursor");
	xdo((const char *[]){ "click", "1", NULL });
	wait_materials(d, 2);
	mouse_away();
	wait_pixel(front_s, hover, false, "the highlight gone with the cursor");
	struct px painted = wait_pixel(front_s, front0, false, "the front face painted");
	wait_client_at(d, log_count(d));

	/* Ctrl+Z: the paint undone, in the daemon and in the window. */
	key("ctrl+z");
	wait_materials(d, 1);
	wait_pixel(front_s, front0, true, "the paint undone");

	/* Ctrl+Q: the client ends, with its history and its screenshot. */
	key("ctrl+q");
	int st = 0;
	if (th_wait_pid(pid, EDF_WAIT_MS, &st) < 0) {
		kill(pid, SIGKILL);
		th_wait_pid(pid, EDF_WAIT_MS, NULL);
		fail_msg("theta-client did not stop after Ctrl+Q");
	}
	XCloseDisplay(dpy);
	text = th_slurp(dout);
	etext = th_slurp(derr);
	assert_non_null(text);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !strstr(text, "renderer window,") ||
	    !strstr(text, " 0 validation messages") || !strstr(text, "extrude 1 face of mesh") ||
	    !strstr(text, "paint 1 face of mesh") || !strstr(text, "undo #") ||
	    !strstr(text, "theta-client: input desktop, profiles - -, ") ||
	    !strstr(text, " snap turns, world scale 1.00, 0 keys dropped\n"))
		fail_msg("theta-client (status %d) did not say what the desktop did:\n%s\n%s", st, text,
			 etext ? etext : "");
	print_message("%s", text);
	free(text);
	free(etext);

	/* The last frame: the cube pulled up, the front face as before the paint. */
	uint8_t *px = NULL;
	uint32_t w = 0, h = 0;
	char why[GFX_PNG_WHY_MAX];
	if (gfx_png_read(shot, &px, &w, &h, why, sizeof why) < 0)
		fail_msg("%s: %s", shot, why);
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	const uint8_t *f = px + 4 * ((size_t)front_s[1] * W + front_s[0]), *g = px + 4 * ((size_t)grown[1] * W + grown[0]);
	assert_true(same((struct px){ f[0], f[1], f[2] }, front0));
	assert_false(same((struct px){ f[0], f[1], f[2] }, painted));
	assert_false(same((struct px){ g[0], g[1], g[2] }, grown0));
	free(px);
}

static struct th_xvfb xvfb;

static int group_setup(void **state)
{
	return th_xvfb_start(&xvfb, SCREEN) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	th_xvfb_stop(&xvfb);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(extrude_paint_and_undo_with_mouse_and_keys, dt_teardown),
	};
	if (th_xdo_skip())
		return 0;
	return cmocka_run_group_tests_name("the desktop editor", tests, group_setup, group_teardown);
}
