/* th_mesh, properties: a seeded property test compares thousands of random
 * op lists against a brute-force model of the rules, then undoes the whole
 * history step by step; random pokes, splits and flips of closed surfaces
 * keep their Euler characteristic; and every allocation failing in turn
 * changes nothing and leaks nothing. test_mesh.c holds the known meshes,
 * the refusals and the encoding. */
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
#include "th_allocfail.h"
#include "th_meshfix.h"


/* ---- running out of memory ---------------------------------------------------- */

#ifdef TH_AF_CAN_FAIL
/* A patch that grows every array and table of a small mesh: new vertices,
 * lone triangles over them, a roof over the open side of a cube without its
 * last face, a move and a removal. */
static void growing_patch(struct mf_patch *p)
{
	p->n = 0;
	for (unsigned t = 0; t < 40; t++) {
		unsigned a = mf_p_vert(p, 1000 + 3 * t, (float)t, 0, 0);
		mf_p_vert(p, 1001 + 3 * t, (float)t, 1, 0);
		mf_p_vert(p, 1002 + 3 * t, (float)t, 0, 1);
		mf_p_face_begin(p, 5000 + t, t % 3);
		mf_p_local(p, a);
		mf_p_local(p, a + 1);
		mf_p_local(p, a + 2);
	}
	unsigned c = mf_p_vert(p, 900, 0.5f, 0.5f, 1.5f);
	mf_p_roof(p, 5, 600, c);
	mf_p_move(p, 3, 7, 7, 7);
	mf_p_remove(p, 5001);
}

/* What fail_in_turn builds: want decoded, or a copy of src. */
struct alloc_case {
	struct mf_enc want;
	const struct th_mesh *src;
	size_t used;
};
static int decode_want(struct th_mesh *d, struct alloc_case *c)
{
	const char *why = NULL;
	return th_mesh_decode(d, c->want.d, c->want.len, &c->used, &why);
}
static int copy_src(struct th_mesh *d, struct alloc_case *c) { return th_mesh_copy(d, c->src); }

/* Makes the 1st, 2nd, ... allocation of make fail until it succeeds: each
 * failure is -ENOMEM with the output and used untouched and nothing leaked;
 * the success encodes as want. Returns the count of failures. */
static long fail_in_turn(int (*make)(struct th_mesh *d, struct alloc_case *c), struct alloc_case *c)
{
	for (long n = 0;; n++) {
		struct th_mesh d;
		memset(&d, 0x5a, sizeof(d));
		long live = th_af_live;
		c->used = 777;
		th_af_countdown = n;
		int rc = make(&d, c);
		th_af_countdown = -1;
		if (rc == 0) {
			mf_assert_unchanged(&d, c->want);
			th_mesh_fini(&d);
			return n;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(c->used, 777);
		assert_int_equal(d.id, 0x5a5a5a5a5a5a5a5aull);
		assert_int_equal(th_af_live, live);
	}
}
#endif

static void an_allocation_failure_changes_nothing(void **state)
{
#ifndef TH_AF_CAN_FAIL
	printf("SKIP: allocation failures are not injected under AddressSanitizer\n");
	skip();
#else
	/* Under valgrind (or another allocator) nothing can be made to fail. */
	if (!th_af_works()) {
		printf("SKIP: allocation failures cannot be injected under this allocator\n");
		skip();
	}
	struct mf_patch *p = mf_patch_new();
	struct th_mesh m;
	struct th_journal j;
	th_journal_init(&j, 0);
	mf_build_cube(&m, &j, 5);
	growing_patch(p);
	const char *why = NULL;
	assert_int_equal(th_mesh_apply(&m, p->ops, p->n, p->ids, &j, &why), 0);
	struct mf_enc want = mf_enc_of(&m);
	th_mesh_fini(&m);
	th_journal_fini(&j);

	long failures = 0;
	for (long n = 0;; n++) {
		long live = th_af_live;
		th_journal_init(&j, 0);
		mf_build_cube(&m, &j, 5);
		struct mf_enc before = mf_enc_of(&m);
		size_t mark = th_journal_mark(&j);
		th_af_countdown = n;
		int rc = th_mesh_apply(&m, p->ops, p->n, p->ids, &j, &why);
		th_af_countdown = -1;
		if (rc == 0) {
			mf_assert_unchanged(&m, want);
			free(before.d);
			th_mesh_fini(&m);
			th_journal_fini(&j);
			break;
		}
		failures++;
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(th_journal_mark(&j), mark);
		mf_assert_unchanged(&m, before);
		/* It applies on, and undoes back. */
		assert_int_equal(th_mesh_apply(&m, p->ops, p->n, p->ids, &j, &why), 0);
		mf_assert_unchanged(&m, want);
		mf_undo_to(&m, &j, mark);
		mf_assert_unchanged(&m, before);
		free(before.d);
		th_mesh_fini(&m);
		th_journal_fini(&j);
		assert_int_equal(th_af_live, live); /* nothing leaked on the way */
	}
	print_message("apply: %ld allocation failures injected, each -ENOMEM with nothing changed\n", failures);
	assert_true(failures >= 8);

	/* Decode and copy: -ENOMEM, outputs untouched; encode: -ENOMEM, the
	 * buffer as it was. */
	struct th_mesh src;
	size_t used;
	assert_int_equal(th_mesh_decode(&src, want.d, want.len, &used, &why), 0);
	struct alloc_case ac = { .want = want, .src = &src };
	long dfail = fail_in_turn(decode_want, &ac);
	long cfail = fail_in_turn(copy_src, &ac);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u32(&w, 42);
	th_af_countdown = 0;
	int rc = th_mesh_encode(&src, &w); /* more than ENC_SMALL vertices: it sorts through a buffer */
	th_af_countdown = -1;
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

static struct mf_enc ref_encode(const struct ref *r, uint64_t mesh)
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
	th_wbuf_u32(&w, 0); /* authors: th_mesh_apply gives the zero origin */
	th_wbuf_u32(&w, r->nf);
	for (unsigned i = 0; i < r->nf; i++)
		ids[i] = r->f[i].id;
	qsort(ids, r->nf, sizeof(uint64_t), u64_cmp);
	for (unsigned i = 0; i < r->nf; i++) {
		const struct ref_face *f = &r->f[ref_face(r, ids[i])];
		th_wbuf_u64(&w, f->id);
		th_wbuf_u32(&w, f->material);
		th_wbuf_u32(&w, 0); /* author: unknown */
		th_wbuf_u64(&w, 0); /* lamport */
		th_wbuf_u16(&w, (uint16_t)f->n);
		for (unsigned k = 0; k < f->n; k++)
			th_wbuf_u64(&w, f->v[k]);
	}
	assert_int_equal(th_wbuf_error(&w), 0);
	return (struct mf_enc){ w.data, w.len };
}

/* ---- random op lists -------------------------------------------------------- */


static uint64_t next_id;

/* A new element's id: usually fresh, sometimes one in use, rarely 0. */
static uint64_t gen_id(const struct ref *r)
{
	unsigned k = mf_rn(100);
	if (k < 2 && r->nv)
		return r->vid[mf_rn(r->nv)];
	if (k < 3 && r->nf)
		return r->f[mf_rn(r->nf)].id;
	if (k < 4)
		return 0;
	next_id += 1 + mf_rn(3);
	return next_id;
}

static uint64_t any_vertex(const struct ref *r) { return r->nv ? r->vid[mf_rn(r->nv)] : 12345; }

static void gen_corner(struct mf_patch *p, const struct ref *r, const unsigned *locals, unsigned nlocals)
{
	unsigned k = mf_rn(100);
	if (k < 30 && nlocals)
		mf_p_local(p, locals[mf_rn(nlocals)]);
	else if (k < 31)
		mf_p_local(p, p->n); /* names the FACE_ADD or a LOOP: refused */
	else if (k < 34)
		mf_p_corner(p, next_id + 1000 + mf_rn(5)); /* missing */
	else
		mf_p_corner(p, any_vertex(r));
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
static void gen_careful(struct mf_patch *p, const struct ref *r, unsigned *locals, unsigned *nlocals)
{
	unsigned k = mf_rn(100);
	if (k < 20 || !r->nv) {
		next_id += 1 + mf_rn(3);
		locals[(*nlocals)++] = mf_p_vert(p, next_id, (float)mf_rn(64) / 4, (float)mf_rn(64) / 4, (float)mf_rn(8));
	} else if (k < 30) {
		mf_p_move(p, any_vertex(r), (float)mf_rn(64), (float)mf_rn(64), 0.5f);
	} else if (k < 45) {
		uint64_t v = any_vertex(r);
		if (r->nf && (mf_rn(3) || !ref_is_free(r, v)))
			mf_p_remove(p, r->f[mf_rn(r->nf)].id);
		else
			mf_p_remove(p, v);
	} else if (k < 70 && r->nf) {
		/* A triangle closing the corner between two boundary edges a -> b -> c. */
		for (unsigned tries = 0; tries < 8; tries++) {
			const struct ref_face *f = &r->f[mf_rn(r->nf)];
			unsigned c = mf_rn(f->n);
			uint64_t a = f->v[c], b = f->v[(c + 1) % f->n];
			if (ref_has_edge(r, b, a))
				continue;
			for (unsigned g = 0; g < r->nf; g++)
				for (unsigned i = 0; i < r->f[g].n; i++) {
					uint64_t x = r->f[g].v[i], y = r->f[g].v[(i + 1) % r->f[g].n];
					if (x == b && y != a && !ref_has_edge(r, y, x)) {
						next_id += 1 + mf_rn(3);
						mf_p_face(p, next_id, 0, 3, (uint64_t[]){ b, a, y });
						return;
					}
				}
		}
	} else if (k < 92) {
		/* A triangle on a boundary edge of a face, or a lone one. */
		uint64_t a = 0, b = 0;
		for (unsigned tries = 0; tries < 6 && r->nf && !a; tries++) {
			const struct ref_face *f = &r->f[mf_rn(r->nf)];
			unsigned c = mf_rn(f->n);
			if (!ref_has_edge(r, f->v[(c + 1) % f->n], f->v[c])) {
				a = f->v[c];
				b = f->v[(c + 1) % f->n];
			}
		}
		unsigned nv = a ? 1 : 3, first = 0;
		for (unsigned i = 0; i < nv; i++) {
			next_id += 1 + mf_rn(3);
			unsigned op = mf_p_vert(p, next_id, (float)mf_rn(64), (float)mf_rn(64), 1);
			locals[(*nlocals)++] = op;
			first = first ? first : op;
		}
		next_id += 1 + mf_rn(3);
		mf_p_face_begin(p, next_id, mf_rn(TH_PL_MATERIALS_MAX));
		if (a) {
			mf_p_corner(p, b);
			mf_p_corner(p, a);
			mf_p_local(p, first);
		} else {
			for (unsigned i = 0; i < 3; i++)
				mf_p_local(p, first + i);
		}
	} else if (r->nf) {
		mf_p_material(p, r->f[mf_rn(r->nf)].id, mf_rn(TH_PL_MATERIALS_MAX));
	}
}

/* Any op, valid or not. */
static void gen_wild(struct mf_patch *p, const struct ref *r, unsigned *locals, unsigned *nlocals)
{
	unsigned k = mf_rn(100);
	if (k < 22) {
		locals[(*nlocals)++] = mf_p_vert(p, gen_id(r), (float)mf_rn(64) / 4, (float)mf_rn(64) / 4, (float)mf_rn(8));
	} else if (k < 30) {
		float x = mf_rn(30) ? (float)mf_rn(64) : (mf_rn(2) ? NAN : INFINITY);
		mf_p_move(p, mf_rn(8) ? any_vertex(r) : next_id + 777, x, 1, 2);
	} else if (k < 45) {
		unsigned w = mf_rn(100);
		if (w < 60 && r->nf)
			mf_p_remove(p, r->f[mf_rn(r->nf)].id);
		else if (w < 92 && r->nv)
			mf_p_remove(p, r->vid[mf_rn(r->nv)]);
		else
			mf_p_remove(p, next_id + 555);
	} else if (k < 88) {
		uint32_t mat = mf_rn(50) ? mf_rn(TH_PL_MATERIALS_MAX) : TH_PL_MATERIALS_MAX + mf_rn(3);
		mf_p_face_begin(p, gen_id(r), mat);
		if (mf_rn(2) && r->nf) {
			/* Grow from an edge of a face, in the opposite direction. */
			const struct ref_face *f = &r->f[mf_rn(r->nf)];
			unsigned c = mf_rn(f->n);
			mf_p_corner(p, f->v[(c + 1) % f->n]);
			mf_p_corner(p, f->v[c]);
			for (unsigned extra = 1 + mf_rn(2); extra--;)
				gen_corner(p, r, locals, *nlocals);
		} else {
			unsigned n = mf_rn(40) ? 3 + mf_rn(3) : (mf_rn(2) ? 2 : TH_MESH_FACE_VERTS_MAX + 1);
			for (unsigned c = 0; c < n; c++)
				gen_corner(p, r, locals, *nlocals);
		}
	} else if (k < 95) {
		uint32_t mat = mf_rn(30) ? mf_rn(TH_PL_MATERIALS_MAX) : TH_PL_MATERIALS_MAX;
		mf_p_material(p, r->nf && mf_rn(8) ? r->f[mf_rn(r->nf)].id : next_id + 333, mat);
	} else if (k < 98) {
		mf_p_corner(p, any_vertex(r)); /* a stray LOOP */
	} else {
		mf_p_op(p, mf_rn(2) ? 0 : TH_PL_MESH_OP_MAX + 1, any_vertex(r), 0, 0, 0, 0, 0);
	}
}

static void gen_list(struct mf_patch *p, const struct ref *r)
{
	unsigned locals[TH_PL_MESH_OPS_MAX], nlocals = 0;
	bool full = r->nv > REF_V - 32 || r->nf > REF_F - 32;
	bool careful = mf_rn(10) < 6;
	unsigned target = careful ? 1 + mf_rn(8) : 1 + mf_rn(5);
	p->n = 0;
	while (p->n < target) {
		if (full && mf_rn(2)) {
			uint64_t v = any_vertex(r);
			mf_p_remove(p, r->nf && !ref_is_free(r, v) ? r->f[mf_rn(r->nf)].id : v);
		} else if (careful || mf_rn(4)) {
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
	struct mf_patch *p = mf_patch_new();
	struct ref *r = malloc(sizeof(*r)), *t = malloc(sizeof(*t));
	assert_non_null(r);
	assert_non_null(t);
	unsigned applied = 0, refused = 0;
	uint64_t interior = 0; /* edges with two faces, summed over the applied lists */
	mf_rng = 0x9e3779b97f4a7c15ull;
	for (unsigned mesh = 0; mesh < PROP_MESHES; mesh++) {
		struct th_mesh m;
		struct th_journal j;
		struct mf_enc before[PROP_LISTS];
		size_t marks[PROP_LISTS];
		assert_int_equal(th_mesh_init(&m, 1000 + mesh), 0);
		th_journal_init(&j, 0);
		memset(r, 0, sizeof(*r));
		next_id = 1;
		for (unsigned l = 0; l < PROP_LISTS; l++) {
			gen_list(p, r);
			before[l] = mf_enc_of(&m);
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
			mf_mesh_ok(&m);
			if (rc) {
				assert_int_equal(rc, -EINVAL);
				assert_non_null(why);
				assert_int_equal(th_journal_mark(&j), marks[l]);
				mf_assert_unchanged(&m, before[l]);
				refused++;
			} else {
				memcpy(r, t, sizeof(*r));
				struct th_mesh_stats st;
				th_mesh_stats(&m, &st);
				interior += st.edges - st.boundary_edges;
				struct mf_enc got = mf_enc_of(&m), exp = ref_encode(r, m.id);
				assert_true(mf_enc_same(got, exp));
				free(exp.d);
				free(got.d);
				applied++;
			}
			if (twin) {
				assert_int_equal(th_mesh_apply(&c, p->ops, p->n, p->ids, NULL, &why), rc);
				struct mf_enc ec = mf_enc_of(&c), em = mf_enc_of(&m);
				assert_true(mf_enc_same(ec, em));
				free(ec.d);
				free(em.d);
				mf_mesh_ok(&c);
				th_mesh_fini(&c);
			}
			if (l % 10 == 9) {
				struct mf_enc em = mf_enc_of(&m);
				struct th_mesh d;
				size_t used;
				assert_int_equal(th_mesh_decode(&d, em.d, em.len, &used, &why), 0);
				assert_int_equal(used, em.len);
				mf_mesh_ok(&d);
				mf_assert_unchanged(&d, em);
				th_mesh_fini(&d);
				free(em.d);
			}
		}
		/* The whole history back, one list at a time, newest first. */
		for (unsigned l = PROP_LISTS; l-- > 0;) {
			mf_undo_to(&m, &j, marks[l]);
			mf_assert_unchanged(&m, before[l]);
			free(before[l].d);
		}
		mf_stats_are(&m, 0, 0, 0, 0, 0);
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
	struct mf_patch *p = mf_patch_new();
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < n; k++)
			mf_p_vert(p, 1 + i * n + k, (float)i, (float)k, 0);
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < n; k++) {
			unsigned i1 = (i + 1) % n, k1 = (k + 1) % n;
			mf_p_face(p, 1000 + i * n + k, 0, 4,
			       (uint64_t[]){ 1 + i * n + k, 1 + i1 * n + k, 1 + i1 * n + k1, 1 + i * n + k1 });
		}
	mf_expect_applied(m, p, NULL);
	free(p);
}

/* A random live face's id and loop. */
static unsigned random_face(const struct th_mesh *m, uint64_t *id, uint64_t *loop)
{
	for (;;) {
		uint32_t f = mf_rn(m->nfaces);
		if (m->faces[f].id) {
			*id = m->faces[f].id;
			return (unsigned)th_mesh_face_loop(m, (int32_t)f, loop, TH_MESH_FACE_VERTS_MAX);
		}
	}
}

/* Closedness-keeping changes (poke a face, split a quad or more along a
 * diagonal, flip an edge between two triangles), each applied or refused as
 * a whole; sometimes followed by a bogus op so the whole list is refused. */
static void reshape(struct th_mesh *m, struct th_journal *j, struct mf_patch *p, int64_t euler, unsigned steps)
{
	uint64_t loop[TH_MESH_FACE_VERTS_MAX], id;
	for (unsigned s = 0; s < steps; s++) {
		unsigned n = random_face(m, &id, loop), kind = mf_rn(3);
		if (kind == 0 && n <= 8) { /* poke */
			mf_p_remove(p, id);
			unsigned c = mf_p_vert(p, ++next_id, (float)mf_rn(9), (float)mf_rn(9), (float)mf_rn(9));
			for (unsigned k = 0; k < n; k++) {
				mf_p_face_begin(p, ++next_id, 0);
				mf_p_corner(p, loop[k]);
				mf_p_corner(p, loop[(k + 1) % n]);
				mf_p_local(p, c);
			}
		} else if (kind == 1 && n >= 4) { /* split at corner 0 and 2 */
			mf_p_remove(p, id);
			mf_p_face(p, ++next_id, 0, 3, loop);
			uint64_t rest[TH_MESH_FACE_VERTS_MAX];
			rest[0] = loop[0];
			memcpy(rest + 1, loop + 2, (n - 2) * sizeof(uint64_t));
			mf_p_face(p, ++next_id, 0, n - 1, rest);
		} else if (n == 3) { /* flip the edge loop[0] -> loop[1] */
			int32_t a = th_mesh_vert_find(m, loop[0]), b = th_mesh_vert_find(m, loop[1]);
			int32_t t = m->hes[th_mesh_he_find(m, a, b)].twin;
			if (t == TH_MESH_NONE || m->faces[m->hes[t].face].n != 3)
				continue;
			uint64_t d = m->verts[m->hes[m->hes[m->hes[t].next].next].vert].id;
			mf_p_remove(p, id);
			mf_p_remove(p, m->faces[m->hes[t].face].id);
			mf_p_face(p, ++next_id, 0, 3, (uint64_t[]){ loop[2], loop[0], d });
			mf_p_face(p, ++next_id, 0, 3, (uint64_t[]){ d, loop[1], loop[2] });
		} else {
			continue;
		}
		if (mf_rn(10) == 0)
			mf_p_move(p, next_id + 99, 0, 0, 0);
		struct mf_enc before = mf_enc_of(m);
		size_t mark = th_journal_mark(j);
		const char *why = NULL;
		int r = mf_apply(m, p, j, &why);
		assert_true(r == 0 || r == -EINVAL);
		mf_mesh_ok(m);
		if (r) {
			assert_int_equal(th_journal_mark(j), mark);
			mf_assert_unchanged(m, before);
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
	struct mf_patch *p = mf_patch_new();
	struct th_journal j;
	mf_rng = 0x2545f4914f6cdd1dull;
	next_id = 1u << 20;
	for (unsigned round = 0; round < 4; round++) {
		struct th_mesh m;
		th_journal_init(&j, 0);
		int64_t euler;
		if (round % 2 == 0) {
			mf_build_cube(&m, NULL, 6);
			euler = 2;
		} else {
			build_torus(&m, 4 + round);
			euler = 0;
			mf_stats_are(&m, (4 + round) * (4 + round), 2 * (4 + round) * (4 + round), (4 + round) * (4 + round),
				  0, 0);
		}
		struct mf_enc start = mf_enc_of(&m);
		reshape(&m, &j, p, euler, 400);
		struct th_mesh_stats st;
		th_mesh_stats(&m, &st);
		assert_true(st.faces > 20);
		mf_undo_to(&m, &j, 0);
		mf_assert_unchanged(&m, start);
		free(start.d);
		th_mesh_fini(&m);
		th_journal_fini(&j);
	}
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_allocation_failure_changes_nothing),
		cmocka_unit_test(random_patches_match_a_reference_model),
		cmocka_unit_test(closed_surfaces_keep_their_euler_characteristic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}