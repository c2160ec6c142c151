/* Local IPC messages between theta-client and thetad, generated from
 * proto/ipc_msgs.def (the single description; see proto/README.md).
 *
 * Ring records: ring record type = message id, payload = its encoding.
 * Socket datagrams on client.sock: a 16-byte header
 *     u16 type | u16 version | u32 magic "THIP" | u64 protocol hash
 * followed by the message encoding. The header layout never changes, so a
 * peer speaking another version can still be told why it is refused.
 *
 * Decoders validate everything (exact length, string and blob bounds, UTF-8,
 * enum ranges, flag masks, finite floats) and never write *out on failure.
 * BLOB fields of a decoded message point into the input buffer: decode from
 * a private copy (th_ring_pop copies the record out) that outlives the
 * message. Encoders refuse what the decoders would refuse (-EINVAL) and with
 * buf == NULL return the size they would write. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- constants: PROTO_IPC_<NAME> ---------------------------------------- */
#define IPC_MSG(...)
#define IPC_CONST(NAME, value) PROTO_IPC_##NAME = (value),
enum {
#include "ipc_msgs.def"
};
#undef IPC_CONST
#undef IPC_MSG

/* ---- message type ids: PROTO_IPC_T_<NAME> ------------------------------- */
#define IPC_CONST(NAME, value)
#define IPC_MSG(id, NAME, name, cls, chan, ...) PROTO_IPC_T_##NAME = (id),
enum proto_ipc_type {
#include "ipc_msgs.def"
};
#undef IPC_MSG

/* ---- message structs: struct proto_ipc_<name> --------------------------- */
#define F_U16(n) uint16_t n;
#define F_U32(n) uint32_t n;
#define F_U64(n) uint64_t n;
#define F_F32(n) float n;
#define F_ENUM(n, max) uint32_t n;
#define F_FLAGS(n, mask) uint32_t n;
#define F_STR(n, max) char n[(max) + 1];
#define F_BLOB(n, max) const uint8_t *n; uint32_t n##_len;
/* F_PATH and F_LIST are strings with stricter rules (ipc_msgs.def). */
#define F_PATH(n, max) F_STR(n, max)
#define F_LIST(n, max) F_STR(n, max)
#define IPC_MSG(id, NAME, name, cls, chan, ...) struct proto_ipc_##name { __VA_ARGS__ };
#include "ipc_msgs.def"
#undef IPC_MSG

/* Largest encoding of each message: PROTO_IPC_MAXSZ_<NAME>. */
#undef F_U16
#undef F_U32
#undef F_U64
#undef F_F32
#undef F_ENUM
#undef F_FLAGS
#undef F_STR
#undef F_BLOB
#define F_U16(n) +2
#define F_U32(n) +4
#define F_U64(n) +8
#define F_F32(n) +4
#define F_ENUM(n, max) +4
#define F_FLAGS(n, mask) +4
#define F_STR(n, max) +2 + (max)
#define F_BLOB(n, max) +4 + (max)
#define IPC_MSG(id, NAME, name, cls, chan, ...) PROTO_IPC_MAXSZ_##NAME = 0 __VA_ARGS__,
enum {
#include "ipc_msgs.def"
};
#undef IPC_MSG
/* Smallest encoding: PROTO_IPC_MINSZ_<NAME>. */
#undef F_STR
#undef F_BLOB
#define F_STR(n, max) +2
#define F_BLOB(n, max) +4
#define IPC_MSG(id, NAME, name, cls, chan, ...) PROTO_IPC_MINSZ_##NAME = 0 __VA_ARGS__,
enum {
#include "ipc_msgs.def"
};
#undef IPC_MSG
#undef F_U16
#undef F_U32
#undef F_U64
#undef F_F32
#undef F_ENUM
#undef F_FLAGS
#undef F_STR
#undef F_BLOB
#undef F_PATH
#undef F_LIST

#define IPC_MSG(id, NAME, name, cls, chan, ...) char NAME[PROTO_IPC_MAXSZ_##NAME];
union proto_ipc_maxsz_u {
#include "ipc_msgs.def"
};
#undef IPC_MSG
#define IPC_MSG(id, NAME, name, cls, chan, ...) struct proto_ipc_##name name;
/* Any message, for generic decoding. */
union proto_ipc_any {
#include "ipc_msgs.def"
};
#undef IPC_MSG
#undef IPC_CONST

/* The largest message encoding (ring records must be able to hold it). */
#define PROTO_IPC_MAX_MSG        sizeof(union proto_ipc_maxsz_u)
#define PROTO_IPC_SOCK_MAGIC     0x50494854u /* bytes "THIP" */
#define PROTO_IPC_SOCK_HDR       16u
/* Largest client.sock datagram (header + the largest socket message). */
#define PROTO_IPC_MAX_SOCK_MSG   512u
/* Descriptors passed with WELCOME: the memfd, the client->daemon doorbell
 * (client writes, daemon waits; it rings for both client->daemon rings, the
 * main one and the voice one) and the daemon->client doorbell (the main
 * ring's; the client polls its voice ring without one). */
#define PROTO_IPC_WELCOME_FDS    3u

enum proto_ipc_class {
	PROTO_IPC_RELIABLE = 1,
	PROTO_IPC_EPHEMERAL = 2,
};

enum proto_ipc_chan {
	PROTO_IPC_CHAN_C2D = 1,      /* ring, client -> daemon */
	PROTO_IPC_CHAN_D2C = 2,      /* ring, daemon -> client */
	PROTO_IPC_CHAN_BOTH = 3,     /* ring, either direction */
	PROTO_IPC_CHAN_SOCK_C2D = 4, /* client.sock, client -> daemon */
	PROTO_IPC_CHAN_SOCK_D2C = 8, /* client.sock, daemon -> client */
	PROTO_IPC_CHAN_VC2D = 16,    /* voice ring, client -> daemon */
	PROTO_IPC_CHAN_VD2C = 32,    /* voice ring, daemon -> client */
};

/* The largest record of either voice ring (its max_record). */
#define PROTO_IPC_VOICE_MAX_RECORD                                                         \
	((uint32_t)(PROTO_IPC_MAXSZ_VOICE_OUT > PROTO_IPC_MAXSZ_VOICE_PCM ? PROTO_IPC_MAXSZ_VOICE_OUT \
									   : PROTO_IPC_MAXSZ_VOICE_PCM))

enum proto_ipc_fkind {
	PROTO_IPC_F_U16,
	PROTO_IPC_F_U32,
	PROTO_IPC_F_U64,
	PROTO_IPC_F_F32,
	PROTO_IPC_F_ENUM,
	PROTO_IPC_F_FLAGS,
	PROTO_IPC_F_STR,
	PROTO_IPC_F_BLOB,
	PROTO_IPC_F_PATH, /* a string: "" or an OpenXR-style path */
	PROTO_IPC_F_LIST, /* a string: "" or names separated by '\n' */
};

/* One field of a message struct, for generic code (tests, fuzzers, dumps). */
struct proto_ipc_field {
	enum proto_ipc_fkind kind;
	const char *name;
	size_t offset;     /* of the value (BLOB: of the pointer) */
	size_t len_offset; /* BLOB: of the uint32_t length */
	uint32_t limit;    /* ENUM: max value; FLAGS: mask; STR/BLOB: max bytes */
};

struct proto_ipc_desc {
	uint16_t type;
	const char *name; /* "PING" */
	enum proto_ipc_class cls;
	enum proto_ipc_chan chan;
	size_t struct_size;
	size_t min_size, max_size; /* encoded */
	/* The struct's fields in wire order; *n gets their count. */
	const struct proto_ipc_field *(*fields)(size_t *n);
	int (*encode)(const void *msg, uint8_t *buf, size_t cap);
	int (*decode)(const uint8_t *buf, size_t len, void *out, const char **why);
};

/* Every message, in definition order. */
extern const struct proto_ipc_desc proto_ipc_descs[];
extern const size_t proto_ipc_n_descs;
/* The descriptor of a type, or NULL if the type is unknown. */
const struct proto_ipc_desc *proto_ipc_desc(uint16_t type);

/* SipHash-2-4 (th_siphash) of proto_ipc_canonical_text(). */
uint64_t proto_ipc_hash(void);
/* The canonical rendering of ipc_msgs.def that the hash covers: one line
 * per constant and per message, tokens as the C preprocessor stringizes
 * them (comments and layout do not count). */
const char *proto_ipc_canonical_text(void);

/* Typed encoders/decoders: proto_ipc_encode_<name>(), proto_ipc_decode_<name>().
 * encode: bytes written (or needed, buf NULL), -EINVAL (message breaks a
 * rule), -ENOBUFS (cap too small). decode: 0 or -EBADMSG; *why (may be NULL)
 * gets a static "field: reason" text. */
#define IPC_CONST(NAME, value)
#define IPC_MSG(id, NAME, name, cls, chan, ...)                                              \
	int proto_ipc_encode_##name(const struct proto_ipc_##name *m, uint8_t *buf, size_t cap); \
	int proto_ipc_decode_##name(const uint8_t *buf, size_t len, struct proto_ipc_##name *out, \
				    const char **why);
#include "ipc_msgs.def"
#undef IPC_MSG
#undef IPC_CONST

/* Generic forms; -EBADMSG / -EINVAL for an unknown type. */
int proto_ipc_encode(uint16_t type, const void *msg, uint8_t *buf, size_t cap);
int proto_ipc_decode(uint16_t type, const uint8_t *buf, size_t len, union proto_ipc_any *out,
		     const char **why);
/* 0 if a message of `type` may travel on `chan` (one of C2D, D2C,
 * SOCK_C2D, SOCK_D2C, VC2D, VD2C), -EPROTO otherwise (unknown type
 * included). */
int proto_ipc_check_chan(uint16_t type, enum proto_ipc_chan chan);

/* ---- client.sock framing ------------------------------------------------ */
struct proto_ipc_sock_hdr {
	uint16_t type;
	uint16_t version;
	uint64_t hash;
};
/* Header (our version and hash) + message. Bytes written or -errno. */
int proto_ipc_sock_encode(uint16_t type, const void *msg, uint8_t *buf, size_t cap);
/* Reads the frozen header: 0, or -EBADMSG (short, wrong magic). */
int proto_ipc_sock_peek(const uint8_t *buf, size_t len, struct proto_ipc_sock_hdr *out);
/* 0 when the header speaks our protocol; -TH_EVERSION or -TH_EPROTOHASH. */
int proto_ipc_sock_check(const struct proto_ipc_sock_hdr *h);
/* Decodes the message after the header; the type must be a socket message
 * for direction `chan` (SOCK_C2D or SOCK_D2C), else -EPROTO. Does not check
 * version/hash (REFUSE must be readable from any version). */
int proto_ipc_sock_decode(const uint8_t *buf, size_t len, enum proto_ipc_chan chan,
			  struct proto_ipc_sock_hdr *hdr, union proto_ipc_any *out, const char **why);

/* The EVENT_REFUSED payload (ipc_msgs.def): an entry of the client's user
 * that the session's fold refused. text is printable ASCII (0x20..0x7e),
 * at most PROTO_IPC_REFUSED_TEXT_MAX bytes. encode: bytes written, -EINVAL
 * (a field out of range), -ENOBUFS; decode: 0 or -EBADMSG unless exactly
 * one well-formed payload. */
struct proto_ipc_refused {
	uint8_t author[PROTO_IPC_KEY_LEN];
	uint64_t seq, lamport;
	uint8_t reason; /* enum th_refusal */
	char text[PROTO_IPC_REFUSED_TEXT_MAX + 1];
};
#define PROTO_IPC_REFUSED_SIZE_MAX (PROTO_IPC_KEY_LEN + 8 + 8 + 1 + 2 + PROTO_IPC_REFUSED_TEXT_MAX)
int proto_ipc_refused_encode(const struct proto_ipc_refused *m, uint8_t *buf, size_t cap);
int proto_ipc_refused_decode(const uint8_t *p, size_t len, struct proto_ipc_refused *out);

/* Human name of a REFUSE reason. */
const char *proto_ipc_refuse_str(uint32_t reason);

/* The rules of F_PATH and F_LIST (ipc_msgs.def) on n bytes of s, UTF-8
 * without NUL included: what the encoders and decoders enforce. */
bool proto_ipc_path_valid(const char *s, size_t n);
bool proto_ipc_list_valid(const char *s, size_t n);
/* Walks an F_LIST value: copies the next name into name[cap] (cut at a
 * character boundary to fit) and moves *cursor past it. 1: a name, 0: the
 * end, -EINVAL: an empty name (a list that is not valid) or cap 0. */
int proto_ipc_list_next(const char **cursor, char *name, size_t cap);

/* "none", "desktop", "openxr", "script" (INPUT_*); "unknown" otherwise. */
const char *proto_ipc_input_source_str(uint32_t source);
/* "none", "local", "remote", "unknown" (SINFO_HOST_*); "invalid" otherwise. */
const char *proto_ipc_sinfo_host_str(uint32_t host);
