/* proto/ctlproto: u32 LE length-prefixed JSON frames on control.sock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ctlproto.h"

static void header_is_little_endian_length(void **state)
{
	uint8_t h[PROTO_CTL_HEADER_BYTES];
	proto_ctl_frame_header(h, 0x01020304);
	const uint8_t want[] = { 4, 3, 2, 1 };
	assert_memory_equal(h, want, 4);
}

static void whole_frame_is_reported_with_header_included(void **state)
{
	uint8_t buf[64];
	const char *json = "{\"cmd\": \"status\"}";
	size_t n = strlen(json), fl = 999;
	proto_ctl_frame_header(buf, (uint32_t)n);
	memcpy(buf + 4, json, n);
	assert_int_equal(proto_ctl_frame_check(buf, 4 + n, PROTO_CTL_MAX_REQUEST, &fl), 1);
	assert_int_equal(fl, 4 + n);
	/* Bytes of the next frame after it do not matter. */
	fl = 999;
	assert_int_equal(proto_ctl_frame_check(buf, sizeof(buf), PROTO_CTL_MAX_REQUEST, &fl), 1);
	assert_int_equal(fl, 4 + n);
}

static void partial_frames_need_more_and_leave_output_alone(void **state)
{
	uint8_t buf[4 + 10] = { 0 };
	size_t fl = 777;
	proto_ctl_frame_header(buf, 10);
	for (size_t len = 0; len < sizeof(buf); len++) {
		assert_int_equal(proto_ctl_frame_check(buf, len, PROTO_CTL_MAX_REQUEST, &fl), 0);
		assert_int_equal(fl, 777);
	}
	assert_int_equal(proto_ctl_frame_check(buf, sizeof(buf), PROTO_CTL_MAX_REQUEST, &fl), 1);
	assert_int_equal(fl, sizeof(buf));
	/* No bytes at all. */
	fl = 777;
	assert_int_equal(proto_ctl_frame_check(NULL, 0, PROTO_CTL_MAX_REQUEST, &fl), 0);
	assert_int_equal(fl, 777);
}

static void empty_frame_is_ebadmsg(void **state)
{
	uint8_t buf[8] = { 0 };
	size_t fl = 777;
	assert_int_equal(proto_ctl_frame_check(buf, 4, PROTO_CTL_MAX_REQUEST, &fl), -EBADMSG);
	assert_int_equal(proto_ctl_frame_check(buf, 8, PROTO_CTL_MAX_REQUEST, &fl), -EBADMSG);
	assert_int_equal(fl, 777);
}

static void oversized_announcement_is_refused_before_the_body_arrives(void **state)
{
	uint8_t buf[4];
	size_t fl = 777;

	proto_ctl_frame_header(buf, PROTO_CTL_MAX_REQUEST);
	assert_int_equal(proto_ctl_frame_check(buf, 4, PROTO_CTL_MAX_REQUEST, &fl), 0); /* at the limit: wait */
	proto_ctl_frame_header(buf, PROTO_CTL_MAX_REQUEST + 1);
	assert_int_equal(proto_ctl_frame_check(buf, 4, PROTO_CTL_MAX_REQUEST, &fl), -EMSGSIZE);
	proto_ctl_frame_header(buf, UINT32_MAX);
	assert_int_equal(proto_ctl_frame_check(buf, 4, PROTO_CTL_MAX_REPLY, &fl), -EMSGSIZE);
	/* The reply limit is larger than the request limit. */
	proto_ctl_frame_header(buf, PROTO_CTL_MAX_REQUEST + 1);
	assert_int_equal(proto_ctl_frame_check(buf, 4, PROTO_CTL_MAX_REPLY, &fl), 0);
	assert_int_equal(fl, 777);
}

static void full_size_frame_at_the_limit_is_accepted(void **state)
{
	static uint8_t buf[4 + PROTO_CTL_MAX_REQUEST];
	size_t fl = 0;
	proto_ctl_frame_header(buf, PROTO_CTL_MAX_REQUEST);
	assert_int_equal(proto_ctl_frame_check(buf, sizeof(buf), PROTO_CTL_MAX_REQUEST, &fl), 1);
	assert_int_equal(fl, sizeof(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_is_little_endian_length),
		cmocka_unit_test(whole_frame_is_reported_with_header_included),
		cmocka_unit_test(partial_frames_need_more_and_leave_output_alone),
		cmocka_unit_test(empty_frame_is_ebadmsg),
		cmocka_unit_test(oversized_announcement_is_refused_before_the_body_arrives),
		cmocka_unit_test(full_size_frame_at_the_limit_is_accepted),
	};
	return cmocka_run_group_tests_name("ctlproto", tests, NULL, NULL);
}
