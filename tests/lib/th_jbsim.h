/* One remote speaker through thetad/voice/voice_jb in simulated time, for
 * test_voice_jb and bench_voice_jb: a sender emits a frame every frame
 * period while it talks (talkspurts and DTX gaps: seq +1 per frame sent, ts
 * +1 per sample, also across gaps), a network loses, delays (uniform
 * jitter), duplicates and holds back frames, seeded; the consumer ticks
 * every VOICE_CHUNK_MS and pulls until 0 or SILENT, as the engine does.
 * Every piece given is checked against what was sent (order, continuity,
 * FEC from the true successor, no frame twice) and the figures a jitter
 * buffer is judged by are summed. Frames carry a synthetic payload (seq,
 * ts) unless `payload` makes them (real Opus: its FEC decides what a FEC
 * piece recovers; see bench_voice_jb). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "voice/voice_jb.h"

/* The receiver's clock when the sender's first period begins. */
#define TH_JBSIM_T0_NS (5000ull * 1000 * 1000)

struct th_jbsim_config {
	unsigned frame_samples;   /* 480 or 960 */
	uint64_t duration_ms;     /* how long the sender runs */
	unsigned talk_ms, gap_ms; /* talkspurt / DTX gap lengths; gap 0: talks throughout */
	unsigned loss_permille;   /* lost on the way */
	unsigned jitter_ms;       /* extra delay, uniform 0..jitter_ms */
	uint64_t switch_ms;       /* from then on (0: never) the jitter is jitter2_ms */
	unsigned jitter2_ms;
	unsigned dup_permille;    /* sent twice (the copy with its own delay) */
	unsigned base_ms;         /* the fastest path */
	uint32_t seq0, ts0;       /* the sender's first seq and ts (wrap tests) */
	uint64_t seed;
	/* these frames (index from 0 in the order sent) are lost / arrive
	 * hold_ms later than their delay says, whatever the dice say */
	const unsigned *lose;
	unsigned n_lose;
	const unsigned *hold;
	unsigned n_hold, hold_ms;
	/* the network stalls: what would arrive from stall_at_ms (after the
	 * first period) for stall_ms arrives when the stall ends */
	unsigned stall_at_ms, stall_ms;
	struct voice_jb_config jb;
	/* voice_jb_set_loss(link_loss_pct) before the first frame (else the
	 * buffer's default: loss unknown, one frame of FEC look-ahead) */
	bool tell_loss;
	unsigned link_loss_pct;
	/* called after every tick with the stats and whether the speaker was
	 * silent at that tick (SILENT given); may be NULL */
	void (*on_tick)(void *user, uint64_t now_ns, const struct voice_jb_stats *st, bool silent);
	/* the frame of the sender's period (frame_samples each, from 0):
	 * its length (0: DTX, nothing sent; talk_ms / gap_ms are then not
	 * used) and flags; negative fails the run (-EIO); may be NULL */
	int (*payload)(void *user, unsigned period, uint8_t *buf, size_t cap, uint8_t *flags);
	/* every piece given but SILENT (inserted: a wait, not a frame) */
	void (*on_piece)(void *user, uint64_t now_ns, const struct voice_jb_out *o, bool inserted);
	void *user;
};

struct th_jbsim_result {
	uint64_t sent, lost_net, dups_sent, reordered, puts;
	uint64_t put_ok, put_dup, put_late, put_far, put_other;
	uint64_t frames, fec, conceal, inserted, silent_ticks;
	uint64_t delay_sum_ns, delay_n;   /* FRAME / FEC: given minus sent */
	double mean_delay_ms, concealed_pct, fec_pct;
	struct voice_jb_stats st;
	uint32_t max_target_ms;
	unsigned violations;              /* pieces that break an invariant */
	char first_violation[160];
};

/* 0, -ENOMEM, -EIO (payload failed). */
int th_jbsim_run(const struct th_jbsim_config *cfg, struct th_jbsim_result *res);
