/* thetad/net/net_sl over real QUIC: a host and a joiner daemon, each a
 * net_server (ngtcp2 + GnuTLS) whose connections carry a net_sl, routed
 * through net_sim.h's impairment (loss, delay with jitter, reordering,
 * duplication, partitions) in simulated time. A small glue plays
 * net_link.c's part with the exported pieces it is built from: the channel
 * table (net_chans: control and commands streams, heartbeat datagrams),
 * per-connection channels (reassembly in, queue out) and the session
 * layer's actions carried out on the QUIC connection. Join, each refusal
 * reaching the joiner as its code, kick, role change, catch-up (SYNC in,
 * ENTRIES out as whole signature groups), peers lost in a long partition,
 * reconnect and resume after it heals. Seeded impairment; assertions on
 * simulated time only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "invite.h"
#include "net/net_cert.h"
#include "net/net_chan.h"
#include "net/net_server.h"
#include "net/net_sl.h"
#include "net_sim.h"
#include "session.h"
#include "sl_reg.h"
#include "th_logrec.h"
#include "th_logtest.h"

#define MS (1000ull * 1000)
#define S  (1000ull * MS)
#define WALL_OFFSET (1700000000ull * S) /* simulated wall clock - simulated clock */
#define EPS_MAX     32u
#define EVS_MAX     128u
#define LOG_MAX     800u   /* entries the host's log can hold in these tests */
#define GROUP       100u   /* entries under one signature (the last one's) */
#define PER_MSG     40u    /* entries per ENTRIES message: a group spans three (MORE) */
#define GROUPS_MAX  16u
#define SYNCS_MAX   32u
#define JOIN_ATTEMPTS 4u   /* connections the member's join loop tries */
#define HOST_PORT   4433
#define JOINER_PORT 4434

/* Each test's impairment: 10 % loss, 20 ms +- 5 ms, reordering, duplicates. */
static const struct net_impair_config imp_base = {
	.loss = 0.10, .delay_ns = 20 * MS, .jitter_ns = 5 * MS, .reorder = 0.05, .dup = 0.03,
};

enum { CH_CONTROL = NET_SL_CONTROL, CH_COMMANDS = NET_SL_COMMANDS, CH_HEARTBEAT, CH_N };

struct node;

/* One connection: its QUIC connection, channels and session layer. */
struct ep {
	struct node *n;
	bool incoming;
	struct net_quic *q;
	struct net_sl *sl;
	struct net_chan ch[CH_N];
	uint8_t pk[32], sk[64];
	struct net_sl_action ev[EVS_MAX]; /* events and closes in order (data pointers cleared) */
	unsigned n_ev;
	uint64_t close_code;              /* our session layer's CLOSE (0: none) */
	bool ended;                       /* the QUIC connection ended */
	struct net_quic_end_info end;
	uint64_t lost_at;
	bool in_run;                      /* ep_run is draining (a close may end the connection inside it) */
};

struct node {
	struct sim_node node;
	struct net_server *srv;
	struct net_cert *cert;
};

/* The host's sessions, as net_sl_host_ops answers. */

struct world {
	struct sim sim;
	struct node host, joiner;
	struct ep *eps[EPS_MAX];
	unsigned n_eps;
	struct reg reg;
	uint8_t host_pk[32], host_sk[64];
	unsigned max_peers;
	unsigned glue_err;                /* something the glue could not do (asserted 0) */
	char glue_what[160];
	/* The host's log: one author, entries 1..host_entries of log[]. */
	struct lt_author author;
	struct th_logrec_entry log[LOG_MAX];
	uint8_t log_hash[LOG_MAX][TH_LOGREC_HASH_LEN];
	uint64_t host_entries;
	unsigned syncs_at_host;
	uint64_t sync_have[SYNCS_MAX];    /* each SYNC's seq for the author, in order */
	bool sync_hash_bad;
	/* The joiner daemon's copy (kept across its connections). */
	struct th_logrec_chain jchain;
	uint64_t jhas;
	uint32_t group_len[GROUPS_MAX];   /* entries of each EV_ENTRIES */
	bool group_signed_last[GROUPS_MAX], group_signed_inside[GROUPS_MAX];
	unsigned n_groups, bad_entries;
};

static struct world W;
static struct net_chans g_chans;
static uint8_t g_payload[48];

static void glue_fail(const char *what)
{
	if (!W.glue_err++)
		snprintf(W.glue_what, sizeof(W.glue_what), "%s", what);
}

/* ---- carrying out the session layer's actions (net_link.c's part) ----------- */

static bool live(const struct ep *e)
{
	return e->q && !net_quic_is_ended(e->q);
}

/* Writes what the channels hold while the stream takes it (conn_push). */
static void ep_push(struct ep *e)
{
	if (!live(e))
		return;
	for (unsigned i = 0; i < CH_N; i++) {
		struct net_chan *ch = &e->ch[i];
		size_t len;
		const uint8_t *p = net_chan_peek(ch, &len);
		if (!p || !ch->opened)
			continue;
		int k = net_quic_stream_write(e->q, ch->def->sid, p, len, false);
		if (k > 0)
			net_chan_consume(ch, (size_t)k);
	}
}

/* One frame (length prefix included) on a stream channel; the joiner opens
 * its streams in the table's order, the host answers on the joiner's. */
static void ep_send(struct ep *e, unsigned chan, const uint8_t *p, size_t n)
{
	if (!live(e))
		return;
	struct net_chan *ch = &e->ch[chan];
	if (!e->incoming && !ch->opened) {
		int64_t sid;
		if (net_quic_stream_open(e->q, &sid) < 0 || sid != ch->def->sid) {
			glue_fail("cannot open a stream in the table's order");
			return;
		}
		ch->opened = true;
	}
	if (net_chan_queue(ch, p, n) < 0) {
		glue_fail("cannot queue a frame");
		return;
	}
	ep_push(e);
}

static void record(struct ep *e, const struct net_sl_action *a)
{
	if (e->n_ev < EVS_MAX) {
		e->ev[e->n_ev] = *a;
		e->ev[e->n_ev].data = NULL;
		e->n_ev++;
	}
}

static void on_sync_due(struct ep *e);
static void on_sync(struct ep *e, const struct proto_sess_sync *v);
static void on_entries(const uint8_t *recs, size_t len, uint32_t count);

/* Drains and executes the actions (net_conn_run). */
static void ep_run(struct ep *e, uint64_t now)
{
	struct net_sl_action a;
	if (e->in_run)
		return; /* the outer drain takes what was added */
	e->in_run = true;
	while (e->sl && net_sl_poll(e->sl, &a) == 1) {
		switch (a.kind) {
		case NET_SL_A_SEND:
			if (a.chan >= CH_HEARTBEAT || a.len < 4 || th_get_le32(a.data) != a.len - 4)
				glue_fail("a SEND that is not one frame on a stream channel");
			else
				ep_send(e, a.chan, a.data, a.len);
			break;
		case NET_SL_A_DGRAM:
			if (live(e) && net_quic_dgram_send(e->q, a.data, a.len) == 0)
				net_chan_sent(&e->ch[CH_HEARTBEAT], a.len);
			break;
		case NET_SL_A_CLOSE:
			e->close_code = a.code;
			record(e, &a);
			if (live(e))
				net_quic_close(e->q, a.code, a.text[0] ? a.text : NULL, now);
			break;
		case NET_SL_A_LOG:
			break;
		case NET_SL_A_EVENT:
			record(e, &a);
			if (a.ev == NET_SL_EV_SYNC_DUE)
				on_sync_due(e);
			else if (a.ev == NET_SL_EV_SYNC)
				on_sync(e, &a.msg.u.sync);
			else if (a.ev == NET_SL_EV_ENTRIES)
				on_entries(a.data, a.len, a.count);
			else if (a.ev == NET_SL_EV_LOST)
				e->lost_at = now;
			break;
		}
	}
	e->in_run = false;
}

/* ---- channels --------------------------------------------------------------- */

static int ch_stream(struct ep *e, unsigned chan, const uint8_t *p, size_t len, uint64_t now)
{
	if (!e->sl)
		return -ECONNABORTED;
	int r = net_sl_on_msg(e->sl, chan, p, len, now);
	ep_run(e, now);
	return r < 0 ? -ECONNABORTED : 0;
}

static int ch_control(void *conn, const uint8_t *p, size_t len, uint64_t now)
{
	return ch_stream(conn, NET_SL_CONTROL, p, len, now);
}

static int ch_commands(void *conn, const uint8_t *p, size_t len, uint64_t now)
{
	return ch_stream(conn, NET_SL_COMMANDS, p, len, now);
}

static int ch_heartbeat(void *conn, const uint8_t *p, size_t len, uint64_t now)
{
	struct ep *e = conn;
	if (e->sl) {
		net_sl_on_dgram(e->sl, p, len, now);
		ep_run(e, now);
	}
	return 0;
}

static const struct net_chan_def chan_defs[CH_N] = {
	[CH_CONTROL] = { .name = "control", .type = NET_CHAN_STREAM, .sid = 0, .before_session = true,
			 .on_msg = ch_control },
	[CH_COMMANDS] = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 4, .on_msg = ch_commands },
	[CH_HEARTBEAT] = { .name = "heartbeat", .type = NET_CHAN_DGRAM,
			   .dgram_kind = { PROTO_SESS_DG_PING, PROTO_SESS_DG_PONG }, .on_msg = ch_heartbeat },
};

/* ---- the host's sessions -------------------------------------------------------- */

/* Members connected on live host connections, other than key. */
static unsigned op_peers(void *u, void *sess, const uint8_t key[32])
{
	(void)u;
	(void)sess;
	unsigned n = 0;
	for (unsigned i = 0; i < W.n_eps; i++) {
		struct ep *e = W.eps[i];
		n += e->incoming && e->sl && net_sl_active(e->sl) && live(e) && memcmp(e->sl->key, key, 32);
	}
	return n;
}

static int op_admit(void *u, void *sess, const uint8_t key[32], uint8_t role, const uint8_t *nonce, uint32_t *peer_id)
{
	struct reg *r = u;
	(void)sess;
	for (unsigned i = 0; i < r->n_m; i++)
		if (!memcmp(r->m[i].key, key, 32)) {
			*peer_id = r->m[i].peer_id;
			return 0;
		}
	if (r->n_m == 8 || (nonce && r->n_nonces == 8))
		return -ENOSPC;
	memcpy(r->m[r->n_m].key, key, 32);
	r->m[r->n_m].role = role;
	r->m[r->n_m].peer_id = *peer_id = ++r->next_peer;
	r->n_m++;
	if (nonce)
		memcpy(r->nonces[r->n_nonces++], nonce, 16);
	return 0;
}

static const char *op_name(void *u, void *sess)
{
	(void)u;
	(void)sess;
	return "studio";
}

static const struct net_sl_host_ops host_ops = {
	.session = op_session, .member = op_member, .nonce_used = op_nonce_used,
	.peers = op_peers, .admit = op_admit, .name = op_name,
};

/* ---- the logs: SYNC from what the joiner holds, ENTRIES from the host's ------------ */

static void on_sync_due(struct ep *e)
{
	if (e->incoming)
		return;
	struct proto_sess_sync_head h = { .seq = W.jhas };
	memcpy(h.key, W.author.kp.pk, 32);
	memcpy(h.hash, W.jchain.head, sizeof(h.hash));
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	if (proto_sess_sync_encode(&w, &h, W.jhas ? 1 : 0) == 0)
		ep_send(e, CH_COMMANDS, w.data, w.len);
	else
		glue_fail("cannot encode a SYNC");
	th_wbuf_fini(&w);
}

/* The host answers a SYNC with what it lacks: a group of GROUP entries
 * (signed on its last) across messages of PER_MSG, MORE until the group's
 * last message, the way the catch-up engine keeps a group together. */
static void on_sync(struct ep *e, const struct proto_sess_sync *v)
{
	if (!e->incoming)
		return;
	uint64_t have = 0;
	if (v->n) {
		struct proto_sess_sync_head h;
		proto_sess_sync_item(v, 0, &h);
		have = h.seq;
		if (memcmp(h.key, W.author.kp.pk, 32) || have > W.host_entries ||
		    memcmp(h.hash, W.log_hash[have - 1], TH_LOGREC_HASH_LEN))
			W.sync_hash_bad = true;
	}
	if (W.syncs_at_host < SYNCS_MAX)
		W.sync_have[W.syncs_at_host++] = have;
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	for (uint64_t s = have + 1; s <= W.host_entries;) {
		uint64_t group_end = ((s - 1) / GROUP + 1) * GROUP;
		if (group_end > W.host_entries)
			group_end = W.host_entries;
		uint64_t last = s + PER_MSG - 1 < group_end ? s + PER_MSG - 1 : group_end;
		struct proto_sess_entries_build b;
		th_wbuf_reset(&w);
		int r = proto_sess_entries_begin(&b, &w, last < group_end ? PROTO_SESS_ENTRIES_F_MORE : 0);
		for (; r == 0 && s <= last; s++)
			r = proto_sess_entries_add(&b, &W.log[s - 1]);
		if (r == 0)
			r = proto_sess_entries_end(&b);
		if (r < 0) {
			glue_fail("cannot build ENTRIES");
			break;
		}
		ep_send(e, CH_COMMANDS, w.data, w.len);
	}
	th_wbuf_fini(&w);
}

/* The joiner takes a group: each entry must follow its author's chain, the
 * last (only) carries the signature, which verifies. Entries it holds
 * already (an answer to a SYNC sent while the last was in flight) are
 * skipped, as the log would. */
static void on_entries(const uint8_t *recs, size_t len, uint32_t count)
{
	if (W.n_groups == GROUPS_MAX) {
		glue_fail("more groups than the test expects");
		return;
	}
	unsigned g = W.n_groups++;
	W.group_len[g] = count;
	struct proto_sess_entries all = { .count = 0, .recs = recs, .recs_len = len };
	struct proto_sess_entries_iter it;
	struct th_logrec_entry e;
	uint32_t i = 0;
	proto_sess_entries_iter_init(&it, &all);
	while (proto_sess_entries_next(&it, &e) == 1) {
		i++;
		bool last = i == count;
		if (e.has_sig && !last)
			W.group_signed_inside[g] = true;
		if (last)
			W.group_signed_last[g] = e.has_sig;
		if (e.seq <= W.jhas)
			continue;
		uint8_t h[TH_LOGREC_HASH_LEN];
		if (th_logrec_chain_check(&W.jchain, &e) != 0 || th_logrec_entry_hash(&e, h) < 0 ||
		    (e.has_sig && th_logrec_verify(h, e.author, e.sig) < 0)) {
			W.bad_entries++;
			continue;
		}
		th_logrec_chain_advance(&W.jchain, &e, h);
		W.jhas = e.seq;
	}
	if (i != count)
		W.bad_entries++;
}

/* ---- QUIC callbacks (the daemon's net_link_server_cb, in small) ------------------ */

static struct ep *ep_new(struct node *n, bool incoming)
{
	if (W.n_eps == EPS_MAX)
		return NULL;
	struct ep *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->n = n;
	e->incoming = incoming;
	for (unsigned i = 0; i < CH_N; i++)
		net_chan_init(&e->ch[i], &g_chans, i);
	W.eps[W.n_eps++] = e;
	return e;
}

static void cb_handshake_done(struct net_quic *q, uint64_t now, void *ud)
{
	struct ep *e = ud;
	uint8_t binding[NET_QUIC_CHANNEL_BINDING_LEN];
	if (!e || !e->sl)
		return;
	if (net_quic_channel_binding(q, binding) < 0) {
		glue_fail("no channel binding after the handshake");
		return;
	}
	net_sl_on_handshake(e->sl, binding, now);
	ep_run(e, now);
}

static void cb_stream_open(struct net_quic *q, int64_t sid, uint64_t now, void *ud)
{
	struct ep *e = ud;
	(void)now;
	int i = net_chans_by_sid(&g_chans, sid);
	if (!e || !e->incoming || i < 0) {
		net_quic_stream_reset(q, sid, PROTO_SESS_ERR_PROTOCOL);
		return;
	}
	e->ch[i].opened = true;
	ep_push(e);
}

static void cb_stream_data(struct net_quic *q, int64_t sid, const uint8_t *d, size_t len, bool fin, uint64_t now,
			   void *ud)
{
	struct ep *e = ud;
	(void)q;
	(void)fin;
	int i = net_chans_by_sid(&g_chans, sid);
	if (!e || !e->sl || i < 0)
		return;
	if (e->incoming && !e->ch[i].opened) {
		e->ch[i].opened = true;
		ep_push(e);
	}
	net_sl_on_rx(e->sl, now);
	if (net_chan_feed_stream(&e->ch[i], d, len, e->incoming, e, now) == -EMSGSIZE)
		glue_fail("a frame over the channel's size");
}

static void cb_datagram(struct net_quic *q, const uint8_t *d, size_t len, uint64_t now, void *ud)
{
	struct ep *e = ud;
	(void)q;
	if (!e || !e->sl || !len)
		return;
	net_sl_on_rx(e->sl, now);
	int i = net_chans_by_dgram(&g_chans, d[0]);
	if (i >= 0)
		net_chan_feed_dgram(&e->ch[i], d, len, e->incoming, e, now);
}

static void cb_ended(struct net_quic *q, const struct net_quic_end_info *info, uint64_t now, void *ud)
{
	struct ep *e = ud;
	(void)q;
	if (!e)
		return;
	e->ended = true;
	e->end = *info;
	bool app = info->kind == NET_QUIC_END_REMOTE_APP || info->kind == NET_QUIC_END_LOCAL_APP;
	if (e->sl) {
		net_sl_on_ended(e->sl, app ? info->code : e->close_code);
		ep_run(e, now);
	}
}

static void cb_conn_new(struct net_server *srv, struct net_quic *q, uint64_t now, void *ud)
{
	(void)srv;
	struct ep *e = ep_new(ud, true);
	net_quic_set_user(q, e);
	if (!e) {
		glue_fail("more connections than the test holds");
		net_quic_close(q, PROTO_SESS_ERR_FULL, NULL, now);
		return;
	}
	e->q = q;
	struct net_sl_config c = {
		.side = NET_SL_HOST, .pk = W.host_pk, .sk = W.host_sk, .schema_hash = proto_sess_handshake_hash(),
		.caps = PROTO_SESS_CAP_DATAGRAMS, .wall_offset_ns = WALL_OFFSET, .max_peers = W.max_peers,
		.host = &host_ops, .host_user = &W.reg,
	};
	if (net_sl_create(&c, now, &e->sl) < 0)
		glue_fail("cannot create the host's session layer");
}

static void cb_conn_gone(struct net_server *srv, struct net_quic *q, uint64_t now, void *ud)
{
	(void)srv;
	(void)q;
	(void)now;
	struct ep *e = ud;
	if (e)
		e->q = NULL;
}

static const struct net_server_callbacks srv_cb = {
	.quic = {
		.handshake_done = cb_handshake_done,
		.stream_open = cb_stream_open,
		.stream_data = cb_stream_data,
		.datagram = cb_datagram,
		.ended = cb_ended,
	},
	.conn_new = cb_conn_new,
	.conn_gone = cb_conn_gone,
};

/* ---- nodes in the simulation ------------------------------------------------------- */

/* Timers of the node's session layers, and queued bytes the streams take now. */
static void node_service(struct node *n, uint64_t now)
{
	for (unsigned i = 0; i < W.n_eps; i++) {
		struct ep *e = W.eps[i];
		if (e->n != n)
			continue;
		if (e->sl && net_sl_next_expiry(e->sl) <= now) {
			net_sl_on_timer(e->sl, now);
			ep_run(e, now);
		}
		ep_push(e);
	}
}

static int n_produce(void *self, uint64_t now, uint8_t *buf, size_t cap, size_t *len, struct sockaddr_storage *to,
		     socklen_t *tl)
{
	struct node *n = self;
	size_t seg;
	node_service(n, now);
	return net_server_produce(n->srv, now, buf, cap, 1, len, &seg, to, tl);
}

static void n_feed(void *self, const uint8_t *pkt, size_t len, const struct sockaddr *from, socklen_t fl,
		   uint64_t now)
{
	struct node *n = self;
	net_server_feed(n->srv, pkt, len, from, fl, now);
}

static uint64_t n_next(void *self)
{
	struct node *n = self;
	uint64_t t = net_server_next_expiry(n->srv);
	for (unsigned i = 0; i < W.n_eps; i++) {
		struct ep *e = W.eps[i];
		uint64_t x;
		if (e->n == n && e->sl && (x = net_sl_next_expiry(e->sl)) < t)
			t = x;
	}
	return t;
}

static void node_init(struct node *n, uint8_t host, uint16_t port, uint64_t seed)
{
	sim_addr(&n->node.addr, host, port);
	n->node.self = n;
	n->node.produce = n_produce;
	n->node.feed = n_feed;
	n->node.next = n_next;
	assert_int_equal(net_cert_generate(&n->cert), 0);
	struct net_server_config sc = { .quic = { .initial_rtt_ns = 50 * MS } };
	assert_int_equal(net_server_create(&sc, n->cert->cred, &srv_cb, n, (const struct sockaddr *)&n->node.addr,
					   sizeof(n->node.addr), &n->srv),
			 0);
	struct net_impair_config imp = imp_base;
	imp.seed = seed;
	sim_add(&W.sim, &n->node, &imp);
}

static bool run_until(bool (*done)(void *), uint64_t limit_ns)
{
	return sim_run(&W.sim, done, NULL, limit_ns);
}

/* Lets `ns` of simulated time pass. */
static void advance(uint64_t ns)
{
	sim_run(&W.sim, NULL, NULL, ns);
}

static void partition(bool on)
{
	net_impair_set_partition(W.host.node.out, on);
	net_impair_set_partition(W.joiner.node.out, on);
}

/* ---- joining --------------------------------------------------------------------- */

struct join_opts {
	uint8_t seed;          /* the joiner daemon's identity */
	uint16_t version;
	uint64_t schema_xor;
	bool bad_sig;
	const uint8_t *token;  /* NULL: an editor invite, no expiry, reusable */
	size_t token_len;
};

static uint8_t g_tok[PROTO_INVITE_TOKEN_LEN];

static void make_token(uint8_t tok[PROTO_INVITE_TOKEN_LEN], unsigned role, uint64_t expiry_s, bool single,
		       const uint8_t *sk)
{
	struct proto_invite_token t;
	assert_int_equal(proto_invite_token_make(W.reg.id, role, expiry_s, single, sk ? sk : W.host_sk, tok, &t), 0);
}

/* A joiner connection to the host (a new QUIC connection, HELLO after its handshake). */
static struct ep *join(struct join_opts o)
{
	if (!o.token) {
		make_token(g_tok, PROTO_SESS_ROLE_EDITOR, 0, false, NULL);
		o.token = g_tok;
		o.token_len = sizeof(g_tok);
	}
	struct ep *j = ep_new(&W.joiner, false);
	assert_non_null(j);
	uint8_t seed[32] = { o.seed ? o.seed : 1 };
	crypto_sign_seed_keypair(j->pk, j->sk, seed);
	struct net_sl_config c = {
		.side = NET_SL_JOINER, .pk = j->pk, .sk = j->sk, .schema_hash = proto_sess_handshake_hash() ^ o.schema_xor,
		.version = o.version, .caps = PROTO_SESS_CAP_DATAGRAMS, .token = o.token, .token_len = o.token_len,
		.test_bad_sig = o.bad_sig,
	};
	memcpy(c.session_id, W.reg.id, PROTO_SESS_ID_LEN);
	randombytes_buf(c.nonce, sizeof(c.nonce));
	assert_int_equal(net_sl_create(&c, W.sim.now, &j->sl), 0);
	assert_int_equal(net_server_connect(W.joiner.srv, W.host.cert->fp, (const struct sockaddr *)&W.host.node.addr,
					    sizeof(W.host.node.addr), j, W.sim.now, &j->q),
			 0);
	return j;
}

static const struct net_sl_action *find_ev(const struct ep *e, enum net_sl_event ev)
{
	for (unsigned i = 0; i < e->n_ev; i++)
		if (e->ev[i].kind == NET_SL_A_EVENT && e->ev[i].ev == ev)
			return &e->ev[i];
	return NULL;
}

static unsigned count_ev(const struct ep *e, enum net_sl_event ev)
{
	unsigned n = 0;
	for (unsigned i = 0; i < e->n_ev; i++)
		n += e->ev[i].kind == NET_SL_A_EVENT && e->ev[i].ev == ev;
	return n;
}

/* The host side of joiner connection j: the incoming connection with the
 * same TLS channel binding (both session layers hold it after the handshake). */
static struct ep *host_side_of(const struct ep *j)
{
	for (unsigned i = 0; i < W.n_eps; i++) {
		struct ep *e = W.eps[i];
		if (e->incoming && e->sl && e->sl->st != NET_SL_S_HANDSHAKE &&
		    !memcmp(e->sl->binding, j->sl->binding, sizeof(e->sl->binding)))
			return e;
	}
	return NULL;
}

static struct ep *g_j; /* the joiner connection a condition looks at */

static bool joined(void *ud)
{
	(void)ud;
	return find_ev(g_j, NET_SL_EV_JOINED) != NULL;
}

static bool j_ended(void *ud)
{
	(void)ud;
	return g_j->ended;
}

static uint64_t g_want; /* entries the joiner should hold */

static bool caught_up(void *ud)
{
	(void)ud;
	return W.jhas >= g_want;
}

static bool first_group(void *ud)
{
	(void)ud;
	return W.n_groups > 0;
}

static bool both_lost(void *ud)
{
	(void)ud;
	struct ep *h = host_side_of(g_j);
	return find_ev(g_j, NET_SL_EV_LOST) && h && find_ev(h, NET_SL_EV_LOST);
}

static bool (*g_done)(void *);

static bool done_or_ended(void *ud)
{
	return g_done(ud) || g_j->ended;
}

/* The daemon's join loop in small (net_link_join.c): the member's current
 * connection g_j runs until done(); one that ends first (a handshake that
 * timed out under loss, a peer declared lost) is replaced by a new
 * connection with the same identity and invite, at most JOIN_ATTEMPTS.
 * true when done() held within limit_ns of simulated time. */
static bool member_run(struct join_opts o, bool (*done)(void *), uint64_t limit_ns)
{
	uint64_t end = W.sim.now + limit_ns;
	unsigned attempts = 0;
	while (W.sim.now < end) {
		if (!g_j || g_j->ended) {
			if (attempts++ == JOIN_ATTEMPTS)
				return false;
			g_j = join(o);
		}
		g_done = done;
		run_until(done_or_ended, end - W.sim.now);
		if (done(NULL))
			return true;
	}
	return false;
}

/* A new member connection, admitted under the impairment within 30 s of
 * simulated time. */
static struct ep *join_and_wait(struct join_opts o)
{
	g_j = NULL;
	assert_true(member_run(o, joined, 30 * S));
	return g_j;
}

/* A connection end that carries no code: nothing reached the joiner. */
static bool end_without_code(const struct ep *j)
{
	return j->end.kind == NET_QUIC_END_IDLE || j->end.kind == NET_QUIC_END_STATELESS_RESET ||
	       j->end.kind == NET_QUIC_END_HANDSHAKE_TIMEOUT;
}

/* The refusal reached the joiner as the QUIC close of the host with its
 * code; the host decided it once per connection with that code; nothing was
 * admitted. Under loss a connection can end before the host decided (the
 * handshake timed out), or after it without the code: a CONNECTION_CLOSE
 * is repeated only while the host's closing period lasts, and can miss the
 * joiner, whose connection then idles out. The daemon's join loop tries
 * again, and so does this, at most JOIN_ATTEMPTS times. */
static void assert_refused(struct join_opts o, uint64_t code)
{
	for (unsigned k = 0;; k++) {
		assert_true(k < JOIN_ATTEMPTS);
		g_j = join(o);
		assert_true(run_until(j_ended, 15 * S));
		assert_null(find_ev(g_j, NET_SL_EV_JOINED));
		assert_false(net_sl_active(g_j->sl));
		struct ep *h = host_side_of(g_j);
		const struct net_sl_action *r = h ? find_ev(h, NET_SL_EV_REFUSED) : NULL;
		if (!r) {
			assert_true(end_without_code(g_j));
			continue;
		}
		assert_int_equal(r->code, code);
		assert_int_equal(count_ev(h, NET_SL_EV_REFUSED), 1);
		assert_null(find_ev(h, NET_SL_EV_ADMITTED));
		assert_null(find_ev(h, NET_SL_EV_GONE)); /* never a member on this connection */
		assert_int_equal(h->close_code, code);
		if (g_j->end.kind == NET_QUIC_END_REMOTE_APP) {
			assert_int_equal(g_j->end.code, code);
			return;
		}
		assert_true(end_without_code(g_j));
	}
}

/* ---- fixtures ---------------------------------------------------------------------- */

/* *state: the test's impairment seed (the same on every run), offset by
 * THETA_SL_QUIC_SEEDS when set (to sweep over other seeds). */
static int setup(void **state)
{
	const char *off = getenv("THETA_SL_QUIC_SEEDS");
	uint64_t imp_seed = (uintptr_t)*state + (off ? strtoull(off, NULL, 10) : 0);
	memset(&W, 0, sizeof(W));
	sim_init(&W.sim);
	W.reg.has_session = true;
	memset(W.reg.id, 0xab, sizeof(W.reg.id));
	uint8_t seed[32] = { 0x11 };
	crypto_sign_seed_keypair(W.host_pk, W.host_sk, seed);
	W.max_peers = 4;
	node_init(&W.host, 1, HOST_PORT, 2 * imp_seed);
	node_init(&W.joiner, 2, JOINER_PORT, 2 * imp_seed + 1);
	lt_author_init(&W.author, 0x5a);
	for (unsigned i = 0; i < LOG_MAX; i++)
		lt_entry(&W.author, i + 1, 9, g_payload, sizeof(g_payload), (i + 1) % GROUP == 0, &W.log[i], W.log_hash[i]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	net_server_destroy(&W.host.srv);
	net_server_destroy(&W.joiner.srv);
	for (unsigned i = 0; i < W.n_eps; i++) {
		net_sl_destroy(&W.eps[i]->sl);
		for (unsigned k = 0; k < CH_N; k++)
			net_chan_fini(&W.eps[i]->ch[k]);
		free(W.eps[i]);
	}
	sim_fini(&W.sim);
	net_cert_destroy(&W.host.cert);
	net_cert_destroy(&W.joiner.cert);
	return 0;
}

static void assert_glue_clean(void)
{
	if (W.glue_err)
		print_error("glue: %s\n", W.glue_what);
	assert_int_equal(W.glue_err, 0);
}

/* Every group as one event of GROUP entries, signed on its last only. */
static void assert_whole_groups(unsigned from, unsigned n)
{
	for (unsigned g = from; g < from + n; g++) {
		assert_int_equal(W.group_len[g], GROUP);
		assert_true(W.group_signed_last[g]);
		assert_false(W.group_signed_inside[g]);
	}
	assert_int_equal(W.bad_entries, 0);
}

/* ---- tests --------------------------------------------------------------------------- */

static void a_join_over_quic_under_loss_is_acknowledged_with_the_role_on_both_sides(void **state)
{
	(void)state;
	struct ep *j = join_and_wait((struct join_opts){ 0 });
	struct ep *h = host_side_of(j);
	const struct net_sl_action *ad = find_ev(h, NET_SL_EV_ADMITTED), *jd = find_ev(j, NET_SL_EV_JOINED);
	assert_non_null(ad);
	assert_non_null(jd);
	assert_int_equal(ad->msg.u.ack.role, PROTO_SESS_ROLE_EDITOR);
	assert_int_equal(jd->msg.u.ack.role, PROTO_SESS_ROLE_EDITOR);
	assert_int_equal(h->sl->role, PROTO_SESS_ROLE_EDITOR);
	assert_int_equal(j->sl->role, PROTO_SESS_ROLE_EDITOR);
	assert_int_equal(jd->msg.u.ack.peer_id, ad->msg.u.ack.peer_id);
	assert_int_equal(j->sl->peer_id, h->sl->peer_id);
	assert_memory_equal(jd->msg.u.ack.host_key, W.host_pk, 32);
	assert_memory_equal(h->sl->key, j->pk, 32);
	assert_string_equal(jd->msg.u.ack.name, "studio");
	assert_true(j->sl->caps & PROTO_SESS_CAP_DATAGRAMS);
	/* Both channels' bytes went over QUIC, the joiner's SYNC reached the host. */
	advance(2 * S);
	assert_int_equal(W.syncs_at_host, 1);
	assert_int_equal(W.sync_have[0], 0);
	assert_true(h->ch[CH_CONTROL].st[NET_CHAN_MSGS_IN] >= 1);
	assert_true(h->ch[CH_COMMANDS].st[NET_CHAN_MSGS_IN] >= 1);
	struct net_impair_stats a, b;
	net_impair_get_stats(W.joiner.node.out, &a);
	net_impair_get_stats(W.host.node.out, &b);
	assert_true(a.dropped_loss + a.duplicated + a.reordered + b.dropped_loss + b.duplicated + b.reordered > 0);
	assert_int_equal(h->close_code + j->close_code, 0);
	assert_glue_clean();
}

static void each_refusal_reaches_the_joiner_as_its_code(void **state)
{
	(void)state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	/* A token another host signed. */
	uint8_t opk[32], osk[64], oseed[32] = { 0x77 };
	crypto_sign_seed_keypair(opk, osk, oseed);
	make_token(tok, PROTO_SESS_ROLE_EDITOR, 0, false, osk);
	assert_refused((struct join_opts){ .seed = 1, .token = tok, .token_len = sizeof(tok) },
		       PROTO_SESS_ERR_BAD_TOKEN);
	/* A protocol version the host does not speak; another schema. */
	assert_refused((struct join_opts){ .seed = 1, .version = PROTO_SESS_VERSION + 1 }, PROTO_SESS_ERR_VERSION);
	assert_refused((struct join_opts){ .seed = 1, .schema_xor = 1 }, PROTO_SESS_ERR_SCHEMA);
	/* A HELLO whose signature does not verify. */
	assert_refused((struct join_opts){ .seed = 1, .bad_sig = true }, PROTO_SESS_ERR_BAD_SIGNATURE);
	/* An invite that expired a second ago (simulated wall clock). */
	uint64_t now_s = (W.sim.now + WALL_OFFSET) / S;
	make_token(tok, PROTO_SESS_ROLE_EDITOR, now_s - 1, false, NULL);
	assert_refused((struct join_opts){ .seed = 1, .token = tok, .token_len = sizeof(tok) },
		       PROTO_SESS_ERR_TOKEN_EXPIRED);
	/* A single-use invite: daemon 2 joins with it, daemon 3 may not. */
	make_token(tok, PROTO_SESS_ROLE_VIEWER, 0, true, NULL);
	struct ep *two = join_and_wait((struct join_opts){ .seed = 2, .token = tok, .token_len = sizeof(tok) });
	assert_int_equal(two->sl->role, PROTO_SESS_ROLE_VIEWER);
	assert_refused((struct join_opts){ .seed = 3, .token = tok, .token_len = sizeof(tok) },
		       PROTO_SESS_ERR_TOKEN_REUSED);
	/* Full: one connected member at most; daemon 2 is connected. */
	W.max_peers = 1;
	assert_refused((struct join_opts){ .seed = 4 }, PROTO_SESS_ERR_FULL);
	assert_true(net_sl_active(two->sl));
	/* No such session. */
	W.reg.has_session = false;
	assert_refused((struct join_opts){ .seed = 1 }, PROTO_SESS_ERR_NO_SESSION);
	/* None of the refused daemons became a member. */
	assert_int_equal(W.reg.n_m, 1);
	assert_glue_clean();
}

static void a_kicked_member_learns_it_and_is_refused_when_it_comes_back(void **state)
{
	(void)state;
	struct ep *j = join_and_wait((struct join_opts){ .seed = 5 });
	struct ep *h = host_side_of(j);
	W.reg.m[0].kicked = true;
	net_sl_kick(h->sl);
	ep_run(h, W.sim.now);
	assert_true(run_until(j_ended, 15 * S));
	assert_int_equal(h->close_code, PROTO_SESS_ERR_KICKED);
	const struct net_sl_action *gone = find_ev(h, NET_SL_EV_GONE);
	assert_non_null(gone);
	assert_int_equal(gone->code, PROTO_SESS_ERR_KICKED);
	assert_int_equal(count_ev(h, NET_SL_EV_GONE), 1);
	/* The close carries KICKED, unless it was lost (see assert_refused):
	 * then the refusal below tells it. */
	if (j->end.kind == NET_QUIC_END_REMOTE_APP)
		assert_int_equal(j->end.code, PROTO_SESS_ERR_KICKED);
	else
		assert_true(end_without_code(j));
	assert_false(net_sl_active(j->sl));
	assert_refused((struct join_opts){ .seed = 5 }, PROTO_SESS_ERR_KICKED);
	assert_glue_clean();
}

static bool role_seen(void *ud)
{
	(void)ud;
	return find_ev(g_j, NET_SL_EV_ROLE) && find_ev(g_j, NET_SL_EV_MEMBER_JOIN);
}

static void a_role_change_and_the_roster_reach_the_member(void **state)
{
	(void)state;
	struct ep *j = join_and_wait((struct join_opts){ .seed = 6 });
	struct ep *h = host_side_of(j);
	struct proto_sess_msg m = { .type = PROTO_SESS_T_MEMBER_JOIN };
	m.u.join.peer_id = 42;
	m.u.join.role = PROTO_SESS_ROLE_VIEWER;
	net_sl_send_msg(h->sl, NET_SL_CONTROL, &m);
	W.reg.m[0].role = PROTO_SESS_ROLE_ADMIN;
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ROLE };
	m.u.role.peer_id = h->sl->peer_id;
	m.u.role.role = PROTO_SESS_ROLE_ADMIN;
	net_sl_send_msg(h->sl, NET_SL_CONTROL, &m);
	ep_run(h, W.sim.now);
	assert_true(run_until(role_seen, 5 * S));
	const struct net_sl_action *mj = find_ev(j, NET_SL_EV_MEMBER_JOIN), *ro = find_ev(j, NET_SL_EV_ROLE);
	assert_int_equal(mj->msg.u.join.peer_id, 42);
	assert_int_equal(ro->msg.u.role.peer_id, j->sl->peer_id);
	assert_int_equal(ro->msg.u.role.role, PROTO_SESS_ROLE_ADMIN);
	assert_int_equal(j->sl->role, PROTO_SESS_ROLE_ADMIN);
	/* In order on the control stream: the roster first, as sent. */
	assert_true(mj < ro);
	assert_int_equal(h->close_code + j->close_code, 0);
	assert_glue_clean();
}

static bool sync_named(unsigned from, uint64_t seq)
{
	for (unsigned i = from; i < W.syncs_at_host && i < SYNCS_MAX; i++)
		if (W.sync_have[i] == seq)
			return true;
	return false;
}

static void a_catch_up_arrives_as_whole_signature_groups_across_a_short_partition(void **state)
{
	(void)state;
	const struct join_opts o = { .seed = 7 };
	W.host_entries = 500;
	g_want = 500;
	join_and_wait(o);
	/* Once the first group is in, a partition shorter than the heartbeat's
	 * lost_after: QUIC carries the rest over it (or, when its backoff keeps
	 * both sides silent past lost_after, the member reconnects and resumes). */
	assert_true(member_run(o, first_group, 30 * S));
	partition(true);
	advance(1 * S);
	partition(false);
	struct net_impair_stats st;
	net_impair_get_stats(W.host.node.out, &st);
	assert_true(st.dropped_partition > 0);
	assert_true(member_run(o, caught_up, 30 * S));
	/* The first SYNC held nothing; 500 entries as 5 groups of 100, each
	 * one event, chained, signed on its last entry only (a group cut by a
	 * reconnect is never handed over, and comes again whole). */
	assert_int_equal(W.sync_have[0], 0);
	assert_true(W.n_groups >= 5);
	assert_whole_groups(0, W.n_groups);
	assert_int_equal(W.jhas, 500);
	assert_memory_equal(W.jchain.head, W.log_hash[499], TH_LOGREC_HASH_LEN);
	/* The next round names what the joiner holds; the host finds its own
	 * head hash there and sends the two groups made since. */
	unsigned s0 = W.syncs_at_host, g0 = W.n_groups;
	W.host_entries = 700;
	g_want = 700;
	assert_true(member_run(o, caught_up, NET_SL_SYNC_INTERVAL_NS + 30 * S));
	assert_true(sync_named(s0, 500));
	assert_false(W.sync_hash_bad);
	assert_true(W.n_groups - g0 >= 2);
	assert_whole_groups(g0, W.n_groups - g0);
	assert_memory_equal(W.jchain.head, W.log_hash[699], TH_LOGREC_HASH_LEN);
	assert_glue_clean();
}

static void a_long_partition_loses_the_peer_on_both_sides_then_the_joiner_reconnects_and_resumes(void **state)
{
	(void)state;
	const struct join_opts o = { .seed = 8 };
	W.host_entries = 300;
	g_want = 300;
	join_and_wait(o);
	assert_true(member_run(o, caught_up, 30 * S));
	struct ep *j = g_j, *h = host_side_of(j);
	uint32_t peer = h->sl->peer_id;
	/* 10 s of heartbeats under the impairment: nobody is lost. */
	advance(10 * S);
	assert_null(find_ev(j, NET_SL_EV_LOST));
	assert_null(find_ev(h, NET_SL_EV_LOST));
	assert_true(h->sl->hb.samples > 10 && j->sl->hb.samples > 10);
	assert_true(h->ch[CH_HEARTBEAT].st[NET_CHAN_MSGS_IN] > 20);
	/* A partition past lost_after (3 s) and shorter than QUIC's idle
	 * timeout: each session layer declares its peer lost, lost_after after
	 * the last datagram it heard. */
	uint64_t tp = W.sim.now;
	partition(true);
	assert_true(run_until(both_lost, NET_HB_LOST_DEFAULT_NS + 2 * S));
	for (int side = 0; side < 2; side++) {
		struct ep *e = side ? h : j;
		assert_true(e->lost_at - tp + 500 * MS >= NET_HB_LOST_DEFAULT_NS);
		assert_true(e->lost_at - tp <= NET_HB_LOST_DEFAULT_NS + 1 * S);
		assert_int_equal(e->close_code, PROTO_SESS_ERR_LEFT);
		assert_false(net_sl_active(e->sl));
	}
	/* The host's side reports the member gone, once. */
	assert_int_equal(count_ev(h, NET_SL_EV_GONE), 1);
	/* Meanwhile the host's log grew by 400 entries. */
	W.host_entries = 700;
	g_want = 700;
	advance(2 * S);
	partition(false);
	/* Healed: a new connection as the same member, resuming from what it
	 * holds: only the 400 new entries, as whole groups. */
	unsigned s0 = W.syncs_at_host, g0 = W.n_groups;
	assert_true(member_run(o, caught_up, 40 * S));
	struct ep *j2 = g_j, *h2 = host_side_of(j2);
	assert_true(j2 != j);
	assert_non_null(h2);
	assert_true(h2 != h);
	assert_int_equal(j2->sl->peer_id, peer);
	assert_int_equal(h2->sl->peer_id, peer);
	assert_int_equal(W.reg.n_m, 1);
	assert_true(sync_named(s0, 300));
	assert_false(W.sync_hash_bad);
	assert_true(W.n_groups - g0 >= 4);
	assert_whole_groups(g0, W.n_groups - g0);
	assert_int_equal(W.jhas, 700);
	assert_memory_equal(W.jchain.head, W.log_hash[699], TH_LOGREC_HASH_LEN);
	assert_glue_clean();
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	memset(g_payload, 'p', sizeof(g_payload));
	for (unsigned i = 0; i < CH_N; i++)
		if (net_chans_register(&g_chans, &chan_defs[i]) != (int)i)
			return 1;
	const struct CMUnitTest tests[] = {
#define T(f, seed) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)(uintptr_t)(seed))
		T(a_join_over_quic_under_loss_is_acknowledged_with_the_role_on_both_sides, 501),
		T(each_refusal_reaches_the_joiner_as_its_code, 502),
		T(a_kicked_member_learns_it_and_is_refused_when_it_comes_back, 503),
		T(a_role_change_and_the_roster_reach_the_member, 504),
		T(a_catch_up_arrives_as_whole_signature_groups_across_a_short_partition, 505),
		T(a_long_partition_loses_the_peer_on_both_sides_then_the_joiner_reconnects_and_resumes, 506),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
