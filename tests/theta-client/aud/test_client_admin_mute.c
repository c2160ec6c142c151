/* An admin's mute as the muted user's client shows it (docs/voice.md, "The
 * client"): the voice rig (tests/lib/th_voice.h: a private PulseAudio, two
 * real daemons in one session, a real theta-client on B, the member); an
 * admin on A, the host, runs `thetactl mute root` (B's speaker: its user)
 * and then `thetactl unmute root`. B's client says each once, from
 * SESSION_INFO's voice flags, while it runs: "an admin of the session muted
 * you: the others do not hear you", then "an admin of the session unmuted
 * you". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_time.h"
#include "th_voice.h"

#define MUTED_LINE   "theta-client: warning: an admin of the session muted you: the others do not hear you\n"
#define UNMUTED_LINE "theta-client: info: an admin of the session unmuted you\n"

static struct th_voice_rig rig;

static int group_setup(void **state)
{
	(void)state;
	return th_voice_rig_start(&rig, NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	th_voice_rig_stop(&rig);
	return 0;
}

/* How often needle is in what B's client wrote so far. */
static unsigned said(const char *needle)
{
	char *t = th_slurp(rig.c[TH_VOICE_B].out_path);
	unsigned n = 0;
	for (const char *p = t; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(t);
	return n;
}

/* thetactl on A until it succeeds (B's speaker becomes known to the host
 * once B's daemon announced it), within TH_VOICE_WAIT_MS. */
static int ctl_until_ok(const char *cmd)
{
	uint64_t end = th_now_ns() + (uint64_t)TH_VOICE_WAIT_MS * TH_NS_PER_MS;
	int rc;
	while ((rc = th_voice_ctl(&rig, TH_VOICE_A, (const char *const[]){ cmd, "root", NULL })) != 0 &&
	       th_now_ns() < end)
		th_sleep_ns(100 * TH_NS_PER_MS);
	if (rc != 0)
		print_message("thetactl %s root: %d\n%s%s", cmd, rc, rig.out, rig.err);
	return rc;
}

static bool wait_said(const char *needle, unsigned times)
{
	uint64_t end = th_now_ns() + (uint64_t)TH_VOICE_WAIT_MS * TH_NS_PER_MS;
	while (said(needle) < times && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	return said(needle) >= times;
}

static void the_muted_client_says_so_once_each_way(void **state)
{
	(void)state;
	assert_int_equal(th_voice_client_start(&rig, TH_VOICE_B, NULL), 0);
	assert_int_equal(said(MUTED_LINE), 0);
	assert_int_equal(ctl_until_ok("mute"), 0);
	if (!wait_said(MUTED_LINE, 1)) {
		th_voice_dump(&rig);
		fail_msg("B's client never said it was muted");
	}
	assert_int_equal(ctl_until_ok("unmute"), 0);
	assert_true(wait_said(UNMUTED_LINE, 1));
	/* Once each: SESSION_INFO comes about every second, the line only on a
	 * change. */
	th_sleep_ns(2500 * TH_NS_PER_MS);
	assert_int_equal(th_voice_client_stop(&rig, TH_VOICE_B), 0);
	assert_int_equal(said(MUTED_LINE), 1);
	assert_int_equal(said(UNMUTED_LINE), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_muted_client_says_so_once_each_way),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
