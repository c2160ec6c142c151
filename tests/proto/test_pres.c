/* proto/pres: presence frames round-trip to the quantized state on both
 * sides, are coded against the newest acknowledged baseline (whole when
 * none is usable), survive lost, reordered and duplicated frames, tell a
 * departure once and reuse its slot, keep their limits, and every malformed
 * frame is refused whole without changing the receiver. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pres.h"
#include "session.h"
#include "th_hash.h"
#include "th_schema.h"
#include "th_walk.h"

#define TICK_NS (1000000000ull / 90)
#define T0_NS 5000000000ull

struct chan {
	struct proto_pres_tx *tx;
	struct proto_pres_rx *rx;
	struct proto_pres_frame f;
	uint8_t b[PROTO_PRES_FRAME_MAX];
	int len;
};

static struct chan *chan_new(void)
{
	struct chan *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	assert_int_equal(proto_pres_tx_new(&c->tx), 0);
	assert_int_equal(proto_pres_rx_new(&c->rx), 0);
	return c;
}

static void chan_free(struct chan *c)
{
	proto_pres_tx_free(&c->tx);
	proto_pres_rx_free(&c->rx);
	assert_null(c->tx);
	free(c);
}

/* Codes users[0..n) (all must fit) and gone into c->b. */
static int code(struct chan *c, uint64_t now, const struct proto_pres_user *u, unsigned n,
		const uint8_t (*gone)[PROTO_PRES_KEY_LEN], unsigned n_gone)
{
	unsigned taken = 0;
	c->len = proto_pres_encode(c->tx, now, u, n, gone, n_gone, 0, c->b, sizeof c->b, &taken);
	if (c->len >= 0)
		assert_int_equal(taken, n);
	return c->len;
}

static int dec(struct chan *c)
{
	return proto_pres_decode(c->rx, c->b, (size_t)c->len, &c->f);
}

/* what the codec makes of a float position: the nearest mm */
static void assert_near_user(const struct proto_pres_user *want, const struct proto_pres_user *got)
{
	assert_memory_equal(want->key, got->key, PROTO_PRES_KEY_LEN);
	assert_int_equal(want->valid, got->valid);
	assert_true(got->t_ns <= want->t_ns && want->t_ns - got->t_ns < 100000);
	for (unsigned p = 0; p < PROTO_PRES_PARTS; p++) {
		if (!(want->valid & (1u << p)))
			continue;
		for (unsigned k = 0; k < 3; k++)
			assert_true(fabsf(want->pose[p][k] - got->pose[p][k]) <= 0.0005f + 1e-6f);
		float d = 0;
		for (unsigned k = 3; k < 7; k++)
			d += want->pose[p][k] * got->pose[p][k];
		assert_true(fabsf(d) > 1 - 1e-5f);
	}
	if (want->valid & PROTO_PRES_F_CURSOR) {
		for (unsigned k = 0; k < 3; k++)
			assert_true(fabsf(want->cursor[k] - got->cursor[k]) <= 0.0005f + 1e-6f);
		assert_int_equal(want->tool, got->tool);
	}
	if (want->valid & PROTO_PRES_F_PREVIEW) {
		assert_true(want->preview_target == got->preview_target);
		for (unsigned k = 0; k < 3; k++)
			assert_true(fabsf(want->preview[k] - got->preview[k]) <= 0.0005f + 1e-6f);
	}
}

static void full_user(struct proto_pres_user *u, uint8_t id)
{
	memset(u, 0, sizeof(*u));
	memset(u->key, id, sizeof u->key);
	u->valid = PROTO_PRES_F_ALL;
	u->t_ns = T0_NS - 3000000;
	for (unsigned p = 0; p < PROTO_PRES_PARTS; p++) {
		u->pose[p][0] = 1.5f + (float)p;
		u->pose[p][1] = 1.2f;
		u->pose[p][2] = -0.25f * (float)id;
		u->pose[p][6] = 1;
	}
	u->cursor[0] = 0.3f;
	u->cursor[1] = 1.0f;
	u->cursor[2] = -0.7f;
	u->tool = 3;
	u->preview_target = 0x1234567890abcdefull;
	u->preview[0] = 2;
	u->preview[4] = 0.6f;
	u->preview[6] = 0.8f;
}

static void every_field_round_trips_to_its_quantized_value(void **state)
{
	struct chan *c = chan_new();
	struct proto_pres_user u[3];
	full_user(&u[0], 1);
	full_user(&u[1], 2);
	u[1].valid = PROTO_PRES_F_HEAD | PROTO_PRES_F_SPEAKING;
	full_user(&u[2], 3);
	/* out of range: clamped; not normalized rotations: normalized */
	u[2].pose[0][0] = 5000;
	u[2].pose[0][1] = -5000;
	u[2].pose[1][3] = 2;
	u[2].pose[1][6] = 2;
	u[2].t_ns = T0_NS + 5000000; /* after the frame's time: the frame's time */
	assert_true(code(c, T0_NS, u, 3, NULL, 0) > 0);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.seq, 1);
	assert_int_equal(c->f.t_ns, T0_NS);
	assert_int_equal(c->f.n, 3);
	assert_near_user(&u[0], &c->f.users[0]);
	assert_near_user(&u[1], &c->f.users[1]);
	assert_int_equal(c->f.users[1].valid, PROTO_PRES_F_HEAD | PROTO_PRES_F_SPEAKING);
	const struct proto_pres_user *g = &c->f.users[2];
	assert_true(g->pose[0][0] == PROTO_PRES_RANGE_M && g->pose[0][1] == -PROTO_PRES_RANGE_M);
	assert_true(fabsf(g->pose[1][3] - 0.7071f) < 1e-3f && fabsf(g->pose[1][6] - 0.7071f) < 1e-3f);
	assert_int_equal(g->t_ns, T0_NS);
	/* the decoded values code to themselves: a relay passes them on unchanged */
	struct chan *c2 = chan_new();
	struct proto_pres_user again[3];
	memcpy(again, c->f.users, sizeof again);
	assert_true(code(c2, T0_NS, again, 3, NULL, 0) > 0);
	assert_int_equal(dec(c2), 0);
	assert_memory_equal(c2->f.users, again, sizeof again);
	chan_free(c);
	chan_free(c2);
}

static void frames_code_against_the_acknowledged_baseline(void **state)
{
	struct chan *c = chan_new();
	static struct th_walk w;
	th_walk_init(&w, 12, 20, 5);
	struct proto_pres_user u[12];
	struct proto_pres_stats st;
	th_walk_step(&w, T0_NS);
	for (unsigned i = 0; i < 12; i++)
		th_walk_user(&w, i, &u[i]);
	int whole = code(c, T0_NS, u, 12, NULL, 0);
	assert_true(whole > (int)(12 * PROTO_PRES_KEY_LEN));
	assert_int_equal(dec(c), 0);
	proto_pres_tx_stats(c->tx, &st);
	assert_int_equal(st.whole_records, 12);
	/* not acknowledged yet: whole again */
	int again = code(c, T0_NS + TICK_NS, u, 12, NULL, 0);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n, 12);
	proto_pres_tx_stats(c->tx, &st);
	assert_int_equal(st.whole_records, 24);
	assert_true(again > whole / 2);
	/* acknowledged: users that did not change are left out */
	proto_pres_tx_on_ack(c->tx, 2);
	assert_true(code(c, T0_NS + 2 * TICK_NS, u, 12, NULL, 0) > 0);
	assert_true(c->len < 16);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n, 0);
	/* moved: deltas, a fraction of the whole frame */
	unsigned total = 0;
	for (unsigned t = 3; t < 90; t++) {
		th_walk_step(&w, T0_NS + t * TICK_NS);
		for (unsigned i = 0; i < 12; i++)
			th_walk_user(&w, i, &u[i]);
		assert_true(code(c, T0_NS + t * TICK_NS, u, 12, NULL, 0) > 0);
		total += (unsigned)c->len;
		assert_int_equal(dec(c), 0);
		proto_pres_tx_on_ack(c->tx, c->f.seq);
		for (unsigned i = 0; i < c->f.n; i++) {
			const struct proto_pres_user *want = NULL;
			for (unsigned k = 0; k < 12; k++)
				if (memcmp(u[k].key, c->f.users[i].key, PROTO_PRES_KEY_LEN) == 0)
					want = &u[k];
			assert_non_null(want);
			assert_near_user(want, &c->f.users[i]);
		}
	}
	assert_true(total / 87 < (unsigned)whole / 4);
	proto_pres_tx_stats(c->tx, &st);
	assert_int_equal(st.whole_records, 24);
	/* an ack of a frame not sent, or older than the newest ack, is ignored */
	proto_pres_tx_on_ack(c->tx, 1000);
	proto_pres_tx_on_ack(c->tx, 3);
	th_walk_step(&w, T0_NS + 90 * TICK_NS);
	for (unsigned i = 0; i < 12; i++)
		th_walk_user(&w, i, &u[i]);
	assert_true(code(c, T0_NS + 90 * TICK_NS, u, 12, NULL, 0) > 0);
	assert_int_equal(dec(c), 0);
	proto_pres_tx_stats(c->tx, &st);
	assert_int_equal(st.whole_records, 24);
	chan_free(c);
}

static void a_baseline_too_old_gives_a_whole_frame(void **state)
{
	struct chan *c = chan_new();
	struct proto_pres_user u;
	struct proto_pres_stats st;
	full_user(&u, 9);
	assert_true(code(c, T0_NS, &u, 1, NULL, 0) > 0);
	assert_int_equal(dec(c), 0);
	proto_pres_tx_on_ack(c->tx, 1);
	/* acks stop; the baseline ages */
	for (unsigned t = 1; t <= PROTO_PRES_BASE_MAX_AGE + 3; t++) {
		u.pose[0][0] += 0.01f;
		u.t_ns += TICK_NS;
		assert_true(code(c, T0_NS + t * TICK_NS, &u, 1, NULL, 0) > 0);
		assert_int_equal(dec(c), 0);
		assert_near_user(&u, &c->f.users[0]);
		proto_pres_tx_stats(c->tx, &st);
		/* frames 2..1+MAX_AGE code against frame 1; later ones are whole */
		assert_int_equal(st.whole_records, 1 + (t + 1 > PROTO_PRES_BASE_MAX_AGE + 1 ? t + 1 - (PROTO_PRES_BASE_MAX_AGE + 1) : 0));
	}
	chan_free(c);
}

/* A walk over a lossy, reordering link: what is decoded is always what was
 * coded for that frame, whatever was lost before. */
static void lost_reordered_and_duplicated_frames(void **state)
{
	struct chan *c = chan_new();
	static struct th_walk w;
	enum { N = 12, TICKS = 900, HELD = 8 };
	th_walk_init(&w, N, 15, 77);
	struct proto_pres_user u[N];
	static uint8_t held[HELD][PROTO_PRES_FRAME_MAX];
	static struct proto_pres_user want[HELD][N];
	int held_len[HELD];
	uint64_t held_seq[HELD];
	unsigned nheld = 0, decoded = 0, refused_old = 0;
	uint64_t rng = 12345;
	for (unsigned t = 0; t < TICKS; t++) {
		uint64_t now = T0_NS + t * TICK_NS;
		th_walk_step(&w, now);
		for (unsigned i = 0; i < N; i++)
			th_walk_user(&w, i, &u[i]);
		assert_true(code(c, now, u, N, NULL, 0) > 0);
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		unsigned dice = (unsigned)(rng >> 33) % 100;
		if (dice < 10)
			continue; /* lost */
		if (dice < 25 && nheld < HELD) { /* held back, delivered later */
			memcpy(held[nheld], c->b, (size_t)c->len);
			memcpy(want[nheld], u, sizeof u);
			held_len[nheld] = c->len;
			held_seq[nheld++] = (uint64_t)t + 1;
			continue;
		}
		for (unsigned rep = 0; rep < (dice < 30 ? 2u : 1u); rep++) {
			int r = dec(c);
			if (rep) {
				assert_int_equal(r, -EALREADY); /* a duplicate */
				continue;
			}
			assert_int_equal(r, 0);
			decoded++;
			assert_int_equal(c->f.seq, t + 1);
			for (unsigned i = 0; i < c->f.n; i++) {
				const struct proto_pres_user *g = &c->f.users[i];
				unsigned k = 0;
				while (k < N && memcmp(u[k].key, g->key, PROTO_PRES_KEY_LEN) != 0)
					k++;
				assert_true(k < N);
				assert_near_user(&u[k], g);
			}
			if (dice < 60) /* the ack makes it back */
				proto_pres_tx_on_ack(c->tx, c->f.seq);
		}
		/* now and then the held frames arrive, late */
		if (dice > 95 && nheld) {
			for (unsigned h = 0; h < nheld; h++) {
				struct proto_pres_frame *f = &c->f;
				uint64_t ack_before = proto_pres_rx_ack(c->rx);
				int r = proto_pres_decode(c->rx, held[h], (size_t)held_len[h], f);
				assert_int_equal(r, -EALREADY);
				assert_true(held_seq[h] < ack_before);
				assert_int_equal(proto_pres_rx_ack(c->rx), ack_before);
				refused_old++;
				(void)want;
			}
			nheld = 0;
		}
	}
	assert_true(decoded > TICKS / 2);
	assert_true(refused_old > 0);
	struct proto_pres_stats st;
	proto_pres_rx_stats(c->rx, &st);
	assert_int_equal(st.frames, decoded);
	assert_int_equal(st.refused, 0);
	chan_free(c);
}

static void a_missing_baseline_is_enoent_and_changes_nothing(void **state)
{
	struct chan *c = chan_new();
	struct proto_pres_user u;
	full_user(&u, 4);
	assert_true(code(c, T0_NS, &u, 1, NULL, 0) > 0);
	assert_int_equal(dec(c), 0);
	proto_pres_tx_on_ack(c->tx, 1);
	u.pose[0][0] += 0.1f;
	assert_true(code(c, T0_NS + TICK_NS, &u, 1, NULL, 0) > 0);
	/* a receiver that never had frame 1 */
	struct proto_pres_rx *fresh;
	assert_int_equal(proto_pres_rx_new(&fresh), 0);
	assert_int_equal(proto_pres_decode(fresh, c->b, (size_t)c->len, &c->f), -ENOENT);
	assert_int_equal(proto_pres_rx_ack(fresh), 0);
	struct proto_pres_stats st;
	proto_pres_rx_stats(fresh, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.frames, 0);
	proto_pres_rx_free(&fresh);
	assert_int_equal(dec(c), 0);
	assert_near_user(&u, &c->f.users[0]);
	chan_free(c);
}

static void a_departure_is_told_once_and_its_slot_reused(void **state)
{
	struct chan *c = chan_new();
	struct proto_pres_user u[2];
	full_user(&u[0], 1);
	full_user(&u[1], 2);
	assert_true(code(c, T0_NS, u, 2, NULL, 0) > 0);
	assert_int_equal(dec(c), 0);
	proto_pres_tx_on_ack(c->tx, 1);
	/* user 2 leaves: told in every frame until a frame without it is acked, reported once */
	const uint8_t(*gone)[PROTO_PRES_KEY_LEN] = (const uint8_t(*)[PROTO_PRES_KEY_LEN])u[1].key;
	assert_true(code(c, T0_NS + TICK_NS, NULL, 0, gone, 1) > 0);
	int with_gone = c->len;
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n_gone, 1);
	assert_memory_equal(c->f.gone[0], u[1].key, PROTO_PRES_KEY_LEN);
	assert_true(code(c, T0_NS + 2 * TICK_NS, NULL, 0, NULL, 0) > 0);
	assert_int_equal(c->len, with_gone); /* still told */
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n_gone, 0); /* but reported once */
	proto_pres_tx_on_ack(c->tx, 3);
	assert_true(code(c, T0_NS + 3 * TICK_NS, NULL, 0, NULL, 0) > 0);
	assert_true(c->len < with_gone);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n_gone, 0);
	/* a new user takes the free slot: it comes with its key */
	struct proto_pres_user nu;
	full_user(&nu, 7);
	proto_pres_tx_on_ack(c->tx, 4);
	assert_true(code(c, T0_NS + 4 * TICK_NS, &nu, 1, NULL, 0) > (int)PROTO_PRES_KEY_LEN);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n, 1);
	assert_near_user(&nu, &c->f.users[0]);
	/* the departed user comes back: a new record with its key */
	proto_pres_tx_on_ack(c->tx, 5);
	assert_true(code(c, T0_NS + 5 * TICK_NS, &u[1], 1, NULL, 0) > (int)PROTO_PRES_KEY_LEN);
	assert_int_equal(dec(c), 0);
	assert_near_user(&u[1], &c->f.users[0]);
	/* a departure never sent to this receiver and an unknown key change nothing */
	uint8_t nobody[1][PROTO_PRES_KEY_LEN];
	memset(nobody, 0x55, sizeof nobody);
	proto_pres_tx_on_ack(c->tx, 6);
	assert_true(code(c, T0_NS + 6 * TICK_NS, NULL, 0, (const uint8_t(*)[PROTO_PRES_KEY_LEN])nobody, 1) > 0);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n_gone, 0);
	chan_free(c);
}

static void a_gone_user_is_told_even_when_its_frames_were_lost(void **state)
{
	struct chan *c = chan_new();
	struct proto_pres_user u;
	full_user(&u, 3);
	assert_true(code(c, T0_NS, &u, 1, NULL, 0) > 0);
	assert_int_equal(dec(c), 0); /* frame 1 known, never acked */
	const uint8_t(*gone)[PROTO_PRES_KEY_LEN] = (const uint8_t(*)[PROTO_PRES_KEY_LEN])u.key;
	assert_true(code(c, T0_NS + TICK_NS, NULL, 0, gone, 1) > 0); /* lost */
	assert_true(code(c, T0_NS + 2 * TICK_NS, NULL, 0, NULL, 0) > 0);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.n_gone, 1);
	assert_memory_equal(c->f.gone[0], u.key, PROTO_PRES_KEY_LEN);
	chan_free(c);
}

static void resend_and_still_users(void **state)
{
	struct proto_pres_user u[2];
	full_user(&u[0], 1);
	full_user(&u[1], 2);
	for (unsigned on = 0; on < 2; on++) {
		struct chan *c = chan_new();
		proto_pres_tx_set_resend(c->tx, on);
		assert_true(code(c, T0_NS, u, 2, NULL, 0) > 0);
		assert_int_equal(dec(c), 0);
		proto_pres_tx_on_ack(c->tx, 1);
		/* user 1 moves; its frame is lost */
		u[1].pose[0][0] += 0.5f;
		assert_true(code(c, T0_NS + TICK_NS, &u[1], 1, NULL, 0) > 0);
		/* the next frame offers only user 0, which has not changed */
		assert_true(code(c, T0_NS + 2 * TICK_NS, &u[0], 1, NULL, 0) > 0);
		assert_int_equal(dec(c), 0);
		struct proto_pres_stats st;
		proto_pres_rx_stats(c->rx, &st);
		if (on) {
			/* repeated until acknowledged */
			assert_int_equal(c->f.n, 1);
			assert_near_user(&u[1], &c->f.users[0]);
			assert_int_equal(st.poses, 2 * 3 + 3);
			proto_pres_tx_on_ack(c->tx, c->f.seq);
			assert_true(code(c, T0_NS + 3 * TICK_NS, NULL, 0, NULL, 0) > 0);
			assert_int_equal(dec(c), 0);
			assert_int_equal(c->f.n, 0);
		} else {
			/* only what was offered: nothing new */
			assert_int_equal(c->f.n, 0);
			assert_int_equal(st.poses, 2 * 3);
		}
		/* a still user sampled again is sent (a record with only its time) */
		struct proto_pres_user still = u[0];
		still.t_ns += 500000000;
		int with_values = code(c, T0_NS + 60 * TICK_NS, &still, 1, NULL, 0);
		assert_int_equal(dec(c), 0);
		assert_int_equal(c->f.n, 1);
		assert_true(c->f.users[0].t_ns == still.t_ns / 100000 * 100000);
		assert_near_user(&still, &c->f.users[0]);
		assert_true(with_values < 16);
		proto_pres_tx_stats(c->tx, &st);
		assert_true(st.poses >= 2 * 3 + 3);
		chan_free(c);
		u[1].pose[0][0] -= 0.5f;
	}
}

static void limits_users_keys_and_space(void **state)
{
	struct chan *c = chan_new();
	static struct proto_pres_user u[PROTO_PRES_USERS_MAX + 1];
	for (unsigned i = 0; i <= PROTO_PRES_USERS_MAX; i++) {
		full_user(&u[i], 1);
		th_walk_key(99, i, u[i].key);
	}
	unsigned taken = 0;
	/* more distinct users than slots: refused, nothing changes */
	assert_int_equal(proto_pres_encode(c->tx, T0_NS, u, PROTO_PRES_USERS_MAX + 1, NULL, 0, 0, c->b, sizeof c->b, &taken),
			 -EINVAL);
	/* a user without a key */
	struct proto_pres_user nokey = u[0];
	memset(nokey.key, 0, sizeof nokey.key);
	assert_int_equal(proto_pres_encode(c->tx, T0_NS, &nokey, 1, NULL, 0, 0, c->b, sizeof c->b, &taken), -EINVAL);
	/* no room for a header */
	assert_int_equal(proto_pres_encode(c->tx, T0_NS, u, 1, NULL, 0, 0, c->b, 4, &taken), -ENOSPC);
	struct proto_pres_stats st;
	proto_pres_tx_stats(c->tx, &st);
	assert_int_equal(st.frames, 0);
	/* all the slots, over several frames, none past the frame's size */
	unsigned off = 0, frames = 0;
	uint8_t seen[PROTO_PRES_USERS_MAX] = { 0 };
	uint64_t now = T0_NS;
	while (off < PROTO_PRES_USERS_MAX) {
		int len = proto_pres_encode(c->tx, now, u + off, PROTO_PRES_USERS_MAX - off, NULL, 0, 0, c->b,
					    sizeof c->b, &taken);
		assert_true(len > 0 && len <= (int)PROTO_PRES_FRAME_MAX);
		assert_true(taken > 0);
		c->len = len;
		assert_int_equal(dec(c), 0);
		/* the users taken, and others the receiver has not acknowledged */
		assert_true(c->f.n >= taken);
		for (unsigned i = 0; i < c->f.n; i++) {
			unsigned k = 0;
			while (k < PROTO_PRES_USERS_MAX && memcmp(u[k].key, c->f.users[i].key, PROTO_PRES_KEY_LEN) != 0)
				k++;
			assert_true(k < PROTO_PRES_USERS_MAX);
			assert_near_user(&u[k], &c->f.users[i]);
			seen[k] = 1;
		}
		off += taken;
		frames++;
		now += TICK_NS;
	}
	assert_true(frames > 1);
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++)
		assert_true(seen[i]);
	/* the channel is full: one more distinct user is refused */
	assert_int_equal(proto_pres_encode(c->tx, now, &u[PROTO_PRES_USERS_MAX], 1, NULL, 0, 0, c->b, sizeof c->b, &taken),
			 -EINVAL);
	/* a small buffer takes fewer users */
	assert_true(proto_pres_encode(c->tx, now, u, 10, NULL, 0, 0, c->b, 200, &taken) > 0);
	assert_true(taken < 10);
	/* a user offered twice in one frame is coded once */
	struct chan *d = chan_new();
	struct proto_pres_user two[2] = { u[0], u[0] };
	two[1].pose[0][0] = 9;
	assert_true(proto_pres_encode(d->tx, now, two, 2, NULL, 0, 0, d->b, sizeof d->b, &taken) > 0);
	assert_int_equal(taken, 2);
	chan_free(d);
	chan_free(c);
}

static void the_ack_field_and_stats(void **state)
{
	struct chan *c = chan_new();
	struct proto_pres_user u;
	full_user(&u, 5);
	unsigned taken;
	c->len = proto_pres_encode(c->tx, T0_NS, &u, 1, NULL, 0, 123456789, c->b, sizeof c->b, &taken);
	assert_true(c->len > 0);
	assert_int_equal(dec(c), 0);
	assert_int_equal(c->f.ack, 123456789);
	assert_int_equal(proto_pres_rx_ack(c->rx), 1);
	struct proto_pres_stats tx, rx;
	proto_pres_tx_stats(c->tx, &tx);
	proto_pres_rx_stats(c->rx, &rx);
	assert_int_equal(tx.frames, 1);
	assert_int_equal(rx.frames, 1);
	assert_int_equal(tx.bytes, (uint64_t)c->len);
	assert_int_equal(rx.bytes, (uint64_t)c->len);
	assert_int_equal(tx.records, 1);
	assert_int_equal(rx.records, 1);
	assert_int_equal(tx.raw_bytes, rx.raw_bytes);
	chan_free(c);
}

static void codings_and_the_dictionary(void **state)
{
	size_t dlen;
	const uint8_t *dict = proto_pres_dict(&dlen);
	assert_true(dlen > 1024);
	uint8_t h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, dict, dlen, NULL, 0);
	uint64_t want = 0;
	for (unsigned i = 0; i < 8; i++)
		want |= (uint64_t)h[i] << (8 * i);
	assert_true(proto_pres_dict_hash() == want);
	/* the handshake hash covers it */
	uint8_t b[24];
	th_put_le64(b, th_schema_hash());
	th_put_le64(b + 8, proto_sess_hash());
	th_put_le64(b + 16, want);
	assert_true(proto_sess_handshake_hash() == th_siphash(b, sizeof b));

	/* the same walk coded three ways: all decode to the same users; the
	 * dictionary makes one user's frames smaller than zstd alone */
	static struct th_walk w;
	struct chan *ch[3];
	const enum proto_pres_coding codings[3] = { PROTO_PRES_CODE_DICT, PROTO_PRES_CODE_PLAIN, PROTO_PRES_CODE_RAW };
	unsigned bytes[3] = { 0 };
	for (unsigned k = 0; k < 3; k++) {
		ch[k] = chan_new();
		assert_int_equal(proto_pres_tx_set_coding(ch[k]->tx, codings[k]), 0);
	}
	assert_int_equal(proto_pres_tx_set_coding(ch[0]->tx, (enum proto_pres_coding)7), -EINVAL);
	th_walk_init(&w, 2, 10, 3);
	struct proto_pres_user u[2];
	for (unsigned t = 0; t < 300; t++) {
		th_walk_step(&w, T0_NS + t * TICK_NS);
		th_walk_user(&w, 0, &u[0]);
		th_walk_user(&w, 1, &u[1]);
		for (unsigned k = 0; k < 3; k++) {
			assert_true(code(ch[k], T0_NS + t * TICK_NS, u, 2, NULL, 0) > 0);
			bytes[k] += (unsigned)ch[k]->len;
			assert_int_equal(dec(ch[k]), 0);
			proto_pres_tx_on_ack(ch[k]->tx, ch[k]->f.seq);
			if (k)
				assert_memory_equal(&ch[k]->f.users, &ch[0]->f.users, ch[0]->f.n * sizeof u[0]);
			assert_int_equal(ch[k]->f.n, ch[0]->f.n);
		}
	}
	assert_true(bytes[0] < bytes[1]);
	assert_true(bytes[1] <= bytes[2]);
	for (unsigned k = 0; k < 3; k++)
		chan_free(ch[k]);
}

/* ---- malformed frames: built byte by byte (docs/presence.md, "The frame") ---- */

struct fb {
	uint8_t b[2 * PROTO_PRES_FRAME_MAX];
	size_t n;
};

static void fb_u8(struct fb *f, unsigned v)
{
	f->b[f->n++] = (uint8_t)v;
}

static void fb_var(struct fb *f, uint64_t v)
{
	while (v >= 0x80) {
		fb_u8(f, (unsigned)(v | 0x80) & 0xff);
		v >>= 7;
	}
	fb_u8(f, (unsigned)v);
}

static uint64_t zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void fb_key(struct fb *f, uint8_t id)
{
	memset(f->b + f->n, id, PROTO_PRES_KEY_LEN);
	f->n += PROTO_PRES_KEY_LEN;
}

/* a raw frame's header: whole (age 0: seq, ack 0, time) or against the
 * frame age before (seq's low 16 bits, ack as the baseline's, time after
 * the baseline's) */
static void fb_head(struct fb *f, uint64_t seq, unsigned age, uint64_t t)
{
	f->n = 0;
	fb_u8(f, age << 2);
	if (age) {
		fb_u8(f, (unsigned)seq & 0xff);
		fb_u8(f, (unsigned)(seq >> 8) & 0xff);
		fb_var(f, 0);
		fb_var(f, zz((int64_t)t));
	} else {
		fb_var(f, seq);
		fb_var(f, 0);
		fb_var(f, t);
	}
}

/* a record's header: slot (| 0x80 key), change mask, valid (mask 0x40) */
static void fb_rec(struct fb *f, unsigned slot, unsigned mask, unsigned valid)
{
	fb_u8(f, slot);
	fb_u8(f, mask);
	if (mask & 0x40)
		fb_u8(f, valid);
}

/* where fb_head_user put the record's bytes */
static struct {
	size_t slot, valid, mask, time, idx;
} at;

/* one whole record of a head-only user at slot s: hdr / time / residuals / key columns */
static void fb_head_user(struct fb *f, unsigned slot, uint8_t id, int32_t x_mm)
{
	fb_var(f, 0);
	fb_var(f, 1);
	at.slot = f->n;
	fb_u8(f, slot | 0x80);
	at.mask = f->n;
	fb_u8(f, 0x41);
	at.valid = f->n;
	fb_u8(f, PROTO_PRES_F_HEAD);
	at.time = f->n;
	fb_var(f, 7);
	int32_t v[7] = { x_mm, 1600, -20, 3, 2048, 2048, 2048 };
	for (unsigned k = 0; k < 7; k++) {
		if (k == 3)
			at.idx = f->n;
		fb_var(f, zz(v[k]));
	}
	fb_key(f, id);
}

static struct proto_pres_rx *rx_with_one_frame(void)
{
	struct proto_pres_rx *rx;
	assert_int_equal(proto_pres_rx_new(&rx), 0);
	struct fb f;
	fb_head(&f, 1, 0, 50000);
	fb_head_user(&f, 0, 0x11, 1234);
	struct proto_pres_frame *out = malloc(sizeof(*out));
	assert_int_equal(proto_pres_decode(rx, f.b, f.n, out), 0);
	assert_int_equal(out->n, 1);
	assert_true(fabsf(out->users[0].pose[0][0] - 1.234f) < 1e-6f);
	assert_true(fabsf(out->users[0].pose[0][6] - 1.0f) < 1e-3f);
	free(out);
	return rx;
}

static void expect_refused(const struct fb *f, int want, const char *what)
{
	struct proto_pres_rx *rx = rx_with_one_frame();
	struct proto_pres_frame *out = malloc(sizeof(*out));
	memset(out, 0xa5, sizeof(*out));
	int r = proto_pres_decode(rx, f->b, f->n, out);
	if (r != want)
		print_error("%s: got %d, want %d\n", what, r, want);
	assert_int_equal(r, want);
	assert_true(out->seq == 0xa5a5a5a5a5a5a5a5ull); /* not written */
	/* nothing changed: the receiver still decodes a delta against frame 1 */
	assert_int_equal(proto_pres_rx_ack(rx), 1);
	struct fb ok;
	fb_head(&ok, 2, 1, 10);
	fb_var(&ok, 0);
	fb_var(&ok, 1);
	fb_rec(&ok, 0, 0x01, 0); /* the baseline's valid */
	fb_var(&ok, 0);
	int32_t d[7] = { 5, 0, 0, 0, 0, 0, 0 };
	for (unsigned k = 0; k < 7; k++)
		fb_var(&ok, zz(d[k]));
	assert_int_equal(proto_pres_decode(rx, ok.b, ok.n, out), 0);
	assert_int_equal(out->n, 1);
	assert_true(fabsf(out->users[0].pose[0][0] - 1.239f) < 1e-6f);
	assert_int_equal(out->t_ns, 50010ull * 100000);
	uint8_t key[PROTO_PRES_KEY_LEN];
	memset(key, 0x11, sizeof key);
	assert_memory_equal(out->users[0].key, key, sizeof key);
	struct proto_pres_stats st;
	proto_pres_rx_stats(rx, &st);
	assert_int_equal(st.refused, want == -EALREADY ? 0 : 1);
	free(out);
	proto_pres_rx_free(&rx);
}

static void every_malformed_frame_is_refused_whole(void **state)
{
	struct fb f;
	/* header */
	f.n = 0;
	expect_refused(&f, -EBADMSG, "empty");
	fb_head(&f, 2, 0, 1);
	f.b[0] = 0x80;
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "unknown flag");
	f.b[0] = 0x03;
	expect_refused(&f, -EBADMSG, "unknown coding");
	fb_head(&f, 0, 0, 1);
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "seq 0");
	fb_head(&f, 40, PROTO_PRES_BASE_MAX_AGE + 1, 1);
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "baseline too old");
	fb_head(&f, 2, 2, 1);
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "baseline before frame 1");
	fb_head(&f, 5, 2, 1);
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -ENOENT, "baseline never decoded");
	fb_head(&f, 1, 0, 1);
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EALREADY, "not newer");
	f.n = 0;
	fb_u8(&f, 0);
	fb_u8(&f, 0x82);
	fb_u8(&f, 0x00); /* seq 2 as two bytes: not minimal */
	fb_var(&f, 0), fb_u8(&f, 0), fb_var(&f, 1), fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "non-minimal varint");
	f.n = 0;
	fb_u8(&f, 0);
	for (unsigned i = 0; i < 11; i++)
		fb_u8(&f, 0xff);
	expect_refused(&f, -EBADMSG, "varint past 64 bits");
	fb_head(&f, 2, 0, 1);
	f.n--; /* the time cut */
	expect_refused(&f, -EBADMSG, "truncated header");
	fb_head(&f, 2, 1, 0);
	f.n--;
	fb_var(&f, zz(-60000)); /* before 0 */
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "time before 0");
	fb_head(&f, 2, 0, UINT64_MAX / 100000 + 1);
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "time past u64 ns");

	/* bodies */
	fb_head(&f, 2, 0, 100);
	f.b[0] = 1;
	memset(f.b + f.n, 0x5a, 40);
	f.n += 40;
	expect_refused(&f, -EBADMSG, "not zstd (dictionary)");
	f.b[0] = 2;
	expect_refused(&f, -EBADMSG, "not zstd (plain)");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "no record count");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, 0), fb_u8(&f, 0);
	expect_refused(&f, -EBADMSG, "trailing byte");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, PROTO_PRES_USERS_MAX + 1);
	expect_refused(&f, -EBADMSG, "too many records");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 65), fb_var(&f, 64);
	expect_refused(&f, -EBADMSG, "too many records and gone");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x22, 1);
	f.b[at.valid] = 0x40;
	expect_refused(&f, -EBADMSG, "unknown valid bit");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x22, 1);
	f.b[at.mask] = 0xc1;
	expect_refused(&f, -EBADMSG, "unknown mask bit");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x22, 1);
	f.b[at.mask] = 0x43; /* LEFT coded, not valid */
	expect_refused(&f, -EBADMSG, "a value for a field not held");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0x80, 0x40, PROTO_PRES_F_HEAD), fb_var(&f, 0);
	fb_key(&f, 0x22);
	expect_refused(&f, -EBADMSG, "a whole record missing a field");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0x80, 0x01, 0), fb_var(&f, 0);
	for (unsigned k = 0; k < 7; k++)
		fb_var(&f, zz(k == 3 ? 3 : k > 3 ? 2048 : 0));
	fb_key(&f, 0x22);
	expect_refused(&f, -EBADMSG, "a record with its key and no valid byte");
	fb_head(&f, 2, 1, 1);
	f.n -= 2;
	fb_var(&f, zz(-1)), fb_var(&f, zz(1)); /* ack before the baseline's 0 */
	fb_var(&f, 0), fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "ack before 0");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x00, 1);
	expect_refused(&f, -EBADMSG, "zero key");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x22, 1);
	f.n--; /* key cut */
	expect_refused(&f, -EBADMSG, "truncated key");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x22, 1);
	f.b[at.time] = 101; /* 10.1 ms before a frame at 10 ms */
	expect_refused(&f, -EBADMSG, "sample time before 0");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x22, PROTO_PRES_RANGE_M * 1000 + 1);
	expect_refused(&f, -EBADMSG, "position out of range");
	fb_head(&f, 2, 0, 100);
	fb_head_user(&f, 0, 0x22, 1);
	f.b[at.idx] = (uint8_t)zz(4); /* index 4 */
	expect_refused(&f, -EBADMSG, "smallest-three index 4");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0x80, 0x41, PROTO_PRES_F_HEAD);
	fb_var(&f, 0);
	{
		int32_t v[7] = { 0, 0, 0, 0, 4096, 0, 0 };
		for (unsigned k = 0; k < 7; k++)
			fb_var(&f, zz(v[k]));
	}
	fb_key(&f, 0x22);
	expect_refused(&f, -EBADMSG, "rotation component out of range");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0x80, 0x41, PROTO_PRES_F_HEAD);
	fb_var(&f, 0);
	for (unsigned k = 0; k < 7; k++)
		fb_var(&f, 0); /* three components of -0.707: not part of a unit quaternion */
	fb_key(&f, 0x22);
	expect_refused(&f, -EBADMSG, "rotation longer than 1");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0x80, 0x48, PROTO_PRES_F_CURSOR);
	fb_var(&f, 0);
	fb_var(&f, 0), fb_var(&f, 0), fb_var(&f, 0), fb_var(&f, zz(256));
	fb_key(&f, 0x22);
	expect_refused(&f, -EBADMSG, "tool past 255");
	fb_head(&f, 2, 0, 100);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0x80, 0x50, PROTO_PRES_F_PREVIEW);
	fb_var(&f, 0);
	for (unsigned k = 0; k < 7; k++)
		fb_var(&f, zz(k == 4 || k == 5 || k == 6 ? 2048 : 0));
	fb_key(&f, 0x22);
	expect_refused(&f, -EBADMSG, "a preview without its target");
	/* records naming the baseline (frame 1: slot 0 holds user 0x11) */
	fb_head(&f, 2, 1, 1);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 5, 0x01, 0), fb_var(&f, 0);
	for (unsigned k = 0; k < 7; k++)
		fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "no key for a slot the baseline does not hold");
	fb_head(&f, 2, 1, 1);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0, 0x41, PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT), fb_var(&f, 0);
	for (unsigned k = 0; k < 7; k++)
		fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "a field new to the record not coded");
	fb_head(&f, 2, 1, 1);
	fb_var(&f, 0), fb_var(&f, 2);
	fb_rec(&f, 0, 0x01, 0);
	fb_rec(&f, 0, 0x01, 0);
	fb_var(&f, 0), fb_var(&f, 0);
	for (unsigned k = 0; k < 14; k++)
		fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "a slot twice");
	fb_head(&f, 2, 1, 1);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0x81, 0x40, PROTO_PRES_F_SPEAKING), fb_var(&f, 0);
	fb_key(&f, 0x11);
	expect_refused(&f, -EBADMSG, "one user in two slots");
	fb_head(&f, 2, 1, 1);
	fb_var(&f, 1), fb_var(&f, 0);
	fb_u8(&f, 3);
	expect_refused(&f, -EBADMSG, "GONE without a key for a slot the baseline does not hold");
	fb_head(&f, 2, 1, 1);
	fb_var(&f, 1), fb_var(&f, 1);
	fb_u8(&f, 0);
	fb_rec(&f, 0, 0x01, 0), fb_var(&f, 0);
	for (unsigned k = 0; k < 7; k++)
		fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "a slot both gone and updated");
	fb_head(&f, 2, 1, 1);
	fb_var(&f, 0), fb_var(&f, 1);
	fb_rec(&f, 0, 0x01, 0), fb_var(&f, 0);
	for (unsigned k = 0; k < 6; k++)
		fb_var(&f, 0);
	expect_refused(&f, -EBADMSG, "a value missing");
	f.n = PROTO_PRES_FRAME_MAX + 1;
	memset(f.b, 0, f.n);
	expect_refused(&f, -EBADMSG, "longer than a frame");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_field_round_trips_to_its_quantized_value),
		cmocka_unit_test(frames_code_against_the_acknowledged_baseline),
		cmocka_unit_test(a_baseline_too_old_gives_a_whole_frame),
		cmocka_unit_test(lost_reordered_and_duplicated_frames),
		cmocka_unit_test(a_missing_baseline_is_enoent_and_changes_nothing),
		cmocka_unit_test(a_departure_is_told_once_and_its_slot_reused),
		cmocka_unit_test(a_gone_user_is_told_even_when_its_frames_were_lost),
		cmocka_unit_test(resend_and_still_users),
		cmocka_unit_test(limits_users_keys_and_space),
		cmocka_unit_test(the_ack_field_and_stats),
		cmocka_unit_test(codings_and_the_dictionary),
		cmocka_unit_test(every_malformed_frame_is_refused_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
