/* One browser peer's transport (docs/web.md "The transport"): ICE-lite,
 * DTLS, SCTP and DCEP stacked into a state machine that takes datagrams
 * and `now` and hands out datagrams and channel messages. No socket: the
 * web module owns the UDP socket and passes each datagram from the
 * browser in; what goes out leaves through ops->send_to.
 *
 *   STUN binding request (verified, web_stun) -> response; the address of
 *       the first verified request (then of the newest with USE-CANDIDATE)
 *       is where everything else goes; a verified request is consent
 *       (RFC 7675): none for WEB_PEER_CONSENT_NS closes the peer.
 *   DTLS from that address only (web_dtls, fingerprint from the offer).
 *   SCTP inside DTLS (web_sctp), DCEP OPEN -> ACK (web_dcep): the
 *       browser's channels, by label, each with its stream id.
 *
 * Bounds: at most WEB_PEER_CHANNELS channels; a message larger than
 * WEB_SCTP_MAX_MESSAGE, a DCEP message that does not parse, data on a
 * stream with no open channel, or a handshake past its deadline close the
 * peer with a reason (on_closed, then no more callbacks). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "web/web_sdp.h"

#define WEB_PEER_CHANNELS 8u
#define WEB_PEER_CONSENT_NS (30ull * 1000 * 1000 * 1000) /* RFC 7675's 30 s */
#define WEB_PEER_CONNECT_NS (20ull * 1000 * 1000 * 1000) /* answer -> SCTP open */

enum web_peer_state {
	WEB_PEER_WAITING = 1, /* answer given, no verified STUN yet */
	WEB_PEER_DTLS,        /* STUN verified, DTLS handshake */
	WEB_PEER_SCTP,        /* DTLS open, SCTP association starting */
	WEB_PEER_OPEN,        /* SCTP open: channels can open */
	WEB_PEER_CLOSED,
};

/* Why a peer closed (on_closed's reason). */
enum web_peer_close {
	WEB_PEER_C_BYE = 1,      /* DTLS close_notify or SCTP shutdown from the browser */
	WEB_PEER_C_CONSENT,      /* no verified STUN for WEB_PEER_CONSENT_NS */
	WEB_PEER_C_TIMEOUT,      /* not open within WEB_PEER_CONNECT_NS */
	WEB_PEER_C_FINGERPRINT,  /* the DTLS certificate is not the offer's */
	WEB_PEER_C_PROTOCOL,     /* DTLS, SCTP or DCEP broken, a bound passed */
	WEB_PEER_C_LOCAL,        /* web_peer_close by the owner */
};

struct web_peer_config {
	gnutls_certificate_credentials_t cred; /* the daemon's certificate (net_cert) */
	const struct web_sdp_offer *offer;     /* ufrag, pwd, fingerprint, sctp port */
	const char *local_ufrag, *local_pwd;   /* what the answer says */
	size_t max_message;                    /* 0: WEB_SCTP_MAX_MESSAGE */
};

struct web_peer_ops {
	/* A datagram to the browser. */
	int (*send_to)(void *user, const struct sockaddr *to, socklen_t tolen, const uint8_t *p, size_t len);
	/* The browser opened a channel (DCEP OPEN acknowledged). */
	void (*on_channel)(void *user, unsigned chan, const char *label, bool unordered, int max_rtx);
	/* A message on an open channel (binary: PPID 53/57; else string). */
	void (*on_message)(void *user, unsigned chan, bool binary, const uint8_t *p, size_t len, uint64_t now_ns);
	/* The peer is closed; no callback follows. why: one sentence. */
	void (*on_closed)(void *user, enum web_peer_close reason, const char *why);
	/* Send room came back after web_peer_send said -EAGAIN. */
	void (*on_writable)(void *user);
};

struct web_peer;

int web_peer_create(const struct web_peer_config *cfg, const struct web_peer_ops *ops, void *user, uint64_t now_ns,
		    struct web_peer **out);
void web_peer_destroy(struct web_peer **p);
/* A datagram that came from `from`. */
void web_peer_input(struct web_peer *p, const struct sockaddr *from, socklen_t fromlen, const uint8_t *data,
		    size_t len, uint64_t now_ns);
/* A message on channel chan (as on_channel named it, with its ordering
 * and reliability). 0, -ENOTCONN, -EAGAIN, -EMSGSIZE, -ENOENT (no such
 * channel). */
int web_peer_send(struct web_peer *p, unsigned chan, bool binary, const uint8_t *data, size_t len);
/* Bytes accepted but not yet acknowledged or sent (flow control). */
size_t web_peer_buffered(const struct web_peer *p);
/* Timers: DTLS retransmission, consent, connect deadline. */
void web_peer_tick(struct web_peer *p, uint64_t now_ns);
uint64_t web_peer_timeout_ns(const struct web_peer *p);
void web_peer_close(struct web_peer *p, const char *why);
enum web_peer_state web_peer_state(const struct web_peer *p);
/* Matches web_stun_peek_username against this peer's local ufrag. */
bool web_peer_owns_ufrag(const struct web_peer *p, const char *local_ufrag);
/* The browser's address once a STUN request verified (false before). */
bool web_peer_address(const struct web_peer *p, struct sockaddr_storage *out, socklen_t *len);

struct web_peer_stats {
	uint64_t stun_ok, stun_bad, dtls_records_in, dtls_bad, sctp_msgs_in, sctp_msgs_out, bytes_in, bytes_out;
	uint64_t answer_to_open_ns; /* 0 until open */
};
void web_peer_get_stats(const struct web_peer *p, struct web_peer_stats *out);
