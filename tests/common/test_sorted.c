#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "th_sorted.h"

/* The key sits after another field, so key_off and stride both matter. */
struct rec {
	uint64_t seq;
	uint8_t key[4];
	uint32_t pad;
};

#define NREC 5u

static void fill(struct rec *r)
{
	static const uint8_t keys[NREC][4] = {
		{ 0, 0, 0, 2 }, { 0, 0, 1, 0 }, { 0, 5, 0, 0 }, { 7, 0, 0, 0 }, { 0xff, 0, 0, 0 },
	};
	for (unsigned i = 0; i < NREC; i++) {
		r[i].seq = 100 + i;
		memcpy(r[i].key, keys[i], 4);
		r[i].pad = 0xffffffffu;
	}
}

static size_t find(const struct rec *r, size_t n, const uint8_t *k, bool *found)
{
	return th_sorted_find(r, n, sizeof(*r), offsetof(struct rec, key), k, 4, found);
}

static void finds_every_present_key(void **state)
{
	(void)state;
	struct rec r[NREC];
	fill(r);
	for (unsigned n = 1; n <= NREC; n++)
		for (unsigned i = 0; i < n; i++) {
			bool found = false;
			assert_int_equal(find(r, n, r[i].key, &found), i);
			assert_true(found);
		}
}

static void absent_key_gives_insertion_point(void **state)
{
	(void)state;
	struct rec r[NREC];
	fill(r);
	const uint8_t below[4] = { 0, 0, 0, 1 }, mid[4] = { 0, 5, 0, 1 }, above[4] = { 0xff, 0, 0, 1 };
	bool found = true;
	assert_int_equal(find(r, NREC, below, &found), 0);
	assert_false(found);
	found = true;
	assert_int_equal(find(r, NREC, mid, &found), 3);
	assert_false(found);
	found = true;
	assert_int_equal(find(r, NREC, above, &found), NREC);
	assert_false(found);
	found = true;
	assert_int_equal(find(r, 0, mid, &found), 0); /* empty array */
	assert_false(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_every_present_key),
		cmocka_unit_test(absent_key_gives_insertion_point),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
