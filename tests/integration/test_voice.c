/* Voice end to end (issue 14): a private PulseAudio server with a
 * "microphone" and a "speaker" null sink per user, two real thetad in one
 * session (A hosts, B joins), a real `theta-client --headless --voice` on
 * each (tests/lib/th_voice.h).
 *
 * - Clicks played into A's microphone arrive at B's speaker, every one,
 *   in order, nothing extra; A does not hear itself; `thetactl voice
 *   --json` on B counts A's packets; the clients' exit lines count chunks
 *   sent and played.
 * - B's clicks arrive at A's speaker (member -> host).
 * The mouth-to-ear latency is printed from the recordings' capture times,
 * never asserted (that is `make bench-voice`); every wait polls with a
 * generous deadline. A run that lost a click while the daemons counted
 * late or lost frames (the load held a client back: a real-time path drops
 * what comes too late, by design) is measured again, at most
 * TH_VOICE_TRIES times (th_voice_clicks_heard says when); the assertions
 * judge one whole run. The gates (mute, push-to-talk) are test_voice_gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_time.h"
#include "th_voice.h"

#define N_CLICKS  8
#define PERIOD_MS 500
#define SETTLE_MS 5000

static struct th_voice_rig rig;

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

static void clicks_at_a_arrive_at_b_in_order_and_a_does_not_hear_itself(void **state)
{
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_A, NULL), 0);
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_B, NULL), 0);
	/* The path is up once one click made it (clients connected, voice
	 * set up in both daemons, the session's speakers known). */
	th_voice_require_path(&rig, "micA", "spkB.monitor");

	struct th_voice_run run;
	assert_int_equal(th_voice_clicks_heard(&rig, "micA", "spkB.monitor", "spkA.monitor", N_CLICKS, PERIOD_MS,
					       SETTLE_MS, &run),
			 0);
	th_voice_print_run("A -> B", &run);
	assert_int_equal(run.clicks, N_CLICKS);
	assert_int_equal(run.mouth_onsets, N_CLICKS);
	/* Every click came, each after its own and before the next one's. */
	assert_int_equal(run.paired, N_CLICKS);
	for (unsigned i = 0; i < N_CLICKS; i++)
		assert_true(run.lat_ns[i] != UINT64_MAX);
	/* Nothing came that was not played: no duplicate, no echo. */
	assert_int_equal(run.unpaired_ear, 0);
	assert_int_equal(run.ear_onsets, N_CLICKS);
	/* The talker's own speaker stayed silent. */
	assert_int_equal(run.other_onsets, 0);

	/* B's daemon counts A's packets; A's counts its own speaker's. */
	long long pkts_b = th_voice_speakers_sum(&rig, TH_VOICE_B, "packets", true);
	printf("thetactl voice on B: %lld packets from A's speaker\n", pkts_b);
	assert_true(pkts_b > 0);

	assert_int_equal(th_voice_client_stop(&rig, TH_VOICE_A), 0);
	assert_int_equal(th_voice_client_stop(&rig, TH_VOICE_B), 0);
	struct th_voice_exit ea, eb;
	assert_int_equal(th_voice_exit_line(&rig, TH_VOICE_A, &ea), 0);
	assert_int_equal(th_voice_exit_line(&rig, TH_VOICE_B, &eb), 0);
	/* A sent every chunk it captured (the gate is open: at least the
	 * clicks' 4 s); B played at least the clicks (the daemon sends audio
	 * only while someone speaks). */
	printf("A's client: %llu chunks sent; B's: %llu played, %llu underruns\n", (unsigned long long)ea.sent,
	       (unsigned long long)eb.played, (unsigned long long)eb.underruns);
	assert_true(ea.sent >= (uint64_t)N_CLICKS * PERIOD_MS / 10);
	assert_int_equal(ea.gated, 0);
	assert_true(eb.played >= (uint64_t)N_CLICKS * TH_VOICE_BURST_MS / 10);
}

static void clicks_at_the_member_arrive_at_the_host(void **state)
{
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_A, NULL), 0);
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_B, NULL), 0);
	th_voice_require_path(&rig, "micB", "spkA.monitor");
	struct th_voice_run run;
	assert_int_equal(th_voice_clicks_heard(&rig, "micB", "spkA.monitor", "spkB.monitor", N_CLICKS / 2, PERIOD_MS,
					       SETTLE_MS, &run),
			 0);
	th_voice_print_run("B -> A", &run);
	assert_int_equal(run.paired, N_CLICKS / 2);
	assert_int_equal(run.unpaired_ear, 0);
	assert_int_equal(run.ear_onsets, N_CLICKS / 2);
	assert_int_equal(run.other_onsets, 0);
	assert_true(th_voice_speakers_sum(&rig, TH_VOICE_A, "packets", true) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(clicks_at_a_arrive_at_b_in_order_and_a_does_not_hear_itself, teardown),
		cmocka_unit_test_teardown(clicks_at_the_member_arrive_at_the_host, teardown),
	};
	if (th_pulse_skip())
		return 0;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
