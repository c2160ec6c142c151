/* web_dcep: DATA_CHANNEL_OPEN / ACK (RFC 8832). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "web/web_dcep.h"

/* What a browser sends for createDataChannel('theta-pose', {ordered: false,
 * maxRetransmits: 0}): RFC 8832 5.1, written out by hand. */
static const uint8_t open_pose[] = {
	0x03, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00,
	't',  'h',  'e',  't',  'a',  '-',  'p',  'o',  's',  'e',
};

static void a_browser_open_parses(void **state)
{
	struct web_dcep_open o;
	assert_int_equal(web_dcep_parse_open(open_pose, sizeof(open_pose), &o), 0);
	assert_int_equal(o.channel_type, WEB_DCEP_UNORDERED | WEB_DCEP_PARTIAL_RELIABLE_REXMIT);
	assert_true(web_dcep_unordered(o.channel_type));
	assert_int_equal(o.priority, 256);
	assert_int_equal(o.reliability, 0);
	assert_string_equal(o.label, "theta-pose");
	assert_string_equal(o.protocol, "");
}

static void open_round_trips(void **state)
{
	const uint8_t types[] = { 0x00, 0x01, 0x02, 0x80, 0x81, 0x82 };
	for (size_t t = 0; t < sizeof(types); t++) {
		struct web_dcep_open o = { .channel_type = types[t], .priority = 0x1234, .reliability = 0xdeadbeef };
		strcpy(o.label, "theta");
		strcpy(o.protocol, "th\xc3\xa9ta/1"); /* UTF-8 is fine */
		uint8_t buf[512];
		int n = web_dcep_build_open(&o, buf, sizeof(buf));
		assert_int_equal(n, 12 + 5 + 8);
		assert_int_equal(buf[0], WEB_DCEP_OPEN);
		struct web_dcep_open back;
		assert_int_equal(web_dcep_parse_open(buf, (size_t)n, &back), 0);
		assert_int_equal(back.channel_type, o.channel_type);
		assert_int_equal(back.priority, o.priority);
		assert_int_equal(back.reliability, o.reliability);
		assert_string_equal(back.label, o.label);
		assert_string_equal(back.protocol, o.protocol);
		assert_int_equal(web_dcep_unordered(o.channel_type), types[t] >= 0x80);
		assert_int_equal(web_dcep_build_open(&o, buf, (size_t)n - 1), -ENOBUFS);
	}
	/* The longest label and protocol. */
	struct web_dcep_open o = { 0 };
	memset(o.label, 'l', WEB_DCEP_LABEL_MAX);
	memset(o.protocol, 'p', WEB_DCEP_PROTOCOL_MAX);
	uint8_t buf[512];
	int n = web_dcep_build_open(&o, buf, sizeof(buf));
	assert_int_equal(n, 12 + WEB_DCEP_LABEL_MAX + WEB_DCEP_PROTOCOL_MAX);
	struct web_dcep_open back;
	assert_int_equal(web_dcep_parse_open(buf, (size_t)n, &back), 0);
	assert_int_equal(strlen(back.label), WEB_DCEP_LABEL_MAX);
	/* An unknown channel type is not built. */
	o.channel_type = 0x03;
	assert_int_equal(web_dcep_build_open(&o, buf, sizeof(buf)), -EINVAL);
}

static void ack_is_one_byte(void **state)
{
	uint8_t b[4] = { 0 };
	assert_int_equal(web_dcep_build_ack(b, sizeof(b)), 1);
	assert_int_equal(b[0], WEB_DCEP_ACK);
	assert_int_equal(web_dcep_build_ack(b, 0), -ENOBUFS);
	struct web_dcep_open o;
	assert_int_equal(web_dcep_parse_open(b, 1, &o), -ENOTSUP); /* valid, but not an OPEN */
	assert_int_equal(web_dcep_parse_open(b, 2, &o), -EBADMSG);
}

static void malformed_opens_are_refused(void **state)
{
	struct web_dcep_open o;
	memset(&o, 0x5a, sizeof(o));
	struct web_dcep_open before = o;
	uint8_t m[sizeof(open_pose) + 8];
	/* Every truncation and one extra byte. */
	for (size_t n = 0; n < sizeof(open_pose); n++)
		assert_int_equal(web_dcep_parse_open(open_pose, n, &o), -EBADMSG);
	memcpy(m, open_pose, sizeof(open_pose));
	m[sizeof(open_pose)] = 'x';
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose) + 1, &o), -EBADMSG);
	/* Lengths past the end. */
	memcpy(m, open_pose, sizeof(open_pose));
	m[9] = 0x0b;
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	m[9] = 0x0a;
	m[11] = 0x01;
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	m[8] = 0xff;
	m[9] = 0xff;
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	/* Unknown channel types and message types. */
	const uint8_t bad_types[] = { 0x03, 0x04, 0x7f, 0x83, 0xff, 0x40 };
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		memcpy(m, open_pose, sizeof(open_pose));
		m[1] = bad_types[i];
		assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	}
	for (unsigned t = 0; t < 256; t++) {
		if (t == WEB_DCEP_OPEN)
			continue;
		memcpy(m, open_pose, sizeof(open_pose));
		m[0] = (uint8_t)t;
		assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	}
	/* A NUL or invalid UTF-8 in the label or protocol. */
	memcpy(m, open_pose, sizeof(open_pose));
	m[14] = 0;
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	memcpy(m, open_pose, sizeof(open_pose));
	m[14] = 0xc0; /* an overlong start */
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	memcpy(m, open_pose, sizeof(open_pose));
	m[9] = 0x08; /* label "theta-po", protocol "se" */
	m[11] = 0x02;
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), 0);
	assert_string_equal(o.protocol, "se");
	m[21] = 0xff;
	assert_int_equal(web_dcep_parse_open(m, sizeof(open_pose), &o), -EBADMSG);
	/* A label one byte too long. */
	uint8_t big[12 + WEB_DCEP_LABEL_MAX + 1] = { 0x03, 0x00 };
	big[8] = (uint8_t)((WEB_DCEP_LABEL_MAX + 1) >> 8);
	big[9] = (uint8_t)(WEB_DCEP_LABEL_MAX + 1);
	memset(big + 12, 'a', WEB_DCEP_LABEL_MAX + 1);
	assert_int_equal(web_dcep_parse_open(big, sizeof(big), &o), -EBADMSG);
	big[9]--;
	assert_int_equal(web_dcep_parse_open(big, sizeof(big) - 1, &o), 0);
	/* Failures leave *out alone. */
	struct web_dcep_open untouched;
	memset(&untouched, 0x5a, sizeof(untouched));
	assert_int_equal(web_dcep_parse_open(open_pose, 3, &untouched), -EBADMSG);
	assert_memory_equal(&untouched, &before, sizeof(before));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_browser_open_parses),
		cmocka_unit_test(open_round_trips),
		cmocka_unit_test(ack_is_one_byte),
		cmocka_unit_test(malformed_opens_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
