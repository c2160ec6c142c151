/* The fold: a session's world as a pure function of the set of its log
 * entries (docs/scene.md). Entries are applied to a th_scene in the log's
 * total order, (lamport, author key bytes) ascending, whatever order they
 * arrive in, with undo and redo across authors:
 *
 *   - th_fold_add takes entries whose signatures and chains were verified
 *     (by the log). Per author they come in seq order without gaps; the
 *     version vector (author -> last seq) names the folded set exactly.
 *   - An entry that sorts below the newest folded one rolls the scene back:
 *     the journals of the entries above it are reverted, newest first, it
 *     is applied, and they are applied again (their outcomes may change:
 *     reported again). The rollback window keeps the journals and bodies of
 *     the newest window_entries entries (and at most window_bytes); an entry
 *     that sorts below it returns -ERANGE and changes nothing: the owner
 *     rebuilds (thetad, from its log) or restores a newer snapshot
 *     (theta-client asks its daemon).
 *   - edit.undo names an entry (lamport, author); while it stands the world
 *     is as if that entry were absent (entries that depended on it are
 *     refused). edit.redo names an undo entry and revokes it. An undo or
 *     redo stands when its author wrote the target, or is an admin at the
 *     undo's place in the order (the host key, or a session.role_set to
 *     admin by an admin before it). Undo, redo, session.* and role entries
 *     themselves cannot be undone. No depth limit: every undo and redo is
 *     kept (control state, in snapshots).
 *   - Outcomes (applied, refused with a reason, excluded by an undo,
 *     control) go to on_outcome, at first fold and whenever a replay
 *     changes one.
 *
 * A snapshot is the canonical, zstd-compressed state: set identity (version
 * vector and each author's head hash), control state (undos, redos, roles)
 * and the scene (th_scene_encode); th_fold_restore rebuilds a fold from one,
 * with an empty rollback window.
 *
 * Optimistic edits (theta-client): a tentative entry is applied on top of
 * the folded scene at once, reverted before every th_fold_add and applied
 * again after it, until dropped (its real entry arrived, or it was
 * rejected). The world hash and snapshots never include tentatives. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"
#include "th_logrec.h"
#include "th_scene.h"

#define TH_FOLD_WINDOW_ENTRIES 65536u       /* default rollback window, entries */
#define TH_FOLD_WINDOW_BYTES (64u << 20)   /* default rollback window, bytes */
#define TH_FOLD_AUTHORS_MAX 65536u
#define TH_FOLD_SNAPSHOT_MAGIC 0x31534854u /* "THS1" */
#define TH_FOLD_SNAPSHOT_VERSION 2u        /* 2: faces carry provenance; 1 is not read */
#define TH_FOLD_SNAPSHOT_MAX (1u << 30)    /* uncompressed bytes a snapshot may claim */

enum th_fold_status {
	TH_FOLD_APPLIED = 1,
	TH_FOLD_REFUSED,  /* reason in the outcome */
	TH_FOLD_EXCLUDED, /* undone by a standing edit.undo */
	TH_FOLD_CONTROL,  /* undo, redo, role or session entry: no scene effect */
};

struct th_fold_outcome {
	uint64_t lamport;
	const uint8_t *author; /* 32 bytes */
	uint64_t seq;
	uint64_t pos;  /* as given to th_fold_add */
	uint16_t type; /* command type */
	uint8_t status; /* enum th_fold_status */
	uint8_t reason; /* enum th_refusal when REFUSED */
	const char *why;
	bool again; /* a replay changed an outcome reported before */
};
typedef void th_fold_outcome_fn(void *ud, const struct th_fold_outcome *o);

struct th_fold_config {
	uint8_t host_key[TH_LOGREC_KEY_LEN]; /* the session's host: admin throughout */
	uint32_t window_entries;             /* 0: TH_FOLD_WINDOW_ENTRIES */
	size_t window_bytes;                 /* 0: TH_FOLD_WINDOW_BYTES */
	th_fold_outcome_fn *on_outcome;      /* may be NULL */
	th_scene_change_fn *on_change;       /* may be NULL */
	void *ud;
};

struct th_fold_stats {
	uint64_t entries;   /* in the set */
	uint64_t applied, refused, excluded, control;
	uint64_t rollbacks; /* adds that reverted at least one entry */
	uint64_t replayed;  /* entries applied again by rollbacks */
	uint64_t out_of_window; /* adds refused with -ERANGE */
	uint64_t window_entries, window_bytes;
	uint64_t next_pos;  /* 1 + the highest pos given, 0 before any */
	uint64_t tentative;
};

struct th_fold;

int th_fold_create(const struct th_fold_config *c, struct th_fold **out);
void th_fold_destroy(struct th_fold **f);

/* Adds one verified entry (its body is copied), pos its position in the
 * caller's log. Returns 0 (folded: outcomes reported), 1 (already in the
 * set: seq at or below its author's folded seq; nothing happens), -EPROTO
 * (seq skips ahead: a hole in the author's chain), -ERANGE (below the
 * rollback window, see above), -ENOMEM; nothing changes on an error.
 * -EPROTO also for a lamport not above the author's last, and for a prev
 * that differs from the author's head where the fold holds it (zero for
 * seq 1; after a restore): the chain is the log's to verify. -ENOSPC for
 * a new author past TH_FOLD_AUTHORS_MAX. If memory runs out again while
 * the scene is put back after a failed replay, the fold answers -ENOMEM
 * from then on (its owner rebuilds it). Not to be called from the fold's
 * own callbacks. */
int th_fold_add(struct th_fold *f, const struct th_logrec_entry *e, uint64_t pos);

/* New bounds for the rollback window (0: the default), applied at once:
 * the oldest entries past them leave it. A rebuild from a log can fold with
 * a window covering the whole log (UINT32_MAX, SIZE_MAX: no undo of an old
 * entry falls out of reach) and shrink it afterwards. */
void th_fold_set_window(struct th_fold *f, uint32_t entries, size_t bytes);

const struct th_scene *th_fold_scene(const struct th_fold *f);
void th_fold_stats(const struct th_fold *f, struct th_fold_stats *out);
/* The world hash of the folded set (th_scene_hash, tentatives left out). */
int th_fold_world_hash(struct th_fold *f, uint8_t out[TH_SCENE_HASH_LEN]);
/* Digest of the folded set: BLAKE2b-256 over "theta.set.v1\0\0\0\0" and,
 * per author in ascending key order, key[32] | u64 seq LE | head hash[32]
 * (the hash of its last folded entry, which pins its whole chain). */
void th_fold_set_digest(const struct th_fold *f, uint8_t out[32]);
/* The author's last folded seq (0: none). */
uint64_t th_fold_author_seq(const struct th_fold *f, const uint8_t author[TH_LOGREC_KEY_LEN]);
/* Outcome of a folded entry still in the window or in the control state:
 * 0 with *o filled (o->why static; o->author points into the fold, valid
 * until its next change, as in on_outcome), -ENOENT. */
int th_fold_outcome_of(const struct th_fold *f, uint64_t lamport, const uint8_t author[TH_LOGREC_KEY_LEN],
		       struct th_fold_outcome *o);

/* Snapshot appended to w: 0 or a negative errno. */
int th_fold_snapshot(struct th_fold *f, struct th_wbuf *w);
/* A fold rebuilt from snapshot bytes (validated completely: -EBADMSG with
 * *why). c as for th_fold_create; its host key must match the snapshot's
 * (-EBADMSG otherwise). */
int th_fold_restore(const struct th_fold_config *c, const uint8_t *p, size_t len, struct th_fold **out,
		    const char **why);

/* Optimistic edits, see above. e names the command (type, scope, payload;
 * author and seq are provisional: ids it creates are provisional too).
 * add: 0 applied, -EINVAL refused (*r), -EEXIST token in use. drop: 0 or
 * -ENOENT. */
int th_fold_tentative_add(struct th_fold *f, uint64_t token, const struct th_logrec_entry *e,
			  struct th_scene_refusal *r);
int th_fold_tentative_drop(struct th_fold *f, uint64_t token);
