/* A scripted IPC client for the multi-daemon tests and the edit benchmark
 * (header-only): connects to a daemon's client.sock, speaks the hello /
 * welcome handshake and the ring protocol directly (as
 * tests/thetad/ipc/test_server.c does), submits component.write commands,
 * sends poses, and collects acks, rejects, events and remote poses. */
#pragma once
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"     /* proto/ipc.h */
#include "session.h" /* proto/session.h */
#include "th_cmd.h"
#include "th_fdpass.h"
#include "th_logrec.h"
#include "th_payload.h"
#include "th_ring.h"
#include "th_schema.h"
#include "th_shm.h"
#include "th_time.h"

struct nc_client {
	int sock;
	struct th_shm shm;
	int bell_c2d, bell_d2c;
	struct th_ring_prod out;
	struct th_ring_cons in;
	uint64_t id, next_seq;
	uint64_t acks, rejects, poses, presences, overflows;
	uint64_t events;       /* LOG_ENTRY events (the log's entries as they arrive) */
	uint64_t other_events; /* every other kind: REJECTED, REFUSED (on_other_event hears them) */
	uint32_t last_reject_reason;
	char last_reject[PROTO_IPC_MAX_DETAIL + 1];
	uint64_t last_event_lamport;
	uint64_t next_pos; /* 1 + the position of the last LOG_ENTRY event (0: none yet) */
	/* After nc_resync, LOG_ENTRY events are set aside until the daemon's
	 * answer (RESYNC FROM) says where its stream starts: events queued
	 * before the answer belong to the old stream. */
	unsigned resyncing; /* requests not answered yet */
	bool pos_known;
	uint64_t pos_jumps; /* events whose position was not next_pos (a broken stream) */
	uint64_t set_aside; /* events dropped while resyncing */
	struct th_logrec_entry last_event; /* payload not kept */
	uint8_t rec[PROTO_IPC_MAX_MSG];
	/* Optional: called for every EVENT with the decoded entry. */
	void (*on_event)(void *ud, const struct th_logrec_entry *e);
	void (*on_pose)(void *ud, const struct proto_ipc_pose_update *p);
	/* Optional: called for every PRESENCE (cursor, preview, speaking). */
	void (*on_presence)(void *ud, const struct proto_ipc_presence *p);
	/* Optional: called for every CMD_ACK. */
	void (*on_ack)(void *ud, const struct proto_ipc_cmd_ack *a);
	/* Optional: called for every EVENT of a kind other than LOG_ENTRY. */
	void (*on_other_event)(void *ud, uint32_t kind, const uint8_t *payload, uint32_t len);
	void *ud;
};

static inline void nc_close(struct nc_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	th_shm_close(&c->shm);
	if (c->bell_c2d >= 0)
		close(c->bell_c2d);
	if (c->bell_d2c >= 0)
		close(c->bell_d2c);
	c->bell_c2d = c->bell_d2c = -1;
}

/* 0, or a negative errno (daemon absent, refused, timeout). */
static inline int nc_connect(struct nc_client *c, const char *runtime_dir, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->sock = c->bell_c2d = c->bell_d2c = -1;
	c->next_seq = 1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/client.sock", runtime_dir);
	c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sock < 0 || connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		nc_close(c);
		return e;
	}
	struct proto_ipc_hello h = { .pid = (uint32_t)getpid() };
	snprintf(h.name, sizeof(h.name), "net-test");
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int n = proto_ipc_sock_encode(PROTO_IPC_T_HELLO, &h, b, sizeof(b));
	if (n < 0 || th_fdpass_send(c->sock, b, (size_t)n, NULL, 0) < 0) {
		nc_close(c);
		return -EIO;
	}
	struct pollfd p = { .fd = c->sock, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0) {
		nc_close(c);
		return -ETIMEDOUT;
	}
	int fds[3];
	size_t nfds = 0;
	n = th_fdpass_recv(c->sock, b, sizeof(b), fds, 3, &nfds);
	struct proto_ipc_sock_hdr hdr;
	union proto_ipc_any m;
	if (n <= 0 || proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &hdr, &m, NULL) < 0 ||
	    hdr.type != PROTO_IPC_T_WELCOME || nfds != 3) {
		th_fd_close_all(fds, nfds);
		nc_close(c);
		return -EPROTO;
	}
	const struct proto_ipc_welcome *w = &m.welcome;
	c->bell_c2d = fds[1];
	c->bell_d2c = fds[2];
	c->id = w->client_id;
	struct th_ring_geom g1, g2;
	if (th_shm_map_received(fds[0], w->shm_size, w->shm_size, &c->shm) < 0) {
		close(fds[0]);
		nc_close(c);
		return -EPROTO;
	}
	uint8_t *base = c->shm.base;
	if (th_ring_read_geom(base + w->c2d_offset, c->shm.size - w->c2d_offset, &g1) < 0 ||
	    th_ring_read_geom(base + w->d2c_offset, c->shm.size - w->d2c_offset, &g2) < 0 ||
	    th_ring_prod_init(&c->out, base + w->c2d_offset, th_ring_region_size(&g1), &g1, c->bell_c2d) < 0 ||
	    th_ring_cons_init(&c->in, base + w->d2c_offset, th_ring_region_size(&g2), &g2, c->bell_d2c) < 0) {
		nc_close(c);
		return -EPROTO;
	}
	return 0;
}

/* Asks for the session's events from position next_pos (RESYNC_REQUEST,
 * CLIENT_ASKED): a client that reconnects says what it has. 0 or -errno. */
static inline int nc_resync(struct nc_client *c, uint64_t next_pos)
{
	struct proto_ipc_resync_request rq = { .reason = PROTO_IPC_RESYNC_CLIENT_ASKED, .next_pos = next_pos };
	int n = proto_ipc_encode_resync_request(&rq, c->rec, sizeof(c->rec));
	if (n < 0)
		return n;
	int r = th_ring_push(&c->out, PROTO_IPC_T_RESYNC_REQUEST, c->rec, (uint32_t)n);
	if (r >= 0)
		c->resyncing++;
	return r;
}

/* Submits a command with exactly these payload bytes (a test of the
 * daemon's checks may send malformed ones); client_seq or -errno. */
static inline int64_t nc_submit_raw(struct nc_client *c, uint16_t type, uint64_t scope, const void *payload,
				    uint32_t len)
{
	struct proto_ipc_cmd_submit s = { .client_seq = c->next_seq, .cmd_type = type, .scope = scope,
					  .payload_len = len, .payload = payload };
	int n = proto_ipc_encode_cmd_submit(&s, c->rec, sizeof(c->rec));
	if (n < 0)
		return n;
	int r = th_ring_push(&c->out, PROTO_IPC_T_CMD_SUBMIT, c->rec, (uint32_t)n);
	if (r < 0)
		return r;
	return (int64_t)c->next_seq++;
}

/* Bytes a test can put into one edit: the value of a MeshRef component
 * (integers only, so any bytes are a valid value). */
#define NC_EDIT_BYTES 16u

/* Submits one component.write of a MeshRef on entity `scope` whose value is
 * the first NC_EDIT_BYTES of payload (zero-padded); returns its client_seq
 * (> 0) or a negative errno (ring full). */
static inline int64_t nc_submit(struct nc_client *c, uint64_t scope, const void *payload, uint32_t len)
{
	uint8_t value[NC_EDIT_BYTES] = { 0 }, pl[64];
	memcpy(value, payload, len < NC_EDIT_BYTES ? len : NC_EDIT_BYTES);
	struct th_pl_component_write w = { .component = th_component_id(TH_COMP_MESH_REF), .value = value,
					   .value_len = NC_EDIT_BYTES };
	int pn = th_cmd_payload_encode(TH_CMD_COMPONENT_WRITE, &w, pl, sizeof(pl));
	if (pn < 0)
		return pn;
	return nc_submit_raw(c, TH_CMD_COMPONENT_WRITE, scope, pl, (uint32_t)pn);
}

/* The NC_EDIT_BYTES an entry made by nc_submit carries, or NULL. */
static inline const uint8_t *nc_edit_bytes(const struct th_logrec_entry *e)
{
	struct th_pl_component_write w;
	if (e->type != TH_CMD_COMPONENT_WRITE ||
	    th_pl_decode_component_write(e->payload, e->payload_len, &w, NULL) < 0 ||
	    w.component != th_component_id(TH_COMP_MESH_REF) || w.value_len != NC_EDIT_BYTES)
		return NULL;
	return w.value;
}

/* Reports the client's mirror of the scene (SCENE_STATE): the world hash
 * of the entries below next_pos it folded. 0 or -errno (ring full). */
static inline int nc_scene_state(struct nc_client *c, uint64_t next_pos, const uint8_t hash[PROTO_IPC_SCENE_HASH_LEN],
				 uint32_t entities)
{
	struct proto_ipc_scene_state st = { .next_pos = next_pos, .world_hash = hash,
					    .world_hash_len = PROTO_IPC_SCENE_HASH_LEN, .entities = entities };
	int n = proto_ipc_encode_scene_state(&st, c->rec, sizeof(c->rec));
	if (n < 0)
		return n;
	return th_ring_push(&c->out, PROTO_IPC_T_SCENE_STATE, c->rec, (uint32_t)n);
}

static inline int nc_pose(struct nc_client *c, const struct proto_ipc_pose_update *p)
{
	int n = proto_ipc_encode_pose_update(p, c->rec, sizeof(c->rec));
	if (n < 0)
		return n;
	return th_ring_push(&c->out, PROTO_IPC_T_POSE_UPDATE, c->rec, (uint32_t)n);
}

static inline int nc_presence(struct nc_client *c, const struct proto_ipc_presence *p)
{
	int n = proto_ipc_encode_presence(p, c->rec, sizeof(c->rec));
	if (n < 0)
		return n;
	return th_ring_push(&c->out, PROTO_IPC_T_PRESENCE, c->rec, (uint32_t)n);
}

/* The REJECTED events a client hears (an entry of its author that the host
 * refused after this daemon had made it durable): counted, the last one
 * decoded. Set c->on_other_event = nc_on_rejected and c->ud to one. */
struct nc_rejections {
	int n;   /* decoded */
	int bad; /* did not decode */
	struct proto_sess_rejected last;
};

static inline void nc_on_rejected(void *ud, uint32_t kind, const uint8_t *payload, uint32_t len)
{
	struct nc_rejections *r = ud;
	if (kind != PROTO_IPC_EVENT_REJECTED)
		return;
	if (proto_sess_rejected_event_decode(payload, len, &r->last) < 0)
		r->bad++;
	else
		r->n++;
}

/* Handles every record waiting (and waits up to timeout_ms for the first).
 * Returns the number handled or a negative errno (daemon gone). */
static inline int nc_poll(struct nc_client *c, int timeout_ms)
{
	int handled = 0;
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	for (;;) {
		struct th_ring_rec rec;
		int r = th_ring_pop(&c->in, &rec, c->rec, sizeof(c->rec));
		if (r < 0)
			return r;
		if (r == 0) {
			if (handled || th_now_ns() >= end)
				return handled;
			uint64_t left = end - th_now_ns();
			th_ring_wait(&c->in, (int64_t)(left < 5 * TH_NS_PER_MS ? left : 5 * TH_NS_PER_MS));
			struct pollfd p = { .fd = c->sock, .events = POLLIN };
			if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
				return -ECONNRESET;
			continue;
		}
		handled++;
		union proto_ipc_any m;
		if (proto_ipc_decode(rec.type, c->rec, rec.len, &m, NULL) < 0)
			return -EPROTO;
		switch (rec.type) {
		case PROTO_IPC_T_CMD_ACK:
			c->acks++;
			if (c->on_ack)
				c->on_ack(c->ud, &m.cmd_ack);
			break;
		case PROTO_IPC_T_CMD_REJECT:
			c->rejects++;
			c->last_reject_reason = m.cmd_reject.reason;
			snprintf(c->last_reject, sizeof(c->last_reject), "%s", m.cmd_reject.detail);
			break;
		case PROTO_IPC_T_EVENT: {
			struct th_logrec_entry e;
			int why;
			if (m.event.kind != PROTO_IPC_EVENT_LOG_ENTRY) {
				c->other_events++;
				if (c->on_other_event)
					c->on_other_event(c->ud, m.event.kind, m.event.payload, m.event.payload_len);
				break;
			}
			c->events++;
			if (c->resyncing) {
				c->set_aside++;
				break;
			}
			if (c->pos_known && m.event.pos != c->next_pos)
				c->pos_jumps++;
			c->pos_known = true;
			c->next_pos = m.event.pos + 1;
			if (th_logrec_decode(m.event.payload, m.event.payload_len, &e, &why) == 0) {
				c->last_event_lamport = e.lamport;
				c->last_event = e;
				c->last_event.payload = NULL;
				if (c->on_event)
					c->on_event(c->ud, &e);
			}
			break;
		}
		case PROTO_IPC_T_RESYNC_REQUEST:
			if (m.resync_request.reason == PROTO_IPC_RESYNC_QUEUE_OVERFLOW) {
				/* Reliable messages were discarded: say again where we are. */
				c->overflows++;
				if ((r = nc_resync(c, c->next_pos)) < 0)
					return r;
			} else if (m.resync_request.reason == PROTO_IPC_RESYNC_FROM && c->resyncing) {
				c->resyncing--; /* the stream starts here (after the last answer) */
				c->next_pos = m.resync_request.next_pos;
				c->pos_known = true;
			} else if (m.resync_request.reason == PROTO_IPC_RESYNC_SESSION) {
				c->resyncing = 0; /* another session's events, from next_pos */
				c->next_pos = m.resync_request.next_pos;
				c->pos_known = true;
			}
			break;
		case PROTO_IPC_T_POSE_UPDATE:
			c->poses++;
			if (c->on_pose)
				c->on_pose(c->ud, &m.pose_update);
			break;
		case PROTO_IPC_T_PRESENCE:
			c->presences++;
			if (c->on_presence)
				c->on_presence(c->ud, &m.presence);
			break;
		default:
			break;
		}
	}
}

/* n edits (component.write on `entity`) from a fresh client of the daemon
 * at runtime_dir, at most `window` unacknowledged at a time (a large window
 * lets the daemon group many into one commit). The number acknowledged
 * (n when all were), or a negative errno. */
static inline int64_t nc_edits(const char *runtime_dir, int n, uint64_t entity, int window, int timeout_ms)
{
	struct nc_client c;
	int r = nc_connect(&c, runtime_dir, 5000);
	if (r < 0)
		return r;
	int sent = 0;
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	while (c.acks + c.rejects < (uint64_t)n && th_now_ns() < end) {
		while (sent < n && sent - (int)c.acks < window) {
			uint8_t payload[16];
			memset(payload, sent & 0xff, sizeof(payload));
			if (nc_submit(&c, entity, payload, sizeof(payload)) <= 0)
				break;
			sent++;
		}
		if ((r = nc_poll(&c, 50)) < 0)
			break;
	}
	int64_t acks = (int64_t)c.acks;
	nc_close(&c);
	return r < 0 ? r : acks;
}
