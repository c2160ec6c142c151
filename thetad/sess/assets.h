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
 *   .in-XXXXXX   a copy from a caller's file under way (below); one left
 *                by a crash is removed when the store opens
 *
 * Bytes are appended in order (an offset at or below what is present is
 * taken, overlapping bytes are skipped; one past it is refused), hashed as
 * they arrive (a resumed .part is hashed once from disk), and checked when
 * the last byte is in: a mismatch discards the .part. Nothing here logs;
 * nothing holds a whole asset in memory. Not thread-safe (the daemon loop;
 * copies run their file I/O on threads of their own, below). */
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
#define SESS_ASSET_PATH_MAX    4200           /* a path inside the store's folder */
#define SESS_ASSET_STAGE_PREFIX ".in-"        /* staging files of copies in (removed at open) */
#define SESS_ASSET_COPIES_MAX  4u             /* copies with callers' files running at once, per store */
#define SESS_ASSET_COPY_BUF    (1u << 20)     /* bytes a copy moves per read */
#define SESS_ASSET_COPY_FLUSH  (8u << 20)     /* bytes of a copy in after which writeback starts */

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
/* A new staging file in the store's folder (SESS_ASSET_STAGE_PREFIX, mode
 * 0600): its path into path[len] and its read-write descriptor, or -errno. */
int sess_assets_stage(struct sess_assets *st, char *path, size_t len);
/* Takes the staging file at path, whose bytes (durable already) hash to
 * hash, as a complete asset: made known as sess_assets_add does (same
 * errors) and renamed to its final name (then the folder is synced); a
 * partial download of it is dropped. An asset complete already keeps its
 * file and the staging file is removed. 0 and *out, or -errno (the
 * staging file stays for the caller to remove). */
int sess_assets_adopt(struct sess_assets *st, const char *path, const uint8_t hash[SESS_ASSET_HASH_LEN],
		      uint64_t size, const char *name, const struct sess_asset **out);

/* ---- Copies with a caller's file ----------------------------------------------------
 * `thetactl asset put/get` pass the caller's open file (SCM_RIGHTS over
 * control.sock); the daemon never opens a path the caller names. A copy
 * runs on a thread of its own (at most SESS_ASSET_COPIES_MAX per store):
 * in, it reads the file from its current offset to its end (at most
 * SESS_ASSET_MAX_SIZE bytes) into a staging file, hashing, and the loop
 * adopts it under the hash it got; out, it reads a complete asset, hashing,
 * and writes it at the file's current offset, and fails if the bytes do
 * not hash to the asset's name (a file damaged on disk). Reads and writes
 * use the file's offset, which the caller shares: it sees the copy move.
 * done runs on the loop (through an eventfd the loop watches) once, with
 * the copy, which is freed when it returns. */
struct sess_asset_copy;
struct th_loop;
typedef void (*sess_asset_copy_done_fn)(void *ud, struct sess_asset_copy *cp);

enum sess_asset_copy_fault {
	SESS_COPY_FAULT_NONE = 0,
	SESS_COPY_FAULT_CALLER, /* reading or writing the caller's file */
	SESS_COPY_FAULT_STORE,  /* the store's disk, or a damaged asset */
	SESS_COPY_FAULT_LIMIT,  /* the store would not take it (sess_assets_add's errors) */
};

/* 0 (started), -EINVAL name or fd not a regular file, -EBADF fd not open
 * for reading, -EBUSY SESS_ASSET_COPIES_MAX running, -errno. */
int sess_assets_copy_in(struct sess_assets *st, struct th_loop *loop, int fd, const char *name,
			sess_asset_copy_done_fn done, void *ud);
/* The same out of complete asset a into fd (open for writing, not
 * O_APPEND: -EBADF); -ENOENT a is not complete. */
int sess_assets_copy_out(struct sess_assets *st, struct th_loop *loop, const struct sess_asset *a, int fd,
			 sess_asset_copy_done_fn done, void *ud);
/* In done: 0 and the asset (in: the one stored, out: the one copied), or
 * -errno and which side failed: -EFBIG the file is larger than an asset
 * may be, -ENODATA it is empty, -EBADMSG the stored asset does not match
 * its hash, or that of the sess_assets_add / read / write that failed. */
int sess_asset_copy_result(const struct sess_asset_copy *cp, enum sess_asset_copy_fault *fault,
			   const struct sess_asset **a);
/* Bytes moved so far (any thread); direction; the name (in: given; out: the asset's). */
uint64_t sess_asset_copy_bytes(const struct sess_asset_copy *cp);
bool sess_asset_copy_in(const struct sess_asset_copy *cp);
/* In done of a copy in: the asset was complete in the store before it. */
bool sess_asset_copy_existed(const struct sess_asset_copy *cp);
const char *sess_asset_copy_name(const struct sess_asset_copy *cp);
/* Private to assets.c / assets_copy.c: the store's running copies. */
struct sess_asset_copy **sess_assets_copies_head(struct sess_assets *st);
/* Stops and joins every running copy of st; their done is not called. */
void sess_assets_copies_cancel(struct sess_assets *st);

/* Hex of a hash into out[65]; parse: 0 or -EINVAL. */
void sess_asset_hex(const uint8_t hash[SESS_ASSET_HASH_LEN], char out[SESS_ASSET_HEX_LEN + 1]);
int sess_asset_unhex(const char *hex, uint8_t hash[SESS_ASSET_HASH_LEN]);
/* Name rules of the wire (proto_sess_asset_name_ok). */
bool sess_asset_name_ok(const char *name);
