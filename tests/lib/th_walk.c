/* The seeded motion model of th_walk.h. */
#include "th_walk.h"

#include <math.h>
#include <string.h>

#define WALK_PI 3.14159265f
#define WALK_STRIDE_M 0.7f      /* one step: the head bobs once, a hand swings half a cycle */
#define WALK_BOB_M 0.025f
#define WALK_TURN_RPS 2.5f      /* how fast the body turns towards its waypoint */
#define WALK_LOOK_RATE 4.0f     /* how fast the head follows its look target (1/s) */
#define WALK_EDIT_PER_S 0.04f   /* chance per second to start editing */
#define WALK_DRAG_PER_S 0.2f    /* while editing: chance per second to start a drag */
#define WALK_PAUSE_CHANCE 0.7f  /* a waypoint reached: chance of standing there a while */
#define WALK_SAMPLE_SPREAD_NS 11000000ull /* users' sample times lag their step by up to this */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_u64(struct th_walk_one *u)
{
	/* xorshift64*: never zero once seeded non-zero */
	uint64_t x = u->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	u->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* [0, 1) */
static float rnd01(struct th_walk_one *u)
{
	return (float)(rnd_u64(u) >> 40) * (1.0f / 16777216.0f);
}

static float rnd_in(struct th_walk_one *u, float lo, float hi)
{
	return lo + (hi - lo) * rnd01(u);
}

static float clampf(float v, float lo, float hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static float wrap_angle(float a)
{
	while (a > WALK_PI)
		a -= 2 * WALK_PI;
	while (a < -WALK_PI)
		a += 2 * WALK_PI;
	return a;
}

void th_walk_key(uint64_t seed, unsigned i, uint8_t key[PROTO_PRES_KEY_LEN])
{
	uint64_t s = seed ^ (0x57414c4b00000000ull + i); /* "WALK" */
	s = splitmix64(&s) ^ ((uint64_t)i << 32);
	for (unsigned k = 0; k < PROTO_PRES_KEY_LEN; k += 8) {
		uint64_t v = splitmix64(&s);
		for (unsigned b = 0; b < 8; b++)
			key[k + b] = (uint8_t)(v >> (8 * b));
	}
	key[0] |= 1; /* never all zero */
}

static void pick_waypoint(struct th_walk_one *u, float half)
{
	float a = rnd_in(u, -WALK_PI, WALK_PI), d = rnd_in(u, 2.0f, TH_WALK_LEG_M);
	u->tx = clampf(u->x + d * sinf(a), -half, half);
	u->tz = clampf(u->z + d * cosf(a), -half, half);
}

void th_walk_init(struct th_walk *w, unsigned n, float spread_m, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	if (n > TH_WALK_USERS_MAX)
		n = TH_WALK_USERS_MAX;
	if (!(spread_m >= 1.0f))
		spread_m = 1.0f;
	if (spread_m > TH_WALK_SPREAD_MAX_M)
		spread_m = TH_WALK_SPREAD_MAX_M;
	w->n = n;
	w->spread_m = spread_m;
	w->seed = seed;
	float half = spread_m / 2;
	for (unsigned i = 0; i < n; i++) {
		struct th_walk_one *u = &w->u[i];
		uint64_t s = seed * 0x9e3779b97f4a7c15ull + i;
		u->rng = splitmix64(&s) | 1;
		th_walk_key(seed, i, u->key);
		u->x = rnd_in(u, -half, half);
		u->z = rnd_in(u, -half, half);
		u->speed = TH_WALK_SPEED_MPS * rnd_in(u, 0.85f, 1.15f);
		u->head_y = TH_WALK_HEAD_Y_M + rnd_in(u, -0.1f, 0.1f);
		u->heading = rnd_in(u, -WALK_PI, WALK_PI);
		u->pause_s = rnd_in(u, 0, 3);
		u->phase = rnd_in(u, 0, 2 * WALK_PI);
		u->look_s = rnd_in(u, 0, 2);
		u->quiet_s = rnd_in(u, 1, 15);
		u->t_off_ns = (uint64_t)(rnd01(u) * (float)WALK_SAMPLE_SPREAD_NS);
		pick_waypoint(u, half);
		u->valid = PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT;
	}
}

static void step_one(struct th_walk_one *u, float dt, float half)
{
	/* walking, or standing at a waypoint */
	if (u->pause_s > 0) {
		u->pause_s -= dt;
	} else {
		float dx = u->tx - u->x, dz = u->tz - u->z;
		float dist = sqrtf(dx * dx + dz * dz), step = u->speed * dt;
		if (dist > 1e-4f) {
			float want = atan2f(-dx, -dz), turn = wrap_angle(want - u->heading);
			float max = WALK_TURN_RPS * dt;
			u->heading = wrap_angle(u->heading + clampf(turn, -max, max));
		}
		if (dist <= step) {
			u->x = u->tx;
			u->z = u->tz;
			step = dist;
			if (rnd01(u) < WALK_PAUSE_CHANCE)
				u->pause_s = rnd_in(u, 1, 5);
			pick_waypoint(u, half);
		} else {
			u->x += dx / dist * step;
			u->z += dz / dist * step;
		}
		u->phase = fmodf(u->phase + step * (2 * WALK_PI / (2 * WALK_STRIDE_M)), 2 * WALK_PI);
	}

	/* looking around */
	u->look_s -= dt;
	if (u->look_s <= 0) {
		u->look_tyaw = rnd_in(u, -1.0f, 1.0f);
		u->look_tpitch = rnd_in(u, -0.35f, 0.25f);
		u->look_s = rnd_in(u, 0.5f, 3.0f);
	}
	float k = clampf(dt * WALK_LOOK_RATE, 0, 1);
	u->look_yaw += (u->look_tyaw - u->look_yaw) * k;
	u->look_pitch += (u->look_tpitch - u->look_pitch) * k;

	/* editing: a cursor held out in front, the user standing; now and then a drag */
	if (u->cursor_s > 0) {
		u->cursor_s -= dt;
		u->cursor[0] = clampf(u->cursor[0] + rnd_in(u, -0.3f, 0.3f) * dt, 0.3f, 0.9f);
		u->cursor[1] = clampf(u->cursor[1] + rnd_in(u, -0.3f, 0.3f) * dt, 0.6f, 1.8f);
		u->cursor[2] = clampf(u->cursor[2] + rnd_in(u, -0.3f, 0.3f) * dt, -0.4f, 0.4f);
		if (u->preview_s > 0) {
			u->preview_s -= dt;
		} else if (rnd01(u) < WALK_DRAG_PER_S * dt) {
			u->preview_s = rnd_in(u, 0.5f, 3.0f);
			u->preview_target = rnd_u64(u) | 1;
		}
		if (u->cursor_s <= 0)
			u->preview_s = 0;
	} else if (rnd01(u) < WALK_EDIT_PER_S * dt) {
		u->cursor_s = rnd_in(u, 2, 10);
		u->tool = 1 + (uint32_t)(rnd01(u) * (float)TH_WALK_TOOLS) % TH_WALK_TOOLS;
		u->cursor[0] = rnd_in(u, 0.4f, 0.7f);
		u->cursor[1] = u->head_y - rnd_in(u, 0.3f, 0.6f);
		u->cursor[2] = rnd_in(u, -0.2f, 0.2f);
		if (u->pause_s < u->cursor_s)
			u->pause_s = u->cursor_s;
	}

	/* talking */
	if (u->speak_s > 0) {
		u->speak_s -= dt;
		if (u->speak_s <= 0)
			u->quiet_s = rnd_in(u, 3, 20);
	} else {
		u->quiet_s -= dt;
		if (u->quiet_s <= 0)
			u->speak_s = rnd_in(u, 0.5f, 4);
	}

	u->valid = PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT;
	if (u->cursor_s > 0)
		u->valid |= PROTO_PRES_F_CURSOR;
	if (u->preview_s > 0)
		u->valid |= PROTO_PRES_F_PREVIEW;
	if (u->speak_s > 0)
		u->valid |= PROTO_PRES_F_SPEAKING;
}

void th_walk_step(struct th_walk *w, uint64_t now_ns)
{
	if (w->steps == 0) {
		w->now_ns = now_ns;
		w->steps = 1;
		return;
	}
	if (now_ns <= w->now_ns)
		return;
	float half = w->spread_m / 2;
	while (w->now_ns < now_ns) {
		uint64_t d = now_ns - w->now_ns;
		if (d > TH_WALK_STEP_MAX_NS)
			d = TH_WALK_STEP_MAX_NS;
		float dt = (float)d * 1e-9f;
		for (unsigned i = 0; i < w->n; i++)
			step_one(&w->u[i], dt, half);
		w->now_ns += d;
	}
	w->steps++;
}

/* q = yaw about +y, then pitch about the rotated +x (q_yaw * q_pitch). */
static void quat_yaw_pitch(float yaw, float pitch, float q[4])
{
	float cy = cosf(yaw / 2), sy = sinf(yaw / 2), cp = cosf(pitch / 2), sp = sinf(pitch / 2);
	q[0] = cy * sp;  /* x */
	q[1] = sy * cp;  /* y */
	q[2] = -sy * sp; /* z */
	q[3] = cy * cp;  /* w */
}

static void set_pose(float p[7], float x, float y, float z, float yaw, float pitch)
{
	p[0] = x;
	p[1] = y;
	p[2] = z;
	quat_yaw_pitch(yaw, pitch, &p[3]);
}

void th_walk_user(const struct th_walk *w, unsigned i, struct proto_pres_user *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= w->n)
		return;
	const struct th_walk_one *u = &w->u[i];
	memcpy(out->key, u->key, PROTO_PRES_KEY_LEN);
	out->valid = u->valid;
	out->t_ns = w->now_ns > u->t_off_ns ? w->now_ns - u->t_off_ns : 0;

	/* facing -z at heading 0 */
	float fx = -sinf(u->heading), fz = -cosf(u->heading);
	float rx = cosf(u->heading), rz = -sinf(u->heading);
	float sway = 0.01f * (float)sin((double)w->now_ns * 0.7e-9 + (double)i);
	float bob = WALK_BOB_M * cosf(2 * u->phase);
	set_pose(out->pose[PROTO_PRES_HEAD], u->x + rx * sway, u->head_y + bob, u->z + rz * sway,
		 u->heading + u->look_yaw, u->look_pitch);

	float swing = 0.18f * sinf(u->phase);
	float hand_y = u->head_y - 0.65f + 0.5f * bob;
	set_pose(out->pose[PROTO_PRES_LEFT], u->x - rx * 0.22f + fx * (0.1f + swing), hand_y,
		 u->z - rz * 0.22f + fz * (0.1f + swing), u->heading, -0.3f + swing);
	float cx = u->x + fx * u->cursor[0] + rx * u->cursor[2];
	float cz = u->z + fz * u->cursor[0] + rz * u->cursor[2];
	if (u->valid & PROTO_PRES_F_CURSOR) {
		/* the right hand reaches towards the cursor */
		set_pose(out->pose[PROTO_PRES_RIGHT], u->x + rx * 0.18f + fx * 0.35f, u->head_y - 0.35f,
			 u->z + rz * 0.18f + fz * 0.35f, u->heading, -0.2f);
		out->cursor[0] = cx;
		out->cursor[1] = u->cursor[1];
		out->cursor[2] = cz;
		out->tool = u->tool;
	} else {
		set_pose(out->pose[PROTO_PRES_RIGHT], u->x + rx * 0.22f + fx * (0.1f - swing), hand_y,
			 u->z + rz * 0.22f + fz * (0.1f - swing), u->heading, -0.3f - swing);
	}
	if (u->valid & PROTO_PRES_F_PREVIEW) {
		out->preview_target = u->preview_target;
		set_pose(out->preview, cx, u->cursor[1] - 0.1f, cz, u->heading + u->cursor[2], 0);
	}
}
