/* web_sctp: two associations in one process, wired back to back through
 * their output callbacks (the packet queue stands in for DTLS only):
 * simultaneous open, messages both ways on several streams, DCEP over
 * them, large and oversized messages, unordered no-retransmit sends with
 * loss, backpressure, graceful shutdown, destroy with packets in flight.
 * Time is real (CLOCK_MONOTONIC): usrsctp checks that a chunk has been
 * out for a retransmission timeout by its own clock before it resends it,
 * so timers driven faster than real time would never retransmit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usrsctp.h>

#include "th_time.h"
#include "web/web_dcep.h"
#include "web/web_sctp.h"

#define T_MTU 1100u
#define T_PORT 5000u
#define T_QUEUE 8192u
#define T_WAIT_NS (60 * TH_NS_PER_S) /* a wait gives up after this */
#define T_MSGS 4096u

struct t_msg {
	uint16_t stream;
	uint32_t ppid;
	size_t len;
	uint8_t *data;
};

struct t_pair;

struct t_end {
	struct t_pair *pair;
	int side;
	struct web_sctp *s;
	bool gone; /* destroyed: any callback now is a failure */
	int opens, closes;
	char why[256];
	int writables;
	int resets[WEB_SCTP_STREAMS];
	size_t max_packet;
	struct t_msg msgs[T_MSGS];
	size_t nmsgs;
	/* Optional: called from on_message (a test's own reaction). */
	void (*on_msg)(struct t_end *e, const struct t_msg *m);
	int late_callbacks;
};

struct t_pkt {
	uint8_t *p;
	size_t len;
};

struct t_pair {
	struct t_end e[2];
	struct t_pkt q[2][T_QUEUE]; /* q[i]: packets on their way to e[i] */
	size_t qn[2];
	/* Optional: true drops a packet from side `from`. */
	bool (*drop)(struct t_pair *p, int from, const uint8_t *pkt, size_t len);
	uint64_t dropped;
	/* Tap of A->B DATA chunks: the first and last TSN and the chunk type. */
	uint32_t first_tsn_ab, last_tsn_ab;
	bool saw_data_ab;
	uint8_t data_type_ab;
	uint32_t vtag_ab; /* the verification tag A's packets carry (B's) */
};

static void tick(void)
{
	web_sctp_timers(th_now_ns());
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Whether an SCTP packet carries a DATA chunk on stream. */
static bool packet_has_data_on(const uint8_t *p, size_t len, uint16_t stream)
{
	size_t off = 12;
	while (off + 4 <= len) {
		uint8_t type = p[off];
		size_t clen = rd16(p + off + 2);
		if (clen < 4 || off + clen > len)
			return false;
		if (type == 0 && clen >= 16 && rd16(p + off + 8) == stream)
			return true;
		off += (clen + 3) & ~(size_t)3;
	}
	return false;
}

static void tap_ab(struct t_pair *pr, const uint8_t *p, size_t len)
{
	if (len < 12)
		return;
	pr->vtag_ab = rd32(p + 4);
	size_t off = 12;
	while (off + 4 <= len) {
		uint8_t type = p[off];
		size_t clen = rd16(p + off + 2);
		if (clen < 4 || off + clen > len)
			return;
		if ((type == 0 || type == 64) && clen >= 8) {
			pr->last_tsn_ab = rd32(p + off + 4);
			if (!pr->saw_data_ab)
				pr->first_tsn_ab = pr->last_tsn_ab;
			pr->saw_data_ab = true;
			pr->data_type_ab = type;
		}
		off += (clen + 3) & ~(size_t)3;
	}
}

static int t_output(void *user, const uint8_t *p, size_t len)
{
	struct t_end *e = user;
	struct t_pair *pr = e->pair;
	if (e->gone) {
		e->late_callbacks++;
		return 0;
	}
	if (len > e->max_packet)
		e->max_packet = len;
	if (e->side == 0)
		tap_ab(pr, p, len);
	if (pr->drop && pr->drop(pr, e->side, p, len)) {
		pr->dropped++;
		return 0;
	}
	int to = !e->side;
	assert_true(pr->qn[to] < T_QUEUE);
	uint8_t *c = malloc(len);
	assert_non_null(c);
	memcpy(c, p, len);
	pr->q[to][pr->qn[to]++] = (struct t_pkt){ c, len };
	return 0;
}

static void t_on_message(void *user, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len)
{
	struct t_end *e = user;
	if (e->gone) {
		e->late_callbacks++;
		return;
	}
	assert_true(e->nmsgs < T_MSGS);
	struct t_msg *m = &e->msgs[e->nmsgs++];
	m->stream = stream;
	m->ppid = ppid;
	m->len = len;
	m->data = malloc(len ? len : 1);
	assert_non_null(m->data);
	if (len)
		memcpy(m->data, p, len);
	if (e->on_msg)
		e->on_msg(e, m);
}

static void t_on_state(void *user, enum web_sctp_state st, const char *why)
{
	struct t_end *e = user;
	if (e->gone) {
		e->late_callbacks++;
		return;
	}
	if (st == WEB_SCTP_OPEN)
		e->opens++;
	if (st == WEB_SCTP_CLOSED) {
		e->closes++;
		assert_non_null(why);
		snprintf(e->why, sizeof(e->why), "%s", why);
	}
}

static void t_on_writable(void *user)
{
	struct t_end *e = user;
	if (e->gone) {
		e->late_callbacks++;
		return;
	}
	e->writables++;
}

static void t_on_stream_reset(void *user, uint16_t stream)
{
	struct t_end *e = user;
	if (e->gone) {
		e->late_callbacks++;
		return;
	}
	assert_true(stream < WEB_SCTP_STREAMS);
	e->resets[stream]++;
}

static const struct web_sctp_ops t_ops = {
	.output = t_output,
	.on_message = t_on_message,
	.on_state = t_on_state,
	.on_writable = t_on_writable,
	.on_stream_reset = t_on_stream_reset,
};

static struct t_pair *pair_new(void)
{
	struct t_pair *pr = calloc(1, sizeof(*pr));
	assert_non_null(pr);
	for (int i = 0; i < 2; i++) {
		pr->e[i].pair = pr;
		pr->e[i].side = i;
	}
	assert_int_equal(web_sctp_global_init(), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(web_sctp_create(T_PORT, T_PORT, T_MTU, &t_ops, &pr->e[i], &pr->e[i].s), 0);
	return pr;
}

static void destroy_end(struct t_end *e)
{
	web_sctp_destroy(&e->s);
	assert_null(e->s);
	e->gone = true;
}

static void pair_free(struct t_pair *pr)
{
	for (int i = 0; i < 2; i++)
		if (!pr->e[i].gone)
			destroy_end(&pr->e[i]); /* its ABORT may queue to the other */
	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < pr->qn[i]; k++)
			free(pr->q[i][k].p);
		for (size_t k = 0; k < pr->e[i].nmsgs; k++)
			free(pr->e[i].msgs[k].data);
		assert_int_equal(pr->e[i].late_callbacks, 0);
	}
	free(pr);
}

/* Delivers what is queued now (not what that provokes), then runs the
 * timers; with nothing to deliver it waits a millisecond first. */
static void pump_once(struct t_pair *pr)
{
	if (pr->qn[0] == 0 && pr->qn[1] == 0)
		th_sleep_ns(TH_NS_PER_MS);
	for (int to = 0; to < 2; to++) {
		size_t n = pr->qn[to];
		struct t_pkt batch[T_QUEUE];
		memcpy(batch, pr->q[to], n * sizeof(batch[0]));
		pr->qn[to] = 0;
		for (size_t k = 0; k < n; k++) {
			if (!pr->e[to].gone)
				web_sctp_input(pr->e[to].s, batch[k].p, batch[k].len);
			free(batch[k].p);
		}
	}
	tick();
}

#define PUMP_UNTIL(pr, cond)                                                    \
	do {                                                                    \
		uint64_t end_ = th_now_ns() + T_WAIT_NS;                        \
		while (!(cond) && th_now_ns() < end_)                           \
			pump_once(pr);                                          \
		assert_true(cond);                                              \
	} while (0)

/* Pumps for ns of real time. */
static void pump_for(struct t_pair *pr, uint64_t ns)
{
	uint64_t end = th_now_ns() + ns;
	while (th_now_ns() < end)
		pump_once(pr);
}

static struct t_pair *pair_open(void)
{
	struct t_pair *pr = pair_new();
	PUMP_UNTIL(pr, pr->e[0].opens == 1 && pr->e[1].opens == 1);
	assert_int_equal(web_sctp_state(pr->e[0].s), WEB_SCTP_OPEN);
	assert_int_equal(web_sctp_state(pr->e[1].s), WEB_SCTP_OPEN);
	return pr;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static bool msg_is(const struct t_msg *m, uint16_t stream, uint32_t ppid, size_t len, uint32_t seed)
{
	if (m->stream != stream || m->ppid != ppid || m->len != len)
		return false;
	uint8_t *want = malloc(len ? len : 1);
	fill(want, len, seed);
	bool same = memcmp(want, m->data, len) == 0;
	free(want);
	return same;
}

static void send_ok(struct t_end *e, uint16_t stream, uint32_t ppid, size_t len, uint32_t seed, bool unordered,
		    int max_rtx)
{
	uint8_t *b = malloc(len ? len : 1);
	fill(b, len, seed);
	assert_int_equal(web_sctp_send(e->s, stream, ppid, b, len, unordered, max_rtx), 0);
	free(b);
}

static void both_sides_open_and_carry_messages_on_several_streams(void **state)
{
	(void)state;
	struct t_pair *pr = pair_new();
	assert_int_equal(web_sctp_state(pr->e[0].s), WEB_SCTP_CONNECTING);
	assert_int_equal(web_sctp_send(pr->e[0].s, 0, WEB_PPID_BINARY, (const uint8_t *)"x", 1, false, -1), -ENOTCONN);
	PUMP_UNTIL(pr, pr->e[0].opens == 1 && pr->e[1].opens == 1);
	/* A on even streams, B on odd ones (as the DTLS roles pick), each in order. */
	for (uint32_t i = 0; i < 30; i++) {
		send_ok(&pr->e[0], (uint16_t)(2 * (i % 3)), WEB_PPID_BINARY, 1 + i * 37, i, false, -1);
		send_ok(&pr->e[1], (uint16_t)(2 * (i % 3) + 1), WEB_PPID_STRING, 1 + i * 53, 100 + i, false, -1);
	}
	/* Empty messages travel as one byte with the *_EMPTY PPID. */
	assert_int_equal(web_sctp_send(pr->e[0].s, 2, WEB_PPID_BINARY, NULL, 0, false, -1), 0);
	assert_int_equal(web_sctp_send(pr->e[1].s, 1, WEB_PPID_STRING, NULL, 0, false, -1), 0);
	assert_int_equal(web_sctp_send(pr->e[0].s, 2, WEB_PPID_DCEP, NULL, 0, false, -1), -EINVAL);
	assert_int_equal(web_sctp_send(pr->e[0].s, WEB_SCTP_STREAMS, WEB_PPID_BINARY, (const uint8_t *)"x", 1, false,
				       -1),
			 -EINVAL);
	PUMP_UNTIL(pr, pr->e[1].nmsgs == 31 && pr->e[0].nmsgs == 31);
	/* Per stream, the order sent. */
	for (uint16_t st = 0; st < 3; st++) {
		uint32_t want = st;
		for (size_t k = 0; k < 31; k++) {
			const struct t_msg *m = &pr->e[1].msgs[k];
			if (m->stream != 2 * st || m->ppid == WEB_PPID_BINARY_EMPTY)
				continue;
			assert_true(msg_is(m, (uint16_t)(2 * st), WEB_PPID_BINARY, 1 + want * 37, want));
			want += 3;
		}
		assert_true(want >= 30);
		want = st;
		for (size_t k = 0; k < 31; k++) {
			const struct t_msg *m = &pr->e[0].msgs[k];
			if (m->stream != 2 * st + 1 || m->ppid == WEB_PPID_STRING_EMPTY)
				continue;
			assert_true(msg_is(m, (uint16_t)(2 * st + 1), WEB_PPID_STRING, 1 + want * 53, 100 + want));
			want += 3;
		}
		assert_true(want >= 30);
	}
	/* The empty ones came last on their streams, with length 0. */
	const struct t_msg *eb = &pr->e[1].msgs[30], *es = &pr->e[0].msgs[30];
	assert_int_equal(eb->ppid, WEB_PPID_BINARY_EMPTY);
	assert_int_equal(eb->len, 0);
	assert_int_equal(eb->stream, 2);
	assert_int_equal(es->ppid, WEB_PPID_STRING_EMPTY);
	assert_int_equal(es->len, 0);
	/* Every packet fit the mtu given. */
	assert_true(pr->e[0].max_packet <= T_MTU);
	assert_true(pr->e[1].max_packet <= T_MTU);
	struct web_sctp_stats st;
	web_sctp_get_stats(pr->e[0].s, &st);
	assert_int_equal(st.msgs_out, 31);
	assert_int_equal(st.msgs_in, 31);
	assert_true(st.packets_out > 0 && st.packets_in > 0);
	size_t bytes = 0;
	for (uint32_t i = 0; i < 30; i++)
		bytes += 1 + i * 37;
	assert_int_equal(st.bytes_out, bytes);
	pair_free(pr);
}

/* The browser's OPEN (web_dcep_build_open, as th_webpeer sends it). */
static size_t dcep_open(uint8_t *out, size_t cap, uint8_t type, uint32_t rel, const char *label)
{
	struct web_dcep_open o = { .channel_type = type, .reliability = rel };
	snprintf(o.label, sizeof(o.label), "%s", label);
	int n = web_dcep_build_open(&o, out, cap);
	assert_true(n > 0);
	return (size_t)n;
}

/* B answers an OPEN on its stream with an ACK, from inside on_message,
 * as web_peer does. */
static void ack_opens(struct t_end *e, const struct t_msg *m)
{
	if (m->ppid != WEB_PPID_DCEP)
		return;
	struct web_dcep_open o;
	assert_int_equal(web_dcep_parse_open(m->data, m->len, &o), 0);
	uint8_t ack[4];
	int n = web_dcep_build_ack(ack, sizeof(ack));
	assert_int_equal(n, 1);
	assert_int_equal(web_sctp_send(e->s, m->stream, WEB_PPID_DCEP, ack, (size_t)n, false, -1), 0);
}

static void dcep_open_and_ack_cross_the_association(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	pr->e[1].on_msg = ack_opens;
	uint8_t open[64];
	size_t n = dcep_open(open, sizeof(open), WEB_DCEP_RELIABLE, 0, "theta");
	assert_int_equal(web_sctp_send(pr->e[0].s, 0, WEB_PPID_DCEP, open, n, false, -1), 0);
	n = dcep_open(open, sizeof(open), WEB_DCEP_UNORDERED | WEB_DCEP_PARTIAL_RELIABLE_REXMIT, 0, "theta-pose");
	assert_int_equal(web_sctp_send(pr->e[0].s, 2, WEB_PPID_DCEP, open, n, false, -1), 0);
	/* The first message may follow the OPEN before the ACK (RFC 8832 6). */
	send_ok(&pr->e[0], 0, WEB_PPID_BINARY, 40, 7, false, -1);
	PUMP_UNTIL(pr, pr->e[0].nmsgs == 2 && pr->e[1].nmsgs == 3);
	assert_int_equal(pr->e[1].msgs[0].stream, 0);
	assert_int_equal(pr->e[1].msgs[0].ppid, WEB_PPID_DCEP);
	struct web_dcep_open got;
	assert_int_equal(web_dcep_parse_open(pr->e[1].msgs[0].data, pr->e[1].msgs[0].len, &got), 0);
	assert_string_equal(got.label, "theta");
	for (size_t k = 0; k < 2; k++) {
		assert_int_equal(pr->e[0].msgs[k].ppid, WEB_PPID_DCEP);
		assert_int_equal(pr->e[0].msgs[k].len, 1);
		assert_int_equal(pr->e[0].msgs[k].data[0], WEB_DCEP_ACK);
	}
	assert_true((pr->e[0].msgs[0].stream == 0 && pr->e[0].msgs[1].stream == 2) ||
		    (pr->e[0].msgs[0].stream == 2 && pr->e[0].msgs[1].stream == 0));
	/* On stream 0, the OPEN came before the data. */
	size_t i_open = 99, i_data = 99;
	for (size_t k = 0; k < 3; k++) {
		if (pr->e[1].msgs[k].stream == 0 && pr->e[1].msgs[k].ppid == WEB_PPID_DCEP)
			i_open = k;
		if (pr->e[1].msgs[k].ppid == WEB_PPID_BINARY)
			i_data = k;
	}
	assert_true(i_open < i_data && i_data < 3);
	assert_true(msg_is(&pr->e[1].msgs[i_data], 0, WEB_PPID_BINARY, 40, 7));
	pair_free(pr);
}

static void large_messages_up_to_the_limit_cross_a_small_mtu(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	static const size_t sizes[] = { T_MTU, 3 * T_MTU + 1, 65536, 100000, 200001, WEB_SCTP_MAX_MESSAGE };
	size_t ns = sizeof(sizes) / sizeof(sizes[0]);
	for (size_t i = 0; i < ns; i++) {
		send_ok(&pr->e[0], 0, WEB_PPID_BINARY, sizes[i], (uint32_t)i, false, -1);
		send_ok(&pr->e[1], 1, WEB_PPID_BINARY, sizes[ns - 1 - i], 50 + (uint32_t)i, false, -1);
	}
	PUMP_UNTIL(pr, pr->e[1].nmsgs == ns && pr->e[0].nmsgs == ns);
	for (size_t i = 0; i < ns; i++) {
		assert_true(msg_is(&pr->e[1].msgs[i], 0, WEB_PPID_BINARY, sizes[i], (uint32_t)i));
		assert_true(msg_is(&pr->e[0].msgs[i], 1, WEB_PPID_BINARY, sizes[ns - 1 - i], 50 + (uint32_t)i));
	}
	assert_true(pr->e[0].max_packet <= T_MTU && pr->e[1].max_packet <= T_MTU);
	/* Too large to send: refused, the association stays open. */
	uint8_t *big = calloc(1, WEB_SCTP_MAX_MESSAGE + 1);
	assert_int_equal(web_sctp_send(pr->e[0].s, 0, WEB_PPID_BINARY, big, WEB_SCTP_MAX_MESSAGE + 1, false, -1),
			 -EMSGSIZE);
	free(big);
	assert_int_equal(web_sctp_state(pr->e[0].s), WEB_SCTP_OPEN);
	pair_free(pr);
}

/* One DATA chunk (RFC 9260 3.3.1) in its own packet towards B, with the
 * verification tag A's packets carry and a correct CRC32c. */
static void inject_data(struct t_pair *pr, uint32_t tsn, uint16_t sid, uint16_t ssn, uint8_t flags, size_t len)
{
	size_t clen = 16 + len, plen = 12 + ((clen + 3) & ~(size_t)3);
	uint8_t *p = calloc(1, plen);
	assert_non_null(p);
	wr16(p, T_PORT);
	wr16(p + 2, T_PORT);
	wr32(p + 4, pr->vtag_ab);
	p[12] = 0;
	p[13] = flags;
	wr16(p + 14, (uint16_t)clen);
	wr32(p + 16, tsn);
	wr16(p + 20, sid);
	wr16(p + 22, ssn);
	wr32(p + 24, WEB_PPID_BINARY);
	memset(p + 28, 0xab, len);
	uint32_t crc = usrsctp_crc32c(p, plen);
	memcpy(p + 8, &crc, 4); /* usrsctp_crc32c's value, stored as it is on the wire */
	web_sctp_input(pr->e[1].s, p, plen);
	free(p);
}

static bool drop_from_b(struct t_pair *pr, int from, const uint8_t *p, size_t len)
{
	(void)pr;
	(void)p;
	(void)len;
	return from == 1;
}

static void oversized_message_from_the_peer_closes_with_a_reason(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	send_ok(&pr->e[0], 1, WEB_PPID_BINARY, 10, 1, false, -1);
	PUMP_UNTIL(pr, pr->e[1].nmsgs == 1);
	assert_true(pr->saw_data_ab);
	assert_int_equal(pr->data_type_ab, 0); /* DATA, not I-DATA: the chunk below is right */
	/* A message on stream 3 (SSN 0) of WEB_SCTP_MAX_MESSAGE + 1000 bytes,
	 * in fragments: B delivers it partially, then has to give up. */
	/* B's SACKs for TSNs A never sent would make A abort first. */
	pr->drop = drop_from_b;
	const size_t frag = 1000;
	size_t total = WEB_SCTP_MAX_MESSAGE + frag, nfrag = total / frag;
	uint32_t tsn = pr->last_tsn_ab + 1;
	for (size_t i = 0; i < nfrag && pr->e[1].closes == 0; i++) {
		uint8_t fl = (uint8_t)((i == 0 ? 0x02 : 0) | (i == nfrag - 1 ? 0x01 : 0));
		inject_data(pr, tsn + (uint32_t)i, 3, 0, fl, frag);
		if (i % 64 == 63)
			pump_once(pr);
	}
	PUMP_UNTIL(pr, pr->e[1].closes == 1);
	pr->drop = NULL;
	assert_non_null(strstr(pr->e[1].why, "larger than"));
	assert_int_equal(pr->e[1].nmsgs, 1); /* nothing of it was delivered */
	assert_int_equal(web_sctp_state(pr->e[1].s), WEB_SCTP_CLOSED);
	assert_int_equal(web_sctp_send(pr->e[1].s, 1, WEB_PPID_BINARY, (const uint8_t *)"x", 1, false, -1),
			 -ENOTCONN);
	/* B's ABORT closes A too. */
	PUMP_UNTIL(pr, pr->e[0].closes == 1);
	pair_free(pr);
}

/* A hostile page starts a long message on stream after stream and never
 * ends one (240 KB of fragments each, under WEB_SCTP_MAX_MESSAGE, past
 * usrsctp's partial delivery point, so each is handed over in part):
 * what B holds of them all together stays within web_sctp.c's
 * WEB_SCTP_REASM_MAX and B closes with a reason, long before the 64
 * streams (16 MB) are used. */
static void unfinished_messages_on_many_streams_are_bounded(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	send_ok(&pr->e[0], 1, WEB_PPID_BINARY, 10, 1, false, -1);
	PUMP_UNTIL(pr, pr->e[1].nmsgs == 1);
	pr->drop = drop_from_b;
	const size_t frag = 1000, per = 240;
	assert_true(frag * per < WEB_SCTP_MAX_MESSAGE);
	uint32_t tsn = pr->last_tsn_ab + 1;
	uint16_t st = 2;
	for (; st < WEB_SCTP_STREAMS && pr->e[1].closes == 0; st++) {
		for (size_t i = 0; i < per && pr->e[1].closes == 0; i++) {
			inject_data(pr, tsn++, st, 0, (uint8_t)(i == 0 ? 0x02 : 0), frag);
			if (i % 64 == 63)
				pump_once(pr);
		}
		pump_once(pr);
	}
	pr->drop = NULL;
	assert_int_equal(pr->e[1].closes, 1);
	assert_non_null(strstr(pr->e[1].why, "unfinished messages"));
	/* the close came at the bound (1 MiB: four or five of them), not at
	 * the first unfinished message, nor after all 62 */
	assert_true(st - 2 >= 3 && st - 2 <= 8);
	assert_int_equal(pr->e[1].nmsgs, 1); /* nothing of them was delivered */
	assert_int_equal(web_sctp_state(pr->e[1].s), WEB_SCTP_CLOSED);
	pair_free(pr);
}

/* The browser closes its channel on stream 4: an Outgoing SSN Reset
 * Request (RFC 6525 4.1) in a RE-CONFIG chunk, built by hand as A's (A
 * has sent one message: its TSN is A's initial TSN, which is also the
 * first request sequence number). B resets its own side in answer; A,
 * seeing that, does not answer again. Then the channel's stream carries
 * messages again from sequence number 0. */
static void peer_stream_reset_is_answered_once(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	send_ok(&pr->e[0], 4, WEB_PPID_BINARY, 10, 1, false, -1);
	send_ok(&pr->e[1], 4, WEB_PPID_BINARY, 10, 2, false, -1);
	PUMP_UNTIL(pr, pr->e[1].nmsgs == 1 && pr->e[0].nmsgs == 1);
	assert_true(pr->saw_data_ab && pr->first_tsn_ab == pr->last_tsn_ab);
	uint8_t p[12 + 4 + 20];
	memset(p, 0, sizeof(p));
	wr16(p, T_PORT);
	wr16(p + 2, T_PORT);
	wr32(p + 4, pr->vtag_ab);
	p[12] = 130; /* RE-CONFIG */
	wr16(p + 14, 4 + 18);
	wr16(p + 16, 13); /* Outgoing SSN Reset Request */
	wr16(p + 18, 18);
	wr32(p + 20, pr->first_tsn_ab);     /* request sequence number */
	wr32(p + 24, pr->first_tsn_ab - 1); /* response sequence number */
	wr32(p + 28, pr->last_tsn_ab);      /* sender's last assigned TSN */
	wr16(p + 32, 4);
	uint32_t crc = usrsctp_crc32c(p, sizeof(p));
	memcpy(p + 8, &crc, 4);
	web_sctp_input(pr->e[1].s, p, sizeof(p));
	PUMP_UNTIL(pr, pr->e[1].resets[4] >= 1 && pr->e[0].resets[4] == 1);
	pump_for(pr, TH_NS_PER_S / 4);
	assert_int_equal(pr->e[0].resets[4], 1);
	assert_true(pr->e[1].resets[4] <= 2);
	for (unsigned i = 0; i < WEB_SCTP_STREAMS; i++)
		if (i != 4)
			assert_int_equal(pr->e[0].resets[i] + pr->e[1].resets[i], 0);
	/* The stream opens again (a new channel on it) with SSN 0 both ways. */
	send_ok(&pr->e[1], 4, WEB_PPID_BINARY, 30, 3, false, -1);
	send_ok(&pr->e[0], 4, WEB_PPID_BINARY, 30, 4, false, -1);
	PUMP_UNTIL(pr, pr->e[0].nmsgs == 2 && pr->e[1].nmsgs == 2);
	assert_true(msg_is(&pr->e[0].msgs[1], 4, WEB_PPID_BINARY, 30, 3));
	assert_true(msg_is(&pr->e[1].msgs[1], 4, WEB_PPID_BINARY, 30, 4));
	assert_int_equal(web_sctp_state(pr->e[0].s), WEB_SCTP_OPEN);
	assert_int_equal(web_sctp_state(pr->e[1].s), WEB_SCTP_OPEN);
	pair_free(pr);
}

/* A channel.close() of ours: web_sctp_reset_stream; the other side
 * reports it and answers once; the stream carries messages again after. */
static void our_stream_reset_is_reported_and_answered(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	send_ok(&pr->e[0], 6, WEB_PPID_BINARY, 10, 1, false, -1);
	PUMP_UNTIL(pr, pr->e[1].nmsgs == 1);
	assert_int_equal(web_sctp_reset_stream(pr->e[0].s, WEB_SCTP_STREAMS), -EINVAL);
	assert_int_equal(web_sctp_reset_stream(pr->e[0].s, 6), 0);
	assert_int_equal(web_sctp_reset_stream(pr->e[0].s, 6), -EALREADY);
	PUMP_UNTIL(pr, pr->e[1].resets[6] == 1 && pr->e[0].resets[6] == 1);
	pump_for(pr, TH_NS_PER_S / 4);
	assert_int_equal(pr->e[0].resets[6], 1);
	assert_int_equal(pr->e[1].resets[6], 1);
	send_ok(&pr->e[0], 6, WEB_PPID_BINARY, 20, 2, false, -1);
	send_ok(&pr->e[1], 6, WEB_PPID_BINARY, 20, 3, false, -1);
	PUMP_UNTIL(pr, pr->e[1].nmsgs == 2 && pr->e[0].nmsgs == 1);
	assert_true(msg_is(&pr->e[1].msgs[1], 6, WEB_PPID_BINARY, 20, 2));
	assert_true(msg_is(&pr->e[0].msgs[0], 6, WEB_PPID_BINARY, 20, 3));
	web_sctp_shutdown(pr->e[0].s);
	PUMP_UNTIL(pr, pr->e[0].closes == 1);
	assert_int_equal(web_sctp_reset_stream(pr->e[0].s, 6), -ENOTCONN);
	pair_free(pr);
}

#define POSE_STREAM 2u
#define MAIN_STREAM 0u

static unsigned g_pose_pkts;
/* Drops two of every three A->B packets that carry a pose chunk. */
static bool drop_poses(struct t_pair *pr, int from, const uint8_t *p, size_t len)
{
	(void)pr;
	if (from != 0 || !packet_has_data_on(p, len, POSE_STREAM))
		return false;
	return g_pose_pkts++ % 3 != 0;
}

static void unordered_unreliable_losses_do_not_stall_the_reliable_stream(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	pr->drop = drop_poses;
	g_pose_pkts = 0;
	const unsigned rounds = 60;
	for (unsigned i = 0; i < rounds; i++) {
		send_ok(&pr->e[0], POSE_STREAM, WEB_PPID_BINARY, 400, 1000 + i, true, 0);
		send_ok(&pr->e[0], POSE_STREAM, WEB_PPID_BINARY, 400, 2000 + i, true, 0);
		send_ok(&pr->e[0], MAIN_STREAM, WEB_PPID_BINARY, 300, i, false, -1);
		pump_once(pr);
	}
	PUMP_UNTIL(pr, pr->e[0].nmsgs == 0 && web_sctp_buffered(pr->e[0].s) == 0);
	/* Every reliable message, in order; the poses lost stay lost. */
	unsigned main_got = 0, pose_got = 0;
	for (size_t k = 0; k < pr->e[1].nmsgs; k++) {
		const struct t_msg *m = &pr->e[1].msgs[k];
		if (m->stream == MAIN_STREAM) {
			assert_true(msg_is(m, MAIN_STREAM, WEB_PPID_BINARY, 300, main_got));
			main_got++;
		} else {
			assert_int_equal(m->stream, POSE_STREAM);
			assert_int_equal(m->len, 400);
			pose_got++;
		}
	}
	assert_int_equal(main_got, rounds);
	assert_true(pr->dropped > 0);
	assert_true(pose_got < 2 * rounds);
	assert_true(pose_got > 0);
	/* After the losses, a reliable message still goes straight through. */
	pr->drop = NULL;
	size_t before = pr->e[1].nmsgs;
	send_ok(&pr->e[0], MAIN_STREAM, WEB_PPID_BINARY, 300, rounds, false, -1);
	PUMP_UNTIL(pr, pr->e[1].nmsgs == before + 1);
	assert_true(msg_is(&pr->e[1].msgs[before], MAIN_STREAM, WEB_PPID_BINARY, 300, rounds));
	pair_free(pr);
}

static void full_send_buffer_says_eagain_then_on_writable(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	const size_t len = 60000;
	uint8_t *b = malloc(len);
	unsigned sent = 0;
	int rv;
	/* Nothing is delivered meanwhile: the buffer fills. */
	while ((rv = web_sctp_send(pr->e[0].s, 0, WEB_PPID_BINARY, (fill(b, len, sent), b), len, false, -1)) == 0)
		sent++;
	assert_int_equal(rv, -EAGAIN);
	assert_true(sent >= WEB_SCTP_SNDBUF / len / 2 && sent <= WEB_SCTP_SNDBUF / len + 1);
	assert_true(web_sctp_buffered(pr->e[0].s) >= (sent - 1) * len);
	assert_true(web_sctp_buffered(pr->e[0].s) <= WEB_SCTP_SNDBUF);
	assert_int_equal(pr->e[0].writables, 0);
	PUMP_UNTIL(pr, pr->e[0].writables == 1);
	assert_true(web_sctp_buffered(pr->e[0].s) <= WEB_SCTP_SNDBUF - WEB_SCTP_SNDBUF / 2);
	/* Room again: the message refused goes now, everything arrives in order. */
	assert_int_equal(web_sctp_send(pr->e[0].s, 0, WEB_PPID_BINARY, (fill(b, len, sent), b), len, false, -1), 0);
	sent++;
	PUMP_UNTIL(pr, pr->e[1].nmsgs == sent && web_sctp_buffered(pr->e[0].s) == 0);
	for (unsigned i = 0; i < sent; i++)
		assert_true(msg_is(&pr->e[1].msgs[i], 0, WEB_PPID_BINARY, len, i));
	assert_int_equal(pr->e[0].writables, 1); /* once per -EAGAIN */
	free(b);
	pair_free(pr);
}

static void graceful_shutdown_delivers_then_closes_both(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	for (uint32_t i = 0; i < 5; i++)
		send_ok(&pr->e[0], 0, WEB_PPID_BINARY, 5000, i, false, -1);
	web_sctp_shutdown(pr->e[0].s);
	assert_int_equal(web_sctp_send(pr->e[0].s, 0, WEB_PPID_BINARY, (const uint8_t *)"x", 1, false, -1), -ENOTCONN);
	PUMP_UNTIL(pr, pr->e[0].closes == 1 && pr->e[1].closes == 1);
	assert_int_equal(pr->e[1].nmsgs, 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_true(msg_is(&pr->e[1].msgs[i], 0, WEB_PPID_BINARY, 5000, i));
	assert_string_equal(pr->e[0].why, "the association was shut down");
	assert_string_equal(pr->e[1].why, "the browser shut the association down");
	assert_int_equal(web_sctp_state(pr->e[0].s), WEB_SCTP_CLOSED);
	assert_int_equal(web_sctp_state(pr->e[1].s), WEB_SCTP_CLOSED);
	assert_int_equal(web_sctp_send(pr->e[1].s, 1, WEB_PPID_BINARY, (const uint8_t *)"x", 1, false, -1), -ENOTCONN);
	/* Closed stays closed: more time, no more callbacks. */
	pump_for(pr, TH_NS_PER_S / 2);
	assert_int_equal(pr->e[0].closes, 1);
	assert_int_equal(pr->e[1].closes, 1);
	pair_free(pr);
}

static void destroy_with_packets_in_flight_calls_nothing_after(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	for (uint32_t i = 0; i < 4; i++) {
		send_ok(&pr->e[0], 0, WEB_PPID_BINARY, 100000, i, false, -1);
		send_ok(&pr->e[1], 1, WEB_PPID_BINARY, 100000, i, false, -1);
	}
	pump_once(pr);
	pump_once(pr);
	assert_true(pr->qn[0] > 0 || pr->qn[1] > 0);
	destroy_end(&pr->e[0]);
	web_sctp_destroy(&pr->e[0].s); /* NULL-safe */
	/* A's ABORT reaches B; what was in flight to A goes nowhere; A's
	 * timers would have fired many times over. */
	PUMP_UNTIL(pr, pr->e[1].closes == 1);
	pump_for(pr, TH_NS_PER_S);
	assert_int_equal(pr->e[0].late_callbacks, 0);
	assert_int_equal(pr->e[1].closes, 1);
	pair_free(pr);
}

/* B destroys itself from inside on_message: the rest of what that input
 * carried is not delivered, and nothing calls back afterwards. */
static void destroy_self(struct t_end *e, const struct t_msg *m)
{
	(void)m;
	destroy_end(e);
}

static void destroy_from_a_callback_stops_every_callback(void **state)
{
	(void)state;
	struct t_pair *pr = pair_open();
	pr->e[1].on_msg = destroy_self;
	/* Several messages in one packet (they are small: one input). */
	for (uint32_t i = 0; i < 8; i++)
		send_ok(&pr->e[0], 0, WEB_PPID_BINARY, 20, i, false, -1);
	PUMP_UNTIL(pr, pr->e[1].gone && pr->e[0].closes == 1);
	assert_int_equal(pr->e[1].nmsgs, 1);
	pump_for(pr, TH_NS_PER_S / 2);
	assert_int_equal(pr->e[1].late_callbacks, 0);
	pair_free(pr);
}

static void create_checks_its_arguments(void **state)
{
	(void)state;
	struct web_sctp *s = NULL;
	struct t_end e = { 0 };
	assert_int_equal(web_sctp_create(T_PORT, T_PORT, 100, &t_ops, &e, &s), -EINVAL);
	assert_int_equal(web_sctp_create(0, T_PORT, T_MTU, &t_ops, &e, &s), -EINVAL);
	struct web_sctp_ops no_out = t_ops;
	no_out.output = NULL;
	assert_int_equal(web_sctp_create(T_PORT, T_PORT, T_MTU, &no_out, &e, &s), -EINVAL);
	assert_null(s);
	assert_int_equal(web_sctp_global_init(), 0);
	assert_int_equal(web_sctp_global_init(), 0); /* idempotent */
	/* Garbage in before anything answered: dropped, no crash. */
	struct t_pair *pr = pair_new();
	uint8_t junk[64];
	fill(junk, sizeof(junk), 9);
	web_sctp_input(pr->e[0].s, junk, sizeof(junk));
	web_sctp_input(pr->e[0].s, junk, 3);
	PUMP_UNTIL(pr, pr->e[0].opens == 1 && pr->e[1].opens == 1);
	pair_free(pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_checks_its_arguments),
		cmocka_unit_test(both_sides_open_and_carry_messages_on_several_streams),
		cmocka_unit_test(dcep_open_and_ack_cross_the_association),
		cmocka_unit_test(large_messages_up_to_the_limit_cross_a_small_mtu),
		cmocka_unit_test(oversized_message_from_the_peer_closes_with_a_reason),
		cmocka_unit_test(unfinished_messages_on_many_streams_are_bounded),
		cmocka_unit_test(peer_stream_reset_is_answered_once),
		cmocka_unit_test(our_stream_reset_is_reported_and_answered),
		cmocka_unit_test(unordered_unreliable_losses_do_not_stall_the_reliable_stream),
		cmocka_unit_test(full_send_buffer_says_eagain_then_on_writable),
		cmocka_unit_test(graceful_shutdown_delivers_then_closes_both),
		cmocka_unit_test(destroy_with_packets_in_flight_calls_nothing_after),
		cmocka_unit_test(destroy_from_a_callback_stops_every_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
