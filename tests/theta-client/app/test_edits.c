/* The scripted editor behind `theta-client --edits N`. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "app/edits.h"
#include "app/loop.h"
#include "app/transport.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_payload.h"
#include "th_schema.h"

static void payload_is_a_canonical_transform_write(void **state)
{
	uint8_t p[128];
	int n = app_edits_payload(90, p, sizeof p);
	assert_true(n > 8);
	/* What the daemon checks before it signs: a valid component.write. */
	assert_int_equal(th_cmd_payload_check(TH_CMD_COMPONENT_WRITE, p, (size_t)n, NULL), 0);
	struct th_pl_component_write w;
	assert_int_equal(th_pl_decode_component_write(p, (size_t)n, &w, NULL), 0);
	assert_int_equal(w.component, th_component_id(TH_COMP_TRANSFORM));
	struct th_c_transform t;
	assert_int_equal(th_schema_decode(th_component_record(TH_COMP_TRANSFORM), w.value, w.value_len, &t), 0);
	assert_true(t.position[2] > 0.99f); /* 90 degrees round the circle */
	assert_true(t.rotation[3] == 1.0f);
	assert_int_equal(app_edits_payload(0, p, 4), -ENOBUFS);
}

static void pump_keeps_at_most_a_window_in_flight(void **state)
{
	struct app *a;
	struct app_transport *t;
	assert_int_equal(app_create(&(struct app_config){ .no_pacing = true }, &a), 0);
	assert_int_equal(app_null_transport_create(&t), 0);
	assert_int_equal(app_attach(a, NULL, t, NULL), 0);
	struct app_edits e;
	app_edits_init(&e, 10, 0, 4);
	assert_int_equal(e.entity, APP_EDITS_DEMO_ENTITY);
	assert_int_equal(app_edits_pump(&e, a, 0), 4);
	assert_int_equal(app_edits_pump(&e, a, 0), 0); /* nothing answered yet */
	assert_int_equal(app_outbox_len(a), 4);
	assert_int_equal(app_edits_pump(&e, a, 3), 3);
	assert_false(app_edits_done(&e, 3));
	assert_int_equal(app_edits_pump(&e, a, 9), 3); /* only 10 in all */
	assert_int_equal(e.submitted, 10);
	assert_false(app_edits_done(&e, 9));
	assert_true(app_edits_done(&e, 10));
	app_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(payload_is_a_canonical_transform_write),
		cmocka_unit_test(pump_keeps_at_most_a_window_in_flight),
	};
	return cmocka_run_group_tests_name("scripted edits", tests, NULL, NULL);
}
