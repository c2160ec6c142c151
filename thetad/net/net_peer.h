/* I/O-free pieces of a session link between two daemons, driven with
 * now_ns so that tests run them in simulated time:
 *
 *  net_hb       heartbeats: a PING datagram every interval; PONGs give RTT
 *               (smoothed like RFC 6298), jitter (RFC 3550's running mean
 *               of |RTT_i - RTT_i-1|) and loss (unanswered pings among the
 *               last NET_HB_WINDOW that are past their grace time). Any
 *               traffic from the peer counts as a sign of life; silence past
 *               lost_after_ns declares the peer lost.
 *  net_backoff  reconnect delays: min, doubling up to max, with jitter in
 *               [d/2, d] from a caller-supplied random value; reset after
 *               a successful (re)join.
 *  net_peer_end_permanent  which session errors stop reconnecting. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define NET_HB_INTERVAL_DEFAULT_NS (250ull * 1000 * 1000)      /* PING every 250 ms */
#define NET_HB_LOST_DEFAULT_NS     (3ull * 1000 * 1000 * 1000) /* silent 3 s: lost */
#define NET_HB_WINDOW              64u                         /* pings kept for loss */
#define NET_HB_GRACE_MIN_NS        (200ull * 1000 * 1000)      /* a ping is lost after max(this, 3 srtt) */
#define NET_BACKOFF_MIN_DEFAULT_NS (100ull * 1000 * 1000)
#define NET_BACKOFF_MAX_DEFAULT_NS (5ull * 1000 * 1000 * 1000)

struct net_hb {
	uint64_t interval_ns, lost_after_ns;
	uint64_t next_ping_ns, last_rx_ns;
	uint64_t seq; /* last ping sent */
	uint64_t sent_ns[NET_HB_WINDOW];
	bool answered[NET_HB_WINDOW];
	uint64_t srtt_ns, rttvar_ns, jitter_ns, last_rtt_ns, min_rtt_ns;
	uint64_t pings, pongs, samples;
};

/* interval/lost_after 0: the defaults. */
void net_hb_init(struct net_hb *h, uint64_t interval_ns, uint64_t lost_after_ns, uint64_t now_ns);
/* True when a PING is due now; then *seq is its number (the caller sends
 * {seq, now_ns}) and the next one is scheduled. */
bool net_hb_ping_due(struct net_hb *h, uint64_t now_ns, uint64_t *seq);
/* Any datagram or stream bytes from the peer. */
void net_hb_on_rx(struct net_hb *h, uint64_t now_ns);
/* A PONG echoing (seq, echo_t_ns). Unknown or duplicate seqs are ignored
 * (returns false). */
bool net_hb_on_pong(struct net_hb *h, uint64_t seq, uint64_t echo_t_ns, uint64_t now_ns);
bool net_hb_lost(const struct net_hb *h, uint64_t now_ns);
/* Earliest time the heartbeat needs attention (next ping or lost deadline). */
uint64_t net_hb_next(const struct net_hb *h);
/* Lost pings / judged pings in the window, 0..1 (0 when none judged). */
double net_hb_loss(const struct net_hb *h, uint64_t now_ns);

struct net_backoff {
	uint64_t min_ns, max_ns, cur_ns;
	uint64_t next_ns;   /* next attempt */
	uint64_t failures;  /* since the last reset */
};
void net_backoff_init(struct net_backoff *b, uint64_t min_ns, uint64_t max_ns, uint64_t now_ns);
/* A failed attempt at now_ns: schedules the next one after a delay in
 * [d/2, d] (rand32 picks where), d doubling up to max. Returns next_ns. */
uint64_t net_backoff_fail(struct net_backoff *b, uint64_t now_ns, uint32_t rand32);
/* Success: the next failure starts again from min. */
void net_backoff_reset(struct net_backoff *b);

/* Session close codes after which a joiner stops retrying (the invite or
 * the membership is no good; retrying cannot help). */
bool net_peer_end_permanent(uint64_t app_code);
