/* Picking (docs/editor.md, "Picking"): which mesh entity, face, edge or
 * vertex the controller's tip is at. Pure functions of the scene (entity
 * Transform + MeshRef, the mesh) and a point in world (stage) space:
 * distances are measured in world space, so an entity's rotation and
 * non-uniform scale are taken into account. Ties go to the lower entity id,
 * then the lower element id, so every run picks the same thing whatever
 * order the scene walks its entities in. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "th_mesh.h"
#include "th_scene.h"
#include "th_schema.h"

#define EDIT_PICK_RADIUS_DEFAULT 0.05f /* metres around the tip */
#define EDIT_PICK_RADIUS_MAX 10.0f

struct edit_hit {
	uint64_t entity, mesh;
	uint32_t mode;    /* TH_SELECT_* */
	uint64_t element; /* face or vertex id; th_mesh_edge_id(a, b) for an edge; 0 for the object */
	uint64_t a, b;    /* an edge's vertices (a < b); a vertex: a */
	float dist;       /* metres from the tip, world space */
	float point[3];   /* the closest point on the element, world space */
	float t;          /* an edge: where point lies along a -> b, [0, 1] */
};

/* Transform (position, unit quaternion rotation x y z w, scale) of points
 * and of directions (no translation) between an entity's mesh space and the
 * world. to_local of a direction applies the inverse scale, so it maps a
 * world displacement to the mesh-space displacement that moves a vertex by
 * it. A zero scale component maps to 0. */
void edit_xf_point_to_world(const struct th_c_transform *t, const float l[3], float w[3]);
void edit_xf_point_to_local(const struct th_c_transform *t, const float w[3], float l[3]);
void edit_xf_dir_to_world(const struct th_c_transform *t, const float l[3], float w[3]);
void edit_xf_dir_to_local(const struct th_c_transform *t, const float w[3], float l[3]);
/* Quaternions (x y z w): a b (apply b, then a), and v rotated by q. */
void edit_quat_mul(const float a[4], const float b[4], float out[4]);
void edit_quat_rotate(const float q[4], const float v[3], float out[3]);
/* A face normal (mesh space) to world space: inverse-transpose, unit. */
void edit_xf_normal_to_world(const struct th_c_transform *t, const float l[3], float w[3]);

/* The element of mesh m (shown with transform t) of kind mode nearest the
 * tip within radius: 1 with *out filled (entity and mesh left 0), 0 none.
 * TH_SELECT_OBJECT: the nearest face (or vertex of a mesh with no face)
 * within radius, or the tip inside the mesh's bounding box (distance 0).
 * Faces: the distance to the polygon (the plane inside it, else its
 * nearest edge; exact for convex faces). */
int edit_pick_mesh(const struct th_mesh *m, const struct th_c_transform *t, const float tip[3], float radius,
		   uint32_t mode, struct edit_hit *out);

/* The nearest over every entity with Transform and MeshRef whose mesh
 * exists: 1 with *out, 0 none. */
int edit_pick(const struct th_scene *sc, const float tip[3], float radius, uint32_t mode, struct edit_hit *out);
/* As edit_pick, on one entity only (the selected one): 1, 0 (nothing in
 * reach, or the entity or its mesh is gone). */
int edit_pick_entity(const struct th_scene *sc, uint64_t entity, const float tip[3], float radius, uint32_t mode,
		     struct edit_hit *out);
/* The entity's Transform and mesh: true when it has both. */
bool edit_entity_mesh(const struct th_scene *sc, uint64_t entity, const struct th_c_transform **t,
		      const struct th_mesh **m);
/* Where vertex id vertex of entity's mesh is, world space: true, or false
 * (out untouched) when the entity, its mesh or the vertex is gone. */
bool edit_vertex_world(const struct th_scene *sc, uint64_t entity, uint64_t vertex, float out[3]);
