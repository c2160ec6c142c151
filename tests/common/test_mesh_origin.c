/* Face provenance in th_mesh (th_mesh.h "Provenance"): the origin a face
 * gets from th_mesh_apply_origin, kept through material changes, copies,
 * the canonical encoding and the undo of its REMOVE; the author list the
 * encoding writes (ascending keys, only authors of live faces) and the
 * decoder's refusal of any other list; through the fold, a face keeps its
 * creator across another's removal, its undo, a rollback and a restore. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "th_buf.h"
#include "th_fold.h"
#include "th_foldfix.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"

static struct th_mesh_origin origin_of(uint8_t key_byte, uint64_t lamport)
{
	struct th_mesh_origin o = { .lamport = lamport };
	memset(o.author, key_byte, sizeof(o.author));
	return o;
}

static void expect_origin(const struct th_mesh *m, uint64_t face, uint8_t key_byte, uint64_t lamport)
{
	struct th_mesh_origin o, want = origin_of(key_byte, lamport);
	int32_t f = th_mesh_face_find(m, face);
	assert_true(f != TH_MESH_NONE);
	assert_int_equal(th_mesh_face_origin(m, f, &o), 0);
	assert_int_equal(o.lamport, lamport);
	assert_memory_equal(o.author, want.author, sizeof(o.author));
	assert_int_equal(m->faces[f].lamport, lamport);
	const uint8_t *a = th_mesh_author(m, m->faces[f].author);
	if (key_byte)
		assert_memory_equal(a, want.author, sizeof(want.author));
	else
		assert_null(a);
}

/* The cube's faces 101..103 by author 0x11 at lamport 5, 104..106 by 0x22
 * at 9 (vertices first, with no origin). */
static void build_two_author_cube(struct th_mesh *m, struct th_journal *j)
{
	struct mf_patch *p = mf_patch_new();
	struct th_mesh_origin a = origin_of(0x11, 5), b = origin_of(0x22, 9);
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	mf_add_cube_verts(p);
	mf_expect_applied(m, p, j);
	for (unsigned f = 0; f < 6; f++)
		mf_p_face(p, 101 + f, 0, 4, mf_cube_faces[f]);
	/* Two lists: the first three faces, then the rest. */
	struct mf_patch *q = mf_patch_new();
	for (unsigned f = 3; f < 6; f++)
		mf_p_face(q, 101 + f, 0, 4, mf_cube_faces[f]);
	p->n = 3 * 5;
	mf_origin = &a;
	mf_expect_applied(m, p, j);
	mf_origin = &b;
	mf_expect_applied(m, q, j);
	mf_origin = NULL;
	free(p);
	free(q);
}

static void faces_take_the_origin_of_their_list(void **state)
{
	(void)state;
	struct th_mesh m;
	build_two_author_cube(&m, NULL);
	mf_mesh_ok(&m);
	for (unsigned f = 0; f < 6; f++)
		expect_origin(&m, 101 + f, f < 3 ? 0x11 : 0x22, f < 3 ? 5 : 9);
	assert_null(th_mesh_author(&m, 0));
	assert_null(th_mesh_author(&m, 3));
	assert_int_equal(th_mesh_face_origin(&m, (int32_t)m.nfaces, &(struct th_mesh_origin){ 0 }), -EINVAL);
	/* th_mesh_apply: the zero origin, "unknown". */
	struct mf_patch *p = mf_patch_new();
	mf_p_remove(p, 106);
	mf_expect_applied(&m, p, NULL);
	mf_p_face(p, 106, 0, 4, mf_cube_faces[5]);
	mf_expect_applied(&m, p, NULL);
	expect_origin(&m, 106, 0, 0);
	/* A material change is not a new face: the origin stays. */
	struct th_mesh_origin c = origin_of(0x33, 40);
	mf_origin = &c;
	mf_p_material(p, 101, 4);
	mf_expect_applied(&m, p, NULL);
	mf_origin = NULL;
	expect_origin(&m, 101, 0x11, 5);
	/* A copy keeps every origin. */
	struct th_mesh cp;
	assert_int_equal(th_mesh_copy(&cp, &m), 0);
	struct mf_enc em = mf_enc_of(&m);
	mf_assert_unchanged(&cp, em);
	expect_origin(&cp, 104, 0x22, 9);
	free(em.d);
	free(p);
	th_mesh_fini(&cp);
	th_mesh_fini(&m);
}

static void undo_of_a_remove_brings_the_origin_back(void **state)
{
	(void)state;
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	build_two_author_cube(&m, &j);
	struct mf_enc before = mf_enc_of(&m);
	size_t mark = th_journal_mark(&j);
	/* Removed by a third author, then put back by the undo. */
	struct th_mesh_origin c = origin_of(0x33, 40);
	struct mf_patch *p = mf_patch_new();
	mf_p_remove(p, 102);
	mf_p_remove(p, 105);
	mf_origin = &c;
	mf_expect_applied(&m, p, &j);
	/* A refused list (its FACE_ADD repeats a directed edge) changes nothing. */
	struct mf_enc mid = mf_enc_of(&m);
	mf_p_face(p, 102, 0, 4, mf_cube_faces[0]);
	mf_expect_refused(&m, p, &j, "directed edge");
	mf_assert_unchanged(&m, mid);
	mf_origin = NULL;
	mf_undo_to(&m, &j, mark);
	mf_assert_unchanged(&m, before);
	expect_origin(&m, 102, 0x11, 5);
	expect_origin(&m, 105, 0x22, 9);
	free(mid.d);
	free(before.d);
	free(p);
	th_journal_fini(&j);
	th_mesh_fini(&m);
}

static void the_encoding_lists_the_authors_of_live_faces_in_key_order(void **state)
{
	(void)state;
	struct th_mesh m;
	build_two_author_cube(&m, NULL);
	struct mf_enc e = mf_enc_of(&m);
	const size_t authors = 12 + 8 * 20, faces = authors + 4 + 2 * 32;
	assert_int_equal(e.len, faces + 4 + 6 * (26 + 4 * 8));
	assert_int_equal(th_get_le32(e.d + authors), 2);
	for (unsigned i = 0; i < 32; i++) {
		assert_int_equal(e.d[authors + 4 + i], 0x11);
		assert_int_equal(e.d[authors + 4 + 32 + i], 0x22);
	}
	const uint8_t *f = e.d + faces + 4;
	for (unsigned k = 0; k < 6; k++, f += 26 + 32) {
		assert_int_equal(th_get_le64(f), 101 + k);
		assert_int_equal(th_get_le32(f + 12), k < 3 ? 1 : 2);
		assert_int_equal(th_get_le64(f + 16), k < 3 ? 5 : 9);
	}
	size_t size = 0;
	assert_int_equal(th_mesh_encoded_size(&m, &size), 0);
	assert_int_equal(size, e.len);
	/* Decoded: the same origins, the same bytes. */
	struct th_mesh d;
	size_t used;
	const char *why = NULL;
	assert_int_equal(th_mesh_decode(&d, e.d, e.len, &used, &why), 0);
	assert_int_equal(used, e.len);
	mf_assert_unchanged(&d, e);
	expect_origin(&d, 101, 0x11, 5);
	expect_origin(&d, 106, 0x22, 9);
	/* With the 0x11 faces gone, the list names 0x22 alone (the mesh still
	 * remembers 0x11 for undo records; the encoding does not show it). */
	struct mf_patch *p = mf_patch_new();
	for (unsigned k = 0; k < 3; k++)
		mf_p_remove(p, 101 + k);
	mf_expect_applied(&m, p, NULL);
	struct mf_enc e2 = mf_enc_of(&m);
	assert_int_equal(th_get_le32(e2.d + authors), 1);
	assert_int_equal(e2.d[authors + 4], 0x22);
	assert_int_equal(th_mesh_encoded_size(&m, &size), 0);
	assert_int_equal(size, e2.len);
	free(p);
	free(e.d);
	free(e2.d);
	th_mesh_fini(&d);
	th_mesh_fini(&m);
}

static void expect_refused(const uint8_t *d, size_t len, const char *needle)
{
	struct th_mesh m;
	size_t used = 7;
	const char *why = NULL;
	assert_int_equal(th_mesh_decode(&m, d, len, &used, &why), -EBADMSG);
	assert_int_equal(used, 7);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("decode refused with \"%s\", expected \"%s\"", why, needle);
}

static void decode_refuses_any_other_author_list(void **state)
{
	(void)state;
	struct th_mesh m;
	build_two_author_cube(&m, NULL);
	struct mf_enc e = mf_enc_of(&m);
	const size_t authors = 12 + 8 * 20, key0 = authors + 4, key1 = key0 + 32, face0 = key1 + 32 + 4;
	uint8_t *c = malloc(e.len);
#define MUTATE(stmt, needle)                                                                                        \
	do {                                                                                                        \
		memcpy(c, e.d, e.len);                                                                              \
		stmt;                                                                                               \
		expect_refused(c, e.len, needle);                                                                   \
	} while (0)
	MUTATE(memset(c + key1, 0x11, 32), "author keys");  /* repeated */
	MUTATE(memset(c + key1, 0x05, 32), "author keys");  /* descending */
	MUTATE(memset(c + key0, 0, 32), "author keys");     /* the zero key */
	MUTATE(th_put_le32(c + face0 + 12, 3), "author");   /* past the list */
	/* 0x22 listed but no face of it: every face by 0x11. */
	MUTATE(for (unsigned k = 0; k < 6; k++) th_put_le32(c + face0 + k * 58 + 12, 1), "has no face");
#undef MUTATE
	free(c);
	free(e.d);
	th_mesh_fini(&m);
}

#define MANY_AUTHORS 40u

/* A strip of MANY_AUTHORS triangles, triangle i by author key (i * 37 % 40
 * + 1) repeated, added in the order `order` names; returns nothing, m
 * initialised. */
static void build_strip(struct th_mesh *m, const unsigned *order)
{
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	for (unsigned i = 0; i < MANY_AUTHORS + 2; i++)
		mf_p_vert(p, i + 1, (float)(i / 2), (float)(i % 2), 0);
	mf_expect_applied(m, p, NULL);
	for (unsigned k = 0; k < MANY_AUTHORS; k++) {
		unsigned i = order[k];
		struct th_mesh_origin o = origin_of((uint8_t)(i * 37 % MANY_AUTHORS + 1), 100 + i);
		uint64_t tri[3] = { i + 1, i + 2, i + 3 };
		if (i % 2) {
			tri[0] = i + 2;
			tri[1] = i + 1;
		}
		mf_p_face(p, 1000 + i, 0, 3, tri);
		mf_origin = &o;
		mf_expect_applied(m, p, NULL);
		mf_origin = NULL;
	}
	free(p);
}

static void many_authors_encode_the_same_whatever_the_order(void **state)
{
	(void)state;
	unsigned fwd[MANY_AUTHORS], rev[MANY_AUTHORS];
	for (unsigned i = 0; i < MANY_AUTHORS; i++) {
		fwd[i] = i;
		rev[i] = MANY_AUTHORS - 1 - i;
	}
	struct th_mesh a, b, d;
	build_strip(&a, fwd);
	build_strip(&b, rev);
	mf_mesh_ok(&a);
	struct mf_enc ea = mf_enc_of(&a), eb = mf_enc_of(&b);
	assert_true(mf_enc_same(ea, eb));
	size_t authors = 12 + (MANY_AUTHORS + 2) * 20;
	assert_int_equal(th_get_le32(ea.d + authors), MANY_AUTHORS);
	for (unsigned i = 0; i < MANY_AUTHORS; i++)
		assert_int_equal(ea.d[authors + 4 + 32 * i], i + 1);
	size_t size = 0, used;
	assert_int_equal(th_mesh_encoded_size(&a, &size), 0);
	assert_int_equal(size, ea.len);
	const char *why = NULL;
	assert_int_equal(th_mesh_decode(&d, ea.d, ea.len, &used, &why), 0);
	mf_assert_unchanged(&d, ea);
	for (unsigned i = 0; i < MANY_AUTHORS; i++)
		expect_origin(&d, 1000 + i, (uint8_t)(i * 37 % MANY_AUTHORS + 1), 100 + i);
	free(ea.d);
	free(eb.d);
	th_mesh_fini(&a);
	th_mesh_fini(&b);
	th_mesh_fini(&d);
}

/* Through the fold: B's face, removed by A and brought back by the
 * host's undo of that removal, is still B's at B's lamport, whatever order
 * the entries arrive in (a rollback replays them), and after a snapshot's
 * restore. */
static void the_fold_keeps_a_face_its_creators_through_undo_and_restore(void **state)
{
	(void)state;
	struct lt_author host, a, b;
	lt_author_init(&host, 0x71);
	lt_author_init(&a, 0x72);
	lt_author_init(&b, 0x73);
	size_t mc = ff_make(&a, TH_CMD_MESH_CREATE, 0, 10, ff_mesh_create(0));
	uint64_t mesh = ff_element_of(mc, 0);
	struct th_pl_mesh_patch *p = ff_patch();
	p->ops_count = (uint16_t)ff_ngon_ops(p->ops, 3, 5);
	size_t bp = ff_make(&b, TH_CMD_MESH_PATCH, mesh, 20, p);
	uint64_t g = ff_element_of(bp, 3 + 1);
	p = ff_patch();
	ff_op(&p->ops[0], TH_PL_MESH_OP_REMOVE, g, 0, 0, 0);
	p->ops_count = 1;
	size_t rm = ff_make(&a, TH_CMD_MESH_PATCH, mesh, 30, p);
	size_t un = ff_make(&host, TH_CMD_EDIT_UNDO, 0, 40, ff_target(ff_e(rm)->lamport, ff_e(rm)->author));
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, host.kp.pk, 32);
	struct th_fold *f, *r;
	assert_int_equal(th_fold_create(&c, &f), 0);
	/* B's patch arrives after A's removal of its face: the fold rolls back
	 * and replays the removal on top of it. */
	const size_t order[] = { mc, rm, bp, un };
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(th_fold_add(f, ff_e(order[i]), i), 0);
	const struct th_mesh *m = th_scene_mesh(th_fold_scene(f), mesh);
	assert_non_null(m);
	assert_int_equal(th_mesh_face_find(m, g), TH_MESH_NONE);
	/* The host undoes the removal: the face is back. */
	assert_int_equal(th_fold_add(f, ff_e(un), 3), 0);
	m = th_scene_mesh(th_fold_scene(f), mesh);
	struct th_mesh_origin o;
	int32_t gs = th_mesh_face_find(m, g);
	assert_true(gs != TH_MESH_NONE);
	assert_int_equal(th_mesh_face_origin(m, gs, &o), 0);
	assert_memory_equal(o.author, b.kp.pk, 32);
	assert_int_equal(o.lamport, ff_e(bp)->lamport);
	assert_int_equal(th_mesh_face_origin(m, th_mesh_face_find(m, ff_element_of(mc, 4 + 1)), &o), 0);
	assert_memory_equal(o.author, a.kp.pk, 32);
	assert_int_equal(o.lamport, ff_e(mc)->lamport);
	/* A snapshot restores to the same origins. */
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_fold_snapshot(f, &w), 0);
	const char *why = NULL;
	assert_int_equal(th_fold_restore(&c, w.data, w.len, &r, &why), 0);
	m = th_scene_mesh(th_fold_scene(r), mesh);
	assert_int_equal(th_mesh_face_origin(m, th_mesh_face_find(m, g), &o), 0);
	assert_memory_equal(o.author, b.kp.pk, 32);
	assert_int_equal(o.lamport, ff_e(bp)->lamport);
	th_wbuf_fini(&w);
	th_fold_destroy(&r);
	th_fold_destroy(&f);
	ff_free_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(faces_take_the_origin_of_their_list),
		cmocka_unit_test(undo_of_a_remove_brings_the_origin_back),
		cmocka_unit_test(the_encoding_lists_the_authors_of_live_faces_in_key_order),
		cmocka_unit_test(decode_refuses_any_other_author_list),
		cmocka_unit_test(many_authors_encode_the_same_whatever_the_order),
		cmocka_unit_test(the_fold_keeps_a_face_its_creators_through_undo_and_restore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
