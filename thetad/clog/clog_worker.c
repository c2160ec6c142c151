/* The log's worker: three threads, one for group commits (write +
 * fdatasync, segment creation), one for cursor reads and one for checking
 * the signatures of remote entries, so a long catch-up read never delays
 * an fdatasync and neither waits behind a catch-up's signatures. Jobs are
 * plain descriptions (file descriptor, offset, buffer; entries copied out)
 * built on the loop thread; a thread runs a job, puts it on the done list
 * and writes the eventfd; the loop
 * thread's clog_worker_poll() runs each finished job's completion, in the
 * order the jobs finished. Nothing here touches a struct clog. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clog/clog_int.h"

struct clog_wthread {
	struct clog_worker *w;
	pthread_t tid;
	struct clog_job *head, *tail; /* queued */
	bool started;
};

struct clog_worker {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a queue got a job, or stop */
	pthread_cond_t done; /* a job finished (clog_worker_wait) */
	struct clog_wthread th[CLOG_WQ_COUNT];
	struct clog_job *dhead, *dtail; /* finished, not yet polled */
	int efd;
	bool stop;
};

static void clog_list_push(struct clog_job **head, struct clog_job **tail, struct clog_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *clog_wthread_main(void *arg)
{
	struct clog_wthread *t = arg;
	struct clog_worker *w = t->w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!t->head && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (!t->head)
			break;
		struct clog_job *j = t->head;
		t->head = j->next;
		if (!t->head)
			t->tail = NULL;
		j->state = CLOG_JOB_RUNNING;
		pthread_mutex_unlock(&w->mu);
		j->run(j);
		pthread_mutex_lock(&w->mu);
		j->state = CLOG_JOB_DONE;
		clog_list_push(&w->dhead, &w->dtail, j);
		pthread_cond_broadcast(&w->done);
		uint64_t one = 1;
		/* Nonblocking; a full counter still reads as readable. */
		(void)!write(w->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int clog_worker_create(struct clog_worker **out)
{
	struct clog_worker *w = calloc(1, sizeof(*w));
	int r;
	if (!w)
		return -ENOMEM;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	for (int i = 0; i < CLOG_WQ_COUNT; i++) {
		w->th[i].w = w;
		if ((r = pthread_create(&w->th[i].tid, NULL, clog_wthread_main, &w->th[i])) != 0) {
			clog_worker_destroy(&w);
			return -r;
		}
		w->th[i].started = true;
	}
	*out = w;
	return 0;
}

void clog_worker_destroy(struct clog_worker **wp)
{
	struct clog_worker *w = wp ? *wp : NULL;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	/* Threads finish what is queued first (every log was closed, which
	 * waited for its jobs, so nothing is). */
	for (int i = 0; i < CLOG_WQ_COUNT; i++)
		if (w->th[i].started)
			pthread_join(w->th[i].tid, NULL);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	close(w->efd);
	free(w);
	*wp = NULL;
}

int clog_worker_fd(const struct clog_worker *w) { return w->efd; }

void clog_worker_submit(struct clog_worker *w, struct clog_job *j, enum clog_wq q)
{
	struct clog_wthread *t = &w->th[q];
	pthread_mutex_lock(&w->mu);
	j->state = CLOG_JOB_QUEUED;
	clog_list_push(&t->head, &t->tail, j);
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
}

/* Takes j off the done list (w->mu held). */
static void clog_done_unlink(struct clog_worker *w, struct clog_job *j)
{
	struct clog_job *prev = NULL;
	for (struct clog_job *x = w->dhead; x; prev = x, x = x->next) {
		if (x != j)
			continue;
		if (prev)
			prev->next = x->next;
		else
			w->dhead = x->next;
		if (w->dtail == x)
			w->dtail = prev;
		break;
	}
	j->next = NULL;
}

void clog_worker_wait(struct clog_worker *w, struct clog_job *j)
{
	pthread_mutex_lock(&w->mu);
	while (j->state == CLOG_JOB_QUEUED || j->state == CLOG_JOB_RUNNING)
		pthread_cond_wait(&w->done, &w->mu);
	if (j->state == CLOG_JOB_DONE)
		clog_done_unlink(w, j);
	j->state = CLOG_JOB_IDLE;
	pthread_mutex_unlock(&w->mu);
}

int clog_worker_poll(struct clog_worker *w)
{
	uint64_t v;
	int n = 0;
	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	/* Only what finished so far (a completion that starts a new job does
	 * not make this call run longer), one at a time: a completion may
	 * close another log, whose clog_worker_wait then takes its job off
	 * the done list itself. */
	pthread_mutex_lock(&w->mu);
	size_t finished = 0;
	for (struct clog_job *x = w->dhead; x; x = x->next)
		finished++;
	pthread_mutex_unlock(&w->mu);
	while (finished--) {
		pthread_mutex_lock(&w->mu);
		struct clog_job *j = w->dhead;
		if (j) {
			w->dhead = j->next;
			if (!w->dhead)
				w->dtail = NULL;
			j->next = NULL;
			j->state = CLOG_JOB_IDLE;
		}
		pthread_mutex_unlock(&w->mu);
		if (!j)
			break;
		j->finish(j);
		n++;
	}
	return n;
}
