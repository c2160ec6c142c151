/* The verified late join against the whole log (make bench-scene).
 *
 * Three thetad processes on loopback, state under $TMPDIR: host A hosts a
 * session and takes BENCH_ENTRIES scene edits through client.sock (mesh
 * strips, then vertex moves and Transform writes on them; A's per-author
 * bucket raised with clog.rate_per_s), folded live. Then, one after the
 * other, member B joins with checkpoints (the default) and member C with
 * THETAD_JOIN_SNAPSHOT=0 (the whole log fetched and folded). Each time is
 * from `thetactl session join` until `thetactl scene` on the member shows
 * the host's world hash (polled every BENCH_POLL_NS).
 *
 * Figures: scene.late_join_ms (B), scene.baseline.full_replay_ms (C);
 * goals: late_join_ms <= 2000 and >= 5x faster than the replay. Also
 * scene.late_join.catchup_ms (B until its log holds every entry, the
 * history in the background) and scene.late_join.speedup. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_scene.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"

#define BENCH_ENTRIES   100000u
#define BENCH_MESHES    500u
#define BENCH_QUADS     8u
#define BENCH_WINDOW    2048
#define BENCH_POLL_NS   (5 * TH_NS_PER_MS)
#define BENCH_MAX_NS    (300 * TH_NS_PER_S) /* only a hang ends a phase here */
#define GOAL_LATE_JOIN_MS 2000.0
#define GOAL_SPEEDUP    5.0
#define BENCH_CONF      "log_level = notice\n[clog]\nrate_per_s = 1000000\nrate_burst = 1000000\n"

static char out[1 << 18], err[16384];
static struct th_daemon_proc A, B, C;

static void fail(const char *what)
{
	fprintf(stderr, "bench_latejoin: %s\n%s\n--- host log:\n%s\n", what, err, th_daemon_log(&A));
	fprintf(stderr, "--- member log:\n%s\n", th_daemon_log(&B));
	fprintf(stderr, "--- replaying member log:\n%s\n", th_daemon_log(&C));
	th_daemon_cleanup(&A);
	th_daemon_cleanup(&B);
	th_daemon_cleanup(&C);
	exit(1);
}

static int ctl(struct th_daemon_proc *d, const char *const *args)
{
	return th_ctl(d, args, out, sizeof(out), err, sizeof(err));
}

/* `scene --json` field k of session id on d: its string into s[65] or its
 * number into *n; false while the daemon has no scene for it. */
static bool scene_field(struct th_daemon_proc *d, const char *id, const char *k, char s[65], uint64_t *n)
{
	if (ctl(d, (const char *const[]){ "scene", "--session", id, "--json", NULL }))
		return false;
	struct json_object *o = json_tokener_parse(out), *v;
	bool ok = o && json_object_object_get_ex(o, k, &v);
	if (ok && s)
		snprintf(s, 65, "%s", json_object_get_string(v));
	if (ok && n)
		*n = json_object_get_uint64(v);
	json_object_put(o);
	return ok;
}

static long long entries(struct th_daemon_proc *d, const char *id)
{
	return th_session_entries(d, id);
}

/* m joins through link; ns until its world hash is hash (and until its
 * log holds every entry, into *all_ns). */
static uint64_t join_until_hash(struct th_daemon_proc *m, const char *link, const char *id, const char *hash,
				uint64_t *all_ns)
{
	uint64_t t0 = th_now_ns(), matched = 0;
	if (ctl(m, (const char *const[]){ "session", "join", link, "--no-wait", NULL }))
		fail("join failed");
	char h[65];
	while (!matched) {
		if (scene_field(m, id, "world_hash", h, NULL) && !strcmp(h, hash))
			matched = th_now_ns() - t0;
		else if (th_now_ns() - t0 > BENCH_MAX_NS)
			fail("the member's scene never reached the host's world hash");
		else
			th_sleep_ns(BENCH_POLL_NS);
	}
	while (entries(m, id) < (long long)BENCH_ENTRIES) {
		if (th_now_ns() - t0 > BENCH_MAX_NS)
			fail("the member did not get the whole log");
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	*all_ns = th_now_ns() - t0;
	return matched;
}

int main(void)
{
	if (th_daemon_prepare(&A) < 0 || th_daemon_prepare(&B) < 0 || th_daemon_prepare(&C) < 0)
		return 1;
	char conf[PATH_MAX + 16];
	snprintf(conf, sizeof(conf), "%s/thetad.conf", A.dir);
	FILE *f = fopen(conf, "w");
	if (!f || fputs(BENCH_CONF, f) < 0 || fclose(f) != 0)
		fail("cannot write the host's config");
	const char *aargs[] = { "--config", conf, NULL };
	const char *off[] = { "THETAD_JOIN_SNAPSHOT=0", NULL };
	if (th_daemon_spawn(&A, aargs, NULL, NULL, 0) < 0 || th_daemon_wait_notify(&A, "READY=1", 10000) < 0)
		fail("the host did not start");
	if (th_daemon_spawn(&B, NULL, NULL, NULL, 0) < 0 || th_daemon_wait_notify(&B, "READY=1", 10000) < 0)
		fail("the member did not start");
	if (th_daemon_spawn(&C, NULL, off, NULL, 0) < 0 || th_daemon_wait_notify(&C, "READY=1", 10000) < 0)
		fail("the replaying member did not start");
	if (ctl(&A, (const char *const[]){ "session", "host", "--name", "bench", "--json", NULL }))
		fail("session host failed");
	struct json_object *o = json_tokener_parse(out), *v;
	char id[40] = "";
	if (o && json_object_object_get_ex(o, "session", &v))
		snprintf(id, sizeof(id), "%s", json_object_get_string(v));
	json_object_put(o);

	uint64_t t0 = th_now_ns();
	int64_t refused = ncs_history(A.runtime_dir, BENCH_MESHES, BENCH_QUADS, BENCH_ENTRIES, BENCH_WINDOW,
				      (int)(BENCH_MAX_NS / TH_NS_PER_MS));
	if (refused != 0) {
		snprintf(err, sizeof(err), "%lld", (long long)refused);
		fail("the history was not taken whole");
	}
	char hash[65] = "";
	uint64_t pos = 0;
	while (!scene_field(&A, id, "log_position", NULL, &pos) || pos < BENCH_ENTRIES) {
		if (th_now_ns() - t0 > BENCH_MAX_NS)
			fail("the host's scene did not fold the history");
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	if (!scene_field(&A, id, "world_hash", hash, NULL))
		fail("no world hash on the host");
	uint64_t faces = 0;
	scene_field(&A, id, "faces", NULL, &faces);
	printf("# host: %u entries (%u meshes, %llu faces) in %.1f s, world hash %.16s...\n", BENCH_ENTRIES,
	       BENCH_MESHES, (unsigned long long)faces, (double)(th_now_ns() - t0) / 1e9, hash);

	char link[700];
	if (ctl(&A, (const char *const[]){ "invite", "bench", "--role", "editor", "--host", "127.0.0.1", NULL }))
		fail("invite failed");
	snprintf(link, sizeof(link), "%.*s", (int)strcspn(out, "\n"), out);
	uint64_t b_all, c_all;
	uint64_t late = join_until_hash(&B, link, id, hash, &b_all);
	if (ctl(&A, (const char *const[]){ "invite", "bench", "--role", "editor", "--host", "127.0.0.1", NULL }))
		fail("invite failed");
	snprintf(link, sizeof(link), "%.*s", (int)strcspn(out, "\n"), out);
	uint64_t full = join_until_hash(&C, link, id, hash, &c_all);
	printf("# checkpoint join: world hash after %.3f s, whole log after %.3f s; whole-log join: %.3f s (%.3f s)\n",
	       (double)late / 1e9, (double)b_all / 1e9, (double)full / 1e9, (double)c_all / 1e9);
	long long installed = th_daemon_metric(&B, "net_snap_installed");
	if (installed != 1 || th_daemon_metric(&C, "net_snap_installed") != 0)
		fail("the member did not install the checkpoint (or the replaying one did)");

	double late_ms = (double)late / 1e6, speedup = (double)full / (double)late;
	th_bench_figure_goal("scene.late_join_ms", late_ms, "ms", "<= 2000 ms", late_ms <= GOAL_LATE_JOIN_MS);
	th_bench_figure("scene.baseline.full_replay_ms", (double)full / 1e6, "ms");
	th_bench_figure("scene.late_join.catchup_ms", (double)b_all / 1e6, "ms");
	th_bench_figure_goal("scene.late_join.speedup", speedup, "x", ">= 5", speedup >= GOAL_SPEEDUP);
	th_daemon_cleanup(&A);
	th_daemon_cleanup(&B);
	th_daemon_cleanup(&C);
	return 0;
}
