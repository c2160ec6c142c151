/* net_server: demultiplexing, Retry, limits, stateless replies, in
 * simulated time through net_impair. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ngtcp2/ngtcp2.h>

#include "net/net_cert.h"
#include "net/net_server.h"
#include "net_sim.h"

#define S  (1000000000ull)
#define MS (1000000ull)
#define MAX_CLIENTS 4

struct cstate {
	bool hs, ended;
	struct net_quic_end_info end;
	uint64_t rx;
};

/* A node: one net_server (which may also hold outgoing connections). */
struct srv_node {
	struct sim_node node;
	struct net_server *srv;
	struct net_cert *cert;
	unsigned gone, new_conns;
	uint64_t rx; /* stream bytes received on incoming connections */
	/* capture of datagrams fed to this node */
	uint8_t cap[MAX_CLIENTS][2048];
	size_t cap_len[MAX_CLIENTS];
	unsigned ncap;
	struct cstate in_state; /* shared by all incoming connections */
};

static void c_hs(struct net_quic *q, uint64_t now_ns, void *ud)
{
	(void)now_ns;
	struct cstate *c = ud;
	(void)q;
	if (c)
		c->hs = true;
}

static void c_end(struct net_quic *q, const struct net_quic_end_info *e, uint64_t now_ns, void *ud)
{
	(void)now_ns;
	struct cstate *c = ud;
	(void)q;
	if (c) {
		c->ended = true;
		c->end = *e;
	}
}

static void c_data(struct net_quic *q, int64_t sid, const uint8_t *d, size_t len, bool fin, uint64_t now_ns,
		   void *ud)
{
	(void)now_ns;
	struct cstate *c = ud;
	(void)q;
	(void)sid;
	(void)d;
	(void)fin;
	if (c)
		c->rx += len;
}

static void s_new(struct net_server *s, struct net_quic *q, uint64_t now_ns, void *ud)
{
	(void)now_ns;
	struct srv_node *n = ud;
	(void)s;
	(void)q;
	n->new_conns++;
	net_quic_set_user(q, &n->in_state);
}

static void s_gone(struct net_server *s, struct net_quic *q, uint64_t now_ns, void *ud)
{
	(void)now_ns;
	(void)s;
	(void)q;
	(void)ud;
}

static struct srv_node *g_nodes[4];

static void gone_count(struct net_server *s, struct net_quic *q, uint64_t now_ns, void *ud)
{
	(void)now_ns;
	(void)q;
	(void)ud;
	for (int i = 0; i < 4; i++)
		if (g_nodes[i] && g_nodes[i]->srv == s)
			g_nodes[i]->gone++;
}

static const struct net_server_callbacks scb = {
	.quic = {.handshake_done = c_hs, .ended = c_end, .stream_data = c_data},
	.conn_new = s_new,
	.conn_gone = gone_count,
};

static int n_produce(void *self, uint64_t now, uint8_t *buf, size_t cap, size_t *len,
		     struct sockaddr_storage *to, socklen_t *tl)
{
	struct srv_node *n = self;
	size_t seg;
	return net_server_produce(n->srv, now, buf, cap, 1, len, &seg, to, tl);
}

static void n_feed(void *self, const uint8_t *pkt, size_t len, const struct sockaddr *from,
		   socklen_t fl, uint64_t now)
{
	struct srv_node *n = self;
	if (n->ncap < MAX_CLIENTS && len <= sizeof(n->cap[0])) {
		memcpy(n->cap[n->ncap], pkt, len);
		n->cap_len[n->ncap++] = len;
	}
	net_server_feed(n->srv, pkt, len, from, fl, now);
}

static uint64_t n_next(void *self)
{
	struct srv_node *n = self;
	return net_server_next_expiry(n->srv);
}

static void node_init(struct srv_node *n, uint8_t host, const struct net_server_config *cfg)
{
	memset(n, 0, sizeof(*n));
	sim_addr(&n->node.addr, host, 4433);
	n->node.self = n;
	n->node.produce = n_produce;
	n->node.feed = n_feed;
	n->node.next = n_next;
	assert_int_equal(net_cert_generate(&n->cert), 0);
	assert_int_equal(net_server_create(cfg, n->cert->cred, &scb, n,
					   (const struct sockaddr *)&n->node.addr, sizeof(n->node.addr),
					   &n->srv),
			 0);
	for (int i = 0; i < 4; i++)
		if (!g_nodes[i]) {
			g_nodes[i] = n;
			break;
		}
}

static void node_fini(struct srv_node *n)
{
	net_server_destroy(&n->srv);
	net_cert_destroy(&n->cert);
	for (int i = 0; i < 4; i++)
		if (g_nodes[i] == n)
			g_nodes[i] = NULL;
}

struct world {
	struct sim sim;
	struct srv_node host;
	struct srv_node cl[MAX_CLIENTS];
	struct cstate cs[MAX_CLIENTS];
	struct net_quic *cq[MAX_CLIENTS];
	unsigned ncl;
};

static void world_init(struct world *w, const struct net_server_config *hostcfg, unsigned ncl)
{
	memset(w, 0, sizeof(*w));
	memset(g_nodes, 0, sizeof(g_nodes)); /* a failed test may leave stale ones */
	sim_init(&w->sim);
	node_init(&w->host, 1, hostcfg);
	sim_add(&w->sim, &w->host.node, NULL);
	w->ncl = ncl;
	for (unsigned i = 0; i < ncl; i++) {
		node_init(&w->cl[i], (uint8_t)(10 + i), NULL);
		sim_add(&w->sim, &w->cl[i].node, NULL);
	}
}

static void world_connect(struct world *w, unsigned i)
{
	assert_int_equal(net_server_connect(w->cl[i].srv, w->host.cert->fp,
					    (const struct sockaddr *)&w->host.node.addr,
					    sizeof(w->host.node.addr), &w->cs[i], w->sim.now, &w->cq[i]),
			 0);
}

static void world_fini(struct world *w)
{
	for (unsigned i = 0; i < w->ncl; i++)
		node_fini(&w->cl[i]);
	node_fini(&w->host);
	sim_fini(&w->sim);
}

static struct world *g_w;
static bool all_settled(void *ud)
{
	struct world *w = ud;
	for (unsigned i = 0; i < w->ncl; i++)
		if (w->cq[i] && !w->cs[i].hs && !w->cs[i].ended)
			return false;
	return true;
}

/* ---- tests --------------------------------------------------------------- */

static void client_connects_after_one_retry(void **state)
{
	struct world w;
	world_init(&w, NULL, 1);
	world_connect(&w, 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 5 * S));
	assert_true(w.cs[0].hs);
	sim_run(&w.sim, NULL, NULL, 100 * MS); /* the host's side completes too */
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.retries_sent, 1);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.handshakes, 0);
	assert_int_equal(w.host.new_conns, 1);
	world_fini(&w);
}

static void retry_can_be_disabled(void **state)
{
	struct net_server_config cfg = {.retry = NET_SERVER_RETRY_NEVER};
	struct world w;
	world_init(&w, &cfg, 1);
	world_connect(&w, 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 5 * S));
	assert_true(w.cs[0].hs);
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.retries_sent, 0);
	assert_int_equal(st.accepted, 1);
	world_fini(&w);
}

static void connection_limit_refuses_the_extra_client(void **state)
{
	struct net_server_config cfg = {.max_conns = 2};
	struct world w;
	world_init(&w, &cfg, 3);
	for (unsigned i = 0; i < 3; i++)
		world_connect(&w, i);
	assert_true(sim_run(&w.sim, all_settled, &w, 10 * S));
	unsigned ok = 0, refused = 0;
	for (unsigned i = 0; i < 3; i++) {
		if (w.cs[i].hs)
			ok++;
		else if (w.cs[i].ended && w.cs[i].end.kind == NET_QUIC_END_REMOTE_TRANSPORT &&
			 w.cs[i].end.code == NGTCP2_CONNECTION_REFUSED)
			refused++;
	}
	assert_int_equal(ok, 2);
	assert_int_equal(refused, 1);
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_true(st.refused_limit >= 1);
	assert_int_equal(st.conns, 2);
	world_fini(&w);
}

static void handshake_limit_refuses_concurrent_handshakes(void **state)
{
	struct net_server_config cfg = {.max_handshakes = 1};
	struct world w;
	world_init(&w, &cfg, 2);
	world_connect(&w, 0);
	world_connect(&w, 1);
	assert_true(sim_run(&w.sim, all_settled, &w, 10 * S));
	unsigned ok = (unsigned)w.cs[0].hs + (unsigned)w.cs[1].hs;
	assert_int_equal(ok, 1);
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_true(st.refused_limit >= 1);
	/* Once the first handshake is done a new client gets in. */
	memset(&w.cs[1], 0, sizeof(w.cs[1]));
	unsigned loser = w.cs[0].hs ? 1 : 0;
	memset(&w.cs[loser], 0, sizeof(w.cs[loser]));
	sim_run(&w.sim, NULL, NULL, 2 * S);
	struct net_quic *q2;
	assert_int_equal(net_server_connect(w.cl[loser].srv, w.host.cert->fp,
					    (const struct sockaddr *)&w.host.node.addr,
					    sizeof(w.host.node.addr), &w.cs[loser], w.sim.now, &q2),
			 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 10 * S));
	assert_true(w.cs[loser].hs);
	world_fini(&w);
}

static void retry_token_replayed_from_another_address_is_rejected(void **state)
{
	struct net_server_config cfg = {.quic = {.idle_timeout_ns = 1 * S}};
	struct world w;
	world_init(&w, &cfg, 2);
	world_connect(&w, 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 5 * S));
	/* The host captured the client's first two datagrams: the Initial
	 * without a token and the one echoing the Retry token. */
	assert_true(w.host.ncap >= 2);
	sim_run(&w.sim, NULL, NULL, 3 * S); /* idle: the connection is reaped */
	struct net_server_stats before, after;
	net_server_get_stats(w.host.srv, &before);
	assert_int_equal(before.conns, 0);
	/* Replay the token-bearing Initial from client 1's address. */
	net_server_feed(w.host.srv, w.host.cap[1], w.host.cap_len[1],
			(const struct sockaddr *)&w.cl[1].node.addr, sizeof(w.cl[1].node.addr),
			w.sim.now);
	net_server_get_stats(w.host.srv, &after);
	assert_int_equal(after.bad_tokens, before.bad_tokens + 1);
	assert_int_equal(after.accepted, before.accepted);
	assert_int_equal(after.conns, 0);
	world_fini(&w);
}

static void expired_retry_token_is_rejected(void **state)
{
	struct net_server_config cfg = {
		.quic = {.idle_timeout_ns = 1 * S, .handshake_timeout_ns = 2 * S},
	};
	struct world w;
	world_init(&w, &cfg, 1);
	uint64_t issued = w.sim.now;
	world_connect(&w, 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 5 * S));
	sim_run(&w.sim, NULL, NULL, 3 * S); /* idle: the connection is reaped */
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.conns, 0);
	/* Within its lifetime the token still validates (positive control). */
	const struct sockaddr *from = (const struct sockaddr *)&w.cl[0].node.addr;
	net_server_feed(w.host.srv, w.host.cap[1], w.host.cap_len[1], from, sizeof(w.cl[0].node.addr),
			w.sim.now);
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.bad_tokens, 0);
	/* That half-open connection dies of its handshake timeout... */
	sim_run(&w.sim, NULL, NULL, 5 * S);
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.conns, 0);
	/* ...and past NET_SERVER_RETRY_TOKEN_TIMEOUT the token is refused. */
	uint64_t later = issued + NET_SERVER_RETRY_TOKEN_TIMEOUT + S;
	assert_true(later > w.sim.now);
	net_server_feed(w.host.srv, w.host.cap[1], w.host.cap_len[1], from, sizeof(w.cl[0].node.addr),
			later);
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.bad_tokens, 1);
	assert_int_equal(st.accepted, 2);
	world_fini(&w);
}

static void garbage_is_dropped_and_counted(void **state)
{
	struct world w;
	world_init(&w, NULL, 1);
	uint8_t junk[1300];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 13 + 5);
	const struct sockaddr *from = (const struct sockaddr *)&w.cl[0].node.addr;
	socklen_t fl = sizeof(w.cl[0].node.addr);
	junk[0] = 0xc0; /* long header, version from the next bytes */
	junk[1] = 0; junk[2] = 0; junk[3] = 0; junk[4] = 1; /* v1 */
	junk[5] = 200; /* absurd DCID length */
	net_server_feed(w.host.srv, junk, sizeof(junk), from, fl, w.sim.now);
	net_server_feed(w.host.srv, junk, 0, from, fl, w.sim.now);
	net_server_feed(w.host.srv, junk, 3, from, fl, w.sim.now);
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_true(st.dropped >= 3);
	assert_int_equal(st.conns, 0);
	world_fini(&w);
}

static void unknown_version_gets_version_negotiation(void **state)
{
	struct world w;
	world_init(&w, NULL, 1);
	uint8_t p[1200] = {0};
	p[0] = 0xc0;
	p[1] = 0x1a; p[2] = 0x2a; p[3] = 0x3a; p[4] = 0x4a;
	p[5] = 8; /* dcid */
	memset(p + 6, 0x11, 8);
	p[14] = 8; /* scid */
	memset(p + 15, 0x22, 8);
	net_server_feed(w.host.srv, p, sizeof(p), (const struct sockaddr *)&w.cl[0].node.addr,
			sizeof(w.cl[0].node.addr), w.sim.now);
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.version_negotiations, 1);
	uint8_t buf[2048];
	size_t len, seg;
	struct sockaddr_storage to;
	socklen_t tl;
	assert_int_equal(net_server_produce(w.host.srv, w.sim.now, buf, sizeof(buf), 1, &len, &seg, &to, &tl), 0);
	assert_true(len > 0 && len < sizeof(p));
	assert_int_equal(buf[1] | buf[2] | buf[3] | buf[4], 0); /* version 0 = VN */
	/* A small one gets nothing (no amplification). */
	net_server_feed(w.host.srv, p, 100, (const struct sockaddr *)&w.cl[0].node.addr,
			sizeof(w.cl[0].node.addr), w.sim.now);
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.version_negotiations, 1);
	world_fini(&w);
}

static void restarted_host_resets_its_old_peers_at_once(void **state)
{
	uint8_t secret[NET_SERVER_SECRET_LEN];
	memset(secret, 0x5a, sizeof(secret));
	struct net_server_config cfg = {.reset_secret = secret};
	struct world w;
	world_init(&w, &cfg, 1);
	world_connect(&w, 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 5 * S));
	sim_run(&w.sim, NULL, NULL, 200 * MS); /* handshake confirmed */
	/* The host "restarts": same key material, no connection state. */
	net_server_destroy(&w.host.srv);
	assert_int_equal(net_server_create(&cfg, w.host.cert->cred, &scb, &w.host,
					   (const struct sockaddr *)&w.host.node.addr,
					   sizeof(w.host.node.addr), &w.host.srv),
			 0);
	int64_t sid;
	assert_int_equal(net_quic_stream_open(w.cq[0], &sid), 0);
	assert_int_equal(net_quic_stream_write(w.cq[0], sid, "hello?", 6, false), 6);
	uint64_t t0 = w.sim.now;
	sim_run(&w.sim, NULL, NULL, 1 * S);
	assert_true(w.cs[0].ended);
	assert_int_equal(w.cs[0].end.kind, NET_QUIC_END_STATELESS_RESET);
	assert_true(w.sim.now - t0 <= 1 * S);
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_true(st.resets_sent >= 1);
	world_fini(&w);
}

static void idle_connections_are_reaped(void **state)
{
	struct net_server_config cfg = {.quic = {.idle_timeout_ns = 1 * S}};
	struct world w;
	world_init(&w, &cfg, 1);
	world_connect(&w, 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 5 * S));
	sim_run(&w.sim, NULL, NULL, 5 * S);
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.conns, 0);
	assert_int_equal(w.host.gone, 1);
	assert_int_equal(w.cl[0].gone, 1);
	assert_int_equal(w.cs[0].end.kind, NET_QUIC_END_IDLE);
	world_fini(&w);
}

static void refusing_mode_closes_new_connections(void **state)
{
	struct world w;
	world_init(&w, NULL, 1);
	net_server_set_accept(w.host.srv, false);
	world_connect(&w, 0);
	assert_true(sim_run(&w.sim, all_settled, &w, 5 * S));
	assert_false(w.cs[0].hs);
	assert_int_equal(w.cs[0].end.code, NGTCP2_CONNECTION_REFUSED);
	world_fini(&w);
}

static bool all_acked(void *ud)
{
	struct world *w = ud;
	return w->host.in_state.rx == 600000 && net_quic_stream_unacked(w->cq[0], 0) == 0 &&
	       net_quic_stream_unacked(w->cq[1], 0) == 0;
}

static void stream_data_flows_through_the_demultiplexer_under_loss(void **state)
{
	struct net_impair_config imp = {.seed = 99, .loss = 0.05, .delay_ns = 5 * MS, .reorder = 0.05};
	struct world w;
	memset(&w, 0, sizeof(w));
	memset(g_nodes, 0, sizeof(g_nodes));
	sim_init(&w.sim);
	node_init(&w.host, 1, NULL);
	sim_add(&w.sim, &w.host.node, &imp);
	w.ncl = 2;
	for (unsigned i = 0; i < 2; i++) {
		node_init(&w.cl[i], (uint8_t)(10 + i), NULL);
		imp.seed++;
		sim_add(&w.sim, &w.cl[i].node, &imp);
		world_connect(&w, i);
	}
	assert_true(sim_run(&w.sim, all_settled, &w, 10 * S));
	assert_true(w.cs[0].hs && w.cs[1].hs);
	static uint8_t data[300000];
	for (unsigned i = 0; i < 2; i++) {
		int64_t sid;
		assert_int_equal(net_quic_stream_open(w.cq[i], &sid), 0);
		assert_int_equal(net_quic_stream_write(w.cq[i], sid, data, sizeof(data), true),
				 (int)sizeof(data));
	}
	assert_true(sim_run(&w.sim, all_acked, &w, 8 * S));
	struct net_server_stats st;
	net_server_get_stats(w.host.srv, &st);
	assert_int_equal(st.conns, 2);
	assert_int_equal(net_quic_stream_unacked(w.cq[0], 0), 0);
	assert_int_equal(net_quic_stream_unacked(w.cq[1], 0), 0);
	world_fini(&w);
}

int main(void)
{
	(void)g_w;
	(void)s_gone;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(client_connects_after_one_retry),
		cmocka_unit_test(retry_can_be_disabled),
		cmocka_unit_test(connection_limit_refuses_the_extra_client),
		cmocka_unit_test(handshake_limit_refuses_concurrent_handshakes),
		cmocka_unit_test(retry_token_replayed_from_another_address_is_rejected),
		cmocka_unit_test(expired_retry_token_is_rejected),
		cmocka_unit_test(garbage_is_dropped_and_counted),
		cmocka_unit_test(unknown_version_gets_version_negotiation),
		cmocka_unit_test(restarted_host_resets_its_old_peers_at_once),
		cmocka_unit_test(idle_connections_are_reaped),
		cmocka_unit_test(refusing_mode_closes_new_connections),
		cmocka_unit_test(stream_data_flows_through_the_demultiplexer_under_loss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
