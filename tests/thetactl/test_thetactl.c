/* thetactl as a person and a script meet it: exit codes, messages, help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "th_harness.h"

static char out[65536], err[65536];

static void test_no_daemon_says_where_it_looked_and_how_to_start(void **state)
{
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", dir, "status", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 1);
	assert_non_null(strstr(err, "thetad is not running"));
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "systemctl start thetad"));
	assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err)); /* one line */
	assert_string_equal(out, "");
	th_rm_rf(dir);
}

static void test_runtime_dir_from_environment(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	char env[PATH_MAX + 32];
	snprintf(env, sizeof(env), "THETA_RUNTIME_DIR=%s", d.runtime_dir);
	const char *e[] = { env, NULL };
	const char *argv[] = { th_bin("thetactl"), "status", NULL };
	assert_int_equal(th_run(argv, e, -1, out, sizeof(out), err, sizeof(err), 5000), 0);
	assert_non_null(strstr(out, d.runtime_dir));
	/* The flag wins over the environment. */
	const char *argv2[] = { th_bin("thetactl"), "--runtime-dir", "/nonexistent/theta", "status", NULL };
	assert_int_equal(th_run(argv2, e, -1, out, sizeof(out), err, sizeof(err), 5000), 1);
	assert_non_null(strstr(err, "/nonexistent/theta"));
	th_daemon_cleanup(&d);
}

static void test_usage_errors_exit_2(void **state)
{
	const char *none[] = { th_bin("thetactl"), NULL };
	assert_int_equal(th_run(none, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "Usage:"));
	const char *unk[] = { th_bin("thetactl"), "frobnicate", NULL };
	assert_int_equal(th_run(unk, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
	const char *opt[] = { th_bin("thetactl"), "--bogus", "status", NULL };
	assert_int_equal(th_run(opt, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	const char *subopt[] = { th_bin("thetactl"), "status", "--bogus", NULL };
	assert_int_equal(th_run(subopt, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	const char *extra[] = { th_bin("thetactl"), "status", "extra", NULL };
	assert_int_equal(th_run(extra, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
}

static void test_help_lists_every_command(void **state)
{
	const char *argv[] = { th_bin("thetactl"), "help", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 0);
	const char *want[] = { "status", "metrics", "log-level", "reload", "help" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(strstr(out, want[i]));
}

static void test_bad_log_level_is_refused_by_the_daemon(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	const char *a[] = { "log-level", "loud", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "'loud' is not a log level"));
	const char *b[] = { "log-level", "debug", NULL };
	assert_int_equal(th_ctl(&d, b, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "debug"));
	th_daemon_cleanup(&d);
}

static void changes_print_json_when_asked(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	const char *a[] = { "--json", "log-level", "debug", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "level", &v));
	assert_string_equal(json_object_get_string(v), "debug");
	json_object_put(o);
	const char *b[] = { "--json", "impair", "off", NULL };
	assert_int_equal(th_ctl(&d, b, out, sizeof(out), err, sizeof(err)), 0);
	o = json_tokener_parse(out);
	assert_non_null(o); /* JSON, not the "impairment: off" sentence */
	json_object_put(o);
	th_daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_daemon_says_where_it_looked_and_how_to_start),
		cmocka_unit_test(test_runtime_dir_from_environment),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_help_lists_every_command),
		cmocka_unit_test(test_bad_log_level_is_refused_by_the_daemon),
		cmocka_unit_test(changes_print_json_when_asked),
	};
	return cmocka_run_group_tests_name("thetactl", tests, NULL, NULL);
}
