/* A stand-in control.sock for thetactl's tests (th_ctlfake.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "th_buf.h"
#include "th_ctlfake.h"
#include "th_harness.h"

#define ACCEPT_POLL_MS 20 /* how often the thread looks at the stop flag */

/* One request read and answered: false when the connection is done. */
static bool serve_one(struct th_ctlfake *f, int c, char *req, char *body)
{
	uint8_t hdr[PROTO_CTL_HEADER_BYTES];
	if (recv(c, hdr, sizeof hdr, MSG_WAITALL) != (ssize_t)sizeof hdr)
		return false;
	uint32_t len = th_get_le32(hdr);
	if (len >= TH_CTLFAKE_REQ_MAX || recv(c, req, len, MSG_WAITALL) != (ssize_t)len)
		return false;
	req[len] = 0;
	int k = f->answer(f->ud, req, body, TH_CTLFAKE_BODY_MAX);
	if (k < 0 || (size_t)k >= TH_CTLFAKE_BODY_MAX)
		return false;
	proto_ctl_frame_header(hdr, (uint32_t)k);
	return send(c, hdr, sizeof hdr, MSG_NOSIGNAL) == (ssize_t)sizeof hdr &&
	       send(c, body, (size_t)k, MSG_NOSIGNAL) == (ssize_t)k;
}

static void *run(void *arg)
{
	struct th_ctlfake *f = arg;
	char *req = malloc(TH_CTLFAKE_REQ_MAX), *body = malloc(TH_CTLFAKE_BODY_MAX);
	while (req && body && !atomic_load(&f->stop)) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		if (poll(&p, 1, ACCEPT_POLL_MS) <= 0)
			continue;
		int c = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		for (int i = 0; i < TH_CTLFAKE_REQS_MAX; i++) {
			struct pollfd q = { .fd = c, .events = POLLIN };
			if (poll(&q, 1, TH_CTLFAKE_IDLE_MS) <= 0 || (q.revents & (POLLHUP | POLLERR)) ||
			    !serve_one(f, c, req, body))
				break;
		}
		close(c);
	}
	free(req);
	free(body);
	return NULL;
}

void th_ctlfake_start(struct th_ctlfake *f, th_ctlfake_answer_fn answer, void *ud)
{
	memset(f, 0, sizeof *f);
	f->answer = answer;
	f->ud = ud;
	assert_int_equal(th_mkdtemp(f->dir, sizeof f->dir), 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", f->dir);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(pthread_create(&f->thr, NULL, run, f), 0);
}

void th_ctlfake_stop(struct th_ctlfake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thr, NULL);
	close(f->lfd);
	th_rm_rf(f->dir);
}
