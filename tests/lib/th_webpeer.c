/* The tests' browser transport (th_webpeer.h). */
#include "th_webpeer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/dtls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net/net_cert.h"
#include "th_dtlsmem.h"
#include "th_time.h"
#include "web/web_bridge.h"
#include "web/web_dcep.h"
#include "web/web_sctp.h"
#include "web/web_sdp.h"
#include "web/web_stun.h"

#define WP_DTLS_RETRANS_MS 1000u /* GnuTLS's default first retransmission */
#define WP_DGRAM_MAX 65536u
#define WP_READS_PER_STEP 512u
#define WP_TXIDS 16u /* outstanding checks whose responses count */
#define WP_PRIORITY 2122260223u /* what Chromium's host candidates carry */
#define WP_UFRAG_MAX 256u
#define WP_PWD_MAX 256u

/* STUN attribute types and constants (RFC 5389, RFC 8445) */
#define ST_BINDING_REQUEST 0x0001u
#define ST_BINDING_SUCCESS 0x0101u
#define ST_USERNAME 0x0006u
#define ST_MESSAGE_INTEGRITY 0x0008u
#define ST_XOR_MAPPED 0x0020u
#define ST_PRIORITY 0x0024u
#define ST_USE_CANDIDATE 0x0025u
#define ST_FINGERPRINT 0x8028u
#define ST_ICE_CONTROLLING 0x802au
#define ST_GOOG_NETWORK_INFO 0xc057u
#define ST_FP_XOR 0x5354554eu
#define ST_HMAC_LEN 20u

struct wp_chan {
	bool used, sent, acked;
	char label[WEB_DCEP_LABEL_MAX + 1];
	uint8_t type;
	uint32_t rtx;
};

struct wp_msg {
	unsigned chan;
	bool binary;
	size_t len;
	uint8_t *p;
};

struct th_webpeer {
	struct th_webpeer_config cfg;
	int fd;
	struct sockaddr_storage local;
	socklen_t locallen;
	enum th_webpeer_state state;
	char why[TH_WEBPEER_WHY_MAX];
	char offer[TH_WEBPEER_OFFER_MAX];

	struct net_cert *cert;
	char ufrag[9], pwd[25];
	uint8_t expect_fp[32];
	bool have_expect_fp;

	/* from the answer */
	char r_ufrag[WP_UFRAG_MAX + 1], r_pwd[WP_PWD_MAX + 1];
	uint8_t r_fp[32];
	uint16_t r_sctp_port;
	uint64_t r_max_message;
	struct sockaddr_storage remote;
	socklen_t remotelen;

	/* ICE */
	uint8_t txids[WP_TXIDS][WEB_STUN_TXID_LEN];
	unsigned n_txid;
	uint64_t tie_breaker;
	uint64_t next_check_ns;
	bool answered, nominated, consent_on;
	bool have_mapped;
	struct sockaddr_storage mapped;

	/* DTLS */
	struct th_dtlsmem_client dtls; /* its session: dtls.s (NULL before start_dtls) */
	bool tls_open;

	/* SCTP */
	struct web_sctp *sctp;
	uint64_t last_timers_ns;
	struct wp_chan chans[TH_WEBPEER_CHANNELS];

	struct wp_msg rxq[TH_WEBPEER_RXQ];
	unsigned rx_head, rx_n;

	uint64_t answer_ns, now_ns;
	struct th_webpeer_stats st;
	uint8_t buf[WP_DGRAM_MAX];
};

static socklen_t ip_addr(const char *ip, struct sockaddr_storage *ss);

static void wp_fail(struct th_webpeer *w, enum th_webpeer_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void wp_fail(struct th_webpeer *w, enum th_webpeer_state st, const char *fmt, ...)
{
	if (w->state == TH_WP_FAILED || w->state == TH_WP_CLOSED)
		return;
	w->state = st;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static int send_dgram(struct th_webpeer *w, const uint8_t *p, size_t len)
{
	ssize_t n = sendto(w->fd, p, len, 0, (const struct sockaddr *)&w->remote, w->remotelen);
	if (n < 0)
		return -errno;
	w->st.bytes_out += len;
	return 0;
}

/* ---- the offer and the answer ---- */

static void make_offer(struct th_webpeer *w)
{
	uint8_t fp[32];
	memcpy(fp, w->cert->fp, 32);
	if (w->cfg.bad_fingerprint)
		fp[7] ^= 0x5a;
	char fps[32 * 3];
	for (unsigned i = 0; i < 32; i++)
		snprintf(fps + 3 * i, 4, "%02X%s", fp[i], i < 31 ? ":" : "");
	uint64_t sid;
	gnutls_rnd(GNUTLS_RND_NONCE, &sid, sizeof(sid));
	snprintf(w->offer, sizeof(w->offer),
		 "v=0\r\n"
		 "o=- %llu 2 IN IP4 127.0.0.1\r\n"
		 "s=-\r\n"
		 "t=0 0\r\n"
		 "a=group:BUNDLE 0\r\n"
		 "a=extmap-allow-mixed\r\n"
		 "a=msid-semantic: WMS\r\n"
		 "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
		 "c=IN IP4 0.0.0.0\r\n"
		 "a=ice-ufrag:%s\r\n"
		 "a=ice-pwd:%s\r\n"
		 "a=ice-options:trickle\r\n"
		 "a=fingerprint:sha-256 %s\r\n"
		 "a=setup:actpass\r\n"
		 "a=mid:0\r\n"
		 "a=sctp-port:%u\r\n"
		 "a=max-message-size:%u\r\n",
		 (unsigned long long)(sid >> 1), w->ufrag, w->pwd, fps, w->cfg.sctp_port,
		 (unsigned)w->cfg.max_message);
}

/* The value of "a=NAME:" on one line, or NULL. */
static const char *attr(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);
	if (len < 2 + n + 1 || strncmp(line, "a=", 2) || strncmp(line + 2, name, n) || line[2 + n] != ':')
		return NULL;
	*vlen = len - 3 - n;
	return line + 3 + n;
}

static bool copy_token(char *out, size_t cap, const char *v, size_t vlen)
{
	if (!vlen || vlen >= cap)
		return false;
	memcpy(out, v, vlen);
	out[vlen] = 0;
	return true;
}

/* "FOUNDATION COMPONENT TRANSPORT PRIORITY ADDR PORT typ host ..." */
static bool parse_candidate(struct th_webpeer *w, const char *v, size_t vlen)
{
	char c[512];
	if (vlen >= sizeof(c))
		return false;
	memcpy(c, v, vlen);
	c[vlen] = 0;
	char found[64], transport[16], addr[64], typ[8], kind[16];
	unsigned comp, port;
	unsigned long prio;
	if (sscanf(c, "%63s %u %15s %lu %63s %u %7s %15s", found, &comp, transport, &prio, addr, &port, typ, kind) != 8)
		return false;
	if (comp != 1 || strcasecmp(transport, "udp") || strcmp(typ, "typ") || !port || port > 65535)
		return false;
	struct sockaddr_storage ss = { 0 };
	if (w->local.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (void *)&ss;
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return false;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		w->remotelen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return false;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		w->remotelen = sizeof(*s6);
	}
	w->remote = ss;
	return true;
}

int th_webpeer_answer(struct th_webpeer *w, const char *sdp, size_t len, uint64_t now_ns)
{
	if (w->state != TH_WP_OFFERED)
		return -EALREADY;
	bool ufrag = false, pwd = false, fp = false, passive = false, cand = false;
	w->r_sctp_port = WEB_SDP_SCTP_PORT;
	w->r_max_message = 65536;
	const char *end = sdp + len;
	for (const char *l = sdp; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		size_t ll = (size_t)((nl ? nl : end) - l);
		if (ll && l[ll - 1] == '\r')
			ll--;
		const char *v;
		size_t vl;
		if ((v = attr(l, ll, "ice-ufrag", &vl)))
			ufrag = copy_token(w->r_ufrag, sizeof(w->r_ufrag), v, vl);
		else if ((v = attr(l, ll, "ice-pwd", &vl)))
			pwd = copy_token(w->r_pwd, sizeof(w->r_pwd), v, vl);
		else if ((v = attr(l, ll, "fingerprint", &vl)) && vl > 8 && !strncasecmp(v, "sha-256 ", 8)) {
			char hex[100];
			fp = copy_token(hex, sizeof(hex), v + 8, vl - 8) && net_cert_fp_parse(hex, w->r_fp) == 0;
		} else if ((v = attr(l, ll, "setup", &vl)))
			passive = vl == 7 && !strncmp(v, "passive", 7);
		else if ((v = attr(l, ll, "sctp-port", &vl)))
			w->r_sctp_port = (uint16_t)strtoul(v, NULL, 10);
		else if ((v = attr(l, ll, "max-message-size", &vl)))
			w->r_max_message = strtoull(v, NULL, 10);
		else if (!cand && (v = attr(l, ll, "candidate", &vl)))
			cand = parse_candidate(w, v, vl);
		l = nl ? nl + 1 : end;
	}
	const char *missing = !ufrag ? "a=ice-ufrag" : !pwd ? "a=ice-pwd" : !fp ? "a=fingerprint:sha-256" :
			      !passive ? "a=setup:passive" : !cand ? "a UDP host candidate of our address family" : NULL;
	if (missing) {
		wp_fail(w, TH_WP_FAILED, "the answer has no %s", missing);
		return -EBADMSG;
	}
	if (!w->r_sctp_port) {
		wp_fail(w, TH_WP_FAILED, "the answer's a=sctp-port is 0");
		return -EBADMSG;
	}
	if (!w->have_expect_fp)
		memcpy(w->expect_fp, w->r_fp, 32);
	w->answer_ns = w->now_ns = now_ns;
	w->next_check_ns = now_ns;
	w->state = TH_WP_ICE;
	return 0;
}

/* ---- STUN ---- */

int th_webpeer_stun_request(struct th_webpeer *w, bool use_candidate, uint8_t *out, size_t cap)
{
	char user[WP_UFRAG_MAX + 16];
	int ul = snprintf(user, sizeof(user), "%s:%s", w->r_ufrag, w->ufrag);
	size_t upad = ((size_t)ul + 3) & ~(size_t)3;
	size_t need = WEB_STUN_HDR_LEN + 4 + upad + 8 + 12 + 8 + (use_candidate ? 4 : 0) + 4 + ST_HMAC_LEN + 8;
	if (cap < need)
		return -ENOBUFS;
	memset(out, 0, need);
	put16(out, ST_BINDING_REQUEST);
	put32(out + 4, WEB_STUN_MAGIC);
	uint8_t *txid = w->txids[w->n_txid++ % WP_TXIDS];
	gnutls_rnd(GNUTLS_RND_NONCE, txid, WEB_STUN_TXID_LEN);
	memcpy(out + 8, txid, WEB_STUN_TXID_LEN);
	size_t o = WEB_STUN_HDR_LEN;
	put16(out + o, ST_USERNAME);
	put16(out + o + 2, (uint16_t)ul);
	memcpy(out + o + 4, user, (size_t)ul);
	o += 4 + upad;
	put16(out + o, ST_GOOG_NETWORK_INFO); /* comprehension-optional: the server skips it */
	put16(out + o + 2, 4);
	put32(out + o + 4, 1u << 16 | 10u);
	o += 8;
	put16(out + o, ST_ICE_CONTROLLING);
	put16(out + o + 2, 8);
	put32(out + o + 4, (uint32_t)(w->tie_breaker >> 32));
	put32(out + o + 8, (uint32_t)w->tie_breaker);
	o += 12;
	if (use_candidate) {
		put16(out + o, ST_USE_CANDIDATE);
		o += 4;
	}
	put16(out + o, ST_PRIORITY);
	put16(out + o + 2, 4);
	put32(out + o + 4, WP_PRIORITY);
	o += 8;
	/* MESSAGE-INTEGRITY over the message so far with the length counting it */
	put16(out + 2, (uint16_t)(o + 4 + ST_HMAC_LEN - WEB_STUN_HDR_LEN));
	put16(out + o, ST_MESSAGE_INTEGRITY);
	put16(out + o + 2, ST_HMAC_LEN);
	const char *key = w->cfg.bad_integrity ? "a-password-that-is-not-the-answers" : w->r_pwd;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA1, key, strlen(key), out, o, out + o + 4) < 0)
		return -EIO;
	o += 4 + ST_HMAC_LEN;
	put16(out + 2, (uint16_t)(o + 8 - WEB_STUN_HDR_LEN));
	put16(out + o, ST_FINGERPRINT);
	put16(out + o + 2, 4);
	put32(out + o + 4, web_crc32(out, o) ^ ST_FP_XOR);
	o += 8;
	return (int)o;
}

static void send_check(struct th_webpeer *w, bool use_candidate)
{
	uint8_t req[512];
	int n = th_webpeer_stun_request(w, use_candidate, req, sizeof(req));
	if (n > 0 && send_dgram(w, req, (size_t)n) == 0)
		w->st.checks_sent++;
}

static bool known_txid(const struct th_webpeer *w, const uint8_t *txid)
{
	unsigned n = w->n_txid < WP_TXIDS ? w->n_txid : WP_TXIDS;
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(w->txids[i], txid, WEB_STUN_TXID_LEN))
			return true;
	return false;
}

/* A binding success response: ours, MESSAGE-INTEGRITY keyed with the
 * answer's ice-pwd, FINGERPRINT right, XOR-MAPPED-ADDRESS read. */
static bool check_response(struct th_webpeer *w, const uint8_t *p, size_t len)
{
	if (len < WEB_STUN_HDR_LEN || get16(p) != ST_BINDING_SUCCESS || get32(p + 4) != WEB_STUN_MAGIC ||
	    get16(p + 2) + WEB_STUN_HDR_LEN != len || !known_txid(w, p + 8))
		return false;
	bool integrity = false, fingerprint = false, mapped = false;
	struct sockaddr_storage m = { 0 };
	for (size_t o = WEB_STUN_HDR_LEN; o + 4 <= len;) {
		uint16_t t = get16(p + o), al = get16(p + o + 2);
		if (o + 4 + al > len)
			return false;
		const uint8_t *v = p + o + 4;
		if (t == ST_MESSAGE_INTEGRITY) {
			if (al != ST_HMAC_LEN)
				return false;
			uint8_t tmp[WEB_STUN_MAX], mac[ST_HMAC_LEN];
			if (o > sizeof(tmp))
				return false;
			memcpy(tmp, p, o);
			put16(tmp + 2, (uint16_t)(o + 4 + ST_HMAC_LEN - WEB_STUN_HDR_LEN));
			if (gnutls_hmac_fast(GNUTLS_MAC_SHA1, w->r_pwd, strlen(w->r_pwd), tmp, o, mac) < 0 ||
			    gnutls_memcmp(mac, v, ST_HMAC_LEN))
				return false;
			integrity = true;
		} else if (t == ST_FINGERPRINT) {
			if (al != 4 || o + 8 != len || web_crc32(p, o) ^ ST_FP_XOR ^ get32(v))
				return false;
			fingerprint = true;
		} else if (t == ST_XOR_MAPPED && !integrity && al >= 8) {
			uint16_t port = get16(v + 2) ^ (uint16_t)(WEB_STUN_MAGIC >> 16);
			if (v[1] == 1 && al == 8) {
				struct sockaddr_in *s4 = (void *)&m;
				s4->sin_family = AF_INET;
				s4->sin_port = htons(port);
				uint32_t a = get32(v + 4) ^ WEB_STUN_MAGIC;
				s4->sin_addr.s_addr = htonl(a);
				mapped = true;
			} else if (v[1] == 2 && al == 20) {
				struct sockaddr_in6 *s6 = (void *)&m;
				s6->sin6_family = AF_INET6;
				s6->sin6_port = htons(port);
				uint8_t x[16];
				put32(x, WEB_STUN_MAGIC);
				memcpy(x + 4, p + 8, WEB_STUN_TXID_LEN);
				for (unsigned i = 0; i < 16; i++)
					s6->sin6_addr.s6_addr[i] = v[4 + i] ^ x[i];
				mapped = true;
			}
		}
		o += 4 + ((al + 3u) & ~3u);
	}
	if (!integrity || !fingerprint || !mapped)
		return false;
	w->mapped = m;
	w->have_mapped = true;
	return true;
}

/* ---- DTLS client ---- */

static int dtls_output(void *user, const uint8_t *p, size_t len)
{
	struct th_webpeer *w = user;
	int r = send_dgram(w, p, len);
	if (r == 0)
		w->st.dtls_out++;
	return r;
}

static int tls_verify(gnutls_session_t s)
{
	struct th_webpeer *w = gnutls_session_get_ptr(s);
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
	uint8_t fp[32];
	if (!certs || !n || gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, fp) < 0) {
		wp_fail(w, TH_WP_FAILED, "the server presented no certificate");
		return -1;
	}
	if (memcmp(fp, w->expect_fp, 32)) {
		wp_fail(w, TH_WP_FAILED, "the server's DTLS certificate is not the one the answer names");
		return -1;
	}
	return 0;
}

static int sctp_output(void *user, const uint8_t *p, size_t len)
{
	struct th_webpeer *w = user;
	if (!w->tls_open)
		return -ENOTCONN;
	ssize_t r = gnutls_record_send(w->dtls.s, p, len);
	return r < 0 ? -EIO : 0;
}

static void open_channels(struct th_webpeer *w)
{
	for (unsigned i = 0; i < TH_WEBPEER_CHANNELS; i++) {
		struct wp_chan *c = &w->chans[i];
		if (!c->used || c->sent)
			continue;
		struct web_dcep_open o = { .channel_type = c->type, .reliability = c->rtx };
		snprintf(o.label, sizeof(o.label), "%s", c->label);
		uint8_t b[WEB_DCEP_LABEL_MAX + WEB_DCEP_PROTOCOL_MAX + 32];
		int n = web_dcep_build_open(&o, b, sizeof(b));
		if (n > 0 && web_sctp_send(w->sctp, (uint16_t)(2 * i), WEB_PPID_DCEP, b, (size_t)n, false, -1) == 0) {
			c->sent = true;
			w->st.msgs_out++;
		}
	}
}

static void enqueue(struct th_webpeer *w, unsigned chan, bool binary, const uint8_t *p, size_t len)
{
	if (w->cfg.on_message) {
		w->cfg.on_message(w->cfg.user, chan, binary, p, len);
		return;
	}
	if (w->rx_n == TH_WEBPEER_RXQ) {
		w->st.rx_dropped++;
		return;
	}
	struct wp_msg *m = &w->rxq[(w->rx_head + w->rx_n) % TH_WEBPEER_RXQ];
	m->p = malloc(len ? len : 1);
	if (!m->p) {
		w->st.rx_dropped++;
		return;
	}
	memcpy(m->p, p, len);
	m->len = len;
	m->chan = chan;
	m->binary = binary;
	w->rx_n++;
}

static void sctp_on_message(void *user, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len)
{
	struct th_webpeer *w = user;
	w->st.msgs_in++;
	unsigned chan = stream / 2u;
	if (stream % 2 || chan >= TH_WEBPEER_CHANNELS || !w->chans[chan].used)
		return; /* not one of ours: a browser ignores it too */
	if (ppid == WEB_PPID_DCEP) {
		if (len == 1 && p[0] == WEB_DCEP_ACK)
			w->chans[chan].acked = true;
		if (th_webpeer_ready(w) && !w->st.answer_to_ready_ns)
			w->st.answer_to_ready_ns = w->now_ns > w->answer_ns ? w->now_ns - w->answer_ns : 1;
		return;
	}
	bool binary = ppid == WEB_PPID_BINARY || ppid == WEB_PPID_BINARY_EMPTY;
	if (ppid == WEB_PPID_STRING_EMPTY || ppid == WEB_PPID_BINARY_EMPTY)
		len = 0;
	w->st.bytes_in += len;
	enqueue(w, chan, binary, p, len);
}

static void sctp_on_state(void *user, enum web_sctp_state s, const char *why)
{
	struct th_webpeer *w = user;
	if (s == WEB_SCTP_OPEN && w->state == TH_WP_SCTP) {
		w->state = TH_WP_OPEN;
		open_channels(w);
	} else if (s == WEB_SCTP_CLOSED) {
		wp_fail(w, TH_WP_CLOSED, "the SCTP association closed: %s", why ? why : "no reason given");
	}
}

static void sctp_on_writable(void *user)
{
}

/* The host reset its side of a stream (in answer to ours): that channel is gone. */
static void sctp_on_stream_reset(void *user, uint16_t stream)
{
	struct th_webpeer *w = user;
	w->st.resets_in++;
	unsigned chan = stream / 2u;
	if (stream % 2 == 0 && chan < TH_WEBPEER_CHANNELS)
		memset(&w->chans[chan], 0, sizeof(w->chans[chan]));
}

static const struct web_sctp_ops wp_sctp_ops = {
	.output = sctp_output,
	.on_message = sctp_on_message,
	.on_state = sctp_on_state,
	.on_writable = sctp_on_writable,
	.on_stream_reset = sctp_on_stream_reset,
};

static void tls_records(struct th_webpeer *w)
{
	for (;;) {
		ssize_t r = th_dtlsmem_client_recv(&w->dtls, w->buf, sizeof(w->buf));
		if (r > 0) {
			if (w->sctp)
				web_sctp_input(w->sctp, w->buf, (size_t)r);
			continue;
		}
		if (r == 0) {
			wp_fail(w, TH_WP_CLOSED, "the server sent close_notify");
			return;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal((int)r)) {
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
				return;
			continue; /* a record that did not decrypt, a warning alert: DTLS drops it */
		}
		wp_fail(w, TH_WP_FAILED, "DTLS failed: %s", gnutls_strerror((int)r));
		return;
	}
}

static void tls_handshake(struct th_webpeer *w)
{
	int r = th_dtlsmem_client_step(&w->dtls);
	if (r == 0)
		return;
	if (r < 0) {
		/* as a browser does: a fatal alert tells the server at once */
		if (r == GNUTLS_E_CERTIFICATE_ERROR || r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
			gnutls_alert_send(w->dtls.s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		else if (r != GNUTLS_E_FATAL_ALERT_RECEIVED)
			gnutls_alert_send_appropriate(w->dtls.s, r);
		wp_fail(w, TH_WP_FAILED, "the DTLS handshake failed: %s", gnutls_strerror(r));
		return;
	}
	w->tls_open = true;
	w->state = TH_WP_SCTP;
	int e = web_sctp_create(w->cfg.sctp_port, w->r_sctp_port, gnutls_dtls_get_data_mtu(w->dtls.s), &wp_sctp_ops, w,
				&w->sctp);
	if (e < 0) {
		wp_fail(w, TH_WP_FAILED, "the SCTP association could not be created (%s)", strerror(-e));
		return;
	}
	tls_records(w);
}

static int start_dtls(struct th_webpeer *w)
{
	int r = th_dtlsmem_client_init(&w->dtls, w->cert->cred, WP_DTLS_RETRANS_MS, dtls_output, w);
	if (r < 0)
		return r;
	/* the server's certificate is checked during the handshake, as a browser does */
	gnutls_session_set_ptr(w->dtls.s, w);
	gnutls_session_set_verify_function(w->dtls.s, tls_verify);
	w->state = TH_WP_DTLS;
	tls_handshake(w);
	return 0;
}

/* ---- the API ---- */

int th_webpeer_create(const struct th_webpeer_config *cfg, struct th_webpeer **out)
{
	int r = web_sctp_global_init();
	if (r < 0)
		return r;
	struct th_webpeer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (cfg)
		w->cfg = *cfg;
	if (!w->cfg.sctp_port)
		w->cfg.sctp_port = WEB_SDP_SCTP_PORT;
	if (!w->cfg.max_message)
		w->cfg.max_message = TH_WEBPEER_MAX_MESSAGE;
	if (w->cfg.expect_fp) {
		memcpy(w->expect_fp, w->cfg.expect_fp, 32);
		w->have_expect_fp = true;
	}
	w->cfg.expect_fp = NULL;
	w->consent_on = true;
	w->fd = -1;
	struct sockaddr_storage ss;
	socklen_t sl = ip_addr(w->cfg.bind_ip ? w->cfg.bind_ip : "127.0.0.1", &ss);
	if (!sl) {
		free(w);
		return -EINVAL;
	}
	w->cfg.bind_ip = NULL;
	w->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&ss, sl) < 0) {
		r = -errno;
		th_webpeer_destroy(&w);
		return r;
	}
	w->locallen = sizeof(w->local);
	getsockname(w->fd, (struct sockaddr *)&w->local, &w->locallen);
	if ((r = net_cert_generate(&w->cert)) < 0) {
		th_webpeer_destroy(&w);
		return r;
	}
	web_sdp_ice_credentials(w->ufrag, w->pwd);
	gnutls_rnd(GNUTLS_RND_NONCE, &w->tie_breaker, sizeof(w->tie_breaker));
	if (!w->cfg.no_channels) {
		th_webpeer_open_channel(w, WEB_CHAN_MAIN, WEB_DCEP_RELIABLE, 0);
		th_webpeer_open_channel(w, WEB_CHAN_POSE, WEB_DCEP_UNORDERED | WEB_DCEP_PARTIAL_RELIABLE_REXMIT, 0);
	}
	make_offer(w);
	w->state = TH_WP_OFFERED;
	*out = w;
	return 0;
}

void th_webpeer_destroy(struct th_webpeer **pw)
{
	if (!pw || !*pw)
		return;
	struct th_webpeer *w = *pw;
	*pw = NULL;
	web_sctp_destroy(&w->sctp);
	th_dtlsmem_client_fini(&w->dtls);
	net_cert_destroy(&w->cert);
	if (w->fd >= 0)
		close(w->fd);
	while (w->rx_n) {
		free(w->rxq[w->rx_head].p);
		w->rx_head = (w->rx_head + 1) % TH_WEBPEER_RXQ;
		w->rx_n--;
	}
	free(w);
}

const char *th_webpeer_offer(const struct th_webpeer *w)
{
	return w->offer;
}

int th_webpeer_fd(const struct th_webpeer *w)
{
	return w->fd;
}

static bool same_remote(const struct th_webpeer *w, const struct sockaddr_storage *from)
{
	if (from->ss_family != w->remote.ss_family)
		return false;
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)from, *b = (const void *)&w->remote;
		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const void *)from, *b = (const void *)&w->remote;
	return a->sin6_port == b->sin6_port && !memcmp(&a->sin6_addr, &b->sin6_addr, 16);
}

static void on_datagram(struct th_webpeer *w, const uint8_t *p, size_t len)
{
	if (web_stun_is_stun(p, len)) {
		if (!check_response(w, p, len)) {
			w->st.responses_bad++;
			return;
		}
		w->st.responses_ok++;
		if (!w->answered) {
			w->answered = true;
			if (!w->cfg.no_use_candidate) {
				send_check(w, true); /* nominate */
				w->nominated = true;
			}
			w->next_check_ns = w->now_ns + TH_WEBPEER_CONSENT_EVERY_NS;
			if (w->state == TH_WP_ICE && !w->cfg.no_dtls && start_dtls(w) < 0)
				wp_fail(w, TH_WP_FAILED, "the DTLS client could not start");
		}
		return;
	}
	if (p[0] < 20 || p[0] > 63 || !w->dtls.s) {
		w->st.stray++;
		return;
	}
	w->st.dtls_in++;
	if (th_dtlsmem_push(&w->dtls.in, p, len) < 0)
		return; /* lost, as on a full socket buffer: DTLS and SCTP recover */
	if (w->state == TH_WP_DTLS)
		tls_handshake(w);
	else if (w->tls_open && (w->state == TH_WP_SCTP || w->state == TH_WP_OPEN))
		tls_records(w);
}

int th_webpeer_step(struct th_webpeer *w, uint64_t now_ns)
{
	if (w->state == TH_WP_OFFERED)
		return 0;
	w->now_ns = now_ns;
	for (unsigned i = 0; i < WP_READS_PER_STEP && w->fd >= 0; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(w->fd, w->buf, sizeof(w->buf), MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (!n || (size_t)n > sizeof(w->buf) || !same_remote(w, &from)) {
			w->st.stray++;
			continue;
		}
		if (w->state == TH_WP_FAILED || w->state == TH_WP_CLOSED)
			continue;
		on_datagram(w, w->buf, (size_t)n); /* DTLS copies it into its queue before reading records into w->buf */
	}
	if (w->state == TH_WP_FAILED)
		return -EPROTO;
	if (w->state == TH_WP_CLOSED)
		return 0;
	if (w->state == TH_WP_ICE && w->cfg.no_stun) {
		if (start_dtls(w) < 0)
			wp_fail(w, TH_WP_FAILED, "the DTLS client could not start");
	} else if (!w->cfg.no_stun && now_ns >= w->next_check_ns && (w->consent_on || !w->answered)) {
		send_check(w, false);
		w->next_check_ns = now_ns + (w->answered ? TH_WEBPEER_CONSENT_EVERY_NS : TH_WEBPEER_CHECK_NS);
	}
	if (w->state == TH_WP_DTLS && gnutls_dtls_get_timeout(w->dtls.s) == 0)
		tls_handshake(w); /* GnuTLS retransmits its flight */
	/* usrsctp's timers run on the real clock whatever now says (web_sctp.h) */
	uint64_t real = th_now_ns();
	if (w->sctp && real >= w->last_timers_ns + WEB_SCTP_TICK_NS) {
		w->last_timers_ns = real;
		web_sctp_timers(real);
	}
	return w->state == TH_WP_FAILED ? -EPROTO : 0;
}

uint64_t th_webpeer_timeout_ns(const struct th_webpeer *w, uint64_t now_ns)
{
	uint64_t t = UINT64_MAX;
	if (w->state == TH_WP_OFFERED || w->state == TH_WP_FAILED || w->state == TH_WP_CLOSED)
		return t;
	if (!w->cfg.no_stun && (w->consent_on || !w->answered))
		t = w->next_check_ns;
	if (w->state == TH_WP_ICE && w->cfg.no_stun)
		t = now_ns;
	if (w->state == TH_WP_DTLS) {
		uint64_t d = now_ns + (uint64_t)gnutls_dtls_get_timeout(w->dtls.s) * 1000000ull;
		if (d < t)
			t = d;
	}
	if (w->sctp) { /* the next usrsctp tick, on now's scale */
		uint64_t real = th_now_ns(), due = w->last_timers_ns + WEB_SCTP_TICK_NS;
		uint64_t in = due > real ? due - real : 0;
		if (now_ns + in < t)
			t = now_ns + in;
	}
	return t;
}

int th_webpeer_run_until(struct th_webpeer *w, bool (*done)(struct th_webpeer *, void *), void *arg,
			 int timeout_ms)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		uint64_t now = th_now_ns();
		int r = th_webpeer_step(w, now);
		if (done ? done(w, arg) : th_webpeer_ready(w))
			return 0;
		if (r < 0)
			return r;
		if (w->state == TH_WP_CLOSED)
			return -ECONNRESET;
		if (now >= end)
			return -ETIMEDOUT;
		uint64_t t = th_webpeer_timeout_ns(w, now);
		if (t > end)
			t = end;
		int ms = t > now ? (int)((t - now + 999999) / 1000000) : 0;
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
		poll(&pfd, 1, ms);
	}
}

enum th_webpeer_state th_webpeer_state(const struct th_webpeer *w)
{
	return w->state;
}

bool th_webpeer_ready(const struct th_webpeer *w)
{
	if (w->state != TH_WP_OPEN)
		return false;
	for (unsigned i = 0; i < TH_WEBPEER_CHANNELS; i++)
		if (w->chans[i].used && !w->chans[i].acked)
			return false;
	return true;
}

const char *th_webpeer_error(const struct th_webpeer *w)
{
	return w->why;
}

const uint8_t *th_webpeer_fingerprint(const struct th_webpeer *w)
{
	return w->cert->fp;
}

int th_webpeer_local_addr(const struct th_webpeer *w, struct sockaddr_storage *out, socklen_t *len)
{
	*out = w->local;
	*len = w->locallen;
	return 0;
}

bool th_webpeer_mapped(const struct th_webpeer *w, struct sockaddr_storage *out)
{
	if (w->have_mapped && out)
		*out = w->mapped;
	return w->have_mapped;
}

int th_webpeer_open_channel(struct th_webpeer *w, const char *label, uint8_t type, uint32_t rtx)
{
	for (unsigned i = 0; i < TH_WEBPEER_CHANNELS; i++) {
		struct wp_chan *c = &w->chans[i];
		if (c->used)
			continue;
		c->used = true;
		snprintf(c->label, sizeof(c->label), "%s", label);
		c->type = type;
		c->rtx = rtx;
		if (w->state == TH_WP_OPEN)
			open_channels(w);
		return (int)i;
	}
	return -ENOSPC;
}

int th_webpeer_channel(const struct th_webpeer *w, const char *label)
{
	for (unsigned i = 0; i < TH_WEBPEER_CHANNELS; i++)
		if (w->chans[i].used && !strcmp(w->chans[i].label, label))
			return (int)i;
	return -ENOENT;
}

bool th_webpeer_channel_acked(const struct th_webpeer *w, unsigned chan)
{
	return chan < TH_WEBPEER_CHANNELS && w->chans[chan].acked;
}

int th_webpeer_send(struct th_webpeer *w, unsigned chan, bool binary, const uint8_t *p, size_t len)
{
	if (w->state != TH_WP_OPEN)
		return -ENOTCONN;
	if (chan >= TH_WEBPEER_CHANNELS || !w->chans[chan].used)
		return -ENOENT;
	if (w->r_max_message && len > w->r_max_message)
		return -EMSGSIZE;
	const struct wp_chan *c = &w->chans[chan];
	bool unordered = c->type & WEB_DCEP_UNORDERED;
	int max_rtx = (c->type & 0x7fu) == WEB_DCEP_PARTIAL_RELIABLE_REXMIT ? (int)c->rtx : -1;
	uint32_t ppid = binary ? (len ? WEB_PPID_BINARY : WEB_PPID_BINARY_EMPTY)
			       : (len ? WEB_PPID_STRING : WEB_PPID_STRING_EMPTY);
	static const uint8_t zero;
	int r = web_sctp_send(w->sctp, (uint16_t)(2 * chan), ppid, len ? p : &zero, len, unordered, max_rtx);
	if (r == 0)
		w->st.msgs_out++;
	return r;
}

int th_webpeer_send_raw(struct th_webpeer *w, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len)
{
	if (w->state != TH_WP_OPEN)
		return -ENOTCONN;
	return web_sctp_send(w->sctp, stream, ppid, p, len, false, -1);
}

int th_webpeer_recv(struct th_webpeer *w, unsigned *chan, bool *binary, uint8_t *buf, size_t cap)
{
	if (!w->rx_n)
		return -EAGAIN;
	struct wp_msg *m = &w->rxq[w->rx_head];
	if (m->len > cap)
		return -EMSGSIZE;
	memcpy(buf, m->p, m->len);
	if (chan)
		*chan = m->chan;
	if (binary)
		*binary = m->binary;
	int n = (int)m->len;
	free(m->p);
	m->p = NULL;
	w->rx_head = (w->rx_head + 1) % TH_WEBPEER_RXQ;
	w->rx_n--;
	return n;
}

size_t th_webpeer_buffered(const struct th_webpeer *w)
{
	return w->sctp ? web_sctp_buffered(w->sctp) : 0;
}

int th_webpeer_reset_stream(struct th_webpeer *w, unsigned chan)
{
	if (w->state != TH_WP_OPEN)
		return -ENOTCONN;
	if (chan >= TH_WEBPEER_CHANNELS || !w->chans[chan].used)
		return -ENOENT;
	int r = web_sctp_reset_stream(w->sctp, (uint16_t)(2 * chan));
	if (r < 0)
		return r;
	memset(&w->chans[chan], 0, sizeof(w->chans[chan]));
	return 0;
}

void th_webpeer_set_consent(struct th_webpeer *w, bool on)
{
	w->consent_on = on;
}

void th_webpeer_set_bad_integrity(struct th_webpeer *w, bool on)
{
	w->cfg.bad_integrity = on;
}

void th_webpeer_close(struct th_webpeer *w)
{
	if (w->state == TH_WP_FAILED || w->state == TH_WP_CLOSED)
		return;
	web_sctp_destroy(&w->sctp);
	if (w->tls_open)
		gnutls_bye(w->dtls.s, GNUTLS_SHUT_WR);
	wp_fail(w, TH_WP_CLOSED, "closed by this peer");
}

void th_webpeer_get_stats(const struct th_webpeer *w, struct th_webpeer_stats *out)
{
	*out = w->st;
}

/* ---- th_webhost ---- */

static int host_send_to(void *user, const struct sockaddr *to, socklen_t tolen, const uint8_t *p, size_t len)
{
	struct th_webhost *h = user;
	return sendto(h->fd, p, len, 0, to, tolen) < 0 ? -errno : 0;
}

static void host_on_channel(void *user, unsigned chan, const char *label, bool unordered, int max_rtx)
{
	struct th_webhost *h = user;
	if (h->ops.on_channel)
		h->ops.on_channel(h->user, chan, label, unordered, max_rtx);
}

static void host_on_message(void *user, unsigned chan, bool binary, const uint8_t *p, size_t len, uint64_t now_ns)
{
	struct th_webhost *h = user;
	if (h->ops.on_message)
		h->ops.on_message(h->user, chan, binary, p, len, now_ns);
}

static void host_on_closed(void *user, enum web_peer_close reason, const char *why)
{
	struct th_webhost *h = user;
	if (h->ops.on_closed)
		h->ops.on_closed(h->user, reason, why);
}

static void host_on_writable(void *user)
{
	struct th_webhost *h = user;
	if (h->ops.on_writable)
		h->ops.on_writable(h->user);
}

static const struct web_peer_ops host_ops = {
	.send_to = host_send_to,
	.on_channel = host_on_channel,
	.on_message = host_on_message,
	.on_closed = host_on_closed,
	.on_writable = host_on_writable,
};

/* ip as text (v4 or v6) into ss, port 0: its length, or 0. */
static socklen_t ip_addr(const char *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return sizeof(*s6);
	}
	return 0;
}

int th_webhost_open(struct th_webhost *h, const char *ip)
{
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	socklen_t sl = ip_addr(ip ? ip : "127.0.0.1", &h->addr);
	if (!sl)
		return -EINVAL;
	h->fd = socket(h->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return -errno;
	h->addrlen = sizeof(h->addr);
	if (bind(h->fd, (struct sockaddr *)&h->addr, sl) < 0 ||
	    getsockname(h->fd, (struct sockaddr *)&h->addr, &h->addrlen) < 0) {
		int e = -errno;
		th_webhost_close(h);
		return e;
	}
	return 0;
}

int th_webhost_answer(struct th_webhost *h, gnutls_certificate_credentials_t cred, const uint8_t fp[32],
		      const char *offer, size_t max_message, const struct web_peer_ops *ops, void *user,
		      uint64_t now_ns, const char **why)
{
	int r = web_sdp_parse_offer(offer, strlen(offer), &h->offer, why);
	if (r < 0)
		return r;
	web_sdp_ice_credentials(h->ufrag, h->pwd);
	struct web_sdp_answer_params ap = {
		.offer = &h->offer,
		.ice_ufrag = h->ufrag,
		.ice_pwd = h->pwd,
		.fp = fp,
		.session_id = 1,
		.cands = &h->addr,
		.n_cands = 1,
		.max_message_size = max_message ? max_message : WEB_SCTP_MAX_MESSAGE,
	};
	if ((r = web_sdp_build_answer(&ap, h->answer, sizeof(h->answer))) < 0)
		return r;
	h->ops = *ops;
	h->user = user;
	struct web_peer_config pc = {
		.cred = cred,
		.offer = &h->offer,
		.local_ufrag = h->ufrag,
		.local_pwd = h->pwd,
		.max_message = max_message,
	};
	return web_peer_create(&pc, &host_ops, h, now_ns, &h->peer);
}

void th_webhost_step(struct th_webhost *h, uint64_t now_ns)
{
	uint8_t b[WP_DGRAM_MAX];
	for (unsigned i = 0; i < WP_READS_PER_STEP && h->fd >= 0; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(h->fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			break;
		if (h->peer)
			web_peer_input(h->peer, (struct sockaddr *)&from, fl, b, (size_t)n, now_ns);
	}
	if (h->peer && web_peer_timeout_ns(h->peer) <= now_ns)
		web_peer_tick(h->peer, now_ns);
}

void th_webhost_close(struct th_webhost *h)
{
	web_peer_destroy(&h->peer);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}
