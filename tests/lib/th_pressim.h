/* Presence traffic of a simulated session, through the real codec
 * (proto/pres.h), for the dictionary trainer (tests/tools/pres_train.c) and
 * bench_pres_codec: n users walking (th_walk), each on its own member
 * daemon. Every tick each member codes a frame of its user for the host,
 * and the host codes one frame per member holding the other users that are
 * near that member's user (every tick) or far (every far_every ticks;
 * beyond far_m: none) — a plain stand-in for thetad/pres's interest grid,
 * enough to give the codec the traffic shape it meets. Frames travel for
 * delay_ticks, some are lost (seeded), the rest are decoded; acks ride in
 * the opposite direction's frames as in a session. The channels re-send a
 * user until acknowledged (proto_pres_tx_set_resend), as the relay
 * re-offers one. Simulated time; no
 * clock, no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pres.h" /* proto/pres.h */

#define TH_PRESSIM_USERS_MAX 128u
#define TH_PRESSIM_DELAY_MAX 8u
#define TH_PRESSIM_T0_NS 1000000000ull

struct th_pressim_config {
	unsigned users;          /* 1..TH_PRESSIM_USERS_MAX */
	float spread_m;          /* th_walk's square */
	uint64_t seed;
	float near_m, far_m;     /* 0: 8 and 32 */
	unsigned far_every;      /* 0: 18 (5 Hz at 90 Hz) */
	unsigned tick_hz;        /* 0: 90 */
	unsigned delay_ticks;    /* one way, 0..TH_PRESSIM_DELAY_MAX */
	unsigned loss_permille;  /* frames lost, each way */
	enum proto_pres_coding coding;
};

/* One frame as it was coded (and, unless lost, decoded). */
struct th_pressim_frame {
	bool to_host;            /* a member's frame to the host, else the host's to a member */
	unsigned member;
	const uint8_t *bytes;    /* the frame */
	size_t len;
	const uint8_t *body;     /* its body before zstd (proto_pres_tx_last_body) */
	size_t body_len;
	unsigned records, poses; /* user records and head/left/right parts in it (as coded) */
};

struct th_pressim_stats {
	uint64_t ticks, frames, bytes, records, poses, lost;
	uint64_t decoded, poses_decoded;
};

struct th_pressim;
int th_pressim_new(const struct th_pressim_config *c, struct th_pressim **out);
void th_pressim_free(struct th_pressim **s);
/* One tick: users move, every frame is coded (on_frame, may be NULL, hears
 * each), frames due are delivered and decoded, each decoded user checked
 * against what the sender's users were when coded (quantization only).
 * 0, or the first codec error / -EPROTO for a decoded user that differs. */
int th_pressim_tick(struct th_pressim *s, void (*on_frame)(void *ud, const struct th_pressim_frame *f), void *ud);
void th_pressim_stats(const struct th_pressim *s, struct th_pressim_stats *st);
