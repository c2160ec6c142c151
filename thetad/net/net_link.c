/* The glue between QUIC connections and the session layer (net_sl.h; see
 * docs/network.md, "Session layer"): it registers the built-in channels and
 * dispatches stream messages and datagrams through the table, feeds each
 * connection's state machine with what arrives, its timers and now_ns,
 * executes the actions that come out (frames, datagrams, closes, log lines)
 * and carries out its events against the sessions module: admitting members
 * and telling everyone, integrating entries, catch-up (net_catchup.c),
 * roles, kicks, admin requests and refusals told to authors (the member
 * side of these lives in net_link_join.c). Also what spans connections:
 * relaying durable entries (presence: net_pres.c).
 *
 * Runs inside net_server's callbacks (which give now_ns) and the module's
 * service pass; never destroys a connection itself (net_server reaps,
 * conn_gone frees). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "ipc.h"
#include "net/net_catchup.h"
#include "net/net_int.h"
#include "sess/module.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_logrec.h"
#include "th_schema.h"
#include "th_time.h"


static const char *key_fpr(const uint8_t key[32], char buf[TH_KEY_FPR_LEN])
{
	th_key_fingerprint(key, buf, TH_KEY_FPR_LEN);
	return buf;
}

/* ---- connections ------------------------------------------------------------ */

struct net_conn *net_conn_new(struct net_mod *nm, bool incoming, uint64_t now)
{
	struct net_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->nm = nm;
	c->incoming = incoming;
	c->created_ns = now;
	for (unsigned i = 0; i < nm->chans.n; i++)
		net_chan_init(&c->ch[i], &nm->chans, i);
	c->n_ch = nm->chans.n;
	th_wbuf_init(&c->out, 0);
	c->next = nm->conns;
	nm->conns = c;
	return c;
}

void net_conn_free(struct net_conn *c)
{
	if (!c)
		return;
	net_assets_conn_free(c);
	net_snaps_conn_free(c);
	net_catchup_destroy(&c->cu);
	for (unsigned i = 0; i < c->n_ch; i++)
		net_chan_fini(&c->ch[i]);
	th_wbuf_fini(&c->out);
	net_sl_destroy(&c->sl);
	free(c);
}

void net_conn_unlink(struct net_mod *nm, struct net_conn *c)
{
	for (struct net_conn **pp = &nm->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

static bool conn_live(const struct net_conn *c)
{
	return c->q && c->st != NC_CLOSED && !net_quic_is_ended(c->q);
}

static void conn_push(struct net_conn *c)
{
	if (!conn_live(c))
		return;
	for (unsigned i = 0; i < c->n_ch; i++) {
		struct net_chan *ch = &c->ch[i];
		size_t len;
		const uint8_t *p = net_chan_peek(ch, &len);
		if (!p || !ch->opened)
			continue;
		int n = net_quic_stream_write(c->q, ch->def->sid, p, len, false);
		if (n > 0)
			net_chan_consume(ch, (size_t)n);
	}
}

int net_conn_close(struct net_conn *c, uint64_t code, const char *why, uint64_t now_ns)
{
	if (!c->q || c->st == NC_CLOSED)
		return 0;
	c->end_code = code;
	int r = net_quic_close(c->q, code, why, now_ns);
	c->st = NC_CLOSED;
	net_mod_kick(c->nm);
	return r;
}

/* Opens our side of stream st (joiner only: the host answers on the
 * streams the joiner opened). */
int net_conn_open(struct net_conn *c, enum net_stream st)
{
	if (c->ch[st].opened)
		return 0;
	if (c->incoming)
		return -EAGAIN; /* wait for the peer to open it */
	int64_t sid;
	int r = net_quic_stream_open(c->q, &sid);
	if (r < 0)
		return r;
	if (sid != c->ch[st].def->sid) {
		net_quic_stream_reset(c->q, sid, PROTO_SESS_ERR_PROTOCOL);
		return -EPROTO;
	}
	c->ch[st].opened = true;
	return 0;
}

/* A frame for c could not be queued: never drop it silently. */
static void conn_send_failed(struct net_conn *c, int err)
{
	(*c->nm->m_send_failed)++;
	th_warn("peer %s: cannot queue a frame (%s); closing the connection", c->addr, th_strerror(err));
	net_conn_close(c, PROTO_SESS_ERR_LEFT, "cannot queue data for this peer", c->nm->now);
}

static void conn_send(struct net_conn *c, enum net_stream st, const uint8_t *p, size_t n)
{
	if (!conn_live(c))
		return;
	if (!c->incoming && !c->ch[st].opened && net_conn_open(c, st) < 0)
		return;
	size_t held = 0;
	for (unsigned i = 0; i < c->n_ch; i++)
		held += net_chan_pending(&c->ch[i]);
	if (held + n > NET_CONN_PENDING_MAX) {
		/* The peer does not read; it catches up after reconnecting. */
		th_warn("peer %s: more than %u bytes waiting to be read; closing", c->addr, NET_CONN_PENDING_MAX);
		net_conn_close(c, PROTO_SESS_ERR_PROTOCOL, "peer does not read", c->nm->now);
		return;
	}
	if (c->nm->test_queue_fail && ++c->nm->test_queued == c->nm->test_queue_fail)
		c->ch[st].q.b.oom = true; /* as after a failed allocation */
	int r = net_chan_queue(&c->ch[st], p, n);
	if (r == -ENOBUFS) {
		th_warn("peer %s: more than the %s channel holds waiting to be read; closing", c->addr,
			c->ch[st].def->name);
		net_conn_close(c, PROTO_SESS_ERR_PROTOCOL, "peer does not read", c->nm->now);
		return;
	}
	if (r < 0) {
		/* The queue lost a frame (and would refuse every later one):
		 * the stream is broken from here on, so end the connection;
		 * the member catches up after reconnecting. */
		conn_send_failed(c, r);
		return;
	}
	conn_push(c);
	net_mod_kick(c->nm);
}

void net_conn_send(struct net_conn *c, enum net_stream st, const uint8_t *p, size_t n)
{
	conn_send(c, st, p, n);
}

bool net_conn_live(const struct net_conn *c)
{
	return conn_live(c);
}

void net_conn_send_msg(struct net_conn *c, enum net_stream st, const struct proto_sess_msg *m)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	int r = proto_sess_encode(m, &w);
	if (r == 0)
		conn_send(c, st, w.data, w.len);
	else if (conn_live(c))
		conn_send_failed(c, r);
	th_wbuf_fini(&w);
}

unsigned net_peers_of(struct net_mod *nm, struct sess_session *s)
{
	unsigned n = 0;
	for (struct net_conn *c = nm->conns; c; c = c->next)
		n += c->s == s && c->st == NC_ACTIVE;
	return n;
}

static void count_refusal(struct net_mod *nm, uint64_t code)
{
	(*nm->m_refusals)++;
	if (code >= 0x101 && code <= PROTO_SESS_ERR_MAX_)
		(*nm->m_refused[code - 0x101])++;
}

static void protocol_error(struct net_conn *c, const char *what, uint64_t now)
{
	(*c->nm->m_protocol)++;
	th_warn("peer %s broke the session protocol (%s); closing", c->addr, what);
	net_conn_close(c, PROTO_SESS_ERR_PROTOCOL, what, now);
}

/* Wall clock minus the monotonic one, taken by the service pass (invite
 * expiries are wall-clock seconds). */
static uint64_t wall_offset(struct net_mod *nm)
{
	if (!nm->wall_off_ns)
		nm->wall_off_ns = th_wall_ns() - th_now_ns();
	return nm->wall_off_ns;
}

/* ---- hosted sessions ---------------------------------------------------------- */

struct net_hosted *net_hosted_of(struct net_mod *nm, const struct sess_session *s, bool create)
{
	struct net_hosted **free_slot = NULL;
	for (unsigned i = 0; i < NET_HOSTED_MAX; i++) {
		if (nm->hosted[i] && !strcmp(nm->hosted[i]->id, s->id))
			return nm->hosted[i];
		if (!nm->hosted[i] && !free_slot)
			free_slot = &nm->hosted[i];
	}
	if (!create || !free_slot || !(*free_slot = calloc(1, sizeof(**free_slot))))
		return NULL;
	snprintf((*free_slot)->id, sizeof((*free_slot)->id), "%s", s->id);
	net_pose_owners_init(&(*free_slot)->owners);
	/* Nobody but this daemon speaks for its own identity. */
	net_pose_owners_prove(&(*free_slot)->owners, nm->host_key->pk, NET_POSE_OWNER_LOCAL);
	return *free_slot;
}

static void hosted_drop(struct net_mod *nm, const struct sess_session *s)
{
	for (unsigned i = 0; i < NET_HOSTED_MAX; i++)
		if (nm->hosted[i] && !strcmp(nm->hosted[i]->id, s->id)) {
			free(nm->hosted[i]);
			nm->hosted[i] = NULL;
		}
}

void net_link_stop(struct net_mod *nm)
{
	for (unsigned i = 0; i < NET_HOSTED_MAX; i++) {
		free(nm->hosted[i]);
		nm->hosted[i] = NULL;
	}
}

/* Our vector: the last durable sequence number of every author we hold
 * and that entry's hash. */
static void send_sync(struct net_conn *c)
{
	struct sess_session *s = c->s;
	uint32_t n = s->n_authors > PROTO_SESS_SYNC_MAX ? PROTO_SESS_SYNC_MAX : s->n_authors;
	struct proto_sess_sync_head *heads = calloc(n ? n : 1, sizeof(*heads));
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	if (heads && s->log) {
		uint32_t k = 0;
		for (uint32_t i = 0; i < n; i++) {
			memcpy(heads[k].key, s->authors[i].key, PROTO_SESS_KEY_LEN);
			if (clog_author_head(s->log, heads[k].key, &heads[k].seq, heads[k].hash) == 0 && heads[k].seq)
				k++;
		}
		if (proto_sess_sync_encode(&w, heads, k) == 0)
			conn_send(c, NET_ST_COMMANDS, w.data, w.len);
	}
	th_wbuf_fini(&w);
	free(heads);
}

/* ---- host --------------------------------------------------------------------- */

static struct net_conn *host_conn_of(struct net_mod *nm, struct sess_session *s, const uint8_t key[32])
{
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c->incoming && c->s == s && c->st == NC_ACTIVE && !memcmp(c->key, key, 32))
			return c;
	return NULL;
}

static void host_broadcast(struct net_mod *nm, struct sess_session *s, struct net_conn *except,
			   const struct proto_sess_msg *m)
{
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c != except && c->incoming && c->s == s && c->st == NC_ACTIVE)
			net_conn_send_msg(c, NET_ST_CONTROL, m);
}

/* The session layer says member c is gone (EV_GONE, once per connection):
 * the others learn it. */
static void host_member_gone(struct net_conn *c, uint16_t reason)
{
	if (!c->incoming || !c->s)
		return;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_MEMBER_LEAVE };
	m.u.mleave.peer_id = c->peer_id;
	m.u.mleave.reason = reason;
	host_broadcast(c->nm, c->s, c, &m);
}

/* What the session layer may ask about the sessions this daemon hosts. */
static void *hop_session(void *u, const uint8_t id[PROTO_SESS_ID_LEN])
{
	struct net_mod *nm = u;
	char idhex[SESS_ID_LEN + 1];
	th_hex_encode(id, SESS_ID_LEN / 2, idhex);
	struct sess_session *s = sess_find(sess_module_registry(nm->sess), idhex);
	if (!s || s->role != SESS_ROLE_HOST || strcmp(s->id, idhex) || !s->log)
		return NULL;
	return s;
}

static int hop_member(void *u, void *sess, const uint8_t key[32], uint8_t *role, bool *kicked, uint32_t *peer_id)
{
	(void)u;
	struct sess_member *mb = sess_member_find(sess, key);
	if (!mb)
		return 0;
	*role = mb->role;
	*kicked = mb->kicked;
	*peer_id = mb->peer_id;
	return 1;
}

static bool hop_nonce_used(void *u, void *sess, const uint8_t nonce[16])
{
	(void)u;
	return sess_nonce_used(sess, nonce);
}

static unsigned hop_peers(void *u, void *sess, const uint8_t key[32])
{
	struct net_mod *nm = u;
	unsigned n = 0;
	for (struct net_conn *c = nm->conns; c; c = c->next)
		n += c->incoming && c->s == sess && c->st == NC_ACTIVE && memcmp(c->key, key, 32) != 0;
	return n;
}

static int hop_admit(void *u, void *sess, const uint8_t key[32], uint8_t role, const uint8_t *nonce, uint32_t *peer_id)
{
	(void)u;
	struct sess_session *s = sess;
	struct sess_member *mb;
	int r = sess_member_add(s, key, role, &mb);
	if (r == 0 && nonce)
		r = sess_nonce_mark(s, nonce);
	if (r == 0)
		r = sess_members_save(s);
	if (r < 0) {
		char fpr[TH_KEY_FPR_LEN];
		th_err("session %s: cannot record member %s: %s", s->id, key_fpr(key, fpr), th_strerror(r));
		return r;
	}
	*peer_id = mb->peer_id;
	return 0;
}

static const char *hop_name(void *u, void *sess)
{
	(void)u;
	return ((struct sess_session *)sess)->name;
}

/* An ended session refuses everyone; an invite the host revoked (invite
 * revoke) refuses a daemon that is not a member yet. Invites the host has
 * no record of (issued before it kept them) are judged by their token. */
static uint64_t hop_refusal(void *u, void *sess, bool known, const struct proto_invite_token *tok)
{
	(void)u;
	struct sess_session *s = sess;
	if (s->ended)
		return PROTO_SESS_ERR_HOST_ENDED;
	const struct sess_invite *inv = known ? NULL : sess_invite_find(s, tok->nonce);
	return inv && inv->revoked ? PROTO_SESS_ERR_TOKEN_REVOKED : 0;
}

static void hop_invite_used(void *u, void *sess, const struct proto_invite_token *tok)
{
	(void)u;
	struct sess_session *s = sess;
	struct sess_invite *inv = sess_invite_find(s, tok->nonce);
	if (!inv)
		return;
	inv->uses++;
	int r = sess_invites_save(s);
	if (r < 0)
		th_warn("session %s: cannot store the invite list: %s", s->id, th_strerror(r));
}

static const struct net_sl_host_ops host_ops = {
	.session = hop_session, .member = hop_member, .nonce_used = hop_nonce_used,
	.peers = hop_peers, .admit = hop_admit, .name = hop_name,
	.refusal = hop_refusal, .invite_used = hop_invite_used,
};

/* The session layer admitted member c: everyone learns about everyone. */
static void host_on_admitted(struct net_conn *c, uint64_t now)
{
	struct net_mod *nm = c->nm;
	struct sess_session *s = c->sl->sess;
	/* A member reconnecting before we noticed it was gone: the new
	 * connection replaces the old. */
	struct net_conn *old = host_conn_of(nm, s, c->sl->key);
	if (old && old != c && old->sl) {
		net_sl_close(old->sl, PROTO_SESS_ERR_LEFT, "replaced by a new connection");
		net_conn_run(old); /* EV_GONE (the others hear it), then the close */
	} else if (old && old != c) {
		net_conn_close(old, PROTO_SESS_ERR_LEFT, "replaced by a new connection", now);
	}
	c->s = s;
	c->role = c->sl->role;
	c->peer_id = c->sl->peer_id;
	memcpy(c->key, c->sl->key, sizeof(c->key));
	c->caps = c->sl->caps;
	c->st = NC_ACTIVE;
	struct net_hosted *hs = net_hosted_of(nm, s, true);
	if (hs)
		net_pose_owners_prove(&hs->owners, c->key, c->peer_id);
	struct proto_sess_msg mj = { .type = PROTO_SESS_T_MEMBER_JOIN };
	mj.u.join.peer_id = c->peer_id;
	memcpy(mj.u.join.key, c->key, PROTO_SESS_KEY_LEN);
	mj.u.join.role = c->role;
	host_broadcast(nm, s, c, &mj);
	for (struct net_conn *o = nm->conns; o; o = o->next) {
		if (o == c || !o->incoming || o->s != s || o->st != NC_ACTIVE)
			continue;
		struct proto_sess_msg x = { .type = PROTO_SESS_T_MEMBER_JOIN };
		x.u.join.peer_id = o->peer_id;
		memcpy(x.u.join.key, o->key, PROTO_SESS_KEY_LEN);
		x.u.join.role = o->role;
		net_conn_send_msg(c, NET_ST_CONTROL, &x);
	}
	(*nm->m_joins)++;
	char fpr[TH_KEY_FPR_LEN];
	th_notice("session %s (%s): peer %u %s from %s joined as %s", s->id, s->name, c->peer_id, key_fpr(c->key, fpr),
		  c->addr, th_role_name(c->role));
	net_assets_conn_active(c, now);
	net_voice_conn_active(c);
	net_pres_conn_active(c);
}

void net_host_end(struct net_mod *nm, struct sess_session *s, uint64_t code)
{
	uint64_t now = nm->now = th_now_ns();
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c->incoming && c->s == s && c->st != NC_CLOSED)
			net_conn_close(c, code, NULL, now);
	hosted_drop(nm, s);
	net_voice_session_gone(nm, s);
	net_pres_session_gone(nm, s);
}

static void host_kick(struct net_mod *nm, struct sess_session *s, struct sess_member *mb, uint64_t now)
{
	mb->kicked = true;
	sess_members_save(s);
	struct net_conn *c = host_conn_of(nm, s, mb->key);
	if (c && c->sl) {
		nm->now = now;
		net_sl_kick(c->sl); /* KICK, EV_GONE, then the close with KICKED */
		net_conn_run(c);
	}
}

void net_host_kick(struct net_mod *nm, struct sess_session *s, struct sess_member *mb)
{
	host_kick(nm, s, mb, nm->now = th_now_ns());
}

int net_host_set_role(struct net_mod *nm, struct sess_session *s, struct sess_member *mb, uint8_t role)
{
	mb->role = role;
	mb->kicked = false;
	int r = sess_members_save(s);
	if (r < 0)
		return r;
	net_host_role_changed(nm, s, mb);
	return 0;
}

/* An ADMIN_REQ from member c: only an admin may; applied exactly as the
 * host's own thetactl kick / role. */
static void host_on_admin_req(struct net_conn *c, const struct proto_sess_admin_req *a)
{
	struct net_mod *nm = c->nm;
	struct sess_session *s = c->s;
	struct proto_sess_msg res = { .type = PROTO_SESS_T_ADMIN_RESULT };
	res.u.ares.req_id = a->req_id;
	res.u.ares.peer_id = a->peer_id;
	struct sess_member *mb = NULL;
	for (unsigned k = 0; k < s->n_members && !mb; k++)
		if (s->members[k].peer_id == a->peer_id)
			mb = &s->members[k];
	if (c->role != PROTO_SESS_ROLE_ADMIN) {
		res.u.ares.code = PROTO_SESS_ERR_NOT_AUTHORIZED & 0xffff;
		(*nm->m_admin_refused)++;
		char fpr[TH_KEY_FPR_LEN];
		if (a->op == PROTO_SESS_ADMIN_KICK || a->op == PROTO_SESS_ADMIN_ROLE || a->peer_id)
			th_notice("session %s: peer %u (%s) may not %s peer %u", s->id, c->peer_id, th_role_name(c->role),
				  a->op == PROTO_SESS_ADMIN_KICK   ? "kick"
				  : a->op == PROTO_SESS_ADMIN_ROLE ? "change the role of"
								   : "mute or unmute the speakers of",
				  a->peer_id);
		else /* a mute of one speaker names its key, peer_id 0 */
			th_notice("session %s: peer %u (%s) may not mute or unmute speaker %s", s->id, c->peer_id,
				  th_role_name(c->role), key_fpr(a->speaker, fpr));
		net_conn_send_msg(c, NET_ST_CONTROL, &res);
		return;
	}
	if (a->op == PROTO_SESS_ADMIN_MUTE || a->op == PROTO_SESS_ADMIN_UNMUTE) {
		net_voice_admin_req(c, a, &res, mb != NULL);
		return;
	}
	if (!mb) {
		res.u.ares.code = PROTO_SESS_ERR_NO_PEER & 0xffff;
		(*nm->m_admin_refused)++;
		net_conn_send_msg(c, NET_ST_CONTROL, &res);
		return;
	}
	if (a->op == PROTO_SESS_ADMIN_KICK) {
		/* Answer first: an admin may kick itself. */
		net_conn_send_msg(c, NET_ST_CONTROL, &res);
		host_kick(nm, s, mb, nm->now);
		(*nm->m_admin_applied)++;
		th_notice("session %s: peer %u kicked by admin peer %u", s->id, mb->peer_id, c->peer_id);
		return;
	}
	int r = net_host_set_role(nm, s, mb, a->role);
	if (r < 0) {
		th_err("session %s: cannot store the member table: %s", s->id, th_strerror(r));
		res.u.ares.code = PROTO_SESS_ERR_FULL & 0xffff;
	} else {
		res.u.ares.role = mb->role;
		(*nm->m_admin_applied)++;
		th_notice("session %s: peer %u is now %s (admin peer %u)", s->id, mb->peer_id, th_role_name(mb->role),
			  c->peer_id);
	}
	net_conn_send_msg(c, NET_ST_CONTROL, &res);
}

void net_link_on_rejected(struct net_mod *nm, struct sess_session *s, uint32_t source, const struct th_logrec_entry *e,
			  int reason)
{
	if (!e || s->role != SESS_ROLE_HOST || reason == CLOG_R_REPLAY || source <= SESS_SOURCE_PEER_BASE)
		return;
	uint32_t peer = source - SESS_SOURCE_PEER_BASE;
	struct net_conn *c;
	for (c = nm->conns; c; c = c->next)
		if (c->incoming && c->s == s && c->st == NC_ACTIVE && c->peer_id == peer)
			break;
	if (!c)
		return;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_REJECTED };
	memcpy(m.u.rej.author, e->author, PROTO_SESS_KEY_LEN);
	m.u.rej.seq = e->seq;
	m.u.rej.lamport = e->lamport;
	m.u.rej.reason = (uint16_t)sess_reject_code(reason);
	sess_reject_text(reason, e->type, clog_reject_detail(s->log), m.u.rej.text, sizeof(m.u.rej.text));
	for (char *t = m.u.rej.text; *t; t++)
		if (*t < 0x20 || *t > 0x7e)
			*t = '?';
	net_conn_send_msg(c, NET_ST_CONTROL, &m);
	(*nm->m_rejects_fwd)++;
}

void net_host_role_changed(struct net_mod *nm, struct sess_session *s, struct sess_member *mb)
{
	struct net_conn *c = host_conn_of(nm, s, mb->key);
	if (c) {
		c->role = mb->role;
		net_pres_role(c);
	}
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ROLE };
	m.u.role.peer_id = mb->peer_id;
	m.u.role.role = mb->role;
	host_broadcast(nm, s, NULL, &m);
}

/* ---- the session layer's actions -------------------------------------------------- */

static void on_sync(struct net_conn *c, const struct proto_sess_sync *v, uint64_t now);
static void send_sync(struct net_conn *c);

_Static_assert(NET_SL_ACC_MAX_ENTRIES <= CLOG_REMOTE_BATCH_MAX, "a group the session layer hands over fits one call");

/* Entries the session layer handed over (whole signature groups). 0, or
 * -EAGAIN: the log cannot take them now, -EINPROGRESS: their signatures
 * are being checked on the clog worker (nothing taken; the group waits). */
static int integrate(struct net_conn *c, const uint8_t *recs, size_t len, uint32_t count, uint64_t now)
{
	struct net_mod *nm = c->nm;
	struct th_logrec_entry *es = malloc((count ? count : 1) * sizeof(*es));
	if (!es) {
		th_warn("session %s: entries from %s not taken: out of memory (they come again with the next SYNC)",
			c->s->id, c->addr);
		return 0;
	}
	struct proto_sess_entries all = { .count = 0, .recs = recs, .recs_len = len };
	struct proto_sess_entries_iter it;
	size_t n = 0;
	proto_sess_entries_iter_init(&it, &all);
	while (n < count && proto_sess_entries_next(&it, &es[n]) == 1)
		n++;
	/* The host trusts its members' role; a member trusts the host, which
	 * checked everyone's before relaying. */
	uint8_t role = c->incoming ? c->role : TH_ROLE_ADMIN;
	uint32_t source = SESS_SOURCE_PEER_BASE + (c->incoming ? c->peer_id : 0);
	int r = sess_module_integrate(nm->sess, c->s, source, role, es, n, now);
	free(es);
	if (r == -EAGAIN || r == -EINPROGRESS)
		return r;
	if (r < 0)
		th_warn("session %s: entries from %s not taken: %s", c->s->id, c->addr, th_strerror(r));
	c->entries_in += n;
	*nm->m_entries_in += n;
	return 0;
}

/* A group the log cannot take now (or one behind it) waits in the session
 * layer; on_commands then pauses the commands channel. full: the log's
 * queue was full (backpressure), not a signature check in progress. */
static void entries_wait(struct net_conn *c, const struct net_sl_action *a, bool full)
{
	if (full && !net_sl_entries_waiting(c->sl)) {
		c->waits++;
		(*c->nm->m_backpressure)++;
	}
	if (net_sl_entries_wait(c->sl, a) < 0)
		th_warn("session %s: entries from %s cannot wait for the log; closing", c->s->id, c->addr);
}

static void on_event(struct net_conn *c, const struct net_sl_action *a, uint64_t now)
{
	struct net_mod *nm = c->nm;
	const struct proto_sess_msg *m = &a->msg;
	switch (a->ev) {
	case NET_SL_EV_ADMITTED:
		host_on_admitted(c, now);
		break;
	case NET_SL_EV_REFUSED:
		count_refusal(nm, a->code);
		break;
	case NET_SL_EV_JOINED:
		net_joiner_on_joined(c, &m->u.ack, now);
		break;
	case NET_SL_EV_ENTRIES: {
		int r = net_sl_entries_waiting(c->sl) ? -EAGAIN : integrate(c, a->data, a->len, a->count, now);
		if (r == -EAGAIN || r == -EINPROGRESS)
			entries_wait(c, a, r == -EAGAIN);
		break;
	}
	case NET_SL_EV_SYNC:
		on_sync(c, &m->u.sync, now);
		break;
	case NET_SL_EV_SYNC_DUE:
		send_sync(c);
		break;
	case NET_SL_EV_MEMBER_JOIN:
		net_roster_set(c, m->u.join.peer_id, m->u.join.key, m->u.join.role);
		th_debug("session %s: peer %u is in the session", c->s->id, m->u.join.peer_id);
		break;
	case NET_SL_EV_MEMBER_LEAVE:
		(*nm->m_member_leaves)++;
		net_roster_drop(c, m->u.mleave.peer_id);
		th_debug("session %s: peer %u left the session", c->s->id, m->u.mleave.peer_id);
		break;
	case NET_SL_EV_ROLE:
		if (m->u.role.peer_id == c->peer_id) {
			c->role = m->u.role.role;
			c->s->link.granted_role = m->u.role.role;
			sess_save_conf(c->s);
			th_notice("session %s: the host made this daemon %s", c->s->id, th_role_name(m->u.role.role));
		} else {
			net_roster_set(c, m->u.role.peer_id, NULL, m->u.role.role);
		}
		break;
	case NET_SL_EV_LEFT:
		if (c->incoming)
			th_notice("session %s: peer %u left", c->s->id, c->peer_id);
		else if (c->join) {
			net_join_failed(c->join, PROTO_SESS_ERR_HOST_ENDED, NULL, now);
		}
		break;
	case NET_SL_EV_ADMIN_REQ:
		host_on_admin_req(c, &m->u.areq);
		break;
	case NET_SL_EV_ADMIN_RESULT:
		net_joiner_on_admin_result(c, &m->u.ares);
		break;
	case NET_SL_EV_REJECTED:
		net_joiner_on_rejected(c, &m->u.rej);
		break;
	case NET_SL_EV_VOICE_NAME:
		net_voice_on_name(c, &m->u.vname);
		break;
	case NET_SL_EV_VOICE_MUTE:
		net_voice_on_mute(c, &m->u.vmute);
		break;
	case NET_SL_EV_LOST:
		c->lost = true;
		(*nm->m_peers_lost)++;
		if (c->incoming)
			th_warn("session %s: peer %u (%s) lost: %s", c->s->id, c->peer_id, c->addr, a->text);
		else if (c->join) {
			net_join_failed(c->join, 0, a->text, now);
		}
		break;
	case NET_SL_EV_PROTOCOL:
		(*nm->m_protocol)++;
		th_warn("peer %s broke the session protocol (%s); closing", c->addr, a->text);
		break;
	case NET_SL_EV_GONE: {
		/* Once per member connection, whatever ended it. */
		host_member_gone(c, (uint16_t)(a->code & 0xffff));
		net_pres_conn_gone(c);
		struct net_hosted *h = c->s ? net_hosted_of(nm, c->s, false) : NULL;
		if (h)
			net_pose_owners_release(&h->owners, c->peer_id);
		break;
	}
	}
}

/* Executes what the session layer asked for; after every call into it. */
void net_conn_run(struct net_conn *c)
{
	struct net_mod *nm = c->nm;
	struct net_sl_action a;
	uint64_t now = nm->now;
	bool outer = !c->in_run;
	c->in_run = true;
	while (c->sl && net_sl_poll(c->sl, &a) == 1) {
		switch (a.kind) {
		case NET_SL_A_SEND:
			conn_send(c, (enum net_stream)a.chan, a.data, a.len);
			break;
		case NET_SL_A_DGRAM:
			if (conn_live(c) && net_quic_dgram_send(c->q, a.data, a.len) == 0) {
				net_chan_sent(&c->ch[NET_CH_HEARTBEAT], a.len);
				net_mod_kick(nm);
			}
			break;
		case NET_SL_A_CLOSE:
			net_conn_close(c, a.code, a.text[0] ? a.text : NULL, now);
			break;
		case NET_SL_A_LOG: {
			static const int lv[] = { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING };
			th_log(lv[a.level], "peer %s: %s", c->addr, a.text);
			break;
		}
		case NET_SL_A_EVENT:
			on_event(c, &a, now);
			break;
		}
	}
	if (outer)
		c->in_run = false;
	if (c->sl && c->sl->sync_ignored != c->sync_ignored) {
		*nm->m_sync_ignored += c->sl->sync_ignored - c->sync_ignored;
		c->sync_ignored = c->sl->sync_ignored;
	}
}

static int on_control(void *ud, const uint8_t *p, size_t len, uint64_t now)
{
	struct net_conn *c = ud;
	if (c->st == NC_CLOSED || !c->sl)
		return -ECONNABORTED;
	int r = net_sl_on_msg(c->sl, NET_SL_CONTROL, p, len, now);
	net_conn_run(c);
	return r < 0 || c->st == NC_CLOSED ? -ECONNABORTED : 0;
}

/* ---- commands stream ---------------------------------------------------------- */

/* ---- catch-up (net_catchup.c) ------------------------------------------------- */

static size_t cu_room(void *ud)
{
	struct net_conn *c = ud;
	const struct net_chan *ch = &c->ch[NET_ST_COMMANDS];
	if (!conn_live(c) || !ch->opened || net_chan_pending(ch) || net_snaps_hold(c, c->nm->now))
		return 0; /* (a checkpoint transfer goes first) */
	return net_quic_stream_writable(c->q, ch->def->sid);
}

static int cu_send(void *ud, const uint8_t *p, size_t n)
{
	struct net_conn *c = ud;
	if (!conn_live(c))
		return -ECONNABORTED;
	conn_send(c, NET_ST_COMMANDS, p, n);
	return conn_live(c) ? 0 : -ECONNABORTED;
}

static size_t cu_unacked(void *ud)
{
	struct net_conn *c = ud;
	const struct net_chan *ch = &c->ch[NET_ST_COMMANDS];
	return conn_live(c) ? net_chan_pending(ch) + net_quic_stream_unacked(c->q, ch->def->sid) : 0;
}

static void cu_ready(void *ud)
{
	struct net_conn *c = ud;
	net_mod_kick(c->nm);
}

static const struct net_catchup_ops cu_ops = { .room = cu_room, .send = cu_send, .unacked = cu_unacked };

/* Logs what the engine reports, once each. */
static void catchup_report(struct net_conn *c, uint64_t now)
{
	struct net_mod *nm = c->nm;
	struct sess_session *s = c->s;
	unsigned ev = net_catchup_take_events(c->cu);
	struct net_catchup_stats st;
	net_catchup_get_stats(c->cu, &st);
	if (ev & NET_CU_EV_STARTED)
		(*nm->m_catchup_rounds)++;
	uint8_t key[32];
	uint64_t seq;
	while (net_catchup_take_divergence(c->cu, key, &seq) == 1) {
		char fpr[TH_KEY_FPR_LEN];
		(*nm->m_sync_divergent)++;
		th_warn("session %s: peer %s holds another entry %" PRIu64 " of author %s than we do (the author "
			"signed two different entries with one sequence number); that author's entries are no "
			"longer exchanged with this peer",
			s->id, c->addr, seq, key_fpr(key, fpr));
	}
	if (ev & NET_CU_EV_FAILED)
		th_warn("session %s: catching up peer %s failed at log position %" PRIu64 ": %s", s->id, c->addr,
			st.pos, th_strerror(net_catchup_error(c->cu)));
	if (ev & NET_CU_EV_DONE)
		srv_hist_observe_ns(nm->h_catchup, now - st.started_ns);
	if (ev & NET_CU_EV_DONE)
		th_info("session %s: sent %" PRIu64 " entries to %s to catch up (positions %" PRIu64 "..%" PRIu64
			", %.2f s)",
			s->id, st.round_entries, c->addr, st.start_pos, st.pos, (double)(now - st.started_ns) / 1e9);
}

static void catchup_pump(struct net_conn *c, uint64_t now)
{
	if (!c->cu)
		return;
	uint64_t before = 0;
	struct net_catchup_stats st;
	net_catchup_get_stats(c->cu, &st);
	before = st.entries;
	int r = net_catchup_pump(c->cu, now);
	net_catchup_get_stats(c->cu, &st);
	c->entries_out += st.entries - before;
	*c->nm->m_entries_out += st.entries - before;
	*c->nm->m_catchup_entries += st.entries - before;
	catchup_report(c, now);
	if (r == NET_CU_MORE)
		net_mod_kick(c->nm);
}

/* The peer says what it holds: a catch-up round streams what it lacks from
 * the log position where that starts (or the running round takes the
 * newer vector). */
static void on_sync(struct net_conn *c, const struct proto_sess_sync *v, uint64_t now)
{
	struct sess_session *s = c->s;
	if (s->log && !c->cu && net_catchup_create(s->log, &cu_ops, cu_ready, c, &c->cu) < 0)
		th_warn("session %s: cannot catch up peer %s: out of memory", s->id, c->addr);
	if (c->cu) {
		int r = net_catchup_on_sync(c->cu, v, now);
		if (r < 0)
			th_warn("session %s: cannot catch up peer %s: %s", s->id, c->addr, th_strerror(r));
		catchup_pump(c, now);
	}
	/* The host asks back, so that the member pushes what it made while
	 * apart. The sessions module hears what the peer holds: a local edit
	 * held while a cut range is repaired may go once the peers have
	 * nothing more of its author. */
	if (c->incoming)
		send_sync(c);
	sess_module_peer_synced(c->nm->sess, s, c->incoming ? c->peer_id : 0, v, now);
}

static int on_commands(void *ud, const uint8_t *p, size_t len, uint64_t now)
{
	struct net_conn *c = ud;
	if (c->st != NC_ACTIVE || !c->sl)
		return -ECONNABORTED;
	int r = net_sl_on_msg(c->sl, NET_SL_COMMANDS, p, len, now);
	net_conn_run(c);
	if (r < 0 || c->st == NC_CLOSED)
		return -ECONNABORTED;
	/* Entries wait for the log: the channel holds what follows. */
	return c->sl && net_sl_entries_waiting(c->sl) ? -EAGAIN : 0;
}

/* ---- backpressure: entries that wait for the log --------------------------------- */

_Static_assert(NET_QUIC_STREAM_WINDOW <= NET_CHAN_HOLD_MAX, "a paused channel holds a whole receive window");

void net_link_on_log_room(struct net_mod *nm, struct sess_session *s)
{
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c->s == s && c->sl && net_sl_entries_waiting(c->sl)) {
			c->log_room = true;
			net_mod_kick(nm);
		}
}

/* The log made room: the waiting groups go in again, in order; when all
 * are taken the commands channel delivers what it held, at most
 * NET_RESUME_BYTES_PER_PASS a service pass (so one wake-up of the loop
 * integrates about one group, not a whole window), and the QUIC window
 * opens by what left the hold. */
static void entries_retry(struct net_conn *c, uint64_t now)
{
	c->log_room = false;
	if (!c->sl || !conn_live(c))
		return;
	if (net_sl_entries_waiting(c->sl)) {
		net_sl_entries_retry(c->sl);
		net_conn_run(c);
		if (!c->sl || net_sl_entries_waiting(c->sl) || !conn_live(c))
			return;
	}
	struct net_chan *ch = &c->ch[NET_ST_COMMANDS];
	if (!net_chan_paused(ch) && !net_chan_held(ch))
		return;
	size_t taken = 0;
	int r = net_chan_resume(ch, NET_RESUME_BYTES_PER_PASS, c->incoming, c, now, &taken);
	if (taken && conn_live(c)) {
		net_quic_stream_consumed(c->q, ch->def->sid, taken);
		net_mod_kick(c->nm);
	}
	if (r == -EMSGSIZE)
		protocol_error(c, "frame too large", now);
	else if (r == 0 && conn_live(c) && net_chan_held(ch) && !net_chan_paused(ch)) {
		c->log_room = true; /* more held and the log takes it: the next pass goes on */
		net_mod_kick(c->nm);
	}
}

static int on_assets(void *ud, const uint8_t *p, size_t len, uint64_t now)
{
	struct net_conn *c = ud;
	if (c->st != NC_ACTIVE)
		return -ECONNABORTED;
	int r = net_assets_on_msg(c, p, len, now);
	if (r == -EBADMSG || r == -EPROTO) {
		protocol_error(c, r == -EBADMSG ? "malformed assets message" : "assets protocol violation", now);
		return -EPROTO;
	}
	return 0;
}

/* ---- relaying durable entries -------------------------------------------------- */

/* Ends the ENTRIES message being built for c and queues it. */
static void relay_emit(struct net_conn *c)
{
	int r = proto_sess_entries_end(&c->ob);
	if (r == 0)
		conn_send(c, NET_ST_COMMANDS, c->out.data, c->out.len);
	th_wbuf_reset(&c->out);
	c->ob_open = false;
	if (r < 0)
		conn_send_failed(c, r);
}

static void relay_add(struct net_conn *c, const struct th_logrec_entry *e)
{
	if (c->ob_open && proto_sess_entries_size(&c->ob) >= NET_RELAY_SPLIT_BYTES) {
		c->out.data[c->ob.start + PROTO_SESS_FRAME_HDR + 2] |= PROTO_SESS_ENTRIES_F_MORE;
		relay_emit(c);
	}
	int r = 0;
	if (!c->ob_open) {
		r = proto_sess_entries_begin(&c->ob, &c->out, 0);
		c->ob_open = r == 0;
	}
	if (r == 0)
		r = proto_sess_entries_add(&c->ob, e);
	if (r < 0) {
		th_wbuf_reset(&c->out);
		c->ob_open = false;
		conn_send_failed(c, r);
		return;
	}
	c->entries_out++;
	(*c->nm->m_entries_out)++;
}

/* Watches the sessions whose recovery cut records (net_repair): a peer's
 * catch-up sends them back, since our SYNC heads are behind. */
static void repair_watch_all(struct net_mod *nm)
{
	struct sess_registry *reg = sess_module_registry(nm->sess);
	for (unsigned i = 0; i < reg->n; i++) {
		struct sess_session *s = reg->s[i];
		if (!s->log || nm->n_repairs == NET_REPAIR_MAX)
			continue;
		struct net_repair_slot *sl = &nm->repairs[nm->n_repairs];
		if (net_repair_init(&sl->r, &s->recovery, s->log, nm->now) == 1) {
			sl->s = s;
			nm->n_repairs++;
		}
	}
}

static void repair_note(struct net_mod *nm, struct sess_session *s, const struct clog_event *ev)
{
	for (unsigned i = 0; i < nm->n_repairs; i++) {
		struct net_repair_slot *sl = &nm->repairs[i];
		if (sl->s != s || net_repair_note(&sl->r, ev->entry->author, ev->entry->seq) != 1)
			continue;
		(*nm->m_cut_repaired)++;
		/* Records it could not name are counted back by the log's size:
		 * as many entries as before the cut, or not yet. */
		uint64_t count = clog_count(s->log), before = sl->r.cut_pos + sl->r.records;
		char un[200] = "";
		if (sl->r.unwatched && count >= before)
			snprintf(un, sizeof(un), "; %u of them could not be named, and the log holds %" PRIu64
				 " entries again, as before the cut", sl->r.unwatched, count);
		else if (sl->r.unwatched)
			snprintf(un, sizeof(un), "; %u of them could not be named and may still be missing (%" PRIu64
				 " entries, %" PRIu64 " before the cut)", sl->r.unwatched, count, before);
		th_notice("session %s: the %u records recovery cut at position %" PRIu64 " were repaired from a peer "
			  "in %.1f s: the chains of the authors named in the cut hold them again%s",
			  s->id, sl->r.records, sl->r.cut_pos, (double)(nm->now - sl->r.started_ns) / 1e9, un);
		nm->repairs[i] = nm->repairs[--nm->n_repairs];
		return;
	}
}

void net_link_on_durable(struct net_mod *nm, struct sess_session *s, const struct clog_event *ev)
{
	nm->now = th_now_ns();
	if (nm->n_repairs && ev->remote)
		repair_note(nm, s, ev);
	if (s->role == SESS_ROLE_HOST) {
		struct net_hosted *h = net_hosted_of(nm, s, true);
		if (h)
			net_pose_owners_prove(&h->owners, ev->entry->author,
					      ev->source > SESS_SOURCE_PEER_BASE ? ev->source - SESS_SOURCE_PEER_BASE
										 : NET_POSE_OWNER_LOCAL);
	}
	if (s->role == SESS_ROLE_MEMBER) {
		/* Our own entries go to the host; the host's come from it. */
		struct net_join *j = net_join_of(nm, s);
		if (!ev->remote && j && j->conn && j->conn->st == NC_ACTIVE && !net_catchup_active(j->conn->cu))
			relay_add(j->conn, ev->entry);
		return;
	}
	/* A peer being caught up gets it from the catch-up's cursor. */
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c->incoming && c->s == s && c->st == NC_ACTIVE && ev->source != SESS_SOURCE_PEER_BASE + c->peer_id &&
		    !net_catchup_active(c->cu))
			relay_add(c, ev->entry);
}

void net_link_on_flushed(struct net_mod *nm, struct sess_session *s)
{
	nm->now = th_now_ns();
	/* One group commit: every author's signature is in it, so the
	 * message closes a group. */
	for (struct net_conn *c = nm->conns; c; c = c->next) {
		if (c->s == s && c->ob_open)
			relay_emit(c);
	}
}

static int on_heartbeat_dgram(void *ud, const uint8_t *data, size_t len, uint64_t now)
{
	struct net_conn *c = ud;
	if (!c->sl)
		return 0;
	uint64_t samples = c->sl->hb.samples;
	net_sl_on_dgram(c->sl, data, len, now);
	if (c->sl->hb.samples != samples) /* a pong: one more RTT measured */
		srv_hist_observe_ns(c->nm->h_rtt, c->sl->hb.last_rtt_ns);
	net_conn_run(c);
	return 0;
}

/* ---- channels ----------------------------------------------------------------------- */

/* The built-in channels, registered first in enum net_stream's order. A new
 * kind of traffic registers its own net_chan_def after these
 * (net_chans_register on nm->chans before the endpoint starts). */
static const struct net_chan_def builtin_chans[NET_CH_BUILTIN] = {
	[NET_ST_CONTROL] = { .name = "control", .type = NET_CHAN_STREAM, .sid = 0, .before_session = true,
			     .on_msg = on_control },
	[NET_ST_COMMANDS] = { .name = "commands", .type = NET_CHAN_STREAM, .sid = 4, .on_msg = on_commands },
	[NET_ST_ASSETS] = { .name = "assets", .type = NET_CHAN_STREAM, .sid = 8, .on_msg = on_assets },
	[NET_CH_HEARTBEAT] = { .name = "heartbeat", .type = NET_CHAN_DGRAM,
			       .dgram_kind = { PROTO_SESS_DG_PING, PROTO_SESS_DG_PONG },
			       .lim = { .max_msg = NET_SMALL_DGRAM_MAX }, .on_msg = on_heartbeat_dgram },
};

/* Metric names live as long as the process (the registry keeps pointers). */
static char chan_metric_name[NET_CHAN_MAX][NET_CHAN_NSTAT][48];

int net_link_start(struct net_mod *nm)
{
	nm->chans = (struct net_chans){ 0 };
	for (unsigned i = 0; i < NET_CH_BUILTIN; i++) {
		int r = net_chans_register(&nm->chans, &builtin_chans[i]);
		if (r < 0)
			return r;
	}
	int rs = net_snaps_register(nm);
	if (rs < 0 || (rs = net_voice_register(nm)) < 0 || (rs = net_pres_register(nm)) < 0)
		return rs;
	struct srv_metrics *mx = srv_daemon_metrics(nm->d);
	for (unsigned i = 0; i < nm->chans.n; i++)
		for (int k = 0; k < NET_CHAN_NSTAT; k++) {
			snprintf(chan_metric_name[i][k], sizeof(chan_metric_name[i][k]), "net_chan_%s_%s",
				 nm->chans.def[i]->name, net_chan_stat_name[k]);
			nm->chans.total[i][k] = srv_counter(mx, chan_metric_name[i][k], "per-channel counter (docs/network.md)");
		}
	nm->now = th_now_ns();
	repair_watch_all(nm);
	return 0;
}

/* ---- QUIC callbacks -------------------------------------------------------------- */

static void cb_handshake_done(struct net_quic *q, uint64_t now, void *ud)
{
	struct net_conn *c = ud;
	if (!c)
		return;
	c->nm->now = now;
	uint8_t binding[NET_QUIC_CHANNEL_BINDING_LEN];
	_Static_assert(NET_QUIC_CHANNEL_BINDING_LEN == PROTO_SESS_BINDING_LEN, "one channel binding");
	if (!c->sl || net_quic_channel_binding(q, binding) < 0 || (!c->incoming && net_conn_open(c, NET_ST_CONTROL) < 0)) {
		net_conn_close(c, PROTO_SESS_ERR_PROTOCOL, "no channel binding", now);
		return;
	}
	c->st = NC_HELLO;
	net_sl_on_handshake(c->sl, binding, now);
	net_conn_run(c);
}

static void cb_stream_open(struct net_quic *q, int64_t sid, uint64_t now, void *ud)
{
	struct net_conn *c = ud;
	if (!c)
		return;
	c->nm->now = now;
	int i = net_chans_by_sid(&c->nm->chans, sid);
	if (!c->incoming || i < 0 || (unsigned)i >= c->n_ch) {
		net_quic_stream_reset(q, sid, PROTO_SESS_ERR_PROTOCOL);
		return;
	}
	c->ch[i].opened = true;
	conn_push(c);
}

static void cb_stream_data(struct net_quic *q, int64_t sid, const uint8_t *data, size_t len, bool fin, uint64_t now,
			   void *ud)
{
	struct net_conn *c = ud;
	if (!c || c->st == NC_CLOSED)
		return;
	c->nm->now = now;
	int i = net_chans_by_sid(&c->nm->chans, sid);
	if (i < 0 || (unsigned)i >= c->n_ch)
		return;
	struct net_chan *ch = &c->ch[i];
	if (c->incoming && !ch->opened) {
		ch->opened = true;
		conn_push(c);
	}
	/* Until the handshake is through, only the control stream counts. */
	if (!ch->def->before_session && c->st != NC_ACTIVE) {
		protocol_error(c, "data before the session handshake", now);
		return;
	}
	if (c->sl)
		net_sl_on_rx(c->sl, now);
	size_t held = net_chan_held(ch);
	int r = net_chan_feed_stream(ch, data, len, c->incoming, c, now);
	/* What the channel holds is not consumed: it stays charged to the
	 * stream's window, so the sender stops when the window is used up. */
	if (net_chan_held(ch) > held)
		net_quic_stream_hold(q, sid, net_chan_held(ch) - held);
	if (r == -EMSGSIZE)
		protocol_error(c, "frame too large", now);
	else if (r == -ENOBUFS)
		protocol_error(c, "data past the flow-control window", now);
}

static void cb_stream_close(struct net_quic *q, int64_t sid, uint64_t app_code, uint64_t now, void *ud)
{
}

static void cb_datagram(struct net_quic *q, const uint8_t *data, size_t len, uint64_t now, void *ud)
{
	struct net_conn *c = ud;
	if (!c || c->st != NC_ACTIVE)
		return;
	c->nm->now = now;
	if (c->sl)
		net_sl_on_rx(c->sl, now);
	int i = len ? net_chans_by_dgram(&c->nm->chans, data[0]) : -ENOENT;
	if (i < 0 || (unsigned)i >= c->n_ch)
		return; /* a kind nobody registered: unreliable, so drop */
	net_chan_feed_dgram(&c->ch[i], data, len, c->incoming, c, now);
}

static void cb_ended(struct net_quic *q, const struct net_quic_end_info *info, uint64_t now, void *ud)
{
	struct net_conn *c = ud;
	if (!c)
		return;
	c->nm->now = now;
	uint64_t code = c->end_code;
	char desc[200];
	net_quic_end_describe(info, desc, sizeof(desc));
	switch (info->kind) {
	case NET_QUIC_END_REMOTE_APP:
	case NET_QUIC_END_LOCAL_APP:
		code = info->code;
		break;
	case NET_QUIC_END_FINGERPRINT:
		code = PROTO_SESS_ERR_WRONG_FINGERPRINT;
		break;
	case NET_QUIC_END_HANDSHAKE_TIMEOUT:
		code = PROTO_SESS_ERR_HANDSHAKE_TIMEOUT;
		break;
	default:
		break;
	}
	c->end_code = code;
	if (c->incoming) {
		if (c->st == NC_ACTIVE && c->s)
			th_notice("session %s: peer %u (%s) disconnected: %s", c->s->id, c->peer_id, c->addr, desc);
	} else if (c->join && c->join->conn == c) {
		net_join_failed(c->join, info->kind == NET_QUIC_END_REMOTE_APP || info->kind == NET_QUIC_END_FINGERPRINT ? code : 0,
			    desc, now);
	}
	if (c->sl) {
		/* A member still in the session: EV_GONE (once; a close the
		 * session layer made told it already). Nothing more after. */
		net_sl_on_ended(c->sl, code);
		if (!c->in_run)
			net_conn_run(c);
	}
	c->st = NC_CLOSED;
}

static void cb_conn_new(struct net_server *srv, struct net_quic *q, uint64_t now, void *ud)
{
	struct net_mod *nm = ud;
	nm->now = now;
	struct net_conn *c = net_conn_new(nm, true, now);
	net_quic_set_user(q, c);
	if (!c) {
		net_quic_close(q, PROTO_SESS_ERR_FULL, NULL, now);
		return;
	}
	c->q = q;
	socklen_t rl;
	const struct sockaddr *ra = net_quic_remote(q, &rl);
	net_udp_addr_str(ra, c->addr, sizeof(c->addr));
	struct net_sl_config cfg = {
		.side = NET_SL_HOST, .pk = nm->host_key->pk, .sk = nm->host_key->sk,
		.schema_hash = proto_sess_handshake_hash(),
		.caps = NET_OUR_CAPS, .lost_after_ns = nm->lost_after_ns, .wall_offset_ns = wall_offset(nm),
		.max_peers = nm->max_peers, .host = &host_ops, .host_user = nm,
	};
	if (net_sl_create(&cfg, now, &c->sl) < 0)
		net_conn_close(c, PROTO_SESS_ERR_FULL, "out of memory", now);
}

static void cb_conn_gone(struct net_server *srv, struct net_quic *q, uint64_t now, void *ud)
{
	struct net_conn *c = ud;
	if (!c)
		return;
	struct net_mod *nm = c->nm;
	nm->now = now;
	if (c->join && c->join->conn == c)
		net_join_failed(c->join, c->end_code, "connection closed", now);
	c->q = NULL;
	net_conn_unlink(nm, c);
	net_conn_free(c);
}

const struct net_server_callbacks net_link_server_cb = {
	.quic = {
		.handshake_done = cb_handshake_done,
		.stream_open = cb_stream_open,
		.stream_data = cb_stream_data,
		.stream_close = cb_stream_close,
		.datagram = cb_datagram,
		.ended = cb_ended,
	},
	.conn_new = cb_conn_new,
	.conn_gone = cb_conn_gone,
};

/* ---- timers ------------------------------------------------------------------------ */

void net_link_service(struct net_mod *nm, uint64_t now)
{
	nm->now = now;
	nm->wall_off_ns = th_wall_ns() - now;
	for (struct net_conn *c = nm->conns; c; c = c->next) {
		if (!conn_live(c))
			continue;
		conn_push(c);
		if (c->sl && net_sl_next_expiry(c->sl) <= now) {
			net_sl_on_timer(c->sl, now);
			net_conn_run(c);
		}
		if (c->st != NC_ACTIVE || !conn_live(c))
			continue;
		if (c->log_room)
			entries_retry(c, now);
		if (!conn_live(c))
			continue;
		net_snaps_service(c, now);
		catchup_pump(c, now);
		net_assets_service(c, now);
	}
	net_pres_service(nm, now);
	for (unsigned i = 0; i < nm->n_joins; i++) {
		struct net_join *j = nm->joins[i];
		switch (j->st) {
		case NJ_WAIT:
			if (now >= j->bo.next_ns)
				net_join_attempt(nm, j, now);
			break;
		case NJ_CONNECTING:
			if (now - j->last_attempt_ns >= net_join_attempt_limit(j)) {
				struct net_conn *c = j->conn;
				net_join_failed(j, 0, "the host did not answer", now);
				if (c)
					net_conn_close(c, PROTO_SESS_ERR_HANDSHAKE_TIMEOUT, NULL, now);
			}
			break;
		default:
			break;
		}
	}
}

uint64_t net_link_next(struct net_mod *nm)
{
	uint64_t t = net_pres_next(nm), x;
	for (struct net_conn *c = nm->conns; c; c = c->next) {
		if (!conn_live(c) || !c->sl)
			continue;
		if ((x = net_sl_next_expiry(c->sl)) < t)
			t = x;
		if (c->st == NC_ACTIVE && (x = net_assets_next(c, nm->now)) < t)
			t = x;
		if (c->st == NC_ACTIVE && (x = net_snaps_next(c)) < t)
			t = x;
	}
	for (unsigned i = 0; i < nm->n_joins; i++) {
		struct net_join *j = nm->joins[i];
		x = j->st == NJ_WAIT ? j->bo.next_ns
		    : j->st == NJ_CONNECTING ? j->last_attempt_ns + net_join_attempt_limit(j)
		    : UINT64_MAX;
		if (x < t)
			t = x;
	}
	return t;
}
