/* The QUIC endpoint behind thetad's one UDP port: demultiplexes datagrams
 * to connections by destination connection id, accepts new connections
 * with server hygiene, and also holds the outgoing (client) connections
 * this daemon opens, so one socket serves both. I/O-free like net_quic:
 * feed(datagram, from, now) / produce(now) / next_expiry().
 *
 * Hygiene (RFC 9000 8.1, 21):
 *  - Retry: by default a client's first Initial gets a Retry with an
 *    address-bound, AEAD-protected token (ngtcp2_crypto, valid
 *    NET_SERVER_RETRY_TOKEN_TIMEOUT); only an Initial echoing a valid token
 *    creates state. Bad tokens get a stateless INVALID_TOKEN close.
 *  - Limits: at most max_conns connections and max_handshakes unfinished
 *    handshakes; past them an Initial gets a stateless CONNECTION_REFUSED.
 *  - Amplification: until an address is validated ngtcp2 sends at most 3x
 *    what it received; stateless replies are never larger than the packet
 *    that caused them, except a Retry/close answering a full-size Initial.
 *  - Idle and handshake timeouts come from net_quic_config.
 * Every refusal is counted in net_server_stats. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/net_quic.h"

#define NET_SERVER_MAX_CONNS      64u
#define NET_SERVER_MAX_HANDSHAKES 16u
#define NET_SERVER_RETRY_TOKEN_TIMEOUT (10ull * 1000000000ull)
#define NET_SERVER_STATELESS_QUEUE 32u  /* queued Retry/close/VN/reset replies */
#define NET_SERVER_STATELESS_MAX   256u /* bytes of one stateless reply */
#define NET_SERVER_HARD_MAX_CONNS  4096u
#define NET_SERVER_SECRET_LEN      32u

enum net_server_retry {
	NET_SERVER_RETRY_ALWAYS = 0, /* default */
	NET_SERVER_RETRY_NEVER,
};

struct net_server_config {
	struct net_quic_config quic;
	unsigned max_conns;      /* 0: NET_SERVER_MAX_CONNS; both directions count */
	unsigned max_handshakes; /* 0: NET_SERVER_MAX_HANDSHAKES */
	enum net_server_retry retry;
	uint64_t retry_token_timeout_ns; /* 0: NET_SERVER_RETRY_TOKEN_TIMEOUT */
	bool refuse_incoming;    /* true: refuse every incoming connection */
	/* Key for stateless reset tokens (NET_SERVER_SECRET_LEN bytes); keep it
	 * across restarts so peers learn at once that we lost their state.
	 * NULL: random per instance. */
	const uint8_t *reset_secret;
};

struct net_server;

struct net_server_callbacks {
	/* Given to every connection; the ud they get is net_quic_user(q),
	 * initially the server's ud (change it in conn_new). */
	struct net_quic_callbacks quic;
	/* An incoming connection was created (its handshake is starting). */
	void (*conn_new)(struct net_server *s, struct net_quic *q, uint64_t now_ns, void *ud);
	/* A connection (incoming or outgoing) is about to be destroyed (now_ns:
	 * of the produce that reaps it; in net_server_destroy, of the last call). */
	void (*conn_gone)(struct net_server *s, struct net_quic *q, uint64_t now_ns, void *ud);
};

struct net_server_stats {
	uint64_t accepted, refused_limit, refused_closed, retries_sent, bad_tokens;
	uint64_t version_negotiations, resets_sent, dropped, stateless_dropped;
	unsigned conns, handshakes;
};

/* cred: the server certificate (borrowed; outlives the server). local: the
 * address datagrams arrive on (kept as every connection's local path). */
int net_server_create(const struct net_server_config *cfg, gnutls_certificate_credentials_t cred,
		      const struct net_server_callbacks *cb, void *ud, const struct sockaddr *local,
		      socklen_t local_len, struct net_server **out);
/* Destroys every connection (conn_gone is called for each). */
void net_server_destroy(struct net_server **s);

/* One received UDP payload. Never fails: garbage is dropped and counted. */
void net_server_feed(struct net_server *s, const uint8_t *pkt, size_t len,
		     const struct sockaddr *from, socklen_t from_len, uint64_t now_ns);
/* Next datagram batch to send: *len bytes in buf (0: nothing now) for *to,
 * made of segments of *seg bytes (the last may be shorter; *seg == *len
 * for a single datagram). max_pkts > 1 allows a GSO batch. Finished
 * connections are reaped here. */
int net_server_produce(struct net_server *s, uint64_t now_ns, uint8_t *buf, size_t cap,
		       size_t max_pkts, size_t *len, size_t *seg, struct sockaddr_storage *to,
		       socklen_t *to_len);
uint64_t net_server_next_expiry(const struct net_server *s);

/* Opens an outgoing connection pinned to the server fingerprint. */
int net_server_connect(struct net_server *s, const uint8_t pin[NET_QUIC_FP_LEN],
		       const struct sockaddr *remote, socklen_t remote_len, void *ud, uint64_t now_ns,
		       struct net_quic **out);

/* Calls fn for each live connection. */
void net_server_foreach(struct net_server *s, void (*fn)(struct net_quic *q, void *arg), void *arg);
void net_server_get_stats(const struct net_server *s, struct net_server_stats *st);
/* Stop (or resume) accepting incoming connections. */
void net_server_set_accept(struct net_server *s, bool accept);
