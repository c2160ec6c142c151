/* Messages with file descriptors over SOCK_SEQPACKET (SCM_RIGHTS).
 *
 * Receiving is defensive: descriptors arrive O_CLOEXEC; the control message
 * must be SOL_SOCKET/SCM_RIGHTS with a whole number of ints; a truncated
 * message (MSG_TRUNC) or control message (MSG_CTRUNC), an unknown control
 * message or more descriptors than the caller accepts fail the call, and
 * every descriptor that did arrive is closed before returning. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TH_FDPASS_MAX_FDS 8 /* most descriptors one message may carry */

/* Sends len bytes (one datagram) plus n_fds descriptors (may be 0). 0 or
 * -errno; -EMSGSIZE if the kernel accepted fewer bytes. Never raises
 * SIGPIPE. */
int th_fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);
/* Receives one datagram into buf[cap] and up to max_fds descriptors into
 * fds[] (unused slots set to -1); *n_fds gets the count. Returns the byte
 * count (0 with no descriptors: the peer hung up), or -EAGAIN, -EMSGSIZE
 * (datagram larger than cap), -EBADMSG (control data truncated, malformed,
 * of an unexpected kind or carrying more than max_fds descriptors), -errno.
 * On failure no descriptor stays open and *n_fds is untouched. */
int th_fdpass_recv(int sock, void *buf, size_t cap, int *fds, size_t max_fds, size_t *n_fds);
/* The descriptors recvmsg(2) put in mh's control messages (a reader of
 * its own, like the control socket's stream), appended to fds[*n .. max)
 * (*n counts them); those past max are closed. false when one was closed
 * or a control message is not SOL_SOCKET / SCM_RIGHTS with a whole number
 * of ints (mh's MSG_CTRUNC / MSG_TRUNC flags are the caller's to check). */
struct msghdr;
bool th_fdpass_collect(struct msghdr *mh, int *fds, size_t *n, size_t max);

enum th_fd_kind {
	TH_FD_OTHER = 0,
	TH_FD_MEMFD,   /* sealable shmem file (memfd_create) */
	TH_FD_EVENTFD, /* eventfd(2) */
	TH_FD_SOCKET,
	TH_FD_REGULAR, /* any other regular file */
};
/* What kind of object fd refers to; negative errno if fd is not open. */
int th_fd_kind(int fd);
/* Closes fds[0..n) that are >= 0 and sets them to -1. */
void th_fd_close_all(int *fds, size_t n);
