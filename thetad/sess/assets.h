/* A session's asset store: content-addressed files under
 * SESSION_DIR/assets/ (see docs/network.md "Assets").
 *
 *   <hex>        a complete asset, named by the SHA-256 of its bytes (64
 *                lowercase hex digits); written only by renaming a .part
 *                whose bytes were verified against that hash
 *   <hex>.part   a partial download or upload: its length is how far it got
 *                and where a transfer resumes
 *   <hex>.meta   what the store knows about it: size and name (atomic
 *                replace), present for every asset the store lists,
 *                including "missing" ones (announced, no bytes yet)
 *
 * Bytes are appended in order (an offset at or below what is present is
 * taken, overlapping bytes are skipped; one past it is refused), hashed as
 * they arrive (a resumed .part is hashed once from disk), and checked when
 * the last byte is in: a mismatch discards the .part. Nothing here logs;
 * nothing holds a whole asset in memory. Not thread-safe (the daemon loop). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sodium.h>

/* Limits on what peers and callers can make a session store hold. */
#define SESS_ASSET_MAX_SIZE    (256ull << 20) /* bytes of one asset */
#define SESS_ASSET_MAX_COUNT   1024u          /* assets per session (any state) */
#define SESS_ASSET_MAX_TOTAL   (8ull << 30)   /* bytes per session (sum of sizes) */
#define SESS_ASSET_NAME_MAX    255            /* bytes of a name */
#define SESS_ASSET_MAX_WRITERS 16u            /* .part files open for writing at once */
#define SESS_ASSET_MAX_READERS 16u            /* complete files open for reading at once */
#define SESS_ASSET_HASH_LEN    32
#define SESS_ASSET_HEX_LEN     64
#define SESS_ASSET_DIR         "assets"
#define SESS_ASSET_META_MAX    1024           /* bytes of a .meta file */

enum sess_asset_state {
	SESS_ASSET_MISSING = 0,  /* known (announced), no bytes here */
	SESS_ASSET_PARTIAL = 1,  /* some bytes, in <hex>.part */
	SESS_ASSET_COMPLETE = 2, /* verified, in <hex> */
};

struct sess_asset {
	uint8_t hash[SESS_ASSET_HASH_LEN];
	char hex[SESS_ASSET_HEX_LEN + 1];
	char name[SESS_ASSET_NAME_MAX + 1];
	uint64_t size;
	uint64_t have;   /* bytes present (== size when complete) */
	uint8_t state;   /* enum sess_asset_state */
	/* private */
	int wfd, rfd;    /* -1 when closed */
	bool hashing;    /* hs covers the first `have` bytes */
	crypto_hash_sha256_state hs;
};

struct sess_assets;

/* Opens (creating) session_dir/assets and lists what is there: every
 * .meta with a well-formed name and content; a .part longer than its asset
 * is discarded; a complete file of the wrong length is demoted to missing.
 * Other files are left alone. */
int sess_assets_open(const char *session_dir, struct sess_assets **out);
void sess_assets_close(struct sess_assets **p);
const char *sess_assets_dir(const struct sess_assets *st);

unsigned sess_assets_count(const struct sess_assets *st);
/* i-th asset (0 <= i < count), in the order they became known. */
const struct sess_asset *sess_assets_at(const struct sess_assets *st, unsigned i);
const struct sess_asset *sess_assets_find(const struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN]);
/* By hex digits: the full 64, or a prefix of at least 8 that names one
 * asset. -ENOENT none, -EEXIST (ambiguous prefix), -EINVAL not hex. */
int sess_assets_lookup(const struct sess_assets *st, const char *hex, const struct sess_asset **out);

/* Makes an asset known (writes its .meta). Known already: 0 and the
 * existing entry (a different size is -EBADMSG). -EFBIG size 0 or past
 * SESS_ASSET_MAX_SIZE, -EINVAL bad name, -ENOSPC past SESS_ASSET_MAX_COUNT
 * or SESS_ASSET_MAX_TOTAL. */
int sess_assets_add(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN], uint64_t size, const char *name,
		    const struct sess_asset **out);
/* Appends bytes at offset: offset <= have (bytes below `have` are skipped),
 * offset + len <= size. Returns the new `have`. -ENOENT unknown, -EALREADY
 * complete, -ESPIPE offset > have, -EFBIG past size, -EMFILE too many
 * writers open, or the I/O error. */
int64_t sess_assets_write(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN], uint64_t offset,
			  const void *data, size_t len);
/* Once have == size: checks the SHA-256, makes the data durable
 * (fdatasync) and renames <hex>.part to <hex> (then fsyncs the folder).
 * -EAGAIN not all bytes yet, -EBADMSG hash mismatch (the .part is removed:
 * the asset is missing again), -EALREADY complete already. */
int sess_assets_complete(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN]);
/* Drops the partial bytes of an asset (it stays known, missing). */
int sess_assets_discard(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN]);
/* Closes the .part writer of an asset no transfer writes to now. */
void sess_assets_release(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN]);
/* Reads up to len bytes of a complete asset at offset; returns the count
 * (0 at the end). -ENOENT unknown or not complete. */
ssize_t sess_assets_read(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN], uint64_t offset, void *buf,
			 size_t len);
/* Hex of a hash into out[65]; parse: 0 or -EINVAL. */
void sess_asset_hex(const uint8_t hash[SESS_ASSET_HASH_LEN], char out[SESS_ASSET_HEX_LEN + 1]);
int sess_asset_unhex(const char *hex, uint8_t hash[SESS_ASSET_HASH_LEN]);
/* Name rules of the wire (proto_sess_asset_name_ok). */
bool sess_asset_name_ok(const char *name);
