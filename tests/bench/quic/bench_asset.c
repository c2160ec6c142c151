/* Asset transfer between two daemons on loopback, with the real binaries.
 *
 * Daemon A hosts a session, daemon B joins it (state dirs under $TMPDIR,
 * default /tmp). A file of BENCH_ASSET_MB MiB (env, default 128) of random
 * bytes is put on A with `thetactl asset put` (thetactl passes the open
 * file; A reads, hashes, stores and fdatasyncs it), then B fetches it over
 * QUIC (64 KiB CHUNKs, appended to its .part, hashed, fdatasync'ed,
 * renamed), then `thetactl asset get` copies it out of B's store (B writes
 * the file thetactl passed). Each phase is timed from the outside; B's
 * completion is polled every 5 ms.
 *
 * The baseline in the same run: a second file of the same size put with
 * `asset put --stream` (thetactl hashes it and sends it base64 in JSON
 * chunks, the way before descriptors were passed) and got back with `asset
 * get --stream`, both on A in a second session without members.
 *
 * quic.asset_put_mb_per_s        thetactl -> daemon A (the file passed)
 * quic.asset_put_stream_mb_per_s thetactl -> daemon A (base64 through control.sock)
 * quic.asset_put_speedup         the two above (goal >= 10)
 * quic.asset_transfer_mb_per_s   A -> B over QUIC, until B has it verified
 * quic.asset_get_mb_per_s        daemon B -> file (the file passed)
 * quic.asset_get_stream_mb_per_s daemon A -> file (base64 through control.sock)
 * quic.asset_get_speedup         the two above (goal >= 10) */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"

/* A put or get of 256 MiB takes ~10 s here unloaded; th_ctl's 10 s limit
 * killed it on a loaded machine. Generous: a benchmark must not fail for
 * being slow, it reports how slow. */
#define BENCH_BULK_CTL_TIMEOUT_MS (600 * 1000)

static char out[1 << 16], err[16384];

static int ctl(struct th_daemon_proc *d, const char *const *args)
{
	return th_ctl(d, args, out, sizeof(out), err, sizeof(err));
}

static void fail(const char *what, struct th_daemon_proc *a, struct th_daemon_proc *b)
{
	fprintf(stderr, "bench_asset: %s\n%s\n--- host log:\n%s\n", what, err, th_daemon_log(a));
	fprintf(stderr, "--- joiner log:\n%s\n", th_daemon_log(b));
	th_daemon_cleanup(a);
	th_daemon_cleanup(b);
	exit(1);
}

static bool complete_on(struct th_daemon_proc *d)
{
	if (ctl(d, (const char *const[]){ "assets", "--session", "bench", "--json", NULL }))
		return false;
	return strstr(out, "\"complete\"") != NULL;
}

/* mb MiB of xorshift bytes from seed into path. */
static void make_file(const char *path, unsigned mb, uint64_t x, struct th_daemon_proc *a, struct th_daemon_proc *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	uint8_t *buf = malloc(1 << 20);
	if (fd < 0 || !buf)
		fail("cannot create the test file", a, b);
	for (unsigned i = 0; i < mb; i++) {
		for (size_t k = 0; k < (1u << 20); k += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(buf + k, &x, 8);
		}
		if (write(fd, buf, 1 << 20) != 1 << 20)
			fail("cannot write the test file", a, b);
	}
	free(buf);
	close(fd);
}

/* The hash in `asset put`'s line "asset HEX (...". */
static void put_hash(char hash[80], struct th_daemon_proc *a, struct th_daemon_proc *b)
{
	if (sscanf(out, "asset %64[0-9a-f]", hash) != 1)
		fail("no hash in asset put's output", a, b);
}

int main(void)
{
	const char *e = getenv("BENCH_ASSET_MB");
	unsigned mb = e && atoi(e) > 0 && atoi(e) <= 256 ? (unsigned)atoi(e) : 128;
	size_t size = (size_t)mb << 20;
	struct th_daemon_proc a, b;
	if (th_daemon_start(&a, NULL) < 0)
		return 1;
	if (th_daemon_start(&b, NULL) < 0) {
		th_daemon_cleanup(&a);
		return 1;
	}
	char link[700], file[256], got[256], sfile[256], sgot[256];
	if (ctl(&a, (const char *const[]){ "session", "host", "--name", "bench", NULL }))
		fail("host failed", &a, &b);
	if (ctl(&a, (const char *const[]){ "invite", "bench", "--role", "editor", "--host", "127.0.0.1", NULL }))
		fail("invite failed", &a, &b);
	snprintf(link, sizeof(link), "%s", out);
	link[strcspn(link, "\n")] = 0;
	if (ctl(&b, (const char *const[]){ "session", "join", link, "--name", "bench", NULL }))
		fail("join failed", &a, &b);

	snprintf(file, sizeof(file), "%s/asset.bin", a.dir);
	snprintf(got, sizeof(got), "%s/asset.out", b.dir);
	snprintf(sfile, sizeof(sfile), "%s/stream.bin", a.dir);
	snprintf(sgot, sizeof(sgot), "%s/stream.out", a.dir);
	make_file(file, mb, 0x9e3779b97f4a7c15ull, &a, &b);
	make_file(sfile, mb, 0x2545f4914f6cdd1dull, &a, &b);

	uint64_t t0 = th_now_ns();
	if (th_ctl_wait(&a, BENCH_BULK_CTL_TIMEOUT_MS, (const char *const[]){ "asset", "put", file, "--session", "bench", NULL },
			out, sizeof(out), err, sizeof(err)))
		fail("asset put failed", &a, &b);
	uint64_t t1 = th_now_ns();
	while (!complete_on(&b)) {
		if (th_now_ns() - t1 > 120 * TH_NS_PER_S)
			fail("the member did not complete the asset in 120 s", &a, &b);
		th_sleep_ns(5 * TH_NS_PER_MS);
	}
	uint64_t t2 = th_now_ns();
	char hash[80];
	const char *h = strstr(out, "\"hash\"");
	if (!h || sscanf(h, "\"hash\": \"%64[0-9a-f]\"", hash) != 1)
		if (!h || sscanf(h, "\"hash\":\"%64[0-9a-f]\"", hash) != 1)
			fail("no hash in the assets listing", &a, &b);
	if (th_ctl_wait(&b, BENCH_BULK_CTL_TIMEOUT_MS, (const char *const[]){ "asset", "get", hash, got, "--session", "bench", NULL },
			out, sizeof(out), err, sizeof(err)))
		fail("asset get failed", &a, &b);
	uint64_t t3 = th_now_ns();

	/* The baseline: the same size through the JSON stream, on A, in a
	 * session of its own without members (nothing is offered on meanwhile). */
	char shash[80];
	if (ctl(&a, (const char *const[]){ "session", "host", "--name", "base", NULL }))
		fail("host of the baseline session failed", &a, &b);
	uint64_t t4 = th_now_ns();
	if (th_ctl_wait(&a, BENCH_BULK_CTL_TIMEOUT_MS,
			(const char *const[]){ "asset", "put", "--stream", sfile, "--session", "base", NULL }, out, sizeof(out),
			err, sizeof(err)))
		fail("asset put --stream failed", &a, &b);
	uint64_t t5 = th_now_ns();
	put_hash(shash, &a, &b);
	if (th_ctl_wait(&a, BENCH_BULK_CTL_TIMEOUT_MS,
			(const char *const[]){ "asset", "get", "--stream", shash, sgot, "--session", "base", NULL }, out,
			sizeof(out), err, sizeof(err)))
		fail("asset get --stream failed", &a, &b);
	uint64_t t6 = th_now_ns();

	double mbytes = (double)size / 1e6;
	double put = mbytes / ((t1 - t0) / 1e9), get = mbytes / ((t3 - t2) / 1e9);
	double sput = mbytes / ((t5 - t4) / 1e9), sget = mbytes / ((t6 - t5) / 1e9);
	printf("asset of %u MiB: put %.3f s, transfer %.3f s, get %.3f s; through the JSON stream: put %.3f s, get %.3f s\n",
	       mb, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t5 - t4) / 1e9, (t6 - t5) / 1e9);
	th_bench_figure("quic.asset_put_mb_per_s", put, "MB/s");
	th_bench_figure("quic.asset_put_stream_mb_per_s", sput, "MB/s");
	th_bench_figure_goal("quic.asset_put_speedup", put / sput, "x", ">= 10", put / sput >= 10);
	th_bench_figure("quic.asset_transfer_mb_per_s", mbytes / ((t2 - t1) / 1e9), "MB/s");
	th_bench_figure("quic.asset_get_mb_per_s", get, "MB/s");
	th_bench_figure("quic.asset_get_stream_mb_per_s", sget, "MB/s");
	th_bench_figure_goal("quic.asset_get_speedup", get / sget, "x", ">= 10", get / sget >= 10);
	th_daemon_cleanup(&a);
	th_daemon_cleanup(&b);
	return 0;
}
