/* Private to th_export.c, th_gltf_write.c and th_obj_write.c: the output
 * sink (buffered write(2), optionally base64, or a dry run that only
 * counts) and the export model (what is written, in which order). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "th_export.h"
#include "th_logrec.h"
#include "th_mesh.h"
#include "th_scene.h"

#define XO_B64_IN 49152u /* raw bytes base64-encoded at a time (a multiple of 3) */

struct xo {
	int fd;
	bool count_only; /* a dry run: count, write nothing */
	bool b64;        /* encode what is put as base64 */
	int err;         /* the first error; later puts do nothing */
	uint64_t bytes;  /* produced (after base64) */
	size_t n;        /* in buf */
	size_t nin;      /* raw bytes waiting in in (b64) */
	uint8_t *buf;    /* TH_EXPORT_BUF_BYTES */
	uint8_t *in;     /* XO_B64_IN */
};

int xo_init(struct xo *o, int fd, bool count_only);
void xo_fini(struct xo *o);
void xo_put_slow(struct xo *o, const void *p, size_t n);
/* Appends n bytes (the common case, room in the buffer, inline). */
static inline void xo_put(struct xo *o, const void *p, size_t n)
{
	if (!o->b64 && o->buf && !o->err && n <= TH_EXPORT_BUF_BYTES - o->n) {
		memcpy(o->buf + o->n, p, n);
		o->n += n;
		o->bytes += n;
		return;
	}
	xo_put_slow(o, p, n);
}
void xo_str(struct xo *o, const char *s);
void xo_json_str(struct xo *o, const char *s); /* a quoted, escaped JSON string */
void xo_u64(struct xo *o, uint64_t v);
void xo_i64(struct xo *o, int64_t v);
void xo_hex64(struct xo *o, uint64_t v); /* 16 lowercase hex digits, most significant first */
void xo_f32(struct xo *o, float v);       /* shortest text that reads back as the same float */
void xo_f32_exact(struct xo *o, float v); /* the float's exact value as a double reads it */
void xo_b64_begin(struct xo *o);
void xo_b64_end(struct xo *o); /* the final group, padded */
/* Flushes buf to the fd; returns o->err. */
int xo_flush(struct xo *o);

/* One primitive: the faces of one material, order[first .. first + nfaces). */
struct xprim {
	uint32_t material;
	uint32_t first, nfaces;
	uint64_t nverts, nidx;
	float min[3], max[3];
	uint64_t view_off; /* glTF: byte offset of its vertices in the buffer */
};

struct xmesh {
	const struct th_mesh *m;
	uint32_t *order;  /* live face slots grouped by material, ascending id within */
	uint32_t *amap;   /* mesh author index k -> file author index + 1 (0: unknown) */
	uint32_t namap;
	struct xprim *prims;
	uint32_t nprims;
	uint32_t gltf_index; /* first accessor of its first primitive (glTF) */
};

struct xnode {
	uint64_t entity;
	bool has_t;
	struct th_c_transform t;
	int32_t mesh; /* index into xmodel.meshes, -1: none */
	uint32_t material; /* the MeshRef's (informational) */
};

struct xmodel {
	const struct th_scene *s;
	struct xnode *nodes;
	uint32_t nnodes;
	struct xmesh *meshes;
	uint32_t nmeshes;
	uint8_t (*authors)[TH_LOGREC_KEY_LEN];
	uint32_t nauthors, cap_authors;
	int16_t mat_index[TH_SCENE_MATERIALS]; /* scene material -> file material, -1: unused */
	uint32_t nmats;
	uint16_t mats[TH_SCENE_MATERIALS]; /* file material -> scene material */
	uint64_t faces, triangles, corners;
};

/* Builds the model of s: 0, -ENOMEM, -ENOSPC (authors), -EFBIG. */
int xmodel_build(struct xmodel *x, const struct th_scene *s);
void xmodel_fini(struct xmodel *x);
/* The scene material a file material stands for, defined or the default. */
const struct th_scene_material *xmodel_material(const struct xmodel *x, uint32_t file_index);
/* A material's name as the file shows it: "m<index>" + "_" + name with
 * anything but [A-Za-z0-9_-] as '_', into out[cap]. */
void xmodel_material_name(const struct xmodel *x, uint32_t file_index, char *out, size_t cap);
/* A quaternion (x, y, z, w) of unit length (the identity for length 0):
 * glTF wants unit rotations. */
void xmodel_unit_quat(const float in[4], float out[4]);
/* Face slot f as n - 2 triangles of its corners (0 .. n - 1, loop order)
 * into tri, counter-clockwise about its normal n: a fan from corner 0
 * when the face is convex, else ear-clipped in its plane (what cannot be
 * clipped, a degenerate rest, is fanned). Returns n - 2. */
unsigned xmodel_triangulate(const struct th_mesh *m, int32_t f, const float n[3], uint8_t (*tri)[3]);
/* Flat unit normal of face slot f (degenerate: 0 0 1). */
void xmodel_face_normal(const struct th_mesh *m, int32_t f, float n[3]);

int th_gltf_write(const struct xmodel *x, const struct th_export_config *c, int fd, struct th_export_stats *st);
int th_obj_write(const struct xmodel *x, const struct th_export_config *c, int fd, int mtl_fd,
		 struct th_export_stats *st);
