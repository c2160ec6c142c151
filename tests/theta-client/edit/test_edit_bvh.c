/* One mesh's tree (edit/edit_ray.h, edit_bvh_*): the same answers as the
 * brute force over every face, bit for bit, on random rays at random meshes
 * through random operations of th_meshop (extrudes, subdivides, insets,
 * bevels, deletes, welds, ...) and their undo, each followed by the tree's
 * refit (faces that only moved) or incremental rebuild (faces added or
 * removed: a side tree, a full build past a fraction); a stale tree
 * refused; out of memory leaving the tree as it was. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <math.h>

#include "edit/edit_ray.h"
#include "th_allocfail.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"
#include "th_meshpick.h"

#define MESH_ID 0x62766831u
#define RAYS_PER_STEP 200u
#define SEQUENCES 24u
#define STEPS 14u
#define FACE_CAP 1500u

static const uint8_t author[32] = { 0xb7 };

static uint32_t rng_pick(void *ctx, uint32_t n)
{
	uint64_t *x = ctx;
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 11) % n;
}

static float frand(uint64_t *rs, float lo, float hi)
{
	return lo + (hi - lo) * (float)rng_pick(rs, 1u << 24) / (float)(1u << 24);
}

/* The box around m's live vertices. */
static void bounds(const struct th_mesh *m, float lo[3], float hi[3])
{
	for (int k = 0; k < 3; k++) {
		lo[k] = INFINITY;
		hi[k] = -INFINITY;
	}
	for (uint32_t v = 0; v < m->nverts; v++)
		for (int k = 0; m->verts[v].id && k < 3; k++) {
			lo[k] = fminf(lo[k], m->verts[v].pos[k]);
			hi[k] = fmaxf(hi[k], m->verts[v].pos[k]);
		}
}

/* n random rays at m: from around its box towards a random live vertex
 * (jittered), a face centre, or anywhere; some axis-aligned, some short.
 * Each answer of the tree equals the brute force's exactly. Returns the
 * hits. */
static unsigned same_as_brute(const struct edit_bvh *b, const struct th_mesh *m, uint64_t *rs, unsigned n)
{
	float lo[3], hi[3];
	bounds(m, lo, hi);
	unsigned hits = 0;
	for (unsigned i = 0; i < n; i++) {
		float o[3], aim[3], d[3];
		for (int k = 0; k < 3; k++) {
			float ext = hi[k] - lo[k] + 0.1f;
			o[k] = frand(rs, lo[k] - ext, hi[k] + ext);
			aim[k] = frand(rs, lo[k], hi[k]);
		}
		uint32_t how = rng_pick(rs, 4);
		if (how < 2 && m->live_verts) {
			uint32_t v = rng_pick(rs, m->nverts);
			while (!m->verts[v].id)
				v = (v + 1) % m->nverts;
			for (int k = 0; k < 3; k++)
				aim[k] = m->verts[v].pos[k] + (how ? frand(rs, -0.01f, 0.01f) : 0.0f);
		}
		for (int k = 0; k < 3; k++)
			d[k] = aim[k] - o[k];
		if (rng_pick(rs, 8) == 0) { /* along an axis */
			int ax = (int)rng_pick(rs, 3);
			for (int k = 0; k < 3; k++)
				d[k] = k == ax ? (d[k] < 0 ? -1.0f : 1.0f) : 0.0f;
		}
		float tmax = rng_pick(rs, 6) == 0 ? frand(rs, 0.0f, 1.0f) : EDIT_RAY_MAX_DIST;
		uint64_t fa = 0, fb = 0;
		float ta = -1, tb = -1, pa[3] = { 0 }, pb[3] = { 0 };
		int ra = edit_bvh_raycast(b, m, o, d, tmax, &fa, &ta, pa);
		int rb = edit_mesh_raycast_brute(m, o, d, tmax, &fb, &tb, pb);
		if (ra != rb || fa != fb || ta != tb) {
			struct edit_bvh *fresh;
			assert_int_equal(edit_bvh_build(m, &fresh), 0);
			uint64_t fc = 0;
			float tc = -1, pc[3];
			int rc = edit_bvh_raycast(fresh, m, o, d, tmax, &fc, &tc, pc);
			print_message("# a fresh tree: %d face %" PRIx64 " t %g\n", rc, fc, tc);
			edit_bvh_destroy(&fresh);
			fail_msg("ray %u from (%g %g %g) along (%g %g %g) tmax %g: tree %d face %" PRIx64
				 " t %.9g, brute %d face %" PRIx64 " t %.9g",
				 i, o[0], o[1], o[2], d[0], d[1], d[2], tmax, ra, fa, ta, rb, fb, tb);
		}
		if (ra) {
			assert_memory_equal(pa, pb, sizeof pa);
			hits++;
		}
	}
	return hits;
}

static void info_matches(const struct edit_bvh *b, const struct th_mesh *m)
{
	struct edit_bvh_info bi;
	edit_bvh_info(b, &bi);
	assert_int_equal(bi.faces, m->live_faces);
	assert_int_equal(bi.version, m->version);
	assert_true(bi.leaves <= bi.nodes);
	assert_true(m->live_faces == 0 || bi.leaves > 0);
	assert_true(bi.depth <= 64);
	/* At least its refs and leaf links, and the snapshot of every slot. */
	assert_true(edit_bvh_bytes(b) >= (uint64_t)bi.faces * 8 + (uint64_t)m->nverts * 12 + (uint64_t)m->nhes * 8);
}

static void apply(struct th_mesh *m, const struct th_patch *p, uint64_t seq, struct th_journal *j)
{
	const char *why = NULL;
	int r = th_patch_apply(m, p, author, seq, j, &why);
	if (r)
		fail_msg("patch refused (%d): %s", r, why ? why : "?");
}

static void random_meshes_through_random_operations(void **state)
{
	unsigned refits = 0, rebuilds = 0, hits = 0, rays = 0, undos = 0;
	for (uint64_t seed = 1; seed <= SEQUENCES; seed++) {
		uint64_t rs = seed * UINT64_C(0x9e3779b97f4a7c15) + 7;
		struct mp_src src = { rng_pick, &rs };
		struct th_mesh m;
		struct th_journal j;
		struct th_patch p;
		th_journal_init(&j, 0);
		th_patch_init(&p);
		assert_int_equal(mp_start(&m, MESH_ID, &src), 0);
		struct edit_bvh *b = NULL;
		assert_int_equal(edit_bvh_build(&m, &b), 0);
		info_matches(b, &m);
		hits += same_as_brute(b, &m, &rs, RAYS_PER_STEP);
		rays += RAYS_PER_STEP;
		size_t marks[STEPS];
		unsigned depth = 0;
		for (unsigned step = 0; step < STEPS; step++) {
			if (depth && rng_pick(&rs, 5) == 0) {
				/* Undo the newest applied step. */
				mf_undo_to(&m, &j, marks[--depth]);
				undos++;
			} else {
				struct mp_call c;
				th_patch_clear(&p);
				mp_run(&m, &src, FACE_CAP, &p, &c);
				if (c.r < 0 || p.n == 0)
					continue;
				marks[depth++] = th_journal_mark(&j);
				apply(&m, &p, seed << 8 | step, &j);
			}
			int r = edit_bvh_update(b, &m);
			assert_true(r == 0 || r == 1);
			r ? rebuilds++ : refits++;
			info_matches(b, &m);
			hits += same_as_brute(b, &m, &rs, RAYS_PER_STEP);
			rays += RAYS_PER_STEP;
			/* Nothing changed: nothing to do. */
			assert_int_equal(edit_bvh_update(b, &m), 0);
		}
		edit_bvh_destroy(&b);
		assert_null(b);
		th_patch_fini(&p);
		th_journal_fini(&j);
		th_mesh_fini(&m);
	}
	print_message("# %u refits, %u rebuilds, %u undos, %u of %u rays hit\n", refits, rebuilds, undos, hits, rays);
	assert_true(refits > 10);
	assert_true(rebuilds > 30);
	assert_true(undos > 10);
	assert_true(hits > rays / 5);
}

/* A cube cut `cuts` times per edge (6 (cuts + 1)^2 quads). */
static void cut_cube(struct th_mesh *m, unsigned cuts)
{
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.subdiv = cuts;
	assert_int_equal(mf_prim_mesh(m, MESH_ID, &pp, author, NULL), 0);
}

/* The face of m facing +y nearest the top's centre. */
static uint64_t top_face(const struct th_mesh *m)
{
	uint64_t id = 0;
	mf_top_faces(m, 1, &id, NULL);
	return id;
}

static void a_refit_follows_moved_faces(void **state)
{
	struct th_mesh m;
	cut_cube(&m, 12);
	struct edit_bvh *b;
	assert_int_equal(edit_bvh_build(&m, &b), 0);
	struct edit_bvh_info before, after;
	edit_bvh_info(b, &before);
	assert_int_equal(before.faces, 6 * 13 * 13);
	/* Down onto the top's centre: y = 0.5. */
	float o[3] = { 0.001f, 3, 0.002f }, d[3] = { 0, -1, 0 }, t, pt[3];
	uint64_t face;
	assert_int_equal(edit_bvh_raycast(b, &m, o, d, 10, &face, &t, pt), 1);
	assert_int_equal(face, top_face(&m));
	assert_float_equal(t, 2.5f, 1e-5);
	const uint64_t lifted = face;
	/* The top face's corners lifted 1 m. */
	uint64_t verts[8];
	int nv = th_op_vertices_of(&m, &face, 1, NULL, NULL, 0, verts, 8);
	assert_int_equal(nv, 4);
	struct th_affine a;
	th_affine_translate(&a, (float[3]){ 0, 1, 0 });
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	assert_int_equal(th_op_transform(&m, verts, (unsigned)nv, &a, &p, &why), 0);
	apply(&m, &p, 2, NULL);
	assert_int_equal(edit_bvh_raycast(b, &m, o, d, 10, &face, &t, pt), -ESTALE);
	assert_int_equal(edit_bvh_update(b, &m), 0); /* refitted */
	edit_bvh_info(b, &after);
	assert_int_equal(after.nodes, before.nodes);
	assert_int_equal(after.version, m.version);
	assert_int_equal(edit_bvh_raycast(b, &m, o, d, 10, &face, &t, pt), 1);
	assert_int_equal(face, top_face(&m) ? face : 0);
	assert_int_equal(face, lifted); /* the same face, met 1 m sooner */
	assert_float_equal(t, 1.5f, 1e-5);
	uint64_t rs = 99;
	same_as_brute(b, &m, &rs, 500);
	/* The whole mesh moved and turned: still a refit. */
	float q[4] = { 0, sinf(0.3f), 0, cosf(0.3f) };
	th_affine_rotate(&a, q, (float[3]){ 0.2f, 0, 0 });
	th_patch_clear(&p);
	assert_int_equal(th_op_transform(&m, NULL, 0, &a, &p, &why), 0);
	apply(&m, &p, 3, NULL);
	assert_int_equal(edit_bvh_update(b, &m), 0);
	same_as_brute(b, &m, &rs, 500);
	th_patch_fini(&p);
	edit_bvh_destroy(&b);
	th_mesh_fini(&m);
}

/* Rays along the axes through every vertex of a cut cube: each runs in
 * the planes of the boxes around the faces at that vertex (a direction
 * component exactly 0, the origin exactly on a box's side), the case
 * where a slab test dividing by a stand-in for 0 cuts the box short. The
 * tree answers as the brute force does, bit for bit, and the rays down
 * onto the top all hit it. */
static void axis_rays_in_the_planes_of_the_boxes(void **state)
{
	struct th_mesh m;
	cut_cube(&m, 6);
	struct edit_bvh *b;
	assert_int_equal(edit_bvh_build(&m, &b), 0);
	unsigned rays = 0, hits = 0, top = 0, top_hits = 0;
	for (uint32_t v = 0; v < m.nverts; v++) {
		if (!m.verts[v].id)
			continue;
		const float *p = m.verts[v].pos;
		for (int ax = 0; ax < 3; ax++) {
			for (int sgn = -1; sgn <= 1; sgn += 2) {
				float o[3] = { p[0], p[1], p[2] }, d[3] = { 0, 0, 0 };
				o[ax] = -3.0f * (float)sgn;
				d[ax] = (float)sgn;
				uint64_t fa = 0, fb = 0;
				float ta = -1, tb = -1, pa[3], pb[3];
				int ra = edit_bvh_raycast(b, &m, o, d, EDIT_RAY_MAX_DIST, &fa, &ta, pa);
				int rb = edit_mesh_raycast_brute(&m, o, d, EDIT_RAY_MAX_DIST, &fb, &tb, pb);
				if (ra != rb || fa != fb || ta != tb)
					fail_msg("vertex %u along axis %d (%+d): tree %d face %" PRIx64 " t %.9g, brute %d face %" PRIx64
						 " t %.9g",
						 v, ax, sgn, ra, fa, ta, rb, fb, tb);
				rays++;
				hits += ra == 1;
				if (ax == 1 && sgn < 0 && p[1] > 0.49f) {
					top++;
					top_hits += ra == 1;
				}
			}
		}
	}
	assert_true(rays > 0);
	assert_true(top > 0);
	assert_int_equal(top_hits, top);
	assert_true(hits * 2 > rays);
	edit_bvh_destroy(&b);
	th_mesh_fini(&m);
}

static void added_faces_go_to_a_side_tree_then_a_full_build(void **state)
{
	struct th_mesh m;
	cut_cube(&m, 16); /* 1734 faces */
	struct edit_bvh *b;
	assert_int_equal(edit_bvh_build(&m, &b), 0);
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	uint64_t rs = 5;
	/* One extrude: 4 side quads added, the cap moved. */
	uint64_t face = top_face(&m);
	assert_int_equal(th_op_extrude_faces(&m, &face, 1, NULL, 0.3f, false, &p, &why), 0);
	apply(&m, &p, 2, NULL);
	assert_int_equal(edit_bvh_update(b, &m), 1);
	info_matches(b, &m);
	struct edit_bvh *fresh;
	assert_int_equal(edit_bvh_build(&m, &fresh), 0);
	struct edit_bvh_info bi, fi;
	edit_bvh_info(b, &bi);
	edit_bvh_info(fresh, &fi);
	assert_true(bi.nodes != fi.nodes); /* the side tree's own nodes */
	edit_bvh_destroy(&fresh);
	float o[3] = { 0.001f, 3, 0.002f }, d[3] = { 0, -1, 0 }, t, pt[3];
	uint64_t hit;
	assert_int_equal(edit_bvh_raycast(b, &m, o, d, 10, &hit, &t, pt), 1);
	assert_true(th_mesh_face_find(&m, hit) >= 0);
	assert_float_equal(t, 2.2f, 1e-5); /* the cap, 30 cm up */
	same_as_brute(b, &m, &rs, 500);
	/* A side face hit from the side. */
	float o2[3] = { 0.001f, 0.6f, 3 }, d2[3] = { 0, 0, -1 };
	assert_int_equal(edit_bvh_raycast(b, &m, o2, d2, 10, &hit, &t, pt), 1);
	assert_true(th_mesh_face_find(&m, hit) >= 0);
	assert_true(t > 2.5f && t < 3);
	/* Subdividing faces: the neighbours gain corners (same ids, new loops). */
	uint64_t sub[16];
	unsigned ns = 0;
	for (uint32_t f = 0; f < m.nfaces && ns < 16; f += 37)
		if (m.faces[f].id)
			sub[ns++] = m.faces[f].id;
	th_patch_clear(&p);
	assert_int_equal(th_op_subdivide(&m, sub, ns, &p, &why), 0);
	apply(&m, &p, 3, NULL);
	assert_int_equal(edit_bvh_update(b, &m), 1);
	info_matches(b, &m);
	same_as_brute(b, &m, &rs, 500);
	/* Extrude after extrude, until the side outgrows an eighth of the tree:
	 * then the whole is built again (the same tree a fresh build makes). */
	bool full = false;
	for (unsigned i = 0; i < 200 && !full; i++) {
		uint64_t fs[8];
		unsigned n = 0;
		for (uint32_t f = (i * 53) % m.nfaces; f < m.nfaces && n < 8; f += 97)
			if (m.faces[f].id)
				fs[n++] = m.faces[f].id;
		th_patch_clear(&p);
		assert_int_equal(th_op_extrude_faces(&m, fs, n, NULL, 0.05f, false, &p, &why), 0);
		apply(&m, &p, 10 + i, NULL);
		assert_int_equal(edit_bvh_update(b, &m), 1);
		info_matches(b, &m);
		assert_int_equal(edit_bvh_build(&m, &fresh), 0);
		edit_bvh_info(b, &bi);
		edit_bvh_info(fresh, &fi);
		full = bi.nodes == fi.nodes && bi.leaves == fi.leaves && bi.depth == fi.depth;
		edit_bvh_destroy(&fresh);
		if (i % 10 == 0)
			same_as_brute(b, &m, &rs, 100);
	}
	assert_true(full);
	same_as_brute(b, &m, &rs, 500);
	/* Removing faces: deleted faces are never hit again. */
	uint64_t del[64];
	unsigned nd = 0;
	for (uint32_t f = 0; f < m.nfaces && nd < 64; f += 11)
		if (m.faces[f].id)
			del[nd++] = m.faces[f].id;
	th_patch_clear(&p);
	assert_int_equal(th_op_delete(&m, NULL, 0, NULL, NULL, 0, del, nd, &p, &why), 0);
	apply(&m, &p, 1000, NULL);
	assert_int_equal(edit_bvh_update(b, &m), 1);
	info_matches(b, &m);
	same_as_brute(b, &m, &rs, 1000);
	th_patch_fini(&p);
	edit_bvh_destroy(&b);
	th_mesh_fini(&m);
}

static void empty_meshes_and_meshes_emptied(void **state)
{
	struct th_mesh m;
	assert_int_equal(th_mesh_init(&m, MESH_ID), 0);
	struct edit_bvh *b;
	assert_int_equal(edit_bvh_build(&m, &b), 0);
	float o[3] = { 0, 0, 5 }, d[3] = { 0, 0, -1 }, t, pt[3];
	uint64_t face;
	assert_int_equal(edit_bvh_raycast(b, &m, o, d, 10, &face, &t, pt), 0);
	assert_int_equal(edit_mesh_raycast_brute(&m, o, d, 10, &face, &t, pt), 0);
	struct edit_bvh_info bi;
	edit_bvh_info(b, &bi);
	assert_int_equal(bi.nodes, 0);
	assert_int_equal(bi.faces, 0);
	/* A cube appears in it. */
	struct th_journal j;
	th_journal_init(&j, 0);
	struct mf_patch *mp = mf_patch_new();
	mf_add_cube_verts(mp);
	for (int f = 0; f < 6; f++)
		mf_p_face(mp, 101 + (uint64_t)f, 0, 4, mf_cube_faces[f]);
	assert_int_equal(mf_apply(&m, mp, &j, NULL), 0);
	assert_int_equal(edit_bvh_update(b, &m), 1);
	info_matches(b, &m);
	assert_int_equal(edit_bvh_raycast(b, &m, o, d, 10, &face, &t, pt), 1);
	uint64_t rs = 3;
	same_as_brute(b, &m, &rs, 300);
	/* And goes again (undone). */
	mf_undo_to(&m, &j, 0);
	assert_int_equal(m.live_faces, 0);
	assert_int_equal(edit_bvh_update(b, &m), 1);
	info_matches(b, &m);
	assert_int_equal(edit_bvh_raycast(b, &m, o, d, 10, &face, &t, pt), 0);
	free(mp);
	th_journal_fini(&j);
	edit_bvh_destroy(&b);
	edit_bvh_destroy(&b);
	th_mesh_fini(&m);
}

/* Every allocation of a build, then of an update, failing in turn: -ENOMEM,
 * nothing leaked, the tree as it was (still answering for the mesh it
 * followed: stale for the new one), then the update that succeeds. */
static void out_of_memory_leaves_the_tree_as_it_was(void **state)
{
#ifndef TH_AF_CAN_FAIL
	skip();
#else
	struct th_mesh m;
	cut_cube(&m, 6);
	struct edit_bvh *b = NULL;
	unsigned failed = 0;
	for (long k = 0;; k++) {
		long live = th_af_live;
		th_af_countdown = k;
		int r = edit_bvh_build(&m, &b);
		th_af_countdown = -1;
		if (r == 0)
			break;
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(th_af_live, live);
		failed++;
	}
	assert_true(failed >= 2);
	uint64_t rs = 11;
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	/* A topology change (extrude) and a move, each with failures. */
	for (int kind = 0; kind < 2; kind++) {
		struct th_mesh next;
		assert_int_equal(th_mesh_copy(&next, &m), 0);
		uint64_t face = top_face(&next);
		th_patch_clear(&p);
		if (kind == 0) {
			assert_int_equal(th_op_extrude_faces(&next, &face, 1, NULL, 0.2f, false, &p, &why), 0);
		} else {
			struct th_affine a;
			th_affine_translate(&a, (float[3]){ 0.1f, 0, 0 });
			assert_int_equal(th_op_transform(&next, NULL, 0, &a, &p, &why), 0);
		}
		apply(&next, &p, 5 + (uint64_t)kind, NULL);
		/* b followed m; it must follow next now (b's slots are m's, and next is a copy of m). */
		failed = 0;
		for (long k = 0;; k++) {
			struct edit_bvh_info before, after;
			edit_bvh_info(b, &before);
			long live = th_af_live;
			th_af_countdown = k;
			int r = edit_bvh_update(b, &next);
			th_af_countdown = -1;
			if (r >= 0)
				break;
			assert_int_equal(r, -ENOMEM);
			assert_int_equal(th_af_live, live);
			edit_bvh_info(b, &after);
			assert_memory_equal(&before, &after, sizeof before);
			failed++;
		}
		assert_true(kind == 1 || failed >= 1);
		info_matches(b, &next);
		same_as_brute(b, &next, &rs, 300);
		th_mesh_fini(&m);
		m = next;
	}
	th_patch_fini(&p);
	long live = th_af_live;
	edit_bvh_destroy(&b);
	assert_true(th_af_live < live);
	th_mesh_fini(&m);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_meshes_through_random_operations),
		cmocka_unit_test(a_refit_follows_moved_faces),
		cmocka_unit_test(axis_rays_in_the_planes_of_the_boxes),
		cmocka_unit_test(added_faces_go_to_a_side_tree_then_a_full_build),
		cmocka_unit_test(empty_meshes_and_meshes_emptied),
		cmocka_unit_test(out_of_memory_leaves_the_tree_as_it_was),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
