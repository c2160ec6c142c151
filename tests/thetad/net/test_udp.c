/* net_udp: real loopback sockets, IPv4 and IPv6, batches and GSO; ICMP
 * port unreachable read from the error queue with the address it was
 * about, without disturbing traffic to other peers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#include "net/net_udp.h"

static int wait_recv(struct net_udp *u, struct net_udp_msg *m, unsigned max, unsigned want)
{
	int got = 0;
	for (int tries = 0; tries < 200 && (unsigned)got < want; tries++) {
		struct pollfd p = {.fd = net_udp_fd(u), .events = POLLIN};
		poll(&p, 1, 10);
		int n = net_udp_recv(u, m + got, max - (unsigned)got);
		if (n < 0)
			return n;
		got += n;
	}
	return got;
}

static void loopback(struct sockaddr_storage *ss, socklen_t *len, int family, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		*len = sizeof(*a);
	}
}

static void ephemeral_port_is_reported_and_socket_is_cloexec_nonblocking(void **state)
{
	struct net_udp *u;
	assert_int_equal(net_udp_open(NULL, 0, &u), 0);
	assert_true(net_udp_port(u) > 0);
	int fl = fcntl(net_udp_fd(u), F_GETFD);
	assert_true(fl & FD_CLOEXEC);
	assert_true(fcntl(net_udp_fd(u), F_GETFL) & O_NONBLOCK);
	struct net_udp_msg m[4];
	assert_int_equal(net_udp_recv(u, m, 4), 0); /* nothing pending, no block */
	net_udp_close(&u);
	assert_null(u);
	net_udp_close(&u);
}

static void dual_stack_socket_talks_to_ipv4_and_ipv6_peers(void **state)
{
	struct net_udp *srv, *c4, *c6;
	assert_int_equal(net_udp_open(NULL, 0, &srv), 0);
	if (!net_udp_is_dual_stack(srv)) {
		net_udp_close(&srv);
		skip();
	}
	assert_int_equal(net_udp_open("127.0.0.1", 0, &c4), 0);
	assert_int_equal(net_udp_open("::1", 0, &c6), 0);
	struct sockaddr_storage to;
	socklen_t tl;
	struct net_udp_msg m[4];

	loopback(&to, &tl, AF_INET, net_udp_port(srv));
	assert_int_equal(net_udp_send(c4, (const uint8_t *)"four", 4, 0, (struct sockaddr *)&to, tl, NULL), 0);
	assert_int_equal(wait_recv(srv, m, 4, 1), 1);
	assert_int_equal(m[0].len, 4);
	assert_memory_equal(m[0].data, "four", 4);
	/* v4-mapped sources come back as plain AF_INET */
	assert_int_equal(m[0].from.ss_family, AF_INET);
	char s[64];
	net_udp_addr_str((struct sockaddr *)&m[0].from, s, sizeof(s));
	assert_non_null(strstr(s, "127.0.0.1:"));
	/* and an AF_INET destination works on the v6 socket */
	struct sockaddr_storage back = m[0].from;
	socklen_t bl = m[0].from_len;
	assert_int_equal(net_udp_send(srv, (const uint8_t *)"ok4", 3, 0, (struct sockaddr *)&back, bl, NULL), 0);
	assert_int_equal(wait_recv(c4, m, 4, 1), 1);
	assert_memory_equal(m[0].data, "ok4", 3);

	loopback(&to, &tl, AF_INET6, net_udp_port(srv));
	assert_int_equal(net_udp_send(c6, (const uint8_t *)"six", 3, 0, (struct sockaddr *)&to, tl, NULL), 0);
	assert_int_equal(wait_recv(srv, m, 4, 1), 1);
	assert_int_equal(m[0].from.ss_family, AF_INET6);
	net_udp_addr_str((struct sockaddr *)&m[0].from, s, sizeof(s));
	assert_non_null(strstr(s, "[::1]:"));
	net_udp_close(&srv);
	net_udp_close(&c4);
	net_udp_close(&c6);
}

static void ipv4_only_socket_works(void **state)
{
	struct net_udp *a, *b;
	assert_int_equal(net_udp_open("127.0.0.1", 0, &a), 0);
	assert_int_equal(net_udp_open("127.0.0.1", 0, &b), 0);
	assert_false(net_udp_is_dual_stack(a));
	struct sockaddr_storage to;
	socklen_t tl;
	loopback(&to, &tl, AF_INET, net_udp_port(b));
	assert_int_equal(net_udp_send(a, (const uint8_t *)"x", 1, 0, (struct sockaddr *)&to, tl, NULL), 0);
	struct net_udp_msg m[2];
	assert_int_equal(wait_recv(b, m, 2, 1), 1);
	net_udp_close(&a);
	net_udp_close(&b);
}

static void segmented_send_arrives_as_separate_datagrams(void **state)
{
	struct net_udp *a, *b;
	assert_int_equal(net_udp_open("::1", 0, &a), 0);
	assert_int_equal(net_udp_open("::1", 0, &b), 0);
	uint8_t buf[1200 * 5 + 300];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i / 1200);
	struct sockaddr_storage to;
	socklen_t tl;
	loopback(&to, &tl, AF_INET6, net_udp_port(b));
	size_t sent = 0;
	assert_int_equal(net_udp_send(a, buf, sizeof(buf), 1200, (struct sockaddr *)&to, tl, &sent), 0);
	assert_int_equal(sent, sizeof(buf));
	struct net_udp_msg m[8];
	assert_int_equal(wait_recv(b, m, 8, 6), 6);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(m[i].len, 1200);
		assert_int_equal(m[i].data[0], i);
		assert_int_equal(m[i].data[1199], i);
	}
	assert_int_equal(m[5].len, 300);
	assert_int_equal(m[5].data[0], 5);
	print_message("GSO %s\n", net_udp_has_gso(a) ? "available" : "not available (fallback used)");
	net_udp_close(&a);
	net_udp_close(&b);
}

/* A port nobody listens on, found by binding one and closing it. */
static uint16_t closed_port(int family)
{
	struct net_udp *x;
	assert_int_equal(net_udp_open(family == AF_INET ? "127.0.0.1" : "::1", 0, &x), 0);
	uint16_t p = net_udp_port(x);
	net_udp_close(&x);
	return p;
}

/* Waits for the error queue to hold one (POLLERR), reads it. */
static int wait_error(struct net_udp *u, struct net_udp_icmp *e)
{
	for (int tries = 0; tries < 200; tries++) {
		struct pollfd p = { .fd = net_udp_fd(u), .events = 0 };
		poll(&p, 1, 10);
		int r = net_udp_recv_error(u, e);
		if (r != 0)
			return r;
	}
	return 0;
}

static void port_unreachable_is_read_with_its_address(int family, const char *bind)
{
	struct net_udp *u, *peer;
	assert_int_equal(net_udp_open(bind, 0, &u), 0);
	assert_int_equal(net_udp_open(family == AF_INET ? "127.0.0.1" : "::1", 0, &peer), 0);
	struct sockaddr_storage dead, live;
	socklen_t dl, ll;
	uint16_t port = closed_port(family);
	loopback(&dead, &dl, family, port);
	loopback(&live, &ll, family, net_udp_port(peer));
	struct net_udp_icmp e;
	assert_int_equal(net_udp_recv_error(u, &e), 0); /* none yet */
	assert_int_equal(net_udp_send(u, (const uint8_t *)"anyone?", 7, 0, (struct sockaddr *)&dead, dl, NULL), 0);
	assert_int_equal(wait_error(u, &e), 1);
	assert_int_equal(e.err, ECONNREFUSED);
	assert_int_equal(e.to.ss_family, family);
	char s[64], want[64];
	net_udp_addr_str((struct sockaddr *)&e.to, s, sizeof(s));
	net_udp_addr_str((struct sockaddr *)&dead, want, sizeof(want));
	assert_string_equal(s, want);
	assert_int_equal(e.v6, family == AF_INET6);
	assert_int_equal(net_udp_recv_error(u, &e), 0); /* one error, read once */
	/* Another one left pending on the socket does not cost the next
	 * send to a live peer or its answer. */
	assert_int_equal(net_udp_send(u, (const uint8_t *)"again", 5, 0, (struct sockaddr *)&dead, dl, NULL), 0);
	struct pollfd pe = { .fd = net_udp_fd(u), .events = 0 };
	for (int tries = 0; tries < 200 && !(pe.revents & POLLERR); tries++)
		poll(&pe, 1, 10); /* the error is in: the socket's pending error is set too */
	assert_true(pe.revents & POLLERR);
	assert_int_equal(net_udp_send(u, (const uint8_t *)"live", 4, 0, (struct sockaddr *)&live, ll, NULL), 0);
	struct net_udp_msg m[2];
	assert_int_equal(wait_recv(peer, m, 2, 1), 1);
	assert_memory_equal(m[0].data, "live", 4);
	struct sockaddr_storage back = m[0].from;
	assert_int_equal(net_udp_send(peer, (const uint8_t *)"yes", 3, 0, (struct sockaddr *)&back, m[0].from_len, NULL),
			 0);
	assert_int_equal(wait_recv(u, m, 2, 1), 1);
	assert_memory_equal(m[0].data, "yes", 3);
	assert_int_equal(wait_error(u, &e), 1); /* the second error is still in the queue */
	assert_int_equal(e.err, ECONNREFUSED);
	net_udp_close(&u);
	net_udp_close(&peer);
}

static void icmp_errors_come_from_the_error_queue(void **state)
{
	port_unreachable_is_read_with_its_address(AF_INET, "127.0.0.1");
	struct net_udp *u;
	assert_int_equal(net_udp_open(NULL, 0, &u), 0);
	bool dual = net_udp_is_dual_stack(u);
	net_udp_close(&u);
	if (dual) {
		port_unreachable_is_read_with_its_address(AF_INET, NULL); /* IPv4 errors on the dual-stack socket */
		port_unreachable_is_read_with_its_address(AF_INET6, NULL);
	}
}

static void bad_bind_addresses_are_refused(void **state)
{
	struct net_udp *u = NULL;
	assert_int_equal(net_udp_open("not-an-address", 0, &u), -EINVAL);
	assert_null(u);
	/* the same port twice */
	struct net_udp *a;
	assert_int_equal(net_udp_open("127.0.0.1", 0, &a), 0);
	assert_int_equal(net_udp_open("127.0.0.1", net_udp_port(a), &u), -EADDRINUSE);
	net_udp_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ephemeral_port_is_reported_and_socket_is_cloexec_nonblocking),
		cmocka_unit_test(dual_stack_socket_talks_to_ipv4_and_ipv6_peers),
		cmocka_unit_test(ipv4_only_socket_works),
		cmocka_unit_test(segmented_send_arrives_as_separate_datagrams),
		cmocka_unit_test(icmp_errors_come_from_the_error_queue),
		cmocka_unit_test(bad_bind_addresses_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
