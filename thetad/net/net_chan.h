/* Channels of the session protocol (see docs/network.md, "Channels"): each
 * QUIC stream and each datagram kind is a registered channel with its
 * handler, its limits and its counters, so a new kind of traffic (snapshots,
 * voice, presence) is one more registration, not one more case in the core.
 *
 *   net_chans_register(table, &def)      at start-up
 *   net_chans_by_sid / net_chans_by_dgram  which channel bytes belong to
 *   net_chan_init(&ch, def)               per connection: reassembly, send
 *                                         queue, rate, counters
 *   net_chan_feed_stream / _feed_dgram    bytes in -> def->on_msg per message,
 *                                         after the size and rate checks
 *   net_chan_queue / _peek / _consume     bytes out, bounded by the queue limit
 *
 * Limits that police a peer's traffic (rate) apply to what a host receives
 * from a member: the host polices everyone it relays for, and a member
 * takes what its host sends. Size limits apply both ways. No I/O, no clock:
 * callers pass now_ns. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "th_buf.h"

#define NET_CHAN_MAX           16u          /* channels one daemon registers */
#define NET_CHAN_DGRAM_KINDS   4u           /* datagram kinds one channel may cover */
#define NET_CHAN_QUEUE_DEFAULT (32u << 20)  /* bytes queued on a stream for a peer that does not read */
/* Received stream bytes a paused channel holds (see "Holding" below): the
 * transport's receive window bounds them (net_link.c asserts that
 * NET_QUIC_STREAM_WINDOW fits), this refuses a sender past it. */
#define NET_CHAN_HOLD_MAX      (4u << 20)

/* A rate limit as a token bucket (GCRA form): on average per_s events a
 * second, up to burst at once. Integer nanoseconds, no floating point. */
struct net_rate {
	uint64_t interval_ns;  /* 0: unlimited */
	uint64_t tolerance_ns; /* (burst - 1) * interval */
	uint64_t tat_ns;       /* theoretical arrival time of the next event */
};

void net_rate_init(struct net_rate *r, uint32_t per_s, uint32_t burst);
/* true: the event at now_ns is within the rate (and is counted); false: over
 * it (nothing changes, so a flood does not push the budget into the future). */
bool net_rate_take(struct net_rate *r, uint64_t now_ns);

enum net_chan_type {
	NET_CHAN_STREAM = 1, /* reliable, ordered, length-prefixed frames (proto_sess_reasm) */
	NET_CHAN_DGRAM = 2,  /* QUIC DATAGRAM frames, first byte = kind */
};

struct net_chan_limits {
	uint32_t max_msg;    /* largest message payload; 0: PROTO_SESS_MAX_FRAME / PROTO_SESS_DGRAM_MAX */
	uint32_t rate_per_s; /* messages a second a host takes from one member; 0: unlimited */
	uint32_t burst;      /* ... at once */
	uint64_t queue_max;  /* stream: bytes queued for the peer; 0: NET_CHAN_QUEUE_DEFAULT */
};

/* One message for the handler: 0 taken; -EAGAIN taken, but the handler can
 * take nothing more for now (the channel pauses: what follows is held until
 * net_chan_resume); -EBADMSG malformed or -EPROTO a protocol violation (the
 * caller closes the connection and counts it); -ECONNABORTED the handler
 * closed the connection itself. */
typedef int (*net_chan_handler)(void *conn, const uint8_t *msg, size_t len, uint64_t now_ns);

struct net_chan_def {
	const char *name;         /* "control", "commands", ... (thetactl peers, metrics) */
	enum net_chan_type type;
	int64_t sid;              /* STREAM: client-initiated bidirectional id (0, 4, 8, ... in order) */
	uint8_t dgram_kind[NET_CHAN_DGRAM_KINDS]; /* DGRAM: the kinds it carries (0 ends the list) */
	bool before_session;      /* STREAM: carries messages before the session handshake is done */
	struct net_chan_limits lim;
	net_chan_handler on_msg;
};

/* Counters of a channel, per connection and (through net_chans.total) in total. */
enum net_chan_stat {
	NET_CHAN_BYTES_IN,
	NET_CHAN_BYTES_OUT,
	NET_CHAN_MSGS_IN,
	NET_CHAN_MSGS_OUT,
	NET_CHAN_OVER_RATE,  /* messages dropped for the rate limit */
	NET_CHAN_OVER_SIZE,  /* messages larger than max_msg */
	NET_CHAN_QUEUE_FAIL, /* messages that could not be queued (queue full or out of memory) */
	NET_CHAN_NSTAT
};
extern const char *const net_chan_stat_name[NET_CHAN_NSTAT]; /* "bytes_in", ... */

struct net_chans {
	const struct net_chan_def *def[NET_CHAN_MAX];
	unsigned n;
	/* Totals over all connections, e.g. daemon metrics (NULL: not kept). */
	uint64_t *total[NET_CHAN_MAX][NET_CHAN_NSTAT];
};

/* Index of the new channel, or -EINVAL (malformed def, or a stream id out
 * of order), -EEXIST (its stream or a datagram kind is taken), -ENOSPC. */
int net_chans_register(struct net_chans *t, const struct net_chan_def *d);
/* Channel index, or -ENOENT. */
int net_chans_by_sid(const struct net_chans *t, int64_t sid);
int net_chans_by_dgram(const struct net_chans *t, uint8_t kind);
int net_chans_by_name(const struct net_chans *t, const char *name);

/* Queued stream bytes, taken from the front without moving the rest (the
 * front gap is reclaimed when it is more than half the buffer). */
struct net_chan_queue {
	struct th_wbuf b;
	size_t head;
};

/* One channel on one connection. */
struct net_chan {
	const struct net_chan_def *def;
	struct proto_sess_reasm rs;
	struct net_chan_queue q;
	bool opened;
	/* Holding: received bytes not delivered yet, because the handler said
	 * -EAGAIN (paused); in arrival order, at most NET_CHAN_HOLD_MAX. */
	struct net_chan_queue held;
	bool paused;
	struct net_rate rate;
	uint64_t st[NET_CHAN_NSTAT];
	uint64_t *const *total; /* the table's totals for this channel */
};

/* Channel i of table t on a new connection. */
void net_chan_init(struct net_chan *ch, const struct net_chans *t, unsigned i);
void net_chan_fini(struct net_chan *ch);

/* Stream bytes in order: every complete message goes to def->on_msg(conn,
 * ...) unless over the rate (police: the host side). While the channel is
 * paused or still holds bytes, or from the message whose handler answered
 * -EAGAIN on, the bytes are held instead (net_chan_held grows by what was not delivered; the
 * caller keeps them charged to the sender's flow control). Returns 0 (also
 * when it paused), the handler's first other negative return, -EMSGSIZE (a
 * frame over max_msg: the stream is unusable, close the connection), or
 * -ENOBUFS (more than NET_CHAN_HOLD_MAX held: the sender ignored flow
 * control, close the connection). */
int net_chan_feed_stream(struct net_chan *ch, const uint8_t *data, size_t len, bool police, void *conn,
			 uint64_t now_ns);
/* Held bytes (received, not delivered yet). */
size_t net_chan_held(const struct net_chan *ch);
static inline bool net_chan_paused(const struct net_chan *ch) { return ch->paused; }
/* Delivers what the channel held, in order, until a handler answers -EAGAIN
 * again (paused again, the rest still held), max bytes were taken (0: no
 * limit; call again for the rest: while bytes are held, new ones queue
 * behind them) or all is delivered. *taken: bytes that left the hold
 * (credit them back to the sender). Returns 0 or as net_chan_feed_stream. */
int net_chan_resume(struct net_chan *ch, size_t max, bool police, void *conn, uint64_t now_ns, size_t *taken);
/* One datagram: 0 (taken, or dropped and counted: over size or rate), or
 * the handler's negative return. */
int net_chan_feed_dgram(struct net_chan *ch, const uint8_t *data, size_t len, bool police, void *conn,
			uint64_t now_ns);

/* Queues one message's bytes: 0, -ENOBUFS (over queue_max), -ENOMEM. On
 * failure nothing is queued and QUEUE_FAIL counts it; the queue stays usable. */
int net_chan_queue(struct net_chan *ch, const uint8_t *p, size_t n);
size_t net_chan_pending(const struct net_chan *ch);
const uint8_t *net_chan_peek(const struct net_chan *ch, size_t *len);
/* n bytes of the front were taken by the transport. */
void net_chan_consume(struct net_chan *ch, size_t n);
static inline void net_chan_count(struct net_chan *ch, enum net_chan_stat k, uint64_t v)
{
	ch->st[k] += v;
	if (ch->total && ch->total[k])
		*ch->total[k] += v;
}
/* A datagram of n bytes went out. */
static inline void net_chan_sent(struct net_chan *ch, size_t n)
{
	net_chan_count(ch, NET_CHAN_BYTES_OUT, n);
	net_chan_count(ch, NET_CHAN_MSGS_OUT, 1);
}
