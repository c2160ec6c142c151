/* Rays against one mesh's faces (edit_ray.h): the polygon test, the brute
 * force over every face. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit_ray.h"
#include "edit/edit_ray_int.h"

static inline float dot3(const float a[3], const float b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline void sub3(const float a[3], const float b[3], float o[3])
{
	o[0] = a[0] - b[0];
	o[1] = a[1] - b[1];
	o[2] = a[2] - b[2];
}

static inline void cross3(const float a[3], const float b[3], float o[3])
{
	float x = a[1] * b[2] - a[2] * b[1], y = a[2] * b[0] - a[0] * b[2], z = a[0] * b[1] - a[1] * b[0];
	o[0] = x;
	o[1] = y;
	o[2] = z;
}

/* ---- the polygon test ------------------------------------------------------------ */

/* Moller-Trumbore, both sides: t of the crossing of triangle a b c, or -1. */
static float tri_hit(const float a[3], const float b[3], const float c[3], const float o[3], const float d[3])
{
	float e1[3], e2[3], p[3], s[3], q[3];
	sub3(b, a, e1);
	sub3(c, a, e2);
	cross3(d, e2, p);
	float det = dot3(e1, p);
	if (!(det != 0.0f) || !isfinite(det))
		return -1.0f;
	float inv = 1.0f / det;
	sub3(o, a, s);
	float u = dot3(s, p) * inv;
	if (!(u >= 0.0f && u <= 1.0f))
		return -1.0f;
	cross3(s, e1, q);
	float v = dot3(d, q) * inv;
	if (!(v >= 0.0f && u + v <= 1.0f))
		return -1.0f;
	float t = dot3(e2, q) * inv;
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
