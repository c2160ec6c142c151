/* Ray picking benchmarks (make bench-input): one mesh of about 100 k faces
 * (a cube cut 64 times per edge, every quad subdivided: 6 x 65 x 65 x 4 =
 * 101 400 quads), with the baselines measured in the same run.
 *
 *   input.ray_bvh_100k_per_s        rays per second through the tree (edit_bvh_raycast), random
 *                                   rays from 3 m around at points inside the mesh's box
 *   input.ray_brute_100k_per_s      the same rays (the first BRUTE_RAYS) testing every face
 *                                   (edit_mesh_raycast_brute): the baseline
 *   input.ray_bvh_vs_brute          their ratio (goal: at least 100 times)
 *   input.bvh_build_100k_ms         edit_bvh_build of the whole mesh (median)
 *   input.bvh_bytes_per_face        the memory that tree holds (edit_bvh_bytes) per face
 *   input.bvh_refit_1k_ms           edit_bvh_update after 1024 faces of the top moved up or down
 *                                   (th_op_transform of their vertices): the refit (median)
 *   input.bvh_refit_vs_build        its ratio to the build (goal: under 0.1)
 *   input.bvh_extrude_1k_ms         edit_bvh_update after those 1024 faces were extruded one by
 *                                   one (4 096 side quads added, the caps moved): the side tree
 *   input.bvh_extrude_undo_1k_ms    edit_bvh_update after that extrude was undone (faces removed)
 *   input.ray_bvh_after_edits_per_s rays per second through the tree after those edits (main tree
 *                                   with dead faces, and the side tree)
 *
 * And a scene (th_scene, entries folded by th_scene_apply): SCENE_ENTITIES
 * strips of STRIP_QUADS quads, each entity turned, stretched and placed at
 * random in a 10 m box, rays from 8 m around into it:
 *
 *   input.raycast_scene_first_ms    the first edit_raycast (every entity's tree built)
 *   input.raycast_scene_per_s       edit_raycast per second after that (FACE mode)
 *   input.raycast_scene_brute_per_s the baseline: each entity's ray into mesh space and every
 *                                   face tested (edit_mesh_raycast_brute), nearest kept
 *   input.raycast_scene_vs_brute    their ratio
 *
 * Every answer the tree gives for the first BRUTE_RAYS rays is checked
 * against the brute force's; a difference fails the benchmark. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit_ray.h"
#include "th_bench.h"
#include "th_logtest.h"
#include "th_scene.h"
#include "th_scenelog.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"
#include "th_time.h"

#define CUBE_CUTS 64u
#define BVH_RAYS 20000u
#define BRUTE_RAYS 200u
#define ROUNDS 5u
#define BUILDS 5u
#define REFITS 21u
#define EXTRUDES 7u
#define EDIT_FACES 1024u
#define SCENE_ENTITIES 200u
#define STRIP_QUADS 100u
#define SCENE_RAYS 5000u
#define SCENE_BRUTE_RAYS 100u

static const uint8_t author[32] = { 0xb0 };

static void die(const char *what, int r, const char *why)
{
	fprintf(stderr, "bench_input: %s failed (%d%s%s)\n", what, r, why ? ": " : "", why ? why : "");
	exit(1);
}

static double median_ms(uint64_t *ns, unsigned n)
{
	return th_bench_median_ms(ns, n);
}

#define RNG_SEED 0x1234567887654321ull /* mf_rng's */

struct rays {
	float o[BVH_RAYS][3], d[BVH_RAYS][3];
};

/* From a sphere of radius 3 m around the centre at points inside the box
 * (half a metre each way). */
static void make_rays(struct rays *r)
{
	for (unsigned i = 0; i < BVH_RAYS; i++) {
		float o[3];
		mf_rand_dir(o);
		for (int k = 0; k < 3; k++) {
			r->o[i][k] = o[k] * 3;
			r->d[i][k] = mf_frand(-0.5f, 0.5f) - r->o[i][k];
		}
	}
}

static void apply(struct th_mesh *m, const struct th_patch *p, uint64_t seq, struct th_journal *j)
{
	const char *why = NULL;
	int r = th_patch_apply(m, p, author, seq, j, &why);
	if (r < 0)
		die("th_patch_apply", r, why);
}

static void undo_all(struct th_mesh *m, struct th_journal *j)
{
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	while (th_journal_pop(j, 0, &kind, &d, &len) == 1)
		if (th_mesh_undo_record(m, kind, d, len) < 0)
			die("th_mesh_undo_record", -EINVAL, NULL);
}

/* BVH_RAYS rays through b, rounds times: the median rays per second; hits
 * counted in *hits. */
static double bvh_rate(const struct edit_bvh *b, const struct th_mesh *m, const struct rays *rs, unsigned *hits)
{
	static uint64_t ns[ROUNDS];
	for (unsigned k = 0; k < ROUNDS; k++) {
		unsigned h = 0;
		uint64_t t0 = th_now_ns();
		for (unsigned i = 0; i < BVH_RAYS; i++) {
			uint64_t face;
			float t, p[3];
			int r = edit_bvh_raycast(b, m, rs->o[i], rs->d[i], EDIT_RAY_MAX_DIST, &face, &t, p);
			if (r < 0)
				die("edit_bvh_raycast", r, NULL);
			h += (unsigned)r;
		}
		ns[k] = th_now_ns() - t0;
		*hits = h;
	}
	return BVH_RAYS / (median_ms(ns, ROUNDS) / 1e3);
}

/* The first BRUTE_RAYS rays face by face: rays per second, each answer
 * checked against the tree's. */
static double brute_rate(const struct edit_bvh *b, const struct th_mesh *m, const struct rays *rs)
{
	uint64_t t0 = th_now_ns();
	static uint64_t face[BRUTE_RAYS];
	static float tt[BRUTE_RAYS];
	static int got[BRUTE_RAYS];
	for (unsigned i = 0; i < BRUTE_RAYS; i++) {
		float p[3];
		got[i] = edit_mesh_raycast_brute(m, rs->o[i], rs->d[i], EDIT_RAY_MAX_DIST, &face[i], &tt[i], p);
	}
	uint64_t ns = th_now_ns() - t0;
	for (unsigned i = 0; i < BRUTE_RAYS; i++) {
		uint64_t f = 0;
		float t = 0, p[3];
		int r = edit_bvh_raycast(b, m, rs->o[i], rs->d[i], EDIT_RAY_MAX_DIST, &f, &t, p);
		if (r != got[i] || (r && (f != face[i] || t != tt[i])))
			die("the tree's answer differs from the brute force's", -EPROTO, NULL);
	}
	return BRUTE_RAYS / ((double)ns / 1e9);
}

/* ---- a scene ---------------------------------------------------------------------- */

static void scene_apply_all(struct th_scene *sc, struct sh_log *l, size_t *done)
{
	for (; *done < l->n; (*done)++) {
		struct th_scene_refusal why = { 0 };
		int r = th_scene_apply(sc, &l->v[*done].e, NULL, &why);
		if (r < 0)
			die("th_scene_apply", r, why.why);
	}
}

/* The baseline: every face of every entity (edit_raycast's answer without trees). */
static int scene_brute(const struct th_scene *sc, const uint64_t *ents, unsigned n, const float o[3],
		       const float d[3], uint64_t *entity, uint64_t *face, float *dist)
{
	int got = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct th_c_transform *xf;
		const struct th_mesh *m;
		if (!edit_entity_mesh(sc, ents[i], &xf, &m))
			continue;
		float ol[3], dl[3], t, p[3];
		uint64_t f;
		edit_xf_point_to_local(xf, o, ol);
		edit_xf_dir_to_local(xf, d, dl);
		if (!edit_mesh_raycast_brute(m, ol, dl, got ? *dist : EDIT_RAY_MAX_DIST, &f, &t, p))
			continue;
		if (got && (t > *dist || (t == *dist && ents[i] > *entity)))
			continue;
		got = 1;
		*entity = ents[i];
		*face = f;
		*dist = t;
	}
	return got;
}

static void bench_scene(void)
{
	struct lt_author a;
	lt_author_init(&a, 0x5c);
	struct sh_log l;
	sh_init(&l, false);
	struct th_scene *sc;
	if (th_scene_create(&sc) < 0)
		die("th_scene_create", -ENOMEM, NULL);
	static uint64_t ents[SCENE_ENTITIES];
	size_t done = 0;
	for (unsigned i = 0; i < SCENE_ENTITIES; i++) {
		struct sh_mesh sm;
		int r = sh_mesh_strip(&l, &a, STRIP_QUADS, 0, 0, &sm);
		if (r < 0)
			die("sh_mesh_strip", r, NULL);
		ents[i] = sm.entity;
		struct th_c_transform xf = { .scale = { mf_frand(0.005f, 0.03f), mf_frand(0.2f, 2), 1 } };
		mf_rand_quat(xf.rotation);
		for (int k = 0; k < 3; k++)
			xf.position[k] = mf_frand(-5, 5);
		if ((r = sh_transform_write_trs(&l, &a, sm.entity, &xf)) < 0)
			die("sh_transform_write_trs", r, NULL);
	}
	scene_apply_all(sc, &l, &done);
	static float o[SCENE_RAYS][3], d[SCENE_RAYS][3];
	for (unsigned i = 0; i < SCENE_RAYS; i++) {
		float v[3];
		mf_rand_dir(v);
		for (int k = 0; k < 3; k++) {
			o[i][k] = v[k] * 8;
			d[i][k] = mf_frand(-5, 5) - o[i][k];
		}
	}
	struct edit_rays *c;
	if (edit_rays_create(&c) < 0)
		die("edit_rays_create", -ENOMEM, NULL);
	struct edit_ray r = { .mode = TH_SELECT_FACE };
	struct edit_hit h;
	memcpy(r.origin, o[0], sizeof r.origin);
	memcpy(r.dir, d[0], sizeof r.dir);
	uint64_t t0 = th_now_ns();
	if (edit_raycast(c, sc, &r, &h) < 0)
		die("edit_raycast", -EINVAL, NULL);
	th_bench_figure("input.raycast_scene_first_ms", (double)(th_now_ns() - t0) / 1e6, "ms");
	static uint64_t ns[ROUNDS];
	unsigned hits = 0;
	for (unsigned k = 0; k < ROUNDS; k++) {
		hits = 0;
		t0 = th_now_ns();
		for (unsigned i = 0; i < SCENE_RAYS; i++) {
			memcpy(r.origin, o[i], sizeof r.origin);
			memcpy(r.dir, d[i], sizeof r.dir);
			int got = edit_raycast(c, sc, &r, &h);
			if (got < 0)
				die("edit_raycast", got, NULL);
			hits += (unsigned)got;
		}
		ns[k] = th_now_ns() - t0;
	}
	double fast = SCENE_RAYS / (median_ms(ns, ROUNDS) / 1e3);
	t0 = th_now_ns();
	static int bgot[SCENE_BRUTE_RAYS];
	static uint64_t be[SCENE_BRUTE_RAYS], bf[SCENE_BRUTE_RAYS];
	static float bd[SCENE_BRUTE_RAYS];
	for (unsigned i = 0; i < SCENE_BRUTE_RAYS; i++) {
		float dl = sqrtf(d[i][0] * d[i][0] + d[i][1] * d[i][1] + d[i][2] * d[i][2]);
		float du[3] = { d[i][0] / dl, d[i][1] / dl, d[i][2] / dl };
		bgot[i] = scene_brute(sc, ents, SCENE_ENTITIES, o[i], du, &be[i], &bf[i], &bd[i]);
	}
	double slow = SCENE_BRUTE_RAYS / ((double)(th_now_ns() - t0) / 1e9);
	for (unsigned i = 0; i < SCENE_BRUTE_RAYS; i++) {
		memcpy(r.origin, o[i], sizeof r.origin);
		memcpy(r.dir, d[i], sizeof r.dir);
		int got = edit_raycast(c, sc, &r, &h);
		if (got != bgot[i] || (got && (h.entity != be[i] || h.element != bf[i] || h.dist != bd[i])))
			die("edit_raycast's answer differs from the baseline's", -EPROTO, NULL);
	}
	struct edit_rays_stats st;
	edit_rays_stats(c, &st);
	fprintf(stderr, "bench_input: a scene of %u entities, %u faces; %u of %u rays hit; %u trees\n",
		SCENE_ENTITIES, SCENE_ENTITIES * STRIP_QUADS, hits, SCENE_RAYS, st.trees);
	th_bench_figure("input.raycast_scene_per_s", fast, "rays/s");
	th_bench_figure("input.raycast_scene_brute_per_s", slow, "rays/s");
	th_bench_figure("input.raycast_scene_vs_brute", fast / slow, "x");
	edit_rays_destroy(&c);
	th_scene_destroy(&sc);
	sh_fini(&l);
}

int main(void)
{
	mf_rng = RNG_SEED;
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.subdiv = CUBE_CUTS;
	const char *why = NULL;
	struct th_mesh m;
	int r = mf_prim_mesh(&m, 0xb1b1, &pp, author, &why);
	if (r < 0)
		die("building the cube", r, why);
	struct th_patch p;
	th_patch_init(&p);
	uint64_t *all = malloc(m.live_faces * sizeof *all);
	unsigned na = 0;
	if (!all)
		die("malloc", -ENOMEM, NULL);
	for (uint32_t f = 0; f < m.nfaces; f++)
		if (m.faces[f].id)
			all[na++] = m.faces[f].id;
	th_patch_clear(&p);
	if ((r = th_op_subdivide(&m, all, na, &p, &why)) < 0)
		die("th_op_subdivide", r, why);
	apply(&m, &p, 2, NULL);
	free(all);
	fprintf(stderr, "bench_input: a cube of %u faces, %u vertices\n", m.live_faces, m.live_verts);

	static uint64_t ns[REFITS];
	struct edit_bvh *b = NULL;
	for (unsigned i = 0; i < BUILDS; i++) {
		edit_bvh_destroy(&b);
		uint64_t t0 = th_now_ns();
		if ((r = edit_bvh_build(&m, &b)) < 0)
			die("edit_bvh_build", r, NULL);
		ns[i] = th_now_ns() - t0;
	}
	double build_ms = median_ms(ns, BUILDS);
	struct edit_bvh_info bi;
	edit_bvh_info(b, &bi);
	fprintf(stderr, "bench_input: the tree: %u nodes, %u leaves, depth %u\n", bi.nodes, bi.leaves, bi.depth);

	static struct rays rs;
	make_rays(&rs);
	unsigned hits = 0;
	double bvh = bvh_rate(b, &m, &rs, &hits);
	double brute = brute_rate(b, &m, &rs);
	fprintf(stderr, "bench_input: %u of %u rays hit\n", hits, BVH_RAYS);
	th_bench_figure("input.ray_bvh_100k_per_s", bvh, "rays/s");
	th_bench_figure("input.ray_brute_100k_per_s", brute, "rays/s");
	th_bench_figure_goal("input.ray_bvh_vs_brute", bvh / brute, "x", ">= 100", bvh / brute >= 100);
	th_bench_figure("input.bvh_build_100k_ms", build_ms, "ms");
	uint64_t bytes = edit_bvh_bytes(b);
	fprintf(stderr, "bench_input: the tree holds %llu bytes for %u faces\n", (unsigned long long)bytes, bi.faces);
	th_bench_figure("input.bvh_bytes_per_face", (double)bytes / bi.faces, "bytes");

	/* Refits: the top's 1024 faces up, then down, ... */
	static uint64_t sel[EDIT_FACES], verts[EDIT_FACES * 4];
	unsigned ns_sel = mf_top_faces(&m, EDIT_FACES, sel, NULL);
	int nv = th_op_vertices_of(&m, sel, ns_sel, NULL, NULL, 0, verts, EDIT_FACES * 4);
	if (ns_sel != EDIT_FACES || nv <= 0)
		die("selecting the top faces", nv, NULL);
	for (unsigned i = 0; i < REFITS; i++) {
		struct th_affine a;
		th_affine_translate(&a, (float[3]){ 0, i % 2 ? -0.05f : 0.05f, 0 });
		th_patch_clear(&p);
		if ((r = th_op_transform(&m, verts, (unsigned)nv, &a, &p, &why)) < 0)
			die("th_op_transform", r, why);
		apply(&m, &p, 10 + i, NULL);
		uint64_t t0 = th_now_ns();
		r = edit_bvh_update(b, &m);
		ns[i] = th_now_ns() - t0;
		if (r != 0)
			die("a refit", r, NULL);
	}
	double refit_ms = median_ms(ns, REFITS);
	th_bench_figure("input.bvh_refit_1k_ms", refit_ms, "ms");
	th_bench_figure_goal("input.bvh_refit_vs_build", refit_ms / build_ms, "x", "< 0.1", refit_ms < build_ms / 10);

	/* Extrudes of those faces (each on its own), and their undo. */
	static uint64_t ex_ns[EXTRUDES], undo_ns[EXTRUDES];
	struct th_journal j;
	th_journal_init(&j, 0);
	for (unsigned i = 0; i < EXTRUDES; i++) {
		th_patch_clear(&p);
		if ((r = th_op_extrude_faces(&m, sel, ns_sel, NULL, 0.02f, false, &p, &why)) < 0)
			die("th_op_extrude_faces", r, why);
		apply(&m, &p, 100 + i, &j);
		uint64_t t0 = th_now_ns();
		r = edit_bvh_update(b, &m);
		ex_ns[i] = th_now_ns() - t0;
		if (r != 1)
			die("the update after an extrude", r, NULL);
		if (i + 1 < EXTRUDES) {
			undo_all(&m, &j);
			t0 = th_now_ns();
			r = edit_bvh_update(b, &m);
			undo_ns[i] = th_now_ns() - t0;
			if (r != 1)
				die("the update after an undo", r, NULL);
		}
	}
	th_bench_figure("input.bvh_extrude_1k_ms", median_ms(ex_ns, EXTRUDES), "ms");
	th_bench_figure("input.bvh_extrude_undo_1k_ms", median_ms(undo_ns, EXTRUDES - 1), "ms");
	edit_bvh_info(b, &bi);
	fprintf(stderr, "bench_input: after the edits: %u faces, %u nodes\n", bi.faces, bi.nodes);
	double after = bvh_rate(b, &m, &rs, &hits);
	brute_rate(b, &m, &rs); /* checks the answers */
	th_bench_figure("input.ray_bvh_after_edits_per_s", after, "rays/s");

	th_journal_fini(&j);
	edit_bvh_destroy(&b);
	th_patch_fini(&p);
	th_mesh_fini(&m);
	bench_scene();
	return 0;
}
