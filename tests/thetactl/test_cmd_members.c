/* thetactl session members: the table as the daemon's reply gives it (a
 * stand-in control.sock answers with a list we wrote): local users by name,
 * browser members by display name marked "(browser)" (docs/web.md "Who a
 * browser is"), and a daemon too old to send "kind". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "th_ctlfake.h"
#include "th_harness.h"

static char out[65536], err[8192];

static int canned(void *ud, const char *req, char *body, size_t cap)
{
	return snprintf(body, cap, "%s", (const char *)ud);
}

/* The table line that starts with `who`, or NULL. */
static const char *line_of(const char *who)
{
	size_t n = strlen(who);
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, who, n) && p[n] == ' ')
			return p;
	return NULL;
}

static void browser_members_are_marked(void **state)
{
	(void)state;
	static const char reply[] =
		"{\"ok\": true, \"result\": {\"session\": \"00112233445566778899aabbccddeeff\", \"name\": \"art\", "
		"\"admin_group\": \"theta-admin\", \"members\": ["
		"{\"user\": \"alice\", \"kind\": \"user\", \"uid\": 1001, \"role\": \"editor\", \"clients\": 1},"
		"{\"user\": \"Ada Lovelace\", \"kind\": \"browser\", \"uid\": 3221225472, \"role\": \"viewer\", \"clients\": 1},"
		"{\"user\": \"bob\", \"uid\": 1002, \"role\": \"admin\", \"clients\": 0}]}}";
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", c.dir, "session", "members", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	const char *a = line_of("alice"), *b = line_of("Ada Lovelace (browser)"), *o = line_of("bob");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(o);
	assert_null(line_of("alice (browser)"));
	assert_non_null(strstr(b, "3221225472"));
	assert_non_null(strstr(b, "viewer"));
	th_ctlfake_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(browser_members_are_marked),
	};
	return cmocka_run_group_tests_name("thetactl_members", tests, NULL, NULL);
}
