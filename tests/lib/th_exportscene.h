/* The scene the export tests write (test_export.c in tests/common and
 * tests/integration, bench_export.c), as an sh_log history of two authors,
 * with what a correct export of it holds:
 *   A: mesh.create of a strip of 3 quads (material 0)            entity 0
 *   B: material.set 1 "glass" (alpha 0.35), 2 "brass" (metallic 1)
 *   B: mesh.patch of A's mesh: a pentagon of 5 new vertices (material 1)
 *   B: mesh.create of a strip of 2 quads (material 2)           entity 1
 *   A: component.write of entity 1's Transform: rotated 90 degrees about z,
 *      at (5, 0, 0), scale 2
 *   A: entity.create with a Transform only (a node with no mesh)  entity 2
 * Faces 6 (A 3, B 3), triangles 13, glTF vertices 25, OBJ vertices 19. */
#pragma once
#include <stdint.h>

#include "th_scenelog.h"

#define XS_FACES 6u
#define XS_TRIANGLES 13u
#define XS_GLTF_VERTICES 25u
#define XS_OBJ_VERTICES 19u
#define XS_NODES 3u
#define XS_MESHES 2u
#define XS_MATERIALS 3u

struct xs_scene {
	struct lt_author a, b;
	struct sh_mesh strip_a, strip_b;
	uint64_t lamport_a_strip, lamport_b_patch, lamport_b_strip; /* the entries' lamports */
	uint64_t pentagon; /* the pentagon's face id */
};

/* Appends the history above to l (sh_init'd by the caller). 0 or negative errno. */
int xs_build(struct sh_log *l, struct xs_scene *x);

/* mesh.patch by `by` of mesh `on`: a regular polygon of `sides` new
 * vertices at height z around (cx, cy), radius 1, one face of `material`
 * (its id in *face when face is not NULL). 0 or negative errno. */
int xs_ngon(struct sh_log *l, struct lt_author *by, const struct sh_mesh *on, unsigned sides, float cx, float cy,
	    float z, uint32_t material, uint64_t *face);

/* A strip mesh.create of `quads` quads by a on top of l, for scale
 * (the bench's 1 M triangles: several entries of TH_PL_MESH_OPS_MAX ops). */
int xs_big_strips(struct sh_log *l, struct lt_author *a, uint64_t triangles);
