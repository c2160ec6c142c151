/* QUIC endpoint: demultiplexing, Retry, limits. See net_server.h. */
#include "net/net_server.h"
#include "net/net_udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

/* A stateless reset must be shorter than what provoked it and at least
 * this long to look like a short-header packet (RFC 9000 10.3). */
#define NET_SERVER_RESET_MIN 41

struct conn {
	struct net_quic *q;
	bool incoming;
	uint8_t initial_dcid[NGTCP2_MAX_CIDLEN]; /* DCID the client's Initials carry */
	size_t initial_dcid_len;
};

struct stateless {
	uint16_t len;
	uint8_t data[NET_SERVER_STATELESS_MAX];
	struct sockaddr_storage to;
	socklen_t to_len;
};

struct net_server {
	struct net_server_config cfg;
	gnutls_certificate_credentials_t cred;
	struct net_server_callbacks cb;
	void *ud;
	struct sockaddr_storage local;
	socklen_t local_len;
	uint8_t token_secret[NET_SERVER_SECRET_LEN];
	uint8_t reset_secret[NET_SERVER_SECRET_LEN];

	struct conn *conns;
	unsigned nconns, max_conns, rr;
	uint64_t now; /* now_ns of the latest feed/produce/connect (for conn_gone) */

	struct stateless sq[NET_SERVER_STATELESS_QUEUE];
	unsigned sq_head, sq_len;

	struct net_server_stats st;
};

int net_server_create(const struct net_server_config *cfg, gnutls_certificate_credentials_t cred,
		      const struct net_server_callbacks *cb, void *ud, const struct sockaddr *local,
		      socklen_t local_len, struct net_server **out)
{
	static const struct net_server_config defcfg;
	if (!cfg)
		cfg = &defcfg;
	if (!cred || (size_t)local_len > sizeof(struct sockaddr_storage) ||
	    cfg->max_conns > NET_SERVER_HARD_MAX_CONNS)
		return -EINVAL;
	struct net_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.max_conns)
		s->cfg.max_conns = NET_SERVER_MAX_CONNS;
	if (!s->cfg.max_handshakes)
		s->cfg.max_handshakes = NET_SERVER_MAX_HANDSHAKES;
	if (!s->cfg.retry_token_timeout_ns)
		s->cfg.retry_token_timeout_ns = NET_SERVER_RETRY_TOKEN_TIMEOUT;
	s->max_conns = s->cfg.max_conns;
	s->conns = calloc(s->max_conns, sizeof(*s->conns));
	if (!s->conns ||
	    gnutls_rnd(GNUTLS_RND_KEY, s->token_secret, sizeof(s->token_secret)) != 0 ||
	    gnutls_rnd(GNUTLS_RND_KEY, s->reset_secret, sizeof(s->reset_secret)) != 0) {
		free(s->conns);
		free(s);
		return -ENOMEM;
	}
	if (cfg->reset_secret)
		memcpy(s->reset_secret, cfg->reset_secret, sizeof(s->reset_secret));
	s->cfg.reset_secret = NULL;
	s->cred = cred;
	if (cb)
		s->cb = *cb;
	s->ud = ud;
	memcpy(&s->local, local, local_len);
	s->local_len = local_len;
	*out = s;
	return 0;
}

static void conn_remove(struct net_server *s, unsigned i)
{
	struct net_quic *q = s->conns[i].q;
	if (s->cb.conn_gone)
		s->cb.conn_gone(s, q, s->now, net_quic_user(q));
	net_quic_destroy(&q);
	s->conns[i] = s->conns[--s->nconns];
	memset(&s->conns[s->nconns], 0, sizeof(s->conns[0]));
}

void net_server_destroy(struct net_server **ps)
{
	struct net_server *s = ps ? *ps : NULL;
	if (!s)
		return;
	while (s->nconns)
		conn_remove(s, s->nconns - 1);
	free(s->conns);
	free(s);
	*ps = NULL;
}

static unsigned count_handshakes(const struct net_server *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->nconns; i++)
		if (!net_quic_handshake_done(s->conns[i].q) && !net_quic_is_ended(s->conns[i].q))
			n++;
	return n;
}

static struct stateless *sq_push(struct net_server *s, const struct sockaddr *to, socklen_t to_len)
{
	if (s->sq_len == NET_SERVER_STATELESS_QUEUE || (size_t)to_len > sizeof(s->sq[0].to)) {
		s->st.stateless_dropped++;
		return NULL;
	}
	struct stateless *e = &s->sq[(s->sq_head + s->sq_len) % NET_SERVER_STATELESS_QUEUE];
	memcpy(&e->to, to, to_len);
	e->to_len = to_len;
	e->len = 0;
	return e;
}

static void sq_commit(struct net_server *s, struct stateless *e, ngtcp2_ssize n)
{
	if (n <= 0 || (size_t)n > sizeof(e->data)) {
		s->st.stateless_dropped++;
		return;
	}
	e->len = (uint16_t)n;
	s->sq_len++;
}

static void send_close(struct net_server *s, const ngtcp2_pkt_hd *hd, uint64_t code,
		       const struct sockaddr *from, socklen_t fl)
{
	struct stateless *e = sq_push(s, from, fl);
	if (!e)
		return;
	ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(e->data, sizeof(e->data), hd->version,
							      &hd->scid, &hd->dcid, code, NULL, 0);
	sq_commit(s, e, n);
}

static void send_retry(struct net_server *s, const ngtcp2_pkt_hd *hd, const struct sockaddr *from,
		       socklen_t fl, uint64_t now)
{
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
	ngtcp2_cid scid;
	scid.datalen = NET_QUIC_CID_LEN;
	if (gnutls_rnd(GNUTLS_RND_NONCE, scid.data, scid.datalen) != 0)
		return;
	ngtcp2_ssize tl = ngtcp2_crypto_generate_retry_token(
		token, s->token_secret, sizeof(s->token_secret), hd->version,
		(const ngtcp2_sockaddr *)from, fl, &scid, &hd->dcid, now);
	if (tl < 0)
		return;
	struct stateless *e = sq_push(s, from, fl);
	if (!e)
		return;
	ngtcp2_ssize n = ngtcp2_crypto_write_retry(e->data, sizeof(e->data), hd->version, &hd->scid,
						   &scid, &hd->dcid, token, (size_t)tl);
	sq_commit(s, e, n);
	if (n > 0)
		s->st.retries_sent++;
}

static void send_version_negotiation(struct net_server *s, const ngtcp2_version_cid *vc,
				     const struct sockaddr *from, socklen_t fl)
{
	static const uint32_t sv[] = {NGTCP2_PROTO_VER_V1};
	struct stateless *e = sq_push(s, from, fl);
	if (!e)
		return;
	uint8_t r;
	gnutls_rnd(GNUTLS_RND_NONCE, &r, 1);
	ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(e->data, sizeof(e->data), r, vc->scid,
							      vc->scidlen, vc->dcid, vc->dcidlen, sv,
							      sizeof(sv) / sizeof(sv[0]));
	sq_commit(s, e, n);
	if (n > 0)
		s->st.version_negotiations++;
}

static void send_reset(struct net_server *s, const uint8_t *dcid, size_t dcidlen, size_t pktlen,
		       const struct sockaddr *from, socklen_t fl)
{
	if (pktlen <= NET_SERVER_RESET_MIN)
		return; /* never answer with something as large: no reset loops */
	ngtcp2_cid cid;
	ngtcp2_cid_init(&cid, dcid, dcidlen);
	uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN];
	if (ngtcp2_crypto_generate_stateless_reset_token(token, s->reset_secret,
							 sizeof(s->reset_secret), &cid) != 0)
		return;
	struct stateless *e = sq_push(s, from, fl);
	if (!e)
		return;
	uint8_t rnd[NET_SERVER_RESET_MIN];
	/* one byte shorter than what provoked it */
	size_t randlen = pktlen - 2 - NGTCP2_STATELESS_RESET_TOKENLEN;
	if (randlen > sizeof(rnd))
		randlen = sizeof(rnd);
	gnutls_rnd(GNUTLS_RND_NONCE, rnd, randlen);
	ngtcp2_ssize n = ngtcp2_pkt_write_stateless_reset(e->data, sizeof(e->data), token, rnd, randlen);
	sq_commit(s, e, n);
	if (n > 0)
		s->st.resets_sent++;
}

static struct conn *find_conn(struct net_server *s, const ngtcp2_version_cid *vc)
{
	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		if (vc->dcidlen == NET_QUIC_CID_LEN &&
		    !memcmp(vc->dcid, net_quic_cid_key(c->q), NET_QUIC_CID_KEY_LEN))
			return c;
		if (vc->version && c->incoming && c->initial_dcid_len == vc->dcidlen &&
		    !memcmp(vc->dcid, c->initial_dcid, vc->dcidlen))
			return c;
	}
	return NULL;
}

static void accept_initial(struct net_server *s, const uint8_t *pkt, size_t len,
			   const struct sockaddr *from, socklen_t fl, uint64_t now)
{
	ngtcp2_pkt_hd hd;
	int rv = ngtcp2_accept(&hd, pkt, len);
	if (rv != 0 || hd.type != NGTCP2_PKT_INITIAL) {
		s->st.dropped++;
		return;
	}
	if (s->cfg.refuse_incoming) {
		s->st.refused_closed++;
		send_close(s, &hd, NGTCP2_CONNECTION_REFUSED, from, fl);
		return;
	}
	if (s->nconns >= s->max_conns || count_handshakes(s) >= s->cfg.max_handshakes) {
		s->st.refused_limit++;
		send_close(s, &hd, NGTCP2_CONNECTION_REFUSED, from, fl);
		return;
	}
	ngtcp2_cid odcid;
	bool validated = false;
	if (hd.token.len && hd.token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
		if (ngtcp2_crypto_verify_retry_token(&odcid, hd.token.base, hd.token.len,
						     s->token_secret, sizeof(s->token_secret),
						     hd.version, (const ngtcp2_sockaddr *)from, fl,
						     &hd.dcid, s->cfg.retry_token_timeout_ns, now) != 0) {
			s->st.bad_tokens++;
			send_close(s, &hd, NGTCP2_INVALID_TOKEN, from, fl);
			return;
		}
		validated = true;
	}
	if (!validated && s->cfg.retry == NET_SERVER_RETRY_ALWAYS) {
		send_retry(s, &hd, from, fl, now);
		return;
	}
	uint8_t key[NET_QUIC_CID_KEY_LEN];
	do {
		if (gnutls_rnd(GNUTLS_RND_NONCE, key, sizeof(key)) != 0)
			return;
		/* keys must not collide with a live connection's */
		ngtcp2_version_cid probe = {.dcid = key, .dcidlen = NET_QUIC_CID_LEN};
		if (!find_conn(s, &probe))
			break;
	} while (1);
	struct net_quic_server_params sp = {
		.cred = s->cred,
		.version = hd.version,
		.dcid = hd.dcid.data, .dcid_len = hd.dcid.datalen,
		.scid = hd.scid.data, .scid_len = hd.scid.datalen,
		.odcid = validated ? odcid.data : NULL, .odcid_len = validated ? odcid.datalen : 0,
		.token = validated ? hd.token.base : NULL, .token_len = validated ? hd.token.len : 0,
		.cid_key = key,
		.reset_secret = s->reset_secret, .reset_secret_len = sizeof(s->reset_secret),
	};
	struct net_quic *q;
	rv = net_quic_server_create(&s->cfg.quic, &s->cb.quic, s->ud, &sp,
				    (const struct sockaddr *)&s->local, s->local_len, from, fl, now, &q);
	if (rv < 0) {
		s->st.dropped++;
		return;
	}
	struct conn *c = &s->conns[s->nconns++];
	c->q = q;
	c->incoming = true;
	memcpy(c->initial_dcid, hd.dcid.data, hd.dcid.datalen);
	c->initial_dcid_len = hd.dcid.datalen;
	s->st.accepted++;
	if (s->cb.conn_new)
		s->cb.conn_new(s, q, now, net_quic_user(q));
	net_quic_feed(q, pkt, len, from, fl, now);
}

void net_server_feed(struct net_server *s, const uint8_t *pkt, size_t len,
		     const struct sockaddr *from, socklen_t from_len, uint64_t now_ns)
{
	ngtcp2_version_cid vc;
	s->now = now_ns;
	if (len == 0 || len > NET_QUIC_MAX_RX_PKT || (size_t)from_len > sizeof(struct sockaddr_storage)) {
		s->st.dropped++;
		return;
	}
	int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, NET_QUIC_CID_LEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		/* Only answer what could be a client's first flight (RFC 9000 6.1). */
		if (len >= NGTCP2_MAX_UDP_PAYLOAD_SIZE && !s->cfg.refuse_incoming)
			send_version_negotiation(s, &vc, from, from_len);
		else
			s->st.dropped++;
		return;
	}
	if (rv != 0) {
		s->st.dropped++;
		return;
	}
	struct conn *c = find_conn(s, &vc);
	if (c) {
		net_quic_feed(c->q, pkt, len, from, from_len, now_ns);
		return;
	}
	if (!vc.version) {
		/* A short header we cannot route. If it comes from a peer we
		 * have a connection with, it may be that peer's stateless reset
		 * (random DCID, token at the end): let those connections check.
		 * Otherwise we may have restarted: tell the peer with a reset. */
		bool known = false;
		for (unsigned i = 0; i < s->nconns; i++) {
			socklen_t rl;
			const struct sockaddr *r = net_quic_remote(s->conns[i].q, &rl);
			if (net_udp_addr_equal(r, from)) {
				known = true;
				net_quic_feed(s->conns[i].q, pkt, len, from, from_len, now_ns);
			}
		}
		if (!known)
			send_reset(s, vc.dcid, vc.dcidlen, len, from, from_len);
		return;
	}
	accept_initial(s, pkt, len, from, from_len, now_ns);
}

int net_server_produce(struct net_server *s, uint64_t now_ns, uint8_t *buf, size_t cap,
		       size_t max_pkts, size_t *len, size_t *seg, struct sockaddr_storage *to,
		       socklen_t *to_len)
{
	*len = 0;
	s->now = now_ns;
	if (s->sq_len) {
		struct stateless *e = &s->sq[s->sq_head];
		s->sq_head = (s->sq_head + 1) % NET_SERVER_STATELESS_QUEUE;
		s->sq_len--;
		if (e->len > cap)
			return -ENOBUFS;
		memcpy(buf, e->data, e->len);
		*len = *seg = e->len;
		memcpy(to, &e->to, e->to_len);
		*to_len = e->to_len;
		return 0;
	}
	for (unsigned k = 0; k < s->nconns;) {
		unsigned i = (s->rr + k) % s->nconns;
		struct net_quic *q = s->conns[i].q;
		size_t n = 0, sg = 0;
		int rv = max_pkts > 1 ? net_quic_produce_batch(q, now_ns, buf, cap, max_pkts, &n, &sg)
				      : net_quic_produce(q, now_ns, buf, cap, &n);
		if (max_pkts <= 1)
			sg = n;
		if (n) {
			socklen_t rl;
			const struct sockaddr *r = net_quic_remote(q, &rl);
			memcpy(to, r, rl);
			*to_len = rl;
			*len = n;
			*seg = sg;
			s->rr = (i + 1) % (s->nconns ? s->nconns : 1);
			return 0;
		}
		if (rv < 0 || net_quic_is_finished(q)) {
			if (net_quic_is_finished(q)) {
				conn_remove(s, i);
				continue; /* slot i now holds another connection */
			}
		}
		k++;
	}
	return 0;
}

uint64_t net_server_next_expiry(const struct net_server *s)
{
	if (s->sq_len)
		return 0;
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < s->nconns; i++) {
		uint64_t e = net_quic_next_expiry(s->conns[i].q);
		if (net_quic_is_finished(s->conns[i].q))
			e = 0; /* reap it */
		if (e < t)
			t = e;
	}
	return t;
}

int net_server_connect(struct net_server *s, const uint8_t pin[NET_QUIC_FP_LEN],
		       const struct sockaddr *remote, socklen_t remote_len, void *ud, uint64_t now_ns,
		       struct net_quic **out)
{
	if (s->nconns >= s->max_conns)
		return -EMFILE;
	s->now = now_ns;
	struct net_quic *q;
	for (int tries = 0;; tries++) {
		int rv = net_quic_client_create(&s->cfg.quic, &s->cb.quic, ud, pin,
						(const struct sockaddr *)&s->local, s->local_len,
						remote, remote_len, now_ns, &q);
		if (rv < 0)
			return rv;
		ngtcp2_version_cid probe = {.dcid = net_quic_cid_key(q), .dcidlen = NET_QUIC_CID_LEN};
		if (!find_conn(s, &probe))
			break;
		net_quic_destroy(&q); /* key collision: astronomically rare */
		if (tries > 8)
			return -EAGAIN;
	}
	struct conn *c = &s->conns[s->nconns++];
	memset(c, 0, sizeof(*c));
	c->q = q;
	*out = q;
	return 0;
}

void net_server_foreach(struct net_server *s, void (*fn)(struct net_quic *q, void *arg), void *arg)
{
	for (unsigned i = 0; i < s->nconns; i++)
		fn(s->conns[i].q, arg);
}

void net_server_get_stats(const struct net_server *s, struct net_server_stats *st)
{
	*st = s->st;
	st->conns = s->nconns;
	st->handshakes = count_handshakes(s);
}

void net_server_set_accept(struct net_server *s, bool accept) { s->cfg.refuse_incoming = !accept; }
