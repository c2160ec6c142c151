#include "th_logrec.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"
#include "th_cmd.h"
#include "th_crc32c.h"

static const uint8_t th_lr_hash_domain[16] = "theta.entry.v1\0";

/* The fixed length is the sum of the field widths, and each width is its C
 * type's size: a commands.def edit that breaks either fails the build. */
#define TH_ENTRY_FIELD(name, type, width, desc) +(width)
enum {
	TH_LR_FIXED_SUM = 0
#include "commands.def"
};
#undef TH_ENTRY_FIELD
_Static_assert(TH_LR_FIXED_SUM == TH_LOGREC_FIXED_LEN, "TH_LOGREC_FIXED_LEN != sum of entry field widths");
/* Version 1 is version 2 without its last field (req, 8 bytes). */
_Static_assert(TH_LOGREC_FIXED_LEN_V1 + 8 == TH_LOGREC_FIXED_LEN, "version 1 is not a prefix of the encoding");
#define TH_ENTRY_FIELD(name, type, width, desc) \
	_Static_assert(sizeof(th_##type) == (width), "width of entry field " #name);
#include "commands.def"
#undef TH_ENTRY_FIELD

static const char *const th_lr_fault_text[TH_LR_FAULT_COUNT] = {
	[TH_LR_OK] = "ok",
	[TH_LR_TRUNCATED] = "truncated record",
	[TH_LR_BAD_MAGIC] = "bad record magic",
	[TH_LR_BAD_LENGTH] = "bad record length",
	[TH_LR_BAD_CHECKSUM] = "checksum mismatch",
	[TH_LR_BAD_FRAME] = "bad record kind or flags",
	[TH_LR_BAD_VERSION] = "unknown entry version",
	[TH_LR_BAD_FIELD] = "entry field out of range",
	[TH_LR_BAD_PAYLOAD] = "bad payload length",
	[TH_LR_UNKNOWN_TYPE] = "unknown command type",
	[TH_LR_BAD_SCOPE] = "scope does not match the command type",
	[TH_LR_BAD_SIGNATURE] = "bad signature",
	[TH_LR_UNSIGNED] = "entry not covered by a signature",
	[TH_LR_REPLAY] = "replayed sequence number",
	[TH_LR_SEQ_GAP] = "sequence number gap",
	[TH_LR_BAD_CHAIN] = "broken hash chain link",
	[TH_LR_TAMPERED] = "entry differs from what its author signed",
	[TH_LR_BAD_ORDER] = "lamport order violated",
	[TH_LR_BAD_BATCH] = "batch sequence broken",
	[TH_LR_INCOMPLETE] = "incomplete final batch (torn write)",
	[TH_LR_BAD_SEGMENT] = "bad segment header or sequence",
	[TH_LR_TOO_MANY_AUTHORS] = "too many authors",
};

const char *th_logrec_fault_str(int fault)
{
	if (fault < 0)
		fault = -fault;
	if (fault < TH_LR_FAULT_COUNT && th_lr_fault_text[fault])
		return th_lr_fault_text[fault];
	return "unknown fault";
}

/* Field codecs, chosen by the field's type through _Generic. */
static inline void th_lr_put_u8(uint8_t **p, const uint8_t *v) { *(*p)++ = *v; }
static inline void th_lr_put_u16(uint8_t **p, const uint16_t *v) { th_put_le16(*p, *v), *p += 2; }
static inline void th_lr_put_u32(uint8_t **p, const uint32_t *v) { th_put_le32(*p, *v), *p += 4; }
static inline void th_lr_put_u64(uint8_t **p, const uint64_t *v) { th_put_le64(*p, *v), *p += 8; }
static inline void th_lr_put_b32(uint8_t **p, const th_b32 *v) { memcpy(*p, *v, 32), *p += 32; }
static inline void th_lr_get_u8(const uint8_t **p, uint8_t *v) { *v = *(*p)++; }
static inline void th_lr_get_u16(const uint8_t **p, uint16_t *v) { *v = th_get_le16(*p), *p += 2; }
static inline void th_lr_get_u32(const uint8_t **p, uint32_t *v) { *v = th_get_le32(*p), *p += 4; }
static inline void th_lr_get_u64(const uint8_t **p, uint64_t *v) { *v = th_get_le64(*p), *p += 8; }
static inline void th_lr_get_b32(const uint8_t **p, th_b32 *v) { memcpy(*v, *p, 32), *p += 32; }

#define TH_LR_PUT(p, fp) \
	_Generic((fp), const uint8_t *: th_lr_put_u8, const uint16_t *: th_lr_put_u16, \
		 const uint32_t *: th_lr_put_u32, const uint64_t *: th_lr_put_u64, \
		 const th_b32 *: th_lr_put_b32)(p, fp)
#define TH_LR_GET(p, fp) \
	_Generic((fp), uint8_t *: th_lr_get_u8, uint16_t *: th_lr_get_u16, uint32_t *: th_lr_get_u32, \
		 uint64_t *: th_lr_get_u64, th_b32 *: th_lr_get_b32)(p, fp)

/* Writes all fields (TH_LOGREC_FIXED_LEN bytes); an older version's body
 * uses only its prefix, th_logrec_fixed_len(e->version). */
static void th_lr_put_fixed(const struct th_logrec_entry *e, uint8_t out[TH_LOGREC_FIXED_LEN])
{
	uint8_t *p = out;
#define TH_ENTRY_FIELD(name, type, width, desc) TH_LR_PUT(&p, &e->name);
#include "commands.def"
#undef TH_ENTRY_FIELD
}

int th_logrec_encode(const struct th_logrec_entry *e, uint8_t *out, size_t cap)
{
	uint8_t fixed[TH_LOGREC_FIXED_LEN];
	if (e->payload_len > TH_LOGREC_PAYLOAD_MAX)
		return -EMSGSIZE;
	size_t len = th_logrec_body_len(e), fl = th_logrec_fixed_len(e->version);
	if (cap < len)
		return -ENOBUFS;
	th_lr_put_fixed(e, fixed);
	memcpy(out, fixed, fl);
	if (e->payload_len)
		memcpy(out + fl, e->payload, e->payload_len);
	return (int)len;
}

static bool th_lr_zero32(const uint8_t *p)
{
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= p[i];
	return acc == 0;
}

int th_logrec_check_fields(const struct th_logrec_entry *e)
{
	if (e->version < TH_LOGREC_VERSION_MIN || e->version > TH_LOGREC_VERSION)
		return TH_LR_BAD_VERSION;
	/* Version 1 has no request id: one there could not be encoded. */
	if (e->version == 1 && e->req != 0)
		return TH_LR_BAD_FIELD;
	if (e->seq == 0 || e->lamport == 0 || e->lamport > TH_LOGREC_LAMPORT_MAX ||
	    e->scope_kind >= TH_SCOPE_COUNT)
		return TH_LR_BAD_FIELD;
	/* The first entry of a chain links to nothing; later ones to something. */
	if ((e->seq == 1) != th_lr_zero32(e->prev))
		return TH_LR_BAD_CHAIN;
	if (e->payload_len > TH_LOGREC_PAYLOAD_MAX)
		return TH_LR_BAD_PAYLOAD;
	const struct th_cmd_info *ci = th_cmd_find(e->type);
	if (!ci)
		return TH_LR_UNKNOWN_TYPE;
	if (ci->scope != e->scope_kind || (e->scope_kind == TH_SCOPE_GLOBAL && e->scope_id != 0))
		return TH_LR_BAD_SCOPE;
	if (e->payload_len > ci->max_payload)
		return TH_LR_BAD_PAYLOAD;
	return TH_LR_OK;
}

int th_logrec_decode(const uint8_t *p, size_t len, struct th_logrec_entry *out, int *why)
{
	struct th_logrec_entry e = { 0 };
	uint8_t fixed[TH_LOGREC_FIXED_LEN] = { 0 };
	const uint8_t *q = fixed;
	int f;

	if (len < TH_LOGREC_FIXED_LEN_MIN) {
		*why = TH_LR_BAD_LENGTH;
		return -EBADMSG;
	}
	/* The version says how long the fixed part is; fields an older
	 * version lacks read as 0 from the zeroed copy. */
	if (p[0] < TH_LOGREC_VERSION_MIN || p[0] > TH_LOGREC_VERSION) {
		*why = TH_LR_BAD_VERSION;
		return -EBADMSG;
	}
	size_t fl = th_logrec_fixed_len(p[0]);
	if (len < fl) {
		*why = TH_LR_BAD_LENGTH;
		return -EBADMSG;
	}
	memcpy(fixed, p, fl);
#define TH_ENTRY_FIELD(name, type, width, desc) TH_LR_GET(&q, &e.name);
#include "commands.def"
#undef TH_ENTRY_FIELD
	if (e.payload_len != len - fl) {
		*why = TH_LR_BAD_PAYLOAD;
		return -EBADMSG;
	}
	e.payload = e.payload_len ? p + fl : NULL;
	f = th_logrec_check_fields(&e);
	if (f) {
		*why = f;
		return -EBADMSG;
	}
	*out = e;
	return 0;
}

void th_logrec_hash(const uint8_t *body, size_t len, uint8_t out[TH_LOGREC_HASH_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, TH_LOGREC_HASH_LEN);
	crypto_generichash_update(&st, th_lr_hash_domain, sizeof(th_lr_hash_domain));
	crypto_generichash_update(&st, body, len);
	crypto_generichash_final(&st, out, TH_LOGREC_HASH_LEN);
}

int th_logrec_entry_hash(const struct th_logrec_entry *e, uint8_t out[TH_LOGREC_HASH_LEN])
{
	uint8_t fixed[TH_LOGREC_FIXED_LEN];
	crypto_generichash_state st;

	if (e->payload_len > TH_LOGREC_PAYLOAD_MAX)
		return -EMSGSIZE;
	/* Fixed part into a stack buffer, payload streamed: no copy of it. */
	th_lr_put_fixed(e, fixed);
	crypto_generichash_init(&st, NULL, 0, TH_LOGREC_HASH_LEN);
	crypto_generichash_update(&st, th_lr_hash_domain, sizeof(th_lr_hash_domain));
	crypto_generichash_update(&st, fixed, th_logrec_fixed_len(e->version));
	if (e->payload_len)
		crypto_generichash_update(&st, e->payload, e->payload_len);
	crypto_generichash_final(&st, out, TH_LOGREC_HASH_LEN);
	return 0;
}

int th_logrec_chain_check(const struct th_logrec_chain *c, const struct th_logrec_entry *e)
{
	if (e->seq <= c->seq)
		return TH_LR_REPLAY;
	if (e->seq != c->seq + 1)
		return TH_LR_SEQ_GAP;
	if (memcmp(e->prev, c->head, TH_LOGREC_HASH_LEN) != 0)
		return TH_LR_BAD_CHAIN;
	if (e->lamport <= c->lamport)
		return TH_LR_BAD_ORDER;
	return TH_LR_OK;
}

void th_logrec_chain_advance(struct th_logrec_chain *c, const struct th_logrec_entry *e,
			     const uint8_t hash[TH_LOGREC_HASH_LEN])
{
	c->seq = e->seq;
	c->lamport = e->lamport;
	memcpy(c->head, hash, TH_LOGREC_HASH_LEN);
}

static uint32_t th_lr_frame_crc(const uint8_t hdr[TH_LOGREC_FRAME_LEN], const uint8_t *body, size_t len)
{
	uint32_t crc = th_crc32c_update(0, hdr + 4, 16);
	return th_crc32c_update(crc, body, len);
}

void th_logrec_frame_put(uint8_t hdr[TH_LOGREC_FRAME_LEN], const struct th_logrec_frame *f,
			 const uint8_t *body)
{
	th_put_le32(hdr, TH_LOGREC_FRAME_MAGIC);
	th_put_le32(hdr + 4, f->body_len);
	th_put_le64(hdr + 8, f->batch);
	hdr[16] = f->kind;
	hdr[17] = f->flags;
	th_put_le16(hdr + 18, 0);
	th_put_le32(hdr + 20, th_lr_frame_crc(hdr, body, f->body_len));
}

int th_logrec_record_put(uint8_t *out, size_t cap, const struct th_logrec_entry *e, uint64_t batch,
			 uint8_t flags)
{
	size_t body = th_logrec_body_len(e) + (e->has_sig ? TH_LOGREC_SIG_LEN : 0);
	if (e->payload_len > TH_LOGREC_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (cap < TH_LOGREC_FRAME_LEN + body)
		return -ENOBUFS;
	int n = th_logrec_encode(e, out + TH_LOGREC_FRAME_LEN, cap - TH_LOGREC_FRAME_LEN);
	if (n < 0)
		return n;
	if (e->has_sig)
		memcpy(out + TH_LOGREC_FRAME_LEN + n, e->sig, TH_LOGREC_SIG_LEN);
	flags = (uint8_t)((flags & ~TH_LOGREC_F_SIGNED) | (e->has_sig ? TH_LOGREC_F_SIGNED : 0));
	struct th_logrec_frame f = {
		.body_len = (uint32_t)body, .batch = batch, .kind = TH_LOGREC_KIND_ENTRY, .flags = flags
	};
	th_logrec_frame_put(out, &f, out + TH_LOGREC_FRAME_LEN);
	return (int)(TH_LOGREC_FRAME_LEN + body);
}

int th_logrec_frame_parse(const uint8_t *p, size_t avail, struct th_logrec_frame *out, int *why)
{
	struct th_logrec_frame f;
	if (avail < TH_LOGREC_FRAME_LEN) {
		/* A short tail that is a prefix of a header reads as torn. */
		*why = TH_LR_TRUNCATED;
		return -EBADMSG;
	}
	if (th_get_le32(p) != TH_LOGREC_FRAME_MAGIC) {
		*why = TH_LR_BAD_MAGIC;
		return -EBADMSG;
	}
	f.body_len = th_get_le32(p + 4);
	f.batch = th_get_le64(p + 8);
	f.kind = p[16];
	f.flags = p[17];
	if (f.body_len < TH_LOGREC_FIXED_LEN_MIN || f.body_len > TH_LOGREC_BODY_MAX) {
		*why = TH_LR_BAD_LENGTH;
		return -EBADMSG;
	}
	if (f.body_len > avail - TH_LOGREC_FRAME_LEN) {
		*why = TH_LR_TRUNCATED;
		return -EBADMSG;
	}
	if (th_lr_frame_crc(p, p + TH_LOGREC_FRAME_LEN, f.body_len) != th_get_le32(p + 20)) {
		*why = TH_LR_BAD_CHECKSUM;
		return -EBADMSG;
	}
	/* Checked after the CRC: a torn record reads as a checksum failure. */
	if (f.kind != TH_LOGREC_KIND_ENTRY || (f.flags & ~TH_LOGREC_F_ALL) || th_get_le16(p + 18) != 0) {
		*why = TH_LR_BAD_FRAME;
		return -EBADMSG;
	}
	*out = f;
	return (int)(TH_LOGREC_FRAME_LEN + f.body_len);
}

int th_logrec_record_decode(const uint8_t *p, size_t avail, struct th_logrec_frame *fout,
			    struct th_logrec_entry *eout, int *why)
{
	struct th_logrec_frame f;
	struct th_logrec_entry e;
	int n = th_logrec_frame_parse(p, avail, &f, why);
	if (n < 0)
		return n;
	size_t body = f.body_len;
	bool sig = f.flags & TH_LOGREC_F_SIGNED;
	if (sig) {
		if (body < TH_LOGREC_FIXED_LEN_MIN + TH_LOGREC_SIG_LEN) {
			*why = TH_LR_BAD_LENGTH;
			return -EBADMSG;
		}
		body -= TH_LOGREC_SIG_LEN;
	}
	if (th_logrec_decode(p + TH_LOGREC_FRAME_LEN, body, &e, why) < 0)
		return -EBADMSG;
	e.has_sig = sig;
	if (sig)
		memcpy(e.sig, p + TH_LOGREC_FRAME_LEN + body, TH_LOGREC_SIG_LEN);
	*fout = f;
	*eout = e;
	return n;
}
