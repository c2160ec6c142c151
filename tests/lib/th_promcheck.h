/* A checker of the Prometheus text exposition format, version 0.0.4 (the
 * format `thetactl metrics --prometheus` and metrics.listen serve), line by
 * line: comment lines ("# HELP name text", "# TYPE name
 * counter|gauge|histogram|summary|untyped", other "# " comments), sample
 * lines (name, optional {label="value",...} with the format's escapes, a
 * value — a float, NaN, +Inf, -Inf — and an optional integer timestamp),
 * empty lines; names and label names by the format's character classes;
 * per family at most one HELP and one TYPE, the TYPE before its first
 * sample, a family's samples together; counters named ..._total;
 * histograms with _bucket lines (an le label, bounds ascending, counts
 * cumulative, the last le="+Inf" equal to _count), _sum and _count. */
#pragma once
#include <stddef.h>

#define TH_PROM_WHY_MAX 256

struct th_prom_report {
	unsigned lines, samples, families, histograms;
	char why[TH_PROM_WHY_MAX]; /* the first violation: "line N: ..." */
};

/* 0 when text is valid (the counts filled), else -1 with why. */
int th_prom_check(const char *text, struct th_prom_report *rep);
/* The value of the sample whose name and labels are exactly `series`
 * ("theta_x_total" or "theta_y{a=\"b\"}"), or -1 when absent. */
double th_prom_value(const char *text, const char *series);
