/* Asset transfers over one connection's assets stream (docs/network.md
 * "Assets"): an I/O-free state machine. The owner hands it every decoded
 * assets-stream message and calls net_asset_pump() on each service pass;
 * the machine reaches storage and the stream only through the ops below
 * and reads no clock (now_ns comes in), so tests run it in memory.
 *
 * Both sides run the same machine:
 *   fetching  an OFFER/LIST item we lack becomes a "want"; up to
 *             NET_ASSET_MAX_FETCHES at a time are asked for with GET(hash,
 *             offset = bytes we already have), so a transfer cut by a
 *             reconnect or a restart resumes where the .part ends. CHUNKs
 *             must come in order (a gap is a protocol error; repeats are
 *             skipped); DONE makes the owner verify the hash. A mismatch,
 *             a storage error or a stall is a failure: retried after
 *             NET_ASSET_RETRY_NS, up to NET_ASSET_MAX_ATTEMPTS per
 *             connection.
 *   serving   a GET for a complete asset becomes a "send" (at most
 *             NET_ASSET_MAX_SENDS; more are answered BUSY); chunks are
 *             produced only while the stream's send buffer has room for a
 *             whole CHUNK frame (ops->writable), round-robin, then DONE.
 * Memory per connection: one chunk buffer plus the want list (bounded). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "session.h"

#define NET_ASSET_MAX_FETCHES  2u     /* downloads in flight from one peer */
#define NET_ASSET_MAX_SENDS    4u     /* GETs of one peer served at once; more: BUSY */
#define NET_ASSET_MAX_WANTS    1024u  /* assets queued for fetching from one peer */
#define NET_ASSET_MAX_ATTEMPTS 3u     /* failed tries of one asset per connection */
#define NET_ASSET_RETRY_NS     (1000ull * 1000 * 1000)
#define NET_ASSET_STALL_NS     (30ull * 1000 * 1000 * 1000) /* no CHUNK for this long: failure */
#define NET_ASSET_PUMP_MAX     256u   /* chunks produced per pump call */
/* Largest CHUNK frame on the stream (length prefix included). */
#define NET_ASSET_CHUNK_FRAME  (PROTO_SESS_FRAME_HDR + 2 + PROTO_SESS_ASSET_HASH_LEN + 8 + 4 + PROTO_SESS_ASSET_CHUNK)

struct net_asset_local {
	uint64_t size, have;
	bool complete;
};

enum net_asset_event {
	NET_ASSET_EV_COMPLETED, /* fetched and verified; err 0 */
	NET_ASSET_EV_RESUMED,   /* a GET from a non-zero offset; err 0 */
	NET_ASSET_EV_FAILED,    /* one try failed (err: -EBADMSG hash, -ETIMEDOUT stall, I/O...) */
	NET_ASSET_EV_GAVE_UP,   /* no more tries on this connection */
};

struct net_asset_ops {
	/* What the store has: 0 and *out, or -ENOENT. */
	int (*lookup)(void *ud, const uint8_t hash[PROTO_SESS_ASSET_HASH_LEN], struct net_asset_local *out);
	/* The peer offers an asset: record it. 0: fetch it, 1: we have it
	 * complete, < 0: refused (limits, size conflict). */
	int (*accept)(void *ud, const struct proto_sess_asset_info *info);
	/* Appends at off (<= have); the new have or a negative errno. */
	int64_t (*write)(void *ud, const uint8_t hash[PROTO_SESS_ASSET_HASH_LEN], uint64_t off, const uint8_t *p,
			 size_t n);
	/* All bytes in: verify and publish. 0, -EBADMSG (mismatch, bytes
	 * dropped), or another errno. */
	int (*complete)(void *ud, const uint8_t hash[PROTO_SESS_ASSET_HASH_LEN]);
	/* A fetch stopped (failure, end of connection); may be NULL. */
	void (*release)(void *ud, const uint8_t hash[PROTO_SESS_ASSET_HASH_LEN]);
	ssize_t (*read)(void *ud, const uint8_t hash[PROTO_SESS_ASSET_HASH_LEN], uint64_t off, uint8_t *buf, size_t n);
	/* Queues a message on the assets stream. */
	int (*send)(void *ud, const struct proto_sess_msg *m);
	/* Bytes the stream takes now without buffering beyond its bound. */
	size_t (*writable)(void *ud);
	/* Something happened to hash (counters, logs, re-offering); may be NULL. */
	void (*event)(void *ud, enum net_asset_event ev, const uint8_t hash[PROTO_SESS_ASSET_HASH_LEN], int err);
};

struct net_asset_stats {
	uint64_t bytes_in, bytes_out;   /* CHUNK payload bytes */
	uint64_t chunks_in, chunks_out;
	uint64_t resumes;               /* our GETs from a non-zero offset */
	uint64_t resumes_served;        /* their GETs from a non-zero offset */
	uint64_t completed, failures;
	uint64_t busy_refusals;         /* GETs answered BUSY */
	uint64_t ignored;               /* offers we may not take, unsolicited chunks */
};

struct net_asset_want {
	uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
	uint64_t size;
	uint64_t next;        /* active: the offset the next CHUNK must start at (or below) */
	uint64_t retry_at;
	uint64_t last_rx_ns;
	uint8_t attempts;
	bool active;
};

struct net_asset_send {
	uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
	uint64_t size, next;
	bool first;           /* no chunk sent yet (test corruption) */
};

struct net_asset_xfer {
	const struct net_asset_ops *ops;
	void *ud;
	bool may_fetch;       /* take the peer's offers (host: members with role >= editor) */
	bool may_serve;       /* answer the peer's GETs */
	bool test_corrupt;    /* tests only: flip a bit in the first chunk of every send */
	struct net_asset_want *wants;
	unsigned n_wants, cap_wants;
	struct net_asset_send sends[NET_ASSET_MAX_SENDS];
	unsigned n_sends, rr;
	uint8_t *buf;         /* PROTO_SESS_ASSET_CHUNK bytes, allocated at init */
	struct net_asset_stats st;
};

int net_asset_init(struct net_asset_xfer *x, const struct net_asset_ops *ops, void *ud);
/* Releases every active fetch (ops->release) and frees the buffers. */
void net_asset_fini(struct net_asset_xfer *x);
/* One decoded assets-stream message. 0, -EPROTO when the peer broke the
 * protocol (the owner closes the connection), -ENOMSG not an asset type. */
int net_asset_on_msg(struct net_asset_xfer *x, const struct proto_sess_msg *m, uint64_t now_ns);
/* Starts fetches, produces chunks while the stream has room, handles
 * stalls and retries. Returns net_asset_next(). */
uint64_t net_asset_pump(struct net_asset_xfer *x, uint64_t now_ns);
/* When pump must run again for timers (UINT64_MAX: only when the stream
 * drains or a message comes). */
uint64_t net_asset_next(const struct net_asset_xfer *x, uint64_t now_ns);
/* Sends an OFFER for one asset. */
int net_asset_offer(struct net_asset_xfer *x, const struct proto_sess_asset_info *info);
/* Fetches in progress or queued. */
unsigned net_asset_pending(const struct net_asset_xfer *x);
