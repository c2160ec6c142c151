/* th_op_catmull_clark and th_op_weld against straightforward references
 * written here from the rules of docs/mesh-ops.md: the same ops, op for op
 * and bit for bit, on meshes with boundaries, triangles, n-gons, free
 * vertices, several materials and ids in hash order (not slot order).
 * The operations are written for speed (flat arrays, twins instead of a
 * hash of edges, ops written straight into the patch); the references are
 * slow and plain (a linear search per edge, an all-pairs weld), so a
 * faster operation that changes one op, one id or one bit of a position
 * fails here. Both sum in the order the rules fix (ascending id, faces in
 * order, edges in order of first use), so their doubles agree exactly. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"
#include "th_meshop_int.h"

static const uint8_t author[32] = { 0x5e };

/* r of a call that set *whyp (read after it). */
static void patch_ok(int r, const char *const *whyp)
{
	if (r)
		fail_msg("refused (%d): %s", r, *whyp ? *whyp : "?");
}

static void apply_ok(struct th_mesh *m, const struct th_patch *p, uint64_t seq)
{
	const char *why = NULL;
	patch_ok(th_patch_apply(m, p, author, seq, NULL, &why), &why);
	mf_mesh_ok(m);
}

/* Op for op, field for field (positions by their bits). */
static void same_ops(const struct th_patch *got, const struct th_patch *want)
{
	assert_int_equal(got->n, want->n);
	for (uint32_t i = 0; i < got->n; i++) {
		const struct th_pl_mesh_op *a = &got->ops[i], *b = &want->ops[i];
		if (a->op != b->op || a->element != b->element || a->arg != b->arg ||
		    memcmp(a->position, b->position, sizeof(a->position)))
			fail_msg("op %u differs: got %u %llx %u (%a %a %a), want %u %llx %u (%a %a %a)", i, a->op,
				 (unsigned long long)a->element, a->arg, a->position[0], a->position[1], a->position[2],
				 b->op, (unsigned long long)b->element, b->arg, b->position[0], b->position[1],
				 b->position[2]);
	}
}

/* ---- meshes ------------------------------------------------------------------ */

static void build_prim(struct th_mesh *m, uint32_t kind, uint32_t segments, uint32_t rings, uint32_t subdiv)
{
	struct th_prim pp;
	struct th_patch p;
	const char *why = NULL;
	th_prim_defaults(&pp, kind);
	if (segments)
		pp.segments = segments;
	if (rings)
		pp.rings = rings;
	pp.subdiv = subdiv;
	pp.material = 2;
	th_patch_init(&p);
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	patch_ok(th_op_primitive(&pp, &p, &why), &why);
	apply_ok(m, &p, 11);
	th_patch_fini(&p);
}

/* An nx x nz grid in y = 0 with bumps (so no position is a simple sum),
 * materials 0..2, a free vertex, holes (the cells x % 3 == 1, z % 3 == 1
 * left out: inner boundaries) and, with squeeze, the column x = 3 only
 * 0.05 wide. */
static float grid_x(unsigned x, bool squeeze)
{
	return (float)x * 0.37f - (squeeze && x > 3 ? 0.32f : 0.0f);
}

static void build_grid(struct th_mesh *m, unsigned nx, unsigned nz, bool holes, bool squeeze)
{
	struct th_patch p;
	th_patch_init(&p);
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	uint32_t *ref = malloc((size_t)(nx + 1) * (nz + 1) * sizeof(*ref));
	assert_non_null(ref);
	for (unsigned z = 0; z <= nz; z++)
		for (unsigned x = 0; x <= nx; x++) {
			float q[3] = { grid_x(x, squeeze), (float)(((squeeze && x > 3 ? x - 1 : x) * 7 + z * 3) % 5) * 0.11f, (float)z * 0.41f };
			int r = th_patch_vertex_add(&p, q);
			assert_true(r > 0);
			ref[z * (nx + 1) + x] = (uint32_t)r;
		}
	float lone[3] = { -3, 1, 2 };
	assert_true(th_patch_vertex_add(&p, lone) > 0);
	for (unsigned z = 0; z < nz; z++)
		for (unsigned x = 0; x < nx; x++) {
			if (holes && x % 3 == 1 && z % 3 == 1)
				continue;
			unsigned a = z * (nx + 1) + x;
			struct th_pref c[4] = { th_pref_local(ref[a]), th_pref_local(ref[a + nx + 1]),
						th_pref_local(ref[a + nx + 2]), th_pref_local(ref[a + 1]) };
			assert_int_equal(th_patch_face_add(&p, (x + z) % 3, c, 4), 0);
		}
	apply_ok(m, &p, 12);
	free(ref);
	th_patch_fini(&p);
}

/* n x n quads, each with its own four corners, jittered within jitter of
 * their neighbours' (so welded positions are true means), materials 0..3. */
static void build_separate_quads(struct th_mesh *m, unsigned n, float jitter)
{
	struct th_patch p;
	th_patch_init(&p);
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	unsigned k = 0;
	for (unsigned z = 0; z < n; z++)
		for (unsigned x = 0; x < n; x++) {
			static const unsigned dx[4] = { 0, 0, 1, 1 }, dz[4] = { 0, 1, 1, 0 };
			struct th_pref c[4];
			for (unsigned i = 0; i < 4; i++) {
				float j = jitter * (float)((int)(k++ * 2654435761u % 7) - 3) / 3.0f;
				float q[3] = { (float)(x + dx[i]) + j, j * 0.5f, (float)(z + dz[i]) - j };
				int r = th_patch_vertex_add(&p, q);
				assert_true(r > 0);
				c[i] = th_pref_local((uint32_t)r);
			}
			assert_int_equal(th_patch_face_add(&p, (x * 5 + z) % 4, c, 4), 0);
		}
	apply_ok(m, &p, 13);
	th_patch_fini(&p);
}

/* ---- the Catmull-Clark reference --------------------------------------------- */

struct ref_level {
	uint32_t nv, nf, nc;
	double *pos;
	uint32_t *fstart, *corner, *mat;
};

static void ref_free(struct ref_level *l)
{
	free(l->pos);
	free(l->fstart);
	free(l->corner);
	free(l->mat);
}

/* One level by the rules, naively: an edge is looked up among all edges
 * found so far. New vertices: the old ones, a face point per face, an edge
 * point per edge in order of first use. */
static struct ref_level ref_cc_step(const struct ref_level *a)
{
	uint32_t *elo = malloc((size_t)a->nc * sizeof(uint32_t)), *ehi = malloc((size_t)a->nc * sizeof(uint32_t));
	uint32_t *eu = malloc((size_t)a->nc * sizeof(uint32_t)), *ev = malloc((size_t)a->nc * sizeof(uint32_t));
	int64_t *ef0 = malloc((size_t)a->nc * sizeof(int64_t)), *ef1 = malloc((size_t)a->nc * sizeof(int64_t));
	uint32_t *cedge = malloc((size_t)a->nc * sizeof(uint32_t));
	double *fp = malloc((size_t)a->nf * 3 * sizeof(double));
	assert_true(elo && ehi && eu && ev && ef0 && ef1 && cedge && fp);
	uint32_t ne = 0;
	for (uint32_t f = 0; f < a->nf; f++) {
		uint32_t s = a->fstart[f], n = a->fstart[f + 1] - s;
		double c[3] = { 0, 0, 0 };
		for (uint32_t k = 0; k < n; k++) {
			uint32_t u = a->corner[s + k], v = a->corner[s + (k + 1) % n];
			for (int d = 0; d < 3; d++)
				c[d] += a->pos[3 * u + d];
			uint32_t lo = u < v ? u : v, hi = u < v ? v : u, e = 0;
			while (e < ne && !(elo[e] == lo && ehi[e] == hi))
				e++;
			if (e == ne) {
				elo[e] = lo;
				ehi[e] = hi;
				eu[e] = u;
				ev[e] = v;
				ef0[e] = f;
				ef1[e] = -1;
				ne++;
			} else {
				ef1[e] = f;
			}
			cedge[s + k] = e;
		}
		for (int d = 0; d < 3; d++)
			fp[3 * f + d] = c[d] / n;
	}
	struct ref_level b = { .nv = a->nv + a->nf + ne, .nf = a->nc, .nc = 4 * a->nc };
	b.pos = malloc((size_t)b.nv * 3 * sizeof(double));
	b.fstart = malloc(((size_t)b.nf + 1) * sizeof(uint32_t));
	b.corner = malloc((size_t)b.nc * sizeof(uint32_t));
	b.mat = malloc((size_t)b.nf * sizeof(uint32_t));
	assert_true(b.pos && b.fstart && b.corner && b.mat);
	/* the old vertices: sums of face points (faces in order), of edge
	 * midpoints and boundary neighbours (edges in order) */
	for (uint32_t v = 0; v < a->nv; v++) {
		double fq[3] = { 0, 0, 0 }, er[3] = { 0, 0, 0 }, bn[3] = { 0, 0, 0 };
		uint32_t nf = 0, nedge = 0, nb = 0;
		for (uint32_t f = 0; f < a->nf; f++)
			for (uint32_t c = a->fstart[f]; c < a->fstart[f + 1]; c++)
				if (a->corner[c] == v) {
					for (int d = 0; d < 3; d++)
						fq[d] += fp[3 * f + d];
					nf++;
				}
		for (uint32_t e = 0; e < ne; e++) {
			if (eu[e] != v && ev[e] != v)
				continue;
			uint32_t o = eu[e] == v ? ev[e] : eu[e];
			for (int d = 0; d < 3; d++)
				er[d] += (a->pos[3 * eu[e] + d] + a->pos[3 * ev[e] + d]) * 0.5;
			nedge++;
			if (ef1[e] < 0) {
				for (int d = 0; d < 3; d++)
					bn[d] += a->pos[3 * o + d];
				nb++;
			}
		}
		const double *s = a->pos + 3 * v;
		for (int d = 0; d < 3; d++) {
			if (!nf || (nb && nb != 2))
				b.pos[3 * v + d] = s[d];
			else if (nb)
				b.pos[3 * v + d] = (bn[d] + 6.0 * s[d]) * 0.125;
			else
				b.pos[3 * v + d] = (fq[d] / nf + 2.0 * (er[d] / nedge) + (nedge - 3.0) * s[d]) / nedge;
		}
	}
	memcpy(b.pos + 3 * (size_t)a->nv, fp, (size_t)a->nf * 3 * sizeof(double));
	for (uint32_t e = 0; e < ne; e++) {
		double *o = b.pos + 3 * ((size_t)a->nv + a->nf + e);
		const double *pu = a->pos + 3 * eu[e], *pv = a->pos + 3 * ev[e];
		for (int d = 0; d < 3; d++)
			o[d] = ef1[e] < 0 ? (pu[d] + pv[d]) * 0.5
					  : (pu[d] + pv[d] + fp[3 * ef0[e] + d] + fp[3 * ef1[e] + d]) * 0.25;
	}
	uint32_t q = 0, c = 0;
	for (uint32_t f = 0; f < a->nf; f++) {
		uint32_t s = a->fstart[f], n = a->fstart[f + 1] - s;
		for (uint32_t k = 0; k < n; k++) {
			b.fstart[q] = c;
			b.mat[q++] = a->mat[f];
			b.corner[c++] = a->corner[s + k];
			b.corner[c++] = a->nv + a->nf + cedge[s + k];
			b.corner[c++] = a->nv + f;
			b.corner[c++] = a->nv + a->nf + cedge[s + (k + n - 1) % n];
		}
	}
	b.fstart[q] = c;
	free(elo);
	free(ehi);
	free(eu);
	free(ev);
	free(ef0);
	free(ef1);
	free(cedge);
	free(fp);
	return b;
}

/* The ops the rules give: remove every face (ascending id), move each old
 * vertex (ascending id) whose position changes, add the new vertices in
 * order, add the final faces. */
static void ref_catmull_clark(const struct th_mesh *m, unsigned levels, struct th_patch *out)
{
	uint32_t nv, nf;
	struct th_slot_id *vs = th_mesh_live_sorted(m, false, &nv), *fs = th_mesh_live_sorted(m, true, &nf);
	assert_true(vs && fs);
	struct ref_level cur = { .nv = nv, .nf = nf, .nc = m->live_hes };
	cur.pos = malloc((size_t)nv * 3 * sizeof(double));
	cur.fstart = malloc(((size_t)nf + 1) * sizeof(uint32_t));
	cur.corner = malloc((size_t)cur.nc * sizeof(uint32_t));
	cur.mat = malloc((size_t)nf * sizeof(uint32_t));
	assert_true(cur.pos && cur.fstart && cur.corner && cur.mat);
	for (uint32_t i = 0; i < nv; i++)
		for (int d = 0; d < 3; d++)
			cur.pos[3 * i + d] = m->verts[vs[i].slot].pos[d];
	uint32_t c = 0;
	for (uint32_t i = 0; i < nf; i++) {
		const struct th_mesh_face *f = &m->faces[fs[i].slot];
		cur.fstart[i] = c;
		cur.mat[i] = f->material;
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next) {
			uint32_t v = 0;
			while (vs[v].slot != m->hes[h].vert)
				v++;
			cur.corner[c++] = v;
		}
	}
	cur.fstart[nf] = c;
	for (unsigned l = 0; l < levels; l++) {
		struct ref_level next = ref_cc_step(&cur);
		ref_free(&cur);
		cur = next;
	}
	for (uint32_t i = 0; i < nf; i++)
		assert_int_equal(th_patch_remove(out, fs[i].id), 0);
	for (uint32_t i = 0; i < nv; i++) {
		float p[3];
		for (int d = 0; d < 3; d++)
			p[d] = (float)cur.pos[3 * i + d];
		if (memcmp(p, m->verts[vs[i].slot].pos, sizeof(p)))
			assert_int_equal(th_patch_vertex_move(out, vs[i].id, p), 0);
	}
	uint32_t *refs = malloc(((size_t)cur.nv - nv + 1) * sizeof(*refs));
	assert_non_null(refs);
	for (uint32_t i = nv; i < cur.nv; i++) {
		float p[3];
		for (int d = 0; d < 3; d++)
			p[d] = (float)cur.pos[3 * i + d];
		int r = th_patch_vertex_add(out, p);
		assert_true(r > 0);
		refs[i - nv] = (uint32_t)r;
	}
	for (uint32_t f = 0; f < cur.nf; f++) {
		struct th_pref cs[4];
		for (unsigned k = 0; k < 4; k++) {
			uint32_t v = cur.corner[cur.fstart[f] + k];
			cs[k] = v < nv ? th_pref_id(vs[v].id) : th_pref_local(refs[v - nv]);
		}
		assert_int_equal(th_patch_face_add(out, cur.mat[f], cs, 4), 0);
	}
	free(refs);
	ref_free(&cur);
	free(vs);
	free(fs);
}

static void cc_matches(const struct th_mesh *m, unsigned levels)
{
	struct th_patch got, want;
	const char *why = NULL;
	th_patch_init(&got);
	th_patch_init(&want);
	/* a patch that already holds ops: the operation appends after them */
	float first[3] = { 9, 9, 9 };
	assert_true(th_patch_vertex_add(&got, first) > 0);
	assert_true(th_patch_vertex_add(&want, first) > 0);
	patch_ok(th_op_catmull_clark(m, levels, &got, &why), &why);
	ref_catmull_clark(m, levels, &want);
	same_ops(&got, &want);
	/* and it applies: the result is a valid mesh */
	struct th_mesh c;
	assert_int_equal(th_mesh_copy(&c, m), 0);
	th_patch_clear(&got);
	patch_ok(th_op_catmull_clark(m, levels, &got, &why), &why);
	apply_ok(&c, &got, 99);
	th_mesh_fini(&c);
	th_patch_fini(&got);
	th_patch_fini(&want);
}

static void catmull_clark_matches_the_reference(void **state)
{
	(void)state;
	struct th_mesh m;
	static const struct {
		uint32_t kind, segments, rings, subdiv;
	} prims[] = {
		{ TH_PRIM_CUBE, 0, 0, 0 },      { TH_PRIM_CUBE, 0, 0, 2 },     { TH_PRIM_UVSPHERE, 7, 5, 0 },
		{ TH_PRIM_CYLINDER, 9, 0, 0 },  { TH_PRIM_CONE, 6, 0, 0 },     { TH_PRIM_TORUS, 8, 5, 0 },
		{ TH_PRIM_ICOSPHERE, 0, 0, 1 }, { TH_PRIM_PLANE, 0, 0, 3 },
	};
	for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++) {
		build_prim(&m, prims[i].kind, prims[i].segments, prims[i].rings, prims[i].subdiv);
		cc_matches(&m, 1);
		cc_matches(&m, 2);
		th_mesh_fini(&m);
	}
	build_grid(&m, 7, 5, true, false);
	cc_matches(&m, 1);
	cc_matches(&m, 2);
	th_mesh_fini(&m);
	build_grid(&m, 4, 3, false, false);
	cc_matches(&m, 3);
	th_mesh_fini(&m);
}

/* ---- the weld reference ------------------------------------------------------ */

/* The ops the rules give: clusters of the candidates (ascending id) by
 * single linkage, every pair compared; faces with a merged corner removed
 * (ascending id); each cluster's lowest id moved to the mean (summed in
 * ascending id) when that changes its bits; the other members removed;
 * the changed faces added again over the kept vertices (repeats in a row
 * dropped; a face left with fewer than 3 corners is not added). */
static void ref_weld(const struct th_mesh *m, const uint64_t *verts, unsigned n, float distance, struct th_patch *out)
{
	uint32_t nc;
	struct th_slot_id *cand;
	if (verts) {
		cand = malloc((size_t)n * sizeof(*cand));
		assert_non_null(cand);
		for (unsigned i = 0; i < n; i++)
			cand[i] = (struct th_slot_id){ verts[i], th_mesh_vert_find(m, verts[i]) };
		th_slot_sort(cand, n);
		nc = n;
	} else {
		cand = th_mesh_live_sorted(m, false, &nc);
		assert_non_null(cand);
	}
	uint32_t *par = malloc((size_t)nc * sizeof(*par));
	int32_t *tgt = malloc((size_t)m->nverts * sizeof(*tgt));
	assert_true(par && tgt);
	for (uint32_t i = 0; i < nc; i++)
		par[i] = i;
	double d2max = (double)distance * distance;
	for (bool changed = true; changed;) { /* lowest index of each connected set */
		changed = false;
		for (uint32_t i = 0; i < nc; i++)
			for (uint32_t j = i + 1; j < nc; j++) {
				const float *a = m->verts[cand[i].slot].pos, *b = m->verts[cand[j].slot].pos;
				double s = 0;
				for (int d = 0; d < 3; d++)
					s += ((double)a[d] - b[d]) * ((double)a[d] - b[d]);
				if (s > d2max || par[i] == par[j])
					continue;
				uint32_t lo = par[i] < par[j] ? par[i] : par[j], hi = par[i] < par[j] ? par[j] : par[i];
				for (uint32_t k = 0; k < nc; k++)
					if (par[k] == hi)
						par[k] = lo;
				changed = true;
			}
	}
	for (uint32_t v = 0; v < m->nverts; v++)
		tgt[v] = (int32_t)v;
	for (uint32_t i = 0; i < nc; i++)
		tgt[cand[i].slot] = cand[par[i]].slot;
	uint32_t nf;
	struct th_slot_id *fs = th_mesh_live_sorted(m, true, &nf);
	bool *changed = calloc(nf + 1, sizeof(*changed));
	assert_true(fs && changed);
	for (uint32_t i = 0; i < nf; i++) {
		const struct th_mesh_face *f = &m->faces[fs[i].slot];
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next)
			changed[i] |= tgt[m->hes[h].vert] != m->hes[h].vert;
		if (changed[i])
			assert_int_equal(th_patch_remove(out, fs[i].id), 0);
	}
	for (uint32_t i = 0; i < nc; i++) {
		if (par[i] != i)
			continue;
		double s[3] = { 0, 0, 0 }, k = 0;
		for (uint32_t j = i; j < nc; j++)
			if (par[j] == i) {
				for (int d = 0; d < 3; d++)
					s[d] += m->verts[cand[j].slot].pos[d];
				k++;
			}
		if (k < 2)
			continue;
		float p[3];
		for (int d = 0; d < 3; d++)
			p[d] = (float)(s[d] / k);
		if (memcmp(p, m->verts[cand[i].slot].pos, sizeof(p)))
			assert_int_equal(th_patch_vertex_move(out, cand[i].id, p), 0);
	}
	for (uint32_t i = 0; i < nc; i++)
		if (par[i] != i)
			assert_int_equal(th_patch_remove(out, cand[i].id), 0);
	for (uint32_t i = 0; i < nf; i++) {
		if (!changed[i])
			continue;
		const struct th_mesh_face *f = &m->faces[fs[i].slot];
		struct th_pref cs[TH_MESH_FACE_VERTS_MAX];
		uint64_t ids[TH_MESH_FACE_VERTS_MAX];
		unsigned k = 0;
		int32_t h = f->he;
		for (unsigned c = 0; c < f->n; c++, h = m->hes[h].next) {
			uint64_t id = m->verts[tgt[m->hes[h].vert]].id;
			if (!k || ids[k - 1] != id)
				ids[k++] = id;
		}
		while (k > 1 && ids[k - 1] == ids[0])
			k--;
		if (k < 3)
			continue;
		for (unsigned c = 0; c < k; c++)
			cs[c] = th_pref_id(ids[c]);
		assert_int_equal(th_patch_face_add(out, f->material, cs, k), 0);
	}
	free(cand);
	free(par);
	free(tgt);
	free(fs);
	free(changed);
}

static void weld_matches(const struct th_mesh *m, const uint64_t *verts, unsigned n, float distance)
{
	struct th_patch got, want;
	const char *why = NULL;
	th_patch_init(&got);
	th_patch_init(&want);
	patch_ok(th_op_weld(m, verts, n, distance, &got, &why), &why);
	ref_weld(m, verts, n, distance, &want);
	same_ops(&got, &want);
	struct th_mesh c;
	assert_int_equal(th_mesh_copy(&c, m), 0);
	apply_ok(&c, &got, 98);
	th_mesh_fini(&c);
	th_patch_fini(&got);
	th_patch_fini(&want);
}

static void weld_matches_the_reference(void **state)
{
	(void)state;
	struct th_mesh m;
	/* exact copies: the means are the positions themselves, no move */
	build_separate_quads(&m, 9, 0);
	weld_matches(&m, NULL, 0, 1e-3f);
	th_mesh_fini(&m);
	/* jittered: every kept vertex moves to its cluster's mean */
	build_separate_quads(&m, 12, 2e-4f);
	weld_matches(&m, NULL, 0, 1e-3f);
	/* some of the vertices only: every copy of the points with x < 5.5
	 * (so no point is half welded), given in descending id order */
	uint32_t nv;
	struct th_slot_id *vs = th_mesh_live_sorted(&m, false, &nv);
	assert_non_null(vs);
	uint64_t *some = malloc((size_t)nv * sizeof(*some));
	assert_non_null(some);
	unsigned k = 0;
	for (uint32_t i = nv; i-- > 0;)
		if (m.verts[vs[i].slot].pos[0] < 5.5f)
			some[k++] = vs[i].id;
	weld_matches(&m, some, k, 1e-3f);
	free(some);
	free(vs);
	th_mesh_fini(&m);
	/* a shared grid with short edges: the faces across them collapse */
	build_grid(&m, 6, 5, true, true);
	weld_matches(&m, NULL, 0, 0.12f);
	th_mesh_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(catmull_clark_matches_the_reference),
		cmocka_unit_test(weld_matches_the_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
