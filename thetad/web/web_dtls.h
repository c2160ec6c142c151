/* DTLS 1.2 for a WebRTC data channel (RFC 8842), server side, with GnuTLS
 * over memory: datagrams in, datagrams out, no socket. We answer
 * a=setup:passive, so the browser is the DTLS client; we present the
 * daemon's certificate (net_cert, ECDSA P-256: its SHA-256 is the a=fingerprint of
 * our answer and the fp= of invite links) and require the browser's, whose
 * SHA-256 over its DER must equal the a=fingerprint:sha-256 of its offer
 * (else the handshake fails with -EKEYREJECTED). No SRTP.
 *
 * Record size: gnutls_dtls_set_mtu(WEB_DTLS_MTU); web_dtls_data_mtu() is
 * what one record can carry, the largest SCTP packet the association may
 * send (web_sctp_create's mtu).
 *
 * Timers: GnuTLS retransmits handshake flights itself when
 * gnutls_handshake is called again after its timeout; web_dtls_tick does
 * that when web_dtls_timeout_ns says it is due. A handshake not done by
 * WEB_DTLS_HANDSHAKE_TIMEOUT_NS fails with -ETIMEDOUT. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#define WEB_DTLS_MTU 1200u
#define WEB_DTLS_FP_LEN 32u
#define WEB_DTLS_HANDSHAKE_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)
/* Application records buffered while one input is handled (GnuTLS hands
 * them out one per gnutls_record_recv). */
#define WEB_DTLS_RECORD_MAX 16384u

enum web_dtls_state {
	WEB_DTLS_HANDSHAKE = 1,
	WEB_DTLS_OPEN,
	WEB_DTLS_CLOSED, /* close_notify sent or received */
	WEB_DTLS_FAILED, /* see web_dtls_error */
};

struct web_dtls_ops {
	/* One datagram to the browser (a whole flight may be several calls). */
	int (*output)(void *user, const uint8_t *p, size_t len);
	/* Decrypted application data (one record: one SCTP packet). */
	void (*on_data)(void *user, const uint8_t *p, size_t len);
	/* The handshake finished and the browser's fingerprint matched. */
	void (*on_open)(void *user);
};

struct web_dtls;

/* cred: a server credential with the daemon's certificate and key
 * (net_cert.cred). peer_fp: the offer's a=fingerprint:sha-256. 0 or
 * negative errno. */
int web_dtls_create(gnutls_certificate_credentials_t cred, const uint8_t peer_fp[WEB_DTLS_FP_LEN],
		    const struct web_dtls_ops *ops, void *user, uint64_t now_ns, struct web_dtls **out);
void web_dtls_destroy(struct web_dtls **d);
/* A datagram from the browser (first byte 20..63). Drives the handshake
 * or decrypts records (on_data). 0, or a negative errno once the session
 * failed: -EKEYREJECTED (wrong or missing client certificate), -EPROTO
 * (a fatal alert or a broken handshake), -ECONNRESET (close_notify: state
 * CLOSED). Records that fail to decrypt are dropped (DTLS is lossy) and
 * counted in web_dtls_stats. */
int web_dtls_input(struct web_dtls *d, const uint8_t *p, size_t len, uint64_t now_ns);
/* Encrypts one record: 0, -ENOTCONN (not OPEN), -EMSGSIZE (len >
 * web_dtls_data_mtu), -EIO. */
int web_dtls_send(struct web_dtls *d, const uint8_t *p, size_t len);
/* Retransmits a handshake flight when due; fails the handshake past its
 * deadline. 0 or the failure's errno. */
int web_dtls_tick(struct web_dtls *d, uint64_t now_ns);
/* When web_dtls_tick next has work (UINT64_MAX: none). */
uint64_t web_dtls_timeout_ns(const struct web_dtls *d);
/* Sends close_notify (state CLOSED). */
void web_dtls_close(struct web_dtls *d);
enum web_dtls_state web_dtls_state(const struct web_dtls *d);
/* The failure (0 while not FAILED) and a sentence about it. */
int web_dtls_error(const struct web_dtls *d, const char **why);
size_t web_dtls_data_mtu(const struct web_dtls *d);

struct web_dtls_stats {
	uint64_t records_in, records_out, bad_records, retransmits;
	uint64_t handshake_ns; /* first datagram to OPEN (0 until open) */
};
void web_dtls_get_stats(const struct web_dtls *d, struct web_dtls_stats *out);
