/* libFuzzer: web_dtls, the DTLS server a browser talks to. The first
 * byte picks a scene:
 *   0: datagrams straight into a fresh server;
 *   1: a real handshake (tests/lib/th_dtlsmem's GnuTLS client) in which the
 *      input chooses, for each client datagram, to pass it, drop it, flip a
 *      byte of it or put a forged one beside it;
 *   2: after a completed handshake, a script of forged datagrams, real
 *      records (whole or with a byte flipped), sends both ways, ticks,
 *      close_notify.
 * What must hold: no crash or leak; the state only moves forward
 * (HANDSHAKE -> OPEN -> CLOSED, or FAILED); a record the client really
 * sent is handed out once and whole, a flipped or forged one never;
 * web_dtls_send refuses what exceeds the data MTU and what comes when not
 * OPEN; no datagram out is larger than WEB_DTLS_MTU. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_cert.h"
#include "th_dtlsmem.h"
#include "web/web_dtls.h"

#define FZ_STEPS 64u
#define FZ_NOW0 (1000ull * 1000 * 1000)

struct fz {
	const uint8_t *p;
	size_t n;
	struct web_dtls *d;
	struct th_dtlsmem_client cl;
	struct th_dtlsmem_queue c2s;
	unsigned opens, datas;
	uint8_t last[WEB_DTLS_RECORD_MAX];
	size_t last_len;
	uint64_t now;
};

static struct net_cert *srv_cert, *cli_cert;

static uint8_t take(struct fz *z)
{
	if (z->n == 0)
		return 0;
	z->n--;
	return *z->p++;
}

/* Up to max bytes of input as one datagram (length first). */
static size_t take_bytes(struct fz *z, uint8_t *out, size_t max)
{
	size_t len = (size_t)take(z) << 8 | take(z);
	if (len > max)
		len = max;
	if (len > z->n)
		len = z->n;
	memcpy(out, z->p, len);
	z->p += len;
	z->n -= len;
	return len;
}

static int srv_output(void *user, const uint8_t *p, size_t len)
{
	struct fz *z = user;
	if (len > WEB_DTLS_MTU)
		abort();
	(void)th_dtlsmem_push(&z->cl.in, p, len);
	return 0;
}

static void srv_on_data(void *user, const uint8_t *p, size_t len)
{
	struct fz *z = user;
	if (len > sizeof(z->last) || web_dtls_state(z->d) != WEB_DTLS_OPEN)
		abort();
	memcpy(z->last, p, len);
	z->last_len = len;
	z->datas++;
}

static void srv_on_open(void *user)
{
	struct fz *z = user;
	z->opens++;
	if (z->opens != 1)
		abort();
}

static const struct web_dtls_ops srv_ops = {
	.output = srv_output,
	.on_data = srv_on_data,
	.on_open = srv_on_open,
};

static int cli_output(void *user, const uint8_t *p, size_t len)
{
	struct fz *z = user;
	(void)th_dtlsmem_push(&z->c2s, p, len);
	return 0;
}

static void check_forward(enum web_dtls_state before, enum web_dtls_state after)
{
	if (after == before)
		return;
	if (before == WEB_DTLS_CLOSED || before == WEB_DTLS_FAILED)
		abort();
	if (before == WEB_DTLS_OPEN && after == WEB_DTLS_HANDSHAKE)
		abort();
}

static int input(struct fz *z, const uint8_t *p, size_t len)
{
	enum web_dtls_state before = web_dtls_state(z->d);
	int rv = web_dtls_input(z->d, p, len, z->now);
	enum web_dtls_state after = web_dtls_state(z->d);
	check_forward(before, after);
	if (rv < 0 && rv != -EKEYREJECTED && rv != -EPROTO && rv != -ECONNRESET && rv != -ETIMEDOUT)
		abort();
	if (rv == 0 && (after == WEB_DTLS_FAILED || after == WEB_DTLS_CLOSED) && before == after)
		abort(); /* a finished session says so */
	return rv;
}

static void check_send(struct fz *z, const uint8_t *p, size_t len)
{
	int rv = web_dtls_send(z->d, p, len);
	if (web_dtls_state(z->d) != WEB_DTLS_OPEN) {
		if (rv != -ENOTCONN)
			abort();
	} else if (len > web_dtls_data_mtu(z->d)) {
		if (rv != -EMSGSIZE)
			abort();
	} else if (rv != 0) {
		abort();
	}
}

static void deliver(struct fz *z)
{
	struct th_dtlsmem_dgram g;
	while (th_dtlsmem_pop(&z->c2s, &g))
		(void)input(z, g.b, g.len);
}

/* Runs the handshake to its end, untouched; false if it did not open. */
static bool handshake(struct fz *z)
{
	for (unsigned i = 0; i < FZ_STEPS && !z->cl.done && !z->cl.err; i++) {
		(void)th_dtlsmem_client_step(&z->cl);
		z->now += 1000000;
		deliver(z);
	}
	return z->cl.done && web_dtls_state(z->d) == WEB_DTLS_OPEN;
}

static void scene_raw(struct fz *z)
{
	static uint8_t dg[TH_DTLSMEM_DGRAM];
	for (unsigned i = 0; i < FZ_STEPS && z->n > 0; i++) {
		size_t len = take_bytes(z, dg, sizeof(dg));
		(void)input(z, dg, len);
		if (take(z) & 1)
			(void)web_dtls_tick(z->d, z->now += 1000000);
	}
	if (z->opens != 0)
		abort(); /* nobody can finish a handshake without the client's key */
}

static void scene_handshake(struct fz *z)
{
	static uint8_t dg[TH_DTLSMEM_DGRAM];
	for (unsigned i = 0; i < FZ_STEPS && !z->cl.done && !z->cl.err; i++) {
		(void)th_dtlsmem_client_step(&z->cl);
		z->now += 1000000;
		struct th_dtlsmem_dgram g;
		while (th_dtlsmem_pop(&z->c2s, &g)) {
			uint8_t op = take(z);
			switch (op & 3) {
			case 0: /* pass */
				(void)input(z, g.b, g.len);
				break;
			case 1: /* lost */
				break;
			case 2: /* one byte flipped */
				if (g.len > 0) {
					size_t at = ((size_t)take(z) << 8 | take(z)) % g.len;
					g.b[at] ^= (uint8_t)(take(z) | 1);
				}
				(void)input(z, g.b, g.len);
				break;
			default: { /* a forged one, then the real one */
				size_t len = take_bytes(z, dg, sizeof(dg));
				(void)input(z, dg, len);
				(void)input(z, g.b, g.len);
				break;
			}
			}
		}
		if (z->n == 0 && web_dtls_state(z->d) == WEB_DTLS_HANDSHAKE)
			(void)web_dtls_tick(z->d, z->now + WEB_DTLS_HANDSHAKE_TIMEOUT_NS);
	}
}

static void scene_open(struct fz *z)
{
	if (!handshake(z))
		abort(); /* an untouched handshake opens */
	static uint8_t buf[WEB_DTLS_RECORD_MAX];
	for (unsigned i = 0; i < FZ_STEPS && z->n > 0; i++) {
		uint8_t op = take(z);
		size_t len = take_bytes(z, buf, TH_DTLSMEM_MTU);
		bool open = web_dtls_state(z->d) == WEB_DTLS_OPEN;
		switch (op % 6) {
		case 0: /* forged datagram */
			(void)input(z, buf, len);
			break;
		case 1: { /* a real record, whole: handed out once, as sent, if OPEN */
			unsigned before = z->datas;
			if (len == 0 || gnutls_record_send(z->cl.s, buf, len) != (ssize_t)len)
				break;
			deliver(z);
			if (open && (z->datas != before + 1 || z->last_len != len || memcmp(z->last, buf, len) != 0))
				abort();
			if (!open && z->datas != before)
				abort();
			break;
		}
		case 2: { /* a real record with one byte flipped: never handed out */
			unsigned before = z->datas;
			if (len == 0 || gnutls_record_send(z->cl.s, buf, len) != (ssize_t)len)
				break;
			struct th_dtlsmem_dgram g;
			while (th_dtlsmem_pop(&z->c2s, &g)) {
				size_t at = ((size_t)take(z) << 8 | take(z)) % g.len;
				g.b[at] ^= (uint8_t)(take(z) | 1);
				(void)input(z, g.b, g.len);
			}
			if (z->datas != before)
				abort();
			break;
		}
		case 3: /* the server sends; the client reads what came */
			check_send(z, buf, (size_t)take(z) << 4 | (len & 0xf));
			while (th_dtlsmem_client_recv(&z->cl, buf, sizeof(buf)) > 0)
				;
			break;
		case 4:
			(void)web_dtls_tick(z->d, z->now += 1000000);
			break;
		default:
			if (op & 0x80) {
				(void)gnutls_bye(z->cl.s, GNUTLS_SHUT_WR);
				deliver(z);
			} else {
				web_dtls_close(z->d);
			}
			if (open && web_dtls_state(z->d) != WEB_DTLS_CLOSED)
				abort();
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!srv_cert && (net_cert_generate(&srv_cert) < 0 || net_cert_generate(&cli_cert) < 0))
		abort();
	static struct fz z;
	memset(&z, 0, sizeof(z));
	z.p = data;
	z.n = size;
	z.now = FZ_NOW0;
	if (web_dtls_create(srv_cert->cred, cli_cert->fp, &srv_ops, &z, z.now, &z.d) < 0 ||
	    th_dtlsmem_client_init(&z.cl, cli_cert->cred, 1000, cli_output, &z) < 0)
		abort();
	switch (take(&z) % 3) {
	case 0:
		scene_raw(&z);
		break;
	case 1:
		scene_handshake(&z);
		break;
	default:
		scene_open(&z);
		break;
	}
	struct web_dtls_stats st;
	web_dtls_get_stats(z.d, &st);
	if (st.records_in != z.datas)
		abort();
	const char *why = NULL;
	if (web_dtls_state(z.d) == WEB_DTLS_FAILED && (web_dtls_error(z.d, &why) >= 0 || !why))
		abort();
	web_dtls_destroy(&z.d);
	th_dtlsmem_client_fini(&z.cl);
	return 0;
}
