/* thetad/ipc/server: handshake, round trip, refusals, hostile clients
 * (scribbler process, bad fds, socket flood, wrong-direction records),
 * hang-up and backpressure. The server runs on a th_loop in this thread;
 * test clients speak the protocol directly with th_fdpass and th_ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipc.h" /* proto/ipc.h */
#include "ipc/server.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_fdpass.h"
#include "th_loop.h"
#include "th_ring.h"
#include "th_shm.h"
#include "th_time.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc_tcli.h"

/* ---- tests --------------------------------------------------------------- */

static void hello_welcome_and_ping_round_trip(void **state)
{
	struct env *e = *state;
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	assert_int_equal(ipc_server_nclients(e->srv), 1);
	for (uint64_t i = 1; i <= 100; i++) {
		tcli_ping(&c, i);
		expect_pong(e, &c, i);
	}
	struct json_object *a = ipc_server_clients_json(e->srv, (uid_t)-1, th_now_ns());
	assert_int_equal(json_object_array_length(a), 1);
	struct json_object *o = json_object_array_get_idx(a, 0), *v, *td;
	assert_true(json_object_object_get_ex(o, "pid", &v));
	assert_int_equal(json_object_get_int(v), getpid());
	assert_true(json_object_object_get_ex(o, "name", &v));
	assert_string_equal(json_object_get_string(v), "test-client");
	assert_true(json_object_object_get_ex(o, "to_daemon", &td));
	assert_true(json_object_object_get_ex(td, "records", &v));
	assert_int_equal(json_object_get_int(v), 100);
	json_object_put(a);
	/* Another user's view is empty. */
	a = ipc_server_clients_json(e->srv, getuid() + 1, th_now_ns());
	assert_int_equal(json_object_array_length(a), 0);
	json_object_put(a);
	tcli_close(&c);
}

static void protocol_hash_mismatch_is_refused_with_both_hashes(void **state)
{
	struct env *e = *state;
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0x55), -EPROTO);
	assert_int_equal(c.refuse_reason, PROTO_IPC_REFUSE_PROTO_HASH);
	char ours[32];
	snprintf(ours, sizeof ours, "%016llx", (unsigned long long)proto_ipc_hash());
	assert_non_null(strstr(c.refuse_detail, ours));
	pump(e, 3);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.refused, 1);
	tcli_close(&c);
}

static void hang_up_frees_the_client(void **state)
{
	struct env *e = *state;
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	assert_int_equal(ipc_server_nclients(e->srv), 1);
	close(c.sock);
	c.sock = -1;
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 0);
	tcli_close(&c);
}

static void descriptors_in_hello_drop_the_client(void **state)
{
	struct env *e = *state;
	int s = raw_connect(e);
	int efd = eventfd(0, EFD_CLOEXEC);
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	struct proto_ipc_hello h = { .pid = 1 };
	int n = proto_ipc_sock_encode(PROTO_IPC_T_HELLO, &h, b, sizeof b);
	assert_int_equal(th_fdpass_send(s, b, (size_t)n, &efd, 1), 0);
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 1);
	close(efd);
	close(s);
}

static void garbage_hello_and_socket_flood_drop_the_client(void **state)
{
	struct env *e = *state;
	int s = raw_connect(e);
	assert_int_equal(send(s, "garbage!garbage!garbage!", 24, 0), 24);
	pump(e, 5);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 1);
	close(s);
	/* After the handshake the socket carries nothing from the client. */
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	for (int i = 0; i < 100; i++)
		send(c.sock, "flood", 5, MSG_DONTWAIT | MSG_NOSIGNAL);
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 2);
	tcli_close(&c);
}

static void wrong_direction_or_malformed_record_drops_the_client(void **state)
{
	struct env *e = *state;
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	struct proto_ipc_cmd_ack ack = { .client_seq = 1 };
	uint8_t b[64];
	int n = proto_ipc_encode_cmd_ack(&ack, b, sizeof b);
	assert_int_equal(th_ring_push(&c.out, PROTO_IPC_T_CMD_ACK, b, (uint32_t)n), 0);
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	tcli_close(&c);
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	assert_int_equal(th_ring_push(&c.out, PROTO_IPC_T_PING, "short", 5), 0);
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 2);
	tcli_close(&c);
}

/* A second process scribbles random bytes over client A's live mapping
 * and rings A's doorbell while client B keeps exchanging pings: A is
 * dropped and counted, B never misses a pong. */
static void scribbler_drops_only_its_victim(void **state)
{
	struct env *e = *state;
	struct tcli a, b;
	assert_int_equal(tcli_connect(e, &a, 0), 0);
	assert_int_equal(tcli_connect(e, &b, 0), 0);
	tcli_ping(&a, 1);
	expect_pong(e, &a, 1);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *m = a.shm.base;
		uint64_t x = 0x2545f4914f6cdd1dull, end = th_now_ns() + 300 * TH_NS_PER_MS;
		while (th_now_ns() < end) {
			for (int i = 0; i < 64; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				((volatile uint8_t *)m)[(x >> 11) % a.shm.size] = (uint8_t)x;
				if (!(x & 7)) /* indices too */
					*(volatile uint64_t *)(void *)(m + TH_RING_OFF_HEAD) = x >> 3;
			}
			uint64_t one = 1;
			if (write(a.bell_c2d, &one, 8) < 0)
				break;
			usleep(100);
		}
		_exit(0);
	}
	uint64_t seq = 1;
	int status;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		tcli_ping(&b, ++seq);
		expect_pong(e, &b, seq);
	}
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 1);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 1);
	for (int i = 0; i < 10; i++) {
		tcli_ping(&b, ++seq);
		expect_pong(e, &b, seq);
	}
	print_message("good client exchanged %llu pings during the scribbling\n", (unsigned long long)seq);
	tcli_close(&a);
	tcli_close(&b);
}

static void full_ring_drops_ephemeral_and_resyncs_reliable(void **state)
{
	struct env *e = *state;
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	/* The client does not read: fill its ring with poses. */
	struct proto_ipc_pose_update pose = { .qw = 1.0f };
	for (int i = 0; i < 10000; i++) {
		pose.entity = (uint64_t)i;
		assert_int_equal(ipc_server_send(e->srv, c.id, PROTO_IPC_T_POSE_UPDATE, &pose), 0);
	}
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_true(t.ephemeral_drops > 0);
	/* Reliable messages queue (64 allowed here), then the client is resynced. */
	struct proto_ipc_cmd_ack ack = { 0 };
	for (int i = 0; i < 200; i++) {
		ack.client_seq = (uint64_t)i;
		assert_int_equal(ipc_server_send(e->srv, c.id, PROTO_IPC_T_CMD_ACK, &ack), 0);
	}
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.resyncs, 1);
	/* Not a client->daemon type: refused. */
	assert_int_equal(ipc_server_send(e->srv, c.id, PROTO_IPC_T_CMD_SUBMIT, &ack), -EINVAL);
	assert_int_equal(ipc_server_send(e->srv, 9999, PROTO_IPC_T_CMD_ACK, &ack), -ENOENT);
	/* The client catches up: poses, then the resync notice. */
	struct th_ring_rec rec;
	bool resync = false;
	for (int i = 0; i < 20000 && !resync; i++) {
		int r = th_ring_pop(&c.in, &rec, rbuf, sizeof rbuf);
		if (r == 0) {
			ipc_server_tick(e->srv, th_now_ns());
			continue;
		}
		assert_int_equal(r, 1);
		if (rec.type == PROTO_IPC_T_RESYNC_REQUEST) {
			struct proto_ipc_resync_request rr;
			assert_int_equal(proto_ipc_decode_resync_request(rbuf, rec.len, &rr, NULL), 0);
			assert_int_equal(rr.reason, PROTO_IPC_RESYNC_QUEUE_OVERFLOW);
			resync = true;
		} else {
			assert_int_equal(rec.type, PROTO_IPC_T_POSE_UPDATE);
		}
	}
	assert_true(resync);
	tcli_close(&c);
}

/* The owner's admit callback sees the kernel's view of the client and can
 * refuse it with a reason and a sentence; a connected client can be closed
 * the same way (REFUSE on its socket, then the hang-up). */
struct admit_log {
	unsigned admits, connects, disconnects;
	uid_t uid;
	char user[64];
	bool refuse;
	uint64_t last_id;
};

static int test_admit(void *user, uint64_t id, const struct ipc_peer *p, uint32_t *reason, char *why, size_t len)
{
	struct admit_log *a = user;
	a->admits++;
	a->uid = p->uid;
	snprintf(a->user, sizeof a->user, "%s", p->user);
	if (!a->refuse)
		return 0;
	*reason = PROTO_IPC_REFUSE_NOT_MEMBER;
	snprintf(why, len, "user %s is not a member of session s", p->user);
	return -EACCES;
}

static void test_connected(void *user, uint64_t id, const struct ipc_peer *p)
{
	struct admit_log *a = user;
	a->connects++;
	a->last_id = id;
}

static void test_gone(void *user, uint64_t id)
{
	((struct admit_log *)user)->disconnects++;
}

static void owner_admits_refuses_and_closes_clients(void **state)
{
	struct env *e = *state;
	struct admit_log a = { .refuse = true };
	struct ipc_callbacks cb = { .admit = test_admit, .on_connect = test_connected, .on_disconnect = test_gone };
	ipc_server_set_callbacks(e->srv, &cb, &a);
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), -EPROTO);
	assert_int_equal(c.refuse_reason, PROTO_IPC_REFUSE_NOT_MEMBER);
	char want[128];
	snprintf(want, sizeof want, "user %s is not a member of session s", a.user);
	assert_string_equal(c.refuse_detail, want);
	assert_int_equal(a.uid, getuid());
	assert_int_equal(a.connects, 0);
	pump(e, 3);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.refused, 1);
	assert_int_equal(t.violations, 0);
	close(c.sock); /* a refused client has nothing else open */

	a.refuse = false;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	assert_int_equal(a.connects, 1);
	assert_int_equal(a.last_id, c.id);
	assert_int_equal(ipc_server_close(e->srv, c.id, PROTO_IPC_REFUSE_NOT_MEMBER, "you were denied"), 0);
	assert_int_equal(ipc_server_close(e->srv, c.id, PROTO_IPC_REFUSE_NOT_MEMBER, "twice"), -ENOENT);
	assert_int_equal(a.disconnects, 1);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	size_t nfds = 0;
	int n = th_fdpass_recv(c.sock, b, sizeof b, NULL, 0, &nfds);
	assert_true(n > 0);
	struct proto_ipc_sock_hdr hdr;
	union proto_ipc_any m;
	assert_int_equal(proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &hdr, &m, NULL), 0);
	assert_int_equal(hdr.type, PROTO_IPC_T_REFUSE);
	assert_int_equal(m.refuse.reason, PROTO_IPC_REFUSE_NOT_MEMBER);
	assert_string_equal(m.refuse.detail, "you were denied");
	assert_int_equal(th_fdpass_recv(c.sock, b, sizeof b, NULL, 0, &nfds), 0); /* then the hang-up */
	tcli_close(&c);
	ipc_server_set_callbacks(e->srv, NULL, NULL);
}

/* Held sends stay invisible to a sleeping client until one flush
 * publishes them all, in order, with one doorbell. */
static void held_sends_are_published_by_one_flush_with_one_doorbell(void **state)
{
	struct env *e = *state;
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	assert_int_equal(th_ring_prepare_sleep(&c.in), 0);
	struct proto_ipc_cmd_ack ack = { 0 };
	for (int i = 0; i < 50; i++) {
		ack.client_seq = (uint64_t)i;
		assert_int_equal(ipc_server_send_held(e->srv, c.id, PROTO_IPC_T_CMD_ACK, &ack), 0);
	}
	assert_int_equal(ipc_server_send_held(e->srv, 9999, PROTO_IPC_T_CMD_ACK, &ack), -ENOENT);
	assert_false(th_ring_pending(&c.in));
	struct pollfd p = { .fd = c.bell_d2c, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	ipc_server_flush(e->srv);
	assert_true(th_ring_pending(&c.in));
	uint64_t rung = 0;
	assert_int_equal(read(c.bell_d2c, &rung, sizeof rung), (ssize_t)sizeof rung);
	assert_int_equal(rung, 1);
	struct th_ring_rec rec;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(th_ring_pop(&c.in, &rec, rbuf, sizeof rbuf), 1);
		assert_int_equal(rec.type, PROTO_IPC_T_CMD_ACK);
		struct proto_ipc_cmd_ack got;
		assert_int_equal(proto_ipc_decode_cmd_ack(rbuf, rec.len, &got, NULL), 0);
		assert_int_equal(got.client_seq, (uint64_t)i);
	}
	assert_int_equal(th_ring_pop(&c.in, &rec, rbuf, sizeof rbuf), 0);
	tcli_close(&c);
}

/* ---- INPUT_INFO ------------------------------------------------------------ */

static void tcli_input(struct tcli *c, uint32_t source, const char *left, const char *right)
{
	struct proto_ipc_input_info m = { .source = source };
	snprintf(m.left, sizeof m.left, "%s", left);
	snprintf(m.right, sizeof m.right, "%s", right);
	uint8_t b[PROTO_IPC_MAXSZ_INPUT_INFO];
	int n = proto_ipc_encode_input_info(&m, b, sizeof b);
	assert_true(n > 0);
	assert_int_equal(th_ring_push(&c->out, PROTO_IPC_T_INPUT_INFO, b, (uint32_t)n), 0);
}

/* The "input" object of client id in the server's list (NULL: null);
 * "source", "left", "right" copied out. */
static bool listed_input(struct env *e, uint64_t id, char src[16], char left[256], char right[256])
{
	struct json_object *a = ipc_server_clients_json(e->srv, (uid_t)-1, th_now_ns()), *in = NULL;
	bool found = false, has = false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i), *v;
		assert_true(json_object_object_get_ex(o, "id", &v));
		if ((uint64_t)json_object_get_int64(v) != id)
			continue;
		found = true;
		/* The key is always there: null until the client reports. */
		assert_true(json_object_object_get_ex(o, "input", &in));
		if (in) {
			has = true;
			assert_true(json_object_object_get_ex(in, "source", &v));
			snprintf(src, 16, "%s", json_object_get_string(v));
			assert_true(json_object_object_get_ex(in, "left", &v));
			snprintf(left, 256, "%s", json_object_get_string(v));
			assert_true(json_object_object_get_ex(in, "right", &v));
			snprintf(right, 256, "%s", json_object_get_string(v));
		}
	}
	assert_true(found);
	json_object_put(a);
	return has;
}

static void input_info_is_kept_and_listed_per_client(void **state)
{
	struct env *e = *state;
	struct tcli a, b;
	char src[16], left[256], right[256];
	assert_int_equal(tcli_connect(e, &a, 0), 0);
	assert_int_equal(tcli_connect(e, &b, 0), 0);
	assert_false(listed_input(e, a.id, src, left, right));
	tcli_input(&a, PROTO_IPC_INPUT_OPENXR, "/interaction_profiles/oculus/touch_controller",
		   "/interaction_profiles/valve/index_controller");
	tcli_ping(&a, 1);
	expect_pong(e, &a, 1); /* records are handled in order: the info came first */
	assert_true(listed_input(e, a.id, src, left, right));
	assert_string_equal(src, "openxr");
	assert_string_equal(left, "/interaction_profiles/oculus/touch_controller");
	assert_string_equal(right, "/interaction_profiles/valve/index_controller");
	assert_false(listed_input(e, b.id, src, left, right)); /* b said nothing */
	/* A newer report replaces the older one. */
	tcli_input(&a, PROTO_IPC_INPUT_DESKTOP, "", "");
	tcli_input(&b, PROTO_IPC_INPUT_SCRIPT, "", "");
	tcli_ping(&a, 2);
	expect_pong(e, &a, 2);
	tcli_ping(&b, 3);
	expect_pong(e, &b, 3);
	assert_true(listed_input(e, a.id, src, left, right));
	assert_string_equal(src, "desktop");
	assert_string_equal(left, "");
	assert_string_equal(right, "");
	assert_true(listed_input(e, b.id, src, left, right));
	assert_string_equal(src, "script");
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 0);
	tcli_close(&a);
	tcli_close(&b);
}

/* INPUT_INFO bytes that break its rules, and a SESSION_INFO (daemon ->
 * client only) from a client: each drops that client, counted. */
static void bad_input_info_drops_the_client(void **state)
{
	struct env *e = *state;
	struct tcli c;
	uint8_t b[64];
	static const char *const bad_left[] = { "/interaction_profiles/Oculus", "interaction_profiles/x", "/a//b",
						"/a\x1b[2J" };
	for (size_t i = 0; i < sizeof bad_left / sizeof bad_left[0]; i++) {
		assert_int_equal(tcli_connect(e, &c, 0), 0);
		size_t l = strlen(bad_left[i]);
		th_put_le32(b, PROTO_IPC_INPUT_OPENXR);
		th_put_le16(b + 4, (uint16_t)l);
		memcpy(b + 6, bad_left[i], l);
		th_put_le16(b + 6 + l, 0);
		assert_int_equal(th_ring_push(&c.out, PROTO_IPC_T_INPUT_INFO, b, (uint32_t)(8 + l)), 0);
		pump(e, 5);
		assert_int_equal(ipc_server_nclients(e->srv), 0);
		tcli_close(&c);
	}
	/* A source past the last. */
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	th_put_le32(b, PROTO_IPC_INPUT_MAX + 1);
	th_put_le16(b + 4, 0);
	th_put_le16(b + 6, 0);
	assert_int_equal(th_ring_push(&c.out, PROTO_IPC_T_INPUT_INFO, b, 8), 0);
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	tcli_close(&c);
	/* SESSION_INFO travels daemon -> client only. */
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	struct proto_ipc_session_info si = { .host = PROTO_IPC_SINFO_HOST_NONE };
	int n = proto_ipc_encode_session_info(&si, b, sizeof b);
	assert_true(n > 0);
	assert_int_equal(th_ring_push(&c.out, PROTO_IPC_T_SESSION_INFO, b, (uint32_t)n), 0);
	pump(e, 5);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 6);
	tcli_close(&c);
}

/* The daemon's SESSION_INFO reaches the client as sent (ephemeral: sent at
 * once while the ring has room). */
static void session_info_reaches_the_client(void **state)
{
	struct env *e = *state;
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	struct proto_ipc_session_info si = { .session = 0x1234, .host = PROTO_IPC_SINFO_HOST_REMOTE, .rtt_us = 4321,
					     .peers = 1, .log_pos = 99 };
	snprintf(si.name, sizeof si.name, "studio");
	assert_true(ipc_server_room(e->srv, c.id) >= PROTO_IPC_MAXSZ_SESSION_INFO);
	assert_int_equal(ipc_server_send(e->srv, c.id, PROTO_IPC_T_SESSION_INFO, &si), 0);
	struct th_ring_rec rec;
	assert_int_equal(tcli_recv(e, &c, &rec, rbuf), 1);
	assert_int_equal(rec.type, PROTO_IPC_T_SESSION_INFO);
	struct proto_ipc_session_info d;
	assert_int_equal(proto_ipc_decode_session_info(rbuf, rec.len, &d, NULL), 0);
	assert_int_equal(d.session, 0x1234);
	assert_int_equal(d.rtt_us, 4321);
	assert_int_equal(d.log_pos, 99);
	assert_string_equal(d.name, "studio");
	tcli_close(&c);
}

/* A record's handler may let its own client go (ipc_server_close from the
 * owner's callback, a send that finds the client's ring broken): the rest
 * of that doorbell's batch is not read from the freed client. */
struct close_on_resync {
	struct env *e;
	unsigned calls;
};

static void close_it(void *user, uint64_t id, const struct proto_ipc_resync_request *rq, uint64_t now_ns)
{
	struct close_on_resync *x = user;
	x->calls++;
	assert_int_equal(ipc_server_close(x->e->srv, id, PROTO_IPC_REFUSE_NOT_MEMBER, "closed by its handler"), 0);
}

static void a_handler_that_closes_its_client_ends_the_batch(void **state)
{
	struct env *e = *state;
	struct close_on_resync x = { .e = e };
	struct ipc_callbacks cb = { .on_resync = close_it };
	ipc_server_set_callbacks(e->srv, &cb, &x);
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	/* Three records in one batch: the first closes the client. */
	struct proto_ipc_resync_request rq = { .reason = PROTO_IPC_RESYNC_CLIENT_ASKED };
	uint8_t b[64];
	int n = proto_ipc_encode_resync_request(&rq, b, sizeof b);
	assert_true(n > 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(th_ring_push(&c.out, PROTO_IPC_T_RESYNC_REQUEST, b, (uint32_t)n), 0);
	assert_int_equal(th_ring_flush(&c.out), 0);
	pump(e, 5);
	assert_int_equal(x.calls, 1); /* the others were not read from the freed client */
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	/* The server goes on: a new client is served. */
	struct tcli d;
	ipc_server_set_callbacks(e->srv, NULL, NULL);
	assert_int_equal(tcli_connect(e, &d, 0), 0);
	tcli_ping(&d, 7);
	assert_int_equal(th_ring_flush(&d.out), 0);
	expect_pong(e, &d, 7);
	tcli_close(&d);
	tcli_close(&c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(hello_welcome_and_ping_round_trip),
		T(protocol_hash_mismatch_is_refused_with_both_hashes),
		T(hang_up_frees_the_client),
		T(descriptors_in_hello_drop_the_client),
		T(garbage_hello_and_socket_flood_drop_the_client),
		T(wrong_direction_or_malformed_record_drops_the_client),
		T(scribbler_drops_only_its_victim),
		T(full_ring_drops_ephemeral_and_resyncs_reliable),
		T(held_sends_are_published_by_one_flush_with_one_doorbell),
		T(owner_admits_refuses_and_closes_clients),
		T(input_info_is_kept_and_listed_per_client),
		T(bad_input_info_drops_the_client),
		T(session_info_reaches_the_client),
		T(a_handler_that_closes_its_client_ends_the_batch),
	};
	return cmocka_run_group_tests_name("ipc_server", tests, NULL, NULL);
}
