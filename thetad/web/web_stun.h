/* STUN for ICE-lite (RFC 8445 section 2.5, RFC 5389): the binding requests
 * a browser sends to the candidate in our SDP answer, and our success
 * responses. Pure: bytes in, bytes out; no socket, no clock, no log.
 *
 * A request is accepted only when it is a well-formed Binding request
 * (class request, method 0x001, magic cookie, length a multiple of 4 that
 * matches the datagram), its USERNAME is "OUR_UFRAG:THEIR_UFRAG", its
 * MESSAGE-INTEGRITY (HMAC-SHA1 keyed with our ice-pwd over the message up
 * to that attribute, with the length field adjusted) verifies, and its
 * FINGERPRINT (CRC-32 of the message up to it, XOR 0x5354554e), when
 * present, is right. Unknown comprehension-required attributes
 * (0x0000-0x7fff) are refused; attributes after MESSAGE-INTEGRITY other
 * than FINGERPRINT are ignored, as the RFC says.
 *
 * The response is a Binding success with the request's transaction id,
 * XOR-MAPPED-ADDRESS of the address the request came from (IPv4 or IPv6),
 * MESSAGE-INTEGRITY keyed with our ice-pwd and FINGERPRINT. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WEB_STUN_HDR_LEN 20u
#define WEB_STUN_MAGIC 0x2112a442u
#define WEB_STUN_TXID_LEN 12u
#define WEB_STUN_MAX 1280u      /* a longer datagram is not taken as STUN */
#define WEB_STUN_RESPONSE_MAX 128u
#define WEB_STUN_UFRAG_MAX 256u /* RFC 8839: ice-ufrag 4..256 chars */
#define WEB_STUN_PWD_MAX 256u   /* ice-pwd 22..256 chars */

/* RFC 7983 demultiplexing by the first byte: 0..3 STUN, 20..63 DTLS. */
bool web_stun_is_stun(const uint8_t *p, size_t len);

struct web_stun_request {
	uint8_t txid[WEB_STUN_TXID_LEN];
	bool use_candidate; /* USE-CANDIDATE present (the browser nominated this pair) */
	uint32_t priority;  /* PRIORITY (0 when absent) */
	uint64_t tie_breaker; /* ICE-CONTROLLING (the browser is controlling against ice-lite) */
	bool controlling;
	char remote_ufrag[WEB_STUN_UFRAG_MAX + 1]; /* the part of USERNAME after ':' */
};

/* Checks a datagram as a binding request to us: local_ufrag / local_pwd
 * are ours (from the answer). 0 and *out filled, or
 *   -EBADMSG   not a well-formed STUN binding request (malformed, wrong
 *              class or method, bad FINGERPRINT, unknown required attribute)
 *   -EACCES    USERNAME is not ours, or MESSAGE-INTEGRITY is absent or wrong
 * *why (may be NULL) gets a static phrase for the counter's log line. */
int web_stun_parse_request(const uint8_t *p, size_t len, const char *local_ufrag, const char *local_pwd,
			   struct web_stun_request *out, const char **why);

/* Writes the success response for rq to out[cap] (at least
 * WEB_STUN_RESPONSE_MAX): from is where the request came from
 * (sockaddr_in or sockaddr_in6). Returns its length, or -EINVAL (another
 * address family), -ENOBUFS. */
int web_stun_build_response(const struct web_stun_request *rq, const struct sockaddr *from, socklen_t fromlen,
			    const char *local_pwd, uint8_t *out, size_t cap);

/* CRC-32 (ISO-HDLC, as STUN's FINGERPRINT and zlib use), exposed for tests. */
uint32_t web_crc32(const uint8_t *p, size_t len);

/* Which peer a datagram from an unknown address is for: the local part of
 * a binding request's USERNAME (before ':') into out[cap]. 0, or -EBADMSG
 * when it is not a binding request with a USERNAME, -ENOBUFS. Nothing is
 * verified: web_stun_parse_request of the peer it names does that. */
int web_stun_peek_username(const uint8_t *p, size_t len, char *out, size_t cap);
