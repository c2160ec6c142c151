/* Voice gates end to end (issue 14): the rig of test_voice
 * (tests/lib/th_voice.h: a private PulseAudio server, two daemons in one
 * session, a real theta-client on each).
 *
 * - A client started with --mute sends nothing: clicks into its
 *   microphone never reach the other side, while it still hears the other
 *   side (which is how the test knows the path is up and the silence is
 *   the gate's); B's daemon lists no packets from A; A's exit line: 0 chunks
 *   sent.
 * - Push-to-talk (--ptt): with the talk button held (the headset's right
 *   thumbstick click, from a scripted input) clicks arrive; with it never
 *   pressed, nothing is sent.
 * Absence is checked over a settle time far beyond the latency the same
 * run's positive control measured; no latency is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_time.h"
#include "th_voice.h"

#define N_CLICKS  4
#define PERIOD_MS 400
#define SETTLE_MS 2000 /* 10 times the jitter buffer's largest delay */

static struct th_voice_rig rig;
static char script_held[PATH_MAX], script_idle[PATH_MAX];

static void write_script(char *path, size_t len, const char *name, const char *body)
{
	snprintf(path, len, "%s/%s", rig.dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
	return th_voice_rig_start(&rig, NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	th_voice_rig_stop(&rig);
	return 0;
}

static int teardown(void **state)
{
	th_voice_clients_stop(&rig);
	return 0;
}

/* A's clicks do not reach B; B's reach A (the path is up). */
static void assert_a_not_heard(void)
{
	th_voice_require_path(&rig, "micB", "spkA.monitor");
	long long before = th_voice_speakers_sum(&rig, TH_VOICE_B, "packets", true);
	assert_true(before >= 0);
	struct th_voice_run run;
	/* -EAGAIN: the test's own player was held back within a click (the
	 * mouth's recording split it), nothing was measured: play them again. */
	int rc = -EAGAIN;
	for (int t = 0; t < TH_VOICE_TRIES && rc == -EAGAIN; t++)
		rc = th_voice_clicks(&rig.pa, "micA", "spkB.monitor", NULL, N_CLICKS, PERIOD_MS, SETTLE_MS, &run);
	assert_int_equal(rc, 0);
	th_voice_print_run("A (gated) -> B", &run);
	assert_int_equal(run.mouth_onsets, N_CLICKS);
	assert_int_equal(run.ear_onsets, 0);
	assert_int_equal(run.paired, 0);
	/* B's daemon had no packet from A meanwhile. */
	assert_int_equal(th_voice_speakers_sum(&rig, TH_VOICE_B, "packets", true), before);
	assert_int_equal(th_voice_client_stop(&rig, TH_VOICE_A), 0);
	struct th_voice_exit e;
	assert_int_equal(th_voice_exit_line(&rig, TH_VOICE_A, &e), 0);
	assert_int_equal(e.sent, 0);
	/* Its capture ran all along: the gate held back what it captured. */
	assert_true(e.gated >= (uint64_t)N_CLICKS * PERIOD_MS / 10);
	/* ... while it played what B said. */
	assert_true(e.played > 0);
}

static void a_muted_client_is_not_heard_but_hears(void **state)
{
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_A, (const char *const[]){ "--mute", NULL }), 0);
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_B, NULL), 0);
	assert_a_not_heard();
}

static void push_to_talk_never_pressed_sends_nothing(void **state)
{
	write_script(script_idle, sizeof script_idle, "ptt-idle.script", "theta-script 1\n0s head pose 0 1.6 0 0 0 0 1\n");
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_A,
					       (const char *const[]){ "--ptt", "--script", script_idle, NULL }),
			 0);
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_B, NULL), 0);
	assert_a_not_heard();
}

static void push_to_talk_held_is_heard(void **state)
{
	write_script(script_held, sizeof script_held, "ptt-held.script",
		     "theta-script 1\n0s head pose 0 1.6 0 0 0 0 1\n0s right press thumbstick\n");
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_A,
					       (const char *const[]){ "--ptt", "--script", script_held, NULL }),
			 0);
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_B, NULL), 0);
	th_voice_require_path(&rig, "micA", "spkB.monitor");
	struct th_voice_run run;
	/* Measured again when the load lost a click (th_voice_clicks_heard). */
	assert_int_equal(th_voice_clicks_heard(&rig, "micA", "spkB.monitor", NULL, N_CLICKS, PERIOD_MS, SETTLE_MS, &run),
			 0);
	th_voice_print_run("A (talk held) -> B", &run);
	assert_int_equal(run.paired, N_CLICKS);
	assert_int_equal(run.unpaired_ear, 0);
	assert_int_equal(run.ear_onsets, N_CLICKS);
	assert_int_equal(th_voice_client_stop(&rig, TH_VOICE_A), 0);
	struct th_voice_exit e;
	assert_int_equal(th_voice_exit_line(&rig, TH_VOICE_A, &e), 0);
	assert_true(e.sent > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_muted_client_is_not_heard_but_hears, teardown),
		cmocka_unit_test_teardown(push_to_talk_never_pressed_sends_nothing, teardown),
		cmocka_unit_test_teardown(push_to_talk_held_is_heard, teardown),
	};
	if (th_pulse_skip())
		return 0;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
