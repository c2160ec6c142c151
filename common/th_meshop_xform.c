/* Move, rotate, scale, duplicate, mirror, flip and delete (th_meshop.h,
 * docs/mesh-ops.md). Pure: each reads the mesh, validates, and appends ops
 * or returns an error with the patch as it was. Elements are visited in
 * ascending id, so the same mesh and parameters give the same ops. */
#include "th_meshop.h"

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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

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

/* A sorted copy of ids[n] (*out, free it); -EINVAL when one repeats. */
static int sorted_set(const uint64_t *ids, unsigned n, uint64_t **out)
{
	uint64_t *s = malloc(((size_t)n + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (n)
		memcpy(s, ids, (size_t)n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u64);
	for (unsigned i = 1; i < n; i++)
		if (s[i] == s[i - 1]) {
			free(s);
			return -EINVAL;
		}
	*out = s;
	return 0;
}

/* The ids of every live vertex (faces: false) or face, ascending. */
static int all_ids(const struct th_mesh *m, bool faces, uint64_t **out, uint32_t *n)
{
	uint32_t cnt = faces ? m->live_faces : m->live_verts, k = 0;
	uint64_t *s = malloc(((size_t)cnt + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (faces) {
		for (uint32_t f = 0; f < m->nfaces; f++)
			if (m->faces[f].id && k < cnt)
				s[k++] = m->faces[f].id;
	} else {
		for (uint32_t v = 0; v < m->nverts; v++)
			if (m->verts[v].id && k < cnt)
				s[k++] = m->verts[v].id;
	}
	qsort(s, k, sizeof(*s), cmp_u64);
	*out = s;
	*n = k;
	return 0;
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
	uint64_t *ids;
	uint32_t cnt = n;
	int r = verts ? sorted_set(verts, n, &ids) : all_ids(m, false, &ids, &cnt);
	if (r == -EINVAL)
		return *why = "verts: a vertex is named twice", r;
	if (r < 0)
		return r;
	const char *w = NULL;
	if (!cnt)
		w = "the mesh has no vertices to move";
	for (uint32_t i = 0; i < cnt && !w; i++)
		if (th_mesh_vert_find(m, ids[i]) == TH_MESH_NONE)
			w = "verts: a vertex does not exist in the mesh";
	uint32_t n0 = out->n, moved = 0;
	for (uint32_t i = 0; i < cnt && !w && !r; i++) {
		const float *p = m->verts[th_mesh_vert_find(m, ids[i])].pos;
		float q[3];
		th_affine_apply(a, p, q);
		if (!isfinite(q[0]) || !isfinite(q[1]) || !isfinite(q[2]))
			w = "transform: a vertex would move to a non-finite position";
		else if (memcmp(p, q, sizeof(q))) {
			r = th_patch_vertex_move(out, ids[i], q);
			moved++;
		}
	}
	if (!w && !r && !moved)
		w = "transform: the map leaves every vertex where it is";
	free(ids);
	if (w || r)
		th_patch_truncate(out, n0);
	if (w)
		return *why = w, -EINVAL;
	return r;
}

int th_op_vertices_of(const struct th_mesh *m, const uint64_t *faces, unsigned nf, const uint64_t *ea,
		      const uint64_t *eb, unsigned ne, uint64_t *out, unsigned cap)
{
	uint64_t *fs = NULL;
	int r = sorted_set(faces, nf, &fs);
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
	qsort(all, k, sizeof(*all), cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || all[i] != all[u - 1])
			all[u++] = all[i];
	if (u > cap) {
		r = -ENOBUFS;
		goto out;
	}
	memcpy(out, all, u * sizeof(*out));
	r = (int)u;
out:
	free(fs);
	free(all);
	free(es);
	return r;
}
