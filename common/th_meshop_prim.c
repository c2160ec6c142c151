/* Primitives (th_meshop.h, docs/mesh-ops.md): the ops of a mesh.create,
 * every corner a local reference. Each primitive is centred on the origin
 * with +y up; closed ones are genus-0 shells (Euler characteristic 2, the
 * torus 0), the plane a disk (1); faces wind counter-clockwise seen from
 * outside. Positions are computed in double and rounded once. */
#include "th_meshop.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRIM_DEFAULT_SIZE 1.0f      /* cube edge, plane side, cylinder and cone height (m) */
#define PRIM_DEFAULT_RADIUS 0.5f    /* sphere, cylinder, cone base, torus ring (m) */
#define PRIM_DEFAULT_TUBE 0.125f    /* torus tube radius (m) */
#define PRIM_DEFAULT_SEGMENTS 16u
#define PRIM_DEFAULT_RINGS 8u
#define PRIM_DEFAULT_ICO_LEVELS 2u
#define PRIM_ICO_LEVELS_MAX 5u
#define PRIM_RINGS_MIN_SPHERE 2u
#define PRIM_RINGS_MIN_TORUS 3u
#define PRIM_SEGMENTS_MIN 3u

static const double PRIM_PI = 3.14159265358979323846;

void th_prim_defaults(struct th_prim *pp, uint32_t kind)
{
	memset(pp, 0, sizeof(*pp));
	pp->kind = kind;
	for (int i = 0; i < 3; i++)
		pp->size[i] = PRIM_DEFAULT_SIZE;
	pp->radius = PRIM_DEFAULT_RADIUS;
	pp->height = PRIM_DEFAULT_SIZE;
	pp->segments = PRIM_DEFAULT_SEGMENTS;
	pp->rings = PRIM_DEFAULT_RINGS;
	if (kind == TH_PRIM_TORUS)
		pp->radius2 = PRIM_DEFAULT_TUBE;
	if (kind == TH_PRIM_ICOSPHERE)
		pp->subdiv = PRIM_DEFAULT_ICO_LEVELS;
}

/* ---- building ---------------------------------------------------------------- */

static int vert(struct th_patch *p, double x, double y, double z, uint32_t *ref)
{
	float pos[3] = { (float)x, (float)y, (float)z };
	int r = th_patch_vertex_add(p, pos);
	if (r < 0)
		return r;
	*ref = (uint32_t)r;
	return 0;
}

static int face(struct th_patch *p, uint32_t material, const uint32_t *refs, unsigned n)
{
	struct th_pref c[TH_MESH_FACE_VERTS_MAX];
	for (unsigned k = 0; k < n; k++)
		c[k] = th_pref_local(refs[k]);
	return th_patch_face_add(p, material, c, n);
}

static int quad(struct th_patch *p, uint32_t material, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	uint32_t q[4] = { a, b, c, d };
	return face(p, material, q, 4);
}

static int tri(struct th_patch *p, uint32_t material, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t t[3] = { a, b, c };
	return face(p, material, t, 3);
}

/* Cube and plane: a lattice of (n + 1)^3 points (n = cuts + 1 steps per
 * edge), of which the surface points become vertices. lat[] holds their
 * local references. The face of axis a on side s (0: low, 1: high) is an
 * n x n grid of quads over the two other axes u = a + 1, v = a + 2 (mod 3),
 * e_u x e_v = e_a: corners (u,v) (u+1,v) (u+1,v+1) (u,v+1) wind
 * counter-clockwise seen from +a, so the low side takes them reversed. */
static size_t lat_at(unsigned n, const unsigned c[3])
{
	return ((size_t)c[0] * (n + 1) + c[1]) * (n + 1) + c[2];
}

static int lattice_face(struct th_patch *p, uint32_t material, const uint32_t *lat, unsigned n, unsigned a,
			unsigned side)
{
	unsigned u = (a + 1) % 3, v = (a + 2) % 3;
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < n; k++) {
			uint32_t q[4];
			static const unsigned du[4] = { 0, 1, 1, 0 }, dv[4] = { 0, 0, 1, 1 };
			for (unsigned t = 0; t < 4; t++) {
				unsigned c[3];
				c[a] = side ? n : 0;
				c[u] = i + du[t];
				c[v] = k + dv[t];
				q[side ? t : 3 - t] = lat[lat_at(n, c)];
			}
			int r = face(p, material, q, 4);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The cube: the lattice's six faces. The plane: the +y face of a lattice
 * one point thick, at y = 0. */
static int build_lattice(const struct th_prim *pp, struct th_patch *p, bool plane)
{
	unsigned n = pp->subdiv + 1;
	size_t cnt = (size_t)(n + 1) * (n + 1) * (n + 1);
	uint32_t *lat = calloc(cnt, sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	int r = 0;
	unsigned c[3];
	for (c[0] = 0; c[0] <= n && !r; c[0]++)
		for (c[1] = plane ? n : 0; c[1] <= n && !r; c[1]++)
			for (c[2] = 0; c[2] <= n && !r; c[2]++) {
				bool surface = false;
				double x[3];
				for (int i = 0; i < 3; i++) {
					surface |= c[i] == 0 || c[i] == n;
					x[i] = pp->size[i] * ((double)c[i] / n - 0.5);
				}
				if (plane)
					x[1] = 0;
				if (surface)
					r = vert(p, x[0], x[1], x[2], &lat[lat_at(n, c)]);
			}
	for (unsigned a = 0; a < 3 && !r; a++)
		for (unsigned side = 0; side < 2 && !r; side++)
			if (!plane || (a == 1 && side == 1))
				r = lattice_face(p, pp->material, lat, n, a, side);
	free(lat);
	return r;
}

/* Shapes of revolution about y: stations from bottom to top, each a point
 * on the axis or a ring of `seg` vertices at angle phi_i = 2 pi i / seg,
 * (rho cos phi, y, -rho sin phi), which runs counter-clockwise seen from
 * above. Consecutive stations are joined by quads (ring to ring) or
 * triangles (point to ring); a ring at either end is closed by a cap, one
 * n-gon when seg <= TH_MESH_FACE_VERTS_MAX (else the caller puts a point
 * station there, a fan of triangles). */
struct station {
	double y, rho; /* rho 0: a point on the axis */
};

static int build_revolution(struct th_patch *p, uint32_t material, const struct station *st, unsigned nst,
			    unsigned seg)
{
	uint32_t base[2] = { 0, 0 }; /* the local reference of the previous and this station's first vertex */
	uint32_t bottom = 0;         /* the first station's */
	bool ring_prev = false;
	for (unsigned s = 0; s < nst; s++) {
		bool ring = st[s].rho > 0;
		uint32_t first = 0;
		int r;
		if (!ring) {
			r = vert(p, 0, st[s].y, 0, &first);
		} else {
			for (unsigned i = 0; i < seg; i++) {
				double phi = 2 * PRIM_PI * i / seg;
				uint32_t ref;
				r = vert(p, st[s].rho * cos(phi), st[s].y, -st[s].rho * sin(phi), &ref);
				if (r < 0)
					return r;
				if (!i)
					first = ref;
			}
			r = 0;
		}
		if (r < 0)
			return r;
		base[0] = base[1];
		base[1] = first;
		if (!s)
			bottom = first;
		if (s > 0) {
			for (unsigned i = 0; i < seg && !r; i++) {
				unsigned i1 = (i + 1) % seg;
				uint32_t lo = base[0], hi = base[1];
				if (ring_prev && ring)
					r = quad(p, material, lo + i, lo + i1, hi + i1, hi + i);
				else if (ring)
					r = tri(p, material, lo, hi + i1, hi + i);
				else if (ring_prev)
					r = tri(p, material, lo + i, lo + i1, hi);
			}
			if (r < 0)
				return r;
		}
		ring_prev = ring;
	}
	/* caps: ring stations at the ends (a point station needs none) */
	uint32_t loop[TH_MESH_FACE_VERTS_MAX];
	if (st[0].rho > 0) { /* the bottom ring is the first vertices, seen from below: reversed */
		for (unsigned i = 0; i < seg; i++)
			loop[i] = bottom + (seg - i) % seg;
		int r = face(p, material, loop, seg);
		if (r < 0)
			return r;
	}
	if (nst > 1 && st[nst - 1].rho > 0) {
		for (unsigned i = 0; i < seg; i++)
			loop[i] = base[1] + i;
		int r = face(p, material, loop, seg);
		if (r < 0)
			return r;
	}
	return 0;
}

#define PRIM_STATIONS_MAX (TH_PRIM_SEGMENTS_MAX + 1)

static int build_uvsphere(const struct th_prim *pp, struct th_patch *p)
{
	struct station st[PRIM_STATIONS_MAX];
	unsigned rings = pp->rings;
	for (unsigned k = 0; k <= rings; k++) {
		double theta = PRIM_PI * (rings - k) / rings; /* from the south pole up */
		st[k].y = pp->radius * cos(theta);
		st[k].rho = (k == 0 || k == rings) ? 0 : pp->radius * sin(theta);
	}
	return build_revolution(p, pp->material, st, rings + 1, pp->segments);
}

/* Cylinder and cone: a cap wider than one face becomes a fan around a
 * centre point on the axis. */
static int build_tube(const struct th_prim *pp, struct th_patch *p, double r_bottom, double r_top)
{
	struct station st[4];
	unsigned n = 0;
	double h = pp->height / 2;
	bool fan = pp->segments > TH_MESH_FACE_VERTS_MAX;
	if (fan)
		st[n++] = (struct station){ -h, 0 };
	st[n++] = (struct station){ -h, r_bottom };
	st[n++] = (struct station){ h, r_top };
	if (fan && r_top > 0)
		st[n++] = (struct station){ h, 0 };
	return build_revolution(p, pp->material, st, n, pp->segments);
}

/* Torus: ring radius R about y, tube radius t; segment i around y, ring k
 * around the tube (angle psi from the outer equator, upwards). */
static int build_torus(const struct th_prim *pp, struct th_patch *p)
{
	unsigned seg = pp->segments, rings = pp->rings;
	uint32_t b = 0; /* vertex (i, k) is local reference b + i * rings + k */
	for (unsigned i = 0; i < seg; i++) {
		double phi = 2 * PRIM_PI * i / seg;
		for (unsigned k = 0; k < rings; k++) {
			double psi = 2 * PRIM_PI * k / rings;
			double rho = pp->radius + pp->radius2 * cos(psi);
			uint32_t ref;
			int r = vert(p, rho * cos(phi), pp->radius2 * sin(psi), -rho * sin(phi), &ref);
			if (r < 0)
				return r;
			if (!i && !k)
				b = ref;
		}
	}
	for (unsigned i = 0; i < seg; i++) {
		unsigned i1 = (i + 1) % seg;
		for (unsigned k = 0; k < rings; k++) {
			unsigned k1 = (k + 1) % rings;
			int r = quad(p, pp->material, b + i * rings + k, b + i1 * rings + k, b + i1 * rings + k1,
				     b + i * rings + k1);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Icosphere: the icosahedron, each level splitting every triangle into four
 * through its edge midpoints pushed out to the sphere. Built in memory
 * (positions in double, triangles as vertex indices), then emitted. */
struct ico {
	double (*pos)[3];
	uint32_t (*tri)[3];
	uint32_t nv, nt;
	uint64_t *key; /* edge midpoint table: (lo << 32 | hi) + 1, 0 empty */
	uint32_t *mid;
	uint32_t cap;
};

static void unit(double v[3])
{
	double l = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	for (int i = 0; i < 3; i++)
		v[i] /= l;
}

static uint32_t ico_mid(struct ico *s, uint32_t a, uint32_t b)
{
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
	uint64_t k = ((uint64_t)lo << 32 | hi) + 1;
	uint32_t h = (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 32) & (s->cap - 1);
	while (s->key[h] && s->key[h] != k)
		h = (h + 1) & (s->cap - 1);
	if (!s->key[h]) {
		s->key[h] = k;
		double *m = s->pos[s->nv];
		for (int i = 0; i < 3; i++)
			m[i] = (s->pos[a][i] + s->pos[b][i]) / 2;
		unit(m);
		s->mid[h] = s->nv++;
	}
	return s->mid[h];
}

#define ICO_V0 12u
#define ICO_T0 20u

static int build_icosphere(const struct th_prim *pp, struct th_patch *p)
{
	unsigned levels = pp->subdiv;
	uint32_t nt_max = ICO_T0 << (2 * levels), nv_max = nt_max / 2 + 2;
	uint32_t cap = 1;
	while (cap < 3 * nt_max) /* twice the edges of the finest level */
		cap *= 2;
	struct ico s = { .pos = malloc(nv_max * sizeof(*s.pos)),
			 .tri = malloc(2 * (size_t)nt_max * sizeof(*s.tri)),
			 .key = malloc(cap * sizeof(uint64_t)),
			 .mid = malloc(cap * sizeof(uint32_t)),
			 .cap = cap };
	int r = 0;
	if (!s.pos || !s.tri || !s.key || !s.mid) {
		r = -ENOMEM;
		goto out;
	}
	static const double g = 1.61803398874989484820; /* the golden ratio */
	static const double v0[ICO_V0][3] = { { -1, g, 0 }, { 1, g, 0 }, { -1, -g, 0 }, { 1, -g, 0 },
					      { 0, -1, g }, { 0, 1, g }, { 0, -1, -g }, { 0, 1, -g },
					      { g, 0, -1 }, { g, 0, 1 }, { -g, 0, -1 }, { -g, 0, 1 } };
	static const uint32_t t0[ICO_T0][3] = { { 0, 11, 5 }, { 0, 5, 1 }, { 0, 1, 7 }, { 0, 7, 10 }, { 0, 10, 11 },
						{ 1, 5, 9 }, { 5, 11, 4 }, { 11, 10, 2 }, { 10, 7, 6 }, { 7, 1, 8 },
						{ 3, 9, 4 }, { 3, 4, 2 }, { 3, 2, 6 }, { 3, 6, 8 }, { 3, 8, 9 },
						{ 4, 9, 5 }, { 2, 4, 11 }, { 6, 2, 10 }, { 8, 6, 7 }, { 9, 8, 1 } };
	for (unsigned i = 0; i < ICO_V0; i++) {
		memcpy(s.pos[i], v0[i], sizeof(v0[i]));
		unit(s.pos[i]);
	}
	memcpy(s.tri, t0, sizeof(t0));
	for (unsigned t = 0; t < ICO_T0; t++) { /* outwards: the normal along the centroid */
		const double *a = s.pos[s.tri[t][0]], *b = s.pos[s.tri[t][1]], *c = s.pos[s.tri[t][2]];
		double u[3], v[3], n[3], d = 0;
		for (int i = 0; i < 3; i++) {
			u[i] = b[i] - a[i];
			v[i] = c[i] - a[i];
		}
		n[0] = u[1] * v[2] - u[2] * v[1];
		n[1] = u[2] * v[0] - u[0] * v[2];
		n[2] = u[0] * v[1] - u[1] * v[0];
		for (int i = 0; i < 3; i++)
			d += n[i] * (a[i] + b[i] + c[i]);
		if (d < 0) {
			uint32_t sw = s.tri[t][1];
			s.tri[t][1] = s.tri[t][2];
			s.tri[t][2] = sw;
		}
	}
	s.nv = ICO_V0;
	s.nt = ICO_T0;
	/* the two halves of s.tri: the current level and the next */
	uint32_t (*cur)[3] = s.tri, (*nxt)[3] = s.tri + nt_max;
	for (unsigned l = 0; l < levels; l++) {
		memset(s.key, 0, cap * sizeof(uint64_t));
		uint32_t nt = 0;
		for (uint32_t t = 0; t < s.nt; t++) {
			uint32_t a = cur[t][0], b = cur[t][1], c = cur[t][2];
			uint32_t ab = ico_mid(&s, a, b), bc = ico_mid(&s, b, c), ca = ico_mid(&s, c, a);
			const uint32_t kids[4][3] = { { a, ab, ca }, { ab, b, bc }, { ca, bc, c }, { ab, bc, ca } };
			memcpy(nxt[nt], kids, sizeof(kids));
			nt += 4;
		}
		s.nt = nt;
		uint32_t (*sw)[3] = cur;
		cur = nxt;
		nxt = sw;
	}
	uint32_t first = 0;
	for (uint32_t v = 0; v < s.nv && !r; v++) {
		uint32_t ref;
		r = vert(p, pp->radius * s.pos[v][0], pp->radius * s.pos[v][1], pp->radius * s.pos[v][2], &ref);
		if (!v)
			first = ref;
	}
	for (uint32_t t = 0; t < s.nt && !r; t++)
		r = tri(p, pp->material, first + cur[t][0], first + cur[t][1], first + cur[t][2]);
out:
	free(s.pos);
	free(s.tri);
	free(s.key);
	free(s.mid);
	return r;
}

/* ---- validation ---------------------------------------------------------------- */

static bool size_ok(float x)
{
	return isfinite(x) && x >= TH_PRIM_SIZE_MIN && x <= TH_PRIM_SIZE_MAX;
}

#define WHY_SIZE(what) what ": must be finite, 0.0001 to 1000 metres"

static const char *refusal(const struct th_prim *pp)
{
	bool round = pp->kind != TH_PRIM_CUBE && pp->kind != TH_PRIM_PLANE && pp->kind != TH_PRIM_ICOSPHERE;
	if (pp->kind < TH_PRIM_CUBE || pp->kind > TH_PRIM_MAX)
		return "kind: not a primitive (cube, UV sphere, icosphere, cylinder, cone, torus or plane)";
	if (pp->material >= TH_PL_MATERIALS_MAX)
		return "material: index out of range (0 to 255)";
	switch (pp->kind) {
	case TH_PRIM_CUBE:
		for (int i = 0; i < 3; i++)
			if (!size_ok(pp->size[i]))
				return WHY_SIZE("size");
		break;
	case TH_PRIM_PLANE:
		if (!size_ok(pp->size[0]) || !size_ok(pp->size[2]))
			return WHY_SIZE("size (x and z)");
		break;
	case TH_PRIM_CYLINDER:
	case TH_PRIM_CONE:
		if (!size_ok(pp->height))
			return WHY_SIZE("height");
		break;
	default:
		break;
	}
	if (pp->kind != TH_PRIM_CUBE && pp->kind != TH_PRIM_PLANE && !size_ok(pp->radius))
		return WHY_SIZE("radius");
	if (pp->kind == TH_PRIM_CONE && !(pp->radius2 == 0 || size_ok(pp->radius2)))
		return "radius2: the cone's top radius must be 0 (a point) or 0.0001 to 1000 metres";
	if (pp->kind == TH_PRIM_TORUS) {
		if (!size_ok(pp->radius2))
			return WHY_SIZE("radius2");
		if (!(pp->radius2 < pp->radius))
			return "radius2: the torus's tube radius must be smaller than its ring radius";
	}
	if (round && (pp->segments < PRIM_SEGMENTS_MIN || pp->segments > TH_PRIM_SEGMENTS_MAX))
		return "segments: must be 3 to 256";
	if (pp->kind == TH_PRIM_UVSPHERE && (pp->rings < PRIM_RINGS_MIN_SPHERE || pp->rings > TH_PRIM_SEGMENTS_MAX))
		return "rings: a UV sphere needs 2 to 256 rings";
	if (pp->kind == TH_PRIM_TORUS && (pp->rings < PRIM_RINGS_MIN_TORUS || pp->rings > TH_PRIM_SEGMENTS_MAX))
		return "rings: a torus needs 3 to 256 rings";
	if (pp->kind == TH_PRIM_ICOSPHERE && pp->subdiv > PRIM_ICO_LEVELS_MAX)
		return "subdiv: an icosphere takes 0 to 5 levels";
	if ((pp->kind == TH_PRIM_CUBE || pp->kind == TH_PRIM_PLANE) && pp->subdiv > TH_PRIM_SUBDIV_MAX)
		return "subdiv: cuts per edge must be 0 to 64";
	return NULL;
}

int th_op_primitive(const struct th_prim *pp, struct th_patch *out, const char **why)
{
	const char *w = refusal(pp);
	if (w)
		return *why = w, -EINVAL;
	uint32_t n0 = out->n;
	int r = -EINVAL;
	switch (pp->kind) {
	case TH_PRIM_CUBE:
		r = build_lattice(pp, out, false);
		break;
	case TH_PRIM_UVSPHERE:
		r = build_uvsphere(pp, out);
		break;
	case TH_PRIM_ICOSPHERE:
		r = build_icosphere(pp, out);
		break;
	case TH_PRIM_CYLINDER:
		r = build_tube(pp, out, pp->radius, pp->radius);
		break;
	case TH_PRIM_CONE:
		r = build_tube(pp, out, pp->radius, pp->radius2);
		break;
	case TH_PRIM_TORUS:
		r = build_torus(pp, out);
		break;
	case TH_PRIM_PLANE:
		r = build_lattice(pp, out, true);
		break;
	}
	if (r < 0) {
		th_patch_truncate(out, n0);
		if (r == -EINVAL)
			*why = "a primitive's position came out non-finite";
	}
	return r;
}
