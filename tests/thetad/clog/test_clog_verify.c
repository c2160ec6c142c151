/* Remote entries verified on the worker (clog_integrate_remote_async): the
 * signatures are checked on the verify thread and the result comes only
 * through the worker's fd; a forged signature refuses its whole group with
 * on_reject for each entry; one source's groups keep their order; a group
 * above CLOG_VERIFY_BYTES_MAX goes part by part and is admitted
 * CLOG_ADMIT_PER_CALL entries a call between signature groups; busy slots make a source
 * wait and a freed one wakes it; payload checks on the thread too; close
 * with a verification in flight.
 * Real threads, real files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog.h"
#include "th_err.h"
#include "th_harness.h"
#include "th_logtest.h"

#define NOW 1000000000ull
#define DEADLINE_MS 60000 /* generous: 2 loaded cores */
#define PAYLOAD 1024u

struct fx {
	char dir[256];
	struct clog_worker *w;
	struct clog *c;
	struct clog_config cfg;
	struct lt_author carol, dave;
	int rejects, by_reason[CLOG_R_COUNT];
	int verified, verified_by[16];
	const char *detail; /* clog_reject_detail() of the last CLOG_R_INVALID */
	uint8_t payload[PAYLOAD];
	struct th_logrec_entry *e; /* CLOG_REMOTE_BATCH_MAX */
	uint8_t (*h)[32];
};

static void cb_reject(void *user, uint32_t source, const struct th_logrec_entry *e, int reason)
{
	struct fx *f = user;
	(void)source;
	(void)e;
	f->rejects++;
	f->by_reason[reason]++;
	if (reason == CLOG_R_INVALID)
		f->detail = clog_reject_detail(f->c);
}

static int cb_role(void *user, const uint8_t *pk)
{
	(void)user;
	(void)pk;
	return TH_ROLE_EDITOR;
}

static void cb_verified(void *user, uint32_t source)
{
	struct fx *f = user;
	f->verified++;
	if (source < 16)
		f->verified_by[source]++;
}

static int open_log(struct fx *f)
{
	struct clog_callbacks cb = { .on_reject = cb_reject, .role_of = cb_role, .on_verified = cb_verified };
	f->cfg.worker = f->w;
	return clog_open(f->dir, &f->cfg, &cb, f, &f->c, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	strcat(f->dir, "/log");
	lt_author_init(&f->carol, 0xc0);
	lt_author_init(&f->dave, 0xd0);
	randombytes_buf(f->payload, sizeof(f->payload));
	f->cfg.rate_per_s = 1000000;
	f->cfg.rate_burst = 1000000;
	f->cfg.pending_per_source = 2 * CLOG_REMOTE_BATCH_MAX;
	f->e = calloc(CLOG_REMOTE_BATCH_MAX, sizeof(*f->e));
	f->h = calloc(CLOG_REMOTE_BATCH_MAX, sizeof(*f->h));
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
	*strrchr(f->dir, '/') = 0;
	th_rm_rf(f->dir);
	free(f->e);
	free(f->h);
	free(f);
	return 0;
}

static uint64_t pending(struct fx *f)
{
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	return st.pending;
}

/* a's next entry (payload of len bytes) at e[i], signed or not. */
static void mk(struct fx *f, struct lt_author *a, uint64_t lamport, uint32_t len, bool sign, int i)
{
	lt_entry(a, lamport, 500 + (uint64_t)i, f->payload, len, sign, &f->e[i], f->h[i]);
}

/* The loop's part: wait for the worker's fd, run its completions, until
 * on_verified was called `target` times in all. */
static void pump_until(struct fx *f, int target)
{
	int waited = 0;
	while (f->verified < target) {
		struct pollfd p = { .fd = clog_worker_fd(f->w), .events = POLLIN };
		int k = poll(&p, 1, 100);
		assert_true(k >= 0);
		if (k == 1)
			assert_true(clog_worker_poll(f->w) >= 0);
		waited += 100;
		assert_true(waited < DEADLINE_MS);
	}
}

static uint64_t head_seq(struct fx *f, struct lt_author *a)
{
	uint64_t seq = 0;
	if (clog_author_head(f->c, a->kp.pk, &seq, NULL) < 0)
		return 0;
	return seq;
}

static void results_come_only_through_the_worker_fd(void **state)
{
	struct fx *f = *state;
	mk(f, &f->carol, 10, 16, false, 0);
	mk(f, &f->carol, 11, 16, false, 1);
	mk(f, &f->carol, 12, 16, true, 2);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 3, NOW), -EINPROGRESS);
	assert_int_equal(pending(f), 0);
	/* Finished on the thread, but not polled: still not taken. */
	struct pollfd p = { .fd = clog_worker_fd(f->w), .events = POLLIN };
	assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 3, NOW), -EINPROGRESS);
	assert_int_equal(f->verified, 0);
	assert_int_equal(pending(f), 0);
	assert_int_equal(clog_worker_poll(f->w), 1);
	assert_int_equal(f->verified, 1);
	assert_int_equal(f->verified_by[7], 1);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.verifies, 1);
	/* The call after on_verified admits the group, checking nothing again. */
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 3, NOW), 3);
	clog_get_stats(f->c, &st);
	assert_int_equal(st.verifies, 1);
	assert_int_equal(st.pending, 3);
	assert_int_equal(f->rejects, 0);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(head_seq(f, &f->carol), 3);
	/* The slot is free again: the same entries once more are a replay,
	 * refused by the admission after a new verification. */
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 3, NOW), -EINPROGRESS);
	pump_until(f, 2);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 3, NOW), 0);
	assert_int_equal(f->rejects, 3);
	assert_int_equal(f->by_reason[CLOG_R_REPLAY], 1);
	assert_int_equal(f->by_reason[CLOG_R_GROUP], 2);
	assert_int_equal(pending(f), 0);
}

static void a_forged_signature_refuses_its_whole_group_and_reports_each(void **state)
{
	struct fx *f = *state;
	int n = 0;
	mk(f, &f->carol, 10, 16, false, n++);
	mk(f, &f->dave, 11, 16, true, n++);
	mk(f, &f->carol, 12, 16, false, n++);
	mk(f, &f->carol, 13, 16, true, n++);
	f->e[3].sig[5] ^= 0x20; /* carol's signature, forged */
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, (size_t)n, NOW), -EINPROGRESS);
	pump_until(f, 1);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, (size_t)n, NOW), 1);
	assert_int_equal(f->rejects, 3);
	assert_int_equal(f->by_reason[CLOG_R_BAD_SIGNATURE], 3);
	assert_int_equal(pending(f), 1);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(head_seq(f, &f->carol), 0); /* no author from a forged group */
	assert_int_equal(head_seq(f, &f->dave), 1);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.authors, 1);
}

static void on_ready(void *user)
{
	(void)user;
}

static void one_sources_groups_keep_their_order(void **state)
{
	struct fx *f = *state;
	struct th_logrec_entry g1[3], g2[3], d1[2];
	for (int i = 0; i < 3; i++)
		mk(f, &f->carol, 10 + (uint64_t)i, 16, i == 2, i);
	memcpy(g1, f->e, sizeof(g1));
	for (int i = 0; i < 3; i++)
		mk(f, &f->carol, 20 + (uint64_t)i, 16, i == 2, i);
	memcpy(g2, f->e, sizeof(g2));
	for (int i = 0; i < 2; i++)
		mk(f, &f->dave, 15 + (uint64_t)i, 16, i == 1, i);
	memcpy(d1, f->e, sizeof(d1));
	assert_int_equal(clog_integrate_remote_async(f->c, 7, g1, 3, NOW), -EINPROGRESS);
	/* Another source is verified beside it. */
	assert_int_equal(clog_integrate_remote_async(f->c, 8, d1, 2, NOW), -EINPROGRESS);
	/* carol's next group waits while her first is being verified. */
	assert_int_equal(clog_integrate_remote_async(f->c, 7, g2, 3, NOW), -EINPROGRESS);
	pump_until(f, 2);
	assert_int_equal(f->verified_by[7], 1);
	assert_int_equal(f->verified_by[8], 1);
	assert_int_equal(pending(f), 0);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, g1, 3, NOW), 3);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, g2, 3, NOW), -EINPROGRESS);
	assert_int_equal(clog_integrate_remote_async(f->c, 8, d1, 2, NOW), 2);
	pump_until(f, 3);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, g2, 3, NOW), 3);
	assert_int_equal(f->rejects, 0);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(head_seq(f, &f->carol), 6);
	assert_int_equal(head_seq(f, &f->dave), 2);
	/* In the log, carol's entries in chain order. */
	struct clog_cursor *cur;
	assert_int_equal(clog_cursor_open(f->c, 0, on_ready, f, &cur), 0);
	uint64_t pos, want = 1;
	struct th_logrec_entry e;
	int r;
	while ((r = clog_cursor_next(cur, &pos, &e)) != 0) {
		if (r == -EAGAIN) {
			struct pollfd p = { .fd = clog_worker_fd(f->w), .events = POLLIN };
			assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
			clog_worker_poll(f->w);
			continue;
		}
		assert_int_equal(r, 1);
		if (memcmp(e.author, f->carol.kp.pk, 32) == 0)
			assert_int_equal(e.seq, want++);
	}
	assert_int_equal(want, 7);
	clog_cursor_close(&cur);
}

static void a_group_above_the_byte_bound_is_verified_part_by_part(void **state)
{
	struct fx *f = *state;
	const size_t n = CLOG_REMOTE_BATCH_MAX;
	for (size_t i = 0; i < n; i++)
		mk(f, &f->carol, 10 + i, PAYLOAD, i % 64 == 63, (int)i);
	const int parts = (int)((n * PAYLOAD + CLOG_VERIFY_BYTES_MAX - 1) / CLOG_VERIFY_BYTES_MAX);
	assert_true(parts >= 2);
	/* Each call copies one part; nothing is taken before the last part
	 * came back. */
	for (int p = 0; p < parts; p++) {
		assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, n, NOW), -EINPROGRESS);
		assert_int_equal(pending(f), 0);
		pump_until(f, p + 1);
	}
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.verifies, n / 64);
	/* Then the admission, CLOG_ADMIT_PER_CALL entries a call (cut after
	 * a signed entry), one turn of the fd between calls. */
	int r, calls = 0;
	uint64_t before = 0;
	while ((r = clog_integrate_remote_async(f->c, 7, f->e, n, NOW)) == -EINPROGRESS) {
		uint64_t now_pending = pending(f);
		assert_true(now_pending > before);
		assert_true(now_pending - before <= CLOG_ADMIT_PER_CALL);
		assert_int_equal(now_pending % 64, 0);
		before = now_pending;
		calls++;
		assert_true(calls < (int)n);
		pump_until(f, parts + calls);
	}
	assert_int_equal(calls, (int)(n / CLOG_ADMIT_PER_CALL) - 1);
	assert_int_equal(r, (int)n);
	assert_int_equal(f->rejects, 0);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(head_seq(f, &f->carol), n);
}

static void a_signature_group_larger_than_a_slice_is_admitted_whole(void **state)
{
	struct fx *f = *state;
	/* dave's 2 entries, carol's 1000 signed once at the end, dave's last
	 * signed after them: the first cut is after the last entry. */
	const size_t big = 2 * CLOG_ADMIT_PER_CALL - 24;
	size_t n = 0;
	mk(f, &f->dave, 5, 16, true, (int)n++);
	mk(f, &f->dave, 6, 16, false, (int)n++);
	for (size_t i = 0; i < big; i++)
		mk(f, &f->carol, 10 + i, 16, i == big - 1, (int)n++);
	mk(f, &f->dave, 10 + big, 16, true, (int)n++);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, n, NOW), -EINPROGRESS);
	pump_until(f, 1);
	/* dave's first entry alone (a cut), then everything else at once:
	 * carol's group and dave's second are open until the last entry. */
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, n, NOW), -EINPROGRESS);
	assert_int_equal(pending(f), 1);
	pump_until(f, 2);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, n, NOW), (int)n);
	assert_int_equal(pending(f), n);
	assert_int_equal(f->rejects, 0);
}

static void a_changed_group_is_verified_again(void **state)
{
	struct fx *f = *state;
	mk(f, &f->carol, 10, 16, false, 0);
	mk(f, &f->carol, 11, 16, true, 1);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 2, NOW), -EINPROGRESS);
	pump_until(f, 1);
	/* Not what was verified (its signature differs now): verified anew,
	 * and refused for what it is. */
	f->e[1].sig[0] ^= 1;
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 2, NOW), -EINPROGRESS);
	pump_until(f, 2);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 2, NOW), 0);
	assert_int_equal(f->by_reason[CLOG_R_BAD_SIGNATURE], 2);
}

static void an_entry_changed_between_admission_slices_is_verified_again(void **state)
{
	struct fx *f = *state;
	const size_t n = 600;
	for (size_t i = 0; i < n; i++)
		mk(f, &f->carol, 10 + i, 16, i % 64 == 63 || i == n - 1, (int)i);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, n, NOW), -EINPROGRESS);
	pump_until(f, 1);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, n, NOW), -EINPROGRESS);
	assert_int_equal(pending(f), CLOG_ADMIT_PER_CALL);
	pump_until(f, 2);
	/* A signature in the next slice is not the one verified: the call
	 * starts over instead of admitting it with the old result. */
	const size_t bad = CLOG_ADMIT_PER_CALL + 63;
	f->e[bad].sig[9] ^= 4;
	int r, calls = 2;
	while ((r = clog_integrate_remote_async(f->c, 7, f->e, n, NOW)) == -EINPROGRESS)
		pump_until(f, ++calls);
	assert_int_equal(r, 0);
	assert_int_equal(pending(f), CLOG_ADMIT_PER_CALL);
	/* Every entry refused: the first slice again as replays, the forged
	 * group for its signature, the rest for not linking to it. */
	assert_int_equal(f->rejects, (int)n);
	assert_true(f->by_reason[CLOG_R_BAD_SIGNATURE] >= 64);
	assert_int_equal(clog_drain(f->c), 0);
	assert_int_equal(head_seq(f, &f->carol), CLOG_ADMIT_PER_CALL);
}

static void a_source_waits_for_a_slot_and_a_freed_one_wakes_it(void **state)
{
	struct fx *f = *state;
	struct lt_author au[CLOG_VERIFY_JOBS_MAX + 1];
	struct th_logrec_entry es[CLOG_VERIFY_JOBS_MAX + 1];
	for (unsigned s = 0; s <= CLOG_VERIFY_JOBS_MAX; s++) {
		lt_author_init(&au[s], (uint8_t)(0x10 + s));
		mk(f, &au[s], 10 + s, 16, true, 0);
		es[s] = f->e[0];
	}
	for (unsigned s = 0; s < CLOG_VERIFY_JOBS_MAX; s++)
		assert_int_equal(clog_integrate_remote_async(f->c, s, &es[s], 1, NOW), -EINPROGRESS);
	pump_until(f, CLOG_VERIFY_JOBS_MAX);
	/* Every slot holds a verified group: the last source waits. */
	const unsigned last = CLOG_VERIFY_JOBS_MAX;
	assert_int_equal(clog_integrate_remote_async(f->c, last, &es[last], 1, NOW), -EINPROGRESS);
	assert_int_equal(f->verified, CLOG_VERIFY_JOBS_MAX);
	/* Taking one frees its slot and says so. */
	assert_int_equal(clog_integrate_remote_async(f->c, 0, &es[0], 1, NOW), 1);
	assert_int_equal(f->verified, CLOG_VERIFY_JOBS_MAX + 1);
	assert_int_equal(clog_integrate_remote_async(f->c, last, &es[last], 1, NOW), -EINPROGRESS);
	pump_until(f, CLOG_VERIFY_JOBS_MAX + 2);
	assert_int_equal(clog_integrate_remote_async(f->c, last, &es[last], 1, NOW), 1);
	/* A verified group left unclaimed is dropped once another source has
	 * wanted its slot for CLOG_VERIFY_CLAIM_NS. */
	struct lt_author x;
	lt_author_init(&x, 0x77);
	mk(f, &x, 40, 16, true, 0);
	assert_int_equal(clog_integrate_remote_async(f->c, 100, f->e, 1, NOW), -EINPROGRESS);
	pump_until(f, CLOG_VERIFY_JOBS_MAX + 3);
	struct lt_author y;
	lt_author_init(&y, 0x78);
	mk(f, &y, 41, 16, true, 1);
	assert_int_equal(clog_integrate_remote_async(f->c, 101, &f->e[1], 1, NOW), -EINPROGRESS);
	assert_int_equal(clog_integrate_remote_async(f->c, 101, &f->e[1], 1, NOW + CLOG_VERIFY_CLAIM_NS),
			 -EINPROGRESS);
	pump_until(f, CLOG_VERIFY_JOBS_MAX + 4);
	assert_int_equal(clog_integrate_remote_async(f->c, 101, &f->e[1], 1, NOW + CLOG_VERIFY_CLAIM_NS), 1);
	assert_int_equal(f->rejects, 0);
}

static void close_with_a_verification_in_flight(void **state)
{
	struct fx *f = *state;
	const size_t n = 512;
	for (size_t i = 0; i < n; i++)
		mk(f, &f->carol, 10 + i, 16, true, (int)i);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, n, NOW), -EINPROGRESS);
	clog_close(&f->c); /* waits for the thread; nobody is told */
	assert_int_equal(clog_worker_poll(f->w), 0);
	assert_int_equal(f->verified, 0);
	/* The log reopens empty and takes the group again. */
	assert_int_equal(open_log(f), 0);
	assert_int_equal(clog_count(f->c), 0);
	int r, calls = 0;
	while ((r = clog_integrate_remote_async(f->c, 7, f->e, n, NOW)) == -EINPROGRESS) {
		calls++;
		assert_true(calls < (int)n);
		pump_until(f, calls);
	}
	assert_int_equal(r, (int)n);
}

static pthread_t loop_thread;
static int validated_here, validated_elsewhere;

/* Refuses payloads whose first byte is 0xff. */
static int check_payload(uint16_t type, const uint8_t *p, size_t len, const char **why)
{
	(void)type;
	if (pthread_equal(pthread_self(), loop_thread))
		validated_here++;
	else
		validated_elsewhere++;
	if (len && p[0] == 0xff) {
		*why = "first byte 0xff";
		return -EBADMSG;
	}
	return 0;
}

static void payloads_are_checked_on_the_worker_too(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	f->cfg.validate = check_payload;
	assert_int_equal(open_log(f), 0);
	loop_thread = pthread_self();
	validated_here = validated_elsewhere = 0;
	/* carol's group of two, the first payload refused; dave's fine. */
	uint8_t bad[16];
	memset(bad, 0xff, sizeof(bad));
	f->payload[0] = 0;
	int n = 0;
	lt_entry(&f->carol, 10, 1, bad, sizeof(bad), false, &f->e[n], f->h[n]);
	n++;
	mk(f, &f->carol, 11, 16, true, n++);
	mk(f, &f->dave, 12, 16, true, n++);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, (size_t)n, NOW), -EINPROGRESS);
	pump_until(f, 1);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, (size_t)n, NOW), 1);
	assert_int_equal(f->by_reason[CLOG_R_INVALID], 1);
	assert_int_equal(f->by_reason[CLOG_R_GROUP], 1);
	assert_non_null(f->detail);
	assert_string_equal(f->detail, "first byte 0xff");
	assert_int_equal(validated_here, 0);
	assert_int_equal(validated_elsewhere, n);
}

static void without_a_worker_it_is_the_synchronous_call(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	f->w = NULL;
	struct clog_worker *w;
	assert_int_equal(clog_worker_create(&w), 0);
	struct clog_callbacks cb = { .on_reject = cb_reject, .role_of = cb_role, .on_verified = cb_verified };
	f->cfg.worker = NULL;
	assert_int_equal(clog_open(f->dir, &f->cfg, &cb, f, &f->c, NULL), 0);
	f->w = w;
	mk(f, &f->carol, 10, 16, true, 0);
	assert_int_equal(clog_integrate_remote_async(f->c, 7, f->e, 1, NOW), 1);
	assert_int_equal(f->verified, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(results_come_only_through_the_worker_fd),
		T(a_forged_signature_refuses_its_whole_group_and_reports_each),
		T(one_sources_groups_keep_their_order),
		T(a_group_above_the_byte_bound_is_verified_part_by_part),
		T(a_signature_group_larger_than_a_slice_is_admitted_whole),
		T(a_changed_group_is_verified_again),
		T(an_entry_changed_between_admission_slices_is_verified_again),
		T(a_source_waits_for_a_slot_and_a_freed_one_wakes_it),
		T(close_with_a_verification_in_flight),
		T(payloads_are_checked_on_the_worker_too),
		T(without_a_worker_it_is_the_synchronous_call),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
