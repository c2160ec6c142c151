/* th_loop: epoll loop with fd callbacks, safe removal during dispatch, timerfds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th_loop.h"
#include "th_time.h"

struct rec {
	int calls;
	int fd;
	uint32_t events;
};

static void record_cb(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct rec *r = user_data;
	r->calls++;
	r->fd = fd;
	r->events = events;
}

static int loop_setup(void **state)
{
	struct th_loop *l = NULL;
	if (th_loop_create(&l) < 0)
		return -1;
	*state = l;
	return 0;
}

static int loop_teardown(void **state)
{
	struct th_loop *l = *state;
	th_loop_destroy(&l);
	assert_null(l);
	return 0;
}

static void make_pipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
}

static void create_and_destroy_are_null_safe(void **state)
{
	struct th_loop *l = NULL;
	th_loop_destroy(NULL);
	th_loop_destroy(&l);
	assert_int_equal(th_loop_create(&l), 0);
	assert_non_null(l);
	assert_int_equal(th_loop_count(l), 0);
	assert_false(th_loop_quitting(l));
	th_loop_destroy(&l);
	assert_null(l);
}

static void readable_fd_dispatches_its_callback(void **state)
{
	struct th_loop *l = *state;
	int p[2];
	struct rec r = { 0 };
	make_pipe(p);

	assert_int_equal(th_loop_add(l, p[0], EPOLLIN, record_cb, &r), 0);
	assert_int_equal(th_loop_count(l), 1);
	assert_int_equal(th_loop_run_once(l, 0), 0); /* nothing ready */
	assert_int_equal(r.calls, 0);

	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(th_loop_run_once(l, 1000), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, p[0]);
	assert_true(r.events & EPOLLIN);

	/* Level-triggered: still readable, dispatched again. */
	assert_int_equal(th_loop_run_once(l, 0), 1);
	assert_int_equal(r.calls, 2);

	assert_int_equal(th_loop_del(l, p[0]), 0);
	assert_int_equal(th_loop_count(l), 0);
	assert_int_equal(th_loop_run_once(l, 0), 0);
	assert_int_equal(r.calls, 2);
	close(p[0]);
	close(p[1]);
}

static void add_twice_is_eexist_and_bad_fds_fail(void **state)
{
	struct th_loop *l = *state;
	int p[2];
	struct rec r = { 0 };
	make_pipe(p);

	assert_int_equal(th_loop_add(l, p[0], EPOLLIN, record_cb, &r), 0);
	assert_int_equal(th_loop_add(l, p[0], EPOLLIN, record_cb, &r), -EEXIST);
	assert_int_equal(th_loop_count(l), 1);

	assert_int_equal(th_loop_add(l, -1, EPOLLIN, record_cb, &r), -EBADF);
	assert_int_equal(th_loop_add(l, TH_LOOP_MAX_FDS, EPOLLIN, record_cb, &r), -EBADF);
	/* A regular file cannot be polled: epoll's error comes back, nothing registered. */
	int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(f >= 0);
	int dupf = fcntl(f, F_DUPFD_CLOEXEC, 500); /* forces the slot table to grow */
	assert_true(dupf >= 500);
	assert_int_equal(th_loop_add(l, dupf, EPOLLIN, record_cb, &r), -EPERM);
	assert_int_equal(th_loop_count(l), 1);
	assert_int_equal(th_loop_del(l, dupf), -ENOENT);
	close(dupf);
	close(f);

	assert_int_equal(th_loop_del(l, p[1]), -ENOENT); /* never added */
	assert_int_equal(th_loop_del(l, -1), -ENOENT);
	assert_int_equal(th_loop_del(l, 100000), -ENOENT);
	assert_int_equal(th_loop_mod(l, p[1], EPOLLIN), -ENOENT);
	assert_int_equal(th_loop_mod(l, -5, EPOLLIN), -ENOENT);

	assert_int_equal(th_loop_del(l, p[0]), 0);
	assert_int_equal(th_loop_del(l, p[0]), -ENOENT);
	/* After del the fd can be added again. */
	assert_int_equal(th_loop_add(l, p[0], EPOLLIN, record_cb, &r), 0);
	assert_int_equal(th_loop_del(l, p[0]), 0);
	close(p[0]);
	close(p[1]);
}

static void mod_changes_the_events_watched(void **state)
{
	struct th_loop *l = *state;
	int p[2];
	struct rec r = { 0 };
	make_pipe(p);

	/* The write end is writable at once. */
	assert_int_equal(th_loop_add(l, p[1], 0, record_cb, &r), 0);
	assert_int_equal(th_loop_run_once(l, 0), 0);
	assert_int_equal(th_loop_mod(l, p[1], EPOLLOUT), 0);
	assert_int_equal(th_loop_run_once(l, 0), 1);
	assert_true(r.events & EPOLLOUT);
	assert_int_equal(th_loop_mod(l, p[1], 0), 0);
	assert_int_equal(th_loop_run_once(l, 0), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(th_loop_del(l, p[1]), 0);
	close(p[0]);
	close(p[1]);
}

/* Two readable pipes; whichever callback runs first removes the other. */
struct pair {
	int fds[2];
	int calls[2];
	bool close_other;
	bool reuse; /* re-add a new fd under the other's number */
	int reuse_calls;
	int victim;
};

static void reuse_cb(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct pair *pr = user_data;
	pr->reuse_calls++;
}

static void pair_cb(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct pair *pr = user_data;
	int me = fd == pr->fds[0] ? 0 : 1;
	pr->calls[me]++;
	if (pr->victim >= 0)
		return;
	int other = pr->fds[!me];
	pr->victim = other;
	assert_int_equal(th_loop_del(loop, other), 0);
	if (pr->close_other) {
		close(other);
		pr->fds[!me] = -1;
	}
	if (pr->reuse) {
		/* A new, readable fd lands on the same number (dup2 onto it). */
		int q[2];
		make_pipe(q);
		assert_int_equal(write(q[1], "y", 1), 1);
		assert_int_equal(dup3(q[0], other, O_CLOEXEC), other);
		close(q[0]);
		close(q[1]);
		pr->fds[!me] = other;
		assert_int_equal(th_loop_add(loop, other, EPOLLIN, reuse_cb, pr), 0);
	}
}

static void run_pair(struct th_loop *l, struct pair *pr)
{
	int a[2], b[2];
	make_pipe(a);
	make_pipe(b);
	pr->fds[0] = a[0];
	pr->fds[1] = b[0];
	pr->victim = -1;
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(th_loop_add(l, a[0], EPOLLIN, pair_cb, pr), 0);
	assert_int_equal(th_loop_add(l, b[0], EPOLLIN, pair_cb, pr), 0);

	/* Both events arrive in one epoll_wait batch; only the first runs. */
	assert_int_equal(th_loop_run_once(l, 1000), 1);
	assert_int_equal(pr->calls[0] + pr->calls[1], 1);
	assert_true(pr->victim >= 0);
	close(a[1]);
	close(b[1]);
}

static void deleted_fd_pending_in_batch_is_not_dispatched(void **state)
{
	struct th_loop *l = *state;
	struct pair pr = { 0 };
	run_pair(l, &pr);
	assert_int_equal(th_loop_count(l), 1);
	/* Later iterations dispatch only the survivor. */
	int survivor = pr.fds[0] == pr.victim ? 1 : 0;
	assert_int_equal(th_loop_run_once(l, 0), 1);
	assert_int_equal(pr.calls[survivor], 2);
	assert_int_equal(pr.calls[!survivor], 0);
	assert_int_equal(th_loop_del(l, pr.fds[survivor]), 0);
	close(pr.fds[0]);
	close(pr.fds[1]);
}

static void deleted_and_closed_fd_in_batch_is_not_dispatched(void **state)
{
	struct th_loop *l = *state;
	struct pair pr = { .close_other = true };
	run_pair(l, &pr);
	int survivor = pr.fds[0] >= 0 ? 0 : 1;
	assert_int_equal(pr.calls[!survivor], 0);
	assert_int_equal(th_loop_del(l, pr.fds[survivor]), 0);
	close(pr.fds[survivor]);
}

static void fd_number_reused_within_batch_gets_no_stale_event(void **state)
{
	struct th_loop *l = *state;
	struct pair pr = { .reuse = true };
	run_pair(l, &pr);
	/* The stale event for the old registration must not reach the new one
	 * (nor the old callback). */
	assert_int_equal(pr.reuse_calls, 0);
	assert_int_equal(pr.calls[0] + pr.calls[1], 1);
	assert_int_equal(th_loop_count(l), 2);
	/* The new registration works from the next iteration on. */
	assert_int_equal(th_loop_run_once(l, 0), 2);
	assert_int_equal(pr.reuse_calls, 1);
	assert_int_equal(th_loop_del(l, pr.fds[0]), 0);
	assert_int_equal(th_loop_del(l, pr.fds[1]), 0);
	close(pr.fds[0]);
	close(pr.fds[1]);
}

static void self_del_cb(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	int *calls = user_data;
	(*calls)++;
	assert_int_equal(th_loop_del(loop, fd), 0);
}

static void callback_may_remove_itself(void **state)
{
	struct th_loop *l = *state;
	int p[2], calls = 0;
	make_pipe(p);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(th_loop_add(l, p[0], EPOLLIN, self_del_cb, &calls), 0);
	assert_int_equal(th_loop_run_once(l, 1000), 1);
	assert_int_equal(th_loop_run_once(l, 0), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(th_loop_count(l), 0);
	close(p[0]);
	close(p[1]);
}

struct timer_rec {
	int calls;
	uint64_t expirations;
	int quit_after;
};

static void timer_cb(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct timer_rec *t = user_data;
	t->calls++;
	t->expirations += th_timerfd_drain(fd);
	if (t->quit_after && t->calls >= t->quit_after)
		th_loop_quit(loop);
}

static void one_shot_timer_fires_once(void **state)
{
	struct th_loop *l = *state;
	struct timer_rec t = { 0 };
	uint64_t start = th_now_ns();
	int fd = th_timerfd_create(5 * TH_NS_PER_MS, 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(th_loop_add(l, fd, EPOLLIN, timer_cb, &t), 0);
	assert_int_equal(th_loop_run_once(l, 5000), 1);
	assert_true(th_now_ns() - start >= 5 * TH_NS_PER_MS);
	assert_int_equal(t.calls, 1);
	assert_true(t.expirations == 1);
	/* Not again. */
	assert_int_equal(th_loop_run_once(l, 30), 0);
	assert_true(th_timerfd_drain(fd) == 0);
	assert_int_equal(th_loop_del(l, fd), 0);
	close(fd);
}

static void periodic_timer_and_loop_quit(void **state)
{
	struct th_loop *l = *state;
	struct timer_rec t = { .quit_after = 3 };
	int fd = th_timerfd_create(0, 2 * TH_NS_PER_MS); /* first 0: fire at once */
	assert_true(fd >= 0);
	assert_int_equal(th_loop_add(l, fd, EPOLLIN, timer_cb, &t), 0);
	assert_int_equal(th_loop_run(l), 0); /* returns after the third callback */
	assert_true(th_loop_quitting(l));
	assert_int_equal(t.calls, 3);
	assert_true(t.expirations >= 3);
	/* A quitting loop's run returns at once. */
	assert_int_equal(th_loop_run(l), 0);
	assert_int_equal(t.calls, 3);

	/* Re-arming with 0/0 disarms. */
	assert_int_equal(th_timerfd_set(fd, 0, 0), 0);
	th_timerfd_drain(fd);
	assert_int_equal(th_loop_run_once(l, 20), 0);
	assert_int_equal(th_loop_del(l, fd), 0);
	close(fd);
}

static void timerfd_set_on_bad_fd_fails(void **state)
{
	assert_int_equal(th_timerfd_set(-1, TH_NS_PER_MS, 0), -EBADF);
	assert_true(th_timerfd_drain(-1) == 0);
}

/* ---- stalls, on a simulated clock ------------------------------------------ */

struct sim {
	uint64_t now;
	uint64_t cost;   /* what the next callback "takes" */
	int p[2];
};

static uint64_t sim_now(void *user)
{
	return ((struct sim *)user)->now;
}

static void costly_cb(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sim *s = user;
	char b[64];
	while (read(fd, b, sizeof b) > 0)
		;
	s->now += s->cost;
}

/* One wake-up handled at simulated time `at` that takes `cost` ns. */
static void wake(struct th_loop *l, struct sim *s, uint64_t at, uint64_t cost)
{
	s->now = at;
	s->cost = cost;
	assert_int_equal(write(s->p[1], "x", 1), 1);
	assert_int_equal(th_loop_run_once(l, 1000), 1);
}

static void each_wake_up_is_measured_as_one_stall(void **state)
{
	struct th_loop *l = *state;
	struct sim s = { .now = 1000 * TH_NS_PER_S };
	make_pipe(s.p);
	th_loop_set_clock(l, sim_now, &s);
	assert_int_equal(th_loop_add(l, s.p[0], EPOLLIN, costly_cb, &s), 0);
	struct th_loop_stall_stats st;
	th_loop_stall_stats(l, s.now, &st);
	assert_int_equal(st.wakeups, 0);
	assert_int_equal(st.max_ns, 0);
	uint64_t t = s.now + TH_NS_PER_MS;
	for (int i = 0; i < 1998; i++, t += TH_NS_PER_MS)
		wake(l, &s, t, 20 * TH_NS_PER_US);
	wake(l, &s, t, 3 * TH_NS_PER_MS); /* two long ones: p99.9 of 2000 is the 1998th */
	wake(l, &s, t + TH_NS_PER_MS, 9 * TH_NS_PER_MS);
	th_loop_stall_stats(l, s.now, &st);
	assert_int_equal(st.wakeups, 2000);
	assert_int_equal(st.max_ns, 9 * TH_NS_PER_MS);
	assert_true(st.p999_ns >= 20 * TH_NS_PER_US && st.p999_ns <= 20 * TH_NS_PER_US * 9 / 8);
	/* Time spent waiting in epoll is no stall: a wake-up after 1 s idle
	 * that costs nothing adds nothing. */
	wake(l, &s, s.now + TH_NS_PER_S, 0);
	th_loop_stall_stats(l, s.now, &st);
	assert_int_equal(st.max_ns, 9 * TH_NS_PER_MS);
	th_loop_del(l, s.p[0]);
	close(s.p[0]);
	close(s.p[1]);
}

static void the_recent_window_forgets_older_stalls(void **state)
{
	struct th_loop *l = *state;
	struct sim s = { .now = 50 * TH_NS_PER_S };
	make_pipe(s.p);
	th_loop_set_clock(l, sim_now, &s); /* windows start here */
	uint64_t w0 = s.now, W = TH_LOOP_STALL_WINDOW_NS;
	assert_int_equal(th_loop_add(l, s.p[0], EPOLLIN, costly_cb, &s), 0);
	struct th_loop_stall_stats st;
	/* Window 0: one 7 ms stall. Nothing is complete yet. */
	wake(l, &s, w0 + TH_NS_PER_S, 7 * TH_NS_PER_MS);
	th_loop_stall_stats(l, s.now, &st);
	assert_int_equal(st.window_wakeups, 0);
	/* In window 1 the last complete window is 0. */
	wake(l, &s, w0 + W + TH_NS_PER_S, 2 * TH_NS_PER_MS);
	wake(l, &s, w0 + W + 2 * TH_NS_PER_S, 1 * TH_NS_PER_MS);
	th_loop_stall_stats(l, s.now, &st);
	assert_int_equal(st.window_wakeups, 1);
	assert_int_equal(st.window_max_ns, 7 * TH_NS_PER_MS);
	/* Read during window 2: window 1 (2 ms and 1 ms). */
	th_loop_stall_stats(l, w0 + 2 * W + 1, &st);
	assert_int_equal(st.window_wakeups, 2);
	assert_int_equal(st.window_max_ns, 2 * TH_NS_PER_MS);
	assert_int_equal(st.max_ns, 7 * TH_NS_PER_MS); /* since start: still the 7 ms */
	/* A window the loop slept through is empty, whatever came before. */
	th_loop_stall_stats(l, w0 + 3 * W + 1, &st);
	assert_int_equal(st.window_wakeups, 0);
	assert_int_equal(st.window_max_ns, 0);
	/* A wake-up after a gap of several windows: the window before it is empty. */
	wake(l, &s, w0 + 6 * W + 10, 5 * TH_NS_PER_US);
	th_loop_stall_stats(l, s.now, &st);
	assert_int_equal(st.window_wakeups, 0);
	th_loop_stall_stats(l, w0 + 7 * W, &st);
	assert_int_equal(st.window_wakeups, 1);
	assert_int_equal(st.window_max_ns, 5 * TH_NS_PER_US);
	assert_int_equal(st.wakeups, 4);
	th_loop_del(l, s.p[0]);
	close(s.p[0]);
	close(s.p[1]);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, loop_setup, loop_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_and_destroy_are_null_safe),
		T(readable_fd_dispatches_its_callback),
		T(add_twice_is_eexist_and_bad_fds_fail),
		T(mod_changes_the_events_watched),
		T(deleted_fd_pending_in_batch_is_not_dispatched),
		T(deleted_and_closed_fd_in_batch_is_not_dispatched),
		T(fd_number_reused_within_batch_gets_no_stale_event),
		T(callback_may_remove_itself),
		T(one_shot_timer_fires_once),
		T(periodic_timer_and_loop_quit),
		cmocka_unit_test(timerfd_set_on_bad_fd_fails),
		T(each_wake_up_is_measured_as_one_stall),
		T(the_recent_window_forgets_older_stalls),
	};
	return cmocka_run_group_tests_name("th_loop", tests, NULL, NULL);
}
