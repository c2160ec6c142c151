#include "th_fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

union fd_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * TH_FDPASS_MAX_FDS)];
};

int th_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
	if (n_fds > TH_FDPASS_MAX_FDS || (n_fds && !fds))
		return -EINVAL;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union fd_cmsg u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n_fds) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE;
	return 0;
}

void th_fd_close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

bool th_fdpass_collect(struct msghdr *mh, int *fds, size_t *n, size_t max)
{
	bool bad = false;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0) || (cm->cmsg_len - CMSG_LEN(0)) % sizeof(int)) {
			bad = true;
			continue;
		}
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *d = CMSG_DATA(cm);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, d + i * sizeof(int), sizeof fd);
			if (*n < max) {
				fds[(*n)++] = fd;
			} else {
				if (fd >= 0)
					close(fd);
				bad = true;
			}
		}
	}
	return !bad;
}

int th_fdpass_recv(int sock, void *buf, size_t cap, int *fds, size_t max_fds, size_t *n_fds)
{
	if (max_fds > TH_FDPASS_MAX_FDS || (max_fds && !fds))
		return -EINVAL;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	union fd_cmsg u;
	/* Room for every descriptor the protocol allows, so the kernel never
	 * has to drop some silently: too many are counted and refused below. */
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	int got[TH_FDPASS_MAX_FDS];
	size_t n_got = 0;
	bool bad = !th_fdpass_collect(&mh, got, &n_got, TH_FDPASS_MAX_FDS);
	int r = n;
	if (mh.msg_flags & MSG_CTRUNC)
		r = -EBADMSG;
	else if (mh.msg_flags & MSG_TRUNC)
		r = -EMSGSIZE;
	else if (bad || n_got > max_fds)
		r = -EBADMSG;
	if (r < 0) {
		th_fd_close_all(got, n_got);
		return r;
	}
	for (size_t i = 0; i < max_fds; i++)
		fds[i] = i < n_got ? got[i] : -1;
	*n_fds = n_got;
	return r;
}

int th_fd_kind(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISSOCK(st.st_mode))
		return TH_FD_SOCKET;
	if (S_ISREG(st.st_mode))
		return fcntl(fd, F_GET_SEALS) >= 0 ? TH_FD_MEMFD : TH_FD_REGULAR;
	char path[64], link[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n < 0)
		return TH_FD_OTHER;
	link[n] = '\0';
	if (!strcmp(link, "anon_inode:[eventfd]"))
		return TH_FD_EVENTFD;
	return TH_FD_OTHER;
}
