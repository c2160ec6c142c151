/* What every benchmark (tests/bench/AREA/bench_*.c) prints and sorts:
 * scripts/run-bench collects the JSON lines into build/bench/results.json. */
#pragma once

/* One figure as a JSON line {"name": ..., "value": ..., "unit": ...}, flushed. */
void th_bench_figure(const char *name, double value, const char *unit);
/* qsort comparator for uint64_t samples. */
int th_bench_cmp_u64(const void *a, const void *b);
