/* Move, rotate, scale, duplicate, mirror, flip and delete (th_meshop.h,
 * docs/mesh-ops.md). Pure: each reads the mesh, validates, and appends ops
 * or returns an error with the patch as it was. Elements are visited in
 * ascending id, so the same mesh and parameters give the same ops. */
#include "th_meshop.h"
#include "th_meshop_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* |det| of a transform's linear part below this is a singular map (a
 * scale of 1e-4 on every axis is 1e-12, still accepted). */
#define XF_DET_MIN 1e-15
#define XF_WELD_MAX TH_PRIM_SIZE_MAX

/* ---- affine maps ---------------------------------------------------------------- */

void th_affine_identity(struct th_affine *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < 3; i++)
		a->m[i][i] = 1;
}

void th_affine_translate(struct th_affine *a, const float d[3])
{
	th_affine_identity(a);
	for (int i = 0; i < 3; i++)
		a->m[i][3] = d[i];
}

/* Linear part L (double) about pivot c: the translation is c - L c. */
static void about_pivot(struct th_affine *a, const double l[3][3], const float pivot[3])
{
	for (int i = 0; i < 3; i++) {
		double t = pivot[i];
		for (int k = 0; k < 3; k++) {
			a->m[i][k] = (float)l[i][k];
			t -= l[i][k] * pivot[k];
		}
		a->m[i][3] = (float)t;
	}
}

void th_affine_rotate(struct th_affine *a, const float q[4], const float pivot[3])
{
	double x = q[0], y = q[1], z = q[2], w = q[3];
	double n = sqrt(x * x + y * y + z * z + w * w);
	if (!(n > 0) || !isfinite(n)) {
		th_affine_identity(a);
		return;
	}
	x /= n, y /= n, z /= n, w /= n;
	const double l[3][3] = {
		{ 1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w) },
		{ 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w) },
		{ 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y) },
	};
	about_pivot(a, l, pivot);
}

void th_affine_scale(struct th_affine *a, const float s[3], const float pivot[3])
{
	const double l[3][3] = { { s[0], 0, 0 }, { 0, s[1], 0 }, { 0, 0, s[2] } };
	about_pivot(a, l, pivot);
}

void th_affine_mul(struct th_affine *out, const struct th_affine *a, const struct th_affine *b)
{
	struct th_affine r;
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++) {
			double s = k == 3 ? a->m[i][3] : 0;
			for (int t = 0; t < 3; t++)
				s += (double)a->m[i][t] * b->m[t][k];
			r.m[i][k] = (float)s;
		}
	*out = r;
}

void th_affine_apply(const struct th_affine *a, const float p[3], float out[3])
{
	float r[3];
	for (int i = 0; i < 3; i++)
		r[i] = (float)((double)a->m[i][0] * p[0] + (double)a->m[i][1] * p[1] + (double)a->m[i][2] * p[2] +
			       a->m[i][3]);
	memcpy(out, r, sizeof(r));
}

static double affine_det(const struct th_affine *a)
{
	const float(*m)[4] = a->m;
	return (double)m[0][0] * ((double)m[1][1] * m[2][2] - (double)m[1][2] * m[2][1]) -
	       (double)m[0][1] * ((double)m[1][0] * m[2][2] - (double)m[1][2] * m[2][0]) +
	       (double)m[0][2] * ((double)m[1][0] * m[2][1] - (double)m[1][1] * m[2][0]);
}

/* ---- id sets ---------------------------------------------------------------------- */


/* An undirected edge, lower id first. */
struct xf_edge {
	uint64_t lo, hi;
};
static struct xf_edge edge_of(uint64_t a, uint64_t b)
{
	return a < b ? (struct xf_edge){ a, b } : (struct xf_edge){ b, a };
}
static int cmp_edge(const void *a, const void *b)
{
	const struct xf_edge *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* The slots of every live vertex (faces: false) or face, in ascending id
 * order (*out, free it). */
static int all_slots(const struct th_mesh *m, bool faces, int32_t **out, uint32_t *n)
{
	uint32_t k = 0;
	struct th_slot_id *p = th_mesh_live_sorted(m, faces, &k);
	int32_t *s = malloc(((size_t)k + 1) * sizeof(*s));
	if (!p || !s) {
		free(p);
		free(s);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < k; i++)
		s[i] = p[i].slot;
	free(p);
	*out = s;
	*n = k;
	return 0;
}

/* The slots of ids[n] (ascending, distinct, every one a live element). */
static int slots_of(const struct th_mesh *m, bool faces, const uint64_t *ids, uint32_t n, int32_t **out)
{
	int32_t *s = malloc(((size_t)n + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		s[i] = faces ? th_mesh_face_find(m, ids[i]) : th_mesh_vert_find(m, ids[i]);
	*out = s;
	return 0;
}

/* An operation's end: after a refusal (w, its sentence) or an error the
 * patch goes back to its n0 ops. */
static int xf_end(struct th_patch *out, uint32_t n0, const char *w, int r, const char **why)
{
	if (w || r)
		th_patch_truncate(out, n0);
	if (w)
		return *why = w, -EINVAL;
	return r;
}

/* ---- transform ----------------------------------------------------------------- */

int th_op_transform(const struct th_mesh *m, const uint64_t *verts, unsigned n, const struct th_affine *a,
		    struct th_patch *out, const char **why)
{
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++)
			if (!isfinite(a->m[i][k]))
				return *why = "transform: the map must be finite", -EINVAL;
	if (!(fabs(affine_det(a)) >= XF_DET_MIN))
		return *why = "transform: the map is singular (it flattens the vertices onto a plane, line or point)",
		       -EINVAL;
	if (verts && !n)
		return *why = "verts: no vertex to move", -EINVAL;
	uint64_t *ids = NULL;
	int32_t *vs = NULL;
	uint32_t cnt = n;
	int r = 0;
	const char *w = NULL;
	if (verts) {
		r = th_u64_sorted_set(verts, n, &ids);
		if (r == -EINVAL)
			return *why = "verts: a vertex is named twice", r;
		for (uint32_t i = 0; !r && i < cnt && !w; i++)
			if (th_mesh_vert_find(m, ids[i]) == TH_MESH_NONE)
				w = "verts: a vertex does not exist in the mesh";
		if (!r && !w)
			r = slots_of(m, false, ids, cnt, &vs);
	} else {
		r = all_slots(m, false, &vs, &cnt);
		if (!r && !cnt)
			w = "the mesh has no vertices to move";
	}
	uint32_t n0 = out->n, moved = 0;
	for (uint32_t i = 0; !r && i < cnt && !w; i++) {
		const struct th_mesh_vert *v = &m->verts[vs[i]];
		float q[3];
		th_affine_apply(a, v->pos, q);
		if (!isfinite(q[0]) || !isfinite(q[1]) || !isfinite(q[2]))
			w = "transform: a vertex would move to a non-finite position";
		else if (memcmp(v->pos, q, sizeof(q))) {
			r = th_patch_vertex_move(out, v->id, q);
			moved++;
		}
	}
	if (!w && !r && !moved)
		w = "transform: the map leaves every vertex where it is";
	free(ids);
	free(vs);
	return xf_end(out, n0, w, r, why);
}

int th_op_vertices_of(const struct th_mesh *m, const uint64_t *faces, unsigned nf, const uint64_t *ea,
		      const uint64_t *eb, unsigned ne, uint64_t *out, unsigned cap)
{
	if ((nf && !faces) || (ne && (!ea || !eb)))
		return -EINVAL;
	uint64_t *fs = NULL;
	int r = th_u64_sorted_set(faces, nf, &fs);
	if (r < 0)
		return r;
	size_t max = (size_t)nf * TH_MESH_FACE_VERTS_MAX + 2 * (size_t)ne;
	uint64_t *all = malloc((max + 1) * sizeof(*all));
	struct xf_edge *es = malloc(((size_t)ne + 1) * sizeof(*es));
	size_t k = 0;
	if (!all || !es) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < nf && !r; i++) {
		int32_t f = th_mesh_face_find(m, fs[i]);
		int c = f == TH_MESH_NONE ? -EINVAL : th_mesh_face_loop(m, f, all + k, TH_MESH_FACE_VERTS_MAX);
		if (c < 0)
			r = -EINVAL;
		else
			k += (size_t)c;
	}
	for (unsigned i = 0; i < ne && !r; i++) {
		int32_t va = th_mesh_vert_find(m, ea[i]), vb = th_mesh_vert_find(m, eb[i]);
		if (va == TH_MESH_NONE || vb == TH_MESH_NONE || va == vb ||
		    (th_mesh_he_find(m, va, vb) == TH_MESH_NONE && th_mesh_he_find(m, vb, va) == TH_MESH_NONE))
			r = -EINVAL;
		es[i] = edge_of(ea[i], eb[i]);
		all[k++] = ea[i];
		all[k++] = eb[i];
	}
	if (!r) { /* an edge named twice (in either order) */
		qsort(es, ne, sizeof(*es), cmp_edge);
		for (unsigned i = 1; i < ne && !r; i++)
			if (!cmp_edge(&es[i], &es[i - 1]))
				r = -EINVAL;
	}
	if (r)
		goto out;
	size_t u = th_u64_sort_unique(all, k);
	if (u > cap) {
		r = -ENOBUFS;
		goto out;
	}
	if (u)
		memcpy(out, all, u * sizeof(*out));
	r = (int)u;
out:
	free(fs);
	free(all);
	free(es);
	return r;
}

/* ---- shared pieces ---------------------------------------------------------------- */

/* Checks a face set: *sorted the ids ascending (free it). */
static const char *face_set(const struct th_mesh *m, const uint64_t *faces, unsigned n, uint64_t **sorted, int *err)
{
	*err = 0;
	if (n && !faces)
		return "faces: missing";
	int r = th_u64_sorted_set(faces, n, sorted);
	if (r == -EINVAL)
		return "faces: a face is named twice";
	if (r < 0) {
		*err = r;
		return NULL;
	}
	for (unsigned i = 0; i < n; i++)
		if (th_mesh_face_find(m, (*sorted)[i]) == TH_MESH_NONE) {
			free(*sorted);
			*sorted = NULL;
			return "faces: a face does not exist in the mesh";
		}
	return NULL;
}

/* The slots of the faces an operation works on (*fsl, *nf; free them): the
 * n faces named, checked (*fs their ids ascending), or with none named every
 * live face, refused with the sentence `none` when `empty`. Returns the
 * refusal or NULL; *err an allocation failure. */
static const char *face_slots(const struct th_mesh *m, const uint64_t *faces, unsigned n, bool empty,
			      const char *none, uint64_t **fs, int32_t **fsl, uint32_t *nf, int *err)
{
	*err = 0;
	if (!n) {
		if (empty)
			return none;
		*err = all_slots(m, true, fsl, nf);
		return NULL;
	}
	const char *w = face_set(m, faces, n, fs, err);
	if (!w && !*err)
		*err = slots_of(m, true, *fs, n, fsl);
	*nf = n;
	return w;
}

/* ---- fans: splitting a vertex whose faces would not be one fan -------------------- */

/* The outgoing half-edges of vertex slot v in rotation order (consecutive
 * ones in faces that share an edge) into hs; *closed when the last and the
 * first share one too (v is interior). Returns the count. */
static uint32_t fan_order(const struct th_mesh *m, int32_t v, int32_t *hs, bool *closed)
{
	int32_t h0 = m->verts[v].he, h = h0, start = h0;
	*closed = false;
	for (;;) { /* back to the boundary, or round to h0 */
		int32_t t = m->hes[h].twin;
		if (t == TH_MESH_NONE)
			break;
		h = m->hes[t].next;
		if (h == h0) {
			*closed = true;
			break;
		}
		start = h;
	}
	uint32_t k = 0;
	h = start;
	do {
		hs[k++] = h;
		int32_t t = m->hes[m->hes[h].prev].twin;
		h = t;
	} while (h != TH_MESH_NONE && h != start && k < m->nhes);
	return k;
}

struct run {
	uint64_t min_face;
	uint32_t start, len;
};

struct del {
	const struct th_mesh *m;
	bool *dead_face;      /* by face slot */
	uint8_t *dead_vert;   /* by vertex slot */
	uint32_t *corner_new; /* by half-edge: 1 + the new vertex replacing its corner, 0 none */
	bool *reshaped;       /* by face slot */
	int32_t *hs;          /* fan_order's scratch */
	struct run *runs;     /* split_bowtie's scratch */
	int32_t *new_from;    /* new vertex i: the slot of the vertex it splits from */
	uint32_t nnew;
	uint64_t *reshaped_ids; /* the faces reshaped marks, in the order marked */
	uint32_t nreshaped;
};

/* The per-slot arrays of a struct del for mesh m (0 or -ENOMEM). */
static int del_alloc(struct del *s, const struct th_mesh *m)
{
	memset(s, 0, sizeof(*s));
	s->m = m;
	s->dead_face = calloc((size_t)m->nfaces + 1, sizeof(*s->dead_face));
	s->reshaped = calloc((size_t)m->nfaces + 1, sizeof(*s->reshaped));
	s->dead_vert = calloc((size_t)m->nverts + 1, sizeof(*s->dead_vert));
	s->corner_new = calloc((size_t)m->nhes + 1, sizeof(*s->corner_new));
	s->hs = malloc(((size_t)m->nhes + 1) * sizeof(*s->hs));
	s->runs = malloc(((size_t)m->nhes + 1) * sizeof(*s->runs));
	s->new_from = malloc(((size_t)m->nhes + 1) * sizeof(*s->new_from));
	s->reshaped_ids = malloc(((size_t)m->nfaces + 1) * sizeof(*s->reshaped_ids));
	bool ok = s->dead_face && s->reshaped && s->dead_vert && s->corner_new && s->hs && s->runs && s->new_from &&
		  s->reshaped_ids;
	return ok ? 0 : -ENOMEM;
}

static void del_free(struct del *s)
{
	free(s->dead_face);
	free(s->reshaped);
	free(s->dead_vert);
	free(s->corner_new);
	free(s->hs);
	free(s->runs);
	free(s->new_from);
	free(s->reshaped_ids);
	memset(s, 0, sizeof(*s));
}

static int cmp_run(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	return x->min_face < y->min_face ? -1 : x->min_face > y->min_face;
}

/* Vertex slot v keeps the fan (of the faces not marked dead) whose lowest
 * face id is lowest; every other fan gets a new vertex at the same place
 * (new_from, corner_new). Delete uses it for the bowties a deletion leaves,
 * duplicate for the faces of a selection that meet at a vertex only. */
static void split_bowtie(struct del *s, int32_t v)
{
	const struct th_mesh *m = s->m;
	bool closed;
	uint32_t k = fan_order(m, v, s->hs, &closed), nr = 0, first = 0;
	if (closed) { /* start the walk just after a deleted face */
		while (first < k && !s->dead_face[m->hes[s->hs[first]].face])
			first++;
		if (first == k)
			return;
	}
	for (uint32_t i = 0; i < k; i++) {
		uint32_t at = (first + i) % k;
		int32_t f = m->hes[s->hs[at]].face;
		if (s->dead_face[f])
			continue;
		bool joins = i > 0 && !s->dead_face[m->hes[s->hs[(first + i - 1) % k]].face];
		if (!joins)
			s->runs[nr++] = (struct run){ .min_face = m->faces[f].id, .start = at, .len = 0 };
		struct run *ru = &s->runs[nr - 1];
		ru->len++;
		if (m->faces[f].id < ru->min_face)
			ru->min_face = m->faces[f].id;
	}
	if (nr < 2)
		return;
	qsort(s->runs, nr, sizeof(*s->runs), cmp_run);
	for (uint32_t q = 1; q < nr; q++) {
		s->new_from[s->nnew++] = v;
		for (uint32_t i = 0; i < s->runs[q].len; i++) {
			int32_t h = s->hs[(s->runs[q].start + i) % k];
			int32_t f = m->hes[h].face;
			s->corner_new[h] = s->nnew;
			if (!s->reshaped[f])
				s->reshaped_ids[s->nreshaped++] = m->faces[f].id;
			s->reshaped[f] = true;
		}
	}
}

/* ---- duplicate ------------------------------------------------------------------ */

/* The copy of vertex slot v at p + offset; -EINVAL for a non-finite one. */
static int copy_vertex(struct th_patch *out, const float p[3], const float offset[3])
{
	float q[3];
	for (int k = 0; k < 3; k++)
		q[k] = (float)((double)p[k] + offset[k]);
	if (!th_finite3(q))
		return -EINVAL;
	int r = th_patch_vertex_add(out, q);
	return r < 0 ? r : 0;
}

int th_op_duplicate(const struct th_mesh *m, const uint64_t *faces, unsigned n, const float offset[3],
		    struct th_patch *out, const char **why)
{
	if (!th_finite3(offset))
		return *why = "offset: must be finite", -EINVAL;
	uint64_t *fs = NULL, *ids = NULL;
	int32_t *fsl = NULL, *vsl = NULL;
	uint32_t nf = n, nv = 0, n0 = out->n;
	uint32_t *ref = NULL; /* by vertex slot: its copy's local reference */
	struct del s = { .m = m };
	int r = 0;
	const char *w = face_slots(m, faces, n, !m->live_verts, "the mesh is empty: there is nothing to duplicate", &fs,
				   &fsl, &nf, &r);
	if (!n && !w && !r)
		r = all_slots(m, false, &vsl, &nv);
	if (w || r)
		goto out;
	if (!(ref = calloc((size_t)m->nverts + 1, sizeof(*ref)))) {
		r = -ENOMEM;
		goto out;
	}
	if (n) {
		/* the corners of the faces, ascending id; a corner where selected
		 * faces meet at the vertex only gets a copy per fan, so the copy
		 * has no bowtie */
		ids = malloc(((size_t)nf * TH_MESH_FACE_VERTS_MAX + 1) * sizeof(*ids));
		if (!ids || (r = del_alloc(&s, m))) {
			r = -ENOMEM;
			goto out;
		}
		for (uint32_t f = 0; f < m->nfaces; f++)
			s.dead_face[f] = true;
		for (uint32_t i = 0; i < nf; i++) {
			s.dead_face[fsl[i]] = false;
			nv += (uint32_t)th_mesh_face_loop(m, fsl[i], ids + nv, TH_MESH_FACE_VERTS_MAX);
		}
		nv = (uint32_t)th_u64_sort_unique(ids, nv);
		if ((r = slots_of(m, false, ids, nv, &vsl)))
			goto out;
		for (uint32_t i = 0; i < nv; i++)
			split_bowtie(&s, vsl[i]);
	}
	/* vertex i's copy is local reference first + i; extra copy k is
	 * first + nv + k */
	uint32_t first = n0 + 1;
	for (uint32_t i = 0; i < nv && !r; i++) {
		ref[vsl[i]] = first + i;
		r = copy_vertex(out, m->verts[vsl[i]].pos, offset);
	}
	for (uint32_t k = 0; k < s.nnew && !r; k++)
		r = copy_vertex(out, m->verts[s.new_from[k]].pos, offset);
	if (r == -EINVAL)
		w = "offset: a copied vertex would be at a non-finite position";
	for (uint32_t i = 0; i < nf && !r; i++) {
		const struct th_mesh_face *f = &m->faces[fsl[i]];
		int32_t h = f->he;
		struct th_pref c[TH_MESH_FACE_VERTS_MAX];
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next) {
			uint32_t extra = s.corner_new ? s.corner_new[h] : 0;
			c[k] = th_pref_local(extra ? first + nv + extra - 1 : ref[m->hes[h].vert]);
		}
		r = th_patch_face_add(out, f->material, c, f->n);
	}
out:
	free(fs);
	free(ids);
	free(fsl);
	free(vsl);
	free(ref);
	del_free(&s);
	return xf_end(out, n0, w, r, why);
}

/* ---- flip ---------------------------------------------------------------------- */

/* The loop of face slot f reversed, its first corner kept: c0 c(n-1) .. c1. */
static int reversed_loop(const struct th_mesh *m, int32_t f, struct th_pref *c)
{
	uint64_t loop[TH_MESH_FACE_VERTS_MAX];
	int k = th_mesh_face_loop(m, f, loop, TH_MESH_FACE_VERTS_MAX);
	for (int t = 0; t < k; t++)
		c[t] = th_pref_id(loop[t ? k - t : 0]);
	return k;
}

int th_op_flip(const struct th_mesh *m, const uint64_t *faces, unsigned n, struct th_patch *out, const char **why)
{
	uint64_t *fs = NULL;
	int32_t *fsl = NULL;
	uint32_t nf = n, n0 = out->n;
	int r = 0;
	bool *in = NULL;
	const char *w = face_slots(m, faces, n, !m->live_faces, "the mesh has no faces to flip", &fs, &fsl, &nf, &r);
	if (w || r)
		goto out;
	if (!(in = calloc((size_t)m->nfaces + 1, sizeof(*in)))) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < nf; i++)
		in[fsl[i]] = true;
	/* a flipped face beside an unflipped one would run along their shared
	 * edge in the same direction */
	for (uint32_t i = 0; n && i < nf && !w; i++) {
		const struct th_mesh_face *f = &m->faces[fsl[i]];
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n && !w; k++, h = m->hes[h].next) {
			int32_t t = m->hes[h].twin;
			if (t != TH_MESH_NONE && !in[m->hes[t].face])
				w = "faces: flipping part of a connected piece would turn it against its neighbours "
				    "(flip whole pieces)";
		}
	}
	for (uint32_t i = 0; i < nf && !w && !r; i++)
		r = th_patch_remove(out, m->faces[fsl[i]].id);
	for (uint32_t i = 0; i < nf && !w && !r; i++) {
		struct th_pref c[TH_MESH_FACE_VERTS_MAX];
		int k = reversed_loop(m, fsl[i], c);
		r = th_patch_face_add(out, m->faces[fsl[i]].material, c, (unsigned)k);
	}
out:
	free(fs);
	free(fsl);
	free(in);
	return xf_end(out, n0, w, r, why);
}

/* ---- mirror -------------------------------------------------------------------- */

/* Per vertex slot: on the plane (within weld) and shared by both halves. */
#define MIR_ON 1u
#define MIR_SHARED 2u

static const char *mirror_plan(const struct th_mesh *m, const double *d, double weld, uint8_t *st)
{
	bool above = false, below = false;
	for (uint32_t v = 0; v < m->nverts; v++) {
		if (!m->verts[v].id)
			continue;
		above |= d[v] > weld;
		below |= d[v] < -weld;
		if (fabs(d[v]) <= weld)
			st[v] = MIR_ON | (m->verts[v].he == TH_MESH_NONE ? MIR_SHARED : 0);
	}
	if (above && below)
		return "the mesh lies on both sides of the mirror plane (move the plane to one side of it, or "
		       "delete the half across it first)";
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (!m->faces[f].id)
			continue;
		bool all = true;
		int32_t h = m->faces[f].he;
		for (unsigned k = 0; k < m->faces[f].n; k++, h = m->hes[h].next)
			all &= (st[m->hes[h].vert] & MIR_ON) != 0;
		if (all)
			return "a face lies in the mirror plane (delete it first so the halves can join)";
	}
	/* the halves join along boundary edges on the plane; a vertex on the
	 * plane that is on none would join them at a point (a bowtie), so it
	 * gets a copy */
	for (uint32_t h = 0; h < m->nhes; h++) {
		const struct th_mesh_he *e = &m->hes[h];
		if (e->vert == TH_MESH_NONE || e->twin != TH_MESH_NONE)
			continue;
		int32_t b = m->hes[e->next].vert;
		if ((st[e->vert] & MIR_ON) && (st[b] & MIR_ON)) {
			st[e->vert] |= MIR_SHARED;
			st[b] |= MIR_SHARED;
		}
	}
	for (uint32_t h = 0; h < m->nhes; h++) {
		const struct th_mesh_he *e = &m->hes[h];
		if (e->vert == TH_MESH_NONE || e->twin == TH_MESH_NONE)
			continue;
		if ((st[e->vert] & MIR_SHARED) && (st[m->hes[e->next].vert] & MIR_SHARED))
			return "an edge on the mirror plane already has faces on both of its sides, so the mirrored "
			       "half cannot join there";
	}
	return NULL;
}

int th_op_mirror(const struct th_mesh *m, const float point[3], const float normal[3], float weld,
		 struct th_patch *out, const char **why)
{
	if (!th_finite3(point))
		return *why = "point: must be finite", -EINVAL;
	double nn[3] = { normal[0], normal[1], normal[2] };
	double len = sqrt(nn[0] * nn[0] + nn[1] * nn[1] + nn[2] * nn[2]);
	if (!th_finite3(normal) || !(len > 0) || !isfinite(len))
		return *why = "normal: must be finite and not zero", -EINVAL;
	if (!isfinite(weld) || weld < 0 || weld > XF_WELD_MAX)
		return *why = "weld: must be finite, 0 to 1000 metres", -EINVAL;
	if (!m->live_verts)
		return *why = "the mesh is empty: there is nothing to mirror", -EINVAL;
	for (int i = 0; i < 3; i++)
		nn[i] /= len;
	int32_t *vs = NULL, *fs = NULL;
	uint32_t nv = 0, nf = 0, n0 = out->n;
	double *d = malloc(((size_t)m->nverts + 1) * sizeof(*d));
	uint8_t *st = calloc((size_t)m->nverts + 1, 1);
	uint32_t *ref = calloc((size_t)m->nverts + 1, sizeof(*ref)); /* a copy's local reference, 0 shared */
	const char *w = NULL;
	int r = 0;
	if (!d || !st || !ref || (r = all_slots(m, false, &vs, &nv)) || (r = all_slots(m, true, &fs, &nf)))
		goto out;
	for (uint32_t v = 0; v < m->nverts; v++) {
		const float *p = m->verts[v].pos;
		d[v] = 0;
		for (int i = 0; m->verts[v].id && i < 3; i++)
			d[v] += ((double)p[i] - point[i]) * nn[i];
	}
	if ((w = mirror_plan(m, d, weld, st)))
		goto out;
	bool adds = false;
	for (uint32_t i = 0; i < nv && !r && !w; i++) { /* onto the plane */
		int32_t v = vs[i];
		const float *p = m->verts[v].pos;
		float q[3];
		for (int k = 0; k < 3; k++)
			q[k] = (float)(p[k] - d[v] * nn[k]);
		if ((st[v] & MIR_ON) && memcmp(p, q, sizeof(q)))
			r = th_patch_vertex_move(out, m->verts[v].id, q);
	}
	for (uint32_t i = 0; i < nv && !r && !w; i++) { /* the mirrored copies */
		int32_t v = vs[i];
		if (st[v] & MIR_SHARED)
			continue;
		const float *p = m->verts[v].pos;
		double k2 = (st[v] & MIR_ON) ? d[v] : 2 * d[v]; /* on the plane: the copy sits on it too */
		float q[3];
		for (int k = 0; k < 3; k++)
			q[k] = (float)(p[k] - k2 * nn[k]);
		if (!th_finite3(q)) {
			w = "a mirrored vertex would be at a non-finite position";
		} else if ((r = th_patch_vertex_add(out, q)) > 0) {
			ref[v] = (uint32_t)r;
			r = 0;
			adds = true;
		}
	}
	for (uint32_t i = 0; i < nf && !r && !w; i++) {
		const struct th_mesh_face *f = &m->faces[fs[i]];
		struct th_pref c[TH_MESH_FACE_VERTS_MAX];
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next) { /* c0 c(n-1) .. c1 */
			int32_t v = m->hes[h].vert;
			c[k ? f->n - k : 0] = ref[v] ? th_pref_local(ref[v]) : th_pref_id(m->verts[v].id);
		}
		r = th_patch_face_add(out, f->material, c, f->n);
		adds = true;
	}
	if (!r && !w && !adds)
		w = "every vertex lies on the mirror plane, so the mirror adds nothing";
out:
	free(vs);
	free(fs);
	free(d);
	free(st);
	free(ref);
	return xf_end(out, n0, w, r, why);
}

/* ---- delete -------------------------------------------------------------------- */

/* What a deletion touches, gathered locally (around the named elements),
 * so deleting a face of a large mesh costs what that face touches. */
struct gone {
	uint64_t *faces; /* ids of the faces removed (deleted or reshaped) */
	uint64_t *verts; /* ids of the vertices removed */
	int32_t *cands;  /* slots of the corners of deleted faces */
	uint32_t nfaces, nverts, ncands;
	uint8_t *seen;   /* by vertex slot: in cands */
};

static void kill_face(struct del *s, struct gone *g, int32_t f)
{
	if (!s->dead_face[f]) {
		s->dead_face[f] = true;
		g->faces[g->nfaces++] = s->m->faces[f].id;
	}
}

/* Marks what goes: the named vertices, the faces named or using a named
 * vertex or edge. */
static const char *delete_mark(struct del *s, struct gone *g, const uint64_t *verts, unsigned nv, const uint64_t *ea,
			       const uint64_t *eb, unsigned ne, const uint64_t *fs, unsigned nf, struct xf_edge *es)
{
	const struct th_mesh *m = s->m;
	for (unsigned i = 0; i < nv; i++) {
		int32_t v = th_mesh_vert_find(m, verts[i]);
		if (v == TH_MESH_NONE)
			return "verts: a vertex does not exist in the mesh";
		if (s->dead_vert[v])
			return "verts: a vertex is named twice";
		s->dead_vert[v] = 1;
		g->verts[g->nverts++] = verts[i];
		if (m->verts[v].he == TH_MESH_NONE)
			continue;
		bool closed;
		uint32_t k = fan_order(m, v, s->hs, &closed);
		for (uint32_t t = 0; t < k; t++)
			kill_face(s, g, m->hes[s->hs[t]].face);
	}
	for (unsigned i = 0; i < ne; i++) {
		int32_t a = th_mesh_vert_find(m, ea[i]), b = th_mesh_vert_find(m, eb[i]);
		bool both = a != TH_MESH_NONE && b != TH_MESH_NONE;
		int32_t h1 = both ? th_mesh_he_find(m, a, b) : TH_MESH_NONE;
		int32_t h2 = both ? th_mesh_he_find(m, b, a) : TH_MESH_NONE;
		if (h1 == TH_MESH_NONE && h2 == TH_MESH_NONE)
			return "edges: an edge does not exist in the mesh (no face has those two vertices as a side)";
		if (h1 != TH_MESH_NONE)
			kill_face(s, g, m->hes[h1].face);
		if (h2 != TH_MESH_NONE)
			kill_face(s, g, m->hes[h2].face);
		es[i] = edge_of(ea[i], eb[i]);
	}
	qsort(es, ne, sizeof(*es), cmp_edge);
	for (unsigned i = 1; i < ne; i++)
		if (!cmp_edge(&es[i], &es[i - 1]))
			return "edges: an edge is named twice";
	for (unsigned i = 0; i < nf; i++)
		kill_face(s, g, th_mesh_face_find(m, fs[i]));
	return NULL;
}

static int cmp_slot_id(const void *a, const void *b, void *mesh);

/* Corners of the deleted faces: each goes when it is left with no face,
 * and is split when it is left with two fans or more. */
static void delete_cleanup(struct del *s, struct gone *g)
{
	const struct th_mesh *m = s->m;
	for (uint32_t i = 0; i < g->nfaces; i++) {
		const struct th_mesh_face *f = &m->faces[th_mesh_face_find(m, g->faces[i])];
		int32_t h = f->he;
		for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next) {
			int32_t v = m->hes[h].vert;
			if (!g->seen[v] && !s->dead_vert[v]) {
				g->seen[v] = 1;
				g->cands[g->ncands++] = v;
			}
		}
	}
	qsort_r(g->cands, g->ncands, sizeof(*g->cands), cmp_slot_id, (void *)m); /* ascending id */
	for (uint32_t i = 0; i < g->ncands; i++) {
		int32_t v = g->cands[i];
		bool closed, alive = false;
		uint32_t k = fan_order(m, v, s->hs, &closed);
		for (uint32_t t = 0; t < k && !alive; t++)
			alive = !s->dead_face[m->hes[s->hs[t]].face];
		if (!alive) {
			s->dead_vert[v] = 1;
			g->verts[g->nverts++] = m->verts[v].id;
		} else {
			split_bowtie(s, v);
		}
	}
}

static int cmp_slot_id(const void *a, const void *b, void *mesh)
{
	const struct th_mesh *m = mesh;
	uint64_t x = m->verts[*(const int32_t *)a].id, y = m->verts[*(const int32_t *)b].id;
	return x < y ? -1 : x > y;
}

static int delete_emit(struct del *s, struct gone *g, struct th_patch *out)
{
	const struct th_mesh *m = s->m;
	int r = 0;
	/* removals: the deleted and the reshaped faces, then the vertices */
	for (uint32_t i = 0; i < s->nreshaped; i++)
		g->faces[g->nfaces++] = s->reshaped_ids[i];
	qsort(g->faces, g->nfaces, sizeof(*g->faces), th_u64_cmp);
	qsort(g->verts, g->nverts, sizeof(*g->verts), th_u64_cmp);
	qsort(s->reshaped_ids, s->nreshaped, sizeof(*s->reshaped_ids), th_u64_cmp);
	for (uint32_t i = 0; i < g->nfaces && !r; i++)
		r = th_patch_remove(out, g->faces[i]);
	for (uint32_t i = 0; i < g->nverts && !r; i++)
		r = th_patch_remove(out, g->verts[i]);
	uint32_t base = out->n + 1; /* new vertex i is local reference base + i */
	for (uint32_t i = 0; i < s->nnew && r >= 0; i++)
		r = th_patch_vertex_add(out, m->verts[s->new_from[i]].pos);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < s->nreshaped; i++) {
		int32_t f = th_mesh_face_find(m, s->reshaped_ids[i]);
		struct th_pref c[TH_MESH_FACE_VERTS_MAX];
		int32_t h = m->faces[f].he;
		for (unsigned k = 0; k < m->faces[f].n; k++, h = m->hes[h].next)
			c[k] = s->corner_new[h] ? th_pref_local(base + s->corner_new[h] - 1)
						: th_pref_id(m->verts[m->hes[h].vert].id);
		if ((r = th_patch_face_add(out, m->faces[f].material, c, m->faces[f].n)) < 0)
			return r;
	}
	return 0;
}

int th_op_delete(const struct th_mesh *m, const uint64_t *verts, unsigned nv, const uint64_t *ea, const uint64_t *eb,
		 unsigned ne, const uint64_t *faces, unsigned nf, struct th_patch *out, const char **why)
{
	if (!nv && !ne && !nf)
		return *why = "nothing to delete: name vertices, edges or faces", -EINVAL;
	if (nv && !verts)
		return *why = "verts: missing", -EINVAL;
	if (ne && (!ea || !eb))
		return *why = "edges: missing", -EINVAL;
	uint64_t *fs = NULL;
	uint32_t n0 = out->n;
	struct del s = { .m = m };
	struct gone g = { 0 };
	struct xf_edge *es = NULL;
	int r = 0;
	const char *w = face_set(m, faces, nf, &fs, &r);
	if (w || r)
		goto out;
	es = malloc(((size_t)ne + 1) * sizeof(*es));
	/* deleted and reshaped faces are disjoint, as are named and dangling vertices */
	g.faces = malloc(((size_t)m->nfaces + 1) * sizeof(*g.faces));
	g.verts = malloc(((size_t)m->nverts + 1) * sizeof(*g.verts));
	g.cands = malloc(((size_t)m->nverts + 1) * sizeof(*g.cands));
	g.seen = calloc((size_t)m->nverts + 1, 1);
	if (!es || !g.faces || !g.verts || !g.cands || !g.seen || (r = del_alloc(&s, m))) {
		r = -ENOMEM;
		goto out;
	}
	if ((w = delete_mark(&s, &g, verts, nv, ea, eb, ne, fs, nf, es)))
		goto out;
	delete_cleanup(&s, &g);
	r = delete_emit(&s, &g, out);
out:
	free(fs);
	free(es);
	free(g.faces);
	free(g.verts);
	free(g.cands);
	free(g.seen);
	del_free(&s);
	return xf_end(out, n0, w, r, why);
}
