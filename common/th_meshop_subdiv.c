/* Face subdivide, Catmull-Clark and weld by distance (th_meshop.h;
 * docs/mesh-ops.md). Each reads the mesh, computes every result into
 * scratch arrays first and then appends its ops: faces to reshape removed
 * (ascending id), vertices moved, vertices added, vertices removed, faces
 * added. Scratch memory is bounded by the mesh's size (and, for
 * Catmull-Clark, by TH_MESH_ELEMENTS_MAX for the result). Arithmetic is in
 * double, summed in ascending id order, so every machine gets the same
 * bits. */
#include "th_meshop.h"
#include "th_array.h"
#include "th_mesh_int.h" /* mix64 */
#include "th_meshop_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WHY_NOMEM "out of memory"
#define WHY_SUBDIV_TOO_BIG "the subdivision would pass the patch's op limit"
#define WHY_WELD_TOO_BIG "the weld would pass the patch's op limit"

/* ---- shared helpers ------------------------------------------------------- */

/* An op's failure: the patch back to base, *why (when given) w, or else
 * too_big for -E2BIG and WHY_NOMEM for the rest. */
static void op_failed(struct th_patch *out, uint32_t base, int r, const char *w, const char *too_big, const char **why)
{
	th_patch_truncate(out, base);
	if (!w)
		w = r == -E2BIG ? too_big : WHY_NOMEM;
	if (why)
		*why = w;
}

/* After a th_patch_begin: a REMOVE of each of the n elements; false once
 * past limit. */
static bool put_removes(struct th_patch *out, uint32_t limit, const struct th_slot_id *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!th_patch_room(out, limit, 1))
			return false;
		th_patch_put(out, TH_PL_MESH_OP_REMOVE, e[i].id, 0);
	}
	return true;
}

/* After a th_patch_begin: op (VERTEX_ADD or _MOVE) of element at p; false
 * with *r = -EINVAL for a position th_finite3 refuses, false (*r
 * untouched) once past limit. */
static bool put_pos(struct th_patch *out, uint32_t limit, uint8_t op, uint64_t element, const float p[3], int *r)
{
	if (!th_finite3(p))
		return *r = -EINVAL, false;
	if (!th_patch_room(out, limit, 1))
		return false;
	th_patch_put_pos(out, op, element, p);
	return true;
}

#define SORT_SMALL 32u /* below this many, insertion sort */

/* Resolves a set of face (or vertex) ids to slots sorted by id; refuses a
 * missing element or one named twice. *out is malloc'd on success. */
static int resolve_set(const struct th_mesh *m, const uint64_t *ids, unsigned n, bool faces, struct th_slot_id **out,
		       const char **why)
{
	if (!n || !ids)
		return *why = faces ? "faces: no face given" : "verts: no vertex given", -EINVAL;
	if (n > (faces ? m->live_faces : m->live_verts))
		return *why = faces ? "faces: the set names more faces than the mesh has (one is missing or named twice)"
				    : "verts: the set names more vertices than the mesh has (one is missing or named twice)",
		       -EINVAL;
	struct th_slot_id *s = malloc((size_t)n * sizeof(*s));
	if (!s)
		return *why = WHY_NOMEM, -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		int32_t slot = faces ? th_mesh_face_find(m, ids[i]) : th_mesh_vert_find(m, ids[i]);
		if (slot == TH_MESH_NONE) {
			free(s);
			return *why = faces ? "faces: a face does not exist in the mesh"
					    : "verts: a vertex does not exist in the mesh",
			       -EINVAL;
		}
		s[i] = (struct th_slot_id){ ids[i], slot };
	}
	th_slot_sort(s, n);
	for (unsigned i = 1; i < n; i++)
		if (s[i].id == s[i - 1].id) {
			free(s);
			return *why = faces ? "faces: a face is named twice" : "verts: a vertex is named twice", -EINVAL;
		}
	*out = s;
	return 0;
}

static void to_float3(const double d[3], float f[3])
{
	for (int i = 0; i < 3; i++)
		f[i] = (float)d[i];
}

static bool same_bits3(const float a[3], const float b[3]) { return memcmp(a, b, 3 * sizeof(float)) == 0; }

/* ---- face subdivide ------------------------------------------------------- */

#define WHY_SUBDIV_CORNERS                                                                                          \
	"faces: subdividing would give a neighbouring face more than FACE_VERTS_MAX (64) corners (subdivide "    \
	"that face too, or fewer of its neighbours)"

int th_op_subdivide(const struct th_mesh *m, const uint64_t *faces, unsigned n, struct th_patch *out,
		    const char **why)
{
	const char *w = NULL;
	struct th_slot_id *sel = NULL, *nb = NULL;
	uint8_t *fstate = NULL; /* per face slot: 1 selected, 2 neighbour */
	uint16_t *extra = NULL; /* per face slot: corners a neighbour gains */
	uint32_t *mid = NULL;   /* per half-edge: the local ref of its midpoint */
	uint32_t *centre = NULL;
	uint32_t base = out->n, nnb = 0;
	int r = resolve_set(m, faces, n, true, &sel, &w);
	if (r)
		goto out;
	fstate = calloc(m->nfaces, 1);
	extra = calloc(m->nfaces, sizeof(*extra));
	mid = calloc(m->nhes, sizeof(*mid));
	centre = malloc((size_t)n * sizeof(*centre));
	nb = malloc(((size_t)m->live_faces + 1) * sizeof(*nb));
	if (!fstate || !extra || !mid || !centre || !nb) {
		w = WHY_NOMEM;
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		fstate[sel[i].slot] = 1;
	/* neighbours outside the set and the corners they gain */
	for (unsigned i = 0; i < n; i++) {
		const struct th_mesh_face *f = &m->faces[sel[i].slot];
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next) {
			int32_t t = m->hes[h].twin;
			if (t == TH_MESH_NONE)
				continue;
			int32_t g = m->hes[t].face;
			if (fstate[g] == 1)
				continue;
			if (!fstate[g]) {
				fstate[g] = 2;
				nb[nnb++] = (struct th_slot_id){ m->faces[g].id, g };
			}
			if (m->faces[g].n + ++extra[g] > TH_MESH_FACE_VERTS_MAX) {
				w = WHY_SUBDIV_CORNERS;
				r = -EINVAL;
				goto out;
			}
		}
	}
	/* midpoints (shared across an edge) and centres, face by face */
	for (unsigned i = 0; i < n; i++) {
		const struct th_mesh_face *f = &m->faces[sel[i].slot];
		double c[3] = { 0, 0, 0 };
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next) {
			const float *a = m->verts[m->hes[h].vert].pos;
			const float *b = m->verts[m->hes[m->hes[h].next].vert].pos;
			for (int d = 0; d < 3; d++)
				c[d] += a[d];
			if (mid[h])
				continue;
			double md[3];
			float mp[3];
			for (int d = 0; d < 3; d++)
				md[d] = ((double)a[d] + b[d]) * 0.5;
			to_float3(md, mp);
			if ((r = th_patch_vertex_add(out, mp)) < 0)
				goto out;
			mid[h] = (uint32_t)r;
			if (m->hes[h].twin != TH_MESH_NONE)
				mid[m->hes[h].twin] = (uint32_t)r;
		}
		float cp[3];
		for (int d = 0; d < 3; d++)
			c[d] /= f->n;
		to_float3(c, cp);
		if ((r = th_patch_vertex_add(out, cp)) < 0)
			goto out;
		centre[i] = (uint32_t)r;
	}
	/* every face reshaped, removed in ascending id order */
	struct th_slot_id *all = realloc(nb, ((size_t)nnb + n) * sizeof(*all));
	if (!all) {
		r = -ENOMEM;
		goto out;
	}
	nb = all;
	memcpy(all + nnb, sel, (size_t)n * sizeof(*sel));
	th_slot_sort(all, nnb + n);
	for (uint32_t i = 0; i < nnb + n; i++)
		if ((r = th_patch_remove(out, all[i].id)) < 0)
			goto out;
	for (uint32_t i = 0, si = 0; i < nnb + n; i++) {
		const struct th_mesh_face *f = &m->faces[all[i].slot];
		struct th_pref cs[TH_MESH_FACE_VERTS_MAX];
		int32_t h = f->he;
		if (fstate[all[i].slot] == 1) {
			uint32_t cref = centre[si++];
			int32_t hp = m->hes[h].prev;
			for (unsigned k = 0; k < f->n; k++, hp = h, h = m->hes[h].next) {
				cs[0] = th_pref_id(m->verts[m->hes[h].vert].id);
				cs[1] = th_pref_local(mid[h]);
				cs[2] = th_pref_local(cref);
				cs[3] = th_pref_local(mid[hp]);
				if ((r = th_patch_face_add(out, f->material, cs, 4)) < 0)
					goto out;
			}
			continue;
		}
		unsigned k = 0;
		for (unsigned c = 0; c < f->n; c++, h = m->hes[h].next) {
			cs[k++] = th_pref_id(m->verts[m->hes[h].vert].id);
			if (mid[h])
				cs[k++] = th_pref_local(mid[h]);
		}
		if ((r = th_patch_face_add(out, f->material, cs, k)) < 0)
			goto out;
	}
	r = 0;
out:
	if (r < 0)
		op_failed(out, base, r, w, WHY_SUBDIV_TOO_BIG, why);
	free(sel);
	free(nb);
	free(fstate);
	free(extra);
	free(mid);
	free(centre);
	return r;
}

/* ---- Catmull-Clark ----------------------------------------------------------- */

/* One level of the scratch mesh: vertex positions, faces as corner lists
 * (vertex indices) with the material each inherits, and each corner's
 * twin: the corner whose edge (to the next corner) runs the other way
 * along the same edge, CC_NO_TWIN on a boundary. Twins replace a hash of
 * vertex pairs: level 0 takes them from the mesh's half-edges, each step
 * derives the next level's from its own. */
#define CC_NO_TWIN UINT32_MAX

struct cc_level {
	uint32_t nv, nf, nc;
	double *pos;       /* 3 nv */
	uint32_t *fstart;  /* nf + 1 offsets into corner */
	uint32_t *corner;  /* nc vertex indices */
	uint32_t *twin;    /* nc corner indices */
	uint32_t *mat;     /* nf */
};

struct cc_acc {
	double fq[3], er[3], bn[3]; /* sums: face points, edge midpoints, boundary neighbours */
	uint32_t nf, ne, nb;
};

static void cc_free(struct cc_level *l)
{
	free(l->pos);
	free(l->fstart);
	free(l->corner);
	free(l->twin);
	free(l->mat);
	memset(l, 0, sizeof(*l));
}

/* pos_only: the positions alone (the last level, emitted from the one
 * before). */
static int cc_alloc(struct cc_level *l, uint32_t nv, uint32_t nf, uint32_t nc, bool pos_only)
{
	l->nv = nv;
	l->nf = nf;
	l->nc = nc;
	l->pos = malloc((size_t)nv * 3 * sizeof(double) + 1);
	if (pos_only)
		return l->pos ? 0 : -ENOMEM;
	l->fstart = malloc(((size_t)nf + 1) * sizeof(uint32_t));
	l->corner = malloc((size_t)nc * sizeof(uint32_t) + 1);
	l->twin = malloc((size_t)nc * sizeof(uint32_t) + 1);
	l->mat = malloc((size_t)nf * sizeof(uint32_t) + 1);
	if (!l->pos || !l->fstart || !l->corner || !l->twin || !l->mat) {
		cc_free(l);
		return -ENOMEM;
	}
	return 0;
}

/* One Catmull-Clark step from a to b (b uninitialised). New vertices: a's
 * vertices, then a face point per face, then an edge point per edge (in
 * order of first use: the corner met first of an edge's one or two);
 * each face of n corners becomes n quads, quad c (a's corner c: v_k) with
 * the corners v_k, edge point k, face point, edge point k - 1.
 * last_cedge non-NULL: b gets its positions only and *last_cedge the edge
 * of each corner of a (the caller emits b's quads from a). */
static int cc_step(const struct cc_level *a, struct cc_level *b, uint32_t **last_cedge)
{
	int r = -ENOMEM;
	uint32_t *cedge = malloc((size_t)a->nc * sizeof(*cedge) + 1);
	uint32_t *ev = malloc((size_t)a->nc * 2 * sizeof(*ev) + 1); /* edge ends, 2 per edge */
	uint32_t *ef = malloc((size_t)a->nc * 2 * sizeof(*ef) + 1); /* edge faces, CC_NO_TWIN: boundary */
	struct cc_acc *acc = calloc((size_t)a->nv + 1, sizeof(*acc));
	double *fp = malloc((size_t)a->nf * 3 * sizeof(*fp) + 1);
	if (!cedge || !ev || !ef || !acc || !fp)
		goto out;
	uint32_t ne = 0;
	for (uint32_t f = 0; f < a->nf; f++) {
		uint32_t s = a->fstart[f], n = a->fstart[f + 1] - s;
		double c[3] = { 0, 0, 0 };
		for (uint32_t k = 0; k < n; k++) {
			uint32_t u = a->corner[s + k], t = a->twin[s + k];
			for (int d = 0; d < 3; d++)
				c[d] += a->pos[3 * u + d];
			if (t == CC_NO_TWIN || t > s + k) {
				ev[2 * ne] = u;
				ev[2 * ne + 1] = a->corner[s + (k + 1 == n ? 0 : k + 1)];
				ef[2 * ne] = f;
				ef[2 * ne + 1] = CC_NO_TWIN;
				cedge[s + k] = ne++;
			} else {
				uint32_t e = cedge[t];
				ef[2 * e + 1] = f;
				cedge[s + k] = e;
			}
		}
		for (int d = 0; d < 3; d++)
			fp[3 * f + d] = c[d] / n;
		for (uint32_t k = 0; k < n; k++) {
			struct cc_acc *x = &acc[a->corner[s + k]];
			for (int d = 0; d < 3; d++)
				x->fq[d] += fp[3 * f + d];
			x->nf++;
		}
	}
	if ((uint64_t)a->nv + a->nf + ne > UINT32_MAX || (uint64_t)a->nc * 4 > UINT32_MAX)
		goto out;
	if ((r = cc_alloc(b, a->nv + a->nf + ne, a->nc, a->nc * 4, last_cedge != NULL)))
		goto out;
	double *ep = b->pos + 3 * ((size_t)a->nv + a->nf);
	for (uint32_t e = 0; e < ne; e++) {
		uint32_t u = ev[2 * e], v = ev[2 * e + 1];
		double md[3];
		for (int d = 0; d < 3; d++)
			md[d] = (a->pos[3 * u + d] + a->pos[3 * v + d]) * 0.5;
		for (int d = 0; d < 3; d++) {
			acc[u].er[d] += md[d];
			acc[v].er[d] += md[d];
		}
		acc[u].ne++;
		acc[v].ne++;
		if (ef[2 * e + 1] == CC_NO_TWIN) { /* boundary: the edge point is the midpoint */
			for (int d = 0; d < 3; d++) {
				acc[u].bn[d] += a->pos[3 * v + d];
				acc[v].bn[d] += a->pos[3 * u + d];
				ep[3 * e + d] = md[d];
			}
			acc[u].nb++;
			acc[v].nb++;
		} else {
			const double *f0 = fp + 3 * (size_t)ef[2 * e], *f1 = fp + 3 * (size_t)ef[2 * e + 1];
			for (int d = 0; d < 3; d++)
				ep[3 * e + d] = (a->pos[3 * u + d] + a->pos[3 * v + d] + f0[d] + f1[d]) * 0.25;
		}
	}
	for (uint32_t v = 0; v < a->nv; v++) {
		const struct cc_acc *x = &acc[v];
		const double *s = a->pos + 3 * v;
		double *o = b->pos + 3 * v;
		for (int d = 0; d < 3; d++) {
			if (!x->nf || (x->nb && x->nb != 2)) /* free (kept), or no curve through it */
				o[d] = s[d];
			else if (x->nb) /* boundary curve: 1/8, 6/8, 1/8 */
				o[d] = (x->bn[d] + 6.0 * s[d]) * 0.125;
			else
				o[d] = (x->fq[d] / x->nf + 2.0 * (x->er[d] / x->ne) + (x->ne - 3.0) * s[d]) / x->ne;
		}
	}
	memcpy(b->pos + 3 * (size_t)a->nv, fp, (size_t)a->nf * 3 * sizeof(double));
	if (last_cedge) {
		*last_cedge = cedge;
		cedge = NULL;
		r = 0;
		goto out;
	}
	/* quad c's twins: its corner 1 (edge point k -> face point) and the
	 * next quad's corner 2, and the other way round; its corner 3 (edge
	 * point k - 1 -> v_k, half of a's edge cp) and corner 0 of the quad
	 * of cp's twin (v_k -> the same edge point), both set here; a corner
	 * 0 with no twin in a has none in b */
	uint32_t e0 = a->nv + a->nf;
	for (uint32_t f = 0; f < a->nf; f++) {
		uint32_t s = a->fstart[f], n = a->fstart[f + 1] - s;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t c = s + k, cn = s + (k + 1 == n ? 0 : k + 1), cp = s + (k ? k - 1 : n - 1);
			uint32_t *q = b->corner + 4 * (size_t)c, *t = b->twin + 4 * (size_t)c;
			b->fstart[c] = 4 * c;
			b->mat[c] = a->mat[f];
			q[0] = a->corner[c];
			q[1] = e0 + cedge[c];
			q[2] = a->nv + f;
			q[3] = e0 + cedge[cp];
			uint32_t tp = a->twin[cp];
			t[1] = 4 * cn + 2;
			t[2] = 4 * cp + 1;
			if (a->twin[c] == CC_NO_TWIN)
				t[0] = CC_NO_TWIN;
			if (tp == CC_NO_TWIN) {
				t[3] = CC_NO_TWIN;
			} else { /* both ways: the twin's corner 0 is set here too */
				t[3] = 4 * tp;
				b->twin[4 * (size_t)tp] = 4 * c + 3;
			}
		}
	}
	b->fstart[a->nc] = 4 * a->nc;
	r = 0;
out:
	free(cedge);
	free(ev);
	free(ef);
	free(acc);
	free(fp);
	return r;
}

int th_op_catmull_clark(const struct th_mesh *m, unsigned levels, struct th_patch *out, const char **why)
{
	const char *w = NULL;
	uint32_t base = out->n, nv = 0, nf = 0, limit;
	struct th_slot_id *vs = NULL, *fs = NULL;
	int32_t *vidx = NULL;
	uint32_t *hc = NULL; /* per half-edge slot: its corner in level 0 */
	uint32_t *fidx = NULL;
	uint32_t *cedge = NULL; /* the last step's edge of each corner of cur */
	struct cc_level cur = { 0 }, next = { 0 };
	int r;
	if (levels < 1 || levels > TH_OP_CC_LEVELS_MAX) {
		w = "levels: Catmull-Clark takes 1 to 4 levels (TH_OP_CC_LEVELS_MAX)";
		r = -EINVAL;
		goto out;
	}
	if (!m->live_faces) {
		w = "the mesh has no faces to subdivide";
		r = -EINVAL;
		goto out;
	}
	/* the result's size: each level, V += F + E, F = corners, corners *= 4 */
	struct th_mesh_stats st;
	th_mesh_stats(m, &st);
	uint64_t pv = m->live_verts, pf = m->live_faces, pc = m->live_hes, pe = st.edges;
	for (unsigned l = 0; l < levels; l++) {
		pv += pf + pe;
		pe = 2 * pe + pc;
		pf = pc;
		pc *= 4;
	}
	if (pv + pf > TH_MESH_ELEMENTS_MAX) {
		w = "levels: the subdivided mesh would have more than TH_MESH_ELEMENTS_MAX elements (use fewer levels)";
		r = -EINVAL;
		goto out;
	}
	r = -ENOMEM;
	if (!(vs = th_mesh_live_sorted(m, false, &nv)) || !(fs = th_mesh_live_sorted(m, true, &nf)))
		goto out;
	if (!(vidx = malloc(((size_t)m->nverts + 1) * sizeof(*vidx))) ||
	    !(hc = malloc(((size_t)m->nhes + 1) * sizeof(*hc))) ||
	    !(fidx = malloc(((size_t)m->nfaces + 1) * sizeof(*fidx))))
		goto out;
	if ((r = cc_alloc(&cur, nv, nf, m->live_hes, false)))
		goto out;
	for (uint32_t i = 0; i < nv; i++) {
		vidx[vs[i].slot] = (int32_t)i;
		for (int d = 0; d < 3; d++)
			cur.pos[3 * i + d] = m->verts[vs[i].slot].pos[d];
	}
	/* faces in ascending id order, their corners gathered walking the
	 * faces in slot order (the half-edges in memory order, no chain of
	 * dependent loads per face): fidx[slot] = the face's rank */
	uint32_t c = 0;
	for (uint32_t i = 0; i < nf; i++) {
		const struct th_mesh_face *f = &m->faces[fs[i].slot];
		cur.fstart[i] = c;
		cur.mat[i] = f->material;
		fidx[fs[i].slot] = i;
		c += f->n;
	}
	cur.fstart[nf] = c;
	for (uint32_t fsl = 0; fsl < m->nfaces; fsl++) {
		const struct th_mesh_face *f = &m->faces[fsl];
		if (!f->id)
			continue;
		uint32_t s = cur.fstart[fidx[fsl]];
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next) {
			hc[h] = s + k;
			cur.corner[s + k] = (uint32_t)vidx[m->hes[h].vert];
		}
	}
	for (uint32_t h = 0; h < m->nhes; h++) {
		if (m->hes[h].vert == TH_MESH_NONE)
			continue;
		int32_t t = m->hes[h].twin;
		cur.twin[hc[h]] = t == TH_MESH_NONE ? CC_NO_TWIN : hc[t];
	}
	free(hc);
	free(fidx);
	hc = fidx = NULL;
	for (unsigned l = 0; l + 1 < levels; l++) {
		if ((r = cc_step(&cur, &next, NULL)))
			goto out;
		cc_free(&cur);
		cur = next;
		memset(&next, 0, sizeof(next));
	}
	if ((r = cc_step(&cur, &next, &cedge)))
		goto out;
	/* emit: remove the old faces, move the original vertices, add the new
	 * ones (next's positions), add the final faces: quad c of cur's corner
	 * c (a FACE_ADD and 4 LOOPs each) */
	uint64_t total = (uint64_t)nf + next.nv + (uint64_t)cur.nc * 5;
	if ((r = th_patch_begin(out, total, &limit)))
		goto out;
	r = -E2BIG;
	if (!put_removes(out, limit, fs, nf))
		goto out;
	for (uint32_t i = 0; i < nv; i++) {
		float p[3];
		to_float3(next.pos + 3 * i, p);
		if (same_bits3(p, m->verts[vs[i].slot].pos))
			continue;
		if (!put_pos(out, limit, TH_PL_MESH_OP_VERTEX_MOVE, vs[i].id, p, &r))
			goto out;
	}
	uint32_t ref0 = out->n + 1; /* the local reference of vertex nv */
	for (uint32_t i = nv; i < next.nv; i++) {
		float p[3];
		to_float3(next.pos + 3 * i, p);
		if (!put_pos(out, limit, TH_PL_MESH_OP_VERTEX_ADD, 0, p, &r))
			goto out;
	}
	uint32_t e0 = cur.nv + cur.nf;
	for (uint32_t f = 0; f < cur.nf; f++) {
		uint32_t s = cur.fstart[f], n = cur.fstart[f + 1] - s;
		if (cur.mat[f] >= TH_PL_MATERIALS_MAX) {
			r = -EINVAL;
			goto out;
		}
		for (uint32_t k = 0; k < n; k++) {
			uint32_t q[4] = { cur.corner[s + k], e0 + cedge[s + k], cur.nv + f,
					  e0 + cedge[s + (k ? k - 1 : n - 1)] };
			if (!th_patch_room(out, limit, 5))
				goto out;
			th_patch_put(out, TH_PL_MESH_OP_FACE_ADD, 0, cur.mat[f]);
			for (unsigned j = 0; j < 4; j++) {
				uint32_t v = q[j];
				if (v < nv)
					th_patch_put(out, TH_PL_MESH_OP_LOOP, vs[v].id, TH_PL_MESH_REF_ID);
				else
					th_patch_put(out, TH_PL_MESH_OP_LOOP, ref0 + (v - nv), TH_PL_MESH_REF_LOCAL);
			}
		}
	}
	r = 0;
out:
	if (r < 0)
		op_failed(out, base, r, w, WHY_SUBDIV_TOO_BIG, why);
	cc_free(&cur);
	cc_free(&next);
	free(vs);
	free(fs);
	free(vidx);
	free(hc);
	free(fidx);
	free(cedge);
	return r;
}

/* ---- weld by distance ---------------------------------------------------------- */

/* Cell coordinates are clamped here: clamping keeps two points within one
 * cell of each other, so only the cell's crowding changes, never a result. */
#define WELD_CELL_LIMIT 1125899906842624.0 /* 2^50 */

#define WHY_WELD_DISTANCE "distance: the weld distance must be finite and not negative"
/* The pairs of vertices the spatial hash may compare (n vertices): beyond
 * it the weld distance is large for the mesh (many vertices in a cell) and
 * the work would grow as n squared, so the weld is refused. */
#define WELD_PAIRS_PER_VERTEX 256u
#define WELD_PAIRS_BASE 1000000u
#define WHY_WELD_CROWDED                                                                                            \
	"distance: the weld distance is too large for this mesh (too many vertices within it of each other to "  \
	"compare); weld a smaller distance or fewer vertices"
#define WHY_WELD_NOTHING "distance: no two of the vertices are within the weld distance (nothing to weld)"
#define WHY_WELD_REPEAT                                                                                             \
	"welding would join two corners of one face that are not next to each other (weld a smaller distance or "   \
	"fewer vertices)"
#define WHY_WELD_EDGE                                                                                               \
	"welding would make two faces run along one edge in the same direction (their sides disagree), which is "   \
	"not manifold"
#define WHY_WELD_FAN                                                                                                \
	"welding would make faces meet at a vertex without sharing an edge (a bowtie), which is not manifold"

/* The spatial hash: cells of a little over twice the weld distance, so the
 * points within distance of p lie in the 2 x 2 x 2 cells on p's side of
 * its cell's middle. A cell is named by a 64-bit hash of its coordinates;
 * two cells sharing one only cost extra distance checks. */
#define WELD_CELL_SLACK 1.000001
#define WELD_PREFETCH 16 /* candidates ahead: their positions are read in id order, scattered */
#define WELD_FACE_REPEAT 1 /* a rebuilt face's refusal: two corners made one */
#define WELD_FACE_EDGE 2   /* a rebuilt face along a kept one's directed edge */
#define WELD_OCC_BITS_PER_ENTRY 8u

struct weld_cell {
	uint64_t key;
	int32_t head; /* first candidate in the cell, -1: an unused entry */
};

struct weld_cells {
	struct weld_cell *t;
	uint32_t mask;
	uint64_t *occupied; /* a bit per hash value (key >> 32, WELD_OCC_BITS_PER_ENTRY a table entry):
			     * most cells looked at are empty, and this answers in cache */
	uint64_t occ_mask;
};

static uint64_t cell_key(const int64_t c[3])
{
	return mix64((uint64_t)c[0] * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)c[1] * UINT64_C(0xc2b2ae3d27d4eb4f) ^
		     (uint64_t)c[2]);
}

static struct weld_cell *cell_slot(struct weld_cells *w, uint64_t key)
{
	for (uint32_t i = (uint32_t)key & w->mask;; i = (i + 1) & w->mask) {
		struct weld_cell *e = &w->t[i];
		if (e->head < 0 || e->key == key)
			return e;
	}
}

/* p's cell and, per axis, the neighbour to look at too (-1 or 0: the
 * cells lo .. lo + 1). */
static void cell_of(const float p[3], double inv, int64_t c[3], int64_t lo[3])
{
	for (int d = 0; d < 3; d++) {
		double x = (double)p[d] * inv, t = floor(x);
		bool low = x - t < 0.5;
		if (!(t > -WELD_CELL_LIMIT)) {
			t = -WELD_CELL_LIMIT;
			low = false;
		}
		if (t > WELD_CELL_LIMIT) {
			t = WELD_CELL_LIMIT;
			low = true;
		}
		c[d] = (int64_t)t;
		lo[d] = c[d] - (low ? 1 : 0);
	}
}

static uint32_t uf_find(uint32_t *par, uint32_t i)
{
	while (par[i] != i) {
		par[i] = par[par[i]];
		i = par[i];
	}
	return i;
}

static double dist2(const float a[3], const float b[3])
{
	double s = 0;
	for (int d = 0; d < 3; d++) {
		double t = (double)a[d] - b[d];
		s += t * t;
	}
	return s;
}

/* Clusters of candidates cand[0..n) (ascending id): par[i] = the cluster's
 * lowest index, each pair within distance joined (single linkage). The
 * candidates are visited in slot order (near in space, usually: made
 * together), which keeps the cells in cache, and numbered in that order
 * (k): positions, cell lists and the union-find are indexed by k, so
 * what one vertex reads lies near what the previous one read. The
 * clusters do not depend on the order; each is then named by its lowest
 * candidate index. */
static int weld_cluster(const struct th_mesh *m, const struct th_slot_id *cand, uint32_t n, float distance,
			uint32_t *par, const char **why)
{
	int r = -ENOMEM;
	uint64_t work = 0, work_max = WELD_PAIRS_PER_VERTEX * (uint64_t)n + WELD_PAIRS_BASE;
	struct weld_cells w = { 0 };
	uint64_t cap = 16;
	while (cap < (uint64_t)n * 2)
		cap *= 2;
	int32_t *next = malloc(((size_t)n + 1) * sizeof(*next));
	int32_t *rank = malloc(((size_t)m->nverts + 1) * sizeof(*rank));
	uint32_t *ci = malloc(((size_t)n + 1) * sizeof(*ci));    /* k -> candidate index */
	uint32_t *kp = malloc(((size_t)n + 1) * sizeof(*kp));    /* union-find over k */
	float (*pos)[3] = malloc(((size_t)n + 1) * sizeof(*pos)); /* k -> position */
	w.t = malloc(cap * sizeof(*w.t));
	w.mask = (uint32_t)(cap - 1);
	w.occupied = calloc(cap * WELD_OCC_BITS_PER_ENTRY / 64, sizeof(*w.occupied));
	w.occ_mask = cap * WELD_OCC_BITS_PER_ENTRY - 1;
	if (!next || !rank || !ci || !kp || !pos || !w.t || !w.occupied)
		goto out;
	for (uint32_t v = 0; v < m->nverts; v++)
		rank[v] = -1;
	for (uint32_t i = 0; i < n; i++)
		rank[cand[i].slot] = (int32_t)i;
	for (uint32_t v = 0, k = 0; v < m->nverts; v++)
		if (rank[v] >= 0) {
			ci[k] = (uint32_t)rank[v];
			kp[k] = k;
			memcpy(pos[k++], m->verts[v].pos, sizeof(pos[0]));
		}
	for (uint64_t i = 0; i < cap; i++)
		w.t[i].head = -1;
	double inv = distance > 0 ? 1.0 / (2.0 * distance * WELD_CELL_SLACK) : 1.0;
	double d2max = (double)distance * distance;
	for (uint32_t k = 0; k < n; k++) {
		const float *p = pos[k];
		int64_t c[3], lo[3], q[3];
		cell_of(p, inv, c, lo);
		for (int b = 0; b < 8; b++) {
			q[0] = lo[0] + (b & 1);
			q[1] = lo[1] + (b >> 1 & 1);
			q[2] = lo[2] + (b >> 2);
			uint64_t key = cell_key(q), bit = key >> 32 & w.occ_mask;
			if (!(w.occupied[bit / 64] >> (bit % 64) & 1))
				continue;
			const struct weld_cell *e = cell_slot(&w, key);
			for (int32_t j = e->head; j >= 0; j = next[j]) {
				if (++work > work_max) {
					*why = WHY_WELD_CROWDED;
					r = -EINVAL;
					goto out;
				}
				uint32_t ri = uf_find(kp, k), rj = uf_find(kp, (uint32_t)j);
				if (ri == rj || dist2(p, pos[j]) > d2max)
					continue;
				if (ri < rj)
					kp[rj] = ri;
				else
					kp[ri] = rj;
			}
		}
		uint64_t key = cell_key(c), bit = key >> 32 & w.occ_mask;
		w.occupied[bit / 64] |= UINT64_C(1) << (bit % 64);
		struct weld_cell *e = cell_slot(&w, key);
		e->key = key;
		next[k] = e->head;
		e->head = (int32_t)k;
	}
	/* each cluster by its lowest candidate index (next: reused, per root) */
	for (uint32_t k = 0; k < n; k++)
		next[k] = -1;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t root = uf_find(kp, k);
		if (next[root] < 0 || ci[k] < (uint32_t)next[root])
			next[root] = (int32_t)ci[k];
	}
	for (uint32_t k = 0; k < n; k++)
		par[ci[k]] = (uint32_t)next[uf_find(kp, k)];
	r = 0;
out:
	free(rank);
	free(next);
	free(ci);
	free(kp);
	free(pos);
	free(w.t);
	free(w.occupied);
	return r;
}

struct link {
	int32_t prev, next; /* the corners before and after a vertex in one face */
};

static int link_prev_cmp(const void *a, const void *b)
{
	int32_t x = ((const struct link *)a)->prev, y = ((const struct link *)b)->prev;
	return x < y ? -1 : x > y;
}

static int i32_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return x < y ? -1 : x > y;
}

/* Whether the faces around one vertex, given as links sorted by prev (each
 * directed edge used once), form one fan: a single chain or cycle. */
static bool links_one_fan(const struct link *l, uint32_t k, int32_t *nexts)
{
	if (k <= 1)
		return true;
	for (uint32_t i = 0; i < k; i++)
		nexts[i] = l[i].next;
	if (k < SORT_SMALL) {
		for (uint32_t i = 1; i < k; i++) {
			int32_t x = nexts[i];
			uint32_t j = i;
			for (; j > 0 && nexts[j - 1] > x; j--)
				nexts[j] = nexts[j - 1];
			nexts[j] = x;
		}
	} else {
		qsort(nexts, k, sizeof(*nexts), i32_cmp);
	}
	uint32_t start = 0, starts = 0;
	for (uint32_t i = 0; i < k; i++)
		if (!bsearch(&l[i].prev, nexts, k, sizeof(*nexts), i32_cmp)) {
			start = i;
			starts++;
		}
	if (starts > 1)
		return false;
	uint32_t seen = 1;
	for (uint32_t cur = start; seen <= k;) {
		struct link key = { .prev = l[cur].next };
		const struct link *nx = bsearch(&key, l, k, sizeof(*l), link_prev_cmp);
		if (!nx || (uint32_t)(nx - l) == start)
			break;
		cur = (uint32_t)(nx - l);
		seen++;
	}
	return seen == k;
}

/* The rebuilt faces of a weld and the checks that the result stays
 * manifold. */
struct weld_faces {
	uint32_t n, nc;
	uint32_t *start;    /* n + 1 */
	int32_t *corner;    /* vertex slots */
	uint32_t *mat;
};

struct link_buf {
	struct link *l;
	int32_t *nexts;
	uint32_t k, cap;
};

static int link_push(struct link_buf *b, int32_t prev, int32_t next)
{
	if (b->k == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 64;
		struct link *nl = th_array_realloc(b->l, cap, sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		b->l = nl;
		int32_t *nn = th_array_realloc(b->nexts, cap, sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		b->nexts = nn;
		b->cap = cap;
	}
	b->l[b->k++] = (struct link){ prev, next };
	return 0;
}

/* The links of the faces the weld keeps around vertex slot v: the mesh's
 * fan there, walked one way and, from a boundary, the other. */
static int links_kept(const struct th_mesh *m, const uint8_t *affected, int32_t v, struct link_buf *b)
{
	int32_t h0 = m->verts[v].he, h = h0, t = TH_MESH_NONE;
	uint32_t guard = 0;
	int r;
	if (h0 == TH_MESH_NONE)
		return 0;
	for (;;) {
		if (!affected[m->hes[h].face] &&
		    (r = link_push(b, m->hes[m->hes[h].prev].vert, m->hes[m->hes[h].next].vert)))
			return r;
		t = m->hes[m->hes[h].prev].twin;
		if (t == TH_MESH_NONE || t == h0 || ++guard > m->live_hes)
			break;
		h = t;
	}
	if (t != TH_MESH_NONE)
		return 0;
	for (int32_t u = m->hes[h0].twin; u != TH_MESH_NONE && ++guard <= m->live_hes; u = m->hes[h].twin) {
		h = m->hes[u].next;
		if (!affected[m->hes[h].face] &&
		    (r = link_push(b, m->hes[m->hes[h].prev].vert, m->hes[m->hes[h].next].vert)))
			return r;
	}
	return 0;
}

/* Every changed vertex's faces must still form one fan: its faces that the
 * weld keeps (from the mesh; kept[v]: v has one) plus the rebuilt ones
 * (from wf). The rebuilt faces' links are bucketed by vertex first, so
 * each vertex reads its own in one run; the vertices are checked in slot
 * order (check[v]: changed), and since every directed edge is used once
 * by now (the checks before), the links' order does not matter. */
static int weld_check_fans(const struct th_mesh *m, const uint8_t *affected, const uint8_t *kept,
			   const struct weld_faces *wf, const uint8_t *check, const char **why)
{
	int r = -ENOMEM;
	struct link_buf b = { 0 };
	uint32_t *vstart = calloc((size_t)m->nverts + 2, sizeof(*vstart));
	struct link *wl = malloc((size_t)wf->nc * sizeof(*wl) + 1); /* links by vertex */
	if (!vstart || !wl)
		goto out;
	for (uint32_t c = 0; c < wf->nc; c++)
		vstart[wf->corner[c] + 2]++;
	for (uint32_t v = 0; v < m->nverts; v++)
		vstart[v + 2] += vstart[v + 1];
	/* vstart[v + 1]: where v's links go next; after the fill, vstart[v] */
	for (uint32_t f = 0; f < wf->n; f++) {
		uint32_t s = wf->start[f], n = wf->start[f + 1] - s;
		for (uint32_t k = 0; k < n; k++)
			wl[vstart[wf->corner[s + k] + 1]++] =
				(struct link){ wf->corner[s + (k ? k - 1 : n - 1)], wf->corner[s + (k + 1 == n ? 0 : k + 1)] };
	}
	for (uint32_t v = 0; v < m->nverts; v++) {
		if (!check[v])
			continue;
		b.k = 0;
		if (kept[v] && (r = links_kept(m, affected, (int32_t)v, &b)))
			goto out;
		for (uint32_t x = vstart[v]; x < vstart[v + 1]; x++)
			if ((r = link_push(&b, wl[x].prev, wl[x].next)))
				goto out;
		if (b.k < SORT_SMALL) {
			for (uint32_t x = 1; x < b.k; x++) {
				struct link y = b.l[x];
				uint32_t z = x;
				for (; z > 0 && b.l[z - 1].prev > y.prev; z--)
					b.l[z] = b.l[z - 1];
				b.l[z] = y;
			}
		} else {
			qsort(b.l, b.k, sizeof(*b.l), link_prev_cmp);
		}
		if (!links_one_fan(b.l, b.k, b.nexts)) {
			*why = WHY_WELD_FAN;
			r = -EINVAL;
			goto out;
		}
	}
	r = 0;
out:
	free(vstart);
	free(wl);
	free(b.l);
	free(b.nexts);
	return r;
}

int th_op_weld(const struct th_mesh *m, const uint64_t *verts, unsigned n, float distance, struct th_patch *out,
	       const char **why)
{
	const char *w = NULL;
	uint32_t base = out->n, nc = 0, naff = 0, limit;
	struct th_slot_id *cand = NULL, *aff = NULL;
	uint32_t *par = NULL;
	double *sum = NULL;
	int32_t *tgt = NULL;
	uint8_t *affected = NULL, *seen = NULL, *kept = NULL;
	struct weld_faces wf = { 0 };
	struct th_slot_id *ekeys = NULL; /* the rebuilt faces' directed edges */
	uint32_t nekeys = 0;
	uint32_t *arank = NULL, *aoff = NULL; /* per face slot: rank in aff; per rank: corners before */
	uint16_t *alen = NULL;                 /* per rank: corners rebuilt, 0 collapsed */
	uint8_t *aflag = NULL;                 /* per rank: WELD_FACE_REPEAT / _EDGE */
	uint32_t *amat = NULL;                 /* per rank: the face's material */
	int32_t *acorner = NULL;               /* rebuilt corners (slots) at aoff[rank] */
	uint64_t *aid = NULL, *wid = NULL;     /* their ids; wid: of wf's corners */
	int r;
	if (!isfinite(distance) || distance < 0) {
		w = WHY_WELD_DISTANCE;
		r = -EINVAL;
		goto out;
	}
	if (verts) {
		if ((r = resolve_set(m, verts, n, false, &cand, &w)))
			goto out;
		nc = n;
	} else if (!(cand = th_mesh_live_sorted(m, false, &nc))) {
		r = -ENOMEM;
		goto out;
	}
	r = -ENOMEM;
	if (!(par = malloc(((size_t)nc + 1) * sizeof(*par))))
		goto out;
	if ((r = weld_cluster(m, cand, nc, distance, par, &w)))
		goto out;
	r = -ENOMEM;
	/* each cluster's mean (summed in ascending id order) and where every
	 * vertex slot goes */
	if (!(sum = calloc(((size_t)nc + 1) * 4, sizeof(*sum))) ||
	    !(tgt = malloc(((size_t)m->nverts + 1) * sizeof(*tgt))))
		goto out;
	for (uint32_t v = 0; v < m->nverts; v++)
		tgt[v] = (int32_t)v;
	uint32_t merged = 0;
	for (uint32_t i = 0; i < nc; i++) {
		double *s = sum + 4 * (size_t)par[i];
		if (i + WELD_PREFETCH < nc)
			__builtin_prefetch(m->verts[cand[i + WELD_PREFETCH].slot].pos);
		for (int d = 0; d < 3; d++)
			s[d] += m->verts[cand[i].slot].pos[d];
		s[3] += 1;
		if (par[i] != i) {
			tgt[cand[i].slot] = cand[par[i]].slot;
			merged++;
		}
	}
	if (!merged) {
		w = WHY_WELD_NOTHING;
		r = -EINVAL;
		goto out;
	}
	/* the faces a merged vertex changes, rebuilt over the cluster's vertex */
	if (!(affected = calloc((size_t)m->nfaces + 1, 1)) ||
	    !(aff = malloc(((size_t)m->live_faces + 1) * sizeof(*aff))))
		goto out;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		const struct th_mesh_face *fc = &m->faces[f];
		if (!fc->id)
			continue;
		int32_t h = fc->he;
		for (unsigned k = 0; k < fc->n; k++, h = m->hes[h].next)
			if (tgt[m->hes[h].vert] != m->hes[h].vert) {
				affected[f] = 1;
				aff[naff++] = (struct th_slot_id){ fc->id, (int32_t)f };
				break;
			}
	}
	th_slot_sort(aff, naff);
	/* the corners of the faces kept: only an edge between two of them can
	 * be a kept face's */
	if (!(kept = calloc((size_t)m->nverts + 1, 1)))
		goto out;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		const struct th_mesh_face *fc = &m->faces[f];
		if (!fc->id || affected[f])
			continue;
		int32_t h = fc->he;
		for (unsigned k = 0; k < fc->n; k++, h = m->hes[h].next)
			kept[m->hes[h].vert] = 1;
	}
	/* where each changed face's corners go (ascending id), then the faces
	 * rebuilt walking them in slot order (the half-edges in memory order),
	 * each marked with what would refuse it; the first marked in id order
	 * is the weld's refusal, as if they had been rebuilt in id order */
	if (!(arank = malloc(((size_t)m->nfaces + 1) * sizeof(*arank))) ||
	    !(aoff = malloc(((size_t)naff + 1) * sizeof(*aoff))) || !(alen = malloc(((size_t)naff + 1) * sizeof(*alen))) ||
	    !(aflag = calloc((size_t)naff + 1, 1)) || !(amat = malloc(((size_t)naff + 1) * sizeof(*amat))))
		goto out;
	uint32_t ncorners = 0;
	for (uint32_t i = 0; i < naff; i++) {
		arank[aff[i].slot] = i;
		aoff[i] = ncorners;
		ncorners += m->faces[aff[i].slot].n;
	}
	acorner = malloc((size_t)ncorners * sizeof(*acorner) + 1);
	aid = malloc((size_t)ncorners * sizeof(*aid) + 1);
	seen = calloc((size_t)m->nverts + 1, 1);
	if (!acorner || !aid || !seen || !(ekeys = malloc((size_t)ncorners * sizeof(*ekeys) + 1)))
		goto out;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (!affected[f])
			continue;
		const struct th_mesh_face *fc = &m->faces[f];
		uint32_t i = arank[f];
		int32_t *cs = acorner + aoff[i], h = fc->he;
		amat[i] = fc->material;
		uint32_t k = 0;
		for (unsigned c = 0; c < fc->n; c++, h = m->hes[h].next) {
			int32_t t = tgt[m->hes[h].vert];
			seen[t] = 1;
			if (!k || cs[k - 1] != t)
				cs[k++] = t;
		}
		while (k > 1 && cs[k - 1] == cs[0])
			k--;
		alen[i] = (uint16_t)(k < 3 ? 0 : k);
		if (k < 3) /* collapsed: removed */
			continue;
		for (uint32_t a = 1; a < k && !aflag[i]; a++)
			for (uint32_t b = 0; b < a; b++)
				if (cs[a] == cs[b]) {
					aflag[i] = WELD_FACE_REPEAT;
					break;
				}
		if (aflag[i])
			continue;
		for (uint32_t a = 0; a < k; a++) {
			int32_t u = cs[a], v = cs[a + 1 == k ? 0 : a + 1];
			aid[aoff[i] + a] = m->verts[u].id;
			ekeys[nekeys++] = (struct th_slot_id){ (uint64_t)(uint32_t)u << 32 | (uint32_t)v, 0 };
			int32_t he = kept[u] && kept[v] ? th_mesh_he_find(m, u, v) : TH_MESH_NONE;
			if (he != TH_MESH_NONE && !affected[m->hes[he].face]) {
				aflag[i] = WELD_FACE_EDGE;
				break;
			}
		}
	}
	for (uint32_t i = 0; i < naff; i++)
		if (aflag[i]) {
			w = aflag[i] == WELD_FACE_REPEAT ? WHY_WELD_REPEAT : WHY_WELD_EDGE;
			r = -EINVAL;
			goto out;
		}
	/* the rebuilt faces in ascending id, packed */
	wf.start = malloc(((size_t)naff + 1) * sizeof(*wf.start));
	wf.corner = malloc((size_t)ncorners * sizeof(*wf.corner) + 1);
	wf.mat = malloc(((size_t)naff + 1) * sizeof(*wf.mat));
	wid = malloc((size_t)ncorners * sizeof(*wid) + 1);
	if (!wf.start || !wf.corner || !wf.mat || !wid)
		goto out;
	for (uint32_t i = 0; i < naff; i++) {
		if (!alen[i])
			continue;
		memcpy(wf.corner + wf.nc, acorner + aoff[i], alen[i] * sizeof(*wf.corner));
		memcpy(wid + wf.nc, aid + aoff[i], alen[i] * sizeof(*wid));
		wf.start[wf.n] = wf.nc;
		wf.mat[wf.n++] = amat[i];
		wf.nc += alen[i];
	}
	wf.start[wf.n] = wf.nc;
	/* two rebuilt faces along one directed edge */
	th_slot_sort(ekeys, nekeys);
	for (uint32_t i = 1; i < nekeys; i++)
		if (ekeys[i].id == ekeys[i - 1].id) {
			w = WHY_WELD_EDGE;
			r = -EINVAL;
			goto out;
		}
	if ((r = weld_check_fans(m, affected, kept, &wf, seen, &w)))
		goto out;
	/* emit: remove the changed faces, move each cluster's vertex to the
	 * mean, remove the others, add the rebuilt faces */
	uint64_t total = (uint64_t)naff + nc + wf.n + wf.nc;
	if ((r = th_patch_begin(out, total, &limit)))
		goto out;
	r = -E2BIG;
	if (!put_removes(out, limit, aff, naff))
		goto out;
	for (uint32_t i = 0; i < nc; i++) {
		const double *s = sum + 4 * (size_t)i;
		if (par[i] != i || s[3] < 2)
			continue;
		double md[3] = { s[0] / s[3], s[1] / s[3], s[2] / s[3] };
		float p[3];
		to_float3(md, p);
		if (same_bits3(p, m->verts[cand[i].slot].pos))
			continue;
		if (!put_pos(out, limit, TH_PL_MESH_OP_VERTEX_MOVE, cand[i].id, p, &r))
			goto out;
	}
	for (uint32_t i = 0; i < nc; i++) {
		if (par[i] == i)
			continue;
		if (!th_patch_room(out, limit, 1))
			goto out;
		th_patch_put(out, TH_PL_MESH_OP_REMOVE, cand[i].id, 0);
	}
	for (uint32_t f = 0; f < wf.n; f++) {
		uint32_t s = wf.start[f], k = wf.start[f + 1] - s;
		if (wf.mat[f] >= TH_PL_MATERIALS_MAX) {
			r = -EINVAL;
			goto out;
		}
		if (!th_patch_room(out, limit, k + 1))
			goto out;
		th_patch_put(out, TH_PL_MESH_OP_FACE_ADD, 0, wf.mat[f]);
		for (uint32_t c = 0; c < k; c++)
			th_patch_put(out, TH_PL_MESH_OP_LOOP, wid[s + c], TH_PL_MESH_REF_ID);
	}
	r = 0;
out:
	if (r < 0)
		op_failed(out, base, r, w, WHY_WELD_TOO_BIG, why);
	free(cand);
	free(aff);
	free(par);
	free(sum);
	free(tgt);
	free(affected);
	free(seen);
	free(kept);
	free(wf.start);
	free(wf.corner);
	free(wf.mat);
	free(ekeys);
	free(arank);
	free(aoff);
	free(alen);
	free(aflag);
	free(amat);
	free(acorner);
	free(aid);
	free(wid);
	return r;
}
