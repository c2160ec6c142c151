/* thetactl metrics: a histogram's row says its count, mean and the bucket
 * its median falls in, and in words when there is nothing to say (no
 * observations, a median past the last bound); a counter's row its value.
 * Against a stand-in control socket (tests/lib/th_ctlfake.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "th_ctlfake.h"
#include "th_harness.h"

static char out[65536], err[8192];

static int canned(void *ud, const char *req, char *body, size_t cap)
{
	(void)req;
	return snprintf(body, cap, "%s", (const char *)ud);
}

static const char reply[] =
	"{\"ok\": true, \"result\": {"
	"\"daemon_reloads\": {\"kind\": \"counter\", \"help\": \"reloads\", \"value\": 7}, "
	"\"h_none\": {\"kind\": \"histogram\", \"help\": \"none yet\", \"count\": 0, \"sum\": 0, \"buckets\": "
	"[{\"le\": 0.001, \"count\": 0}, {\"le\": \"+Inf\", \"count\": 0}]}, "
	"\"h_mid\": {\"kind\": \"histogram\", \"help\": \"some\", \"count\": 4, \"sum\": 0.004, \"buckets\": "
	"[{\"le\": 0.0005, \"count\": 1}, {\"le\": 0.001, \"count\": 3}, {\"le\": \"+Inf\", \"count\": 4}]}, "
	"\"h_past\": {\"kind\": \"histogram\", \"help\": \"slow\", \"count\": 2, \"sum\": 20, \"buckets\": "
	"[{\"le\": 1, \"count\": 0}, {\"le\": \"+Inf\", \"count\": 2}]}}}";

/* The table's line for metric name. */
static const char *line_of(const char *name, char *buf, size_t cap)
{
	char key[64];
	snprintf(key, sizeof key, "\n%s ", name);
	const char *l = strstr(out, key);
	if (!l)
		fail_msg("no row for %s:\n%s", name, out);
	l++;
	snprintf(buf, cap, "%.*s", (int)strcspn(l, "\n"), l);
	return buf;
}

static void histogram_rows_say_count_mean_and_median(void **state)
{
	(void)state;
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", c.dir, "metrics", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	char l[512];
	assert_non_null(strstr(line_of("daemon_reloads", l, sizeof l), " 7 "));
	line_of("h_none", l, sizeof l);
	if (!strstr(l, "0 observations") || strstr(l, "median"))
		fail_msg("empty histogram row: %s", l);
	line_of("h_mid", l, sizeof l);
	if (!strstr(l, "4, mean ") || !strstr(l, "median <= ") || strstr(l, "<= -"))
		fail_msg("histogram row: %s", l);
	line_of("h_past", l, sizeof l);
	if (!strstr(l, "2, mean ") || !strstr(l, "median above the last bound") || strstr(l, "<= >"))
		fail_msg("histogram past its bounds: %s", l);
	th_ctlfake_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(histogram_rows_say_count_mean_and_median),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
