/* What every benchmark (tests/bench/AREA/bench_*.c) prints and sorts:
 * scripts/run-bench collects the JSON lines into build/bench/results.json. */
#pragma once
#include <stdbool.h>

/* One figure as a JSON line {"name": ..., "value": ..., "unit": ...}, flushed. */
void th_bench_figure(const char *name, double value, const char *unit);
/* qsort comparator for uint64_t samples. */
int th_bench_cmp_u64(const void *a, const void *b);
/* The same with the figure's goal beside it: {"name", "value", "unit",
 * "goal": text such as "<= 2 ms", "met": true/false}. */
void th_bench_figure_goal(const char *name, double value, const char *unit, const char *goal, bool met);
