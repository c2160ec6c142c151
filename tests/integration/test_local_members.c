/* Local members of a session, with two real uids (root only): a client of
 * a user who is not a member is refused with one sentence and counted; an
 * admin's `thetactl session allow` admits the user with a role, under its
 * own key; `session deny` and a switch to a session the user is not a
 * member of close its running client; the list survives a restart; a
 * non-member cannot read the session's log through thetactl either.
 *
 * Users: UID_A (nobody) and UID_B (no passwd entry, shown as its number),
 * both in group nogroup, which the daemon's config makes its query group
 * (so both may run thetactl queries, and neither is an admin). Nothing
 * asserts a timing: every wait polls a condition with a generous deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <grp.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_harness.h"
#include "th_time.h"

#define WAIT_MS 30000
#define UID_A 65534 /* nobody */
#define UID_B 65533
#define SETPRIV "/usr/bin/setpriv"

static char out[65536], err[65536];
static pid_t bg_pid = -1;
static int nogroup = -1;
static char conf[PATH_MAX];

static int teardown(void **state)
{
	if (bg_pid > 0) {
		kill(bg_pid, SIGKILL);
		th_wait_pid(bg_pid, WAIT_MS, NULL);
		bg_pid = -1;
	}
	th_daemon_slot_release();
	return 0;
}

/* Root, setpriv and group nogroup, or the test says why it skips. */
static bool can_run(void)
{
	struct group *g = getgrnam("nogroup");
	if (!th_is_root() || access(SETPRIV, X_OK) < 0 || !g) {
		printf("SKIP: local members need root, %s and group nogroup to run clients as two uids\n", SETPRIV);
		return false;
	}
	nogroup = (int)g->gr_gid;
	return true;
}

static struct th_daemon_proc *start_daemon(void)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_prepare(d), 0);
	assert_int_equal(th_daemon_start_query_group(d, "nogroup", conf, sizeof(conf), WAIT_MS), 0);
	return d;
}

static void restart_daemon(struct th_daemon_proc *d)
{
	int st;
	assert_int_equal(th_daemon_stop(d, SIGTERM, WAIT_MS, &st), 0);
	const char *args[] = { "--port", "0", "--config", conf, NULL };
	assert_int_equal(th_daemon_respawn(d, args, NULL, WAIT_MS), 0);
}

/* argv as uid (group nogroup, no others) through setpriv; into out/err. */
static const char **as_user(int uid, const char *const *argv, const char **buf, size_t n)
{
	static char ru[32], rg[32];
	size_t k = 0;
	snprintf(ru, sizeof(ru), "--reuid=%d", uid);
	snprintf(rg, sizeof(rg), "--regid=%d", nogroup);
	buf[k++] = SETPRIV;
	buf[k++] = ru;
	buf[k++] = rg;
	buf[k++] = "--clear-groups";
	for (size_t i = 0; argv[i] && k + 1 < n; i++)
		buf[k++] = argv[i];
	buf[k] = NULL;
	return buf;
}

static int run_as(int uid, const char *const *argv)
{
	const char *buf[64];
	out[0] = err[0] = 0;
	int rc = th_run(as_user(uid, argv, buf, 64), NULL, -1, out, sizeof(out), err, sizeof(err), WAIT_MS);
	if (rc < 0)
		print_message("running %s as uid %d failed: %d\n", argv[0], uid, rc);
	return rc;
}

static int ctl_root(struct th_daemon_proc *d, const char *const *args)
{
	out[0] = err[0] = 0;
	return th_ctl(d, args, out, sizeof(out), err, sizeof(err));
}

/* theta-client --edits N as uid. */
static int edits_as(struct th_daemon_proc *d, int uid, const char *n)
{
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--no-pacing",
			       "--require-daemon", "--edits", n, NULL };
	return run_as(uid, argv);
}

/* The log's entries as uid sees them (rc of thetactl log --json). */
static int log_as(struct th_daemon_proc *d, int uid, struct json_object **entries)
{
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", d->runtime_dir, "log", "--json", NULL };
	int rc = run_as(uid, argv);
	*entries = NULL;
	if (rc == 0) {
		struct json_object *o = json_tokener_parse(out), *e;
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "entries", &e));
		*entries = json_object_get(e);
		json_object_put(o);
	}
	return rc;
}

static void key_of(struct th_daemon_proc *d, int uid, char *fpr, size_t len)
{
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", d->runtime_dir, "whoami", "--json", NULL };
	assert_int_equal(run_as(uid, argv), 0);
	struct json_object *o = json_tokener_parse(out), *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "key", &v));
	snprintf(fpr, len, "%s", json_object_get_string(v));
	json_object_put(o);
}

static unsigned authored_by(struct json_object *entries, const char *fpr)
{
	unsigned n = 0;
	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		struct json_object *v;
		if (json_object_object_get_ex(json_object_array_get_idx(entries, i), "author", &v) &&
		    !strcmp(json_object_get_string(v), fpr))
			n++;
	}
	return n;
}

static const char *const refused_b =
	"user 65533 is not a member of session local; ask an admin: thetactl session allow 65533 --role editor";

/* ---- tests --------------------------------------------------------------- */

static void a_user_works_in_a_session_only_once_an_admin_allows_it(void **state)
{
	if (!can_run())
		skip();
	struct th_daemon_proc *d = start_daemon();

	/* Not a member: refused at the hello with the sentence, counted. */
	assert_int_equal(edits_as(d, UID_B, "1"), 1);
	assert_non_null(strstr(err, refused_b));
	assert_int_equal(edits_as(d, UID_A, "1"), 1);
	assert_non_null(strstr(err, "user nobody is not a member of session local"));
	assert_int_equal(th_daemon_metric(d, "sess_not_member"), 2);
	/* Nor can it read the session's log. */
	struct json_object *entries;
	assert_true(log_as(d, UID_B, &entries) != 0);
	assert_non_null(strstr(err, "user 65533 is not a member of session local"));

	/* An admin allows A as editor: its edits go in under its own key. */
	const char *allow_a[] = { "session", "allow", "nobody", "--role", "editor", NULL };
	assert_int_equal(ctl_root(d, allow_a), 0);
	assert_non_null(strstr(out, "nobody (uid 65534) may work in it as editor"));
	assert_int_equal(edits_as(d, UID_A, "3"), 0);
	assert_non_null(strstr(out, "edits 3, answered 3, rejected 0"));
	char fa[128], froot[128];
	key_of(d, UID_A, fa, sizeof(fa));
	const char *who[] = { "whoami", "--json", NULL };
	assert_int_equal(ctl_root(d, who), 0);
	struct json_object *o = json_tokener_parse(out), *v;
	assert_true(json_object_object_get_ex(o, "key", &v));
	snprintf(froot, sizeof(froot), "%s", json_object_get_string(v));
	json_object_put(o);
	assert_string_not_equal(fa, froot);
	assert_int_equal(log_as(d, UID_A, &entries), 0);
	assert_int_equal(authored_by(entries, fa), 3);
	json_object_put(entries);

	/* B is still refused; as a viewer it connects but may not edit. */
	assert_int_equal(edits_as(d, UID_B, "1"), 1);
	assert_non_null(strstr(err, refused_b));
	const char *allow_b[] = { "session", "allow", "65533", "--role", "viewer", NULL };
	assert_int_equal(ctl_root(d, allow_b), 0);
	assert_int_equal(edits_as(d, UID_B, "1"), 1);
	assert_non_null(strstr(out, "answered 1, rejected 1"));
	assert_non_null(strstr(err, "not allowed for your role"));
	assert_int_equal(log_as(d, UID_B, &entries), 0);
	assert_int_equal(json_object_array_length(entries), 3);
	json_object_put(entries);

	/* Deny B again; the list (A as editor) survives a restart. */
	const char *deny_b[] = { "session", "deny", "65533", NULL };
	assert_int_equal(ctl_root(d, deny_b), 0);
	assert_non_null(strstr(out, "(uid 65533) is no longer a member; its clients were closed"));
	assert_int_equal(ctl_root(d, deny_b), 1);
	assert_non_null(strstr(err, "user 65533 is not a member of session local"));
	restart_daemon(d);
	const char *members[] = { "session", "members", "--json", NULL };
	assert_int_equal(ctl_root(d, members), 0);
	o = json_tokener_parse(out);
	struct json_object *arr;
	assert_true(json_object_object_get_ex(o, "members", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "uid", &v));
	assert_int_equal(json_object_get_int(v), UID_A);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "role", &v));
	assert_string_equal(json_object_get_string(v), "editor");
	json_object_put(o);
	assert_int_equal(edits_as(d, UID_A, "1"), 0);
	assert_int_equal(edits_as(d, UID_B, "1"), 1);
	assert_non_null(strstr(err, refused_b));
	assert_int_equal(th_daemon_metric(d, "sess_not_member"), 1);

	/* Root and the daemon's own user are members of every session. */
	const char *deny_root[] = { "session", "deny", "root", NULL };
	assert_int_equal(ctl_root(d, deny_root), 1);
	assert_non_null(strstr(err, "member of every session"));
	/* Only an admin changes the list. */
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", d->runtime_dir, "session", "allow", "65533", NULL };
	assert_true(run_as(UID_A, argv) != 0);
}

/* Starts a long-running client as uid; returns when the daemon lists it. */
static void spawn_client_as(struct th_daemon_proc *d, int uid, const char *err_path)
{
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--frames",
			       "1000000", NULL };
	const char *buf[64];
	bg_pid = th_spawn(as_user(uid, argv, buf, 64), NULL, NULL, err_path);
	assert_true(bg_pid > 0);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	char needle[32];
	snprintf(needle, sizeof(needle), "\"uid\":%d", uid);
	for (;;) {
		const char *args[] = { "clients", "--json", NULL };
		assert_int_equal(ctl_root(d, args), 0);
		struct json_object *o = json_tokener_parse(out);
		const char *plain = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		bool listed = strstr(plain, needle) && strstr(plain, "\"state\":\"active\"");
		json_object_put(o);
		if (listed)
			return;
		assert_true(th_now_ns() < end);
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
}

/* The background client exits on its own, with status 1 and sentence in
 * its stderr. */
static void client_exits_saying(const char *err_path, const char *sentence)
{
	int st = 0;
	assert_int_equal(th_wait_pid(bg_pid, WAIT_MS, &st), 0);
	bg_pid = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	char *text = th_slurp(err_path);
	assert_non_null(text);
	if (!strstr(text, sentence))
		print_message("client stderr: %s\n", text);
	assert_non_null(strstr(text, sentence));
	free(text);
}

static void a_running_client_is_closed_when_its_user_stops_being_a_member(void **state)
{
	if (!can_run())
		skip();
	struct th_daemon_proc *d = start_daemon();
	char ep[PATH_MAX + 32];
	snprintf(ep, sizeof(ep), "%s/client-a.err", d->dir);
	const char *allow_a[] = { "session", "allow", "nobody", NULL };
	assert_int_equal(ctl_root(d, allow_a), 0);
	assert_non_null(strstr(out, "as editor")); /* the default role */

	/* Denied while it runs: closed, and told why. */
	spawn_client_as(d, UID_A, ep);
	const char *deny_a[] = { "session", "deny", "nobody", NULL };
	assert_int_equal(ctl_root(d, deny_a), 0);
	client_exits_saying(ep, "user nobody is not a member of session local; ask an admin");

	/* The daemon switches to a session A is not a member of. */
	assert_int_equal(ctl_root(d, allow_a), 0);
	spawn_client_as(d, UID_A, ep);
	const char *host[] = { "session", "host", "--name", "studio", NULL };
	assert_int_equal(ctl_root(d, host), 0);
	client_exits_saying(ep, "user nobody is not a member of session studio; ask an admin: thetactl session allow "
				"nobody --role editor");
	assert_int_equal(th_daemon_metric(d, "sess_not_member") >= 2, 1);
	/* The creator (root here) is in it; A once allowed. */
	const char *allow_studio[] = { "session", "allow", "nobody", "--session", "studio", "--role", "admin", NULL };
	assert_int_equal(ctl_root(d, allow_studio), 0);
	assert_int_equal(edits_as(d, UID_A, "2"), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_user_works_in_a_session_only_once_an_admin_allows_it, teardown),
		cmocka_unit_test_teardown(a_running_client_is_closed_when_its_user_stops_being_a_member, teardown),
	};
	return cmocka_run_group_tests_name("local_members", tests, NULL, NULL);
}
