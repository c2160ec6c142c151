/* Host names resolved off the event loop (see net_resolve.h).
 *
 * Ownership: what the loop and the lookup threads share (the eventfd, the
 * list of finished lookups, the hold path) lives in a core counted by
 * references: one for the resolver, one per running thread. A thread puts
 * its finished lookup on the list and writes the eventfd while it still
 * holds its reference, so the eventfd is open whenever it is written; the
 * last reference dropped closes it and frees the core and any lookups no
 * one collected. */
#include "net/net_resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/net_udp.h"
#include "th_loop.h"
#include "th_time.h"

#define NET_RESOLVE_STACK       (256u * 1024)            /* getaddrinfo's NSS modules need some */
#define NET_RESOLVE_HOLD_POLL_NS (10 * TH_NS_PER_MS)
#define NET_RESOLVE_HOLD_MAX_NS  (120 * TH_NS_PER_S)    /* a test hold never outlives this */

struct net_lookup {
	struct net_lookup *next;
	struct net_resolve_core *core;
	char host[NET_RESOLVE_HOST_MAX + 1];
	uint16_t port;
	struct net_resolve_result res;
};

struct net_resolve_core {
	pthread_mutex_t mu;
	unsigned refs;            /* the resolver's + one per running thread */
	int efd;                  /* written by threads, read by the loop */
	struct net_lookup *done;  /* finished, not yet delivered (newest first) */
	char hold[256];           /* tests: a lookup waits until this path exists */
};

struct net_resolver {
	struct th_loop *loop;
	struct net_resolve_core *core;
	net_resolve_fn fn;
	void *user;
	uint64_t next_id;
	unsigned pending;
};

static void core_free(struct net_resolve_core *c)
{
	while (c->done) {
		struct net_lookup *l = c->done;
		c->done = l->next;
		free(l);
	}
	if (c->efd >= 0)
		close(c->efd);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void core_unref(struct net_resolve_core *c)
{
	pthread_mutex_lock(&c->mu);
	bool last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last)
		core_free(c);
}

static void lookup_run(struct net_lookup *l)
{
	struct net_resolve_core *c = l->core;
	if (c->hold[0]) {
		uint64_t end = th_now_ns() + NET_RESOLVE_HOLD_MAX_NS;
		while (access(c->hold, F_OK) != 0 && th_now_ns() < end)
			th_sleep_ns(NET_RESOLVE_HOLD_POLL_NS);
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *ai = NULL;
	char ps[8];
	snprintf(ps, sizeof(ps), "%u", (unsigned)l->port);
	int rv = getaddrinfo(l->host, ps, &hints, &ai);
	if (rv == EAI_NONAME || rv == EAI_NODATA || rv == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides ::1 and 127.0.0.1 when no interface but
		 * loopback has an address; try once without it. */
		hints.ai_flags = 0;
		rv = getaddrinfo(l->host, ps, &hints, &ai);
	}
	if (rv != 0 || !ai) {
		l->res.err = rv == EAI_MEMORY ? -ENOMEM : rv == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
		snprintf(l->res.why, sizeof(l->res.why), "%s", rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv));
	} else if ((size_t)ai->ai_addrlen > sizeof(l->res.addr)) {
		l->res.err = -EAFNOSUPPORT;
		snprintf(l->res.why, sizeof(l->res.why), "an address of an unknown kind");
	} else {
		memcpy(&l->res.addr, ai->ai_addr, ai->ai_addrlen);
		l->res.addr_len = ai->ai_addrlen;
		net_udp_unmap(&l->res.addr, &l->res.addr_len);
	}
	if (ai)
		freeaddrinfo(ai);
}

static void *lookup_thread(void *arg)
{
	struct net_lookup *l = arg;
	struct net_resolve_core *c = l->core;
	lookup_run(l);
	pthread_mutex_lock(&c->mu);
	l->next = c->done;
	c->done = l;
	pthread_mutex_unlock(&c->mu);
	uint64_t one = 1;
	/* Fails only with EAGAIN, a saturated counter: the loop wakes anyway. */
	ssize_t w = write(c->efd, &one, sizeof(one));
	(void)w;
	core_unref(c);
	return NULL;
}

static void on_done(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct net_resolver *r = user;
	uint64_t n;
	ssize_t got = read(fd, &n, sizeof(n)); /* EAGAIN: already drained; the list decides */
	(void)got;
	pthread_mutex_lock(&r->core->mu);
	struct net_lookup *list = r->core->done;
	r->core->done = NULL;
	pthread_mutex_unlock(&r->core->mu);
	/* Oldest first. */
	struct net_lookup *rev = NULL;
	while (list) {
		struct net_lookup *l = list;
		list = l->next;
		l->next = rev;
		rev = l;
	}
	while (rev) {
		struct net_lookup *l = rev;
		rev = l->next;
		r->pending--;
		r->fn(r->user, &l->res);
		free(l);
	}
}

int net_resolver_create(struct th_loop *loop, net_resolve_fn done, void *user, struct net_resolver **out)
{
	struct net_resolver *r = calloc(1, sizeof(*r));
	struct net_resolve_core *c = calloc(1, sizeof(*c));
	if (!r || !c) {
		free(r);
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->refs = 1;
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int e = c->efd < 0 ? -errno : th_loop_add(loop, c->efd, EPOLLIN, on_done, r);
	if (e < 0) {
		core_free(c);
		free(r);
		return e;
	}
	const char *hold = getenv("THETAD_TEST_RESOLVE_HOLD");
	if (hold)
		snprintf(c->hold, sizeof(c->hold), "%s", hold);
	r->loop = loop;
	r->core = c;
	r->fn = done;
	r->user = user;
	r->next_id = 1;
	*out = r;
	return 0;
}

void net_resolver_destroy(struct net_resolver **p)
{
	struct net_resolver *r = *p;
	if (!r)
		return;
	th_loop_del(r->loop, r->core->efd);
	core_unref(r->core); /* lookups still running finish and free it */
	free(r);
	*p = NULL;
}

int net_resolve_start(struct net_resolver *r, const char *host, uint16_t port, uint64_t *id)
{
	size_t n = host ? strlen(host) : 0;
	if (n < 1 || n > NET_RESOLVE_HOST_MAX)
		return -EINVAL;
	if (r->pending >= NET_RESOLVE_MAX_PENDING)
		return -EAGAIN;
	struct net_lookup *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	memcpy(l->host, host, n + 1);
	l->port = port;
	l->core = r->core;
	l->res.id = r->next_id++;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, NET_RESOLVE_STACK);
	pthread_mutex_lock(&r->core->mu);
	r->core->refs++;
	pthread_mutex_unlock(&r->core->mu);
	pthread_t t;
	int e = pthread_create(&t, &attr, lookup_thread, l);
	pthread_attr_destroy(&attr);
	if (e) {
		core_unref(r->core);
		free(l);
		return -e;
	}
	r->pending++;
	*id = l->res.id;
	return 0;
}

unsigned net_resolve_pending(const struct net_resolver *r)
{
	return r->pending;
}

int net_resolve_numeric(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	if (host && inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		memset(out, 0, sizeof(*out));
		memcpy(out, &a4, sizeof(a4));
		*len = sizeof(a4);
		return 0;
	}
	if (host && inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		memset(out, 0, sizeof(*out));
		memcpy(out, &a6, sizeof(a6));
		*len = sizeof(a6);
		net_udp_unmap(out, len);
		return 0;
	}
	return -EINVAL;
}
