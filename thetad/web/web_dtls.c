/* DTLS 1.2 server for a WebRTC data channel: GnuTLS over memory
 * (docs/web.md "DTLS"). One datagram in at a time through the pull
 * function; every datagram GnuTLS writes leaves through ops->output. */
#include "web/web_dtls.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/dtls.h>

/* DTLS 1.2 only; ECDHE-ECDSA (our key is ECDSA P-256) with the AEAD
 * suites Chromium and Firefox offer; the browser's certificate may be
 * signed with any of NORMAL's signature algorithms. Extended master secret
 * is negotiated by default and required after the handshake. */
#define WEB_DTLS_PRIORITY                                                                        \
	"NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-128-GCM:"          \
	"+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-GROUP-ALL:+GROUP-X25519:"              \
	"+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"
/* First handshake retransmission (RFC 6347 4.2.4.1 suggests 1 s; GnuTLS
 * doubles it on each retransmission). */
#define WEB_DTLS_RETRANS_MS 1000u
/* DTLS record header: type, version (2), epoch (2), sequence (6), length (2). */
#define WEB_DTLS_HEADER 13u
/* A DTLS record is at most 2^14 + 2048 bytes of fragment plus its 13 byte
 * header; a datagram larger than one such record is not ours. */
#define WEB_DTLS_DATAGRAM_MAX (16384u + 2048u + WEB_DTLS_HEADER)
/* Content types a DTLS record may carry (RFC 7983's demultiplexing range). */
#define WEB_DTLS_FIRST_BYTE_MIN 20u
#define WEB_DTLS_FIRST_BYTE_MAX 63u
/* gnutls_handshake / gnutls_record_recv calls per input: a datagram of
 * WEB_DTLS_DATAGRAM_MAX bytes holds fewer records than this. */
#define WEB_DTLS_LOOP_MAX 2048u
#define NS_PER_MS 1000000ull
/* The most an AEAD suite we allow adds to a record: AES-GCM's explicit
 * nonce (8) and tag (16). */
#define WEB_DTLS_AEAD_OVERHEAD_MAX 24u

struct web_dtls {
	gnutls_session_t s;
	struct web_dtls_ops ops;
	void *user;
	uint8_t peer_fp[WEB_DTLS_FP_LEN];
	enum web_dtls_state state;
	int err;
	const char *why;
	bool started;      /* a datagram arrived: GnuTLS has sent a flight */
	bool fp_ok;        /* the verify callback matched the fingerprint */
	bool fp_bad;       /* ... or saw a certificate that does not match */
	bool no_cert;      /* ... or none */
	uint64_t created_ns, first_ns, last_now_ns;
	/* The datagram being handled (pull reads it once). */
	const uint8_t *in;
	size_t in_len;
	uint64_t pushed; /* datagrams written, for counting retransmissions */
	uint64_t bad_local;
	struct web_dtls_stats st;
	uint8_t rec[WEB_DTLS_RECORD_MAX];
};

static ssize_t dtls_push(gnutls_transport_ptr_t ptr, const void *p, size_t len)
{
	struct web_dtls *d = ptr;
	/* UDP is lossy: a datagram the socket refused is a lost one, which
	 * retransmission (handshake) or SCTP (data) recovers. */
	(void)d->ops.output(d->user, p, len);
	d->pushed++;
	return (ssize_t)len;
}

static ssize_t dtls_pull(gnutls_transport_ptr_t ptr, void *p, size_t len)
{
	struct web_dtls *d = ptr;
	if (!d->in) {
		gnutls_transport_set_errno(d->s, EAGAIN);
		return -1;
	}
	size_t n = d->in_len < len ? d->in_len : len;
	memcpy(p, d->in, n);
	d->in = NULL;
	d->in_len = 0;
	return (ssize_t)n;
}

/* Nothing ever arrives while GnuTLS waits: 0 is "timed out", which in
 * non-blocking mode GnuTLS answers with GNUTLS_E_AGAIN. */
static int dtls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	struct web_dtls *d = ptr;
	(void)ms;
	return d->in ? 1 : 0;
}

/* The browser's certificate is self-signed: only its SHA-256 over DER,
 * compared with the offer's a=fingerprint, says who it is. The chain is
 * never checked. */
static int dtls_verify(gnutls_session_t s)
{
	struct web_dtls *d = gnutls_session_get_ptr(s);
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || n == 0 || certs[0].size == 0) {
		d->no_cert = true;
		return -1;
	}
	uint8_t fp[WEB_DTLS_FP_LEN];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, fp) < 0) {
		d->fp_bad = true;
		return -1;
	}
	if (sodium_memcmp(fp, d->peer_fp, WEB_DTLS_FP_LEN) != 0) { /* constant time */
		d->fp_bad = true;
		return -1;
	}
	d->fp_ok = true;
	return 0;
}

static void fail(struct web_dtls *d, int err, const char *why)
{
	if (d->state == WEB_DTLS_FAILED || d->state == WEB_DTLS_CLOSED)
		return;
	d->state = WEB_DTLS_FAILED;
	d->err = err;
	d->why = why;
}

static bool is_cert_error(int g)
{
	return g == GNUTLS_E_CERTIFICATE_ERROR || g == GNUTLS_E_NO_CERTIFICATE_FOUND ||
	       g == GNUTLS_E_CERTIFICATE_REQUIRED || g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

/* A fatal handshake error: the alert that says why, then FAILED. */
static int fail_handshake(struct web_dtls *d, int g)
{
	if (g == GNUTLS_E_TIMEDOUT) {
		fail(d, -ETIMEDOUT, "the browser did not finish the DTLS handshake in time");
	} else if (d->fp_bad) {
		(void)gnutls_alert_send(d->s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		fail(d, -EKEYREJECTED, "the browser's DTLS certificate is not the one its offer's fingerprint names");
	} else if (d->no_cert || is_cert_error(g)) {
		(void)gnutls_alert_send(d->s, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
		fail(d, -EKEYREJECTED, "the browser sent no DTLS certificate");
	} else if (g == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		fail(d, -EPROTO, "the browser ended the DTLS handshake with a fatal alert");
	} else {
		(void)gnutls_alert_send_appropriate(d->s, g);
		fail(d, -EPROTO, "the browser's DTLS handshake broke the protocol");
	}
	return d->err;
}

/* A datagram holds whole records only (RFC 6347 4.1.1): one that does not
 * is dropped before GnuTLS sees it. */
static bool whole_records(const uint8_t *p, size_t len)
{
	size_t off = 0;
	while (off < len) {
		if (len - off < WEB_DTLS_HEADER || p[off] < WEB_DTLS_FIRST_BYTE_MIN ||
		    p[off] > WEB_DTLS_FIRST_BYTE_MAX)
			return false;
		size_t rl = (size_t)p[off + 11] << 8 | p[off + 12];
		if (rl > len - off - WEB_DTLS_HEADER)
			return false;
		off += WEB_DTLS_HEADER + rl;
	}
	return true;
}

static void count_discarded(struct web_dtls *d)
{
	d->st.bad_records = d->bad_local + gnutls_record_get_discarded(d->s);
}

/* Decrypts every record GnuTLS holds (one datagram may carry several). */
static int drain_records(struct web_dtls *d)
{
	for (unsigned i = 0; i < WEB_DTLS_LOOP_MAX && d->state == WEB_DTLS_OPEN; i++) {
		ssize_t r = gnutls_record_recv(d->s, d->rec, sizeof(d->rec));
		if (r > 0) {
			d->st.records_in++;
			d->ops.on_data(d->user, d->rec, (size_t)r);
			continue;
		}
		if (r == 0) {
			/* close_notify: answer it, as TLS asks. */
			(void)gnutls_bye(d->s, GNUTLS_SHUT_WR);
			d->state = WEB_DTLS_CLOSED;
			d->why = "the browser closed the DTLS session";
			return -ECONNRESET;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return 0;
		if (r == GNUTLS_E_REHANDSHAKE) {
			/* WebRTC never renegotiates; say no and carry on. */
			(void)gnutls_alert_send(d->s, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
			continue;
		}
		if (r == GNUTLS_E_WARNING_ALERT_RECEIVED)
			continue;
		if (!gnutls_error_is_fatal((int)r)) {
			d->bad_local++;
			continue;
		}
		if (r == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			fail(d, -EPROTO, "the browser ended the DTLS session with a fatal alert");
		} else {
			(void)gnutls_alert_send_appropriate(d->s, (int)r);
			fail(d, -EPROTO, "the browser's DTLS records broke the protocol");
		}
		return d->err;
	}
	return d->state == WEB_DTLS_OPEN ? 0 : d->state == WEB_DTLS_CLOSED ? -ECONNRESET : d->err;
}

static int opened(struct web_dtls *d, uint64_t now_ns)
{
	if (!d->fp_ok) {
		(void)gnutls_alert_send(d->s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		fail(d, -EKEYREJECTED, "the browser sent no DTLS certificate");
		return d->err;
	}
	if (!gnutls_session_ext_master_secret_status(d->s)) {
		(void)gnutls_alert_send(d->s, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
		fail(d, -EPROTO, "the browser's DTLS handshake did not use the extended master secret");
		return d->err;
	}
	d->state = WEB_DTLS_OPEN;
	d->st.handshake_ns = now_ns > d->first_ns ? now_ns - d->first_ns : 1;
	d->ops.on_open(d->user);
	return 0;
}

/* Runs gnutls_handshake until it waits for the browser. */
static int step_handshake(struct web_dtls *d, uint64_t now_ns)
{
	for (unsigned i = 0; i < WEB_DTLS_LOOP_MAX; i++) {
		int g = gnutls_handshake(d->s);
		if (g == 0)
			return opened(d, now_ns);
		if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED)
			return 0;
		if (g == GNUTLS_E_SESSION_EOF ||
		    (g == GNUTLS_E_WARNING_ALERT_RECEIVED && gnutls_alert_get(d->s) == GNUTLS_A_CLOSE_NOTIFY)) {
			/* The browser gave up before the end (a closed tab). */
			d->state = WEB_DTLS_CLOSED;
			d->why = "the browser closed the DTLS session during the handshake";
			return -ECONNRESET;
		}
		if (g == GNUTLS_E_WARNING_ALERT_RECEIVED || !gnutls_error_is_fatal(g))
			continue;
		return fail_handshake(d, g);
	}
	return 0;
}

int web_dtls_create(gnutls_certificate_credentials_t cred, const uint8_t peer_fp[WEB_DTLS_FP_LEN],
		    const struct web_dtls_ops *ops, void *user, uint64_t now_ns, struct web_dtls **out)
{
	if (!cred || !peer_fp || !ops || !ops->output || !ops->on_data || !ops->on_open || !out)
		return -EINVAL;
	struct web_dtls *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ops = *ops;
	d->user = user;
	memcpy(d->peer_fp, peer_fp, WEB_DTLS_FP_LEN);
	d->state = WEB_DTLS_HANDSHAKE;
	d->created_ns = now_ns;
	d->last_now_ns = now_ns;
	int rv = -EINVAL;
	if (gnutls_init(&d->s, GNUTLS_SERVER | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK) < 0) {
		d->s = NULL;
		rv = -ENOMEM;
		goto fail;
	}
	if (gnutls_priority_set_direct(d->s, WEB_DTLS_PRIORITY, NULL) < 0 ||
	    gnutls_credentials_set(d->s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		goto fail;
	gnutls_certificate_server_set_request(d->s, GNUTLS_CERT_REQUIRE);
	gnutls_session_set_ptr(d->s, d);
	gnutls_session_set_verify_function(d->s, dtls_verify);
	gnutls_transport_set_ptr(d->s, d);
	gnutls_transport_set_push_function(d->s, dtls_push);
	gnutls_transport_set_pull_function(d->s, dtls_pull);
	gnutls_transport_set_pull_timeout_function(d->s, dtls_pull_timeout);
	gnutls_dtls_set_mtu(d->s, WEB_DTLS_MTU);
	gnutls_dtls_set_timeouts(d->s, WEB_DTLS_RETRANS_MS,
				 (unsigned)(WEB_DTLS_HANDSHAKE_TIMEOUT_NS / NS_PER_MS));
	*out = d;
	return 0;
fail:
	web_dtls_destroy(&d);
	return rv;
}

void web_dtls_destroy(struct web_dtls **pd)
{
	struct web_dtls *d = pd ? *pd : NULL;
	if (!d)
		return;
	if (d->s)
		gnutls_deinit(d->s);
	free(d);
	*pd = NULL;
}

int web_dtls_input(struct web_dtls *d, const uint8_t *p, size_t len, uint64_t now_ns)
{
	if (d->state == WEB_DTLS_FAILED)
		return d->err;
	if (d->state == WEB_DTLS_CLOSED)
		return -ECONNRESET;
	d->last_now_ns = now_ns;
	if (!p || len == 0 || len > WEB_DTLS_DATAGRAM_MAX || !whole_records(p, len)) {
		d->bad_local++;
		count_discarded(d);
		return 0;
	}
	d->in = p;
	d->in_len = len;
	int rv;
	if (d->state == WEB_DTLS_HANDSHAKE) {
		if (!d->started) {
			d->started = true;
			d->first_ns = now_ns;
		}
		rv = step_handshake(d, now_ns);
		if (rv == 0 && d->state == WEB_DTLS_OPEN)
			rv = drain_records(d);
	} else {
		rv = drain_records(d);
	}
	if (d->in) {
		/* GnuTLS did not read it (it waits for nothing from the browser). */
		d->in = NULL;
		d->in_len = 0;
	}
	count_discarded(d);
	return rv;
}

int web_dtls_send(struct web_dtls *d, const uint8_t *p, size_t len)
{
	if (d->state != WEB_DTLS_OPEN)
		return -ENOTCONN;
	if (len > web_dtls_data_mtu(d))
		return -EMSGSIZE;
	if (len == 0)
		return 0;
	ssize_t r = gnutls_record_send(d->s, p, len);
	if (r == GNUTLS_E_LARGE_PACKET)
		return -EMSGSIZE;
	if (r < 0)
		return -EIO;
	d->st.records_out++;
	return 0;
}

int web_dtls_tick(struct web_dtls *d, uint64_t now_ns)
{
	if (d->state == WEB_DTLS_FAILED)
		return d->err;
	if (d->state != WEB_DTLS_HANDSHAKE)
		return 0;
	d->last_now_ns = now_ns;
	if (now_ns >= d->created_ns + WEB_DTLS_HANDSHAKE_TIMEOUT_NS) {
		fail(d, -ETIMEDOUT, "the browser did not finish the DTLS handshake in time");
		return d->err;
	}
	if (!d->started || gnutls_dtls_get_timeout(d->s) > 0)
		return 0;
	uint64_t before = d->pushed;
	int rv = step_handshake(d, now_ns);
	if (d->pushed > before)
		d->st.retransmits++;
	return rv;
}

uint64_t web_dtls_timeout_ns(const struct web_dtls *d)
{
	if (d->state != WEB_DTLS_HANDSHAKE)
		return UINT64_MAX;
	uint64_t deadline = d->created_ns + WEB_DTLS_HANDSHAKE_TIMEOUT_NS;
	if (!d->started)
		return deadline;
	/* GnuTLS keeps its own clock: its "due in" is measured from the
	 * last time we saw `now`. */
	uint64_t due = d->last_now_ns + (uint64_t)gnutls_dtls_get_timeout(d->s) * NS_PER_MS;
	return due < deadline ? due : deadline;
}

void web_dtls_close(struct web_dtls *d)
{
	if (d->state == WEB_DTLS_OPEN)
		(void)gnutls_bye(d->s, GNUTLS_SHUT_WR);
	if (d->state == WEB_DTLS_OPEN || d->state == WEB_DTLS_HANDSHAKE) {
		d->state = WEB_DTLS_CLOSED;
		d->why = "the DTLS session was closed here";
	}
}

enum web_dtls_state web_dtls_state(const struct web_dtls *d)
{
	return d->state;
}

int web_dtls_error(const struct web_dtls *d, const char **why)
{
	if (why)
		*why = d->why;
	return d->state == WEB_DTLS_FAILED ? d->err : 0;
}

size_t web_dtls_data_mtu(const struct web_dtls *d)
{
	size_t mtu = gnutls_dtls_get_data_mtu(d->s);
	/* Before OPEN GnuTLS counts the null cipher: answer for the worst
	 * suite instead, so nobody sizes packets that will not fit. */
	size_t worst = WEB_DTLS_MTU - WEB_DTLS_HEADER - WEB_DTLS_AEAD_OVERHEAD_MAX;
	if (d->state != WEB_DTLS_OPEN && mtu > worst)
		mtu = worst;
	return mtu;
}

void web_dtls_get_stats(const struct web_dtls *d, struct web_dtls_stats *out)
{
	*out = d->st;
}
