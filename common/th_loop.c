#include "th_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "th_hist.h"
#include "th_time.h"

struct th_loop_slot {
	th_loop_fd_fn fn;
	void *user_data;
	uint32_t gen; /* bumped on every add/del so stale events are recognised */
	bool used;
};

/* Stall histograms: since creation, and two aligned windows (the one the
 * latest wake-up fell in, and the one before). */
struct th_loop_stall {
	struct th_hist total;
	struct th_hist win[2];
	uint64_t win_no[2];   /* window numbers since origin; win[cur] is the latest */
	unsigned cur;
	uint64_t origin_ns;
};

struct th_loop {
	int epfd;
	struct th_loop_slot *slots;
	unsigned n_slots;
	unsigned count;
	bool quit;
	uint64_t (*clock)(void *user);
	void *clock_user;
	struct th_loop_stall stall;
};

uint64_t th_loop_now(const struct th_loop *l)
{
	return l->clock ? l->clock(l->clock_user) : th_now_ns();
}

void th_loop_set_clock(struct th_loop *l, uint64_t (*now_ns)(void *user), void *user)
{
	l->clock = now_ns;
	l->clock_user = user;
	memset(&l->stall, 0, sizeof(l->stall));
	l->stall.origin_ns = th_loop_now(l);
}

static void th_loop_stall_add(struct th_loop_stall *st, uint64_t end_ns, uint64_t busy_ns)
{
	th_hist_add(&st->total, busy_ns);
	uint64_t k = end_ns >= st->origin_ns ? (end_ns - st->origin_ns) / TH_LOOP_STALL_WINDOW_NS : 0;
	if (k != st->win_no[st->cur]) {
		unsigned other = st->cur ^ 1;
		if (k == st->win_no[st->cur] + 1) {
			st->cur = other; /* the latest becomes the one before */
		} else {
			/* A whole window (or more) passed without a wake-up:
			 * the one before the new one is empty. */
			th_hist_reset(&st->win[other]);
			st->win_no[other] = k - 1;
		}
		th_hist_reset(&st->win[st->cur]);
		st->win_no[st->cur] = k;
	}
	th_hist_add(&st->win[st->cur], busy_ns);
}

void th_loop_stall_stats(const struct th_loop *l, uint64_t now_ns, struct th_loop_stall_stats *out)
{
	const struct th_loop_stall *st = &l->stall;
	*out = (struct th_loop_stall_stats){
		.wakeups = st->total.count,
		.p999_ns = th_hist_quantile(&st->total, 0.999),
		.max_ns = st->total.max,
	};
	uint64_t k = now_ns >= st->origin_ns ? (now_ns - st->origin_ns) / TH_LOOP_STALL_WINDOW_NS : 0;
	if (k == 0)
		return; /* no window has completed yet */
	const struct th_hist *w = NULL;
	for (unsigned i = 0; i < 2; i++)
		if (st->win[i].count && st->win_no[i] == k - 1)
			w = &st->win[i];
	if (w) {
		out->window_wakeups = w->count;
		out->window_p999_ns = th_hist_quantile(w, 0.999);
		out->window_max_ns = w->max;
	}
}

int th_loop_create(struct th_loop **out)
{
	struct th_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;
		free(l);
		return r;
	}
	l->stall.origin_ns = th_loop_now(l);
	*out = l;
	return 0;
}

void th_loop_destroy(struct th_loop **p)
{
	if (!p || !*p)
		return;
	close((*p)->epfd);
	free((*p)->slots);
	free(*p);
	*p = NULL;
}

static int th_loop_grow(struct th_loop *l, int fd)
{
	if (fd < 0 || fd >= TH_LOOP_MAX_FDS)
		return -EBADF;
	if ((unsigned)fd < l->n_slots)
		return 0;
	unsigned n = l->n_slots ? l->n_slots : 64;
	while (n <= (unsigned)fd)
		n *= 2;
	struct th_loop_slot *s = realloc(l->slots, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + l->n_slots, 0, (n - l->n_slots) * sizeof(*s));
	l->slots = s;
	l->n_slots = n;
	return 0;
}

static uint64_t th_loop_key(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

int th_loop_add(struct th_loop *l, int fd, uint32_t events, th_loop_fd_fn fn, void *user_data)
{
	int r = th_loop_grow(l, fd);
	if (r < 0)
		return r;
	struct th_loop_slot *s = &l->slots[fd];
	if (s->used)
		return -EEXIST;
	s->gen++;
	struct epoll_event ev = { .events = events, .data.u64 = th_loop_key(fd, s->gen) };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	s->fn = fn;
	s->user_data = user_data;
	s->used = true;
	l->count++;
	return 0;
}

int th_loop_mod(struct th_loop *l, int fd, uint32_t events)
{
	if (fd < 0 || (unsigned)fd >= l->n_slots || !l->slots[fd].used)
		return -ENOENT;
	struct epoll_event ev = { .events = events, .data.u64 = th_loop_key(fd, l->slots[fd].gen) };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int th_loop_del(struct th_loop *l, int fd)
{
	if (fd < 0 || (unsigned)fd >= l->n_slots || !l->slots[fd].used)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	struct th_loop_slot *s = &l->slots[fd];
	s->used = false;
	s->fn = NULL;
	s->user_data = NULL;
	s->gen++;
	l->count--;
	return 0;
}

#define TH_LOOP_BATCH 64

int th_loop_run_once(struct th_loop *l, int timeout_ms)
{
	struct epoll_event evs[TH_LOOP_BATCH];
	int n = epoll_wait(l->epfd, evs, TH_LOOP_BATCH, timeout_ms);
	int ran = 0;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	uint64_t t0 = n > 0 ? th_loop_now(l) : 0;
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		if ((unsigned)fd >= l->n_slots)
			continue;
		struct th_loop_slot *s = &l->slots[fd];
		if (!s->used || s->gen != gen)
			continue; /* removed (and maybe reused) by an earlier callback */
		s->fn(l, fd, evs[i].events, s->user_data);
		ran++;
	}
	if (n > 0) {
		uint64_t t1 = th_loop_now(l);
		th_loop_stall_add(&l->stall, t1, t1 >= t0 ? t1 - t0 : 0);
	}
	return ran;
}

int th_loop_run(struct th_loop *l)
{
	while (!l->quit) {
		int r = th_loop_run_once(l, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

void th_loop_quit(struct th_loop *l)
{
	l->quit = true;
}

bool th_loop_quitting(const struct th_loop *l)
{
	return l->quit;
}

unsigned th_loop_count(const struct th_loop *l)
{
	return l->count;
}

int th_timerfd_set(int fd, uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(first_ns / TH_NS_PER_S), .tv_nsec = (long)(first_ns % TH_NS_PER_S) },
		.it_interval = { .tv_sec = (time_t)(interval_ns / TH_NS_PER_S),
				 .tv_nsec = (long)(interval_ns % TH_NS_PER_S) },
	};
	if (first_ns == 0 && interval_ns == 0)
		its.it_value.tv_nsec = 0; /* disarm */
	else if (first_ns == 0)
		its.it_value.tv_nsec = 1; /* 0 would disarm: fire at once */
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int th_timerfd_create(uint64_t first_ns, uint64_t interval_ns)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	int r = th_timerfd_set(fd, first_ns, interval_ns);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

uint64_t th_timerfd_drain(int fd)
{
	uint64_t n = 0;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}
