/* web_dtls's costs in one process (make bench-web), each beside a bare
 * GnuTLS DTLS 1.2 server measured in the same run (tests/lib/th_dtlsmem's
 * th_dtlsmem_server_init: same certificate, client certificate required,
 * no fingerprint check, no record checks of ours). The browser stand-in
 * is th_dtlsmem's GnuTLS client; datagrams pass through memory.
 *
 * Figures:
 *   web.dtls.handshake_ms.{p50,p99} / web.dtls.handshake_bare_ms.{p50,p99}:
 *       session created -> both sides done; both ends run in this one
 *       thread, so it is the CPU time of both (certificates made before);
 *   web.dtls.recv_mb_per_s / web.dtls.recv_bare_mb_per_s: records of the
 *       data MTU from the browser, decrypted (web_dtls_input -> on_data;
 *       bare: gnutls_record_recv); the browser's encryption is not timed;
 *   web.dtls.send_mb_per_s / web.dtls.send_bare_mb_per_s: records of the
 *       data MTU to the browser (web_dtls_send; bare: gnutls_record_send);
 *       the browser's decryption is not timed;
 *   web.dtls.data_mtu: bytes one record carries (the SCTP packet size).
 * Handshakes alternate between the two servers, and so do record batches
 * (both sessions open at once), so both see the same machine load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include "net/net_cert.h"
#include "th_bench.h"
#include "th_dtlsmem.h"
#include "th_time.h"
#include "web/web_dtls.h"

#define BENCH_HANDSHAKES 60u
#define BENCH_RECORDS    100000u
#define BENCH_BATCH      (TH_DTLSMEM_QUEUE / 2) /* records per untimed refill */
#define BENCH_STEPS      64u
#define BENCH_RETRANS_MS 30000u /* no retransmission in a lossless run */

struct bench {
	struct web_dtls *d;          /* or, bare: */
	struct th_dtlsmem_client srv; /* the baseline server */
	bool bare;
	struct th_dtlsmem_client cl;
	struct th_dtlsmem_queue c2s;
	uint64_t data_bytes;
	bool failed;
};

static struct net_cert *srv_cert, *cli_cert;
static uint8_t rec[WEB_DTLS_RECORD_MAX];

static int srv_output(void *user, const uint8_t *p, size_t len)
{
	struct bench *b = user;
	if (th_dtlsmem_push(&b->cl.in, p, len) < 0)
		b->failed = true;
	return 0;
}

static void srv_on_data(void *user, const uint8_t *p, size_t len)
{
	struct bench *b = user;
	b->data_bytes += len;
}

static void srv_on_open(void *user)
{
}

static const struct web_dtls_ops ops = {.output = srv_output, .on_data = srv_on_data, .on_open = srv_on_open};

static int cli_output(void *user, const uint8_t *p, size_t len)
{
	struct bench *b = user;
	if (th_dtlsmem_push(b->bare ? &b->srv.in : &b->c2s, p, len) < 0)
		b->failed = true;
	return 0;
}

static void deliver(struct bench *b)
{
	struct th_dtlsmem_dgram g;
	while (th_dtlsmem_pop(&b->c2s, &g))
		(void)web_dtls_input(b->d, g.b, g.len, th_now_ns());
}

/* A session, handshaken; its duration in *ns. false if it did not open. */
static bool open_session(struct bench *b, bool bare, uint64_t *ns)
{
	memset(b, 0, sizeof(*b));
	b->bare = bare;
	uint64_t t0 = th_now_ns();
	if (th_dtlsmem_client_init(&b->cl, cli_cert->cred, BENCH_RETRANS_MS, cli_output, b) < 0)
		return false;
	if (bare) {
		if (th_dtlsmem_server_init(&b->srv, srv_cert->cred, BENCH_RETRANS_MS, srv_output, b) < 0)
			return false;
	} else if (web_dtls_create(srv_cert->cred, cli_cert->fp, &ops, b, t0, &b->d) < 0) {
		return false;
	}
	bool srv_done = false;
	for (unsigned i = 0; i < BENCH_STEPS && !(b->cl.done && srv_done); i++) {
		if (th_dtlsmem_client_step(&b->cl) < 0)
			return false;
		if (bare) {
			int r = th_dtlsmem_client_step(&b->srv);
			if (r < 0)
				return false;
			srv_done = r == 1;
		} else {
			deliver(b);
			srv_done = web_dtls_state(b->d) == WEB_DTLS_OPEN;
		}
	}
	*ns = th_now_ns() - t0;
	return b->cl.done && srv_done && !b->failed;
}

static void close_session(struct bench *b)
{
	web_dtls_destroy(&b->d);
	th_dtlsmem_client_fini(&b->srv);
	th_dtlsmem_client_fini(&b->cl);
}

static size_t record_size(struct bench *b)
{
	return b->bare ? gnutls_dtls_get_data_mtu(b->srv.s) : web_dtls_data_mtu(b->d);
}

/* Browser -> server: ns spent decrypting BENCH_BATCH records. */
static uint64_t recv_batch(struct bench *b, size_t len)
{
	uint64_t spent = 0;
	{
		for (unsigned i = 0; i < BENCH_BATCH; i++)
			if (gnutls_record_send(b->cl.s, rec, len) != (ssize_t)len)
				b->failed = true;
		uint64_t t0 = th_now_ns();
		if (b->bare) {
			for (unsigned i = 0; i < BENCH_BATCH; i++) {
				ssize_t r = gnutls_record_recv(b->srv.s, rec, sizeof(rec));
				if (r > 0)
					b->data_bytes += (uint64_t)r;
				else
					b->failed = true;
			}
		} else {
			deliver(b);
		}
		spent += th_now_ns() - t0;
	}
	return spent;
}

/* Server -> browser: ns spent encrypting BENCH_BATCH records. */
static uint64_t send_batch(struct bench *b, size_t len)
{
	uint64_t spent = 0;
	{
		uint64_t t0 = th_now_ns();
		for (unsigned i = 0; i < BENCH_BATCH; i++) {
			if (b->bare ? gnutls_record_send(b->srv.s, rec, len) != (ssize_t)len
				    : web_dtls_send(b->d, rec, len) != 0)
				b->failed = true;
		}
		spent += th_now_ns() - t0;
		while (th_dtlsmem_client_recv(&b->cl, rec, sizeof(rec)) > 0)
			;
	}
	return spent;
}

static double mb_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / 1e6 / ((double)ns / 1e9) : 0;
}

int main(void)
{
	if (net_cert_generate(&srv_cert) < 0 || net_cert_generate(&cli_cert) < 0) {
		fprintf(stderr, "bench_web_dtls: could not make the certificates\n");
		return 1;
	}
	static uint64_t hs[2][BENCH_HANDSHAKES];
	static struct bench b;
	/* Interleaved, so both see the same machine load. */
	for (unsigned i = 0; i < BENCH_HANDSHAKES; i++) {
		for (int bare = 0; bare < 2; bare++) {
			bool ok = open_session(&b, bare, &hs[bare][i]);
			close_session(&b);
			if (!ok) {
				fprintf(stderr, "bench_web_dtls: a %s handshake did not finish\n", bare ? "bare" : "web_dtls");
				return 1;
			}
		}
	}
	th_bench_figure("web.dtls.handshake_ms.p50", th_bench_pct_u64(hs[0], BENCH_HANDSHAKES, 0.5) / 1e6, "ms");
	th_bench_figure("web.dtls.handshake_ms.p99", th_bench_pct_u64(hs[0], BENCH_HANDSHAKES, 0.99) / 1e6, "ms");
	th_bench_figure("web.dtls.handshake_bare_ms.p50", th_bench_pct_u64(hs[1], BENCH_HANDSHAKES, 0.5) / 1e6, "ms");
	th_bench_figure("web.dtls.handshake_bare_ms.p99", th_bench_pct_u64(hs[1], BENCH_HANDSHAKES, 0.99) / 1e6, "ms");

	/* Both sessions open at once, batches alternating between them. */
	static struct bench s[2];
	size_t len[2];
	uint64_t rns[2] = {0}, sns[2] = {0};
	for (int bare = 0; bare < 2; bare++) {
		uint64_t ns;
		if (!open_session(&s[bare], bare, &ns)) {
			fprintf(stderr, "bench_web_dtls: a handshake did not finish\n");
			return 1;
		}
		len[bare] = record_size(&s[bare]);
	}
	th_bench_figure("web.dtls.data_mtu", (double)len[0], "bytes");
	memset(rec, 0xa5, sizeof(rec));
	for (unsigned done = 0; done < BENCH_RECORDS; done += BENCH_BATCH) {
		for (int bare = 0; bare < 2; bare++) {
			rns[bare] += recv_batch(&s[bare], len[bare]);
			sns[bare] += send_batch(&s[bare], len[bare]);
		}
	}
	for (int bare = 0; bare < 2; bare++) {
		uint64_t want = (uint64_t)((BENCH_RECORDS + BENCH_BATCH - 1) / BENCH_BATCH) * BENCH_BATCH * len[bare];
		bool failed = s[bare].failed || s[bare].data_bytes != want;
		close_session(&s[bare]);
		if (failed) {
			fprintf(stderr, "bench_web_dtls: records were lost or refused (%s)\n", bare ? "bare" : "web_dtls");
			return 1;
		}
		th_bench_figure(bare ? "web.dtls.recv_bare_mb_per_s" : "web.dtls.recv_mb_per_s", mb_per_s(want, rns[bare]), "MB/s");
		th_bench_figure(bare ? "web.dtls.send_bare_mb_per_s" : "web.dtls.send_mb_per_s", mb_per_s(want, sns[bare]), "MB/s");
	}
	net_cert_destroy(&srv_cert);
	net_cert_destroy(&cli_cert);
	return 0;
}
