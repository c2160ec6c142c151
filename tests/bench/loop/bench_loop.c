/* The event loop's longest stalls, with the real binaries (make bench-loop).
 *
 * Two thetad processes on loopback, state dirs under $TMPDIR (default /tmp):
 * host A hosts a session, member B joins it. A stall is the time a loop
 * spends on one wake-up (common/th_loop.h), read from `thetactl metrics`
 * as the last complete 5 s window's p99.9 and max (loop_stall_recent_*).
 *
 *   idle:  A hosts an empty session, B runs; nothing happens for
 *          BENCH_IDLE_NS (two whole windows and a second).
 *   fill:  BENCH_PREFILL entries appended on A (the "large log"), not timed.
 *   load:  BENCH_CLIENTS theta-clients of one author append to A at
 *          BENCH_RATE per second in all (A's per-author bucket raised with
 *          clog.rate_per_s), while B joins and catches up the whole log and
 *          then follows the live appends. Windows are sampled every half
 *          window from one window after the start until B has caught up,
 *          BENCH_LOAD_MIN_NS have passed and two windows after the catch-up
 *          were seen; the worst sampled window counts.
 *
 * Figures (us): loop.stall_p999_us.{idle,load}.{host,member},
 * loop.stall_max_us.{idle,load}.{host,member} (goal: max <= 1000 under
 * load); the same for .follow: only windows that began after the catch-up
 * ended (the live appends alone), with each loop thread's CPU time and
 * run-queue wait per second over those windows
 * (loop.follow.{host,member}_loop_{cpu,runqueue_wait}_ms_per_s: a loop that
 * waits for a CPU stalls however little it has to do); loop.load.appends_per_s (what A took), loop.load.catchup_s (B's
 * join until it held everything A had when the load began),
 * loop.load.catchup_entries. */
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_client.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"

#define BENCH_RATE        10000u                 /* appends per second on the host, all clients */
#define BENCH_CLIENTS     2u
#define BENCH_PAYLOAD     64u
#define BENCH_PREFILL     100000u                /* entries B has to catch up */
#define BENCH_INFLIGHT    4000u                  /* per client: submitted, not yet acknowledged */
#define BENCH_WINDOW_NS   (5 * TH_NS_PER_S)      /* TH_LOOP_STALL_WINDOW_NS */
#define BENCH_IDLE_NS     (2 * BENCH_WINDOW_NS + TH_NS_PER_S)
#define BENCH_LOAD_MIN_NS (3 * BENCH_WINDOW_NS)
#define BENCH_SAMPLE_NS   (BENCH_WINDOW_NS / 2)
#define BENCH_PHASE_MAX_NS (300 * TH_NS_PER_S)   /* only a hang ends a phase here */
#define BENCH_CONF "log_level = warning\n[clog]\nrate_per_s = 50000\nrate_burst = 50000\n"

static char out[1 << 18], err[16384];

static int ctl(struct th_daemon_proc *d, const char *const *args)
{
	return th_ctl(d, args, out, sizeof(out), err, sizeof(err));
}

static struct th_daemon_proc A, B;

static void fail(const char *what)
{
	fprintf(stderr, "bench_loop: %s\n%s\n--- host log (tail):\n%s\n", what, err, th_daemon_log(&A));
	fprintf(stderr, "--- member log:\n%s\n", th_daemon_log(&B));
	th_daemon_cleanup(&A);
	th_daemon_cleanup(&B);
	exit(1);
}

static uint64_t metric(struct json_object *o, const char *name)
{
	struct json_object *m, *v;
	if (!json_object_object_get_ex(o, name, &m) || !json_object_object_get_ex(m, "value", &v))
		fail(name);
	return (uint64_t)json_object_get_int64(v);
}

struct window {
	uint64_t p999_us, max_us, wakeups;
};

static struct window recent(struct th_daemon_proc *d)
{
	if (ctl(d, (const char *const[]){ "metrics", "--json", NULL }))
		fail("metrics failed");
	struct json_object *o = json_tokener_parse(out);
	if (!o)
		fail("metrics is not JSON");
	struct window w = { metric(o, "loop_stall_recent_p999_us"), metric(o, "loop_stall_recent_max_us"),
			    metric(o, "loop_wakeups") };
	json_object_put(o);
	return w;
}

static void worst(struct window *acc, struct window w)
{
	if (w.p999_us > acc->p999_us)
		acc->p999_us = w.p999_us;
	if (w.max_us > acc->max_us)
		acc->max_us = w.max_us;
}

/* Entries of session id on d (-1: not listed yet). */
static long long entries(struct th_daemon_proc *d, const char *id)
{
	return th_session_entries(d, id);
}

/* The loop thread's (the daemon's main thread) time on a CPU and waiting
 * for one while runnable, from /proc/PID/schedstat (ns). A stall can be the
 * loop's own work or the scheduler running something else meanwhile on
 * this shared 2-core machine: the run-queue wait says how much of the
 * second there was. */
struct sched_times {
	uint64_t run_ns, wait_ns, t_ns;
};

static struct sched_times sched_of(pid_t pid)
{
	char path[64];
	struct sched_times st = { .t_ns = th_now_ns() };
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	FILE *f = fopen(path, "r");
	unsigned long long run = 0, wait = 0;
	if (f && fscanf(f, "%llu %llu", &run, &wait) == 2) {
		st.run_ns = run;
		st.wait_ns = wait;
	}
	if (f)
		fclose(f);
	return st;
}

/* ms per second of the interval from a to b: {on a CPU, waiting for one}. */
static void sched_rates(struct sched_times a, struct sched_times b, double *run_ms, double *wait_ms)
{
	double s = (double)(b.t_ns - a.t_ns) / 1e9;
	*run_ms = s > 0 ? (double)(b.run_ns - a.run_ns) / 1e6 / s : 0;
	*wait_ms = s > 0 ? (double)(b.wait_ns - a.wait_ns) / 1e6 / s : 0;
}

/* ---- load: clients appending at a fixed rate -------------------------------- */

struct loader {
	pthread_t t;
	unsigned idx;
	double rate;          /* per second, this client */
	uint64_t limit;       /* stop after this many acks (0: until stop) */
	atomic_bool *stop;
	uint64_t submitted, acks, rejects;
	char reject[PROTO_IPC_MAX_DETAIL + 1];
	int error;
};

static void *loader_run(void *arg)
{
	struct loader *l = arg;
	struct nc_client c;
	if ((l->error = nc_connect(&c, A.runtime_dir, 5000)) < 0)
		return NULL;
	uint8_t payload[BENCH_PAYLOAD];
	memset(payload, 0x5a, sizeof(payload));
	uint64_t t0 = th_now_ns(), period = (uint64_t)(1e9 / l->rate);
	while (!atomic_load(l->stop) && (!l->limit || c.acks < l->limit)) {
		uint64_t now = th_now_ns();
		while (l->submitted - c.acks - c.rejects < BENCH_INFLIGHT && t0 + l->submitted * period <= now &&
		       (!l->limit || l->submitted < l->limit)) {
			memcpy(payload, &l->submitted, sizeof(l->submitted));
			if (nc_submit(&c, 1000 + l->idx, payload, sizeof(payload)) < 0)
				break; /* ring full: take acks first */
			l->submitted++;
		}
		if (nc_poll(&c, 1) < 0) {
			l->error = -ECONNRESET;
			break;
		}
		if (c.rejects && !l->reject[0])
			snprintf(l->reject, sizeof(l->reject), "%s", c.last_reject);
	}
	/* Collect what is still in flight. */
	uint64_t end = th_now_ns() + 30 * TH_NS_PER_S;
	while (c.acks + c.rejects < l->submitted && th_now_ns() < end && nc_poll(&c, 10) >= 0)
		;
	l->acks = c.acks;
	l->rejects = c.rejects;
	nc_close(&c);
	return NULL;
}

static void load_start(struct loader *ls, atomic_bool *stop, uint64_t total)
{
	atomic_store(stop, false);
	for (unsigned i = 0; i < BENCH_CLIENTS; i++) {
		ls[i] = (struct loader){ .idx = i, .rate = (double)BENCH_RATE / BENCH_CLIENTS, .stop = stop,
					 .limit = total ? total / BENCH_CLIENTS : 0 };
		if (pthread_create(&ls[i].t, NULL, loader_run, &ls[i]))
			fail("cannot start a client thread");
	}
}

static uint64_t load_join(struct loader *ls, atomic_bool *stop)
{
	atomic_store(stop, true);
	uint64_t acks = 0;
	for (unsigned i = 0; i < BENCH_CLIENTS; i++) {
		pthread_join(ls[i].t, NULL);
		if (ls[i].error < 0) {
			snprintf(err, sizeof(err), "client %u: %s", i, strerror(-ls[i].error));
			fail("a client lost its daemon");
		}
		if (ls[i].rejects) {
			snprintf(err, sizeof(err), "client %u: %llu refused, e.g. %s", i, (unsigned long long)ls[i].rejects,
				 ls[i].reject);
			fail("the host refused appends");
		}
		acks += ls[i].acks;
	}
	return acks;
}

int main(void)
{
	if (th_daemon_prepare(&A) < 0 || th_daemon_prepare(&B) < 0)
		return 1;
	char conf[PATH_MAX + 16];
	snprintf(conf, sizeof(conf), "%s/thetad.conf", A.dir);
	FILE *f = fopen(conf, "w");
	if (!f || fputs(BENCH_CONF, f) < 0 || fclose(f) != 0)
		fail("cannot write the host's config");
	const char *aargs[] = { "--config", conf, NULL };
	if (th_daemon_spawn(&A, aargs, NULL, NULL, 0) < 0 || th_daemon_wait_notify(&A, "READY=1", 10000) < 0)
		fail("the host did not start");
	if (th_daemon_spawn(&B, NULL, NULL, NULL, 0) < 0 || th_daemon_wait_notify(&B, "READY=1", 10000) < 0)
		fail("the member did not start");
	if (ctl(&A, (const char *const[]){ "session", "host", "--name", "bench", "--json", NULL }))
		fail("session host failed");
	struct json_object *o = json_tokener_parse(out), *v;
	char id[40] = "";
	if (o && json_object_object_get_ex(o, "session", &v))
		snprintf(id, sizeof(id), "%s", json_object_get_string(v));
	json_object_put(o);
	if (ctl(&A, (const char *const[]){ "invite", "bench", "--role", "editor", "--host", "127.0.0.1", NULL }))
		fail("invite failed");
	char link[700];
	snprintf(link, sizeof(link), "%.*s", (int)strcspn(out, "\n"), out);

	/* idle */
	th_sleep_ns(BENCH_IDLE_NS);
	struct window idle_a = recent(&A), idle_b = recent(&B);
	printf("# idle: host %llu wake-ups, member %llu in the last window\n", (unsigned long long)idle_a.wakeups,
	       (unsigned long long)idle_b.wakeups);

	/* fill */
	struct loader ls[BENCH_CLIENTS];
	atomic_bool stop;
	uint64_t t0 = th_now_ns();
	load_start(ls, &stop, BENCH_PREFILL);
	for (unsigned i = 0; i < BENCH_CLIENTS; i++)
		pthread_join(ls[i].t, NULL);
	uint64_t filled = 0;
	for (unsigned i = 0; i < BENCH_CLIENTS; i++) {
		if (ls[i].error < 0 || ls[i].rejects)
			fail("filling the log failed");
		filled += ls[i].acks;
	}
	long long have = entries(&A, id);
	printf("# filled the host's log with %llu entries in %.1f s (%lld listed)\n", (unsigned long long)filled,
	       (double)(th_now_ns() - t0) / 1e9, have);

	/* load + catch-up */
	struct window load_a = { 0 }, load_b = { 0 }, follow_a = { 0 }, follow_b = { 0 };
	uint64_t tl = th_now_ns(), caught_ns = 0;
	load_start(ls, &stop, 0);
	if (ctl(&B, (const char *const[]){ "session", "join", link, "--no-wait", NULL }))
		fail("join failed");
	uint64_t next_sample = tl + BENCH_WINDOW_NS;
	unsigned follow_samples = 0;
	struct sched_times sched_a0 = { 0 }, sched_b0 = { 0 };
	for (;;) {
		uint64_t now = th_now_ns();
		if (!caught_ns && entries(&B, id) >= have)
			caught_ns = th_now_ns();
		if (now >= next_sample) {
			struct window wa = recent(&A), wb = recent(&B);
			worst(&load_a, wa);
			worst(&load_b, wb);
			/* Sampled two windows after the catch-up ended, the window
			 * reported began after it: the live appends alone. */
			if (caught_ns && now >= caught_ns + 2 * BENCH_WINDOW_NS) {
				worst(&follow_a, wa);
				worst(&follow_b, wb);
				if (!follow_samples++) {
					sched_a0 = sched_of(A.pid);
					sched_b0 = sched_of(B.pid);
				}
			}
			next_sample += BENCH_SAMPLE_NS;
		}
		if (caught_ns && now - tl >= BENCH_LOAD_MIN_NS && follow_samples >= 2)
			break;
		if (now - tl > BENCH_PHASE_MAX_NS)
			fail("the member did not catch up in 300 s");
		th_sleep_ns(50 * TH_NS_PER_MS);
	}
	struct sched_times sched_a1 = sched_of(A.pid), sched_b1 = sched_of(B.pid);
	uint64_t tstop = th_now_ns();
	uint64_t acks = load_join(ls, &stop);
	double rate = (double)acks / ((double)(tstop - tl) / 1e9);
	printf("# load: %llu appends in %.1f s; the member caught up %lld entries in %.1f s\n",
	       (unsigned long long)acks, (double)(tstop - tl) / 1e9, have, (double)(caught_ns - tl) / 1e9);

	th_bench_figure("loop.stall_p999_us.idle.host", (double)idle_a.p999_us, "us");
	th_bench_figure("loop.stall_max_us.idle.host", (double)idle_a.max_us, "us");
	th_bench_figure("loop.stall_p999_us.idle.member", (double)idle_b.p999_us, "us");
	th_bench_figure("loop.stall_max_us.idle.member", (double)idle_b.max_us, "us");
	th_bench_figure("loop.stall_p999_us.load.host", (double)load_a.p999_us, "us");
	th_bench_figure("loop.stall_max_us.load.host", (double)load_a.max_us, "us");
	th_bench_figure("loop.stall_p999_us.load.member", (double)load_b.p999_us, "us");
	th_bench_figure("loop.stall_max_us.load.member", (double)load_b.max_us, "us");
	th_bench_figure("loop.stall_p999_us.follow.host", (double)follow_a.p999_us, "us");
	th_bench_figure("loop.stall_max_us.follow.host", (double)follow_a.max_us, "us");
	th_bench_figure("loop.stall_p999_us.follow.member", (double)follow_b.p999_us, "us");
	th_bench_figure("loop.stall_max_us.follow.member", (double)follow_b.max_us, "us");
	double run_a, wait_a, run_b, wait_b;
	sched_rates(sched_a0, sched_a1, &run_a, &wait_a);
	sched_rates(sched_b0, sched_b1, &run_b, &wait_b);
	th_bench_figure("loop.follow.host_loop_cpu_ms_per_s", run_a, "ms/s");
	th_bench_figure("loop.follow.host_loop_runqueue_wait_ms_per_s", wait_a, "ms/s");
	th_bench_figure("loop.follow.member_loop_cpu_ms_per_s", run_b, "ms/s");
	th_bench_figure("loop.follow.member_loop_runqueue_wait_ms_per_s", wait_b, "ms/s");
	th_bench_figure("loop.load.appends_per_s", rate, "1/s");
	th_bench_figure("loop.load.catchup_s", (double)(caught_ns - tl) / 1e9, "s");
	th_bench_figure("loop.load.catchup_entries", (double)have, "entries");
	th_daemon_cleanup(&A);
	th_daemon_cleanup(&B);
	return 0;
}
