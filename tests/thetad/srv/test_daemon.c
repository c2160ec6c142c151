/* thetad's life cycle, driven as systemd would: the real binary, a notify
 * socket the test owns, signals, config files, socket activation. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "net_client.h"
#include "th_harness.h"

static char out[65536], err[65536];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_ready_status_and_clean_sigterm(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	/* The STATUS= line a person sees in `systemctl status`. */
	assert_int_equal(th_daemon_wait_notify(&d, "STATUS=Ready: control at", 2000), 0);
	assert_non_null(strstr(d.notify_log, "MAINPID="));

	const char *a[] = { "status", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "thetad " THETA_VERSION));
	assert_non_null(strstr(out, d.state_dir));
	assert_non_null(strstr(out, d.runtime_dir));
	assert_non_null(strstr(out, "control.sock"));
	assert_non_null(strstr(out, "clients:"));
	assert_non_null(strstr(out, "sessions:"));

	const char *j[] = { "status", "--json", NULL };
	assert_int_equal(th_ctl(&d, j, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "pid", &v));
	assert_int_equal(json_object_get_int(v), d.pid);
	assert_true(json_object_object_get_ex(o, "runtime_dir", &v));
	assert_string_equal(json_object_get_string(v), d.runtime_dir);
	assert_true(json_object_object_get_ex(o, "uptime_s", &v));
	assert_true(json_object_object_get_ex(o, "clients", &v));
	assert_true(json_object_object_get_ex(o, "sessions", &v));
	json_object_put(o);

	int st;
	assert_int_equal(th_daemon_stop(&d, SIGTERM, 5000, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(d.notify_log, "STOPPING=1"));
	/* The sockets it bound are gone, so thetactl says it is not running. */
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof(sock), "%s/control.sock", d.runtime_dir);
	assert_int_equal(access(sock, F_OK), -1);
	th_daemon_cleanup(&d);
}

static void test_sigint_is_clean_too(void **state)
{
	struct th_daemon_proc d;
	int st;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	assert_int_equal(th_daemon_stop(&d, SIGINT, 5000, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	th_daemon_cleanup(&d);
}

static void test_second_daemon_on_same_runtime_dir_refuses(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	const char *argv[] = { th_bin("thetad"), "--state-dir", d.state_dir, "--runtime-dir", d.runtime_dir, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "another thetad"));
	assert_non_null(strstr(err, d.runtime_dir));
	char pid[32];
	snprintf(pid, sizeof(pid), "pid %d", (int)d.pid);
	assert_non_null(strstr(err, pid));
	/* The first one is unaffected. */
	const char *a[] = { "status", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 0);
	th_daemon_cleanup(&d);
}

static void test_unusable_state_dir_is_one_clear_line(void **state)
{
	char dir[PATH_MAX], file[PATH_MAX + 8], bad[PATH_MAX + 16], run[PATH_MAX + 8];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(bad, sizeof(bad), "%s/file/state", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	write_file(file, "not a directory\n");
	const char *argv[] = { th_bin("thetad"), "--state-dir", bad, "--runtime-dir", run, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "state directory"));
	assert_non_null(strstr(err, bad));
	assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err)); /* one line */
	th_rm_rf(dir);
}

static void test_bad_config_names_file_line_and_key(void **state)
{
	char dir[PATH_MAX], conf[PATH_MAX + 16], s[PATH_MAX + 8], r[PATH_MAX + 8];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	snprintf(conf, sizeof(conf), "%s/thetad.conf", dir);
	snprintf(s, sizeof(s), "%s/s", dir);
	snprintf(r, sizeof(r), "%s/r", dir);
	write_file(conf, "# comment\n[net]\nport = 99999\n");
	const char *argv[] = { th_bin("thetad"), "--state-dir", s, "--runtime-dir", r, "--config", conf, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000);
	assert_int_equal(rc, 1);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s:3: key 'net.port'", conf);
	assert_non_null(strstr(err, want));

	write_file(conf, "bogus_key = 1\n");
	rc = th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "key 'bogus_key': unknown key"));

	/* An explicit --config that does not exist is an error too. */
	snprintf(conf, sizeof(conf), "%s/missing.conf", dir);
	rc = th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 5000);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "missing.conf"));
	th_rm_rf(dir);
}

static void test_sighup_reloads_and_keeps_old_config_on_error(void **state)
{
	struct th_daemon_proc d;
	char conf[PATH_MAX + 16];
	assert_int_equal(th_daemon_prepare(&d), 0);
	snprintf(conf, sizeof(conf), "%s/thetad.conf", d.dir);
	write_file(conf, "log_level = info\n");
	const char *args[] = { "--config", conf, NULL };
	assert_int_equal(th_daemon_spawn(&d, args, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);

	const char *lv[] = { "log-level", NULL };
	assert_int_equal(th_ctl(&d, lv, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "info"));

	/* A good change is applied. */
	write_file(conf, "log_level = debug\n");
	kill(d.pid, SIGHUP);
	assert_int_equal(th_daemon_wait_notify(&d, "RELOADING=1", 5000), 0);
	for (int i = 0; i < 200 && !strstr(out, "debug"); i++) {
		usleep(10000);
		th_ctl(&d, lv, out, sizeof(out), err, sizeof(err));
	}
	assert_non_null(strstr(out, "debug"));

	/* A bad one is rejected, logged, and the old one kept. */
	write_file(conf, "log_level = loud\n");
	kill(d.pid, SIGHUP);
	const char *m[] = { "metrics", "--json", NULL };
	struct json_object *o = NULL, *v, *val;
	for (int i = 0; i < 200; i++) {
		usleep(10000);
		assert_int_equal(th_ctl(&d, m, out, sizeof(out), err, sizeof(err)), 0);
		json_object_put(o);
		o = json_tokener_parse(out);
		if (json_object_object_get_ex(o, "daemon_reload_failures", &v) &&
		    json_object_object_get_ex(v, "value", &val) && json_object_get_int(val) == 1)
			break;
	}
	assert_true(json_object_object_get_ex(o, "daemon_reload_failures", &v));
	assert_true(json_object_object_get_ex(v, "value", &val));
	assert_int_equal(json_object_get_int(val), 1);
	json_object_put(o);
	assert_int_equal(th_ctl(&d, lv, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "debug"));
	assert_non_null(strstr(th_daemon_log(&d), "keeping the old configuration"));
	assert_non_null(strstr(th_daemon_log(&d), "'loud' is not a log level"));
	assert_true(th_daemon_alive(&d));

	/* `thetactl reload` reports the same error to the operator. */
	const char *rl[] = { "reload", NULL };
	assert_int_equal(th_ctl(&d, rl, out, sizeof(out), err, sizeof(err)), 1); /* the file is bad, not the request */
	assert_non_null(strstr(err, "'loud' is not a log level"));
	th_daemon_cleanup(&d);
}

static void test_watchdog_pings_when_asked(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_prepare(&d), 0);
	const char *env[] = { "WATCHDOG_USEC=600000", NULL };
	assert_int_equal(th_daemon_spawn(&d, NULL, env, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);
	/* Two pings: at start and again within the interval. */
	assert_int_equal(th_daemon_wait_notify(&d, "WATCHDOG=1", 2000), 0);
	char *first = strstr(d.notify_log, "WATCHDOG=1");
	for (int i = 0; i < 300 && !strstr(first + 1, "WATCHDOG=1"); i++)
		th_daemon_wait_notify(&d, "\x01", 10);
	assert_non_null(strstr(strstr(d.notify_log, "WATCHDOG=1") + 1, "WATCHDOG=1"));
	th_daemon_cleanup(&d);
}

static void test_no_watchdog_pings_without_watchdog_usec(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	th_daemon_wait_notify(&d, "WATCHDOG=1", 700);
	assert_null(strstr(d.notify_log, "WATCHDOG=1"));
	th_daemon_cleanup(&d);
}

static int listen_unix(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, type, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void test_socket_activation_uses_the_passed_socket(void **state)
{
	struct th_daemon_proc d;
	char sock[PATH_MAX + 16];
	assert_int_equal(th_daemon_prepare(&d), 0);
	mkdir(d.runtime_dir, 0755);
	snprintf(sock, sizeof(sock), "%s/control.sock", d.runtime_dir);
	int fd = listen_unix(sock, SOCK_STREAM);
	struct stat before;
	assert_int_equal(stat(sock, &before), 0);
	assert_int_equal(th_daemon_spawn(&d, NULL, NULL, &fd, 1), 0);
	close(fd);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);

	const char *a[] = { "status", "--json", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "\"socket_activated\": true"));
	/* Same inode: the daemon did not rebind. */
	struct stat after;
	assert_int_equal(stat(sock, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);

	int st;
	assert_int_equal(th_daemon_stop(&d, SIGTERM, 5000, &st), 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	/* systemd owns an activated socket: it must survive the daemon. */
	assert_int_equal(access(sock, F_OK), 0);
	th_daemon_cleanup(&d);
}

static void test_stale_socket_and_lock_from_a_killed_daemon(void **state)
{
	struct th_daemon_proc d;
	int st;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	assert_int_equal(th_daemon_stop(&d, SIGKILL, 5000, &st), 0);
	/* kill -9 leaves control.sock and thetad.lock behind; a restart copes. */
	assert_int_equal(th_daemon_respawn(&d, NULL, NULL, 10000), 0);
	const char *a[] = { "status", NULL };
	assert_int_equal(th_ctl(&d, a, out, sizeof(out), err, sizeof(err)), 0);
	th_daemon_cleanup(&d);
}

static uint64_t denied_count(struct th_daemon_proc *d)
{
	const char *a[] = { "metrics", "--json", NULL };
	assert_int_equal(th_ctl(d, a, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *m, *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "control_denied", &m) && json_object_object_get_ex(m, "value", &v));
	uint64_t x = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	return x;
}

/* log-level is a query that becomes a change with an argument: a caller who
 * may query but not change reads the level, is refused the change with one
 * sentence, and the refusal is counted in control_denied like any other. */
static void test_refused_log_level_change_is_counted_as_denied(void **state)
{
	if (!th_is_root())
		skip(); /* needs root to run thetactl as another uid */
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_prepare(&d), 0);
	char conf[PATH_MAX + 16], sock[PATH_MAX + 16];
	snprintf(conf, sizeof(conf), "%s/thetad.conf", d.dir);
	/* uid 65534 runs with gid 65534 (th_run), Debian's nogroup: a query member. */
	write_file(conf, "[control]\nquery_group = nogroup\n");
	const char *args[] = { "--config", conf, NULL };
	assert_int_equal(th_daemon_spawn(&d, args, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);
	snprintf(sock, sizeof(sock), "%s/control.sock", d.runtime_dir);
	chmod(d.runtime_dir, 0755);
	chmod(d.dir, 0755);
	chmod(sock, 0666); /* the daemon's own check decides, not the socket's mode */
	uint64_t denied = denied_count(&d);

	const char *get[] = { th_bin("thetactl"), "--runtime-dir", d.runtime_dir, "log-level", NULL };
	assert_int_equal(th_run(get, NULL, 65534, out, sizeof(out), err, sizeof(err), 10000), 0);
	assert_non_null(strstr(out, "info"));
	assert_int_equal(denied_count(&d), denied);

	const char *set[] = { th_bin("thetactl"), "--runtime-dir", d.runtime_dir, "log-level", "debug", NULL };
	assert_int_equal(th_run(set, NULL, 65534, out, sizeof(out), err, sizeof(err), 10000), 1);
	assert_non_null(strstr(err, "changing the log level needs root or membership of the admin group"));
	assert_non_null(strstr(err, "uid 65534"));
	assert_int_equal(denied_count(&d), denied + 1);

	/* The level did not change; root may change it, and that is no denial. */
	const char *show[] = { "log-level", NULL }, *change[] = { "log-level", "debug", NULL };
	assert_int_equal(th_ctl(&d, show, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "info"));
	assert_int_equal(th_ctl(&d, change, out, sizeof(out), err, sizeof(err)), 0);
	assert_int_equal(denied_count(&d), denied + 1);
	th_daemon_cleanup(&d);
}

static uint64_t metric_of(struct json_object *o, const char *name)
{
	struct json_object *m, *v;
	if (!json_object_object_get_ex(o, name, &m) || !json_object_object_get_ex(m, "value", &v))
		fail_msg("no metric %s", name);
	return (uint64_t)json_object_get_int64(v);
}

/* The event loop's stall figures are in the metrics (how they are measured:
 * tests/common/test_loop.c, on a simulated clock). */
static void test_metrics_include_the_loop_stall_figures(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(th_ctl(&d, (const char *const[]){ "status", NULL }, out, sizeof(out), err, sizeof(err)), 0);
	assert_int_equal(th_ctl(&d, (const char *const[]){ "metrics", "--json", NULL }, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	assert_true(metric_of(o, "loop_wakeups") >= 3); /* at least the three requests */
	assert_true(metric_of(o, "loop_stall_max_us") >= metric_of(o, "loop_stall_p999_us"));
	assert_true(metric_of(o, "loop_stall_recent_max_us") >= metric_of(o, "loop_stall_recent_p999_us"));
	json_object_put(o);
	th_daemon_cleanup(&d);
}

/* clog.rate_per_s / clog.rate_burst set the per-author token bucket of
 * hosted sessions: with a bucket of 5, a burst of 40 edits from one author
 * is mostly refused for rate; with the defaults (1000 deep) none is. */
static int burst_rejects(const char *conf_text)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_prepare(&d), 0);
	char conf[PATH_MAX + 16];
	snprintf(conf, sizeof(conf), "%s/thetad.conf", d.dir);
	write_file(conf, conf_text);
	const char *args[] = { "--config", conf, NULL };
	assert_int_equal(th_daemon_spawn(&d, args, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);
	assert_int_equal(th_ctl(&d, (const char *const[]){ "session", "host", "--name", "rate", NULL }, out, sizeof(out),
				err, sizeof(err)),
			 0);
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d.runtime_dir, 5000), 0);
	for (int i = 0; i < 40; i++) {
		uint8_t p[8] = { (uint8_t)i };
		assert_true(nc_submit(&c, 7, p, sizeof(p)) > 0);
	}
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	while (c.acks + c.rejects < 40 && th_now_ns() < end)
		assert_true(nc_poll(&c, 100) >= 0);
	assert_int_equal(c.acks + c.rejects, 40);
	int rejects = (int)c.rejects;
	if (rejects)
		assert_non_null(strstr(c.last_reject, "rate"));
	nc_close(&c);
	th_daemon_cleanup(&d);
	return rejects;
}

static void test_the_per_author_rate_is_a_config_key(void **state)
{
	assert_int_equal(burst_rejects("log_level = info\n"), 0);
	int r = burst_rejects("[clog]\nrate_per_s = 5\nrate_burst = 5\n");
	print_message("bucket of 5: %d of 40 refused for rate\n", r);
	assert_true(r >= 20); /* 5 in the bucket, and 5/s refilled while the 40 arrive */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_status_and_clean_sigterm),
		cmocka_unit_test(test_sigint_is_clean_too),
		cmocka_unit_test(test_second_daemon_on_same_runtime_dir_refuses),
		cmocka_unit_test(test_unusable_state_dir_is_one_clear_line),
		cmocka_unit_test(test_bad_config_names_file_line_and_key),
		cmocka_unit_test(test_sighup_reloads_and_keeps_old_config_on_error),
		cmocka_unit_test(test_watchdog_pings_when_asked),
		cmocka_unit_test(test_no_watchdog_pings_without_watchdog_usec),
		cmocka_unit_test(test_socket_activation_uses_the_passed_socket),
		cmocka_unit_test(test_stale_socket_and_lock_from_a_killed_daemon),
		cmocka_unit_test(test_refused_log_level_change_is_counted_as_denied),
		cmocka_unit_test(test_metrics_include_the_loop_stall_figures),
		cmocka_unit_test(test_the_per_author_rate_is_a_config_key),
	};
	return cmocka_run_group_tests_name("thetad life cycle", tests, NULL, NULL);
}
