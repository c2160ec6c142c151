/* `thetactl session join` says what it is doing, with real daemons on
 * loopback: a link to a port where nothing listens fails at once through
 * the ICMP port unreachable the UDP socket reads from its error queue
 * (IP_RECVERR), with a sentence naming the address, not after its timeout;
 * one to an address that takes datagrams and never answers says "no answer
 * from HOST:PORT yet, retrying…" on a terminal and names the address and
 * the attempts when it gives up; a member admitted before is not failed by
 * the same ICMP when its host restarts, it rejoins; a late join over a slow
 * link shows "catching up: N / M entries" on a terminal and returns once
 * the log holds what the host had; piped, none of the progress shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net_fixture.h"
#include "th_logfill.h"

#define LATE_ENTRIES 20000u
#define JOIN_MS 120000

static char tty[1 << 17];

/* A link to host's session with its address's port replaced by port. */
static void link_to_port(const char *link, uint16_t port, char out[600])
{
	const char *colon = strchr(link + strlen("theta://"), ':'), *slash = strchr(colon, '/');
	assert_non_null(colon);
	assert_non_null(slash);
	snprintf(out, 600, "%.*s:%u%s", (int)(colon - link), link, (unsigned)port, slash);
}

static void a_closed_port_fails_at_once_with_its_address(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600], expect[160];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "gone", id);
	nf_invite(&a, "gone", "editor", NULL, link);
	uint16_t port = a.port;
	nf_kill(&a, SIGTERM); /* nothing listens on its port now */
	/* A long timeout: only the ICMP error ends this join early. */
	int rc = nf_ctl(&b, (const char *const[]){ "session", "join", link, "--timeout", "90", NULL });
	assert_int_equal(rc, 1);
	snprintf(expect, sizeof(expect), "nothing answers at 127.0.0.1:%u: the port is unreachable", (unsigned)port);
	if (!strstr(nf_err, expect))
		fail_msg("expected '%s', got: %s", expect, nf_err);
	assert_null(strstr(nf_err, "within 90 s"));
	assert_string_equal(nf_session_field(&b, id, "link_state"), "failed");
	assert_int_equal(nf_metric(&b, "net_join_unreachable"), 1);
	assert_non_null(strstr(th_daemon_log(&b.p), "the join failed: nothing answers at"));
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_silent_address_says_it_is_retrying(void **state)
{
	struct nf_daemon b;
	char link[600], silent[600], expect[200];
	nf_start(&b, NULL, NULL);
	/* A socket that takes every datagram and answers none. */
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	uint16_t port = ntohs(sa.sin_port);
	/* Any well-formed link will do: the host never answers. */
	struct nf_daemon a;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "quiet", id);
	nf_invite(&a, "quiet", "editor", NULL, link);
	nf_cleanup(&a);
	link_to_port(link, port, silent);
	int rc = th_ctl_tty(&b.p, JOIN_MS, (const char *const[]){ "session", "join", silent, "--timeout", "3", NULL }, tty,
			    sizeof(tty));
	assert_int_equal(rc, 1);
	snprintf(expect, sizeof(expect), "\rsession join: no answer from 127.0.0.1:%u yet, retrying\u2026 (attempt 1)",
		 (unsigned)port);
	if (!strstr(tty, expect))
		fail_msg("expected '%s' on the terminal, got: %s", expect, tty);
	snprintf(expect, sizeof(expect), "no answer from 127.0.0.1:%u within 3 s (1 attempt); the daemon keeps trying",
		 (unsigned)port);
	assert_non_null(strstr(tty, expect));
	/* The same piped: the result only. */
	rc = nf_ctl(&b, (const char *const[]){ "session", "join", silent, "--timeout", "2", NULL });
	assert_int_equal(rc, 1);
	assert_null(strchr(nf_err, '\r'));
	assert_null(strstr(nf_err, "yet, retrying"));
	assert_non_null(strstr(nf_err, "within 2 s"));
	close(s);
	nf_cleanup(&b);
}

static void an_admitted_member_rejoins_a_restarted_host(void **state)
{
	struct nf_daemon a, b;
	char id[33], port[8];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	snprintf(port, sizeof(port), "%u", (unsigned)a.port);
	a.args[1] = port; /* restarted on the same port */
	nf_host(&a, "back", id);
	nf_invite_join(&a, &b, id, "editor");
	nf_kill(&a, SIGTERM);
	/* The member keeps trying through the port unreachable errors. */
	uint64_t end = th_now_ns() + 30 * TH_NS_PER_S;
	while (nf_metric(&b, "net_join_unreachable") == 0 && th_now_ns() < end)
		th_sleep_ns(100 * TH_NS_PER_MS);
	assert_true(nf_metric(&b, "net_join_unreachable") >= 1);
	assert_string_not_equal(nf_session_field(&b, id, "link_state"), "failed");
	assert_int_equal(nf_spawn(&a), 0);
	end = th_now_ns() + 60 * TH_NS_PER_S;
	while (strcmp(nf_session_field(&b, id, "link_state"), "active") && th_now_ns() < end)
		th_sleep_ns(100 * TH_NS_PER_MS);
	assert_string_equal(nf_session_field(&b, id, "link_state"), "active");
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_late_join_shows_the_catch_up(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600], dir[PATH_MAX + 64], expect[120];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "history", id);
	nf_kill(&a, SIGTERM);
	snprintf(dir, sizeof(dir), "%s/sessions/%s/log", a.p.state_dir, id);
	struct lf_config lc = { .authors = 2, .entries = LATE_ENTRIES, .payload_len = 64, .batch = 256, .seed = 0x51 };
	assert_int_equal(lf_fill(dir, &lc, NULL), 0);
	assert_int_equal(nf_spawn(&a), 0);
	nf_read_status(&a);
	/* 8 Mbit/s into the member: the history takes a few seconds. */
	nf_start(&b, (const char *const[]){ "--impair", "rate=8M", NULL }, NULL);
	nf_invite(&a, "history", "editor", NULL, link);
	int rc = th_ctl_tty(&b.p, JOIN_MS, (const char *const[]){ "session", "join", link, "--timeout", "100", NULL },
			    tty, sizeof(tty));
	if (rc != 0)
		fail_msg("join failed (%d): %s\nthe host's log:\n%s", rc, tty, th_daemon_log(&a.p));
	assert_non_null(strstr(tty, "\rcatching up: "));
	assert_non_null(strstr(tty, " / 20 000 entries"));
	snprintf(expect, sizeof(expect), "joined session %s", id);
	assert_non_null(strstr(tty, expect));
	assert_non_null(strstr(tty, "; 20 000 entries"));
	/* It returned once the log held the host's entries. */
	assert_int_equal(nf_entries(&b, id), LATE_ENTRIES);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_closed_port_fails_at_once_with_its_address, nf_teardown),
		cmocka_unit_test_teardown(a_silent_address_says_it_is_retrying, nf_teardown),
		cmocka_unit_test_teardown(an_admitted_member_rejoins_a_restarted_host, nf_teardown),
		cmocka_unit_test_teardown(a_late_join_shows_the_catch_up, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
