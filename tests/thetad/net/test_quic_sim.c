/* net_quic: two endpoints (client + server) exchanging datagrams through
 * net_impair in simulated time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2.h>

#include "net/net_cert.h"
#include "net/net_int.h"
#include "net/net_quic.h"
#include "net_sim.h"
#include "th_bench.h"

#define S (1000000000ull)
#define MS (1000000ull)

struct peer {
	struct net_quic *q;
	struct sim_node node;
	bool server;
	struct net_cert *cert;           /* server */
	const struct net_quic_config *cfg;
	uint64_t *now;

	bool hs;
	bool ended;
	struct net_quic_end_info end;
	uint64_t ended_at;

	/* receiving one stream */
	int64_t rx_sid;
	uint64_t rx_bytes;
	bool rx_fin, rx_bad;
	uint8_t seed_expected;
	bool hold;      /* keep what arrives (net_quic_stream_hold) instead of consuming it */
	uint64_t held;

	/* sending one stream */
	int64_t tx_sid;
	uint64_t tx_total, tx_done;
	bool tx_fin;
	uint8_t seed;

	unsigned dgrams, dgram_bad;
	unsigned stream_closes;
	unsigned now_wrong; /* callbacks told another time than the simulated clock */
};

static uint8_t pattern(uint64_t i, uint8_t seed)
{
	return (uint8_t)(i * 31u + (i >> 9) * 7u + seed);
}

/* Every callback must be told the simulated time of the call it runs in. */
static void check_now(struct peer *p, uint64_t now_ns)
{
	if (now_ns != *p->now)
		p->now_wrong++;
}

static void on_hs(struct net_quic *q, uint64_t now_ns, void *ud)
{
	struct peer *p = ud;
	(void)q;
	check_now(p, now_ns);
	p->hs = true;
}

static void on_data(struct net_quic *q, int64_t sid, const uint8_t *d, size_t len, bool fin, uint64_t now_ns,
		    void *ud)
{
	struct peer *p = ud;
	check_now(p, now_ns);
	if (p->rx_sid < 0)
		p->rx_sid = sid;
	if (sid != p->rx_sid) {
		p->rx_bad = true;
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (d[i] != pattern(p->rx_bytes + i, p->seed_expected))
			p->rx_bad = true;
	p->rx_bytes += len;
	if (p->hold) {
		net_quic_stream_hold(q, sid, len);
		p->held += len;
	}
	if (fin)
		p->rx_fin = true;
}

static void on_dgram(struct net_quic *q, const uint8_t *d, size_t len, uint64_t now_ns, void *ud)
{
	struct peer *p = ud;
	(void)q;
	check_now(p, now_ns);
	/* datagram k: 102 + k%50 bytes, all equal to (uint8_t)k, k in byte 0..1 */
	if (len < 102) {
		p->dgram_bad++;
		return;
	}
	unsigned k = d[0] | d[1] << 8;
	if (len != 102u + k % 50u) {
		p->dgram_bad++;
		return;
	}
	for (size_t i = 2; i < len; i++)
		if (d[i] != (uint8_t)k)
			p->dgram_bad++;
	p->dgrams++;
}

static void on_close(struct net_quic *q, int64_t sid, uint64_t code, uint64_t now_ns, void *ud)
{
	struct peer *p = ud;
	(void)q;
	(void)sid;
	(void)code;
	check_now(p, now_ns);
	p->stream_closes++;
}

static void on_end(struct net_quic *q, const struct net_quic_end_info *e, uint64_t now_ns, void *ud)
{
	struct peer *p = ud;
	(void)q;
	check_now(p, now_ns);
	p->ended = true;
	p->end = *e;
	p->ended_at = now_ns;
}

static const struct net_quic_callbacks cbs = {
	.handshake_done = on_hs,
	.stream_data = on_data,
	.stream_close = on_close,
	.datagram = on_dgram,
	.ended = on_end,
};

static void peer_feed(void *self, const uint8_t *pkt, size_t len, const struct sockaddr *from,
		      socklen_t fl, uint64_t now)
{
	struct peer *p = self;
	if (!p->q && p->server) {
		/* The test plays net_server's part: a client Initial creates
		 * the server connection (no Retry here; see test_server.c). */
		ngtcp2_pkt_hd hd;
		if (ngtcp2_accept(&hd, pkt, len) != 0)
			return;
		uint8_t key[NET_QUIC_CID_KEY_LEN], secret[32];
		gnutls_rnd(GNUTLS_RND_NONCE, key, sizeof(key));
		gnutls_rnd(GNUTLS_RND_NONCE, secret, sizeof(secret));
		struct net_quic_server_params sp = {
			.cred = p->cert->cred,
			.version = hd.version,
			.dcid = hd.dcid.data, .dcid_len = hd.dcid.datalen,
			.scid = hd.scid.data, .scid_len = hd.scid.datalen,
			.cid_key = key,
			.reset_secret = secret, .reset_secret_len = sizeof(secret),
		};
		int rv = net_quic_server_create(p->cfg, &cbs, p, &sp, (const struct sockaddr *)&p->node.addr,
						sizeof(p->node.addr), from, fl, now, &p->q);
		assert_int_equal(rv, 0);
	}
	if (p->q)
		net_quic_feed(p->q, pkt, len, from, fl, now);
}

static int peer_produce(void *self, uint64_t now, uint8_t *buf, size_t cap, size_t *len,
			struct sockaddr_storage *to, socklen_t *tl)
{
	struct peer *p = self;
	return sim_quic_produce(&p->q, now, buf, cap, len, to, tl);
}

static uint64_t peer_next(void *self)
{
	struct peer *p = self;
	return sim_quic_next(&p->q);
}

struct world {
	struct sim sim;
	struct peer c, s;
	struct net_cert *cert;
	struct net_quic_config cfg;
};

static void world_init(struct world *w, const struct net_impair_config *c2s,
		       const struct net_impair_config *s2c, const uint8_t *pin)
{
	memset(w, 0, sizeof(*w));
	sim_init(&w->sim);
	assert_int_equal(net_cert_generate(&w->cert), 0);
	struct peer *ps[2] = {&w->c, &w->s};
	for (int i = 0; i < 2; i++) {
		struct peer *p = ps[i];
		p->rx_sid = -1;
		p->tx_sid = -1;
		p->cfg = &w->cfg;
		p->now = &w->sim.now;
		p->node.self = p;
		p->node.produce = peer_produce;
		p->node.feed = peer_feed;
		p->node.next = peer_next;
		sim_addr(&p->node.addr, (uint8_t)(1 + i), (uint16_t)(4000 + i));
	}
	w->s.server = true;
	w->s.cert = w->cert;
	w->c.seed = 3;
	w->s.seed_expected = 3;
	w->s.seed = 9;
	w->c.seed_expected = 9;
	sim_add(&w->sim, &w->c.node, c2s);
	sim_add(&w->sim, &w->s.node, s2c);
}

static void world_connect(struct world *w, const uint8_t *pin)
{
	int rv = net_quic_client_create(&w->cfg, &cbs, &w->c, pin ? pin : w->cert->fp,
					(const struct sockaddr *)&w->c.node.addr, sizeof(w->c.node.addr),
					(const struct sockaddr *)&w->s.node.addr, sizeof(w->s.node.addr),
					w->sim.now, &w->c.q);
	assert_int_equal(rv, 0);
}

static void world_fini(struct world *w)
{
	net_quic_destroy(&w->c.q);
	net_quic_destroy(&w->s.q);
	sim_fini(&w->sim);
	net_cert_destroy(&w->cert);
}

static bool both_hs(void *ud)
{
	struct world *w = ud;
	return w->c.hs && w->s.hs;
}

static bool both_ended(void *ud)
{
	struct world *w = ud;
	return w->c.ended && w->s.ended;
}

/* ---- tests ------------------------------------------------------------- */

static void handshake_completes_with_alpn_theta1_and_equal_channel_bindings(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	assert_string_equal(net_quic_alpn(w.c.q), "theta/1");
	assert_string_equal(net_quic_alpn(w.s.q), "theta/1");
	assert_true(net_quic_is_server(w.s.q));
	assert_false(net_quic_is_server(w.c.q));

	uint8_t cb1[32], cb2[32], fp[32];
	assert_int_equal(net_quic_channel_binding(w.c.q, cb1), 0);
	assert_int_equal(net_quic_channel_binding(w.s.q, cb2), 0);
	assert_memory_equal(cb1, cb2, 32);
	uint8_t zero[32] = {0};
	assert_memory_not_equal(cb1, zero, 32);
	assert_int_equal(net_quic_peer_fingerprint(w.c.q, fp), 0);
	assert_memory_equal(fp, w.cert->fp, 32);
	assert_int_equal(w.c.now_wrong + w.s.now_wrong, 0);
	world_fini(&w);
}

static void channel_binding_differs_between_connections(void **state)
{
	uint8_t a[32], b[32];
	for (int i = 0; i < 2; i++) {
		struct world w;
		world_init(&w, NULL, NULL, NULL);
		world_connect(&w, NULL);
		assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
		assert_int_equal(net_quic_channel_binding(w.c.q, i ? b : a), 0);
		world_fini(&w);
	}
	assert_memory_not_equal(a, b, 32);
}

static void channel_binding_is_refused_before_the_handshake(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	uint8_t cb[32];
	assert_int_equal(net_quic_channel_binding(w.c.q, cb), -ENOTCONN);
	int64_t sid;
	assert_int_equal(net_quic_stream_open(w.c.q, &sid), -ENOTCONN);
	assert_int_equal(net_quic_dgram_send(w.c.q, "x", 1), -ENOTCONN);
	world_fini(&w);
}

static void pinned_fingerprint_mismatch_fails_with_fingerprint_error(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	uint8_t wrong[32];
	memcpy(wrong, w.cert->fp, 32);
	wrong[5] ^= 0x40;
	world_connect(&w, wrong);
	assert_true(sim_run(&w.sim, both_ended, &w, 10 * S));
	assert_false(w.c.hs);
	assert_int_equal(w.c.end.kind, NET_QUIC_END_FINGERPRINT);
	/* The server hears a TLS alert (CRYPTO_ERROR + bad_certificate). */
	assert_int_equal(w.s.end.kind, NET_QUIC_END_REMOTE_TRANSPORT);
	assert_int_equal(w.s.end.code, 0x100 + 42);
	assert_false(w.s.hs);
	world_fini(&w);
}

struct xfer {
	struct world *w;
	uint64_t c2s, s2c;
};

static void pump(struct peer *p, uint64_t total)
{
	if (!p->hs || !p->q || total == 0 || p->tx_fin)
		return;
	if (p->tx_sid < 0) {
		if (net_quic_stream_open(p->q, &p->tx_sid) < 0)
			return;
		p->tx_total = total;
	}
	uint8_t buf[16384];
	while (p->tx_done < p->tx_total) {
		size_t n = p->tx_total - p->tx_done < sizeof(buf) ? p->tx_total - p->tx_done : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(p->tx_done + i, p->seed);
		bool fin = p->tx_done + n == p->tx_total;
		int k = net_quic_stream_write(p->q, p->tx_sid, buf, n, fin);
		if (k <= 0)
			return;
		p->tx_done += (uint64_t)k;
		if (fin && (size_t)k == n)
			p->tx_fin = true;
		if ((size_t)k < n)
			return;
	}
}

static bool xfer_done(void *ud)
{
	struct xfer *x = ud;
	pump(&x->w->c, x->c2s);
	pump(&x->w->s, x->s2c);
	bool a = x->c2s == 0 || x->w->s.rx_fin;
	bool b = x->s2c == 0 || x->w->c.rx_fin;
	return a && b;
}

static void stream_data_survives_loss_reordering_and_duplication(void **state)
{
	struct net_impair_config imp = {
		.seed = 7, .loss = 0.10, .reorder = 0.10, .dup = 0.05,
		.delay_ns = 10 * MS, .jitter_ns = 3 * MS,
	};
	struct net_impair_config imp2 = imp;
	imp2.seed = 8;
	struct world w;
	world_init(&w, &imp, &imp2, NULL);
	world_connect(&w, NULL);
	struct xfer x = {.w = &w, .c2s = 3u << 20, .s2c = 700000};
	assert_true(sim_run(&w.sim, xfer_done, &x, 120 * S));
	assert_false(w.s.rx_bad);
	assert_false(w.c.rx_bad);
	assert_int_equal(w.s.rx_bytes, x.c2s);
	assert_int_equal(w.c.rx_bytes, x.s2c);
	assert_true(w.s.rx_fin && w.c.rx_fin);
	struct net_impair_stats st;
	net_impair_get_stats(w.c.node.out, &st);
	assert_true(st.dropped_loss > 0 && st.duplicated > 0 && st.reordered > 0);
	struct net_quic_stats qs;
	net_quic_get_stats(w.c.q, &qs);
	/* ngtcp2's RTT estimate reflects the 2 x 10 ms (+-3 ms) delay. */
	assert_true(qs.min_rtt_ns >= 14 * MS);
	assert_true(qs.smoothed_rtt_ns >= 14 * MS && qs.smoothed_rtt_ns <= 60 * MS);
	assert_int_equal(w.c.now_wrong + w.s.now_wrong, 0);
	world_fini(&w);
}

static void large_transfer_is_intact_without_impairment(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	struct xfer x = {.w = &w, .c2s = 20u << 20};
	assert_true(sim_run(&w.sim, xfer_done, &x, 60 * S));
	assert_false(w.s.rx_bad);
	assert_int_equal(w.s.rx_bytes, x.c2s);
	/* Everything written was acknowledged and the send buffer freed. */
	assert_true(sim_run(&w.sim, NULL, NULL, 1 * S) || true);
	world_fini(&w);
}

struct dg {
	struct world *w;
	unsigned sent, want;
};

static bool dgram_pump(void *ud)
{
	struct dg *d = ud;
	if (!d->w->c.hs)
		return false;
	/* ~one datagram per 2 ms of simulated time */
	while (d->sent < d->want && d->sent * 2 * MS <= d->w->sim.now - SIM_T0) {
		uint8_t b[160];
		size_t len = 102 + d->sent % 50;
		memset(b, (uint8_t)d->sent, len);
		b[0] = (uint8_t)d->sent;
		b[1] = (uint8_t)(d->sent >> 8);
		assert_int_equal(net_quic_dgram_send(d->w->c.q, b, len), 0);
		d->sent++;
	}
	return d->sent == d->want && d->w->sim.now > SIM_T0 + (d->want * 2 + 500) * MS;
}

static void datagrams_are_delivered_intact_but_may_be_lost(void **state)
{
	struct net_impair_config imp = {.seed = 11, .loss = 0.10, .delay_ns = 5 * MS};
	struct world w;
	world_init(&w, &imp, &imp, NULL);
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 10 * S));
	assert_true(net_quic_dgram_max(w.c.q) >= 1000);
	uint8_t big[NET_QUIC_MAX_DGRAM + 1] = {0};
	assert_int_equal(net_quic_dgram_send(w.c.q, big, sizeof(big)), -EMSGSIZE);
	struct dg d = {.w = &w, .want = 400};
	assert_true(sim_run(&w.sim, dgram_pump, &d, 30 * S));
	assert_int_equal(w.s.dgram_bad, 0);
	/* ~10% lost: not all arrive, most do. */
	assert_true(w.s.dgrams < d.want);
	assert_true(w.s.dgrams > d.want * 7 / 10);
	assert_int_equal(w.s.now_wrong, 0);
	world_fini(&w);
}

static void idle_connection_times_out_on_both_sides(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	w.cfg.idle_timeout_ns = 2 * S;
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	uint64_t t = w.sim.now;
	assert_true(sim_run(&w.sim, both_ended, &w, 10 * S));
	assert_int_equal(w.c.end.kind, NET_QUIC_END_IDLE);
	assert_int_equal(w.s.end.kind, NET_QUIC_END_IDLE);
	assert_true(w.c.ended_at - t >= 2 * S - 100 * MS);
	assert_true(w.c.ended_at - t <= 3 * S);
	assert_int_equal(w.c.now_wrong + w.s.now_wrong, 0);
	assert_true(net_quic_is_finished(w.c.q));
	world_fini(&w);
}

static void keepalive_keeps_an_idle_connection_open(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	w.cfg.idle_timeout_ns = 2 * S;
	w.cfg.keepalive_ns = 500 * MS;
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	sim_run(&w.sim, both_ended, &w, 10 * S);
	assert_false(w.c.ended);
	assert_false(w.s.ended);
	world_fini(&w);
}

static void partition_longer_than_idle_timeout_ends_the_connection(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	w.cfg.idle_timeout_ns = 2 * S;
	w.cfg.keepalive_ns = 300 * MS;
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	net_impair_set_partition(w.c.node.out, true);
	net_impair_set_partition(w.s.node.out, true);
	assert_true(sim_run(&w.sim, both_ended, &w, 10 * S));
	assert_int_equal(w.c.end.kind, NET_QUIC_END_IDLE);
	assert_int_equal(w.s.end.kind, NET_QUIC_END_IDLE);
	world_fini(&w);
}

static void application_close_code_and_reason_reach_the_peer(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	assert_int_equal(net_quic_close(w.c.q, 0x105, "bye now", w.sim.now), 0);
	assert_int_equal(net_quic_close(w.c.q, 0x106, NULL, w.sim.now), -EALREADY);
	assert_true(sim_run(&w.sim, both_ended, &w, 5 * S));
	assert_int_equal(w.c.end.kind, NET_QUIC_END_LOCAL_APP);
	assert_int_equal(w.s.end.kind, NET_QUIC_END_REMOTE_APP);
	assert_int_equal(w.s.end.code, 0x105);
	assert_string_equal(w.s.end.reason, "bye now");
	/* Both finish their closing/draining periods. */
	sim_run(&w.sim, NULL, NULL, 5 * S);
	assert_true(net_quic_is_finished(w.c.q));
	assert_true(net_quic_is_finished(w.s.q));
	world_fini(&w);
}

static void application_close_reaches_the_peer_over_a_lossy_link(void **state)
{
	struct net_impair_config imp = {.seed = 5, .loss = 0.5, .delay_ns = 10 * MS};
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	w.cfg.keepalive_ns = 100 * MS;
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	net_impair_destroy(&w.c.node.out);
	net_impair_destroy(&w.s.node.out);
	net_impair_create(&imp, w.sim.now, &w.c.node.out);
	imp.seed = 6;
	net_impair_create(&imp, w.sim.now, &w.s.node.out);
	assert_int_equal(net_quic_close(w.s.q, 0x1234, "kicked", w.sim.now), 0);
	assert_true(sim_run(&w.sim, both_ended, &w, 10 * S));
	/* Either the close arrived or the client timed out; with 50% loss and
	 * the close re-sent on every incoming packet it arrives. */
	assert_int_equal(w.c.end.kind, NET_QUIC_END_REMOTE_APP);
	assert_int_equal(w.c.end.code, 0x1234);
	world_fini(&w);
}

static void stream_write_refuses_after_fin_and_on_unknown_streams(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	int64_t sid;
	assert_int_equal(net_quic_stream_open(w.c.q, &sid), 0);
	assert_int_equal(net_quic_stream_write(w.c.q, sid, "abc", 3, true), 3);
	assert_int_equal(net_quic_stream_write(w.c.q, sid, "d", 1, false), -EPIPE);
	assert_int_equal(net_quic_stream_write(w.c.q, 9999, "d", 1, false), -ENOENT);
	assert_int_equal(net_quic_stream_writable(w.c.q, 9999), 0);
	world_fini(&w);
}

static void send_buffer_is_bounded(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	int64_t sid;
	assert_int_equal(net_quic_stream_open(w.c.q, &sid), 0);
	size_t big = NET_QUIC_STREAM_SENDBUF_MAX + 12345;
	uint8_t *b = calloc(1, big);
	assert_non_null(b);
	int n = net_quic_stream_write(w.c.q, sid, b, big, false);
	assert_int_equal(n, NET_QUIC_STREAM_SENDBUF_MAX);
	assert_int_equal(net_quic_stream_writable(w.c.q, sid), 0);
	assert_int_equal(net_quic_stream_write(w.c.q, sid, b, 1, false), 0);
	free(b);
	/* Once the peer acknowledges, room comes back. */
	sim_run(&w.sim, NULL, NULL, 2 * S);
	assert_true(net_quic_stream_writable(w.c.q, sid) > 0);
	assert_int_equal(w.s.rx_bytes, NET_QUIC_STREAM_SENDBUF_MAX);
	world_fini(&w);
}

/* A receiver that cannot take more keeps the bytes unconsumed: the sender
 * stops after one stream window, and goes on once they are consumed. */
static void bytes_the_receiver_holds_stop_the_sender_at_the_stream_window(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	w.s.hold = true;
	struct xfer x = {.w = &w, .c2s = 20u << 20};
	/* Stalled for 3 s (well inside the 10 s idle timeout: the daemon's
	 * heartbeats keep a real connection alive however long it waits). */
	assert_false(sim_run(&w.sim, xfer_done, &x, 3 * S));
	assert_false(w.c.ended || w.s.ended);
	assert_false(w.s.rx_bad);
	assert_int_equal(w.s.rx_bytes, NET_QUIC_STREAM_WINDOW);
	assert_int_equal(net_quic_stream_held(w.s.q, w.s.rx_sid), NET_QUIC_STREAM_WINDOW);
	/* The rest waits at the sender (its send buffer is bounded too). */
	assert_true(w.c.tx_done <= NET_QUIC_STREAM_WINDOW + NET_QUIC_STREAM_SENDBUF_MAX);
	assert_true(w.c.tx_done < x.c2s);
	/* Consumed: the window opens and everything arrives. */
	w.s.hold = false;
	assert_int_equal(net_quic_stream_consumed(w.s.q, w.s.rx_sid, (size_t)w.s.held), 0);
	assert_true(sim_run(&w.sim, xfer_done, &x, 60 * S));
	assert_false(w.s.rx_bad);
	assert_int_equal(w.s.rx_bytes, x.c2s);
	assert_int_equal(net_quic_stream_held(w.s.q, w.s.rx_sid), 0);
	assert_int_equal(net_quic_stream_consumed(w.s.q, 9999, 1), -ENOENT);
	world_fini(&w);
}

static void remote_stream_limit_is_enforced(void **state)
{
	struct world w;
	world_init(&w, NULL, NULL, NULL);
	world_connect(&w, NULL);
	assert_true(sim_run(&w.sim, both_hs, &w, 5 * S));
	int64_t sid;
	unsigned opened = 0;
	while (net_quic_stream_open(w.c.q, &sid) == 0)
		opened++;
	assert_int_equal(opened, NET_QUIC_MAX_STREAMS_BIDI);
	assert_int_equal(net_quic_stream_open(w.c.q, &sid), -EAGAIN);
	world_fini(&w);
}


static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A late join's transport part, as the daemon configures QUIC: 10 % loss
 * and 20 ms delay each way, the handshake, a request (HELLO's part), then
 * 500 KB back (3 000 entries' catch-up). Seeds differ per run. */
#define LJ_RUNS 101
#define LJ_REQ_BYTES 200
#define LJ_REPLY_BYTES 500000

static bool lj_request_in(void *ud)
{
	struct xfer *x = ud;
	pump(&x->w->c, x->c2s);
	return x->w->s.rx_fin;
}

static bool lj_reply_in(void *ud)
{
	struct xfer *x = ud;
	pump(&x->w->s, x->s2c);
	return x->w->c.rx_fin;
}

static void print_figure(const char *name, uint64_t *v, int n)
{
	char full[96];
	qsort(v, (size_t)n, sizeof(v[0]), cmp_u64);
	snprintf(full, sizeof(full), "net.sim_late_join_%s_median_s", name);
	th_bench_figure(full, (double)v[n / 2] / S, "s");
	snprintf(full, sizeof(full), "net.sim_late_join_%s_p90_s", name);
	th_bench_figure(full, (double)v[n * 9 / 10] / S, "s");
}

static void a_late_join_under_loss_completes_and_prints_its_simulated_time(void **state)
{
	static uint64_t hs[LJ_RUNS], xfer[LJ_RUNS], total[LJ_RUNS];
	for (int i = 0; i < LJ_RUNS; i++) {
		struct net_impair_config c2s = {.seed = 100 + (uint64_t)i, .loss = 0.10, .delay_ns = 20 * MS};
		struct net_impair_config s2c = c2s;
		s2c.seed = 500 + (uint64_t)i;
		struct world w;
		world_init(&w, &c2s, &s2c, NULL);
		w.cfg.initial_rtt_ns = NET_INITIAL_RTT_NS;
		world_connect(&w, NULL);
		uint64_t t0 = w.sim.now;
		assert_true(sim_run(&w.sim, both_hs, &w, 10 * S));
		hs[i] = w.sim.now - t0;
		struct xfer x = {.w = &w, .c2s = LJ_REQ_BYTES, .s2c = LJ_REPLY_BYTES};
		assert_true(sim_run(&w.sim, lj_request_in, &x, 30 * S));
		uint64_t t1 = w.sim.now;
		assert_true(sim_run(&w.sim, lj_reply_in, &x, 30 * S));
		xfer[i] = w.sim.now - t1;
		total[i] = w.sim.now - t0;
		assert_false(w.c.rx_bad || w.s.rx_bad);
		assert_int_equal(w.c.rx_bytes, LJ_REPLY_BYTES);
		assert_int_equal(w.c.now_wrong + w.s.now_wrong, 0);
		world_fini(&w);
	}
	print_figure("handshake", hs, LJ_RUNS);
	print_figure("500k", xfer, LJ_RUNS);
	print_figure("total", total, LJ_RUNS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_completes_with_alpn_theta1_and_equal_channel_bindings),
		cmocka_unit_test(channel_binding_differs_between_connections),
		cmocka_unit_test(channel_binding_is_refused_before_the_handshake),
		cmocka_unit_test(pinned_fingerprint_mismatch_fails_with_fingerprint_error),
		cmocka_unit_test(stream_data_survives_loss_reordering_and_duplication),
		cmocka_unit_test(large_transfer_is_intact_without_impairment),
		cmocka_unit_test(datagrams_are_delivered_intact_but_may_be_lost),
		cmocka_unit_test(idle_connection_times_out_on_both_sides),
		cmocka_unit_test(keepalive_keeps_an_idle_connection_open),
		cmocka_unit_test(partition_longer_than_idle_timeout_ends_the_connection),
		cmocka_unit_test(application_close_code_and_reason_reach_the_peer),
		cmocka_unit_test(application_close_reaches_the_peer_over_a_lossy_link),
		cmocka_unit_test(stream_write_refuses_after_fin_and_on_unknown_streams),
		cmocka_unit_test(send_buffer_is_bounded),
		cmocka_unit_test(remote_stream_limit_is_enforced),
		cmocka_unit_test(bytes_the_receiver_holds_stop_the_sender_at_the_stream_window),
		cmocka_unit_test(a_late_join_under_loss_completes_and_prints_its_simulated_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
