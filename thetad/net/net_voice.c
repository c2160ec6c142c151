/* Voice between daemons (docs/network.md, "Voice"): the `voice` datagram
 * channel, the host's relay of members' frames after its checks
 * (net_voice.h), speaker names and admin mutes on the control stream, the
 * voice module's hooks and calls (net/module.h), and the loss a session's
 * links measure. Runs on the daemon's loop. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/module.h"
#include "net/net_int.h"
#include "net/net_voice.h"

_Static_assert(NET_VOICE_DGRAM_MAX >= 44u + PROTO_SESS_VOICE_OPUS_MAX, "the voice channel takes the largest VOICE");
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "th_log.h"
#include "th_logrec.h"
#include "th_time.h"

#define NET_VOICE_SESS_MAX   SESS_MAX_SESSIONS /* sessions with a speaker table */
#define NET_VOICE_TEST_LOG   256u              /* THETAD_TEST_VOICE: frames remembered for voice_test */
/* A table is found by its session's id: a cut one could name two sessions. */
_Static_assert(NET_VOICE_SESS_ID_MAX > SESS_ID_LEN, "a speaker table holds its session's whole id");

struct net_voices {
	int chan;                        /* the voice channel's index in nm->chans */
	struct net_voice_hooks hooks;
	void *user;
	bool have_hooks;
	struct net_voice_sess *sess[NET_VOICE_SESS_MAX];
	uint64_t *m_in, *m_out, *m_relayed, *m_malformed, *m_refused, *m_muted, *m_over_rate, *m_full;
	uint64_t *m_names_in, *m_names_refused, *m_names_over_rate, *m_mutes;
	/* tests only (THETAD_TEST_VOICE=1): what was delivered */
	bool test;
	struct net_voice_test_rec {
		uint8_t speaker[PROTO_SESS_KEY_LEN];
		uint32_t seq, ts;
		uint16_t len;
		uint8_t vflags;
		uint8_t first; /* the Opus packet's first byte */
	} log[NET_VOICE_TEST_LOG];
	uint64_t n_log;
};

static struct net_voice_sess *vsess(struct net_mod *nm, const struct sess_session *s, bool create)
{
	struct net_voices *nv = nm->voice;
	struct net_voice_sess **free_slot = NULL;
	if (!nv)
		return NULL;
	for (unsigned i = 0; i < NET_VOICE_SESS_MAX; i++) {
		if (nv->sess[i] && !strcmp(nv->sess[i]->id, s->id))
			return nv->sess[i];
		if (!nv->sess[i] && !free_slot)
			free_slot = &nv->sess[i];
	}
	if (!create || !free_slot || !(*free_slot = malloc(sizeof(**free_slot))))
		return NULL;
	net_voice_sess_init(*free_slot, s->id);
	return *free_slot;
}

void net_voice_session_gone(struct net_mod *nm, const struct sess_session *s)
{
	struct net_voices *nv = nm->voice;
	for (unsigned i = 0; nv && i < NET_VOICE_SESS_MAX; i++)
		if (nv->sess[i] && !strcmp(nv->sess[i]->id, s->id)) {
			free(nv->sess[i]);
			nv->sess[i] = NULL;
		}
}

static bool voice_conn(const struct net_conn *c)
{
	return c->q && c->st == NC_ACTIVE && (c->caps & PROTO_SESS_CAP_VOICE) && (c->caps & PROTO_SESS_CAP_DATAGRAMS);
}

/* Bytes of one encoded VOICE datagram to c; true when the transport took it. */
static bool send_bytes(struct net_conn *c, const uint8_t *b, size_t n)
{
	struct net_voices *nv = c->nm->voice;
	if (!voice_conn(c) || net_quic_dgram_send(c->q, b, n) < 0)
		return false;
	net_chan_sent(&c->ch[nv->chan], n);
	(*nv->m_out)++;
	net_mod_kick(c->nm);
	return true;
}

static void test_note(struct net_voices *nv, const struct proto_sess_dgram *d)
{
	if (!nv->test)
		return;
	struct net_voice_test_rec *r = &nv->log[nv->n_log++ % NET_VOICE_TEST_LOG];
	memcpy(r->speaker, d->author, PROTO_SESS_KEY_LEN);
	r->seq = (uint32_t)d->seq;
	r->ts = d->ts;
	r->len = d->opus_len;
	r->vflags = d->vflags;
	r->first = d->opus_len ? d->opus[0] : 0;
}

/* A voice control message (VOICE_NAME / VOICE_MUTE) to every member of a
 * hosted session but `except` (the net_link.c broadcast, for connections
 * that took the voice capability). */
static void host_broadcast(struct net_mod *nm, struct sess_session *s, struct net_conn *except,
			   const struct proto_sess_msg *m)
{
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c != except && c->incoming && c->s == s && c->st == NC_ACTIVE && (c->caps & PROTO_SESS_CAP_VOICE))
			net_conn_send_msg(c, NET_ST_CONTROL, m);
}

static struct proto_sess_msg mute_msg(const struct net_voice_speaker *sp)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_VOICE_MUTE };
	memcpy(m.u.vmute.speaker, sp->key, PROTO_SESS_KEY_LEN);
	m.u.vmute.muted = sp->muted;
	return m;
}

static struct proto_sess_msg name_msg(const struct net_voice_speaker *sp)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_VOICE_NAME };
	memcpy(m.u.vname.speaker, sp->key, PROTO_SESS_KEY_LEN);
	snprintf(m.u.vname.name, sizeof(m.u.vname.name), "%s", sp->name);
	return m;
}

static void send_mute(struct net_mod *nm, struct sess_session *s, struct net_voice_speaker *sp)
{
	struct proto_sess_msg m = mute_msg(sp);
	host_broadcast(nm, s, NULL, &m);
	sp->told = sp->muted;
	struct net_voices *nv = nm->voice;
	if (nv->have_hooks && nv->hooks.muted)
		nv->hooks.muted(nv->user, s, sp->key, sp->muted);
}

/* ---- datagrams in ------------------------------------------------------------------ */

static int on_voice_dgram(void *ud, const uint8_t *data, size_t len, uint64_t now)
{
	struct net_conn *c = ud;
	struct net_mod *nm = c->nm;
	struct net_voices *nv = nm->voice;
	struct proto_sess_dgram d;
	if (!c->s || proto_sess_dgram_decode(data, len, &d) < 0 || d.kind != PROTO_SESS_DG_VOICE) {
		(*nv->m_malformed)++;
		return 0; /* unreliable: dropped and counted, the link stays */
	}
	(*nv->m_in)++;
	if (c->incoming) {
		struct net_hosted *h = net_hosted_of(nm, c->s, true);
		struct net_voice_sess *v = vsess(nm, c->s, true);
		if (!h || !v) {
			(*nv->m_full)++;
			return 0;
		}
		enum net_voice_verdict vd = net_voice_host_take(v, &h->owners, d.author, c->peer_id, now);
		switch (vd) {
		case NET_VOICE_OK:
			break;
		case NET_VOICE_NOT_OWNER:
			(*nv->m_refused)++;
			return 0;
		case NET_VOICE_MUTED: {
			struct net_voice_speaker *sp = net_voice_find(v, d.author);
			if (sp && sp->muted && !sp->told)
				send_mute(nm, c->s, sp); /* a muted member's new speaker */
			(*nv->m_muted)++;
			return 0;
		}
		case NET_VOICE_OVER_RATE:
			(*nv->m_over_rate)++;
			return 0;
		case NET_VOICE_FULL:
			(*nv->m_full)++;
			return 0;
		}
	}
	test_note(nv, &d);
	if (nv->have_hooks && nv->hooks.voice)
		nv->hooks.voice(nv->user, c->s, &d, now);
	if (!c->incoming)
		return 0;
	/* Only to members near enough to hear it (the presence grid). */
	for (struct net_conn *o = nm->conns; o; o = o->next)
		if (o != c && o->incoming && o->s == c->s && voice_conn(o) && net_pres_audible(nm, c->s, d.author, o->peer_id) &&
		    send_bytes(o, data, len))
			(*nv->m_relayed)++;
	return 0;
}

/* ---- the voice module's calls (net/module.h) -------------------------------------- */

void net_module_set_voice(void *state, const struct net_voice_hooks *h, void *user)
{
	struct net_mod *nm = state;
	struct net_voices *nv = nm->voice;
	if (!nv)
		return;
	nv->have_hooks = h != NULL;
	nv->hooks = h ? *h : (struct net_voice_hooks){ 0 };
	nv->user = h ? user : NULL;
}

int net_module_send_voice(void *state, struct sess_session *s, const struct proto_sess_dgram *d)
{
	struct net_mod *nm = state;
	uint8_t b[PROTO_SESS_DGRAM_MAX];
	struct proto_sess_dgram v0 = *d;
	v0.kind = PROTO_SESS_DG_VOICE;
	int n = proto_sess_dgram_encode(&v0, b, sizeof(b));
	if (n < 0)
		return -EMSGSIZE;
	nm->now = th_now_ns();
	struct net_voice_sess *v = vsess(nm, s, true);
	bool host = s->role == SESS_ROLE_HOST;
	if (host) {
		struct net_hosted *h = net_hosted_of(nm, s, true);
		if (h) /* a local user: this daemon vouches for it */
			net_pose_owners_prove(&h->owners, d->author, NET_POSE_OWNER_LOCAL);
	}
	struct net_voice_speaker *sp = v ? net_voice_find(v, d->author) : NULL;
	if (sp && sp->muted)
		return -EPERM;
	/* The speaking flag of the presence of this local user. */
	net_pres_local_speech(nm, s, d->author, (d->vflags & PROTO_SESS_VOICE_F_SPEECH) != 0);
	unsigned sent = 0;
	if (host) {
		for (struct net_conn *c = nm->conns; c; c = c->next)
			if (c->incoming && c->s == s && voice_conn(c) && net_pres_audible(nm, s, d->author, c->peer_id))
				sent += send_bytes(c, b, (size_t)n);
	} else {
		struct net_join *j = s->role == SESS_ROLE_MEMBER ? net_join_of(nm, s) : NULL;
		if (j && j->conn)
			sent += send_bytes(j->conn, b, (size_t)n);
	}
	return sent ? 0 : -ENOTCONN;
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, PROTO_SESS_VOICE_NAME_MAX + 1);
	if (n > PROTO_SESS_VOICE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static void send_name(struct net_conn *c, const struct net_voice_speaker *sp)
{
	if (!(c->caps & PROTO_SESS_CAP_VOICE) || c->st != NC_ACTIVE)
		return;
	struct proto_sess_msg m = name_msg(sp);
	net_conn_send_msg(c, NET_ST_CONTROL, &m);
}

int net_module_voice_name(void *state, struct sess_session *s, const uint8_t speaker[32], const char *name)
{
	struct net_mod *nm = state;
	if (!name_ok(name))
		return -EINVAL;
	nm->now = th_now_ns();
	bool host = s->role == SESS_ROLE_HOST, muted_new;
	struct net_voice_sess *v = vsess(nm, s, true);
	struct net_voice_speaker *sp = v ? net_voice_add(v, speaker, NET_POSE_OWNER_LOCAL, nm->now, &muted_new) : NULL;
	if (!sp)
		return -ENOSPC;
	if (host) {
		struct net_hosted *h = net_hosted_of(nm, s, true);
		if (h)
			net_pose_owners_prove(&h->owners, speaker, NET_POSE_OWNER_LOCAL);
	}
	sp->owner = NET_POSE_OWNER_LOCAL;
	sp->last_ns = nm->now;
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	if (host) {
		struct proto_sess_msg m = name_msg(sp);
		host_broadcast(nm, s, NULL, &m);
	} else {
		struct net_join *j = s->role == SESS_ROLE_MEMBER ? net_join_of(nm, s) : NULL;
		if (j && j->conn)
			send_name(j->conn, sp);
	}
	return 0;
}

unsigned net_module_loss_pct(void *state, struct sess_session *s)
{
	struct net_mod *nm = state;
	uint64_t now = th_now_ns();
	double worst = 0;
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c->s == s && c->st == NC_ACTIVE && c->sl) {
			double p = net_hb_loss(&c->sl->hb, now);
			if (p > worst)
				worst = p;
		}
	return net_voice_loss_pct(worst);
}

/* ---- control messages (net_link.c's on_event) ------------------------------------- */

void net_voice_on_name(struct net_conn *c, const struct proto_sess_voice_name *m)
{
	struct net_mod *nm = c->nm;
	struct net_voices *nv = nm->voice;
	if (!c->s || !nv)
		return;
	struct net_voice_sess *v = vsess(nm, c->s, true);
	bool muted_new = false;
	struct net_voice_speaker *sp;
	(*nv->m_names_in)++;
	if (c->incoming) {
		struct net_hosted *h = net_hosted_of(nm, c->s, true);
		if (!h || !v || net_voice_host_may_name(&h->owners, m->speaker, c->peer_id) < 0) {
			(*nv->m_names_refused)++;
			return;
		}
		sp = net_voice_add(v, m->speaker, c->peer_id, nm->now, &muted_new);
	} else {
		sp = v ? net_voice_add(v, m->speaker, NET_VOICE_OWNER_NONE, nm->now, &muted_new) : NULL;
	}
	if (!sp) {
		(*nv->m_full)++;
		return;
	}
	sp->last_ns = nm->now;
	if (!c->incoming && sp->owner == NET_POSE_OWNER_LOCAL)
		return; /* our own speaker, told back: we know its name */
	bool changed = strcmp(sp->name, m->name) != 0;
	if (c->incoming && changed && !net_voice_host_rename_ok(sp, nm->now)) {
		(*nv->m_names_over_rate)++; /* it keeps the name it had */
		return;
	}
	snprintf(sp->name, sizeof(sp->name), "%s", m->name);
	if (changed && nv->have_hooks && nv->hooks.name)
		nv->hooks.name(nv->user, c->s, sp->key, sp->name);
	if (c->incoming && changed) {
		struct proto_sess_msg nmsg = name_msg(sp);
		host_broadcast(nm, c->s, c, &nmsg);
	}
	if (c->incoming && sp->muted && !sp->told)
		send_mute(nm, c->s, sp);
}

void net_voice_on_mute(struct net_conn *c, const struct proto_sess_voice_mute *m)
{
	struct net_mod *nm = c->nm;
	struct net_voices *nv = nm->voice;
	bool muted_new;
	struct net_voice_sess *v = c->s && nv ? vsess(nm, c->s, true) : NULL;
	struct net_voice_speaker *sp = v ? net_voice_add(v, m->speaker, NET_VOICE_OWNER_NONE, nm->now, &muted_new) : NULL;
	if (!sp)
		return;
	bool changed = sp->muted != (m->muted != 0);
	sp->muted = sp->told = m->muted != 0;
	(*nv->m_mutes)++;
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(sp->key, fpr, sizeof(fpr));
	if (changed)
		th_notice("session %s: an admin %s speaker %s (%s)%s", c->s->id, sp->muted ? "muted" : "unmuted",
			  sp->name[0] ? sp->name : "-", fpr, sp->owner == NET_POSE_OWNER_LOCAL ? ", a local user" : "");
	if (changed && nv->have_hooks && nv->hooks.muted)
		nv->hooks.muted(nv->user, c->s, sp->key, sp->muted);
}

/* A connection is in the session: the host tells the new member every
 * speaker's name and every mute in force, its own speakers' too; a member
 * tells its host its local speakers. A member (re)joining forgets the mutes
 * it was told before: the host's VOICE_MUTEs follow its ACK on the control
 * stream, and a mute lifted while the member was away, or forgotten by a
 * host that restarted, must not keep its speaker refused (-EPERM) for good. */
void net_voice_conn_active(struct net_conn *c)
{
	struct net_mod *nm = c->nm;
	struct net_voices *nv = nm->voice;
	struct net_voice_sess *v = c->s ? vsess(nm, c->s, false) : NULL;
	for (unsigned i = 0; v && i < v->n; i++) {
		struct net_voice_speaker *sp = &v->sp[i];
		if (c->incoming) {
			if (sp->name[0] && sp->owner != c->peer_id)
				send_name(c, sp);
			if (sp->muted && (c->caps & PROTO_SESS_CAP_VOICE)) {
				struct proto_sess_msg m = mute_msg(sp);
				net_conn_send_msg(c, NET_ST_CONTROL, &m);
			}
		} else {
			if (sp->muted) {
				sp->muted = sp->told = false;
				if (nv && nv->have_hooks && nv->hooks.muted)
					nv->hooks.muted(nv->user, c->s, sp->key, false);
			}
			if (sp->owner == NET_POSE_OWNER_LOCAL && sp->name[0])
				send_name(c, sp);
		}
	}
}

/* ---- admin mutes ---------------------------------------------------------------------- */

/* Host: mutes (or unmutes) one speaker of s by key, or every speaker of
 * member peer (key NULL). *n: speakers whose state changed. 0, -ENOSPC,
 * -EBUSY (an unmute of one speaker whose member is muted whole: its frames
 * would still be dropped, net_voice_host_take). */
int net_voice_host_mute(struct net_mod *nm, struct sess_session *s, const uint8_t *key, uint32_t peer, bool muted,
			unsigned *n)
{
	struct net_voice_sess *v = vsess(nm, s, true);
	*n = 0;
	if (!v)
		return -ENOSPC;
	if (key) {
		bool muted_new;
		struct net_voice_speaker *sp = net_voice_add(v, key, NET_VOICE_OWNER_NONE, nm->now, &muted_new);
		if (!sp)
			return -ENOSPC;
		if (!muted && net_voice_peer_muted(v, sp->owner))
			return -EBUSY;
		if (sp->muted != muted || sp->told != muted) {
			sp->muted = muted;
			send_mute(nm, s, sp);
			(*n)++;
		}
		return 0;
	}
	int r = net_voice_mute_peer(v, peer, muted);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < v->n; i++) {
		struct net_voice_speaker *sp = &v->sp[i];
		if (sp->owner == peer && (sp->muted != muted || sp->told != muted)) {
			sp->muted = muted;
			send_mute(nm, s, sp);
			(*n)++;
		}
	}
	return 0;
}

struct net_voice_sess *net_voice_table(struct net_mod *nm, const struct sess_session *s)
{
	return vsess(nm, s, false);
}

/* ---- start / stop ------------------------------------------------------------------------ */

static const struct net_chan_def voice_chan = {
	.name = "voice",
	.type = NET_CHAN_DGRAM,
	.dgram_kind = { PROTO_SESS_DG_VOICE },
	.lim = { .max_msg = NET_VOICE_DGRAM_MAX, .rate_per_s = NET_VOICE_RATE_PER_S, .burst = NET_VOICE_BURST },
	.on_msg = on_voice_dgram,
};

int net_voice_register(struct net_mod *nm)
{
	struct net_voices *nv = calloc(1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	int r = net_chans_register(&nm->chans, &voice_chan);
	if (r < 0) {
		free(nv);
		return r;
	}
	nv->chan = r;
	const char *e = getenv("THETAD_TEST_VOICE");
	nv->test = e && *e == '1';
	struct srv_metrics *mx = srv_daemon_metrics(nm->d);
	nv->m_in = srv_counter(mx, "net_voice_in", "voice datagrams received from peers (well formed)");
	nv->m_out = srv_counter(mx, "net_voice_out", "voice datagrams sent to peers (own and relayed)");
	nv->m_relayed = srv_counter(mx, "net_voice_relayed", "host: members' voice datagrams passed on to other members");
	nv->m_malformed = srv_counter(mx, "net_voice_malformed", "voice datagrams that did not decode, dropped");
	nv->m_refused = srv_counter(mx, "net_voice_refused",
				    "host: voice datagrams for a speaker that is not the member's, dropped");
	nv->m_muted = srv_counter(mx, "net_voice_muted", "host: voice datagrams of an admin-muted speaker, dropped");
	nv->m_over_rate = srv_counter(mx, "net_voice_over_rate",
				      "host: voice datagrams over one speaker's rate, dropped (the member's: net_chan_voice_over_rate)");
	nv->m_full = srv_counter(mx, "net_voice_table_full", "voice datagrams or names dropped: no room for the speaker");
	nv->m_names_in = srv_counter(mx, "net_voice_names_in", "speaker names (VOICE_NAME) received");
	nv->m_names_refused = srv_counter(mx, "net_voice_names_refused",
					  "host: VOICE_NAME for a speaker that is not the member's, ignored");
	nv->m_names_over_rate = srv_counter(mx, "net_voice_names_over_rate",
					    "host: a speaker's name changes past NET_VOICE_NAME_RATE_PER_S, ignored");
	nv->m_mutes = srv_counter(mx, "net_voice_mutes_in", "member: admin mutes and unmutes the host announced");
	nm->voice = nv;
	return 0;
}

void net_voice_stop(struct net_mod *nm)
{
	struct net_voices *nv = nm->voice;
	if (!nv)
		return;
	for (unsigned i = 0; i < NET_VOICE_SESS_MAX; i++)
		free(nv->sess[i]);
	free(nv);
	nm->voice = NULL;
}

/* ---- tests (THETAD_TEST_VOICE=1): the voice_test control command ----------------------- */

bool net_voice_test_on(const struct net_mod *nm)
{
	return nm->voice && nm->voice->test;
}

size_t net_voice_test_log(const struct net_mod *nm, uint64_t *total, const uint8_t **speaker, uint32_t *seq,
			  uint16_t *len, uint8_t *first, size_t i)
{
	const struct net_voices *nv = nm->voice;
	*total = nv->n_log;
	size_t have = nv->n_log < NET_VOICE_TEST_LOG ? (size_t)nv->n_log : NET_VOICE_TEST_LOG;
	if (i >= have)
		return have;
	const struct net_voice_test_rec *r = &nv->log[(nv->n_log - have + i) % NET_VOICE_TEST_LOG];
	*speaker = r->speaker;
	*seq = r->seq;
	*len = r->len;
	*first = r->first;
	return have;
}

/* Raw bytes on the voice channel to s's peers, as a broken or hostile
 * daemon would send them. The count of peers that took them. */
unsigned net_voice_test_raw(struct net_mod *nm, struct sess_session *s, const uint8_t *b, size_t n)
{
	unsigned sent = 0;
	for (struct net_conn *c = nm->conns; c; c = c->next)
		if (c->s == s && (c->incoming || s->role == SESS_ROLE_MEMBER))
			sent += send_bytes(c, b, n);
	return sent;
}
