/* A browser's WebRTC transport for C tests: it stands in for Chromium
 * against thetad's web endpoint (or a web_peer in the test process), with
 * real components only: a real UDP socket, STUN binding requests with
 * USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY
 * and FINGERPRINT whose responses' integrity and fingerprint it checks,
 * a GnuTLS DTLS 1.2 client (th_dtlsmem's) with its own self-signed ECDSA
 * certificate (net_cert_generate) that checks the server's certificate
 * against the answer's a=fingerprint during the handshake, usrsctp through web_sctp (both sides of an
 * association connect, as browsers do), and DCEP OPEN for its channels
 * ("theta" ordered reliable, then "theta-pose" unordered maxRetransmits 0,
 * on streams 0 and 2: the DTLS client's even ids). No cmocka: benchmarks
 * use it too.
 *
 * Use:
 *   th_webpeer_create(&cfg, &w);         offer = th_webpeer_offer(w)
 *   (POST /offer with it, or web_sdp_parse_offer in the test)
 *   th_webpeer_answer(w, answer, len, now)
 *   loop: poll th_webpeer_fd(w) until th_webpeer_timeout_ns(w), then
 *         th_webpeer_step(w, now)         (or th_webpeer_run_until)
 *   th_webpeer_ready(w): the association is open and every channel ACKed
 *   th_webpeer_send / th_webpeer_recv; th_webpeer_close; th_webpeer_destroy
 *
 * Its schedule, like Chromium's regular nomination: a check every
 * TH_WEBPEER_CHECK_NS until one is answered, then one with USE-CANDIDATE
 * and the DTLS handshake, then a consent check every
 * TH_WEBPEER_CONSENT_EVERY_NS.
 *
 * th_webpeer_step also runs usrsctp's timers (web_sctp_timers, global to
 * the process, on the real clock whatever now says), so a web_peer in the
 * same process has its SCTP timers run too. Not thread-safe; one process may hold several.
 *
 * th_webhost (at the end) is the web module's part around one web_peer
 * for tests and benchmarks that run both ends in one process. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "web/web_peer.h"
#include "web/web_sdp.h"

#define TH_WEBPEER_CHANNELS 8u
#define TH_WEBPEER_RXQ 1024u                                /* messages queued for th_webpeer_recv */
#define TH_WEBPEER_CHECK_NS (50ull * 1000 * 1000)           /* checks until one is answered */
#define TH_WEBPEER_CONSENT_EVERY_NS (5ull * 1000 * 1000 * 1000)
#define TH_WEBPEER_MAX_MESSAGE 262144u                      /* the offer's a=max-message-size */
#define TH_WEBPEER_OFFER_MAX 2048u
#define TH_WEBPEER_WHY_MAX 256u

enum th_webpeer_state {
	TH_WP_OFFERED = 1, /* offer made, no answer yet */
	TH_WP_ICE,         /* checking */
	TH_WP_DTLS,        /* a check answered: DTLS handshake */
	TH_WP_SCTP,        /* DTLS open: SCTP association starting */
	TH_WP_OPEN,        /* association open: channels opened by DCEP */
	TH_WP_CLOSED,      /* closed by either side (th_webpeer_error says how) */
	TH_WP_FAILED,      /* a handshake or the answer failed (th_webpeer_error) */
};

struct th_webpeer;

struct th_webpeer_config {
	const char *bind_ip;      /* the socket's address; NULL: 127.0.0.1 (port 0) */
	uint16_t sctp_port;       /* the offer's a=sctp-port; 0: 5000 */
	uint32_t max_message;     /* the offer's a=max-message-size; 0: TH_WEBPEER_MAX_MESSAGE */
	bool no_channels;         /* open no channel by itself (th_webpeer_open_channel) */
	/* Wrong things, as a broken or hostile page would send them: */
	bool no_stun;             /* no checks at all: DTLS at once after the answer */
	bool no_dtls;             /* checks (and consent) only: never starts DTLS */
	bool no_use_candidate;    /* never nominate */
	bool bad_integrity;       /* MESSAGE-INTEGRITY keyed with a wrong password */
	bool bad_fingerprint;     /* the offer's a=fingerprint is not our certificate's */
	const uint8_t *expect_fp; /* 32 bytes the server's certificate must hash to; NULL: the answer's */
	/* Messages to this instead of the queue of th_webpeer_recv. */
	void (*on_message)(void *user, unsigned chan, bool binary, const uint8_t *p, size_t len);
	void *user;
};

int th_webpeer_create(const struct th_webpeer_config *cfg, struct th_webpeer **out);
void th_webpeer_destroy(struct th_webpeer **w);
/* The offer SDP (NUL-terminated, CRLF lines), as Chromium writes one for
 * a data channel only. */
const char *th_webpeer_offer(const struct th_webpeer *w);
/* The answer: ice-ufrag, ice-pwd, fingerprint sha-256, setup passive,
 * sctp-port, max-message-size and the first UDP host candidate of the
 * socket's family. 0, or -EBADMSG with th_webpeer_error saying why (state
 * FAILED). */
int th_webpeer_answer(struct th_webpeer *w, const char *sdp, size_t len, uint64_t now_ns);
/* The UDP socket to poll for input. */
int th_webpeer_fd(const struct th_webpeer *w);
/* Reads every datagram waiting on the socket, runs the timers. 0, or the
 * failure (negative errno) once state is FAILED. */
int th_webpeer_step(struct th_webpeer *w, uint64_t now_ns);
/* When th_webpeer_step next has timer work. */
uint64_t th_webpeer_timeout_ns(const struct th_webpeer *w, uint64_t now_ns);
/* Steps on the real clock, polling the socket, until done(w, arg) is
 * true: 0, -ETIMEDOUT after timeout_ms, or the failure. done NULL: until
 * th_webpeer_ready. */
int th_webpeer_run_until(struct th_webpeer *w, bool (*done)(struct th_webpeer *, void *), void *arg,
			 int timeout_ms);

enum th_webpeer_state th_webpeer_state(const struct th_webpeer *w);
/* OPEN and every channel acknowledged. */
bool th_webpeer_ready(const struct th_webpeer *w);
/* What went wrong (FAILED) or how it closed (CLOSED); "" otherwise. */
const char *th_webpeer_error(const struct th_webpeer *w);
/* This peer's certificate SHA-256 (what the offer names unless bad_fingerprint). */
const uint8_t *th_webpeer_fingerprint(const struct th_webpeer *w);
/* The socket's own address. */
int th_webpeer_local_addr(const struct th_webpeer *w, struct sockaddr_storage *out, socklen_t *len);
/* The XOR-MAPPED-ADDRESS of the last verified response (false before). */
bool th_webpeer_mapped(const struct th_webpeer *w, struct sockaddr_storage *out);

/* Opens a channel by DCEP once the association is open (queued before):
 * type as web_dcep.h (WEB_DCEP_*), rtx its reliability parameter. Its
 * handle (0..TH_WEBPEER_CHANNELS-1, stream 2 * handle) or -ENOSPC. */
int th_webpeer_open_channel(struct th_webpeer *w, const char *label, uint8_t type, uint32_t rtx);
/* The handle of the channel with that label, or -ENOENT. */
int th_webpeer_channel(const struct th_webpeer *w, const char *label);
bool th_webpeer_channel_acked(const struct th_webpeer *w, unsigned chan);
/* One message: 0, -ENOTCONN (not OPEN), -ENOENT, -EMSGSIZE (past the
 * answer's max-message-size), -EAGAIN (send buffer full). */
int th_webpeer_send(struct th_webpeer *w, unsigned chan, bool binary, const uint8_t *p, size_t len);
/* Sends one SCTP message with any PPID on any stream (broken pages). */
int th_webpeer_send_raw(struct th_webpeer *w, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len);
/* The oldest queued message: its length (copied into buf), -EAGAIN (none),
 * -EMSGSIZE (cap too small: it stays queued). */
int th_webpeer_recv(struct th_webpeer *w, unsigned *chan, bool *binary, uint8_t *buf, size_t cap);
size_t th_webpeer_buffered(const struct th_webpeer *w);

/* Builds one binding request to the answer's credentials into out[cap]
 * (as th_webpeer sends them; the test may send it from another socket):
 * its length or -ENOBUFS. Its transaction id is remembered, so a response
 * to it that reaches this peer's socket counts. */
int th_webpeer_stun_request(struct th_webpeer *w, bool use_candidate, uint8_t *out, size_t cap);
/* Closes one channel as a page's channel.close() does: its outgoing
 * stream reset (web_sctp_reset_stream, RFC 8831 6.7); the handle is free
 * again (th_webpeer_open_channel takes the stream anew). 0, -ENOTCONN,
 * -ENOENT, or web_sctp_reset_stream's error. */
int th_webpeer_reset_stream(struct th_webpeer *w, unsigned chan);
/* Consent checks on (default) or off (the page went away without a word). */
void th_webpeer_set_consent(struct th_webpeer *w, bool on);
void th_webpeer_set_bad_integrity(struct th_webpeer *w, bool on);
/* Aborts the association and sends close_notify, as a page's
 * RTCPeerConnection.close() does (state CLOSED). */
void th_webpeer_close(struct th_webpeer *w);

struct th_webpeer_stats {
	uint64_t checks_sent, responses_ok, responses_bad, stray;
	uint64_t dtls_in, dtls_out, msgs_in, msgs_out, bytes_in, bytes_out, rx_dropped;
	uint64_t resets_in; /* streams the host reset (in answer to th_webpeer_reset_stream) */
	uint64_t answer_to_ready_ns; /* th_webpeer_answer -> ready (0 until then) */
};
void th_webpeer_get_stats(const struct th_webpeer *w, struct th_webpeer_stats *out);

/* The web module's part around one web_peer, for tests and benchmarks in
 * one process: a UDP socket on 127.0.0.1:0, the answer to a th_webpeer's
 * offer with that socket as the host candidate, the peer fed from it. */
struct th_webhost {
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct web_sdp_offer offer;
	char ufrag[9], pwd[25];
	char answer[WEB_SDP_ANSWER_MAX];
	struct web_peer *peer;   /* the owner may destroy it (even in a callback) */
	struct web_peer_ops ops; /* the owner's (its send_to is not used) */
	void *user;
};

/* The socket on ip (NULL: 127.0.0.1; "::1" for IPv6), port 0: 0 or
 * negative errno (h->fd -1 after th_webhost_close). */
int th_webhost_open(struct th_webhost *h, const char *ip);
/* Parses offer, writes h->answer (our certificate's fp, max_message as
 * its max-message-size: 0 is WEB_SCTP_MAX_MESSAGE) and creates h->peer
 * with the same max_message. ops' callbacks get user. 0, -EBADMSG with
 * *why (the offer's refusal), or web_peer_create's error. */
int th_webhost_answer(struct th_webhost *h, gnutls_certificate_credentials_t cred, const uint8_t fp[32],
		      const char *offer, size_t max_message, const struct web_peer_ops *ops, void *user,
		      uint64_t now_ns, const char **why);
/* Every datagram waiting on the socket into the peer, then its timers when due. */
void th_webhost_step(struct th_webhost *h, uint64_t now_ns);
/* Destroys the peer and closes the socket. */
void th_webhost_close(struct th_webhost *h);
