/* thetactl log verify: exit status and the one line naming the first bad
 * record, on real log directories and single segment files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
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
		T(usage_errors_exit_two),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
