/* The log-directory scanner/verifier: clean logs, batched signatures, every
 * kind of damage and attack in real files, and the torn/corrupt verdict that
 * recovery relies on. */
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

#include "th_cmd.h"
#include "th_harness.h"
#include "th_logfile.h"
#include "th_logtest.h"

struct fx {
	char dir[256];
	char seg1[512];
	struct lt_author a, b;
	uint8_t payload[64];
	uint64_t lamport;
	size_t off[64]; /* record offsets in segment 1 */
	int n;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	th_logseg_path(f->dir, 1, f->seg1, sizeof(f->seg1));
	lt_author_init(&f->a, 0x11);
	lt_author_init(&f->b, 0x22);
	memset(f->payload, 0, sizeof(f->payload));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	th_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Adds one entry of author x to seg; signs when sign. */
static size_t add(struct fx *f, struct lt_seg *s, struct lt_author *x, uint64_t batch, uint8_t flags, bool sign)
{
	struct th_logrec_entry e;
	uint8_t h[32];
	th_put_le64(f->payload, 7);
	lt_entry(x, ++f->lamport, 100 + (uint64_t)f->n, f->payload, 16, sign, &e, h);
	size_t o = lt_seg_add(s, &e, batch, flags);
	f->off[f->n++] = o;
	return o;
}

/* Three batches: (a,b signed) (a unsigned, a signed, b signed) (a signed). */
static void write_clean(struct fx *f)
{
	struct lt_seg s;
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, 0, true);
	add(f, &s, &f->b, 1, TH_LOGREC_F_BATCH_END, true);
	add(f, &s, &f->a, 2, 0, false);
	add(f, &s, &f->a, 2, 0, true);
	add(f, &s, &f->b, 2, TH_LOGREC_F_BATCH_END, true);
	add(f, &s, &f->a, 3, TH_LOGREC_F_BATCH_END, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
}

static struct th_logscan_result scan(struct fx *f)
{
	struct th_logscan_result r;
	memset(&r, 0xff, sizeof(r));
	assert_int_equal(th_logscan_dir(f->dir, NULL, NULL, &r), 0);
	return r;
}

static int count_cb(void *user, const struct th_logscan_rec *r)
{
	(*(int *)user)++;
	return 0;
}

static void clean_log_with_batched_signatures_verifies(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	int seen = 0;
	struct th_logscan_ops ops = { .record = count_cb };
	struct th_logscan_result r;
	assert_int_equal(th_logscan_dir(f->dir, &ops, &seen, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.records, 6);
	assert_int_equal(seen, 6);
	assert_int_equal(r.batches, 3);
	assert_int_equal(r.authors, 2);
	assert_int_equal(r.max_lamport, 6);
	assert_int_equal(r.end_offset, (uint64_t)lt_file_size(f->seg1));
}

static void empty_directory_verifies(void **state)
{
	struct fx *f = *state;
	struct th_logscan_result r = scan(f);
	assert_true(r.ok);
	assert_int_equal(r.records, 0);
}

static void flipped_byte_in_an_acknowledged_batch_is_corruption(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	/* A payload byte of record 2 (batch 2, followed by batch 3). */
	assert_int_equal(lt_flip_byte(f->seg1, f->off[2] + 24 + 120, 0x04), 0);
	struct th_logscan_result r = scan(f);
	assert_false(r.ok);
	assert_false(r.torn);
	assert_int_equal(r.bad_index, 2);
	assert_int_equal(r.bad_offset, f->off[2]);
	assert_int_equal(r.bad_reason, TH_LR_BAD_CHECKSUM);
	/* Only records before the damage count as verified. */
	assert_int_equal(r.records, 2);
}

static void truncated_tail_is_a_torn_final_batch(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	long long size = lt_file_size(f->seg1);
	assert_int_equal(lt_truncate(f->seg1, (uint64_t)size - 30), 0);
	struct th_logscan_result r = scan(f);
	assert_false(r.ok);
	assert_true(r.torn);
	assert_int_equal(r.bad_index, 5);
	assert_int_equal(r.bad_reason, TH_LR_TRUNCATED);
	assert_int_equal(r.cut_segment, 1);
	assert_int_equal(r.cut_offset, f->off[5]);
	assert_int_equal(r.cut_bytes, (uint64_t)size - 30 - f->off[5]);
	assert_int_equal(r.records, 5);
}

static void final_batch_without_end_marker_is_torn_at_its_start(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, TH_LOGREC_F_BATCH_END, true);
	add(f, &s, &f->a, 2, 0, false);
	add(f, &s, &f->b, 2, 0, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_true(r.torn);
	assert_int_equal(r.bad_reason, TH_LR_INCOMPLETE);
	assert_int_equal(r.bad_index, 1);
	assert_int_equal(r.cut_offset, f->off[1]);
	assert_int_equal(r.records, 1);
}

static void torn_batch_with_pages_written_out_of_order_is_still_torn(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, TH_LOGREC_F_BATCH_END, true);
	add(f, &s, &f->a, 2, 0, true);
	add(f, &s, &f->b, 2, 0, true);
	add(f, &s, &f->a, 2, TH_LOGREC_F_BATCH_END, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	/* The middle of batch 2 never reached the disk (zeros); its end did. */
	uint8_t zeros[40] = { 0 };
	FILE *fp = fopen(f->seg1, "r+");
	fseek(fp, (long)f->off[2] + 10, SEEK_SET);
	fwrite(zeros, 1, sizeof(zeros), fp);
	fclose(fp);
	struct th_logscan_result r = scan(f);
	assert_true(r.torn);
	assert_int_equal(r.bad_index, 2);
	assert_int_equal(r.cut_offset, f->off[1]); /* the whole batch goes */
	assert_int_equal(r.records, 1);
}

static void damage_followed_by_another_batch_is_corruption(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	/* Break record 4 (last of batch 2): batch 3 follows intact. */
	assert_int_equal(lt_flip_byte(f->seg1, f->off[4] + 30, 0x80), 0);
	struct th_logscan_result r = scan(f);
	assert_false(r.torn);
	assert_int_equal(r.bad_index, 4);
	assert_int_equal(r.bad_reason, TH_LR_BAD_CHECKSUM);
}

static void unsigned_entry_without_a_covering_signature_is_refused(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, 0, false); /* never covered */
	add(f, &s, &f->b, 1, TH_LOGREC_F_BATCH_END, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_false(r.ok);
	assert_false(r.torn);
	assert_int_equal(r.bad_index, 0);
	assert_int_equal(r.bad_reason, TH_LR_UNSIGNED);
}

/* Rewrites record i of segment 1 with edit() applied to its body, with a
 * valid CRC (an attacker, not a disk error). */
static void tamper(struct fx *f, int i, void (*edit)(uint8_t *body, size_t len, void *arg), void *arg)
{
	uint8_t *d;
	size_t len;
	assert_int_equal(lt_read_file(f->seg1, &d, &len), 0);
	struct lt_seg s = { .index = 1 };
	th_wbuf_init(&s.b, 0);
	th_wbuf_put(&s.b, d, len);
	free(d);
	uint8_t *rec = s.b.data + f->off[i];
	edit(rec + TH_LOGREC_FRAME_LEN, th_get_le32(rec + 4), arg);
	lt_seg_refresh_crc(&s, f->off[i]);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
}

static void flip_at(uint8_t *body, size_t len, void *arg)
{
	size_t at = *(size_t *)arg;
	body[at] ^= 0x01;
}

static void tampered_payload_of_a_signed_entry_fails_its_signature(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	size_t at = TH_LOGREC_FIXED_LEN + 3;
	tamper(f, 1, flip_at, &at);
	struct th_logscan_result r = scan(f);
	assert_false(r.torn);
	assert_int_equal(r.bad_index, 1);
	assert_int_equal(r.bad_reason, TH_LR_BAD_SIGNATURE);
}

static void tampered_unsigned_entry_is_named_by_the_next_signature(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	size_t at = TH_LOGREC_FIXED_LEN + 1;
	tamper(f, 2, flip_at, &at); /* unsigned, covered by record 3 */
	struct th_logscan_result r = scan(f);
	assert_false(r.torn);
	assert_int_equal(r.bad_index, 2);
	assert_int_equal(r.bad_offset, f->off[2]);
	assert_int_equal(r.bad_reason, TH_LR_TAMPERED);
}

static void entry_claiming_another_author_fails_its_signature(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	struct th_logrec_entry e;
	uint8_t h[32];
	lt_seg_begin(&s, 1);
	/* Signed by a, but names b as its author (b's first entry). */
	lt_entry(&f->a, 1, 5, f->payload, 8, true, &e, h);
	memcpy(e.author, f->b.kp.pk, 32);
	lt_seg_add(&s, &e, 1, TH_LOGREC_F_BATCH_END);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_int_equal(r.bad_index, 0);
	assert_int_equal(r.bad_reason, TH_LR_BAD_SIGNATURE);
}

static void unsigned_forgery_covered_by_nothing_is_refused(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	struct th_logrec_entry e;
	uint8_t h[32];
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, TH_LOGREC_F_BATCH_END, true);
	/* No key: an attacker appends a well-formed, unsigned entry for a. */
	lt_entry(&f->a, 50, 5, f->payload, 8, false, &e, h);
	lt_seg_add(&s, &e, 2, TH_LOGREC_F_BATCH_END);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_false(r.torn);
	assert_int_equal(r.bad_index, 1);
	assert_int_equal(r.bad_reason, TH_LR_UNSIGNED);
}

static void replayed_entry_is_refused(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	struct th_logrec_entry e;
	uint8_t h[32];
	lt_seg_begin(&s, 1);
	lt_entry(&f->a, 1, 5, f->payload, 8, true, &e, h);
	lt_seg_add(&s, &e, 1, TH_LOGREC_F_BATCH_END);
	lt_seg_add(&s, &e, 2, TH_LOGREC_F_BATCH_END); /* the same, validly signed, again */
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_int_equal(r.bad_index, 1);
	assert_int_equal(r.bad_reason, TH_LR_REPLAY);
}

static void forged_chain_link_is_refused(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	struct th_logrec_entry e;
	uint8_t h[32];
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, TH_LOGREC_F_BATCH_END, true);
	/* The author itself signs an entry that forks its chain. */
	f->a.chain.head[0] ^= 0x55;
	lt_entry(&f->a, 9, 5, f->payload, 8, true, &e, h);
	lt_seg_add(&s, &e, 2, TH_LOGREC_F_BATCH_END);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	/* Its signature holds, so the blame falls on the entry it contradicts. */
	assert_int_equal(r.bad_reason, TH_LR_TAMPERED);
	assert_int_equal(r.bad_index, 0);
}

static void lamport_going_backwards_within_an_author_is_refused(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	struct th_logrec_entry e;
	uint8_t h[32];
	lt_seg_begin(&s, 1);
	lt_entry(&f->a, 10, 5, f->payload, 8, true, &e, h);
	lt_seg_add(&s, &e, 1, TH_LOGREC_F_BATCH_END);
	lt_entry(&f->a, 10, 5, f->payload, 8, true, &e, h);
	lt_seg_add(&s, &e, 2, TH_LOGREC_F_BATCH_END);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_int_equal(r.bad_index, 1);
	assert_int_equal(r.bad_reason, TH_LR_BAD_ORDER);
}

static void batch_ids_must_run_consecutively(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, TH_LOGREC_F_BATCH_END, true);
	add(f, &s, &f->a, 3, TH_LOGREC_F_BATCH_END, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_int_equal(r.bad_index, 1);
	assert_int_equal(r.bad_reason, TH_LR_BAD_BATCH);
}

static void segments_chain_across_files_and_gaps_are_refused(void **state)
{
	struct fx *f = *state;
	struct lt_seg s;
	lt_seg_begin(&s, 1);
	add(f, &s, &f->a, 1, TH_LOGREC_F_BATCH_END, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	lt_seg_begin(&s, 2);
	add(f, &s, &f->a, 2, TH_LOGREC_F_BATCH_END, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	lt_seg_begin(&s, 3);
	add(f, &s, &f->a, 3, TH_LOGREC_F_BATCH_END, true);
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	struct th_logscan_result r = scan(f);
	assert_true(r.ok);
	assert_int_equal(r.segments, 3);
	assert_int_equal(r.records, 3);

	/* A later segment alone verifies, anchored at its first entries. */
	char p2[512];
	th_logseg_path(f->dir, 2, p2, sizeof(p2));
	assert_int_equal(th_logscan_file(p2, NULL, NULL, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.records, 1);

	assert_int_equal(unlink(p2), 0);
	r = scan(f);
	assert_false(r.ok);
	assert_false(r.torn);
	assert_int_equal(r.bad_reason, TH_LR_BAD_SEGMENT);
	assert_int_equal(r.bad_segment, 3);
}

static void final_segment_with_a_torn_header_is_removable(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	char p2[512];
	th_logseg_path(f->dir, 2, p2, sizeof(p2));
	assert_int_equal(lt_write_file(p2, "THETAL", 6), 0);
	struct th_logscan_result r = scan(f);
	assert_true(r.torn);
	assert_int_equal(r.cut_segment, 2);
	assert_int_equal(r.cut_offset, 0);
	assert_int_equal(r.records, 6);
}

static void garbage_after_a_complete_log_is_a_torn_tail(void **state)
{
	struct fx *f = *state;
	write_clean(f);
	FILE *fp = fopen(f->seg1, "a");
	fwrite("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 1, 30, fp);
	fclose(fp);
	struct th_logscan_result r = scan(f);
	assert_true(r.torn);
	assert_int_equal(r.records, 6);
	assert_int_equal(r.cut_bytes, 30);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(clean_log_with_batched_signatures_verifies),
		T(empty_directory_verifies),
		T(flipped_byte_in_an_acknowledged_batch_is_corruption),
		T(truncated_tail_is_a_torn_final_batch),
		T(final_batch_without_end_marker_is_torn_at_its_start),
		T(torn_batch_with_pages_written_out_of_order_is_still_torn),
		T(damage_followed_by_another_batch_is_corruption),
		T(unsigned_entry_without_a_covering_signature_is_refused),
		T(tampered_payload_of_a_signed_entry_fails_its_signature),
		T(tampered_unsigned_entry_is_named_by_the_next_signature),
		T(entry_claiming_another_author_fails_its_signature),
		T(unsigned_forgery_covered_by_nothing_is_refused),
		T(replayed_entry_is_refused),
		T(forged_chain_link_is_refused),
		T(lamport_going_backwards_within_an_author_is_refused),
		T(batch_ids_must_run_consecutively),
		T(segments_chain_across_files_and_gaps_are_refused),
		T(final_segment_with_a_torn_header_is_removable),
		T(garbage_after_a_complete_log_is_a_torn_tail),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
