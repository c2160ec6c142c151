/* theta-client's audio: it only moves PCM between the user's PulseAudio
 * server and the daemon (docs/voice.md, "Where each part runs"). A capture
 * stream from the microphone (or the source named) hands 10 ms chunks of
 * 48 kHz mono s16 to `captured`; a playback stream to the speakers (or the
 * sink named) plays 10 ms stereo chunks that `fetch` returns. Each stream
 * has its own thread (libpulse's simple API, 10 ms buffers); neither touches
 * the frame loop. The gate decides what leaves: while it is closed (muted,
 * or push-to-talk released) no chunk is handed to `captured` at all. The
 * gate starts as aud_config.gate says (closed by default). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUD_RATE           48000u
#define AUD_CHUNK_SAMPLES  480u     /* 10 ms */
#define AUD_LATENCY_MS_DEFAULT 10u
/* Playback chunks held before the oldest are dropped (bounds the latency a
 * stalled sink could build up). */
#define AUD_PLAY_BACKLOG_MS 60u
/* Chunks that stayed queued behind the one playing for this long (the
 * queue never ran shorter) are standing delay, left by a stall or a burst
 * that the steady flow since never drains: the oldest of them are dropped
 * (counted in chunks_dropped). */
#define AUD_PLAY_TRIM_MS 300u
/* The playback thread asks `fetch` this often while nothing is waiting. */
#define AUD_PLAY_POLL_NS 2000000u
/* A chunk that comes after the playback stream ran dry is an underrun when
 * the one before it ended less than this long ago (a longer gap is the
 * daemon sending nothing: silence between talkspurts). */
#define AUD_PLAY_GAP_MS 100u

struct aud_io {
	/* Capture thread: one chunk of AUD_CHUNK_SAMPLES mono samples; seq +1
	 * per chunk captured (gaps: chunks not handed over), t_ns its first
	 * sample's capture time (CLOCK_MONOTONIC): the stream's sample count
	 * anchored where a read returned earliest relative to it over the last
	 * half second (pa_simple_get_latency is no anchor: on a null sink's
	 * monitor it starts at 0.7 s and decays to 0). */
	void (*captured)(void *user, uint32_t seq, uint64_t t_ns, const int16_t *pcm);
	/* Playback thread: fills one chunk of AUD_CHUNK_SAMPLES stereo frames
	 * (L R interleaved) and returns 1, or returns 0 when none is waiting. */
	int (*fetch)(void *user, int16_t *stereo);
};

struct aud_config {
	const char *server;  /* NULL: libpulse's default ($PULSE_SERVER, the user's) */
	const char *source;  /* NULL: the default microphone */
	const char *sink;    /* NULL: the default speakers */
	unsigned latency_ms; /* 10..200; 0: AUD_LATENCY_MS_DEFAULT. Capture: fragsize; playback:
			      * tlength = this + one chunk, prebuf = its whole chunks,
			      * minreq = one chunk */
	const char *app_name; /* NULL: "theta-client" */
	bool capture, playback; /* which streams to open (both false: both) */
	bool gate;              /* the gate's state at start (false: closed) */
};

struct aud_stats {
	/* captured = sent + gated (+ 1 while one is being handed over) */
	uint64_t chunks_captured, chunks_sent, chunks_gated;
	/* played: written to the stream; dropped: the oldest beyond
	 * AUD_PLAY_BACKLOG_MS, and standing delay (AUD_PLAY_TRIM_MS);
	 * underruns: as AUD_PLAY_GAP_MS says */
	uint64_t chunks_played, chunks_dropped, underruns;
	uint32_t capture_latency_us, playback_latency_us; /* pa_simple_get_latency, last chunk */
	/* A stream the server ended (it quit or restarted, the device went
	 * away) is down until its thread opens it again (every second, with
	 * the same config); the other goes on. reopens: streams opened again. */
	bool capture_down, playback_down;
	uint64_t reopens;
};

struct aud;
/* Connects the streams and starts their threads. On failure err[] holds one
 * sentence ("no PulseAudio server at unix:/run/user/1000/pulse/native: ...",
 * "no such source: mic2 (on the PulseAudio server at ...)") and nothing
 * runs: -ECONNREFUSED (no server), -ENOENT (no such source / sink),
 * -EACCES, -EINVAL (bad config, missing callback), -ENOMEM, -EIO. */
int aud_open(const struct aud_config *cfg, const struct aud_io *io, void *user, struct aud **out, char *err,
	     size_t errlen);
void aud_close(struct aud **p);
/* Open or close the gate (any thread). */
void aud_set_gate(struct aud *a, bool open);
void aud_get_stats(const struct aud *a, struct aud_stats *out);
