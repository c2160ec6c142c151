/* web_stun: ICE-lite binding requests and responses, against RFC 5769's
 * test vectors and requests built here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "web/web_stun.h"

/* RFC 5769 2.1: username "evtj:h6vY", password below; SOFTWARE, PRIORITY,
 * ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT. */
static const char rfc_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t rfc_request[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
	0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
	0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
	0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
/* RFC 5769 2.2: 192.0.2.1 port 32853. */
static const uint8_t rfc_response_v4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
	0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};
/* RFC 5769 2.3: 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc_response_v6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
	0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};
static const uint8_t rfc_txid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };
#define RFC_PORT 32853
#define RFC_RESPONSE_XMA_OFF 36 /* the XOR-MAPPED-ADDRESS attribute in both responses */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* The test's own integrity check of any STUN message (request or
 * response): finds MESSAGE-INTEGRITY and FINGERPRINT by walking the
 * attributes, recomputes both. 0 when both are present and right. */
static int check_message(const uint8_t *p, size_t len, const char *pwd)
{
	if (len < 20 || rd16(p + 2) != len - 20)
		return -1;
	size_t off = 20, mi = 0, fp = 0;
	while (off + 4 <= len) {
		uint16_t t = rd16(p + off), l = rd16(p + off + 2);
		if (t == 0x0008 && !mi)
			mi = off;
		if (t == 0x8028)
			fp = off;
		off += 4 + ((l + 3u) & ~3u);
	}
	if (off != len || !mi || !fp || fp + 8 != len)
		return -2;
	uint8_t copy[2048], mac[20];
	memcpy(copy, p, mi);
	wr16(copy + 2, (uint16_t)(mi + 24 - 20));
	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA1, pwd, strlen(pwd), copy, mi, mac), 0);
	if (memcmp(mac, p + mi + 4, 20) != 0)
		return -3;
	uint32_t want = web_crc32(p, fp) ^ 0x5354554eu;
	uint32_t got = (uint32_t)rd16(p + fp + 4) << 16 | rd16(p + fp + 6);
	return want == got ? 0 : -4;
}

/* Rewrites the FINGERPRINT (last attribute) after a change before it. */
static void refresh_fingerprint(uint8_t *p, size_t len)
{
	wr32(p + len - 4, web_crc32(p, len - 8) ^ 0x5354554eu);
}

/* A request builder: header, then attributes, then MESSAGE-INTEGRITY and
 * FINGERPRINT computed here (independently of web_stun.c's code). */
struct req {
	uint8_t b[1400];
	size_t len;
};

static void req_start(struct req *r, uint16_t type)
{
	memset(r, 0, sizeof(*r));
	wr16(r->b, type);
	wr32(r->b + 4, WEB_STUN_MAGIC);
	memcpy(r->b + 8, rfc_txid, 12);
	r->len = 20;
}

static void req_attr(struct req *r, uint16_t type, const void *v, size_t n)
{
	wr16(r->b + r->len, type);
	wr16(r->b + r->len + 2, (uint16_t)n);
	if (n) /* a flag attribute (USE-CANDIDATE) has no value: v may be NULL */
		memcpy(r->b + r->len + 4, v, n);
	r->len += 4 + ((n + 3u) & ~3u);
	wr16(r->b + 2, (uint16_t)(r->len - 20));
}

static void req_mi(struct req *r, const char *pwd)
{
	uint8_t zero[20] = { 0 };
	size_t mi = r->len;
	req_attr(r, 0x0008, zero, 20);
	uint8_t copy[1400];
	memcpy(copy, r->b, mi);
	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA1, pwd, strlen(pwd), copy, mi, r->b + mi + 4), 0);
}

static void req_fp(struct req *r)
{
	uint8_t zero[4] = { 0 };
	req_attr(r, 0x8028, zero, 4);
	refresh_fingerprint(r->b, r->len);
}

static void req_user(struct req *r, const char *u)
{
	req_attr(r, 0x0006, u, strlen(u));
}

/* A typical browser check: USERNAME, ICE-CONTROLLING, USE-CANDIDATE, PRIORITY. */
static void browser_request(struct req *r, const char *user, const char *pwd)
{
	req_start(r, 0x0001);
	req_user(r, user);
	uint8_t tb[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	req_attr(r, 0xc057, "\x00\x01\x00\x0a", 4); /* GOOG-NETWORK-INFO: optional, ignored */
	req_attr(r, 0x802a, tb, 8);
	req_attr(r, 0x0025, NULL, 0);
	uint8_t prio[4] = { 0x6e, 0x7f, 0x1e, 0xff };
	req_attr(r, 0x0024, prio, 4);
	req_mi(r, pwd);
	req_fp(r);
}

static void crc32_is_iso_hdlc(void **state)
{
	assert_int_equal(web_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	assert_int_equal(web_crc32(NULL, 0), 0);
	/* The RFC's FINGERPRINTs verify. */
	assert_int_equal(web_crc32(rfc_request, sizeof(rfc_request) - 8) ^ 0x5354554eu, 0xe57a3bcfu);
	assert_int_equal(web_crc32(rfc_response_v4, sizeof(rfc_response_v4) - 8) ^ 0x5354554eu, 0xc07d4c96u);
}

static void demux_by_first_byte(void **state)
{
	uint8_t b[1] = { 0 };
	for (unsigned v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		assert_int_equal(web_stun_is_stun(b, 1), v <= 3);
	}
	assert_false(web_stun_is_stun(b, 0));
	assert_true(web_stun_is_stun(rfc_request, sizeof(rfc_request)));
}

static void rfc5769_sample_request_is_accepted(void **state)
{
	struct web_stun_request rq;
	const char *why = "unset";
	assert_int_equal(web_stun_parse_request(rfc_request, sizeof(rfc_request), "evtj", rfc_pwd, &rq, &why), 0);
	assert_null(why);
	assert_memory_equal(rq.txid, rfc_txid, 12);
	assert_string_equal(rq.remote_ufrag, "h6vY");
	assert_int_equal(rq.priority, 0x6e0001ffu);
	assert_false(rq.use_candidate);
	assert_false(rq.controlling);
	assert_true(rq.tie_breaker == 0x932ff9b151263b36ull);
	assert_int_equal(check_message(rfc_request, sizeof(rfc_request), rfc_pwd), 0);
}

static void wrong_credentials_are_refused(void **state)
{
	struct web_stun_request rq;
	memset(&rq, 0xa5, sizeof(rq));
	struct web_stun_request before = rq;
	const char *why = NULL;
	assert_int_equal(web_stun_parse_request(rfc_request, sizeof(rfc_request), "evtj", "VOkJxbRl1RmTxUk/WvJxBu", &rq,
						&why),
			 -EACCES);
	assert_string_equal(why, "STUN MESSAGE-INTEGRITY is wrong");
	assert_int_equal(web_stun_parse_request(rfc_request, sizeof(rfc_request), "evtx", rfc_pwd, &rq, &why),
			 -EACCES);
	assert_string_equal(why, "STUN USERNAME is not ours");
	assert_int_equal(web_stun_parse_request(rfc_request, sizeof(rfc_request), "evt", rfc_pwd, &rq, &why), -EACCES);
	assert_int_equal(web_stun_parse_request(rfc_request, sizeof(rfc_request), "evtj:h6vY", rfc_pwd, &rq, &why),
			 -EACCES);
	assert_int_equal(web_stun_parse_request(rfc_request, sizeof(rfc_request), "", rfc_pwd, &rq, NULL), -EACCES);
	assert_memory_equal(&rq, &before, sizeof(rq)); /* untouched on failure */

	struct req r;
	browser_request(&r, "evtj:", rfc_pwd); /* no remote part */
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, NULL), -EACCES);
	req_start(&r, 0x0001); /* no USERNAME */
	req_mi(&r, rfc_pwd);
	req_fp(&r);
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, NULL), -EACCES);
	req_start(&r, 0x0001); /* no MESSAGE-INTEGRITY */
	req_user(&r, "evtj:h6vY");
	req_fp(&r);
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, &why), -EACCES);
	assert_string_equal(why, "STUN request has no MESSAGE-INTEGRITY");
}

static void tampering_is_caught(void **state)
{
	struct web_stun_request rq;
	uint8_t m[sizeof(rfc_request)];
	/* Any byte of the header or the attributes covered by
	 * MESSAGE-INTEGRITY changed, FINGERPRINT recomputed: refused. */
	size_t mi_end = sizeof(rfc_request) - 8;
	for (size_t i = 0; i < mi_end; i++) {
		memcpy(m, rfc_request, sizeof(m));
		m[i] ^= 0x01;
		refresh_fingerprint(m, sizeof(m));
		int rv = web_stun_parse_request(m, sizeof(m), "evtj", rfc_pwd, &rq, NULL);
		assert_true(rv == -EACCES || rv == -EBADMSG);
		if (i >= 80) /* the HMAC itself */
			assert_int_equal(rv, -EACCES);
	}
	/* The SOFTWARE text changed: covered by the HMAC, so EACCES. */
	memcpy(m, rfc_request, sizeof(m));
	m[30] = 'X';
	refresh_fingerprint(m, sizeof(m));
	assert_int_equal(web_stun_parse_request(m, sizeof(m), "evtj", rfc_pwd, &rq, NULL), -EACCES);
	/* A bad FINGERPRINT: EBADMSG, whatever else. */
	const char *why = NULL;
	for (size_t i = sizeof(rfc_request) - 4; i < sizeof(rfc_request); i++) {
		memcpy(m, rfc_request, sizeof(m));
		m[i] ^= 0x80;
		assert_int_equal(web_stun_parse_request(m, sizeof(m), "evtj", rfc_pwd, &rq, &why), -EBADMSG);
		assert_string_equal(why, "STUN FINGERPRINT is wrong");
	}
}

static void truncations_are_refused(void **state)
{
	struct web_stun_request rq;
	uint8_t m[sizeof(rfc_request)];
	for (size_t n = 0; n < sizeof(rfc_request); n++) {
		/* As received: the length field disagrees. */
		assert_int_equal(web_stun_parse_request(rfc_request, n, "evtj", rfc_pwd, &rq, NULL), -EBADMSG);
		char u[64];
		assert_true(web_stun_peek_username(rfc_request, n, u, sizeof(u)) < 0);
		/* With the length field made to agree: still refused. */
		if (n < 20 || n % 4 != 0 || n == sizeof(rfc_request) - 8)
			continue;
		memcpy(m, rfc_request, n);
		wr16(m + 2, (uint16_t)(n - 20));
		int rv = web_stun_parse_request(m, n, "evtj", rfc_pwd, &rq, NULL);
		assert_true(rv == -EBADMSG || rv == -EACCES);
	}
	/* Cut exactly before FINGERPRINT: FINGERPRINT is optional, and the
	 * HMAC covers everything before it. */
	memcpy(m, rfc_request, sizeof(m));
	wr16(m + 2, (uint16_t)(sizeof(m) - 8 - 20));
	assert_int_equal(web_stun_parse_request(m, sizeof(m) - 8, "evtj", rfc_pwd, &rq, NULL), 0);
}

static void malformed_requests_are_refused(void **state)
{
	struct web_stun_request rq;
	struct req r;
	const char *why = NULL;

	browser_request(&r, "evtj:h6vY", rfc_pwd);
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, NULL), 0);
	uint8_t m[1400];
	/* Not a binding request: indication, success response, other method. */
	const uint16_t types[] = { 0x0011, 0x0101, 0x0111, 0x0002, 0x0003, 0x4001, 0x8001 };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memcpy(m, r.b, r.len);
		wr16(m, types[i]);
		refresh_fingerprint(m, r.len);
		assert_int_equal(web_stun_parse_request(m, r.len, "evtj", rfc_pwd, &rq, &why), -EBADMSG);
	}
	/* Bad magic cookie (an RFC 3489 request). */
	memcpy(m, r.b, r.len);
	m[4] = 0;
	refresh_fingerprint(m, r.len);
	assert_int_equal(web_stun_parse_request(m, r.len, "evtj", rfc_pwd, &rq, &why), -EBADMSG);
	/* Length not a multiple of 4, or longer than a datagram we take. */
	memcpy(m, r.b, r.len);
	m[r.len] = 0;
	wr16(m + 2, (uint16_t)(r.len + 1 - 20));
	assert_int_equal(web_stun_parse_request(m, r.len + 1, "evtj", rfc_pwd, &rq, &why), -EBADMSG);
	uint8_t big[WEB_STUN_MAX + 4] = { 0 };
	memcpy(big, r.b, 20);
	wr16(big + 2, (uint16_t)(sizeof(big) - 20));
	assert_int_equal(web_stun_parse_request(big, sizeof(big), "evtj", rfc_pwd, &rq, &why), -EBADMSG);

	/* An unknown comprehension-required attribute before the HMAC is
	 * refused; after it, ignored; a comprehension-optional one anywhere
	 * is ignored. */
	req_start(&r, 0x0001);
	req_user(&r, "evtj:h6vY");
	req_attr(&r, 0x0030, "abcd", 4);
	req_mi(&r, rfc_pwd);
	req_fp(&r);
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, &why), -EBADMSG);
	assert_string_equal(why, "STUN request has an unknown comprehension-required attribute");
	req_start(&r, 0x0001);
	req_user(&r, "evtj:h6vY");
	req_attr(&r, 0xc0de, "abcd", 4);
	req_mi(&r, rfc_pwd);
	req_attr(&r, 0x0030, "abcd", 4);
	req_attr(&r, 0x0025, "xyz!", 4); /* malformed, but after the HMAC: ignored */
	req_fp(&r);
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, &why), 0);
	assert_false(rq.use_candidate);

	/* FINGERPRINT not last. */
	req_start(&r, 0x0001);
	req_user(&r, "evtj:h6vY");
	req_mi(&r, rfc_pwd);
	req_fp(&r);
	req_attr(&r, 0xc0de, "abcd", 4);
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, &why), -EBADMSG);

	/* Attributes of the wrong size. */
	const struct {
		uint16_t type;
		size_t len;
	} bad[] = { { 0x0024, 3 }, { 0x0025, 4 }, { 0x802a, 4 }, { 0x8029, 9 }, { 0x0008, 16 }, { 0x8028, 8 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_start(&r, 0x0001);
		req_user(&r, "evtj:h6vY");
		req_attr(&r, bad[i].type, "0123456789abcdef", bad[i].len);
		req_mi(&r, rfc_pwd);
		req_fp(&r);
		assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, &why), -EBADMSG);
	}
	/* An attribute whose length runs past the end. */
	browser_request(&r, "evtj:h6vY", rfc_pwd);
	memcpy(m, r.b, r.len);
	wr16(m + 22, 400);
	assert_int_equal(web_stun_parse_request(m, r.len, "evtj", rfc_pwd, &rq, &why), -EBADMSG);
	/* An over-long remote ufrag. */
	char user[WEB_STUN_UFRAG_MAX + 16];
	memset(user, 'a', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	memcpy(user, "evtj:", 5);
	browser_request(&r, user, rfc_pwd);
	assert_int_equal(web_stun_parse_request(r.b, r.len, "evtj", rfc_pwd, &rq, &why), -EBADMSG);
}

static void browser_check_fields_are_read(void **state)
{
	struct web_stun_request rq;
	struct req r;
	browser_request(&r, "OURS1234:theirs", "0123456789abcdefghijklmn");
	assert_int_equal(web_stun_parse_request(r.b, r.len, "OURS1234", "0123456789abcdefghijklmn", &rq, NULL), 0);
	assert_true(rq.use_candidate);
	assert_true(rq.controlling);
	assert_true(rq.tie_breaker == 0x0102030405060708ull);
	assert_int_equal(rq.priority, 0x6e7f1effu);
	assert_string_equal(rq.remote_ufrag, "theirs");
	/* Without FINGERPRINT it is still a request. */
	req_start(&r, 0x0001);
	req_user(&r, "OURS1234:theirs");
	req_mi(&r, "0123456789abcdefghijklmn");
	assert_int_equal(web_stun_parse_request(r.b, r.len, "OURS1234", "0123456789abcdefghijklmn", &rq, NULL), 0);
	assert_false(rq.use_candidate);
	assert_int_equal(rq.priority, 0);
}

static void rfc5769_responses_check_out(void **state)
{
	/* The test's checker agrees with the RFC, so it can judge ours. */
	assert_int_equal(check_message(rfc_response_v4, sizeof(rfc_response_v4), rfc_pwd), 0);
	assert_int_equal(check_message(rfc_response_v6, sizeof(rfc_response_v6), rfc_pwd), 0);
	assert_int_not_equal(check_message(rfc_response_v4, sizeof(rfc_response_v4), "VOkJxbRl1RmTxUk/WvJxBu"), 0);
}

static void response_v4_has_the_mapped_address_and_verifies(void **state)
{
	struct web_stun_request rq = { 0 };
	memcpy(rq.txid, rfc_txid, 12);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(RFC_PORT) };
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr), 1);
	uint8_t out[WEB_STUN_RESPONSE_MAX];
	int n = web_stun_build_response(&rq, (struct sockaddr *)&sin, sizeof(sin), rfc_pwd, out, sizeof(out));
	assert_true(n > 0 && n <= (int)WEB_STUN_RESPONSE_MAX);
	assert_int_equal(rd16(out), 0x0101);
	assert_memory_equal(out + 4, rfc_response_v4 + 4, 16); /* cookie and transaction id */
	/* Our XOR-MAPPED-ADDRESS is byte for byte the RFC's. */
	assert_memory_equal(out + 20, rfc_response_v4 + RFC_RESPONSE_XMA_OFF, 12);
	assert_int_equal(check_message(out, (size_t)n, rfc_pwd), 0);
	assert_int_not_equal(check_message(out, (size_t)n, "another password here!"), 0);
	assert_false(web_stun_is_stun(out, 0));
	assert_true(web_stun_is_stun(out, (size_t)n));
	/* Too small a buffer, an address of another family. */
	assert_int_equal(web_stun_build_response(&rq, (struct sockaddr *)&sin, sizeof(sin), rfc_pwd, out, (size_t)n - 1),
			 -ENOBUFS);
	assert_int_equal(web_stun_build_response(&rq, (struct sockaddr *)&sin, sizeof(sin) - 4, rfc_pwd, out, sizeof(out)),
			 -EINVAL);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	assert_int_equal(web_stun_build_response(&rq, (struct sockaddr *)&sun, sizeof(sun), rfc_pwd, out, sizeof(out)),
			 -EINVAL);
}

static void response_v6_has_the_mapped_address_and_verifies(void **state)
{
	struct web_stun_request rq = { 0 };
	memcpy(rq.txid, rfc_txid, 12);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(RFC_PORT) };
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &s6.sin6_addr), 1);
	uint8_t out[WEB_STUN_RESPONSE_MAX];
	int n = web_stun_build_response(&rq, (struct sockaddr *)&s6, sizeof(s6), rfc_pwd, out, sizeof(out));
	assert_true(n > 0 && n <= (int)WEB_STUN_RESPONSE_MAX);
	assert_memory_equal(out + 20, rfc_response_v6 + RFC_RESPONSE_XMA_OFF, 24);
	assert_int_equal(check_message(out, (size_t)n, rfc_pwd), 0);
}

static void response_to_a_parsed_request_echoes_its_transaction(void **state)
{
	struct req r2;
	req_start(&r2, 0x0001);
	r2.b[8] = 0x42; /* another transaction id than the RFC's */
	r2.b[19] = 0x24;
	req_user(&r2, "OURS1234:theirs");
	req_mi(&r2, "0123456789abcdefghijklmn");
	req_fp(&r2);
	struct web_stun_request rq;
	assert_int_equal(web_stun_parse_request(r2.b, r2.len, "OURS1234", "0123456789abcdefghijklmn", &rq, NULL), 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(50000), .sin_addr = { htonl(0x7f000001) } };
	uint8_t out[WEB_STUN_RESPONSE_MAX];
	int n = web_stun_build_response(&rq, (struct sockaddr *)&sin, sizeof(sin), "0123456789abcdefghijklmn", out,
					sizeof(out));
	assert_true(n > 0);
	assert_memory_equal(out + 8, r2.b + 8, 12);
	assert_int_equal(out[8], 0x42);
	assert_int_equal(check_message(out, (size_t)n, "0123456789abcdefghijklmn"), 0);
	/* The X-Port and X-Address decode back. */
	assert_int_equal(rd16(out + 26) ^ 0x2112, 50000);
	uint32_t xa = (uint32_t)rd16(out + 28) << 16 | rd16(out + 30);
	assert_int_equal(xa ^ WEB_STUN_MAGIC, 0x7f000001u);
	/* A response is not a request. */
	assert_int_equal(web_stun_parse_request(out, (size_t)n, "OURS1234", "0123456789abcdefghijklmn", &rq, NULL),
			 -EBADMSG);
}

static void peek_names_the_local_ufrag(void **state)
{
	char u[WEB_STUN_UFRAG_MAX + 1];
	assert_int_equal(web_stun_peek_username(rfc_request, sizeof(rfc_request), u, sizeof(u)), 0);
	assert_string_equal(u, "evtj");
	assert_int_equal(web_stun_peek_username(rfc_request, sizeof(rfc_request), u, 5), 0);
	assert_int_equal(web_stun_peek_username(rfc_request, sizeof(rfc_request), u, 4), -ENOBUFS);
	/* Nothing verified: a wrong HMAC still names its peer. */
	uint8_t m[sizeof(rfc_request)];
	memcpy(m, rfc_request, sizeof(m));
	m[80] ^= 1;
	assert_int_equal(web_stun_peek_username(m, sizeof(m), u, sizeof(u)), 0);
	/* No USERNAME, no ':' in it, or not a request. */
	struct req r;
	req_start(&r, 0x0001);
	req_mi(&r, rfc_pwd);
	assert_int_equal(web_stun_peek_username(r.b, r.len, u, sizeof(u)), -EBADMSG);
	req_start(&r, 0x0001);
	req_user(&r, "nocolon");
	assert_int_equal(web_stun_peek_username(r.b, r.len, u, sizeof(u)), -EBADMSG);
	req_start(&r, 0x0001);
	req_user(&r, ":x");
	assert_int_equal(web_stun_peek_username(r.b, r.len, u, sizeof(u)), -EBADMSG);
	assert_int_equal(web_stun_peek_username(rfc_response_v4, sizeof(rfc_response_v4), u, sizeof(u)), -EBADMSG);
	/* USERNAME after MESSAGE-INTEGRITY is not looked at. */
	req_start(&r, 0x0001);
	req_mi(&r, rfc_pwd);
	req_user(&r, "late:x");
	assert_int_equal(web_stun_peek_username(r.b, r.len, u, sizeof(u)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32_is_iso_hdlc),
		cmocka_unit_test(demux_by_first_byte),
		cmocka_unit_test(rfc5769_sample_request_is_accepted),
		cmocka_unit_test(wrong_credentials_are_refused),
		cmocka_unit_test(tampering_is_caught),
		cmocka_unit_test(truncations_are_refused),
		cmocka_unit_test(malformed_requests_are_refused),
		cmocka_unit_test(browser_check_fields_are_read),
		cmocka_unit_test(rfc5769_responses_check_out),
		cmocka_unit_test(response_v4_has_the_mapped_address_and_verifies),
		cmocka_unit_test(response_v6_has_the_mapped_address_and_verifies),
		cmocka_unit_test(response_to_a_parsed_request_echoes_its_transaction),
		cmocka_unit_test(peek_names_the_local_ufrag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
