/* Ray picking (docs/editor.md, "Ray picking"): which entity, face, edge or
 * vertex a ray — the mouse's, or a controller's aim — points at.
 *
 * One bounding volume hierarchy per mesh (edit_bvh, over the mesh's faces
 * in mesh space), kept by a cache (edit_rays) keyed by mesh id and checked
 * against th_mesh.version each query: a mesh whose faces only moved
 * (vertex positions changed, same faces) is refitted; one whose faces were
 * added or removed is rebuilt incrementally where it can (new faces go into
 * a small side list, rebuilt in full when that grows past a fraction of the
 * tree), and fully otherwise. Queries take the ray in world space and go
 * through each entity's Transform (rotation, non-uniform scale) into mesh
 * space; distances are world metres along the ray. Ties go to the lower
 * entity id, then the lower element id, as edit_pick does.
 *
 * Pure functions of the scene and the ray: no clock, no I/O. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "edit/edit_pick.h"
#include "th_mesh.h"
#include "th_scene.h"

#define EDIT_RAY_MAX_DIST 1000.0f /* metres */

/* ---- one mesh ------------------------------------------------------------ */

struct edit_bvh;

/* Builds the tree of m's faces. -ENOMEM. */
int edit_bvh_build(const struct th_mesh *m, struct edit_bvh **out);
/* Brings b up to m (the mesh it was built from, changed since): 0 refitted
 * or nothing to do, 1 rebuilt (in part or whole), -ENOMEM (b unchanged). */
int edit_bvh_update(struct edit_bvh *b, const struct th_mesh *m);
void edit_bvh_destroy(struct edit_bvh **p);

/* The nearest face the ray (mesh space; dir need not be unit) crosses at
 * parameter t in [0, tmax]: 1 with *face, *t (in units of dir) and point
 * (mesh space), 0 none, -ESTALE when m changed since b last followed it
 * (edit_bvh_update first). Faces are polygons (triangulated by a fan from
 * their first vertex for the test; exact for convex faces). */
int edit_bvh_raycast(const struct edit_bvh *b, const struct th_mesh *m, const float origin[3], const float dir[3],
		     float tmax, uint64_t *face, float *t, float point[3]);
/* The same answer by testing every face (tests, the benchmark's baseline). */
int edit_mesh_raycast_brute(const struct th_mesh *m, const float origin[3], const float dir[3], float tmax,
			    uint64_t *face, float *t, float point[3]);

struct edit_bvh_info {
	uint32_t nodes, leaves, faces, depth;
	uint64_t version; /* th_mesh.version it matches */
};
void edit_bvh_info(const struct edit_bvh *b, struct edit_bvh_info *out);
/* The memory b holds: its trees, its snapshot of the mesh and its face map
 * (what is allocated, room to grow included). */
uint64_t edit_bvh_bytes(const struct edit_bvh *b);

/* ---- the scene ----------------------------------------------------------- */

struct edit_ray {
	float origin[3];
	float dir[3];     /* world space, unit */
	float max_dist;   /* metres; 0: EDIT_RAY_MAX_DIST */
	/* Edges and vertices: an element counts when it lies within this angle
	 * (radians) of the ray as seen from its origin — a mouse: a few pixels
	 * over the focal length in pixels; a controller: about 1 degree. 0: 0.01. */
	float tolerance;
	uint32_t mode;    /* TH_SELECT_OBJECT / FACE / EDGE / VERTEX */
};

struct edit_rays;

int edit_rays_create(struct edit_rays **out);
void edit_rays_destroy(struct edit_rays **p);

/* What r points at: 1 with *out (entity, mesh, mode, element, a, b; dist:
 * world metres from the origin to the hit on the surface; point: that hit,
 * world space), 0 nothing. OBJECT and FACE: the first face the ray crosses
 * (either side of it). EDGE / VERTEX: of the first face crossed, its edge /
 * vertex nearest the ray in angle (seen from the origin; ties: the lower
 * id) when within the tolerance, else nothing (0); an edge's t is where
 * along a -> b that nearest direction meets it. An entity with a zero
 * scale component is hit where its flattened faces lie (the component
 * taken as 1e-30); any finite scale is hit where it is. Trees are built
 * or updated on demand; a mesh whose tree cannot be (out of memory) is
 * tested face by face, with the same answer.
 * -EINVAL (out untouched): a non-finite origin or direction, a zero
 * direction, max_dist below 0 or not finite, tolerance below 0 or past
 * 1.5 rad, an unknown mode. */
int edit_raycast(struct edit_rays *c, const struct th_scene *sc, const struct edit_ray *r, struct edit_hit *out);
/* The nearest point where r crosses the plane through p with normal n
 * (world space): 1 with *out, 0 parallel or behind the origin. For drags. */
int edit_ray_plane(const struct edit_ray *r, const float p[3], const float n[3], float out[3]);

struct edit_rays_stats {
	uint64_t queries;
	uint64_t builds, refits, rebuilds; /* trees built fresh, refitted, rebuilt after topology changes */
	uint64_t brute; /* meshes tested face by face because their tree could not be built (out of memory) */
	uint32_t trees;                    /* alive (meshes gone from the scene are dropped) */
};
void edit_rays_stats(const struct edit_rays *c, struct edit_rays_stats *out);
