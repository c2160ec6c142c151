/* Scene histories for tests and benchmarks: typed scene entries
 * (entity.create, component.write, mesh.create of a strip of quads,
 * mesh.patch vertex moves, material.set, edit.undo) by several authors
 * (th_logtest.h authors), chained and kept in append order with their
 * payloads, and written as a log directory that thetactl and thetad read.
 * Each entry is its own group-commit batch; entries are signed when the
 * history is made with sign (a log file needs it; a fold does not). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_logrec.h"
#include "th_logtest.h"

struct sh_entry {
	struct th_logrec_entry e; /* e.payload points into payload */
	uint8_t hash[TH_LOGREC_HASH_LEN];
	uint8_t *payload;
};

struct sh_log {
	struct sh_entry *v;
	size_t n, cap;
	uint64_t lamport; /* the highest lamport given so far */
	uint64_t lamport_next; /* when not 0, the next entry's lamport (then 0 again) */
	bool sign;
};

/* A mesh made by sh_mesh_strip: who made it and how, to name its vertices. */
struct sh_mesh {
	uint64_t entity, mesh;
	uint8_t author[TH_LOGREC_KEY_LEN];
	uint64_t seq;
	unsigned quads; /* 2 * (quads + 1) vertices */
};

void sh_init(struct sh_log *l, bool sign);
void sh_fini(struct sh_log *l);

/* Appends a's next entry (payload copied). lamport 0: l->lamport_next if
 * set, else one above the highest so far. Returns its index in l->v, or -ENOMEM. */
long sh_add(struct sh_log *l, struct lt_author *a, uint16_t type, uint8_t scope_kind, uint64_t scope_id,
	    const void *payload, size_t len, uint64_t lamport);

/* The same with the payload struct m (union th_pl_any's member for type),
 * encoded by th_cmd_payload_encode: 0 or negative errno. */
int sh_add_typed(struct sh_log *l, struct lt_author *a, uint16_t type, uint8_t scope_kind, uint64_t scope_id,
		 const void *m);

/* entity.create with a Transform at pos; the new entity's id in *id. */
int sh_entity_create(struct sh_log *l, struct lt_author *a, const float pos[3], uint64_t *id);
/* component.write of entity's Transform (position pos, identity rest). */
int sh_transform_write(struct sh_log *l, struct lt_author *a, uint64_t entity, const float pos[3]);
/* The same with the whole Transform t. */
struct th_c_transform;
int sh_transform_write_trs(struct sh_log *l, struct lt_author *a, uint64_t entity, const struct th_c_transform *t);
/* mesh.create: a strip of `quads` quads (2 rows of quads + 1 vertices at
 * x = 0..quads, y = 0 and 1, z = z), faces of material `material`. */
int sh_mesh_strip(struct sh_log *l, struct lt_author *a, unsigned quads, float z, uint32_t material,
		  struct sh_mesh *out);
/* The id of vertex k (0..2*quads+1) of a strip. */
uint64_t sh_strip_vertex(const struct sh_mesh *m, unsigned k);
/* mesh.patch: VERTEX_MOVE of vertex k of m to pos. */
int sh_vertex_move(struct sh_log *l, struct lt_author *a, const struct sh_mesh *m, unsigned k, const float pos[3]);
/* material.set of entry index. */
int sh_material(struct sh_log *l, struct lt_author *a, uint8_t index, const char *name, const float rgba[4]);
/* The same with its roughness and metallic (sh_material: 0.5, 0). */
int sh_material_pbr(struct sh_log *l, struct lt_author *a, uint8_t index, const char *name, const float rgba[4],
		    float roughness, float metallic);
/* edit.undo of the entry at l->v[target]. */
int sh_undo(struct sh_log *l, struct lt_author *a, size_t target);

/* Writes entries [0, n) as segment 1 of a log in dir (created when absent):
 * one batch per entry. 0 or negative errno. */
int sh_write_log(const struct sh_log *l, size_t n, const char *dir);
