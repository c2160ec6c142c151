/* The host's presence relay (pres.h): users' newest state, the interest
 * grid, one frame per receiver per tick (thetad/pres/README.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pres/pres_int.h"

enum { TIER_NEAR, TIER_FAR, TIER_CULLED };

struct pres_ruser {
	bool used;
	uint32_t from;              /* PRES_FROM_LOCAL or the member's peer id */
	struct proto_pres_user u;   /* merged newest state */
	uint64_t ver;               /* stamp of its last change (any field) */
	uint64_t ver_np;            /* ... of any field but the preview (what a viewer sees) */
	uint64_t ver_pv;            /* ... of the preview */
	uint64_t ver_t;             /* ... of t_ns (the refresh of an unchanged user) */
	bool placed;                /* holds a head: in the grid this tick */
	int32_t cell[3];
};

struct pres_rcv {
	uint32_t peer;
	bool editor;
	unsigned idx;               /* its place in r->rcv (staggers far users) */
	unsigned n_vp;              /* its viewpoints' cells at the last tick (voice culling) */
	int32_t vp_cell[PROTO_PRES_USERS_MAX][3];
	struct pres_chan ch;
};

struct pres_relay {
	struct pres_config cfg;
	float view_cos;
	uint64_t period_ns, next_ns;
	uint64_t ticks;
	uint64_t stamp;             /* version clock: one step per change */
	uint64_t tick_stamp;        /* the clock at the previous tick */
	struct pres_ruser users[PROTO_PRES_USERS_MAX];
	struct pres_rcv *rcv[PRES_RECEIVERS_MAX];
	struct pres_grid grid;
	struct pres_stats st;
	/* scratch (one tick or one frame at a time; callbacks must not re-enter) */
	uint8_t tier[PROTO_PRES_USERS_MAX];
	uint16_t tdist[PROTO_PRES_USERS_MAX];
	struct pres_grid_hit hits[PROTO_PRES_USERS_MAX];
	uint16_t vps[PROTO_PRES_USERS_MAX];
	struct pres_cand cand[PROTO_PRES_USERS_MAX];
	uint16_t cand_slot[PROTO_PRES_USERS_MAX];
	struct proto_pres_user out_users[PROTO_PRES_USERS_MAX];
	uint8_t out_gone[PRES_GONE_PER_FRAME][PROTO_PRES_KEY_LEN];
	uint8_t frame[PROTO_PRES_FRAME_MAX];
	struct proto_pres_frame in;
};

static void apply_config(struct pres_relay *r, const struct pres_config *c)
{
	r->cfg = *c;
	r->view_cos = pres_grid_view_cos(c->view_deg);
	r->period_ns = 1000000000ull / c->tick_hz;
	pres_grid_init(&r->grid, c->cell_m);
}

int pres_relay_new(const struct pres_config *c, struct pres_relay **out)
{
	if (pres_config_check(c))
		return -EINVAL;
	struct pres_relay *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	apply_config(r, c);
	*out = r;
	return 0;
}

static void rcv_free(struct pres_rcv **p)
{
	if (!*p)
		return;
	pres_chan_fini(&(*p)->ch);
	free(*p);
	*p = NULL;
}

void pres_relay_free(struct pres_relay **pr)
{
	struct pres_relay *r = *pr;
	if (!r)
		return;
	for (unsigned i = 0; i < PRES_RECEIVERS_MAX; i++)
		rcv_free(&r->rcv[i]);
	free(r);
	*pr = NULL;
}

void pres_relay_configure(struct pres_relay *r, const struct pres_config *c)
{
	if (pres_config_check(c))
		return;
	apply_config(r, c); /* the tick already scheduled stays; the new period from it on */
}

static struct pres_rcv *rcv_find(const struct pres_relay *r, uint32_t peer)
{
	for (unsigned i = 0; i < PRES_RECEIVERS_MAX; i++)
		if (r->rcv[i] && r->rcv[i]->peer == peer)
			return r->rcv[i];
	return NULL;
}

static int user_find(const struct pres_relay *r, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++)
		if (r->users[i].used && !memcmp(r->users[i].u.key, key, PROTO_PRES_KEY_LEN))
			return (int)i;
	return -1;
}

/* The stamps of a change to fields ch (and of a newer t_ns). */
static void stamp_change(struct pres_relay *r, struct pres_ruser *x, uint32_t ch, bool newer_t)
{
	if (!ch && !newer_t)
		return;
	uint64_t s = ++r->stamp;
	if (newer_t)
		x->ver_t = s;
	if (ch) {
		x->ver = s;
		if (ch & ~PROTO_PRES_F_PREVIEW)
			x->ver_np = s;
		if (ch & PROTO_PRES_F_PREVIEW)
			x->ver_pv = s;
	}
}

/* Slot for a new user: every receiver forgets what the slot held and any
 * departure of this key it still had to tell. */
static int user_add(struct pres_relay *r, const uint8_t key[PROTO_PRES_KEY_LEN], uint32_t from)
{
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++) {
		struct pres_ruser *x = &r->users[i];
		if (x->used)
			continue;
		memset(x, 0, sizeof *x);
		x->used = true;
		x->from = from;
		memcpy(x->u.key, key, PROTO_PRES_KEY_LEN);
		for (unsigned k = 0; k < PRES_RECEIVERS_MAX; k++)
			if (r->rcv[k]) {
				pres_chan_slot_reset(&r->rcv[k]->ch, i);
				pres_chan_gone_drop(&r->rcv[k]->ch, key);
			}
		return (int)i;
	}
	return -ENOSPC;
}

/* Takes a checked update (merge: a client's fields; replace: a member's
 * whole decoded state): 0 taken and changed (a field or its time), 1 older
 * than the user's newest (ignored), 2 taken but the same, <0 error. */
static int take(struct pres_relay *r, uint32_t from, const struct proto_pres_user *u, bool whole)
{
	int i = user_find(r, u->key);
	if (i < 0) {
		i = user_add(r, u->key, from);
		if (i < 0)
			return i;
	}
	struct pres_ruser *x = &r->users[i];
	if (u->t_ns < x->u.t_ns)
		return 1; /* older than what the user has: ignored */
	bool newer_t = u->t_ns > x->u.t_ns;
	x->from = from;
	uint32_t ch = whole ? pres_user_replace(&x->u, u) : pres_user_merge(&x->u, u);
	stamp_change(r, x, ch, newer_t);
	r->st.updates_in++;
	return ch || newer_t ? 0 : 2;
}

int pres_relay_update(struct pres_relay *r, uint32_t from, const struct proto_pres_user *u, uint64_t now_ns)
{
	(void)now_ns;
	int rc = pres_user_check(u);
	if (rc < 0)
		return rc;
	rc = take(r, from, u, false);
	return rc < 0 ? rc : 0;
}

static void user_drop(struct pres_relay *r, unsigned i)
{
	struct pres_ruser *x = &r->users[i];
	for (unsigned k = 0; k < PRES_RECEIVERS_MAX; k++) {
		struct pres_rcv *rc = r->rcv[k];
		if (!rc)
			continue;
		if (rc->ch.known[i])
			pres_chan_gone_add(&rc->ch, x->u.key);
		pres_chan_slot_reset(&rc->ch, i);
	}
	x->used = false;
}

void pres_relay_user_gone(struct pres_relay *r, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	int i = user_find(r, key);
	if (i >= 0)
		user_drop(r, (unsigned)i);
}

int pres_relay_receiver_add(struct pres_relay *r, uint32_t peer, bool editor)
{
	if (peer == PRES_FROM_LOCAL)
		return -EINVAL;
	struct pres_rcv *have = rcv_find(r, peer);
	if (have) {
		pres_relay_receiver_role(r, peer, editor);
		return 0;
	}
	for (unsigned i = 0; i < PRES_RECEIVERS_MAX; i++) {
		if (r->rcv[i])
			continue;
		struct pres_rcv *rc = calloc(1, sizeof *rc);
		if (!rc)
			return -ENOMEM;
		int e = pres_chan_init(&rc->ch);
		if (e < 0) {
			free(rc);
			return e;
		}
		rc->peer = peer;
		rc->editor = editor;
		rc->idx = i;
		r->rcv[i] = rc;
		return 0;
	}
	return -ENOSPC;
}

void pres_relay_receiver_role(struct pres_relay *r, uint32_t peer, bool editor)
{
	struct pres_rcv *rc = rcv_find(r, peer);
	if (!rc || rc->editor == editor)
		return;
	rc->editor = editor;
	/* what it acknowledged was cut for the other role: everything again */
	pres_chan_reset_acked(&rc->ch);
}

void pres_relay_receiver_remove(struct pres_relay *r, uint32_t peer)
{
	struct pres_rcv *rc = rcv_find(r, peer);
	if (!rc)
		return;
	unsigned idx = rc->idx;
	rcv_free(&r->rcv[idx]);
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++)
		if (r->users[i].used && r->users[i].from == peer)
			user_drop(r, i);
}

int pres_relay_on_frame(struct pres_relay *r, uint32_t peer, const uint8_t *p, size_t len, uint64_t now_ns,
			bool (*may_update)(void *ud, uint32_t peer, const uint8_t key[PROTO_PRES_KEY_LEN]),
			void (*on_user)(void *ud, const struct proto_pres_user *u), void *ud)
{
	(void)now_ns;
	struct pres_rcv *rc = rcv_find(r, peer);
	if (!rc)
		return -ENOTCONN;
	struct proto_pres_frame *f = &r->in;
	int e = proto_pres_decode(rc->ch.rx, p, len, f);
	if (e < 0) {
		if (e != -EALREADY) /* a duplicate or a late one (datagrams reorder) is no fault */
			r->st.refused_in++;
		return e;
	}
	r->st.frames_in++;
	r->st.bytes_in += len;
	pres_chan_on_ack(&rc->ch, f->ack);
	if (f->n || f->n_gone)
		rc->ch.rx_content = true;
	for (unsigned g = 0; g < f->n_gone; g++) {
		int i = user_find(r, f->gone[g]);
		if (i < 0 || r->users[i].from != peer)
			continue;
		if (may_update && !may_update(ud, peer, f->gone[g]))
			continue;
		user_drop(r, (unsigned)i);
	}
	for (unsigned k = 0; k < f->n; k++) {
		const struct proto_pres_user *u = &f->users[k];
		if (pres_user_check(u) < 0 || (may_update && !may_update(ud, peer, u->key))) {
			r->st.refused_in++;
			continue;
		}
		int t = take(r, peer, u, true);
		if (t < 0)
			r->st.refused_in++; /* the session is full */
		else if (t == 0 && on_user)
			on_user(ud, &r->users[user_find(r, u->key)].u);
	}
	return 0;
}

uint64_t pres_relay_next(const struct pres_relay *r)
{
	return r->next_ns;
}

/* Each user's tier for receiver rc, from the grid and rc's viewpoints. */
static void tiers_for(struct pres_relay *r, struct pres_rcv *rc)
{
	unsigned nvp = 0;
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++)
		if (r->users[i].used && r->users[i].placed && r->users[i].from == rc->peer) {
			memcpy(rc->vp_cell[nvp], r->users[i].cell, sizeof rc->vp_cell[nvp]);
			r->vps[nvp++] = (uint16_t)i;
		}
	rc->n_vp = nvp;
	uint8_t none = nvp ? TIER_CULLED : TIER_FAR;
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++) {
		/* a user without a head cannot be placed: it is not filtered */
		r->tier[i] = r->users[i].placed ? none : TIER_NEAR;
		r->tdist[i] = r->users[i].placed && nvp ? UINT16_MAX : 0;
	}
	const struct pres_config *c = &r->cfg;
	unsigned rad = c->far_cells;
	if (c->near_cells > rad)
		rad = c->near_cells;
	if (c->view_cells > rad)
		rad = c->view_cells;
	for (unsigned v = 0; v < nvp; v++) {
		const struct pres_ruser *vp = &r->users[r->vps[v]];
		unsigned nh = pres_grid_query(&r->grid, vp->cell, rad, r->hits, PROTO_PRES_USERS_MAX);
		for (unsigned h = 0; h < nh; h++) {
			unsigned id = r->hits[h].id, d = r->hits[h].dist;
			uint8_t t = TIER_CULLED;
			if (d <= c->near_cells)
				t = TIER_NEAR;
			else if (d <= c->view_cells &&
				 pres_grid_in_view(vp->u.pose[PROTO_PRES_HEAD], r->view_cos, r->users[id].u.pose[PROTO_PRES_HEAD]))
				t = TIER_NEAR;
			else if (d <= c->far_cells)
				t = TIER_FAR;
			if (t < r->tier[id])
				r->tier[id] = t;
			if (d < r->tdist[id])
				r->tdist[id] = (uint16_t)d;
		}
	}
}

static bool far_due(const struct pres_relay *r, const struct pres_rcv *rc, unsigned slot)
{
	uint64_t every = r->cfg.tick_hz / r->cfg.far_hz; /* >= 1: far_hz <= tick_hz */
	return (r->ticks + slot + rc->idx) % every == 0;
}

static void tick_receiver(struct pres_relay *r, struct pres_rcv *rc, uint64_t now_ns,
			  void (*emit)(void *ud, uint32_t peer, const uint8_t *frame, size_t len), void *ud)
{
	struct pres_chan *ch = &rc->ch;
	tiers_for(r, rc);
	unsigned nc = 0;
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++) {
		const struct pres_ruser *x = &r->users[i];
		if (!x->used || x->from == rc->peer)
			continue;
		uint64_t acked = ch->acked[i];
		if (!rc->editor && (x->u.valid & PROTO_PRES_F_PREVIEW) && x->ver_pv > r->tick_stamp)
			r->st.previews_withheld++;
		bool changed = (rc->editor ? x->ver : x->ver_np) > acked;
		bool refresh = x->ver_t > acked && now_ns - ch->last_sent_ns[i] >= PRES_REFRESH_NS;
		if (!changed && !refresh) {
			ch->pending[i] = false;
			continue;
		}
		/* the figures count changes; a refresh of an unchanged user is not one */
		uint8_t t = r->tier[i];
		if (changed) {
			r->st.considered++;
			if (t != TIER_NEAR)
				r->st.irrelevant++;
		}
		if (t == TIER_CULLED || (t == TIER_FAR && !ch->pending[i] && !far_due(r, rc, i)))
			continue;
		r->cand[nc++] = (struct pres_cand){ .slot = (uint16_t)i,
						    .tier = t,
						    .changed = changed,
						    .dist = r->tdist[i],
						    .last_tick = ch->last_sent_tick[i] };
	}
	unsigned ng = pres_chan_gone_count(ch);
	if (!nc && !ng && !ch->rx_content)
		return;
	pres_cand_sort(r->cand, nc);
	for (unsigned k = 0; k < nc; k++) {
		struct proto_pres_user *o = &r->out_users[k];
		*o = r->users[r->cand[k].slot].u;
		if (!rc->editor)
			o->valid &= ~PROTO_PRES_F_PREVIEW;
	}
	for (unsigned g = 0; g < ng; g++)
		memcpy(r->out_gone[g], ch->gone[g].key, PROTO_PRES_KEY_LEN);
	unsigned taken = 0;
	struct proto_pres_stats cs0, cs1;
	proto_pres_tx_stats(ch->tx, &cs0);
	int len = proto_pres_encode(ch->tx, now_ns, r->out_users, nc, (const uint8_t(*)[PROTO_PRES_KEY_LEN])r->out_gone,
				    ng, proto_pres_rx_ack(ch->rx), r->frame, sizeof r->frame, &taken);
	if (len <= 0) {
		/* nothing coded (the codec refused): all of them again next tick */
		for (unsigned k = 0; k < nc; k++)
			ch->pending[r->cand[k].slot] = true;
		return;
	}
	if (taken > nc)
		taken = nc;
	proto_pres_tx_stats(ch->tx, &cs1);
	for (unsigned k = 0; k < taken; k++) {
		r->cand_slot[k] = r->cand[k].slot;
		if (r->cand[k].tier != TIER_NEAR && r->cand[k].changed)
			r->st.irrelevant_sent++;
	}
	for (unsigned k = taken; k < nc; k++)
		ch->pending[r->cand[k].slot] = true;
	pres_chan_sent(ch, ch->seq + 1, r->stamp, r->cand_slot, taken, ng, r->ticks, now_ns);
	r->st.records_out += cs1.records - cs0.records;
	r->st.poses_out += cs1.poses - cs0.poses;
	r->st.frames_out++;
	r->st.bytes_out += (uint64_t)len;
	emit(ud, rc->peer, r->frame, (size_t)len);
}

void pres_relay_tick(struct pres_relay *r, uint64_t now_ns,
		     void (*emit)(void *ud, uint32_t peer, const uint8_t *frame, size_t len), void *ud)
{
	if (now_ns < r->next_ns)
		return;
	/* on time: the next one period on; late by more than a period: from now */
	r->next_ns = (r->next_ns && now_ns - r->next_ns < r->period_ns) ? r->next_ns + r->period_ns
									  : now_ns + r->period_ns;
	r->ticks++;
	r->st.ticks++;
	pres_grid_clear(&r->grid);
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++) {
		struct pres_ruser *x = &r->users[i];
		x->placed = x->used && (x->u.valid & PROTO_PRES_F_HEAD);
		if (!x->placed)
			continue;
		pres_grid_cell_of(r->grid.cell_m, x->u.pose[PROTO_PRES_HEAD], x->cell);
		if (pres_grid_add(&r->grid, i, x->u.pose[PROTO_PRES_HEAD]) < 0)
			x->placed = false;
	}
	for (unsigned k = 0; k < PRES_RECEIVERS_MAX; k++)
		if (r->rcv[k])
			tick_receiver(r, r->rcv[k], now_ns, emit, ud);
	r->tick_stamp = r->stamp;
}

/* The voice relay asks this for every datagram and receiver: the
 * receiver's viewpoint cells are those of the last tick (at most a tick
 * old), the speaker's cell is taken from its newest head. */
bool pres_relay_audible(struct pres_relay *r, const uint8_t speaker[PROTO_PRES_KEY_LEN], uint32_t peer)
{
	bool pass = true;
	int s = user_find(r, speaker);
	const struct pres_rcv *rc = peer == PRES_FROM_LOCAL ? NULL : rcv_find(r, peer);
	if (s >= 0 && (r->users[s].u.valid & PROTO_PRES_F_HEAD) && rc && rc->n_vp) {
		int32_t sc[3];
		pres_grid_cell_of(r->cfg.cell_m, r->users[s].u.pose[PROTO_PRES_HEAD], sc);
		pass = false;
		for (unsigned v = 0; v < rc->n_vp && !pass; v++)
			pass = pres_grid_dist(sc, rc->vp_cell[v]) <= r->cfg.voice_cells;
	}
	if (pass)
		r->st.voice_passed++;
	else
		r->st.voice_culled++;
	return pass;
}

void pres_relay_stats(const struct pres_relay *r, struct pres_stats *st)
{
	*st = r->st;
}
