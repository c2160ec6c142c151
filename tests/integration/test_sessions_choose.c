/* Sessions a person can see and choose, with real daemons on loopback:
 * `session use` picks the current session (CURRENT in `sessions`, kept
 * across a restart); a duplicate name is refused at host and join, and a
 * name two sessions share (from an older daemon) is refused naming both
 * ids; `session leave` on the host ends the session for good (members
 * told, joins and its invites refused, also after a restart) and `session
 * forget` takes it off the list (log kept, or removed with --delete). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "net_fixture.h"
#include "session.h"
#include "th_file.h"

#define WAIT_NS ((uint64_t)NF_WAIT_MS * TH_NS_PER_MS)

/* The id of the session `sessions --json` marks current ("" if none), and
 * how many it marks. */
static int current_of(struct nf_daemon *d, char id[33])
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "sessions", "--json", NULL }), *arr, *v;
	int n = 0;
	id[0] = 0;
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "sessions", &arr));
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *s = json_object_array_get_idx(arr, k);
		assert_true(json_object_object_get_ex(s, "current", &v));
		if (json_object_get_boolean(v)) {
			n++;
			json_object_object_get_ex(s, "id", &v);
			snprintf(id, 33, "%s", json_object_get_string(v));
		}
	}
	json_object_put(r);
	return n;
}

/* Whether `sessions` (the table) has a row for id with "*" in CURRENT. */
static bool table_marks(struct nf_daemon *d, const char *id)
{
	assert_int_equal(nf_ctl(d, (const char *const[]){ "sessions", NULL }), 0);
	assert_non_null(strstr(nf_out, "CURRENT"));
	const char *row = strstr(nf_out, id);
	assert_non_null(row);
	char line[512];
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(row, "\n"), row);
	return strstr(line, " * ") != NULL;
}

static void wait_field(struct nf_daemon *d, const char *id, const char *field, const char *want)
{
	uint64_t end = th_now_ns() + WAIT_NS;
	while (strcmp(nf_session_field(d, id, field), want) && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_string_equal(nf_session_field(d, id, field), want);
}

static void session_use_picks_the_current_session_and_a_restart_keeps_it(void **state)
{
	struct nf_daemon a;
	char studio[33], studio2[33], cur[33];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", studio);
	nf_host(&a, "studio2", studio2);
	assert_int_equal(current_of(&a, cur), 1);
	assert_string_equal(cur, studio2); /* the last hosted */
	assert_true(table_marks(&a, studio2));
	assert_false(table_marks(&a, studio));

	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", "studio", NULL }), 0);
	assert_non_null(strstr(nf_out, "now edit session studio"));
	assert_int_equal(current_of(&a, cur), 1);
	assert_string_equal(cur, studio);
	assert_true(table_marks(&a, studio));
	/* by an id prefix, and again (nothing changes) */
	char prefix[9];
	snprintf(prefix, sizeof(prefix), "%.8s", studio2);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", prefix, NULL }), 0);
	assert_int_equal(current_of(&a, cur), 1);
	assert_string_equal(cur, studio2);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", studio2, NULL }), 0);
	assert_non_null(strstr(nf_out, "already edit"));

	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", "nosuch", NULL }), 1);
	assert_non_null(strstr(nf_err, "no session 'nosuch'"));
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", NULL }), 2);

	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", "studio", NULL }), 0);
	nf_kill(&a, SIGTERM);
	assert_int_equal(nf_spawn(&a), 0);
	assert_int_equal(current_of(&a, cur), 1);
	assert_string_equal(cur, studio);
	nf_cleanup(&a);
}

/* Rewrites the name in session id's session.conf (as an older daemon that
 * took duplicate names left it); the daemon is stopped. */
static void rename_on_disk(struct nf_daemon *d, const char *id, const char *name)
{
	char path[PATH_MAX + 64], *text = NULL, out[2048];
	size_t len;
	snprintf(path, sizeof(path), "%s/sessions/%s/session.conf", d->p.state_dir, id);
	assert_int_equal(th_file_read(path, 65536, &text, &len), 0);
	char *line = strstr(text, "name = ");
	assert_non_null(line);
	char *eol = strchr(line, '\n');
	int n = snprintf(out, sizeof(out), "%.*sname = %s%s", (int)(line - text), text, name, eol);
	free(text);
	assert_int_equal(th_file_replace(path, out, (size_t)n, 0600), 0);
}

static void a_duplicate_name_is_refused_and_an_ambiguous_one_names_both_ids(void **state)
{
	struct nf_daemon a, b;
	char studio[33], other[33], bs[33], link[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", studio);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "host", "--name", "studio", NULL }), 1);
	assert_non_null(strstr(nf_err, "a session named 'studio' exists already"));
	assert_non_null(strstr(nf_err, studio));

	/* A joiner with a session of that name: --name may not take it, and
	 * the replica keeps its own name when the host says "studio". */
	nf_host(&b, "studio", bs);
	nf_invite(&a, "studio", "editor", NULL, link);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "session", "join", link, "--name", "studio", NULL }), 1);
	assert_non_null(strstr(nf_err, "a session named 'studio' exists already"));
	assert_non_null(strstr(nf_err, bs));
	nf_join_ok(&a, &b, link);
	assert_true(strncmp(nf_session_field(&b, studio, "name"), "joined-", 7) == 0);
	assert_string_equal(nf_session_field(&b, bs, "name"), "studio");
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "invite", "studio", "--host", "127.0.0.1", NULL }), 0);

	/* Two sessions called studio (written by an older daemon). */
	nf_host(&a, "other", other);
	nf_kill(&a, SIGTERM);
	rename_on_disk(&a, other, "studio");
	assert_int_equal(nf_spawn(&a), 0);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", "studio", NULL }), 1);
	assert_non_null(strstr(nf_err, "'studio' names 2 sessions"));
	assert_non_null(strstr(nf_err, studio));
	assert_non_null(strstr(nf_err, other));
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", "studio", NULL }), 1);
	assert_non_null(strstr(nf_err, other));
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", other, "--host", "127.0.0.1", NULL }), 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* link with its port replaced by port (the host restarted on another). */
static void relink(char link[600], uint16_t port)
{
	char *colon = strchr(link + strlen("theta://"), ':'), *slash = colon ? strchr(colon, '/') : NULL, out[600];
	assert_non_null(slash);
	snprintf(out, sizeof(out), "%.*s:%u%s", (int)(colon - link), link, (unsigned)port, slash);
	snprintf(link, 600, "%s", out);
}

static void leaving_a_hosted_session_ends_it_and_forget_takes_it_off_the_list(void **state)
{
	struct nf_daemon a, b, c;
	char id[33], keep[33], link[600], path[PATH_MAX + 128];
	struct stat st;
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_start(&c, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", NULL, link); /* reusable */
	nf_join_ok(&a, &b, link);

	/* Still hosted: forget is refused. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "forget", "studio", NULL }), 1);
	assert_non_null(strstr(nf_err, "still hosts session studio"));

	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "leave", "studio", NULL }), 0);
	assert_non_null(strstr(nf_out, "ended"));
	assert_string_equal(nf_session_field(&a, id, "state"), "ended");
	/* The member is told, and stays off. */
	wait_field(&b, id, "link_state", "failed");
	assert_string_equal(nf_session_field(&b, id, "error"), proto_sess_err_text(PROTO_SESS_ERR_HOST_ENDED));
	/* A fresh daemon with the same invite is refused; no new invites. */
	assert_int_equal(nf_join(&c, link), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_HOST_ENDED)));
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", id, NULL }), 1);
	assert_non_null(strstr(nf_err, "was ended"));
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", id, NULL }), 1);
	/* Durable: after a restart the member reconnecting is refused too. */
	nf_kill(&a, SIGTERM);
	assert_int_equal(nf_spawn(&a), 0);
	nf_read_status(&a);
	assert_string_equal(nf_session_field(&a, id, "state"), "ended");
	relink(link, a.port);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "session", "leave", id, NULL }), 0);
	assert_int_equal(nf_join(&b, link), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_HOST_ENDED)));

	/* forget on the host: off the list, the log kept under forgotten/. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "forget", id, NULL }), 0);
	assert_non_null(strstr(nf_out, "its log stays in"));
	assert_string_equal(nf_session_field(&a, id, "name"), "");
	snprintf(path, sizeof(path), "%s/sessions/forgotten/%s/log", a.p.state_dir, id);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/sessions/%s", a.p.state_dir, id);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "forget", id, NULL }), 1);
	assert_non_null(strstr(nf_err, "no session"));
	/* ... and after a restart it is still not listed */
	nf_kill(&a, SIGTERM);
	assert_int_equal(nf_spawn(&a), 0);
	assert_string_equal(nf_session_field(&a, id, "name"), "");

	/* forget --delete on the member (refused for good, then left): the files go. */
	assert_string_equal(nf_session_field(&b, id, "link_state"), "failed");
	int frc = nf_ctl(&b, (const char *const[]){ "session", "forget", id, "--delete", NULL });
	if (frc) fprintf(stderr, "forget: %s\n", nf_err);
	assert_int_equal(frc, 0);
	assert_non_null(strstr(nf_out, "removed its files"));
	snprintf(path, sizeof(path), "%s/sessions/%s", b.p.state_dir, id);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/sessions/forgotten/%s", b.p.state_dir, id);
	assert_int_equal(stat(path, &st), -1);

	/* An ended session cannot be chosen; the current one cannot be forgotten. */
	nf_host(&a, "keep", keep);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "leave", "keep", NULL }), 0);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", "keep", NULL }), 1);
	assert_non_null(strstr(nf_err, "was ended"));
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "leave", "local", NULL }), 0);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "forget", "local", NULL }), 1);
	assert_non_null(strstr(nf_err, "is the one local clients work in"));
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(session_use_picks_the_current_session_and_a_restart_keeps_it, nf_teardown),
		cmocka_unit_test_teardown(a_duplicate_name_is_refused_and_an_ambiguous_one_names_both_ids, nf_teardown),
		cmocka_unit_test_teardown(leaving_a_hosted_session_ends_it_and_forget_takes_it_off_the_list, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
