/* STUN binding requests and responses for ICE-lite (web_stun.h). */
#include "web/web_stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#define STUN_BINDING_REQUEST 0x0001u
#define STUN_BINDING_SUCCESS 0x0101u

#define STUN_ATTR_USERNAME 0x0006u
#define STUN_ATTR_MESSAGE_INTEGRITY 0x0008u
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020u
#define STUN_ATTR_PRIORITY 0x0024u
#define STUN_ATTR_USE_CANDIDATE 0x0025u
#define STUN_ATTR_FINGERPRINT 0x8028u
#define STUN_ATTR_ICE_CONTROLLED 0x8029u
#define STUN_ATTR_ICE_CONTROLLING 0x802au
#define STUN_ATTR_HDR_LEN 4u
#define STUN_COMPREHENSION_OPTIONAL 0x8000u /* attribute types below it must be understood */

#define STUN_MI_LEN 20u   /* HMAC-SHA1 */
#define STUN_FP_LEN 4u
#define STUN_FP_XOR 0x5354554eu
#define STUN_USERNAME_MAX 513u /* RFC 5389 15.3 */
#define STUN_FAMILY_V4 0x01u
#define STUN_FAMILY_V6 0x02u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool web_stun_is_stun(const uint8_t *p, size_t len)
{
	return len > 0 && p[0] <= 3;
}

uint32_t web_crc32(const uint8_t *p, size_t len)
{
	/* Reflected polynomial 0xedb88320, four bits at a time. */
	static const uint32_t nibble[16] = {
		0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
		0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
		0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
	};
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ nibble[crc & 0xfu];
		crc = (crc >> 4) ^ nibble[crc & 0xfu];
	}
	return crc ^ 0xffffffffu;
}

/* The header of a binding request: 0 when p[0..len) is one, with its
 * attributes' length in *alen. */
static int check_header(const uint8_t *p, size_t len, size_t *alen, const char **why)
{
	if (len < WEB_STUN_HDR_LEN || len > WEB_STUN_MAX) {
		*why = "not a STUN message (length)";
		return -EBADMSG;
	}
	if (rd32(p + 4) != WEB_STUN_MAGIC) {
		*why = "not a STUN message (magic cookie)";
		return -EBADMSG;
	}
	size_t n = rd16(p + 2);
	if (n % 4 != 0 || n != len - WEB_STUN_HDR_LEN) {
		*why = "STUN length field does not match the datagram";
		return -EBADMSG;
	}
	if (rd16(p) != STUN_BINDING_REQUEST) {
		*why = "not a STUN binding request";
		return -EBADMSG;
	}
	*alen = n;
	return 0;
}

/* The next attribute at *off: its type, value offset and value length;
 * 1 while there is one, 0 at the end, -EBADMSG when it runs past the end. */
static int next_attr(const uint8_t *p, size_t len, size_t *off, uint16_t *type, size_t *voff, size_t *vlen)
{
	if (*off == len)
		return 0;
	if (len - *off < STUN_ATTR_HDR_LEN)
		return -EBADMSG;
	*type = rd16(p + *off);
	*vlen = rd16(p + *off + 2);
	*voff = *off + STUN_ATTR_HDR_LEN;
	size_t padded = (*vlen + 3u) & ~(size_t)3u;
	if (padded > len - *voff)
		return -EBADMSG;
	*off = *voff + padded;
	return 1;
}

/* HMAC-SHA1 keyed with pwd over p[0..mi_off) with the header's length
 * field set as if the message ended right after MESSAGE-INTEGRITY. */
static int integrity(const uint8_t *p, size_t mi_off, const char *pwd, uint8_t mac[STUN_MI_LEN])
{
	uint8_t buf[WEB_STUN_MAX];
	if (mi_off > sizeof(buf))
		return -EBADMSG;
	memcpy(buf, p, mi_off);
	wr16(buf + 2, (uint16_t)(mi_off + STUN_ATTR_HDR_LEN + STUN_MI_LEN - WEB_STUN_HDR_LEN));
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA1, pwd, strlen(pwd), buf, mi_off, mac) < 0)
		return -EIO;
	return 0;
}

int web_stun_parse_request(const uint8_t *p, size_t len, const char *local_ufrag, const char *local_pwd,
			   struct web_stun_request *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	size_t alen;
	int rv = check_header(p, len, &alen, why);
	if (rv < 0)
		return rv;

	struct web_stun_request rq = { 0 };
	memcpy(rq.txid, p + 8, WEB_STUN_TXID_LEN);
	size_t off = WEB_STUN_HDR_LEN, voff = 0, vlen = 0;
	uint16_t type = 0;
	size_t user_off = 0, user_len = 0, mi_off = 0, mi_voff = 0;
	bool have_user = false, have_mi = false;
	while ((rv = next_attr(p, len, &off, &type, &voff, &vlen)) > 0) {
		if (type == STUN_ATTR_FINGERPRINT) {
			if (vlen != STUN_FP_LEN || off != len) {
				*why = "STUN FINGERPRINT is malformed or not last";
				return -EBADMSG;
			}
			if (rd32(p + voff) != (web_crc32(p, voff - STUN_ATTR_HDR_LEN) ^ STUN_FP_XOR)) {
				*why = "STUN FINGERPRINT is wrong";
				return -EBADMSG;
			}
			continue;
		}
		if (have_mi)
			continue; /* after MESSAGE-INTEGRITY only FINGERPRINT counts */
		switch (type) {
		case STUN_ATTR_USERNAME:
			if (vlen == 0 || vlen > STUN_USERNAME_MAX) {
				*why = "STUN USERNAME is malformed";
				return -EBADMSG;
			}
			if (!have_user) {
				have_user = true;
				user_off = voff;
				user_len = vlen;
			}
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY:
			if (vlen != STUN_MI_LEN) {
				*why = "STUN MESSAGE-INTEGRITY is malformed";
				return -EBADMSG;
			}
			have_mi = true;
			mi_off = voff - STUN_ATTR_HDR_LEN;
			mi_voff = voff;
			break;
		case STUN_ATTR_PRIORITY:
			if (vlen != 4) {
				*why = "STUN PRIORITY is malformed";
				return -EBADMSG;
			}
			rq.priority = rd32(p + voff);
			break;
		case STUN_ATTR_USE_CANDIDATE:
			if (vlen != 0) {
				*why = "STUN USE-CANDIDATE is malformed";
				return -EBADMSG;
			}
			rq.use_candidate = true;
			break;
		case STUN_ATTR_ICE_CONTROLLING:
		case STUN_ATTR_ICE_CONTROLLED:
			if (vlen != 8) {
				*why = "STUN ICE role attribute is malformed";
				return -EBADMSG;
			}
			rq.controlling = type == STUN_ATTR_ICE_CONTROLLING;
			rq.tie_breaker = (uint64_t)rd32(p + voff) << 32 | rd32(p + voff + 4);
			break;
		default:
			if (type < STUN_COMPREHENSION_OPTIONAL) {
				*why = "STUN request has an unknown comprehension-required attribute";
				return -EBADMSG;
			}
			break;
		}
	}
	if (rv < 0) {
		*why = "STUN attribute runs past the end";
		return -EBADMSG;
	}

	size_t ul = strlen(local_ufrag);
	const uint8_t *u = p + user_off;
	if (!have_user || user_len <= ul + 1 || memcmp(u, local_ufrag, ul) != 0 || u[ul] != ':') {
		*why = "STUN USERNAME is not ours";
		return -EACCES;
	}
	size_t rl = user_len - ul - 1;
	if (rl > WEB_STUN_UFRAG_MAX || memchr(u + ul + 1, '\0', rl)) {
		*why = "STUN USERNAME's remote part is malformed";
		return -EBADMSG;
	}
	if (!have_mi) {
		*why = "STUN request has no MESSAGE-INTEGRITY";
		return -EACCES;
	}
	uint8_t mac[STUN_MI_LEN];
	if ((rv = integrity(p, mi_off, local_pwd, mac)) < 0) {
		*why = "STUN MESSAGE-INTEGRITY could not be computed";
		return rv;
	}
	if (sodium_memcmp(mac, p + mi_voff, STUN_MI_LEN) != 0) { /* constant time */
		*why = "STUN MESSAGE-INTEGRITY is wrong";
		return -EACCES;
	}
	memcpy(rq.remote_ufrag, u + ul + 1, rl);
	rq.remote_ufrag[rl] = '\0';
	*out = rq;
	*why = NULL;
	return 0;
}

int web_stun_build_response(const struct web_stun_request *rq, const struct sockaddr *from, socklen_t fromlen,
			    const char *local_pwd, uint8_t *out, size_t cap)
{
	uint8_t addr[16];
	size_t alen;
	uint16_t port;
	uint8_t family;
	if (from->sa_family == AF_INET && fromlen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;
		memcpy(addr, &s4->sin_addr, 4);
		alen = 4;
		port = ntohs(s4->sin_port);
		family = STUN_FAMILY_V4;
	} else if (from->sa_family == AF_INET6 && fromlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;
		memcpy(addr, &s6->sin6_addr, 16);
		alen = 16;
		port = ntohs(s6->sin6_port);
		family = STUN_FAMILY_V6;
	} else {
		return -EINVAL;
	}
	size_t xma = STUN_ATTR_HDR_LEN + 4 + alen;
	size_t mi_off = WEB_STUN_HDR_LEN + xma;
	size_t fp_off = mi_off + STUN_ATTR_HDR_LEN + STUN_MI_LEN;
	size_t total = fp_off + STUN_ATTR_HDR_LEN + STUN_FP_LEN;
	if (cap < total)
		return -ENOBUFS;

	wr16(out, STUN_BINDING_SUCCESS);
	wr16(out + 2, (uint16_t)(total - WEB_STUN_HDR_LEN));
	wr32(out + 4, WEB_STUN_MAGIC);
	memcpy(out + 8, rq->txid, WEB_STUN_TXID_LEN);

	uint8_t *a = out + WEB_STUN_HDR_LEN;
	wr16(a, STUN_ATTR_XOR_MAPPED_ADDRESS);
	wr16(a + 2, (uint16_t)(4 + alen));
	a[4] = 0;
	a[5] = family;
	wr16(a + 6, (uint16_t)(port ^ (WEB_STUN_MAGIC >> 16)));
	/* X-Address: XOR with the magic cookie, then (IPv6) the transaction id,
	 * which are the header's bytes 4..20. */
	for (size_t i = 0; i < alen; i++)
		a[8 + i] = (uint8_t)(addr[i] ^ out[4 + i]);

	uint8_t *m = out + mi_off;
	wr16(m, STUN_ATTR_MESSAGE_INTEGRITY);
	wr16(m + 2, STUN_MI_LEN);
	int rv = integrity(out, mi_off, local_pwd, m + STUN_ATTR_HDR_LEN);
	if (rv < 0)
		return rv;

	uint8_t *f = out + fp_off;
	wr16(f, STUN_ATTR_FINGERPRINT);
	wr16(f + 2, STUN_FP_LEN);
	wr32(f + STUN_ATTR_HDR_LEN, web_crc32(out, fp_off) ^ STUN_FP_XOR);
	return (int)total;
}

int web_stun_peek_username(const uint8_t *p, size_t len, char *out, size_t cap)
{
	const char *why;
	size_t alen;
	int rv = check_header(p, len, &alen, &why);
	if (rv < 0)
		return rv;
	size_t off = WEB_STUN_HDR_LEN, voff = 0, vlen = 0;
	uint16_t type = 0;
	while ((rv = next_attr(p, len, &off, &type, &voff, &vlen)) > 0) {
		if (type == STUN_ATTR_MESSAGE_INTEGRITY || type == STUN_ATTR_FINGERPRINT)
			break;
		if (type != STUN_ATTR_USERNAME)
			continue;
		const uint8_t *colon = vlen <= STUN_USERNAME_MAX ? memchr(p + voff, ':', vlen) : NULL;
		if (!colon)
			return -EBADMSG;
		size_t n = (size_t)(colon - (p + voff));
		if (n == 0 || memchr(p + voff, '\0', n))
			return -EBADMSG;
		if (n >= cap)
			return -ENOBUFS;
		memcpy(out, p + voff, n);
		out[n] = '\0';
		return 0;
	}
	return -EBADMSG;
}
