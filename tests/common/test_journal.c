/* th_journal: records come back newest first with their kind and bytes,
 * pops stop at a mark, a full journal refuses a push and stays as it was,
 * and a mark that is not a record boundary is refused rather than read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "th_journal.h"

static void records_pop_newest_first(void **state)
{
	struct th_journal j;
	th_journal_init(&j, 0);
	assert_int_equal(th_journal_push(&j, 1, "abc", 3), 0);
	assert_int_equal(th_journal_push(&j, 2, NULL, 0), 0);
	assert_int_equal(th_journal_push(&j, 3, "hello world", 11), 0);
	assert_int_equal(th_journal_mark(&j), 3 + 0 + 11 + 3 * TH_JOURNAL_REC_OVERHEAD);

	uint8_t kind;
	const uint8_t *d;
	size_t len;
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
	assert_int_equal(kind, 3);
	assert_int_equal(len, 11);
	assert_memory_equal(d, "hello world", 11);
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
	assert_int_equal(kind, 2);
	assert_int_equal(len, 0);
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
	assert_int_equal(kind, 1);
	assert_int_equal(len, 3);
	assert_memory_equal(d, "abc", 3);
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 0);
	assert_int_equal(th_journal_mark(&j), 0);
	th_journal_fini(&j);
}

static void pop_stops_at_the_mark(void **state)
{
	struct th_journal j;
	th_journal_init(&j, 0);
	assert_int_equal(th_journal_push(&j, 7, "x", 1), 0);
	size_t mark = th_journal_mark(&j);
	assert_int_equal(th_journal_push(&j, 8, "yy", 2), 0);
	assert_int_equal(th_journal_push(&j, 9, "zzz", 3), 0);
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	assert_int_equal(th_journal_pop(&j, mark, &kind, &d, &len), 1);
	assert_int_equal(kind, 9);
	assert_int_equal(th_journal_pop(&j, mark, &kind, &d, &len), 1);
	assert_int_equal(kind, 8);
	assert_int_equal(th_journal_pop(&j, mark, &kind, &d, &len), 0);
	assert_int_equal(th_journal_mark(&j), mark);
	/* The record below the mark is still there. */
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
	assert_int_equal(kind, 7);
	assert_memory_equal(d, "x", 1);
	th_journal_fini(&j);
}

static void truncate_drops_without_popping(void **state)
{
	struct th_journal j;
	th_journal_init(&j, 0);
	assert_int_equal(th_journal_push(&j, 1, "a", 1), 0);
	size_t mark = th_journal_mark(&j);
	assert_int_equal(th_journal_push(&j, 2, "b", 1), 0);
	th_journal_truncate(&j, mark);
	assert_int_equal(th_journal_mark(&j), mark);
	th_journal_truncate(&j, mark + 100); /* above the top: nothing happens */
	assert_int_equal(th_journal_mark(&j), mark);
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
	assert_int_equal(kind, 1);
	th_journal_fini(&j);
}

static void a_full_journal_refuses_and_is_unchanged(void **state)
{
	struct th_journal j;
	th_journal_init(&j, 2 * (8 + TH_JOURNAL_REC_OVERHEAD));
	uint8_t rec[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(th_journal_push(&j, 1, rec, 8), 0);
	assert_int_equal(th_journal_push(&j, 2, rec, 8), 0); /* exactly at max */
	size_t before = th_journal_mark(&j);
	assert_int_equal(th_journal_push(&j, 3, rec, 1), -ENOSPC);
	assert_int_equal(th_journal_push(&j, 3, NULL, 0), -ENOSPC);
	assert_int_equal(th_journal_mark(&j), before);
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
	assert_int_equal(kind, 2);
	assert_memory_equal(d, rec, 8);
	/* Room again after the pop. */
	assert_int_equal(th_journal_push(&j, 4, rec, 8), 0);
	th_journal_fini(&j);
}

static void many_records_grow_the_buffer(void **state)
{
	struct th_journal j;
	th_journal_init(&j, 0);
	uint8_t rec[300];
	for (unsigned i = 0; i < 5000; i++) {
		memset(rec, (int)(i & 0xff), i % sizeof(rec));
		assert_int_equal(th_journal_push(&j, (uint8_t)(i % 31 + 1), rec, i % sizeof(rec)), 0);
	}
	for (unsigned i = 5000; i-- > 0;) {
		uint8_t kind;
		const uint8_t *d;
		size_t len;
		assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
		assert_int_equal(kind, i % 31 + 1);
		assert_int_equal(len, i % sizeof(rec));
		for (size_t k = 0; k < len; k++)
			assert_int_equal(d[k], i & 0xff);
	}
	assert_int_equal(th_journal_mark(&j), 0);
	th_journal_fini(&j);
	assert_null(j.buf);
}

static void a_mark_inside_a_record_is_refused(void **state)
{
	struct th_journal j;
	th_journal_init(&j, 0);
	assert_int_equal(th_journal_push(&j, 1, "abcdef", 6), 0);
	uint8_t kind = 0xee;
	const uint8_t *d = NULL;
	size_t len = 99;
	/* A mark 3 bytes into the record: the record does not fit above it. */
	assert_int_equal(th_journal_pop(&j, 3, &kind, &d, &len), -EBADMSG);
	assert_int_equal(kind, 0xee);
	assert_int_equal(len, 99);
	assert_int_equal(th_journal_mark(&j), 6 + TH_JOURNAL_REC_OVERHEAD);
	/* Fewer bytes above the mark than a record's trailer. */
	assert_int_equal(th_journal_pop(&j, 8, &kind, &d, &len), -EBADMSG);
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1);
	th_journal_fini(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_pop_newest_first),
		cmocka_unit_test(pop_stops_at_the_mark),
		cmocka_unit_test(truncate_drops_without_popping),
		cmocka_unit_test(a_full_journal_refuses_and_is_unchanged),
		cmocka_unit_test(many_records_grow_the_buffer),
		cmocka_unit_test(a_mark_inside_a_record_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
