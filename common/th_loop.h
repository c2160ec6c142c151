/* A small epoll event loop: file descriptors with callbacks. Timers and
 * signals are file descriptors too (timerfd, signalfd), so one epoll_wait is
 * the only place a process built on it blocks. Not thread-safe: one loop per
 * thread. A callback may add or remove any fd, including its own. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct th_loop;
typedef void (*th_loop_fd_fn)(struct th_loop *loop, int fd, uint32_t events, void *user_data);

#define TH_LOOP_MAX_FDS 65536

int th_loop_create(struct th_loop **out);
void th_loop_destroy(struct th_loop **p);
/* events: EPOLLIN/EPOLLOUT/...; -EEXIST if fd is already registered. */
int th_loop_add(struct th_loop *loop, int fd, uint32_t events, th_loop_fd_fn fn, void *user_data);
int th_loop_mod(struct th_loop *loop, int fd, uint32_t events);
/* Unregisters fd (does not close it). Events already fetched for it in this
 * iteration are discarded. */
int th_loop_del(struct th_loop *loop, int fd);
/* Waits up to timeout_ms (-1: forever) and dispatches; returns the number of
 * callbacks run or a negative errno (EINTR is not an error: returns 0). */
int th_loop_run_once(struct th_loop *loop, int timeout_ms);
/* Runs until th_loop_quit(). */
int th_loop_run(struct th_loop *loop);
void th_loop_quit(struct th_loop *loop);
bool th_loop_quitting(const struct th_loop *loop);
unsigned th_loop_count(const struct th_loop *loop);

/* Stalls: how long the loop was busy handling one wake-up (from epoll_wait
 * returning to the last callback of that batch returning), the time during
 * which nothing else it watches can be served. Kept since the loop was
 * created and per aligned window of TH_LOOP_STALL_WINDOW_NS; figures in ns,
 * quantiles within 12.5 % (th_hist.h), maxima exact. */
#define TH_LOOP_STALL_WINDOW_NS (5ull * 1000 * 1000 * 1000)

struct th_loop_stall_stats {
	uint64_t wakeups;          /* since creation */
	uint64_t p999_ns, max_ns;  /* since creation */
	uint64_t window_wakeups;   /* in the last complete window (0: none, or the loop slept through it) */
	uint64_t window_p999_ns, window_max_ns;
};
/* now_ns: the loop's clock (th_now_ns unless a test set another). */
void th_loop_stall_stats(const struct th_loop *loop, uint64_t now_ns, struct th_loop_stall_stats *out);
/* Tests: the clock the loop measures stalls with (NULL: th_now_ns). */
void th_loop_set_clock(struct th_loop *loop, uint64_t (*now_ns)(void *user), void *user);
uint64_t th_loop_now(const struct th_loop *loop);

/* A periodic or one-shot CLOCK_MONOTONIC timerfd; returns the fd (caller
 * registers and closes it). interval 0: one shot. */
int th_timerfd_create(uint64_t first_ns, uint64_t interval_ns);
int th_timerfd_set(int fd, uint64_t first_ns, uint64_t interval_ns);
/* Reads the expiration count (0 if none pending). */
uint64_t th_timerfd_drain(int fd);
