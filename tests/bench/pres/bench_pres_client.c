/* The client's side of presence (make bench-pres): 64 users of th_walk
 * (tests/lib/th_walk.h) sent at 90 Hz as the member daemon delivers them
 * (one POSE_UPDATE per part, every user of a host frame together, frames
 * with up to 15 ms of jitter, so some overtake others, and 5 % lost),
 * shown by app/avatars.c frame by frame at 90 Hz for 10 s (simulated time),
 * beside the same updates shown as they arrive (the newest sample of each
 * part: what the client did before issue 16), measured in the same run.
 *
 *   pres.client.jerk_rms_mm          RMS of the heads' second difference frame to frame
 *                                    (x[f+1] - 2 x[f] + x[f-1]) as shown, interpolated
 *   pres.client.jerk_rms_mm.raw      the same shown as the updates arrive
 *   pres.client.jerk_rms_mm.truth    the same of the walk itself, sampled at the frames
 *                                    (what smooth motion gives: the floor for both)
 *   pres.client.jerk_vs_raw          interpolated over raw (goal: <= 0.25)
 *   pres.client.delay_ms             the users' delay at the end, median (goal: <= 50 ms)
 *   pres.client.extrapolated_pct     parts shown extrapolated or held, of all shown
 *   pres.client.frame_us_64          app_avatars_frame for 64 users, median of the frames
 *   pres.client.frame_us_64.p99
 *   pres.client.baseline.newest_us_64  copying each part's newest sample into the shown
 *                                    pose (the old per-frame work), median
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/avatars.h"
#include "th_bench.h"
#include "th_buf.h"
#include "th_hash.h"
#include "th_time.h"
#include "th_walk.h"

#define USERS 64u
#define SECONDS 10u
#define TICK APP_AVATARS_TICK_NS
#define TICKS (SECONDS * 90u)
#define WARM 90u /* frames before the figures: 1 s */
#define JITTER_NS (15ull * 1000 * 1000)
#define TRANSIT_NS (2ull * 1000 * 1000)
#define LOSS 0.05
#define SPREAD_M 30.0f
#define START_NS (100ull * 1000 * 1000 * 1000)

/* One host frame: every user's pose at a sender tick, arriving at `at`. */
struct tick {
	uint64_t at;
	unsigned i;
};

static struct proto_pres_user sent[TICKS][USERS]; /* the walk at each tick */
static struct tick ticks[TICKS];
static float shown[TICKS][USERS][3], raw[TICKS][USERS][3], truth[TICKS][USERS][3];

static double rnd(uint64_t *s)
{
	*s = th_mix64(*s + 0x9e3779b97f4a7c15ull);
	return (double)(*s >> 11) * 0x1p-53;
}

static int by_arrival(const void *a, const void *b)
{
	const struct tick *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The entity of a user: the first 8 bytes of the key, LE (as the daemon's). */
static uint64_t entity_of(const uint8_t key[PROTO_PRES_KEY_LEN])
{
	return th_get_le64(key);
}

/* The RMS of the second difference of the heads over the frames, mm. */
static double jerk_rms_mm(float (*x)[USERS][3])
{
	double sum = 0;
	unsigned n = 0;
	for (unsigned f = WARM + 1; f + 1 < TICKS; f++)
		for (unsigned u = 0; u < USERS; u++)
			for (int k = 0; k < 3; k++) {
				double d = (double)x[f + 1][u][k] - 2.0 * x[f][u][k] + x[f - 1][u][k];
				sum += d * d;
				n++;
			}
	return sqrt(sum / n) * 1e3;
}

int main(void)
{
	static struct th_walk w;
	th_walk_init(&w, USERS, SPREAD_M, 16);
	uint64_t seed = 0x5eed;
	unsigned nt = 0;
	for (unsigned t = 0; t < TICKS; t++) {
		uint64_t now = START_NS + (uint64_t)t * TICK;
		th_walk_step(&w, now);
		for (unsigned u = 0; u < USERS; u++)
			th_walk_user(&w, u, &sent[t][u]);
		double j = rnd(&seed), l = rnd(&seed);
		if (l >= LOSS)
			ticks[nt++] = (struct tick){ .at = now + TRANSIT_NS + (uint64_t)(j * (double)JITTER_NS), .i = t };
	}
	qsort(ticks, nt, sizeof ticks[0], by_arrival);

	struct app_avatars *a;
	if (app_avatars_create(&a) < 0) {
		fprintf(stderr, "bench_pres_client: out of memory\n");
		return 1;
	}
	static uint64_t frame_ns[TICKS], base_ns[TICKS];
	static struct proto_ipc_pose_update newest[USERS][APP_AVATAR_PARTS];
	static struct th_c_tracked_pose copied[USERS];
	static const uint32_t part[APP_AVATAR_PARTS] = { PROTO_IPC_POSE_F_HEAD, PROTO_IPC_POSE_F_LEFT,
							 PROTO_IPC_POSE_F_RIGHT };
	unsigned next = 0;
	for (unsigned f = 0; f < TICKS; f++) {
		uint64_t now = START_NS + 4 * 1000 * 1000 + (uint64_t)f * TICK;
		for (; next < nt && ticks[next].at <= now; next++) {
			const struct proto_pres_user *su = sent[ticks[next].i];
			for (unsigned u = 0; u < USERS; u++)
				for (unsigned k = 0; k < APP_AVATAR_PARTS; k++) {
					const float *p = su[u].pose[k];
					struct proto_ipc_pose_update m = {
						.entity = entity_of(su[u].key), .t_ns = su[u].t_ns, .px = p[0], .py = p[1],
						.pz = p[2], .qx = p[3], .qy = p[4], .qz = p[5], .qw = p[6],
						.flags = part[k] | PROTO_IPC_POSE_F_TRACKED,
					};
					app_avatars_on_pose(a, &m, ticks[next].at); /* an overtaken one is dropped */
					if (m.t_ns >= newest[u][k].t_ns)
						newest[u][k] = m;
				}
		}
		uint64_t t0 = th_now_ns();
		app_avatars_frame(a, now);
		uint64_t t1 = th_now_ns();
		/* The old per-frame work: each part's newest sample into the pose. */
		for (unsigned u = 0; u < USERS; u++) {
			copied[u].head_position[0] = newest[u][0].px, copied[u].head_position[1] = newest[u][0].py;
			copied[u].head_position[2] = newest[u][0].pz;
			copied[u].left_position[0] = newest[u][1].px, copied[u].right_position[0] = newest[u][2].px;
			copied[u].valid = 7;
		}
		uint64_t t2 = th_now_ns();
		frame_ns[f] = t1 - t0;
		base_ns[f] = t2 - t1;
		for (unsigned u = 0; u < USERS; u++) {
			const struct app_avatar *av = app_avatars_find(a, entity_of(sent[0][u].key));
			for (int k = 0; k < 3; k++) {
				shown[f][u][k] = av ? av->pose.head_position[k] : 0;
				truth[f][u][k] = sent[f][u].pose[0][k];
			}
			raw[f][u][0] = newest[u][0].px, raw[f][u][1] = newest[u][0].py, raw[f][u][2] = newest[u][0].pz;
		}
	}
	if (copied[0].valid != 7)
		return 1; /* keeps the baseline's stores */
	double j = jerk_rms_mm(shown), jr = jerk_rms_mm(raw), jt = jerk_rms_mm(truth);
	th_bench_figure("pres.client.jerk_rms_mm", j, "mm");
	th_bench_figure("pres.client.jerk_rms_mm.raw", jr, "mm");
	th_bench_figure("pres.client.jerk_rms_mm.truth", jt, "mm");
	th_bench_figure_goal("pres.client.jerk_vs_raw", j / jr, "ratio", "<= 0.25", j / jr <= 0.25);
	static uint64_t delays[USERS];
	for (unsigned u = 0; u < USERS; u++) {
		const struct app_avatar *av = app_avatars_find(a, entity_of(sent[0][u].key));
		delays[u] = av ? av->delay_ns : 0;
	}
	double d_ms = th_bench_pct_u64(delays, USERS, 0.5) / 1e6;
	th_bench_figure_goal("pres.client.delay_ms", d_ms, "ms", "<= 50 ms", d_ms <= 50);
	const struct app_avatars_stats *st = app_avatars_stats(a);
	double shown_parts = (double)(st->interpolated + st->extrapolated + st->held);
	th_bench_figure("pres.client.extrapolated_pct", 100.0 * (double)(st->extrapolated + st->held) / shown_parts, "%");
	th_bench_figure("pres.client.frame_us_64", th_bench_pct_u64(frame_ns, TICKS, 0.5) / 1e3, "us");
	th_bench_figure("pres.client.frame_us_64.p99", th_bench_pct_u64(frame_ns, TICKS, 0.99) / 1e3, "us");
	th_bench_figure("pres.client.baseline.newest_us_64", th_bench_pct_u64(base_ns, TICKS, 0.5) / 1e3, "us");
	fprintf(stderr, "bench_pres_client: %u users, %u frames, %llu updates taken, %llu reordered, %llu late\n", USERS,
		TICKS, (unsigned long long)st->updates, (unsigned long long)st->reordered,
		(unsigned long long)st->late);
	app_avatars_destroy(&a);
	return 0;
}
