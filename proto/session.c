/* Session protocol messages, expanded from session_msgs.def: encoders,
 * validating decoders, names, descriptor tables and the protocol hash; by
 * hand only what a field kind cannot say: the rules (RULE(fn) in the def),
 * the signed-entry record of ENTRIES, the incremental ENTRIES builder,
 * HELLO signatures and stream reassembly. See session.h. */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pres.h"
#include "th_hash.h"
#include "th_logrec.h"
#include "th_schema.h"

/* Every def macro off; each section below turns on the ones it expands. */
#define SESS_CONST(NAME, value)
#define SESS_ERR(code, NAME, text)
#define SESS_ASSET_ERR(code, NAME, text)
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
#define SESS_ITEM(iname, RULE, FIELDS)
#define SESS_RECORD(rname, sname, RULE, FIELDS)
#define SESS_DGRAM(kind, NAME, FIELDS)

/* Type ids unique and dense from 1, error and asset-error codes dense (the
 * _MAX_ enums in session.h count them). */
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) \
	case (id): { _Static_assert((id) >= 1 && (id) <= PROTO_SESS_T_MAX_, "type id of " #NAME " not dense"); } break;
#undef SESS_ERR
#define SESS_ERR(code, NAME, text) \
	case 0x10000 + (code): { _Static_assert((code) == 0 || ((code) > 0x100 && (code) <= PROTO_SESS_ERR_MAX_), #NAME); } break;
#undef SESS_ASSET_ERR
#define SESS_ASSET_ERR(code, NAME, text) \
	case 0x20000 + (code): { _Static_assert((code) >= 1 && (code) <= PROTO_SESS_ASSET_E_MAX_, #NAME); } break;
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS) case 0x30000 + (kind): break;
static inline void codes_unique(int t)
{
	switch (t) {
#include "session_msgs.def"
	}
}
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
#undef SESS_ERR
#define SESS_ERR(code, NAME, text)
#undef SESS_ASSET_ERR
#define SESS_ASSET_ERR(code, NAME, text)
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS)

/* ---- names ----------------------------------------------------------------- */

const char *proto_sess_err_text(uint64_t code)
{
	(void)codes_unique;
	switch (code) {
#undef SESS_ERR
#define SESS_ERR(code_, NAME, text) case (code_): return text;
#include "session_msgs.def"
#undef SESS_ERR
#define SESS_ERR(code, NAME, text)
	}
	return "The connection was closed with an unknown error code.";
}

const char *proto_sess_asset_err_name(unsigned code)
{
	switch (code) {
#undef SESS_ASSET_ERR
#define SESS_ASSET_ERR(code_, NAME, text) case (code_): return text;
#include "session_msgs.def"
#undef SESS_ASSET_ERR
#define SESS_ASSET_ERR(code, NAME, text)
	}
	return "unknown error";
}

const char *proto_sess_type_name(uint16_t type)
{
	const struct proto_sess_desc *d = proto_sess_desc(type);
	return d ? d->name : "?";
}

static const char *const role_names[] = { "unknown", "viewer", "editor", "admin" };
_Static_assert(PROTO_SESS_ROLE_ADMIN == 3 && PROTO_SESS_ROLE_VIEWER == 1, "role names");

const char *proto_sess_role_name(unsigned role)
{
	return role <= PROTO_SESS_ROLE_ADMIN ? role_names[role] : role_names[0];
}

int proto_sess_role_parse(const char *s)
{
	for (int r = PROTO_SESS_ROLE_VIEWER; r <= PROTO_SESS_ROLE_ADMIN; r++)
		if (!strcmp(s, role_names[r]))
			return r;
	return -EINVAL;
}

/* ---- field checks ------------------------------------------------------------- */

enum { CH_BYTES, CH_TEXT, CH_PRINTABLE, CH_NAME };
#define CHARS_BYTES CH_BYTES
#define CHARS_TEXT CH_TEXT
#define CHARS_PRINTABLE CH_PRINTABLE
#define CHARS_NAME CH_NAME

static bool chars_ok(const uint8_t *p, size_t n, int cls)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if ((cls == CH_TEXT && c == 0) || (cls == CH_PRINTABLE && (c < 0x20 || c > 0x7e)) ||
		    (cls == CH_NAME && (c < 0x20 || c == 0x7f)))
			return false;
	}
	return true;
}

/* A function, so that a bound of 0 draws no "always true" warning. */
static bool in_range(unsigned long long v, unsigned long long lo, unsigned long long hi)
{
	return v >= lo && v <= hi;
}

bool proto_sess_asset_name_ok(const uint8_t *name, size_t len)
{
	return name && in_range(len, 1, PROTO_SESS_ASSET_NAME_MAX) && chars_ok(name, len, CH_NAME);
}

/* ---- item parsers (S_ITEMS) -------------------------------------------------------- */

/* One ENTRIES record at r: validates and (when e) decodes it. */
static int entries_rec(struct th_rbuf *r, struct th_logrec_entry *e)
{
	uint32_t blen;
	const uint8_t *body, *sig = NULL;
	uint8_t sflag;
	struct th_logrec_entry tmp;
	int why;
	if (th_rbuf_u32(r, &blen) < 0 || blen < TH_LOGREC_FIXED_LEN_MIN || blen > TH_LOGREC_FIXED_LEN + TH_LOGREC_PAYLOAD_MAX ||
	    th_rbuf_view(r, &body, blen) < 0 || th_rbuf_u8(r, &sflag) < 0 || sflag > 1)
		return -EBADMSG;
	if (sflag && th_rbuf_view(r, &sig, TH_LOGREC_SIG_LEN) < 0)
		return -EBADMSG;
	if (!e)
		e = &tmp;
	if (th_logrec_decode(body, blen, e, &why) < 0)
		return -EBADMSG;
	e->has_sig = sflag;
	if (sig)
		memcpy(e->sig, sig, TH_LOGREC_SIG_LEN);
	return 0;
}

static int item_entries_rec(struct th_rbuf *r, const char **why)
{
	if (entries_rec(r, NULL) == 0)
		return 0;
	if (why)
		*why = "recs: not a valid signed log entry";
	return -EBADMSG;
}

/* Body decoders (generated below), for the item parsers. */
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)                                         \
	static int dec_##sname(struct th_rbuf *r, struct proto_sess_##sname *m, const char **why);    \
	__attribute__((unused)) static int item_##sname(struct th_rbuf *r, const char **why)          \
	{                                                                                              \
		struct proto_sess_##sname tmp;                                                         \
		return dec_##sname(r, &tmp, why) == 0 ? 0 : -EBADMSG;                                  \
	}
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE, FIELDS) SESS_MSG(0, iname, iname, iname, 0, RULE, FIELDS)
#include "session_msgs.def"
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE, FIELDS)

/* count records of item at p[0..len): exactly. */
static bool items_ok(const uint8_t *p, size_t len, unsigned long long count,
		     int (*item)(struct th_rbuf *r, const char **why))
{
	struct th_rbuf r;
	if (len && !p)
		return false;
	th_rbuf_init(&r, p, len);
	for (unsigned long long i = 0; i < count; i++)
		if (item(&r, NULL) < 0)
			return false;
	return th_rbuf_left(&r) == 0;
}

/* ---- rules (RULE(fn) in the def) -------------------------------------------------- */

static const char *sess_sync_ordered(const struct proto_sess_sync *m)
{
	for (uint32_t i = 1; i < m->n; i++)
		if (memcmp(m->items + (size_t)(i - 1) * PROTO_SESS_SYNC_ITEM, m->items + (size_t)i * PROTO_SESS_SYNC_ITEM,
			   PROTO_SESS_KEY_LEN) >= 0)
			return "items: authors not strictly increasing";
	return NULL;
}

static const char *sess_chunk_inside(const struct proto_sess_asset_chunk *c)
{
	return c->offset + c->len > PROTO_SESS_ASSET_MAX_SIZE ? "data: past the largest asset" : NULL;
}

static const char *sess_snap_offer_ok(const struct proto_sess_snap_offer *o)
{
	if (o->flags & PROTO_SESS_SNAP_F_HAS)
		return o->size ? NULL : "size: an offered checkpoint has bytes";
	static const uint8_t zero[PROTO_SESS_SIG_LEN];
	if (o->size || o->next_pos || memcmp(o->world_hash, zero, sizeof(o->world_hash)) ||
	    memcmp(o->set_digest, zero, sizeof(o->set_digest)) || memcmp(o->snap_hash, zero, sizeof(o->snap_hash)) ||
	    memcmp(o->sig, zero, sizeof(o->sig)))
		return "flags: an offer without a checkpoint carries no checkpoint fields";
	return NULL;
}

static const char *sess_snap_chunk_inside(const struct proto_sess_snap_chunk *c)
{
	return c->offset + c->len > PROTO_SESS_SNAP_MAX_SIZE ? "data: past the largest snapshot" : NULL;
}

static const char *sess_admin_req_ok(const struct proto_sess_admin_req *a)
{
	static const uint8_t zero[PROTO_SESS_KEY_LEN];
	bool speaker = memcmp(a->speaker, zero, sizeof(zero)) != 0;
	if (a->op == PROTO_SESS_ADMIN_MUTE || a->op == PROTO_SESS_ADMIN_UNMUTE) {
		if (a->role)
			return "role: must be 0 for a mute";
		if (speaker && a->peer_id)
			return "speaker: a mute names a speaker key or a peer id, not both";
		return speaker || a->peer_id ? NULL : "speaker: a mute names a speaker key or a peer id (neither is set)";
	}
	if (speaker)
		return "speaker: only a mute names a speaker";
	if (a->op == PROTO_SESS_ADMIN_KICK)
		return a->role == 0 ? NULL : "role: must be 0 for a kick";
	return a->role >= PROTO_SESS_ROLE_VIEWER ? NULL : "role: a role change needs a role";
}

static const char *sess_admin_result_ok(const struct proto_sess_admin_result *a)
{
	return a->code == 0 || in_range(a->code, PROTO_SESS_ERR_WRONG_FINGERPRINT, PROTO_SESS_ERR_MAX_)
		       ? NULL
		       : "code: not a session error code";
}

/* ---- encoders: enc_<sname>(), enc_rec_<rname>(), enc_dg_<NAME>() ----------------
 * Each field checks its value (goto bad) and appends it; the rule runs
 * last, over fields already known to be well formed. */

#define S_U8(n) th_wbuf_u8(w, m->n);
#define S_U16(n) th_wbuf_u16(w, m->n);
#define S_U32(n) th_wbuf_u32(w, m->n);
#define S_U64(n) th_wbuf_u64(w, m->n);
#define S_VERSION(n) th_wbuf_u16(w, m->n);
#define S_RANGE_(n, lo, hi, put)            \
	if (!in_range(m->n, (lo), (hi)))    \
		goto bad;                   \
	put(w, m->n);
#define S_RANGE8(n, lo, hi) S_RANGE_(n, lo, hi, th_wbuf_u8)
#define S_RANGE16(n, lo, hi) S_RANGE_(n, lo, hi, th_wbuf_u16)
#define S_RANGE32(n, lo, hi) S_RANGE_(n, lo, hi, th_wbuf_u32)
#define S_RANGE64(n, lo, hi) S_RANGE_(n, lo, hi, th_wbuf_u64)
#define S_MASK8(n, mask)                         \
	if (m->n & ~(unsigned long long)(mask))  \
		goto bad;                        \
	th_wbuf_u8(w, m->n);
#define S_MASK32(n, mask)                        \
	if (m->n & ~(unsigned long long)(mask))  \
		goto bad;                        \
	th_wbuf_u32(w, m->n);
#define S_BYTES(n, len) th_wbuf_put(w, m->n, (len));
#define S_F32S(n, count)                    \
	if (!th_f32s_finite(m->n, (count))) \
		goto bad;                   \
	th_wbuf_f32s(w, m->n, (count));
#define S_STR16(n, max, chars)                                                           \
	{                                                                                \
		size_t l_ = strnlen(m->n, sizeof m->n);                                  \
		if (l_ > (max) || !chars_ok((const uint8_t *)m->n, l_, CHARS_##chars))   \
			goto bad;                                                        \
		th_wbuf_u16(w, (uint16_t)l_);                                            \
		th_wbuf_put(w, m->n, l_);                                                \
	}
#define S_VIEW16(n, len, lo, hi, chars)                                                          \
	if (!in_range(m->len, (lo), (hi)) || (m->len && !m->n) || !chars_ok(m->n, m->len, CHARS_##chars)) \
		goto bad;                                                                        \
	th_wbuf_u16(w, m->len);                                                                  \
	th_wbuf_put(w, m->n, m->len);
#define S_VIEW32(n, len, lo, hi)                                         \
	if (!in_range(m->len, (lo), (hi)) || (m->len && !m->n))          \
		goto bad;                                                \
	th_wbuf_u32(w, m->len);                                          \
	th_wbuf_put(w, m->n, m->len);
#define S_ITEMS(n, len, count, ITEM)                                     \
	if (!items_ok(m->n, m->len, m->count, item_##ITEM))              \
		goto bad;                                                \
	th_wbuf_put(w, m->n, m->len);
#define NO_RULE
#define RULE(fn)          \
	if (fn(m))        \
		goto bad;
#define ENC_BODY(fname, S, RULE_, FIELDS)                                \
	static int fname(const S *m, struct th_wbuf *w)                  \
	{                                                                \
		size_t start_ = w->len;                                  \
		FIELDS                                                   \
		RULE_                                                    \
		return 0;                                                \
		goto bad;                                                \
	bad:                                                             \
		w->len = start_;                                         \
		return -EINVAL;                                          \
	}
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE_, FIELDS) ENC_BODY(enc_##sname, struct proto_sess_##sname, RULE_, FIELDS)
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE_, FIELDS) ENC_BODY(enc_##iname, struct proto_sess_##iname, RULE_, FIELDS)
#undef SESS_RECORD
#define SESS_RECORD(rname, sname, RULE_, FIELDS) ENC_BODY(enc_rec_##rname, struct proto_sess_##sname, RULE_, FIELDS)
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS) ENC_BODY(enc_dg_##NAME, struct proto_sess_dgram, NO_RULE, FIELDS)
#include "session_msgs.def"
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE, FIELDS)
#undef SESS_RECORD
#define SESS_RECORD(rname, sname, RULE, FIELDS)
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS)
#undef ENC_BODY
#undef S_U8
#undef S_U16
#undef S_U32
#undef S_U64
#undef S_VERSION
#undef S_RANGE_
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
#undef RULE

/* ---- decoders: dec_<sname>(), dec_rec_<rname>(), dec_dg_<NAME>() ----------------
 * They fill *m as they go; callers decode into a private copy. */

#define FAIL(text)                     \
	do {                           \
		if (why)               \
			*why = (text); \
		return -EBADMSG;       \
	} while (0)

#define S_INT_(n, T, get)                    \
	{                                    \
		T v_;                        \
		if (get(r, &v_) < 0)         \
			FAIL(#n ": truncated"); \
		m->n = v_;                   \
	}
#define S_U8(n) S_INT_(n, uint8_t, th_rbuf_u8)
#define S_U16(n) S_INT_(n, uint16_t, th_rbuf_u16)
#define S_U32(n) S_INT_(n, uint32_t, th_rbuf_u32)
#define S_U64(n) S_INT_(n, uint64_t, th_rbuf_u64)
#define S_VERSION(n)                                 \
	if (th_rbuf_u16(r, &m->n) < 0)               \
		FAIL(#n ": truncated");              \
	if (m->n != PROTO_SESS_VERSION) {            \
		if (why)                             \
			*why = #n ": not ours";      \
		return -EPROTONOSUPPORT;             \
	}
#define S_RANGE_(n, lo, hi, T, get)                          \
	{                                                    \
		T v_;                                        \
		if (get(r, &v_) < 0)                         \
			FAIL(#n ": truncated");              \
		if (!in_range(v_, (lo), (hi)))               \
			FAIL(#n ": value out of range");     \
		m->n = v_;                                   \
	}
#define S_RANGE8(n, lo, hi) S_RANGE_(n, lo, hi, uint8_t, th_rbuf_u8)
#define S_RANGE16(n, lo, hi) S_RANGE_(n, lo, hi, uint16_t, th_rbuf_u16)
#define S_RANGE32(n, lo, hi) S_RANGE_(n, lo, hi, uint32_t, th_rbuf_u32)
#define S_RANGE64(n, lo, hi) S_RANGE_(n, lo, hi, uint64_t, th_rbuf_u64)
#define S_MASK_(n, mask, T, get)                               \
	{                                                      \
		T v_;                                          \
		if (get(r, &v_) < 0)                           \
			FAIL(#n ": truncated");                \
		if (v_ & ~(unsigned long long)(mask))          \
			FAIL(#n ": unknown flag bits");        \
		m->n = v_;                                     \
	}
#define S_MASK8(n, mask) S_MASK_(n, mask, uint8_t, th_rbuf_u8)
#define S_MASK32(n, mask) S_MASK_(n, mask, uint32_t, th_rbuf_u32)
#define S_BYTES(n, len)                               \
	if (th_rbuf_bytes(r, m->n, (len)) < 0)        \
		FAIL(#n ": truncated");
#define S_F32S(n, count)                          \
	if (th_rbuf_f32s(r, m->n, (count)) < 0)   \
		FAIL(#n ": truncated");           \
	if (!th_f32s_finite(m->n, (count)))       \
		FAIL(#n ": not a finite number");
#define S_STR16(n, max, chars)                                                            \
	{                                                                                 \
		uint16_t l_;                                                              \
		const uint8_t *p_;                                                        \
		if (th_rbuf_u16(r, &l_) < 0)                                              \
			FAIL(#n ": truncated");                                           \
		if (l_ > (max))                                                           \
			FAIL(#n ": too long");                                            \
		if (th_rbuf_view(r, &p_, l_) < 0)                                         \
			FAIL(#n ": truncated");                                           \
		if (memchr(p_, 0, l_) || !chars_ok(p_, l_, CHARS_##chars))                \
			FAIL(#n ": a byte outside its character class");                  \
		memcpy(m->n, p_, l_);                                                     \
		m->n[l_] = 0;                                                             \
	}
#define S_VIEW_(n, len, lo, hi, chars, get)                                 \
	if (get(r, &m->len) < 0)                                            \
		FAIL(#n ": truncated");                                     \
	if (!in_range(m->len, (lo), (hi)))                                  \
		FAIL(#n ": length out of range");                           \
	m->n = NULL;                                                        \
	if (m->len && th_rbuf_view(r, &m->n, m->len) < 0)                   \
		FAIL(#n ": truncated");                                     \
	if (!chars_ok(m->n, m->len, chars))                                 \
		FAIL(#n ": a byte outside its character class");
#define S_VIEW16(n, len, lo, hi, chars) S_VIEW_(n, len, lo, hi, CHARS_##chars, th_rbuf_u16)
#define S_VIEW32(n, len, lo, hi) S_VIEW_(n, len, lo, hi, CH_BYTES, th_rbuf_u32)
#define S_ITEMS(n, len, count, ITEM)                                        \
	{                                                                   \
		size_t start_ = r->off;                                     \
		m->n = m->count ? r->p + r->off : NULL;                     \
		for (unsigned long long i_ = 0; i_ < m->count; i_++)        \
			if (item_##ITEM(r, why) < 0)                        \
				return -EBADMSG;                            \
		m->len = r->off - start_;                                   \
	}
#define RULE(fn)                                \
	{                                       \
		const char *r_ = fn(m);         \
		if (r_)                         \
			FAIL(r_);               \
	}
#define DEC_BODY(fname, S, RULE_, FIELDS)                                        \
	static int fname(struct th_rbuf *r, S *m, const char **why)              \
	{                                                                        \
		FIELDS                                                           \
		RULE_                                                            \
		return 0;                                                        \
	}
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE_, FIELDS) DEC_BODY(dec_##sname, struct proto_sess_##sname, RULE_, FIELDS)
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE_, FIELDS) DEC_BODY(dec_##iname, struct proto_sess_##iname, RULE_, FIELDS)
#undef SESS_RECORD
#define SESS_RECORD(rname, sname, RULE_, FIELDS) DEC_BODY(dec_rec_##rname, struct proto_sess_##sname, RULE_, FIELDS)
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS) DEC_BODY(dec_dg_##NAME, struct proto_sess_dgram, NO_RULE, FIELDS)
#include "session_msgs.def"
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
#undef SESS_ITEM
#define SESS_ITEM(iname, RULE, FIELDS)
#undef SESS_RECORD
#define SESS_RECORD(rname, sname, RULE, FIELDS)
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS)
#undef DEC_BODY
#undef S_INT_
#undef S_U8
#undef S_U16
#undef S_U32
#undef S_U64
#undef S_VERSION
#undef S_RANGE_
#undef S_RANGE8
#undef S_RANGE16
#undef S_RANGE32
#undef S_RANGE64
#undef S_MASK_
#undef S_MASK8
#undef S_MASK32
#undef S_BYTES
#undef S_F32S
#undef S_STR16
#undef S_VIEW_
#undef S_VIEW16
#undef S_VIEW32
#undef S_ITEMS
#undef RULE

/* ---- field tables and descriptors -------------------------------------------------- */

#define F_(kind, n, len_off, wire, lo, hi) { PROTO_SESS_F_##kind, #n, offsetof(S, n), (len_off), (wire), (lo), (hi) },
#define S_U8(n) F_(U8, n, 0, 1, 0, UINT8_MAX)
#define S_U16(n) F_(U16, n, 0, 2, 0, UINT16_MAX)
#define S_U32(n) F_(U32, n, 0, 4, 0, UINT32_MAX)
#define S_U64(n) F_(U64, n, 0, 8, 0, UINT64_MAX)
#define S_VERSION(n) F_(VERSION, n, 0, 2, PROTO_SESS_VERSION, PROTO_SESS_VERSION)
#define S_RANGE8(n, lo, hi) F_(RANGE8, n, 0, 1, lo, hi)
#define S_RANGE16(n, lo, hi) F_(RANGE16, n, 0, 2, lo, hi)
#define S_RANGE32(n, lo, hi) F_(RANGE32, n, 0, 4, lo, hi)
#define S_RANGE64(n, lo, hi) F_(RANGE64, n, 0, 8, lo, hi)
#define S_MASK8(n, mask) F_(MASK8, n, 0, 1, 0, mask)
#define S_MASK32(n, mask) F_(MASK32, n, 0, 4, 0, mask)
#define S_BYTES(n, len) F_(BYTES, n, 0, len, len, len)
#define S_F32S(n, count) F_(F32S, n, 0, 4 * (count), count, count)
#define S_STR16(n, max, chars) F_(STR16, n, 0, 0, 0, max)
#define S_VIEW16(n, len, lo, hi, chars) F_(VIEW16, n, offsetof(S, len), 0, lo, hi)
#define S_VIEW32(n, len, lo, hi) F_(VIEW32, n, offsetof(S, len), 0, lo, hi)
#define S_ITEMS(n, len, count, ITEM) F_(ITEMS, n, offsetof(S, len), 0, 0, 0)
/* offsetof needs the struct in scope: each table lives in its own function. */
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)                       \
	static const struct proto_sess_field *fields_##sname(size_t *n)              \
	{                                                                            \
		typedef struct proto_sess_##sname S;                                 \
		static const struct proto_sess_field f[] = { FIELDS };               \
		*n = sizeof f / sizeof f[0];                                         \
		return f;                                                            \
	}
#include "session_msgs.def"
#undef SESS_MSG
#undef F_
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

/* Parameter names must not collide with the member designators. */
#define SESS_MSG(id_, NAME_, sname_, uname_, STREAM_, RULE_, FIELDS_)                          \
	{ .type = (id_), .name = #NAME_, .stream = PROTO_SESS_STREAM_##STREAM_,                \
	  .struct_size = sizeof(struct proto_sess_##sname_), .fields = fields_##sname_ },
const struct proto_sess_desc proto_sess_descs[] = {
#include "session_msgs.def"
};
#undef SESS_MSG
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
const size_t proto_sess_n_descs = sizeof proto_sess_descs / sizeof proto_sess_descs[0];

const struct proto_sess_desc *proto_sess_desc(uint16_t type)
{
	for (size_t i = 0; i < proto_sess_n_descs; i++)
		if (proto_sess_descs[i].type == type)
			return &proto_sess_descs[i];
	return NULL;
}

int proto_sess_check_stream(uint16_t type, enum proto_sess_stream stream)
{
	const struct proto_sess_desc *d = proto_sess_desc(type);
	return d && d->stream == stream ? 0 : -EPROTO;
}

/* ---- canonical text and hashes -------------------------------------------------------- */

#undef SESS_CONST
#undef SESS_ERR
#undef SESS_ASSET_ERR
#undef SESS_MSG
#undef SESS_ITEM
#undef SESS_RECORD
#undef SESS_DGRAM
/* Sentences and C names (sname, uname) are not wire format: left out. */
#define SESS_CONST(NAME, value) "const " #NAME " " #value "\n"
#define SESS_ERR(code, NAME, text) "err " #code " " #NAME "\n"
#define SESS_ASSET_ERR(code, NAME, text) "asset-err " #code " " #NAME "\n"
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) \
	"msg " #id " " #NAME " " #STREAM " " #RULE " " #FIELDS "\n"
#define SESS_ITEM(iname, RULE, FIELDS) "item " #iname " " #RULE " " #FIELDS "\n"
#define SESS_RECORD(rname, sname, RULE, FIELDS) "record " #rname " " #sname " " #RULE " " #FIELDS "\n"
#define SESS_DGRAM(kind, NAME, FIELDS) "dgram " #kind " " #NAME " " #FIELDS "\n"
static const char canonical_text[] =
	"theta-session\n"
	"frame u32-length u16-type fields\n"
	"entries_rec u32-body_len th_logrec-body u8-signed sig[64]-if-signed\n"
	"hello-sig ed25519 \"" PROTO_SESS_HELLO_CONTEXT "\" NUL binding[32] payload-without-sig\n"
#include "session_msgs.def"
	;
#undef SESS_CONST
#undef SESS_ERR
#undef SESS_ASSET_ERR
#undef SESS_MSG
#undef SESS_ITEM
#undef SESS_RECORD
#undef SESS_DGRAM

const char *proto_sess_canonical_text(void)
{
	return canonical_text;
}

uint64_t proto_sess_hash(void)
{
	return th_siphash(canonical_text, sizeof canonical_text - 1);
}

uint64_t proto_sess_handshake_hash(void)
{
	uint8_t b[24];
	th_put_le64(b, th_schema_hash());
	th_put_le64(b + 8, proto_sess_hash());
	th_put_le64(b + 16, proto_pres_dict_hash()); /* presence frames are compressed with it */
	return th_siphash(b, sizeof b);
}

/* ---- messages: frames ------------------------------------------------------------------- */

#define SESS_CONST(NAME, value)
#define SESS_ERR(code, NAME, text)
#define SESS_ASSET_ERR(code, NAME, text)
#define SESS_ITEM(iname, RULE, FIELDS)
#define SESS_RECORD(rname, sname, RULE, FIELDS)

static int encode_payload(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	switch (m->type) {
#define SESS_DGRAM(kind, NAME, FIELDS)
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) \
	case (id): th_wbuf_u16(w, (id)); return enc_##sname(&m->u.uname, w);
#include "session_msgs.def"
#undef SESS_MSG
	}
	return -EINVAL;
}

int proto_sess_encode(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	size_t start = w->len;
	uint8_t *hdr = th_wbuf_extend(w, PROTO_SESS_FRAME_HDR);
	if (!hdr)
		return th_wbuf_error(w);
	int rv = encode_payload(m, w);
	if (rv < 0) {
		w->len = start;
		return rv;
	}
	rv = th_wbuf_error(w);
	if (rv < 0)
		return rv;
	size_t plen = w->len - start - PROTO_SESS_FRAME_HDR;
	if (plen > PROTO_SESS_MAX_FRAME) {
		w->len = start;
		return -EMSGSIZE;
	}
	th_put_le32(w->data + start, (uint32_t)plen);
	return 0;
}

int proto_sess_hello_version(const uint8_t *p, size_t len)
{
	if (len < 4 || th_get_le16(p) != PROTO_SESS_T_HELLO)
		return -EBADMSG;
	return th_get_le16(p + 2);
}

int proto_sess_decode_why(const uint8_t *p, size_t len, struct proto_sess_msg *out, const char **why)
{
	struct th_rbuf r;
	struct proto_sess_msg m;
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = "truncated type";
	if (len > PROTO_SESS_MAX_FRAME) {
		*why = "frame too large";
		return -EBADMSG;
	}
	memset(&m, 0, sizeof m);
	th_rbuf_init(&r, p, len);
	if (th_rbuf_u16(&r, &m.type) < 0)
		return -EBADMSG;
	int rv;
	switch (m.type) {
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) \
	case (id): rv = dec_##sname(&r, &m.u.uname, why); break;
#include "session_msgs.def"
#undef SESS_MSG
	default:
		*why = "unknown message type";
		return -ENOMSG;
	}
	if (rv < 0)
		return rv;
	if (th_rbuf_left(&r)) {
		*why = "trailing bytes after the last field";
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

int proto_sess_decode(const uint8_t *p, size_t len, struct proto_sess_msg *out)
{
	return proto_sess_decode_why(p, len, out, NULL);
}

/* ---- the IPC EVENT_REJECTED payload ---------------------------------------------------- */

int proto_sess_rejected_event_encode(const struct proto_sess_rejected *r, uint8_t *out, size_t cap)
{
	struct th_wbuf w;
	th_wbuf_init_fixed(&w, out, cap);
	int rv = enc_rec_rejected_event(r, &w);
	if (rv == 0)
		rv = th_wbuf_error(&w);
	return rv == -EMSGSIZE ? -ENOSPC : rv < 0 ? rv : (int)w.len;
}

int proto_sess_rejected_event_decode(const uint8_t *p, size_t len, struct proto_sess_rejected *out)
{
	struct proto_sess_rejected m;
	struct th_rbuf r;
	memset(&m, 0, sizeof m);
	th_rbuf_init(&r, p, len);
	if (dec_rec_rejected_event(&r, &m, NULL) < 0 || th_rbuf_left(&r))
		return -EBADMSG;
	*out = m;
	return 0;
}

/* ---- datagrams ------------------------------------------------------------------------- */

int proto_sess_dgram_encode(const struct proto_sess_dgram *d, uint8_t *out, size_t cap)
{
	struct th_wbuf w;
	int rv;
	th_wbuf_init_fixed(&w, out, cap);
	th_wbuf_u8(&w, d->kind);
	switch (d->kind) {
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS)
#undef SESS_DGRAM
#define SESS_DGRAM(kind, NAME, FIELDS) case (kind): rv = enc_dg_##NAME(d, &w); break;
#include "session_msgs.def"
#undef SESS_DGRAM
	default:
		rv = -EINVAL;
	}
	if (rv == 0)
		rv = th_wbuf_error(&w) < 0 ? -EINVAL : (int)w.len;
	return rv;
}

int proto_sess_dgram_decode(const uint8_t *p, size_t len, struct proto_sess_dgram *out)
{
	struct th_rbuf r;
	struct proto_sess_dgram d;
	int rv;
	memset(&d, 0, sizeof d);
	th_rbuf_init(&r, p, len);
	if (th_rbuf_u8(&r, &d.kind) < 0)
		return -EBADMSG;
	switch (d.kind) {
#define SESS_DGRAM(kind, NAME, FIELDS) case (kind): rv = dec_dg_##NAME(&r, &d, NULL); break;
#include "session_msgs.def"
#undef SESS_DGRAM
#undef SESS_MSG
#undef SESS_CONST
#undef SESS_ERR
#undef SESS_ASSET_ERR
#undef SESS_ITEM
#undef SESS_RECORD
	default:
		return -EBADMSG;
	}
	if (rv < 0 || th_rbuf_left(&r))
		return -EBADMSG;
	*out = d;
	return 0;
}

/* ---- SYNC and asset lists: built from their items' encoders --------------------------- */

void proto_sess_sync_item(const struct proto_sess_sync *m, uint32_t i, struct proto_sess_sync_head *out)
{
	struct th_rbuf r;
	th_rbuf_init(&r, m->items + (size_t)i * PROTO_SESS_SYNC_ITEM, PROTO_SESS_SYNC_ITEM);
	memset(out, 0, sizeof *out);
	(void)dec_sync_head(&r, out, NULL); /* validated when the message was decoded */
}

/* Appends the frame of a message whose item list is in items. */
static int encode_list(struct th_wbuf *w, struct proto_sess_msg *m)
{
	int rv = proto_sess_encode(m, w);
	return rv == -EMSGSIZE ? -E2BIG : rv;
}

int proto_sess_sync_encode(struct th_wbuf *w, const struct proto_sess_sync_head *heads, uint32_t n)
{
	if (n > PROTO_SESS_SYNC_MAX)
		return -E2BIG;
	struct th_wbuf items;
	int rv = 0;
	th_wbuf_init(&items, 0);
	for (uint32_t i = 0; i < n && rv == 0; i++)
		rv = enc_sync_head(&heads[i], &items);
	if (rv == 0)
		rv = th_wbuf_error(&items);
	if (rv == 0) {
		struct proto_sess_msg m = { .type = PROTO_SESS_T_SYNC,
					    .u.sync = { .n = n, .items = items.data, .items_len = items.len } };
		rv = encode_list(w, &m);
	}
	th_wbuf_fini(&items);
	return rv;
}

int proto_sess_asset_list_encode(struct th_wbuf *w, const struct proto_sess_asset_info *items, uint16_t n)
{
	if (n > PROTO_SESS_ASSET_LIST_MAX)
		return -E2BIG;
	struct th_wbuf b;
	int rv = 0;
	th_wbuf_init(&b, 0);
	for (uint16_t i = 0; i < n && rv == 0; i++)
		rv = enc_asset_info(&items[i], &b);
	if (rv == 0)
		rv = th_wbuf_error(&b);
	if (rv == 0) {
		struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_LIST,
					    .u.alist = { .n = n, .items = b.data, .items_len = b.len } };
		rv = encode_list(w, &m);
	}
	th_wbuf_fini(&b);
	return rv;
}

void proto_sess_asset_list_iter_init(struct proto_sess_asset_list_iter *it, const struct proto_sess_asset_list *m)
{
	it->p = m->items;
	it->left = m->n ? m->items_len : 0;
}

int proto_sess_asset_list_next(struct proto_sess_asset_list_iter *it, struct proto_sess_asset_info *out)
{
	if (!it->left)
		return 0;
	struct th_rbuf r;
	struct proto_sess_asset_info a;
	th_rbuf_init(&r, it->p, it->left);
	if (dec_asset_info(&r, &a, NULL) < 0) {
		it->left = 0;
		return 0;
	}
	it->p += r.off;
	it->left -= r.off;
	*out = a;
	return 1;
}

/* ---- HELLO signatures -------------------------------------------------------------------- */

/* context | NUL | binding | HELLO payload without the signature */
static int hello_sign_input(const struct proto_sess_hello *h, const uint8_t *binding, struct th_wbuf *w)
{
	th_wbuf_put(w, PROTO_SESS_HELLO_CONTEXT, sizeof(PROTO_SESS_HELLO_CONTEXT));
	th_wbuf_put(w, binding, PROTO_SESS_BINDING_LEN);
	th_wbuf_u16(w, PROTO_SESS_T_HELLO);
	if (enc_hello(h, w) < 0)
		return -EINVAL;
	int rv = th_wbuf_error(w);
	if (rv == 0)
		w->len -= PROTO_SESS_SIG_LEN; /* sig is HELLO's last field */
	return rv;
}

int proto_sess_hello_sign(struct proto_sess_hello *h, const uint8_t binding[PROTO_SESS_BINDING_LEN],
			  const uint8_t seckey[PROTO_SESS_SECKEY_LEN])
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	int rv = hello_sign_input(h, binding, &w);
	if (rv == 0 && crypto_sign_detached(h->sig, NULL, w.data, w.len, seckey) != 0)
		rv = -EIO;
	th_wbuf_fini(&w);
	return rv;
}

int proto_sess_hello_verify(const struct proto_sess_hello *h, const uint8_t binding[PROTO_SESS_BINDING_LEN])
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	int rv = hello_sign_input(h, binding, &w);
	if (rv == 0 && crypto_sign_verify_detached(h->sig, w.data, w.len, h->identity_key) != 0)
		rv = -EKEYREJECTED;
	th_wbuf_fini(&w);
	return rv < 0 ? -EKEYREJECTED : 0;
}

/* ---- SNAP_OFFER signature ------------------------------------------------------------------ */

static void snap_sign_input(const struct proto_sess_snap_offer *o, uint8_t *out, size_t *n)
{
	struct th_wbuf w;
	th_wbuf_init_fixed(&w, out, *n);
	th_wbuf_put(&w, PROTO_SESS_SNAP_CONTEXT, sizeof(PROTO_SESS_SNAP_CONTEXT));
	th_wbuf_put(&w, o->session_id, PROTO_SESS_ID_LEN);
	th_wbuf_u64(&w, o->next_pos);
	th_wbuf_put(&w, o->world_hash, PROTO_SESS_SCENE_HASH_LEN);
	th_wbuf_put(&w, o->set_digest, PROTO_SESS_SCENE_HASH_LEN);
	th_wbuf_u64(&w, o->size);
	th_wbuf_put(&w, o->snap_hash, PROTO_SESS_SCENE_HASH_LEN);
	*n = w.len;
}

#define SNAP_SIGN_INPUT_MAX (sizeof(PROTO_SESS_SNAP_CONTEXT) + PROTO_SESS_ID_LEN + 8 + 3 * PROTO_SESS_SCENE_HASH_LEN + 8)

int proto_sess_snap_sign(struct proto_sess_snap_offer *o, const uint8_t seckey[PROTO_SESS_SECKEY_LEN])
{
	uint8_t in[SNAP_SIGN_INPUT_MAX];
	size_t n = sizeof(in);
	if (!(o->flags & PROTO_SESS_SNAP_F_HAS))
		return -EINVAL;
	snap_sign_input(o, in, &n);
	return crypto_sign_detached(o->sig, NULL, in, n, seckey) == 0 ? 0 : -EIO;
}

int proto_sess_snap_verify(const struct proto_sess_snap_offer *o, const uint8_t host_key[PROTO_SESS_KEY_LEN])
{
	uint8_t in[SNAP_SIGN_INPUT_MAX];
	size_t n = sizeof(in);
	if (!(o->flags & PROTO_SESS_SNAP_F_HAS))
		return -EKEYREJECTED;
	snap_sign_input(o, in, &n);
	return crypto_sign_verify_detached(o->sig, in, n, host_key) == 0 ? 0 : -EKEYREJECTED;
}

/* ---- ENTRIES: iteration and the incremental builder --------------------------------------- */

void proto_sess_entries_iter_init(struct proto_sess_entries_iter *it, const struct proto_sess_entries *m)
{
	it->p = m->recs;
	it->left = m->recs_len;
}

int proto_sess_entries_next(struct proto_sess_entries_iter *it, struct th_logrec_entry *e)
{
	if (!it->left)
		return 0;
	struct th_rbuf r;
	th_rbuf_init(&r, it->p, it->left);
	if (entries_rec(&r, e) < 0) {
		it->left = 0;
		return 0;
	}
	it->p += r.off;
	it->left -= r.off;
	return 1;
}

int proto_sess_entries_begin(struct proto_sess_entries_build *b, struct th_wbuf *w, uint8_t flags)
{
	if (flags & ~PROTO_SESS_ENTRIES_F_MORE)
		return -EINVAL;
	b->w = w;
	b->start = w->len;
	b->count = 0;
	th_wbuf_u32(w, 0);
	th_wbuf_u16(w, PROTO_SESS_T_ENTRIES);
	th_wbuf_u8(w, flags);
	th_wbuf_u16(w, 0);
	return th_wbuf_error(w);
}

size_t proto_sess_entries_size(const struct proto_sess_entries_build *b)
{
	return b->w->len - b->start - PROTO_SESS_FRAME_HDR;
}

int proto_sess_entries_add(struct proto_sess_entries_build *b, const struct th_logrec_entry *e)
{
	size_t need = 4 + th_logrec_body_len(e) + 1 + (e->has_sig ? TH_LOGREC_SIG_LEN : 0);
	if (b->count >= PROTO_SESS_ENTRIES_MAX || proto_sess_entries_size(b) + need > PROTO_SESS_MAX_FRAME)
		return -ENOSPC;
	size_t at = b->w->len;
	th_wbuf_u32(b->w, (uint32_t)th_logrec_body_len(e));
	uint8_t *body = th_wbuf_extend(b->w, th_logrec_body_len(e));
	if (!body)
		return th_wbuf_error(b->w);
	int n = th_logrec_encode(e, body, th_logrec_body_len(e));
	if (n < 0) {
		b->w->len = at;
		return n;
	}
	th_wbuf_u8(b->w, e->has_sig ? 1 : 0);
	if (e->has_sig)
		th_wbuf_put(b->w, e->sig, TH_LOGREC_SIG_LEN);
	int rv = th_wbuf_error(b->w);
	if (rv < 0)
		return rv;
	b->count++;
	return 0;
}

int proto_sess_entries_end(struct proto_sess_entries_build *b)
{
	if (!b->count) {
		proto_sess_entries_abort(b);
		return -EINVAL;
	}
	int rv = th_wbuf_error(b->w);
	if (rv < 0)
		return rv;
	th_put_le32(b->w->data + b->start, (uint32_t)proto_sess_entries_size(b));
	/* ENTRIES: u16 type, u8 flags, u16 count (session_msgs.def) */
	th_put_le16(b->w->data + b->start + PROTO_SESS_FRAME_HDR + 2 + 1, b->count);
	return 0;
}

void proto_sess_entries_abort(struct proto_sess_entries_build *b)
{
	if (b->w && b->w->len >= b->start)
		b->w->len = b->start;
	b->count = 0;
}

/* ---- framing -------------------------------------------------------------- */

void proto_sess_reasm_init(struct proto_sess_reasm *r, size_t max_frame)
{
	memset(r, 0, sizeof(*r));
	r->max_frame = max_frame ? max_frame : PROTO_SESS_MAX_FRAME;
}

void proto_sess_reasm_fini(struct proto_sess_reasm *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int stash(struct proto_sess_reasm *r, const uint8_t *p, size_t n)
{
	if (r->len + n > r->cap) {
		size_t nc = r->cap ? r->cap : 256;
		while (nc < r->len + n)
			nc *= 2;
		if (nc > r->max_frame + PROTO_SESS_FRAME_HDR)
			nc = r->max_frame + PROTO_SESS_FRAME_HDR;
		uint8_t *b = realloc(r->buf, nc);
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = nc;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

int proto_sess_reasm_feed_some(struct proto_sess_reasm *r, const uint8_t *data, size_t len,
			       int (*fn)(const uint8_t *payload, size_t len, void *ud), void *ud, size_t *used)
{
	const uint8_t *start = data;
	*used = 0;
	if (r->error)
		return r->error;
	while (len > 0) {
		if (r->len > 0) {
			if (r->len < PROTO_SESS_FRAME_HDR) {
				size_t k = PROTO_SESS_FRAME_HDR - r->len;
				k = k < len ? k : len;
				if (stash(r, data, k) < 0)
					return -ENOMEM;
				data += k;
				len -= k;
				*used = (size_t)(data - start);
				if (r->len == PROTO_SESS_FRAME_HDR && th_get_le32(r->buf) > r->max_frame)
					return r->error = -EMSGSIZE;
				continue;
			}
			size_t flen = th_get_le32(r->buf);
			if (flen > r->max_frame)
				return r->error = -EMSGSIZE;
			size_t total = PROTO_SESS_FRAME_HDR + flen;
			size_t k = total - r->len;
			k = k < len ? k : len;
			if (stash(r, data, k) < 0)
				return -ENOMEM;
			data += k;
			len -= k;
			*used = (size_t)(data - start);
			if (r->len == total) {
				r->len = 0;
				int rv = fn(r->buf + PROTO_SESS_FRAME_HDR, flen, ud);
				if (rv < 0)
					return rv;
			}
			continue;
		}
		if (len < PROTO_SESS_FRAME_HDR) {
			int rv = stash(r, data, len);
			if (rv == 0)
				*used = (size_t)(data - start) + len;
			return rv;
		}
		size_t flen = th_get_le32(data);
		if (flen > r->max_frame)
			return r->error = -EMSGSIZE;
		if (len - PROTO_SESS_FRAME_HDR < flen) {
			int rv = stash(r, data, len);
			if (rv == 0)
				*used = (size_t)(data - start) + len;
			return rv;
		}
		/* Taken before fn runs: a stop after this frame keeps what follows. */
		*used = (size_t)(data - start) + PROTO_SESS_FRAME_HDR + flen;
		int rv = fn(data + PROTO_SESS_FRAME_HDR, flen, ud);
		if (rv < 0)
			return rv;
		data += PROTO_SESS_FRAME_HDR + flen;
		len -= PROTO_SESS_FRAME_HDR + flen;
	}
	return 0;
}

int proto_sess_reasm_feed(struct proto_sess_reasm *r, const uint8_t *data, size_t len,
			  int (*fn)(const uint8_t *payload, size_t len, void *ud), void *ud)
{
	size_t used;
	return proto_sess_reasm_feed_some(r, data, len, fn, ud, &used);
}
