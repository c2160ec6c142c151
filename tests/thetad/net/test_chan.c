/* thetad/net/net_chan: the rate limit every channel uses, in simulated
 * time; the channel table (registration, lookup by stream id and datagram
 * kind); one channel's reassembly, limits, counters and send queue. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/net_chan.h"
#include "th_buf.h"

#define MS (1000ull * 1000)
#define T0 (7000 * MS)

static void a_burst_passes_then_the_rate_holds(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 100, 10); /* 100/s, 10 at once */
	uint64_t now = T0;
	int passed = 0;
	for (int i = 0; i < 50; i++)
		passed += net_rate_take(&r, now);
	assert_int_equal(passed, 10);
	/* One more every 10 ms. */
	now += 10 * MS;
	assert_true(net_rate_take(&r, now));
	assert_false(net_rate_take(&r, now));
	/* Over one simulated second of a flood, about 100 pass. */
	passed = 0;
	for (int ms = 1; ms <= 1000; ms++)
		for (int k = 0; k < 5; k++)
			passed += net_rate_take(&r, now + (uint64_t)ms * MS);
	assert_in_range(passed, 99, 101);
}

static void refused_events_do_not_use_up_the_future(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 10, 1);
	uint64_t now = T0;
	assert_true(net_rate_take(&r, now));
	for (int i = 0; i < 10000; i++)
		assert_false(net_rate_take(&r, now + 1));
	/* The flood changed nothing: the next slot is 100 ms on. */
	assert_false(net_rate_take(&r, now + 99 * MS));
	assert_true(net_rate_take(&r, now + 100 * MS));
}

static void an_idle_bucket_refills_only_to_its_burst(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 1000, 5);
	uint64_t now = T0;
	assert_true(net_rate_take(&r, now));
	now += 60000 * MS; /* a minute of silence */
	int passed = 0;
	for (int i = 0; i < 100; i++)
		passed += net_rate_take(&r, now);
	assert_int_equal(passed, 5);
}

static void zero_rate_means_unlimited(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 0, 0);
	for (int i = 0; i < 100000; i++)
		assert_true(net_rate_take(&r, T0));
}

/* ---- the table ------------------------------------------------------------ */

struct got {
	unsigned n;
	size_t bytes;
	uint8_t last[64];
	int ret; /* what the handler returns */
};

static int on_msg(void *conn, const uint8_t *m, size_t len, uint64_t now)
{
	struct got *g = conn;
	(void)now;
	g->n++;
	g->bytes += len;
	memcpy(g->last, m, len < sizeof(g->last) ? len : sizeof(g->last));
	return g->ret;
}

static const struct net_chan_def d_ctl = { .name = "control", .type = NET_CHAN_STREAM, .sid = 0, .on_msg = on_msg };
static const struct net_chan_def d_cmd = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 4,
					   .lim = { .max_msg = 100 }, .on_msg = on_msg };
static const struct net_chan_def d_hb = { .name = "heartbeat", .type = NET_CHAN_DGRAM, .dgram_kind = { 1, 2 },
					  .on_msg = on_msg };
static const struct net_chan_def d_pose = { .name = "pose", .type = NET_CHAN_DGRAM, .dgram_kind = { 3 },
					    .lim = { .max_msg = 60, .rate_per_s = 10, .burst = 2 }, .on_msg = on_msg };

static void channels_are_found_by_stream_id_and_datagram_kind(void **state)
{
	struct net_chans t = { 0 };
	assert_int_equal(net_chans_register(&t, &d_ctl), 0);
	assert_int_equal(net_chans_register(&t, &d_hb), 1);
	assert_int_equal(net_chans_register(&t, &d_cmd), 2);
	assert_int_equal(net_chans_register(&t, &d_pose), 3);
	assert_int_equal(net_chans_by_sid(&t, 0), 0);
	assert_int_equal(net_chans_by_sid(&t, 4), 2);
	assert_int_equal(net_chans_by_sid(&t, 8), -ENOENT);
	assert_int_equal(net_chans_by_sid(&t, 2), -ENOENT);
	assert_int_equal(net_chans_by_dgram(&t, 1), 1);
	assert_int_equal(net_chans_by_dgram(&t, 2), 1);
	assert_int_equal(net_chans_by_dgram(&t, 3), 3);
	assert_int_equal(net_chans_by_dgram(&t, 4), -ENOENT);
	assert_int_equal(net_chans_by_name(&t, "pose"), 3);
}

static void a_new_channel_cannot_take_a_stream_kind_or_name_in_use(void **state)
{
	struct net_chans t = { 0 };
	assert_int_equal(net_chans_register(&t, &d_ctl), 0);
	assert_int_equal(net_chans_register(&t, &d_hb), 1);
	assert_int_equal(net_chans_register(&t, &d_ctl), -EEXIST); /* stream 0 again */
	struct net_chan_def voice = { .name = "voice", .type = NET_CHAN_DGRAM, .dgram_kind = { 5, 2 }, .on_msg = on_msg };
	assert_int_equal(net_chans_register(&t, &voice), -EEXIST); /* kind 2 is the heartbeat's */
	voice.dgram_kind[1] = 6;
	assert_int_equal(net_chans_register(&t, &voice), 2);
	struct net_chan_def again = { .name = "voice", .type = NET_CHAN_DGRAM, .dgram_kind = { 7 }, .on_msg = on_msg };
	assert_int_equal(net_chans_register(&t, &again), -EEXIST);
	/* Streams come in the order the joiner opens them. */
	struct net_chan_def snap = { .name = "snapshots", .type = NET_CHAN_STREAM, .sid = 8, .on_msg = on_msg };
	assert_int_equal(net_chans_register(&t, &snap), -EINVAL);
	snap.sid = 4;
	assert_int_equal(net_chans_register(&t, &snap), 3);
	struct net_chan_def bad = { .name = "x", .type = NET_CHAN_DGRAM, .on_msg = on_msg };
	assert_int_equal(net_chans_register(&t, &bad), -EINVAL); /* no kind */
	bad.dgram_kind[0] = 9;
	bad.on_msg = NULL;
	assert_int_equal(net_chans_register(&t, &bad), -EINVAL);
}

static void the_table_is_bounded(void **state)
{
	static struct net_chan_def d[NET_CHAN_MAX + 1];
	static char names[NET_CHAN_MAX + 1][8];
	struct net_chans t = { 0 };
	for (unsigned i = 0; i <= NET_CHAN_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "c%u", i);
		d[i] = (struct net_chan_def){ .name = names[i], .type = NET_CHAN_DGRAM, .dgram_kind = { (uint8_t)(i + 1) },
					      .on_msg = on_msg };
		assert_int_equal(net_chans_register(&t, &d[i]), i < NET_CHAN_MAX ? (int)i : -ENOSPC);
	}
}

/* ---- one channel ------------------------------------------------------------ */

static void frame(struct th_wbuf *w, const char *s)
{
	size_t n = strlen(s);
	th_wbuf_u32(w, (uint32_t)n);
	th_wbuf_put(w, s, n);
}

static void stream_bytes_reach_the_handler_as_whole_messages_and_are_counted(void **state)
{
	struct net_chans t = { 0 };
	uint64_t total_in = 0, total_msgs = 0;
	net_chans_register(&t, &d_ctl);
	t.total[0][NET_CHAN_BYTES_IN] = &total_in;
	t.total[0][NET_CHAN_MSGS_IN] = &total_msgs;
	struct net_chan ch;
	net_chan_init(&ch, &t, 0);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	frame(&w, "hello");
	frame(&w, "world!");
	struct got g = { 0 };
	/* One byte at a time: nothing is handed over until a message is whole. */
	for (size_t i = 0; i < w.len; i++)
		assert_int_equal(net_chan_feed_stream(&ch, w.data + i, 1, false, &g, T0), 0);
	assert_int_equal(g.n, 2);
	assert_memory_equal(g.last, "world!", 6);
	assert_int_equal(ch.st[NET_CHAN_MSGS_IN], 2);
	assert_int_equal(ch.st[NET_CHAN_BYTES_IN], w.len);
	assert_int_equal(total_in, w.len);
	assert_int_equal(total_msgs, 2);
	/* The handler's refusal comes back to the caller. */
	g.ret = -EPROTO;
	th_wbuf_reset(&w);
	frame(&w, "bad");
	assert_int_equal(net_chan_feed_stream(&ch, w.data, w.len, false, &g, T0), -EPROTO);
	th_wbuf_fini(&w);
	net_chan_fini(&ch);
}

static void a_message_over_the_channels_size_limit_breaks_the_stream(void **state)
{
	struct net_chans t = { 0 };
	net_chans_register(&t, &d_ctl);
	net_chans_register(&t, &d_cmd); /* max_msg 100 */
	struct net_chan ch;
	net_chan_init(&ch, &t, 1);
	uint8_t hdr[4];
	th_put_le32(hdr, 101);
	struct got g = { 0 };
	assert_int_equal(net_chan_feed_stream(&ch, hdr, 4, false, &g, T0), -EMSGSIZE);
	assert_int_equal(ch.st[NET_CHAN_OVER_SIZE], 1);
	assert_int_equal(g.n, 0);
	net_chan_fini(&ch);
}

static void datagrams_over_size_or_rate_are_dropped_and_counted_when_policed(void **state)
{
	struct net_chans t = { 0 };
	net_chans_register(&t, &d_pose); /* 60 bytes, 10/s, burst 2 */
	struct net_chan ch;
	net_chan_init(&ch, &t, 0);
	struct got g = { 0 };
	uint8_t dg[61] = { 3 };
	assert_int_equal(net_chan_feed_dgram(&ch, dg, 61, true, &g, T0), 0);
	assert_int_equal(ch.st[NET_CHAN_OVER_SIZE], 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(net_chan_feed_dgram(&ch, dg, 40, true, &g, T0), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(ch.st[NET_CHAN_OVER_RATE], 3);
	/* Unpoliced (what a member takes from its host): all of them. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(net_chan_feed_dgram(&ch, dg, 40, false, &g, T0), 0);
	assert_int_equal(g.n, 7);
	assert_int_equal(ch.st[NET_CHAN_MSGS_IN], 7);
	net_chan_fini(&ch);
}

static void the_send_queue_gives_bytes_out_in_order_across_partial_writes(void **state)
{
	struct net_chans t = { 0 };
	net_chans_register(&t, &d_ctl);
	struct net_chan ch;
	net_chan_init(&ch, &t, 0);
	uint8_t msg[1000], out[64 * 1000];
	size_t got = 0;
	for (int i = 0; i < 64; i++) {
		memset(msg, i, sizeof(msg));
		assert_int_equal(net_chan_queue(&ch, msg, sizeof(msg)), 0);
		/* The transport takes 700 bytes each time. */
		size_t len;
		const uint8_t *p = net_chan_peek(&ch, &len);
		size_t n = len < 700 ? len : 700;
		memcpy(out + got, p, n);
		got += n;
		net_chan_consume(&ch, n);
	}
	size_t len;
	const uint8_t *p;
	while ((p = net_chan_peek(&ch, &len))) {
		memcpy(out + got, p, len);
		got += len;
		net_chan_consume(&ch, len);
	}
	assert_int_equal(got, sizeof(out));
	for (size_t i = 0; i < sizeof(out); i++)
		if (out[i] != (uint8_t)(i / 1000))
			fail_msg("byte %zu is %u", i, out[i]);
	assert_int_equal(ch.st[NET_CHAN_MSGS_OUT], 64);
	assert_int_equal(ch.st[NET_CHAN_BYTES_OUT], sizeof(out));
	assert_int_equal(net_chan_pending(&ch), 0);
	net_chan_fini(&ch);
}

static void a_failed_queue_refuses_that_message_only_and_says_so(void **state)
{
	struct net_chans t = { 0 };
	struct net_chan_def small = { .name = "s", .type = NET_CHAN_STREAM, .sid = 0, .lim = { .queue_max = 100 },
				      .on_msg = on_msg };
	net_chans_register(&t, &small);
	struct net_chan ch;
	net_chan_init(&ch, &t, 0);
	uint8_t m[60] = { 1 };
	assert_int_equal(net_chan_queue(&ch, m, 60), 0);
	assert_int_equal(net_chan_queue(&ch, m, 60), -ENOBUFS); /* over queue_max */
	assert_int_equal(net_chan_pending(&ch), 60);
	/* An allocation failure (as th_wbuf latches it) fails that message... */
	ch.q.b.oom = true;
	assert_int_equal(net_chan_queue(&ch, m, 10), -ENOMEM);
	assert_int_equal(ch.st[NET_CHAN_QUEUE_FAIL], 2);
	assert_int_equal(net_chan_pending(&ch), 60);
	/* ...and is not latched: the next one is queued. */
	assert_int_equal(net_chan_queue(&ch, m, 10), 0);
	assert_int_equal(net_chan_pending(&ch), 70);
	net_chan_fini(&ch);
}

/* The handler takes a message but can take no more (-EAGAIN): what follows
 * is held, in order, and delivered by resume; a second pause in the middle
 * of the held bytes keeps the rest. */
struct seqs {
	char got[32][8];
	unsigned n;
	unsigned pause_at[4]; /* answer -EAGAIN to these message numbers (1-based) */
};

static int on_seq(void *conn, const uint8_t *m, size_t len, uint64_t now)
{
	struct seqs *g = conn;
	(void)now;
	assert_true(g->n < 32 && len < 8);
	memcpy(g->got[g->n], m, len);
	g->got[g->n][len] = 0;
	g->n++;
	for (unsigned i = 0; i < 4; i++)
		if (g->pause_at[i] == g->n)
			return -EAGAIN;
	return 0;
}

static void a_paused_channel_holds_what_follows_in_order_and_resume_delivers_it(void **state)
{
	static const struct net_chan_def d = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 0, .on_msg = on_seq };
	struct net_chans t = { 0 };
	net_chans_register(&t, &d);
	struct net_chan ch;
	net_chan_init(&ch, &t, 0);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	char m[8];
	for (int i = 1; i <= 9; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		frame(&w, m);
	}
	struct seqs g = { .pause_at = { 2, 5 } };
	/* All nine in one read, split inside the fourth message's header. */
	size_t cut = 3 * (4 + 2) + 2;
	assert_int_equal(net_chan_feed_stream(&ch, w.data, cut, false, &g, T0), 0);
	assert_true(net_chan_paused(&ch));
	assert_int_equal(g.n, 2); /* m1, m2 (which paused it) */
	assert_int_equal(net_chan_held(&ch), cut - 2 * 6);
	/* More arrives while paused: held behind, nothing delivered. */
	assert_int_equal(net_chan_feed_stream(&ch, w.data + cut, w.len - cut, false, &g, T0), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(net_chan_held(&ch), w.len - 2 * 6);
	assert_int_equal(ch.st[NET_CHAN_BYTES_IN], w.len);
	/* Resume: m3..m5, then m5 pauses it again with m6..m9 still held. */
	size_t taken;
	assert_int_equal(net_chan_resume(&ch, 0, false, &g, T0, &taken), 0);
	assert_int_equal(taken, 3 * 6);
	assert_int_equal(g.n, 5);
	assert_true(net_chan_paused(&ch));
	assert_int_equal(net_chan_held(&ch), 4 * 6);
	assert_int_equal(net_chan_resume(&ch, 0, false, &g, T0, &taken), 0);
	assert_int_equal(taken, 4 * 6);
	assert_false(net_chan_paused(&ch));
	assert_int_equal(net_chan_held(&ch), 0);
	assert_int_equal(g.n, 9);
	for (unsigned i = 0; i < 9; i++) {
		snprintf(m, sizeof(m), "m%u", i + 1);
		assert_string_equal(g.got[i], m);
	}
	/* Unpaused, bytes go straight through again. */
	th_wbuf_reset(&w);
	frame(&w, "m10");
	assert_int_equal(net_chan_feed_stream(&ch, w.data, w.len, false, &g, T0), 0);
	assert_int_equal(g.n, 10);
	assert_int_equal(net_chan_held(&ch), 0);
	th_wbuf_fini(&w);
	net_chan_fini(&ch);
}

static void a_resume_takes_at_most_its_budget_and_new_bytes_queue_behind_the_rest(void **state)
{
	static const struct net_chan_def d = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 0, .on_msg = on_seq };
	struct net_chans t = { 0 };
	net_chans_register(&t, &d);
	struct net_chan ch;
	net_chan_init(&ch, &t, 0);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	char m[8];
	for (int i = 1; i <= 6; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		frame(&w, m);
	}
	struct seqs g = { .pause_at = { 1 } };
	assert_int_equal(net_chan_feed_stream(&ch, w.data, 4 * 6, false, &g, T0), 0);
	assert_int_equal(net_chan_held(&ch), 3 * 6);
	/* 8 bytes: m2 and the start of m3 (kept by the reassembler). */
	size_t taken;
	assert_int_equal(net_chan_resume(&ch, 8, false, &g, T0, &taken), 0);
	assert_int_equal(taken, 8);
	assert_int_equal(g.n, 2);
	assert_false(net_chan_paused(&ch));
	/* Not paused, but bytes are still held: what arrives goes behind them. */
	assert_int_equal(net_chan_feed_stream(&ch, w.data + 4 * 6, 2 * 6, false, &g, T0), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(net_chan_held(&ch), 2 * 6 - 2 + 2 * 6);
	assert_int_equal(net_chan_resume(&ch, 0, false, &g, T0, &taken), 0);
	assert_int_equal(g.n, 6);
	for (unsigned i = 0; i < 6; i++) {
		snprintf(m, sizeof(m), "m%u", i + 1);
		assert_string_equal(g.got[i], m);
	}
	assert_int_equal(net_chan_held(&ch), 0);
	th_wbuf_fini(&w);
	net_chan_fini(&ch);
}

static void a_paused_channel_refuses_to_hold_more_than_its_bound(void **state)
{
	static const struct net_chan_def d = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 0, .on_msg = on_seq };
	struct net_chans t = { 0 };
	net_chans_register(&t, &d);
	struct net_chan ch;
	net_chan_init(&ch, &t, 0);
	struct seqs g = { .pause_at = { 1 } };
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	frame(&w, "m1");
	assert_int_equal(net_chan_feed_stream(&ch, w.data, w.len, false, &g, T0), 0);
	assert_true(net_chan_paused(&ch));
	static uint8_t junk[64 << 10];
	size_t held = 0;
	int r = 0;
	while ((r = net_chan_feed_stream(&ch, junk, sizeof(junk), false, &g, T0)) == 0)
		held += sizeof(junk);
	/* A sender that ignores the receive window is refused, not buffered. */
	assert_int_equal(r, -ENOBUFS);
	assert_true(held <= NET_CHAN_HOLD_MAX);
	assert_true(held + sizeof(junk) > NET_CHAN_HOLD_MAX);
	assert_int_equal(net_chan_held(&ch), held);
	th_wbuf_fini(&w);
	net_chan_fini(&ch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(channels_are_found_by_stream_id_and_datagram_kind),
		cmocka_unit_test(a_new_channel_cannot_take_a_stream_kind_or_name_in_use),
		cmocka_unit_test(the_table_is_bounded),
		cmocka_unit_test(stream_bytes_reach_the_handler_as_whole_messages_and_are_counted),
		cmocka_unit_test(a_message_over_the_channels_size_limit_breaks_the_stream),
		cmocka_unit_test(datagrams_over_size_or_rate_are_dropped_and_counted_when_policed),
		cmocka_unit_test(the_send_queue_gives_bytes_out_in_order_across_partial_writes),
		cmocka_unit_test(a_failed_queue_refuses_that_message_only_and_says_so),
		cmocka_unit_test(a_paused_channel_holds_what_follows_in_order_and_resume_delivers_it),
		cmocka_unit_test(a_resume_takes_at_most_its_budget_and_new_bytes_queue_behind_the_rest),
		cmocka_unit_test(a_paused_channel_refuses_to_hold_more_than_its_bound),
		cmocka_unit_test(a_burst_passes_then_the_rate_holds),
		cmocka_unit_test(refused_events_do_not_use_up_the_future),
		cmocka_unit_test(an_idle_bucket_refills_only_to_its_burst),
		cmocka_unit_test(zero_rate_means_unlimited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
