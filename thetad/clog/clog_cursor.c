/* Cursors: readers over durable entries in append order. A cursor holds
 * one window of consecutive records of one segment (at most
 * CLOG_CURSOR_WINDOW bytes) and serves entries from it; the records are
 * re-validated (frame CRC, entry fields) as they are served, since the file
 * may have been damaged since recovery. With a worker the window is read on
 * the worker's read thread (next() says -EAGAIN meanwhile, ready() follows
 * from the poll); without one, in next(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clog/clog_int.h"
#include "th_err.h"

/* One window read: the worker fills buf and touches nothing else. */
struct clog_rjob {
	struct clog_job job;
	struct clog_cursor *cur;
	int fd;
	uint64_t off;
	size_t len;
	uint64_t wpos, wn;
	int result;
};

struct clog_cursor {
	struct clog *c; /* NULL once the log was closed */
	struct clog_rjob rd;
	bool reading;   /* rd is with the worker */
	int rerr;       /* the last window read failed: told once by next() */
	struct clog_cursor *next, *prev;
	void (*ready)(void *user);
	void *user;
	uint64_t pos;      /* the next position to serve */
	uint8_t *buf;      /* CLOG_CURSOR_WINDOW bytes */
	uint64_t wpos, wn; /* the window holds positions [wpos, wpos + wn) */
	uint32_t woff;     /* file offset of buf[0] */
};

int clog_cursor_open(struct clog *c, uint64_t pos, void (*ready)(void *user), void *user,
		     struct clog_cursor **out)
{
	if (pos > c->npix)
		return -ERANGE;
	struct clog_cursor *cur = calloc(1, sizeof(*cur));
	if (!cur)
		return -ENOMEM;
	cur->buf = malloc(CLOG_CURSOR_WINDOW);
	if (!cur->buf) {
		free(cur);
		return -ENOMEM;
	}
	cur->c = c;
	cur->ready = ready;
	cur->user = user;
	cur->pos = pos;
	cur->next = c->cursors;
	if (c->cursors)
		c->cursors->prev = cur;
	c->cursors = cur;
	*out = cur;
	return 0;
}

/* Waits for a window read in flight (it writes into cur->buf). */
static void clog_cursor_settle(struct clog_cursor *cur)
{
	if (cur->reading) {
		clog_worker_wait(cur->c->worker, &cur->rd.job);
		cur->reading = false;
	}
}

static void clog_cursor_unlink(struct clog_cursor *cur)
{
	if (!cur->c)
		return;
	clog_cursor_settle(cur);
	if (cur->prev)
		cur->prev->next = cur->next;
	else
		cur->c->cursors = cur->next;
	if (cur->next)
		cur->next->prev = cur->prev;
	cur->next = cur->prev = NULL;
	cur->c = NULL;
}

void clog_cursors_detach(struct clog *c)
{
	while (c->cursors)
		clog_cursor_unlink(c->cursors);
}

void clog_cursor_close(struct clog_cursor **curp)
{
	struct clog_cursor *cur = curp ? *curp : NULL;
	if (!cur)
		return;
	clog_cursor_unlink(cur);
	free(cur->buf);
	free(cur);
	*curp = NULL;
}

/* How many records from position pos fit one window: consecutive records
 * of pos's segment, at most CLOG_CURSOR_WINDOW bytes, at least one. */
static uint64_t clog_window_plan(const struct clog *c, uint64_t pos, size_t *bytes)
{
	const struct clog_pix *first = &c->pix[pos];
	uint64_t n = 0;
	size_t len = 0;
	while (pos + n < c->npix) {
		const struct clog_pix *x = &c->pix[pos + n];
		if (x->seg != first->seg || x->off != first->off + len || len + x->len > CLOG_CURSOR_WINDOW)
			break;
		len += x->len;
		n++;
	}
	*bytes = len;
	return n;
}

static int clog_pread_all(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t k = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -TH_ECORRUPT; /* the file is shorter than what was made durable */
		got += (size_t)k;
	}
	return 0;
}

static void clog_rjob_run(struct clog_job *j)
{
	struct clog_rjob *rd = (struct clog_rjob *)j;
	rd->result = clog_pread_all(rd->fd, rd->cur->buf, rd->len, rd->off);
}

/* Loop side: the window is in, or the error is kept for next(). */
static void clog_window_in(struct clog_cursor *cur)
{
	struct clog_rjob *rd = &cur->rd;
	if (rd->result < 0) {
		cur->rerr = rd->result;
		return;
	}
	cur->wpos = rd->wpos;
	cur->wn = rd->wn;
	cur->woff = (uint32_t)rd->off;
}

static void clog_rjob_finish(struct clog_job *j)
{
	struct clog_cursor *cur = ((struct clog_rjob *)j)->cur;
	cur->reading = false;
	clog_window_in(cur);
	if (cur->ready)
		cur->ready(cur->user);
}

/* Reads the window that starts at cur->pos: on the worker (-EAGAIN) or
 * here (0 or negative errno). */
static int clog_window_read(struct clog_cursor *cur)
{
	struct clog *c = cur->c;
	size_t len;
	uint64_t n = clog_window_plan(c, cur->pos, &len);
	const struct clog_pix *first = &c->pix[cur->pos];
	if (n == 0)
		return -TH_ECORRUPT; /* a record longer than a window: not one we wrote */
	int fd = clog_seg_fd(c, first->seg);
	if (fd < 0)
		return fd;
	cur->wn = 0;
	cur->rd = (struct clog_rjob){
		.job = { .run = clog_rjob_run, .finish = clog_rjob_finish },
		.cur = cur,
		.fd = fd,
		.off = first->off,
		.len = len,
		.wpos = cur->pos,
		.wn = n,
	};
	if (c->worker) {
		cur->reading = true;
		clog_worker_submit(c->worker, &cur->rd.job, CLOG_WQ_READ);
		return -EAGAIN;
	}
	clog_rjob_run(&cur->rd.job);
	clog_window_in(cur);
	int r = cur->rerr;
	cur->rerr = 0;
	return r;
}

int clog_cursor_next(struct clog_cursor *cur, uint64_t *pos, struct th_logrec_entry *e)
{
	struct clog *c = cur->c;
	if (!c)
		return -EPIPE;
	if (cur->reading)
		return -EAGAIN;
	if (cur->rerr) {
		int r = cur->rerr;
		cur->rerr = 0; /* the next call reads again */
		return r;
	}
	if (cur->pos >= c->npix)
		return 0;
	if (cur->pos < cur->wpos || cur->pos >= cur->wpos + cur->wn) {
		int r = clog_window_read(cur);
		if (r < 0)
			return r;
	}
	const struct clog_pix *x = &c->pix[cur->pos];
	struct th_logrec_frame f;
	int why;
	int n = th_logrec_record_decode(cur->buf + (x->off - cur->woff), x->len, &f, e, &why);
	if (n != (int)x->len || f.kind != TH_LOGREC_KIND_ENTRY)
		return -TH_ECORRUPT;
	*pos = cur->pos++;
	return 1;
}
