/* thetad's one UDP socket: the thin real-I/O layer under net_server.
 *
 * Binds [::]:port with IPV6_V6ONLY=0 (IPv4 peers appear as v4-mapped
 * addresses, which this layer turns back into AF_INET on receive and
 * re-maps on send), falling back to 0.0.0.0 where IPv6 is unavailable.
 * Non-blocking, O_CLOEXEC. Receives in batches with recvmmsg; sends with
 * sendmsg and UDP GSO (UDP_SEGMENT) when the kernel has it, falling back
 * to one sendmsg per datagram after the first EIO/EINVAL.
 *
 * ICMP errors (port, host or network unreachable) come back through the
 * socket's error queue (IP_RECVERR / IPV6_RECVERR): the socket's poll
 * reports EPOLLERR while one waits, and net_udp_recv_error reads them, each
 * with the address the datagram that caused it was sent to. The pending
 * error the kernel also sets on the socket is consumed where it surfaces
 * (a receive or a send is retried once), so it never stops traffic to
 * other peers. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NET_UDP_DEFAULT_PORT 7450 /* documented in docs/network.md */
#define NET_UDP_RX_BATCH     32
#define NET_UDP_MAX_DGRAM    65535
#define NET_UDP_MAX_GSO_SEGS 64   /* kernel limit UDP_MAX_SEGMENTS */
#define NET_UDP_SOCKBUF      (4u << 20)

struct net_udp;

struct net_udp_msg {
	uint8_t *data; /* into the receive arena; valid until the next recv */
	size_t len;
	struct sockaddr_storage from;
	socklen_t from_len;
};

/* bind_addr: NULL or "" = any (dual stack); else a literal IPv4/IPv6 address.
 * port 0: ephemeral (read it back with net_udp_port). */
int net_udp_open(const char *bind_addr, uint16_t port, struct net_udp **out);
void net_udp_close(struct net_udp **u);
int net_udp_fd(const struct net_udp *u);
uint16_t net_udp_port(const struct net_udp *u);
/* The bound address (family AF_INET6 when dual stack). */
const struct sockaddr *net_udp_local(const struct net_udp *u, socklen_t *len);
bool net_udp_has_gso(const struct net_udp *u);
bool net_udp_is_dual_stack(const struct net_udp *u);
/* Same family, address and port (AF_INET and AF_INET6; false for others). */
bool net_udp_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* Receives up to max (<= NET_UDP_RX_BATCH) datagrams without blocking.
 * Returns the count (0: nothing pending) or a negative errno. */
int net_udp_recv(struct net_udp *u, struct net_udp_msg *msgs, unsigned max);
/* Sends len bytes as datagrams of seg bytes each (the last may be shorter;
 * seg == len or 0: one datagram). Returns 0, -EAGAIN when the socket
 * buffer is full (nothing or part sent: *sent says how many bytes went),
 * or another negative errno. */
int net_udp_send(struct net_udp *u, const uint8_t *buf, size_t len, size_t seg,
		 const struct sockaddr *to, socklen_t to_len, size_t *sent);

/* One ICMP error from the error queue. */
struct net_udp_icmp {
	struct sockaddr_storage to; /* where the datagram that caused it went (v4 unmapped) */
	socklen_t to_len;
	int err;          /* ECONNREFUSED (port unreachable), EHOSTUNREACH, ENETUNREACH, ... */
	uint8_t type, code; /* the ICMP / ICMPv6 type and code */
	bool v6;          /* ICMPv6 */
};
#define NET_UDP_ERRQ_BATCH 32 /* errors one readiness event takes at most */

/* Reads one queued ICMP error: 1 with *out, 0 none left, or -errno.
 * Errors that are not ICMP (a local EMSGSIZE) are read and skipped. */
int net_udp_recv_error(struct net_udp *u, struct net_udp_icmp *out);

/* Normalizes ::ffff:a.b.c.d to AF_INET in place. */
void net_udp_unmap(struct sockaddr_storage *ss, socklen_t *len);
/* "1.2.3.4:5" / "[::1]:5" */
void net_udp_addr_str(const struct sockaddr *sa, char *buf, size_t len);
/* Host names are resolved off the loop: net_resolve.h. */
