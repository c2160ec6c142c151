/* The host's presence relay per tick (make bench-pres), docs/presence.md
 * "Interest": BENCH_MEMBERS members, each with one th_walk user and its
 * own receiver, every user walking; the members' pres_links code their
 * user every tick, the relay takes their frames (ingest), then ticks: the
 * grid, the tiers and one frame per receiver through the real codec. CPU
 * time of this thread per tick (the machine is shared: not wall time),
 * median and p99 over BENCH_TICKS ticks after a second of warm-up, in
 * three scenes: a crowd (BENCH_CROWD_M wide: everyone near everyone, frames
 * full: the worst case), a room (BENCH_ROOM_M: a few near each receiver)
 * and a spread-out scene (BENCH_SPREAD_M: most far or culled).
 *
 *   presence.relay.tick_us.SCENE       the relay's tick (grid + 64 frames),
 *                                      goal <= a quarter of the 11.1 ms
 *                                      tick at 90 Hz (QUIC and the rest of
 *                                      the host share the core)
 *   presence.relay.tick_p99_us.SCENE
 *   presence.relay.ingest_us.SCENE     the 64 members' frames taken, per tick
 *   presence.relay.tick_budget_us      1e6 / tick_hz, for comparison
 *   presence.relay.baseline_us.SCENE   the baseline, same run: the codec
 *                                      alone coding every user to every
 *                                      receiver each tick (no interest, no
 *                                      bookkeeping): what a relay without
 *                                      the grid would spend
 *   presence.relay.filtered_pct.SCENE  100 (irrelevant - irrelevant_sent) /
 *                                      irrelevant, pres_stats
 *   presence.relay.records_per_tick.SCENE
 *   presence.relay.bytes_per_pose.SCENE the relay's frames' bytes per pose
 *                                      part coded (no QUIC or UDP overhead)
 *
 * JSON lines (th_bench.h); nothing here asserts a timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pres/pres.h"
#include "th_bench.h"
#include "th_walk.h"

#define BENCH_MEMBERS 64u
#define BENCH_TICKS 900u  /* 10 s at 90 Hz */
#define BENCH_WARMUP 90u
#define BENCH_CROWD_M 8.0f
#define BENCH_ROOM_M 40.0f
#define BENCH_SPREAD_M 400.0f
#define BENCH_SEED 16u
#define BENCH_BUDGET_SHARE 4u /* the goal: a quarter of the tick */

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct bench {
	struct pres_relay *r;
	struct pres_link *link[BENCH_MEMBERS];
	struct proto_pres_frame f;
	struct th_walk w;
	uint64_t now;
	uint8_t out[BENCH_MEMBERS][PROTO_PRES_FRAME_MAX];
	size_t out_len[BENCH_MEMBERS];
};

static struct bench B;

/* The host's frames are kept (the send): members decode them after the
 * clock stops, it is their cost, not the host's. */
static void to_member(void *ud, uint32_t peer, const uint8_t *frame, size_t len)
{
	(void)ud;
	memcpy(B.out[peer - 1], frame, len);
	B.out_len[peer - 1] = len;
}

static void deliver(void)
{
	for (unsigned i = 0; i < BENCH_MEMBERS; i++) {
		if (B.out_len[i] && pres_link_on_frame(B.link[i], B.out[i], B.out_len[i], &B.f) < 0) {
			fprintf(stderr, "bench_pres_relay: member %u refused a frame\n", i + 1);
			exit(1);
		}
		B.out_len[i] = 0;
	}
}

static void feed(void)
{
	th_walk_step(&B.w, B.now);
	for (unsigned i = 0; i < BENCH_MEMBERS; i++) {
		struct proto_pres_user u;
		th_walk_user(&B.w, i, &u);
		u.valid |= PRES_ENDED(PROTO_PRES_F_ALL & ~u.valid);
		if (pres_link_local(B.link[i], &u, B.now) < 0)
			exit(1);
	}
}

static int scene(const char *name, float spread_m, uint64_t tick_ns)
{
	struct pres_config c;
	pres_config_default(&c);
	memset(&B, 0, sizeof B);
	if (pres_relay_new(&c, &B.r) < 0)
		return -1;
	for (unsigned i = 0; i < BENCH_MEMBERS; i++)
		if (pres_link_new(&c, &B.link[i]) < 0 || pres_relay_receiver_add(B.r, i + 1, true) < 0)
			return -1;
	th_walk_init(&B.w, BENCH_MEMBERS, spread_m, BENCH_SEED);
	B.now = 1000000000ull;
	static uint64_t tick[BENCH_TICKS], ingest[BENCH_TICKS];
	struct pres_stats s0 = { 0 }, s1;
	for (unsigned t = 0; t < BENCH_WARMUP + BENCH_TICKS; t++) {
		B.now += tick_ns;
		feed();
		static uint8_t fr[BENCH_MEMBERS][PROTO_PRES_FRAME_MAX];
		int len[BENCH_MEMBERS];
		for (unsigned i = 0; i < BENCH_MEMBERS; i++)
			len[i] = pres_link_tick(B.link[i], B.now, fr[i], sizeof fr[i]);
		uint64_t a = cpu_ns();
		for (unsigned i = 0; i < BENCH_MEMBERS; i++)
			if (len[i] > 0 &&
			    pres_relay_on_frame(B.r, i + 1, fr[i], (size_t)len[i], B.now, NULL, NULL, NULL) < 0)
				return -1;
		uint64_t b = cpu_ns();
		pres_relay_tick(B.r, B.now, to_member, NULL);
		uint64_t e = cpu_ns();
		deliver();
		if (t == BENCH_WARMUP - 1)
			pres_relay_stats(B.r, &s0);
		if (t >= BENCH_WARMUP) {
			ingest[t - BENCH_WARMUP] = b - a;
			tick[t - BENCH_WARMUP] = e - b;
		}
	}
	pres_relay_stats(B.r, &s1);
	char n[96];
	double budget_us = (double)tick_ns / 1000.0;
	double med = th_bench_pct_u64(tick, BENCH_TICKS, 0.5) / 1000.0;
	double goal = budget_us / BENCH_BUDGET_SHARE;
	char g[64];
	snprintf(g, sizeof g, "<= %.0f us (a quarter of the %.1f ms tick)", goal, budget_us / 1000.0);
	snprintf(n, sizeof n, "presence.relay.tick_us.%s", name);
	th_bench_figure_goal(n, med, "us", g, med <= goal);
	snprintf(n, sizeof n, "presence.relay.tick_p99_us.%s", name);
	th_bench_figure(n, th_bench_pct_u64(tick, BENCH_TICKS, 0.99) / 1000.0, "us");
	snprintf(n, sizeof n, "presence.relay.ingest_us.%s", name);
	th_bench_figure(n, th_bench_pct_u64(ingest, BENCH_TICKS, 0.5) / 1000.0, "us");
	uint64_t irr = s1.irrelevant - s0.irrelevant, irr_sent = s1.irrelevant_sent - s0.irrelevant_sent;
	snprintf(n, sizeof n, "presence.relay.filtered_pct.%s", name);
	th_bench_figure(n, irr ? 100.0 * (double)(irr - irr_sent) / (double)irr : 0.0, "%");
	snprintf(n, sizeof n, "presence.relay.records_per_tick.%s", name);
	th_bench_figure(n, (double)(s1.records_out - s0.records_out) / BENCH_TICKS, "records");
	snprintf(n, sizeof n, "presence.relay.bytes_per_pose.%s", name);
	uint64_t poses = s1.poses_out - s0.poses_out;
	th_bench_figure(n, poses ? (double)(s1.bytes_out - s0.bytes_out) / (double)poses : 0.0, "B");
	for (unsigned i = 0; i < BENCH_MEMBERS; i++)
		pres_link_free(&B.link[i]);
	pres_relay_free(&B.r);
	return 0;
}

/* The codec alone: every user to every receiver each tick, acked at once. */
static int baseline(const char *name, float spread_m, uint64_t tick_ns)
{
	static struct proto_pres_tx *tx[BENCH_MEMBERS];
	static struct proto_pres_rx *rx[BENCH_MEMBERS];
	static struct proto_pres_user users[BENCH_MEMBERS], offer[BENCH_MEMBERS];
	static struct proto_pres_frame f;
	static uint8_t frame[PROTO_PRES_FRAME_MAX];
	static uint64_t tick[BENCH_TICKS];
	for (unsigned i = 0; i < BENCH_MEMBERS; i++)
		if (proto_pres_tx_new(&tx[i]) < 0 || proto_pres_rx_new(&rx[i]) < 0)
			return -1;
	static struct th_walk w;
	th_walk_init(&w, BENCH_MEMBERS, spread_m, BENCH_SEED);
	uint64_t now = 1000000000ull;
	unsigned next[BENCH_MEMBERS] = { 0 }; /* round robin start when a frame is full */
	for (unsigned t = 0; t < BENCH_WARMUP + BENCH_TICKS; t++) {
		now += tick_ns;
		th_walk_step(&w, now);
		for (unsigned i = 0; i < BENCH_MEMBERS; i++)
			th_walk_user(&w, i, &users[i]);
		uint64_t a = cpu_ns();
		for (unsigned k = 0; k < BENCH_MEMBERS; k++) {
			unsigned n = 0;
			for (unsigned j = 0; j < BENCH_MEMBERS; j++) {
				unsigned i = (next[k] + j) % BENCH_MEMBERS;
				if (i != k)
					offer[n++] = users[i];
			}
			unsigned taken = 0;
			int len = proto_pres_encode(tx[k], now, offer, n, NULL, 0, 0, frame, sizeof frame, &taken);
			if (len <= 0)
				return -1;
			next[k] = (next[k] + taken) % BENCH_MEMBERS;
			/* the member's decode is not the host's cost: outside the clock below */
			uint64_t d0 = cpu_ns();
			if (proto_pres_decode(rx[k], frame, (size_t)len, &f) < 0)
				return -1;
			proto_pres_tx_on_ack(tx[k], f.seq);
			a += cpu_ns() - d0;
		}
		uint64_t e = cpu_ns();
		if (t >= BENCH_WARMUP)
			tick[t - BENCH_WARMUP] = e - a;
	}
	char n[96];
	snprintf(n, sizeof n, "presence.relay.baseline_us.%s", name);
	th_bench_figure(n, th_bench_pct_u64(tick, BENCH_TICKS, 0.5) / 1000.0, "us");
	for (unsigned i = 0; i < BENCH_MEMBERS; i++) {
		proto_pres_tx_free(&tx[i]);
		proto_pres_rx_free(&rx[i]);
	}
	return 0;
}

int main(void)
{
	struct pres_config c;
	pres_config_default(&c);
	uint64_t tick_ns = 1000000000ull / c.tick_hz;
	th_bench_figure("presence.relay.tick_budget_us", (double)tick_ns / 1000.0, "us");
	if (scene("crowd", BENCH_CROWD_M, tick_ns) < 0 || scene("room", BENCH_ROOM_M, tick_ns) < 0 ||
	    scene("spread", BENCH_SPREAD_M, tick_ns) < 0 || baseline("crowd", BENCH_CROWD_M, tick_ns) < 0 ||
	    baseline("spread", BENCH_SPREAD_M, tick_ns) < 0) {
		fprintf(stderr, "bench_pres_relay: a relay or codec call failed\n");
		return 1;
	}
	return 0;
}
