/* thetad/srv/config.c: what a reload keeps until a restart. After
 * srv_config_keep_restart the new configuration differs from the running
 * one in no key srv_config_needs_restart names (so no key can be reported
 * "restart_needed" yet taken at once) and still in every other key that
 * changed. Pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "srv/config.h"

struct seen {
	unsigned restart, other;
	bool log_level;
};

static void on_changed(void *ud, const char *key, const char *was, const char *now)
{
	struct seen *s = ud;
	(void)was;
	(void)now;
	if (srv_config_needs_restart(key))
		s->restart++;
	else
		s->other++;
	if (!strcmp(key, "log_level"))
		s->log_level = true;
}

static void set(struct srv_config *c, const char *key, const char *value)
{
	char msg[256];
	assert_int_equal(srv_config_set(c, key, value, key, msg, sizeof msg), 0);
}

static void a_reload_keeps_the_restart_keys_only(void **state)
{
	(void)state;
	static struct srv_config running, next; /* large: not on the stack */
	srv_config_defaults(&running);
	next = running;
	set(&next, "net.port", "4711");
	set(&next, "web.listen", "127.0.0.1:8443");
	set(&next, "web.root", "/srv/theta-web");
	set(&next, "metrics.listen", "127.0.0.1:9464");
	set(&next, "log_level", "debug");
	struct seen before = { 0 };
	srv_config_diff(&running, &next, on_changed, &before);
	assert_int_equal(before.restart, 4);
	assert_true(before.log_level);

	srv_config_keep_restart(&next, &running);
	struct seen after = { 0 };
	srv_config_diff(&running, &next, on_changed, &after);
	assert_int_equal(after.restart, 0);
	assert_int_equal(after.other, before.other);
	assert_true(after.log_level);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_reload_keeps_the_restart_keys_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
