/* proto/ipc: INPUT_INFO (the client's input source and interaction
 * profiles) and SESSION_INFO (the daemon's view of the client's session for
 * the overlay): round trips with real values, the F_PATH and F_LIST rules,
 * the list walker and the names of the enums. The generic rules of every
 * field kind are in test_ipc.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipc.h"
#include "th_buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint8_t enc[PROTO_IPC_MAX_MSG];

/* The five profiles theta-client suggests bindings for (docs/input.md). */
static const char *const profiles[] = {
	"/interaction_profiles/khr/simple_controller",
	"/interaction_profiles/oculus/touch_controller",
	"/interaction_profiles/valve/index_controller",
	"/interaction_profiles/htc/vive_controller",
	"/interaction_profiles/microsoft/motion_controller",
};

static void input_info_round_trips_every_profile(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
		struct proto_ipc_input_info m = { .source = PROTO_IPC_INPUT_OPENXR }, d;
		snprintf(m.left, sizeof m.left, "%s", profiles[i]);
		snprintf(m.right, sizeof m.right, "%s", profiles[(i + 1) % 5]);
		int n = proto_ipc_encode_input_info(&m, enc, sizeof enc);
		assert_int_equal(n, 4 + 2 + (int)strlen(m.left) + 2 + (int)strlen(m.right));
		/* Wire layout: u32 source, then each string's u16 length and bytes. */
		assert_int_equal(th_get_le32(enc), PROTO_IPC_INPUT_OPENXR);
		assert_int_equal(th_get_le16(enc + 4), strlen(m.left));
		assert_memory_equal(enc + 6, m.left, strlen(m.left));
		assert_int_equal(proto_ipc_decode_input_info(enc, (size_t)n, &d, NULL), 0);
		assert_int_equal(d.source, PROTO_IPC_INPUT_OPENXR);
		assert_string_equal(d.left, m.left);
		assert_string_equal(d.right, m.right);
	}
	/* No profile active (desktop, or a headset whose controllers are off). */
	struct proto_ipc_input_info m = { .source = PROTO_IPC_INPUT_DESKTOP }, d;
	int n = proto_ipc_encode_input_info(&m, enc, sizeof enc);
	assert_int_equal(n, 8);
	assert_int_equal(proto_ipc_decode_input_info(enc, (size_t)n, &d, NULL), 0);
	assert_string_equal(d.left, "");
	assert_int_equal(d.source, PROTO_IPC_INPUT_DESKTOP);
	/* Reliable, client -> daemon only. */
	assert_int_equal(proto_ipc_desc(PROTO_IPC_T_INPUT_INFO)->cls, PROTO_IPC_RELIABLE);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_INPUT_INFO, PROTO_IPC_CHAN_C2D), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_INPUT_INFO, PROTO_IPC_CHAN_D2C), -EPROTO);
	/* OpenXR's own path limit fits. */
	assert_true(PROTO_IPC_MAX_PROFILE >= 255);
}

static void input_info_refuses_what_is_not_a_profile(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"interaction_profiles/khr/simple_controller", /* relative */
		"/interaction_profiles/khr/",                  /* trailing slash */
		"/interaction_profiles//khr",                  /* empty component */
		"/interaction_profiles/KHR/simple_controller", /* upper case */
		"/interaction_profiles/../user",               /* dots only */
		"/interaction_profiles/./x",
		"/",
		"/a b",
		"/a\x1b[2J",                                   /* a terminal escape */
		"/caf\xc3\xa9",                                /* non-ASCII */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(proto_ipc_path_valid(bad[i], strlen(bad[i])));
		struct proto_ipc_input_info m = { .source = PROTO_IPC_INPUT_OPENXR };
		snprintf(m.right, sizeof m.right, "%s", bad[i]);
		assert_int_equal(proto_ipc_encode_input_info(&m, enc, sizeof enc), -EINVAL);
		/* The same bytes on the wire are refused by the decoder. */
		size_t l = strlen(bad[i]);
		th_put_le32(enc, PROTO_IPC_INPUT_OPENXR);
		th_put_le16(enc + 4, 0);
		th_put_le16(enc + 6, (uint16_t)l);
		memcpy(enc + 8, bad[i], l);
		struct proto_ipc_input_info d;
		const char *why = NULL;
		assert_int_equal(proto_ipc_decode_input_info(enc, 8 + l, &d, &why), -EBADMSG);
		assert_non_null(why);
		assert_non_null(strstr(why, "right"));
	}
	/* Valid odd ones: dots, digits, '-' and '_' inside components. */
	static const char *const good[] = { "", "/a", "/a.b/c-d_e/0", "/...a", "/user/hand/left" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(proto_ipc_path_valid(good[i], strlen(good[i])));
	/* A source past the last is refused. */
	struct proto_ipc_input_info m = { .source = PROTO_IPC_INPUT_MAX + 1 };
	assert_int_equal(proto_ipc_encode_input_info(&m, enc, sizeof enc), -EINVAL);
	/* A profile longer than the limit is refused on the wire. */
	static uint8_t big[8 + PROTO_IPC_MAX_PROFILE + 1];
	th_put_le32(big, PROTO_IPC_INPUT_OPENXR);
	th_put_le16(big + 4, PROTO_IPC_MAX_PROFILE + 1);
	big[6] = '/';
	memset(big + 7, 'a', PROTO_IPC_MAX_PROFILE);
	th_put_le16(big + 6 + PROTO_IPC_MAX_PROFILE + 1, 0);
	struct proto_ipc_input_info d;
	assert_int_equal(proto_ipc_decode_input_info(big, sizeof big, &d, NULL), -EBADMSG);
}

static void session_info_round_trips(void **state)
{
	(void)state;
	struct proto_ipc_session_info m = { .session = 0x0807060504030201ull, .host = PROTO_IPC_SINFO_HOST_REMOTE,
					    .rtt_us = 23456, .peers = 1, .log_pos = 1234567, .speaking = 3 }, d;
	snprintf(m.name, sizeof m.name, "studio");
	snprintf(m.speakers, sizeof m.speakers, "alice\nbob\nZoë");
	int n = proto_ipc_encode_session_info(&m, enc, sizeof enc);
	assert_true(n > 0);
	assert_int_equal(th_get_le64(enc), m.session);
	assert_int_equal(proto_ipc_decode_session_info(enc, (size_t)n, &d, NULL), 0);
	assert_int_equal(d.session, m.session);
	assert_string_equal(d.name, "studio");
	assert_int_equal(d.host, PROTO_IPC_SINFO_HOST_REMOTE);
	assert_int_equal(d.rtt_us, 23456);
	assert_int_equal(d.peers, 1);
	assert_int_equal(d.log_pos, 1234567);
	assert_int_equal(d.speaking, 3);
	assert_string_equal(d.speakers, m.speakers);
	/* Ephemeral, daemon -> client only. */
	assert_int_equal(proto_ipc_desc(PROTO_IPC_T_SESSION_INFO)->cls, PROTO_IPC_EPHEMERAL);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_SESSION_INFO, PROTO_IPC_CHAN_D2C), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_SESSION_INFO, PROTO_IPC_CHAN_C2D), -EPROTO);
	/* What the daemon sends today: nobody speaking. */
	m.speaking = 0;
	m.speakers[0] = '\0';
	n = proto_ipc_encode_session_info(&m, enc, sizeof enc);
	assert_int_equal(proto_ipc_decode_session_info(enc, (size_t)n, &d, NULL), 0);
	assert_string_equal(d.speakers, "");
	/* A host state past the last, a name that is not a list. */
	m.host = PROTO_IPC_SINFO_HOST_MAX + 1;
	assert_int_equal(proto_ipc_encode_session_info(&m, enc, sizeof enc), -EINVAL);
	m.host = PROTO_IPC_SINFO_HOST_LOCAL;
	snprintf(m.speakers, sizeof m.speakers, "alice\n\nbob");
	assert_int_equal(proto_ipc_encode_session_info(&m, enc, sizeof enc), -EINVAL);
	snprintf(m.speakers, sizeof m.speakers, "alice\tbob");
	assert_int_equal(proto_ipc_encode_session_info(&m, enc, sizeof enc), -EINVAL);
}

static void list_walker_splits_and_cuts_names(void **state)
{
	(void)state;
	const char *cur = "alice\nbob\nZoë";
	char name[32];
	assert_int_equal(proto_ipc_list_next(&cur, name, sizeof name), 1);
	assert_string_equal(name, "alice");
	assert_int_equal(proto_ipc_list_next(&cur, name, sizeof name), 1);
	assert_string_equal(name, "bob");
	assert_int_equal(proto_ipc_list_next(&cur, name, sizeof name), 1);
	assert_string_equal(name, "Zoë");
	assert_int_equal(proto_ipc_list_next(&cur, name, sizeof name), 0);
	assert_int_equal(proto_ipc_list_next(&cur, name, sizeof name), 0);
	/* A name too long for the buffer is cut at a character boundary:
	 * "Zoë" in 4 bytes is "Zo" (never half of the two-byte ë). */
	cur = "Zoë\nx";
	char small[4];
	assert_int_equal(proto_ipc_list_next(&cur, small, sizeof small), 1);
	assert_string_equal(small, "Zo");
	assert_int_equal(proto_ipc_list_next(&cur, small, sizeof small), 1);
	assert_string_equal(small, "x");
	/* An empty list has no names; an empty name is an error. */
	cur = "";
	assert_int_equal(proto_ipc_list_next(&cur, name, sizeof name), 0);
	cur = "\nx";
	assert_int_equal(proto_ipc_list_next(&cur, name, sizeof name), -EINVAL);
	assert_int_equal(proto_ipc_list_next(&cur, name, 0), -EINVAL);
	assert_true(proto_ipc_list_valid("a", 1));
	assert_false(proto_ipc_list_valid("a\0b", 3));
	assert_false(proto_ipc_list_valid("\xff", 1));
}

static void enum_names(void **state)
{
	(void)state;
	assert_string_equal(proto_ipc_input_source_str(PROTO_IPC_INPUT_NONE), "none");
	assert_string_equal(proto_ipc_input_source_str(PROTO_IPC_INPUT_DESKTOP), "desktop");
	assert_string_equal(proto_ipc_input_source_str(PROTO_IPC_INPUT_OPENXR), "openxr");
	assert_string_equal(proto_ipc_input_source_str(PROTO_IPC_INPUT_SCRIPT), "script");
	assert_string_equal(proto_ipc_input_source_str(PROTO_IPC_INPUT_MAX + 1), "unknown");
	assert_string_equal(proto_ipc_sinfo_host_str(PROTO_IPC_SINFO_HOST_NONE), "none");
	assert_string_equal(proto_ipc_sinfo_host_str(PROTO_IPC_SINFO_HOST_LOCAL), "local");
	assert_string_equal(proto_ipc_sinfo_host_str(PROTO_IPC_SINFO_HOST_REMOTE), "remote");
	assert_string_equal(proto_ipc_sinfo_host_str(PROTO_IPC_SINFO_HOST_UNKNOWN), "unknown");
	assert_string_equal(proto_ipc_sinfo_host_str(PROTO_IPC_SINFO_HOST_MAX + 1), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(input_info_round_trips_every_profile),
		cmocka_unit_test(input_info_refuses_what_is_not_a_profile),
		cmocka_unit_test(session_info_round_trips),
		cmocka_unit_test(list_walker_splits_and_cuts_names),
		cmocka_unit_test(enum_names),
	};
	return cmocka_run_group_tests_name("proto_ipc_info", tests, NULL, NULL);
}
