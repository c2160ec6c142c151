/* libFuzzer: web_stun's binding request parser and response builder.
 * The first byte picks a mode: odd, the harness re-signs the message's
 * MESSAGE-INTEGRITY and FINGERPRINT with the right key, so the paths past
 * the integrity check are explored too. An accepted request must name our
 * ufrag to web_stun_peek_username and get a response that fits
 * WEB_STUN_RESPONSE_MAX for either address family. */
#include <errno.h>
#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_stun.h"

#define UFRAG "evtj"
#define PWD "VOkJxbRl1RmTxUk/WvJxBt"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Rewrites the first MESSAGE-INTEGRITY and a trailing FINGERPRINT. */
static void resign(uint8_t *m, size_t len)
{
	if (len < WEB_STUN_HDR_LEN)
		return;
	size_t off = WEB_STUN_HDR_LEN;
	while (off + 4 <= len) {
		uint16_t t = rd16(m + off), l = rd16(m + off + 2);
		size_t next = off + 4 + ((l + 3u) & ~3u);
		if (next > len)
			return;
		if (t == 0x0008 && l == 20) {
			uint8_t copy[WEB_STUN_MAX];
			memcpy(copy, m, off);
			wr16(copy + 2, (uint16_t)(off + 24 - WEB_STUN_HDR_LEN));
			if (gnutls_hmac_fast(GNUTLS_MAC_SHA1, PWD, strlen(PWD), copy, off, m + off + 4) < 0)
				abort();
		}
		if (t == 0x8028 && l == 4 && next == len) {
			uint32_t fp = web_crc32(m, off) ^ 0x5354554eu;
			wr16(m + off + 4, (uint16_t)(fp >> 16));
			wr16(m + off + 6, (uint16_t)fp);
		}
		off = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool sign = data[0] & 1;
	data++;
	size--;
	uint8_t m[WEB_STUN_MAX + 64];
	if (size > sizeof(m))
		size = sizeof(m);
	memcpy(m, data, size);
	if (sign && size <= WEB_STUN_MAX)
		resign(m, size);

	char peek[WEB_STUN_UFRAG_MAX + 8];
	int prv = web_stun_peek_username(m, size, peek, sizeof(peek));
	if (prv != 0 && prv != -EBADMSG && prv != -ENOBUFS)
		abort();

	struct web_stun_request rq;
	const char *why = NULL;
	int rv = web_stun_parse_request(m, size, UFRAG, PWD, &rq, &why);
	if (rv != 0) {
		if ((rv != -EBADMSG && rv != -EACCES) || !why)
			abort();
		return 0;
	}
	if (why || !web_stun_is_stun(m, size) || prv != 0 || strcmp(peek, UFRAG) != 0)
		abort();
	if (strlen(rq.remote_ufrag) == 0 || strlen(rq.remote_ufrag) > WEB_STUN_UFRAG_MAX)
		abort();
	uint8_t out[WEB_STUN_RESPONSE_MAX];
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(5000) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	int n4 = web_stun_build_response(&rq, (struct sockaddr *)&s4, sizeof(s4), PWD, out, sizeof(out));
	int n6 = web_stun_build_response(&rq, (struct sockaddr *)&s6, sizeof(s6), PWD, out, sizeof(out));
	if (n4 <= 0 || n6 <= 0 || memcmp(out + 8, rq.txid, WEB_STUN_TXID_LEN) != 0)
		abort();
	/* A response is never taken for a request. */
	if (web_stun_parse_request(out, (size_t)n6, UFRAG, PWD, &rq, &why) != -EBADMSG)
		abort();
	return 0;
}
