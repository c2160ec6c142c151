/* The voice rig shared by tests/integration/test_voice.c, the benchmark
 * tests/bench/voice/bench_voice_e2e.c and the demo's probe: one private
 * PulseAudio server (th_pulse.h) with a "microphone" and a "speaker" null
 * sink per user (micA spkA micB spkB), two real thetad processes in one
 * session (A hosts, B joins through an invite), and a real theta-client on
 * each capturing its micX.monitor and playing into its spkX. Clicks played
 * into micA are recorded at micA.monitor (the mouth) and at spkB.monitor
 * (the ear); the difference of their capture times is the mouth-to-ear
 * latency. Nothing here asserts: every call returns 0 or -errno after
 * saying why on stderr, and waits poll with generous deadlines. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "th_harness.h"
#include "th_pulse.h"

#define TH_VOICE_WAIT_MS    30000 /* a daemon, a join, a client: two loaded cores */
#define TH_VOICE_CLICKS_MAX 256
#define TH_VOICE_AMP        12000 /* clicks' amplitude (-8.7 dBFS) */
#define TH_VOICE_BURST_MS   40    /* a click: a 40 ms chirp (a speech codec keeps it, VAD hears it) */
#define TH_VOICE_EAR_FLOOR  1000  /* the ear's onset threshold is at least this (Opus' noise stays far below) */
/* An onset follows at least this much below the threshold: half the
 * silence between two clicks, at most TH_VOICE_QUIET_MAX_MS (a playback
 * stalled within a click must not make it two), at least
 * TH_VOICE_QUIET_MIN_MS (the click's own decay must not make it two). */
#define TH_VOICE_QUIET_MIN_MS 60
#define TH_VOICE_QUIET_MAX_MS 200
#define TH_VOICE_TEXT_MAX   16384

enum { TH_VOICE_A = 0, TH_VOICE_B = 1 };

struct th_voice_client {
	pid_t pid;                     /* -1 when not running */
	char out_path[PATH_MAX];
	int status;                    /* its wait status once stopped */
	char text[TH_VOICE_TEXT_MAX];  /* its stdout and stderr once stopped */
};

struct th_voice_rig {
	char dir[80];                  /* temporary root: the PulseAudio server, the config, client output */
	struct th_pulse pa;
	struct th_daemon_proc d[2];    /* A hosts, B joins */
	char conf[PATH_MAX];           /* thetad.conf ("" when none) */
	char session[64];              /* the session's name */
	struct th_voice_client c[2];
	char out[65536], err[16384];   /* the last thetactl's output */
};

/* Starts PulseAudio, the daemons (voice_conf: lines of thetad.conf's
 * [voice] section such as "frame_ms = 10\n", NULL for none) and the
 * session; no clients yet. On failure everything started is stopped. */
int th_voice_rig_start(struct th_voice_rig *r, const char *voice_conf);
/* Stops clients, daemons, PulseAudio; removes the directory. Safe twice. */
void th_voice_rig_stop(struct th_voice_rig *r);
/* thetactl on side's daemon with args (NULL-terminated): its exit status,
 * output in r->out / r->err. */
int th_voice_ctl(struct th_voice_rig *r, int side, const char *const *args);
/* `thetactl voice --json` on side's daemon, parsed (the caller puts it);
 * NULL after printing why. */
struct json_object *th_voice_ctl_json(struct th_voice_rig *r, int side);

/* theta-client --headless --voice on side's daemon with PULSE_SERVER set,
 * capturing micX.monitor and playing into spkX, plus extra arguments
 * (NULL-terminated, may be NULL); returns once the daemon lists it. */
#define TH_VOICE_CLIENT_ARGS_MAX 16
int th_voice_client_start(struct th_voice_rig *r, int side, const char *const *extra);
/* SIGTERM, wait (TH_VOICE_WAIT_MS, then SIGKILL): 0 when it exited 0; its
 * output in c[side].text either way. */
int th_voice_client_stop(struct th_voice_rig *r, int side);

/* The PulseAudio side: pa is the rig's (&r->pa) or one attached to a
 * server started elsewhere (th_pulse_attach). */
/* One measurement: clicks played into mouth_sink (1 channel) recorded at
 * its monitor and at ear_source (2 channels), and at other_ear (2
 * channels, may be NULL: a speaker that must not hear them, such as the
 * talker's own) over the same time. */
struct th_voice_run {
	unsigned clicks;                   /* played */
	size_t mouth_onsets, ear_onsets;   /* found in the recordings */
	size_t paired, unpaired_ear;       /* th_pulse_pair */
	uint64_t lat_ns[TH_VOICE_CLICKS_MAX]; /* per click, UINT64_MAX where none came */
	int ear_peak;                      /* the ear's loudest sample */
	size_t other_onsets;               /* at other_ear (the one that must stay quiet) */
	int other_peak;
};
/* Plays `clicks` clicks period_ms apart and waits until every click is at
 * the ear or settle_ms passed since the last one was at the mouth. 0 (also
 * when some never arrived: see run); -EAGAIN when the mouth's own
 * recording did not hold `clicks` onsets (the test's player was held back
 * within a click: the run measured nothing); or -errno when playing or
 * recording failed. */
int th_voice_clicks(const struct th_pulse *pa, const char *mouth_sink, const char *ear_source, const char *other_ear,
		    unsigned clicks, unsigned period_ms, int settle_ms, struct th_voice_run *run);
/* Whether a run heard every click once and nothing else: all paired, no
 * ear onset unexplained, none at the other ear. */
bool th_voice_run_clean(const struct th_voice_run *run);
/* th_voice_clicks on r's server for a test that wants every click heard
 * once. A voice path is real time: on a loaded machine a client or daemon
 * the scheduler holds back 100..300 ms finds its audio late and drops it
 * (the jitter buffer's late frames, the playback backlog), or plays a
 * click past the next one's pairing window; a stall of the test's own
 * player splits a click at the mouth. So a run that was not clean is run
 * again (TH_VOICE_TRIES runs in all), but only when the load shows: the
 * daemons counted losses meanwhile (th_voice_losses moved) or the mouth
 * was split (-EAGAIN). A run with a click at the other ear (an echo: no
 * load makes one), or one that lost a click while nothing counted a loss,
 * ends it at once. Every run not clean is printed. 0 with *run the clean
 * run or the last one (the caller's assertions judge it), or -errno. */
#define TH_VOICE_TRIES 3
int th_voice_clicks_heard(struct th_voice_rig *r, const char *mouth_sink, const char *ear_source,
			  const char *other_ear, unsigned clicks, unsigned period_ms, int settle_ms,
			  struct th_voice_run *run);
/* Plays single clicks until one reaches the ear (the whole path is up:
 * clients connected, voice set up on both daemons): 0, or -ETIMEDOUT after
 * timeout_ms. */
int th_voice_wait_path(const struct th_pulse *pa, const char *mouth_sink, const char *ear_source, int timeout_ms);

/* $THETA_BUILD/tests/tools/pcm_relay (build/ by default). */
const char *th_voice_relay_bin(void);

/* A client's exit line `theta-client: voice: C chunks sent, P played, U
 * underruns, G gated, ...` (aud's counters) from c[side].text: 0, or
 * -ENOENT when it has none. */
struct th_voice_exit {
	uint64_t sent, played, underruns, gated;
};
int th_voice_exit_line(const struct th_voice_rig *r, int side, struct th_voice_exit *e);
/* The sum of a numeric field (packets, concealed, fec_recovered, ...) over
 * the speakers `thetactl voice --json` on side lists, only remote ones
 * (local: false) when remote_only; -1 after printing why it could not. */
long long th_voice_speakers_sum(struct th_voice_rig *r, int side, const char *field, bool remote_only);
/* A totals field of `thetactl voice --json` on side; -1 when absent. */
long long th_voice_total(struct th_voice_rig *r, int side, const char *field);
/* What the path itself reports having lost or played late, summed over
 * both daemons' `thetactl voice --json` totals: remote frames that came
 * after their playout time, concealed ones, local chunks a daemon's clock
 * had no room for, decoded samples a late tick skipped. Under load these
 * are how a click is legitimately lost; a path that loses one without
 * counting it is broken. -1 after printing why it could not be read. */
long long th_voice_losses(struct th_voice_rig *r);
/* For cmocka tests on one rig: th_voice_wait_path from mouth to ear, or
 * th_voice_dump and the test fails naming both; and the teardown that
 * stops whichever clients a test started. */
void th_voice_require_path(struct th_voice_rig *r, const char *mouth_sink, const char *ear_source);
void th_voice_clients_stop(struct th_voice_rig *r);
/* What to look at when a click did not come: `thetactl voice` and
 * `clients` on both daemons, then (stopping them) what each client said. */
void th_voice_dump(struct th_voice_rig *r);
/* Prints a run: clicks, onsets, pairs and each latency. */
void th_voice_print_run(const char *what, const struct th_voice_run *run);

/* p (0..100) percentile of the paired latencies in ms; -1 when none. */
double th_voice_latency_ms(const struct th_voice_run *run, double p);
