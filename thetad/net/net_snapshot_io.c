/* Verified late join in the net module (docs/network.md "Late join"): the
 * snapshot channel (a stream registered after the built-in ones), one
 * net_snap state machine per connection (net_snapshot.h) and what its
 * actions mean here:
 *
 *   host    a member's SNAP_REQUEST is answered from the session's newest
 *           checkpoint (sess_scene_join_latest), signed with this daemon's
 *           identity key; chunks go out while the stream has room, and the
 *           member's log catch-up waits while they do (net_snaps_hold), at
 *           most NET_SNAP_HOLD_NS, so the checkpoint gets the path first;
 *   member  on the host's ACK it asks (unless THETAD_JOIN_SNAPSHOT=0); the
 *           verified bytes go to sess_scene_join_install (unpack, world hash
 *           and set digest against the signed ones, install); whatever is
 *           refused leaves the catch-up, which runs beside it, to bring the
 *           scene. Per member session it keeps the host's count and what
 *           became of the checkpoint, for `sessions` ("syncing 43%").
 *
 * Counters: net_snap_offered, net_snap_sent, net_snap_bytes_out (host);
 * net_snap_installed, net_snap_refused, net_snap_declined, net_snap_bytes_in
 * (member). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"
#include "net/net_snapshot.h"
#include "sess/module.h"
#include "sess/scene_join.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_log.h"
#include "th_time.h"

#define NET_SNAP_SID          12   /* the fourth client-initiated bidirectional stream */
#define NET_SNAP_RATE_PER_S   10u  /* snapshot messages a host takes from one member a second */
#define NET_SNAP_BURST        20u
#define NET_SNAP_SENDS_MAX    4u   /* checkpoint copies a host holds for transfers at once */
#define NET_SNAP_HOLD_NS      (5ull * 1000 * 1000 * 1000) /* the longest a catch-up waits for a transfer */

/* A member session's late join, kept across its connections. */
struct net_snap_sess {
	struct sess_session *s; /* compared only; cleared when the session goes */
	uint64_t host_count;    /* the host's log count from its last offer */
	enum net_snap_state st; /* what became of the last checkpoint */
	char why[NET_SNAP_TEXT_MAX];
	uint64_t ckpt_pos;      /* installed: the checkpoint's position */
	uint64_t started_ns, installed_ns, ready_ns;
};

struct net_snaps {
	bool enabled; /* members ask for checkpoints */
	int chan;     /* the snapshot channel's index in nm->chans */
	unsigned sends;
	struct net_snap_sess sess[NET_MAX_JOINS];
	struct th_wbuf tmp;    /* a checkpoint being offered (the machine copies it) */
	char test_corrupt[16]; /* THETAD_TEST_SNAP_CORRUPT: "sig" or "world": the host offers a bad one */
	uint64_t *m_offered, *m_sent, *m_bytes_out, *m_installed, *m_refused, *m_declined, *m_bytes_in;
};

static int on_snapshot(void *ud, const uint8_t *p, size_t len, uint64_t now);

static const struct net_chan_def snap_chan = {
	.name = "snapshot", .type = NET_CHAN_STREAM, .sid = NET_SNAP_SID,
	.lim = { .rate_per_s = NET_SNAP_RATE_PER_S, .burst = NET_SNAP_BURST },
	.on_msg = on_snapshot,
};

static struct net_snap_sess *sess_rec(struct net_mod *nm, struct sess_session *s, bool create)
{
	struct net_snaps *ns = nm->snaps;
	struct net_snap_sess *free_slot = NULL;
	for (unsigned i = 0; i < NET_MAX_JOINS; i++) {
		if (ns->sess[i].s == s)
			return &ns->sess[i];
		if (!ns->sess[i].s && !free_slot)
			free_slot = &ns->sess[i];
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->s = s;
	return free_slot;
}

int net_snaps_register(struct net_mod *nm)
{
	struct net_snaps *ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	int r = net_chans_register(&nm->chans, &snap_chan);
	if (r < 0) {
		free(ns);
		return r;
	}
	ns->chan = r;
	th_wbuf_init(&ns->tmp, PROTO_SESS_SNAP_MAX_SIZE);
	const char *e = getenv("THETAD_JOIN_SNAPSHOT");
	ns->enabled = !(e && !strcmp(e, "0"));
	if ((e = getenv("THETAD_TEST_SNAP_CORRUPT")) && *e)
		snprintf(ns->test_corrupt, sizeof(ns->test_corrupt), "%s", e);
	struct srv_metrics *mx = srv_daemon_metrics(nm->d);
	ns->m_offered = srv_counter(mx, "net_snap_offered", "signed checkpoints offered to joining members (host)");
	ns->m_sent = srv_counter(mx, "net_snap_sent", "checkpoint transfers completed (host)");
	ns->m_bytes_out = srv_counter(mx, "net_snap_bytes_out", "checkpoint bytes sent (host)");
	ns->m_installed = srv_counter(mx, "net_snap_installed",
				      "host checkpoints verified and installed on joining (member)");
	ns->m_refused = srv_counter(mx, "net_snap_refused",
				    "host checkpoints refused on joining: signature, session, hash, size, transfer (member)");
	ns->m_declined = srv_counter(mx, "net_snap_declined", "host checkpoints not needed here (member)");
	ns->m_bytes_in = srv_counter(mx, "net_snap_bytes_in", "checkpoint bytes received (member)");
	nm->snaps = ns;
	return 0;
}

void net_snaps_stop(struct net_mod *nm)
{
	if (nm->snaps)
		th_wbuf_fini(&nm->snaps->tmp);
	free(nm->snaps);
	nm->snaps = NULL;
}

void net_snaps_session_gone(struct net_mod *nm, struct sess_session *s)
{
	struct net_snap_sess *r = nm->snaps ? sess_rec(nm, s, false) : NULL;
	if (r)
		memset(r, 0, sizeof(*r));
}

/* ---- the state machine's ops ---------------------------------------------------- */

static int op_latest(void *ud, struct net_snap_source *out)
{
	struct net_conn *c = ud;
	struct net_snaps *ns = c->nm->snaps;
	if (ns->sends >= NET_SNAP_SENDS_MAX)
		return -EBUSY; /* offered without a checkpoint: the member catches up from the log */
	th_wbuf_reset(&ns->tmp);
	int r = sess_scene_join_latest(c->s, &ns->tmp, &out->next_pos, out->world_hash, out->set_digest);
	out->snap = ns->tmp.data;
	out->len = ns->tmp.len;
	if (r == 0 && !strcmp(ns->test_corrupt, "world") && out->len)
		out->world_hash[0] ^= 1; /* tests: a checkpoint whose scene is not what it claims */
	return r;
}

static uint64_t op_count(void *ud)
{
	struct net_conn *c = ud;
	return c->s && c->s->log ? clog_count(c->s->log) : 0;
}

static const char *op_decline(void *ud, const struct proto_sess_snap_offer *o)
{
	struct net_conn *c = ud;
	return sess_scene_join_decline(c->s, o->next_pos);
}

static const struct net_snap_ops snap_ops = { .latest = op_latest, .count = op_count, .decline = op_decline };

/* ---- actions -------------------------------------------------------------------- */

static bool holds_copy(enum net_snap_state st)
{
	return st == NET_SNAP_S_OFFERED || st == NET_SNAP_S_SENDING;
}

/* What the machine was before an input (snap_run counts what changed). */
struct snap_was {
	enum net_snap_state st;
	uint64_t bytes;
};

static struct snap_was snap_was(const struct net_snap *sn)
{
	return (struct snap_was){ .st = net_snap_state(sn), .bytes = sn->stats.bytes };
}

/* Executes the machine's actions after an input; keeps the counters and
 * the member session's record in step with its state. */
static void snap_run(struct net_conn *c, struct snap_was was, uint64_t now)
{
	struct net_mod *nm = c->nm;
	struct net_snaps *ns = nm->snaps;
	struct net_snap *sn = c->snap;
	enum net_snap_state before = was.st;
	uint64_t bytes_before = was.bytes;
	struct net_snap_action a;
	while (c->snap && net_snap_poll(sn, &a) == 1) {
		switch (a.kind) {
		case NET_SNAP_A_SEND:
			if (!strcmp(ns->test_corrupt, "sig") && a.len > PROTO_SESS_FRAME_HDR + 2 &&
			    th_get_le16(a.data + PROTO_SESS_FRAME_HDR) == PROTO_SESS_T_SNAP_OFFER &&
			    (sn->offer.flags & PROTO_SESS_SNAP_F_HAS))
				((uint8_t *)a.data)[a.len - 1] ^= 1; /* tests: the signature's last byte */
			net_conn_send(c, (enum net_stream)ns->chan, a.data, a.len);
			break;
		case NET_SNAP_A_LOG: {
			static const int lv[] = { LOG_INFO, LOG_NOTICE, LOG_WARNING };
			th_log(lv[a.level], "session %s: peer %s: %s", c->s->id, c->addr, a.text);
			break;
		}
		case NET_SNAP_A_INSTALL: {
			char why[NET_SNAP_TEXT_MAX] = "";
			int r = sess_scene_join_install(c->s, a.data, a.len, &sn->offer, why, sizeof(why));
			net_snap_installed(sn, r, why, nm->now);
			break;
		}
		}
	}
	enum net_snap_state st = net_snap_state(sn);
	bool host = c->incoming;
	if (host) {
		*ns->m_bytes_out += sn->stats.bytes - bytes_before;
		if (st != before && st == NET_SNAP_S_OFFERED)
			(*ns->m_offered)++;
		if (st != before && st == NET_SNAP_S_SENT)
			(*ns->m_sent)++;
		if (holds_copy(before) != holds_copy(st)) {
			if (holds_copy(st))
				ns->sends++;
			else if (ns->sends)
				ns->sends--;
			if (!holds_copy(st))
				net_mod_kick(nm); /* the held catch-up goes on */
		}
		return;
	}
	*ns->m_bytes_in += sn->stats.bytes - bytes_before;
	struct net_snap_sess *r = sess_rec(nm, c->s, true);
	if (!r)
		return;
	if (sn->offered)
		r->host_count = net_snap_host_count(sn);
	if (st == before)
		return;
	if (st == NET_SNAP_S_INSTALLED) {
		(*ns->m_installed)++;
		r->st = st;
		r->ckpt_pos = sn->offer.next_pos;
		r->installed_ns = now;
		r->why[0] = 0;
	} else if (st == NET_SNAP_S_REFUSED || st == NET_SNAP_S_NONE) {
		if (st == NET_SNAP_S_REFUSED)
			(*ns->m_refused)++;
		else if (sn->offered && (sn->offer.flags & PROTO_SESS_SNAP_F_HAS))
			(*ns->m_declined)++;
		if (r->st != NET_SNAP_S_INSTALLED) { /* an installed one stays the story */
			r->st = st;
			snprintf(r->why, sizeof(r->why), "%s", net_snap_why(sn));
		}
	}
}

static int conn_snap(struct net_conn *c, enum net_snap_side side)
{
	if (c->snap)
		return 0;
	struct net_snap_config cfg = { .side = side, .ops = &snap_ops, .ud = c, .sk = c->nm->host_key->sk,
				       .want = c->nm->snaps->enabled };
	memcpy(cfg.session_id, c->s->id_bytes, PROTO_SESS_ID_LEN);
	memcpy(cfg.host_key, c->key, PROTO_SESS_KEY_LEN);
	int r = net_snap_create(&cfg, &c->snap);
	if (r < 0)
		th_warn("session %s: no checkpoint transfer with %s: %s", c->s->id, c->addr, th_strerror(r));
	return r;
}

/* ---- connections ------------------------------------------------------------------ */

void net_snaps_conn_active(struct net_conn *c, uint64_t now)
{
	if (c->incoming || !c->nm->snaps || c->snap || conn_snap(c, NET_SNAP_JOINER) < 0)
		return;
	struct net_snap_sess *r = sess_rec(c->nm, c->s, true);
	if (r && !r->started_ns)
		r->started_ns = now;
	struct snap_was was = snap_was(c->snap);
	net_snap_start(c->snap, now);
	snap_run(c, was, now);
}

void net_snaps_conn_free(struct net_conn *c)
{
	if (!c->snap)
		return;
	struct net_mod *nm = c->nm;
	uint64_t now = nm->now;
	net_snap_on_ended(c->snap, now);
	if (nm->snaps && c->s) {
		/* the cut is logged and counted; nothing is sent any more */
		struct net_snap_action a;
		enum net_snap_state st = net_snap_state(c->snap);
		while (net_snap_poll(c->snap, &a) == 1)
			if (a.kind == NET_SNAP_A_LOG)
				th_log(a.level == NET_SNAP_LOG_WARN ? LOG_WARNING : LOG_INFO, "session %s: peer %s: %s",
				       c->s->id, c->addr, a.text);
		struct net_snap_sess *r = c->incoming ? NULL : sess_rec(nm, c->s, false);
		if (r && st == NET_SNAP_S_REFUSED && r->st != NET_SNAP_S_INSTALLED) {
			(*nm->snaps->m_refused)++;
			r->st = st;
			snprintf(r->why, sizeof(r->why), "%s", net_snap_why(c->snap));
		}
		if (c->incoming && holds_copy(st) && nm->snaps->sends)
			nm->snaps->sends--;
	}
	net_snap_destroy(&c->snap);
}

static int on_snapshot(void *ud, const uint8_t *p, size_t len, uint64_t now)
{
	struct net_conn *c = ud;
	struct net_mod *nm = c->nm;
	if (c->st != NC_ACTIVE || !c->s)
		return -ECONNABORTED;
	if (!c->snap && (!c->incoming || conn_snap(c, NET_SNAP_HOST) < 0))
		return 0; /* a member without a machine asked for nothing: drop */
	struct snap_was was = snap_was(c->snap);
	int r = net_snap_on_msg(c->snap, p, len, now);
	if (c->incoming && nm->snaps->tmp.len) {
		/* the machine keeps its own copy of an offered checkpoint */
		th_wbuf_fini(&nm->snaps->tmp);
		th_wbuf_init(&nm->snaps->tmp, PROTO_SESS_SNAP_MAX_SIZE);
	}
	snap_run(c, was, now);
	if (r == -EBADMSG || r == -EPROTO) {
		(*nm->m_protocol)++;
		const char *what = r == -EBADMSG ? "malformed snapshot message" : "snapshot message out of place";
		th_warn("peer %s broke the session protocol (%s); closing", c->addr, what);
		net_conn_close(c, PROTO_SESS_ERR_PROTOCOL, what, now);
		return -EPROTO;
	}
	return 0;
}

/* The stream's room now: nothing queued ahead and what QUIC takes. */
static size_t snap_room(struct net_conn *c)
{
	const struct net_chan *ch = &c->ch[c->nm->snaps->chan];
	if (!net_conn_live(c) || !ch->opened || net_chan_pending(ch))
		return 0;
	return net_quic_stream_writable(c->q, ch->def->sid);
}

void net_snaps_service(struct net_conn *c, uint64_t now)
{
	if (!c->snap || c->st != NC_ACTIVE)
		return;
	if (c->incoming) {
		if (net_snap_state(c->snap) == NET_SNAP_S_SENDING) {
			struct snap_was was = snap_was(c->snap);
			net_snap_pump(c->snap, snap_room(c), now);
			snap_run(c, was, now);
		}
		return;
	}
	if (net_snap_next_expiry(c->snap) <= now) {
		struct snap_was was = snap_was(c->snap);
		net_snap_on_timer(c->snap, now);
		snap_run(c, was, now);
	}
}

uint64_t net_snaps_next(struct net_conn *c)
{
	return c->snap && !c->incoming ? net_snap_next_expiry(c->snap) : UINT64_MAX;
}

bool net_snaps_hold(const struct net_conn *c, uint64_t now)
{
	return c->snap && c->incoming && holds_copy(net_snap_state(c->snap)) &&
	       now - c->snap->stats.offered_ns < NET_SNAP_HOLD_NS;
}

/* ---- `sessions` ----------------------------------------------------------------------- */

void net_snaps_describe(struct net_mod *nm, struct sess_session *s, struct json_object *row)
{
	if (!nm->snaps || s->role != SESS_ROLE_MEMBER || !s->log)
		return;
	struct net_snap_sess *r = sess_rec(nm, s, false);
	if (!r || !r->host_count)
		return;
	uint64_t have = clog_count(s->log);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "received", json_object_new_uint64(have));
	json_object_object_add(o, "host_count", json_object_new_uint64(r->host_count));
	json_object_object_add(o, "checkpoint", json_object_new_string(net_snap_state_name(r->st)));
	if (r->st == NET_SNAP_S_INSTALLED) {
		json_object_object_add(o, "checkpoint_position", json_object_new_uint64(r->ckpt_pos));
		json_object_object_add(o, "checkpoint_s",
				       json_object_new_double((double)(r->installed_ns - r->started_ns) / 1e9));
	}
	if (r->why[0])
		json_object_object_add(o, "why", json_object_new_string(r->why));
	if (have < r->host_count) {
		unsigned pct = (unsigned)(have * 100 / r->host_count);
		char text[32];
		snprintf(text, sizeof(text), "syncing %u%%", pct);
		json_object_object_add(o, "state", json_object_new_string(text));
		json_object_object_add(o, "percent", json_object_new_int((int)pct));
		json_object_object_add(row, "state", json_object_new_string(text));
	} else {
		if (!r->ready_ns)
			r->ready_ns = th_now_ns();
		json_object_object_add(o, "state", json_object_new_string("ready"));
		json_object_object_add(o, "percent", json_object_new_int(100));
	}
	json_object_object_add(row, "sync", o);
}
