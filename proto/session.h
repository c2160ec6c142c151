/* Session protocol between daemons, carried on QUIC streams and datagrams,
 * generated from proto/session_msgs.def (the single description: every
 * message's fields, limits and rules; docs/network.md has the byte layout).
 *
 * Framing on every stream: u32 LE payload length, then the payload; a
 * payload starts with a u16 LE message type. Frames larger than
 * PROTO_SESS_MAX_FRAME are a protocol violation.
 *
 * Control stream (the first bidirectional stream the joiner opens):
 *   joiner -> host  HELLO   version, handshake hash, nonce, capabilities,
 *                           invite token, Ed25519 identity key, signature over
 *                           the TLS channel binding (and the fields above)
 *   host -> joiner  ACK     session id, role, negotiated capabilities, host key,
 *                           the joiner's peer id
 *   then MEMBER_JOIN / MEMBER_LEAVE / ROLE / KICK / PING / PONG / LEAVE,
 *   member -> host  ADMIN_REQ    an admin member's kick / role change
 *   host -> member  ADMIN_RESULT the answer to one ADMIN_REQ
 *   host -> member  REJECTED     an entry the member relayed was refused
 * A refusal closes the QUIC connection with an application error code from
 * enum proto_sess_err; proto_sess_err_text() is the sentence users see.
 *
 * Decoders validate everything the description says (exact length, ranges,
 * masks, text classes, item records, rules) and never write *out on
 * failure. View fields (HELLO's token, names, chunk data, item lists) point
 * into the decoded buffer. Encoders refuse what the decoders would refuse. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"

/* ---- constants: PROTO_SESS_<NAME> ---------------------------------------- */
#define SESS_ERR(code, NAME, text)
#define SESS_ASSET_ERR(code, NAME, text)
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
#define SESS_ITEM(iname, RULE, FIELDS)
#define SESS_RECORD(rname, sname, RULE, FIELDS)
#define SESS_DGRAM(kind, NAME, FIELDS)
#define SESS_CONST(NAME, value) PROTO_SESS_##NAME = (value),
enum {
#include "session_msgs.def"
};
#undef SESS_CONST
#define SESS_CONST(NAME, value)

#define PROTO_SESS_SECKEY_LEN     64 /* libsodium Ed25519 secret key */
#define PROTO_SESS_BINDING_LEN    32 /* TLS channel binding (RFC 9266) */
#define PROTO_SESS_HELLO_CONTEXT  "theta/1 session hello"

/* Capability bits (negotiated = intersection; unknown bits are ignored). */
#define PROTO_SESS_CAP_DATAGRAMS  (1ull << 0) /* poses over QUIC datagrams */
#define PROTO_SESS_CAP_VOICE      (1ull << 1)
#define PROTO_SESS_CAP_ASSETS     (1ull << 2) /* resumable asset stream */
#define PROTO_SESS_CAP_ZSTD       (1ull << 3)
#define PROTO_SESS_CAPS_KNOWN     0xfull

/* ---- message types: PROTO_SESS_T_<NAME> ---------------------------------- */
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) PROTO_SESS_T_##NAME = (id),
enum proto_sess_type {
#include "session_msgs.def"
};
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) +1
enum { PROTO_SESS_T_MAX_ = 0
#include "session_msgs.def"
};
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)

/* ---- error codes (QUIC application errors), each with its sentence ------ */
#undef SESS_ERR
#define SESS_ERR(code, NAME, text) PROTO_SESS_##NAME = (code),
enum proto_sess_err {
#include "session_msgs.def"
};
#undef SESS_ERR
#define SESS_ERR(code, NAME, text) +1
/* Codes are 0 and 0x101.. densely (checked in session.c). */
enum { PROTO_SESS_ERR_MAX_ = 0x100 - 1
#include "session_msgs.def"
};
#undef SESS_ERR
#define SESS_ERR(code, NAME, text)

#undef SESS_ASSET_ERR
#define SESS_ASSET_ERR(code, NAME, text) PROTO_SESS_ASSET_E_##NAME = (code),
enum proto_sess_asset_err {
#include "session_msgs.def"
};
#undef SESS_ASSET_ERR
#define SESS_ASSET_ERR(code, NAME, text) +1
/* Codes are 1.. densely (checked in session.c). */
enum { PROTO_SESS_ASSET_E_MAX_ = 0
#include "session_msgs.def"
};
#undef SESS_ASSET_ERR
#define SESS_ASSET_ERR(code, NAME, text)

/* ---- datagram kinds: PROTO_SESS_DG_<NAME> -------------------------------- */
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS) PROTO_SESS_DG_##NAME = (kind),
enum proto_sess_dgram_kind {
#include "session_msgs.def"
};
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS)

/* ---- message structs: struct proto_sess_<sname> -------------------------- */
#define S_U8(n) uint8_t n;
#define S_U16(n) uint16_t n;
#define S_U32(n) uint32_t n;
#define S_U64(n) uint64_t n;
#define S_VERSION(n) uint16_t n;
#define S_RANGE8(n, lo, hi) uint8_t n;
#define S_RANGE16(n, lo, hi) uint16_t n;
#define S_RANGE32(n, lo, hi) uint32_t n;
#define S_RANGE64(n, lo, hi) uint64_t n;
#define S_MASK8(n, mask) uint8_t n;
#define S_MASK32(n, mask) uint32_t n;
#define S_BYTES(n, len) uint8_t n[len];
#define S_F32S(n, count) float n[count];
#define S_STR16(n, max, chars) char n[(max) + 1];
#define S_VIEW16(n, len, lo, hi, chars) const uint8_t *n; uint16_t len;
#define S_VIEW32(n, len, lo, hi) const uint8_t *n; uint32_t len;
#define S_ITEMS(n, len, count, fn) const uint8_t *n; size_t len;
#undef SESS_MSG
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE, FIELDS) struct proto_sess_##iname { FIELDS };
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) struct proto_sess_##sname { FIELDS };
#include "session_msgs.def"
#undef SESS_MSG
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE, FIELDS)
#undef S_U8
#undef S_U16
#undef S_U32
#undef S_U64
#undef S_VERSION
#undef S_RANGE8
#undef S_RANGE16
#undef S_RANGE32
#undef S_RANGE64
#undef S_MASK8
#undef S_MASK32
#undef S_BYTES
#undef S_F32S
#undef S_STR16
#undef S_VIEW16
#undef S_VIEW32
#undef S_ITEMS

/* Any message: type and the member of u that type names. */
struct proto_sess_msg {
	uint16_t type;
	union {
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) struct proto_sess_##sname uname;
#include "session_msgs.def"
#undef SESS_MSG
	} u;
};

/* Every datagram kind's fields are members of this one struct (the def's
 * SESS_DGRAM lines name them); kind says which are meaningful. */
struct proto_sess_dgram {
	uint8_t kind;
	uint64_t seq, t_ns, echo_t_ns;
	uint8_t author[PROTO_SESS_KEY_LEN];
	/* VOICE (seq above, on the wire as a u32) */
	uint32_t ts;
	uint8_t vflags;
	const uint8_t *opus; /* points into the decoded datagram */
	uint16_t opus_len;
	/* PRES */
	const uint8_t *frame; /* points into the decoded datagram */
	uint16_t frame_len;
};
#undef SESS_CONST
#undef SESS_ERR
#undef SESS_ASSET_ERR
#undef SESS_ITEM
#undef SESS_RECORD
#undef SESS_DGRAM

/* The stream a message travels on. */
enum proto_sess_stream {
	PROTO_SESS_STREAM_CONTROL = 1,
	PROTO_SESS_STREAM_COMMANDS = 2,
	PROTO_SESS_STREAM_ASSETS = 3,
	PROTO_SESS_STREAM_SNAPSHOT = 4,
};

enum proto_sess_fkind {
	PROTO_SESS_F_U8,
	PROTO_SESS_F_U16,
	PROTO_SESS_F_U32,
	PROTO_SESS_F_U64,
	PROTO_SESS_F_VERSION,
	PROTO_SESS_F_RANGE8,
	PROTO_SESS_F_RANGE16,
	PROTO_SESS_F_RANGE32,
	PROTO_SESS_F_RANGE64,
	PROTO_SESS_F_MASK8,
	PROTO_SESS_F_MASK32,
	PROTO_SESS_F_BYTES,
	PROTO_SESS_F_F32S,
	PROTO_SESS_F_STR16,
	PROTO_SESS_F_VIEW16,
	PROTO_SESS_F_VIEW32,
	PROTO_SESS_F_ITEMS,
};

/* One field of a message, for generic code (tests, fuzzers, dumps). */
struct proto_sess_field {
	enum proto_sess_fkind kind;
	const char *name;
	size_t offset;     /* of the member (views: of the pointer) */
	size_t len_offset; /* VIEW16/VIEW32/ITEMS: of the length member */
	uint32_t wire;     /* fixed wire size; 0 when it depends on the value */
	uint64_t lo, hi;   /* RANGE: bounds; MASK: hi = mask; STR16/VIEW: length bounds; BYTES/F32S: count */
};

struct proto_sess_desc {
	uint16_t type;
	const char *name; /* "HELLO" */
	enum proto_sess_stream stream;
	size_t struct_size; /* of its struct, the member of proto_sess_msg.u */
	/* The struct's fields in wire order (after the type); *n their count. */
	const struct proto_sess_field *(*fields)(size_t *n);
};

/* Every message, in definition order; NULL for an unknown type. */
extern const struct proto_sess_desc proto_sess_descs[];
extern const size_t proto_sess_n_descs;
const struct proto_sess_desc *proto_sess_desc(uint16_t type);
/* "HELLO", ...; "?" for an unknown type. */
const char *proto_sess_type_name(uint16_t type);
/* 0 when a message of type may travel on stream, -EPROTO otherwise. */
int proto_sess_check_stream(uint16_t type, enum proto_sess_stream stream);

/* SipHash-2-4 (th_siphash) of proto_sess_canonical_text(): the def as the
 * preprocessor stringizes it (comments and layout do not count). */
uint64_t proto_sess_hash(void);
const char *proto_sess_canonical_text(void);
/* What HELLO's schema_hash carries and the host compares: SipHash-2-4 of
 * u64 LE th_schema_hash() | u64 LE proto_sess_hash() | u64 LE
 * proto_pres_dict_hash(), so daemons that differ in a component, a command
 * payload, a session message or the presence dictionary refuse each other
 * (PROTO_SESS_ERR_SCHEMA). */
uint64_t proto_sess_handshake_hash(void);

/* One sentence for an error code (unknown codes get a generic sentence). */
const char *proto_sess_err_text(uint64_t code);
const char *proto_sess_role_name(unsigned role);
/* "viewer" / "editor" / "admin" -> role; -EINVAL otherwise. */
int proto_sess_role_parse(const char *s);

/* Wire size of one SYNC item (struct proto_sess_sync_head: fixed size). */
#define PROTO_SESS_SYNC_ITEM  (PROTO_SESS_KEY_LEN + 8 + PROTO_SESS_HASH_LEN)
#define PROTO_SESS_ASSET_INFO_FIXED (PROTO_SESS_ASSET_HASH_LEN + 8 + 2)

/* Appends one frame (length prefix + payload). -EINVAL for values the
 * decoder would refuse; otherwise th_wbuf_error(w). */
int proto_sess_encode(const struct proto_sess_msg *m, struct th_wbuf *w);
/* Decodes one payload (without the length prefix). -EBADMSG malformed,
 * -EPROTONOSUPPORT a HELLO of another version (read it with
 * proto_sess_hello_version), -ENOMSG unknown type. */
int proto_sess_decode(const uint8_t *p, size_t len, struct proto_sess_msg *out);
/* The same; *why (when not NULL) gets a static "field: reason" text. */
int proto_sess_decode_why(const uint8_t *p, size_t len, struct proto_sess_msg *out, const char **why);
/* Version of a HELLO payload, whatever the rest looks like; -EBADMSG if
 * it is not a HELLO. Lets a host refuse another version cleanly. */
int proto_sess_hello_version(const uint8_t *p, size_t len);

/* The IPC EVENT_REJECTED payload (proto/ipc_msgs.def), the def's
 * SESS_RECORD(rejected_event): REJECTED's fields with a u32 reason. Encode
 * returns the length written or -EINVAL (bad field) / -ENOSPC; decode
 * -EBADMSG unless exactly one well-formed payload. */
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

/* SYNC items: struct proto_sess_sync_head (key, seq >= 1, head hash). */
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

/* QUIC DATAGRAM payloads (unreliable): u8 kind, then the kind's fields
 * (SESS_DGRAM in the def; struct proto_sess_dgram above). */
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

/* SNAP_OFFER signature (the host's statement about its checkpoint, which
 * a joiner may keep for offline verification): Ed25519 over
 *   PROTO_SESS_SNAP_CONTEXT "\0" | session_id[16] | u64 LE next_pos |
 *   world_hash[32] | set_digest[32] | u64 LE size | snap_hash[32]
 * (not bound to the connection). Only for an offer with HAS. */
#define PROTO_SESS_SNAP_CONTEXT "theta/1 scene checkpoint"
int proto_sess_snap_sign(struct proto_sess_snap_offer *o, const uint8_t seckey[PROTO_SESS_SECKEY_LEN]);
/* 0 or -EKEYREJECTED (also for an offer without HAS). */
int proto_sess_snap_verify(const struct proto_sess_snap_offer *o, const uint8_t host_key[PROTO_SESS_KEY_LEN]);
/* Wire size of a SNAP_CHUNK frame (length prefix included) carrying n bytes. */
#define PROTO_SESS_SNAP_CHUNK_FRAME(n) (PROTO_SESS_FRAME_HDR + 2 + 8 + 4 + (size_t)(n))

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
/* As proto_sess_reasm_feed, and *used says how many bytes of data it took:
 * all of them, or, when fn stopped it (a negative return), those up to the
 * end of the frame fn was given; the bytes after it are the caller's to feed
 * again later (a receiver that holds them while it cannot take more). */
int proto_sess_reasm_feed_some(struct proto_sess_reasm *r, const uint8_t *data, size_t len,
			       int (*fn)(const uint8_t *payload, size_t len, void *ud), void *ud, size_t *used);
