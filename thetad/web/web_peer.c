/* One browser peer's transport: web_stun, web_dtls, web_sctp and web_dcep
 * stacked (web_peer.h; docs/web.md "The peer").
 *
 * Re-entrancy: callbacks of the layers below run inside web_peer_input,
 * _tick, _send and _close, and the owner's callbacks run inside those.
 * Every entry point counts its depth; a close asked for inside (a bound
 * passed, the owner's web_peer_close or web_peer_destroy from a callback)
 * is recorded at once (state CLOSED, no callback to the owner after it)
 * and carried out when the outermost entry returns: the association is
 * aborted, the DTLS session sent close_notify, both freed, then on_closed.
 * So no layer is freed while one of its own calls is on the stack.
 *
 * Timers: web_peer_tick runs this peer's deadlines (connect, consent) and
 * web_dtls_tick. usrsctp's timers are global to the process: the owner
 * calls web_sctp_timers about every WEB_SCTP_TICK_NS while any peer has an
 * association (web_peer_state SCTP or OPEN); web_peer_tick does not. */
#include "web/web_peer.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_dcep.h"
#include "web/web_dtls.h"
#include "web/web_sctp.h"
#include "web/web_stun.h"

#define WEB_PEER_WHY_MAX 200u

struct web_chan {
	bool open;
	bool unordered;
	int max_rtx;
};

struct web_peer {
	struct web_peer_ops ops;
	void *user;
	gnutls_certificate_credentials_t cred;
	struct web_sdp_offer offer;
	char ufrag[WEB_STUN_UFRAG_MAX + 1];
	char pwd[WEB_STUN_PWD_MAX + 1];
	size_t max_in;  /* the largest message we take */
	size_t max_out; /* the largest the browser takes (its max-message-size) */

	enum web_peer_state state;
	uint64_t created_ns, consent_ns, now_ns;
	bool have_addr;
	struct sockaddr_storage addr;
	socklen_t addrlen;

	struct web_dtls *dtls;
	struct web_sctp *sctp;
	struct web_chan chans[WEB_SCTP_STREAMS];
	unsigned n_chans;

	struct web_peer_stats st;
	uint64_t dtls_in_done, dtls_bad_done; /* a freed web_dtls's counts */

	unsigned depth;
	bool close_pending, destroy_pending;
	enum web_peer_close reason;
	char why[WEB_PEER_WHY_MAX];
};

static void peer_free(struct web_peer *p);

static void enter(struct web_peer *p)
{
	p->depth++;
}

static void fold_dtls_stats(struct web_peer *p)
{
	if (!p->dtls)
		return;
	struct web_dtls_stats ds;
	web_dtls_get_stats(p->dtls, &ds);
	p->dtls_in_done += ds.records_in;
	p->dtls_bad_done += ds.bad_records;
}

/* The teardown of a close: the layers go first (their last packets still
 * leave through send_to), then the owner hears of it. Runs at depth 1, so
 * an owner that destroys the peer from on_closed only marks it (leave
 * frees it afterwards). */
static void finish_close(struct web_peer *p)
{
	p->close_pending = false;
	web_sctp_destroy(&p->sctp);
	if (p->dtls && web_dtls_state(p->dtls) == WEB_DTLS_OPEN)
		web_dtls_close(p->dtls);
	fold_dtls_stats(p);
	web_dtls_destroy(&p->dtls);
	if (!p->destroy_pending && p->ops.on_closed)
		p->ops.on_closed(p->user, p->reason, p->why);
}

/* Returns true when p was freed. */
static bool leave(struct web_peer *p)
{
	if (p->depth == 1 && p->close_pending)
		finish_close(p);
	if (--p->depth)
		return false;
	if (p->destroy_pending) {
		peer_free(p);
		return true;
	}
	return false;
}

static void peer_close(struct web_peer *p, enum web_peer_close reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void peer_close(struct web_peer *p, enum web_peer_close reason, const char *fmt, ...)
{
	if (p->state == WEB_PEER_CLOSED)
		return;
	p->state = WEB_PEER_CLOSED;
	p->reason = reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->close_pending = true;
}

static int send_datagram(struct web_peer *p, const struct sockaddr *to, socklen_t tolen, const uint8_t *b, size_t len)
{
	int r = p->ops.send_to(p->user, to, tolen, b, len);
	if (r >= 0)
		p->st.bytes_out += len;
	return r;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen, const struct sockaddr *b, socklen_t blen)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (a->ss_family == AF_INET && blen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6 && blen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return alen == blen && !memcmp(a, b, alen);
}

/* ---- SCTP (inside DTLS) ---- */

static int sctp_output(void *user, const uint8_t *b, size_t len)
{
	struct web_peer *p = user;
	if (!p->dtls)
		return -ENOTCONN;
	return web_dtls_send(p->dtls, b, len);
}

static void on_dcep(struct web_peer *p, uint16_t stream, const uint8_t *b, size_t len)
{
	struct web_dcep_open o;
	int r = web_dcep_parse_open(b, len, &o);
	if (r == -ENOTSUP)
		return; /* a valid DCEP message that is no OPEN (an ACK): nothing asked for it */
	if (r < 0) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the browser sent a DCEP message on stream %u that does not parse",
			   stream);
		return;
	}
	if (p->chans[stream].open) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the browser opened channel stream %u a second time", stream);
		return;
	}
	if (p->n_chans >= WEB_PEER_CHANNELS) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the browser opened more than %u data channels", WEB_PEER_CHANNELS);
		return;
	}
	uint8_t ack[4];
	int n = web_dcep_build_ack(ack, sizeof(ack));
	if (n < 0 || (r = web_sctp_send(p->sctp, stream, WEB_PPID_DCEP, ack, (size_t)n, false, -1)) < 0) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the DCEP ACK for stream %u could not be sent (%s)", stream,
			   strerror(n < 0 ? -n : -r));
		return;
	}
	p->st.sctp_msgs_out++;
	struct web_chan *c = &p->chans[stream];
	c->open = true;
	c->unordered = web_dcep_unordered(o.channel_type);
	/* A timed channel (maxPacketLifeTime) is served as reliable: web_sctp
	 * has no lifetime policy, and more delivery than asked breaks nothing. */
	c->max_rtx = (o.channel_type & 0x7fu) == WEB_DCEP_PARTIAL_RELIABLE_REXMIT
			     ? (o.reliability > INT_MAX ? INT_MAX : (int)o.reliability)
			     : -1;
	p->n_chans++;
	if (p->ops.on_channel)
		p->ops.on_channel(p->user, stream, o.label, c->unordered, c->max_rtx);
}

static void sctp_on_message(void *user, uint16_t stream, uint32_t ppid, const uint8_t *b, size_t len)
{
	struct web_peer *p = user;
	if (p->state == WEB_PEER_CLOSED)
		return;
	p->st.sctp_msgs_in++;
	if (stream >= WEB_SCTP_STREAMS) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the browser used SCTP stream %u (at most %u)", stream,
			   WEB_SCTP_STREAMS - 1);
		return;
	}
	if (ppid == WEB_PPID_DCEP) {
		on_dcep(p, stream, b, len);
		return;
	}
	bool binary;
	switch (ppid) {
	case WEB_PPID_STRING:
	case WEB_PPID_BINARY:
		binary = ppid == WEB_PPID_BINARY;
		break;
	case WEB_PPID_STRING_EMPTY:
	case WEB_PPID_BINARY_EMPTY:
		binary = ppid == WEB_PPID_BINARY_EMPTY;
		len = 0; /* sent as one byte (RFC 8831 6.6) */
		break;
	default:
		peer_close(p, WEB_PEER_C_PROTOCOL, "the browser sent a message with PPID %u, which data channels do not use",
			   (unsigned)ppid);
		return;
	}
	if (!p->chans[stream].open) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the browser sent data on stream %u, which has no open channel", stream);
		return;
	}
	if (len > p->max_in) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the browser sent a message of %zu bytes (at most %zu)", len,
			   p->max_in);
		return;
	}
	if (p->ops.on_message)
		p->ops.on_message(p->user, stream, binary, b, len, p->now_ns);
}

static void sctp_on_state(void *user, enum web_sctp_state s, const char *why)
{
	struct web_peer *p = user;
	if (p->state == WEB_PEER_CLOSED)
		return;
	if (s == WEB_SCTP_OPEN) {
		if (p->state != WEB_PEER_OPEN) {
			p->state = WEB_PEER_OPEN;
			p->st.answer_to_open_ns = p->now_ns > p->created_ns ? p->now_ns - p->created_ns : 1;
		}
	} else if (s == WEB_SCTP_CLOSED) {
		peer_close(p, WEB_PEER_C_BYE, "the SCTP association closed: %s", why ? why : "no reason given");
	}
}

static void sctp_on_writable(void *user)
{
	struct web_peer *p = user;
	if (p->state != WEB_PEER_CLOSED && p->ops.on_writable)
		p->ops.on_writable(p->user);
}

/* The browser closed the channel on stream (RFC 8831 6.7: it reset its
 * outgoing stream, web_sctp reset ours in answer): the stream is free for
 * a new OPEN; sends to it say -ENOENT. */
static void sctp_on_stream_reset(void *user, uint16_t stream)
{
	struct web_peer *p = user;
	if (p->state == WEB_PEER_CLOSED || stream >= WEB_SCTP_STREAMS || !p->chans[stream].open)
		return;
	p->chans[stream].open = false;
	p->n_chans--;
}

static const struct web_sctp_ops sctp_ops = {
	.output = sctp_output,
	.on_message = sctp_on_message,
	.on_state = sctp_on_state,
	.on_writable = sctp_on_writable,
	.on_stream_reset = sctp_on_stream_reset,
};

/* ---- DTLS ---- */

static int dtls_output(void *user, const uint8_t *b, size_t len)
{
	struct web_peer *p = user;
	if (!p->have_addr)
		return -ENOTCONN;
	return send_datagram(p, (const struct sockaddr *)&p->addr, p->addrlen, b, len);
}

static void dtls_on_data(void *user, const uint8_t *b, size_t len)
{
	struct web_peer *p = user;
	if (p->state == WEB_PEER_CLOSED || !p->sctp)
		return;
	web_sctp_input(p->sctp, b, len);
}

static void dtls_on_open(void *user)
{
	struct web_peer *p = user;
	if (p->state != WEB_PEER_DTLS)
		return;
	int r = web_sctp_create(WEB_SDP_SCTP_PORT, p->offer.sctp_port, web_dtls_data_mtu(p->dtls), &sctp_ops, p,
				&p->sctp);
	if (r < 0) {
		peer_close(p, WEB_PEER_C_PROTOCOL, "the SCTP association could not be created (%s)", strerror(-r));
		return;
	}
	if (p->state == WEB_PEER_DTLS)
		p->state = WEB_PEER_SCTP;
}

static const struct web_dtls_ops dtls_ops = {
	.output = dtls_output,
	.on_data = dtls_on_data,
	.on_open = dtls_on_open,
};

static void dtls_failed(struct web_peer *p, int err)
{
	const char *why = NULL;
	web_dtls_error(p->dtls, &why);
	if (!why)
		why = strerror(-err);
	switch (err) {
	case -EKEYREJECTED:
		peer_close(p, WEB_PEER_C_FINGERPRINT, "the browser's DTLS certificate is not the one its offer names: %s",
			   why);
		break;
	case -ECONNRESET:
		peer_close(p, WEB_PEER_C_BYE, "the browser closed its DTLS session");
		break;
	case -ETIMEDOUT:
		peer_close(p, WEB_PEER_C_TIMEOUT, "the DTLS handshake did not finish in time: %s", why);
		break;
	default:
		peer_close(p, WEB_PEER_C_PROTOCOL, "DTLS failed: %s", why);
		break;
	}
}

/* ---- STUN ---- */

static void on_stun(struct web_peer *p, const struct sockaddr *from, socklen_t fromlen, const uint8_t *b, size_t len,
		    uint64_t now_ns)
{
	struct web_stun_request rq;
	if (web_stun_parse_request(b, len, p->ufrag, p->pwd, &rq, NULL) < 0) {
		p->st.stun_bad++;
		return;
	}
	uint8_t resp[WEB_STUN_RESPONSE_MAX];
	int n = web_stun_build_response(&rq, from, fromlen, p->pwd, resp, sizeof(resp));
	if (n < 0) {
		p->st.stun_bad++; /* an address family we cannot answer */
		return;
	}
	p->st.stun_ok++;
	p->consent_ns = now_ns;
	if (fromlen > (socklen_t)sizeof(p->addr))
		fromlen = sizeof(p->addr);
	if (!p->have_addr || (rq.use_candidate && !same_addr(&p->addr, p->addrlen, from, fromlen))) {
		memset(&p->addr, 0, sizeof(p->addr));
		memcpy(&p->addr, from, fromlen);
		p->addrlen = fromlen;
		p->have_addr = true;
	}
	send_datagram(p, from, fromlen, resp, (size_t)n);
	if (p->state == WEB_PEER_WAITING) {
		int r = web_dtls_create(p->cred, p->offer.fp, &dtls_ops, p, now_ns, &p->dtls);
		if (r < 0) {
			peer_close(p, WEB_PEER_C_PROTOCOL, "the DTLS session could not be created (%s)", strerror(-r));
			return;
		}
		p->state = WEB_PEER_DTLS;
	}
}

/* ---- the API ---- */

int web_peer_create(const struct web_peer_config *cfg, const struct web_peer_ops *ops, void *user, uint64_t now_ns,
		    struct web_peer **out)
{
	if (!cfg || !cfg->offer || !cfg->cred || !cfg->local_ufrag || !cfg->local_pwd || !ops || !ops->send_to ||
	    !out)
		return -EINVAL;
	size_t ul = strlen(cfg->local_ufrag), pl = strlen(cfg->local_pwd);
	if (!ul || ul > WEB_STUN_UFRAG_MAX || !pl || pl > WEB_STUN_PWD_MAX)
		return -EINVAL;
	if (web_sctp_global_init() < 0)
		return -EIO;
	struct web_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ops = *ops;
	p->user = user;
	p->cred = cfg->cred;
	p->offer = *cfg->offer;
	memcpy(p->ufrag, cfg->local_ufrag, ul + 1);
	memcpy(p->pwd, cfg->local_pwd, pl + 1);
	p->max_in = cfg->max_message && cfg->max_message < WEB_SCTP_MAX_MESSAGE ? cfg->max_message
										 : WEB_SCTP_MAX_MESSAGE;
	p->max_out = p->offer.max_message_size && p->offer.max_message_size < WEB_SCTP_MAX_MESSAGE
			     ? (size_t)p->offer.max_message_size
			     : WEB_SCTP_MAX_MESSAGE;
	if (!p->offer.sctp_port)
		p->offer.sctp_port = WEB_SDP_SCTP_PORT;
	p->state = WEB_PEER_WAITING;
	p->created_ns = p->now_ns = now_ns;
	*out = p;
	return 0;
}

static void peer_free(struct web_peer *p)
{
	web_sctp_destroy(&p->sctp);
	web_dtls_destroy(&p->dtls);
	free(p);
}

void web_peer_destroy(struct web_peer **pp)
{
	if (!pp || !*pp)
		return;
	struct web_peer *p = *pp;
	*pp = NULL;
	if (p->depth) { /* from inside a callback: freed when the outermost call returns */
		p->destroy_pending = true;
		if (p->state != WEB_PEER_CLOSED)
			peer_close(p, WEB_PEER_C_LOCAL, "the peer was destroyed");
		return;
	}
	p->depth++;
	web_sctp_destroy(&p->sctp);
	p->depth--;
	peer_free(p);
}

void web_peer_input(struct web_peer *p, const struct sockaddr *from, socklen_t fromlen, const uint8_t *data,
		    size_t len, uint64_t now_ns)
{
	if (!p || p->state == WEB_PEER_CLOSED || !from || !data || !len)
		return;
	enter(p);
	if (now_ns > p->now_ns)
		p->now_ns = now_ns;
	p->st.bytes_in += len;
	if (web_stun_is_stun(data, len)) {
		on_stun(p, from, fromlen, data, len, now_ns);
	} else if (data[0] >= 20 && data[0] <= 63) {
		/* DTLS only from the selected address (RFC 8445: media on the
		 * nominated pair); before a verified check there is none. */
		if (!p->dtls || !same_addr(&p->addr, p->addrlen, from, fromlen)) {
			p->st.dtls_bad++;
		} else {
			int r = web_dtls_input(p->dtls, data, len, now_ns);
			if (r < 0)
				dtls_failed(p, r);
		}
	} else {
		p->st.dtls_bad++; /* neither STUN nor DTLS (RFC 7983): dropped */
	}
	leave(p);
}

int web_peer_send(struct web_peer *p, unsigned chan, bool binary, const uint8_t *data, size_t len)
{
	if (!p || (len && !data))
		return -EINVAL;
	if (p->state != WEB_PEER_OPEN)
		return -ENOTCONN;
	if (chan >= WEB_SCTP_STREAMS || !p->chans[chan].open)
		return -ENOENT;
	if (len > p->max_out)
		return -EMSGSIZE;
	const struct web_chan *c = &p->chans[chan];
	uint32_t ppid = binary ? (len ? WEB_PPID_BINARY : WEB_PPID_BINARY_EMPTY)
			       : (len ? WEB_PPID_STRING : WEB_PPID_STRING_EMPTY);
	static const uint8_t zero;
	enter(p);
	int r = web_sctp_send(p->sctp, (uint16_t)chan, ppid, len ? data : &zero, len, c->unordered, c->max_rtx);
	if (r >= 0)
		p->st.sctp_msgs_out++;
	leave(p);
	return r;
}

size_t web_peer_buffered(const struct web_peer *p)
{
	return p && p->sctp ? web_sctp_buffered(p->sctp) : 0;
}

void web_peer_tick(struct web_peer *p, uint64_t now_ns)
{
	if (!p || p->state == WEB_PEER_CLOSED)
		return;
	enter(p);
	if (now_ns > p->now_ns)
		p->now_ns = now_ns;
	if (p->state != WEB_PEER_OPEN && now_ns >= p->created_ns + WEB_PEER_CONNECT_NS) {
		peer_close(p, WEB_PEER_C_TIMEOUT, "the browser did not open its transport within %llu s",
			   (unsigned long long)(WEB_PEER_CONNECT_NS / 1000000000ull));
	} else if (p->have_addr && now_ns >= p->consent_ns + WEB_PEER_CONSENT_NS) {
		peer_close(p, WEB_PEER_C_CONSENT, "the browser sent no ICE consent check for %llu s",
			   (unsigned long long)(WEB_PEER_CONSENT_NS / 1000000000ull));
	} else if (p->dtls && p->state == WEB_PEER_DTLS && web_dtls_timeout_ns(p->dtls) <= now_ns) {
		int r = web_dtls_tick(p->dtls, now_ns);
		if (r < 0)
			dtls_failed(p, r);
	}
	leave(p);
}

uint64_t web_peer_timeout_ns(const struct web_peer *p)
{
	if (!p || p->state == WEB_PEER_CLOSED)
		return UINT64_MAX;
	uint64_t t = UINT64_MAX;
	if (p->state != WEB_PEER_OPEN)
		t = p->created_ns + WEB_PEER_CONNECT_NS;
	if (p->have_addr && p->consent_ns + WEB_PEER_CONSENT_NS < t)
		t = p->consent_ns + WEB_PEER_CONSENT_NS;
	if (p->dtls && p->state == WEB_PEER_DTLS) {
		uint64_t d = web_dtls_timeout_ns(p->dtls);
		if (d < t)
			t = d;
	}
	return t;
}

void web_peer_close(struct web_peer *p, const char *why)
{
	if (!p || p->state == WEB_PEER_CLOSED)
		return;
	enter(p);
	peer_close(p, WEB_PEER_C_LOCAL, "%s", why && *why ? why : "closed by the daemon");
	leave(p);
}

enum web_peer_state web_peer_state(const struct web_peer *p)
{
	return p ? p->state : WEB_PEER_CLOSED;
}

bool web_peer_owns_ufrag(const struct web_peer *p, const char *local_ufrag)
{
	return p && local_ufrag && !strcmp(p->ufrag, local_ufrag);
}

bool web_peer_address(const struct web_peer *p, struct sockaddr_storage *out, socklen_t *len)
{
	if (!p || !p->have_addr)
		return false;
	if (out)
		*out = p->addr;
	if (len)
		*len = p->addrlen;
	return true;
}

void web_peer_get_stats(const struct web_peer *p, struct web_peer_stats *out)
{
	if (!p || !out)
		return;
	*out = p->st;
	out->dtls_records_in += p->dtls_in_done;
	out->dtls_bad += p->dtls_bad_done;
	if (p->dtls) {
		struct web_dtls_stats ds;
		web_dtls_get_stats(p->dtls, &ds);
		out->dtls_records_in += ds.records_in;
		out->dtls_bad += ds.bad_records;
	}
}
