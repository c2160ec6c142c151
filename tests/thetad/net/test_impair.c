/* net_impair: seeded, reproducible loss/delay/jitter/reorder/dup/partitions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "net/net_impair.h"

#define MS 1000000ull
#define S  1000000000ull

/* Sends n datagrams (payload = index) one per ms; records delivery order. */
static unsigned run(const struct net_impair_config *cfg, unsigned n, uint32_t *order, uint64_t *when)
{
	struct net_impair *im;
	assert_int_equal(net_impair_create(cfg, 0, &im), 0);
	unsigned got = 0;
	uint64_t now = 0;
	for (unsigned i = 0; i < n || net_impair_queued(im); ) {
		if (i < n && now >= (uint64_t)i * MS) {
			uint32_t v = i;
			net_impair_submit(im, &v, sizeof(v), NULL, 0, NULL, 0, now);
			i++;
			continue;
		}
		struct net_impair_dgram d;
		while (net_impair_pop(im, now, &d) == 1) {
			assert_int_equal(d.len, 4);
			if (got < 4 * n) {
				memcpy(&order[got], d.data, 4);
				if (when)
					when[got] = d.deliver_ns - d.sent_ns;
			}
			got++;
		}
		uint64_t next = net_impair_next(im);
		uint64_t ns = i < n ? (uint64_t)i * MS : UINT64_MAX;
		now = next < ns ? next : ns;
		if (now == UINT64_MAX)
			break;
	}
	net_impair_destroy(&im);
	return got;
}

static void same_seed_gives_the_same_sequence(void **state)
{
	struct net_impair_config c = {.seed = 42, .loss = 0.2, .dup = 0.1, .reorder = 0.1,
				      .delay_ns = 5 * MS, .jitter_ns = 2 * MS};
	static uint32_t a[4000], b[4000], x[4000];
	unsigned na = run(&c, 1000, a, NULL), nb = run(&c, 1000, b, NULL);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	c.seed = 43;
	unsigned nx = run(&c, 1000, x, NULL);
	assert_true(nx != na || memcmp(a, x, na * sizeof(a[0])) != 0);
}

static void no_impairment_delivers_everything_in_order_at_once(void **state)
{
	static uint32_t o[400];
	static uint64_t w[400];
	assert_int_equal(run(NULL, 100, o, w), 100);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(o[i], i);
		assert_int_equal(w[i], 0);
	}
}

static void loss_rate_matches_the_configuration(void **state)
{
	struct net_impair_config c = {.seed = 7, .loss = 0.25};
	static uint32_t o[40000];
	unsigned got = run(&c, 10000, o, NULL);
	assert_true(got > 7200 && got < 7800);
}

static void delay_and_jitter_bound_delivery_times(void **state)
{
	struct net_impair_config c = {.seed = 3, .delay_ns = 20 * MS, .jitter_ns = 5 * MS};
	static uint32_t o[4000];
	static uint64_t w[4000];
	unsigned got = run(&c, 1000, o, w);
	assert_int_equal(got, 1000);
	bool reordered = false;
	for (unsigned i = 0; i < got; i++) {
		assert_true(w[i] >= 15 * MS && w[i] <= 25 * MS);
		if (i && o[i] < o[i - 1])
			reordered = true;
	}
	assert_true(reordered); /* 10 ms of jitter spread over 1 ms spacing */
}

static void reordering_and_duplication_happen_at_their_rates(void **state)
{
	struct net_impair_config c = {.seed = 9, .dup = 0.1, .reorder = 0.1, .delay_ns = 2 * MS};
	struct net_impair *im;
	assert_int_equal(net_impair_create(&c, 0, &im), 0);
	for (unsigned i = 0; i < 5000; i++)
		net_impair_submit(im, &i, 4, NULL, 0, NULL, 0, (uint64_t)i * MS);
	struct net_impair_stats st;
	net_impair_get_stats(im, &st);
	assert_true(st.duplicated > 400 && st.duplicated < 600);
	assert_true(st.reordered > 450 && st.reordered < 650); /* 10% of 5500 copies */
	assert_int_equal(net_impair_queued(im), 5000 + st.duplicated);
	net_impair_destroy(&im);
}

static void partition_windows_drop_everything_inside_them(void **state)
{
	struct net_impair_config c = {.partitions = {{1 * S, 2 * S}}, .npartitions = 1};
	struct net_impair *im;
	assert_int_equal(net_impair_create(&c, 10 * S, &im), 0);
	uint8_t b = 1;
	assert_int_equal(net_impair_submit(im, &b, 1, NULL, 0, NULL, 0, 10 * S + 500 * MS), 1);
	assert_int_equal(net_impair_submit(im, &b, 1, NULL, 0, NULL, 0, 11 * S), 0);
	assert_int_equal(net_impair_submit(im, &b, 1, NULL, 0, NULL, 0, 11 * S + 999 * MS), 0);
	assert_int_equal(net_impair_submit(im, &b, 1, NULL, 0, NULL, 0, 12 * S), 1);
	net_impair_set_partition(im, true);
	assert_int_equal(net_impair_submit(im, &b, 1, NULL, 0, NULL, 0, 13 * S), 0);
	net_impair_set_partition(im, false);
	assert_int_equal(net_impair_submit(im, &b, 1, NULL, 0, NULL, 0, 14 * S), 1);
	struct net_impair_stats st;
	net_impair_get_stats(im, &st);
	assert_int_equal(st.dropped_partition, 3);
	net_impair_destroy(&im);
}

static void rate_limit_serializes_departures(void **state)
{
	struct net_impair_config c = {.rate_bps = 8000000}; /* 1 byte per us */
	struct net_impair *im;
	assert_int_equal(net_impair_create(&c, 0, &im), 0);
	static uint8_t p[1000];
	net_impair_submit(im, p, sizeof(p), NULL, 0, NULL, 0, 0);
	net_impair_submit(im, p, sizeof(p), NULL, 0, NULL, 0, 0);
	struct net_impair_dgram d;
	assert_int_equal(net_impair_pop(im, 999999, &d), 0);
	assert_int_equal(net_impair_pop(im, 1000000, &d), 1);
	assert_int_equal(net_impair_pop(im, 1999999, &d), 0);
	assert_int_equal(net_impair_pop(im, 2000000, &d), 1);
	net_impair_destroy(&im);
}

static void queue_is_bounded(void **state)
{
	struct net_impair_config c = {.delay_ns = 1 * S};
	struct net_impair *im;
	assert_int_equal(net_impair_create(&c, 0, &im), 0);
	uint8_t b = 0;
	for (unsigned i = 0; i < NET_IMPAIR_MAX_QUEUED + 10; i++)
		net_impair_submit(im, &b, 1, NULL, 0, NULL, 0, 0);
	assert_int_equal(net_impair_queued(im), NET_IMPAIR_MAX_QUEUED);
	struct net_impair_stats st;
	net_impair_get_stats(im, &st);
	assert_int_equal(st.dropped_overflow, 10);
	static uint8_t big[NET_IMPAIR_MAX_DGRAM + 1];
	assert_int_equal(net_impair_submit(im, big, sizeof(big), NULL, 0, NULL, 0, 0), -EMSGSIZE);
	net_impair_destroy(&im);
}

static void spec_strings_parse_and_bad_ones_are_refused(void **state)
{
	struct net_impair_config c;
	assert_int_equal(net_impair_parse("loss=10%,delay=20ms,jitter=5ms,reorder=0.05,dup=0.01,"
					  "rate=10M,seed=42,partition=2s-4s,partition=10s-11s", &c), 0);
	assert_true(c.loss > 0.099 && c.loss < 0.101);
	assert_int_equal(c.delay_ns, 20 * MS);
	assert_int_equal(c.jitter_ns, 5 * MS);
	assert_int_equal(c.rate_bps, 10000000);
	assert_int_equal(c.seed, 42);
	assert_int_equal(c.npartitions, 2);
	assert_int_equal(c.partitions[1].start_ns, 10 * S);
	assert_int_equal(net_impair_parse("", &c), 0);
	assert_int_equal(c.loss == 0.0, 1);
	const char *bad[] = {"loss=2", "loss=-1", "loss=x", "delay=5", "delay=5h", "nope=1",
			     "partition=4s-2s", "partition=4s", "loss", "seed=1x", "rate=5T"};
	c.seed = 1234;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(net_impair_parse(bad[i], &c), -EINVAL);
	assert_int_equal(c.seed, 1234);
	struct net_impair *im = NULL;
	struct net_impair_config inval = {.loss = 1.5};
	assert_int_equal(net_impair_create(&inval, 0, &im), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_gives_the_same_sequence),
		cmocka_unit_test(no_impairment_delivers_everything_in_order_at_once),
		cmocka_unit_test(loss_rate_matches_the_configuration),
		cmocka_unit_test(delay_and_jitter_bound_delivery_times),
		cmocka_unit_test(reordering_and_duplication_happen_at_their_rates),
		cmocka_unit_test(partition_windows_drop_everything_inside_them),
		cmocka_unit_test(rate_limit_serializes_departures),
		cmocka_unit_test(queue_is_bounded),
		cmocka_unit_test(spec_strings_parse_and_bad_ones_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
