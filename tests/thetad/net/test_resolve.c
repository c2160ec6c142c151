/* thetad/net/net_resolve.c: host names looked up on threads, answered on
 * the loop thread through its eventfd; numeric hosts at once; a bound on
 * lookups outstanding; a resolver destroyed while lookups run. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net_resolve.h"
#include "th_harness.h"
#include "th_loop.h"
#include "th_time.h"

#define WAIT_NS (30 * TH_NS_PER_S) /* generous: only a hang fails */

struct got {
	unsigned n;
	struct net_resolve_result last[NET_RESOLVE_MAX_PENDING + 1];
	pthread_t thread[NET_RESOLVE_MAX_PENDING + 1];
};

static void on_result(void *user, const struct net_resolve_result *res)
{
	struct got *g = user;
	if (g->n < NET_RESOLVE_MAX_PENDING + 1) {
		g->last[g->n] = *res;
		g->thread[g->n] = pthread_self();
	}
	g->n++;
}

static void run_until(struct th_loop *loop, struct got *g, unsigned n)
{
	uint64_t end = th_now_ns() + WAIT_NS;
	while (g->n < n) {
		assert_true(th_now_ns() < end);
		assert_true(th_loop_run_once(loop, 100) >= 0);
	}
}

static void numeric_hosts_need_no_lookup(void **state)
{
	struct sockaddr_storage ss;
	socklen_t l;
	assert_int_equal(net_resolve_numeric("127.0.0.1", 7447, &ss, &l), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(l, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 7447);
	assert_int_equal(net_resolve_numeric("::1", 7447, &ss, &l), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 7447);
	assert_int_equal(net_resolve_numeric("::ffff:10.1.2.3", 9, &ss, &l), 0);
	assert_int_equal(ss.ss_family, AF_INET); /* unmapped */
	assert_int_equal(net_resolve_numeric("localhost", 7447, &ss, &l), -EINVAL);
	assert_int_equal(net_resolve_numeric("10.0.0.256", 7447, &ss, &l), -EINVAL);
	assert_int_equal(net_resolve_numeric(NULL, 7447, &ss, &l), -EINVAL);
}

static void a_name_is_answered_on_the_loop_thread(void **state)
{
	struct th_loop *loop;
	struct net_resolver *r;
	struct got g = { 0 };
	assert_int_equal(th_loop_create(&loop), 0);
	assert_int_equal(net_resolver_create(loop, on_result, &g, &r), 0);
	uint64_t a, b;
	assert_int_equal(net_resolve_start(r, "localhost", 7450, &a), 0);
	assert_int_equal(net_resolve_start(r, "nosuch.invalid", 7450, &b), 0);
	assert_int_not_equal(a, b);
	assert_int_equal(net_resolve_pending(r), 2);
	run_until(loop, &g, 2);
	assert_int_equal(net_resolve_pending(r), 0);
	for (unsigned i = 0; i < 2; i++) {
		const struct net_resolve_result *x = &g.last[i];
		assert_true(pthread_equal(g.thread[i], pthread_self()));
		if (x->id == a) {
			assert_int_equal(x->err, 0);
			assert_true(x->addr.ss_family == AF_INET || x->addr.ss_family == AF_INET6);
			if (x->addr.ss_family == AF_INET) {
				const struct sockaddr_in *s4 = (const struct sockaddr_in *)&x->addr;
				assert_int_equal(ntohl(s4->sin_addr.s_addr) >> 24, 127);
				assert_int_equal(ntohs(s4->sin_port), 7450);
			}
		} else {
			assert_int_equal(x->id, b);
			assert_int_equal(x->err, -EHOSTUNREACH);
			assert_true(strlen(x->why) > 0); /* getaddrinfo's words */
		}
	}
	/* Names that cannot be DNS names are refused before any thread. */
	char longname[NET_RESOLVE_HOST_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(net_resolve_start(r, longname, 1, &a), -EINVAL);
	assert_int_equal(net_resolve_start(r, "", 1, &a), -EINVAL);
	net_resolver_destroy(&r);
	assert_null(r);
	th_loop_destroy(&loop);
}

/* THETAD_TEST_RESOLVE_HOLD keeps lookups running until a file exists. */
static void hold_lookups(char *dir, size_t dlen, char *path, size_t plen)
{
	assert_int_equal(th_mkdtemp(dir, dlen), 0);
	snprintf(path, plen, "%s/release", dir);
	setenv("THETAD_TEST_RESOLVE_HOLD", path, 1);
}

static void release_lookups(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	unsetenv("THETAD_TEST_RESOLVE_HOLD");
}

static void outstanding_lookups_are_bounded(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	hold_lookups(dir, sizeof(dir), path, sizeof(path));
	struct th_loop *loop;
	struct net_resolver *r;
	struct got g = { 0 };
	assert_int_equal(th_loop_create(&loop), 0);
	assert_int_equal(net_resolver_create(loop, on_result, &g, &r), 0);
	uint64_t id;
	for (unsigned i = 0; i < NET_RESOLVE_MAX_PENDING; i++)
		assert_int_equal(net_resolve_start(r, "localhost", 1, &id), 0);
	assert_int_equal(net_resolve_start(r, "localhost", 1, &id), -EAGAIN);
	assert_int_equal(net_resolve_pending(r), NET_RESOLVE_MAX_PENDING);
	/* The loop goes on while they are held: nothing arrives. */
	assert_true(th_loop_run_once(loop, 50) >= 0);
	assert_int_equal(g.n, 0);
	release_lookups(path);
	run_until(loop, &g, NET_RESOLVE_MAX_PENDING);
	assert_int_equal(net_resolve_pending(r), 0);
	assert_int_equal(net_resolve_start(r, "localhost", 1, &id), 0); /* room again */
	run_until(loop, &g, NET_RESOLVE_MAX_PENDING + 1);
	net_resolver_destroy(&r);
	th_loop_destroy(&loop);
	th_rm_rf(dir);
}

static void destroying_with_lookups_running_is_safe(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	hold_lookups(dir, sizeof(dir), path, sizeof(path));
	struct th_loop *loop;
	struct net_resolver *r;
	struct got g = { 0 };
	assert_int_equal(th_loop_create(&loop), 0);
	assert_int_equal(net_resolver_create(loop, on_result, &g, &r), 0);
	uint64_t id;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(net_resolve_start(r, "localhost", 1, &id), 0);
	net_resolver_destroy(&r);
	th_loop_destroy(&loop);
	/* The threads finish after their resolver and loop are gone; the last
	 * frees what they shared (ASan: make SAN=1). Give them time to run. */
	release_lookups(path);
	for (int i = 0; i < 200; i++)
		th_sleep_ns(5 * TH_NS_PER_MS);
	assert_int_equal(g.n, 0); /* and none called back */
	th_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numeric_hosts_need_no_lookup),
		cmocka_unit_test(a_name_is_answered_on_the_loop_thread),
		cmocka_unit_test(outstanding_lookups_are_bounded),
		cmocka_unit_test(destroying_with_lookups_running_is_safe),
	};
	return cmocka_run_group_tests_name("net_resolve", tests, NULL, NULL);
}
