/* common/th_ring: round trip, wrap-around, full ring, every consumer and
 * producer validation rule, the doorbell protocol, a two-thread stress run
 * and a hostile process scribbling over a live ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "th_err.h"
#include "th_ring.h"
#include "th_shm.h"
#include "th_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAP 4096u
#define MAXREC 1024u

struct fixture {
	struct th_shm shm;
	struct th_ring_geom g;
	struct th_ring_prod p;
	struct th_ring_cons c;
	int bell; /* consumer's doorbell */
	uint8_t buf[MAXREC];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->g = (struct th_ring_geom){ .capacity = CAP, .max_record = MAXREC };
	assert_int_equal(th_shm_create("test-ring", th_ring_region_size(&f->g), &f->shm), 0);
	assert_int_equal(th_ring_format(f->shm.base, f->shm.size, &f->g), 0);
	f->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(f->bell >= 0);
	assert_int_equal(th_ring_prod_init(&f->p, f->shm.base, f->shm.size, &f->g, f->bell), 0);
	assert_int_equal(th_ring_cons_init(&f->c, f->shm.base, f->shm.size, &f->g, f->bell), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	th_shm_close(&f->shm);
	close(f->bell);
	free(f);
	return 0;
}

static uint8_t *region(struct fixture *f) { return f->shm.base; }
static uint64_t *head_word(struct fixture *f) { return (uint64_t *)(void *)(region(f) + TH_RING_OFF_HEAD); }
static uint8_t *data_area(struct fixture *f) { return region(f) + TH_RING_HDR_SIZE; }

static void put_hdr(struct fixture *f, uint64_t off, uint16_t type, uint32_t len, uint16_t resv)
{
	uint64_t w = (uint64_t)len | (uint64_t)type << 32 | (uint64_t)resv << 48;
	memcpy(data_area(f) + off, &w, 8);
}

/* ---- geometry ---------------------------------------------------------- */

static void geometry_is_checked_and_read_back(void **state)
{
	struct fixture *f = *state;
	struct th_ring_geom g;
	assert_int_equal(th_ring_read_geom(f->shm.base, f->shm.size, &g), 0);
	assert_int_equal(g.capacity, CAP);
	assert_int_equal(g.max_record, MAXREC);
	/* Region too small for what the header claims. */
	assert_int_equal(th_ring_read_geom(f->shm.base, TH_RING_HDR_SIZE + CAP - 1, &g), -TH_ECORRUPT);
	/* Not a power of two, too small, record too large for the ring. */
	struct th_ring_geom bad[] = { { 5000, 100 }, { 1024, 100 }, { 4096, 4096 }, { 4096, 2041 } };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(th_ring_geom_check(&bad[i]), -EINVAL);
	uint8_t *b = f->shm.base;
	b[0] ^= 1; /* magic */
	assert_int_equal(th_ring_read_geom(f->shm.base, f->shm.size, &g), -TH_ECORRUPT);
	b[0] ^= 1;
	b[8] = 0x01; /* capacity 4097 */
	assert_int_equal(th_ring_read_geom(f->shm.base, f->shm.size, &g), -TH_ECORRUPT);
	/* Misaligned region. */
	assert_int_equal(th_ring_format(b + 8, f->shm.size - 8, &f->g), -EINVAL);
}

/* ---- round trip, wrap-around, full ---------------------------------------- */

static void record_round_trips(void **state)
{
	struct fixture *f = *state;
	struct th_ring_rec rec;
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 0);
	assert_int_equal(th_ring_push(&f->p, 7, "hello", 5), 0);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_int_equal(rec.type, 7);
	assert_int_equal(rec.len, 5);
	assert_memory_equal(f->buf, "hello", 5);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 0);
	/* Empty payloads are records too. */
	assert_int_equal(th_ring_push(&f->p, 9, NULL, 0), 0);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_int_equal(rec.type, 9);
	assert_int_equal(rec.len, 0);
	assert_int_equal(f->p.stats.records, 2);
	assert_int_equal(f->c.stats.records, 2);
	assert_int_equal(f->c.stats.bytes, 5);
}

static void records_are_invisible_until_flush(void **state)
{
	struct fixture *f = *state;
	struct th_ring_rec rec;
	assert_int_equal(th_ring_send(&f->p, 1, "a", 1), 0);
	assert_int_equal(th_ring_send(&f->p, 2, "b", 1), 0);
	assert_false(th_ring_pending(&f->c));
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 0);
	assert_int_equal(th_ring_flush(&f->p), 0);
	assert_true(th_ring_pending(&f->c));
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_int_equal(rec.type, 1);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_int_equal(rec.type, 2);
}

static void reserve_commit_shorter_and_abort(void **state)
{
	struct fixture *f = *state;
	uint8_t *dst;
	struct th_ring_rec rec;
	assert_int_equal(th_ring_reserve(&f->p, 3, 100, &dst), 0);
	/* One reservation at a time. */
	uint8_t *dst2;
	assert_int_equal(th_ring_reserve(&f->p, 3, 10, &dst2), -EINVAL);
	memcpy(dst, "xyz", 3);
	th_ring_commit(&f->p, 3);
	assert_int_equal(th_ring_reserve(&f->p, 4, 50, &dst), 0);
	th_ring_abort(&f->p);
	th_ring_flush(&f->p);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_int_equal(rec.len, 3);
	assert_memory_equal(f->buf, "xyz", 3);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 0);
	/* Type 0 is the padding record; too-large records are refused. */
	assert_int_equal(th_ring_reserve(&f->p, TH_RING_TYPE_PAD, 1, &dst), -EINVAL);
	assert_int_equal(th_ring_reserve(&f->p, 1, MAXREC + 1, &dst), -EMSGSIZE);
}

static void wrap_around_keeps_order_and_content(void **state)
{
	struct fixture *f = *state;
	uint64_t seq_out = 0, seq_in = 0;
	unsigned seed = 1;
	uint8_t rec_buf[MAXREC];
	struct th_ring_rec rec;
	/* Many passes over a 4 KiB ring with sizes that force padding. */
	while (seq_in < 5000) {
		int burst = 1 + rand_r(&seed) % 6;
		for (int i = 0; i < burst; i++) {
			uint32_t len = 8 + (uint32_t)(seq_out * 37 % (MAXREC - 8));
			for (uint32_t k = 0; k < len; k++)
				rec_buf[k] = (uint8_t)(seq_out + k);
			memcpy(rec_buf, &seq_out, 8);
			int r = th_ring_send(&f->p, (uint16_t)(1 + seq_out % 100), rec_buf, len);
			if (r == -EAGAIN)
				break;
			assert_int_equal(r, 0);
			seq_out++;
		}
		th_ring_flush(&f->p);
		int take = 1 + rand_r(&seed) % 6;
		for (int i = 0; i < take; i++) {
			int r = th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf);
			assert_true(r >= 0);
			if (!r)
				break;
			uint64_t s;
			memcpy(&s, f->buf, 8);
			assert_int_equal(s, seq_in);
			assert_int_equal(rec.type, 1 + seq_in % 100);
			assert_int_equal(rec.len, 8 + seq_in * 37 % (MAXREC - 8));
			for (uint32_t k = 8; k < rec.len; k++)
				assert_int_equal(f->buf[k], (uint8_t)(seq_in + k));
			seq_in++;
		}
	}
	assert_true(f->p.head > 10 * CAP); /* wrapped many times */
	assert_int_equal(f->c.stats.violations, 0);
	assert_int_equal(f->p.stats.violations, 0);
}

static void full_ring_refuses_then_accepts_after_pop(void **state)
{
	struct fixture *f = *state;
	uint8_t rec_buf[100] = { 0 };
	struct th_ring_rec rec;
	int n = 0;
	while (th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf) == 0)
		n++;
	th_ring_flush(&f->p);
	assert_int_equal(n, CAP / th_ring_rec_size(sizeof rec_buf));
	assert_int_equal(th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf), -EAGAIN);
	assert_true(f->p.stats.full >= 2);
	assert_true(th_ring_prod_space(&f->p) < sizeof rec_buf);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_true(th_ring_prod_space(&f->p) >= sizeof rec_buf);
	assert_int_equal(th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf), 0);
	th_ring_flush(&f->p);
	int m = 0;
	while (th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf) == 1)
		m++;
	assert_int_equal(m, n);
}

static void small_buffer_leaves_record_in_place(void **state)
{
	struct fixture *f = *state;
	struct th_ring_rec rec;
	assert_int_equal(th_ring_push(&f->p, 1, "0123456789", 10), 0);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, 4), -ENOBUFS);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_int_equal(rec.len, 10);
	assert_int_equal(f->c.stats.violations, 0);
}

/* ---- consumer validation ------------------------------------------------- */

static void expect_cons_violation(struct fixture *f)
{
	struct th_ring_rec rec;
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), -TH_ECORRUPT);
	assert_int_equal(f->c.stats.violations, 1);
	/* Latched: the ring stays broken and counts once. */
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), -TH_ECORRUPT);
	assert_int_equal(f->c.stats.violations, 1);
	assert_true(th_ring_pending(&f->c));
}

static void consumer_rejects_unaligned_head(void **state)
{
	struct fixture *f = *state;
	put_hdr(f, 0, 1, 4, 0);
	*head_word(f) = 12;
	expect_cons_violation(f);
}

static void consumer_rejects_head_beyond_capacity(void **state)
{
	struct fixture *f = *state;
	*head_word(f) = CAP + 8;
	expect_cons_violation(f);
}

static void consumer_rejects_head_moving_backwards(void **state)
{
	struct fixture *f = *state;
	struct th_ring_rec rec;
	assert_int_equal(th_ring_push(&f->p, 1, "abcdefgh", 8), 0);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	*head_word(f) = 8; /* behind our tail (16) */
	expect_cons_violation(f);
}

static void consumer_rejects_reserved_header_bits(void **state)
{
	struct fixture *f = *state;
	put_hdr(f, 0, 1, 4, 0x8000);
	*head_word(f) = 16;
	expect_cons_violation(f);
}

static void consumer_rejects_oversized_length(void **state)
{
	struct fixture *f = *state;
	put_hdr(f, 0, 1, MAXREC + 1, 0);
	*head_word(f) = CAP;
	expect_cons_violation(f);
}

static void consumer_rejects_record_longer_than_published(void **state)
{
	struct fixture *f = *state;
	put_hdr(f, 0, 1, 100, 0); /* needs 112 bytes */
	*head_word(f) = 64;
	expect_cons_violation(f);
}

static void consumer_rejects_record_crossing_the_end(void **state)
{
	struct fixture *f = *state;
	/* Move both sides to 64 bytes before the end, then claim a 100-byte
	 * record there without padding. */
	uint8_t rec_buf[CAP - 64 - 8];
	struct th_ring_rec rec;
	memset(rec_buf, 0, sizeof rec_buf);
	for (uint32_t done = 0; done < CAP - 64;) {
		uint32_t l = CAP - 64 - done - 8 > 500 ? 500 - 8 : CAP - 64 - done - 8;
		assert_int_equal(th_ring_push(&f->p, 1, rec_buf, l), 0);
		assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
		done += (uint32_t)th_ring_rec_size(l);
	}
	assert_int_equal(f->c.tail, CAP - 64);
	put_hdr(f, CAP - 64, 1, 100, 0);
	*head_word(f) = CAP - 64 + 112;
	expect_cons_violation(f);
}

static void consumer_rejects_bad_padding(void **state)
{
	struct fixture *f = *state;
	put_hdr(f, 0, TH_RING_TYPE_PAD, 16, 0); /* padding must reach the end */
	*head_word(f) = 64;
	expect_cons_violation(f);
}

static void consumer_rejects_padding_past_head(void **state)
{
	struct fixture *f = *state;
	put_hdr(f, 0, TH_RING_TYPE_PAD, CAP - 8, 0); /* valid length, but only 64 published */
	*head_word(f) = 64;
	expect_cons_violation(f);
}

/* ---- producer validation ------------------------------------------------- */

static void producer_rejects_tail_it_never_published(void **state)
{
	struct fixture *f = *state;
	uint8_t rec_buf[500] = { 0 };
	while (th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf) == 0)
		;
	th_ring_flush(&f->p);
	uint64_t *tail = (uint64_t *)(void *)(region(f) + TH_RING_OFF_TAIL);
	*tail = f->p.published + 8; /* consumed more than exists */
	assert_int_equal(th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf), -TH_ECORRUPT);
	assert_int_equal(f->p.stats.violations, 1);
	assert_int_equal(th_ring_send(&f->p, 1, rec_buf, 1), -TH_ECORRUPT);
	assert_int_equal(f->p.stats.violations, 1);
}

static void producer_rejects_tail_moving_backwards_or_unaligned(void **state)
{
	struct fixture *f = *state;
	uint8_t rec_buf[500] = { 0 };
	struct th_ring_rec rec;
	while (th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf) == 0)
		;
	th_ring_flush(&f->p);
	assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	assert_int_equal(th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf), 0); /* saw tail 504 */
	uint64_t *tail = (uint64_t *)(void *)(region(f) + TH_RING_OFF_TAIL);
	*tail = 3; /* unaligned and behind */
	assert_int_equal(th_ring_send(&f->p, 1, rec_buf, sizeof rec_buf), -TH_ECORRUPT);
	assert_int_equal(f->p.stats.violations, 1);
}

/* ---- doorbells --------------------------------------------------------- */

static uint64_t bell_count(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof v) != sizeof v)
		return 0;
	return v;
}

static void awake_consumer_is_never_rung(void **state)
{
	struct fixture *f = *state;
	struct th_ring_rec rec;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(th_ring_push(&f->p, 1, &i, sizeof i), 0);
		assert_int_equal(th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf), 1);
	}
	assert_int_equal(f->p.stats.wakeups, 0);
	assert_int_equal(bell_count(f->bell), 0);
}

static void sleeping_consumer_is_rung_once_per_sleep(void **state)
{
	struct fixture *f = *state;
	struct th_ring_rec rec;
	assert_int_equal(th_ring_prepare_sleep(&f->c), 0);
	assert_int_equal(f->c.stats.sleeps, 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(th_ring_push(&f->p, 1, &i, sizeof i), 0);
	assert_int_equal(f->p.stats.wakeups, 1); /* ten flushes, one doorbell */
	assert_int_equal(bell_count(f->bell), 1);
	th_ring_finish_sleep(&f->c, false);
	while (th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf) == 1)
		;
	/* Next sleep, next ring. */
	assert_int_equal(th_ring_prepare_sleep(&f->c), 0);
	assert_int_equal(th_ring_push(&f->p, 1, "x", 1), 0);
	assert_int_equal(f->p.stats.wakeups, 2);
	assert_int_equal(th_ring_wait(&f->c, 0), 1);
}

static void prepare_sleep_cancels_when_records_arrived(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(th_ring_push(&f->p, 1, "x", 1), 0);
	assert_int_equal(th_ring_prepare_sleep(&f->c), 1);
	assert_int_equal(f->c.stats.sleeps, 0);
	/* Awake again: further pushes do not ring. */
	assert_int_equal(th_ring_push(&f->p, 1, "y", 1), 0);
	assert_int_equal(f->p.stats.wakeups, 0);
}

static void wait_times_out_on_an_empty_ring(void **state)
{
	struct fixture *f = *state;
	th_ring_cons_set_spin(&f->c, 1000);
	uint64_t t0 = th_now_ns();
	assert_int_equal(th_ring_wait(&f->c, 2 * (int64_t)TH_NS_PER_MS), 0);
	assert_true(th_now_ns() - t0 >= 2 * TH_NS_PER_MS);
	assert_int_equal(f->c.epoch & 1, 0); /* announced awake again */
}

/* ---- two threads ------------------------------------------------------- */

#define STRESS_N 200000u

static void *stress_producer(void *arg)
{
	struct fixture *f = arg;
	uint8_t b[64];
	for (uint64_t i = 0; i < STRESS_N;) {
		uint32_t len = 8 + (uint32_t)(i % 57);
		memcpy(b, &i, 8);
		memset(b + 8, (int)(i & 0xff), len - 8);
		int r = th_ring_send(&f->p, 1, b, len);
		if (r == -EAGAIN) {
			th_ring_flush(&f->p);
			if (i % 3 == 0)
				th_sleep_ns(20000); /* let the consumer fall asleep now and then */
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "producer: %d at %llu\n", r, (unsigned long long)i);
			return (void *)1;
		}
		i++;
		if (i % 16 == 0 || i % 1000 == 999)
			th_ring_flush(&f->p);
		if (i % 5000 == 0) {
			th_ring_flush(&f->p);
			th_sleep_ns(200000);
		}
	}
	th_ring_flush(&f->p);
	return NULL;
}

static void two_threads_lose_no_record_and_no_wakeup(void **state)
{
	struct fixture *f = *state;
	th_ring_cons_set_spin(&f->c, 2000); /* short spin: sleeps happen */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stress_producer, f), 0);
	uint64_t next = 0;
	struct th_ring_rec rec;
	while (next < STRESS_N) {
		int r = th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf);
		assert_true(r >= 0);
		if (!r) {
			/* A lost wake-up would hang here: bound it. */
			int w = th_ring_wait(&f->c, 5 * (int64_t)TH_NS_PER_S);
			assert_int_equal(w, 1);
			continue;
		}
		uint64_t s;
		memcpy(&s, f->buf, 8);
		assert_int_equal(s, next);
		assert_int_equal(rec.len, 8 + next % 57);
		next++;
	}
	void *ret;
	pthread_join(t, &ret);
	assert_null(ret);
	/* What the doorbell protocol promises (th_ring.h, docs/ipc.md "Wake-up
	 * protocol"): the producer rings at most once per announced sleep epoch.
	 * An announcement the consumer then cancels (records arrived between its
	 * odd epoch and its re-check) can still be rung, so doorbells are bounded
	 * by announcements, not by completed sleeps. Each announcement moves the
	 * epoch from even to odd and back: (epoch + 1) / 2 of them so far. On the
	 * consumer side a doorbell read ends a real sleep and drains every write
	 * before it, so it counts no more than the producer wrote nor than it
	 * slept. No record and no wake-up was lost: the loop above saw every
	 * record in order and never waited out its bound. */
	uint64_t announced = (f->c.epoch + 1) / 2;
	assert_true(f->c.stats.sleeps > 0);
	assert_true(f->p.stats.wakeups > 0);
	assert_true(f->c.stats.sleeps <= announced);
	assert_true(f->p.stats.wakeups <= announced);
	assert_true(f->c.stats.wakeups <= f->p.stats.wakeups);
	assert_true(f->c.stats.wakeups <= f->c.stats.sleeps);
	print_message("stress: %llu sleeps of %llu announced, %llu doorbells rung, %llu taken\n",
		      (unsigned long long)f->c.stats.sleeps, (unsigned long long)announced,
		      (unsigned long long)f->p.stats.wakeups, (unsigned long long)f->c.stats.wakeups);
}

/* ---- hostile scribbler ------------------------------------------------- */

/* A second process maps the same memfd and writes random bytes everywhere
 * (header, indices, records) while this process keeps producing and
 * consuming. The only acceptable outcome is counted violations: no crash,
 * no out-of-bounds access (run under ASan: make SAN=1). */
static void scribbler_only_causes_counted_violations(void **state)
{
	struct fixture *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *b = f->shm.base;
		size_t size = th_ring_region_size(&f->g);
		uint64_t x = 88172645463325252ull, end = th_now_ns() + 400 * TH_NS_PER_MS;
		while (th_now_ns() < end) {
			for (int i = 0; i < 256; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				size_t off = (x >> 16) % size;
				switch (x & 3) {
				case 0: /* an index, sometimes plausible */
					*(volatile uint64_t *)(void *)(b + TH_RING_SLOT * (1 + (x >> 8) % 3)) =
						(x & 4) ? (x >> 32) & ~7ull : x >> 20;
					break;
				case 1: /* a record header */
					*(volatile uint64_t *)(void *)(b + TH_RING_HDR_SIZE + (off & ~7ull) % CAP) = x;
					break;
				default:
					((volatile uint8_t *)b)[off] = (uint8_t)x;
				}
			}
			usleep(50);
		}
		_exit(0);
	}
	uint64_t violations = 0, records = 0, reinit = 0;
	uint8_t out[200];
	memset(out, 0xab, sizeof out);
	int status;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		for (int i = 0; i < 8; i++)
			if (th_ring_send(&f->p, (uint16_t)(1 + i), out, 8 + 20 * (uint32_t)i) < 0)
				break;
		th_ring_flush(&f->p);
		struct th_ring_rec rec;
		int r;
		while ((r = th_ring_pop(&f->c, &rec, f->buf, sizeof f->buf)) == 1) {
			assert_true(rec.len <= MAXREC);
			assert_int_not_equal(rec.type, TH_RING_TYPE_PAD);
			records++;
		}
		if (r < 0 || f->p.broken) {
			violations += f->c.stats.violations + f->p.stats.violations;
			/* Start over on the same (still scribbled) region. */
			while (th_ring_prod_init(&f->p, f->shm.base, f->shm.size, &f->g, f->bell) < 0 ||
			       th_ring_cons_init(&f->c, f->shm.base, f->shm.size, &f->g, f->bell) < 0)
				th_ring_format(f->shm.base, f->shm.size, &f->g);
			reinit++;
		}
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	print_message("scribbler: %llu records, %llu violations, %llu restarts\n",
		      (unsigned long long)records, (unsigned long long)violations, (unsigned long long)reinit);
	assert_true(violations > 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(geometry_is_checked_and_read_back),
		T(record_round_trips),
		T(records_are_invisible_until_flush),
		T(reserve_commit_shorter_and_abort),
		T(wrap_around_keeps_order_and_content),
		T(full_ring_refuses_then_accepts_after_pop),
		T(small_buffer_leaves_record_in_place),
		T(consumer_rejects_unaligned_head),
		T(consumer_rejects_head_beyond_capacity),
		T(consumer_rejects_head_moving_backwards),
		T(consumer_rejects_reserved_header_bits),
		T(consumer_rejects_oversized_length),
		T(consumer_rejects_record_longer_than_published),
		T(consumer_rejects_record_crossing_the_end),
		T(consumer_rejects_bad_padding),
		T(consumer_rejects_padding_past_head),
		T(producer_rejects_tail_it_never_published),
		T(producer_rejects_tail_moving_backwards_or_unaligned),
		T(awake_consumer_is_never_rung),
		T(sleeping_consumer_is_rung_once_per_sleep),
		T(prepare_sleep_cancels_when_records_arrived),
		T(wait_times_out_on_an_empty_ring),
		T(two_threads_lose_no_record_and_no_wakeup),
		T(scribbler_only_causes_counted_violations),
	};
	return cmocka_run_group_tests_name("th_ring", tests, NULL, NULL);
}
