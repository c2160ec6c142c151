/* theta-client/app/avatars.c in simulated time: another user walking, its
 * updates at 90 Hz with seeded jitter, loss and reordering, its clock
 * offset from ours, restarting; shown interpolated a short adaptive delay
 * behind, extrapolated briefly when the updates stop, then held. And
 * PRESENCE: cursors, previews, speaking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/avatars.h"
#include "th_hash.h"

#define MS (1000ull * 1000)
#define TICK APP_AVATARS_TICK_NS
#define ALICE 0x1122334455667788ull
#define SPEED 1.2 /* m/s along x, a walk */
#define HEAD (PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED)

static double rnd(uint64_t *s)
{
	*s = th_mix64(*s + 0x9e3779b97f4a7c15ull);
	return (double)(*s >> 11) * 0x1p-53;
}

/* One update in flight: sent at sender time t, arriving at local time at. */
struct msg {
	uint64_t at, t;
	float x, yaw;
};

static int by_arrival(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* A walk at SPEED turning at 1 rad/s, sampled every tick of the sender
 * (local time start + i * TICK, sender clock local + offset) for n ticks:
 * transit 2 ms + up to jitter_ns, a fraction loss lost; sorted by arrival. */
static unsigned walk(struct msg *m, unsigned n, uint64_t start, int64_t offset, uint64_t jitter_ns, double loss,
		     uint64_t seed)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		double j = rnd(&seed), l = rnd(&seed);
		if (l < loss)
			continue;
		uint64_t sent = start + i * TICK;
		double s = (double)(i * TICK) * 1e-9;
		m[k++] = (struct msg){ .at = sent + 2 * MS + (uint64_t)(j * (double)jitter_ns),
				       .t = (uint64_t)((int64_t)sent + offset), .x = (float)(SPEED * s), .yaw = (float)s };
	}
	qsort(m, k, sizeof m[0], by_arrival);
	return k;
}

static struct proto_ipc_pose_update head_at(uint64_t t, float x, float yaw)
{
	return (struct proto_ipc_pose_update){ .entity = ALICE, .t_ns = t, .px = x, .py = 1.6f,
					       .qy = sinf(yaw / 2), .qw = cosf(yaw / 2), .flags = HEAD };
}

static struct app_avatars *make(void)
{
	struct app_avatars *a = NULL;
	assert_int_equal(app_avatars_create(&a), 0);
	return a;
}

/* Frames at 90 Hz (phase 3 ms) from start for n frames, the updates
 * delivered as they arrive; each frame's shown x (NAN: not shown) and
 * delay into xs / delays (may be NULL). */
static void play(struct app_avatars *a, const struct msg *m, unsigned nm, uint64_t start, unsigned n, float *xs,
		 uint64_t *delays)
{
	unsigned next = 0;
	for (unsigned f = 0; f < n; f++) {
		uint64_t now = start + 3 * MS + f * TICK;
		for (; next < nm && m[next].at <= now; next++) {
			struct proto_ipc_pose_update p = head_at(m[next].t, m[next].x, m[next].yaw);
			int r = app_avatars_on_pose(a, &p, m[next].at);
			assert_true(r == 0 || r == -EINVAL); /* reordered ones are dropped */
		}
		app_avatars_frame(a, now);
		const struct app_avatar *u = app_avatars_find(a, ALICE);
		if (xs)
			xs[f] = u && (u->pose.valid & TH_POSE_VALID_HEAD) ? u->pose.head_position[0] : NAN;
		if (delays)
			delays[f] = u ? u->delay_ns : 0;
	}
}

#define START (10ull * 1000 * MS) /* local clock at the first update */
#define FRAMES 450u               /* 5 s */
#define WARM 90u                  /* frames before the checks: 1 s */

static struct msg msgs[4 * FRAMES];

static void a_jittery_lossy_walk_is_shown_smoothly(void **state)
{
	(void)state;
	struct app_avatars *a = make();
	/* Up to 15 ms of jitter (more than a tick: some updates overtake
	 * others) and 10 % loss; the sender's clock 7 hours ahead of ours. */
	int64_t offset = 7 * 3600 * (int64_t)1000 * (int64_t)MS;
	unsigned nm = walk(msgs, FRAMES + 20, START, offset, 15 * MS, 0.10, 1);
	static float xs[FRAMES];
	static uint64_t delays[FRAMES];
	play(a, msgs, nm, START, FRAMES, xs, delays);
	const struct app_avatar *u = app_avatars_find(a, ALICE);
	assert_non_null(u);
	assert_true(app_avatars_stats(a)->reordered > 0); /* the walk did overtake */
	double step = SPEED * (double)TICK * 1e-9, worst = 0;
	for (unsigned f = WARM; f < FRAMES; f++) {
		assert_false(isnan(xs[f]));
		/* Every frame moves on, by about a frame's walk: never back, never
		 * a jump of two updates (what showing the newest sample does). */
		double d = xs[f] - xs[f - 1];
		assert_true(d > 0.5 * step && d < 1.5 * step);
		/* On the true path, the shown delay plus the transit behind now. */
		uint64_t now = START + 3 * MS + f * TICK;
		double lag = ((double)(now - START) * 1e-9 * SPEED - xs[f]) / SPEED * 1e9;
		assert_true(lag >= (double)APP_AVATARS_DELAY_MIN_NS && lag <= (double)(delays[f] + 3 * MS));
		worst = fmax(worst, fabs(lag - (double)delays[f] - 2.0 * MS));
		assert_true(delays[f] >= APP_AVATARS_DELAY_MIN_NS && delays[f] <= APP_AVATARS_DELAY_MAX_NS);
	}
	assert_true(worst < 1.0 * MS); /* the clock offset found to within the least transit */
	const struct app_avatars_stats *st = app_avatars_stats(a);
	assert_true(st->interpolated > 9 * (st->extrapolated + st->held));
	assert_int_equal(st->clock_resets, 0);
	assert_true(u->jitter_ns > 2 * MS);
	app_avatars_destroy(&a);

	/* The same updates shown as they arrive (newest wins): the steps the
	 * check above refuses. */
	unsigned next = 0, bad = 0;
	float last = 0, prev = 0;
	for (unsigned f = 0; f < FRAMES; f++) {
		uint64_t now = START + 3 * MS + f * TICK;
		for (; next < nm && msgs[next].at <= now; next++)
			if (msgs[next].x > last)
				last = msgs[next].x;
		double d = last - prev;
		bad += f >= WARM && !(d > 0.5 * step && d < 1.5 * step);
		prev = last;
	}
	assert_true(bad > FRAMES / 10);
}

static void rotations_are_blended_the_short_way(void **state)
{
	(void)state;
	struct app_avatars *a = make();
	/* Two samples 20 ms apart turning 90 degrees about y; then, a third
	 * after the sign flip of the same rotation (q and -q). */
	float h = sqrtf(0.5f);
	struct proto_ipc_pose_update p = head_at(1000 * MS, 0, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, START), 0);
	p = (struct proto_ipc_pose_update){ .entity = ALICE, .t_ns = 1020 * MS, .px = 1, .qy = h, .qw = h, .flags = HEAD };
	assert_int_equal(app_avatars_on_pose(a, &p, START + 20 * MS), 0);
	p.t_ns = 1040 * MS;
	p.qy = -h;
	p.qw = -h;
	assert_int_equal(app_avatars_on_pose(a, &p, START + 40 * MS), 0);
	/* Shown at sender time 1010 ms: halfway, 45 degrees, x 0.5. */
	uint64_t now = START + 10 * MS + APP_AVATARS_DELAY_MIN_NS;
	app_avatars_frame(a, now);
	const struct app_avatar *u = app_avatars_find(a, ALICE);
	assert_int_equal(u->delay_ns, APP_AVATARS_DELAY_MIN_NS);
	assert_int_equal(u->shown[APP_AVATAR_HEAD], APP_AVATAR_SHOWN_INTERP);
	assert_float_equal(u->pose.head_position[0], 0.5f, 1e-5);
	assert_float_equal(u->pose.head_rotation[1], sinf((float)M_PI / 8), 1e-5);
	assert_float_equal(u->pose.head_rotation[3], cosf((float)M_PI / 8), 1e-5);
	/* Between the last two (the same rotation): no turn on the way. */
	app_avatars_frame(a, now + 20 * MS);
	float y = fabsf(u->pose.head_rotation[1]), w = fabsf(u->pose.head_rotation[3]);
	assert_float_equal(y, h, 1e-5);
	assert_float_equal(w, h, 1e-5);
	app_avatars_destroy(&a);
}

static void stopped_updates_extrapolate_briefly_then_hold(void **state)
{
	(void)state;
	struct app_avatars *a = make();
	/* A clean walk for 1 s, then nothing. */
	unsigned nm = walk(msgs, 90, START, 0, 0, 0, 2);
	static float xs[FRAMES];
	play(a, msgs, nm, START, 260, xs, NULL);
	const struct app_avatar *u = app_avatars_find(a, ALICE);
	assert_non_null(u);
	const struct msg *last = &msgs[nm - 1];
	double vx = SPEED;
	unsigned extrap = 0, held = 0;
	for (unsigned f = 60; f < 260; f++) {
		uint64_t now = START + 3 * MS + f * TICK;
		/* The sender time shown (the clock's offset is the transit, 2 ms). */
		double rt = (double)now - (double)APP_AVATARS_DELAY_MIN_NS - 2.0 * MS;
		double past = rt - (double)last->t;
		if (past <= 0) {
			assert_float_equal(xs[f], vx * (rt - START) * 1e-9, 1e-4);
		} else if (past <= (double)APP_AVATARS_EXTRAP_MAX_NS) {
			/* Walking on at the last velocity. */
			assert_float_equal(xs[f], last->x + vx * past * 1e-9, 1e-4);
			extrap++;
		} else {
			/* Then held where that left it. */
			assert_float_equal(xs[f], last->x + vx * (double)APP_AVATARS_EXTRAP_MAX_NS * 1e-9, 1e-4);
			held++;
		}
	}
	assert_true(extrap >= 12 && extrap <= 14); /* 150 ms of 11.1 ms frames */
	assert_true(held > 100);
	assert_int_equal(u->shown[APP_AVATAR_HEAD], APP_AVATAR_SHOWN_HOLD);
	assert_true(app_avatars_stats(a)->extrapolated == extrap);
	/* Quiet for the timeout: gone. */
	assert_int_equal(app_avatars_frame(a, last->at + APP_AVATARS_TIMEOUT_NS), 1);
	assert_int_equal(app_avatars_count(a), 0);
	app_avatars_destroy(&a);
}

static void the_delay_follows_the_jitter(void **state)
{
	(void)state;
	static const struct {
		uint64_t jitter;
		uint64_t lo, hi; /* the delay after 5 s */
	} c[] = {
		{ 0, APP_AVATARS_DELAY_MIN_NS, APP_AVATARS_DELAY_MIN_NS },
		{ 10 * MS, 18 * MS, 35 * MS },
		{ 30 * MS, 26 * MS, APP_AVATARS_DELAY_MAX_NS },
		{ 400 * MS, APP_AVATARS_DELAY_MAX_NS, APP_AVATARS_DELAY_MAX_NS },
	};
	uint64_t last = 0;
	for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct app_avatars *a = make();
		unsigned nm = walk(msgs, FRAMES + 60, START, 0, c[i].jitter, 0, 3 + i);
		static uint64_t delays[FRAMES];
		play(a, msgs, nm, START, FRAMES, NULL, delays);
		uint64_t d = delays[FRAMES - 1];
		print_message("jitter up to %llu ms: delay %.1f ms\n", (unsigned long long)(c[i].jitter / MS), d / 1e6);
		assert_true(d >= c[i].lo && d <= c[i].hi);
		assert_true(d >= last); /* more jitter, a longer delay */
		last = d;
		/* The delay never moves by more than its slew in a frame. */
		for (unsigned f = 1; f < FRAMES; f++) {
			if (!delays[f - 1])
				continue; /* not there yet */
			uint64_t s = delays[f] > delays[f - 1] ? delays[f] - delays[f - 1] : delays[f - 1] - delays[f];
			assert_true(s <= (uint64_t)(APP_AVATARS_DELAY_SLEW * TICK) + 1);
		}
		app_avatars_destroy(&a);
	}
}

/* The same walk seen through senders with different clocks: the same
 * frames, whatever the offset (ahead, behind, wrapping through zero). */
static void the_senders_clock_offset_does_not_matter(void **state)
{
	(void)state;
	static const int64_t offsets[] = { 0, (int64_t)(5000 * MS), -(int64_t)START + (int64_t)MS,
					   (int64_t)0x7000000000000000ll };
	static float base[FRAMES], xs[FRAMES];
	for (unsigned i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		struct app_avatars *a = make();
		unsigned nm = walk(msgs, FRAMES + 20, START, offsets[i], 8 * MS, 0.05, 4);
		play(a, msgs, nm, START, FRAMES, i ? xs : base, NULL);
		assert_int_equal(app_avatars_stats(a)->clock_resets, 0);
		for (unsigned f = 0; i && f < FRAMES; f++)
			assert_float_equal(xs[f], base[f], 1e-4);
		app_avatars_destroy(&a);
	}
}

/* A sender's clock half the 64-bit circle from ours (a hostile member may
 * send any t_ns): arrival - t_ns then crosses INT64_MAX between updates,
 * and the frames are still the same as from a sender on our clock (the
 * clock arithmetic is on the circle, with no signed overflow: SAN=1). */
static void a_sender_half_the_clock_away_is_shown_the_same(void **state)
{
	(void)state;
	static const int64_t offsets[] = { 0, INT64_MIN, INT64_MIN + 1 + (int64_t)(5 * MS),
					   INT64_MIN + 1 + (int64_t)(9 * MS) };
	static float base[FRAMES], xs[FRAMES];
	for (unsigned i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		struct app_avatars *a = make();
		unsigned nm = walk(msgs, FRAMES + 20, START, offsets[i], 8 * MS, 0.05, 4);
		play(a, msgs, nm, START, FRAMES, i ? xs : base, NULL);
		assert_int_equal(app_avatars_stats(a)->clock_resets, 0);
		for (unsigned f = WARM; f < FRAMES; f++)
			assert_false(isnan(i ? xs[f] : base[f]));
		for (unsigned f = 0; i && f < FRAMES; f++)
			assert_float_equal(xs[f], base[f], 1e-4);
		app_avatars_destroy(&a);
	}
	/* One update from half the circle away, then the walk on our clock:
	 * one clock reset, and the walk is shown. */
	struct app_avatars *a = make();
	struct proto_ipc_pose_update p = head_at(START + (1ull << 63), 3, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, START - 20 * MS), 0);
	unsigned nm = walk(msgs, FRAMES + 20, START, 0, 8 * MS, 0.05, 4);
	play(a, msgs, nm, START, FRAMES, xs, NULL);
	assert_int_equal(app_avatars_stats(a)->clock_resets, 1);
	for (unsigned f = WARM; f < FRAMES; f++)
		assert_float_equal(xs[f], base[f], 1e-4);
	app_avatars_destroy(&a);
}

static void a_restarted_sender_is_followed(void **state)
{
	(void)state;
	struct app_avatars *a = make();
	/* 1 s from a sender whose clock reads 50 s, then the sender restarts
	 * (its clock now reads 1 ms) 30 ms later and walks on from x = 5. */
	unsigned n1 = walk(msgs, 90, START, (int64_t)(50000 * MS) - (int64_t)START, 2 * MS, 0, 5);
	uint64_t start2 = START + 90 * TICK + 30 * MS;
	unsigned n2 = walk(msgs + n1, 300, start2, (int64_t)MS - (int64_t)start2, 2 * MS, 0, 6);
	for (unsigned i = n1; i < n1 + n2; i++)
		msgs[i].x += 5;
	static float xs[FRAMES];
	play(a, msgs, n1 + n2, START, 300, xs, NULL);
	const struct app_avatars_stats *st = app_avatars_stats(a);
	assert_int_equal(st->clock_resets, 1);
	assert_int_equal(st->reordered, 0);
	assert_int_equal(st->timed_out, 0);
	const struct app_avatar *u = app_avatars_find(a, ALICE);
	assert_non_null(u);
	/* Soon after the restart the new walk is shown, interpolated, a
	 * delay behind. */
	uint64_t now = START + 3 * MS + 299 * TICK;
	double walked = (double)(now - start2) * 1e-9 - (double)u->delay_ns * 1e-9 - 0.002;
	assert_int_equal(u->shown[APP_AVATAR_HEAD], APP_AVATAR_SHOWN_INTERP);
	assert_float_equal(xs[299], 5 + SPEED * walked, 2e-3);
	/* A clock jumping forward (another host) starts again too. */
	struct proto_ipc_pose_update p = head_at(u->t_ns[APP_AVATAR_HEAD] + 3600 * 1000 * MS, 9, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, now + MS), 0);
	assert_int_equal(st->clock_resets, 2);
	app_avatars_frame(a, now + 2 * MS);
	assert_float_equal(u->pose.head_position[0], 9, 0);
	app_avatars_destroy(&a);
}

static struct proto_ipc_presence presence(uint64_t t, uint32_t flags)
{
	return (struct proto_ipc_presence){ .entity = ALICE, .t_ns = t, .flags = flags, .tool = 2, .cx = 0.1f,
					    .cy = 1.2f, .cz = -0.4f, .target = 0xe1, .tx = 1, .ty = 0.5f, .tz = -1,
					    .ry = 0.6f, .rw = 0.8f };
}

static void presence_shows_cursor_preview_and_speaking(void **state)
{
	(void)state;
	struct app_avatars *a = make();
	uint32_t all = PROTO_IPC_PRES_F_CURSOR | PROTO_IPC_PRES_F_PREVIEW | PROTO_IPC_PRES_F_SPEAKING;
	struct proto_ipc_presence p = presence(100, all);
	assert_int_equal(app_avatars_on_presence(a, &p, START), 0);
	const struct app_avatar *u = app_avatars_find(a, ALICE);
	assert_non_null(u); /* a user known by its presence alone */
	assert_int_equal(u->pres.flags, all);
	assert_int_equal(u->pres.tool, 2);
	assert_float_equal(u->pres.cursor[1], 1.2f, 0);
	assert_true(u->pres.target == 0xe1);
	assert_float_equal(u->pres.position[2], -1, 0);
	assert_float_equal(u->pres.rotation[1], 0.6f, 1e-6);
	assert_int_equal(u->pose.valid, 0);

	/* The drag ends: its preview goes, the cursor stays. */
	p = presence(200, PROTO_IPC_PRES_F_CURSOR);
	assert_int_equal(app_avatars_on_presence(a, &p, START + MS), 0);
	assert_int_equal(u->pres.flags, PROTO_IPC_PRES_F_CURSOR);
	assert_true(u->pres.target == 0);
	/* An older one (reordered) changes nothing. */
	p = presence(150, all);
	assert_int_equal(app_avatars_on_presence(a, &p, START + 2 * MS), -EINVAL);
	assert_int_equal(u->pres.flags, PROTO_IPC_PRES_F_CURSOR);

	/* Invalid: no target, not a rotation, out of reach; this client's own. */
	p = presence(300, PROTO_IPC_PRES_F_PREVIEW);
	p.target = 0;
	assert_int_equal(app_avatars_on_presence(a, &p, START + 3 * MS), -EINVAL);
	p = presence(300, PROTO_IPC_PRES_F_PREVIEW);
	p.rw = 0.2f;
	assert_int_equal(app_avatars_on_presence(a, &p, START + 3 * MS), -EINVAL);
	p = presence(300, PROTO_IPC_PRES_F_CURSOR);
	p.cx = 2 * APP_AVATARS_REACH_MAX;
	assert_int_equal(app_avatars_on_presence(a, &p, START + 3 * MS), -EINVAL);
	/* Out-of-reach fields of a thing not shown are not looked at. */
	p.flags = PROTO_IPC_PRES_F_SPEAKING;
	assert_int_equal(app_avatars_on_presence(a, &p, START + 3 * MS), 0);
	assert_int_equal(u->pres.flags, PROTO_IPC_PRES_F_SPEAKING);
	p.entity = 0;
	assert_int_equal(app_avatars_on_presence(a, &p, START + 3 * MS), -EINVAL);
	const struct app_avatars_stats *st = app_avatars_stats(a);
	assert_int_equal(st->invalid, 3);
	assert_int_equal(st->reordered, 1);
	assert_int_equal(st->self, 1);
	assert_int_equal(st->presences, 3);

	/* Poses and presence share the user; the presence lasts while the
	 * poses come (sent on change only), and goes with the user. */
	struct proto_ipc_pose_update hp = head_at(400, 0, 0);
	assert_int_equal(app_avatars_on_pose(a, &hp, START + APP_AVATARS_TIMEOUT_NS), 0);
	assert_int_equal(app_avatars_frame(a, START + APP_AVATARS_TIMEOUT_NS + MS), 0);
	u = app_avatars_find(a, ALICE);
	assert_int_equal(u->pres.flags, PROTO_IPC_PRES_F_SPEAKING);
	assert_int_equal(app_avatars_frame(a, START + 2 * APP_AVATARS_TIMEOUT_NS), 1);
	assert_null(app_avatars_find(a, ALICE));

	/* A full table refuses a newcomer's presence too. */
	for (uint64_t e = 1; e <= APP_AVATARS_MAX; e++) {
		p = presence(1, PROTO_IPC_PRES_F_CURSOR);
		p.entity = e;
		assert_int_equal(app_avatars_on_presence(a, &p, START), 0);
	}
	p.entity = APP_AVATARS_MAX + 1;
	assert_int_equal(app_avatars_on_presence(a, &p, START), -ENOSPC);
	app_avatars_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_jittery_lossy_walk_is_shown_smoothly),
		cmocka_unit_test(rotations_are_blended_the_short_way),
		cmocka_unit_test(stopped_updates_extrapolate_briefly_then_hold),
		cmocka_unit_test(the_delay_follows_the_jitter),
		cmocka_unit_test(the_senders_clock_offset_does_not_matter),
		cmocka_unit_test(a_sender_half_the_clock_away_is_shown_the_same),
		cmocka_unit_test(a_restarted_sender_is_followed),
		cmocka_unit_test(presence_shows_cursor_preview_and_speaking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
