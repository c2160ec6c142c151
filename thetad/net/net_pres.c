/* Presence between daemons (docs/presence.md "In the daemon"): the `pres`
 * datagram channel (PRES, kind 5) both ways on a session's connection, a
 * pres_relay per hosted session (thetad/pres/pres.h: every user's newest
 * presence, the interest grid, one frame per member per tick) and a
 * pres_link per joined session (this daemon's local users to the host, the
 * host's frames to its local clients), both ticked from the net module's
 * timer; the local users' poses, cursors, previews and speaking flags in,
 * the decoded users out to local clients (POSE_UPDATE per part, PRESENCE),
 * the voice relay's interest check, the presence_* metrics and the
 * `presence` control command. Runs on the daemon's loop. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "net/net_int.h"
#include "pres/pres.h"
#include "sess/module.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_time.h"

#define NET_PRES_SESS_MAX SESS_MAX_SESSIONS /* sessions with presence state */
#define NET_PRES_LOCAL_MAX PROTO_PRES_USERS_MAX /* local users one session keeps */
#define NET_PRES_SEEN_MAX PROTO_PRES_USERS_MAX  /* other users delivered to local clients, per session */
#define NET_PRES_PARTS_F (PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT)
#define NET_PRES_STATE_F (PROTO_PRES_F_CURSOR | PROTO_PRES_F_PREVIEW | PROTO_PRES_F_SPEAKING)

_Static_assert(PROTO_PRES_KEY_LEN == SESS_KEY_LEN, "a presence user is a user's key");
_Static_assert(PROTO_PRES_F_HEAD == PROTO_IPC_POSE_F_HEAD && PROTO_PRES_F_LEFT == PROTO_IPC_POSE_F_LEFT &&
		       PROTO_PRES_F_RIGHT == PROTO_IPC_POSE_F_RIGHT,
	       "pose parts are the IPC POSE_F_* bits");
_Static_assert(PROTO_PRES_F_CURSOR == PROTO_IPC_PRES_F_CURSOR && PROTO_PRES_F_PREVIEW == PROTO_IPC_PRES_F_PREVIEW &&
		       PROTO_PRES_F_SPEAKING == PROTO_IPC_PRES_F_SPEAKING,
	       "presence flags are the IPC PRES_F_* bits");
_Static_assert(PROTO_SESS_PRES_FRAME_MAX == PROTO_PRES_FRAME_MAX, "a PRES datagram carries any frame");

/* One user as this daemon last took it (local) or delivered it (others). */
struct net_pres_user {
	uint8_t key[PROTO_PRES_KEY_LEN];
	struct proto_pres_user u;
	uint64_t speaking_until_ns; /* local: the speaking flag holds until then (0: not speaking) */
	uint64_t used_ns;           /* seen: last delivery (the least recent goes when full) */
};

struct net_pres_sess {
	char id[SESS_ID_LEN + 1];
	struct sess_session *s;    /* compared, and followed while the session is open (gone: freed first) */
	struct pres_relay *relay;  /* hosted */
	struct pres_link *link;    /* joined: NULL until its connection is active */
	unsigned receivers;        /* hosted: members' connections added */
	struct pres_stats last;    /* what the metrics have of relay / link already */
	uint64_t created_ns;
	struct net_pres_user local[NET_PRES_LOCAL_MAX];
	unsigned n_local;
	struct net_pres_user seen[NET_PRES_SEEN_MAX];
	unsigned n_seen;
};

struct net_pres {
	int chan; /* the pres channel's index in nm->chans */
	struct net_chan_def def;
	struct pres_config cfg;
	struct net_pres_sess *sess[NET_PRES_SESS_MAX];
	struct proto_pres_frame frame; /* decoded frames (large: not on the stack) */
	uint8_t out[PROTO_PRES_FRAME_MAX];
	uint64_t *m_ticks, *m_frames_in, *m_bytes_in, *m_frames_out, *m_bytes_out, *m_refused_in, *m_records_out;
	uint64_t *m_poses_out, *m_updates_in, *m_considered, *m_irrelevant, *m_irrelevant_sent, *m_previews_withheld;
	uint64_t *m_voice_culled, *m_voice_passed, *m_forged, *m_malformed, *m_delivered;
	bool test_as_host; /* THETAD_TEST_PRES_AS_HOST=1: a member speaks for its users under its host's key */
};

/* ---- per-session state ------------------------------------------------------------ */

static struct net_pres_sess *psess(struct net_mod *nm, const struct sess_session *s, bool create)
{
	struct net_pres *np = nm->pres;
	struct net_pres_sess **free_slot = NULL;
	struct net_pres_sess *ps = NULL;
	if (!np)
		return NULL;
	for (unsigned i = 0; i < NET_PRES_SESS_MAX && !ps; i++) {
		if (np->sess[i] && !strcmp(np->sess[i]->id, s->id))
			ps = np->sess[i];
		else if (!np->sess[i] && !free_slot)
			free_slot = &np->sess[i];
	}
	if (!ps) {
		if (!create || !free_slot || !(ps = calloc(1, sizeof(*ps))))
			return NULL;
		snprintf(ps->id, sizeof(ps->id), "%s", s->id);
		ps->s = (struct sess_session *)s;
		ps->created_ns = nm->now;
		*free_slot = ps;
	}
	/* Hosted (now): its relay, made with the first need. */
	if (s->role == SESS_ROLE_HOST && !ps->relay && pres_relay_new(&np->cfg, &ps->relay) < 0)
		th_warn("session %s: no presence relay: out of memory", s->id);
	return ps;
}

static void stats_now(const struct net_pres_sess *ps, struct pres_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ps->relay)
		pres_relay_stats(ps->relay, st);
	else if (ps->link)
		pres_link_stats(ps->link, st);
}

/* Adds what ps's relay or link counted since the last call to the metrics. */
static void metrics_sync(struct net_pres *np, struct net_pres_sess *ps)
{
	struct pres_stats st;
	stats_now(ps, &st);
	const struct pres_stats *o = &ps->last;
#define ADD(m, f) (*np->m += st.f >= o->f ? st.f - o->f : st.f)
	ADD(m_ticks, ticks);
	ADD(m_frames_in, frames_in);
	ADD(m_bytes_in, bytes_in);
	ADD(m_frames_out, frames_out);
	ADD(m_bytes_out, bytes_out);
	ADD(m_refused_in, refused_in);
	ADD(m_records_out, records_out);
	ADD(m_poses_out, poses_out);
	ADD(m_updates_in, updates_in);
	ADD(m_considered, considered);
	ADD(m_irrelevant, irrelevant);
	ADD(m_irrelevant_sent, irrelevant_sent);
	ADD(m_previews_withheld, previews_withheld);
	ADD(m_voice_culled, voice_culled);
	ADD(m_voice_passed, voice_passed);
#undef ADD
	ps->last = st;
}

static void link_drop(struct net_pres *np, struct net_pres_sess *ps)
{
	if (!ps->link)
		return;
	metrics_sync(np, ps);
	pres_link_free(&ps->link);
	memset(&ps->last, 0, sizeof(ps->last));
}

static void psess_free(struct net_pres *np, struct net_pres_sess **pp)
{
	struct net_pres_sess *ps = *pp;
	if (!ps)
		return;
	metrics_sync(np, ps);
	pres_relay_free(&ps->relay);
	pres_link_free(&ps->link);
	free(ps);
	*pp = NULL;
}

void net_pres_session_gone(struct net_mod *nm, const struct sess_session *s)
{
	struct net_pres *np = nm->pres;
	for (unsigned i = 0; np && i < NET_PRES_SESS_MAX; i++)
		if (np->sess[i] && !strcmp(np->sess[i]->id, s->id))
			psess_free(np, &np->sess[i]);
}

static struct net_pres_user *user_find(struct net_pres_user *v, unsigned n, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(v[i].key, key, PROTO_PRES_KEY_LEN))
			return &v[i];
	return NULL;
}

static struct net_pres_user *local_get(struct net_pres_sess *ps, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	struct net_pres_user *u = user_find(ps->local, ps->n_local, key);
	if (u || ps->n_local == NET_PRES_LOCAL_MAX)
		return u;
	u = &ps->local[ps->n_local++];
	memset(u, 0, sizeof(*u));
	memcpy(u->key, key, PROTO_PRES_KEY_LEN);
	memcpy(u->u.key, key, PROTO_PRES_KEY_LEN);
	return u;
}

static struct net_join *active_join(struct net_mod *nm, struct sess_session *s)
{
	struct net_join *j = s->role == SESS_ROLE_MEMBER ? net_join_of(nm, s) : NULL;
	return j && j->conn && j->conn->st == NC_ACTIVE ? j : NULL;
}

/* One update of a local user into the session's relay (host) or link
 * (member): the pose part it names, or (no pose bit) its whole
 * cursor / preview / speaking state. */
static void local_take(struct net_mod *nm, struct net_pres_sess *ps, const struct proto_pres_user *u)
{
	struct net_pres *np = nm->pres;
	int r = 0;
	if (ps->relay) {
		r = pres_relay_update(ps->relay, PRES_FROM_LOCAL, u, nm->now);
	} else if (ps->link) {
		struct proto_pres_user x = *u;
		struct net_join *j = np->test_as_host ? active_join(nm, ps->s) : NULL;
		if (j)
			memcpy(x.key, j->conn->key, PROTO_PRES_KEY_LEN); /* tests: a forged user */
		r = pres_link_local(ps->link, &x, nm->now);
	}
	if (r < 0)
		th_debug("session %s: a local user's presence not taken: %s", ps->id, th_strerror(r));
}

/* A local user's state (not a pose part): its cursor, preview and
 * speaking flag, each either held or ended (PRES_ENDED). */
static struct proto_pres_user state_of(const struct net_pres_user *lu)
{
	struct proto_pres_user u = lu->u;
	u.valid = (lu->u.valid & NET_PRES_STATE_F) | PRES_ENDED(NET_PRES_STATE_F & ~lu->u.valid);
	return u;
}

/* ---- from local clients (the sessions module's hooks) ------------------------------ */

void net_pres_local_pose(struct net_mod *nm, struct sess_session *s, const uint8_t author[32],
			 const struct proto_ipc_pose_update *p)
{
	nm->now = th_now_ns();
	if (s->role == SESS_ROLE_HOST) {
		struct net_hosted *h = net_hosted_of(nm, s, true);
		if (h) /* a local user: this daemon vouches for it */
			net_pose_owners_prove(&h->owners, author, NET_POSE_OWNER_LOCAL);
	}
	uint32_t part = p->flags & NET_PRES_PARTS_F;
	part &= -part; /* one part a POSE_UPDATE (the lowest, should a client set more) */
	struct net_pres_sess *ps = psess(nm, s, true);
	if (!part || !(p->flags & PROTO_IPC_POSE_F_TRACKED) || !ps)
		return; /* an untracked part keeps its last pose for the others */
	struct net_pres_user *lu = local_get(ps, author);
	if (!lu)
		return;
	unsigned k = part == PROTO_PRES_F_HEAD ? PROTO_PRES_HEAD : part == PROTO_PRES_F_LEFT ? PROTO_PRES_LEFT
											       : PROTO_PRES_RIGHT;
	const float v[7] = { p->px, p->py, p->pz, p->qx, p->qy, p->qz, p->qw };
	memcpy(lu->u.pose[k], v, sizeof(v));
	lu->u.valid |= part;
	/* The daemon's clock: frames code sample times against it. */
	lu->u.t_ns = nm->now;
	struct proto_pres_user u = { .valid = part, .t_ns = nm->now };
	memcpy(u.key, author, PROTO_PRES_KEY_LEN);
	memcpy(u.pose[k], v, sizeof(v));
	local_take(nm, ps, &u);
}

void net_pres_local_presence(struct net_mod *nm, struct sess_session *s, const uint8_t author[32],
			     const struct proto_ipc_presence *p)
{
	nm->now = th_now_ns();
	struct net_pres_sess *ps = psess(nm, s, true);
	struct net_pres_user *lu = ps ? local_get(ps, author) : NULL;
	if (!lu)
		return;
	uint32_t f = p->flags & (PROTO_PRES_F_CURSOR | PROTO_PRES_F_PREVIEW);
	lu->u.valid = (lu->u.valid & ~(uint32_t)(PROTO_PRES_F_CURSOR | PROTO_PRES_F_PREVIEW)) | f;
	if (f & PROTO_PRES_F_CURSOR) {
		lu->u.cursor[0] = p->cx, lu->u.cursor[1] = p->cy, lu->u.cursor[2] = p->cz;
		lu->u.tool = p->tool;
	}
	if (f & PROTO_PRES_F_PREVIEW) {
		lu->u.preview_target = p->target;
		const float t[7] = { p->tx, p->ty, p->tz, p->rx, p->ry, p->rz, p->rw };
		memcpy(lu->u.preview, t, sizeof(t));
	}
	lu->u.t_ns = nm->now;
	struct proto_pres_user u = state_of(lu);
	local_take(nm, ps, &u);
}

void net_pres_local_gone(struct net_mod *nm, struct sess_session *s, const uint8_t author[32])
{
	nm->now = th_now_ns();
	struct net_pres_sess *ps = psess(nm, s, false);
	if (!ps)
		return;
	struct net_pres_user *lu = user_find(ps->local, ps->n_local, author);
	if (lu)
		*lu = ps->local[--ps->n_local];
	if (ps->relay)
		pres_relay_user_gone(ps->relay, author);
	else if (ps->link)
		pres_link_local_gone(ps->link, author);
}

/* The speaking flag, as local clients of s see it too. */
static void speaking_tell(struct net_mod *nm, struct net_pres_sess *ps, const struct net_pres_user *lu)
{
	struct proto_ipc_presence p = { .entity = sess_entity_of(lu->key), .t_ns = nm->now,
					.flags = lu->u.valid & NET_PRES_STATE_F };
	p.cx = lu->u.cursor[0], p.cy = lu->u.cursor[1], p.cz = lu->u.cursor[2], p.tool = lu->u.tool;
	p.target = lu->u.preview_target;
	p.tx = lu->u.preview[0], p.ty = lu->u.preview[1], p.tz = lu->u.preview[2];
	p.rx = lu->u.preview[3], p.ry = lu->u.preview[4], p.rz = lu->u.preview[5], p.rw = lu->u.preview[6];
	if (!(p.flags & PROTO_PRES_F_PREVIEW))
		p.rw = 1;
	sess_module_deliver_presence(nm->sess, ps->s, &p);
	struct proto_pres_user u = state_of(lu);
	local_take(nm, ps, &u);
}

void net_pres_local_speech(struct net_mod *nm, struct sess_session *s, const uint8_t speaker[32], bool speech)
{
	struct net_pres_sess *ps = psess(nm, s, true);
	struct net_pres_user *lu = ps ? local_get(ps, speaker) : NULL;
	if (!lu || !speech)
		return; /* the flag ends when the hold runs out (net_pres_service) */
	bool was = lu->u.valid & PROTO_PRES_F_SPEAKING;
	lu->speaking_until_ns = nm->now + NET_PRES_SPEAKING_HOLD_NS;
	if (was)
		return;
	lu->u.valid |= PROTO_PRES_F_SPEAKING;
	lu->u.t_ns = nm->now;
	speaking_tell(nm, ps, lu);
}

/* ---- to local clients ------------------------------------------------------------- */

static struct net_pres_user *seen_get(struct net_pres_sess *ps, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	struct net_pres_user *u = user_find(ps->seen, ps->n_seen, key);
	if (u)
		return u;
	if (ps->n_seen < NET_PRES_SEEN_MAX) {
		u = &ps->seen[ps->n_seen++];
	} else {
		u = &ps->seen[0];
		for (unsigned i = 1; i < ps->n_seen; i++)
			if (ps->seen[i].used_ns < u->used_ns)
				u = &ps->seen[i];
	}
	memset(u, 0, sizeof(*u));
	memcpy(u->key, key, PROTO_PRES_KEY_LEN);
	return u;
}

static bool state_differs(const struct proto_pres_user *a, const struct proto_pres_user *b)
{
	uint32_t fa = a->valid & NET_PRES_STATE_F, fb = b->valid & NET_PRES_STATE_F;
	if (fa != fb)
		return true;
	if ((fa & PROTO_PRES_F_CURSOR) && (memcmp(a->cursor, b->cursor, sizeof(a->cursor)) || a->tool != b->tool))
		return true;
	return (fa & PROTO_PRES_F_PREVIEW) &&
	       (a->preview_target != b->preview_target || memcmp(a->preview, b->preview, sizeof(a->preview)));
}

/* Another daemon's user to s's local clients: every pose part the record
 * holds as a POSE_UPDATE (the relay sends a user when it changed and, while
 * it is of interest, twice a second unchanged: clients drop an avatar
 * they stop hearing), its cursor / preview / speaking state as PRESENCE
 * while it holds one or when it changed. */
static void deliver_user(struct net_mod *nm, struct net_pres_sess *ps, const struct proto_pres_user *u)
{
	struct net_pres *np = nm->pres;
	if (user_find(ps->local, ps->n_local, u->key))
		return; /* our own user: local clients see it directly */
	struct net_pres_user *su = seen_get(ps, u->key);
	bool fresh = su->used_ns == 0;
	su->used_ns = nm->now;
	uint64_t entity = sess_entity_of(u->key);
	static const uint32_t part_f[PROTO_PRES_PARTS] = { PROTO_PRES_F_HEAD, PROTO_PRES_F_LEFT, PROTO_PRES_F_RIGHT };
	for (unsigned k = 0; k < PROTO_PRES_PARTS; k++) {
		if (!(u->valid & part_f[k]))
			continue;
		const float *v = u->pose[k];
		struct proto_ipc_pose_update p = {
			.entity = entity, .t_ns = u->t_ns,
			.px = v[0], .py = v[1], .pz = v[2], .qx = v[3], .qy = v[4], .qz = v[5], .qw = v[6],
			.flags = part_f[k] | PROTO_IPC_POSE_F_TRACKED,
		};
		sess_module_deliver_pose(nm->sess, ps->s, &p);
		(*np->m_delivered)++;
	}
	if ((u->valid & NET_PRES_STATE_F) || (!fresh && state_differs(&su->u, u))) {
		struct proto_ipc_presence p = { .entity = entity, .t_ns = u->t_ns, .flags = u->valid & NET_PRES_STATE_F,
						.tool = u->tool < 256 ? u->tool : 0 };
		p.cx = u->cursor[0], p.cy = u->cursor[1], p.cz = u->cursor[2];
		p.target = u->preview_target;
		p.tx = u->preview[0], p.ty = u->preview[1], p.tz = u->preview[2];
		p.rx = u->preview[3], p.ry = u->preview[4], p.rz = u->preview[5], p.rw = u->preview[6];
		if (!(p.flags & PROTO_PRES_F_PREVIEW))
			p.rw = 1;
		sess_module_deliver_presence(nm->sess, ps->s, &p);
	}
	su->u = *u;
}

static void deliver_gone(struct net_mod *nm, struct net_pres_sess *ps, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	struct net_pres_user *su = user_find(ps->seen, ps->n_seen, key);
	if (!su)
		return;
	if (su->u.valid & NET_PRES_STATE_F) {
		/* Its cursor, preview and speaking end with it. */
		struct proto_ipc_presence p = { .entity = sess_entity_of(key), .t_ns = su->u.t_ns, .rw = 1 };
		sess_module_deliver_presence(nm->sess, ps->s, &p);
	}
	*su = ps->seen[--ps->n_seen];
}

/* ---- the channel ------------------------------------------------------------------ */

static bool pres_conn(const struct net_conn *c)
{
	return c->q && c->st == NC_ACTIVE && (c->caps & PROTO_SESS_CAP_DATAGRAMS) && net_conn_live(c);
}

static void send_frame(struct net_conn *c, const uint8_t *frame, size_t len)
{
	struct net_pres *np = c->nm->pres;
	uint8_t b[PROTO_SESS_DGRAM_MAX];
	struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_PRES, .frame = frame, .frame_len = (uint16_t)len };
	int n = len <= PROTO_PRES_FRAME_MAX ? proto_sess_dgram_encode(&d, b, sizeof(b)) : -EMSGSIZE;
	if (n <= 0 || !pres_conn(c) || net_quic_dgram_send(c->q, b, (size_t)n) < 0)
		return;
	net_chan_sent(&c->ch[np->chan], (size_t)n);
	net_mod_kick(c->nm);
}

struct emit_ctx {
	struct net_mod *nm;
	struct sess_session *s;
};

static void relay_emit(void *ud, uint32_t peer, const uint8_t *frame, size_t len)
{
	struct emit_ctx *e = ud;
	for (struct net_conn *c = e->nm->conns; c; c = c->next)
		if (c->incoming && c->s == e->s && c->st == NC_ACTIVE && c->peer_id == peer) {
			send_frame(c, frame, len);
			return;
		}
}

struct frame_ctx {
	struct net_mod *nm;
	struct net_conn *c;
	struct net_pres_sess *ps;
	struct net_hosted *h;
};

/* A member may only move its own users (net_sl_pose.h). */
static bool may_update(void *ud, uint32_t peer, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	struct frame_ctx *f = ud;
	if (f->h && net_pose_owners_check(&f->h->owners, key, peer) == 0)
		return true;
	f->c->poses_refused++;
	(*f->nm->pres->m_forged)++;
	return false;
}

static void on_user(void *ud, const struct proto_pres_user *u)
{
	struct frame_ctx *f = ud;
	deliver_user(f->nm, f->ps, u);
}

static int on_pres_dgram(void *ud, const uint8_t *data, size_t len, uint64_t now)
{
	struct net_conn *c = ud;
	struct net_mod *nm = c->nm;
	struct net_pres *np = nm->pres;
	struct proto_sess_dgram d;
	if (!c->s || proto_sess_dgram_decode(data, len, &d) < 0 || d.kind != PROTO_SESS_DG_PRES) {
		(*np->m_malformed)++;
		return 0; /* unreliable: dropped and counted, the link stays */
	}
	nm->now = now;
	struct net_pres_sess *ps = psess(nm, c->s, c->incoming);
	if (!ps)
		return 0;
	if (c->incoming) {
		struct frame_ctx f = { .nm = nm, .c = c, .ps = ps, .h = net_hosted_of(nm, c->s, true) };
		if (ps->relay)
			pres_relay_on_frame(ps->relay, c->peer_id, d.frame, d.frame_len, now, may_update, on_user, &f);
		return 0;
	}
	if (!ps->link || pres_link_on_frame(ps->link, d.frame, d.frame_len, &np->frame) < 0)
		return 0;
	for (unsigned i = 0; i < np->frame.n_gone; i++)
		deliver_gone(nm, ps, np->frame.gone[i]);
	for (unsigned i = 0; i < np->frame.n; i++)
		deliver_user(nm, ps, &np->frame.users[i]);
	return 0;
}

/* ---- connections ------------------------------------------------------------------ */

static bool role_edits(uint8_t role)
{
	return role >= PROTO_SESS_ROLE_EDITOR;
}

void net_pres_conn_active(struct net_conn *c)
{
	struct net_mod *nm = c->nm;
	struct net_pres *np = nm->pres;
	if (!np || !c->s)
		return;
	struct net_pres_sess *ps = psess(nm, c->s, true);
	if (!ps)
		return;
	if (c->incoming) {
		if (!ps->relay)
			return;
		int r = pres_relay_receiver_add(ps->relay, c->peer_id, role_edits(c->role));
		if (r == -EEXIST) { /* a reconnect replaced a connection that left no word */
			pres_relay_receiver_remove(ps->relay, c->peer_id);
			r = pres_relay_receiver_add(ps->relay, c->peer_id, role_edits(c->role));
		}
		if (r < 0)
			th_warn("session %s: peer %u gets no presence: %s", c->s->id, c->peer_id, th_strerror(r));
		else
			ps->receivers++;
		net_mod_kick(nm);
		return;
	}
	/* A new connection is a new channel pair: a fresh link, told every
	 * local user's newest state. */
	link_drop(np, ps);
	if (pres_link_new(&np->cfg, &ps->link) < 0) {
		th_warn("session %s: no presence with the host: out of memory", c->s->id);
		return;
	}
	for (unsigned i = 0; i < ps->n_local; i++) {
		struct proto_pres_user u = ps->local[i].u;
		u.valid &= NET_PRES_PARTS_F;
		if (u.valid)
			local_take(nm, ps, &u);
		u = state_of(&ps->local[i]);
		local_take(nm, ps, &u);
	}
	ps->n_seen = 0;
	net_mod_kick(nm);
}

void net_pres_conn_gone(struct net_conn *c)
{
	struct net_mod *nm = c->nm;
	struct net_pres_sess *ps = c->s ? psess(nm, c->s, false) : NULL;
	if (!ps || !c->incoming || !ps->relay)
		return;
	pres_relay_receiver_remove(ps->relay, c->peer_id);
	if (ps->receivers)
		ps->receivers--;
}

void net_pres_role(struct net_conn *c)
{
	struct net_pres_sess *ps = c->s ? psess(c->nm, c->s, false) : NULL;
	if (ps && ps->relay && c->incoming)
		pres_relay_receiver_role(ps->relay, c->peer_id, role_edits(c->role));
}

bool net_pres_audible(struct net_mod *nm, struct sess_session *s, const uint8_t speaker[32], uint32_t peer)
{
	struct net_pres_sess *ps = nm->pres ? psess(nm, s, false) : NULL;
	return !ps || !ps->relay || pres_relay_audible(ps->relay, speaker, peer);
}

/* ---- timers ---------------------------------------------------------------------- */

static uint64_t speaking_next(const struct net_pres_sess *ps)
{
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < ps->n_local; i++)
		if ((ps->local[i].u.valid & PROTO_PRES_F_SPEAKING) && ps->local[i].speaking_until_ns < t)
			t = ps->local[i].speaking_until_ns;
	return t;
}

uint64_t net_pres_next(struct net_mod *nm)
{
	struct net_pres *np = nm->pres;
	uint64_t t = UINT64_MAX, x;
	for (unsigned i = 0; np && i < NET_PRES_SESS_MAX; i++) {
		struct net_pres_sess *ps = np->sess[i];
		if (!ps)
			continue;
		if (ps->relay && ps->receivers && (x = pres_relay_next(ps->relay)) < t)
			t = x;
		if (ps->link && active_join(nm, ps->s) && (x = pres_link_next(ps->link)) < t)
			t = x;
		if ((x = speaking_next(ps)) < t)
			t = x;
	}
	return t;
}

void net_pres_service(struct net_mod *nm, uint64_t now)
{
	struct net_pres *np = nm->pres;
	for (unsigned i = 0; np && i < NET_PRES_SESS_MAX; i++) {
		struct net_pres_sess *ps = np->sess[i];
		if (!ps)
			continue;
		for (unsigned k = 0; k < ps->n_local; k++) {
			struct net_pres_user *lu = &ps->local[k];
			if ((lu->u.valid & PROTO_PRES_F_SPEAKING) && lu->speaking_until_ns <= now) {
				lu->u.valid &= ~(uint32_t)PROTO_PRES_F_SPEAKING;
				lu->u.t_ns = now;
				speaking_tell(nm, ps, lu);
			}
		}
		if (ps->relay && ps->receivers && pres_relay_next(ps->relay) <= now) {
			struct emit_ctx e = { .nm = nm, .s = ps->s };
			pres_relay_tick(ps->relay, now, relay_emit, &e);
		}
		struct net_join *j = ps->link ? active_join(nm, ps->s) : NULL;
		if (j && pres_link_next(ps->link) <= now) {
			int n = pres_link_tick(ps->link, now, np->out, sizeof(np->out));
			if (n > 0)
				send_frame(j->conn, np->out, (size_t)n);
		}
		metrics_sync(np, ps);
	}
}

/* ---- configuration --------------------------------------------------------------- */

void net_pres_configure(struct net_mod *nm)
{
	struct net_pres *np = nm->pres;
	if (!np)
		return;
	srv_config_presence(srv_daemon_config(nm->d), &np->cfg);
	for (unsigned i = 0; i < NET_PRES_SESS_MAX; i++)
		if (np->sess[i] && np->sess[i]->relay)
			pres_relay_configure(np->sess[i]->relay, &np->cfg);
	/* A link's tick rate is taken when its connection starts. */
	net_mod_kick(nm);
}

/* ---- `presence`: per session, what the relay / link counted ----------------------- */

static struct json_object *stats_json(const struct pres_stats *st)
{
	struct json_object *o = json_object_new_object();
#define J(f) json_object_object_add(o, #f, json_object_new_uint64(st->f))
	J(ticks);
	J(frames_in);
	J(bytes_in);
	J(frames_out);
	J(bytes_out);
	J(refused_in);
	J(records_out);
	J(poses_out);
	J(updates_in);
	J(considered);
	J(irrelevant);
	J(irrelevant_sent);
	J(previews_withheld);
	J(voice_culled);
	J(voice_passed);
#undef J
	return o;
}

static int net_cmd_presence(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			    struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct net_pres *np = nm->pres;
	uint64_t now = th_now_ns();
	(void)caller;
	(void)args;
	(void)err;
	(void)errlen;
	struct json_object *arr = json_object_new_array();
	for (unsigned i = 0; i < NET_PRES_SESS_MAX; i++) {
		struct net_pres_sess *ps = np->sess[i];
		if (!ps)
			continue;
		struct pres_stats st;
		stats_now(ps, &st);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "session", json_object_new_string(ps->id));
		json_object_object_add(o, "name", json_object_new_string(ps->s->name));
		json_object_object_add(o, "role", json_object_new_string(ps->relay ? "host" : "member"));
		json_object_object_add(o, "local_users", json_object_new_int((int)ps->n_local));
		json_object_object_add(o, "remote_users", json_object_new_int((int)ps->n_seen));
		json_object_object_add(o, "receivers", json_object_new_int((int)ps->receivers));
		json_object_object_add(o, "linked", json_object_new_boolean(ps->link && active_join(nm, ps->s)));
		double secs = now > ps->created_ns ? (double)(now - ps->created_ns) / 1e9 : 0;
		json_object_object_add(o, "seconds", json_object_new_double(secs));
		json_object_object_add(o, "frames_out_per_s",
				       json_object_new_double(secs > 0 ? (double)st.frames_out / secs : 0));
		json_object_object_add(o, "frames_in_per_s",
				       json_object_new_double(secs > 0 ? (double)st.frames_in / secs : 0));
		/* Of the updates interest judged irrelevant to a receiver, the
		 * share never sent; bytes on the wire per pose part sent. */
		json_object_object_add(o, "filtered_pct",
				       json_object_new_double(st.irrelevant ? 100.0 * (double)(st.irrelevant - st.irrelevant_sent) /
									      (double)st.irrelevant
									    : 0));
		json_object_object_add(o, "bytes_per_pose",
				       json_object_new_double(st.poses_out ? (double)st.bytes_out / (double)st.poses_out : 0));
		json_object_object_add(o, "stats", stats_json(&st));
		json_object_array_add(arr, o);
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "sessions", arr);
	struct json_object *cfg = json_object_new_object();
	json_object_object_add(cfg, "cell_m", json_object_new_double(np->cfg.cell_m));
	json_object_object_add(cfg, "near_cells", json_object_new_int((int)np->cfg.near_cells));
	json_object_object_add(cfg, "view_cells", json_object_new_int((int)np->cfg.view_cells));
	json_object_object_add(cfg, "view_deg", json_object_new_double(np->cfg.view_deg));
	json_object_object_add(cfg, "far_cells", json_object_new_int((int)np->cfg.far_cells));
	json_object_object_add(cfg, "far_hz", json_object_new_int((int)np->cfg.far_hz));
	json_object_object_add(cfg, "tick_hz", json_object_new_int((int)np->cfg.tick_hz));
	json_object_object_add(cfg, "voice_cells", json_object_new_int((int)np->cfg.voice_cells));
	json_object_object_add(*res, "config", cfg);
	return 0;
}

/* ---- start / stop ----------------------------------------------------------------- */

int net_pres_register(struct net_mod *nm)
{
	struct net_pres *np = calloc(1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	np->def = (struct net_chan_def){
		.name = "pres",
		.type = NET_CHAN_DGRAM,
		.dgram_kind = { PROTO_SESS_DG_PRES },
		.lim = { .max_msg = NET_PRES_DGRAM_MAX, .rate_per_s = NET_PRES_RATE_PER_S, .burst = NET_PRES_BURST },
		.on_msg = on_pres_dgram,
	};
	/* Tests: THETAD_TEST_PRES_RATE=N takes N frames a second (and at
	 * once) from a member, to see the limit at work. */
	const char *e = getenv("THETAD_TEST_PRES_RATE");
	if (e && *e)
		np->def.lim.rate_per_s = np->def.lim.burst = (uint32_t)strtoul(e, NULL, 10);
	np->test_as_host = (e = getenv("THETAD_TEST_PRES_AS_HOST")) && *e == '1';
	int r = net_chans_register(&nm->chans, &np->def);
	if (r < 0) {
		free(np);
		return r;
	}
	np->chan = r;
	srv_config_presence(srv_daemon_config(nm->d), &np->cfg);
	struct srv_metrics *mx = srv_daemon_metrics(nm->d);
	np->m_ticks = srv_counter(mx, "presence_ticks", "presence ticks run (hosted sessions and links)");
	np->m_frames_in = srv_counter(mx, "presence_frames_in", "PRES frames decoded");
	np->m_bytes_in = srv_counter(mx, "presence_bytes_in", "bytes of the PRES frames decoded");
	np->m_frames_out = srv_counter(mx, "presence_frames_out", "PRES frames coded and sent");
	np->m_bytes_out = srv_counter(mx, "presence_bytes_out", "bytes of the PRES frames sent");
	np->m_refused_in = srv_counter(mx, "presence_refused_in", "PRES frames refused (malformed, no baseline, duplicate)");
	np->m_records_out = srv_counter(mx, "presence_records_out", "user records in the frames sent");
	np->m_poses_out = srv_counter(mx, "presence_poses_out", "pose parts in the frames sent");
	np->m_updates_in = srv_counter(mx, "presence_updates_in", "user updates taken (local clients and frames)");
	np->m_considered = srv_counter(mx, "presence_considered", "host: (receiver, user) pairs with a change to send");
	np->m_irrelevant = srv_counter(mx, "presence_irrelevant", "host: of them, far or culled for that receiver");
	np->m_irrelevant_sent = srv_counter(mx, "presence_irrelevant_sent", "host: of those, sent anyway (far_hz)");
	np->m_previews_withheld = srv_counter(mx, "presence_previews_withheld", "host: previews not sent to a viewer");
	np->m_voice_culled = srv_counter(mx, "presence_voice_culled", "host: voice datagrams not relayed: the speaker is far");
	np->m_voice_passed = srv_counter(mx, "presence_voice_passed", "host: voice datagrams the interest grid let through");
	np->m_forged = srv_counter(mx, "presence_forged",
				   "host: users in a member's frames that are not the member's, refused");
	np->m_malformed = srv_counter(mx, "presence_malformed", "PRES datagrams that did not decode, dropped");
	np->m_delivered = srv_counter(mx, "presence_poses_delivered", "pose parts of other daemons' users given to local clients");
	nm->pres = np;
	srv_control_register(srv_daemon_control(nm->d), "presence", SRV_CTL_QUERY, net_cmd_presence, nm);
	return 0;
}

void net_pres_stop(struct net_mod *nm)
{
	struct net_pres *np = nm->pres;
	if (!np)
		return;
	for (unsigned i = 0; i < NET_PRES_SESS_MAX; i++)
		psess_free(np, &np->sess[i]);
	free(np);
	nm->pres = NULL;
}
