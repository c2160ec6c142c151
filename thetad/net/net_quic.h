/* One QUIC connection (ngtcp2 0.12 + GnuTLS, TLS 1.3, ALPN "theta/1") that
 * never touches a socket or a clock: the owner feeds it received datagrams
 * with the time they arrived, asks it for datagrams to send, and calls it
 * again at net_quic_next_expiry(). Tests run two of them in simulated time.
 *
 *   feed(datagram, from, now)  -> callbacks (handshake, stream data, ...)
 *   produce(buf, now)          -> next UDP payload to send (or 0 bytes)
 *   next_expiry()              -> when produce() must be called again
 *
 * Streams are bidirectional; written data is buffered here (bounded by
 * NET_QUIC_STREAM_SENDBUF_MAX) until the peer acknowledges it. Received
 * stream data is handed over in order and flow-control credit is returned
 * as soon as the callback returns, except for bytes the owner keeps
 * (net_quic_stream_hold): those stay charged to the receive windows until
 * it consumes them, so a receiver that cannot take more stops its sender
 * after at most the stream window. Datagrams (RFC 9221) are unreliable and
 * queued (bounded, oldest dropped) until the congestion window allows.
 *
 * A client pins the server's certificate by the SHA-256 of its DER
 * encoding; anything else fails the handshake with NET_QUIC_END_FINGERPRINT.
 * Callbacks run inside net_quic_feed()/net_quic_produce(); they may write to
 * streams and queue datagrams, and must not destroy the connection. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#define NET_QUIC_ALPN "theta/1"
/* All connection ids this endpoint issues: NET_QUIC_CID_KEY_LEN bytes that
 * name the connection (a server routes by them) + random bytes. */
#define NET_QUIC_CID_LEN     16
#define NET_QUIC_CID_KEY_LEN 8
/* Largest UDP payload we send (PMTUD may raise from 1200 up to this). */
#define NET_QUIC_MAX_PKT 1452
/* Largest UDP payload we accept. */
#define NET_QUIC_MAX_RX_PKT 65527
/* Limits on what a peer can make us hold. */
#define NET_QUIC_MAX_STREAMS_BIDI    16u                /* concurrent, opened by the peer */
#define NET_QUIC_STREAM_WINDOW       (4u << 20)         /* receive flow-control per stream */
#define NET_QUIC_CONN_WINDOW         (16u << 20)        /* receive flow-control per connection */
#define NET_QUIC_MAX_LOCAL_STREAMS   64u                /* streams with state held here */
#define NET_QUIC_STREAM_SENDBUF_MAX  (8u << 20)         /* unacknowledged bytes per stream */
#define NET_QUIC_MAX_DGRAM           1200u              /* max_datagram_frame_size (payload) */
#define NET_QUIC_DGRAM_QUEUE         128u               /* queued outgoing datagrams */
#define NET_QUIC_DEFAULT_IDLE_TIMEOUT     (10ull * 1000000000ull)
#define NET_QUIC_DEFAULT_HANDSHAKE_TIMEOUT (10ull * 1000000000ull)
#define NET_QUIC_FP_LEN 32 /* SHA-256 */
#define NET_QUIC_CHANNEL_BINDING_LEN 32
#define NET_QUIC_REASON_MAX 128

struct net_quic;

/* Why a connection ended (net_quic_end_info.kind). */
enum net_quic_end {
	NET_QUIC_END_NONE = 0,     /* still open */
	NET_QUIC_END_LOCAL_APP,    /* we closed with an application code */
	NET_QUIC_END_REMOTE_APP,   /* the peer closed with an application code */
	NET_QUIC_END_REMOTE_TRANSPORT, /* the peer closed with a transport error */
	NET_QUIC_END_LOCAL_TRANSPORT,  /* we detected a transport/TLS error */
	NET_QUIC_END_FINGERPRINT,  /* server certificate does not match the pin */
	NET_QUIC_END_ALPN,         /* peer does not speak theta/1 */
	NET_QUIC_END_IDLE,         /* idle timeout */
	NET_QUIC_END_HANDSHAKE_TIMEOUT,
	NET_QUIC_END_STATELESS_RESET,
};

struct net_quic_end_info {
	enum net_quic_end kind;
	uint64_t code; /* application or transport error code */
	char reason[NET_QUIC_REASON_MAX]; /* peer's reason phrase, sanitized */
};

/* Every callback gets the `now_ns` of the call it runs inside (feed,
 * produce, close), so the code behind it never reads a clock. */
struct net_quic_callbacks {
	/* TLS handshake done, ALPN checked; streams may be opened. */
	void (*handshake_done)(struct net_quic *q, uint64_t now_ns, void *ud);
	/* The peer opened stream `sid`. */
	void (*stream_open)(struct net_quic *q, int64_t sid, uint64_t now_ns, void *ud);
	/* In-order stream bytes; fin: the peer finished its side. */
	void (*stream_data)(struct net_quic *q, int64_t sid, const uint8_t *data, size_t len,
			    bool fin, uint64_t now_ns, void *ud);
	/* Stream fully closed (app_code valid when reset by either side). */
	void (*stream_close)(struct net_quic *q, int64_t sid, uint64_t app_code, uint64_t now_ns, void *ud);
	void (*datagram)(struct net_quic *q, const uint8_t *data, size_t len, uint64_t now_ns, void *ud);
	/* The connection ended (entered closing/draining or died); called once. */
	void (*ended)(struct net_quic *q, const struct net_quic_end_info *info, uint64_t now_ns, void *ud);
};

/* Zero fields take the defaults above. */
struct net_quic_config {
	uint64_t idle_timeout_ns;
	uint64_t handshake_timeout_ns;
	uint64_t keepalive_ns;      /* 0: no keep-alive PINGs */
	uint64_t stream_window;     /* per-stream receive window */
	uint64_t conn_window;       /* per-connection receive window */
	uint64_t initial_rtt_ns;    /* 0: ngtcp2's default (333 ms) */
	bool no_pmtud;              /* stay at 1200-byte packets */
};

/* Server side of a connection, created by net_server from a client Initial. */
struct net_quic_server_params {
	gnutls_certificate_credentials_t cred; /* borrowed; outlives the connection */
	uint32_t version;
	const uint8_t *dcid; size_t dcid_len; /* DCID of the client's Initial */
	const uint8_t *scid; size_t scid_len; /* SCID of the client's Initial */
	/* After a Retry: the DCID of the client's first Initial and the token it
	 * echoed (validated); NULL otherwise. */
	const uint8_t *odcid; size_t odcid_len;
	const uint8_t *token; size_t token_len;
	const uint8_t *cid_key;            /* NET_QUIC_CID_KEY_LEN bytes */
	const uint8_t *reset_secret; size_t reset_secret_len; /* stateless reset key */
};

int net_quic_client_create(const struct net_quic_config *cfg, const struct net_quic_callbacks *cb,
			   void *ud, const uint8_t pinned_fp[NET_QUIC_FP_LEN],
			   const struct sockaddr *local, socklen_t local_len,
			   const struct sockaddr *remote, socklen_t remote_len, uint64_t now_ns,
			   struct net_quic **out);
int net_quic_server_create(const struct net_quic_config *cfg, const struct net_quic_callbacks *cb,
			   void *ud, const struct net_quic_server_params *sp,
			   const struct sockaddr *local, socklen_t local_len,
			   const struct sockaddr *remote, socklen_t remote_len, uint64_t now_ns,
			   struct net_quic **out);
void net_quic_destroy(struct net_quic **q);

void net_quic_set_user(struct net_quic *q, void *ud);
void *net_quic_user(const struct net_quic *q);

/* Processes one received UDP payload. 0 on success (also when the packet was
 * dropped as garbage); a negative errno when the connection ended
 * (-ECONNRESET / -ECONNABORTED / -ETIMEDOUT...; see net_quic_end_info). */
int net_quic_feed(struct net_quic *q, const uint8_t *pkt, size_t len, const struct sockaddr *from,
		  socklen_t from_len, uint64_t now_ns);
/* Writes the next UDP payload into buf (cap >= NET_QUIC_MAX_PKT) and sets
 * *len (0: nothing to send now). Handles expired timers first. The payload
 * goes to net_quic_remote(). Negative errno when the connection is dead. */
int net_quic_produce(struct net_quic *q, uint64_t now_ns, uint8_t *buf, size_t cap, size_t *len);
/* Up to max_pkts payloads of equal size `*seg` (the last may be shorter)
 * back to back in buf, for one sendmsg with UDP_SEGMENT. *len: total bytes. */
int net_quic_produce_batch(struct net_quic *q, uint64_t now_ns, uint8_t *buf, size_t cap,
			   size_t max_pkts, size_t *len, size_t *seg);
/* Absolute time (ns) when produce() must run next; UINT64_MAX: never. */
uint64_t net_quic_next_expiry(const struct net_quic *q);

/* Opens a bidirectional stream: -ENOTCONN before the handshake, -EAGAIN when
 * the peer's stream limit is reached, -ENOSPC past NET_QUIC_MAX_LOCAL_STREAMS. */
int net_quic_stream_open(struct net_quic *q, int64_t *sid);
/* Queues bytes (and optionally the end of the stream). Returns the number
 * of bytes accepted (may be fewer than len when the send buffer is full; fin
 * is only taken when all of data was). -ENOENT unknown stream, -EPIPE
 * stream already finished or reset. */
int net_quic_stream_write(struct net_quic *q, int64_t sid, const void *data, size_t len, bool fin);
/* Bytes the stream's send buffer still accepts (0 for unknown streams). */
size_t net_quic_stream_writable(const struct net_quic *q, int64_t sid);
/* Bytes written but not yet acknowledged. */
size_t net_quic_stream_unacked(const struct net_quic *q, int64_t sid);
/* Receive flow control. Inside the stream_data callback of sid: n of the
 * bytes given are not consumed yet (the owner holds them). They are not
 * credited back to the peer, so it can send at most the stream window
 * (NET_QUIC_STREAM_WINDOW) beyond what the owner consumed. Ignored outside
 * that callback. */
void net_quic_stream_hold(struct net_quic *q, int64_t sid, size_t n);
/* n held bytes of sid were consumed: the windows open by n (the next
 * produce() tells the peer). -ENOENT unknown stream. */
int net_quic_stream_consumed(struct net_quic *q, int64_t sid, size_t n);
/* Bytes of sid held and not consumed yet. */
size_t net_quic_stream_held(const struct net_quic *q, int64_t sid);
/* Abandons both directions of a stream with an application code. */
int net_quic_stream_reset(struct net_quic *q, int64_t sid, uint64_t app_code);

/* Queues one datagram (<= net_quic_dgram_max()). -ENOTCONN before the
 * handshake, -EMSGSIZE too big, -EOPNOTSUPP peer does not take datagrams.
 * When the queue is full the oldest queued datagram is dropped. */
int net_quic_dgram_send(struct net_quic *q, const void *data, size_t len);
size_t net_quic_dgram_max(const struct net_quic *q);

/* Closes with an application error code (RFC 9000 CONNECTION_CLOSE 0x1d);
 * the next produce() emits it. reason may be NULL. */
int net_quic_close(struct net_quic *q, uint64_t app_code, const char *reason, uint64_t now_ns);

bool net_quic_is_server(const struct net_quic *q);
bool net_quic_handshake_done(const struct net_quic *q);
/* Ended (closing, draining or dead): no stream traffic any more. */
bool net_quic_is_ended(const struct net_quic *q);
/* Closing/draining period over: the owner may destroy it. */
bool net_quic_is_finished(const struct net_quic *q);
const struct net_quic_end_info *net_quic_end_info(const struct net_quic *q);

/* The peer's address (where produce()'s payloads go). */
const struct sockaddr *net_quic_remote(const struct net_quic *q, socklen_t *len);
/* Negotiated ALPN ("theta/1" after the handshake, "" before). */
const char *net_quic_alpn(const struct net_quic *q);
/* SHA-256 of the peer certificate (client side: the server's). -ENOENT if none. */
int net_quic_peer_fingerprint(const struct net_quic *q, uint8_t fp[NET_QUIC_FP_LEN]);
/* RFC 9266 "tls-exporter" channel binding (32 bytes) of this TLS session;
 * both ends get the same bytes. -ENOTCONN before the handshake. */
int net_quic_channel_binding(const struct net_quic *q, uint8_t out[NET_QUIC_CHANNEL_BINDING_LEN]);

/* The connection id prefix every id this connection issues starts with. */
const uint8_t *net_quic_cid_key(const struct net_quic *q);

struct net_quic_stats {
	uint64_t smoothed_rtt_ns, min_rtt_ns, latest_rtt_ns, rttvar_ns;
	uint64_t cwnd, bytes_in_flight;
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out; /* UDP payloads */
	uint64_t dgrams_in, dgrams_out, dgrams_dropped;
	uint64_t pto_count;
};
void net_quic_get_stats(const struct net_quic *q, struct net_quic_stats *st);

/* A one-line description of an end ("closed by peer: application error 0x103"). */
void net_quic_end_describe(const struct net_quic_end_info *info, char *buf, size_t len);
