/* The fold's state, shared by th_fold.c (ordering, rollback, undo and redo,
 * tentatives) and th_fold_snap.c (snapshots). Not for use outside them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_fold.h"
#include "th_journal.h"
#include "th_logrec.h"
#include "th_scene.h"

#define TH_FOLD_KEY_LEN TH_LOGREC_KEY_LEN

/* An entry's place in the total order: (lamport, author key bytes). */
struct th_fold_key {
	uint64_t lamport;
	uint8_t author[TH_FOLD_KEY_LEN];
};

/* One author of the folded set: the version vector and its head. */
struct th_fold_author {
	uint8_t key[TH_FOLD_KEY_LEN];
	uint64_t seq;     /* last folded seq */
	uint64_t lamport; /* its lamport */
	uint8_t head[TH_LOGREC_HASH_LEN]; /* th_logrec_entry_hash of it, when head_ok */
	bool head_ok; /* else hashed when asked for (or when it leaves the window) */
};

/* One entry of the rollback window, in total order. Its scene step's
 * inverse is the shared journal's bytes from mark to the next entry's mark
 * (the journal's end for the newest). */
struct th_fold_ent {
	struct th_logrec_entry e; /* payload points at the owned copy */
	uint8_t *payload;
	uint64_t pos;
	size_t mark;
	uint8_t status, reason; /* of the last replay */
	const char *why;
	uint8_t rstatus, rreason; /* as last reported (0: not yet) */
};

/* One control entry (edit.undo, edit.redo, session.*), kept forever. */
struct th_fold_ctl {
	struct th_fold_key key;
	uint64_t seq, pos;
	uint16_t type;
	bool bad;                  /* the payload does not decode */
	struct th_fold_key target; /* undo, redo */
	uint8_t member[TH_FOLD_KEY_LEN]; /* role_set */
	uint8_t role;
	uint8_t status, reason; /* as recomputed */
	const char *why;
	uint8_t rstatus, rreason; /* as last reported (0: not yet) */
	const char *rwhy;
	bool revoked;             /* undo: a standing redo names it */
};

/* A target of standing undos and how many stand (not revoked). */
struct th_fold_excl {
	struct th_fold_key key;
	uint32_t n;
};

struct th_fold_role {
	uint8_t member[TH_FOLD_KEY_LEN];
	uint8_t role;
};

struct th_fold_tent {
	uint64_t token;
	struct th_logrec_entry e;
	uint8_t *payload;
	size_t mark;
	bool applied;
};

struct th_fold {
	uint8_t host[TH_FOLD_KEY_LEN];
	uint32_t win_max;
	size_t win_bytes_max;
	th_fold_outcome_fn *on_outcome;
	th_scene_change_fn *on_change;
	void *ud;

	struct th_scene *scene;
	struct th_journal j;  /* the window's scene steps */
	struct th_journal tj; /* the tentatives' */

	struct th_fold_author *authors; /* ascending key */
	size_t nauthors, cap_authors;

	struct th_fold_ent *win; /* win[lo .. lo + nwin), ascending key */
	size_t lo, nwin, cap_win;
	size_t ent_bytes; /* structs and payloads of the window's entries */

	/* Entries at or below floor are out of reach: dropped from the window,
	 * or folded into the snapshot this fold was restored from. */
	bool has_floor;
	struct th_fold_key floor;

	struct th_fold_ctl *ctl; /* ascending key */
	size_t nctl, cap_ctl;
	struct th_fold_excl *excl; /* targets of standing undos, ascending key */
	size_t nexcl, cap_excl;
	struct th_fold_role *roles; /* at the end of the order */
	size_t nroles, cap_roles;
	/* revoked flags and roles may be stale (after a failed add): the next
	 * control entry recomputes everything */
	bool ctl_dirty;

	struct th_fold_tent *tent; /* in the order added */
	size_t ntent, cap_tent;

	uint64_t next_pos;
	uint64_t entries, applied, refused, excluded, control;
	uint64_t rollbacks, replayed, out_of_window;

	bool hash_ok;
	uint8_t hash[TH_SCENE_HASH_LEN];
	bool broken; /* a failed recovery from -ENOMEM left the scene unknown */
};

int th_fold_key_cmp(const struct th_fold_key *a, const struct th_fold_key *b);
/* The author's head hash into out (hashing its last entry if that has not
 * been done yet). */
void th_fold_author_head(const struct th_fold *f, const struct th_fold_author *a, uint8_t out[TH_LOGREC_HASH_LEN]);
/* Recomputes every control record's outcome, the roles at the end and the
 * exclusion set into *excl (allocated, ascending): 0 or -ENOMEM. */
int th_fold_ctl_recompute(struct th_fold *f, struct th_fold_excl **excl, size_t *nexcl);
/* Takes the tentatives off the scene (and puts them back), reporting no
 * change when quiet. */
void th_fold_tent_off(struct th_fold *f, bool quiet);
void th_fold_tent_on(struct th_fold *f, bool quiet);
/* Creates an empty fold (no scene content). */
int th_fold_new(const struct th_fold_config *c, struct th_fold **out);
