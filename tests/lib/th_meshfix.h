/* Fixtures of th_mesh's tests (test_mesh, test_mesh_props): op lists built
 * op by op, applying them, canonical encodings and the checks every case
 * makes, and the unit cube. The checks fail the running cmocka test. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_journal.h"
#include "th_mesh.h"

#define MF_MESH_ID 0x4d455348u

/* xorshift64: the seeded randomness of the property tests (seed mf_rng). */
extern uint64_t mf_rng;
uint64_t mf_rnd(void);
unsigned mf_rn(unsigned n); /* uniform-ish in [0, n) */
float mf_frand(float lo, float hi); /* uniform-ish in [lo, hi): 24 bits of mf_rnd */
/* A unit vector (mf_rand_dir) or unit quaternion x y z w (mf_rand_quat) of
 * uniform-ish direction: points of [-1, 1]^3 (^4) drawn with mf_frand until
 * one's length is within [MF_RAND_LEN_MIN, 1], divided by that length. */
#define MF_RAND_LEN_MIN 0.1f
void mf_rand_dir(float v[3]);
void mf_rand_quat(float q[4]);

/* ---- building patches ---- */

struct mf_patch {
	struct th_pl_mesh_op ops[TH_PL_MESH_OPS_MAX];
	uint64_t ids[TH_PL_MESH_OPS_MAX];
	unsigned n;
};

struct mf_patch *mf_patch_new(void); /* zeroed, on the heap (free it) */
/* Appends one op; returns its index + 1 (what a local reference names). */
unsigned mf_p_op(struct mf_patch *p, uint8_t op, uint64_t element, uint32_t arg, float x, float y, float z,
		 uint64_t new_id);
unsigned mf_p_vert(struct mf_patch *p, uint64_t id, float x, float y, float z);
void mf_p_move(struct mf_patch *p, uint64_t id, float x, float y, float z);
void mf_p_remove(struct mf_patch *p, uint64_t id);
void mf_p_material(struct mf_patch *p, uint64_t face, uint32_t m);
void mf_p_face_begin(struct mf_patch *p, uint64_t id, uint32_t material);
void mf_p_corner(struct mf_patch *p, uint64_t vid);        /* a corner by vertex id */
void mf_p_local(struct mf_patch *p, unsigned op_index1);   /* a corner by local reference */
void mf_p_face(struct mf_patch *p, uint64_t id, uint32_t material, unsigned n, const uint64_t *v);
/* th_mesh_apply of the patch's ops; empties the patch. */
int mf_apply(struct th_mesh *m, struct mf_patch *p, struct th_journal *j, const char **why);
/* The origin mf_apply gives the faces it creates (th_mesh_apply_origin);
 * NULL (the default): th_mesh_apply's zero origin. */
extern struct th_mesh_origin *mf_origin;

/* ---- encodings and checks ---- */

struct mf_enc {
	uint8_t *d;
	size_t len;
};

struct mf_enc mf_enc_of(const struct th_mesh *m); /* its canonical encoding (free .d) */
bool mf_enc_same(struct mf_enc a, struct mf_enc b);
void mf_mesh_ok(const struct th_mesh *m);                           /* th_mesh_check passes */
void mf_assert_unchanged(const struct th_mesh *m, struct mf_enc before); /* encodes as before, valid */
/* Applying p is refused with -EINVAL and a reason containing needle (any
 * reason when NULL), the mesh and the journal's mark as they were. */
void mf_expect_refused(struct th_mesh *m, struct mf_patch *p, struct th_journal *j, const char *needle);
void mf_expect_applied(struct th_mesh *m, struct mf_patch *p, struct th_journal *j);
/* Pops and undoes every record above mark; the mesh stays valid. */
void mf_undo_to(struct th_mesh *m, struct th_journal *j, size_t mark);
void mf_stats_are(const struct th_mesh *m, uint32_t v, uint32_t e, uint32_t f, uint32_t boundary, int64_t euler);

/* ---- patches of the mesh operations (th_meshop.h) ---- */

struct th_patch;
extern const uint8_t mf_author[32]; /* the author th_patch_apply derives ids for */
/* th_patch_apply of p as entry (mf_author, seq) through j (may be NULL):
 * fails the test on a refusal; the mesh passes th_mesh_check. */
void mf_patch_applied(struct th_mesh *m, const struct th_patch *p, uint64_t seq, struct th_journal *j);
/* p applied to m through a journal of its own and undone: the mesh valid
 * in between and its encoding after the undo exactly as before. */
void mf_patch_round_trip(struct th_mesh *m, const struct th_patch *p, uint64_t seq);

/* ---- the unit cube ---- */

/* Vertex ids 1..8 (1-4 the bottom, 5-8 the top, as mf_cube_pos), faces
 * 101..106, counter-clockwise seen from outside. */
extern const uint64_t mf_cube_faces[6][4];
extern const float mf_cube_pos[8][3];
void mf_add_cube_verts(struct mf_patch *p);
/* Initialises m (id MF_MESH_ID) and applies the 8 vertices and the first
 * nfaces faces in one patch. */
void mf_build_cube(struct th_mesh *m, struct th_journal *j, unsigned nfaces);
/* The same cube (ids, positions, loops) with its vertices and faces added
 * in reverse order, so its slots differ: for "the same ops whatever order
 * built the mesh". */
void mf_build_cube_reversed(struct th_mesh *m);

/* A case's start: an empty journal j, the cube of nfaces faces in m (as
 * mf_build_cube) and an empty patch; mf_teardown frees all three. */
struct mf_patch *mf_cube_setup(struct th_mesh *m, struct th_journal *j, unsigned nfaces);
void mf_teardown(struct th_mesh *m, struct th_journal *j, struct mf_patch *p);

/* Four triangles (ids first_id.., material 1) from each edge of cube face
 * mf_cube_faces[side] to the apex, a vertex named by local reference. */
void mf_p_roof(struct mf_patch *p, unsigned side, uint64_t first_id, unsigned apex);

/* ---- primitives ---- */

struct th_prim;
/* A mesh (id) of the primitive pp (th_op_primitive) applied as entry
 * (author, 1): 0, or a negative errno with *why (may be NULL) saying why,
 * m then holding nothing to free. Fails no test (benchmarks use it too). */
int mf_prim_mesh(struct th_mesh *m, uint64_t id, const struct th_prim *pp, const uint8_t author[32],
		 const char **why);

/* ---- the top of a mesh (the ray and tool tests and benchmarks) ---- */

#define MF_TOP_NORMAL_Y 0.99f /* a face whose unit normal's y is at least this faces +y */

/* The ids of at most n live faces of m facing +y whose centres are nearest
 * the y axis (x^2 + z^2), nearest first, ties by slot; their count (0 when
 * m has none, or out of memory). centres (may be NULL) gets each one's
 * centre. Fails no test (benchmarks use it too). */
unsigned mf_top_faces(const struct th_mesh *m, unsigned n, uint64_t *ids, float (*centres)[3]);
/* The id of the live face of m whose unit normal (mesh space) is nearest
 * dir (the largest dot product; the first slot on a tie), 0 when m has no
 * face with a normal. Fails no test. */
uint64_t mf_face_facing(const struct th_mesh *m, const float dir[3]);
