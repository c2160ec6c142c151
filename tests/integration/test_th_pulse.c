/* tests/lib/th_pulse: a private PulseAudio server with null sinks, a
 * player into one sink and recorders of its monitor. What the voice tests
 * build on: clicks played arrive in order at the monitor, two recorders of
 * one source agree on the capture time of a click, stop ends the server. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "th_harness.h"
#include "th_pulse.h"
#include "th_time.h"

#define WAIT_MS      20000
#define N_CLICKS     6
#define FIRST_MS     200
#define PERIOD_MS    250
#define BURST_MS     30
#define AMP          12000
#define SIGNAL_MS    (FIRST_MS + N_CLICKS * PERIOD_MS)
#define REC_FRAMES   (TH_PULSE_RATE * 30)
#define QUIET_FRAMES (TH_PULSE_RATE * 100 / 1000)

static struct th_tmpdir *tmp(void **state)
{
	return *state;
}

static void test_start_lists_sinks_and_stop_ends_it(void **state)
{
	struct th_pulse p;
	const char *sinks[] = { "micA:1", "spkB:2", NULL };
	assert_int_equal(th_pulse_start(&p, tmp(state)->path, sinks), 0);
	assert_true(th_pulse_alive(&p));
	assert_non_null(strstr(p.env, "PULSE_SERVER=unix:"));
	char out[8192], err[1024], pactl[PATH_MAX];
	if (!th_find_on_path("pactl", pactl, sizeof pactl)) {
		th_pulse_stop(&p);
		printf("SKIP: pactl is not installed (apt-get install pulseaudio-utils)\n");
		skip();
	}
	const char *argv[] = { pactl, "list", "short", "sources", NULL };
	const char *env[] = { p.env, NULL };
	int rc = th_run(argv, env, -1, out, sizeof out, err, sizeof err, WAIT_MS);
	if (rc != 0)
		fprintf(stderr, "pactl: %d %s\n", rc, err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "micA.monitor"));
	assert_non_null(strstr(out, "spkB.monitor"));
	assert_non_null(strstr(out, "s16le 1ch 48000Hz"));
	assert_non_null(strstr(out, "s16le 2ch 48000Hz"));
	pid_t pid = p.pid;
	th_pulse_stop(&p);
	assert_int_equal(p.pid, -1);
	assert_int_equal(kill(pid, 0), -1); /* reaped: no such process */
	assert_false(th_pulse_alive(&p));
	th_pulse_stop(&p); /* safe twice */
}

static void test_bad_sink_refused(void **state)
{
	struct th_pulse p;
	const char *bad[][2] = { { "micA", NULL }, { "mic A:1", NULL }, { "micA:3", NULL }, { ":1", NULL },
				 { "micA:12", NULL } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(th_pulse_start(&p, tmp(state)->path, bad[i]), -EINVAL);
		assert_int_equal(p.pid, -1);
	}
}

static void test_clicks_arrive_in_order_at_the_monitor(void **state)
{
	struct th_pulse p;
	const char *sinks[] = { "micA:1", NULL };
	assert_int_equal(th_pulse_start(&p, tmp(state)->path, sinks), 0);
	struct th_pulse_rec *r1 = NULL, *r2 = NULL;
	assert_int_equal(th_pulse_rec_start(&p, "micA.monitor", 1, REC_FRAMES, &r1), 0);
	assert_int_equal(th_pulse_rec_start(&p, "micA.monitor", 2, REC_FRAMES, &r2), 0);
	size_t frames = (size_t)SIGNAL_MS * TH_PULSE_RATE / 1000;
	int16_t *pcm = calloc(frames, sizeof *pcm);
	assert_non_null(pcm);
	assert_int_equal(th_pulse_clicks(pcm, frames, 1, FIRST_MS, PERIOD_MS, BURST_MS, AMP), N_CLICKS);
	size_t gen[N_CLICKS + 1];
	assert_int_equal(th_pulse_onsets(pcm, 1, 0, frames, AMP / 4, QUIET_FRAMES, gen, N_CLICKS + 1), N_CLICKS);
	for (unsigned i = 0; i < N_CLICKS; i++) /* the 1 ms edge reaches a quarter within its first ms */
		assert_in_range(gen[i], (FIRST_MS + i * PERIOD_MS) * 48u, (FIRST_MS + i * PERIOD_MS) * 48u + 48u);
	struct th_pulse_player *pl = NULL;
	uint64_t t0 = th_now_ns();
	assert_int_equal(th_pulse_play_start(&p, "micA", 1, pcm, frames, &pl), 0);
	assert_int_equal(th_pulse_play_wait(pl, WAIT_MS), 0);
	th_pulse_play_destroy(&pl);
	assert_null(pl);
	/* What was played is at the monitor once both recorders got past it. */
	uint64_t t1[N_CLICKS + 2], t2[N_CLICKS + 2];
	size_t n1 = 0, n2 = 0;
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	size_t from1 = th_pulse_rec_frame_at(r1, t0), from2 = th_pulse_rec_frame_at(r2, t0);
	while (th_now_ns() < end && (n1 < N_CLICKS || n2 < N_CLICKS)) {
		th_sleep_ns(20 * TH_NS_PER_MS);
		n1 = th_pulse_rec_onsets(r1, from1, AMP / 4, QUIET_FRAMES, t1, N_CLICKS + 2);
		n2 = th_pulse_rec_onsets(r2, from2, AMP / 4, QUIET_FRAMES, t2, N_CLICKS + 2);
	}
	assert_int_equal(th_pulse_rec_stop(r1), 0);
	assert_int_equal(th_pulse_rec_stop(r2), 0);
	assert_int_equal(n1, N_CLICKS);
	assert_int_equal(n2, N_CLICKS);
	assert_int_equal(th_pulse_rec_channels(r2), 2);
	/* Stereo recording of a mono sink: the click is on both channels. */
	const int16_t *s2 = th_pulse_rec_pcm(r2);
	size_t f2 = th_pulse_rec_frame_at(r2, t2[0]);
	assert_int_equal(s2[f2 * 2], s2[f2 * 2 + 1]);
	/* The same sample captured twice: the onsets keep their order in both;
	 * how far the two recorders' times differ is printed, not asserted (it
	 * is the scheduling of two threads on a loaded machine). */
	for (unsigned i = 0; i < N_CLICKS; i++) {
		if (i > 0) {
			assert_true(t1[i] > t1[i - 1]);
			assert_true(t2[i] > t2[i - 1]);
		}
		double d = ((double)t2[i] - (double)t1[i]) / 1e6;
		double gap = i ? ((double)t1[i] - (double)t1[i - 1]) / 1e6 : 0;
		printf("click %u: recorder skew %.2f ms, since the previous %.1f ms (played %d ms apart)\n", i, d, gap,
		       PERIOD_MS);
	}
	th_pulse_rec_destroy(&r1);
	th_pulse_rec_destroy(&r2);
	assert_null(r1);
	free(pcm);
	th_pulse_stop(&p);
}

static void test_unknown_sink_and_source_fail(void **state)
{
	struct th_pulse p;
	const char *sinks[] = { "micA:1", NULL };
	assert_int_equal(th_pulse_start(&p, tmp(state)->path, sinks), 0);
	struct th_pulse_rec *r = NULL;
	assert_int_equal(th_pulse_rec_start(&p, "nosuch.monitor", 1, REC_FRAMES, &r), -EIO);
	assert_null(r);
	int16_t pcm[480] = { 0 };
	struct th_pulse_player *pl = NULL;
	assert_int_equal(th_pulse_play_start(&p, "nosuch", 1, pcm, 480, &pl), 0);
	assert_int_equal(th_pulse_play_wait(pl, WAIT_MS), -EIO);
	th_pulse_play_destroy(&pl);
	th_pulse_stop(&p);
}

static void test_pairing(void **state)
{
	/* mouth 100 200 300 400; ear: 130, 135 (a duplicate), 240, none for
	 * 300, 470 for 400 */
	const uint64_t mouth[] = { 100, 200, 300, 400 }, ear[] = { 130, 135, 240, 470 };
	uint64_t lat[4];
	size_t left;
	assert_int_equal(th_pulse_pair(mouth, 4, ear, 4, 80, lat, &left), 3);
	assert_int_equal(lat[0], 30);
	assert_int_equal(lat[1], 40);
	assert_true(lat[2] == UINT64_MAX);
	assert_int_equal(lat[3], 70);
	assert_int_equal(left, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairing),
		cmocka_unit_test_setup_teardown(test_bad_sink_refused, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_start_lists_sinks_and_stop_ends_it, th_tmpdir_setup,
						th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_clicks_arrive_in_order_at_the_monitor, th_tmpdir_setup,
						th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_sink_and_source_fail, th_tmpdir_setup, th_tmpdir_teardown),
	};
	if (th_pulse_skip())
		return 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
