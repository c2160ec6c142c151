/* th_mesh: known meshes (cube, quad, open box) and their counts; every
 * refusal (bowtie, split fan, repeated directed edge or vertex, used vertex,
 * id collisions, bad references, limits) leaves the mesh's canonical
 * encoding and the journal exactly as they were; undo restores exactly; the
 * canonical encoding does not depend on the order of the ops and decode
 * refuses what encode would not write; the version changes with every
 * change and only then, and no two meshes share one. test_mesh_props.c holds the seeded
 * property test, the Euler tests and the allocation failures. */
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
#include "th_meshfix.h"

static void cube_is_a_closed_manifold(void **state)
{
	struct th_mesh m;
	mf_build_cube(&m, NULL, 6);
	mf_stats_are(&m, 8, 12, 6, 0, 2);
	/* Every edge has its twin; loops come back as created. */
	uint64_t ids[4];
	int32_t f = th_mesh_face_find(&m, 103);
	assert_true(f >= 0);
	assert_int_equal(th_mesh_face_loop(&m, f, ids, 4), 4);
	assert_memory_equal(ids, mf_cube_faces[2], sizeof(ids));
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
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
	mf_add_cube_verts(p);
	mf_p_face(p, 101, 0, 4, mf_cube_faces[0]);
	mf_expect_applied(&m, p, NULL);
	mf_stats_are(&m, 8, 4, 1, 4, 5); /* 4 free vertices count too */
	for (unsigned k = 0; k < 4; k++) {
		int32_t a = th_mesh_vert_find(&m, mf_cube_faces[0][k]), b = th_mesh_vert_find(&m, mf_cube_faces[0][(k + 1) % 4]);
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
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
	mf_add_cube_verts(p);
	for (unsigned f = 0; f < 6; f++)
		if (f != 1)
			mf_p_face(p, 101 + f, 0, 4, mf_cube_faces[f]);
	mf_expect_applied(&m, p, NULL);
	mf_stats_are(&m, 8, 12, 5, 4, 1);
	th_mesh_fini(&m);
	free(p);
}

static void removing_a_face_opens_a_boundary_and_undo_closes_it(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	mf_build_cube(&m, &j, 6);
	size_t mark = th_journal_mark(&j);
	struct mf_enc closed = mf_enc_of(&m);
	struct mf_patch *p = mf_patch_new();
	mf_p_remove(p, 102);
	mf_expect_applied(&m, p, &j);
	mf_stats_are(&m, 8, 12, 5, 4, 1);
	assert_int_equal(th_mesh_face_find(&m, 102), TH_MESH_NONE);
	mf_undo_to(&m, &j, mark);
	mf_stats_are(&m, 8, 12, 6, 0, 2);
	mf_assert_unchanged(&m, closed);
	uint64_t ids[4];
	assert_int_equal(th_mesh_face_loop(&m, th_mesh_face_find(&m, 102), ids, 4), 4);
	assert_memory_equal(ids, mf_cube_faces[1], sizeof(ids));
	/* Undo the cube itself: an empty mesh. */
	mf_undo_to(&m, &j, 0);
	mf_stats_are(&m, 0, 0, 0, 0, 0);
	free(closed.d);
	mf_teardown(&m, &j, p);
}

/* Five vertices around 1: triangles (1 2 3), (1 3 4), (1 4 5), a boundary fan. */
static void build_fan(struct th_mesh *m, struct mf_patch *p, bool middle)
{
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	mf_p_vert(p, 1, 0, 0, 0);
	mf_p_vert(p, 2, 1, 0, 0);
	mf_p_vert(p, 3, 1, 1, 0);
	mf_p_vert(p, 4, 0, 1, 0);
	mf_p_vert(p, 5, -1, 1, 0);
	mf_p_face(p, 11, 0, 3, (uint64_t[]){ 1, 2, 3 });
	if (middle)
		mf_p_face(p, 12, 0, 3, (uint64_t[]){ 1, 3, 4 });
	mf_p_face(p, 13, 0, 3, (uint64_t[]){ 1, 4, 5 });
}

static void bowtie_is_refused_and_changes_nothing(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	struct mf_patch *p = mf_patch_new();
	/* In one patch. */
	build_fan(&m, p, false);
	mf_expect_refused(&m, p, &j, "single fan");
	mf_stats_are(&m, 0, 0, 0, 0, 0);
	th_mesh_fini(&m);
	/* In two: the first triangle stays, the second is refused. */
	build_fan(&m, p, false);
	p->n -= 4; /* without (1 4 5) */
	mf_expect_applied(&m, p, &j);
	mf_p_face(p, 13, 0, 3, (uint64_t[]){ 1, 4, 5 });
	mf_expect_refused(&m, p, &j, "single fan");
	mf_stats_are(&m, 5, 3, 1, 3, 3);
	mf_teardown(&m, &j, p);
}

static void a_bowtie_completed_in_the_same_patch_is_accepted(void **state)
{
	struct th_mesh m;
	struct mf_patch *p = mf_patch_new();
	build_fan(&m, p, false);
	mf_p_face(p, 12, 0, 3, (uint64_t[]){ 1, 3, 4 }); /* fills the gap after the bowtie */
	mf_expect_applied(&m, p, NULL);
	mf_stats_are(&m, 5, 7, 3, 5, 1);
	th_mesh_fini(&m);
	free(p);
}

static void removing_the_middle_of_a_boundary_fan_is_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	struct mf_patch *p = mf_patch_new();
	build_fan(&m, p, true);
	mf_expect_applied(&m, p, &j);
	mf_p_remove(p, 12);
	mf_expect_refused(&m, p, &j, "single fan");
	/* Removing an end of the fan is fine, and so is the middle after it. */
	mf_p_remove(p, 13);
	mf_p_remove(p, 12);
	mf_expect_applied(&m, p, &j);
	mf_stats_are(&m, 5, 3, 1, 3, 3);
	mf_teardown(&m, &j, p);
}

static void a_face_repeating_a_directed_edge_is_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	struct mf_patch *p = mf_patch_new();
	build_fan(&m, p, false);
	p->n -= 4;
	mf_expect_applied(&m, p, &j);
	/* (1 2 4) runs 1 -> 2 like (1 2 3): same orientation as its neighbour. */
	mf_p_face(p, 14, 0, 3, (uint64_t[]){ 1, 2, 4 });
	mf_expect_refused(&m, p, &j, "directed edge");
	/* The same triangle again under a new id. */
	mf_p_face(p, 14, 0, 3, (uint64_t[]){ 2, 3, 1 });
	mf_expect_refused(&m, p, &j, "directed edge");
	/* The opposite orientation along 1-2 is the neighbour it may have. */
	mf_p_face(p, 14, 0, 3, (uint64_t[]){ 2, 1, 4 });
	mf_expect_applied(&m, p, &j);
	mf_teardown(&m, &j, p);
}

static void a_face_repeating_a_vertex_is_refused(void **state)
{
	struct th_mesh m;
	struct mf_patch *p = mf_patch_new();
	build_fan(&m, p, false);
	p->n -= 8;
	mf_expect_applied(&m, p, NULL);
	mf_p_face(p, 14, 0, 3, (uint64_t[]){ 1, 2, 1 });
	mf_expect_refused(&m, p, NULL, "repeats a vertex");
	mf_p_face(p, 14, 0, 4, (uint64_t[]){ 1, 2, 3, 2 });
	mf_expect_refused(&m, p, NULL, "repeats a vertex");
	th_mesh_fini(&m);
	free(p);
}

static void removing_a_used_vertex_is_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *p = mf_cube_setup(&m, &j, 1);
	mf_p_remove(p, 1);
	mf_expect_refused(&m, p, &j, "used by a face");
	/* A free vertex can go; removing it twice cannot. */
	mf_p_remove(p, 5);
	mf_expect_applied(&m, p, &j);
	assert_int_equal(th_mesh_vert_find(&m, 5), TH_MESH_NONE);
	mf_p_remove(p, 5);
	mf_expect_refused(&m, p, &j, "does not exist");
	/* Face first, then its vertex, in one patch. */
	mf_p_remove(p, 101);
	mf_p_remove(p, 1);
	mf_expect_applied(&m, p, &j);
	mf_stats_are(&m, 6, 0, 0, 0, 6);
	mf_undo_to(&m, &j, 0);
	mf_teardown(&m, &j, p);
}

static void local_references_name_the_patch_vertices(void **state)
{
	struct th_mesh m;
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
	unsigned a = mf_p_vert(p, 0x100, 0, 0, 0);
	unsigned b = mf_p_vert(p, 0x200, 1, 0, 0);
	mf_p_vert(p, 0x300, 5, 5, 5);
	unsigned c = mf_p_vert(p, 0x400, 0, 1, 0);
	mf_p_face_begin(p, 0x500, 7);
	mf_p_local(p, a);
	mf_p_local(p, b);
	mf_p_local(p, c);
	mf_expect_applied(&m, p, NULL);
	uint64_t ids[3];
	assert_int_equal(th_mesh_face_loop(&m, th_mesh_face_find(&m, 0x500), ids, 3), 3);
	assert_int_equal(ids[0], 0x100);
	assert_int_equal(ids[1], 0x200);
	assert_int_equal(ids[2], 0x400);
	/* Mixed with references by id, in a later patch. */
	unsigned d = mf_p_vert(p, 0x600, 1, 1, 0);
	mf_p_face_begin(p, 0x700, 0);
	mf_p_corner(p, 0x200);
	mf_p_local(p, d);
	mf_p_corner(p, 0x400);
	mf_expect_applied(&m, p, NULL);
	mf_stats_are(&m, 5, 5, 2, 4, 2);
	th_mesh_fini(&m);
	free(p);
}

static void bad_references_are_refused(void **state)
{
	struct th_mesh m;
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
	unsigned a = mf_p_vert(p, 0x100, 0, 0, 0);
	mf_p_vert(p, 0x200, 1, 0, 0);
	mf_p_vert(p, 0x300, 0, 1, 0);
	mf_expect_applied(&m, p, NULL);
	/* A local reference to an op that is not a VERTEX_ADD. */
	a = mf_p_vert(p, 0x400, 0, 0, 1);
	unsigned mv = mf_p_op(p, TH_PL_MESH_OP_VERTEX_MOVE, 0x100, 0, 1, 1, 1, 0);
	mf_p_face_begin(p, 0x500, 0);
	mf_p_local(p, a);
	mf_p_local(p, mv);
	mf_p_corner(p, 0x300);
	mf_expect_refused(&m, p, NULL, "local reference");
	/* Local reference 0, and one to a later op. */
	mf_p_face_begin(p, 0x500, 0);
	mf_p_local(p, 0);
	mf_p_corner(p, 0x200);
	mf_p_corner(p, 0x300);
	mf_expect_refused(&m, p, NULL, "local reference");
	mf_p_face_begin(p, 0x500, 0);
	mf_p_corner(p, 0x100);
	mf_p_local(p, 5);
	mf_p_corner(p, 0x300);
	mf_p_vert(p, 0x900, 0, 0, 0);
	mf_expect_refused(&m, p, NULL, "local reference");
	/* A corner naming a missing vertex, or a face. */
	mf_p_face(p, 0x500, 0, 3, (uint64_t[]){ 0x100, 0x200, 0x999 });
	mf_expect_refused(&m, p, NULL, "does not exist");
	mf_p_face(p, 0x500, 0, 3, (uint64_t[]){ 0x100, 0x200, 0x300 });
	mf_expect_applied(&m, p, NULL);
	mf_p_face(p, 0x501, 0, 3, (uint64_t[]){ 0x200, 0x100, 0x500 });
	mf_expect_refused(&m, p, NULL, "does not exist");
	/* A corner with an unknown reference kind. */
	mf_p_face_begin(p, 0x501, 0);
	mf_p_corner(p, 0x200);
	mf_p_corner(p, 0x100);
	mf_p_op(p, TH_PL_MESH_OP_LOOP, 0x300, 2, 0, 0, 0, 0);
	mf_expect_refused(&m, p, NULL, "MESH_REF_ID");
	/* Moves and materials of missing elements, of the wrong kind. */
	mf_p_move(p, 0x999, 0, 0, 0);
	mf_expect_refused(&m, p, NULL, "does not exist");
	mf_p_move(p, 0x500, 0, 0, 0);
	mf_expect_refused(&m, p, NULL, "does not exist");
	mf_p_material(p, 0x100, 1);
	mf_expect_refused(&m, p, NULL, "does not exist");
	th_mesh_fini(&m);
	free(p);
}

static void id_collisions_are_refused(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *p = mf_cube_setup(&m, &j, 2);
	mf_p_vert(p, 3, 0, 0, 0); /* a vertex's id */
	mf_expect_refused(&m, p, &j, "already used");
	mf_p_vert(p, 101, 0, 0, 0); /* a face's id */
	mf_expect_refused(&m, p, &j, "already used");
	mf_p_vert(p, 0, 0, 0, 0);
	mf_expect_refused(&m, p, &j, "non-zero");
	mf_p_vert(p, 50, 0, 0, 0);
	mf_p_vert(p, 50, 0, 0, 0); /* twice in one patch */
	mf_expect_refused(&m, p, &j, "already used");
	mf_p_face(p, 4, 0, 4, mf_cube_faces[2]); /* a face with a vertex's id */
	mf_expect_refused(&m, p, &j, "already used");
	mf_p_face(p, 102, 0, 4, mf_cube_faces[2]); /* a face's */
	mf_expect_refused(&m, p, &j, "already used");
	mf_p_face(p, 0, 0, 4, mf_cube_faces[2]);
	mf_expect_refused(&m, p, &j, "non-zero");
	/* Ids of removed elements may be used again. */
	mf_p_remove(p, 102);
	mf_p_vert(p, 102, 0, 0, 0);
	mf_expect_applied(&m, p, &j);
	assert_true(th_mesh_vert_find(&m, 102) >= 0);
	assert_int_equal(th_mesh_face_find(&m, 102), TH_MESH_NONE);
	mf_undo_to(&m, &j, 0);
	mf_teardown(&m, &j, p);
}

static void a_failing_patch_reverts_every_earlier_op(void **state)
{
	for (int with_journal = 0; with_journal < 2; with_journal++) {
		struct th_mesh m;
		struct th_journal j;
		th_journal_init(&j, 0);
		struct th_journal *jp = with_journal ? &j : NULL;
		mf_build_cube(&m, jp, 6);
		struct mf_patch *p = mf_patch_new();
		/* Every kind of op, then a refused one. */
		mf_p_move(p, 1, 9, 9, 9);
		mf_p_material(p, 101, 200);
		mf_p_remove(p, 102);
		unsigned c = mf_p_vert(p, 200, 0.5f, 0.5f, 1.5f);
		mf_p_roof(p, 1, 300, c);
		mf_p_remove(p, 103);
		mf_p_vert(p, 201, 0, 0, 0);
		mf_p_remove(p, 999); /* missing */
		mf_expect_refused(&m, p, jp, "does not exist");
		mf_stats_are(&m, 8, 12, 6, 0, 2);
		/* The same without the failing op is accepted: a roof of 4 triangles. */
		mf_p_move(p, 1, 9, 9, 9);
		mf_p_material(p, 101, 200);
		mf_p_remove(p, 102);
		c = mf_p_vert(p, 200, 0.5f, 0.5f, 1.5f);
		mf_p_roof(p, 1, 300, c);
		mf_expect_applied(&m, p, jp);
		mf_stats_are(&m, 9, 16, 9, 0, 2);
		assert_true(m.verts[th_mesh_vert_find(&m, 1)].pos[0] == 9.0f);
		assert_int_equal(m.faces[th_mesh_face_find(&m, 101)].material, 200);
		if (jp)
			mf_undo_to(&m, jp, 0);
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
	mf_build_cube(&m, &j, 6);
	/* Room for exactly two more small records. */
	j.max = th_journal_mark(&j) + 2 * (28 + TH_JOURNAL_REC_OVERHEAD);
	struct mf_enc before = mf_enc_of(&m);
	size_t mark = th_journal_mark(&j);
	struct mf_patch *p = mf_patch_new();
	mf_p_move(p, 1, 1, 2, 3);
	mf_p_move(p, 2, 1, 2, 3);
	mf_p_move(p, 3, 1, 2, 3);
	assert_int_equal(mf_apply(&m, p, &j, NULL), -ENOSPC);
	assert_int_equal(th_journal_mark(&j), mark);
	mf_assert_unchanged(&m, before);
	mf_p_move(p, 1, 1, 2, 3);
	mf_p_move(p, 2, 1, 2, 3);
	mf_expect_applied(&m, p, &j);
	mf_undo_to(&m, &j, mark);
	mf_assert_unchanged(&m, before);
	free(before.d);
	mf_teardown(&m, &j, p);
}

static void move_and_material_undo_exactly(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	mf_build_cube(&m, &j, 6);
	struct mf_enc before = mf_enc_of(&m);
	size_t mark = th_journal_mark(&j);
	struct mf_patch *p = mf_patch_new();
	mf_p_move(p, 7, -0.0f, 1e-40f, 3.5f); /* a negative zero and a subnormal come back bit for bit */
	mf_p_move(p, 7, 2, 2, 2);
	mf_p_material(p, 104, 255);
	mf_p_material(p, 104, 0);
	mf_expect_applied(&m, p, &j);
	const struct th_mesh_vert *v = &m.verts[th_mesh_vert_find(&m, 7)];
	assert_true(v->pos[0] == 2 && v->pos[1] == 2 && v->pos[2] == 2);
	assert_int_equal(m.faces[th_mesh_face_find(&m, 104)].material, 0);
	mf_undo_to(&m, &j, mark);
	mf_assert_unchanged(&m, before);
	free(before.d);
	mf_teardown(&m, &j, p);
}

static void non_finite_positions_and_bad_materials_are_refused(void **state)
{
	struct th_mesh m;
	mf_build_cube(&m, NULL, 6);
	struct mf_patch *p = mf_patch_new();
	mf_p_vert(p, 50, NAN, 0, 0);
	mf_expect_refused(&m, p, NULL, "finite");
	mf_p_vert(p, 50, 0, INFINITY, 0);
	mf_expect_refused(&m, p, NULL, "finite");
	mf_p_move(p, 1, 0, 0, -INFINITY);
	mf_expect_refused(&m, p, NULL, "finite");
	mf_p_material(p, 101, TH_PL_MATERIALS_MAX);
	mf_expect_refused(&m, p, NULL, "material");
	mf_p_remove(p, 101);
	mf_p_face(p, 150, TH_PL_MATERIALS_MAX, 4, mf_cube_faces[0]);
	mf_expect_refused(&m, p, NULL, "material");
	th_mesh_fini(&m);
	free(p);
}

static void corner_counts_are_limited(void **state)
{
	struct th_mesh m;
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
	for (unsigned i = 0; i <= TH_MESH_FACE_VERTS_MAX; i++)
		mf_p_vert(p, 1 + i, (float)i, 0, 0);
	mf_expect_applied(&m, p, NULL);
	uint64_t ids[TH_MESH_FACE_VERTS_MAX + 1];
	for (unsigned i = 0; i <= TH_MESH_FACE_VERTS_MAX; i++)
		ids[i] = 1 + i;
	mf_p_face(p, 1000, 0, TH_MESH_FACE_VERTS_MAX + 1, ids);
	mf_expect_refused(&m, p, NULL, "corners");
	mf_p_face(p, 1000, 0, 2, ids);
	mf_expect_refused(&m, p, NULL, "corners");
	mf_p_face_begin(p, 1000, 0);
	mf_expect_refused(&m, p, NULL, "corners");
	/* Exactly the maximum is a face. */
	mf_p_face(p, 1000, 0, TH_MESH_FACE_VERTS_MAX, ids);
	mf_expect_applied(&m, p, NULL);
	uint64_t out[TH_MESH_FACE_VERTS_MAX];
	int32_t f = th_mesh_face_find(&m, 1000);
	assert_int_equal(th_mesh_face_loop(&m, f, out, 3), -ENOBUFS);
	assert_int_equal(th_mesh_face_loop(&m, f, out, TH_MESH_FACE_VERTS_MAX), TH_MESH_FACE_VERTS_MAX);
	assert_memory_equal(out, ids, sizeof(out));
	assert_int_equal(th_mesh_face_loop(&m, -1, out, 3), -EINVAL);
	assert_int_equal(th_mesh_face_loop(&m, (int32_t)m.nfaces, out, 3), -EINVAL);
	mf_stats_are(&m, TH_MESH_FACE_VERTS_MAX + 1, TH_MESH_FACE_VERTS_MAX, 1, TH_MESH_FACE_VERTS_MAX, 2);
	th_mesh_fini(&m);
	free(p);
}

static void malformed_op_lists_are_refused(void **state)
{
	struct th_mesh m;
	mf_build_cube(&m, NULL, 1);
	struct mf_patch *p = mf_patch_new();
	mf_p_corner(p, 1); /* a LOOP with no FACE_ADD */
	mf_expect_refused(&m, p, NULL, "LOOP");
	mf_p_remove(p, 101);
	mf_p_corner(p, 1);
	mf_expect_refused(&m, p, NULL, "LOOP");
	mf_p_op(p, 0, 0, 0, 0, 0, 0, 0);
	mf_expect_refused(&m, p, NULL, "op");
	mf_p_op(p, TH_PL_MESH_OP_MAX + 1, 1, 0, 0, 0, 0, 0);
	mf_expect_refused(&m, p, NULL, "op");
	/* A creating op without new ids. */
	mf_p_vert(p, 77, 0, 0, 0);
	struct mf_enc before = mf_enc_of(&m);
	const char *why = NULL;
	assert_int_equal(th_mesh_apply(&m, p->ops, p->n, NULL, NULL, &why), -EINVAL);
	assert_non_null(strstr(why, "non-zero"));
	mf_assert_unchanged(&m, before);
	p->n = 0;
	/* An empty list changes nothing and is fine. */
	assert_int_equal(th_mesh_apply(&m, p->ops, 0, NULL, NULL, &why), 0);
	mf_assert_unchanged(&m, before);
	free(before.d);
	th_mesh_fini(&m);
	free(p);
}

static void undo_refuses_records_that_do_not_fit(void **state)
{
	struct th_mesh m, other;
	struct th_journal j;
	th_journal_init(&j, 0);
	mf_build_cube(&m, &j, 6);
	assert_int_equal(th_mesh_init(&other, MF_MESH_ID + 1), 0);
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	assert_int_equal(th_journal_pop(&j, 0, &kind, &d, &len), 1); /* the last face's FACE_ADD */
	assert_int_equal(th_mesh_record_mesh(d, len), MF_MESH_ID);
	assert_int_equal(th_mesh_undo_record(&other, kind, d, len), -EINVAL); /* another mesh */
	assert_int_equal(th_mesh_undo_record(&m, kind, d, len - 1), -EINVAL);  /* cut short */
	assert_int_equal(th_mesh_undo_record(&m, 0, d, len), -EINVAL);         /* unknown kind */
	assert_int_equal(th_mesh_undo_record(&m, TH_MESH_REC_MAX, d, len), -EINVAL);
	assert_int_equal(th_mesh_undo_record(&m, kind, d, len), 0);
	assert_int_equal(th_mesh_undo_record(&m, kind, d, len), -EINVAL); /* twice: the face is gone */
	/* Out of order: a VERTEX_ADD's record while faces still use the vertex. */
	uint8_t rec[16];
	th_put_le64(rec, MF_MESH_ID);
	th_put_le64(rec + 8, 1);
	assert_int_equal(th_mesh_undo_record(&m, 1, rec, sizeof(rec)), -EINVAL);
	assert_int_equal(th_mesh_record_mesh(rec, 7), 0);
	mf_mesh_ok(&m);
	mf_stats_are(&m, 8, 12, 5, 4, 1);
	th_mesh_fini(&m);
	th_mesh_fini(&other);
	th_journal_fini(&j);
}

static void init_refuses_id_zero(void **state)
{
	struct th_mesh m;
	assert_int_equal(th_mesh_init(&m, 0), -EINVAL);
	assert_int_equal(th_mesh_init(&m, 1), 0);
	mf_mesh_ok(&m);
	mf_stats_are(&m, 0, 0, 0, 0, 0);
	assert_int_equal(th_mesh_vert_find(&m, 1), TH_MESH_NONE);
	assert_int_equal(th_mesh_he_find(&m, 0, 1), TH_MESH_NONE);
	th_mesh_fini(&m);
	th_mesh_fini(&m); /* twice is harmless */
}

/* ---- encoding --------------------------------------------------------------- */

static void encode_is_canonical_whatever_the_order(void **state)
{
	struct th_mesh a, b;
	mf_build_cube(&a, NULL, 6);
	/* b: vertices in reverse, faces in another order, through a detour. */
	assert_int_equal(th_mesh_init(&b, MF_MESH_ID), 0);
	struct mf_patch *p = mf_patch_new();
	for (unsigned i = 8; i-- > 0;)
		mf_p_vert(p, i + 1, 7, 7, 7);
	mf_p_vert(p, 99, 0, 0, 0);
	mf_expect_applied(&b, p, NULL);
	for (unsigned i = 0; i < 8; i++)
		mf_p_move(p, i + 1, mf_cube_pos[i][0], mf_cube_pos[i][1], mf_cube_pos[i][2]);
	for (unsigned f = 6; f-- > 0;)
		mf_p_face(p, 101 + f, 0, 4, mf_cube_faces[f]);
	mf_p_remove(p, 99);
	mf_expect_applied(&b, p, NULL);
	for (unsigned f = 0; f < 6; f++)
		mf_p_material(p, 101 + f, f);
	mf_expect_applied(&b, p, NULL);
	struct mf_enc ea = mf_enc_of(&a), eb = mf_enc_of(&b);
	assert_true(mf_enc_same(ea, eb));
	/* The layout of th_mesh.h. */
	assert_int_equal(ea.len, 8 + 4 + 8 * 20 + 4 + 4 + 6 * (26 + 4 * 8));
	assert_int_equal(th_get_le64(ea.d), MF_MESH_ID);
	assert_int_equal(th_get_le32(ea.d + 8), 8);
	assert_int_equal(th_get_le64(ea.d + 12), 1);
	assert_int_equal(th_get_le32(ea.d + 12 + 8), 0);          /* x of vertex 1 */
	assert_int_equal(th_get_le32(ea.d + 12 + 20 + 8), 0x3f800000); /* x of vertex 2: 1.0f */
	assert_int_equal(th_get_le32(ea.d + 12 + 160), 0); /* no author: th_mesh_apply's zero origin */
	const uint8_t *f = ea.d + 12 + 160 + 4;
	assert_int_equal(th_get_le32(f), 6);
	assert_int_equal(th_get_le64(f + 4), 101);
	assert_int_equal(th_get_le32(f + 12), 0); /* material */
	assert_int_equal(th_get_le32(f + 16), 0); /* author: unknown */
	assert_int_equal(th_get_le64(f + 20), 0); /* lamport */
	assert_int_equal(th_get_le16(f + 28), 4);
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(th_get_le64(f + 30 + 8 * k), mf_cube_faces[0][k]);
	/* A rotated loop is another face: the first corner is kept. */
	mf_p_remove(p, 101);
	mf_p_face(p, 101, 0, 4, (uint64_t[]){ 4, 3, 2, 1 });
	mf_expect_applied(&b, p, NULL);
	struct mf_enc eb2 = mf_enc_of(&b);
	assert_false(mf_enc_same(ea, eb2));
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
	mf_build_cube(&a, NULL, 5);
	struct mf_enc ea = mf_enc_of(&a);
	/* Trailing bytes are the caller's: used says where the mesh ends. */
	uint8_t *buf = malloc(ea.len + 3);
	memcpy(buf, ea.d, ea.len);
	memset(buf + ea.len, 0xab, 3);
	size_t used = 0;
	const char *why = NULL;
	assert_int_equal(th_mesh_decode(&b, buf, ea.len + 3, &used, &why), 0);
	assert_int_equal(used, ea.len);
	mf_mesh_ok(&b);
	assert_int_equal(b.id, MF_MESH_ID);
	struct mf_enc eb = mf_enc_of(&b);
	assert_true(mf_enc_same(ea, eb));
	mf_stats_are(&b, 8, 12, 5, 4, 1);
	/* The decoded mesh takes patches like any other. */
	struct mf_patch *p = mf_patch_new();
	mf_p_face(p, 106, 1, 4, mf_cube_faces[5]);
	mf_expect_applied(&b, p, NULL);
	mf_stats_are(&b, 8, 12, 6, 0, 2);
	/* An empty mesh. */
	struct th_mesh e, e2;
	assert_int_equal(th_mesh_init(&e, 5), 0);
	struct mf_enc ee = mf_enc_of(&e);
	assert_int_equal(ee.len, 20);
	assert_int_equal(th_mesh_decode(&e2, ee.d, ee.len, &used, &why), 0);
	assert_int_equal(used, 20);
	mf_mesh_ok(&e2);
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
	mf_build_cube(&a, NULL, 6);
	struct mf_enc e = mf_enc_of(&a);
	uint8_t *c = malloc(e.len);
	const size_t verts = 12, authors = 12 + 8 * 20, faces = authors + 4, face0 = faces + 4, face1 = face0 + 58;
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
	MUTATE(th_put_le32(c + authors, 1), NULL);                      /* the face count's bytes read as a key */
	MUTATE(th_put_le32(c + authors, 1u << 20), "AUTHORS_MAX");
	MUTATE(th_put_le32(c + authors, 1u << 14), "authors truncated");
	MUTATE(th_put_le32(c + faces, 7), "truncated");
	MUTATE(th_put_le32(c + faces, 0xffffffffu), NULL);
	MUTATE(th_put_le64(c + face0, 0), "face ids");
	MUTATE(th_put_le64(c + face1, 101), "face ids");                /* face 2 repeats 101 */
	MUTATE(th_put_le64(c + face0, 3), "already used");              /* a vertex's id */
	MUTATE(th_put_le32(c + face0 + 8, TH_PL_MATERIALS_MAX), "material");
	MUTATE(th_put_le32(c + face0 + 12, 1), "author");               /* the mesh lists no author */
	MUTATE(th_put_le16(c + face0 + 24, 2), NULL);
	MUTATE(th_put_le16(c + face0 + 24, TH_MESH_FACE_VERTS_MAX + 1), "corners");
	MUTATE(th_put_le64(c + face0 + 26, 42), "missing vertex");
	MUTATE(th_put_le64(c + face0 + 26 + 8, 1), "repeats a vertex");
	/* Face 102 (top, 5 6 7 8) turned to 5 8 7 6: same orientation as its neighbours. */
	MUTATE((th_put_le64(c + face1 + 26 + 8, 8), th_put_le64(c + face1 + 26 + 24, 6)), "directed edge");
#undef MUTATE
	/* A bowtie, written by hand: two triangles sharing vertex 1 only. */
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u64(&w, MF_MESH_ID);
	th_wbuf_u32(&w, 5);
	for (unsigned i = 1; i <= 5; i++) {
		th_wbuf_u64(&w, i);
		th_wbuf_f32s(&w, (float[]){ (float)i, 0, 0 }, 3);
	}
	th_wbuf_u32(&w, 0); /* authors */
	th_wbuf_u32(&w, 2);
	const uint64_t tri[2][3] = { { 1, 2, 3 }, { 1, 4, 5 } };
	for (unsigned f = 0; f < 2; f++) {
		th_wbuf_u64(&w, 10 + f);
		th_wbuf_u32(&w, 0); /* material */
		th_wbuf_u32(&w, 0); /* author */
		th_wbuf_u64(&w, 0); /* lamport */
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

static int key_cmp(const void *a, const void *b) { return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, 32); }

/* The distinct authors of m's live faces in ascending key order into
 * keys[cap]; returns their count. */
static unsigned face_authors(const struct th_mesh *m, const uint8_t **keys, unsigned cap)
{
	unsigned n = 0;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		const uint8_t *a = m->faces[f].id ? th_mesh_author(m, m->faces[f].author) : NULL;
		bool seen = !a;
		for (unsigned i = 0; i < n && !seen; i++)
			seen = !memcmp(keys[i], a, 32);
		if (!seen) {
			assert_true(n < cap);
			keys[n++] = a;
		}
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	return n;
}

static struct mf_enc expected_encoding(const struct th_mesh *m)
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
	const uint8_t *keys[16];
	unsigned na = face_authors(m, keys, 16);
	th_wbuf_u32(&w, na);
	for (unsigned i = 0; i < na; i++)
		th_wbuf_put(&w, keys[i], 32);
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
		const uint8_t *a = th_mesh_author(m, m->faces[e[i].slot].author);
		uint32_t rank = 0;
		for (unsigned r = 0; r < na && a && !rank; r++)
			rank = memcmp(keys[r], a, 32) ? 0 : r + 1;
		th_wbuf_u32(&w, rank);
		th_wbuf_u64(&w, m->faces[e[i].slot].lamport);
		th_wbuf_u16(&w, (uint16_t)k);
		for (int c = 0; c < k; c++)
			th_wbuf_u64(&w, loop[c]);
	}
	free(e);
	assert_int_equal(th_wbuf_error(&w), 0);
	return (struct mf_enc){ w.data, w.len };
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
static void grid_row(struct mf_patch *p, unsigned g, unsigned y, uint64_t (*id)(uint64_t), bool add)
{
	for (unsigned x = 0; x < g; x++) {
		unsigned v = y * (g + 1) + x + 1;
		if (add)
			mf_p_face(p, id(1000000 + y * g + x), (y + x) % 7, 4,
			       (uint64_t[]){ id(v), id(v + 1), id(v + g + 2), id(v + g + 1) });
		else
			mf_p_remove(p, id(1000000 + y * g + x));
	}
}

static void build_big_grid(struct th_mesh *m, unsigned g, uint64_t (*id)(uint64_t))
{
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	for (unsigned y = 0; y <= g; y++)
		for (unsigned x = 0; x <= g; x++)
			mf_p_vert(p, id(y * (g + 1) + x + 1), (float)x, (float)y, 0);
	mf_expect_applied(m, p, NULL);
	unsigned order[8 * 64];
	assert_true(g % 8 == 0 && g <= 64);
	struct th_mesh_origin o = { 0 };
	for (unsigned band = 0; band < g; band += 8) {
		/* Each band by another author (the last two by the first two
		 * again, the third by nobody), at its own lamport. */
		memset(o.author, 0, sizeof(o.author));
		if (band / 8 != 2)
			o.author[band / 8 % 3] = (uint8_t)(0x90 - band);
		o.lamport = 1000 + band;
		mf_origin = &o;
		for (unsigned i = 0; i < 8 * g; i++)
			order[i] = band * g + i;
		for (unsigned i = 8 * g; i-- > 1;) {
			unsigned k = mf_rn(i + 1), t = order[i];
			order[i] = order[k];
			order[k] = t;
		}
		for (unsigned i = 0; i < 8 * g; i++) {
			unsigned x = order[i] % g, y = order[i] / g, v = y * (g + 1) + x + 1;
			mf_p_face(p, id(1000000 + order[i]), order[i] % 7, 4,
			       (uint64_t[]){ id(v), id(v + 1), id(v + g + 2), id(v + g + 1) });
		}
		mf_expect_applied(m, p, NULL);
	}
	mf_origin = NULL;
	for (unsigned y = 0; y < g; y += 3) {
		grid_row(p, g, y, id, false);
		mf_expect_applied(m, p, NULL);
	}
	for (unsigned y = 0; y < g; y += 6) {
		grid_row(p, g, y, id, true);
		mf_expect_applied(m, p, NULL);
	}
	free(p);
}

static uint64_t high_bits_id(uint64_t i) { return i << 44 | 7; }

static void large_meshes_encode_canonically(void **state)
{
	uint64_t (*ids[2])(uint64_t) = { scramble, high_bits_id };
	mf_rng = 0x853c49e6748fea9bull;
	for (unsigned k = 0; k < 2; k++) {
		struct th_mesh m, d;
		build_big_grid(&m, 40, ids[k]);
		struct th_mesh_stats st;
		th_mesh_stats(&m, &st);
		assert_true(st.faces > 1000 && st.faces < 1600);
		struct mf_enc got = mf_enc_of(&m), want = expected_encoding(&m);
		assert_true(mf_enc_same(got, want));
		size_t used;
		const char *why = NULL;
		assert_int_equal(th_mesh_decode(&d, got.d, got.len, &used, &why), 0);
		assert_int_equal(used, got.len);
		mf_mesh_ok(&d);
		mf_assert_unchanged(&d, got);
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
	mf_build_cube(&a, NULL, 6);
	assert_int_equal(th_mesh_copy(&b, &a), 0);
	mf_mesh_ok(&b);
	struct mf_enc ea = mf_enc_of(&a);
	mf_assert_unchanged(&b, ea);
	struct mf_patch *p = mf_patch_new();
	mf_p_remove(p, 101);
	mf_p_move(p, 3, 5, 5, 5);
	mf_expect_applied(&b, p, NULL);
	mf_assert_unchanged(&a, ea);
	mf_stats_are(&b, 8, 12, 5, 4, 1);
	mf_stats_are(&a, 8, 12, 6, 0, 2);
	th_mesh_fini(&a);
	mf_mesh_ok(&b);
	/* A copy of an empty mesh. */
	struct th_mesh e, e2;
	assert_int_equal(th_mesh_init(&e, 3), 0);
	assert_int_equal(th_mesh_copy(&e2, &e), 0);
	mf_mesh_ok(&e2);
	mf_p_vert(p, 1, 0, 0, 0);
	mf_expect_applied(&e2, p, NULL);
	mf_stats_are(&e, 0, 0, 0, 0, 0);
	th_mesh_fini(&e);
	th_mesh_fini(&e2);
	free(ea.d);
	th_mesh_fini(&b);
	free(p);
}

/* th_mesh.version: new on every applied list and every undone record, kept
 * by a refusal, and never shared between meshes (copies included). */
static void version_changes_with_every_change_and_is_never_shared(void **state)
{
	struct th_mesh m, c, e;
	struct th_journal j;
	th_journal_init(&j, 0);
	mf_build_cube(&m, &j, 6);
	size_t mark = th_journal_mark(&j);
	uint64_t v0 = m.version;
	assert_true(v0 != 0);
	struct mf_patch *p = mf_patch_new();
	mf_p_move(p, 7, 2, 2, 2);
	mf_expect_applied(&m, p, &j);
	uint64_t v1 = m.version;
	assert_true(v1 != v0);
	mf_p_remove(p, 3); /* used by faces: refused */
	mf_expect_refused(&m, p, &j, "used by a face");
	assert_true(m.version == v1);
	mf_p_material(p, 104, 3);
	mf_expect_applied(&m, p, &j);
	uint64_t v2 = m.version;
	assert_true(v2 != v1 && v2 != v0);
	/* Each undone record is a change; the undo of a record that does not
	 * fit is refused and keeps the version. */
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	assert_int_equal(th_journal_pop(&j, mark, &kind, &d, &len), 1);
	assert_int_equal(th_mesh_undo_record(&m, kind, d, len), 0);
	uint64_t v3 = m.version;
	assert_true(v3 != v2 && v3 != v1 && v3 != v0);
	const uint8_t bad[8] = { 0 };
	assert_int_equal(th_mesh_undo_record(&m, 1, bad, sizeof(bad)), -EINVAL);
	assert_true(m.version == v3);
	/* A copy, and a new mesh, have versions of their own. */
	assert_int_equal(th_mesh_copy(&c, &m), 0);
	assert_int_equal(th_mesh_init(&e, MF_MESH_ID), 0);
	assert_true(c.version != m.version && c.version != v0 && c.version != v1 && c.version != v2);
	assert_true(e.version != m.version && e.version != c.version);
	uint64_t vm = m.version;
	mf_p_move(p, 7, 3, 3, 3);
	mf_expect_applied(&c, p, NULL);
	assert_true(m.version == vm && c.version != vm);
	th_mesh_fini(&c);
	th_mesh_fini(&e);
	mf_teardown(&m, &j, p);
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
		cmocka_unit_test(encode_is_canonical_whatever_the_order),
		cmocka_unit_test(decode_round_trips),
		cmocka_unit_test(decode_refuses_what_encode_never_writes),
		cmocka_unit_test(large_meshes_encode_canonically),
		cmocka_unit_test(edge_id_is_symmetric_siphash),
		cmocka_unit_test(copy_is_deep),
		cmocka_unit_test(version_changes_with_every_change_and_is_never_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}