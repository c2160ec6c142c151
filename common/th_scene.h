/* The scene of a session (docs/scene.md): entities with their REPLICATED
 * components (schemas/components.def), half-edge meshes (th_mesh.h) and a
 * material table, changed one log entry at a time by th_scene_apply. The
 * same code runs in thetad, theta-client and thetactl; the order in which
 * entries are applied, rollback and undo are th_fold.h's.
 *
 * th_scene_apply is one fold step: it decodes the entry's payload,
 * validates it against the current scene and applies it, or refuses it
 * with a reason and changes nothing. Refusals depend only on the scene and
 * the entry, so every replica refuses the same entries. What each command
 * does:
 *   entity.create    a new entity, id th_id_derive(ENTITY, author, seq, 0),
 *                    with its components; a MeshRef must name a mesh
 *   entity.destroy   the scope's entity (its mesh stays, for undo)
 *   component.write  sets (adds) one component of the scope's entity
 *   component.remove removes one the entity has
 *   mesh.create      entity (ENTITY, index 0) with Transform + MeshRef, and
 *                    a mesh (MESH_ELEMENT, index 0) built by the ops
 *   mesh.patch       th_mesh_apply on the scope's mesh
 *   material.set     one entry of the material table
 *   mesh.transform   refused: it carries an intent (a matrix), not results
 *   tool.state, annotation.add, session.rename: no effect on the scene
 *   edit.undo, edit.redo, session.role_set: th_fold's, refused here
 * Refusals (enum th_refusal); a refused entry changes nothing:
 *   MALFORMED    the payload does not decode (or an unknown type)
 *   NOT_SCENE    edit.undo, edit.redo, session.role_set
 *   INTENT       mesh.transform
 *   NO_ENTITY    entity.destroy, component.write/remove: no such entity
 *   NO_MESH      mesh.patch: no such mesh; a MeshRef (entity.create,
 *                component.write) naming a missing mesh
 *   NO_COMPONENT component.remove of a component the entity lacks
 *   EXISTS       entity.create, mesh.create: the derived id is in use
 *   LIMIT        TH_SCENE_ENTITIES_MAX, TH_SCENE_MESHES_MAX,
 *                TH_MESH_ELEMENTS_MAX elements in one mesh
 *   MESH         th_mesh_apply refused the ops (its sentence in why)
 * Every change pushes its inverse to the step's journal; th_scene_revert
 * undoes steps newest first, exactly (a mesh.create's mesh is destroyed).
 *
 * Canonical encoding (th_scene_encode), what the world hash covers:
 *   "THSC" u32 version (2)
 *   u32 defined materials, per material ascending index: u8 index,
 *       u16 name length + name, f32 base_color[4], f32 roughness, f32 metallic
 *   u32 entities, per entity ascending id: u64 id, u32 component mask (bit
 *       = TH_COMP_* index), then each present component's canonical value
 *       (th_schema_encode) in index order
 *   u32 meshes, per mesh ascending id: th_mesh_encode
 * World hash = BLAKE2b-256("theta.world.v1\0\0" || encoding): equal for
 * equal scenes, whatever path built them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"
#include "th_journal.h"
#include "th_logrec.h"
#include "th_mesh.h"
#include "th_payload.h"
#include "th_schema.h"

#define TH_SCENE_HASH_LEN 32
#define TH_SCENE_ENTITIES_MAX (1u << 22)
#define TH_SCENE_MESHES_MAX (1u << 20)
#define TH_SCENE_MATERIALS TH_PL_MATERIALS_MAX
/* 2: faces carry provenance (th_mesh.h); 1 is not read. */
#define TH_SCENE_ENCODING_VERSION 2

/* Why an entry was refused. Stable: shown by thetactl, sent to clients. */
enum th_refusal {
	TH_REFUSE_NONE = 0,
	TH_REFUSE_MALFORMED,   /* the payload does not decode */
	TH_REFUSE_NO_ENTITY,   /* names an entity that does not exist */
	TH_REFUSE_NO_COMPONENT,/* removes a component the entity lacks */
	TH_REFUSE_NO_MESH,     /* names a mesh that does not exist */
	TH_REFUSE_EXISTS,      /* would create an id already in use */
	TH_REFUSE_MESH,        /* the patch names a missing element or breaks the mesh */
	TH_REFUSE_INTENT,      /* carries an intent the fold cannot copy (mesh.transform) */
	TH_REFUSE_DENIED,      /* the author's role does not allow it (undo of another's edit, role change) */
	TH_REFUSE_UNDO_TARGET, /* undo/redo names an entry that cannot be undone (or redone) */
	TH_REFUSE_LIMIT,       /* a scene limit (entities, meshes, elements) */
	TH_REFUSE_NOT_SCENE,   /* a control entry (undo, redo, roles): th_fold's */
	TH_REFUSE_COUNT
};
/* Stable short name ("no-entity", ...), "?" past the end. */
const char *th_refusal_name(int r);

struct th_scene_refusal {
	uint8_t code;    /* enum th_refusal */
	const char *why; /* one static sentence naming the field or element */
};

struct th_scene_material {
	bool defined;
	char name[TH_PL_MATERIAL_NAME_MAX + 1];
	float base_color[4];
	float roughness, metallic;
};

/* What changed, for a mirror (theta-client's ECS): reported by apply and by
 * revert, once per change, after the change. */
enum th_scene_change {
	TH_SCENE_ENTITY_CREATED = 1,
	TH_SCENE_ENTITY_CHANGED,   /* a component was written or removed */
	TH_SCENE_ENTITY_DESTROYED,
	TH_SCENE_MESH_CREATED,
	TH_SCENE_MESH_CHANGED,
	TH_SCENE_MESH_DESTROYED,
	TH_SCENE_MATERIAL_CHANGED, /* id: the material index */
};
typedef void th_scene_change_fn(void *ud, enum th_scene_change kind, uint64_t id);

struct th_scene_stats {
	uint64_t entities, meshes, vertices, faces, edges, materials;
};

struct th_scene; /* opaque */

int th_scene_create(struct th_scene **out);
void th_scene_destroy(struct th_scene **s);
/* Reports every change to fn (NULL: none). */
void th_scene_on_change(struct th_scene *s, th_scene_change_fn *fn, void *ud);

/* One fold step (see above). e's signature and chain are the log's concern;
 * e->payload must hold payload_len bytes. Returns 0 (applied, inverse in j),
 * -EINVAL (refused: *r says why; scene and j unchanged), or -ENOMEM /
 * -ENOSPC (j full), unchanged. j may be NULL (no rollback wanted). */
int th_scene_apply(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
		   struct th_scene_refusal *r);
/* Undoes every change recorded in j above mark, newest first. */
void th_scene_revert(struct th_scene *s, struct th_journal *j, size_t mark);

/* Reading. Component pointers are the C struct (struct th_c_*) of a
 * REPLICATED component, valid until the next change. */
bool th_scene_has_entity(const struct th_scene *s, uint64_t id);
const void *th_scene_component(const struct th_scene *s, uint64_t entity, unsigned comp);
/* Walks entities (meshes) in no particular order: start with *cursor 0;
 * returns false at the end. */
bool th_scene_next_entity(const struct th_scene *s, size_t *cursor, uint64_t *id);
bool th_scene_next_mesh(const struct th_scene *s, size_t *cursor, const struct th_mesh **m);
const struct th_mesh *th_scene_mesh(const struct th_scene *s, uint64_t id);
const struct th_scene_material *th_scene_material(const struct th_scene *s, unsigned index);
void th_scene_stats(const struct th_scene *s, struct th_scene_stats *out);

/* Canonical encoding appended to w (0 or th_wbuf's error) and the world
 * hash over it. Both keep each mesh's encoding cached until the mesh
 * changes (re-encoding only what changed): they read s, but must not run
 * on one scene from two threads at once. */
int th_scene_encode(const struct th_scene *s, struct th_wbuf *w);
int th_scene_hash(const struct th_scene *s, uint8_t out[TH_SCENE_HASH_LEN]);
/* Replaces s's content with the scene encoded at p[len] (exactly len
 * bytes), validating everything (-EBADMSG with *why; s unchanged). Reports
 * no changes: a mirror rebuilds from scratch after it. */
int th_scene_decode(struct th_scene *s, const uint8_t *p, size_t len, const char **why);
