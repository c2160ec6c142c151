/* Scene checkpoint files: a session's folded scene (th_fold_snapshot bytes)
 * with the log position it covers, written beside the session's log as
 * STATE_DIR/sessions/<id>/checkpoints/ckpt-<next_pos, 20 digits>.thck,
 * atomically (th_file_replace: temporary file, fsync, rename, directory
 * fsync), the newest SESS_CKPT_KEEP kept. Format (little-endian):
 *
 *   offset size field
 *        0    4 magic "THCK"
 *        4    4 version (1)
 *        8   16 session id
 *       24    8 next_pos: the log positions below it are folded in
 *       32   32 world hash (th_fold_world_hash)
 *       64   32 set digest (th_fold_set_digest)
 *       96    8 snapshot length n
 *      104    4 CRC-32C of bytes 0..103 and of the snapshot
 *      108    n snapshot (th_fold_snapshot)
 *
 * This file knows the bytes and the files, not the fold: the caller
 * restores the snapshot and compares the world hash (thetad/sess/scene.c).
 * A small scene's checkpoint is encoded on the loop and written by a
 * writer thread (sess_ckpt_writer); a large one is encoded and written by
 * a child process (sess_ckpt_fork). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESS_CKPT_MAGIC "THCK"
/* 2: the scene's faces carry provenance (th_mesh.h). A version-1 file is
 * not read: the scene is rebuilt from the log. */
#define SESS_CKPT_VERSION 2u
#define SESS_CKPT_HEADER_LEN 108u
#define SESS_CKPT_ID_LEN 16u
#define SESS_CKPT_HASH_LEN 32u
#define SESS_CKPT_KEEP 2u                 /* checkpoint files kept per session */
#define SESS_CKPT_SNAPSHOT_MAX (1ull << 30) /* snapshot bytes a file may hold */
#define SESS_CKPT_LIST_MAX 64u            /* checkpoint files looked at per session */
#define SESS_CKPT_DIR "checkpoints"
#define SESS_CKPT_CHILDREN_MAX 4u         /* checkpoint children at once (all sessions) */
#define SESS_CKPT_JOBS_MAX 256u           /* writes queued on the writer thread (one per session) */

struct sess_ckpt_header {
	uint8_t session[SESS_CKPT_ID_LEN];
	uint64_t next_pos;
	uint8_t world_hash[SESS_CKPT_HASH_LEN];
	uint8_t set_digest[SESS_CKPT_HASH_LEN];
	uint64_t snapshot_len;
};

/* Fills the first SESS_CKPT_HEADER_LEN bytes of file (the snapshot,
 * h->snapshot_len bytes, follows them) with h and the CRC. */
void sess_ckpt_header_put(uint8_t *file, const struct sess_ckpt_header *h);
/* Validates a whole file's bytes: magic, version, lengths, CRC, and that it
 * belongs to session (16 bytes). 0 with *h and *snap (pointing into p), or
 * -EBADMSG with *why (a static sentence). */
int sess_ckpt_parse(const uint8_t *p, size_t len, const uint8_t session[SESS_CKPT_ID_LEN],
		    struct sess_ckpt_header *h, const uint8_t **snap, const char **why);

/* dir/checkpoints/ckpt-<pos>.thck into out[cap]; -ENAMETOOLONG. */
int sess_ckpt_path(const char *dir, uint64_t pos, char *out, size_t cap);
/* The positions of the checkpoint files of the session in dir, newest
 * first, at most max; returns how many (0 without a checkpoints folder). */
int sess_ckpt_list(const char *dir, uint64_t *pos, size_t max);
/* Reads the file of position pos whole (at most SESS_CKPT_HEADER_LEN +
 * SESS_CKPT_SNAPSHOT_MAX bytes) into a malloc'd buffer. */
int sess_ckpt_read(const char *dir, uint64_t pos, uint8_t **out, size_t *len);
/* Writes file[len] (header put, snapshot after it) as the checkpoint of
 * h->next_pos atomically, then removes all but the newest SESS_CKPT_KEEP
 * (by position). 0 or a negative errno (nothing replaced then). */
int sess_ckpt_write(const char *dir, uint64_t next_pos, const uint8_t *file, size_t len);
/* Removes leftover temporary files, and checkpoint files above pos_max
 * (they cover entries the log no longer has). Returns how many checkpoint
 * files it removed. */
int sess_ckpt_tidy(const char *dir, uint64_t pos_max);

/* Reads the header of the checkpoint file of position pos (no CRC check:
 * the file was just written, or sess_ckpt_parse follows). */
int sess_ckpt_read_header(const char *dir, uint64_t pos, struct sess_ckpt_header *h);

/* ---- writing in a child process ----------------------------------------------
 * Encoding a large scene takes its time (hundreds of ms for 100 k faces:
 * the snapshot's encoding and zstd, the world hash), and the scene lives
 * on the loop thread. So a checkpoint is written by a child process, as
 * Redis saves: fork() gives it the loop's state copy-on-write at that
 * instant, the loop carries on after the fork alone, and the child
 * encodes, writes (sess_ckpt_write), and exits with the result. The child
 * closes every inherited descriptor first (the runtime lock, sockets) and
 * dies with its parent. */
struct th_wbuf;
/* Runs in the child: the whole file's bytes (header put) into file, which
 * it initialises; 0 or a negative errno. */
typedef int sess_ckpt_encode_fn(void *ud, struct th_wbuf *file);

struct sess_ckpt_child {
	int pid;   /* 0: none */
	int pidfd; /* readable once the child exited; -1: none */
};

/* Forks the child that writes dir's checkpoint of next_pos with fn(ud).
 * 0 with *c set (poll c->pidfd), or a negative errno (no child). */
int sess_ckpt_fork(const char *dir, uint64_t next_pos, sess_ckpt_encode_fn *fn, void *ud,
		   struct sess_ckpt_child *c);
/* The child's result once it exited (block: wait for it): 0 when the
 * checkpoint was written, its negative errno otherwise, -EAGAIN while it
 * runs (not block). The child is reaped and c cleared then. */
int sess_ckpt_reap(struct sess_ckpt_child *c, bool block);

/* ---- writer thread ----------------------------------------------------------
 * Writes checkpoints in submission order on its own thread; completions
 * come back on the caller's thread through sess_ckpt_writer_poll (the
 * eventfd sess_ckpt_writer_fd turns readable). */
struct sess_ckpt_writer;
typedef void sess_ckpt_done_fn(void *ud, int status, uint64_t next_pos, uint64_t write_ns);

int sess_ckpt_writer_create(struct sess_ckpt_writer **out);
/* Waits for the queued writes (their completions run in the next poll, or
 * are dropped by destroy). */
void sess_ckpt_writer_destroy(struct sess_ckpt_writer **w);
int sess_ckpt_writer_fd(const struct sess_ckpt_writer *w);
/* Queues a write of file[len] (ownership passes: freed after the write)
 * into dir; done(ud, status, next_pos, write_ns) from a later poll.
 * -EAGAIN when SESS_CKPT_JOBS_MAX writes wait (file not taken), -ENOMEM. */
int sess_ckpt_writer_submit(struct sess_ckpt_writer *w, const char *dir, uint64_t next_pos, uint8_t *file,
			    size_t len, sess_ckpt_done_fn *done, void *ud);
/* Runs the completions of finished writes; returns how many. */
int sess_ckpt_writer_poll(struct sess_ckpt_writer *w);
/* Drops the completions not run yet whose ud is ud (its owner goes away);
 * their writes still happen. */
void sess_ckpt_writer_forget(struct sess_ckpt_writer *w, void *ud);
