/* thetactl's progress line (thetactl/progress.h): the figures it shows for
 * bytes and for entries, and that it stays silent unless stderr is a
 * terminal and --json is off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "progress.h"

#define MiB (1024ull * 1024)

static void counts_are_grouped_by_thousands(void **state)
{
	char b[32];
	ctl_format_count(0, b, sizeof(b));
	assert_string_equal(b, "0");
	ctl_format_count(999, b, sizeof(b));
	assert_string_equal(b, "999");
	ctl_format_count(12000, b, sizeof(b));
	assert_string_equal(b, "12 000");
	ctl_format_count(1234567, b, sizeof(b));
	assert_string_equal(b, "1 234 567");
	ctl_format_count(1234567, b, 6); /* truncated, still terminated */
	assert_string_equal(b, "1 234");
}

static void bytes_show_rate_and_eta(void **state)
{
	char b[CTL_PROGRESS_LINE_MAX];
	ctl_progress_format(b, sizeof(b), "asset put", CTL_PROGRESS_BYTES, 48 * MiB, 200 * MiB, 0, 0.3);
	assert_string_equal(b, "asset put: 48.0MiB / 200.0MiB   24%  160.0MiB/s  ETA 1s");
	/* Too early for a rate: none, and no ETA. */
	ctl_progress_format(b, sizeof(b), "asset put", CTL_PROGRESS_BYTES, 1 * MiB, 200 * MiB, 0, 0.05);
	assert_string_equal(b, "asset put: 1.0MiB / 200.0MiB    0%");
	/* Done: no ETA. */
	ctl_progress_format(b, sizeof(b), "asset get", CTL_PROGRESS_BYTES, 200 * MiB, 200 * MiB, 0, 2.0);
	assert_string_equal(b, "asset get: 200.0MiB / 200.0MiB  100%  100.0MiB/s");
	/* Unknown total: the amount and the rate only. */
	ctl_progress_format(b, sizeof(b), "reading", CTL_PROGRESS_BYTES, 10 * MiB, 0, 0, 1.0);
	assert_string_equal(b, "reading: 10.0MiB  10.0MiB/s");
}

static void entries_count_from_the_first_figure(void **state)
{
	char b[CTL_PROGRESS_LINE_MAX];
	/* 12 000 there at the start, 24 000 four seconds later: 3 000/s, 76 000 left. */
	ctl_progress_format(b, sizeof(b), "catching up", CTL_PROGRESS_ENTRIES, 24000, 100000, 12000, 4.0);
	assert_string_equal(b, "catching up: 24 000 / 100 000 entries   24%  3 000 entries/s  ETA 25s");
	ctl_progress_format(b, sizeof(b), "catching up", CTL_PROGRESS_ENTRIES, 12000, 100000, 12000, 4.0);
	assert_string_equal(b, "catching up: 12 000 / 100 000 entries   12%");
	/* A long wait reads in minutes. */
	ctl_progress_format(b, sizeof(b), "catching up", CTL_PROGRESS_ENTRIES, 1000, 100000, 0, 10.0);
	assert_string_equal(b, "catching up: 1 000 / 100 000 entries    1%  100 entries/s  ETA 16m 30s");
}

/* Runs fn with stderr on a pty or a pipe; what it wrote into out. */
static void with_stderr(bool tty, struct ctl_ctx *ctx, char *out, size_t cap)
{
	int saved = dup(2), rd = -1, wr = -1, p[2];
	if (tty) {
		assert_int_equal(openpty(&rd, &wr, NULL, NULL, NULL), 0);
	} else {
		assert_int_equal(pipe(p), 0);
		rd = p[0];
		wr = p[1];
	}
	dup2(wr, 2);
	struct ctl_progress pr;
	ctl_progress_start(&pr, ctx, "asset put", CTL_PROGRESS_BYTES, 4 * MiB);
	ctl_progress_update(&pr, 0, 0, false);
	ctl_progress_update(&pr, 1 * MiB, 0, true);
	ctl_progress_say(&pr, "waiting");
	ctl_progress_end(&pr);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(wr);
	ssize_t k, got = 0;
	while (got < (ssize_t)cap - 1 && (k = read(rd, out + got, cap - 1 - (size_t)got)) > 0)
		got += k;
	out[got] = 0;
	close(rd);
}

static void silent_unless_a_terminal_without_json(void **state)
{
	char out[2048];
	struct ctl_ctx ctx = { .prog = "thetactl" };
	with_stderr(true, &ctx, out, sizeof(out));
	assert_non_null(strstr(out, "\rasset put: 0B / 4.0MiB    0%"));
	assert_non_null(strstr(out, "\rasset put: 1.0MiB / 4.0MiB   25%"));
	/* A shorter line blanks what the longer one left, then the end erases it. */
	assert_non_null(strstr(out, "\rasset put: waiting "));
	assert_int_equal(out[strlen(out) - 1], '\r');
	with_stderr(false, &ctx, out, sizeof(out));
	assert_string_equal(out, "");
	ctx.json = true;
	with_stderr(true, &ctx, out, sizeof(out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_are_grouped_by_thousands),
		cmocka_unit_test(bytes_show_rate_and_eta),
		cmocka_unit_test(entries_count_from_the_first_figure),
		cmocka_unit_test(silent_unless_a_terminal_without_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
