/* Command-log entries: the entry struct, its canonical little-endian
 * encoding (generated from schemas/commands.def), the entry hash, Ed25519
 * signatures, the per-author hash chain, and the on-disk record framing
 * (length + CRC-32C). Usable offline: thetactl links it to verify logs with
 * no daemon running. Byte-by-byte layout in docs/command-log.md.
 *
 * Entry hash  h = BLAKE2b-256("theta.entry.v1\0\0" || body)
 * Signature   Ed25519(author, "theta.sig.v1\0\0\0\0" || h), over one entry's
 *             hash; since h covers `prev`, a signature also vouches for every
 *             earlier unsigned entry of the same author back to the previous
 *             signature (batched signing). Writers sign at least the last
 *             entry of each author in each batch, so every entry is covered
 *             by a signature in its own batch, at most
 *             TH_LOGREC_UNSIGNED_RUN_MAX entries later in its author's chain.
 * Chain       entry n of an author has seq n (from 1, no gaps), prev = h of
 *             entry n-1 (zero for n = 1) and a lamport above entry n-1's.
 * Request id  req names the client command an entry was made for (0: none);
 *             thetad answers a resend of that command with the entry's id
 *             instead of a second entry (exactly once, docs/command-log.md).
 *
 * Decoders validate every byte and report a reason (enum th_logrec_fault). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t th_u8;
typedef uint16_t th_u16;
typedef uint32_t th_u32;
typedef uint64_t th_u64;
typedef uint8_t th_b32[32];

/* Encoding written now. Version 1 (before the request id) still decodes:
 * its fixed part is the first TH_LOGREC_FIXED_LEN_V1 bytes of version 2's,
 * req reads as 0, and it re-encodes (and hashes) in its own layout, so the
 * signatures in logs written before stay valid. */
#define TH_LOGREC_VERSION 2
#define TH_LOGREC_VERSION_MIN 1
#define TH_LOGREC_KEY_LEN 32
#define TH_LOGREC_SECKEY_LEN 64
#define TH_LOGREC_SIG_LEN 64
#define TH_LOGREC_HASH_LEN 32
/* Largest payload of any entry (the 64 KiB cap). */
#define TH_LOGREC_PAYLOAD_MAX 65536u
/* Fixed part of the canonical encoding (sum of the TH_ENTRY_FIELD widths). */
#define TH_LOGREC_FIXED_LEN 120u
/* Fixed part of a version-1 entry (no req): the shortest any body can be. */
#define TH_LOGREC_FIXED_LEN_V1 112u
#define TH_LOGREC_FIXED_LEN_MIN TH_LOGREC_FIXED_LEN_V1
/* Longest body of a record: fixed part, payload, signature. */
#define TH_LOGREC_BODY_MAX (TH_LOGREC_FIXED_LEN + TH_LOGREC_PAYLOAD_MAX + TH_LOGREC_SIG_LEN)
/* Most unsigned entries of one author before a signature must cover them. */
#define TH_LOGREC_UNSIGNED_RUN_MAX 16384u
/* Lamport counters stay below this so that +1 never wraps. */
#define TH_LOGREC_LAMPORT_MAX (UINT64_MAX / 2)

/* Record framing: 24-byte header, then the body (entry encoding, then the
 * 64-byte signature when TH_LOGREC_F_SIGNED).
 *   u32 magic "THR1"   u32 body length   u64 batch id   u8 kind (1 = entry)
 *   u8 flags           u16 zero          u32 CRC-32C of bytes 4..19 + body */
#define TH_LOGREC_FRAME_MAGIC 0x31524854u /* "THR1" little-endian */
#define TH_LOGREC_FRAME_LEN 24u
#define TH_LOGREC_KIND_ENTRY 1u
#define TH_LOGREC_F_BATCH_END 0x01u /* last record of its group-commit batch */
#define TH_LOGREC_F_SIGNED 0x02u    /* body ends with the author's signature */
#define TH_LOGREC_F_ALL (TH_LOGREC_F_BATCH_END | TH_LOGREC_F_SIGNED)
#define TH_LOGREC_RECORD_MAX (TH_LOGREC_FRAME_LEN + TH_LOGREC_BODY_MAX)

/* Why a record or entry is not acceptable. Stable: thetactl prints them. */
enum th_logrec_fault {
	TH_LR_OK = 0,
	TH_LR_TRUNCATED,     /* record runs past the end of the file */
	TH_LR_BAD_MAGIC,     /* no record header here */
	TH_LR_BAD_LENGTH,    /* body length out of range */
	TH_LR_BAD_CHECKSUM,  /* CRC-32C mismatch */
	TH_LR_BAD_FRAME,     /* unknown kind, flags or reserved bits */
	TH_LR_BAD_VERSION,   /* entry encoding version */
	TH_LR_BAD_FIELD,     /* a field out of range (seq 0, lamport, scope) */
	TH_LR_BAD_PAYLOAD,   /* payload length wrong or above its type's cap */
	TH_LR_UNKNOWN_TYPE,  /* command type not in the registry */
	TH_LR_BAD_SCOPE,     /* scope kind differs from the type's */
	TH_LR_BAD_SIGNATURE, /* signature does not verify with the author key */
	TH_LR_UNSIGNED,      /* no signature covers this entry */
	TH_LR_REPLAY,        /* sequence number at or below the author's last */
	TH_LR_SEQ_GAP,       /* sequence number skips ahead */
	TH_LR_BAD_CHAIN,     /* prev is not the hash of the author's previous entry */
	TH_LR_TAMPERED,      /* content differs from what the author's next signature covers */
	TH_LR_BAD_ORDER,     /* lamport not above the author's previous entry */
	TH_LR_BAD_BATCH,     /* batch ids out of sequence */
	TH_LR_INCOMPLETE,    /* final batch has no end marker (torn write) */
	TH_LR_BAD_SEGMENT,   /* segment header or segment sequence wrong */
	TH_LR_TOO_MANY_AUTHORS,
	TH_LR_FAULT_COUNT
};
const char *th_logrec_fault_str(int fault);

/* An entry; fields mirror TH_ENTRY_FIELD in commands.def. */
struct th_logrec_entry {
#define TH_ENTRY_FIELD(name, type, width, desc) th_##type name;
#include "commands.def"
#undef TH_ENTRY_FIELD
	const uint8_t *payload; /* payload_len bytes, not owned */
	bool has_sig;
	uint8_t sig[TH_LOGREC_SIG_LEN];
};

/* An Ed25519 key pair (libsodium layout: sk holds seed || pk). */
struct th_keypair {
	uint8_t pk[TH_LOGREC_KEY_LEN];
	uint8_t sk[TH_LOGREC_SECKEY_LEN];
};

/* Length of the fixed part in encoding `version` (the payload starts there). */
static inline size_t th_logrec_fixed_len(uint8_t version)
{
	return version == 1 ? TH_LOGREC_FIXED_LEN_V1 : TH_LOGREC_FIXED_LEN;
}
/* Canonical body length of e (fixed part + payload), without signature. */
static inline size_t th_logrec_body_len(const struct th_logrec_entry *e)
{
	return th_logrec_fixed_len(e->version) + e->payload_len;
}
/* Writes the canonical body into out; returns its length, -ENOBUFS if cap is
 * too small, -EMSGSIZE for a payload above TH_LOGREC_PAYLOAD_MAX. */
int th_logrec_encode(const struct th_logrec_entry *e, uint8_t *out, size_t cap);
/* Parses exactly len bytes of body (no signature) into e (payload points
 * into p). Checks the encoding and field ranges, and the registry (type
 * known, scope kind, payload cap). -EBADMSG with *why set on failure. */
int th_logrec_decode(const uint8_t *p, size_t len, struct th_logrec_entry *e, int *why);
/* The field and registry checks th_logrec_decode applies; 0 or a fault. */
int th_logrec_check_fields(const struct th_logrec_entry *e);

/* Entry hash over a canonical body. */
void th_logrec_hash(const uint8_t *body, size_t len, uint8_t out[TH_LOGREC_HASH_LEN]);
/* Hashes e's canonical body (fixed part and payload, streamed). */
int th_logrec_entry_hash(const struct th_logrec_entry *e, uint8_t out[TH_LOGREC_HASH_LEN]);
void th_logrec_sign(const uint8_t hash[TH_LOGREC_HASH_LEN], const uint8_t sk[TH_LOGREC_SECKEY_LEN],
		    uint8_t sig[TH_LOGREC_SIG_LEN]);
/* 0 when sig is pk's signature of hash, -EBADMSG otherwise. */
int th_logrec_verify(const uint8_t hash[TH_LOGREC_HASH_LEN], const uint8_t pk[TH_LOGREC_KEY_LEN],
		     const uint8_t sig[TH_LOGREC_SIG_LEN]);
/* A fresh random key pair, or one derived from a 32-byte seed. */
int th_keypair_generate(struct th_keypair *kp);
int th_keypair_from_seed(const uint8_t seed[32], struct th_keypair *kp);

/* Per-author chain state, as a verifier keeps it. */
struct th_logrec_chain {
	uint64_t seq;     /* last sequence number, 0 before the first entry */
	uint64_t lamport; /* lamport of the last entry */
	uint8_t head[TH_LOGREC_HASH_LEN]; /* hash of the last entry; zero at start */
};
/* 0 when e may follow c in its author's chain, else a fault (REPLAY,
 * SEQ_GAP, BAD_CHAIN, BAD_ORDER). */
int th_logrec_chain_check(const struct th_logrec_chain *c, const struct th_logrec_entry *e);
void th_logrec_chain_advance(struct th_logrec_chain *c, const struct th_logrec_entry *e,
			     const uint8_t hash[TH_LOGREC_HASH_LEN]);

/* Record framing. */
struct th_logrec_frame {
	uint32_t body_len;
	uint64_t batch;
	uint8_t kind;
	uint8_t flags;
};
/* Writes the 24-byte header for body (already in place or not; the CRC
 * covers it). */
void th_logrec_frame_put(uint8_t hdr[TH_LOGREC_FRAME_LEN], const struct th_logrec_frame *f,
			 const uint8_t *body);
/* Appends a whole record for entry e (signature appended when e->has_sig)
 * to out[cap]; returns its length or -ENOBUFS/-EMSGSIZE. */
int th_logrec_record_put(uint8_t *out, size_t cap, const struct th_logrec_entry *e, uint64_t batch,
			 uint8_t flags);
/* Parses the record at p (avail bytes to the end of the file): framing and
 * CRC only. Returns the record's total length, or -EBADMSG with *why. */
int th_logrec_frame_parse(const uint8_t *p, size_t avail, struct th_logrec_frame *f, int *why);
/* Framing, CRC and entry decoding (payload and sig point into p / are
 * copied into e). Returns the record length or -EBADMSG with *why. */
int th_logrec_record_decode(const uint8_t *p, size_t avail, struct th_logrec_frame *f,
			    struct th_logrec_entry *e, int *why);

/* Key fingerprint: "SHA256:" + unpadded standard base64 of SHA-256 over the
 * raw 32-byte public key (the look of OpenSSH's fingerprints). */
#define TH_KEY_FPR_LEN 51 /* 7 + 43 characters + NUL */
int th_key_fingerprint(const uint8_t pk[TH_LOGREC_KEY_LEN], char *out, size_t cap);
