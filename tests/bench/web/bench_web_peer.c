/* A browser peer's transport in one process (make bench-web): web_peer
 * behind th_webhost against th_webpeer (GnuTLS DTLS client, usrsctp,
 * DCEP), over real loopback UDP sockets, both ends stepped by one thread
 * that polls both sockets. The baseline is plain UDP between two loopback
 * sockets driven by the same kind of loop, in the same run.
 *
 *   web.peer_setup_ms_{p50,p99}    the offer handed to the host -> both
 *                                  channels open at both ends (answer, ICE
 *                                  check, DTLS handshake, SCTP, DCEP),
 *                                  BENCH_WEB_SETUPS times
 *   web.udp_rtt_us_{p50,p99}       baseline: a 64-byte datagram echoed
 *   web.peer_rtt_us_{p50,p99}      a 64-byte binary message on "theta"
 *                                  echoed by the host's on_message
 *   web.peer_pose_rtt_us_p50       the same on "theta-pose" (unordered,
 *                                  no retransmission)
 *   web.peer_rtt_64k_us_p50        a 64 KiB message echoed
 *   web.peer_setup_udp_rtts        setup p50 over the UDP round trip p50
 *   web.udp_mb_per_s               baseline: 1200-byte datagrams one way
 *   web.peer_mb_per_s              16 KiB messages browser -> host on
 *                                  "theta" (BENCH_WEB_MB MiB, default 32),
 *                                  until the host has them all
 *   web.peer_vs_udp_throughput     the ratio of the two */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net_cert.h"
#include "th_bench.h"
#include "th_time.h"
#include "th_webpeer.h"
#include "web/web_bridge.h"

#define RTT_ROUNDS 2000u
#define RTT_64K_ROUNDS 200u
#define MSG_SMALL 64u
#define MSG_LARGE 65536u
#define TP_MSG 16384u
#define TP_BUFFERED_MAX (512u * 1024u)
#define UDP_DGRAM 1200u
#define UDP_BURST 32u
#define WAIT_NS (30ull * 1000 * 1000 * 1000)

struct bench {
	struct net_cert *cert;
	struct th_webhost h;
	struct th_webpeer *w;
	unsigned chans;
	unsigned host_main, host_pose;
	bool echo;
	uint64_t host_bytes, host_msgs;
	uint64_t browser_msgs;
	bool closed;
	char why[256];
};

static void die(const char *what, struct bench *b)
{
	fprintf(stderr, "bench_web_peer: %s", what);
	if (b && b->w)
		fprintf(stderr, " (browser state %d: %s; peer: %s)", th_webpeer_state(b->w), th_webpeer_error(b->w),
			b->why);
	fprintf(stderr, "\n");
	exit(1);
}

static void on_channel(void *user, unsigned chan, const char *label, bool unordered, int max_rtx)
{
	struct bench *b = user;
	if (!strcmp(label, WEB_CHAN_MAIN))
		b->host_main = chan;
	else if (!strcmp(label, WEB_CHAN_POSE))
		b->host_pose = chan;
	b->chans++;
}

static void on_message(void *user, unsigned chan, bool binary, const uint8_t *p, size_t len, uint64_t now_ns)
{
	struct bench *b = user;
	b->host_msgs++;
	b->host_bytes += len;
	if (b->echo && web_peer_send(b->h.peer, chan, binary, p, len) < 0)
		die("the host's echo was refused", b);
}

static void on_closed(void *user, enum web_peer_close reason, const char *why)
{
	struct bench *b = user;
	b->closed = true;
	snprintf(b->why, sizeof(b->why), "%s", why);
}

static const struct web_peer_ops ops = {
	.on_channel = on_channel,
	.on_message = on_message,
	.on_closed = on_closed,
};

static void browser_message(void *user, unsigned chan, bool binary, const uint8_t *p, size_t len)
{
	struct bench *b = user;
	b->browser_msgs++;
}

static void pump(struct bench *b, int ms)
{
	struct pollfd pfd[2] = { { .fd = b->h.fd, .events = POLLIN }, { .fd = th_webpeer_fd(b->w), .events = POLLIN } };
	poll(pfd, 2, ms);
	uint64_t now = th_now_ns();
	th_webhost_step(&b->h, now);
	th_webpeer_step(b->w, now);
	th_webhost_step(&b->h, now);
}

/* The set-up time: the offer handed to the host -> open at both ends. */
static uint64_t bench_connect(struct bench *b)
{
	memset(&b->h, 0, sizeof(b->h));
	b->chans = 0;
	b->closed = false;
	struct th_webpeer_config wc = { .on_message = browser_message, .user = b };
	if (th_webpeer_create(&wc, &b->w) < 0 || th_webhost_open(&b->h, NULL) < 0)
		die("cannot create the two ends", NULL);
	const char *why = NULL;
	uint64_t now = th_now_ns();
	if (th_webhost_answer(&b->h, b->cert->cred, b->cert->fp, th_webpeer_offer(b->w), 0, &ops, b, now, &why) < 0 ||
	    th_webpeer_answer(b->w, b->h.answer, strlen(b->h.answer), now) < 0)
		die("the offer or the answer was refused", b);
	uint64_t end = now + WAIT_NS;
	while (!(th_webpeer_ready(b->w) && b->chans == 2)) {
		if (b->closed || th_now_ns() > end || th_webpeer_state(b->w) >= TH_WP_CLOSED)
			die("the peer did not open", b);
		pump(b, 1);
	}
	return th_now_ns() - now;
}

static void bench_disconnect(struct bench *b)
{
	th_webhost_close(&b->h);
	th_webpeer_destroy(&b->w);
}

static uint64_t rtt(struct bench *b, unsigned chan, size_t len)
{
	static uint8_t msg[MSG_LARGE];
	uint64_t want = b->browser_msgs + 1, t0 = th_now_ns();
	if (th_webpeer_send(b->w, chan, true, msg, len) < 0)
		die("the browser's send was refused", b);
	while (b->browser_msgs < want) {
		if (b->closed || th_now_ns() > t0 + WAIT_NS)
			die("no echo", b);
		pump(b, 1);
	}
	return th_now_ns() - t0;
}

static void peer_rtts(struct bench *b)
{
	uint64_t *v = calloc(RTT_ROUNDS, sizeof(*v));
	b->echo = true;
	for (unsigned i = 0; i < 50; i++) /* warm-up */
		rtt(b, 0, MSG_SMALL);
	for (unsigned i = 0; i < RTT_ROUNDS; i++)
		v[i] = rtt(b, 0, MSG_SMALL);
	th_bench_figure("web.peer_rtt_us_p50", th_bench_pct_u64(v, RTT_ROUNDS, 0.5) / 1e3, "us");
	th_bench_figure("web.peer_rtt_us_p99", th_bench_pct_u64(v, RTT_ROUNDS, 0.99) / 1e3, "us");
	for (unsigned i = 0; i < RTT_ROUNDS; i++)
		v[i] = rtt(b, 1, MSG_SMALL);
	th_bench_figure("web.peer_pose_rtt_us_p50", th_bench_pct_u64(v, RTT_ROUNDS, 0.5) / 1e3, "us");
	for (unsigned i = 0; i < RTT_64K_ROUNDS; i++)
		v[i] = rtt(b, 0, MSG_LARGE);
	th_bench_figure("web.peer_rtt_64k_us_p50", th_bench_pct_u64(v, RTT_64K_ROUNDS, 0.5) / 1e3, "us");
	b->echo = false;
	free(v);
}

static double peer_throughput(struct bench *b, uint64_t total)
{
	static uint8_t msg[TP_MSG];
	uint64_t sent = 0, base = b->host_bytes, t0 = th_now_ns();
	while (b->host_bytes - base < total) {
		while (sent < total && th_webpeer_buffered(b->w) < TP_BUFFERED_MAX) {
			int r = th_webpeer_send(b->w, 0, true, msg, TP_MSG);
			if (r == -EAGAIN)
				break;
			if (r < 0)
				die("the browser's send was refused", b);
			sent += TP_MSG;
		}
		if (b->closed || th_now_ns() > t0 + 10 * WAIT_NS)
			die("the transfer stalled", b);
		pump(b, 1);
	}
	double s = (double)(th_now_ns() - t0) / 1e9;
	return (double)total / (1024.0 * 1024.0) / s;
}

/* ---- the baseline: plain UDP on loopback ---- */

static int udp_socket(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(*a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s, sizeof(s)) < 0 || getsockname(fd, (struct sockaddr *)a, &l) < 0)
		die("no UDP socket", NULL);
	return fd;
}

static void udp_baseline(uint64_t total, double *rtt_p50, double *mbps)
{
	struct sockaddr_in aa, ba;
	int a = udp_socket(&aa), b = udp_socket(&ba);
	uint8_t buf[2048] = { 0 };
	uint64_t *v = calloc(RTT_ROUNDS, sizeof(*v));
	for (unsigned i = 0; i < RTT_ROUNDS + 50; i++) {
		uint64_t t0 = th_now_ns();
		sendto(a, buf, MSG_SMALL, 0, (struct sockaddr *)&ba, sizeof(ba));
		bool back = false;
		while (!back) {
			struct pollfd pfd[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
			poll(pfd, 2, 1);
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n > 0)
				sendto(b, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
			back = recv(a, buf, sizeof(buf), 0) > 0;
			if (th_now_ns() > t0 + WAIT_NS)
				die("a UDP datagram on loopback was lost", NULL);
		}
		if (i >= 50)
			v[i - 50] = th_now_ns() - t0;
	}
	*rtt_p50 = th_bench_pct_u64(v, RTT_ROUNDS, 0.5) / 1e3;
	th_bench_figure("web.udp_rtt_us_p50", *rtt_p50, "us");
	th_bench_figure("web.udp_rtt_us_p99", th_bench_pct_u64(v, RTT_ROUNDS, 0.99) / 1e3, "us");
	free(v);

	/* one way, in bursts the receiver drains (loopback drops what overflows
	 * its buffer: only what arrived counts) */
	uint64_t got = 0, t0 = th_now_ns();
	while (got < total) {
		for (unsigned i = 0; i < UDP_BURST; i++)
			sendto(a, buf, UDP_DGRAM, 0, (struct sockaddr *)&ba, sizeof(ba));
		struct pollfd pfd = { .fd = b, .events = POLLIN };
		poll(&pfd, 1, 1);
		ssize_t n;
		while ((n = recv(b, buf, sizeof(buf), 0)) > 0)
			got += (uint64_t)n;
		if (th_now_ns() > t0 + 10 * WAIT_NS)
			die("the UDP transfer stalled", NULL);
	}
	*mbps = (double)got / (1024.0 * 1024.0) / ((double)(th_now_ns() - t0) / 1e9);
	th_bench_figure("web.udp_mb_per_s", *mbps, "MiB/s");
	close(a);
	close(b);
}

int main(void)
{
	const char *e = getenv("BENCH_WEB_MB");
	uint64_t mb = e && atoi(e) > 0 && atoi(e) <= 1024 ? (uint64_t)atoi(e) : 32;
	e = getenv("BENCH_WEB_SETUPS");
	unsigned setups = e && atoi(e) > 0 && atoi(e) <= 1000 ? (unsigned)atoi(e) : 30;
	struct bench b = { 0 };
	if (net_cert_generate(&b.cert) < 0)
		die("no certificate", NULL);

	double udp_rtt, udp_mbps;
	udp_baseline(mb << 20, &udp_rtt, &udp_mbps);

	uint64_t *v = calloc(setups, sizeof(*v));
	for (unsigned i = 0; i < setups; i++) {
		v[i] = bench_connect(&b);
		if (i + 1 < setups)
			bench_disconnect(&b);
	}
	double setup_p50 = th_bench_pct_u64(v, setups, 0.5) / 1e6;
	th_bench_figure("web.peer_setup_ms_p50", setup_p50, "ms");
	th_bench_figure("web.peer_setup_ms_p99", th_bench_pct_u64(v, setups, 0.99) / 1e6, "ms");
	th_bench_figure("web.peer_setup_udp_rtts", setup_p50 * 1e3 / udp_rtt, "x");
	free(v);

	peer_rtts(&b);
	double mbps = peer_throughput(&b, mb << 20);
	th_bench_figure("web.peer_mb_per_s", mbps, "MiB/s");
	th_bench_figure("web.peer_vs_udp_throughput", mbps / udp_mbps, "x");
	bench_disconnect(&b);
	net_cert_destroy(&b.cert);
	return 0;
}
