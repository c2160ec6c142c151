/* A seeded motion model of people in a session, for presence tests,
 * benchmarks, the dictionary trainer and the load generator: n users
 * spread over a square spread_m wide around the origin (stage
 * coordinates, y up, metres), each walking at about 1.2 m/s towards a
 * waypoint a few metres away, pausing there for a few seconds, with a head
 * that bobs with the steps and looks around, hands that swing, and now and
 * then a tool cursor held out in front (an edit: sometimes with a drag
 * preview of an entity) or a talkspurt (the speaking flag).
 *
 * Deterministic: the same (n, spread_m, seed) and the same sequence of
 * th_walk_step times give the same users, bit for bit, on one build. A
 * user's key depends only on (seed, i) (th_walk_key). No clock, no I/O, no
 * allocation: the caller owns struct th_walk. */
#pragma once
#include <stdint.h>

#include "pres.h" /* proto/pres.h */

#define TH_WALK_USERS_MAX 256u
#define TH_WALK_SPEED_MPS 1.2f     /* walking speed (each user within ±15 %) */
#define TH_WALK_HEAD_Y_M 1.65f     /* standing head height (each user within ±0.1 m) */
#define TH_WALK_LEG_M 8.0f         /* a waypoint is at most this far from where the user is */
#define TH_WALK_STEP_MAX_NS 50000000ull /* longer steps are integrated in pieces this long */
#define TH_WALK_TOOLS 6u           /* cursor tools are 1..TH_WALK_TOOLS */
#define TH_WALK_SPREAD_MAX_M 1800.0f /* a wider spread is cut to it (within PROTO_PRES_RANGE_M) */

struct th_walk_one {
	uint64_t rng;
	uint8_t key[PROTO_PRES_KEY_LEN];
	float x, z;          /* where the body is on the floor */
	float tx, tz;        /* the waypoint */
	float speed, head_y; /* this user's pace and height */
	float heading;       /* the body's yaw (radians, 0 = facing -z) */
	float pause_s;       /* > 0: standing at a waypoint this much longer */
	float phase;         /* the walk cycle (radians), advanced by the distance walked */
	float look_yaw, look_pitch, look_tyaw, look_tpitch, look_s; /* look-around: now, target, time to the next */
	float cursor_s;      /* > 0: editing this much longer (cursor shown) */
	float cursor[3];     /* the cursor's spot relative to the body (forward, up, right) */
	uint32_t tool;
	float preview_s;     /* > 0: dragging this much longer (preview shown) */
	uint64_t preview_target;
	float speak_s, quiet_s; /* talkspurt / silence left */
	uint64_t t_off_ns;   /* the user's sample time is this much before the step's time */
	uint32_t valid;      /* PROTO_PRES_F_* the user has now */
};

struct th_walk {
	unsigned n;
	float spread_m;
	uint64_t seed;
	uint64_t now_ns; /* the last step's time (0 before the first) */
	unsigned steps;
	struct th_walk_one u[TH_WALK_USERS_MAX];
};

/* n users (n <= TH_WALK_USERS_MAX; more are cut to it) at random spots in
 * [-spread_m/2, spread_m/2]^2 (spread_m in 1..TH_WALK_SPREAD_MAX_M;
 * outside, the nearest bound). */
void th_walk_init(struct th_walk *w, unsigned n, float spread_m, uint64_t seed);
/* Moves everyone to time now_ns (the first call only sets the clock; a
 * time not after the last step changes nothing). */
void th_walk_step(struct th_walk *w, uint64_t now_ns);
/* User i's presence now: key, valid (HEAD|LEFT|RIGHT always; CURSOR,
 * PREVIEW, SPEAKING while those last), t_ns, the poses (unit quaternions),
 * cursor, tool, preview. i >= w->n gives a zeroed user. */
void th_walk_user(const struct th_walk *w, unsigned i, struct proto_pres_user *out);
/* The key user i of a walk with this seed has (never all zero). */
void th_walk_key(uint64_t seed, unsigned i, uint8_t key[PROTO_PRES_KEY_LEN]);
