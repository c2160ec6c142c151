/* th_err: project error codes have text; plain errno values pass through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "th_err.h"

static void project_codes_have_their_own_text(void **state)
{
	assert_string_equal(th_strerror(-TH_ECONFIG), "invalid configuration");
	assert_string_equal(th_strerror(-TH_EPROTOHASH), "protocol or schema hash mismatch");
	assert_string_equal(th_strerror(-TH_EVERSION), "protocol version mismatch");
	assert_string_equal(th_strerror(-TH_ELOCKED), "another instance holds the lock");
	assert_string_equal(th_strerror(-TH_ECORRUPT), "corrupt data");
	assert_string_equal(th_strerror(-TH_EDENIED), "permission denied by role");
	/* Positive codes work too. */
	assert_string_equal(th_strerror(TH_ECONFIG), "invalid configuration");
}

static void every_project_code_has_distinct_text(void **state)
{
	for (int e = TH_ERR_BASE + 1; e < TH_ERR_END; e++) {
		const char *t = th_strerror(-e);
		assert_non_null(t);
		/* Not strerror's "Unknown error N" fallback. */
		assert_string_not_equal(t, strerror(e));
		for (int f = TH_ERR_BASE + 1; f < e; f++)
			assert_string_not_equal(t, th_strerror(-f));
	}
	/* Project codes do not collide with errno values. */
	assert_true(TH_ERR_BASE > 133 /* EHWPOISON, the largest Linux errno */);
}

static void plain_errno_passes_through_to_strerror(void **state)
{
	static const int codes[] = { EPERM, ENOENT, EINVAL, EBADMSG, EMSGSIZE, EPROTO, ENOMEM, EEXIST };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want), "%s", strerror(codes[i]));
		assert_string_equal(th_strerror(-codes[i]), want);
		assert_string_equal(th_strerror(codes[i]), want);
	}
}

/* A code in no table falls through to strerror's text for that number, so
 * the message still names the code (not an empty string or another code's
 * text), including the gaps at both ends of the project range and codes
 * whose negation overflows. */
static void codes_outside_any_table_name_their_number(void **state)
{
	static const int codes[] = { TH_ERR_BASE, TH_ERR_END, 100000 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char num[16], want[256];
		snprintf(num, sizeof(num), "%d", codes[i]);
		snprintf(want, sizeof(want), "%s", strerror(codes[i]));
		assert_string_equal(th_strerror(-codes[i]), want);
		assert_non_null(strstr(th_strerror(-codes[i]), num));
	}
	assert_string_equal(th_strerror(0), strerror(0));
	/* -INT_MIN does not exist: no overflow, the number is still named. */
	assert_non_null(strstr(th_strerror(INT_MIN), "2147483648"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(project_codes_have_their_own_text),
		cmocka_unit_test(every_project_code_has_distinct_text),
		cmocka_unit_test(plain_errno_passes_through_to_strerror),
		cmocka_unit_test(codes_outside_any_table_name_their_number),
	};
	return cmocka_run_group_tests_name("th_err", tests, NULL, NULL);
}
