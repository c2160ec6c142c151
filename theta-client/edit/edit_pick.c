/* Picking (edit_pick.h): world-space distances from the tip to faces,
 * edges and vertices of the scene's meshes. */
#include "edit/edit_pick.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit_vec.h"
#include "th_quat.h"

/* ---- vectors and the entity transform -------------------------------------------- */

/* v rotated by the unit quaternion q (x y z w); conj: by its inverse. */
static void quat_rotate(const float q[4], bool conj, const float v[3], float o[3])
{
	float u[3] = { conj ? -q[0] : q[0], conj ? -q[1] : q[1], conj ? -q[2] : q[2] }, w = q[3];
	float t[3], c[3];
	edit_cross3(u, v, t);
	for (int k = 0; k < 3; k++)
		t[k] *= 2.0f;
	edit_cross3(u, t, c);
	for (int k = 0; k < 3; k++)
		o[k] = v[k] + w * t[k] + c[k];
}

void edit_quat_rotate(const float q[4], const float v[3], float out[3])
{
	quat_rotate(q, false, v, out);
}

void edit_quat_mul(const float a[4], const float b[4], float out[4])
{
	float r[4];
	th_quat_mul(a, b, r);
	float x = r[0], y = r[1], z = r[2], w = r[3];
	float n = sqrtf(x * x + y * y + z * z + w * w);
	if (!(n > 0))
		n = 1;
	out[0] = x / n;
	out[1] = y / n;
	out[2] = z / n;
	out[3] = w / n;
}

static inline float inv_or_zero(float s)
{
	return s != 0.0f ? 1.0f / s : 0.0f;
}

void edit_xf_dir_to_world(const struct th_c_transform *t, const float l[3], float w[3])
{
	float s[3] = { l[0] * t->scale[0], l[1] * t->scale[1], l[2] * t->scale[2] };
	quat_rotate(t->rotation, false, s, w);
}

void edit_xf_point_to_world(const struct th_c_transform *t, const float l[3], float w[3])
{
	edit_xf_dir_to_world(t, l, w);
	for (int k = 0; k < 3; k++)
		w[k] += t->position[k];
}

void edit_xf_dir_to_local(const struct th_c_transform *t, const float w[3], float l[3])
{
	float r[3];
	quat_rotate(t->rotation, true, w, r);
	for (int k = 0; k < 3; k++)
		l[k] = r[k] * inv_or_zero(t->scale[k]);
}

void edit_xf_point_to_local(const struct th_c_transform *t, const float w[3], float l[3])
{
	float d[3];
	edit_sub3(w, t->position, d);
	edit_xf_dir_to_local(t, d, l);
}

void edit_xf_normal_to_world(const struct th_c_transform *t, const float l[3], float w[3])
{
	float s[3] = { l[0] * inv_or_zero(t->scale[0]), l[1] * inv_or_zero(t->scale[1]), l[2] * inv_or_zero(t->scale[2]) };
	quat_rotate(t->rotation, false, s, w);
	float n = sqrtf(edit_dot3(w, w));
	if (n > 0)
		for (int k = 0; k < 3; k++)
			w[k] /= n;
}

/* ---- distances --------------------------------------------------------------------- */

/* Closest point to p on segment a-b: its parameter and the squared distance. */
static float seg_dist2(const float p[3], const float a[3], const float b[3], float *t_out, float q[3])
{
	float ab[3], ap[3];
	edit_sub3(b, a, ab);
	edit_sub3(p, a, ap);
	float l2 = edit_dot3(ab, ab), t = l2 > 0 ? edit_dot3(ap, ab) / l2 : 0.0f;
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	float d[3];
	for (int k = 0; k < 3; k++)
		q[k] = a[k] + t * ab[k];
	edit_sub3(p, q, d);
	*t_out = t;
	return edit_dot3(d, d);
}

#define FACE_CORNERS TH_MESH_FACE_VERTS_MAX

/* World positions of face slot f's corners; their count (0 on a bad face). */
static unsigned face_world(const struct th_mesh *m, const struct th_c_transform *t, int32_t f,
			   float w[FACE_CORNERS][3])
{
	unsigned n = 0;
	int32_t h0 = m->faces[f].he, h = h0;
	do {
		if (n == FACE_CORNERS)
			return 0;
		edit_xf_point_to_world(t, m->verts[m->hes[h].vert].pos, w[n++]);
		h = m->hes[h].next;
	} while (h != h0);
	return n;
}

/* Squared distance from p to the polygon w[n] and the closest point. */
static float poly_dist2(const float p[3], float w[FACE_CORNERS][3], unsigned n, float q[3])
{
	float nrm[3] = { 0, 0, 0 }, c[3] = { 0, 0, 0 };
	for (unsigned i = 0; i < n; i++) {
		const float *a = w[i], *b = w[(i + 1) % n];
		nrm[0] += (a[1] - b[1]) * (a[2] + b[2]);
		nrm[1] += (a[2] - b[2]) * (a[0] + b[0]);
		nrm[2] += (a[0] - b[0]) * (a[1] + b[1]);
		for (int k = 0; k < 3; k++)
			c[k] += a[k] / (float)n;
	}
	float len = sqrtf(edit_dot3(nrm, nrm));
	if (len > 0) {
		for (int k = 0; k < 3; k++)
			nrm[k] /= len;
		float cp[3];
		edit_sub3(p, c, cp);
		float h = edit_dot3(cp, nrm), pr[3];
		for (int k = 0; k < 3; k++)
			pr[k] = p[k] - h * nrm[k];
		bool inside = true;
		for (unsigned i = 0; i < n && inside; i++) {
			float e[3], v[3], x[3];
			edit_sub3(w[(i + 1) % n], w[i], e);
			edit_sub3(pr, w[i], v);
			edit_cross3(e, v, x);
			inside = edit_dot3(x, nrm) >= 0;
		}
		if (inside) {
			memcpy(q, pr, sizeof pr);
			return h * h;
		}
	}
	float best = FLT_MAX;
	for (unsigned i = 0; i < n; i++) {
		float t, e[3], d = seg_dist2(p, w[i], w[(i + 1) % n], &t, e);
		if (d < best) {
			best = d;
			memcpy(q, e, sizeof e);
		}
	}
	return best;
}

/* The nearest candidate so far (ties: the lowest id). */
struct nearest {
	float d2;
	uint64_t id;
};
#define NEAREST_NONE ((struct nearest){ .d2 = FLT_MAX, .id = UINT64_MAX })

/* Whether candidate id at squared distance d2 (point q) is within r2 and
 * beats the nearest so far: it becomes the nearest and *out its hit
 * (mode, element, dist, point; the caller adds the rest). */
static bool nearer(struct nearest *best, float d2, float r2, uint64_t id, uint32_t mode, const float q[3],
		   struct edit_hit *out)
{
	if (d2 > r2 || !(d2 < best->d2 || (d2 == best->d2 && id < best->id)))
		return false;
	*best = (struct nearest){ .d2 = d2, .id = id };
	*out = (struct edit_hit){ .mode = mode, .element = id, .dist = sqrtf(d2) };
	memcpy(out->point, q, sizeof out->point);
	return true;
}

/* A quick reject in mesh space, before any world transform: the tip in
 * mesh space and the radius there, r / the smallest |scale| (a mesh-space
 * distance d is at least d * that scale in the world, so an element
 * farther than this in mesh space is out of reach), with a margin for
 * rounding. Off (every element tested exactly) for a zero scale. */
#define CULL_MARGIN 1.001f
#define PICK_STACK_VERTS 16384u /* a face pick's outcodes fit on the stack up to this many vertex slots */
struct cull {
	bool on;
	float tip[3];
	float r;
};

static struct cull cull_of(const struct th_c_transform *t, const float tip[3], float r2)
{
	struct cull c = { 0 };
	float s = fminf(fabsf(t->scale[0]), fminf(fabsf(t->scale[1]), fabsf(t->scale[2])));
	if (!(s > 0))
		return c;
	c.on = true;
	c.r = sqrtf(r2) / s * CULL_MARGIN + FLT_EPSILON;
	edit_xf_point_to_local(t, tip, c.tip);
	return c;
}

/* Whether the mesh-space box [lo, hi] is out of reach. */
static bool culled(const struct cull *c, const float lo[3], const float hi[3])
{
	for (int k = 0; k < 3; k++)
		if (c->tip[k] < lo[k] - c->r || c->tip[k] > hi[k] + c->r)
			return true;
	return false;
}

/* Where a mesh-space point lies against the reach box around the tip:
 * bit 2k below it on axis k, bit 2k + 1 above. */
static uint8_t outcode(const struct cull *c, const float p[3])
{
	uint8_t o = 0;
	for (int k = 0; k < 3; k++)
		o |= (uint8_t)((p[k] < c->tip[k] - c->r) << (2 * k) | (p[k] > c->tip[k] + c->r) << (2 * k + 1));
	return o;
}

/* Face slot f is out of reach: all its corners beyond one side of the
 * reach box (code: each vertex slot's outcode). */
static bool face_culled(const struct th_mesh *m, const uint8_t *code, int32_t f)
{
	int32_t h0 = m->faces[f].he, h = h0;
	uint8_t all = 0x3f;
	unsigned n = 0;
	do {
		if (n++ == FACE_CORNERS)
			return false; /* a bad loop: face_world refuses it */
		all &= code[m->hes[h].vert];
		h = m->hes[h].next;
	} while (h != h0 && all);
	return all != 0;
}

static int pick_faces(const struct th_mesh *m, const struct th_c_transform *t, const float tip[3], float r2,
		      struct edit_hit *out)
{
	float w[FACE_CORNERS][3];
	struct nearest best = NEAREST_NONE;
	struct cull c = cull_of(t, tip, r2);
	/* The vertices' outcodes once: on the stack for a small mesh, else a
	 * scratch for this pick (without it every face is tested exactly). */
	uint8_t small[PICK_STACK_VERTS], *code = NULL;
	if (c.on && m->nverts)
		code = m->nverts <= PICK_STACK_VERTS ? small : malloc(m->nverts);
	for (uint32_t v = 0; code && v < m->nverts; v++)
		code[v] = outcode(&c, m->verts[v].pos);
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (!m->faces[f].id || (code && face_culled(m, code, (int32_t)f)))
			continue;
		unsigned n = face_world(m, t, (int32_t)f, w);
		float q[3];
		if (n >= 3)
			nearer(&best, poly_dist2(tip, w, n, q), r2, m->faces[f].id, TH_SELECT_FACE, q, out);
	}
	if (code != small)
		free(code);
	return best.id != UINT64_MAX;
}

static int pick_edges(const struct th_mesh *m, const struct th_c_transform *t, const float tip[3], float r2,
		      struct edit_hit *out)
{
	struct nearest best = NEAREST_NONE;
	struct cull c = cull_of(t, tip, r2);
	for (uint32_t h = 0; h < m->nhes; h++) {
		const struct th_mesh_he *he = &m->hes[h];
		if (he->vert == TH_MESH_NONE)
			continue;
		int32_t va = he->vert, vb = m->hes[he->next].vert;
		uint64_t ia = m->verts[va].id, ib = m->verts[vb].id;
		/* Each undirected edge once: from its lower id, or the only half-edge. */
		if (ia > ib && he->twin != TH_MESH_NONE)
			continue;
		if (c.on) {
			const float *pa = m->verts[va].pos, *pb = m->verts[vb].pos;
			float lo[3], hi[3];
			for (int k = 0; k < 3; k++) {
				lo[k] = fminf(pa[k], pb[k]);
				hi[k] = fmaxf(pa[k], pb[k]);
			}
			if (culled(&c, lo, hi))
				continue;
		}
		float a[3], b[3], q[3], tt;
		edit_xf_point_to_world(t, m->verts[va].pos, a);
		edit_xf_point_to_world(t, m->verts[vb].pos, b);
		float d2 = seg_dist2(tip, a, b, &tt, q);
		if (!nearer(&best, d2, r2, th_mesh_edge_id(ia, ib), TH_SELECT_EDGE, q, out))
			continue;
		out->a = ia < ib ? ia : ib;
		out->b = ia < ib ? ib : ia;
		out->t = ia < ib ? tt : 1.0f - tt;
	}
	return best.id != UINT64_MAX;
}

static int pick_vertices(const struct th_mesh *m, const struct th_c_transform *t, const float tip[3], float r2,
			 struct edit_hit *out)
{
	struct nearest best = NEAREST_NONE;
	struct cull c = cull_of(t, tip, r2);
	for (uint32_t v = 0; v < m->nverts; v++) {
		if (!m->verts[v].id || (c.on && culled(&c, m->verts[v].pos, m->verts[v].pos)))
			continue;
		float w[3], d[3];
		edit_xf_point_to_world(t, m->verts[v].pos, w);
		edit_sub3(tip, w, d);
		if (nearer(&best, edit_dot3(d, d), r2, m->verts[v].id, TH_SELECT_VERTEX, w, out))
			out->a = m->verts[v].id;
	}
	return best.id != UINT64_MAX;
}

static bool inside_bounds(const struct th_mesh *m, const struct th_c_transform *t, const float tip[3])
{
	float lo[3] = { FLT_MAX, FLT_MAX, FLT_MAX }, hi[3] = { -FLT_MAX, -FLT_MAX, -FLT_MAX }, l[3];
	bool any = false;
	for (uint32_t v = 0; v < m->nverts; v++) {
		if (!m->verts[v].id)
			continue;
		any = true;
		for (int k = 0; k < 3; k++) {
			lo[k] = fminf(lo[k], m->verts[v].pos[k]);
			hi[k] = fmaxf(hi[k], m->verts[v].pos[k]);
		}
	}
	if (!any)
		return false;
	edit_xf_point_to_local(t, tip, l);
	for (int k = 0; k < 3; k++)
		if (!(l[k] >= lo[k] && l[k] <= hi[k]))
			return false;
	return true;
}

int edit_pick_mesh(const struct th_mesh *m, const struct th_c_transform *t, const float tip[3], float radius,
		   uint32_t mode, struct edit_hit *out)
{
	if (!(radius >= 0 && radius <= EDIT_PICK_RADIUS_MAX))
		return 0;
	float r2 = radius * radius;
	struct edit_hit h;
	int got = 0;
	switch (mode) {
	case TH_SELECT_FACE: got = pick_faces(m, t, tip, r2, &h); break;
	case TH_SELECT_EDGE: got = pick_edges(m, t, tip, r2, &h); break;
	case TH_SELECT_VERTEX: got = pick_vertices(m, t, tip, r2, &h); break;
	case TH_SELECT_OBJECT:
		if (inside_bounds(m, t, tip)) {
			h = (struct edit_hit){ .dist = 0 };
			memcpy(h.point, tip, sizeof h.point);
			got = 1;
		} else {
			got = m->live_faces ? pick_faces(m, t, tip, r2, &h) : pick_vertices(m, t, tip, r2, &h);
		}
		if (got) {
			h.mode = TH_SELECT_OBJECT;
			h.element = TH_SELECT_WHOLE;
			h.a = h.b = 0;
		}
		break;
	default: return 0;
	}
	if (got)
		*out = h;
	return got;
}

bool edit_entity_mesh(const struct th_scene *sc, uint64_t entity, const struct th_c_transform **t,
		      const struct th_mesh **m)
{
	const struct th_c_transform *xf = th_scene_component(sc, entity, TH_COMP_TRANSFORM);
	const struct th_c_mesh_ref *mr = th_scene_component(sc, entity, TH_COMP_MESH_REF);
	const struct th_mesh *mesh = mr ? th_scene_mesh(sc, mr->mesh) : NULL;
	if (!xf || !mesh)
		return false;
	*t = xf;
	*m = mesh;
	return true;
}

bool edit_vertex_world(const struct th_scene *sc, uint64_t entity, uint64_t vertex, float out[3])
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	int32_t v;
	if (!sc || !edit_entity_mesh(sc, entity, &t, &m) || (v = th_mesh_vert_find(m, vertex)) < 0)
		return false;
	edit_xf_point_to_world(t, m->verts[v].pos, out);
	return true;
}

int edit_pick_entity(const struct th_scene *sc, uint64_t entity, const float tip[3], float radius, uint32_t mode,
		     struct edit_hit *out)
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	struct edit_hit h;
	if (!sc || !edit_entity_mesh(sc, entity, &t, &m) || !edit_pick_mesh(m, t, tip, radius, mode, &h))
		return 0;
	h.entity = entity;
	h.mesh = m->id;
	*out = h;
	return 1;
}

int edit_pick(const struct th_scene *sc, const float tip[3], float radius, uint32_t mode, struct edit_hit *out)
{
	if (!sc)
		return 0;
	size_t cur = 0;
	uint64_t id;
	struct edit_hit best = { 0 }, h;
	bool got = false;
	while (th_scene_next_entity(sc, &cur, &id)) {
		if (!edit_pick_entity(sc, id, tip, radius, mode, &h))
			continue;
		if (!got || h.dist < best.dist || (h.dist == best.dist && h.entity < best.entity)) {
			best = h;
			got = true;
		}
	}
	if (got)
		*out = best;
	return got;
}
