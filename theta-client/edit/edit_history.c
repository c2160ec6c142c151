/* The user's own history (edit_history.h). */
#include "edit/edit_history.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void edit_hist_init(struct edit_history *h)
{
	memset(h, 0, sizeof *h);
	h->next_tag = 1;
}

uint64_t edit_hist_add(struct edit_history *h, uint8_t kind, uint64_t target, const char *text)
{
	if (h->n == EDIT_HISTORY_MAX) {
		/* The oldest answered state entry (selection, tool, material) goes
		 * first, so edits stay undoable longest; else the oldest entry. */
		unsigned k = 0;
		while (k < h->n && !(h->e[k].kind == EDIT_H_STATE && h->e[k].state != EDIT_H_QUEUED &&
				     h->e[k].state != EDIT_H_SENT))
			k++;
		if (k == h->n)
			k = 0;
		memmove(&h->e[k], &h->e[k + 1], (h->n - k - 1) * sizeof h->e[0]);
		h->n--;
		h->dropped++;
	}
	struct edit_hist_entry *e = &h->e[h->n++];
	*e = (struct edit_hist_entry){ .tag = h->next_tag++, .kind = kind, .state = EDIT_H_QUEUED, .target = target };
	snprintf(e->text, sizeof e->text, "%s", text ? text : "");
	return e->tag;
}

struct edit_hist_entry *edit_hist_find(struct edit_history *h, uint64_t tag)
{
	for (unsigned i = h->n; i-- > 0;)
		if (h->e[i].tag == tag)
			return &h->e[i];
	return NULL;
}

void edit_hist_sent(struct edit_history *h, uint64_t tag, uint64_t client_seq)
{
	struct edit_hist_entry *e = edit_hist_find(h, tag);
	if (e && e->state == EDIT_H_QUEUED) {
		e->client_seq = client_seq;
		e->state = EDIT_H_SENT;
	}
}

static void learn_key(struct edit_history *h, const uint8_t author[TH_LOGREC_KEY_LEN])
{
	if (!h->have_key) {
		memcpy(h->key, author, TH_LOGREC_KEY_LEN);
		h->have_key = true;
	}
}

/* An undo or redo that did not stand puts its target back. */
static void not_standing(struct edit_history *h, struct edit_hist_entry *e)
{
	struct edit_hist_entry *t = e->target ? edit_hist_find(h, e->target) : NULL;
	if (!t)
		return;
	if (e->kind == EDIT_H_UNDO)
		t->undone = false;
	else if (e->kind == EDIT_H_REDO) {
		t->undone = false; /* the undo stands again */
		struct edit_hist_entry *u = t->target ? edit_hist_find(h, t->target) : NULL;
		if (u)
			u->undone = true;
	}
}

struct edit_hist_entry *edit_hist_answer(struct edit_history *h, uint64_t client_seq, bool rejected, uint64_t lamport,
					 uint64_t seq)
{
	for (unsigned i = h->n; i-- > 0;) {
		struct edit_hist_entry *e = &h->e[i];
		if (e->state != EDIT_H_SENT || e->client_seq != client_seq)
			continue;
		if (rejected) {
			e->state = EDIT_H_REJECTED;
			not_standing(h, e);
			return e;
		}
		e->state = EDIT_H_ACKED;
		e->lamport = lamport;
		e->seq = seq;
		for (unsigned k = 0; k < EDIT_HISTORY_RECENT && !h->have_key; k++)
			if (h->recent[k].seq == seq && h->recent[k].lamport == lamport && seq)
				learn_key(h, h->recent[k].author);
		return e;
	}
	return NULL;
}

void edit_hist_folded(struct edit_history *h, uint64_t lamport, uint64_t seq, const uint8_t author[TH_LOGREC_KEY_LEN])
{
	if (h->have_key)
		return;
	for (unsigned i = h->n; i-- > 0;)
		if (h->e[i].state == EDIT_H_ACKED && h->e[i].lamport == lamport && h->e[i].seq == seq) {
			learn_key(h, author);
			return;
		}
	/* Its ack may come later. */
	h->recent[h->recent_next].lamport = lamport;
	h->recent[h->recent_next].seq = seq;
	memcpy(h->recent[h->recent_next].author, author, TH_LOGREC_KEY_LEN);
	h->recent_next = (h->recent_next + 1) % EDIT_HISTORY_RECENT;
}

struct edit_hist_entry *edit_hist_refused(struct edit_history *h, uint64_t lamport, uint64_t seq)
{
	for (unsigned i = h->n; i-- > 0;) {
		struct edit_hist_entry *e = &h->e[i];
		if (e->state == EDIT_H_ACKED && e->lamport == lamport && e->seq == seq) {
			e->state = EDIT_H_REFUSED;
			not_standing(h, e);
			return e;
		}
	}
	return NULL;
}

struct edit_hist_entry *edit_hist_undo_target(struct edit_history *h)
{
	if (!h->have_key)
		return NULL;
	for (unsigned i = h->n; i-- > 0;)
		if (h->e[i].kind == EDIT_H_EDIT && h->e[i].state == EDIT_H_ACKED && !h->e[i].undone)
			return &h->e[i];
	return NULL;
}

struct edit_hist_entry *edit_hist_redo_target(struct edit_history *h)
{
	if (!h->have_key)
		return NULL;
	for (unsigned i = h->n; i-- > 0;) {
		struct edit_hist_entry *e = &h->e[i];
		if (e->kind != EDIT_H_UNDO || e->state != EDIT_H_ACKED || e->undone)
			continue;
		struct edit_hist_entry *t = edit_hist_find(h, e->target);
		if (t && t->undone)
			return e;
	}
	return NULL;
}

unsigned edit_hist_in_flight(const struct edit_history *h)
{
	unsigned n = 0;
	for (unsigned i = 0; i < h->n; i++)
		n += h->e[i].state == EDIT_H_QUEUED || h->e[i].state == EDIT_H_SENT;
	return n;
}

unsigned edit_hist_unsettled(const struct edit_history *h)
{
	unsigned n = edit_hist_in_flight(h);
	for (unsigned i = 0; i < h->n && !h->have_key; i++)
		n += h->e[i].state == EDIT_H_ACKED;
	return n;
}

const char *edit_hist_state_name(const struct edit_hist_entry *e)
{
	switch (e->state) {
	case EDIT_H_QUEUED: return "queued";
	case EDIT_H_SENT: return "sent";
	case EDIT_H_ACKED:
		if (e->undone)
			return e->kind == EDIT_H_EDIT ? "undone" : "revoked by a redo";
		return "applied";
	case EDIT_H_REJECTED: return "rejected";
	case EDIT_H_REFUSED: return "refused";
	}
	return "?";
}

int edit_hist_format(const struct edit_hist_entry *e, char *buf, size_t cap)
{
	int n;
	if (e->lamport)
		n = snprintf(buf, cap, "#%" PRIu64 " %s (lamport %" PRIu64 ", seq %" PRIu64 "): %s", e->tag, e->text,
			     e->lamport, e->seq, edit_hist_state_name(e));
	else
		n = snprintf(buf, cap, "#%" PRIu64 " %s: %s", e->tag, e->text, edit_hist_state_name(e));
	return n < 0 ? 0 : n;
}
