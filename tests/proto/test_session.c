/* proto/session: message encoding, validating decoders, HELLO signatures,
 * stream framing, error sentences. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "session.h"

static int encode(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	th_wbuf_init(w, 0);
	return proto_sess_encode(m, w);
}

static void every_message_round_trips(void **state)
{
	static const uint8_t tok[] = "token-bytes";
	struct proto_sess_msg ms[9];
	memset(ms, 0, sizeof(ms));
	ms[0].type = PROTO_SESS_T_HELLO;
	ms[0].u.hello = (struct proto_sess_hello){.version = PROTO_SESS_VERSION, .schema_hash = 0x1122334455667788ull,
		.caps = 5, .token = tok, .token_len = sizeof(tok)};
	memset(ms[0].u.hello.nonce, 7, sizeof(ms[0].u.hello.nonce));
	memset(ms[0].u.hello.identity_key, 8, 32);
	memset(ms[0].u.hello.sig, 9, 64);
	ms[1].type = PROTO_SESS_T_ACK;
	ms[1].u.ack = (struct proto_sess_ack){.role = PROTO_SESS_ROLE_EDITOR, .caps = 1, .peer_id = 77};
	memset(ms[1].u.ack.session_id, 1, 16);
	ms[2].type = PROTO_SESS_T_MEMBER_JOIN;
	ms[2].u.join = (struct proto_sess_member_join){.peer_id = 3, .role = PROTO_SESS_ROLE_ADMIN};
	ms[3].type = PROTO_SESS_T_MEMBER_LEAVE;
	ms[3].u.mleave = (struct proto_sess_member_leave){.peer_id = 3, .reason = PROTO_SESS_ERR_KICKED};
	ms[4].type = PROTO_SESS_T_ROLE;
	ms[4].u.role = (struct proto_sess_role_change){.peer_id = 4, .role = PROTO_SESS_ROLE_VIEWER};
	ms[5].type = PROTO_SESS_T_KICK;
	ms[5].u.kick = (struct proto_sess_kick){.peer_id = 5, .reason = 1};
	ms[6].type = PROTO_SESS_T_PING;
	ms[6].u.ping = (struct proto_sess_ping){.seq = 9, .t_ns = 123456789};
	ms[7].type = PROTO_SESS_T_PONG;
	ms[7].u.pong = (struct proto_sess_pong){.seq = 9, .echo_t_ns = 123456789, .t_ns = 5};
	ms[8].type = PROTO_SESS_T_LEAVE;
	ms[8].u.leave.reason = PROTO_SESS_ERR_LEFT;
	for (int i = 0; i < 9; i++) {
		struct th_wbuf w;
		assert_int_equal(encode(&ms[i], &w), 0);
		assert_int_equal(th_get_le32(w.data), w.len - 4);
		assert_int_equal(th_get_le16(w.data + 4), ms[i].type);
		struct proto_sess_msg d;
		assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), 0);
		assert_int_equal(d.type, ms[i].type);
		if (i == 0) {
			assert_int_equal(d.u.hello.token_len, sizeof(tok));
			assert_memory_equal(d.u.hello.token, tok, sizeof(tok));
			assert_true(d.u.hello.schema_hash == 0x1122334455667788ull);
			assert_memory_equal(d.u.hello.sig, ms[0].u.hello.sig, 64);
		} else {
			assert_memory_equal(&d.u, &ms[i].u, sizeof(d.u) < 64 ? sizeof(d.u) : 64);
		}
		/* Every truncation and any trailing byte is refused. */
		for (size_t n = 0; n < w.len - 4; n++)
			assert_true(proto_sess_decode(w.data + 4, n, &d) < 0);
		uint8_t *ext = th_wbuf_extend(&w, 1);
		ext[0] = 0;
		assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), -EBADMSG);
		th_wbuf_fini(&w);
	}
}

static void ack_layout_is_little_endian_and_fixed(void **state)
{
	struct proto_sess_msg m = {.type = PROTO_SESS_T_ACK};
	m.u.ack.role = PROTO_SESS_ROLE_ADMIN;
	m.u.ack.caps = 0x0102030405060708ull;
	m.u.ack.peer_id = 0xA1B2C3D4;
	strcpy(m.u.ack.name, "studio");
	struct th_wbuf w;
	assert_int_equal(encode(&m, &w), 0);
	assert_int_equal(w.len, 4 + 2 + 16 + 1 + 8 + 32 + 4 + 2 + 6);
	assert_int_equal(w.data[4 + 2 + 16], 3);
	assert_int_equal(w.data[4 + 2 + 16 + 1], 0x08);
	assert_int_equal(w.data[w.len - 12], 0xD4);
	assert_int_equal(w.data[w.len - 8], 6); /* u16 name length */
	assert_memory_equal(w.data + w.len - 6, "studio", 6);
	th_wbuf_fini(&w);
}

static void invalid_values_are_refused_both_ways(void **state)
{
	struct proto_sess_msg m = {.type = PROTO_SESS_T_ROLE};
	m.u.role.role = 4;
	struct th_wbuf w;
	assert_int_equal(encode(&m, &w), -EINVAL);
	th_wbuf_fini(&w);
	uint8_t p[8] = {PROTO_SESS_T_ROLE, 0, 1, 0, 0, 0, 0};
	struct proto_sess_msg d;
	assert_int_equal(proto_sess_decode(p, 7, &d), -EBADMSG); /* role 0 */
	p[6] = 9;
	assert_int_equal(proto_sess_decode(p, 7, &d), -EBADMSG);
	uint8_t unk[2] = {99, 0};
	assert_int_equal(proto_sess_decode(unk, 2, &d), -ENOMSG);
	assert_int_equal(proto_sess_decode(unk, 1, &d), -EBADMSG);
	struct proto_sess_msg h = {.type = PROTO_SESS_T_HELLO};
	h.u.hello.token_len = PROTO_SESS_MAX_TOKEN + 1;
	static uint8_t big[PROTO_SESS_MAX_TOKEN + 1];
	h.u.hello.token = big;
	assert_int_equal(encode(&h, &w), -EINVAL);
	th_wbuf_fini(&w);
}

static void hello_of_another_version_is_recognized(void **state)
{
	struct proto_sess_msg m = {.type = PROTO_SESS_T_HELLO};
	m.u.hello.version = 7;
	struct th_wbuf w;
	assert_int_equal(encode(&m, &w), 0);
	struct proto_sess_msg d;
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), -EPROTONOSUPPORT);
	assert_int_equal(proto_sess_hello_version(w.data + 4, w.len - 4), 7);
	/* A future version with a different layout still yields its version. */
	assert_int_equal(proto_sess_hello_version(w.data + 4, 4), 7);
	assert_int_equal(proto_sess_hello_version(w.data + 4, 3), -EBADMSG);
	th_wbuf_fini(&w);
}

static void hello_signature_binds_key_fields_and_channel(void **state)
{
	uint8_t pk[32], sk[64], cb[32], cb2[32];
	crypto_sign_keypair(pk, sk);
	memset(cb, 0xaa, 32);
	memset(cb2, 0xab, 32);
	static const uint8_t tok[20] = {1, 2, 3};
	struct proto_sess_hello h = {.version = PROTO_SESS_VERSION, .schema_hash = 42, .caps = 3,
				     .token = tok, .token_len = sizeof(tok)};
	memcpy(h.identity_key, pk, 32);
	assert_int_equal(proto_sess_hello_sign(&h, cb, sk), 0);
	assert_int_equal(proto_sess_hello_verify(&h, cb), 0);
	/* survives encode/decode */
	struct proto_sess_msg m = {.type = PROTO_SESS_T_HELLO, .u.hello = h}, d;
	struct th_wbuf w;
	assert_int_equal(encode(&m, &w), 0);
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), 0);
	assert_int_equal(proto_sess_hello_verify(&d.u.hello, cb), 0);
	th_wbuf_fini(&w);
	/* another TLS session, another field, another key: all refused */
	assert_int_equal(proto_sess_hello_verify(&h, cb2), -EKEYREJECTED);
	struct proto_sess_hello x = h;
	x.schema_hash = 43;
	assert_int_equal(proto_sess_hello_verify(&x, cb), -EKEYREJECTED);
	x = h;
	x.identity_key[0] ^= 1;
	assert_int_equal(proto_sess_hello_verify(&x, cb), -EKEYREJECTED);
	x = h;
	x.sig[10] ^= 1;
	assert_int_equal(proto_sess_hello_verify(&x, cb), -EKEYREJECTED);
}

struct frames {
	int n;
	size_t lens[16];
	uint16_t types[16];
};

static int on_frame(const uint8_t *p, size_t len, void *ud)
{
	struct frames *f = ud;
	f->lens[f->n] = len;
	f->types[f->n] = len >= 2 ? th_get_le16(p) : 0;
	f->n++;
	return 0;
}

static void framing_reassembles_across_any_split(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	for (int i = 0; i < 5; i++) {
		struct proto_sess_msg m = {.type = PROTO_SESS_T_PING};
		m.u.ping.seq = (uint64_t)i;
		assert_int_equal(proto_sess_encode(&m, &w), 0);
		struct proto_sess_msg l = {.type = PROTO_SESS_T_LEAVE};
		assert_int_equal(proto_sess_encode(&l, &w), 0);
	}
	for (size_t chunk = 1; chunk <= w.len; chunk++) {
		struct proto_sess_reasm r;
		proto_sess_reasm_init(&r, 0);
		struct frames f = {0};
		for (size_t off = 0; off < w.len; off += chunk) {
			size_t n = w.len - off < chunk ? w.len - off : chunk;
			assert_int_equal(proto_sess_reasm_feed(&r, w.data + off, n, on_frame, &f), 0);
		}
		assert_int_equal(f.n, 10);
		assert_int_equal(f.types[0], PROTO_SESS_T_PING);
		assert_int_equal(f.types[9], PROTO_SESS_T_LEAVE);
		assert_int_equal(r.len, 0);
		proto_sess_reasm_fini(&r);
	}
	th_wbuf_fini(&w);
}

static void oversized_frame_breaks_the_stream_for_good(void **state)
{
	struct proto_sess_reasm r;
	proto_sess_reasm_init(&r, 1024);
	struct frames f = {0};
	uint8_t hdr[4];
	th_put_le32(hdr, 1025);
	assert_int_equal(proto_sess_reasm_feed(&r, hdr, 2, on_frame, &f), 0);
	assert_int_equal(proto_sess_reasm_feed(&r, hdr + 2, 2, on_frame, &f), -EMSGSIZE);
	uint8_t ok[6] = {2, 0, 0, 0, 9, 0};
	assert_int_equal(proto_sess_reasm_feed(&r, ok, 6, on_frame, &f), -EMSGSIZE);
	assert_int_equal(f.n, 0);
	proto_sess_reasm_fini(&r);
	/* The bound is never exceeded in memory either. */
	proto_sess_reasm_init(&r, 1024);
	th_put_le32(hdr, 1024);
	static uint8_t body[1023];
	assert_int_equal(proto_sess_reasm_feed(&r, hdr, 4, on_frame, &f), 0);
	assert_int_equal(proto_sess_reasm_feed(&r, body, sizeof(body), on_frame, &f), 0);
	assert_true(r.cap <= 1024 + 4);
	proto_sess_reasm_fini(&r);
}

static void every_error_code_has_its_own_sentence(void **state)
{
	const char *seen[64];
	int n = 0;
	for (uint64_t c = PROTO_SESS_ERR_WRONG_FINGERPRINT; c <= PROTO_SESS_ERR_MAX_; c++) {
		const char *s = proto_sess_err_text(c);
		assert_non_null(s);
		size_t l = strlen(s);
		assert_true(l > 10 && s[l - 1] == '.');
		for (int i = 0; i < n; i++)
			assert_string_not_equal(seen[i], s);
		seen[n++] = s;
	}
	assert_string_equal(proto_sess_err_text(0x999), proto_sess_err_text(0x998));
	assert_int_equal(proto_sess_role_parse("editor"), PROTO_SESS_ROLE_EDITOR);
	assert_int_equal(proto_sess_role_parse("root"), -EINVAL);
	assert_string_equal(proto_sess_role_name(PROTO_SESS_ROLE_ADMIN), "admin");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_message_round_trips),
		cmocka_unit_test(ack_layout_is_little_endian_and_fixed),
		cmocka_unit_test(invalid_values_are_refused_both_ways),
		cmocka_unit_test(hello_of_another_version_is_recognized),
		cmocka_unit_test(hello_signature_binds_key_fields_and_channel),
		cmocka_unit_test(framing_reassembles_across_any_split),
		cmocka_unit_test(oversized_frame_breaks_the_stream_for_good),
		cmocka_unit_test(every_error_code_has_its_own_sentence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
