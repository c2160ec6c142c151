/* The session layer of one connection between daemons, as a state machine
 * (the ngtcp2 shape; see docs/network.md, "Session layer"): messages,
 * datagrams, timer expiries and now_ns go in; actions come out (frames to
 * send on a channel, datagrams, closes with a code and reason, events for
 * the sessions module, and log lines as data). No clock, socket, log or
 * command-log call inside: net_link.c is the glue that feeds it, drains
 * its actions after every call and executes them.
 *
 *   host                                  joiner
 *   net_sl_create(HOST)                   net_sl_create(JOINER, token, nonce)
 *   net_sl_on_handshake(binding, now)     net_sl_on_handshake(binding, now) -> SEND HELLO
 *   net_sl_on_msg(CONTROL, HELLO) -> checks (version, schema, token, session,
 *      signature, kicked, expiry, reuse, full) -> SEND ACK + EV_ADMITTED,
 *      or CLOSE(refusal code) + EV_REFUSED
 *                                         net_sl_on_msg(CONTROL, ACK) -> EV_JOINED
 *   then on both: control messages -> events; ENTRIES (MORE kept together,
 *   bounded) -> EV_ENTRIES; SYNC (at most one per NET_SL_SYNC_MIN_GAP_NS)
 *   -> EV_SYNC; heartbeats on datagrams; lost peers; the joiner's SYNC round.
 *   host: EV_GONE once when an admitted member's connection ends, however.
 *
 * Backpressure: a group the log cannot take now goes back to the state
 * machine (net_sl_entries_wait), which keeps it, and every group after it,
 * in order until net_sl_entries_retry hands them out again; meanwhile the
 * glue stops feeding the commands channel (net_chan holds its bytes and the
 * QUIC window stays charged with them).
 *
 * The host's view of its sessions (which session a token names, members,
 * used nonces, how many peers are connected, admitting a member) is asked
 * through net_sl_host_ops: the state machine decides, the ops answer. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_peer.h"
#include "session.h"
#include "th_buf.h"

struct proto_invite_token; /* invite.h */

#define NET_SL_ACTIONS_MAX     64u   /* actions queued between drains (more: the connection is closed) */
#define NET_SL_TEXT_MAX        200u  /* a log line or close reason */
#define NET_SL_HELLO_TIMEOUT_NS (10ull * 1000 * 1000 * 1000) /* host: no HELLO by then: refused */
#define NET_SL_SYNC_INTERVAL_NS (5ull * 1000 * 1000 * 1000)  /* joiner's anti-entropy round */
#define NET_SL_SYNC_MIN_GAP_NS  (200ull * 1000 * 1000)       /* SYNCs closer than this are ignored */
#define NET_SL_ACC_MAX_ENTRIES  4096u        /* entries held across MORE messages */
#define NET_SL_ACC_MAX_BYTES    (16u << 20)
#define NET_SL_HANDED_MAX       4u           /* ENTRIES buffers handed out by one call */
#define NET_SL_WAITING_MAX      NET_SL_HANDED_MAX /* groups kept while the log cannot take them */

/* Channels the session layer speaks on (indices of net_link's table). */
enum net_sl_chan {
	NET_SL_CONTROL = 0,
	NET_SL_COMMANDS = 1,
};

enum net_sl_side { NET_SL_HOST = 1, NET_SL_JOINER = 2 };
enum net_sl_state { NET_SL_S_HANDSHAKE, NET_SL_S_HELLO, NET_SL_S_ACTIVE, NET_SL_S_CLOSED };

enum net_sl_log { NET_SL_LOG_DEBUG, NET_SL_LOG_INFO, NET_SL_LOG_NOTICE, NET_SL_LOG_WARN };

enum net_sl_event {
	NET_SL_EV_ADMITTED = 1, /* host: a member joined (key, role, peer_id, caps, sess) */
	NET_SL_EV_REFUSED,      /* host: a join refused (code); the CLOSE follows */
	NET_SL_EV_JOINED,       /* joiner: the host's ACK (ack) */
	NET_SL_EV_ENTRIES,      /* entries to integrate: recs/recs_len/count (whole signature groups) */
	NET_SL_EV_SYNC,         /* the peer's vector (sync): catch it up */
	NET_SL_EV_SYNC_DUE,     /* joiner: time for our SYNC (the glue builds it from the log) */
	NET_SL_EV_MEMBER_JOIN,  /* joiner: another member (msg.u.join) */
	NET_SL_EV_MEMBER_LEAVE, /* joiner: (msg.u.mleave) */
	NET_SL_EV_ROLE,         /* joiner: msg.u.role; for us when peer_id is ours */
	NET_SL_EV_LEFT,         /* host: the member said LEAVE; joiner: the host ended the session */
	NET_SL_EV_ADMIN_REQ,    /* host: msg.u.areq from a member (its role is the connection's) */
	NET_SL_EV_ADMIN_RESULT, /* joiner: msg.u.ares */
	NET_SL_EV_REJECTED,     /* joiner: msg.u.rej */
	NET_SL_EV_VOICE_NAME,   /* either side: msg.u.vname (the host checks who may name the speaker) */
	NET_SL_EV_VOICE_MUTE,   /* joiner: msg.u.vmute */
	NET_SL_EV_LOST,         /* the peer went silent past lost_after_ns */
	NET_SL_EV_PROTOCOL,     /* the peer broke the protocol (the CLOSE follows) */
	NET_SL_EV_GONE,         /* host: the admitted member is gone (code: the close or end code; text);
				 * once per connection, whatever ended it: LEAVE, lost, kick, a close
				 * by the glue or for the protocol, the transport's end */
};

enum net_sl_act_kind {
	NET_SL_A_SEND = 1, /* a frame (length prefix included) on channel `chan` */
	NET_SL_A_DGRAM,    /* a datagram */
	NET_SL_A_CLOSE,    /* close the connection with `code` (text: reason, may be empty) */
	NET_SL_A_LOG,      /* a line for the log at `level` */
	NET_SL_A_EVENT,    /* `ev` */
};

struct net_sl_action {
	enum net_sl_act_kind kind;
	enum net_sl_event ev;
	enum net_sl_log level;
	unsigned chan;
	const uint8_t *data; /* SEND / DGRAM bytes; EV_ENTRIES records */
	size_t len;
	uint32_t count;      /* EV_ENTRIES */
	uint64_t code;       /* CLOSE / EV_REFUSED / EV_LEFT */
	char text[NET_SL_TEXT_MAX];
	struct proto_sess_msg msg; /* EV_JOINED (ack), EV_SYNC (sync), member/role/admin/rejected */
};

/* The host's sessions, as the state machine may ask (host side only). sess
 * is the glue's handle for a hosted session. */
struct net_sl_host_ops {
	/* The hosted session with this id (and a log), or NULL. */
	void *(*session)(void *user, const uint8_t id[PROTO_SESS_ID_LEN]);
	/* 1 and *role, *kicked, *peer_id set if key is a member; 0 if not. */
	int (*member)(void *user, void *sess, const uint8_t key[32], uint8_t *role, bool *kicked, uint32_t *peer_id);
	bool (*nonce_used)(void *user, void *sess, const uint8_t nonce[16]);
	/* Connected members other than key (a member reconnecting replaces its old connection). */
	unsigned (*peers)(void *user, void *sess, const uint8_t key[32]);
	/* Records key as a member with role (and a single-use nonce as used):
	 * 0 and *peer_id, or negative errno. */
	int (*admit)(void *user, void *sess, const uint8_t key[32], uint8_t role, const uint8_t *nonce,
		     uint32_t *peer_id);
	/* The session's name for the ACK. */
	const char *(*name)(void *user, void *sess);
	/* Optional: 0, or the refusal (PROTO_SESS_ERR_*) for this HELLO: an
	 * ended session refuses everyone, a revoked invite a new member. */
	uint64_t (*refusal)(void *user, void *sess, bool known, const struct proto_invite_token *tok);
	/* Optional: a new member was admitted with tok. */
	void (*invite_used)(void *user, void *sess, const struct proto_invite_token *tok);
};

struct net_sl_config {
	enum net_sl_side side;
	const uint8_t *pk, *sk;      /* this daemon's identity (Ed25519, 32 / 64 bytes) */
	uint64_t schema_hash;        /* HELLO's: proto_sess_handshake_hash() (schema + session protocol) */
	uint16_t version;            /* 0: PROTO_SESS_VERSION (tests provoke mismatches) */
	uint64_t caps;               /* offered / granted at most */
	uint64_t lost_after_ns;      /* 0: NET_HB_LOST_DEFAULT */
	uint64_t wall_offset_ns;     /* wall clock - now_ns (invite expiries are wall seconds) */
	unsigned max_peers;          /* host: connected members per session */
	const struct net_sl_host_ops *host; /* host */
	void *host_user;
	/* joiner */
	const uint8_t *token;
	size_t token_len;
	uint8_t session_id[PROTO_SESS_ID_LEN];
	uint8_t nonce[PROTO_SESS_NONCE_LEN]; /* HELLO nonce (random, from the glue) */
	bool test_bad_sig;           /* tests: corrupt the HELLO signature */
};

struct net_sl {
	struct net_sl_config cfg;
	enum net_sl_state st;
	uint8_t binding[PROTO_SESS_BINDING_LEN];
	/* the other side, once known */
	void *sess;                  /* host: the session joined */
	uint8_t key[32];             /* its identity key */
	uint8_t role;                /* host: the member's role; joiner: the role granted */
	uint32_t peer_id;            /* host: the member's id; joiner: ours */
	uint64_t caps;
	uint64_t hello_deadline_ns, next_sync_ns, last_sync_rx_ns;
	struct net_hb hb;
	bool hb_on;
	uint64_t sync_ignored;       /* SYNCs dropped for coming too often */
	/* ENTRIES received with MORE, kept until the group is complete */
	uint8_t *acc;
	size_t acc_len, acc_cap;
	uint32_t acc_n;
	uint8_t *handed[NET_SL_HANDED_MAX]; /* ENTRIES buffers given with events, freed once drained */
	unsigned n_handed;
	/* ENTRIES groups the log could not take yet (net_sl_entries_wait), oldest first */
	struct net_sl_group {
		uint8_t *recs;
		size_t len;
		uint32_t count;
	} wait[NET_SL_WAITING_MAX];
	unsigned n_wait;
	/* actions of the current call */
	struct net_sl_action act[NET_SL_ACTIONS_MAX];
	unsigned n_act, next_act;
	bool overflow;
	struct th_wbuf out;          /* SEND / DGRAM bytes (offsets in act[].len / data set at poll) */
	size_t act_off[NET_SL_ACTIONS_MAX];
};

int net_sl_create(const struct net_sl_config *cfg, uint64_t now_ns, struct net_sl **out);
void net_sl_destroy(struct net_sl **sl);

/* Inputs. Drain the actions (net_sl_poll) after each: pointers in them
 * (into the input, or into the state machine) are valid until the next call. */
void net_sl_on_handshake(struct net_sl *sl, const uint8_t binding[PROTO_SESS_BINDING_LEN], uint64_t now_ns);
/* One message (payload, no length prefix) on a channel. Returns 0, or
 * -ECONNABORTED once the connection is closed (stop feeding it). */
int net_sl_on_msg(struct net_sl *sl, unsigned chan, const uint8_t *p, size_t len, uint64_t now_ns);
/* A heartbeat datagram (PING / PONG); any received byte counts as life. */
void net_sl_on_dgram(struct net_sl *sl, const uint8_t *p, size_t len, uint64_t now_ns);
void net_sl_on_rx(struct net_sl *sl, uint64_t now_ns);
void net_sl_on_timer(struct net_sl *sl, uint64_t now_ns);
uint64_t net_sl_next_expiry(const struct net_sl *sl);
/* The connection ended (either side, code: its application code or 0):
 * on the host, EV_GONE for a member that was still in the session (drain
 * the actions); nothing else comes out any more. */
void net_sl_on_ended(struct net_sl *sl, uint64_t code);

/* Commands from the glue (host: membership it decided; joiner: LEAVE, admin). */
void net_sl_send_msg(struct net_sl *sl, unsigned chan, const struct proto_sess_msg *m);
void net_sl_send_bytes(struct net_sl *sl, unsigned chan, const uint8_t *p, size_t n);
void net_sl_close(struct net_sl *sl, uint64_t code, const char *reason);
/* host: tells the member it is kicked, then closes with KICKED. */
void net_sl_kick(struct net_sl *sl);
/* joiner: says LEAVE, then closes with LEFT. */
void net_sl_leave(struct net_sl *sl);

/* Backpressure. The log cannot take the EV_ENTRIES group of action a now:
 * the state machine keeps it (called while draining, with the action just
 * polled). While groups wait, every later group waits behind them (the glue
 * passes each EV_ENTRIES still in the drain here too, and groups assembled
 * meanwhile join the queue), so they reach the log in the order they came.
 * 0, or -ENOENT (a is not a group handed out by this drain), -ENOSPC (more
 * than NET_SL_WAITING_MAX wait: the connection is closed). */
int net_sl_entries_wait(struct net_sl *sl, const struct net_sl_action *a);
static inline bool net_sl_entries_waiting(const struct net_sl *sl) { return sl->n_wait > 0; }
/* The log has room again: the waiting groups come out as EV_ENTRIES, oldest
 * first (call between drains). */
void net_sl_entries_retry(struct net_sl *sl);

/* 1 and *a set (valid until the next call), or 0 when drained. */
int net_sl_poll(struct net_sl *sl, struct net_sl_action *a);

static inline bool net_sl_active(const struct net_sl *sl) { return sl->st == NET_SL_S_ACTIVE; }
