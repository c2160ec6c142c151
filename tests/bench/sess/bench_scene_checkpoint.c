/* What a scene checkpoint costs the daemon for a large scene: a real
 * thetad, a client that builds 100 100 quads in mesh.create entries of
 * BENCH_CKPT_QUADS_PER_ENTRY each (plus one entity each), and
 * `[scene] checkpoint_entries` set so that the last entry triggers one
 * checkpoint. Figures: the loop's part (the fork of the child that
 * encodes and writes it: scene_checkpoint_fork_max_us), the child's time
 * (scene_checkpoint_last_ms), its size, the longest fold of one of these
 * entries, the longest loop stall, and the restart from it after kill -9.
 * JSON lines; nothing here asserts a timing. */
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "net_client.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"

#define BENCH_CKPT_QUADS_PER_ENTRY 220u /* 9 ops each (4 vertices, a face, 4 corners): 1980 of 2048 */
#define BENCH_CKPT_ENTRIES 455u        /* 100 100 faces */
#define BENCH_CKPT_WINDOW 64u          /* unacknowledged submits at a time */
#define BENCH_WAIT_NS (300ull * TH_NS_PER_S)

static double scene_num(struct th_daemon_proc *d, const char *key, bool *live)
{
	struct json_object *r = th_ctl_call(d, "{\"cmd\":\"scene\",\"args\":{}}"), *v;
	double x = -1;
	*live = r && json_object_object_get_ex(r, "state", &v) && !strcmp(json_object_get_string(v), "live");
	if (r && json_object_object_get_ex(r, key, &v))
		x = json_object_get_double(v);
	json_object_put(r);
	return x;
}

/* mesh.create of BENCH_CKPT_QUADS_PER_ENTRY separate quads, row `row`. */
static int quads_payload(unsigned row, uint8_t *buf, size_t cap)
{
	static struct th_pl_mesh_create mc;
	memset(&mc, 0, sizeof(mc));
	const float tr[10] = { 0, (float)row, 0, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(mc.transform, tr, sizeof(tr));
	unsigned o = 0;
	for (unsigned q = 0; q < BENCH_CKPT_QUADS_PER_ENTRY; q++) {
		static const float c[4][2] = { { 0, 0 }, { 1, 0 }, { 1, 1 }, { 0, 1 } };
		unsigned first = o;
		for (int i = 0; i < 4; i++) {
			mc.ops[o].op = TH_PL_MESH_OP_VERTEX_ADD;
			mc.ops[o].position[0] = (float)q * 2 + c[i][0];
			mc.ops[o].position[1] = c[i][1];
			o++;
		}
		mc.ops[o++].op = TH_PL_MESH_OP_FACE_ADD;
		for (unsigned i = 0; i < 4; i++) {
			mc.ops[o].op = TH_PL_MESH_OP_LOOP;
			mc.ops[o].arg = TH_PL_MESH_REF_LOCAL;
			mc.ops[o].element = first + i + 1;
			o++;
		}
	}
	mc.ops_count = (uint16_t)o;
	return th_cmd_payload_encode(TH_CMD_MESH_CREATE, &mc, buf, cap);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	struct th_daemon_proc d;
	char conf[200];
	int rc = 1, st;
	if (th_daemon_prepare(&d) < 0) {
		fprintf(stderr, "bench_scene_checkpoint: cannot prepare a daemon directory\n");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/scene.conf", d.dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		goto out;
	fprintf(f, "[scene]\ncheckpoint_entries = %u\ncheckpoint_interval = \"1h\"\n[clog]\nrate_per_s = 100000\n"
		   "rate_burst = 100000\n",
		BENCH_CKPT_ENTRIES);
	fclose(f);
	const char *args[] = { "--port", "0", "--config", conf, NULL };
	if (th_daemon_respawn(&d, args, NULL, 60000) < 0) {
		fprintf(stderr, "bench_scene_checkpoint: the daemon did not start: %s\n", th_daemon_log(&d));
		goto out;
	}
	struct nc_client c;
	if (nc_connect(&c, d.runtime_dir, 5000) < 0) {
		fprintf(stderr, "bench_scene_checkpoint: no client connection\n");
		goto out;
	}
	static uint8_t pl[TH_LOGREC_BODY_MAX];
	unsigned sent = 0;
	uint64_t end = th_now_ns() + BENCH_WAIT_NS;
	while (c.acks + c.rejects < BENCH_CKPT_ENTRIES && th_now_ns() < end) {
		while (sent < BENCH_CKPT_ENTRIES && sent - c.acks < BENCH_CKPT_WINDOW) {
			int n = quads_payload(sent, pl, sizeof(pl));
			if (n < 0 || nc_submit_raw(&c, TH_CMD_MESH_CREATE, 0, pl, (uint32_t)n) <= 0)
				break;
			sent++;
		}
		if (nc_poll(&c, 50) < 0)
			break;
	}
	nc_close(&c);
	if (c.acks != BENCH_CKPT_ENTRIES) {
		fprintf(stderr, "bench_scene_checkpoint: %" PRIu64 " acks, %" PRIu64 " refusals (%s)\n", c.acks, c.rejects,
			c.last_reject);
		goto out;
	}
	bool live = false;
	double faces = -1;
	while (th_now_ns() < end && th_ctl_metric(&d, "scene_checkpoint_writes_total") < 1)
		th_sleep_ns(20 * TH_NS_PER_MS);
	th_sleep_ns(300 * TH_NS_PER_MS); /* one tick: the fold gauges */
	/* Before any `scene`: its world hash is computed on the loop. */
	double stall = th_ctl_metric(&d, "loop_stall_max_us");
	uint64_t q0 = th_now_ns();
	faces = scene_num(&d, "faces", &live);
	double query_ms = (double)(th_now_ns() - q0) / 1e6;
	double fork_us = th_ctl_metric(&d, "scene_checkpoint_fork_max_us"), bytes = th_ctl_metric(&d, "scene_checkpoint_bytes");
	double child_ms = th_ctl_metric(&d, "scene_checkpoint_last_ms");
	double fold_max = th_ctl_metric(&d, "scene_fold_max_us"), fold_p999 = th_ctl_metric(&d, "scene_fold_p999_us");
	if (fork_us < 0 || faces < 0) {
		fprintf(stderr, "bench_scene_checkpoint: no checkpoint was written: %s\n", th_daemon_log(&d));
		goto out;
	}
	th_daemon_stop(&d, SIGKILL, 10000, &st);
	if (th_daemon_respawn(&d, args, NULL, 120000) < 0)
		goto out;
	double built = -1;
	while (th_now_ns() < end && ((built = scene_num(&d, "built_ms", &live)) < 0 || !live))
		th_sleep_ns(20 * TH_NS_PER_MS);
	printf("# %.0f faces in %u entries: checkpoint of %.0f bytes, fork on the loop %.0f us, encoded and "
	       "written by the child in %.0f ms; fold of one entry max %.0f us (p99.9 %.0f); loop stall max %.0f us; "
	       "first `scene` (its world hash) %.1f ms; restart from the checkpoint %.1f ms\n",
	       faces, BENCH_CKPT_ENTRIES, bytes, fork_us, child_ms, fold_max, fold_p999, stall, query_ms, built);
	th_bench_figure("scene.daemon.scene_query_100k_faces_ms", query_ms, "ms");
	th_bench_figure("scene.daemon.checkpoint_100k_faces_fork_us", fork_us, "us");
	th_bench_figure("scene.daemon.checkpoint_100k_faces_child_ms", child_ms, "ms");
	th_bench_figure("scene.daemon.checkpoint_100k_faces_loop_stall_max_us", stall, "us");
	th_bench_figure("scene.daemon.checkpoint_100k_faces_bytes", bytes, "bytes");
	th_bench_figure("scene.daemon.fold_220_quads_max_us", fold_max, "us");
	th_bench_figure("scene.daemon.restore_100k_faces_ms", built, "ms");
	rc = 0;
out:
	th_daemon_cleanup(&d);
	return rc;
}
