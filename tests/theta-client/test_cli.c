/* theta-client's command line as a person or a script meets it. */
#include <setjmp.h>
#include <stdarg.h>
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

static int client(const char *const *args)
{
	const char *argv[32];
	int n = 0;
	argv[n++] = th_bin("theta-client");
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	const char *env[] = { "THETA_RUNTIME_DIR=", NULL };
	return th_run(argv, env, -1, out, sizeof(out), err, sizeof(err), 30000);
}

static void test_headless_frames_run_and_summarise(void **state)
{
	const char *a[] = { "--headless", "--frames", "30", "--no-pacing", NULL };
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
	const char *a[] = { "--headless", "--script", path, "--frames", "20", "--no-pacing", NULL };
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
	const char *a[] = { "--headless", "--script", path, "--frames", "5", "--no-pacing", NULL };
	assert_int_equal(client(a), 1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 3, column 21"));
}

static void test_missing_script_is_an_error(void **state)
{
	const char *a[] = { "--headless", "--script", "/nonexistent/x.script", "--frames", "5", NULL };
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
	};
	return cmocka_run_group_tests_name("theta-client command line", tests, setup, teardown);
}
