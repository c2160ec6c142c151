#include "th_bench.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void th_bench_figure(const char *name, double value, const char *unit)
{
	printf("{\"name\": \"%s\", \"value\": %.3f, \"unit\": \"%s\"}\n", name, value, unit);
	fflush(stdout);
}

int th_bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

double th_bench_pct_u64(uint64_t *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), th_bench_cmp_u64);
	return (double)v[(size_t)(p * (double)(n - 1))];
}

double th_bench_median_ms(uint64_t *ns, unsigned n)
{
	qsort(ns, n, sizeof(*ns), th_bench_cmp_u64);
	return (double)ns[n / 2] / 1e6;
}

void th_bench_figure_goal(const char *name, double value, const char *unit, const char *goal, bool met)
{
	printf("{\"name\": \"%s\", \"value\": %.3f, \"unit\": \"%s\", \"goal\": \"%s\", \"met\": %s}\n", name, value, unit,
	       goal, met ? "true" : "false");
	fflush(stdout);
}
