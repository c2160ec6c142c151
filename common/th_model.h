/* A neutral in-memory model read from outside files (th_gltf_read.c,
 * th_obj_read.c) before it becomes scene commands (`thetactl import`):
 * objects, each with a transform and its own vertices and n-gon faces
 * (3..TH_MODEL_FACE_VERTS_MAX corners, counter-clockwise seen from the
 * front), and a material table. Every limit is a named constant below; a
 * reader refuses what breaks one with one sentence naming what and where.
 *
 * After reading, every object is a valid Theta mesh: th_model_order (run by
 * both readers) finds an order in which its faces join a half-edge mesh one
 * by one, each step valid (common/th_mesh.h: distinct corners, each directed
 * edge in one face, every vertex one fan), so the faces can be split across
 * entries of at most TH_PL_MESH_OPS_MAX ops, each of which the fold accepts.
 * Non-manifold input is refused with a sentence naming the object and face,
 * not split. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_payload.h"

#define TH_MODEL_FILE_MAX (64u << 20)       /* bytes of one input file */
#define TH_MODEL_VERTS_MAX (1u << 21)       /* vertices of all objects */
#define TH_MODEL_FACES_MAX (1u << 21)       /* faces of all objects */
#define TH_MODEL_CORNERS_MAX (1u << 23)     /* corners of all faces */
#define TH_MODEL_OBJECTS_MAX 4096u
#define TH_MODEL_MATERIALS_MAX 255u         /* the scene's table less its default entry */
#define TH_MODEL_FACE_VERTS_MAX TH_PL_FACE_VERTS_MAX
#define TH_MODEL_NAME_MAX 63u               /* bytes of an object's name */
#define TH_MODEL_MATERIAL_NAME_MAX TH_PL_MATERIAL_NAME_MAX
#define TH_MODEL_WHY_LEN 256u               /* room for a reader's sentence */
#define TH_MODEL_NO_MATERIAL UINT32_MAX

struct th_model_material {
	char name[TH_MODEL_MATERIAL_NAME_MAX + 1];
	float base_color[4]; /* each in [0, 1] */
	float roughness, metallic; /* in [0, 1] */
	/* The scene table index the file says it came from (a Theta export's
	 * extras.theta_material), or TH_MODEL_NO_MATERIAL. */
	uint32_t source_index;
};

struct th_model_face {
	uint32_t first; /* into corners */
	uint32_t n;
	uint32_t material; /* into materials, or TH_MODEL_NO_MATERIAL */
};

struct th_model_object {
	char name[TH_MODEL_NAME_MAX + 1];
	float position[3], rotation[4] /* x y z w, unit */, scale[3];
	uint32_t first_vert, n_verts; /* its vertices (corners index them globally) */
	uint32_t first_face, n_faces;
	uint32_t *order; /* th_model_order: the faces (0..n_faces-1) in a joinable order */
};

struct th_model {
	float (*pos)[3];
	uint32_t *corners;
	struct th_model_face *faces;
	struct th_model_object *objects;
	uint32_t n_verts, n_corners, n_faces, n_objects;
	uint32_t cap_verts, cap_corners, cap_faces, cap_objects;
	struct th_model_material materials[TH_MODEL_MATERIALS_MAX];
	uint32_t n_materials;
};

void th_model_init(struct th_model *m);
void th_model_fini(struct th_model *m);

/* Building (the readers): objects one after the other, vertices and faces
 * appended to the open (last) object. 0, -E2BIG past a limit (why says
 * which), -ENOMEM. */
int th_model_object_add(struct th_model *m, const char *name, char *why, size_t whylen);
int th_model_vert_add(struct th_model *m, const float p[3], char *why, size_t whylen);
/* corners are global vertex indices of the open object's vertices. */
int th_model_face_add(struct th_model *m, const uint32_t *corners, uint32_t n, uint32_t material, char *why,
		      size_t whylen);
/* A material; its index, or -E2BIG. */
int th_model_material_add(struct th_model *m, const struct th_model_material *mt, char *why, size_t whylen);

/* Room for one more of n elements of size in *p (capacity *cap, doubling
 * up to max): 0, -E2BIG when n has reached max, -ENOMEM. The readers'
 * own arrays and thetactl import's plan grow by it too. */
int th_model_grow(void **p, uint32_t *cap, uint32_t n, uint32_t max, size_t size);
/* A reader's last step with its result r so far: r < 0 empties m; a model
 * without objects is refused with "<empty>: nothing to import"; else
 * th_model_order. Returns the result. */
int th_model_finish(struct th_model *m, int r, const char *empty, char *why, size_t whylen);

/* Welds exactly equal positions (+0 and -0 equal) among the open object's
 * vertices from first_vert on, used by its faces from first_face on (one
 * glTF primitive): corners name the first of equal vertices; vertices no
 * face names are dropped unless keep_unused (OBJ's free vertices). A face
 * whose corners become equal is refused (-EINVAL, why). */
int th_model_weld(struct th_model *m, uint32_t first_vert, uint32_t first_face, bool keep_unused, char *why,
		  size_t whylen);

/* Puts the open object's faces from first_face back together: counts[k]
 * consecutive triangles become face k (the boundary loop of their union,
 * which must be one polygon without inner points: counts[k] + 2 corners).
 * sum(counts) must equal the triangles there. 0 or -EINVAL with why. */
int th_model_merge_triangles(struct th_model *m, uint32_t first_face, const uint32_t *counts, uint32_t n,
			     char *why, size_t whylen);

/* For every object: an order of its faces in which each joins a
 * half-edge mesh of the object's vertices validly (object->order). 0, or
 * -EINVAL with a sentence naming the object and the face that cannot join
 * (non-manifold, repeated or flipped faces), -ENOMEM. */
int th_model_order(struct th_model *m, char *why, size_t whylen);

/* The readers: the whole file at p[len] into m (initialised here; on a
 * refusal m is empty again). 0, or -EINVAL / -E2BIG with one sentence in
 * why naming what is wrong and where, or -ENOMEM. Both weld and order
 * (th_model_weld, th_model_order) before they return. */
/* glTF 2.0: .glb, or .gltf JSON whose buffers are data: URIs. */
int th_gltf_read(const uint8_t *p, size_t len, struct th_model *m, char *why, size_t whylen);
/* Wavefront OBJ; mtl (may be NULL) the bytes of its material library,
 * which the reader does not open itself (mtllib is not followed). */
int th_obj_read(const uint8_t *p, size_t len, const uint8_t *mtl, size_t mtl_len, struct th_model *m, char *why,
		size_t whylen);
