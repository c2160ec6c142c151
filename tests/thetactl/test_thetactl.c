/* thetactl as a person and a script meet it: exit codes, messages, help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "th_harness.h"
#include "th_time.h"

static char out[65536], err[65536];

static void test_no_daemon_says_where_it_looked_and_how_to_start(void **state)
{
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", dir, "status", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 1);
	assert_non_null(strstr(err, "thetad is not running"));
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "systemctl start thetad"));
	assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err)); /* one line */
	assert_string_equal(out, "");
	th_rm_rf(dir);
}

static void test_runtime_dir_from_environment(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	char env[PATH_MAX + 32];
	snprintf(env, sizeof(env), "THETA_RUNTIME_DIR=%s", d.runtime_dir);
	const char *e[] = { env, NULL };
	const char *argv[] = { th_bin("thetactl"), "status", NULL };
	assert_int_equal(th_run(argv, e, -1, out, sizeof(out), err, sizeof(err), 5000), 0);
	assert_non_null(strstr(out, d.runtime_dir));
	/* The flag wins over the environment. */
	const char *argv2[] = { th_bin("thetactl"), "--runtime-dir", "/nonexistent/theta", "status", NULL };
	assert_int_equal(th_run(argv2, e, -1, out, sizeof(out), err, sizeof(err), 5000), 1);
	assert_non_null(strstr(err, "/nonexistent/theta"));
	th_daemon_cleanup(&d);
}

static void test_usage_errors_exit_2(void **state)
{
	const char *none[] = { th_bin("thetactl"), NULL };
	assert_int_equal(th_run(none, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "Usage:"));
	const char *unk[] = { th_bin("thetactl"), "frobnicate", NULL };
	assert_int_equal(th_run(unk, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
	const char *opt[] = { th_bin("thetactl"), "--bogus", "status", NULL };
	assert_int_equal(th_run(opt, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	const char *subopt[] = { th_bin("thetactl"), "status", "--bogus", NULL };
	assert_int_equal(th_run(subopt, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	/* A known option without its value, or a flag given one, says so. */
	const char *noval[] = { th_bin("thetactl"), "export", "out.glb", "--at", NULL };
	assert_int_equal(th_run(noval, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "option '--at' needs a value"));
	const char *flagval[] = { th_bin("thetactl"), "import", "--dry-run=yes", "in.obj", NULL };
	assert_int_equal(th_run(flagval, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "option '--dry-run' takes no value"));
	const char *unk2[] = { th_bin("thetactl"), "undo", "--bogus", "1", NULL };
	assert_int_equal(th_run(unk2, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	const char *extra[] = { th_bin("thetactl"), "status", "extra", NULL };
	assert_int_equal(th_run(extra, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	/* mute / unmute: one WHO, and --session with its value. */
	const char *nowho[] = { th_bin("thetactl"), "mute", NULL };
	assert_int_equal(th_run(nowho, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "give one WHO"));
	const char *nosess[] = { th_bin("thetactl"), "unmute", "bob", "--session", NULL };
	assert_int_equal(th_run(nosess, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "option '--session' needs a value"));
	const char *unk3[] = { th_bin("thetactl"), "mute", "--bogus", "bob", NULL };
	assert_int_equal(th_run(unk3, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	const char *two[] = { th_bin("thetactl"), "mute", "bob", "carol", NULL };
	assert_int_equal(th_run(two, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "give one WHO"));
	/* The form the manual gives, --session after WHO, is no usage error: it
	 * goes to the daemon (here there is none). */
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	const char *after[] = { th_bin("thetactl"), "--runtime-dir", dir, "mute", "bob", "--session", "s1", NULL };
	assert_int_equal(th_run(after, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 1);
	assert_non_null(strstr(err, "thetad is not running"));
	th_rm_rf(dir);
}

static void test_help_lists_every_command(void **state)
{
	const char *argv[] = { th_bin("thetactl"), "help", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 0);
	const char *want[] = { "status", "metrics", "log-level", "reload", "help", "--timeout SECONDS" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(strstr(out, want[i]));
}

static void test_bad_log_level_is_refused_by_the_daemon(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	const char *a[] = { "log-level", "loud", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 2); /* a usage error */
	assert_non_null(strstr(err, "'loud' is not a log level"));
	const char *b[] = { "log-level", "debug", NULL };
	assert_int_equal(th_ctl(&d, b, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "debug"));
	th_daemon_cleanup(&d);
}

static void changes_print_json_when_asked(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	const char *a[] = { "--json", "log-level", "debug", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "level", &v));
	assert_string_equal(json_object_get_string(v), "debug");
	json_object_put(o);
	const char *b[] = { "--json", "impair", "off", NULL };
	assert_int_equal(th_ctl(&d, b, out, sizeof(out), err, sizeof(err)), 0);
	o = json_tokener_parse(out);
	assert_non_null(o); /* JSON, not the "impairment: off" sentence */
	json_object_put(o);
	th_daemon_cleanup(&d);
}

/* A stand-in for a stuck daemon: control.sock accepts (or, with !accept,
 * only queues) connections and never answers; with dribble, it answers
 * status slowly, a few bytes every FAKE_DRIBBLE_GAP_MS. */
#define FAKE_DRIBBLE_GAP_MS 250
#define FAKE_DRIBBLE_PIECES 16

struct fake_daemon {
	char dir[PATH_MAX];
	char sock[PATH_MAX + 32];
	int lfd, queued;
	bool accept, dribble;
	atomic_bool stop;
	pthread_t thr;
};

static void dribble_reply(int fd)
{
	uint8_t hdr[PROTO_CTL_HEADER_BYTES], req[4096];
	if (recv(fd, req, sizeof(req), 0) <= 0)
		return;
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"ok\": true, \"result\": {\"state\": \"%s\"}}", "slow-but-answering");
	proto_ctl_frame_header(hdr, (uint32_t)n);
	send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL);
	size_t piece = ((size_t)n + FAKE_DRIBBLE_PIECES - 1) / FAKE_DRIBBLE_PIECES;
	for (size_t off = 0; off < (size_t)n; off += piece) {
		th_sleep_ns(FAKE_DRIBBLE_GAP_MS * TH_NS_PER_MS);
		size_t k = (size_t)n - off < piece ? (size_t)n - off : piece;
		send(fd, body + off, k, MSG_NOSIGNAL);
	}
}

static void *fake_run(void *arg)
{
	struct fake_daemon *f = arg;
	int held[16], n_held = 0;
	while (!atomic_load(&f->stop)) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		if (f->dribble) {
			dribble_reply(c);
			close(c);
		} else if (n_held < 16) {
			held[n_held++] = c; /* accepted, read nothing, answer nothing */
		} else {
			close(c);
		}
	}
	for (int i = 0; i < n_held; i++)
		close(held[i]);
	return NULL;
}

static void fake_start(struct fake_daemon *f, bool accept, bool dribble)
{
	memset(f, 0, sizeof(*f));
	f->accept = accept;
	f->dribble = dribble;
	f->queued = -1;
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	snprintf(f->sock, sizeof(f->sock), "%s/control.sock", f->dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Not accepting: a backlog of 0 holds one connection, which we make
	 * ourselves, so the next connect() waits as on a daemon that stopped. */
	assert_int_equal(listen(f->lfd, accept ? 16 : 0), 0);
	if (!accept) {
		f->queued = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(f->queued, (struct sockaddr *)&sa, sizeof(sa)), 0);
	} else {
		assert_int_equal(pthread_create(&f->thr, NULL, fake_run, f), 0);
	}
}

static void fake_stop(struct fake_daemon *f)
{
	atomic_store(&f->stop, true);
	if (f->accept)
		pthread_join(f->thr, NULL);
	if (f->queued >= 0)
		close(f->queued);
	close(f->lfd);
	th_rm_rf(f->dir);
}

static void assert_one_line(const char *s)
{
	assert_non_null(strchr(s, '\n'));
	assert_int_equal(strchr(s, '\n') - s + 1, (long)strlen(s));
}

static void a_daemon_that_never_answers_times_out_with_one_line(void **state)
{
	struct fake_daemon f;
	fake_start(&f, true, false);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", f.dir, "--timeout", "1", "status", NULL };
	/* th_run's own limit is far above the timeout: thetactl must end by itself. */
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 60000), 1);
	assert_non_null(strstr(err, "thetad did not answer 'status' within 1 s"));
	assert_non_null(strstr(err, f.sock));
	assert_one_line(err);
	assert_string_equal(out, "");
	/* Without --timeout the default applies; thetactl still ends by itself. */
	const char *dflt[] = { th_bin("thetactl"), "--runtime-dir", f.dir, "metrics", NULL };
	assert_int_equal(th_run(dflt, NULL, -1, out, sizeof(out), err, sizeof(err), 60000), 1);
	assert_non_null(strstr(err, "did not answer 'metrics' within 5 s"));
	fake_stop(&f);
}

static void a_daemon_that_stopped_accepting_times_out_with_one_line(void **state)
{
	struct fake_daemon f;
	fake_start(&f, false, false);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", f.dir, "--timeout", "1", "status", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 60000), 1);
	assert_non_null(strstr(err, "did not accept the connection"));
	assert_non_null(strstr(err, f.sock));
	assert_one_line(err);
	fake_stop(&f);
}

static void a_reply_that_keeps_arriving_does_not_time_out(void **state)
{
	/* 16 pieces 250 ms apart: 4 s in all, twice the 2 s timeout, but never
	 * 2 s of silence. */
	struct fake_daemon f;
	fake_start(&f, true, true);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", f.dir, "--timeout", "2", "--json", "status", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 60000), 0);
	assert_non_null(strstr(out, "slow-but-answering"));
	fake_stop(&f);
}

static void a_bad_timeout_is_a_usage_error(void **state)
{
	const char *bad[][5] = { { th_bin("thetactl"), "--timeout", "0", "status", NULL },
				 { th_bin("thetactl"), "--timeout", "soon", "status", NULL },
				 { th_bin("thetactl"), "--timeout", "-3", "status", NULL } };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(th_run(bad[i], NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
		assert_non_null(strstr(err, "--timeout needs whole seconds"));
	}
	const char *missing[] = { th_bin("thetactl"), "--timeout", NULL };
	assert_int_equal(th_run(missing, NULL, -1, out, sizeof(out), err, sizeof(err), 5000), 2);
	assert_non_null(strstr(err, "option '--timeout' needs a value"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_daemon_says_where_it_looked_and_how_to_start),
		cmocka_unit_test(test_runtime_dir_from_environment),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_help_lists_every_command),
		cmocka_unit_test(test_bad_log_level_is_refused_by_the_daemon),
		cmocka_unit_test(changes_print_json_when_asked),
		cmocka_unit_test(a_daemon_that_never_answers_times_out_with_one_line),
		cmocka_unit_test(a_daemon_that_stopped_accepting_times_out_with_one_line),
		cmocka_unit_test(a_reply_that_keeps_arriving_does_not_time_out),
		cmocka_unit_test(a_bad_timeout_is_a_usage_error),
	};
	return cmocka_run_group_tests_name("thetactl", tests, NULL, NULL);
}
