/* A browser's side of a DTLS session, in memory, for the tests and the
 * fuzz target of thetad/web/web_dtls (tests/thetad/web/test_web_dtls.c,
 * tests/fuzz/web/fuzz_web_dtls.c): a real GnuTLS DTLS 1.2 client that
 * offers what a browser offers (NORMAL's DTLS 1.2 suites, extended master
 * secret) and presents its own certificate (or none); what it writes goes
 * out through a callback, what it reads comes from a queue the caller
 * fills. No cmocka here: the fuzzer links it too (Makefile FUZZ_TESTLIB). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#define TH_DTLSMEM_QUEUE 64u   /* datagrams a queue holds */
#define TH_DTLSMEM_DGRAM 4096u /* bytes one queued datagram may have */
#define TH_DTLSMEM_MTU 1200u   /* the client's DTLS MTU, as WEB_DTLS_MTU */

struct th_dtlsmem_dgram {
	uint8_t b[TH_DTLSMEM_DGRAM];
	size_t len;
};

struct th_dtlsmem_queue {
	struct th_dtlsmem_dgram q[TH_DTLSMEM_QUEUE];
	unsigned head, n;
};

/* 0, -EMSGSIZE (len > TH_DTLSMEM_DGRAM) or -ENOBUFS (full). */
int th_dtlsmem_push(struct th_dtlsmem_queue *q, const uint8_t *p, size_t len);
bool th_dtlsmem_pop(struct th_dtlsmem_queue *q, struct th_dtlsmem_dgram *out);

struct th_dtlsmem_client {
	gnutls_session_t s;
	struct th_dtlsmem_queue in; /* datagrams from the server, read by GnuTLS */
	int (*output)(void *user, const uint8_t *p, size_t len);
	void *user;
	bool done; /* handshake finished */
	int err;   /* the handshake's fatal GnuTLS error, 0 while none */
	struct th_dtlsmem_dgram cur;
};

/* cred: the client's certificate and key (a net_cert's cred), or one
 * without a certificate. retrans_ms: the client's first handshake
 * retransmission (GnuTLS's clock). 0 or negative errno. */
int th_dtlsmem_client_init(struct th_dtlsmem_client *c, gnutls_certificate_credentials_t cred,
			   unsigned retrans_ms, int (*output)(void *user, const uint8_t *p, size_t len),
			   void *user);
/* The same endpoint as a bare GnuTLS DTLS 1.2 server (client certificate
 * required, not checked): the baseline web_dtls is measured against
 * (tests/bench/web/bench_web_dtls.c). */
int th_dtlsmem_server_init(struct th_dtlsmem_client *c, gnutls_certificate_credentials_t cred,
			   unsigned retrans_ms, int (*output)(void *user, const uint8_t *p, size_t len),
			   void *user);
void th_dtlsmem_client_fini(struct th_dtlsmem_client *c);
/* One gnutls_handshake: 1 finished, 0 waiting for the server, or the
 * fatal GnuTLS error (also in c->err). */
int th_dtlsmem_client_step(struct th_dtlsmem_client *c);
/* One record from the queue: its length, 0 for close_notify, or a GnuTLS
 * error (GNUTLS_E_AGAIN: nothing queued). */
ssize_t th_dtlsmem_client_recv(struct th_dtlsmem_client *c, uint8_t *buf, size_t cap);
/* SHA-256 over the DER of the server's certificate; -ENOENT before one came. */
int th_dtlsmem_client_peer_fp(struct th_dtlsmem_client *c, uint8_t fp[32]);
