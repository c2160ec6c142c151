/* One generated member's connection to the host (load.h): its UDP socket
 * and client-only net_server, the QUIC callbacks, the channel table and
 * the session layer's actions carried out on the connection — the part of
 * thetad/net/net_link.c a member daemon runs, in small, over the same
 * exported pieces (tests/thetad/net/test_sl_quic.c does the same in
 * simulated time). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <sodium.h>

#include "load.h"
#include "net/net_cert.h"
#include "session.h"
#include "th_buf.h"

#define LOAD_SEND_BATCH 8u /* datagrams one net_server_produce may return for one sendmsg (GSO) */

void load_glue_fail(struct load *L, const char *fmt, ...)
{
	if (L->glue_errors++)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(L->glue_what, sizeof(L->glue_what), fmt, ap);
	va_end(ap);
}

static bool live(const struct load_member *m)
{
	return m->q && !net_quic_is_ended(m->q);
}

/* ---- channels ----------------------------------------------------------------- */

static int on_stream(struct load_member *m, unsigned chan, const uint8_t *p, size_t len, uint64_t now)
{
	if (!m->sl)
		return -ECONNABORTED;
	int r = net_sl_on_msg(m->sl, chan, p, len, now);
	load_member_run(m, now);
	return r < 0 ? -ECONNABORTED : 0;
}

static int on_control(void *conn, const uint8_t *p, size_t len, uint64_t now)
{
	return on_stream(conn, NET_SL_CONTROL, p, len, now);
}

static int on_commands(void *conn, const uint8_t *p, size_t len, uint64_t now)
{
	return on_stream(conn, NET_SL_COMMANDS, p, len, now);
}

static int on_heartbeat(void *conn, const uint8_t *p, size_t len, uint64_t now)
{
	struct load_member *m = conn;
	if (m->sl) {
		net_sl_on_dgram(m->sl, p, len, now);
		load_member_run(m, now);
	}
	return 0;
}

static const struct net_chan_def chan_defs[LOAD_CH_N] = {
	[LOAD_CH_CONTROL] = { .name = "control", .type = NET_CHAN_STREAM, .sid = 0, .before_session = true,
			      .on_msg = on_control },
	[LOAD_CH_COMMANDS] = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 4, .on_msg = on_commands },
	[LOAD_CH_HEARTBEAT] = { .name = "heartbeat", .type = NET_CHAN_DGRAM,
				.dgram_kind = { PROTO_SESS_DG_PING, PROTO_SESS_DG_PONG }, .on_msg = on_heartbeat },
	[LOAD_CH_PRES] = { .name = "pres", .type = NET_CHAN_DGRAM, .dgram_kind = { PROTO_SESS_DG_PRES },
			   .on_msg = load_on_pres },
	[LOAD_CH_VOICE] = { .name = "voice", .type = NET_CHAN_DGRAM, .dgram_kind = { PROTO_SESS_DG_VOICE },
			    .on_msg = load_on_voice },
};

int load_chans_register(struct load *L)
{
	for (unsigned i = 0; i < LOAD_CH_N; i++) {
		int r = net_chans_register(&L->chans, &chan_defs[i]);
		if (r < 0)
			return r;
		if (r != (int)i)
			return -EINVAL;
	}
	return 0;
}

static void chans_reset(struct load_member *m)
{
	for (unsigned i = 0; m->chans_init && i < LOAD_CH_N; i++)
		net_chan_fini(&m->ch[i]);
	for (unsigned i = 0; i < LOAD_CH_N; i++)
		net_chan_init(&m->ch[i], &m->L->chans, i);
	m->chans_init = true;
}

/* ---- sending -------------------------------------------------------------------- */

/* What the stream channels hold, while the streams take it. */
static void push(struct load_member *m)
{
	if (!live(m))
		return;
	for (unsigned i = 0; i < LOAD_CH_N; i++) {
		struct net_chan *ch = &m->ch[i];
		size_t len;
		const uint8_t *p = net_chan_peek(ch, &len);
		if (!p || !ch->opened)
			continue;
		int k = net_quic_stream_write(m->q, ch->def->sid, p, len, false);
		if (k > 0)
			net_chan_consume(ch, (size_t)k);
	}
}

/* One frame (length prefix included) on a stream channel; our streams are
 * opened in the table's order (control by the HELLO, commands at the ACK). */
void load_member_send_stream(struct load_member *m, unsigned chan, const uint8_t *p, size_t n)
{
	if (!live(m) || chan > LOAD_CH_COMMANDS)
		return;
	struct net_chan *ch = &m->ch[chan];
	for (unsigned i = 0; i <= chan; i++) {
		if (m->ch[i].opened)
			continue;
		int64_t sid;
		if (net_quic_stream_open(m->q, &sid) < 0 || sid != m->ch[i].def->sid) {
			load_glue_fail(m->L, "member %u: cannot open stream %u in the table's order", m->i, i);
			return;
		}
		m->ch[i].opened = true;
	}
	if (net_chan_queue(ch, p, n) < 0) {
		load_glue_fail(m->L, "member %u: cannot queue %zu bytes on the %s stream", m->i, n, ch->def->name);
		return;
	}
	push(m);
}

bool load_member_dgram(struct load_member *m, unsigned chan, const uint8_t *p, size_t n)
{
	if (!live(m) || m->st != LM_ACTIVE || net_quic_dgram_send(m->q, p, n) < 0)
		return false;
	net_chan_sent(&m->ch[chan], n);
	return true;
}

/* Everything the connection has to send now, onto the socket. */
void load_member_flush(struct load_member *m, uint64_t now)
{
	if (!m->srv)
		return;
	push(m);
	static uint8_t buf[LOAD_SEND_BATCH * NET_QUIC_MAX_PKT];
	for (;;) {
		size_t len = 0, seg = 0, sent = 0;
		struct sockaddr_storage to;
		socklen_t tl = sizeof(to);
		if (net_server_produce(m->srv, now, buf, sizeof(buf), LOAD_SEND_BATCH, &len, &seg, &to, &tl) < 0 || !len)
			break;
		int r = net_udp_send(m->udp, buf, len, seg, (const struct sockaddr *)&to, tl, &sent);
		if (r == -EAGAIN)
			break; /* the socket's buffer is full: QUIC's loss recovery sends it again */
		if (r < 0) {
			load_glue_fail(m->L, "member %u: sending on its UDP socket failed: %s", m->i, strerror(-r));
			break;
		}
	}
}

/* ---- the session layer's actions ------------------------------------------------- */

static void on_event(struct load_member *m, const struct net_sl_action *a, uint64_t now)
{
	switch (a->ev) {
	case NET_SL_EV_JOINED:
		m->st = LM_ACTIVE;
		m->joins++;
		m->peer_id = m->sl->peer_id;
		m->role = m->sl->role;
		load_traffic_joined(m, now);
		break;
	case NET_SL_EV_ENTRIES:
		load_on_entries(m, a->data, a->len, a->count);
		break;
	case NET_SL_EV_SYNC_DUE:
		load_on_sync_due(m);
		break;
	case NET_SL_EV_SYNC:
		load_on_sync(m, &a->msg.u.sync);
		break;
	case NET_SL_EV_REJECTED:
		m->rejected++;
		if (m->L->o.verbose)
			fprintf(stderr, "theta-load: member %u: the host refused entry %llu: %s\n", m->i,
				(unsigned long long)a->msg.u.rej.seq, a->msg.u.rej.text);
		break;
	case NET_SL_EV_LOST:
	case NET_SL_EV_LEFT:
	case NET_SL_EV_PROTOCOL:
		snprintf(m->end_why, sizeof(m->end_why), "%s", a->text[0] ? a->text : "the host ended the session");
		break;
	default:
		break;
	}
}

void load_member_run(struct load_member *m, uint64_t now)
{
	struct net_sl_action a;
	if (m->in_run)
		return; /* the outer drain takes what was added */
	m->in_run = true;
	while (m->sl && net_sl_poll(m->sl, &a) == 1) {
		switch (a.kind) {
		case NET_SL_A_SEND:
			if (a.chan > LOAD_CH_COMMANDS || a.len < PROTO_SESS_FRAME_HDR ||
			    th_get_le32(a.data) != a.len - PROTO_SESS_FRAME_HDR)
				load_glue_fail(m->L, "member %u: a SEND that is not one frame on a stream", m->i);
			else
				load_member_send_stream(m, a.chan, a.data, a.len);
			break;
		case NET_SL_A_DGRAM:
			if (live(m) && net_quic_dgram_send(m->q, a.data, a.len) == 0)
				net_chan_sent(&m->ch[LOAD_CH_HEARTBEAT], a.len);
			break;
		case NET_SL_A_CLOSE:
			m->close_code = a.code;
			if (!m->end_why[0])
				snprintf(m->end_why, sizeof(m->end_why), "closed: %s (0x%llx)", a.text,
					 (unsigned long long)a.code);
			if (live(m))
				net_quic_close(m->q, a.code, a.text[0] ? a.text : NULL, now);
			break;
		case NET_SL_A_LOG:
			if (m->L->o.verbose)
				fprintf(stderr, "theta-load: member %u: %s\n", m->i, a.text);
			break;
		case NET_SL_A_EVENT:
			on_event(m, &a, now);
			break;
		}
	}
	m->in_run = false;
}

/* ---- QUIC callbacks -------------------------------------------------------------- */

static void cb_handshake_done(struct net_quic *q, uint64_t now, void *ud)
{
	struct load_member *m = ud;
	uint8_t binding[NET_QUIC_CHANNEL_BINDING_LEN];
	if (!m || !m->sl)
		return;
	if (net_quic_channel_binding(q, binding) < 0) {
		load_glue_fail(m->L, "member %u: no channel binding after the handshake", m->i);
		return;
	}
	m->st = LM_HELLO;
	net_sl_on_handshake(m->sl, binding, now);
	load_member_run(m, now);
}

static void cb_stream_open(struct net_quic *q, int64_t sid, uint64_t now, void *ud)
{
	(void)now;
	(void)ud;
	net_quic_stream_reset(q, sid, PROTO_SESS_ERR_PROTOCOL); /* the joiner opens every stream */
}

static void cb_stream_data(struct net_quic *q, int64_t sid, const uint8_t *d, size_t len, bool fin, uint64_t now,
			   void *ud)
{
	struct load_member *m = ud;
	(void)q;
	(void)fin;
	int i = m ? net_chans_by_sid(&m->L->chans, sid) : -1;
	if (!m || !m->sl || i < 0)
		return;
	net_sl_on_rx(m->sl, now);
	int r = net_chan_feed_stream(&m->ch[i], d, len, false, m, now);
	if (r == -EMSGSIZE || r == -EBADMSG || r == -EPROTO) {
		load_glue_fail(m->L, "member %u: the host sent a malformed frame on the %s stream", m->i,
			       m->ch[i].def->name);
		if (live(m))
			net_quic_close(m->q, PROTO_SESS_ERR_PROTOCOL, "malformed frame", now);
	}
}

static void cb_datagram(struct net_quic *q, const uint8_t *d, size_t len, uint64_t now, void *ud)
{
	struct load_member *m = ud;
	(void)q;
	if (!m || !m->sl || !len)
		return;
	net_sl_on_rx(m->sl, now);
	int i = net_chans_by_dgram(&m->L->chans, d[0]);
	if (i >= 0)
		net_chan_feed_dgram(&m->ch[i], d, len, false, m, now);
}

static void cb_ended(struct net_quic *q, const struct net_quic_end_info *info, uint64_t now, void *ud)
{
	struct load_member *m = ud;
	if (!m || m->q != q)
		return; /* an earlier connection of this member, replaced already */
	if (!m->end_why[0])
		net_quic_end_describe(info, m->end_why, sizeof(m->end_why));
	bool app = info->kind == NET_QUIC_END_REMOTE_APP || info->kind == NET_QUIC_END_LOCAL_APP;
	if (m->sl) {
		net_sl_on_ended(m->sl, app ? info->code : m->close_code);
		load_member_run(m, now);
	}
	if (m->st != LM_LEFT)
		m->st = LM_ENDED;
}

static void cb_conn_gone(struct net_server *srv, struct net_quic *q, uint64_t now, void *ud)
{
	(void)srv;
	(void)now;
	struct load_member *m = net_quic_user(q);
	if (m && m->q == q)
		m->q = NULL;
	(void)ud;
}

static const struct net_server_callbacks srv_cb = {
	.quic = {
		.handshake_done = cb_handshake_done,
		.stream_open = cb_stream_open,
		.stream_data = cb_stream_data,
		.datagram = cb_datagram,
		.ended = cb_ended,
	},
	.conn_gone = cb_conn_gone,
};

/* ---- connecting, serving, leaving ------------------------------------------------- */

static int remote_addr(const struct proto_invite_link *l, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (l->host_is_ipv6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(l->port);
		if (inet_pton(AF_INET6, l->host, &a->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(l->port);
	if (inet_pton(AF_INET, l->host, &a->sin_addr) != 1)
		return -EINVAL;
	*len = sizeof(*a);
	return 0;
}

int load_member_connect(struct load_member *m, uint64_t now)
{
	struct load *L = m->L;
	int r;
	if (!m->udp) {
		if ((r = net_udp_open(NULL, 0, &m->udp)) < 0)
			return r;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = m };
		if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, net_udp_fd(m->udp), &ev) < 0)
			return -errno;
	}
	if (!m->srv) {
		socklen_t ll;
		const struct sockaddr *local = net_udp_local(m->udp, &ll);
		struct net_server_config sc = {
			.quic = { .initial_rtt_ns = 20ull * 1000 * 1000 }, .refuse_incoming = true,
		};
		if ((r = net_server_create(&sc, L->cert->cred, &srv_cb, m, local, ll, &m->srv)) < 0)
			return r;
	}
	struct sockaddr_storage to;
	socklen_t tl;
	if (remote_addr(m->link, &to, &tl) < 0)
		return -EINVAL;
	net_sl_destroy(&m->sl);
	chans_reset(m);
	struct net_sl_config c = {
		.side = NET_SL_JOINER, .pk = m->daemon.pk, .sk = m->daemon.sk,
		.schema_hash = proto_sess_handshake_hash(), .caps = PROTO_SESS_CAP_DATAGRAMS | PROTO_SESS_CAP_VOICE,
		.wall_offset_ns = L->wall_off_ns, .token = m->link->token, .token_len = sizeof(m->link->token),
	};
	memcpy(c.session_id, m->link->session_id, PROTO_SESS_ID_LEN);
	randombytes_buf(c.nonce, sizeof(c.nonce));
	if ((r = net_sl_create(&c, now, &m->sl)) < 0)
		return r;
	m->end_why[0] = 0;
	m->close_code = 0;
	if ((r = net_server_connect(m->srv, m->link->fp, (const struct sockaddr *)&to, tl, m, now, &m->q)) < 0)
		return r;
	m->st = LM_CONNECTING;
	m->connects++;
	load_member_flush(m, now);
	return 0;
}

void load_member_service(struct load_member *m, uint64_t now)
{
	if (m->sl && net_sl_next_expiry(m->sl) <= now) {
		net_sl_on_timer(m->sl, now);
		load_member_run(m, now);
	}
	load_traffic_due(m, now);
	load_member_flush(m, now);
	uint64_t t = m->srv ? net_server_next_expiry(m->srv) : UINT64_MAX, x;
	if (m->sl && live(m) && (x = net_sl_next_expiry(m->sl)) < t)
		t = x;
	if ((x = load_traffic_next(m)) < t)
		t = x;
	m->next_due_ns = t;
}

void load_member_readable(struct load_member *m, uint64_t now)
{
	struct net_udp_msg msgs[NET_UDP_RX_BATCH];
	for (;;) {
		int n = net_udp_recv(m->udp, msgs, NET_UDP_RX_BATCH);
		if (n <= 0)
			break;
		for (int k = 0; k < n; k++)
			net_server_feed(m->srv, msgs[k].data, msgs[k].len, (const struct sockaddr *)&msgs[k].from,
					msgs[k].from_len, now);
		if (n < (int)NET_UDP_RX_BATCH)
			break;
	}
	load_member_service(m, now);
}

void load_member_leave(struct load_member *m, uint64_t now)
{
	if (m->sl && live(m) && m->st == LM_ACTIVE) {
		net_sl_leave(m->sl);
		load_member_run(m, now);
	} else if (live(m)) {
		net_quic_close(m->q, PROTO_SESS_ERR_LEFT, NULL, now);
	}
	m->st = LM_LEFT;
	load_member_flush(m, now);
}

void load_member_free(struct load_member *m)
{
	net_server_destroy(&m->srv);
	m->q = NULL;
	net_sl_destroy(&m->sl);
	for (unsigned i = 0; m->chans_init && i < LOAD_CH_N; i++)
		net_chan_fini(&m->ch[i]);
	m->chans_init = false;
	if (m->udp)
		net_udp_close(&m->udp);
	load_traffic_fini(m);
}
