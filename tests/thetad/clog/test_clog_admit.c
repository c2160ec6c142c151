/* Admission of entries from other daemons: an author is admitted only after
 * a signature of theirs verified and their group passed every check, so
 * garbage cannot fill the author table; signature groups are accepted or
 * refused whole, with on_reject for every refused entry; the owner's
 * payload check (clog_config.validate) refuses remote groups and local
 * submits alike. Real files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clog/clog.h"
#include "th_clogtest.h"
#include "th_err.h"
#include "th_harness.h"
#include "th_logtest.h"

#define NOW 1000000000ull

struct fx {
	char dir[256];
	struct clog *c;
	struct clog_config cfg;
	struct lt_author carol, dave, erin;
	int rejects, by_reason[CLOG_R_COUNT];
	const char *invalid_detail; /* clog_reject_detail() seen in on_reject */
	int details_elsewhere;      /* non-NULL details for other reasons */
	int role;
	uint8_t payload[16];
	struct th_logrec_entry *e; /* CLOG_REMOTE_BATCH_MAX */
	uint8_t (*h)[32];
};

static void cb_reject(void *user, uint32_t source, const struct th_logrec_entry *e, int reason)
{
	struct fx *f = user;
	f->rejects++;
	f->by_reason[reason]++;
	if (reason == CLOG_R_INVALID)
		f->invalid_detail = clog_reject_detail(f->c);
	else if (clog_reject_detail(f->c))
		f->details_elsewhere++;
}

static int cb_role(void *user, const uint8_t *pk)
{
	struct fx *f = user;
	return f->role;
}

static int open_log(struct fx *f)
{
	struct clog_callbacks cb = { .on_reject = cb_reject, .role_of = cb_role };
	return clog_open(f->dir, &f->cfg, &cb, f, &f->c, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(ct_logdir_create(f->dir, sizeof(f->dir)), 0);
	lt_author_init(&f->carol, 0xc0);
	lt_author_init(&f->dave, 0xd0);
	lt_author_init(&f->erin, 0xe0);
	f->role = TH_ROLE_EDITOR;
	f->e = calloc(CLOG_REMOTE_BATCH_MAX, sizeof(*f->e));
	f->h = calloc(CLOG_REMOTE_BATCH_MAX, sizeof(*f->h));
	assert_int_equal(open_log(f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	ct_logdir_remove(f->dir);
	free(f->e);
	free(f->h);
	free(f);
	return 0;
}

static void reset_counts(struct fx *f)
{
	f->rejects = 0;
	memset(f->by_reason, 0, sizeof(f->by_reason));
}

static uint64_t authors(struct fx *f)
{
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	return st.authors;
}

static uint64_t pending(struct fx *f)
{
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	return st.pending;
}

/* a's next entry with the given type and payload, chained and hashed,
 * signed or not. */
static void mk_pl(struct fx *f, struct lt_author *a, uint64_t lamport, uint16_t type, const uint8_t *pl, bool sign,
		  int i)
{
	struct th_logrec_entry *e = &f->e[i];
	lt_entry(a, lamport, 500 + (uint64_t)i, pl, sizeof(f->payload), false, e, f->h[i]);
	e->type = type;
	th_logrec_entry_hash(e, f->h[i]);
	memcpy(a->chain.head, f->h[i], 32);
	if (sign) {
		th_logrec_sign(f->h[i], a->kp.sk, e->sig);
		e->has_sig = true;
	}
}

static void mk(struct fx *f, struct lt_author *a, uint64_t lamport, uint16_t type, bool sign, int i)
{
	mk_pl(f, a, lamport, type, f->payload, sign, i);
}

/* The test's payload rule: a payload starting with BAD_TAG is malformed. */
#define BAD_TAG 0xee
static const char bad_tag_why[] = "tag: refused by the test's rule";
static int validate_calls;

static int validate_tag(uint16_t type, const uint8_t *p, size_t len, const char **why)
{
	validate_calls++;
	if (type == TH_CMD_COMPONENT_WRITE && len && p[0] == BAD_TAG) {
		*why = bad_tag_why;
		return -EBADMSG;
	}
	return 0;
}

static void garbage_from_unknown_keys_admits_no_author(void **state)
{
	struct fx *f = *state;
	/* A full call of entries, each from another made-up key, with a
	 * made-up signature: before, each one took a slot in the author
	 * table (65536 of them filled it). */
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < CLOG_REMOTE_BATCH_MAX; i++) {
			struct lt_author g = { 0 };
			randombytes_buf(g.kp.pk, sizeof(g.kp.pk));
			lt_entry(&g, 10, i, f->payload, sizeof(f->payload), false, &f->e[i], f->h[i]);
			randombytes_buf(f->e[i].sig, sizeof(f->e[i].sig));
			f->e[i].has_sig = i % 2 == 0; /* half claim a signature, half none */
		}
		reset_counts(f);
		assert_int_equal(clog_integrate_remote(f->c, 7, f->e, CLOG_REMOTE_BATCH_MAX, NOW), 0);
		assert_int_equal(f->rejects, CLOG_REMOTE_BATCH_MAX);
		assert_int_equal(f->by_reason[CLOG_R_BAD_SIGNATURE], CLOG_REMOTE_BATCH_MAX / 2);
		assert_int_equal(f->by_reason[CLOG_R_UNSIGNED], CLOG_REMOTE_BATCH_MAX / 2);
		assert_int_equal(authors(f), 0);
	}
	/* A signed entry whose group fails a check admits nobody either. */
	f->role = TH_ROLE_VIEWER;
	struct lt_author saved = f->carol;
	mk(f, &f->carol, 10, TH_CMD_COMPONENT_WRITE, true, 0);
	reset_counts(f);
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, 1, NOW), 0);
	assert_int_equal(f->by_reason[CLOG_R_ROLE], 1);
	assert_int_equal(authors(f), 0);
	/* A genuine author is still admitted, once its signature verified. */
	f->role = TH_ROLE_EDITOR;
	f->carol = saved;
	mk(f, &f->carol, 10, TH_CMD_COMPONENT_WRITE, false, 0);
	mk(f, &f->carol, 11, TH_CMD_COMPONENT_WRITE, true, 1);
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, 2, NOW), 2);
	assert_int_equal(authors(f), 1);
	assert_int_equal(clog_flush(f->c, NOW), 2);
	uint64_t seq;
	assert_int_equal(clog_author_head(f->c, f->carol.kp.pk, &seq, NULL), 0);
	assert_int_equal(seq, 2);
}

static void a_full_author_table_refuses_new_authors_group_by_group(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	f->cfg.authors_max = 2;
	assert_int_equal(open_log(f), 0);
	/* One call: carol (1 entry), dave (group of 3), erin (group of 3).
	 * Two fit; erin's whole group is refused, each entry reported. */
	int n = 0;
	mk(f, &f->carol, 10, TH_CMD_COMPONENT_WRITE, true, n++);
	mk(f, &f->dave, 11, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->erin, 12, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->dave, 13, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->erin, 14, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->dave, 15, TH_CMD_COMPONENT_WRITE, true, n++);
	mk(f, &f->erin, 16, TH_CMD_COMPONENT_WRITE, true, n++);
	reset_counts(f);
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, (size_t)n, NOW), 4);
	assert_int_equal(f->rejects, 3);
	assert_int_equal(f->by_reason[CLOG_R_AUTHORS], 3);
	assert_int_equal(authors(f), 2);
	assert_int_equal(pending(f), 4);
	assert_int_equal(clog_flush(f->c, NOW), 4);
	uint64_t seq;
	assert_int_equal(clog_author_head(f->c, f->erin.kp.pk, &seq, NULL), -ENOENT);
	assert_int_equal(clog_author_head(f->c, f->dave.kp.pk, &seq, NULL), 0);
	assert_int_equal(seq, 3);
	/* Known authors go on being accepted with the table full. */
	n = 0;
	mk(f, &f->dave, 20, TH_CMD_COMPONENT_WRITE, true, n++);
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, (size_t)n, NOW), 1);
}

static void a_failing_entry_inside_a_group_refuses_the_whole_group_and_reports_each(void **state)
{
	struct fx *f = *state;
	/* carol signs a group of four whose third entry names no command
	 * type; dave's group in the same call is fine. */
	int n = 0;
	mk(f, &f->carol, 10, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->dave, 11, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->carol, 12, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->carol, 13, 0x7fff, false, n++);
	mk(f, &f->dave, 14, TH_CMD_COMPONENT_WRITE, true, n++);
	mk(f, &f->carol, 15, TH_CMD_COMPONENT_WRITE, true, n++);
	/* And carol's next group, which links to the refused one. */
	mk(f, &f->carol, 16, TH_CMD_COMPONENT_WRITE, true, n++);
	reset_counts(f);
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, (size_t)n, NOW), 2);
	/* Every carol entry refused and reported: the bad one with its own
	 * reason, its three group companions as group refusals, and the next
	 * group (which cannot link) with the first refusal's reason. */
	assert_int_equal(f->rejects, 5);
	assert_int_equal(f->by_reason[CLOG_R_UNKNOWN_TYPE], 1);
	assert_int_equal(f->by_reason[CLOG_R_GROUP], 4);
	assert_int_equal(pending(f), 2); /* nothing of carol's half-queued */
	assert_int_equal(clog_flush(f->c, NOW), 2);
	uint64_t seq;
	assert_int_equal(clog_author_head(f->c, f->carol.kp.pk, &seq, NULL), -ENOENT);
	assert_int_equal(authors(f), 1);
}

static void a_group_beyond_the_queue_bound_is_refused_whole(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	f->cfg.pending_per_source = 5;
	assert_int_equal(open_log(f), 0);
	int n = 0;
	for (int i = 0; i < 3; i++)
		mk(f, &f->carol, 10 + (uint64_t)i, TH_CMD_COMPONENT_WRITE, i == 2, n++);
	for (int i = 0; i < 3; i++)
		mk(f, &f->carol, 20 + (uint64_t)i, TH_CMD_COMPONENT_WRITE, i == 2, n++);
	reset_counts(f);
	/* 3 fit, the second group of 3 would make 6 > 5: refused whole. */
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, (size_t)n, NOW), 3);
	assert_int_equal(f->rejects, 3);
	assert_int_equal(f->by_reason[CLOG_R_PENDING], 3);
	assert_int_equal(pending(f), 3);
	/* After the flush the same group goes in whole. */
	assert_int_equal(clog_flush(f->c, NOW), 3);
	reset_counts(f);
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e + 3, 3, NOW), 3);
	assert_int_equal(f->rejects, 0);
}

static void a_payload_the_validate_hook_refuses_refuses_its_group_and_local_submits(void **state)
{
	struct fx *f = *state;
	static uint8_t bad[16] = { BAD_TAG };
	clog_close(&f->c);
	f->cfg.validate = validate_tag;
	assert_int_equal(open_log(f), 0);
	/* carol's group of three carries one malformed payload (the middle
	 * one); dave's group in the same call is well formed. */
	int n = 0;
	struct lt_author carol0 = f->carol;
	mk(f, &f->carol, 10, TH_CMD_COMPONENT_WRITE, false, n++);
	mk(f, &f->dave, 11, TH_CMD_COMPONENT_WRITE, true, n++);
	mk_pl(f, &f->carol, 12, TH_CMD_COMPONENT_WRITE, bad, false, n++);
	mk(f, &f->carol, 13, TH_CMD_COMPONENT_WRITE, true, n++);
	reset_counts(f);
	validate_calls = 0;
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, (size_t)n, NOW), 1);
	assert_true(validate_calls >= 2); /* dave's entry and carol's up to the bad one */
	assert_int_equal(f->rejects, 3);
	assert_int_equal(f->by_reason[CLOG_R_INVALID], 1);
	assert_int_equal(f->by_reason[CLOG_R_GROUP], 2);
	assert_ptr_equal(f->invalid_detail, bad_tag_why);
	assert_int_equal(f->details_elsewhere, 0);
	assert_null(clog_reject_detail(f->c)); /* only while on_reject reports it */
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_INVALID], 1);
	assert_int_equal(st.rejected[CLOG_R_GROUP], 2);
	assert_int_equal(pending(f), 1); /* only dave's */
	assert_int_equal(clog_flush(f->c, NOW), 1);
	uint64_t seq;
	assert_int_equal(clog_author_head(f->c, f->carol.kp.pk, &seq, NULL), -ENOENT);

	/* The local path goes through the same hook, before it signs. */
	struct clog_submit sub = {
		.source = 1, .role = TH_ROLE_EDITOR, .key = &f->erin.kp, .req_seq = 1,
		.type = TH_CMD_COMPONENT_WRITE, .scope_kind = TH_SCOPE_ENTITY, .scope_id = 9,
		.payload = bad, .payload_len = sizeof(bad),
	};
	int why = 0;
	validate_calls = 0;
	assert_int_equal(clog_submit_local(f->c, &sub, NOW, NULL, &why), -EBADMSG);
	assert_int_equal(why, CLOG_R_INVALID);
	assert_int_equal(validate_calls, 1);
	assert_ptr_equal(clog_reject_detail(f->c), bad_tag_why);
	assert_string_equal(clog_reason_str(CLOG_R_INVALID), "malformed payload");
	assert_int_equal(pending(f), 0);
	sub.payload = f->payload;
	assert_int_equal(clog_submit_local(f->c, &sub, NOW, NULL, &why), 0);
	assert_null(clog_reject_detail(f->c));
	assert_int_equal(clog_flush(f->c, NOW), 1);
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_INVALID], 2);

	/* Without a hook (NULL) the same group is only capped, and goes in. */
	clog_close(&f->c);
	f->cfg.validate = NULL;
	assert_int_equal(open_log(f), 0);
	f->carol = carol0;
	n = 0;
	mk(f, &f->carol, 20, TH_CMD_COMPONENT_WRITE, false, n++);
	mk_pl(f, &f->carol, 21, TH_CMD_COMPONENT_WRITE, bad, false, n++);
	mk(f, &f->carol, 22, TH_CMD_COMPONENT_WRITE, true, n++);
	reset_counts(f);
	assert_int_equal(clog_integrate_remote(f->c, 7, f->e, (size_t)n, NOW), 3);
	assert_int_equal(f->rejects, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(garbage_from_unknown_keys_admits_no_author),
		T(a_full_author_table_refuses_new_authors_group_by_group),
		T(a_failing_entry_inside_a_group_refuses_the_whole_group_and_reports_each),
		T(a_group_beyond_the_queue_bound_is_refused_whole),
		T(a_payload_the_validate_hook_refuses_refuses_its_group_and_local_submits),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
