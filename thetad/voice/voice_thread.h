/* The voice thread (docs/voice.md, "The daemon: threads and the path of
 * one chunk"): it owns the voice engine (voice_engine.h) and runs it on a
 * 10 ms clock (a CLOCK_MONOTONIC timerfd), so the loop thread never
 * encodes, decodes or mixes. The two threads share nothing but two
 * single-producer rings in heap memory (th_ring.h), each with an eventfd
 * doorbell rung only when its consumer sleeps (the clock runs only while
 * local clients are linked: an idle daemon's voice thread sleeps):
 *
 *   in  (loop -> voice): clients linked and gone, their VOICE_STATE flags,
 *       microphone chunks, frames from other daemons, names, head poses,
 *       admin mutes, the links' loss, a session change, stats requests;
 *   out (voice -> loop): mixed chunks for local clients, local speakers'
 *       frames for other daemons, SESSION_INFO's voice fields when they
 *       change, stats answers, the engine's totals every
 *       VOICE_THREAD_TOTALS_MS.
 *
 * Every record is a copy: neither thread ever reads the other's state. The
 * loop side's functions (all but the thread's own body) run on the loop
 * thread only; a full ring drops the record and counts it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "voice/voice.h"
#include "voice/voice_engine.h"

#define VOICE_THREAD_IN_CAPACITY   (256u * 1024u)  /* loop -> voice ring, bytes */
#define VOICE_THREAD_OUT_CAPACITY  (512u * 1024u)  /* voice -> loop ring, bytes */
#define VOICE_THREAD_OUT_RECORD    (32u * 1024u)   /* largest voice -> loop record (a stats answer) */
/* The clock's period: one voice_engine_tick each. */
#define VOICE_THREAD_TICK_NS       ((uint64_t)VOICE_CHUNK_MS * 1000u * 1000u)
/* Ticks run at once after the thread was held up (a loaded machine);
 * beyond them the clock skips ahead (counted in skipped_ticks). */
#define VOICE_THREAD_CATCHUP_MAX   5u
/* Records handled per pass before the clock is looked at again. */
#define VOICE_THREAD_BATCH         512u
/* How often the engine's totals go to the loop (metrics voice_*). */
#define VOICE_THREAD_TOTALS_MS     250u
/* Stats requests the thread may owe at once (a full out ring delays their
 * answers); one more is not answered, so a caller keeps no more waiting. */
#define VOICE_THREAD_STATS_OWED    16u
/* Speakers in one stats answer (all the engine can hold). */
#define VOICE_THREAD_STATS_MAX     VOICE_SPEAKERS_MAX
/* SESSION_INFO.speakers: bytes of names (== PROTO_IPC_MAX_SPEAKERS). */
#define VOICE_THREAD_SPEAKERS_TEXT 512u

/* SESSION_INFO's voice fields, as the engine sees them now. */
struct voice_thread_info {
	unsigned speaking;
	char speakers[VOICE_THREAD_SPEAKERS_TEXT + 1]; /* names, '\n'-separated */
	unsigned n_clients;
	struct voice_thread_client_info {
		uint64_t client_id;
		uint32_t info; /* VOICE_INFO_* */
	} client[VOICE_LISTENERS_MAX];
};

/* The thread's own figures (with the totals). */
struct voice_thread_stats {
	uint64_t ticks;         /* voice_engine_tick calls */
	uint64_t late_ticks;    /* of which ran late, to catch up */
	uint64_t skipped_ticks; /* clock periods skipped: the thread was held up too long */
	uint64_t out_drops;     /* records the out ring had no room for */
	uint64_t records_in;    /* records taken from the in ring */
	uint64_t tick_max_ns;   /* longest tick (mix of every listener) since the last totals */
};

/* What the loop hears when it drains the out ring (voice_thread_poll). */
struct voice_thread_sink {
	void (*play)(void *user, uint64_t client_id, const int16_t *stereo, uint64_t t_ns);
	void (*packet)(void *user, const struct voice_packet *p);
	void (*info)(void *user, const struct voice_thread_info *info);
	/* The answer to voice_thread_stats_request(tag): n of total speakers. */
	void (*stats)(void *user, uint64_t tag, const struct voice_speaker_stats *sp, unsigned n,
		      const struct voice_engine_totals *t, uint64_t now_ns);
	void (*totals)(void *user, const struct voice_engine_totals *t, const struct voice_thread_stats *ts);
};

struct voice_thread;

/* Creates the engine (on the caller's thread, so a bad configuration is
 * said at start) and the thread that owns it from then on. voice_engine_create's
 * errors, -ENOMEM, -errno of eventfd, timerfd or pthread_create. */
int voice_thread_create(const struct voice_engine_config *cfg, struct voice_thread **out);
/* Stops the thread (it wakes at once), joins it, frees both rings. */
void voice_thread_destroy(struct voice_thread **p);
/* The out ring's doorbell: readable when records wait (register it on the
 * loop, then call voice_thread_poll). */
int voice_thread_fd(const struct voice_thread *t);
/* Drains the out ring into sink; returns the records handled. */
unsigned voice_thread_poll(struct voice_thread *t, const struct voice_thread_sink *sink, void *user);
/* Records the in ring had no room for (dropped). */
uint64_t voice_thread_in_drops(const struct voice_thread *t);

/* Loop -> voice. Each returns 0 or -ENOBUFS (the ring is full: dropped and
 * counted), -EINVAL. */
int voice_thread_client(struct voice_thread *t, uint64_t client_id, const uint8_t speaker[VOICE_KEY_LEN],
			const char *name);
int voice_thread_client_gone(struct voice_thread *t, uint64_t client_id);
int voice_thread_client_state(struct voice_thread *t, uint64_t client_id, uint32_t flags);
int voice_thread_capture(struct voice_thread *t, uint64_t client_id, uint32_t seq, uint64_t t_ns,
			 const int16_t pcm[VOICE_CHUNK_SAMPLES]);
int voice_thread_packet(struct voice_thread *t, const struct voice_packet *p);
int voice_thread_name(struct voice_thread *t, const uint8_t speaker[VOICE_KEY_LEN], const char *name);
int voice_thread_pose(struct voice_thread *t, uint64_t entity, const struct voice_pose *head);
int voice_thread_admin_mute(struct voice_thread *t, const uint8_t speaker[VOICE_KEY_LEN], bool muted);
int voice_thread_set_loss(struct voice_thread *t, unsigned pct);
/* The session changed: every speaker and listener goes (voice_engine_reset). */
int voice_thread_reset(struct voice_thread *t);
/* Asks for every speaker's stats; the answer comes through sink.stats with
 * the same tag (a full out ring delays it to the next tick, never loses it). */
int voice_thread_stats_request(struct voice_thread *t, uint64_t tag);
