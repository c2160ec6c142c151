/* Half-edge meshes with stable 64-bit element ids (schemas/ids.def): the
 * geometry of the scene (docs/scene.md). Vertices, faces (n-gons, 3 to
 * TH_MESH_FACE_VERTS_MAX corners) and the half-edges of their loops; an edge
 * used by one face is a boundary (its half-edge has no twin). Every mesh
 * kept here is valid:
 *   - ids are unique among the mesh's vertices and faces, never 0;
 *   - a face's corners are distinct existing vertices;
 *   - each directed edge belongs to at most one face, so an undirected edge
 *     has one face (boundary) or two faces of opposite orientation;
 *   - every vertex's faces form a single fan (disk, or half-disk at a
 *     boundary): manifold with boundary, no bowtie vertex;
 *   - positions are finite.
 * Free vertices (no face) are allowed.
 *
 * Changes come only from th_mesh_apply (the ops of a mesh.patch or
 * mesh.create, schemas/commands.def), all or none: a list of ops that would
 * break an invariant is refused with a reason and changes nothing. Each
 * applied op pushes its inverse to a journal, so th_mesh_undo_record can
 * take the mesh back exactly (same ids, same positions, same face loops).
 *
 * Inside one list the ops apply in order and each must hold at its step:
 * the element it names exists, the id it creates is unused, a new face's
 * directed edges are unused (a face may take an edge in the direction of
 * another face of the list only after that face is removed). The
 * single-fan rule is checked once, at the end, on the vertices whose faces
 * the list changed, so a list may pass through a bowtie on its way to a
 * valid mesh; a list that ends with one (say, removing the middle face of
 * a boundary fan) is refused. REMOVE of a vertex a face still uses is
 * refused, never cascaded: payloads carry results, so the author lists the
 * faces to remove first.
 *
 * Canonical encoding (th_mesh_encode; the world hash and snapshots use it):
 * independent of the order of operations that built the mesh:
 *   u64 mesh id
 *   u32 vertex count, then per vertex in ascending id: u64 id, f32 x y z
 *   u32 author count, then each author key (32 bytes) of a live face, in
 *       ascending byte order, once (the zero key, "unknown", is not listed)
 *   u32 face count, then per face in ascending id: u64 id, u32 material,
 *       u32 author (0: unknown, k: the k-th key above), u64 lamport,
 *       u16 n, n x u64 vertex id (the loop as created: its first corner
 *       first, counter-clockwise from the front)
 * little-endian, floats as their IEEE-754 bits. No half-edge is encoded:
 * they follow from the faces.
 *
 * Provenance: each face remembers the entry that created it (its FACE_ADD):
 * the author's key and the entry's lamport, given by th_mesh_apply_origin
 * (the fold's scene passes the entry's; th_mesh_apply gives the zero
 * origin, "unknown"). It stays with the face while it lives, and comes
 * back with it when a REMOVE is undone; FACE_MATERIAL does not change it.
 * Authors are kept once per mesh (a face holds an index). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"
#include "th_journal.h"
#include "th_payload.h"

#define TH_MESH_FACE_VERTS_MAX TH_PL_FACE_VERTS_MAX
#define TH_MESH_ELEMENTS_MAX (1u << 22) /* vertices + faces of one mesh */
#define TH_MESH_NONE (-1)
#define TH_MESH_AUTHOR_LEN 32 /* an Ed25519 public key (TH_LOGREC_KEY_LEN) */
/* Distinct authors one mesh keeps (the fold admits at most
 * TH_FOLD_AUTHORS_MAX authors to a session, the same number). */
#define TH_MESH_AUTHORS_MAX 65536u

/* Journal record kinds th_mesh_apply pushes: 1..TH_MESH_REC_MAX. Every
 * record starts with the mesh id (u64), so the scene can route it. */
#define TH_MESH_REC_MAX 31

struct th_mesh_vert {
	uint64_t id; /* 0: a free slot */
	float pos[3];
	int32_t he; /* one outgoing half-edge, TH_MESH_NONE for a free vertex */
};
struct th_mesh_face {
	uint64_t id; /* 0: a free slot */
	uint64_t lamport; /* of the entry that created the face */
	int32_t he;  /* half-edge of the loop's first corner */
	uint16_t n;  /* corners */
	uint32_t material;
	uint32_t author; /* 0: unknown; else th_mesh_author(m, author) */
};
struct th_mesh_he {
	int32_t vert; /* origin vertex slot; TH_MESH_NONE: a free slot */
	int32_t face; /* face slot */
	int32_t next, prev; /* in the face's loop */
	int32_t twin; /* the opposite half-edge, TH_MESH_NONE on a boundary */
};

/* Read-only for users: iterate slots 0..nverts-1 (nfaces, nhes) and skip
 * free ones (id 0, vert TH_MESH_NONE). The rest is the mesh's own. */
struct th_mesh {
	uint64_t id;
	/* Changes on every change of the mesh (th_mesh_apply*, a successful
	 * th_mesh_undo_record) and nowhere else; a refused list keeps it. The
	 * values come from one process-wide counter, so no two meshes ever
	 * hold the same version: th_mesh_init, th_mesh_copy and
	 * th_mesh_decode give a mesh one of its own. Whoever caches something
	 * built from a mesh (the renderer's gfx_mesh) compares (pointer,
	 * version) and rebuilds when either differs. Not encoded. */
	uint64_t version;
	struct th_mesh_vert *verts;
	struct th_mesh_face *faces;
	struct th_mesh_he *hes;
	uint32_t nverts, nfaces, nhes;       /* slots in use or free */
	uint32_t live_verts, live_faces, live_hes;
	uint32_t cap_verts, cap_faces, cap_hes;
	int32_t free_vert, free_face, free_he; /* free lists */
	struct th_mesh_index *index;           /* element id -> slot, edge -> half-edge */
};

struct th_mesh_stats {
	uint32_t vertices, faces, edges, boundary_edges, half_edges;
	int64_t euler; /* V - E + F */
};

/* An empty mesh; 0, -EINVAL for id 0 (never a mesh's id), or -ENOMEM. */
int th_mesh_init(struct th_mesh *m, uint64_t id);
void th_mesh_fini(struct th_mesh *m);
/* A deep copy (dst uninitialized); 0 or -ENOMEM. */
int th_mesh_copy(struct th_mesh *dst, const struct th_mesh *src);

/* Slot of the vertex / face with this id, or TH_MESH_NONE. */
int32_t th_mesh_vert_find(const struct th_mesh *m, uint64_t id);
int32_t th_mesh_face_find(const struct th_mesh *m, uint64_t id);
/* Half-edge from vertex slot a to b, or TH_MESH_NONE. */
int32_t th_mesh_he_find(const struct th_mesh *m, int32_t a, int32_t b);
/* Ids of face slot f's corners in loop order into ids[cap]; returns n,
 * -ENOBUFS, or -EINVAL when f is not a live face's slot. */
int th_mesh_face_loop(const struct th_mesh *m, int32_t f, uint64_t *ids, unsigned cap);
/* The id of the undirected edge between vertices a and b (either order):
 * SipHash-2-4 of the two ids, lower first, never 0. Edges are not stored
 * elements; this names one for selection and tools. */
uint64_t th_mesh_edge_id(uint64_t a, uint64_t b);
void th_mesh_stats(const struct th_mesh *m, struct th_mesh_stats *out);

/* Who created a face: the author's key (all zero: unknown) and the
 * lamport of the entry. */
struct th_mesh_origin {
	uint64_t lamport;
	uint8_t author[TH_MESH_AUTHOR_LEN];
};

/* Applies ops[0..n-1] in order, all or none. new_ids[i] is the id the
 * element created by op i gets (VERTEX_ADD, FACE_ADD; derived by the caller
 * from the entry, schemas/ids.def), 0 for other ops; a LOOP with
 * MESH_REF_LOCAL names ops[element - 1]'s new vertex. Returns 0, with the
 * inverse of every change pushed to j (may be NULL); or -EINVAL with *why a
 * static sentence (an element missing, an id already used, a face that
 * would make the mesh non-manifold, ...) and m and j unchanged; or
 * -ENOMEM / -ENOSPC (journal full), m and j unchanged. */
int th_mesh_apply(struct th_mesh *m, const struct th_pl_mesh_op *ops, unsigned n, const uint64_t *new_ids,
		  struct th_journal *j, const char **why);
/* th_mesh_apply with the origin every face the ops create gets (NULL: the
 * zero origin, as th_mesh_apply). -ENOSPC also when the origin's author
 * would be the mesh's TH_MESH_AUTHORS_MAX + 1st. */
int th_mesh_apply_origin(struct th_mesh *m, const struct th_pl_mesh_op *ops, unsigned n, const uint64_t *new_ids,
			 const struct th_mesh_origin *origin, struct th_journal *j, const char **why);
/* The key of author index k (a face's `author`), NULL for 0 (unknown) or
 * an index the mesh does not hold. Valid until the mesh next changes. */
const uint8_t *th_mesh_author(const struct th_mesh *m, uint32_t k);
/* The origin of face slot f: 0, or -EINVAL when f is not a live face. */
int th_mesh_face_origin(const struct th_mesh *m, int32_t f, struct th_mesh_origin *out);
/* Reverts one record that th_mesh_apply pushed for this mesh (kind in
 * 1..TH_MESH_REC_MAX, data as popped from the journal, mesh id first).
 * Records must be undone newest first. 0, or -EINVAL for a record that does
 * not fit the mesh (a bug: the caller popped out of order). */
int th_mesh_undo_record(struct th_mesh *m, uint8_t kind, const uint8_t *data, size_t len);
/* The mesh id a journal record of th_mesh_apply names. */
uint64_t th_mesh_record_mesh(const uint8_t *data, size_t len);

/* Checks every invariant above from scratch (tests, fuzzing, loading):
 * 0 or -EINVAL with *why. */
int th_mesh_check(const struct th_mesh *m, const char **why);

/* The size of m's canonical encoding into *size: 0 or -ENOMEM. */
int th_mesh_encoded_size(const struct th_mesh *m, size_t *size);
/* Canonical encoding appended to w; 0 or th_wbuf's error. */
int th_mesh_encode(const struct th_mesh *m, struct th_wbuf *w);
/* Builds a mesh (m uninitialized) from its canonical encoding at p[len],
 * consuming exactly *used bytes. Refuses (-EBADMSG, *why) anything
 * th_mesh_encode would not write: ids out of order or repeated, a face
 * naming a missing vertex, a non-manifold mesh, a non-finite position. */
int th_mesh_decode(struct th_mesh *m, const uint8_t *p, size_t len, size_t *used, const char **why);
