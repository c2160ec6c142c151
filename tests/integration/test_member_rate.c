/* The edit rate a daemon allows its own users in a session it joined is
 * the configured one ([sess] rate_per_s and rate_burst, docs/operator.md),
 * not a built-in constant, and a reload applies a new value at once: a
 * member daemon with a bucket of 3 refuses a burst past it with reason RATE
 * (the sentence says so); after a reload raising it, the same burst goes
 * through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net_client.h"
#include "net_fixture.h"

#define BURST 8

/* BURST edits at once from a fresh client of d: acks and rejects after all
 * are answered, and how long that took (the bucket refills meanwhile). */
static uint64_t burst(struct nf_daemon *d, uint64_t scope, uint64_t *acks, uint64_t *rejects, char *why, size_t cap)
{
	uint64_t t0 = th_now_ns();
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d->p.runtime_dir, 5000), 0);
	uint8_t payload[NC_EDIT_BYTES];
	memset(payload, 0x42, sizeof payload);
	for (int i = 0; i < BURST; i++)
		assert_true(nc_submit(&c, scope + (uint64_t)i, payload, sizeof payload) > 0);
	uint64_t end = th_now_ns() + 30 * TH_NS_PER_S;
	while (c.acks + c.rejects < BURST && th_now_ns() < end)
		nc_poll(&c, 100);
	*acks = c.acks;
	*rejects = c.rejects;
	snprintf(why, cap, "%s", c.last_reject);
	nc_close(&c);
	return th_now_ns() - t0;
}

static void write_conf(const char *path, int rate, int depth)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[sess]\nrate_per_s = %d\nrate_burst = %d\n", rate, depth);
	assert_int_equal(fclose(f), 0);
}

static void a_members_own_users_get_the_configured_rate(void **state)
{
	(void)state;
	struct nf_daemon a, b;
	char id[33], conf[] = "/tmp/theta-rate-XXXXXX";
	int fd = mkstemp(conf);
	assert_true(fd >= 0);
	close(fd);
	write_conf(conf, 1, 3);
	nf_start(&a, NULL, NULL);
	nf_start(&b, (const char *const[]){ "--config", conf, NULL }, NULL);
	nf_host(&a, "rates", id);
	nf_invite_join(&a, &b, id, "editor");

	uint64_t acks, rejects;
	char why[PROTO_IPC_MAX_DETAIL + 1];
	uint64_t took = burst(&b, 1000, &acks, &rejects, why, sizeof why);
	assert_int_equal(acks + rejects, BURST);
	/* The bucket's depth, and at most one more per second it took (1 a second). */
	uint64_t refill = took / TH_NS_PER_S + 1;
	if (acks < 3 || acks > 3 + refill)
		fail_msg("%llu of %d edits taken in %.2f s from a bucket of 3 at 1 a second", (unsigned long long)acks, BURST,
			 (double)took / 1e9);
	assert_true(rejects >= 1);
	assert_non_null(strstr(why, "rate"));

	write_conf(conf, 1000, 1000);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "reload", NULL }), 0);
	th_sleep_ns(200 * TH_NS_PER_MS); /* the bucket refills at 1000 a second: far more than BURST */
	burst(&b, 2000, &acks, &rejects, why, sizeof why);
	if (rejects)
		fprintf(stderr, "refused after the reload: %s\n", why);
	assert_int_equal(acks, BURST);
	assert_int_equal(rejects, 0);
	unlink(conf);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_members_own_users_get_the_configured_rate, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
