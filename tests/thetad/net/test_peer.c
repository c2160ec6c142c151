/* thetad/net/net_peer: heartbeats (RTT, jitter, loss, lost detection) and
 * reconnect backoff, in simulated time; and which refusals stop retries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/net_peer.h"
#include "session.h"

#define MS (1000ull * 1000)
#define T0 (5000 * MS)

static void pings_keep_their_cadence_and_pongs_give_rtt_and_jitter(void **state)
{
	struct net_hb h;
	uint64_t seq, now = T0;
	net_hb_init(&h, 100 * MS, 1000 * MS, now);
	assert_false(net_hb_ping_due(&h, now, &seq)); /* first one after an interval */
	int sent = 0;
	for (int i = 0; i < 40; i++) {
		now += 100 * MS;
		assert_true(net_hb_ping_due(&h, now, &seq));
		assert_false(net_hb_ping_due(&h, now, &seq));
		sent++;
		/* RTT alternates 10 ms and 14 ms: jitter tends to 4 ms. */
		uint64_t rtt = (i & 1) ? 14 * MS : 10 * MS;
		assert_true(net_hb_on_pong(&h, seq, now, now + rtt));
		assert_false(net_hb_on_pong(&h, seq, now, now + rtt)); /* duplicate */
	}
	assert_int_equal(h.pings, sent);
	assert_int_equal(h.pongs, sent);
	assert_true(h.srtt_ns > 10 * MS && h.srtt_ns < 14 * MS);
	assert_int_equal(h.min_rtt_ns, 10 * MS);
	assert_true(h.jitter_ns > 2 * MS && h.jitter_ns <= 4 * MS);
	assert_true(net_hb_loss(&h, now + 1000 * MS) == 0.0);
}

static void a_pong_must_echo_what_was_sent(void **state)
{
	struct net_hb h;
	uint64_t seq, now = T0;
	net_hb_init(&h, 100 * MS, 1000 * MS, now);
	now += 100 * MS;
	assert_true(net_hb_ping_due(&h, now, &seq));
	assert_false(net_hb_on_pong(&h, seq, now + 1, now + 5 * MS)); /* wrong echo */
	assert_false(net_hb_on_pong(&h, seq + 1, now, now + 5 * MS)); /* never sent */
	assert_false(net_hb_on_pong(&h, 0, now, now + 5 * MS));
	assert_int_equal(h.samples, 0);
	assert_true(net_hb_on_pong(&h, seq, now, now + 5 * MS));
	assert_int_equal(h.srtt_ns, 5 * MS);
}

static void unanswered_pings_count_as_loss_after_their_grace(void **state)
{
	struct net_hb h;
	uint64_t seq, now = T0;
	net_hb_init(&h, 100 * MS, 10000 * MS, now);
	for (int i = 0; i < 20; i++) {
		now += 100 * MS;
		assert_true(net_hb_ping_due(&h, now, &seq));
		if (i % 4 != 3) /* every fourth is lost, the last one too */
			net_hb_on_pong(&h, seq, now, now + 2 * MS);
	}
	/* The last ping was lost but is still within its grace. */
	double early = net_hb_loss(&h, now + 10 * MS);
	double late = net_hb_loss(&h, now + 1000 * MS);
	assert_true(early > 0.2 && early < 0.25);
	assert_true(late == 0.25);
}

static void silence_past_the_timeout_declares_the_peer_lost(void **state)
{
	struct net_hb h;
	uint64_t now = T0;
	net_hb_init(&h, 250 * MS, 3000 * MS, now);
	assert_false(net_hb_lost(&h, now + 2999 * MS));
	assert_true(net_hb_lost(&h, now + 3000 * MS));
	net_hb_on_rx(&h, now + 2000 * MS);
	assert_false(net_hb_lost(&h, now + 4999 * MS));
	assert_true(net_hb_lost(&h, now + 5000 * MS));
	/* The next deadline is the earlier of the next ping and the loss. */
	assert_int_equal(net_hb_next(&h), now + 250 * MS);
	/* Defaults. */
	net_hb_init(&h, 0, 0, now);
	assert_int_equal(h.lost_after_ns, NET_HB_LOST_DEFAULT_NS);
	assert_int_equal(h.interval_ns, NET_HB_INTERVAL_DEFAULT_NS);
}

static void backoff_doubles_with_jitter_up_to_the_cap_and_resets(void **state)
{
	struct net_backoff b;
	uint64_t now = T0;
	net_backoff_init(&b, 100 * MS, 1000 * MS, now);
	assert_int_equal(b.next_ns, now);
	uint64_t d[6];
	for (int i = 0; i < 6; i++) {
		uint64_t at = net_backoff_fail(&b, now, UINT32_MAX); /* the top of each range */
		d[i] = at - now;
	}
	assert_true(d[0] <= 100 * MS && d[0] >= 99 * MS);
	assert_true(d[1] <= 200 * MS && d[1] >= 199 * MS);
	assert_true(d[2] <= 400 * MS && d[2] >= 399 * MS);
	assert_true(d[3] <= 800 * MS);
	assert_true(d[4] <= 1000 * MS && d[4] >= 999 * MS);
	assert_true(d[5] <= 1000 * MS);
	/* The bottom of the range is half. */
	uint64_t lo = net_backoff_fail(&b, now, 0) - now;
	assert_int_equal(lo, 500 * MS);
	assert_int_equal(b.failures, 7);
	net_backoff_reset(&b);
	assert_int_equal(net_backoff_fail(&b, now, 0) - now, 50 * MS);
}

static void only_refusals_retrying_cannot_fix_stop_the_joiner(void **state)
{
	assert_true(net_peer_end_permanent(PROTO_SESS_ERR_BAD_TOKEN));
	assert_true(net_peer_end_permanent(PROTO_SESS_ERR_TOKEN_EXPIRED));
	assert_true(net_peer_end_permanent(PROTO_SESS_ERR_TOKEN_REUSED));
	assert_true(net_peer_end_permanent(PROTO_SESS_ERR_KICKED));
	assert_true(net_peer_end_permanent(PROTO_SESS_ERR_WRONG_FINGERPRINT));
	assert_true(net_peer_end_permanent(PROTO_SESS_ERR_VERSION));
	assert_false(net_peer_end_permanent(PROTO_SESS_ERR_FULL));
	assert_false(net_peer_end_permanent(PROTO_SESS_ERR_PROTOCOL));
	assert_false(net_peer_end_permanent(PROTO_SESS_ERR_LEFT));
	assert_false(net_peer_end_permanent(PROTO_SESS_ERR_HANDSHAKE_TIMEOUT));
	assert_false(net_peer_end_permanent(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pings_keep_their_cadence_and_pongs_give_rtt_and_jitter),
		cmocka_unit_test(a_pong_must_echo_what_was_sent),
		cmocka_unit_test(unanswered_pings_count_as_loss_after_their_grace),
		cmocka_unit_test(silence_past_the_timeout_declares_the_peer_lost),
		cmocka_unit_test(backoff_doubles_with_jitter_up_to_the_cap_and_resets),
		cmocka_unit_test(only_refusals_retrying_cannot_fix_stop_the_joiner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
