/* An adaptive jitter buffer for one remote speaker (docs/voice.md, "Jitter
 * buffer"). Frames go in as they arrive (any order, duplicates, late); the
 * mixer pulls one frame per frame period when its playout time has come.
 * The target delay follows the measured arrival jitter: it grows at once
 * when a frame comes too late, and shrinks slowly, in silence only (a DTX gap
 * or between talkspurts), so speech is never stretched or cut. A missing
 * frame whose successor is already here is recovered from the successor's
 * FEC; otherwise it is concealed. Pure state machine: the caller passes
 * now_ns; no I/O, no allocation after init. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "voice/voice.h"

#define VOICE_JB_SLOTS        64u    /* frames held: 1.28 s of 20 ms frames */
#define VOICE_JB_MIN_MS       0u     /* target delay bounds, beyond one frame */
#define VOICE_JB_MAX_MS       200u
#define VOICE_JB_START_MS     20u    /* target delay before any measurement */
/* A talkspurt ends when no frame came for this long (DTX or silence). */
#define VOICE_JB_IDLE_MS      100u

struct voice_jb_config {
	unsigned min_ms, max_ms, start_ms; /* 0: the defaults above */
};

enum voice_jb_kind {
	VOICE_JB_SILENT = 0,  /* nothing to play: the speaker is silent (no talkspurt) */
	VOICE_JB_FRAME,       /* decode data */
	VOICE_JB_FEC,         /* the frame was lost: decode it from data's FEC (the next frame) */
	VOICE_JB_CONCEAL,     /* the frame was lost and nothing follows yet: conceal */
};

struct voice_jb_out {
	enum voice_jb_kind kind;
	const uint8_t *data;  /* FRAME / FEC: valid until the next put or get */
	size_t len;
	unsigned samples;     /* the frame's length (480 or 960); 0 when SILENT */
	uint32_t ts;          /* the frame's timestamp (48 kHz samples) */
	uint8_t flags;        /* VOICE_PKT_F_* of the frame (FRAME / FEC) */
};

struct voice_jb_stats {
	uint64_t frames_in, dup, late, too_far, played, fec, concealed, talkspurts;
	uint32_t target_ms, depth_ms; /* target delay; buffered audio now */
	uint32_t jitter_us;           /* smoothed inter-arrival jitter (RFC 3550 style) */
};

struct voice_jb {
	struct voice_jb_config cfg;
	struct voice_jb_slot {
		bool used;
		uint32_t seq, ts;
		uint8_t flags;
		uint16_t len;
		uint16_t samples;
		uint8_t data[VOICE_OPUS_MAX];
	} slot[VOICE_JB_SLOTS];
	/* playout state (private) */
	bool playing;
	uint32_t next_seq, next_ts;
	uint64_t base_ns;      /* local time of ts 0 (arrival clock minus the target) */
	uint64_t last_arrival_ns;
	int64_t transit_prev_ns;
	uint32_t target_ms_q8; /* fixed point */
	uint8_t last_out[VOICE_OPUS_MAX];
	struct voice_jb_stats st;
};

void voice_jb_init(struct voice_jb *jb, const struct voice_jb_config *cfg);
/* A frame arrived: seq (per sent frame), ts (its first sample on the
 * speaker's 48 kHz clock), samples (voice_packet_samples). 0 taken;
 * -EALREADY a duplicate, -ETIME later than its playout (both counted and
 * dropped); -ERANGE seq or ts impossibly far from the stream (counted as
 * too_far, dropped); -EINVAL. */
int voice_jb_put(struct voice_jb *jb, uint32_t seq, uint32_t ts, unsigned samples, uint8_t flags,
		 const uint8_t *data, size_t len, uint64_t now_ns);
/* What to play next, when the next frame is due at now_ns: 1 and *out filled,
 * 0 nothing due yet (call again at the next tick). */
int voice_jb_get(struct voice_jb *jb, uint64_t now_ns, struct voice_jb_out *out);
void voice_jb_stats(const struct voice_jb *jb, uint64_t now_ns, struct voice_jb_stats *out);
