/* proto/session: the assets-stream messages (OFFER, LIST, GET, CHUNK, DONE,
 * ERROR): round trips, canonical re-encoding, and refusal of malformed
 * bytes (sizes, offsets, chunk lengths, names, codes, truncation). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "session.h"

/* Encodes m, decodes the payload, re-encodes: same bytes. Returns the
 * decoded message. */
static struct proto_sess_msg round_trip(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	struct proto_sess_msg d;
	th_wbuf_reset(w);
	assert_int_equal(proto_sess_encode(m, w), 0);
	assert_int_equal(th_get_le32(w->data), w->len - 4);
	assert_int_equal(proto_sess_decode(w->data + 4, w->len - 4, &d), 0);
	assert_int_equal(d.type, m->type);
	struct th_wbuf w2;
	th_wbuf_init(&w2, 0);
	assert_int_equal(proto_sess_encode(&d, &w2), 0);
	assert_int_equal(w2.len, w->len);
	assert_memory_equal(w2.data, w->data, w->len);
	th_wbuf_fini(&w2);
	return d;
}

static void offers_gets_chunks_done_and_errors_round_trip(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_OFFER }, d;
	memset(m.u.offer.hash, 0xab, 32);
	m.u.offer.size = 4u << 20;
	m.u.offer.name = (const uint8_t *)"chair.glb";
	m.u.offer.name_len = 9;
	d = round_trip(&m, &w);
	assert_memory_equal(d.u.offer.hash, m.u.offer.hash, 32);
	assert_int_equal(d.u.offer.size, 4u << 20);
	assert_int_equal(d.u.offer.name_len, 9);
	assert_memory_equal(d.u.offer.name, "chair.glb", 9);
	/* layout: type, hash, u64 size, u16 name_len, name */
	assert_int_equal(w.len, 4 + 2 + 32 + 8 + 2 + 9);
	assert_int_equal(th_get_le16(w.data + 4), PROTO_SESS_T_ASSET_OFFER);
	assert_int_equal(th_get_le64(w.data + 4 + 2 + 32), 4u << 20);

	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ASSET_GET };
	memset(m.u.aget.hash, 1, 32);
	m.u.aget.offset = 123456;
	d = round_trip(&m, &w);
	assert_int_equal(d.u.aget.offset, 123456);

	uint8_t data[PROTO_SESS_ASSET_CHUNK];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ASSET_CHUNK };
	memset(m.u.achunk.hash, 2, 32);
	m.u.achunk.offset = 65536;
	m.u.achunk.len = sizeof(data);
	m.u.achunk.data = data;
	d = round_trip(&m, &w);
	assert_int_equal(d.u.achunk.len, sizeof(data));
	assert_int_equal(d.u.achunk.offset, 65536);
	assert_memory_equal(d.u.achunk.data, data, sizeof(data));

	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ASSET_DONE };
	m.u.adone.size = 99;
	d = round_trip(&m, &w);
	assert_int_equal(d.u.adone.size, 99);

	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ASSET_ERROR };
	m.u.aerr.code = PROTO_SESS_ASSET_E_BUSY;
	d = round_trip(&m, &w);
	assert_int_equal(d.u.aerr.code, PROTO_SESS_ASSET_E_BUSY);
	assert_string_equal(proto_sess_asset_err_name(PROTO_SESS_ASSET_E_CORRUPT), "corrupt");
	th_wbuf_fini(&w);
}

static void lists_carry_pages_of_items_and_may_be_empty(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	struct proto_sess_asset_info it[3];
	const char *names[] = { "a", "table top.obj", "z" };
	for (int i = 0; i < 3; i++) {
		memset(it[i].hash, 0x10 + i, 32);
		it[i].size = 1000u * (unsigned)(i + 1);
		it[i].name = (const uint8_t *)names[i];
		it[i].name_len = (uint16_t)strlen(names[i]);
	}
	assert_int_equal(proto_sess_asset_list_encode(&w, it, 3), 0);
	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &m), 0);
	assert_int_equal(m.type, PROTO_SESS_T_ASSET_LIST);
	assert_int_equal(m.u.alist.n, 3);
	struct proto_sess_asset_list_iter iter;
	struct proto_sess_asset_info a;
	int k = 0;
	proto_sess_asset_list_iter_init(&iter, &m.u.alist);
	while (proto_sess_asset_list_next(&iter, &a) == 1) {
		assert_memory_equal(a.hash, it[k].hash, 32);
		assert_int_equal(a.size, it[k].size);
		assert_int_equal(a.name_len, it[k].name_len);
		assert_memory_equal(a.name, names[k], a.name_len);
		k++;
	}
	assert_int_equal(k, 3);
	/* re-encoding the decoded message gives the same frame */
	struct th_wbuf w2;
	th_wbuf_init(&w2, 0);
	assert_int_equal(proto_sess_encode(&m, &w2), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.data, w.data, w.len);

	/* empty: opens the stream, announces nothing */
	th_wbuf_reset(&w);
	assert_int_equal(proto_sess_asset_list_encode(&w, NULL, 0), 0);
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &m), 0);
	assert_int_equal(m.u.alist.n, 0);
	proto_sess_asset_list_iter_init(&iter, &m.u.alist);
	assert_int_equal(proto_sess_asset_list_next(&iter, &a), 0);

	/* too many, or a bad item: nothing written */
	th_wbuf_reset(&w);
	assert_int_equal(proto_sess_asset_list_encode(&w, it, PROTO_SESS_ASSET_LIST_MAX + 1), -E2BIG);
	it[1].size = 0;
	assert_int_equal(proto_sess_asset_list_encode(&w, it, 3), -EINVAL);
	assert_int_equal(w.len, 0);
	th_wbuf_fini(&w);
	th_wbuf_fini(&w2);
}

/* Builds a payload by hand: type + body bytes. */
static size_t raw(uint8_t *out, uint16_t type, const void *body, size_t n)
{
	th_put_le16(out, type);
	memcpy(out + 2, body, n);
	return n + 2;
}

static void malformed_asset_messages_are_refused(void **state)
{
	struct proto_sess_msg m;
	uint8_t b[512], p[600];
	size_t n;
	/* OFFER of size 0, of a size past the limit, without a name, with a
	 * control character in the name, with trailing bytes */
	memset(b, 0x11, 32);
	th_put_le64(b + 32, 0);
	th_put_le16(b + 40, 1);
	b[42] = 'x';
	n = raw(p, PROTO_SESS_T_ASSET_OFFER, b, 43);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le64(b + 32, PROTO_SESS_ASSET_MAX_SIZE + 1);
	n = raw(p, PROTO_SESS_T_ASSET_OFFER, b, 43);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le64(b + 32, PROTO_SESS_ASSET_MAX_SIZE);
	n = raw(p, PROTO_SESS_T_ASSET_OFFER, b, 43);
	assert_int_equal(proto_sess_decode(p, n, &m), 0);
	th_put_le16(b + 40, 0);
	n = raw(p, PROTO_SESS_T_ASSET_OFFER, b, 42);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le16(b + 40, 1);
	b[42] = '\n';
	n = raw(p, PROTO_SESS_T_ASSET_OFFER, b, 43);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	b[42] = 'x';
	n = raw(p, PROTO_SESS_T_ASSET_OFFER, b, 44);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le16(b + 40, 300); /* longer than NAME_MAX and than the message */
	n = raw(p, PROTO_SESS_T_ASSET_OFFER, b, 43);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);

	/* LIST claiming more items than it has, or more than the maximum */
	th_put_le16(b, 2);
	memset(b + 2, 0x22, 32);
	th_put_le64(b + 34, 5);
	th_put_le16(b + 42, 1);
	b[44] = 'n';
	n = raw(p, PROTO_SESS_T_ASSET_LIST, b, 45);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le16(b, 1);
	n = raw(p, PROTO_SESS_T_ASSET_LIST, b, 45);
	assert_int_equal(proto_sess_decode(p, n, &m), 0);
	th_put_le16(b, PROTO_SESS_ASSET_LIST_MAX + 1);
	n = raw(p, PROTO_SESS_T_ASSET_LIST, b, 2);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);

	/* GET past the largest asset */
	memset(b, 0, 32);
	th_put_le64(b + 32, PROTO_SESS_ASSET_MAX_SIZE + 1);
	n = raw(p, PROTO_SESS_T_ASSET_GET, b, 40);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	n = raw(p, PROTO_SESS_T_ASSET_GET, b, 39);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);

	/* CHUNK: empty, larger than CHUNK, past the end, length beyond the bytes */
	th_put_le64(b + 32, 0);
	th_put_le32(b + 40, 0);
	n = raw(p, PROTO_SESS_T_ASSET_CHUNK, b, 44);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le32(b + 40, PROTO_SESS_ASSET_CHUNK + 1);
	n = raw(p, PROTO_SESS_T_ASSET_CHUNK, b, 44);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le64(b + 32, PROTO_SESS_ASSET_MAX_SIZE - 2);
	th_put_le32(b + 40, 4);
	memset(b + 44, 7, 4);
	n = raw(p, PROTO_SESS_T_ASSET_CHUNK, b, 48);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le64(b + 32, 100);
	n = raw(p, PROTO_SESS_T_ASSET_CHUNK, b, 48);
	assert_int_equal(proto_sess_decode(p, n, &m), 0);
	assert_int_equal(m.u.achunk.len, 4);
	n = raw(p, PROTO_SESS_T_ASSET_CHUNK, b, 47);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);

	/* DONE of size 0; ERROR with an unknown code */
	th_put_le64(b + 32, 0);
	n = raw(p, PROTO_SESS_T_ASSET_DONE, b, 40);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le16(b + 32, 0);
	n = raw(p, PROTO_SESS_T_ASSET_ERROR, b, 34);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le16(b + 32, PROTO_SESS_ASSET_E_MAX_ + 1);
	n = raw(p, PROTO_SESS_T_ASSET_ERROR, b, 34);
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_put_le16(b + 32, PROTO_SESS_ASSET_E_CANCEL);
	n = raw(p, PROTO_SESS_T_ASSET_ERROR, b, 34);
	assert_int_equal(proto_sess_decode(p, n, &m), 0);
}

static void encoders_refuse_what_decoders_would(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_CHUNK };
	uint8_t d[4] = { 1, 2, 3, 4 };
	m.u.achunk.data = d;
	m.u.achunk.len = 0;
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	m.u.achunk.len = PROTO_SESS_ASSET_CHUNK + 1;
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ASSET_OFFER };
	m.u.offer.size = 10;
	m.u.offer.name = (const uint8_t *)"a\tb";
	m.u.offer.name_len = 3;
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ASSET_ERROR };
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_ASSET_DONE };
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	assert_int_equal(w.len, 0);
	assert_true(proto_sess_asset_name_ok((const uint8_t *)"ok name", 7));
	assert_false(proto_sess_asset_name_ok((const uint8_t *)"del\x7f", 4));
	th_wbuf_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offers_gets_chunks_done_and_errors_round_trip),
		cmocka_unit_test(lists_carry_pages_of_items_and_may_be_empty),
		cmocka_unit_test(malformed_asset_messages_are_refused),
		cmocka_unit_test(encoders_refuse_what_decoders_would),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
