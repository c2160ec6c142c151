/* Other users' avatars (docs/rendering.md, "The frame list"): the poses the
 * link's on_pose callback delivers (POSE_UPDATE: entity = the first 8
 * bytes of the user's key, little-endian, the same number as their
 * Selection.owner; one record per part, flags HEAD / LEFT / RIGHT, TRACKED
 * when the part's pose is valid), mirrored as one record per remote user
 * with a TrackedPose (schemas/components.def: head and both hands, valid
 * bits TH_POSE_VALID_*) and when each part was last seen.
 *
 * A part not updated for APP_AVATARS_TIMEOUT_NS stops being valid; a user
 * none of whose parts was updated for that long is dropped (the daemon
 * sends nothing when a user leaves: the poses just stop). Times are the
 * caller's now_ns (the frame loop's monotonic clock); the sender's t_ns
 * only orders one user's updates: an update older than the part's last one
 * (by less than APP_AVATARS_REORDER_NS: a larger step back is a restarted
 * sender) is dropped as reordered.
 *
 * Everything in an update is checked: entity 0 (this client's own user),
 * no part bit, a position farther than APP_AVATARS_REACH_MAX from the
 * origin or a rotation that is not a unit quaternion (normalised when
 * within APP_AVATARS_QUAT_SLACK) is dropped and counted. Pure: no clock,
 * no socket, no log; bounded (APP_AVATARS_MAX users). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "ipc.h"
#include "th_schema.h"

#define APP_AVATARS_MAX 64u                                /* remote users shown at once */
#define APP_AVATARS_TIMEOUT_NS (2000ull * 1000 * 1000)     /* a part (a user) not seen this long goes */
#define APP_AVATARS_REORDER_NS (1000ull * 1000 * 1000)     /* an older t_ns within this is reordered */
#define APP_AVATARS_REACH_MAX 1000.0f                      /* metres from the stage origin */
#define APP_AVATARS_QUAT_SLACK 0.01f                       /* | |q| - 1 | accepted (then normalised) */

enum app_avatar_part { APP_AVATAR_HEAD, APP_AVATAR_LEFT, APP_AVATAR_RIGHT, APP_AVATAR_PARTS };

struct app_avatar {
	uint64_t entity;               /* the user (Selection.owner of their selections) */
	struct th_c_tracked_pose pose; /* valid: TH_POSE_VALID_* of the parts shown now */
	uint64_t seen_ns[APP_AVATAR_PARTS]; /* now_ns of each part's last update (0: never) */
	uint64_t t_ns[APP_AVATAR_PARTS];    /* the sender's time of it */
	uint64_t first_ns;                  /* when the user appeared */
};

struct app_avatars_stats {
	uint64_t updates;   /* taken */
	uint64_t self;      /* entity 0: dropped */
	uint64_t no_part;   /* no HEAD / LEFT / RIGHT bit */
	uint64_t invalid;   /* position out of reach, rotation not unit */
	uint64_t reordered; /* older than the part's last update */
	uint64_t full;      /* a new user while APP_AVATARS_MAX are shown */
	uint64_t joined, timed_out;
};

struct app_avatars;

int app_avatars_create(struct app_avatars **out);
void app_avatars_destroy(struct app_avatars **p);

/* One POSE_UPDATE (from the link's on_pose). 0 taken; -EINVAL dropped
 * (self, no part, invalid, reordered), -ENOSPC a new user past
 * APP_AVATARS_MAX. A part whose update lacks TRACKED stops being valid. */
int app_avatars_on_pose(struct app_avatars *a, const struct proto_ipc_pose_update *p, uint64_t now_ns);
/* Ages the records: parts older than the timeout stop being valid, users
 * with no part seen within it are dropped. Once a frame, before the
 * renderer reads them. Returns the users dropped. */
unsigned app_avatars_expire(struct app_avatars *a, uint64_t now_ns);

/* Reading: users in the order they appeared (i < app_avatars_count). */
unsigned app_avatars_count(const struct app_avatars *a);
const struct app_avatar *app_avatars_get(const struct app_avatars *a, unsigned i);
/* The user with this entity, or NULL. */
const struct app_avatar *app_avatars_find(const struct app_avatars *a, uint64_t entity);
const struct app_avatars_stats *app_avatars_stats(const struct app_avatars *a);
