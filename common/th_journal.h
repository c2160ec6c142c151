/* An undo journal: a byte stack of typed records that an apply step pushes
 * and a revert pops, newest first. The scene fold keeps one per entry in its
 * rollback window, so moving the scene back past an entry is the inverse of
 * what that entry did, not a copy of the whole world (docs/scene.md says
 * why). Records are opaque to the journal: kind + bytes.
 *
 * Layout of one record: data[len], u32 len, u8 kind, so it can be popped
 * from the end. A mark is the journal's length before a step. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct th_journal {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t max; /* 0: unlimited; else a push past it fails with -ENOSPC */
};

#define TH_JOURNAL_REC_OVERHEAD 5u

void th_journal_init(struct th_journal *j, size_t max);
void th_journal_fini(struct th_journal *j);
static inline size_t th_journal_mark(const struct th_journal *j) { return j->len; }
/* Appends one record: 0, -ENOMEM or -ENOSPC (the journal is unchanged). */
int th_journal_push(struct th_journal *j, uint8_t kind, const void *data, size_t len);
/* The newest record above `mark`: 1 with *kind, *data (valid until the next
 * push) and *len, after which the record is gone; 0 when the journal is at
 * mark; -EBADMSG (nothing popped) when the bytes above mark are not whole
 * records (a mark that was never this journal's). */
int th_journal_pop(struct th_journal *j, size_t mark, uint8_t *kind, const uint8_t **data, size_t *len);
/* Drops everything above mark without reverting it. */
static inline void th_journal_truncate(struct th_journal *j, size_t mark)
{
	if (mark < j->len)
		j->len = mark;
}
