/* Thread pool (see pool.h). One job at a time: the caller publishes the job
 * under the mutex and bumps `gen`; workers copy it under the mutex, claim task
 * indices from the atomic `next`, and count themselves `active` so the next
 * job cannot reset `next` while a late worker still claims from it. */
#include "sim/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct sim_pool {
	unsigned nthreads;
	unsigned nworkers;
	pthread_t *workers;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;
	pthread_cond_t done_cv;
	uint64_t gen;
	bool stop;
	void (*fn)(void *, unsigned);
	void *arg;
	unsigned ntasks;
	unsigned active;
	_Atomic unsigned next;
	_Atomic unsigned completed;
};

static void run_tasks(struct sim_pool *p, void (*fn)(void *, unsigned), void *arg, unsigned ntasks)
{
	for (;;) {
		unsigned i = atomic_fetch_add(&p->next, 1);
		if (i >= ntasks)
			break;
		fn(arg, i);
		if (atomic_fetch_add(&p->completed, 1) + 1 == ntasks) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_broadcast(&p->done_cv);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

static void *worker_main(void *vp)
{
	struct sim_pool *p = vp;
	uint64_t seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		void (*fn)(void *, unsigned) = p->fn;
		void *arg = p->arg;
		unsigned ntasks = p->ntasks;
		p->active++;
		pthread_mutex_unlock(&p->mu);
		run_tasks(p, fn, arg, ntasks);
		pthread_mutex_lock(&p->mu);
		if (--p->active == 0)
			pthread_cond_broadcast(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int sim_pool_create(unsigned threads, struct sim_pool **out)
{
	if (threads == 0 || threads > SIM_MAX_THREADS)
		return -EINVAL;
	struct sim_pool *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->nthreads = threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	if (threads > 1) {
		p->workers = calloc(threads - 1, sizeof *p->workers);
		if (!p->workers) {
			sim_pool_destroy(&p);
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i + 1 < threads; i++) {
		int r = pthread_create(&p->workers[i], NULL, worker_main, p);
		if (r != 0) {
			sim_pool_destroy(&p);
			return -r;
		}
		p->nworkers++;
	}
	*out = p;
	return 0;
}

void sim_pool_destroy(struct sim_pool **pp)
{
	struct sim_pool *p = pp ? *pp : NULL;
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i], NULL);
	free(p->workers);
	pthread_cond_destroy(&p->done_cv);
	pthread_cond_destroy(&p->work_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	*pp = NULL;
}

unsigned sim_pool_threads(const struct sim_pool *p) { return p->nthreads; }

void sim_pool_run(struct sim_pool *p, unsigned ntasks, void (*fn)(void *arg, unsigned task), void *arg)
{
	if (ntasks == 0)
		return;
	if (p->nworkers == 0 || ntasks == 1) {
		for (unsigned i = 0; i < ntasks; i++)
			fn(arg, i);
		return;
	}
	pthread_mutex_lock(&p->mu);
	while (p->active > 0) /* a late worker of the previous job */
		pthread_cond_wait(&p->done_cv, &p->mu);
	p->fn = fn;
	p->arg = arg;
	p->ntasks = ntasks;
	atomic_store(&p->next, 0);
	atomic_store(&p->completed, 0);
	p->gen++;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);

	run_tasks(p, fn, arg, ntasks);

	pthread_mutex_lock(&p->mu);
	while (atomic_load(&p->completed) < ntasks)
		pthread_cond_wait(&p->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
