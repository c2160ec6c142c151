/* Encoders, validating decoders, the type table and the protocol hash, all
 * expanded from ipc_msgs.def. */
#include "ipc.h"

#include "th_buf.h"
#include "th_err.h"
#include "th_hash.h"
#include "th_ring.h"
#include "th_utf8.h"

#include <errno.h>
#include <math.h>
#include <string.h>

_Static_assert(PROTO_IPC_MAX_MSG <= UINT32_MAX / 2, "messages must fit a ring record");
_Static_assert(PROTO_IPC_SOCK_HDR + PROTO_IPC_MAXSZ_WELCOME <= PROTO_IPC_MAX_SOCK_MSG, "WELCOME fits");
_Static_assert(PROTO_IPC_SOCK_HDR + PROTO_IPC_MAXSZ_HELLO <= PROTO_IPC_MAX_SOCK_MSG, "HELLO fits");
_Static_assert(PROTO_IPC_SOCK_HDR + PROTO_IPC_MAXSZ_REFUSE <= PROTO_IPC_MAX_SOCK_MSG, "REFUSE fits");

/* ---- canonical text and hash ------------------------------------------- */

#define IPC_STR2(x) #x
#define IPC_STR(x)  IPC_STR2(x)
#define IPC_CONST(NAME, value) "const " #NAME " " #value "\n"
#define IPC_MSG(id, NAME, name, cls, chan, ...) \
	"msg " #id " " #NAME " " #name " " #cls " " #chan " " #__VA_ARGS__ "\n"
static const char canonical_text[] =
	"theta-ipc\n"
	"sock-header u16-type u16-version u32-magic u64-hash\n"
	"ring-version " IPC_STR(TH_RING_VERSION) "\n"
#include "ipc_msgs.def"
	;
#undef IPC_MSG
#undef IPC_CONST

const char *proto_ipc_canonical_text(void)
{
	return canonical_text;
}

uint64_t proto_ipc_hash(void)
{
	return th_siphash(canonical_text, sizeof canonical_text - 1);
}

/* ---- writer: th_wbuf over the caller's buffer --------------------------- */

static void wr_f32(struct th_wbuf *w, float f)
{
	uint32_t v;
	memcpy(&v, &f, sizeof v);
	th_wbuf_u32(w, v);
}

static bool str_ok(const char *s, size_t n)
{
	return !memchr(s, '\0', n) && th_utf8_valid((const uint8_t *)s, n);
}

static bool path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* F_PATH's rule on n bytes (already valid UTF-8 without NUL). */
static bool path_ok(const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (s[0] != '/' || s[n - 1] == '/')
		return false;
	bool only_dots = true;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == '/') {
			if (s[i - 1] == '/' || only_dots)
				return false; /* an empty component, or ".", ".." */
			only_dots = true;
		} else if (!path_char(s[i])) {
			return false;
		} else if (s[i] != '.') {
			only_dots = false;
		}
	}
	return !only_dots;
}

/* F_LIST's rule on n bytes (already valid UTF-8 without NUL). */
static bool list_ok(const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (s[0] == '\n' || s[n - 1] == '\n')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' && s[i - 1] == '\n')
			return false; /* an empty name */
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}

bool proto_ipc_path_valid(const char *s, size_t n)
{
	return str_ok(s, n) && path_ok(s, n);
}

bool proto_ipc_list_valid(const char *s, size_t n)
{
	return str_ok(s, n) && list_ok(s, n);
}

/* ---- encoders ---------------------------------------------------------- */

static bool any_ok(const char *s, size_t n)
{
	(void)s;
	(void)n;
	return true;
}

#define F_U16(n) th_wbuf_u16(&w, m->n);
#define F_U32(n) th_wbuf_u32(&w, m->n);
#define F_U64(n) th_wbuf_u64(&w, m->n);
#define F_F32(n)                  \
	if (!isfinite(m->n))      \
		return -EINVAL;   \
	wr_f32(&w, m->n);
#define F_ENUM(n, max)                   \
	if (m->n > (uint32_t)(max))      \
		return -EINVAL;          \
	th_wbuf_u32(&w, m->n);
#define F_FLAGS(n, mask)                 \
	if (m->n & ~(uint32_t)(mask))    \
		return -EINVAL;          \
	th_wbuf_u32(&w, m->n);
#define F_BLOB(n, max)                                                  \
	if (m->n##_len > (uint32_t)(max) || (m->n##_len && !m->n))      \
		return -EINVAL;                                         \
	th_wbuf_u32(&w, m->n##_len);                                         \
	th_wbuf_put(&w, m->n, m->n##_len);
#define F_RULE_STR(n, max, rule)                                                          \
	{                                                                                 \
		size_t l_ = strnlen(m->n, sizeof m->n);                                   \
		if (l_ > (size_t)(max) || !th_utf8_valid((const uint8_t *)m->n, l_) || !rule(m->n, l_)) \
			return -EINVAL;                                                   \
		th_wbuf_u16(&w, (uint16_t)l_);                                            \
		th_wbuf_put(&w, m->n, l_);                                                \
	}
/* F_STR has no rule beyond UTF-8 without NUL (strnlen stops at the NUL). */
#define F_STR(n, max) F_RULE_STR(n, max, any_ok)
#define F_PATH(n, max) F_RULE_STR(n, max, path_ok)
#define F_LIST(n, max) F_RULE_STR(n, max, list_ok)
#define IPC_CONST(NAME, value)
#define IPC_MSG(id, NAME, name, cls, chan, ...)                                              \
	int proto_ipc_encode_##name(const struct proto_ipc_##name *m, uint8_t *buf, size_t cap) \
	{                                                                                    \
		struct th_wbuf w;                                                            \
		th_wbuf_init_fixed(&w, buf, cap);                                            \
		__VA_ARGS__                                                                  \
		if (th_wbuf_error(&w) < 0)                                                   \
			return -ENOBUFS;                                                     \
		return (int)w.len;                                                           \
	}
#include "ipc_msgs.def"
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
#undef F_RULE_STR

/* ---- decoders ---------------------------------------------------------- */

#define FAIL(text)                     \
	do {                           \
		if (why)               \
			*why = (text); \
		return -EBADMSG;       \
	} while (0)

static int rd_f32(struct th_rbuf *r, float *f)
{
	uint32_t v;
	int e = th_rbuf_u32(r, &v);
	if (e < 0)
		return e;
	memcpy(f, &v, sizeof v);
	return 0;
}

#define F_U16(n)                             \
	if (th_rbuf_u16(&r, &m.n) < 0)       \
		FAIL(#n ": truncated");
#define F_U32(n)                             \
	if (th_rbuf_u32(&r, &m.n) < 0)       \
		FAIL(#n ": truncated");
#define F_U64(n)                             \
	if (th_rbuf_u64(&r, &m.n) < 0)       \
		FAIL(#n ": truncated");
#define F_F32(n)                             \
	if (rd_f32(&r, &m.n) < 0)            \
		FAIL(#n ": truncated");      \
	if (!isfinite(m.n))                  \
		FAIL(#n ": not a finite number");
#define F_ENUM(n, max)                       \
	if (th_rbuf_u32(&r, &m.n) < 0)       \
		FAIL(#n ": truncated");      \
	if (m.n > (uint32_t)(max))           \
		FAIL(#n ": value out of range");
#define F_FLAGS(n, mask)                     \
	if (th_rbuf_u32(&r, &m.n) < 0)       \
		FAIL(#n ": truncated");      \
	if (m.n & ~(uint32_t)(mask))         \
		FAIL(#n ": unknown flag bits");
#define F_STR(n, max)                                              \
	{                                                          \
		uint16_t l_;                                       \
		const uint8_t *p_;                                 \
		if (th_rbuf_u16(&r, &l_) < 0)                      \
			FAIL(#n ": truncated");                    \
		if (l_ > (max))                                    \
			FAIL(#n ": string too long");              \
		if (th_rbuf_view(&r, &p_, l_) < 0)                 \
			FAIL(#n ": truncated");                    \
		if (!str_ok((const char *)p_, l_))                 \
			FAIL(#n ": not UTF-8 text without NUL");   \
		memcpy(m.n, p_, l_);                               \
		m.n[l_] = '\0';                                    \
	}
#define F_BLOB(n, max)                                             \
	{                                                          \
		if (th_rbuf_u32(&r, &m.n##_len) < 0)               \
			FAIL(#n ": truncated");                    \
		if (m.n##_len > (uint32_t)(max))                   \
			FAIL(#n ": blob too long");                \
		if (th_rbuf_view(&r, &m.n, m.n##_len) < 0)         \
			FAIL(#n ": truncated");                    \
	}
#define F_PATH(n, max)                                             \
	F_STR(n, max)                                              \
	if (!path_ok(m.n, strlen(m.n)))                            \
		FAIL(#n ": not a path of [a-z0-9._-] components");
#define F_LIST(n, max)                                             \
	F_STR(n, max)                                              \
	if (!list_ok(m.n, strlen(m.n)))                            \
		FAIL(#n ": not a list of names (one per line, no control characters)");
#define IPC_CONST(NAME, value)
#define IPC_MSG(id, NAME, name, cls, chan, ...)                                                 \
	int proto_ipc_decode_##name(const uint8_t *buf, size_t len, struct proto_ipc_##name *out, \
				    const char **why)                                           \
	{                                                                                       \
		struct proto_ipc_##name m;                                                      \
		memset(&m, 0, sizeof m);                                                        \
		struct th_rbuf r;                                                               \
		th_rbuf_init(&r, buf, len);                                                     \
		__VA_ARGS__                                                                     \
		if (th_rbuf_left(&r))                                                           \
			FAIL("trailing bytes after the last field");                            \
		*out = m;                                                                       \
		return 0;                                                                       \
	}
#include "ipc_msgs.def"
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

/* ---- field tables ------------------------------------------------------ */

#define F_U16(n) { PROTO_IPC_F_U16, #n, offsetof(S, n), 0, 0 },
#define F_U32(n) { PROTO_IPC_F_U32, #n, offsetof(S, n), 0, 0 },
#define F_U64(n) { PROTO_IPC_F_U64, #n, offsetof(S, n), 0, 0 },
#define F_F32(n) { PROTO_IPC_F_F32, #n, offsetof(S, n), 0, 0 },
#define F_ENUM(n, max) { PROTO_IPC_F_ENUM, #n, offsetof(S, n), 0, (max) },
#define F_FLAGS(n, mask) { PROTO_IPC_F_FLAGS, #n, offsetof(S, n), 0, (mask) },
#define F_STR(n, max) { PROTO_IPC_F_STR, #n, offsetof(S, n), 0, (max) },
#define F_BLOB(n, max) { PROTO_IPC_F_BLOB, #n, offsetof(S, n), offsetof(S, n##_len), (max) },
#define F_PATH(n, max) { PROTO_IPC_F_PATH, #n, offsetof(S, n), 0, (max) },
#define F_LIST(n, max) { PROTO_IPC_F_LIST, #n, offsetof(S, n), 0, (max) },
#define IPC_CONST(NAME, value)
/* offsetof needs the struct in scope: each table lives in its own function. */
#define IPC_MSG(id, NAME, name, cls, chan, ...)                                       \
	static const struct proto_ipc_field *fields_##name(size_t *n)                 \
	{                                                                             \
		typedef struct proto_ipc_##name S;                                    \
		static const struct proto_ipc_field f[] = { __VA_ARGS__ };            \
		*n = sizeof f / sizeof f[0];                                          \
		return f;                                                             \
	}
#include "ipc_msgs.def"
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

/* ---- descriptor table -------------------------------------------------- */

#define IPC_MSG(id, NAME, name, cls, chan, ...)                                                 \
	static int enc_##name(const void *msg, uint8_t *buf, size_t cap)                       \
	{                                                                                       \
		return proto_ipc_encode_##name(msg, buf, cap);                                  \
	}                                                                                       \
	static int dec_##name(const uint8_t *buf, size_t len, void *out, const char **why)     \
	{                                                                                       \
		return proto_ipc_decode_##name(buf, len, out, why);                             \
	}
#include "ipc_msgs.def"
#undef IPC_MSG

/* Parameter names must not collide with the member designators. */
#define IPC_MSG(id_, NAME_, name_, cls_, chan_, ...)                                  \
	{ .type = (id_), .name = #NAME_, .cls = PROTO_IPC_##cls_,                     \
	  .chan = PROTO_IPC_CHAN_##chan_, .struct_size = sizeof(struct proto_ipc_##name_), \
	  .min_size = PROTO_IPC_MINSZ_##NAME_, .max_size = PROTO_IPC_MAXSZ_##NAME_,     \
	  .fields = fields_##name_, .encode = enc_##name_, .decode = dec_##name_ },
const struct proto_ipc_desc proto_ipc_descs[] = {
#include "ipc_msgs.def"
};
#undef IPC_MSG

const size_t proto_ipc_n_descs = sizeof proto_ipc_descs / sizeof proto_ipc_descs[0];

/* Type ids are unique and non-zero (0 is the ring's padding record). */
#define IPC_MSG(id, NAME, name, cls, chan, ...) case (id):
static inline void ids_unique(int t)
{
	switch (t) {
#include "ipc_msgs.def"
	case 0:
		break;
	}
}
#undef IPC_MSG
#undef IPC_CONST

const struct proto_ipc_desc *proto_ipc_desc(uint16_t type)
{
	(void)ids_unique;
	for (size_t i = 0; i < proto_ipc_n_descs; i++)
		if (proto_ipc_descs[i].type == type)
			return &proto_ipc_descs[i];
	return NULL;
}

int proto_ipc_encode(uint16_t type, const void *msg, uint8_t *buf, size_t cap)
{
	const struct proto_ipc_desc *d = proto_ipc_desc(type);
	return d ? d->encode(msg, buf, cap) : -EINVAL;
}

int proto_ipc_decode(uint16_t type, const uint8_t *buf, size_t len, union proto_ipc_any *out,
		     const char **why)
{
	const struct proto_ipc_desc *d = proto_ipc_desc(type);
	if (!d) {
		if (why)
			*why = "unknown message type";
		return -EBADMSG;
	}
	return d->decode(buf, len, out, why);
}

int proto_ipc_check_chan(uint16_t type, enum proto_ipc_chan chan)
{
	const struct proto_ipc_desc *d = proto_ipc_desc(type);
	if (!d || !(d->chan & chan))
		return -EPROTO;
	return 0;
}

/* ---- client.sock framing ----------------------------------------------- */

int proto_ipc_sock_encode(uint16_t type, const void *msg, uint8_t *buf, size_t cap)
{
	const struct proto_ipc_desc *d = proto_ipc_desc(type);
	if (!d || !(d->chan & (PROTO_IPC_CHAN_SOCK_C2D | PROTO_IPC_CHAN_SOCK_D2C)))
		return -EINVAL;
	if (!buf || cap < PROTO_IPC_SOCK_HDR)
		return -ENOBUFS;
	int n = d->encode(msg, buf + PROTO_IPC_SOCK_HDR, cap - PROTO_IPC_SOCK_HDR);
	if (n < 0)
		return n;
	th_put_le16(buf, type);
	th_put_le16(buf + 2, PROTO_IPC_VERSION);
	th_put_le32(buf + 4, PROTO_IPC_SOCK_MAGIC);
	th_put_le64(buf + 8, proto_ipc_hash());
	return (int)PROTO_IPC_SOCK_HDR + n;
}

int proto_ipc_sock_peek(const uint8_t *buf, size_t len, struct proto_ipc_sock_hdr *out)
{
	if (len < PROTO_IPC_SOCK_HDR || th_get_le32(buf + 4) != PROTO_IPC_SOCK_MAGIC)
		return -EBADMSG;
	*out = (struct proto_ipc_sock_hdr){
		.type = th_get_le16(buf),
		.version = th_get_le16(buf + 2),
		.hash = th_get_le64(buf + 8),
	};
	return 0;
}

int proto_ipc_sock_check(const struct proto_ipc_sock_hdr *h)
{
	if (h->version != PROTO_IPC_VERSION)
		return -TH_EVERSION;
	if (h->hash != proto_ipc_hash())
		return -TH_EPROTOHASH;
	return 0;
}

int proto_ipc_sock_decode(const uint8_t *buf, size_t len, enum proto_ipc_chan chan,
			  struct proto_ipc_sock_hdr *hdr, union proto_ipc_any *out, const char **why)
{
	struct proto_ipc_sock_hdr h;
	if (proto_ipc_sock_peek(buf, len, &h) < 0) {
		if (why)
			*why = "short datagram or bad magic";
		return -EBADMSG;
	}
	if ((chan != PROTO_IPC_CHAN_SOCK_C2D && chan != PROTO_IPC_CHAN_SOCK_D2C) ||
	    proto_ipc_check_chan(h.type, chan) < 0) {
		if (why)
			*why = "message type not allowed on this socket direction";
		return -EPROTO;
	}
	int r = proto_ipc_decode(h.type, buf + PROTO_IPC_SOCK_HDR, len - PROTO_IPC_SOCK_HDR, out, why);
	if (r < 0)
		return r;
	*hdr = h;
	return 0;
}

/* ---- EVENT_REFUSED payload ---------------------------------------------- */

_Static_assert(PROTO_IPC_REFUSED_SIZE_MAX <= PROTO_IPC_MAX_EVENT, "a refusal fits an EVENT");

static bool refused_text_ok(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			return false;
	return true;
}

int proto_ipc_refused_encode(const struct proto_ipc_refused *m, uint8_t *buf, size_t cap)
{
	size_t tl = strnlen(m->text, sizeof m->text);
	if (tl > PROTO_IPC_REFUSED_TEXT_MAX || m->reason >= PROTO_IPC_REFUSAL_MAX || !refused_text_ok(m->text, tl))
		return -EINVAL;
	size_t need = PROTO_IPC_KEY_LEN + 8 + 8 + 1 + 2 + tl;
	if (!buf)
		return (int)need;
	if (cap < need)
		return -ENOBUFS;
	memcpy(buf, m->author, PROTO_IPC_KEY_LEN);
	uint8_t *p = buf + PROTO_IPC_KEY_LEN;
	th_put_le64(p, m->seq);
	th_put_le64(p + 8, m->lamport);
	p[16] = m->reason;
	th_put_le16(p + 17, (uint16_t)tl);
	memcpy(p + 19, m->text, tl);
	return (int)need;
}

int proto_ipc_refused_decode(const uint8_t *p, size_t len, struct proto_ipc_refused *out)
{
	struct proto_ipc_refused m;
	const size_t fixed = PROTO_IPC_KEY_LEN + 8 + 8 + 1 + 2;
	memset(&m, 0, sizeof m);
	if (len < fixed)
		return -EBADMSG;
	memcpy(m.author, p, PROTO_IPC_KEY_LEN);
	const uint8_t *q = p + PROTO_IPC_KEY_LEN;
	m.seq = th_get_le64(q);
	m.lamport = th_get_le64(q + 8);
	m.reason = q[16];
	uint16_t tl = th_get_le16(q + 17);
	if (m.reason >= PROTO_IPC_REFUSAL_MAX || tl > PROTO_IPC_REFUSED_TEXT_MAX || len != fixed + tl ||
	    !refused_text_ok((const char *)q + 19, tl))
		return -EBADMSG;
	memcpy(m.text, q + 19, tl);
	*out = m;
	return 0;
}

const char *proto_ipc_input_source_str(uint32_t source)
{
	switch (source) {
	case PROTO_IPC_INPUT_NONE:
		return "none";
	case PROTO_IPC_INPUT_DESKTOP:
		return "desktop";
	case PROTO_IPC_INPUT_OPENXR:
		return "openxr";
	case PROTO_IPC_INPUT_SCRIPT:
		return "script";
	default:
		return "unknown";
	}
}

const char *proto_ipc_sinfo_host_str(uint32_t host)
{
	switch (host) {
	case PROTO_IPC_SINFO_HOST_NONE:
		return "none";
	case PROTO_IPC_SINFO_HOST_LOCAL:
		return "local";
	case PROTO_IPC_SINFO_HOST_REMOTE:
		return "remote";
	case PROTO_IPC_SINFO_HOST_UNKNOWN:
		return "unknown";
	default:
		return "invalid";
	}
}

int proto_ipc_list_next(const char **cursor, char *name, size_t cap)
{
	const char *p = *cursor;
	if (!*p)
		return 0;
	size_t n = strcspn(p, "\n");
	if (n == 0 || cap == 0)
		return -EINVAL;
	size_t k = n < cap - 1 ? n : cap - 1;
	/* Cut at a character boundary: never half a UTF-8 sequence. */
	while (k < n && k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80)
		k--;
	memcpy(name, p, k);
	name[k] = '\0';
	*cursor = p[n] == '\n' ? p + n + 1 : p + n;
	return 1;
}

const char *proto_ipc_refuse_str(uint32_t reason)
{
	switch (reason) {
	case PROTO_IPC_REFUSE_VERSION:
		return "protocol version mismatch";
	case PROTO_IPC_REFUSE_PROTO_HASH:
		return "protocol hash mismatch";
	case PROTO_IPC_REFUSE_TOO_MANY_CLIENTS:
		return "too many clients";
	case PROTO_IPC_REFUSE_INTERNAL:
		return "daemon error";
	case PROTO_IPC_REFUSE_BAD_HELLO:
		return "malformed hello";
	case PROTO_IPC_REFUSE_NOT_MEMBER:
		return "not a member of the session";
	case PROTO_IPC_REFUSE_NO_SESSION:
		return "no such session";
	default:
		return "unknown reason";
	}
}
