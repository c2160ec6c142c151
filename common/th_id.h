/* Stable 64-bit ids of entities and mesh elements, derived identically by
 * every replica from the entry that creates them (schemas/ids.def has the
 * kinds and the exact derivation). */
#pragma once
#include <stdint.h>

#include "th_buf.h"

#define TH_ID_KEY_LEN 32 /* the author's Ed25519 public key */
#define TH_ID_NONE    0ull

enum th_id_kind {
#define TH_ID_KIND(value, NAME, name) TH_ID_##NAME = (value),
#include "ids.def"
#undef TH_ID_KIND
};

/* The id of the thing of `kind` that the entry (author, seq) creates as its
 * `index`th: never TH_ID_NONE. */
uint64_t th_id_derive(enum th_id_kind kind, const uint8_t author[TH_ID_KEY_LEN], uint64_t seq, uint32_t index);
/* Name of a kind ("entity", "mesh-element"), "?" for an unknown one. */
const char *th_id_kind_name(unsigned kind);
/* Canonical text of ids.def for the schema hash: one line per kind and one
 * for the derivation; 0 or th_wbuf's error. */
int th_id_render(struct th_wbuf *b);
