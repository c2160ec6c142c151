/* Every session's scene in thetad: a th_fold (common/th_fold.h) per
 * session, fed each entry as it becomes durable (sess_on_durable), in log
 * position order, with checkpoints on disk (scene_ckpt.h) and a restart
 * from the newest good checkpoint plus the log's tail.
 *
 * States of a session's scene:
 *   rebuilding  folding the log from position 0 on the loop, a bounded
 *               number of entries per pass, in total order (lamport,
 *               author), so no entry falls below the rollback window: at
 *               the first open without a usable checkpoint, after an entry
 *               arrived below the window (-ERANGE), after the log was
 *               reopened;
 *   catching-up folding the log's tail from a cursor (after a checkpoint
 *               was restored, or after a rebuild, for what became durable
 *               meanwhile);
 *   live        each durable entry is folded as it arrives; outcomes go to
 *               the listeners (refusal events to clients);
 *   waiting     a member session whose host key is not known yet (the
 *               host's ACK brings it; no entry arrives before);
 *   failed      the log could not be read (tried again later).
 * While not live, entries that become durable are left to the cursor.
 *
 * Checkpoints: every scene.checkpoint_entries folded entries, or
 * scene.checkpoint_interval after the first change since the last one,
 * the snapshot is encoded (on the loop for a small scene, then written by
 * a writer thread; by a forked child for a large one) and written (tmp,
 * fsync, rename, directory fsync), the newest two kept; one more at a
 * clean stop. docs/operator.md, "Scene checkpoints". */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "sess/scene_ckpt.h"

struct sess_module;
struct sess_session;
struct th_fold;
struct th_fold_config;
struct sess_ckpt_header;
struct th_fold_outcome;
struct th_wbuf;
struct clog_event;
struct json_object;
struct srv_ctl_caller;

#define SESS_SCENE_CKPT_ENTRIES_DEFAULT 1000u
#define SESS_SCENE_CKPT_INTERVAL_DEFAULT_NS (30ull * 1000 * 1000 * 1000)
/* Work per loop pass while rebuilding or catching up: entries folded,
 * and time spent (checked every SESS_SCENE_PASS_CHECK entries). */
#define SESS_SCENE_PASS_ENTRIES 4096u
#define SESS_SCENE_PASS_NS (2ull * 1000 * 1000)
#define SESS_SCENE_PASS_CHECK 64u
/* A scene whose log could not be read is tried again after this long. */
#define SESS_SCENE_RETRY_NS (5ull * 1000 * 1000 * 1000)
#define SESS_SCENE_LISTENERS_MAX 4u
/* Checkpoints of scenes with fewer elements (entities + vertices + faces)
 * than this are encoded on the loop and written by a thread; larger ones,
 * or one whose encode here took more than SESS_SCENE_INLINE_MAX_NS, by a
 * forked child (config scene.checkpoint_fork_elements). */
#define SESS_SCENE_FORK_ELEMENTS_DEFAULT 20000u
#define SESS_SCENE_INLINE_MAX_NS (1000ull * 1000)

/* ---- for the client side (thetad/sess/client_scene.c) ---------------------- */

/* The session's fold while its scene is live; NULL while it is being
 * rebuilt or caught up (or failed). The pointer changes with a rebuild:
 * fetch it again after each return to the loop, never keep it. */
struct th_fold *sess_scene_fold(struct sess_session *s);
/* The log position the live fold covers (every entry below it is in); 0
 * while not live. */
uint64_t sess_scene_position(struct sess_session *s);
/* A new fold of the entries at log positions 0 .. at - 1 (the scene as it
 * stood at position at), read and folded now, on the caller's thread, in
 * total order (`thetactl export --at`). 0 with *out (the caller destroys
 * it), -EAGAIN (no scene or host key yet), -ERANGE (at is past the log's
 * end), -ENOMEM, or the log's read error. */
int sess_scene_fold_at(struct sess_session *s, uint64_t at, struct th_fold **out);
/* What sess_scene_fold_at would refuse before reading anything: -EAGAIN,
 * -ERANGE, else 0 (cheap: the export checks it on the loop, then folds in
 * its child). */
int sess_scene_fold_at_check(struct sess_session *s, uint64_t at);
/* th_fold_snapshot of the live scene appended to out, *next_pos the log
 * position it covers (every entry below it is in). -EAGAIN while not live. */
int sess_scene_snapshot(struct sess_session *s, struct th_wbuf *out, uint64_t *next_pos);
/* Adds a listener: fn hears every outcome the live fold reports (first
 * folds and outcomes a rollback changed, o->again), in fold order, on the
 * loop thread, after the module's counters. Outcomes of a rebuild or a
 * catch-up are not reported (they were when first folded), except the
 * entry that caused a rebuild, once it is in. At most
 * SESS_SCENE_LISTENERS_MAX; fn NULL removes ud's. */
typedef void sess_scene_listener_fn(void *ud, struct sess_session *s, const struct th_fold_outcome *o);
void sess_scene_set_listener(struct sess_module *m, sess_scene_listener_fn *fn, void *ud);

/* ---- for the sessions module ------------------------------------------------ */

struct sess_scene_config {
	uint64_t ckpt_entries;     /* 0: SESS_SCENE_CKPT_ENTRIES_DEFAULT */
	uint64_t ckpt_interval_ns; /* 0: SESS_SCENE_CKPT_INTERVAL_DEFAULT_NS */
	uint64_t fork_elements;    /* as given: 0 means a child always */
};

/* Metrics and the pass timer; then sess_scene_open for
 * each session. */
int sess_scene_start(struct sess_module *m, const struct sess_scene_config *cfg, char *msg, unsigned len);
/* A last checkpoint of each changed live scene, then everything goes
 * (before the logs close). */
void sess_scene_stop(struct sess_module *m);
/* s's log is open: restore the newest good checkpoint and catch up, or
 * rebuild from the log. */
void sess_scene_open(struct sess_module *m, struct sess_session *s);
/* s's log is about to be reopened (its cursor closes) / was reopened
 * (recovery may have cut entries: rebuilt from the log). */
void sess_scene_log_suspend(struct sess_module *m, struct sess_session *s);
/* s is forgotten (choose.c): its scene goes. */
void sess_scene_close(struct sess_module *m, struct sess_session *s);
void sess_scene_log_reopened(struct sess_module *m, struct sess_session *s);
/* From sess_on_durable: ev->entry verified, at position ev->pos. */
void sess_scene_on_durable(struct sess_session *s, const struct clog_event *ev);
/* Time-driven checkpoints, retries, gauges. */
void sess_scene_tick(struct sess_module *m, uint64_t now_ns);
/* A checkpoint file's bytes validated as a restart does: scene_ckpt.h's
 * checks (magic, version, length, CRC, session), the snapshot restored
 * with c, its world hash and set digest equal to the header's. 0 with *h
 * and *out (the restored fold, the caller's), or -EBADMSG with *why (a
 * static sentence), or another negative errno. The restart then checks the
 * entry set against the log (thetad/sess/scene.c). */
int sess_scene_ckpt_load(const struct th_fold_config *c, const uint8_t *p, size_t len,
			 const uint8_t session[SESS_CKPT_ID_LEN], struct sess_ckpt_header *h, struct th_fold **out,
			 const char **why);
/* `scene`: the session's scene in numbers (docs/operator.md). */
int sess_cmd_scene(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		   char *err, size_t errlen);

/* ---- verified late join (thetad/sess/scene_join.c) ---------------------------------- */
/* member: replaces the session's fold by th_fold_restore of a snapshot the
 * caller verified (the host's signed checkpoint; every entry of the local
 * log is in it), then folds on from the end of the local log: entries the
 * log delivers later that the snapshot holds are duplicates. 0, -ENOENT (no
 * scene), -EAGAIN (the host key is not known yet), or the restore's error
 * (nothing changes then). */
int sess_scene_install(struct sess_session *s, const uint8_t *snap, size_t len, uint64_t next_pos);
