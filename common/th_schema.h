/* Component schema: descriptors, C structs and canonical encoding generated
 * from schemas/components.def, plus the schema hash exchanged in the session
 * handshake. Used by the daemon and the client alike; no client-only code.
 *
 * Ids: th_component_id(i) = th_siphash_str(name) (SipHash-2-4 with the fixed
 * project key, see th_hash.h). Encoding: the fields in declaration order,
 * each value little-endian and fixed-width, no padding. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"

enum th_ftype {
	TH_FT_u8 = 1,
	TH_FT_u16,
	TH_FT_u32,
	TH_FT_u64,
	TH_FT_i32,
	TH_FT_f32,
};

typedef uint8_t th_u8;
typedef uint16_t th_u16;
typedef uint32_t th_u32;
typedef uint64_t th_u64;
typedef int32_t th_i32;
typedef float th_f32;
_Static_assert(sizeof(float) == 4, "f32 must be IEEE-754 binary32");

/* Limits of any schema record (components and, later, commands). */
#define TH_SCHEMA_MAX_FIELDS 32
#define TH_SCHEMA_MAX_ARRAY 16
#define TH_SCHEMA_MAX_VALUE_SIZE 256 /* C struct and wire size of one record */

/* Kinds of component (KIND column of components.def). */
enum th_comp_kind {
	TH_KIND_REPLICATED = 1,
	TH_KIND_EPHEMERAL = 2,
	TH_KIND_LOCAL = 3,
};

/* C structs: struct th_c_<cname>. */
#define TH_FIELD(type, name) th_##type name;
#define TH_ARRAY(type, name, n) th_##type name[n];
#define TH_COMPONENT(cname, ENUM, Name, KIND, FIELDS) struct th_c_##cname { FIELDS };
#include "components.def"
#undef TH_COMPONENT
#undef TH_FIELD
#undef TH_ARRAY

/* Component indices: TH_COMP_<ENUM>, dense from 0. */
enum th_comp_index {
#define TH_COMPONENT(cname, ENUM, Name, KIND, FIELDS) TH_COMP_##ENUM,
#include "components.def"
#undef TH_COMPONENT
	TH_COMP_COUNT
};

/* A field is named by its byte offset in the component's C struct:
 * TH_F(transform, position). Unique within a component, a constant. */
#define TH_F(cname, field) ((unsigned)offsetof(struct th_c_##cname, field))

/* Bits of TrackedPose.valid and ControllerState.buttons, select modes, tools. */
#define TH_POSE_VALID_HEAD  (1u << 0)
#define TH_POSE_VALID_LEFT  (1u << 1)
#define TH_POSE_VALID_RIGHT (1u << 2)
#define TH_BUTTON_A          (1u << 0)
#define TH_BUTTON_B          (1u << 1)
#define TH_BUTTON_X          (1u << 2)
#define TH_BUTTON_Y          (1u << 3)
#define TH_BUTTON_MENU       (1u << 4)
#define TH_BUTTON_THUMBSTICK (1u << 5)
#define TH_BUTTON_TRIGGER    (1u << 6) /* trigger clicked */
#define TH_BUTTON_GRIP       (1u << 7) /* grip clicked */
#define TH_SELECT_OBJECT 0u
#define TH_SELECT_FACE   1u
#define TH_SELECT_EDGE   2u
#define TH_SELECT_VERTEX 3u
#define TH_SELECT_WHOLE  0ull /* Selection.element: no element, the whole object */

/* One field of a record: type, element count (1 for TH_FIELD), and its byte
 * offset in the C struct. */
struct th_field_desc {
	const char *name;
	uint8_t type;   /* enum th_ftype */
	uint8_t count;  /* 1..TH_SCHEMA_MAX_ARRAY */
	uint16_t offset; /* in the C struct */
};

/* A schema record: a named list of fields with a C struct and an encoding.
 * Components are records; other schema files (commands.def) describe theirs
 * the same way and join the schema hash through th_schema.c's source table. */
struct th_schema_record {
	const char *name;  /* schema name, e.g. "Transform" */
	const char *attrs; /* canonical attribute text, e.g. "REPLICATED" */
	uint32_t kind;     /* per source: enum th_comp_kind for components */
	uint32_t nfields;
	const struct th_field_desc *fields;
	uint32_t c_size;    /* sizeof the C struct */
	uint32_t c_align;   /* _Alignof the C struct */
	uint32_t wire_size; /* canonical encoding size */
};

/* Byte size of one element of a field type; 0 for an unknown type. */
size_t th_ftype_size(unsigned type);
const char *th_ftype_name(unsigned type);

/* Component descriptors, index 0..TH_COMP_COUNT-1; NULL past the end. */
const struct th_schema_record *th_component_record(unsigned idx);
/* Stable id of a component: th_siphash_str(name); 0 past the end. */
uint64_t th_component_id(unsigned idx);
/* Index of the component with this id or name, or -ENOENT. */
int th_component_find(uint64_t id);
int th_component_find_name(const char *name);

/* Canonical encoding of one record value (a C struct of the record's
 * layout). Returns the number of bytes written (= wire_size), -ENOBUFS when
 * cap is too small, -EINVAL for a non-finite float. */
int th_schema_encode(const struct th_schema_record *r, const void *value, uint8_t *out, size_t cap);
/* Appends the encoding to a th_wbuf; returns 0 or the error above. */
int th_schema_encode_wbuf(const struct th_schema_record *r, const void *value, struct th_wbuf *b);
/* Decodes exactly wire_size bytes into a C struct (padding zeroed).
 * -EBADMSG when len differs from wire_size or a float is not finite; value is
 * untouched on failure. */
int th_schema_decode(const struct th_schema_record *r, const uint8_t *in, size_t len, void *value);

/* Canonical text of every schema source (what the schema hash covers), into
 * b; 0 or th_wbuf's error. Format in schemas/README.md. */
int th_schema_render(struct th_wbuf *b);
/* SipHash-2-4 (th_siphash) of th_schema_render()'s text; computed once. */
uint64_t th_schema_hash(void);
