/* libFuzzer: SCTP packets from a browser into an open web_sctp association
 * (our glue: reassembly, notifications, stream resets, the deferred
 * callbacks; and usrsctp's own packet parser behind it).
 *
 * Each input: two associations opened back to back (as test_web_sctp
 * does), B sends one message so its TSN is known, then records
 *   u8 flags, u16 length (LE), length bytes
 * each one packet into A. flags: 1 ports set to the association's, 2 the
 * verification tag A expects, 4 keep the checksum (else a correct CRC32c),
 * 8 deliver what both sides queued, 16 A sends a message, 32 bytes 16..19
 * (the first chunk's TSN, or FORWARD-TSN's new cumulative TSN) set to B's
 * next TSN plus byte 19. A message delivered must come while OPEN and be
 * within the bounds web_sctp_ops promises; nothing follows CLOSED. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <usrsctp.h>

#include "th_time.h"
#include "web/web_dcep.h"
#include "web/web_sctp.h"

#define FZ_MTU 1200u
#define FZ_PORT 5000u
#define FZ_QUEUE 256u
#define FZ_PACKET_MAX 2048u
#define FZ_SETUP_ROUNDS 64u

struct fz_pkt {
	uint8_t p[FZ_PACKET_MAX];
	size_t len;
};

struct fz_end {
	int side;
	struct web_sctp *s;
	bool open, closed;
};

static struct fz_end ends[2];
static struct fz_pkt queue[2][FZ_QUEUE];
static size_t queued[2];
static uint32_t vtag_to_a, tsn_from_b;
static bool saw_tsn_from_b;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int fz_output(void *user, const uint8_t *p, size_t len)
{
	struct fz_end *e = user;
	if (len > FZ_MTU)
		abort(); /* web_sctp_ops: len <= the mtu given */
	if (e->side == 1 && len >= 12) {
		vtag_to_a = rd32(p + 4);
		/* B's DATA chunk (type 0) first in the packet: its TSN. */
		if (len >= 28 && p[12] == 0) {
			tsn_from_b = rd32(p + 16);
			saw_tsn_from_b = true;
		}
	}
	int to = !e->side;
	if (queued[to] < FZ_QUEUE && len <= FZ_PACKET_MAX) {
		memcpy(queue[to][queued[to]].p, p, len);
		queue[to][queued[to]++].len = len;
	}
	return 0;
}

static void fz_on_message(void *user, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len)
{
	struct fz_end *e = user;
	(void)ppid;
	if (e->closed || !e->open || stream >= WEB_SCTP_STREAMS || len > WEB_SCTP_MAX_MESSAGE || (len && !p))
		abort(); /* messages only while OPEN, within the bounds */
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < len; i++)
		sink ^= p[i]; /* ASan checks the whole message is readable */
	(void)sink;
}

static void fz_on_state(void *user, enum web_sctp_state st, const char *why)
{
	struct fz_end *e = user;
	if (e->closed)
		abort(); /* nothing after CLOSED */
	if (st == WEB_SCTP_OPEN)
		e->open = true;
	if (st == WEB_SCTP_CLOSED) {
		if (!why || !why[0])
			abort();
		e->closed = true;
	}
}

static void fz_on_writable(void *user)
{
	(void)user;
}

static const struct web_sctp_ops fz_ops = {
	.output = fz_output,
	.on_message = fz_on_message,
	.on_state = fz_on_state,
	.on_writable = fz_on_writable,
};

static void deliver(void)
{
	for (int to = 0; to < 2; to++) {
		size_t n = queued[to];
		static struct fz_pkt batch[FZ_QUEUE];
		memcpy(batch, queue[to], n * sizeof(batch[0]));
		queued[to] = 0;
		for (size_t k = 0; k < n; k++)
			web_sctp_input(ends[to].s, batch[k].p, batch[k].len);
	}
}

static bool setup(void)
{
	memset(ends, 0, sizeof(ends));
	queued[0] = queued[1] = 0;
	saw_tsn_from_b = false;
	for (int i = 0; i < 2; i++) {
		ends[i].side = i;
		if (web_sctp_create(FZ_PORT, FZ_PORT, FZ_MTU, &fz_ops, &ends[i], &ends[i].s) < 0)
			return false;
	}
	for (unsigned r = 0; r < FZ_SETUP_ROUNDS && !(ends[0].open && ends[1].open); r++)
		deliver();
	if (!ends[0].open || !ends[1].open)
		return false;
	static const uint8_t hello[] = "hello";
	if (web_sctp_send(ends[1].s, 1, WEB_PPID_STRING, hello, 5, false, -1) < 0)
		return false;
	for (unsigned r = 0; r < 4; r++)
		deliver();
	return saw_tsn_from_b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (web_sctp_global_init() < 0)
		abort();
	if (!setup())
		abort(); /* two fresh associations always open */
	size_t off = 0;
	while (off + 3 <= size) {
		uint8_t flags = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > FZ_PACKET_MAX)
			len = FZ_PACKET_MAX;
		uint8_t pkt[FZ_PACKET_MAX];
		memcpy(pkt, data + off, len);
		off += len;
		if (len >= 12) {
			if (flags & 1) {
				pkt[0] = pkt[2] = (uint8_t)(FZ_PORT >> 8);
				pkt[1] = pkt[3] = (uint8_t)FZ_PORT;
			}
			if (flags & 2)
				wr32(pkt + 4, vtag_to_a);
			if ((flags & 32) && len >= 20)
				wr32(pkt + 16, tsn_from_b + 1 + pkt[19]);
			if (!(flags & 4)) {
				memset(pkt + 8, 0, 4);
				uint32_t crc = usrsctp_crc32c(pkt, len);
				memcpy(pkt + 8, &crc, 4);
			}
		}
		web_sctp_input(ends[0].s, pkt, len);
		if (flags & 16) {
			uint8_t msg[64] = { 0 };
			(void)web_sctp_send(ends[0].s, (uint16_t)(len % WEB_SCTP_STREAMS), WEB_PPID_BINARY, msg,
					    sizeof(msg), (flags & 64) != 0, (flags & 128) ? 0 : -1);
		}
		if (flags & 8)
			deliver();
		(void)web_sctp_buffered(ends[0].s);
	}
	deliver();
	for (int i = 0; i < 2; i++)
		web_sctp_destroy(&ends[i].s);
	queued[0] = queued[1] = 0;
	/* usrsctp frees what a close left behind from its timers. */
	web_sctp_timers(th_now_ns());
	return 0;
}
