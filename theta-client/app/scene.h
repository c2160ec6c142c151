/* The client's mirror of the session's scene (docs/ipc.md, "Scene
 * snapshots"; docs/scene.md): a th_fold rebuilt from the daemon's snapshot
 * (SCENE_CHUNKs after a RESYNC answer with the SCENE flag), then every
 * LOG_ENTRY event folded in position order, copied into the ECS world:
 * one sim entity per scene entity, with the scene's Transform, MeshRef,
 * Selection and ToolState and the local SceneEntity component (its scene
 * id). Meshes and materials stay in the fold's scene: the client-side mesh
 * store the renderer reads (app_scene_mesh, app_scene_material).
 *
 * Own edits are optimistic: app_scene_tentative applies a submitted command
 * at once (the frame that submits it shows it), token = its client
 * sequence number, as an entry of the all-zero author with seq = token (so
 * what it creates has provisional ids the editor can derive: edit/); the tentative goes when the daemon answers (CMD_REJECT)
 * or the entry it became is folded (CMD_ACK names it; the event for it, in
 * either order). The fold refusing an entry of this user comes as EVENT
 * REFUSED: logged (one line each, the first APP_SCENE_REFUSED_LOG_MAX) and
 * counted.
 *
 * An entry the fold cannot take (below its rollback window: -ERANGE; a
 * hole in an author's chain: -EPROTO) or a snapshot that does not restore
 * makes the mirror ask the daemon for a fresh snapshot (io.resync). It
 * reports its position, world hash and entity count (io.report,
 * SCENE_STATE) after changes, at most every APP_SCENE_REPORT_NS.
 *
 * All calls come from the frame loop's thread, outside stages. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "app/transport.h"
#include "ipc.h"
#include "sim/world.h"
#include "th_fold.h"

#define APP_SCENE_REPORT_NS (100ull * 1000 * 1000) /* SCENE_STATE at most this often */
#define APP_SCENE_TENTATIVE_MAX 1024u              /* own edits shown before they are folded */
#define APP_SCENE_RECENT 4096u                     /* folded entry ids kept to match late acks */
#define APP_SCENE_RESYNC_MIN_NS (250ull * 1000 * 1000) /* a failed snapshot is asked again after */
#define APP_SCENE_REFUSED_LOG_MAX 10u                 /* refusals logged one by one; the rest counted */
#define APP_SCENE_COMPONENT "SceneEntity"           /* local component: the scene entity id (u64) */

/* What the mirror asks of the daemon link (main wires it to link/). */
struct app_scene_io {
	/* Ask for a fresh snapshot (RESYNC_REQUEST with the SCENE flag). */
	void (*resync)(void *ud);
	/* Send SCENE_STATE; 0, or -EAGAIN (not connected: said again later). */
	int (*report)(void *ud, uint64_t next_pos, const uint8_t hash[TH_SCENE_HASH_LEN], uint32_t entities);
	/* The client sequence number the link gives the next command. */
	uint64_t (*next_seq)(void *ud);
	/* Optional: a published command with a tag (app_command.tag) got
	 * client sequence number seq (the editor's history follows it). */
	void (*sent)(void *ud, uint64_t tag, uint64_t seq);
	void *ud;
};

struct app_scene_stats {
	uint64_t snapshots;     /* restored */
	uint64_t snapshot_bytes;
	uint64_t bad_snapshots; /* chunks out of order, or bytes that do not restore */
	uint64_t entries;       /* LOG_ENTRY events folded (new to the set) */
	uint64_t duplicates;    /* already in the set */
	uint64_t stale;         /* events while no snapshot was restored */
	uint64_t resyncs;       /* fresh snapshots asked for */
	uint64_t out_of_window; /* -ERANGE from the fold */
	uint64_t refused;       /* EVENT REFUSED for this user's entries */
	uint64_t tentative_added, tentative_refused, tentative_dropped;
	uint64_t spawned, updated, despawned; /* ECS entities */
	uint64_t reports;       /* SCENE_STATE sent */
};

struct app_scene;

/* w: the client's ECS world (registers the SceneEntity component). */
int app_scene_create(struct sim_world *w, const struct app_scene_io *io, struct app_scene **out);
void app_scene_destroy(struct app_scene **p);

/* From the link (link_callbacks): where the daemon's stream starts. With
 * the SCENE flag a snapshot at m->next_pos follows. */
void app_scene_on_resync(struct app_scene *m, const struct proto_ipc_resync_request *r);
/* One SCENE_CHUNK; the last one restores the fold. */
void app_scene_on_chunk(struct app_scene *m, const struct proto_ipc_scene_chunk *c, uint64_t now_ns);
/* An EVENT (LOG_ENTRY: folded; REFUSED: logged and counted). */
void app_scene_on_event(struct app_scene *m, const struct proto_ipc_event *e, uint64_t now_ns);
/* CMD_ACK / CMD_REJECT (exactly one non-NULL). */
void app_scene_on_answer(struct app_scene *m, const struct proto_ipc_cmd_ack *ack,
			 const struct proto_ipc_cmd_reject *rej);

/* An own edit, as submitted (token: its client sequence number). 0 shown,
 * -EINVAL refused by the scene (not shown; the daemon will say too),
 * -ENOBUFS (APP_SCENE_TENTATIVE_MAX shown), -ENOTCONN (no scene yet). */
int app_scene_tentative(struct app_scene *m, uint64_t token, const struct app_command *c);

/* Copies the scene's changes into the ECS world (spawn, update, despawn)
 * and reports SCENE_STATE when due (force: now, whatever the interval).
 * 0 or a negative errno from the world. */
int app_scene_sync(struct app_scene *m, uint64_t now_ns, bool force);

/* Wraps the link's transport: drain, then app_scene_sync; publish, then
 * each published command as a tentative edit (same frame). The wrapper
 * owns inner; the mirror must outlive it. */
int app_scene_transport(struct app_scene *m, struct app_transport *inner, struct app_transport **out);

/* Reading (NULL / SIM_ENTITY_NULL when absent). */
const struct th_mesh *app_scene_mesh(const struct app_scene *m, uint64_t id);
const struct th_scene_material *app_scene_material(const struct app_scene *m, unsigned index);
sim_entity app_scene_entity(const struct app_scene *m, uint64_t scene_id);
const struct th_scene *app_scene_scene(const struct app_scene *m); /* NULL before a snapshot */
bool app_scene_ready(const struct app_scene *m);
uint64_t app_scene_next_pos(const struct app_scene *m);
/* The folded set's world hash (tentatives left out): 0 or -ENOTCONN. */
int app_scene_world_hash(struct app_scene *m, uint8_t out[TH_SCENE_HASH_LEN]);
uint32_t app_scene_entities(const struct app_scene *m); /* mirrored ECS entities */
unsigned app_scene_tentatives(const struct app_scene *m);
const struct app_scene_stats *app_scene_stats(const struct app_scene *m);
