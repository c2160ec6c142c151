/* An adaptive jitter buffer for one remote speaker (docs/voice.md, "Jitter
 * buffer"). Frames go in as they arrive (any order, duplicates, late); the
 * mixer pulls one frame per frame period when its playout time has come.
 * The target delay follows the measured arrival jitter: it grows at once
 * when a frame comes too late, and falls back to what the recent arrivals
 * ask for in silence only (a DTX gap or between talkspurts), so speech is
 * never stretched or cut. A missing
 * frame whose successor is already here is recovered from the successor's
 * FEC; otherwise it is concealed. Pure state machine: the caller passes
 * now_ns; no I/O, no allocation after init. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "voice/voice.h"

#define VOICE_JB_SLOTS        64u    /* frames held: 1.28 s of 20 ms frames */
#define VOICE_JB_MIN_MS       0u     /* target delay bounds, beyond the look-ahead */
#define VOICE_JB_MAX_MS       200u
#define VOICE_JB_START_MS     20u    /* target delay before any measurement */
#define VOICE_JB_LIMIT_MS     500u   /* a configured max_ms is clamped to this */
/* A talkspurt ends when no frame came for this long (DTX or silence). */
#define VOICE_JB_IDLE_MS      100u
/* Arrivals the target is measured over (5 s of 20 ms frames). */
#define VOICE_JB_HIST         256u
/* The playout waits one frame more for a lost frame's successor (its FEC)
 * only while the link loses at least this much, percent
 * (voice_jb_set_loss); below it a lost frame is waited for (the delay
 * grows, and comes back at the next talkspurt). */
#define VOICE_JB_FEC_LOSS_PCT 1u
/* In a talkspurt, a playout that stood a frame and a chunk or more above
 * what the arrivals ask for this long is cut back by one frame without speech (the
 * codec's VAD said none: a pause, comfort noise), never a speech frame. */
#define VOICE_JB_TRIM_MS      300u
/* What voice_jb_init assumes until voice_jb_set_loss: loss (look ahead). */
#define VOICE_JB_LOSS_UNKNOWN 100u

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

/* frames_in: every valid put (dup, late and too_far are among them);
 * played / fec / concealed: frames of the stream given as FRAME, recovered
 * from FEC, or lost to the listener (concealed or skipped); inserted: 10 ms
 * CONCEALs given while waiting for a frame (the delay grew), not frames of
 * the stream; trimmed: frames without speech not given, to cut a standing
 * delay (VOICE_JB_TRIM_MS). */
struct voice_jb_stats {
	uint64_t frames_in, dup, late, too_far, played, fec, concealed, talkspurts;
	uint64_t inserted;
	uint32_t target_ms, depth_ms; /* target delay beyond the look-ahead; buffered audio now */
	uint32_t jitter_us;           /* smoothed inter-arrival jitter (RFC 3550 style) */
	uint32_t lookahead_ms;        /* FEC look-ahead of the playout now: one frame or 0 */
	uint64_t trimmed;             /* frames without speech dropped to cut a standing delay */
};

struct voice_jb {
	struct voice_jb_config cfg;
	/* private: frames by seq % VOICE_JB_SLOTS; seq and ts are kept
	 * unwrapped (64-bit, continued from the stream's first frame). */
	struct voice_jb_slot {
		bool used;
		uint8_t flags;
		uint16_t len;
		uint16_t samples;
		int64_t xseq, xts;
		uint8_t data[VOICE_OPUS_MAX];
	} slot[VOICE_JB_SLOTS];
	unsigned held;           /* slots used */
	unsigned held_samples;   /* their length */
	bool have_ref;           /* next_seq / pos continue a stream */
	bool playing;            /* in a talkspurt: pos and offset_ns place the playout */
	bool started;            /* this talkspurt gave its first frame */
	bool fresh;              /* nothing given since the stream began */
	int64_t next_seq;        /* the next frame to give */
	int64_t pos;             /* its first sample (unwrapped ts) */
	int64_t offset_ns;       /* sample pos plays at ts_ns(pos) + offset_ns */
	int64_t delay_ns;        /* delay beyond the fastest arrival and the look-ahead */
	int64_t ahead_ns;        /* the look-ahead in offset_ns: one frame or 0 */
	uint64_t excess_since_ns; /* the playout stood a frame above the asked since (0: not) */
	int64_t pending_ns;      /* growth still to insert */
	int64_t wait_ns;         /* grown while waiting with nothing held */
	int64_t cursor_ns;       /* where the audio given so far ends */
	uint64_t played_bits;    /* bit i: seq next_seq-1-i was given as FRAME */
	unsigned last_samples;
	unsigned loss_pct;       /* the link's loss (voice_jb_set_loss) */
	uint8_t last_flags;      /* of the last piece given */
	uint64_t last_arrival_ns;
	int64_t transit_prev_ns;
	int64_t jitter_q4_ns;    /* RFC 3550 jitter, times 16 */
	int64_t hist[VOICE_JB_HIST]; /* transit of recent arrivals */
	unsigned hist_n, hist_i;
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
/* What to play next at now_ns. Call it every tick (VOICE_CHUNK_MS) until
 * it returns 0 or gives SILENT; each 1 gives one piece, in playout order:
 * FRAME / FEC / CONCEAL: decode out->samples samples now (a CONCEAL of
 * VOICE_CHUNK_SAMPLES may be inserted while the delay grows); SILENT: the
 * speaker is silent now, nothing to decode. 0: nothing more is due (what
 * was given still covers now). */
int voice_jb_get(struct voice_jb *jb, uint64_t now_ns, struct voice_jb_out *out);
void voice_jb_stats(const struct voice_jb *jb, uint64_t now_ns, struct voice_jb_stats *out);
/* The link's measured loss, percent (clamped to 100): at
 * VOICE_JB_FEC_LOSS_PCT or more the playout keeps one frame of look-ahead
 * for FEC, below it none. Takes effect at the next talkspurt. */
void voice_jb_set_loss(struct voice_jb *jb, unsigned pct);
