/* QUIC bulk throughput on loopback.
 *
 * quic.asset_mb_per_s: a net_server client connection (thread A) sends
 *   BENCH_BYTES on one stream to a net_server host (thread B), both over
 *   real UDP sockets (net_udp, GSO when available), timed from connect to
 *   the last byte received.
 * quic.baseline.ngtcp2_example_mb_per_s: Debian's ngtcp2 examples
 *   (gtlsserver --htdocs / gtlsclient --download, HTTP/3 over the same
 *   libngtcp2 + GnuTLS) moving a file of the same size in the same run,
 *   timed from starting the client to its exit.
 * quic.asset_vs_baseline_ratio: the first over the second (goal >= 0.8).
 * Each side runs BENCH_RUNS times; the best run counts. MB = 10^6 bytes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/net_cert.h"
#include "net/net_server.h"
#include "net/net_udp.h"
#include "th_time.h"

#define BENCH_BYTES (64u << 20)
#define BENCH_RUNS 3
#define BENCH_GSO_PKTS 32
#define BENCH_TIMEOUT_NS (30ull * 1000000000ull)
#define BASELINE_START_ATTEMPTS 5
#define BASELINE_START_TIMEOUT_NS (10ull * 1000000000ull)
#define SERVER_BIN "/usr/sbin/gtlsserver"
#define CLIENT_BIN "/usr/bin/gtlsclient"

static uint8_t *g_data;

struct side {
	struct net_udp *udp;
	struct net_server *srv;
	struct net_quic *q; /* client only */
	uint8_t pending[BENCH_GSO_PKTS * NET_QUIC_MAX_PKT];
	size_t pend_len, pend_seg;
	struct sockaddr_storage pend_to;
	socklen_t pend_tl;
	/* client */
	bool hs;
	int64_t sid;
	uint64_t written;
	/* server */
	uint64_t received;
	bool fin, corrupt;
};

static atomic_bool g_done;
static uint64_t g_t_end;

static void on_hs(struct net_quic *q, uint64_t now_ns, void *ud)
{
	(void)now_ns;
	struct side *s = ud;
	(void)q;
	if (s)
		s->hs = true;
}

static void on_data(struct net_quic *q, int64_t sid, const uint8_t *d, size_t len, bool fin, uint64_t now_ns,
		    void *ud)
{
	(void)now_ns;
	struct side *s = ud;
	(void)q;
	(void)sid;
	(void)d;
	if (!s)
		return;
	/* every byte is checked: the figure is for data that arrived intact */
	if (s->received + len > BENCH_BYTES || memcmp(d, g_data + s->received, len) != 0)
		s->corrupt = true;
	s->received += len;
	if (fin) {
		s->fin = true;
		g_t_end = th_now_ns();
		atomic_store(&g_done, true);
	}
}

static void on_new(struct net_server *srv, struct net_quic *q, uint64_t now_ns, void *ud)
{
	(void)now_ns;
	(void)srv;
	net_quic_set_user(q, ud);
}

static const struct net_server_callbacks cbs = {
	.quic = {.handshake_done = on_hs, .stream_data = on_data},
	.conn_new = on_new,
};

/* Sends what net_server has; false when the socket is full. */
static bool flush(struct side *s, uint64_t now)
{
	for (;;) {
		if (!s->pend_len) {
			size_t seg = 0;
			net_server_produce(s->srv, now, s->pending, sizeof(s->pending), BENCH_GSO_PKTS,
					   &s->pend_len, &seg, &s->pend_to, &s->pend_tl);
			s->pend_seg = seg;
			if (!s->pend_len)
				return true;
		}
		size_t sent = 0;
		int rv = net_udp_send(s->udp, s->pending, s->pend_len, s->pend_seg,
				      (struct sockaddr *)&s->pend_to, s->pend_tl, &sent);
		if (rv == -EAGAIN) {
			/* keep the unsent tail (whole segments) */
			memmove(s->pending, s->pending + sent, s->pend_len - sent);
			s->pend_len -= sent;
			return false;
		}
		s->pend_len = 0;
	}
}

static void pump(struct side *s)
{
	if (!s->q || !s->hs || s->written == BENCH_BYTES)
		return;
	if (s->sid < 0 && net_quic_stream_open(s->q, &s->sid) < 0)
		return;
	size_t room = net_quic_stream_writable(s->q, s->sid);
	size_t n = BENCH_BYTES - s->written < room ? BENCH_BYTES - s->written : room;
	if (!n)
		return;
	int k = net_quic_stream_write(s->q, s->sid, g_data + s->written, n,
				      s->written + n == BENCH_BYTES);
	if (k > 0)
		s->written += (uint64_t)k;
}

static void *loop(void *arg)
{
	struct side *s = arg;
	struct net_udp_msg msgs[NET_UDP_RX_BATCH];
	uint64_t deadline = th_now_ns() + BENCH_TIMEOUT_NS;
	while (!atomic_load(&g_done) && th_now_ns() < deadline) {
		uint64_t now = th_now_ns();
		pump(s);
		bool can_send = flush(s, now);
		uint64_t exp = net_server_next_expiry(s->srv);
		now = th_now_ns();
		struct timespec ts = {0, 0};
		if (exp > now) {
			uint64_t d = exp - now;
			if (d > 100000000ull)
				d = 100000000ull;
			ts.tv_sec = (time_t)(d / 1000000000ull);
			ts.tv_nsec = (long)(d % 1000000000ull);
		}
		struct pollfd p = {.fd = net_udp_fd(s->udp), .events = POLLIN | (can_send ? 0 : POLLOUT)};
		if (exp > now)
			ppoll(&p, 1, &ts, NULL);
		for (int round = 0; round < 8; round++) {
			int n = net_udp_recv(s->udp, msgs, NET_UDP_RX_BATCH);
			if (n <= 0)
				break;
			now = th_now_ns();
			for (int i = 0; i < n; i++)
				net_server_feed(s->srv, msgs[i].data, msgs[i].len,
						(struct sockaddr *)&msgs[i].from, msgs[i].from_len, now);
		}
	}
	return NULL;
}

static double run_ours(struct net_cert *cert)
{
	struct side *cs = calloc(1, sizeof(*cs)), *ss = calloc(1, sizeof(*ss));
	cs->sid = -1;
	atomic_store(&g_done, false);
	if (net_udp_open("127.0.0.1", 0, &ss->udp) < 0 || net_udp_open("127.0.0.1", 0, &cs->udp) < 0) {
		fprintf(stderr, "bench: cannot open UDP sockets\n");
		exit(1);
	}
	socklen_t ll;
	const struct sockaddr *sl = net_udp_local(ss->udp, &ll);
	net_server_create(NULL, cert->cred, &cbs, ss, sl, ll, &ss->srv);
	const struct sockaddr *cl = net_udp_local(cs->udp, &ll);
	net_server_create(NULL, cert->cred, &cbs, cs, cl, ll, &cs->srv);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(net_udp_port(ss->udp))};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint64_t t0 = th_now_ns();
	if (net_server_connect(cs->srv, cert->fp, (struct sockaddr *)&to, sizeof(to), cs, t0, &cs->q) < 0) {
		fprintf(stderr, "bench: connect failed\n");
		exit(1);
	}
	pthread_t a, b;
	pthread_create(&a, NULL, loop, ss);
	pthread_create(&b, NULL, loop, cs);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	double mbps = 0;
	if (ss->received == BENCH_BYTES && ss->fin && !ss->corrupt)
		mbps = (double)BENCH_BYTES / ((double)(g_t_end - t0) / 1e9) / 1e6;
	else
		fprintf(stderr, "bench: transfer incomplete or corrupt (%llu bytes)\n",
			(unsigned long long)ss->received);
	net_server_destroy(&cs->srv);
	net_server_destroy(&ss->srv);
	net_udp_close(&cs->udp);
	net_udp_close(&ss->udp);
	free(cs);
	free(ss);
	return mbps;
}

/* ---- baseline: Debian's ngtcp2 example programs ---------------------------- */

static int run_cmd(const char *cmd)
{
	int rv = system(cmd);
	return rv == -1 ? -1 : WEXITSTATUS(rv);
}

/* The example server has no readiness signal: it is up when its UDP port
 * shows in /proc/net/udp (bound on 127.0.0.1). */
static bool udp_port_bound(unsigned port)
{
	FILE *f = fopen("/proc/net/udp", "r");
	char line[512], want[32];
	bool found = false;
	if (!f)
		return false;
	snprintf(want, sizeof(want), "0100007F:%04X ", port);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/* A UDP port nobody holds right now (the kernel's pick for port 0). */
static unsigned free_udp_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	unsigned port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Starts gtlsserver on a free port; 0 and *pid, *port once it listens, -1 if
 * it did not come up in BASELINE_START_ATTEMPTS tries (a port taken between
 * our pick and its bind makes it exit: pick another). */
static int start_baseline_server(const char *dir, pid_t *pid, unsigned *port)
{
	for (int attempt = 0; attempt < BASELINE_START_ATTEMPTS; attempt++) {
		unsigned p = free_udp_port();
		if (!p)
			continue;
		pid_t srv = fork();
		if (srv < 0)
			return -1;
		if (srv == 0) {
			char ps[16], h[512], k[512], c[512];
			snprintf(ps, sizeof(ps), "%u", p);
			snprintf(h, sizeof(h), "%s/htdocs", dir);
			snprintf(k, sizeof(k), "%s/key.pem", dir);
			snprintf(c, sizeof(c), "%s/cert.pem", dir);
			int devnull = open("/dev/null", O_WRONLY);
			dup2(devnull, 1);
			dup2(devnull, 2);
			execl(SERVER_BIN, SERVER_BIN, "-q", "--htdocs", h, "127.0.0.1", ps, k, c, (char *)NULL);
			_exit(127);
		}
		uint64_t end = th_now_ns() + BASELINE_START_TIMEOUT_NS;
		bool exited = false;
		while (!udp_port_bound(p) && th_now_ns() < end) {
			if (waitpid(srv, NULL, WNOHANG) == srv) {
				exited = true;
				break;
			}
			usleep(5000);
		}
		if (!exited && udp_port_bound(p)) {
			*pid = srv;
			*port = p;
			return 0;
		}
		if (!exited) {
			kill(srv, SIGKILL);
			waitpid(srv, NULL, 0);
		}
		fprintf(stderr, "bench: gtlsserver did not start on port %u (attempt %d)\n", p, attempt + 1);
	}
	return -1;
}

static double run_baseline(const char *dir)
{
	char cmd[1024];
	pid_t srv;
	unsigned port;
	if (start_baseline_server(dir, &srv, &port) < 0)
		return 0;
	snprintf(cmd, sizeof(cmd),
		 "rm -f %s/dl/blob; " CLIENT_BIN " -q --exit-on-all-streams-close --no-quic-dump "
		 "--no-http-dump --download %s/dl 127.0.0.1 %u https://127.0.0.1:%u/blob >/dev/null 2>&1",
		 dir, dir, port, port);
	uint64_t t0 = th_now_ns();
	int rv = run_cmd(cmd);
	uint64_t t1 = th_now_ns();
	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	char path[600];
	snprintf(path, sizeof(path), "%s/dl/blob", dir);
	struct stat st;
	if (rv != 0 || stat(path, &st) != 0 || st.st_size != BENCH_BYTES) {
		fprintf(stderr, "bench: baseline client failed (rc %d)\n", rv);
		return 0;
	}
	return (double)BENCH_BYTES / ((double)(t1 - t0) / 1e9) / 1e6;
}

static int baseline_setup(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/theta-bench-quic-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p htdocs dl && "
		 "certtool --generate-privkey --key-type=ecdsa --outfile key.pem >/dev/null 2>&1 && "
		 "printf 'cn = localhost\\nexpiration_days = 2\\nsigning_key\\n' > tmpl && "
		 "certtool --generate-self-signed --load-privkey key.pem --template tmpl "
		 "--outfile cert.pem >/dev/null 2>&1",
		 dir);
	if (run_cmd(cmd) != 0)
		return -1;
	char path[600];
	snprintf(path, sizeof(path), "%s/htdocs/blob", dir);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(g_data, 1, BENCH_BYTES, f) != BENCH_BYTES) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int main(void)
{
	g_data = malloc(BENCH_BYTES);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < BENCH_BYTES; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(g_data + i, &x, 8);
	}
	struct net_cert *cert;
	if (net_cert_generate(&cert) < 0) {
		fprintf(stderr, "bench: no certificate\n");
		return 1;
	}
	double best = 0;
	for (int i = 0; i < BENCH_RUNS; i++) {
		double v = run_ours(cert);
		printf("run %d: theta net_quic %.1f MB/s\n", i + 1, v);
		if (v > best)
			best = v;
	}
	net_cert_destroy(&cert);

	double base = 0;
	char dir[64];
	if (access(SERVER_BIN, X_OK) == 0 && access(CLIENT_BIN, X_OK) == 0 &&
	    baseline_setup(dir, sizeof(dir)) == 0) {
		for (int i = 0; i < BENCH_RUNS; i++) {
			double v = run_baseline(dir);
			printf("run %d: ngtcp2 example (gtlsserver/gtlsclient) %.1f MB/s\n", i + 1, v);
			if (v > base)
				base = v;
		}
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		run_cmd(cmd);
	} else {
		printf("baseline unavailable: install ngtcp2-server and ngtcp2-client\n");
	}
	printf("{\"name\": \"quic.asset_mb_per_s\", \"value\": %.1f, \"unit\": \"MB/s\"}\n", best);
	if (base > 0) {
		printf("{\"name\": \"quic.baseline.ngtcp2_example_mb_per_s\", \"value\": %.1f, \"unit\": \"MB/s\"}\n",
		       base);
		printf("{\"name\": \"quic.asset_vs_baseline_ratio\", \"value\": %.3f, \"unit\": \"x\"}\n",
		       best / base);
	}
	free(g_data);
	return best > 0 ? 0 : 1;
}
