/* thetad/net/net_chan: the rate limit every channel uses, in simulated time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/net_chan.h"

#define MS (1000ull * 1000)
#define T0 (7000 * MS)

static void a_burst_passes_then_the_rate_holds(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 100, 10); /* 100/s, 10 at once */
	uint64_t now = T0;
	int passed = 0;
	for (int i = 0; i < 50; i++)
		passed += net_rate_take(&r, now);
	assert_int_equal(passed, 10);
	/* One more every 10 ms. */
	now += 10 * MS;
	assert_true(net_rate_take(&r, now));
	assert_false(net_rate_take(&r, now));
	/* Over one simulated second of a flood, about 100 pass. */
	passed = 0;
	for (int ms = 1; ms <= 1000; ms++)
		for (int k = 0; k < 5; k++)
			passed += net_rate_take(&r, now + (uint64_t)ms * MS);
	assert_in_range(passed, 99, 101);
}

static void refused_events_do_not_use_up_the_future(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 10, 1);
	uint64_t now = T0;
	assert_true(net_rate_take(&r, now));
	for (int i = 0; i < 10000; i++)
		assert_false(net_rate_take(&r, now + 1));
	/* The flood changed nothing: the next slot is 100 ms on. */
	assert_false(net_rate_take(&r, now + 99 * MS));
	assert_true(net_rate_take(&r, now + 100 * MS));
}

static void an_idle_bucket_refills_only_to_its_burst(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 1000, 5);
	uint64_t now = T0;
	assert_true(net_rate_take(&r, now));
	now += 60000 * MS; /* a minute of silence */
	int passed = 0;
	for (int i = 0; i < 100; i++)
		passed += net_rate_take(&r, now);
	assert_int_equal(passed, 5);
}

static void zero_rate_means_unlimited(void **state)
{
	struct net_rate r;
	net_rate_init(&r, 0, 0);
	for (int i = 0; i < 100000; i++)
		assert_true(net_rate_take(&r, T0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_burst_passes_then_the_rate_holds),
		cmocka_unit_test(refused_events_do_not_use_up_the_future),
		cmocka_unit_test(an_idle_bucket_refills_only_to_its_burst),
		cmocka_unit_test(zero_rate_means_unlimited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
