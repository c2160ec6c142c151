/* thetactl's side of choosing sessions and invites, against a stand-in
 * control.sock with canned replies: the CURRENT column of `sessions` (and
 * "-" from a daemon that does not say), the line under every invite link
 * (role, expiry in UTC, reuse, invite id; "never expires"), the `invite
 * list` table, `clients`' SESSION column ("+" for a client that chose its
 * session), what each command asks the daemon, and usage errors (exit 2).
 * The daemon's side is tests/integration/test_sessions_choose.c,
 * test_invites.c and test_client_session.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_ctlfake.h"
#include "th_harness.h"

static char out[65536], err[8192];

/* The canned reply (ud), and the last request's JSON kept for the test. */
static char last_req[4096];
static int canned(void *ud, const char *req, char *body, size_t cap)
{
	snprintf(last_req, sizeof last_req, "%s", req);
	return snprintf(body, cap, "%s", (const char *)ud);
}

static int ctl(struct th_ctlfake *c, const char *const *args)
{
	const char *argv[16] = { th_bin("thetactl"), "--runtime-dir", c->dir };
	int n = 3;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000);
}

/* The line of out that contains key ("" if none). */
static const char *line_with(const char *key)
{
	static char line[1024];
	const char *p = strstr(out, key);
	line[0] = 0;
	if (!p)
		return line;
	while (p > out && p[-1] != '\n')
		p--;
	snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
	return line;
}

static void sessions_marks_the_current_one(void **state)
{
	(void)state;
	static const char reply[] =
		"{\"ok\": true, \"result\": {\"sessions\": ["
		"{\"id\": \"aaaa0000aaaa0000aaaa0000aaaa0000\", \"name\": \"local\", \"role\": \"host\", \"state\": \"open\", \"current\": false},"
		"{\"id\": \"bbbb0000bbbb0000bbbb0000bbbb0000\", \"name\": \"studio\", \"role\": \"host\", \"state\": \"open\", \"current\": true},"
		"{\"id\": \"cccc0000cccc0000cccc0000cccc0000\", \"name\": \"old\", \"role\": \"host\", \"state\": \"ended\"}]}}";
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	assert_int_equal(ctl(&c, (const char *const[]){ "sessions", NULL }), 0);
	assert_non_null(strstr(out, "CURRENT"));
	assert_non_null(strstr(line_with("studio"), " * "));
	assert_null(strstr(line_with("local"), " * "));
	assert_null(strstr(line_with("old"), " * ")); /* not said: not current */
	assert_non_null(strstr(line_with("old"), "ended"));
	th_ctlfake_stop(&c);
}

static void every_invite_link_is_followed_by_its_terms(void **state)
{
	(void)state;
	/* 1798761600 = 2027-01-01 00:00 UTC */
	static const char reply[] =
		"{\"ok\": true, \"result\": {\"link\": \"theta://127.0.0.1:7450/x?fp=a&token=b\", "
		"\"web_link\": \"http://127.0.0.1:8080/#s=x&fp=a&token=b\", \"role\": \"viewer\", "
		"\"expiry_unix\": 1798761600, \"single_use\": true, \"invite_id\": \"0123456789abcdef0123456789abcdef\"}}";
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "studio", "--role", "viewer", "--single-use", NULL }), 0);
	char lines[4][256] = { "" };
	const char *p = out;
	for (int i = 0; i < 4 && *p; i++) {
		snprintf(lines[i], sizeof lines[i], "%.*s", (int)strcspn(p, "\n"), p);
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	assert_true(!strncmp(lines[0], "theta://", 8));
	assert_true(!strncmp(lines[2], "http://", 7));
	for (int i = 1; i <= 3; i += 2) {
		assert_non_null(strstr(lines[i], "role viewer"));
		assert_non_null(strstr(lines[i], "expires 2027-01-01 00:00 UTC"));
		assert_non_null(strstr(lines[i], "single-use"));
		assert_non_null(strstr(lines[i], "invite 0123456789ab"));
		assert_null(strstr(lines[i], "0123456789abc")); /* 12 digits shown */
	}
	/* Without --expires thetactl leaves the expiry to the daemon (24 h). */
	assert_null(strstr(last_req, "expires_s"));
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "studio", "--expires", "never", NULL }), 0);
	assert_non_null(strstr(last_req, "\"expires_s\": 0") ? last_req : strstr(last_req, "\"expires_s\":0"));
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "studio", "--expires", "12h", NULL }), 0);
	assert_non_null(strstr(last_req, "43200"));
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "studio", "--expires", "soon", NULL }), 2);
	assert_non_null(strstr(err, "never"));
	/* Not finite, or past any sensible bound: a usage error, not an overflowing cast. */
	static const char *const huge[] = { "inf", "nan", "1e300d", "-5h" };
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++)
		assert_int_equal(ctl(&c, (const char *const[]){ "invite", "studio", "--expires", huge[i], NULL }), 2);
	th_ctlfake_stop(&c);

	static const char never[] = "{\"ok\": true, \"result\": {\"link\": \"theta://h:1/x?fp=a&token=b\", \"role\": \"editor\", "
				    "\"expiry_unix\": 0, \"single_use\": false, \"invite_id\": \"ffffffffffffffffffffffffffffffff\"}}";
	th_ctlfake_start(&c, canned, (void *)never);
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", NULL }), 0);
	assert_non_null(strstr(line_with("role editor"), "never expires"));
	assert_non_null(strstr(line_with("role editor"), "reusable"));
	th_ctlfake_stop(&c);
}

static void invite_list_and_revoke(void **state)
{
	(void)state;
	static const char reply[] =
		"{\"ok\": true, \"result\": {\"invites\": ["
		"{\"id\": \"0123456789abcdef0123456789abcdef\", \"session\": \"bb\", \"session_name\": \"studio\", \"role\": \"editor\", "
		"\"expiry_unix\": 1798761600, \"single_use\": false, \"uses\": 2, \"state\": \"active\"},"
		"{\"id\": \"fedcba9876543210fedcba9876543210\", \"session\": \"bb\", \"session_name\": \"studio\", \"role\": \"viewer\", "
		"\"expiry_unix\": 0, \"single_use\": true, \"uses\": 1, \"state\": \"used\"}]}}";
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "list", NULL }), 0);
	assert_non_null(strstr(out, "ID"));
	assert_non_null(strstr(out, "EXPIRES"));
	assert_non_null(strstr(out, "USES"));
	assert_non_null(strstr(out, "STATE"));
	const char *l = line_with("0123456789ab");
	assert_non_null(strstr(l, "2027-01-01 00:00 UTC"));
	assert_non_null(strstr(l, "reusable"));
	assert_non_null(strstr(l, "active"));
	assert_null(strstr(l, "0123456789abc"));
	l = line_with("fedcba987654");
	assert_non_null(strstr(l, "never"));
	assert_non_null(strstr(l, "single-use"));
	assert_non_null(strstr(l, "used"));
	assert_non_null(strstr(last_req, "invite_list"));
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "list", "studio", NULL }), 0);
	assert_non_null(strstr(last_req, "studio"));
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "list", "a", "b", NULL }), 2);
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "revoke", NULL }), 2);
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "revoke", "a", "b", NULL }), 2);
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "revoke", "0123", NULL }), 2); /* too short */
	assert_non_null(strstr(err, "is not an invite id"));
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "revoke", "0123456789ABCDEF", NULL }), 2);
	th_ctlfake_stop(&c);

	static const char revoked[] = "{\"ok\": true, \"result\": {\"session\": \"bb\", \"id\": "
				      "\"0123456789abcdef0123456789abcdef\", \"uses\": 2, \"already\": false}}";
	th_ctlfake_start(&c, canned, (void *)revoked);
	assert_int_equal(ctl(&c, (const char *const[]){ "invite", "revoke", "01234567", NULL }), 0);
	assert_non_null(strstr(out, "invite 0123456789ab of session bb revoked"));
	assert_non_null(strstr(last_req, "invite_revoke"));
	assert_non_null(strstr(last_req, "01234567"));
	th_ctlfake_stop(&c);
}

static void session_use_and_forget_ask_the_daemon(void **state)
{
	(void)state;
	static const char used[] =
		"{\"ok\": true, \"result\": {\"session\": \"bbbb0000bbbb0000bbbb0000bbbb0000\", \"name\": \"studio\", \"changed\": true}}";
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)used);
	assert_int_equal(ctl(&c, (const char *const[]){ "session", "use", "studio", NULL }), 0);
	assert_non_null(strstr(out, "local clients now edit session studio (bbbb0000bbbb0000bbbb0000bbbb0000)"));
	assert_non_null(strstr(last_req, "session_use"));
	assert_int_equal(ctl(&c, (const char *const[]){ "session", "use", NULL }), 2);
	assert_int_equal(ctl(&c, (const char *const[]){ "session", "use", "a", "b", NULL }), 2);
	th_ctlfake_stop(&c);

	static const char forgot[] = "{\"ok\": true, \"result\": {\"session\": \"cc\", \"name\": \"old\", \"deleted\": false, "
				     "\"kept_in\": \"/var/lib/thetad/sessions/forgotten/cc\"}}";
	th_ctlfake_start(&c, canned, (void *)forgot);
	assert_int_equal(ctl(&c, (const char *const[]){ "session", "forget", "old", NULL }), 0);
	assert_non_null(strstr(out, "its log stays in /var/lib/thetad/sessions/forgotten/cc"));
	assert_null(strstr(last_req, "delete"));
	assert_int_equal(ctl(&c, (const char *const[]){ "session", "forget", "old", "--delete", NULL }), 0);
	assert_non_null(strstr(last_req, "delete"));
	assert_int_equal(ctl(&c, (const char *const[]){ "session", "forget", NULL }), 2);
	assert_int_equal(ctl(&c, (const char *const[]){ "session", "forget", "old", "--purge", NULL }), 2);
	th_ctlfake_stop(&c);
}

static void clients_shows_each_clients_session(void **state)
{
	(void)state;
	static const char reply[] =
		"{\"ok\": true, \"result\": {\"clients\": ["
		"{\"id\": 1, \"pid\": 101, \"user\": \"me\", \"name\": \"pinned\", \"connected_s\": 1, \"frames\": 3, "
		"\"session\": \"bb\", \"session_name\": \"studio\", \"session_pinned\": true},"
		"{\"id\": 2, \"pid\": 102, \"user\": \"me\", \"name\": \"follower\", \"connected_s\": 1, \"frames\": 3, "
		"\"session\": \"aa\", \"session_name\": \"local\", \"session_pinned\": false},"
		"{\"id\": 3, \"pid\": 103, \"user\": \"me\", \"name\": \"olddaemon\", \"connected_s\": 1, \"frames\": 3}]}}";
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	assert_int_equal(ctl(&c, (const char *const[]){ "clients", NULL }), 0);
	assert_non_null(strstr(out, "SESSION"));
	assert_non_null(strstr(line_with("pinned"), " studio+ "));
	assert_non_null(strstr(line_with("follower"), " local "));
	assert_null(strstr(line_with("follower"), "local+"));
	assert_non_null(strstr(line_with("olddaemon"), " - "));
	assert_non_null(strstr(out, "SESSION: "));
	th_ctlfake_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sessions_marks_the_current_one),
		cmocka_unit_test(every_invite_link_is_followed_by_its_terms),
		cmocka_unit_test(invite_list_and_revoke),
		cmocka_unit_test(session_use_and_forget_ask_the_daemon),
		cmocka_unit_test(clients_shows_each_clients_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
