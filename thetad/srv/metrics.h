/* The daemon's counters and gauges, by name. Modules register what they
 * count at start-up and get a pointer they bump directly (no lookup on the
 * hot path); `thetactl metrics` reads them all. Names are lower_snake_case,
 * prefixed by their subsystem (control_, ipc_, clog_, net_, voice_). */
#pragma once
#include <stdint.h>

struct json_object;

enum srv_metric_kind { SRV_METRIC_COUNTER, SRV_METRIC_GAUGE };

#define SRV_METRICS_MAX 512

struct srv_metric {
	const char *name; /* static storage */
	const char *help; /* static storage */
	enum srv_metric_kind kind;
	uint64_t value;
};

struct srv_metrics {
	struct srv_metric m[SRV_METRICS_MAX];
	unsigned n;
	uint64_t overflow; /* registrations refused because the table was full */
};

/* Returns the value slot for `name` (registering it if new). Never NULL:
 * past SRV_METRICS_MAX a shared scratch slot is returned and counted. */
uint64_t *srv_metrics_get(struct srv_metrics *m, const char *name, enum srv_metric_kind kind,
			  const char *help);
static inline uint64_t *srv_counter(struct srv_metrics *m, const char *name, const char *help)
{
	return srv_metrics_get(m, name, SRV_METRIC_COUNTER, help);
}
static inline uint64_t *srv_gauge(struct srv_metrics *m, const char *name, const char *help)
{
	return srv_metrics_get(m, name, SRV_METRIC_GAUGE, help);
}
/* {"name": {"kind": "counter", "value": N, "help": "..."}, ...} */
struct json_object *srv_metrics_to_json(const struct srv_metrics *m);
