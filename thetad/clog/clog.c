/* Storage side of the command log: recovery on open, the queue, group
 * commit (one write + one fdatasync per batch), segment rotation and the
 * catch-up index. Admission lives in clog_admit.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clog/clog_int.h"
#include "th_err.h"
#include "th_file.h"
#include "th_hex.h"
#include "th_logfile.h"

/* Segments never exceed this, so offsets fit the index's u32. */
#define CLOG_SEGMENT_BYTES_MAX (1ull << 30)

/* ---- sources ----------------------------------------------------------- */

uint32_t *clog_source_pending(struct clog *c, uint32_t source, bool create)
{
	uint32_t h = (source * 2654435761u) & (CLOG_SOURCES_MAX - 1);
	struct clog_srcslot *freeslot = NULL;
	for (uint32_t i = 0; i < CLOG_SOURCES_MAX; i++) {
		struct clog_srcslot *s = &c->srcs[(h + i) & (CLOG_SOURCES_MAX - 1)];
		if (s->used && s->source == source)
			return &s->pending;
		if (!s->used) {
			if (!freeslot)
				freeslot = s;
			break;
		}
		if (s->pending == 0 && !freeslot)
			freeslot = s; /* reusable, but keep looking for the key */
	}
	if (!create || !freeslot)
		return NULL;
	freeslot->used = true;
	freeslot->source = source;
	freeslot->pending = 0;
	return &freeslot->pending;
}

/* ---- index -------------------------------------------------------------- */

static int clog_ix_insert(struct clog *c, uint64_t lamport, uint32_t author, uint32_t seg, uint32_t off, uint32_t len)
{
	if (c->nix == c->ixcap) {
		size_t n = c->ixcap ? c->ixcap * 2 : 1024;
		struct clog_ix *t = realloc(c->ix, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->ix = t;
		c->ixcap = n;
	}
	/* Almost always appends; entries from behind move a short way. */
	size_t pos = c->nix;
	while (pos > 0 && clog_id_cmp(c, c->ix[pos - 1].lamport, c->ix[pos - 1].author, lamport, author) > 0)
		pos--;
	memmove(&c->ix[pos + 1], &c->ix[pos], (c->nix - pos) * sizeof(*c->ix));
	c->ix[pos] = (struct clog_ix){ .lamport = lamport, .author = author, .seg = seg, .off = off, .len = len };
	c->nix++;
	c->st.entries = c->nix;
	return 0;
}

/* Gives the next position to a record that just became durable: the
 * append-order index and its author's seq -> position table. */
static int clog_pos_append(struct clog *c, uint32_t author, uint64_t seq, const uint8_t hash[TH_LOGREC_HASH_LEN],
			   uint32_t seg, uint32_t off, uint32_t len)
{
	struct clog_author *a = &c->authors[author];
	if (seq != a->durable_seq + 1)
		return -EPROTO;
	if (c->npix == c->pixcap) {
		uint64_t n = c->pixcap ? c->pixcap * 2 : 1024;
		struct clog_pix *t = realloc(c->pix, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->pix = t;
		c->pixcap = n;
	}
	if (seq > a->spcap) {
		uint64_t n = a->spcap ? a->spcap * 2 : 16;
		uint64_t *t = realloc(a->spos, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		a->spos = t;
		a->spcap = n;
	}
	a->spos[seq - 1] = c->npix;
	a->durable_seq = seq;
	memcpy(a->durable_hash, hash, TH_LOGREC_HASH_LEN);
	c->pix[c->npix++] = (struct clog_pix){ .seg = seg, .off = off, .len = len };
	return 0;
}

/* ---- segments ------------------------------------------------------------ */

static int clog_seg_add(struct clog *c, uint64_t index)
{
	if (c->nsegs == c->segcap) {
		size_t n = c->segcap ? c->segcap * 2 : 16;
		struct clog_seg *t = realloc(c->segs, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->segs = t;
		c->segcap = n;
	}
	c->segs[c->nsegs++] = (struct clog_seg){ .index = index, .fd = -1 };
	c->st.segments = c->nsegs;
	return 0;
}

static int clog_pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Creates segment file `index` in dir durably (header synced, directory
 * synced): *fd is its read-write descriptor. Touches no struct clog, so the
 * worker runs it when a batch rotates. */
static int clog_seg_file_create(const char *dir, uint64_t index, int *fdp)
{
	char path[4096];
	uint8_t hdr[TH_LOGSEG_HDR_LEN];
	int r = th_logseg_path(dir, index, path, sizeof(path));
	if (r < 0)
		return r;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	th_logseg_header_put(hdr, index);
	r = clog_pwrite_all(fd, hdr, sizeof(hdr), 0);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r == 0)
		r = th_fsync_dir(dir);
	if (r < 0) {
		close(fd);
		unlink(path);
		return r;
	}
	*fdp = fd;
	return 0;
}

/* Makes the created segment `index` (descriptor fd) the active one. */
static int clog_seg_activate(struct clog *c, uint64_t index, int fd)
{
	int r = clog_seg_add(c, index);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (c->wfd >= 0)
		close(c->wfd);
	c->wfd = fd;
	c->wsize = TH_LOGSEG_HDR_LEN;
	return 0;
}

static int clog_seg_create(struct clog *c, uint64_t index)
{
	int fd;
	int r = clog_seg_file_create(c->dir, index, &fd);
	return r < 0 ? r : clog_seg_activate(c, index, fd);
}

int clog_seg_fd(struct clog *c, uint32_t s)
{
	if (s >= c->nsegs)
		return -EINVAL;
	if (c->segs[s].fd < 0) {
		char path[4096];
		int r = th_logseg_path(c->dir, c->segs[s].index, path, sizeof(path));
		if (r < 0)
			return r;
		c->segs[s].fd = open(path, O_RDONLY | O_CLOEXEC);
		if (c->segs[s].fd < 0)
			return -errno;
	}
	return c->segs[s].fd;
}

/* ---- recovery ---------------------------------------------------------- */

static int clog_rec_segment(void *user, uint64_t index, uint64_t size)
{
	(void)size;
	return clog_seg_add(user, index);
}

static int clog_rec_record(void *user, const struct th_logscan_rec *r)
{
	struct clog *c = user;
	const struct th_logrec_entry *e = &r->entry;
	uint32_t ai;
	struct clog_author *a = clog_author_get(c, e->author, &ai);
	if (!a)
		return -ENOSPC;
	th_logrec_chain_advance(&a->chain, e, r->hash);
	int rr = clog_pos_append(c, ai, e->seq, r->hash, (uint32_t)(c->nsegs - 1), (uint32_t)r->offset, r->len);
	if (rr < 0)
		return rr;
	if (e->lamport > c->lamport)
		c->lamport = e->lamport;
	rr = clog_scope_note(c, e->type, e->scope_kind, e->scope_id, e->lamport, ai);
	if (rr < 0)
		return rr;
	if (e->req) {
		if ((rr = clog_req_reserve(c, ai)) < 0)
			return rr;
		clog_req_note(c, ai, e->req, e->lamport, e->seq);
	}
	return clog_ix_insert(c, e->lamport, ai, (uint32_t)(c->nsegs - 1), (uint32_t)r->offset, r->len);
}

static int clog_repair(struct clog *c, const struct th_logscan_result *res)
{
	char path[4096];
	int r = th_logseg_path(c->dir, res->cut_segment, path, sizeof(path));
	if (r < 0)
		return r;
	if (res->cut_offset == 0) {
		if (unlink(path) < 0)
			return -errno;
		/* The scan added it to segs before finding its header torn. */
		if (c->nsegs && c->segs[c->nsegs - 1].index == res->cut_segment)
			c->nsegs--;
		c->st.segments = c->nsegs;
		return th_fsync_dir(c->dir);
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = 0;
	if (ftruncate(fd, (off_t)res->cut_offset) < 0 || fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void clog_free(struct clog *c)
{
	if (c->wfd >= 0)
		close(c->wfd);
	for (size_t i = 0; i < c->nsegs; i++)
		if (c->segs[i].fd >= 0)
			close(c->segs[i].fd);
	clog_cursors_detach(c);
	clog_verify_free(c);
	for (uint32_t i = 0; i < c->nauthors; i++) {
		sodium_memzero(c->authors[i].sk, sizeof(c->authors[i].sk));
		free(c->authors[i].spos);
	}
	clog_dedupe_free(c);
	free(c->authors);
	free(c->aslots);
	free(c->scopes);
	free(c->srcs);
	free(c->pend);
	th_wbuf_fini(&c->pbuf);
	th_wbuf_fini(&c->wbuf);
	free(c->ix);
	free(c->pix);
	free(c->segs);
	free(c->r_hash);
	free(c->r_author);
	free(c->r_next);
	free(c->r_cover);
	free(c->r_sig);
	free(c->r_why);
	free(c->r_detail);
	free(c->r_slots);
	free(c->r_ht);
	free(c->dir);
	free(c);
}

int clog_open(const char *dir, const struct clog_config *cfg, const struct clog_callbacks *cb, void *user,
	      struct clog **out, struct clog_recovery *rep)
{
	struct th_logscan_result res;
	struct clog_recovery rp = { 0 };
	int r;

	if (sodium_init() < 0)
		return -ENOSYS;
	struct clog *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->wfd = -1;
	if (cfg)
		c->cfg = *cfg;
	if (cb)
		c->cb = *cb;
	c->worker = c->cfg.worker;
	c->user = user;
	if (!c->cfg.segment_bytes)
		c->cfg.segment_bytes = CLOG_SEGMENT_BYTES_DEFAULT;
	if (c->cfg.segment_bytes > CLOG_SEGMENT_BYTES_MAX)
		c->cfg.segment_bytes = CLOG_SEGMENT_BYTES_MAX;
	if (!c->cfg.rate_per_s)
		c->cfg.rate_per_s = CLOG_RATE_PER_S_DEFAULT;
	if (!c->cfg.rate_burst)
		c->cfg.rate_burst = CLOG_RATE_BURST_DEFAULT;
	if (!c->cfg.pending_per_source)
		c->cfg.pending_per_source = CLOG_PENDING_PER_SOURCE_DEFAULT;
	if (!c->cfg.authors_max || c->cfg.authors_max > CLOG_AUTHORS_MAX)
		c->cfg.authors_max = CLOG_AUTHORS_MAX;
	randombytes_buf(c->hkey, sizeof(c->hkey));
	th_wbuf_init(&c->pbuf, 0);
	th_wbuf_init(&c->wbuf, 0);
	c->dir = strdup(dir);
	c->srcs = calloc(CLOG_SOURCES_MAX, sizeof(*c->srcs));
	c->r_hash = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(*c->r_hash));
	c->r_author = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(int32_t));
	c->r_next = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(int32_t));
	c->r_cover = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(int32_t));
	c->r_sig = malloc(CLOG_REMOTE_BATCH_MAX);
	c->r_why = malloc(CLOG_REMOTE_BATCH_MAX);
	c->r_detail = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(*c->r_detail));
	c->r_slots = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(*c->r_slots));
	c->r_ht = calloc(2 * CLOG_REMOTE_BATCH_MAX, sizeof(*c->r_ht));
	if (!c->dir || !c->srcs || !c->r_hash || !c->r_author || !c->r_next || !c->r_cover || !c->r_sig ||
	    !c->r_why || !c->r_detail || !c->r_slots || !c->r_ht) {
		r = -ENOMEM;
		goto fail;
	}
	r = th_mkdir_p(dir, 0700);
	if (r < 0)
		goto fail;

	const struct th_logscan_ops ops = { .record = clog_rec_record, .segment = clog_rec_segment };
	r = th_logscan_dir(dir, &ops, c, &res);
	if (r < 0)
		goto fail;
	rp.records = res.records;
	rp.batches = res.batches;
	rp.authors = res.authors;
	rp.lamport = res.max_lamport;
	if (!res.ok) {
		rp.bad_index = res.bad_index;
		rp.bad_segment = res.bad_segment;
		rp.bad_offset = res.bad_offset;
		rp.bad_reason = res.bad_reason;
		if (!res.torn) {
			r = -TH_ECORRUPT;
			goto fail;
		}
		r = clog_repair(c, &res);
		if (r < 0)
			goto fail;
		rp.repaired = true;
		rp.cut_bytes = res.cut_bytes;
		rp.cut_segment = res.cut_segment;
		rp.cut_offset = res.cut_offset;
		rp.cut_pos = res.cut_first;
		rp.cut_records = res.cut_records;
		rp.cut_damaged = res.cut_damaged;
		rp.cut_unknown = res.cut_unknown;
		rp.cut_nauthors = res.cut_nauthors;
		rp.cut_authors_more = res.cut_authors_more;
		memcpy(rp.cut_authors, res.cut_authors, sizeof(rp.cut_authors));
	}
	c->last_batch = res.last_batch;
	c->st.batches = 0;

	/* The active segment: the last one, or a fresh one. */
	if (c->nsegs && (!res.torn || res.cut_offset != 0)) {
		char path[4096];
		struct clog_seg *s = &c->segs[c->nsegs - 1];
		r = th_logseg_path(dir, s->index, path, sizeof(path));
		if (r < 0)
			goto fail;
		c->wfd = open(path, O_RDWR | O_CLOEXEC);
		if (c->wfd < 0) {
			r = -errno;
			goto fail;
		}
		c->wsize = res.torn ? res.cut_offset : res.end_offset;
		if (s->index != res.end_segment && !res.torn) {
			r = -TH_ECORRUPT;
			goto fail;
		}
	} else {
		r = clog_seg_create(c, c->nsegs ? c->segs[c->nsegs - 1].index + 1 : 1);
		if (r < 0)
			goto fail;
	}
	rp.segments = c->nsegs;
	c->st.lamport = c->lamport;
	if (rep)
		*rep = rp;
	*out = c;
	return 0;
fail:
	if (rep)
		*rep = rp;
	clog_free(c);
	return r;
}

/* ---- queue and flush --------------------------------------------------- */

int clog_queue_room(struct clog *c, size_t n, size_t body_bytes)
{
	if (c->npend + n > c->pcap) {
		size_t cap = c->pcap ? c->pcap : 256;
		while (cap < c->npend + n)
			cap *= 2;
		struct clog_pend *t = realloc(c->pend, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->pend = t;
		c->pcap = cap;
	}
	size_t len = c->pbuf.len;
	if (!th_wbuf_extend(&c->pbuf, body_bytes)) {
		th_wbuf_reset(&c->pbuf);
		c->pbuf.len = len;
		return -ENOMEM;
	}
	c->pbuf.len = len;
	return 0;
}

int clog_queue(struct clog *c, const struct th_logrec_entry *e, const uint8_t hash[TH_LOGREC_HASH_LEN],
	       uint32_t author, uint32_t source, uint8_t apply, bool remote,
	       void (*done)(void *, int, const struct clog_id *), void *ctx)
{
	/* A remote entry's request id only helps its author's own daemon;
	 * without room for it here the entry is still logged (unremembered). */
	if (e->req && clog_req_reserve(c, author) < 0 && !remote)
		return -ENOMEM;
	if (clog_queue_room(c, 1, th_logrec_body_len(e)) < 0)
		return -ENOMEM;
	size_t off = c->pbuf.len;
	size_t len = th_logrec_body_len(e);
	uint8_t *body = th_wbuf_extend(&c->pbuf, len);
	if (!body) {
		th_wbuf_reset(&c->pbuf);
		c->pbuf.len = off;
		return -ENOMEM;
	}
	th_logrec_encode(e, body, len);
	uint32_t *sp = clog_source_pending(c, source, true);
	if (!sp) {
		c->pbuf.len = off;
		return -ENOBUFS;
	}
	(*sp)++;
	struct clog_pend *p = &c->pend[c->npend++];
	p->e = *e;
	p->e.payload = NULL;
	p->body_off = off;
	p->author = author;
	p->source = source;
	memcpy(p->hash, hash, TH_LOGREC_HASH_LEN);
	p->apply = apply;
	p->remote = remote;
	p->done = done;
	p->ctx = ctx;
	c->pending_bytes += TH_LOGREC_FRAME_LEN + len + TH_LOGREC_SIG_LEN;
	/* Remembered while queued, so a resubmit can join it. */
	clog_req_note(c, author, e->req, e->lamport, e->seq);
	c->st.pending = c->npend;
	c->st.pending_bytes = c->pending_bytes;
	return 0;
}

bool clog_has_pending(const struct clog *c) { return c->npend > 0; }

static void clog_id_of(const struct th_logrec_entry *e, struct clog_id *id)
{
	id->lamport = e->lamport;
	id->seq = e->seq;
	memcpy(id->author, e->author, TH_LOGREC_KEY_LEN);
}

/* Finishes the first n queued entries: callbacks (status 0: durable, the
 * first at position pos0), then drops them from the queue. Callbacks may
 * queue more. */
static void clog_complete(struct clog *c, size_t n, int status, uint64_t pos0)
{
	for (size_t i = 0; i < n; i++) {
		/* A copy: a callback that submits may move the queue. */
		struct clog_pend p = c->pend[i];
		struct clog_id id;
		p.e.payload = p.e.payload_len ? c->pbuf.data + p.body_off + th_logrec_fixed_len(p.e.version) : NULL;
		clog_id_of(&p.e, &id);
		uint32_t *sp = clog_source_pending(c, p.source, false);
		if (sp && *sp)
			(*sp)--;
		/* Before the callbacks: a resubmit from one of them is answered
		 * as a duplicate of a durable entry. */
		if (status == 0 && c->cb.on_durable) {
			struct clog_event ev = { .entry = &p.e,
						 .hash = p.hash,
						 .source = p.source,
						 .apply = p.apply,
						 .remote = p.remote,
						 .pos = pos0 + i };
			c->cb.on_durable(c->user, &ev);
		}
		if (p.done)
			p.done(p.ctx, status, &id);
		if (c->nwaiters)
			clog_waiters_fire(c, p.author, p.e.seq, status, &id);
	}
	size_t end = n < c->npend ? c->pend[n].body_off : c->pbuf.len;
	if (c->npend > n)
		memmove(c->pend, c->pend + n, (c->npend - n) * sizeof(*c->pend));
	c->npend -= n;
	for (size_t i = 0; i < c->npend; i++)
		c->pend[i].body_off -= end;
	if (c->pbuf.len > end)
		memmove(c->pbuf.data, c->pbuf.data + end, c->pbuf.len - end);
	c->pbuf.len -= end;
	c->pending_bytes = 0;
	for (size_t i = 0; i < c->npend; i++)
		c->pending_bytes += TH_LOGREC_FRAME_LEN + th_logrec_body_len(&c->pend[i].e) + TH_LOGREC_SIG_LEN;
	c->st.pending = c->npend;
	c->st.pending_bytes = c->pending_bytes;
}

static int clog_fail(struct clog *c, int err)
{
	c->failed = err;
	clog_complete(c, c->npend, -EIO, 0);
	return err;
}

/* The I/O of one batch: on a worker thread, or in clog_flush without one. */
static void clog_commit_run(struct clog_job *j)
{
	struct clog_commit *k = (struct clog_commit *)j;
	int fd = k->fd;
	uint64_t off = k->off;
	int r = 0;
	k->new_fd = -1;
	if (k->rotate) {
		r = clog_seg_file_create(k->dir, k->new_index, &k->new_fd);
		fd = k->new_fd;
		off = TH_LOGSEG_HDR_LEN;
	}
	if (r == 0)
		r = clog_pwrite_all(fd, k->data, k->len, off);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	k->result = r;
}

static int clog_commit_start(struct clog *c);

/* Loop side of a finished batch: the new segment, then, when durable,
 * indexes (positions in batch order) and the callbacks; with a worker the
 * next batch starts at once with what queued meanwhile. Returns the number
 * made durable or a negative errno (the log is then failed). */
static int clog_commit_done(struct clog *c)
{
	struct clog_commit *k = &c->commit;
	size_t n = k->n;
	int r = k->result;
	c->inflight = false;
	if (k->new_fd >= 0) {
		int rr = clog_seg_activate(c, k->new_index, k->new_fd);
		k->new_fd = -1;
		if (r == 0)
			r = rr;
	}
	if (r < 0)
		return clog_fail(c, r);

	uint64_t off = c->wsize, pos0 = c->npix;
	for (size_t i = 0; i < n; i++) {
		struct clog_pend *p = &c->pend[i];
		uint32_t len = (uint32_t)(TH_LOGREC_FRAME_LEN + th_logrec_body_len(&p->e) +
					  (p->e.has_sig ? TH_LOGREC_SIG_LEN : 0));
		uint32_t seg = (uint32_t)(c->nsegs - 1);
		r = clog_ix_insert(c, p->e.lamport, p->author, seg, (uint32_t)off, len);
		if (r == 0)
			r = clog_pos_append(c, p->author, p->e.seq, p->hash, seg, (uint32_t)off, len);
		if (r < 0)
			return clog_fail(c, r);
		off += len;
	}
	c->wsize = off;
	c->last_batch = k->batch;
	c->st.batches++;
	c->st.syncs++;
	c->st.bytes_written += k->len;
	c->st.lamport = c->lamport;
	clog_complete(c, n, 0, pos0);
	if (c->cb.on_batch)
		c->cb.on_batch(c->user, n);
	if (c->worker && !c->closing && !c->failed && c->npend)
		clog_commit_start(c);
	return (int)n;
}

static void clog_commit_finish(struct clog_job *j)
{
	clog_commit_done(((struct clog_commit *)j)->c);
}

/* Builds the batch from everything queued (signatures, records) and hands
 * it to the worker, or writes it here without one. */
static int clog_commit_start(struct clog *c)
{
	size_t n = c->npend;
	uint64_t batch = c->last_batch + 1;

	/* Signatures: each local author's last entry of the batch (or every
	 * one), which vouches for its earlier ones through the chain. */
	for (size_t i = n; i-- > 0;) {
		struct clog_pend *p = &c->pend[i];
		struct clog_author *a = &c->authors[p->author];
		if (p->remote || (!c->cfg.sign_each && a->sign_mark == batch))
			continue;
		th_logrec_sign(p->hash, a->sk, p->e.sig);
		p->e.has_sig = true;
		a->sign_mark = batch;
		c->st.signatures++;
	}

	th_wbuf_reset(&c->wbuf);
	for (size_t i = 0; i < n; i++) {
		struct clog_pend *p = &c->pend[i];
		size_t blen = th_logrec_body_len(&p->e);
		size_t sl = p->e.has_sig ? TH_LOGREC_SIG_LEN : 0;
		uint8_t *rec = th_wbuf_extend(&c->wbuf, TH_LOGREC_FRAME_LEN + blen + sl);
		if (!rec)
			return clog_fail(c, -ENOMEM);
		memcpy(rec + TH_LOGREC_FRAME_LEN, c->pbuf.data + p->body_off, blen);
		if (sl)
			memcpy(rec + TH_LOGREC_FRAME_LEN + blen, p->e.sig, sl);
		struct th_logrec_frame f = {
			.body_len = (uint32_t)(blen + sl),
			.batch = batch,
			.kind = TH_LOGREC_KIND_ENTRY,
			.flags = (uint8_t)((sl ? TH_LOGREC_F_SIGNED : 0) | (i + 1 == n ? TH_LOGREC_F_BATCH_END : 0)),
		};
		th_logrec_frame_put(rec, &f, rec + TH_LOGREC_FRAME_LEN);
	}

	struct clog_commit *k = &c->commit;
	*k = (struct clog_commit){
		.job = { .run = clog_commit_run, .finish = clog_commit_finish },
		.c = c,
		.fd = c->wfd,
		.off = c->wsize,
		.data = c->wbuf.data,
		.len = c->wbuf.len,
		.dir = c->dir,
		.new_fd = -1,
		.n = n,
		.batch = batch,
	};
	if (c->wsize > TH_LOGSEG_HDR_LEN && c->wsize + c->wbuf.len > c->cfg.segment_bytes) {
		k->rotate = true;
		k->new_index = c->segs[c->nsegs - 1].index + 1;
	} else if (c->wsize + c->wbuf.len > CLOG_SEGMENT_BYTES_MAX) {
		return clog_fail(c, -EFBIG);
	}
	if (c->worker) {
		c->inflight = true;
		clog_worker_submit(c->worker, &k->job, CLOG_WQ_COMMIT);
		return 0;
	}
	clog_commit_run(&k->job);
	return clog_commit_done(c);
}

int clog_flush(struct clog *c, uint64_t now_ns)
{
	(void)now_ns;
	if (c->failed)
		return -EIO;
	if (c->inflight || c->npend == 0)
		return 0;
	return clog_commit_start(c);
}

int clog_drain(struct clog *c)
{
	for (;;) {
		if (c->inflight) {
			clog_worker_wait(c->worker, &c->commit.job);
			clog_commit_done(c);
			continue;
		}
		if (c->failed)
			return -EIO;
		if (!c->npend)
			return 0;
		int r = clog_commit_start(c);
		if (r < 0)
			return r;
	}
}

int clog_error(const struct clog *c) { return c->failed; }

bool clog_busy(const struct clog *c) { return c->inflight; }

/* ---- catch-up ------------------------------------------------------------- */

int clog_entries_since(struct clog *c, uint64_t since, size_t max,
		       int (*cb)(void *user, const struct th_logrec_entry *e), void *user)
{
	size_t lo = 0, hi = c->nix;
	uint8_t *buf = NULL;
	int count = 0, r = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->ix[mid].lamport <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	buf = malloc(TH_LOGREC_RECORD_MAX);
	if (!buf)
		return -ENOMEM;
	for (size_t i = lo; i < c->nix && (!max || (size_t)count < max); i++) {
		const struct clog_ix *x = &c->ix[i];
		struct th_logrec_frame f;
		struct th_logrec_entry e;
		int why, fd = clog_seg_fd(c, x->seg);
		if (fd < 0) {
			r = fd;
			break;
		}
		ssize_t k = pread(fd, buf, x->len, x->off);
		if (k != (ssize_t)x->len) {
			r = k < 0 ? -errno : -EIO;
			break;
		}
		/* Re-validated: the file may have been damaged since recovery. */
		if (th_logrec_record_decode(buf, x->len, &f, &e, &why) < 0) {
			r = -TH_ECORRUPT;
			break;
		}
		r = cb(user, &e);
		if (r < 0)
			break;
		count++;
	}
	free(buf);
	return r < 0 ? r : count;
}

uint64_t clog_lamport(const struct clog *c) { return c->lamport; }

/* ---- recovery report ----------------------------------------------------- */

/* Authors named in clog_recovery_describe before "and more". */
#define CLOG_DESCRIBE_AUTHORS 4u

/* Appends to out[cap] (always terminated), keeping *len. */
static void clog_putf(char *out, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void clog_putf(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
	if (*len + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

int clog_recovery_describe(const struct clog_recovery *r, char *out, size_t cap)
{
	size_t n = 0;
	if (cap)
		out[0] = 0;
	if (!r->repaired) {
		clog_putf(out, cap, &n, "%" PRIu64 " records verified in %" PRIu64 " segment(s)", r->records,
			  r->segments);
		return (int)n;
	}
	if (r->cut_records == 0) {
		clog_putf(out, cap, &n,
			  "recovered %" PRIu64 " records; cut %" PRIu64 " bytes at segment %" PRIu64 " byte %" PRIu64
			  " that held no readable record (a torn write)",
			  r->records, r->cut_bytes, r->cut_segment, r->cut_offset);
		return (int)n;
	}
	if (r->cut_never_acked) {
		clog_putf(out, cap, &n,
			  "recovered %" PRIu64 " records; cut what the failed write left (%" PRIu64 " bytes at segment %" PRIu64
			  " byte %" PRIu64 "): %" PRIu32 " record(s) at positions %" PRIu64 "..%" PRIu64
			  ", never acknowledged (their commands were refused)",
			  r->records, r->cut_bytes, r->cut_segment, r->cut_offset, r->cut_records, r->cut_pos,
			  r->cut_pos + r->cut_records - 1);
		return (int)n;
	}
	clog_putf(out, cap, &n,
		  "recovered %" PRIu64 " records; cut the last batch, damaged or torn (%" PRIu64 " bytes at segment %" PRIu64
		  " byte %" PRIu64 "): %" PRIu32 " record(s) at positions %" PRIu64 "..%" PRIu64,
		  r->records, r->cut_bytes, r->cut_segment, r->cut_offset, r->cut_records, r->cut_pos,
		  r->cut_pos + r->cut_records - 1);
	if (r->cut_damaged)
		clog_putf(out, cap, &n, ", %" PRIu32 " of them damaged", r->cut_damaged);
	for (uint32_t i = 0; i < r->cut_nauthors && i < CLOG_DESCRIBE_AUTHORS; i++) {
		char hex[17];
		th_hex_encode(r->cut_authors[i].pk, 8, hex);
		clog_putf(out, cap, &n, "%s author %s seq %" PRIu64 "..%" PRIu64, i ? "," : ";", hex,
			  r->cut_authors[i].seq_first, r->cut_authors[i].seq_last);
	}
	if (r->cut_nauthors > CLOG_DESCRIBE_AUTHORS || r->cut_authors_more)
		clog_putf(out, cap, &n, " and more authors");
	if (r->cut_unknown)
		clog_putf(out, cap, &n, "; %" PRIu32 " record(s) too damaged to name", r->cut_unknown);
	clog_putf(out, cap, &n,
		  "; they may have been acknowledged (a damaged last batch cannot be told from a torn write here); "
		  "only a replica that holds them can restore them");
	return (int)n;
}

/* ---- positions ------------------------------------------------------------ */

uint64_t clog_count(const struct clog *c) { return c->npix; }

int clog_author_head(const struct clog *c, const uint8_t key[32], uint64_t *seq, uint8_t hash[32])
{
	uint32_t ai;
	const struct clog_author *a = clog_author_find((struct clog *)c, key, &ai);
	if (!a || a->durable_seq == 0)
		return -ENOENT;
	if (seq)
		*seq = a->durable_seq;
	if (hash)
		memcpy(hash, a->durable_hash, TH_LOGREC_HASH_LEN);
	return 0;
}

int clog_pos_of(const struct clog *c, const uint8_t key[32], uint64_t seq, uint64_t *pos)
{
	uint32_t ai;
	const struct clog_author *a = clog_author_find((struct clog *)c, key, &ai);
	if (!a || seq == 0 || seq > a->durable_seq)
		return -ENOENT;
	*pos = a->spos[seq - 1];
	return 0;
}

int clog_authors_each(const struct clog *c,
		      int (*cb)(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32]), void *user)
{
	for (uint32_t i = 0; i < c->nauthors; i++) {
		const struct clog_author *a = &c->authors[i];
		if (a->durable_seq == 0)
			continue;
		int r = cb(user, a->pk, a->durable_seq, a->durable_hash);
		if (r < 0)
			return r;
	}
	return 0;
}

void clog_get_stats(const struct clog *c, struct clog_stats *out)
{
	*out = c->st;
	out->lamport = c->lamport;
	out->authors = c->nauthors;
	out->segments = c->nsegs;
	out->entries = c->nix;
}

int clog_reopen(struct clog *c, struct clog_recovery *rep)
{
	struct clog *fresh;
	struct clog_config cfg = c->cfg;
	uint64_t durable = c->npix;
	/* Whatever is in flight ends first; what is queued is cancelled (a
	 * failed log already told every waiter -EIO). */
	c->closing = true;
	if (c->inflight) {
		clog_worker_wait(c->worker, &c->commit.job);
		clog_commit_done(c);
	}
	clog_complete(c, c->npend, -ECANCELED, 0);
	/* Groups being verified are forgotten: their sources call again and
	 * the reopened log verifies them anew. */
	clog_verify_free(c);
	c->closing = false;
	struct clog_recovery rp;
	int r = clog_open(c->dir, &cfg, &c->cb, c->user, &fresh, &rp);
	rp.cut_never_acked = r == 0 && rp.repaired && rp.cut_pos >= durable;
	if (rep)
		*rep = rp;
	if (r < 0) {
		if (!c->failed)
			c->failed = -EIO;
		return r;
	}
	/* The recovered state moves into c (owners keep their pointer); the
	 * old state goes with fresh. Nothing points into either struct but
	 * its cursors, which are told the log closed. */
	clog_cursors_detach(c);
	struct clog old = *c;
	*c = *fresh;
	*fresh = old;
	clog_free(fresh);
	return 0;
}

void clog_close(struct clog **cp)
{
	struct clog *c = cp ? *cp : NULL;
	if (!c)
		return;
	/* The batch in flight ends as it ends (durable: acked and reported;
	 * failed: -EIO); nothing new starts; the rest is cancelled. */
	c->closing = true;
	if (c->inflight) {
		clog_worker_wait(c->worker, &c->commit.job);
		clog_commit_done(c);
	}
	clog_complete(c, c->npend, -ECANCELED, 0);
	clog_free(c);
	*cp = NULL;
}
