/* The whole voice pipeline of one daemon for the session its local clients
 * work in (docs/voice.md): local clients' microphone chunks in, their
 * speakers' chunks out; Opus frames to and from other daemons. Runs on the
 * voice thread (module.c), and is a pure state machine: every call takes
 * now_ns, output goes through the callbacks, no I/O, no clock, no locks —
 * the tests drive it in simulated time.
 *
 *   local speaker:  capture chunk -> VAD -> (mute / push-to-talk gate)
 *                   -> Opus frame (10/20 ms, FEC, DTX) -> out.packet()
 *                   and, as PCM, to the other local listeners
 *   remote speaker: voice_engine_packet -> jitter buffer -> decode / FEC /
 *                   conceal -> PCM
 *   every 10 ms (voice_engine_tick): for each local listener, every other
 *                   speaker's chunk panned by its head relative to the
 *                   listener's, mixed -> out.play()
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "voice/voice.h"
#include "voice/voice_codec.h"
#include "voice/voice_jb.h"
#include "voice/voice_mix.h"
#include "voice/voice_vad.h"

/* VOICE_STATE flags from a client (== PROTO_IPC_VOICE_F_*). */
#define VOICE_CL_ON     1u  /* the client has audio open */
#define VOICE_CL_MUTED  2u  /* the user muted themself */
#define VOICE_CL_PTT    4u  /* push-to-talk mode */
#define VOICE_CL_TALK   8u  /* push-to-talk held */
#define VOICE_CL_ALL    15u

/* Local capture chunks waiting to be mixed for the other local listeners
 * (absorbs clock drift between the client and the daemon's tick). */
#define VOICE_LOCAL_FIFO_MS 60u
/* A remote speaker counts as speaking this long after its last SPEECH frame. */
#define VOICE_SPEAKING_HOLD_MS 300u
/* A remote speaker unheard this long is forgotten. */
#define VOICE_SPEAKER_IDLE_MS 30000u
/* Frames a second a speaker may send (20 ms frames: 50; 10 ms: 100) with
 * this much slack before the rest are dropped as a flood. */
#define VOICE_FLOOD_FACTOR 2u

struct voice_engine_config {
	struct voice_enc_config enc;   /* frame_ms, complexity, bitrate, fec, dtx */
	enum voice_vad_kind vad;       /* 0: VOICE_VAD_DEFAULT (falls back to ENERGY) */
	struct voice_jb_config jb;
	bool spatial;                  /* pan and attenuate by pose (default true in module.c) */
};

/* One encoded frame, either way. */
struct voice_packet {
	uint8_t speaker[VOICE_KEY_LEN];
	uint32_t seq;        /* +1 per frame sent by that speaker */
	uint32_t ts;         /* first sample, speaker's 48 kHz clock */
	uint8_t flags;       /* VOICE_PKT_F_* */
	uint16_t len;
	const uint8_t *data; /* Opus */
};

struct voice_engine_out {
	/* A local speaker's frame for the other daemons of the session. */
	void (*packet)(void *user, const struct voice_packet *p);
	/* 10 ms of stereo (VOICE_CHUNK_SAMPLES frames, L R interleaved) for a
	 * local client; t_ns: when its newest contribution was captured
	 * (0 when unknown), for latency figures. Not called while nobody is
	 * audible to that listener. */
	void (*play)(void *user, uint64_t client_id, const int16_t *stereo, uint64_t t_ns);
	/* Who is speaking changed, or a client's own voice state (its
	 * VOICE_INFO_* flags) did: SESSION_INFO is due. Checked at the end of
	 * each voice_engine_tick, called at most once per tick. */
	void (*changed)(void *user);
	/* Optional (NULL: the *_ns totals stay 0): the calling thread's CPU
	 * time now, e.g. CLOCK_THREAD_CPUTIME_ID read by the module. The
	 * engine reads no clock itself; it calls this around encoding,
	 * decoding and mixing to fill encode_ns, decode_ns and mix_ns. */
	uint64_t (*cpu_now)(void *user);
};

/* Per speaker, for `thetactl voice` and the metrics. */
struct voice_speaker_stats {
	uint8_t speaker[VOICE_KEY_LEN];
	char name[VOICE_NAME_MAX + 1];
	bool local, speaking, muted, admin_muted;
	uint64_t packets, bytes, frames_lost, late, concealed, fec_recovered, dropped;
	uint32_t bitrate_bps;        /* over the last second */
	uint32_t loss_permille;      /* of frames expected over the last seconds */
	uint32_t jb_depth_ms, jb_target_ms, jitter_us;
};

/* Totals (metrics: voice_*). */
struct voice_engine_totals {
	uint64_t chunks_in, frames_encoded, frames_dtx, packets_out, packets_in, bytes_in, bytes_out;
	uint64_t frames_decoded, frames_fec, frames_concealed, frames_late, chunks_played;
	uint64_t bad_packets, flood_drops, unknown_client;
	uint64_t fifo_overruns;  /* local chunks dropped from the fifo: full, or cut back to one (drift) */
	uint64_t speakers_full;  /* a speaker refused: VOICE_SPEAKERS_MAX slots in use */
	uint64_t echo_drops;     /* a frame from elsewhere for a key that speaks here */
	uint64_t encode_errors;  /* the encoder failed (-EIO): the frame is not sent */
	uint64_t samples_skipped; /* decoded audio a late tick could no longer play in time */
	/* CPU time spent, for voice.cpu_per_speaker: through out.cpu_now, 0 without it. */
	uint64_t encode_ns, decode_ns, mix_ns;
};

/* Client voice info (SESSION_INFO.voice, == PROTO_IPC_VINFO_F_*). */
#define VOICE_INFO_ON          1u
#define VOICE_INFO_MUTED       2u   /* by the user */
#define VOICE_INFO_ADMIN_MUTED 4u   /* by an admin of the session */
#define VOICE_INFO_SENDING     8u   /* the daemon is sending this user's voice now */

struct voice_engine;
int voice_engine_create(const struct voice_engine_config *cfg, const struct voice_engine_out *out, void *user,
			struct voice_engine **e);
void voice_engine_destroy(struct voice_engine **e);
/* The session changed: every speaker and listener goes. */
void voice_engine_reset(struct voice_engine *e);

/* A local client is linked (it listens, and speaks as `speaker`). It starts
 * with no VOICE_CL_* flags: neither heard nor played to until
 * voice_engine_client_state says VOICE_CL_ON. A second local client of the
 * same key listens; the first one speaks (the next takes over when it
 * goes). Linking a known client again updates its name. -ENOSPC (every
 * listener or speaker slot taken), -EINVAL, -ENOMEM. */
int voice_engine_client(struct voice_engine *e, uint64_t client_id, const uint8_t speaker[VOICE_KEY_LEN],
			const char *name, uint64_t now_ns);
void voice_engine_client_gone(struct voice_engine *e, uint64_t client_id);
/* VOICE_STATE from the client: VOICE_CL_* flags. -ENOENT, -EINVAL. */
int voice_engine_client_state(struct voice_engine *e, uint64_t client_id, uint32_t flags, uint64_t now_ns);
/* What SESSION_INFO says to that client: VOICE_INFO_* flags (0: unknown client). */
uint32_t voice_engine_client_info(const struct voice_engine *e, uint64_t client_id);
/* One microphone chunk (VOICE_CHUNK_SAMPLES) of a local client; seq +1 per
 * chunk (a gap: chunks the client lost), t_ns its capture time. 0 (also
 * while its gate is closed: the chunk goes nowhere); -ENOENT (counted as
 * unknown_client), -EINVAL (wrong length), -EDQUOT (the client sends faster
 * than VOICE_FLOOD_FACTOR times real time: dropped, counted). */
int voice_engine_capture(struct voice_engine *e, uint64_t client_id, uint32_t seq, uint64_t t_ns,
			 const int16_t *pcm, size_t samples, uint64_t now_ns);
/* A frame from another daemon (ownership already checked by net). 0 (also
 * for an admin-muted speaker's frame, dropped and counted); -EBADMSG
 * malformed Opus or flags, -EMSGSIZE, -EDQUOT the speaker floods,
 * -EALREADY, -ETIME, -ERANGE from the jitter buffer; -ENOSPC too many
 * speakers; -EEXIST the key speaks from a local client here (an echo);
 * -ENOMEM. All counted; nothing else changes. */
int voice_engine_packet(struct voice_engine *e, const struct voice_packet *p, uint64_t now_ns);
/* A speaker's display name (from the session; keys without one show their
 * fingerprint). */
void voice_engine_name(struct voice_engine *e, const uint8_t speaker[VOICE_KEY_LEN], const char *name);
/* A user's head pose (local or remote): entity is the pose's entity id,
 * the first 8 bytes of the user's key, little-endian (sess_entity_of). */
void voice_engine_pose(struct voice_engine *e, uint64_t entity, const struct voice_pose *head, uint64_t now_ns);
/* An admin of the session muted / unmuted a speaker: their frames are
 * neither sent (local) nor mixed (remote). */
void voice_engine_admin_mute(struct voice_engine *e, const uint8_t speaker[VOICE_KEY_LEN], bool muted);
/* The measured loss on the links (0..100): FEC strength, and whether the
 * jitter buffers keep a frame of FEC look-ahead (voice_jb_set_loss). */
void voice_engine_set_loss(struct voice_engine *e, unsigned pct);
/* Every VOICE_CHUNK_MS: playout, mix, play() (one chunk per listener at
 * most). A late tick plays the chunk due now and skips the audio that was
 * due before it (samples_skipped), so a stall of the voice thread does not
 * add to the delay. */
void voice_engine_tick(struct voice_engine *e, uint64_t now_ns);

/* Speakers now known (local ones, remote ones heard within
 * VOICE_SPEAKER_IDLE_MS, and admin-muted ones), at most max into out;
 * returns how many there are. */
unsigned voice_engine_speakers(const struct voice_engine *e, struct voice_speaker_stats *out, unsigned max,
			       uint64_t now_ns);
/* The names of those speaking now, '\n'-separated into buf (as
 * SESSION_INFO.speakers); returns how many are speaking. */
unsigned voice_engine_speaking(const struct voice_engine *e, char *buf, size_t cap, uint64_t now_ns);
void voice_engine_totals(const struct voice_engine *e, struct voice_engine_totals *out);
