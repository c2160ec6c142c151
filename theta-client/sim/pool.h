/* A fixed thread pool for running the systems of one wave in parallel. The
 * calling thread takes part, so a pool of N threads starts N-1 workers. */
#pragma once

#define SIM_MAX_THREADS 64

struct sim_pool;

/* threads: total including the caller, 1..SIM_MAX_THREADS. */
int sim_pool_create(unsigned threads, struct sim_pool **out);
void sim_pool_destroy(struct sim_pool **p);
unsigned sim_pool_threads(const struct sim_pool *p);
/* Runs fn(arg, i) for i in [0, ntasks) across the pool; returns when all
 * are done. Not reentrant: one run at a time, from one thread. */
void sim_pool_run(struct sim_pool *p, unsigned ntasks, void (*fn)(void *arg, unsigned task), void *arg);
