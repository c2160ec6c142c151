/* Simulated-time network for the net tests (header-only; included by
 * test_quic_sim.c and test_server.c). Each node owns an outgoing
 * net_impair; datagrams are routed by destination address. The loop jumps
 * the clock to the next event (a delivery or a node's expiry), so seconds of
 * protocol time run in milliseconds and nothing depends on the host clock. */
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "net/net_impair.h"
#include "net/net_quic.h"

#define SIM_MAX_NODES 8
#define SIM_T0        (1000ull * 1000000000ull) /* simulated clock start */

struct sim_node {
	struct sockaddr_in6 addr;
	/* Next datagram to send (*len 0: none), its destination in *to. */
	int (*produce)(void *self, uint64_t now, uint8_t *buf, size_t cap, size_t *len,
		       struct sockaddr_storage *to, socklen_t *to_len);
	void (*feed)(void *self, const uint8_t *pkt, size_t len, const struct sockaddr *from,
		     socklen_t from_len, uint64_t now);
	uint64_t (*next)(void *self);
	void *self;
	struct net_impair *out; /* impairment of everything this node sends */
	uint64_t sent, received;
};

struct sim {
	struct sim_node *nodes[SIM_MAX_NODES];
	unsigned n;
	uint64_t now;
	uint64_t steps;
};

static inline void sim_addr(struct sockaddr_in6 *a, uint8_t host, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	a->sin6_addr.s6_addr[0] = 0xfd;
	a->sin6_addr.s6_addr[15] = host;
}

static inline void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	s->now = SIM_T0;
}

static inline void sim_add(struct sim *s, struct sim_node *n, const struct net_impair_config *imp)
{
	int rv = net_impair_create(imp, s->now, &n->out);
	(void)rv;
	s->nodes[s->n++] = n;
}

static inline void sim_fini(struct sim *s)
{
	for (unsigned i = 0; i < s->n; i++)
		net_impair_destroy(&s->nodes[i]->out);
}

static inline struct sim_node *sim_route(struct sim *s, const struct sockaddr_storage *to)
{
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)to;
	for (unsigned i = 0; i < s->n; i++)
		if (a->sin6_family == AF_INET6 && a->sin6_port == s->nodes[i]->addr.sin6_port &&
		    !memcmp(&a->sin6_addr, &s->nodes[i]->addr.sin6_addr, 16))
			return s->nodes[i];
	return NULL;
}

/* One step: every node sends what it has, due datagrams are delivered, then
 * the clock jumps to the next event (at most to `until`). Returns false
 * when nothing is left to happen. */
static inline bool sim_step(struct sim *s, uint64_t until)
{
	uint8_t buf[NET_QUIC_MAX_RX_PKT];
	s->steps++;
	for (unsigned i = 0; i < s->n; i++) {
		struct sim_node *n = s->nodes[i];
		for (int k = 0; k < 4096; k++) {
			size_t len = 0;
			struct sockaddr_storage to;
			socklen_t tl = sizeof(to);
			if (n->produce(n->self, s->now, buf, sizeof(buf), &len, &to, &tl) < 0 || !len)
				break;
			n->sent++;
			net_impair_submit(n->out, buf, len, (const struct sockaddr *)&n->addr,
					  sizeof(n->addr), (const struct sockaddr *)&to, tl, s->now);
		}
	}
	bool delivered = false;
	for (unsigned i = 0; i < s->n; i++) {
		struct net_impair_dgram d;
		while (net_impair_pop(s->nodes[i]->out, s->now, &d) == 1) {
			struct sim_node *dst = sim_route(s, &d.to);
			if (!dst)
				continue;
			dst->received++;
			dst->feed(dst->self, d.data, d.len, (const struct sockaddr *)&d.from, d.from_len,
				  s->now);
			delivered = true;
		}
	}
	if (delivered)
		return true; /* let receivers answer at the same instant */
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < s->n; i++) {
		uint64_t a = s->nodes[i]->next(s->nodes[i]->self);
		uint64_t b = net_impair_next(s->nodes[i]->out);
		if (a < next)
			next = a;
		if (b < next)
			next = b;
	}
	if (next > until) {
		s->now = until; /* never jump past the caller's horizon */
		return next != UINT64_MAX;
	}
	s->now = next > s->now ? next : s->now + 1000; /* 1 us: never stall */
	return true;
}

/* Runs until done(ud) or until `limit_ns` of simulated time passed.
 * Returns true when done() became true. */
static inline bool sim_run(struct sim *s, bool (*done)(void *ud), void *ud, uint64_t limit_ns)
{
	uint64_t end = s->now + limit_ns;
	while (s->now < end) {
		if (done && done(ud))
			return true;
		if (!sim_step(s, end))
			return done ? done(ud) : true;
	}
	return done ? done(ud) : false;
}

/* ---- a node around one net_quic ----------------------------------------- */

static inline int sim_quic_produce(void *self, uint64_t now, uint8_t *buf, size_t cap, size_t *len,
				   struct sockaddr_storage *to, socklen_t *to_len)
{
	struct net_quic **qp = self;
	*len = 0;
	if (!*qp)
		return 0;
	int rv = net_quic_produce(*qp, now, buf, cap, len);
	if (rv < 0 || !*len)
		return rv < 0 ? rv : 0;
	socklen_t rl;
	const struct sockaddr *r = net_quic_remote(*qp, &rl);
	memcpy(to, r, rl);
	*to_len = rl;
	return 0;
}

static inline uint64_t sim_quic_next(void *self)
{
	struct net_quic **qp = self;
	return *qp ? net_quic_next_expiry(*qp) : UINT64_MAX;
}
