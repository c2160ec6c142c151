/* th_hist: exact small values, quantiles within one bucket (12.5 %) and
 * never above the maximum, nearest-rank semantics, the whole u64 range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "th_hist.h"

static void empty_has_no_quantiles(void **state)
{
	struct th_hist h;
	th_hist_reset(&h);
	assert_int_equal(th_hist_quantile(&h, 0.5), 0);
	assert_int_equal(h.count, 0);
	assert_int_equal(h.max, 0);
}

static void small_values_are_exact(void **state)
{
	struct th_hist h;
	th_hist_reset(&h);
	for (uint64_t v = 0; v < TH_HIST_EXACT; v++)
		th_hist_add(&h, v);
	assert_int_equal(th_hist_quantile(&h, 0), 0);
	assert_int_equal(th_hist_quantile(&h, 0.5), 7);  /* rank 8 of 16 */
	assert_int_equal(th_hist_quantile(&h, 1.0), 15);
	assert_int_equal(h.max, 15);
}

static void quantiles_are_within_a_bucket_of_the_truth(void **state)
{
	struct th_hist h;
	th_hist_reset(&h);
	/* 1000 values 1000, 2000, ..., 1000000: p50 = 500000, p99.9 = 999000. */
	for (uint64_t i = 1; i <= 1000; i++)
		th_hist_add(&h, i * 1000);
	uint64_t p50 = th_hist_quantile(&h, 0.5), p999 = th_hist_quantile(&h, 0.999);
	assert_true(p50 >= 500000 && p50 <= 500000 * 9 / 8);
	assert_true(p999 >= 999000 && p999 <= 1000000);
	assert_int_equal(th_hist_quantile(&h, 1.0), 1000000); /* clamped to the max */
	assert_int_equal(h.count, 1000);
}

static void one_outlier_is_the_max_and_not_the_p999(void **state)
{
	struct th_hist h;
	th_hist_reset(&h);
	for (int i = 0; i < 9999; i++)
		th_hist_add(&h, 100);
	th_hist_add(&h, 5000000);
	assert_int_equal(h.max, 5000000);
	uint64_t p999 = th_hist_quantile(&h, 0.999);
	assert_true(p999 >= 100 && p999 <= 100 * 9 / 8);
	/* Two in a thousand are above p99.9. */
	for (int i = 0; i < 20; i++)
		th_hist_add(&h, 5000000);
	p999 = th_hist_quantile(&h, 0.999);
	assert_true(p999 >= 5000000 && p999 <= 5000000);
}

static void the_whole_range_has_a_bucket(void **state)
{
	struct th_hist h;
	th_hist_reset(&h);
	th_hist_add(&h, UINT64_MAX);
	th_hist_add(&h, (uint64_t)1 << 63);
	assert_int_equal(h.max, UINT64_MAX);
	assert_true(th_hist_quantile(&h, 0.5) >= (uint64_t)1 << 63);
	assert_int_equal(th_hist_quantile(&h, 1.0), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_has_no_quantiles),
		cmocka_unit_test(small_values_are_exact),
		cmocka_unit_test(quantiles_are_within_a_bucket_of_the_truth),
		cmocka_unit_test(one_outlier_is_the_max_and_not_the_p999),
		cmocka_unit_test(the_whole_range_has_a_bucket),
	};
	return cmocka_run_group_tests_name("th_hist", tests, NULL, NULL);
}
