/* QUIC connection over ngtcp2 0.12 + ngtcp2_crypto_gnutls. No I/O, no clock:
 * see net_quic.h. */
#include "net/net_quic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <sodium.h>

/* TLS 1.3 only, no middlebox compatibility mode (RFC 9001 8.4). */
#define NET_QUIC_PRIORITY                                                                      \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:%DISABLE_TLS13_COMPAT_MODE"
/* Fallback label when GnuTLS lacks the RFC 9266 channel binding. */
#define NET_QUIC_EXPORTER_LABEL "EXPORTER-theta-channel-binding"
/* Send buffers are lists of fixed chunks: ngtcp2 keeps pointers into data it
 * sent until the peer acknowledges it, so written bytes never move. */
#define NET_QUIC_CHUNK (64u * 1024u)
/* DATAGRAM frame overhead allowance on top of the payload (type + length). */
#define NET_QUIC_DGRAM_FRAME_OVERHEAD 8u
/* Max vectors handed to ngtcp2 per STREAM frame. */
#define NET_QUIC_MAX_IOV 4

struct net_chunk {
	struct net_chunk *next;
	uint64_t off; /* stream offset of data[0] */
	size_t len;
	uint8_t data[NET_QUIC_CHUNK];
};

struct net_stream {
	int64_t id;
	struct net_chunk *head, *tail; /* unacknowledged .. newest */
	uint64_t written;              /* stream offset after the last queued byte */
	uint64_t sent;                 /* handed to ngtcp2 up to here */
	uint64_t acked;                /* acknowledged up to here */
	bool fin_queued, fin_sent, reset;
	unsigned blocked_gen; /* == q->gen: blocked for this packet */
	uint64_t held;        /* received bytes the owner has not consumed yet (not credited) */
};

struct net_dgram {
	uint16_t len;
	uint8_t data[NET_QUIC_MAX_DGRAM];
};

struct net_quic {
	ngtcp2_conn *conn;
	ngtcp2_crypto_conn_ref conn_ref;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t client_cred; /* client only; servers borrow */
	bool server;
	struct net_quic_callbacks cb;
	void *ud;
	uint64_t now; /* now_ns of the feed/produce/close in progress, for the callbacks */

	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
	uint8_t cid_key[NET_QUIC_CID_KEY_LEN];
	uint8_t reset_secret[32];
	size_t reset_secret_len;

	uint8_t pinned_fp[NET_QUIC_FP_LEN];
	bool fp_mismatch, alpn_bad, hs_done, stateless_reset;
	char alpn[16];

	struct net_stream *streams[NET_QUIC_MAX_LOCAL_STREAMS];
	unsigned nstreams, rr; /* round-robin cursor */
	/* The stream_data callback in progress: its stream and the bytes it
	 * kept (net_quic_stream_hold). */
	int64_t rx_sid;
	size_t rx_hold;
	unsigned gen;

	struct net_dgram *dq; /* ring */
	unsigned dq_head, dq_len;

	/* ending */
	bool ended, finished, close_pending, close_resend, in_closing;
	struct net_quic_end_info end;
	ngtcp2_connection_close_error ccerr;
	uint8_t ccerr_reason[NET_QUIC_REASON_MAX];
	uint8_t closepkt[NET_QUIC_MAX_PKT];
	size_t closepkt_len;
	uint64_t finish_at;
	uint64_t closing_rx;
	uint8_t stash[NET_QUIC_MAX_PKT]; /* a packet held back from a GSO batch */
	size_t stash_len;

	struct net_quic_stats st;
};

/* ---- helpers ------------------------------------------------------------ */

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct net_quic *q = ref->user_data;
	return q->conn;
}

static struct net_stream *stream_find(const struct net_quic *q, int64_t sid)
{
	for (unsigned i = 0; i < q->nstreams; i++)
		if (q->streams[i]->id == sid)
			return q->streams[i];
	return NULL;
}

static struct net_stream *stream_new(struct net_quic *q, int64_t sid)
{
	if (q->nstreams >= NET_QUIC_MAX_LOCAL_STREAMS)
		return NULL;
	struct net_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = sid;
	q->streams[q->nstreams++] = s;
	return s;
}

static void stream_free_chunks(struct net_stream *s)
{
	while (s->head) {
		struct net_chunk *c = s->head;
		s->head = c->next;
		free(c);
	}
	s->tail = NULL;
}

static void stream_remove(struct net_quic *q, struct net_stream *s)
{
	/* Bytes held on a stream that is gone: the connection gets them back. */
	if (s->held && q->conn)
		ngtcp2_conn_extend_max_offset(q->conn, s->held);
	for (unsigned i = 0; i < q->nstreams; i++) {
		if (q->streams[i] == s) {
			q->streams[i] = q->streams[--q->nstreams];
			break;
		}
	}
	stream_free_chunks(s);
	free(s);
}

static bool stream_has_pending(const struct net_stream *s)
{
	if (s->reset)
		return false;
	return s->sent < s->written || (s->fin_queued && !s->fin_sent);
}

/* Vectors covering [s->sent, s->written). */
static size_t stream_iov(const struct net_stream *s, ngtcp2_vec *v, size_t max)
{
	size_t n = 0;
	for (const struct net_chunk *c = s->head; c && n < max; c = c->next) {
		uint64_t end = c->off + c->len;
		if (end <= s->sent)
			continue;
		size_t skip = s->sent > c->off ? (size_t)(s->sent - c->off) : 0;
		v[n].base = (uint8_t *)c->data + skip;
		v[n].len = c->len - skip;
		n++;
	}
	return n;
}

static void set_end(struct net_quic *q, enum net_quic_end kind, uint64_t code, const uint8_t *reason,
		    size_t reason_len)
{
	if (q->ended)
		return;
	q->ended = true;
	q->end.kind = kind;
	q->end.code = code;
	size_t n = 0;
	for (size_t i = 0; reason && i < reason_len && n + 1 < sizeof(q->end.reason); i++) {
		uint8_t c = reason[i];
		q->end.reason[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	q->end.reason[n] = '\0';
	if (q->cb.ended)
		q->cb.ended(q, &q->end, q->now, q->ud);
}

static uint64_t three_pto(struct net_quic *q)
{
	return 3 * ngtcp2_conn_get_pto(q->conn);
}

/* ---- ngtcp2 callbacks --------------------------------------------------- */

static int cb_handshake_completed(ngtcp2_conn *conn, void *ud)
{
	struct net_quic *q = ud;
	(void)conn;
	gnutls_datum_t p = {0};
	if (gnutls_alpn_get_selected_protocol(q->tls, &p) != 0 || p.size != strlen(NET_QUIC_ALPN) ||
	    memcmp(p.data, NET_QUIC_ALPN, p.size) != 0) {
		q->alpn_bad = true;
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	memcpy(q->alpn, p.data, p.size);
	q->alpn[p.size] = '\0';
	q->hs_done = true;
	if (q->cb.handshake_done)
		q->cb.handshake_done(q, q->now, q->ud);
	return 0;
}

static int cb_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t offset,
			       const uint8_t *data, size_t len, void *ud, void *sud)
{
	struct net_quic *q = ud;
	(void)offset;
	(void)sud;
	bool fin = flags & NGTCP2_STREAM_DATA_FLAG_FIN;
	q->rx_sid = sid;
	q->rx_hold = 0;
	if (q->cb.stream_data && !q->ended)
		q->cb.stream_data(q, sid, data, len, fin, q->now, q->ud);
	size_t keep = q->rx_hold < len ? q->rx_hold : len;
	q->rx_sid = -1;
	q->rx_hold = 0;
	struct net_stream *s = keep ? stream_find(q, sid) : NULL;
	if (s)
		s->held += keep;
	else
		keep = 0;
	/* What the owner consumed: hand the credit back. What it kept stays
	 * charged to both windows until net_quic_stream_consumed. */
	if (len > keep) {
		ngtcp2_conn_extend_max_stream_offset(conn, sid, len - keep);
		ngtcp2_conn_extend_max_offset(conn, len - keep);
	}
	return 0;
}

static int cb_stream_open(ngtcp2_conn *conn, int64_t sid, void *ud)
{
	struct net_quic *q = ud;
	(void)conn;
	if (!ngtcp2_is_bidi_stream(sid))
		return 0; /* we allow no uni streams; ngtcp2 enforces it */
	if (!stream_new(q, sid))
		return NGTCP2_ERR_CALLBACK_FAILURE;
	if (q->cb.stream_open)
		q->cb.stream_open(q, sid, q->now, q->ud);
	return 0;
}

static int cb_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t app_code,
			   void *ud, void *sud)
{
	struct net_quic *q = ud;
	(void)sud;
	if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
		app_code = 0;
	struct net_stream *s = stream_find(q, sid);
	if (q->cb.stream_close)
		q->cb.stream_close(q, sid, app_code, q->now, q->ud);
	if (s)
		stream_remove(q, s);
	if (!ngtcp2_conn_is_local_stream(conn, sid) && ngtcp2_is_bidi_stream(sid))
		ngtcp2_conn_extend_max_streams_bidi(conn, 1);
	return 0;
}

static int cb_stream_reset(ngtcp2_conn *conn, int64_t sid, uint64_t final_size, uint64_t app_code,
			   void *ud, void *sud)
{
	(void)final_size;
	(void)app_code;
	(void)ud;
	(void)sud;
	/* The peer abandoned its side: abandon ours too. */
	return ngtcp2_conn_shutdown_stream_read(conn, sid, app_code) == 0 ? 0 : 0;
}

static int cb_acked(ngtcp2_conn *conn, int64_t sid, uint64_t offset, uint64_t len, void *ud,
		    void *sud)
{
	struct net_quic *q = ud;
	(void)conn;
	(void)sud;
	struct net_stream *s = stream_find(q, sid);
	if (!s)
		return 0;
	/* ngtcp2 reports the newly contiguous acknowledged range. */
	if (offset + len > s->acked)
		s->acked = offset + len;
	while (s->head && s->head->off + s->head->len <= s->acked &&
	       (s->head->len == NET_QUIC_CHUNK || s->head->off + s->head->len == s->written)) {
		struct net_chunk *c = s->head;
		s->head = c->next;
		if (s->tail == c)
			s->tail = NULL;
		free(c);
	}
	return 0;
}

static int cb_recv_datagram(ngtcp2_conn *conn, uint32_t flags, const uint8_t *data, size_t len,
			    void *ud)
{
	struct net_quic *q = ud;
	(void)conn;
	(void)flags;
	q->st.dgrams_in++;
	if (q->cb.datagram && !q->ended)
		q->cb.datagram(q, data, len, q->now, q->ud);
	return 0;
}

static int cb_get_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
			  void *ud)
{
	struct net_quic *q = ud;
	(void)conn;
	if (cidlen < NET_QUIC_CID_KEY_LEN || cidlen > NGTCP2_MAX_CIDLEN)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	memcpy(cid->data, q->cid_key, NET_QUIC_CID_KEY_LEN);
	if (gnutls_rnd(GNUTLS_RND_NONCE, cid->data + NET_QUIC_CID_KEY_LEN,
		       cidlen - NET_QUIC_CID_KEY_LEN) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	if (q->reset_secret_len) {
		if (ngtcp2_crypto_generate_stateless_reset_token(token, q->reset_secret,
								 q->reset_secret_len, cid) != 0)
			return NGTCP2_ERR_CALLBACK_FAILURE;
	} else if (gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0) {
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int cb_stateless_reset(ngtcp2_conn *conn, const ngtcp2_pkt_stateless_reset *sr, void *ud)
{
	struct net_quic *q = ud;
	(void)conn;
	(void)sr;
	q->stateless_reset = true;
	return 0;
}

/* Client: the server certificate must hash to the pinned fingerprint. */
static int verify_cb(gnutls_session_t tls)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(tls);
	struct net_quic *q = ref->user_data;
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(tls, &n);
	uint8_t fp[NET_QUIC_FP_LEN];
	if (!certs || n == 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, fp) != 0 ||
	    sodium_memcmp(fp, q->pinned_fp, sizeof(fp)) != 0) {
		q->fp_mismatch = true;
		return -1;
	}
	return 0;
}

static void fill_callbacks(ngtcp2_callbacks *c, bool server)
{
	memset(c, 0, sizeof(*c));
	if (server) {
		c->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
	} else {
		c->client_initial = ngtcp2_crypto_client_initial_cb;
		c->recv_retry = ngtcp2_crypto_recv_retry_cb;
	}
	c->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
	c->handshake_completed = cb_handshake_completed;
	c->encrypt = ngtcp2_crypto_encrypt_cb;
	c->decrypt = ngtcp2_crypto_decrypt_cb;
	c->hp_mask = ngtcp2_crypto_hp_mask_cb;
	c->recv_stream_data = cb_recv_stream_data;
	c->acked_stream_data_offset = cb_acked;
	c->stream_open = cb_stream_open;
	c->stream_close = cb_stream_close;
	c->stream_reset = cb_stream_reset;
	c->recv_stateless_reset = cb_stateless_reset;
	c->rand = rand_cb;
	c->get_new_connection_id = cb_get_new_cid;
	c->update_key = ngtcp2_crypto_update_key_cb;
	c->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
	c->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
	c->recv_datagram = cb_recv_datagram;
	c->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
	c->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
}

static void fill_settings(ngtcp2_settings *s, const struct net_quic_config *cfg, uint64_t now)
{
	ngtcp2_settings_default(s);
	s->initial_ts = now;
	/* BBR v2, not a loss-based controller: on a lossy link (Wi-Fi, the
	 * impairment rehearsals) Cubic halves its window at every random loss
	 * and a catch-up of 500 KB took seconds under 10 % loss (3.75 s median
	 * in simulated time). test_quic_sim's late join (500 KB after the
	 * handshake, 10 % loss and 20 ms delay each way, 101 seeds): 0.45 s
	 * median (p90 0.58 s) with BBR v1, 0.31 s (0.42 s) with BBR v2. */
	s->cc_algo = NGTCP2_CC_ALGO_BBR2;
	s->max_tx_udp_payload_size = NET_QUIC_MAX_PKT;
	s->handshake_timeout = cfg->handshake_timeout_ns ? cfg->handshake_timeout_ns
							 : NET_QUIC_DEFAULT_HANDSHAKE_TIMEOUT;
	if (cfg->initial_rtt_ns)
		s->initial_rtt = cfg->initial_rtt_ns;
	s->no_pmtud = cfg->no_pmtud;
}

static void fill_params(ngtcp2_transport_params *p, const struct net_quic_config *cfg)
{
	uint64_t sw = cfg->stream_window ? cfg->stream_window : NET_QUIC_STREAM_WINDOW;
	uint64_t cw = cfg->conn_window ? cfg->conn_window : NET_QUIC_CONN_WINDOW;
	ngtcp2_transport_params_default(p);
	p->initial_max_stream_data_bidi_local = sw;
	p->initial_max_stream_data_bidi_remote = sw;
	p->initial_max_stream_data_uni = 0;
	p->initial_max_data = cw;
	p->initial_max_streams_bidi = NET_QUIC_MAX_STREAMS_BIDI;
	p->initial_max_streams_uni = 0;
	p->max_idle_timeout = cfg->idle_timeout_ns ? cfg->idle_timeout_ns : NET_QUIC_DEFAULT_IDLE_TIMEOUT;
	p->max_datagram_frame_size = NET_QUIC_MAX_DGRAM + NET_QUIC_DGRAM_FRAME_OVERHEAD;
	p->disable_active_migration = 1;
}

static int tls_setup(struct net_quic *q, gnutls_certificate_credentials_t cred)
{
	static const gnutls_datum_t alpn = {(unsigned char *)NET_QUIC_ALPN, sizeof(NET_QUIC_ALPN) - 1};
	unsigned flags = q->server ? GNUTLS_SERVER : GNUTLS_CLIENT;
	if (gnutls_init(&q->tls, flags | GNUTLS_NO_END_OF_EARLY_DATA) != 0) {
		q->tls = NULL;
		return -ENOMEM;
	}
	int rv = q->server ? ngtcp2_crypto_gnutls_configure_server_session(q->tls)
			   : ngtcp2_crypto_gnutls_configure_client_session(q->tls);
	if (rv != 0)
		return -EINVAL;
	if (gnutls_priority_set_direct(q->tls, NET_QUIC_PRIORITY, NULL) != 0)
		return -EINVAL;
	q->conn_ref.get_conn = get_conn;
	q->conn_ref.user_data = q;
	gnutls_session_set_ptr(q->tls, &q->conn_ref);
	if (!q->server) {
		if (gnutls_certificate_allocate_credentials(&q->client_cred) != 0) {
			q->client_cred = NULL;
			return -ENOMEM;
		}
		cred = q->client_cred;
		gnutls_session_set_verify_function(q->tls, verify_cb);
	}
	if (gnutls_credentials_set(q->tls, GNUTLS_CRD_CERTIFICATE, cred) != 0)
		return -EINVAL;
	unsigned aflags = GNUTLS_ALPN_MANDATORY | (q->server ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0);
	if (gnutls_alpn_set_protocols(q->tls, &alpn, 1, aflags) != 0)
		return -EINVAL;
	return 0;
}

static struct net_quic *alloc_quic(const struct net_quic_callbacks *cb, void *ud,
				   const struct sockaddr *local, socklen_t local_len,
				   const struct sockaddr *remote, socklen_t remote_len)
{
	if ((size_t)local_len > sizeof(struct sockaddr_storage) ||
	    (size_t)remote_len > sizeof(struct sockaddr_storage))
		return NULL;
	struct net_quic *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->dq = calloc(NET_QUIC_DGRAM_QUEUE, sizeof(*q->dq));
	if (!q->dq) {
		free(q);
		return NULL;
	}
	if (cb)
		q->cb = *cb;
	q->ud = ud;
	q->rx_sid = -1;
	memcpy(&q->local, local, local_len);
	q->local_len = local_len;
	memcpy(&q->remote, remote, remote_len);
	q->remote_len = remote_len;
	return q;
}

static ngtcp2_path make_path(struct net_quic *q, const struct sockaddr *remote, socklen_t rlen)
{
	ngtcp2_path p = {
		.local = {.addr = (ngtcp2_sockaddr *)&q->local, .addrlen = q->local_len},
		.remote = {.addr = (ngtcp2_sockaddr *)remote, .addrlen = rlen},
	};
	return p;
}

/* ---- create / destroy ----------------------------------------------------- */

int net_quic_client_create(const struct net_quic_config *cfg, const struct net_quic_callbacks *cb,
			   void *ud, const uint8_t pinned_fp[NET_QUIC_FP_LEN],
			   const struct sockaddr *local, socklen_t local_len,
			   const struct sockaddr *remote, socklen_t remote_len, uint64_t now_ns,
			   struct net_quic **out)
{
	static const struct net_quic_config defcfg;
	if (!cfg)
		cfg = &defcfg;
	struct net_quic *q = alloc_quic(cb, ud, local, local_len, remote, remote_len);
	if (!q)
		return -ENOMEM;
	memcpy(q->pinned_fp, pinned_fp, NET_QUIC_FP_LEN);
	int rv = -EIO;
	ngtcp2_cid dcid, scid;
	dcid.datalen = NET_QUIC_CID_LEN;
	scid.datalen = NET_QUIC_CID_LEN;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, q->cid_key, sizeof(q->cid_key)) != 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, scid.data + NET_QUIC_CID_KEY_LEN,
		       NET_QUIC_CID_LEN - NET_QUIC_CID_KEY_LEN) != 0)
		goto fail;
	memcpy(scid.data, q->cid_key, NET_QUIC_CID_KEY_LEN);

	ngtcp2_callbacks callbacks;
	ngtcp2_settings settings;
	ngtcp2_transport_params params;
	fill_callbacks(&callbacks, false);
	fill_settings(&settings, cfg, now_ns);
	q->now = now_ns;
	fill_params(&params, cfg);
	ngtcp2_path path = make_path(q, (const struct sockaddr *)&q->remote, q->remote_len);
	if (ngtcp2_conn_client_new(&q->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &callbacks,
				   &settings, &params, NULL, q) != 0) {
		q->conn = NULL;
		rv = -ENOMEM;
		goto fail;
	}
	rv = tls_setup(q, NULL);
	if (rv < 0)
		goto fail;
	ngtcp2_conn_set_tls_native_handle(q->conn, q->tls);
	if (cfg->keepalive_ns)
		ngtcp2_conn_set_keep_alive_timeout(q->conn, cfg->keepalive_ns);
	*out = q;
	return 0;
fail:
	net_quic_destroy(&q);
	return rv;
}

int net_quic_server_create(const struct net_quic_config *cfg, const struct net_quic_callbacks *cb,
			   void *ud, const struct net_quic_server_params *sp,
			   const struct sockaddr *local, socklen_t local_len,
			   const struct sockaddr *remote, socklen_t remote_len, uint64_t now_ns,
			   struct net_quic **out)
{
	static const struct net_quic_config defcfg;
	if (!cfg)
		cfg = &defcfg;
	if (!sp || !sp->cred || !sp->cid_key || sp->dcid_len > NGTCP2_MAX_CIDLEN ||
	    sp->scid_len > NGTCP2_MAX_CIDLEN || sp->odcid_len > NGTCP2_MAX_CIDLEN ||
	    sp->reset_secret_len > 32)
		return -EINVAL;
	struct net_quic *q = alloc_quic(cb, ud, local, local_len, remote, remote_len);
	if (!q)
		return -ENOMEM;
	q->server = true;
	memcpy(q->cid_key, sp->cid_key, NET_QUIC_CID_KEY_LEN);
	memcpy(q->reset_secret, sp->reset_secret, sp->reset_secret_len);
	q->reset_secret_len = sp->reset_secret_len;
	int rv = -EIO;

	ngtcp2_cid client_scid, scid, client_dcid;
	ngtcp2_cid_init(&client_scid, sp->scid, sp->scid_len);
	ngtcp2_cid_init(&client_dcid, sp->dcid, sp->dcid_len);
	memcpy(scid.data, q->cid_key, NET_QUIC_CID_KEY_LEN);
	scid.datalen = NET_QUIC_CID_LEN;
	if (gnutls_rnd(GNUTLS_RND_NONCE, scid.data + NET_QUIC_CID_KEY_LEN,
		       NET_QUIC_CID_LEN - NET_QUIC_CID_KEY_LEN) != 0)
		goto fail;

	ngtcp2_callbacks callbacks;
	ngtcp2_settings settings;
	ngtcp2_transport_params params;
	fill_callbacks(&callbacks, true);
	fill_settings(&settings, cfg, now_ns);
	q->now = now_ns;
	fill_params(&params, cfg);
	if (sp->token && sp->token_len) {
		settings.token.base = (uint8_t *)sp->token;
		settings.token.len = sp->token_len;
	}
	if (sp->odcid && sp->odcid_len) {
		ngtcp2_cid_init(&params.original_dcid, sp->odcid, sp->odcid_len);
		params.retry_scid = client_dcid;
		params.retry_scid_present = 1;
	} else {
		params.original_dcid = client_dcid;
	}
	if (sp->reset_secret_len) {
		if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token,
								 q->reset_secret, q->reset_secret_len,
								 &scid) != 0)
			goto fail;
		params.stateless_reset_token_present = 1;
	}
	ngtcp2_path path = make_path(q, (const struct sockaddr *)&q->remote, q->remote_len);
	if (ngtcp2_conn_server_new(&q->conn, &client_scid, &scid, &path, sp->version, &callbacks,
				   &settings, &params, NULL, q) != 0) {
		q->conn = NULL;
		rv = -ENOMEM;
		goto fail;
	}
	rv = tls_setup(q, sp->cred);
	if (rv < 0)
		goto fail;
	ngtcp2_conn_set_tls_native_handle(q->conn, q->tls);
	if (cfg->keepalive_ns)
		ngtcp2_conn_set_keep_alive_timeout(q->conn, cfg->keepalive_ns);
	*out = q;
	return 0;
fail:
	net_quic_destroy(&q);
	return rv;
}

void net_quic_destroy(struct net_quic **pq)
{
	struct net_quic *q = pq ? *pq : NULL;
	if (!q)
		return;
	if (q->conn)
		ngtcp2_conn_del(q->conn);
	if (q->tls)
		gnutls_deinit(q->tls);
	if (q->client_cred)
		gnutls_certificate_free_credentials(q->client_cred);
	for (unsigned i = 0; i < q->nstreams; i++) {
		stream_free_chunks(q->streams[i]);
		free(q->streams[i]);
	}
	free(q->dq);
	free(q);
	*pq = NULL;
}

void net_quic_set_user(struct net_quic *q, void *ud) { q->ud = ud; }
void *net_quic_user(const struct net_quic *q) { return q->ud; }

/* ---- receive -------------------------------------------------------------- */

/* The connection failed locally: queue a CONNECTION_CLOSE for liberr. */
static void fail_local(struct net_quic *q, int liberr, uint64_t now)
{
	ngtcp2_connection_close_error_default(&q->ccerr);
	enum net_quic_end kind = NET_QUIC_END_LOCAL_TRANSPORT;
	if (liberr == NGTCP2_ERR_CRYPTO || q->fp_mismatch || q->alpn_bad) {
		uint8_t alert = ngtcp2_conn_get_tls_alert(q->conn);
		if (q->fp_mismatch) {
			kind = NET_QUIC_END_FINGERPRINT;
			alert = alert ? alert : 42; /* bad_certificate */
		} else if (q->alpn_bad) {
			kind = NET_QUIC_END_ALPN;
			alert = 120; /* no_application_protocol */
		}
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&q->ccerr, alert, NULL, 0);
	} else {
		ngtcp2_connection_close_error_set_transport_error_liberr(&q->ccerr, liberr, NULL, 0);
	}
	q->close_pending = true;
	q->in_closing = true;
	q->finish_at = now + three_pto(q);
	set_end(q, kind, q->ccerr.error_code, NULL, 0);
}

static int end_errno(const struct net_quic *q)
{
	switch (q->end.kind) {
	case NET_QUIC_END_IDLE:
	case NET_QUIC_END_HANDSHAKE_TIMEOUT:
		return -ETIMEDOUT;
	case NET_QUIC_END_FINGERPRINT:
		return -EKEYREJECTED;
	case NET_QUIC_END_REMOTE_APP:
	case NET_QUIC_END_REMOTE_TRANSPORT:
	case NET_QUIC_END_STATELESS_RESET:
		return -ECONNRESET;
	default:
		return -ECONNABORTED;
	}
}

static void enter_draining(struct net_quic *q, uint64_t now)
{
	ngtcp2_connection_close_error cc;
	ngtcp2_conn_get_connection_close_error(q->conn, &cc);
	q->finish_at = now + three_pto(q);
	if (q->stateless_reset) {
		set_end(q, NET_QUIC_END_STATELESS_RESET, 0, NULL, 0);
		return;
	}
	enum net_quic_end kind = cc.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION
					 ? NET_QUIC_END_REMOTE_APP
					 : NET_QUIC_END_REMOTE_TRANSPORT;
	set_end(q, kind, cc.error_code, cc.reason, cc.reasonlen);
}

int net_quic_feed(struct net_quic *q, const uint8_t *pkt, size_t len, const struct sockaddr *from,
		  socklen_t from_len, uint64_t now_ns)
{
	if (q->finished)
		return end_errno(q);
	q->now = now_ns;
	if (len == 0 || len > NET_QUIC_MAX_RX_PKT || (size_t)from_len > sizeof(struct sockaddr_storage))
		return 0;
	q->st.pkts_in++;
	q->st.bytes_in += len;
	if (q->ended) {
		/* Closing: answer the peer's packets with our close, sparingly
		 * (1st, 2nd, 4th, 8th, ... packet). Draining: stay silent. */
		if (q->in_closing && q->closepkt_len) {
			q->closing_rx++;
			if ((q->closing_rx & (q->closing_rx - 1)) == 0)
				q->close_resend = true;
		}
		return 0;
	}
	ngtcp2_path path = make_path(q, from, from_len);
	ngtcp2_pkt_info pi = {0};
	int rv = ngtcp2_conn_read_pkt(q->conn, &path, &pi, pkt, len, now_ns);
	if (rv == 0 && (q->stateless_reset || ngtcp2_conn_is_in_draining_period(q->conn)))
		rv = NGTCP2_ERR_DRAINING; /* e.g. a stateless reset */
	if (rv == 0)
		return 0;
	switch (rv) {
	case NGTCP2_ERR_DRAINING:
		enter_draining(q, now_ns);
		return end_errno(q);
	case NGTCP2_ERR_DROP_CONN:
	case NGTCP2_ERR_RETRY:
		set_end(q, NET_QUIC_END_LOCAL_TRANSPORT, 0, NULL, 0);
		q->finished = true;
		return end_errno(q);
	case NGTCP2_ERR_DISCARD_PKT:
		return 0;
	default:
		fail_local(q, rv, now_ns);
		return end_errno(q);
	}
}

/* ---- send ----------------------------------------------------------------- */

static struct net_stream *next_stream(struct net_quic *q)
{
	for (unsigned i = 0; i < q->nstreams; i++) {
		struct net_stream *s = q->streams[(q->rr + i) % q->nstreams];
		if (s->blocked_gen != q->gen && stream_has_pending(s)) {
			q->rr = (q->rr + i) % q->nstreams;
			return s;
		}
	}
	return NULL;
}

static int write_close(struct net_quic *q, uint64_t now, uint8_t *buf, size_t cap, size_t *len)
{
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi = {0};
	q->close_pending = false;
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(q->conn, &ps.path, &pi, q->closepkt,
							    sizeof(q->closepkt), &q->ccerr, now);
	if (n <= 0) {
		q->finished = true;
		*len = 0;
		return 0;
	}
	q->closepkt_len = (size_t)n;
	if ((size_t)n > cap)
		return -ENOBUFS;
	memcpy(buf, q->closepkt, (size_t)n);
	*len = (size_t)n;
	q->st.pkts_out++;
	q->st.bytes_out += (uint64_t)n;
	return 0;
}

static int produce_one(struct net_quic *q, uint64_t now, uint8_t *buf, size_t cap, size_t *len)
{
	*len = 0;
	if (q->finished)
		return 0;
	if (!q->ended && ngtcp2_conn_get_expiry(q->conn) <= now) {
		int rv = ngtcp2_conn_handle_expiry(q->conn, now);
		if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
			set_end(q, rv == NGTCP2_ERR_IDLE_CLOSE ? NET_QUIC_END_IDLE
							       : NET_QUIC_END_HANDSHAKE_TIMEOUT,
				0, NULL, 0);
			q->finished = true; /* silently: RFC 9000 10.1 */
			return 0;
		} else if (rv != 0) {
			fail_local(q, rv, now);
		}
	}
	if (q->ended) {
		if (q->close_pending)
			return write_close(q, now, buf, cap, len);
		if (now >= q->finish_at) {
			q->finished = true;
			return 0;
		}
		if (q->close_resend && q->closepkt_len && q->closepkt_len <= cap) {
			q->close_resend = false;
			memcpy(buf, q->closepkt, q->closepkt_len);
			*len = q->closepkt_len;
			q->st.pkts_out++;
			q->st.bytes_out += q->closepkt_len;
		}
		return 0;
	}

	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi = {0};
	q->gen++;
	bool dgram_tried = false;
	for (;;) {
		ngtcp2_ssize n;
		if (q->dq_len && !dgram_tried && q->hs_done) {
			struct net_dgram *d = &q->dq[q->dq_head];
			ngtcp2_vec v = {.base = d->data, .len = d->len};
			int accepted = 0;
			n = ngtcp2_conn_writev_datagram(q->conn, &ps.path, &pi, buf, cap, &accepted,
							NGTCP2_WRITE_DATAGRAM_FLAG_MORE, 0, &v, 1, now);
			if (accepted || n == NGTCP2_ERR_INVALID_ARGUMENT) {
				if (accepted)
					q->st.dgrams_out++;
				else
					q->st.dgrams_dropped++;
				q->dq_head = (q->dq_head + 1) % NET_QUIC_DGRAM_QUEUE;
				q->dq_len--;
			} else {
				dgram_tried = true;
			}
			if (n == NGTCP2_ERR_WRITE_MORE || n == NGTCP2_ERR_INVALID_ARGUMENT)
				continue;
		} else {
			struct net_stream *s = q->hs_done ? next_stream(q) : NULL;
			ngtcp2_vec iov[NET_QUIC_MAX_IOV];
			size_t niov = 0;
			uint32_t flags = 0;
			int64_t sid = -1;
			if (s) {
				niov = stream_iov(s, iov, NET_QUIC_MAX_IOV);
				sid = s->id;
				flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
				size_t total = 0;
				for (size_t i = 0; i < niov; i++)
					total += iov[i].len;
				if (s->fin_queued && s->sent + total == s->written)
					flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
			}
			ngtcp2_ssize ndata = -1;
			n = ngtcp2_conn_writev_stream(q->conn, &ps.path, &pi, buf, cap, &ndata, flags,
						      sid, iov, niov, now);
			if (s && ndata >= 0) {
				s->sent += (uint64_t)ndata;
				if ((flags & NGTCP2_WRITE_STREAM_FLAG_FIN) && s->sent == s->written)
					s->fin_sent = true;
			}
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
			    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				if (s)
					s->blocked_gen = q->gen;
				if (n != NGTCP2_ERR_STREAM_DATA_BLOCKED && s)
					s->reset = true;
				continue;
			}
		}
		if (n < 0) {
			fail_local(q, (int)n, now);
			return write_close(q, now, buf, cap, len);
		}
		if (n == 0)
			return 0;
		if (ps.path.remote.addrlen > 0 &&
		    (size_t)ps.path.remote.addrlen <= sizeof(q->remote)) {
			memcpy(&q->remote, ps.path.remote.addr, ps.path.remote.addrlen);
			q->remote_len = ps.path.remote.addrlen;
		}
		*len = (size_t)n;
		q->st.pkts_out++;
		q->st.bytes_out += (uint64_t)n;
		return 0;
	}
}

int net_quic_produce(struct net_quic *q, uint64_t now_ns, uint8_t *buf, size_t cap, size_t *len)
{
	if (cap < NET_QUIC_MAX_PKT)
		return -EINVAL;
	q->now = now_ns;
	if (q->stash_len) {
		memcpy(buf, q->stash, q->stash_len);
		*len = q->stash_len;
		q->stash_len = 0;
		return 0;
	}
	int rv = produce_one(q, now_ns, buf, cap, len);
	if (rv == 0 && *len && !q->ended)
		ngtcp2_conn_update_pkt_tx_time(q->conn, now_ns);
	return rv < 0 ? rv : (q->finished && !*len ? end_errno(q) : 0);
}

int net_quic_produce_batch(struct net_quic *q, uint64_t now_ns, uint8_t *buf, size_t cap,
			   size_t max_pkts, size_t *len, size_t *seg)
{
	size_t total = 0, segsz = 0, i = 0;
	int rv = 0;
	if (cap < NET_QUIC_MAX_PKT)
		return -EINVAL;
	q->now = now_ns;
	if (q->stash_len) {
		memcpy(buf, q->stash, q->stash_len);
		total = segsz = q->stash_len;
		q->stash_len = 0;
		i = 1;
	}
	for (; i < max_pkts && cap - total >= NET_QUIC_MAX_PKT; i++) {
		size_t n = 0;
		rv = produce_one(q, now_ns, buf + total, NET_QUIC_MAX_PKT, &n);
		if (rv < 0 || n == 0)
			break;
		if (i > 0 && n > segsz) {
			/* GSO segments may not grow (a PMTUD probe, say): this
			 * one opens the next batch. */
			memcpy(q->stash, buf + total, n);
			q->stash_len = n;
			break;
		}
		if (i == 0)
			segsz = n;
		total += n;
		if (n < segsz || q->ended)
			break; /* a short segment ends a GSO batch */
	}
	if (total && !q->ended)
		ngtcp2_conn_update_pkt_tx_time(q->conn, now_ns);
	if (rv < 0)
		return rv;
	*len = total;
	*seg = segsz ? segsz : total;
	return (q->finished && !total) ? end_errno(q) : 0;
}

uint64_t net_quic_next_expiry(const struct net_quic *q)
{
	if (q->finished)
		return UINT64_MAX;
	if (q->close_pending || q->close_resend || q->stash_len)
		return 0;
	if (q->ended)
		return q->finish_at;
	return ngtcp2_conn_get_expiry(q->conn);
}

/* ---- streams and datagrams -------------------------------------------------- */

int net_quic_stream_open(struct net_quic *q, int64_t *sid)
{
	if (q->ended)
		return -ENOTCONN;
	if (!q->hs_done)
		return -ENOTCONN;
	if (q->nstreams >= NET_QUIC_MAX_LOCAL_STREAMS)
		return -ENOSPC;
	int64_t id;
	int rv = ngtcp2_conn_open_bidi_stream(q->conn, &id, NULL);
	if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED)
		return -EAGAIN;
	if (rv != 0)
		return -EIO;
	if (!stream_new(q, id)) {
		ngtcp2_conn_shutdown_stream(q->conn, id, 0);
		return -ENOMEM;
	}
	*sid = id;
	return 0;
}

int net_quic_stream_write(struct net_quic *q, int64_t sid, const void *data, size_t len, bool fin)
{
	if (q->ended)
		return -ENOTCONN;
	struct net_stream *s = stream_find(q, sid);
	if (!s)
		return -ENOENT;
	if (s->fin_queued || s->reset)
		return -EPIPE;
	size_t room = net_quic_stream_writable(q, sid);
	size_t n = len < room ? len : room;
	if (n > INT32_MAX)
		n = INT32_MAX;
	const uint8_t *p = data;
	size_t done = 0;
	while (done < n) {
		struct net_chunk *c = s->tail;
		if (!c || c->len == NET_QUIC_CHUNK) {
			c = malloc(sizeof(*c));
			if (!c)
				break;
			c->next = NULL;
			c->off = s->written;
			c->len = 0;
			if (s->tail)
				s->tail->next = c;
			else
				s->head = c;
			s->tail = c;
		}
		size_t k = NET_QUIC_CHUNK - c->len;
		if (k > n - done)
			k = n - done;
		memcpy(c->data + c->len, p + done, k);
		c->len += k;
		done += k;
		s->written += k;
	}
	if (done == 0 && n > 0)
		return -ENOMEM;
	if (fin && done == len)
		s->fin_queued = true;
	return (int)done;
}

size_t net_quic_stream_writable(const struct net_quic *q, int64_t sid)
{
	const struct net_stream *s = stream_find(q, sid);
	if (!s || s->fin_queued || s->reset)
		return 0;
	uint64_t held = s->written - s->acked;
	return held >= NET_QUIC_STREAM_SENDBUF_MAX ? 0 : (size_t)(NET_QUIC_STREAM_SENDBUF_MAX - held);
}

size_t net_quic_stream_unacked(const struct net_quic *q, int64_t sid)
{
	const struct net_stream *s = stream_find(q, sid);
	return s ? (size_t)(s->written - s->acked) : 0;
}

int net_quic_stream_reset(struct net_quic *q, int64_t sid, uint64_t app_code)
{
	struct net_stream *s = stream_find(q, sid);
	if (!s)
		return -ENOENT;
	s->reset = true;
	int rv = ngtcp2_conn_shutdown_stream(q->conn, sid, app_code);
	return rv == 0 ? 0 : -EIO;
}

size_t net_quic_dgram_max(const struct net_quic *q)
{
	if (!q->hs_done)
		return 0;
	const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(q->conn);
	if (!rp || rp->max_datagram_frame_size <= NET_QUIC_DGRAM_FRAME_OVERHEAD)
		return 0;
	uint64_t m = rp->max_datagram_frame_size - NET_QUIC_DGRAM_FRAME_OVERHEAD;
	return m < NET_QUIC_MAX_DGRAM ? (size_t)m : NET_QUIC_MAX_DGRAM;
}

int net_quic_dgram_send(struct net_quic *q, const void *data, size_t len)
{
	if (q->ended || !q->hs_done)
		return -ENOTCONN;
	size_t max = net_quic_dgram_max(q);
	if (max == 0)
		return -EOPNOTSUPP;
	if (len > max)
		return -EMSGSIZE;
	if (q->dq_len == NET_QUIC_DGRAM_QUEUE) {
		q->dq_head = (q->dq_head + 1) % NET_QUIC_DGRAM_QUEUE;
		q->dq_len--;
		q->st.dgrams_dropped++;
	}
	struct net_dgram *d = &q->dq[(q->dq_head + q->dq_len) % NET_QUIC_DGRAM_QUEUE];
	memcpy(d->data, data, len);
	d->len = (uint16_t)len;
	q->dq_len++;
	return 0;
}

int net_quic_close(struct net_quic *q, uint64_t app_code, const char *reason, uint64_t now_ns)
{
	if (q->ended)
		return -EALREADY;
	q->now = now_ns;
	size_t rlen = reason ? strnlen(reason, sizeof(q->ccerr_reason)) : 0;
	if (rlen)
		memcpy(q->ccerr_reason, reason, rlen);
	ngtcp2_connection_close_error_default(&q->ccerr);
	ngtcp2_connection_close_error_set_application_error(&q->ccerr, app_code,
							     rlen ? q->ccerr_reason : NULL, rlen);
	q->close_pending = true;
	q->in_closing = true;
	q->finish_at = now_ns + three_pto(q);
	set_end(q, NET_QUIC_END_LOCAL_APP, app_code, (const uint8_t *)reason, rlen);
	return 0;
}

/* ---- queries -------------------------------------------------------------- */

bool net_quic_is_server(const struct net_quic *q) { return q->server; }
bool net_quic_handshake_done(const struct net_quic *q) { return q->hs_done; }
bool net_quic_is_ended(const struct net_quic *q) { return q->ended; }

/* ---- receive flow control ------------------------------------------------- */

void net_quic_stream_hold(struct net_quic *q, int64_t sid, size_t n)
{
	if (q->rx_sid == sid)
		q->rx_hold += n;
}

int net_quic_stream_consumed(struct net_quic *q, int64_t sid, size_t n)
{
	struct net_stream *s = stream_find(q, sid);
	if (!s)
		return -ENOENT;
	if (n > s->held)
		n = (size_t)s->held;
	s->held -= n;
	if (n && !q->ended) {
		ngtcp2_conn_extend_max_stream_offset(q->conn, sid, n);
		ngtcp2_conn_extend_max_offset(q->conn, n);
	}
	return 0;
}

size_t net_quic_stream_held(const struct net_quic *q, int64_t sid)
{
	const struct net_stream *s = stream_find(q, sid);
	return s ? (size_t)s->held : 0;
}
bool net_quic_is_finished(const struct net_quic *q) { return q->finished; }
const struct net_quic_end_info *net_quic_end_info(const struct net_quic *q) { return &q->end; }
const uint8_t *net_quic_cid_key(const struct net_quic *q) { return q->cid_key; }
const char *net_quic_alpn(const struct net_quic *q) { return q->alpn; }

const struct sockaddr *net_quic_remote(const struct net_quic *q, socklen_t *len)
{
	if (len)
		*len = q->remote_len;
	return (const struct sockaddr *)&q->remote;
}

int net_quic_peer_fingerprint(const struct net_quic *q, uint8_t fp[NET_QUIC_FP_LEN])
{
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(q->tls, &n);
	if (!certs || n == 0)
		return -ENOENT;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, fp) != 0)
		return -EIO;
	return 0;
}

int net_quic_channel_binding(const struct net_quic *q, uint8_t out[NET_QUIC_CHANNEL_BINDING_LEN])
{
	if (!q->hs_done)
		return -ENOTCONN;
	gnutls_datum_t cb = {0};
	if (gnutls_session_channel_binding(q->tls, GNUTLS_CB_TLS_EXPORTER, &cb) == 0) {
		int rv = cb.size == NET_QUIC_CHANNEL_BINDING_LEN ? 0 : -EIO;
		if (rv == 0)
			memcpy(out, cb.data, NET_QUIC_CHANNEL_BINDING_LEN);
		gnutls_free(cb.data);
		return rv;
	}
	char tmp[NET_QUIC_CHANNEL_BINDING_LEN];
	if (gnutls_prf_rfc5705(q->tls, sizeof(NET_QUIC_EXPORTER_LABEL) - 1, NET_QUIC_EXPORTER_LABEL, 0,
			       NULL, sizeof(tmp), tmp) != 0)
		return -EIO;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

void net_quic_get_stats(const struct net_quic *q, struct net_quic_stats *st)
{
	*st = q->st;
	ngtcp2_conn_stat cs;
	ngtcp2_conn_get_conn_stat(q->conn, &cs);
	st->smoothed_rtt_ns = cs.smoothed_rtt;
	st->min_rtt_ns = cs.min_rtt;
	st->latest_rtt_ns = cs.latest_rtt;
	st->rttvar_ns = cs.rttvar;
	st->cwnd = cs.cwnd;
	st->bytes_in_flight = cs.bytes_in_flight;
	st->pto_count = cs.pto_count;
}

void net_quic_end_describe(const struct net_quic_end_info *e, char *buf, size_t len)
{
	const char *what;
	switch (e->kind) {
	case NET_QUIC_END_NONE: what = "open"; break;
	case NET_QUIC_END_LOCAL_APP: what = "closed locally: application code"; break;
	case NET_QUIC_END_REMOTE_APP: what = "closed by peer: application code"; break;
	case NET_QUIC_END_REMOTE_TRANSPORT: what = "closed by peer: transport error"; break;
	case NET_QUIC_END_LOCAL_TRANSPORT: what = "transport error"; break;
	case NET_QUIC_END_FINGERPRINT: what = "server certificate does not match the pinned fingerprint; tls error"; break;
	case NET_QUIC_END_ALPN: what = "peer does not speak " NET_QUIC_ALPN "; tls error"; break;
	case NET_QUIC_END_IDLE: what = "idle timeout"; break;
	case NET_QUIC_END_HANDSHAKE_TIMEOUT: what = "handshake timeout"; break;
	case NET_QUIC_END_STATELESS_RESET: what = "stateless reset by peer"; break;
	default: what = "ended"; break;
	}
	snprintf(buf, len, "%s 0x%llx%s%s", what, (unsigned long long)e->code,
		 e->reason[0] ? ": " : "", e->reason);
}
