/* The sessions module: routes theta-client command submits into the signed
 * command log of the client's session, acknowledges each only once it is
 * durable, and delivers every integrated entry to every client of the
 * session as an event. Group commit: submits only queue; one eventfd wakes
 * the loop once per batch of ready events to hand every log's queued
 * entries to the clog worker, whose thread writes and fdatasyncs them; the
 * worker's eventfd brings the results back to the loop (acks, events), and
 * entries queued while a batch is in flight form the next one.
 *
 * Local clients work in the daemon's current session: the default session
 * "local" (created on first start), or the one last hosted or joined
 * (`thetactl session host|join`), remembered in STATE_DIR/sessions/current.
 * In a member session (a replica of a session hosted by another daemon)
 * a client's command is signed and made durable here first (local-first:
 * acked at once, works while the host is unreachable), with the role the
 * host granted; the net module forwards it to the host and integrates
 * everyone else's entries through sess_module_integrate.
 *
 * Exactly once: each submit carries the client link's random nonce and its
 * client_seq; their hash (sess_req_id) is the entry's request id. A resend
 * (after a reconnect, or a daemon crash between the fdatasync and the ack)
 * names an entry the log remembers, and is acked with that entry's id
 * instead of being logged again (clog, CLOG_DEDUPE_WINDOW).
 *
 * Events to clients and replay from a position: events.c; who may work in
 * a session (local members): members.c; their shared state: module_int.h. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clog/clog.h"
#include "id/id.h"
#include "ipc.h"
#include "ipc/module.h"
#include "ipc/server.h"
#include "sess/module.h"
#include "sess/client_scene.h"
#include "sess/module_int.h"
#include "sess/scene.h"
#include "sess/sessions.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "srv/module.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_file.h"
#include "th_hash.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_loop.h"
#include "th_payload.h"
#include "th_time.h"

struct sess_client *sess_client_find(struct sess_module *m, uint64_t id)
{
	for (struct sess_client *c = m->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void sess_on_reject(void *user, uint32_t source, const struct th_logrec_entry *e, int reason)
{
	struct sess_session *s = user;
	struct sess_module *m = s->owner;
	if (reason != CLOG_R_REPLAY)
		(*m->m_remote_rejects)++;
	if (m->net.rejected)
		m->net.rejected(m->net_user, s, source, e, reason);
}

static void sess_on_batch(void *user, size_t n)
{
	struct sess_session *s = user;
	struct sess_module *m = s->owner;
	(void)n;
	(*m->m_flushes)++;
	struct clog_stats st;
	clog_get_stats(s->log, &st);
	srv_hist_observe_ns(m->h_commit, st.last_sync_ns);
	/* The batch's events and acks went out held: one doorbell per client. */
	if (m->ipc)
		ipc_server_flush(m->ipc);
	if (m->net.flushed)
		m->net.flushed(m->net_user, s);
	if (m->net.log_room)
		m->net.log_room(m->net_user, s);
}

/* Labelled samples per session (srv_metrics_add_collector): its log's
 * durable entries, Lamport clock and authors, with the session's id, name
 * and this daemon's part in it. */
static void sess_collect(void *u, struct srv_sample_sink *sink)
{
	struct sess_module *m = u;
	for (unsigned i = 0; i < m->reg.n; i++) {
		struct sess_session *s = m->reg.s[i];
		if (!s->log)
			continue;
		struct clog_stats st;
		clog_get_stats(s->log, &st);
		const char *const lab[] = { "session", s->id, "name", s->name, "role",
					    s->role == SESS_ROLE_HOST ? "host" : "member", NULL };
		srv_sample(sink, "session_entries", "durable entries in the session's log", SRV_METRIC_GAUGE, lab,
			   (double)st.entries);
		srv_sample(sink, "session_lamport", "the session log's Lamport clock", SRV_METRIC_GAUGE, lab,
			   (double)st.lamport);
		srv_sample(sink, "session_authors", "authors in the session's log", SRV_METRIC_GAUGE, lab,
			   (double)st.authors);
	}
}

static int sess_role_of(void *user, const uint8_t author[TH_LOGREC_KEY_LEN])
{
	struct sess_session *s = user;
	struct sess_module *m = s->owner;
	return m->integrating_role;
}

/* A group's signatures were checked on the worker (or a verification slot
 * came free): the caller that was answered -EINPROGRESS tries again. */
static void sess_on_verified(void *user, uint32_t source)
{
	struct sess_session *s = user;
	struct sess_module *m = s->owner;
	(void)source;
	if (m->net.log_room)
		m->net.log_room(m->net_user, s);
}

static const struct clog_callbacks sess_log_cb = {
	.on_durable = sess_on_durable,
	.on_reject = sess_on_reject,
	.role_of = sess_role_of,
	.on_batch = sess_on_batch,
	.on_verified = sess_on_verified,
};

void sess_reject(struct sess_module *m, uint64_t client_id, uint64_t client_seq, uint32_t reason,
		 const char *detail)
{
	struct proto_ipc_cmd_reject rej = { .client_seq = client_seq, .reason = reason };
	snprintf(rej.detail, sizeof(rej.detail), "%s", detail);
	ipc_server_send(m->ipc, client_id, PROTO_IPC_T_CMD_REJECT, &rej);
	(*m->m_rejects)++;
}

/* held: the ack is published with the rest of its batch (sess_on_batch). */
static void sess_ack(struct sess_module *m, uint64_t client_id, uint64_t client_seq, const struct clog_id *id,
		     bool held)
{
	struct proto_ipc_cmd_ack ack = { .client_seq = client_seq, .lamport = id->lamport, .log_index = id->seq };
	int r = held ? ipc_server_send_held(m->ipc, client_id, PROTO_IPC_T_CMD_ACK, &ack)
		     : ipc_server_send(m->ipc, client_id, PROTO_IPC_T_CMD_ACK, &ack);
	if (r == 0)
		(*m->m_acks)++;
}

static void sess_done(void *ctx, int status, const struct clog_id *id)
{
	struct sess_ack *a = ctx;
	struct sess_module *m = a->m;
	if (status == 0) {
		sess_ack(m, a->client_id, a->client_seq, id, true); /* only from a durable batch */
		srv_hist_observe_ns(m->h_ack, th_now_ns() - a->signed_ns);
	} else {
		char why[128];
		snprintf(why, sizeof(why), "the log could not store it: %s", th_strerror(status));
		sess_reject(m, a->client_id, a->client_seq, PROTO_IPC_REJECT_INVALID, why);
	}
	free(a);
}

/* ---- from clients ------------------------------------------------------- */

uint32_t sess_reject_code(int why)
{
	switch (why) {
	case CLOG_R_UNKNOWN_TYPE:
		return PROTO_IPC_REJECT_UNKNOWN_TYPE;
	case CLOG_R_ROLE:
		return PROTO_IPC_REJECT_DENIED;
	case CLOG_R_CONFLICT:
		return PROTO_IPC_REJECT_CONFLICT;
	case CLOG_R_RATE:
	case CLOG_R_PENDING:
		return PROTO_IPC_REJECT_RATE_LIMITED;
	default:
		return PROTO_IPC_REJECT_INVALID;
	}
}

void sess_reject_text(int why, uint16_t type, const char *detail, char *out, size_t cap)
{
	const struct th_cmd_info *info = th_cmd_find(type);
	if (why == CLOG_R_INVALID && info)
		snprintf(out, cap, "malformed %s payload (%s)", info->name, detail ? detail : "?");
	else
		snprintf(out, cap, "%s", clog_reason_str(why));
}

uint64_t sess_req_id(uint64_t nonce, uint64_t client_seq)
{
	uint8_t k[16];
	if (!nonce)
		return 0;
	th_put_le64(k, nonce);
	th_put_le64(k + 8, client_seq);
	uint64_t h = th_siphash(k, sizeof(k));
	return h ? h : 1;
}

uint64_t sess_next_req(struct sess_module *m, uid_t uid)
{
	for (unsigned i = 0; i < m->n_authors; i++)
		if (m->authors[i].uid == uid)
			return ++m->authors[i].next_req;
	if (m->n_authors == SESS_MAX_AUTHORS)
		return 0;
	m->authors[m->n_authors] = (struct sess_author){ .uid = uid, .next_req = 1 };
	return m->authors[m->n_authors++].next_req;
}

/* Member sessions: the replica's log takes the host's relays unlimited,
 * so local users get the log's usual token bucket here. */
bool sess_member_rate_ok(struct sess_module *m, uid_t uid, uint64_t now)
{
	struct sess_author *a = NULL;
	for (unsigned i = 0; i < m->n_authors && !a; i++)
		if (m->authors[i].uid == uid)
			a = &m->authors[i];
	if (!a)
		return true; /* sess_next_req registers it */
	/* [sess] rate_per_s and rate_burst, read at each call so a reload
	 * applies at once (the log's own bucket in hosted sessions is [clog]'s). */
	const struct srv_config *cfg = srv_daemon_config(m->d);
	uint64_t rate = (uint64_t)cfg->sess_rate_per_s, cap = (uint64_t)cfg->sess_rate_burst * 1000;
	if (!a->tokens_ns) {
		a->tokens_milli = cap;
		a->tokens_ns = now;
	} else if (now > a->tokens_ns) {
		uint64_t add = (now - a->tokens_ns) / 1000 * rate / 1000;
		a->tokens_milli = add >= cap - a->tokens_milli ? cap : a->tokens_milli + add;
		a->tokens_ns = now;
	}
	if (a->tokens_milli < 1000)
		return false;
	a->tokens_milli -= 1000;
	return true;
}

void sess_arm_flush(struct sess_module *m)
{
	if (m->flush_armed)
		return;
	uint64_t one = 1;
	if (write(m->flush_fd, &one, sizeof(one)) == sizeof(one))
		m->flush_armed = true;
}

static void sess_on_submit(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_cmd_submit *msg,
			   uint64_t now_ns)
{
	struct sess_module *m = user;
	struct sess_client *c = sess_client_find(m, client_id);
	char detail[160];

	(*m->m_submits)++;
	if (!c || !c->s || !c->s->log) {
		snprintf(detail, sizeof(detail), "no session is open%s%s", c && c->s ? ": " : "",
			 c && c->s ? c->s->error : "");
		sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_NO_SESSION, detail);
		return;
	}
	if (msg->client_seq <= c->last_client_seq) {
		(*m->m_replays)++;
		snprintf(detail, sizeof(detail), "request %" PRIu64 " replayed (last was %" PRIu64 ")",
			 msg->client_seq, c->last_client_seq);
		sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_INVALID, detail);
		return;
	}
	c->last_client_seq = msg->client_seq;
	const struct th_cmd_info *info = msg->cmd_type <= UINT16_MAX ? th_cmd_find((uint16_t)msg->cmd_type) : NULL;
	if (!info) {
		snprintf(detail, sizeof(detail), "unknown command type %" PRIu32, msg->cmd_type);
		sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_UNKNOWN_TYPE, detail);
		return;
	}
	const struct th_keypair *key;
	int r = id_user_key(m->ids, uid, &key);
	if (r < 0) {
		snprintf(detail, sizeof(detail), "no signing key for uid %u: %s", (unsigned)uid, th_strerror(r));
		sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_INVALID, detail);
		return;
	}
	uint8_t role = sess_member_role(c->s, uid, c->admin);
	if (!role) {
		sess_not_member_msg(c->s, c->user, detail, sizeof(detail));
		sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_DENIED, detail);
		return;
	}
	if (c->s->role == SESS_ROLE_MEMBER) {
		/* The host granted this daemon a role; nobody here exceeds it. */
		if (!c->s->link.granted_role) {
			sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_NO_SESSION,
				    "the host has not admitted this daemon to the session yet");
			return;
		}
		if (c->s->link.granted_role < role)
			role = c->s->link.granted_role;
		if (!sess_member_rate_ok(m, uid, now_ns)) {
			sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_RATE_LIMITED,
				    clog_reason_str(CLOG_R_RATE));
			return;
		}
	} else if (id_uid_is_browser(uid) && !sess_member_rate_ok(m, uid, now_ns)) {
		/* A browser is outside input: the member bucket in hosted
		 * sessions too, before the log's own per-author one. */
		sess_reject(m, client_id, msg->client_seq, PROTO_IPC_REJECT_RATE_LIMITED, clog_reason_str(CLOG_R_RATE));
		return;
	}
	struct sess_cmd cmd = { .client_id = client_id, .client_seq = msg->client_seq, .nonce = msg->nonce,
				.scope = msg->scope, .uid = uid, .role = role, .type = info->id,
				.payload = msg->payload, .payload_len = msg->payload_len };
	/* Its author's last entries were cut and may come back from the
	 * host: signing now could reuse one of their seqs (hold.c). */
	if (sess_hold_wants(m, c->s, key->pk)) {
		sess_hold_add(m, c->s, key->pk, &cmd, now_ns);
		return;
	}
	sess_sign(m, c->s, &cmd, now_ns);
}

void sess_sign(struct sess_module *m, struct sess_session *s, const struct sess_cmd *cmd, uint64_t now_ns)
{
	char detail[160];
	const struct th_cmd_info *info = th_cmd_find(cmd->type);
	const struct th_keypair *key;
	if (!s->log) {
		snprintf(detail, sizeof(detail), "no session is open: %s", s->error);
		sess_reject(m, cmd->client_id, cmd->client_seq, PROTO_IPC_REJECT_NO_SESSION, detail);
		return;
	}
	int r = id_user_key(m->ids, cmd->uid, &key);
	if (r < 0 || !info) {
		snprintf(detail, sizeof(detail), "no signing key for uid %u: %s", (unsigned)cmd->uid,
			 th_strerror(r < 0 ? r : -EINVAL));
		sess_reject(m, cmd->client_id, cmd->client_seq, PROTO_IPC_REJECT_INVALID, detail);
		return;
	}
	struct sess_ack *a = malloc(sizeof(*a));
	uint64_t req = sess_next_req(m, cmd->uid);
	if (!a || !req) {
		free(a);
		sess_reject(m, cmd->client_id, cmd->client_seq, PROTO_IPC_REJECT_RATE_LIMITED, "daemon is out of memory");
		return;
	}
	*a = (struct sess_ack){ .m = m, .client_id = cmd->client_id, .client_seq = cmd->client_seq, .signed_ns = now_ns };
	struct clog_submit sub = {
		.source = (uint32_t)cmd->client_id,
		.role = cmd->role,
		.key = key,
		.req_seq = req,
		.req = sess_req_id(cmd->nonce, cmd->client_seq),
		.type = info->id,
		.scope_kind = info->scope,
		.scope_id = info->scope == TH_SCOPE_GLOBAL ? 0 : cmd->scope,
		.base = clog_lamport(s->log),
		.time_ns = th_wall_ns(),
		.payload = cmd->payload,
		.payload_len = cmd->payload_len,
		.done = sess_done,
		.ctx = a,
	};
	struct clog_id id;
	int why = 0;
	/* The log checks the payload (schemas/commands.def) before it signs:
	 * the registry's log_validate, the check it makes on every peer's
	 * entry too. */
	r = clog_submit_local(s->log, &sub, now_ns, &id, &why);
	if (r < 0) {
		free(a);
		sess_reject_text(why, info->id, clog_reject_detail(s->log), detail, sizeof(detail));
		sess_reject(m, cmd->client_id, cmd->client_seq, sess_reject_code(why), detail);
		return;
	}
	if (r == CLOG_SUBMIT_DUPLICATE) {
		/* Logged before (its ack was lost with a crash or a connection):
		 * the same answer again, nothing new in the log. */
		free(a);
		(*m->m_dups)++;
		sess_ack(m, cmd->client_id, cmd->client_seq, &id, false);
		return;
	}
	if (r == CLOG_SUBMIT_JOINED)
		(*m->m_dups)++;
	sess_arm_flush(m);
}

static void sess_on_connect(void *user, uint64_t client_id, const struct ipc_peer *p)
{
	struct sess_module *m = user;
	struct sess_client *c = calloc(1, sizeof(*c));
	if (!c)
		return; /* its submits will be refused: no session */
	*c = (struct sess_client){ .next = m->clients, .id = client_id, .uid = p->uid, .s = m->current };
	if (p->session_id) {
		/* A remote client (a browser): its own session, never an admin
		 * through groups it does not have (sess_admit checked it). */
		c->s = sess_find_id(m, p->session_id);
		c->pinned = true;
	} else {
		c->admin = sess_peer_admin(m, p);
		if (p->session_want) { /* theta-client --session S (sess_admit found it) */
			char why[256];
			c->s = sess_lookup(&m->reg, p->session_want, why, sizeof(why));
			c->pinned = true;
		}
	}
	/* Live from the end of the log until the client asks for more. */
	c->next_pos = c->s && c->s->log ? clog_count(c->s->log) : 0;
	snprintf(c->user, sizeof(c->user), "%s", p->user);
	m->clients = c;
	/* Its session at once (not at the next tick): a short-lived client
	 * says which session it edits too. */
	sess_cinfo_tick(m, th_now_ns());
}

/* c left: when no other client of its user works in its session, the
 * user's presence ends (the net module tells the session). */
static void sess_client_user_gone(struct sess_module *m, const struct sess_client *c)
{
	const struct th_keypair *key;
	if (!c->s || !m->net.user_gone || id_user_key(m->ids, c->uid, &key) < 0)
		return;
	for (const struct sess_client *o = m->clients; o; o = o->next)
		if (o != c && o->s == c->s && o->uid == c->uid)
			return;
	m->net.user_gone(m->net_user, c->s, key->pk);
}

static void sess_on_disconnect(void *user, uint64_t client_id)
{
	struct sess_module *m = user;
	for (struct sess_client **pp = &m->clients; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == client_id) {
			struct sess_client *c = *pp;
			*pp = c->next;
			sess_client_user_gone(m, c);
			sess_replay_stop(c);
			sess_cscene_free(c);
			free(c);
			return;
		}
	}
}

uint64_t sess_entity_of(const uint8_t key[SESS_KEY_LEN])
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | key[i];
	return v;
}

static void sess_on_pose(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_pose_update *p,
			 uint64_t now_ns)
{
	struct sess_module *m = user;
	struct sess_client *c = sess_client_find(m, client_id);
	const struct th_keypair *key;
	if (!c || !c->s || id_user_key(m->ids, uid, &key) < 0)
		return;
	(*m->m_poses_in)++;
	/* Other local clients of the session see it too. */
	struct proto_ipc_pose_update out = *p;
	out.entity = sess_entity_of(key->pk);
	for (struct sess_client *o = m->clients; o; o = o->next)
		if (o != c && o->s == c->s && ipc_server_send(m->ipc, o->id, PROTO_IPC_T_POSE_UPDATE, &out) == 0)
			(*m->m_poses_out)++;
	if (m->net.pose)
		m->net.pose(m->net_user, c->s, key->pk, &out);
	if (m->voice.pose)
		m->voice.pose(m->voice_user, c->s, &out);
}

/* `thetactl clients`: the session each client works in (and whether it
 * chose it, or follows the current one), then its scene mirror. */
static void sess_client_describe(void *user, uint64_t client_id, struct json_object *row)
{
	struct sess_module *m = user;
	struct sess_client *c = sess_client_find(m, client_id);
	if (c && c->s) {
		json_object_object_add(row, "session", json_object_new_string(c->s->id));
		json_object_object_add(row, "session_name", json_object_new_string(c->s->name));
		json_object_object_add(row, "session_pinned", json_object_new_boolean(c->pinned));
	} else {
		json_object_object_add(row, "session", NULL);
	}
	sess_cscene_describe(user, client_id, row);
}

/* A client's cursor and drag preview: to the session's other local clients
 * and the net hook (which adds the speaking flag the voice module knows). */
static void sess_on_presence(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_presence *p,
			     uint64_t now_ns)
{
	struct sess_module *m = user;
	struct sess_client *c = sess_client_find(m, client_id);
	const struct th_keypair *key;
	if (!c || !c->s || id_user_key(m->ids, uid, &key) < 0)
		return;
	(*m->m_presence_in)++;
	struct proto_ipc_presence out = *p;
	out.entity = sess_entity_of(key->pk); /* a client speaks for its own user only */
	out.flags &= ~(uint32_t)PROTO_IPC_PRES_F_SPEAKING;
	for (struct sess_client *o = m->clients; o; o = o->next)
		if (o != c && o->s == c->s && o->uid != c->uid &&
		    ipc_server_send(m->ipc, o->id, PROTO_IPC_T_PRESENCE, &out) == 0)
			(*m->m_presence_out)++;
	if (m->net.presence)
		m->net.presence(m->net_user, c->s, key->pk, &out);
}

static const struct ipc_callbacks sess_ipc_cb = {
	.admit = sess_admit,
	.on_connect = sess_on_connect,
	.on_disconnect = sess_on_disconnect,
	.on_submit = sess_on_submit,
	.on_resync = sess_on_resync,
	.on_pose = sess_on_pose,
	.on_presence = sess_on_presence,
	.on_scene_state = sess_cscene_on_state,
	.describe = sess_client_describe,
};

/* ---- group commit --------------------------------------------------------- */

/* A log that failed a write or sync refuses everything until reopened;
 * recovery judges from the files what survived. */
static void sess_log_failed(struct sess_module *m, struct sess_session *s, int err)
{
	if (s->log_dead)
		return;
	(*m->m_flush_fail)++;
	th_err("session %s: writing the log failed (%s); reopening it", s->id, th_strerror(err));
	/* In place: the net module's catch-ups hold this pointer (their
	 * cursors fail with -EPIPE); the clients' replays and log readers
	 * close first and come back on the recovered log. */
	sess_replay_suspend(m, s);
	sess_log_readers_close(m, s);
	sess_scene_log_suspend(m, s);
	char line[1024];
	int r = clog_reopen(s->log, &s->recovery);
	clog_recovery_describe(&s->recovery, line, sizeof(line));
	if (r < 0) {
		s->log_dead = true;
		snprintf(s->error, sizeof(s->error), "the log failed and could not be reopened: %s", th_strerror(r));
		th_err("session %s: the log could not be reopened (%s); it refuses all work: %s", s->id,
		       th_strerror(r), line);
		return;
	}
	th_warn("session %s (%s): reopened: %s", s->id, s->name, line);
	sess_hold_start(m, s, th_now_ns());
	sess_replay_resume(m, s);
	sess_scene_log_reopened(m, s);
	sess_cscene_resync_session(m, s); /* recovery may have cut what mirrors folded */
}

/* After a failure (reopened or not), entries that waited for the log get
 * their answer: taken by the reopened log, or its error. */
static void sess_log_failed_tell(struct sess_module *m, struct sess_session *s, int err)
{
	sess_log_failed(m, s, err);
	if (m->net.log_room)
		m->net.log_room(m->net_user, s);
}

static void sess_on_flush(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sess_module *m = user;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	m->flush_armed = false;
	uint64_t now = th_now_ns();
	if (m->holds)
		sess_hold_poll(m, now);
	for (unsigned i = 0; i < m->reg.n; i++) {
		struct sess_session *s = m->reg.s[i];
		if (!s->log || !clog_has_pending(s->log))
			continue;
		/* Hands the batch to the worker (or leaves it for when the
		 * one in flight is durable). */
		int r = clog_flush(s->log, now);
		if (r < 0)
			sess_log_failed_tell(m, s, r);
	}
}

/* The worker finished group commits or reads: acks, events and cursor
 * wake-ups run here, on the loop thread. */
static void sess_on_worker(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sess_module *m = user;
	clog_worker_poll(m->worker);
	for (unsigned i = 0; i < m->reg.n; i++) {
		struct sess_session *s = m->reg.s[i];
		if (s->log && clog_error(s->log) && !s->log_dead)
			sess_log_failed_tell(m, s, clog_error(s->log));
	}
}

/* ---- control commands ----------------------------------------------------- */

struct sess_session *sess_pick(struct sess_module *m, struct json_object *args, char *err, size_t errlen)
{
	struct json_object *v;
	if (args && json_object_object_get_ex(args, "session", &v))
		return sess_lookup(&m->reg, json_object_get_string(v), err, errlen);
	if (!m->current)
		snprintf(err, errlen, "no session is open");
	return m->current;
}

int sess_pick_open(struct sess_module *m, const struct srv_ctl_caller *caller, struct json_object *args,
		   struct sess_session **out, char *err, size_t errlen)
{
	struct sess_session *s = sess_pick(m, args, err, errlen);
	if (!s)
		return -ENOENT;
	if (!caller->may_change && !sess_local_role(s, caller->uid)) {
		char name[64];
		sess_user_name(caller->uid, name, sizeof(name));
		sess_not_member_msg(s, name, err, errlen);
		return -EPERM;
	}
	if (!s->log) {
		snprintf(err, errlen, "session %s: %s", s->id, s->error);
		return -EIO;
	}
	*out = s;
	return 0;
}

static int sess_cmd_whoami(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			   struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	const struct th_keypair *key;
	char fpr[TH_KEY_FPR_LEN], name[128];
	int r = id_user_key(m->ids, caller->uid, &key);
	if (r < 0) {
		snprintf(err, errlen, "no key for uid %u: %s", (unsigned)caller->uid, th_strerror(r));
		return r;
	}
	th_key_fingerprint(key->pk, fpr, sizeof(fpr));
	sess_user_name(caller->uid, name, sizeof(name));
	*res = json_object_new_object();
	json_object_object_add(*res, "uid", json_object_new_int((int)caller->uid));
	json_object_object_add(*res, "user", json_object_new_string(name));
	json_object_object_add(*res, "key", json_object_new_string(fpr));
	char hex[2 * SESS_KEY_LEN + 1];
	th_hex_encode(key->pk, SESS_KEY_LEN, hex);
	json_object_object_add(*res, "public_key", json_object_new_string(hex));
	return 0;
}

static int sess_cmd_sessions(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			     struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct json_object *arr = json_object_new_array();
	for (unsigned i = 0; i < m->reg.n; i++) {
		struct sess_session *s = m->reg.s[i];
		struct json_object *o = json_object_new_object();
		unsigned members = 0;
		for (struct sess_client *c = m->clients; c; c = c->next)
			members += c->s == s;
		json_object_object_add(o, "id", json_object_new_string(s->id));
		json_object_object_add(o, "name", json_object_new_string(s->name));
		json_object_object_add(o, "created_unix", json_object_new_uint64(s->created_unix));
		json_object_object_add(o, "role", json_object_new_string(s->role == SESS_ROLE_MEMBER ? "member" : "host"));
		json_object_object_add(o, "state", json_object_new_string(!s->log ? "damaged" : s->ended ? "ended" : "open"));
		if (s->role == SESS_ROLE_HOST)
			json_object_object_add(o, "ended", json_object_new_boolean(s->ended));
		json_object_object_add(o, "peers", json_object_new_int(0));
		if (s->role == SESS_ROLE_MEMBER) {
			json_object_object_add(o, "host", json_object_new_string(s->link.host));
			json_object_object_add(o, "host_port", json_object_new_int(s->link.port));
			if (s->link.granted_role)
				json_object_object_add(o, "granted_role",
						       json_object_new_string(th_role_name(s->link.granted_role)));
		}
		if (m->net.describe)
			m->net.describe(m->net_user, s, o);
		json_object_object_add(o, "clients", json_object_new_int((int)members));
		if (s->log) {
			struct clog_stats st;
			clog_get_stats(s->log, &st);
			json_object_object_add(o, "entries", json_object_new_uint64(st.entries));
			json_object_object_add(o, "lamport", json_object_new_uint64(st.lamport));
			json_object_object_add(o, "authors", json_object_new_uint64(st.authors));
		} else {
			json_object_object_add(o, "error", json_object_new_string(s->error));
		}
		json_object_object_add(o, "current", json_object_new_boolean(s == m->current));
		json_object_array_add(arr, o);
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "sessions", arr);
	return 0;
}

/* ---- for the net module ---------------------------------------------------- */

void sess_module_set_net(void *state, const struct sess_net_hooks *h, void *user)
{
	struct sess_module *m = state;
	if (h)
		m->net = *h;
	else
		memset(&m->net, 0, sizeof(m->net));
	m->net_user = user;
}

struct sess_registry *sess_module_registry(void *state)
{
	return &((struct sess_module *)state)->reg;
}

const struct th_keypair *sess_module_host_key(void *state)
{
	return ((struct sess_module *)state)->host;
}

struct sess_session *sess_module_current(void *state)
{
	return ((struct sess_module *)state)->current;
}

void sess_module_set_current(void *state, struct sess_session *s)
{
	struct sess_module *m = state;
	char path[4200];
	if (m->current == s)
		return;
	m->current = s;
	/* Pinned clients (browsers) stay in their own session. */
	for (struct sess_client *c = m->clients; c; c = c->next)
		if (!c->pinned)
			c->s = s;
	/* Users who are not members of the new session lose their clients. */
	sess_close_non_members(m, s);
	for (struct sess_client *c = m->clients; c; c = c->next) {
		if (c->pinned)
			continue;
		/* The client's world belongs to another session now: its
		 * events, from the first. */
		struct proto_ipc_resync_request rr = { .reason = PROTO_IPC_RESYNC_SESSION, .session = sess_tag(s) };
		sess_replay_stop(c);
		if (sess_cscene_switch(m, c))
			continue; /* a snapshot of the new session, then its events */
		if (ipc_server_send(m->ipc, c->id, PROTO_IPC_T_RESYNC_REQUEST, &rr) == 0)
			sess_replay_start(m, c, 0);
	}
	snprintf(path, sizeof(path), "%s/current", m->reg.root);
	if (th_file_replace(path, s->id, strlen(s->id), 0600) < 0)
		th_warn("cannot remember the current session in %s", path);
	if (m->voice.current)
		m->voice.current(m->voice_user, s);
}

int sess_module_host(void *state, const char *name, uid_t creator, struct sess_session **out)
{
	struct sess_module *m = state;
	int r = sess_create(&m->reg, name, &sess_log_cb, m, out);
	if (r == 0)
		sess_scene_open(m, *out);
	return r < 0 ? r : sess_add_creator(*out, creator);
}

int sess_module_join(void *state, const uint8_t id[SESS_ID_LEN / 2], const char *name,
		     const struct sess_link *link, uid_t creator, struct sess_session **out)
{
	struct sess_module *m = state;
	int r = sess_create_member(&m->reg, id, name, link, &sess_log_cb, m, out);
	if (r == 0)
		sess_scene_open(m, *out);
	return r < 0 ? r : sess_add_creator(*out, creator);
}

unsigned sess_module_notify_rejected(void *state, struct sess_session *s, const uint8_t author[SESS_KEY_LEN],
				     const uint8_t *payload, size_t len)
{
	struct sess_module *m = state;
	struct proto_ipc_event e = { .kind = PROTO_IPC_EVENT_REJECTED, .author = author, .author_len = PROTO_IPC_KEY_LEN,
				     .payload = payload, .payload_len = (uint32_t)len };
	unsigned n = 0;
	if (len > PROTO_IPC_MAX_EVENT)
		return 0;
	for (struct sess_client *c = m->clients; c; c = c->next) {
		const struct th_keypair *key;
		if (c->s != s || id_user_key(m->ids, c->uid, &key) < 0 || memcmp(key->pk, author, SESS_KEY_LEN))
			continue;
		if (ipc_server_send(m->ipc, c->id, PROTO_IPC_T_EVENT, &e) == 0)
			n++;
	}
	return n;
}

int sess_module_integrate(void *state, struct sess_session *s, uint32_t source, uint8_t role,
			  const struct th_logrec_entry *es, size_t n, uint64_t now_ns)
{
	struct sess_module *m = state;
	if (!s->log)
		return -EIO;
	/* Keep the per-source pending bound for what peers send in bursts
	 * (catch-up): start writing out what is queued before taking more, and
	 * when even that leaves no room for the group (a batch in flight plus
	 * SESS_LOG_PENDING_PER_SOURCE queued, or the byte cap), take nothing:
	 * the caller keeps the group and comes back after the log_room hook
	 * (backpressure up to the peer; the loop never waits for the disk). */
	struct clog_stats st;
	clog_get_stats(s->log, &st);
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += TH_LOGREC_FRAME_LEN + th_logrec_body_len(&es[i]) + TH_LOGREC_SIG_LEN;
	if ((st.pending + n > CLOG_PENDING_PER_SOURCE_DEFAULT / 2 || st.pending + n > m->remote_queue_max) &&
	    clog_has_pending(s->log)) {
		int r = clog_flush(s->log, now_ns);
		if (r < 0)
			return r;
		clog_get_stats(s->log, &st);
		if ((st.pending + n > m->remote_queue_max || st.pending_bytes + bytes > CLOG_PENDING_BYTES_MAX) &&
		    clog_busy(s->log)) {
			(*m->m_remote_waits)++;
			return -EAGAIN;
		}
	}
	/* Signatures are checked on the worker: the first calls for a group
	 * answer -EINPROGRESS (the caller keeps it), the one after the last
	 * part was checked admits it here, in order. */
	m->integrating_role = role;
	int r = clog_integrate_remote_async(s->log, source, es, n, now_ns);
	m->integrating_role = TH_ROLE_NONE;
	if (r == -EINPROGRESS)
		(*m->m_remote_verify_waits)++;
	if (r > 0)
		*m->m_remote_in += (uint64_t)r;
	/* A large group is admitted a slice per call: what went in is
	 * written meanwhile. */
	if ((r > 0 || r == -EINPROGRESS) && clog_has_pending(s->log))
		sess_arm_flush(m);
	return r;
}

void sess_module_deliver_pose(void *state, struct sess_session *s, const struct proto_ipc_pose_update *p)
{
	struct sess_module *m = state;
	for (struct sess_client *c = m->clients; c; c = c->next)
		if (c->s == s && ipc_server_send(m->ipc, c->id, PROTO_IPC_T_POSE_UPDATE, p) == 0)
			(*m->m_poses_out)++;
	if (m->voice.pose)
		m->voice.pose(m->voice_user, s, p);
}

void sess_module_deliver_presence(void *state, struct sess_session *s, const struct proto_ipc_presence *p)
{
	struct sess_module *m = state;
	for (struct sess_client *c = m->clients; c; c = c->next) {
		const struct th_keypair *key;
		if (c->s != s || (id_user_key(m->ids, c->uid, &key) == 0 && sess_entity_of(key->pk) == p->entity))
			continue;
		if (ipc_server_send(m->ipc, c->id, PROTO_IPC_T_PRESENCE, p) == 0)
			(*m->m_presence_out)++;
	}
}

/* ---- module --------------------------------------------------------------- */

static void sess_report_recovery(const struct sess_session *s)
{
	const struct clog_recovery *r = &s->recovery;
	if (!s->log) {
		th_err("session %s (%s): %s", s->id, s->name, s->error);
		return;
	}
	char line[1024];
	clog_recovery_describe(r, line, sizeof(line));
	if (r->repaired)
		th_warn("session %s (%s): %s", s->id, s->name, line);
	else
		th_info("session %s (%s): %s", s->id, s->name, line);
}

static void sess_module_stop(void *state);

static int sess_module_start(struct srv_daemon *d, void **state, char *msg, unsigned len)
{
	struct sess_module *m = calloc(1, sizeof(*m));
	int r;
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->flush_fd = -1;
	m->replay_fd = -1;
	m->replay_retry_ns = SESS_REPLAY_RETRY_MIN_NS;
	m->hold_wait_ns = SESS_HOLD_WAIT_NS;
	/* Tests: how long a held submit waits for a host that is not heard
	 * from, so a test sees the refusal without waiting 10 s or keeps
	 * holding across a host's restart on a loaded machine. */
	const char *hw = getenv("THETAD_TEST_HOLD_WAIT_MS");
	if (hw && *hw) {
		m->hold_wait_ns = strtoull(hw, NULL, 10) * 1000 * 1000;
		th_warn("THETAD_TEST_HOLD_WAIT_MS is set: held edits wait %.1f s for the host (tests only)",
			(double)m->hold_wait_ns / 1e9);
	}
	m->remote_queue_max = SESS_LOG_PENDING_PER_SOURCE;
	const char *qe = getenv("THETAD_TEST_REMOTE_QUEUE");
	if (qe && *qe && strtoul(qe, NULL, 10) > 0 && strtoul(qe, NULL, 10) < SESS_LOG_PENDING_PER_SOURCE)
		m->remote_queue_max = (uint32_t)strtoul(qe, NULL, 10);
	m->ipc = ipc_module_server(srv_daemon_module_state(d, "ipc"));
	struct srv_metrics *mx = srv_daemon_metrics(d);
	m->m_submits = srv_counter(mx, "clog_submits", "commands submitted by local clients");
	srv_metrics_add_collector(mx, sess_collect, m);
	m->h_ack = srv_histogram(mx, "sess_ack_seconds", "a local client's edit, from signing to its ack (durable in the log)",
				 srv_hist_fast_s, SRV_HIST_FAST_N);
	m->h_commit = srv_histogram(mx, "clog_commit_seconds", "a group commit's fdatasync, every session's log",
				    srv_hist_fast_s, SRV_HIST_FAST_N);
	m->m_acks = srv_counter(mx, "clog_acks", "commands acknowledged after they were durable");
	m->m_rejects = srv_counter(mx, "clog_rejects", "commands refused, with the reason sent back");
	m->m_replays = srv_counter(mx, "clog_replays", "client requests at or below one already seen");
	m->m_events = srv_counter(mx, "clog_events_delivered", "log entries delivered to clients");
	m->m_flushes = srv_counter(mx, "clog_group_commits", "group commits (one fdatasync each)");
	m->m_flush_fail = srv_counter(mx, "clog_write_failures", "group commits that failed to write");
	m->m_remote_in = srv_counter(mx, "clog_remote_entries", "entries from other daemons queued into a log");
	m->m_remote_rejects = srv_counter(mx, "clog_remote_rejects", "entries from other daemons refused (not replays)");
	m->m_remote_verify_waits = srv_counter(mx, "clog_remote_verify_waits",
					       "answers to groups from other daemons that waited for their signatures to be checked on the worker");
	m->m_remote_waits = srv_counter(mx, "clog_remote_waits",
					"groups from other daemons not taken yet: the log's queue was full while a batch was written");
	m->m_poses_in = srv_counter(mx, "sess_poses_in", "pose updates from local clients");
	m->m_poses_out = srv_counter(mx, "sess_poses_out", "pose updates delivered to local clients");
	m->m_presence_in = srv_counter(mx, "sess_presence_in", "PRESENCE (cursor, drag preview) from local clients");
	m->m_presence_out = srv_counter(mx, "sess_presence_out", "PRESENCE delivered to local clients");
	m->m_session_infos = srv_counter(mx, "sess_session_infos",
					 "SESSION_INFO messages sent to local clients (on change, at most once a second each)");
	m->m_replayed = srv_counter(mx, "sess_replayed_events",
				    "events sent from the log: replays a client asked for, and what a full ring held back");
	m->m_not_member = srv_counter(mx, "sess_not_member",
				      "theta-clients refused or closed: their user is not a member of the session");
	m->m_held = srv_counter(mx, "sess_held",
				"commands held until the entries recovery cut came back from the host (docs/network.md)");
	m->m_held_refused = srv_counter(mx, "sess_held_refused",
					"held commands refused: the hold was full or the host was not heard from");
	m->m_cut_lost = srv_counter(mx, "sess_cut_lost",
				    "authors whose cut entries no peer held either (lost; edits continue)");
	m->m_hold_expired = srv_counter(mx, "sess_hold_expired",
					"hosted sessions that signed held edits without hearing every member (split risk)");
	m->m_dups = srv_counter(mx, "clog_duplicates",
				"resent commands answered with the entry their first copy made (exactly once)");
	if ((r = id_store_open(srv_daemon_state_dir(d), &m->ids)) < 0 || (r = id_host_key(m->ids, &m->host)) < 0) {
		snprintf(msg, len, "cannot open the keys under %s/keys: %s", srv_daemon_state_dir(d), th_strerror(r));
		goto fail;
	}
	if ((r = clog_worker_create(&m->worker)) < 0 ||
	    (r = th_loop_add(srv_daemon_loop(d), clog_worker_fd(m->worker), EPOLLIN, sess_on_worker, m)) < 0) {
		snprintf(msg, len, "cannot start the log worker: %s", th_strerror(r));
		goto fail;
	}
	struct sess_registry_config rc = { .log_rate_per_s = (uint32_t)srv_daemon_config(d)->clog_rate_per_s,
					   .log_rate_burst = (uint32_t)srv_daemon_config(d)->clog_rate_burst,
					   .log_validate = th_cmd_payload_check };
	/* Tests: THETAD_TEST_SKIP_PAYLOAD_CHECK=1 makes this daemon's logs take
	 * any payload (an older or hostile daemon), so a test sees its host
	 * refuse what it relays. */
	const char *skip = getenv("THETAD_TEST_SKIP_PAYLOAD_CHECK");
	if (skip && *skip == '1') {
		th_warn("THETAD_TEST_SKIP_PAYLOAD_CHECK is set: this daemon does not check command payloads (tests only)");
		rc.log_validate = NULL;
	}
	if ((r = sess_registry_open(&m->reg, srv_daemon_state_dir(d), &sess_log_cb, m, m->worker, &rc)) < 0) {
		snprintf(msg, len, "cannot open %s/sessions: %s", srv_daemon_state_dir(d), th_strerror(r));
		goto fail;
	}
	for (unsigned i = 0; i < m->reg.n; i++) {
		sess_report_recovery(m->reg.s[i]);
		sess_hold_start(m, m->reg.s[i], th_now_ns());
	}
	m->current = NULL;
	for (unsigned i = 0; i < m->reg.n && !m->current; i++)
		if (m->reg.s[i]->role == SESS_ROLE_HOST && !strcmp(m->reg.s[i]->name, SESS_DEFAULT_NAME))
			m->current = m->reg.s[i];
	if (!m->current && (r = sess_create(&m->reg, SESS_DEFAULT_NAME, &sess_log_cb, m, &m->current)) < 0) {
		snprintf(msg, len, "cannot create the default session: %s", th_strerror(r));
		goto fail;
	}
	{
		/* The session clients worked in before the restart. */
		char path[4200], *text = NULL;
		size_t tl;
		snprintf(path, sizeof(path), "%s/current", m->reg.root);
		if (th_file_read(path, SESS_ID_LEN + 1, &text, &tl) == 0) {
			text[strcspn(text, "\n")] = 0;
			struct sess_session *cur = sess_find(&m->reg, text);
			if (cur && !(cur->role == SESS_ROLE_MEMBER && cur->link.left))
				m->current = cur;
			free(text);
		}
	}
	m->flush_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->flush_fd < 0 || (r = th_loop_add(srv_daemon_loop(d), m->flush_fd, EPOLLIN, sess_on_flush, m)) < 0) {
		r = m->flush_fd < 0 ? -errno : r;
		snprintf(msg, len, "cannot create the commit eventfd: %s", th_strerror(r));
		goto fail;
	}
	struct sess_scene_config sc = { .ckpt_entries = (uint64_t)srv_daemon_config(d)->scene_ckpt_entries,
					 .ckpt_interval_ns = srv_daemon_config(d)->scene_ckpt_interval_ns,
					 .fork_elements = (uint64_t)srv_daemon_config(d)->scene_ckpt_fork_elements };
	if ((r = sess_scene_start(m, &sc, msg, len)) < 0)
		goto fail;
	m->replay_fd = th_timerfd_create(0, 0);
	if (m->replay_fd < 0 || (r = th_loop_add(srv_daemon_loop(d), m->replay_fd, EPOLLIN, sess_on_replay, m)) < 0) {
		r = m->replay_fd < 0 ? m->replay_fd : r;
		snprintf(msg, len, "cannot create the replay timer: %s", th_strerror(r));
		goto fail;
	}
	if (m->ipc)
		ipc_server_set_callbacks(m->ipc, &sess_ipc_cb, m);
	sess_cscene_init(m);
	struct srv_control *ctl = srv_daemon_control(d);
	srv_control_register(ctl, "whoami", SRV_CTL_QUERY, sess_cmd_whoami, m);
	srv_control_register(ctl, "log", SRV_CTL_QUERY, sess_cmd_log, m);
	srv_control_register(ctl, "sessions", SRV_CTL_QUERY, sess_cmd_sessions, m);
	sess_choose_register(m, ctl);
	srv_control_register(ctl, "session_allow", SRV_CTL_CHANGE, sess_cmd_allow, m);
	srv_control_register(ctl, "session_deny", SRV_CTL_CHANGE, sess_cmd_deny, m);
	srv_control_register(ctl, "session_members", SRV_CTL_QUERY, sess_cmd_members, m);
	srv_control_register(ctl, "scene", SRV_CTL_QUERY, sess_cmd_scene, m);
	srv_control_register(ctl, "export", SRV_CTL_QUERY, sess_cmd_export, m);
	/* Query access: the caller's own role in the session decides, as for
	 * a theta-client's submit (submit.c). */
	srv_control_register(ctl, "submit", SRV_CTL_QUERY, sess_cmd_submit, m);
	srv_control_register(ctl, "entry", SRV_CTL_QUERY, sess_cmd_entry, m);
	*state = m;
	return 0;
fail:
	sess_module_stop(m);
	return r;
}

static void sess_module_stop(void *state)
{
	struct sess_module *m = state;
	if (!m)
		return;
	if (m->ipc)
		ipc_server_set_callbacks(m->ipc, NULL, NULL);
	sess_export_stop(m); /* an unanswered export: thetactl drops its file */
	/* Whatever is queued gets written (and acked) before we go. */
	for (unsigned i = 0; i < m->reg.n; i++)
		if (m->reg.s[i]->log)
			clog_drain(m->reg.s[i]->log);
	for (struct sess_client *c = m->clients; c; c = c->next)
		sess_replay_stop(c); /* cursors close before their logs */
	sess_log_readers_close(m, NULL);
	sess_scene_stop(m); /* a last checkpoint of what the drain folded */
	sess_hold_stop(m);
	sess_registry_close(&m->reg);
	if (m->worker) {
		th_loop_del(srv_daemon_loop(m->d), clog_worker_fd(m->worker));
		clog_worker_destroy(&m->worker);
	}
	if (m->replay_fd >= 0) {
		th_loop_del(srv_daemon_loop(m->d), m->replay_fd);
		close(m->replay_fd);
	}
	if (m->flush_fd >= 0) {
		th_loop_del(srv_daemon_loop(m->d), m->flush_fd);
		close(m->flush_fd);
	}
	while (m->clients) {
		struct sess_client *c = m->clients;
		m->clients = c->next;
		free(c);
	}
	id_store_close(&m->ids);
	free(m);
}

static void sess_module_status(void *state, struct json_object *status)
{
	struct sess_module *m = state;
	char fpr[TH_KEY_FPR_LEN];
	json_object_object_add(status, "sessions", json_object_new_int((int)m->reg.n));
	if (m->host && th_key_fingerprint(m->host->pk, fpr, sizeof(fpr)) >= 0)
		json_object_object_add(status, "host_key", json_object_new_string(fpr));
}

static int sess_module_status_line(void *state, char *buf, unsigned len)
{
	struct sess_module *m = state;
	return snprintf(buf, len, "%u session%s", m->reg.n, m->reg.n == 1 ? "" : "s");
}

static void sess_module_tick(void *state, unsigned long long now_ns)
{
	struct sess_module *m = state;
	sess_log_readers_expire(state, now_ns);
	sess_scene_tick(m, now_ns);
	sess_cinfo_tick(m, now_ns);
	if (m->holds)
		sess_hold_poll(m, now_ns);
}

const struct srv_module sess_module = {
	.name = "sessions",
	.start = sess_module_start,
	.stop = sess_module_stop,
	.tick = sess_module_tick,
	.status = sess_module_status,
	.status_line = sess_module_status_line,
};
