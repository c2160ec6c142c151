/* The voice engine's private state, shared by voice_engine.c (the pipeline)
 * and voice_engine_stats.c (names, speaking, statistics). Everything is in
 * fixed tables allocated once in voice_engine_create; codec objects are made
 * when a speaker or listener joins and kept until it goes. */
#pragma once
#include "voice/voice_engine.h"

/* Local capture chunks kept for the other local listeners. */
#define VOICE_FIFO_CHUNKS (VOICE_LOCAL_FIFO_MS / VOICE_CHUNK_MS)
/* Drift and burst control: a fifo that held more than one chunk at every
 * tick of a window of VOICE_FIFO_TRIM_TICKS loses its oldest chunks down to
 * one, so a burst or clock drift does not leave a standing delay. */
#define VOICE_FIFO_TRIM_TICKS 30u
/* A remote speaker's decoded audio waiting for the ticks (samples), and
 * the pieces taken from its jitter buffer in one tick at most. */
#define VOICE_PLAY_QUEUE      (3u * VOICE_FRAME_SAMPLES_MAX)
#define VOICE_JB_PIECES_MAX   8u
/* Head poses remembered (every user of the session: speakers and listeners). */
#define VOICE_POSES_MAX (VOICE_SPEAKERS_MAX + VOICE_LISTENERS_MAX)
/* A head position farther than this from the origin is taken as no pose
 * (metres; keeps the panning arithmetic finite). */
#define VOICE_POSE_MAX_M      1.0e6f
/* Flood limit: a token bucket in samples, refilled at VOICE_FLOOD_FACTOR
 * times real time, holding at most this much audio (a burst after a stall). */
#define VOICE_FLOOD_BURST_MS  1000u
/* Frames in a row the jitter buffer refuses as impossibly far or already
 * played before the stream is taken as restarted (the speaker's daemon
 * restarted, its seq and ts began anew). */
#define VOICE_RESYNC_FRAMES   8u
/* Loss is measured over this many one-second windows. */
#define VOICE_LOSS_WINDOW_S   5u
/* A client chunk later than this after the previous one starts a new
 * stretch: the speaker's timestamp jumps by the time that passed. */
#define VOICE_TS_GAP_MS       100u
/* bitrate_bps: bytes over the last second, in slices of 100 ms. */
#define VOICE_RATE_SLICES     10u
#define VOICE_RATE_SLICE_NS   (VOICE_NS_PER_S / VOICE_RATE_SLICES)
#define VOICE_NS_PER_MS       1000000ull
#define VOICE_NS_PER_S        1000000000ull

struct voice_bucket {
	uint64_t t_ns;
	uint64_t tokens; /* samples */
};

struct voice_spk {
	bool used;
	bool named, admin_muted;
	bool speaking;             /* as last reported through changed() */
	bool stream;               /* frames came from another daemon: dec and jb live */
	int local;                 /* index of the local client speaking as this key, -1 */
	uint8_t key[VOICE_KEY_LEN];
	uint64_t entity;           /* first 8 bytes of key, little-endian */
	char name[VOICE_NAME_MAX + 1];
	uint64_t seen_ns;          /* last frame, capture, name or mute */
	uint64_t speaking_until_ns;
	unsigned pose;             /* cached index into poses[] */

	/* remote stream */
	struct voice_dec *dec;
	struct voice_bucket bucket;
	unsigned range_run;
	uint64_t jb_concealed;     /* the jitter buffer's concealed count, as last seen */
	bool seq_init;
	uint64_t seq_base, seq_max; /* extended (wrap-counted) sequence numbers */
	uint64_t received;
	struct {
		uint64_t expected, received;
	} snap[VOICE_LOSS_WINDOW_S + 1];
	unsigned snap_n, snap_head;

	/* a local speaker's frames to the network */
	uint32_t tx_seq, tx_ts;
	uint64_t tx_last_ns;       /* when its last chunk came (0: none yet) */

	/* counters (sent when local, received when remote) */
	uint64_t packets, bytes, late, concealed, fec, dropped;
	uint64_t rate_epoch[VOICE_RATE_SLICES]; /* bytes of the last second, by slice */
	uint32_t rate_bytes[VOICE_RATE_SLICES];
	unsigned pcm_len, pcm_pos; /* decoded audio queued: pcm[pos .. pos+len) */
	unsigned piece_samples;    /* the length of the last piece decoded */
	int16_t pcm[VOICE_PLAY_QUEUE];

	/* last: not cleared when the slot is reused (voice_jb_init at the stream's start) */
	struct voice_jb jb;
};

struct voice_client {
	bool used;
	bool seq_init;
	uint64_t id;
	uint32_t flags;            /* VOICE_CL_* */
	uint32_t info;             /* VOICE_INFO_* as last reported */
	unsigned spk;              /* its speaker slot */
	struct voice_enc *enc;
	struct voice_vad *vad;
	struct voice_bucket bucket;
	uint32_t next_seq;         /* the client's chunk seq expected next */
	unsigned frame_len;
	uint32_t frame_ts;
	bool frame_speech;
	unsigned fifo_head, fifo_n;
	unsigned fifo_ticks, fifo_min; /* the window: ticks so far, fewest chunks held at a tick */
	/* last: the audio buffers, not cleared when the slot is reused */
	int16_t frame[VOICE_FRAME_SAMPLES_MAX];
	struct {
		int16_t pcm[VOICE_CHUNK_SAMPLES];
		uint64_t t_ns;
	} fifo[VOICE_FIFO_CHUNKS];
};

struct voice_pose_slot {
	bool used;
	uint64_t entity;
	uint64_t t_ns;
	struct voice_pose pose;
};

/* The gains a listener heard a speaker with at the tick `tick` (ramps). */
struct voice_gain_state {
	uint64_t tick;
	struct voice_gains g;
};

struct voice_engine {
	struct voice_engine_config cfg;
	struct voice_engine_out out;
	void *user;
	unsigned frame_samples;
	unsigned loss_pct;
	uint64_t tick;
	uint64_t next_snap_ns;
	struct voice_gains centre;
	struct voice_engine_totals tot;
	struct voice_spk spk[VOICE_SPEAKERS_MAX];
	struct voice_client cl[VOICE_LISTENERS_MAX];
	struct voice_pose_slot poses[VOICE_POSES_MAX];
	struct voice_gain_state gain[VOICE_LISTENERS_MAX][VOICE_SPEAKERS_MAX];
};

/* voice_engine_stats.c */
/* Sets the slot's display name: a valid name, or its key's fingerprint. */
void voice_spk_set_name(struct voice_spk *s, const char *name);
bool voice_spk_speaking(const struct voice_engine *e, const struct voice_spk *s, uint64_t now_ns);
bool voice_client_gate_open(const struct voice_engine *e, const struct voice_client *c);
/* Byte counting for bitrate_bps (one-second windows). */
void voice_spk_count_bytes(struct voice_spk *s, size_t len, uint64_t now_ns);
/* One loss window step for a remote stream (once a second). */
void voice_spk_loss_snapshot(struct voice_spk *s);
