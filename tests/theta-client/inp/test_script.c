/* theta-client/inp/script.c: the scripted input format and its source. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "inp/script.h"
#include "th_schema.h"

static const char good[] =
	"# a comment line\n"
	"\n"
	"theta-script 1   # header\n"
	"0s      head  pose     0 1.6 0    0 0 0 1\n"
	"0s      left  pose  -0.2 1.2 -0.3 0 0 0 2   # normalised to unit\n"
	"\t10ms  right trigger  0.75\n"
	"10ms    right press    a\n"
	"20.5ms  right release  a\r\n"
	"0.25s   left  thumbstick -1 0.5\n"
	"0.25s   left  grip     1\n"
	"1s      head  position 1 2 3\n"
	"1s      head  rotation 0 1 0 0\n"
	"1.5s    right lost\n"
	"2s      quit\n";

static void parses_every_event_kind(void **state)
{
	struct inp_script *s = NULL;
	struct inp_script_error err;
	assert_int_equal(inp_script_parse(good, strlen(good), &s, &err), 0);
	assert_int_equal(inp_script_count(s), 11);
	const struct inp_script_event *e = inp_script_event(s, 0);
	assert_int_equal(e->kind, INP_EV_POSE);
	assert_int_equal(e->target, INP_TARGET_HEAD);
	assert_int_equal(e->line, 4);
	assert_true(e->v[1] == 1.6f && e->v[6] == 1.0f);
	e = inp_script_event(s, 1);
	assert_true(e->v[6] == 1.0f); /* (0,0,0,2) normalised */
	e = inp_script_event(s, 2);
	assert_int_equal(e->kind, INP_EV_TRIGGER);
	assert_int_equal(e->time_ns, 10000000);
	assert_true(e->v[0] == 0.75f);
	e = inp_script_event(s, 3);
	assert_int_equal(e->kind, INP_EV_PRESS);
	assert_int_equal(e->button, TH_BUTTON_A);
	e = inp_script_event(s, 4);
	assert_int_equal(e->time_ns, 20500000);
	assert_int_equal(e->kind, INP_EV_RELEASE);
	e = inp_script_event(s, 5);
	assert_int_equal(e->kind, INP_EV_THUMBSTICK);
	assert_true(e->v[0] == -1.0f && e->v[1] == 0.5f);
	assert_int_equal(inp_script_event(s, 10)->kind, INP_EV_QUIT);
	assert_null(inp_script_event(s, 11));
	assert_int_equal(inp_script_duration_ns(s), 2000000000ull);
	inp_script_destroy(&s);
	assert_null(s);
}

struct bad_case {
	const char *text;
	unsigned line, column;
	const char *needle;
};

static void bad_scripts_name_line_and_column(void **state)
{
	static const struct bad_case cases[] = {
		{ "", 1, 1, "first line" },
		{ "# only a comment\n", 1, 1, "first line" },
		{ "hello 1\n", 1, 1, "theta-script" },
		{ "theta-script 2\n", 1, 14, "version" },
		{ "theta-script\n", 1, 13, "version expected" },
		{ "theta-script 1\n0s head pose 0 0 0 0 0 0 1 9\n", 2, 28, "unexpected" },
		{ "theta-script 1\n0s nose pose 0 0 0 0 0 0 1\n", 2, 4, "unknown target" },
		{ "theta-script 1\n5 head lost\n", 2, 2, "unit" },
		{ "theta-script 1\n5xs head lost\n", 2, 2, "unit" },
		{ "theta-script 1\n1.s head lost\n", 2, 3, "digits expected" },
		{ "theta-script 1\nabc head lost\n", 2, 1, "time expected" },
		{ "theta-script 1\n2s head lost\n1s head lost\n", 3, 1, "backwards" },
		{ "theta-script 1\n0s head trigger 1\n", 2, 9, "unknown head action" },
		{ "theta-script 1\n0s left trigger 1.5\n", 2, 17, "outside" },
		{ "theta-script 1\n0s left trigger\n", 2, 16, "missing trigger value" },
		{ "theta-script 1\n0s left trigger nan\n", 2, 17, "not a number" },
		{ "theta-script 1\n0s left trigger 0x1\n", 2, 17, "not a number" },
		{ "theta-script 1\n0s left thumbstick 0 -1.01\n", 2, 22, "thumbstick y" },
		{ "theta-script 1\n0s left press z\n", 2, 15, "unknown button" },
		{ "theta-script 1\n0s left press\n", 2, 14, "button name expected" },
		{ "theta-script 1\n0s right rotation 0 0 0 0\n", 2, 19, "zero length" },
		{ "theta-script 1\n0s right position 1 2 1e9\n", 2, 23, "outside" },
		{ "theta-script 1\n0s right\n", 2, 9, "action expected" },
		{ "theta-script 1\n0s\n", 2, 3, "target expected" },
		{ "theta-script 1\n0s head lost\x01\n", 2, 13, "control character" },
		{ "theta-script 1\n100000h head lost\n", 2, 7, "unit" },
		{ "theta-script 1\n100000s head lost\n", 2, 1, "limit" },
		{ "theta-script 1\n0.0000000001s head lost\n", 2, 12, "fraction digits" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct inp_script *s = (struct inp_script *)0x1;
		struct inp_script_error err;
		int r = inp_script_parse(cases[i].text, strlen(cases[i].text), &s, &err);
		char msg[256];
		inp_script_error_format(&err, msg, sizeof msg);
		if (r != -EBADMSG || err.line != cases[i].line || err.column != cases[i].column ||
		    !strstr(err.msg, cases[i].needle))
			fail_msg("case %zu (%s): r=%d, got '%s', want line %u column %u containing '%s'", i,
				 cases[i].text, r, msg, cases[i].line, cases[i].column, cases[i].needle);
		assert_ptr_equal(s, (struct inp_script *)0x1); /* untouched on failure */
	}
}

static void error_format_reads_line_column(void **state)
{
	struct inp_script *s;
	struct inp_script_error err;
	const char *t = "theta-script 1\n\n  0s left press q\n";
	assert_int_equal(inp_script_parse(t, strlen(t), &s, &err), -EBADMSG);
	char buf[256];
	inp_script_error_format(&err, buf, sizeof buf);
	assert_true(strncmp(buf, "line 3, column 17: unknown button 'q'", 36) == 0);
}

static void nul_bytes_and_long_lines_are_rejected(void **state)
{
	struct inp_script *s;
	struct inp_script_error err;
	const char t[] = "theta-script 1\n0s head\0lost\n";
	assert_int_equal(inp_script_parse(t, sizeof t - 1, &s, &err), -EBADMSG);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 8);
	static char longl[INP_SCRIPT_MAX_LINE + 64];
	memset(longl, ' ', sizeof longl);
	memcpy(longl, "theta-script 1\n", 15);
	longl[sizeof longl - 1] = '\n';
	assert_int_equal(inp_script_parse(longl, sizeof longl, &s, &err), -EBADMSG);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "longer"));
}

static void load_reports_missing_file(void **state)
{
	struct inp_script *s;
	struct inp_script_error err;
	assert_true(inp_script_load("/nonexistent/theta.script", &s, &err) < 0);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.msg, "/nonexistent/theta.script"));
}

static void source_replays_events_at_their_time(void **state)
{
	struct inp_script *s;
	assert_int_equal(inp_script_parse(good, strlen(good), &s, NULL), 0);
	struct inp_source *src;
	assert_int_equal(inp_script_source_create(s, &src), 0);
	struct inp_state st;
	inp_state_init(&st);
	assert_int_equal(inp_poll(src, 0, &st), 2);
	assert_true(st.head.valid && st.head.position[1] == 1.6f);
	assert_true(st.hand[INP_LEFT].pose.valid);
	assert_false(st.hand[INP_RIGHT].pose.valid);
	/* A scripted controller aims where its grip is. */
	assert_true(st.hand[INP_LEFT].aim.valid && st.hand[INP_LEFT].aim.position[0] == -0.2f &&
		    st.hand[INP_LEFT].aim.position[2] == -0.3f && st.hand[INP_LEFT].aim.rotation[3] == 1.0f);
	assert_false(st.hand[INP_RIGHT].aim.valid);
	assert_int_equal(inp_poll(src, 9999999, &st), 0);
	assert_int_equal(inp_poll(src, 10000000, &st), 2);
	assert_true(st.hand[INP_RIGHT].trigger == 0.75f);
	assert_int_equal(st.hand[INP_RIGHT].buttons, TH_BUTTON_A);
	assert_int_equal(st.hand[INP_RIGHT].pressed, TH_BUTTON_A);
	assert_int_equal(inp_poll(src, 15000000, &st), 0);
	assert_int_equal(st.hand[INP_RIGHT].pressed, 0); /* edge lasts one poll */
	assert_int_equal(inp_poll(src, 21000000, &st), 1);
	assert_int_equal(st.hand[INP_RIGHT].buttons, 0);
	assert_int_equal(st.hand[INP_RIGHT].released, TH_BUTTON_A);
	assert_int_equal(inp_poll(src, 1999999999, &st), 5);
	assert_true(st.hand[INP_LEFT].grip == 1.0f);
	assert_true(st.head.position[2] == 3.0f && st.head.rotation[1] == 1.0f);
	assert_false(st.hand[INP_RIGHT].pose.valid);
	assert_false(st.quit);
	assert_int_equal(inp_poll(src, UINT64_MAX, &st), 1);
	assert_true(st.quit);
	assert_int_equal(st.events, 11);
	assert_int_equal(inp_haptic(src, INP_LEFT, 1, 1), -EOPNOTSUPP);
	inp_destroy(&src);
	assert_null(src);
}

static void null_source_stays_at_rest(void **state)
{
	struct inp_source *src;
	assert_int_equal(inp_null_create(&src), 0);
	struct inp_state st;
	inp_state_init(&st);
	assert_int_equal(inp_poll(src, 123, &st), 0);
	assert_false(st.head.valid);
	assert_true(st.head.rotation[3] == 1.0f);
	inp_destroy(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_event_kind),
		cmocka_unit_test(bad_scripts_name_line_and_column),
		cmocka_unit_test(error_format_reads_line_column),
		cmocka_unit_test(nul_bytes_and_long_lines_are_rejected),
		cmocka_unit_test(load_reports_missing_file),
		cmocka_unit_test(source_replays_events_at_their_time),
		cmocka_unit_test(null_source_stays_at_rest),
	};
	return cmocka_run_group_tests_name("inp_script", tests, NULL, NULL);
}
