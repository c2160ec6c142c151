/* What a person and a script get back from thetactl: exit 2 for every usage
 * error (thetactl's own and the daemon's EINVAL), one line that points at
 * `thetactl help CMD`, a missing option value said in that line; with
 * --json every error as one JSON object on stderr; integers above 2^53 as
 * strings and durations rounded in JSON output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <stdint.h>

#include "ctl.h"
#include "th_harness.h"

static char out[1 << 17], err[1 << 16];

static int teardown(void **state)
{
	th_daemon_slot_release();
	return 0;
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* exit 2 and one line naming the command's help */
static void usage(struct th_daemon_proc *d, const char *const *args, const char *says, const char *help)
{
	int rc = th_ctl(d, args, out, sizeof out, err, sizeof err);
	if (rc != 2 || !strstr(err, says) || !strstr(err, help) || lines(err) != 1)
		fail_msg("thetactl %s ...: exit %d, stderr:\n%s(wanted exit 2, one line with '%s' and '%s')", args[0], rc,
			 err, says, help);
	assert_string_equal(out, "");
}

static void usage_errors_exit_2_in_one_line(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, NULL), 0);
	/* The issue's: values the daemon cannot read. */
	usage(d, (const char *[]){ "log-level", "verbose", NULL }, "'verbose' is not a log level",
	      "(see 'thetactl help log-level')");
	usage(d, (const char *[]){ "impair", "garbage", NULL }, "'garbage' is not an impairment spec",
	      "(see 'thetactl help impair')");
	usage(d, (const char *[]){ "asset", "get", "abc", "out", NULL }, "hash", "(see 'thetactl help asset')");
	/* A missing value, an unknown option, a flag given a value, a stray
	 * operand: one line each, never the whole help. */
	usage(d, (const char *[]){ "peers", "--session", NULL }, "option '--session' needs a value",
	      "thetactl help peers");
	usage(d, (const char *[]){ "log", "--max", NULL }, "option '--max' needs a value", "thetactl help log");
	usage(d, (const char *[]){ "session", "join", "theta://h:1/x", "--timeout", NULL },
	      "option '--timeout' needs a value", "thetactl help session");
	usage(d, (const char *[]){ "impair", "--partition", NULL }, "option '--partition' needs a value",
	      "thetactl help impair");
	usage(d, (const char *[]){ "kick", "--bogus", NULL }, "unknown option '--bogus'", "thetactl help kick");
	usage(d, (const char *[]){ "role", "--force", "1", "admin", NULL }, "unknown option '--force'",
	      "thetactl help role");
	usage(d, (const char *[]){ "session", "leave", "--all", NULL }, "unknown option '--all'", "thetactl help session");
	usage(d, (const char *[]){ "status", "--json=yes", NULL }, "", "thetactl help status");
	usage(d, (const char *[]){ "version", "extra", NULL }, "takes no arguments", "thetactl help version");
	usage(d, (const char *[]){ "log", "--max", "0", NULL }, "--max needs a count", "thetactl help log");
	usage(d, (const char *[]){ "role", "1", "boss", NULL }, "ROLE is viewer, editor or admin", "thetactl help role");
	/* The global options: a missing value, an unknown one. */
	const char *g[] = { th_bin("thetactl"), "--runtime-dir", NULL };
	assert_int_equal(th_run(g, NULL, -1, out, sizeof out, err, sizeof err, 10000), 2);
	assert_non_null(strstr(err, "option '--runtime-dir' needs a value"));
	assert_int_equal(lines(err), 1);
	/* A refusal for the state of things stays exit 1: the log level of a
	 * caller who may not change it is EPERM, a missing session ENOENT. */
	assert_int_equal(th_ctl(d, (const char *[]){ "scene", "--session", "nowhere", NULL }, out, sizeof out, err,
				sizeof err),
			 1);
	assert_non_null(strstr(err, "nowhere"));
}

static struct json_object *json_err(void)
{
	struct json_object *o = json_tokener_parse(err);
	if (!o || !json_object_is_type(o, json_type_object))
		fail_msg("stderr is not one JSON object:\n%s", err);
	assert_int_equal(lines(err), 1);
	return o;
}

static void json_errors_are_objects_on_stderr(void **state)
{
	/* No daemon: exit 1, code ENOENT. --json after the command works too. */
	const char *nod[] = { th_bin("thetactl"), "--runtime-dir", "/nonexistent/theta", "status", "--json", NULL };
	assert_int_equal(th_run(nod, NULL, -1, out, sizeof out, err, sizeof err, 10000), 1);
	assert_string_equal(out, "");
	struct json_object *o = json_err();
	assert_non_null(strstr(th_json_path(o, "error"), "thetad is not running"));
	assert_string_equal(th_json_path(o, "code"), "ENOENT");
	assert_string_equal(th_json_path(o, "exit"), "1");
	json_object_put(o);

	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, NULL), 0);
	/* The daemon's EINVAL: exit 2, its code kept. */
	assert_int_equal(th_ctl(d, (const char *[]){ "--json", "log-level", "verbose", NULL }, out, sizeof out, err,
				sizeof err),
			 2);
	o = json_err();
	assert_non_null(strstr(th_json_path(o, "error"), "'verbose' is not a log level"));
	assert_string_equal(th_json_path(o, "code"), "EINVAL");
	assert_string_equal(th_json_path(o, "help"), "thetactl help log-level");
	json_object_put(o);
	/* thetactl's own usage error, on a command that prints no JSON of its
	 * own (kick), with --json last. */
	assert_int_equal(th_ctl(d, (const char *[]){ "kick", "--bogus", "--json", NULL }, out, sizeof out, err, sizeof err),
			 2);
	o = json_err();
	assert_string_equal(th_json_path(o, "code"), "EUSAGE");
	assert_string_equal(th_json_path(o, "command"), "kick");
	assert_non_null(strstr(th_json_path(o, "error"), "unknown option '--bogus'"));
	json_object_put(o);
	/* A daemon's refusal of another kind, and a command's own error line. */
	assert_int_equal(th_ctl(d, (const char *[]){ "--json", "kick", "77", NULL }, out, sizeof out, err, sizeof err), 1);
	o = json_err();
	assert_true(strlen(th_json_path(o, "error")) > 5);
	json_object_put(o);
	assert_int_equal(th_ctl(d, (const char *[]){ "--json", "scene", "diff", "1", "2", "/nonexistent/log", NULL }, out,
				sizeof out, err, sizeof err),
			 1);
	o = json_err();
	assert_non_null(strstr(th_json_path(o, "error"), "/nonexistent/log"));
	json_object_put(o);
	/* help and version speak JSON too. */
	assert_int_equal(th_ctl(d, (const char *[]){ "--json", "help", "kick", NULL }, out, sizeof out, err, sizeof err), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	assert_string_equal(th_json_path(o, "name"), "kick");
	json_object_put(o);
}

static void json_numbers_scripts_can_trust(void **state)
{
	/* The helper on a tree like the daemon's replies. */
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(o, "small", json_object_new_uint64(CTL_JSON_SAFE_INT));
	json_object_object_add(o, "big", json_object_new_uint64(CTL_JSON_SAFE_INT + 1));
	json_object_object_add(o, "huge", json_object_new_uint64(UINT64_MAX));
	json_object_object_add(o, "neg", json_object_new_int64(INT64_MIN));
	json_object_array_add(a, json_object_new_uint64(10850095123629200713ull));
	json_object_array_add(a, json_object_new_int(7));
	json_object_object_add(o, "list", a);
	json_object_object_add(o, "uptime_s", json_object_new_double(2.0391234567));
	json_object_object_add(o, "rtt_ms", json_object_new_double(0.1234567));
	json_object_object_add(o, "frame_us", json_object_new_double(16666.6666));
	json_object_object_add(o, "loss", json_object_new_double(0.123456));
	ctl_json_safe(o);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(s, "\"small\":9007199254740992"));
	assert_non_null(strstr(s, "\"big\":\"9007199254740993\""));
	assert_non_null(strstr(s, "\"huge\":\"18446744073709551615\""));
	assert_non_null(strstr(s, "\"neg\":\"-9223372036854775808\""));
	assert_non_null(strstr(s, "\"list\":[\"10850095123629200713\",7]"));
	assert_non_null(strstr(s, "\"uptime_s\":2.039"));
	assert_non_null(strstr(s, "\"rtt_ms\":0.123"));
	assert_non_null(strstr(s, "\"frame_us\":16666.7"));
	assert_non_null(strstr(s, "\"loss\":0.123456")); /* not a duration: as it was */
	assert_int_equal(ctl_ju64(o, "big"), CTL_JSON_SAFE_INT + 1);
	assert_int_equal(ctl_ju64(o, "small"), CTL_JSON_SAFE_INT);
	json_object_put(o);

	/* Through the real thing: a log entry's req (a 64-bit request id) and
	 * time_ns are strings in `thetactl log --json`, exact. */
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, NULL), 0);
	const char *argv[] = { th_bin("theta-client"), "--renderer", "null", "--runtime-dir", d->runtime_dir, "--edits", "2",
			       NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 60000), 0);
	assert_int_equal(th_ctl(d, (const char *[]){ "log", "--json", NULL }, out, sizeof out, err, sizeof err), 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	struct json_object *e = json_object_array_get_idx(json_object_object_get(o, "entries"), 0);
	assert_non_null(e);
	struct json_object *t = json_object_object_get(e, "time_ns");
	assert_true(json_object_is_type(t, json_type_string)); /* ~1.8e18 ns since 1970 */
	assert_true(ctl_ju64(e, "time_ns") > CTL_JSON_SAFE_INT);
	assert_true(json_object_is_type(json_object_object_get(e, "lamport"), json_type_int));
	json_object_put(o);
	assert_int_equal(th_ctl(d, (const char *[]){ "status", "--json", NULL }, out, sizeof out, err, sizeof err), 0);
	o = json_tokener_parse(out);
	const char *up = strstr(out, "\"uptime_s\": ");
	assert_non_null(up);
	const char *dot = strchr(up, '.');
	assert_non_null(dot);
	assert_true(strspn(dot + 1, "0123456789") <= 3); /* a millisecond */
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(usage_errors_exit_2_in_one_line, teardown),
		cmocka_unit_test_teardown(json_errors_are_objects_on_stderr, teardown),
		cmocka_unit_test_teardown(json_numbers_scripts_can_trust, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
