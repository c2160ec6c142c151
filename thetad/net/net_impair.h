/* A seeded, reproducible network impairment layer for UDP datagrams: loss,
 * delay, jitter, reordering, duplication, rate limiting and partitions. It
 * is a queue that takes datagrams with the time they were sent and gives
 * them back at the time they arrive; it never reads a clock, so the same
 * seed and the same input sequence always give the same output sequence,
 * in simulated time (tests) as in real time (thetad between net_udp and
 * net_server, or a UDP relay between daemons).
 *
 * One instance models one direction of a link; use two for a duplex link.
 * Decisions per datagram, in order: partition (drop), loss (drop),
 * duplication (a second copy with its own delay), then each copy gets
 * delay + uniform jitter in [-jitter, +jitter] (never below zero), and with
 * probability `reorder` an extra reorder_delay so later datagrams overtake
 * it; a rate limit serializes departures. Jitter alone may reorder too. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NET_IMPAIR_MAX_PARTITIONS 8
#define NET_IMPAIR_MAX_QUEUED     8192u        /* datagrams held at once */
#define NET_IMPAIR_MAX_BYTES      (32u << 20)  /* bytes held at once */
#define NET_IMPAIR_MAX_DGRAM      65535u
#define NET_IMPAIR_SPEC_MAX       512          /* longest spec string */

struct net_impair_window {
	uint64_t start_ns, end_ns; /* relative to the instance's start time */
};

/* Zero fields mean "no impairment of that kind". */
struct net_impair_config {
	uint64_t seed;            /* 0: seed 1 */
	double loss;              /* probability in [0, 1] */
	double dup;               /* probability in [0, 1] */
	double reorder;           /* probability in [0, 1] */
	uint64_t delay_ns;
	uint64_t jitter_ns;
	uint64_t reorder_delay_ns; /* 0: 2 * delay + 1 ms */
	uint64_t rate_bps;         /* bits per second; 0: unlimited */
	struct net_impair_window partitions[NET_IMPAIR_MAX_PARTITIONS];
	unsigned npartitions;
};

struct net_impair_stats {
	uint64_t in, out, dropped_loss, dropped_partition, dropped_overflow, duplicated, reordered;
};

/* A datagram handed back by net_impair_pop (data valid until the next call). */
struct net_impair_dgram {
	const uint8_t *data;
	size_t len;
	struct sockaddr_storage from, to;
	socklen_t from_len, to_len;
	uint64_t sent_ns, deliver_ns;
};

struct net_impair;

/* start_ns: the time partition windows are relative to. -EINVAL for
 * probabilities outside [0, 1] or windows with end < start. */
int net_impair_create(const struct net_impair_config *cfg, uint64_t start_ns, struct net_impair **out);
void net_impair_destroy(struct net_impair **p);

/* Parses "loss=0.1,delay=20ms,jitter=5ms,reorder=0.05,dup=0.01,rate=10M,
 * seed=42,partition=2s-4s[,partition=...]" (durations: ns, us, ms, s;
 * rates: bits/s with k/M/G; probabilities as 0..1 or N%). Empty string:
 * no impairment. -EINVAL on any unknown key or bad value (cfg untouched). */
int net_impair_parse(const char *spec, struct net_impair_config *cfg);

/* Queues a datagram sent at now_ns (may drop or duplicate it). Returns the
 * number of copies queued (0, 1 or 2); -EMSGSIZE past NET_IMPAIR_MAX_DGRAM. */
int net_impair_submit(struct net_impair *im, const void *data, size_t len,
		      const struct sockaddr *from, socklen_t from_len,
		      const struct sockaddr *to, socklen_t to_len, uint64_t now_ns);
/* Earliest delivery time queued; UINT64_MAX when empty. */
uint64_t net_impair_next(const struct net_impair *im);
/* 1 and *out when a datagram is due at now_ns, 0 when none is. */
int net_impair_pop(struct net_impair *im, uint64_t now_ns, struct net_impair_dgram *out);
/* Forces a partition on or off now, in addition to the configured windows. */
void net_impair_set_partition(struct net_impair *im, bool on);
size_t net_impair_queued(const struct net_impair *im);
void net_impair_get_stats(const struct net_impair *im, struct net_impair_stats *st);
