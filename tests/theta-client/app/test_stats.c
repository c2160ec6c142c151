/* theta-client/app/stats.c: frame time percentiles and stage means. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "app/stats.h"

static void percentiles_use_nearest_rank(void **state)
{
	static struct app_stats s;
	app_stats_init(&s, 90, 50);
	uint64_t stages[SIM_STAGE_COUNT] = { 0, 10, 20, 30 };
	/* 1..100 in a scrambled order. */
	for (uint64_t i = 0; i < 100; i++)
		app_stats_add(&s, (i * 37) % 100 + 1, stages);
	struct app_frame_stats fs;
	app_stats_compute(&s, &fs);
	assert_int_equal(fs.frames, 100);
	assert_int_equal(fs.window, 100);
	assert_int_equal(fs.frame_p50_ns, 50);
	assert_int_equal(fs.frame_p99_ns, 99);
	assert_int_equal(fs.frame_max_ns, 100);
	assert_int_equal(fs.late_frames, 50); /* 51..100 exceed a budget of 50 */
	assert_int_equal(fs.stage_mean_ns[SIM_STAGE_RENDER], 20);
	assert_int_equal(fs.rate_hz, 90);
}

static void window_forgets_old_frames(void **state)
{
	static struct app_stats s;
	app_stats_init(&s, 90, 0);
	uint64_t stages[SIM_STAGE_COUNT] = { 0 };
	for (int i = 0; i < APP_STATS_WINDOW; i++)
		app_stats_add(&s, 1000000, stages);
	for (int i = 0; i < APP_STATS_WINDOW; i++)
		app_stats_add(&s, 7, stages);
	struct app_frame_stats fs;
	app_stats_compute(&s, &fs);
	assert_int_equal(fs.frames, 2 * APP_STATS_WINDOW);
	assert_int_equal(fs.window, APP_STATS_WINDOW);
	assert_int_equal(fs.frame_p99_ns, 7);
	assert_int_equal(fs.late_frames, 0); /* no budget */
}

static void single_frame_and_empty(void **state)
{
	static struct app_stats s;
	app_stats_init(&s, 90, 0);
	struct app_frame_stats fs;
	app_stats_compute(&s, &fs);
	assert_int_equal(fs.window, 0);
	assert_int_equal(fs.frame_p50_ns, 0);
	uint64_t stages[SIM_STAGE_COUNT] = { 0 };
	app_stats_add(&s, 42, stages);
	app_stats_compute(&s, &fs);
	assert_int_equal(fs.frame_p50_ns, 42);
	assert_int_equal(fs.frame_p99_ns, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(percentiles_use_nearest_rank),
		cmocka_unit_test(window_forgets_old_frames),
		cmocka_unit_test(single_frame_and_empty),
	};
	return cmocka_run_group_tests_name("app_stats", tests, NULL, NULL);
}
