/* The daemon's counters, gauges and histograms, by name. Modules register
 * what they count at start-up and get a pointer they bump directly (no
 * lookup on the hot path); `thetactl metrics` reads them all, as a table,
 * as JSON, or in the Prometheus text exposition format
 * (srv_metrics_prometheus; docs/operator.md "Metrics"), which the optional
 * metrics.listen endpoint also serves. Names are lower_snake_case,
 * prefixed by their subsystem (control_, ipc_, clog_, net_, voice_).
 *
 * What is counted per session or per peer (labels) is not registered:
 * a module adds a collector that writes its labelled samples each time the
 * metrics are read (srv_metrics_add_collector, srv_sample). */
#pragma once
#include <stdint.h>
#include <stdio.h>

struct json_object;

enum srv_metric_kind { SRV_METRIC_COUNTER, SRV_METRIC_GAUGE, SRV_METRIC_HISTOGRAM };

#define SRV_METRICS_MAX 512
#define SRV_HISTS_MAX 32
#define SRV_HIST_BOUNDS_MAX 16
#define SRV_COLLECTORS_MAX 16
#define SRV_METRICS_PREFIX "theta_" /* every Prometheus name starts with it */

struct srv_metric {
	const char *name; /* static storage */
	const char *help; /* static storage */
	enum srv_metric_kind kind;
	uint64_t value;
};

/* A histogram of seconds (or another unit the name says): counts per upper
 * bound (cumulative only when rendered), their sum and count. */
struct srv_hist {
	const char *name, *help; /* static storage */
	unsigned n;              /* bounds */
	double bound[SRV_HIST_BOUNDS_MAX];
	uint64_t bucket[SRV_HIST_BOUNDS_MAX + 1]; /* the last: above every bound (+Inf) */
	uint64_t count;
	double sum;
};

struct srv_sample_sink;
/* Writes a module's labelled samples (srv_sample) when the metrics are read. */
typedef void (*srv_collect_fn)(void *ud, struct srv_sample_sink *sink);

struct srv_metrics {
	struct srv_metric m[SRV_METRICS_MAX];
	unsigned n;
	struct srv_hist h[SRV_HISTS_MAX];
	unsigned n_hists;
	struct {
		srv_collect_fn fn;
		void *ud;
	} collectors[SRV_COLLECTORS_MAX];
	unsigned n_collectors;
	uint64_t overflow; /* registrations refused because a table was full */
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

/* Bucket bounds in seconds for the daemon's latencies. */
extern const double srv_hist_fast_s[];  /* 50 µs .. 1 s: commits, acks, RTT, frames */
#define SRV_HIST_FAST_N 14u
extern const double srv_hist_slow_s[];  /* 50 ms .. 300 s: catch-up, late join */
#define SRV_HIST_SLOW_N 11u
/* The histogram `name` (registering it with bounds[0..n), ascending, if
 * new). Never NULL: past SRV_HISTS_MAX a scratch one is returned and
 * counted. */
struct srv_hist *srv_histogram(struct srv_metrics *m, const char *name, const char *help, const double *bounds,
			       unsigned n);
void srv_hist_observe(struct srv_hist *h, double v);
static inline void srv_hist_observe_ns(struct srv_hist *h, uint64_t ns)
{
	srv_hist_observe(h, (double)ns / 1e9);
}
/* n observations of v at once (a client's report of many frames). */
void srv_hist_observe_n(struct srv_hist *h, double v, uint64_t n);

/* Adds a collector (at most SRV_COLLECTORS_MAX; more are counted in overflow). */
void srv_metrics_add_collector(struct srv_metrics *m, srv_collect_fn fn, void *ud);
/* One labelled sample of family `name` (lower_snake_case, without the
 * prefix; a counter's without _total): labels as "key", "value" pairs,
 * NULL-terminated (values any text: escaped when rendered). Samples of one
 * family are rendered together under one HELP and TYPE, whatever order
 * the collectors write them in. */
void srv_sample(struct srv_sample_sink *s, const char *name, const char *help, enum srv_metric_kind kind,
		const char *const *labels, double value);

/* {"name": {"kind": "counter", "value": N, "help": "..."}, ...}; a
 * histogram {"kind": "histogram", "count", "sum", "buckets": [{"le", "count"}]}
 * (cumulative, the last le "+Inf"); labelled families {"kind", "help",
 * "samples": [{"labels": {...}, "value"}]}. */
struct json_object *srv_metrics_to_json(const struct srv_metrics *m);
/* The Prometheus text exposition format (version 0.0.4) to f: per family
 * "# HELP", "# TYPE", then its samples; counters named ..._total. 0 or
 * -ENOMEM. */
int srv_metrics_prometheus(const struct srv_metrics *m, FILE *f);
#define SRV_METRICS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
