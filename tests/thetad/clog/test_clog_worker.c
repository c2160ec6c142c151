/* Group commit and cursor reads on the clog worker: results come only
 * through the worker's fd and clog_worker_poll(), in order, with the next
 * batch formed while one is in flight; an I/O failure on the worker thread
 * fails every waiter with -EIO; close with a batch or a read in flight;
 * cursor read-ahead (-EAGAIN, then ready()). Real threads, real files, real
 * fdatasync; the failure is a real EFBIG from RLIMIT_FSIZE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clog/clog.h"
#include "th_clogtest.h"
#include "th_err.h"
#include "th_harness.h"
#include "th_logfile.h"
#include "th_logtest.h"

#define NOW 1000000000ull
#define MAXE 8192
#define DEADLINE_MS 60000 /* generous: 2 loaded cores */

struct fx {
	char dir[256];
	struct clog_worker *w;
	struct clog *c;
	struct clog_config cfg;
	struct lt_author alice, bob;
	uint64_t req;
	int acks, ack_fail, cancelled, batches, readies;
	int last_fail;
	uint64_t ndurable;
	bool pos_in_order, lamport_in_order;
	uint64_t last_ack_lamport;
	uint8_t payload[1024];
};

static void cb_durable(void *user, const struct clog_event *ev)
{
	struct fx *f = user;
	if (ev->pos != f->ndurable)
		f->pos_in_order = false;
	f->ndurable++;
}

static void cb_batch(void *user, size_t n)
{
	struct fx *f = user;
	(void)n;
	f->batches++;
}

static void done(void *ctx, int status, const struct clog_id *id)
{
	struct fx *f = ctx;
	if (status == 0) {
		if (id->lamport <= f->last_ack_lamport)
			f->lamport_in_order = false;
		f->last_ack_lamport = id->lamport;
		f->acks++;
	} else if (status == -ECANCELED) {
		f->cancelled++;
	} else {
		f->ack_fail++;
		f->last_fail = status;
	}
}

static int open_log(struct fx *f)
{
	struct clog_callbacks cb = { .on_durable = cb_durable, .on_batch = cb_batch };
	f->cfg.worker = f->w;
	return clog_open(f->dir, &f->cfg, &cb, f, &f->c, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(ct_logdir_create(f->dir, sizeof(f->dir)), 0);
	lt_author_init(&f->alice, 0xa1);
	lt_author_init(&f->bob, 0xb0);
	f->cfg.rate_per_s = 1000000;
	f->cfg.rate_burst = 1000000;
	f->cfg.pending_per_source = MAXE;
	f->pos_in_order = f->lamport_in_order = true;
	assert_int_equal(clog_worker_create(&f->w), 0);
	assert_int_equal(open_log(f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	clog_worker_destroy(&f->w);
	assert_null(f->w);
	ct_logdir_remove(f->dir);
	free(f);
	return 0;
}

static int submit_len(struct fx *f, struct lt_author *a, uint32_t len)
{
	++f->req;
	struct clog_submit s = ct_write(f->c, a, a == &f->alice ? 1u : 2u, f->req, f->req, f->payload, len);
	s.done = done;
	s.ctx = f;
	struct clog_id id;
	int why;
	return clog_submit_local(f->c, &s, NOW, &id, &why);
}

static void submit_n(struct fx *f, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(submit_len(f, i % 2 ? &f->alice : &f->bob, 16), CLOG_SUBMIT_QUEUED);
}

/* Runs the worker's completions as the loop would: wait for its fd, poll. */
static void pump_until(struct fx *f, int *counter, int target)
{
	int waited = 0;
	while (*counter < target) {
		struct pollfd p = { .fd = clog_worker_fd(f->w), .events = POLLIN };
		int k = poll(&p, 1, 100);
		assert_true(k >= 0);
		if (k == 1)
			assert_true(clog_worker_poll(f->w) >= 0);
		waited += 100;
		assert_true(waited < DEADLINE_MS);
	}
}

static void on_ready(void *user);

static void results_come_only_through_the_worker_fd(void **state)
{
	struct fx *f = *state;
	submit_n(f, 10);
	assert_int_equal(clog_flush(f->c, NOW), 0);
	assert_true(clog_busy(f->c));
	/* Nothing is acked inside flush; only the poll on this thread acks. */
	assert_int_equal(f->acks, 0);
	assert_int_equal(f->ndurable, 0);
	struct pollfd p = { .fd = clog_worker_fd(f->w), .events = POLLIN };
	assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
	assert_int_equal(f->acks, 0);
	assert_int_equal(clog_worker_poll(f->w), 1);
	assert_int_equal(f->acks, 10);
	assert_int_equal(f->batches, 1);
	assert_false(clog_busy(f->c));
	assert_int_equal(clog_count(f->c), 10);
	/* Durable before acked: a verifier sees all ten. */
	struct th_logscan_result r;
	assert_int_equal(th_logscan_dir(f->dir, NULL, NULL, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.records, 10);
	/* A second poll with nothing finished runs nothing. */
	assert_int_equal(clog_worker_poll(f->w), 0);
}

static void entries_queued_during_a_batch_form_the_next_one_in_order(void **state)
{
	struct fx *f = *state;
	submit_n(f, 50);
	assert_int_equal(clog_flush(f->c, NOW), 0);
	/* While it is in flight: more entries; flushing again starts nothing. */
	submit_n(f, 70);
	assert_int_equal(clog_flush(f->c, NOW), 0);
	pump_until(f, &f->acks, 120);
	assert_int_equal(f->acks, 120);
	assert_true(f->lamport_in_order);
	assert_true(f->pos_in_order);
	/* The second batch started by itself when the first was durable. */
	assert_true(f->batches >= 2);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.syncs, (uint64_t)f->batches);
	struct th_logscan_result r;
	assert_int_equal(th_logscan_dir(f->dir, NULL, NULL, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.records, 120);
	assert_int_equal(r.batches, (uint64_t)f->batches);
}

static void two_logs_share_one_worker_each_in_its_order(void **state)
{
	struct fx *f = *state;
	struct fx g = { 0 };
	memcpy(g.dir, f->dir, sizeof(g.dir));
	strcat(g.dir, "2");
	g.alice = f->alice;
	g.bob = f->bob;
	g.cfg = f->cfg;
	g.w = f->w;
	g.pos_in_order = g.lamport_in_order = true;
	assert_int_equal(open_log(&g), 0);
	for (int round = 0; round < 5; round++) {
		submit_n(f, 20);
		submit_n(&g, 30);
		assert_int_equal(clog_flush(f->c, NOW), 0);
		assert_int_equal(clog_flush(g.c, NOW), 0);
	}
	pump_until(f, &f->acks, 100);
	pump_until(&g, &g.acks, 150);
	assert_true(f->lamport_in_order && f->pos_in_order);
	assert_true(g.lamport_in_order && g.pos_in_order);
	assert_int_equal(clog_count(f->c), 100);
	assert_int_equal(clog_count(g.c), 150);
	clog_close(&g.c);
	th_rm_rf(g.dir);
}

static void an_io_failure_on_the_worker_fails_every_waiter_with_eio(void **state)
{
	struct fx *f = *state;
	submit_n(f, 4);
	assert_int_equal(clog_flush(f->c, NOW), 0);
	pump_until(f, &f->acks, 4);
	char seg[512];
	assert_int_equal(th_logseg_path(f->dir, 1, seg, sizeof(seg)), 0);
	long long before = lt_file_size(seg);

	/* The next write may not grow any file past its current size: the
	 * worker's pwrite fails with EFBIG. Asserts wait until the limit is
	 * lifted (the test log is a file too). */
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)before;
	int s1 = setrlimit(RLIMIT_FSIZE, &lim);
	int q1 = 0, q2 = 0;
	for (int i = 0; i < 8; i++)
		q1 |= submit_len(f, &f->alice, 200);
	int fl = clog_flush(f->c, NOW);
	for (int i = 0; i < 5; i++) /* queued behind the batch in flight */
		q2 |= submit_len(f, &f->bob, 16);
	int waited = 0;
	while (f->ack_fail < 13 && waited < DEADLINE_MS) {
		struct pollfd p = { .fd = clog_worker_fd(f->w), .events = POLLIN };
		if (poll(&p, 1, 100) == 1)
			clog_worker_poll(f->w);
		waited += 100;
	}
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);

	assert_int_equal(s1, 0);
	assert_int_equal(q1, 0);
	assert_int_equal(q2, 0);
	assert_int_equal(fl, 0);
	assert_int_equal(f->ack_fail, 13); /* in flight and queued alike */
	assert_int_equal(f->last_fail, -EIO);
	assert_int_equal(f->acks, 4);
	assert_int_equal(clog_error(f->c), -EFBIG);
	int why;
	struct clog_submit s = { .source = 1, .role = TH_ROLE_EDITOR, .key = &f->alice.kp, .req_seq = ++f->req,
				 .type = TH_CMD_COMPONENT_WRITE, .scope_kind = TH_SCOPE_ENTITY, .scope_id = 1 };
	assert_int_equal(clog_submit_local(f->c, &s, NOW, NULL, &why), -EIO);
	assert_int_equal(clog_flush(f->c, NOW), -EIO);
	/* Reopened in place, recovery keeps the four acknowledged entries; a
	 * holder of the pointer keeps a working log, its cursors are told. */
	struct clog_cursor *cur;
	assert_int_equal(clog_cursor_open(f->c, 0, on_ready, f, &cur), 0);
	struct clog *same = f->c;
	struct clog_recovery rep;
	assert_int_equal(clog_reopen(f->c, &rep), 0);
	assert_ptr_equal(f->c, same);
	assert_int_equal(clog_error(f->c), 0);
	assert_int_equal(clog_count(f->c), 4);
	assert_int_equal(rep.records, 4);
	uint64_t pos;
	struct th_logrec_entry e;
	assert_int_equal(clog_cursor_next(cur, &pos, &e), -EPIPE);
	clog_cursor_close(&cur);
	assert_int_equal(submit_len(f, &f->alice, 16), CLOG_SUBMIT_QUEUED);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(f->acks, 5);
	assert_int_equal(clog_count(f->c), 5);
	struct th_logscan_result r;
	assert_int_equal(th_logscan_dir(f->dir, NULL, NULL, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.records, 5);
}

static void close_with_a_batch_in_flight_completes_it(void **state)
{
	struct fx *f = *state;
	submit_n(f, 30);
	assert_int_equal(clog_flush(f->c, NOW), 0);
	submit_n(f, 3); /* not part of it */
	clog_close(&f->c);
	/* The batch ended durable: acked during close; the rest cancelled. */
	assert_int_equal(f->acks, 30);
	assert_int_equal(f->cancelled, 3);
	/* Nothing of the closed log is left for the poll. */
	assert_int_equal(clog_worker_poll(f->w), 0);
	assert_int_equal(open_log(f), 0);
	assert_int_equal(clog_count(f->c), 30);
}

static void drain_writes_everything_and_waits(void **state)
{
	struct fx *f = *state;
	submit_n(f, 5);
	assert_int_equal(clog_flush(f->c, NOW), 0);
	submit_n(f, 5);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(f->acks, 10);
	assert_false(clog_has_pending(f->c));
	assert_false(clog_busy(f->c));
	assert_int_equal(clog_worker_poll(f->w), 0);
}

static void on_ready(void *user)
{
	struct fx *f = user;
	f->readies++;
}

static void cursor_reads_ahead_on_the_worker(void **state)
{
	struct fx *f = *state;
	/* About 3 MiB: several windows. */
	for (int b = 0; b < 6; b++) {
		for (int i = 0; i < 500; i++)
			assert_int_equal(submit_len(f, i % 2 ? &f->alice : &f->bob, 1000), CLOG_SUBMIT_QUEUED);
		assert_int_equal(clog_drain(f->c), 0);
	}
	assert_int_equal(clog_count(f->c), 3000);

	struct clog_cursor *cur;
	assert_int_equal(clog_cursor_open(f->c, 0, on_ready, f, &cur), 0);
	uint64_t pos, want = 0;
	struct th_logrec_entry e;
	int eagain = 0;
	while (want < 3000) {
		int r = clog_cursor_next(cur, &pos, &e);
		if (r == -EAGAIN) {
			/* Asks again before ready: still being read. */
			int before = f->readies;
			eagain++;
			pump_until(f, &f->readies, before + 1);
			continue;
		}
		assert_int_equal(r, 1);
		assert_int_equal(pos, want);
		want++;
	}
	assert_int_equal(clog_cursor_next(cur, &pos, &e), 0);
	/* Each window was read on the worker: at least 3 MiB / 1 MiB of them. */
	assert_true(eagain >= 3);
	assert_int_equal(eagain, f->readies);

	/* At the end, an entry made durable later is read on the worker too. */
	submit_n(f, 1);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(clog_cursor_next(cur, &pos, &e), -EAGAIN);
	pump_until(f, &f->readies, eagain + 1);
	assert_int_equal(clog_cursor_next(cur, &pos, &e), 1);
	assert_int_equal(pos, 3000);
	clog_cursor_close(&cur);
}

static void closing_a_cursor_or_its_log_with_a_read_in_flight(void **state)
{
	struct fx *f = *state;
	submit_n(f, 10);
	assert_int_equal(clog_drain(f->c), 0);
	struct clog_cursor *a, *b;
	uint64_t pos;
	struct th_logrec_entry e;
	assert_int_equal(clog_cursor_open(f->c, 0, on_ready, f, &a), 0);
	assert_int_equal(clog_cursor_open(f->c, 5, on_ready, f, &b), 0);
	assert_int_equal(clog_cursor_next(a, &pos, &e), -EAGAIN);
	assert_int_equal(clog_cursor_next(b, &pos, &e), -EAGAIN);
	clog_cursor_close(&a); /* waits for its read; no ready() after */
	clog_close(&f->c);     /* waits for b's */
	assert_int_equal(clog_worker_poll(f->w), 0);
	assert_int_equal(f->readies, 0);
	assert_int_equal(clog_cursor_next(b, &pos, &e), -EPIPE);
	clog_cursor_close(&b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(results_come_only_through_the_worker_fd),
		T(entries_queued_during_a_batch_form_the_next_one_in_order),
		T(two_logs_share_one_worker_each_in_its_order),
		T(an_io_failure_on_the_worker_fails_every_waiter_with_eio),
		T(close_with_a_batch_in_flight_completes_it),
		T(drain_writes_everything_and_waits),
		T(cursor_reads_ahead_on_the_worker),
		T(closing_a_cursor_or_its_log_with_a_read_in_flight),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
