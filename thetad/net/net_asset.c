/* Asset transfers over one connection: see net_asset.h. No I/O, no clock. */
#include "net/net_asset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int net_asset_init(struct net_asset_xfer *x, const struct net_asset_ops *ops, void *ud)
{
	memset(x, 0, sizeof(*x));
	x->buf = malloc(PROTO_SESS_ASSET_CHUNK);
	if (!x->buf)
		return -ENOMEM;
	x->ops = ops;
	x->ud = ud;
	x->may_serve = true;
	return 0;
}

void net_asset_fini(struct net_asset_xfer *x)
{
	if (!x->ops)
		return;
	for (unsigned i = 0; i < x->n_wants; i++)
		if (x->wants[i].active && x->ops->release)
			x->ops->release(x->ud, x->wants[i].hash);
	free(x->wants);
	free(x->buf);
	memset(x, 0, sizeof(*x));
}

unsigned net_asset_pending(const struct net_asset_xfer *x) { return x->n_wants; }

static void event(struct net_asset_xfer *x, enum net_asset_event ev, const uint8_t *hash, int err)
{
	if (x->ops->event)
		x->ops->event(x->ud, ev, hash, err);
}

static void send_error(struct net_asset_xfer *x, const uint8_t *hash, uint16_t code)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_ERROR };
	memcpy(m.u.aerr.hash, hash, PROTO_SESS_ASSET_HASH_LEN);
	m.u.aerr.code = code;
	x->ops->send(x->ud, &m);
}

int net_asset_offer(struct net_asset_xfer *x, const struct proto_sess_asset_info *info)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_OFFER };
	m.u.offer = *info;
	return x->ops->send(x->ud, &m);
}

/* ---- fetching ----------------------------------------------------------------- */

static struct net_asset_want *want_find(struct net_asset_xfer *x, const uint8_t *hash)
{
	for (unsigned i = 0; i < x->n_wants; i++)
		if (!memcmp(x->wants[i].hash, hash, PROTO_SESS_ASSET_HASH_LEN))
			return &x->wants[i];
	return NULL;
}

static void want_remove(struct net_asset_xfer *x, struct net_asset_want *w)
{
	if (w->active && x->ops->release)
		x->ops->release(x->ud, w->hash);
	size_t i = (size_t)(w - x->wants);
	memmove(w, w + 1, (x->n_wants - i - 1) * sizeof(*w));
	x->n_wants--;
}

static void want_add(struct net_asset_xfer *x, const struct proto_sess_asset_info *info)
{
	if (want_find(x, info->hash))
		return;
	if (x->n_wants >= NET_ASSET_MAX_WANTS) {
		x->st.ignored++;
		return;
	}
	if (x->n_wants == x->cap_wants) {
		unsigned nc = x->cap_wants ? x->cap_wants * 2 : 8;
		struct net_asset_want *b = realloc(x->wants, nc * sizeof(*b));
		if (!b)
			return; /* offered again on the next connection */
		x->wants = b;
		x->cap_wants = nc;
	}
	struct net_asset_want *w = &x->wants[x->n_wants++];
	memset(w, 0, sizeof(*w));
	memcpy(w->hash, info->hash, PROTO_SESS_ASSET_HASH_LEN);
	w->size = info->size;
}

/* One try failed: try again later, or give up on this connection. */
static void want_failed(struct net_asset_xfer *x, struct net_asset_want *w, int err, uint64_t now)
{
	x->st.failures++;
	event(x, NET_ASSET_EV_FAILED, w->hash, err);
	if (w->active && x->ops->release)
		x->ops->release(x->ud, w->hash);
	w->active = false;
	if (++w->attempts >= NET_ASSET_MAX_ATTEMPTS) {
		event(x, NET_ASSET_EV_GAVE_UP, w->hash, err);
		w->active = false;
		want_remove(x, w);
		return;
	}
	w->retry_at = now + NET_ASSET_RETRY_NS;
}

/* All bytes are in (DONE, or found complete in the .part). */
static void want_finish(struct net_asset_xfer *x, struct net_asset_want *w, uint64_t now)
{
	int r = x->ops->complete(x->ud, w->hash);
	if (r == 0 || r == -EALREADY) {
		uint8_t hash[PROTO_SESS_ASSET_HASH_LEN];
		memcpy(hash, w->hash, sizeof(hash));
		w->active = false; /* complete() closed the file */
		want_remove(x, w);
		x->st.completed++;
		event(x, NET_ASSET_EV_COMPLETED, hash, 0);
		return;
	}
	if (r == -EBADMSG)
		send_error(x, w->hash, PROTO_SESS_ASSET_E_CORRUPT);
	want_failed(x, w, r, now);
}

static void want_start(struct net_asset_xfer *x, struct net_asset_want *w, uint64_t now)
{
	struct net_asset_local l;
	if (x->ops->lookup(x->ud, w->hash, &l) < 0 || l.size != w->size) {
		want_remove(x, w);
		return;
	}
	if (l.complete) {
		want_remove(x, w);
		return;
	}
	w->active = true;
	w->next = l.have;
	w->last_rx_ns = now;
	if (l.have == l.size) {
		/* Every byte arrived before a restart; only the check is left. */
		want_finish(x, w, now);
		return;
	}
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_GET };
	memcpy(m.u.aget.hash, w->hash, PROTO_SESS_ASSET_HASH_LEN);
	m.u.aget.offset = l.have;
	if (l.have) {
		x->st.resumes++;
		event(x, NET_ASSET_EV_RESUMED, w->hash, 0);
	}
	x->ops->send(x->ud, &m);
}

static void on_offer(struct net_asset_xfer *x, const struct proto_sess_asset_info *info)
{
	if (!x->may_fetch) {
		x->st.ignored++;
		return;
	}
	int r = x->ops->accept(x->ud, info);
	if (r == 0)
		want_add(x, info);
	else if (r < 0)
		x->st.ignored++;
}

static int on_chunk(struct net_asset_xfer *x, const struct proto_sess_asset_chunk *c, uint64_t now)
{
	struct net_asset_want *w = want_find(x, c->hash);
	if (!w || !w->active) {
		/* Chunks in flight when we cancelled or gave up. */
		x->st.ignored++;
		return 0;
	}
	if (c->offset > w->next || c->offset + c->len > w->size)
		return -EPROTO; /* a gap, or past the size it offered */
	x->st.chunks_in++;
	x->st.bytes_in += c->len;
	w->last_rx_ns = now;
	if (c->offset + c->len <= w->next)
		return 0; /* a repeat */
	int64_t r = x->ops->write(x->ud, c->hash, c->offset, c->data, c->len);
	if (r == -EALREADY) {
		/* Completed meanwhile through another connection. */
		send_error(x, w->hash, PROTO_SESS_ASSET_E_CANCEL);
		w->active = false;
		want_remove(x, w);
		return 0;
	}
	if (r < 0) {
		send_error(x, w->hash, PROTO_SESS_ASSET_E_CANCEL);
		want_failed(x, w, (int)r, now);
		return 0;
	}
	w->next = (uint64_t)r;
	return 0;
}

static int on_done(struct net_asset_xfer *x, const struct proto_sess_asset_done *d, uint64_t now)
{
	struct net_asset_want *w = want_find(x, d->hash);
	if (!w || !w->active) {
		x->st.ignored++;
		return 0;
	}
	if (d->size != w->size)
		return -EPROTO;
	if (w->next != w->size) {
		/* The sender says it is done, yet bytes are missing. */
		want_failed(x, w, -EPIPE, now);
		return 0;
	}
	want_finish(x, w, now);
	return 0;
}

/* ---- serving ------------------------------------------------------------------ */

static struct net_asset_send *send_find(struct net_asset_xfer *x, const uint8_t *hash)
{
	for (unsigned i = 0; i < x->n_sends; i++)
		if (!memcmp(x->sends[i].hash, hash, PROTO_SESS_ASSET_HASH_LEN))
			return &x->sends[i];
	return NULL;
}

static void send_remove(struct net_asset_xfer *x, struct net_asset_send *s)
{
	size_t i = (size_t)(s - x->sends);
	memmove(s, s + 1, (x->n_sends - i - 1) * sizeof(*s));
	x->n_sends--;
}

static void on_get(struct net_asset_xfer *x, const struct proto_sess_asset_get *g)
{
	struct net_asset_local l;
	if (!x->may_serve) {
		send_error(x, g->hash, PROTO_SESS_ASSET_E_REFUSED);
		return;
	}
	if (x->ops->lookup(x->ud, g->hash, &l) < 0 || !l.complete) {
		send_error(x, g->hash, PROTO_SESS_ASSET_E_UNKNOWN);
		return;
	}
	if (g->offset > l.size) {
		send_error(x, g->hash, PROTO_SESS_ASSET_E_BAD_OFFSET);
		return;
	}
	struct net_asset_send *s = send_find(x, g->hash);
	if (!s) {
		if (x->n_sends >= NET_ASSET_MAX_SENDS) {
			x->st.busy_refusals++;
			send_error(x, g->hash, PROTO_SESS_ASSET_E_BUSY);
			return;
		}
		s = &x->sends[x->n_sends++];
		memcpy(s->hash, g->hash, PROTO_SESS_ASSET_HASH_LEN);
		s->first = true;
	}
	s->size = l.size;
	s->next = g->offset; /* a repeated GET restarts from its offset */
	if (g->offset)
		x->st.resumes_served++;
}

static void send_done(struct net_asset_xfer *x, struct net_asset_send *s)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_DONE };
	memcpy(m.u.adone.hash, s->hash, PROTO_SESS_ASSET_HASH_LEN);
	m.u.adone.size = s->size;
	x->ops->send(x->ud, &m);
	send_remove(x, s);
}

static void produce(struct net_asset_xfer *x)
{
	for (unsigned k = 0; k < NET_ASSET_PUMP_MAX && x->n_sends; k++) {
		struct net_asset_send *s = &x->sends[x->rr++ % x->n_sends];
		if (s->next >= s->size) {
			send_done(x, s);
			continue;
		}
		if (x->ops->writable(x->ud) < NET_ASSET_CHUNK_FRAME)
			return;
		uint64_t left = s->size - s->next;
		size_t n = left < PROTO_SESS_ASSET_CHUNK ? (size_t)left : PROTO_SESS_ASSET_CHUNK;
		ssize_t got = x->ops->read(x->ud, s->hash, s->next, x->buf, n);
		if (got != (ssize_t)n) {
			send_error(x, s->hash, PROTO_SESS_ASSET_E_IO);
			send_remove(x, s);
			continue;
		}
		if (x->test_corrupt && s->first)
			x->buf[n / 2] ^= 0x01;
		s->first = false;
		struct proto_sess_msg m = { .type = PROTO_SESS_T_ASSET_CHUNK };
		memcpy(m.u.achunk.hash, s->hash, PROTO_SESS_ASSET_HASH_LEN);
		m.u.achunk.offset = s->next;
		m.u.achunk.len = (uint32_t)n;
		m.u.achunk.data = x->buf;
		if (x->ops->send(x->ud, &m) < 0)
			return;
		s->next += n;
		x->st.chunks_out++;
		x->st.bytes_out += n;
		if (s->next >= s->size)
			send_done(x, s);
	}
}

/* ---- entry points --------------------------------------------------------------- */

int net_asset_on_msg(struct net_asset_xfer *x, const struct proto_sess_msg *m, uint64_t now_ns)
{
	switch (m->type) {
	case PROTO_SESS_T_ASSET_OFFER:
		on_offer(x, &m->u.offer);
		return 0;
	case PROTO_SESS_T_ASSET_LIST: {
		struct proto_sess_asset_list_iter it;
		struct proto_sess_asset_info a;
		proto_sess_asset_list_iter_init(&it, &m->u.alist);
		while (proto_sess_asset_list_next(&it, &a) == 1)
			on_offer(x, &a);
		return 0;
	}
	case PROTO_SESS_T_ASSET_GET:
		on_get(x, &m->u.aget);
		return 0;
	case PROTO_SESS_T_ASSET_CHUNK:
		return on_chunk(x, &m->u.achunk, now_ns);
	case PROTO_SESS_T_ASSET_DONE:
		return on_done(x, &m->u.adone, now_ns);
	case PROTO_SESS_T_ASSET_ERROR: {
		const struct proto_sess_asset_error *e = &m->u.aerr;
		struct net_asset_send *s = send_find(x, e->hash);
		if (s && (e->code == PROTO_SESS_ASSET_E_CANCEL || e->code == PROTO_SESS_ASSET_E_CORRUPT ||
			  e->code == PROTO_SESS_ASSET_E_IO))
			send_remove(x, s); /* the receiver stops this one */
		struct net_asset_want *w = want_find(x, e->hash);
		if (!w || !w->active)
			return 0;
		switch (e->code) {
		case PROTO_SESS_ASSET_E_BUSY:
			if (x->ops->release)
				x->ops->release(x->ud, w->hash);
			w->active = false;
			w->retry_at = now_ns + NET_ASSET_RETRY_NS;
			break;
		case PROTO_SESS_ASSET_E_UNKNOWN:
		case PROTO_SESS_ASSET_E_REFUSED:
			event(x, NET_ASSET_EV_GAVE_UP, w->hash, -ENOENT);
			want_remove(x, w);
			break;
		case PROTO_SESS_ASSET_E_CANCEL:
		case PROTO_SESS_ASSET_E_CORRUPT:
			break; /* meant for a send of ours */
		default:
			want_failed(x, w, -EIO, now_ns);
			break;
		}
		return 0;
	}
	default:
		return -ENOMSG;
	}
}

uint64_t net_asset_next(const struct net_asset_xfer *x, uint64_t now_ns)
{
	uint64_t t = UINT64_MAX;
	unsigned active = 0;
	for (unsigned i = 0; i < x->n_wants; i++)
		active += x->wants[i].active;
	for (unsigned i = 0; i < x->n_wants; i++) {
		const struct net_asset_want *w = &x->wants[i];
		uint64_t at = w->active ? w->last_rx_ns + NET_ASSET_STALL_NS
			      : active < NET_ASSET_MAX_FETCHES ? (w->retry_at > now_ns ? w->retry_at : now_ns)
							       : UINT64_MAX;
		if (at < t)
			t = at;
	}
	return t;
}

uint64_t net_asset_pump(struct net_asset_xfer *x, uint64_t now_ns)
{
	/* stalls */
	for (unsigned i = 0; i < x->n_wants;) {
		struct net_asset_want *w = &x->wants[i];
		if (w->active && now_ns >= w->last_rx_ns + NET_ASSET_STALL_NS) {
			unsigned before = x->n_wants;
			send_error(x, w->hash, PROTO_SESS_ASSET_E_CANCEL);
			want_failed(x, w, -ETIMEDOUT, now_ns);
			if (x->n_wants < before)
				continue;
		}
		i++;
	}
	/* new fetches, in the order they were offered */
	unsigned active = 0;
	for (unsigned i = 0; i < x->n_wants; i++)
		active += x->wants[i].active;
	for (unsigned i = 0; i < x->n_wants && active < NET_ASSET_MAX_FETCHES;) {
		struct net_asset_want *w = &x->wants[i];
		if (w->active || w->retry_at > now_ns) {
			i++;
			continue;
		}
		unsigned before = x->n_wants;
		want_start(x, w, now_ns);
		if (x->n_wants < before)
			continue; /* removed (had it, or finished from the .part) */
		if (w->active)
			active++;
		i++;
	}
	produce(x);
	return net_asset_next(x, now_ns);
}
