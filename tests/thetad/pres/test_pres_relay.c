/* thetad/pres/pres_relay.c and pres_link.c in simulated time with the real
 * codec (proto/pres.c): a host relay, members as pres_links on their own
 * receivers, frames carried both ways with chosen loss. Tiers and rates per
 * receiver (near and in view every tick, far at far_hz and staggered,
 * culled never, no viewpoint: far), previews withheld from viewers and
 * given to editors, role changes, receivers added and removed, departures
 * told until acknowledged, convergence through loss, full frames sending
 * the rest next, refreshes of unchanged users and quiet idle channels,
 * voice culling, refusals and the stats. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pres/pres_int.h"
#include "th_walk.h"

#define TICK_NS (1000000000ull / 90)
#define MEMBERS_MAX 8u
#define VIEW_MAX 160u
#define DELAY_MAX 8u

struct view {
	bool used;
	struct proto_pres_user u;
	unsigned records, preview_records;
	uint64_t last_tick;
};

struct member {
	uint32_t peer;
	struct pres_link *link;
	struct proto_pres_frame f;
	struct view v[VIEW_MAX];
	unsigned frames, gones, records_now;
	unsigned loss_in, loss_out; /* percent of frames lost towards / from it */
	unsigned drop_in;           /* this many next frames towards it are lost */
	unsigned delay;             /* ticks a frame takes each way (0: at once) */
	struct inflight {
		uint64_t due;
		bool to_host;
		size_t len;
		uint8_t b[PROTO_PRES_FRAME_MAX];
	} fly[DELAY_MAX * 2 + 2];
	unsigned nfly;
};

struct sim {
	struct pres_relay *r;
	struct pres_config cfg;
	struct member m[MEMBERS_MAX];
	unsigned nm;
	uint64_t now, ticks, rng;
	uint64_t emitted_bytes, emitted_frames;
	bool (*may)(void *ud, uint32_t peer, const uint8_t key[PROTO_PRES_KEY_LEN]);
	uint8_t refuse_key[PROTO_PRES_KEY_LEN];
	unsigned on_user_calls;
};

static struct sim S;

static unsigned rnd100(void)
{
	S.rng ^= S.rng << 13;
	S.rng ^= S.rng >> 7;
	S.rng ^= S.rng << 17;
	return (unsigned)(S.rng % 100);
}

static struct view *view_of(struct member *m, const uint8_t key[PROTO_PRES_KEY_LEN], bool add)
{
	struct view *free_v = NULL;
	for (unsigned i = 0; i < VIEW_MAX; i++) {
		if (m->v[i].used && !memcmp(m->v[i].u.key, key, PROTO_PRES_KEY_LEN))
			return &m->v[i];
		if (!m->v[i].used && !free_v)
			free_v = &m->v[i];
	}
	if (!add)
		return NULL;
	assert_non_null(free_v);
	memset(free_v, 0, sizeof *free_v);
	free_v->used = true;
	return free_v;
}

static struct member *member_of(uint32_t peer)
{
	for (unsigned i = 0; i < S.nm; i++)
		if (S.m[i].peer == peer)
			return &S.m[i];
	return NULL;
}

static void to_member(struct member *m, const uint8_t *frame, size_t len);

static void emit(void *ud, uint32_t peer, const uint8_t *frame, size_t len)
{
	assert_ptr_equal(ud, &S);
	assert_true(len > 0 && len <= PROTO_PRES_FRAME_MAX);
	S.emitted_bytes += len;
	S.emitted_frames++;
	struct member *m = member_of(peer);
	assert_non_null(m);
	if (m->drop_in) {
		m->drop_in--;
		return;
	}
	if (m->loss_in && rnd100() < m->loss_in)
		return;
	if (m->delay) {
		assert_true(m->nfly < sizeof m->fly / sizeof m->fly[0]);
		struct inflight *x = &m->fly[m->nfly++];
		*x = (struct inflight){ .due = S.ticks + m->delay, .to_host = false, .len = len };
		memcpy(x->b, frame, len);
		return;
	}
	to_member(m, frame, len);
}

static void to_member(struct member *m, const uint8_t *frame, size_t len)
{
	int rc = pres_link_on_frame(m->link, frame, len, &m->f);
	if (m->delay && rc == -EALREADY)
		return;
	assert_int_equal(rc, 0);
	m->frames++;
	for (unsigned g = 0; g < m->f.n_gone; g++) {
		struct view *v = view_of(m, m->f.gone[g], false);
		if (v)
			v->used = false;
		m->gones++;
	}
	m->records_now = m->f.n;
	for (unsigned k = 0; k < m->f.n; k++) {
		struct view *v = view_of(m, m->f.users[k].key, true);
		v->u = m->f.users[k];
		v->records++;
		v->preview_records += (m->f.users[k].valid & PROTO_PRES_F_PREVIEW) != 0;
		v->last_tick = S.ticks;
	}
}

static bool may(void *ud, uint32_t peer, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	(void)ud;
	(void)peer;
	return memcmp(key, S.refuse_key, PROTO_PRES_KEY_LEN) != 0;
}

static void on_user(void *ud, const struct proto_pres_user *u)
{
	(void)ud;
	(void)u;
	S.on_user_calls++;
}

static void sim_start(const struct pres_config *c)
{
	memset(&S, 0, sizeof S);
	S.rng = 0x1234567887654321ull;
	if (c)
		S.cfg = *c;
	else
		pres_config_default(&S.cfg);
	assert_int_equal(pres_relay_new(&S.cfg, &S.r), 0);
	S.now = 1000000000ull;
}

static struct member *sim_member(uint32_t peer, bool editor)
{
	assert_true(S.nm < MEMBERS_MAX);
	struct member *m = &S.m[S.nm++];
	memset(m, 0, sizeof *m);
	m->peer = peer;
	assert_int_equal(pres_link_new(&S.cfg, &m->link), 0);
	assert_int_equal(pres_relay_receiver_add(S.r, peer, editor), 0);
	return m;
}

static void sim_member_drop(struct member *m)
{
	pres_relay_receiver_remove(S.r, m->peer);
	pres_link_free(&m->link);
	m->peer = 0;
}

static void sim_end(void)
{
	for (unsigned i = 0; i < S.nm; i++)
		pres_link_free(&S.m[i].link);
	pres_relay_free(&S.r);
	assert_null(S.r);
}

/* One tick: members' frames to the host, then the host's to members. */
static void sim_step(void)
{
	S.now += TICK_NS;
	S.ticks++;
	for (unsigned i = 0; i < S.nm; i++) {
		struct member *m = &S.m[i];
		m->records_now = 0;
		if (!m->link)
			continue;
		/* what was in flight arrives */
		unsigned keep = 0;
		for (unsigned k = 0; k < m->nfly; k++) {
			struct inflight *x = &m->fly[k];
			if (x->due > S.ticks) {
				m->fly[keep++] = *x;
				continue;
			}
			if (!x->to_host) {
				to_member(m, x->b, x->len);
				continue;
			}
			int rc = pres_relay_on_frame(S.r, m->peer, x->b, x->len, S.now, S.may, on_user, &S);
			assert_true(rc == 0 || rc == -EALREADY);
		}
		m->nfly = keep;
		uint8_t buf[PROTO_PRES_FRAME_MAX];
		int len = pres_link_tick(m->link, S.now, buf, sizeof buf);
		assert_true(len >= 0);
		if (len <= 0 || (m->loss_out && rnd100() < m->loss_out))
			continue;
		if (m->delay) {
			assert_true(m->nfly < sizeof m->fly / sizeof m->fly[0]);
			struct inflight *x = &m->fly[m->nfly++];
			*x = (struct inflight){ .due = S.ticks + m->delay, .to_host = true, .len = (size_t)len };
			memcpy(x->b, buf, (size_t)len);
			continue;
		}
		assert_int_equal(pres_relay_on_frame(S.r, m->peer, buf, (size_t)len, S.now, S.may, on_user, &S), 0);
	}
	assert_true(pres_relay_next(S.r) <= S.now);
	pres_relay_tick(S.r, S.now, emit, &S);
	assert_true(pres_relay_next(S.r) > S.now);
}

static void key_of(uint8_t id, uint8_t key[PROTO_PRES_KEY_LEN])
{
	memset(key, 0xa5, PROTO_PRES_KEY_LEN);
	key[0] = id;
}

/* A user with a head at (x, y, z) turned by yaw degrees about +Y (0: facing -Z). */
static struct proto_pres_user at(uint8_t id, float x, float y, float z, float yaw_deg)
{
	struct proto_pres_user u = { .valid = PROTO_PRES_F_HEAD, .t_ns = S.now };
	key_of(id, u.key);
	float a = yaw_deg * (float)M_PI / 360.0f;
	float p[7] = { x, y, z, 0, sinf(a), 0, cosf(a) };
	memcpy(u.pose[PROTO_PRES_HEAD], p, sizeof p);
	return u;
}

static void local(const struct proto_pres_user *u)
{
	assert_int_equal(pres_relay_update(S.r, PRES_FROM_LOCAL, u, S.now), 0);
}

static unsigned records_of(struct member *m, uint8_t id)
{
	uint8_t key[PROTO_PRES_KEY_LEN];
	key_of(id, key);
	struct view *v = view_of(m, key, false);
	return v ? v->records : 0;
}

static struct view *seen(struct member *m, uint8_t id)
{
	uint8_t key[PROTO_PRES_KEY_LEN];
	key_of(id, key);
	return view_of(m, key, false);
}

static void reset_counts(struct member *m)
{
	for (unsigned i = 0; i < VIEW_MAX; i++)
		m->v[i].records = m->v[i].preview_records = 0;
	m->frames = m->gones = 0;
}

/* Cell centres with the default 4 m cells. */
#define C(n) (4.0f * (float)(n) + 2.0f)

enum { ID_VA = 1, ID_N, ID_V, ID_B, ID_F, ID_VF, ID_C };

/* Local users around member A's head (cell 0 0 0, facing -Z), each moving
 * every tick (a 3 mm bob, inside its cell). */
static void move_ring(unsigned t)
{
	float y = 1.6f + 0.003f * (float)(t % 7);
	struct proto_pres_user u;
	u = at(ID_N, C(1), y, C(0), 0);  /* next cell, to the side: near */
	local(&u);
	u = at(ID_V, C(0), y, C(-3), 0); /* 3 cells ahead, in view: near */
	local(&u);
	u = at(ID_B, C(0), y, C(3), 0);  /* 3 cells behind: far */
	local(&u);
	u = at(ID_F, C(6), y, C(0), 0);  /* 6 cells to the side: far */
	local(&u);
	u = at(ID_VF, C(0), y, C(-7), 0);/* ahead beyond view_cells: far */
	local(&u);
	u = at(ID_C, C(12), y, C(0), 0); /* beyond far_cells: culled */
	local(&u);
}

static void tiers_give_each_user_its_rate(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *a = sim_member(1, true);
	struct proto_pres_user va = at(ID_VA, C(0), 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(a->link, &va, S.now), 0);
	for (unsigned t = 0; t < 20; t++) {
		move_ring(t);
		sim_step();
	}
	reset_counts(a);
	struct pres_stats s0, s1;
	pres_relay_stats(S.r, &s0);
	for (unsigned t = 20; t < 200; t++) {
		move_ring(t);
		sim_step();
	}
	pres_relay_stats(S.r, &s1);
	/* 180 ticks = 2 s at 90 Hz; far_hz 5: 10 records in 2 s */
	assert_int_equal(records_of(a, ID_N), 180);
	assert_int_equal(records_of(a, ID_V), 180); /* in view beats distance */
	assert_int_equal(records_of(a, ID_B), 10);  /* as far as V, but behind */
	assert_int_equal(records_of(a, ID_F), 10);
	assert_int_equal(records_of(a, ID_VF), 10);
	assert_int_equal(records_of(a, ID_C), 0);
	assert_null(seen(a, ID_C));
	assert_null(seen(a, ID_VA)); /* its own user is not sent back */
	/* every pair changed every tick; four of the six are far or culled */
	assert_int_equal(s1.considered - s0.considered, 6 * 180);
	assert_int_equal(s1.irrelevant - s0.irrelevant, 4 * 180);
	assert_int_equal(s1.irrelevant_sent - s0.irrelevant_sent, 30);
	assert_int_equal(s1.records_out - s0.records_out, 2 * 180 + 30);
	assert_int_equal(s1.poses_out - s0.poses_out, 2 * 180 + 30);
	sim_end();
}

/* Frames 3 ticks each way (67 ms round trip): acks come late, the rates
 * hold (a far user is not sent again while its frame is in flight). */
static void rates_hold_over_a_round_trip(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *a = sim_member(1, true);
	a->delay = 3;
	struct proto_pres_user va = at(ID_VA, C(0), 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(a->link, &va, S.now), 0);
	for (unsigned t = 0; t < 20; t++) {
		move_ring(t);
		sim_step();
	}
	reset_counts(a);
	for (unsigned t = 20; t < 200; t++) {
		move_ring(t);
		sim_step();
	}
	assert_int_equal(records_of(a, ID_N), 180);
	assert_int_equal(records_of(a, ID_V), 180);
	for (uint8_t id = ID_B; id <= ID_VF; id++)
		assert_int_equal(records_of(a, id), 10);
	assert_int_equal(records_of(a, ID_C), 0);
	sim_end();
}

static void far_users_spread_over_ticks(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *a = sim_member(1, true);
	struct proto_pres_user va = at(ID_VA, C(0), 1.6f, C(0), 180); /* facing +Z */
	assert_int_equal(pres_link_local(a->link, &va, S.now), 0);
	unsigned per_tick_max = 0, per_tick_min = UINT32_MAX;
	for (unsigned t = 0; t < 200; t++) {
		/* 36 users on the square of cells at distance 5, behind A (z < 0 is behind when facing +Z) */
		for (unsigned k = 0; k < 36; k++) {
			int cx = -5 + (int)(k % 11), cz = -5 - (int)(k / 11) % 2;
			struct proto_pres_user u = at((uint8_t)(10 + k), C(cx), 1.6f + 0.003f * (float)(t % 5), C(cz), 0);
			local(&u);
		}
		sim_step();
		if (t >= 20) {
			if (a->records_now > per_tick_max)
				per_tick_max = a->records_now;
			if (a->records_now < per_tick_min)
				per_tick_min = a->records_now;
		}
	}
	/* 36 users at 5 Hz of 90: two a tick, never a burst of all of them */
	assert_true(per_tick_max <= 3);
	assert_true(per_tick_min >= 1);
	for (unsigned k = 0; k < 36; k++)
		assert_true(records_of(a, (uint8_t)(10 + k)) >= 10 && records_of(a, (uint8_t)(10 + k)) <= 12);
	sim_end();
}

static void a_receiver_without_viewpoints_gets_everyone_far(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *z = sim_member(1, false);
	for (unsigned t = 0; t < 20; t++) {
		move_ring(t);
		sim_step();
	}
	reset_counts(z);
	for (unsigned t = 20; t < 200; t++) {
		move_ring(t);
		sim_step();
	}
	for (uint8_t id = ID_N; id <= ID_C; id++)
		assert_int_equal(records_of(z, id), 10);
	sim_end();
}

/* Local user P with a cursor and a drag preview, moving each tick. */
static void move_dragger(unsigned t, bool dragging)
{
	struct proto_pres_user u = at(40, C(0), 1.6f, C(0) - 1.0f, 0);
	u.valid |= PROTO_PRES_F_CURSOR | (dragging ? PROTO_PRES_F_PREVIEW : PRES_ENDED(PROTO_PRES_F_PREVIEW));
	u.cursor[0] = 0.1f * (float)(t % 10);
	u.tool = 2;
	if (dragging) {
		u.preview_target = 77;
		float pv[7] = { 0.01f * (float)t, 1.0f, -2.0f, 0, 0, 0, 1 };
		memcpy(u.preview, pv, sizeof pv);
	}
	local(&u);
}

static void previews_go_to_editors_only_and_follow_the_role(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *e = sim_member(1, true), *w = sim_member(2, false);
	struct proto_pres_user ue = at(1, C(0), 1.6f, C(0), 0), uw = at(2, C(0) + 0.5f, 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(e->link, &ue, S.now), 0);
	assert_int_equal(pres_link_local(w->link, &uw, S.now), 0);
	unsigned t = 0;
	for (; t < 30; t++) {
		move_dragger(t, true);
		sim_step();
	}
	struct view *pe = seen(e, 40), *pw = seen(w, 40);
	assert_non_null(pe);
	assert_non_null(pw);
	assert_true(pe->u.valid & PROTO_PRES_F_PREVIEW);
	assert_true(pe->u.preview_target == 77);
	assert_true(fabsf(pe->u.preview[0] - 0.01f * (float)(t - 1)) < 0.002f);
	assert_true(pe->preview_records >= 25);
	assert_true(pw->u.valid & PROTO_PRES_F_CURSOR); /* a viewer sees cursors */
	assert_false(pw->u.valid & PROTO_PRES_F_PREVIEW);
	assert_int_equal(pw->preview_records, 0);
	/* viewers also see each other and the editor */
	assert_non_null(seen(w, 1));
	assert_non_null(seen(e, 2));
	struct pres_stats s;
	pres_relay_stats(S.r, &s);
	assert_true(s.previews_withheld >= 29);
	/* the viewer becomes an editor and the editor a viewer */
	pres_relay_receiver_role(S.r, 2, true);
	pres_relay_receiver_role(S.r, 1, false);
	for (unsigned k = 0; k < 5; k++, t++) {
		move_dragger(t, true);
		sim_step();
	}
	assert_true(pw->u.valid & PROTO_PRES_F_PREVIEW);
	assert_true(pw->u.preview_target == 77);
	assert_false(pe->u.valid & PROTO_PRES_F_PREVIEW);
	assert_true(pe->u.valid & PROTO_PRES_F_CURSOR);
	/* the drag ends: the editor sees it end */
	for (unsigned k = 0; k < 5; k++, t++) {
		move_dragger(t, false);
		sim_step();
	}
	assert_false(pw->u.valid & PROTO_PRES_F_PREVIEW);
	assert_true(pw->u.valid & PROTO_PRES_F_CURSOR);
	sim_end();
}

static void receivers_come_and_go_with_their_users(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *a = sim_member(1, true), *b = sim_member(2, true);
	struct proto_pres_user ua = at(1, C(0), 1.6f, C(0), 0), ub = at(2, C(0) + 1.0f, 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(a->link, &ua, S.now), 0);
	assert_int_equal(pres_link_local(b->link, &ub, S.now), 0);
	struct proto_pres_user h = at(3, C(0) - 1.0f, 1.6f, C(0), 0);
	local(&h);
	for (unsigned t = 0; t < 10; t++)
		sim_step();
	assert_non_null(seen(a, 2));
	assert_non_null(seen(a, 3));
	assert_non_null(seen(b, 1));
	/* B's connection ends: A is told B's user left */
	sim_member_drop(b);
	for (unsigned t = 0; t < 5; t++)
		sim_step();
	assert_null(seen(a, 2));
	assert_int_equal(a->gones, 1);
	assert_non_null(seen(a, 3));
	/* a receiver that arrives later gets everyone there */
	struct member *c = sim_member(3, false);
	for (unsigned t = 0; t < 5; t++)
		sim_step();
	assert_non_null(seen(c, 1));
	assert_non_null(seen(c, 3));
	assert_null(seen(c, 2));
	/* adding a receiver twice only changes its role; the host's own id is no receiver */
	assert_int_equal(pres_relay_receiver_add(S.r, 3, true), 0);
	assert_int_equal(pres_relay_receiver_add(S.r, PRES_FROM_LOCAL, true), -EINVAL);
	pres_relay_receiver_remove(S.r, 99); /* unknown: nothing */
	sim_end();
}

static void a_departure_is_told_until_acknowledged(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *a = sim_member(1, true);
	struct proto_pres_user ua = at(1, C(0), 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(a->link, &ua, S.now), 0);
	struct proto_pres_user g = at(5, C(0), 1.6f, C(0) - 2.0f, 0);
	local(&g);
	for (unsigned t = 0; t < 10; t++)
		sim_step();
	assert_non_null(seen(a, 5));
	pres_relay_user_gone(S.r, g.key);
	a->drop_in = 3; /* the first frames saying so are lost */
	for (unsigned t = 0; t < 3; t++)
		sim_step();
	assert_non_null(seen(a, 5));
	for (unsigned t = 0; t < 5; t++)
		sim_step();
	assert_null(seen(a, 5));
	/* once acknowledged it is no longer sent: A's frames stop repeating it */
	unsigned gones = a->gones;
	for (unsigned t = 0; t < 10; t++)
		sim_step();
	assert_true(a->gones - gones <= 1);
	/* the same key may come back */
	g.t_ns = S.now;
	local(&g);
	for (unsigned t = 0; t < 3; t++)
		sim_step();
	assert_non_null(seen(a, 5));
	/* a member's user that leaves reaches the host and the others */
	struct member *b = sim_member(2, true);
	struct proto_pres_user ub = at(6, C(0) + 1.0f, 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(b->link, &ub, S.now), 0);
	for (unsigned t = 0; t < 5; t++)
		sim_step();
	assert_non_null(seen(a, 6));
	pres_link_local_gone(b->link, ub.key);
	for (unsigned t = 0; t < 5; t++)
		sim_step();
	assert_null(seen(a, 6));
	sim_end();
}

static bool pose_close(const float *a, const float *b)
{
	for (int k = 0; k < 3; k++)
		if (fabsf(a[k] - b[k]) > 0.0015f)
			return false;
	float dot = 0;
	for (int k = 3; k < 7; k++)
		dot += a[k] * b[k];
	return fabsf(dot) > 0.9999f;
}

static bool user_close(const struct proto_pres_user *a, const struct proto_pres_user *b, uint32_t fields)
{
	if ((a->valid & fields) != (b->valid & fields))
		return false;
	for (unsigned k = 0; k < PROTO_PRES_PARTS; k++)
		if ((a->valid & (1u << k)) && !pose_close(a->pose[k], b->pose[k]))
			return false;
	if (a->valid & PROTO_PRES_F_CURSOR)
		for (int k = 0; k < 3; k++)
			if (fabsf(a->cursor[k] - b->cursor[k]) > 0.0015f || a->tool != b->tool)
				return false;
	if ((a->valid & PROTO_PRES_F_PREVIEW) &&
	    (a->preview_target != b->preview_target || !pose_close(a->preview, b->preview)))
		return false;
	return true;
}

/* A th_walk user as a whole state: the fields it lacks have ended. */
static void walk_user(const struct th_walk *w, unsigned i, struct proto_pres_user *u)
{
	th_walk_user(w, i, u);
	u->valid |= PRES_ENDED(PROTO_PRES_F_ALL & ~u->valid);
}

static void every_receiver_converges_through_loss(void **st)
{
	(void)st;
	struct pres_config c;
	pres_config_default(&c);
	c.near_cells = 64; /* everyone near: every user reaches every receiver */
	sim_start(&c);
	static struct th_walk w;
	th_walk_init(&w, 24, 30.0f, 7);
	struct member *m[2] = { sim_member(1, true), sim_member(2, true) };
	for (unsigned k = 0; k < 2; k++) {
		m[k]->loss_in = m[k]->loss_out = 25;
		m[k]->delay = k ? 3 : 0; /* one at once, one 3 ticks away (67 ms round trip) */
	}
	/* users 0..15 are the host's, 16..19 member 1's, 20..23 member 2's */
	for (unsigned t = 0; t < 270; t++) {
		th_walk_step(&w, S.now);
		for (unsigned i = 0; i < 24; i++) {
			struct proto_pres_user u;
			walk_user(&w, i, &u);
			if (i < 16)
				local(&u);
			else
				assert_int_equal(pres_link_local(m[(i - 16) / 4]->link, &u, S.now), 0);
		}
		sim_step();
	}
	/* everyone stands still; frames are still lost */
	for (unsigned t = 0; t < 180; t++)
		sim_step();
	for (unsigned k = 0; k < 2; k++) {
		unsigned n = 0;
		for (unsigned i = 0; i < VIEW_MAX; i++)
			n += m[k]->v[i].used;
		assert_int_equal(n, 20); /* all but its own four */
		for (unsigned i = 0; i < 24; i++) {
			struct proto_pres_user want;
			walk_user(&w, i, &want);
			struct view *v = view_of(m[k], want.key, false);
			if (i >= 16 && (i - 16) / 4 == k) {
				assert_null(v);
				continue;
			}
			assert_non_null(v);
			assert_true(user_close(&v->u, &want, PROTO_PRES_F_ALL));
		}
	}
	struct pres_stats ls;
	pres_link_stats(m[0]->link, &ls);
	assert_true(ls.frames_in > 0 && ls.frames_out > 0 && ls.records_out > 0);
	sim_end();
}

/* Many users, the default tiers, frames too small for everyone, loss both
 * ways: once everyone stands still, each receiver holds the final state
 * of every user it is not culled from. */
static void tiers_and_full_frames_still_converge_through_loss(void **st)
{
	(void)st;
	sim_start(NULL);
	enum { N = 100, PER = 4, M = 2, HOSTED = N - PER * M };
	static struct th_walk w;
	th_walk_init(&w, N, 60.0f, 23);
	struct member *m[M] = { sim_member(1, true), sim_member(2, false) };
	for (unsigned k = 0; k < M; k++) {
		m[k]->loss_in = m[k]->loss_out = 25;
		m[k]->delay = k ? 2 : 5;
	}
	unsigned short_frames = 0;
	for (unsigned t = 0; t < 270; t++) {
		th_walk_step(&w, S.now);
		for (unsigned i = 0; i < N; i++) {
			struct proto_pres_user u;
			walk_user(&w, i, &u);
			if (i < HOSTED)
				local(&u);
			else
				assert_int_equal(pres_link_local(m[(i - HOSTED) / PER]->link, &u, S.now), 0);
		}
		sim_step();
		short_frames += m[0]->records_now > 0 && m[0]->records_now < 40;
	}
	for (unsigned t = 0; t < 270; t++)
		sim_step();
	unsigned checked = 0;
	for (unsigned k = 0; k < M; k++) {
		int32_t vc[PER][3];
		for (unsigned j = 0; j < PER; j++) {
			struct proto_pres_user u;
			walk_user(&w, HOSTED + k * PER + j, &u);
			pres_grid_cell_of(S.cfg.cell_m, u.pose[PROTO_PRES_HEAD], vc[j]);
		}
		for (unsigned i = 0; i < N; i++) {
			if (i >= HOSTED && (i - HOSTED) / PER == k)
				continue;
			struct proto_pres_user want;
			walk_user(&w, i, &want);
			int32_t c[3];
			pres_grid_cell_of(S.cfg.cell_m, want.pose[PROTO_PRES_HEAD], c);
			bool culled = true;
			for (unsigned j = 0; j < PER; j++)
				culled &= pres_grid_dist(c, vc[j]) > S.cfg.far_cells;
			if (culled)
				continue;
			struct view *v = view_of(m[k], want.key, false);
			assert_non_null(v);
			uint32_t fields = PROTO_PRES_F_ALL & ~(m[k]->peer == 2 ? PROTO_PRES_F_PREVIEW : 0u);
			assert_true(user_close(&v->u, &want, fields));
			if (m[k]->peer == 2)
				assert_false(v->u.valid & PROTO_PRES_F_PREVIEW);
			checked++;
		}
	}
	assert_true(checked > 40);
	assert_true(short_frames > 0);
	sim_end();
}

static void a_full_frame_sends_the_rest_next_tick(void **st)
{
	(void)st;
	struct pres_config c;
	pres_config_default(&c);
	c.near_cells = 64;
	sim_start(&c);
	struct member *a = sim_member(1, true);
	struct proto_pres_user ua = at(200, 0, 1.6f, 0, 0);
	assert_int_equal(pres_link_local(a->link, &ua, S.now), 0);
	enum { N = 120 };
	unsigned short_ticks = 0, min_per_frame = UINT32_MAX;
	uint64_t last[N] = { 0 }, max_gap = 0;
	for (unsigned t = 0; t < 60; t++) {
		for (unsigned i = 0; i < N; i++) {
			/* every part moves a lot every tick: little to gain from deltas */
			struct proto_pres_user u = at((uint8_t)i + 1, 0, 0, 0, 0);
			u.valid = PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT;
			for (unsigned k = 0; k < 3; k++) {
				float ph = (float)(t * 7 + i * 13 + k * 29);
				float p[7] = { 50.0f * sinf(ph), 2.0f * cosf(ph * 1.3f), 50.0f * cosf(ph * 0.7f),
					       sinf(ph * 0.5f) * 0.6f, cosf(ph * 0.5f) * 0.6f, 0.3f, 0.447f };
				memcpy(u.pose[k], p, sizeof p);
			}
			local(&u);
		}
		sim_step();
		if (a->records_now < N)
			short_ticks++;
		if (t >= 2 && a->records_now < min_per_frame)
			min_per_frame = a->records_now;
		for (unsigned i = 0; i < N; i++) {
			struct view *v = seen(a, (uint8_t)i + 1);
			if (v && v->last_tick == S.ticks) {
				if (last[i] && S.ticks - last[i] > max_gap)
					max_gap = S.ticks - last[i];
				last[i] = S.ticks;
			}
		}
	}
	assert_true(short_ticks > 0); /* the frame could not hold everyone */
	for (unsigned i = 0; i < N; i++)
		assert_true(last[i] > 0);
	/* each user waits only for those ahead of it, round robin: never
	 * longer than the frames it takes to send everyone once, and one */
	assert_true(min_per_frame > 0 && min_per_frame < N);
	assert_true(max_gap <= (N + min_per_frame - 1) / min_per_frame + 1);
	sim_end();
}

static void unchanged_users_are_refreshed_and_idle_channels_fall_quiet(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *a = sim_member(1, true);
	struct proto_pres_user ua = at(1, C(0), 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(a->link, &ua, S.now), 0);
	struct proto_pres_user still = at(2, C(0), 1.6f, C(0) - 2.0f, 0);
	local(&still);
	for (unsigned t = 0; t < 20; t++)
		sim_step();
	/* nothing changes, no time moves: no frames either way */
	reset_counts(a);
	struct pres_stats r0, r1, l0, l1;
	pres_relay_stats(S.r, &r0);
	pres_link_stats(a->link, &l0);
	for (unsigned t = 0; t < 90; t++)
		sim_step();
	pres_relay_stats(S.r, &r1);
	pres_link_stats(a->link, &l1);
	assert_int_equal(r1.frames_out - r0.frames_out, 0);
	assert_int_equal(l1.frames_out - l0.frames_out, 0);
	assert_int_equal(r1.ticks - r0.ticks, 90);
	/* the same pose with newer sample times: refreshed about every PRES_REFRESH_NS */
	for (unsigned t = 0; t < 180; t++) {
		still.t_ns = S.now;
		local(&still);
		sim_step();
	}
	unsigned n = records_of(a, 2), want = (unsigned)(180 * TICK_NS / PRES_REFRESH_NS);
	print_message("refreshes %u, want %u\n", n, want);
	assert_true(n >= want - 1 && n <= want + 1);
	struct pres_stats r2;
	pres_relay_stats(S.r, &r2);
	assert_int_equal(r2.considered - r1.considered, 0); /* refreshes are not changes */
	sim_end();
}

static void voices_far_away_are_culled(void **st)
{
	(void)st;
	sim_start(NULL);
	struct member *a = sim_member(1, true);
	sim_member(2, true); /* no users: no viewpoint */
	struct proto_pres_user ua = at(1, C(0), 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(a->link, &ua, S.now), 0);
	for (unsigned t = 0; t < 3; t++)
		sim_step();
	struct proto_pres_user near = at(10, C(6), 1.6f, C(0), 0), far = at(11, C(7), 1.6f, C(0), 0);
	local(&near);
	local(&far);
	struct proto_pres_user nohead = { .valid = PROTO_PRES_F_SPEAKING, .t_ns = S.now };
	key_of(12, nohead.key);
	local(&nohead);
	uint8_t unknown[PROTO_PRES_KEY_LEN];
	key_of(13, unknown);
	assert_true(pres_relay_audible(S.r, near.key, 1)); /* 6 cells: voice_cells */
	assert_false(pres_relay_audible(S.r, far.key, 1)); /* 7 cells */
	assert_true(pres_relay_audible(S.r, far.key, 2));  /* a receiver with no viewpoint */
	assert_true(pres_relay_audible(S.r, far.key, 9));  /* unknown receiver */
	assert_true(pres_relay_audible(S.r, nohead.key, 1));
	assert_true(pres_relay_audible(S.r, unknown, 1));
	/* a receiver's viewpoint moves near */
	ua = at(1, C(5), 1.6f, C(0), 0);
	ua.t_ns = S.now + 1;
	assert_int_equal(pres_link_local(a->link, &ua, S.now), 0);
	sim_step();
	assert_true(pres_relay_audible(S.r, far.key, 1));
	struct pres_stats s;
	pres_relay_stats(S.r, &s);
	assert_int_equal(s.voice_culled, 1);
	assert_int_equal(s.voice_passed, 6);
	sim_end();
}

static void a_spread_out_scene_filters_most_irrelevant_updates(void **st)
{
	(void)st;
	sim_start(NULL);
	static struct th_walk w;
	enum { HOSTED = 24, MEMBERS = 8 };
	th_walk_init(&w, HOSTED + MEMBERS, 300.0f, 11);
	for (unsigned k = 0; k < MEMBERS; k++)
		sim_member(k + 1, k % 2 == 0);
	uint64_t records_seen = 0;
	for (unsigned t = 0; t < 180; t++) {
		th_walk_step(&w, S.now);
		for (unsigned i = 0; i < HOSTED + MEMBERS; i++) {
			struct proto_pres_user u;
			walk_user(&w, i, &u);
			if (i < HOSTED)
				local(&u);
			else
				assert_int_equal(pres_link_local(S.m[i - HOSTED].link, &u, S.now), 0);
		}
		sim_step();
		for (unsigned k = 0; k < MEMBERS; k++)
			records_seen += S.m[k].records_now;
	}
	struct pres_stats s;
	pres_relay_stats(S.r, &s);
	assert_true(s.irrelevant_sent <= s.irrelevant && s.irrelevant <= s.considered);
	assert_true(s.irrelevant > 0);
	double filtered = 100.0 * (double)(s.irrelevant - s.irrelevant_sent) / (double)s.irrelevant;
	assert_true(filtered >= 90.0);
	assert_int_equal(s.ticks, 180);
	assert_int_equal(s.frames_out, S.emitted_frames);
	assert_int_equal(s.bytes_out, S.emitted_bytes);
	assert_int_equal(s.records_out, records_seen); /* nothing lost */
	assert_true(s.poses_out >= s.records_out);
	assert_true(s.frames_in > 0 && s.bytes_in > 0 && s.updates_in > 0);
	assert_int_equal(s.refused_in, 0);
	sim_end();
}

static void frames_and_users_that_break_the_rules_are_refused(void **st)
{
	(void)st;
	sim_start(NULL);
	S.may = may;
	struct member *a = sim_member(1, true), *b = sim_member(2, true);
	struct proto_pres_user ua = at(1, C(0), 1.6f, C(0), 0), forged = at(2, C(0) + 1, 1.6f, C(0), 0);
	memcpy(S.refuse_key, forged.key, PROTO_PRES_KEY_LEN);
	assert_int_equal(pres_link_local(a->link, &ua, S.now), 0);
	assert_int_equal(pres_link_local(a->link, &forged, S.now), 0);
	struct proto_pres_user ub = at(3, C(0) - 1, 1.6f, C(0), 0);
	assert_int_equal(pres_link_local(b->link, &ub, S.now), 0);
	for (unsigned t = 0; t < 10; t++)
		sim_step();
	assert_non_null(seen(b, 1));
	assert_null(seen(b, 2)); /* refused by may_update: not relayed */
	struct pres_stats s;
	pres_relay_stats(S.r, &s);
	assert_true(s.refused_in > 0);
	assert_true(S.on_user_calls >= 2); /* users 1 and 3 reached the host's clients */
	unsigned calls = S.on_user_calls;
	for (unsigned t = 0; t < 10; t++)
		sim_step(); /* nothing moves: the host's clients hear nothing new */
	assert_int_equal(S.on_user_calls, calls);
	/* a frame from a peer with no receiver, and garbage */
	uint8_t junk[64];
	memset(junk, 0xee, sizeof junk);
	assert_int_equal(pres_relay_on_frame(S.r, 77, junk, sizeof junk, S.now, may, NULL, NULL), -ENOTCONN);
	uint64_t refused = s.refused_in;
	assert_true(pres_relay_on_frame(S.r, 1, junk, sizeof junk, S.now, may, NULL, NULL) < 0);
	pres_relay_stats(S.r, &s);
	assert_int_equal(s.refused_in, refused + 1);
	struct proto_pres_frame *f = &a->f;
	assert_true(pres_link_on_frame(a->link, junk, sizeof junk, f) < 0);
	struct pres_stats ls;
	pres_link_stats(a->link, &ls);
	assert_int_equal(ls.refused_in, 1);
	sim_end();
}

static void updates_are_checked_and_bounded(void **st)
{
	(void)st;
	sim_start(NULL);
	struct proto_pres_user u = at(1, 1, 1, 1, 0);
	u.t_ns = 500;
	local(&u);
	struct proto_pres_user old = at(1, 9, 9, 9, 0);
	old.t_ns = 400; /* older than the newest: ignored */
	local(&old);
	struct member *a = sim_member(1, true);
	for (unsigned t = 0; t < 20; t++)
		sim_step(); /* no viewpoint: at the far rate */
	assert_non_null(seen(a, 1));
	assert_true(fabsf(seen(a, 1)->u.pose[PROTO_PRES_HEAD][0] - 1.0f) < 0.002f);
	struct proto_pres_user bad = at(2, NAN, 0, 0, 0);
	assert_int_equal(pres_relay_update(S.r, PRES_FROM_LOCAL, &bad, S.now), -EINVAL);
	assert_int_equal(pres_link_local(a->link, &bad, S.now), -EINVAL);
	bad = at(2, 0, 0, 0, 0);
	memset(bad.key, 0, sizeof bad.key);
	assert_int_equal(pres_relay_update(S.r, PRES_FROM_LOCAL, &bad, S.now), -EINVAL);
	/* as many users as a channel carries, then no more */
	for (unsigned i = 1; i < PROTO_PRES_USERS_MAX; i++) {
		struct proto_pres_user x = at(0, 0, 0, 0, 0);
		x.key[1] = (uint8_t)i;
		x.key[2] = (uint8_t)(i >> 8);
		local(&x);
	}
	struct proto_pres_user more = at(0, 0, 0, 0, 0);
	more.key[1] = 0xff;
	more.key[2] = 0xff;
	assert_int_equal(pres_relay_update(S.r, PRES_FROM_LOCAL, &more, S.now), -ENOSPC);
	pres_relay_user_gone(S.r, u.key);
	assert_int_equal(pres_relay_update(S.r, PRES_FROM_LOCAL, &more, S.now), 0);
	/* settings are checked; a bad reload keeps the old ones */
	struct pres_config c;
	pres_config_default(&c);
	c.tick_hz = 1;
	struct pres_relay *r2 = NULL;
	struct pres_link *l2 = NULL;
	assert_int_equal(pres_relay_new(&c, &r2), -EINVAL);
	assert_int_equal(pres_link_new(&c, &l2), -EINVAL);
	pres_relay_configure(S.r, &c);
	uint64_t next = pres_relay_next(S.r);
	pres_relay_tick(S.r, next - 1, emit, &S); /* not due: nothing */
	assert_int_equal(pres_relay_next(S.r), next);
	pres_relay_tick(S.r, next, emit, &S);
	assert_int_equal(pres_relay_next(S.r), next + TICK_NS); /* still 90 Hz */
	/* late by more than a period: the next one a period from now */
	pres_relay_tick(S.r, next + 10 * TICK_NS, emit, &S);
	assert_int_equal(pres_relay_next(S.r), next + 11 * TICK_NS);
	/* a receiver table of PRES_RECEIVERS_MAX */
	for (uint32_t p = 100; p < 100 + PRES_RECEIVERS_MAX - 1; p++)
		assert_int_equal(pres_relay_receiver_add(S.r, p, false), 0);
	assert_int_equal(pres_relay_receiver_add(S.r, 5000, false), -ENOSPC);
	pres_relay_free(&S.r);
	pres_relay_free(&S.r); /* NULL-safe */
	pres_link_free(&l2);
	sim_end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tiers_give_each_user_its_rate),
		cmocka_unit_test(rates_hold_over_a_round_trip),
		cmocka_unit_test(far_users_spread_over_ticks),
		cmocka_unit_test(a_receiver_without_viewpoints_gets_everyone_far),
		cmocka_unit_test(previews_go_to_editors_only_and_follow_the_role),
		cmocka_unit_test(receivers_come_and_go_with_their_users),
		cmocka_unit_test(a_departure_is_told_until_acknowledged),
		cmocka_unit_test(every_receiver_converges_through_loss),
		cmocka_unit_test(tiers_and_full_frames_still_converge_through_loss),
		cmocka_unit_test(a_full_frame_sends_the_rest_next_tick),
		cmocka_unit_test(unchanged_users_are_refreshed_and_idle_channels_fall_quiet),
		cmocka_unit_test(voices_far_away_are_culled),
		cmocka_unit_test(a_spread_out_scene_filters_most_irrelevant_updates),
		cmocka_unit_test(frames_and_users_that_break_the_rules_are_refused),
		cmocka_unit_test(updates_are_checked_and_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
