/* Frame statistics: frame time percentiles over a sliding window and mean
 * stage times, as sent to the daemon (thetactl clients shows them). */
#pragma once
#include <stdint.h>

#include "sim/sched.h"

#define APP_STATS_WINDOW 1024 /* frames the percentiles cover */

struct app_frame_stats {
	uint64_t frames;      /* frames run so far */
	uint32_t window;      /* frames in the percentile window */
	uint32_t rate_hz;     /* target frame rate */
	uint64_t frame_p50_ns; /* frame work time (input to render, no pacing) */
	uint64_t frame_p99_ns;
	uint64_t frame_max_ns;
	uint64_t late_frames; /* frames whose work exceeded the frame period */
	uint64_t stage_mean_ns[SIM_STAGE_COUNT]; /* over the window */
};

struct app_stats {
	uint64_t frame_ns[APP_STATS_WINDOW];
	uint64_t stage_ns[APP_STATS_WINDOW][SIM_STAGE_COUNT];
	uint32_t n, head;
	uint64_t frames, late;
	uint64_t budget_ns;
	uint32_t rate_hz;
};

void app_stats_init(struct app_stats *s, uint32_t rate_hz, uint64_t budget_ns);
void app_stats_add(struct app_stats *s, uint64_t frame_ns, const uint64_t stage_ns[SIM_STAGE_COUNT]);
/* Nearest-rank percentiles over the window. */
void app_stats_compute(const struct app_stats *s, struct app_frame_stats *out);
