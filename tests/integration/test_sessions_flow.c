/* Flow between daemons, as real processes on loopback.
 *
 * Backpressure: a member whose log takes fewer remote entries than the
 * host sends (THETAD_TEST_REMOTE_QUEUE lowers the queue a remote group may
 * join while a batch is written) catches up a long log without the loop
 * waiting for the disk: groups wait, the commands stream pauses, the QUIC
 * window holds the host back. Every entry arrives, none is refused, and
 * the host sends each exactly once (nothing dropped and asked for again).
 *
 * Departures: a member lost by silence is announced to the others once
 * (MEMBER_LEAVE counted on a third daemon). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net_fixture.h"
#include "th_logfill.h"

#define ENTRIES 30000u

static uint64_t entries_of(struct nf_daemon *d, const char *id)
{
	return strtoull(nf_session_field(d, id, "entries"), NULL, 10);
}

static void a_member_whose_log_is_slower_than_the_host_is_held_back_and_gets_everything_once(void **state)
{
	struct nf_daemon a, b;
	char id[33], dir[PATH_MAX + 64];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "long", id);
	nf_kill(&a, SIGTERM);
	snprintf(dir, sizeof(dir), "%s/sessions/%s/log", a.p.state_dir, id);
	struct lf_config lc = { .authors = 4, .entries = ENTRIES, .payload_len = 64, .seed = 0x51 };
	assert_int_equal(lf_fill(dir, &lc, NULL), 0);
	assert_int_equal(nf_spawn(&a), 0);
	nf_read_status(&a);

	nf_start(&b, NULL, (const char *const[]){ "THETAD_TEST_REMOTE_QUEUE=256", NULL });
	nf_invite_join(&a, &b, "long", "editor");
	uint64_t end = th_now_ns() + 120 * TH_NS_PER_S, have = 0;
	while ((have = entries_of(&b, id)) < ENTRIES && th_now_ns() < end)
		th_sleep_ns(100 * TH_NS_PER_MS);
	if (have != ENTRIES)
		fprintf(stderr, "member has %" PRIu64 " entries; its log:\n%s\n", have, th_daemon_log(&b.p));
	assert_int_equal(have, ENTRIES);
	/* The backpressure engaged: groups waited for the member's log. */
	uint64_t waits = nf_metric(&b, "clog_remote_waits"), engaged = nf_metric(&b, "net_backpressure");
	printf("{\"name\": \"flow.backpressure_engaged\", \"value\": %" PRIu64 ", \"unit\": \"times\"}\n", engaged);
	printf("{\"name\": \"flow.remote_waits\", \"value\": %" PRIu64 ", \"unit\": \"answers\"}\n", waits);
	assert_true(engaged > 0);
	assert_true(waits >= engaged);
	/* ... and nothing was lost to it: no group refused or dropped, each
	 * entry sent once by one catch-up, one connection all along. */
	assert_int_equal(nf_metric(&b, "clog_remote_rejects"), 0);
	assert_null(strstr(th_daemon_log(&b.p), "not taken"));
	assert_int_equal(nf_metric(&a, "net_catchup_entries"), ENTRIES);
	assert_int_equal(nf_metric(&b, "net_rejoin_attempts"), 0);
	assert_null(strstr(th_daemon_log(&a.p), "does not read"));
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_lost_member_is_announced_once_to_the_others(void **state)
{
	struct nf_daemon a, b, c;
	char id[33];
	nf_start(&a, (const char *const[]){ "--peer-timeout", "1500ms", NULL }, NULL);
	nf_start(&b, NULL, NULL);
	nf_start(&c, NULL, NULL);
	nf_host(&a, "trio", id);
	nf_invite_join(&a, &b, "trio", "editor");
	nf_invite_join(&a, &c, "trio", "editor");
	uint64_t end = th_now_ns() + 10 * TH_NS_PER_S;
	while (nf_active_peers(&a) != 2 && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_int_equal(nf_active_peers(&a), 2);
	assert_int_equal(nf_metric(&b, "net_member_leaves"), 0);

	nf_kill(&c, SIGKILL); /* no goodbye: the host notices the silence */
	end = th_now_ns() + 10 * TH_NS_PER_S;
	while ((nf_metric(&a, "net_peers_lost") < 1 || nf_metric(&b, "net_member_leaves") < 1) && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	if (nf_metric(&a, "net_peers_lost") != 1)
		fprintf(stderr, "host log:\n%s\nB's log:\n%s\n", th_daemon_log(&a.p), th_daemon_log(&b.p));
	assert_int_equal(nf_metric(&a, "net_peers_lost"), 1);
	/* A marker behind the announcement on the same control stream: once B
	 * has its new role, a second MEMBER_LEAVE sent with the first would be
	 * there too. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "role", "1", "viewer", NULL }), 0);
	end = th_now_ns() + 10 * TH_NS_PER_S;
	while (strcmp(nf_session_field(&b, id, "granted_role"), "viewer") && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_string_equal(nf_session_field(&b, id, "granted_role"), "viewer");
	assert_int_equal(nf_metric(&b, "net_member_leaves"), 1);
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_member_whose_log_is_slower_than_the_host_is_held_back_and_gets_everything_once,
					  nf_teardown),
		cmocka_unit_test_teardown(a_lost_member_is_announced_once_to_the_others, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
