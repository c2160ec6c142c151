/* proto/session: ADMIN_REQ / ADMIN_RESULT / REJECTED control messages and
 * the IPC EVENT_REJECTED payload: layouts, round trips, validation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ipc.h"
#include "session.h"

static int encode(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	th_wbuf_init(w, 0);
	return proto_sess_encode(m, w);
}

/* Encodes m, decodes it back into *d; every truncation and a trailing byte
 * are refused. Returns the payload length. */
static size_t round_trip(const struct proto_sess_msg *m, struct proto_sess_msg *d)
{
	struct th_wbuf w;
	assert_int_equal(encode(m, &w), 0);
	size_t len = w.len - 4;
	assert_int_equal(th_get_le32(w.data), len);
	assert_int_equal(proto_sess_decode(w.data + 4, len, d), 0);
	assert_int_equal(d->type, m->type);
	struct proto_sess_msg x;
	for (size_t n = 0; n < len; n++)
		assert_true(proto_sess_decode(w.data + 4, n, &x) < 0);
	uint8_t *ext = th_wbuf_extend(&w, 1);
	ext[0] = 0;
	assert_int_equal(proto_sess_decode(w.data + 4, len + 1, &x), -EBADMSG);
	th_wbuf_fini(&w);
	return len;
}

static void admin_requests_and_results_round_trip_with_a_fixed_layout(void **state)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ADMIN_REQ }, d;
	m.u.areq = (struct proto_sess_admin_req){ .req_id = 0x01020304, .op = PROTO_SESS_ADMIN_ROLE, .peer_id = 7,
						  .role = PROTO_SESS_ROLE_VIEWER };
	assert_int_equal(round_trip(&m, &d), 2 + 4 + 1 + 4 + 1 + 32); /* speaker: zero but for a mute */
	assert_memory_equal(&d.u.areq, &m.u.areq, sizeof(m.u.areq));
	m.u.areq = (struct proto_sess_admin_req){ .req_id = 9, .op = PROTO_SESS_ADMIN_KICK, .peer_id = 3 };
	round_trip(&m, &d);
	assert_int_equal(d.u.areq.op, PROTO_SESS_ADMIN_KICK);
	assert_int_equal(d.u.areq.peer_id, 3);

	struct th_wbuf w;
	assert_int_equal(encode(&m, &w), 0);
	assert_int_equal(w.data[4], PROTO_SESS_T_ADMIN_REQ);
	assert_int_equal(w.data[6], 9); /* u32 LE req_id */
	assert_int_equal(w.data[10], PROTO_SESS_ADMIN_KICK);
	assert_int_equal(w.data[11], 3);
	th_wbuf_fini(&w);

	struct proto_sess_msg r = { .type = PROTO_SESS_T_ADMIN_RESULT };
	r.u.ares = (struct proto_sess_admin_result){ .req_id = 9, .code = PROTO_SESS_ERR_NOT_AUTHORIZED & 0xffff,
						     .peer_id = 3 };
	assert_int_equal(round_trip(&r, &d), 2 + 4 + 2 + 4 + 1);
	assert_int_equal(d.u.ares.code, PROTO_SESS_ERR_NOT_AUTHORIZED);
	r.u.ares = (struct proto_sess_admin_result){ .req_id = 10, .code = 0, .peer_id = 3, .role = PROTO_SESS_ROLE_ADMIN };
	round_trip(&r, &d);
	assert_int_equal(d.u.ares.role, PROTO_SESS_ROLE_ADMIN);
}

static void invalid_admin_messages_are_refused_both_ways(void **state)
{
	struct th_wbuf w;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ADMIN_REQ }, d;
	m.u.areq = (struct proto_sess_admin_req){ .req_id = 1, .op = PROTO_SESS_ADMIN_KICK, .peer_id = 1, .role = 2 };
	assert_int_equal(encode(&m, &w), -EINVAL); /* a kick carries no role */
	th_wbuf_fini(&w);
	m.u.areq.op = PROTO_SESS_ADMIN_ROLE;
	m.u.areq.role = 4;
	assert_int_equal(encode(&m, &w), -EINVAL);
	th_wbuf_fini(&w);
	m.u.areq.op = PROTO_SESS_ADMIN_UNMUTE + 1;
	m.u.areq.role = 1;
	assert_int_equal(encode(&m, &w), -EINVAL);
	th_wbuf_fini(&w);

	/* type 18, req 1, op, peer 1, role, speaker[32] */
	uint8_t p[44] = { PROTO_SESS_T_ADMIN_REQ, 0, 1, 0, 0, 0, PROTO_SESS_ADMIN_ROLE, 1, 0, 0, 0, 0 };
	assert_int_equal(proto_sess_decode(p, 44, &d), -EBADMSG); /* role 0 */
	p[11] = 2;
	assert_int_equal(proto_sess_decode(p, 44, &d), 0);
	assert_int_equal(proto_sess_decode(p, 12, &d), -EBADMSG); /* the old layout, without a speaker */
	p[6] = 0;
	assert_int_equal(proto_sess_decode(p, 44, &d), -EBADMSG); /* op 0 */
	p[6] = PROTO_SESS_ADMIN_KICK;
	assert_int_equal(proto_sess_decode(p, 44, &d), -EBADMSG); /* kick with a role */
	p[11] = 0;
	p[20] = 1;
	assert_int_equal(proto_sess_decode(p, 44, &d), -EBADMSG); /* kick naming a speaker */

	/* type 19, req 1, code, peer 1, role */
	uint8_t q[13] = { PROTO_SESS_T_ADMIN_RESULT, 0, 1, 0, 0, 0, 0x08, 0x01, 1, 0, 0, 0, 0 };
	assert_int_equal(proto_sess_decode(q, 13, &d), 0);
	q[6] = 0x00; /* 0x100: not an error code */
	assert_int_equal(proto_sess_decode(q, 13, &d), -EBADMSG);
	q[6] = 0x08;
	q[12] = 4;
	assert_int_equal(proto_sess_decode(q, 13, &d), -EBADMSG);
}

static void rejected_round_trips_and_refuses_bad_fields(void **state)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_REJECTED }, d;
	memset(m.u.rej.author, 0xab, 32);
	m.u.rej.seq = 5;
	m.u.rej.lamport = 0x1122334455ull;
	m.u.rej.reason = PROTO_IPC_REJECT_DENIED;
	strcpy(m.u.rej.text, "author's role is below the command's");
	size_t len = round_trip(&m, &d);
	assert_int_equal(len, 2 + 32 + 8 + 8 + 2 + 2 + strlen(m.u.rej.text));
	assert_memory_equal(d.u.rej.author, m.u.rej.author, 32);
	assert_int_equal(d.u.rej.seq, 5);
	assert_true(d.u.rej.lamport == 0x1122334455ull);
	assert_string_equal(d.u.rej.text, m.u.rej.text);

	struct th_wbuf w;
	struct proto_sess_msg bad = m;
	bad.u.rej.seq = 0;
	assert_int_equal(encode(&bad, &w), -EINVAL);
	th_wbuf_fini(&w);
	bad = m;
	bad.u.rej.reason = PROTO_SESS_REJECT_REASON_MAX + 1;
	assert_int_equal(encode(&bad, &w), -EINVAL);
	th_wbuf_fini(&w);
	bad = m;
	bad.u.rej.text[3] = '\n';
	assert_int_equal(encode(&bad, &w), -EINVAL);
	th_wbuf_fini(&w);

	/* A control byte in the text, or a text past the limit, on the wire. */
	assert_int_equal(encode(&m, &w), 0);
	w.data[w.len - 1] = 0x07;
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &d), -EBADMSG);
	th_wbuf_fini(&w);
	uint8_t big[2 + 32 + 8 + 8 + 2 + 2 + PROTO_SESS_REJECT_TEXT_MAX + 1];
	memset(big, 'x', sizeof(big));
	big[0] = PROTO_SESS_T_REJECTED;
	big[1] = 0;
	big[34] = 1; /* seq 1 */
	memset(big + 35, 0, 7);
	big[50] = 0;
	big[51] = 0; /* reason 0 */
	th_put_le16(big + 52, PROTO_SESS_REJECT_TEXT_MAX + 1);
	assert_int_equal(proto_sess_decode(big, sizeof(big), &d), -EBADMSG);
	th_put_le16(big + 52, PROTO_SESS_REJECT_TEXT_MAX);
	assert_int_equal(proto_sess_decode(big, sizeof(big) - 1, &d), 0);
	assert_int_equal(strlen(d.u.rej.text), PROTO_SESS_REJECT_TEXT_MAX);
}

static void the_rejected_event_payload_round_trips_and_is_validated(void **state)
{
	struct proto_sess_rejected r = { .seq = 3, .lamport = 99, .reason = PROTO_IPC_REJECT_CONFLICT }, d;
	memset(r.author, 0x11, 32);
	strcpy(r.text, "conflict");
	uint8_t buf[PROTO_SESS_REJECTED_EVENT_MAX];
	int n = proto_sess_rejected_event_encode(&r, buf, sizeof(buf));
	assert_int_equal(n, 32 + 8 + 8 + 4 + 2 + 8);
	assert_int_equal(th_get_le32(buf + 48), PROTO_IPC_REJECT_CONFLICT);
	assert_int_equal(proto_sess_rejected_event_decode(buf, (size_t)n, &d), 0);
	assert_memory_equal(&d, &r, sizeof(r) - sizeof(r.text));
	assert_string_equal(d.text, "conflict");
	for (int k = 0; k < n; k++)
		assert_int_equal(proto_sess_rejected_event_decode(buf, (size_t)k, &d), -EBADMSG);
	buf[n] = 0;
	assert_int_equal(proto_sess_rejected_event_decode(buf, (size_t)n + 1, &d), -EBADMSG);
	assert_int_equal(proto_sess_rejected_event_encode(&r, buf, (size_t)n - 1), -ENOSPC);
	th_put_le32(buf + 48, PROTO_SESS_REJECT_REASON_MAX + 1);
	assert_int_equal(proto_sess_rejected_event_decode(buf, (size_t)n, &d), -EBADMSG);
	th_put_le32(buf + 48, 0);
	memset(buf + 32, 0, 8); /* seq 0 */
	assert_int_equal(proto_sess_rejected_event_decode(buf, (size_t)n, &d), -EBADMSG);
	/* The wire reason codes are the IPC reject codes. */
	assert_int_equal(PROTO_SESS_REJECT_REASON_MAX, PROTO_IPC_REJECT_MAX);
	assert_true(PROTO_SESS_REJECTED_EVENT_MAX <= PROTO_IPC_MAX_EVENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(admin_requests_and_results_round_trip_with_a_fixed_layout),
		cmocka_unit_test(invalid_admin_messages_are_refused_both_ways),
		cmocka_unit_test(rejected_round_trips_and_refuses_bad_fields),
		cmocka_unit_test(the_rejected_event_payload_round_trips_and_is_validated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
