#include "net/net_chan.h"

#include <errno.h>
#include <string.h>

#define NET_NS_PER_S 1000000000ull

void net_rate_init(struct net_rate *r, uint32_t per_s, uint32_t burst)
{
	*r = (struct net_rate){ 0 };
	if (!per_s)
		return;
	r->interval_ns = NET_NS_PER_S / per_s;
	if (!r->interval_ns)
		r->interval_ns = 1;
	r->tolerance_ns = (uint64_t)(burst ? burst - 1 : 0) * r->interval_ns;
}

bool net_rate_take(struct net_rate *r, uint64_t now_ns)
{
	if (!r->interval_ns)
		return true;
	uint64_t tat = r->tat_ns > now_ns ? r->tat_ns : now_ns;
	if (tat - now_ns > r->tolerance_ns)
		return false;
	r->tat_ns = tat + r->interval_ns;
	return true;
}

/* ---- the table ---------------------------------------------------------- */

static bool has_kind(const struct net_chan_def *d, uint8_t kind)
{
	for (unsigned i = 0; i < NET_CHAN_DGRAM_KINDS && d->dgram_kind[i]; i++)
		if (d->dgram_kind[i] == kind)
			return true;
	return false;
}

int net_chans_register(struct net_chans *t, const struct net_chan_def *d)
{
	if (!d || !d->name || !*d->name || !d->on_msg)
		return -EINVAL;
	if (d->type == NET_CHAN_STREAM) {
		/* The joiner opens streams in registration order: ids 0, 4, 8... */
		int64_t want = 0;
		for (unsigned i = 0; i < t->n; i++)
			if (t->def[i]->type == NET_CHAN_STREAM)
				want += 4;
		if (d->sid != want) {
			for (unsigned i = 0; i < t->n; i++)
				if (t->def[i]->type == NET_CHAN_STREAM && t->def[i]->sid == d->sid)
					return -EEXIST;
			return -EINVAL;
		}
		if (d->lim.max_msg > PROTO_SESS_MAX_FRAME)
			return -EINVAL;
	} else if (d->type == NET_CHAN_DGRAM) {
		if (!d->dgram_kind[0])
			return -EINVAL;
		for (unsigned k = 0; k < NET_CHAN_DGRAM_KINDS && d->dgram_kind[k]; k++)
			if (net_chans_by_dgram(t, d->dgram_kind[k]) >= 0)
				return -EEXIST;
	} else {
		return -EINVAL;
	}
	if (net_chans_by_name(t, d->name) >= 0)
		return -EEXIST;
	if (t->n == NET_CHAN_MAX)
		return -ENOSPC;
	t->def[t->n] = d;
	return (int)t->n++;
}

int net_chans_by_sid(const struct net_chans *t, int64_t sid)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->def[i]->type == NET_CHAN_STREAM && t->def[i]->sid == sid)
			return (int)i;
	return -ENOENT;
}

int net_chans_by_dgram(const struct net_chans *t, uint8_t kind)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->def[i]->type == NET_CHAN_DGRAM && has_kind(t->def[i], kind))
			return (int)i;
	return -ENOENT;
}

int net_chans_by_name(const struct net_chans *t, const char *name)
{
	for (unsigned i = 0; i < t->n; i++)
		if (!strcmp(t->def[i]->name, name))
			return (int)i;
	return -ENOENT;
}

/* ---- one channel of one connection -------------------------------------- */

const char *const net_chan_stat_name[NET_CHAN_NSTAT] = {
	[NET_CHAN_BYTES_IN] = "bytes_in",     [NET_CHAN_BYTES_OUT] = "bytes_out", [NET_CHAN_MSGS_IN] = "msgs_in",
	[NET_CHAN_MSGS_OUT] = "msgs_out",     [NET_CHAN_OVER_RATE] = "over_rate", [NET_CHAN_OVER_SIZE] = "over_size",
	[NET_CHAN_QUEUE_FAIL] = "queue_fail",
};

void net_chan_init(struct net_chan *ch, const struct net_chans *t, unsigned i)
{
	const struct net_chan_def *def = t->def[i];
	*ch = (struct net_chan){ .def = def, .total = t->total[i] };
	proto_sess_reasm_init(&ch->rs, def->lim.max_msg);
	th_wbuf_init(&ch->q.b, 0);
	th_wbuf_init(&ch->held.b, 0);
	net_rate_init(&ch->rate, def->lim.rate_per_s, def->lim.burst);
}

void net_chan_fini(struct net_chan *ch)
{
	proto_sess_reasm_fini(&ch->rs);
	th_wbuf_fini(&ch->q.b);
	ch->q.head = 0;
	th_wbuf_fini(&ch->held.b);
	ch->held.head = 0;
}

struct feed_ctx {
	struct net_chan *ch;
	bool police;
	void *conn;
	uint64_t now;
};

static int deliver(struct net_chan *ch, const uint8_t *p, size_t len, bool police, void *conn, uint64_t now)
{
	if (police && !net_rate_take(&ch->rate, now)) {
		net_chan_count(ch, NET_CHAN_OVER_RATE, 1);
		return 0;
	}
	net_chan_count(ch, NET_CHAN_MSGS_IN, 1);
	return ch->def->on_msg(conn, p, len, now);
}

static int on_frame(const uint8_t *p, size_t len, void *ud)
{
	struct feed_ctx *f = ud;
	return deliver(f->ch, p, len, f->police, f->conn, f->now);
}

size_t net_chan_held(const struct net_chan *ch)
{
	return ch->held.b.len - ch->held.head;
}

/* Appends to the hold, reclaiming the front gap first. */
static int hold(struct net_chan *ch, const uint8_t *p, size_t n)
{
	struct net_chan_queue *h = &ch->held;
	if (!n)
		return 0;
	if (net_chan_held(ch) + n > NET_CHAN_HOLD_MAX)
		return -ENOBUFS;
	if (h->head && h->head >= h->b.len / 2) {
		memmove(h->b.data, h->b.data + h->head, h->b.len - h->head);
		h->b.len -= h->head;
		h->head = 0;
	}
	size_t before = h->b.len;
	th_wbuf_put(&h->b, p, n);
	int r = th_wbuf_error(&h->b);
	if (r < 0) {
		h->b.len = before;
		h->b.oom = h->b.overflow = false;
	}
	return r;
}

/* Feeds bytes to the reassembler; a handler's -EAGAIN pauses the channel
 * after its message, and *used says how much was taken. */
static int feed(struct net_chan *ch, const uint8_t *data, size_t len, bool police, void *conn, uint64_t now_ns,
		size_t *used)
{
	struct feed_ctx f = { .ch = ch, .police = police, .conn = conn, .now = now_ns };
	int r = proto_sess_reasm_feed_some(&ch->rs, data, len, on_frame, &f, used);
	if (r == -EMSGSIZE)
		net_chan_count(ch, NET_CHAN_OVER_SIZE, 1);
	if (r == -EAGAIN) {
		ch->paused = true;
		r = 0;
	}
	return r;
}

int net_chan_feed_stream(struct net_chan *ch, const uint8_t *data, size_t len, bool police, void *conn,
			 uint64_t now_ns)
{
	net_chan_count(ch, NET_CHAN_BYTES_IN, len);
	if (ch->paused || net_chan_held(ch))
		return hold(ch, data, len); /* behind what is held: order */
	size_t used = 0;
	int r = feed(ch, data, len, police, conn, now_ns, &used);
	if (r == 0 && ch->paused)
		r = hold(ch, data + used, len - used);
	return r;
}

int net_chan_resume(struct net_chan *ch, size_t max, bool police, void *conn, uint64_t now_ns, size_t *taken)
{
	struct net_chan_queue *h = &ch->held;
	*taken = 0;
	ch->paused = false;
	size_t n = net_chan_held(ch);
	if (max && n > max)
		n = max;
	if (!n)
		return 0;
	/* Nothing is appended meanwhile: the hold only grows from
	 * net_chan_feed_stream, which the transport calls, never a handler. */
	size_t used = 0;
	int r = feed(ch, h->b.data + h->head, n, police, conn, now_ns, &used);
	*taken = used;
	h->head += used;
	if (h->head == h->b.len)
		h->b.len = h->head = 0;
	return r;
}

int net_chan_feed_dgram(struct net_chan *ch, const uint8_t *data, size_t len, bool police, void *conn,
			uint64_t now_ns)
{
	size_t max = ch->def->lim.max_msg ? ch->def->lim.max_msg : PROTO_SESS_DGRAM_MAX;
	net_chan_count(ch, NET_CHAN_BYTES_IN, len);
	if (len > max) {
		net_chan_count(ch, NET_CHAN_OVER_SIZE, 1);
		return 0;
	}
	return deliver(ch, data, len, police, conn, now_ns);
}

size_t net_chan_pending(const struct net_chan *ch)
{
	return ch->q.b.len - ch->q.head;
}

int net_chan_queue(struct net_chan *ch, const uint8_t *p, size_t n)
{
	struct net_chan_queue *q = &ch->q;
	uint64_t max = ch->def->lim.queue_max ? ch->def->lim.queue_max : NET_CHAN_QUEUE_DEFAULT;
	if (net_chan_pending(ch) + n > max) {
		net_chan_count(ch, NET_CHAN_QUEUE_FAIL, 1);
		return -ENOBUFS;
	}
	if (q->head && q->head >= q->b.len / 2) {
		memmove(q->b.data, q->b.data + q->head, q->b.len - q->head);
		q->b.len -= q->head;
		q->head = 0;
	}
	size_t before = q->b.len;
	th_wbuf_put(&q->b, p, n);
	int r = th_wbuf_error(&q->b);
	if (r < 0) {
		/* Undo and clear the latch: this message failed, not the queue. */
		q->b.len = before;
		q->b.oom = q->b.overflow = false;
		net_chan_count(ch, NET_CHAN_QUEUE_FAIL, 1);
		return r;
	}
	net_chan_count(ch, NET_CHAN_MSGS_OUT, 1);
	return 0;
}

const uint8_t *net_chan_peek(const struct net_chan *ch, size_t *len)
{
	*len = net_chan_pending(ch);
	return *len ? ch->q.b.data + ch->q.head : NULL;
}

void net_chan_consume(struct net_chan *ch, size_t n)
{
	struct net_chan_queue *q = &ch->q;
	if (n > q->b.len - q->head)
		n = q->b.len - q->head;
	q->head += n;
	net_chan_count(ch, NET_CHAN_BYTES_OUT, n);
	if (q->head == q->b.len)
		q->b.len = q->head = 0;
}
