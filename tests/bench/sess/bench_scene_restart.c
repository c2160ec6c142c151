/* A session's scene at a daemon's start: a real thetad whose default
 * session holds BENCH_SCENE_ENTRIES entries (filled offline through the
 * clog API, tool.state from 8 authors: the fold's bookkeeping, reading and
 * ordering, not mesh work), first without a checkpoint (the whole log
 * folded on the loop, a bounded pass at a time), then after kill -9 from
 * the checkpoint that rebuild wrote. Figures: the time from the open to a
 * live scene (`scene` built_ms) each way, the longest loop stall meanwhile,
 * and the checkpoint's size and encode time. JSON lines; nothing here
 * asserts a timing. */
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "th_bench.h"
#include "th_file.h"
#include "th_harness.h"
#include "th_logfill.h"
#include "th_time.h"

#define BENCH_SCENE_ENTRIES 100000u
#define BENCH_SCENE_AUTHORS 8u
#define BENCH_SCENE_PAYLOAD 64u
#define BENCH_WAIT_NS (120ull * TH_NS_PER_S)
#define BENCH_SESSION "00112233445566778899aabbccddeeff"

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : -1;
}

static double window_bytes = -1, vmrss_kib = -1;

/* The daemon's resident memory now (KiB), or -1. */
static double rss_kib(pid_t pid)
{
	char path[64], line[256];
	double v = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtod(line + 6, NULL);
	fclose(f);
	return v;
}

/* Waits for the live scene of every entry; its built_ms, or -1. */
static double wait_live(struct th_daemon_proc *d)
{
	uint64_t end = th_now_ns() + BENCH_WAIT_NS;
	while (th_now_ns() < end) {
		struct json_object *r = th_ctl_call(d, "{\"cmd\":\"scene\",\"args\":{\"session\":\"" BENCH_SESSION "\"}}"), *v;
		if (r && json_object_object_get_ex(r, "state", &v) && !strcmp(json_object_get_string(v), "live") &&
		    num(r, "log_position") == BENCH_SCENE_ENTRIES) {
			double ms = num(r, "built_ms");
			window_bytes = num(r, "window_bytes");
			vmrss_kib = rss_kib(d->pid);
			json_object_put(r);
			return ms;
		}
		json_object_put(r);
		th_sleep_ns(10 * TH_NS_PER_MS);
	}
	return -1;
}

static int start(struct th_daemon_proc *d)
{
	const char *args[] = { "--port", "0", NULL };
	if (th_daemon_respawn(d, args, NULL, 60000) < 0) {
		fprintf(stderr, "bench_scene_restart: the daemon did not start: %s\n", th_daemon_log(d));
		return -1;
	}
	return 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	struct th_daemon_proc d;
	if (th_daemon_prepare(&d) < 0) {
		fprintf(stderr, "bench_scene_restart: cannot prepare a daemon directory\n");
		return 1;
	}
	char dir[PATH_MAX + 64], path[PATH_MAX + 96];
	snprintf(dir, sizeof(dir), "%s/sessions/" BENCH_SESSION, d.state_dir);
	snprintf(path, sizeof(path), "%s/session.conf", dir);
	static const char conf[] = "name = local\ncreated = 1\nrole = host\n";
	struct lf_config lc = { .authors = BENCH_SCENE_AUTHORS, .entries = BENCH_SCENE_ENTRIES,
				.payload_len = BENCH_SCENE_PAYLOAD };
	int r, rc = 1, st;
	if ((r = th_mkdir_p(dir, 0700)) < 0 || (r = th_file_replace(path, conf, sizeof(conf) - 1, 0600)) < 0) {
		fprintf(stderr, "bench_scene_restart: cannot write %s: %d\n", path, r);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/log", dir);
	if ((r = lf_fill(path, &lc, NULL)) < 0) {
		fprintf(stderr, "bench_scene_restart: cannot fill the log: %d\n", r);
		goto out;
	}
	if (start(&d) < 0)
		goto out;
	double rebuild = wait_live(&d);
	double stall = th_ctl_metric(&d, "loop_stall_max_us"), pass = th_ctl_metric(&d, "scene_pass_max_us");
	double window = window_bytes, rss = vmrss_kib;
	if (rebuild < 0) {
		fprintf(stderr, "bench_scene_restart: the scene did not become live: %s\n", th_daemon_log(&d));
		goto out;
	}
	/* The rebuild wrote a checkpoint (100 k > scene.checkpoint_entries). */
	uint64_t end = th_now_ns() + BENCH_WAIT_NS;
	while (th_ctl_metric(&d, "scene_checkpoint_writes_total") < 1 && th_now_ns() < end)
		th_sleep_ns(10 * TH_NS_PER_MS);
	double bytes = th_ctl_metric(&d, "scene_checkpoint_bytes"), encode = th_ctl_metric(&d, "scene_checkpoint_encode_max_us");
	if (bytes < 0 || th_ctl_metric(&d, "scene_checkpoint_writes_total") < 1) {
		fprintf(stderr, "bench_scene_restart: no checkpoint was written\n");
		goto out;
	}
	th_daemon_stop(&d, SIGKILL, 10000, &st);
	if (start(&d) < 0)
		goto out;
	double restore = wait_live(&d);
	double restore_stall = th_ctl_metric(&d, "loop_stall_max_us");
	if (restore < 0 || th_ctl_metric(&d, "scene_checkpoint_restored_total") != 1) {
		fprintf(stderr, "bench_scene_restart: the scene was not restored from its checkpoint: %s\n",
			th_daemon_log(&d));
		goto out;
	}
	printf("# %u entries: scene rebuilt from the log in %.1f ms (loop stall max %.0f us), "
	       "restored from a %.0f-byte checkpoint in %.1f ms (stall max %.0f us)\n",
	       BENCH_SCENE_ENTRIES, rebuild, stall, bytes, restore, restore_stall);
	th_bench_figure("scene.daemon.rebuild_100k_ms", rebuild, "ms");
	th_bench_figure("scene.daemon.rebuild_loop_stall_max_us", stall, "us");
	th_bench_figure("scene.daemon.rebuild_pass_max_us", pass, "us");
	th_bench_figure("scene.daemon.window_mib_100k", window / (1 << 20), "MiB");
	th_bench_figure("scene.daemon.rss_after_rebuild_mib", rss / 1024, "MiB");
	th_bench_figure("scene.daemon.restore_100k_ms", restore, "ms");
	th_bench_figure("scene.daemon.restore_loop_stall_max_us", restore_stall, "us");
	th_bench_figure("scene.daemon.checkpoint_bytes", bytes, "bytes");
	th_bench_figure("scene.daemon.checkpoint_encode_max_us", encode, "us");
	rc = 0;
out:
	th_daemon_cleanup(&d);
	return rc;
}
