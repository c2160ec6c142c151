/* Command-log segment files and the scanner/verifier over a log directory.
 * One scanner serves the daemon's recovery (thetad/clog) and `thetactl log
 * verify` (no daemon needed).
 *
 * A log directory holds segments named "%016llx.seg" (index from 1, no
 * gaps). Each segment: a 32-byte header, then records (th_logrec.h):
 *   u8[8] "THETALOG"  u32 version (1)  u32 header length (32)
 *   u64 segment index u32 zero         u32 CRC-32C of bytes 0..27
 * A group-commit batch never spans segments; its last record carries
 * TH_LOGREC_F_BATCH_END; batch ids run 1, 2, 3 ... across the whole log.
 *
 * Verification: every record's framing and CRC, entry fields and registry,
 * per-author chain (seq, prev, lamport), signatures (each unsigned entry must
 * be covered by a later signed entry of its author in the same batch), batch
 * sequence, segment sequence.
 *
 * Damage classes (what recovery may do):
 *  - torn: the damage (framing or CRC failures, or a missing end marker) is
 *    confined to the final batch of the final segment, and nothing after
 *    the damage belongs to another batch. A crash while the batch was
 *    written leaves exactly this, and the writer acknowledges a batch only
 *    after fdatasync; but a byte damaged later inside an acknowledged final
 *    batch looks the same, and one copy cannot tell the two apart. Recovery
 *    truncates it (cut_segment/cut_offset) and the scan describes what the
 *    cut held (cut_*), so the owner can say which records may have been
 *    acknowledged and fetch them from a replica.
 *  - corrupt: anything else (a bad record followed by later batches, a
 *    record whose CRC holds but whose signature, chain or order does not,
 *    a missing segment). Never repaired automatically. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_logrec.h"

#define TH_LOGSEG_MAGIC "THETALOG"
#define TH_LOGSEG_VERSION 1u
#define TH_LOGSEG_HDR_LEN 32u
#define TH_LOGSEG_SUFFIX ".seg"
#define TH_LOGSEG_NAME_LEN 21 /* 16 hex digits + ".seg" + NUL */
/* Limits on what a (possibly hostile) log directory can make us hold. */
#define TH_LOGDIR_SEGMENTS_MAX 65536u
#define TH_LOGSEG_BYTES_MAX (1ull << 36)   /* 64 GiB per segment file */
#define TH_LOGSCAN_AUTHORS_MAX (1u << 18)

void th_logseg_header_put(uint8_t out[TH_LOGSEG_HDR_LEN], uint64_t index);
/* 0 and *index, or -EBADMSG. */
int th_logseg_header_parse(const uint8_t *p, size_t len, uint64_t *index);
/* Whether name is a segment file's name ("%016llx.seg", index >= 1), with
 * its index. */
bool th_logseg_name_parse(const char *name, uint64_t *index);
/* "dir/%016llx.seg" into out[cap]; -ENAMETOOLONG. */
int th_logseg_path(const char *dir, uint64_t index, char *out, size_t cap);

/* Authors listed in a description of a cut batch. */
#define TH_LOGSCAN_CUT_AUTHORS_MAX 16u

/* One author's records in a cut batch, as far as they could be read. */
struct th_logscan_cut_author {
	uint8_t pk[TH_LOGREC_KEY_LEN];
	uint64_t seq_first, seq_last; /* lowest and highest seq found */
	uint32_t records;
};

/* A verified record, handed to the scanner's callback in log order. */
struct th_logscan_rec {
	uint64_t index;   /* record number from 0 over the whole log */
	uint64_t segment; /* segment index */
	uint64_t offset;  /* byte offset of the record in its segment file */
	uint32_t len;     /* whole record length */
	struct th_logrec_frame frame;
	struct th_logrec_entry entry; /* payload points into the mapped file */
	uint8_t hash[TH_LOGREC_HASH_LEN];
};

struct th_logscan_ops {
	/* Each verified record, in order; a negative return stops the scan
	 * and becomes th_logscan's return. Records of a batch are handed over
	 * only once the whole batch (signatures included) has verified. */
	int (*record)(void *user, const struct th_logscan_rec *r);
	/* Each segment before its records (index, file size). Optional. */
	int (*segment)(void *user, uint64_t index, uint64_t size);
};

struct th_logscan_result {
	/* What verified. */
	uint64_t records, segments, batches, authors;
	uint64_t last_batch;  /* id of the last verified batch, 0 if none */
	uint64_t max_lamport;
	uint64_t end_segment; /* where the verified log ends */
	uint64_t end_offset;
	/* ok: everything verified. Otherwise the first bad record: */
	bool ok;
	bool torn; /* damage is confined to the final batch (see above) */
	uint64_t bad_index, bad_segment, bad_offset;
	int bad_reason; /* enum th_logrec_fault */
	/* When torn: truncate segment cut_segment to cut_offset bytes (0 means
	 * remove the segment file) and remove every later segment. */
	uint64_t cut_segment, cut_offset;
	uint64_t cut_bytes; /* bytes that truncation drops */
	/* When torn: what those bytes held, read back as far as they go. The
	 * cut records would have had record indexes (positions) cut_first
	 * .. cut_first + cut_records - 1. */
	uint64_t cut_first;
	uint32_t cut_records; /* records found (frame magic, plausible length) */
	uint32_t cut_damaged; /* of which failed their CRC or did not decode */
	uint32_t cut_unknown; /* of which the author and seq could not be trusted */
	uint32_t cut_nauthors;
	bool cut_authors_more; /* more authors than TH_LOGSCAN_CUT_AUTHORS_MAX */
	struct th_logscan_cut_author cut_authors[TH_LOGSCAN_CUT_AUTHORS_MAX];
};

/* Scans and verifies the log in dir. Returns 0 when the scan ran (read
 * res->ok / res->torn), a negative errno when the directory or a file could
 * not be read, or the callback's negative return. */
int th_logscan_dir(const char *dir, const struct th_logscan_ops *ops, void *user,
		   struct th_logscan_result *res);
/* Same over one segment file (a copy may be named anything); chains of
 * authors seen first in a segment other than 1 are anchored at their first
 * entry there. */
int th_logscan_file(const char *path, const struct th_logscan_ops *ops, void *user,
		    struct th_logscan_result *res);

/* The in-memory core (fuzzing, tests): segments fed in order. */
struct th_logscan;
int th_logscan_create(const struct th_logscan_ops *ops, void *user, struct th_logscan **out);
void th_logscan_destroy(struct th_logscan **s);
/* Feeds one whole segment file's bytes. last: no segment follows. anchor:
 * accept chains that start mid-way (single later segment). Returns 0 to go
 * on, 1 when the scan has stopped at a bad record (see the result), or a
 * callback's negative return. */
int th_logscan_segment(struct th_logscan *s, uint64_t index, const uint8_t *data, size_t len, bool last,
		       bool anchor);
/* Final checks and the result. */
void th_logscan_finish(struct th_logscan *s, struct th_logscan_result *res);
/* Chain state of an author after the scan; -ENOENT if never seen. */
int th_logscan_author(const struct th_logscan *s, const uint8_t pk[TH_LOGREC_KEY_LEN],
		      struct th_logrec_chain *out);
