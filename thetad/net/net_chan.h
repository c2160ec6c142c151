/* Channels of the session protocol: what each stream or datagram kind may
 * carry and how fast (see docs/network.md). No I/O, no clock: callers pass
 * now_ns. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* A rate limit as a token bucket (GCRA form): on average per_s events a
 * second, up to burst at once. Integer nanoseconds, no floating point. */
struct net_rate {
	uint64_t interval_ns;  /* 0: unlimited */
	uint64_t tolerance_ns; /* (burst - 1) * interval */
	uint64_t tat_ns;       /* theoretical arrival time of the next event */
};

void net_rate_init(struct net_rate *r, uint32_t per_s, uint32_t burst);
/* true: the event at now_ns is within the rate (and is counted); false: over
 * it (nothing changes, so a flood does not push the budget into the future). */
bool net_rate_take(struct net_rate *r, uint64_t now_ns);
