/* Exactly once: the request-id index and the resubmits waiting on queued
 * entries. Each entry that carries a request id (entry field req, != 0) is
 * remembered per author, for the author's last CLOG_DEDUPE_WINDOW such
 * entries: a ring per author (oldest forgotten first) and one table over
 * all authors, keyed by (author, req) with the log's random SipHash key, so
 * a client that chooses its ids cannot pile them into one bucket.
 *
 * Memory: the rings grow on demand, one slot per remembered entry, so the
 * index never holds more items than the log has entries (the catch-up
 * index already keeps 24 bytes per entry) nor more than the window per
 * author. Recovery fills it from the files (clog.c, clog_rec_record);
 * clog_queue adds each queued entry. Pure state: no I/O, no clock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog_int.h"

static uint32_t clog_req_home(const struct clog *c, uint32_t ai, uint64_t req)
{
	uint8_t k[12];
	th_put_le32(k, ai);
	th_put_le64(k + 4, req);
	return clog_hash(c, k, sizeof(k)) & (c->nrslots - 1);
}

/* The slot holding (ai, req), or UINT32_MAX and (when free) the empty
 * slot where it would go. */
static uint32_t clog_rslot_lookup(const struct clog *c, uint32_t ai, uint64_t req, uint32_t *empty_out)
{
	if (empty_out)
		*empty_out = UINT32_MAX;
	if (!c->nrslots || !req)
		return UINT32_MAX;
	uint32_t mask = c->nrslots - 1, h = clog_req_home(c, ai, req);
	for (; c->rslots[h].req; h = (h + 1) & mask)
		if (c->rslots[h].req == req && c->rslots[h].author == ai)
			return h;
	if (empty_out)
		*empty_out = h;
	return UINT32_MAX;
}

static uint32_t clog_rslot_find(const struct clog *c, uint32_t ai, uint64_t req)
{
	return clog_rslot_lookup(c, ai, req, NULL);
}

static void clog_rslot_put(struct clog *c, struct clog_rslot s)
{
	uint32_t mask = c->nrslots - 1;
	uint32_t h = clog_req_home(c, s.author, s.req);
	while (c->rslots[h].req)
		h = (h + 1) & mask;
	c->rslots[h] = s;
}

/* Removes slot i, shifting later members of its probe run back (linear
 * probing without tombstones). */
static void clog_rslot_del(struct clog *c, uint32_t i)
{
	uint32_t mask = c->nrslots - 1;
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!c->rslots[j].req)
			break;
		uint32_t k = clog_req_home(c, c->rslots[j].author, c->rslots[j].req);
		/* Stays when its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		c->rslots[i] = c->rslots[j];
		i = j;
	}
	c->rslots[i] = (struct clog_rslot){ 0 };
	c->nreqs--;
}

static int clog_rslots_grow(struct clog *c)
{
	uint32_t n = c->nrslots ? c->nrslots * 2 : 1024;
	struct clog_rslot *old = c->rslots, *t = calloc(n, sizeof(*t));
	uint32_t oldn = c->nrslots;
	if (!t)
		return -ENOMEM;
	c->rslots = t;
	c->nrslots = n;
	for (uint32_t i = 0; i < oldn; i++)
		if (old[i].req)
			clog_rslot_put(c, old[i]);
	free(old);
	return 0;
}

int clog_req_reserve(struct clog *c, uint32_t ai)
{
	struct clog_author *a = &c->authors[ai];
	/* A full window forgets its oldest: no growth needed. */
	if (a->req_count == a->req_cap && a->req_cap < CLOG_DEDUPE_WINDOW) {
		/* Before the ring is full it never wrapped (head is 0), so
		 * positions stay valid across the realloc. */
		uint32_t n = a->req_cap ? a->req_cap * 2 : 16;
		if (n > CLOG_DEDUPE_WINDOW)
			n = CLOG_DEDUPE_WINDOW;
		struct clog_req *t = realloc(a->reqs, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		a->reqs = t;
		a->req_cap = n;
	}
	if ((c->nreqs + 1) * 2 > c->nrslots)
		return clog_rslots_grow(c);
	return 0;
}

void clog_req_note(struct clog *c, uint32_t ai, uint64_t req, uint64_t lamport, uint64_t seq)
{
	struct clog_author *a = &c->authors[ai];
	if (!req || a->req_cap == 0)
		return;
	if (a->req_count == CLOG_DEDUPE_WINDOW) {
		uint32_t old = a->req_head;
		uint32_t s = clog_rslot_find(c, ai, a->reqs[old].req);
		/* The slot may point at a later entry with the same id. */
		if (s != UINT32_MAX && c->rslots[s].pos == old)
			clog_rslot_del(c, s);
		a->req_head = (a->req_head + 1) % CLOG_DEDUPE_WINDOW;
		a->req_count--;
	}
	if (a->req_count == a->req_cap)
		return; /* clog_req_reserve was not called or failed: not remembered */
	uint32_t pos = (a->req_head + a->req_count) % a->req_cap;
	a->reqs[pos] = (struct clog_req){ .req = req, .lamport = lamport, .seq = seq };
	a->req_count++;
	/* An id used twice (only a misbehaving author does) names the later entry. */
	uint32_t empty, s = clog_rslot_lookup(c, ai, req, &empty);
	if (s != UINT32_MAX) {
		c->rslots[s].pos = pos;
	} else if (empty != UINT32_MAX && c->nreqs < c->nrslots / 2) {
		c->rslots[empty] = (struct clog_rslot){ .req = req, .author = ai, .pos = pos };
		c->nreqs++;
	}
	c->st.dedupe_ids = c->nreqs;
}

const struct clog_req *clog_req_find(const struct clog *c, uint32_t ai, uint64_t req)
{
	uint32_t s = clog_rslot_find(c, ai, req);
	if (s == UINT32_MAX)
		return NULL;
	return &c->authors[ai].reqs[c->rslots[s].pos];
}

int clog_waiter_add(struct clog *c, uint32_t ai, uint64_t seq, uint32_t source,
		    void (*done)(void *, int, const struct clog_id *), void *ctx)
{
	/* A joined resubmit counts against its source's pending bound like an
	 * entry of its own, so reconnecting in a loop cannot pile them up. */
	if (c->nwaiters >= CLOG_PENDING_MAX)
		return -EAGAIN;
	uint32_t *sp = clog_source_pending(c, source, true);
	if (!sp || *sp + 1 > c->cfg.pending_per_source)
		return -EAGAIN;
	if (c->nwaiters == c->wcap) {
		uint32_t n = c->wcap ? c->wcap * 2 : 16;
		struct clog_waiter *t = realloc(c->waiters, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->waiters = t;
		c->wcap = n;
	}
	(*sp)++;
	c->waiters[c->nwaiters++] =
		(struct clog_waiter){ .seq = seq, .author = ai, .source = source, .done = done, .ctx = ctx };
	return 0;
}

void clog_waiters_fire(struct clog *c, uint32_t ai, uint64_t seq, int status, const struct clog_id *id)
{
	for (uint32_t i = 0; i < c->nwaiters;) {
		struct clog_waiter w = c->waiters[i];
		if (w.author != ai || w.seq != seq) {
			i++;
			continue;
		}
		/* Removed before the call: a callback may add waiters. */
		c->waiters[i] = c->waiters[--c->nwaiters];
		uint32_t *sp = clog_source_pending(c, w.source, false);
		if (sp && *sp)
			(*sp)--;
		if (w.done)
			w.done(w.ctx, status, id);
	}
}

void clog_dedupe_free(struct clog *c)
{
	for (uint32_t i = 0; i < c->nauthors; i++) {
		free(c->authors[i].reqs);
		c->authors[i].reqs = NULL;
	}
	free(c->rslots);
	free(c->waiters);
	c->rslots = NULL;
	c->waiters = NULL;
}
