/* A scripted editor's picture of a session's scene, built from the log
 * entries it hears (EVENTs), and the payloads it makes from it
 * (header-only): test_converge's clients and the demo's editor
 * (tests/tools/demo_edit.c) share it.
 *
 * The picture is what an author can name, not the world: each mesh.create
 * and mesh.patch is taken as if it applied (the fold may refuse it), so a
 * patch made from the picture may name an element that another author
 * deleted meanwhile, and be refused. Element ids follow schemas/ids.def and
 * schemas/commands.def: a mesh.create's mesh and entity are index 0, the
 * element created by op i is index i + 1. Bounded: a ring of the newest
 * SE_MESHES_MAX meshes, the first SE_MESH_VERTS_MAX vertices and
 * SE_MESH_FACES_MAX quads of each. Entries are counted once per (author,
 * seq): a replay after a reconnect is a duplicate, a skipped seq a gap. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "th_cmd.h"
#include "th_id.h"
#include "th_logrec.h"
#include "th_payload.h"
#include "th_schema.h"

#define SE_MESHES_MAX 256u
#define SE_MESH_VERTS_MAX 24u
#define SE_MESH_FACES_MAX 24u
#define SE_OWN_MAX 2048u
#define SE_AUTHORS_MAX 8u
#define SE_CUBE_OPS (8u + 6u * 5u)

struct se_face {
	uint64_t id, loop[4];
	bool alive;
};

struct se_mesh {
	uint64_t id, entity;
	uint64_t lamport; /* of the mesh.create */
	uint64_t verts[SE_MESH_VERTS_MAX]; /* a cube's corners first, in corner order */
	bool loose[SE_MESH_VERTS_MAX];
	unsigned n_verts;
	struct se_face faces[SE_MESH_FACES_MAX]; /* a cube's faces first, in se_cube_faces order */
	unsigned n_faces;
};

struct se_author {
	uint8_t key[TH_LOGREC_KEY_LEN];
	uint64_t seq; /* last seq heard */
};

struct se_model {
	char fpr[TH_KEY_FPR_LEN]; /* this editor's user (thetactl whoami) */
	uint8_t self[TH_LOGREC_KEY_LEN];
	bool self_known;
	struct se_author authors[SE_AUTHORS_MAX];
	unsigned n_authors;
	uint64_t heard, dups, gaps;
	struct se_mesh meshes[SE_MESHES_MAX];
	unsigned n_meshes, mesh_next;
	/* lamports of this user's scene edits and of its undos, rings, with
	 * how many entries had been heard when each came (its age) */
	uint64_t own[SE_OWN_MAX], undos[SE_OWN_MAX];
	uint64_t own_at[SE_OWN_MAX], undos_at[SE_OWN_MAX];
	unsigned n_own, n_undos;
};

/* Corners of a unit cube's six faces, counter-clockwise seen from outside;
 * corner i sits at (i & 1, i >> 1 & 1, i >> 2 & 1). */
static const uint8_t se_cube_faces[6][4] = {
	{ 0, 2, 3, 1 }, { 4, 5, 7, 6 }, { 0, 1, 5, 4 }, { 2, 6, 7, 3 }, { 0, 4, 6, 2 }, { 1, 3, 7, 5 },
};

static inline void se_model_init(struct se_model *m, const char *fpr)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->fpr, sizeof(m->fpr), "%s", fpr);
}

static inline struct se_mesh *se_mesh_find(struct se_model *m, uint64_t id)
{
	for (unsigned i = 0; i < m->n_meshes; i++)
		if (m->meshes[i].id == id)
			return &m->meshes[i];
	return NULL;
}

static inline struct se_author *se_author_of(struct se_model *m, const uint8_t *key)
{
	for (unsigned i = 0; i < m->n_authors; i++)
		if (!memcmp(m->authors[i].key, key, TH_LOGREC_KEY_LEN))
			return &m->authors[i];
	if (m->n_authors == SE_AUTHORS_MAX)
		return NULL;
	struct se_author *a = &m->authors[m->n_authors++];
	memcpy(a->key, key, TH_LOGREC_KEY_LEN);
	a->seq = 0;
	return a;
}

static inline void se_ops_apply(struct se_mesh *me, const struct th_logrec_entry *e, const struct th_pl_mesh_op *ops,
				unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct th_pl_mesh_op *o = &ops[i];
		uint64_t nid = th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, i + 1);
		if (o->op == TH_PL_MESH_OP_VERTEX_ADD && me->n_verts < SE_MESH_VERTS_MAX) {
			/* loose until a FACE_ADD of the same list uses it */
			me->verts[me->n_verts] = nid;
			me->loose[me->n_verts++] = true;
		} else if (o->op == TH_PL_MESH_OP_FACE_ADD) {
			uint64_t loop[4] = { 0 };
			unsigned c = 0;
			while (c < 4 && i + 1 + c < n && ops[i + 1 + c].op == TH_PL_MESH_OP_LOOP) {
				const struct th_pl_mesh_op *l = &ops[i + 1 + c];
				loop[c] = l->arg == TH_PL_MESH_REF_LOCAL
						  ? th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, (uint32_t)l->element)
						  : l->element;
				for (unsigned v = 0; v < me->n_verts; v++)
					if (me->verts[v] == loop[c])
						me->loose[v] = false;
				c++;
			}
			if (c == 4 && me->n_faces < SE_MESH_FACES_MAX) {
				struct se_face *f = &me->faces[me->n_faces++];
				f->id = nid;
				memcpy(f->loop, loop, sizeof(f->loop));
				f->alive = true;
			}
		} else if (o->op == TH_PL_MESH_OP_REMOVE) {
			for (unsigned f = 0; f < me->n_faces; f++)
				if (me->faces[f].id == o->element)
					me->faces[f].alive = false;
			for (unsigned v = 0; v < me->n_verts; v++)
				if (me->verts[v] == o->element && me->loose[v]) {
					me->verts[v] = me->verts[me->n_verts - 1];
					me->loose[v] = me->loose[me->n_verts - 1];
					me->n_verts--;
					break;
				}
		}
	}
}

/* Takes one entry heard (each author's in seq order). Returns 1 for a new
 * one, 0 for a duplicate (already heard) or one past SE_AUTHORS_MAX. */
static inline int se_model_on_entry(struct se_model *m, const struct th_logrec_entry *e)
{
	static union th_pl_any pl; /* mesh payloads are large; single-threaded users */
	struct se_author *a = se_author_of(m, e->author);
	if (!a)
		return 0;
	if (e->seq <= a->seq) {
		m->dups++;
		return 0;
	}
	if (e->seq != a->seq + 1)
		m->gaps++;
	a->seq = e->seq;
	m->heard++;
	if (!m->self_known) {
		char fpr[TH_KEY_FPR_LEN];
		th_key_fingerprint(e->author, fpr, sizeof(fpr));
		if (!strcmp(fpr, m->fpr)) {
			memcpy(m->self, e->author, TH_LOGREC_KEY_LEN);
			m->self_known = true;
		}
	}
	bool mine = m->self_known && !memcmp(e->author, m->self, TH_LOGREC_KEY_LEN);
	if (e->type == TH_CMD_MESH_CREATE &&
	    th_cmd_payload_decode(e->type, e->payload, e->payload_len, &pl, NULL) == 0) {
		struct se_mesh *me = &m->meshes[m->mesh_next];
		m->mesh_next = (m->mesh_next + 1) % SE_MESHES_MAX;
		if (m->n_meshes < SE_MESHES_MAX)
			m->n_meshes++;
		*me = (struct se_mesh){ .id = th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, 0),
					.entity = th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0),
					.lamport = e->lamport };
		se_ops_apply(me, e, pl.mesh_create.ops, pl.mesh_create.ops_count);
	} else if (e->type == TH_CMD_MESH_PATCH &&
		   th_cmd_payload_decode(e->type, e->payload, e->payload_len, &pl, NULL) == 0) {
		struct se_mesh *me = se_mesh_find(m, e->scope_id);
		if (me)
			se_ops_apply(me, e, pl.mesh_patch.ops, pl.mesh_patch.ops_count);
	}
	if (mine && e->type == TH_CMD_EDIT_UNDO) {
		m->undos_at[m->n_undos % SE_OWN_MAX] = m->heard;
		m->undos[m->n_undos++ % SE_OWN_MAX] = e->lamport;
	} else if (mine && e->type != TH_CMD_EDIT_REDO) {
		m->own_at[m->n_own % SE_OWN_MAX] = m->heard;
		m->own[m->n_own++ % SE_OWN_MAX] = e->lamport;
	}
	return 1;
}

/* The lamport of one of this user's scene edits (undos false: of its undos)
 * heard among the last `reach` entries, the pick-th of them modulo their
 * number (newest first); 0 when there is none. An undo far back makes
 * every replica replay everything after it: editors undo recent work. */
static inline uint64_t se_recent_own(const struct se_model *m, bool undos, uint64_t reach, uint64_t pick)
{
	const uint64_t *lam = undos ? m->undos : m->own, *at = undos ? m->undos_at : m->own_at;
	unsigned n = undos ? m->n_undos : m->n_own, have = n < SE_OWN_MAX ? n : SE_OWN_MAX, fit = 0;
	for (unsigned k = 0; k < have; k++) {
		unsigned i = (n - 1 - k) % SE_OWN_MAX;
		if (m->heard - at[i] > reach)
			break; /* older ones are older still */
		fit++;
	}
	return fit ? lam[(n - 1 - (unsigned)(pick % fit)) % SE_OWN_MAX] : 0;
}

/* Appends one op to ops[*n] (the caller keeps *n below TH_PL_MESH_OPS_MAX). */
static inline struct th_pl_mesh_op *se_op(struct th_pl_mesh_op *ops, uint16_t *n, uint8_t op, uint64_t element,
					  uint32_t arg)
{
	struct th_pl_mesh_op *o = &ops[(*n)++];
	*o = (struct th_pl_mesh_op){ .op = op, .element = element, .arg = arg };
	return o;
}

/* A mesh.create payload: a cube of edge `size` at `pos` (8 VERTEX_ADD,
 * then 6 FACE_ADD + 4 LOOP with local references). Length or -errno. */
static inline int se_cube(const float pos[3], float size, uint8_t *buf, size_t cap)
{
	static struct th_pl_mesh_create mc;
	float t[10] = { pos[0], pos[1], pos[2], 0, 0, 0, 1, 1, 1, 1 };
	memcpy(mc.transform, t, sizeof(t));
	mc.material = 0;
	mc.ops_count = 0;
	for (unsigned i = 0; i < 8; i++) {
		struct th_pl_mesh_op *o = se_op(mc.ops, &mc.ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0);
		o->position[0] = (float)(i & 1) * size;
		o->position[1] = (float)(i >> 1 & 1) * size;
		o->position[2] = (float)(i >> 2 & 1) * size;
	}
	for (unsigned f = 0; f < 6; f++) {
		se_op(mc.ops, &mc.ops_count, TH_PL_MESH_OP_FACE_ADD, 0, 0);
		for (unsigned c = 0; c < 4; c++) /* corner v is op v: local reference v + 1 */
			se_op(mc.ops, &mc.ops_count, TH_PL_MESH_OP_LOOP, se_cube_faces[f][c] + 1u, TH_PL_MESH_REF_LOCAL);
	}
	return th_cmd_payload_encode(TH_CMD_MESH_CREATE, &mc, buf, cap);
}

/* A component.write of a Transform at pos (no rotation, unit scale). */
static inline int se_transform(const float pos[3], uint8_t *buf, size_t cap)
{
	struct th_c_transform t = { .position = { pos[0], pos[1], pos[2] }, .rotation = { 0, 0, 0, 1 },
				    .scale = { 1, 1, 1 } };
	uint8_t value[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &t, value, sizeof(value));
	if (n < 0)
		return n;
	struct th_pl_component_write w = { .component = th_component_id(TH_COMP_TRANSFORM), .value = value,
					   .value_len = (uint16_t)n };
	return th_cmd_payload_encode(TH_CMD_COMPONENT_WRITE, &w, buf, cap);
}

/* An edit.undo (undo true) or edit.redo naming (lamport, this user). */
static inline int se_undo(const struct se_model *m, bool undo, uint64_t lamport, uint8_t *buf, size_t cap)
{
	struct th_pl_edit_undo u = { .lamport = lamport };
	struct th_pl_edit_redo r = { .lamport = lamport };
	memcpy(u.author, m->self, TH_PL_KEY_LEN);
	memcpy(r.author, m->self, TH_PL_KEY_LEN);
	return undo ? th_cmd_payload_encode(TH_CMD_EDIT_UNDO, &u, buf, cap)
		    : th_cmd_payload_encode(TH_CMD_EDIT_REDO, &r, buf, cap);
}
