/* [web] listen addresses (thetad/web/web_addr.c) and the config check that
 * uses them (thetad/srv/config.c): numeric IPv4, bracketed IPv6, a port
 * 0..65535; everything else refused with the phrase saying what is wrong,
 * and the config key with one sentence naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "srv/config.h"
#include "net/net_udp.h"
#include "web/web_addr.h"

static void ok(const char *text, int family, unsigned port, const char *shown, bool loopback, bool any)
{
	struct sockaddr_storage a;
	socklen_t len = 0;
	const char *why = NULL;
	char t[WEB_ADDR_TEXT_MAX];
	assert_int_equal(web_addr_parse(text, &a, &len, &why), 0);
	assert_int_equal(a.ss_family, family);
	assert_int_equal(len, family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	assert_int_equal(web_addr_port((struct sockaddr *)&a), port);
	assert_true(web_addr_format((struct sockaddr *)&a, t, sizeof t) > 0);
	assert_string_equal(t, shown);
	assert_int_equal(web_addr_is_loopback((struct sockaddr *)&a), loopback);
	assert_int_equal(web_addr_is_any((struct sockaddr *)&a), any);
}

static void bad(const char *text, const char *want)
{
	struct sockaddr_storage a;
	socklen_t len = 0;
	const char *why = NULL;
	assert_int_equal(web_addr_parse(text, &a, &len, &why), -EINVAL);
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void test_parse(void **state)
{
	(void)state;
	ok("127.0.0.1:8080", AF_INET, 8080, "127.0.0.1:8080", true, false);
	ok("127.1.2.3:0", AF_INET, 0, "127.1.2.3:0", true, false);
	ok("0.0.0.0:8443", AF_INET, 8443, "0.0.0.0:8443", false, true);
	ok("192.0.2.7:65535", AF_INET, 65535, "192.0.2.7:65535", false, false);
	ok("[::1]:0", AF_INET6, 0, "[::1]:0", true, false);
	ok("[::]:443", AF_INET6, 443, "[::]:443", false, true);
	ok("[fd00::2]:9", AF_INET6, 9, "[fd00::2]:9", false, false);
	bad("", "it is not an address and port");
	bad("127.0.0.1", "it has no ':PORT'");
	bad("127.0.0.1:65536", "the port is not a number from 0 to 65535");
	bad("127.0.0.1:", "the port is not a number from 0 to 65535");
	bad("127.0.0.1:-1", "the port is not a number from 0 to 65535");
	bad("127.0.0.1:80x", "the port is not a number from 0 to 65535");
	bad("localhost:80", "the host is not a numeric IPv4 address (IPv6 goes in brackets; names are not taken)");
	bad("::1:80", "the host is not a numeric IPv4 address (IPv6 goes in brackets; names are not taken)");
	bad("[::1:80", "an IPv6 address is written in brackets, then ':' and the port");
	bad("[::1]80", "an IPv6 address is written in brackets, then ':' and the port");
	bad("[127.0.0.1]:80", "the part in brackets is not an IPv6 address");
}

static void test_unmap_and_equal(void **state)
{
	(void)state;
	struct sockaddr_in6 m = { .sin6_family = AF_INET6, .sin6_port = htons(5) };
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &m.sin6_addr);
	struct sockaddr_storage s;
	socklen_t len = sizeof m;
	memcpy(&s, &m, sizeof m);
	assert_false(web_addr_is_loopback((struct sockaddr *)&s));
	web_addr_unmap(&s, &len);
	assert_int_equal(s.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	char t[WEB_ADDR_TEXT_MAX];
	web_addr_format((struct sockaddr *)&s, t, sizeof t);
	assert_string_equal(t, "10.1.2.3:5");
	struct sockaddr_storage o = s;
	assert_true(net_udp_addr_equal((struct sockaddr *)&s, (struct sockaddr *)&o));
	web_addr_set_port((struct sockaddr *)&o, 6);
	assert_false(net_udp_addr_equal((struct sockaddr *)&s, (struct sockaddr *)&o));
}

static void test_config_keys(void **state)
{
	(void)state;
	struct srv_config c;
	char msg[300];
	srv_config_defaults(&c);
	assert_string_equal(c.web_listen, "");
	/* the installed client's folder (the Makefile's WEBDIR): absolute, so a
	 * daemon started from any folder finds it; "[::1]:0" below is taken with it */
	assert_true(c.web_root[0] == '/' && c.web_root[1] != '\0');
	assert_true(strcmp(c.web_root, "/") != 0 && !strstr(c.web_root, "/./") && !strstr(c.web_root, "/../"));
	assert_int_equal(c.web_max_peers, SRV_WEB_MAX_PEERS_DEFAULT);
	assert_int_equal(srv_config_set(&c, "web.listen", "[::1]:0", "--set", msg, sizeof msg), 0);
	assert_string_equal(c.web_listen, "[::1]:0");
	assert_int_equal(srv_config_set(&c, "web.listen", "localhost:8080", "--set", msg, sizeof msg), -EINVAL);
	assert_string_equal(msg, "--set: web.listen must be an address and port such as 127.0.0.1:8080 or [::1]:8443, not "
				 "'localhost:8080': the host is not a numeric IPv4 address (IPv6 goes in brackets; names are "
				 "not taken)");
	assert_string_equal(c.web_listen, "[::1]:0"); /* untouched */
	assert_int_equal(srv_config_set(&c, "web.root", "", "--set", msg, sizeof msg), -EINVAL);
	assert_string_equal(msg, "--set: web.root must name the folder of the browser client's files when web.listen is set");
	assert_int_equal(srv_config_set(&c, "web.max_peers", "0", "--set", msg, sizeof msg), -EINVAL);
	char big[32];
	snprintf(big, sizeof big, "%d", SRV_WEB_MAX_PEERS_MAX + 1); /* more than the module's table holds */
	assert_int_equal(srv_config_set(&c, "web.max_peers", big, "--set", msg, sizeof msg), -EINVAL);
	snprintf(big, sizeof big, "%d", SRV_WEB_MAX_PEERS_MAX);
	assert_int_equal(srv_config_set(&c, "web.max_peers", big, "--set", msg, sizeof msg), 0);
	assert_int_equal(c.web_max_peers, SRV_WEB_MAX_PEERS_MAX);
	assert_int_equal(srv_config_set(&c, "web.max_peers", "3", "--set", msg, sizeof msg), 0);
	assert_int_equal(c.web_max_peers, 3);
	assert_int_equal(srv_config_set(&c, "web.listen", "", "--set", msg, sizeof msg), 0);
	assert_int_equal(srv_config_set(&c, "web.root", "", "--set", msg, sizeof msg), 0); /* off: no root needed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_unmap_and_equal),
		cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
