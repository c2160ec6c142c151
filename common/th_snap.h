/* Snapping (docs/mesh-ops.md): pure functions the editor tools apply to a
 * point or a rotation before they build an operation. A grid (1 cm by
 * default, as in Blocks), an angle step for rotations (15 degrees by
 * default), and the nearest vertex, edge midpoint or face centre of a mesh
 * within a radius. Settings of 0 mean the default; a setting out of range
 * is refused with -EINVAL and a one-sentence *why. Points are in the
 * mesh's own frame: the caller maps them in and out. */
#pragma once
#include <stdint.h>

#include "th_mesh.h"

#define TH_SNAP_GRID_DEFAULT 0.01f /* metres */
#define TH_SNAP_GRID_MIN 1e-4f
#define TH_SNAP_GRID_MAX 100.0f
#define TH_SNAP_ANGLE_DEFAULT 15.0f /* degrees */
#define TH_SNAP_ANGLE_MIN 0.1f
#define TH_SNAP_ANGLE_MAX 180.0f
#define TH_SNAP_RADIUS_MAX 1000.0f /* metres */

/* Each coordinate of p to the nearest multiple of grid (0: the default)
 * counted from origin (NULL: 0 0 0). out may be p. */
int th_snap_grid(const float p[3], float grid, const float origin[3], float out[3], const char **why);

/* An angle (radians) to the nearest multiple of step degrees (0: the
 * default). */
int th_snap_angle(float radians, float step_deg, float *out, const char **why);

/* A rotation (quaternion x y z w, normalised here) to the nearest multiple
 * of step degrees (0: the default) about its own axis, the axis kept; a
 * rotation that snaps to 0 is the identity. out may be q. */
int th_snap_rotation(const float q[4], float step_deg, float out[4], const char **why);

enum th_snap_kind {
	TH_SNAP_VERTEX = 1,
	TH_SNAP_EDGE_MID = 2,
	TH_SNAP_FACE_CENTRE = 4,
};
#define TH_SNAP_ALL (TH_SNAP_VERTEX | TH_SNAP_EDGE_MID | TH_SNAP_FACE_CENTRE)

struct th_snap_hit {
	uint32_t kind;    /* one TH_SNAP_* */
	float pos[3];     /* the feature's position */
	float dist;       /* from the point */
	uint64_t vertex;  /* VERTEX: the vertex; EDGE_MID: the edge's lower-id end */
	uint64_t vertex2; /* EDGE_MID: the other end */
	uint64_t face;    /* FACE_CENTRE: the face (its centre: the mean of its corners) */
};

/* The feature of m among kinds (a mask of TH_SNAP_*) nearest p within
 * radius (inclusive): 1 with *hit, 0 when none is that near (*hit
 * untouched), -EINVAL with *why. Ties go to a vertex, then an edge
 * midpoint, then a face centre, then the lowest ids, so the answer does
 * not depend on how the mesh was built. */
int th_snap_mesh(const struct th_mesh *m, const float p[3], float radius, unsigned kinds, struct th_snap_hit *hit,
		 const char **why);
