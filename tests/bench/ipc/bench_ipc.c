/* IPC benchmarks: th_ring over a real sealed memfd (each side maps it
 * separately, one thread per side, pinned to different CPUs when there are
 * two), with the baselines measured in the same run:
 *
 *   ipc.ring.rtt_active_p50_ns / _p99_ns  64-byte ping/pong, both sides spinning
 *   ipc.ring.rtt_idle_p50_ns              the receiver was asleep on its doorbell
 *   ipc.ring.oneway_msgs_per_s            64-byte records client->daemon
 *   ipc.baseline.spin_rtt_p50_ns          bare busy-polling slot ring (no checks)
 *   ipc.baseline.uds_rtt_p50_ns           same paced exchange over a Unix stream socket
 *   ipc.baseline.uds_rtt_b2b_p50_ns       back-to-back ping/pong over the socket
 *   ipc.baseline.uds_oneway_msgs_per_s    one write(2) per 64-byte message
 *
 * Figures go to stdout as JSON lines; other lines start with '#'. */
#include "th_ring.h"
#include "th_shm.h"
#include "th_bench.h"
#include "th_time.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSG 64u
#define RTT_N 200000u
#define RTT_WARM 20000u
#define IDLE_N 1500u
#define IDLE_GAP_NS (400u * 1000u)
#define ONEWAY_N 5000000u
#define UDS_ONEWAY_N 400000u
#define UDS_B2B_N 40000u
#define RING_CAP (256u * 1024u)

static int ncpu;

static void pin(int cpu)
{
	if (ncpu < 2)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % ncpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_ipc: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* ---- shared memory with two rings, mapped twice -------------------------- */

struct rings {
	struct th_shm shm;
	void *peer_map; /* second mapping of the same memfd: "the other process" */
	struct th_ring_geom g;
	size_t region;
	int bell_ab, bell_ba; /* doorbells: A->B ring's consumer is B */
	struct th_ring_prod ab_p, ba_p;
	struct th_ring_cons ab_c, ba_c;
};

static void rings_open(struct rings *r)
{
	r->g = (struct th_ring_geom){ .capacity = RING_CAP, .max_record = 4096 };
	r->region = th_ring_region_size(&r->g);
	int e = th_shm_create("bench-ipc", 2 * r->region, &r->shm);
	if (e < 0)
		die("memfd", e);
	r->peer_map = mmap(NULL, r->shm.size, PROT_READ | PROT_WRITE, MAP_SHARED, r->shm.fd, 0);
	if (r->peer_map == MAP_FAILED)
		die("mmap", errno);
	uint8_t *a = r->shm.base, *b = r->peer_map;
	th_ring_format(a, r->region, &r->g);
	th_ring_format(a + r->region, r->region, &r->g);
	r->bell_ab = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->bell_ba = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* A uses mapping a, B uses mapping b. */
	if ((e = th_ring_prod_init(&r->ab_p, a, r->region, &r->g, r->bell_ab)) < 0 ||
	    (e = th_ring_cons_init(&r->ab_c, b, r->region, &r->g, r->bell_ab)) < 0 ||
	    (e = th_ring_prod_init(&r->ba_p, b + r->region, r->region, &r->g, r->bell_ba)) < 0 ||
	    (e = th_ring_cons_init(&r->ba_c, a + r->region, r->region, &r->g, r->bell_ba)) < 0)
		die("ring init", e);
}

static void rings_close(struct rings *r)
{
	munmap(r->peer_map, r->shm.size);
	th_shm_close(&r->shm);
	close(r->bell_ab);
	close(r->bell_ba);
}

static void pop_one(struct th_ring_cons *c, uint8_t *buf)
{
	struct th_ring_rec rec;
	for (;;) {
		int r = th_ring_pop(c, &rec, buf, 4096);
		if (r == 1)
			return;
		if (r < 0)
			die("pop", r);
		r = th_ring_wait(c, -1);
		if (r < 0)
			die("wait", r);
	}
}

static void push_one(struct th_ring_prod *p, const uint8_t *buf)
{
	int r;
	while ((r = th_ring_push(p, 1, buf, MSG)) == -EAGAIN)
		th_cpu_relax();
	if (r < 0)
		die("push", r);
}

/* ---- th_ring round trips ------------------------------------------------- */

struct echo_arg {
	struct rings *r;
	unsigned n;
	uint64_t spin_ns;
};

static void *ring_echo(void *arg)
{
	struct echo_arg *e = arg;
	pin(1);
	th_ring_cons_set_spin(&e->r->ab_c, e->spin_ns);
	uint8_t buf[4096];
	for (unsigned i = 0; i < e->n; i++) {
		pop_one(&e->r->ab_c, buf);
		push_one(&e->r->ba_p, buf);
	}
	return NULL;
}

/* n round trips; gap_ns > 0 waits between them so the echo side sleeps. */
static void ring_rtt(uint64_t spin_ns, unsigned n, unsigned warm, uint64_t gap_ns, uint64_t *samples)
{
	struct rings r;
	rings_open(&r);
	struct echo_arg e = { .r = &r, .n = n + warm, .spin_ns = spin_ns };
	pthread_t t;
	pthread_create(&t, NULL, ring_echo, &e);
	pin(0);
	th_ring_cons_set_spin(&r.ba_c, spin_ns);
	uint8_t buf[4096] = { 0 };
	for (unsigned i = 0; i < n + warm; i++) {
		if (gap_ns)
			th_sleep_ns(gap_ns);
		uint64_t t0 = th_now_ns();
		memcpy(buf, &i, sizeof i);
		push_one(&r.ab_p, buf);
		pop_one(&r.ba_c, buf);
		uint64_t t1 = th_now_ns();
		if (i >= warm)
			samples[i - warm] = t1 - t0;
	}
	pthread_join(t, NULL);
	if (gap_ns)
		printf("# idle run: echo side slept %llu times, woken %llu times by the doorbell\n",
		       (unsigned long long)r.ab_c.stats.sleeps, (unsigned long long)r.ab_c.stats.wakeups);
	rings_close(&r);
}

/* ---- th_ring one-way throughput ------------------------------------------ */

static void *ring_sink(void *arg)
{
	struct rings *r = arg;
	pin(1);
	uint8_t buf[4096];
	struct th_ring_rec rec;
	for (unsigned got = 0; got < ONEWAY_N;) {
		int e = th_ring_pop(&r->ab_c, &rec, buf, sizeof buf);
		if (e == 1) {
			got++;
		} else if (e == 0) {
			if ((e = th_ring_wait(&r->ab_c, -1)) < 0)
				die("wait", e);
		} else {
			die("pop", e);
		}
	}
	return NULL;
}

static double ring_oneway(void)
{
	struct rings r;
	rings_open(&r);
	pthread_t t;
	pthread_create(&t, NULL, ring_sink, &r);
	pin(0);
	uint8_t buf[MSG] = { 1 };
	uint64_t t0 = th_now_ns();
	for (unsigned i = 0; i < ONEWAY_N;) {
		int e = th_ring_send(&r.ab_p, 1, buf, MSG);
		if (e == -EAGAIN) {
			th_ring_flush(&r.ab_p);
			th_cpu_relax();
			continue;
		}
		if (e < 0)
			die("send", e);
		if (++i % 32 == 0)
			th_ring_flush(&r.ab_p); /* batched publication and wake-up */
	}
	th_ring_flush(&r.ab_p);
	pthread_join(t, NULL);
	double s = (double)(th_now_ns() - t0) / 1e9;
	printf("# ring one-way: %llu doorbell writes for %u records\n",
	       (unsigned long long)r.ab_p.stats.wakeups, ONEWAY_N);
	rings_close(&r);
	return ONEWAY_N / s;
}

/* ---- bare spin ring: the machine's limit --------------------------------- */

#define SPIN_SLOTS 64u
struct spin_ring {
	_Alignas(128) uint64_t head;
	_Alignas(128) uint64_t tail;
	_Alignas(128) uint8_t slot[SPIN_SLOTS][MSG];
};

static struct spin_ring *spin_ab, *spin_ba;

static void spin_send(struct spin_ring *r, uint64_t *head, const uint8_t *m)
{
	while (*head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= SPIN_SLOTS)
		th_cpu_relax();
	memcpy(r->slot[*head % SPIN_SLOTS], m, MSG);
	__atomic_store_n(&r->head, ++*head, __ATOMIC_RELEASE);
}

static void spin_recv(struct spin_ring *r, uint64_t *tail, uint8_t *m)
{
	while (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == *tail)
		th_cpu_relax();
	memcpy(m, r->slot[*tail % SPIN_SLOTS], MSG);
	__atomic_store_n(&r->tail, ++*tail, __ATOMIC_RELEASE);
}

static void *spin_echo(void *arg)
{
	unsigned n = *(unsigned *)arg;
	pin(1);
	uint64_t h = 0, t = 0;
	uint8_t m[MSG];
	for (unsigned i = 0; i < n; i++) {
		spin_recv(spin_ab, &t, m);
		spin_send(spin_ba, &h, m);
	}
	return NULL;
}

static void spin_rtt(uint64_t *samples)
{
	struct th_shm shm;
	int e = th_shm_create("bench-spin", 2 * sizeof(struct spin_ring), &shm);
	if (e < 0)
		die("memfd", e);
	memset(shm.base, 0, shm.size);
	spin_ab = shm.base;
	spin_ba = spin_ab + 1;
	unsigned n = RTT_N + RTT_WARM;
	pthread_t t;
	pthread_create(&t, NULL, spin_echo, &n);
	pin(0);
	uint64_t h = 0, tl = 0;
	uint8_t m[MSG] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = th_now_ns();
		spin_send(spin_ab, &h, m);
		spin_recv(spin_ba, &tl, m);
		uint64_t t1 = th_now_ns();
		if (i >= RTT_WARM)
			samples[i - RTT_WARM] = t1 - t0;
	}
	pthread_join(t, NULL);
	th_shm_close(&shm);
}

/* ---- Unix stream socket baselines ---------------------------------------- */

static int read_full(int fd, uint8_t *b, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t k = read(fd, b + got, n - got);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

struct uds_arg {
	int fd;
	unsigned n;
};

static void *uds_echo(void *arg)
{
	struct uds_arg *u = arg;
	pin(1);
	uint8_t m[MSG];
	for (unsigned i = 0; i < u->n; i++) {
		if (read_full(u->fd, m, MSG) < 0 || write(u->fd, m, MSG) != MSG)
			die("uds echo", errno);
	}
	return NULL;
}

static void uds_rtt(unsigned n, unsigned warm, uint64_t gap_ns, uint64_t *samples)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", errno);
	struct uds_arg u = { .fd = sv[1], .n = n + warm };
	pthread_t t;
	pthread_create(&t, NULL, uds_echo, &u);
	pin(0);
	uint8_t m[MSG] = { 0 };
	for (unsigned i = 0; i < n + warm; i++) {
		if (gap_ns)
			th_sleep_ns(gap_ns);
		uint64_t t0 = th_now_ns();
		if (write(sv[0], m, MSG) != MSG || read_full(sv[0], m, MSG) < 0)
			die("uds", errno);
		uint64_t t1 = th_now_ns();
		if (i >= warm)
			samples[i - warm] = t1 - t0;
	}
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
}

static void *uds_sink(void *arg)
{
	int fd = *(int *)arg;
	pin(1);
	static uint8_t b[65536];
	uint64_t want = (uint64_t)UDS_ONEWAY_N * MSG, got = 0;
	while (got < want) {
		ssize_t k = read(fd, b, sizeof b);
		if (k <= 0)
			die("uds sink", errno);
		got += (uint64_t)k;
	}
	return NULL;
}

static double uds_oneway(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", errno);
	pthread_t t;
	pthread_create(&t, NULL, uds_sink, &sv[1]);
	pin(0);
	uint8_t m[MSG] = { 1 };
	uint64_t t0 = th_now_ns();
	for (unsigned i = 0; i < UDS_ONEWAY_N; i++)
		if (write(sv[0], m, MSG) != MSG)
			die("uds write", errno);
	pthread_join(t, NULL);
	double s = (double)(th_now_ns() - t0) / 1e9;
	close(sv[0]);
	close(sv[1]);
	return UDS_ONEWAY_N / s;
}

static void goal(const char *what, double v, const char *op, double limit)
{
	bool met = op[0] == '<' ? v <= limit : v >= limit;
	printf("# goal %-40s %12.1f %s %12.1f  %s\n", what, v, op, limit, met ? "MET" : "NOT MET");
}

int main(void)
{
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	printf("# bench_ipc: %d CPUs, 64-byte records, ring capacity %u KiB\n", ncpu, RING_CAP / 1024);
	uint64_t *s = calloc(RTT_N, sizeof *s);
	if (!s)
		die("calloc", ENOMEM);

	spin_rtt(s);
	double spin_p50 = th_bench_pct_u64(s, RTT_N, 0.50);
	th_bench_figure("ipc.baseline.spin_rtt_p50_ns", spin_p50, "ns");

	ring_rtt(TH_RING_MAX_SPIN_NS, RTT_N, RTT_WARM, 0, s);
	double act_p50 = th_bench_pct_u64(s, RTT_N, 0.50), act_p99 = th_bench_pct_u64(s, RTT_N, 0.99);
	th_bench_figure("ipc.ring.rtt_active_p50_ns", act_p50, "ns");
	th_bench_figure("ipc.ring.rtt_active_p99_ns", act_p99, "ns");

	ring_rtt(TH_RING_DEFAULT_SPIN_NS, IDLE_N, 20, IDLE_GAP_NS, s);
	double idle_p50 = th_bench_pct_u64(s, IDLE_N, 0.50);
	th_bench_figure("ipc.ring.rtt_idle_p50_ns", idle_p50, "ns");
	th_bench_figure("ipc.ring.rtt_idle_p99_ns", th_bench_pct_u64(s, IDLE_N, 0.99), "ns");

	uds_rtt(IDLE_N, 20, IDLE_GAP_NS, s);
	double uds_p50 = th_bench_pct_u64(s, IDLE_N, 0.50);
	th_bench_figure("ipc.baseline.uds_rtt_p50_ns", uds_p50, "ns");
	uds_rtt(UDS_B2B_N, 2000, 0, s);
	th_bench_figure("ipc.baseline.uds_rtt_b2b_p50_ns", th_bench_pct_u64(s, UDS_B2B_N, 0.50), "ns");

	double ring_tp = ring_oneway();
	th_bench_figure("ipc.ring.oneway_msgs_per_s", ring_tp, "msgs/s");
	double uds_tp = uds_oneway();
	th_bench_figure("ipc.baseline.uds_oneway_msgs_per_s", uds_tp, "msgs/s");

	th_bench_figure("ipc.ratio.active_rtt_vs_spin", act_p50 / spin_p50, "x");
	th_bench_figure("ipc.ratio.idle_rtt_vs_uds", idle_p50 / uds_p50, "x");
	th_bench_figure("ipc.ratio.oneway_vs_uds", ring_tp / uds_tp, "x");
	goal("active rtt p50 <= 3x spin ring", act_p50, "<=", 3 * spin_p50);
	goal("idle rtt p50 <= 1.1x unix socket (paced)", idle_p50, "<=", 1.1 * uds_p50);
	goal("one-way msgs/s >= 20x unix socket", ring_tp, ">=", 20 * uds_tp);
	free(s);
	return 0;
}
