/* Edit visibility across daemons on loopback, with the real binaries.
 *
 * Daemon A hosts a session, daemon B joins it (both thetad processes with
 * their own state dirs under $TMPDIR, default /tmp, ephemeral UDP ports).
 * One scripted client on B submits a component.write; the time until a
 * client on A receives it as an EVENT is one sample:
 *   client B -> ring -> daemon B signs, group commit (fdatasync) ->
 *   QUIC -> daemon A verifies, orders, group commit (fdatasync) -> ring ->
 *   client A.
 * Edits go one at a time, BENCH_GAP_MS apart (below the per-author rate
 * limit); BENCH_WARMUP are discarded, BENCH_SAMPLES count.
 *
 * quic.edit_visible_p50_us, quic.edit_visible_p99_us (goal p99 <= 3 ms),
 * quic.edit_visible_max_us. */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include "net_client.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"

#define BENCH_WARMUP 20
#define BENCH_SAMPLES 500
#define BENCH_GAP_MS 6
/* Limits that only catch a hang: on a loaded machine a slow edit is a
 * figure, not a failure. */
#define BENCH_EDIT_TIMEOUT_NS (30 * TH_NS_PER_S)
#define BENCH_LINK_TIMEOUT_NS (60 * TH_NS_PER_S)
#define BENCH_LINK_POLL_NS    (20 * TH_NS_PER_MS)

static char out[65536], err[16384];

static int ctl(struct th_daemon_proc *d, const char *const *args)
{
	return th_ctl(d, args, out, sizeof(out), err, sizeof(err));
}

struct watch {
	uint64_t want; /* payload marker we wait for */
	bool seen;
};

static void on_event(void *ud, const struct th_logrec_entry *e)
{
	struct watch *w = ud;
	uint64_t v;
	const uint8_t *b = nc_edit_bytes(e);
	if (b) {
		memcpy(&v, b, 8);
		if (v == w->want)
			w->seen = true;
	}
}

static void fail(const char *what, struct th_daemon_proc *a, struct th_daemon_proc *b)
{
	fprintf(stderr, "bench_edit: %s\n%s\n--- host log:\n%s\n", what, err, a ? th_daemon_log(a) : "");
	if (b)
		fprintf(stderr, "--- joiner log:\n%s\n", th_daemon_log(b));
	if (a)
		th_daemon_cleanup(a);
	if (b)
		th_daemon_cleanup(b);
	exit(1);
}

/* `session join` returns when the join starts; the link comes up after the
 * QUIC handshake and the host's ACK. Timing before that measured the join,
 * and on a loaded machine the first edit waited out its limit. */
static bool link_active(struct th_daemon_proc *d)
{
	if (ctl(d, (const char *const[]){ "peers", "--json", NULL }))
		return false;
	struct json_object *o = json_tokener_parse(out), *arr, *v;
	bool up = false;
	if (o && json_object_object_get_ex(o, "peers", &arr))
		for (size_t k = 0; k < json_object_array_length(arr); k++)
			if (json_object_object_get_ex(json_object_array_get_idx(arr, k), "state", &v) &&
			    !strcmp(json_object_get_string(v), "active"))
				up = true;
	json_object_put(o);
	return up;
}

int main(void)
{
	static const char *const args[] = { "--port", "0", NULL };
	struct th_daemon_proc a, b;
	if (th_daemon_start(&a, args) < 0)
		return 1;
	if (th_daemon_start(&b, args) < 0) {
		th_daemon_cleanup(&a);
		return 1;
	}
	if (ctl(&a, (const char *const[]){ "session", "host", "--name", "bench", NULL }))
		fail("session host failed", &a, &b);
	if (ctl(&a, (const char *const[]){ "invite", "bench", "--role", "editor", "--host", "127.0.0.1", NULL }))
		fail("invite failed", &a, &b);
	char link[600];
	snprintf(link, sizeof(link), "%.*s", (int)strcspn(out, "\n"), out);
	if (ctl(&b, (const char *const[]){ "session", "join", link, NULL }))
		fail("join failed", &a, &b);
	for (uint64_t t0 = th_now_ns(); !link_active(&b); th_sleep_ns(BENCH_LINK_POLL_NS))
		if (th_now_ns() - t0 > BENCH_LINK_TIMEOUT_NS)
			fail("the member's link to the host did not come up in 60 s", &a, &b);

	struct nc_client ca, cb;
	struct watch w = { 0 };
	if (nc_connect(&ca, a.runtime_dir, 5000) < 0 || nc_connect(&cb, b.runtime_dir, 5000) < 0)
		fail("client connect failed", &a, &b);
	ca.on_event = on_event;
	ca.ud = &w;

	uint64_t *lat = calloc(BENCH_SAMPLES, sizeof(uint64_t));
	int n = 0;
	for (int i = 0; i < BENCH_WARMUP + BENCH_SAMPLES; i++) {
		uint64_t marker = 0x7468657461000000ull + (uint64_t)i;
		w.want = marker;
		w.seen = false;
		uint64_t t0 = th_now_ns();
		if (nc_submit(&cb, 42, &marker, sizeof(marker)) < 0)
			fail("submit failed", &a, &b);
		while (!w.seen) {
			if (nc_poll(&ca, 1) < 0)
				fail("client A lost its daemon", &a, &b);
			nc_poll(&cb, 0);
			if (th_now_ns() - t0 > BENCH_EDIT_TIMEOUT_NS)
				fail("an edit did not arrive within 30 s", &a, &b);
		}
		uint64_t dt = th_now_ns() - t0;
		if (i >= BENCH_WARMUP)
			lat[n++] = dt;
		if (cb.rejects)
			fail(cb.last_reject, &a, &b);
		uint64_t until = th_now_ns() + BENCH_GAP_MS * TH_NS_PER_MS;
		while (th_now_ns() < until)
			nc_poll(&cb, 1);
	}
	qsort(lat, (size_t)n, sizeof(uint64_t), th_bench_cmp_u64);
	struct statfs sf;
	const char *fs = statfs(a.state_dir, &sf) == 0 && sf.f_type == 0x01021994 ? "tmpfs" : "disk";
	printf("# %d edits, client on B -> client on A, state dirs on %s (%s)\n", n, a.state_dir, fs);
	printf("{\"name\": \"quic.edit_visible_p50_us\", \"value\": %.1f, \"unit\": \"us\"}\n", lat[n / 2] / 1e3);
	printf("{\"name\": \"quic.edit_visible_p99_us\", \"value\": %.1f, \"unit\": \"us\"}\n",
	       lat[(size_t)(n * 99) / 100] / 1e3);
	printf("{\"name\": \"quic.edit_visible_max_us\", \"value\": %.1f, \"unit\": \"us\"}\n", lat[n - 1] / 1e3);
	free(lat);
	nc_close(&ca);
	nc_close(&cb);
	th_daemon_cleanup(&a);
	th_daemon_cleanup(&b);
	return 0;
}
