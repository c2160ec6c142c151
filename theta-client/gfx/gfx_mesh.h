/* A mesh as the GPU draws it, built on the CPU from a th_mesh and kept up
 * to date incrementally (docs/rendering.md, "Meshes"). Pure CPU: no Vulkan
 * here, so it is tested and benchmarked without a device.
 *
 * Triangles: every face slot of the th_mesh owns a range of corner vertices
 * (its n corners, each with the face's flat normal or the smooth vertex
 * normal, its material and its face slot) and a range of (n - 2) * 3
 * indices (ear clipping, so concave faces draw right). A face whose corner
 * count stays the same is rewritten in place; one that grows moves to the
 * end; freed ranges hold degenerate triangles (all indices equal), so one
 * indexed draw of [0, nindex) draws the mesh. When more than half of the
 * arrays is dead, the next update rebuilds them compactly (full = true).
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
 * element ranges the uploader copies. */
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
	uint64_t sig;
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
	/* Counters. */
	uint64_t updates, faces_rewritten, rebuilds;
};

void gfx_mesh_init(struct gfx_mesh *g, uint64_t id);
void gfx_mesh_fini(struct gfx_mesh *g);
/* Brings g up to date with m (same id). 1: something changed (dirty
 * ranges recorded), 0: nothing, -ENOMEM (g keeps its old contents, full
 * set so the next success uploads everything). */
int gfx_mesh_update(struct gfx_mesh *g, const struct th_mesh *m, bool smooth);
/* Clears the dirty record (after the uploader copied it). */
void gfx_mesh_take_dirty(struct gfx_mesh *g);

/* Triangulates one face loop (pts[n][3], n >= 3, counter-clockwise from
 * the front) by ear clipping in the face's plane: writes (n - 2) triples
 * of local corner indices to tri. Always succeeds (a degenerate loop falls
 * back to a fan). */
void gfx_triangulate(const float (*pts)[3], unsigned n, uint32_t *tri);
