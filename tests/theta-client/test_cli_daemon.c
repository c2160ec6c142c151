/* theta-client finds the daemon as thetactl does: --runtime-dir, else
 * $THETA_RUNTIME_DIR, else /run/thetad; --edits and --require-daemon say in
 * one sentence when no daemon answers (none there, or one that accepts and
 * never answers, after --daemon-timeout); Ctrl-C ends a run with exit 0
 * and no "Interrupted system call". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_harness.h"
#include "th_time.h"

#define WAIT_MS (60 * 1000) /* generous: 2 loaded cores */

static char out[1 << 16], err[1 << 16];

static int lines_with(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void the_default_is_run_thetad(void **state)
{
	struct stat st;
	if (stat("/run/thetad/client.sock", &st) == 0)
		skip(); /* a real daemon on this machine: the default would reach it */
	const char *argv[] = { th_bin("theta-client"), "--renderer", "null", "--edits", "3", NULL };
	const char *env[] = { "THETA_RUNTIME_DIR=", NULL };
	assert_int_equal(th_run(argv, env, -1, out, sizeof out, err, sizeof err, WAIT_MS), 1);
	assert_non_null(strstr(err, "thetad is not running (no daemon at /run/thetad/client.sock)"));
	assert_non_null(strstr(err, "systemctl start thetad"));
	assert_int_equal(lines_with(err, "thetad is not running"), 1);
	assert_null(strstr(err, "--runtime-dir DIR\n--")); /* one sentence, no usage text */
}

/* $THETA_RUNTIME_DIR alone (no --runtime-dir) reaches the daemon, as for
 * thetactl; --runtime-dir wins over it. */
static void the_environment_names_the_daemon(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, NULL), 0);
	char env_dir[PATH_MAX + 32];
	snprintf(env_dir, sizeof env_dir, "THETA_RUNTIME_DIR=%s", d->runtime_dir);
	const char *env[] = { env_dir, NULL };
	const char *argv[] = { th_bin("theta-client"), "--renderer", "null", "--edits", "3", NULL };
	assert_int_equal(th_run(argv, env, -1, out, sizeof out, err, sizeof err, WAIT_MS), 0);
	assert_non_null(strstr(out, "edits 3, answered 3, rejected 0"));
	const char *argv2[] = { th_bin("theta-client"), "--renderer", "null", "--runtime-dir", "/nonexistent/theta",
				"--require-daemon", "--frames", "3", NULL };
	assert_int_equal(th_run(argv2, env, -1, out, sizeof out, err, sizeof err, WAIT_MS), 1);
	assert_non_null(strstr(err, "no daemon at /nonexistent/theta/client.sock"));
	th_daemon_slot_release();
}

/* A socket that accepts (the kernel's backlog) and never answers the hello. */
static void a_daemon_that_never_answers_times_out_in_one_sentence(void **state)
{
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/client.sock", dir);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 4), 0);
	const char *argv[] = { th_bin("theta-client"), "--renderer", "null", "--runtime-dir", dir, "--require-daemon",
			       "--daemon-timeout", "1", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS), 1);
	assert_non_null(strstr(err, "did not answer within 1 s"));
	assert_non_null(strstr(err, "--daemon-timeout"));
	assert_int_equal(lines_with(err, "did not answer"), 1);
	/* --edits waits the same way. */
	const char *argv2[] = { th_bin("theta-client"), "--renderer", "null", "--runtime-dir", dir, "--edits", "2",
				"--daemon-timeout", "1", NULL };
	assert_int_equal(th_run(argv2, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS), 1);
	assert_non_null(strstr(err, "did not answer within 1 s"));
	close(fd);
	th_rm_rf(dir);
	const char *bad[] = { th_bin("theta-client"), "--daemon-timeout", "soon", NULL };
	assert_int_equal(th_run(bad, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS), 2);
	assert_non_null(strstr(err, "--daemon-timeout wants whole seconds"));
}

/* Ctrl-C in the middle of --edits: exit 0, the summary, no EINTR sentence. */
static void ctrl_c_ends_cleanly(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, NULL), 0);
	char opath[PATH_MAX + 16], epath[PATH_MAX + 16];
	snprintf(opath, sizeof opath, "%s/client.out", d->dir);
	snprintf(epath, sizeof epath, "%s/client.err", d->dir);
	/* Paced: 60 edits a second, far from the end when the signal comes. */
	const char *argv[] = { th_bin("theta-client"), "--renderer", "null", "--runtime-dir", d->runtime_dir, "--rate",
			       "60", "--edits", "100000", NULL };
	pid_t pid = th_spawn(argv, NULL, opath, epath);
	assert_true(pid > 0);
	/* Wait until it is linked and edits are answered (its acks reach the log). */
	long long acks = 0;
	for (int i = 0; i < WAIT_MS / 50 && (acks = th_daemon_metric(d, "clog_acks")) < 3; i++)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_true(acks >= 3);
	assert_int_equal(kill(pid, SIGINT), 0);
	int st;
	assert_int_equal(th_wait_pid(pid, WAIT_MS, &st), 0);
	assert_true(WIFEXITED(st));
	char *o = th_slurp(opath), *e = th_slurp(epath);
	assert_non_null(o);
	assert_non_null(e);
	if (WEXITSTATUS(st) != 0 || strstr(e, "Interrupted system call"))
		fail_msg("exit %d after SIGINT:\n%s\n%s", WEXITSTATUS(st), o, e);
	assert_non_null(strstr(o, "stopped (signal) with"));
	assert_non_null(strstr(o, "of 100000 edits answered"));
	free(o);
	free(e);
	th_daemon_slot_release();
}

static int release(void **state)
{
	th_daemon_slot_release();
	return 0;
}

/* --edits waits up to --daemon-timeout for a daemon to come (one being
 * restarted, or started after the client): started later, it gets every
 * edit; with none at all the one sentence comes after the wait. */
static void edits_wait_for_a_daemon_that_comes(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_prepare(d), 0);
	char outp[PATH_MAX + 16], errp[PATH_MAX + 16];
	snprintf(outp, sizeof outp, "%s/client.out", d->dir);
	snprintf(errp, sizeof errp, "%s/client.err", d->dir);
	const char *argv[] = { th_bin("theta-client"), "--renderer", "null", "--runtime-dir", d->runtime_dir,
			       "--edits", "3", "--daemon-timeout", "60", NULL };
	pid_t c = th_spawn(argv, NULL, outp, errp);
	assert_true(c > 0);
	th_sleep_ns(500 * TH_NS_PER_MS); /* the client starts with no daemon there */
	assert_int_equal(th_daemon_spawn(d, NULL, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(d, "READY=1", WAIT_MS), 0);
	int st;
	assert_int_equal(th_wait_pid(c, WAIT_MS, &st), 0);
	char *o = th_slurp(outp), *e = th_slurp(errp);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("theta-client failed: %s", e ? e : "");
	assert_non_null(o);
	assert_non_null(strstr(o, "edits 3, answered 3, rejected 0"));
	free(o);
	free(e);
	/* Nothing comes: the sentence after the wait. */
	const char *none[] = { th_bin("theta-client"), "--renderer", "null", "--runtime-dir", "/nonexistent/theta",
			       "--edits", "2", "--daemon-timeout", "1", NULL };
	assert_int_equal(th_run(none, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS), 1);
	assert_non_null(strstr(err, "thetad is not running (no daemon at /nonexistent/theta/client.sock)"));
	th_daemon_slot_release();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_default_is_run_thetad),
		cmocka_unit_test_teardown(the_environment_names_the_daemon, release),
		cmocka_unit_test(a_daemon_that_never_answers_times_out_in_one_sentence),
		cmocka_unit_test_teardown(ctrl_c_ends_cleanly, release),
		cmocka_unit_test_teardown(edits_wait_for_a_daemon_that_comes, release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
