/* Verified late join, the snapshot stream of one connection as a state
 * machine (see docs/network.md, "Late join"): messages, the stream's room,
 * timer expiries and now_ns go in; actions come out (frames to send, log
 * lines as data, and on the joiner the verified bytes to unpack and
 * install). No clock, socket, log or session call inside: net_snapshot_io.c
 * is the glue.
 *
 *   joiner                                     host
 *   net_snap_start -> SNAP_REQUEST(session, WANT)
 *                                              on_msg: ops->latest (the newest
 *                                              checkpoint, copied), ops->count
 *                                     <- SNAP_OFFER(count, next_pos, world
 *                                        hash, set digest, size, snap hash, sig)
 *   checks: our session; the signature under the host key pinned by the
 *   handshake; size within max_size; ops->decline (the glue: would it
 *   help?) -> SNAP_GET(next_pos, 0)
 *                                              net_snap_pump(room): SNAP_CHUNKs
 *                                     <- SNAP_CHUNK(offset, bytes) ...
 *   in order, inside the size; all in: BLAKE2b-256 == snap hash ->
 *   A_INSTALL (bytes + the offer); the glue unpacks (th_fold_restore),
 *   recomputes the world hash and set digest against the signed ones,
 *   installs, and says net_snap_installed(rc, why).
 *
 * Whatever goes wrong on the joiner (a refused offer, a transfer cut or
 * stalled, bytes that do not hash, a scene that does not match) ends in
 * NET_SNAP_S_REFUSED with one sentence (net_snap_why, and an A_LOG), and a
 * SNAP_CANCEL tells the host: the log's catch-up, which runs beside the
 * transfer, brings everything anyway. Only malformed messages (-EBADMSG) or
 * ones no state allows (-EPROTO) are the caller's to treat as a protocol
 * violation. Memory: the joiner's buffer grows with what arrived (at most
 * max_size); the host holds one copy of the offered checkpoint. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "th_buf.h"

#define NET_SNAP_ACTIONS_MAX       16u  /* actions queued between drains (more: net_snap_poll says overflow) */
#define NET_SNAP_TEXT_MAX          200u /* a log line */
#define NET_SNAP_OFFER_TIMEOUT_NS  (10ull * 1000 * 1000 * 1000) /* joiner: no OFFER by then: catch-up only */
#define NET_SNAP_STALL_NS          (15ull * 1000 * 1000 * 1000) /* joiner: no chunk this long: the transfer is cut */
#define NET_SNAP_CHUNK_BYTES       PROTO_SESS_SNAP_CHUNK /* bytes per chunk the host sends */
#define NET_SNAP_CHUNK_FRAME_MAX   PROTO_SESS_SNAP_CHUNK_FRAME(NET_SNAP_CHUNK_BYTES)
#define NET_SNAP_PUMP_MAX          64u  /* chunks one pump call writes at most (bounds one loop wake-up: 4 MiB) */

enum net_snap_side { NET_SNAP_HOST = 1, NET_SNAP_JOINER = 2 };

enum net_snap_state {
	NET_SNAP_S_IDLE = 0,  /* joiner: not started; host: no request yet */
	NET_SNAP_S_REQUESTED, /* joiner: REQUEST sent, waiting for the offer */
	NET_SNAP_S_RECEIVING, /* joiner: GET sent, chunks arriving */
	NET_SNAP_S_VERIFYING, /* joiner: every byte in, handed out with A_INSTALL */
	NET_SNAP_S_INSTALLED, /* joiner: the glue installed it */
	NET_SNAP_S_NONE,      /* joiner: no checkpoint offered or wanted: catch-up only */
	NET_SNAP_S_REFUSED,   /* joiner: refused (net_snap_why): catch-up only */
	NET_SNAP_S_OFFERED,   /* host: OFFER sent */
	NET_SNAP_S_SENDING,   /* host: GET taken, chunks going out */
	NET_SNAP_S_SENT,      /* host: every chunk written */
	NET_SNAP_S_CANCELLED, /* host: the joiner cancelled, or nothing to serve */
};

enum net_snap_log { NET_SNAP_LOG_INFO, NET_SNAP_LOG_NOTICE, NET_SNAP_LOG_WARN };

enum net_snap_act_kind {
	NET_SNAP_A_SEND = 1, /* a frame (length prefix included) for the snapshot stream */
	NET_SNAP_A_LOG,      /* a line for the log at `level` */
	NET_SNAP_A_INSTALL,  /* joiner: data/len are the verified bytes, offer what they claim */
};

struct net_snap_action {
	enum net_snap_act_kind kind;
	enum net_snap_log level;
	const uint8_t *data;
	size_t len;
	char text[NET_SNAP_TEXT_MAX];
};

/* The host's newest checkpoint, as ops->latest gives it (bytes are copied). */
struct net_snap_source {
	const uint8_t *snap;
	size_t len;
	uint64_t next_pos;
	uint8_t world_hash[PROTO_SESS_SCENE_HASH_LEN];
	uint8_t set_digest[PROTO_SESS_SCENE_HASH_LEN];
};

struct net_snap_ops {
	/* host: 0 and *out, -ENOENT (no checkpoint yet), or negative errno. */
	int (*latest)(void *ud, struct net_snap_source *out);
	/* host: the session log's entry count now. */
	uint64_t (*count)(void *ud);
	/* joiner (may be NULL): NULL to take the offer, or a static sentence
	 * why this daemon does not need it (then catch-up only, no refusal). */
	const char *(*decline)(void *ud, const struct proto_sess_snap_offer *o);
};

struct net_snap_config {
	enum net_snap_side side;
	uint8_t session_id[PROTO_SESS_ID_LEN]; /* the connection's session */
	const struct net_snap_ops *ops;
	void *ud;
	/* host */
	const uint8_t *sk;             /* the identity key that signs offers (64 bytes) */
	uint64_t max_size;             /* host: largest checkpoint offered; joiner: taken (0: PROTO_SESS_SNAP_MAX_SIZE) */
	/* joiner */
	uint8_t host_key[PROTO_SESS_KEY_LEN]; /* pinned by the handshake (the ACK over the pinned TLS) */
	bool want;                     /* false: ask for the count only (snapshots switched off) */
};

struct net_snap_stats {
	uint64_t bytes;        /* checkpoint bytes sent / received */
	uint64_t chunks;
	uint64_t ignored;      /* joiner: chunks after a refusal (the host had not heard the CANCEL yet) */
	uint64_t started_ns, done_ns; /* REQUEST (joiner) / GET (host) .. install / last chunk */
	uint64_t offered_ns;          /* host: the OFFER went out */
};

struct net_snap {
	struct net_snap_config cfg;
	enum net_snap_state st;
	struct proto_sess_snap_offer offer; /* joiner: as received; host: as sent */
	bool offered;                       /* joiner: an OFFER arrived (offer.log_count is the host's count) */
	struct th_wbuf buf;                 /* the checkpoint's bytes (joiner: received; host: the copy) */
	uint64_t sent;                      /* host: bytes written */
	uint64_t deadline_ns;               /* joiner: offer or stall timer (0: none) */
	char why[NET_SNAP_TEXT_MAX];        /* joiner: why it was refused or not used */
	struct net_snap_stats stats;
	struct net_snap_action act[NET_SNAP_ACTIONS_MAX];
	size_t act_off[NET_SNAP_ACTIONS_MAX]; /* SEND: offset in out */
	unsigned n_act, next_act;
	bool overflow;
	struct th_wbuf out;                 /* SEND bytes */
};

int net_snap_create(const struct net_snap_config *cfg, struct net_snap **out);
void net_snap_destroy(struct net_snap **sn);

/* Inputs; drain the actions (net_snap_poll) after each. Pointers in the
 * actions are valid until the next call. */
/* joiner: sends the REQUEST. */
void net_snap_start(struct net_snap *sn, uint64_t now_ns);
/* One snapshot-stream message (payload, no length prefix): 0, -EBADMSG
 * (malformed) or -EPROTO (a message no state allows, e.g. a host's message
 * on the host): close the connection for those. */
int net_snap_on_msg(struct net_snap *sn, const uint8_t *p, size_t len, uint64_t now_ns);
/* host: writes chunks while room (bytes the stream takes now) holds a whole
 * one, at most NET_SNAP_PUMP_MAX; 1 when more remain, 0 otherwise. */
int net_snap_pump(struct net_snap *sn, size_t room, uint64_t now_ns);
void net_snap_on_timer(struct net_snap *sn, uint64_t now_ns);
uint64_t net_snap_next_expiry(const struct net_snap *sn); /* UINT64_MAX: none */
/* The connection ended: a joiner's transfer in progress is refused ("cut"). */
void net_snap_on_ended(struct net_snap *sn, uint64_t now_ns);
/* joiner, after A_INSTALL: rc 0 (installed) or negative errno with why
 * (one sentence: the scene did not match, ...). */
void net_snap_installed(struct net_snap *sn, int rc, const char *why, uint64_t now_ns);

/* 1 and the next action, or 0 when none are left (then the queue resets). */
int net_snap_poll(struct net_snap *sn, struct net_snap_action *a);

static inline enum net_snap_state net_snap_state(const struct net_snap *sn) { return sn->st; }
static inline const char *net_snap_why(const struct net_snap *sn) { return sn->why; }
const char *net_snap_state_name(enum net_snap_state st);
/* joiner: the host's log count from its offer (0: no offer yet). */
static inline uint64_t net_snap_host_count(const struct net_snap *sn) { return sn->offered ? sn->offer.log_count : 0; }
