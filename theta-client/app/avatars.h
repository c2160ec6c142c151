/* Other users' avatars and presence (docs/presence.md "In the client",
 * docs/rendering.md "The frame list"): the poses the link's on_pose
 * callback delivers (POSE_UPDATE: entity = the first 8 bytes of the user's
 * key, little-endian, the same number as their Selection.owner; one record
 * per part, flags HEAD / LEFT / RIGHT, TRACKED when the part's pose is
 * valid) and the PRESENCE records of on_presence (cursor, drag preview,
 * speaking), mirrored as one record per remote user.
 *
 * Interpolation. Each part keeps its last APP_AVATARS_SAMPLES samples in
 * the sender's time (t_ns). Every frame (app_avatars_frame) a user is shown
 * as it was at now - delay: the two samples around that time blended
 * (positions lerp, rotations nlerp the short way). Sender time is mapped to
 * the local clock per user by an offset, the least (arrival - t_ns) over
 * the last two windows of APP_AVATARS_OFFSET_WINDOW_NS (the fastest path
 * the updates took); a sample whose arrival - t_ns is farther than
 * APP_AVATARS_CLOCK_JUMP_NS from it means the sender's clock is another one
 * now (a restarted sender, a new host): the clock and the samples start
 * again from that sample. The delay is per user and adaptive: the mean
 * spacing of its updates plus APP_AVATARS_JITTER_K times their inter-
 * arrival jitter (RFC 3550's estimator: the mean change of arrival - t_ns
 * between consecutive samples), within APP_AVATARS_DELAY_MIN_NS (1.5 ticks
 * at 90 Hz) .. APP_AVATARS_DELAY_MAX_NS, moving towards that target by at
 * most APP_AVATARS_DELAY_SLEW of each frame's time (the shown time never
 * runs backwards). Past the newest sample a part is extrapolated from the
 * velocity of its last two samples (linear and angular) for at most
 * APP_AVATARS_EXTRAP_MAX_NS, then held where that left it.
 *
 * A part not updated for APP_AVATARS_TIMEOUT_NS stops being valid; a user
 * none of whose parts (nor presence) was updated for that long is dropped
 * (the daemon sends nothing when a user leaves: the updates just stop). An
 * update older than the part's last one (by less than
 * APP_AVATARS_REORDER_NS: a larger step back is a restarted sender) is
 * dropped as reordered.
 *
 * Presence is shown as it arrives, newest first (a flag cleared: that thing
 * ended); it stays while the user does (the sender sends it on change only).
 *
 * Everything in an update is checked: entity 0 (this client's own user),
 * no part bit, a position farther than APP_AVATARS_REACH_MAX from the
 * origin or a rotation that is not a unit quaternion (normalised when
 * within APP_AVATARS_QUAT_SLACK), a preview of entity 0, is dropped and
 * counted. Pure: no clock (now_ns is the caller's: the frame loop's
 * monotonic clock), no socket, no log; bounded (APP_AVATARS_MAX users,
 * APP_AVATARS_SAMPLES per part, no allocation after create). */
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
#define APP_AVATARS_SAMPLES 16u                            /* kept per part: 178 ms at 90 Hz */
#define APP_AVATARS_TICK_NS (1000000000ull / 90)           /* the senders' nominal update spacing */
#define APP_AVATARS_DELAY_MIN_NS (APP_AVATARS_TICK_NS * 3 / 2) /* 16.7 ms: a sample always ahead */
#define APP_AVATARS_DELAY_MAX_NS (100ull * 1000 * 1000)    /* never shown older than this */
#define APP_AVATARS_JITTER_K 3                             /* the delay covers this many jitters */
#define APP_AVATARS_DELAY_SLEW 0.1                         /* of a frame's time the delay may move */
#define APP_AVATARS_EXTRAP_MAX_NS (150ull * 1000 * 1000)   /* past the newest sample, then held */
#define APP_AVATARS_EXTRAP_GAP_MAX_NS (200ull * 1000 * 1000) /* last two this far apart: no velocity */
#define APP_AVATARS_CLOCK_JUMP_NS (1000ull * 1000 * 1000)  /* arrival - t_ns this far off: new clock */
#define APP_AVATARS_OFFSET_WINDOW_NS (2000ull * 1000 * 1000) /* the clock offset's window */
#define APP_AVATARS_JITTER_GAIN 16                         /* RFC 3550: 1/16 of each new difference */

enum app_avatar_part { APP_AVATAR_HEAD, APP_AVATAR_LEFT, APP_AVATAR_RIGHT, APP_AVATAR_PARTS };

/* How a part was shown at the last app_avatars_frame. */
enum app_avatar_shown {
	APP_AVATAR_SHOWN_NONE,   /* not shown (untracked, timed out, no sample) */
	APP_AVATAR_SHOWN_INTERP, /* between two samples */
	APP_AVATAR_SHOWN_EXTRAP, /* past the newest, moving on at its velocity */
	APP_AVATAR_SHOWN_HOLD,   /* a sample as it was (the only one, before the oldest, or
				  * after the extrapolation's end) */
};

/* A user's presence beside the poses (PRESENCE, docs/presence.md). */
struct app_avatar_presence {
	uint32_t flags;       /* PROTO_IPC_PRES_F_CURSOR / PREVIEW / SPEAKING shown now */
	uint32_t tool;        /* the cursor's tool (edit/edit.h's enum edit_tool) */
	float cursor[3];      /* where the tool points (the same space as the poses) */
	uint64_t target;      /* PREVIEW: the entity a drag in progress moves */
	float position[3];    /* PREVIEW: the target's Transform as the drag sets it now */
	float rotation[4];
	uint64_t t_ns;        /* the sender's time of the newest PRESENCE */
	uint64_t seen_ns;     /* now_ns it arrived (0: never) */
};

struct app_avatar {
	uint64_t entity;               /* the user (Selection.owner of their selections) */
	struct th_c_tracked_pose pose; /* as shown at the last app_avatars_frame; valid:
					* TH_POSE_VALID_* of the parts shown */
	uint8_t shown[APP_AVATAR_PARTS]; /* enum app_avatar_shown */
	uint64_t seen_ns[APP_AVATAR_PARTS]; /* now_ns of each part's last update (0: never) */
	uint64_t t_ns[APP_AVATAR_PARTS];    /* the sender's time of it */
	uint64_t first_ns;                  /* when the user appeared */
	uint64_t delay_ns;                  /* how far in the past the user is shown now */
	uint64_t jitter_ns;                 /* the inter-arrival jitter measured */
	uint64_t interval_ns;               /* the mean spacing of the user's updates */
	int64_t offset_ns;                  /* local clock - sender clock (the estimate) */
	struct app_avatar_presence pres;
};

struct app_avatars_stats {
	uint64_t updates;   /* POSE_UPDATEs taken */
	uint64_t self;      /* entity 0: dropped */
	uint64_t no_part;   /* no HEAD / LEFT / RIGHT bit */
	uint64_t invalid;   /* position out of reach, rotation not unit, preview of nothing */
	uint64_t reordered; /* older than the part's last update */
	uint64_t full;      /* a new user while APP_AVATARS_MAX are shown */
	uint64_t joined, timed_out;
	uint64_t presences;     /* PRESENCE records taken */
	uint64_t clock_resets;  /* a sender's clock changed (restart): its samples started again */
	uint64_t late;          /* samples that arrived after the time they would be shown at */
	/* Parts shown, once per part and frame, by how (enum app_avatar_shown). */
	uint64_t interpolated, extrapolated, held;
};

struct app_avatars;

int app_avatars_create(struct app_avatars **out);
void app_avatars_destroy(struct app_avatars **p);

/* One POSE_UPDATE (from the link's on_pose). 0 taken; -EINVAL dropped
 * (self, no part, invalid, reordered), -ENOSPC a new user past
 * APP_AVATARS_MAX. A sample without TRACKED shows the part as not valid
 * from its time on. What is shown changes at the next app_avatars_frame. */
int app_avatars_on_pose(struct app_avatars *a, const struct proto_ipc_pose_update *p, uint64_t now_ns);
/* One PRESENCE (from the link's on_presence): 0 taken (shown at once),
 * -EINVAL dropped (self, invalid, reordered), -ENOSPC a new user past
 * APP_AVATARS_MAX. */
int app_avatars_on_presence(struct app_avatars *a, const struct proto_ipc_presence *p, uint64_t now_ns);
/* Once a frame, before the renderer reads them: ages the records (parts
 * older than the timeout stop being valid, users with nothing seen within
 * it are dropped) and computes each user's pose as shown at now_ns
 * (interpolated, extrapolated or held). Returns the users dropped. */
unsigned app_avatars_frame(struct app_avatars *a, uint64_t now_ns);

/* Reading: users in the order they appeared (i < app_avatars_count). */
unsigned app_avatars_count(const struct app_avatars *a);
const struct app_avatar *app_avatars_get(const struct app_avatars *a, unsigned i);
/* The user with this entity, or NULL. */
const struct app_avatar *app_avatars_find(const struct app_avatars *a, uint64_t entity);
const struct app_avatars_stats *app_avatars_stats(const struct app_avatars *a);
