/* Edits end to end: theta-client --edits -> ring -> thetad signs, appends
 * durably, acks -> thetactl log / log verify. */
#include <json-c/json.h>
#include <signal.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "th_harness.h"
#include "th_time.h"

static char out[1 << 20], err[65536];

static int client(struct th_daemon_proc *d, const char *edits, bool pacing)
{
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--edits", edits,
			       pacing ? NULL : "--no-pacing", NULL };
	return th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 60000);
}

static const char *session_log_dir(struct th_daemon_proc *d, char *buf, size_t len)
{
	const char *a[] = { "sessions", "--json", NULL };
	assert_int_equal(th_ctl(d, a, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *arr;
	assert_true(json_object_object_get_ex(o, "sessions", &arr));
	const char *id = json_object_get_string(json_object_object_get(json_object_array_get_idx(arr, 0), "id"));
	snprintf(buf, len, "%s/sessions/%s/log", d->state_dir, id);
	json_object_put(o);
	return buf;
}

static void edits_are_signed_by_the_user_logged_and_verifiable(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	assert_int_equal(client(&d, "50", true), 0);
	assert_non_null(strstr(out, "edits 50, answered 50, rejected 0"));

	const char *wa[] = { "whoami", "--json", NULL };
	assert_int_equal(th_ctl(&d, wa, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *me = json_tokener_parse(out), *v;
	assert_true(json_object_object_get_ex(me, "key", &v));
	char key[128];
	snprintf(key, sizeof(key), "%s", json_object_get_string(v));
	json_object_put(me);

	const char *la[] = { "log", "--json", NULL };
	assert_int_equal(th_ctl(&d, la, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *entries;
	assert_true(json_object_object_get_ex(o, "entries", &entries));
	assert_int_equal(json_object_array_length(entries), 50);
	uint64_t last = 0;
	for (size_t i = 0; i < 50; i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		assert_string_equal(json_object_get_string(json_object_object_get(e, "author")), key);
		assert_string_equal(json_object_get_string(json_object_object_get(e, "type")), "component.write");
		assert_string_equal(json_object_get_string(json_object_object_get(e, "scope")), "entity");
		uint64_t l = (uint64_t)json_object_get_int64(json_object_object_get(e, "lamport"));
		assert_true(l > last); /* total order */
		last = l;
		assert_int_equal(json_object_get_int64(json_object_object_get(e, "seq")), (int64_t)i + 1);
	}
	json_object_put(o);

	/* --since lists only what came after. */
	const char *ls[] = { "log", "--json", "--since", "40", NULL };
	assert_int_equal(th_ctl(&d, ls, out, sizeof(out), err, sizeof(err)), 0);
	o = json_tokener_parse(out);
	assert_int_equal(json_object_array_length(json_object_object_get(o, "entries")), 10);
	json_object_put(o);

	/* The human table names the type and the author. */
	const char *lt[] = { "log", NULL };
	assert_int_equal(th_ctl(&d, lt, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "component.write"));
	assert_non_null(strstr(out, key));

	char dir[PATH_MAX + 128];
	session_log_dir(&d, dir, sizeof(dir));
	const char *va[] = { th_bin("thetactl"), "log", "verify", dir, NULL };
	assert_int_equal(th_run(va, NULL, -1, out, sizeof(out), err, sizeof(err), 30000), 0);
	assert_non_null(strstr(out, "50 records"));
	th_daemon_cleanup(&d);
}

static void a_flood_is_rate_limited_and_the_client_names_the_rejection(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	/* The default bucket holds 1000 edits and refills 200/s: 3000 back to back overflow it. */
	assert_int_equal(client(&d, "3000", false), 1);
	assert_non_null(strstr(err, "rejected: rate limited"));
	assert_non_null(strstr(out, "rejected "));
	const char *m[] = { "metrics", "--json", NULL };
	assert_int_equal(th_ctl(&d, m, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out);
	int64_t rej = json_object_get_int64(json_object_object_get(json_object_object_get(o, "clog_rejects"), "value"));
	int64_t acks = json_object_get_int64(json_object_object_get(json_object_object_get(o, "clog_acks"), "value"));
	assert_true(rej > 0);
	assert_true(acks >= 1000);
	assert_int_equal(rej + acks, 3000);
	json_object_put(o);
	assert_true(th_daemon_alive(&d));
	th_daemon_cleanup(&d);
}

static void log_follow_streams_new_entries(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/follow.out", d.dir);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", d.runtime_dir, "log", "--follow", "--json", NULL };
	pid_t f = th_spawn(argv, NULL, path, NULL);
	assert_true(f > 0);
	assert_int_equal(client(&d, "15", false), 0);
	int lines = 0;
	for (int i = 0; i < 500 && lines < 15; i++) {
		th_sleep_ns(20 * TH_NS_PER_MS);
		char *text = th_slurp(path);
		lines = 0;
		for (char *p = text; p && (p = strchr(p, '\n')); p++)
			lines++;
		free(text);
	}
	assert_int_equal(lines, 15); /* one JSON line per entry, none twice */
	kill(f, SIGINT);
	int st;
	assert_int_equal(th_wait_pid(f, 5000, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char *text = th_slurp(path);
	struct json_object *first = json_tokener_parse(text);
	assert_non_null(first);
	assert_int_equal(json_object_get_int64(json_object_object_get(first, "lamport")), 1);
	json_object_put(first);
	free(text);
	th_daemon_cleanup(&d);
}

static void edits_need_a_daemon(void **state)
{
	/* No --runtime-dir, no $THETA_RUNTIME_DIR: /run/thetad, as for thetactl
	 * (tests/theta-client/test_cli_daemon.c checks that default). */
	const char *argv2[] = { th_bin("theta-client"), "--headless", "--renderer", "null", "--runtime-dir", "/nonexistent/theta", "--edits",
				"3", NULL };
	assert_int_equal(th_run(argv2, NULL, -1, out, sizeof(out), err, sizeof(err), 10000), 1);
	assert_non_null(strstr(err, "no daemon at /nonexistent/theta/client.sock"));
	assert_non_null(strstr(err, "systemctl start thetad"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edits_are_signed_by_the_user_logged_and_verifiable),
		cmocka_unit_test(a_flood_is_rate_limited_and_the_client_names_the_rejection),
		cmocka_unit_test(log_follow_streams_new_entries),
		cmocka_unit_test(edits_need_a_daemon),
	};
	return cmocka_run_group_tests_name("edits end to end", tests, NULL, NULL);
}
