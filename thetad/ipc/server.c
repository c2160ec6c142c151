#include "ipc/server.h"

#include <errno.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h" /* proto/ipc.h: found through -Iproto */
#include "srv/metrics.h"
#include "th_err.h"
#include "th_fdpass.h"
#include "th_loop.h"
#include "th_ring.h"
#include "th_shm.h"
#include "th_time.h"
#include "voice/voice_engine.h"

/* The wire's voice flags and chunk sizes are the voice pipeline's. */
_Static_assert(PROTO_IPC_VOICE_F_ON == VOICE_CL_ON && PROTO_IPC_VOICE_F_MUTED == VOICE_CL_MUTED &&
		       PROTO_IPC_VOICE_F_PTT == VOICE_CL_PTT && PROTO_IPC_VOICE_F_TALK == VOICE_CL_TALK &&
		       PROTO_IPC_VOICE_F_ALL == VOICE_CL_ALL,
	       "VOICE_STATE flags are VOICE_CL_*");
_Static_assert(PROTO_IPC_VINFO_F_ON == VOICE_INFO_ON && PROTO_IPC_VINFO_F_MUTED == VOICE_INFO_MUTED &&
		       PROTO_IPC_VINFO_F_ADMIN_MUTED == VOICE_INFO_ADMIN_MUTED &&
		       PROTO_IPC_VINFO_F_SENDING == VOICE_INFO_SENDING,
	       "SESSION_INFO.voice flags are VOICE_INFO_*");
_Static_assert(PROTO_IPC_VOICE_SAMPLES == VOICE_CHUNK_SAMPLES &&
		       PROTO_IPC_VOICE_PCM_BYTES == VOICE_CHUNK_SAMPLES * 2 &&
		       PROTO_IPC_VOICE_OUT_BYTES == VOICE_CHUNK_SAMPLES * 4,
	       "voice chunks are 10 ms of s16: mono in, stereo out");

/* The client.sock datagram a client may send: HELLO, nothing else. */
#define IPC_MAX_IN_DGRAM PROTO_IPC_MAX_SOCK_MSG
/* A remote client's record: u16 type (LE), then the body. */
#define IPC_REMOTE_HDR 2u
#define IPC_REMOTE_KIND_MAX 16u

enum ipc_state { IPC_HELLO_WAIT, IPC_ACTIVE };

struct ipc_qmsg {
	struct ipc_qmsg *next;
	uint16_t type;
	uint32_t len;
	uint8_t data[];
};

struct ipc_client {
	struct ipc_server *s;
	struct ipc_client *next;
	uint64_t id;
	enum ipc_state state;
	int sock;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[IPC_MAX_PEER_GROUPS];
	unsigned n_groups;
	char user[64];
	char name[PROTO_IPC_MAX_NAME + 1];
	uint64_t connected_ns, connected_wall_ns;
	struct th_shm shm;
	int bell_c2d, bell_d2c; /* c2d: we wait on it; d2c: we ring it */
	struct th_ring_cons in;
	struct th_ring_prod out;
	struct ipc_qmsg *q_head, *q_tail;
	unsigned q_msgs;
	size_t q_bytes;
	bool need_resync;
	uint64_t frames, resyncs, queued_total;
	struct proto_ipc_frame_stats fstats; /* the client's latest report */
	struct proto_ipc_pose_update pose;
	bool has_pose;
	struct proto_ipc_input_info input; /* the client's latest INPUT_INFO */
	bool has_input;
	struct th_ring_cons vin;  /* voice ring, client -> daemon (VOICE_PCM) */
	struct th_ring_prod vout; /* voice ring, daemon -> client (VOICE_OUT) */
	uint32_t voice_flags;     /* the latest VOICE_STATE */
	bool has_voice;
	uint64_t voice_in, voice_out, voice_drops;
	/* Remote clients (ipc_server_attach): records travel through ops
	 * instead of the rings above (which stay unmapped); the counters
	 * stand in for the rings' stats. */
	const struct ipc_remote_ops *ops;
	void *ops_user;
	uint8_t session_id[16];
	bool has_session;
	char kind[IPC_REMOTE_KIND_MAX];
	struct th_ring_stats r_in, r_out;
	uint32_t mode; /* CLIENT_INFO's, PROTO_IPC_MODE_* */
	bool has_mode;
	char why[PROTO_IPC_MAX_DETAIL + 1]; /* what the last refused record broke */
};

struct ipc_server {
	struct th_loop *loop;
	int listen_fd;
	struct ipc_config cfg;
	struct ipc_client *clients;
	unsigned n;
	uint64_t next_id;
	struct ipc_totals t;
	struct ipc_callbacks cb;
	void *cb_user;
	struct ipc_voice_callbacks vcb;
	void *vcb_user;
	uint64_t *m_clients, *m_conns, *m_refused, *m_viol, *m_drops, *m_resyncs;
	uint64_t *m_voice_in, *m_voice_out, *m_voice_drops;
	struct srv_hist *h_frame; /* clients' frame times (NULL without metrics) */
	uint64_t scratch_metric;
	uint8_t rec[PROTO_IPC_MAX_MSG];
	uint8_t enc[PROTO_IPC_MAX_MSG];
	uint8_t rrec[IPC_REMOTE_HDR + PROTO_IPC_MAX_MSG]; /* a record to a remote client */
};

static void bump(uint64_t *m) { (*m)++; }

static void client_free(struct ipc_client *c)
{
	struct ipc_server *s = c->s;
	if (c->sock >= 0) {
		th_loop_del(s->loop, c->sock);
		close(c->sock);
	}
	if (c->bell_c2d >= 0) {
		th_loop_del(s->loop, c->bell_c2d);
		close(c->bell_c2d);
	}
	if (c->bell_d2c >= 0)
		close(c->bell_d2c);
	th_shm_close(&c->shm);
	while (c->q_head) {
		struct ipc_qmsg *m = c->q_head;
		c->q_head = m->next;
		free(m);
	}
	free(c);
}

/* Unlinks and frees; `violation` counts it. A remote client's transport
 * hears it through ops->closed (reason and detail: why, for the page),
 * unless the transport itself went (detach). */
static void client_release(struct ipc_client *c, bool violation, bool notify, uint32_t reason, const char *detail)
{
	struct ipc_server *s = c->s;
	for (struct ipc_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->n--;
	*s->m_clients = s->n;
	if (c->state == IPC_ACTIVE && s->cb.on_disconnect)
		s->cb.on_disconnect(s->cb_user, c->id);
	if (c->state == IPC_ACTIVE && s->vcb.on_disconnect)
		s->vcb.on_disconnect(s->vcb_user, c->id);
	if (violation) {
		s->t.violations++;
		bump(s->m_viol);
	}
	if (c->ops && notify && c->ops->closed)
		c->ops->closed(c->ops_user, reason, detail);
	client_free(c);
}

static void client_drop(struct ipc_client *c, bool violation)
{
	char detail[PROTO_IPC_MAX_DETAIL + 16];
	if (violation)
		snprintf(detail, sizeof detail, "the client broke the IPC protocol: %s",
			 c->why[0] ? c->why : "a malformed record");
	client_release(c, violation, true, 0, violation ? detail : "the daemon closed the connection");
}

/* ---- daemon -> client ---------------------------------------------------- */

/* One record out: onto the client's ring, or through its transport
 * (reliable: the message's class). 0, -EAGAIN (no room now), or an error. */
static int out_put(struct ipc_client *c, uint16_t type, const uint8_t *p, uint32_t len, bool reliable)
{
	if (!c->ops)
		return th_ring_send(&c->out, type, p, len);
	uint8_t *b = c->s->rrec;
	if (len > PROTO_IPC_MAX_MSG)
		return -EMSGSIZE;
	b[0] = (uint8_t)(type & 0xff);
	b[1] = (uint8_t)(type >> 8);
	memcpy(b + IPC_REMOTE_HDR, p, len);
	int r = c->ops->send(c->ops_user, b, IPC_REMOTE_HDR + (size_t)len, reliable);
	if (r == 0) {
		c->r_out.records++;
		c->r_out.bytes += len;
	} else if (r == -EAGAIN) {
		c->r_out.full++;
	}
	return r;
}

/* Publishes what was put on the ring (a remote transport sends at once). */
static int out_flush(struct ipc_client *c)
{
	return c->ops ? 0 : th_ring_flush(&c->out);
}

static void out_note_drop(struct ipc_client *c)
{
	if (c->ops)
		c->r_out.drops++;
	else
		th_ring_note_drop(&c->out);
}

/* Moves queued reliable messages into the ring while there is room. */
static int client_drain_queue(struct ipc_client *c)
{
	if (c->need_resync) {
		struct proto_ipc_resync_request m = { .reason = PROTO_IPC_RESYNC_QUEUE_OVERFLOW };
		int n = proto_ipc_encode_resync_request(&m, c->s->enc, sizeof c->s->enc);
		int r = out_put(c, PROTO_IPC_T_RESYNC_REQUEST, c->s->enc, (uint32_t)n, true);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		c->need_resync = false;
	}
	while (c->q_head) {
		struct ipc_qmsg *m = c->q_head;
		int r = out_put(c, m->type, m->data, m->len, true);
		if (r == -EAGAIN)
			break;
		if (r < 0)
			return r;
		c->q_head = m->next;
		if (!c->q_head)
			c->q_tail = NULL;
		c->q_msgs--;
		c->q_bytes -= m->len;
		free(m);
	}
	return 0;
}

static int client_send(struct ipc_client *c, uint16_t type, const void *msg)
{
	struct ipc_server *s = c->s;
	const struct proto_ipc_desc *d = proto_ipc_desc(type);
	if (!d || !(d->chan & PROTO_IPC_CHAN_D2C))
		return -EINVAL;
	int n = d->encode(msg, s->enc, sizeof s->enc);
	if (n < 0)
		return n;
	int r = client_drain_queue(c);
	if (r < 0)
		return r;
	if (!c->q_head && !c->need_resync) {
		r = out_put(c, type, s->enc, (uint32_t)n, d->cls != PROTO_IPC_EPHEMERAL);
		if (r != -EAGAIN)
			return r;
	}
	if (d->cls == PROTO_IPC_EPHEMERAL) {
		out_note_drop(c);
		s->t.ephemeral_drops++;
		bump(s->m_drops);
		return 0;
	}
	if (c->need_resync)
		return 0; /* the client resyncs from a snapshot: this is in it */
	if (c->q_msgs >= s->cfg.max_queue_msgs || c->q_bytes + (size_t)n > IPC_MAX_QUEUE_BYTES) {
		while (c->q_head) {
			struct ipc_qmsg *m = c->q_head;
			c->q_head = m->next;
			free(m);
		}
		c->q_tail = NULL;
		c->q_msgs = 0;
		c->q_bytes = 0;
		c->need_resync = true;
		c->resyncs++;
		s->t.resyncs++;
		bump(s->m_resyncs);
		return 0;
	}
	struct ipc_qmsg *m = malloc(sizeof *m + (size_t)n);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->type = type;
	m->len = (uint32_t)n;
	memcpy(m->data, s->enc, (size_t)n);
	if (c->q_tail)
		c->q_tail->next = m;
	else
		c->q_head = m;
	c->q_tail = m;
	c->q_msgs++;
	c->q_bytes += (size_t)n;
	c->queued_total++;
	return 0;
}

/* ---- client -> daemon ---------------------------------------------------- */

/* One client->daemon record, from a ring or a remote transport alike:
 * checked (type, channel, fields) and dispatched. A negative return is a
 * violation (c->why says what); the caller drops the client. */
static int handle_record(struct ipc_client *c, uint16_t type, const uint8_t *p, uint32_t len, uint64_t now)
{
	if (proto_ipc_check_chan(type, PROTO_IPC_CHAN_C2D) < 0) {
		snprintf(c->why, sizeof c->why, "record type 0x%04x may not travel from a client", (unsigned)type);
		return -EPROTO;
	}
	union proto_ipc_any m;
	const char *why = NULL;
	int r = proto_ipc_decode(type, p, len, &m, &why);
	if (r < 0) {
		const struct proto_ipc_desc *d = proto_ipc_desc(type);
		snprintf(c->why, sizeof c->why, "%s: %s", d ? d->name : "record", why ? why : "malformed");
		return r;
	}
	switch (type) {
	case PROTO_IPC_T_PING: {
		struct proto_ipc_pong pong = { .seq = m.ping.seq, .send_ns = m.ping.send_ns, .reply_ns = now };
		return client_send(c, PROTO_IPC_T_PONG, &pong);
	}
	case PROTO_IPC_T_CLIENT_INFO:
		memcpy(c->name, m.client_info.name, sizeof c->name);
		c->mode = m.client_info.mode; /* the decoder checked it is <= MODE_MAX */
		c->has_mode = true;
		return 0;
	case PROTO_IPC_T_INPUT_INFO:
		c->input = m.input_info; /* the decoder checked source and both paths */
		c->has_input = true;
		return 0;
	case PROTO_IPC_T_FRAME_STATS:
		/* A report gives quantiles of its window, not each frame: the
		 * window's frames count at its median. */
		if (c->s->h_frame && m.frame_stats.frames > c->frames)
			srv_hist_observe_n(c->s->h_frame, (double)m.frame_stats.frame_p50_ns / 1e9,
					   m.frame_stats.frames - c->frames);
		c->frames = m.frame_stats.frames;
		c->fstats = m.frame_stats;
		return 0;
	case PROTO_IPC_T_CMD_SUBMIT: {
		if (c->s->cb.on_submit) {
			c->s->cb.on_submit(c->s->cb_user, c->id, c->uid, &m.cmd_submit, now);
			return 0;
		}
		/* No sessions module: refuse explicitly rather than drop. */
		struct proto_ipc_cmd_reject rej = { .client_seq = m.cmd_submit.client_seq,
						    .reason = PROTO_IPC_REJECT_NO_SESSION };
		snprintf(rej.detail, sizeof rej.detail, "no session is open");
		return client_send(c, PROTO_IPC_T_CMD_REJECT, &rej);
	}
	case PROTO_IPC_T_POSE_UPDATE:
		c->pose = m.pose_update;
		c->has_pose = true;
		if (c->s->cb.on_pose)
			c->s->cb.on_pose(c->s->cb_user, c->id, c->uid, &m.pose_update, now);
		return 0;
	case PROTO_IPC_T_PRESENCE:
		if (c->s->cb.on_presence)
			c->s->cb.on_presence(c->s->cb_user, c->id, c->uid, &m.presence, now);
		return 0;
	case PROTO_IPC_T_RESYNC_REQUEST:
		if (c->s->cb.on_resync)
			c->s->cb.on_resync(c->s->cb_user, c->id, &m.resync_request, now);
		return 0;
	case PROTO_IPC_T_SCENE_STATE:
		if (c->s->cb.on_scene_state)
			c->s->cb.on_scene_state(c->s->cb_user, c->id, &m.scene_state);
		return 0;
	case PROTO_IPC_T_VOICE_STATE:
		c->voice_flags = m.voice_state.flags; /* the decoder checked the mask */
		c->has_voice = true;
		if (c->s->vcb.on_voice_state && !c->ops) /* a remote client has no voice rings */
			c->s->vcb.on_voice_state(c->s->vcb_user, c->id, c->uid, &m.voice_state, now);
		return 0;
	default: /* PONG */
		return 0;
	}
}

/* A record of the client's voice ring: VOICE_PCM of exactly one chunk,
 * nothing else. */
static int handle_voice_record(struct ipc_client *c, uint16_t type, const uint8_t *p, uint32_t len, uint64_t now)
{
	if (proto_ipc_check_chan(type, PROTO_IPC_CHAN_VC2D) < 0)
		return -EPROTO;
	struct proto_ipc_voice_pcm m;
	if (proto_ipc_decode_voice_pcm(p, len, &m, NULL) < 0 || m.pcm_len != PROTO_IPC_VOICE_PCM_BYTES)
		return -EPROTO;
	c->voice_in++;
	c->s->t.voice_in++;
	bump(c->s->m_voice_in);
	if (c->s->vcb.on_voice_pcm)
		c->s->vcb.on_voice_pcm(c->s->vcb_user, c->id, &m, now);
	return 0;
}

/* Whether client id is still connected: a record's handler may have let
 * it go (a send that found its ring broken, ipc_server_close from a
 * callback), freeing it. */
static bool client_alive(const struct ipc_server *s, uint64_t id)
{
	for (const struct ipc_client *c = s->clients; c; c = c->next)
		if (c->id == id)
			return true;
	return false;
}

static void on_bell(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct ipc_client *c = user_data;
	struct ipc_server *s = c->s;
	const uint64_t id = c->id;
	uint64_t now = th_now_ns();
	/* One doorbell for both client->daemon rings: both announce sleep
	 * on it, so both wake up (the second read finds the eventfd empty). */
	th_ring_finish_sleep(&c->in, true);
	th_ring_finish_sleep(&c->vin, true);
	struct th_ring_rec rec;
	unsigned n = 0;
	int r = 0;
	while (n < IPC_BATCH_RECORDS && (r = th_ring_pop(&c->in, &rec, s->rec, sizeof s->rec)) == 1) {
		n++;
		int h = handle_record(c, rec.type, s->rec, rec.len, now);
		if (!client_alive(s, id))
			return; /* let go by a handler: c is freed */
		if (h < 0) {
			r = -EPROTO;
			break;
		}
	}
	n = 0;
	while (r >= 0 && n < IPC_VOICE_BATCH_RECORDS &&
	       (r = th_ring_pop(&c->vin, &rec, s->rec, sizeof s->rec)) == 1) {
		n++;
		int h = handle_voice_record(c, rec.type, s->rec, rec.len, now);
		if (!client_alive(s, id))
			return;
		if (h < 0) {
			r = -EPROTO;
			break;
		}
	}
	if (r >= 0)
		r = client_drain_queue(c);
	if (r >= 0)
		r = th_ring_flush(&c->out);
	if (r == -EPROTO || r == -TH_ECORRUPT || r == -EBADMSG) {
		client_drop(c, true);
		return;
	}
	/* Announce sleep on both rings; if records arrived meanwhile (or a
	 * batch was cut short), ring our own doorbell so the loop comes back. */
	int again = th_ring_prepare_sleep(&c->in);
	again |= th_ring_prepare_sleep(&c->vin);
	if (again) {
		uint64_t one = 1;
		if (write(c->bell_c2d, &one, sizeof one) < 0 && errno != EAGAIN)
			client_drop(c, false);
	}
}

/* ---- handshake ----------------------------------------------------------- */

static void send_refuse(int sock, uint32_t reason, const char *detail)
{
	struct proto_ipc_refuse r = { .reason = reason };
	snprintf(r.detail, sizeof r.detail, "%s", detail);
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int n = proto_ipc_sock_encode(PROTO_IPC_T_REFUSE, &r, b, sizeof b);
	if (n > 0)
		th_fdpass_send(sock, b, (size_t)n, NULL, 0);
}

/* Each ring of a client's memfd starts on a page of its own. */
#define IPC_RING_PAGE 4096u
#define IPC_PAGE_ROUND(n) (((n) + IPC_RING_PAGE - 1) & ~(size_t)(IPC_RING_PAGE - 1))

/* One memfd: the main ring pair, then the voice ring pair, each ring on
 * its own pages. */
static int client_setup_rings(struct ipc_client *c)
{
	struct ipc_server *s = c->s;
	struct th_ring_geom g = { .capacity = s->cfg.ring_capacity, .max_record = PROTO_IPC_MAX_MSG };
	struct th_ring_geom gv = { .capacity = PROTO_IPC_VOICE_RING_CAPACITY, .max_record = PROTO_IPC_VOICE_MAX_RECORD };
	size_t region = th_ring_region_size(&g), vregion = th_ring_region_size(&gv);
	size_t off2 = IPC_PAGE_ROUND(region);
	size_t offv1 = off2 + IPC_PAGE_ROUND(region);
	size_t offv2 = offv1 + IPC_PAGE_ROUND(vregion);
	char name[48];
	snprintf(name, sizeof name, "thetad-ipc-%llu", (unsigned long long)c->id);
	int r = th_shm_create(name, offv2 + vregion, &c->shm);
	if (r < 0)
		return r;
	uint8_t *b = c->shm.base;
	c->bell_c2d = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->bell_d2c = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->bell_c2d < 0 || c->bell_d2c < 0)
		return -errno;
	if ((r = th_ring_format(b, region, &g)) < 0 || (r = th_ring_format(b + off2, region, &g)) < 0 ||
	    (r = th_ring_cons_init(&c->in, b, region, &g, c->bell_c2d)) < 0 ||
	    (r = th_ring_prod_init(&c->out, b + off2, region, &g, c->bell_d2c)) < 0 ||
	    (r = th_ring_format(b + offv1, vregion, &gv)) < 0 || (r = th_ring_format(b + offv2, vregion, &gv)) < 0 ||
	    (r = th_ring_cons_init(&c->vin, b + offv1, vregion, &gv, c->bell_c2d)) < 0 ||
	    (r = th_ring_prod_init(&c->vout, b + offv2, vregion, &gv, -1)) < 0)
		return r;
	th_ring_cons_set_spin(&c->in, 0); /* the loop never spins */
	th_ring_cons_set_spin(&c->vin, 0);
	th_ring_prepare_sleep(&c->in);    /* the client rings when it has records */
	th_ring_prepare_sleep(&c->vin);   /* on the same doorbell */
	if ((r = th_loop_add(s->loop, c->bell_c2d, EPOLLIN, on_bell, c)) < 0)
		return r;
	struct proto_ipc_welcome w = {
		.client_id = c->id,
		.uid = (uint32_t)c->uid,
		.shm_size = c->shm.size,
		.c2d_offset = 0,
		.c2d_capacity = g.capacity,
		.c2d_max_record = g.max_record,
		.d2c_offset = (uint32_t)off2,
		.d2c_capacity = g.capacity,
		.d2c_max_record = g.max_record,
		.n_fds = PROTO_IPC_WELCOME_FDS,
		.vc2d_offset = (uint32_t)offv1,
		.vc2d_capacity = gv.capacity,
		.vc2d_max_record = gv.max_record,
		.vd2c_offset = (uint32_t)offv2,
		.vd2c_capacity = gv.capacity,
		.vd2c_max_record = gv.max_record,
	};
	uint8_t msg[PROTO_IPC_MAX_SOCK_MSG];
	int n = proto_ipc_sock_encode(PROTO_IPC_T_WELCOME, &w, msg, sizeof msg);
	if (n < 0)
		return n;
	int fds[3] = { c->shm.fd, c->bell_c2d, c->bell_d2c };
	return th_fdpass_send(c->sock, msg, (size_t)n, fds, 3);
}

static void on_sock(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct ipc_client *c = user_data;
	struct ipc_server *s = c->s;
	uint8_t b[IPC_MAX_IN_DGRAM];
	size_t nfds = 0;
	int r = th_fdpass_recv(fd, b, sizeof b, NULL, 0, &nfds);
	if (r == -EAGAIN)
		return;
	if (r == -EBADMSG || r == -EMSGSIZE || (r > 0 && c->state != IPC_HELLO_WAIT)) {
		/* Descriptors or truncation, or anything after the handshake. */
		client_drop(c, true);
		return;
	}
	if (r <= 0) {
		client_drop(c, false); /* hung up (or the socket failed): free everything */
		return;
	}
	struct proto_ipc_sock_hdr h;
	union proto_ipc_any m;
	const char *why = NULL;
	if (proto_ipc_sock_peek(b, (size_t)r, &h) < 0 || h.type != PROTO_IPC_T_HELLO) {
		send_refuse(fd, PROTO_IPC_REFUSE_BAD_HELLO, "expected a hello");
		client_drop(c, true);
		return;
	}
	int ck = proto_ipc_sock_check(&h);
	if (ck < 0) {
		char detail[PROTO_IPC_MAX_DETAIL + 1];
		snprintf(detail, sizeof detail,
			 "client speaks IPC v%u hash %016llx, daemon speaks v%u hash %016llx", h.version,
			 (unsigned long long)h.hash, PROTO_IPC_VERSION, (unsigned long long)proto_ipc_hash());
		send_refuse(fd, ck == -TH_EVERSION ? PROTO_IPC_REFUSE_VERSION : PROTO_IPC_REFUSE_PROTO_HASH,
			    detail);
		s->t.refused++;
		bump(s->m_refused);
		client_drop(c, false);
		return;
	}
	if (proto_ipc_sock_decode(b, (size_t)r, PROTO_IPC_CHAN_SOCK_C2D, &h, &m, &why) < 0) {
		send_refuse(fd, PROTO_IPC_REFUSE_BAD_HELLO, why ? why : "malformed hello");
		client_drop(c, true);
		return;
	}
	memcpy(c->name, m.hello.name, sizeof c->name);
	struct ipc_peer peer = { .uid = c->uid, .gid = c->gid, .groups = c->groups, .n_groups = c->n_groups,
				 .user = c->user, .session_want = m.hello.session[0] ? m.hello.session : NULL };
	if (s->cb.admit) {
		uint32_t reason = PROTO_IPC_REFUSE_INTERNAL;
		char sentence[PROTO_IPC_MAX_DETAIL + 1] = "";
		if (s->cb.admit(s->cb_user, c->id, &peer, &reason, sentence, sizeof sentence) < 0) {
			send_refuse(fd, reason, sentence);
			s->t.refused++;
			bump(s->m_refused);
			client_drop(c, false);
			return;
		}
	}
	if ((r = client_setup_rings(c)) < 0) {
		send_refuse(fd, PROTO_IPC_REFUSE_INTERNAL, th_strerror(r));
		client_drop(c, false);
		return;
	}
	c->state = IPC_ACTIVE;
	if (s->cb.on_connect)
		s->cb.on_connect(s->cb_user, c->id, &peer);
}

static void on_accept(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct ipc_server *s = user_data;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0)
			return;
		s->t.connections++;
		bump(s->m_conns);
		struct ucred cr;
		socklen_t cl = sizeof cr;
		if (s->n >= s->cfg.max_clients || getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
			send_refuse(cfd, PROTO_IPC_REFUSE_TOO_MANY_CLIENTS, "too many clients");
			s->t.refused++;
			bump(s->m_refused);
			close(cfd);
			continue;
		}
		struct ipc_client *c = calloc(1, sizeof *c);
		if (!c) {
			close(cfd);
			continue;
		}
		*c = (struct ipc_client){ .s = s, .id = ++s->next_id, .sock = cfd, .pid = cr.pid, .uid = cr.uid,
					  .gid = cr.gid, .connected_ns = th_now_ns(), .connected_wall_ns = th_wall_ns(),
					  .bell_c2d = -1, .bell_d2c = -1, .shm = { .fd = -1 } };
		socklen_t gl = sizeof c->groups;
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &gl) == 0)
			c->n_groups = (unsigned)(gl / sizeof(gid_t));
		/* ERANGE (more groups than we keep): the first ones are not
		 * reported, so the client counts as in none of them. */
		struct passwd pw, *pwp = NULL;
		char pwbuf[1024];
		if (getpwuid_r(cr.uid, &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp)
			snprintf(c->user, sizeof c->user, "%s", pw.pw_name);
		else
			snprintf(c->user, sizeof c->user, "%u", (unsigned)cr.uid);
		if (th_loop_add(s->loop, cfd, EPOLLIN | EPOLLRDHUP, on_sock, c) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = s->clients;
		s->clients = c;
		s->n++;
		*s->m_clients = s->n;
	}
}

/* ---- server -------------------------------------------------------------- */

int ipc_server_create(struct th_loop *loop, int listen_fd, const struct ipc_config *cfg,
		      struct srv_metrics *metrics, struct ipc_server **out)
{
	struct ipc_server *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->listen_fd = listen_fd;
	s->cfg = cfg ? *cfg : (struct ipc_config){ 0 };
	if (!s->cfg.max_clients)
		s->cfg.max_clients = IPC_MAX_CLIENTS_DEFAULT;
	if (!s->cfg.ring_capacity)
		s->cfg.ring_capacity = IPC_RING_CAPACITY_DEFAULT;
	if (!s->cfg.max_queue_msgs)
		s->cfg.max_queue_msgs = IPC_MAX_QUEUE_MSGS_DEFAULT;
	struct th_ring_geom g = { .capacity = s->cfg.ring_capacity, .max_record = PROTO_IPC_MAX_MSG };
	if (th_ring_geom_check(&g) < 0) {
		free(s);
		return -EINVAL;
	}
	uint64_t *sc = &s->scratch_metric;
	s->m_clients = metrics ? srv_gauge(metrics, "ipc_clients", "connected theta-clients") : sc;
	s->h_frame = metrics ? srv_histogram(metrics, "client_frame_seconds",
					     "theta-clients' frame times (each report's frames at its median)",
					     srv_hist_fast_s, SRV_HIST_FAST_N)
			     : NULL;
	s->m_conns = metrics ? srv_counter(metrics, "ipc_connections", "client.sock connections accepted") : sc;
	s->m_refused = metrics ? srv_counter(metrics, "ipc_refused", "clients refused at hello (version, hash, limit)") : sc;
	s->m_viol = metrics ? srv_counter(metrics, "ipc_protocol_violations", "clients dropped for breaking the IPC protocol") : sc;
	s->m_drops = metrics ? srv_counter(metrics, "ipc_ephemeral_drops", "ephemeral messages dropped on a full ring") : sc;
	s->m_resyncs = metrics ? srv_counter(metrics, "ipc_resyncs", "clients told to resync after queue overflow") : sc;
	s->m_voice_in = metrics ? srv_counter(metrics, "ipc_voice_in", "microphone chunks (VOICE_PCM) taken from clients") : sc;
	s->m_voice_out = metrics ? srv_counter(metrics, "ipc_voice_out", "speaker chunks (VOICE_OUT) put on clients' voice rings") : sc;
	s->m_voice_drops = metrics ? srv_counter(metrics, "ipc_voice_drops", "speaker chunks dropped on a full voice ring") : sc;
	int r = th_loop_add(loop, listen_fd, EPOLLIN, on_accept, s);
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void ipc_server_destroy(struct ipc_server **p)
{
	if (!p || !*p)
		return;
	struct ipc_server *s = *p;
	while (s->clients)
		client_drop(s->clients, false);
	th_loop_del(s->loop, s->listen_fd);
	close(s->listen_fd);
	free(s);
	*p = NULL;
}

void ipc_server_tick(struct ipc_server *s, uint64_t now_ns)
{
	struct ipc_client *c = s->clients;
	while (c) {
		struct ipc_client *next = c->next;
		if (c->state == IPC_HELLO_WAIT && now_ns - c->connected_ns > IPC_HELLO_TIMEOUT_NS) {
			client_drop(c, false);
		} else if (c->state == IPC_ACTIVE) {
			int r = client_drain_queue(c);
			if (r >= 0)
				r = out_flush(c);
			if (r == -TH_ECORRUPT)
				client_drop(c, true);
			else if (r < 0 && c->ops) /* the transport failed: as ipc_server_remote_writable */
				client_drop(c, false);
		}
		c = next;
	}
}

unsigned ipc_server_nclients(const struct ipc_server *s)
{
	return s->n;
}

/* The connected (welcomed) client with this id, or NULL. */
static struct ipc_client *find_active(const struct ipc_server *s, uint64_t client_id)
{
	for (struct ipc_client *c = s->clients; c; c = c->next)
		if (c->id == client_id && c->state == IPC_ACTIVE)
			return c;
	return NULL;
}

static int server_send(struct ipc_server *s, uint64_t client_id, uint16_t type, const void *msg, bool publish)
{
	struct ipc_client *c = find_active(s, client_id);
	if (!c)
		return -ENOENT;
	int r = client_send(c, type, msg);
	if (r >= 0 && publish)
		r = out_flush(c);
	if (r == -TH_ECORRUPT) {
		client_drop(c, true);
		return 0;
	}
	return r < 0 ? r : 0;
}

int ipc_server_send(struct ipc_server *s, uint64_t client_id, uint16_t type, const void *msg)
{
	return server_send(s, client_id, type, msg, true);
}

int ipc_server_send_held(struct ipc_server *s, uint64_t client_id, uint16_t type, const void *msg)
{
	return server_send(s, client_id, type, msg, false);
}

void ipc_server_flush(struct ipc_server *s)
{
	struct ipc_client *c = s->clients;
	while (c) {
		struct ipc_client *next = c->next;
		if (c->state == IPC_ACTIVE && out_flush(c) == -TH_ECORRUPT)
			client_drop(c, true);
		c = next;
	}
}

uint32_t ipc_server_room(struct ipc_server *s, uint64_t client_id)
{
	struct ipc_client *c = find_active(s, client_id);
	if (!c || c->q_head || c->need_resync)
		return 0;
	if (!c->ops)
		return th_ring_prod_space(&c->out);
	uint32_t room = c->ops->room ? c->ops->room(c->ops_user) : IPC_REMOTE_HDR + PROTO_IPC_MAX_MSG;
	if (room <= IPC_REMOTE_HDR)
		return 0;
	room -= IPC_REMOTE_HDR;
	return room < PROTO_IPC_MAX_MSG ? room : PROTO_IPC_MAX_MSG;
}

int ipc_server_close(struct ipc_server *s, uint64_t client_id, uint32_t reason, const char *detail)
{
	for (struct ipc_client *c = s->clients; c; c = c->next) {
		if (c->id != client_id)
			continue;
		if (c->ops) { /* the transport closes with the reason */
			client_release(c, false, true, reason, detail);
			return 0;
		}
		th_ring_flush(&c->out); /* what was sent before goes first */
		send_refuse(c->sock, reason, detail);
		client_drop(c, false);
		return 0;
	}
	return -ENOENT;
}

void ipc_server_set_callbacks(struct ipc_server *s, const struct ipc_callbacks *cb, void *user)
{
	if (cb)
		s->cb = *cb;
	else
		memset(&s->cb, 0, sizeof s->cb);
	s->cb_user = user;
}

void ipc_server_set_voice(struct ipc_server *s, const struct ipc_voice_callbacks *cb, void *user)
{
	if (cb)
		s->vcb = *cb;
	else
		memset(&s->vcb, 0, sizeof s->vcb);
	s->vcb_user = user;
}

int ipc_server_send_voice(struct ipc_server *s, uint64_t client_id, const struct proto_ipc_voice_out *m)
{
	struct ipc_client *c = find_active(s, client_id);
	if (!c)
		return -ENOENT;
	if (c->ops)
		return -ENOTSUP; /* a remote client has no voice rings */
	if (m->pcm_len != PROTO_IPC_VOICE_OUT_BYTES)
		return -EINVAL;
	int n = proto_ipc_encode_voice_out(m, s->enc, sizeof s->enc);
	if (n < 0)
		return n;
	int r = th_ring_send(&c->vout, PROTO_IPC_T_VOICE_OUT, s->enc, (uint32_t)n);
	if (r == -EAGAIN) {
		th_ring_note_drop(&c->vout);
		c->voice_drops++;
		s->t.voice_drops++;
		bump(s->m_voice_drops);
		return -ENOBUFS;
	}
	if (r == -TH_ECORRUPT) {
		client_drop(c, true); /* the client broke its voice ring's tail */
		return -ENOENT;
	}
	if (r < 0)
		return r;
	th_ring_flush(&c->vout); /* no doorbell: only publishes */
	c->voice_out++;
	s->t.voice_out++;
	bump(s->m_voice_out);
	return 0;
}

int ipc_server_voice_state(const struct ipc_server *s, uint64_t client_id, uint32_t *flags)
{
	const struct ipc_client *c = find_active(s, client_id);
	if (!c)
		return -ENOENT;
	if (!c->has_voice)
		return -ENODATA;
	*flags = c->voice_flags;
	return 0;
}

void ipc_server_totals(const struct ipc_server *s, struct ipc_totals *out)
{
	*out = s->t;
}

/* ring: a memfd ring's (doorbell wake-ups apply); else a remote client's
 * transport counters. */
static struct json_object *ring_json(const struct th_ring_stats *st, bool ring)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "records", json_object_new_int64((int64_t)st->records));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st->bytes));
	if (ring)
		json_object_object_add(o, "wakeups", json_object_new_int64((int64_t)st->wakeups));
	json_object_object_add(o, "drops", json_object_new_int64((int64_t)st->drops));
	json_object_object_add(o, "violations", json_object_new_int64((int64_t)st->violations));
	return o;
}

static const char *mode_name(uint32_t mode)
{
	static const char *const names[PROTO_IPC_MODE_MAX + 1] = {
		[PROTO_IPC_MODE_HEADLESS] = "headless",
		[PROTO_IPC_MODE_DESKTOP] = "desktop",
		[PROTO_IPC_MODE_XR] = "xr",
		[PROTO_IPC_MODE_BROWSER] = "browser",
	};
	return mode <= PROTO_IPC_MODE_MAX && names[mode] ? names[mode] : "unknown";
}

struct json_object *ipc_server_clients_json(const struct ipc_server *s, uid_t only_uid, uint64_t now_ns)
{
	struct json_object *a = json_object_new_array();
	for (const struct ipc_client *c = s->clients; c; c = c->next) {
		if (only_uid != (uid_t)-1 && c->uid != only_uid)
			continue;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64((int64_t)c->id));
		json_object_object_add(o, "kind", json_object_new_string(c->ops ? c->kind : "local"));
		if (!c->ops)
			json_object_object_add(o, "pid", json_object_new_int((int)c->pid));
		if (c->has_mode)
			json_object_object_add(o, "mode", json_object_new_string(mode_name(c->mode)));
		json_object_object_add(o, "uid", json_object_new_int64((int64_t)c->uid));
		json_object_object_add(o, "user", json_object_new_string(c->user));
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "state", json_object_new_string(c->state == IPC_ACTIVE ? "active" : "hello"));
		json_object_object_add(o, "connected_s",
				       json_object_new_double((double)(now_ns - c->connected_ns) / 1e9));
		json_object_object_add(o, "connected_at_unix",
				       json_object_new_int64((int64_t)(c->connected_wall_ns / TH_NS_PER_S)));
		json_object_object_add(o, "frames", json_object_new_int64((int64_t)c->frames));
		struct json_object *ft = json_object_new_object();
		json_object_object_add(ft, "p50_us", json_object_new_double(c->fstats.frame_p50_ns / 1e3));
		json_object_object_add(ft, "p99_us", json_object_new_double(c->fstats.frame_p99_ns / 1e3));
		json_object_object_add(ft, "max_us", json_object_new_double(c->fstats.frame_max_ns / 1e3));
		json_object_object_add(ft, "late_frames", json_object_new_int64(c->fstats.missed));
		json_object_object_add(ft, "simulation_us", json_object_new_double(c->fstats.sim_ns / 1e3));
		json_object_object_add(ft, "render_us", json_object_new_double(c->fstats.render_ns / 1e3));
		json_object_object_add(ft, "editor_us", json_object_new_double(c->fstats.editor_ns / 1e3));
		json_object_object_add(o, "frame_time", ft);
		if (c->has_input) {
			struct json_object *in = json_object_new_object();
			json_object_object_add(in, "source",
					       json_object_new_string(proto_ipc_input_source_str(c->input.source)));
			json_object_object_add(in, "left", json_object_new_string(c->input.left));
			json_object_object_add(in, "right", json_object_new_string(c->input.right));
			json_object_object_add(o, "input", in);
		} else {
			json_object_object_add(o, "input", NULL); /* no INPUT_INFO yet */
		}
		json_object_object_add(o, "to_daemon", ring_json(c->ops ? &c->r_in : &c->in.stats, !c->ops));
		json_object_object_add(o, "to_client", ring_json(c->ops ? &c->r_out : &c->out.stats, !c->ops));
		if (c->has_voice) {
			struct json_object *v = json_object_new_object();
			json_object_object_add(v, "flags", json_object_new_int64(c->voice_flags));
			json_object_object_add(v, "chunks_in", json_object_new_int64((int64_t)c->voice_in));
			json_object_object_add(v, "chunks_out", json_object_new_int64((int64_t)c->voice_out));
			json_object_object_add(v, "drops", json_object_new_int64((int64_t)c->voice_drops));
			json_object_object_add(o, "voice", v);
		} else {
			json_object_object_add(o, "voice", NULL); /* no VOICE_STATE yet */
		}
		json_object_object_add(o, "queued", json_object_new_int((int)c->q_msgs));
		json_object_object_add(o, "resyncs", json_object_new_int64((int64_t)c->resyncs));
		if (s->cb.describe && c->state == IPC_ACTIVE)
			s->cb.describe(s->cb_user, c->id, o);
		json_object_array_add(a, o);
	}
	return a;
}

/* ---- remote clients -------------------------------------------------------- */

int ipc_server_attach(struct ipc_server *s, const struct ipc_peer *peer, const struct ipc_remote_ops *ops,
		      void *user, uint64_t *client_id, uint32_t *reason, char *why, size_t why_len)
{
	if (!ops || !ops->send || !peer)
		return -EINVAL;
	if (s->n >= s->cfg.max_clients) {
		s->t.refused++;
		bump(s->m_refused);
		return -EMFILE;
	}
	struct ipc_client *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	*c = (struct ipc_client){ .s = s, .id = ++s->next_id, .sock = -1, .uid = peer->uid, .gid = peer->gid,
				  .connected_ns = th_now_ns(), .connected_wall_ns = th_wall_ns(), .bell_c2d = -1,
				  .bell_d2c = -1, .shm = { .fd = -1 } };
	c->n_groups = peer->n_groups < IPC_MAX_PEER_GROUPS ? peer->n_groups : IPC_MAX_PEER_GROUPS;
	if (c->n_groups)
		memcpy(c->groups, peer->groups, c->n_groups * sizeof(gid_t));
	if (peer->user)
		snprintf(c->user, sizeof c->user, "%s", peer->user);
	else
		snprintf(c->user, sizeof c->user, "%u", (unsigned)peer->uid);
	snprintf(c->kind, sizeof c->kind, "%s", peer->kind && *peer->kind ? peer->kind : "remote");
	if (peer->session_id) {
		memcpy(c->session_id, peer->session_id, sizeof c->session_id);
		c->has_session = true;
	}
	/* What the owner hears: the copies, valid while the client lives. */
	struct ipc_peer p = { .uid = c->uid, .gid = c->gid, .groups = c->groups, .n_groups = c->n_groups,
			      .user = c->user, .session_id = c->has_session ? c->session_id : NULL, .kind = c->kind };
	c->next = s->clients;
	s->clients = c;
	s->n++;
	*s->m_clients = s->n;
	if (s->cb.admit) {
		uint32_t rs = PROTO_IPC_REFUSE_INTERNAL;
		char sentence[PROTO_IPC_MAX_DETAIL + 1] = "";
		if (s->cb.admit(s->cb_user, c->id, &p, &rs, sentence, sizeof sentence) < 0) {
			if (reason)
				*reason = rs;
			if (why && why_len)
				snprintf(why, why_len, "%s", sentence[0] ? sentence : "the daemon refused the client");
			s->t.refused++;
			bump(s->m_refused);
			client_release(c, false, false, 0, NULL); /* still HELLO_WAIT: no on_disconnect */
			return -EPERM;
		}
	}
	c->ops = ops;
	c->ops_user = user;
	c->state = IPC_ACTIVE;
	*client_id = c->id;
	if (s->cb.on_connect)
		s->cb.on_connect(s->cb_user, c->id, &p);
	return 0;
}

/* The connected remote client with this id, or NULL. */
static struct ipc_client *find_remote(const struct ipc_server *s, uint64_t client_id)
{
	struct ipc_client *c = find_active(s, client_id);
	return c && c->ops ? c : NULL;
}

int ipc_server_remote_input(struct ipc_server *s, uint64_t client_id, const uint8_t *rec, size_t len,
			    uint64_t now_ns)
{
	struct ipc_client *c = find_remote(s, client_id);
	if (!c)
		return -ENOENT;
	int r;
	if (len < IPC_REMOTE_HDR || len - IPC_REMOTE_HDR > PROTO_IPC_MAX_MSG) {
		snprintf(c->why, sizeof c->why, "a %zu-byte record (a record is a 2-byte type and at most %u bytes of body)", len,
			 (unsigned)PROTO_IPC_MAX_MSG);
		r = -EPROTO;
	} else {
		uint16_t type = (uint16_t)(rec[0] | rec[1] << 8);
		c->r_in.records++;
		c->r_in.bytes += len - IPC_REMOTE_HDR;
		r = handle_record(c, type, rec + IPC_REMOTE_HDR, (uint32_t)(len - IPC_REMOTE_HDR), now_ns);
		/* The owner's callbacks may have closed it (ipc_server_close
		 * from within on_submit and the like): then it is gone. */
		if (!find_remote(s, client_id))
			return r < 0 ? -EPROTO : 0;
		if (r >= 0)
			r = client_drain_queue(c);
	}
	if (r < 0) {
		/* c->why is written by a violation only; an error without it is
		 * the transport failing hard while the answers went out, which
		 * lets the client go as a writable retry does, uncounted. */
		client_drop(c, c->why[0] != 0);
		return -EPROTO;
	}
	return 0;
}

void ipc_server_remote_writable(struct ipc_server *s, uint64_t client_id)
{
	struct ipc_client *c = find_remote(s, client_id);
	if (c && client_drain_queue(c) < 0)
		client_drop(c, false);
}

void ipc_server_detach(struct ipc_server *s, uint64_t client_id)
{
	struct ipc_client *c = find_remote(s, client_id);
	if (c)
		client_release(c, false, false, 0, NULL);
}
