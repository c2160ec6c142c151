/* A client's link to its daemon (theta-client/link/) driven from a test
 * the way the frame loop drives it. */
#pragma once
#include <stdint.h>

#include "th_time.h"

struct link;

/* One frame's worth of link work: what came is drained, nothing is
 * published. */
void th_link_step(struct link *l);

/* Frames (about 1 ms apart) until cond holds or ms milliseconds passed;
 * then cond must hold (a cmocka assertion). */
#define TH_LINK_WAIT_FOR(l, cond, ms)                                          \
	do {                                                                   \
		uint64_t end_ = th_now_ns() + (uint64_t)(ms) * TH_NS_PER_MS;   \
		while (!(cond) && th_now_ns() < end_) {                        \
			th_link_step(l);                                       \
			th_sleep_ns(TH_NS_PER_MS);                             \
		}                                                              \
		assert_true(cond);                                             \
	} while (0)
