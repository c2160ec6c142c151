/* The scene's side of the verified late join (thetad/net/net_snapshot_io.c
 * is the network's): what a host offers a joining member, and how a member
 * checks and installs the checkpoint its host signed (docs/network.md
 * "Late join"). On top of thetad/sess/scene.h. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct sess_session;
struct th_wbuf;

/* host: a checkpoint of the session's scene appended to out (th_fold_snapshot
 * bytes), the log position it covers (every entry below it is in), its
 * world hash and set digest: the newest checkpoint file when it covers the
 * whole log, else the live scene encoded now, else an older file. 0,
 * -ENOENT (not a hosted session, or no scene to offer), or negative errno
 * (out as it was). */
int sess_scene_join_latest(struct sess_session *s, struct th_wbuf *out, uint64_t *next_pos,
			   uint8_t world_hash[PROTO_SESS_SCENE_HASH_LEN], uint8_t set_digest[PROTO_SESS_SCENE_HASH_LEN]);
/* member: NULL when the host's checkpoint at next_pos would help, or a
 * static sentence why not (this daemon's log already holds that much). */
const char *sess_scene_join_decline(struct sess_session *s, uint64_t next_pos);
/* member: snap is a checkpoint whose offer o verified (signature, session,
 * bytes). Restores it, compares its world hash and set digest with the
 * signed ones, checks that the local log holds nothing it lacks, and
 * installs it as the session's scene. 0, or negative errno with one
 * sentence in why (nothing changes then). */
int sess_scene_join_install(struct sess_session *s, const uint8_t *snap, size_t len,
			    const struct proto_sess_snap_offer *o, char *why, size_t whylen);
