#include "srv/mhd_loop.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "th_err.h"
#include "th_loop.h"
#include "th_time.h"

struct srv_mhd_loop {
	struct th_loop *loop;
	struct MHD_Daemon *mhd;
	int mhd_fd; /* MHD's epoll fd (MHD owns it) */
	int timer_fd;
};

static void srv_mhd_arm(struct srv_mhd_loop *l)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(l->mhd, &ms) == MHD_YES)
		th_timerfd_set(l->timer_fd, ms ? ms * TH_NS_PER_MS : 1, 0);
	else
		th_timerfd_set(l->timer_fd, 0, 0);
}

void srv_mhd_loop_run(struct srv_mhd_loop *l)
{
	MHD_run(l->mhd);
	srv_mhd_arm(l);
}

static void on_mhd(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	(void)loop;
	(void)fd;
	(void)events;
	srv_mhd_loop_run(user);
}

static void on_timer(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	(void)loop;
	(void)events;
	th_timerfd_drain(fd);
	srv_mhd_loop_run(user);
}

int srv_mhd_loop_attach(struct th_loop *loop, struct MHD_Daemon *mhd, struct srv_mhd_loop **out, char *msg,
			size_t len)
{
	struct srv_mhd_loop *l = calloc(1, sizeof *l);
	int r;
	if (!l)
		return -ENOMEM;
	*l = (struct srv_mhd_loop){ .loop = loop, .mhd = mhd, .mhd_fd = -1, .timer_fd = -1 };
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di || di->epoll_fd < 0) {
		r = -EIO;
		snprintf(msg, len, "libmicrohttpd has no epoll descriptor");
		goto fail;
	}
	if ((l->timer_fd = th_timerfd_create(0, 0)) < 0) {
		r = l->timer_fd;
		snprintf(msg, len, "cannot make an HTTP endpoint's timer: %s", th_strerror(r));
		goto fail;
	}
	if ((r = th_loop_add(loop, di->epoll_fd, EPOLLIN, on_mhd, l)) < 0) {
		snprintf(msg, len, "cannot watch an HTTP endpoint: %s", th_strerror(r));
		goto fail;
	}
	l->mhd_fd = di->epoll_fd;
	if ((r = th_loop_add(loop, l->timer_fd, EPOLLIN, on_timer, l)) < 0) {
		snprintf(msg, len, "cannot watch an HTTP endpoint: %s", th_strerror(r));
		goto fail;
	}
	srv_mhd_arm(l);
	*out = l;
	return 0;
fail:
	srv_mhd_loop_detach(&l);
	return r;
}

void srv_mhd_loop_detach(struct srv_mhd_loop **lp)
{
	struct srv_mhd_loop *l = *lp;
	if (!l)
		return;
	if (l->mhd_fd >= 0)
		th_loop_del(l->loop, l->mhd_fd);
	if (l->timer_fd >= 0) {
		th_loop_del(l->loop, l->timer_fd);
		close(l->timer_fd);
	}
	free(l);
	*lp = NULL;
}
