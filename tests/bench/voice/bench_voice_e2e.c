/* Mouth-to-ear latency and concealment of voice across two daemons on
 * loopback, with the real binaries and a private PulseAudio server
 * (tests/lib/th_voice.h: micA spkA micB spkB null sinks, A hosts, B joins,
 * a `theta-client --headless --voice` on each).
 *
 * Latency: BENCH_CLICKS clicks played into micA, recorded at micA.monitor
 * (mouth) and spkB.monitor (ear); each click's latency is the difference
 * of their capture times. Measured with the daemons' [voice] frame_ms = 10
 * and = 20, and beside them the baseline: tests/tools/pcm_relay (the
 * client's own audio code, theta-client/aud, relaying capture straight to
 * playback: the same PulseAudio streams and 10 ms buffers, no ring, daemon,
 * codec or network) from micA.monitor to spkB, in the same run.
 *   voice.mouth_to_ear_ms.frame10.p50 / .p99   (goal p50 <= 40 ms)
 *   voice.mouth_to_ear_ms.frame20.p50 / .p99   (goal p50 <= 60 ms)
 *   voice.baseline.pcm_relay_ms.p50 / .p99
 *   voice.mouth_to_ear_lost.frame10 / .frame20 (clicks that never came)
 *   voice.mouth_to_ear_ms.frame20.after_suspend.p50 / .p99 / lost: the same
 *     clients after B's speaker sink was suspended for 200 ms and resumed
 *     while A talked
 *
 * Concealment: BENCH_SPEECH_S of synthetic speech (tests/lib/th_voicesig)
 * spoken at A while B's daemon drops 5 % of what it receives (`thetactl
 * impair 'loss=5%'`); B's `thetactl voice --json` counts, for A's speaker,
 * the frames its jitter buffer concealed, over those it played (received
 * + lost); FEC on (default 20 ms frames), and beside it the same with
 * `fec = no`:
 *   voice.concealed_pct (goal <= 2 %), voice.fec_recovered_pct,
 *   voice.baseline.concealed_pct_nofec, voice.loss_measured_pct, and with no
 * loss at all (what the jitter buffer conceals of a clean stream, e.g. at
 * the edges of talkspurts): voice.baseline.concealed_pct_noloss. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"
#include "th_voice.h"
#include "th_voicesig.h"

#define BENCH_CLICKS    40
#define BENCH_PERIOD_MS 250
#define BENCH_SETTLE_MS 3000
#define BENCH_SPEECH_S  12
#define BENCH_LOSS      "loss=5%"
#define BENCH_SUSPEND_MS 200
#define BENCH_TALK_MS    3000 /* th_voicesig speech at A around the suspend (from its 1 s lead-in pause) */
/* The counts settle within a tick or two after the speech ends: poll until
 * two reads a poll apart agree. */
#define BENCH_SETTLE_POLL_NS (200 * TH_NS_PER_MS)

static void fail(struct th_voice_rig *r, const char *what)
{
	fprintf(stderr, "bench_voice_e2e: %s\n", what);
	for (int s = 0; s < 2; s++)
		if (r->d[s].pid > 0)
			fprintf(stderr, "--- thetad %c's log:\n%s\n", "AB"[s], th_daemon_log(&r->d[s]));
	th_voice_rig_stop(r);
	exit(1);
}

/* Clicks from micA to spkB.monitor: p50, p99 and the lost count as figures. */
static void measure_clicks(struct th_voice_rig *r, const char *name)
{
	if (th_voice_wait_path(&r->pa, "micA", "spkB.monitor", TH_VOICE_WAIT_MS) < 0)
		fail(r, "no click reached B's speaker");
	struct th_voice_run run;
	if (th_voice_clicks(&r->pa, "micA", "spkB.monitor", NULL, BENCH_CLICKS, BENCH_PERIOD_MS, BENCH_SETTLE_MS, &run) < 0)
		fail(r, "the clicks could not be played or recorded");
	th_voice_print_run(name, &run);
	if (run.paired == 0)
		fail(r, "no click of the measured run was heard");
	char fig[96];
	double p50 = th_voice_latency_ms(&run, 50), p99 = th_voice_latency_ms(&run, 99);
	if (!strcmp(name, "pcm_relay")) {
		th_bench_figure("voice.baseline.pcm_relay_ms.p50", p50, "ms");
		th_bench_figure("voice.baseline.pcm_relay_ms.p99", p99, "ms");
		return;
	}
	bool ten = !strncmp(name, "frame10", 7);
	snprintf(fig, sizeof fig, "voice.mouth_to_ear_ms.%s.p50", name);
	th_bench_figure_goal(fig, p50, "ms", ten ? "<= 40 ms" : "<= 60 ms", p50 <= (ten ? 40.0 : 60.0));
	snprintf(fig, sizeof fig, "voice.mouth_to_ear_ms.%s.p99", name);
	th_bench_figure(fig, p99, "ms");
	snprintf(fig, sizeof fig, "voice.mouth_to_ear_lost.%s", name);
	th_bench_figure(fig, (double)(run.mouth_onsets - run.paired), "clicks");
}

static void start_clients(struct th_voice_rig *r)
{
	if (th_voice_client_start(r, TH_VOICE_A, NULL) < 0 || th_voice_client_start(r, TH_VOICE_B, NULL) < 0)
		fail(r, "a theta-client did not start");
}

static void latency_with_frames(unsigned frame_ms, bool suspend)
{
	struct th_voice_rig r;
	char conf[64], name[32];
	snprintf(conf, sizeof conf, "frame_ms = %u\n", frame_ms);
	snprintf(name, sizeof name, "frame%u", frame_ms);
	if (th_voice_rig_start(&r, conf) < 0)
		exit(1);
	start_clients(&r);
	measure_clicks(&r, name);
	if (suspend) {
		/* The listener's speakers suspended a moment, as a desktop's
		 * server does, while A talks: what the path keeps of it. */
		size_t n = (size_t)BENCH_TALK_MS * TH_PULSE_RATE / 1000;
		int16_t *talk = calloc(n, sizeof *talk);
		struct th_pulse_player *pl = NULL;
		if (!talk)
			fail(&r, "out of memory");
		th_vs_make(&(struct th_vs_config){ .seed = 7 }, talk, n - n % TH_VS_CHUNK, NULL);
		if (th_pulse_play_start(&r.pa, "micA", 1, talk, n, &pl) < 0)
			fail(&r, "cannot play into micA");
		th_sleep_ns((uint64_t)BENCH_TALK_MS / 2 * TH_NS_PER_MS);
		if (th_pulse_suspend(&r.pa, "spkB", BENCH_SUSPEND_MS) < 0)
			fail(&r, "cannot suspend spkB");
		if (th_pulse_play_wait(pl, BENCH_TALK_MS + TH_VOICE_WAIT_MS) < 0)
			fail(&r, "the talk could not be played");
		th_pulse_play_destroy(&pl);
		free(talk);
		snprintf(name, sizeof name, "frame%u.after_suspend", frame_ms);
		measure_clicks(&r, name);
	}
	th_voice_rig_stop(&r);
}

static void baseline_relay(void)
{
	struct th_voice_rig r;
	if (th_voice_rig_start(&r, NULL) < 0)
		exit(1);
	char out[PATH_MAX];
	snprintf(out, sizeof out, "%s/pcm_relay.out", r.dir);
	const char *argv[] = { th_voice_relay_bin(), "--server", r.pa.server, "--source", "micA.monitor",
			       "--sink", "spkB", NULL };
	pid_t pid = th_spawn(argv, NULL, out, out);
	if (pid < 0)
		fail(&r, "cannot start pcm_relay");
	measure_clicks(&r, "pcm_relay");
	kill(pid, SIGTERM);
	int st = 0;
	if (th_wait_pid(pid, TH_VOICE_WAIT_MS, &st) < 0) {
		kill(pid, SIGKILL);
		th_wait_pid(pid, TH_VOICE_WAIT_MS, &st);
	}
	char *t = th_slurp(out);
	printf("%s", t ? t : "");
	free(t);
	th_voice_rig_stop(&r);
}

struct conceal {
	long long packets, lost, concealed, fec;
};

static bool read_conceal(struct th_voice_rig *r, struct conceal *c)
{
	c->packets = th_voice_speakers_sum(r, TH_VOICE_B, "packets", true);
	c->lost = th_voice_speakers_sum(r, TH_VOICE_B, "frames_lost", true);
	c->concealed = th_voice_speakers_sum(r, TH_VOICE_B, "concealed", true);
	c->fec = th_voice_speakers_sum(r, TH_VOICE_B, "fec_recovered", true);
	return c->packets >= 0 && c->lost >= 0 && c->concealed >= 0 && c->fec >= 0;
}

/* Speech at A with `loss` (NULL: none) into B; returns B's counts for A's speaker. */
static struct conceal concealment(const char *voice_conf, const char *loss)
{
	struct th_voice_rig r;
	if (th_voice_rig_start(&r, voice_conf) < 0)
		exit(1);
	start_clients(&r);
	if (th_voice_wait_path(&r.pa, "micA", "spkB.monitor", TH_VOICE_WAIT_MS) < 0)
		fail(&r, "no click reached B's speaker");
	if (loss && th_voice_ctl(&r, TH_VOICE_B, (const char *const[]){ "impair", loss, NULL }) != 0)
		fail(&r, "thetactl impair failed");
	struct conceal before, after, again;
	if (!read_conceal(&r, &before))
		fail(&r, "thetactl voice --json has no counts for A's speaker");
	size_t n = (size_t)BENCH_SPEECH_S * TH_VS_RATE;
	int16_t *pcm = calloc(n, sizeof *pcm);
	if (!pcm)
		fail(&r, "out of memory");
	th_vs_make(&(struct th_vs_config){ .seed = 14 }, pcm, n, NULL);
	struct th_pulse_player *pl = NULL;
	if (th_pulse_play_start(&r.pa, "micA", 1, pcm, n, &pl) < 0 ||
	    th_pulse_play_wait(pl, BENCH_SPEECH_S * 1000 + TH_VOICE_WAIT_MS) < 0)
		fail(&r, "the speech could not be played");
	th_pulse_play_destroy(&pl);
	free(pcm);
	/* The last frames through the jitter buffer: counts stop moving. */
	uint64_t end = th_now_ns() + (uint64_t)TH_VOICE_WAIT_MS * TH_NS_PER_MS;
	if (!read_conceal(&r, &after))
		fail(&r, "thetactl voice --json failed");
	do {
		th_sleep_ns(BENCH_SETTLE_POLL_NS);
		again = after;
		if (!read_conceal(&r, &after))
			fail(&r, "thetactl voice --json failed");
	} while (memcmp(&again, &after, sizeof after) && th_now_ns() < end);
	th_voice_ctl(&r, TH_VOICE_B, (const char *const[]){ "voice", NULL });
	printf("%s", r.out);
	th_voice_rig_stop(&r);
	return (struct conceal){ .packets = after.packets - before.packets,
				 .lost = after.lost - before.lost,
				 .concealed = after.concealed - before.concealed,
				 .fec = after.fec - before.fec };
}

static double pct(long long part, long long whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

int main(void)
{
	if (!th_pulse_available()) {
		fprintf(stderr, "bench_voice_e2e: pulseaudio is not installed (apt-get install pulseaudio)\n");
		return 1;
	}
	baseline_relay();
	latency_with_frames(10, false);
	latency_with_frames(20, true);

	struct conceal fec = concealment("fec = yes\n", BENCH_LOSS), nofec = concealment("fec = no\n", BENCH_LOSS),
		       clean = concealment("fec = yes\n", NULL);
	long long played_fec = fec.packets + fec.lost, played_nofec = nofec.packets + nofec.lost,
		  played_clean = clean.packets + clean.lost;
	printf("5 %% loss, FEC on: %lld packets, %lld lost, %lld concealed, %lld FEC-recovered\n", fec.packets,
	       fec.lost, fec.concealed, fec.fec);
	printf("5 %% loss, FEC off: %lld packets, %lld lost, %lld concealed\n", nofec.packets, nofec.lost,
	       nofec.concealed);
	printf("no loss, FEC on: %lld packets, %lld lost, %lld concealed\n", clean.packets, clean.lost, clean.concealed);
	double c = pct(fec.concealed, played_fec);
	th_bench_figure_goal("voice.concealed_pct", c, "%", "<= 2 %", c <= 2.0);
	th_bench_figure("voice.fec_recovered_pct", pct(fec.fec, played_fec), "%");
	th_bench_figure("voice.loss_measured_pct", pct(fec.lost, played_fec), "%");
	th_bench_figure("voice.baseline.concealed_pct_nofec", pct(nofec.concealed, played_nofec), "%");
	th_bench_figure("voice.baseline.concealed_pct_noloss", pct(clean.concealed, played_clean), "%");
	return 0;
}
