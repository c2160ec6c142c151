/* Builders for command-log tests, benchmarks and fuzz corpora: authors with
 * deterministic keys, chained entries, records and whole segment files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"
#include "th_logrec.h"

struct lt_author {
	struct th_keypair kp;
	struct th_logrec_chain chain;
};

/* Key derived from 32 copies of seed_byte; empty chain. */
void lt_author_init(struct lt_author *a, uint8_t seed_byte);

/* The author's next entry: component.write on entity `scope_id` with the
 * given lamport and payload (kept by the caller), chained and hashed; the
 * chain advances. sign: attach the author's signature. */
void lt_entry(struct lt_author *a, uint64_t lamport, uint64_t scope_id, const void *payload, uint32_t len,
	      bool sign, struct th_logrec_entry *e, uint8_t hash[TH_LOGREC_HASH_LEN]);

/* The same for any command type and scope. */
void lt_entry_cmd(struct lt_author *a, uint16_t type, uint8_t scope_kind, uint64_t lamport, uint64_t scope_id,
		  const void *payload, uint32_t len, bool sign, struct th_logrec_entry *e,
		  uint8_t hash[TH_LOGREC_HASH_LEN]);

/* A segment being built in memory. */
struct lt_seg {
	struct th_wbuf b;
	uint64_t index;
};
void lt_seg_begin(struct lt_seg *s, uint64_t index);
/* Appends e as a record; returns the record's offset. */
size_t lt_seg_add(struct lt_seg *s, const struct th_logrec_entry *e, uint64_t batch, uint8_t flags);
/* Recomputes the CRC of the record at off after a test edited its body. */
void lt_seg_refresh_crc(struct lt_seg *s, size_t off);
/* Writes it as dir/<index>.seg (fsynced); frees the buffer. */
int lt_seg_write(struct lt_seg *s, const char *dir);
void lt_seg_free(struct lt_seg *s);

/* Whole-file helpers. */
int lt_write_file(const char *path, const void *data, size_t len);
int lt_read_file(const char *path, uint8_t **data, size_t *len);
/* XORs mask into the byte at off of path. */
int lt_flip_byte(const char *path, uint64_t off, uint8_t mask);
int lt_truncate(const char *path, uint64_t len);
long long lt_file_size(const char *path);
