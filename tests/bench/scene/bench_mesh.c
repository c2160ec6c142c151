/* th_mesh benchmarks (make bench-scene). Prints JSON lines:
 *   scene.mesh.face_add_per_s        one-quad patches (FACE_ADD + 4 LOOPs by id,
 *                                    journaled as the fold does) on a mesh that
 *                                    already holds 100 k faces, growing to 200 k
 *   scene.mesh.baseline.hash_insert_per_s  the same number of index inserts
 *                                    (5 a face: its id and 4 directed edges) into
 *                                    a bare open-addressing u64 -> u32 table
 *   scene.mesh.face_add_vs_inserts_ratio   face-add time / baseline time
 *   scene.mesh.face_remove_per_s     one-REMOVE patches of those faces
 *   scene.mesh.vertex_move_per_s     one-VERTEX_MOVE patches
 *   scene.mesh.undo_per_s            face-add records undone, newest first
 *   scene.mesh.encode_100k_ms, scene.mesh.decode_100k_ms, scene.mesh.check_100k_ms
 *                                    one 100 k-face mesh (median of runs)
 *   scene.mesh.baseline.memcpy_100k_ms  a memcpy of its encoding
 *   scene.mesh.encode_10k_small_ms   10 k meshes of 10 quads each (a 2 x 5 grid),
 *                                    the shape of the scene benchmark's meshes
 *   scene.mesh.decode_10k_small_ms   decoding them (and freeing the meshes)
 *   scene.mesh.baseline.memcpy_10k_small_ms  a memcpy of those encodings
 * Element ids are spread like derived ids (a 64-bit mix of a counter). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_bench.h"
#include "th_buf.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_time.h"

#define GRID 316u /* 316 x 316 quads = 99 856 faces */
#define RUNS 5
#define VERT_BATCH 2048u

static void die(const char *what, int r, const char *why)
{
	fprintf(stderr, "bench_mesh: %s failed (%d%s%s)\n", what, r, why ? ": " : "", why ? why : "");
	exit(1);
}

static uint64_t spread(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x ? x : 1;
}

/* Grid g's vertex (x, y) and face (x, y) ids. */
static uint64_t vid(unsigned g, unsigned x, unsigned y) { return spread((uint64_t)g << 40 | (uint64_t)y << 20 | x); }
static uint64_t fid(unsigned g, unsigned x, unsigned y)
{
	return spread((uint64_t)1 << 60 | (uint64_t)g << 40 | (uint64_t)y << 20 | x);
}

static void apply(struct th_mesh *m, const struct th_pl_mesh_op *ops, unsigned n, const uint64_t *ids,
		  struct th_journal *j)
{
	const char *why = NULL;
	int r = th_mesh_apply(m, ops, n, ids, j, &why);
	if (r)
		die("th_mesh_apply", r, r == -EINVAL ? why : NULL);
}

static void add_grid_vertices(struct th_mesh *m, unsigned g)
{
	static struct th_pl_mesh_op ops[VERT_BATCH];
	static uint64_t ids[VERT_BATCH];
	unsigned n = 0;
	for (unsigned y = 0; y <= GRID; y++)
		for (unsigned x = 0; x <= GRID; x++) {
			ops[n] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_VERTEX_ADD,
							 .position = { (float)x, (float)y, (float)g } };
			ids[n++] = vid(g, x, y);
			if (n == VERT_BATCH) {
				apply(m, ops, n, ids, NULL);
				n = 0;
			}
		}
	if (n)
		apply(m, ops, n, ids, NULL);
}

static void quad_patch(unsigned g, unsigned x, unsigned y, struct th_pl_mesh_op ops[5], uint64_t ids[5])
{
	const uint64_t c[4] = { vid(g, x, y), vid(g, x + 1, y), vid(g, x + 1, y + 1), vid(g, x, y + 1) };
	ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_FACE_ADD };
	ids[0] = fid(g, x, y);
	for (unsigned k = 0; k < 4; k++) {
		ops[1 + k] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_LOOP, .element = c[k], .arg = TH_PL_MESH_REF_ID };
		ids[1 + k] = 0;
	}
}

/* Adds grid g's faces, one patch each; returns the nanoseconds it took. */
static uint64_t add_grid_faces(struct th_mesh *m, unsigned g, struct th_journal *j)
{
	struct th_pl_mesh_op ops[5];
	uint64_t ids[5];
	uint64_t t0 = th_now_ns();
	for (unsigned y = 0; y < GRID; y++)
		for (unsigned x = 0; x < GRID; x++) {
			quad_patch(g, x, y, ops, ids);
			apply(m, ops, 5, ids, j);
		}
	return th_now_ns() - t0;
}

/* ---- the baseline: a bare open-addressing table ------------------------------ */

struct bl_slot {
	uint64_t key; /* 0: empty */
	uint32_t value;
};
struct bl_map {
	struct bl_slot *t;
	uint32_t cap, len;
};

static uint64_t bl_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static void bl_put(struct bl_slot *t, uint32_t cap, uint64_t key, uint32_t value)
{
	uint32_t i = (uint32_t)bl_mix(key) & (cap - 1);
	while (t[i].key)
		i = (i + 1) & (cap - 1);
	t[i] = (struct bl_slot){ key, value };
}

static void bl_insert(struct bl_map *m, uint64_t key, uint32_t value)
{
	if ((uint64_t)(m->len + 1) * 4 > (uint64_t)m->cap * 3) {
		uint32_t cap = m->cap ? m->cap * 2 : 16;
		struct bl_slot *t = calloc(cap, sizeof(*t));
		if (!t)
			die("calloc", -ENOMEM, NULL);
		for (uint32_t i = 0; i < m->cap; i++)
			if (m->t[i].key)
				bl_put(t, cap, m->t[i].key, m->t[i].value);
		free(m->t);
		m->t = t;
		m->cap = cap;
	}
	bl_put(m->t, m->cap, key, value);
	m->len++;
}

/* As many inserts as adding grid g's faces makes, into tables that already
 * hold as many entries as the mesh's index held before it. */
static uint64_t baseline_inserts(void)
{
	struct bl_map ids = { 0 }, edges = { 0 };
	uint32_t v = 0;
	for (unsigned y = 0; y < GRID; y++)
		for (unsigned x = 0; x < GRID; x++) {
			bl_insert(&ids, fid(0, x, y), v);
			for (unsigned k = 0; k < 4; k++)
				bl_insert(&edges, spread((uint64_t)v << 2 | k), v);
			v++;
		}
	uint64_t t0 = th_now_ns();
	for (unsigned y = 0; y < GRID; y++)
		for (unsigned x = 0; x < GRID; x++) {
			bl_insert(&ids, fid(1, x, y), v);
			for (unsigned k = 0; k < 4; k++)
				bl_insert(&edges, spread((uint64_t)v << 2 | k), v);
			v++;
		}
	uint64_t t = th_now_ns() - t0;
	free(ids.t);
	free(edges.t);
	return t;
}

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), th_bench_cmp_u64);
	return v[n / 2];
}

#define SMALL_MESHES 10000u
#define SMALL_W 5u
#define SMALL_H 2u

/* Encodes 10 k small meshes into one buffer: the median time, and a memcpy
 * of the same bytes. */
static void small_meshes(uint64_t *t_enc, uint64_t *t_dec, uint64_t *t_cpy)
{
	struct th_mesh *ms = calloc(SMALL_MESHES, sizeof(*ms));
	if (!ms)
		die("calloc", -ENOMEM, NULL);
	struct th_pl_mesh_op ops[(SMALL_W + 1) * (SMALL_H + 1) + 5 * SMALL_W * SMALL_H];
	uint64_t ids[sizeof(ops) / sizeof(ops[0])];
	for (unsigned i = 0; i < SMALL_MESHES; i++) {
		int r = th_mesh_init(&ms[i], spread((uint64_t)7 << 56 | i));
		if (r)
			die("th_mesh_init", r, NULL);
		unsigned n = 0;
		uint64_t g = (uint64_t)i + 16;
		for (unsigned y = 0; y <= SMALL_H; y++)
			for (unsigned x = 0; x <= SMALL_W; x++) {
				ops[n] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_VERTEX_ADD,
								 .position = { (float)x, (float)y, 0 } };
				ids[n++] = vid((unsigned)g, x, y);
			}
		for (unsigned y = 0; y < SMALL_H; y++)
			for (unsigned x = 0; x < SMALL_W; x++, n += 5)
				quad_patch((unsigned)g, x, y, ops + n, ids + n);
		apply(&ms[i], ops, n, ids, NULL);
	}
	uint64_t enc[RUNS], dec[RUNS], cpy[RUNS];
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	uint8_t *copy = NULL;
	for (unsigned run = 0; run < RUNS; run++) {
		th_wbuf_reset(&w);
		uint64_t t0 = th_now_ns();
		for (unsigned i = 0; i < SMALL_MESHES; i++) {
			int r = th_mesh_encode(&ms[i], &w);
			if (r)
				die("th_mesh_encode", r, NULL);
		}
		enc[run] = th_now_ns() - t0;
		if (!copy && !(copy = malloc(w.len)))
			die("malloc", -ENOMEM, NULL);
		t0 = th_now_ns();
		memcpy(copy, w.data, w.len);
		__asm__ volatile("" : : "r"(copy) : "memory");
		cpy[run] = th_now_ns() - t0;
		size_t off = 0;
		t0 = th_now_ns();
		for (unsigned i = 0; i < SMALL_MESHES; i++) {
			struct th_mesh d;
			size_t used;
			const char *why = NULL;
			int r = th_mesh_decode(&d, w.data + off, w.len - off, &used, &why);
			if (r)
				die("th_mesh_decode", r, why);
			off += used;
			th_mesh_fini(&d);
		}
		dec[run] = th_now_ns() - t0;
	}
	fprintf(stderr, "bench_mesh: %u small meshes, %zu bytes encoded\n", SMALL_MESHES, w.len);
	free(copy);
	th_wbuf_fini(&w);
	for (unsigned i = 0; i < SMALL_MESHES; i++)
		th_mesh_fini(&ms[i]);
	free(ms);
	*t_enc = median(enc, RUNS);
	*t_dec = median(dec, RUNS);
	*t_cpy = median(cpy, RUNS);
}

int main(void)
{
	const double faces = (double)GRID * GRID;
	struct th_mesh m;
	struct th_journal j;
	int r = th_mesh_init(&m, 42);
	if (r)
		die("th_mesh_init", r, NULL);
	th_journal_init(&j, 0);
	add_grid_vertices(&m, 0);
	add_grid_faces(&m, 0, NULL);
	add_grid_vertices(&m, 1);
	size_t mark = th_journal_mark(&j);
	uint64_t t_add = add_grid_faces(&m, 1, &j);
	uint64_t t_base = baseline_inserts();

	/* Undo half of the adds (records newest first), then add them again. */
	uint64_t undone = 0, t0 = th_now_ns();
	size_t half = mark + (th_journal_mark(&j) - mark) / 2;
	uint8_t kind;
	const uint8_t *rec;
	size_t len;
	while (th_journal_pop(&j, half, &kind, &rec, &len) == 1) {
		if ((r = th_mesh_undo_record(&m, kind, rec, len)))
			die("th_mesh_undo_record", r, NULL);
		undone++;
	}
	uint64_t t_undo = th_now_ns() - t0;
	th_journal_truncate(&j, mark);

	struct th_pl_mesh_op ops[5];
	uint64_t ids[5] = { 0 };
	t0 = th_now_ns();
	unsigned moves = 0;
	for (unsigned y = 0; y <= GRID; y += 2)
		for (unsigned x = 0; x <= GRID; x++, moves++) {
			ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_VERTEX_MOVE, .element = vid(0, x, y),
							 .position = { (float)x, (float)y, 0.5f } };
			apply(&m, ops, 1, ids, &j);
			if (moves % 1024 == 0)
				th_journal_truncate(&j, mark);
		}
	uint64_t t_move = th_now_ns() - t0;
	th_journal_truncate(&j, mark);

	/* Grid 1's faces that are still there go, one patch each. */
	unsigned removed = 0;
	t0 = th_now_ns();
	for (unsigned y = 0; y < GRID; y++)
		for (unsigned x = 0; x < GRID; x++) {
			if (th_mesh_face_find(&m, fid(1, x, y)) == TH_MESH_NONE)
				continue;
			ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_REMOVE, .element = fid(1, x, y) };
			apply(&m, ops, 1, ids, &j);
			if (++removed % 1024 == 0)
				th_journal_truncate(&j, mark);
		}
	uint64_t t_remove = th_now_ns() - t0;
	th_journal_truncate(&j, mark);

	/* Grid 1's vertices go too (untimed): grid 0 alone, about 100 k faces. */
	{
		static struct th_pl_mesh_op vops[VERT_BATCH];
		unsigned n = 0;
		for (unsigned y = 0; y <= GRID; y++)
			for (unsigned x = 0; x <= GRID; x++) {
				vops[n++] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_REMOVE, .element = vid(1, x, y) };
				if (n == VERT_BATCH || (y == GRID && x == GRID)) {
					apply(&m, vops, n, NULL, NULL);
					n = 0;
				}
			}
	}
	uint64_t enc[RUNS], dec[RUNS], chk[RUNS], cpy[RUNS];
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	for (unsigned i = 0; i < RUNS; i++) {
		th_wbuf_reset(&w);
		t0 = th_now_ns();
		if ((r = th_mesh_encode(&m, &w)))
			die("th_mesh_encode", r, NULL);
		enc[i] = th_now_ns() - t0;
		struct th_mesh d;
		size_t used;
		const char *why = NULL;
		t0 = th_now_ns();
		if ((r = th_mesh_decode(&d, w.data, w.len, &used, &why)))
			die("th_mesh_decode", r, why);
		dec[i] = th_now_ns() - t0;
		t0 = th_now_ns();
		if ((r = th_mesh_check(&d, &why)))
			die("th_mesh_check", r, why);
		chk[i] = th_now_ns() - t0;
		th_mesh_fini(&d);
		uint8_t *copy = malloc(w.len);
		if (!copy)
			die("malloc", -ENOMEM, NULL);
		t0 = th_now_ns();
		memcpy(copy, w.data, w.len);
		__asm__ volatile("" : : "r"(copy) : "memory");
		cpy[i] = th_now_ns() - t0;
		free(copy);
	}
	struct th_mesh_stats st;
	th_mesh_stats(&m, &st);
	fprintf(stderr, "bench_mesh: %u faces, %u vertices, %zu bytes encoded, %llu records undone\n", st.faces,
		st.vertices, w.len, (unsigned long long)undone);
	th_wbuf_fini(&w);

	th_bench_figure("scene.mesh.face_add_per_s", faces / ((double)t_add / 1e9), "1/s");
	th_bench_figure("scene.mesh.baseline.hash_insert_per_s", 5 * faces / ((double)t_base / 1e9), "1/s");
	th_bench_figure("scene.mesh.face_add_vs_inserts_ratio", (double)t_add / (double)t_base, "x");
	th_bench_figure("scene.mesh.face_remove_per_s", removed / ((double)t_remove / 1e9), "1/s");
	th_bench_figure("scene.mesh.vertex_move_per_s", moves / ((double)t_move / 1e9), "1/s");
	th_bench_figure("scene.mesh.undo_per_s", (double)undone / ((double)t_undo / 1e9), "1/s");
	th_bench_figure("scene.mesh.encode_100k_ms", (double)median(enc, RUNS) / 1e6, "ms");
	th_bench_figure("scene.mesh.decode_100k_ms", (double)median(dec, RUNS) / 1e6, "ms");
	th_bench_figure("scene.mesh.check_100k_ms", (double)median(chk, RUNS) / 1e6, "ms");
	th_bench_figure("scene.mesh.baseline.memcpy_100k_ms", (double)median(cpy, RUNS) / 1e6, "ms");
	uint64_t t_small, t_small_dec, t_small_cpy;
	small_meshes(&t_small, &t_small_dec, &t_small_cpy);
	th_bench_figure("scene.mesh.encode_10k_small_ms", (double)t_small / 1e6, "ms");
	th_bench_figure("scene.mesh.decode_10k_small_ms", (double)t_small_dec / 1e6, "ms");
	th_bench_figure("scene.mesh.baseline.memcpy_10k_small_ms", (double)t_small_cpy / 1e6, "ms");
	th_journal_fini(&j);
	th_mesh_fini(&m);
	return 0;
}
