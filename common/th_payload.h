/* Typed command payloads, generated from schemas/commands.def (the single
 * description; field kinds in its header comment): structs
 * struct th_pl_<cname>, encoders, validating decoders, size limits
 * (TH_PL_MAXSZ_<ENUM>, th_cmd_info.max_encoded; never above the log's cap
 * max_payload) and the constants TH_PL_<NAME>.
 *
 * Decoders validate everything (exact length, ranges, finite floats, UTF-8,
 * component ids and value sizes, list counts, each payload's rule) and never
 * write *out on failure. P_VALUE and P_BYTES fields of a decoded payload
 * point into the input: decode from bytes that outlive the struct.
 * Encoders refuse what the decoders would refuse (-EINVAL), so whatever
 * they produce decodes back to the same struct. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"

#define TH_PL_KEY_LEN 32

/* ---- constants: TH_PL_<NAME> ---------------------------------------------- */
enum {
#define TH_PAYLOAD_CONST(NAME, value) TH_PL_##NAME = (value),
#include "commands.def"
#undef TH_PAYLOAD_CONST
};

/* ---- structs ---------------------------------------------------------------- */
#define P_U32(n) uint32_t n;
#define P_U64(n) uint64_t n;
#define P_NZ64(n) uint64_t n;
#define P_ID(n) uint64_t n;
#define P_ENUM8(n, lo, hi) uint8_t n;
#define P_KEY(n) uint8_t n[TH_PL_KEY_LEN];
#define P_F32S(n, count) float n[count];
#define P_COMPONENT(n) uint64_t n;
#define P_VALUE(n, comp) const uint8_t *n; uint16_t n##_len;
#define P_TEXT(n, lo, hi) char n[(hi) + 1];
#define P_BYTES(n, hi) const uint8_t *n; uint16_t n##_len;
#define P_LIST(n, item, lo, hi) uint16_t n##_count; struct th_pl_##item n[hi];
#define TH_PAYLOAD_ITEM(item, RULE, FIELDS) struct th_pl_##item { FIELDS };
#include "commands.def"
#undef TH_PAYLOAD_ITEM
#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) struct th_pl_##cname { FIELDS };
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

/* ---- largest encodings: TH_PL_MAXSZ_ITEM_<item>, TH_PL_MAXSZ_<ENUM> --------- */
#define P_U32(n) +4
#define P_U64(n) +8
#define P_NZ64(n) +8
#define P_ID(n) +8
#define P_ENUM8(n, lo, hi) +1
#define P_KEY(n) +TH_PL_KEY_LEN
#define P_F32S(n, count) +4 * (count)
#define P_COMPONENT(n) +8
#define P_VALUE(n, comp) +2 + TH_PL_VALUE_MAX
#define P_TEXT(n, lo, hi) +2 + (hi)
#define P_BYTES(n, hi) +2 + (hi)
#define P_LIST(n, item, lo, hi) +2 + (hi) * TH_PL_MAXSZ_ITEM_##item
enum {
#define TH_PAYLOAD_ITEM(item, RULE, FIELDS) TH_PL_MAXSZ_ITEM_##item = 0 FIELDS,
#include "commands.def"
#undef TH_PAYLOAD_ITEM
};
enum {
#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) TH_PL_MAXSZ_##ENUM = 0 FIELDS,
#include "commands.def"
#undef TH_COMMAND
};
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

/* Any payload, for generic decoding: member <cname>. */
union th_pl_any {
#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) struct th_pl_##cname cname;
#include "commands.def"
#undef TH_COMMAND
};

/* Typed forms: th_pl_encode_<cname>() appends the encoding to w (0, -EINVAL
 * for a payload that breaks a rule, w untouched, or th_wbuf's error);
 * th_pl_decode_<cname>() returns 0 or -EBADMSG with *why (may be NULL) set
 * to a static "field: reason" text. */
#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS)                        \
	int th_pl_encode_##cname(const struct th_pl_##cname *m, struct th_wbuf *w);                   \
	int th_pl_decode_##cname(const uint8_t *p, size_t len, struct th_pl_##cname *out, const char **why);
#include "commands.def"
#undef TH_COMMAND

/* Generic forms by command type id: -ENOENT for an unknown type, else as
 * above. th_cmd_payload_encode writes into buf[cap] and returns the length
 * (-ENOBUFS when cap is too small). th_cmd_payload_check only validates. */
int th_cmd_payload_encode(uint16_t type, const void *m, uint8_t *buf, size_t cap);
int th_cmd_payload_decode(uint16_t type, const uint8_t *p, size_t len, union th_pl_any *out, const char **why);
int th_cmd_payload_check(uint16_t type, const uint8_t *p, size_t len, const char **why);

/* Canonical text of the payload constants and items for the schema hash
 * (th_cmd_render adds the commands' fields); 0 or th_wbuf's error. */
int th_pl_render(struct th_wbuf *b);
