/* thetad/net/net_sl: the session layer as a state machine, a host and
 * joiners wired through a simulated link in simulated time (stream frames
 * in order after a delay; datagrams lost, duplicated and reordered, seeded;
 * partitions that hold stream frames until they heal and drop datagrams).
 * Join, every refusal, kick, role change, catch-up request and response,
 * lost peers, reconnect and resume; no clock, no socket. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "invite.h"
#include "net/net_chan.h"
#include "net/net_sl.h"
#include "session.h"
#include "sl_reg.h"
#include "th_cmd.h"
#include "th_logrec.h"
#include <sodium.h>

#define MS (1000ull * 1000)
#define S  (1000ull * MS)
#define T0 (1000 * S)
#define WALL_OFFSET (1700000000ull * S) /* the simulated wall clock at T0 - T0 */
#define SCHEMA 0x5eed5eedull
#define PKT_MAX 4096
#define EVS_MAX 256

/* ---- the host's sessions (what net_sl_host_ops answers) --------------------- */


/* ---- endpoints and the link ------------------------------------------------- */

struct ep {
	struct net_sl *sl;
	bool host, gone;
	uint8_t pk[32], sk[64];
	struct net_sl_action ev[EVS_MAX]; /* events and closes, in order (pointers not kept) */
	unsigned n_ev;
	uint64_t close_code, end_code; /* ours / what the peer's close said (0: none) */
	bool ended;
	struct ep *peer;
	uint64_t sync_due;
	uint32_t entries_in;
	uint64_t rtt_ok;
};

struct pkt {
	uint64_t at;
	struct ep *to;
	int kind; /* 0 frame, 1 datagram, 2 close */
	unsigned chan;
	uint64_t code;
	size_t len;
	uint8_t *data;
};

struct world {
	uint64_t now;
	struct pkt q[PKT_MAX];
	unsigned n_q;
	uint64_t delay;
	double loss, dup, reorder;
	uint32_t rnd;
	uint64_t heal_at; /* partitioned until then */
	uint64_t stream_tail[2];
	struct ep *eps[8];
	unsigned n_eps;
	struct reg reg;
	uint8_t host_pk[32], host_sk[64];
	uint64_t dgrams_sent, dgrams_lost;
	/* a timer of the test's own (the fake log's group commit) */
	void (*tick)(void);
	uint64_t tick_at;
};

static struct world W;

static double rnd01(struct world *w)
{
	w->rnd = w->rnd * 1103515245u + 12345u;
	return (double)(w->rnd >> 8) / (double)(1u << 24);
}

static void push(struct world *w, struct pkt p)
{
	assert_true(w->n_q < PKT_MAX);
	w->q[w->n_q++] = p;
}

static bool partitioned(struct world *w) { return w->now < w->heal_at; }

static void send_frame(struct world *w, struct ep *to, unsigned chan, const uint8_t *d, size_t n, int dir)
{
	uint64_t at = w->now + w->delay;
	if (partitioned(w) && at < w->heal_at)
		at = w->heal_at + w->delay; /* QUIC retransmits once the path is back */
	if (at < w->stream_tail[dir])
		at = w->stream_tail[dir];
	w->stream_tail[dir] = at;
	uint8_t *c = malloc(n);
	memcpy(c, d, n);
	push(w, (struct pkt){ .at = at, .to = to, .kind = 0, .chan = chan, .len = n, .data = c });
}

static void send_dgram(struct world *w, struct ep *to, const uint8_t *d, size_t n)
{
	w->dgrams_sent++;
	if (partitioned(w) || rnd01(w) < w->loss) {
		w->dgrams_lost++;
		return;
	}
	int copies = rnd01(w) < w->dup ? 2 : 1;
	for (int i = 0; i < copies; i++) {
		uint64_t at = w->now + w->delay + (rnd01(w) < w->reorder ? (uint64_t)(rnd01(w) * 20 * MS) : 0);
		uint8_t *c = malloc(n);
		memcpy(c, d, n);
		push(w, (struct pkt){ .at = at, .to = to, .kind = 1, .len = n, .data = c });
	}
}

static void record(struct ep *e, const struct net_sl_action *a)
{
	if (e->n_ev < EVS_MAX) {
		e->ev[e->n_ev] = *a;
		e->ev[e->n_ev].data = NULL;
		e->n_ev++;
	}
}

static unsigned count_ev(const struct ep *e, enum net_sl_event ev)
{
	unsigned n = 0;
	for (unsigned i = 0; i < e->n_ev; i++)
		n += e->ev[i].kind == NET_SL_A_EVENT && e->ev[i].ev == ev;
	return n;
}

static const struct net_sl_action *find_ev(const struct ep *e, enum net_sl_event ev)
{
	for (unsigned i = 0; i < e->n_ev; i++)
		if (e->ev[i].kind == NET_SL_A_EVENT && e->ev[i].ev == ev)
			return &e->ev[i];
	return NULL;
}

/* The glue's part in these tests: SYNC_DUE -> our SYNC; SYNC -> the
 * host's catch-up (ENTRIES); everything else is recorded. */
static void on_sync_due(struct ep *e);
static void on_sync(struct ep *e, const struct proto_sess_sync *v);

/* Backpressure (g_flow): the joiner's commands stream goes through a
 * net_chan as in net_link.c, and its entries into a fake log that, like
 * sess_module_integrate, answers -EAGAIN while a batch is written and the
 * group does not fit its queue. */
static bool g_flow;
static struct net_chan g_fch;
static struct net_chans g_fchans;
static size_t g_max_held;
static struct {
	uint32_t cap;            /* queued entries (in flight included) it takes */
	uint32_t pending, inflight;
	uint64_t batch_ns;       /* how long a group commit takes */
	uint64_t next_seq;       /* the seq the next entry must have: each once, in order */
	unsigned eagain, taken_groups;
} g_log;

static int log_take(const struct net_sl_action *a)
{
	if (g_log.inflight && g_log.pending + a->count > g_log.cap) {
		g_log.eagain++;
		return -EAGAIN;
	}
	struct proto_sess_entries all = { .count = 0, .recs = a->data, .recs_len = a->len };
	struct proto_sess_entries_iter it;
	struct th_logrec_entry en;
	uint32_t n = 0;
	proto_sess_entries_iter_init(&it, &all);
	while (proto_sess_entries_next(&it, &en) == 1) {
		assert_int_equal(en.seq, g_log.next_seq);
		g_log.next_seq++;
		n++;
	}
	assert_int_equal(n, a->count);
	g_log.pending += n;
	g_log.taken_groups++;
	if (!g_log.inflight) {
		g_log.inflight = g_log.pending;
		W.tick_at = W.now + g_log.batch_ns;
	}
	return 0;
}

static void drain(struct world *w, struct ep *e)
{
	struct net_sl_action a;
	while (e->sl && net_sl_poll(e->sl, &a) == 1) {
		int dir = e->host ? 1 : 0;
		switch (a.kind) {
		case NET_SL_A_SEND:
			assert_true(a.len >= 4);
			assert_int_equal(th_get_le32(a.data), a.len - 4);
			if (!e->gone)
				send_frame(w, e->peer, a.chan, a.data + 4, a.len - 4, dir);
			break;
		case NET_SL_A_DGRAM:
			if (!e->gone)
				send_dgram(w, e->peer, a.data, a.len);
			break;
		case NET_SL_A_CLOSE:
			e->close_code = a.code;
			record(e, &a);
			if (!partitioned(w))
				push(w, (struct pkt){ .at = w->now + w->delay, .to = e->peer, .kind = 2, .code = a.code });
			break;
		case NET_SL_A_LOG:
			break;
		case NET_SL_A_EVENT:
			record(e, &a);
			if (a.ev == NET_SL_EV_SYNC_DUE)
				on_sync_due(e);
			else if (a.ev == NET_SL_EV_SYNC)
				on_sync(e, &a.msg.u.sync);
			else if (a.ev == NET_SL_EV_ENTRIES && g_flow && !e->host) {
				if (net_sl_entries_waiting(e->sl) || log_take(&a) == -EAGAIN)
					assert_int_equal(net_sl_entries_wait(e->sl, &a), 0);
				else
					e->entries_in += a.count;
			} else if (a.ev == NET_SL_EV_ENTRIES)
				e->entries_in += a.count;
			break;
		}
	}
}

/* ---- host ops ------------------------------------------------------------------ */

static unsigned op_peers(void *u, void *sess, const uint8_t key[32])
{
	struct reg *r = u;
	unsigned n = 0;
	(void)sess;
	for (unsigned i = 0; i < r->w->n_eps; i++) {
		struct ep *e = r->w->eps[i];
		n += e->host && e->sl && net_sl_active(e->sl) && memcmp(e->sl->key, key, 32);
	}
	return n;
}

static int op_admit(void *u, void *sess, const uint8_t key[32], uint8_t role, const uint8_t *nonce, uint32_t *peer_id)
{
	struct reg *r = u;
	(void)sess;
	if (r->admit_err)
		return r->admit_err;
	for (unsigned i = 0; i < r->n_m; i++)
		if (!memcmp(r->m[i].key, key, 32)) {
			*peer_id = r->m[i].peer_id;
			return 0;
		}
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

/* ---- the log a side holds (for SYNC and catch-up) ------------------------------- */

static struct th_keypair g_author;
static uint8_t g_payload[64];

static void make_entry(struct th_logrec_entry *e, uint64_t seq, bool sign)
{
	memset(e, 0, sizeof(*e));
	e->version = TH_LOGREC_VERSION;
	e->type = TH_CMD_COMPONENT_WRITE;
	e->scope_kind = th_cmd_find(TH_CMD_COMPONENT_WRITE)->scope;
	e->scope_id = 9;
	e->lamport = seq;
	e->seq = seq;
	e->base = 1;
	memcpy(e->author, g_author.pk, 32);
	if (seq > 1)
		memset(e->prev, 0x33, 32);
	e->payload = g_payload;
	e->payload_len = sizeof(g_payload);
	if (sign) {
		uint8_t h[32];
		th_logrec_entry_hash(e, h);
		th_logrec_sign(h, g_author.sk, e->sig);
		e->has_sig = true;
	}
}

static uint64_t g_host_entries = 0; /* the host's log: author g_author seq 1..n */
static uint64_t g_group = 0;        /* signature groups of this many entries (0: one) */
static uint64_t g_joiner_has = 0;

static void on_sync_due(struct ep *e)
{
	e->sync_due++;
	struct proto_sess_sync_head h = { .seq = g_joiner_has };
	memcpy(h.key, g_author.pk, 32);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_sync_encode(&w, &h, g_joiner_has ? 1 : 0), 0);
	net_sl_send_bytes(e->sl, NET_SL_COMMANDS, w.data, w.len);
	th_wbuf_fini(&w);
}

/* The host sends what the vector lacks, 100 entries a message, MORE until
 * the last (signed) one: one signature group across messages (or one per
 * g_group entries). */
static void on_sync(struct ep *e, const struct proto_sess_sync *v)
{
	if (!e->host)
		return;
	uint64_t have = 0;
	if (v->n) {
		struct proto_sess_sync_head h;
		proto_sess_sync_item(v, 0, &h);
		have = h.seq;
	}
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	for (uint64_t s = have + 1; s <= g_host_entries;) {
		struct proto_sess_entries_build b;
		th_wbuf_reset(&w);
		uint64_t end = g_group ? ((s - 1) / g_group + 1) * g_group : g_host_entries;
		if (end > g_host_entries)
			end = g_host_entries;
		uint64_t last = s + 99 < end ? s + 99 : end;
		assert_int_equal(proto_sess_entries_begin(&b, &w, last < end ? PROTO_SESS_ENTRIES_F_MORE : 0), 0);
		for (; s <= last; s++) {
			struct th_logrec_entry en;
			make_entry(&en, s, s == end);
			assert_int_equal(proto_sess_entries_add(&b, &en), 0);
		}
		assert_int_equal(proto_sess_entries_end(&b), 0);
		net_sl_send_bytes(e->sl, NET_SL_COMMANDS, w.data, w.len);
	}
	th_wbuf_fini(&w);
}

/* ---- setting up --------------------------------------------------------------- */

static uint8_t g_binding[PROTO_SESS_BINDING_LEN];

static struct ep *ep_new(struct world *w, bool host)
{
	struct ep *e = calloc(1, sizeof(*e));
	e->host = host;
	w->eps[w->n_eps++] = e;
	return e;
}

static void make_token(uint8_t tok[PROTO_INVITE_TOKEN_LEN], unsigned role, uint64_t expiry_s, bool single,
		       const uint8_t *sk)
{
	struct proto_invite_token t;
	assert_int_equal(proto_invite_token_make(W.reg.id, role, expiry_s, single, sk ? sk : W.host_sk, tok, &t), 0);
}

struct joiner_opts {
	uint16_t version;
	uint64_t schema_xor;
	bool bad_sig;
	const uint8_t *token;
	size_t token_len;
	uint8_t seed;
	bool silent; /* nothing it sends arrives */
};

/* A joiner (identity from seed) and the host's side of its connection,
 * handshake done at W.now. */
static struct ep *connect_joiner(const struct joiner_opts *o, struct ep **host_side)
{
	struct ep *h = ep_new(&W, true), *j = ep_new(&W, false);
	h->peer = j;
	j->peer = h;
	memcpy(h->pk, W.host_pk, 32);
	uint8_t seed[32] = { o->seed ? o->seed : 1 };
	crypto_sign_seed_keypair(j->pk, j->sk, seed);
	struct net_sl_config hc = {
		.side = NET_SL_HOST, .pk = W.host_pk, .sk = W.host_sk, .schema_hash = SCHEMA,
		.caps = PROTO_SESS_CAP_DATAGRAMS, .wall_offset_ns = WALL_OFFSET, .max_peers = 2,
		.host = &host_ops, .host_user = &W.reg,
	};
	struct net_sl_config jc = {
		.side = NET_SL_JOINER, .pk = j->pk, .sk = j->sk, .schema_hash = SCHEMA ^ o->schema_xor,
		.version = o->version, .caps = PROTO_SESS_CAP_DATAGRAMS, .token = o->token, .token_len = o->token_len,
		.test_bad_sig = o->bad_sig,
	};
	memcpy(jc.session_id, W.reg.id, PROTO_SESS_ID_LEN);
	assert_int_equal(net_sl_create(&hc, W.now, &h->sl), 0);
	assert_int_equal(net_sl_create(&jc, W.now, &j->sl), 0);
	j->gone = o->silent;
	net_sl_on_handshake(h->sl, g_binding, W.now);
	net_sl_on_handshake(j->sl, g_binding, W.now);
	drain(&W, h);
	drain(&W, j);
	if (host_side)
		*host_side = h;
	return j;
}

/* net_link.c's on_commands: a group that waits pauses the channel. */
static int flow_on_msg(void *conn, const uint8_t *m, size_t len, uint64_t now)
{
	struct ep *e = conn;
	int r = net_sl_on_msg(e->sl, NET_SL_COMMANDS, m, len, now);
	drain(&W, e);
	if (r < 0)
		return r;
	return net_sl_entries_waiting(e->sl) ? -EAGAIN : 0;
}

/* The batch is durable: the log has room (the log_room hook); the glue
 * retries the waiting groups, then resumes the channel. */
static void log_batch_done(void)
{
	g_log.pending -= g_log.inflight;
	g_log.inflight = g_log.pending;
	W.tick_at = g_log.inflight ? W.now + g_log.batch_ns : UINT64_MAX;
	struct ep *j = W.eps[1];
	if (!j->sl || !net_sl_entries_waiting(j->sl))
		return;
	net_sl_entries_retry(j->sl);
	drain(&W, j);
	if (net_sl_entries_waiting(j->sl))
		return;
	size_t taken;
	assert_int_equal(net_chan_resume(&g_fch, 0, false, j, W.now, &taken), 0);
}

static void deliver(struct pkt *p)
{
	struct ep *e = p->to;
	if (!e->sl || e->gone)
		return;
	if (p->kind == 0 && g_flow && !e->host && p->chan == NET_SL_COMMANDS) {
		uint8_t *f = malloc(p->len + 4);
		th_put_le32(f, (uint32_t)p->len);
		memcpy(f + 4, p->data, p->len);
		assert_int_equal(net_chan_feed_stream(&g_fch, f, p->len + 4, false, e, W.now), 0);
		free(f);
		if (net_chan_held(&g_fch) > g_max_held)
			g_max_held = net_chan_held(&g_fch);
	} else if (p->kind == 0)
		net_sl_on_msg(e->sl, p->chan, p->data, p->len, W.now);
	else if (p->kind == 1)
		net_sl_on_dgram(e->sl, p->data, p->len, W.now);
	else {
		e->ended = true;
		e->end_code = p->code;
		net_sl_on_ended(e->sl, p->code);
	}
	drain(&W, e);
}

/* Runs until done() or `for_ns` of simulated time passed. */
static bool run(bool (*done)(void), uint64_t for_ns)
{
	uint64_t end = W.now + for_ns;
	for (;;) {
		if (done && done())
			return true;
		uint64_t next = end;
		for (unsigned i = 0; i < W.n_q; i++)
			if (W.q[i].at < next)
				next = W.q[i].at;
		for (unsigned i = 0; i < W.n_eps; i++)
			if (W.eps[i]->sl && !W.eps[i]->gone) {
				uint64_t x = net_sl_next_expiry(W.eps[i]->sl);
				if (x < next)
					next = x;
			}
		if (W.tick && W.tick_at < next)
			next = W.tick_at;
		if (next > W.now)
			W.now = next;
		if (W.now >= end && next >= end) {
			W.now = end;
			return done ? done() : true;
		}
		/* Due packets in time order (stable for equal times). */
		for (;;) {
			int best = -1;
			for (unsigned i = 0; i < W.n_q; i++)
				if (W.q[i].at <= W.now && (best < 0 || W.q[i].at < W.q[best].at))
					best = (int)i;
			if (best < 0)
				break;
			struct pkt p = W.q[best];
			memmove(&W.q[best], &W.q[best + 1], (W.n_q - (unsigned)best - 1) * sizeof(W.q[0]));
			W.n_q--;
			deliver(&p);
			free(p.data);
		}
		for (unsigned i = 0; i < W.n_eps; i++) {
			struct ep *e = W.eps[i];
			if (e->sl && !e->gone && net_sl_next_expiry(e->sl) <= W.now) {
				net_sl_on_timer(e->sl, W.now);
				drain(&W, e);
			}
		}
		if (W.tick && W.tick_at <= W.now)
			W.tick();
	}
}

static struct ep *g_j, *g_h;
static bool joined(void) { return find_ev(g_j, NET_SL_EV_JOINED) != NULL; }
static bool j_closed(void) { return g_j->ended || g_j->close_code; }
static bool h_closed(void) { return g_h->close_code != 0; }

static int setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	W.now = T0;
	W.delay = 10 * MS;
	W.rnd = 7;
	W.reg.w = &W;
	W.reg.has_session = true;
	memset(W.reg.id, 0xab, sizeof(W.reg.id));
	uint8_t seed[32] = { 0x11 };
	crypto_sign_seed_keypair(W.host_pk, W.host_sk, seed);
	memset(g_binding, 0x42, sizeof(g_binding));
	g_host_entries = g_joiner_has = g_group = 0;
	g_flow = false;
	g_max_held = 0;
	memset(&g_log, 0, sizeof(g_log));
	th_keypair_generate(&g_author);
	memset(g_payload, 'p', sizeof(g_payload));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (g_flow)
		net_chan_fini(&g_fch);
	for (unsigned i = 0; i < W.n_q; i++)
		free(W.q[i].data);
	for (unsigned i = 0; i < W.n_eps; i++) {
		net_sl_destroy(&W.eps[i]->sl);
		free(W.eps[i]);
	}
	return 0;
}

static uint8_t g_tok[PROTO_INVITE_TOKEN_LEN];

static struct ep *join_with(struct joiner_opts o)
{
	if (!o.token) {
		make_token(g_tok, PROTO_SESS_ROLE_EDITOR, 0, false, NULL);
		o.token = g_tok;
		o.token_len = sizeof(g_tok);
	}
	g_j = connect_joiner(&o, &g_h);
	return g_j;
}

/* A refusal: the host counts it once with its code, closes with that code,
 * and the joiner learns exactly that code. */
static void assert_refused(uint64_t code)
{
	assert_true(run(j_closed, 5 * S));
	const struct net_sl_action *r = find_ev(g_h, NET_SL_EV_REFUSED);
	assert_non_null(r);
	assert_int_equal(r->code, code);
	assert_int_equal(count_ev(g_h, NET_SL_EV_REFUSED), 1);
	assert_int_equal(count_ev(g_h, NET_SL_EV_ADMITTED), 0);
	assert_int_equal(g_h->close_code, code);
	assert_int_equal(g_j->end_code, code);
	assert_null(find_ev(g_j, NET_SL_EV_JOINED));
}

/* ---- tests -------------------------------------------------------------------- */

static void a_joiner_with_a_valid_invite_is_admitted_and_both_sides_agree(void **state)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	const struct net_sl_action *ad = find_ev(g_h, NET_SL_EV_ADMITTED), *jd = find_ev(g_j, NET_SL_EV_JOINED);
	assert_non_null(ad);
	assert_int_equal(ad->msg.u.ack.role, PROTO_SESS_ROLE_EDITOR);
	assert_int_equal(jd->msg.u.ack.peer_id, ad->msg.u.ack.peer_id);
	assert_memory_equal(jd->msg.u.ack.host_key, W.host_pk, 32);
	assert_string_equal(jd->msg.u.ack.name, "studio");
	assert_memory_equal(g_h->sl->key, g_j->pk, 32);
	assert_int_equal(W.reg.n_m, 1);
	/* The joiner's SYNC went out at once, and the host heard it. */
	assert_true(run(NULL, 1 * S));
	assert_int_equal(g_j->sync_due, 1);
	assert_int_equal(count_ev(g_h, NET_SL_EV_SYNC), 1);
	assert_int_equal(g_h->close_code + g_j->close_code, 0);
}

static void a_token_not_signed_by_this_host_is_refused(void **state)
{
	uint8_t other_pk[32], other_sk[64], seed[32] = { 0x77 };
	crypto_sign_seed_keypair(other_pk, other_sk, seed);
	make_token(g_tok, PROTO_SESS_ROLE_EDITOR, 0, false, other_sk);
	join_with((struct joiner_opts){ .token = g_tok, .token_len = sizeof(g_tok) });
	assert_refused(PROTO_SESS_ERR_BAD_TOKEN);
}

static void a_malformed_token_is_refused(void **state)
{
	make_token(g_tok, PROTO_SESS_ROLE_EDITOR, 0, false, NULL);
	join_with((struct joiner_opts){ .token = g_tok, .token_len = sizeof(g_tok) - 5 });
	assert_refused(PROTO_SESS_ERR_BAD_TOKEN);
}

static void an_expired_invite_is_refused(void **state)
{
	uint64_t now_s = (W.now + WALL_OFFSET) / S;
	make_token(g_tok, PROTO_SESS_ROLE_EDITOR, now_s + 60, false, NULL);
	/* Valid now; a minute later (simulated) it is not. */
	W.now += 61 * S;
	join_with((struct joiner_opts){ .token = g_tok, .token_len = sizeof(g_tok) });
	assert_refused(PROTO_SESS_ERR_TOKEN_EXPIRED);
}

static void a_single_use_invite_admits_one_daemon_only(void **state)
{
	make_token(g_tok, PROTO_SESS_ROLE_VIEWER, 0, true, NULL);
	join_with((struct joiner_opts){ .token = g_tok, .token_len = sizeof(g_tok), .seed = 1 });
	assert_true(run(joined, 5 * S));
	/* The same daemon may come back with it (it is a member now)... */
	join_with((struct joiner_opts){ .token = g_tok, .token_len = sizeof(g_tok), .seed = 1 });
	assert_true(run(joined, 5 * S));
	/* ...another may not. */
	join_with((struct joiner_opts){ .token = g_tok, .token_len = sizeof(g_tok), .seed = 2 });
	assert_refused(PROTO_SESS_ERR_TOKEN_REUSED);
}

static void another_protocol_version_is_refused(void **state)
{
	join_with((struct joiner_opts){ .version = PROTO_SESS_VERSION + 1 });
	assert_refused(PROTO_SESS_ERR_VERSION);
}

static void another_schema_is_refused(void **state)
{
	join_with((struct joiner_opts){ .schema_xor = 1 });
	assert_refused(PROTO_SESS_ERR_SCHEMA);
}

static void a_hello_signature_that_does_not_verify_is_refused(void **state)
{
	join_with((struct joiner_opts){ .bad_sig = true });
	assert_refused(PROTO_SESS_ERR_BAD_SIGNATURE);
}

static void a_hello_signed_for_another_channel_is_refused(void **state)
{
	join_with((struct joiner_opts){ 0 });
	/* The host's TLS channel binding differs (a relayed handshake). */
	memset(g_h->sl->binding, 0x43, sizeof(g_h->sl->binding));
	assert_refused(PROTO_SESS_ERR_BAD_SIGNATURE);
}

static void an_invite_to_a_session_the_host_does_not_have_is_refused(void **state)
{
	W.reg.has_session = false;
	join_with((struct joiner_opts){ 0 });
	assert_refused(PROTO_SESS_ERR_NO_SESSION);
}

static void a_full_session_refuses_one_more_but_takes_a_member_back(void **state)
{
	struct ep *a = join_with((struct joiner_opts){ .seed = 1 });
	assert_true(run(joined, 5 * S));
	struct ep *b = join_with((struct joiner_opts){ .seed = 2 });
	assert_true(run(joined, 5 * S));
	(void)a;
	(void)b;
	join_with((struct joiner_opts){ .seed = 3 }); /* max_peers 2 */
	assert_refused(PROTO_SESS_ERR_FULL);
	/* Member 1 reconnecting replaces its own connection: not full for it. */
	join_with((struct joiner_opts){ .seed = 1 });
	assert_true(run(joined, 5 * S));
}

static void a_kicked_member_is_refused_when_it_comes_back(void **state)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	struct ep *h = g_h, *j = g_j;
	/* The host's admin kicks it: KICK, then the close with KICKED. */
	W.reg.m[0].kicked = true;
	net_sl_kick(h->sl);
	drain(&W, h);
	assert_true(run(j_closed, 5 * S));
	assert_int_equal(j->end_code, PROTO_SESS_ERR_KICKED);
	join_with((struct joiner_opts){ 0 });
	assert_refused(PROTO_SESS_ERR_KICKED);
}

static void a_failure_to_record_the_member_refuses_the_join(void **state)
{
	W.reg.admit_err = -EIO;
	join_with((struct joiner_opts){ 0 });
	assert_refused(PROTO_SESS_ERR_FULL);
}

static void a_silent_joiner_is_refused_after_the_hello_timeout(void **state)
{
	/* Its HELLO never arrives. */
	join_with((struct joiner_opts){ .silent = true });
	assert_true(run(h_closed, NET_SL_HELLO_TIMEOUT_NS + 1 * S));
	assert_int_equal(g_h->close_code, PROTO_SESS_ERR_HANDSHAKE_TIMEOUT);
	assert_true(W.now >= T0 + NET_SL_HELLO_TIMEOUT_NS);
}

static void role_changes_and_roster_reach_the_joiner_as_events(void **state)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	uint32_t me = g_j->sl->peer_id;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_MEMBER_JOIN };
	m.u.join.peer_id = 7;
	m.u.join.role = PROTO_SESS_ROLE_VIEWER;
	net_sl_send_msg(g_h->sl, NET_SL_CONTROL, &m);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ROLE };
	m.u.role.peer_id = me;
	m.u.role.role = PROTO_SESS_ROLE_ADMIN;
	net_sl_send_msg(g_h->sl, NET_SL_CONTROL, &m);
	drain(&W, g_h);
	assert_true(run(NULL, 1 * S));
	const struct net_sl_action *mj = find_ev(g_j, NET_SL_EV_MEMBER_JOIN), *ro = find_ev(g_j, NET_SL_EV_ROLE);
	assert_non_null(mj);
	assert_int_equal(mj->msg.u.join.peer_id, 7);
	assert_non_null(ro);
	assert_int_equal(ro->msg.u.role.role, PROTO_SESS_ROLE_ADMIN);
	assert_int_equal(g_j->sl->role, PROTO_SESS_ROLE_ADMIN);
	/* An admin request from the member reaches the host as an event. */
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ADMIN_REQ };
	m.u.areq = (struct proto_sess_admin_req){ .req_id = 5, .op = PROTO_SESS_ADMIN_KICK, .peer_id = 7 };
	net_sl_send_msg(g_j->sl, NET_SL_CONTROL, &m);
	drain(&W, g_j);
	assert_true(run(NULL, 1 * S));
	const struct net_sl_action *ar = find_ev(g_h, NET_SL_EV_ADMIN_REQ);
	assert_non_null(ar);
	assert_int_equal(ar->msg.u.areq.req_id, 5);
	/* A message a joiner may not send the host is a protocol error. */
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ROLE };
	m.u.role.peer_id = me;
	m.u.role.role = PROTO_SESS_ROLE_ADMIN;
	net_sl_send_msg(g_j->sl, NET_SL_CONTROL, &m);
	drain(&W, g_j);
	assert_true(run(j_closed, 2 * S));
	assert_int_equal(g_h->close_code, PROTO_SESS_ERR_PROTOCOL);
	assert_int_equal(count_ev(g_h, NET_SL_EV_PROTOCOL), 1);
}

static bool caught_up(void) { return g_j->entries_in >= g_host_entries - g_joiner_has; }

static void a_joiner_gets_what_its_sync_lacks_in_one_group(void **state)
{
	g_host_entries = 1000;
	g_joiner_has = 250;
	join_with((struct joiner_opts){ 0 });
	assert_true(run(caught_up, 10 * S));
	/* 750 entries across 8 MORE messages, handed over as one group. */
	assert_int_equal(g_j->entries_in, 750);
	assert_int_equal(count_ev(g_j, NET_SL_EV_ENTRIES), 1);
	/* The next round, 5 s later: the host answers each SYNC; one closer
	 * than NET_SL_SYNC_MIN_GAP_NS to the last is ignored. */
	g_joiner_has = 1000;
	assert_true(run(NULL, NET_SL_SYNC_INTERVAL_NS + 100 * MS));
	assert_int_equal(g_j->sync_due, 2);
	assert_int_equal(count_ev(g_h, NET_SL_EV_SYNC), 2);
	on_sync_due(g_j);
	drain(&W, g_j);
	assert_true(run(NULL, 100 * MS));
	assert_int_equal(count_ev(g_h, NET_SL_EV_SYNC), 2);
	assert_int_equal(g_h->sl->sync_ignored, 1);
	assert_int_equal(g_j->entries_in, 750);
}

static void entries_before_the_handshake_are_a_protocol_error(void **state)
{
	join_with((struct joiner_opts){ 0 });
	/* The joiner's SYNC overtakes its HELLO (a peer breaking the order). */
	struct ep *h = g_h;
	uint8_t sync[8] = { 0 };
	th_put_le32(sync, 4);
	assert_int_equal(net_sl_on_msg(h->sl, NET_SL_COMMANDS, sync + 4, 4, W.now), -ECONNABORTED);
	drain(&W, h);
	assert_int_equal(h->close_code, PROTO_SESS_ERR_PROTOCOL);
}

static bool both_lost(void) { return find_ev(g_j, NET_SL_EV_LOST) && find_ev(g_h, NET_SL_EV_LOST); }

static void heartbeats_survive_loss_and_a_partition_loses_the_peer_then_it_rejoins_and_resumes(void **state)
{
	W.loss = 0.2;
	W.dup = 0.05;
	W.reorder = 0.2;
	g_host_entries = 300;
	g_joiner_has = 0;
	join_with((struct joiner_opts){ 0 });
	assert_true(run(caught_up, 10 * S));
	/* 20 s with 20 % datagram loss, duplicates and reordering: nobody is lost. */
	assert_true(run(NULL, 20 * S));
	assert_null(find_ev(g_j, NET_SL_EV_LOST));
	assert_null(find_ev(g_h, NET_SL_EV_LOST));
	assert_true(g_h->sl->hb.samples > 10);
	assert_true(W.dgrams_lost > 0);
	/* A partition longer than lost_after: both sides declare the other lost. */
	W.heal_at = W.now + NET_HB_LOST_DEFAULT_NS + 2 * S;
	assert_true(run(both_lost, NET_HB_LOST_DEFAULT_NS + 2 * S));
	assert_int_equal(g_h->close_code, PROTO_SESS_ERR_LEFT);
	uint32_t peer = find_ev(g_h, NET_SL_EV_ADMITTED)->msg.u.ack.peer_id;
	/* Healed: the joiner reconnects (a new connection) as the same member
	 * and resumes from what it holds: only the 200 entries made meanwhile. */
	assert_true(run(NULL, 3 * S));
	W.loss = W.dup = W.reorder = 0;
	g_joiner_has = 300;
	g_host_entries = 500;
	join_with((struct joiner_opts){ 0 });
	assert_true(run(caught_up, 10 * S));
	assert_int_equal(find_ev(g_h, NET_SL_EV_ADMITTED)->msg.u.ack.peer_id, peer);
	assert_int_equal(g_j->entries_in, 200);
	assert_int_equal(W.reg.n_m, 1);
}

static void a_joiner_that_leaves_says_so_and_the_host_reports_it(void **state)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	net_sl_leave(g_j->sl);
	drain(&W, g_j);
	assert_true(run(h_closed, 2 * S));
	assert_non_null(find_ev(g_h, NET_SL_EV_LEFT));
	assert_int_equal(g_h->close_code, PROTO_SESS_ERR_LEFT);
	assert_int_equal(g_j->close_code, PROTO_SESS_ERR_LEFT);
}

static void actions_that_find_no_room_close_the_connection_instead_of_being_lost(void **state)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	/* The glue queues more than NET_SL_ACTIONS_MAX without draining. */
	struct proto_sess_msg m = { .type = PROTO_SESS_T_PONG };
	for (unsigned i = 0; i < 2 * NET_SL_ACTIONS_MAX; i++)
		net_sl_send_msg(g_h->sl, NET_SL_CONTROL, &m);
	struct net_sl_action a;
	unsigned sends = 0, closes = 0, gone = 0;
	uint64_t code = 0;
	while (net_sl_poll(g_h->sl, &a) == 1) {
		sends += a.kind == NET_SL_A_SEND;
		gone += a.kind == NET_SL_A_EVENT && a.ev == NET_SL_EV_GONE;
		if (a.kind == NET_SL_A_CLOSE)
			closes++, code = a.code;
	}
	/* The last two slots: the member's EV_GONE and the CLOSE. */
	assert_int_equal(sends, NET_SL_ACTIONS_MAX - 2);
	assert_int_equal(gone, 1);
	assert_int_equal(closes, 1);
	assert_int_equal(code, PROTO_SESS_ERR_PROTOCOL);
	assert_false(net_sl_active(g_h->sl));
	/* Drained: nothing stays behind. */
	assert_int_equal(net_sl_poll(g_h->sl, &a), 0);
}

/* ---- backpressure ------------------------------------------------------------- */

static bool log_has_all(void) { return g_log.next_seq == g_host_entries + 1 && !net_sl_entries_waiting(g_j->sl); }

static void entries_the_log_cannot_take_yet_wait_and_all_arrive_once_in_order(void **state)
{
	static const struct net_chan_def d = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 0,
					       .on_msg = flow_on_msg };
	g_fchans = (struct net_chans){ 0 };
	assert_int_equal(net_chans_register(&g_fchans, &d), 0);
	net_chan_init(&g_fch, &g_fchans, 0);
	g_flow = true;
	g_log.cap = 400;
	g_log.batch_ns = 30 * MS;
	g_log.next_seq = 251;
	W.tick = log_batch_done;
	W.tick_at = UINT64_MAX;
	/* 2750 entries the joiner lacks, in signature groups of 250: a log
	 * that takes 400 while a batch is written has to say -EAGAIN often. */
	g_host_entries = 3000;
	g_joiner_has = 250;
	g_group = 250;
	join_with((struct joiner_opts){ 0 });
	assert_true(run(log_has_all, 10 * S));
	assert_int_equal(g_j->entries_in, 2750);
	assert_int_equal(g_log.taken_groups, 11);
	assert_true(g_log.eagain >= 5);
	/* The channel held what came behind a waiting group (nothing reached
	 * the state machine meanwhile), and holds nothing now. */
	assert_true(g_max_held > 0);
	assert_int_equal(net_chan_held(&g_fch), 0);
	assert_false(net_chan_paused(&g_fch));
	assert_int_equal(g_h->close_code + g_j->close_code, 0);
}

static void groups_assembled_while_others_wait_queue_behind_them(void **state)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	struct net_sl *sl = g_j->sl;
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	struct net_sl_action a;
	uint64_t seq = 1;
	/* Group 1 is handed out and does not fit: it waits. */
	for (int g = 0; g < 3; g++) {
		struct proto_sess_entries_build b;
		th_wbuf_reset(&w);
		assert_int_equal(proto_sess_entries_begin(&b, &w, 0), 0);
		for (int k = 0; k < 10; k++, seq++) {
			struct th_logrec_entry en;
			make_entry(&en, seq, k == 9);
			assert_int_equal(proto_sess_entries_add(&b, &en), 0);
		}
		assert_int_equal(proto_sess_entries_end(&b), 0);
		assert_int_equal(net_sl_on_msg(sl, NET_SL_COMMANDS, w.data + 4, w.len - 4, W.now), 0);
		unsigned handed = 0;
		while (net_sl_poll(sl, &a) == 1)
			if (a.kind == NET_SL_A_EVENT && a.ev == NET_SL_EV_ENTRIES) {
				handed++;
				assert_int_equal(net_sl_entries_wait(sl, &a), 0);
			}
		/* Only the first comes out; the others join the queue at once. */
		assert_int_equal(handed, g == 0 ? 1 : 0);
	}
	assert_true(net_sl_entries_waiting(sl));
	/* Room: all three, oldest first, each once. */
	net_sl_entries_retry(sl);
	uint64_t want = 1;
	unsigned groups = 0;
	while (net_sl_poll(sl, &a) == 1) {
		if (a.kind != NET_SL_A_EVENT || a.ev != NET_SL_EV_ENTRIES)
			continue;
		struct proto_sess_entries all = { .recs = a.data, .recs_len = a.len };
		struct proto_sess_entries_iter it;
		struct th_logrec_entry en;
		proto_sess_entries_iter_init(&it, &all);
		while (proto_sess_entries_next(&it, &en) == 1)
			assert_int_equal(en.seq, want++);
		groups++;
	}
	assert_int_equal(groups, 3);
	assert_int_equal(want, 31);
	assert_false(net_sl_entries_waiting(sl));
	/* An action that is not a group handed out now cannot wait. */
	a = (struct net_sl_action){ .kind = NET_SL_A_EVENT, .ev = NET_SL_EV_ENTRIES, .data = w.data };
	assert_int_equal(net_sl_entries_wait(sl, &a), -ENOENT);
	th_wbuf_fini(&w);
}

/* ---- a member leaves once ---------------------------------------------------------- */

static bool h_lost(void) { return find_ev(g_h, NET_SL_EV_LOST) != NULL; }

static void a_lost_member_is_gone_once_even_when_its_connection_then_ends(void **state)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	W.heal_at = UINT64_MAX;
	assert_true(run(h_lost, NET_HB_LOST_DEFAULT_NS + 2 * S));
	assert_int_equal(count_ev(g_h, NET_SL_EV_GONE), 1);
	assert_int_equal(find_ev(g_h, NET_SL_EV_GONE)->code, PROTO_SESS_ERR_LEFT);
	/* The transport ends after our close (net_link.c's ended callback). */
	net_sl_on_ended(g_h->sl, PROTO_SESS_ERR_LEFT);
	drain(&W, g_h);
	assert_true(run(NULL, 2 * S));
	assert_int_equal(count_ev(g_h, NET_SL_EV_GONE), 1);
	assert_int_equal(count_ev(g_j, NET_SL_EV_GONE), 0);
}

enum end_how { END_LEAVE, END_KICK, END_TRANSPORT, END_PROTOCOL, END_BY_GLUE };

static void end_member(enum end_how how, uint64_t want_code)
{
	join_with((struct joiner_opts){ 0 });
	assert_true(run(joined, 5 * S));
	struct ep *h = g_h;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ROLE };
	m.u.role.peer_id = g_j->sl->peer_id;
	m.u.role.role = PROTO_SESS_ROLE_ADMIN;
	switch (how) {
	case END_LEAVE:
		net_sl_leave(g_j->sl);
		drain(&W, g_j);
		break;
	case END_KICK:
		net_sl_kick(h->sl);
		drain(&W, h);
		break;
	case END_TRANSPORT: /* the peer vanished: no close from either side */
		net_sl_on_ended(h->sl, 0);
		drain(&W, h);
		break;
	case END_PROTOCOL: /* a message a joiner may not send */
		net_sl_send_msg(g_j->sl, NET_SL_CONTROL, &m);
		drain(&W, g_j);
		break;
	case END_BY_GLUE: /* a reconnect replaces the connection */
		net_sl_close(h->sl, PROTO_SESS_ERR_LEFT, "replaced by a new connection");
		drain(&W, h);
		break;
	}
	assert_true(run(NULL, 2 * S));
	assert_int_equal(count_ev(h, NET_SL_EV_GONE), 1);
	assert_int_equal(find_ev(h, NET_SL_EV_GONE)->code, want_code);
	/* Whatever follows (the transport's end, a second close) adds none. */
	net_sl_close(h->sl, PROTO_SESS_ERR_LEFT, NULL);
	net_sl_on_ended(h->sl, want_code);
	drain(&W, h);
	assert_int_equal(count_ev(h, NET_SL_EV_GONE), 1);
	assert_int_equal(count_ev(g_j, NET_SL_EV_GONE), 0);
}

static void a_member_is_gone_once_however_its_connection_ends(void **state)
{
	static const struct { enum end_how how; uint64_t code; } cases[] = {
		{ END_LEAVE, PROTO_SESS_ERR_LEFT },        { END_KICK, PROTO_SESS_ERR_KICKED },
		{ END_TRANSPORT, 0 },                      { END_PROTOCOL, PROTO_SESS_ERR_PROTOCOL },
		{ END_BY_GLUE, PROTO_SESS_ERR_LEFT },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		end_member(cases[i].how, cases[i].code);
		teardown(NULL);
		setup(NULL);
	}
}

static void a_refused_join_is_never_gone(void **state)
{
	join_with((struct joiner_opts){ .schema_xor = 1 });
	assert_refused(PROTO_SESS_ERR_SCHEMA);
	net_sl_on_ended(g_h->sl, PROTO_SESS_ERR_SCHEMA);
	drain(&W, g_h);
	assert_int_equal(count_ev(g_h, NET_SL_EV_GONE), 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(a_joiner_with_a_valid_invite_is_admitted_and_both_sides_agree),
		T(a_token_not_signed_by_this_host_is_refused),
		T(a_malformed_token_is_refused),
		T(an_expired_invite_is_refused),
		T(a_single_use_invite_admits_one_daemon_only),
		T(another_protocol_version_is_refused),
		T(another_schema_is_refused),
		T(a_hello_signature_that_does_not_verify_is_refused),
		T(a_hello_signed_for_another_channel_is_refused),
		T(an_invite_to_a_session_the_host_does_not_have_is_refused),
		T(a_full_session_refuses_one_more_but_takes_a_member_back),
		T(a_kicked_member_is_refused_when_it_comes_back),
		T(a_failure_to_record_the_member_refuses_the_join),
		T(a_silent_joiner_is_refused_after_the_hello_timeout),
		T(role_changes_and_roster_reach_the_joiner_as_events),
		T(a_joiner_gets_what_its_sync_lacks_in_one_group),
		T(entries_before_the_handshake_are_a_protocol_error),
		T(heartbeats_survive_loss_and_a_partition_loses_the_peer_then_it_rejoins_and_resumes),
		T(a_joiner_that_leaves_says_so_and_the_host_reports_it),
		T(actions_that_find_no_room_close_the_connection_instead_of_being_lost),
		T(entries_the_log_cannot_take_yet_wait_and_all_arrive_once_in_order),
		T(groups_assembled_while_others_wait_queue_behind_them),
		T(a_lost_member_is_gone_once_even_when_its_connection_then_ends),
		T(a_member_is_gone_once_however_its_connection_ends),
		T(a_refused_join_is_never_gone),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
