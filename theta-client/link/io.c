/* Ring traffic of the daemon link: the app_transport ops. drain consumes
 * daemon->client records (validated, copied out by th_ring_pop, decoded by
 * proto/ipc); publish and send_stats queue what the frame produced and
 * write what fits into the client->daemon ring with one flush. */
#include "link/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th_err.h"

static struct link_cmd *cmd_at(struct link *l, uint32_t i)
{
	return &l->cmds[(l->cmd_head + i) % LINK_MAX_PENDING_CMDS];
}

/* The pending (unanswered) command with this sequence number, or NULL. The
 * queue is in increasing seq order. */
static struct link_cmd *cmd_find(struct link *l, uint64_t seq)
{
	uint32_t lo = 0, hi = l->cmd_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (cmd_at(l, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == l->cmd_count)
		return NULL;
	struct link_cmd *c = cmd_at(l, lo);
	/* Only a command written on this connection can be answered on it. */
	return c->seq == seq && !c->done && c->sent_gen == l->gen ? c : NULL;
}

static void cmd_complete(struct link *l, struct link_cmd *c)
{
	c->done = true;
	free(c->payload);
	c->payload = NULL;
	l->cmd_bytes -= c->len;
	l->cmd_live--;
	while (l->cmd_count && cmd_at(l, 0)->done) {
		*cmd_at(l, 0) = (struct link_cmd){ 0 };
		l->cmd_head = (l->cmd_head + 1) % LINK_MAX_PENDING_CMDS;
		l->cmd_count--;
	}
}

void link_io_fini(struct link *l)
{
	for (uint32_t i = 0; i < l->cmd_count; i++)
		free(cmd_at(l, i)->payload);
	l->cmd_count = l->cmd_live = 0;
	l->cmd_bytes = 0;
}

void link_io_connected(struct link *l, bool reconnect)
{
	l->info_pending = true;
	/* On every connection the link says which events it has (none at
	 * first: the session's whole log follows); the daemon answers where
	 * its stream starts, and replays from there. */
	l->resync_pending = true;
	l->resync_reason = reconnect ? PROTO_IPC_RESYNC_RECONNECTED : PROTO_IPC_RESYNC_CLIENT_ASKED;
	l->synced = false;
	l->input_pending = l->input_set; /* a new daemon connection knows nothing of us */
	l->voice_pending = l->voice_set;
	l->sinfo_valid = false;
	/* The new connection knows nothing of our cursor or drag. */
	l->pres_pending = l->pres_set && l->pres.flags != 0;
	l->pres_written = false;
	l->ping_pending = false;
	l->unflushed = false;
}

/* ---- sending ------------------------------------------------------------- */

/* link_io_send (internal.h); -TH_ECORRUPT when the daemon broke the ring:
 * the link is dropped. */
int link_io_send(struct link *l, uint16_t type, const void *msg, uint64_t now_ns)
{
	int n = proto_ipc_encode(type, msg, l->enc, sizeof l->enc);
	if (n < 0)
		return n;
	int r = th_ring_send(&l->out, type, l->enc, (uint32_t)n);
	if (r == 0) {
		l->st.tx_records++;
		l->st.tx_bytes += (uint64_t)n;
		l->unflushed = true;
		return 0;
	}
	if (r == -TH_ECORRUPT) {
		link_lose(l, now_ns, true, "thetad broke the client->daemon ring (invalid tail); reconnecting");
		return r;
	}
	return r; /* -EAGAIN; -EMSGSIZE cannot happen: max_record was checked */
}

/* Sends commands not yet written on this connection, oldest first; stops at
 * the first that does not fit so that order is kept. */
static int send_commands(struct link *l, uint64_t now_ns)
{
	for (uint32_t i = 0; i < l->cmd_count; i++) {
		struct link_cmd *c = cmd_at(l, i);
		if (c->done || c->sent_gen == l->gen)
			continue;
		/* A resend carries the same (nonce, client_seq): the daemon
		 * recognises an edit it already logged and acks its id. */
		struct proto_ipc_cmd_submit m = { .client_seq = c->seq, .nonce = l->nonce, .cmd_type = c->type,
						  .scope = c->scope, .payload = c->payload, .payload_len = c->len };
		int r = link_io_send(l, PROTO_IPC_T_CMD_SUBMIT, &m, now_ns);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		if (c->sent_gen)
			l->st.cmds_resent++;
		c->sent_gen = l->gen;
		l->st.cmds_sent++;
	}
	return 0;
}

int link_io_pump(struct link *l, uint64_t now_ns)
{
	if (l->state != LINK_ACTIVE)
		return 0;
	int r = 0;
	if (l->info_pending) {
		struct proto_ipc_client_info m = { .pid = (uint32_t)getpid(), .mode = l->cfg.mode };
		memcpy(m.name, l->name, sizeof m.name);
		memcpy(m.version, l->version, sizeof m.version);
		r = link_io_send(l, PROTO_IPC_T_CLIENT_INFO, &m, now_ns);
		if (r == 0 || r == -EINVAL)
			l->info_pending = false;
		else if (r != -EAGAIN)
			return r;
	}
	if (l->resync_pending && !l->info_pending) {
		struct proto_ipc_resync_request m = { .reason = l->resync_reason, .session = l->session,
						      .next_pos = l->next_pos,
						      .flags = l->cfg.scene ? PROTO_IPC_RESYNC_F_SCENE : 0 };
		r = link_io_send(l, PROTO_IPC_T_RESYNC_REQUEST, &m, now_ns);
		if (r == 0) {
			l->resync_pending = false;
			l->synced = false; /* until the daemon's answer */
			l->st.resyncs_sent++;
		}
		else if (r != -EAGAIN)
			return r;
	}
	if (!l->info_pending && (r = link_info_pump(l, now_ns)) < 0 && r != -EAGAIN)
		return r;
	if (!l->info_pending && (r = link_voice_pump(l, now_ns)) < 0 && r != -EAGAIN)
		return r;
	if ((r = send_commands(l, now_ns)) < 0)
		return r;
	for (unsigned k = 0; k < LINK_POSE_PARTS; k++) {
		if (!l->pose_pending[k])
			continue;
		r = link_io_send(l, PROTO_IPC_T_POSE_UPDATE, &l->pose[k], now_ns);
		if (r == -EAGAIN)
			break;
		if (r == -TH_ECORRUPT)
			return r;
		l->pose_pending[k] = false; /* sent, or unsendable (counted below) */
		if (r < 0)
			l->st.drops++;
		else
			l->st.poses_sent++;
	}
	if (l->pres_pending) {
		r = link_io_send(l, PROTO_IPC_T_PRESENCE, &l->pres, now_ns);
		if (r == -TH_ECORRUPT)
			return r;
		if (r == 0) {
			l->pres_pending = false;
			l->pres_sent = l->pres;
			l->pres_written = true;
			l->st.presences_sent++;
		} else if (r != -EAGAIN) {
			l->pres_pending = false; /* link_set_presence checked it: cannot happen */
		}
	}
	if (l->fstats_pending) {
		r = link_io_send(l, PROTO_IPC_T_FRAME_STATS, &l->fstats, now_ns);
		if (r == -TH_ECORRUPT)
			return r;
		if (r != -EAGAIN)
			l->fstats_pending = false;
	}
	if (l->sstate_pending) {
		r = link_io_send(l, PROTO_IPC_T_SCENE_STATE, &l->sstate, now_ns);
		if (r == -TH_ECORRUPT)
			return r;
		if (r != -EAGAIN) {
			l->sstate_pending = false;
			if (r == 0)
				l->st.scene_states++;
		}
	}
	if (now_ns >= l->next_ping_ns) {
		l->ping_pending = true;
		l->next_ping_ns = now_ns + l->cfg.ping_interval_ns;
	}
	if (l->ping_pending) {
		struct proto_ipc_ping m = { .seq = l->ping_seq + 1, .send_ns = now_ns };
		r = link_io_send(l, PROTO_IPC_T_PING, &m, now_ns);
		if (r == -TH_ECORRUPT)
			return r;
		if (r == 0) {
			l->ping_seq++;
			l->st.pings++;
			l->ping_pending = false;
		}
	}
	if (!l->unflushed)
		return 0;
	l->unflushed = false;
	r = th_ring_flush(&l->out);
	if (r == 1)
		l->st.wakeups++;
	if (r < 0) {
		link_lose(l, now_ns, false, "cannot ring thetad's doorbell: %s; reconnecting", th_strerror(r));
		return -TH_ECORRUPT;
	}
	return 0;
}

void link_request_resync(struct link *l)
{
	l->resync_pending = true;
	l->resync_reason = PROTO_IPC_RESYNC_CLIENT_ASKED;
	l->synced = false;
}

int link_scene_state(struct link *l, uint64_t next_pos, const uint8_t hash[PROTO_IPC_SCENE_HASH_LEN],
		     uint32_t entities, uint64_t now_ns)
{
	if (l->state != LINK_ACTIVE)
		return -ENOTCONN;
	if (l->sstate_pending)
		l->st.drops++;
	memcpy(l->sstate_hash, hash, sizeof l->sstate_hash);
	l->sstate = (struct proto_ipc_scene_state){ .next_pos = next_pos, .world_hash = l->sstate_hash,
						    .world_hash_len = PROTO_IPC_SCENE_HASH_LEN, .entities = entities };
	l->sstate_pending = true;
	link_io_pump(l, now_ns);
	return 0;
}

int link_ping(struct link *l, uint64_t now_ns)
{
	if (l->state != LINK_ACTIVE)
		return -ENOTCONN;
	l->ping_pending = true;
	int r = link_io_pump(l, now_ns);
	if (r < 0)
		return -ENOTCONN;
	return l->ping_pending ? -EAGAIN : 0;
}

/* ---- receiving ----------------------------------------------------------- */

/* Handles one validated record; -EPROTO/-EBADMSG when it breaks the
 * protocol (l->error says how). */
static int handle(struct link *l, struct sim_world *w, uint16_t type, const uint8_t *p, uint32_t len,
		  uint64_t now_ns)
{
	if (proto_ipc_check_chan(type, PROTO_IPC_CHAN_D2C) < 0) {
		const struct proto_ipc_desc *d = proto_ipc_desc(type);
		snprintf(l->error, sizeof l->error, "%s record (type 0x%04x) may not travel daemon->client",
			 d ? d->name : "unknown", type);
		return -EPROTO;
	}
	union proto_ipc_any m;
	const char *why = NULL;
	int r = proto_ipc_decode(type, p, len, &m, &why);
	if (r < 0) {
		snprintf(l->error, sizeof l->error, "malformed %s record: %s", proto_ipc_desc(type)->name,
			 why ? why : "invalid");
		return r;
	}
	switch (type) {
	case PROTO_IPC_T_PING: {
		struct proto_ipc_pong pong = { .seq = m.ping.seq, .send_ns = m.ping.send_ns, .reply_ns = now_ns };
		r = link_io_send(l, PROTO_IPC_T_PONG, &pong, now_ns);
		return r == -TH_ECORRUPT ? r : 0; /* a full ring skips one answer */
	}
	case PROTO_IPC_T_PONG:
		/* Our own send time comes back: trust it only when it could be ours. */
		if (m.pong.seq >= 1 && m.pong.seq <= l->ping_seq && m.pong.send_ns <= now_ns) {
			l->st.pongs++;
			l->st.last_rtt_ns = now_ns - m.pong.send_ns;
		}
		return 0;
	case PROTO_IPC_T_CMD_ACK: {
		struct link_cmd *c = cmd_find(l, m.cmd_ack.client_seq);
		if (!c) {
			l->st.stray_replies++;
			return 0;
		}
		cmd_complete(l, c);
		l->st.acks++;
		l->st.last_ack_lamport = m.cmd_ack.lamport;
		l->st.last_ack_index = m.cmd_ack.log_index;
		if (l->cfg.cb.on_answer)
			l->cfg.cb.on_answer(l->cfg.user_data, &m.cmd_ack, NULL);
		return 0;
	}
	case PROTO_IPC_T_CMD_REJECT: {
		struct link_cmd *c = cmd_find(l, m.cmd_reject.client_seq);
		if (!c) {
			l->st.stray_replies++;
			return 0;
		}
		cmd_complete(l, c);
		l->st.rejects++;
		l->st.last_reject_reason = m.cmd_reject.reason;
		memcpy(l->st.last_reject_detail, m.cmd_reject.detail, sizeof l->st.last_reject_detail);
		if (l->cfg.cb.on_answer)
			l->cfg.cb.on_answer(l->cfg.user_data, NULL, &m.cmd_reject);
		return 0;
	}
	case PROTO_IPC_T_EVENT:
		/* Log entries arrive in position order, each once: the position
		 * is what a resync resumes from; applying entries to the world
		 * is the owner's (replication). */
		l->st.events++;
		if (m.event.kind == PROTO_IPC_EVENT_LOG_ENTRY) {
			if (m.event.author_len != PROTO_IPC_KEY_LEN) {
				snprintf(l->error, sizeof l->error, "log entry event at position %" PRIu64 " without its author",
					 m.event.pos);
				return -EPROTO;
			}
			if (!l->synced || m.event.pos < l->next_pos) {
				l->st.events_stale++; /* sent before the daemon's answer, or had */
				return 0;
			}
			if (m.event.pos > l->next_pos) {
				/* A gap: never deliver past it; ask again from what we have. */
				l->st.events_gaps++;
				l->synced = false;
				l->resync_pending = true;
				l->resync_reason = PROTO_IPC_RESYNC_CLIENT_ASKED;
				return 0;
			}
			l->next_pos = m.event.pos + 1;
			l->st.log_events++;
		}
		if (l->cfg.cb.on_event)
			l->cfg.cb.on_event(l->cfg.user_data, w, &m.event);
		return 0;
	case PROTO_IPC_T_SCENE_CHUNK:
		if (!l->synced || m.scene_chunk.session != l->session || m.scene_chunk.next_pos != l->next_pos) {
			l->st.scene_stale++; /* of a snapshot answered before our last request */
			return 0;
		}
		l->st.scene_chunks++;
		if (l->cfg.cb.on_scene_chunk)
			l->cfg.cb.on_scene_chunk(l->cfg.user_data, w, &m.scene_chunk);
		return 0;
	case PROTO_IPC_T_POSE_UPDATE:
		l->st.remote_poses++;
		if (l->cfg.cb.on_pose)
			l->cfg.cb.on_pose(l->cfg.user_data, w, &m.pose_update);
		return 0;
	case PROTO_IPC_T_PRESENCE:
		l->st.remote_presences++;
		if (l->cfg.cb.on_presence)
			l->cfg.cb.on_presence(l->cfg.user_data, w, &m.presence);
		return 0;
	case PROTO_IPC_T_SESSION_INFO:
		return link_info_on_session(l, &m.session_info, now_ns);
	case PROTO_IPC_T_RESYNC_REQUEST:
		l->st.resync_requests++;
		if (m.resync_request.reason == PROTO_IPC_RESYNC_FROM ||
		    m.resync_request.reason == PROTO_IPC_RESYNC_SESSION) {
			/* Where the daemon's stream starts (at or below what we
			 * asked for; another session's starts at 0). */
			l->session = m.resync_request.session;
			l->next_pos = m.resync_request.next_pos;
			l->synced = true;
			if (l->cfg.cb.on_resync)
				l->cfg.cb.on_resync(l->cfg.user_data, w, &m.resync_request);
			return 0;
		}
		/* The daemon discarded messages it could not queue for us: say
		 * again which events we have. */
		l->resync_pending = true;
		l->resync_reason = PROTO_IPC_RESYNC_CLIENT_ASKED;
		return 0;
	default:
		snprintf(l->error, sizeof l->error, "unexpected %s record", proto_ipc_desc(type)->name);
		return -EPROTO;
	}
}

static int link_drain(struct app_transport *t, struct sim_world *w, uint64_t now_ns)
{
	struct link *l = (struct link *)t;
	link_poll(l, now_ns);
	if (l->state != LINK_ACTIVE)
		return 0;
	int handled = 0;
	while (handled < (int)LINK_MAX_DRAIN_RECORDS) {
		struct th_ring_rec rec;
		int r = th_ring_pop(&l->in, &rec, l->rec, sizeof l->rec);
		if (r == 0)
			break;
		if (r < 0) {
			link_lose(l, now_ns, true, "thetad broke the daemon->client ring (%s); reconnecting",
				  th_strerror(r));
			return -EPROTO;
		}
		l->st.rx_records++;
		l->st.rx_bytes += rec.len;
		r = handle(l, w, rec.type, l->rec, rec.len, now_ns);
		if (r == -TH_ECORRUPT)
			return -EPROTO; /* lost while answering */
		if (r < 0) {
			char why[LINK_ERROR_MAX];
			memcpy(why, l->error, sizeof why);
			link_lose(l, now_ns, true, "thetad broke the protocol (%s); reconnecting", why);
			return -EPROTO;
		}
		handled++;
	}
	return handled;
}

static bool finite_n(const float *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

/* Puts the three parts of the tracked pose into their slots; an unsent
 * older value is replaced (coalesced). */
static void set_pose(struct link *l, const struct th_c_tracked_pose *tp, uint64_t now_ns)
{
	const float *pos[LINK_POSE_PARTS] = { tp->head_position, tp->left_position, tp->right_position };
	const float *rot[LINK_POSE_PARTS] = { tp->head_rotation, tp->left_rotation, tp->right_rotation };
	static const uint32_t part[LINK_POSE_PARTS] = { PROTO_IPC_POSE_F_HEAD, PROTO_IPC_POSE_F_LEFT,
							PROTO_IPC_POSE_F_RIGHT };
	for (unsigned k = 0; k < LINK_POSE_PARTS; k++) {
		if (l->pose_pending[k]) {
			l->st.drops++;
			if (l->state == LINK_ACTIVE)
				th_ring_note_drop(&l->out);
		}
		if (!finite_n(pos[k], 3) || !finite_n(rot[k], 4)) {
			l->pose_pending[k] = false; /* the wire refuses NaN: nothing to send */
			continue;
		}
		l->pose[k] = (struct proto_ipc_pose_update){
			.entity = LINK_POSE_ENTITY_SELF,
			.t_ns = now_ns,
			.px = pos[k][0], .py = pos[k][1], .pz = pos[k][2],
			.qx = rot[k][0], .qy = rot[k][1], .qz = rot[k][2], .qw = rot[k][3],
			.flags = part[k] | ((tp->valid >> k) & 1u ? PROTO_IPC_POSE_F_TRACKED : 0),
		};
		l->pose_pending[k] = true;
	}
}

/* The same presence, t_ns aside. */
static bool same_presence(const struct proto_ipc_presence *a, const struct proto_ipc_presence *b)
{
	return a->flags == b->flags && a->tool == b->tool && a->cx == b->cx && a->cy == b->cy && a->cz == b->cz &&
	       a->target == b->target && a->tx == b->tx && a->ty == b->ty && a->tz == b->tz && a->rx == b->rx &&
	       a->ry == b->ry && a->rz == b->rz && a->rw == b->rw;
}

int link_set_presence(struct link *l, const struct proto_ipc_presence *p, uint64_t now_ns)
{
	/* Every frame calls this: the kept value again is one comparison. */
	if (l->pres_set && same_presence(p, &l->pres))
		return 0;
	const float f[] = { p->cx, p->cy, p->cz, p->tx, p->ty, p->tz, p->rx, p->ry, p->rz, p->rw };
	if ((p->flags & ~(uint32_t)(PROTO_IPC_PRES_F_CURSOR | PROTO_IPC_PRES_F_PREVIEW)) || p->tool > 255 ||
	    !finite_n(f, sizeof f / sizeof f[0]))
		return -EINVAL;
	if (l->pres_pending) {
		l->st.drops++;
		if (l->state == LINK_ACTIVE)
			th_ring_note_drop(&l->out);
	}
	l->pres = *p;
	l->pres.entity = LINK_POSE_ENTITY_SELF;
	l->pres.t_ns = now_ns;
	l->pres_set = true;
	/* Back to what the daemon has already (a drag begun and undone
	 * within a frame): nothing to write. */
	l->pres_pending = !(l->pres_written && same_presence(&l->pres, &l->pres_sent));
	link_io_pump(l, now_ns); /* not connected: the next welcome sends it */
	return 0;
}

static int link_publish(struct app_transport *t, const struct app_outgoing *o, uint64_t now_ns)
{
	struct link *l = (struct link *)t;
	if (o->ncommands) {
		/* All of the frame's commands or none, so a retry never duplicates. */
		uint32_t valid = 0;
		size_t bytes = 0;
		for (uint32_t i = 0; i < o->ncommands; i++) {
			const struct app_command *c = &o->commands[i];
			if (c->len <= PROTO_IPC_MAX_PAYLOAD && (c->payload || !c->len)) {
				valid++;
				bytes += c->len;
			}
		}
		if (l->cmd_count + valid > LINK_MAX_PENDING_CMDS || l->cmd_bytes + bytes > LINK_MAX_PENDING_BYTES) {
			link_io_pump(l, now_ns);
			return -EAGAIN;
		}
		uint8_t *copies[LINK_MAX_PENDING_CMDS];
		uint32_t k = 0;
		for (uint32_t i = 0; i < o->ncommands; i++) {
			const struct app_command *c = &o->commands[i];
			if (c->len > PROTO_IPC_MAX_PAYLOAD || (!c->payload && c->len))
				continue;
			copies[k] = NULL;
			if (c->len && !(copies[k] = malloc(c->len))) {
				while (k--)
					free(copies[k]);
				return -EAGAIN;
			}
			if (c->len)
				memcpy(copies[k], c->payload, c->len);
			k++;
		}
		k = 0;
		for (uint32_t i = 0; i < o->ncommands; i++) {
			const struct app_command *c = &o->commands[i];
			if (c->len > PROTO_IPC_MAX_PAYLOAD || (!c->payload && c->len)) {
				l->st.cmds_invalid++; /* can never be sent: counted, not offered again */
				continue;
			}
			*cmd_at(l, l->cmd_count) = (struct link_cmd){
				.seq = l->next_seq++, .scope = c->scope, .type = c->type, .len = c->len,
				.payload = copies[k++],
			};
			l->cmd_count++;
			l->cmd_live++;
			l->cmd_bytes += c->len;
			l->st.cmds_submitted++;
		}
	}
	if (o->has_pose)
		set_pose(l, &o->pose, now_ns);
	link_io_pump(l, now_ns); /* a lost link keeps everything queued */
	return 0;
}

static uint32_t clamp32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static int link_send_stats(struct app_transport *t, const struct app_frame_stats *st, uint64_t now_ns)
{
	struct link *l = (struct link *)t;
	if (l->fstats_pending)
		l->st.drops++;
	l->fstats = (struct proto_ipc_frame_stats){
		.frames = st->frames,
		.frame_p50_ns = clamp32(st->frame_p50_ns),
		.frame_p99_ns = clamp32(st->frame_p99_ns),
		.frame_max_ns = clamp32(st->frame_max_ns),
		.missed = clamp32(st->late_frames),
		.sim_ns = clamp32(st->stage_mean_ns[SIM_STAGE_SIMULATION]),
		.render_ns = clamp32(st->stage_mean_ns[SIM_STAGE_RENDER]),
		.editor_ns = clamp32(st->stage_mean_ns[SIM_STAGE_EDITOR]),
	};
	l->fstats_pending = true;
	link_io_pump(l, now_ns);
	return 0;
}

static void link_ops_destroy(struct app_transport *t)
{
	struct link *l = (struct link *)t;
	link_destroy(&l);
}

const struct app_transport_ops link_ops = {
	.drain = link_drain,
	.publish = link_publish,
	.send_stats = link_send_stats,
	.destroy = link_ops_destroy,
};
