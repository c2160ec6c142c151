/* The session layer of one connection as a state machine; see net_sl.h. */
#include "net/net_sl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "th_time.h"

/* ---- actions ---------------------------------------------------------------- */

void net_sl_close(struct net_sl *sl, uint64_t code, const char *reason);

/* Slots kept at the end: the last for a CLOSE, the one before for the
 * EV_GONE that comes with it. An action that finds no room ends the
 * connection rather than being lost. */
static struct net_sl_action *act_new_x(struct net_sl *sl, enum net_sl_act_kind kind, unsigned reserve)
{
	if (sl->n_act + reserve >= NET_SL_ACTIONS_MAX) {
		if (kind != NET_SL_A_CLOSE && !sl->overflow) {
			sl->overflow = true;
			net_sl_close(sl, PROTO_SESS_ERR_PROTOCOL, "too many actions at once");
		}
		return NULL;
	}
	struct net_sl_action *a = &sl->act[sl->n_act];
	memset(a, 0, offsetof(struct net_sl_action, msg));
	a->msg.type = 0;
	a->kind = kind;
	sl->act_off[sl->n_act] = SIZE_MAX;
	sl->n_act++;
	return a;
}

static struct net_sl_action *act_new(struct net_sl *sl, enum net_sl_act_kind kind)
{
	return act_new_x(sl, kind, kind == NET_SL_A_CLOSE ? 0 : 2);
}

/* Host: the admitted member leaves the session, once (the state leaves
 * ACTIVE right after). */
static void member_gone(struct net_sl *sl, uint64_t code, const char *why)
{
	if (sl->cfg.side != NET_SL_HOST || sl->st != NET_SL_S_ACTIVE)
		return;
	struct net_sl_action *a = act_new_x(sl, NET_SL_A_EVENT, 1);
	if (!a)
		return;
	a->ev = NET_SL_EV_GONE;
	a->code = code;
	snprintf(a->text, sizeof(a->text), "%s", why ? why : "");
}

static void sl_log(struct net_sl *sl, enum net_sl_log level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sl_log(struct net_sl *sl, enum net_sl_log level, const char *fmt, ...)
{
	struct net_sl_action *a = act_new(sl, NET_SL_A_LOG);
	if (!a)
		return;
	a->level = level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
}

static struct net_sl_action *event(struct net_sl *sl, enum net_sl_event ev)
{
	struct net_sl_action *a = act_new(sl, NET_SL_A_EVENT);
	if (a)
		a->ev = ev;
	return a;
}

static void queue_bytes(struct net_sl *sl, enum net_sl_act_kind kind, unsigned chan, const uint8_t *p, size_t n)
{
	if (sl->st == NET_SL_S_CLOSED)
		return;
	size_t off = sl->out.len;
	th_wbuf_put(&sl->out, p, n);
	if (th_wbuf_error(&sl->out) < 0) {
		/* Never a silent drop: the connection cannot go on without it. */
		sl->out.len = off;
		sl->out.oom = sl->out.overflow = false;
		net_sl_close(sl, PROTO_SESS_ERR_LEFT, "cannot queue data for this peer");
		return;
	}
	struct net_sl_action *a = act_new(sl, kind);
	if (!a)
		return;
	a->chan = chan;
	a->len = n;
	sl->act_off[sl->n_act - 1] = off;
}

void net_sl_send_bytes(struct net_sl *sl, unsigned chan, const uint8_t *p, size_t n)
{
	queue_bytes(sl, NET_SL_A_SEND, chan, p, n);
}

void net_sl_send_msg(struct net_sl *sl, unsigned chan, const struct proto_sess_msg *m)
{
	if (sl->st == NET_SL_S_CLOSED)
		return;
	size_t off = sl->out.len;
	int r = proto_sess_encode(m, &sl->out);
	size_t n = sl->out.len - off;
	if (r < 0) {
		sl->out.len = off;
		sl->out.oom = sl->out.overflow = false;
		net_sl_close(sl, PROTO_SESS_ERR_LEFT, "cannot queue data for this peer");
		return;
	}
	struct net_sl_action *a = act_new(sl, NET_SL_A_SEND);
	if (!a)
		return;
	a->chan = chan;
	a->len = n;
	sl->act_off[sl->n_act - 1] = off;
}

static void send_dgram(struct net_sl *sl, const struct proto_sess_dgram *d)
{
	uint8_t b[PROTO_SESS_DGRAM_MAX];
	int n = proto_sess_dgram_encode(d, b, sizeof(b));
	if (n > 0 && sl->st == NET_SL_S_ACTIVE && (sl->caps & PROTO_SESS_CAP_DATAGRAMS))
		queue_bytes(sl, NET_SL_A_DGRAM, 0, b, (size_t)n);
}

void net_sl_close(struct net_sl *sl, uint64_t code, const char *reason)
{
	if (sl->st == NET_SL_S_CLOSED)
		return;
	member_gone(sl, code, reason);
	sl->st = NET_SL_S_CLOSED;
	struct net_sl_action *a = act_new(sl, NET_SL_A_CLOSE);
	if (!a)
		return;
	a->code = code;
	snprintf(a->text, sizeof(a->text), "%s", reason ? reason : "");
}

int net_sl_poll(struct net_sl *sl, struct net_sl_action *out)
{
	if (sl->next_act == sl->n_act) {
		sl->n_act = sl->next_act = 0;
		sl->out.len = 0;
		while (sl->n_handed)
			free(sl->handed[--sl->n_handed]);
		return 0;
	}
	unsigned i = sl->next_act++;
	*out = sl->act[i];
	if (sl->act_off[i] != SIZE_MAX)
		out->data = sl->out.data + sl->act_off[i];
	return 1;
}

/* ---- create ------------------------------------------------------------------ */

int net_sl_create(const struct net_sl_config *cfg, uint64_t now_ns, struct net_sl **out)
{
	if (!cfg || !cfg->pk || (cfg->side != NET_SL_HOST && cfg->side != NET_SL_JOINER) ||
	    (cfg->side == NET_SL_HOST && !cfg->host) || (cfg->side == NET_SL_JOINER && (!cfg->sk || !cfg->token)))
		return -EINVAL;
	struct net_sl *sl = calloc(1, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	sl->cfg = *cfg;
	if (!sl->cfg.version)
		sl->cfg.version = PROTO_SESS_VERSION;
	sl->st = NET_SL_S_HANDSHAKE;
	sl->hello_deadline_ns = now_ns + NET_SL_HELLO_TIMEOUT_NS;
	th_wbuf_init(&sl->out, 0);
	net_hb_init(&sl->hb, 0, cfg->lost_after_ns, now_ns);
	*out = sl;
	return 0;
}

void net_sl_destroy(struct net_sl **p)
{
	struct net_sl *sl = p ? *p : NULL;
	if (!sl)
		return;
	th_wbuf_fini(&sl->out);
	free(sl->acc);
	while (sl->n_handed)
		free(sl->handed[--sl->n_handed]);
	while (sl->n_wait)
		free(sl->wait[--sl->n_wait].recs);
	free(sl);
	*p = NULL;
}

/* ---- handshake ---------------------------------------------------------------- */

static void joiner_hello(struct net_sl *sl)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_HELLO };
	struct proto_sess_hello *h = &m.u.hello;
	h->version = sl->cfg.version;
	h->schema_hash = sl->cfg.schema_hash;
	memcpy(h->nonce, sl->cfg.nonce, sizeof(h->nonce));
	h->caps = sl->cfg.caps;
	h->token = sl->cfg.token;
	h->token_len = (uint16_t)sl->cfg.token_len;
	memcpy(h->identity_key, sl->cfg.pk, sizeof(h->identity_key));
	if (proto_sess_hello_sign(h, sl->binding, sl->cfg.sk) < 0) {
		net_sl_close(sl, PROTO_SESS_ERR_PROTOCOL, "cannot sign");
		return;
	}
	if (sl->cfg.test_bad_sig)
		h->sig[0] ^= 0x01;
	sl->st = NET_SL_S_HELLO;
	net_sl_send_msg(sl, NET_SL_CONTROL, &m);
}

void net_sl_on_handshake(struct net_sl *sl, const uint8_t binding[PROTO_SESS_BINDING_LEN], uint64_t now_ns)
{
	if (sl->st != NET_SL_S_HANDSHAKE)
		return;
	memcpy(sl->binding, binding, sizeof(sl->binding));
	if (sl->cfg.side == NET_SL_HOST) {
		sl->st = NET_SL_S_HELLO;
		sl->hello_deadline_ns = now_ns + NET_SL_HELLO_TIMEOUT_NS;
		return;
	}
	joiner_hello(sl);
}

static void refuse(struct net_sl *sl, uint64_t code, const char *detail)
{
	struct net_sl_action *a = event(sl, NET_SL_EV_REFUSED);
	if (a) {
		a->code = code;
		snprintf(a->text, sizeof(a->text), "%s", detail ? detail : "");
	}
	sl_log(sl, NET_SL_LOG_WARN, "refused a join: %s%s%s", proto_sess_err_text(code), detail ? " " : "",
	       detail ? detail : "");
	net_sl_close(sl, code, NULL);
}

static void key_hex8(const uint8_t key[32], char out[17])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hx[key[i] >> 4];
		out[2 * i + 1] = hx[key[i] & 15];
	}
	out[16] = 0;
}

/* The host's checks, in the order docs/network.md lists them. */
static void host_on_hello(struct net_sl *sl, const uint8_t *p, size_t len, uint64_t now_ns)
{
	const struct net_sl_host_ops *ops = sl->cfg.host;
	void *u = sl->cfg.host_user;
	int v = proto_sess_hello_version(p, len);
	if (v < 0) {
		refuse(sl, PROTO_SESS_ERR_PROTOCOL, "(the first message was not a HELLO)");
		return;
	}
	if (v != PROTO_SESS_VERSION) {
		char d[64];
		snprintf(d, sizeof(d), "(it speaks version %d, we speak %d)", v, PROTO_SESS_VERSION);
		refuse(sl, PROTO_SESS_ERR_VERSION, d);
		return;
	}
	struct proto_sess_msg m;
	if (proto_sess_decode(p, len, &m) < 0 || m.type != PROTO_SESS_T_HELLO) {
		refuse(sl, PROTO_SESS_ERR_PROTOCOL, "(malformed HELLO)");
		return;
	}
	const struct proto_sess_hello *h = &m.u.hello;
	if (h->schema_hash != sl->cfg.schema_hash) {
		refuse(sl, PROTO_SESS_ERR_SCHEMA, NULL);
		return;
	}
	struct proto_invite_token tok;
	if (proto_invite_token_parse(h->token, h->token_len, &tok) < 0) {
		refuse(sl, PROTO_SESS_ERR_BAD_TOKEN, "(malformed token)");
		return;
	}
	void *sess = ops->session(u, tok.session_id);
	if (!sess) {
		refuse(sl, PROTO_SESS_ERR_NO_SESSION, NULL);
		return;
	}
	/* Signature by our host key, checked before the expiry (now 0). */
	if (proto_invite_token_verify(h->token, h->token_len, sl->cfg.pk, 0, &tok) < 0) {
		refuse(sl, PROTO_SESS_ERR_BAD_TOKEN, "(not signed by this host)");
		return;
	}
	if (proto_sess_hello_verify(h, sl->binding) < 0) {
		refuse(sl, PROTO_SESS_ERR_BAD_SIGNATURE, NULL);
		return;
	}
	char who[17];
	key_hex8(h->identity_key, who);
	uint8_t role = 0;
	bool kicked = false;
	uint32_t peer_id = 0;
	int known = ops->member(u, sess, h->identity_key, &role, &kicked, &peer_id);
	uint64_t why = ops->refusal ? ops->refusal(u, sess, known, &tok) : 0;
	if (why) {
		refuse(sl, why, who);
		return;
	}
	if (known && kicked) {
		refuse(sl, PROTO_SESS_ERR_KICKED, who);
		return;
	}
	if (!known) {
		uint64_t now_s = (now_ns + sl->cfg.wall_offset_ns) / TH_NS_PER_S;
		if (tok.expiry_s && now_s >= tok.expiry_s) {
			refuse(sl, PROTO_SESS_ERR_TOKEN_EXPIRED, who);
			return;
		}
		if (tok.single_use && ops->nonce_used(u, sess, tok.nonce)) {
			refuse(sl, PROTO_SESS_ERR_TOKEN_REUSED, who);
			return;
		}
		role = tok.role;
	}
	if (ops->peers(u, sess, h->identity_key) >= sl->cfg.max_peers) {
		refuse(sl, PROTO_SESS_ERR_FULL, who);
		return;
	}
	int r = ops->admit(u, sess, h->identity_key, role, tok.single_use ? tok.nonce : NULL, &peer_id);
	if (r < 0) {
		refuse(sl, PROTO_SESS_ERR_FULL, "(member table)");
		return;
	}
	if (!known && ops->invite_used)
		ops->invite_used(u, sess, &tok);
	sl->sess = sess;
	sl->role = role;
	sl->peer_id = peer_id;
	memcpy(sl->key, h->identity_key, sizeof(sl->key));
	sl->caps = h->caps & sl->cfg.caps;
	sl->st = NET_SL_S_ACTIVE;
	sl->hb_on = true;
	net_hb_init(&sl->hb, 0, sl->cfg.lost_after_ns, now_ns);

	struct proto_sess_msg ack = { .type = PROTO_SESS_T_ACK };
	memcpy(ack.u.ack.session_id, tok.session_id, PROTO_SESS_ID_LEN);
	ack.u.ack.role = role;
	ack.u.ack.caps = sl->caps;
	memcpy(ack.u.ack.host_key, sl->cfg.pk, PROTO_SESS_KEY_LEN);
	ack.u.ack.peer_id = peer_id;
	const char *name = ops->name ? ops->name(u, sess) : NULL;
	snprintf(ack.u.ack.name, sizeof(ack.u.ack.name), "%s", name ? name : "");
	net_sl_send_msg(sl, NET_SL_CONTROL, &ack);
	struct net_sl_action *a = event(sl, NET_SL_EV_ADMITTED);
	if (a)
		a->msg = ack;
}

static void joiner_on_ack(struct net_sl *sl, const struct proto_sess_ack *a, uint64_t now_ns)
{
	if (memcmp(a->session_id, sl->cfg.session_id, PROTO_SESS_ID_LEN) != 0) {
		struct net_sl_action *e = event(sl, NET_SL_EV_PROTOCOL);
		if (e)
			snprintf(e->text, sizeof(e->text), "ACK names another session");
		net_sl_close(sl, PROTO_SESS_ERR_PROTOCOL, "ACK names another session");
		return;
	}
	sl->st = NET_SL_S_ACTIVE;
	sl->role = a->role;
	sl->caps = a->caps & sl->cfg.caps;
	sl->peer_id = a->peer_id;
	memcpy(sl->key, a->host_key, sizeof(sl->key));
	sl->hb_on = true;
	net_hb_init(&sl->hb, 0, sl->cfg.lost_after_ns, now_ns);
	sl->next_sync_ns = now_ns + NET_SL_SYNC_INTERVAL_NS;
	struct net_sl_action *e = event(sl, NET_SL_EV_JOINED);
	if (e)
		e->msg.type = PROTO_SESS_T_ACK, e->msg.u.ack = *a;
	/* Catch-up starts at once: the glue answers with our SYNC. */
	event(sl, NET_SL_EV_SYNC_DUE);
}

/* ---- messages ------------------------------------------------------------------- */

static int protocol_error(struct net_sl *sl, const char *what);

static int protocol_error(struct net_sl *sl, const char *what)
{
	struct net_sl_action *a = event(sl, NET_SL_EV_PROTOCOL);
	if (a)
		snprintf(a->text, sizeof(a->text), "%s", what);
	net_sl_close(sl, PROTO_SESS_ERR_PROTOCOL, what);
	return -ECONNABORTED;
}

static int on_control(struct net_sl *sl, const uint8_t *p, size_t len, uint64_t now_ns)
{
	bool host = sl->cfg.side == NET_SL_HOST;
	if (host && sl->st != NET_SL_S_ACTIVE) {
		host_on_hello(sl, p, len, now_ns);
		return sl->st == NET_SL_S_ACTIVE ? 0 : -ECONNABORTED;
	}
	struct proto_sess_msg m;
	if (proto_sess_decode(p, len, &m) < 0)
		return protocol_error(sl, "malformed control message");
	if (!host && sl->st == NET_SL_S_HELLO) {
		if (m.type != PROTO_SESS_T_ACK)
			return protocol_error(sl, "expected ACK");
		joiner_on_ack(sl, &m.u.ack, now_ns);
		return sl->st == NET_SL_S_ACTIVE ? 0 : -ECONNABORTED;
	}
	if (sl->st != NET_SL_S_ACTIVE)
		return protocol_error(sl, "control message before the session handshake");
	enum net_sl_event ev = 0;
	switch (m.type) {
	case PROTO_SESS_T_PING: {
		struct proto_sess_msg pong = { .type = PROTO_SESS_T_PONG };
		pong.u.pong.seq = m.u.ping.seq;
		pong.u.pong.echo_t_ns = m.u.ping.t_ns;
		pong.u.pong.t_ns = now_ns;
		net_sl_send_msg(sl, NET_SL_CONTROL, &pong);
		return 0;
	}
	case PROTO_SESS_T_PONG:
		return 0;
	case PROTO_SESS_T_LEAVE: {
		uint64_t code = host ? PROTO_SESS_ERR_LEFT : PROTO_SESS_ERR_HOST_ENDED;
		struct net_sl_action *a = event(sl, NET_SL_EV_LEFT);
		if (a)
			a->code = code;
		net_sl_close(sl, code, NULL);
		return -ECONNABORTED;
	}
	case PROTO_SESS_T_MEMBER_JOIN:
		ev = host ? 0 : NET_SL_EV_MEMBER_JOIN;
		break;
	case PROTO_SESS_T_MEMBER_LEAVE:
		ev = host ? 0 : NET_SL_EV_MEMBER_LEAVE;
		break;
	case PROTO_SESS_T_ROLE:
		if (!host && m.u.role.peer_id == sl->peer_id)
			sl->role = m.u.role.role;
		ev = host ? 0 : NET_SL_EV_ROLE;
		break;
	case PROTO_SESS_T_ADMIN_REQ:
		ev = host ? NET_SL_EV_ADMIN_REQ : 0;
		break;
	case PROTO_SESS_T_ADMIN_RESULT:
		ev = host ? 0 : NET_SL_EV_ADMIN_RESULT;
		break;
	case PROTO_SESS_T_REJECTED:
		ev = host ? 0 : NET_SL_EV_REJECTED;
		break;
	case PROTO_SESS_T_VOICE_NAME:
		ev = NET_SL_EV_VOICE_NAME;
		break;
	case PROTO_SESS_T_VOICE_MUTE:
		ev = host ? 0 : NET_SL_EV_VOICE_MUTE;
		break;
	case PROTO_SESS_T_KICK:
		if (host)
			break;
		return 0; /* the close with KICKED follows */
	default:
		break;
	}
	if (!ev)
		return protocol_error(sl, "unexpected control message");
	struct net_sl_action *a = event(sl, ev);
	if (a)
		a->msg = m;
	return 0;
}

static int acc_append(struct net_sl *sl, const struct proto_sess_entries *e)
{
	if (sl->acc_n + e->count > NET_SL_ACC_MAX_ENTRIES || sl->acc_len + e->recs_len > NET_SL_ACC_MAX_BYTES)
		return -E2BIG;
	if (sl->acc_len + e->recs_len > sl->acc_cap) {
		size_t nc = sl->acc_cap ? sl->acc_cap : 65536;
		while (nc < sl->acc_len + e->recs_len)
			nc *= 2;
		uint8_t *b = realloc(sl->acc, nc);
		if (!b)
			return -ENOMEM;
		sl->acc = b;
		sl->acc_cap = nc;
	}
	memcpy(sl->acc + sl->acc_len, e->recs, e->recs_len);
	sl->acc_len += e->recs_len;
	sl->acc_n += e->count;
	return 0;
}

/* Hands the kept entries over: the buffer goes with the event (freed once
 * the actions are drained) and the next group starts a new one. */
static void acc_flush(struct net_sl *sl)
{
	if (!sl->acc_n)
		return;
	if (sl->n_wait) {
		/* Groups wait for the log: this one queues behind them. */
		if (sl->n_wait == NET_SL_WAITING_MAX) {
			net_sl_close(sl, PROTO_SESS_ERR_LEFT, "too many entry groups waiting for the log");
			return;
		}
		sl->wait[sl->n_wait++] = (struct net_sl_group){ .recs = sl->acc, .len = sl->acc_len, .count = sl->acc_n };
		sl->acc = NULL;
		sl->acc_cap = sl->acc_len = 0;
		sl->acc_n = 0;
		return;
	}
	if (sl->n_handed == NET_SL_HANDED_MAX) {
		protocol_error(sl, "ENTRIES not drained");
		return;
	}
	struct net_sl_action *a = event(sl, NET_SL_EV_ENTRIES);
	if (a) {
		a->data = sl->acc;
		a->len = sl->acc_len;
		a->count = sl->acc_n;
		sl->handed[sl->n_handed++] = sl->acc;
		sl->acc = NULL;
		sl->acc_cap = 0;
	}
	sl->acc_len = 0;
	sl->acc_n = 0;
}

static int on_commands(struct net_sl *sl, const uint8_t *p, size_t len, uint64_t now_ns)
{
	if (sl->st != NET_SL_S_ACTIVE)
		return protocol_error(sl, "data before the session handshake");
	struct proto_sess_msg m;
	if (proto_sess_decode(p, len, &m) < 0)
		return protocol_error(sl, "malformed commands message");
	switch (m.type) {
	case PROTO_SESS_T_ENTRIES: {
		int r = acc_append(sl, &m.u.entries);
		if (r == -E2BIG && sl->acc_n) {
			/* A signature group longer than we hold: take what we
			 * have; the rest comes again with the next SYNC. */
			acc_flush(sl);
			r = acc_append(sl, &m.u.entries);
		}
		if (r < 0)
			return protocol_error(sl, r == -ENOMEM ? "out of memory for ENTRIES" : "ENTRIES too large");
		if (!(m.u.entries.flags & PROTO_SESS_ENTRIES_F_MORE))
			acc_flush(sl);
		return 0;
	}
	case PROTO_SESS_T_SYNC: {
		if (sl->last_sync_rx_ns && now_ns - sl->last_sync_rx_ns < NET_SL_SYNC_MIN_GAP_NS) {
			sl->sync_ignored++;
			return 0;
		}
		sl->last_sync_rx_ns = now_ns;
		struct net_sl_action *a = event(sl, NET_SL_EV_SYNC);
		if (a)
			a->msg = m;
		return 0;
	}
	default:
		return protocol_error(sl, "unexpected commands message");
	}
}

int net_sl_on_msg(struct net_sl *sl, unsigned chan, const uint8_t *p, size_t len, uint64_t now_ns)
{
	if (sl->st == NET_SL_S_CLOSED)
		return -ECONNABORTED;
	net_hb_on_rx(&sl->hb, now_ns);
	int r;
	if (chan == NET_SL_CONTROL)
		r = on_control(sl, p, len, now_ns);
	else if (chan == NET_SL_COMMANDS)
		r = on_commands(sl, p, len, now_ns);
	else
		r = protocol_error(sl, "message on a channel the session layer does not speak");
	return sl->st == NET_SL_S_CLOSED ? -ECONNABORTED : r;
}

void net_sl_on_rx(struct net_sl *sl, uint64_t now_ns)
{
	net_hb_on_rx(&sl->hb, now_ns);
}

void net_sl_on_dgram(struct net_sl *sl, const uint8_t *p, size_t len, uint64_t now_ns)
{
	net_hb_on_rx(&sl->hb, now_ns);
	struct proto_sess_dgram d;
	if (sl->st != NET_SL_S_ACTIVE || proto_sess_dgram_decode(p, len, &d) < 0)
		return; /* unreliable and unauthenticated beyond QUIC: drop */
	if (d.kind == PROTO_SESS_DG_PING) {
		struct proto_sess_dgram pong = { .kind = PROTO_SESS_DG_PONG, .seq = d.seq, .echo_t_ns = d.t_ns,
						 .t_ns = now_ns };
		send_dgram(sl, &pong);
	} else if (d.kind == PROTO_SESS_DG_PONG) {
		net_hb_on_pong(&sl->hb, d.seq, d.echo_t_ns, now_ns);
	}
}

/* ---- timers ------------------------------------------------------------------------ */

void net_sl_on_timer(struct net_sl *sl, uint64_t now_ns)
{
	if (sl->st == NET_SL_S_CLOSED)
		return;
	if (sl->st != NET_SL_S_ACTIVE) {
		if (sl->cfg.side == NET_SL_HOST && now_ns >= sl->hello_deadline_ns)
			refuse(sl, PROTO_SESS_ERR_HANDSHAKE_TIMEOUT, NULL);
		return;
	}
	if (sl->hb_on && net_hb_lost(&sl->hb, now_ns)) {
		struct net_sl_action *a = event(sl, NET_SL_EV_LOST);
		if (a)
			snprintf(a->text, sizeof(a->text), "silent for %.1f s", (double)(now_ns - sl->hb.last_rx_ns) / 1e9);
		net_sl_close(sl, PROTO_SESS_ERR_LEFT, "silent");
		return;
	}
	uint64_t seq;
	if (sl->hb_on && net_hb_ping_due(&sl->hb, now_ns, &seq)) {
		struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_PING, .seq = seq, .t_ns = now_ns };
		send_dgram(sl, &d);
	}
	if (sl->cfg.side == NET_SL_JOINER && now_ns >= sl->next_sync_ns) {
		sl->next_sync_ns = now_ns + NET_SL_SYNC_INTERVAL_NS;
		event(sl, NET_SL_EV_SYNC_DUE);
	}
}

uint64_t net_sl_next_expiry(const struct net_sl *sl)
{
	if (sl->st == NET_SL_S_CLOSED)
		return UINT64_MAX;
	if (sl->st != NET_SL_S_ACTIVE)
		return sl->cfg.side == NET_SL_HOST ? sl->hello_deadline_ns : UINT64_MAX;
	uint64_t t = sl->hb_on ? net_hb_next(&sl->hb) : UINT64_MAX;
	if (sl->cfg.side == NET_SL_JOINER && sl->next_sync_ns < t)
		t = sl->next_sync_ns;
	return t;
}

void net_sl_on_ended(struct net_sl *sl, uint64_t code)
{
	if (sl->st == NET_SL_S_CLOSED)
		return;
	member_gone(sl, code, "connection ended");
	sl->st = NET_SL_S_CLOSED;
}

/* ---- backpressure -------------------------------------------------------------------- */

int net_sl_entries_wait(struct net_sl *sl, const struct net_sl_action *a)
{
	unsigned i = 0;
	while (i < sl->n_handed && sl->handed[i] != a->data)
		i++;
	if (a->kind != NET_SL_A_EVENT || a->ev != NET_SL_EV_ENTRIES || i == sl->n_handed)
		return -ENOENT;
	if (sl->n_wait == NET_SL_WAITING_MAX) {
		net_sl_close(sl, PROTO_SESS_ERR_LEFT, "too many entry groups waiting for the log");
		return -ENOSPC;
	}
	sl->wait[sl->n_wait++] = (struct net_sl_group){ .recs = sl->handed[i], .len = a->len, .count = a->count };
	/* Kept here now, not freed with the drain. */
	memmove(&sl->handed[i], &sl->handed[i + 1], (sl->n_handed - i - 1) * sizeof(sl->handed[0]));
	sl->n_handed--;
	return 0;
}

void net_sl_entries_retry(struct net_sl *sl)
{
	/* All or none: a group that has to wait again queues behind the rest. */
	if (sl->st == NET_SL_S_CLOSED || sl->n_handed + sl->n_wait > NET_SL_HANDED_MAX)
		return;
	unsigned k = 0;
	while (k < sl->n_wait) {
		struct net_sl_action *a = event(sl, NET_SL_EV_ENTRIES);
		if (!a)
			break;
		a->data = sl->wait[k].recs;
		a->len = sl->wait[k].len;
		a->count = sl->wait[k].count;
		sl->handed[sl->n_handed++] = sl->wait[k].recs;
		k++;
	}
	memmove(&sl->wait[0], &sl->wait[k], (sl->n_wait - k) * sizeof(sl->wait[0]));
	sl->n_wait -= k;
}

/* ---- commands from the glue -------------------------------------------------------- */

void net_sl_kick(struct net_sl *sl)
{
	if (sl->st != NET_SL_S_ACTIVE)
		return;
	struct proto_sess_msg k = { .type = PROTO_SESS_T_KICK };
	k.u.kick.peer_id = sl->peer_id;
	k.u.kick.reason = PROTO_SESS_ERR_KICKED & 0xffff;
	net_sl_send_msg(sl, NET_SL_CONTROL, &k);
	net_sl_close(sl, PROTO_SESS_ERR_KICKED, NULL);
}

void net_sl_leave(struct net_sl *sl)
{
	if (sl->st == NET_SL_S_ACTIVE) {
		struct proto_sess_msg m = { .type = PROTO_SESS_T_LEAVE };
		m.u.leave.reason = PROTO_SESS_ERR_LEFT & 0xffff;
		net_sl_send_msg(sl, NET_SL_CONTROL, &m);
	}
	net_sl_close(sl, PROTO_SESS_ERR_LEFT, "left");
}
