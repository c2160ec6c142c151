#include "th_hist.h"

#include <string.h>

static unsigned th_hist_index(uint64_t v)
{
	if (v < TH_HIST_EXACT)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 4 */
	unsigned sub = (unsigned)(v >> (e - 3)) & (TH_HIST_SUB - 1);
	return TH_HIST_EXACT + (e - 4) * TH_HIST_SUB + sub;
}

/* Largest value that falls in bucket i. */
static uint64_t th_hist_upper(unsigned i)
{
	if (i < TH_HIST_EXACT)
		return i;
	unsigned e = 4 + (i - TH_HIST_EXACT) / TH_HIST_SUB, sub = (i - TH_HIST_EXACT) % TH_HIST_SUB;
	uint64_t lo = (uint64_t)(TH_HIST_SUB + sub) << (e - 3);
	return lo + ((uint64_t)1 << (e - 3)) - 1;
}

void th_hist_reset(struct th_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void th_hist_add(struct th_hist *h, uint64_t v)
{
	h->bucket[th_hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

uint64_t th_hist_quantile(const struct th_hist *h, double q)
{
	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	/* Rank of the value wanted, 1-based, rounded up (nearest rank). */
	double want = q * (double)h->count;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint64_t seen = 0;
	for (unsigned i = 0; i < TH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t u = th_hist_upper(i);
			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}
