/* Joining a host by name (thetad/net/net_resolve.c, module.c
 * net_join_address): "localhost" resolves off the event loop and the join
 * works; a name that does not resolve says so in one sentence in `thetactl
 * sessions` and `thetactl peers` and the join retries with backoff; and the
 * daemon answers thetactl while a lookup is outstanding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>

#include "net_fixture.h"

#define WAIT_NS ((uint64_t)NF_WAIT_MS * TH_NS_PER_MS)

/* An invite whose link names the host as `host`. */
static void invite_as(struct nf_daemon *d, const char *session, const char *host, char link[600])
{
	assert_int_equal(nf_ctl(d, (const char *const[]){ "invite", session, "--role", "editor", "--host", host, NULL }), 0);
	nf_out[strcspn(nf_out, "\n")] = 0;
	snprintf(link, 600, "%s", nf_out);
	char want[128];
	snprintf(want, sizeof(want), "theta://%s:", host);
	assert_true(!strncmp(link, want, strlen(want)));
}

/* Waits until the session's link_state on d is `state`; 0 or -ETIMEDOUT. */
static int wait_link(struct nf_daemon *d, const char *id, const char *state)
{
	uint64_t end = th_now_ns() + WAIT_NS;
	while (strcmp(nf_session_field(d, id, "link_state"), state))
		if (th_now_ns() > end)
			return -ETIMEDOUT;
		else
			th_sleep_ns(10 * TH_NS_PER_MS);
	return 0;
}

static void joining_localhost_by_name_works(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	invite_as(&a, "studio", "localhost", link);
	nf_join_ok(&a, &b, link);
	assert_string_equal(nf_session_field(&b, id, "link_state"), "active");
	assert_int_equal(nf_active_peers(&a), 1);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_name_that_does_not_resolve_is_said_and_retried(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	invite_as(&a, "studio", "nosuch.invalid", link);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "session", "join", link, "--no-wait", NULL }), 0);
	/* The sentence, in sessions (JSON and the table's error line) ... */
	uint64_t end = th_now_ns() + WAIT_NS;
	while (!strstr(nf_session_field(&b, id, "error"), "cannot resolve the host name 'nosuch.invalid'")) {
		assert_true(th_now_ns() < end);
		th_sleep_ns(10 * TH_NS_PER_MS);
	}
	assert_non_null(strstr(nf_session_field(&b, id, "error"), "retrying"));
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "sessions", NULL }), 0);
	assert_non_null(strstr(nf_err, "cannot resolve the host name 'nosuch.invalid'"));
	/* ... and in peers, one line naming the session and the host. */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "peers", NULL }), 0);
	char want[200];
	snprintf(want, sizeof(want), "session %s: no link to its host nosuch.invalid:%u", id, (unsigned)a.port);
	assert_non_null(strstr(nf_err, want));
	assert_non_null(strstr(nf_err, "cannot resolve the host name 'nosuch.invalid'"));
	/* Retried with backoff: attempts keep coming, the link never fails for good. */
	end = th_now_ns() + WAIT_NS;
	while (atoi(nf_session_field(&b, id, "link_attempts")) < 3) {
		assert_true(th_now_ns() < end);
		assert_string_not_equal(nf_session_field(&b, id, "link_state"), "failed");
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	assert_int_equal(nf_active_peers(&a), 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void the_daemon_answers_while_a_lookup_is_outstanding(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600], dir[PATH_MAX], release[PATH_MAX + 16], env[PATH_MAX + 64];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	snprintf(release, sizeof(release), "%s/release", dir);
	/* B's lookups wait until `release` exists: a DNS server that is slow
	 * to answer, for as long as the test likes. */
	snprintf(env, sizeof(env), "THETAD_TEST_RESOLVE_HOLD=%s", release);
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, (const char *const[]){ env, NULL });
	nf_host(&a, "studio", id);
	invite_as(&a, "studio", "localhost", link);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "session", "join", link, "--no-wait", NULL }), 0);
	/* Every one of these is an answer from B's loop while its lookup is held. */
	assert_int_equal(wait_link(&b, id, "resolving"), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(nf_ctl(&b, (const char *const[]){ "--timeout", "5", "status", NULL }), 0);
		assert_string_equal(nf_session_field(&b, id, "link_state"), "resolving");
	}
	int fd = open(release, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(wait_link(&b, id, "active"), 0);
	assert_int_equal(nf_active_peers(&a), 1);
	nf_cleanup(&a);
	nf_cleanup(&b);
	th_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(joining_localhost_by_name_works, nf_teardown),
		cmocka_unit_test_teardown(a_name_that_does_not_resolve_is_said_and_retried, nf_teardown),
		cmocka_unit_test_teardown(the_daemon_answers_while_a_lookup_is_outstanding, nf_teardown),
	};
	return cmocka_run_group_tests_name("join by name", tests, NULL, NULL);
}
