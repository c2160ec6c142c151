/* The fuzz_pres target's fixed start, shared with gen_corpus.c: a channel
 * whose receiver has decoded PRES_FUZZ_PREFIX frames of a th_walk (so
 * fuzzed frames can name baselines 1..PRES_FUZZ_PREFIX), and the framing
 * of an input: frames, each as u16 LE length then its bytes. */
#pragma once
#include <stdint.h>
#include <string.h>

#include "pres.h"
#include "th_walk.h"

#define PRES_FUZZ_PREFIX 4u
#define PRES_FUZZ_USERS 6u
#define PRES_FUZZ_SEED 17u
#define PRES_FUZZ_T0_NS 2000000000ull
#define PRES_FUZZ_TICK_NS 11111111ull

/* Codes frame k (1-based) of the walk into out; the tx holds acks up to ack. */
static inline int pres_fuzz_frame(struct proto_pres_tx *tx, struct th_walk *w, unsigned k, uint64_t ack,
				  uint8_t *out, size_t cap)
{
	struct proto_pres_user u[PRES_FUZZ_USERS];
	uint64_t now = PRES_FUZZ_T0_NS + k * PRES_FUZZ_TICK_NS;
	th_walk_step(w, now);
	for (unsigned i = 0; i < PRES_FUZZ_USERS; i++)
		th_walk_user(w, i, &u[i]);
	if (ack)
		proto_pres_tx_on_ack(tx, ack);
	unsigned taken;
	return proto_pres_encode(tx, now, u, PRES_FUZZ_USERS, NULL, 0, k, out, cap, &taken);
}
