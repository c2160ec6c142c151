/* th_array_grow: room for n elements, doubling from the minimum, never past
 * the maximum, nothing changed on a refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "th_array.h"

static void room_doubles_from_the_minimum(void **state)
{
	(void)state;
	uint32_t *a = NULL, cap = 0;
	assert_int_equal(th_array_grow((void **)&a, &cap, 0, 8, 1000, sizeof(*a)), 0);
	assert_null(a); /* no room asked for: nothing allocated */
	assert_int_equal(th_array_grow((void **)&a, &cap, 3, 8, 1000, sizeof(*a)), 0);
	assert_int_equal(cap, 8);
	for (uint32_t i = 0; i < 8; i++)
		a[i] = i;
	uint32_t *before = a;
	assert_int_equal(th_array_grow((void **)&a, &cap, 8, 8, 1000, sizeof(*a)), 0);
	assert_ptr_equal(a, before); /* it holds 8 already */
	assert_int_equal(th_array_grow((void **)&a, &cap, 33, 8, 1000, sizeof(*a)), 0);
	assert_int_equal(cap, 64); /* 8 -> 16 -> 32 -> 64 in one step */
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(a[i], i); /* the contents moved along */
	free(a);
}

static void the_maximum_caps_the_capacity_and_refuses_past_it(void **state)
{
	(void)state;
	uint8_t *a = NULL;
	uint32_t cap = 0;
	assert_int_equal(th_array_grow((void **)&a, &cap, 70, 64, 100, 1), 0);
	assert_int_equal(cap, 100); /* 128 would pass the maximum */
	uint8_t *before = a;
	assert_int_equal(th_array_grow((void **)&a, &cap, 101, 64, 100, 1), -ENOMEM);
	assert_ptr_equal(a, before);
	assert_int_equal(cap, 100);
	assert_int_equal(th_array_grow((void **)&a, &cap, UINT64_MAX, 64, UINT32_MAX, 1), -ENOMEM);
	assert_int_equal(cap, 100);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(room_doubles_from_the_minimum),
		cmocka_unit_test(the_maximum_caps_the_capacity_and_refuses_past_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
