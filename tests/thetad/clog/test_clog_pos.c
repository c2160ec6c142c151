/* Positions and cursors: every durable entry's 0-based append index, the
 * same after a reopen; the per-author seq -> position index and chain
 * heads; cursors across segment rotation and read-ahead windows, at the
 * end of the log, over a damaged record and after the log closed; the cut
 * range recovery reports when the last batch is damaged or torn. Real
 * files in a temporary directory. */
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
#include "th_logfile.h"
#include "th_logtest.h"

#define NOW 1000000000ull
#define MAXE 16384

/* What on_durable reported for each position. */
struct seen {
	uint8_t author0;
	uint64_t seq, lamport;
	uint8_t hash[32];
};

struct fx {
	char dir[256];
	struct clog *c;
	struct clog_config cfg;
	struct lt_author alice, bob;
	uint64_t req;
	uint64_t ndurable;
	bool pos_in_order;
	struct seen *seen; /* MAXE, indexed by position */
	uint8_t payload[1024];
};

static void cb_durable(void *user, const struct clog_event *ev)
{
	struct fx *f = user;
	if (ev->pos != f->ndurable)
		f->pos_in_order = false;
	if (ev->pos < MAXE) {
		struct seen *s = &f->seen[ev->pos];
		s->author0 = ev->entry->author[0];
		s->seq = ev->entry->seq;
		s->lamport = ev->entry->lamport;
		memcpy(s->hash, ev->hash, 32);
	}
	f->ndurable++;
}

static int open_log(struct fx *f)
{
	struct clog_callbacks cb = { .on_durable = cb_durable };
	return clog_open(f->dir, &f->cfg, &cb, f, &f->c, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->seen = calloc(MAXE, sizeof(*f->seen));
	assert_int_equal(ct_logdir_create(f->dir, sizeof(f->dir)), 0);
	lt_author_init(&f->alice, 0xa1);
	lt_author_init(&f->bob, 0xb0);
	assert_int_not_equal(f->alice.kp.pk[0], f->bob.kp.pk[0]); /* told apart by it */
	f->cfg.rate_per_s = 1000000;
	f->cfg.rate_burst = 1000000;
	f->cfg.pending_per_source = 8192;
	f->pos_in_order = true;
	for (size_t i = 0; i < sizeof(f->payload); i++)
		f->payload[i] = (uint8_t)i;
	assert_int_equal(open_log(f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	ct_logdir_remove(f->dir);
	free(f->seen);
	free(f);
	return 0;
}

static void submit_len(struct fx *f, struct lt_author *a, uint32_t len)
{
	++f->req;
	struct clog_submit s = ct_write(f->c, a, a == &f->alice ? 1u : 2u, f->req, f->req, f->payload, len);
	struct clog_id id;
	int why;
	assert_int_equal(clog_submit_local(f->c, &s, NOW, &id, &why), CLOG_SUBMIT_QUEUED);
}

static void submit(struct fx *f, struct lt_author *a) { submit_len(f, a, 12); }

/* n entries alternating alice/bob, flushed every `batch`. */
static void fill(struct fx *f, int n, int batch, uint32_t len)
{
	for (int i = 0; i < n; i++) {
		submit_len(f, i % 3 ? &f->alice : &f->bob, len);
		if ((i + 1) % batch == 0)
			assert_true(clog_flush(f->c, NOW) > 0);
	}
	if (clog_has_pending(f->c))
		assert_true(clog_flush(f->c, NOW) > 0);
}

static void positions_are_append_indexes_and_survive_a_reopen(void **state)
{
	struct fx *f = *state;
	assert_int_equal(clog_count(f->c), 0);
	fill(f, 30, 7, 12);
	assert_true(f->pos_in_order);
	assert_int_equal(f->ndurable, 30);
	assert_int_equal(clog_count(f->c), 30);

	clog_close(&f->c);
	assert_int_equal(open_log(f), 0);
	assert_int_equal(clog_count(f->c), 30);
	/* Every (author, seq) maps back to the position on_durable reported. */
	for (uint64_t p = 0; p < 30; p++) {
		const struct lt_author *a = f->seen[p].author0 == f->alice.kp.pk[0] ? &f->alice : &f->bob;
		uint64_t got = UINT64_MAX;
		assert_int_equal(clog_pos_of(f->c, a->kp.pk, f->seen[p].seq, &got), 0);
		assert_int_equal(got, p);
	}
	/* New entries continue after the recovered ones. */
	submit(f, &f->alice);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_int_equal(f->ndurable, 31);
	assert_true(f->pos_in_order);
	assert_int_equal(f->seen[30].author0, f->alice.kp.pk[0]);
	assert_int_equal(clog_count(f->c), 31);
	uint64_t pos;
	assert_int_equal(clog_pos_of(f->c, f->alice.kp.pk, f->seen[30].seq, &pos), 0);
	assert_int_equal(pos, 30);
}

struct heads {
	int n;
	uint8_t author0[4];
	uint64_t seq[4];
	uint8_t hash[4][32];
};

static int heads_cb(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32])
{
	struct heads *h = user;
	if (h->n < 4) {
		h->author0[h->n] = key[0];
		h->seq[h->n] = seq;
		memcpy(h->hash[h->n], hash, 32);
	}
	h->n++;
	return 0;
}

static void author_heads_and_pos_of_cover_durable_entries_only(void **state)
{
	struct fx *f = *state;
	uint64_t seq, pos;
	uint8_t hash[32];
	assert_int_equal(clog_author_head(f->c, f->alice.kp.pk, &seq, hash), -ENOENT);
	fill(f, 9, 9, 12); /* alice 6 (seq 1..6), bob 3 */
	assert_int_equal(clog_author_head(f->c, f->alice.kp.pk, &seq, hash), 0);
	assert_int_equal(seq, 6);
	/* The head hash is the hash of alice's last durable entry. */
	uint64_t last = 0;
	for (uint64_t p = 0; p < 9; p++)
		if (f->seen[p].author0 == f->alice.kp.pk[0])
			last = p;
	assert_memory_equal(hash, f->seen[last].hash, 32);
	assert_int_equal(clog_author_head(f->c, f->bob.kp.pk, &seq, NULL), 0);
	assert_int_equal(seq, 3);

	/* Queued, not durable: neither the head nor pos_of moves. */
	submit(f, &f->alice);
	assert_int_equal(clog_author_head(f->c, f->alice.kp.pk, &seq, NULL), 0);
	assert_int_equal(seq, 6);
	assert_int_equal(clog_pos_of(f->c, f->alice.kp.pk, 7, &pos), -ENOENT);
	assert_int_equal(clog_pos_of(f->c, f->alice.kp.pk, 0, &pos), -ENOENT);
	struct lt_author stranger;
	lt_author_init(&stranger, 0x55);
	assert_int_equal(clog_pos_of(f->c, stranger.kp.pk, 1, &pos), -ENOENT);
	assert_int_equal(clog_author_head(f->c, stranger.kp.pk, &seq, NULL), -ENOENT);

	struct heads h = { 0 };
	assert_int_equal(clog_authors_each(f->c, heads_cb, &h), 0);
	assert_int_equal(h.n, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(h.seq[i], h.author0[i] == f->alice.kp.pk[0] ? 6 : 3);

	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_int_equal(clog_pos_of(f->c, f->alice.kp.pk, 7, &pos), 0);
	assert_int_equal(pos, 9);
	/* After a reopen the table comes from recovery, with the same heads. */
	clog_close(&f->c);
	assert_int_equal(open_log(f), 0);
	assert_int_equal(clog_author_head(f->c, f->alice.kp.pk, &seq, hash), 0);
	assert_int_equal(seq, 7);
	assert_memory_equal(hash, f->seen[9].hash, 32);
	memset(&h, 0, sizeof(h));
	assert_int_equal(clog_authors_each(f->c, heads_cb, &h), 0);
	assert_int_equal(h.n, 2);
}

/* Reads the whole cursor synchronously (no worker: never -EAGAIN). */
static uint64_t drain(struct clog_cursor *cur, struct fx *f, uint64_t expect_from)
{
	uint64_t pos, n = 0;
	struct th_logrec_entry e;
	int r;
	while ((r = clog_cursor_next(cur, &pos, &e)) == 1) {
		assert_int_equal(pos, expect_from + n);
		if (pos < MAXE) {
			assert_int_equal(e.seq, f->seen[pos].seq);
			assert_int_equal(e.lamport, f->seen[pos].lamport);
			assert_int_equal(e.author[0], f->seen[pos].author0);
		}
		n++;
	}
	assert_int_equal(r, 0);
	return n;
}

static void cursor_reads_across_segment_rotation_and_windows(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	f->cfg.segment_bytes = 3 * CLOG_CURSOR_WINDOW / 2;
	assert_int_equal(open_log(f), 0);
	/* About 4 MiB: several segments, several windows each. */
	fill(f, 4000, 500, 1000);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_true(st.segments >= 3);

	struct clog_cursor *cur;
	assert_int_equal(clog_cursor_open(f->c, 0, NULL, NULL, &cur), 0);
	assert_int_equal(drain(cur, f, 0), 4000);
	clog_cursor_close(&cur);
	assert_null(cur);

	/* From the middle, and again after a reopen. */
	clog_close(&f->c);
	assert_int_equal(open_log(f), 0);
	assert_int_equal(clog_cursor_open(f->c, 2345, NULL, NULL, &cur), 0);
	assert_int_equal(drain(cur, f, 2345), 4000 - 2345);
	clog_cursor_close(&cur);
	assert_int_equal(clog_cursor_open(f->c, 4000, NULL, NULL, &cur), 0);
	assert_int_equal(drain(cur, f, 4000), 0);
	clog_cursor_close(&cur);
	assert_int_equal(clog_cursor_open(f->c, 4001, NULL, NULL, &cur), -ERANGE);
}

static void cursor_at_the_end_sees_entries_appended_later(void **state)
{
	struct fx *f = *state;
	fill(f, 5, 5, 12);
	struct clog_cursor *cur;
	assert_int_equal(clog_cursor_open(f->c, 0, NULL, NULL, &cur), 0);
	assert_int_equal(drain(cur, f, 0), 5);
	/* Queued entries are not served: only durable ones. */
	submit(f, &f->bob);
	submit(f, &f->alice);
	assert_int_equal(drain(cur, f, 5), 0);
	assert_int_equal(clog_flush(f->c, NOW), 2);
	assert_int_equal(drain(cur, f, 5), 2);
	fill(f, 3, 3, 12);
	assert_int_equal(drain(cur, f, 7), 3);
	clog_cursor_close(&cur);
}

struct offs {
	uint64_t off[64];
	uint64_t n;
};

static int offs_cb(void *user, const struct th_logscan_rec *r)
{
	struct offs *o = user;
	if (o->n < 64)
		o->off[o->n] = r->offset;
	o->n++;
	return 0;
}

static void a_damaged_record_is_an_error_not_garbage(void **state)
{
	struct fx *f = *state;
	fill(f, 10, 5, 12);
	struct offs o = { 0 };
	struct th_logscan_result res;
	assert_int_equal(th_logscan_dir(f->dir, &(struct th_logscan_ops){ .record = offs_cb }, &o, &res), 0);
	assert_int_equal(o.n, 10);
	char path[512];
	assert_int_equal(th_logseg_path(f->dir, 1, path, sizeof(path)), 0);
	/* Damage record 6's payload after recovery made it durable. */
	assert_int_equal(lt_flip_byte(path, o.off[6] + TH_LOGREC_FRAME_LEN + TH_LOGREC_FIXED_LEN + 3, 0x40), 0);

	struct clog_cursor *cur;
	struct th_logrec_entry e;
	uint64_t pos;
	assert_int_equal(clog_cursor_open(f->c, 0, NULL, NULL, &cur), 0);
	for (uint64_t i = 0; i < 6; i++) {
		assert_int_equal(clog_cursor_next(cur, &pos, &e), 1);
		assert_int_equal(pos, i);
	}
	assert_int_equal(clog_cursor_next(cur, &pos, &e), -TH_ECORRUPT);
	/* It stays on the damaged record rather than skipping it. */
	assert_int_equal(clog_cursor_next(cur, &pos, &e), -TH_ECORRUPT);
	clog_cursor_close(&cur);
	/* A cursor opened after it, on a fresh window, is fine. */
	assert_int_equal(clog_cursor_open(f->c, 7, NULL, NULL, &cur), 0);
	assert_int_equal(drain(cur, f, 7), 3);
	clog_cursor_close(&cur);
}

static void a_cursor_left_open_fails_after_the_log_closes(void **state)
{
	struct fx *f = *state;
	fill(f, 3, 3, 12);
	struct clog_cursor *a, *b;
	assert_int_equal(clog_cursor_open(f->c, 1, NULL, NULL, &a), 0);
	assert_int_equal(clog_cursor_open(f->c, 0, NULL, NULL, &b), 0);
	clog_close(&f->c);
	struct th_logrec_entry e;
	uint64_t pos;
	assert_int_equal(clog_cursor_next(a, &pos, &e), -EPIPE);
	assert_int_equal(clog_cursor_next(b, &pos, &e), -EPIPE);
	clog_cursor_close(&a);
	clog_cursor_close(&b);
}

/* Records of the log as the scanner reads them (offset by record index). */
static struct offs scan_offsets(struct fx *f)
{
	struct offs o = { 0 };
	struct th_logscan_result res;
	assert_int_equal(th_logscan_dir(f->dir, &(struct th_logscan_ops){ .record = offs_cb }, &o, &res), 0);
	return o;
}

static const struct th_logscan_cut_author *cut_author(const struct clog_recovery *r, const uint8_t *pk)
{
	for (uint32_t i = 0; i < r->cut_nauthors; i++)
		if (memcmp(r->cut_authors[i].pk, pk, 32) == 0)
			return &r->cut_authors[i];
	return NULL;
}

static void a_damaged_last_batch_is_cut_and_described_as_possibly_acknowledged(void **state)
{
	struct fx *f = *state;
	fill(f, 5, 5, 12);  /* batch 1: positions 0..4 */
	fill(f, 6, 6, 12);  /* batch 2: positions 5..10, acknowledged */
	assert_int_equal(f->ndurable, 11);
	struct offs o = scan_offsets(f);
	assert_int_equal(o.n, 11);
	char path[512];
	assert_int_equal(th_logseg_path(f->dir, 1, path, sizeof(path)), 0);
	/* A byte of position 7's payload, after it was acknowledged. */
	assert_int_equal(lt_flip_byte(path, o.off[7] + TH_LOGREC_FRAME_LEN + TH_LOGREC_FIXED_LEN + 2, 0x10), 0);

	clog_close(&f->c);
	struct clog_recovery r;
	struct clog_callbacks cb = { .on_durable = cb_durable };
	assert_int_equal(clog_open(f->dir, &f->cfg, &cb, f, &f->c, &r), 0);
	assert_true(r.repaired);
	assert_int_equal(r.records, 5);
	assert_int_equal(clog_count(f->c), 5);
	assert_int_equal(r.cut_pos, 5);
	assert_int_equal(r.cut_records, 6);
	assert_int_equal(r.cut_damaged, 1);
	assert_int_equal(r.cut_unknown, 0);
	/* Per author, exactly the seqs batch 2 held, and the head is below. */
	uint64_t want_first[2] = { UINT64_MAX, UINT64_MAX }, want_last[2] = { 0, 0 };
	for (uint64_t p = 5; p < 11; p++) {
		int k = f->seen[p].author0 == f->alice.kp.pk[0] ? 0 : 1;
		if (f->seen[p].seq < want_first[k])
			want_first[k] = f->seen[p].seq;
		if (f->seen[p].seq > want_last[k])
			want_last[k] = f->seen[p].seq;
	}
	assert_int_equal(r.cut_nauthors, 2);
	const struct th_logscan_cut_author *ca = cut_author(&r, f->alice.kp.pk);
	const struct th_logscan_cut_author *cb2 = cut_author(&r, f->bob.kp.pk);
	assert_non_null(ca);
	assert_non_null(cb2);
	assert_int_equal(ca->seq_first, want_first[0]);
	assert_int_equal(ca->seq_last, want_last[0]);
	assert_int_equal(cb2->seq_first, want_first[1]);
	assert_int_equal(cb2->seq_last, want_last[1]);
	uint64_t head;
	assert_int_equal(clog_author_head(f->c, f->alice.kp.pk, &head, NULL), 0);
	assert_int_equal(head, ca->seq_first - 1);

	/* The line says what is true: which records, and that they may have
	 * been acknowledged. */
	char line[1024];
	assert_true(clog_recovery_describe(&r, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "6 record(s) at positions 5..10"));
	assert_non_null(strstr(line, "1 of them damaged"));
	assert_non_null(strstr(line, "may have been acknowledged"));
	assert_null(strstr(line, "unacknowledged"));
	/* Entries appended now take the cut positions again. */
	submit(f, &f->alice);
	f->ndurable = 5;
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_true(f->pos_in_order);
	/* Truncated at a small cap, still one terminated line. */
	char small[40];
	assert_int_equal(clog_recovery_describe(&r, small, sizeof(small)), (int)sizeof(small) - 1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void a_damaged_author_key_in_the_cut_is_not_named(void **state)
{
	struct fx *f = *state;
	fill(f, 3, 3, 12);
	fill(f, 4, 4, 12);
	struct offs o = scan_offsets(f);
	char path[512];
	assert_int_equal(th_logseg_path(f->dir, 1, path, sizeof(path)), 0);
	/* A byte of position 4's author key (entry offset 44). */
	assert_int_equal(lt_flip_byte(path, o.off[4] + TH_LOGREC_FRAME_LEN + 44 + 5, 0x01), 0);
	clog_close(&f->c);
	struct clog_recovery r;
	struct clog_callbacks cb = { .on_durable = cb_durable };
	assert_int_equal(clog_open(f->dir, &f->cfg, &cb, f, &f->c, &r), 0);
	assert_true(r.repaired);
	assert_int_equal(r.cut_pos, 3);
	assert_int_equal(r.cut_records, 4);
	assert_int_equal(r.cut_unknown, 1);
	uint32_t named = 0;
	for (uint32_t i = 0; i < r.cut_nauthors; i++) {
		assert_true(memcmp(r.cut_authors[i].pk, f->alice.kp.pk, 32) == 0 ||
			    memcmp(r.cut_authors[i].pk, f->bob.kp.pk, 32) == 0);
		named += r.cut_authors[i].records;
	}
	assert_int_equal(named, 3);
	char line[1024];
	clog_recovery_describe(&r, line, sizeof(line));
	assert_non_null(strstr(line, "1 record(s) too damaged to name"));
}

static void a_torn_write_is_cut_with_what_it_held(void **state)
{
	struct fx *f = *state;
	fill(f, 4, 4, 12);
	fill(f, 3, 3, 12);
	struct offs o = scan_offsets(f);
	char path[512];
	assert_int_equal(th_logseg_path(f->dir, 1, path, sizeof(path)), 0);
	/* The crash came in the middle of position 5. */
	assert_int_equal(lt_truncate(path, o.off[5] + 40), 0);
	clog_close(&f->c);
	struct clog_recovery r;
	struct clog_callbacks cb = { .on_durable = cb_durable };
	assert_int_equal(clog_open(f->dir, &f->cfg, &cb, f, &f->c, &r), 0);
	assert_true(r.repaired);
	assert_int_equal(r.cut_pos, 4);
	assert_int_equal(r.cut_records, 2); /* one whole, one partial */
	assert_int_equal(r.cut_damaged, 1);
	assert_int_equal(r.cut_unknown, 1);
	assert_int_equal(r.cut_nauthors, 1);
	assert_int_equal(clog_count(f->c), 4);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(positions_are_append_indexes_and_survive_a_reopen),
		T(author_heads_and_pos_of_cover_durable_entries_only),
		T(cursor_reads_across_segment_rotation_and_windows),
		T(cursor_at_the_end_sees_entries_appended_later),
		T(a_damaged_record_is_an_error_not_garbage),
		T(a_cursor_left_open_fails_after_the_log_closes),
		T(a_damaged_last_batch_is_cut_and_described_as_possibly_acknowledged),
		T(a_damaged_author_key_in_the_cut_is_not_named),
		T(a_torn_write_is_cut_with_what_it_held),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
