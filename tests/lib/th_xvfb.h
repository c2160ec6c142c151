/* A private X server for window tests: Xvfb on a display number it picks
 * itself (-displayfd, so tests running at once never collide), DISPLAY set
 * to it, stopped and waited for at the end. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TH_XVFB_START_MS 20000 /* generous: two loaded cores */

struct th_xvfb {
	pid_t pid;
	int display; /* the N of :N */
	char old_display[64];
	bool had_display;
};

/* Whether an Xvfb binary is on PATH (tests print a SKIP line without it). */
bool th_xvfb_available(void);
/* 0 (DISPLAY=:N set, WAYLAND_DISPLAY unset), -errno (said on stderr). */
int th_xvfb_start(struct th_xvfb *x, const char *screen /* "640x480x24" */);
/* Stops the server and puts DISPLAY back. */
void th_xvfb_stop(struct th_xvfb *x);

/* A window test binary's group fixture: a temporary directory
 * (th_xvfb_dir(), removed by the teardown) and a private Xvfb with a
 * TH_XVFB_SCREEN screen for the whole group. */
#define TH_XVFB_SCREEN "640x480x24"
int th_xvfb_group_setup(void **state);
int th_xvfb_group_teardown(void **state);
/* The fixture's temporary directory (between setup and teardown). */
const char *th_xvfb_dir(void);
/* True after printing the SKIP line when Xvfb is not installed. */
bool th_xvfb_skip(void);
/* main's return: cmocka's group run of the array tests under the fixture,
 * or 0 after the SKIP line (the caller includes cmocka.h). */
#define th_xvfb_run_group(tests) \
	(th_xvfb_skip() ? 0 : cmocka_run_group_tests(tests, th_xvfb_group_setup, th_xvfb_group_teardown))

/* xdotool (real X input through XTEST, to the display in $DISPLAY): its
 * path, or NULL when it is not installed (tests print a SKIP line). */
#define TH_XDO_TIMEOUT_MS 20000
#define TH_XDO_ARGS_MAX 64
const char *th_xdotool(void);
/* Runs xdotool with args (NULL-terminated, at most TH_XDO_ARGS_MAX): 0, or
 * its exit status / -errno after printing the command and its stderr
 * (-E2BIG for more arguments: nothing is sent). */
int th_xdo(const char *const *args);
/* The same with its stdout (cut to fit, NUL-terminated) into out. */
int th_xdo_out(const char *const *args, char *out, size_t outlen);
/* True after printing the SKIP line when Xvfb or xdotool is not installed. */
bool th_xdo_skip(void);
