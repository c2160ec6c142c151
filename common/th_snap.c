/* Snapping (th_snap.h): grid, angle and mesh features. Arithmetic in
 * double, rounded once; nothing here reads or changes a mesh beyond
 * looking at it. */
#include "th_snap.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

static const double SNAP_PI = 3.14159265358979323846;
/* Below this |sin(angle / 2)| a rotation has no usable axis: the identity. */
#define SNAP_AXIS_MIN 1e-7

static bool finite3(const float v[3])
{
	return isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]);
}

int th_snap_grid(const float p[3], float grid, const float origin[3], float out[3], const char **why)
{
	if (grid == 0)
		grid = TH_SNAP_GRID_DEFAULT;
	if (!isfinite(grid) || grid < TH_SNAP_GRID_MIN || grid > TH_SNAP_GRID_MAX)
		return *why = "grid: the grid size must be 0.0001 to 100 metres", -EINVAL;
	if (!finite3(p) || (origin && !finite3(origin)))
		return *why = "point: must be finite", -EINVAL;
	float r[3];
	for (int i = 0; i < 3; i++) {
		double o = origin ? origin[i] : 0;
		r[i] = (float)(o + round(((double)p[i] - o) / grid) * grid);
	}
	memcpy(out, r, sizeof(r));
	return 0;
}

static const char *step_refusal(float *step_deg)
{
	if (*step_deg == 0)
		*step_deg = TH_SNAP_ANGLE_DEFAULT;
	if (!isfinite(*step_deg) || *step_deg < TH_SNAP_ANGLE_MIN || *step_deg > TH_SNAP_ANGLE_MAX)
		return "angle: the angle step must be 0.1 to 180 degrees";
	return NULL;
}

int th_snap_angle(float radians, float step_deg, float *out, const char **why)
{
	const char *w = step_refusal(&step_deg);
	if (w)
		return *why = w, -EINVAL;
	if (!isfinite(radians))
		return *why = "angle: must be finite", -EINVAL;
	double step = step_deg * SNAP_PI / 180;
	*out = (float)(round(radians / step) * step);
	return 0;
}

int th_snap_rotation(const float q[4], float step_deg, float out[4], const char **why)
{
	const char *w = step_refusal(&step_deg);
	if (w)
		return *why = w, -EINVAL;
	double v[4] = { q[0], q[1], q[2], q[3] };
	double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]);
	if (!isfinite(n) || !(n > 0))
		return *why = "rotation: the quaternion must be finite and not zero", -EINVAL;
	for (int i = 0; i < 4; i++)
		v[i] = (v[3] < 0 ? -v[i] : v[i]) / n; /* w >= 0: the angle in [0, pi] */
	double s = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	double angle = 2 * atan2(s, v[3]);
	double step = step_deg * SNAP_PI / 180;
	double snapped = round(angle / step) * step;
	float r[4] = { 0, 0, 0, 1 };
	if (s > SNAP_AXIS_MIN && snapped != 0) {
		double k = sin(snapped / 2) / s;
		for (int i = 0; i < 3; i++)
			r[i] = (float)(v[i] * k);
		r[3] = (float)cos(snapped / 2);
	}
	memcpy(out, r, sizeof(r));
	return 0;
}

/* ---- mesh features ------------------------------------------------------------ */

struct cand {
	double dist;
	uint32_t kind;
	uint64_t a, b; /* the ids that break a tie */
	float pos[3];
};

/* Whether c beats the best so far: nearer, else the lower kind, else
 * lower ids. */
static bool better(const struct cand *c, const struct cand *best, bool have)
{
	if (!have || c->dist != best->dist)
		return !have || c->dist < best->dist;
	if (c->kind != best->kind)
		return c->kind < best->kind;
	return c->a != best->a ? c->a < best->a : c->b < best->b;
}

static void consider(const float p[3], double radius, struct cand *c, struct cand *best, bool *have)
{
	double d2 = 0;
	for (int i = 0; i < 3; i++)
		d2 += ((double)c->pos[i] - p[i]) * ((double)c->pos[i] - p[i]);
	c->dist = sqrt(d2);
	if (c->dist <= radius && better(c, best, *have)) {
		*best = *c;
		*have = true;
	}
}

int th_snap_mesh(const struct th_mesh *m, const float p[3], float radius, unsigned kinds, struct th_snap_hit *hit,
		 const char **why)
{
	if (!isfinite(radius) || radius < 0 || radius > TH_SNAP_RADIUS_MAX)
		return *why = "radius: the snap radius must be 0 to 1000 metres", -EINVAL;
	if (!kinds || (kinds & ~(unsigned)TH_SNAP_ALL))
		return *why = "kinds: snap to vertices, edge midpoints or face centres (a mask of TH_SNAP_*)", -EINVAL;
	if (!finite3(p))
		return *why = "point: must be finite", -EINVAL;
	struct cand best = { 0 }, c;
	bool have = false;
	if (kinds & TH_SNAP_VERTEX)
		for (uint32_t v = 0; v < m->nverts; v++) {
			if (!m->verts[v].id)
				continue;
			c = (struct cand){ .kind = TH_SNAP_VERTEX, .a = m->verts[v].id };
			memcpy(c.pos, m->verts[v].pos, sizeof(c.pos));
			consider(p, radius, &c, &best, &have);
		}
	if (kinds & TH_SNAP_EDGE_MID)
		for (uint32_t h = 0; h < m->nhes; h++) {
			const struct th_mesh_he *e = &m->hes[h];
			if (e->vert == TH_MESH_NONE || (e->twin != TH_MESH_NONE && e->twin < (int32_t)h))
				continue; /* each edge once */
			const struct th_mesh_vert *va = &m->verts[e->vert], *vb = &m->verts[m->hes[e->next].vert];
			c = (struct cand){ .kind = TH_SNAP_EDGE_MID };
			c.a = va->id < vb->id ? va->id : vb->id;
			c.b = va->id < vb->id ? vb->id : va->id;
			for (int i = 0; i < 3; i++)
				c.pos[i] = (float)(((double)va->pos[i] + vb->pos[i]) / 2);
			consider(p, radius, &c, &best, &have);
		}
	if (kinds & TH_SNAP_FACE_CENTRE)
		for (uint32_t f = 0; f < m->nfaces; f++) {
			const struct th_mesh_face *fc = &m->faces[f];
			if (!fc->id)
				continue;
			double s[3] = { 0, 0, 0 };
			int32_t h = fc->he;
			for (unsigned k = 0; k < fc->n; k++, h = m->hes[h].next)
				for (int i = 0; i < 3; i++)
					s[i] += m->verts[m->hes[h].vert].pos[i];
			c = (struct cand){ .kind = TH_SNAP_FACE_CENTRE, .a = fc->id };
			for (int i = 0; i < 3; i++)
				c.pos[i] = (float)(s[i] / fc->n);
			consider(p, radius, &c, &best, &have);
		}
	if (!have)
		return 0;
	*hit = (struct th_snap_hit){ .kind = best.kind, .dist = (float)best.dist };
	memcpy(hit->pos, best.pos, sizeof(hit->pos));
	if (best.kind == TH_SNAP_FACE_CENTRE)
		hit->face = best.a;
	else
		hit->vertex = best.a, hit->vertex2 = best.b;
	return 1;
}
