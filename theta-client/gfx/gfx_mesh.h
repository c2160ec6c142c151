/* A mesh as the GPU draws it, built on the CPU from a th_mesh and kept up
 * to date incrementally (docs/rendering.md, "Meshes"). Pure CPU: no Vulkan
 * here, so it is tested and benchmarked without a device.
 *
 * Triangles: every face slot of the th_mesh owns a range of corner vertices
 * (its n corners, each with the face's flat normal or the smooth vertex
 * normal, its material and its face slot) and a range of (n - 2) * 3
 * indices (ear clipping, so concave faces draw right). A face whose corner
 * count stays the same is rewritten in place; one whose count changes (or
 * a new one) is appended at the end; freed ranges hold degenerate
 * triangles (all indices equal, a vertex of the range), so one indexed draw
 * of [0, nindex) draws the mesh. An update that would leave more than half
 * of either array dead rebuilds both compactly instead (full = true), as
 * do the first update and a change of `smooth`. Appends grow nv and nindex:
 * the dirty ranges then reach past the sizes the uploader last saw.
 *
 * Wire (edit modes): one point per vertex slot (wire_pos; free slots put
 * far away and never indexed) and a line list of vertex slots for every
 * undirected edge (edge_index).
 *
 * Change detection: gfx_mesh_update returns at once when it sees the same
 * th_mesh (pointer, id, version) as last time; otherwise it compares a
 * signature of each face (id, corner count, material, corner positions,
 * and for smooth shading the neighbouring faces' normals) with the one it
 * stored, and rewrites only the faces that differ, recording the dirty
 * element ranges the uploader copies. It computes a signature only for
 * the faces whose slot holds another (id, corner count, material) or that
 * have a corner whose vertex slot holds another vertex, position or (for
 * smooth shading, after computing every vertex normal) normal, found
 * through the fans of those vertex slots; the others keep theirs.
 * So a preview's copy of a mesh (same id, another pointer) costs a pass
 * over the slots and the faces the preview changed. The wire's
 * points are compared and copied on every such update, its edges rebuilt
 * only when a face's id or corners changed. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "th_mesh.h"

struct gfx_vertex {
	float pos[3];
	float normal[3];
	uint32_t material;  /* the face's material (0: the instance's) */
	uint32_t face;      /* face slot (highlight lookups) */
};

struct gfx_range {
	uint32_t first, count; /* elements */
};

struct gfx_face_span {
	uint32_t first_vertex, nvertex; /* 0, 0: free slot */
	uint32_t first_index, nindex;
	uint64_t topo; /* hash of the face's id and corner vertex slots; 0: free */
	uint64_t sig;  /* topo, material, positions, normals; 0: free */
};

struct gfx_face_key {
	uint64_t id; /* 0: free */
	uint32_t material, n;
};

#define GFX_MESH_DIRTY_MAX 64u /* dirty ranges kept; more merge into one covering range */

struct gfx_mesh {
	uint64_t id;
	bool smooth;
	/* What the last update saw. */
	const struct th_mesh *seen;
	uint64_t seen_version;
	/* Triangles. */
	struct gfx_vertex *v;
	uint32_t nv, cap_v, dead_v;
	uint32_t *index;
	uint32_t nindex, cap_index, dead_index;
	struct gfx_face_span *face; /* by face slot */
	uint32_t nface, cap_face;
	/* Wire. */
	float (*wire_pos)[3];
	uint32_t nwire, cap_wire;
	uint32_t *edge_index; /* pairs of vertex slots */
	uint32_t nedge_index, cap_edge_index;
	/* Since the last gfx_mesh_take_dirty. full: everything (sizes changed
	 * or compacted); else these ranges. */
	bool full;
	struct gfx_range dirty_v[GFX_MESH_DIRTY_MAX], dirty_index[GFX_MESH_DIRTY_MAX];
	uint32_t ndirty_v, ndirty_index;
	bool wire_dirty;
	/* Counters: updates that compared (the mesh or its version differed),
	 * faces written, compact rebuilds. */
	uint64_t updates, faces_rewritten, rebuilds;
	/* The update's own (kept to avoid allocating per frame). */
	uint64_t (*next)[2];        /* by face slot: topo, sig */
	float (*vnormal)[3];        /* by vertex slot (smooth) */
	float (*vnormal_last)[3];   /* the last smooth update's */
	struct gfx_face_key *key;   /* by face slot: what its span was built from */
	uint64_t *vid;              /* by vertex slot: whose position wire_pos holds */
	uint8_t *mark;              /* by face slot: to compare (flat) */
	uint32_t cap_next, cap_vnormal, cap_vnormal_last, cap_key, cap_vid, cap_mark;
	bool known;                 /* key, vid and wire_pos describe the mesh seen last */
};

void gfx_mesh_init(struct gfx_mesh *g, uint64_t id);
void gfx_mesh_fini(struct gfx_mesh *g);
/* Brings g up to date with m. 1: something changed (dirty ranges or
 * wire_dirty recorded), 0: nothing (also for another th_mesh with the same
 * contents), -EINVAL when m->id is not g's id, -ENOMEM (g keeps its old
 * contents, full set so the next success uploads everything). */
int gfx_mesh_update(struct gfx_mesh *g, const struct th_mesh *m, bool smooth);
/* Clears the dirty record (after the uploader copied it). */
void gfx_mesh_take_dirty(struct gfx_mesh *g);

/* Triangulates one face loop (pts[n][3], n >= 3, counter-clockwise from
 * the front) by ear clipping in the face's plane: writes (n - 2) triples
 * of local corner indices to tri. Always succeeds (a degenerate loop falls
 * back to a fan). */
void gfx_triangulate(const float (*pts)[3], unsigned n, uint32_t *tri);
/* Face slot f's loop in m (a live face): its vertex slots to vs and their
 * positions to pts (each TH_MESH_FACE_VERTS_MAX long); returns the count. */
unsigned gfx_face_corners(const struct th_mesh *m, uint32_t f, int32_t *vs, float (*pts)[3]);
