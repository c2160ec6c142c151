/* common/th_fdpass: descriptors over SOCK_SEQPACKET and every way a peer
 * can get it wrong; nothing may leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "th_fdpass.h"
#include "th_shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct pair {
	int a, b;
};

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR itself */
}

static int setup(void **state)
{
	static struct pair p;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	p.a = sv[0];
	p.b = sv[1];
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	if (p->a >= 0)
		close(p->a);
	if (p->b >= 0)
		close(p->b);
	return 0;
}

/* Raw sendmsg with n descriptors, bypassing th_fdpass_send's limits. */
static void raw_send(int sock, const void *buf, size_t len, const int *fds, size_t n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 32)];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n) {
		memset(cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

static void message_with_descriptors_arrives_intact(void **state)
{
	struct pair *p = *state;
	struct th_shm shm;
	assert_int_equal(th_shm_create("fdpass", 4096, &shm), 0);
	int e1 = eventfd(0, EFD_CLOEXEC), e2 = eventfd(0, EFD_CLOEXEC);
	int out[3] = { shm.fd, e1, e2 };
	assert_int_equal(th_fdpass_send(p->a, "welcome", 7, out, 3), 0);
	char buf[64];
	int in[4] = { 99, 99, 99, 99 };
	size_t n = 0;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, 4, &n), 7);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "welcome", 7);
	assert_int_equal(th_fd_kind(in[0]), TH_FD_MEMFD);
	assert_int_equal(th_fd_kind(in[1]), TH_FD_EVENTFD);
	assert_int_equal(th_fd_kind(in[2]), TH_FD_EVENTFD);
	assert_int_equal(in[3], -1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fcntl(in[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		close(in[i]);
	}
	close(e1);
	close(e2);
	th_shm_close(&shm);
}

static void message_without_descriptors_reports_none(void **state)
{
	struct pair *p = *state;
	assert_int_equal(th_fdpass_send(p->a, "hello", 5, NULL, 0), 0);
	char buf[64];
	int in[3];
	size_t n = 42;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, 3, &n), 5);
	assert_int_equal(n, 0);
	assert_int_equal(in[0], -1);
}

static void fd_kinds_are_told_apart(void **state)
{
	struct pair *p = *state;
	int pp[2];
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	assert_int_equal(th_fd_kind(pp[0]), TH_FD_OTHER);
	assert_int_equal(th_fd_kind(p->a), TH_FD_SOCKET);
	FILE *t = tmpfile();
	assert_int_equal(th_fd_kind(fileno(t)), TH_FD_REGULAR);
	fclose(t);
	close(pp[0]);
	close(pp[1]);
	assert_int_equal(th_fd_kind(pp[0]), -EBADF);
}

static void more_descriptors_than_accepted_are_closed(void **state)
{
	struct pair *p = *state;
	int before = open_fds();
	int e[4];
	for (int i = 0; i < 4; i++)
		e[i] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(th_fdpass_send(p->a, "x", 1, e, 4), 0);
	for (int i = 0; i < 4; i++)
		close(e[i]);
	char buf[8];
	int in[2] = { 7, 7 };
	size_t n = 42;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, 2, &n), -EBADMSG);
	assert_int_equal(n, 42);
	assert_int_equal(open_fds(), before);
}

static void truncated_control_message_is_refused_without_leaks(void **state)
{
	struct pair *p = *state;
	int before = open_fds();
	int e[20];
	for (int i = 0; i < 20; i++)
		e[i] = eventfd(0, EFD_CLOEXEC);
	raw_send(p->a, "x", 1, e, 20); /* more than TH_FDPASS_MAX_FDS: MSG_CTRUNC */
	for (int i = 0; i < 20; i++)
		close(e[i]);
	char buf[8];
	int in[TH_FDPASS_MAX_FDS];
	size_t n = 42;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, TH_FDPASS_MAX_FDS, &n), -EBADMSG);
	assert_int_equal(n, 42);
	assert_int_equal(open_fds(), before);
}

static void truncated_datagram_is_refused_without_leaks(void **state)
{
	struct pair *p = *state;
	int before = open_fds();
	int e = eventfd(0, EFD_CLOEXEC);
	char big[256];
	memset(big, 'b', sizeof big);
	assert_int_equal(th_fdpass_send(p->a, big, sizeof big, &e, 1), 0);
	close(e);
	char buf[16];
	int in[3];
	size_t n = 0;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, 3, &n), -EMSGSIZE);
	assert_int_equal(open_fds(), before);
}

static void unexpected_control_message_is_refused(void **state)
{
	struct pair *p = *state;
	int on = 1;
	/* With SO_PASSCRED every datagram carries SCM_CREDENTIALS. */
	assert_int_equal(setsockopt(p->b, SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
	int before = open_fds();
	int e = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(th_fdpass_send(p->a, "x", 1, &e, 1), 0);
	close(e);
	char buf[16];
	int in[3];
	size_t n = 0;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, 3, &n), -EBADMSG);
	assert_int_equal(open_fds(), before);
}

static void hang_up_reads_as_zero_and_send_does_not_raise_sigpipe(void **state)
{
	struct pair *p = *state;
	close(p->a);
	p->a = -1;
	char buf[16];
	int in[3];
	size_t n = 9;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, 3, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(th_fdpass_send(p->b, "x", 1, NULL, 0), -EPIPE);
}

static void send_checks_its_arguments(void **state)
{
	struct pair *p = *state;
	int fds[TH_FDPASS_MAX_FDS + 1] = { 0 };
	assert_int_equal(th_fdpass_send(p->a, "x", 1, fds, TH_FDPASS_MAX_FDS + 1), -EINVAL);
	assert_int_equal(th_fdpass_send(p->a, "x", 1, NULL, 1), -EINVAL);
	int bad = 12345;
	assert_int_equal(th_fdpass_send(p->a, "x", 1, &bad, 1), -EBADF);
	int nb = fcntl(p->b, F_GETFL);
	fcntl(p->b, F_SETFL, nb | O_NONBLOCK);
	char buf[4];
	int in[1];
	size_t n;
	assert_int_equal(th_fdpass_recv(p->b, buf, sizeof buf, in, 1, &n), -EAGAIN);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(message_with_descriptors_arrives_intact),
		T(message_without_descriptors_reports_none),
		T(fd_kinds_are_told_apart),
		T(more_descriptors_than_accepted_are_closed),
		T(truncated_control_message_is_refused_without_leaks),
		T(truncated_datagram_is_refused_without_leaks),
		T(unexpected_control_message_is_refused),
		T(hang_up_reads_as_zero_and_send_does_not_raise_sigpipe),
		T(send_checks_its_arguments),
	};
	return cmocka_run_group_tests_name("th_fdpass", tests, NULL, NULL);
}
