/* A member daemon stopped cleanly (SIGTERM, as `systemctl stop thetad`)
 * logs that it is leaving its host because it stops — not that it lost
 * the host and is reconnecting — and exits 0; the host hears it leave (a
 * goodbye, not a lost peer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "net_fixture.h"

static void a_stopping_member_says_so(void **state)
{
	(void)state;
	struct nf_daemon a, b;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "stopping", id);
	nf_invite_join(&a, &b, id, "editor");
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	while (nf_active_peers(&a) != 1 && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_int_equal(nf_active_peers(&a), 1);
	int status;
	assert_int_equal(th_daemon_stop(&b.p, SIGTERM, 10000, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	const char *log = th_daemon_log(&b.p);
	if (!strstr(log, "this daemon is stopping") || strstr(log, "lost the host"))
		fprintf(stderr, "member log:\n%s\n", log);
	char want[128];
	snprintf(want, sizeof want, "session %s: leaving the host", id);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "this daemon is stopping"));
	assert_null(strstr(log, "lost the host"));
	assert_null(strstr(log, "reconnecting"));
	/* The host heard the goodbye: the member left, it was not lost to a timeout. */
	end = th_now_ns() + 20 * TH_NS_PER_S;
	while (nf_active_peers(&a) != 0 && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_int_equal(nf_active_peers(&a), 0);
	const char *hlog = th_daemon_log(&a.p);
	snprintf(want, sizeof want, "session %s: peer ", id);
	assert_non_null(strstr(hlog, want));
	if (!strstr(hlog, "daemon stopping"))
		fprintf(stderr, "host log:\n%s\n", hlog);
	assert_non_null(strstr(hlog, "disconnected: closed by peer"));
	assert_non_null(strstr(hlog, "daemon stopping"));
	assert_null(strstr(hlog, ") lost: "));
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_stopping_member_says_so, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
