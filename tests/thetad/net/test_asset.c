/* thetad/net/net_asset: the transfer state machine in memory, with a fake
 * store and a bounded fake stream between two sides, in simulated time:
 * offers become fetches, chunks flow only while the stream has room,
 * a partial asset resumes from its length, corrupted bytes are retried and
 * then given up, GETs past the limit are answered BUSY, a gap in the chunks
 * is a protocol error, a stall fails the try, and offers are ignored where
 * fetching is not allowed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_asset.h"

#define STREAM_CAP (256u * 1024) /* what the fake stream holds before it says "full" */
#define MAX_FAKE 8

struct fake_asset {
	uint8_t hash[32];
	uint64_t size, have;
	bool complete;
	uint8_t *data;
};

struct side {
	struct net_asset_xfer x;
	struct fake_asset a[MAX_FAKE];
	int n;
	struct th_wbuf out;        /* frames written, not yet delivered */
	int ev[4];                 /* events by kind */
	int last_err;
	uint64_t written;          /* bytes written into the store */
};

static struct fake_asset *fa_find(struct side *s, const uint8_t *hash)
{
	for (int i = 0; i < s->n; i++)
		if (!memcmp(s->a[i].hash, hash, 32))
			return &s->a[i];
	return NULL;
}

static int op_lookup(void *ud, const uint8_t hash[32], struct net_asset_local *out)
{
	struct fake_asset *a = fa_find(ud, hash);
	if (!a)
		return -ENOENT;
	out->size = a->size;
	out->have = a->have;
	out->complete = a->complete;
	return 0;
}

static int op_accept(void *ud, const struct proto_sess_asset_info *info)
{
	struct side *s = ud;
	struct fake_asset *a = fa_find(s, info->hash);
	if (a)
		return a->complete ? 1 : 0;
	if (s->n == MAX_FAKE)
		return -ENOSPC;
	a = &s->a[s->n++];
	memset(a, 0, sizeof(*a));
	memcpy(a->hash, info->hash, 32);
	a->size = info->size;
	a->data = calloc(1, info->size);
	return 0;
}

static int64_t op_write(void *ud, const uint8_t hash[32], uint64_t off, const uint8_t *p, size_t n)
{
	struct side *s = ud;
	struct fake_asset *a = fa_find(s, hash);
	if (!a)
		return -ENOENT;
	if (a->complete)
		return -EALREADY;
	if (off > a->have)
		return -ESPIPE;
	if (off + n > a->size)
		return -EFBIG;
	uint64_t skip = a->have - off;
	if (skip < n) {
		memcpy(a->data + a->have, p + skip, n - skip);
		s->written += n - skip;
		a->have = off + n;
	}
	return (int64_t)a->have;
}

static int op_complete(void *ud, const uint8_t hash[32])
{
	struct fake_asset *a = fa_find(ud, hash);
	uint8_t h[32];
	if (!a)
		return -ENOENT;
	if (a->have != a->size)
		return -EAGAIN;
	crypto_hash_sha256(h, a->data, a->size);
	if (memcmp(h, a->hash, 32)) {
		a->have = 0;
		return -EBADMSG;
	}
	a->complete = true;
	return 0;
}

static ssize_t op_read(void *ud, const uint8_t hash[32], uint64_t off, uint8_t *buf, size_t n)
{
	struct fake_asset *a = fa_find(ud, hash);
	if (!a || !a->complete)
		return -ENOENT;
	if (off + n > a->size)
		n = a->size - off;
	memcpy(buf, a->data + off, n);
	return (ssize_t)n;
}

static int op_send(void *ud, const struct proto_sess_msg *m)
{
	struct side *s = ud;
	return proto_sess_encode(m, &s->out);
}

static size_t op_writable(void *ud)
{
	struct side *s = ud;
	return s->out.len >= STREAM_CAP ? 0 : STREAM_CAP - s->out.len;
}

static void op_event(void *ud, enum net_asset_event ev, const uint8_t hash[32], int err)
{
	struct side *s = ud;
	s->ev[ev]++;
	if (ev == NET_ASSET_EV_FAILED)
		s->last_err = err;
}

static const struct net_asset_ops ops = {
	.lookup = op_lookup, .accept = op_accept, .write = op_write, .complete = op_complete,
	.read = op_read, .send = op_send, .writable = op_writable, .event = op_event,
};

static void side_init(struct side *s)
{
	memset(s, 0, sizeof(*s));
	th_wbuf_init(&s->out, 0);
	assert_int_equal(net_asset_init(&s->x, &ops, s), 0);
	s->x.may_fetch = true;
}

static void side_fini(struct side *s)
{
	net_asset_fini(&s->x);
	th_wbuf_fini(&s->out);
	for (int i = 0; i < s->n; i++)
		free(s->a[i].data);
}

/* A complete asset of `size` bytes on side s; returns it. */
static struct fake_asset *have_asset(struct side *s, uint64_t size, unsigned seed)
{
	struct fake_asset *a = &s->a[s->n++];
	memset(a, 0, sizeof(*a));
	a->size = size;
	a->data = malloc(size);
	for (uint64_t i = 0; i < size; i++)
		a->data[i] = (uint8_t)(i * seed + (i >> 8));
	crypto_hash_sha256(a->hash, a->data, size);
	a->have = size;
	a->complete = true;
	return a;
}

static void offer(struct side *from, const struct fake_asset *a)
{
	struct proto_sess_asset_info i = { .size = a->size, .name = (const uint8_t *)"n", .name_len = 1 };
	memcpy(i.hash, a->hash, 32);
	assert_int_equal(net_asset_offer(&from->x, &i), 0);
}

static int on_frame(const uint8_t *p, size_t len, void *ud)
{
	void **c = ud;
	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(p, len, &m), 0);
	return net_asset_on_msg(c[0], &m, *(uint64_t *)c[1]);
}

/* Delivers what `from` wrote to `to`; returns the first handler error. */
static int deliver(struct side *from, struct side *to, uint64_t now)
{
	struct proto_sess_reasm r;
	void *ctx[2] = { &to->x, &now };
	proto_sess_reasm_init(&r, 0);
	int rv = proto_sess_reasm_feed(&r, from->out.data, from->out.len, on_frame, ctx);
	proto_sess_reasm_fini(&r);
	th_wbuf_reset(&from->out);
	return rv;
}

/* Pumps and delivers both ways until nothing moves; returns rounds. */
static int run(struct side *a, struct side *b, uint64_t *now)
{
	int rounds = 0;
	for (; rounds < 10000; rounds++) {
		net_asset_pump(&a->x, *now);
		net_asset_pump(&b->x, *now);
		if (!a->out.len && !b->out.len)
			break;
		assert_true(a->out.len <= STREAM_CAP + NET_ASSET_CHUNK_FRAME + 4096); /* never past the bound */
		assert_int_equal(deliver(a, b, *now), 0);
		assert_int_equal(deliver(b, a, *now), 0);
		*now += 1000000;
	}
	return rounds;
}

static void an_offer_is_fetched_in_bounded_chunks(void **state)
{
	struct side a, b;
	uint64_t now = 1;
	side_init(&a);
	side_init(&b);
	struct fake_asset *src = have_asset(&a, 3 * 1024 * 1024 + 7, 3);
	offer(&a, src);
	int rounds = run(&a, &b, &now);
	struct fake_asset *dst = fa_find(&b, src->hash);
	assert_non_null(dst);
	assert_true(dst->complete);
	assert_memory_equal(dst->data, src->data, src->size);
	assert_int_equal(b.ev[NET_ASSET_EV_COMPLETED], 1);
	assert_int_equal(b.x.st.bytes_in, src->size);
	assert_int_equal(a.x.st.bytes_out, src->size);
	assert_int_equal(b.x.st.resumes, 0);
	/* the stream bound paced it: more rounds than one */
	assert_true(rounds > (int)(src->size / STREAM_CAP));
	assert_int_equal(net_asset_pending(&b.x), 0);
	/* offered again: nothing moves */
	offer(&a, src);
	run(&a, &b, &now);
	assert_int_equal(a.x.st.bytes_out, src->size);
	side_fini(&a);
	side_fini(&b);
}

static void a_partial_asset_resumes_from_its_length(void **state)
{
	struct side a, b;
	uint64_t now = 1;
	side_init(&a);
	side_init(&b);
	struct fake_asset *src = have_asset(&a, 1000000, 5);
	/* b got 400000 bytes in an earlier connection */
	struct proto_sess_asset_info i = { .size = src->size, .name = (const uint8_t *)"x", .name_len = 1 };
	memcpy(i.hash, src->hash, 32);
	assert_int_equal(op_accept(&b, &i), 0);
	assert_int_equal(op_write(&b, src->hash, 0, src->data, 400000), 400000);
	b.written = 0;
	offer(&a, src);
	run(&a, &b, &now);
	struct fake_asset *dst = fa_find(&b, src->hash);
	assert_true(dst->complete);
	assert_memory_equal(dst->data, src->data, src->size);
	assert_int_equal(b.x.st.resumes, 1);
	assert_int_equal(b.ev[NET_ASSET_EV_RESUMED], 1);
	assert_int_equal(a.x.st.resumes_served, 1);
	assert_int_equal(a.x.st.bytes_out, 600000);
	assert_int_equal(b.written, 600000);

	/* all bytes present before (a restart after the last write): only the
	 * check is left, no GET */
	struct side c;
	side_init(&c);
	assert_int_equal(op_accept(&c, &i), 0);
	assert_int_equal(op_write(&c, src->hash, 0, src->data, src->size), (int64_t)src->size);
	a.x.st.bytes_out = 0;
	offer(&a, src);
	run(&a, &c, &now);
	assert_true(fa_find(&c, src->hash)->complete);
	assert_int_equal(a.x.st.bytes_out, 0);
	side_fini(&c);
	side_fini(&a);
	side_fini(&b);
}

static void corrupted_bytes_are_retried_then_given_up(void **state)
{
	struct side a, b;
	uint64_t now = 1;
	side_init(&a);
	side_init(&b);
	a.x.test_corrupt = true;
	struct fake_asset *src = have_asset(&a, 200000, 7);
	offer(&a, src);
	for (unsigned t = 0; t < NET_ASSET_MAX_ATTEMPTS + 1; t++) {
		run(&a, &b, &now);
		now += NET_ASSET_RETRY_NS;
	}
	assert_int_equal(b.x.st.failures, NET_ASSET_MAX_ATTEMPTS);
	assert_int_equal(b.last_err, -EBADMSG);
	assert_int_equal(b.ev[NET_ASSET_EV_GAVE_UP], 1);
	assert_int_equal(b.ev[NET_ASSET_EV_COMPLETED], 0);
	assert_false(fa_find(&b, src->hash)->complete);
	assert_int_equal(net_asset_pending(&b.x), 0);
	assert_int_equal(net_asset_next(&b.x, now), UINT64_MAX);
	/* a clean sender later (a new connection): it arrives */
	a.x.test_corrupt = false;
	offer(&a, src);
	run(&a, &b, &now);
	assert_true(fa_find(&b, src->hash)->complete);
	side_fini(&a);
	side_fini(&b);
}

static void gets_past_the_limit_are_busy_and_retried(void **state)
{
	struct side a, b;
	uint64_t now = 1;
	side_init(&a);
	side_init(&b);
	struct fake_asset *src[NET_ASSET_MAX_SENDS + 1];
	for (unsigned i = 0; i <= NET_ASSET_MAX_SENDS; i++)
		src[i] = have_asset(&a, 100000, 11 + i);
	/* raw GETs from b for all of them at once */
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_GET };
	for (unsigned i = 0; i <= NET_ASSET_MAX_SENDS; i++) {
		memcpy(m.u.aget.hash, src[i]->hash, 32);
		assert_int_equal(net_asset_on_msg(&a.x, &m, now), 0);
	}
	assert_int_equal(a.x.st.busy_refusals, 1);
	assert_int_equal(a.x.n_sends, NET_ASSET_MAX_SENDS);
	th_wbuf_reset(&a.out);
	side_fini(&a);

	/* the fetcher side: BUSY puts the want back for later */
	side_init(&a);
	struct fake_asset *one = have_asset(&a, 100000, 3);
	offer(&a, one);
	assert_int_equal(deliver(&a, &b, now), 0);
	net_asset_pump(&b.x, now); /* GET */
	th_wbuf_reset(&b.out);
	struct proto_sess_msg e = { .type = PROTO_SESS_T_ASSET_ERROR };
	memcpy(e.u.aerr.hash, one->hash, 32);
	e.u.aerr.code = PROTO_SESS_ASSET_E_BUSY;
	assert_int_equal(net_asset_on_msg(&b.x, &e, now), 0);
	assert_int_equal(net_asset_next(&b.x, now), now + NET_ASSET_RETRY_NS);
	now += NET_ASSET_RETRY_NS;
	run(&a, &b, &now);
	assert_true(fa_find(&b, one->hash)->complete);
	assert_int_equal(b.x.st.failures, 0);
	side_fini(&a);
	side_fini(&b);
}

static void gaps_are_protocol_errors_and_strays_are_ignored(void **state)
{
	struct side a, b;
	uint64_t now = 1;
	side_init(&a);
	side_init(&b);
	struct fake_asset *src = have_asset(&a, 300000, 13);
	uint8_t d[100] = { 0 };
	struct proto_sess_msg c = { .type = PROTO_SESS_T_ASSET_CHUNK };
	memcpy(c.u.achunk.hash, src->hash, 32);
	c.u.achunk.len = sizeof(d);
	c.u.achunk.data = d;
	/* nobody asked for it */
	assert_int_equal(net_asset_on_msg(&b.x, &c, now), 0);
	assert_int_equal(b.x.st.ignored, 1);
	assert_int_equal(b.n, 0);
	/* now b fetches it; a chunk that skips bytes breaks the protocol */
	offer(&a, src);
	assert_int_equal(deliver(&a, &b, now), 0);
	net_asset_pump(&b.x, now);
	c.u.achunk.offset = 1000;
	assert_int_equal(net_asset_on_msg(&b.x, &c, now), -EPROTO);
	/* a DONE of another size too */
	struct proto_sess_msg dn = { .type = PROTO_SESS_T_ASSET_DONE };
	memcpy(dn.u.adone.hash, src->hash, 32);
	dn.u.adone.size = 5;
	assert_int_equal(net_asset_on_msg(&b.x, &dn, now), -EPROTO);
	/* a repeat of bytes already there is skipped */
	c.u.achunk.offset = 0;
	c.u.achunk.data = src->data;
	assert_int_equal(net_asset_on_msg(&b.x, &c, now), 0);
	assert_int_equal(net_asset_on_msg(&b.x, &c, now), 0);
	assert_int_equal(fa_find(&b, src->hash)->have, 100);
	assert_int_equal(b.written, 100);
	side_fini(&a);
	side_fini(&b);
}

static void a_stall_fails_the_try_and_cancels(void **state)
{
	struct side a, b;
	uint64_t now = 1;
	side_init(&a);
	side_init(&b);
	struct fake_asset *src = have_asset(&a, 300000, 17);
	offer(&a, src);
	assert_int_equal(deliver(&a, &b, now), 0);
	net_asset_pump(&b.x, now); /* GET, which is never answered */
	th_wbuf_reset(&b.out);
	assert_int_equal(net_asset_next(&b.x, now), now + NET_ASSET_STALL_NS);
	now += NET_ASSET_STALL_NS;
	net_asset_pump(&b.x, now);
	assert_int_equal(b.x.st.failures, 1);
	assert_int_equal(b.last_err, -ETIMEDOUT);
	/* it sent CANCEL, and asks again after the retry delay */
	struct proto_sess_msg m;
	assert_true(b.out.len > 4);
	assert_int_equal(proto_sess_decode(b.out.data + 4, th_get_le32(b.out.data), &m), 0);
	assert_int_equal(m.type, PROTO_SESS_T_ASSET_ERROR);
	assert_int_equal(m.u.aerr.code, PROTO_SESS_ASSET_E_CANCEL);
	th_wbuf_reset(&b.out);
	now += NET_ASSET_RETRY_NS;
	run(&a, &b, &now);
	assert_true(fa_find(&b, src->hash)->complete);
	side_fini(&a);
	side_fini(&b);
}

static void offers_are_ignored_where_fetching_is_not_allowed(void **state)
{
	struct side a, b;
	uint64_t now = 1;
	side_init(&a);
	side_init(&b);
	b.x.may_fetch = false;
	struct fake_asset *src = have_asset(&a, 1000, 19);
	offer(&a, src);
	run(&a, &b, &now);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.x.st.ignored, 1);
	/* and GETs where serving is not */
	a.x.may_serve = false;
	struct proto_sess_msg g = { .type = PROTO_SESS_T_ASSET_GET };
	memcpy(g.u.aget.hash, src->hash, 32);
	assert_int_equal(net_asset_on_msg(&a.x, &g, now), 0);
	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(a.out.data + 4, th_get_le32(a.out.data), &m), 0);
	assert_int_equal(m.type, PROTO_SESS_T_ASSET_ERROR);
	assert_int_equal(m.u.aerr.code, PROTO_SESS_ASSET_E_REFUSED);
	side_fini(&a);
	side_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_offer_is_fetched_in_bounded_chunks),
		cmocka_unit_test(a_partial_asset_resumes_from_its_length),
		cmocka_unit_test(corrupted_bytes_are_retried_then_given_up),
		cmocka_unit_test(gets_past_the_limit_are_busy_and_retried),
		cmocka_unit_test(gaps_are_protocol_errors_and_strays_are_ignored),
		cmocka_unit_test(a_stall_fails_the_try_and_cancels),
		cmocka_unit_test(offers_are_ignored_where_fetching_is_not_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
