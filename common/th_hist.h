/* A fixed-size log-linear histogram of non-negative integers (durations in
 * ns, sizes): exact below 16, then 8 buckets per power of two, so a
 * quantile is known within 12.5 %. No allocation; adding is a few
 * instructions; the exact maximum is kept beside the buckets. */
#pragma once
#include <stdint.h>

#define TH_HIST_EXACT   16u /* values below are counted exactly */
#define TH_HIST_SUB     8u  /* buckets per power of two above */
#define TH_HIST_BUCKETS (TH_HIST_EXACT + (64u - 4u) * TH_HIST_SUB)

struct th_hist {
	uint64_t count;
	uint64_t max;
	uint64_t bucket[TH_HIST_BUCKETS];
};

void th_hist_reset(struct th_hist *h);
void th_hist_add(struct th_hist *h, uint64_t v);
/* The smallest bucket bound at or below which a fraction q (0..1) of the
 * values lie, never above the maximum; 0 when empty. q = 0.999: p99.9. */
uint64_t th_hist_quantile(const struct th_hist *h, double q);
