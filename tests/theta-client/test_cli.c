/* theta-client's command line as a person or a script meets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "th_harness.h"

static char out[65536], err[65536];
static char dir[PATH_MAX];

static int setup(void **state)
{
	return th_mkdtemp(dir, sizeof(dir));
}

static int teardown(void **state)
{
	th_rm_rf(dir);
	return 0;
}

static int client_env(const char *const *args, const char *const *env)
{
	return th_run_bin("theta-client", args, env, out, sizeof(out), err, sizeof(err), 60000);
}

static int client(const char *const *args)
{
	const char *env[] = { "THETA_RUNTIME_DIR=", NULL };
	return client_env(args, env);
}

/* No headset runtime (the loader finds none), no display, no --headless:
 * nothing to show on, said in one line that names the way out. */
static void test_nothing_to_show_on_is_said(void **state)
{
	char xr[PATH_MAX + 32];
	snprintf(xr, sizeof xr, "XR_RUNTIME_JSON=%s/no-runtime.json", dir);
	const char *env[] = { "THETA_RUNTIME_DIR=", "DISPLAY=", "WAYLAND_DISPLAY=", xr, NULL };
	const char *a[] = { "--frames", "3", "--no-pacing", NULL };
	assert_int_equal(client_env(a, env), 1);
	assert_non_null(strstr(err, "nothing to show the scene on"));
	assert_non_null(strstr(err, "--headless"));
	/* The same forced to OpenXR: the runtime's absence is the error. */
	const char *b[] = { "--renderer", "xr", "--frames", "3", NULL };
	assert_int_equal(client_env(b, env), 1);
	assert_non_null(strstr(err, "OpenXR"));
}

/* --headless renders offscreen with Vulkan (lavapipe here) and writes the
 * last frame as a PNG; validation on, and not one message. */
static void test_headless_writes_a_screenshot(void **state)
{
	char png[PATH_MAX + 16];
	snprintf(png, sizeof png, "%s/shot.png", dir);
	const char *a[] = { "--headless", "--frames", "4", "--no-pacing", "--size", "96x54", "--validation",
			    "--screenshot", png, NULL };
	assert_int_equal(client(a), 0);
	assert_non_null(strstr(out, "renderer headless, 4 frames drawn"));
	assert_non_null(strstr(out, " 0 validation messages"));
	FILE *f = fopen(png, "rb");
	assert_non_null(f);
	unsigned char sig[8] = { 0 };
	assert_int_equal(fread(sig, 1, sizeof sig, f), sizeof sig);
	fclose(f);
	assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", sizeof sig);
}

/* A screenshot path that can never be written (no such folder, a folder
 * itself) is a usage error said before the run, not a line after it and
 * a status of 0. */
static void test_unwritable_screenshot_exits_2(void **state)
{
	char png[PATH_MAX + 32];
	snprintf(png, sizeof png, "%s/no-such-dir/shot.png", dir);
	const char *a[] = { "--headless", "--frames", "2", "--no-pacing", "--size", "32x32", "--screenshot", png, NULL };
	assert_int_equal(client(a), 2);
	assert_non_null(strstr(err, "--screenshot"));
	assert_non_null(strstr(err, "cannot be written: No such file or directory"));
	const char *b[] = { "--headless", "--frames", "2", "--no-pacing", "--size", "32x32", "--screenshot", dir, NULL };
	assert_int_equal(client(b), 2);
	assert_non_null(strstr(err, "it is a directory"));
}

static void test_renderer_usage_errors_exit_2(void **state)
{
	static const struct {
		const char *args[5];
		const char *said; /* NULL: only the status */
	} bad[] = {
		{ { "--renderer", "vulkan" }, "--renderer wants auto, xr, window, headless or null" },
		{ { "--renderer", "null", "--screenshot", "x.png" }, "--screenshot needs the headless or window renderer" },
		{ { "--size", "8x8" }, NULL },
		{ { "--camera", "1,2,3:1,2,3" }, NULL },
		{ { "--camera", "1,2:0,0,0" }, NULL },
		{ { "--shot-frame", "0" }, NULL },
		{ { "--ipd", "0.5" }, NULL },
		{ { "--shading", "phong" }, NULL },
		{ { "--renderer", "window", "--stereo" }, "--stereo is for the headless renderer" },
		{ { "--renderer", "null", "--shot-frame", "3" }, "--shot-frame is for the headless renderer" },
		{ { "--headless", "--shot-frame", "3" }, "give --screenshot" },
		{ { "--headless", "--ipd", "0.06" }, "give --stereo" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(client(bad[i].args), 2);
		if (bad[i].said && !strstr(err, bad[i].said))
			fail_msg("%s %s: stderr lacks \"%s\": %s", bad[i].args[0], bad[i].args[1], bad[i].said, err);
	}
}

static void test_headless_frames_run_and_summarise(void **state)
{
	const char *a[] = { "--headless", "--renderer", "null", "--frames", "30", "--no-pacing", NULL };
	assert_int_equal(client(a), 0);
	assert_non_null(strstr(out, "30 frames"));
	assert_non_null(strstr(out, "p99"));
}

static void test_script_drives_the_client(void **state)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/ok.script", dir);
	FILE *f = fopen(path, "w");
	fputs("theta-script 1\n0s head pose 0 1.6 0 0 0 0 1\n100ms right trigger 0.8\n", f);
	fclose(f);
	const char *a[] = { "--headless", "--renderer", "null", "--script", path, "--frames", "20", "--no-pacing", NULL };
	assert_int_equal(client(a), 0);
	assert_non_null(strstr(out, "20 frames"));
}

static void test_bad_script_names_file_line_and_column(void **state)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/bad.script", dir);
	FILE *f = fopen(path, "w");
	fputs("theta-script 1\n0s head pose 0 1.6 0 0 0 0 1\n100ms right trigger lots\n", f);
	fclose(f);
	const char *a[] = { "--headless", "--renderer", "null", "--script", path, "--frames", "5", "--no-pacing", NULL };
	assert_int_equal(client(a), 1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 3, column 21"));
}

static void test_missing_script_is_an_error(void **state)
{
	const char *a[] = { "--headless", "--renderer", "null", "--script", "/nonexistent/x.script", "--frames", "5", NULL };
	assert_int_equal(client(a), 1);
	assert_non_null(strstr(err, "/nonexistent/x.script"));
}

static void test_usage_errors_exit_2(void **state)
{
	const char *a[] = { "--frames", "zero", NULL };
	assert_int_equal(client(a), 2);
	assert_non_null(strstr(err, "--frames"));
	const char *b[] = { "--bogus", NULL };
	assert_int_equal(client(b), 2);
	const char *c[] = { "--rate", "100000", NULL };
	assert_int_equal(client(c), 2);
	const char *d[] = { "stray", NULL };
	assert_int_equal(client(d), 2);
}

static void test_help_and_version(void **state)
{
	const char *a[] = { "--help", NULL };
	assert_int_equal(client(a), 0);
	assert_non_null(strstr(out, "--headless"));
	assert_non_null(strstr(out, "--no-pacing"));
	assert_non_null(strstr(out, "--history"));
	assert_non_null(strstr(out, "--renderer"));
	assert_non_null(strstr(out, "--screenshot"));
	const char *b[] = { "--version", NULL };
	assert_int_equal(client(b), 0);
	assert_non_null(strstr(out, THETA_VERSION));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headless_frames_run_and_summarise),
		cmocka_unit_test(test_script_drives_the_client),
		cmocka_unit_test(test_bad_script_names_file_line_and_column),
		cmocka_unit_test(test_missing_script_is_an_error),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_renderer_usage_errors_exit_2),
		cmocka_unit_test(test_nothing_to_show_on_is_said),
		cmocka_unit_test(test_headless_writes_a_screenshot),
		cmocka_unit_test(test_unwritable_screenshot_exits_2),
	};
	return cmocka_run_group_tests_name("theta-client command line", tests, setup, teardown);
}
