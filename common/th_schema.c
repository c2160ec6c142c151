/* Descriptor tables, canonical codec and schema hash generated from the
 * schema X-macro files. To add another schema file (e.g. commands.def) to the
 * hash, add ONE line to schema_sources[] below naming a function that
 * renders that file's canonical text (see schemas/README.md). */
#include "th_schema.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "th_cmd.h"
#include "th_hash.h"
#include "th_id.h"

size_t th_ftype_size(unsigned type)
{
	switch (type) {
	case TH_FT_u8: return 1;
	case TH_FT_u16: return 2;
	case TH_FT_u32: case TH_FT_i32: case TH_FT_f32: return 4;
	case TH_FT_u64: return 8;
	}
	return 0;
}

const char *th_ftype_name(unsigned type)
{
	switch (type) {
	case TH_FT_u8: return "u8";
	case TH_FT_u16: return "u16";
	case TH_FT_u32: return "u32";
	case TH_FT_u64: return "u64";
	case TH_FT_i32: return "i32";
	case TH_FT_f32: return "f32";
	}
	return "?";
}

/* Field tables. offsetof needs the struct's name, which a field macro does
 * not know; each component's table therefore lives in a function where a
 * block-scope typedef names the current struct. */
#define TH_FIELD(type, name) { #name, TH_FT_##type, 1, (uint16_t)offsetof(cur_t, name) },
#define TH_ARRAY(type, name, n) { #name, TH_FT_##type, (n), (uint16_t)offsetof(cur_t, name) },
#define TH_COMPONENT(cname, ENUM, Name, KIND, FIELDS)                                          \
	static const struct th_field_desc *fields_##cname(uint32_t *n)                         \
	{                                                                                      \
		typedef struct th_c_##cname cur_t;                                             \
		static const struct th_field_desc f[] = { FIELDS };                            \
		_Static_assert(sizeof f / sizeof f[0] <= TH_SCHEMA_MAX_FIELDS, "too many fields"); \
		_Static_assert(sizeof(cur_t) <= TH_SCHEMA_MAX_VALUE_SIZE, "record too large");  \
		*n = (uint32_t)(sizeof f / sizeof f[0]);                                       \
		return f;                                                                      \
	}
#include "components.def"
#undef TH_COMPONENT
#undef TH_FIELD
#undef TH_ARRAY

static struct th_schema_record component_records[TH_COMP_COUNT];
static uint64_t component_ids[TH_COMP_COUNT];
static pthread_once_t components_once = PTHREAD_ONCE_INIT;

static uint32_t wire_size_of(const struct th_field_desc *f, uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s += (uint32_t)th_ftype_size(f[i].type) * f[i].count;
	return s;
}

static void components_init(void)
{
	struct th_schema_record *r;
#define TH_COMPONENT(cname, ENUM, Name, KIND, FIELDS)                            \
	r = &component_records[TH_COMP_##ENUM];                                  \
	r->name = #Name;                                                         \
	r->attrs = #KIND;                                                        \
	r->kind = TH_KIND_##KIND;                                                \
	r->fields = fields_##cname(&r->nfields);                                 \
	r->c_size = sizeof(struct th_c_##cname);                                 \
	r->c_align = _Alignof(struct th_c_##cname);                              \
	r->wire_size = wire_size_of(r->fields, r->nfields);                      \
	component_ids[TH_COMP_##ENUM] = th_siphash_str(#Name);
#include "components.def"
#undef TH_COMPONENT
}

const struct th_schema_record *th_component_record(unsigned idx)
{
	if (idx >= TH_COMP_COUNT)
		return NULL;
	pthread_once(&components_once, components_init);
	return &component_records[idx];
}

uint64_t th_component_id(unsigned idx)
{
	if (idx >= TH_COMP_COUNT)
		return 0;
	pthread_once(&components_once, components_init);
	return component_ids[idx];
}

int th_component_find(uint64_t id)
{
	pthread_once(&components_once, components_init);
	for (unsigned i = 0; i < TH_COMP_COUNT; i++)
		if (component_ids[i] == id)
			return (int)i;
	return -ENOENT;
}

int th_component_find_name(const char *name)
{
	pthread_once(&components_once, components_init);
	for (unsigned i = 0; i < TH_COMP_COUNT; i++)
		if (strcmp(component_records[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

int th_schema_encode(const struct th_schema_record *r, const void *value, uint8_t *out, size_t cap)
{
	if (cap < r->wire_size)
		return -ENOBUFS;
	const uint8_t *src = value;
	/* Validate before writing so out is untouched on failure. */
	for (uint32_t i = 0; i < r->nfields; i++) {
		const struct th_field_desc *f = &r->fields[i];
		if (f->type != TH_FT_f32)
			continue;
		for (unsigned k = 0; k < f->count; k++) {
			float v;
			memcpy(&v, src + f->offset + 4 * k, 4);
			if (!isfinite(v))
				return -EINVAL;
		}
	}
	uint8_t *p = out;
	for (uint32_t i = 0; i < r->nfields; i++) {
		const struct th_field_desc *f = &r->fields[i];
		const uint8_t *s = src + f->offset;
		for (unsigned k = 0; k < f->count; k++) {
			switch (f->type) {
			case TH_FT_u8: *p = s[k]; p += 1; break;
			case TH_FT_u16: { uint16_t v; memcpy(&v, s + 2 * k, 2); th_put_le16(p, v); p += 2; break; }
			case TH_FT_u32:
			case TH_FT_i32: { uint32_t v; memcpy(&v, s + 4 * k, 4); th_put_le32(p, v); p += 4; break; }
			case TH_FT_f32: { float v; memcpy(&v, s + 4 * k, 4); th_put_le32(p, f32_bits(v)); p += 4; break; }
			case TH_FT_u64: { uint64_t v; memcpy(&v, s + 8 * k, 8); th_put_le64(p, v); p += 8; break; }
			default: return -EINVAL;
			}
		}
	}
	return (int)(p - out);
}

int th_schema_encode_wbuf(const struct th_schema_record *r, const void *value, struct th_wbuf *b)
{
	uint8_t tmp[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(r, value, tmp, sizeof tmp);
	if (n < 0)
		return n;
	th_wbuf_put(b, tmp, (size_t)n);
	return th_wbuf_error(b);
}

int th_schema_decode(const struct th_schema_record *r, const uint8_t *in, size_t len, void *value)
{
	if (len != r->wire_size || r->c_size > TH_SCHEMA_MAX_VALUE_SIZE)
		return -EBADMSG;
	uint8_t tmp[TH_SCHEMA_MAX_VALUE_SIZE];
	memset(tmp, 0, r->c_size);
	const uint8_t *p = in;
	for (uint32_t i = 0; i < r->nfields; i++) {
		const struct th_field_desc *f = &r->fields[i];
		uint8_t *d = tmp + f->offset;
		for (unsigned k = 0; k < f->count; k++) {
			switch (f->type) {
			case TH_FT_u8: d[k] = *p; p += 1; break;
			case TH_FT_u16: { uint16_t v = th_get_le16(p); memcpy(d + 2 * k, &v, 2); p += 2; break; }
			case TH_FT_u32:
			case TH_FT_i32: { uint32_t v = th_get_le32(p); memcpy(d + 4 * k, &v, 4); p += 4; break; }
			case TH_FT_f32: {
				uint32_t u = th_get_le32(p);
				float v;
				memcpy(&v, &u, 4);
				if (!isfinite(v))
					return -EBADMSG;
				memcpy(d + 4 * k, &v, 4);
				p += 4;
				break;
			}
			case TH_FT_u64: { uint64_t v = th_get_le64(p); memcpy(d + 8 * k, &v, 8); p += 8; break; }
			default: return -EBADMSG;
			}
		}
	}
	memcpy(value, tmp, r->c_size);
	return 0;
}

/* ---- schema hash --------------------------------------------------------- */

/* Canonical text of the component records. */
static int render_components(struct th_wbuf *b)
{
	char line[256];
	pthread_once(&components_once, components_init);
	const struct th_schema_record *r = component_records;
	int len = snprintf(line, sizeof line, "source components %u\n", (unsigned)TH_COMP_COUNT);
	th_wbuf_put(b, line, (size_t)len);
	for (uint32_t i = 0; i < TH_COMP_COUNT; i++) {
		len = snprintf(line, sizeof line, "record %s %s %u %u\n", r[i].name, r[i].attrs, r[i].nfields,
			       r[i].wire_size);
		th_wbuf_put(b, line, (size_t)len);
		for (uint32_t k = 0; k < r[i].nfields; k++) {
			const struct th_field_desc *f = &r[i].fields[k];
			len = snprintf(line, sizeof line, "field %s %s %u\n", f->name, th_ftype_name(f->type), f->count);
			th_wbuf_put(b, line, (size_t)len);
		}
	}
	return th_wbuf_error(b);
}

/* Every schema file the hash covers, in this order. Each source appends its
 * own canonical text (one line per item, deterministic, no addresses or
 * locale-dependent output) to the buffer. Add a file with ONE line, e.g.
 *   { "commands", th_cmd_render },      (and #include "th_cmd.h" above)
 * The hash then changes, as it must. */
struct schema_source {
	const char *name;
	int (*render)(struct th_wbuf *b);
};

static const struct schema_source schema_sources[] = {
	{ "components", render_components },
	{ "commands", th_cmd_render },
	{ "ids", th_id_render },
};

int th_schema_render(struct th_wbuf *b)
{
	th_wbuf_put(b, "theta-schema 1\n", 15);
	for (size_t s = 0; s < sizeof schema_sources / sizeof schema_sources[0]; s++) {
		int r = schema_sources[s].render(b);
		if (r < 0)
			return r;
	}
	return th_wbuf_error(b);
}

static uint64_t schema_hash_value;
static pthread_once_t schema_hash_once = PTHREAD_ONCE_INIT;

static void schema_hash_init(void)
{
	struct th_wbuf b;
	th_wbuf_init(&b, 0);
	if (th_schema_render(&b) == 0)
		schema_hash_value = th_siphash(b.data, b.len);
	th_wbuf_fini(&b);
}

uint64_t th_schema_hash(void)
{
	pthread_once(&schema_hash_once, schema_hash_init);
	return schema_hash_value;
}
