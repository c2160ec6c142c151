/* Exactly once (thetad/clog/clog_dedupe.c): a command resubmitted with the
 * request id of an entry the log remembers gets that entry's id, never a
 * second entry: while the first copy is queued (joined, acked with it),
 * once it is durable (answered at once), and after a close and reopen (the
 * index is rebuilt from the files, as after a daemon crash). Request id 0
 * is never deduplicated, ids are per author, and the window forgets the
 * oldest past CLOG_DEDUPE_WINDOW. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog.h"
#include "th_clogtest.h"
#include "th_err.h"
#include "th_harness.h"
#include "th_logfile.h"
#include "th_logtest.h"

#define NOW 1000000000ull

struct answer {
	int calls, status;
	struct clog_id id;
};

struct fx {
	char dir[256];
	struct clog *c;
	struct lt_author alice, bob;
	uint64_t req_seq;
	uint8_t payload[16];
	int durable;
};

static void cb_durable(void *user, const struct clog_event *ev)
{
	struct fx *f = user;
	f->durable++;
}

static void done(void *ctx, int status, const struct clog_id *id)
{
	struct answer *a = ctx;
	a->calls++;
	a->status = status;
	if (status == 0)
		a->id = *id;
}

static int open_log(struct fx *f, struct clog_recovery *rep)
{
	struct clog_callbacks cb = { .on_durable = cb_durable };
	/* A generous rate: the window test submits thousands at one instant. */
	struct clog_config cfg = { .rate_per_s = 1000000, .rate_burst = 1000000, .pending_per_source = 65536 };
	return clog_open(f->dir, &cfg, &cb, f, &f->c, rep);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(ct_logdir_create(f->dir, sizeof(f->dir)), 0);
	lt_author_init(&f->alice, 0xa1);
	lt_author_init(&f->bob, 0xb0);
	assert_int_equal(open_log(f, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	ct_logdir_remove(f->dir);
	free(f);
	return 0;
}

/* One component.write by `a` with request id req; source 1 for alice. */
static int submit(struct fx *f, struct lt_author *a, uint64_t req, uint64_t scope, struct answer *ans,
		  struct clog_id *id, int *why)
{
	++f->req_seq;
	struct clog_submit s = ct_write(f->c, a, a == &f->alice ? 1u : 2u, f->req_seq, scope, f->payload,
					sizeof(f->payload));
	s.req = req;
	s.done = done;
	s.ctx = ans;
	return clog_submit_local(f->c, &s, NOW, id, why);
}

static uint64_t entries(struct fx *f)
{
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	return st.entries;
}

static void resubmit_of_a_durable_entry_gets_its_id_and_adds_nothing(void **state)
{
	struct fx *f = *state;
	struct answer first = { 0 }, again = { 0 };
	struct clog_id id1, id2;
	int why = 0;
	assert_int_equal(submit(f, &f->alice, 0x1111, 7, &first, &id1, &why), CLOG_SUBMIT_QUEUED);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_int_equal(first.calls, 1);
	assert_int_equal(first.status, 0);

	assert_int_equal(submit(f, &f->alice, 0x1111, 7, &again, &id2, &why), CLOG_SUBMIT_DUPLICATE);
	assert_int_equal(id2.lamport, id1.lamport);
	assert_int_equal(id2.seq, id1.seq);
	assert_memory_equal(id2.author, f->alice.kp.pk, 32);
	assert_false(clog_has_pending(f->c));
	assert_int_equal(again.calls, 0); /* answered by the return value, not done() */
	assert_int_equal(entries(f), 1);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.dup_durable, 1);
	assert_int_equal(st.appended_local, 1);
}

static void resubmit_while_queued_joins_the_first_copy(void **state)
{
	struct fx *f = *state;
	struct answer first = { 0 }, again = { 0 }, third = { 0 };
	struct clog_id id1, id2;
	int why = 0;
	assert_int_equal(submit(f, &f->alice, 0x2222, 7, &first, &id1, &why), CLOG_SUBMIT_QUEUED);
	/* A reconnect before the group commit: the same command again. */
	assert_int_equal(submit(f, &f->alice, 0x2222, 7, &again, &id2, &why), CLOG_SUBMIT_JOINED);
	assert_int_equal(id2.lamport, id1.lamport);
	assert_int_equal(id2.seq, id1.seq);
	assert_int_equal(again.calls, 0);
	/* A different command in between is a new entry. */
	assert_int_equal(submit(f, &f->alice, 0x3333, 8, &third, NULL, &why), CLOG_SUBMIT_QUEUED);

	assert_int_equal(clog_flush(f->c, NOW), 2);
	assert_int_equal(first.calls, 1);
	assert_int_equal(again.calls, 1);
	assert_int_equal(again.status, 0);
	assert_int_equal(again.id.lamport, id1.lamport);
	assert_int_equal(again.id.seq, id1.seq);
	assert_int_equal(third.calls, 1);
	assert_int_equal(f->durable, 2);
	assert_int_equal(entries(f), 2);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.dup_joined, 1);
}

static void joined_resubmit_hears_of_a_failure_too(void **state)
{
	struct fx *f = *state;
	struct answer first = { 0 }, again = { 0 };
	int why = 0;
	assert_int_equal(submit(f, &f->alice, 0x4444, 7, &first, NULL, &why), CLOG_SUBMIT_QUEUED);
	assert_int_equal(submit(f, &f->alice, 0x4444, 7, &again, NULL, &why), CLOG_SUBMIT_JOINED);
	clog_close(&f->c); /* queued, never flushed */
	assert_int_equal(first.calls, 1);
	assert_int_equal(first.status, -ECANCELED);
	assert_int_equal(again.calls, 1);
	assert_int_equal(again.status, -ECANCELED);
}

static void index_is_rebuilt_from_the_files_after_a_reopen(void **state)
{
	struct fx *f = *state;
	struct answer a[3] = { 0 }, again = { 0 };
	struct clog_id ids[3], id;
	int why = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(submit(f, &f->alice, 0x5000 + (uint64_t)i, 7, &a[i], &ids[i], &why), 0);
	assert_int_equal(clog_flush(f->c, NOW), 3);
	/* A queued, unflushed one is lost with the "crash": not remembered. */
	assert_int_equal(submit(f, &f->alice, 0x5003, 7, &again, NULL, &why), CLOG_SUBMIT_QUEUED);
	clog_close(&f->c);

	struct clog_recovery rep;
	assert_int_equal(open_log(f, &rep), 0);
	assert_int_equal(rep.records, 3);
	for (int i = 2; i >= 0; i--) {
		struct answer r = { 0 };
		assert_int_equal(submit(f, &f->alice, 0x5000 + (uint64_t)i, 7, &r, &id, &why), CLOG_SUBMIT_DUPLICATE);
		assert_int_equal(id.lamport, ids[i].lamport);
		assert_int_equal(id.seq, ids[i].seq);
	}
	struct answer r = { 0 };
	assert_int_equal(submit(f, &f->alice, 0x5003, 7, &r, &id, &why), CLOG_SUBMIT_QUEUED);
	assert_int_equal(id.seq, 4);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_int_equal(entries(f), 4);
	struct th_logscan_result res;
	assert_int_equal(th_logscan_dir(f->dir, NULL, NULL, &res), 0);
	assert_true(res.ok);
}

static void request_id_zero_and_other_authors_are_never_duplicates(void **state)
{
	struct fx *f = *state;
	struct answer a = { 0 };
	int why = 0;
	assert_int_equal(submit(f, &f->alice, 0, 7, &a, NULL, &why), CLOG_SUBMIT_QUEUED);
	assert_int_equal(submit(f, &f->alice, 0, 7, &a, NULL, &why), CLOG_SUBMIT_QUEUED);
	assert_int_equal(submit(f, &f->alice, 0x77, 7, &a, NULL, &why), CLOG_SUBMIT_QUEUED);
	/* Bob's id space is his own. */
	assert_int_equal(submit(f, &f->bob, 0x77, 9, &a, NULL, &why), CLOG_SUBMIT_QUEUED);
	assert_int_equal(clog_flush(f->c, NOW), 4);
	assert_int_equal(entries(f), 4);
}

static void a_duplicate_is_answered_even_when_a_new_entry_would_be_refused(void **state)
{
	struct fx *f = *state;
	struct answer a = { 0 };
	struct clog_id id1, id2;
	int why = 0;
	assert_int_equal(submit(f, &f->alice, 0x88, 7, &a, &id1, &why), 0);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	/* As a viewer now: a new component.write is refused, the resend is not. */
	struct clog_submit s = {
		.source = 1, .role = TH_ROLE_VIEWER, .key = &f->alice.kp, .req_seq = ++f->req_seq, .req = 0x88,
		.type = TH_CMD_COMPONENT_WRITE, .scope_kind = TH_SCOPE_ENTITY, .scope_id = 7,
		.payload = f->payload, .payload_len = sizeof(f->payload), .done = done, .ctx = &a,
	};
	assert_int_equal(clog_submit_local(f->c, &s, NOW, &id2, &why), CLOG_SUBMIT_DUPLICATE);
	assert_int_equal(id2.lamport, id1.lamport);
	s.req = 0x89;
	s.req_seq = ++f->req_seq;
	assert_int_equal(clog_submit_local(f->c, &s, NOW, &id2, &why), -TH_EDENIED);
	assert_int_equal(why, CLOG_R_ROLE);
}

static void window_forgets_the_oldest_ids_past_its_bound(void **state)
{
	struct fx *f = *state;
	struct answer a = { 0 };
	struct clog_id first, newest, id;
	int why = 0;
	const uint64_t base = 0x100000;
	/* One more than the window: id `base` falls out, base+1 stays. */
	for (uint64_t i = 0; i <= CLOG_DEDUPE_WINDOW; i++) {
		assert_int_equal(submit(f, &f->alice, base + i, i % 64, &a, i == 0 ? &first : &newest, &why), 0);
		if (clog_has_pending(f->c) && (i % 1024) == 1023)
			assert_true(clog_flush(f->c, NOW) > 0);
	}
	assert_true(clog_flush(f->c, NOW) > 0);
	assert_int_equal(a.calls, CLOG_DEDUPE_WINDOW + 1);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.dedupe_ids, CLOG_DEDUPE_WINDOW);

	assert_int_equal(submit(f, &f->alice, base + 1, 1, &a, &id, &why), CLOG_SUBMIT_DUPLICATE);
	assert_int_equal(submit(f, &f->alice, base + CLOG_DEDUPE_WINDOW, 1, &a, &id, &why), CLOG_SUBMIT_DUPLICATE);
	assert_int_equal(id.seq, newest.seq);
	/* Forgotten: a new entry (and it pushes base+1 out in turn). */
	assert_int_equal(submit(f, &f->alice, base, 1, &a, &id, &why), CLOG_SUBMIT_QUEUED);
	assert_true(id.seq != first.seq);
	assert_int_equal(submit(f, &f->alice, base + 1, 1, &a, &id, &why), CLOG_SUBMIT_QUEUED);
	assert_int_equal(clog_flush(f->c, NOW), 2);

	/* The same bound holds when the index is rebuilt from the files. */
	clog_close(&f->c);
	assert_int_equal(open_log(f, NULL), 0);
	clog_get_stats(f->c, &st);
	assert_int_equal(st.dedupe_ids, CLOG_DEDUPE_WINDOW);
	/* The last W entries hold base+3 .. base+W, then base and base+1 again. */
	assert_int_equal(submit(f, &f->alice, base + 3, 1, &a, &id, &why), CLOG_SUBMIT_DUPLICATE);
	assert_int_equal(submit(f, &f->alice, base + 1, 1, &a, &id, &why), CLOG_SUBMIT_DUPLICATE);
	assert_int_equal(id.seq, CLOG_DEDUPE_WINDOW + 3); /* the later of its two entries */
	assert_int_equal(submit(f, &f->alice, base + 2, 1, &a, &id, &why), CLOG_SUBMIT_QUEUED);
}

/* The index against a plain model: per author the list of request ids of
 * its entries; a submit is a duplicate exactly when its id is among the
 * author's last CLOG_DEDUPE_WINDOW. Random ids from a small space repeat
 * both inside and outside the window, so lookups, evictions and the
 * table's deletions are all exercised. */
static void index_agrees_with_a_plain_model_under_random_ids(void **state)
{
	struct fx *f = *state;
	enum { PER_AUTHOR = 9000, SPACE = 6000 };
	uint64_t *made[2];
	size_t nmade[2] = { 0, 0 };
	struct lt_author *who[2] = { &f->alice, &f->bob };
	struct answer a = { 0 };
	uint32_t rng = 12345;
	int dups = 0;
	for (int k = 0; k < 2; k++)
		made[k] = calloc(PER_AUTHOR, sizeof(uint64_t));
	for (int i = 0; i < 2 * PER_AUTHOR; i++) {
		int k = i & 1;
		rng = rng * 1103515245u + 12345u;
		uint64_t req = 1 + (rng >> 8) % SPACE;
		bool expect_dup = false;
		size_t from = nmade[k] > CLOG_DEDUPE_WINDOW ? nmade[k] - CLOG_DEDUPE_WINDOW : 0;
		for (size_t j = from; j < nmade[k] && !expect_dup; j++)
			expect_dup = made[k][j] == req;
		int why = 0;
		int r = submit(f, who[k], req, (uint64_t)(i % 97), &a, NULL, &why);
		if (expect_dup) {
			assert_true(r == CLOG_SUBMIT_DUPLICATE || r == CLOG_SUBMIT_JOINED);
			dups++;
		} else {
			assert_int_equal(r, CLOG_SUBMIT_QUEUED);
			made[k][nmade[k]++] = req;
		}
		if (i % 512 == 511)
			assert_true(clog_flush(f->c, NOW) >= 0);
	}
	assert_true(clog_flush(f->c, NOW) >= 0);
	assert_true(dups > 1000); /* the model predicted plenty of each kind */
	assert_int_equal(entries(f), nmade[0] + nmade[1]);
	free(made[0]);
	free(made[1]);
}

static int role_editor(void *user, const uint8_t *pk)
{
	return TH_ROLE_EDITOR;
}

static int since_cb(void *user, const struct th_logrec_entry *e)
{
	*(uint64_t *)user = e->req;
	return 0;
}

static void remote_entries_keep_their_signed_request_id(void **state)
{
	struct fx *f = *state;
	/* Another daemon's entry carries req inside the signed encoding; it
	 * survives integration and a reopen unchanged. */
	clog_close(&f->c);
	struct clog_callbacks cb = { .on_durable = cb_durable, .role_of = role_editor };
	assert_int_equal(clog_open(f->dir, NULL, &cb, f, &f->c, NULL), 0);
	struct th_logrec_entry e;
	uint8_t h[32];
	lt_entry(&f->bob, 5, 3, f->payload, sizeof(f->payload), false, &e, h);
	e.req = 0xabcdef;
	th_logrec_entry_hash(&e, h);
	th_logrec_sign(h, f->bob.kp.sk, e.sig);
	e.has_sig = true;
	assert_int_equal(clog_integrate_remote(f->c, 0x80000001u, &e, 1, NOW), 1);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	clog_close(&f->c);
	assert_int_equal(clog_open(f->dir, NULL, &cb, f, &f->c, NULL), 0);
	uint64_t req = 0;
	assert_int_equal(clog_entries_since(f->c, 0, 0, since_cb, &req), 1);
	assert_int_equal(req, 0xabcdef);
	/* Changing it breaks the signature: it is covered. */
	e.req = 0xabcdee;
	th_logrec_entry_hash(&e, h);
	assert_int_equal(th_logrec_verify(h, f->bob.kp.pk, e.sig), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(resubmit_of_a_durable_entry_gets_its_id_and_adds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(resubmit_while_queued_joins_the_first_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(joined_resubmit_hears_of_a_failure_too, setup, teardown),
		cmocka_unit_test_setup_teardown(index_is_rebuilt_from_the_files_after_a_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(request_id_zero_and_other_authors_are_never_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(a_duplicate_is_answered_even_when_a_new_entry_would_be_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(window_forgets_the_oldest_ids_past_its_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(remote_entries_keep_their_signed_request_id, setup, teardown),
		cmocka_unit_test_setup_teardown(index_agrees_with_a_plain_model_under_random_ids, setup, teardown),
	};
	return cmocka_run_group_tests_name("clog: exactly once (request ids)", tests, NULL, NULL);
}
