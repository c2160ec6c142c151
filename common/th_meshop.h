/* Mesh operations (docs/mesh-ops.md): pure functions from a mesh and
 * parameters to a patch, the op list of one mesh.patch (or of a mesh.create
 * for the primitives; schemas/commands.def). They read the mesh and never
 * change it; an editor tool previews a patch on a copy (th_patch_apply) and
 * submits it as one command. Payloads carry results, so every position in
 * a patch is final: the fold copies it bit for bit.
 *
 * Every operation validates what it is given (the elements exist, the
 * parameters are finite and in range) and either appends to `out` a list of
 * ops that th_mesh_apply accepts on `m`, keeping every invariant of
 * th_mesh.h (manifold with boundary, no bowtie, faces of 3 to
 * TH_MESH_FACE_VERTS_MAX distinct corners), or returns a negative errno with
 * `out` as it was (same n):
 *   -EINVAL  bad input; *why a static sentence saying what and why
 *   -ENOMEM  out of memory
 *   -E2BIG   the patch would pass out->max ops
 * Elements the operation creates are named inside the patch by local
 * reference (op index + 1 of their VERTEX_ADD), so a patch does not depend
 * on the entry it becomes. A face an operation reshapes is removed and
 * added again (a new id); a face's material is kept by the faces made from
 * it. Operations are deterministic: the same mesh and parameters give the
 * same ops, in the same order, on every machine (iteration in ascending id
 * order, never in slot or hash order).
 *
 * Element sets are arrays of ids; an edge is named by its two vertex ids
 * (either order). A set naming an element twice is refused. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_journal.h"
#include "th_mesh.h"

#define TH_PATCH_OPS_MAX (1u << 24) /* ops one patch may hold in memory (default out->max) */
/* What one command can carry: a patch of at most this many ops fits one
 * mesh.patch or mesh.create entry (th_patch_fits). */
#define TH_PATCH_ENTRY_OPS TH_PL_MESH_OPS_MAX

/* ---- patches ----------------------------------------------------------------- */

struct th_patch {
	struct th_pl_mesh_op *ops;
	uint32_t n, cap;
	uint32_t max; /* ops allowed; th_patch_init sets TH_PATCH_OPS_MAX */
};

/* A corner of a new face: an existing vertex (by id) or one this patch
 * adds (by its local reference, what th_patch_vertex_add returned). */
struct th_pref {
	uint64_t v;
	bool local;
};
static inline struct th_pref th_pref_id(uint64_t id)
{
	return (struct th_pref){ .v = id, .local = false };
}
static inline struct th_pref th_pref_local(uint32_t ref)
{
	return (struct th_pref){ .v = ref, .local = true };
}

void th_patch_init(struct th_patch *p);
void th_patch_fini(struct th_patch *p);
static inline void th_patch_clear(struct th_patch *p)
{
	p->n = 0;
}
/* Back to n ops (n <= p->n): how an operation undoes its own appends. */
static inline void th_patch_truncate(struct th_patch *p, uint32_t n)
{
	if (n < p->n)
		p->n = n;
}
/* Room for k more ops (one allocation, so an operation that knows its
 * patch's size appends without growing it op by op): 0, -ENOMEM, or
 * -E2BIG when n + k would pass max. */
int th_patch_reserve(struct th_patch *p, uint32_t k);
/* Appends a VERTEX_ADD; returns its local reference (> 0), -ENOMEM, -E2BIG,
 * or -EINVAL for a non-finite position. */
int th_patch_vertex_add(struct th_patch *p, const float pos[3]);
int th_patch_vertex_move(struct th_patch *p, uint64_t vertex, const float pos[3]);
int th_patch_remove(struct th_patch *p, uint64_t element);
/* A FACE_ADD and its n LOOP corners (3..TH_MESH_FACE_VERTS_MAX, counter-
 * clockwise from the front); -EINVAL for a bad n or a local reference that
 * names no earlier VERTEX_ADD. */
int th_patch_face_add(struct th_patch *p, uint32_t material, const struct th_pref *corners, unsigned n);
int th_patch_face_material(struct th_patch *p, uint64_t face, uint32_t material);
/* Whether the patch fits one command (1..TH_PATCH_ENTRY_OPS ops). */
bool th_patch_fits(const struct th_patch *p);

/* The ids th_mesh_apply gives the elements the patch creates when it is
 * entry (author, seq), as the fold derives them for a mesh.patch and a
 * mesh.create alike: op i's element is th_id_derive(TH_ID_MESH_ELEMENT,
 * author, seq, i + 1) (ids.def). new_ids[p->n]; 0 for ops that create
 * nothing. */
void th_patch_ids(const struct th_patch *p, const uint8_t author[32], uint64_t seq, uint64_t *new_ids);
/* Applies the patch to m as entry (author, seq) would (th_mesh_apply, same
 * results and refusals); for previews and tests. */
int th_patch_apply(struct th_mesh *m, const struct th_patch *p, const uint8_t author[32], uint64_t seq,
		   struct th_journal *j, const char **why);

/* ---- primitives (the ops of a mesh.create: all local references) ------------- */

enum th_prim_kind {
	TH_PRIM_CUBE = 1, /* size: edge lengths x y z; subdiv: cuts per edge (0: 6 quads) */
	TH_PRIM_UVSPHERE, /* radius; segments (>= 3) around, rings (>= 2) pole to pole */
	TH_PRIM_ICOSPHERE, /* radius; subdiv levels 0..5 (0: the icosahedron) */
	TH_PRIM_CYLINDER, /* radius, height; segments (>= 3); caps as n-gons */
	TH_PRIM_CONE,     /* radius (base), radius2 (top, 0: a point), height; segments */
	TH_PRIM_TORUS,    /* radius (ring), radius2 (tube); segments (around), rings (tube) */
	TH_PRIM_PLANE,    /* size x and z; subdiv cuts per side; one-sided, facing +y */
	TH_PRIM_MAX = TH_PRIM_PLANE
};
#define TH_PRIM_SEGMENTS_MAX 256u
#define TH_PRIM_SUBDIV_MAX 64u
#define TH_PRIM_SIZE_MIN 1e-4f /* metres */
#define TH_PRIM_SIZE_MAX 1000.0f

struct th_prim {
	uint32_t kind; /* enum th_prim_kind */
	float size[3];
	float radius, radius2, height;
	uint32_t segments, rings, subdiv;
	uint32_t material;
};
/* Fills a primitive's parameters with the defaults (a 1 m cube, 16
 * segments, 8 rings, ...), centred on the origin. */
void th_prim_defaults(struct th_prim *pp, uint32_t kind);
int th_op_primitive(const struct th_prim *pp, struct th_patch *out, const char **why);

/* ---- vertices ----------------------------------------------------------------- */

int th_op_vertex_free(const struct th_mesh *m, const float pos[3], struct th_patch *out, const char **why);
/* A vertex on edge (a, b) at a + t (b - a), 0 < t < 1: the edge's faces are
 * made again with the new corner. */
int th_op_vertex_on_edge(const struct th_mesh *m, uint64_t a, uint64_t b, float t, struct th_patch *out,
			 const char **why);
/* A vertex inside face f (pos projected onto the face's plane, and inside
 * it): the face becomes a fan of triangles around it. */
int th_op_vertex_on_face(const struct th_mesh *m, uint64_t face, const float pos[3], struct th_patch *out,
			 const char **why);

/* ---- extrude, inset, subdivide, loop cut, bevel ------------------------------- */

/* Boundary edges (pairs a[i], b[i]) pulled out by offset: a quad per edge,
 * adjacent extruded edges sharing their new vertex. */
int th_op_extrude_edges(const struct th_mesh *m, const uint64_t *a, const uint64_t *b, unsigned n,
			const float offset[3], struct th_patch *out, const char **why);
/* Faces pulled out: dir NULL moves along each face's normal (region: the
 * region's mean normal) by distance, else by dir * distance. region: the
 * faces move as one piece with side walls only on the region's border;
 * otherwise each face separately. */
int th_op_extrude_faces(const struct th_mesh *m, const uint64_t *faces, unsigned n, const float *dir,
			float distance, bool region, struct th_patch *out, const char **why);
/* Inset: a smaller copy of each face (region: of the region's border)
 * joined by a ring of quads; amount in (0, 1) is the fraction of the way to
 * the face's centre. */
int th_op_inset(const struct th_mesh *m, const uint64_t *faces, unsigned n, float amount, bool region,
		struct th_patch *out, const char **why);
/* Each face (n corners) becomes n quads through its edge midpoints and
 * centre; a neighbour keeps its shape and gains the midpoint as a corner. */
int th_op_subdivide(const struct th_mesh *m, const uint64_t *faces, unsigned n, struct th_patch *out,
		    const char **why);
/* Catmull-Clark of the whole mesh, levels 1..TH_OP_CC_LEVELS_MAX; boundary
 * edges and corners follow the boundary rules (boundaries stay where they
 * are as curves); free vertices are kept. */
#define TH_OP_CC_LEVELS_MAX 4u
int th_op_catmull_clark(const struct th_mesh *m, unsigned levels, struct th_patch *out, const char **why);
/* A loop cut through the ring of quads crossing edge (a, b), at fraction t
 * along each crossed edge (0 < t < 1); stops at a boundary or a non-quad. */
int th_op_loop_cut(const struct th_mesh *m, uint64_t a, uint64_t b, float t, struct th_patch *out,
		   const char **why);
/* Bevel of edges (pairs a[i], b[i]): each becomes a strip of width (metres). */
int th_op_bevel(const struct th_mesh *m, const uint64_t *a, const uint64_t *b, unsigned n, float width,
		struct th_patch *out, const char **why);

/* ---- clean-up ---------------------------------------------------------------- */

/* Welds vertices closer than distance (verts NULL: every vertex), keeping
 * the lowest id of each cluster at the cluster's mean position; faces that
 * would collapse are removed. */
int th_op_weld(const struct th_mesh *m, const uint64_t *verts, unsigned n, float distance, struct th_patch *out,
	       const char **why);
/* Reverses the winding of faces (n 0: every face). */
int th_op_flip(const struct th_mesh *m, const uint64_t *faces, unsigned n, struct th_patch *out, const char **why);
/* Deletes vertices (with their faces), edges (pairs ea[i], eb[i], with
 * their faces) and faces; vertices left with no face that were not free
 * before go too; a vertex left as a bowtie is split so the result is valid. */
int th_op_delete(const struct th_mesh *m, const uint64_t *verts, unsigned nv, const uint64_t *ea, const uint64_t *eb,
		 unsigned ne, const uint64_t *faces, unsigned nf, struct th_patch *out, const char **why);

/* ---- move, rotate, scale, duplicate, mirror ------------------------------------ */

/* Row-major 3x4 affine map: p' = M[0..2][0..2] p + M[.][3]. The
 * constructors below set all of *a (they do not compose); th_affine_mul
 * composes. */
struct th_affine {
	float m[3][4];
};
void th_affine_identity(struct th_affine *a);
void th_affine_translate(struct th_affine *a, const float d[3]);
/* Rotation by the unit quaternion q (x y z w) about pivot. */
void th_affine_rotate(struct th_affine *a, const float q[4], const float pivot[3]);
void th_affine_scale(struct th_affine *a, const float s[3], const float pivot[3]);
void th_affine_apply(const struct th_affine *a, const float p[3], float out[3]);
/* out = a after b (p' = a(b(p))); out may be a or b. */
void th_affine_mul(struct th_affine *out, const struct th_affine *a, const struct th_affine *b);

/* Moves vertices by a (verts NULL: the whole mesh); th_op_vertices_of
 * gives the vertices of faces and edges. A map that folds a face flat or
 * inside out is still applied (it is the user's); a non-finite result, a
 * singular map or one that moves no vertex is refused. A vertex the map
 * leaves in place gets no op. */
int th_op_transform(const struct th_mesh *m, const uint64_t *verts, unsigned n, const struct th_affine *a,
		    struct th_patch *out, const char **why);
/* The distinct vertex ids of faces and edges (ascending) into out[cap];
 * returns the count, -ENOBUFS or -EINVAL (an element missing or named
 * twice). */
int th_op_vertices_of(const struct th_mesh *m, const uint64_t *faces, unsigned nf, const uint64_t *ea,
		      const uint64_t *eb, unsigned ne, uint64_t *out, unsigned cap);
/* Copies faces (n 0: the whole mesh, free vertices too) moved by offset. */
int th_op_duplicate(const struct th_mesh *m, const uint64_t *faces, unsigned n, const float offset[3],
		    struct th_patch *out, const char **why);
/* Mirrors the whole mesh about the plane (point, unit normal): the mirrored
 * copy is added with reversed winding and vertices within weld of the plane
 * are shared (moved onto it), so a half model becomes a whole one. The
 * halves join along boundary edges on the plane; a mesh on both sides of
 * the plane, a face in it, or an edge on it with faces on both sides is
 * refused (docs/mesh-ops.md). */
int th_op_mirror(const struct th_mesh *m, const float point[3], const float normal[3], float weld,
		 struct th_patch *out, const char **why);

/* ---- geometry helpers the tools use ------------------------------------------- */

/* Newell normal (unit) and centroid of face slot f; -EINVAL for a
 * degenerate face. */
int th_mesh_face_normal(const struct th_mesh *m, int32_t f, float normal[3], float centre[3]);
