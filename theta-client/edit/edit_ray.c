/* Ray picking over the scene (edit_ray.h): each entity's ray in its mesh's
 * space, the nearest face crossed, then the edge or vertex of that face
 * nearest the ray in angle. */
#include "edit/edit_ray.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit_ray_int.h"
#include "edit/edit_vec.h"

#define RAY_TOLERANCE_DEFAULT 0.01f /* radians */
#define RAY_TOLERANCE_MAX 1.5f      /* radians: below a right angle */
#define RAY_PARALLEL_EPS 1e-6f      /* |n . d| / (|n| |d|) under this: the ray runs along the plane */
/* A mesh-space direction (unit world direction / scale) shorter or longer
 * than these is made unit before the face tests (entity_cast). */
#define RAY_LOCAL_DIR_MIN 1e-4f
#define RAY_LOCAL_DIR_MAX 1e4f
/* The smallest scale the mesh-space test takes: a smaller one (0 included)
 * is this, 1e-30 (origins up to 1e8 m away stay finite in mesh space). */
#define RAY_SCALE_FLAT 1e-30f

#define CACHE_MIN 16u /* table slots at first; the table stays at most half full */

/* One mesh's tree, by mesh id (open addressing, linear probes). */
struct entry {
	uint64_t mesh; /* 0: free */
	struct edit_bvh *bvh;
	uint64_t seen; /* the query that last used it */
};

struct edit_rays {
	struct edit_rays_stats st;
	struct entry *tab;
	uint32_t cap, n;
	uint64_t query;
};

static inline float len3(const float a[3])
{
	return sqrtf(edit_dot3(a, a));
}

static bool finite3(const float a[3])
{
	return isfinite(a[0]) && isfinite(a[1]) && isfinite(a[2]);
}

int edit_rays_create(struct edit_rays **out)
{
	struct edit_rays *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

void edit_rays_destroy(struct edit_rays **p)
{
	if (!p || !*p)
		return;
	struct edit_rays *c = *p;
	for (uint32_t i = 0; i < c->cap; i++)
		edit_bvh_destroy(&c->tab[i].bvh);
	free(c->tab);
	free(c);
	*p = NULL;
}

void edit_rays_stats(const struct edit_rays *c, struct edit_rays_stats *out)
{
	*out = c->st;
	out->trees = c->n;
}

/* ---- the cache ------------------------------------------------------------------------ */

static inline uint32_t slot_of(uint64_t id, uint32_t cap)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

/* Moves every entry kept (keep, or all) into a table of cap slots: 0 or
 * -ENOMEM (the table as it was). Entries left behind lose their tree. */
static int cache_rehash(struct edit_rays *c, uint32_t cap, bool only_seen)
{
	struct entry *tab = calloc(cap, sizeof *tab);
	if (!tab)
		return -ENOMEM;
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->cap; i++) {
		struct entry *e = &c->tab[i];
		if (!e->mesh)
			continue;
		if (only_seen && e->seen != c->query) {
			edit_bvh_destroy(&e->bvh);
			continue;
		}
		uint32_t k = slot_of(e->mesh, cap);
		while (tab[k].mesh)
			k = (k + 1) & (cap - 1);
		tab[k] = *e;
		n++;
	}
	free(c->tab);
	c->tab = tab;
	c->cap = cap;
	c->n = n;
	return 0;
}

/* The entry of mesh id, added when missing; NULL when it cannot be. */
static struct entry *cache_get(struct edit_rays *c, uint64_t id)
{
	if (c->cap) {
		for (uint32_t k = slot_of(id, c->cap);; k = (k + 1) & (c->cap - 1)) {
			if (c->tab[k].mesh == id)
				return &c->tab[k];
			if (!c->tab[k].mesh)
				break;
		}
	}
	if ((c->n + 1) * 2 > c->cap && (c->cap > UINT32_MAX / 4 ||
					 cache_rehash(c, c->cap ? c->cap * 2 : CACHE_MIN, false) < 0))
		return NULL;
	uint32_t k = slot_of(id, c->cap);
	while (c->tab[k].mesh)
		k = (k + 1) & (c->cap - 1);
	c->tab[k] = (struct entry){ .mesh = id };
	c->n++;
	return &c->tab[k];
}

/* Drops the trees of meshes this query did not meet (gone from the scene,
 * or no entity shows them any more). */
static void cache_sweep(struct edit_rays *c)
{
	uint32_t stale = 0;
	for (uint32_t i = 0; i < c->cap; i++)
		stale += c->tab[i].mesh && c->tab[i].seen != c->query;
	if (stale)
		cache_rehash(c, c->cap, true);
}

/* m's tree, brought up to date: NULL when it cannot be (out of memory). */
static const struct edit_bvh *tree_of(struct edit_rays *c, const struct th_mesh *m)
{
	struct entry *e = cache_get(c, m->id);
	if (!e)
		return NULL;
	e->seen = c->query;
	if (!e->bvh) {
		if (edit_bvh_build(m, &e->bvh) < 0)
			return NULL;
		c->st.builds++;
		return e->bvh;
	}
	struct edit_bvh_info bi;
	edit_bvh_info(e->bvh, &bi);
	if (bi.version == m->version)
		return e->bvh;
	int r = edit_bvh_update(e->bvh, m);
	if (r < 0)
		return NULL;
	if (r)
		c->st.rebuilds++;
	else
		c->st.refits++;
	return e->bvh;
}

/* ---- one entity --------------------------------------------------------------------- */

/* The length of a, without overflow or underflow in its square (a mesh-
 * space direction through a scale of 1e-30 or 1e30). */
static float len3_scaled(const float a[3])
{
	float m = fmaxf(fabsf(a[0]), fmaxf(fabsf(a[1]), fabsf(a[2])));
	if (!(m > 0) || !isfinite(m))
		return m;
	float b[3] = { a[0] / m, a[1] / m, a[2] / m };
	return m * len3(b);
}

/* The nearest face of m (shown with xf) the world ray o + t d crosses for
 * t in [0, tmax]: 1 with *face and *t, 0 none, or a negative errno. */
static int entity_cast(struct edit_rays *c, const struct th_mesh *m, const struct th_c_transform *xf,
		       const float o[3], const float d[3], float tmax, uint64_t *face, float *t)
{
	float pt[3];
	/* A scale of 0 (or one too small to invert) on an axis is taken as
	 * RAY_SCALE_FLAT there: the faces lie within 1e-31 m of where they
	 * flatten to, and the mesh-space tree still serves. */
	struct th_c_transform x = *xf;
	for (int k = 0; k < 3; k++)
		if (fabsf(x.scale[k]) < RAY_SCALE_FLAT)
			x.scale[k] = copysignf(RAY_SCALE_FLAT, x.scale[k]);
	{
		/* Mesh space: the same line (the map is affine) with the same
		 * parameter, its direction d / scale. Past a scale of 1e-4 or 1e4
		 * that direction is made unit instead (the parameter then is the
		 * world one times its length l): the face test's products of it
		 * would overflow or underflow (nothing hit at a scale of 1e-20). */
		float ol[3], dl[3], tl = 0.0f, l = 1.0f;
		edit_xf_point_to_local(&x, o, ol);
		edit_xf_dir_to_local(&x, d, dl);
		float dlen = len3_scaled(dl);
		if (!(dlen >= RAY_LOCAL_DIR_MIN && dlen <= RAY_LOCAL_DIR_MAX))
			l = dlen;
		/* An origin so far that its mesh-space place overflows (past
		 * 1e8 m from a flattened entity): tested in world space below. */
		if (l > 0 && isfinite(l) && finite3(ol) && finite3(dl)) {
			if (l != 1.0f)
				for (int k = 0; k < 3; k++)
					dl[k] /= l;
			const struct edit_bvh *b = tree_of(c, m);
			int got;
			if (b) {
				got = edit_bvh_raycast(b, m, ol, dl, tmax * l, face, &tl, pt);
			} else {
				/* No tree (out of memory): every face, the same answer. */
				c->st.brute++;
				got = edit_mesh_raycast_brute(m, ol, dl, tmax * l, face, &tl, pt);
			}
			if (got == 1)
				*t = l == 1.0f ? tl : fminf(tl / l, tmax);
			return got;
		}
	}
	/* Every face in world space, with the entity's own transform. */
	float best = 0.0f, w[EDIT_RAY_FACE_CORNERS][3], ti;
	uint64_t id = 0;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (!m->faces[f].id)
			continue;
		unsigned n = edit_ray_face_corners(m, (int32_t)f, w);
		for (unsigned k = 0; k < n; k++)
			edit_xf_point_to_world(xf, w[k], w[k]);
		if (n < 3 || !edit_ray_poly(w, n, o, d, tmax, &ti))
			continue;
		if (!id || ti < best || (ti == best && m->faces[f].id < id)) {
			best = ti;
			id = m->faces[f].id;
		}
	}
	if (!id)
		return 0;
	*face = id;
	*t = best;
	return 1;
}

/* ---- edges and vertices of the face hit --------------------------------------------- */

/* The angle between unit vectors u and v. */
static float angle_unit(const float u[3], const float v[3])
{
	float x[3];
	edit_cross3(u, v, x);
	return atan2f(len3(x), edit_dot3(u, v));
}

/* The angle between the unit ray direction d and the point p seen from o
 * (a right angle's worth more when p is the origin itself: never picked
 * by that alone). */
static float angle_to(const float o[3], const float d[3], const float p[3])
{
	float w[3];
	edit_sub3(p, o, w);
	float l = len3(w);
	if (!(l > 0))
		return (float)M_PI;
	for (int k = 0; k < 3; k++)
		w[k] /= l;
	return angle_unit(d, w);
}

/* The smallest angle between d and the directions from o to the points of
 * segment a-b, and where along a -> b (*s in [0, 1]) it is reached: the
 * segment seen as an arc of the sphere of directions around o. */
static float angle_to_segment(const float o[3], const float d[3], const float a[3], const float b[3], float *s)
{
	float ea = angle_to(o, d, a), eb = angle_to(o, d, b);
	float end = ea <= eb ? ea : eb;
	*s = ea <= eb ? 0.0f : 1.0f;
	float pa[3], pb[3], n[3], e[3];
	edit_sub3(a, o, pa);
	edit_sub3(b, o, pb);
	edit_cross3(pa, pb, n);
	float nl = len3(n);
	if (!(nl > 0))
		return end; /* seen end-on, or through the origin */
	for (int k = 0; k < 3; k++)
		n[k] /= nl;
	float dn = edit_dot3(d, n), p[3];
	for (int k = 0; k < 3; k++)
		p[k] = d[k] - dn * n[k];
	float pl = len3(p);
	if (!(pl > 0))
		return end;
	for (int k = 0; k < 3; k++)
		p[k] /= pl;
	/* The foot p of d on the arc's great circle: inside the arc when it
	 * lies between pa and pb going round n. */
	float x[3];
	edit_cross3(pa, p, x);
	if (edit_dot3(x, n) < 0)
		return end;
	edit_cross3(p, pb, x);
	if (edit_dot3(x, n) < 0)
		return end;
	float in = asinf(fminf(1.0f, fabsf(dn)));
	if (!(in < end))
		return end;
	/* Where the line a + s (b - a) meets direction p. */
	edit_sub3(pb, pa, e);
	float y[3];
	edit_cross3(e, p, y);
	float den = edit_dot3(y, n);
	edit_cross3(pa, p, x);
	float sv = den != 0.0f ? -edit_dot3(x, n) / den : 0.0f;
	*s = sv < 0 ? 0 : sv > 1 ? 1 : sv;
	return in;
}

/* The edge (EDGE) or vertex (VERTEX) of face fid of m nearest the world
 * ray in angle, within tol: 1 with out's mode, element, a, b, t; else 0. */
static int element_of_face(const struct th_mesh *m, const struct th_c_transform *xf, uint64_t fid,
			   const float o[3], const float d[3], float tol, uint32_t mode, struct edit_hit *out)
{
	int32_t f = th_mesh_face_find(m, fid);
	uint64_t ids[EDIT_RAY_FACE_CORNERS];
	float w[EDIT_RAY_FACE_CORNERS][3];
	if (f == TH_MESH_NONE)
		return 0;
	int n = th_mesh_face_loop(m, f, ids, EDIT_RAY_FACE_CORNERS);
	if (n < 3 || edit_ray_face_corners(m, f, w) != (unsigned)n)
		return 0;
	for (int k = 0; k < n; k++)
		edit_xf_point_to_world(xf, w[k], w[k]);
	float best = FLT_MAX;
	uint64_t best_id = 0;
	for (int k = 0; k < n; k++) {
		float ang, s = 0;
		uint64_t id, ia = ids[k], ib = ids[(k + 1) % n];
		if (mode == TH_SELECT_VERTEX) {
			ang = angle_to(o, d, w[k]);
			id = ia;
		} else {
			ang = angle_to_segment(o, d, w[k], w[(k + 1) % n], &s);
			id = th_mesh_edge_id(ia, ib);
		}
		if (ang > tol || ang > best || (ang == best && id >= best_id))
			continue;
		best = ang;
		best_id = id;
		out->element = id;
		if (mode == TH_SELECT_VERTEX) {
			out->a = ia;
			out->b = 0;
			out->t = 0;
		} else {
			out->a = ia < ib ? ia : ib;
			out->b = ia < ib ? ib : ia;
			out->t = ia < ib ? s : 1.0f - s;
		}
	}
	if (!best_id)
		return 0;
	out->mode = mode;
	return 1;
}

/* ---- the scene ----------------------------------------------------------------------- */

int edit_raycast(struct edit_rays *c, const struct th_scene *sc, const struct edit_ray *r, struct edit_hit *out)
{
	if (!c || !r || !out)
		return -EINVAL;
	float tmax = r->max_dist == 0.0f ? EDIT_RAY_MAX_DIST : r->max_dist;
	float tol = r->tolerance == 0.0f ? RAY_TOLERANCE_DEFAULT : r->tolerance;
	float dl = len3(r->dir);
	if (!finite3(r->origin) || !finite3(r->dir) || !(dl > 0) || !isfinite(dl) || !(tmax > 0) ||
	    !isfinite(tmax) || !(tol > 0 && tol <= RAY_TOLERANCE_MAX) || r->mode > TH_SELECT_VERTEX)
		return -EINVAL;
	float d[3] = { r->dir[0] / dl, r->dir[1] / dl, r->dir[2] / dl };
	c->st.queries++;
	c->query++;
	if (!sc) {
		cache_sweep(c);
		return 0;
	}
	size_t cur = 0;
	uint64_t id, best_entity = 0, best_face = 0;
	float best_t = tmax;
	const struct th_mesh *best_m = NULL;
	const struct th_c_transform *best_xf = NULL;
	int err = 0;
	while (th_scene_next_entity(sc, &cur, &id)) {
		const struct th_c_transform *xf;
		const struct th_mesh *m;
		if (!edit_entity_mesh(sc, id, &xf, &m) || !m->live_faces)
			continue;
		uint64_t face = 0;
		float t = 0.0f;
		/* tmax shrinks to the nearest so far; a tie still comes back (<=). */
		int got = entity_cast(c, m, xf, r->origin, d, best_t, &face, &t);
		if (got < 0) {
			err = got;
			continue;
		}
		if (!got || (best_m && (t > best_t || (t == best_t && id > best_entity))))
			continue;
		best_t = t;
		best_entity = id;
		best_face = face;
		best_m = m;
		best_xf = xf;
	}
	cache_sweep(c);
	if (!best_m)
		return err;
	struct edit_hit h = { .entity = best_entity, .mesh = best_m->id, .dist = best_t };
	for (int k = 0; k < 3; k++)
		h.point[k] = r->origin[k] + best_t * d[k];
	if (r->mode == TH_SELECT_OBJECT) {
		h.mode = TH_SELECT_OBJECT;
		h.element = TH_SELECT_WHOLE;
	} else if (r->mode == TH_SELECT_FACE) {
		h.mode = TH_SELECT_FACE;
		h.element = best_face;
	} else if (!element_of_face(best_m, best_xf, best_face, r->origin, d, tol, r->mode, &h)) {
		return 0;
	}
	*out = h;
	return 1;
}

int edit_ray_plane(const struct edit_ray *r, const float p[3], const float n[3], float out[3])
{
	float nl = len3(n), dl = len3(r->dir);
	float den = edit_dot3(n, r->dir);
	if (!(nl > 0) || !(dl > 0) || !finite3(r->origin) || !finite3(p) || !(fabsf(den) > RAY_PARALLEL_EPS * nl * dl))
		return 0;
	float w[3];
	edit_sub3(p, r->origin, w);
	float s = edit_dot3(n, w) / den;
	if (!(s >= 0) || !isfinite(s))
		return 0;
	for (int k = 0; k < 3; k++)
		out[k] = r->origin[k] + s * r->dir[k];
	return 1;
}
