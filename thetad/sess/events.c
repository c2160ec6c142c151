/* Events to local clients, each with the entry's durable position in this
 * daemon's log of the session, and replay from a position (RESYNC_REQUEST):
 * a client is live (each entry as it becomes durable) or replaying (from a
 * clog cursor, as its ring has room, bounded per loop pass), never both, so
 * it gets each position once and in order. Also `log`, the same log page
 * by page for thetactl. docs/ipc.md, "Events and resume". */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc/server.h"
#include "sess/client_scene.h"
#include "sess/module_int.h"
#include "sess/scene.h"
#include "srv/control.h"
#include "th_err.h"
#include "th_log.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_loop.h"
#include "th_time.h"

/* ---- `log` readers ---------------------------------------------------------- */

static void sess_log_reader_free(struct sess_log_reader *r)
{
	clog_cursor_close(&r->cur);
	r->s = NULL;
}

/* Closes the readers of s (every reader when s is NULL). */
void sess_log_readers_close(struct sess_module *m, struct sess_session *s)
{
	for (unsigned i = 0; i < SESS_LOG_READERS; i++)
		if (m->readers[i].s && (!s || m->readers[i].s == s))
			sess_log_reader_free(&m->readers[i]);
}

/* The reader of s standing at pos: the one the previous page left there,
 * or a new one (in a free slot, else the least recently used). */
static int sess_log_reader_get(struct sess_module *m, struct sess_session *s, uint64_t pos, uint64_t now,
			       struct sess_log_reader **out)
{
	struct sess_log_reader *pick = NULL;
	for (unsigned i = 0; i < SESS_LOG_READERS; i++) {
		struct sess_log_reader *r = &m->readers[i];
		if (r->s == s && r->pos == pos) {
			r->used_ns = now;
			*out = r;
			return 0;
		}
		if (!pick || (pick->s && (!r->s || r->used_ns < pick->used_ns)))
			pick = r;
	}
	if (pick->s)
		sess_log_reader_free(pick);
	int rc = clog_cursor_open(s->log, pos, NULL, NULL, &pick->cur);
	if (rc < 0)
		return rc;
	*pick = (struct sess_log_reader){ .s = s, .cur = pick->cur, .pos = pos, .used_ns = now };
	*out = pick;
	return 0;
}

void sess_log_readers_expire(struct sess_module *m, uint64_t now_ns)
{
	for (unsigned i = 0; i < SESS_LOG_READERS; i++)
		if (m->readers[i].s && now_ns - m->readers[i].used_ns > SESS_LOG_READER_IDLE_NS)
			sess_log_reader_free(&m->readers[i]);
}

/* ---- events and replay -------------------------------------------------------- */

/* The session's tag in RESYNC_REQUEST: its id's first 8 bytes, LE. */
uint64_t sess_tag(const struct sess_session *s)
{
	return th_get_le64(s->id_bytes);
}

/* The EVENT for the entry at pos (payload encoded into m->enc). */
static int sess_event_of(struct sess_module *m, uint64_t pos, const struct th_logrec_entry *e,
			 struct proto_ipc_event *out)
{
	int n = th_logrec_encode(e, m->enc, sizeof(m->enc));
	if (n < 0)
		return n;
	*out = (struct proto_ipc_event){ .kind = PROTO_IPC_EVENT_LOG_ENTRY, .pos = pos, .lamport = e->lamport,
					 .author = e->author, .author_len = PROTO_IPC_KEY_LEN,
					 .payload = m->enc, .payload_len = (uint32_t)n };
	return 0;
}

void sess_replay_arm(struct sess_module *m, uint64_t in_ns)
{
	if (m->replay_fd >= 0)
		th_timerfd_set(m->replay_fd, in_ns ? in_ns : 1, 0);
}

static void sess_cursor_ready(void *user)
{
	sess_replay_arm(user, 0);
}

void sess_replay_stop(struct sess_client *c)
{
	clog_cursor_close(&c->cur);
}

/* From now on c gets the session's events from pos: live when pos is the
 * end of the log, else from a cursor (the next replay pass). */
void sess_replay_start(struct sess_module *m, struct sess_client *c, uint64_t pos)
{
	sess_replay_stop(c);
	c->next_pos = pos;
	c->stalled = false;
	if (!c->s || !c->s->log) {
		c->stalled = true;
		return;
	}
	if (pos >= clog_count(c->s->log))
		return;
	int r = clog_cursor_open(c->s->log, pos, sess_cursor_ready, m, &c->cur);
	if (r < 0) {
		th_warn("session %s: cannot read the log from position %" PRIu64 " for client %" PRIu64 ": %s", c->s->id,
			pos, c->id, th_strerror(r));
		c->stalled = true;
		return;
	}
	sess_replay_arm(m, 0);
}

/* Up to SESS_REPLAY_BATCH events to c while its ring has room for the
 * largest one. Returns 1 when it stopped at the batch limit, 0 when it is
 * caught up, waits for the cursor or failed, -EAGAIN when the ring is full. */
static int sess_replay_some(struct sess_module *m, struct sess_client *c)
{
	for (unsigned n = 0; n < SESS_REPLAY_BATCH; n++) {
		if (ipc_server_room(m->ipc, c->id) < PROTO_IPC_MAXSZ_EVENT)
			return -EAGAIN;
		uint64_t pos;
		struct th_logrec_entry e;
		struct proto_ipc_event ev;
		int r = clog_cursor_next(c->cur, &pos, &e);
		if (r == 0) { /* caught up: live from here */
			sess_replay_stop(c);
			return 0;
		}
		if (r == -EAGAIN)
			return 0; /* sess_cursor_ready comes back */
		if (r < 0 || sess_event_of(m, pos, &e, &ev) < 0) {
			th_warn("session %s: reading the log at position %" PRIu64 " for client %" PRIu64 " failed: %s",
				c->s->id, c->next_pos, c->id, th_strerror(r < 0 ? r : -EBADMSG));
			sess_replay_stop(c);
			c->stalled = true;
			return 0;
		}
		if (ipc_server_send(m->ipc, c->id, PROTO_IPC_T_EVENT, &ev) < 0)
			return 0; /* the client is gone */
		(*m->m_events)++;
		(*m->m_replayed)++;
		c->next_pos = pos + 1;
	}
	return 1;
}

void sess_on_replay(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sess_module *m = user;
	bool more = false, blocked = false;
	th_timerfd_drain(fd);
	int sr = sess_cscene_pump(m); /* scene snapshots first: their events follow */
	more |= sr == 1;
	blocked |= sr == -EAGAIN;
	for (struct sess_client *c = m->clients; c; c = c->next) {
		if (!c->cur)
			continue;
		uint64_t before = c->next_pos;
		int r = sess_replay_some(m, c);
		more |= r == 1;
		blocked |= r == -EAGAIN;
		if (c->next_pos != before)
			m->replay_retry_ns = SESS_REPLAY_RETRY_MIN_NS;
	}
	if (more) {
		sess_replay_arm(m, 0); /* the loop serves everyone else first */
	} else if (blocked) {
		/* No doorbell tells us the client made room: look again soon,
		 * less often while it does not read. */
		sess_replay_arm(m, m->replay_retry_ns);
		if (m->replay_retry_ns < SESS_REPLAY_RETRY_MAX_NS)
			m->replay_retry_ns *= 2;
	}
}

/* The log of s is about to close: its clients' cursors go first and come
 * back (sess_replay_resume) on the reopened log. */
void sess_replay_suspend(struct sess_module *m, struct sess_session *s)
{
	for (struct sess_client *c = m->clients; c; c = c->next)
		if (c->s == s && c->cur) {
			sess_replay_stop(c);
			c->stalled = true;
		}
}

void sess_replay_resume(struct sess_module *m, struct sess_session *s)
{
	for (struct sess_client *c = m->clients; c; c = c->next)
		if (c->s == s && c->stalled && s->log)
			sess_replay_start(m, c, c->next_pos);
}

/* A client says which events it has (RESYNC_REQUEST): the daemon answers
 * where the stream starts (RESYNC FROM, or SESSION when the client's
 * positions belong to another session) and replays from there. */
void sess_on_resync(void *user, uint64_t client_id, const struct proto_ipc_resync_request *rq, uint64_t now_ns)
{
	struct sess_module *m = user;
	struct sess_client *c = sess_client_find(m, client_id);
	if (!c || !c->s)
		return;
	if (sess_cscene_resync(m, c, rq))
		return; /* a snapshot, then its events (client_scene.c) */
	struct proto_ipc_resync_request a = { .reason = PROTO_IPC_RESYNC_FROM, .session = sess_tag(c->s),
					      .next_pos = rq->next_pos };
	if (rq->session && rq->session != a.session) {
		a.reason = PROTO_IPC_RESYNC_SESSION;
		a.next_pos = 0;
	}
	uint64_t count = c->s->log ? clog_count(c->s->log) : 0;
	if (a.next_pos > count)
		a.next_pos = count; /* positions the log no longer has (recovery cut them) */
	if (ipc_server_send(m->ipc, c->id, PROTO_IPC_T_RESYNC_REQUEST, &a) < 0)
		return;
	sess_replay_start(m, c, a.next_pos);
}

void sess_on_durable(void *user, const struct clog_event *ev)
{
	struct sess_session *s = user;
	struct sess_module *m = s->owner;
	sess_author_note(s, ev->entry->author, ev->entry->seq);
	sess_scene_on_durable(s, ev); /* the fold first: its outcomes go out with the entry */
	if (m->holds && ev->remote)
		sess_arm_flush(m); /* a held submit's author may be back (hold.c) */
	if (m->net.durable)
		m->net.durable(m->net_user, s, ev);
	struct proto_ipc_event e;
	if (sess_event_of(m, ev->pos, ev->entry, &e) < 0)
		return;
	int size = proto_ipc_encode(PROTO_IPC_T_EVENT, &e, NULL, 0);
	for (struct sess_client *c = m->clients; c; c = c->next) {
		if (c->s != s || c->cur || c->stalled || ev->pos < c->next_pos || sess_cscene_busy(c))
			continue; /* replaying (its cursor gets there), or it has it */
		if (ev->pos > c->next_pos || size < 0 || ipc_server_room(m->ipc, c->id) < (uint32_t)size) {
			/* A full ring: the rest comes from the log as it drains. */
			sess_replay_start(m, c, c->next_pos);
			continue;
		}
		/* Published once per batch, by sess_on_batch. */
		if (ipc_server_send_held(m->ipc, c->id, PROTO_IPC_T_EVENT, &e) == 0) {
			(*m->m_events)++;
			c->next_pos = ev->pos + 1;
		}
	}
}

static struct json_object *sess_entry_json(uint64_t pos, const struct th_logrec_entry *e)
{
	const struct th_cmd_info *info = th_cmd_find(e->type);
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(e->author, fpr, sizeof(fpr));
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "pos", json_object_new_uint64(pos));
	json_object_object_add(o, "lamport", json_object_new_uint64(e->lamport));
	json_object_object_add(o, "author", json_object_new_string(fpr));
	json_object_object_add(o, "seq", json_object_new_uint64(e->seq));
	json_object_object_add(o, "type", json_object_new_string(info ? info->name : "?"));
	json_object_object_add(o, "type_id", json_object_new_int(e->type));
	json_object_object_add(o, "scope", json_object_new_string(th_scope_name(e->scope_kind)));
	json_object_object_add(o, "scope_id", json_object_new_uint64(e->scope_id));
	json_object_object_add(o, "size", json_object_new_int((int)e->payload_len));
	json_object_object_add(o, "time_ns", json_object_new_uint64(e->time_ns));
	json_object_object_add(o, "req", json_object_new_uint64(e->req));
	return o;
}

/* `log`: a page of the session's log in position order (this daemon's
 * append order, which never changes): at most `max` entries from position
 * `since`; "next_pos" is where the next page starts and "truncated" says
 * whether there is one yet. Entries integrated later (after a heal, with
 * any lamport) come at higher positions, so following by position misses
 * none. */
int sess_cmd_log(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s;
	struct json_object *v;
	uint64_t since = 0, max = SESS_LOG_LIST_DEFAULT;
	int pr = sess_pick_open(m, caller, args, &s, err, errlen);
	if (pr < 0)
		return pr;
	if (args && json_object_object_get_ex(args, "since", &v)) {
		int64_t x = json_object_get_int64(v);
		since = x < 0 ? 0 : (uint64_t)x;
	}
	if (args && json_object_object_get_ex(args, "max", &v)) {
		int64_t x = json_object_get_int64(v);
		max = x < 1 ? 1 : x > SESS_LOG_LIST_MAX ? SESS_LOG_LIST_MAX : (uint64_t)x;
	}
	uint64_t count = clog_count(s->log), next = since > count ? count : since;
	struct json_object *arr = json_object_new_array();
	bool reading = false;
	if (next < count) {
		struct sess_log_reader *rd;
		int r = sess_log_reader_get(m, s, next, th_now_ns(), &rd);
		if (r < 0) {
			json_object_put(arr);
			snprintf(err, errlen, "cannot read the log of session %s from position %" PRIu64 ": %s", s->id, next,
				 th_strerror(r));
			return r;
		}
		for (uint64_t n = 0; n < max; n++) {
			uint64_t pos;
			struct th_logrec_entry e;
			r = clog_cursor_next(rd->cur, &pos, &e);
			if (r != 1)
				break;
			json_object_array_add(arr, sess_entry_json(pos, &e));
			next = rd->pos = pos + 1;
		}
		/* -EAGAIN: the next window is being read; the page ends here and
		 * the next request continues from this reader. */
		reading = r == -EAGAIN;
		if (r < 0 && !reading) {
			json_object_put(arr);
			sess_log_reader_free(rd);
			snprintf(err, errlen, "reading the log of session %s at position %" PRIu64 " failed: %s", s->id,
				 next, th_strerror(r));
			return r;
		}
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "name", json_object_new_string(s->name));
	json_object_object_add(*res, "lamport", json_object_new_uint64(clog_lamport(s->log)));
	json_object_object_add(*res, "count", json_object_new_uint64(count));
	json_object_object_add(*res, "since", json_object_new_uint64(since));
	json_object_object_add(*res, "next_pos", json_object_new_uint64(next));
	json_object_object_add(*res, "truncated", json_object_new_boolean(next < count));
	json_object_object_add(*res, "reading", json_object_new_boolean(reading));
	json_object_object_add(*res, "entries", arr);
	return 0;
}
