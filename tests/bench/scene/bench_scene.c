/* Scene fold and snapshot benchmarks (make bench-scene). Prints JSON lines:
 *   scene.fold_per_s               entries folded per second, in order, for a
 *                                  mixed history (entity.create, component.write,
 *                                  mesh.create, mesh.patch; 4 authors)
 *   scene.baseline.decode_per_s    th_logrec_decode + th_cmd_payload_decode
 *                                  of the same entries
 *   scene.fold_vs_decode_ratio     the first over the second (goal >= 0.5)
 *   scene.snapshot_encode_ms       th_fold_snapshot of 10 k entities + 100 k
 *                                  faces (10 k meshes of 10 quads; goal <= 2 ms)
 *   scene.snapshot_canonical_ms    th_scene_encode of that scene (no compression)
 *   scene.snapshot_decode_ms       th_fold_restore of that snapshot
 *   scene.baseline.memcpy_ms       memcpy of the scene's canonical bytes
 *   scene.baseline.zstd_ms         ZSTD_compress (level 3) of those bytes
 *   scene.snapshot_bytes, scene.snapshot_raw_bytes
 *   scene.snapshot_zstd_ratio      canonical scene bytes / snapshot bytes
 *   scene.rollback_us              th_fold_add of one entry that sorts
 *                                  ROLLBACK_DEPTH entries below the top, at
 *                                  100 k folded entries (goal <= 1 ms)
 *   scene.rollback_deep_us         the same ROLLBACK_DEEP entries below
 *   scene.baseline.fold_one_us     th_fold_add of one entry at the top
 * Timings are medians of several runs; goals are beside their figures in
 * the JSON lines and on '#' lines. No files are written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "th_bench.h"
#include "th_cmd.h"
#include "th_fold.h"
#include "th_payload.h"
#include "th_scene.h"
#include "th_scenelog.h"
#include "th_time.h"

#define AUTHORS 4
#define MIXED_ENTRIES 100000u
#define FOLD_RUNS 3
#define DECODE_RUNS 5
#define SNAP_MESHES 10000u
#define SNAP_QUADS 10u
#define SNAP_RUNS 7
#define ROLLBACK_DEPTH 100u
#define ROLLBACK_DEEP 1000u
#define ROLLBACK_SAMPLES 31u
#define BASELINE_ZSTD_LEVEL 3 /* ZSTD_compress of the canonical bytes, for comparison */
#define GOAL_FOLD_RATIO 0.5
#define GOAL_ENCODE_MS 2.0
#define GOAL_ROLLBACK_US 1000.0

static void die(const char *what, int r)
{
	fprintf(stderr, "bench_scene: %s failed (%d)\n", what, r);
	exit(1);
}

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), th_bench_cmp_u64);
	return v[n / 2];
}

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* The mixed history: per 10 entries, 1 entity.create, 3 component.write,
 * 1 mesh.create (4 quads) and 5 mesh.patch (one vertex moved), round-robin
 * over the authors, each on a random earlier entity or mesh. */
static void mixed_history(struct sh_log *l, struct lt_author *au, uint64_t n)
{
	uint64_t *ents = malloc(n * sizeof(*ents)), seed = 42;
	struct sh_mesh *meshes = malloc(n * sizeof(*meshes));
	size_t ne = 0, nm = 0;
	if (!ents || !meshes)
		die("malloc", -ENOMEM);
	for (uint64_t i = 0; i < n; i++) {
		struct lt_author *a = &au[i % AUTHORS];
		unsigned k = (unsigned)(i % 10);
		float pos[3] = { (float)(rnd(&seed) % 100), (float)(rnd(&seed) % 100), (float)(rnd(&seed) % 100) };
		int r;
		if (ne == 0 || k == 0)
			r = sh_entity_create(l, a, pos, &ents[ne++]);
		else if (k <= 3)
			r = sh_transform_write(l, a, ents[rnd(&seed) % ne], pos);
		else if (nm == 0 || k == 4)
			r = sh_mesh_strip(l, a, 4, pos[2], 0, &meshes[nm++]);
		else
			r = sh_vertex_move(l, a, &meshes[rnd(&seed) % nm], (unsigned)(rnd(&seed) % 10), pos);
		if (r < 0)
			die("building the history", r);
	}
	free(ents);
	free(meshes);
}

static struct th_fold *fold_new(const struct lt_author *host)
{
	struct th_fold_config c = { 0 };
	struct th_fold *f;
	memcpy(c.host_key, host->kp.pk, sizeof(c.host_key));
	int r = th_fold_create(&c, &f);
	if (r < 0)
		die("th_fold_create", r);
	return f;
}

static uint64_t fold_all(struct th_fold *f, const struct sh_log *l)
{
	uint64_t t0 = th_now_ns();
	for (size_t i = 0; i < l->n; i++) {
		int r = th_fold_add(f, &l->v[i].e, i);
		if (r < 0)
			die("th_fold_add", r);
	}
	return th_now_ns() - t0;
}

/* ---- fold vs decode -------------------------------------------------------- */

static void bench_fold(const struct sh_log *l, const struct lt_author *host, double *fold_ps, double *decode_ps)
{
	uint64_t t[DECODE_RUNS];
	struct th_fold_stats st;
	for (unsigned k = 0; k < FOLD_RUNS; k++) {
		struct th_fold *f = fold_new(host);
		t[k] = fold_all(f, l);
		th_fold_stats(f, &st);
		th_fold_destroy(&f);
	}
	*fold_ps = (double)l->n * 1e9 / (double)median(t, FOLD_RUNS);
	printf("# mixed history: %zu entries, %d authors: %llu applied, %llu refused\n", l->n, AUTHORS,
	       (unsigned long long)st.applied, (unsigned long long)st.refused);

	/* The same entries as the log holds them: encoded bodies. */
	size_t total = 0;
	for (size_t i = 0; i < l->n; i++)
		total += th_logrec_body_len(&l->v[i].e);
	uint8_t *buf = malloc(total);
	size_t *off = malloc((l->n + 1) * sizeof(*off));
	union th_pl_any *pl = malloc(sizeof(*pl));
	if (!buf || !off || !pl)
		die("malloc", -ENOMEM);
	off[0] = 0;
	for (size_t i = 0; i < l->n; i++) {
		int n = th_logrec_encode(&l->v[i].e, buf + off[i], total - off[i]);
		if (n < 0)
			die("th_logrec_encode", n);
		off[i + 1] = off[i] + (size_t)n;
	}
	for (unsigned k = 0; k < DECODE_RUNS; k++) {
		uint64_t t0 = th_now_ns();
		for (size_t i = 0; i < l->n; i++) {
			struct th_logrec_entry e;
			const char *why;
			int fault, r = th_logrec_decode(buf + off[i], off[i + 1] - off[i], &e, &fault);
			if (r < 0 || (r = th_cmd_payload_decode(e.type, e.payload, e.payload_len, pl, &why)) < 0)
				die("decoding", r);
		}
		t[k] = th_now_ns() - t0;
	}
	*decode_ps = (double)l->n * 1e9 / (double)median(t, DECODE_RUNS);
	free(buf);
	free(off);
	free(pl);
}

/* ---- snapshots -------------------------------------------------------------- */

static void bench_snapshot(void)
{
	struct lt_author au[AUTHORS];
	struct sh_log l;
	for (unsigned i = 0; i < AUTHORS; i++)
		lt_author_init(&au[i], (uint8_t)(0x71 + i));
	sh_init(&l, false);
	for (unsigned i = 0; i < SNAP_MESHES; i++) {
		int r = sh_mesh_strip(&l, &au[i % AUTHORS], SNAP_QUADS, (float)i, 0, NULL);
		if (r < 0)
			die("building the snapshot scene", r);
	}
	struct th_fold *f = fold_new(&au[0]);
	fold_all(f, &l);
	struct th_scene_stats ss;
	th_scene_stats(th_fold_scene(f), &ss);
	struct th_wbuf raw, snap;
	th_wbuf_init(&raw, 0);
	th_wbuf_init(&snap, 0);
	int r = th_scene_encode(th_fold_scene(f), &raw);
	if (r < 0)
		die("th_scene_encode", r);
	uint64_t enc[SNAP_RUNS], dec[SNAP_RUNS], cpy[SNAP_RUNS], canon[SNAP_RUNS];
	for (unsigned k = 0; k < SNAP_RUNS; k++) {
		th_wbuf_reset(&raw);
		uint64_t t0 = th_now_ns();
		if ((r = th_scene_encode(th_fold_scene(f), &raw)) < 0)
			die("th_scene_encode", r);
		canon[k] = th_now_ns() - t0;
	}
	uint8_t *dst = malloc(raw.len);
	if (!dst)
		die("malloc", -ENOMEM);
	memset(dst, 0, raw.len);
	for (unsigned k = 0; k < SNAP_RUNS; k++) {
		th_wbuf_reset(&snap);
		uint64_t t0 = th_now_ns();
		if ((r = th_fold_snapshot(f, &snap)) < 0)
			die("th_fold_snapshot", r);
		enc[k] = th_now_ns() - t0;
	}
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, au[0].kp.pk, sizeof(c.host_key));
	uint8_t h0[TH_SCENE_HASH_LEN], h1[TH_SCENE_HASH_LEN];
	if ((r = th_fold_world_hash(f, h0)) < 0)
		die("th_fold_world_hash", r);
	for (unsigned k = 0; k < SNAP_RUNS; k++) {
		struct th_fold *g;
		const char *why = "";
		uint64_t t0 = th_now_ns();
		if ((r = th_fold_restore(&c, snap.data, snap.len, &g, &why)) < 0) {
			fprintf(stderr, "bench_scene: th_fold_restore: %s\n", why);
			die("th_fold_restore", r);
		}
		dec[k] = th_now_ns() - t0;
		if ((r = th_fold_world_hash(g, h1)) < 0 || memcmp(h0, h1, sizeof(h0)))
			die("the restored world hash", r < 0 ? r : -EBADMSG);
		th_fold_destroy(&g);
	}
	for (unsigned k = 0; k < SNAP_RUNS; k++) {
		uint64_t t0 = th_now_ns();
		memcpy(dst, raw.data, raw.len);
		__asm__ __volatile__("" : : "r"(dst) : "memory");
		cpy[k] = th_now_ns() - t0;
	}
	/* zstd alone over the canonical bytes, at the fold's level. */
	uint64_t zs[SNAP_RUNS];
	size_t zcap = ZSTD_compressBound(raw.len);
	uint8_t *z = malloc(zcap);
	if (!z)
		die("malloc", -ENOMEM);
	for (unsigned k = 0; k < SNAP_RUNS; k++) {
		uint64_t t0 = th_now_ns();
		size_t zn = ZSTD_compress(z, zcap, raw.data, raw.len, BASELINE_ZSTD_LEVEL);
		zs[k] = th_now_ns() - t0;
		if (ZSTD_isError(zn))
			die("ZSTD_compress", -EIO);
	}
	free(z);
	double enc_ms = (double)median(enc, SNAP_RUNS) / 1e6;
	printf("# snapshot scene: %llu entities, %llu meshes, %llu faces, %llu vertices; canonical %zu bytes, snapshot %zu bytes\n",
	       (unsigned long long)ss.entities, (unsigned long long)ss.meshes, (unsigned long long)ss.faces,
	       (unsigned long long)ss.vertices, raw.len, snap.len);
	th_bench_figure_goal("scene.snapshot_encode_ms", enc_ms, "ms", "<= 2 ms", enc_ms <= GOAL_ENCODE_MS);
	th_bench_figure("scene.snapshot_canonical_ms", (double)median(canon, SNAP_RUNS) / 1e6, "ms");
	th_bench_figure("scene.snapshot_decode_ms", (double)median(dec, SNAP_RUNS) / 1e6, "ms");
	th_bench_figure("scene.baseline.zstd_ms", (double)median(zs, SNAP_RUNS) / 1e6, "ms");
	th_bench_figure("scene.baseline.memcpy_ms", (double)median(cpy, SNAP_RUNS) / 1e6, "ms");
	th_bench_figure("scene.snapshot_bytes", (double)snap.len, "B");
	th_bench_figure("scene.snapshot_raw_bytes", (double)raw.len, "B");
	th_bench_figure("scene.snapshot_zstd_ratio", (double)raw.len / (double)snap.len, "x");
	printf("# goal snapshot encode <= %.0f ms: %.2f ms, %s\n", GOAL_ENCODE_MS, enc_ms,
	       enc_ms <= GOAL_ENCODE_MS ? "met" : "NOT met");
	free(dst);
	th_wbuf_fini(&raw);
	th_wbuf_fini(&snap);
	th_fold_destroy(&f);
	sh_fini(&l);
}

/* ---- rollback ---------------------------------------------------------------- */

/* Median cost of folding one entity.create by a fresh author whose lamport
 * sorts `depth` entries below the top (0: at the top). */
static double one_add_us(struct th_fold *f, struct sh_log *l, uint8_t seed0, uint64_t top, uint64_t depth)
{
	uint64_t t[ROLLBACK_SAMPLES];
	for (unsigned k = 0; k < ROLLBACK_SAMPLES; k++) {
		struct lt_author a;
		lt_author_init(&a, (uint8_t)(seed0 + k));
		l->lamport_next = depth ? top - depth : top + 1 + k;
		int r = sh_entity_create(l, &a, (float[3]){ 1, 2, 3 }, NULL);
		if (r < 0)
			die("building an entry", r);
		uint64_t t0 = th_now_ns();
		if ((r = th_fold_add(f, &l->v[l->n - 1].e, l->n - 1)) < 0)
			die("th_fold_add", r);
		t[k] = th_now_ns() - t0;
	}
	return (double)median(t, ROLLBACK_SAMPLES) / 1e3;
}

static void bench_rollback(struct sh_log *l, const struct lt_author *host)
{
	struct th_fold *f = fold_new(host);
	fold_all(f, l);
	uint64_t top = l->lamport;
	double in_order = one_add_us(f, l, 0x90, top, 0);
	top = l->lamport;
	double rb = one_add_us(f, l, 0xb0, top, ROLLBACK_DEPTH);
	double deep = one_add_us(f, l, 0xd0, top, ROLLBACK_DEEP);
	struct th_fold_stats st;
	th_fold_stats(f, &st);
	printf("# rollback at %zu folded entries: %llu rollbacks, %llu entries replayed\n", l->n,
	       (unsigned long long)st.rollbacks, (unsigned long long)st.replayed);
	char goal[64];
	snprintf(goal, sizeof(goal), "<= 1 ms (%u entries below the top)", ROLLBACK_DEPTH);
	th_bench_figure_goal("scene.rollback_us", rb, "us", goal, rb <= GOAL_ROLLBACK_US);
	th_bench_figure("scene.rollback_deep_us", deep, "us");
	th_bench_figure("scene.baseline.fold_one_us", in_order, "us");
	printf("# goal rollback (%u below the top) <= 1 ms: %.1f us, %s; %u below: %.1f us; one entry in order: %.2f us\n",
	       ROLLBACK_DEPTH, rb, rb <= GOAL_ROLLBACK_US ? "met" : "NOT met", ROLLBACK_DEEP, deep, in_order);
	th_fold_destroy(&f);
}

int main(void)
{
	struct lt_author au[AUTHORS];
	struct sh_log l;
	double fold_ps, decode_ps;
	for (unsigned i = 0; i < AUTHORS; i++)
		lt_author_init(&au[i], (uint8_t)(0x61 + i));
	sh_init(&l, false);
	mixed_history(&l, au, MIXED_ENTRIES);
	bench_fold(&l, &au[0], &fold_ps, &decode_ps);
	double ratio = fold_ps / decode_ps;
	th_bench_figure("scene.fold_per_s", fold_ps, "1/s");
	th_bench_figure("scene.baseline.decode_per_s", decode_ps, "1/s");
	th_bench_figure_goal("scene.fold_vs_decode_ratio", ratio, "x", ">= 0.5", ratio >= GOAL_FOLD_RATIO);
	printf("# goal fold >= 0.5x decode: %.2fx, %s\n", ratio, ratio >= GOAL_FOLD_RATIO ? "met" : "NOT met");
	bench_rollback(&l, &au[0]);
	sh_fini(&l);
	bench_snapshot();
	return 0;
}
