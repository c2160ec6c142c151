/* libFuzzer: proto/pres.c's decoder. Each input is a run of frames (u16 LE
 * length, bytes) given to a receiver that has decoded PRES_FUZZ_PREFIX
 * frames of a walk (pres_fuzz.h), so fuzzed frames may name those as
 * baselines. A refused frame must leave the receiver as it was (its ack);
 * a decoded one must hold users within the codec's limits, and coding them
 * again on a fresh channel must give them back bit for bit (the quantized
 * state is a fixed point). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pres_fuzz.h"

static struct proto_pres_frame f, g;

static void check_user(const struct proto_pres_user *u)
{
	uint8_t zero[PROTO_PRES_KEY_LEN] = { 0 };
	if (!memcmp(u->key, zero, sizeof zero) || (u->valid & ~PROTO_PRES_F_ALL))
		abort();
	for (unsigned p = 0; p < PROTO_PRES_PARTS; p++) {
		if (!(u->valid & (1u << p)))
			continue;
		float n2 = 0;
		for (unsigned k = 0; k < 7; k++) {
			if (!isfinite(u->pose[p][k]))
				abort();
			if (k < 3 && fabsf(u->pose[p][k]) > PROTO_PRES_RANGE_M)
				abort();
			if (k >= 3)
				n2 += u->pose[p][k] * u->pose[p][k];
		}
		if (n2 > 1.0001f)
			abort();
	}
	if ((u->valid & PROTO_PRES_F_CURSOR) && u->tool > 255)
		abort();
}

static bool same_pose(const float *a, const float *b)
{
	if (memcmp(a, b, 3 * sizeof(float)) != 0)
		return false;
	float d = 0;
	for (unsigned k = 3; k < 7; k++)
		d += a[k] * b[k];
	return fabsf(d) > 1 - 1e-5f;
}

/* the decoded users coded again on a fresh channel come back the same */
static void check_fixed_point(const struct proto_pres_frame *d)
{
	if (d->n == 0)
		return;
	struct proto_pres_tx *tx;
	struct proto_pres_rx *rx;
	if (proto_pres_tx_new(&tx) || proto_pres_rx_new(&rx))
		abort();
	uint8_t b[PROTO_PRES_FRAME_MAX];
	unsigned off = 0;
	uint64_t now = d->t_ns;
	while (off < d->n) {
		unsigned taken = 0;
		int len = proto_pres_encode(tx, now, d->users + off, d->n - off, NULL, 0, 0, b, sizeof b, &taken);
		if (len < 0 || proto_pres_decode(rx, b, (size_t)len, &g) != 0)
			abort();
		for (unsigned i = 0; i < g.n; i++) {
			const struct proto_pres_user *w = NULL;
			for (unsigned k = 0; k < d->n && !w; k++)
				if (!memcmp(d->users[k].key, g.users[i].key, PROTO_PRES_KEY_LEN))
					w = &d->users[k];
			/* positions, cursor, tool, target the same; rotations the
			 * same but where a fuzzed one is not smallest-three's (a
			 * dropped component smaller than another): within a step */
			const struct proto_pres_user *v = &g.users[i];
			if (!w || w->valid != v->valid ||
			    ((w->valid & PROTO_PRES_F_CURSOR) &&
			     (memcmp(w->cursor, v->cursor, sizeof w->cursor) || w->tool != v->tool)) ||
			    ((w->valid & PROTO_PRES_F_PREVIEW) &&
			     (!same_pose(w->preview, v->preview) || w->preview_target != v->preview_target)))
				abort();
			for (unsigned p = 0; p < PROTO_PRES_PARTS; p++)
				if ((w->valid & (1u << p)) && !same_pose(w->pose[p], v->pose[p]))
					abort();
		}
		off += taken;
		now += PRES_FUZZ_TICK_NS;
	}
	proto_pres_tx_free(&tx);
	proto_pres_rx_free(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct th_walk w;
	struct proto_pres_tx *tx;
	struct proto_pres_rx *rx;
	if (proto_pres_tx_new(&tx) || proto_pres_rx_new(&rx))
		abort();
	th_walk_init(&w, PRES_FUZZ_USERS, 10, PRES_FUZZ_SEED);
	uint8_t b[PROTO_PRES_FRAME_MAX];
	for (unsigned k = 1; k <= PRES_FUZZ_PREFIX; k++) {
		int len = pres_fuzz_frame(tx, &w, k, k - 1, b, sizeof b);
		if (len < 0 || proto_pres_decode(rx, b, (size_t)len, &f) != 0)
			abort();
	}
	size_t at = 0;
	while (size - at >= 2) {
		size_t len = data[at] | (size_t)data[at + 1] << 8;
		at += 2;
		if (len > size - at)
			len = size - at;
		uint64_t ack = proto_pres_rx_ack(rx);
		int r = proto_pres_decode(rx, data + at, len, &f);
		if (r == 0) {
			if (f.n > PROTO_PRES_USERS_MAX || f.n_gone > PROTO_PRES_USERS_MAX || f.seq <= ack)
				abort();
			for (unsigned i = 0; i < f.n; i++)
				check_user(&f.users[i]);
			check_fixed_point(&f);
		} else if (r != -EBADMSG && r != -ENOENT && r != -EALREADY) {
			abort();
		} else if (proto_pres_rx_ack(rx) != ack) {
			abort(); /* a refused frame changed the receiver */
		}
		at += len;
	}
	proto_pres_tx_free(&tx);
	proto_pres_rx_free(&rx);
	return 0;
}
