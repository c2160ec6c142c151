/* th_mesh: known meshes (cube, quad, open box, torus) and their counts;
 * every refusal (bowtie, split fan, repeated directed edge or vertex, used
 * vertex, id collisions, bad references, limits) leaves the mesh's
 * canonical encoding and the journal exactly as they were; undo restores
 * exactly; the canonical encoding does not depend on the order of the ops
 * and decode refuses what encode would not write; and a seeded property
 * test compares thousands of random op lists against a brute-force model
 * of the rules, then undoes the whole history step by step. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_buf.h"
#include "th_hash.h"
#include "th_journal.h"
#include "th_mesh.h"

#define MESH_ID 0x4d455348u

/* xorshift64: the seeded randomness of the property tests. */
static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

/* ---- building patches ------------------------------------------------------- */

struct patch {
	struct th_pl_mesh_op ops[TH_PL_MESH_OPS_MAX];
	uint64_t ids[TH_PL_MESH_OPS_MAX];
	unsigned n;
};

static struct patch *patch_new(void)
{
	struct patch *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	return p;
}

/* Appends one op; returns its index + 1 (what a local reference names). */
static unsigned p_op(struct patch *p, uint8_t op, uint64_t element, uint32_t arg, float x, float y, float z,
		     uint64_t new_id)
{
	assert_true(p->n < TH_PL_MESH_OPS_MAX);
	p->ops[p->n] = (struct th_pl_mesh_op){ .op = op, .element = element, .arg = arg, .position = { x, y, z } };
	p->ids[p->n] = new_id;
	return ++p->n;
}

static unsigned p_vert(struct patch *p, uint64_t id, float x, float y, float z)
{
	return p_op(p, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, x, y, z, id);
}
static void p_move(struct patch *p, uint64_t id, float x, float y, float z)
{
	p_op(p, TH_PL_MESH_OP_VERTEX_MOVE, id, 0, x, y, z, 0);
}
static void p_remove(struct patch *p, uint64_t id) { p_op(p, TH_PL_MESH_OP_REMOVE, id, 0, 0, 0, 0, 0); }
static void p_material(struct patch *p, uint64_t face, uint32_t m)
{
	p_op(p, TH_PL_MESH_OP_FACE_MATERIAL, face, m, 0, 0, 0, 0);
}
static void p_face_begin(struct patch *p, uint64_t id, uint32_t material)
{
	p_op(p, TH_PL_MESH_OP_FACE_ADD, 0, material, 0, 0, 0, id);
}
static void p_corner(struct patch *p, uint64_t vid) { p_op(p, TH_PL_MESH_OP_LOOP, vid, TH_PL_MESH_REF_ID, 0, 0, 0, 0); }
static void p_local(struct patch *p, unsigned op_index1)
{
	p_op(p, TH_PL_MESH_OP_LOOP, op_index1, TH_PL_MESH_REF_LOCAL, 0, 0, 0, 0);
}
static void p_face(struct patch *p, uint64_t id, uint32_t material, unsigned n, const uint64_t *v)
{
	p_face_begin(p, id, material);
	for (unsigned k = 0; k < n; k++)
		p_corner(p, v[k]);
}

static int apply(struct th_mesh *m, struct patch *p, struct th_journal *j, const char **why)
{
	int r = th_mesh_apply(m, p->ops, p->n, p->ids, j, why);
	p->n = 0;
	return r;
}

/* ---- encodings and checks --------------------------------------------------- */

struct enc {
	uint8_t *d;
	size_t len;
};

static struct enc enc_of(const struct th_mesh *m)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_mesh_encode(m, &w), 0);
	return (struct enc){ w.data, w.len };
}

static bool enc_same(struct enc a, struct enc b) { return a.len == b.len && (!a.len || !memcmp(a.d, b.d, a.len)); }

static void mesh_ok(const struct th_mesh *m)
{
	const char *why = NULL;
	int r = th_mesh_check(m, &why);
	if (r)
		fail_msg("th_mesh_check: %s", why);
}

static void assert_unchanged(const struct th_mesh *m, struct enc before)
{
	struct enc now = enc_of(m);
	assert_true(enc_same(now, before));
	free(now.d);
	mesh_ok(m);
}

static void expect_refused(struct th_mesh *m, struct patch *p, struct th_journal *j, const char *needle)
{
	struct enc before = enc_of(m);
	size_t mark = j ? th_journal_mark(j) : 0;
	const char *why = NULL;
	int r = apply(m, p, j, &why);
	assert_int_equal(r, -EINVAL);
	assert_non_null(why);
	if (needle && !strstr(why, needle))
		fail_msg("refused with \"%s\", expected \"%s\"", why, needle);
	if (j)
		assert_int_equal(th_journal_mark(j), mark);
	assert_unchanged(m, before);
	free(before.d);
}

static void expect_applied(struct th_mesh *m, struct patch *p, struct th_journal *j)
{
	const char *why = NULL;
	int r = apply(m, p, j, &why);
	if (r)
		fail_msg("apply: %d (%s)", r, r == -EINVAL ? why : "");
	mesh_ok(m);
}

static void undo_to(struct th_mesh *m, struct th_journal *j, size_t mark)
{
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	while (th_journal_pop(j, mark, &kind, &d, &len) == 1) {
		assert_int_equal(th_mesh_record_mesh(d, len), m->id);
		assert_int_equal(th_mesh_undo_record(m, kind, d, len), 0);
	}
	assert_int_equal(th_journal_mark(j), mark);
	mesh_ok(m);
}

static void stats_are(const struct th_mesh *m, uint32_t v, uint32_t e, uint32_t f, uint32_t boundary, int64_t euler)
{
	struct th_mesh_stats s;
	th_mesh_stats(m, &s);
	assert_int_equal(s.vertices, v);
	assert_int_equal(s.edges, e);
	assert_int_equal(s.faces, f);
	assert_int_equal(s.boundary_edges, boundary);
	assert_int_equal(s.euler, euler);
	assert_int_equal(s.half_edges, 2 * e - boundary);
}

/* ---- known meshes ----------------------------------------------------------- */

/* Cube: vertex ids 1..8 (1-4 the bottom, 5-8 the top, as cube_pos), faces
 * 101..106, counter-clockwise seen from outside. */
static const uint64_t cube_faces[6][4] = {
	{ 1, 4, 3, 2 }, /* bottom */
	{ 5, 6, 7, 8 }, /* top */
	{ 1, 2, 6, 5 }, /* front */
	{ 3, 4, 8, 7 }, /* back */
	{ 1, 5, 8, 4 }, /* left */
	{ 2, 3, 7, 6 }, /* right */
};
static const float cube_pos[8][3] = {
	{ 0, 0, 0 }, { 1, 0, 0 }, { 1, 1, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 1, 0, 1 }, { 1, 1, 1 }, { 0, 1, 1 },
};

static void add_cube_verts(struct patch *p)
{
	for (unsigned i = 0; i < 8; i++)
		p_vert(p, i + 1, cube_pos[i][0], cube_pos[i][1], cube_pos[i][2]);
}

static void build_cube(struct th_mesh *m, struct th_journal *j, unsigned nfaces)
{
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(m, MESH_ID), 0);
	add_cube_verts(p);
	for (unsigned f = 0; f < nfaces; f++)
		p_face(p, 101 + f, f, 4, cube_faces[f]);
	expect_applied(m, p, j);
	free(p);
}

static void cube_is_a_closed_manifold(void **state)
{
	struct th_mesh m;
	build_cube(&m, NULL, 6);
	stats_are(&m, 8, 12, 6, 0, 2);
	/* Every edge has its twin; loops come back as created. */
	uint64_t ids[4];
	int32_t f = th_mesh_face_find(&m, 103);
	assert_true(f >= 0);
	assert_int_equal(th_mesh_face_loop(&m, f, ids, 4), 4);
	assert_memory_equal(ids, cube_faces[2], sizeof(ids));
	assert_int_equal(m.faces[f].material, 2);
	int32_t a = th_mesh_vert_find(&m, 1), b = th_mesh_vert_find(&m, 2);
	int32_t h = th_mesh_he_find(&m, a, b), t = th_mesh_he_find(&m, b, a);
	assert_true(h >= 0 && t >= 0);
	assert_int_equal(m.hes[h].twin, t);
	assert_int_equal(m.hes[t].twin, h);
	assert_int_equal(m.hes[h].face, f);
	th_mesh_fini(&m);
}

static void single_quad_has_four_boundary_edges(void **state)
{
	struct th_mesh m;
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(&m, MESH_ID), 0);
	add_cube_verts(p);
	p_face(p, 101, 0, 4, cube_faces[0]);
	expect_applied(&m, p, NULL);
	stats_are(&m, 8, 4, 1, 4, 5); /* 4 free vertices count too */
	for (unsigned k = 0; k < 4; k++) {
		int32_t a = th_mesh_vert_find(&m, cube_faces[0][k]), b = th_mesh_vert_find(&m, cube_faces[0][(k + 1) % 4]);
		int32_t h = th_mesh_he_find(&m, a, b);
		assert_true(h >= 0);
		assert_int_equal(m.hes[h].twin, TH_MESH_NONE);
		assert_int_equal(th_mesh_he_find(&m, b, a), TH_MESH_NONE);
	}
	assert_int_equal(m.verts[th_mesh_vert_find(&m, 5)].he, TH_MESH_NONE);
	th_mesh_fini(&m);
	free(p);
}

static void open_box_has_a_boundary_loop(void **state)
{
	struct th_mesh m;
	/* All but the top (face index 1). */
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(&m, MESH_ID), 0);
	add_cube_verts(p);
	for (unsigned f = 0; f < 6; f++)
		if (f != 1)
			p_face(p, 101 + f, 0, 4, cube_faces[f]);
	expect_applied(&m, p, NULL);
	stats_are(&m, 8, 12, 5, 4, 1);
	th_mesh_fini(&m);
	free(p);
}

static void removing_a_face_opens_a_boundary_and_undo_closes_it(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_cube(&m, &j, 6);
	size_t mark = th_journal_mark(&j);
	struct enc closed = enc_of(&m);
	struct patch *p = patch_new();
	p_remove(p, 102);
	expect_applied(&m, p, &j);
	stats_are(&m, 8, 12, 5, 4, 1);
	assert_int_equal(th_mesh_face_find(&m, 102), TH_MESH_NONE);
	undo_to(&m, &j, mark);
	stats_are(&m, 8, 12, 6, 0, 2);
	assert_unchanged(&m, closed);
	uint64_t ids[4];
	assert_int_equal(th_mesh_face_loop(&m, th_mesh_face_find(&m, 102), ids, 4), 4);
	assert_memory_equal(ids, cube_faces[1], sizeof(ids));
	/* Undo the cube itself: an empty mesh. */
	undo_to(&m, &j, 0);
	stats_are(&m, 0, 0, 0, 0, 0);
	free(closed.d);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

/* Five vertices around 1: triangles (1 2 3), (1 3 4), (1 4 5), a boundary fan. */
static void build_fan(struct th_mesh *m, struct patch *p, bool middle)
{
	assert_int_equal(th_mesh_init(m, MESH_ID), 0);
	p_vert(p, 1, 0, 0, 0);
	p_vert(p, 2, 1, 0, 0);
	p_vert(p, 3, 1, 1, 0);
	p_vert(p, 4, 0, 1, 0);
	p_vert(p, 5, -1, 1, 0);
	p_face(p, 11, 0, 3, (uint64_t[]){ 1, 2, 3 });
	if (middle)
		p_face(p, 12, 0, 3, (uint64_t[]){ 1, 3, 4 });
	p_face(p, 13, 0, 3, (uint64_t[]){ 1, 4, 5 });
}

static void bowtie_is_refused_and_changes_nothing(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	struct patch *p = patch_new();
	/* In one patch. */
	build_fan(&m, p, false);
	expect_refused(&m, p, &j, "single fan");
	stats_are(&m, 0, 0, 0, 0, 0);
	th_mesh_fini(&m);
	/* In two: the first triangle stays, the second is refused. */
	build_fan(&m, p, false);
	p->n -= 4; /* without (1 4 5) */
	expect_applied(&m, p, &j);
	p_face(p, 13, 0, 3, (uint64_t[]){ 1, 4, 5 });
	expect_refused(&m, p, &j, "single fan");
	stats_are(&m, 5, 3, 1, 3, 3);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

static void a_bowtie_completed_in_the_same_patch_is_accepted(void **state)
{
	struct th_mesh m;
	struct patch *p = patch_new();
	build_fan(&m, p, false);
	p_face(p, 12, 0, 3, (uint64_t[]){ 1, 3, 4 }); /* fills the gap after the bowtie */
	expect_applied(&m, p, NULL);
	stats_are(&m, 5, 7, 3, 5, 1);
	th_mesh_fini(&m);
	free(p);
}

static void removing_the_middle_of_a_boundary_fan_is_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	struct patch *p = patch_new();
	build_fan(&m, p, true);
	expect_applied(&m, p, &j);
	p_remove(p, 12);
	expect_refused(&m, p, &j, "single fan");
	/* Removing an end of the fan is fine, and so is the middle after it. */
	p_remove(p, 13);
	p_remove(p, 12);
	expect_applied(&m, p, &j);
	stats_are(&m, 5, 3, 1, 3, 3);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

static void a_face_repeating_a_directed_edge_is_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	struct patch *p = patch_new();
	build_fan(&m, p, false);
	p->n -= 4;
	expect_applied(&m, p, &j);
	/* (1 2 4) runs 1 -> 2 like (1 2 3): same orientation as its neighbour. */
	p_face(p, 14, 0, 3, (uint64_t[]){ 1, 2, 4 });
	expect_refused(&m, p, &j, "directed edge");
	/* The same triangle again under a new id. */
	p_face(p, 14, 0, 3, (uint64_t[]){ 2, 3, 1 });
	expect_refused(&m, p, &j, "directed edge");
	/* The opposite orientation along 1-2 is the neighbour it may have. */
	p_face(p, 14, 0, 3, (uint64_t[]){ 2, 1, 4 });
	expect_applied(&m, p, &j);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

static void a_face_repeating_a_vertex_is_refused(void **state)
{
	struct th_mesh m;
	struct patch *p = patch_new();
	build_fan(&m, p, false);
	p->n -= 8;
	expect_applied(&m, p, NULL);
	p_face(p, 14, 0, 3, (uint64_t[]){ 1, 2, 1 });
	expect_refused(&m, p, NULL, "repeats a vertex");
	p_face(p, 14, 0, 4, (uint64_t[]){ 1, 2, 3, 2 });
	expect_refused(&m, p, NULL, "repeats a vertex");
	th_mesh_fini(&m);
	free(p);
}

static void removing_a_used_vertex_is_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_cube(&m, &j, 1);
	struct patch *p = patch_new();
	p_remove(p, 1);
	expect_refused(&m, p, &j, "used by a face");
	/* A free vertex can go; removing it twice cannot. */
	p_remove(p, 5);
	expect_applied(&m, p, &j);
	assert_int_equal(th_mesh_vert_find(&m, 5), TH_MESH_NONE);
	p_remove(p, 5);
	expect_refused(&m, p, &j, "does not exist");
	/* Face first, then its vertex, in one patch. */
	p_remove(p, 101);
	p_remove(p, 1);
	expect_applied(&m, p, &j);
	stats_are(&m, 6, 0, 0, 0, 6);
	undo_to(&m, &j, 0);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

static void local_references_name_the_patch_vertices(void **state)
{
	struct th_mesh m;
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(&m, MESH_ID), 0);
	unsigned a = p_vert(p, 0x100, 0, 0, 0);
	unsigned b = p_vert(p, 0x200, 1, 0, 0);
	p_vert(p, 0x300, 5, 5, 5);
	unsigned c = p_vert(p, 0x400, 0, 1, 0);
	p_face_begin(p, 0x500, 7);
	p_local(p, a);
	p_local(p, b);
	p_local(p, c);
	expect_applied(&m, p, NULL);
	uint64_t ids[3];
	assert_int_equal(th_mesh_face_loop(&m, th_mesh_face_find(&m, 0x500), ids, 3), 3);
	assert_int_equal(ids[0], 0x100);
	assert_int_equal(ids[1], 0x200);
	assert_int_equal(ids[2], 0x400);
	/* Mixed with references by id, in a later patch. */
	unsigned d = p_vert(p, 0x600, 1, 1, 0);
	p_face_begin(p, 0x700, 0);
	p_corner(p, 0x200);
	p_local(p, d);
	p_corner(p, 0x400);
	expect_applied(&m, p, NULL);
	stats_are(&m, 5, 5, 2, 4, 2);
	th_mesh_fini(&m);
	free(p);
}

static void bad_references_are_refused(void **state)
{
	struct th_mesh m;
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(&m, MESH_ID), 0);
	unsigned a = p_vert(p, 0x100, 0, 0, 0);
	p_vert(p, 0x200, 1, 0, 0);
	p_vert(p, 0x300, 0, 1, 0);
	expect_applied(&m, p, NULL);
	/* A local reference to an op that is not a VERTEX_ADD. */
	a = p_vert(p, 0x400, 0, 0, 1);
	unsigned mv = p_op(p, TH_PL_MESH_OP_VERTEX_MOVE, 0x100, 0, 1, 1, 1, 0);
	p_face_begin(p, 0x500, 0);
	p_local(p, a);
	p_local(p, mv);
	p_corner(p, 0x300);
	expect_refused(&m, p, NULL, "local reference");
	/* Local reference 0, and one to a later op. */
	p_face_begin(p, 0x500, 0);
	p_local(p, 0);
	p_corner(p, 0x200);
	p_corner(p, 0x300);
	expect_refused(&m, p, NULL, "local reference");
	p_face_begin(p, 0x500, 0);
	p_corner(p, 0x100);
	p_local(p, 5);
	p_corner(p, 0x300);
	p_vert(p, 0x900, 0, 0, 0);
	expect_refused(&m, p, NULL, "local reference");
	/* A corner naming a missing vertex, or a face. */
	p_face(p, 0x500, 0, 3, (uint64_t[]){ 0x100, 0x200, 0x999 });
	expect_refused(&m, p, NULL, "does not exist");
	p_face(p, 0x500, 0, 3, (uint64_t[]){ 0x100, 0x200, 0x300 });
	expect_applied(&m, p, NULL);
	p_face(p, 0x501, 0, 3, (uint64_t[]){ 0x200, 0x100, 0x500 });
	expect_refused(&m, p, NULL, "does not exist");
	/* A corner with an unknown reference kind. */
	p_face_begin(p, 0x501, 0);
	p_corner(p, 0x200);
	p_corner(p, 0x100);
	p_op(p, TH_PL_MESH_OP_LOOP, 0x300, 2, 0, 0, 0, 0);
	expect_refused(&m, p, NULL, "MESH_REF_ID");
	/* Moves and materials of missing elements, of the wrong kind. */
	p_move(p, 0x999, 0, 0, 0);
	expect_refused(&m, p, NULL, "does not exist");
	p_move(p, 0x500, 0, 0, 0);
	expect_refused(&m, p, NULL, "does not exist");
	p_material(p, 0x100, 1);
	expect_refused(&m, p, NULL, "does not exist");
	th_mesh_fini(&m);
	free(p);
}

static void id_collisions_are_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_cube(&m, &j, 2);
	struct patch *p = patch_new();
	p_vert(p, 3, 0, 0, 0); /* a vertex's id */
	expect_refused(&m, p, &j, "already used");
	p_vert(p, 101, 0, 0, 0); /* a face's id */
	expect_refused(&m, p, &j, "already used");
	p_vert(p, 0, 0, 0, 0);
	expect_refused(&m, p, &j, "non-zero");
	p_vert(p, 50, 0, 0, 0);
	p_vert(p, 50, 0, 0, 0); /* twice in one patch */
	expect_refused(&m, p, &j, "already used");
	p_face(p, 4, 0, 4, cube_faces[2]); /* a face with a vertex's id */
	expect_refused(&m, p, &j, "already used");
	p_face(p, 102, 0, 4, cube_faces[2]); /* a face's */
	expect_refused(&m, p, &j, "already used");
	p_face(p, 0, 0, 4, cube_faces[2]);
	expect_refused(&m, p, &j, "non-zero");
	/* Ids of removed elements may be used again. */
	p_remove(p, 102);
	p_vert(p, 102, 0, 0, 0);
	expect_applied(&m, p, &j);
	assert_true(th_mesh_vert_find(&m, 102) >= 0);
	assert_int_equal(th_mesh_face_find(&m, 102), TH_MESH_NONE);
	undo_to(&m, &j, 0);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

static void a_failing_patch_reverts_every_earlier_op(void **state)
{
	for (int with_journal = 0; with_journal < 2; with_journal++) {
		struct th_mesh m;
		struct th_journal j;
		th_journal_init(&j, 0);
		struct th_journal *jp = with_journal ? &j : NULL;
		build_cube(&m, jp, 6);
		struct patch *p = patch_new();
		/* Every kind of op, then a refused one. */
		p_move(p, 1, 9, 9, 9);
		p_material(p, 101, 200);
		p_remove(p, 102);
		unsigned c = p_vert(p, 200, 0.5f, 0.5f, 1.5f);
		for (unsigned k = 0; k < 4; k++) {
			p_face_begin(p, 300 + k, 1);
			p_corner(p, cube_faces[1][k]);
			p_corner(p, cube_faces[1][(k + 1) % 4]);
			p_local(p, c);
		}
		p_remove(p, 103);
		p_vert(p, 201, 0, 0, 0);
		p_remove(p, 999); /* missing */
		expect_refused(&m, p, jp, "does not exist");
		stats_are(&m, 8, 12, 6, 0, 2);
		/* The same without the failing op is accepted: a roof of 4 triangles. */
		p_move(p, 1, 9, 9, 9);
		p_material(p, 101, 200);
		p_remove(p, 102);
		c = p_vert(p, 200, 0.5f, 0.5f, 1.5f);
		for (unsigned k = 0; k < 4; k++) {
			p_face_begin(p, 300 + k, 1);
			p_corner(p, cube_faces[1][k]);
			p_corner(p, cube_faces[1][(k + 1) % 4]);
			p_local(p, c);
		}
		expect_applied(&m, p, jp);
		stats_are(&m, 9, 16, 9, 0, 2);
		assert_true(m.verts[th_mesh_vert_find(&m, 1)].pos[0] == 9.0f);
		assert_int_equal(m.faces[th_mesh_face_find(&m, 101)].material, 200);
		if (jp)
			undo_to(&m, jp, 0);
		th_mesh_fini(&m);
		th_journal_fini(&j);
		free(p);
	}
}

static void a_full_journal_refuses_and_changes_nothing(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_cube(&m, &j, 6);
	/* Room for exactly two more small records. */
	j.max = th_journal_mark(&j) + 2 * (28 + TH_JOURNAL_REC_OVERHEAD);
	struct enc before = enc_of(&m);
	size_t mark = th_journal_mark(&j);
	struct patch *p = patch_new();
	p_move(p, 1, 1, 2, 3);
	p_move(p, 2, 1, 2, 3);
	p_move(p, 3, 1, 2, 3);
	assert_int_equal(apply(&m, p, &j, NULL), -ENOSPC);
	assert_int_equal(th_journal_mark(&j), mark);
	assert_unchanged(&m, before);
	p_move(p, 1, 1, 2, 3);
	p_move(p, 2, 1, 2, 3);
	expect_applied(&m, p, &j);
	undo_to(&m, &j, mark);
	assert_unchanged(&m, before);
	free(before.d);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

static void move_and_material_undo_exactly(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_cube(&m, &j, 6);
	struct enc before = enc_of(&m);
	size_t mark = th_journal_mark(&j);
	struct patch *p = patch_new();
	p_move(p, 7, -0.0f, 1e-40f, 3.5f); /* a negative zero and a subnormal come back bit for bit */
	p_move(p, 7, 2, 2, 2);
	p_material(p, 104, 255);
	p_material(p, 104, 0);
	expect_applied(&m, p, &j);
	const struct th_mesh_vert *v = &m.verts[th_mesh_vert_find(&m, 7)];
	assert_true(v->pos[0] == 2 && v->pos[1] == 2 && v->pos[2] == 2);
	assert_int_equal(m.faces[th_mesh_face_find(&m, 104)].material, 0);
	undo_to(&m, &j, mark);
	assert_unchanged(&m, before);
	free(before.d);
	th_mesh_fini(&m);
	th_journal_fini(&j);
	free(p);
}

static void non_finite_positions_and_bad_materials_are_refused(void **state)
{
	struct th_mesh m;
	build_cube(&m, NULL, 6);
	struct patch *p = patch_new();
	p_vert(p, 50, NAN, 0, 0);
	expect_refused(&m, p, NULL, "finite");
	p_vert(p, 50, 0, INFINITY, 0);
	expect_refused(&m, p, NULL, "finite");
	p_move(p, 1, 0, 0, -INFINITY);
	expect_refused(&m, p, NULL, "finite");
	p_material(p, 101, TH_PL_MATERIALS_MAX);
	expect_refused(&m, p, NULL, "material");
	p_remove(p, 101);
	p_face(p, 150, TH_PL_MATERIALS_MAX, 4, cube_faces[0]);
	expect_refused(&m, p, NULL, "material");
	th_mesh_fini(&m);
	free(p);
}

static void corner_counts_are_limited(void **state)
{
	struct th_mesh m;
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(&m, MESH_ID), 0);
	for (unsigned i = 0; i <= TH_MESH_FACE_VERTS_MAX; i++)
		p_vert(p, 1 + i, (float)i, 0, 0);
	expect_applied(&m, p, NULL);
	uint64_t ids[TH_MESH_FACE_VERTS_MAX + 1];
	for (unsigned i = 0; i <= TH_MESH_FACE_VERTS_MAX; i++)
		ids[i] = 1 + i;
	p_face(p, 1000, 0, TH_MESH_FACE_VERTS_MAX + 1, ids);
	expect_refused(&m, p, NULL, "corners");
	p_face(p, 1000, 0, 2, ids);
	expect_refused(&m, p, NULL, "corners");
	p_face_begin(p, 1000, 0);
	expect_refused(&m, p, NULL, "corners");
	/* Exactly the maximum is a face. */
	p_face(p, 1000, 0, TH_MESH_FACE_VERTS_MAX, ids);
	expect_applied(&m, p, NULL);
	uint64_t out[TH_MESH_FACE_VERTS_MAX];
	int32_t f = th_mesh_face_find(&m, 1000);
	assert_int_equal(th_mesh_face_loop(&m, f, out, 3), -ENOBUFS);
	assert_int_equal(th_mesh_face_loop(&m, f, out, TH_MESH_FACE_VERTS_MAX), TH_MESH_FACE_VERTS_MAX);
	assert_memory_equal(out, ids, sizeof(out));
	assert_int_equal(th_mesh_face_loop(&m, -1, out, 3), -EINVAL);
	assert_int_equal(th_mesh_face_loop(&m, (int32_t)m.nfaces, out, 3), -EINVAL);
	stats_are(&m, TH_MESH_FACE_VERTS_MAX + 1, TH_MESH_FACE_VERTS_MAX, 1, TH_MESH_FACE_VERTS_MAX, 2);
	th_mesh_fini(&m);
	free(p);
}

static void malformed_op_lists_are_refused(void **state)
{
	struct th_mesh m;
	build_cube(&m, NULL, 1);
	struct patch *p = patch_new();
	p_corner(p, 1); /* a LOOP with no FACE_ADD */
	expect_refused(&m, p, NULL, "LOOP");
	p_remove(p, 101);
	p_corner(p, 1);
	expect_refused(&m, p, NULL, "LOOP");
	p_op(p, 0, 0, 0, 0, 0, 0, 0);
	expect_refused(&m, p, NULL, "op");
	p_op(p, TH_PL_MESH_OP_MAX + 1, 1, 0, 0, 0, 0, 0);
	expect_refused(&m, p, NULL, "op");
	/* A creating op without new ids. */
	p_vert(p, 77, 0, 0, 0);
	struct enc before = enc_of(&m);
	const char *why = NULL;
	assert_int_equal(th_mesh_apply(&m, p->ops, p->n, NULL, NULL, &why), -EINVAL);
	assert_non_null(strstr(why, "non-zero"));
	assert_unchanged(&m, before);
	p->n = 0;
	/* An empty list changes nothing and is fine. */
	assert_int_equal(th_mesh_apply(&m, p->ops, 0, NULL, NULL, &why), 0);
	assert_unchanged(&m, before);
	free(before.d);
	th_mesh_fini(&m);
	free(p);
}

static void undo_refuses_records_that_do_not_fit(void **state)
{
	struct th_mesh m, other;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_cube(&m, &j, 6);
	assert_int_equal(th_mesh_init(&other, MESH_ID + 1), 0);
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1); /* the last face's FACE_ADD */
	assert_int_equal(th_mesh_record_mesh(d, len), MESH_ID);
	assert_int_equal(th_mesh_undo_record(&other, kind, d, len), -EINVAL); /* another mesh */
	assert_int_equal(th_mesh_undo_record(&m, kind, d, len - 1), -EINVAL);  /* cut short */
	assert_int_equal(th_mesh_undo_record(&m, 0, d, len), -EINVAL);         /* unknown kind */
	assert_int_equal(th_mesh_undo_record(&m, TH_MESH_REC_MAX, d, len), -EINVAL);
	assert_int_equal(th_mesh_undo_record(&m, kind, d, len), 0);
	assert_int_equal(th_mesh_undo_record(&m, kind, d, len), -EINVAL); /* twice: the face is gone */
	/* Out of order: a VERTEX_ADD's record while faces still use the vertex. */
	uint8_t rec[16];
	th_put_le64(rec, MESH_ID);
	th_put_le64(rec + 8, 1);
	assert_int_equal(th_mesh_undo_record(&m, 1, rec, sizeof(rec)), -EINVAL);
	assert_int_equal(th_mesh_record_mesh(rec, 7), 0);
	mesh_ok(&m);
	stats_are(&m, 8, 12, 5, 4, 1);
	th_mesh_fini(&m);
	th_mesh_fini(&other);
	th_journal_fini(&j);
}

static void init_refuses_id_zero(void **state)
{
	struct th_mesh m;
	assert_int_equal(th_mesh_init(&m, 0), -EINVAL);
	assert_int_equal(th_mesh_init(&m, 1), 0);
	mesh_ok(&m);
	stats_are(&m, 0, 0, 0, 0, 0);
	assert_int_equal(th_mesh_vert_find(&m, 1), TH_MESH_NONE);
	assert_int_equal(th_mesh_he_find(&m, 0, 1), TH_MESH_NONE);
	th_mesh_fini(&m);
	th_mesh_fini(&m); /* twice is harmless */
}

/* ---- running out of memory ---------------------------------------------------- */

/* malloc, calloc and realloc of the whole binary (libc's underneath), one
 * of which can be made to fail: th_mesh is library code that must hand back
 * -ENOMEM with nothing changed. Not under ASan, whose allocator these would
 * bypass. */
#if !defined(__SANITIZE_ADDRESS__)
#define TM_CAN_FAIL_ALLOC 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
static long tm_alloc_countdown = -1; /* the allocation that fails: 0 the next one */
static long tm_live;                  /* blocks allocated and not freed */

static bool tm_alloc_fails(void)
{
	if (tm_alloc_countdown < 0)
		return false;
	return tm_alloc_countdown-- == 0;
}
static void *tm_counted(void *p)
{
	tm_live += p != NULL;
	return p;
}
void *malloc(size_t n) { return tm_alloc_fails() ? NULL : tm_counted(__libc_malloc(n)); }
void *calloc(size_t n, size_t size) { return tm_alloc_fails() ? NULL : tm_counted(__libc_calloc(n, size)); }
void *realloc(void *p, size_t n)
{
	if (tm_alloc_fails())
		return NULL;
	void *q = __libc_realloc(p, n);
	tm_live += (!p && q) - (p && !n);
	return q;
}
void free(void *p)
{
	tm_live -= p != NULL;
	__libc_free(p);
}
#endif

#ifdef TM_CAN_FAIL_ALLOC
/* A patch that grows every array and table of a small mesh: new vertices,
 * lone triangles over them, a roof over the open side of a cube without its
 * last face, a move and a removal. */
static void growing_patch(struct patch *p)
{
	p->n = 0;
	for (unsigned t = 0; t < 40; t++) {
		unsigned a = p_vert(p, 1000 + 3 * t, (float)t, 0, 0);
		p_vert(p, 1001 + 3 * t, (float)t, 1, 0);
		p_vert(p, 1002 + 3 * t, (float)t, 0, 1);
		p_face_begin(p, 5000 + t, t % 3);
		p_local(p, a);
		p_local(p, a + 1);
		p_local(p, a + 2);
	}
	unsigned c = p_vert(p, 900, 0.5f, 0.5f, 1.5f);
	for (unsigned k = 0; k < 4; k++) {
		p_face_begin(p, 600 + k, 1);
		p_corner(p, cube_faces[5][k]);
		p_corner(p, cube_faces[5][(k + 1) % 4]);
		p_local(p, c);
	}
	p_move(p, 3, 7, 7, 7);
	p_remove(p, 5001);
}
#endif

static void an_allocation_failure_changes_nothing(void **state)
{
#ifndef TM_CAN_FAIL_ALLOC
	printf("SKIP: allocation failures are not injected under AddressSanitizer\n");
	skip();
#else
	/* Under valgrind (or another allocator) nothing can be made to fail. */
	void *(*volatile alloc)(size_t) = malloc; /* a call the compiler cannot fold away */
	tm_alloc_countdown = 0;
	void *probe = alloc(1);
	tm_alloc_countdown = -1;
	if (probe) {
		free(probe);
		printf("SKIP: allocation failures cannot be injected under this allocator\n");
		skip();
	}
	struct patch *p = patch_new();
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_cube(&m, &j, 5);
	growing_patch(p);
	const char *why = NULL;
	assert_int_equal(th_mesh_apply(&m, p->ops, p->n, p->ids, &j, &why), 0);
	struct enc want = enc_of(&m);
	th_mesh_fini(&m);
	th_journal_fini(&j);

	long failures = 0;
	for (long n = 0;; n++) {
		long live = tm_live;
		th_journal_init(&j, 0);
		build_cube(&m, &j, 5);
		struct enc before = enc_of(&m);
		size_t mark = th_journal_mark(&j);
		tm_alloc_countdown = n;
		int rc = th_mesh_apply(&m, p->ops, p->n, p->ids, &j, &why);
		tm_alloc_countdown = -1;
		if (rc == 0) {
			assert_unchanged(&m, want);
			free(before.d);
			th_mesh_fini(&m);
			th_journal_fini(&j);
			break;
		}
		failures++;
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(th_journal_mark(&j), mark);
		assert_unchanged(&m, before);
		/* It applies on, and undoes back. */
		assert_int_equal(th_mesh_apply(&m, p->ops, p->n, p->ids, &j, &why), 0);
		assert_unchanged(&m, want);
		undo_to(&m, &j, mark);
		assert_unchanged(&m, before);
		free(before.d);
		th_mesh_fini(&m);
		th_journal_fini(&j);
		assert_int_equal(tm_live, live); /* nothing leaked on the way */
	}
	print_message("apply: %ld allocation failures injected, each -ENOMEM with nothing changed\n", failures);
	assert_true(failures >= 8);

	/* Decode and copy: -ENOMEM, outputs untouched; encode: -ENOMEM, the
	 * buffer as it was. */
	struct th_mesh src;
	size_t used;
	assert_int_equal(th_mesh_decode(&src, want.d, want.len, &used, &why), 0);
	long dfail = 0;
	for (long n = 0;; n++) {
		struct th_mesh d;
		memset(&d, 0x5a, sizeof(d));
		long live = tm_live;
		used = 777;
		tm_alloc_countdown = n;
		int rc = th_mesh_decode(&d, want.d, want.len, &used, &why);
		tm_alloc_countdown = -1;
		if (rc == 0) {
			assert_unchanged(&d, want);
			th_mesh_fini(&d);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(used, 777);
		assert_int_equal(d.id, 0x5a5a5a5a5a5a5a5aull);
		assert_int_equal(tm_live, live);
		dfail++;
	}
	long cfail = 0;
	for (long n = 0;; n++) {
		struct th_mesh d;
		memset(&d, 0x5a, sizeof(d));
		long live = tm_live;
		tm_alloc_countdown = n;
		int rc = th_mesh_copy(&d, &src);
		tm_alloc_countdown = -1;
		if (rc == 0) {
			assert_unchanged(&d, want);
			th_mesh_fini(&d);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(d.id, 0x5a5a5a5a5a5a5a5aull);
		assert_int_equal(tm_live, live);
		cfail++;
	}
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u32(&w, 42);
	tm_alloc_countdown = 0;
	int rc = th_mesh_encode(&src, &w); /* more than ENC_SMALL vertices: it sorts through a buffer */
	tm_alloc_countdown = -1;
	assert_int_equal(rc, -ENOMEM);
	assert_int_equal(w.len, 4);
	assert_int_equal(th_wbuf_error(&w), 0);
	th_wbuf_fini(&w);
	assert_true(dfail >= 5 && cfail >= 5);
	th_mesh_fini(&src);
	free(want.d);
	free(p);
#endif
}

/* ---- encoding --------------------------------------------------------------- */

static void encode_is_canonical_whatever_the_order(void **state)
{
	struct th_mesh a, b;
	build_cube(&a, NULL, 6);
	/* b: vertices in reverse, faces in another order, through a detour. */
	assert_int_equal(th_mesh_init(&b, MESH_ID), 0);
	struct patch *p = patch_new();
	for (unsigned i = 8; i-- > 0;)
		p_vert(p, i + 1, 7, 7, 7);
	p_vert(p, 99, 0, 0, 0);
	expect_applied(&b, p, NULL);
	for (unsigned i = 0; i < 8; i++)
		p_move(p, i + 1, cube_pos[i][0], cube_pos[i][1], cube_pos[i][2]);
	for (unsigned f = 6; f-- > 0;)
		p_face(p, 101 + f, 0, 4, cube_faces[f]);
	p_remove(p, 99);
	expect_applied(&b, p, NULL);
	for (unsigned f = 0; f < 6; f++)
		p_material(p, 101 + f, f);
	expect_applied(&b, p, NULL);
	struct enc ea = enc_of(&a), eb = enc_of(&b);
	assert_true(enc_same(ea, eb));
	/* The layout of th_mesh.h. */
	assert_int_equal(ea.len, 8 + 4 + 8 * 20 + 4 + 6 * (14 + 4 * 8));
	assert_int_equal(th_get_le64(ea.d), MESH_ID);
	assert_int_equal(th_get_le32(ea.d + 8), 8);
	assert_int_equal(th_get_le64(ea.d + 12), 1);
	assert_int_equal(th_get_le32(ea.d + 12 + 8), 0);          /* x of vertex 1 */
	assert_int_equal(th_get_le32(ea.d + 12 + 20 + 8), 0x3f800000); /* x of vertex 2: 1.0f */
	const uint8_t *f = ea.d + 12 + 160;
	assert_int_equal(th_get_le32(f), 6);
	assert_int_equal(th_get_le64(f + 4), 101);
	assert_int_equal(th_get_le32(f + 12), 0);
	assert_int_equal(th_get_le16(f + 16), 4);
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(th_get_le64(f + 18 + 8 * k), cube_faces[0][k]);
	/* A rotated loop is another face: the first corner is kept. */
	p_remove(p, 101);
	p_face(p, 101, 0, 4, (uint64_t[]){ 4, 3, 2, 1 });
	expect_applied(&b, p, NULL);
	struct enc eb2 = enc_of(&b);
	assert_false(enc_same(ea, eb2));
	free(ea.d);
	free(eb.d);
	free(eb2.d);
	th_mesh_fini(&a);
	th_mesh_fini(&b);
	free(p);
}

static void decode_round_trips(void **state)
{
	struct th_mesh a, b;
	build_cube(&a, NULL, 5);
	struct enc ea = enc_of(&a);
	/* Trailing bytes are the caller's: used says where the mesh ends. */
	uint8_t *buf = malloc(ea.len + 3);
	memcpy(buf, ea.d, ea.len);
	memset(buf + ea.len, 0xab, 3);
	size_t used = 0;
	const char *why = NULL;
	assert_int_equal(th_mesh_decode(&b, buf, ea.len + 3, &used, &why), 0);
	assert_int_equal(used, ea.len);
	mesh_ok(&b);
	assert_int_equal(b.id, MESH_ID);
	struct enc eb = enc_of(&b);
	assert_true(enc_same(ea, eb));
	stats_are(&b, 8, 12, 5, 4, 1);
	/* The decoded mesh takes patches like any other. */
	struct patch *p = patch_new();
	p_face(p, 106, 1, 4, cube_faces[5]);
	expect_applied(&b, p, NULL);
	stats_are(&b, 8, 12, 6, 0, 2);
	/* An empty mesh. */
	struct th_mesh e, e2;
	assert_int_equal(th_mesh_init(&e, 5), 0);
	struct enc ee = enc_of(&e);
	assert_int_equal(ee.len, 16);
	assert_int_equal(th_mesh_decode(&e2, ee.d, ee.len, &used, &why), 0);
	assert_int_equal(used, 16);
	mesh_ok(&e2);
	free(ee.d);
	th_mesh_fini(&e);
	th_mesh_fini(&e2);
	free(buf);
	free(ea.d);
	free(eb.d);
	th_mesh_fini(&a);
	th_mesh_fini(&b);
	free(p);
}

static void expect_decode_refused(const uint8_t *d, size_t len, const char *needle, const char *what)
{
	struct th_mesh m;
	size_t used = 12345;
	const char *why = NULL;
	memset(&m, 0x5a, sizeof(m));
	int r = th_mesh_decode(&m, d, len, &used, &why);
	if (r != -EBADMSG)
		fail_msg("decode of %s: %d, not -EBADMSG", what, r);
	assert_int_equal(used, 12345);
	assert_non_null(why);
	if (needle && !strstr(why, needle))
		fail_msg("decode refused with \"%s\", expected \"%s\"", why, needle);
}

static void decode_refuses_what_encode_never_writes(void **state)
{
	struct th_mesh a;
	build_cube(&a, NULL, 6);
	struct enc e = enc_of(&a);
	uint8_t *c = malloc(e.len);
	const size_t verts = 12, faces = 12 + 8 * 20, face0 = faces + 4;
	/* Every proper prefix. */
	for (size_t n = 0; n < e.len; n++)
		expect_decode_refused(e.d, n, NULL, "a prefix");
#define MUTATE(stmt, needle)                                                                                        \
	do {                                                                                                        \
		memcpy(c, e.d, e.len);                                                                              \
		stmt;                                                                                               \
		expect_decode_refused(c, e.len, needle, #stmt);                                                         \
	} while (0)
	MUTATE(th_put_le64(c, 0), "id 0");
	MUTATE(th_put_le32(c + 8, 1u << 20), "vertices truncated");
	MUTATE(th_put_le32(c + 8, TH_MESH_ELEMENTS_MAX + 1), "ELEMENTS_MAX");
	MUTATE(th_put_le64(c + verts + 20, 1), "vertex ids");           /* vertex 2 repeats 1 */
	MUTATE(th_put_le64(c + verts, 0), "vertex ids");                /* id 0 */
	MUTATE(th_put_le64(c + verts, 3), "vertex ids");                /* out of order */
	MUTATE(th_put_le32(c + verts + 8, 0x7fc00000), "finite");       /* NaN */
	MUTATE(th_put_le32(c + verts + 12, 0x7f800000), "finite");      /* infinity */
	MUTATE(th_put_le32(c + faces, 7), "truncated");
	MUTATE(th_put_le32(c + faces, 0xffffffffu), NULL);
	MUTATE(th_put_le64(c + face0, 0), "face ids");
	MUTATE(th_put_le64(c + face0 + 46, 101), "face ids");           /* face 2 repeats 101 */
	MUTATE(th_put_le64(c + face0, 3), "already used");              /* a vertex's id */
	MUTATE(th_put_le32(c + face0 + 8, TH_PL_MATERIALS_MAX), "material");
	MUTATE(th_put_le16(c + face0 + 12, 2), NULL);
	MUTATE(th_put_le16(c + face0 + 12, TH_MESH_FACE_VERTS_MAX + 1), "corners");
	MUTATE(th_put_le64(c + face0 + 14, 42), "missing vertex");
	MUTATE(th_put_le64(c + face0 + 14 + 8, 1), "repeats a vertex");
	/* Face 102 (top, 5 6 7 8) turned to 5 8 7 6: same orientation as its neighbours. */
	MUTATE((th_put_le64(c + face0 + 46 + 14 + 8, 8), th_put_le64(c + face0 + 46 + 14 + 24, 6)), "directed edge");
#undef MUTATE
	/* A bowtie, written by hand: two triangles sharing vertex 1 only. */
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u64(&w, MESH_ID);
	th_wbuf_u32(&w, 5);
	for (unsigned i = 1; i <= 5; i++) {
		th_wbuf_u64(&w, i);
		th_wbuf_f32s(&w, (float[]){ (float)i, 0, 0 }, 3);
	}
	th_wbuf_u32(&w, 2);
	const uint64_t tri[2][3] = { { 1, 2, 3 }, { 1, 4, 5 } };
	for (unsigned f = 0; f < 2; f++) {
		th_wbuf_u64(&w, 10 + f);
		th_wbuf_u32(&w, 0);
		th_wbuf_u16(&w, 3);
		for (unsigned k = 0; k < 3; k++)
			th_wbuf_u64(&w, tri[f][k]);
	}
	assert_int_equal(th_wbuf_error(&w), 0);
	expect_decode_refused(w.data, w.len, "single fan", "a bowtie");
	th_wbuf_fini(&w);
	free(c);
	free(e.d);
	th_mesh_fini(&a);
}

/* The encoding of m written the plain way: every live element through the
 * public queries, sorted with qsort. */
struct exp_elem {
	uint64_t id;
	int32_t slot;
};
static int exp_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct exp_elem *)a)->id, y = ((const struct exp_elem *)b)->id;
	return x < y ? -1 : x > y;
}

static struct enc expected_encoding(const struct th_mesh *m)
{
	struct exp_elem *e = malloc((m->nverts + m->nfaces + 1) * sizeof(*e));
	assert_non_null(e);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u64(&w, m->id);
	unsigned n = 0;
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id)
			e[n++] = (struct exp_elem){ m->verts[v].id, (int32_t)v };
	qsort(e, n, sizeof(*e), exp_cmp);
	th_wbuf_u32(&w, n);
	for (unsigned i = 0; i < n; i++) {
		th_wbuf_u64(&w, e[i].id);
		th_wbuf_f32s(&w, m->verts[e[i].slot].pos, 3);
	}
	n = 0;
	for (uint32_t f = 0; f < m->nfaces; f++)
		if (m->faces[f].id)
			e[n++] = (struct exp_elem){ m->faces[f].id, (int32_t)f };
	qsort(e, n, sizeof(*e), exp_cmp);
	th_wbuf_u32(&w, n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t loop[TH_MESH_FACE_VERTS_MAX];
		int k = th_mesh_face_loop(m, e[i].slot, loop, TH_MESH_FACE_VERTS_MAX);
		assert_true(k >= 3);
		th_wbuf_u64(&w, e[i].id);
		th_wbuf_u32(&w, m->faces[e[i].slot].material);
		th_wbuf_u16(&w, (uint16_t)k);
		for (int c = 0; c < k; c++)
			th_wbuf_u64(&w, loop[c]);
	}
	free(e);
	assert_int_equal(th_wbuf_error(&w), 0);
	return (struct enc){ w.data, w.len };
}

static uint64_t scramble(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	return x ? x : 1;
}

/* A g x g grid of quads (g a multiple of 8), added 8 rows at a time in a
 * shuffled order, then every third row removed and every sixth added back
 * (free slots reused); id(i) names the elements. */
static void grid_row(struct patch *p, unsigned g, unsigned y, uint64_t (*id)(uint64_t), bool add)
{
	for (unsigned x = 0; x < g; x++) {
		unsigned v = y * (g + 1) + x + 1;
		if (add)
			p_face(p, id(1000000 + y * g + x), (y + x) % 7, 4,
			       (uint64_t[]){ id(v), id(v + 1), id(v + g + 2), id(v + g + 1) });
		else
			p_remove(p, id(1000000 + y * g + x));
	}
}

static void build_big_grid(struct th_mesh *m, unsigned g, uint64_t (*id)(uint64_t))
{
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(m, MESH_ID), 0);
	for (unsigned y = 0; y <= g; y++)
		for (unsigned x = 0; x <= g; x++)
			p_vert(p, id(y * (g + 1) + x + 1), (float)x, (float)y, 0);
	expect_applied(m, p, NULL);
	unsigned order[8 * 64];
	assert_true(g % 8 == 0 && g <= 64);
	for (unsigned band = 0; band < g; band += 8) {
		for (unsigned i = 0; i < 8 * g; i++)
			order[i] = band * g + i;
		for (unsigned i = 8 * g; i-- > 1;) {
			unsigned k = rn(i + 1), t = order[i];
			order[i] = order[k];
			order[k] = t;
		}
		for (unsigned i = 0; i < 8 * g; i++) {
			unsigned x = order[i] % g, y = order[i] / g, v = y * (g + 1) + x + 1;
			p_face(p, id(1000000 + order[i]), order[i] % 7, 4,
			       (uint64_t[]){ id(v), id(v + 1), id(v + g + 2), id(v + g + 1) });
		}
		expect_applied(m, p, NULL);
	}
	for (unsigned y = 0; y < g; y += 3) {
		grid_row(p, g, y, id, false);
		expect_applied(m, p, NULL);
	}
	for (unsigned y = 0; y < g; y += 6) {
		grid_row(p, g, y, id, true);
		expect_applied(m, p, NULL);
	}
	free(p);
}

static uint64_t high_bits_id(uint64_t i) { return i << 44 | 7; }

static void large_meshes_encode_canonically(void **state)
{
	uint64_t (*ids[2])(uint64_t) = { scramble, high_bits_id };
	rng = 0x853c49e6748fea9bull;
	for (unsigned k = 0; k < 2; k++) {
		struct th_mesh m, d;
		build_big_grid(&m, 40, ids[k]);
		struct th_mesh_stats st;
		th_mesh_stats(&m, &st);
		assert_true(st.faces > 1000 && st.faces < 1600);
		struct enc got = enc_of(&m), want = expected_encoding(&m);
		assert_true(enc_same(got, want));
		size_t used;
		const char *why = NULL;
		assert_int_equal(th_mesh_decode(&d, got.d, got.len, &used, &why), 0);
		assert_int_equal(used, got.len);
		mesh_ok(&d);
		assert_unchanged(&d, got);
		free(got.d);
		free(want.d);
		th_mesh_fini(&d);
		th_mesh_fini(&m);
	}
}

static void edge_id_is_symmetric_siphash(void **state)
{
	uint8_t b[16];
	th_put_le64(b, 5);
	th_put_le64(b + 8, 9);
	uint64_t want = th_siphash(b, 16);
	assert_int_equal(th_mesh_edge_id(5, 9), want ? want : 1);
	assert_int_equal(th_mesh_edge_id(9, 5), th_mesh_edge_id(5, 9));
	assert_int_not_equal(th_mesh_edge_id(5, 9), th_mesh_edge_id(5, 10));
	for (uint64_t i = 0; i < 1000; i++)
		assert_int_not_equal(th_mesh_edge_id(i, i * 7 + 1), 0);
}

static void copy_is_deep(void **state)
{
	struct th_mesh a, b;
	build_cube(&a, NULL, 6);
	assert_int_equal(th_mesh_copy(&b, &a), 0);
	mesh_ok(&b);
	struct enc ea = enc_of(&a);
	assert_unchanged(&b, ea);
	struct patch *p = patch_new();
	p_remove(p, 101);
	p_move(p, 3, 5, 5, 5);
	expect_applied(&b, p, NULL);
	assert_unchanged(&a, ea);
	stats_are(&b, 8, 12, 5, 4, 1);
	stats_are(&a, 8, 12, 6, 0, 2);
	th_mesh_fini(&a);
	mesh_ok(&b);
	/* A copy of an empty mesh. */
	struct th_mesh e, e2;
	assert_int_equal(th_mesh_init(&e, 3), 0);
	assert_int_equal(th_mesh_copy(&e2, &e), 0);
	mesh_ok(&e2);
	p_vert(p, 1, 0, 0, 0);
	expect_applied(&e2, p, NULL);
	stats_are(&e, 0, 0, 0, 0, 0);
	th_mesh_fini(&e);
	th_mesh_fini(&e2);
	free(ea.d);
	th_mesh_fini(&b);
	free(p);
}

/* ---- a brute-force model of the rules ---------------------------------------- */

#define REF_V 160
#define REF_F 160
#define REF_CORNERS TH_MESH_FACE_VERTS_MAX

struct ref_face {
	uint64_t id;
	uint32_t material;
	unsigned n;
	uint64_t v[REF_CORNERS];
};
struct ref {
	unsigned nv, nf;
	uint64_t vid[REF_V];
	float pos[REF_V][3];
	struct ref_face f[REF_F];
};

static int ref_vert(const struct ref *r, uint64_t id)
{
	for (unsigned i = 0; i < r->nv; i++)
		if (r->vid[i] == id)
			return (int)i;
	return -1;
}
static int ref_face(const struct ref *r, uint64_t id)
{
	for (unsigned i = 0; i < r->nf; i++)
		if (r->f[i].id == id)
			return (int)i;
	return -1;
}
static bool ref_used(const struct ref *r, uint64_t id) { return !id || ref_vert(r, id) >= 0 || ref_face(r, id) >= 0; }
static bool ref_has_edge(const struct ref *r, uint64_t a, uint64_t b)
{
	for (unsigned i = 0; i < r->nf; i++)
		for (unsigned k = 0; k < r->f[i].n; k++)
			if (r->f[i].v[k] == a && r->f[i].v[(k + 1) % r->f[i].n] == b)
				return true;
	return false;
}
static bool ref_finite(const float *p) { return isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2]); }

/* The two neighbours of vertex v in face f, or false when f lacks v. */
static bool ref_around(const struct ref_face *f, uint64_t v, uint64_t nb[2])
{
	for (unsigned k = 0; k < f->n; k++)
		if (f->v[k] == v) {
			nb[0] = f->v[(k + 1) % f->n];
			nb[1] = f->v[(k + f->n - 1) % f->n];
			return true;
		}
	return false;
}

/* Faces at v are one fan: connected through shared edges at v. */
static bool ref_fan(const struct ref *r, uint64_t v)
{
	int at[REF_F];
	uint64_t nb[REF_F][2];
	unsigned n = 0;
	for (unsigned i = 0; i < r->nf; i++)
		if (ref_around(&r->f[i], v, nb[n]))
			at[n++] = (int)i;
	if (n < 2)
		return true;
	bool seen[REF_F] = { false };
	unsigned stack[REF_F], sp = 0, reached = 1;
	seen[0] = true;
	stack[sp++] = 0;
	while (sp) {
		unsigned a = stack[--sp];
		for (unsigned b = 0; b < n; b++) {
			if (seen[b])
				continue;
			bool share = false;
			for (int x = 0; x < 2; x++)
				for (int y = 0; y < 2; y++)
					share |= nb[a][x] == nb[b][y];
			if (share) {
				seen[b] = true;
				reached++;
				stack[sp++] = b;
			}
		}
	}
	(void)at;
	return reached == n;
}

static bool ref_apply(struct ref *r, const struct th_pl_mesh_op *ops, unsigned n, const uint64_t *ids)
{
	for (unsigned i = 0; i < n; i++) {
		const struct th_pl_mesh_op *o = &ops[i];
		int s;
		switch (o->op) {
		case TH_PL_MESH_OP_VERTEX_ADD:
			if (ref_used(r, ids[i]) || !ref_finite(o->position) || r->nv == REF_V)
				return false;
			r->vid[r->nv] = ids[i];
			memcpy(r->pos[r->nv++], o->position, 12);
			break;
		case TH_PL_MESH_OP_VERTEX_MOVE:
			if ((s = ref_vert(r, o->element)) < 0 || !ref_finite(o->position))
				return false;
			memcpy(r->pos[s], o->position, 12);
			break;
		case TH_PL_MESH_OP_REMOVE:
			if ((s = ref_vert(r, o->element)) >= 0) {
				for (unsigned f = 0; f < r->nf; f++)
					for (unsigned k = 0; k < r->f[f].n; k++)
						if (r->f[f].v[k] == o->element)
							return false;
				r->nv--;
				r->vid[s] = r->vid[r->nv];
				memcpy(r->pos[s], r->pos[r->nv], 12);
			} else if ((s = ref_face(r, o->element)) >= 0) {
				r->f[s] = r->f[--r->nf];
			} else {
				return false;
			}
			break;
		case TH_PL_MESH_OP_FACE_ADD: {
			unsigned k = 0;
			while (i + 1 + k < n && ops[i + 1 + k].op == TH_PL_MESH_OP_LOOP)
				k++;
			if (k < 3 || k > REF_CORNERS || o->arg >= TH_PL_MATERIALS_MAX || r->nf == REF_F)
				return false;
			struct ref_face f = { .id = ids[i], .material = o->arg, .n = k };
			for (unsigned c = 0; c < k; c++) {
				const struct th_pl_mesh_op *l = &ops[i + 1 + c];
				uint64_t v = l->element;
				if (l->arg == TH_PL_MESH_REF_LOCAL) {
					if (!v || v > i || ops[v - 1].op != TH_PL_MESH_OP_VERTEX_ADD)
						return false;
					v = ids[v - 1];
				} else if (l->arg != TH_PL_MESH_REF_ID) {
					return false;
				}
				if (ref_vert(r, v) < 0)
					return false;
				for (unsigned d = 0; d < c; d++)
					if (f.v[d] == v)
						return false;
				f.v[c] = v;
			}
			if (ref_used(r, f.id))
				return false;
			for (unsigned c = 0; c < k; c++)
				if (ref_has_edge(r, f.v[c], f.v[(c + 1) % k]))
					return false;
			r->f[r->nf++] = f;
			i += k;
			break;
		}
		case TH_PL_MESH_OP_FACE_MATERIAL:
			if ((s = ref_face(r, o->element)) < 0 || o->arg >= TH_PL_MATERIALS_MAX)
				return false;
			r->f[s].material = o->arg;
			break;
		default:
			return false;
		}
	}
	for (unsigned i = 0; i < r->nv; i++)
		if (!ref_fan(r, r->vid[i]))
			return false;
	return true;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static struct enc ref_encode(const struct ref *r, uint64_t mesh)
{
	uint64_t ids[REF_F > REF_V ? REF_F : REF_V];
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u64(&w, mesh);
	th_wbuf_u32(&w, r->nv);
	memcpy(ids, r->vid, r->nv * sizeof(uint64_t));
	qsort(ids, r->nv, sizeof(uint64_t), u64_cmp);
	for (unsigned i = 0; i < r->nv; i++) {
		th_wbuf_u64(&w, ids[i]);
		th_wbuf_f32s(&w, r->pos[ref_vert(r, ids[i])], 3);
	}
	th_wbuf_u32(&w, r->nf);
	for (unsigned i = 0; i < r->nf; i++)
		ids[i] = r->f[i].id;
	qsort(ids, r->nf, sizeof(uint64_t), u64_cmp);
	for (unsigned i = 0; i < r->nf; i++) {
		const struct ref_face *f = &r->f[ref_face(r, ids[i])];
		th_wbuf_u64(&w, f->id);
		th_wbuf_u32(&w, f->material);
		th_wbuf_u16(&w, (uint16_t)f->n);
		for (unsigned k = 0; k < f->n; k++)
			th_wbuf_u64(&w, f->v[k]);
	}
	assert_int_equal(th_wbuf_error(&w), 0);
	return (struct enc){ w.data, w.len };
}

/* ---- random op lists -------------------------------------------------------- */


static uint64_t next_id;

/* A new element's id: usually fresh, sometimes one in use, rarely 0. */
static uint64_t gen_id(const struct ref *r)
{
	unsigned k = rn(100);
	if (k < 2 && r->nv)
		return r->vid[rn(r->nv)];
	if (k < 3 && r->nf)
		return r->f[rn(r->nf)].id;
	if (k < 4)
		return 0;
	next_id += 1 + rn(3);
	return next_id;
}

static uint64_t any_vertex(const struct ref *r) { return r->nv ? r->vid[rn(r->nv)] : 12345; }

static void gen_corner(struct patch *p, const struct ref *r, const unsigned *locals, unsigned nlocals)
{
	unsigned k = rn(100);
	if (k < 30 && nlocals)
		p_local(p, locals[rn(nlocals)]);
	else if (k < 31)
		p_local(p, p->n); /* names the FACE_ADD or a LOOP: refused */
	else if (k < 34)
		p_corner(p, next_id + 1000 + rn(5)); /* missing */
	else
		p_corner(p, any_vertex(r));
}

static bool ref_is_free(const struct ref *r, uint64_t v)
{
	for (unsigned f = 0; f < r->nf; f++)
		for (unsigned k = 0; k < r->f[f].n; k++)
			if (r->f[f].v[k] == v)
				return false;
	return true;
}

/* A careful op: valid on its own more often than not. */
static void gen_careful(struct patch *p, const struct ref *r, unsigned *locals, unsigned *nlocals)
{
	unsigned k = rn(100);
	if (k < 20 || !r->nv) {
		next_id += 1 + rn(3);
		locals[(*nlocals)++] = p_vert(p, next_id, (float)rn(64) / 4, (float)rn(64) / 4, (float)rn(8));
	} else if (k < 30) {
		p_move(p, any_vertex(r), (float)rn(64), (float)rn(64), 0.5f);
	} else if (k < 45) {
		uint64_t v = any_vertex(r);
		if (r->nf && (rn(3) || !ref_is_free(r, v)))
			p_remove(p, r->f[rn(r->nf)].id);
		else
			p_remove(p, v);
	} else if (k < 70 && r->nf) {
		/* A triangle closing the corner between two boundary edges a -> b -> c. */
		for (unsigned tries = 0; tries < 8; tries++) {
			const struct ref_face *f = &r->f[rn(r->nf)];
			unsigned c = rn(f->n);
			uint64_t a = f->v[c], b = f->v[(c + 1) % f->n];
			if (ref_has_edge(r, b, a))
				continue;
			for (unsigned g = 0; g < r->nf; g++)
				for (unsigned i = 0; i < r->f[g].n; i++) {
					uint64_t x = r->f[g].v[i], y = r->f[g].v[(i + 1) % r->f[g].n];
					if (x == b && y != a && !ref_has_edge(r, y, x)) {
						next_id += 1 + rn(3);
						p_face(p, next_id, 0, 3, (uint64_t[]){ b, a, y });
						return;
					}
				}
		}
	} else if (k < 92) {
		/* A triangle on a boundary edge of a face, or a lone one. */
		uint64_t a = 0, b = 0;
		for (unsigned tries = 0; tries < 6 && r->nf && !a; tries++) {
			const struct ref_face *f = &r->f[rn(r->nf)];
			unsigned c = rn(f->n);
			if (!ref_has_edge(r, f->v[(c + 1) % f->n], f->v[c])) {
				a = f->v[c];
				b = f->v[(c + 1) % f->n];
			}
		}
		unsigned nv = a ? 1 : 3, first = 0;
		for (unsigned i = 0; i < nv; i++) {
			next_id += 1 + rn(3);
			unsigned op = p_vert(p, next_id, (float)rn(64), (float)rn(64), 1);
			locals[(*nlocals)++] = op;
			first = first ? first : op;
		}
		next_id += 1 + rn(3);
		p_face_begin(p, next_id, rn(TH_PL_MATERIALS_MAX));
		if (a) {
			p_corner(p, b);
			p_corner(p, a);
			p_local(p, first);
		} else {
			for (unsigned i = 0; i < 3; i++)
				p_local(p, first + i);
		}
	} else if (r->nf) {
		p_material(p, r->f[rn(r->nf)].id, rn(TH_PL_MATERIALS_MAX));
	}
}

/* Any op, valid or not. */
static void gen_wild(struct patch *p, const struct ref *r, unsigned *locals, unsigned *nlocals)
{
	unsigned k = rn(100);
	if (k < 22) {
		locals[(*nlocals)++] = p_vert(p, gen_id(r), (float)rn(64) / 4, (float)rn(64) / 4, (float)rn(8));
	} else if (k < 30) {
		float x = rn(30) ? (float)rn(64) : (rn(2) ? NAN : INFINITY);
		p_move(p, rn(8) ? any_vertex(r) : next_id + 777, x, 1, 2);
	} else if (k < 45) {
		unsigned w = rn(100);
		if (w < 60 && r->nf)
			p_remove(p, r->f[rn(r->nf)].id);
		else if (w < 92 && r->nv)
			p_remove(p, r->vid[rn(r->nv)]);
		else
			p_remove(p, next_id + 555);
	} else if (k < 88) {
		uint32_t mat = rn(50) ? rn(TH_PL_MATERIALS_MAX) : TH_PL_MATERIALS_MAX + rn(3);
		p_face_begin(p, gen_id(r), mat);
		if (rn(2) && r->nf) {
			/* Grow from an edge of a face, in the opposite direction. */
			const struct ref_face *f = &r->f[rn(r->nf)];
			unsigned c = rn(f->n);
			p_corner(p, f->v[(c + 1) % f->n]);
			p_corner(p, f->v[c]);
			for (unsigned extra = 1 + rn(2); extra--;)
				gen_corner(p, r, locals, *nlocals);
		} else {
			unsigned n = rn(40) ? 3 + rn(3) : (rn(2) ? 2 : TH_MESH_FACE_VERTS_MAX + 1);
			for (unsigned c = 0; c < n; c++)
				gen_corner(p, r, locals, *nlocals);
		}
	} else if (k < 95) {
		uint32_t mat = rn(30) ? rn(TH_PL_MATERIALS_MAX) : TH_PL_MATERIALS_MAX;
		p_material(p, r->nf && rn(8) ? r->f[rn(r->nf)].id : next_id + 333, mat);
	} else if (k < 98) {
		p_corner(p, any_vertex(r)); /* a stray LOOP */
	} else {
		p_op(p, rn(2) ? 0 : TH_PL_MESH_OP_MAX + 1, any_vertex(r), 0, 0, 0, 0, 0);
	}
}

static void gen_list(struct patch *p, const struct ref *r)
{
	unsigned locals[TH_PL_MESH_OPS_MAX], nlocals = 0;
	bool full = r->nv > REF_V - 32 || r->nf > REF_F - 32;
	bool careful = rn(10) < 6;
	unsigned target = careful ? 1 + rn(8) : 1 + rn(5);
	p->n = 0;
	while (p->n < target) {
		if (full && rn(2)) {
			uint64_t v = any_vertex(r);
			p_remove(p, r->nf && !ref_is_free(r, v) ? r->f[rn(r->nf)].id : v);
		} else if (careful || rn(4)) {
			gen_careful(p, r, locals, &nlocals);
		} else {
			gen_wild(p, r, locals, &nlocals);
		}
	}
}

#define PROP_MESHES 200
#define PROP_LISTS 60

static void random_patches_match_a_reference_model(void **state)
{
	struct patch *p = patch_new();
	struct ref *r = malloc(sizeof(*r)), *t = malloc(sizeof(*t));
	assert_non_null(r);
	assert_non_null(t);
	unsigned applied = 0, refused = 0;
	uint64_t interior = 0; /* edges with two faces, summed over the applied lists */
	rng = 0x9e3779b97f4a7c15ull;
	for (unsigned mesh = 0; mesh < PROP_MESHES; mesh++) {
		struct th_mesh m;
		struct th_journal j;
		struct enc before[PROP_LISTS];
		size_t marks[PROP_LISTS];
		assert_int_equal(th_mesh_init(&m, 1000 + mesh), 0);
		th_journal_init(&j, 0);
		memset(r, 0, sizeof(*r));
		next_id = 1;
		for (unsigned l = 0; l < PROP_LISTS; l++) {
			gen_list(p, r);
			before[l] = enc_of(&m);
			marks[l] = th_journal_mark(&j);
			memcpy(t, r, sizeof(*r));
			bool want = ref_apply(t, p->ops, p->n, p->ids);
			/* Every 5th list also goes through a copy without a journal. */
			struct th_mesh c;
			bool twin = l % 5 == 0;
			if (twin)
				assert_int_equal(th_mesh_copy(&c, &m), 0);
			const char *why = NULL;
			int rc = th_mesh_apply(&m, p->ops, p->n, p->ids, &j, &why);
			if ((rc == 0) != want)
				fail_msg("mesh %u list %u: apply %d (%s), the model says %s", mesh, l, rc,
					 rc ? why : "", want ? "valid" : "invalid");
			mesh_ok(&m);
			if (rc) {
				assert_int_equal(rc, -EINVAL);
				assert_non_null(why);
				assert_int_equal(th_journal_mark(&j), marks[l]);
				assert_unchanged(&m, before[l]);
				refused++;
			} else {
				memcpy(r, t, sizeof(*r));
				struct th_mesh_stats st;
				th_mesh_stats(&m, &st);
				interior += st.edges - st.boundary_edges;
				struct enc got = enc_of(&m), exp = ref_encode(r, m.id);
				assert_true(enc_same(got, exp));
				free(exp.d);
				free(got.d);
				applied++;
			}
			if (twin) {
				assert_int_equal(th_mesh_apply(&c, p->ops, p->n, p->ids, NULL, &why), rc);
				struct enc ec = enc_of(&c), em = enc_of(&m);
				assert_true(enc_same(ec, em));
				free(ec.d);
				free(em.d);
				mesh_ok(&c);
				th_mesh_fini(&c);
			}
			if (l % 10 == 9) {
				struct enc em = enc_of(&m);
				struct th_mesh d;
				size_t used;
				assert_int_equal(th_mesh_decode(&d, em.d, em.len, &used, &why), 0);
				assert_int_equal(used, em.len);
				mesh_ok(&d);
				assert_unchanged(&d, em);
				th_mesh_fini(&d);
				free(em.d);
			}
		}
		/* The whole history back, one list at a time, newest first. */
		for (unsigned l = PROP_LISTS; l-- > 0;) {
			undo_to(&m, &j, marks[l]);
			assert_unchanged(&m, before[l]);
			free(before[l].d);
		}
		stats_are(&m, 0, 0, 0, 0, 0);
		th_mesh_fini(&m);
		th_journal_fini(&j);
	}
	/* Both outcomes are well represented. */
	print_message("random op lists: %u applied, %u refused, %llu interior edges seen\n", applied, refused,
		      (unsigned long long)interior);
	assert_true(applied > PROP_MESHES * PROP_LISTS / 10);
	assert_true(refused > PROP_MESHES * PROP_LISTS / 10);
	assert_true(interior > (uint64_t)applied);
	free(r);
	free(t);
	free(p);
}

/* ---- closed surfaces -------------------------------------------------------- */

/* An n x n quad torus: vertex (i, j) is 1 + i * n + j, faces from 1000. */
static void build_torus(struct th_mesh *m, unsigned n)
{
	struct patch *p = patch_new();
	assert_int_equal(th_mesh_init(m, MESH_ID), 0);
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < n; k++)
			p_vert(p, 1 + i * n + k, (float)i, (float)k, 0);
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < n; k++) {
			unsigned i1 = (i + 1) % n, k1 = (k + 1) % n;
			p_face(p, 1000 + i * n + k, 0, 4,
			       (uint64_t[]){ 1 + i * n + k, 1 + i1 * n + k, 1 + i1 * n + k1, 1 + i * n + k1 });
		}
	expect_applied(m, p, NULL);
	free(p);
}

/* A random live face's id and loop. */
static unsigned random_face(const struct th_mesh *m, uint64_t *id, uint64_t *loop)
{
	for (;;) {
		uint32_t f = rn(m->nfaces);
		if (m->faces[f].id) {
			*id = m->faces[f].id;
			return (unsigned)th_mesh_face_loop(m, (int32_t)f, loop, TH_MESH_FACE_VERTS_MAX);
		}
	}
}

/* Closedness-keeping changes (poke a face, split a quad or more along a
 * diagonal, flip an edge between two triangles), each applied or refused as
 * a whole; sometimes followed by a bogus op so the whole list is refused. */
static void reshape(struct th_mesh *m, struct th_journal *j, struct patch *p, int64_t euler, unsigned steps)
{
	uint64_t loop[TH_MESH_FACE_VERTS_MAX], id;
	for (unsigned s = 0; s < steps; s++) {
		unsigned n = random_face(m, &id, loop), kind = rn(3);
		if (kind == 0 && n <= 8) { /* poke */
			p_remove(p, id);
			unsigned c = p_vert(p, ++next_id, (float)rn(9), (float)rn(9), (float)rn(9));
			for (unsigned k = 0; k < n; k++) {
				p_face_begin(p, ++next_id, 0);
				p_corner(p, loop[k]);
				p_corner(p, loop[(k + 1) % n]);
				p_local(p, c);
			}
		} else if (kind == 1 && n >= 4) { /* split at corner 0 and 2 */
			p_remove(p, id);
			p_face(p, ++next_id, 0, 3, loop);
			uint64_t rest[TH_MESH_FACE_VERTS_MAX];
			rest[0] = loop[0];
			memcpy(rest + 1, loop + 2, (n - 2) * sizeof(uint64_t));
			p_face(p, ++next_id, 0, n - 1, rest);
		} else if (n == 3) { /* flip the edge loop[0] -> loop[1] */
			int32_t a = th_mesh_vert_find(m, loop[0]), b = th_mesh_vert_find(m, loop[1]);
			int32_t t = m->hes[th_mesh_he_find(m, a, b)].twin;
			if (t == TH_MESH_NONE || m->faces[m->hes[t].face].n != 3)
				continue;
			uint64_t d = m->verts[m->hes[m->hes[m->hes[t].next].next].vert].id;
			p_remove(p, id);
			p_remove(p, m->faces[m->hes[t].face].id);
			p_face(p, ++next_id, 0, 3, (uint64_t[]){ loop[2], loop[0], d });
			p_face(p, ++next_id, 0, 3, (uint64_t[]){ d, loop[1], loop[2] });
		} else {
			continue;
		}
		if (rn(10) == 0)
			p_move(p, next_id + 99, 0, 0, 0);
		struct enc before = enc_of(m);
		size_t mark = th_journal_mark(j);
		const char *why = NULL;
		int r = apply(m, p, j, &why);
		assert_true(r == 0 || r == -EINVAL);
		mesh_ok(m);
		if (r) {
			assert_int_equal(th_journal_mark(j), mark);
			assert_unchanged(m, before);
		}
		free(before.d);
		struct th_mesh_stats st;
		th_mesh_stats(m, &st);
		assert_int_equal(st.boundary_edges, 0);
		assert_int_equal(st.euler, euler);
	}
}

static void closed_surfaces_keep_their_euler_characteristic(void **state)
{
	struct patch *p = patch_new();
	struct th_journal j;
	rng = 0x2545f4914f6cdd1dull;
	next_id = 1u << 20;
	for (unsigned round = 0; round < 4; round++) {
		struct th_mesh m;
		th_journal_init(&j, 0);
		int64_t euler;
		if (round % 2 == 0) {
			build_cube(&m, NULL, 6);
			euler = 2;
		} else {
			build_torus(&m, 4 + round);
			euler = 0;
			stats_are(&m, (4 + round) * (4 + round), 2 * (4 + round) * (4 + round), (4 + round) * (4 + round),
				  0, 0);
		}
		struct enc start = enc_of(&m);
		reshape(&m, &j, p, euler, 400);
		struct th_mesh_stats st;
		th_mesh_stats(&m, &st);
		assert_true(st.faces > 20);
		undo_to(&m, &j, 0);
		assert_unchanged(&m, start);
		free(start.d);
		th_mesh_fini(&m);
		th_journal_fini(&j);
	}
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cube_is_a_closed_manifold),
		cmocka_unit_test(single_quad_has_four_boundary_edges),
		cmocka_unit_test(open_box_has_a_boundary_loop),
		cmocka_unit_test(removing_a_face_opens_a_boundary_and_undo_closes_it),
		cmocka_unit_test(bowtie_is_refused_and_changes_nothing),
		cmocka_unit_test(a_bowtie_completed_in_the_same_patch_is_accepted),
		cmocka_unit_test(removing_the_middle_of_a_boundary_fan_is_refused),
		cmocka_unit_test(a_face_repeating_a_directed_edge_is_refused),
		cmocka_unit_test(a_face_repeating_a_vertex_is_refused),
		cmocka_unit_test(removing_a_used_vertex_is_refused),
		cmocka_unit_test(local_references_name_the_patch_vertices),
		cmocka_unit_test(bad_references_are_refused),
		cmocka_unit_test(id_collisions_are_refused),
		cmocka_unit_test(a_failing_patch_reverts_every_earlier_op),
		cmocka_unit_test(a_full_journal_refuses_and_changes_nothing),
		cmocka_unit_test(move_and_material_undo_exactly),
		cmocka_unit_test(non_finite_positions_and_bad_materials_are_refused),
		cmocka_unit_test(corner_counts_are_limited),
		cmocka_unit_test(malformed_op_lists_are_refused),
		cmocka_unit_test(undo_refuses_records_that_do_not_fit),
		cmocka_unit_test(init_refuses_id_zero),
		cmocka_unit_test(an_allocation_failure_changes_nothing),
		cmocka_unit_test(encode_is_canonical_whatever_the_order),
		cmocka_unit_test(decode_round_trips),
		cmocka_unit_test(decode_refuses_what_encode_never_writes),
		cmocka_unit_test(large_meshes_encode_canonically),
		cmocka_unit_test(edge_id_is_symmetric_siphash),
		cmocka_unit_test(copy_is_deep),
		cmocka_unit_test(random_patches_match_a_reference_model),
		cmocka_unit_test(closed_surfaces_keep_their_euler_characteristic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
