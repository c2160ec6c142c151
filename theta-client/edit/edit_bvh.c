/* Rays against one mesh's faces (edit_ray.h): the polygon test, the brute
 * force over every face, and the tree over the faces that follows the mesh
 * (refitted when faces only moved, a side tree for added faces, a full
 * build when those grow). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit_ray.h"
#include "edit/edit_ray_int.h"
#include "edit/edit_vec.h"

/* ---- the polygon test ------------------------------------------------------------ */

/* Moller-Trumbore, both sides: t of the crossing of triangle a b c, or -1.
 * A triangle of no area (a sliver: the sine of its angle at a below
 * TRI_DEGENERATE) or seen edge-on (the ray's angle to its plane as small)
 * is not crossed: the test's rounding would put the crossing anywhere. */
#define TRI_DEGENERATE 1e-6f
static float tri_hit(const float a[3], const float b[3], const float c[3], const float o[3], const float d[3])
{
	float e1[3], e2[3], p[3], s[3], q[3];
	edit_sub3(b, a, e1);
	edit_sub3(c, a, e2);
	edit_cross3(d, e2, p);
	float det = edit_dot3(e1, p);
	float lim = TRI_DEGENERATE * TRI_DEGENERATE * edit_dot3(e1, e1) * edit_dot3(e2, e2) * edit_dot3(d, d);
	if (!(det * det > lim) || !isfinite(det))
		return -1.0f;
	float inv = 1.0f / det;
	edit_sub3(o, a, s);
	float u = edit_dot3(s, p) * inv;
	if (!(u >= 0.0f && u <= 1.0f))
		return -1.0f;
	edit_cross3(s, e1, q);
	float v = edit_dot3(d, q) * inv;
	if (!(v >= 0.0f && u + v <= 1.0f))
		return -1.0f;
	float t = edit_dot3(e2, q) * inv;
	return t >= 0.0f ? t : -1.0f;
}

int edit_ray_poly(const float c[][3], unsigned n, const float origin[3], const float dir[3], float tmax,
		  float *t)
{
	float best = -1.0f;
	for (unsigned i = 1; i + 1 < n; i++) {
		float ti = tri_hit(c[0], c[i], c[i + 1], origin, dir);
		if (ti >= 0.0f && ti <= tmax && (best < 0.0f || ti < best))
			best = ti;
	}
	if (best < 0.0f)
		return 0;
	*t = best;
	return 1;
}

unsigned edit_ray_face_corners(const struct th_mesh *m, int32_t f, float c[EDIT_RAY_FACE_CORNERS][3])
{
	unsigned n = 0;
	int32_t h0 = m->faces[f].he, h = h0;
	if (h0 < 0 || (uint32_t)h0 >= m->nhes)
		return 0;
	do {
		if (n == EDIT_RAY_FACE_CORNERS)
			return 0;
		memcpy(c[n++], m->verts[m->hes[h].vert].pos, sizeof c[0]);
		h = m->hes[h].next;
	} while (h != h0);
	return n;
}

/* Face slot f against the ray: whether it beats (*t, *id), the nearest so
 * far (ties: the lower face id); if so they become its. */
static bool face_try(const struct th_mesh *m, int32_t f, const float o[3], const float d[3], float tmax,
		     float *t, uint64_t *id)
{
	float c[EDIT_RAY_FACE_CORNERS][3], ti;
	unsigned n = edit_ray_face_corners(m, f, c);
	if (n < 3 || !edit_ray_poly(c, n, o, d, tmax, &ti))
		return false;
	uint64_t fid = m->faces[f].id;
	if (*id != 0 && (ti > *t || (ti == *t && fid > *id)))
		return false;
	*t = ti;
	*id = fid;
	return true;
}

static void hit_point(const float o[3], const float d[3], float t, float point[3])
{
	for (int k = 0; k < 3; k++)
		point[k] = o[k] + t * d[k];
}

int edit_mesh_raycast_brute(const struct th_mesh *m, const float origin[3], const float dir[3], float tmax,
			    uint64_t *face, float *t, float point[3])
{
	float best = 0.0f;
	uint64_t id = 0;
	for (uint32_t f = 0; f < m->nfaces; f++)
		if (m->faces[f].id)
			face_try(m, (int32_t)f, origin, dir, tmax, &best, &id);
	if (!id)
		return 0;
	*face = id;
	*t = best;
	hit_point(origin, dir, best, point);
	return 1;
}

/* ---- the tree ---------------------------------------------------------------------- */

/* A tree over some of a mesh's face slots: nodes in build order (children
 * after their parent, side by side), each leaf a run of refs (face slots,
 * REF_DEAD once removed). A binned surface-area split, median when every
 * centre coincides. */
#define BVH_LEAF_FACES 4u      /* a node of this many faces or fewer is a leaf */
#define BVH_LEAF_FACES_MAX 16u /* a leaf may hold up to this many when no split pays */
#define BVH_BINS 16u
#define BVH_DEPTH_MAX 48u /* a node this deep is a leaf, whatever it holds */
#define BVH_STACK (BVH_DEPTH_MAX + 2u)
/* Faces added since the last full build go into a side tree, rebuilt on
 * every topology change; past SIDE_MIN faces and a 1/SIDE_FRACTION of the
 * main tree's, or with removed faces past 1/DEAD_FRACTION of the main
 * tree's refs, the whole tree is built again. */
#define BVH_SIDE_MIN 64u
#define BVH_SIDE_FRACTION 8u
#define BVH_DEAD_FRACTION 4u
/* Slab test slack (relative), for the rounding of the box and face tests. */
#define BVH_SLACK 1e-5f
#define REF_DEAD UINT32_MAX
#define WHERE_NONE UINT32_MAX
#define WHERE_SIDE 0x80000000u
#define INV_DIR_MAX FLT_MAX /* 1 / d of a denormal d; an axis with d 0 is ray.along */

struct node {
	float lo[3], hi[3];
	uint32_t first; /* internal: left child (right = first + 1); leaf: first ref */
	uint32_t count; /* 0: internal */
};

struct tree {
	struct node *nodes;
	uint32_t *refs, *ref_leaf; /* face slot and leaf node of each ref */
	uint8_t *dirty;            /* per node: a leaf to refit */
	uint32_t nnodes, nrefs, leaves, depth, live;
	uint32_t cap_nodes, cap_dirty; /* allocated */
};

struct he_snap {
	int32_t vert, next;
};
struct face_snap {
	uint64_t id;
	int32_t he;
	uint32_t n;
};

struct edit_bvh {
	struct tree main, side;
	uint32_t *where; /* per face slot: its ref (WHERE_SIDE: in the side tree), WHERE_NONE */
	uint32_t where_cap;
	uint32_t main_dead;
	/* The mesh as the trees last saw it, to find what changed. */
	float (*vpos)[3];
	struct he_snap *hes;
	struct face_snap *faces;
	uint32_t nv, nh, nf, cap_v, cap_h, cap_f;
	uint64_t version;
};

/* Positions and slab distances are never NaN here: plain compares, inlined. */
static inline float minf(float a, float b)
{
	return a < b ? a : b;
}

static inline float maxf(float a, float b)
{
	return a > b ? a : b;
}

static inline void box_empty(float lo[3], float hi[3])
{
	for (int k = 0; k < 3; k++) {
		lo[k] = FLT_MAX;
		hi[k] = -FLT_MAX;
	}
}

static inline void box_add(float lo[3], float hi[3], const float a[3], const float b[3])
{
	for (int k = 0; k < 3; k++) {
		lo[k] = minf(lo[k], a[k]);
		hi[k] = maxf(hi[k], b[k]);
	}
}

static float box_area(const float lo[3], const float hi[3])
{
	float d[3];
	for (int k = 0; k < 3; k++)
		d[k] = hi[k] > lo[k] ? hi[k] - lo[k] : 0.0f;
	return d[0] * d[1] + d[1] * d[2] + d[2] * d[0];
}

/* The box of face slot f's corners. */
static void face_box(const struct th_mesh *m, int32_t f, float lo[3], float hi[3])
{
	box_empty(lo, hi);
	int32_t h0 = m->faces[f].he, h = h0;
	unsigned n = 0;
	do {
		const float *p = m->verts[m->hes[h].vert].pos;
		box_add(lo, hi, p, p);
		h = m->hes[h].next;
	} while (h != h0 && ++n < EDIT_RAY_FACE_CORNERS);
}

struct prim {
	float lo[3], hi[3], c[3];
	uint32_t slot;
};

struct build {
	struct tree *t;
	struct prim *p;
};

static void make_leaf(struct build *b, uint32_t ni, uint32_t first, uint32_t count)
{
	struct node *nd = &b->t->nodes[ni];
	nd->first = first;
	nd->count = count;
	b->t->leaves++;
	for (uint32_t i = first; i < first + count; i++)
		b->t->ref_leaf[i] = ni;
}

/* The bin of centre coordinate c: clamped as a float before it becomes an
 * int (an extent under 1e-37 makes scale infinite, and 0 * inf is NaN,
 * whose conversion to int is undefined); the same for both passes. */
static inline int bin_of(float c, float lo, float scale)
{
	float x = (c - lo) * scale;
	return x >= (float)BVH_BINS ? (int)BVH_BINS - 1 : x > 0.0f ? (int)x : 0;
}

static void build_node(struct build *b, uint32_t ni, uint32_t first, uint32_t count, uint32_t depth)
{
	struct tree *t = b->t;
	struct node *nd = &t->nodes[ni];
	float clo[3], chi[3];
	box_empty(nd->lo, nd->hi);
	box_empty(clo, chi);
	for (uint32_t i = first; i < first + count; i++) {
		box_add(nd->lo, nd->hi, b->p[i].lo, b->p[i].hi);
		box_add(clo, chi, b->p[i].c, b->p[i].c);
	}
	if (depth > t->depth)
		t->depth = depth;
	if (count <= BVH_LEAF_FACES || depth >= BVH_DEPTH_MAX) {
		make_leaf(b, ni, first, count);
		return;
	}
	int axis = 0;
	for (int k = 1; k < 3; k++)
		if (chi[k] - clo[k] > chi[axis] - clo[axis])
			axis = k;
	float ext = chi[axis] - clo[axis];
	uint32_t mid;
	if (!(ext > 0)) {
		/* Every centre in one place: halves by order. */
		if (count <= BVH_LEAF_FACES_MAX) {
			make_leaf(b, ni, first, count);
			return;
		}
		mid = first + count / 2;
	} else {
		uint32_t bc[BVH_BINS] = { 0 };
		float blo[BVH_BINS][3], bhi[BVH_BINS][3];
		for (unsigned k = 0; k < BVH_BINS; k++)
			box_empty(blo[k], bhi[k]);
		float scale = (float)BVH_BINS / ext;
		for (uint32_t i = first; i < first + count; i++) {
			int k = bin_of(b->p[i].c[axis], clo[axis], scale);
			bc[k]++;
			box_add(blo[k], bhi[k], b->p[i].lo, b->p[i].hi);
		}
		/* Cost of splitting after bin s: left and right counts times areas. */
		float right_area[BVH_BINS];
		uint32_t right_count[BVH_BINS];
		float rlo[3], rhi[3];
		box_empty(rlo, rhi);
		uint32_t rc = 0;
		for (int k = (int)BVH_BINS - 1; k > 0; k--) {
			box_add(rlo, rhi, blo[k], bhi[k]);
			rc += bc[k];
			right_area[k] = box_area(rlo, rhi);
			right_count[k] = rc;
		}
		float llo[3], lhi[3], best = FLT_MAX;
		box_empty(llo, lhi);
		uint32_t lc = 0;
		int split = -1;
		for (unsigned k = 0; k + 1 < BVH_BINS; k++) {
			box_add(llo, lhi, blo[k], bhi[k]);
			lc += bc[k];
			if (!lc || !right_count[k + 1])
				continue;
			float cost = (float)lc * box_area(llo, lhi) + (float)right_count[k + 1] * right_area[k + 1];
			if (cost < best) {
				best = cost;
				split = (int)k;
			}
		}
		if (split < 0 || (best >= (float)count * box_area(nd->lo, nd->hi) && count <= BVH_LEAF_FACES_MAX)) {
			make_leaf(b, ni, first, count);
			return;
		}
		/* Partition: bins up to split on the left. */
		uint32_t i = first, j = first + count;
		while (i < j) {
			int k = bin_of(b->p[i].c[axis], clo[axis], scale);
			if (k <= split) {
				i++;
			} else {
				struct prim tmp = b->p[i];
				b->p[i] = b->p[--j];
				b->p[j] = tmp;
			}
		}
		mid = i;
	}
	uint32_t left = t->nnodes;
	t->nnodes += 2;
	nd->first = left;
	nd->count = 0;
	build_node(b, left, first, mid - first, depth + 1);
	build_node(b, left + 1, mid, first + count - mid, depth + 1);
}

static void tree_free(struct tree *t)
{
	free(t->nodes);
	free(t->refs);
	free(t->ref_leaf);
	free(t->dirty);
	*t = (struct tree){ 0 };
}

/* A tree over face slots[n] of m into *t (zeroed first): 0 or -ENOMEM (*t
 * left empty). */
static int tree_build(const struct th_mesh *m, const uint32_t *slots, uint32_t n, struct tree *t)
{
	*t = (struct tree){ 0 };
	if (!n)
		return 0;
	struct prim *p = malloc((size_t)n * sizeof *p);
	t->nodes = malloc((size_t)(2 * n - 1) * sizeof *t->nodes);
	t->refs = malloc((size_t)n * sizeof *t->refs);
	t->ref_leaf = malloc((size_t)n * sizeof *t->ref_leaf);
	t->dirty = calloc(2 * (size_t)n - 1, 1);
	if (!p || !t->nodes || !t->refs || !t->ref_leaf || !t->dirty) {
		free(p);
		tree_free(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		p[i].slot = slots[i];
		face_box(m, (int32_t)slots[i], p[i].lo, p[i].hi);
		for (int k = 0; k < 3; k++)
			p[i].c[k] = 0.5f * (p[i].lo[k] + p[i].hi[k]);
	}
	struct build b = { .t = t, .p = p };
	t->nnodes = 1;
	build_node(&b, 0, 0, n, 0);
	/* 2 n - 1 nodes were the worst case; leaves of up to BVH_LEAF_FACES
	 * faces use about a third of them: the rest is given back (a shrink
	 * that fails keeps the larger block). */
	struct node *nodes = realloc(t->nodes, (size_t)t->nnodes * sizeof *nodes);
	uint8_t *dirty = realloc(t->dirty, t->nnodes);
	t->nodes = nodes ? nodes : t->nodes;
	t->dirty = dirty ? dirty : t->dirty;
	t->cap_nodes = nodes ? t->nnodes : 2 * n - 1;
	t->cap_dirty = dirty ? t->nnodes : 2 * n - 1;
	for (uint32_t i = 0; i < n; i++)
		t->refs[i] = p[i].slot;
	t->nrefs = t->live = n;
	free(p);
	return 0;
}

/* Leaves marked dirty get their faces' boxes again; every internal node
 * the union of its children's (children come after their parent). */
static void tree_refit(struct tree *t, const struct th_mesh *m)
{
	for (uint32_t i = t->nnodes; i-- > 0;) {
		struct node *nd = &t->nodes[i];
		if (nd->count) {
			if (!t->dirty[i])
				continue;
			t->dirty[i] = 0;
			box_empty(nd->lo, nd->hi);
			for (uint32_t r = nd->first; r < nd->first + nd->count; r++) {
				if (t->refs[r] == REF_DEAD)
					continue;
				float lo[3], hi[3];
				face_box(m, (int32_t)t->refs[r], lo, hi);
				box_add(nd->lo, nd->hi, lo, hi);
			}
		} else {
			const struct node *a = &t->nodes[nd->first], *c = &t->nodes[nd->first + 1];
			for (int k = 0; k < 3; k++) {
				nd->lo[k] = minf(a->lo[k], c->lo[k]);
				nd->hi[k] = maxf(a->hi[k], c->hi[k]);
			}
		}
	}
}

/* ---- the ray through a tree --------------------------------------------------------- */

struct ray {
	float o[3], d[3], inv[3], tmax;
	bool along[3]; /* d[k] is 0: the ray stays in the plane o[k] */
	float t;     /* the nearest so far */
	uint64_t id; /* its face, 0 none */
};

/* Where the ray enters the box (within the slack), or +inf if it misses it
 * or enters past the nearest so far. An axis the ray does not move along
 * is inside or out (with the slack, relative to the coordinates) at any
 * distance: a large stand-in for 1 / 0 would end the slab at that times
 * the origin's distance to its side, short of a far hit (a mesh-space ray
 * through a tiny scale meets the faces at t of 1e30). */
static inline float ray_box(const struct ray *r, const float lo[3], const float hi[3])
{
	float tn = 0.0f, tf = r->id ? r->t : r->tmax;
	for (int k = 0; k < 3; k++) {
		if (r->along[k]) {
			float sk = BVH_SLACK * (fabsf(lo[k]) + fabsf(hi[k])) + FLT_MIN;
			if (r->o[k] < lo[k] - sk || r->o[k] > hi[k] + sk)
				return INFINITY;
			continue;
		}
		float a = (lo[k] - r->o[k]) * r->inv[k], b = (hi[k] - r->o[k]) * r->inv[k];
		tn = maxf(tn, minf(a, b));
		tf = minf(tf, maxf(a, b));
	}
	float slack = BVH_SLACK * (fabsf(tn) + fabsf(tf)) + FLT_MIN;
	return tn <= tf + slack ? tn : INFINITY;
}

static void tree_cast(const struct tree *t, const struct th_mesh *m, struct ray *r)
{
	if (!t->nnodes)
		return;
	uint32_t stack[BVH_STACK];
	float enter[BVH_STACK];
	unsigned sp = 0;
	float t0 = ray_box(r, t->nodes[0].lo, t->nodes[0].hi);
	if (t0 == INFINITY)
		return;
	stack[sp] = 0;
	enter[sp++] = t0;
	while (sp) {
		sp--;
		/* Entered past a crossing found since it was pushed: skip it. */
		if (r->id && enter[sp] > r->t * (1.0f + BVH_SLACK) + FLT_MIN)
			continue;
		const struct node *nd = &t->nodes[stack[sp]];
		if (nd->count) {
			for (uint32_t i = nd->first; i < nd->first + nd->count; i++) {
				uint32_t s = t->refs[i];
				if (s != REF_DEAD)
					face_try(m, (int32_t)s, r->o, r->d, r->tmax, &r->t, &r->id);
			}
			continue;
		}
		uint32_t a = nd->first, b = nd->first + 1;
		float ta = ray_box(r, t->nodes[a].lo, t->nodes[a].hi), tb = ray_box(r, t->nodes[b].lo, t->nodes[b].hi);
		if (tb < ta) {
			float x = ta;
			ta = tb;
			tb = x;
			a = b;
			b = nd->first;
		}
		/* The nearer popped first. A path down holds at most one node per
		 * level, so BVH_STACK always has room (the test is for safety). */
		if (tb != INFINITY && sp < BVH_STACK) {
			stack[sp] = b;
			enter[sp++] = tb;
		}
		if (ta != INFINITY && sp < BVH_STACK) {
			stack[sp] = a;
			enter[sp++] = ta;
		}
	}
}

int edit_bvh_raycast(const struct edit_bvh *b, const struct th_mesh *m, const float origin[3], const float dir[3],
		     float tmax, uint64_t *face, float *t, float point[3])
{
	if (b->version != m->version)
		return -ESTALE;
	struct ray r = { .tmax = tmax };
	for (int k = 0; k < 3; k++) {
		r.o[k] = origin[k];
		r.d[k] = dir[k];
		r.along[k] = dir[k] == 0.0f;
		float inv = dir[k] != 0.0f ? 1.0f / dir[k] : INV_DIR_MAX;
		r.inv[k] = minf(INV_DIR_MAX, maxf(-INV_DIR_MAX, inv));
	}
	tree_cast(&b->main, m, &r);
	tree_cast(&b->side, m, &r);
	if (!r.id)
		return 0;
	*face = r.id;
	*t = r.t;
	hit_point(origin, dir, r.t, point);
	return 1;
}

/* ---- building, and following the mesh -------------------------------------------------- */

/* Room for n entries of size sz in *p (capacity *cap): 0 or -ENOMEM (*p as it was). */
static int grow(void **p, uint32_t *cap, uint32_t n, size_t sz)
{
	if (n <= *cap)
		return 0;
	/* The first room (a build) is what the mesh has; growth doubles. */
	uint32_t c = *cap ? *cap : n > 64 ? n : 64;
	while (c < n)
		c = c > UINT32_MAX / 2 ? n : c * 2;
	void *q = realloc(*p, (size_t)c * sz);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Room for m's slots in the snapshots and the face map. */
static int reserve(struct edit_bvh *b, const struct th_mesh *m)
{
	if (grow((void **)&b->vpos, &b->cap_v, m->nverts, sizeof b->vpos[0]) < 0 ||
	    grow((void **)&b->hes, &b->cap_h, m->nhes, sizeof b->hes[0]) < 0 ||
	    grow((void **)&b->faces, &b->cap_f, m->nfaces, sizeof b->faces[0]) < 0 ||
	    grow((void **)&b->where, &b->where_cap, m->nfaces, sizeof b->where[0]) < 0)
		return -ENOMEM;
	return 0;
}

/* The snapshots (room reserved) take m as it is now. */
static void snapshot(struct edit_bvh *b, const struct th_mesh *m)
{
	for (uint32_t v = 0; v < m->nverts; v++)
		memcpy(b->vpos[v], m->verts[v].pos, sizeof b->vpos[v]);
	for (uint32_t h = 0; h < m->nhes; h++)
		b->hes[h] = (struct he_snap){ .vert = m->hes[h].vert, .next = m->hes[h].next };
	for (uint32_t f = 0; f < m->nfaces; f++)
		b->faces[f] = (struct face_snap){ .id = m->faces[f].id, .he = m->faces[f].he, .n = m->faces[f].n };
	b->nv = m->nverts;
	b->nh = m->nhes;
	b->nf = m->nfaces;
	b->version = m->version;
}

static void bvh_free(struct edit_bvh *b)
{
	tree_free(&b->main);
	tree_free(&b->side);
	free(b->where);
	free(b->vpos);
	free(b->hes);
	free(b->faces);
}

int edit_bvh_build(const struct th_mesh *m, struct edit_bvh **out)
{
	struct edit_bvh *b = calloc(1, sizeof *b);
	uint32_t *slots = malloc(((size_t)m->live_faces + 1) * sizeof *slots);
	if (!b || !slots || reserve(b, m) < 0) {
		free(slots);
		if (b)
			bvh_free(b);
		free(b);
		return -ENOMEM;
	}
	uint32_t n = 0;
	for (uint32_t f = 0; f < m->nfaces && n < m->live_faces; f++)
		if (m->faces[f].id)
			slots[n++] = f;
	int r = tree_build(m, slots, n, &b->main);
	free(slots);
	if (r < 0) {
		bvh_free(b);
		free(b);
		return r;
	}
	for (uint32_t f = 0; f < m->nfaces; f++)
		b->where[f] = WHERE_NONE;
	for (uint32_t i = 0; i < b->main.nrefs; i++)
		b->where[b->main.refs[i]] = i;
	snapshot(b, m);
	*out = b;
	return 0;
}

void edit_bvh_destroy(struct edit_bvh **p)
{
	if (!p || !*p)
		return;
	bvh_free(*p);
	free(*p);
	*p = NULL;
}

/* What changed since the snapshot, per face slot. */
#define MARK_GONE 1u  /* the face the trees hold in this slot is no more */
#define MARK_NEW 2u   /* a face the trees do not hold lives in this slot */
#define MARK_MOVED 4u /* a face the trees hold changed shape or place */

static void mark_moved(uint8_t *mark, int32_t f)
{
	if (f >= 0 && !(mark[f] & MARK_NEW))
		mark[f] |= MARK_MOVED;
}

/* Every face around vertex slot v (its fan, both ways round from a
 * boundary) marked moved. */
static void mark_fan(const struct th_mesh *m, uint32_t v, uint8_t *mark)
{
	int32_t h0 = m->verts[v].he, h = h0;
	if (h0 == TH_MESH_NONE)
		return;
	uint32_t guard = 0;
	bool open = false;
	do {
		mark_moved(mark, m->hes[h].face);
		int32_t t = m->hes[m->hes[h].prev].twin;
		if (t == TH_MESH_NONE) {
			open = true;
			break;
		}
		h = t;
	} while (h != h0 && ++guard < m->nhes);
	for (h = h0, guard = 0; open && ++guard < m->nhes;) {
		int32_t t = m->hes[h].twin;
		if (t == TH_MESH_NONE)
			break;
		h = m->hes[t].next;
		if (h == h0)
			break;
		mark_moved(mark, m->hes[h].face);
	}
}

/* Fills mark[nf] (zeroed) from comparing m with the snapshot. */
static void diff(const struct edit_bvh *b, const struct th_mesh *m, uint8_t *mark, uint32_t nf)
{
	for (uint32_t f = 0; f < nf; f++) {
		uint64_t oid = f < b->nf ? b->faces[f].id : 0, nid = f < m->nfaces ? m->faces[f].id : 0;
		if (oid && oid != nid)
			mark[f] |= MARK_GONE;
		if (nid && nid != oid)
			mark[f] |= MARK_NEW;
		else if (nid && (b->faces[f].he != m->faces[f].he || b->faces[f].n != m->faces[f].n))
			mark[f] |= MARK_MOVED;
	}
	for (uint32_t h = 0; h < m->nhes; h++) {
		const struct th_mesh_he *he = &m->hes[h];
		if (he->vert == TH_MESH_NONE)
			continue;
		if (h >= b->nh || b->hes[h].vert != he->vert || b->hes[h].next != he->next)
			mark_moved(mark, he->face);
	}
	for (uint32_t v = 0; v < m->nverts; v++) {
		if (!m->verts[v].id)
			continue;
		if (v >= b->nv || memcmp(b->vpos[v], m->verts[v].pos, sizeof b->vpos[v]) != 0)
			mark_fan(m, v, mark);
	}
}

static void where_set(struct edit_bvh *b, const struct tree *t, uint32_t side)
{
	for (uint32_t i = 0; i < t->nrefs; i++)
		if (t->refs[i] != REF_DEAD)
			b->where[t->refs[i]] = i | side;
}

/* b takes nb's trees and snapshots; nb's shell is freed. */
static void bvh_replace(struct edit_bvh *b, struct edit_bvh *nb)
{
	bvh_free(b);
	*b = *nb;
	free(nb);
}

int edit_bvh_update(struct edit_bvh *b, const struct th_mesh *m)
{
	if (b->version == m->version)
		return 0;
	uint32_t nf = b->nf > m->nfaces ? b->nf : m->nfaces;
	uint8_t *mark = calloc(nf ? nf : 1, 1);
	if (!mark || reserve(b, m) < 0) {
		free(mark);
		return -ENOMEM;
	}
	/* Slots past the face map's old end have no ref yet. */
	for (uint32_t f = b->nf; f < m->nfaces; f++)
		b->where[f] = WHERE_NONE;
	diff(b, m, mark, nf);
	uint32_t gone_main = 0, gone_side = 0, added = 0;
	for (uint32_t f = 0; f < nf; f++) {
		if ((mark[f] & MARK_GONE) && b->where[f] != WHERE_NONE) {
			if (b->where[f] & WHERE_SIDE)
				gone_side++;
			else
				gone_main++;
		}
		added += (mark[f] & MARK_NEW) != 0;
	}
	int ret = 0;
	if (gone_main || gone_side || added) {
		ret = 1;
		uint32_t main_live = b->main.live - gone_main, side_live = b->side.live - gone_side + added;
		bool full = (side_live > BVH_SIDE_MIN && (uint64_t)side_live * BVH_SIDE_FRACTION > main_live) ||
			    (uint64_t)(b->main_dead + gone_main) * BVH_DEAD_FRACTION > b->main.nrefs;
		if (full) {
			struct edit_bvh *nb;
			int r = edit_bvh_build(m, &nb);
			free(mark);
			if (r < 0)
				return r;
			bvh_replace(b, nb);
			return 1;
		}
		/* The side tree again: its faces still there, and the new ones. */
		uint32_t *slots = malloc(((size_t)side_live + 1) * sizeof *slots), n = 0;
		struct tree side;
		if (!slots) {
			free(mark);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < b->side.nrefs; i++) {
			uint32_t s = b->side.refs[i];
			if (s != REF_DEAD && !(mark[s] & MARK_GONE))
				slots[n++] = s;
		}
		for (uint32_t f = 0; f < m->nfaces; f++)
			if (mark[f] & MARK_NEW)
				slots[n++] = f;
		int r = tree_build(m, slots, n, &side);
		free(slots);
		if (r < 0) {
			free(mark);
			return r;
		}
		/* Nothing fails past here. */
		for (uint32_t i = 0; i < b->side.nrefs; i++)
			if (b->side.refs[i] != REF_DEAD)
				b->where[b->side.refs[i]] = WHERE_NONE;
		for (uint32_t f = 0; f < nf; f++) {
			if (!(mark[f] & MARK_GONE) || f >= b->where_cap || b->where[f] == WHERE_NONE)
				continue;
			uint32_t i = b->where[f];
			b->main.refs[i] = REF_DEAD;
			b->main.dirty[b->main.ref_leaf[i]] = 1;
			b->main.live--;
			b->main_dead++;
			b->where[f] = WHERE_NONE;
		}
		tree_free(&b->side);
		b->side = side;
		where_set(b, &b->side, WHERE_SIDE);
	}
	/* Faces that moved: their leaves refitted. */
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (!(mark[f] & MARK_MOVED) || b->where[f] == WHERE_NONE)
			continue;
		uint32_t w = b->where[f];
		struct tree *t = w & WHERE_SIDE ? &b->side : &b->main;
		t->dirty[t->ref_leaf[w & ~WHERE_SIDE]] = 1;
	}
	free(mark);
	tree_refit(&b->main, m);
	tree_refit(&b->side, m);
	snapshot(b, m);
	return ret;
}

/* What tree_build allocated for t. */
static uint64_t tree_bytes(const struct tree *t)
{
	return (uint64_t)t->cap_nodes * sizeof(struct node) + (uint64_t)t->cap_dirty * sizeof t->dirty[0] +
	       (uint64_t)t->nrefs * (sizeof t->refs[0] + sizeof t->ref_leaf[0]);
}

uint64_t edit_bvh_bytes(const struct edit_bvh *b)
{
	return sizeof *b + tree_bytes(&b->main) + tree_bytes(&b->side) + (uint64_t)b->where_cap * sizeof b->where[0] +
	       (uint64_t)b->cap_v * sizeof b->vpos[0] + (uint64_t)b->cap_h * sizeof b->hes[0] +
	       (uint64_t)b->cap_f * sizeof b->faces[0];
}

void edit_bvh_info(const struct edit_bvh *b, struct edit_bvh_info *out)
{
	*out = (struct edit_bvh_info){
		.nodes = b->main.nnodes + b->side.nnodes,
		.leaves = b->main.leaves + b->side.leaves,
		.faces = b->main.live + b->side.live,
		.depth = b->main.depth > b->side.depth ? b->main.depth : b->side.depth,
		.version = b->version,
	};
}
