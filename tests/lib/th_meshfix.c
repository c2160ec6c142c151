/* Fixtures of th_mesh's tests (test_mesh, test_mesh_props): op lists built
 * op by op, applying them, canonical encodings and the checks every case
 * makes (refused with the mesh and journal unchanged, applied and valid,
 * undone to a mark, counts), and the unit cube. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_buf.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"

/* xorshift64: the seeded randomness of the property tests. */
uint64_t mf_rng;
uint64_t mf_rnd(void)
{
	mf_rng ^= mf_rng << 13;
	mf_rng ^= mf_rng >> 7;
	mf_rng ^= mf_rng << 17;
	return mf_rng;
}
unsigned mf_rn(unsigned n) { return (unsigned)(mf_rnd() % n); }
float mf_frand(float lo, float hi) { return lo + (hi - lo) * (float)(mf_rnd() >> 40) / (float)(1u << 24); }

static void rand_unit(float *v, unsigned n)
{
	float len;
	do {
		float l2 = 0;
		for (unsigned k = 0; k < n; k++) {
			v[k] = mf_frand(-1, 1);
			l2 += v[k] * v[k];
		}
		len = sqrtf(l2);
	} while (len < MF_RAND_LEN_MIN || len > 1);
	for (unsigned k = 0; k < n; k++)
		v[k] /= len;
}
void mf_rand_dir(float v[3]) { rand_unit(v, 3); }
void mf_rand_quat(float q[4]) { rand_unit(q, 4); }

/* ---- building patches ------------------------------------------------------- */

struct mf_patch *mf_patch_new(void)
{
	struct mf_patch *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	return p;
}

/* Appends one op; returns its index + 1 (what a local reference names). */
unsigned mf_p_op(struct mf_patch *p, uint8_t op, uint64_t element, uint32_t arg, float x, float y, float z,
		     uint64_t new_id)
{
	assert_true(p->n < TH_PL_MESH_OPS_MAX);
	p->ops[p->n] = (struct th_pl_mesh_op){ .op = op, .element = element, .arg = arg, .position = { x, y, z } };
	p->ids[p->n] = new_id;
	return ++p->n;
}

unsigned mf_p_vert(struct mf_patch *p, uint64_t id, float x, float y, float z)
{
	return mf_p_op(p, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, x, y, z, id);
}
void mf_p_move(struct mf_patch *p, uint64_t id, float x, float y, float z)
{
	mf_p_op(p, TH_PL_MESH_OP_VERTEX_MOVE, id, 0, x, y, z, 0);
}
void mf_p_remove(struct mf_patch *p, uint64_t id) { mf_p_op(p, TH_PL_MESH_OP_REMOVE, id, 0, 0, 0, 0, 0); }
void mf_p_material(struct mf_patch *p, uint64_t face, uint32_t m)
{
	mf_p_op(p, TH_PL_MESH_OP_FACE_MATERIAL, face, m, 0, 0, 0, 0);
}
void mf_p_face_begin(struct mf_patch *p, uint64_t id, uint32_t material)
{
	mf_p_op(p, TH_PL_MESH_OP_FACE_ADD, 0, material, 0, 0, 0, id);
}
void mf_p_corner(struct mf_patch *p, uint64_t vid) { mf_p_op(p, TH_PL_MESH_OP_LOOP, vid, TH_PL_MESH_REF_ID, 0, 0, 0, 0); }
void mf_p_local(struct mf_patch *p, unsigned op_index1)
{
	mf_p_op(p, TH_PL_MESH_OP_LOOP, op_index1, TH_PL_MESH_REF_LOCAL, 0, 0, 0, 0);
}
void mf_p_face(struct mf_patch *p, uint64_t id, uint32_t material, unsigned n, const uint64_t *v)
{
	mf_p_face_begin(p, id, material);
	for (unsigned k = 0; k < n; k++)
		mf_p_corner(p, v[k]);
}

struct th_mesh_origin *mf_origin;

int mf_apply(struct th_mesh *m, struct mf_patch *p, struct th_journal *j, const char **why)
{
	int r = mf_origin ? th_mesh_apply_origin(m, p->ops, p->n, p->ids, mf_origin, j, why)
			  : th_mesh_apply(m, p->ops, p->n, p->ids, j, why);
	p->n = 0;
	return r;
}

/* ---- encodings and checks --------------------------------------------------- */

struct mf_enc mf_enc_of(const struct th_mesh *m)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_mesh_encode(m, &w), 0);
	return (struct mf_enc){ w.data, w.len };
}

bool mf_enc_same(struct mf_enc a, struct mf_enc b) { return a.len == b.len && (!a.len || !memcmp(a.d, b.d, a.len)); }

void mf_mesh_ok(const struct th_mesh *m)
{
	const char *why = NULL;
	int r = th_mesh_check(m, &why);
	if (r)
		fail_msg("th_mesh_check: %s", why);
}

void mf_assert_unchanged(const struct th_mesh *m, struct mf_enc before)
{
	struct mf_enc now = mf_enc_of(m);
	assert_true(mf_enc_same(now, before));
	free(now.d);
	mf_mesh_ok(m);
}

void mf_expect_refused(struct th_mesh *m, struct mf_patch *p, struct th_journal *j, const char *needle)
{
	struct mf_enc before = mf_enc_of(m);
	size_t mark = j ? th_journal_mark(j) : 0;
	const char *why = NULL;
	int r = mf_apply(m, p, j, &why);
	assert_int_equal(r, -EINVAL);
	assert_non_null(why);
	if (needle && !strstr(why, needle))
		fail_msg("refused with \"%s\", expected \"%s\"", why, needle);
	if (j)
		assert_int_equal(th_journal_mark(j), mark);
	mf_assert_unchanged(m, before);
	free(before.d);
}

void mf_expect_applied(struct th_mesh *m, struct mf_patch *p, struct th_journal *j)
{
	const char *why = NULL;
	int r = mf_apply(m, p, j, &why);
	if (r)
		fail_msg("apply: %d (%s)", r, r == -EINVAL ? why : "");
	mf_mesh_ok(m);
}

void mf_undo_to(struct th_mesh *m, struct th_journal *j, size_t mark)
{
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	while (th_journal_pop(j, mark, &kind, &d, &len) == 1) {
		assert_int_equal(th_mesh_record_mesh(d, len), m->id);
		assert_int_equal(th_mesh_undo_record(m, kind, d, len), 0);
	}
	assert_int_equal(th_journal_mark(j), mark);
	mf_mesh_ok(m);
}

void mf_stats_are(const struct th_mesh *m, uint32_t v, uint32_t e, uint32_t f, uint32_t boundary, int64_t euler)
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

/* ---- patches of the mesh operations ------------------------------------------ */

const uint8_t mf_author[32] = { 0x6d, 0x66 };

void mf_patch_applied(struct th_mesh *m, const struct th_patch *p, uint64_t seq, struct th_journal *j)
{
	const char *why = NULL;
	int r = th_patch_apply(m, p, mf_author, seq, j, &why);
	if (r)
		fail_msg("th_patch_apply: %d (%s)", r, r == -EINVAL ? why : "");
	mf_mesh_ok(m);
}

void mf_patch_round_trip(struct th_mesh *m, const struct th_patch *p, uint64_t seq)
{
	struct th_journal j;
	th_journal_init(&j, 0);
	struct mf_enc before = mf_enc_of(m);
	mf_patch_applied(m, p, seq, &j);
	mf_undo_to(m, &j, 0);
	mf_assert_unchanged(m, before);
	free(before.d);
	th_journal_fini(&j);
}

/* ---- known meshes ----------------------------------------------------------- */

/* Cube: vertex ids 1..8 (1-4 the bottom, 5-8 the top, as mf_cube_pos), faces
 * 101..106, counter-clockwise seen from outside. */
const uint64_t mf_cube_faces[6][4] = {
	{ 1, 4, 3, 2 }, /* bottom */
	{ 5, 6, 7, 8 }, /* top */
	{ 1, 2, 6, 5 }, /* front */
	{ 3, 4, 8, 7 }, /* back */
	{ 1, 5, 8, 4 }, /* left */
	{ 2, 3, 7, 6 }, /* right */
};
const float mf_cube_pos[8][3] = {
	{ 0, 0, 0 }, { 1, 0, 0 }, { 1, 1, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 1, 0, 1 }, { 1, 1, 1 }, { 0, 1, 1 },
};

void mf_add_cube_verts(struct mf_patch *p)
{
	for (unsigned i = 0; i < 8; i++)
		mf_p_vert(p, i + 1, mf_cube_pos[i][0], mf_cube_pos[i][1], mf_cube_pos[i][2]);
}

void mf_build_cube(struct th_mesh *m, struct th_journal *j, unsigned nfaces)
{
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	mf_add_cube_verts(p);
	for (unsigned f = 0; f < nfaces; f++)
		mf_p_face(p, 101 + f, f, 4, mf_cube_faces[f]);
	mf_expect_applied(m, p, j);
	free(p);
}

void mf_build_cube_reversed(struct th_mesh *m)
{
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	for (unsigned i = 8; i-- > 0;)
		mf_p_vert(p, i + 1, mf_cube_pos[i][0], mf_cube_pos[i][1], mf_cube_pos[i][2]);
	for (unsigned f = 6; f-- > 0;)
		mf_p_face(p, 101 + f, f, 4, mf_cube_faces[f]);
	mf_expect_applied(m, p, NULL);
	free(p);
}

struct mf_patch *mf_cube_setup(struct th_mesh *m, struct th_journal *j, unsigned nfaces)
{
	th_journal_init(j, 0);
	mf_build_cube(m, j, nfaces);
	return mf_patch_new();
}

void mf_teardown(struct th_mesh *m, struct th_journal *j, struct mf_patch *p)
{
	th_mesh_fini(m);
	th_journal_fini(j);
	free(p);
}

void mf_p_roof(struct mf_patch *p, unsigned side, uint64_t first_id, unsigned apex)
{
	for (unsigned k = 0; k < 4; k++) {
		mf_p_face_begin(p, first_id + k, 1);
		mf_p_corner(p, mf_cube_faces[side][k]);
		mf_p_corner(p, mf_cube_faces[side][(k + 1) % 4]);
		mf_p_local(p, apex);
	}
}

int mf_prim_mesh(struct th_mesh *m, uint64_t id, const struct th_prim *pp, const uint8_t author[32],
		 const char **why)
{
	const char *w = NULL;
	struct th_patch p;
	th_patch_init(&p);
	int r = th_op_primitive(pp, &p, &w);
	if (r >= 0 && (r = th_mesh_init(m, id)) >= 0 && (r = th_patch_apply(m, &p, author, 1, NULL, &w)) < 0)
		th_mesh_fini(m);
	th_patch_fini(&p);
	if (why)
		*why = w;
	return r < 0 ? r : 0;
}

struct top_key {
	float d;
	uint32_t slot;
	float c[3];
};

static int top_key_cmp(const void *a, const void *b)
{
	const struct top_key *x = a, *y = b;
	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

uint64_t mf_face_facing(const struct th_mesh *m, const float dir[3])
{
	uint64_t best = 0;
	float best_dot = -2;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		float nrm[3], c[3];
		if (!m->faces[f].id || th_mesh_face_normal(m, (int32_t)f, nrm, c) < 0)
			continue;
		float d = nrm[0] * dir[0] + nrm[1] * dir[1] + nrm[2] * dir[2];
		if (d > best_dot)
			best_dot = d, best = m->faces[f].id;
	}
	return best;
}

unsigned mf_top_faces(const struct th_mesh *m, unsigned n, uint64_t *ids, float (*centres)[3])
{
	struct top_key *key = malloc((m->nfaces ? m->nfaces : 1) * sizeof *key);
	if (!key)
		return 0;
	unsigned k = 0;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		float nrm[3], c[3];
		if (!m->faces[f].id || th_mesh_face_normal(m, (int32_t)f, nrm, c) < 0 || nrm[1] < MF_TOP_NORMAL_Y)
			continue;
		key[k++] = (struct top_key){ .d = c[0] * c[0] + c[2] * c[2], .slot = f, .c = { c[0], c[1], c[2] } };
	}
	qsort(key, k, sizeof key[0], top_key_cmp);
	unsigned got = k < n ? k : n;
	for (unsigned i = 0; i < got; i++) {
		ids[i] = m->faces[key[i].slot].id;
		if (centres)
			memcpy(centres[i], key[i].c, sizeof key[i].c);
	}
	free(key);
	return got;
}
