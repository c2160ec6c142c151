/* Catch-up by position (net_catchup.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_catchup.h"
#include "th_logrec.h"
#include "th_sorted.h"

#define CU_A_HASH 0x1u /* hash is the peer's head at seq: our entry seq + 1 must chain to it */
#define CU_A_OPEN 0x2u /* entries of it in the current MORE sequence wait for their signature */

/* One author as the peer holds it (as far as we know). */
struct cu_author {
	uint8_t key[32];
	uint64_t seq; /* its SYNC's, raised as we send */
	uint8_t hash[32];
	uint8_t flags;
};

struct cu_diverged {
	uint8_t key[32];
	uint64_t seq;
	bool taken;
};

struct net_catchup {
	struct clog *log;
	const struct net_catchup_ops *ops;
	void (*ready)(void *ud);
	void *ud;
	struct clog_cursor *cur; /* non-NULL while a round runs */
	struct cu_author *v;     /* sorted by key */
	uint32_t nv, cap;
	uint32_t open_authors;   /* authors with CU_A_OPEN */
	struct th_wbuf w;
	struct proto_sess_entries_build b;
	bool building;
	uint32_t seq_count;      /* entries in the current MORE sequence */
	struct cu_diverged div[NET_CATCHUP_DIVERGED_MAX];
	unsigned ndiv;
	unsigned events;
	int error;
	uint64_t sent_total;      /* entries in our log when the last round ended */
	uint64_t peer_total;      /* entries the peer's last SYNC said it holds */
	struct net_catchup_stats st;
};

int net_catchup_create(struct clog *log, const struct net_catchup_ops *ops, void (*ready)(void *ud), void *ud,
		       struct net_catchup **out)
{
	struct net_catchup *cu = calloc(1, sizeof(*cu));
	if (!cu)
		return -ENOMEM;
	cu->log = log;
	cu->ops = ops;
	cu->ready = ready;
	cu->ud = ud;
	th_wbuf_init(&cu->w, 0);
	*out = cu;
	return 0;
}

void net_catchup_destroy(struct net_catchup **cup)
{
	struct net_catchup *cu = cup ? *cup : NULL;
	if (!cu)
		return;
	clog_cursor_close(&cu->cur);
	th_wbuf_fini(&cu->w);
	free(cu->v);
	free(cu);
	*cup = NULL;
}

bool net_catchup_active(const struct net_catchup *cu)
{
	return cu && cu->cur;
}

/* ---- the peer's vector --------------------------------------------------------- */

static uint32_t v_pos(const struct net_catchup *cu, const uint8_t key[32], bool *found)
{
	return (uint32_t)th_sorted_find(cu->v, cu->nv, sizeof(*cu->v), offsetof(struct cu_author, key), key,
					sizeof(cu->v->key), found);
}

static struct cu_author *v_find(struct net_catchup *cu, const uint8_t key[32])
{
	bool found;
	uint32_t i = v_pos(cu, key, &found);
	return found ? &cu->v[i] : NULL;
}

/* The author's slot, added (seq 0: the peer has none) when absent. */
static struct cu_author *v_get(struct net_catchup *cu, const uint8_t key[32], int *err)
{
	bool found;
	uint32_t i = v_pos(cu, key, &found);
	if (found)
		return &cu->v[i];
	if (cu->nv == NET_CATCHUP_AUTHORS_MAX) {
		*err = -E2BIG;
		return NULL;
	}
	if (cu->nv == cu->cap) {
		uint32_t nc = cu->cap ? cu->cap * 2 : 64;
		if (nc > NET_CATCHUP_AUTHORS_MAX)
			nc = NET_CATCHUP_AUTHORS_MAX;
		struct cu_author *t = realloc(cu->v, (size_t)nc * sizeof(*t));
		if (!t) {
			*err = -ENOMEM;
			return NULL;
		}
		cu->v = t;
		cu->cap = nc;
	}
	memmove(&cu->v[i + 1], &cu->v[i], (size_t)(cu->nv - i) * sizeof(*cu->v));
	memset(&cu->v[i], 0, sizeof(cu->v[i]));
	memcpy(cu->v[i].key, key, 32);
	cu->nv++;
	return &cu->v[i];
}

static const struct cu_diverged *div_find(const struct net_catchup *cu, const uint8_t key[32])
{
	for (unsigned i = 0; i < cu->ndiv; i++)
		if (!memcmp(cu->div[i].key, key, 32))
			return &cu->div[i];
	return NULL;
}

static void div_note(struct net_catchup *cu, const uint8_t key[32], uint64_t seq)
{
	if (div_find(cu, key))
		return;
	cu->st.divergent++;
	if (cu->ndiv == NET_CATCHUP_DIVERGED_MAX)
		return; /* counted; reported and remembered up to the bound */
	struct cu_diverged *d = &cu->div[cu->ndiv++];
	memcpy(d->key, key, 32);
	d->seq = seq;
	d->taken = false;
	cu->events |= NET_CU_EV_DIVERGED;
}

/* Folds the SYNC into the vector: per author the larger seq (with its
 * hash), checking a head at our own head seq against ours. */
static int v_merge(struct net_catchup *cu, const struct proto_sess_sync *m)
{
	for (uint32_t i = 0; i < m->n; i++) {
		struct proto_sess_sync_head h;
		proto_sess_sync_item(m, i, &h);
		int err = 0;
		struct cu_author *a = v_get(cu, h.key, &err);
		if (!a)
			return err;
		if (h.seq <= a->seq)
			continue;
		a->seq = h.seq;
		memcpy(a->hash, h.hash, 32);
		a->flags |= CU_A_HASH;
		uint64_t oseq;
		uint8_t ohash[32];
		if (clog_author_head(cu->log, h.key, &oseq, ohash) == 0 && oseq == h.seq) {
			if (memcmp(ohash, h.hash, 32))
				div_note(cu, h.key, h.seq);
			a->flags &= (uint8_t)~CU_A_HASH;
		}
	}
	return 0;
}

/* ---- rounds ---------------------------------------------------------------------- */

struct cu_start {
	struct net_catchup *cu;
	uint64_t pos;
	bool lacks;
	int err;
};

static int start_author(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32])
{
	struct cu_start *s = user;
	struct net_catchup *cu = s->cu;
	const struct cu_author *a = v_find(cu, key);
	uint64_t theirs = a ? a->seq : 0;
	if (seq <= theirs || div_find(cu, key))
		return 0;
	uint64_t p;
	int r = clog_pos_of(cu->log, key, theirs + 1, &p);
	if (r < 0) {
		s->err = r;
		return r;
	}
	if (!s->lacks || p < s->pos)
		s->pos = p;
	s->lacks = true;
	return 0;
}

static void round_end(struct net_catchup *cu, uint64_t now_ns)
{
	clog_cursor_close(&cu->cur);
	for (uint32_t i = 0; i < cu->nv; i++)
		cu->v[i].flags &= (uint8_t)~CU_A_OPEN;
	cu->open_authors = 0;
	cu->seq_count = 0;
	cu->building = false;
	th_wbuf_reset(&cu->w);
	cu->st.done_ns = now_ns;
	cu->sent_total = clog_count(cu->log);
}

/* Entries a SYNC says the peer holds: per author its seq (chains have no
 * gaps, so that many entries). */
static uint64_t sync_total(const struct proto_sess_sync *m)
{
	uint64_t t = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		struct proto_sess_sync_head h;
		proto_sess_sync_item(m, i, &h);
		t += h.seq;
	}
	return t;
}

int net_catchup_on_sync(struct net_catchup *cu, const struct proto_sess_sync *v, uint64_t now_ns)
{
	/* Still taking in what we sent: the peer holds more than at its last
	 * SYNC but less than we sent. A slow peer (its log, its verify thread,
	 * its loop) writes SYNCs before it has the tail; sending the tail
	 * again would only cost both sides. A peer that made no progress
	 * since (it refused entries, it lost them) gets a new round. */
	uint64_t total = sync_total(v);
	bool taking = cu->st.done_ns && total > cu->peer_total && total < cu->sent_total &&
		      now_ns - cu->st.done_ns < NET_CATCHUP_PROGRESS_NS;
	cu->peer_total = total;
	bool inflight = cu->st.last_send_ns &&
			(taking || now_ns - cu->st.last_send_ns < NET_CATCHUP_SETTLE_NS ||
			 (cu->ops->unacked && cu->ops->unacked(cu->ud)));
	if (cu->cur || inflight)
		cu->st.syncs_merged++; /* folded into what we know we sent */
	else
		cu->nv = 0; /* a new round: the peer's vector as it says */
	int r = v_merge(cu, v);
	if (r < 0)
		return r;
	if (cu->cur)
		return 0;
	struct cu_start s = { .cu = cu };
	r = clog_authors_each(cu->log, start_author, &s);
	if (r < 0)
		return s.err ? s.err : r;
	if (!s.lacks)
		return 0;
	r = clog_cursor_open(cu->log, s.pos, cu->ready, cu->ud, &cu->cur);
	if (r < 0)
		return r;
	cu->error = 0;
	cu->st.rounds++;
	cu->st.start_pos = cu->st.pos = s.pos;
	cu->st.round_entries = 0;
	cu->st.started_ns = now_ns;
	cu->st.done_ns = 0;
	cu->events |= NET_CU_EV_STARTED;
	return 0;
}

/* Ends the message being built and writes it (the caller made sure the
 * stream had room for it when it was begun). */
static int emit(struct net_catchup *cu, bool more, uint64_t now_ns)
{
	if (!cu->building)
		return 0;
	cu->building = false;
	if (more)
		cu->w.data[cu->b.start + PROTO_SESS_FRAME_HDR + 2] |= PROTO_SESS_ENTRIES_F_MORE;
	int r = proto_sess_entries_end(&cu->b);
	if (r == 0)
		r = cu->ops->send(cu->ud, cu->w.data, cu->w.len);
	if (r == 0) {
		cu->st.messages++;
		cu->st.bytes += cu->w.len;
		cu->st.last_send_ns = now_ns;
	}
	th_wbuf_reset(&cu->w);
	return r;
}

/* Adds e when the peer lacks it; ends the message at its size or at a
 * closed point past NET_CATCHUP_CLOSE_AT. */
static int take(struct net_catchup *cu, const struct th_logrec_entry *e, uint64_t now_ns)
{
	int r = 0;
	if (div_find(cu, e->author)) {
		cu->st.skipped++;
		return 0;
	}
	struct cu_author *a = v_get(cu, e->author, &r);
	if (!a)
		return r;
	if (e->seq <= a->seq) {
		cu->st.skipped++;
		return 0;
	}
	if ((a->flags & CU_A_HASH) && e->seq == a->seq + 1 && memcmp(e->prev, a->hash, 32)) {
		div_note(cu, e->author, a->seq);
		cu->st.skipped++;
		return 0;
	}
	if (!cu->building) {
		if ((r = proto_sess_entries_begin(&cu->b, &cu->w, 0)) < 0)
			return r;
		cu->building = true;
		if (cu->open_authors == 0)
			cu->seq_count = 0;
	}
	if ((r = proto_sess_entries_add(&cu->b, e)) < 0)
		return r;
	a->seq = e->seq;
	a->flags &= (uint8_t)~CU_A_HASH;
	if (!e->has_sig && !(a->flags & CU_A_OPEN)) {
		a->flags |= CU_A_OPEN;
		cu->open_authors++;
	} else if (e->has_sig && (a->flags & CU_A_OPEN)) {
		a->flags &= (uint8_t)~CU_A_OPEN;
		cu->open_authors--;
	}
	cu->seq_count++;
	cu->st.entries++;
	cu->st.round_entries++;
	if (proto_sess_entries_size(&cu->b) >= NET_CATCHUP_MSG_BYTES || cu->b.count >= PROTO_SESS_ENTRIES_MAX ||
	    (cu->seq_count >= NET_CATCHUP_CLOSE_AT && cu->open_authors == 0))
		return emit(cu, cu->open_authors > 0, now_ns);
	return 0;
}

static int fail(struct net_catchup *cu, int err, uint64_t now_ns)
{
	cu->error = err;
	cu->events |= NET_CU_EV_FAILED;
	round_end(cu, now_ns);
	return NET_CU_IDLE;
}

int net_catchup_pump(struct net_catchup *cu, uint64_t now_ns)
{
	if (!cu->cur)
		return NET_CU_IDLE;
	for (unsigned k = 0; k < NET_CATCHUP_PUMP_MAX; k++) {
		if (!cu->building && cu->ops->room(cu->ud) < NET_CATCHUP_ROOM_MIN) {
			cu->st.blocked++;
			return NET_CU_BLOCKED;
		}
		uint64_t pos;
		struct th_logrec_entry e;
		int r = clog_cursor_next(cu->cur, &pos, &e);
		if (r == -EAGAIN)
			return NET_CU_READING;
		if (r < 0)
			return fail(cu, r, now_ns);
		if (r == 0) {
			/* The end of the durable log: what is durable from now on
			 * is relayed live. A log ends on a batch boundary, where
			 * every author's signature is written. */
			if ((r = emit(cu, false, now_ns)) < 0)
				return fail(cu, r, now_ns);
			cu->st.rounds_done++;
			cu->events |= NET_CU_EV_DONE;
			round_end(cu, now_ns);
			return NET_CU_IDLE;
		}
		cu->st.pos = pos + 1;
		if ((r = take(cu, &e, now_ns)) < 0)
			return fail(cu, r, now_ns);
	}
	return NET_CU_MORE;
}

unsigned net_catchup_take_events(struct net_catchup *cu)
{
	unsigned e = cu->events;
	cu->events = 0;
	return e;
}

int net_catchup_take_divergence(struct net_catchup *cu, uint8_t key[32], uint64_t *seq)
{
	for (unsigned i = 0; i < cu->ndiv; i++)
		if (!cu->div[i].taken) {
			cu->div[i].taken = true;
			memcpy(key, cu->div[i].key, 32);
			*seq = cu->div[i].seq;
			return 1;
		}
	return 0;
}

int net_catchup_error(const struct net_catchup *cu)
{
	return cu->error;
}

void net_catchup_get_stats(const struct net_catchup *cu, struct net_catchup_stats *out)
{
	*out = cu->st;
}

/* ---- repair of a cut range ------------------------------------------------------------ */

int net_repair_init(struct net_repair *r, const struct clog_recovery *rec, const struct clog *log, uint64_t now_ns)
{
	memset(r, 0, sizeof(*r));
	if (!rec->repaired || !rec->cut_records)
		return 0;
	r->cut_pos = rec->cut_pos;
	r->records = rec->cut_records;
	uint32_t n = rec->cut_nauthors < TH_LOGSCAN_CUT_AUTHORS_MAX ? rec->cut_nauthors : TH_LOGSCAN_CUT_AUTHORS_MAX;
	uint32_t watched = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct net_repair_author *a = &r->a[r->n++];
		memcpy(a->key, rec->cut_authors[i].pk, 32);
		a->seq_last = rec->cut_authors[i].seq_last;
		a->records = rec->cut_authors[i].records;
		watched += a->records;
		uint64_t head = 0;
		a->back = clog_author_head(log, a->key, &head, NULL) == 0 && head >= a->seq_last;
		r->left += !a->back;
	}
	r->unwatched = r->records > watched ? r->records - watched : 0;
	r->started_ns = now_ns;
	r->active = r->left > 0;
	return r->active;
}

int net_repair_note(struct net_repair *r, const uint8_t key[32], uint64_t seq)
{
	if (!r->active)
		return 0;
	for (uint32_t i = 0; i < r->n; i++) {
		struct net_repair_author *a = &r->a[i];
		if (a->back || seq < a->seq_last || memcmp(a->key, key, 32))
			continue;
		a->back = true;
		if (--r->left == 0) {
			r->active = false;
			return 1;
		}
		return 0;
	}
	return 0;
}
