/* Payload encoders, validating decoders and rules, expanded from
 * schemas/commands.def. The rules (RULE(fn) in the def) are the only
 * hand-written checks: cross-field conditions a field kind cannot say. */
#include "th_payload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "th_cmd.h"
#include "th_logrec.h"
#include "th_schema.h"
#include "th_utf8.h"

#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) \
	_Static_assert(TH_PL_MAXSZ_##ENUM <= TH_LOGREC_PAYLOAD_MAX, "payload of " name " too large");
#include "commands.def"
#undef TH_COMMAND
_Static_assert(TH_PL_VALUE_MAX == TH_SCHEMA_MAX_VALUE_SIZE, "P_VALUE bound is the schema's value bound");
_Static_assert(TH_PL_COMPONENTS_MAX <= UINT16_MAX && TH_PL_MESH_OPS_MAX <= UINT16_MAX, "list counts are u16");

/* ---- rules -------------------------------------------------------------------- */

static bool zero3(const float p[3])
{
	return p[0] == 0 && p[1] == 0 && p[2] == 0;
}

static const char *th_pl_rule_mesh_op(const struct th_pl_mesh_op *o)
{
	switch (o->op) {
	case TH_PL_MESH_OP_VERTEX_ADD:
		if (o->element)
			return "element: must be 0 for VERTEX_ADD (the new vertex's id is derived)";
		return o->arg ? "arg: must be 0 for VERTEX_ADD" : NULL;
	case TH_PL_MESH_OP_VERTEX_MOVE:
		if (!o->element)
			return "element: a mesh-element id is required";
		return o->arg ? "arg: must be 0 for VERTEX_MOVE" : NULL;
	case TH_PL_MESH_OP_REMOVE:
		if (!o->element)
			return "element: a mesh-element id is required";
		if (o->arg)
			return "arg: must be 0 for REMOVE";
		return zero3(o->position) ? NULL : "position: must be 0 for REMOVE";
	case TH_PL_MESH_OP_FACE_ADD:
		if (o->element)
			return "element: must be 0 for FACE_ADD (the new face's id is derived)";
		if (o->arg >= TH_PL_MATERIALS_MAX)
			return "arg: material index out of range";
		return zero3(o->position) ? NULL : "position: must be 0 for FACE_ADD";
	case TH_PL_MESH_OP_LOOP:
		if (!o->element)
			return "element: a vertex is required";
		if (o->arg != TH_PL_MESH_REF_ID && o->arg != TH_PL_MESH_REF_LOCAL)
			return "arg: must be MESH_REF_ID or MESH_REF_LOCAL";
		return zero3(o->position) ? NULL : "position: must be 0 for LOOP";
	case TH_PL_MESH_OP_FACE_MATERIAL:
		if (!o->element)
			return "element: a face is required";
		if (o->arg >= TH_PL_MATERIALS_MAX)
			return "arg: material index out of range";
		return zero3(o->position) ? NULL : "position: must be 0 for FACE_MATERIAL";
	}
	return "op: value out of range";
}

/* What one op cannot say: faces are a FACE_ADD and its 3..FACE_VERTS_MAX
 * LOOPs; a local reference names an earlier VERTEX_ADD (by index + 1). */
static const char *mesh_ops_rule(const struct th_pl_mesh_op *ops, unsigned n)
{
	unsigned corners = 0;
	bool in_face = false;
	for (unsigned i = 0; i < n; i++) {
		const struct th_pl_mesh_op *o = &ops[i];
		if (o->op == TH_PL_MESH_OP_LOOP) {
			if (!in_face)
				return "ops: a LOOP must follow a FACE_ADD or a LOOP";
			if (++corners > TH_PL_FACE_VERTS_MAX)
				return "ops: a face has more than FACE_VERTS_MAX corners";
			if (o->arg == TH_PL_MESH_REF_LOCAL &&
			    (o->element > i || ops[o->element - 1].op != TH_PL_MESH_OP_VERTEX_ADD))
				return "ops: a local reference must name an earlier VERTEX_ADD";
			continue;
		}
		if (in_face && corners < 3)
			return "ops: a face needs at least 3 corners";
		in_face = o->op == TH_PL_MESH_OP_FACE_ADD;
		corners = 0;
	}
	if (in_face && corners < 3)
		return "ops: a face needs at least 3 corners";
	return NULL;
}

static const char *th_pl_rule_mesh_patch(const struct th_pl_mesh_patch *m)
{
	return mesh_ops_rule(m->ops, m->ops_count);
}

static const char *th_pl_rule_mesh_create(const struct th_pl_mesh_create *m)
{
	if (m->material >= TH_PL_MATERIALS_MAX)
		return "material: index out of range";
	return mesh_ops_rule(m->ops, m->ops_count);
}

static const char *th_pl_rule_material(const struct th_pl_material_set *m)
{
	for (unsigned i = 0; i < 4; i++)
		if (m->base_color[i] < 0 || m->base_color[i] > 1)
			return "base_color: each channel must be in [0, 1]";
	for (unsigned i = 0; i < 2; i++)
		if (m->roughness_metallic[i] < 0 || m->roughness_metallic[i] > 1)
			return "roughness_metallic: must be in [0, 1]";
	return NULL;
}

static const char *th_pl_rule_entity_create(const struct th_pl_entity_create *c)
{
	for (unsigned i = 0; i < c->components_count; i++)
		for (unsigned k = 0; k < i; k++)
			if (c->components[i].component == c->components[k].component)
				return "components: a component appears twice";
	return NULL;
}

static const char *th_pl_rule_affine(const struct th_pl_mesh_transform *t)
{
	/* Column-major: the last row is elements 3, 7, 11, 15. */
	if (t->matrix[3] != 0 || t->matrix[7] != 0 || t->matrix[11] != 0 || t->matrix[15] != 1)
		return "matrix: not affine (last row must be 0 0 0 1)";
	return NULL;
}

/* ---- shared field checks ---------------------------------------------------- */

/* The schema record of a REPLICATED component, or NULL. */
static const struct th_schema_record *replicated(uint64_t id)
{
	int idx = th_component_find(id);
	const struct th_schema_record *r = idx < 0 ? NULL : th_component_record((unsigned)idx);
	return r && r->kind == TH_KIND_REPLICATED ? r : NULL;
}

/* A canonical value of component `id`: exactly its wire size, floats finite. */
static bool value_ok(uint64_t id, const uint8_t *v, size_t len)
{
	const struct th_schema_record *r = replicated(id);
	_Alignas(max_align_t) uint8_t tmp[TH_SCHEMA_MAX_VALUE_SIZE];
	return r && (len == 0 || v) && th_schema_decode(r, v, len, tmp) == 0;
}

/* A function, so that a bound of 0 draws no "always true" warning. */
static bool in_range(unsigned long long v, unsigned long long lo, unsigned long long hi)
{
	return v >= lo && v <= hi;
}

static bool text_ok(const char *s, size_t n)
{
	return !memchr(s, '\0', n) && th_utf8_valid((const uint8_t *)s, n);
}

/* ---- encoders ------------------------------------------------------------------
 * Each field macro checks its value (goto bad) and appends it. */

#define P_U32(n) th_wbuf_u32(w, m->n);
#define P_U64(n) th_wbuf_u64(w, m->n);
#define P_NZ64(n)                  \
	if (!m->n)                 \
		goto bad;          \
	th_wbuf_u64(w, m->n);
#define P_ID(n) P_NZ64(n)
#define P_ENUM8(n, lo, hi)                          \
	if (!in_range(m->n, (lo), (hi)))            \
		goto bad;                           \
	th_wbuf_u8(w, m->n);
#define P_KEY(n) th_wbuf_put(w, m->n, TH_PL_KEY_LEN);
#define P_F32S(n, count)                    \
	if (!th_f32s_finite(m->n, (count))) \
		goto bad;                   \
	th_wbuf_f32s(w, m->n, (count));
#define P_COMPONENT(n)              \
	if (!replicated(m->n))      \
		goto bad;           \
	th_wbuf_u64(w, m->n);
#define P_VALUE(n, comp)                                   \
	if (!value_ok(m->comp, m->n, m->n##_len))          \
		goto bad;                                  \
	th_wbuf_u16(w, m->n##_len);                        \
	th_wbuf_put(w, m->n, m->n##_len);
#define P_TEXT(n, lo, hi)                                                  \
	{                                                                  \
		size_t l_ = strnlen(m->n, sizeof m->n);                    \
		if (!in_range(l_, (lo), (hi)) || !text_ok(m->n, l_))       \
			goto bad;                                          \
		th_wbuf_u16(w, (uint16_t)l_);                              \
		th_wbuf_put(w, m->n, l_);                                  \
	}
#define P_BYTES(n, hi)                                          \
	if (m->n##_len > (hi) || (m->n##_len && !m->n))         \
		goto bad;                                       \
	th_wbuf_u16(w, m->n##_len);                             \
	th_wbuf_put(w, m->n, m->n##_len);
#define P_LIST(n, item, lo, hi)                                          \
	if (!in_range(m->n##_count, (lo), (hi)))                         \
		goto bad;                                                \
	th_wbuf_u16(w, m->n##_count);                                    \
	for (unsigned i_ = 0; i_ < m->n##_count; i_++)                   \
		if (enc_item_##item(&m->n[i_], w) < 0)                   \
			goto bad;
#define NO_RULE
#define RULE(fn)                \
	if (fn(m))              \
		goto bad;

#define TH_PAYLOAD_ITEM(item, RULE_, FIELDS)                                       \
	static int enc_item_##item(const struct th_pl_##item *m, struct th_wbuf *w) \
	{                                                                          \
		RULE_                                                              \
		FIELDS                                                             \
		return 0;                                                          \
	bad:                                                                       \
		return -EINVAL;                                                    \
	}
#include "commands.def"
#undef TH_PAYLOAD_ITEM

#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE_, FIELDS) \
	int th_pl_encode_##cname(const struct th_pl_##cname *m, struct th_wbuf *w) \
	{                                                                         \
		size_t start_ = w->len;                                           \
		(void)m;                                                          \
		RULE_                                                             \
		FIELDS                                                            \
		return th_wbuf_error(w);                                          \
		goto bad;                                                         \
	bad:                                                                      \
		w->len = start_;                                                  \
		return -EINVAL;                                                   \
	}
#include "commands.def"
#undef TH_COMMAND
#undef P_U32
#undef P_U64
#undef P_NZ64
#undef P_ID
#undef P_ENUM8
#undef P_KEY
#undef P_F32S
#undef P_COMPONENT
#undef P_VALUE
#undef P_TEXT
#undef P_BYTES
#undef P_LIST
#undef RULE

/* ---- decoders ------------------------------------------------------------------ */

#define FAIL(text)                     \
	do {                           \
		if (why)               \
			*why = (text); \
		return -EBADMSG;       \
	} while (0)

#define P_U32(n)                          \
	if (th_rbuf_u32(r, &m->n) < 0)    \
		FAIL(#n ": truncated");
#define P_U64(n)                          \
	if (th_rbuf_u64(r, &m->n) < 0)    \
		FAIL(#n ": truncated");
#define P_NZ64(n)                         \
	if (th_rbuf_u64(r, &m->n) < 0)    \
		FAIL(#n ": truncated");   \
	if (!m->n)                        \
		FAIL(#n ": must not be 0");
#define P_ID(n) P_NZ64(n)
#define P_ENUM8(n, lo, hi)                \
	if (th_rbuf_u8(r, &m->n) < 0)     \
		FAIL(#n ": truncated");   \
	if (!in_range(m->n, (lo), (hi)))  \
		FAIL(#n ": value out of range");
#define P_KEY(n)                                           \
	if (th_rbuf_bytes(r, m->n, TH_PL_KEY_LEN) < 0)     \
		FAIL(#n ": truncated");
#define P_F32S(n, count)                          \
	if (th_rbuf_f32s(r, m->n, (count)) < 0)   \
		FAIL(#n ": truncated");           \
	if (!th_f32s_finite(m->n, (count)))       \
		FAIL(#n ": not a finite number");
#define P_COMPONENT(n)                          \
	if (th_rbuf_u64(r, &m->n) < 0)          \
		FAIL(#n ": truncated");         \
	if (!replicated(m->n))                  \
		FAIL(#n ": not a replicated component id");
#define P_VALUE(n, comp)                                         \
	if (th_rbuf_u16(r, &m->n##_len) < 0)                     \
		FAIL(#n ": truncated");                          \
	if (th_rbuf_view(r, &m->n, m->n##_len) < 0)              \
		FAIL(#n ": truncated");                          \
	if (!value_ok(m->comp, m->n, m->n##_len))                \
		FAIL(#n ": not a canonical value of the component");
#define P_TEXT(n, lo, hi)                                        \
	{                                                        \
		uint16_t l_;                                     \
		const uint8_t *p_;                               \
		if (th_rbuf_u16(r, &l_) < 0)                     \
			FAIL(#n ": truncated");                  \
		if (!in_range(l_, (lo), (hi)))                   \
			FAIL(#n ": length out of range");        \
		if (th_rbuf_view(r, &p_, l_) < 0)                \
			FAIL(#n ": truncated");                  \
		if (!text_ok((const char *)p_, l_))              \
			FAIL(#n ": not UTF-8 text without NUL"); \
		memcpy(m->n, p_, l_);                            \
		m->n[l_] = '\0';                                 \
	}
#define P_BYTES(n, hi)                                           \
	if (th_rbuf_u16(r, &m->n##_len) < 0)                     \
		FAIL(#n ": truncated");                          \
	if (m->n##_len > (hi))                                   \
		FAIL(#n ": too long");                           \
	if (th_rbuf_view(r, &m->n, m->n##_len) < 0)              \
		FAIL(#n ": truncated");
#define P_LIST(n, item, lo, hi)                                        \
	if (th_rbuf_u16(r, &m->n##_count) < 0)                         \
		FAIL(#n ": truncated");                                \
	if (!in_range(m->n##_count, (lo), (hi)))                       \
		FAIL(#n ": count out of range");                       \
	for (unsigned i_ = 0; i_ < m->n##_count; i_++)                 \
		if (dec_item_##item(r, &m->n[i_], why) < 0)            \
			return -EBADMSG;
#define RULE(fn)                                \
	{                                       \
		const char *r_ = fn(m);         \
		if (r_)                         \
			FAIL(r_);               \
	}

#define TH_PAYLOAD_ITEM(item, RULE_, FIELDS)                                                    \
	static int dec_item_##item(struct th_rbuf *r, struct th_pl_##item *m, const char **why) \
	{                                                                                       \
		FIELDS                                                                          \
		RULE_                                                                           \
		return 0;                                                                       \
	}
#include "commands.def"
#undef TH_PAYLOAD_ITEM

#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE_, FIELDS)                        \
	int th_pl_decode_##cname(const uint8_t *p, size_t len, struct th_pl_##cname *out, const char **why) \
	{                                                                                            \
		struct th_pl_##cname mv;                                                             \
		struct th_pl_##cname *m = &mv;                                                       \
		struct th_rbuf rv;                                                                   \
		struct th_rbuf *r = &rv;                                                             \
		memset(m, 0, sizeof *m);                                                             \
		th_rbuf_init(r, p, len);                                                             \
		FIELDS                                                                               \
		RULE_                                                                                \
		if (th_rbuf_left(r))                                                                 \
			FAIL("trailing bytes after the last field");                                 \
		*out = mv;                                                                           \
		return 0;                                                                            \
	}
#include "commands.def"
#undef TH_COMMAND
#undef P_U32
#undef P_U64
#undef P_NZ64
#undef P_ID
#undef P_ENUM8
#undef P_KEY
#undef P_F32S
#undef P_COMPONENT
#undef P_VALUE
#undef P_TEXT
#undef P_BYTES
#undef P_LIST
#undef RULE
#undef NO_RULE

/* ---- generic forms ---------------------------------------------------------------- */

int th_cmd_payload_encode(uint16_t type, const void *m, uint8_t *buf, size_t cap)
{
	struct th_wbuf w;
	int rv;
	th_wbuf_init_fixed(&w, buf, cap);
	switch (type) {
#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) \
	case (id): rv = th_pl_encode_##cname(m, &w); break;
#include "commands.def"
#undef TH_COMMAND
	default: rv = -ENOENT; break;
	}
	if (rv == -EMSGSIZE)
		return -ENOBUFS;
	return rv < 0 ? rv : (int)w.len;
}

int th_cmd_payload_decode(uint16_t type, const uint8_t *p, size_t len, union th_pl_any *out, const char **why)
{
	switch (type) {
#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) \
	case (id): return th_pl_decode_##cname(p, len, &out->cname, why);
#include "commands.def"
#undef TH_COMMAND
	}
	if (why)
		*why = "unknown command type";
	return -ENOENT;
}

int th_cmd_payload_check(uint16_t type, const uint8_t *p, size_t len, const char **why)
{
	/* Large (a full mesh.patch list): not on the stack. */
	static _Thread_local union th_pl_any scratch;
	return th_cmd_payload_decode(type, p, len, &scratch, why);
}

/* ---- canonical text ----------------------------------------------------------------- */

int th_pl_render(struct th_wbuf *b)
{
	char line[512];
	int n;
#define TH_PAYLOAD_CONST(NAME, value)                                                           \
	n = snprintf(line, sizeof line, "payload-const %s %lld\n", #NAME, (long long)(value)); \
	th_wbuf_put(b, line, (size_t)n);
#include "commands.def"
#undef TH_PAYLOAD_CONST
#define TH_PAYLOAD_ITEM(item, RULE, FIELDS)                                                       \
	n = snprintf(line, sizeof line, "payload-item %s rule=%s fields=%s\n", #item, #RULE, #FIELDS); \
	if (n < 0 || (size_t)n >= sizeof line)                                                     \
		return -EMSGSIZE;                                                                  \
	th_wbuf_put(b, line, (size_t)n);
#include "commands.def"
#undef TH_PAYLOAD_ITEM
	return th_wbuf_error(b);
}
