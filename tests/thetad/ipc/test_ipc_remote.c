/* thetad/ipc/server: remote clients (ipc_server_attach and friends). The
 * server runs on a th_loop in this thread; the remote transport is a fake
 * ipc_remote_ops that records what it is sent and can say -EAGAIN, the
 * stand-in for a browser's data channel (thetad/web/web_bridge.c is the
 * real one). Records in go through the same validation as a ring's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipc.h" /* proto/ipc.h */
#include "ipc/server.h"
#include "th_loop.h"
#include "th_time.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc_tcli.h"

#define FAKE_MAX_RECS 128u
#define FAKE_BODY_MAX 1024u /* what the tests send back is small; the length is kept whole */

struct fake_rec {
	uint16_t type;
	bool reliable;
	size_t len;
	uint8_t body[FAKE_BODY_MAX];
};

/* The transport: records it took, whether it is full, what closed said. */
struct fake {
	struct fake_rec rec[FAKE_MAX_RECS];
	unsigned n;
	bool full;
	int fail; /* a hard error to answer, 0: none */
	uint32_t room;
	unsigned closed;
	uint32_t closed_reason;
	char closed_detail[256];
};

static int fake_send(void *user, const uint8_t *rec, size_t len, bool reliable)
{
	struct fake *f = user;
	if (f->fail)
		return f->fail;
	if (f->full)
		return -EAGAIN;
	assert_true(len >= 2 && len - 2 <= PROTO_IPC_MAX_MSG);
	assert_true(f->n < FAKE_MAX_RECS);
	struct fake_rec *r = &f->rec[f->n++];
	r->type = (uint16_t)(rec[0] | rec[1] << 8);
	r->reliable = reliable;
	r->len = len - 2;
	assert_true(r->len <= FAKE_BODY_MAX);
	memcpy(r->body, rec + 2, r->len);
	return 0;
}

static uint32_t fake_room(void *user)
{
	struct fake *f = user;
	return f->full ? 0 : f->room;
}

static void fake_closed(void *user, uint32_t reason, const char *detail)
{
	struct fake *f = user;
	f->closed++;
	f->closed_reason = reason;
	snprintf(f->closed_detail, sizeof f->closed_detail, "%s", detail ? detail : "");
}

static const struct ipc_remote_ops fake_ops = { .send = fake_send, .room = fake_room, .closed = fake_closed };

/* What the owner (the sessions module, in thetad) hears. */
struct owner {
	unsigned admits, connects, disconnects, submits, poses, resyncs;
	bool refuse;
	uid_t uid;
	bool had_session;
	uint8_t session_id[16];
	char kind[16], user[64];
	uint64_t last_id;
	uint64_t submit_seq;
	uid_t submit_uid;
};

static int own_admit(void *user, uint64_t id, const struct ipc_peer *p, uint32_t *reason, char *why, size_t len)
{
	struct owner *o = user;
	o->admits++;
	o->uid = p->uid;
	o->had_session = p->session_id != NULL;
	if (p->session_id)
		memcpy(o->session_id, p->session_id, 16);
	snprintf(o->kind, sizeof o->kind, "%s", p->kind ? p->kind : "");
	snprintf(o->user, sizeof o->user, "%s", p->user);
	if (!o->refuse)
		return 0;
	*reason = PROTO_IPC_REFUSE_NOT_MEMBER;
	snprintf(why, len, "browser %s is not a member of the session", p->user);
	return -EACCES;
}

static void own_connect(void *user, uint64_t id, const struct ipc_peer *p)
{
	struct owner *o = user;
	o->connects++;
	o->last_id = id;
	assert_non_null(p->session_id);
	assert_string_equal(p->kind, "browser");
}

static void own_gone(void *user, uint64_t id)
{
	((struct owner *)user)->disconnects++;
}

static void own_submit(void *user, uint64_t id, uid_t uid, const struct proto_ipc_cmd_submit *m, uint64_t now)
{
	struct owner *o = user;
	o->submits++;
	o->submit_seq = m->client_seq;
	o->submit_uid = uid;
}

static void own_pose(void *user, uint64_t id, uid_t uid, const struct proto_ipc_pose_update *m, uint64_t now)
{
	((struct owner *)user)->poses++;
}

static void own_resync(void *user, uint64_t id, const struct proto_ipc_resync_request *m, uint64_t now)
{
	((struct owner *)user)->resyncs++;
}

static const struct ipc_callbacks own_cb = { .admit = own_admit,
					     .on_connect = own_connect,
					     .on_disconnect = own_gone,
					     .on_submit = own_submit,
					     .on_pose = own_pose,
					     .on_resync = own_resync };

static const uint8_t SID[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
#define BROWSER_UID 0xC0000007u

static uint64_t attach(struct env *e, struct owner *o, struct fake *f)
{
	ipc_server_set_callbacks(e->srv, &own_cb, o);
	struct ipc_peer p = { .uid = BROWSER_UID, .gid = BROWSER_UID, .user = "Ada (browser)", .session_id = SID,
			      .kind = "browser" };
	uint64_t id = 0;
	uint32_t reason = 0;
	char why[256] = "";
	f->room = 64 * 1024;
	assert_int_equal(ipc_server_attach(e->srv, &p, &fake_ops, f, &id, &reason, why, sizeof why), 0);
	assert_true(id != 0);
	return id;
}

/* A record as the transport carries it: u16 type LE + the encoded body. */
static size_t make_rec(uint16_t type, const void *msg, uint8_t *buf, size_t cap)
{
	int n = proto_ipc_encode(type, msg, buf + 2, cap - 2);
	assert_true(n >= 0);
	buf[0] = (uint8_t)type;
	buf[1] = (uint8_t)(type >> 8);
	return (size_t)n + 2;
}

static int send_msg(struct env *e, uint64_t id, uint16_t type, const void *msg)
{
	uint8_t b[2 + PROTO_IPC_MAX_MSG];
	size_t n = make_rec(type, msg, b, sizeof b);
	return ipc_server_remote_input(e->srv, id, b, n, th_now_ns());
}

static struct json_object *only_row(struct env *e)
{
	struct json_object *a = ipc_server_clients_json(e->srv, (uid_t)-1, th_now_ns());
	assert_int_equal(json_object_array_length(a), 1);
	return a;
}

/* Transports and owners outlive each test's frame: the server (destroyed
 * in the teardown) still calls them for the clients a test leaves. */
#define POOL_FAKES (IPC_MAX_CLIENTS_DEFAULT + 8u)
static struct fake g_fake[POOL_FAKES];
static unsigned g_nfake;
static struct owner g_owner[16];
static unsigned g_nowner;

static struct fake *new_fake(void)
{
	assert_true(g_nfake < POOL_FAKES);
	struct fake *f = &g_fake[g_nfake++];
	memset(f, 0, sizeof *f);
	return f;
}

static struct owner *new_owner(void)
{
	assert_true(g_nowner < 16);
	struct owner *o = &g_owner[g_nowner++];
	memset(o, 0, sizeof *o);
	return o;
}

static int setup(void **state)
{
	g_nfake = g_nowner = 0;
	return env_setup(state);
}

/* ---- tests --------------------------------------------------------------- */

static void attach_admits_connects_and_lists_a_browser(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	struct fake *f = new_fake();
	uint64_t id = attach(e, o, f);
	assert_int_equal(o->admits, 1);
	assert_int_equal(o->connects, 1);
	assert_int_equal(o->last_id, id);
	assert_int_equal(o->uid, BROWSER_UID);
	assert_true(o->had_session);
	assert_memory_equal(o->session_id, SID, 16);
	assert_string_equal(o->kind, "browser");
	assert_int_equal(ipc_server_nclients(e->srv), 1);

	struct proto_ipc_client_info ci = { .mode = PROTO_IPC_MODE_BROWSER };
	snprintf(ci.name, sizeof ci.name, "Ada's laptop");
	snprintf(ci.version, sizeof ci.version, "web");
	assert_int_equal(send_msg(e, id, PROTO_IPC_T_CLIENT_INFO, &ci), 0);

	struct json_object *a = only_row(e), *row = json_object_array_get_idx(a, 0), *v, *td;
	assert_true(json_object_object_get_ex(row, "kind", &v));
	assert_string_equal(json_object_get_string(v), "browser");
	assert_true(json_object_object_get_ex(row, "mode", &v));
	assert_string_equal(json_object_get_string(v), "browser");
	assert_false(json_object_object_get_ex(row, "pid", &v)); /* no process here */
	assert_true(json_object_object_get_ex(row, "name", &v));
	assert_string_equal(json_object_get_string(v), "Ada's laptop");
	assert_true(json_object_object_get_ex(row, "user", &v));
	assert_string_equal(json_object_get_string(v), "Ada (browser)");
	assert_true(json_object_object_get_ex(row, "uid", &v));
	assert_int_equal((uint32_t)json_object_get_int64(v), BROWSER_UID);
	assert_true(json_object_object_get_ex(row, "to_daemon", &td));
	assert_true(json_object_object_get_ex(td, "records", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_false(json_object_object_get_ex(td, "wakeups", &v)); /* no doorbell */
	json_object_put(a);

	/* A browser has no voice rings. */
	uint8_t pcm[PROTO_IPC_VOICE_OUT_BYTES] = { 0 };
	struct proto_ipc_voice_out vo = { .seq = 1, .pcm = pcm, .pcm_len = sizeof pcm };
	assert_int_equal(ipc_server_send_voice(e->srv, id, &vo), -ENOTSUP);
}

static void a_refused_attach_says_why_and_leaves_nothing(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	o->refuse = true;
	struct fake *f = new_fake();
	ipc_server_set_callbacks(e->srv, &own_cb, o);
	struct ipc_peer p = { .uid = BROWSER_UID, .user = "Bob", .session_id = SID, .kind = "browser" };
	uint64_t id = 0;
	uint32_t reason = 0;
	char why[256] = "";
	assert_int_equal(ipc_server_attach(e->srv, &p, &fake_ops, f, &id, &reason, why, sizeof why), -EPERM);
	assert_int_equal(reason, PROTO_IPC_REFUSE_NOT_MEMBER);
	assert_string_equal(why, "browser Bob is not a member of the session");
	assert_int_equal(f->closed, 0);
	assert_int_equal(o->connects, 0);
	assert_int_equal(o->disconnects, 0);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.refused, 1);
}

static void records_in_reach_the_owner_and_answers_come_back(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	struct fake *f = new_fake();
	uint64_t id = attach(e, o, f);

	struct proto_ipc_ping ping = { .seq = 42, .send_ns = 7 };
	assert_int_equal(send_msg(e, id, PROTO_IPC_T_PING, &ping), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->rec[0].type, PROTO_IPC_T_PONG);
	assert_true(f->rec[0].reliable);
	struct proto_ipc_pong pong;
	assert_int_equal(proto_ipc_decode_pong(f->rec[0].body, f->rec[0].len, &pong, NULL), 0);
	assert_int_equal(pong.seq, 42);
	assert_int_equal(pong.send_ns, 7);

	uint8_t payload[8] = { 1, 2, 3 };
	struct proto_ipc_cmd_submit cs = { .client_seq = 9, .nonce = 5, .cmd_type = 1, .payload = payload,
					   .payload_len = sizeof payload };
	assert_int_equal(send_msg(e, id, PROTO_IPC_T_CMD_SUBMIT, &cs), 0);
	assert_int_equal(o->submits, 1);
	assert_int_equal(o->submit_seq, 9);
	assert_int_equal(o->submit_uid, BROWSER_UID);

	struct proto_ipc_pose_update pu = { .entity = 1, .qw = 1.0f };
	assert_int_equal(send_msg(e, id, PROTO_IPC_T_POSE_UPDATE, &pu), 0);
	assert_int_equal(o->poses, 1);
	struct proto_ipc_resync_request rr = { .reason = PROTO_IPC_RESYNC_CLIENT_ASKED };
	assert_int_equal(send_msg(e, id, PROTO_IPC_T_RESYNC_REQUEST, &rr), 0);
	assert_int_equal(o->resyncs, 1);

	/* Daemon -> client: each record with its class. */
	struct proto_ipc_cmd_ack ack = { .client_seq = 9, .lamport = 3, .log_index = 1 };
	assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_CMD_ACK, &ack), 0);
	assert_int_equal(ipc_server_send_held(e->srv, id, PROTO_IPC_T_POSE_UPDATE, &pu), 0);
	ipc_server_flush(e->srv);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->rec[1].type, PROTO_IPC_T_CMD_ACK);
	assert_true(f->rec[1].reliable);
	assert_int_equal(f->rec[2].type, PROTO_IPC_T_POSE_UPDATE);
	assert_false(f->rec[2].reliable);
	/* Not a daemon->client message. */
	assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_CMD_SUBMIT, &cs), -EINVAL);
	assert_int_equal(f->closed, 0);
	assert_int_equal(ipc_server_nclients(e->srv), 1);
}

/* Each of these is a violation: the client is dropped, its transport told
 * why, the owner told it is gone, and the violation counted. */
static void check_dropped(struct env *e, const uint8_t *rec, size_t len, const char *want_in_detail)
{
	struct owner *o = new_owner();
	struct fake *f = new_fake();
	uint64_t id = attach(e, o, f);
	struct ipc_totals before, after;
	ipc_server_totals(e->srv, &before);
	assert_int_equal(ipc_server_remote_input(e->srv, id, rec, len, th_now_ns()), -EPROTO);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->closed_reason, 0);
	assert_non_null(strstr(f->closed_detail, "the client broke the IPC protocol"));
	if (want_in_detail && !strstr(f->closed_detail, want_in_detail))
		fail_msg("detail '%s' lacks '%s'", f->closed_detail, want_in_detail);
	assert_int_equal(o->disconnects, 1);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	ipc_server_totals(e->srv, &after);
	assert_int_equal(after.violations, before.violations + 1);
	/* Gone: further input finds no client. */
	assert_int_equal(ipc_server_remote_input(e->srv, id, rec, len, th_now_ns()), -ENOENT);
}

static void invalid_records_drop_the_client(void **state)
{
	struct env *e = *state;
	uint8_t b[2 + PROTO_IPC_MAX_MSG + 8];

	/* Shorter than a type. */
	b[0] = PROTO_IPC_T_PING;
	check_dropped(e, b, 1, "a 1-byte record");
	/* Longer than any record. */
	memset(b, 0, sizeof b);
	b[0] = PROTO_IPC_T_CMD_SUBMIT;
	check_dropped(e, b, sizeof b, NULL);
	/* A daemon -> client type. */
	struct proto_ipc_cmd_ack ack = { .client_seq = 1 };
	size_t n = make_rec(PROTO_IPC_T_CMD_ACK, &ack, b, sizeof b);
	check_dropped(e, b, n, "may not travel from a client");
	/* An unknown type. */
	b[0] = 0xff;
	b[1] = 0x7f;
	check_dropped(e, b, 10, "may not travel from a client");
	/* A socket message (HELLO) and a voice-ring one (VOICE_PCM). */
	b[0] = PROTO_IPC_T_HELLO;
	b[1] = 0;
	check_dropped(e, b, 40, NULL);
	uint8_t pcm[PROTO_IPC_VOICE_PCM_BYTES] = { 0 };
	struct proto_ipc_voice_pcm vp = { .seq = 1, .pcm = pcm, .pcm_len = sizeof pcm };
	n = make_rec(PROTO_IPC_T_VOICE_PCM, &vp, b, sizeof b);
	check_dropped(e, b, n, NULL);
	/* A truncated CMD_SUBMIT. */
	uint8_t payload[16] = { 0 };
	struct proto_ipc_cmd_submit cs = { .client_seq = 1, .payload = payload, .payload_len = sizeof payload };
	n = make_rec(PROTO_IPC_T_CMD_SUBMIT, &cs, b, sizeof b);
	check_dropped(e, b, n - 3, "CMD_SUBMIT");
	/* A field out of range: CLIENT_INFO's mode past MODE_MAX. */
	struct proto_ipc_client_info ci = { .mode = PROTO_IPC_MODE_BROWSER };
	n = make_rec(PROTO_IPC_T_CLIENT_INFO, &ci, b, sizeof b);
	b[2 + 4] = PROTO_IPC_MODE_MAX + 1; /* after u32 pid */
	check_dropped(e, b, n, "CLIENT_INFO");
}

static void reliable_records_queue_while_the_transport_is_full(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	struct fake *f = new_fake();
	uint64_t id = attach(e, o, f);
	assert_int_equal(ipc_server_room(e->srv, id), 64 * 1024 - 2);
	f->room = 1u << 30;
	assert_int_equal(ipc_server_room(e->srv, id), PROTO_IPC_MAX_MSG);
	f->full = true;
	assert_int_equal(ipc_server_room(e->srv, id), 0);
	for (uint64_t i = 1; i <= 10; i++) {
		struct proto_ipc_cmd_ack ack = { .client_seq = i };
		assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_CMD_ACK, &ack), 0);
	}
	assert_int_equal(f->n, 0);
	struct json_object *a = only_row(e), *v;
	assert_true(json_object_object_get_ex(json_object_array_get_idx(a, 0), "queued", &v));
	assert_int_equal(json_object_get_int(v), 10);
	json_object_put(a);
	/* Room again, but records wait in the queue: none can jump it. */
	f->full = false;
	assert_int_equal(ipc_server_room(e->srv, id), 0);
	ipc_server_remote_writable(e->srv, id);
	assert_int_equal(f->n, 10);
	for (unsigned i = 0; i < 10; i++) {
		struct proto_ipc_cmd_ack ack;
		assert_int_equal(f->rec[i].type, PROTO_IPC_T_CMD_ACK);
		assert_int_equal(proto_ipc_decode_cmd_ack(f->rec[i].body, f->rec[i].len, &ack, NULL), 0);
		assert_int_equal(ack.client_seq, i + 1); /* in order */
	}
	assert_int_equal(ipc_server_room(e->srv, id), PROTO_IPC_MAX_MSG);

	/* The tick retries too. */
	f->full = true;
	struct proto_ipc_cmd_ack ack = { .client_seq = 11 };
	assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_CMD_ACK, &ack), 0);
	ipc_server_tick(e->srv, th_now_ns());
	assert_int_equal(f->n, 10);
	f->full = false;
	ipc_server_tick(e->srv, th_now_ns());
	assert_int_equal(f->n, 11);
	assert_int_equal(f->closed, 0);
}

static void a_full_queue_turns_into_a_resync(void **state)
{
	struct env *e = *state; /* env_setup: max_queue_msgs 64 */
	struct owner *o = new_owner();
	struct fake *f = new_fake();
	uint64_t id = attach(e, o, f);
	f->full = true;
	for (uint64_t i = 1; i <= 65; i++) {
		struct proto_ipc_cmd_ack ack = { .client_seq = i };
		assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_CMD_ACK, &ack), 0);
	}
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.resyncs, 1);
	f->full = false;
	ipc_server_remote_writable(e->srv, id);
	/* The queue was discarded: the client is told to resync, and only
	 * what is sent after that follows. */
	assert_int_equal(f->n, 1);
	assert_int_equal(f->rec[0].type, PROTO_IPC_T_RESYNC_REQUEST);
	struct proto_ipc_resync_request rr;
	assert_int_equal(proto_ipc_decode_resync_request(f->rec[0].body, f->rec[0].len, &rr, NULL), 0);
	assert_int_equal(rr.reason, PROTO_IPC_RESYNC_QUEUE_OVERFLOW);
	struct proto_ipc_cmd_ack ack = { .client_seq = 99 };
	assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_CMD_ACK, &ack), 0);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->rec[1].type, PROTO_IPC_T_CMD_ACK);
}

static void ephemeral_records_are_dropped_and_counted(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	struct fake *f = new_fake();
	uint64_t id = attach(e, o, f);
	f->full = true;
	struct proto_ipc_pose_update pu = { .entity = 3, .qw = 1.0f };
	for (int i = 0; i < 5; i++)
		assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_POSE_UPDATE, &pu), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.ephemeral_drops, 5);
	struct json_object *a = only_row(e), *row = json_object_array_get_idx(a, 0), *v, *tc;
	assert_true(json_object_object_get_ex(row, "queued", &v));
	assert_int_equal(json_object_get_int(v), 0); /* nothing kept for later */
	assert_true(json_object_object_get_ex(row, "to_client", &tc));
	assert_true(json_object_object_get_ex(tc, "drops", &v));
	assert_int_equal(json_object_get_int(v), 5);
	json_object_put(a);
	f->full = false;
	ipc_server_remote_writable(e->srv, id);
	assert_int_equal(f->n, 0);
	assert_int_equal(ipc_server_send(e->srv, id, PROTO_IPC_T_POSE_UPDATE, &pu), 0);
	assert_int_equal(f->n, 1);
	assert_false(f->rec[0].reliable);
}

static void detach_close_and_shutdown(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	struct fake *f1 = new_fake(), *f2 = new_fake(), *f3 = new_fake();
	uint64_t a = attach(e, o, f1), b = attach(e, o, f2), c = attach(e, o, f3);
	assert_int_equal(ipc_server_nclients(e->srv), 3);
	/* The transport went: the owner hears it, the transport is not called. */
	ipc_server_detach(e->srv, a);
	assert_int_equal(o->disconnects, 1);
	assert_int_equal(f1->closed, 0);
	uint8_t rec[2] = { PROTO_IPC_T_PING, 0 };
	assert_int_equal(ipc_server_remote_input(e->srv, a, rec, 2, th_now_ns()), -ENOENT);
	assert_int_equal(ipc_server_send(e->srv, a, PROTO_IPC_T_PONG, &(struct proto_ipc_pong){ 0 }), -ENOENT);
	/* The owner closes one (a deny): the transport hears the reason. */
	assert_int_equal(ipc_server_close(e->srv, b, PROTO_IPC_REFUSE_NOT_MEMBER, "you were removed"), 0);
	assert_int_equal(f2->closed, 1);
	assert_int_equal(f2->closed_reason, PROTO_IPC_REFUSE_NOT_MEMBER);
	assert_string_equal(f2->closed_detail, "you were removed");
	assert_int_equal(o->disconnects, 2);
	assert_int_equal(ipc_server_close(e->srv, b, PROTO_IPC_REFUSE_NOT_MEMBER, "twice"), -ENOENT);
	/* A hard transport error while draining the queue lets it go. */
	f3->full = true;
	assert_int_equal(ipc_server_send(e->srv, c, PROTO_IPC_T_CMD_ACK, &(struct proto_ipc_cmd_ack){ .client_seq = 1 }),
			 0);
	f3->full = false;
	f3->fail = -EPIPE;
	ipc_server_remote_writable(e->srv, c);
	assert_int_equal(o->disconnects, 3);
	assert_int_equal(f3->closed, 1);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 0);

	/* Shutdown closes what is left (teardown destroys the server). */
	struct fake *f4 = new_fake();
	attach(e, o, f4);
	ipc_server_destroy(&e->srv);
	assert_int_equal(f4->closed, 1);
	assert_int_equal(o->disconnects, 4);
}

/* The transport failing hard while the server answers a good record, or
 * on a tick, is not the client's violation: the client is let go, the
 * transport told, ipc_protocol_violations untouched. */
static void a_failing_transport_is_not_a_violation(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	struct fake *f1 = new_fake(), *f2 = new_fake();
	uint64_t a = attach(e, o, f1), b = attach(e, o, f2);
	/* a: a reliable record waits, then the transport breaks and a PING
	 * (whose PONG queues behind it) comes in. */
	f1->full = true;
	assert_int_equal(ipc_server_send(e->srv, a, PROTO_IPC_T_CMD_ACK, &(struct proto_ipc_cmd_ack){ .client_seq = 1 }),
			 0);
	f1->full = false;
	f1->fail = -EPIPE;
	struct proto_ipc_ping ping = { .seq = 7 };
	assert_int_equal(send_msg(e, a, PROTO_IPC_T_PING, &ping), -EPROTO);
	assert_int_equal(f1->closed, 1);
	assert_null(strstr(f1->closed_detail, "broke the IPC protocol"));
	assert_int_equal(o->disconnects, 1);
	/* b: the same on a tick. */
	f2->full = true;
	assert_int_equal(ipc_server_send(e->srv, b, PROTO_IPC_T_CMD_ACK, &(struct proto_ipc_cmd_ack){ .client_seq = 1 }),
			 0);
	f2->full = false;
	f2->fail = -EPIPE;
	ipc_server_tick(e->srv, th_now_ns());
	assert_int_equal(f2->closed, 1);
	assert_int_equal(o->disconnects, 2);
	assert_int_equal(ipc_server_nclients(e->srv), 0);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.violations, 0);
}

static void socket_and_remote_clients_side_by_side(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	struct fake *f = new_fake();
	uint64_t rid = attach(e, o, f);
	ipc_server_set_callbacks(e->srv, NULL, NULL); /* own_connect expects browsers only */
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	assert_true(c.id != rid);
	assert_int_equal(ipc_server_nclients(e->srv), 2);
	struct json_object *a = ipc_server_clients_json(e->srv, (uid_t)-1, th_now_ns());
	assert_int_equal(json_object_array_length(a), 2);
	unsigned browsers = 0, locals = 0;
	for (size_t i = 0; i < 2; i++) {
		struct json_object *row = json_object_array_get_idx(a, i), *v, *pid;
		assert_true(json_object_object_get_ex(row, "kind", &v));
		bool has_pid = json_object_object_get_ex(row, "pid", &pid);
		if (!strcmp(json_object_get_string(v), "browser")) {
			browsers++;
			assert_false(has_pid);
		} else {
			assert_string_equal(json_object_get_string(v), "local");
			assert_true(has_pid);
			locals++;
		}
	}
	assert_int_equal(browsers, 1);
	assert_int_equal(locals, 1);
	json_object_put(a);
	/* Only that user's: the browser uid sees only the browser. */
	a = ipc_server_clients_json(e->srv, BROWSER_UID, th_now_ns());
	assert_int_equal(json_object_array_length(a), 1);
	json_object_put(a);
	tcli_ping(&c, 1);
	expect_pong(e, &c, 1);
	tcli_close(&c);
}

static void attach_is_bounded_by_max_clients(void **state)
{
	struct env *e = *state;
	struct owner *o = new_owner();
	for (unsigned i = 0; i < IPC_MAX_CLIENTS_DEFAULT; i++)
		attach(e, o, new_fake());
	struct ipc_peer p = { .uid = BROWSER_UID, .user = "one too many", .session_id = SID, .kind = "browser" };
	uint64_t id = 0;
	uint32_t reason = 0;
	char why[64];
	assert_int_equal(ipc_server_attach(e->srv, &p, &fake_ops, new_fake(), &id, &reason, why,
					   sizeof why),
			 -EMFILE);
	assert_int_equal(ipc_server_nclients(e->srv), IPC_MAX_CLIENTS_DEFAULT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(attach_admits_connects_and_lists_a_browser),
		T(a_refused_attach_says_why_and_leaves_nothing),
		T(records_in_reach_the_owner_and_answers_come_back),
		T(invalid_records_drop_the_client),
		T(reliable_records_queue_while_the_transport_is_full),
		T(a_full_queue_turns_into_a_resync),
		T(ephemeral_records_are_dropped_and_counted),
		T(detach_close_and_shutdown),
		T(a_failing_transport_is_not_a_violation),
		T(socket_and_remote_clients_side_by_side),
		T(attach_is_bounded_by_max_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
