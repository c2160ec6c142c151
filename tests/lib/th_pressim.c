/* The simulated session of th_pressim.h. */
#include "th_pressim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "th_walk.h"

#define SIM_FRAMES_PER_TICK (8 * TH_PRESSIM_USERS_MAX) /* whole frames of many users take several */
#define SIM_HISTORY 128u
#define SIM_POS_TOL_M 0.0006f
#define SIM_ROT_TOL 1e-5f

struct sim_msg {
	bool to_host;
	unsigned member;
	size_t len;
	uint8_t b[PROTO_PRES_FRAME_MAX];
};

struct sim_slot {
	unsigned n;
	struct sim_msg m[SIM_FRAMES_PER_TICK];
};

struct th_pressim {
	struct th_pressim_config c;
	struct th_walk walk;
	uint64_t tick, rng;
	struct proto_pres_tx *host_tx[TH_PRESSIM_USERS_MAX], *mem_tx[TH_PRESSIM_USERS_MAX];
	struct proto_pres_rx *host_rx[TH_PRESSIM_USERS_MAX], *mem_rx[TH_PRESSIM_USERS_MAX];
	struct sim_slot line[TH_PRESSIM_DELAY_MAX + 1];
	/* everyone at each of the last SIM_HISTORY ticks: a decoded user is
	 * one of them (a frame may repeat a state offered ticks before) */
	struct proto_pres_user hist[SIM_HISTORY][TH_PRESSIM_USERS_MAX];
	struct proto_pres_user offer[TH_PRESSIM_USERS_MAX];
	struct proto_pres_frame f;
	struct th_pressim_stats st;
};

static uint32_t sim_rand(struct th_pressim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint32_t)(s->rng >> 16);
}

int th_pressim_new(const struct th_pressim_config *c, struct th_pressim **out)
{
	if (c->users == 0 || c->users > TH_PRESSIM_USERS_MAX || c->delay_ticks > TH_PRESSIM_DELAY_MAX)
		return -EINVAL;
	struct th_pressim *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->c = *c;
	if (!(s->c.near_m > 0))
		s->c.near_m = 8;
	if (!(s->c.far_m > 0))
		s->c.far_m = 32;
	if (!s->c.far_every)
		s->c.far_every = 18;
	if (!s->c.tick_hz)
		s->c.tick_hz = 90;
	s->rng = c->seed * 2654435761u + 1;
	th_walk_init(&s->walk, c->users, c->spread_m, c->seed);
	int r = 0;
	for (unsigned i = 0; i < c->users && r == 0; i++) {
		r = proto_pres_tx_new(&s->host_tx[i]);
		if (r == 0)
			r = proto_pres_tx_new(&s->mem_tx[i]);
		if (r == 0)
			r = proto_pres_rx_new(&s->host_rx[i]);
		if (r == 0)
			r = proto_pres_rx_new(&s->mem_rx[i]);
		if (r == 0)
			r = proto_pres_tx_set_coding(s->host_tx[i], c->coding);
		if (r == 0)
			r = proto_pres_tx_set_coding(s->mem_tx[i], c->coding);
		if (r == 0) {
			/* the host offers each user at its rate; the codec repeats it
			 * until acknowledged, as thetad/pres's relay does */
			proto_pres_tx_set_resend(s->host_tx[i], true);
			proto_pres_tx_set_resend(s->mem_tx[i], true);
		}
	}
	if (r < 0) {
		th_pressim_free(&s);
		return r;
	}
	*out = s;
	return 0;
}

void th_pressim_free(struct th_pressim **sp)
{
	struct th_pressim *s = *sp;
	if (!s)
		return;
	for (unsigned i = 0; i < TH_PRESSIM_USERS_MAX; i++) {
		proto_pres_tx_free(&s->host_tx[i]);
		proto_pres_tx_free(&s->mem_tx[i]);
		proto_pres_rx_free(&s->host_rx[i]);
		proto_pres_rx_free(&s->mem_rx[i]);
	}
	free(s);
	*sp = NULL;
}

void th_pressim_stats(const struct th_pressim *s, struct th_pressim_stats *st)
{
	*st = s->st;
}

static unsigned poses_of(uint32_t valid)
{
	return !!(valid & PROTO_PRES_F_HEAD) + !!(valid & PROTO_PRES_F_LEFT) + !!(valid & PROTO_PRES_F_RIGHT);
}

/* Code users[0..n) for one channel, as many frames as it takes. */
static int send(struct th_pressim *s, struct sim_slot *slot, bool to_host, unsigned member,
		struct proto_pres_tx *tx, struct proto_pres_rx *rx, uint64_t now, const struct proto_pres_user *users,
		unsigned n, void (*on_frame)(void *, const struct th_pressim_frame *), void *ud)
{
	unsigned off = 0;
	do {
		if (slot->n >= SIM_FRAMES_PER_TICK)
			return -ENOSPC;
		struct sim_msg *m = &slot->m[slot->n];
		unsigned taken = 0;
		int len = proto_pres_encode(tx, now, users + off, n - off, NULL, 0, proto_pres_rx_ack(rx), m->b,
					    sizeof m->b, &taken);
		if (len < 0)
			return len;
		unsigned poses = 0;
		for (unsigned k = off; k < off + taken; k++)
			poses += poses_of(users[k].valid);
		struct th_pressim_frame f = { .to_host = to_host, .member = member, .bytes = m->b, .len = (size_t)len };
		f.body = proto_pres_tx_last_body(tx, &f.body_len);
		f.records = taken;
		f.poses = poses;
		if (on_frame)
			on_frame(ud, &f);
		s->st.frames++;
		s->st.bytes += (uint64_t)len;
		s->st.records += taken;
		s->st.poses += poses;
		m->to_host = to_host;
		m->member = member;
		m->len = (size_t)len;
		slot->n++;
		if (taken == 0 && off < n)
			return -EPROTO;
		off += taken;
	} while (off < n);
	return 0;
}

static float dist2(const float *a, const float *b)
{
	float dx = a[0] - b[0], dz = a[2] - b[2];
	return dx * dx + dz * dz;
}

static bool same_user(const struct proto_pres_user *a, const struct proto_pres_user *b)
{
	if (memcmp(a->key, b->key, PROTO_PRES_KEY_LEN) != 0 || a->valid != b->valid)
		return false;
	for (unsigned p = 0; p < PROTO_PRES_PARTS; p++) {
		for (unsigned k = 0; k < 3; k++)
			if (fabsf(a->pose[p][k] - b->pose[p][k]) > SIM_POS_TOL_M)
				return false;
		float d = 0;
		for (unsigned k = 3; k < 7; k++)
			d += a->pose[p][k] * b->pose[p][k];
		if (1 - fabsf(d) > SIM_ROT_TOL)
			return false;
	}
	return true;
}

static int deliver(struct th_pressim *s, struct sim_slot *slot)
{
	for (unsigned j = 0; j < slot->n; j++) {
		struct sim_msg *m = &slot->m[j];
		if (sim_rand(s) % 1000 < s->c.loss_permille) {
			s->st.lost++;
			continue;
		}
		struct proto_pres_rx *rx = m->to_host ? s->host_rx[m->member] : s->mem_rx[m->member];
		struct proto_pres_tx *back = m->to_host ? s->host_tx[m->member] : s->mem_tx[m->member];
		int r = proto_pres_decode(rx, m->b, m->len, &s->f);
		if (r == -EALREADY || r == -ENOENT)
			continue; /* reordered past, or its baseline lost: the next one comes */
		if (r < 0)
			return r;
		proto_pres_tx_on_ack(back, s->f.ack);
		s->st.decoded++;
		for (unsigned k = 0; k < s->f.n; k++) {
			const struct proto_pres_user *u = &s->f.users[k];
			unsigned i = 0;
			while (i < s->c.users && memcmp(s->walk.u[i].key, u->key, PROTO_PRES_KEY_LEN) != 0)
				i++;
			if (i == s->c.users)
				return -EPROTO;
			bool found = false;
			for (uint64_t ago = 0; ago < SIM_HISTORY && ago <= s->tick && !found; ago++) {
				const struct proto_pres_user *h = &s->hist[(s->tick - ago) % SIM_HISTORY][i];
				if (h->t_ns / 100000 == u->t_ns / 100000)
					found = same_user(h, u);
			}
			if (!found)
				return -EPROTO;
			s->st.poses_decoded += poses_of(u->valid);
		}
	}
	slot->n = 0;
	return 0;
}

int th_pressim_tick(struct th_pressim *s, void (*on_frame)(void *ud, const struct th_pressim_frame *f), void *ud)
{
	uint64_t now = TH_PRESSIM_T0_NS + s->tick * (1000000000ull / s->c.tick_hz);
	th_walk_step(&s->walk, now);
	unsigned d = s->c.delay_ticks;
	int r = 0;
	if (d && s->tick >= d)
		r = deliver(s, &s->line[(s->tick - d) % (d + 1)]); /* what was sent d ticks ago */
	if (r < 0)
		return r;
	struct sim_slot *slot = &s->line[s->tick % (d + 1)];
	unsigned n = s->c.users;
	struct proto_pres_user *users = s->hist[s->tick % SIM_HISTORY];
	for (unsigned i = 0; i < n; i++)
		th_walk_user(&s->walk, i, &users[i]);
	bool far_tick = s->tick % s->c.far_every == 0;
	float near2 = s->c.near_m * s->c.near_m, far2 = s->c.far_m * s->c.far_m;
	for (unsigned i = 0; i < n && r == 0; i++) {
		r = send(s, slot, true, i, s->mem_tx[i], s->mem_rx[i], now, &users[i], 1, on_frame, ud);
		unsigned k = 0;
		for (unsigned j = 0; j < n; j++) {
			if (j == i)
				continue;
			float d2 = dist2(users[i].pose[PROTO_PRES_HEAD], users[j].pose[PROTO_PRES_HEAD]);
			if (d2 <= near2 || (d2 <= far2 && far_tick))
				s->offer[k++] = users[j];
		}
		if (r == 0 && k)
			r = send(s, slot, false, i, s->host_tx[i], s->host_rx[i], now, s->offer, k, on_frame, ud);
	}
	if (r == 0 && d == 0)
		r = deliver(s, slot);
	s->tick++;
	s->st.ticks++;
	return r;
}
