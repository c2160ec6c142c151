/* make bench-web: the browser's fold against the C fold it is compiled
 * from. A session of N_ENTRIES entries by two authors (cubes, extrudes,
 * paints, moves) is folded natively (the baseline, best of 3) and by
 * theta.wasm in node through web/js/scene.js as the page feeds it
 * (tests/web/fold_check.mjs: one addEvent per entry, copy in included;
 * best of 3); figures: entries per second each, their ratio, and
 * theta.wasm's size. Prints a SKIP line without node or theta.wasm. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "edit/edit_palette.h"
#include "th_bench.h"
#include "th_fold.h"
#include "th_foldfix.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_meshop.h"
#include "scene_edits.h"
#include "../../web/tw_node.h"

#define N_ENTRIES 6000u
#define RUNS 3u

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct th_fold *fold_new(const uint8_t host[32])
{
	struct th_fold_config c = { .window_entries = UINT32_MAX, .window_bytes = SIZE_MAX };
	memcpy(c.host_key, host, 32);
	struct th_fold *f = NULL;
	if (th_fold_create(&c, &f) < 0)
		abort();
	return f;
}

static union th_pl_any pl;

/* The session, folded as it is made (extrudes need the mesh as it is). */
static void build(struct lt_author au[2], struct th_fold *f)
{
	static uint8_t buf[TH_LOGREC_PAYLOAD_MAX];
	uint64_t meshes[1024], ents[1024];
	unsigned nm = 0;
	struct th_patch p;
	th_patch_init(&p);
	for (unsigned i = 0; ff_nmade < N_ENTRIES; i++) {
		struct lt_author *a = &au[i & 1];
		size_t e;
		unsigned kind = i % 10;
		if (nm == 0 || kind == 0) {
			const float pos[3] = { (float)(nm % 32) * 2, 0, (float)(nm / 32) * 2 };
			int n = se_cube(pos, 1.0f, buf, sizeof buf);
			if (n < 0 || th_cmd_payload_decode(TH_CMD_MESH_CREATE, buf, (size_t)n, &pl, NULL) < 0)
				abort();
			e = ff_make(a, TH_CMD_MESH_CREATE, 0, i + 1, &pl.mesh_create);
			if (nm < 1024) {
				meshes[nm] = ff_element_of(e, 0);
				ents[nm++] = ff_entity_of(e);
			}
		} else {
			unsigned k = (i * 7u) % nm;
			const struct th_mesh *m = th_scene_mesh(th_fold_scene(f), meshes[k]);
			uint64_t face = 0;
			for (uint32_t s = m ? (i * 13u) % m->nfaces : 0; m && !face; s = (s + 1) % m->nfaces)
				face = m->faces[s].id;
			th_patch_clear(&p);
			const char *why = NULL;
			if (kind <= 3 && face && th_op_extrude_faces(m, &face, 1, NULL, 0.1f, false, &p, &why) == 0) {
				/* an extrude */
			} else if (kind <= 6 && face) {
				if (th_patch_face_material(&p, face, edit_palette_material(i % EDIT_PALETTE_SLOTS)) < 0)
					abort();
			} else {
				const float to[3] = { (float)i * 0.01f, 1, 0 };
				int n = se_transform(to, buf, sizeof buf);
				if (n < 0 || th_cmd_payload_decode(TH_CMD_COMPONENT_WRITE, buf, (size_t)n, &pl, NULL) < 0)
					abort();
				e = ff_make(a, TH_CMD_COMPONENT_WRITE, ents[k], i + 1, &pl.component_write);
				if (th_fold_add(f, ff_e(e), e) < 0)
					abort();
				continue;
			}
			pl.mesh_patch.ops_count = (uint16_t)p.n;
			memcpy(pl.mesh_patch.ops, p.ops, p.n * sizeof p.ops[0]);
			e = ff_make(a, TH_CMD_MESH_PATCH, meshes[k], i + 1, &pl.mesh_patch);
		}
		if (th_fold_add(f, ff_e(e), e) < 0)
			abort();
	}
	th_patch_fini(&p);
}

int main(void)
{
	const char *skip = twn_missing(true);
	if (skip) {
		printf("SKIP: %s\n", skip);
		return 0;
	}
	struct lt_author au[2];
	lt_author_init(&au[0], 0x51);
	lt_author_init(&au[1], 0x52);
	struct th_fold *f = fold_new(au[0].kp.pk);
	build(au, f);
	uint8_t want[32];
	th_fold_world_hash(f, want);
	th_fold_destroy(&f);

	/* Native: a fresh fold of the whole log, best of RUNS. */
	uint64_t best_native = UINT64_MAX;
	for (unsigned r = 0; r < RUNS; r++) {
		struct th_fold *g = fold_new(au[0].kp.pk);
		uint64_t t0 = now_ns();
		for (size_t i = 0; i < ff_nmade; i++)
			if (th_fold_add(g, ff_e(i), i) < 0)
				abort();
		uint64_t t = now_ns() - t0;
		uint8_t h[32];
		th_fold_world_hash(g, h);
		if (memcmp(h, want, 32))
			abort();
		th_fold_destroy(&g);
		if (t < best_native)
			best_native = t;
	}

	char dir[256];
	if (th_mkdtemp(dir, sizeof dir) < 0)
		abort();
	char path[300];
	snprintf(path, sizeof path, "%s/entries.twf", dir);
	struct th_wbuf w;
	twn_file_begin(&w, au[0].kp.pk);
	for (size_t i = 0; i < ff_nmade; i++)
		if (twn_file_entry(&w, i, ff_e(i)) < 0)
			abort();
	if (th_wbuf_error(&w) || lt_write_file(path, w.data, w.len) < 0)
		abort();
	th_wbuf_fini(&w);
	uint64_t best_wasm = UINT64_MAX;
	char hex[65];
	th_hex_encode(want, 32, hex);
	for (unsigned r = 0; r < RUNS; r++) {
		const char *argv[] = { "tests/web/fold_check.mjs", twn_wasm(), path, NULL };
		char *out = NULL;
		if (twn_run(argv, &out) != 0 || !out) {
			fprintf(stderr, "fold_check failed\n");
			return 1;
		}
		const char *h = twn_line(out, "hash"), *us = twn_line(out, "fold_us");
		if (!h || strncmp(h, hex, 64) || !us) {
			fprintf(stderr, "the wasm fold disagrees with the C fold\n");
			return 1;
		}
		uint64_t t = strtoull(us, NULL, 10) * 1000u;
		if (t < best_wasm)
			best_wasm = t;
		free(out);
	}
	unlink(path);
	rmdir(dir);
	struct stat st;
	double native = (double)ff_nmade / ((double)best_native / 1e9), wasm = (double)ff_nmade / ((double)best_wasm / 1e9);
	th_bench_figure("web_fold_native_entries_per_s", native, "entries/s");
	th_bench_figure("web_fold_wasm_entries_per_s", wasm, "entries/s");
	th_bench_figure("web_fold_wasm_vs_native", wasm / native, "ratio");
	if (stat(twn_wasm(), &st) == 0)
		th_bench_figure("web_wasm_bytes", (double)st.st_size, "bytes");
	ff_free_all();
	return 0;
}
