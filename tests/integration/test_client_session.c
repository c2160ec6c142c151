/* theta-client --session S, with a real thetad and theta-client: the
 * client's edits land in S while the daemon's current session is another,
 * it prints "editing NAME (ID8…)", `thetactl clients` shows each client's
 * session (pinned ones with "+") and a pinned client stays in its session
 * when `session use` changes the current one; a session that is not there
 * or was ended is refused with a sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include "net_fixture.h"

#define WAIT_NS ((uint64_t)NF_WAIT_MS * TH_NS_PER_MS)

static char cout[65536], cerr[65536];

/* theta-client --edits 3 [--session S] against d: its exit code. */
static int client_edits(struct nf_daemon *d, const char *session)
{
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->p.runtime_dir, "--headless", "--renderer", "null",
			       "--edits", "3", session ? "--session" : NULL, session, NULL };
	return th_run(argv, NULL, -1, cout, sizeof cout, cerr, sizeof cerr, NF_WAIT_MS);
}

/* The `clients --json` row of the client with pid ("session" etc.), once it
 * has drawn a frame; the caller puts it. */
static struct json_object *client_row(struct nf_daemon *d, pid_t pid)
{
	uint64_t end = th_now_ns() + WAIT_NS;
	for (;;) {
		struct json_object *r = nf_ctl_json(d, (const char *const[]){ "clients", "--json", NULL }), *arr, *v;
		if (r && json_object_object_get_ex(r, "clients", &arr))
			for (size_t k = 0; k < json_object_array_length(arr); k++) {
				struct json_object *c = json_object_array_get_idx(arr, k);
				if (json_object_object_get_ex(c, "pid", &v) && json_object_get_int(v) == (int)pid &&
				    json_object_object_get_ex(c, "frames", &v) && json_object_get_int64(v) > 0) {
					json_object_get(c);
					json_object_put(r);
					return c;
				}
			}
		json_object_put(r);
		assert_true(th_now_ns() < end);
		th_sleep_ns(50 * TH_NS_PER_MS);
	}
}

static const char *jget(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "";
}

static void a_client_edits_the_session_it_names(void **state)
{
	struct nf_daemon a;
	char studio[33], studio2[33], want[128];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", studio);
	nf_host(&a, "studio2", studio2); /* the current one now */
	uint64_t s0 = nf_entries(&a, studio), t0 = nf_entries(&a, studio2);

	int rc = client_edits(&a, "studio");
	if (rc)
		fprintf(stderr, "theta-client: %s%s\n", cout, cerr);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof want, "editing studio (%.8s\u2026)", studio);
	assert_true(strstr(cout, want) || strstr(cerr, want));
	assert_int_equal(nf_entries(&a, studio), s0 + 3);
	assert_int_equal(nf_entries(&a, studio2), t0);

	/* Without --session: the current session, and it says which. */
	assert_int_equal(client_edits(&a, NULL), 0);
	snprintf(want, sizeof want, "editing studio2 (%.8s\u2026)", studio2);
	assert_true(strstr(cout, want) || strstr(cerr, want));
	assert_int_equal(nf_entries(&a, studio2), t0 + 3);
	assert_int_equal(nf_entries(&a, studio), s0 + 3);

	/* By id too. */
	assert_int_equal(client_edits(&a, studio2), 0);
	assert_int_equal(nf_entries(&a, studio2), t0 + 6);

	/* Not there, or ended: one sentence, exit 1, nothing written. */
	assert_int_equal(client_edits(&a, "nosuch"), 1);
	assert_true(strstr(cerr, "no session 'nosuch'") != NULL);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "leave", "studio", NULL }), 0);
	assert_int_equal(client_edits(&a, "studio"), 1);
	assert_true(strstr(cerr, "was ended") != NULL);
	assert_int_equal(nf_entries(&a, studio), s0 + 3);
	nf_cleanup(&a);
}

static void clients_shows_each_clients_session_and_a_pinned_one_stays(void **state)
{
	struct nf_daemon a;
	char studio[33], studio2[33], op[PATH_MAX + 32], ep[PATH_MAX + 32];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", studio);
	nf_host(&a, "studio2", studio2);
	snprintf(op, sizeof op, "%s/pinned.out", a.p.dir);
	snprintf(ep, sizeof ep, "%s/pinned.err", a.p.dir);
	const char *pinned[] = { th_bin("theta-client"), "--runtime-dir", a.p.runtime_dir, "--headless", "--renderer", "null",
				 "--frames", "2700", "--session", "studio", NULL };
	pid_t p1 = th_spawn(pinned, NULL, op, ep);
	snprintf(op, sizeof op, "%s/follow.out", a.p.dir);
	snprintf(ep, sizeof ep, "%s/follow.err", a.p.dir);
	const char *follows[] = { th_bin("theta-client"), "--runtime-dir", a.p.runtime_dir, "--headless", "--renderer", "null",
				  "--frames", "2700", NULL };
	pid_t p2 = th_spawn(follows, NULL, op, ep);
	assert_true(p1 > 0 && p2 > 0);

	struct json_object *c1 = client_row(&a, p1), *c2 = client_row(&a, p2);
	assert_string_equal(jget(c1, "session"), studio);
	assert_string_equal(jget(c1, "session_name"), "studio");
	assert_string_equal(jget(c1, "session_pinned"), "true");
	assert_string_equal(jget(c2, "session"), studio2);
	assert_string_equal(jget(c2, "session_pinned"), "false");
	json_object_put(c1);
	json_object_put(c2);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "clients", NULL }), 0);
	assert_non_null(strstr(nf_out, "SESSION"));
	assert_non_null(strstr(nf_out, " studio+ "));
	assert_non_null(strstr(nf_out, " studio2 "));

	/* The current session changes: the follower moves, the pinned one stays. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "use", "local", NULL }), 0);
	uint64_t end = th_now_ns() + WAIT_NS;
	for (;;) {
		c2 = client_row(&a, p2);
		bool moved = !strcmp(jget(c2, "session_name"), "local");
		json_object_put(c2);
		if (moved)
			break;
		assert_true(th_now_ns() < end);
		th_sleep_ns(50 * TH_NS_PER_MS);
	}
	c1 = client_row(&a, p1);
	assert_string_equal(jget(c1, "session"), studio);
	json_object_put(c1);
	/* A session a client works in cannot be forgotten. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "leave", "studio", NULL }), 0);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "session", "forget", "studio", NULL }), 1);
	assert_non_null(strstr(nf_err, "1 client still works in session studio"));

	int st;
	kill(p1, SIGTERM);
	kill(p2, SIGTERM);
	waitpid(p1, &st, 0);
	waitpid(p2, &st, 0);
	nf_cleanup(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_client_edits_the_session_it_names, nf_teardown),
		cmocka_unit_test_teardown(clients_shows_each_clients_session_and_a_pinned_one_stays, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
