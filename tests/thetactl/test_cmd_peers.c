/* thetactl peers: by default a block per peer (`wg show`-style: a header
 * line, then indented "field: value" lines that fit 80 columns), the
 * one-line-per-peer table with --wide, the daemon's reply with --json; a
 * member daemon's view lists the members its host announced. A stand-in
 * control.sock answers with a reply we wrote (th_ctlfake); the real
 * daemon's side is tests/integration/test_sessions.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_ctlfake.h"
#include "th_harness.h"

static char out[65536], err[8192];

static int canned(void *ud, const char *req, char *body, size_t cap)
{
	return snprintf(body, cap, "%s", (const char *)ud);
}

static const char reply[] =
	"{\"ok\": true, \"result\": {\"peers\": ["
	"{\"peer_id\": 2, \"key\": \"3bfc12ab9900\", \"address\": \"192.0.2.7:7450\", \"is\": \"member\", "
	"\"role\": \"editor\", \"state\": \"active\", \"rtt_ms\": 0.42, \"jitter_ms\": 0.1, \"loss\": 0.015, "
	"\"bytes\": {\"control\": {\"in\": 1200, \"out\": 900}, \"commands\": {\"in\": 2048, \"out\": 4096}, "
	"\"assets\": {\"in\": 0, \"out\": 0}, \"datagrams\": {\"in\": 5000000, \"out\": 6000000}}}], "
	"\"members\": [{\"peer_id\": 5, \"key\": \"77aa01\", \"role\": \"viewer\"}]}}";

static int run(struct th_ctlfake *c, const char *a1, const char *a2)
{
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", c->dir, "peers", a1, a2, NULL };
	return th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000);
}

static void blocks_by_default(void **state)
{
	(void)state;
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	assert_int_equal(run(&c, NULL, NULL), 0);
	assert_non_null(strstr(out, "peer 2: 3bfc12ab9900\n"));
	assert_non_null(strstr(out, "\n  address: 192.0.2.7:7450\n"));
	assert_non_null(strstr(out, "\n  role: editor\n"));
	assert_non_null(strstr(out, "\n  rtt: 0.42 ms, jitter 0.10 ms, loss 1.5%\n"));
	assert_non_null(strstr(out, "\n  commands: "));
	/* The host's announced member, after a blank line. */
	assert_non_null(strstr(out, "\n\npeer 5: 77aa01\n  is: member (via host)\n  role: viewer\n"));
	/* No table header; every line fits 80 columns. */
	assert_null(strstr(out, "COMMANDS IN/OUT"));
	for (const char *l = out; *l;) {
		size_t n = strcspn(l, "\n");
		if (n > 80)
			fail_msg("a line of %zu columns: %.*s", n, (int)n, l);
		l += n + (l[n] == '\n');
	}
	th_ctlfake_stop(&c);
}

static void wide_is_the_table(void **state)
{
	(void)state;
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	assert_int_equal(run(&c, "--wide", NULL), 0);
	assert_non_null(strstr(out, "PEER"));
	assert_non_null(strstr(out, "COMMANDS IN/OUT"));
	assert_non_null(strstr(out, "member (via host)"));
	assert_null(strstr(out, "  address: "));
	/* --json: the reply itself, whatever the layout flag. */
	assert_int_equal(run(&c, "--wide", "--json"), 0);
	struct json_object *o = json_tokener_parse(out), *list;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "peers", &list));
	assert_int_equal(json_object_array_length(list), 1);
	json_object_put(o);
	th_ctlfake_stop(&c);
}

static void none_says_so(void **state)
{
	(void)state;
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)"{\"ok\": true, \"result\": {\"peers\": []}}");
	assert_int_equal(run(&c, NULL, NULL), 0);
	assert_string_equal(out, "no peers\n");
	th_ctlfake_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocks_by_default),
		cmocka_unit_test(wide_is_the_table),
		cmocka_unit_test(none_says_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
