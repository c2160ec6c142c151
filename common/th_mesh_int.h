/* Private to th_mesh.c and th_mesh_enc.c: the mesh's index, the
 * little-endian helpers and the internal steps both files use
 * (th_meshop_subdiv.c borrows mix64). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "th_buf.h"
#include "th_hash.h"
#include "th_mesh.h"

enum {
	REC_VERT_ADD = 1,  /* mesh, vertex id */
	REC_VERT_MOVE,     /* mesh, vertex id, previous position */
	REC_VERT_REMOVE,   /* mesh, vertex id, position */
	REC_FACE_ADD,      /* mesh, face id */
	REC_FACE_REMOVE,   /* mesh, face id, material, u32 author, u64 lamport, u16 n, n vertex ids */
	REC_FACE_MATERIAL, /* mesh, face id, previous material */
};
_Static_assert(REC_FACE_MATERIAL <= TH_MESH_REC_MAX, "record kinds fit th_mesh.h's range");

#define IX_VERT 1u
#define IX_FACE 2u
#define IX_MIN_CAP 16u
#define EDGE_EMPTY UINT64_MAX
#define SLOTS_MIN_CAP 8u
#define ENC_SMALL 64u /* elements sorted on the stack by th_mesh_encode */
#define FACE_HEAD_BYTES (8u + 4u + 4u + 8u + 2u) /* id, material, author, lamport, n */
#define FACE_MIN_BYTES (FACE_HEAD_BYTES + 3u * 8u)
#define AUTHOR_MIN_CAP 4u
#define VERT_BYTES (8u + 12u)
#define REC_FACE_HEAD (8u + 8u + 4u + 4u + 8u + 2u)
#define REC_FACE_MAX (REC_FACE_HEAD + 8u * TH_MESH_FACE_VERTS_MAX)

struct ix_id {
	uint64_t id; /* 0: empty */
	int32_t slot;
	uint32_t kind;
};
struct ix_edge {
	uint64_t key; /* origin slot << 32 | dest slot; EDGE_EMPTY: empty */
	int32_t he;
	uint32_t unused;
};
struct he_ring {
	int32_t vnext, vprev; /* the origin vertex's outgoing half-edges */
};

struct vert_aux {
	uint32_t mark; /* touched in the patch of this epoch */
	uint32_t deg;  /* outgoing half-edges (the ring's length) */
};

struct th_mesh_index {
	struct ix_id *ids;
	uint32_t ids_cap, ids_len;
	struct ix_edge *edges;
	uint32_t edges_cap, edges_len;
	struct he_ring *ring; /* cap_hes */
	struct vert_aux *vaux; /* cap_verts */
	uint32_t epoch;
	uint32_t boundary; /* live half-edges without a twin */
	int32_t *touched;
	uint32_t ntouched, touched_cap;
	struct th_journal scratch; /* th_mesh_apply's when the caller gives none */
	/* Face authors: index k of a face is authors[k - 1]. Appended as
	 * th_mesh_apply_origin meets them and kept while the mesh lives (undo
	 * records name them by index); a decoded mesh holds those of its
	 * faces, in the encoding's order. */
	uint8_t (*authors)[TH_MESH_AUTHOR_LEN];
	uint32_t nauthors, cap_authors;
	uint32_t last_author; /* the index th_mesh_apply_origin found last */
};

/* Little-endian stores and loads: a plain copy on a little-endian host
 * (th_buf.h's byte loops are not always merged into one instruction, and
 * the encoder and decoder move millions of these). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void st64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
#else
static inline void st16(uint8_t *p, uint16_t v) { th_put_le16(p, v); }
static inline void st32(uint8_t *p, uint32_t v) { th_put_le32(p, v); }
static inline void st64(uint8_t *p, uint64_t v) { th_put_le64(p, v); }
static inline uint16_t ld16(const uint8_t *p) { return th_get_le16(p); }
static inline uint32_t ld32(const uint8_t *p) { return th_get_le32(p); }
static inline uint64_t ld64(const uint8_t *p) { return th_get_le64(p); }
#endif

static inline uint64_t mix64(uint64_t x) { return th_mix64(x); }

static inline uint64_t edge_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

#define WHY_DIRECTED_EDGE                                                                                           \
	"a face would repeat a directed edge of another face (faces sharing an edge must run along it in "         \
	"opposite directions)"


/* Shared by th_mesh.c and th_mesh_enc.c (this header is theirs alone). */
int32_t th_mesh_i_find(const struct th_mesh_index *x, uint64_t id, uint32_t kind);
/* Room for nv more vertices, nf faces and nhe half-edges (slots and index);
 * exact: no room to spare in the slot arrays (decode knows its counts). */
int th_mesh_i_reserve(struct th_mesh *m, uint32_t nv, uint32_t nf, uint32_t nhe, bool exact);
int32_t th_mesh_i_vert_put(struct th_mesh *m, uint64_t id, const float pos[3]);
int32_t th_mesh_i_face_put(struct th_mesh *m, uint64_t id, uint32_t material, const int32_t *vs, unsigned n,
			   bool unchecked_edges);
const char *th_mesh_i_face_shape_refusal(const struct th_mesh *m, uint64_t id, const int32_t *vs, unsigned n);
bool th_mesh_i_fan_ok(const struct th_mesh *m, int32_t v);
/* Room for `n` authors in all: 0 or -ENOMEM. */
int th_mesh_i_authors_reserve(struct th_mesh_index *x, uint32_t n);

static inline int reserve(struct th_mesh *m, uint32_t nv, uint32_t nf, uint32_t nhe)
{
	return th_mesh_i_reserve(m, nv, nf, nhe, false);
}

static inline void th_mesh_i_put_pos(uint8_t *p, const float pos[3])
{
	for (int i = 0; i < 3; i++) {
		uint32_t u;
		memcpy(&u, &pos[i], 4);
		st32(p + 4 * i, u);
	}
}

static inline void th_mesh_i_get_pos(const uint8_t *p, float pos[3])
{
	for (int i = 0; i < 3; i++) {
		uint32_t u = ld32(p + 4 * i);
		memcpy(&pos[i], &u, 4);
	}
}

static inline bool th_mesh_i_finite3(const float p[3]) { return th_f32s_finite(p, 3); }

