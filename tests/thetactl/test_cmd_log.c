/* thetactl log verify: exit status and the one line naming the first bad
 * record, on real log directories and single segment files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pty.h>
#include <sodium.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_log.h"
#include "th_harness.h"
#include "th_logfile.h"
#include "th_logtest.h"

struct fx {
	char dir[256];
	char seg[512];
	size_t off[8];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct lt_author a;
	struct lt_seg s;
	struct th_logrec_entry e;
	uint8_t h[32], payload[16] = { 0 };
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	lt_author_init(&a, 9);
	lt_seg_begin(&s, 1);
	for (int i = 0; i < 4; i++) {
		lt_entry(&a, (uint64_t)i + 1, 3, payload, sizeof(payload), true, &e, h);
		f->off[i] = lt_seg_add(&s, &e, (uint64_t)i + 1, TH_LOGREC_F_BATCH_END);
	}
	assert_int_equal(lt_seg_write(&s, f->dir), 0);
	th_logseg_path(f->dir, 1, f->seg, sizeof(f->seg));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	th_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Runs the command with stdout captured into out. */
static int run(char *out, size_t cap, int argc, char **argv)
{
	fflush(stdout);
	int saved = dup(1);
	FILE *tmp = tmpfile();
	dup2(fileno(tmp), 1);
	int rc = ctl_cmd_log_verify(NULL, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, cap - 1, tmp);
	out[n] = 0;
	fclose(tmp);
	return rc;
}

/* Runs the command with stdout and stderr captured; stderr may be a
 * terminal (a pty whose master side is read back into err). */
static int run2(char *out, size_t cap, char *err, size_t ecap, bool tty, int argc, char **argv)
{
	fflush(stdout);
	fflush(stderr);
	int saved1 = dup(1), saved2 = dup(2), master = -1, slave = -1;
	FILE *t1 = tmpfile(), *t2 = tmpfile();
	dup2(fileno(t1), 1);
	if (tty) {
		assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
		dup2(slave, 2);
	} else {
		dup2(fileno(t2), 2);
	}
	int rc = ctl_cmd_log_verify(NULL, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	rewind(t1);
	size_t n = fread(out, 1, cap - 1, t1);
	out[n] = 0;
	if (tty) {
		close(slave);
		ssize_t k, got = 0;
		while (got < (ssize_t)ecap - 1 && (k = read(master, err + got, ecap - 1 - (size_t)got)) > 0)
			got += k; /* EIO once the slave is closed and drained */
		err[got] = 0;
		close(master);
	} else {
		rewind(t2);
		n = fread(err, 1, ecap - 1, t2);
		err[n] = 0;
	}
	fclose(t1);
	fclose(t2);
	return rc;
}

static void intact_log_exits_zero(void **state)
{
	struct fx *f = *state;
	char out[512];
	char *argv[] = { "verify", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 2, argv), 0);
	assert_non_null(strstr(out, "ok: 4 records"));
	char *argv2[] = { "verify", f->seg, NULL };
	assert_int_equal(run(out, sizeof(out), 2, argv2), 0);
}

/* The scene line follows the ok line: these entries' payloads do not
 * decode, so the fold refuses every one and the scene stays empty. */
static void verify_rebuilds_the_scene_and_at_limits_it(void **state)
{
	struct fx *f = *state;
	char out[2048];
	char *argv[] = { "verify", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 2, argv), 0);
	assert_non_null(strstr(out, "scene at position 4 of 4: world hash "));
	assert_non_null(strstr(out, "  0 entities, 0 meshes"));
	assert_non_null(strstr(out, "4 folded: 0 applied, 4 refused"));
	char *at[] = { "verify", "--at", "2", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 4, at), 0);
	assert_non_null(strstr(out, "scene at position 2 of 4"));
	assert_non_null(strstr(out, "2 folded: 0 applied, 2 refused"));
	char *past[] = { "verify", "--at", "5", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 4, past), 1);
	char *bad[] = { "verify", "--window", "0", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 4, bad), 2);
}

static void flipped_byte_names_record_offset_and_reason(void **state)
{
	struct fx *f = *state;
	char out[512], expect[128];
	assert_int_equal(lt_flip_byte(f->seg, f->off[1] + 40, 0x01), 0);
	char *argv[] = { "verify", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 2, argv), 1);
	snprintf(expect, sizeof(expect), "record 1 at byte %zu: checksum mismatch", f->off[1]);
	assert_memory_equal(out, expect, strlen(expect));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
}

static void truncated_tail_is_reported_too(void **state)
{
	struct fx *f = *state;
	char out[512];
	assert_int_equal(lt_truncate(f->seg, f->off[3] + 10), 0);
	char *argv[] = { "verify", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 2, argv), 1);
	assert_non_null(strstr(out, "record 3 at byte"));
	assert_non_null(strstr(out, "truncated record"));
}

/* Something that is not a log is refused with one sentence naming it,
 * never "ok: 0 records"; a session directory is verified through its
 * log/. */
static void not_a_log_fails_with_a_sentence(void **state)
{
	struct fx *f = *state;
	char out[2048], err[1024], path[600], sess[400];
	struct {
		const char *name, *expect;
	} cases[] = {
		{ "emptydir", "holds no segment files" },
		{ "sessdir", "is a session directory without a log" },
		{ "garbage", "is not a command log segment (it does not start with \"THETALOG\")" },
		{ "empty", "is an empty file, not a command log segment" },
		{ "sessdir2", "log holds no log segments" },
	};
	snprintf(path, sizeof(path), "%s/emptydir", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sessdir", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sessdir/session.conf", f->dir);
	assert_int_equal(lt_write_file(path, "role = host\n", 12), 0);
	snprintf(path, sizeof(path), "%s/garbage", f->dir);
	assert_int_equal(lt_write_file(path, "this is not a log segment, only text\n", 37), 0);
	snprintf(path, sizeof(path), "%s/empty", f->dir);
	assert_int_equal(lt_write_file(path, "", 0), 0);
	snprintf(path, sizeof(path), "%s/sessdir2", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sessdir2/log", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, cases[i].name);
		char *argv[] = { "verify", path, NULL };
		assert_int_equal(run2(out, sizeof(out), err, sizeof(err), false, 2, argv), 1);
		assert_null(strstr(out, "ok:"));
		if (!strstr(err, cases[i].expect) || !strstr(err, path))
			fail_msg("%s: expected '%s' naming the path, got: %s", cases[i].name, cases[i].expect, err);
		assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err)); /* one line */
	}
	/* A device is neither. */
	char *dev[] = { "verify", "/dev/null", NULL };
	assert_int_equal(run2(out, sizeof(out), err, sizeof(err), false, 2, dev), 1);
	assert_non_null(strstr(err, "/dev/null is neither a log directory nor a segment file"));
	/* The session directory around a real log: STATE/sessions/ID holds log/. */
	char seg[700];
	snprintf(sess, sizeof(sess), "%s/sess", f->dir);
	assert_int_equal(mkdir(sess, 0700), 0);
	snprintf(path, sizeof(path), "%s/log", sess);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(seg, sizeof(seg), "%s/0000000000000001.seg", path);
	assert_int_equal(rename(f->seg, seg), 0);
	char *ok[] = { "verify", sess, NULL };
	assert_int_equal(run2(out, sizeof(out), err, sizeof(err), false, 2, ok), 0);
	assert_non_null(strstr(out, "ok: 4 records"));
}

/* On a terminal the scan draws a progress line on stderr and erases it
 * before the result; piped, stderr stays empty. */
static void progress_only_on_a_terminal(void **state)
{
	struct fx *f = *state;
	char out[2048], err[4096];
	char *argv[] = { "verify", f->dir, NULL };
	assert_int_equal(run2(out, sizeof(out), err, sizeof(err), true, 2, argv), 0);
	assert_non_null(strstr(out, "ok: 4 records"));
	assert_non_null(strstr(err, "\rverifying: "));
	assert_non_null(strstr(err, "B / ")); /* bytes of the whole log, known before the scan */
	assert_int_equal(err[strlen(err) - 1], '\r'); /* erased: the cursor back at the start of a blank line */
	assert_int_equal(run2(out, sizeof(out), err, sizeof(err), false, 2, argv), 0);
	assert_string_equal(err, "");
	char *quiet[] = { "verify", "--quiet", f->dir, NULL };
	assert_int_equal(run2(out, sizeof(out), err, sizeof(err), true, 3, quiet), 0);
	assert_string_equal(err, "");
}

static void usage_errors_exit_two(void **state)
{
	struct fx *f = *state;
	char out[512];
	char *a1[] = { "verify", NULL };
	assert_int_equal(run(out, sizeof(out), 1, a1), 2);
	char *a2[] = { "verify", f->dir, "extra", NULL };
	assert_int_equal(run(out, sizeof(out), 3, a2), 2);
	char *a3[] = { "verify", "--bogus", f->dir, NULL };
	assert_int_equal(run(out, sizeof(out), 3, a3), 2);
	char *a4[] = { "verify", "/nonexistent/theta/log", NULL };
	assert_int_equal(run(out, sizeof(out), 2, a4), 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(intact_log_exits_zero),
		T(verify_rebuilds_the_scene_and_at_limits_it),
		T(flipped_byte_names_record_offset_and_reason),
		T(truncated_tail_is_reported_too),
		T(not_a_log_fails_with_a_sentence),
		T(progress_only_on_a_terminal),
		T(usage_errors_exit_two),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
