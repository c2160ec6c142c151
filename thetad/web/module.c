/* The web module (module.h, docs/web.md "The web endpoint"): off unless
 * [web] listen is set. On the loop thread it serves the browser client's
 * files and POST /offer (web_http), owns one UDP socket for every
 * browser's WebRTC transport (web_peer: datagrams demultiplexed by source
 * address, a new address by its STUN USERNAME), one timerfd for the
 * peers' deadlines and usrsctp's timers, and one web_bridge per browser
 * that makes it a client of the IPC server. An offer is admitted by the
 * sessions module from the invite token (sess_module_browser_admit) or a
 * resume secret (sess_module_browser_resume) before anything is made for
 * it; a browser that does not open within WEB_PEER_CONNECT_NS is dropped
 * (web_peer's deadline). */
#include "web/module.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "invite.h"
#include "ipc/module.h"
#include "ipc/server.h"
#include "net/net_cert.h"
#include "net/net_chan.h"
#include "session.h"
#include "sess/module.h"
#include "srv/config.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "srv/module.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_loop.h"
#include "th_time.h"
#include "net/net_udp.h"
#include "web/web_addr.h"
#include "web/web_bridge.h"
#include "web/web_http.h"
#include "web/web_peer.h"
#include "web/web_sctp.h"
#include "web/web_sdp.h"
#include "web/web_stun.h"

#define WEB_BROWSERS_MAX ((unsigned)SRV_WEB_MAX_PEERS_MAX) /* web.max_peers' upper bound */
#define WEB_UDP_BATCH 64u            /* datagrams read per wake-up */
#define WEB_UDP_DGRAM_MAX 2048u      /* larger ones are truncated, dropped and counted */
#define WEB_RATE_ADDRS 256u          /* remote addresses whose offer rate is tracked */
#define WEB_OFFER_RATE_PER_S 2u      /* offers per second per remote address, on average */
#define WEB_OFFER_RATE_BURST 10u     /* and at once */
#define WEB_NAME_DEFAULT "browser"
#define WEB_WHY_MAX 200u
#define WEB_URL_MAX 320u

/* The error codes of POST /offer (TEAM15 contract), each with a counter. */
enum web_code {
	WEB_E_BAD_REQUEST,
	WEB_E_BAD_OFFER,
	WEB_E_BAD_TOKEN,
	WEB_E_DENIED,
	WEB_E_NO_SESSION,
	WEB_E_USED,
	WEB_E_EXPIRED,
	WEB_E_FULL,
	WEB_E_UNAVAILABLE,
	WEB_E_N,
};
static const struct web_code_def {
	const char *code, *metric, *help;
	unsigned status;
} web_codes[WEB_E_N] = {
	[WEB_E_BAD_REQUEST] = { "bad_request", "web_refused_bad_request", "offers refused: not a valid request", 400 },
	[WEB_E_BAD_OFFER] = { "bad_offer", "web_refused_bad_offer", "offers refused: the SDP offer is not usable", 400 },
	[WEB_E_BAD_TOKEN] = { "bad_token", "web_refused_bad_token", "offers refused: not a token of this host", 403 },
	[WEB_E_DENIED] = { "denied", "web_refused_denied", "offers refused: the browser was denied or kicked", 403 },
	[WEB_E_NO_SESSION] = { "no_session", "web_refused_no_session", "offers refused: no such session hosted here", 404 },
	[WEB_E_USED] = { "used", "web_refused_used", "offers refused: a single-use token already used", 409 },
	[WEB_E_EXPIRED] = { "expired", "web_refused_expired", "offers refused: the token expired", 410 },
	[WEB_E_FULL] = { "full", "web_refused_full", "offers refused: too many browsers or offers", 429 },
	[WEB_E_UNAVAILABLE] = { "unavailable", "web_refused_unavailable", "offers refused: the daemon failed", 503 },
};

struct web_mod;

struct web_browser {
	struct web_mod *m;
	struct web_peer *peer;
	struct web_bridge *bridge;
	struct sess_browser who;
	char session_hex[SESS_ID_LEN + 1];
	uint8_t nonce[PROTO_INVITE_NONCE_LEN]; /* the token's (admit), for one pending offer per nonce */
	bool has_nonce;
	char ufrag[9], pwd[25];
	uint64_t created_ns;
	bool was_open, closed;
	enum web_peer_close reason;
	char why[WEB_WHY_MAX];
	uint64_t bytes_in, bytes_out; /* what was added to the counters already */
};

struct web_rate_slot {
	uint8_t addr[16];
	sa_family_t family;
	struct net_rate rate;
	uint64_t used_ns;
};

struct web_mod {
	struct srv_daemon *d;
	struct th_loop *loop;
	struct ipc_server *ipc;
	void *sess;
	struct net_cert *cert;
	char *key_pem;
	struct web_http *http;
	struct sockaddr_storage listen;
	socklen_t listen_len;
	char listen_text[WEB_ADDR_TEXT_MAX];
	char listen_conf[sizeof(((struct srv_config *)0)->web_listen)]; /* as configured */
	bool tls;
	int udp_fd, timer_fd;
	unsigned udp_port;
	unsigned max_peers;
	char root[sizeof(((struct srv_config *)0)->web_root)];
	struct web_browser *b[WEB_BROWSERS_MAX];
	unsigned n;
	uint64_t sctp_due_ns;
	struct web_rate_slot rates[WEB_RATE_ADDRS];
	uint64_t *m_offers, *m_admitted, *m_resumed, *m_refused[WEB_E_N], *m_peers, *m_open, *m_protocol,
		*m_unknown, *m_truncated, *m_bytes_in, *m_bytes_out, *m_opened, *m_closed, *m_http_requests,
		*m_http_files, *m_http_not_found, *m_send_fail;
	struct web_http_stats http_last;
};

static const char *const web_state_names[] = {
	[WEB_PEER_WAITING] = "waiting", [WEB_PEER_DTLS] = "dtls", [WEB_PEER_SCTP] = "sctp",
	[WEB_PEER_OPEN] = "open",       [WEB_PEER_CLOSED] = "closed",
};

/* ---- replies ----------------------------------------------------------------------- */

static void reply_json(struct web_http_reply *out, unsigned status, struct json_object *o)
{
	out->status = status;
	out->json = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void reply_error(struct web_mod *m, struct web_http_reply *out, enum web_code code, const char *sentence)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(sentence));
	json_object_object_add(o, "code", json_object_new_string(web_codes[code].code));
	(*m->m_refused[code])++;
	reply_json(out, web_codes[code].status, o);
}

/* ---- browsers ---------------------------------------------------------------------- */

static void arm_timer(struct web_mod *m);

static void count_bytes(struct web_browser *b)
{
	struct web_peer_stats st;
	web_peer_get_stats(b->peer, &st);
	*b->m->m_bytes_in += st.bytes_in - b->bytes_in;
	*b->m->m_bytes_out += st.bytes_out - b->bytes_out;
	b->bytes_in = st.bytes_in;
	b->bytes_out = st.bytes_out;
}

static void count_peers(struct web_mod *m)
{
	uint64_t open = 0;
	for (unsigned i = 0; i < m->n; i++)
		open += !m->b[i]->closed && web_peer_state(m->b[i]->peer) == WEB_PEER_OPEN;
	*m->m_peers = m->n;
	*m->m_open = open;
}

static void browser_free(struct web_browser *b)
{
	count_bytes(b);
	web_bridge_destroy(&b->bridge); /* detaches the IPC client first: on_disconnect runs */
	web_peer_destroy(&b->peer);
	sodium_memzero(&b->who, sizeof b->who);
	free(b);
}

/* Frees the browsers whose peer closed. */
static void reap(struct web_mod *m)
{
	for (unsigned i = 0; i < m->n;) {
		struct web_browser *b = m->b[i];
		if (!b->closed) {
			i++;
			continue;
		}
		m->b[i] = m->b[--m->n];
		browser_free(b);
	}
	count_peers(m);
}

static int peer_send_to(void *user, const struct sockaddr *to, socklen_t tolen, const uint8_t *p, size_t len)
{
	struct web_browser *b = user;
	ssize_t n = sendto(b->m->udp_fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL, to, tolen);
	if (n < 0) {
		(*b->m->m_send_fail)++;
		return -errno;
	}
	return 0;
}

static void peer_on_channel(void *user, unsigned chan, const char *label, bool unordered, int max_rtx)
{
	struct web_browser *b = user;
	if (!b->was_open && web_peer_state(b->peer) == WEB_PEER_OPEN) {
		b->was_open = true;
		(*b->m->m_opened)++;
	}
	th_debug("browser %s: channel %u \"%s\" open", b->who.name, chan, label);
	web_bridge_on_channel(b->bridge, chan, label, unordered, max_rtx, th_now_ns());
}

static void peer_on_message(void *user, unsigned chan, bool binary, const uint8_t *p, size_t len, uint64_t now_ns)
{
	struct web_browser *b = user;
	if (web_bridge_on_message(b->bridge, chan, binary, p, len, now_ns) < 0) {
		(*b->m->m_protocol)++;
		web_peer_close(b->peer, "The page sent a record the daemon refuses; it was disconnected.");
	}
}

static void peer_on_closed(void *user, enum web_peer_close reason, const char *why)
{
	struct web_browser *b = user;
	b->closed = true;
	b->reason = reason;
	snprintf(b->why, sizeof b->why, "%s", why ? why : "");
	if (reason == WEB_PEER_C_PROTOCOL || reason == WEB_PEER_C_FINGERPRINT)
		(*b->m->m_protocol)++;
	(*b->m->m_closed)++;
	th_info("browser %s (session %s): closed: %s", b->who.name, b->session_hex, b->why);
	arm_timer(b->m); /* reap at once */
}

static void peer_on_writable(void *user)
{
	struct web_browser *b = user;
	web_bridge_on_writable(b->bridge);
}

static const struct web_peer_ops web_peer_cb = {
	.send_to = peer_send_to,
	.on_channel = peer_on_channel,
	.on_message = peer_on_message,
	.on_closed = peer_on_closed,
	.on_writable = peer_on_writable,
};

/* ---- timers ------------------------------------------------------------------------ */

static bool any_association(const struct web_mod *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		enum web_peer_state s = web_peer_state(m->b[i]->peer);
		if (!m->b[i]->closed && (s == WEB_PEER_SCTP || s == WEB_PEER_OPEN))
			return true;
	}
	return false;
}

static void arm_timer(struct web_mod *m)
{
	uint64_t now = th_now_ns(), next = UINT64_MAX;
	for (unsigned i = 0; i < m->n; i++) {
		struct web_browser *b = m->b[i];
		uint64_t t = b->closed ? now : web_peer_timeout_ns(b->peer);
		if (t < next)
			next = t;
	}
	if (any_association(m)) {
		if (!m->sctp_due_ns)
			m->sctp_due_ns = now + WEB_SCTP_TICK_NS;
		if (m->sctp_due_ns < next)
			next = m->sctp_due_ns;
	} else {
		m->sctp_due_ns = 0;
	}
	if (next == UINT64_MAX)
		th_timerfd_set(m->timer_fd, 0, 0);
	else
		th_timerfd_set(m->timer_fd, next > now ? next - now : 1, 0);
}

static void on_timer(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct web_mod *m = user;
	(void)loop;
	(void)events;
	th_timerfd_drain(fd);
	uint64_t now = th_now_ns();
	if (m->sctp_due_ns && now >= m->sctp_due_ns) {
		web_sctp_timers(now);
		m->sctp_due_ns = now + WEB_SCTP_TICK_NS;
	}
	for (unsigned i = 0; i < m->n; i++)
		if (!m->b[i]->closed && web_peer_timeout_ns(m->b[i]->peer) <= now)
			web_peer_tick(m->b[i]->peer, now);
	reap(m);
	arm_timer(m);
}

/* ---- UDP --------------------------------------------------------------------------- */

static struct web_browser *demux(struct web_mod *m, const struct sockaddr *from, const uint8_t *p, size_t len)
{
	struct sockaddr_storage a;
	socklen_t alen;
	for (unsigned i = 0; i < m->n; i++)
		if (!m->b[i]->closed && web_peer_address(m->b[i]->peer, &a, &alen) &&
		    net_udp_addr_equal((struct sockaddr *)&a, from))
			return m->b[i];
	char ufrag[WEB_STUN_UFRAG_MAX + 1];
	if (!web_stun_is_stun(p, len) || web_stun_peek_username(p, len, ufrag, sizeof ufrag) < 0)
		return NULL;
	for (unsigned i = 0; i < m->n; i++)
		if (!m->b[i]->closed && web_peer_owns_ufrag(m->b[i]->peer, ufrag))
			return m->b[i];
	return NULL;
}

static void on_udp(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct web_mod *m = user;
	uint8_t buf[WEB_UDP_DGRAM_MAX];
	(void)loop;
	(void)events;
	for (unsigned k = 0; k < WEB_UDP_BATCH; k++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &flen);
		if (n < 0)
			break;
		if ((size_t)n > sizeof buf) {
			(*m->m_truncated)++;
			continue;
		}
		struct web_browser *b = demux(m, (struct sockaddr *)&from, buf, (size_t)n);
		if (!b) {
			(*m->m_unknown)++;
			continue;
		}
		web_peer_input(b->peer, (struct sockaddr *)&from, flen, buf, (size_t)n, th_now_ns());
	}
	reap(m);
	arm_timer(m);
}

/* ---- POST /offer ------------------------------------------------------------------- */

/* GCRA per remote address; the least recently used slot is taken over. */
static bool rate_ok(struct web_mod *m, const struct sockaddr *remote, uint64_t now)
{
	uint8_t key[16] = { 0 };
	if (remote->sa_family == AF_INET)
		memcpy(key, &((const struct sockaddr_in *)remote)->sin_addr, 4);
	else if (remote->sa_family == AF_INET6)
		memcpy(key, &((const struct sockaddr_in6 *)remote)->sin6_addr, 16);
	struct web_rate_slot *s = NULL, *old = &m->rates[0];
	for (unsigned i = 0; i < WEB_RATE_ADDRS && !s; i++) {
		struct web_rate_slot *r = &m->rates[i];
		if (r->used_ns && r->family == remote->sa_family && !memcmp(r->addr, key, sizeof key))
			s = r;
		else if (r->used_ns < old->used_ns)
			old = r;
	}
	if (!s) {
		s = old;
		memset(s, 0, sizeof *s);
		memcpy(s->addr, key, sizeof key);
		s->family = remote->sa_family;
		net_rate_init(&s->rate, WEB_OFFER_RATE_PER_S, WEB_OFFER_RATE_BURST);
	}
	s->used_ns = now ? now : 1;
	return net_rate_take(&s->rate, now);
}

static const char *jstr(struct json_object *o, const char *k, bool *wrong_type)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*wrong_type = true;
		return NULL;
	}
	return json_object_get_string(v);
}

static enum web_code admit_code(int r)
{
	switch (r) {
	case -EBADMSG:
	case -EKEYREJECTED:
	case -EKEYREVOKED: /* `thetactl invite revoke` */
		return WEB_E_BAD_TOKEN;
	case -EKEYEXPIRED:
		return WEB_E_EXPIRED;
	case -ENOENT:
		return WEB_E_NO_SESSION;
	case -EALREADY:
		return WEB_E_USED;
	case -EINVAL:
		return WEB_E_BAD_REQUEST;
	case -ENOSPC:
		return WEB_E_FULL;
	case -EPERM:
		return WEB_E_DENIED;
	default:
		return WEB_E_UNAVAILABLE;
	}
}

static const char *admit_default_why(enum web_code c)
{
	switch (c) {
	case WEB_E_BAD_TOKEN:
		return "The invite token was not made by this daemon.";
	case WEB_E_EXPIRED:
		return "The invite has expired; ask for a new one.";
	case WEB_E_NO_SESSION:
		return "The invite's session is not hosted on this daemon.";
	case WEB_E_USED:
		return "This single-use invite has been used already; ask for a new one.";
	case WEB_E_BAD_REQUEST:
		return "The name is not 1 to 63 bytes of text.";
	case WEB_E_FULL:
		return "This daemon has as many browser identities as it keeps.";
	case WEB_E_DENIED:
		return "This browser may no longer join the session.";
	default:
		return "The daemon could not admit this browser.";
	}
}

/* The answer's host candidate: where the browser reached us over TCP, with
 * the UDP port. */
static void candidate(const struct web_mod *m, const struct web_http_request *rq, struct sockaddr_storage *c)
{
	socklen_t len = rq->locallen;
	memset(c, 0, sizeof *c);
	memcpy(c, rq->local, rq->locallen < sizeof *c ? rq->locallen : sizeof *c);
	web_addr_unmap(c, &len);
	web_addr_set_port((struct sockaddr *)c, m->udp_port);
}

/* Another offer with the same nonce (token) or uid (resume) still
 * connecting; a resumed identity already open is replaced. */
static bool pending_for(struct web_mod *m, const uint8_t *nonce, uid_t uid, bool by_uid)
{
	for (unsigned i = 0; i < m->n; i++) {
		struct web_browser *b = m->b[i];
		if (b->closed)
			continue;
		bool same = by_uid ? b->who.uid == uid : b->has_nonce && !memcmp(b->nonce, nonce, sizeof b->nonce);
		if (!same)
			continue;
		if (web_peer_state(b->peer) != WEB_PEER_OPEN)
			return true;
		if (by_uid)
			web_peer_close(b->peer, "This browser connected again from another page.");
	}
	return false;
}

static void on_offer(void *user, const struct web_http_request *rq, struct web_http_reply *out)
{
	struct web_mod *m = user;
	uint64_t now = th_now_ns();
	(*m->m_offers)++;
	reap(m); /* closed ones free their slot first: m->n stays within max_peers */
	if (!rate_ok(m, rq->remote, now)) {
		reply_error(m, out, WEB_E_FULL, "Too many offers from this address; wait a few seconds and try again.");
		return;
	}
	unsigned live = 0;
	for (unsigned i = 0; i < m->n; i++)
		live += !m->b[i]->closed;
	if (live >= m->max_peers) {
		char s[WEB_WHY_MAX];
		snprintf(s, sizeof s, "This daemon serves as many browsers as it takes (%u); try again later.", m->max_peers);
		reply_error(m, out, WEB_E_FULL, s);
		return;
	}
	struct json_tokener *tk = json_tokener_new();
	struct json_object *o = tk ? json_tokener_parse_ex(tk, rq->body, (int)rq->len) : NULL;
	bool whole = tk && json_tokener_get_error(tk) == json_tokener_success;
	json_tokener_free(tk);
	if (!o || !whole || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		reply_error(m, out, WEB_E_BAD_REQUEST, "The offer is not a JSON object.");
		return;
	}
	bool wrong = false;
	const char *token = jstr(o, "token", &wrong), *resume = jstr(o, "resume", &wrong), *sdp = jstr(o, "sdp", &wrong),
		   *name = jstr(o, "name", &wrong);
	if (wrong || !sdp || !token == !resume) {
		json_object_put(o);
		reply_error(m, out, WEB_E_BAD_REQUEST,
			    "The offer needs \"sdp\" and either \"token\" or \"resume\", each a string.");
		return;
	}
	/* The SDP first: a broken offer must not use up a single-use token. */
	struct web_sdp_offer *offer = calloc(1, sizeof *offer);
	const char *why = NULL;
	if (!offer) {
		json_object_put(o);
		reply_error(m, out, WEB_E_UNAVAILABLE, "The daemon is out of memory.");
		return;
	}
	if (web_sdp_parse_offer(sdp, strlen(sdp), offer, &why) < 0 || offer->ice_lite) {
		char s[WEB_WHY_MAX];
		snprintf(s, sizeof s, "The browser's offer cannot be used: %s.",
			 offer->ice_lite && !why ? "it is ice-lite too" : why ? why : "it does not parse");
		reply_error(m, out, WEB_E_BAD_OFFER, s);
		goto done;
	}
	struct sess_browser who;
	char swhy[WEB_WHY_MAX] = "";
	uint8_t nonce[PROTO_INVITE_NONCE_LEN] = { 0 }, raw[PROTO_INVITE_TOKEN_LEN], secret[32];
	size_t rawlen = 0;
	bool has_nonce = false;
	int r;
	memset(&who, 0, sizeof who);
	if (token) {
		struct proto_invite_token tok;
		if (sodium_base642bin(raw, sizeof raw, token, strlen(token), NULL, &rawlen, NULL,
				      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		    rawlen != sizeof raw || proto_invite_token_parse(raw, rawlen, &tok) < 0) {
			reply_error(m, out, WEB_E_BAD_TOKEN, "The invite token is malformed; copy the whole link.");
			goto done;
		}
		memcpy(nonce, tok.nonce, sizeof nonce);
		has_nonce = !tok.single_use; /* a single-use token's second offer is refused by admit as used */
		if (has_nonce && pending_for(m, nonce, 0, false)) {
			reply_error(m, out, WEB_E_FULL,
				    "Another page is connecting with this invite; wait for it or try again in a few seconds.");
			goto done;
		}
	} else if (strlen(resume) != 2 * sizeof secret ||
		   th_hex_decode(resume, strlen(resume), secret, sizeof secret, false) < 0) {
		reply_error(m, out, WEB_E_BAD_REQUEST, "The resume secret is not 64 hex digits.");
		goto done;
	}
	/* Everything that can fail without side effects comes before admit
	 * (which mints an identity, lists a member and spends a single-use
	 * token): the browser's record, its credentials, the answer, its peer. */
	struct web_browser *b = calloc(1, sizeof *b);
	if (!b) {
		reply_error(m, out, WEB_E_UNAVAILABLE, "The daemon is out of memory.");
		goto done;
	}
	b->m = m;
	b->created_ns = now;
	b->has_nonce = has_nonce;
	memcpy(b->nonce, nonce, sizeof nonce);
	web_sdp_ice_credentials(b->ufrag, b->pwd);
	struct web_peer_config pc = { .cred = m->cert->cred, .offer = offer, .local_ufrag = b->ufrag, .local_pwd = b->pwd };
	struct sockaddr_storage cand;
	candidate(m, rq, &cand);
	char sdp_out[WEB_SDP_ANSWER_MAX];
	uint64_t sid;
	randombytes_buf(&sid, sizeof sid);
	struct web_sdp_answer_params ap = { .offer = offer, .ice_ufrag = b->ufrag, .ice_pwd = b->pwd, .fp = m->cert->fp,
					    .session_id = sid >> 2, .cands = &cand, .n_cands = 1 };
	if (web_sdp_build_answer(&ap, sdp_out, sizeof sdp_out) < 0 || web_peer_create(&pc, &web_peer_cb, b, now, &b->peer) < 0) {
		web_peer_destroy(&b->peer);
		free(b);
		reply_error(m, out, WEB_E_UNAVAILABLE, "The daemon could not set up this browser's connection.");
		goto done;
	}
	if (token) {
		r = sess_module_browser_admit(m->sess, raw, rawlen, name ? name : WEB_NAME_DEFAULT, th_wall_ns() / TH_NS_PER_S,
					      &who, swhy, sizeof swhy);
	} else {
		r = sess_module_browser_resume(m->sess, secret, &who, swhy, sizeof swhy);
		sodium_memzero(secret, sizeof secret);
		if (r == -ENOENT) /* an unknown secret is not a missing session */
			r = -EKEYREJECTED;
		if (r == 0 && pending_for(m, NULL, who.uid, true))
			r = -EINPROGRESS; /* resume spends nothing: refusing after it is free */
	}
	if (r < 0) {
		web_peer_destroy(&b->peer);
		free(b);
		enum web_code c = admit_code(r);
		if (r == -EINPROGRESS)
			reply_error(m, out, WEB_E_FULL,
				    "This browser is already connecting from another page; try again in a few seconds.");
		else
			reply_error(m, out, c, swhy[0] ? swhy : admit_default_why(c));
		goto done;
	}
	b->who = who;
	th_hex_encode(who.session_id, sizeof who.session_id, b->session_hex);
	struct ipc_peer ip = { .uid = who.uid, .gid = (gid_t)who.uid, .user = who.name, .session_id = who.session_id,
			       .kind = "browser" };
	if (web_bridge_create(m->ipc, b->peer, &ip, &b->bridge) < 0) {
		/* Only out of memory: admit's identity stays, so the page gets its
		 * resume secret with the refusal and can come back with it. */
		web_peer_destroy(&b->peer);
		sodium_memzero(b, sizeof *b);
		free(b);
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "error", json_object_new_string("The daemon is out of memory; reload the page."));
		json_object_object_add(e, "code", json_object_new_string(web_codes[WEB_E_UNAVAILABLE].code));
		if (token) {
			char hex[2 * 32 + 1];
			th_hex_encode(who.resume, sizeof who.resume, hex);
			json_object_object_add(e, "resume", json_object_new_string(hex));
			sodium_memzero(hex, sizeof hex);
		}
		(*m->m_refused[WEB_E_UNAVAILABLE])++;
		reply_json(out, web_codes[WEB_E_UNAVAILABLE].status, e);
		goto done;
	}
	m->b[m->n++] = b;
	(*(token ? m->m_admitted : m->m_resumed))++;
	count_peers(m);
	arm_timer(m);

	struct json_object *rep = json_object_new_object();
	char hex[2 * 32 + 1], where[WEB_ADDR_TEXT_MAX] = "?";
	json_object_object_add(rep, "sdp", json_object_new_string(sdp_out));
	if (token) {
		th_hex_encode(who.resume, sizeof who.resume, hex);
		json_object_object_add(rep, "resume", json_object_new_string(hex));
	}
	json_object_object_add(rep, "session", json_object_new_string(b->session_hex));
	json_object_object_add(rep, "session_name", json_object_new_string(who.session_name));
	json_object_object_add(rep, "role", json_object_new_string(proto_sess_role_name(who.role)));
	json_object_object_add(rep, "user", json_object_new_string(who.name));
	json_object_object_add(rep, "fingerprint", json_object_new_string(m->cert->fp_hex));
	th_hex_encode(sess_module_host_key(m->sess)->pk, 32, hex);
	json_object_object_add(rep, "host", json_object_new_string(hex));
	reply_json(out, 200, rep);
	sodium_memzero(b->who.resume, sizeof b->who.resume);
	sodium_memzero(hex, sizeof hex);
	web_addr_format(rq->remote, where, sizeof where);
	th_info("browser %s from %s %s session %s as %s (uid %u)", who.name, where, token ? "joins" : "resumes",
		b->session_hex, proto_sess_role_name(who.role), (unsigned)who.uid);
done:
	sodium_memzero(&who, sizeof who);
	sodium_memzero(raw, sizeof raw);
	json_object_put(o);
	free(offer);
}

static const struct web_http_ops web_http_cb = { .offer = on_offer };

/* ---- `web`, status, invite link ------------------------------------------------------ */

/* scheme://HOST:PORT/ into out: the listen address, or for a wildcard one the host given. */
static int url_base(const struct web_mod *m, const char *host, char *out, size_t cap)
{
	char h[PROTO_INVITE_MAX_HOST + 3];
	if (host && *host && !web_addr_is_loopback((const struct sockaddr *)&m->listen) &&
	    web_addr_is_any((const struct sockaddr *)&m->listen))
		snprintf(h, sizeof h, strchr(host, ':') && host[0] != '[' ? "[%s]" : "%s", host);
	else if (web_addr_is_any((const struct sockaddr *)&m->listen))
		snprintf(h, sizeof h, m->listen.ss_family == AF_INET6 ? "[::1]" : "127.0.0.1");
	else
		web_addr_format_host((const struct sockaddr *)&m->listen, h, sizeof h);
	int n = snprintf(out, cap, "%s://%s:%u/", m->tls ? "https" : "http", h, web_http_port(m->http));
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int web_module_invite_link(void *state, const char *host, const uint8_t session_id[16], const char *fp_hex,
			   const char *token_b64, char *out, size_t cap)
{
	struct web_mod *m = state;
	char base[WEB_URL_MAX], sid[SESS_ID_LEN + 1];
	if (!m)
		return -ENOTCONN;
	if (url_base(m, host, base, sizeof base) < 0)
		return -ENOSPC;
	th_hex_encode(session_id, 16, sid);
	int n = snprintf(out, cap, "%s#s=%s&fp=%s&token=%s", base, sid, fp_hex, token_b64);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

static struct json_object *browser_json(const struct web_browser *b, uint64_t now)
{
	struct json_object *o = json_object_new_object();
	struct web_peer_stats st;
	struct sockaddr_storage a;
	socklen_t alen;
	char where[WEB_ADDR_TEXT_MAX] = "";
	enum web_peer_state s = b->closed ? WEB_PEER_CLOSED : web_peer_state(b->peer);
	web_peer_get_stats(b->peer, &st);
	if (web_peer_address(b->peer, &a, &alen))
		web_addr_format((struct sockaddr *)&a, where, sizeof where);
	json_object_object_add(o, "name", json_object_new_string(b->who.name));
	json_object_object_add(o, "uid", json_object_new_uint64(b->who.uid));
	json_object_object_add(o, "session", json_object_new_string(b->session_hex));
	json_object_object_add(o, "session_name", json_object_new_string(b->who.session_name));
	json_object_object_add(o, "role", json_object_new_string(proto_sess_role_name(b->who.role)));
	json_object_object_add(o, "state", json_object_new_string(web_state_names[s]));
	json_object_object_add(o, "address", json_object_new_string(where));
	json_object_object_add(o, "bytes_in", json_object_new_uint64(st.bytes_in));
	json_object_object_add(o, "bytes_out", json_object_new_uint64(st.bytes_out));
	json_object_object_add(o, "age_s", json_object_new_double((double)(now - b->created_ns) / 1e9));
	json_object_object_add(o, "client", json_object_new_uint64(web_bridge_client_id(b->bridge)));
	if (st.answer_to_open_ns)
		json_object_object_add(o, "open_ms", json_object_new_double((double)st.answer_to_open_ns / 1e6));
	return o;
}

static void add_endpoint(const struct web_mod *m, struct json_object *o)
{
	char base[WEB_URL_MAX] = "";
	url_base(m, NULL, base, sizeof base);
	json_object_object_add(o, "listen", json_object_new_string(m->listen_text));
	json_object_object_add(o, "http_port", json_object_new_int((int)web_http_port(m->http)));
	json_object_object_add(o, "udp_port", json_object_new_int((int)m->udp_port));
	json_object_object_add(o, "tls", json_object_new_boolean(m->tls));
	json_object_object_add(o, "url", json_object_new_string(base));
}

static int web_cmd_off(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		       char *err, size_t errlen)
{
	(void)u;
	(void)caller;
	(void)args;
	(void)res;
	snprintf(err, errlen, "the web endpoint is off: set [web] listen in thetad.conf (docs/operator.md)");
	return -ENOTCONN;
}

static int web_cmd(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		   char *err, size_t errlen)
{
	struct web_mod *m = u;
	(void)caller;
	(void)args;
	(void)err;
	(void)errlen;
	uint64_t now = th_now_ns();
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	add_endpoint(m, o);
	json_object_object_add(o, "root", json_object_new_string(m->root));
	json_object_object_add(o, "max_peers", json_object_new_int((int)m->max_peers));
	for (unsigned i = 0; i < m->n; i++)
		json_object_array_add(arr, browser_json(m->b[i], now));
	json_object_object_add(o, "browsers", arr);
	*res = o;
	return 0;
}

/* ---- module ------------------------------------------------------------------------ */

static int read_key_pem(const char *state_dir, char **out)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s/%s", state_dir, NET_CERT_DIR, NET_CERT_KEY_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;
	if (fd < 0)
		return -errno;
	char *buf = malloc(NET_CERT_MAX_PEM + 1);
	size_t len = 0;
	ssize_t n = 0;
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < NET_CERT_MAX_PEM && (n = read(fd, buf + len, NET_CERT_MAX_PEM - len)) > 0)
		len += (size_t)n;
	r = n < 0 ? -errno : len == NET_CERT_MAX_PEM ? -EFBIG : len == 0 ? -ENODATA : 0; /* no half-read key */
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = 0;
	*out = buf;
	return 0;
}

/* UDP on the listen address with the TCP port's number; when the address
 * asked for port 0 and that number is taken for UDP, any free port. */
static int open_udp(struct web_mod *m, unsigned http_port, char *msg, size_t len)
{
	struct sockaddr_storage a = m->listen;
	int one = 1, r;
	int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(msg, len, "cannot make the web endpoint's UDP socket: %s", th_strerror(r));
		return r;
	}
	if (a.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	web_addr_set_port((struct sockaddr *)&a, http_port);
	if (bind(fd, (struct sockaddr *)&a, m->listen_len) < 0) {
		r = -errno;
		if (r == -EADDRINUSE && web_addr_port((struct sockaddr *)&m->listen) == 0) {
			web_addr_set_port((struct sockaddr *)&a, 0);
			r = bind(fd, (struct sockaddr *)&a, m->listen_len) < 0 ? -errno : 0;
		}
		if (r < 0) { /* the address tried (listen_text is not set yet) */
			char where[WEB_ADDR_TEXT_MAX];
			web_addr_format((struct sockaddr *)&a, where, sizeof where);
			snprintf(msg, len, "cannot bind UDP %s for browsers' WebRTC: %s", where, th_strerror(r));
			close(fd);
			return r;
		}
	}
	socklen_t alen = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &alen);
	m->udp_port = web_addr_port((struct sockaddr *)&a);
	m->udp_fd = fd;
	return 0;
}

static void web_module_stop(void *state);

static void register_metrics(struct web_mod *m)
{
	struct srv_metrics *mx = srv_daemon_metrics(m->d);
	m->m_offers = srv_counter(mx, "web_offers", "POST /offer requests");
	m->m_admitted = srv_counter(mx, "web_admitted", "browsers admitted with an invite token");
	m->m_resumed = srv_counter(mx, "web_resumed", "browsers back with their resume secret");
	for (unsigned i = 0; i < WEB_E_N; i++)
		m->m_refused[i] = srv_counter(mx, web_codes[i].metric, web_codes[i].help);
	m->m_peers = srv_gauge(mx, "web_peers", "browser peers connected or connecting");
	m->m_open = srv_gauge(mx, "web_peers_open", "browser peers with their transport open");
	m->m_opened = srv_counter(mx, "web_opened", "browser transports that opened (SCTP and a channel)");
	m->m_closed = srv_counter(mx, "web_closed", "browser peers closed, for any reason");
	m->m_protocol = srv_counter(mx, "web_protocol_drops",
				    "browsers dropped for a protocol fault (DTLS, SCTP, DCEP, fingerprint, a refused record)");
	m->m_unknown = srv_counter(mx, "web_udp_unknown", "datagrams from no known browser (dropped)");
	m->m_truncated = srv_counter(mx, "web_udp_oversize", "datagrams larger than the daemon reads (dropped)");
	m->m_send_fail = srv_counter(mx, "web_udp_send_failures", "datagrams to browsers the socket refused");
	m->m_bytes_in = srv_counter(mx, "web_bytes_in", "bytes of datagrams from browsers");
	m->m_bytes_out = srv_counter(mx, "web_bytes_out", "bytes of datagrams to browsers");
	m->m_http_requests = srv_counter(mx, "web_http_requests", "HTTP requests");
	m->m_http_files = srv_counter(mx, "web_http_files", "files served");
	m->m_http_not_found = srv_counter(mx, "web_http_not_found", "requests answered 404");
}

static int web_module_start(struct srv_daemon *d, void **state, char *msg, unsigned len)
{
	const struct srv_config *cfg = srv_daemon_config(d);
	int r;
	*state = NULL;
	if (!cfg->web_listen[0]) {
		srv_control_register(srv_daemon_control(d), "web", SRV_CTL_QUERY, web_cmd_off, NULL);
		return 0; /* off */
	}
	struct web_mod *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->loop = srv_daemon_loop(d);
	m->udp_fd = m->timer_fd = -1;
	m->max_peers = (unsigned)cfg->web_max_peers;
	snprintf(m->root, sizeof m->root, "%s", cfg->web_root);
	snprintf(m->listen_conf, sizeof m->listen_conf, "%s", cfg->web_listen);
	m->ipc = ipc_module_server(srv_daemon_module_state(d, "ipc"));
	m->sess = srv_daemon_module_state(d, "sessions");
	if (!m->ipc || !m->sess) {
		snprintf(msg, len, "the web endpoint needs the ipc and sessions modules");
		free(m);
		return -ENOENT;
	}
	const char *why = "";
	if ((r = web_addr_parse(cfg->web_listen, &m->listen, &m->listen_len, &why)) < 0) {
		snprintf(msg, len, "web.listen '%s': %s", cfg->web_listen, why);
		free(m);
		return r;
	}
	register_metrics(m);
	m->tls = !web_addr_is_loopback((struct sockaddr *)&m->listen);
	if ((r = net_cert_load_or_create(srv_daemon_state_dir(d), &m->cert, NULL)) < 0) {
		snprintf(msg, len, "cannot load the daemon's certificate for the web endpoint: %s", th_strerror(r));
		goto fail;
	}
	if (m->tls && (r = read_key_pem(srv_daemon_state_dir(d), &m->key_pem)) < 0) {
		snprintf(msg, len, "cannot read %s/%s/%s for HTTPS: %s", srv_daemon_state_dir(d), NET_CERT_DIR,
			 NET_CERT_KEY_FILE, th_strerror(r));
		goto fail;
	}
	if ((r = web_sctp_global_init()) < 0) {
		snprintf(msg, len, "cannot start usrsctp for browsers' data channels: %s", th_strerror(r));
		goto fail;
	}
	struct web_http_config hc = { .addr = (struct sockaddr *)&m->listen, .addrlen = m->listen_len, .root = m->root,
				      .tls = m->tls, .cert_pem = m->cert->cert_pem, .key_pem = m->key_pem };
	if ((r = web_http_create(m->loop, &hc, &web_http_cb, m, &m->http, msg, len)) < 0)
		goto fail;
	if ((r = open_udp(m, web_http_port(m->http), msg, len)) < 0)
		goto fail;
	struct sockaddr_storage shown = m->listen;
	web_addr_set_port((struct sockaddr *)&shown, web_http_port(m->http));
	web_addr_format((struct sockaddr *)&shown, m->listen_text, sizeof m->listen_text);
	if ((m->timer_fd = th_timerfd_create(0, 0)) < 0) {
		r = m->timer_fd;
		snprintf(msg, len, "cannot make the web endpoint's timer: %s", th_strerror(r));
		goto fail;
	}
	if ((r = th_loop_add(m->loop, m->udp_fd, EPOLLIN, on_udp, m)) < 0 ||
	    (r = th_loop_add(m->loop, m->timer_fd, EPOLLIN, on_timer, m)) < 0) {
		snprintf(msg, len, "cannot watch the web endpoint's sockets: %s", th_strerror(r));
		goto fail;
	}
	srv_control_register(srv_daemon_control(d), "web", SRV_CTL_QUERY, web_cmd, m);
	char base[WEB_URL_MAX] = "";
	url_base(m, NULL, base, sizeof base);
	srv_daemon_add_socket_info(d, "web", base);
	th_info("web endpoint on %s (%s), WebRTC on UDP port %u, files from %s", m->listen_text, base, m->udp_port,
		m->root);
	*state = m;
	return 0;
fail:
	web_module_stop(m);
	return r;
}

static void web_module_stop(void *state)
{
	struct web_mod *m = state;
	if (!m)
		return;
	while (m->n) {
		struct web_browser *b = m->b[--m->n];
		web_peer_close(b->peer, "The daemon is stopping.");
		browser_free(b);
	}
	web_http_destroy(&m->http);
	if (m->udp_fd >= 0) {
		th_loop_del(m->loop, m->udp_fd);
		close(m->udp_fd);
	}
	if (m->timer_fd >= 0) {
		th_loop_del(m->loop, m->timer_fd);
		close(m->timer_fd);
	}
	net_cert_destroy(&m->cert);
	if (m->key_pem) {
		sodium_memzero(m->key_pem, strlen(m->key_pem));
		free(m->key_pem);
	}
	free(m);
}

static void web_module_tick(void *state, unsigned long long now_ns)
{
	struct web_mod *m = state;
	(void)now_ns;
	if (!m)
		return;
	for (unsigned i = 0; i < m->n; i++)
		count_bytes(m->b[i]);
	struct web_http_stats st;
	web_http_get_stats(m->http, &st);
	*m->m_http_requests += st.requests - m->http_last.requests;
	*m->m_http_files += st.files - m->http_last.files;
	*m->m_http_not_found += st.not_found - m->http_last.not_found;
	m->http_last = st;
	count_peers(m);
}

/* SIGHUP: max_peers applies at once (to offers from now on); a changed
 * listen or root needs a restart: the daemon keeps them and says so
 * (srv_config_needs_restart). */
static void web_module_reload(void *state)
{
	struct web_mod *m = state;
	if (!m)
		return;
	const struct srv_config *cfg = srv_daemon_config(m->d);
	if ((unsigned)cfg->web_max_peers != m->max_peers) {
		th_notice("reload: web.max_peers %u -> %u (browsers connected stay)", m->max_peers, (unsigned)cfg->web_max_peers);
		m->max_peers = (unsigned)cfg->web_max_peers;
	}
}

static void web_module_status(void *state, struct json_object *status)
{
	struct web_mod *m = state;
	if (!m)
		return;
	struct json_object *o = json_object_new_object();
	add_endpoint(m, o);
	json_object_object_add(o, "browsers", json_object_new_int((int)m->n));
	json_object_object_add(status, "web", o);
}

const struct srv_module web_module = {
	.name = "web",
	.start = web_module_start,
	.stop = web_module_stop,
	.tick = web_module_tick,
	.status = web_module_status,
	.reload = web_module_reload,
};
