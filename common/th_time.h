/* Monotonic and wall-clock time in nanoseconds. Protocol code takes `now_ns`
 * as an argument; only event loops and mains call these. */
#pragma once
#include <stdint.h>
#include <time.h>

#define TH_NS_PER_US UINT64_C(1000)
#define TH_NS_PER_MS UINT64_C(1000000)
#define TH_NS_PER_S  UINT64_C(1000000000)

static inline uint64_t th_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * TH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static inline uint64_t th_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * TH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Sleep for ns nanoseconds, restarting after signals. */
void th_sleep_ns(uint64_t ns);
