/* UDP socket with recvmmsg and UDP GSO. See net_udp.h. */
#include "net/net_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

struct net_udp {
	int fd;
	int family;
	bool gso;
	struct sockaddr_storage local;
	socklen_t local_len;
	uint16_t port;
	uint8_t *arena; /* NET_UDP_RX_BATCH * NET_UDP_MAX_DGRAM */
};

/* The errors an ICMP message leaves pending on the socket. */
static bool net_udp_icmp_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN || e == ENETDOWN ||
	       e == EPROTO || e == ENOPROTOOPT || e == EACCES || e == EMSGSIZE;
}

static int open_family(int family, const char *bind_addr, uint16_t port, struct net_udp *u)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_any;
		if (bind_addr && *bind_addr && inet_pton(AF_INET6, bind_addr, &a->sin6_addr) != 1)
			goto inval;
		int off = 0;
		bool any = !bind_addr || !*bind_addr;
		if (any && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
			goto err;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind_addr && *bind_addr && inet_pton(AF_INET, bind_addr, &a->sin_addr) != 1)
			goto inval;
		sl = sizeof(*a);
	}
	/* ICMP errors into the error queue: a join to a closed port fails
	 * at once instead of after its timeout. A dual-stack socket gets
	 * IPv4 errors through IP_RECVERR. */
	int on = 1;
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	int sz = NET_UDP_SOCKBUF;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto err;
	u->local_len = sizeof(u->local);
	if (getsockname(fd, (struct sockaddr *)&u->local, &u->local_len) < 0)
		goto err;
	u->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&u->local)->sin6_port
					   : ((struct sockaddr_in *)&u->local)->sin_port);
	/* Probe GSO: the option exists when the kernel supports it. */
	int seg = 0;
	socklen_t segl = sizeof(seg);
	u->gso = getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &seg, &segl) == 0;
	u->fd = fd;
	u->family = family;
	return 0;
inval:
	close(fd);
	return -EINVAL;
err:;
	int e = -errno;
	close(fd);
	return e;
}

int net_udp_open(const char *bind_addr, uint16_t port, struct net_udp **out)
{
	struct net_udp *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = -1;
	u->arena = malloc((size_t)NET_UDP_RX_BATCH * NET_UDP_MAX_DGRAM);
	if (!u->arena) {
		free(u);
		return -ENOMEM;
	}
	struct in_addr a4;
	int rv;
	if (bind_addr && *bind_addr && inet_pton(AF_INET, bind_addr, &a4) == 1) {
		rv = open_family(AF_INET, bind_addr, port, u);
	} else {
		rv = open_family(AF_INET6, bind_addr, port, u);
		if (rv == -EAFNOSUPPORT && (!bind_addr || !*bind_addr))
			rv = open_family(AF_INET, NULL, port, u);
	}
	if (rv < 0) {
		free(u->arena);
		free(u);
		return rv;
	}
	*out = u;
	return 0;
}

void net_udp_close(struct net_udp **pu)
{
	struct net_udp *u = pu ? *pu : NULL;
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	free(u->arena);
	free(u);
	*pu = NULL;
}

int net_udp_fd(const struct net_udp *u) { return u->fd; }
uint16_t net_udp_port(const struct net_udp *u) { return u->port; }
bool net_udp_has_gso(const struct net_udp *u) { return u->gso; }

bool net_udp_is_dual_stack(const struct net_udp *u)
{
	if (u->family != AF_INET6)
		return false;
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&u->local;
	return IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
}

const struct sockaddr *net_udp_local(const struct net_udp *u, socklen_t *len)
{
	if (len)
		*len = u->local_len;
	return (const struct sockaddr *)&u->local;
}

void net_udp_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	if (ss->ss_family != AF_INET6)
		return;
	struct sockaddr_in6 a6;
	memcpy(&a6, ss, sizeof(a6));
	if (!IN6_IS_ADDR_V4MAPPED(&a6.sin6_addr))
		return;
	struct sockaddr_in a4;
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	a4.sin_port = a6.sin6_port;
	memcpy(&a4.sin_addr, a6.sin6_addr.s6_addr + 12, 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &a4, sizeof(a4));
	*len = sizeof(a4);
}

int net_udp_recv(struct net_udp *u, struct net_udp_msg *msgs, unsigned max)
{
	if (max > NET_UDP_RX_BATCH)
		max = NET_UDP_RX_BATCH;
	struct mmsghdr mm[NET_UDP_RX_BATCH];
	struct iovec iov[NET_UDP_RX_BATCH];
	memset(mm, 0, sizeof(mm[0]) * max);
	for (unsigned i = 0; i < max; i++) {
		iov[i].iov_base = u->arena + (size_t)i * NET_UDP_MAX_DGRAM;
		iov[i].iov_len = NET_UDP_MAX_DGRAM;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &msgs[i].from;
		mm[i].msg_hdr.msg_namelen = sizeof(msgs[i].from);
	}
	int n = recvmmsg(u->fd, mm, max, MSG_DONTWAIT, NULL);
	if (n < 0 && net_udp_icmp_errno(errno)) /* the pending ICMP error, consumed: the datagrams wait */
		n = recvmmsg(u->fd, mm, max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || net_udp_icmp_errno(errno)) ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		msgs[i].data = iov[i].iov_base;
		msgs[i].len = mm[i].msg_len;
		msgs[i].from_len = mm[i].msg_hdr.msg_namelen;
		net_udp_unmap(&msgs[i].from, &msgs[i].from_len);
	}
	return n;
}

int net_udp_recv_error(struct net_udp *u, struct net_udp_icmp *out)
{
	for (;;) {
		uint8_t data[64]; /* the offending datagram's start: not needed */
		struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6)) * 2];
		} ctl;
		struct sockaddr_storage to;
		struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(u->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		const struct sock_extended_err *ee = NULL;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			bool v4 = cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR;
			bool v6 = cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR;
			if ((v4 || v6) && cm->cmsg_len >= CMSG_LEN(sizeof(*ee)))
				ee = (const struct sock_extended_err *)CMSG_DATA(cm);
		}
		if (!ee || (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6) ||
		    (mh.msg_flags & MSG_CTRUNC) || mh.msg_namelen < sizeof(sa_family_t) ||
		    mh.msg_namelen > sizeof(to))
			continue; /* a local error, or one we cannot read whole: skip it */
		memset(out, 0, sizeof(*out));
		out->to = to;
		out->to_len = mh.msg_namelen;
		net_udp_unmap(&out->to, &out->to_len);
		out->err = (int)ee->ee_errno;
		out->type = ee->ee_type;
		out->code = ee->ee_code;
		out->v6 = ee->ee_origin == SO_EE_ORIGIN_ICMP6;
		return 1;
	}
}

/* AF_INET destinations on a v6 socket become v4-mapped. */
static socklen_t map_dest(const struct net_udp *u, const struct sockaddr *to, socklen_t to_len,
			  struct sockaddr_storage *tmp)
{
	if (u->family == AF_INET6 && to->sa_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)to;
		struct sockaddr_in6 a6;
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_port = a4->sin_port;
		a6.sin6_addr.s6_addr[10] = 0xff;
		a6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(a6.sin6_addr.s6_addr + 12, &a4->sin_addr, 4);
		memcpy(tmp, &a6, sizeof(a6));
		return sizeof(a6);
	}
	memcpy(tmp, to, to_len);
	return to_len;
}

static int send_one(struct net_udp *u, const uint8_t *buf, size_t len, size_t seg,
		    const struct sockaddr_storage *to, socklen_t tl)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {
		.msg_name = (void *)to, .msg_namelen = tl, .msg_iov = &iov, .msg_iovlen = 1,
	};
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	if (seg && seg < len) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		uint16_t s16 = (uint16_t)seg;
		memcpy(CMSG_DATA(cm), &s16, sizeof(s16));
	}
	bool retried = false;
	for (;;) {
		ssize_t n = sendmsg(u->fd, &mh, MSG_DONTWAIT);
		if (n >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* The socket's pending error from an ICMP about another peer
		 * (or this one), consumed by this call: send again. */
		if (net_udp_icmp_errno(errno) && !retried) {
			retried = true;
			continue;
		}
		return -errno;
	}
}

int net_udp_send(struct net_udp *u, const uint8_t *buf, size_t len, size_t seg,
		 const struct sockaddr *to, socklen_t to_len, size_t *sent)
{
	struct sockaddr_storage dst;
	size_t done = 0;
	if ((size_t)to_len > sizeof(dst))
		return -EINVAL;
	socklen_t tl = map_dest(u, to, to_len, &dst);
	if (!seg || seg >= len)
		seg = len;
	int rv = 0;
	if (u->gso && seg < len && len / seg < NET_UDP_MAX_GSO_SEGS) {
		rv = send_one(u, buf, len, seg, &dst, tl);
		if (rv == 0) {
			done = len;
			goto out;
		}
		if (rv == -EIO || rv == -EINVAL || rv == -EOPNOTSUPP)
			u->gso = false; /* device or kernel cannot: fall back for good */
		else
			goto out;
		rv = 0;
	}
	while (done < len) {
		size_t n = len - done < seg ? len - done : seg;
		rv = send_one(u, buf + done, n, 0, &dst, tl);
		if (rv < 0)
			break;
		done += n;
	}
out:
	if (sent)
		*sent = done;
	if (rv == -EWOULDBLOCK)
		rv = -EAGAIN;
	return rv;
}

void net_udp_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}

bool net_udp_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
	}
	return false;
}
