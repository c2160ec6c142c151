/* Scene snapshots to local clients that mirror the scene (docs/ipc.md,
 * "Scene snapshots"): a client whose RESYNC_REQUEST carries the SCENE flag
 * gets, on every request it makes (first connect, reconnect after a daemon
 * restart, the answer to a QUEUE_OVERFLOW) and on a session switch, the
 * answer RESYNC_REQUEST {FROM|SESSION, session, P, SCENE}, the session's
 * th_fold_snapshot at position P in SCENE_CHUNKs, sent only while its ring
 * has room (never queued, never blocking the loop), then the LOG_ENTRY
 * events from P by the usual replay. While that runs the client gets no
 * live events (it would see positions above P before the snapshot).
 *
 * Also: refusals of the fold for entries of a client's user, as EVENT
 * REFUSED to that user's clients; and each client's last SCENE_STATE,
 * shown by `clients` beside the daemon's own world hash. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "ipc.h"
#include "sess/scene.h" /* the session's fold: sess_scene_fold, _snapshot, _set_listener */
#include "th_fold.h"

struct sess_session;

struct sess_module;
struct sess_client;
struct json_object;
struct proto_ipc_scene_state;
struct proto_ipc_resync_request;

/* A snapshot larger than this is not sent (logged once per session); the
 * client then gets no events until its next request. */
#define SESS_CSCENE_SNAPSHOT_MAX PROTO_IPC_SCENE_SNAPSHOT_MAX
/* Snapshot bytes held for all clients being sent one: past it, the next
 * client's snapshot is made once some of them are out (memory stays within
 * this plus one snapshot). */
#define SESS_CSCENE_HELD_MAX ((size_t)256 << 20)
/* Chunks one client gets per pass (the loop serves everyone else first). */
#define SESS_CSCENE_CHUNKS_PER_PASS 8u

/* Registers the fold listener (refusals to clients). */
void sess_cscene_init(struct sess_module *m);
/* The client asked for events (rq, validated): when it asks with the
 * SCENE flag, this takes over the answer (returns true): the snapshot is
 * sent as soon as the session's fold is ready. false: answer it as
 * before. */
bool sess_cscene_resync(struct sess_module *m, struct sess_client *c, const struct proto_ipc_resync_request *rq);
/* The session changed under c: true when c mirrors the scene (a snapshot
 * of the new session follows, with reason SESSION), false otherwise. */
bool sess_cscene_switch(struct sess_module *m, struct sess_client *c);
/* s's fold was replaced other than by folding entries (a late join's
 * installed snapshot): every mirroring client of s is sent a fresh
 * snapshot. Returns how many. */
unsigned sess_cscene_resync_session(struct sess_module *m, struct sess_session *s);
/* c waits for or is being sent a snapshot: no live events. */
bool sess_cscene_busy(const struct sess_client *c);
/* One sending pass over every client; 1 when someone has more to send at
 * once, -EAGAIN when someone waits for ring room or a fold, 0 when done. */
int sess_cscene_pump(struct sess_module *m);
/* The client is gone. */
void sess_cscene_free(struct sess_client *c);
/* ipc on_scene_state: the client's mirror reports its position and hash. */
void sess_cscene_on_state(void *user, uint64_t client_id, const struct proto_ipc_scene_state *st);
/* ipc describe: adds "scene" to a `clients` row. */
void sess_cscene_describe(void *user, uint64_t client_id, struct json_object *row);
