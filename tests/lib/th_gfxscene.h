/* Scenes for the renderer's tests and benchmarks: a real th_fold (the
 * "daemon") over chained entries of several authors (th_scenelog.h), and
 * the client's real scene mirror (app/scene.h) over a sim_world, fed as the
 * link feeds it: a snapshot in chunks the first time, log entry events
 * after. Entries are made with the mesh operations (common/th_meshop.h):
 * primitives, any patch, Selection writes, materials. Every function
 * returns 0 or a negative errno (no cmocka here; benchmarks use it too). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/scene.h"
#include "sim/world.h"
#include "th_fold.h"
#include "th_logtest.h"
#include "th_meshop.h"
#include "th_scenelog.h"

struct gs {
	struct lt_author host, a, b; /* a and b: two users */
	struct sh_log log;
	struct th_fold *fold;
	size_t folded;    /* entries the fold took */
	size_t delivered; /* entries the mirror heard */
	bool snapshot_sent;
	struct sim_world *w;
	struct app_scene *scene;
	uint64_t now_ns;
};

int gs_init(struct gs *s);
void gs_fini(struct gs *s);
/* gs_init of a new struct gs (a cmocka state); gs_destroy: gs_fini, free
 * and *p = NULL (a NULL one is fine). */
int gs_create(struct gs **out);
void gs_destroy(struct gs **p);
/* Folds the new entries and hands them to the mirror (the first time as a
 * snapshot), then app_scene_sync. */
int gs_sync(struct gs *s);
/* mesh.create of primitive pp by `by` at pos (rot: x y z w, NULL: none),
 * faces of `material`; the new entity and mesh ids (either may be NULL). */
int gs_primitive(struct gs *s, struct lt_author *by, const struct th_prim *pp, const float pos[3],
		 const float rot[4], uint32_t material, uint64_t *entity, uint64_t *mesh);
/* gs_primitive of a cube of edge `size` (faces of material 0, no turn). */
int gs_cube(struct gs *s, struct lt_author *by, const float pos[3], float size, uint64_t *entity, uint64_t *mesh);
/* Hands fold's snapshot to mirror m as the link does: the RESYNC_REQUEST
 * answer with the SCENE flag (session, next_pos), then the snapshot in
 * chunks of `chunk` bytes from host key `host`, each at now_ns. 0 or the
 * fold's negative errno (whether m took it: app_scene_ready). */
int gs_send_snapshot(struct app_scene *m, struct th_fold *fold, uint64_t session, uint64_t next_pos,
		     const uint8_t host[32], uint32_t chunk, uint64_t now_ns);
/* mesh.patch of mesh by `by` with patch p (made against the fold's mesh). */
int gs_patch(struct gs *s, struct lt_author *by, uint64_t mesh, const struct th_patch *p);
/* The fold's current mesh (what an operation reads to make a patch). */
const struct th_mesh *gs_mesh(struct gs *s, uint64_t mesh);
/* component.write of a Selection on entity by `by` (owner: by's key, as
 * edit_owner_of), mode TH_SELECT_*, element (TH_SELECT_WHOLE: the object). */
int gs_select(struct gs *s, struct lt_author *by, uint64_t entity, uint32_t mode, uint64_t element);
/* The Selection.owner `by` writes. */
uint64_t gs_owner(const struct lt_author *by);
