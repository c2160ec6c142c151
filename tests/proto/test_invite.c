/* proto/invite: invite tokens and the theta:// link parser, including
 * every malformed-link case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "invite.h"

static uint8_t pk[32], sk[64];
static uint8_t sid[16], fp[32];

static int setup(void **state)
{
	(void)state;
	crypto_sign_keypair(pk, sk);
	for (int i = 0; i < 16; i++)
		sid[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 32; i++)
		fp[i] = (uint8_t)(i * 7);
	return 0;
}

static void make_link(char *out, size_t cap, const char *host, uint16_t port)
{
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	assert_int_equal(proto_invite_token_make(sid, 2, 2000000000, true, sk, tok, NULL), 0);
	assert_true(proto_invite_format(host, port, fp, tok, out, cap) > 0);
}

static void token_round_trips_and_verifies(void **state)
{
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	struct proto_invite_token t, v;
	assert_int_equal(proto_invite_token_make(sid, 3, 1000, true, sk, tok, &t), 0);
	assert_int_equal(t.role, 3);
	assert_true(t.single_use);
	assert_int_equal(t.expiry_s, 1000);
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), pk, 999, &v), 0);
	assert_memory_equal(v.nonce, t.nonce, 16);
	assert_memory_equal(v.session_id, sid, 16);
	/* Two invites for the same session differ by their nonce. */
	uint8_t tok2[PROTO_INVITE_TOKEN_LEN];
	struct proto_invite_token t2;
	assert_int_equal(proto_invite_token_make(sid, 3, 1000, true, sk, tok2, &t2), 0);
	assert_memory_not_equal(t.nonce, t2.nonce, 16);
}

static void token_refusals_are_distinct(void **state)
{
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	assert_int_equal(proto_invite_token_make(sid, 1, 1000, false, sk, tok, NULL), 0);
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), pk, 1000, NULL), -EKEYEXPIRED);
	uint8_t opk[32], osk[64];
	crypto_sign_keypair(opk, osk);
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), opk, 0, NULL), -EKEYREJECTED);
	tok[17] = 2; /* role raised by the bearer */
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), pk, 0, NULL), -EKEYREJECTED);
	tok[17] = 9;
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), pk, 0, NULL), -EBADMSG);
	tok[17] = 1;
	tok[18] = 0x80; /* unknown flag */
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), pk, 0, NULL), -EBADMSG);
	tok[18] = 0;
	tok[0] = 2;
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), pk, 0, NULL), -EBADMSG);
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok) - 1, pk, 0, NULL), -EBADMSG);
	/* expiry 0 = never */
	assert_int_equal(proto_invite_token_make(sid, 1, 0, false, sk, tok, NULL), 0);
	assert_int_equal(proto_invite_token_verify(tok, sizeof(tok), pk, UINT64_MAX, NULL), 0);
	assert_int_equal(proto_invite_token_make(sid, 0, 0, false, sk, tok, NULL), -EINVAL);
}

static void link_round_trips_for_names_ipv4_and_ipv6(void **state)
{
	const char *hosts[] = {"example.org", "192.168.1.20", "::1", "2001:db8::42", "pc-b"};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char link[PROTO_INVITE_MAX_LINK];
		make_link(link, sizeof(link), hosts[i], 7447);
		struct proto_invite_link l;
		assert_int_equal(proto_invite_parse(link, &l), 0);
		assert_null(proto_invite_check(link));
		assert_string_equal(l.host, hosts[i]);
		assert_int_equal(l.host_is_ipv6, strchr(hosts[i], ':') != NULL);
		assert_int_equal(l.port, 7447);
		assert_memory_equal(l.session_id, sid, 16);
		assert_memory_equal(l.fp, fp, 32);
		assert_int_equal(l.tok.role, 2);
		assert_int_equal(proto_invite_token_verify(l.token, sizeof(l.token), pk, 0, NULL), 0);
	}
	char link[PROTO_INVITE_MAX_LINK];
	make_link(link, sizeof(link), "::1", 1);
	assert_non_null(strstr(link, "theta://[::1]:1/a0a1a2a3a4a5a6a7a8a9aaabacadaeaf?fp="));
	/* too small a buffer */
	uint8_t tok[PROTO_INVITE_TOKEN_LEN];
	assert_int_equal(proto_invite_token_make(sid, 2, 0, false, sk, tok, NULL), 0);
	assert_int_equal(proto_invite_format("h", 1, fp, tok, link, 50), -ENOSPC);
	assert_int_equal(proto_invite_format("bad host", 1, fp, tok, link, sizeof(link)), -EINVAL);
	assert_int_equal(proto_invite_format("h", 0, fp, tok, link, sizeof(link)), -EINVAL);
}

/* Replaces the first occurrence of `from` in link with `to`. */
static void edit(char *out, size_t cap, const char *link, const char *from, const char *to)
{
	const char *p = strstr(link, from);
	assert_non_null(p);
	snprintf(out, cap, "%.*s%s%s", (int)(p - link), link, to, p + strlen(from));
}

static void expect_bad(const char *link, const char *sentence_part)
{
	struct proto_invite_link l;
	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(proto_invite_parse(link, &l), -EINVAL);
	assert_int_equal(l.port, 0x5a5a); /* untouched */
	const char *why = proto_invite_check(link);
	assert_non_null(why);
	if (!strstr(why, sentence_part)) {
		print_error("link %s: got '%s', wanted '%s'\n", link, why, sentence_part);
		fail();
	}
}

static void every_malformed_link_is_refused_with_a_reason(void **state)
{
	char good[PROTO_INVITE_MAX_LINK], b[2 * PROTO_INVITE_MAX_LINK];
	make_link(good, sizeof(good), "example.org", 7447);
	const char *fpart = strstr(good, "?fp=") + 4;
	char fphex[65];
	memcpy(fphex, fpart, 64);
	fphex[64] = '\0';
	const char *tpart = strstr(good, "&token=") + 7;

	expect_bad("", "empty");
	expect_bad("http://example.org:1/a0a1a2a3a4a5a6a7a8a9aaabacadaeaf?fp=00&token=00", "theta://");
	expect_bad("THETA://example.org:1/x", "theta://");
	/* host */
	edit(b, sizeof(b), good, "example.org", "");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "exa_mple.org");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "-example.org");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "example..org");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "300.1.1.1");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "[::1");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "[]");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "[fe80::1%25eth0]");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "[not:an:addr:zz::]");
	expect_bad(b, "host");
	edit(b, sizeof(b), good, "example.org", "::1");
	expect_bad(b, "host"); /* unbracketed IPv6 */
	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	edit(b, sizeof(b), good, "example.org", label);
	expect_bad(b, "host");
	/* port */
	edit(b, sizeof(b), good, ":7447/", "/");
	expect_bad(b, "port");
	edit(b, sizeof(b), good, ":7447/", ":/");
	expect_bad(b, "port");
	edit(b, sizeof(b), good, ":7447/", ":0/");
	expect_bad(b, "port");
	edit(b, sizeof(b), good, ":7447/", ":65536/");
	expect_bad(b, "port");
	edit(b, sizeof(b), good, ":7447/", ":07447/");
	expect_bad(b, "port");
	edit(b, sizeof(b), good, ":7447/", ":74x7/");
	expect_bad(b, "port");
	edit(b, sizeof(b), good, ":7447/", ":-1/");
	expect_bad(b, "port");
	/* session */
	edit(b, sizeof(b), good, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "a0a1");
	expect_bad(b, "session");
	edit(b, sizeof(b), good, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
	expect_bad(b, "session");
	edit(b, sizeof(b), good, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "g0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	expect_bad(b, "session");
	edit(b, sizeof(b), good, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf00");
	expect_bad(b, "session");
	edit(b, sizeof(b), good, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "b0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	expect_bad(b, "different session");
	/* query */
	edit(b, sizeof(b), good, "?", "");
	expect_bad(b, "session");
	char *q = strchr(good, '?');
	snprintf(b, sizeof(b), "%.*s", (int)(q - good), good);
	expect_bad(b, "lacks");
	edit(b, sizeof(b), good, "fp=", "fp");
	expect_bad(b, "parameters");
	edit(b, sizeof(b), good, "fp=", "=");
	expect_bad(b, "parameters");
	snprintf(b, sizeof(b), "%s&", good);
	expect_bad(b, "parameters");
	edit(b, sizeof(b), good, "&token=", "&&token=");
	expect_bad(b, "parameters");
	edit(b, sizeof(b), good, "fp=", "xp=");
	expect_bad(b, "lacks");
	edit(b, sizeof(b), good, "&token=", "&tok=");
	expect_bad(b, "lacks");
	snprintf(b, sizeof(b), "%s&fp=%s", good, fphex);
	expect_bad(b, "twice");
	snprintf(b, sizeof(b), "%s&token=%s", good, tpart);
	expect_bad(b, "twice");
	snprintf(b, sizeof(b), "%s&a=1&b=2&c=3&d=4&e=5&f=6&g=7", good);
	expect_bad(b, "parameters"); /* too many */
	/* fingerprint */
	edit(b, sizeof(b), good, fphex, "abcd");
	expect_bad(b, "fingerprint");
	char fpbad[65];
	memcpy(fpbad, fphex, 65);
	fpbad[3] = 'z';
	edit(b, sizeof(b), good, fphex, fpbad);
	expect_bad(b, "fingerprint");
	/* token */
	char tbad[200];
	snprintf(tbad, sizeof(tbad), "%s", tpart);
	tbad[100] = tbad[100] == 'A' ? 'B' : 'A'; /* in the signature: parses, fails verify */
	edit(b, sizeof(b), good, tpart, tbad);
	assert_null(proto_invite_check(b));
	tbad[10] = '+'; /* not base64url */
	edit(b, sizeof(b), good, tpart, tbad);
	expect_bad(b, "token");
	edit(b, sizeof(b), good, tpart, "AAAA");
	expect_bad(b, "token");
	snprintf(tbad, sizeof(tbad), "%s=", tpart);
	edit(b, sizeof(b), good, tpart, tbad);
	expect_bad(b, "token");
	/* characters and length */
	edit(b, sizeof(b), good, "example.org", "exam ple.org");
	expect_bad(b, "characters");
	snprintf(b, sizeof(b), "%s#frag", good);
	expect_bad(b, "characters");
	edit(b, sizeof(b), good, "example.org", "ex\xc3\xa4mple.org");
	expect_bad(b, "characters");
	char longl[PROTO_INVITE_MAX_LINK + 40];
	snprintf(longl, sizeof(longl), "%s&pad=", good);
	size_t n = strlen(longl);
	memset(longl + n, 'x', sizeof(longl) - n - 1);
	longl[sizeof(longl) - 1] = '\0';
	expect_bad(longl, "too long");
	/* unknown parameters are ignored */
	snprintf(b, sizeof(b), "%s&v=2", good);
	assert_null(proto_invite_check(b));
	assert_int_equal(proto_invite_parse(NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_round_trips_and_verifies),
		cmocka_unit_test(token_refusals_are_distinct),
		cmocka_unit_test(link_round_trips_for_names_ipv4_and_ipv6),
		cmocka_unit_test(every_malformed_link_is_refused_with_a_reason),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
