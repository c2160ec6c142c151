/* Single-producer/single-consumer ring of variable-length typed records over
 * a caller-provided shared region (normally a sealed memfd mapping shared
 * with another, untrusted, process). See docs/ipc.md for the layout and the
 * memory-ordering pairs.
 *
 * Region layout (offsets in bytes, every index a free-running uint64_t):
 *
 *     0   header line: magic, version, capacity, max_record (written once by
 *         th_ring_format; the other side reads it once with th_ring_read_geom)
 *   128   head:  written only by the producer (release), read by the consumer
 *   256   tail:  written only by the consumer (release), read by the producer
 *   384   sleep: consumer's sleep epoch, odd while it sleeps on its doorbell
 *   512   data[capacity]  (capacity a power of two)
 *
 * Records: an 8-byte header word (little-endian: bits 0-31 payload length,
 * 32-47 type, 48-63 zero) followed by the payload, padded to 8 bytes. A record
 * never wraps: when it does not fit before the end of the data area the
 * producer writes a padding record (type TH_RING_TYPE_PAD) up to the end.
 *
 * Both ends keep the geometry and their own index privately and never trust
 * the shared copy: the consumer clamps the head the producer claims, the
 * producer clamps the tail the consumer claims, each shared word is read once
 * and a record is copied out before anyone looks at it. A violation latches
 * the ring as broken (-TH_ECORRUPT from then on) and counts once.
 *
 * Doorbells: one eventfd per direction, owned by the caller. A consumer that
 * runs out of records spins for a bounded time, then announces sleep (odd
 * epoch), re-checks, and blocks on the eventfd. A producer writes the eventfd
 * only in th_ring_flush and only when the consumer announced a sleep it has
 * not been woken from, so a busy consumer is never woken by a syscall and a
 * batch of records costs at most one wake-up. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TH_RING_MAGIC        0x54524e47u /* stored little-endian: bytes "GNRT" */
#define TH_RING_VERSION      1u
#define TH_RING_SLOT         128u  /* spacing of the shared words (two cache lines) */
#define TH_RING_OFF_HEAD     (1u * TH_RING_SLOT)
#define TH_RING_OFF_TAIL     (2u * TH_RING_SLOT)
#define TH_RING_OFF_SLEEP    (3u * TH_RING_SLOT)
#define TH_RING_HDR_SIZE     (4u * TH_RING_SLOT)
#define TH_RING_REC_HDR      8u    /* bytes of record header */
#define TH_RING_ALIGN        8u    /* records start on 8-byte boundaries */
#define TH_RING_MIN_CAPACITY 4096u
#define TH_RING_MAX_CAPACITY (64u << 20)
#define TH_RING_TYPE_PAD     0u    /* padding to the end of the data area */
#define TH_RING_DEFAULT_SPIN_NS 20000u /* consumer spin before sleeping */
#define TH_RING_MAX_SPIN_NS     (10u * 1000u * 1000u)

/* Bytes a record with `len` payload bytes occupies in the data area. */
static inline uint64_t th_ring_rec_size(uint32_t len)
{
	return ((uint64_t)TH_RING_REC_HDR + len + TH_RING_ALIGN - 1) & ~(uint64_t)(TH_RING_ALIGN - 1);
}

struct th_ring_geom {
	uint32_t capacity;   /* data bytes, power of two in [MIN, MAX] */
	uint32_t max_record; /* largest payload; its record must fit in capacity / 2 */
};

/* 0 if the geometry is acceptable, -EINVAL otherwise. */
int th_ring_geom_check(const struct th_ring_geom *g);
/* Bytes of region a ring with this geometry needs (header + data). */
size_t th_ring_region_size(const struct th_ring_geom *g);
/* Creator side: writes the header and zeroes the indices. */
int th_ring_format(void *region, size_t size, const struct th_ring_geom *g);
/* Attaching side: reads the header once and validates it against the region
 * size; -TH_ECORRUPT when it is not a ring. */
int th_ring_read_geom(const void *region, size_t size, struct th_ring_geom *out);

struct th_ring_stats {
	uint64_t records;    /* records produced / consumed (padding excluded) */
	uint64_t bytes;      /* payload bytes */
	uint64_t wakeups;    /* producer: doorbell writes; consumer: sleeps ended by the doorbell */
	uint64_t sleeps;     /* consumer: times it blocked on its doorbell */
	uint64_t full;       /* producer: reserve refused for lack of space */
	uint64_t drops;      /* records the owner chose to drop (th_ring_note_drop) */
	uint64_t violations; /* 0 or 1: the peer broke the ring */
};

struct th_ring_prod {
	uint8_t *region;
	uint8_t *data;
	uint32_t capacity, mask, max_record;
	uint64_t head;        /* private: next byte to write */
	uint64_t published;   /* last head stored to shared memory */
	uint64_t cached_tail; /* last validated consumer tail */
	uint64_t woken_epoch; /* sleep epoch we already rang the doorbell for */
	uint64_t pending_off; /* reserve(): where the record header goes; UINT64_MAX if none */
	uint32_t pending_max;
	uint16_t pending_type;
	bool broken;
	int wake_fd; /* borrowed; -1: no doorbell */
	struct th_ring_stats stats;
};

struct th_ring_cons {
	uint8_t *region;
	uint8_t *data;
	uint32_t capacity, mask, max_record;
	uint64_t tail;        /* private: next byte to read */
	uint64_t cached_head; /* last validated producer head */
	uint64_t epoch;       /* private copy of the sleep epoch */
	uint64_t spin_ns;
	bool broken;
	int wake_fd; /* borrowed; -1: no doorbell (waits poll with a timeout) */
	struct th_ring_stats stats;
};

/* A record copied out by th_ring_pop. */
struct th_ring_rec {
	uint16_t type;
	uint32_t len;
};

/* Producer. `g` is the geometry this side trusts (the creator's own, or one
 * read once by th_ring_read_geom); `wake_fd` is the consumer's doorbell. The
 * producer resumes from the shared head/tail found in the region only when
 * they are consistent (they are zero on a fresh ring). */
int th_ring_prod_init(struct th_ring_prod *p, void *region, size_t size,
		      const struct th_ring_geom *g, int wake_fd);
/* Reserves room for a record of up to `max_len` payload bytes and points
 * *out at its payload. 0, -EAGAIN (full: nothing changed), -EMSGSIZE (larger
 * than max_record), -EINVAL (type 0 or a reservation already pending),
 * -TH_ECORRUPT (the consumer's tail is invalid; latched). */
int th_ring_reserve(struct th_ring_prod *p, uint16_t type, uint32_t max_len, uint8_t **out);
/* Completes the pending reservation with `len` <= max_len bytes. The record
 * becomes visible at the next th_ring_flush. */
void th_ring_commit(struct th_ring_prod *p, uint32_t len);
/* Drops a pending reservation (nothing was written). */
void th_ring_abort(struct th_ring_prod *p);
/* reserve + copy + commit. Same returns as th_ring_reserve. */
int th_ring_send(struct th_ring_prod *p, uint16_t type, const void *data, uint32_t len);
/* Publishes committed records (one release store) and rings the doorbell if
 * the consumer sleeps. 1 if it rang, 0 if not, negative errno if the
 * doorbell write failed for a reason other than a saturated counter. */
int th_ring_flush(struct th_ring_prod *p);
/* send + flush. */
int th_ring_push(struct th_ring_prod *p, uint16_t type, const void *data, uint32_t len);
/* Payload bytes that a record could carry right now without waiting (0 if
 * none); refreshes the consumer tail. */
uint32_t th_ring_prod_space(struct th_ring_prod *p);
static inline void th_ring_note_drop(struct th_ring_prod *p) { p->stats.drops++; }

/* Consumer. */
int th_ring_cons_init(struct th_ring_cons *c, void *region, size_t size,
		      const struct th_ring_geom *g, int wake_fd);
/* Bounded busy-wait before sleeping; clamped to TH_RING_MAX_SPIN_NS. */
void th_ring_cons_set_spin(struct th_ring_cons *c, uint64_t spin_ns);
/* Copies the next record's payload into buf[cap] (cap >= max_record avoids
 * -ENOBUFS). 1: a record (rec filled), 0: ring empty, -ENOBUFS: cap too
 * small (record left in place), -TH_ECORRUPT: the producer broke the ring
 * (latched; the record, if any, is not consumed). */
int th_ring_pop(struct th_ring_cons *c, struct th_ring_rec *rec, void *buf, size_t cap);
/* True if the producer has published records not yet consumed (one acquire
 * load; does not validate). */
bool th_ring_pending(struct th_ring_cons *c);
/* Sleep protocol for event loops that block elsewhere (epoll):
 * th_ring_prepare_sleep announces sleep and re-checks: 0 = safe to block on
 * the doorbell, 1 = records arrived meanwhile (sleep cancelled).
 * th_ring_finish_sleep drains the doorbell and announces being awake. */
int th_ring_prepare_sleep(struct th_ring_cons *c);
void th_ring_finish_sleep(struct th_ring_cons *c, bool by_doorbell);
/* Spin up to spin_ns, then sleep on the doorbell up to timeout_ns (< 0:
 * forever). 1 if records are pending, 0 on timeout, negative errno if
 * polling the doorbell failed. EINTR returns 0. */
int th_ring_wait(struct th_ring_cons *c, int64_t timeout_ns);

/* A short pause for spin loops. */
static inline void th_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}
