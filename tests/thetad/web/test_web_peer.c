/* web_peer against th_webpeer (the tests' browser: real GnuTLS DTLS client,
 * usrsctp, DCEP) over real loopback UDP sockets in this process: the test
 * plays the web module (one UDP socket, datagrams into web_peer_input,
 * send_to out of it, web_peer_tick when due). th_webpeer_step runs
 * usrsctp's timers (global to the process) for both sides.
 *
 * Time: both sides take now = CLOCK_MONOTONIC + skew; a test moves skew
 * forward to reach consent expiry and the connect deadline without
 * waiting. Waits poll for a condition with a generous real deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net_cert.h"
#include "th_time.h"
#include "th_webpeer.h"
#include "web/web_bridge.h"
#include "web/web_dcep.h"
#include "web/web_peer.h"
#include "web/web_sctp.h"
#include "web/web_sdp.h"

#define WAIT_MS 15000
#define EXTRA_PEERS 2u
#define MAX_MSGS 64u

struct got_msg {
	unsigned chan;
	bool binary;
	size_t len;
	uint8_t *p;
};

struct rig {
	struct th_webhost h; /* the "web endpoint" and its peer */
	struct th_webpeer *w;
	struct th_webpeer *extra[EXTRA_PEERS];
	uint64_t skew;

	unsigned n_chan;
	struct {
		unsigned chan;
		char label[WEB_DCEP_LABEL_MAX + 1];
		bool unordered;
		int max_rtx;
	} chans[WEB_PEER_CHANNELS];
	unsigned n_msgs;
	struct got_msg msgs[MAX_MSGS];
	bool closed;
	enum web_peer_close reason;
	char why[256];
	unsigned closed_calls;
	bool destroy_in_callback;
	bool destroy_on_closed; /* the owner frees the peer from on_closed */
	bool echo;
};

static struct net_cert *daemon_cert; /* the daemon's, for every test */

static uint64_t now_of(const struct rig *r)
{
	return th_now_ns() + r->skew;
}

static void rig_on_channel(void *user, unsigned chan, const char *label, bool unordered, int max_rtx)
{
	struct rig *r = user;
	assert_true(r->n_chan < WEB_PEER_CHANNELS);
	r->chans[r->n_chan].chan = chan;
	snprintf(r->chans[r->n_chan].label, sizeof(r->chans[0].label), "%s", label);
	r->chans[r->n_chan].unordered = unordered;
	r->chans[r->n_chan].max_rtx = max_rtx;
	r->n_chan++;
}

static void rig_on_message(void *user, unsigned chan, bool binary, const uint8_t *p, size_t len, uint64_t now_ns)
{
	struct rig *r = user;
	if (r->destroy_in_callback) {
		web_peer_destroy(&r->h.peer);
		return;
	}
	if (r->echo) {
		web_peer_send(r->h.peer, chan, binary, p, len);
		return;
	}
	if (r->n_msgs == MAX_MSGS)
		return;
	struct got_msg *m = &r->msgs[r->n_msgs++];
	m->chan = chan;
	m->binary = binary;
	m->len = len;
	m->p = malloc(len ? len : 1);
	assert_non_null(m->p);
	memcpy(m->p, p, len);
}

static void rig_on_closed(void *user, enum web_peer_close reason, const char *why)
{
	struct rig *r = user;
	r->closed = true;
	r->reason = reason;
	r->closed_calls++;
	snprintf(r->why, sizeof(r->why), "%s", why);
	if (r->destroy_on_closed)
		web_peer_destroy(&r->h.peer);
}

static const struct web_peer_ops rig_ops = {
	.on_channel = rig_on_channel,
	.on_message = rig_on_message,
	.on_closed = rig_on_closed,
};

/* The browser made its offer: the "module" parses it, makes the answer
 * with its socket as the candidate and creates the peer. */
static struct rig *rig_new(const struct th_webpeer_config *wc, size_t max_message, bool answer_browser)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	assert_int_equal(th_webhost_open(&r->h, wc ? wc->bind_ip : NULL), 0);
	assert_int_equal(th_webpeer_create(wc, &r->w), 0);
	const char *why = NULL;
	int e = th_webhost_answer(&r->h, daemon_cert->cred, daemon_cert->fp, th_webpeer_offer(r->w), max_message,
				  &rig_ops, r, now_of(r), &why);
	if (e)
		fail_msg("offer refused (%d): %s", e, why ? why : "?");
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_WAITING);
	assert_true(web_peer_owns_ufrag(r->h.peer, r->h.ufrag));
	assert_false(web_peer_owns_ufrag(r->h.peer, "someone"));
	if (answer_browser)
		assert_int_equal(th_webpeer_answer(r->w, r->h.answer, strlen(r->h.answer), now_of(r)), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	th_webhost_close(&r->h);
	th_webpeer_destroy(&r->w);
	for (unsigned i = 0; i < EXTRA_PEERS; i++)
		th_webpeer_destroy(&r->extra[i]);
	for (unsigned i = 0; i < r->n_msgs; i++)
		free(r->msgs[i].p);
	free(r);
}

static void server_once(struct rig *r)
{
	th_webhost_step(&r->h, now_of(r));
}

static void pump_once(struct rig *r, int poll_ms)
{
	struct pollfd pfd[2 + EXTRA_PEERS];
	unsigned n = 0;
	pfd[n++] = (struct pollfd){ .fd = r->h.fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = th_webpeer_fd(r->w), .events = POLLIN };
	for (unsigned i = 0; i < EXTRA_PEERS; i++)
		if (r->extra[i])
			pfd[n++] = (struct pollfd){ .fd = th_webpeer_fd(r->extra[i]), .events = POLLIN };
	poll(pfd, n, poll_ms);
	server_once(r);
	th_webpeer_step(r->w, now_of(r));
	for (unsigned i = 0; i < EXTRA_PEERS; i++)
		if (r->extra[i])
			th_webpeer_step(r->extra[i], now_of(r));
	server_once(r);
}

typedef bool (*cond_fn)(struct rig *r);

static bool pump_until(struct rig *r, cond_fn c)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * 1000000ull;
	while (!c(r)) {
		if (th_now_ns() > end)
			return false;
		pump_once(r, 5);
	}
	return true;
}

static bool is_ready(struct rig *r)
{
	return th_webpeer_ready(r->w) && r->n_chan == 2;
}

static bool is_closed(struct rig *r)
{
	return r->closed;
}

static bool both_closed(struct rig *r)
{
	return r->closed && th_webpeer_state(r->w) == TH_WP_CLOSED;
}

static void connect_ok(struct rig *r)
{
	if (!pump_until(r, is_ready))
		fail_msg("not open: browser state %d (%s), peer state %d (%s)", th_webpeer_state(r->w),
			 th_webpeer_error(r->w), web_peer_state(r->h.peer), r->why);
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_OPEN);
}

static bool same_inet(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
	return a->ss_family == AF_INET && b->ss_family == AF_INET && x->sin_port == y->sin_port &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr;
}

static unsigned msgs_wanted;
static bool have_msgs(struct rig *r)
{
	return r->n_msgs >= msgs_wanted;
}

static struct {
	unsigned chan;
	bool binary;
	size_t len;
	uint8_t *p;
} brx;
static bool browser_got(struct rig *r)
{
	free(brx.p);
	brx.p = malloc(TH_WEBPEER_MAX_MESSAGE);
	int n = th_webpeer_recv(r->w, &brx.chan, &brx.binary, brx.p, TH_WEBPEER_MAX_MESSAGE);
	if (n < 0)
		return false;
	brx.len = (size_t)n;
	return true;
}

static int group_setup(void **state)
{
	return net_cert_generate(&daemon_cert) ? -1 : 0;
}

static int group_teardown(void **state)
{
	net_cert_destroy(&daemon_cert);
	free(brx.p);
	return 0;
}

/* ---- tests ---- */

static void channels_open_and_messages_flow_both_ways(void **state)
{
	struct rig *r = rig_new(NULL, 0, true);
	connect_ok(r);
	assert_string_equal(r->chans[0].label, WEB_CHAN_MAIN);
	assert_false(r->chans[0].unordered);
	assert_int_equal(r->chans[0].max_rtx, -1);
	assert_string_equal(r->chans[1].label, WEB_CHAN_POSE);
	assert_true(r->chans[1].unordered);
	assert_int_equal(r->chans[1].max_rtx, 0);
	unsigned main_chan = r->chans[0].chan, pose_chan = r->chans[1].chan;
	assert_int_not_equal(main_chan, pose_chan);

	/* where the peer sends is the browser's socket; the browser learned
	 * its own address from XOR-MAPPED-ADDRESS */
	struct sockaddr_storage local, peer_addr, mapped;
	socklen_t ll, pl;
	th_webpeer_local_addr(r->w, &local, &ll);
	assert_true(web_peer_address(r->h.peer, &peer_addr, &pl));
	assert_true(same_inet(&local, &peer_addr));
	assert_true(th_webpeer_mapped(r->w, &mapped));
	assert_true(same_inet(&local, &mapped));

	struct web_peer_stats ps;
	web_peer_get_stats(r->h.peer, &ps);
	assert_true(ps.stun_ok >= 1);
	assert_int_equal(ps.stun_bad, 0);
	assert_true(ps.answer_to_open_ns > 0);
	assert_true(ps.dtls_records_in > 0);

	/* browser -> peer: binary on "theta", a string on "theta-pose", an empty binary */
	int c_main = th_webpeer_channel(r->w, WEB_CHAN_MAIN), c_pose = th_webpeer_channel(r->w, WEB_CHAN_POSE);
	assert_true(c_main >= 0 && c_pose >= 0);
	assert_int_equal(th_webpeer_send(r->w, (unsigned)c_main, true, (const uint8_t *)"\x01\x00record", 8), 0);
	assert_int_equal(th_webpeer_send(r->w, (unsigned)c_pose, false, (const uint8_t *)"pose", 4), 0);
	assert_int_equal(th_webpeer_send(r->w, (unsigned)c_main, true, NULL, 0), 0);
	msgs_wanted = 3;
	assert_true(pump_until(r, have_msgs));
	unsigned seen_pose = 0, seen_main = 0;
	for (unsigned i = 0; i < r->n_msgs; i++) {
		struct got_msg *m = &r->msgs[i];
		if (m->chan == pose_chan) {
			assert_false(m->binary);
			assert_int_equal(m->len, 4);
			assert_memory_equal(m->p, "pose", 4);
			seen_pose++;
		} else {
			assert_int_equal(m->chan, main_chan);
			assert_true(m->binary);
			/* ordered: the record first, then the empty one */
			assert_int_equal(m->len, seen_main ? 0 : 8);
			if (!seen_main)
				assert_memory_equal(m->p, "\x01\x00record", 8);
			seen_main++;
		}
	}
	assert_int_equal(seen_pose, 1);
	assert_int_equal(seen_main, 2);

	/* peer -> browser */
	assert_int_equal(web_peer_send(r->h.peer, main_chan, true, (const uint8_t *)"ack!", 4), 0);
	assert_true(pump_until(r, browser_got));
	assert_int_equal(brx.chan, (unsigned)c_main);
	assert_true(brx.binary);
	assert_int_equal(brx.len, 4);
	assert_memory_equal(brx.p, "ack!", 4);
	assert_int_equal(web_peer_send(r->h.peer, pose_chan, false, (const uint8_t *)"", 0), 0);
	assert_true(pump_until(r, browser_got));
	assert_int_equal(brx.chan, (unsigned)c_pose);
	assert_false(brx.binary);
	assert_int_equal(brx.len, 0);

	/* a channel that is not open */
	assert_int_equal(web_peer_send(r->h.peer, 6, true, (const uint8_t *)"x", 1), -ENOENT);
	assert_int_equal(web_peer_send(r->h.peer, 1000, true, (const uint8_t *)"x", 1), -ENOENT);
	assert_int_equal(r->closed_calls, 0);
	rig_free(r);
}

static void ipv6_loopback_works_too(void **state)
{
	struct th_webpeer_config wc = { .bind_ip = "::1" };
	struct rig *r = rig_new(&wc, 0, true);
	connect_ok(r);
	struct sockaddr_storage local, mapped, at;
	socklen_t ll, al;
	th_webpeer_local_addr(r->w, &local, &ll);
	assert_true(th_webpeer_mapped(r->w, &mapped)); /* XOR-MAPPED-ADDRESS, IPv6 form */
	assert_true(web_peer_address(r->h.peer, &at, &al));
	const struct sockaddr_in6 *a = (const void *)&local, *m = (const void *)&mapped, *p = (const void *)&at;
	assert_int_equal(m->sin6_family, AF_INET6);
	assert_int_equal(p->sin6_family, AF_INET6);
	assert_int_equal(m->sin6_port, a->sin6_port);
	assert_int_equal(p->sin6_port, a->sin6_port);
	assert_memory_equal(&m->sin6_addr, &a->sin6_addr, 16);
	assert_int_equal(th_webpeer_send(r->w, 0, true, (const uint8_t *)"v6", 2), 0);
	msgs_wanted = 1;
	assert_true(pump_until(r, have_msgs));
	assert_memory_equal(r->msgs[0].p, "v6", 2);
	rig_free(r);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		p[i] = (uint8_t)(seed >> 24);
	}
}

static void large_messages_cross_both_ways_and_bounds_hold(void **state)
{
	struct th_webpeer_config wc = { .max_message = 200000 };
	struct rig *r = rig_new(&wc, 0, true);
	connect_ok(r);
	unsigned main_chan = r->chans[0].chan;
	size_t big = 200000;
	uint8_t *a = malloc(big), *b = malloc(big);
	fill(a, big, 1);
	fill(b, big, 2);
	assert_int_equal(th_webpeer_send(r->w, 0, true, a, big), 0);
	msgs_wanted = 1;
	assert_true(pump_until(r, have_msgs));
	assert_int_equal(r->msgs[0].len, big);
	assert_memory_equal(r->msgs[0].p, a, big);

	assert_int_equal(web_peer_send(r->h.peer, main_chan, true, b, big), 0);
	assert_true(pump_until(r, browser_got));
	assert_int_equal(brx.len, big);
	assert_memory_equal(brx.p, b, big);
	/* past the browser's max-message-size */
	assert_int_equal(web_peer_send(r->h.peer, main_chan, true, b, big + 1), -EMSGSIZE);
	assert_int_equal(r->closed_calls, 0);
	rig_free(r);

	/* past what the peer takes (max_message 65536): closed with a reason */
	r = rig_new(NULL, 65536, true);
	connect_ok(r);
	assert_int_equal(th_webpeer_send(r->w, 0, true, a, 65537), -EMSGSIZE); /* the answer said so */
	assert_int_equal(th_webpeer_send_raw(r->w, 0, WEB_PPID_BINARY, a, 65537), 0); /* a page that ignores it */
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_PROTOCOL);
	assert_non_null(strstr(r->why, "65537"));
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_CLOSED);
	assert_int_equal(web_peer_send(r->h.peer, main_chan, true, a, 1), -ENOTCONN);
	assert_true(pump_until(r, both_closed)); /* the browser heard of it */
	assert_int_equal(r->closed_calls, 1);
	assert_int_equal(r->n_msgs, 0);
	rig_free(r);
	free(a);
	free(b);
}

static void consent_checks_keep_the_peer_and_their_absence_closes_it(void **state)
{
	struct rig *r = rig_new(NULL, 0, true);
	connect_ok(r);
	struct web_peer_stats before, after;
	web_peer_get_stats(r->h.peer, &before);
	/* 45 s of browser time in 1 s steps: its checks every 5 s keep consent */
	for (int s = 0; s < 45; s++) {
		r->skew += 1000000000ull;
		for (int i = 0; i < 3; i++)
			pump_once(r, 1);
	}
	assert_false(r->closed);
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_OPEN);
	web_peer_get_stats(r->h.peer, &after);
	assert_true(after.stun_ok >= before.stun_ok + 7);
	assert_true(web_peer_timeout_ns(r->h.peer) <= now_of(r) + WEB_PEER_CONSENT_NS);

	/* the page goes silent: consent runs out WEB_PEER_CONSENT_NS after the last check */
	th_webpeer_set_consent(r->w, false);
	pump_once(r, 1);
	pump_once(r, 1);
	uint64_t deadline = web_peer_timeout_ns(r->h.peer);
	r->skew += deadline - now_of(r) - 1000000000ull;
	pump_once(r, 1);
	assert_false(r->closed);
	r->skew += 2000000000ull;
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_CONSENT);
	assert_non_null(strstr(r->why, "consent"));
	assert_true(pump_until(r, both_closed));
	rig_free(r);
}

static void wrong_dtls_fingerprint_closes_with_fingerprint(void **state)
{
	struct th_webpeer_config wc = { .bad_fingerprint = true };
	struct rig *r = rig_new(&wc, 0, true);
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_FINGERPRINT);
	assert_int_equal(r->n_chan, 0);
	assert_false(th_webpeer_ready(r->w));
	rig_free(r);

	/* the other way round: the browser refuses a server whose certificate
	 * is not the answer's */
	uint8_t other[32];
	memcpy(other, daemon_cert->fp, 32);
	other[0] ^= 1;
	struct th_webpeer_config wc2 = { .expect_fp = other };
	r = rig_new(&wc2, 0, true);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * 1000000ull;
	while (th_webpeer_state(r->w) != TH_WP_FAILED && th_now_ns() < end)
		pump_once(r, 5);
	assert_int_equal(th_webpeer_state(r->w), TH_WP_FAILED);
	assert_non_null(strstr(th_webpeer_error(r->w), "certificate"));
	assert_true(pump_until(r, is_closed)); /* the peer hears the alert */
	assert_int_equal(r->reason, WEB_PEER_C_PROTOCOL);
	assert_non_null(strstr(r->why, "alert"));
	rig_free(r);
}

static bool three_bad(struct rig *r)
{
	struct web_peer_stats s;
	web_peer_get_stats(r->h.peer, &s);
	return s.stun_bad >= 3;
}

static void stun_with_bad_integrity_is_ignored_and_counted(void **state)
{
	struct th_webpeer_config wc = { .bad_integrity = true };
	struct rig *r = rig_new(&wc, 0, true);
	assert_true(pump_until(r, three_bad));
	struct web_peer_stats s;
	web_peer_get_stats(r->h.peer, &s);
	assert_int_equal(s.stun_ok, 0);
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_WAITING);
	assert_false(web_peer_address(r->h.peer, NULL, NULL));
	struct th_webpeer_stats ws;
	th_webpeer_get_stats(r->w, &ws);
	assert_true(ws.checks_sent >= 3);
	assert_int_equal(ws.responses_ok, 0);
	assert_int_equal(th_webpeer_state(r->w), TH_WP_ICE);
	/* the right key: the same peer connects */
	th_webpeer_set_bad_integrity(r->w, false);
	connect_ok(r);
	rig_free(r);
}

static bool dtls_dropped(struct rig *r)
{
	struct web_peer_stats s;
	web_peer_get_stats(r->h.peer, &s);
	return s.dtls_bad >= 1;
}

static void dtls_from_an_unverified_address_is_ignored(void **state)
{
	struct rig *r = rig_new(NULL, 0, false);
	/* a second "browser" with the answer but no checks: DTLS at once */
	struct th_webpeer_config wc = { .no_stun = true };
	assert_int_equal(th_webpeer_create(&wc, &r->extra[0]), 0);
	assert_int_equal(th_webpeer_answer(r->extra[0], r->h.answer, strlen(r->h.answer), now_of(r)), 0);
	assert_true(pump_until(r, dtls_dropped)); /* before any verified check: no address at all */
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_WAITING);
	/* the real browser connects; the other's handshake still goes nowhere */
	assert_int_equal(th_webpeer_answer(r->w, r->h.answer, strlen(r->h.answer), now_of(r)), 0);
	connect_ok(r);
	struct web_peer_stats s1, s2;
	web_peer_get_stats(r->h.peer, &s1);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * 1000000ull; /* GnuTLS retransmits its ClientHello after 1 s */
	do {
		pump_once(r, 20);
		web_peer_get_stats(r->h.peer, &s2);
	} while (s2.dtls_bad == s1.dtls_bad && th_now_ns() < end);
	assert_true(s2.dtls_bad > s1.dtls_bad);
	assert_int_equal(th_webpeer_state(r->extra[0]), TH_WP_DTLS);
	struct sockaddr_storage local, peer_addr;
	socklen_t ll, pl;
	th_webpeer_local_addr(r->w, &local, &ll);
	assert_true(web_peer_address(r->h.peer, &peer_addr, &pl));
	assert_true(same_inet(&local, &peer_addr));
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_OPEN);
	rig_free(r);
}

/* One request from the socket fd, the server's answer read back. */
static void check_from(struct rig *r, int fd, bool use_candidate)
{
	uint8_t req[512], resp[512];
	int n = th_webpeer_stun_request(r->w, use_candidate, req, sizeof(req));
	assert_true(n > 0);
	struct sockaddr_in to;
	memcpy(&to, &r->h.addr, sizeof(to));
	assert_int_equal(sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)), n);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * 1000000ull;
	ssize_t got;
	while ((got = recv(fd, resp, sizeof(resp), MSG_DONTWAIT)) < 0 && th_now_ns() < end) {
		struct pollfd pfd = { .fd = r->h.fd, .events = POLLIN };
		poll(&pfd, 1, 5);
		server_once(r);
	}
	assert_true(got >= 20);
	assert_int_equal(resp[0], 0x01); /* binding success 0x0101 */
	assert_int_equal(resp[1], 0x01);
	assert_memory_equal(resp + 8, req + 8, 12); /* its transaction id */
}

static void address_is_the_first_verified_then_the_newest_nominated(void **state)
{
	struct rig *r = rig_new(NULL, 0, true);
	int other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in o = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(other, (struct sockaddr *)&o, sizeof(o)), 0);
	struct sockaddr_storage oa, local, at;
	socklen_t ol = sizeof(oa), ll, al;
	getsockname(other, (struct sockaddr *)&oa, &ol);
	th_webpeer_local_addr(r->w, &local, &ll);

	check_from(r, other, false); /* first verified check: that address */
	assert_true(web_peer_address(r->h.peer, &at, &al));
	assert_true(same_inet(&at, &oa));
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_DTLS);
	/* the browser's own checks: the nomination moves it to the browser */
	connect_ok(r);
	assert_true(web_peer_address(r->h.peer, &at, &al));
	assert_true(same_inet(&at, &local));
	/* a plain check from elsewhere keeps it; a nomination from there moves it */
	check_from(r, other, false);
	assert_true(web_peer_address(r->h.peer, &at, &al));
	assert_true(same_inet(&at, &local));
	/* a third party without the answer's password: its nomination (the
	 * ufrags right, the integrity keyed wrong) is neither answered nor
	 * moves the address */
	struct web_peer_stats s0, s1;
	web_peer_get_stats(r->h.peer, &s0);
	th_webpeer_set_bad_integrity(r->w, true);
	uint8_t forged[512];
	int fn = th_webpeer_stun_request(r->w, true, forged, sizeof(forged));
	th_webpeer_set_bad_integrity(r->w, false);
	assert_true(fn > 0);
	struct sockaddr_in hto;
	memcpy(&hto, &r->h.addr, sizeof(hto));
	assert_int_equal(sendto(other, forged, (size_t)fn, 0, (struct sockaddr *)&hto, sizeof(hto)), fn);
	uint64_t fend = th_now_ns() + (uint64_t)WAIT_MS * 1000000ull;
	do {
		struct pollfd pfd = { .fd = r->h.fd, .events = POLLIN };
		poll(&pfd, 1, 5);
		server_once(r);
		web_peer_get_stats(r->h.peer, &s1);
	} while (s1.stun_bad == s0.stun_bad && th_now_ns() < fend);
	assert_int_equal(s1.stun_bad, s0.stun_bad + 1);
	assert_int_equal(s1.stun_ok, s0.stun_ok);
	assert_true(recv(other, forged, sizeof(forged), MSG_DONTWAIT) < 0); /* no answer */
	assert_true(web_peer_address(r->h.peer, &at, &al));
	assert_true(same_inet(&at, &local));
	check_from(r, other, true);
	assert_true(web_peer_address(r->h.peer, &at, &al));
	assert_true(same_inet(&at, &oa));
	close(other);
	rig_free(r);
}

static bool in_dtls(struct rig *r)
{
	return web_peer_state(r->h.peer) == WEB_PEER_DTLS;
}

static void no_browser_within_the_connect_deadline_closes_with_timeout(void **state)
{
	struct rig *r = rig_new(NULL, 0, false);
	uint64_t t = web_peer_timeout_ns(r->h.peer);
	assert_true(t > now_of(r) && t <= now_of(r) + WEB_PEER_CONNECT_NS);
	web_peer_tick(r->h.peer, now_of(r));
	assert_false(r->closed);
	r->skew += WEB_PEER_CONNECT_NS;
	web_peer_tick(r->h.peer, now_of(r));
	assert_true(r->closed);
	assert_int_equal(r->reason, WEB_PEER_C_TIMEOUT);
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_CLOSED);
	assert_int_equal(web_peer_timeout_ns(r->h.peer), UINT64_MAX);
	/* nothing after the close */
	web_peer_tick(r->h.peer, now_of(r) + WEB_PEER_CONNECT_NS);
	assert_int_equal(r->closed_calls, 1);
	rig_free(r);

	/* checks answered (consent kept), but the page never starts DTLS: the
	 * same deadline */
	struct th_webpeer_config wc = { .no_dtls = true };
	r = rig_new(&wc, 0, true);
	assert_true(pump_until(r, in_dtls));
	r->skew += WEB_PEER_CONNECT_NS;
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_TIMEOUT);
	rig_free(r);
}

static void browser_close_is_bye_and_daemon_close_reaches_the_browser(void **state)
{
	struct rig *r = rig_new(NULL, 0, true);
	connect_ok(r);
	th_webpeer_close(r->w);
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_BYE);
	assert_int_equal(r->closed_calls, 1);
	rig_free(r);

	r = rig_new(NULL, 0, true);
	connect_ok(r);
	web_peer_close(r->h.peer, "the session ended");
	assert_true(r->closed);
	assert_int_equal(r->reason, WEB_PEER_C_LOCAL);
	assert_string_equal(r->why, "the session ended");
	assert_true(pump_until(r, both_closed));
	web_peer_close(r->h.peer, "again");
	assert_int_equal(r->closed_calls, 1);
	rig_free(r);
}

static bool all_channels(struct rig *r)
{
	return r->n_chan == WEB_PEER_CHANNELS && th_webpeer_ready(r->w);
}

static void broken_pages_are_closed_with_a_reason(void **state)
{
	/* data on a stream without a channel */
	struct rig *r = rig_new(NULL, 0, true);
	connect_ok(r);
	assert_int_equal(th_webpeer_send_raw(r->w, 4, WEB_PPID_BINARY, (const uint8_t *)"x", 1), 0);
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_PROTOCOL);
	assert_non_null(strstr(r->why, "stream 4"));
	rig_free(r);

	/* a DCEP message that does not parse */
	r = rig_new(NULL, 0, true);
	connect_ok(r);
	assert_int_equal(th_webpeer_send_raw(r->w, 6, WEB_PPID_DCEP, (const uint8_t *)"\x03\x00\x00", 3), 0);
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_PROTOCOL);
	assert_non_null(strstr(r->why, "DCEP"));
	rig_free(r);

	/* more channels than WEB_PEER_CHANNELS */
	struct th_webpeer_config wc = { .no_channels = true };
	r = rig_new(&wc, 0, true);
	for (unsigned i = 0; i < TH_WEBPEER_CHANNELS; i++) {
		char label[16];
		snprintf(label, sizeof(label), "c%u", i);
		assert_true(th_webpeer_open_channel(r->w, label, WEB_DCEP_RELIABLE, 0) >= 0);
	}
	assert_true(pump_until(r, all_channels));
	assert_false(r->closed);
	/* th_webpeer holds as many as the peer: one more by hand */
	struct web_dcep_open o = { .channel_type = WEB_DCEP_RELIABLE };
	snprintf(o.label, sizeof(o.label), "one-too-many");
	uint8_t b[256];
	int n = web_dcep_build_open(&o, b, sizeof(b));
	assert_int_equal(th_webpeer_send_raw(r->w, 2 * TH_WEBPEER_CHANNELS, WEB_PPID_DCEP, b, (size_t)n), 0);
	assert_true(pump_until(r, is_closed));
	assert_int_equal(r->reason, WEB_PEER_C_PROTOCOL);
	assert_int_equal(r->n_chan, WEB_PEER_CHANNELS);
	assert_non_null(strstr(r->why, "channels"));
	rig_free(r);
}

static bool host_reset_answered(struct rig *r)
{
	struct th_webpeer_stats s;
	th_webpeer_get_stats(r->w, &s);
	return s.resets_in >= 1;
}

static bool third_channel(struct rig *r)
{
	return r->n_chan == 3 && th_webpeer_ready(r->w);
}

static void a_channel_the_browser_closes_frees_its_stream(void **state)
{
	struct rig *r = rig_new(NULL, 0, true);
	connect_ok(r);
	unsigned pose = r->chans[1].chan;
	int c_pose = th_webpeer_channel(r->w, WEB_CHAN_POSE);
	assert_true(c_pose >= 0);
	assert_int_equal(th_webpeer_send(r->w, (unsigned)c_pose, true, (const uint8_t *)"p", 1), 0);
	msgs_wanted = 1;
	assert_true(pump_until(r, have_msgs));
	assert_int_equal(th_webpeer_reset_stream(r->w, (unsigned)c_pose), 0);
	/* the host resets its side in answer, after it freed the channel */
	assert_true(pump_until(r, host_reset_answered));
	assert_int_equal(web_peer_send(r->h.peer, pose, true, (const uint8_t *)"x", 1), -ENOENT);
	assert_int_equal(web_peer_state(r->h.peer), WEB_PEER_OPEN);
	assert_false(r->closed);
	/* the other channel carries on */
	assert_int_equal(th_webpeer_send(r->w, 0, true, (const uint8_t *)"main", 4), 0);
	msgs_wanted = 2;
	assert_true(pump_until(r, have_msgs));
	assert_int_equal(r->msgs[1].chan, r->chans[0].chan);
	assert_memory_equal(r->msgs[1].p, "main", 4);
	/* a new channel takes the stream again (not "opened a second time") */
	assert_int_equal(th_webpeer_open_channel(r->w, "again", WEB_DCEP_RELIABLE, 0), c_pose);
	if (!pump_until(r, third_channel))
		fail_msg("not reopened: %u channels, closed %d (%s)", r->n_chan, r->closed, r->why);
	assert_int_equal(r->chans[2].chan, pose);
	assert_string_equal(r->chans[2].label, "again");
	assert_false(r->chans[2].unordered);
	assert_int_equal(th_webpeer_send(r->w, (unsigned)c_pose, true, (const uint8_t *)"new", 3), 0);
	msgs_wanted = 3;
	assert_true(pump_until(r, have_msgs));
	assert_int_equal(r->msgs[2].chan, pose);
	assert_memory_equal(r->msgs[2].p, "new", 3);
	assert_false(r->closed);
	rig_free(r);
}

/* An owner that frees the peer from on_closed (it is a callback too):
 * after the owner's own web_peer_close, and after a close the browser
 * causes inside web_peer_input. (Under make SAN=1 the first was a
 * use after free in web_peer's leave.) */
static void destroy_from_on_closed_is_safe(void **state)
{
	struct rig *r = rig_new(NULL, 0, true);
	connect_ok(r);
	r->destroy_on_closed = true;
	web_peer_close(r->h.peer, "the session ended");
	assert_null(r->h.peer);
	assert_int_equal(r->closed_calls, 1);
	assert_int_equal(r->reason, WEB_PEER_C_LOCAL);
	rig_free(r);

	r = rig_new(NULL, 0, true);
	connect_ok(r);
	r->destroy_on_closed = true;
	th_webpeer_close(r->w);
	assert_true(pump_until(r, is_closed));
	assert_null(r->h.peer);
	assert_int_equal(r->closed_calls, 1);
	assert_int_equal(r->reason, WEB_PEER_C_BYE);
	rig_free(r);
}

static void destroy_from_a_callback_is_safe(void **state)
{
	struct rig *r = rig_new(NULL, 0, true);
	connect_ok(r);
	r->destroy_in_callback = true;
	assert_int_equal(th_webpeer_send(r->w, 0, true, (const uint8_t *)"bye", 3), 0);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * 1000000ull;
	while (r->h.peer && th_now_ns() < end)
		pump_once(r, 5);
	assert_null(r->h.peer);
	assert_int_equal(r->closed_calls, 0); /* destroyed: no on_closed */
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(channels_open_and_messages_flow_both_ways),
		cmocka_unit_test(ipv6_loopback_works_too),
		cmocka_unit_test(large_messages_cross_both_ways_and_bounds_hold),
		cmocka_unit_test(consent_checks_keep_the_peer_and_their_absence_closes_it),
		cmocka_unit_test(wrong_dtls_fingerprint_closes_with_fingerprint),
		cmocka_unit_test(stun_with_bad_integrity_is_ignored_and_counted),
		cmocka_unit_test(dtls_from_an_unverified_address_is_ignored),
		cmocka_unit_test(address_is_the_first_verified_then_the_newest_nominated),
		cmocka_unit_test(no_browser_within_the_connect_deadline_closes_with_timeout),
		cmocka_unit_test(browser_close_is_bye_and_daemon_close_reaches_the_browser),
		cmocka_unit_test(broken_pages_are_closed_with_a_reason),
		cmocka_unit_test(a_channel_the_browser_closes_frees_its_stream),
		cmocka_unit_test(destroy_from_a_callback_is_safe),
		cmocka_unit_test(destroy_from_on_closed_is_safe),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
