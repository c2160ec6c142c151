/* A private PulseAudio server for voice tests (docs/voice.md, "Tests"):
 * `pulseaudio --daemonize=no -n -F DIR/pa.pa` in user mode with its own
 * XDG_RUNTIME_DIR and HOME under DIR, the native protocol on a unix socket
 * with anonymous auth, and null sinks the test names ("micA:1", "spkB:2"),
 * each with its NAME.monitor source. Stopped by pid. Around it: a player
 * that writes PCM into a sink from its own thread, a recorder that reads a
 * source on its own thread and keeps the CLOCK_MONOTONIC capture time of
 * every chunk, and the signals and onset detection the tests measure with.
 *
 * All PCM is s16 at TH_PULSE_RATE, frames of `channels` interleaved
 * samples. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TH_PULSE_RATE       48000u
#define TH_PULSE_START_MS   20000 /* generous: two loaded cores */
#define TH_PULSE_STOP_MS    10000
#define TH_PULSE_SINKS_MAX  8
#define TH_PULSE_NAME_MAX   64
#define TH_PULSE_CHANNELS_MAX 2
#define TH_PULSE_CHUNK_MS   10u   /* the player's and recorder's buffers */
#define TH_PULSE_DIR_MAX    80    /* DIR/run/native must fit a sun_path */

struct th_pulse_rec;
struct th_pulse {
	pid_t pid;                  /* -1 when not running */
	struct th_pulse_rec *keep[TH_PULSE_SINKS_MAX]; /* per sink, reading its monitor (th_pulse.c says why) */
	char dir[TH_PULSE_DIR_MAX];
	char server[TH_PULSE_DIR_MAX + 32]; /* "unix:DIR/run/native", for PULSE_SERVER */
	char env[TH_PULSE_DIR_MAX + 48];    /* "PULSE_SERVER=unix:DIR/run/native" */
	char log_path[TH_PULSE_DIR_MAX + 16]; /* the server's stderr */
};

/* Whether a pulseaudio binary is on PATH. */
bool th_pulse_available(void);
/* True after printing the SKIP line when pulseaudio is not installed. */
bool th_pulse_skip(void);

/* Writes DIR/pa.pa loading the native protocol and one null sink per entry
 * of sinks (NULL-terminated "name:channels", channels 1..2, at most
 * TH_PULSE_SINKS_MAX), starts the server and waits (TH_PULSE_START_MS)
 * until a client connects and every monitor delivers steadily (up to 2 s). dir exists and is short (TH_PULSE_DIR_MAX).
 * 0, or -errno after saying why on stderr (the server's log with it);
 * -EINVAL for a malformed sink entry. */
int th_pulse_start(struct th_pulse *p, const char *dir, const char *const *sinks);
/* For a server started elsewhere (scripts/demo starts its own): its
 * keepers on the named sinks' monitors, as th_pulse_start has; pid stays
 * -1, so th_pulse_stop only stops them. 0 or -errno (said on stderr).
 * Attach before any client's stream connects: it suspends and resumes
 * each sink, and a voice client whose streams lived through that was
 * measured ~170 ms slower mouth to ear for the rest of its run. */
int th_pulse_attach(struct th_pulse *p, const char *server, const char *const *sinks);
/* Stops the keepers, then the server (when this started it): SIGTERM,
 * wait up to TH_PULSE_STOP_MS, then SIGKILL. Safe when stopped. */
void th_pulse_stop(struct th_pulse *p);
/* Suspends sink for ms (at most TH_PULSE_SUSPEND_MS_MAX), then resumes it,
 * as a desktop's server does to an idle or switched device (its streams
 * stay connected; what plays into it waits). 0 or -errno (said). */
#define TH_PULSE_SUSPEND_MS_MAX 10000
int th_pulse_suspend(const struct th_pulse *p, const char *sink, unsigned ms);
/* Whether the server still runs (reaps it when it exited). */
bool th_pulse_alive(struct th_pulse *p);
/* The server's stderr (static buffer, NUL-terminated; "" when unreadable). */
const char *th_pulse_log(const struct th_pulse *p);

/* The player: plays frames of pcm (copied) into sink once, on its own
 * thread, TH_PULSE_CHUNK_MS per write, then drains. */
struct th_pulse_player;
int th_pulse_play_start(const struct th_pulse *p, const char *sink, unsigned channels, const int16_t *pcm,
			size_t frames, struct th_pulse_player **out);
/* Waits until everything was played (timeout_ms): 0, -ETIMEDOUT, or the
 * thread's error (-EIO after it said libpulse's reason on stderr). */
int th_pulse_play_wait(struct th_pulse_player *pl, int timeout_ms);
/* Stops (if still playing), joins, frees; NULL-safe, sets *p = NULL. */
void th_pulse_play_destroy(struct th_pulse_player **p);

/* The recorder: reads source in TH_PULSE_CHUNK_MS chunks on its own thread
 * into a buffer of max_frames (it stops filling when full). Capture times
 * (CLOCK_MONOTONIC) come from the sample count: frame i was captured at
 * anchor + i / rate, the anchor being the earliest (time a read returned -
 * frames read by then / rate) seen so far, so a read the scheduler delayed
 * does not move it. A null sink's monitor runs on that clock without gaps
 * (no suspend-on-idle module is loaded), and every recorder of one server
 * sees the same delivery delay, so a difference of two recorders' times is
 * the latency between their sources. */
struct th_pulse_rec;
int th_pulse_rec_start(const struct th_pulse *p, const char *source, unsigned channels, size_t max_frames,
		       struct th_pulse_rec **out);
/* Frames recorded so far (any thread; frames [0, n) are stable). */
size_t th_pulse_rec_frames(const struct th_pulse_rec *r);
/* The recorded samples (frames * channels). */
const int16_t *th_pulse_rec_pcm(const struct th_pulse_rec *r);
unsigned th_pulse_rec_channels(const struct th_pulse_rec *r);
/* Capture time of frame i < th_pulse_rec_frames(r), CLOCK_MONOTONIC ns. */
uint64_t th_pulse_rec_time_ns(const struct th_pulse_rec *r, size_t i);
/* The first frame captured at or after t_ns (th_pulse_rec_frames when none yet). */
size_t th_pulse_rec_frame_at(const struct th_pulse_rec *r, uint64_t t_ns);
/* Stops reading and joins the thread; the recording stays readable.
 * 0, or the thread's error (-EIO after it said libpulse's reason). */
int th_pulse_rec_stop(struct th_pulse_rec *r);
/* Stops, frees; NULL-safe, sets *p = NULL. */
void th_pulse_rec_destroy(struct th_pulse_rec **p);

/* Signals, written into out[frames * channels] (the same on every channel). */
/* Silence, then a burst of burst_ms every period_ms starting at first_ms:
 * a linear chirp 600 -> 2400 Hz at amplitude amp with 1 ms raised-cosine
 * edges (a sharp, broadband onset that survives a speech codec). Returns
 * the number of bursts written. */
#define TH_PULSE_BURST_F0 600.0
#define TH_PULSE_BURST_F1 2400.0
#define TH_PULSE_EDGE_MS  1.0
unsigned th_pulse_clicks(int16_t *out, size_t frames, unsigned channels, unsigned first_ms, unsigned period_ms,
			 unsigned burst_ms, int16_t amp);
/* A linear chirp f0 -> f1 Hz over all frames with 1 ms edges. */
void th_pulse_chirp(int16_t *out, size_t frames, unsigned channels, double f0, double f1, int16_t amp);
/* A steady tone of freq Hz with 1 ms edges. */
void th_pulse_tone(int16_t *out, size_t frames, unsigned channels, double freq, int16_t amp);

/* Analysis of a recording (any channel count). */
/* The largest |sample| of frames [from, to). */
int th_pulse_peak(const int16_t *pcm, unsigned channels, size_t from, size_t to);
/* Onsets: frames in [from, to) where |sample| on any channel reaches
 * threshold after at least quiet_frames below it (the first frame of a
 * recording counts as after quiet). Up to cap frame indices into out;
 * returns how many were found (may exceed cap). */
size_t th_pulse_onsets(const int16_t *pcm, unsigned channels, size_t from, size_t to, int threshold,
		       size_t quiet_frames, size_t *out, size_t cap);
/* Onsets of a live recording (frames so far) from frame `from`, at
 * threshold; the times of up to cap of them (CLOCK_MONOTONIC ns) into t. */
size_t th_pulse_rec_onsets(const struct th_pulse_rec *r, size_t from, int threshold, size_t quiet_frames,
			   uint64_t *t, size_t cap);

/* Pairs mouth onsets with ear onsets, both sorted: each mouth onset takes
 * the first ear onset after it (and after the one paired before) within
 * window_ns; lat_ns[i] its latency, UINT64_MAX where none came. Returns how
 * many were paired; *unpaired_ear (may be NULL) counts ear onsets no mouth
 * onset explains (a duplicate, an echo, a click out of nowhere). */
size_t th_pulse_pair(const uint64_t *mouth, size_t n_mouth, const uint64_t *ear, size_t n_ear, uint64_t window_ns,
		     uint64_t *lat_ns, size_t *unpaired_ear);
