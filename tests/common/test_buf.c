/* th_buf: explicit little-endian encoding, growable writer, bounds-checked reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"

static void le_helpers_write_least_significant_byte_first(void **state)
{
	uint8_t b[8];

	th_put_le16(b, 0x1234);
	assert_int_equal(b[0], 0x34);
	assert_int_equal(b[1], 0x12);
	assert_int_equal(th_get_le16(b), 0x1234);

	th_put_le32(b, 0xA1B2C3D4u);
	const uint8_t e32[] = { 0xD4, 0xC3, 0xB2, 0xA1 };
	assert_memory_equal(b, e32, 4);
	assert_int_equal(th_get_le32(b), 0xA1B2C3D4u);

	th_put_le64(b, UINT64_C(0x0102030405060708));
	const uint8_t e64[] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	assert_memory_equal(b, e64, 8);
	assert_true(th_get_le64(b) == UINT64_C(0x0102030405060708));

	/* High bits survive (no sign extension through int promotion). */
	th_put_le64(b, UINT64_MAX);
	assert_true(th_get_le64(b) == UINT64_MAX);
	assert_true(th_get_le32(b) == UINT32_MAX);
	assert_true(th_get_le16(b) == UINT16_MAX);
}

static void wbuf_values_round_trip_through_rbuf(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u8(&w, 0xFE);
	th_wbuf_u16(&w, 0xBEEF);
	th_wbuf_u32(&w, 0xDEADBEEFu);
	th_wbuf_u64(&w, UINT64_C(0x8000000000000001));
	th_wbuf_str16(&w, "héllo");
	th_wbuf_put(&w, "xyz", 3);
	th_wbuf_str16(&w, "");
	assert_int_equal(th_wbuf_error(&w), 0);
	assert_int_equal(w.len, 1 + 2 + 4 + 8 + 2 + 6 + 3 + 2);
	/* The encoding itself is little-endian, byte for byte. */
	assert_int_equal(w.data[1], 0xEF);
	assert_int_equal(w.data[2], 0xBE);
	assert_int_equal(w.data[15], 6); /* str16 length, low byte */
	assert_int_equal(w.data[16], 0);

	struct th_rbuf r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	char s[16];
	uint8_t raw[3];
	th_rbuf_init(&r, w.data, w.len);
	assert_int_equal(th_rbuf_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xFE);
	assert_int_equal(th_rbuf_u16(&r, &u16), 0);
	assert_int_equal(u16, 0xBEEF);
	assert_int_equal(th_rbuf_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xDEADBEEFu);
	assert_int_equal(th_rbuf_u64(&r, &u64), 0);
	assert_true(u64 == UINT64_C(0x8000000000000001));
	assert_int_equal(th_rbuf_str16(&r, s, sizeof(s)), 0);
	assert_string_equal(s, "héllo");
	assert_int_equal(th_rbuf_bytes(&r, raw, 3), 0);
	assert_memory_equal(raw, "xyz", 3);
	assert_int_equal(th_rbuf_str16(&r, s, sizeof(s)), 0);
	assert_string_equal(s, "");
	assert_int_equal(th_rbuf_left(&r), 0);
	th_wbuf_fini(&w);
	assert_null(w.data);
	assert_int_equal(w.len, 0);
}

static void wbuf_grows_and_keeps_earlier_bytes(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	for (uint32_t i = 0; i < 10000; i++)
		th_wbuf_u32(&w, i * 2654435761u);
	assert_int_equal(th_wbuf_error(&w), 0);
	assert_int_equal(w.len, 40000);
	assert_true(w.cap >= w.len);
	for (uint32_t i = 0; i < 10000; i++)
		assert_int_equal(th_get_le32(w.data + 4 * i), i * 2654435761u);

	/* A single large extend works from an empty buffer. */
	struct th_wbuf big;
	th_wbuf_init(&big, 0);
	uint8_t *p = th_wbuf_extend(&big, 1000000);
	assert_non_null(p);
	memset(p, 0xAB, 1000000);
	assert_int_equal(big.len, 1000000);
	th_wbuf_fini(&big);

	/* reset keeps the allocation but empties the buffer. */
	size_t cap = w.cap;
	th_wbuf_reset(&w);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.cap, cap);
	th_wbuf_u8(&w, 7);
	assert_int_equal(w.len, 1);
	assert_int_equal(w.data[0], 7);
	th_wbuf_fini(&w);
}

static void wbuf_write_past_max_latches_emsgsize(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 10);
	th_wbuf_u64(&w, 1);
	th_wbuf_u16(&w, 2); /* exactly at max: fine */
	assert_int_equal(th_wbuf_error(&w), 0);
	assert_int_equal(w.len, 10);
	assert_true(w.cap <= 10); /* growth is capped at max */

	th_wbuf_u8(&w, 3); /* one past */
	assert_int_equal(th_wbuf_error(&w), -EMSGSIZE);
	assert_int_equal(w.len, 10);
	/* Latched: later writes, even ones that would fit, do nothing. */
	assert_null(th_wbuf_extend(&w, 0));
	th_wbuf_put(&w, "", 0);
	assert_int_equal(w.len, 10);
	assert_int_equal(th_wbuf_error(&w), -EMSGSIZE);

	/* reset clears the latch. */
	th_wbuf_reset(&w);
	assert_int_equal(th_wbuf_error(&w), 0);
	th_wbuf_u32(&w, 5);
	assert_int_equal(th_wbuf_error(&w), 0);
	assert_int_equal(w.len, 4);

	/* An extend whose length overflows size_t is refused, not wrapped. */
	assert_null(th_wbuf_extend(&w, SIZE_MAX));
	assert_int_equal(th_wbuf_error(&w), -EMSGSIZE);
	th_wbuf_fini(&w);

	struct th_wbuf u;
	th_wbuf_init(&u, 0);
	th_wbuf_u8(&u, 1);
	assert_null(th_wbuf_extend(&u, SIZE_MAX));
	assert_int_equal(th_wbuf_error(&u), -EMSGSIZE);
	th_wbuf_fini(&u);
}

static void wbuf_str16_longer_than_u16_latches_emsgsize(void **state)
{
	size_t n = (size_t)UINT16_MAX + 1;
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = 0;

	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_str16(&w, s);
	assert_int_equal(th_wbuf_error(&w), -EMSGSIZE);
	assert_int_equal(w.len, 0); /* nothing half-written */
	th_wbuf_fini(&w);

	/* UINT16_MAX bytes is the largest that fits, and round-trips. */
	s[n - 1] = 0;
	th_wbuf_init(&w, 0);
	th_wbuf_str16(&w, s);
	assert_int_equal(th_wbuf_error(&w), 0);
	assert_int_equal(w.len, 2 + (size_t)UINT16_MAX);
	char *out = malloc(n);
	struct th_rbuf r;
	th_rbuf_init(&r, w.data, w.len);
	assert_int_equal(th_rbuf_str16(&r, out, n), 0);
	assert_string_equal(out, s);
	free(out);
	th_wbuf_fini(&w);
	free(s);
}

static void fixed_wbuf_writes_into_the_callers_buffer_and_never_past_it(void **state)
{
	uint8_t buf[16];
	memset(buf, 0xee, sizeof buf);
	struct th_wbuf b;
	th_wbuf_init_fixed(&b, buf, 10);
	th_wbuf_u32(&b, 0x04030201u);
	th_wbuf_u16(&b, 0x0605);
	assert_int_equal(th_wbuf_error(&b), 0);
	assert_ptr_equal(b.data, buf);
	th_wbuf_u64(&b, 1); /* 6 + 8 > 10: refused whole */
	assert_int_equal(th_wbuf_error(&b), -EMSGSIZE);
	assert_int_equal(b.len, 6);
	static const uint8_t want[16] = { 1, 2, 3, 4, 5, 6, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	assert_memory_equal(buf, want, sizeof buf);
	th_wbuf_u8(&b, 7); /* latched: nothing more */
	assert_int_equal(b.len, 6);
	th_wbuf_fini(&b); /* the caller's buffer is not freed (ASan would say) */
	assert_int_equal(buf[0], 1);

	/* A zero-size buffer takes nothing. */
	th_wbuf_init_fixed(&b, buf, 0);
	th_wbuf_u8(&b, 9);
	assert_int_equal(th_wbuf_error(&b), -EMSGSIZE);
	assert_int_equal(buf[0], 1);
}

static void fixed_wbuf_without_a_buffer_counts(void **state)
{
	struct th_wbuf b;
	th_wbuf_init_fixed(&b, NULL, 0);
	th_wbuf_u64(&b, 1);
	th_wbuf_str16(&b, "abc");
	th_wbuf_put(&b, "xy", 2);
	assert_int_equal(th_wbuf_error(&b), 0);
	assert_int_equal(b.len, 8 + 2 + 3 + 2);
	assert_null(b.data);
	th_wbuf_fini(&b);
}

static void rbuf_short_reads_fail_and_leave_output_untouched(void **state)
{
	const uint8_t data[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct th_rbuf r;
	uint16_t u16 = 0x5555;
	uint32_t u32 = 0x55555555;
	uint64_t u64 = 0x5555555555555555;
	uint8_t u8 = 0x55;
	uint8_t bytes[8];
	const uint8_t *view = (const uint8_t *)"sentinel";

	th_rbuf_init(&r, data, sizeof(data));
	assert_int_equal(th_rbuf_u64(&r, &u64), -EBADMSG);
	assert_true(u64 == 0x5555555555555555);
	assert_int_equal(r.off, 0);

	assert_int_equal(th_rbuf_u32(&r, &u32), 0);
	assert_int_equal(u32, 0x04030201);
	assert_int_equal(th_rbuf_u32(&r, &u32), -EBADMSG); /* only 3 left */
	assert_int_equal(u32, 0x04030201);
	assert_int_equal(r.off, 4);

	memset(bytes, 0xEE, sizeof(bytes));
	assert_int_equal(th_rbuf_bytes(&r, bytes, 4), -EBADMSG);
	for (size_t i = 0; i < sizeof(bytes); i++)
		assert_int_equal(bytes[i], 0xEE);
	assert_int_equal(th_rbuf_view(&r, &view, 4), -EBADMSG);
	assert_string_equal((const char *)view, "sentinel");

	assert_int_equal(th_rbuf_view(&r, &view, 2), 0);
	assert_ptr_equal(view, data + 4); /* no copy */
	assert_int_equal(th_rbuf_u16(&r, &u16), -EBADMSG);
	assert_int_equal(u16, 0x5555);
	assert_int_equal(th_rbuf_u8(&r, &u8), 0);
	assert_int_equal(u8, 7);
	assert_int_equal(th_rbuf_left(&r), 0);
	assert_int_equal(th_rbuf_u8(&r, &u8), -EBADMSG);
	assert_int_equal(u8, 7);
	/* Zero-length reads at the end succeed. */
	assert_int_equal(th_rbuf_bytes(&r, bytes, 0), 0);

	/* A huge n does not wrap the bounds check. */
	th_rbuf_init(&r, data, sizeof(data));
	assert_int_equal(th_rbuf_bytes(&r, bytes, SIZE_MAX), -EBADMSG);
	assert_int_equal(th_rbuf_view(&r, &view, SIZE_MAX), -EBADMSG);
	assert_int_equal(r.off, 0);
}

static void rbuf_str16_rejects_nul_truncation_and_small_buffers(void **state)
{
	struct th_rbuf r;
	char out[8];

	/* Embedded NUL. */
	const uint8_t nul[] = { 3, 0, 'a', 0, 'b' };
	memset(out, 'X', sizeof(out));
	th_rbuf_init(&r, nul, sizeof(nul));
	assert_int_equal(th_rbuf_str16(&r, out, sizeof(out)), -EBADMSG);
	assert_int_equal(out[0], 'X');
	assert_int_equal(r.off, 0); /* the length prefix is not consumed */

	/* Length claims more than is there. */
	const uint8_t shortb[] = { 5, 0, 'a', 'b' };
	th_rbuf_init(&r, shortb, sizeof(shortb));
	assert_int_equal(th_rbuf_str16(&r, out, sizeof(out)), -EBADMSG);
	assert_int_equal(out[0], 'X');
	assert_int_equal(r.off, 0);

	/* Missing (half a) length prefix. */
	th_rbuf_init(&r, shortb, 1);
	assert_int_equal(th_rbuf_str16(&r, out, sizeof(out)), -EBADMSG);
	assert_int_equal(r.off, 0);

	/* Does not fit with its NUL: 8 bytes into out[8]. */
	const uint8_t eight[] = { 8, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
	th_rbuf_init(&r, eight, sizeof(eight));
	assert_int_equal(th_rbuf_str16(&r, out, sizeof(out)), -EBADMSG);
	assert_int_equal(out[0], 'X');
	assert_int_equal(r.off, 0);

	/* 7 bytes fit exactly in out[8]. */
	const uint8_t seven[] = { 7, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'Z' };
	th_rbuf_init(&r, seven, sizeof(seven));
	assert_int_equal(th_rbuf_str16(&r, out, sizeof(out)), 0);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(th_rbuf_left(&r), 1);

	/* cap 0 cannot hold even the empty string. */
	const uint8_t empty[] = { 0, 0 };
	th_rbuf_init(&r, empty, sizeof(empty));
	assert_int_equal(th_rbuf_str16(&r, out, 0), -EBADMSG);
	assert_int_equal(th_rbuf_str16(&r, out, 1), 0);
	assert_string_equal(out, "");
}

/* Floats go as their binary32 bits, least significant byte first, NaN and
 * infinities included (the decoders refuse those with th_f32s_finite); a
 * short read takes nothing. */
static void f32s_are_their_bits_in_le_u32s_and_short_reads_take_nothing(void **state)
{
	const float in[4] = { 1.0f, -2.5f, INFINITY, NAN };
	uint8_t b[16];
	struct th_wbuf w;
	th_wbuf_init_fixed(&w, b, sizeof b);
	th_wbuf_f32s(&w, in, 4);
	assert_int_equal(th_wbuf_error(&w), 0);
	assert_int_equal(w.len, 16);
	assert_int_equal(th_get_le32(b), 0x3f800000u);
	assert_int_equal(th_get_le32(b + 4), 0xc0200000u);
	assert_int_equal(th_get_le32(b + 8), 0x7f800000u);
	assert_true(b[0] == 0x00 && b[3] == 0x3f);

	float out[4];
	struct th_rbuf r;
	th_rbuf_init(&r, b, sizeof b);
	assert_int_equal(th_rbuf_f32s(&r, out, 4), 0);
	assert_memory_equal(out, in, sizeof in);
	assert_int_equal(th_rbuf_left(&r), 0);

	/* Three and a half floats left: none taken, nothing written. */
	const float marker[4] = { 7.0f, 7.0f, 7.0f, 7.0f };
	memcpy(out, marker, sizeof out);
	th_rbuf_init(&r, b, 14);
	assert_int_equal(th_rbuf_f32s(&r, out, 4), -EBADMSG);
	assert_memory_equal(out, marker, sizeof out);
	assert_int_equal(r.off, 0);
	assert_int_equal(th_rbuf_f32s(&r, out, 3), 0);
	assert_int_equal(r.off, 12);
	assert_int_equal(th_rbuf_f32s(&r, out, (size_t)-1), -EBADMSG); /* a count past any buffer */
	assert_int_equal(th_rbuf_f32s(&r, out, 0), 0);

	assert_true(th_f32s_finite(in, 2));
	assert_false(th_f32s_finite(in, 3));
	assert_false(th_f32s_finite(in + 3, 1));
	assert_true(th_f32s_finite(in, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(le_helpers_write_least_significant_byte_first),
		cmocka_unit_test(wbuf_values_round_trip_through_rbuf),
		cmocka_unit_test(wbuf_grows_and_keeps_earlier_bytes),
		cmocka_unit_test(wbuf_write_past_max_latches_emsgsize),
		cmocka_unit_test(wbuf_str16_longer_than_u16_latches_emsgsize),
		cmocka_unit_test(fixed_wbuf_writes_into_the_callers_buffer_and_never_past_it),
		cmocka_unit_test(fixed_wbuf_without_a_buffer_counts),
		cmocka_unit_test(rbuf_short_reads_fail_and_leave_output_untouched),
		cmocka_unit_test(rbuf_str16_rejects_nul_truncation_and_small_buffers),
		cmocka_unit_test(f32s_are_their_bits_in_le_u32s_and_short_reads_take_nothing),
	};
	return cmocka_run_group_tests_name("th_buf", tests, NULL, NULL);
}
