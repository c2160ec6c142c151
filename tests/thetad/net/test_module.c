/* thetad/net/module.c: every refusal code has its own counter, registered at
 * start-up, so refuse() never bumps an empty slot (code 0x110, NO_PEER, had
 * none and a refusal with it dereferenced NULL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "net/net_int.h"
#include "session.h"
#include "th_harness.h"

static char out[1 << 17], err[4096];

static void every_refusal_code_has_its_own_metric(void **state)
{
	assert_null(net_refusal_metric_name(0));
	assert_null(net_refusal_metric_name(PROTO_SESS_ERR_WRONG_FINGERPRINT - 1));
	assert_null(net_refusal_metric_name(PROTO_SESS_ERR_MAX_ + 1));
	for (uint64_t c = PROTO_SESS_ERR_WRONG_FINGERPRINT; c <= PROTO_SESS_ERR_MAX_; c++) {
		const char *n = net_refusal_metric_name(c);
		assert_non_null(n);
		assert_int_equal(strncmp(n, "net_refused_", 12), 0);
		assert_string_not_equal(n, "net_refused_other"); /* each code named */
		for (uint64_t d = PROTO_SESS_ERR_WRONG_FINGERPRINT; d < c; d++)
			assert_string_not_equal(n, net_refusal_metric_name(d));
	}
	assert_string_equal(net_refusal_metric_name(PROTO_SESS_ERR_NO_PEER), "net_refused_no_peer");
}

static void the_daemon_registers_a_counter_for_every_refusal_code(void **state)
{
	struct th_daemon_proc d;
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	assert_int_equal(th_ctl(&d, (const char *const[]){ "--json", "metrics", NULL }, out, sizeof(out), err,
				sizeof(err)),
			 0);
	struct json_object *o = json_tokener_parse(out), *m;
	assert_non_null(o);
	for (uint64_t c = PROTO_SESS_ERR_WRONG_FINGERPRINT; c <= PROTO_SESS_ERR_MAX_; c++) {
		const char *n = net_refusal_metric_name(c);
		if (!json_object_object_get_ex(o, n, &m))
			fail_msg("no counter %s for refusal code 0x%llx", n, (unsigned long long)c);
	}
	json_object_put(o);
	th_daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_refusal_code_has_its_own_metric),
		cmocka_unit_test(the_daemon_registers_a_counter_for_every_refusal_code),
	};
	return cmocka_run_group_tests_name("net_module", tests, NULL, NULL);
}
