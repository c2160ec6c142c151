/* Browser members of the sessions module (thetad/sess/browsers.c): a real
 * thetad in this process (srv_daemon_create: every module, its own state
 * and runtime directories, its loop pumped here), real invite tokens made
 * with proto_invite_token_make and the daemon's host key. A browser is
 * admitted by token (checked as a native join is: signature, expiry,
 * single use, the session), resumes with its secret, and works through
 * the IPC server as a remote client pinned to its session: its edit is
 * signed with its own key and durable, a viewer's is refused, a deny
 * drops it. The transport is a fake ipc_remote_ops recording what it is
 * sent (the stand-in for thetad/web/web_bridge.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "id/id.h"
#include "invite.h" /* proto/invite.h */
#include "ipc.h"    /* proto/ipc.h */
#include "ipc/module.h"
#include "ipc/server.h"
#include "scene_edits.h"
#include "sess/module.h"
#include "sess/module_int.h" /* sess_find_id */
#include "sess/sessions.h"  /* sess_invite_find */
#include "srv/daemon.h"
#include "th_cmd.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_loop.h"
#include "th_time.h"
#include "ctlproto.h" /* proto/ctlproto.h */

#define WAIT_MS 30000
#define FAKE_MAX_RECS 64u

/* The remote transport: what it was sent, whether it was closed. */
struct fake {
	unsigned n, acks, rejects, events, resyncs, rate_limited;
	uint32_t last_reject;
	char reject_detail[PROTO_IPC_MAX_DETAIL + 1];
	uint64_t ack_lamport;
	uint8_t event_author[32];
	bool closed;
	uint32_t closed_reason;
	char closed_detail[256];
};

static int fake_send(void *user, const uint8_t *rec, size_t len, bool reliable)
{
	struct fake *f = user;
	uint16_t type = (uint16_t)(rec[0] | rec[1] << 8);
	union proto_ipc_any m;
	assert_int_equal(proto_ipc_decode(type, rec + 2, len - 2, &m, NULL), 0);
	f->n++;
	switch (type) {
	case PROTO_IPC_T_CMD_ACK:
		f->acks++;
		f->ack_lamport = m.cmd_ack.lamport;
		break;
	case PROTO_IPC_T_CMD_REJECT:
		f->rejects++;
		f->rate_limited += m.cmd_reject.reason == PROTO_IPC_REJECT_RATE_LIMITED;
		f->last_reject = m.cmd_reject.reason;
		snprintf(f->reject_detail, sizeof f->reject_detail, "%s", m.cmd_reject.detail);
		break;
	case PROTO_IPC_T_EVENT:
		if (m.event.kind == PROTO_IPC_EVENT_LOG_ENTRY) {
			f->events++;
			assert_int_equal(m.event.author_len, 32);
			memcpy(f->event_author, m.event.author, 32);
		}
		break;
	case PROTO_IPC_T_RESYNC_REQUEST:
		f->resyncs++;
		break;
	default:
		break;
	}
	return 0;
}

static uint32_t fake_room(void *user)
{
	return 256u * 1024u;
}

static void fake_closed(void *user, uint32_t reason, const char *detail)
{
	struct fake *f = user;
	f->closed = true;
	f->closed_reason = reason;
	snprintf(f->closed_detail, sizeof f->closed_detail, "%s", detail);
}

static const struct ipc_remote_ops fake_ops = { .send = fake_send, .room = fake_room, .closed = fake_closed };

struct env {
	char dir[128], state[256], runtime[256], conf[300];
	struct srv_daemon *d;
	void *sess;
	struct ipc_server *ipc;
	struct sess_session *art;  /* a session hosted here, not the current one */
	struct fake fakes[8];
	unsigned nf;
};

static void pump(struct env *e, int timeout_ms)
{
	th_loop_run_once(srv_daemon_loop(e->d), timeout_ms);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	assert_int_equal(th_mkdtemp(e->dir, sizeof e->dir), 0);
	snprintf(e->state, sizeof e->state, "%s/state", e->dir);
	snprintf(e->runtime, sizeof e->runtime, "%s/run", e->dir);
	snprintf(e->conf, sizeof e->conf, "%s/thetad.conf", e->dir);
	FILE *f = fopen(e->conf, "w");
	assert_non_null(f);
	/* The logs' own per-author limit out of the way: a RATE_LIMITED
	 * refusal can only be the browsers' bucket. */
	fprintf(f, "log_level = warning\n[clog]\nrate_per_s = 1000000\nrate_burst = 10000000\n");
	fclose(f);
	struct srv_daemon_options o = { .state_dir = e->state, .runtime_dir = e->runtime, .config_path = e->conf,
					.config_explicit = true, .port_override = 0, .log_level_override = -1 };
	char msg[512] = "";
	if (srv_daemon_create(&o, &e->d, msg, sizeof msg) < 0)
		fail_msg("thetad did not start: %s", msg);
	e->sess = srv_daemon_module_state(e->d, "sessions");
	e->ipc = ipc_module_server(srv_daemon_module_state(e->d, "ipc"));
	assert_non_null(e->sess);
	assert_non_null(e->ipc);
	assert_int_equal(sess_module_host(e->sess, "art", getuid(), &e->art), 0);
	assert_non_null(e->art->log);
	assert_true(sess_module_current(e->sess) != e->art);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	srv_daemon_destroy(&e->d);
	th_rm_rf(e->dir);
	free(e);
	return 0;
}

/* A token for session id (a hosted one by default) signed by sk. */
static void token(struct env *e, const uint8_t *sid, unsigned role, uint64_t expiry, bool single, const uint8_t *sk,
		  uint8_t out[PROTO_INVITE_TOKEN_LEN])
{
	struct proto_invite_token t;
	assert_int_equal(proto_invite_token_make(sid ? sid : e->art->id_bytes, role, expiry, single,
						 sk ? sk : sess_module_host_key(e->sess)->sk, out, &t),
			 0);
}

static uint64_t now_s(void)
{
	return th_wall_ns() / TH_NS_PER_S;
}

static int admit(struct env *e, const uint8_t *tok, const char *name, struct sess_browser *b, char *why, size_t cap)
{
	why[0] = 0;
	int r = sess_module_browser_admit(e->sess, tok, PROTO_INVITE_TOKEN_LEN, name, now_s(), b, why, cap);
	if (r < 0)
		assert_true(strlen(why) > 10); /* always a sentence */
	return r;
}

/* One control command against the in-process daemon's control.sock, the
 * loop pumped until the answer came: its result (the caller puts it), or
 * NULL with the error into err. */
static struct json_object *ctl(struct env *e, const char *cmd, struct json_object *args, char *err, size_t cap)
{
	char path[300];
	snprintf(path, sizeof path, "%s/control.sock", e->runtime);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	struct json_object *rq = json_object_new_object();
	json_object_object_add(rq, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(rq, "args", args);
	const char *text = json_object_to_json_string(rq);
	uint8_t hdr[PROTO_CTL_HEADER_BYTES];
	proto_ctl_frame_header(hdr, (uint32_t)strlen(text));
	assert_int_equal(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	json_object_put(rq);
	static uint8_t buf[1 << 20];
	size_t got = 0, frame = 0;
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * 1000000;
	while (th_now_ns() < end) {
		pump(e, 10);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1) {
			ssize_t n = read(fd, buf + got, sizeof buf - got);
			assert_true(n > 0);
			got += (size_t)n;
			if (proto_ctl_frame_check(buf, got, sizeof buf, &frame) == 1)
				break;
		}
	}
	close(fd);
	assert_true(frame > 0);
	assert_true(frame < sizeof buf);
	buf[frame] = 0;
	struct json_object *reply = json_tokener_parse((const char *)buf + PROTO_CTL_HEADER_BYTES);
	assert_non_null(reply);
	struct json_object *ok, *res = NULL, *v;
	assert_true(json_object_object_get_ex(reply, "ok", &ok));
	if (json_object_get_boolean(ok)) {
		if (json_object_object_get_ex(reply, "result", &v))
			res = json_object_get(v);
	} else if (err) {
		snprintf(err, cap, "%s",
			 json_object_object_get_ex(reply, "error", &v) ? json_object_get_string(v) : "(no error)");
	}
	json_object_put(reply);
	return res;
}

static uint64_t attach(struct env *e, const struct sess_browser *b, struct fake **fo)
{
	assert_true(e->nf < 8);
	struct fake *f = &e->fakes[e->nf++];
	struct ipc_peer p = { .uid = b->uid, .gid = b->uid, .user = b->name, .session_id = b->session_id,
			      .kind = "browser" };
	uint64_t id = 0;
	uint32_t reason = 0;
	char why[256] = "";
	if (ipc_server_attach(e->ipc, &p, &fake_ops, f, &id, &reason, why, sizeof why) < 0)
		fail_msg("attach refused: %s", why);
	*fo = f;
	return id;
}

static void submit_cube(struct env *e, uint64_t id, uint64_t seq)
{
	uint8_t payload[4096], rec[2 + PROTO_IPC_MAX_MSG];
	const float pos[3] = { (float)seq, 0, 0 };
	int n = se_cube(pos, 1.0f, payload, sizeof payload);
	assert_true(n > 0);
	struct proto_ipc_cmd_submit cs = { .client_seq = seq, .nonce = 77, .cmd_type = TH_CMD_MESH_CREATE,
					   .payload = payload, .payload_len = (uint32_t)n };
	int len = proto_ipc_encode(PROTO_IPC_T_CMD_SUBMIT, &cs, rec + 2, sizeof rec - 2);
	assert_true(len > 0);
	rec[0] = PROTO_IPC_T_CMD_SUBMIT;
	rec[1] = 0;
	assert_int_equal(ipc_server_remote_input(e->ipc, id, rec, (size_t)len + 2, th_now_ns()), 0);
}

/* Pumps the loop until *counter reaches want (WAIT_MS at most). */
static void wait_count(struct env *e, const unsigned *counter, unsigned want)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * 1000000;
	while (*counter < want && th_now_ns() < end)
		pump(e, 20);
	assert_int_equal(*counter, want);
}

/* The member row of `session_members` for uid, or NULL. */
static struct json_object *member_row(struct json_object *res, uid_t uid)
{
	struct json_object *arr, *v;
	assert_true(json_object_object_get_ex(res, "members", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(o, "uid", &v) && (uid_t)json_object_get_int64(v) == uid)
			return o;
	}
	return NULL;
}

static struct json_object *members_of(struct env *e, struct sess_session *s)
{
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "session", json_object_new_string(s->id));
	char err[256] = "";
	struct json_object *res = ctl(e, "session_members", a, err, sizeof err);
	if (!res)
		fail_msg("session_members: %s", err);
	return res;
}

/* Stops the daemon and starts it again on the same state directory. */
static void restart(struct env *e)
{
	uint8_t art[SESS_ID_LEN / 2];
	memcpy(art, e->art->id_bytes, sizeof art); /* e->art goes with the daemon */
	srv_daemon_destroy(&e->d);
	struct srv_daemon_options o = { .state_dir = e->state, .runtime_dir = e->runtime, .config_path = e->conf,
					.config_explicit = true, .port_override = 0, .log_level_override = -1 };
	char msg[256];
	if (srv_daemon_create(&o, &e->d, msg, sizeof msg) != 0)
		fail_msg("thetad did not start again: %s", msg);
	e->sess = srv_daemon_module_state(e->d, "sessions");
	e->ipc = ipc_module_server(srv_daemon_module_state(e->d, "ipc"));
	e->art = sess_find_id(e->sess, art);
	assert_non_null(e->art);
}

/* ---- tests --------------------------------------------------------------- */

static void a_token_admits_a_browser_as_a_local_member(void **state)
{
	struct env *e = *state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	struct sess_browser b;
	char why[256];
	token(e, NULL, TH_ROLE_EDITOR, now_s() + 3600, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Ada", &b, why, sizeof why), 0);
	assert_true(id_uid_is_browser(b.uid));
	assert_memory_equal(b.session_id, e->art->id_bytes, 16);
	assert_int_equal(b.role, TH_ROLE_EDITOR);
	assert_string_equal(b.name, "Ada");
	assert_string_equal(b.session_name, "art");
	uint8_t zero[32] = { 0 };
	assert_memory_not_equal(b.resume, zero, 32);
	/* A multi-use token admits again: another identity. */
	struct sess_browser b2;
	assert_int_equal(admit(e, tok, "Ada", &b2, why, sizeof why), 0);
	assert_true(b2.uid != b.uid);

	/* `session members` lists them as browsers with the token's role. */
	struct json_object *res = members_of(e, e->art), *row = member_row(res, b.uid), *v;
	assert_non_null(row);
	assert_true(json_object_object_get_ex(row, "user", &v));
	assert_string_equal(json_object_get_string(v), "Ada");
	assert_true(json_object_object_get_ex(row, "kind", &v));
	assert_string_equal(json_object_get_string(v), "browser");
	assert_true(json_object_object_get_ex(row, "role", &v));
	assert_string_equal(json_object_get_string(v), "editor");
	json_object_put(res);
	/* Not a member of the daemon's current session. */
	res = members_of(e, sess_module_current(e->sess));
	assert_null(member_row(res, b.uid));
	json_object_put(res);
}

static void bad_tokens_are_refused_with_sentences(void **state)
{
	struct env *e = *state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	struct sess_browser b;
	char why[256];

	/* Expired: the sentence says when. */
	token(e, NULL, TH_ROLE_EDITOR, 1000000000, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Ada", &b, why, sizeof why), -EKEYEXPIRED);
	assert_string_equal(why, "This invite expired at 2001-09-09 01:46:40 UTC; ask for a new one.");
	/* Signed by another host. */
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	token(e, NULL, TH_ROLE_EDITOR, 0, false, sk, tok);
	assert_int_equal(admit(e, tok, "Ada", &b, why, sizeof why), -EKEYREJECTED);
	assert_non_null(strstr(why, "not made by this daemon"));
	/* Not a token at all. */
	uint8_t junk[PROTO_INVITE_TOKEN_LEN] = { 0x42 };
	assert_int_equal(admit(e, junk, "Ada", &b, why, sizeof why), -EBADMSG);
	assert_non_null(strstr(why, "not a Theta invite token"));
	assert_int_equal(sess_module_browser_admit(e->sess, tok, 20, "Ada", now_s(), &b, why, sizeof why), -EBADMSG);
	/* A session this daemon does not host (signed by us all the same). */
	uint8_t other[16];
	randombytes_buf(other, sizeof other);
	token(e, other, TH_ROLE_EDITOR, 0, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Ada", &b, why, sizeof why), -ENOENT);
	assert_non_null(strstr(why, "is not hosted on this daemon"));
	/* A bad display name. */
	token(e, NULL, TH_ROLE_EDITOR, 0, false, NULL, tok);
	assert_int_equal(admit(e, tok, "", &b, why, sizeof why), -EINVAL);
	assert_int_equal(admit(e, tok, "line\nbreak", &b, why, sizeof why), -EINVAL);
	assert_non_null(strstr(why, "display name"));

	/* Single use: the first redeems it, the second is told it was used. */
	token(e, NULL, TH_ROLE_VIEWER, now_s() + 600, true, NULL, tok);
	assert_int_equal(admit(e, tok, "Once", &b, why, sizeof why), 0);
	struct sess_browser again;
	assert_int_equal(admit(e, tok, "Twice", &again, why, sizeof why), -EALREADY);
	assert_non_null(strstr(why, "has been used"));
	/* The mark is on disk: it survives a restart of the daemon. */
	restart(e);
	assert_int_equal(admit(e, tok, "Thrice", &again, why, sizeof why), -EALREADY);
	/* ... and so is the browser it admitted. */
	struct sess_browser back;
	assert_int_equal(sess_module_browser_resume(e->sess, b.resume, &back, why, sizeof why), 0);
	assert_int_equal(back.uid, b.uid);
	assert_int_equal(back.role, TH_ROLE_VIEWER);
}

static void resume_brings_the_same_identity_back_until_denied(void **state)
{
	struct env *e = *state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	struct sess_browser b, r;
	char why[256];
	token(e, NULL, TH_ROLE_VIEWER, 0, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Grace", &b, why, sizeof why), 0);
	assert_int_equal(sess_module_browser_resume(e->sess, b.resume, &r, why, sizeof why), 0);
	assert_int_equal(r.uid, b.uid);
	assert_int_equal(r.role, TH_ROLE_VIEWER);
	assert_string_equal(r.name, "Grace");
	assert_string_equal(r.session_name, "art");
	uint8_t zero[32] = { 0 };
	assert_memory_equal(r.resume, zero, 32);
	uint8_t wrong[32];
	memcpy(wrong, b.resume, 32);
	wrong[31] ^= 0x80;
	assert_int_equal(sess_module_browser_resume(e->sess, wrong, &r, why, sizeof why), -ENOENT);
	assert_non_null(strstr(why, "not known"));

	/* An admin raises its role by name: resume says so. */
	struct json_object *a = json_object_new_object(), *res;
	json_object_object_add(a, "user", json_object_new_string("Grace"));
	json_object_object_add(a, "session", json_object_new_string(e->art->id));
	json_object_object_add(a, "role", json_object_new_string("editor"));
	char err[256] = "";
	res = ctl(e, "session_allow", a, err, sizeof err);
	if (!res)
		fail_msg("session_allow: %s", err);
	json_object_put(res);
	assert_int_equal(sess_module_browser_resume(e->sess, b.resume, &r, why, sizeof why), 0);
	assert_int_equal(r.role, TH_ROLE_EDITOR);
	/* A browser belongs to its own session only. */
	a = json_object_new_object();
	json_object_object_add(a, "user", json_object_new_string("Grace"));
	res = ctl(e, "session_allow", a, err, sizeof err); /* the current session, "local" */
	assert_null(res);
	assert_non_null(strstr(err, "no user 'Grace'"));
	char uid[16];
	snprintf(uid, sizeof uid, "%u", (unsigned)b.uid);
	a = json_object_new_object();
	json_object_object_add(a, "user", json_object_new_string(uid));
	res = ctl(e, "session_allow", a, err, sizeof err);
	assert_null(res);
	assert_non_null(strstr(err, "belongs to another session"));

	/* Denied: resume refuses. */
	a = json_object_new_object();
	json_object_object_add(a, "user", json_object_new_string(uid));
	json_object_object_add(a, "session", json_object_new_string(e->art->id));
	res = ctl(e, "session_deny", a, err, sizeof err);
	if (!res)
		fail_msg("session_deny: %s", err);
	json_object_put(res);
	assert_int_equal(sess_module_browser_resume(e->sess, b.resume, &r, why, sizeof why), -EPERM);
	assert_non_null(strstr(why, "no longer a member of session art"));

	/* After a restart: the identity is still known (its secret is not
	 * "unknown"), the deny still holds; allowed again by uid, the same
	 * identity comes back with the new role. */
	restart(e);
	assert_int_equal(sess_module_browser_resume(e->sess, b.resume, &r, why, sizeof why), -EPERM);
	assert_non_null(strstr(why, "no longer a member of session art"));
	a = json_object_new_object();
	json_object_object_add(a, "user", json_object_new_string(uid));
	json_object_object_add(a, "session", json_object_new_string(e->art->id));
	json_object_object_add(a, "role", json_object_new_string("viewer"));
	res = ctl(e, "session_allow", a, err, sizeof err);
	if (!res)
		fail_msg("session_allow after a restart: %s", err);
	json_object_put(res);
	assert_int_equal(sess_module_browser_resume(e->sess, b.resume, &r, why, sizeof why), 0);
	assert_int_equal(r.uid, b.uid);
	assert_int_equal(r.role, TH_ROLE_VIEWER);
	assert_string_equal(r.name, "Grace");
}

static void a_browser_edits_under_its_own_key_and_a_viewer_cannot(void **state)
{
	struct env *e = *state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	struct sess_browser ed, vw;
	char why[256];
	token(e, NULL, TH_ROLE_EDITOR, 0, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Editor", &ed, why, sizeof why), 0);
	token(e, NULL, TH_ROLE_VIEWER, 0, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Viewer", &vw, why, sizeof why), 0);
	struct fake *fe, *fv;
	uint64_t ide = attach(e, &ed, &fe), idv = attach(e, &vw, &fv);

	submit_cube(e, ide, 1);
	wait_count(e, &fe->acks, 1);
	assert_int_equal(fe->rejects, 0);
	/* Live events: the entry reached both browsers of the session, with
	 * the editor browser's key as its author. */
	wait_count(e, &fe->events, 1);
	wait_count(e, &fv->events, 1);
	struct id_store *ids;
	const struct th_keypair *k;
	assert_int_equal(id_store_open(e->state, &ids), 0);
	assert_int_equal(id_user_key(ids, ed.uid, &k), 0);
	assert_memory_equal(fe->event_author, k->pk, 32);
	assert_memory_equal(fv->event_author, k->pk, 32);
	const struct th_keypair *host = sess_module_host_key(e->sess), *mine;
	assert_memory_not_equal(fe->event_author, host->pk, 32);
	assert_int_equal(id_user_key(ids, getuid(), &mine), 0);
	assert_memory_not_equal(fe->event_author, mine->pk, 32);
	id_store_close(&ids);

	/* `clients` lists both as browsers, without a pid. */
	char err[256] = "";
	struct json_object *res = ctl(e, "clients", NULL, err, sizeof err), *list, *v;
	if (!res)
		fail_msg("clients: %s", err);
	assert_true(json_object_object_get_ex(res, "clients", &list));
	unsigned browsers = 0;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *row = json_object_array_get_idx(list, i);
		assert_true(json_object_object_get_ex(row, "kind", &v));
		if (strcmp(json_object_get_string(v), "browser") == 0) {
			browsers++;
			assert_false(json_object_object_get_ex(row, "pid", &v));
		}
	}
	assert_int_equal(browsers, 2);
	json_object_put(res);

	/* The viewer's edit is refused with its reason. */
	submit_cube(e, idv, 1);
	wait_count(e, &fv->rejects, 1);
	assert_int_equal(fv->last_reject, PROTO_IPC_REJECT_DENIED);
	assert_int_equal(fv->acks, 0);
	assert_false(fe->closed || fv->closed);
}

static void browsers_stay_in_their_session_and_deny_drops_them(void **state)
{
	struct env *e = *state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	struct sess_browser b;
	char why[256];
	token(e, NULL, TH_ROLE_EDITOR, 0, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Ada", &b, why, sizeof why), 0);
	struct fake *f;
	uint64_t id = attach(e, &b, &f);

	/* The daemon's current session changes: the browser stays in art. */
	struct sess_session *other;
	assert_int_equal(sess_module_host(e->sess, "other", getuid(), &other), 0);
	sess_module_set_current(e->sess, other);
	for (int i = 0; i < 5; i++)
		pump(e, 5);
	assert_false(f->closed);
	assert_int_equal(f->resyncs, 0);
	submit_cube(e, id, 1);
	wait_count(e, &f->acks, 1);
	wait_count(e, &f->events, 1);
	struct clog_stats st;
	clog_get_stats(e->art->log, &st);
	assert_int_equal(st.entries, 1);
	clog_get_stats(other->log, &st);
	assert_int_equal(st.entries, 0);

	/* A browser uid without its session is refused as a socket client
	 * would be; a browser not a member of the session it names too. */
	struct ipc_peer p = { .uid = b.uid, .user = "Ada", .kind = "browser" };
	uint64_t cid;
	uint32_t reason = 0;
	char sentence[256] = "";
	struct fake spare = { 0 };
	assert_int_equal(ipc_server_attach(e->ipc, &p, &fake_ops, &spare, &cid, &reason, sentence, sizeof sentence),
			 -EPERM);
	assert_int_equal(reason, PROTO_IPC_REFUSE_NOT_MEMBER);
	assert_non_null(strstr(sentence, "may not use client.sock"));
	p.session_id = other->id_bytes;
	assert_int_equal(ipc_server_attach(e->ipc, &p, &fake_ops, &spare, &cid, &reason, sentence, sizeof sentence),
			 -EPERM);
	assert_non_null(strstr(sentence, "is not a member of session other"));
	assert_false(spare.closed);

	/* Denied by its name: dropped with the reason. */
	struct json_object *a = json_object_new_object(), *res;
	json_object_object_add(a, "user", json_object_new_string("Ada"));
	json_object_object_add(a, "session", json_object_new_string("art"));
	char err[256] = "";
	res = ctl(e, "session_deny", a, err, sizeof err);
	if (!res)
		fail_msg("session_deny: %s", err);
	struct json_object *v;
	assert_true(json_object_object_get_ex(res, "user", &v));
	assert_string_equal(json_object_get_string(v), "Ada");
	json_object_put(res);
	assert_true(f->closed);
	assert_int_equal(f->closed_reason, PROTO_IPC_REFUSE_NOT_MEMBER);
	assert_non_null(strstr(f->closed_detail, "not a member of session art"));
	assert_non_null(strstr(f->closed_detail, "open a new invite link")); /* not a thetactl line */
	res = members_of(e, e->art);
	assert_null(member_row(res, b.uid));
	json_object_put(res);
}

/* Submits that the log refuses as malformed (cheap: nothing is signed),
 * after the rate check has taken its token. */
static void submit_junk(struct env *e, uint64_t id, uint64_t seq)
{
	uint8_t payload[4] = { 0xff, 0xff, 0xff, 0xff }, rec[64];
	struct proto_ipc_cmd_submit cs = { .client_seq = seq, .cmd_type = TH_CMD_MESH_CREATE, .payload = payload,
					   .payload_len = sizeof payload };
	int len = proto_ipc_encode(PROTO_IPC_T_CMD_SUBMIT, &cs, rec + 2, sizeof rec - 2);
	assert_true(len > 0);
	rec[0] = PROTO_IPC_T_CMD_SUBMIT;
	rec[1] = 0;
	assert_int_equal(ipc_server_remote_input(e->ipc, id, rec, (size_t)len + 2, th_now_ns()), 0);
}

/* Three times the bucket's depth: at 200 tokens a second, the bucket
 * could refill for all of them only if the burst took longer than 10 s. */
#define RATE_BURST_SUBMITS 3000u

static void a_browser_is_rate_limited_in_a_hosted_session(void **state)
{
	struct env *e = *state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	struct sess_browser b;
	char why[256];
	token(e, NULL, TH_ROLE_EDITOR, 0, false, NULL, tok);
	assert_int_equal(admit(e, tok, "Speedy", &b, why, sizeof why), 0);
	struct fake *f;
	uint64_t id = attach(e, &b, &f);
	for (unsigned i = 1; i <= RATE_BURST_SUBMITS; i++)
		submit_junk(e, id, i);
	assert_int_equal(f->rejects, RATE_BURST_SUBMITS); /* every one answered */
	assert_true(f->rate_limited > 0); /* past the burst */
	assert_true(f->rate_limited <= RATE_BURST_SUBMITS - 1000u); /* the burst went through */

	/* A local user of a hosted session has only the log's limit (out
	 * of the way here): the same burst is refused as malformed only. */
	struct ipc_peer p = { .uid = getuid(), .gid = getgid(), .user = "me", .kind = "browser" };
	struct fake *g = &e->fakes[e->nf++];
	uint64_t lid = 0;
	uint32_t reason = 0;
	assert_int_equal(ipc_server_attach(e->ipc, &p, &fake_ops, g, &lid, &reason, why, sizeof why), 0);
	for (unsigned i = 1; i <= RATE_BURST_SUBMITS; i++)
		submit_junk(e, lid, i);
	assert_int_equal(g->rejects, RATE_BURST_SUBMITS);
	assert_int_equal(g->rate_limited, 0);
}

/* A session whose member list is full refuses a browser before its
 * identity is minted: no uid is used up by a join that cannot list it. */
static void a_full_session_refuses_without_using_a_uid(void **state)
{
	struct env *e = *state;
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	token(e, NULL, TH_ROLE_EDITOR, now_s() + 3600, false, NULL, tok);
	struct sess_browser first, b;
	char why[PROTO_IPC_MAX_DETAIL + 1];
	assert_int_equal(admit(e, tok, "First", &first, why, sizeof why), 0);
	/* Fill the rest of the list with (unused) uids below the browser range. */
	for (uid_t u = 100000; e->art->n_locals < SESS_MAX_LOCAL; u++)
		assert_int_equal(sess_local_allow(e->art, u, TH_ROLE_VIEWER), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(admit(e, tok, "Late", &b, why, sizeof why), -ENOSPC);
		assert_non_null(strstr(why, "members on this daemon, the most it keeps"));
	}
	assert_int_equal(sess_local_deny(e->art, 100000), 0);
	assert_int_equal(admit(e, tok, "Late", &b, why, sizeof why), 0);
	assert_int_equal(b.uid, first.uid + 1); /* the refusals took none */
}

/* An invite revoked with `invite revoke`, or a session `session leave`
 * ended, is refused for a browser as for a daemon; a browser's join counts
 * in the invite's uses. */
static void a_revoked_invite_or_an_ended_session_refuses_a_browser(void **state)
{
	struct env *e = *state;
	struct sess_browser b;
	char why[256], err[256];
	struct proto_invite_link l1, l2;
	const char *ids[2];
	char idbuf[2][40];
	struct proto_invite_link *links[2] = { &l1, &l2 };
	for (int i = 0; i < 2; i++) {
		struct json_object *args = json_object_new_object(), *v;
		json_object_object_add(args, "session", json_object_new_string("art"));
		json_object_object_add(args, "host", json_object_new_string("127.0.0.1"));
		struct json_object *res = ctl(e, "invite", args, err, sizeof err);
		if (!res)
			fail_msg("invite: %s", err);
		assert_true(json_object_object_get_ex(res, "link", &v));
		assert_int_equal(proto_invite_parse(json_object_get_string(v), links[i]), 0);
		assert_true(json_object_object_get_ex(res, "invite_id", &v));
		snprintf(idbuf[i], sizeof idbuf[i], "%s", json_object_get_string(v));
		ids[i] = idbuf[i];
		json_object_put(res);
	}
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_string(ids[0]));
	struct json_object *res = ctl(e, "invite_revoke", args, err, sizeof err);
	if (!res)
		fail_msg("invite_revoke: %s", err);
	json_object_put(res);
	assert_int_equal(admit(e, l1.token, "Late", &b, why, sizeof why), -EKEYREVOKED);
	assert_string_equal(why, "The host revoked this invite; ask for a new one.");
	assert_int_equal(admit(e, l2.token, "Kept", &b, why, sizeof why), 0);
	assert_int_equal(sess_invite_find(e->art, l2.tok.nonce)->uses, 1);

	args = json_object_new_object();
	json_object_object_add(args, "session", json_object_new_string("art"));
	res = ctl(e, "session_leave", args, err, sizeof err);
	if (!res)
		fail_msg("session_leave: %s", err);
	json_object_put(res);
	assert_int_equal(admit(e, l2.token, "After", &b, why, sizeof why), -ENOENT);
	assert_non_null(strstr(why, "The host ended session art"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_token_admits_a_browser_as_a_local_member, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_tokens_are_refused_with_sentences, setup, teardown),
		cmocka_unit_test_setup_teardown(a_revoked_invite_or_an_ended_session_refuses_a_browser, setup, teardown),
		cmocka_unit_test_setup_teardown(resume_brings_the_same_identity_back_until_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(a_browser_edits_under_its_own_key_and_a_viewer_cannot, setup, teardown),
		cmocka_unit_test_setup_teardown(browsers_stay_in_their_session_and_deny_drops_them, setup, teardown),
		cmocka_unit_test_setup_teardown(a_browser_is_rate_limited_in_a_hosted_session, setup, teardown),
		cmocka_unit_test_setup_teardown(a_full_session_refuses_without_using_a_uid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
