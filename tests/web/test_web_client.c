/* The browser client's parts that need no browser, under node
 * (tests/web/client_units.mjs imports net.js, edit.js, avatars.js from
 * build/web/js, as the page does): the invite fragment's checks, the refusal of an
 * answer whose certificate is not the invite's, picking, the avatar
 * checks, the editor's CMD_SUBMIT bookkeeping (seq, nonce, resend, ack,
 * reject). */
#include <json-c/json.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "th_harness.h"

#define WC_TIMEOUT_MS 30000

static char out[1 << 16], err[1 << 16];

static void the_clients_pure_parts_behave(void **state)
{
	(void)state;
	char node[PATH_MAX];
	if (!th_find_on_path("node", node, sizeof node)) {
		printf("SKIP: node is not installed (apt-get install nodejs): the client's modules run under it\n");
		skip();
	}
	char dir[PATH_MAX];
	const char *b = getenv("THETA_BUILD");
	snprintf(dir, sizeof dir, "%s/web/js", b && *b ? b : "build");
	const char *argv[] = { node, "tests/web/client_units.mjs", dir, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WC_TIMEOUT_MS);
	struct json_object *o = json_tokener_parse(out);
	if (!o)
		fail_msg("client_units.mjs exited %d without a result: %s", rc, err);
	struct json_object *ok = json_object_object_get(o, "ok");
	if (rc != 0 || !json_object_get_boolean(ok))
		fail_msg("the client's checks failed: %s", json_object_to_json_string(json_object_object_get(o, "failures")));
	assert_true(json_object_get_int(json_object_object_get(o, "checks")) > 30);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_clients_pure_parts_behave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
