/* A group commit that fails on the worker thread, end to end: thetad's
 * state directory is a small tmpfs that the test fills, so the worker's
 * write gets ENOSPC; the edits of that batch are refused to the client
 * (never acked), the daemon reopens the log in place and goes on; once
 * there is room again edits are acked, and the log holds exactly the
 * acknowledged entries and verifies. Needs root (mount). */
#include <json-c/json.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "th_harness.h"

#define TMPFS_OPTS "size=2m,mode=0700"

static char out[1 << 20], err[65536];

static int client(struct th_daemon_proc *d, const char *edits)
{
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--edits", edits,
			       "--no-pacing", NULL };
	return th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), 60000);
}

/* Writes path until the file system is full. */
static void fill(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	for (size_t chunk = sizeof(buf); chunk; chunk /= 2)
		while (write(fd, buf, chunk) == (ssize_t)chunk)
			;
	assert_int_equal(errno, ENOSPC);
	close(fd);
}

static void a_failed_group_commit_is_refused_reopened_and_the_log_goes_on(void **state)
{
	if (!th_is_root()) {
		skip();
		return;
	}
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_prepare(&d), 0);
	if ((mkdir(d.state_dir, 0700) < 0 && errno != EEXIST) ||
	    mount("tmpfs", d.state_dir, "tmpfs", 0, TMPFS_OPTS) < 0) {
		fprintf(stderr, "# no tmpfs at %s: %s\n", d.state_dir, strerror(errno));
		th_daemon_cleanup(&d);
		skip();
		return;
	}
	assert_int_equal(th_daemon_spawn(&d, NULL, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);

	assert_int_equal(client(&d, "20"), 0);
	assert_non_null(strstr(out, "rejected 0"));

	char filler[PATH_MAX + 16];
	snprintf(filler, sizeof(filler), "%s/filler", d.state_dir);
	fill(filler);
	/* Forty edits need more than the last page's slack: some batch fails. */
	assert_int_equal(client(&d, "40"), 1);
	assert_null(strstr(out, "rejected 0"));
	assert_true(th_daemon_metric(&d, "clog_write_failures") >= 1);
	const char *log = th_daemon_log(&d);
	assert_non_null(strstr(log, "writing the log failed"));
	const char *line = strstr(log, "reopened:");
	assert_non_null(line);
	fprintf(stderr, "# %.*s\n", (int)strcspn(line, "\n"), line);
	/* What the failed write left is known here never to have been acked. */
	if (strstr(line, "cut"))
		assert_non_null(strstr(line, "never acknowledged"));
	assert_null(strstr(line, "may have been acknowledged"));
	assert_true(th_daemon_alive(&d));

	/* Room again: the same daemon, the same log, acks again. */
	assert_int_equal(unlink(filler), 0);
	assert_int_equal(client(&d, "10"), 0);
	assert_non_null(strstr(out, "rejected 0"));

	/* Exactly the acknowledged edits are in the log, and it verifies. */
	int64_t acks = th_daemon_metric(&d, "clog_acks");
	assert_true(acks >= 30);
	const char *la[] = { "log", "--json", NULL };
	assert_int_equal(th_ctl(&d, la, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out);
	assert_int_equal((int64_t)json_object_array_length(json_object_object_get(o, "entries")), acks);
	json_object_put(o);
	const char *ss[] = { "sessions", "--json", NULL };
	assert_int_equal(th_ctl(&d, ss, out, sizeof(out), err, sizeof(err)), 0);
	o = json_tokener_parse(out);
	const char *id = json_object_get_string(
		json_object_object_get(json_object_array_get_idx(json_object_object_get(o, "sessions"), 0), "id"));
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/sessions/%s/log", d.state_dir, id);
	json_object_put(o);
	const char *va[] = { th_bin("thetactl"), "log", "verify", dir, NULL };
	assert_int_equal(th_run(va, NULL, -1, out, sizeof(out), err, sizeof(err), 30000), 0);

	int status;
	assert_int_equal(th_daemon_stop(&d, SIGTERM, 10000, &status), 0);
	umount2(d.state_dir, MNT_DETACH);
	th_daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_failed_group_commit_is_refused_reopened_and_the_log_goes_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
