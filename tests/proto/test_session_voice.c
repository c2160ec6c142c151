/* proto/session: voice between daemons: the VOICE datagram, VOICE_NAME,
 * VOICE_MUTE and ADMIN_REQ's MUTE / UNMUTE: layouts, round trips, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "session.h"

static int encode(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	th_wbuf_init(w, 0);
	return proto_sess_encode(m, w);
}

static void a_voice_datagram_has_a_fixed_layout_and_round_trips(void **state)
{
	uint8_t opus[PROTO_SESS_VOICE_OPUS_MAX + 1];
	for (unsigned i = 0; i < sizeof opus; i++)
		opus[i] = (uint8_t)(i * 7);
	struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_VOICE, .seq = 0x01020304, .ts = 0xa0b0c0d0,
				      .vflags = PROTO_SESS_VOICE_F_ALL, .opus = opus, .opus_len = 3 }, out;
	memset(d.author, 0x5a, sizeof d.author);
	uint8_t b[PROTO_SESS_DGRAM_MAX], again[PROTO_SESS_DGRAM_MAX];
	int n = proto_sess_dgram_encode(&d, b, sizeof b);
	assert_int_equal(n, 1 + 32 + 4 + 4 + 1 + 2 + 3);
	assert_int_equal(b[0], PROTO_SESS_DG_VOICE);
	assert_int_equal(b[0], 4);
	assert_int_equal(b[1], 0x5a);
	assert_int_equal(th_get_le32(b + 33), 0x01020304);
	assert_int_equal(th_get_le32(b + 37), 0xa0b0c0d0);
	assert_int_equal(b[41], 1);
	assert_int_equal(th_get_le16(b + 42), 3);
	assert_memory_equal(b + 44, opus, 3);
	for (int k = 0; k < n; k++)
		assert_int_equal(proto_sess_dgram_decode(b, (size_t)k, &out), -EBADMSG);
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &out), 0);
	assert_int_equal(out.seq, 0x01020304);
	assert_int_equal(out.ts, 0xa0b0c0d0);
	assert_int_equal(out.opus_len, 3);
	assert_ptr_equal(out.opus, b + 44); /* a view into the datagram */
	assert_int_equal(proto_sess_dgram_encode(&out, again, sizeof again), n);
	assert_memory_equal(again, b, (size_t)n);
	b[n] = 0;
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n + 1, &out), -EBADMSG); /* trailing byte */

	/* The largest frame fits a datagram, and so a QUIC packet. */
	d.opus_len = PROTO_SESS_VOICE_OPUS_MAX;
	n = proto_sess_dgram_encode(&d, b, sizeof b);
	assert_int_equal(n, 44 + PROTO_SESS_VOICE_OPUS_MAX);
	assert_true(n <= PROTO_SESS_DGRAM_MAX);
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &out), 0);
}

static void a_voice_datagram_out_of_bounds_is_refused_both_ways(void **state)
{
	uint8_t opus[PROTO_SESS_VOICE_OPUS_MAX + 1] = { 0 };
	struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_VOICE, .seq = 1, .opus = opus, .opus_len = 0 }, out;
	uint8_t b[PROTO_SESS_DGRAM_MAX + 64];
	assert_int_equal(proto_sess_dgram_encode(&d, b, sizeof b), -EINVAL); /* no packet */
	d.opus_len = PROTO_SESS_VOICE_OPUS_MAX + 1;
	assert_int_equal(proto_sess_dgram_encode(&d, b, sizeof b), -EINVAL); /* too long */
	d.opus_len = 10;
	d.vflags = 2;
	assert_int_equal(proto_sess_dgram_encode(&d, b, sizeof b), -EINVAL); /* unknown flag */
	d.vflags = 0;
	d.opus = NULL;
	assert_int_equal(proto_sess_dgram_encode(&d, b, sizeof b), -EINVAL); /* length without bytes */
	d.opus = opus;
	int n = proto_sess_dgram_encode(&d, b, sizeof b);
	assert_int_equal(n, 54);
	b[41] = 2;
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &out), -EBADMSG);
	b[41] = 0;
	th_put_le16(b + 42, 0);
	assert_int_equal(proto_sess_dgram_decode(b, 44, &out), -EBADMSG); /* length 0 */
	th_put_le16(b + 42, 11);
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &out), -EBADMSG); /* says more than it has */
	th_put_le16(b + 42, PROTO_SESS_VOICE_OPUS_MAX + 1);
	memset(b + 44, 0, PROTO_SESS_VOICE_OPUS_MAX + 1);
	assert_int_equal(proto_sess_dgram_decode(b, 44 + PROTO_SESS_VOICE_OPUS_MAX + 1, &out), -EBADMSG);
	/* A payload the encoder cannot fit is refused, not cut. */
	d.opus_len = 10;
	assert_int_equal(proto_sess_dgram_encode(&d, b, 53), -EINVAL);
}

static void voice_name_and_mute_round_trip_on_the_control_stream(void **state)
{
	struct th_wbuf w;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_VOICE_NAME }, d;
	memset(m.u.vname.speaker, 3, 32);
	strcpy(m.u.vname.name, "Grace Hopper");
	assert_int_equal(encode(&m, &w), 0);
	assert_int_equal(w.len, 4 + 2 + 32 + 2 + 12);
	assert_int_equal(th_get_le16(w.data + 4), 26);
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), 0);
	assert_string_equal(d.u.vname.name, "Grace Hopper");
	assert_memory_equal(d.u.vname.speaker, m.u.vname.speaker, 32);
	th_wbuf_fini(&w);
	assert_int_equal(proto_sess_check_stream(PROTO_SESS_T_VOICE_NAME, PROTO_SESS_STREAM_CONTROL), 0);
	assert_int_equal(proto_sess_check_stream(PROTO_SESS_T_VOICE_MUTE, PROTO_SESS_STREAM_CONTROL), 0);
	assert_int_equal(proto_sess_check_stream(PROTO_SESS_T_VOICE_NAME, PROTO_SESS_STREAM_COMMANDS), -EPROTO);

	/* 32 bytes is the most; a control byte is refused. */
	memset(m.u.vname.name, 'a', PROTO_SESS_VOICE_NAME_MAX);
	m.u.vname.name[PROTO_SESS_VOICE_NAME_MAX] = 0;
	assert_int_equal(encode(&m, &w), 0);
	th_wbuf_fini(&w);
	strcpy(m.u.vname.name, "tab\there");
	assert_int_equal(encode(&m, &w), -EINVAL);
	th_wbuf_fini(&w);
	uint8_t p[2 + 32 + 2 + 33] = { 26, 0 };
	th_put_le16(p + 34, 33);
	memset(p + 36, 'a', 33);
	assert_int_equal(proto_sess_decode(p, sizeof p, &d), -EBADMSG); /* 33 bytes */
	th_put_le16(p + 34, 32);
	assert_int_equal(proto_sess_decode(p, sizeof p - 1, &d), 0);
	p[40] = 0x7f;
	assert_int_equal(proto_sess_decode(p, sizeof p - 1, &d), -EBADMSG);

	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_VOICE_MUTE };
	memset(m.u.vmute.speaker, 4, 32);
	m.u.vmute.muted = 1;
	assert_int_equal(encode(&m, &w), 0);
	assert_int_equal(w.len, 4 + 2 + 32 + 1);
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), 0);
	assert_int_equal(d.u.vmute.muted, 1);
	w.data[w.len - 1] = 2;
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), -EBADMSG);
	th_wbuf_fini(&w);
	m.u.vmute.muted = 2;
	assert_int_equal(encode(&m, &w), -EINVAL);
	th_wbuf_fini(&w);
}

static void an_admin_mute_names_a_speaker_or_a_peer_never_both(void **state)
{
	struct th_wbuf w;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ADMIN_REQ }, d;
	m.u.areq = (struct proto_sess_admin_req){ .req_id = 2, .op = PROTO_SESS_ADMIN_MUTE };
	memset(m.u.areq.speaker, 9, 32);
	assert_int_equal(encode(&m, &w), 0); /* a speaker */
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), 0);
	assert_int_equal(d.u.areq.op, PROTO_SESS_ADMIN_MUTE);
	assert_memory_equal(d.u.areq.speaker, m.u.areq.speaker, 32);
	th_wbuf_fini(&w);
	m.u.areq.peer_id = 3;
	assert_int_equal(encode(&m, &w), -EINVAL); /* both */
	th_wbuf_fini(&w);
	memset(m.u.areq.speaker, 0, 32);
	m.u.areq.op = PROTO_SESS_ADMIN_UNMUTE;
	assert_int_equal(encode(&m, &w), 0); /* a peer: all its speakers */
	th_wbuf_fini(&w);
	m.u.areq.peer_id = 0;
	assert_int_equal(encode(&m, &w), -EINVAL); /* neither */
	th_wbuf_fini(&w);
	m.u.areq.peer_id = 3;
	m.u.areq.role = PROTO_SESS_ROLE_VIEWER;
	assert_int_equal(encode(&m, &w), -EINVAL); /* a mute carries no role */
	th_wbuf_fini(&w);
	m.u.areq.op = PROTO_SESS_ADMIN_ROLE;
	m.u.areq.speaker[31] = 1;
	assert_int_equal(encode(&m, &w), -EINVAL); /* only a mute names a speaker */
	th_wbuf_fini(&w);
	const char *why = NULL;
	uint8_t p[44] = { PROTO_SESS_T_ADMIN_REQ, 0, 1, 0, 0, 0, PROTO_SESS_ADMIN_MUTE, 3, 0, 0, 0, 0 };
	p[43] = 1;
	assert_int_equal(proto_sess_decode_why(p, sizeof p, &d, &why), -EBADMSG);
	assert_string_equal(why, "speaker: a mute names a speaker key or a peer id, not both");
	p[43] = 0;
	assert_int_equal(proto_sess_decode(p, sizeof p, &d), 0);
	assert_int_equal(d.u.areq.peer_id, 3);
	p[7] = 0; /* neither: the reason says which is missing, not "both" */
	why = NULL;
	assert_int_equal(proto_sess_decode_why(p, sizeof p, &d, &why), -EBADMSG);
	assert_string_equal(why, "speaker: a mute names a speaker key or a peer id (neither is set)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_voice_datagram_has_a_fixed_layout_and_round_trips),
		cmocka_unit_test(a_voice_datagram_out_of_bounds_is_refused_both_ways),
		cmocka_unit_test(voice_name_and_mute_round_trip_on_the_control_stream),
		cmocka_unit_test(an_admin_mute_names_a_speaker_or_a_peer_never_both),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
