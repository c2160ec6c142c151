/* The presence codec's figures (make bench-pres), docs/presence.md "The frame".
 *
 * Size: a simulated session (tests/lib/th_pressim.h: BENCH_USERS users
 * walking over BENCH_SPREAD_M with th_walk, each on its own member; the host
 * codes one frame per member with the users near it every tick and far ones
 * at 5 Hz, one tick of delay each way) run for BENCH_SECONDS, once per
 * coding: with the shipped dictionary, with zstd alone, without zstd. Bytes
 * per pose = frame bytes / head-left-right parts in the frames' records,
 * against the old POSE datagram's PROTO_PRES_RAW_POSE_BYTES (no QUIC or UDP
 * overhead on either side; bench-presence measures the wire):
 *
 *   pres_codec.bytes_per_pose[.plain|.nozstd] and .host / .member (the
 *   host's frames to members, the members' one-user frames), the dictionary's
 *   with the goal <= 5 % of raw; pres_codec.raw_pose_bytes; .pct_of_raw.
 *   The same at 2 % loss each way (.loss2).
 *
 * Time: one channel carrying BENCH_USERS users that all move every tick
 * (the host's worst frame), coded and decoded BENCH_TICKS times with the ack
 * one frame late: pres_codec.encode_us.64 / decode_us.64 (median, p99) with
 * the dictionary, and the same without zstd (.nozstd: the codec's own
 * share); the frame's bytes and bytes per pose there
 * (pres_codec.bytes_per_pose_crowd.64: every pose of a crowd in one frame). Goal: encode median <= 50 us (64 frames per 90 Hz tick on one
 * core beside QUIC). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pres.h"
#include "th_bench.h"
#include "th_pressim.h"
#include "th_walk.h"

#define BENCH_USERS 64u
#define BENCH_SPREAD_M 40.0f
#define BENCH_SECONDS 20u
#define BENCH_TICKS 2000u
#define BENCH_GOAL_PCT 5.0
#define BENCH_ENCODE_GOAL_US 50.0

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct split {
	uint64_t bytes[2], poses[2]; /* [0] host -> member, [1] member -> host */
};

static void count(void *ud, const struct th_pressim_frame *f)
{
	struct split *s = ud;
	s->bytes[f->to_host] += f->len;
	s->poses[f->to_host] += f->poses;
}

static int size_run(enum proto_pres_coding coding, unsigned loss, const char *suffix)
{
	struct th_pressim_config c = { .users = BENCH_USERS, .spread_m = BENCH_SPREAD_M, .seed = 1, .delay_ticks = 1,
				       .loss_permille = loss, .coding = coding };
	struct th_pressim *sim;
	int r = th_pressim_new(&c, &sim);
	if (r < 0)
		return r;
	struct split s = { { 0 }, { 0 } };
	for (unsigned t = 0; r == 0 && t < BENCH_SECONDS * 90; t++)
		r = th_pressim_tick(sim, count, &s);
	struct th_pressim_stats st;
	th_pressim_stats(sim, &st);
	th_pressim_free(&sim);
	if (r < 0 || st.poses == 0)
		return r < 0 ? r : -EIO;
	char name[128];
	double bpp = (double)st.bytes / (double)st.poses, pct = 100.0 * bpp / PROTO_PRES_RAW_POSE_BYTES;
	snprintf(name, sizeof name, "pres_codec.bytes_per_pose%s", suffix);
	if (coding == PROTO_PRES_CODE_DICT) {
		char goal[64];
		snprintf(goal, sizeof goal, "<= %.2f B (%.0f %% of %u)", BENCH_GOAL_PCT * PROTO_PRES_RAW_POSE_BYTES / 100,
			 BENCH_GOAL_PCT, PROTO_PRES_RAW_POSE_BYTES);
		th_bench_figure_goal(name, bpp, "B", goal, pct <= BENCH_GOAL_PCT);
		snprintf(name, sizeof name, "pres_codec.pct_of_raw%s", suffix);
		th_bench_figure(name, pct, "%");
	} else {
		th_bench_figure(name, bpp, "B");
	}
	for (unsigned d = 0; d < 2; d++) {
		if (!s.poses[d])
			continue;
		snprintf(name, sizeof name, "pres_codec.bytes_per_pose%s.%s", suffix, d ? "member" : "host");
		th_bench_figure(name, (double)s.bytes[d] / (double)s.poses[d], "B");
	}
	if (coding == PROTO_PRES_CODE_DICT && loss == 0) {
		th_bench_figure("pres_codec.frames_per_tick", (double)st.frames / (double)st.ticks, "frames");
		th_bench_figure("pres_codec.records_per_frame", (double)st.records / (double)st.frames, "records");
	}
	return 0;
}

static int time_run(enum proto_pres_coding coding, const char *suffix)
{
	struct proto_pres_tx *tx;
	struct proto_pres_rx *rx;
	static struct th_walk w;
	static struct proto_pres_user u[BENCH_USERS];
	static struct proto_pres_frame f;
	static uint64_t enc[BENCH_TICKS], dec[BENCH_TICKS];
	uint8_t buf[PROTO_PRES_FRAME_MAX];
	int r = proto_pres_tx_new(&tx);
	if (r == 0)
		r = proto_pres_rx_new(&rx);
	if (r == 0)
		r = proto_pres_tx_set_coding(tx, coding);
	if (r < 0)
		return r;
	th_walk_init(&w, BENCH_USERS, 12, 2); /* close together: everyone moves every tick */
	uint64_t pending = 0, bytes = 0, users = 0;
	unsigned frames = 0;
	for (unsigned t = 0; t < BENCH_TICKS + 10 && r == 0; t++) {
		uint64_t now = TH_PRESSIM_T0_NS + (uint64_t)t * (1000000000ull / 90);
		th_walk_step(&w, now);
		for (unsigned i = 0; i < BENCH_USERS; i++)
			th_walk_user(&w, i, &u[i]);
		unsigned taken = 0;
		uint64_t a = mono_ns();
		int len = proto_pres_encode(tx, now, u, BENCH_USERS, NULL, 0, 0, buf, sizeof buf, &taken);
		uint64_t b = mono_ns();
		if (len < 0) {
			r = len;
			break;
		}
		if (pending)
			proto_pres_tx_on_ack(tx, pending); /* one frame late */
		r = proto_pres_decode(rx, buf, (size_t)len, &f);
		uint64_t c = mono_ns();
		pending = f.seq;
		if (t >= 10) { /* the first frames are whole */
			enc[t - 10] = b - a;
			dec[t - 10] = c - b;
			bytes += (uint64_t)len;
			users += taken;
			frames++;
		}
	}
	proto_pres_tx_free(&tx);
	proto_pres_rx_free(&rx);
	if (r < 0)
		return r;
	char name[128];
	double med = th_bench_pct_u64(enc, BENCH_TICKS, 0.5) / 1000.0;
	snprintf(name, sizeof name, "pres_codec.encode_us%s.%u", suffix, BENCH_USERS);
	if (coding == PROTO_PRES_CODE_DICT)
		th_bench_figure_goal(name, med, "us", "<= 50 us", med <= BENCH_ENCODE_GOAL_US);
	else
		th_bench_figure(name, med, "us");
	snprintf(name, sizeof name, "pres_codec.encode_us_p99%s.%u", suffix, BENCH_USERS);
	th_bench_figure(name, th_bench_pct_u64(enc, BENCH_TICKS, 0.99) / 1000.0, "us");
	snprintf(name, sizeof name, "pres_codec.decode_us%s.%u", suffix, BENCH_USERS);
	th_bench_figure(name, th_bench_pct_u64(dec, BENCH_TICKS, 0.5) / 1000.0, "us");
	snprintf(name, sizeof name, "pres_codec.decode_us_p99%s.%u", suffix, BENCH_USERS);
	th_bench_figure(name, th_bench_pct_u64(dec, BENCH_TICKS, 0.99) / 1000.0, "us");
	snprintf(name, sizeof name, "pres_codec.frame_bytes%s.%u", suffix, BENCH_USERS);
	th_bench_figure(name, (double)bytes / frames, "B");
	snprintf(name, sizeof name, "pres_codec.users_per_frame%s.%u", suffix, BENCH_USERS);
	th_bench_figure(name, (double)users / frames, "users");
	snprintf(name, sizeof name, "pres_codec.bytes_per_pose_crowd%s.%u", suffix, BENCH_USERS);
	th_bench_figure(name, (double)bytes / (double)(users * PROTO_PRES_PARTS), "B");
	return 0;
}

int main(void)
{
	th_bench_figure("pres_codec.raw_pose_bytes", PROTO_PRES_RAW_POSE_BYTES, "B");
	size_t dlen;
	proto_pres_dict(&dlen);
	th_bench_figure("pres_codec.dict_bytes", (double)dlen, "B");
	struct {
		enum proto_pres_coding c;
		unsigned loss;
		const char *suffix;
	} runs[] = {
		{ PROTO_PRES_CODE_DICT, 0, "" },	  { PROTO_PRES_CODE_PLAIN, 0, ".plain" },
		{ PROTO_PRES_CODE_RAW, 0, ".nozstd" }, { PROTO_PRES_CODE_DICT, 20, ".loss2" },
	};
	for (unsigned i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		int r = size_run(runs[i].c, runs[i].loss, runs[i].suffix);
		if (r < 0) {
			fprintf(stderr, "bench_pres_codec: the simulated session failed: %s\n", strerror(-r));
			return 1;
		}
	}
	if (time_run(PROTO_PRES_CODE_DICT, "") < 0 || time_run(PROTO_PRES_CODE_RAW, ".nozstd") < 0) {
		fprintf(stderr, "bench_pres_codec: coding failed\n");
		return 1;
	}
	return 0;
}
