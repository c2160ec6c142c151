/* Private to edit_ray.c and edit_bvh.c: the ray against one polygon, the
 * test both the tree's leaves and the brute force make, so both give the
 * same t bit for bit. */
#pragma once
#include <stdint.h>

#include "th_mesh.h"

#define EDIT_RAY_FACE_CORNERS TH_MESH_FACE_VERTS_MAX

/* The smallest t in [0, tmax] where origin + t dir crosses the polygon
 * c[n] (a fan of triangles from c[0], both sides): 1 with *t, 0 none. */
int edit_ray_poly(const float c[][3], unsigned n, const float origin[3], const float dir[3], float tmax,
		  float *t);
/* Mesh-space corners of face slot f into c; their count, 0 for a bad loop. */
unsigned edit_ray_face_corners(const struct th_mesh *m, int32_t f, float c[EDIT_RAY_FACE_CORNERS][3]);
