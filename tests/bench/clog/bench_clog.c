/* Command-log benchmarks (make bench-clog). Prints JSON lines:
 *   clog.baseline.ed25519_sign_per_s    Ed25519 signatures per second
 *   clog.baseline.ed25519_verify_per_s  Ed25519 verifications per second
 *   clog.baseline.fsync_p99_us          p99 of a 256-byte append + fdatasync
 *   clog.append_durable_per_s           local entries signed, written, synced
 *                                       and acknowledged per second (goal >= 4x sign)
 *   clog.integrate_remote_per_s         remote entries verified, ordered,
 *                                       persisted per second (goal >= 3x verify)
 *   clog.ack_latency_p99_us             submit -> durable ack, one client
 *                                       (goal <= 1.5x fsync p99)
 *   clog.worker.append_durable_per_s    the same with the write and sync on a
 *   clog.worker.ack_latency_p99_us      clog_worker, results through its fd (thetad)
 *   clog.ack_latency_p50_us, clog.worker.ack_latency_p50_us  the medians
 * plus the three ratios. Files go to a temporary directory under $TMPDIR
 * (default /var/tmp: a real disk, not tmpfs). Load model and sizes are
 * printed on '#' lines. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clog/clog.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_logtest.h"
#include "th_time.h"

#define AUTHORS 16
#define PER_AUTHOR 64            /* queued per author between two flushes */
#define PAYLOAD 64
#define RUN_NS (1500 * TH_NS_PER_MS)
#define LAT_SAMPLES 1000

static double p99_us(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), th_bench_cmp_u64);
	return (double)v[(n * 99) / 100] / 1000.0;
}

static double bench_sign(void)
{
	struct lt_author a;
	uint8_t h[32] = { 0 }, sig[64];
	uint64_t n = 0, t0 = th_now_ns(), t;
	lt_author_init(&a, 1);
	do {
		for (int i = 0; i < 64; i++, n++) {
			h[0] = (uint8_t)n;
			th_logrec_sign(h, a.kp.sk, sig);
		}
	} while ((t = th_now_ns()) - t0 < RUN_NS / 2);
	return (double)n * 1e9 / (double)(t - t0);
}

static double bench_verify(void)
{
	struct lt_author a;
	uint8_t h[32] = { 0 }, sig[64];
	uint64_t n = 0, t0, t;
	int bad = 0;
	lt_author_init(&a, 1);
	th_logrec_sign(h, a.kp.sk, sig);
	t0 = th_now_ns();
	do {
		for (int i = 0; i < 64; i++, n++)
			bad |= th_logrec_verify(h, a.kp.pk, sig);
	} while ((t = th_now_ns()) - t0 < RUN_NS / 2);
	if (bad)
		fprintf(stderr, "verify failed\n");
	return (double)n * 1e9 / (double)(t - t0);
}

static double bench_fsync(const char *dir)
{
	char path[512];
	uint8_t rec[256];
	uint64_t lat[LAT_SAMPLES];
	snprintf(path, sizeof(path), "%s/fsync.bin", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(rec, 0x5a, sizeof(rec));
	for (int i = 0; i < LAT_SAMPLES; i++) {
		uint64_t t0 = th_now_ns();
		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec) || fdatasync(fd) < 0)
			return -1;
		lat[i] = th_now_ns() - t0;
	}
	close(fd);
	unlink(path);
	return p99_us(lat, LAT_SAMPLES);
}

static const struct clog_config bench_cfg = {
	.rate_per_s = 1000000000, .rate_burst = 1000000000, .pending_per_source = 65536,
};

struct acks {
	uint64_t n;
	uint64_t when;
};

static void ack(void *ctx, int status, const struct clog_id *id)
{
	struct acks *a = ctx;
	if (status == 0) {
		a->n++;
		a->when = th_now_ns();
	}
}

/* The loop's side of the worker: runs what finished, waiting up to ms. */
static void pump(struct clog_worker *w, int ms)
{
	struct pollfd p = { .fd = clog_worker_fd(w), .events = POLLIN };
	if (poll(&p, 1, ms) == 1)
		clog_worker_poll(w);
}

/* With a worker (w), as thetad runs it: the loop queues and hands batches
 * over while the previous one syncs; without, flush writes and syncs. */
static double bench_append(const char *dir, double *batch_out, struct clog_worker *w)
{
	char path[512];
	struct clog *c;
	struct lt_author au[AUTHORS];
	uint8_t payload[PAYLOAD];
	struct acks acks = { 0 };
	uint64_t req = 0, batches = 0;
	struct clog_config cfg = bench_cfg;
	cfg.worker = w;
	snprintf(path, sizeof(path), "%s/append%s", dir, w ? "-worker" : "");
	if (clog_open(path, &cfg, NULL, NULL, &c, NULL) < 0)
		return -1;
	for (int i = 0; i < AUTHORS; i++)
		lt_author_init(&au[i], (uint8_t)(0x40 + i));
	memset(payload, 7, sizeof(payload));
	uint64_t t0 = th_now_ns(), t;
	do {
		struct clog_stats st;
		clog_get_stats(c, &st);
		if (w && st.pending + AUTHORS * PER_AUTHOR > CLOG_PENDING_MAX / 2) {
			pump(w, 1000); /* the queue is deep enough: wait for the disk */
			continue;
		}
		for (int k = 0; k < PER_AUTHOR; k++) {
			for (int i = 0; i < AUTHORS; i++) {
				int why;
				/* With a request id, as every client command has:
				 * the exactly-once lookup and index are measured. */
				struct clog_submit s = {
					.source = (uint32_t)i, .role = TH_ROLE_EDITOR, .key = &au[i].kp, .req_seq = ++req,
					.req = req * 0x9e3779b97f4a7c15ull | 1,
					.type = TH_CMD_COMPONENT_WRITE, .scope_kind = TH_SCOPE_ENTITY,
					.scope_id = (uint64_t)(i * 1000 + k), .base = clog_lamport(c), .payload = payload,
					.payload_len = PAYLOAD, .done = ack, .ctx = &acks,
				};
				if (clog_submit_local(c, &s, th_now_ns(), NULL, &why) < 0) {
					fprintf(stderr, "submit: %s\n", clog_reason_str(why));
					return -1;
				}
			}
		}
		if (clog_flush(c, th_now_ns()) < 0)
			return -1;
		if (w)
			pump(w, 0);
	} while ((t = th_now_ns()) - t0 < RUN_NS);
	if (w && clog_drain(c) < 0)
		return -1;
	struct clog_stats st;
	clog_get_stats(c, &st);
	batches = st.batches;
	clog_close(&c);
	*batch_out = (double)acks.n / (double)batches;
	return (double)acks.n * 1e9 / (double)(acks.when - t0);
}

/* Remote: another daemon's author, entries signed once per 256 (its own
 * group commit), handed over 256 per call, flushed per call. */
#define REMOTE_TOTAL 65536
#define REMOTE_CALL 256

static int role_editor(void *user, const uint8_t *pk) { return TH_ROLE_EDITOR; }

static double bench_integrate(const char *dir)
{
	const struct clog_callbacks cb = { .role_of = role_editor };
	char path[512];
	struct clog *c;
	struct lt_author r;
	uint8_t payload[PAYLOAD];
	struct th_logrec_entry *es = malloc(REMOTE_TOTAL * sizeof(*es));
	uint8_t h[32];
	snprintf(path, sizeof(path), "%s/integrate", dir);
	if (!es || clog_open(path, &bench_cfg, &cb, NULL, &c, NULL) < 0)
		return -1;
	lt_author_init(&r, 0x77);
	memset(payload, 9, sizeof(payload));
	for (int i = 0; i < REMOTE_TOTAL; i++)
		lt_entry(&r, (uint64_t)i + 1, (uint64_t)i, payload, PAYLOAD, (i % REMOTE_CALL) == REMOTE_CALL - 1,
			 &es[i], h);
	uint64_t n = 0, t0 = th_now_ns();
	for (int i = 0; i < REMOTE_TOTAL; i += REMOTE_CALL) {
		int k = clog_integrate_remote(c, 1, &es[i], REMOTE_CALL, th_now_ns());
		if (k != REMOTE_CALL) {
			fprintf(stderr, "integrate refused entries (%d)\n", k);
			return -1;
		}
		int f = clog_flush(c, th_now_ns());
		if (f < 0)
			return -1;
		n += (uint64_t)f;
	}
	uint64_t t = th_now_ns() - t0;
	clog_close(&c);
	free(es);
	return (double)n * 1e9 / (double)t;
}

/* The same stream through clog_integrate_remote_async in groups of
 * CLOG_REMOTE_BATCH_MAX (what a catch-up hands over at most): the
 * signatures are checked on the worker, and what the loop spends per call
 * (copying a part, or admitting the verified group) is timed. Returns
 * entries per second; *call_max_us: the longest call. */
static double bench_integrate_async(const char *dir, struct clog_worker *w, double *call_max_us,
				    double *admit_p50_us)
{
	const struct clog_callbacks cb = { .role_of = role_editor };
	const size_t group = CLOG_REMOTE_BATCH_MAX;
	enum { GROUPS = REMOTE_TOTAL / CLOG_REMOTE_BATCH_MAX };
	char path[512];
	struct clog *c;
	struct lt_author r;
	uint8_t payload[PAYLOAD];
	uint64_t admit[GROUPS], longest = 0;
	struct th_logrec_entry *es = malloc(REMOTE_TOTAL * sizeof(*es));
	uint8_t h[32];
	struct clog_config cfg = bench_cfg;
	cfg.worker = w;
	snprintf(path, sizeof(path), "%s/integrate-async", dir);
	if (!es || clog_open(path, &cfg, &cb, NULL, &c, NULL) < 0)
		return -1;
	lt_author_init(&r, 0x78);
	memset(payload, 9, sizeof(payload));
	for (int i = 0; i < REMOTE_TOTAL; i++)
		lt_entry(&r, (uint64_t)i + 1, (uint64_t)i, payload, PAYLOAD, (i % REMOTE_CALL) == REMOTE_CALL - 1,
			 &es[i], h);
	uint64_t n = 0, t0 = th_now_ns();
	for (int g = 0; g < GROUPS; g++) {
		int k;
		for (;;) {
			uint64_t a = th_now_ns();
			k = clog_integrate_remote_async(c, 1, &es[(size_t)g * group], group, a);
			uint64_t d = th_now_ns() - a;
			longest = d > longest ? d : longest;
			if (k != -EINPROGRESS) {
				admit[g] = d;
				break;
			}
			pump(w, 1000);
		}
		if (k != (int)group) {
			fprintf(stderr, "integrate refused entries (%d)\n", k);
			return -1;
		}
		if (clog_drain(c) < 0)
			return -1;
		n += group;
	}
	uint64_t t = th_now_ns() - t0;
	clog_close(&c);
	free(es);
	qsort(admit, GROUPS, sizeof(admit[0]), th_bench_cmp_u64);
	*admit_p50_us = (double)admit[GROUPS / 2] / 1000.0;
	*call_max_us = (double)longest / 1000.0;
	return (double)n * 1e9 / (double)t;
}

static double bench_ack_latency(const char *dir, struct clog_worker *w, double *p50_out)
{
	char path[512];
	struct clog *c;
	struct lt_author a;
	uint8_t payload[PAYLOAD];
	uint64_t lat[LAT_SAMPLES];
	struct acks acks = { 0 };
	struct clog_config cfg = bench_cfg;
	cfg.worker = w;
	snprintf(path, sizeof(path), "%s/latency%s", dir, w ? "-worker" : "");
	if (clog_open(path, &cfg, NULL, NULL, &c, NULL) < 0)
		return -1;
	lt_author_init(&a, 0x55);
	memset(payload, 3, sizeof(payload));
	for (int i = 0; i < LAT_SAMPLES; i++) {
		int why;
		struct clog_submit s = {
			.source = 1, .role = TH_ROLE_EDITOR, .key = &a.kp, .req_seq = (uint64_t)i + 1, .req = (uint64_t)i + 1,
			.type = TH_CMD_COMPONENT_WRITE, .scope_kind = TH_SCOPE_ENTITY, .scope_id = 5,
			.base = clog_lamport(c), .payload = payload, .payload_len = PAYLOAD, .done = ack, .ctx = &acks,
		};
		uint64_t t0 = th_now_ns(), before = acks.n;
		if (clog_submit_local(c, &s, t0, NULL, &why) < 0 || clog_flush(c, th_now_ns()) != (w ? 0 : 1))
			return -1;
		while (acks.n == before) /* with a worker: the ack comes through the fd */
			pump(w, 1000);
		lat[i] = acks.when - t0;
	}
	clog_close(&c);
	double p99 = p99_us(lat, LAT_SAMPLES); /* sorts */
	*p50_out = (double)lat[LAT_SAMPLES / 2] / 1000.0;
	return p99;
}

int main(void)
{
	char dir[256];
	const char *t = getenv("TMPDIR");
	if (sodium_init() < 0)
		return 1;
	if (snprintf(dir, sizeof(dir), "%s/theta-bench-clog-XXXXXX", t && *t ? t : "/var/tmp") >= (int)sizeof(dir))
		return 1;
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	printf("# files in %s; %d authors x %d entries per flush, %d-byte payloads\n", dir, AUTHORS, PER_AUTHOR,
	       PAYLOAD);
	double sign = bench_sign();
	double verify = bench_verify();
	double fsync_p99 = bench_fsync(dir);
	double batch = 0, wbatch = 0;
	struct clog_worker *w = NULL;
	if (clog_worker_create(&w) < 0)
		return 1;
	double append = bench_append(dir, &batch, NULL);
	double wappend = bench_append(dir, &wbatch, w);
	double integ = bench_integrate(dir);
	double async_call_max = 0, async_admit_p50 = 0;
	double integ_async = bench_integrate_async(dir, w, &async_call_max, &async_admit_p50);
	double ack_p50, wack_p50;
	double ack_p99 = bench_ack_latency(dir, NULL, &ack_p50);
	double wack_p99 = bench_ack_latency(dir, w, &wack_p50);
	clog_worker_destroy(&w);
	th_rm_rf(dir);
	if (fsync_p99 < 0 || append < 0 || wappend < 0 || integ < 0 || integ_async < 0 || ack_p99 < 0 ||
	    wack_p99 < 0) {
		fprintf(stderr, "benchmark failed\n");
		return 1;
	}
	printf("# append: %.0f entries per group commit on average (%.0f with the worker)\n", batch, wbatch);
	th_bench_figure("clog.baseline.ed25519_sign_per_s", sign, "1/s");
	th_bench_figure("clog.baseline.ed25519_verify_per_s", verify, "1/s");
	th_bench_figure("clog.baseline.fsync_p99_us", fsync_p99, "us");
	th_bench_figure("clog.append_durable_per_s", append, "1/s");
	th_bench_figure("clog.integrate_remote_per_s", integ, "1/s");
	th_bench_figure("clog.worker.integrate_remote_per_s", integ_async, "1/s");
	th_bench_figure("clog.worker.integrate_call_max_us", async_call_max, "us");
	th_bench_figure("clog.worker.integrate_admit_p50_us", async_admit_p50, "us");
	th_bench_figure("clog.ack_latency_p99_us", ack_p99, "us");
	th_bench_figure("clog.worker.append_durable_per_s", wappend, "1/s");
	th_bench_figure("clog.worker.ack_latency_p99_us", wack_p99, "us");
	th_bench_figure("clog.ack_latency_p50_us", ack_p50, "us");
	th_bench_figure("clog.worker.ack_latency_p50_us", wack_p50, "us");
	th_bench_figure("clog.append_vs_sign_ratio", append / sign, "x");
	th_bench_figure("clog.integrate_vs_verify_ratio", integ / verify, "x");
	th_bench_figure("clog.ack_vs_fsync_p99_ratio", ack_p99 / fsync_p99, "x");
	printf("# goals: append >= 4x sign: %s; integrate >= 3x verify: %s; ack p99 <= 1.5x fsync p99: %s\n",
	       append >= 4 * sign ? "met" : "NOT met", integ >= 3 * verify ? "met" : "NOT met",
	       ack_p99 <= 1.5 * fsync_p99 ? "met" : "NOT met");
	return 0;
}
