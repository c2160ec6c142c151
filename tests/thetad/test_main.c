/* thetad's command line: --help lists every option with its default and
 * exits 0; every flag is checked before the daemon touches its state or
 * runtime directory, with thetad's own one-line messages (not getopt's),
 * exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <limits.h>
#include <unistd.h>

#include "th_harness.h"

static char out[1 << 16], err[1 << 16];

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void help_lists_options_and_defaults(void **state)
{
	const char *argv[] = { th_bin("thetad"), "--help", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	const char *want[] = { "--state-dir DIR", "/var/lib/thetad", "--runtime-dir DIR", "/run/thetad", "--port N",
			       "7450", "--impair SPEC", "--peer-timeout D", "default: 3s", "--version", "--print-config" };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(out, want[i]))
			fail_msg("thetad --help lacks '%s':\n%s", want[i], out);
	const char *h[] = { th_bin("thetad"), "-h", NULL };
	assert_int_equal(th_run(h, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	assert_non_null(strstr(out, "Usage: thetad"));
}

/* Each bad command line: exit 2, one line of thetad's, and the state and
 * runtime directories it names are never created. */
static void bad_flags_touch_nothing(void **state)
{
	char dir[PATH_MAX], sd[PATH_MAX + 8], rd[PATH_MAX + 8];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	snprintf(sd, sizeof sd, "%s/state", dir);
	snprintf(rd, sizeof rd, "%s/run", dir);
	struct {
		const char *a, *b, *says;
	} bad[] = {
		{ "--impair", "garbage", "--impair needs a spec such as loss=10%" },
		{ "--peer-timeout", "1ms", "--peer-timeout" },
		{ "--peer-timeout", "soon", "--peer-timeout" },
		{ "--log-level", "verbose", "--log-level is debug, info, notice, warning or error, not 'verbose'" },
		{ "--port", "99999", "--port needs a number from 0 to 65535, not '99999'" },
		{ "--bogus", NULL, "unknown option '--bogus'" },
		{ "--version=2", NULL, "option '--version' takes no value" },
		{ "extra", NULL, "unexpected argument 'extra'" },
		{ "--port", NULL, "option '--port' needs a value" }, /* last: the value is missing */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *argv[] = { th_bin("thetad"), "--state-dir", sd, "--runtime-dir", rd, bad[i].a, bad[i].b, NULL };
		int rc = th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000);
		if (rc != 2 || !strstr(err, bad[i].says) || lines(err) != 1 || !strstr(err, "thetad --help"))
			fail_msg("thetad %s %s: exit %d, stderr:\n%s(wanted 2 and one line with '%s')", bad[i].a,
				 bad[i].b ? bad[i].b : "", rc, err, bad[i].says);
		assert_null(strstr(err, "unrecognized")); /* getopt's own words */
		assert_int_equal(access(sd, F_OK), -1);
		assert_int_equal(access(rd, F_OK), -1);
	}
	th_rm_rf(dir);
}

/* --print-config prints what the daemon would run with: the file (none
 * here), then the flags over it. */
static void print_config_shows_the_flags(void **state)
{
	(void)state;
	const char *argv[] = { th_bin("thetad"), "--config", "/dev/null", "--port", "7461", "--log-level", "debug",
			       "--peer-timeout", "750ms", "--print-config", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	if (!strstr(out, "\nport = 7461\n") || !strstr(out, "log_level = debug\n") ||
	    !strstr(out, "\npeer_timeout = 750ms\n"))
		fail_msg("thetad --print-config ignores its flags:\n%s", out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_lists_options_and_defaults),
		cmocka_unit_test(bad_flags_touch_nothing),
		cmocka_unit_test(print_config_shows_the_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
