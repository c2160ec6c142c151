/* What every benchmark (tests/bench/AREA/bench_*.c) prints and sorts:
 * scripts/run-bench collects the JSON lines into build/bench/results.json. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One figure as a JSON line {"name": ..., "value": ..., "unit": ...}, flushed. */
void th_bench_figure(const char *name, double value, const char *unit);
/* qsort comparator for uint64_t samples. */
int th_bench_cmp_u64(const void *a, const void *b);
/* Sorts v[n] (n >= 1) and returns its p-quantile (p in 0..1: the
 * sample at floor(p * (n - 1))), in v's unit. */
double th_bench_pct_u64(uint64_t *v, size_t n, double p);
/* Sorts ns[n] (n >= 1) and returns its median in ms. */
double th_bench_median_ms(uint64_t *ns, unsigned n);
/* The same with the figure's goal beside it: {"name", "value", "unit",
 * "goal": text such as "<= 2 ms", "met": true/false}. */
void th_bench_figure_goal(const char *name, double value, const char *unit, const char *goal, bool met);
