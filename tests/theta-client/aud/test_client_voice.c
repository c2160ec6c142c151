/* theta-client's voice as a user meets it: the real client linked to a
 * real thetad, its audio on a private PulseAudio (th_pulse) whose null
 * sink micA is the microphone (a tone plays into it throughout) and spkB
 * the speakers. What the exit line counts:
 *   - an open microphone sends chunks to the daemon, none gated;
 *   - --mute sends none: every chunk is gated;
 *   - --ptt sends none until the right thumbstick is held in (a script
 *     presses it), and then sends;
 *   - a missing server with --voice is one sentence and exit 1;
 *   - headless is off by default, said in the line; options for a voice
 *     that is off, and --voice without a daemon, are usage errors. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "th_harness.h"
#include "th_pulse.h"

#define RUN_MS 60000
#define TONE_S 60.0 /* longer than every run */

static struct th_pulse pulse = { .pid = -1 };
static struct th_daemon_proc daemon_ = { .pid = -1 };
static struct th_pulse_player *tone;
static char dir[64];
static char pulse_env[sizeof pulse.env];
static bool skipped;
static char out[65536], err[65536];

static int group_setup(void **state)
{
	(void)state;
	if (th_pulse_skip()) {
		skipped = true;
		return 0;
	}
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	static const char *const sinks[] = { "micA:1", "spkB:2", NULL };
	if (th_pulse_start(&pulse, dir, sinks) < 0)
		return -1;
	snprintf(pulse_env, sizeof pulse_env, "%s", pulse.env);
	if (th_daemon_start(&daemon_, NULL) < 0) {
		fprintf(stderr, "thetad did not start:\n%s\n", th_daemon_log(&daemon_));
		return -1;
	}
	size_t frames = (size_t)(TONE_S * TH_PULSE_RATE);
	int16_t *pcm = malloc(frames * sizeof *pcm);
	assert_non_null(pcm);
	th_pulse_tone(pcm, frames, 1, 440.0, 8000);
	int r = th_pulse_play_start(&pulse, "micA", 1, pcm, frames, &tone);
	free(pcm);
	return r;
}

static int group_teardown(void **state)
{
	(void)state;
	if (skipped)
		return 0;
	th_pulse_play_destroy(&tone);
	th_daemon_stop(&daemon_, 15, 10000, &(int){ 0 });
	th_daemon_cleanup(&daemon_);
	th_pulse_stop(&pulse);
	th_rm_rf(dir);
	return 0;
}

/* The client on the null renderer, linked to the daemon, voice on micA /
 * spkB, with extra arguments (NULL-terminated). Its exit status. */
static int run_client(const char *const *extra, const char *pulse_server_env)
{
	const char *args[TH_RUN_ARGS_MAX];
	unsigned n = 0;
	const char *base[] = { "--renderer", "null", "--runtime-dir", daemon_.runtime_dir, "--voice",
			       "--voice-source", "micA.monitor", "--voice-sink", "spkB", NULL };
	for (unsigned i = 0; base[i]; i++)
		args[n++] = base[i];
	for (unsigned i = 0; extra && extra[i] && n < TH_RUN_ARGS_MAX - 1; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	const char *env[] = { pulse_server_env ? pulse_server_env : pulse_env, NULL };
	int rc = th_run_bin("theta-client", args, env, out, sizeof out, err, sizeof err, RUN_MS);
	if (rc != 0)
		fprintf(stderr, "theta-client exited %d:\n%s\n%s\n", rc, out, err);
	return rc;
}

struct voice_line {
	uint64_t sent, played, underruns, gated, dropped, refused;
};

static void parse_voice(struct voice_line *v)
{
	const char *l = strstr(out, "theta-client: voice: ");
	if (!l)
		fail_msg("no voice line in:\n%s", out);
	int n = sscanf(l,
		       "theta-client: voice: %" SCNu64 " chunks sent, %" SCNu64 " played, %" SCNu64
		       " underruns, %" SCNu64 " gated, %" SCNu64 " dropped, %" SCNu64 " not taken by the link",
		       &v->sent, &v->played, &v->underruns, &v->gated, &v->dropped, &v->refused);
	assert_int_equal(n, 6);
	const char *eol = strchr(l, '\n');
	print_message("%.*s\n", (int)(eol ? (size_t)(eol - l) : strlen(l)), l);
}

static void open_microphone_sends(void **state)
{
	(void)state;
	if (skipped)
		skip();
	const char *a[] = { "--frames", "90", NULL };
	assert_int_equal(run_client(a, NULL), 0);
	assert_non_null(strstr(err, "voice on: open microphone"));
	struct voice_line v;
	parse_voice(&v);
	assert_true(v.sent > 0);
	assert_int_equal(v.gated, 0);
}

static void muted_sends_nothing(void **state)
{
	(void)state;
	if (skipped)
		skip();
	const char *a[] = { "--frames", "90", "--mute", NULL };
	assert_int_equal(run_client(a, NULL), 0);
	struct voice_line v;
	parse_voice(&v);
	assert_int_equal(v.sent, 0);
	assert_int_equal(v.refused, 0);
	assert_true(v.gated > 0);
}

static void push_to_talk_sends_while_held(void **state)
{
	(void)state;
	if (skipped)
		skip();
	/* Not held: nothing goes. */
	const char *a[] = { "--frames", "90", "--ptt", NULL };
	assert_int_equal(run_client(a, NULL), 0);
	struct voice_line v;
	parse_voice(&v);
	assert_int_equal(v.sent, 0);
	assert_true(v.gated > 0);
	/* Held from 0.4 s to 1.2 s (script time: the frames are paced, so
	 * about the same in real time), before and after it is not. */
	char script[sizeof dir + 32];
	snprintf(script, sizeof script, "%s/ptt.script", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("theta-script 1\n"
	      "0.4s right press thumbstick\n"
	      "1.2s right release thumbstick\n"
	      "1.8s quit\n",
	      f);
	assert_int_equal(fclose(f), 0);
	const char *b[] = { "--ptt", "--script", script, NULL };
	assert_int_equal(run_client(b, NULL), 0);
	parse_voice(&v);
	assert_true(v.sent > 0);
	assert_true(v.gated > 0);
}

static void no_server_is_one_sentence(void **state)
{
	(void)state;
	if (skipped)
		skip();
	char env[sizeof dir + 64];
	snprintf(env, sizeof env, "PULSE_SERVER=unix:%s/no-server/native", dir);
	const char *a[] = { "--frames", "3", NULL };
	assert_int_equal(run_client(a, env), 1);
	char want[sizeof dir + 96];
	snprintf(want, sizeof want, "theta-client: error: voice: no PulseAudio server at unix:%s/no-server/native: ",
		 dir);
	assert_non_null(strstr(err, want));
	/* An unknown source names it. */
	const char *b[] = { "--frames", "3", "--voice-source", "mic2", NULL };
	assert_int_equal(run_client(b, NULL), 1);
	assert_non_null(strstr(err, "voice: no such source: mic2 (on the PulseAudio server at "));
}

static void off_by_default_headless_and_usage(void **state)
{
	(void)state;
	const char *env[] = { "THETA_RUNTIME_DIR=", NULL };
	const char *a[] = { "--renderer", "null", "--frames", "2", "--no-pacing", NULL };
	assert_int_equal(th_run_bin("theta-client", a, env, out, sizeof out, err, sizeof err, RUN_MS), 0);
	assert_non_null(strstr(out, "theta-client: voice off (headless: --voice turns it on)\n"));
	const char *b[] = { "--renderer", "null", "--ptt", "--frames", "2", NULL };
	assert_int_equal(th_run_bin("theta-client", b, env, out, sizeof out, err, sizeof err, RUN_MS), 2);
	assert_non_null(strstr(err, "--ptt is for the voice, which is off with this renderer: add --voice"));
	const char *c[] = { "--no-voice", "--mute", "--frames", "2", NULL };
	assert_int_equal(th_run_bin("theta-client", c, env, out, sizeof out, err, sizeof err, RUN_MS), 2);
	assert_non_null(strstr(err, "--mute is for the voice, which is off (--no-voice): drop --no-voice"));
	/* --voice without --runtime-dir is no usage error: the daemon is found at
	 * $THETA_RUNTIME_DIR, else /run/thetad, as thetactl finds it. */
	const char *e[] = { "--renderer", "null", "--voice", "--voice-sink", "", "--frames", "2", NULL };
	assert_int_equal(th_run_bin("theta-client", e, env, out, sizeof out, err, sizeof err, RUN_MS), 2);
	assert_non_null(strstr(err, "--voice-sink wants a PulseAudio sink name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(off_by_default_headless_and_usage),
		cmocka_unit_test(open_microphone_sends),
		cmocka_unit_test(muted_sends_nothing),
		cmocka_unit_test(push_to_talk_sends_while_held),
		cmocka_unit_test(no_server_is_one_sentence),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
