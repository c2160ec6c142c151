/* Catch-up by position: streams the entries a peer lacks, read from a log
 * cursor, only while the commands stream has room (see docs/network.md
 * "Catch-up").
 *
 * The peer's SYNC says, per author, its last seq and that entry's hash. A
 * round starts at the smallest position among the entries it lacks
 * (clog_pos_of(author, its seq + 1)), reads the log in append order from
 * there and sends every entry the peer lacks as ENTRIES messages, skipping
 * those it has. A message ends with MORE while an author has entries in it
 * that wait for their signature, so every signature follows the entries it
 * covers in one sequence the receiver integrates at once. The round ends at
 * the end of the durable log; the caller relays new entries live from then
 * on, and not while a round runs (the cursor reaches them).
 *
 * A SYNC that arrives during a round updates what the peer holds (per
 * author, the larger seq) without restarting. So does a SYNC after a round
 * while what it sent is still in flight (unacknowledged, or sent less than
 * NET_CATCHUP_SETTLE_NS ago, or the peer's SYNCs show it still taking them
 * in: more than at its previous SYNC, less than the round sent, within
 * NET_CATCHUP_PROGRESS_NS): the peer wrote that SYNC before it had the
 * tail. Otherwise a new round takes the SYNC as it is (entries the peer
 * refused are sent again). A reconnect starts a new
 * engine: the peer's first SYNC says where it stands, so a catch-up cut by
 * a lost connection resumes there.
 *
 * Divergence: the peer's head for (author, seq) has another hash than ours
 * (our head at that seq, or the prev of our entry seq + 1). Two different
 * entries signed by one author key with the same seq cannot both be kept in
 * a chain, and which one is right is not ours to decide: that author's
 * entries are no longer exchanged with this peer (both keep their own
 * chain and stay verifiable; every other author keeps syncing), the author
 * is counted once per connection and reported once through
 * net_catchup_take_divergence (the caller logs it).
 *
 * I/O-free apart from the log cursor it reads: the stream is reached
 * through ops, time comes in as now_ns, nothing is logged. Memory: one
 * message being built (NET_CATCHUP_MSG_BYTES plus one entry), the cursor's
 * window (CLOG_CURSOR_WINDOW) and the peer's vector (at most
 * NET_CATCHUP_AUTHORS_MAX authors). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clog/clog.h"
#include "th_logfile.h"
#include "session.h"
#include "th_buf.h"

#define NET_CATCHUP_MSG_BYTES    (192u << 10) /* end an ENTRIES message past this many bytes */
#define NET_CATCHUP_CLOSE_AT     1024u        /* end a MORE sequence at a closed point past this many entries */
#define NET_CATCHUP_ROOM_MIN     (NET_CATCHUP_MSG_BYTES + TH_LOGREC_RECORD_MAX + 64u) /* stream room to start one */
#define NET_CATCHUP_PUMP_MAX     256u         /* entries read per pump call (bounds one loop wake-up: 1024 took 2 ms) */
#define NET_CATCHUP_AUTHORS_MAX  CLOG_AUTHORS_MAX /* authors in the peer's vector */
#define NET_CATCHUP_DIVERGED_MAX 64u          /* divergent authors remembered per connection */
#define NET_CATCHUP_SETTLE_NS    (1000ull * 1000 * 1000) /* sent entries count as in flight this long */
/* ... and as long as the peer's SYNCs show it taking them in, up to this
 * long after the round ended. */
#define NET_CATCHUP_PROGRESS_NS  (60ull * 1000 * 1000 * 1000)

/* The stream the engine writes to. */
struct net_catchup_ops {
	/* Bytes the commands stream takes now without queueing anywhere. */
	size_t (*room)(void *ud);
	/* Writes one complete frame (at most room() bytes); 0 or negative errno. */
	int (*send)(void *ud, const uint8_t *p, size_t n);
	/* Bytes written that the peer has not acknowledged yet (may be NULL). */
	size_t (*unacked)(void *ud);
};

/* What pump says about the round. */
enum net_catchup_state {
	NET_CU_IDLE = 0,   /* no round: nothing to send (live relay applies) */
	NET_CU_BLOCKED,    /* the stream has no room: pump again once it drains */
	NET_CU_READING,    /* the cursor reads ahead: pump again after ready() */
	NET_CU_MORE,       /* pump's share used up: pump again soon */
};

/* Events, taken (and cleared) by net_catchup_take_events. */
#define NET_CU_EV_STARTED  0x1u /* a round started */
#define NET_CU_EV_DONE     0x2u /* a round reached the end of the log */
#define NET_CU_EV_DIVERGED 0x4u /* a divergent author: net_catchup_take_divergence */
#define NET_CU_EV_FAILED   0x8u /* the round stopped on an error: net_catchup_error */

struct net_catchup_stats {
	uint64_t rounds;        /* rounds started */
	uint64_t rounds_done;   /* rounds that reached the end of the log */
	uint64_t entries;       /* entries sent */
	uint64_t skipped;       /* entries read that the peer had */
	uint64_t messages, bytes;
	uint64_t syncs_merged;  /* SYNCs folded into a running round */
	uint64_t divergent;     /* distinct divergent authors */
	uint64_t blocked;       /* pumps that stopped for room */
	/* the current or last round */
	uint64_t start_pos, pos;         /* where it started, where the cursor is */
	uint64_t round_entries;          /* sent in it */
	uint64_t started_ns, done_ns;    /* done_ns 0 while it runs */
	uint64_t last_send_ns;           /* the last message written (0: none) */
};

struct net_catchup;

/* ready(ud) is passed to the cursor: called on the loop thread when a
 * pump that returned NET_CU_READING can make progress. */
int net_catchup_create(struct clog *log, const struct net_catchup_ops *ops, void (*ready)(void *ud), void *ud,
		       struct net_catchup **out);
void net_catchup_destroy(struct net_catchup **cu);

/* The peer's SYNC: starts a round when it lacks entries and none runs, or
 * updates the running round's vector. 0, -E2BIG (more authors than
 * NET_CATCHUP_AUTHORS_MAX), -ENOMEM, or the log's error. Sends nothing:
 * pump does. */
int net_catchup_on_sync(struct net_catchup *cu, const struct proto_sess_sync *v, uint64_t now_ns);
/* Sends what the stream takes; an enum net_catchup_state. */
int net_catchup_pump(struct net_catchup *cu, uint64_t now_ns);
/* A round runs (entries durable now are sent by it, not relayed). */
bool net_catchup_active(const struct net_catchup *cu);

unsigned net_catchup_take_events(struct net_catchup *cu);
/* The next divergence not yet taken: 1 and the author, its seq and the
 * hash the peer holds there; 0 when none. */
int net_catchup_take_divergence(struct net_catchup *cu, uint8_t key[32], uint64_t *seq);
int net_catchup_error(const struct net_catchup *cu); /* the last round's failure (negative errno) or 0 */
void net_catchup_get_stats(const struct net_catchup *cu, struct net_catchup_stats *out);

/* ---- repair of a cut range ---------------------------------------------------------
 * Recovery cut the last batch of this log (a torn or damaged write: the
 * records may have been acknowledged). A peer that holds them sends them
 * back by the ordinary catch-up, since our SYNC heads are behind. This
 * watch says when every author the cut named has its chain back to the
 * last seq the cut held for it (the author chains guarantee the bytes: an
 * entry only chains if it hashes to what its successor names). Records
 * whose author could not be read, and authors past
 * TH_LOGSCAN_CUT_AUTHORS_MAX, cannot be watched (reported as such). */
struct net_repair {
	bool active;
	uint64_t cut_pos;        /* the cut records' first position */
	uint32_t records;        /* records the cut held */
	uint32_t unwatched;      /* of which the watch cannot tell (unknown author or too many) */
	uint32_t n, left;        /* authors watched, not back yet */
	struct net_repair_author {
		uint8_t key[32];
		uint64_t seq_last;
		uint32_t records;
		bool back;
	} a[TH_LOGSCAN_CUT_AUTHORS_MAX];
	uint64_t started_ns;
};

/* Starts watching what recovery cut from log (already repaired authors
 * count as back). 1: watching; 0: nothing to watch. */
int net_repair_init(struct net_repair *r, const struct clog_recovery *rec, const struct clog *log, uint64_t now_ns);
/* An entry of `key` with `seq` became durable: 1 when that completes the
 * repair (the watch is then inactive), else 0. */
int net_repair_note(struct net_repair *r, const uint8_t key[32], uint64_t seq);
