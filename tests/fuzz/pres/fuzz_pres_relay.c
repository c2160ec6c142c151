/* libFuzzer: thetad/pres's host relay and member links driven by the input
 * as a run of operations (one byte each, then its arguments): a member's
 * or the host's user updated (any bits, any values), a tick (members'
 * frames to the host, some bytes of them flipped, then the host's frames
 * to the members), a frame of raw bytes from a member, a receiver removed
 * or added back (with a fresh member link), a role change, a departure, a
 * voice query. The relay must refuse what is bad without failing, every
 * frame it emits must fit PROTO_PRES_FRAME_MAX and decode at its member,
 * decoded users must hold finite values, and the stats must keep their
 * order (irrelevant_sent <= irrelevant <= considered). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pres/pres.h"

#define FZ_MEMBERS 3u
#define FZ_TICK_NS (1000000000ull / 90)

static struct pres_relay *R;
static struct pres_link *L[FZ_MEMBERS];
static bool present[FZ_MEMBERS];
static struct proto_pres_frame F;
static uint64_t now;

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void key_of(uint8_t id, uint8_t key[PROTO_PRES_KEY_LEN])
{
	memset(key, 0x3c, PROTO_PRES_KEY_LEN);
	key[0] = id;
}

/* A member owns the users whose id is its index modulo FZ_MEMBERS. */
static bool may(void *ud, uint32_t peer, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	(void)ud;
	return peer >= 1 && key[0] % FZ_MEMBERS == peer - 1;
}

static void check_user(const struct proto_pres_user *u)
{
	if (u->valid & ~PROTO_PRES_F_ALL)
		abort();
	for (unsigned k = 0; k < PROTO_PRES_PARTS; k++)
		if (u->valid & (1u << k))
			for (unsigned j = 0; j < 7; j++)
				if (!isfinite(u->pose[k][j]))
					abort();
}

static void to_member(void *ud, uint32_t peer, const uint8_t *frame, size_t len)
{
	(void)ud;
	if (peer < 1 || peer > FZ_MEMBERS || !present[peer - 1] || len == 0 || len > PROTO_PRES_FRAME_MAX)
		abort();
	int rc = pres_link_on_frame(L[peer - 1], frame, len, &F);
	if (rc < 0)
		abort(); /* the host's own frames, undamaged and in order */
	for (unsigned i = 0; i < F.n; i++)
		check_user(&F.users[i]);
}

static void on_user(void *ud, const struct proto_pres_user *u)
{
	(void)ud;
	check_user(u);
}

static float coord(struct in *in)
{
	int8_t v = (int8_t)byte(in);
	/* mostly a few cells around the origin, sometimes out of range */
	return v == -128 ? 5000.0f : (float)v * 0.5f;
}

static void user_from(struct in *in, uint8_t id, struct proto_pres_user *u)
{
	memset(u, 0, sizeof *u);
	key_of(id, u->key);
	uint8_t f = byte(in);
	u->valid = f & PROTO_PRES_F_ALL;
	if (f & 0x40)
		u->valid |= PRES_ENDED(byte(in) & PROTO_PRES_F_ALL);
	if (f & 0x80)
		u->valid |= 0x4000u; /* a bit no one defines: refused */
	u->t_ns = now - (byte(in) % 4) * FZ_TICK_NS;
	for (unsigned k = 0; k < PROTO_PRES_PARTS; k++) {
		float a = (float)byte(in) * 0.0246f;
		float p[7] = { coord(in), 1.6f, coord(in), 0, sinf(a), 0, cosf(a) };
		memcpy(u->pose[k], p, sizeof p);
	}
	u->cursor[0] = coord(in);
	u->tool = byte(in);
	u->preview_target = byte(in);
	u->preview[6] = 1.0f;
	if (byte(in) == 0xff)
		u->pose[PROTO_PRES_HEAD][0] = NAN; /* refused */
}

static void tick(struct in *in)
{
	now += FZ_TICK_NS;
	uint8_t damage = byte(in);
	for (unsigned m = 0; m < FZ_MEMBERS; m++) {
		if (!present[m])
			continue;
		uint8_t buf[PROTO_PRES_FRAME_MAX];
		int len = pres_link_tick(L[m], now, buf, sizeof buf);
		if (len < 0)
			abort();
		if (len == 0)
			continue;
		if ((damage >> m) & 1u)
			buf[byte(in) % (unsigned)len] ^= (uint8_t)(1u << (byte(in) % 8));
		pres_relay_on_frame(R, m + 1, buf, (size_t)len, now, may, on_user, NULL);
	}
	pres_relay_tick(R, now, to_member, NULL);
	struct pres_stats s;
	pres_relay_stats(R, &s);
	if (s.irrelevant_sent > s.irrelevant || s.irrelevant > s.considered)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pres_config c;
	pres_config_default(&c);
	if (pres_relay_new(&c, &R) < 0)
		abort();
	now = 1000000000ull;
	for (unsigned m = 0; m < FZ_MEMBERS; m++) {
		if (pres_link_new(&c, &L[m]) < 0 || pres_relay_receiver_add(R, m + 1, m != 2) < 0)
			abort();
		present[m] = true;
	}
	struct in in = { data, size };
	while (in.n) {
		uint8_t op = byte(&in);
		uint8_t a = byte(&in);
		unsigned m = a % FZ_MEMBERS;
		struct proto_pres_user u;
		switch (op % 8) {
		case 0:
			user_from(&in, (uint8_t)(a / FZ_MEMBERS * FZ_MEMBERS + m), &u);
			if (present[m])
				pres_link_local(L[m], &u, now);
			break;
		case 1:
			user_from(&in, a, &u);
			pres_relay_update(R, PRES_FROM_LOCAL, &u, now);
			break;
		case 2:
			tick(&in);
			break;
		case 3: {
			uint8_t raw[PROTO_PRES_FRAME_MAX];
			size_t len = byte(&in);
			for (size_t i = 0; i < len; i++)
				raw[i] = byte(&in);
			pres_relay_on_frame(R, m + 1, raw, len, now, may, on_user, NULL);
			break;
		}
		case 4:
			if (present[m]) {
				pres_relay_receiver_remove(R, m + 1);
				pres_link_free(&L[m]);
				present[m] = false;
			} else if (pres_link_new(&c, &L[m]) == 0) {
				if (pres_relay_receiver_add(R, m + 1, a & 1u) < 0)
					abort();
				present[m] = true;
			}
			break;
		case 5:
			pres_relay_receiver_role(R, m + 1, a & 8u);
			break;
		case 6: {
			uint8_t key[PROTO_PRES_KEY_LEN];
			key_of(byte(&in), key);
			if (a & 1u)
				pres_relay_user_gone(R, key);
			else if (present[m])
				pres_link_local_gone(L[m], key);
			break;
		}
		default: {
			uint8_t key[PROTO_PRES_KEY_LEN];
			key_of(byte(&in), key);
			pres_relay_audible(R, key, m + 1);
			break;
		}
		}
	}
	for (unsigned m = 0; m < FZ_MEMBERS; m++)
		pres_link_free(&L[m]);
	pres_relay_free(&R);
	return 0;
}
