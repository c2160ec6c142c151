/* SCTP for WebRTC data channels over usrsctp's AF_CONN transport, without
 * its threads (docs/web.md "SCTP").
 *
 * usrsctp calls back into us from inside its own calls (usrsctp_conninput,
 * usrsctp_sendv, usrsctp_handle_timers, usrsctp_close, usrsctp_connect):
 * the output trampoline for each packet, the receive callback for data and
 * notifications, the send callback after each SACK. Only output reaches
 * the owner from in there; everything else is recorded on the association
 * and handed to the owner once usrsctp has returned (flush_pending), so
 * an owner's callback may send, shut down or destroy without usrsctp's
 * locks held or its state half updated.
 *
 * Lifetime: usrsctp knows an association only by an id (its AF_CONN
 * address and the socket's ulp_info), never by our pointer. The id names
 * a slot of the live table plus a generation, so a callback usrsctp still
 * makes for an association we destroyed (a timer of a dying association)
 * finds nothing and is dropped. */
#include "web/web_sctp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <usrsctp.h>

#include "web/web_dcep.h"

/* Associations alive at once (slots of the live table). */
#define WEB_SCTP_MAX_ASSOCS 4096u
#define WEB_SCTP_SLOT_BITS 12u
#define WEB_SCTP_FIRST_SLOTS 16u
/* Receive buffer: the window the browser may fill (above the largest message). */
#define WEB_SCTP_RCVBUF (1u << 20)
/* usrsctp refuses a send past this many chunks queued, whatever the bytes:
 * high enough that WEB_SCTP_SNDBUF is the limit for messages of a few
 * hundred bytes. */
#define WEB_SCTP_MAX_CHUNKS 8192u
/* on_writable once 1/WEB_SCTP_WRITABLE_DIV of the send buffer is free again. */
#define WEB_SCTP_WRITABLE_DIV 2u
/* Retransmission timeout (ms): usrsctp's defaults (3 s initial, 1 s min)
 * are for the open Internet; a browser's data channel wants less. */
#define WEB_SCTP_RTO_INITIAL_MS 1000u
#define WEB_SCTP_RTO_MIN_MS 200u
#define WEB_SCTP_RTO_MAX_MS 10000u
/* A partial message's buffer starts at this size and doubles. */
#define WEB_SCTP_REASM_FIRST 4096u
/* Bytes of unfinished messages held for one association, all streams
 * together. usrsctp starts a partial delivery on every stream whose
 * message passed its partial delivery point (a fraction of the receive
 * buffer) and frees its own copy, so without this a page could leave a
 * nearly whole message on each of the WEB_SCTP_STREAMS streams (16 MiB).
 * A browser's fragments of one message are consecutive TSNs: only
 * messages stalled behind losses overlap. */
#define WEB_SCTP_REASM_MAX WEB_SCTP_RCVBUF
#define WEB_SCTP_WHY_MAX 160u
/* An SCTP packet's common header: ports, verification tag, checksum. */
#define WEB_SCTP_COMMON_HEADER 12u

/* A message (or a stream reset) waiting for the owner. */
struct web_sctp_ev {
	struct web_sctp_ev *next;
	bool reset; /* streams[0..nstreams) reset by the peer; else a message */
	uint16_t stream;
	uint32_t ppid;
	uint8_t *data; /* malloc'd, ours */
	size_t len;
	uint16_t nstreams;
	uint16_t streams[];
};

struct web_sctp_rx {
	uint8_t *buf;
	size_t len, cap;
	uint32_t ppid;
};

struct web_sctp {
	uintptr_t id;
	struct socket *sock;
	struct web_sctp_ops ops;
	void *user;
	uint16_t local_port, remote_port;
	size_t mtu;
	enum web_sctp_state state;
	bool closing;      /* inside web_sctp_destroy: usrsctp's callbacks drop everything */
	bool dead;         /* destroyed during a flush: freed when the flush ends */
	bool shutdown_sent;
	bool peer_shutdown;
	bool want_writable; /* a send said -EAGAIN */
	/* Recorded inside usrsctp, handed out by flush_pending: */
	bool ev_open, ev_writable, ev_abort;
	const char *ev_close; /* why, once: closes the association */
	struct web_sctp_ev *ev_head, *ev_tail;
	bool on_pending;
	struct web_sctp *pending_next, *grave_next;
	size_t sndbuf;
	size_t buffered;
	struct web_sctp_rx rx[WEB_SCTP_STREAMS];
	size_t rx_total; /* sum of rx[].len (bounded by WEB_SCTP_REASM_MAX) */
	/* Our outgoing stream was reset and nothing sent on it since: an
	 * incoming reset then closes the pair, it is not answered again (two
	 * web_sctp back to back would otherwise answer each other forever). */
	bool out_reset[WEB_SCTP_STREAMS];
	struct web_sctp_stats stats;
	char why[WEB_SCTP_WHY_MAX];
};

static struct {
	bool inited;
	struct web_sctp **slots;
	uint32_t nslots;
	uint64_t generation;
	struct web_sctp *pending; /* associations with something recorded */
	struct web_sctp *grave;   /* destroyed during a flush */
	bool flushing;
	bool have_time;
	uint64_t last_ns;
} g;

static struct web_sctp *lookup(const void *id)
{
	uintptr_t v = (uintptr_t)id;
	uint32_t slot = (uint32_t)(v & ((1u << WEB_SCTP_SLOT_BITS) - 1));
	if (slot >= g.nslots || !g.slots[slot] || g.slots[slot]->id != v)
		return NULL;
	return g.slots[slot];
}

static int slot_take(struct web_sctp *s)
{
	uint32_t slot = 0;
	while (slot < g.nslots && g.slots[slot])
		slot++;
	if (slot == g.nslots) {
		if (g.nslots >= WEB_SCTP_MAX_ASSOCS)
			return -ENOSPC;
		uint32_t n = g.nslots ? g.nslots * 2 : WEB_SCTP_FIRST_SLOTS;
		if (n > WEB_SCTP_MAX_ASSOCS)
			n = WEB_SCTP_MAX_ASSOCS;
		struct web_sctp **ns = realloc(g.slots, n * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		memset(ns + g.nslots, 0, (n - g.nslots) * sizeof(*ns));
		g.slots = ns;
		g.nslots = n;
	}
	g.generation++;
	s->id = (uintptr_t)((g.generation << WEB_SCTP_SLOT_BITS) | slot);
	g.slots[slot] = s;
	return 0;
}

static void slot_release(struct web_sctp *s)
{
	uint32_t slot = (uint32_t)(s->id & ((1u << WEB_SCTP_SLOT_BITS) - 1));
	if (slot < g.nslots && g.slots[slot] == s)
		g.slots[slot] = NULL;
}

static void mark_pending(struct web_sctp *s)
{
	if (s->on_pending)
		return;
	s->on_pending = true;
	s->pending_next = g.pending;
	g.pending = s;
}

static void unmark_pending(struct web_sctp *s)
{
	if (!s->on_pending)
		return;
	for (struct web_sctp **pp = &g.pending; *pp; pp = &(*pp)->pending_next)
		if (*pp == s) {
			*pp = s->pending_next;
			break;
		}
	s->on_pending = false;
	s->pending_next = NULL;
}

/* Closes the association once (the first reason wins); abort: send ABORT. */
static void record_close(struct web_sctp *s, const char *why, bool abort)
{
	if (s->ev_close || s->state == WEB_SCTP_CLOSED)
		return;
	s->ev_close = why;
	s->ev_abort = abort;
	mark_pending(s);
}

static void record_fail(struct web_sctp *s, const char *fmt, unsigned a, unsigned b)
{
	if (s->ev_close || s->state == WEB_SCTP_CLOSED)
		return;
	snprintf(s->why, sizeof(s->why), fmt, a, b);
	record_close(s, s->why, true);
}

static void push_event(struct web_sctp *s, struct web_sctp_ev *ev)
{
	ev->next = NULL;
	if (s->ev_tail)
		s->ev_tail->next = ev;
	else
		s->ev_head = ev;
	s->ev_tail = ev;
	mark_pending(s);
}

static void free_events(struct web_sctp *s)
{
	struct web_sctp_ev *ev = s->ev_head;
	while (ev) {
		struct web_sctp_ev *n = ev->next;
		free(ev->data);
		free(ev);
		ev = n;
	}
	s->ev_head = s->ev_tail = NULL;
}

static void rx_reset(struct web_sctp *s, uint16_t stream)
{
	struct web_sctp_rx *rx = &s->rx[stream];
	s->rx_total -= rx->len;
	free(rx->buf);
	memset(rx, 0, sizeof(*rx));
}

/* usrsctp's output: one packet for the association named by addr. */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
	(void)tos;
	(void)set_df;
	struct web_sctp *s = lookup(addr);
	if (!s || s->dead)
		return 0;
	s->stats.packets_out++;
	if (s->ops.output)
		(void)s->ops.output(s->user, buf, len);
	return 0;
}

/* A message is whole: queued for on_message (data is taken). */
static void deliver(struct web_sctp *s, uint16_t stream, uint32_t ppid, uint8_t *data, size_t len)
{
	struct web_sctp_ev *ev = malloc(sizeof(*ev));
	if (!ev) {
		free(data);
		record_close(s, "out of memory for a received message", true);
		return;
	}
	memset(ev, 0, sizeof(*ev));
	/* RFC 8831 6.6: an empty message travels as one byte with its own PPID. */
	if (ppid == WEB_PPID_STRING_EMPTY || ppid == WEB_PPID_BINARY_EMPTY)
		len = 0;
	ev->stream = stream;
	ev->ppid = ppid;
	ev->data = data;
	ev->len = len;
	push_event(s, ev);
}

static void on_data(struct web_sctp *s, uint8_t *data, size_t len, const struct sctp_rcvinfo *rcv, int flags)
{
	uint16_t stream = rcv->rcv_sid;
	uint32_t ppid = ntohl(rcv->rcv_ppid);
	if (s->ev_close || s->state == WEB_SCTP_CLOSED) {
		free(data);
		return;
	}
	if (stream >= WEB_SCTP_STREAMS) {
		free(data);
		record_fail(s, "data arrived on stream %u, past the %u streams negotiated", stream, WEB_SCTP_STREAMS);
		return;
	}
	struct web_sctp_rx *rx = &s->rx[stream];
	if (rx->len == 0 && !rx->buf && (flags & MSG_EOR)) {
		if (len > WEB_SCTP_MAX_MESSAGE) {
			free(data);
			record_fail(s, "a message on stream %u is larger than the %u bytes allowed", stream,
				    WEB_SCTP_MAX_MESSAGE);
			return;
		}
		s->stats.msgs_in++;
		s->stats.bytes_in += len;
		deliver(s, stream, ppid, data, len);
		return;
	}
	/* Partial delivery: the message so far, then the rest. */
	if (len > WEB_SCTP_MAX_MESSAGE - rx->len) {
		free(data);
		rx_reset(s, stream);
		record_fail(s, "a message on stream %u is larger than the %u bytes allowed", stream, WEB_SCTP_MAX_MESSAGE);
		return;
	}
	if (len > WEB_SCTP_REASM_MAX - s->rx_total) {
		free(data);
		rx_reset(s, stream);
		record_fail(s, "the browser left more than %u bytes of unfinished messages on its streams (the last on stream %u)",
			    WEB_SCTP_REASM_MAX, stream);
		return;
	}
	if (rx->len == 0)
		rx->ppid = ppid;
	if (rx->len + len > rx->cap) {
		size_t cap = rx->cap ? rx->cap : WEB_SCTP_REASM_FIRST;
		while (cap < rx->len + len)
			cap *= 2;
		if (cap > WEB_SCTP_MAX_MESSAGE)
			cap = WEB_SCTP_MAX_MESSAGE;
		uint8_t *nb = realloc(rx->buf, cap);
		if (!nb) {
			free(data);
			rx_reset(s, stream);
			record_close(s, "out of memory for a received message", true);
			return;
		}
		rx->buf = nb;
		rx->cap = cap;
	}
	if (len)
		memcpy(rx->buf + rx->len, data, len);
	rx->len += len;
	s->rx_total += len;
	free(data);
	if (!(flags & MSG_EOR))
		return;
	s->stats.msgs_in++;
	s->stats.bytes_in += rx->len;
	uint8_t *whole = rx->buf;
	size_t wlen = rx->len;
	uint32_t wppid = rx->ppid;
	s->rx_total -= wlen;
	memset(rx, 0, sizeof(*rx));
	deliver(s, stream, wppid, whole, wlen);
}

static void on_assoc_change(struct web_sctp *s, const struct sctp_assoc_change *sac)
{
	switch (sac->sac_state) {
	case SCTP_COMM_UP:
		if (s->state == WEB_SCTP_CONNECTING && !s->ev_close) {
			s->ev_open = true;
			mark_pending(s);
		}
		break;
	case SCTP_COMM_LOST:
		record_close(s, "the association was lost: the browser aborted it or stopped acknowledging", false);
		break;
	case SCTP_SHUTDOWN_COMP:
		record_close(s,
			     s->shutdown_sent ? "the association was shut down"
					      : "the browser shut the association down",
			     false);
		break;
	case SCTP_CANT_STR_ASSOC:
		record_close(s, "the association could not be set up", false);
		break;
	case SCTP_RESTART:
		record_close(s, "the browser restarted the association (its messages so far are lost)", true);
		break;
	default:
		break;
	}
}

static void on_stream_reset(struct web_sctp *s, const struct sctp_stream_reset_event *e, size_t len)
{
	if (!(e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) ||
	    (e->strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)))
		return;
	size_t n = (len - sizeof(*e)) / sizeof(uint16_t);
	bool all = n == 0;
	if (all)
		n = WEB_SCTP_STREAMS;
	if (n > WEB_SCTP_STREAMS)
		n = WEB_SCTP_STREAMS;
	struct web_sctp_ev *ev = malloc(sizeof(*ev) + n * sizeof(uint16_t));
	if (!ev) {
		record_close(s, "out of memory for a stream reset", true);
		return;
	}
	memset(ev, 0, sizeof(*ev));
	ev->reset = true;
	uint16_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint16_t sid = all ? (uint16_t)i : e->strreset_stream_list[i];
		if (sid < WEB_SCTP_STREAMS)
			ev->streams[k++] = sid;
	}
	ev->nstreams = k;
	push_event(s, ev);
}

static void on_notification(struct web_sctp *s, const uint8_t *data, size_t len)
{
	const union sctp_notification *n = (const void *)data;
	if (len < sizeof(n->sn_header) || n->sn_header.sn_length > len)
		return;
	size_t nlen = n->sn_header.sn_length;
	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE:
		if (nlen >= sizeof(n->sn_assoc_change))
			on_assoc_change(s, &n->sn_assoc_change);
		break;
	case SCTP_SHUTDOWN_EVENT:
		s->peer_shutdown = true;
		break;
	case SCTP_SENDER_DRY_EVENT:
		s->buffered = 0;
		if (s->want_writable) {
			s->ev_writable = true;
			mark_pending(s);
		}
		break;
	case SCTP_STREAM_RESET_EVENT:
		if (nlen >= sizeof(n->sn_strreset_event))
			on_stream_reset(s, &n->sn_strreset_event, nlen);
		break;
	case SCTP_PARTIAL_DELIVERY_EVENT:
		if (nlen >= sizeof(n->sn_pdapi_event) && n->sn_pdapi_event.pdapi_stream < WEB_SCTP_STREAMS)
			rx_reset(s, n->sn_pdapi_event.pdapi_stream);
		break;
	default:
		break;
	}
}

/* usrsctp's receive callback: data (ours to free) or a notification;
 * data NULL: the association is gone. */
static int conn_receive(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
			struct sctp_rcvinfo rcv, int flags, void *ulp)
{
	(void)sock;
	(void)addr;
	struct web_sctp *s = lookup(ulp);
	if (!s || s->closing || s->dead) {
		free(data);
		return 1;
	}
	if (!data) {
		record_close(s, "the association was closed", false);
		return 1;
	}
	if (flags & MSG_NOTIFICATION) {
		on_notification(s, data, len);
		free(data);
		return 1;
	}
	on_data(s, data, len, &rcv, flags);
	return 1;
}

/* usrsctp's send callback, after each SACK (threshold 0): sb_free is the
 * send buffer's free room. */
static int conn_send_space(struct socket *sock, uint32_t sb_free, void *ulp)
{
	(void)sock;
	struct web_sctp *s = lookup(ulp);
	if (!s || s->closing || s->dead)
		return 0;
	s->buffered = sb_free < s->sndbuf ? s->sndbuf - sb_free : 0;
	if (s->want_writable && sb_free >= s->sndbuf / WEB_SCTP_WRITABLE_DIV) {
		s->ev_writable = true;
		mark_pending(s);
	}
	return 0;
}

static void abort_assoc(struct web_sctp *s)
{
	struct sctp_sndinfo si;
	memset(&si, 0, sizeof(si));
	si.snd_flags = SCTP_ABORT;
	(void)usrsctp_sendv(s->sock, NULL, 0, NULL, 0, &si, (socklen_t)sizeof(si), SCTP_SENDV_SNDINFO, 0);
}

/* Resets our outgoing side of these streams (those not reset already). */
static int reset_streams(struct web_sctp *s, const uint16_t *streams, uint16_t count)
{
	size_t sz = sizeof(struct sctp_reset_streams) + (size_t)count * sizeof(uint16_t);
	struct sctp_reset_streams *rs = calloc(1, sz);
	if (!rs)
		return -ENOMEM;
	uint16_t n = 0;
	for (uint16_t i = 0; i < count; i++)
		if (!s->out_reset[streams[i]]) {
			s->out_reset[streams[i]] = true;
			rs->srs_stream_list[n++] = streams[i];
		}
	if (n == 0) {
		free(rs);
		return -EALREADY;
	}
	sz = sizeof(struct sctp_reset_streams) + (size_t)n * sizeof(uint16_t);
	rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
	rs->srs_number_streams = n;
	/* usrsctp queues a request while another of ours is outstanding. */
	int rv = usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, rs, (socklen_t)sz) < 0 ? -errno : 0;
	free(rs);
	return rv;
}

/* Hands one association's records to its owner. false: it was destroyed. */
static bool flush_one(struct web_sctp *s)
{
	if (s->ev_open) {
		s->ev_open = false;
		if (s->state == WEB_SCTP_CONNECTING) {
			s->state = WEB_SCTP_OPEN;
			if (s->ops.on_state)
				s->ops.on_state(s->user, WEB_SCTP_OPEN, NULL);
			if (s->dead)
				return false;
		}
	}
	while (s->ev_head) {
		struct web_sctp_ev *ev = s->ev_head;
		s->ev_head = ev->next;
		if (!s->ev_head)
			s->ev_tail = NULL;
		if (s->state == WEB_SCTP_OPEN) {
			if (ev->reset) {
				for (uint16_t i = 0; i < ev->nstreams; i++)
					rx_reset(s, ev->streams[i]);
				/* RFC 8831 6.7: the browser reset its side; we reset ours. */
				(void)reset_streams(s, ev->streams, ev->nstreams);
				for (uint16_t i = 0; i < ev->nstreams && s->ops.on_stream_reset && !s->dead; i++)
					s->ops.on_stream_reset(s->user, ev->streams[i]);
			} else if (s->ops.on_message) {
				s->ops.on_message(s->user, ev->stream, ev->ppid, ev->data, ev->len);
			}
		}
		free(ev->data);
		free(ev);
		if (s->dead)
			return false;
	}
	if (s->ev_writable) {
		s->ev_writable = false;
		if (s->state == WEB_SCTP_OPEN && s->want_writable) {
			s->want_writable = false;
			if (s->ops.on_writable)
				s->ops.on_writable(s->user);
			if (s->dead)
				return false;
		}
	}
	if (s->ev_close && s->state != WEB_SCTP_CLOSED) {
		const char *why = s->ev_close;
		if (s->ev_abort)
			abort_assoc(s);
		s->state = WEB_SCTP_CLOSED;
		s->want_writable = false;
		if (s->ops.on_state)
			s->ops.on_state(s->user, WEB_SCTP_CLOSED, why);
		if (s->dead)
			return false;
	}
	return true;
}

static void free_assoc(struct web_sctp *s)
{
	free_events(s);
	for (uint16_t i = 0; i < WEB_SCTP_STREAMS; i++)
		rx_reset(s, i);
	free(s);
}

/* Runs after every call into usrsctp: what its callbacks recorded goes to
 * the owners. Nested calls (an owner sending from on_message) leave it to
 * the outermost. */
static void flush_pending(void)
{
	if (g.flushing)
		return;
	g.flushing = true;
	while (g.pending) {
		struct web_sctp *s = g.pending;
		g.pending = s->pending_next;
		s->pending_next = NULL;
		s->on_pending = false;
		(void)flush_one(s);
	}
	g.flushing = false;
	while (g.grave) {
		struct web_sctp *s = g.grave;
		g.grave = s->grave_next;
		free_assoc(s);
	}
}

int web_sctp_global_init(void)
{
	if (g.inited)
		return 0;
	g.inited = true;
	usrsctp_init_nothreads(0, conn_output, NULL);
	/* As WebRTC's stacks run it: no ECN, ASCONF or AUTH (DTLS does that
	 * job), PR-SCTP and stream reconfiguration on. */
	usrsctp_sysctl_set_sctp_ecn_enable(0);
	usrsctp_sysctl_set_sctp_asconf_enable(0);
	usrsctp_sysctl_set_sctp_auto_asconf(0);
	usrsctp_sysctl_set_sctp_auth_enable(0);
	usrsctp_sysctl_set_sctp_pr_enable(1);
	usrsctp_sysctl_set_sctp_reconfig_enable(1);
	usrsctp_sysctl_set_sctp_nr_outgoing_streams_default(WEB_SCTP_STREAMS);
	usrsctp_sysctl_set_sctp_max_chunks_on_queue(WEB_SCTP_MAX_CHUNKS);
	usrsctp_sysctl_set_sctp_rto_initial_default(WEB_SCTP_RTO_INITIAL_MS);
	usrsctp_sysctl_set_sctp_rto_min_default(WEB_SCTP_RTO_MIN_MS);
	usrsctp_sysctl_set_sctp_rto_max_default(WEB_SCTP_RTO_MAX_MS);
	usrsctp_sysctl_set_sctp_init_rto_max_default(WEB_SCTP_RTO_MAX_MS);
	return 0;
}

void web_sctp_timers(uint64_t now_ns)
{
	if (!g.inited)
		return;
	if (!g.have_time || now_ns < g.last_ns) {
		g.have_time = true;
		g.last_ns = now_ns;
		return;
	}
	uint64_t ms = (now_ns - g.last_ns) / 1000000u;
	if (ms == 0)
		return;
	g.last_ns += ms * 1000000u;
	usrsctp_handle_timers(ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
	flush_pending();
}

static int set_int(struct socket *sock, int level, int opt, int v)
{
	return usrsctp_setsockopt(sock, level, opt, &v, (socklen_t)sizeof(v)) < 0 ? -errno : 0;
}

static int configure(struct web_sctp *s)
{
	struct socket *so = s->sock;
	int rv;
	if (usrsctp_set_non_blocking(so, 1) < 0)
		return -errno;
	/* Closing aborts: web_sctp_destroy says so, and nothing lingers. */
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	if (usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &lin, (socklen_t)sizeof(lin)) < 0)
		return -errno;
	if ((rv = set_int(so, SOL_SOCKET, SO_SNDBUF, (int)WEB_SCTP_SNDBUF)) < 0 ||
	    (rv = set_int(so, SOL_SOCKET, SO_RCVBUF, (int)WEB_SCTP_RCVBUF)) < 0 ||
	    (rv = set_int(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1)) < 0 ||
	    (rv = set_int(so, IPPROTO_SCTP, SCTP_NODELAY, 1)) < 0)
		return rv;
	struct sctp_assoc_value av = { .assoc_id = SCTP_ALL_ASSOC, .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
	if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, (socklen_t)sizeof(av)) < 0)
		return -errno;
	static const uint16_t events[] = {
		SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT, SCTP_SENDER_DRY_EVENT, SCTP_STREAM_RESET_EVENT,
		SCTP_PARTIAL_DELIVERY_EVENT,
	};
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct sctp_event ev = { .se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i], .se_on = 1 };
		if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, (socklen_t)sizeof(ev)) < 0)
			return -errno;
	}
	struct sctp_initmsg im = { .sinit_num_ostreams = WEB_SCTP_STREAMS, .sinit_max_instreams = WEB_SCTP_STREAMS };
	if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &im, (socklen_t)sizeof(im)) < 0)
		return -errno;
	socklen_t sl = (socklen_t)sizeof(int);
	int sndbuf = 0;
	if (usrsctp_getsockopt(so, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) < 0 || sndbuf <= 0)
		return -EIO;
	s->sndbuf = (size_t)sndbuf;
	return 0;
}

static void conn_addr(struct sockaddr_conn *a, uintptr_t id, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sconn_family = AF_CONN;
	a->sconn_port = htons(port);
	a->sconn_addr = (void *)id;
}

/* The path MTU fixed at what DTLS carries, heartbeats off (ICE consent
 * freshness tells whether the browser is there); only takes effect once
 * the association exists (after connect). */
static int fix_path(struct web_sctp *s)
{
	struct sctp_paddrparams pp;
	memset(&pp, 0, sizeof(pp));
	struct sockaddr_conn remote;
	conn_addr(&remote, s->id, s->remote_port);
	memcpy(&pp.spp_address, &remote, sizeof(remote));
	pp.spp_flags = SPP_PMTUD_DISABLE | SPP_HB_DISABLE;
	/* usrsctp's path MTU is the room for chunks: the packet less its
	 * common header (checked by test_web_sctp: no packet past mtu). */
	pp.spp_pathmtu = (uint32_t)(s->mtu - WEB_SCTP_COMMON_HEADER);
	if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, (socklen_t)sizeof(pp)) < 0)
		return -errno;
	return 0;
}

static void teardown(struct web_sctp *s)
{
	s->closing = true;
	if (s->sock) {
		usrsctp_close(s->sock);
		s->sock = NULL;
	}
	usrsctp_deregister_address((void *)s->id);
	slot_release(s);
	unmark_pending(s);
}

int web_sctp_create(uint16_t local_port, uint16_t remote_port, size_t mtu, const struct web_sctp_ops *ops, void *user,
		    struct web_sctp **out)
{
	if (!ops || !ops->output || !out || local_port == 0 || remote_port == 0 || mtu < WEB_SCTP_MIN_MTU ||
	    mtu > WEB_SCTP_MAX_MTU)
		return -EINVAL;
	int rv = web_sctp_global_init();
	if (rv < 0)
		return rv;
	struct web_sctp *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = *ops;
	s->user = user;
	s->local_port = local_port;
	s->remote_port = remote_port;
	s->mtu = mtu;
	s->state = WEB_SCTP_CONNECTING;
	if ((rv = slot_take(s)) < 0) {
		free(s);
		return rv;
	}
	usrsctp_register_address((void *)s->id);
	s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, conn_receive, conn_send_space, 0, (void *)s->id);
	if (!s->sock) {
		rv = errno ? -errno : -ENOMEM;
		goto fail;
	}
	if ((rv = configure(s)) < 0)
		goto fail;
	struct sockaddr_conn local, remote;
	conn_addr(&local, s->id, local_port);
	conn_addr(&remote, s->id, remote_port);
	if (usrsctp_bind(s->sock, (struct sockaddr *)&local, (socklen_t)sizeof(local)) < 0) {
		rv = -errno;
		goto fail;
	}
	/* Both sides connect: INITs cross (simultaneous open, as browsers do). */
	if (usrsctp_connect(s->sock, (struct sockaddr *)&remote, (socklen_t)sizeof(remote)) < 0 &&
	    errno != EINPROGRESS) {
		rv = -errno;
		goto fail;
	}
	if ((rv = fix_path(s)) < 0)
		goto fail;
	*out = s;
	flush_pending();
	return 0;
fail:
	teardown(s);
	free_assoc(s);
	return rv;
}

void web_sctp_destroy(struct web_sctp **sp)
{
	if (!sp || !*sp)
		return;
	struct web_sctp *s = *sp;
	*sp = NULL;
	if (s->dead)
		return;
	/* The ABORT leaves through output during usrsctp_close; nothing
	 * else reaches the owner. */
	teardown(s);
	free_events(s);
	s->ev_close = NULL;
	s->dead = true;
	if (g.flushing) {
		s->grave_next = g.grave;
		g.grave = s;
	} else {
		free_assoc(s);
	}
}

void web_sctp_input(struct web_sctp *s, const uint8_t *p, size_t len)
{
	if (!s || s->dead || !p || len == 0)
		return;
	s->stats.packets_in++;
	usrsctp_conninput((void *)s->id, p, len, 0);
	flush_pending();
}

int web_sctp_send(struct web_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len, bool unordered,
		  int max_rtx)
{
	static const uint8_t empty_byte = 0;
	if (!s || s->dead)
		return -ENOTCONN;
	if (stream >= WEB_SCTP_STREAMS)
		return -EINVAL;
	if (len > WEB_SCTP_MAX_MESSAGE)
		return -EMSGSIZE;
	if (s->state != WEB_SCTP_OPEN || s->ev_close)
		return -ENOTCONN;
	if (len == 0) {
		if (ppid == WEB_PPID_STRING)
			ppid = WEB_PPID_STRING_EMPTY;
		else if (ppid == WEB_PPID_BINARY)
			ppid = WEB_PPID_BINARY_EMPTY;
		else if (ppid != WEB_PPID_STRING_EMPTY && ppid != WEB_PPID_BINARY_EMPTY)
			return -EINVAL;
		p = &empty_byte;
		len = 1;
	} else if (!p) {
		return -EINVAL;
	}
	struct sctp_sendv_spa spa;
	memset(&spa, 0, sizeof(spa));
	spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
	spa.sendv_sndinfo.snd_sid = stream;
	spa.sendv_sndinfo.snd_ppid = htonl(ppid);
	spa.sendv_sndinfo.snd_flags = SCTP_EOR | (unordered ? SCTP_UNORDERED : 0);
	if (max_rtx >= 0) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
		spa.sendv_prinfo.pr_value = (uint32_t)max_rtx;
	}
	ssize_t n = usrsctp_sendv(s->sock, p, len, NULL, 0, &spa, (socklen_t)sizeof(spa), SCTP_SENDV_SPA, 0);
	int err = n < 0 ? errno : 0;
	int rv = 0;
	if (n < 0) {
		if (err == EWOULDBLOCK || err == EAGAIN) {
			s->want_writable = true;
			rv = -EAGAIN;
		} else if (err == EMSGSIZE) {
			rv = -EMSGSIZE;
		} else if (err == EINVAL) {
			rv = -EINVAL;
		} else {
			rv = -ENOTCONN;
		}
	} else {
		s->out_reset[stream] = false;
		s->stats.msgs_out++;
		s->stats.bytes_out += (ppid == WEB_PPID_STRING_EMPTY || ppid == WEB_PPID_BINARY_EMPTY) ? 0 : len;
		s->buffered += len;
	}
	flush_pending();
	return rv;
}

int web_sctp_reset_stream(struct web_sctp *s, uint16_t stream)
{
	if (!s || s->dead || s->state != WEB_SCTP_OPEN || s->ev_close)
		return -ENOTCONN;
	if (stream >= WEB_SCTP_STREAMS)
		return -EINVAL;
	int rv = reset_streams(s, &stream, 1);
	if (rv < 0 && rv != -EALREADY)
		s->out_reset[stream] = false;
	flush_pending();
	return rv;
}

size_t web_sctp_buffered(const struct web_sctp *s)
{
	return s && !s->dead && s->state != WEB_SCTP_CLOSED ? s->buffered : 0;
}

enum web_sctp_state web_sctp_state(const struct web_sctp *s)
{
	return s ? s->state : WEB_SCTP_CLOSED;
}

void web_sctp_shutdown(struct web_sctp *s)
{
	if (!s || s->dead || s->state == WEB_SCTP_CLOSED || s->shutdown_sent)
		return;
	s->shutdown_sent = true;
	if (s->state == WEB_SCTP_CONNECTING) {
		record_close(s, "the association was shut down before it opened", true);
	} else if (usrsctp_shutdown(s->sock, SHUT_WR) < 0) {
		record_close(s, "the association was shut down", true);
	}
	flush_pending();
}

void web_sctp_get_stats(const struct web_sctp *s, struct web_sctp_stats *out)
{
	if (!out)
		return;
	if (!s) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = s->stats;
}
