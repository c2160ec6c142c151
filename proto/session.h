/* Session protocol between daemons, carried on QUIC streams (see
 * docs/network.md for the byte layout).
 *
 * Framing on every stream: u32 LE payload length, then the payload; a
 * payload starts with a u16 LE message type. Frames larger than
 * PROTO_SESS_MAX_FRAME are a protocol violation.
 *
 * Control stream (the first bidirectional stream the joiner opens):
 *   joiner -> host  HELLO   version, schema hash, nonce, capabilities, invite
 *                           token, Ed25519 identity key, signature over the
 *                           TLS channel binding (and the fields above)
 *   host -> joiner  ACK     session id, role, negotiated capabilities, host key,
 *                           the joiner's peer id
 *   then MEMBER_JOIN / MEMBER_LEAVE / ROLE / KICK / PING / PONG / LEAVE,
 *   member -> host  ADMIN_REQ    an admin member's kick / role change
 *   host -> member  ADMIN_RESULT the answer to one ADMIN_REQ
 *   host -> member  REJECTED     an entry the member relayed was refused
 * A refusal closes the QUIC connection with an application error code from
 * enum proto_sess_err; proto_sess_err_text() is the sentence users see.
 *
 * Decoders validate everything (exact length, ranges, flag masks) and never
 * write *out on failure. HELLO's token points into the decoded buffer. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"

#define PROTO_SESS_VERSION        2 /* 2: SYNC carries head hashes */
#define PROTO_SESS_MAX_FRAME      (256u * 1024u) /* payload bytes */
#define PROTO_SESS_FRAME_HDR      4
#define PROTO_SESS_NONCE_LEN      24
#define PROTO_SESS_KEY_LEN        32 /* Ed25519 public key */
#define PROTO_SESS_SECKEY_LEN     64 /* libsodium Ed25519 secret key */
#define PROTO_SESS_SIG_LEN        64
#define PROTO_SESS_ID_LEN         16
#define PROTO_SESS_MAX_TOKEN      512
#define PROTO_SESS_BINDING_LEN    32 /* TLS channel binding (RFC 9266) */
#define PROTO_SESS_HELLO_CONTEXT  "theta/1 session hello"

/* Capability bits (negotiated = intersection). */
#define PROTO_SESS_CAP_DATAGRAMS  (1ull << 0) /* poses over QUIC datagrams */
#define PROTO_SESS_CAP_VOICE      (1ull << 1)
#define PROTO_SESS_CAP_ASSETS     (1ull << 2) /* resumable asset stream */
#define PROTO_SESS_CAP_ZSTD       (1ull << 3)
#define PROTO_SESS_CAPS_KNOWN     0xfull

enum proto_sess_type {
	PROTO_SESS_T_HELLO = 1,
	PROTO_SESS_T_ACK = 2,
	PROTO_SESS_T_MEMBER_JOIN = 3,
	PROTO_SESS_T_MEMBER_LEAVE = 4,
	PROTO_SESS_T_ROLE = 5,
	PROTO_SESS_T_KICK = 6,
	PROTO_SESS_T_PING = 7,
	PROTO_SESS_T_PONG = 8,
	PROTO_SESS_T_LEAVE = 9,
	/* commands stream */
	PROTO_SESS_T_ENTRIES = 10,
	PROTO_SESS_T_SYNC = 11,
	/* assets stream */
	PROTO_SESS_T_ASSET_OFFER = 12,
	PROTO_SESS_T_ASSET_LIST = 13,
	PROTO_SESS_T_ASSET_GET = 14,
	PROTO_SESS_T_ASSET_CHUNK = 15,
	PROTO_SESS_T_ASSET_DONE = 16,
	PROTO_SESS_T_ASSET_ERROR = 17,
	/* control stream, added in the same version (a host that predates them
	 * treats them as a protocol violation) */
	PROTO_SESS_T_ADMIN_REQ = 18,
	PROTO_SESS_T_ADMIN_RESULT = 19,
	PROTO_SESS_T_REJECTED = 20,
	PROTO_SESS_T_MAX_ = 20,
};

enum proto_sess_role {
	PROTO_SESS_ROLE_VIEWER = 1,
	PROTO_SESS_ROLE_EDITOR = 2,
	PROTO_SESS_ROLE_ADMIN = 3,
};

/* QUIC application error codes for refusals and ends; each has a sentence. */
enum proto_sess_err {
	PROTO_SESS_OK = 0,
	PROTO_SESS_ERR_WRONG_FINGERPRINT = 0x101,
	PROTO_SESS_ERR_BAD_TOKEN = 0x102,
	PROTO_SESS_ERR_TOKEN_EXPIRED = 0x103,
	PROTO_SESS_ERR_TOKEN_REUSED = 0x104,
	PROTO_SESS_ERR_VERSION = 0x105,
	PROTO_SESS_ERR_SCHEMA = 0x106,
	PROTO_SESS_ERR_BAD_SIGNATURE = 0x107,
	PROTO_SESS_ERR_NOT_AUTHORIZED = 0x108,
	PROTO_SESS_ERR_KICKED = 0x109,
	PROTO_SESS_ERR_NO_SESSION = 0x10a,
	PROTO_SESS_ERR_FULL = 0x10b,
	PROTO_SESS_ERR_PROTOCOL = 0x10c,
	PROTO_SESS_ERR_HOST_ENDED = 0x10d,
	PROTO_SESS_ERR_LEFT = 0x10e,
	PROTO_SESS_ERR_HANDSHAKE_TIMEOUT = 0x10f,
	PROTO_SESS_ERR_NO_PEER = 0x110, /* ADMIN_RESULT: no such member */
	PROTO_SESS_ERR_MAX_ = 0x110,
};

/* One sentence for an error code (unknown codes get a generic sentence). */
const char *proto_sess_err_text(uint64_t code);
const char *proto_sess_role_name(unsigned role);
/* "viewer" / "editor" / "admin" -> role; -EINVAL otherwise. */
int proto_sess_role_parse(const char *s);

struct proto_sess_hello {
	uint16_t version;
	uint64_t schema_hash;
	uint8_t nonce[PROTO_SESS_NONCE_LEN];
	uint64_t caps;
	const uint8_t *token; /* into the decoded buffer / caller's bytes */
	uint16_t token_len;
	uint8_t identity_key[PROTO_SESS_KEY_LEN];
	uint8_t sig[PROTO_SESS_SIG_LEN];
};

#define PROTO_SESS_NAME_MAX 64 /* session name in ACK */

struct proto_sess_ack {
	uint8_t session_id[PROTO_SESS_ID_LEN];
	uint8_t role;
	uint64_t caps;
	uint8_t host_key[PROTO_SESS_KEY_LEN];
	uint32_t peer_id;
	char name[PROTO_SESS_NAME_MAX + 1]; /* the host's name for the session (may be empty) */
};

struct proto_sess_member_join {
	uint32_t peer_id;
	uint8_t key[PROTO_SESS_KEY_LEN];
	uint8_t role;
};

struct proto_sess_member_leave {
	uint32_t peer_id;
	uint16_t reason; /* enum proto_sess_err (low 16 bits) */
};

struct proto_sess_role_change {
	uint32_t peer_id;
	uint8_t role;
};

struct proto_sess_kick {
	uint32_t peer_id;
	uint16_t reason;
};

/* ADMIN_REQ (member -> host): u32 req_id, u8 op, u32 peer_id (the id the
 * host announced in MEMBER_JOIN), u8 role (0 for KICK, 1..3 for ROLE). */
enum proto_sess_admin_op {
	PROTO_SESS_ADMIN_KICK = 1,
	PROTO_SESS_ADMIN_ROLE = 2,
};
struct proto_sess_admin_req {
	uint32_t req_id;
	uint8_t op;
	uint32_t peer_id;
	uint8_t role;
};

/* ADMIN_RESULT (host -> member): u32 req_id, u16 code (0 done, else the
 * low 16 bits of a proto_sess_err in 0x101..MAX), u32 peer_id, u8 role
 * (0..3: the member's role now; 0 after a kick or a failure). */
struct proto_sess_admin_result {
	uint32_t req_id;
	uint16_t code;
	uint32_t peer_id;
	uint8_t role;
};

/* REJECTED (host -> member): an entry the member relayed was refused.
 * author[32], u64 seq (>= 1), u64 lamport, u16 reason (a PROTO_IPC_REJECT_*
 * code, <= PROTO_SESS_REJECT_REASON_MAX), u16 text_len (<=
 * PROTO_SESS_REJECT_TEXT_MAX), text (bytes 0x20..0x7e). */
#define PROTO_SESS_REJECT_REASON_MAX 5u   /* == PROTO_IPC_REJECT_MAX */
#define PROTO_SESS_REJECT_TEXT_MAX   120u
struct proto_sess_rejected {
	uint8_t author[PROTO_SESS_KEY_LEN];
	uint64_t seq;
	uint64_t lamport;
	uint16_t reason;
	char text[PROTO_SESS_REJECT_TEXT_MAX + 1];
};

struct proto_sess_ping {
	uint64_t seq;
	uint64_t t_ns; /* sender's clock */
};

struct proto_sess_pong {
	uint64_t seq;
	uint64_t echo_t_ns; /* the ping's t_ns, echoed */
	uint64_t t_ns;      /* responder's clock */
};

struct proto_sess_leave {
	uint16_t reason;
};

/* ENTRIES (commands stream, either direction): signed command-log entries.
 *   u8 flags (bit 0 MORE: the receiver keeps them and integrates together
 *   with the following ENTRIES; every signature group is complete once a
 *   message without MORE arrives), u16 count (1..PROTO_SESS_ENTRIES_MAX),
 *   then count times: u32 body_len, body (th_logrec canonical encoding),
 *   u8 signed (0/1), sig[64] when signed.
 * The decoder checks every body with th_logrec_decode; iterate with
 * proto_sess_entries_next. */
#define PROTO_SESS_ENTRIES_MAX    4096u
#define PROTO_SESS_ENTRIES_F_MORE 0x01u
struct proto_sess_entries {
	uint8_t flags;
	uint16_t count;
	const uint8_t *recs; /* into the decoded buffer */
	size_t recs_len;
};

/* SYNC (commands stream): what the sender holds, as its last sequence
 * number and that entry's hash (the head of the author's chain) per
 * author; "send me every entry I lack". u32 n (<= PROTO_SESS_SYNC_MAX),
 * then n times: author key[32], u64 seq (>= 1), head hash[32], authors
 * strictly increasing by key bytes (canonical, no duplicates). */
#define PROTO_SESS_SYNC_MAX   4096u
#define PROTO_SESS_HASH_LEN   32
#define PROTO_SESS_SYNC_ITEM  (PROTO_SESS_KEY_LEN + 8 + PROTO_SESS_HASH_LEN)
struct proto_sess_sync {
	uint32_t n;
	const uint8_t *items; /* n * PROTO_SESS_SYNC_ITEM bytes */
};

/* Assets stream (either direction; see docs/network.md "Assets"): content
 * named by its SHA-256, announced with OFFER (one) or LIST (a page of the
 * sender's catalogue, possibly empty), pulled with GET from an offset, sent
 * as CHUNKs in order and ended by DONE, refused or cancelled by ERROR.
 *   OFFER  hash[32], u64 size (1..MAX_SIZE), u16 name_len (1..NAME_MAX),
 *          name (bytes >= 0x20, not 0x7f)
 *   LIST   u16 n (0..LIST_MAX), then n OFFER bodies
 *   GET    hash[32], u64 offset (<= MAX_SIZE)
 *   CHUNK  hash[32], u64 offset, u32 len (1..CHUNK), bytes[len];
 *          offset + len <= MAX_SIZE
 *   DONE   hash[32], u64 size (1..MAX_SIZE)
 *   ERROR  hash[32], u16 code (enum proto_sess_asset_err) */
#define PROTO_SESS_ASSET_HASH_LEN 32
#define PROTO_SESS_ASSET_CHUNK    (64u * 1024)     /* largest CHUNK payload */
#define PROTO_SESS_ASSET_MAX_SIZE (256ull << 20)   /* largest asset */
#define PROTO_SESS_ASSET_NAME_MAX 255
#define PROTO_SESS_ASSET_LIST_MAX 256u             /* items per LIST message */
#define PROTO_SESS_ASSET_INFO_FIXED (PROTO_SESS_ASSET_HASH_LEN + 8 + 2)

enum proto_sess_asset_err {
	PROTO_SESS_ASSET_E_UNKNOWN = 1,    /* the sender does not have it (complete) */
	PROTO_SESS_ASSET_E_BUSY = 2,       /* too many transfers now; ask again later */
	PROTO_SESS_ASSET_E_BAD_OFFSET = 3, /* offset past the end */
	PROTO_SESS_ASSET_E_REFUSED = 4,    /* role or limits: will not take / give it */
	PROTO_SESS_ASSET_E_CORRUPT = 5,    /* the bytes did not hash to the name */
	PROTO_SESS_ASSET_E_IO = 6,         /* storage failed on the sending side */
	PROTO_SESS_ASSET_E_CANCEL = 7,     /* receiver: stop sending this */
	PROTO_SESS_ASSET_E_MAX_ = 7,
};

struct proto_sess_asset_info {
	uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
	uint64_t size;
	uint16_t name_len;
	const uint8_t *name; /* not NUL-terminated; into the decoded buffer */
};

struct proto_sess_asset_list {
	uint16_t n;
	const uint8_t *items; /* n OFFER bodies, validated */
	size_t items_len;
};

struct proto_sess_asset_get {
	uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
	uint64_t offset;
};

struct proto_sess_asset_chunk {
	uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
	uint64_t offset;
	uint32_t len;
	const uint8_t *data; /* into the decoded buffer */
};

struct proto_sess_asset_done {
	uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
	uint64_t size;
};

struct proto_sess_asset_error {
	uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
	uint16_t code;
};

struct proto_sess_msg {
	uint16_t type;
	union {
		struct proto_sess_hello hello;
		struct proto_sess_ack ack;
		struct proto_sess_member_join join;
		struct proto_sess_member_leave mleave;
		struct proto_sess_role_change role;
		struct proto_sess_kick kick;
		struct proto_sess_ping ping;
		struct proto_sess_pong pong;
		struct proto_sess_leave leave;
		struct proto_sess_admin_req areq;
		struct proto_sess_admin_result ares;
		struct proto_sess_rejected rej;
		struct proto_sess_entries entries;
		struct proto_sess_sync sync;
		struct proto_sess_asset_info offer;
		struct proto_sess_asset_list alist;
		struct proto_sess_asset_get aget;
		struct proto_sess_asset_chunk achunk;
		struct proto_sess_asset_done adone;
		struct proto_sess_asset_error aerr;
	} u;
};

/* Appends one frame (length prefix + payload). -EINVAL for values the
 * decoder would refuse; otherwise th_wbuf_error(w). */
int proto_sess_encode(const struct proto_sess_msg *m, struct th_wbuf *w);
/* Decodes one payload (without the length prefix). -EBADMSG malformed,
 * -EPROTONOSUPPORT a HELLO of another version (read it with
 * proto_sess_hello_version), -ENOMSG unknown type. */
int proto_sess_decode(const uint8_t *p, size_t len, struct proto_sess_msg *out);
/* Version of a HELLO payload, whatever the rest looks like; -EBADMSG if
 * it is not a HELLO. Lets a host refuse another version cleanly. */
int proto_sess_hello_version(const uint8_t *p, size_t len);

/* The IPC EVENT_REJECTED payload (proto/ipc_msgs.def): author[32], u64 seq,
 * u64 lamport, u32 reason (<= PROTO_SESS_REJECT_REASON_MAX), u16 text_len,
 * text -- the same fields as REJECTED. Encode returns the length written
 * or -EINVAL (bad field) / -ENOSPC; decode -EBADMSG unless exactly one
 * well-formed payload. */
#define PROTO_SESS_REJECTED_EVENT_MAX (PROTO_SESS_KEY_LEN + 8 + 8 + 4 + 2 + PROTO_SESS_REJECT_TEXT_MAX)
int proto_sess_rejected_event_encode(const struct proto_sess_rejected *r, uint8_t *out, size_t cap);
int proto_sess_rejected_event_decode(const uint8_t *p, size_t len, struct proto_sess_rejected *out);

/* ENTRIES: one entry at a time. */
struct th_logrec_entry;
struct proto_sess_entries_iter {
	const uint8_t *p;
	size_t left;
};
void proto_sess_entries_iter_init(struct proto_sess_entries_iter *it, const struct proto_sess_entries *m);
/* 1 and *e (payload points into the message) or 0 at the end. Only for a
 * message proto_sess_decode accepted. */
int proto_sess_entries_next(struct proto_sess_entries_iter *it, struct th_logrec_entry *e);

/* Building an ENTRIES frame in w: begin, add (up to PROTO_SESS_ENTRIES_MAX
 * entries and PROTO_SESS_MAX_FRAME bytes: -ENOSPC, nothing added), end
 * (-EINVAL for an empty message). */
struct proto_sess_entries_build {
	struct th_wbuf *w;
	size_t start;
	uint16_t count;
};
int proto_sess_entries_begin(struct proto_sess_entries_build *b, struct th_wbuf *w, uint8_t flags);
int proto_sess_entries_add(struct proto_sess_entries_build *b, const struct th_logrec_entry *e);
/* Bytes the message has so far (payload, without the length prefix). */
size_t proto_sess_entries_size(const struct proto_sess_entries_build *b);
int proto_sess_entries_end(struct proto_sess_entries_build *b);
void proto_sess_entries_abort(struct proto_sess_entries_build *b);

/* One author of a SYNC vector. */
struct proto_sess_sync_head {
	uint8_t key[PROTO_SESS_KEY_LEN];
	uint64_t seq;                       /* last sequence number held, >= 1 */
	uint8_t hash[PROTO_SESS_HASH_LEN];  /* hash of that entry */
};
/* Item i (< m->n) of a decoded SYNC. */
void proto_sess_sync_item(const struct proto_sess_sync *m, uint32_t i, struct proto_sess_sync_head *out);
/* Appends a SYNC frame from n heads; keys must be strictly increasing and
 * seq >= 1 (-EINVAL), n <= PROTO_SESS_SYNC_MAX (-E2BIG). */
int proto_sess_sync_encode(struct th_wbuf *w, const struct proto_sess_sync_head *heads, uint32_t n);

/* Asset names: 1..PROTO_SESS_ASSET_NAME_MAX bytes, none below 0x20 or 0x7f. */
bool proto_sess_asset_name_ok(const uint8_t *name, size_t len);
const char *proto_sess_asset_err_name(unsigned code);
/* Appends a LIST frame of n (<= PROTO_SESS_ASSET_LIST_MAX) items; -EINVAL
 * for an item the decoder would refuse, -E2BIG for too many. */
int proto_sess_asset_list_encode(struct th_wbuf *w, const struct proto_sess_asset_info *items, uint16_t n);
/* LIST items one at a time (only for a list proto_sess_decode accepted). */
struct proto_sess_asset_list_iter {
	const uint8_t *p;
	size_t left;
};
void proto_sess_asset_list_iter_init(struct proto_sess_asset_list_iter *it, const struct proto_sess_asset_list *m);
/* 1 and *out, or 0 at the end. */
int proto_sess_asset_list_next(struct proto_sess_asset_list_iter *it, struct proto_sess_asset_info *out);

/* QUIC DATAGRAM payloads (unreliable): u8 kind, then
 *   1 PING  u64 seq, u64 t_ns
 *   2 PONG  u64 seq, u64 echo_t_ns, u64 t_ns
 *   3 POSE  u8 author[32], u64 t_ns, f32 px py pz qx qy qz qw (IEEE bits,
 *           finite), u32 flags (<= PROTO_SESS_POSE_F_ALL)
 * Heartbeats ride on datagrams so that their losses measure the path's. */
enum proto_sess_dgram_kind {
	PROTO_SESS_DG_PING = 1,
	PROTO_SESS_DG_PONG = 2,
	PROTO_SESS_DG_POSE = 3,
};
#define PROTO_SESS_POSE_F_ALL 15u
#define PROTO_SESS_DGRAM_MAX  96u /* largest datagram payload we define */
struct proto_sess_dgram {
	uint8_t kind;
	uint64_t seq, t_ns, echo_t_ns;
	uint8_t author[PROTO_SESS_KEY_LEN];
	float pose[7];
	uint32_t flags;
};
/* Returns the length written (<= PROTO_SESS_DGRAM_MAX) or -EINVAL. */
int proto_sess_dgram_encode(const struct proto_sess_dgram *d, uint8_t *out, size_t cap);
/* -EBADMSG unless exactly one well-formed datagram. */
int proto_sess_dgram_decode(const uint8_t *p, size_t len, struct proto_sess_dgram *out);

/* HELLO signature: Ed25519 over
 *   PROTO_SESS_HELLO_CONTEXT "\0" | binding[32] | HELLO payload without sig
 * so it proves the key holder is the TLS endpoint of this connection. */
int proto_sess_hello_sign(struct proto_sess_hello *h, const uint8_t binding[PROTO_SESS_BINDING_LEN],
			  const uint8_t seckey[PROTO_SESS_SECKEY_LEN]);
/* 0 or -EKEYREJECTED. */
int proto_sess_hello_verify(const struct proto_sess_hello *h,
			    const uint8_t binding[PROTO_SESS_BINDING_LEN]);

/* Splits a stream's bytes into frames. Buffers at most one partial frame. */
struct proto_sess_reasm {
	uint8_t *buf;
	size_t len, cap;
	size_t max_frame; /* 0: PROTO_SESS_MAX_FRAME */
	int error;        /* sticky: once framing broke, every feed fails */
};
void proto_sess_reasm_init(struct proto_sess_reasm *r, size_t max_frame);
void proto_sess_reasm_fini(struct proto_sess_reasm *r);
/* Calls fn(payload, len, ud) for every complete frame in order; stops at
 * fn's first negative return and returns it. -EMSGSIZE for a frame larger
 * than max_frame (the stream is then unusable), -ENOMEM. */
int proto_sess_reasm_feed(struct proto_sess_reasm *r, const uint8_t *data, size_t len,
			  int (*fn)(const uint8_t *payload, size_t len, void *ud), void *ud);
