/* Entries for the fold's tests: th_logtest.h authors whose chains are right
 * (seq, prev, lamport above their last), any command type with its typed
 * payload, and the payloads the fold's cases need (mesh ops with faces,
 * undo/redo targets, roles) that th_scenelog.h's appenders do not make.
 * Header-only, over tests/lib's th_logtest.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "th_cmd.h"
#include "th_id.h"
#include "th_logrec.h"
#include "th_payload.h"
#include "th_logtest.h"
#include "th_schema.h"

/* Every entry made, owning its payload, until ff_free_all. */
struct ff_entry {
	struct th_logrec_entry e;
	uint8_t *payload;
};
static struct ff_entry *ff_made;
static size_t ff_nmade, ff_capmade;

static inline void ff_free_all(void)
{
	for (size_t i = 0; i < ff_nmade; i++)
		free(ff_made[i].payload);
	free(ff_made);
	ff_made = NULL;
	ff_nmade = ff_capmade = 0;
}

/* The author's next entry of `type` on scope_id at `lamport` (raised to
 * stay above the author's previous one), payload m (a struct th_pl_*),
 * chained by lt_entry_cmd, unsigned (the fold does not check signatures).
 * Returns its index in ff_made (pointers into ff_made move when it grows:
 * use ff_e()). */
static inline size_t ff_make(struct lt_author *a, uint16_t type, uint64_t scope_id, uint64_t lamport, const void *m)
{
	static uint8_t buf[TH_LOGREC_PAYLOAD_MAX];
	int n = th_cmd_payload_encode(type, m, buf, sizeof buf);
	if (n < 0)
		abort();
	if (ff_nmade == ff_capmade) {
		ff_capmade = ff_capmade ? ff_capmade * 2 : 256;
		ff_made = realloc(ff_made, ff_capmade * sizeof *ff_made);
		if (!ff_made)
			abort();
	}
	struct ff_entry *x = &ff_made[ff_nmade];
	x->payload = malloc(n ? (size_t)n : 1);
	if (!x->payload)
		abort();
	memcpy(x->payload, buf, (size_t)n);
	if (lamport <= a->chain.lamport)
		lamport = a->chain.lamport + 1;
	uint8_t scope = th_cmd_find(type)->scope;
	uint8_t hash[TH_LOGREC_HASH_LEN];
	lt_entry_cmd(a, type, scope, lamport, scope == TH_SCOPE_GLOBAL ? 0 : scope_id, x->payload, (uint32_t)n, false,
		     &x->e, hash);
	return ff_nmade++;
}

static inline const struct th_logrec_entry *ff_e(size_t i) { return &ff_made[i].e; }

/* ---- payloads ------------------------------------------------------------- */

static union th_pl_any ff_pl;

static inline void ff_transform(float x, uint8_t out[40])
{
	struct th_c_transform t = { .position = { x, 0, 0 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &t, out, 40);
}

static inline const void *ff_entity_create(float x)
{
	static uint8_t v[40];
	memset(&ff_pl, 0, sizeof ff_pl);
	ff_transform(x, v);
	ff_pl.entity_create.components_count = 1;
	ff_pl.entity_create.components[0].component = th_component_id(TH_COMP_TRANSFORM);
	ff_pl.entity_create.components[0].value = v;
	ff_pl.entity_create.components[0].value_len = 40;
	return &ff_pl.entity_create;
}

static inline const void *ff_component_write(float x)
{
	static uint8_t v[40];
	memset(&ff_pl, 0, sizeof ff_pl);
	ff_transform(x, v);
	ff_pl.component_write.component = th_component_id(TH_COMP_TRANSFORM);
	ff_pl.component_write.value = v;
	ff_pl.component_write.value_len = 40;
	return &ff_pl.component_write;
}

static inline const void *ff_empty(void)
{
	memset(&ff_pl, 0, sizeof ff_pl);
	return &ff_pl;
}

static inline void ff_op(struct th_pl_mesh_op *o, uint8_t op, uint64_t element, uint32_t arg, float x, float y)
{
	memset(o, 0, sizeof *o);
	o->op = op;
	o->element = element;
	o->arg = arg;
	o->position[0] = x;
	o->position[1] = y;
}

/* n new vertices (ops 0..n-1) and one face over them (op n, loops after):
 * a disc of its own, valid on any mesh. */
static inline unsigned ff_ngon_ops(struct th_pl_mesh_op *ops, unsigned n, float x)
{
	for (unsigned i = 0; i < n; i++)
		ff_op(&ops[i], TH_PL_MESH_OP_VERTEX_ADD, 0, 0, x + (float)(i == 1 || i == 2), (float)(i >= 2));
	ff_op(&ops[n], TH_PL_MESH_OP_FACE_ADD, 0, 0, 0, 0);
	for (unsigned i = 0; i < n; i++)
		ff_op(&ops[n + 1 + i], TH_PL_MESH_OP_LOOP, i + 1, TH_PL_MESH_REF_LOCAL, 0, 0);
	return 2 * n + 1;
}

/* mesh.create of one quad: vertices are ops 0..3 (ids index 1..4), the face
 * op 4 (index 5). */
static inline const void *ff_mesh_create(float x)
{
	memset(&ff_pl, 0, sizeof ff_pl);
	float t[10] = { x, 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(ff_pl.mesh_create.transform, t, sizeof t);
	ff_pl.mesh_create.ops_count = (uint16_t)ff_ngon_ops(ff_pl.mesh_create.ops, 4, x);
	return &ff_pl.mesh_create;
}

static inline struct th_pl_mesh_patch *ff_patch(void)
{
	memset(&ff_pl, 0, sizeof ff_pl);
	return &ff_pl.mesh_patch;
}

static inline const void *ff_material(uint8_t index, float r)
{
	memset(&ff_pl, 0, sizeof ff_pl);
	ff_pl.material_set.index = index;
	memcpy(ff_pl.material_set.name, "paint", 6);
	float c[4] = { r, 0.5f, 0.25f, 1 };
	memcpy(ff_pl.material_set.base_color, c, sizeof c);
	ff_pl.material_set.roughness_metallic[0] = 0.5f;
	return &ff_pl.material_set;
}

/* edit.undo / edit.redo of the entry (lamport, author). */
static inline const void *ff_target(uint64_t lamport, const uint8_t *author)
{
	memset(&ff_pl, 0, sizeof ff_pl);
	ff_pl.edit_undo.lamport = lamport;
	memcpy(ff_pl.edit_undo.author, author, TH_LOGREC_KEY_LEN);
	return &ff_pl.edit_undo;
}

static inline const void *ff_role(const uint8_t *member, uint8_t role)
{
	memset(&ff_pl, 0, sizeof ff_pl);
	memcpy(ff_pl.session_role_set.member, member, TH_LOGREC_KEY_LEN);
	ff_pl.session_role_set.role = role;
	return &ff_pl.session_role_set;
}

static inline uint64_t ff_entity_of(size_t i)
{
	return th_id_derive(TH_ID_ENTITY, ff_e(i)->author, ff_e(i)->seq, 0);
}
/* The mesh-element id entry i creates as its index-th (0: the mesh). */
static inline uint64_t ff_element_of(size_t i, uint32_t index)
{
	return th_id_derive(TH_ID_MESH_ELEMENT, ff_e(i)->author, ff_e(i)->seq, index);
}
