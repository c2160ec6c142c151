/* Frame statistics (see stats.h). */
#include "app/stats.h"

#include <stdlib.h>
#include <string.h>

void app_stats_init(struct app_stats *s, uint32_t rate_hz, uint64_t budget_ns)
{
	memset(s, 0, sizeof *s);
	s->rate_hz = rate_hz;
	s->budget_ns = budget_ns;
}

void app_stats_add(struct app_stats *s, uint64_t frame_ns, const uint64_t stage_ns[SIM_STAGE_COUNT])
{
	s->frame_ns[s->head] = frame_ns;
	memcpy(s->stage_ns[s->head], stage_ns, sizeof s->stage_ns[0]);
	s->head = (s->head + 1) % APP_STATS_WINDOW;
	if (s->n < APP_STATS_WINDOW)
		s->n++;
	s->frames++;
	if (s->budget_ns && frame_ns > s->budget_ns)
		s->late++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q% of samples <= it. */
static uint64_t rank(const uint64_t *sorted, uint32_t n, unsigned pct)
{
	uint32_t k = (uint32_t)(((uint64_t)pct * n + 99) / 100);
	return sorted[k ? k - 1 : 0];
}

void app_stats_compute(const struct app_stats *s, struct app_frame_stats *out)
{
	memset(out, 0, sizeof *out);
	out->frames = s->frames;
	out->window = s->n;
	out->rate_hz = s->rate_hz;
	out->late_frames = s->late;
	if (!s->n)
		return;
	uint64_t sorted[APP_STATS_WINDOW];
	memcpy(sorted, s->frame_ns, s->n * sizeof sorted[0]); /* the first n slots are filled */
	qsort(sorted, s->n, sizeof sorted[0], cmp_u64);
	out->frame_p50_ns = rank(sorted, s->n, 50);
	out->frame_p99_ns = rank(sorted, s->n, 99);
	out->frame_max_ns = sorted[s->n - 1];
	for (unsigned st = 0; st < SIM_STAGE_COUNT; st++) {
		uint64_t sum = 0;
		for (uint32_t i = 0; i < s->n; i++)
			sum += s->stage_ns[i][st];
		out->stage_mean_ns[st] = sum / s->n;
	}
}
