/* th_op_subdivide, th_op_catmull_clark and th_op_weld on known meshes: the
 * unit cube (tests/lib/th_meshfix), a 2 x 2 plane (boundaries), two open
 * cubes side by side, small strips. Every patch is applied with
 * th_patch_apply through a journal, the mesh checked with th_mesh_check,
 * its counts and positions compared with what the rules give, and the
 * journal undone back to the canonical encoding it started from. Every
 * refusal returns -EINVAL with a sentence and leaves the patch as it was. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"

static const uint8_t author[32] = { 7 };

/* One test's mesh, its journal, a fixture patch (mf_p_*), the op's patch
 * and the op's reason. */
struct sd {
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *mp;
	struct th_patch p;
	const char *why;
};

static void sd_patch(struct sd *t)
{
	th_patch_init(&t->p);
	t->why = NULL;
}

/* The fixture's cube of six faces (mf_cube_setup), an empty op patch. */
static void sd_cube(struct sd *t)
{
	t->mp = mf_cube_setup(&t->m, &t->j, 6);
	sd_patch(t);
}

/* An empty mesh, a journal, empty patches. */
static void sd_empty(struct sd *t)
{
	th_journal_init(&t->j, 0);
	assert_int_equal(th_mesh_init(&t->m, MF_MESH_ID), 0);
	t->mp = mf_patch_new();
	sd_patch(t);
}

/* The mesh emptied (a fresh one), the rest kept. */
static void sd_remesh(struct sd *t)
{
	th_mesh_fini(&t->m);
	assert_int_equal(th_mesh_init(&t->m, MF_MESH_ID), 0);
}

static void sd_fini(struct sd *t)
{
	th_patch_fini(&t->p);
	mf_teardown(&t->m, &t->j, t->mp);
}

/* Applies p (as entry (author, seq)) through j, checks the mesh and returns
 * the journal mark before it. */
static size_t apply_ok(struct th_mesh *m, const struct th_patch *p, struct th_journal *j, uint64_t seq)
{
	const char *why = NULL;
	size_t mark = th_journal_mark(j);
	int r = th_patch_apply(m, p, author, seq, j, &why);
	if (r)
		fail_msg("patch refused (%d): %s", r, why ? why : "?");
	mf_mesh_ok(m);
	return mark;
}

/* Undoes down to mark and compares with the encoding before. */
static void undo_to(struct th_mesh *m, struct th_journal *j, size_t mark, struct mf_enc before)
{
	mf_undo_to(m, j, mark);
	mf_assert_unchanged(m, before);
}

/* The op refused: -EINVAL, a sentence (*whyp, read after the call) containing
 * needle, the patch as it was. */
static void refused(int r, const char *const *whyp, const struct th_patch *p, uint32_t n_before, const char *needle)
{
	const char *why = *whyp;
	assert_int_equal(r, -EINVAL);
	assert_non_null(why);
	if (needle && !strstr(why, needle))
		fail_msg("reason \"%s\" lacks \"%s\"", why, needle);
	assert_int_equal(p->n, n_before);
}

static const float *pos_of(const struct th_mesh *m, uint64_t id)
{
	int32_t s = th_mesh_vert_find(m, id);
	assert_true(s >= 0);
	return m->verts[s].pos;
}

static void pos_near(const float *p, double x, double y, double z)
{
	assert_true(fabs(p[0] - x) < 1e-6 && fabs(p[1] - y) < 1e-6 && fabs(p[2] - z) < 1e-6);
}

static unsigned corners_of(const struct th_mesh *m, uint64_t face)
{
	int32_t f = th_mesh_face_find(m, face);
	assert_true(f >= 0);
	return m->faces[f].n;
}

/* How many live faces have n corners (and material mat, if mat >= 0). */
static unsigned faces_with(const struct th_mesh *m, unsigned n, int mat)
{
	unsigned k = 0;
	for (uint32_t f = 0; f < m->nfaces; f++)
		k += m->faces[f].id && m->faces[f].n == n && (mat < 0 || m->faces[f].material == (uint32_t)mat);
	return k;
}

/* Every live face has n corners. */
static void all_faces_have(const struct th_mesh *m, unsigned n)
{
	for (uint32_t f = 0; f < m->nfaces; f++)
		if (m->faces[f].id)
			assert_int_equal(m->faces[f].n, n);
}

/* A plane of nx x nz unit quads in y = 0 facing +y: vertex ids 1.. row by
 * row ((nx + 1) per row), face ids 1001.., material 3. */
static void build_grid(struct th_mesh *m, unsigned nx, unsigned nz)
{
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	for (unsigned z = 0; z <= nz; z++)
		for (unsigned x = 0; x <= nx; x++)
			mf_p_vert(p, 1 + z * (nx + 1) + x, (float)x, 0, (float)z);
	for (unsigned z = 0; z < nz; z++)
		for (unsigned x = 0; x < nx; x++) {
			uint64_t a = 1 + z * (nx + 1) + x;
			uint64_t v[4] = { a, a + nx + 1, a + nx + 2, a + 1 };
			mf_p_face(p, 1001 + z * nx + x, 3, 4, v);
		}
	mf_expect_applied(m, p, NULL);
	free(p);
}

/* ---- subdivide ------------------------------------------------------------- */

static void subdivide_one_cube_face(void **state)
{
	struct sd fx;
	sd_cube(&fx);
	struct mf_enc before = mf_enc_of(&fx.m);
	uint64_t top = 102;
	assert_int_equal(th_op_subdivide(&fx.m, &top, 1, &fx.p, &fx.why), 0);
	size_t mark = apply_ok(&fx.m, &fx.p, &fx.j, 1);
	/* 8 + 4 midpoints + 1 centre; 12 + 4 (split) + 4 (spokes); 5 + 4 */
	mf_stats_are(&fx.m, 13, 20, 9, 0, 2);
	/* the four sides are pentagons now, the bottom untouched */
	assert_int_equal(corners_of(&fx.m, 101), 4);
	unsigned quads = 0, pentagons = 0;
	for (uint32_t f = 0; f < fx.m.nfaces; f++) {
		if (!fx.m.faces[f].id)
			continue;
		quads += fx.m.faces[f].n == 4;
		pentagons += fx.m.faces[f].n == 5;
	}
	assert_int_equal(quads, 5);
	assert_int_equal(pentagons, 4);
	/* the centre of the top at (0.5, 0.5, 1), midpoints on the top's edges */
	unsigned centres = 0, mids = 0;
	for (uint32_t v = 0; v < fx.m.nverts; v++) {
		const float *q = fx.m.verts[v].pos;
		if (!fx.m.verts[v].id || fx.m.verts[v].id <= 8)
			continue;
		assert_true(q[2] == 1.0f);
		if (q[0] == 0.5f && q[1] == 0.5f)
			centres++;
		else if ((q[0] == 0.5f) != (q[1] == 0.5f))
			mids++;
	}
	assert_int_equal(centres, 1);
	assert_int_equal(mids, 4);
	/* the top's material goes to its quads, the sides keep theirs */
	for (uint32_t f = 0; f < fx.m.nfaces; f++)
		if (fx.m.faces[f].id && fx.m.faces[f].n == 4 && fx.m.faces[f].id != 101)
			assert_int_equal(fx.m.faces[f].material, 1);
	undo_to(&fx.m, &fx.j, mark, before);
	free(before.d);
	sd_fini(&fx);
}

static void subdivide_whole_cube_and_open_faces(void **state)
{
	struct sd fx;
	sd_cube(&fx);
	uint64_t all[6] = { 106, 101, 102, 103, 104, 105 };
	assert_int_equal(th_op_subdivide(&fx.m, all, 6, &fx.p, &fx.why), 0);
	apply_ok(&fx.m, &fx.p, &fx.j, 1);
	mf_stats_are(&fx.m, 26, 48, 24, 0, 2);
	all_faces_have(&fx.m, 4);
	sd_fini(&fx);

	/* an open box (no top): the side's edge on the hole splits a boundary */
	sd_cube(&fx);
	struct mf_patch *rm = mf_patch_new();
	mf_p_remove(rm, 102);
	mf_expect_applied(&fx.m, rm, &fx.j);
	free(rm);
	uint64_t side = 103;
	assert_int_equal(th_op_subdivide(&fx.m, &side, 1, &fx.p, &fx.why), 0);
	apply_ok(&fx.m, &fx.p, &fx.j, 2);
	/* 8 + 4 + 1; 5 - 1 + 4; edges 12 + 4 + 4; boundary: 4 + 1 (the top edge split) */
	mf_stats_are(&fx.m, 13, 20, 8, 5, 1);
	/* the bottom, left and right gain a corner (made again: new ids), the top is gone */
	assert_true(th_mesh_face_find(&fx.m, 101) < 0);
	assert_int_equal(faces_with(&fx.m, 5, -1), 3);
	assert_int_equal(faces_with(&fx.m, 5, 0), 1);
	assert_int_equal(faces_with(&fx.m, 4, 2), 4);
	sd_fini(&fx);
}

static void subdivide_refusals(void **state)
{
	struct sd fx;
	sd_cube(&fx);
	uint64_t missing = 999, twice[2] = { 101, 101 };
	refused(th_op_subdivide(&fx.m, &missing, 1, &fx.p, &fx.why), &fx.why, &fx.p, 0, "does not exist");
	refused(th_op_subdivide(&fx.m, twice, 2, &fx.p, &fx.why), &fx.why, &fx.p, 0, "twice");
	refused(th_op_subdivide(&fx.m, NULL, 0, &fx.p, &fx.why), &fx.why, &fx.p, 0, "no face");
	/* a full patch: -E2BIG, nothing appended */
	fx.p.max = 10;
	uint64_t top = 102;
	assert_int_equal(th_op_subdivide(&fx.m, &top, 1, &fx.p, &fx.why), -E2BIG);
	assert_int_equal(fx.p.n, 0);
	sd_fini(&fx);

	/* a 62-gon with a triangle on each of two edges: subdividing one
	 * triangle gives it 63 corners, both would give 64, a third 65 */
	sd_empty(&fx);
	enum { N = 62 };
	uint64_t ring[N];
	for (unsigned i = 0; i < N; i++) {
		double a = 2 * M_PI * i / N;
		mf_p_vert(fx.mp, 1 + i, (float)cos(a), (float)sin(a), 0);
		ring[i] = 1 + i;
	}
	mf_p_face(fx.mp, 500, 0, N, ring);
	for (unsigned t = 0; t < 3; t++) {
		double a = 2 * M_PI * (t * 2 + 0.5) / N;
		mf_p_vert(fx.mp, 100 + t, (float)(1.5 * cos(a)), (float)(1.5 * sin(a)), 0);
		uint64_t tri[3] = { 1 + t * 2 + 1, 1 + t * 2, 100 + t };
		mf_p_face(fx.mp, 600 + t, 0, 3, tri);
	}
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	uint64_t two[2] = { 600, 601 }, three[3] = { 600, 601, 602 };
	assert_int_equal(th_op_subdivide(&fx.m, two, 2, &fx.p, &fx.why), 0);
	struct mf_enc before = mf_enc_of(&fx.m);
	size_t mark = apply_ok(&fx.m, &fx.p, &fx.j, 3);
	assert_int_equal(faces_with(&fx.m, 64, -1), 1);
	assert_true(th_mesh_face_find(&fx.m, 500) < 0 && th_mesh_face_find(&fx.m, 602) >= 0);
	undo_to(&fx.m, &fx.j, mark, before);
	free(before.d);
	th_patch_clear(&fx.p);
	refused(th_op_subdivide(&fx.m, three, 3, &fx.p, &fx.why), &fx.why, &fx.p, 0, "FACE_VERTS_MAX");
	sd_fini(&fx);
}

/* ---- Catmull-Clark ---------------------------------------------------------- */

static void catmull_clark_cube(void **state)
{
	struct sd fx;
	sd_cube(&fx);
	struct mf_enc before = mf_enc_of(&fx.m);
	assert_int_equal(th_op_catmull_clark(&fx.m, 1, &fx.p, &fx.why), 0);
	size_t mark = apply_ok(&fx.m, &fx.p, &fx.j, 1);
	mf_stats_are(&fx.m, 26, 48, 24, 0, 2);
	all_faces_have(&fx.m, 4);
	/* corners: (Q + 2R + (n - 3) S) / n = 5/9 of the way out from the centre */
	for (uint64_t v = 1; v <= 8; v++) {
		const float *q = pos_of(&fx.m, v);
		pos_near(q, 0.5 + (mf_cube_pos[v - 1][0] - 0.5) * 5 / 9, 0.5 + (mf_cube_pos[v - 1][1] - 0.5) * 5 / 9,
			 0.5 + (mf_cube_pos[v - 1][2] - 0.5) * 5 / 9);
	}
	/* face points stay at face centres; edge points at 3/4 of the corner's offset */
	unsigned centres = 0, edges = 0;
	for (uint32_t v = 0; v < fx.m.nverts; v++) {
		if (!fx.m.verts[v].id || fx.m.verts[v].id <= 8)
			continue;
		unsigned half = 0, off = 0;
		for (int d = 0; d < 3; d++) {
			double c = fx.m.verts[v].pos[d] - 0.5;
			if (fabs(c) < 1e-6)
				half++;
			else if (fabs(fabs(c) - 0.5) < 1e-6)
				off++;
			else if (fabs(fabs(c) - 0.375) < 1e-6)
				off += 10;
		}
		centres += half == 2 && off == 1;
		edges += half == 1 && off == 20;
	}
	assert_int_equal(centres, 6);
	assert_int_equal(edges, 12);
	/* each face's quads keep its material */
	unsigned per_material[6] = { 0 };
	for (uint32_t f = 0; f < fx.m.nfaces; f++)
		if (fx.m.faces[f].id)
			per_material[fx.m.faces[f].material]++;
	for (unsigned k = 0; k < 6; k++)
		assert_int_equal(per_material[k], 4);
	undo_to(&fx.m, &fx.j, mark, before);

	th_patch_clear(&fx.p);
	assert_int_equal(th_op_catmull_clark(&fx.m, 2, &fx.p, &fx.why), 0);
	apply_ok(&fx.m, &fx.p, &fx.j, 2);
	mf_stats_are(&fx.m, 98, 192, 96, 0, 2);
	all_faces_have(&fx.m, 4);
	free(before.d);
	sd_fini(&fx);
}

static int pos_lex_cmp(const void *a, const void *b)
{
	const float *x = a, *y = b;
	for (int d = 0; d < 3; d++)
		if (fabsf(x[d] - y[d]) > 1e-5f)
			return x[d] < y[d] ? -1 : 1;
	return 0;
}

/* Positions of the mesh's vertices, sorted (free with free). */
static float *sorted_positions(const struct th_mesh *m)
{
	float *q = malloc((size_t)m->live_verts * 3 * sizeof(float));
	uint32_t k = 0;
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id)
			memcpy(q + 3 * k++, m->verts[v].pos, 3 * sizeof(float));
	qsort(q, k, 3 * sizeof(float), pos_lex_cmp);
	return q;
}

static void catmull_clark_levels_in_one_patch_match_levels_one_by_one(void **state)
{
	struct th_mesh a, b;
	struct th_journal j;
	th_journal_init(&j, 0);
	mf_build_cube(&a, NULL, 6);
	mf_build_cube(&b, NULL, 6);
	struct th_patch p, q;
	th_patch_init(&p);
	th_patch_init(&q);
	const char *why = NULL;
	assert_int_equal(th_op_catmull_clark(&a, 3, &p, &why), 0);
	apply_ok(&a, &p, &j, 1);
	for (unsigned l = 0; l < 3; l++) {
		th_patch_clear(&q);
		assert_int_equal(th_op_catmull_clark(&b, 1, &q, &why), 0);
		apply_ok(&b, &q, &j, 10 + l);
	}
	mf_stats_are(&a, 386, 768, 384, 0, 2);
	mf_stats_are(&b, 386, 768, 384, 0, 2);
	float *pa = sorted_positions(&a), *pb = sorted_positions(&b);
	for (uint32_t i = 0; i < a.live_verts * 3; i++)
		assert_true(fabsf(pa[i] - pb[i]) < 1e-5f);
	/* the same mesh gives the same ops, bit for bit */
	th_patch_clear(&q);
	th_mesh_fini(&b);
	mf_build_cube(&b, NULL, 6);
	assert_int_equal(th_op_catmull_clark(&b, 3, &q, &why), 0);
	assert_int_equal(p.n, q.n);
	assert_memory_equal(p.ops, q.ops, p.n * sizeof(*p.ops));
	free(pa);
	free(pb);
	th_patch_fini(&p);
	th_patch_fini(&q);
	th_mesh_fini(&a);
	th_mesh_fini(&b);
	th_journal_fini(&j);
}

static void catmull_clark_plane_keeps_its_boundary(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_grid(&m, 2, 2);
	struct mf_enc before = mf_enc_of(&m);
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	assert_int_equal(th_op_catmull_clark(&m, 1, &p, &why), 0);
	size_t mark = apply_ok(&m, &p, &j, 1);
	/* a 4 x 4 grid: 25 vertices, 40 edges (16 on the boundary), 16 faces: a disc */
	mf_stats_are(&m, 25, 40, 16, 16, 1);
	all_faces_have(&m, 4);
	for (uint32_t v = 0; v < m.nverts; v++)
		if (m.verts[v].id)
			assert_true(m.verts[v].pos[1] == 0.0f);
	/* the middle of a side stays (1/8, 6/8, 1/8 of a straight line); the
	 * centre stays (flat, symmetric); a corner moves 1/8 towards each of
	 * its boundary neighbours */
	pos_near(pos_of(&m, 2), 1, 0, 0);
	pos_near(pos_of(&m, 5), 1, 0, 1);
	pos_near(pos_of(&m, 1), 0.125, 0, 0.125);
	pos_near(pos_of(&m, 9), 1.875, 0, 1.875);
	/* boundary edge points are the midpoints: (0.5, 0, 0) exists */
	bool found = false;
	for (uint32_t v = 0; v < m.nverts; v++)
		if (m.verts[v].id && fabsf(m.verts[v].pos[0] - 0.5f) < 1e-6f && m.verts[v].pos[2] == 0.0f)
			found = true;
	assert_true(found);
	undo_to(&m, &j, mark, before);
	th_patch_fini(&p);
	free(before.d);
	th_mesh_fini(&m);
	th_journal_fini(&j);
}

static void catmull_clark_keeps_free_vertices_and_refuses(void **state)
{
	struct sd fx;
	sd_cube(&fx);
	mf_p_vert(fx.mp, 77, 5, 6, 7);
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	assert_int_equal(th_op_catmull_clark(&fx.m, 1, &fx.p, &fx.why), 0);
	apply_ok(&fx.m, &fx.p, &fx.j, 1);
	mf_stats_are(&fx.m, 27, 48, 24, 0, 3);
	pos_near(pos_of(&fx.m, 77), 5, 6, 7);
	th_patch_clear(&fx.p);
	refused(th_op_catmull_clark(&fx.m, 0, &fx.p, &fx.why), &fx.why, &fx.p, 0, "levels");
	refused(th_op_catmull_clark(&fx.m, TH_OP_CC_LEVELS_MAX + 1, &fx.p, &fx.why), &fx.why, &fx.p, 0, "levels");
	fx.p.max = 100;
	assert_int_equal(th_op_catmull_clark(&fx.m, 1, &fx.p, &fx.why), -E2BIG);
	assert_int_equal(fx.p.n, 0);
	sd_fini(&fx);

	/* no faces: nothing to subdivide */
	sd_empty(&fx);
	refused(th_op_catmull_clark(&fx.m, 1, &fx.p, &fx.why), &fx.why, &fx.p, 0, "no faces");
	sd_fini(&fx);
}

/* ---- weld ------------------------------------------------------------------- */

/* Cube of the fixture shifted by dx with ids + base, without face `skip`
 * (an index of mf_cube_faces). */
static void add_open_cube(struct mf_patch *mp, uint64_t base, float dx, int skip)
{
	for (unsigned i = 0; i < 8; i++)
		mf_p_vert(mp, base + i + 1, mf_cube_pos[i][0] + dx, mf_cube_pos[i][1], mf_cube_pos[i][2]);
	for (unsigned f = 0; f < 6; f++) {
		if ((int)f == skip)
			continue;
		uint64_t v[4];
		for (unsigned k = 0; k < 4; k++)
			v[k] = base + mf_cube_faces[f][k];
		mf_p_face(mp, base + 100 + f, f, 4, v);
	}
}

static void weld_two_open_cubes_into_one_box(void **state)
{
	struct sd fx;
	sd_empty(&fx);
	add_open_cube(fx.mp, 0, 0, 5);      /* without its right side (x = 1) */
	add_open_cube(fx.mp, 1000, 1, 4);   /* without its left side (x = 1) */
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	mf_stats_are(&fx.m, 16, 24, 10, 8, 2);
	struct mf_enc before = mf_enc_of(&fx.m);
	assert_int_equal(th_op_weld(&fx.m, NULL, 0, 1e-4f, &fx.p, &fx.why), 0);
	size_t mark = apply_ok(&fx.m, &fx.p, &fx.j, 1);
	/* a closed 2 x 1 x 1 box: 12 vertices, 20 edges, 10 faces */
	mf_stats_are(&fx.m, 12, 20, 10, 0, 2);
	/* clusters keep their lowest id: cube A's 2, 3, 6, 7; B's 1, 4, 5, 8 go */
	assert_true(th_mesh_vert_find(&fx.m, 2) >= 0 && th_mesh_vert_find(&fx.m, 7) >= 0);
	assert_true(th_mesh_vert_find(&fx.m, 1001) < 0 && th_mesh_vert_find(&fx.m, 1008) < 0);
	assert_true(th_mesh_vert_find(&fx.m, 1002) >= 0);
	undo_to(&fx.m, &fx.j, mark, before);

	/* the same by a vertex set, with B nudged: the kept vertex goes to the mean */
	struct mf_patch *mv = mf_patch_new();
	mf_p_move(mv, 1001, 1.0002f, 0, 0);
	mf_expect_applied(&fx.m, mv, &fx.j);
	free(mv);
	uint64_t set[8] = { 1001, 2, 3, 1004, 6, 1005, 7, 1008 };
	th_patch_clear(&fx.p);
	assert_int_equal(th_op_weld(&fx.m, set, 8, 1e-4f, &fx.p, &fx.why), 0);
	mark = apply_ok(&fx.m, &fx.p, &fx.j, 2);
	/* 1001 too far: three seams close, a slit stays open (a disc) */
	mf_stats_are(&fx.m, 13, 22, 10, 4, 1);
	mf_undo_to(&fx.m, &fx.j, mark);
	th_patch_clear(&fx.p);
	assert_int_equal(th_op_weld(&fx.m, set, 8, 1e-3f, &fx.p, &fx.why), 0);
	apply_ok(&fx.m, &fx.p, &fx.j, 3);
	mf_stats_are(&fx.m, 12, 20, 10, 0, 2);
	pos_near(pos_of(&fx.m, 2), 1.0001, 0, 0);
	free(before.d);
	sd_fini(&fx);
}

static void weld_refuses_what_would_not_be_manifold(void **state)
{
	struct sd fx;
	sd_empty(&fx);
	add_open_cube(fx.mp, 0, 0, -1); /* two whole cubes touching at x = 1: four faces on an edge */
	add_open_cube(fx.mp, 1000, 1, -1);
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	struct mf_enc before = mf_enc_of(&fx.m);
	refused(th_op_weld(&fx.m, NULL, 0, 1e-4f, &fx.p, &fx.why), &fx.why, &fx.p, 0, "manifold");
	mf_assert_unchanged(&fx.m, before);
	free(before.d);
	sd_remesh(&fx);

	/* two triangles touching at one corner: a bowtie */
	mf_p_vert(fx.mp, 1, 0, 0, 0);
	mf_p_vert(fx.mp, 2, 1, 0, 0);
	mf_p_vert(fx.mp, 3, 0, 1, 0);
	mf_p_vert(fx.mp, 4, 0, 0, 0);
	mf_p_vert(fx.mp, 5, -1, 0, 0);
	mf_p_vert(fx.mp, 6, 0, -1, 0);
	mf_p_face(fx.mp, 10, 0, 3, (uint64_t[]){ 1, 2, 3 });
	mf_p_face(fx.mp, 11, 0, 3, (uint64_t[]){ 4, 5, 6 });
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	refused(th_op_weld(&fx.m, NULL, 0, 0, &fx.p, &fx.why), &fx.why, &fx.p, 0, "bowtie");
	sd_remesh(&fx);

	/* a quad whose opposite corners meet */
	mf_p_vert(fx.mp, 1, 0, 0, 0);
	mf_p_vert(fx.mp, 2, 1, 0, 0);
	mf_p_vert(fx.mp, 3, 0.00001f, 0, 0.00001f);
	mf_p_vert(fx.mp, 4, 0, 0, 1);
	mf_p_face(fx.mp, 10, 0, 4, (uint64_t[]){ 1, 4, 3, 2 });
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	refused(th_op_weld(&fx.m, NULL, 0, 0.001f, &fx.p, &fx.why), &fx.why, &fx.p, 0, "not next to each other");
	/* bad distances and sets */
	refused(th_op_weld(&fx.m, NULL, 0, NAN, &fx.p, &fx.why), &fx.why, &fx.p, 0, "distance");
	refused(th_op_weld(&fx.m, NULL, 0, -1, &fx.p, &fx.why), &fx.why, &fx.p, 0, "distance");
	refused(th_op_weld(&fx.m, (uint64_t[]){ 1, 1 }, 2, 1, &fx.p, &fx.why), &fx.why, &fx.p, 0, "twice");
	refused(th_op_weld(&fx.m, (uint64_t[]){ 1, 99 }, 2, 1, &fx.p, &fx.why), &fx.why, &fx.p, 0, "does not exist");
	refused(th_op_weld(&fx.m, (uint64_t[]){ 1 }, 0, 1, &fx.p, &fx.why), &fx.why, &fx.p, 0, "no vertex");
	/* nothing within distance: refused, so a tool can say so */
	refused(th_op_weld(&fx.m, NULL, 0, 1e-7f, &fx.p, &fx.why), &fx.why, &fx.p, 0, "nothing to weld");
	sd_fini(&fx);
}

static void weld_removes_faces_that_collapse_and_folds_short_edges(void **state)
{
	struct sd fx;
	sd_empty(&fx);
	/* a quad and a thin triangle on its edge 2-3, its tip 5 next to 2 */
	mf_p_vert(fx.mp, 1, 0, 0, 0);
	mf_p_vert(fx.mp, 2, 1, 0, 0);
	mf_p_vert(fx.mp, 3, 1, 0, 1);
	mf_p_vert(fx.mp, 4, 0, 0, 1);
	mf_p_vert(fx.mp, 5, 1.0005f, 0, 0.0005f);
	mf_p_face(fx.mp, 10, 0, 4, (uint64_t[]){ 1, 4, 3, 2 });
	mf_p_face(fx.mp, 11, 2, 3, (uint64_t[]){ 2, 3, 5 });
	/* and a free vertex on top of 1 */
	mf_p_vert(fx.mp, 6, 0, 0, 0);
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	struct mf_enc before = mf_enc_of(&fx.m);
	assert_int_equal(th_op_weld(&fx.m, NULL, 0, 0.001f, &fx.p, &fx.why), 0);
	size_t mark = apply_ok(&fx.m, &fx.p, &fx.j, 1);
	mf_stats_are(&fx.m, 4, 4, 1, 4, 1);
	assert_true(th_mesh_face_find(&fx.m, 10) >= 0); /* untouched: it never used 5 */
	assert_true(th_mesh_vert_find(&fx.m, 5) < 0 && th_mesh_vert_find(&fx.m, 6) < 0);
	pos_near(pos_of(&fx.m, 2), 1.00025, 0, 0.00025);
	pos_near(pos_of(&fx.m, 1), 0, 0, 0);
	undo_to(&fx.m, &fx.j, mark, before);
	/* deterministic: the same ops again */
	struct th_patch q;
	th_patch_init(&q);
	assert_int_equal(th_op_weld(&fx.m, NULL, 0, 0.001f, &q, &fx.why), 0);
	assert_int_equal(fx.p.n, q.n);
	assert_memory_equal(fx.p.ops, q.ops, fx.p.n * sizeof(*fx.p.ops));
	th_patch_fini(&q);
	free(before.d);
	sd_remesh(&fx);

	/* a pentagon with a short edge 3-7 becomes a quad (a new id) */
	mf_p_vert(fx.mp, 1, 0, 0, 0);
	mf_p_vert(fx.mp, 2, 1, 0, 0);
	mf_p_vert(fx.mp, 3, 1, 0, 1);
	mf_p_vert(fx.mp, 4, 0, 0, 1);
	mf_p_vert(fx.mp, 7, 0.9996f, 0, 1.0002f);
	mf_p_face(fx.mp, 10, 4, 5, (uint64_t[]){ 1, 4, 7, 3, 2 });
	mf_expect_applied(&fx.m, fx.mp, &fx.j);
	th_patch_clear(&fx.p);
	assert_int_equal(th_op_weld(&fx.m, NULL, 0, 0.001f, &fx.p, &fx.why), 0);
	apply_ok(&fx.m, &fx.p, &fx.j, 2);
	mf_stats_are(&fx.m, 4, 4, 1, 4, 1);
	assert_int_equal(faces_with(&fx.m, 4, 4), 1);
	assert_true(th_mesh_face_find(&fx.m, 10) < 0 && th_mesh_vert_find(&fx.m, 7) < 0);
	pos_near(pos_of(&fx.m, 3), 0.9998, 0, 1.0001);
	sd_fini(&fx);
}

/* A chain of vertices each within distance of the next welds into one
 * (single linkage), wherever the chain starts in id order. */
static void weld_joins_chains(void **state)
{
	struct sd fx;
	sd_empty(&fx);
	uint64_t ids[5] = { 50, 10, 40, 20, 30 };
	for (unsigned i = 0; i < 5; i++)
		mf_p_vert(fx.mp, ids[i], 0.9f * i, 0, 0);
	mf_p_vert(fx.mp, 60, 10, 0, 0);
	mf_expect_applied(&fx.m, fx.mp, NULL);
	assert_int_equal(th_op_weld(&fx.m, NULL, 0, 1.0f, &fx.p, &fx.why), 0);
	apply_ok(&fx.m, &fx.p, &fx.j, 1);
	mf_stats_are(&fx.m, 2, 0, 0, 0, 2);
	pos_near(pos_of(&fx.m, 10), 1.8, 0, 0);
	pos_near(pos_of(&fx.m, 60), 10, 0, 0);
	sd_remesh(&fx);

	/* a distance the size of the mesh: every vertex would be compared with
	 * every other (n squared), refused once the comparisons pass the bound */
	th_patch_clear(&fx.p);
	for (unsigned i = 0; i < 3000; i++) {
		float v[3] = { (float)(i % 60) * 1e-3f, (float)(i / 60) * 1e-3f, 0 };
		assert_true(th_patch_vertex_add(&fx.p, v) > 0);
	}
	apply_ok(&fx.m, &fx.p, &fx.j, 2);
	th_patch_clear(&fx.p);
	refused(th_op_weld(&fx.m, NULL, 0, 1e-6f, &fx.p, &fx.why), &fx.why, &fx.p, 0, "nothing to weld");
	assert_int_equal(th_op_weld(&fx.m, NULL, 0, 1.5e-3f, &fx.p, &fx.why), 0); /* a chain: one cluster */
	th_patch_clear(&fx.p);
	refused(th_op_weld(&fx.m, NULL, 0, 1.0f, &fx.p, &fx.why), &fx.why, &fx.p, 0, "too large");
	sd_fini(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subdivide_one_cube_face),
		cmocka_unit_test(subdivide_whole_cube_and_open_faces),
		cmocka_unit_test(subdivide_refusals),
		cmocka_unit_test(catmull_clark_cube),
		cmocka_unit_test(catmull_clark_levels_in_one_patch_match_levels_one_by_one),
		cmocka_unit_test(catmull_clark_plane_keeps_its_boundary),
		cmocka_unit_test(catmull_clark_keeps_free_vertices_and_refuses),
		cmocka_unit_test(weld_two_open_cubes_into_one_box),
		cmocka_unit_test(weld_refuses_what_would_not_be_manifold),
		cmocka_unit_test(weld_removes_faces_that_collapse_and_folds_short_edges),
		cmocka_unit_test(weld_joins_chains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
