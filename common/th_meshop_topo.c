/* Topology operations (th_meshop.h, docs/mesh-ops.md): vertices (free, on
 * an edge, on a face), extrude of boundary edges and of faces (single or
 * region), inset, loop cut and bevel. Each reads the mesh, validates what
 * it is given and appends ops to the patch, or refuses with one sentence
 * and leaves the patch as it was.
 *
 * Order of the ops every operation writes: new vertices (VERTEX_ADD, and
 * VERTEX_MOVE of the vertices a region extrude carries along), then the
 * REMOVE of the faces it reshapes (ascending id) and of vertices left
 * without a face (ascending id), then the FACE_ADDs as each operation says
 * (docs/mesh-ops.md). Faces are removed before any face is added, so a new
 * face may take a directed edge an old one had. Iteration is by ascending
 * id, loops from their first corner, never by slot or hash order. */
#include "th_meshop.h"
#include "th_array.h"
#include "th_meshop_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lengths in metres: offsets, distances and widths must be at least
 * TOPO_LENGTH_MIN (so new faces have an area) and at most TOPO_LENGTH_MAX
 * (the size of the largest primitive). */
#define TOPO_LENGTH_MIN 1e-5
#define TOPO_LENGTH_MAX 1000.0
/* Elements one set may name: no mesh holds more. */
#define TOPO_SET_MAX TH_MESH_ELEMENTS_MAX
/* A mean normal shorter than this (the faces' unit normals averaged) is no
 * direction: the faces point opposite ways. */
#define TOPO_MEAN_NORMAL_MIN 1e-3
/* Local reference marking a vertex that stays (moved or not) in the maps
 * below; th_patch_vertex_add never returns it. */
#define TOPO_KEEP UINT32_MAX

_Static_assert(TH_MESH_FACE_VERTS_MAX == 64, "the refusals below say 64 corners");
_Static_assert(TH_MESH_ELEMENTS_MAX == 1u << 22, "the refusal below says 4,194,304 elements");

#define WHY_NOT_FINITE "the result would put a vertex at a position that is not finite (the mesh is too far out)"
#define WHY_TOO_MANY_CORNERS "the result would give a face more than 64 corners, the most a face may have"
#define WHY_ELEMENTS "the result would give the mesh more than 4,194,304 vertices and faces, the most a mesh may have"
#define WHY_FACE_MISSING "faces: a face named does not exist in the mesh"
#define WHY_VERTEX_MISSING "a vertex named does not exist in the mesh"

static int refuse(const char **why, const char *w)
{
	if (why)
		*why = w;
	return -EINVAL;
}

static double len3(const double v[3])
{
	return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

static void sub3(double out[3], const float a[3], const float b[3])
{
	for (int i = 0; i < 3; i++)
		out[i] = (double)a[i] - b[i];
}

static double dot3(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(double out[3], const double a[3], const double b[3])
{
	out[0] = a[1] * b[2] - a[2] * b[1];
	out[1] = a[2] * b[0] - a[0] * b[2];
	out[2] = a[0] * b[1] - a[1] * b[0];
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- patch writing ------------------------------------------------------------ */

/* A VERTEX_ADD at p (computed in double); its local reference or an error. */
static int add_vert(struct th_patch *out, const double p[3], const char **why)
{
	float f[3] = { (float)p[0], (float)p[1], (float)p[2] };
	if (!th_finite3(f))
		return refuse(why, WHY_NOT_FINITE);
	return th_patch_vertex_add(out, f);
}

static int move_vert(struct th_patch *out, uint64_t id, const double p[3], const char **why)
{
	float f[3] = { (float)p[0], (float)p[1], (float)p[2] };
	if (!th_finite3(f))
		return refuse(why, WHY_NOT_FINITE);
	return th_patch_vertex_move(out, id, f);
}

static int add_face(struct th_patch *out, uint32_t material, const struct th_pref *c, unsigned n, const char **why)
{
	if (n > TH_MESH_FACE_VERTS_MAX)
		return refuse(why, WHY_TOO_MANY_CORNERS);
	int r = th_patch_face_add(out, material, c, n);
	if (r == -EINVAL)
		return refuse(why, "the result would have a face with fewer than 3 corners");
	return r;
}

/* The end of every operation: the patch's net element count must fit the
 * mesh; on any failure the patch goes back to n0 ops. */
static int finish(const struct th_mesh *m, struct th_patch *out, uint32_t n0, int r, const char **why)
{
	if (r >= 0) {
		int64_t add = 0;
		for (uint32_t i = n0; i < out->n; i++) {
			uint8_t op = out->ops[i].op;
			add += op == TH_PL_MESH_OP_VERTEX_ADD || op == TH_PL_MESH_OP_FACE_ADD;
			add -= op == TH_PL_MESH_OP_REMOVE;
		}
		if ((int64_t)m->live_verts + m->live_faces + add > TH_MESH_ELEMENTS_MAX)
			r = refuse(why, WHY_ELEMENTS);
	}
	if (r < 0) {
		th_patch_truncate(out, n0);
		return r;
	}
	return 0;
}

/* ---- mesh walking ------------------------------------------------------------- */

static inline int32_t he_vert(const struct th_mesh *m, int32_t h) { return m->hes[h].vert; }
static inline int32_t he_next(const struct th_mesh *m, int32_t h) { return m->hes[h].next; }
static inline int32_t he_prev(const struct th_mesh *m, int32_t h) { return m->hes[h].prev; }
static inline int32_t he_twin(const struct th_mesh *m, int32_t h) { return m->hes[h].twin; }
static inline int32_t he_face(const struct th_mesh *m, int32_t h) { return m->hes[h].face; }
static inline uint64_t vert_id(const struct th_mesh *m, int32_t v) { return m->verts[v].id; }

/* The faces around vertex slot v: how many, and whether they close into a
 * disk (false: a half-disk on the boundary, or a free vertex). */
static unsigned fan_size(const struct th_mesh *m, int32_t v, bool *closed)
{
	int32_t h0 = m->verts[v].he, h = h0;
	*closed = false;
	if (h0 == TH_MESH_NONE)
		return 0;
	/* Back to the fan's first face (the one after the boundary gap). */
	for (uint32_t k = 0; k <= m->live_hes; k++) {
		int32_t t = he_twin(m, h);
		if (t == TH_MESH_NONE)
			break;
		h = he_next(m, t);
		if (h == h0) {
			*closed = true;
			break;
		}
	}
	unsigned c = 1;
	for (int32_t s = h; c <= m->live_hes; c++) {
		int32_t t = he_twin(m, he_prev(m, h));
		if (t == TH_MESH_NONE || t == s)
			break;
		h = t;
	}
	return c;
}

/* Vertex slot of id, -EINVAL with why when missing. */
static int vert_slot(const struct th_mesh *m, uint64_t id, int32_t *slot, const char **why)
{
	*slot = id ? th_mesh_vert_find(m, id) : TH_MESH_NONE;
	return *slot < 0 ? refuse(why, WHY_VERTEX_MISSING) : 0;
}

/* A sorted copy of ids[n] (n >= 1), refusing a repeat. */
static int sorted_set(const uint64_t *ids, unsigned n, uint64_t **out, const char *why_twice, const char **why)
{
	int r = th_u64_sorted_set(ids, n, out);
	return r == -EINVAL ? refuse(why, why_twice) : r;
}

static int check_length(double l, const char *w, const char **why)
{
	if (!isfinite(l) || fabs(l) < TOPO_LENGTH_MIN || fabs(l) > TOPO_LENGTH_MAX)
		return refuse(why, w);
	return 0;
}

/* ---- vertices ------------------------------------------------------------------ */

int th_op_vertex_free(const struct th_mesh *m, const float pos[3], struct th_patch *out, const char **why)
{
	if (!pos || !th_finite3(pos))
		return refuse(why, "position: must be three finite numbers");
	uint32_t n0 = out->n;
	return finish(m, out, n0, th_patch_vertex_add(out, pos), why);
}

/* The edge (a, b) and a fraction t along it, checked (why_t: t's refusal):
 * its ends' slots and its half-edges a -> b and b -> a (one may be
 * TH_MESH_NONE, not both). */
static int edge_at(const struct th_mesh *m, uint64_t a, uint64_t b, float t, const char *why_t, int32_t *va,
		   int32_t *vb, int32_t h[2], const char **why)
{
	int r;
	if ((r = vert_slot(m, a, va, why)) || (r = vert_slot(m, b, vb, why)))
		return r;
	if (*va == *vb)
		return refuse(why, "an edge needs two different vertices");
	if (!(t > 0.0f && t < 1.0f))
		return refuse(why, why_t);
	h[0] = th_mesh_he_find(m, *va, *vb);
	h[1] = th_mesh_he_find(m, *vb, *va);
	if (h[0] == TH_MESH_NONE && h[1] == TH_MESH_NONE)
		return refuse(why, "the two vertices are not joined by an edge");
	return 0;
}

/* The loop of face slot f with vertex ins (a local reference) inserted
 * after each corner whose half-edge is one of hs[nh]. */
static int readd_split(const struct th_mesh *m, int32_t f, const int32_t *hs, const uint32_t *refs, unsigned nh,
		       struct th_patch *out, const char **why)
{
	struct th_pref c[TH_MESH_FACE_VERTS_MAX + 1];
	unsigned n = 0;
	int32_t h0 = m->faces[f].he, h = h0;
	do {
		if (n >= TH_MESH_FACE_VERTS_MAX)
			return refuse(why, WHY_TOO_MANY_CORNERS);
		c[n++] = th_pref_id(vert_id(m, he_vert(m, h)));
		for (unsigned k = 0; k < nh; k++) {
			if (hs[k] != h)
				continue;
			if (n >= TH_MESH_FACE_VERTS_MAX)
				return refuse(why, WHY_TOO_MANY_CORNERS);
			c[n++] = th_pref_local(refs[k]);
		}
		h = he_next(m, h);
	} while (h != h0);
	return add_face(out, m->faces[f].material, c, n, why);
}

int th_op_vertex_on_edge(const struct th_mesh *m, uint64_t a, uint64_t b, float t, struct th_patch *out,
			 const char **why)
{
	int32_t va, vb, h[2];
	int r = edge_at(m, a, b, t, "t: must be between 0 and 1 (the fraction of the way from a to b), both excluded",
			&va, &vb, h, why);
	if (r)
		return r;
	/* The edge's faces in ascending id. */
	if (h[0] != TH_MESH_NONE && h[1] != TH_MESH_NONE &&
	    m->faces[he_face(m, h[0])].id > m->faces[he_face(m, h[1])].id) {
		int32_t s = h[0];
		h[0] = h[1];
		h[1] = s;
	}
	for (int k = 0; k < 2; k++)
		if (h[k] != TH_MESH_NONE && m->faces[he_face(m, h[k])].n + 1u > TH_MESH_FACE_VERTS_MAX)
			return refuse(why, WHY_TOO_MANY_CORNERS);
	const float *pa = m->verts[va].pos, *pb = m->verts[vb].pos;
	double p[3];
	for (int i = 0; i < 3; i++)
		p[i] = (double)pa[i] + (double)t * ((double)pb[i] - pa[i]);
	uint32_t n0 = out->n;
	r = add_vert(out, p, why);
	uint32_t ref = r > 0 ? (uint32_t)r : 0;
	for (int k = 0; k < 2 && r >= 0; k++)
		if (h[k] != TH_MESH_NONE)
			r = th_patch_remove(out, m->faces[he_face(m, h[k])].id);
	for (int k = 0; k < 2 && r >= 0; k++)
		if (h[k] != TH_MESH_NONE)
			r = readd_split(m, he_face(m, h[k]), &h[k], &ref, 1, out, why);
	return finish(m, out, n0, r, why);
}

int th_op_vertex_on_face(const struct th_mesh *m, uint64_t face, const float pos[3], struct th_patch *out,
			 const char **why)
{
	int32_t f = face ? th_mesh_face_find(m, face) : TH_MESH_NONE;
	if (f < 0)
		return refuse(why, "face: the face does not exist in the mesh");
	if (!pos || !th_finite3(pos))
		return refuse(why, "position: must be three finite numbers");
	float nf[3], cf[3];
	if (th_mesh_face_normal(m, f, nf, cf))
		return refuse(why, "face: the face has no area, so there is no plane to put the vertex on");
	double n[3] = { nf[0], nf[1], nf[2] }, d[3];
	sub3(d, pos, cf);
	double h = dot3(d, n), p[3];
	for (int i = 0; i < 3; i++)
		p[i] = (double)pos[i] - h * n[i];
	/* Inside, and where every corner can be seen from: each triangle of the
	 * fan turns the face's way, at least TOPO_LENGTH_MIN from its edge. */
	int32_t h0 = m->faces[f].he, e = h0;
	do {
		const float *a = m->verts[he_vert(m, e)].pos, *b = m->verts[he_vert(m, he_next(m, e))].pos;
		double ab[3], ap[3], x[3];
		sub3(ab, b, a);
		for (int i = 0; i < 3; i++)
			ap[i] = p[i] - a[i];
		cross3(x, ab, ap);
		if (!(dot3(x, n) > TOPO_LENGTH_MIN * len3(ab)))
			return refuse(why, "position: the point must lie inside the face, away from its edges, where "
					   "every corner can be seen from it");
		e = he_next(m, e);
	} while (e != h0);
	uint32_t n0 = out->n;
	int r = add_vert(out, p, why);
	uint32_t ref = r > 0 ? (uint32_t)r : 0;
	if (r >= 0)
		r = th_patch_remove(out, face);
	e = h0;
	do {
		struct th_pref c[3] = { th_pref_id(vert_id(m, he_vert(m, e))),
					th_pref_id(vert_id(m, he_vert(m, he_next(m, e)))), th_pref_local(ref) };
		if (r >= 0)
			r = add_face(out, m->faces[f].material, c, 3, why);
		e = he_next(m, e);
	} while (e != h0);
	return finish(m, out, n0, r, why);
}

/* ---- extrude of boundary edges -------------------------------------------------- */

struct xedge {
	uint64_t lo, hi; /* vertex ids, lower first: the set's order */
	int32_t h;       /* the edge's one half-edge */
};

static int cmp_xedge(const void *a, const void *b)
{
	const struct xedge *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Local reference of vertex id's copy: refs[] parallel to ids[n] (sorted). */
static uint32_t ref_of(const uint64_t *ids, const uint32_t *refs, unsigned n, uint64_t id)
{
	const uint64_t *p = bsearch(&id, ids, n, sizeof(*ids), th_u64_cmp);
	return p ? refs[p - ids] : 0;
}

/* The pairs a[i], b[i] as edges sorted (lower id first), each checked to
 * exist; boundary: each must have one face, else two. */
static int edge_set(const struct th_mesh *m, const uint64_t *a, const uint64_t *b, unsigned n, bool boundary,
		    struct xedge **out, const char **why)
{
	if (!n || !a || !b)
		return refuse(why, "edges: give at least one edge");
	if (n > TOPO_SET_MAX)
		return refuse(why, "edges: more edges than a mesh can hold");
	struct xedge *e = malloc((size_t)n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	int r = 0;
	for (unsigned i = 0; i < n && !r; i++) {
		int32_t va, vb;
		if ((r = vert_slot(m, a[i], &va, why)) || (r = vert_slot(m, b[i], &vb, why)))
			break;
		if (va == vb) {
			r = refuse(why, "edges: an edge needs two different vertices");
			break;
		}
		int32_t h = th_mesh_he_find(m, va, vb), t = th_mesh_he_find(m, vb, va);
		if (h == TH_MESH_NONE && t == TH_MESH_NONE)
			r = refuse(why, "edges: the two vertices of a pair are not joined by an edge");
		else if (boundary && h != TH_MESH_NONE && t != TH_MESH_NONE)
			r = refuse(why, "edges: an edge is between two faces; only boundary edges (with one face) can be "
					"extruded");
		else if (!boundary && (h == TH_MESH_NONE || t == TH_MESH_NONE))
			r = refuse(why, "edges: an edge is on the boundary; a bevel needs an edge between two faces");
		e[i] = (struct xedge){ .lo = a[i] < b[i] ? a[i] : b[i], .hi = a[i] < b[i] ? b[i] : a[i],
				       .h = h != TH_MESH_NONE ? h : t };
	}
	if (!r) {
		qsort(e, n, sizeof(*e), cmp_xedge);
		for (unsigned i = 1; i < n && !r; i++)
			if (e[i].lo == e[i - 1].lo && e[i].hi == e[i - 1].hi)
				r = refuse(why, "edges: an edge is named twice");
	}
	if (r) {
		free(e);
		return r;
	}
	*out = e;
	return 0;
}

int th_op_extrude_edges(const struct th_mesh *m, const uint64_t *a, const uint64_t *b, unsigned n,
			const float offset[3], struct th_patch *out, const char **why)
{
	if (!offset || !th_finite3(offset))
		return refuse(why, "offset: must be three finite numbers");
	double off[3] = { offset[0], offset[1], offset[2] };
	int r = check_length(len3(off), "offset: must be between 10 micrometres and 1000 metres long", why);
	if (r)
		return r;
	struct xedge *e = NULL;
	if ((r = edge_set(m, a, b, n, true, &e, why)))
		return r;
	/* One new vertex per distinct end, in ascending id. */
	uint64_t *ends = malloc((size_t)n * 2 * sizeof(*ends));
	uint32_t *refs = malloc((size_t)n * 2 * sizeof(*refs));
	uint32_t n0 = out->n;
	unsigned ne = 0;
	if (!ends || !refs) {
		r = -ENOMEM;
		goto done;
	}
	for (unsigned i = 0; i < n; i++) {
		ends[ne++] = e[i].lo;
		ends[ne++] = e[i].hi;
	}
	ne = (unsigned)th_u64_sort_unique(ends, ne);
	for (unsigned i = 0; i < ne && r >= 0; i++) {
		const float *p = m->verts[th_mesh_vert_find(m, ends[i])].pos;
		double q[3] = { p[0] + off[0], p[1] + off[1], p[2] + off[2] };
		r = add_vert(out, q, why);
		refs[i] = r > 0 ? (uint32_t)r : 0;
	}
	/* A quad across each edge from its face: (v, u, u', v') for the face's
	 * half-edge u -> v. */
	for (unsigned i = 0; i < n && r >= 0; i++) {
		uint64_t u = vert_id(m, he_vert(m, e[i].h)), v = vert_id(m, he_vert(m, he_next(m, e[i].h)));
		struct th_pref c[4] = { th_pref_id(v), th_pref_id(u), th_pref_local(ref_of(ends, refs, ne, u)),
					th_pref_local(ref_of(ends, refs, ne, v)) };
		r = add_face(out, m->faces[he_face(m, e[i].h)].material, c, 4, why);
	}
done:
	free(ends);
	free(refs);
	free(e);
	return finish(m, out, n0, r, why);
}

/* ---- regions: extrude and inset of faces ------------------------------------------ */

struct hc {
	int32_t he;
	uint32_t c;
};

static int cmp_hc(const void *a, const void *b)
{
	int32_t x = ((const struct hc *)a)->he, y = ((const struct hc *)b)->he;
	return x < y ? -1 : x > y;
}

/* A set of faces with their corners. A corner is (face, vertex), named by
 * the face's half-edge out of the vertex. Joined (region mode): corners of
 * one vertex in faces that share an edge at it form a class, which moves as
 * one vertex; faces sharing an edge form a piece. Otherwise every corner and
 * every face stands alone. An edge of a face whose other side is not in the
 * set (or is nothing) is on the border: it gets a wall (extrude) or a quad of
 * the ring (inset). A class touching the border gets a new vertex; a class
 * that does not (a vertex inside the region) keeps its vertex. */
struct region {
	uint32_t nf, nc;
	uint64_t *fid;   /* faces, ascending id */
	int32_t *fslot;  /* their slots */
	struct hc *byf;  /* (face slot, face index) ascending by slot */
	uint32_t *first; /* face i's corners: first[i] .. first[i + 1] - 1, loop order */
	int32_t *che;    /* corner c: its half-edge */
	uint32_t *cface; /* corner c: its face's index */
	struct hc *byhe; /* (half-edge, corner) ascending by half-edge */
	uint32_t *up;    /* corner classes (union-find) */
	uint32_t *fup;   /* pieces (union-find over face indices) */
	uint8_t *border; /* corner c's edge (to the next corner) is on the border */
	uint8_t *copied; /* class root: touches the border, so gets a new vertex */
	uint32_t *ref;   /* class root: local reference of its vertex; TOPO_KEEP: keeps its own; 0: not yet */
	double (*pos)[3]; /* class root: where its vertex goes */
	uint32_t nborder;
};

static void region_fini(struct region *g)
{
	free(g->fid);
	free(g->fslot);
	free(g->byf);
	free(g->first);
	free(g->che);
	free(g->cface);
	free(g->byhe);
	free(g->up);
	free(g->fup);
	free(g->border);
	free(g->copied);
	free(g->ref);
	free(g->pos);
	memset(g, 0, sizeof(*g));
}

static uint32_t uf_find(uint32_t *up, uint32_t x)
{
	uint32_t r = x;
	while (up[r] != r)
		r = up[r];
	while (up[x] != r) {
		uint32_t n = up[x];
		up[x] = r;
		x = n;
	}
	return r;
}

static void uf_join(uint32_t *up, uint32_t a, uint32_t b)
{
	a = uf_find(up, a);
	b = uf_find(up, b);
	if (a != b)
		up[a > b ? a : b] = a < b ? a : b; /* the lower index leads: the result is order-free */
}

/* Index of the set's face at slot f, or -1. */
static int64_t region_face(const struct region *g, int32_t f)
{
	struct hc k = { .he = f };
	const struct hc *p = bsearch(&k, g->byf, g->nf, sizeof(*p), cmp_hc);
	return p ? (int64_t)p->c : -1;
}

static uint32_t region_corner(const struct region *g, int32_t h)
{
	struct hc k = { .he = h };
	const struct hc *p = bsearch(&k, g->byhe, g->nc, sizeof(*p), cmp_hc);
	return p->c;
}

/* The corner after c in its face's loop. */
static uint32_t corner_next(const struct region *g, uint32_t c)
{
	uint32_t i = g->cface[c];
	return c + 1 < g->first[i + 1] ? c + 1 : g->first[i];
}

static int region_init(struct region *g, const struct th_mesh *m, const uint64_t *faces, unsigned n, bool joined,
		       const char **why)
{
	memset(g, 0, sizeof(*g));
	if (!n || !faces)
		return refuse(why, "faces: give at least one face");
	if (n > TOPO_SET_MAX)
		return refuse(why, "faces: more faces than a mesh can hold");
	int r = sorted_set(faces, n, &g->fid, "faces: a face is named twice", why);
	if (r)
		return r;
	g->nf = n;
	g->fslot = malloc((size_t)n * sizeof(*g->fslot));
	g->byf = malloc((size_t)n * sizeof(*g->byf));
	g->first = malloc(((size_t)n + 1) * sizeof(*g->first));
	g->fup = malloc((size_t)n * sizeof(*g->fup));
	if (!g->fslot || !g->byf || !g->first || !g->fup)
		return -ENOMEM;
	uint64_t nc = 0;
	for (uint32_t i = 0; i < n; i++) {
		int32_t f = th_mesh_face_find(m, g->fid[i]);
		if (f < 0)
			return refuse(why, WHY_FACE_MISSING);
		g->fslot[i] = f;
		g->byf[i] = (struct hc){ .he = f, .c = i };
		g->first[i] = (uint32_t)nc;
		g->fup[i] = i;
		nc += m->faces[f].n;
	}
	g->first[n] = (uint32_t)nc;
	g->nc = (uint32_t)nc;
	qsort(g->byf, n, sizeof(*g->byf), cmp_hc);
	g->che = malloc(nc * sizeof(*g->che));
	g->cface = malloc(nc * sizeof(*g->cface));
	g->byhe = malloc(nc * sizeof(*g->byhe));
	g->up = malloc(nc * sizeof(*g->up));
	g->border = malloc(nc);
	g->copied = calloc(nc, 1);
	g->ref = calloc(nc, sizeof(*g->ref));
	g->pos = calloc(nc, sizeof(*g->pos));
	if (!g->che || !g->cface || !g->byhe || !g->up || !g->border || !g->copied || !g->ref || !g->pos)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		int32_t h = m->faces[g->fslot[i]].he;
		for (uint32_t c = g->first[i]; c < g->first[i + 1]; c++, h = he_next(m, h)) {
			g->che[c] = h;
			g->cface[c] = i;
			g->byhe[c] = (struct hc){ .he = h, .c = c };
			g->up[c] = c;
		}
	}
	qsort(g->byhe, nc, sizeof(*g->byhe), cmp_hc);
	for (uint32_t c = 0; c < nc; c++) {
		int32_t t = he_twin(m, g->che[c]);
		int64_t j = joined && t != TH_MESH_NONE ? region_face(g, he_face(m, t)) : -1;
		g->border[c] = j < 0;
		if (j >= 0) {
			/* The twin's face is in the set: this vertex's corner there (its
			 * half-edge after the twin) moves with this one. */
			uf_join(g->up, c, region_corner(g, he_next(m, t)));
			uf_join(g->fup, g->cface[c], (uint32_t)j);
		}
	}
	for (uint32_t c = 0; c < nc; c++) {
		if (!g->border[c])
			continue;
		g->nborder++;
		g->copied[uf_find(g->up, c)] = 1;
		g->copied[uf_find(g->up, corner_next(g, c))] = 1;
	}
	return 0;
}

/* The corner's vertex in the result. */
static struct th_pref region_pref(const struct th_mesh *m, struct region *g, uint32_t c)
{
	uint32_t ref = g->ref[uf_find(g->up, c)];
	return ref != TOPO_KEEP ? th_pref_local(ref) : th_pref_id(vert_id(m, he_vert(m, g->che[c])));
}

/* Writes the region's patch: the classes' vertices (new ones at pos; kept
 * ones moved to pos when move_kept), the faces removed and made again over
 * the classes' vertices, and a quad on each border edge: (v, x, x', v') for
 * the face's half-edge v -> x, v' x' their classes' new vertices. */
static int region_write(const struct th_mesh *m, struct region *g, bool move_kept, struct th_patch *out,
			const char **why)
{
	int r = 0;
	for (uint32_t c = 0; c < g->nc && r >= 0; c++) {
		uint32_t k = uf_find(g->up, c);
		if (g->ref[k])
			continue;
		if (g->copied[k]) {
			r = add_vert(out, g->pos[k], why);
			g->ref[k] = r > 0 ? (uint32_t)r : 0;
		} else {
			g->ref[k] = TOPO_KEEP;
			if (move_kept)
				r = move_vert(out, vert_id(m, he_vert(m, g->che[c])), g->pos[k], why);
		}
	}
	for (uint32_t i = 0; i < g->nf && r >= 0; i++)
		r = th_patch_remove(out, g->fid[i]);
	struct th_pref cs[TH_MESH_FACE_VERTS_MAX];
	for (uint32_t i = 0; i < g->nf && r >= 0; i++) {
		unsigned k = 0;
		for (uint32_t c = g->first[i]; c < g->first[i + 1]; c++)
			cs[k++] = region_pref(m, g, c);
		r = add_face(out, m->faces[g->fslot[i]].material, cs, k, why);
	}
	for (uint32_t c = 0; c < g->nc && r >= 0; c++) {
		if (!g->border[c])
			continue;
		int32_t h = g->che[c];
		uint32_t cx = corner_next(g, c);
		struct th_pref q[4] = { th_pref_id(vert_id(m, he_vert(m, h))), th_pref_id(vert_id(m, he_vert(m, he_next(m, h)))),
					region_pref(m, g, cx), region_pref(m, g, c) };
		r = add_face(out, m->faces[g->fslot[g->cface[c]]].material, q, 4, why);
	}
	return r;
}

/* region_init, then a refusal (closed) when the faces have no border, then
 * zeroed sums and counts, one per face (per_face) or per corner. The
 * caller frees them and the region whatever this returns. */
static int region_begin(struct region *g, const struct th_mesh *m, const uint64_t *faces, unsigned n, bool joined,
			bool per_face, double (**sum)[3], uint32_t **cnt, const char *closed, const char **why)
{
	int r = region_init(g, m, faces, n, joined, why);
	if (r)
		return r;
	if (!g->nborder)
		return refuse(why, closed);
	uint32_t k = per_face ? g->nf : g->nc;
	*sum = calloc(k, sizeof(**sum));
	*cnt = calloc(k, sizeof(**cnt));
	return *sum && *cnt ? 0 : -ENOMEM;
}

/* region_begin's counterpart: frees the region, sums and counts, then
 * finish. */
static int region_end(const struct th_mesh *m, struct region *g, double (*sum)[3], uint32_t *cnt,
		      struct th_patch *out, uint32_t n0, int r, const char **why)
{
	free(sum);
	free(cnt);
	region_fini(g);
	return finish(m, out, n0, r, why);
}

int th_op_extrude_faces(const struct th_mesh *m, const uint64_t *faces, unsigned n, const float *dir,
			float distance, bool region, struct th_patch *out, const char **why)
{
	if (!isfinite(distance) || fabsf(distance) > TOPO_LENGTH_MAX)
		return refuse(why, "distance: must be finite and at most 1000 metres either way");
	double d0[3] = { 0, 0, 0 };
	if (dir) {
		if (!th_finite3(dir))
			return refuse(why, "dir: must be three finite numbers");
		for (int i = 0; i < 3; i++)
			d0[i] = (double)dir[i] * distance;
		if (check_length(len3(d0), "dir * distance: the offset must be between 10 micrometres and 1000 "
					   "metres long", why))
			return -EINVAL;
	} else if (fabsf(distance) < TOPO_LENGTH_MIN) {
		return refuse(why, "distance: must be at least 10 micrometres either way");
	}
	struct region g;
	uint32_t n0 = out->n;
	/* Each piece's offset: dir * distance, or its faces' mean normal. */
	double (*off)[3] = NULL;
	uint32_t *cnt = NULL;
	int r = region_begin(&g, m, faces, n, region, true, &off, &cnt,
			     "faces: the faces make closed surfaces with no border, so there are no sides to extrude "
			     "(move them instead)",
			     why);
	if (r)
		goto done;
	for (uint32_t i = 0; i < g.nf; i++) {
		uint32_t k = uf_find(g.fup, i);
		float nf[3];
		if (dir) {
			memcpy(off[k], d0, sizeof(d0));
			continue;
		}
		cnt[k]++;
		if (th_mesh_face_normal(m, g.fslot[i], nf, NULL)) {
			r = refuse(why, "faces: a face has no area, so it has no normal to extrude along (give a "
					"direction)");
			goto done;
		}
		for (int a = 0; a < 3; a++)
			off[k][a] += nf[a];
	}
	for (uint32_t i = 0; i < g.nf && !dir; i++) {
		if (uf_find(g.fup, i) != i)
			continue; /* a piece's root is its first face: its sum is complete */
		double l = len3(off[i]);
		if (!(l > TOPO_MEAN_NORMAL_MIN * cnt[i])) {
			r = refuse(why, "faces: the region's faces point opposite ways, so it has no mean normal to "
					"extrude along (give a direction)");
			goto done;
		}
		for (int a = 0; a < 3; a++)
			off[i][a] = off[i][a] / l * distance;
	}
	for (uint32_t c = 0; c < g.nc; c++) {
		uint32_t k = uf_find(g.up, c);
		const float *p = m->verts[he_vert(m, g.che[c])].pos;
		const double *o = off[uf_find(g.fup, g.cface[c])];
		for (int a = 0; a < 3; a++)
			g.pos[k][a] = (double)p[a] + o[a];
	}
	r = region_write(m, &g, true, out, why);
done:
	return region_end(m, &g, off, cnt, out, n0, r, why);
}

int th_op_inset(const struct th_mesh *m, const uint64_t *faces, unsigned n, float amount, bool region,
		struct th_patch *out, const char **why)
{
	if (!(amount > 0.0f && amount < 1.0f))
		return refuse(why, "amount: must be between 0 and 1 (the fraction of the way to the face's centre), "
				   "both excluded");
	struct region g;
	uint32_t n0 = out->n;
	/* A new vertex goes amount of the way to the mean centre of the faces
	 * of its class (one face when single). */
	double (*ctr)[3] = NULL;
	uint32_t *cnt = NULL;
	int r = region_begin(&g, m, faces, n, region, false, &ctr, &cnt,
			     "faces: the faces make closed surfaces with no border, so there is no edge to inset from",
			     why);
	if (r)
		goto done;
	for (uint32_t i = 0; i < g.nf; i++) {
		double c[3] = { 0, 0, 0 };
		uint32_t k = g.first[i + 1] - g.first[i];
		for (uint32_t j = g.first[i]; j < g.first[i + 1]; j++)
			for (int a = 0; a < 3; a++)
				c[a] += m->verts[he_vert(m, g.che[j])].pos[a];
		for (uint32_t j = g.first[i]; j < g.first[i + 1]; j++) {
			uint32_t root = uf_find(g.up, j);
			for (int a = 0; a < 3; a++)
				ctr[root][a] += c[a] / k;
			cnt[root]++;
		}
	}
	for (uint32_t c = 0; c < g.nc; c++) {
		uint32_t k = uf_find(g.up, c);
		if (k != c)
			continue;
		const float *p = m->verts[he_vert(m, g.che[c])].pos;
		for (int a = 0; a < 3; a++)
			g.pos[k][a] = (double)p[a] + (double)amount * (ctr[k][a] / cnt[k] - p[a]);
	}
	r = region_write(m, &g, false, out, why);
done:
	return region_end(m, &g, ctr, cnt, out, n0, r, why);
}

/* ---- loop cut --------------------------------------------------------------------- */

/* An edge the cut crosses: its new vertex at s + t (e - s), s on the side
 * of the named edge's a. */
struct cut_edge {
	int32_t s, e;
	uint32_t ref;
};
/* A quad of the ring, entered through half-edge h (on edge ein) and left
 * through the opposite one (on edge eout). */
struct cut_quad {
	int32_t h;
	uint32_t ein, eout;
};

struct cut {
	struct cut_edge *e;
	struct cut_quad *q;
	uint32_t ne, nq, cap;
};

static int cut_grow(struct cut *c)
{
	if (c->ne < c->cap && c->nq < c->cap)
		return 0;
	uint32_t cap = c->cap ? 2 * c->cap : 64;
	struct cut_edge *e = th_array_realloc(c->e, cap, sizeof(*e));
	if (!e)
		return -ENOMEM;
	c->e = e;
	struct cut_quad *q = th_array_realloc(c->q, cap, sizeof(*q));
	if (!q)
		return -ENOMEM;
	c->q = q;
	c->cap = cap;
	return 0;
}

/* From half-edge h on crossed edge ei (side s) across quads, each opposite
 * edge crossed in turn. Stops at a boundary (*end TH_MESH_NONE), at a face
 * that is not a quad (*end: its half-edge on the last edge crossed), or on
 * reaching half-edge stop (*closed: the ring came back to the named edge). */
static int cut_walk(const struct th_mesh *m, struct cut *c, int32_t h, uint32_t ei, int32_t stop, int32_t *end,
		    bool *closed, const char **why)
{
	int32_t s = c->e[ei].s;
	for (uint32_t k = 0; k <= m->live_hes; k++) {
		if (m->faces[he_face(m, h)].n != 4) {
			*end = h;
			return 0;
		}
		int r = cut_grow(c);
		if (r)
			return r;
		int32_t o = he_next(m, he_next(m, h));
		/* The opposite edge's end beside s (across the quad's side). */
		int32_t s2 = he_vert(m, h) == s ? he_vert(m, he_next(m, o)) : he_vert(m, o);
		int32_t e2 = s2 == he_vert(m, o) ? he_vert(m, he_next(m, o)) : he_vert(m, o);
		struct cut_quad *q = &c->q[c->nq++];
		*q = (struct cut_quad){ .h = h, .ein = ei };
		if (o == stop) {
			q->eout = 0;
			*closed = true;
			return 0;
		}
		c->e[c->ne] = (struct cut_edge){ .s = s2, .e = e2 };
		q->eout = ei = c->ne++;
		h = he_twin(m, o);
		if (h == TH_MESH_NONE) {
			*end = TH_MESH_NONE;
			return 0;
		}
		s = s2;
	}
	return refuse(why, "the ring of quads does not end (the mesh's links are broken)");
}

int th_op_loop_cut(const struct th_mesh *m, uint64_t a, uint64_t b, float t, struct th_patch *out,
		   const char **why)
{
	int32_t va, vb, hab[2];
	int r = edge_at(m, a, b, t,
			"t: must be between 0 and 1 (the fraction of the way along each crossed edge), both excluded", &va,
			&vb, hab, why);
	if (r)
		return r;
	int32_t ha = hab[0], hb = hab[1];
	struct cut c = { 0 };
	uint32_t n0 = out->n;
	int32_t end[2] = { TH_MESH_NONE, TH_MESH_NONE };
	uint32_t endref[2] = { 0, 0 };
	int32_t *gone = NULL;
	bool closed = false;
	if ((r = cut_grow(&c)))
		goto done;
	c.e[c.ne++] = (struct cut_edge){ .s = va, .e = vb };
	/* First through the face where a -> b, then the other way. */
	uint32_t first_end = 0;
	if (ha != TH_MESH_NONE && (r = cut_walk(m, &c, ha, 0, hb, &end[0], &closed, why)))
		goto done;
	first_end = c.nq ? c.q[c.nq - 1].eout : 0;
	uint32_t nq1 = c.nq;
	if (!closed && hb != TH_MESH_NONE && (r = cut_walk(m, &c, hb, 0, TH_MESH_NONE, &end[1], &closed, why)))
		goto done;

	if (!c.nq) {
		r = refuse(why, "the faces beside the edge are not quads; a loop cut runs through quads");
		goto done;
	}
	if (closed && c.nq == 2) {
		/* Both quads span the same two crossed edges: both cuts would be
		 * the one edge between their new vertices, with four faces. */
		r = refuse(why, "the ring is two quads sharing both crossed edges; a cut would give the new edge "
				"four faces");
		goto done;
	}
	/* The edge each end face touches: the last crossed one of its walk. */
	uint32_t end_edge[2] = { first_end, c.nq > nq1 ? c.q[c.nq - 1].eout : 0 };
	/* Every face reshaped, once: the quads (a ring crossing itself would
	 * name one twice) and the faces at the ends. */
	uint32_t ng = 0;
	gone = malloc(((size_t)c.nq + 2) * sizeof(*gone));
	if (!gone) {
		r = -ENOMEM;
		goto done;
	}
	for (uint32_t i = 0; i < c.nq; i++)
		gone[ng++] = he_face(m, c.q[i].h);
	qsort(gone, ng, sizeof(*gone), cmp_i32);
	for (uint32_t i = 1; i < ng; i++) {
		if (gone[i] == gone[i - 1]) {
			r = refuse(why, "the ring of quads runs through a quad twice; a loop cut needs a ring that "
					"crosses each quad once");
			goto done;
		}
	}
	for (int k = 0; k < 2; k++) {
		if (end[k] == TH_MESH_NONE)
			continue;
		unsigned add = 1 + (k == 1 && end[0] != TH_MESH_NONE && he_face(m, end[0]) == he_face(m, end[1]));
		if (m->faces[he_face(m, end[k])].n + add > TH_MESH_FACE_VERTS_MAX) {
			r = refuse(why, "the loop cut would give a face at its end more than 64 corners, the most a "
					"face may have");
			goto done;
		}
		if (k == 0 || end[0] == TH_MESH_NONE || he_face(m, end[0]) != he_face(m, end[1]))
			gone[ng++] = he_face(m, end[k]);
	}
	/* REMOVE in ascending face id. */
	uint64_t *gid = malloc((size_t)ng * sizeof(*gid));
	if (!gid) {
		r = -ENOMEM;
		goto done;
	}
	for (uint32_t i = 0; i < ng; i++)
		gid[i] = m->faces[gone[i]].id;
	qsort(gid, ng, sizeof(*gid), th_u64_cmp);
	for (uint32_t i = 0; i < c.ne && r >= 0; i++) {
		const float *ps = m->verts[c.e[i].s].pos, *pe = m->verts[c.e[i].e].pos;
		double p[3];
		for (int k = 0; k < 3; k++)
			p[k] = (double)ps[k] + (double)t * ((double)pe[k] - ps[k]);
		r = add_vert(out, p, why);
		c.e[i].ref = r > 0 ? (uint32_t)r : 0;
	}
	for (uint32_t i = 0; i < ng && r >= 0; i++)
		r = th_patch_remove(out, gid[i]);
	free(gid);
	/* Each quad (q0 q1 q2 q3, entered on q0 q1) becomes (q0 m_in m_out q3)
	 * and (m_in q1 q2 m_out). */
	for (uint32_t i = 0; i < c.nq && r >= 0; i++) {
		int32_t h = c.q[i].h;
		uint64_t q0 = vert_id(m, he_vert(m, h)), q1 = vert_id(m, he_vert(m, he_next(m, h)));
		uint64_t q2 = vert_id(m, he_vert(m, he_next(m, he_next(m, h)))), q3 = vert_id(m, he_vert(m, he_prev(m, h)));
		struct th_pref mi = th_pref_local(c.e[c.q[i].ein].ref), mo = th_pref_local(c.e[c.q[i].eout].ref);
		uint32_t mat = m->faces[he_face(m, h)].material;
		struct th_pref x[4] = { th_pref_id(q0), mi, mo, th_pref_id(q3) };
		struct th_pref y[4] = { mi, th_pref_id(q1), th_pref_id(q2), mo };
		if ((r = add_face(out, mat, x, 4, why)) >= 0)
			r = add_face(out, mat, y, 4, why);
	}
	/* The faces at the ends gain the new vertex on the crossed edge. */
	for (int k = 0; k < 2; k++)
		if (end[k] != TH_MESH_NONE)
			endref[k] = c.e[end_edge[k]].ref;
	if (end[0] != TH_MESH_NONE && end[1] != TH_MESH_NONE && he_face(m, end[0]) == he_face(m, end[1])) {
		if (r >= 0)
			r = readd_split(m, he_face(m, end[0]), end, endref, 2, out, why);
	} else {
		/* In ascending id, as removed. */
		int k0 = end[0] != TH_MESH_NONE && end[1] != TH_MESH_NONE &&
			 m->faces[he_face(m, end[0])].id > m->faces[he_face(m, end[1])].id;
		for (int i = 0; i < 2 && r >= 0; i++) {
			int k = i ^ k0;
			if (end[k] != TH_MESH_NONE)
				r = readd_split(m, he_face(m, end[k]), &end[k], &endref[k], 1, out, why);
		}
	}
done:
	free(gone);
	free(c.e);
	free(c.q);
	return finish(m, out, n0, r, why);
}

/* ---- bevel ------------------------------------------------------------------------ */

/* An end w of a bevelled edge: its new vertices slide width along the edge
 * beside it in F (towards xf) and in G (towards xg). Dissolved: w goes,
 * its only other face (if any) taking both new vertices instead. */
struct bev_end {
	int32_t w, xf, xg;
	uint32_t rf, rg;
	bool dissolve;
};
/* Edge lo - hi (ascending ids): F holds lo -> hi (hf), G hi -> lo (hg). */
struct bev {
	int32_t hf, hg;
	struct bev_end end[2];
};
struct bev_at {
	int32_t v;
	uint32_t edge, end;
};

static int cmp_bev_at(const void *a, const void *b)
{
	int32_t x = ((const struct bev_at *)a)->v, y = ((const struct bev_at *)b)->v;
	return x < y ? -1 : x > y;
}

static const struct bev_at *bev_find(const struct bev_at *at, unsigned n, int32_t v)
{
	struct bev_at k = { .v = v };
	return bsearch(&k, at, n, sizeof(*at), cmp_bev_at);
}

static struct th_pref bev_pref(uint32_t ref) { return th_pref_local(ref); }

/* Face slot f made again: each corner at a bevelled edge's end becomes its
 * new vertex (in F or G), or gains the new vertex on the edge it shares
 * with F or G (and loses the end when dissolved). */
static int bev_readd(const struct th_mesh *m, const struct bev *e, const struct bev_at *at, unsigned nat, int32_t f,
		     struct th_patch *out, const char **why)
{
	struct th_pref c[TH_MESH_FACE_VERTS_MAX];
	unsigned n = 0;
	int32_t h0 = m->faces[f].he, h = h0;
	do {
		int32_t w = he_vert(m, h);
		const struct bev_at *a = bev_find(at, nat, w);
		struct th_pref seq[3];
		unsigned k = 0;
		if (!a) {
			seq[k++] = th_pref_id(vert_id(m, w));
		} else {
			const struct bev *b = &e[a->edge];
			const struct bev_end *x = &b->end[a->end];
			int32_t p = he_vert(m, he_prev(m, h)), q = he_vert(m, he_next(m, h));
			if (f == he_face(m, b->hf)) {
				seq[k++] = bev_pref(x->rf);
			} else if (f == he_face(m, b->hg)) {
				seq[k++] = bev_pref(x->rg);
			} else {
				if (p == x->xf || p == x->xg)
					seq[k++] = bev_pref(p == x->xf ? x->rf : x->rg);
				if (!x->dissolve)
					seq[k++] = th_pref_id(vert_id(m, w));
				if (q == x->xf || q == x->xg)
					seq[k++] = bev_pref(q == x->xf ? x->rf : x->rg);
			}
		}
		if (n + k > TH_MESH_FACE_VERTS_MAX)
			return refuse(why, "the bevel would give a face beside it more than 64 corners, the most a face "
					   "may have");
		memcpy(&c[n], seq, k * sizeof(*seq));
		n += k;
		h = he_next(m, h);
	} while (h != h0);
	return add_face(out, m->faces[f].material, c, n, why);
}

/* Where end x's new vertex towards slot to goes; refuses a width the edge
 * cannot hold (half of it when to is a bevelled edge's end too). */
static int bev_slide(const struct th_mesh *m, const struct bev_at *at, unsigned nat, int32_t w, int32_t to,
		     double width, double p[3], const char **why)
{
	const float *a = m->verts[w].pos, *b = m->verts[to].pos;
	double d[3];
	sub3(d, b, a);
	double l = len3(d), room = bev_find(at, nat, to) ? l / 2 : l;
	if (!(width < room))
		return refuse(why, "width: the bevel is wider than an edge its new corners slide along (the edge's "
				   "length, half of it where both its ends are bevelled)");
	for (int i = 0; i < 3; i++)
		p[i] = a[i] + d[i] / l * width;
	return 0;
}

int th_op_bevel(const struct th_mesh *m, const uint64_t *a, const uint64_t *b, unsigned n, float width,
		struct th_patch *out, const char **why)
{
	int r = check_length(width, "width: must be between 10 micrometres and 1000 metres", why);
	if (r)
		return r;
	if (!(width > 0))
		return refuse(why, "width: must be between 10 micrometres and 1000 metres");
	struct xedge *x = NULL;
	if ((r = edge_set(m, a, b, n, false, &x, why)))
		return r;
	uint32_t n0 = out->n;
	struct bev *e = calloc(n, sizeof(*e));
	struct bev_at *at = malloc((size_t)n * 2 * sizeof(*at));
	int32_t *faces = malloc((size_t)n * 6 * sizeof(*faces));
	uint64_t *fid = malloc((size_t)n * 6 * sizeof(*fid));
	int32_t *gone = malloc((size_t)n * 2 * sizeof(*gone));
	unsigned nat = 0, nf = 0, ng = 0;
	if (!e || !at || !faces || !fid || !gone) {
		r = -ENOMEM;
		goto done;
	}
	for (unsigned i = 0; i < n; i++) {
		int32_t lo = th_mesh_vert_find(m, x[i].lo), hi = th_mesh_vert_find(m, x[i].hi);
		e[i].hf = th_mesh_he_find(m, lo, hi);
		e[i].hg = th_mesh_he_find(m, hi, lo);
		at[nat++] = (struct bev_at){ .v = lo, .edge = i, .end = 0 };
		at[nat++] = (struct bev_at){ .v = hi, .edge = i, .end = 1 };
	}
	qsort(at, nat, sizeof(*at), cmp_bev_at);
	for (unsigned i = 1; i < nat; i++) {
		if (at[i].v == at[i - 1].v) {
			r = refuse(why, "edges: two of the edges share a vertex; edges bevelled together must not touch "
					"(bevel one, then the next)");
			goto done;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct bev *v = &e[i];
		int32_t F = he_face(m, v->hf), G = he_face(m, v->hg);
		/* Per end: the edges beside the bevelled one in F and G, and the
		 * faces across them. */
		int32_t hff[2] = { he_prev(m, v->hf), he_next(m, v->hf) };
		int32_t hgg[2] = { he_next(m, v->hg), he_prev(m, v->hg) };
		faces[nf++] = F;
		faces[nf++] = G;
		for (int k = 0; k < 2; k++) {
			struct bev_end *d = &v->end[k];
			d->w = k ? he_vert(m, v->hg) : he_vert(m, v->hf);
			d->xf = k ? he_vert(m, he_next(m, hff[1])) : he_vert(m, hff[0]);
			d->xg = k ? he_vert(m, hgg[1]) : he_vert(m, he_next(m, hgg[0]));
			int32_t tf = he_twin(m, hff[k]), tg = he_twin(m, hgg[k]);
			int32_t HF = tf != TH_MESH_NONE ? he_face(m, tf) : TH_MESH_NONE;
			int32_t HG = tg != TH_MESH_NONE ? he_face(m, tg) : TH_MESH_NONE;
			if (HF == G || HG == F) {
				r = refuse(why, "edges: the two faces beside an edge also share another edge at its end, "
						"which a bevel cannot pull apart");
				goto done;
			}
			if (HF != TH_MESH_NONE)
				faces[nf++] = HF;
			if (HG != TH_MESH_NONE && HG != HF)
				faces[nf++] = HG;
			bool closed;
			unsigned fan = fan_size(m, d->w, &closed);
			d->dissolve = closed ? fan == 3 : fan == 2;
			if (d->dissolve)
				gone[ng++] = d->w;
		}
	}
	/* New vertices per edge: lo in F, lo in G, hi in F, hi in G. */
	for (unsigned i = 0; i < n && r >= 0; i++) {
		for (int k = 0; k < 2 && r >= 0; k++) {
			struct bev_end *d = &e[i].end[k];
			double pf[3], pg[3];
			if ((r = bev_slide(m, at, nat, d->w, d->xf, width, pf, why)) ||
			    (r = bev_slide(m, at, nat, d->w, d->xg, width, pg, why)))
				break;
			r = add_vert(out, pf, why);
			d->rf = r > 0 ? (uint32_t)r : 0;
			if (r >= 0)
				r = add_vert(out, pg, why);
			d->rg = r > 0 ? (uint32_t)r : 0;
		}
	}
	/* The faces reshaped, once each, by ascending id; then the dissolved
	 * ends. */
	qsort(faces, nf, sizeof(*faces), cmp_i32);
	unsigned k = 0;
	for (unsigned i = 0; i < nf; i++)
		if (!k || faces[i] != faces[k - 1])
			faces[k++] = faces[i];
	nf = k;
	for (unsigned i = 0; i < nf; i++)
		fid[i] = m->faces[faces[i]].id;
	qsort(fid, nf, sizeof(*fid), th_u64_cmp);
	for (unsigned i = 0; i < nf && r >= 0; i++)
		r = th_patch_remove(out, fid[i]);
	for (unsigned i = 0; i < ng; i++)
		fid[nf + i] = vert_id(m, gone[i]);
	qsort(fid + nf, ng, sizeof(*fid), th_u64_cmp);
	for (unsigned i = 0; i < ng && r >= 0; i++)
		r = th_patch_remove(out, fid[nf + i]);
	for (unsigned i = 0; i < nf && r >= 0; i++)
		r = bev_readd(m, e, at, nat, th_mesh_face_find(m, fid[i]), out, why);
	/* The strips: lo in F, lo, lo in G, hi in G, hi, hi in F (the ends
	 * left out when dissolved). */
	for (unsigned i = 0; i < n && r >= 0; i++) {
		const struct bev_end *u = &e[i].end[0], *v = &e[i].end[1];
		struct th_pref c[6];
		unsigned q = 0;
		c[q++] = bev_pref(u->rf);
		if (!u->dissolve)
			c[q++] = th_pref_id(vert_id(m, u->w));
		c[q++] = bev_pref(u->rg);
		c[q++] = bev_pref(v->rg);
		if (!v->dissolve)
			c[q++] = th_pref_id(vert_id(m, v->w));
		c[q++] = bev_pref(v->rf);
		r = add_face(out, m->faces[he_face(m, e[i].hf)].material, c, q, why);
	}
done:
	free(x);
	free(e);
	free(at);
	free(faces);
	free(fid);
	free(gone);
	return finish(m, out, n0, r, why);
}
