/* The user's own history (docs/editor.md, "History"): every edit this client
 * made (what it did, in words), and its undos and redos, with what the
 * daemon said of each. An entry is named by its log id (lamport, author):
 * the lamport and the author's seq come in the CMD_ACK, the author key (the
 * user's, which the client never holds) from the log entry event of one of
 * its acknowledged entries. edit.undo and edit.redo name entries by that id.
 *
 * Pure bookkeeping: no clock, no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_logrec.h"

#define EDIT_HISTORY_MAX 1024u   /* entries kept; past it the oldest state entry goes, else the oldest */
#define EDIT_HISTORY_TEXT 96u    /* bytes of one entry's description */
#define EDIT_HISTORY_RECENT 256u /* folded entries remembered for an ack that comes after them */

/* EDIT: an edit of the scene (undo may name it); STATE: what the user
 * holds and uses (selection, tool, palette materials), logged but never an
 * undo target. */
enum edit_hist_kind { EDIT_H_EDIT = 1, EDIT_H_UNDO, EDIT_H_REDO, EDIT_H_STATE };
enum edit_hist_state {
	EDIT_H_QUEUED = 1, /* in the outbox */
	EDIT_H_SENT,       /* handed to the link, client_seq known */
	EDIT_H_ACKED,      /* logged: lamport and seq known */
	EDIT_H_REJECTED,   /* the daemon refused to log it */
	EDIT_H_REFUSED,    /* logged, but the scene refused it */
};

struct edit_hist_entry {
	uint64_t tag;        /* from 1, in submission order */
	uint64_t client_seq; /* 0 until sent */
	uint64_t lamport, seq;
	uint8_t kind, state;
	/* An edit: a standing undo of this user names it. An undo: a redo
	 * revoked it. */
	bool undone;
	uint64_t target; /* an undo or redo: the tag of the entry it names */
	char text[EDIT_HISTORY_TEXT];
};

struct edit_history {
	struct edit_hist_entry e[EDIT_HISTORY_MAX];
	unsigned n;
	uint64_t next_tag;
	uint64_t dropped; /* old entries that left the list */
	bool have_key;
	uint8_t key[TH_LOGREC_KEY_LEN]; /* the user's author key, once learned */
	struct {
		uint64_t lamport, seq;
		uint8_t author[TH_LOGREC_KEY_LEN];
	} recent[EDIT_HISTORY_RECENT];
	unsigned recent_next;
};

void edit_hist_init(struct edit_history *h);
/* A new entry (state QUEUED); its tag. */
uint64_t edit_hist_add(struct edit_history *h, uint8_t kind, uint64_t target, const char *text);
struct edit_hist_entry *edit_hist_find(struct edit_history *h, uint64_t tag);
/* The link gave the command tagged tag this client sequence number. */
void edit_hist_sent(struct edit_history *h, uint64_t tag, uint64_t client_seq);
/* CMD_ACK (lamport, seq) or CMD_REJECT (rejected) for client_seq; the
 * entry, or NULL when it is not one of this history's. */
struct edit_hist_entry *edit_hist_answer(struct edit_history *h, uint64_t client_seq, bool rejected, uint64_t lamport,
					 uint64_t seq);
/* A log entry was folded (any author): teaches the user's key when it is
 * an acknowledged entry of this history. */
void edit_hist_folded(struct edit_history *h, uint64_t lamport, uint64_t seq, const uint8_t author[TH_LOGREC_KEY_LEN]);
/* The scene refused the user's entry (lamport, seq): EVENT_REFUSED. */
struct edit_hist_entry *edit_hist_refused(struct edit_history *h, uint64_t lamport, uint64_t seq);

/* The newest edit an undo may name now (acknowledged, not undone, the key
 * known), or NULL. */
struct edit_hist_entry *edit_hist_undo_target(struct edit_history *h);
/* The newest standing undo a redo may revoke, or NULL. */
struct edit_hist_entry *edit_hist_redo_target(struct edit_history *h);
/* Entries sent or queued and not yet answered. */
unsigned edit_hist_in_flight(const struct edit_history *h);
/* Entries that may still teach the key: in flight, or acknowledged while
 * the key is not known (their log entry event is on its way). */
unsigned edit_hist_unsettled(const struct edit_history *h);

/* "#TAG text [lamport L seq S] state" into buf; its length. */
int edit_hist_format(const struct edit_hist_entry *e, char *buf, size_t cap);
const char *edit_hist_state_name(const struct edit_hist_entry *e);
