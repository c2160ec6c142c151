/* Host names resolved off the event loop.
 *
 * getaddrinfo blocks (a DNS server that does not answer holds it for
 * seconds), so each lookup runs on a short-lived thread of its own and hands
 * its result back through an eventfd registered on the loop: the callback
 * runs on the loop thread, never on the lookup's. Numeric addresses need no
 * lookup and are answered at once by net_resolve_numeric.
 *
 * At most NET_RESOLVE_MAX_PENDING lookups are outstanding at a time; a
 * further one is refused (-EAGAIN) rather than queued without bound. A
 * lookup cannot be stopped once started: one whose answer nobody wants any
 * more (the join was left) is simply ignored by its caller when it arrives.
 * Destroying the resolver with lookups outstanding is safe: the last thread
 * to finish frees what they shared. */
#pragma once
#include <stdint.h>
#include <sys/socket.h>

struct th_loop;
struct net_resolver;

#define NET_RESOLVE_MAX_PENDING 8
#define NET_RESOLVE_HOST_MAX    255 /* longest host name, as DNS allows */
#define NET_RESOLVE_WHY_MAX     160

struct net_resolve_result {
	uint64_t id;   /* from net_resolve_start */
	int err;       /* 0, or negative errno (-EHOSTUNREACH: the name does not resolve) */
	char why[NET_RESOLVE_WHY_MAX]; /* on failure: getaddrinfo's words, e.g. "Name or service not known" */
	struct sockaddr_storage addr;  /* on success: the first address, ::ffff:a.b.c.d unmapped */
	socklen_t addr_len;
};

/* done(user, result) runs on the loop thread for each finished lookup. */
typedef void (*net_resolve_fn)(void *user, const struct net_resolve_result *res);

int net_resolver_create(struct th_loop *loop, net_resolve_fn done, void *user, struct net_resolver **out);
void net_resolver_destroy(struct net_resolver **p);
/* Starts looking up host (1..NET_RESOLVE_HOST_MAX bytes) for UDP port.
 * 0 and *id, -EAGAIN (NET_RESOLVE_MAX_PENDING outstanding), -EINVAL (no or
 * too long a name), or the errno of starting the thread. */
int net_resolve_start(struct net_resolver *r, const char *host, uint16_t port, uint64_t *id);
/* Lookups started and not yet delivered. */
unsigned net_resolve_pending(const struct net_resolver *r);
/* 0 and the address when host is a numeric IPv4/IPv6 address (no lookup,
 * never blocks); -EINVAL when it is a name. */
int net_resolve_numeric(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len);
