#include "th_ring.h"

#include "th_buf.h"
#include "th_err.h"
#include "th_time.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define NO_PENDING UINT64_MAX

static inline uint64_t *shared_word(uint8_t *region, uint32_t off)
{
	return (uint64_t *)(void *)(region + off);
}

int th_ring_geom_check(const struct th_ring_geom *g)
{
	if (!g || g->capacity < TH_RING_MIN_CAPACITY || g->capacity > TH_RING_MAX_CAPACITY ||
	    (g->capacity & (g->capacity - 1)))
		return -EINVAL;
	if (th_ring_rec_size(g->max_record) > g->capacity / 2)
		return -EINVAL;
	return 0;
}

size_t th_ring_region_size(const struct th_ring_geom *g)
{
	return (size_t)TH_RING_HDR_SIZE + g->capacity;
}

int th_ring_format(void *region, size_t size, const struct th_ring_geom *g)
{
	int r = th_ring_geom_check(g);
	if (r < 0)
		return r;
	if (!region || ((uintptr_t)region & 63) || size < th_ring_region_size(g))
		return -EINVAL;
	uint8_t *b = region;
	memset(b, 0, TH_RING_HDR_SIZE);
	th_put_le32(b + 0, TH_RING_MAGIC);
	th_put_le32(b + 4, TH_RING_VERSION);
	th_put_le32(b + 8, g->capacity);
	th_put_le32(b + 12, g->max_record);
	return 0;
}

int th_ring_read_geom(const void *region, size_t size, struct th_ring_geom *out)
{
	if (!region || ((uintptr_t)region & 63) || size < TH_RING_HDR_SIZE)
		return -EINVAL;
	uint8_t h[16];
	memcpy(h, region, sizeof h); /* one read of the shared header */
	if (th_get_le32(h) != TH_RING_MAGIC || th_get_le32(h + 4) != TH_RING_VERSION)
		return -TH_ECORRUPT;
	struct th_ring_geom g = { .capacity = th_get_le32(h + 8), .max_record = th_get_le32(h + 12) };
	if (th_ring_geom_check(&g) < 0 || th_ring_region_size(&g) > size)
		return -TH_ECORRUPT;
	*out = g;
	return 0;
}

static int set_nonblock(int fd)
{
	if (fd < 0)
		return 0;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int check_region(void *region, size_t size, const struct th_ring_geom *g)
{
	int r = th_ring_geom_check(g);
	if (r < 0)
		return r;
	if (!region || ((uintptr_t)region & 63) || size < th_ring_region_size(g))
		return -EINVAL;
	return 0;
}

/* Both indices as found in the region, accepted only if consistent. */
static int read_indices(uint8_t *region, const struct th_ring_geom *g, uint64_t *head, uint64_t *tail)
{
	uint64_t h = __atomic_load_n(shared_word(region, TH_RING_OFF_HEAD), __ATOMIC_ACQUIRE);
	uint64_t t = __atomic_load_n(shared_word(region, TH_RING_OFF_TAIL), __ATOMIC_ACQUIRE);
	if (h - t > g->capacity || (h | t) & (TH_RING_ALIGN - 1))
		return -TH_ECORRUPT;
	*head = h;
	*tail = t;
	return 0;
}

/* ---- producer ---------------------------------------------------------- */

int th_ring_prod_init(struct th_ring_prod *p, void *region, size_t size,
		      const struct th_ring_geom *g, int wake_fd)
{
	int r = check_region(region, size, g);
	if (r < 0)
		return r;
	uint64_t h, t;
	r = read_indices(region, g, &h, &t);
	if (r < 0)
		return r;
	r = set_nonblock(wake_fd);
	if (r < 0)
		return r;
	*p = (struct th_ring_prod){
		.region = region,
		.data = (uint8_t *)region + TH_RING_HDR_SIZE,
		.capacity = g->capacity,
		.mask = g->capacity - 1,
		.max_record = g->max_record,
		.head = h,
		.published = h,
		.cached_tail = t,
		.pending_off = NO_PENDING,
		.wake_fd = wake_fd,
	};
	return 0;
}

static int prod_violation(struct th_ring_prod *p)
{
	if (!p->broken) {
		p->broken = true;
		p->stats.violations++;
	}
	return -TH_ECORRUPT;
}

/* Re-reads the consumer's tail and clamps it: it may only move forward, by
 * whole records, and never past what we published. */
static int prod_refresh(struct th_ring_prod *p)
{
	/* Acquire pairs with the consumer's release store of tail in
	 * th_ring_pop: its copy-out finished before we overwrite the bytes. */
	uint64_t t = __atomic_load_n(shared_word(p->region, TH_RING_OFF_TAIL), __ATOMIC_ACQUIRE);
	if (t - p->cached_tail > p->published - p->cached_tail || (t & (TH_RING_ALIGN - 1)))
		return prod_violation(p);
	p->cached_tail = t;
	return 0;
}

uint32_t th_ring_prod_space(struct th_ring_prod *p)
{
	if (p->broken || prod_refresh(p) < 0)
		return 0;
	uint64_t free_bytes = p->capacity - (p->head - p->cached_tail);
	uint64_t off = p->head & p->mask;
	uint64_t room = p->capacity - off;
	/* Largest record that fits either before the end or after padding. */
	uint64_t best = room <= free_bytes ? room : free_bytes;
	if (free_bytes > room && free_bytes - room > best)
		best = free_bytes - room;
	if (best < TH_RING_REC_HDR)
		return 0;
	best -= TH_RING_REC_HDR;
	return best > p->max_record ? p->max_record : (uint32_t)best;
}

int th_ring_reserve(struct th_ring_prod *p, uint16_t type, uint32_t max_len, uint8_t **out)
{
	if (p->broken)
		return -TH_ECORRUPT;
	if (type == TH_RING_TYPE_PAD || p->pending_off != NO_PENDING)
		return -EINVAL;
	if (max_len > p->max_record)
		return -EMSGSIZE;
	uint64_t sz = th_ring_rec_size(max_len);
	uint64_t off = p->head & p->mask;
	uint64_t room = p->capacity - off;
	uint64_t pad = room < sz ? room : 0;
	if (p->capacity - (p->head - p->cached_tail) < pad + sz) {
		int r = prod_refresh(p);
		if (r < 0)
			return r;
		if (p->capacity - (p->head - p->cached_tail) < pad + sz) {
			p->stats.full++;
			return -EAGAIN;
		}
	}
	p->pending_off = pad ? 0 : off;
	p->pending_max = max_len;
	p->pending_type = type;
	*out = p->data + p->pending_off + TH_RING_REC_HDR;
	return 0;
}

static inline void put_rec_hdr(uint8_t *data, uint64_t off, uint16_t type, uint32_t len)
{
	uint64_t w = (uint64_t)len | (uint64_t)type << 32;
	/* Relaxed: the release store of head in th_ring_flush publishes it. */
	__atomic_store_n((uint64_t *)(void *)(data + off), htole64(w), __ATOMIC_RELAXED);
}

void th_ring_commit(struct th_ring_prod *p, uint32_t len)
{
	if (p->pending_off == NO_PENDING || len > p->pending_max)
		return; /* programmer error; nothing reserved */
	uint64_t off = p->head & p->mask;
	if (p->pending_off != off) { /* wrapped: pad to the end first */
		uint64_t room = p->capacity - off;
		put_rec_hdr(p->data, off, TH_RING_TYPE_PAD, (uint32_t)(room - TH_RING_REC_HDR));
		p->head += room;
	}
	put_rec_hdr(p->data, p->pending_off, p->pending_type, len);
	p->head += th_ring_rec_size(len);
	p->pending_off = NO_PENDING;
	p->stats.records++;
	p->stats.bytes += len;
}

void th_ring_abort(struct th_ring_prod *p)
{
	p->pending_off = NO_PENDING;
}

int th_ring_send(struct th_ring_prod *p, uint16_t type, const void *data, uint32_t len)
{
	uint8_t *dst;
	int r = th_ring_reserve(p, type, len, &dst);
	if (r < 0)
		return r;
	if (len)
		memcpy(dst, data, len);
	th_ring_commit(p, len);
	return 0;
}

int th_ring_flush(struct th_ring_prod *p)
{
	if (p->head == p->published)
		return 0;
	/* Publish. Release pairs with the consumer's acquire load of head in
	 * th_ring_pop/th_ring_pending: record bytes are visible before the index.
	 * Seq_cst also makes this store and the load of the sleep epoch below
	 * one half of a Dekker pair with th_ring_prepare_sleep (store epoch,
	 * load head): either the consumer sees this head and stays awake, or
	 * we see its odd epoch and ring. */
	__atomic_store_n(shared_word(p->region, TH_RING_OFF_HEAD), p->head, __ATOMIC_SEQ_CST);
	p->published = p->head;
	if (p->wake_fd < 0)
		return 0;
	uint64_t s = __atomic_load_n(shared_word(p->region, TH_RING_OFF_SLEEP), __ATOMIC_SEQ_CST);
	if (!(s & 1) || s == p->woken_epoch)
		return 0; /* awake, or already rung for this sleep */
	p->woken_epoch = s;
	uint64_t one = 1;
	if (write(p->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		return -errno;
	p->stats.wakeups++;
	return 1;
}

int th_ring_push(struct th_ring_prod *p, uint16_t type, const void *data, uint32_t len)
{
	int r = th_ring_send(p, type, data, len);
	if (r < 0)
		return r;
	r = th_ring_flush(p);
	return r < 0 ? r : 0;
}

/* ---- consumer ---------------------------------------------------------- */

int th_ring_cons_init(struct th_ring_cons *c, void *region, size_t size,
		      const struct th_ring_geom *g, int wake_fd)
{
	int r = check_region(region, size, g);
	if (r < 0)
		return r;
	uint64_t h, t;
	r = read_indices(region, g, &h, &t);
	if (r < 0)
		return r;
	r = set_nonblock(wake_fd);
	if (r < 0)
		return r;
	*c = (struct th_ring_cons){
		.region = region,
		.data = (uint8_t *)region + TH_RING_HDR_SIZE,
		.capacity = g->capacity,
		.mask = g->capacity - 1,
		.max_record = g->max_record,
		.tail = t,
		.cached_head = t,
		.spin_ns = TH_RING_DEFAULT_SPIN_NS,
		.wake_fd = wake_fd,
	};
	__atomic_store_n(shared_word(c->region, TH_RING_OFF_SLEEP), 0, __ATOMIC_RELAXED);
	return 0;
}

void th_ring_cons_set_spin(struct th_ring_cons *c, uint64_t spin_ns)
{
	c->spin_ns = spin_ns > TH_RING_MAX_SPIN_NS ? TH_RING_MAX_SPIN_NS : spin_ns;
}

static int cons_violation(struct th_ring_cons *c)
{
	if (!c->broken) {
		c->broken = true;
		c->stats.violations++;
	}
	return -TH_ECORRUPT;
}

int th_ring_pop(struct th_ring_cons *c, struct th_ring_rec *rec, void *buf, size_t cap)
{
	if (c->broken)
		return -TH_ECORRUPT;
	for (;;) {
		if (c->tail == c->cached_head) {
			/* Acquire pairs with the producer's release store of head
			 * in th_ring_flush: the records below it are complete. */
			uint64_t h = __atomic_load_n(shared_word(c->region, TH_RING_OFF_HEAD),
						     __ATOMIC_ACQUIRE);
			if (h == c->tail)
				return 0;
			/* Clamp: whole records, never more than the ring holds,
			 * never behind what we already consumed. */
			if (h - c->tail > c->capacity || (h & (TH_RING_ALIGN - 1)))
				return cons_violation(c);
			c->cached_head = h;
		}
		uint64_t avail = c->cached_head - c->tail;
		uint64_t off = c->tail & c->mask;
		uint64_t room = c->capacity - off;
		/* One read of the header word; everything below uses the copy. */
		uint64_t w = le64toh(__atomic_load_n((uint64_t *)(void *)(c->data + off), __ATOMIC_RELAXED));
		uint32_t len = (uint32_t)w;
		uint16_t type = (uint16_t)(w >> 32);
		if (w >> 48)
			return cons_violation(c);
		if (type == TH_RING_TYPE_PAD) {
			if ((uint64_t)len + TH_RING_REC_HDR != room || room > avail)
				return cons_violation(c);
			c->tail += room;
			continue; /* tail is published with the next record */
		}
		if (len > c->max_record)
			return cons_violation(c);
		uint64_t sz = th_ring_rec_size(len);
		if (sz > avail || sz > room)
			return cons_violation(c);
		if (len > cap)
			return -ENOBUFS;
		if (len)
			memcpy(buf, c->data + off + TH_RING_REC_HDR, len);
		c->tail += sz;
		/* Release pairs with the producer's acquire load of tail in
		 * prod_refresh: our copy-out is done before it reuses the bytes. */
		__atomic_store_n(shared_word(c->region, TH_RING_OFF_TAIL), c->tail, __ATOMIC_RELEASE);
		c->stats.records++;
		c->stats.bytes += len;
		rec->type = type;
		rec->len = len;
		return 1;
	}
}

bool th_ring_pending(struct th_ring_cons *c)
{
	if (c->broken || c->tail != c->cached_head)
		return true;
	/* Acquire pairs with the release store of head in th_ring_flush. */
	return __atomic_load_n(shared_word(c->region, TH_RING_OFF_HEAD), __ATOMIC_ACQUIRE) != c->tail;
}

int th_ring_prepare_sleep(struct th_ring_cons *c)
{
	if (th_ring_pending(c))
		return 1;
	c->epoch |= 1;
	/* Dekker pair with th_ring_flush (store head, load epoch): seq_cst
	 * store of our odd epoch, then seq_cst load of head. */
	__atomic_store_n(shared_word(c->region, TH_RING_OFF_SLEEP), c->epoch, __ATOMIC_SEQ_CST);
	uint64_t h = __atomic_load_n(shared_word(c->region, TH_RING_OFF_HEAD), __ATOMIC_SEQ_CST);
	if (h != c->tail) {
		c->epoch++;
		__atomic_store_n(shared_word(c->region, TH_RING_OFF_SLEEP), c->epoch, __ATOMIC_RELAXED);
		return 1;
	}
	c->stats.sleeps++;
	return 0;
}

void th_ring_finish_sleep(struct th_ring_cons *c, bool by_doorbell)
{
	if (by_doorbell && c->wake_fd >= 0) {
		uint64_t v;
		if (read(c->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
			c->stats.wakeups++;
	}
	if (c->epoch & 1) {
		c->epoch++;
		__atomic_store_n(shared_word(c->region, TH_RING_OFF_SLEEP), c->epoch, __ATOMIC_RELAXED);
	}
}

int th_ring_wait(struct th_ring_cons *c, int64_t timeout_ns)
{
	if (th_ring_pending(c))
		return 1;
	if (c->spin_ns) {
		uint64_t start = th_now_ns();
		for (unsigned i = 1;; i++) {
			th_cpu_relax();
			if (th_ring_pending(c))
				return 1;
			if (!(i & 15) && th_now_ns() - start >= c->spin_ns)
				break;
		}
	}
	if (timeout_ns == 0)
		return 0;
	uint64_t deadline = timeout_ns > 0 ? th_now_ns() + (uint64_t)timeout_ns : 0;
	for (;;) {
		if (th_ring_prepare_sleep(c))
			return 1;
		struct pollfd pfd = { .fd = c->wake_fd, .events = POLLIN };
		struct timespec ts, *tsp = NULL;
		if (deadline) {
			uint64_t now = th_now_ns();
			uint64_t left = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(left / TH_NS_PER_S);
			ts.tv_nsec = (long)(left % TH_NS_PER_S);
			tsp = &ts;
		}
		int n = ppoll(c->wake_fd >= 0 ? &pfd : NULL, c->wake_fd >= 0 ? 1 : 0, tsp, NULL);
		int err = n < 0 ? errno : 0;
		th_ring_finish_sleep(c, n > 0 && (pfd.revents & POLLIN));
		if (err && err != EINTR)
			return -err;
		if (th_ring_pending(c))
			return 1;
		/* A doorbell left over from a cancelled sleep, or a signal:
		 * sleep again until the deadline. */
		if (err == EINTR || (deadline && th_now_ns() >= deadline))
			return 0;
	}
}
