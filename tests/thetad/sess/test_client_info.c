/* thetad/sess/client_info: the SESSION_INFO a local client is sent, built
 * from the session and the net module's view (hosted, member linked with
 * and without an RTT sample, member not linked, no session), and when one
 * is due: at once the first time, then only on a change and at most every
 * SESS_CINFO_INTERVAL_NS, a small RTT wobble being no change. Pure, in
 * simulated time; the sending through a real daemon is
 * tests/integration/test_client_info.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "sess/client_info.h"
#include "sess/module.h"
#include "sess/sessions.h"
#include "th_buf.h"

static struct sess_session sess; /* large: not on the stack */

static void session(uint8_t role)
{
	memset(&sess, 0, sizeof sess);
	snprintf(sess.name, sizeof sess.name, "studio");
	for (unsigned i = 0; i < sizeof sess.id_bytes; i++)
		sess.id_bytes[i] = (uint8_t)(0x10 + i);
	sess.role = role;
	sess.log = NULL; /* no log open: position 0 */
}

static void built_from_the_session_and_its_links(void **state)
{
	(void)state;
	struct proto_ipc_session_info m;
	uint8_t enc[PROTO_IPC_MAXSZ_SESSION_INFO];

	/* No session: nothing but the state. */
	sess_cinfo_build(NULL, NULL, &m);
	assert_int_equal(m.host, PROTO_IPC_SINFO_HOST_NONE);
	assert_int_equal(m.session, 0);
	assert_string_equal(m.name, "");
	assert_true(proto_ipc_encode_session_info(&m, enc, sizeof enc) > 0);

	/* Hosted here: RTT 0, the members connected. */
	session(SESS_ROLE_HOST);
	struct sess_link_info li = { .peers = 3 };
	sess_cinfo_build(&sess, &li, &m);
	assert_int_equal(m.host, PROTO_IPC_SINFO_HOST_LOCAL);
	assert_int_equal(m.session, th_get_le64(sess.id_bytes));
	assert_string_equal(m.name, "studio");
	assert_int_equal(m.rtt_us, 0);
	assert_int_equal(m.peers, 3);
	assert_int_equal(m.log_pos, 0);
	/* Who speaks and the client's voice flags are the voice module's
	 * (sess_cinfo_tick asks its hook per client): empty here. */
	assert_int_equal(m.speaking, 0);
	assert_string_equal(m.speakers, "");
	assert_int_equal(m.voice, 0);
	assert_true(proto_ipc_encode_session_info(&m, enc, sizeof enc) > 0);

	/* A member linked to its host: the smoothed RTT in microseconds. */
	session(SESS_ROLE_MEMBER);
	li = (struct sess_link_info){ .peers = 1, .host_linked = true, .host_rtt_ns = 23456789 };
	sess_cinfo_build(&sess, &li, &m);
	assert_int_equal(m.host, PROTO_IPC_SINFO_HOST_REMOTE);
	assert_int_equal(m.rtt_us, 23457);
	assert_int_equal(m.peers, 1);
	/* Below half a microsecond (loopback) is still a measured RTT. */
	li.host_rtt_ns = 300;
	sess_cinfo_build(&sess, &li, &m);
	assert_int_equal(m.host, PROTO_IPC_SINFO_HOST_REMOTE);
	assert_int_equal(m.rtt_us, 1);
	/* Linked without a sample yet, not linked, or no net module: unknown. */
	li.host_rtt_ns = 0;
	sess_cinfo_build(&sess, &li, &m);
	assert_int_equal(m.host, PROTO_IPC_SINFO_HOST_UNKNOWN);
	assert_int_equal(m.rtt_us, 0);
	li = (struct sess_link_info){ .peers = 0, .host_linked = false, .host_rtt_ns = 5000 };
	sess_cinfo_build(&sess, &li, &m);
	assert_int_equal(m.host, PROTO_IPC_SINFO_HOST_UNKNOWN);
	assert_int_equal(m.rtt_us, 0);
	sess_cinfo_build(&sess, NULL, &m);
	assert_int_equal(m.host, PROTO_IPC_SINFO_HOST_UNKNOWN);
	assert_int_equal(m.peers, 0);
	assert_true(proto_ipc_encode_session_info(&m, enc, sizeof enc) > 0);
}

#define S (1000ull * 1000 * 1000)

static void due_on_change_at_most_once_an_interval(void **state)
{
	(void)state;
	session(SESS_ROLE_MEMBER);
	struct sess_link_info li = { .peers = 1, .host_linked = true, .host_rtt_ns = 20000000 };
	struct proto_ipc_session_info m;
	sess_cinfo_build(&sess, &li, &m);
	struct sess_cinfo ci = { 0 };
	uint64_t t = 1000 * S;
	/* The first one goes at once. */
	assert_true(sess_cinfo_due(&ci, &m, t));
	sess_cinfo_sent(&ci, &m, t);
	/* Nothing changed: never due, however long it waits. */
	assert_false(sess_cinfo_due(&ci, &m, t + 1));
	assert_false(sess_cinfo_due(&ci, &m, t + 3600 * S));
	/* A change within the interval waits for it. */
	struct proto_ipc_session_info n = m;
	n.log_pos = 7;
	assert_true(sess_cinfo_changed(&m, &n));
	assert_false(sess_cinfo_due(&ci, &n, t + SESS_CINFO_INTERVAL_NS - 1));
	assert_true(sess_cinfo_due(&ci, &n, t + SESS_CINFO_INTERVAL_NS));
	sess_cinfo_sent(&ci, &n, t + SESS_CINFO_INTERVAL_NS);
	t += SESS_CINFO_INTERVAL_NS;
	/* Every field counts. */
	struct proto_ipc_session_info k;
	k = n; k.session ^= 1; assert_true(sess_cinfo_changed(&n, &k));
	k = n; k.host = PROTO_IPC_SINFO_HOST_UNKNOWN; assert_true(sess_cinfo_changed(&n, &k));
	k = n; k.peers = 2; assert_true(sess_cinfo_changed(&n, &k));
	k = n; k.speaking = 1; assert_true(sess_cinfo_changed(&n, &k));
	k = n; k.log_pos++; assert_true(sess_cinfo_changed(&n, &k));
	k = n; k.voice ^= PROTO_IPC_VINFO_F_MUTED; assert_true(sess_cinfo_changed(&n, &k));
	k = n; k.voice ^= PROTO_IPC_VINFO_F_SENDING; assert_true(sess_cinfo_changed(&n, &k));
	k = n; snprintf(k.name, sizeof k.name, "other"); assert_true(sess_cinfo_changed(&n, &k));
	k = n; snprintf(k.speakers, sizeof k.speakers, "alice"); assert_true(sess_cinfo_changed(&n, &k));
	/* The RTT: a wobble below both steps is no change; 1 ms or 10% is. */
	assert_int_equal(n.rtt_us, 20000);
	k = n; k.rtt_us = 20000 + 999; assert_false(sess_cinfo_changed(&n, &k));
	assert_false(sess_cinfo_due(&ci, &k, t + 10 * S));
	k = n; k.rtt_us = 20000 + SESS_CINFO_RTT_STEP_US; assert_true(sess_cinfo_changed(&n, &k));
	k = n; k.rtt_us = 20000 - SESS_CINFO_RTT_STEP_US; assert_true(sess_cinfo_changed(&n, &k));
	struct proto_ipc_session_info lo = n, lo2;
	lo.rtt_us = 500;
	lo2 = lo;
	lo2.rtt_us = 500 + 51; /* 10% of 551 is 55: not more */
	assert_false(sess_cinfo_changed(&lo, &lo2));
	lo2.rtt_us = 500 + 100; /* more than 10% of 600 */
	assert_true(sess_cinfo_changed(&lo, &lo2));
	/* Losing the host is a change (REMOTE -> UNKNOWN, RTT 0). */
	li.host_linked = false;
	sess_cinfo_build(&sess, &li, &k);
	assert_true(sess_cinfo_due(&ci, &k, t + SESS_CINFO_INTERVAL_NS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(built_from_the_session_and_its_links),
		cmocka_unit_test(due_on_change_at_most_once_an_interval),
	};
	return cmocka_run_group_tests_name("sess_client_info", tests, NULL, NULL);
}
