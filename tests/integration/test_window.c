/* theta-client in a window, as a person on a desktop starts it: on a
 * private Xvfb with no OpenXR runtime the automatic choice is the window;
 * it renders with the validation layer on and not one message, writes its
 * screenshot from the presented image, and that image is what the
 * headless renderer draws of the same frames; the window manager's close
 * button (WM_DELETE_WINDOW, sent by this test as a window manager would:
 * Xvfb has none) ends the client cleanly. SKIP without Xvfb. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include "gfx/gfx_png.h"
#include "th_golden.h"
#include "th_harness.h"
#include "th_xvfb.h"

#define RUN_MS 60000
#define FIND_MS 30000 /* the client's window appearing, on a loaded machine */
#define FIND_POLL_MS 50
#define SIZE "160x96"

static char out[65536], err[65536];

/* No runtime manifest anywhere: the loader finds no OpenXR runtime. */
static const char *const no_xr_env[] = { "XR_RUNTIME_JSON=/nonexistent/openxr_runtime.json", "THETA_RUNTIME_DIR=",
					 NULL };

static int client(const char *const *args)
{
	return th_run_bin("theta-client", args, no_xr_env, out, sizeof out, err, sizeof err, RUN_MS);
}

static uint8_t *read_png(const char *path, uint32_t *w, uint32_t *h)
{
	uint8_t *px = NULL;
	char why[GFX_PNG_WHY_MAX];
	if (gfx_png_read(path, &px, w, h, why, sizeof why) < 0)
		fail_msg("%s: %s", path, why);
	return px;
}

static void auto_shows_the_scene_in_a_window_like_headless(void **state)
{
	char win_png[PATH_MAX + 16], head_png[PATH_MAX + 16];
	snprintf(win_png, sizeof win_png, "%s/window.png", th_xvfb_dir());
	snprintf(head_png, sizeof head_png, "%s/headless.png", th_xvfb_dir());

	/* The desktop editor's orbit camera and panels left out: the window
	 * shows what headless does. */
	const char *a[] = { "--frames", "4", "--no-pacing", "--size", SIZE, "--validation", "--camera", "auto", "--no-ui",
			    "--screenshot", win_png, NULL };
	int rc = client(a);
	if (rc != 0)
		fail_msg("theta-client exited %d: %s", rc, err);
	assert_non_null(strstr(out, "renderer window, 4 frames drawn"));
	assert_non_null(strstr(out, " 0 validation messages"));

	const char *b[] = { "--headless", "--frames", "4", "--no-pacing", "--size", SIZE, "--validation", "--no-ui",
			    "--screenshot", head_png, NULL };
	rc = client(b);
	if (rc != 0)
		fail_msg("theta-client --headless exited %d: %s", rc, err);
	assert_non_null(strstr(out, "renderer headless, 4 frames drawn"));

	uint32_t ww, wh, hw, hh;
	uint8_t *wpx = read_png(win_png, &ww, &wh);
	uint8_t *hpx = read_png(head_png, &hw, &hh);
	assert_int_equal(ww, 160);
	assert_int_equal(wh, 96);
	assert_int_equal(hw, ww);
	assert_int_equal(hh, wh);
	/* The same camera, size and sRGB encoding: the same picture, to the
	 * tolerance goldens get (the window's is BGRA swizzled back). */
	struct gfx_png_compare_result cr;
	if (!gfx_png_compare(wpx, hpx, ww, wh, &TH_GOLDEN_TOLERANCE, &cr)) {
		char why[256];
		gfx_png_compare_describe(&cr, &TH_GOLDEN_TOLERANCE, why, sizeof why);
		fail_msg("the window's screenshot differs from the headless one: %s", why);
	}
	/* and it is not an empty picture: more than one colour */
	bool varied = false;
	for (size_t i = 1; i < (size_t)ww * wh && !varied; i++)
		varied = memcmp(wpx + i * 4, wpx, 4) != 0;
	assert_true(varied);
	free(wpx);
	free(hpx);
}

/* path's text into buf (cut to fit; empty when unreadable). */
static void slurp_into(char *buf, size_t len, const char *path)
{
	char *t = th_slurp(path);
	snprintf(buf, len, "%s", t ? t : "");
	free(t);
}

/* The top-level window named name, or None. */
static Window find_named(Display *dpy, const char *name)
{
	Window root = DefaultRootWindow(dpy), parent, *kids = NULL, found = None;
	unsigned n = 0;
	if (!XQueryTree(dpy, root, &root, &parent, &kids, &n))
		return None;
	for (unsigned i = 0; i < n && found == None; i++) {
		char *wm_name = NULL;
		if (XFetchName(dpy, kids[i], &wm_name) && wm_name) {
			if (strcmp(wm_name, name) == 0)
				found = kids[i];
			XFree(wm_name);
		}
	}
	if (kids)
		XFree(kids);
	return found;
}

static void closing_the_window_ends_the_client(void **state)
{
	char out_path[PATH_MAX + 16], err_path[PATH_MAX + 16];
	snprintf(out_path, sizeof out_path, "%s/close.out", th_xvfb_dir());
	snprintf(err_path, sizeof err_path, "%s/close.err", th_xvfb_dir());
	/* No --frames: it runs until something stops it. */
	const char *argv[] = { th_bin("theta-client"), "--size", SIZE, "--validation", NULL };
	pid_t pid = th_spawn(argv, no_xr_env, out_path, err_path);
	assert_true(pid > 0);
	Display *dpy = XOpenDisplay(NULL);
	assert_non_null(dpy);
	Window win = None;
	for (int waited = 0; win == None && waited < FIND_MS; waited += FIND_POLL_MS) {
		win = find_named(dpy, "Theta");
		if (win == None) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				slurp_into(err, sizeof err, err_path);
				fail_msg("theta-client exited before its window appeared: %s", err);
			}
			nanosleep(&(struct timespec){ 0, FIND_POLL_MS * 1000000L }, NULL);
		}
	}
	if (win == None) {
		kill(pid, SIGKILL);
		th_wait_pid(pid, RUN_MS, NULL);
		fail_msg("no window named Theta appeared in %d ms", FIND_MS);
	}
	XEvent ev = { 0 };
	ev.xclient.type = ClientMessage;
	ev.xclient.window = win;
	ev.xclient.message_type = XInternAtom(dpy, "WM_PROTOCOLS", False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	ev.xclient.data.l[1] = CurrentTime;
	assert_true(XSendEvent(dpy, win, False, NoEventMask, &ev) != 0);
	XSync(dpy, False);
	int st = 0;
	if (th_wait_pid(pid, RUN_MS, &st) < 0) {
		kill(pid, SIGKILL);
		th_wait_pid(pid, RUN_MS, NULL);
		fail_msg("theta-client did not stop in %d ms after its window was closed", RUN_MS);
	}
	XCloseDisplay(dpy);
	slurp_into(out, sizeof out, out_path);
	slurp_into(err, sizeof err, err_path);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("theta-client ended with status %d after its window was closed: %s", st, err);
	assert_non_null(strstr(out, "renderer window,"));
	assert_non_null(strstr(out, " 0 validation messages"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auto_shows_the_scene_in_a_window_like_headless),
		cmocka_unit_test(closing_the_window_ends_the_client),
	};
	return th_xvfb_run_group(tests);
}
