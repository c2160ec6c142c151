#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "th_hex.h"

static void round_trip_is_lowercase(void **state)
{
	const uint8_t in[] = { 0x00, 0x7f, 0xa5, 0xff };
	char text[9];
	uint8_t out[4];
	th_hex_encode(in, sizeof in, text);
	assert_string_equal(text, "007fa5ff");
	assert_int_equal(th_hex_decode(text, strlen(text), out, sizeof out, true), 0);
	assert_memory_equal(in, out, sizeof in);
}

static void bad_input_leaves_output_untouched(void **state)
{
	uint8_t out[2] = { 1, 2 };
	assert_int_equal(th_hex_decode("abc", 3, out, 2, false), -EINVAL); /* odd length */
	assert_int_equal(th_hex_decode("abcg", 4, out, 2, false), -EINVAL); /* not a digit */
	assert_int_equal(th_hex_decode("ABCD", 4, out, 2, true), -EINVAL);  /* upper refused */
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(th_hex_decode("ABCD", 4, out, 2, false), 0);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(th_hex_digit('x'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_is_lowercase),
		cmocka_unit_test(bad_input_leaves_output_untouched),
	};
	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
