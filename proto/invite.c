/* Invite links and host-signed invite tokens. See invite.h. */
#include "invite.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "th_buf.h"
#include "th_hex.h"

#define SCHEME "theta://"
#define TOKEN_B64_LEN 143 /* base64url, no padding, of 107 bytes */

/* ---- token ---------------------------------------------------------------- */

static void token_sign_input(const uint8_t *signed_part, uint8_t *buf, size_t *len)
{
	memcpy(buf, PROTO_INVITE_CONTEXT, sizeof(PROTO_INVITE_CONTEXT));
	memcpy(buf + sizeof(PROTO_INVITE_CONTEXT), signed_part, PROTO_INVITE_SIGNED_LEN);
	*len = sizeof(PROTO_INVITE_CONTEXT) + PROTO_INVITE_SIGNED_LEN;
}

int proto_invite_token_make(const uint8_t session_id[PROTO_INVITE_ID_LEN], unsigned role,
			    uint64_t expiry_s, bool single_use, const uint8_t seckey[64],
			    uint8_t out[PROTO_INVITE_TOKEN_LEN], struct proto_invite_token *tok)
{
	if (role < 1 || role > 3)
		return -EINVAL;
	uint8_t t[PROTO_INVITE_TOKEN_LEN];
	t[0] = PROTO_INVITE_VERSION;
	memcpy(t + 1, session_id, PROTO_INVITE_ID_LEN);
	t[17] = (uint8_t)role;
	t[18] = single_use ? PROTO_INVITE_FLAG_SINGLE_USE : 0;
	th_put_le64(t + 19, expiry_s);
	randombytes_buf(t + 27, PROTO_INVITE_NONCE_LEN);
	uint8_t in[sizeof(PROTO_INVITE_CONTEXT) + PROTO_INVITE_SIGNED_LEN];
	size_t inlen;
	token_sign_input(t, in, &inlen);
	if (crypto_sign_detached(t + PROTO_INVITE_SIGNED_LEN, NULL, in, inlen, seckey) != 0)
		return -EIO;
	if (tok && proto_invite_token_parse(t, sizeof(t), tok) < 0)
		return -EIO;
	memcpy(out, t, sizeof(t));
	return 0;
}

int proto_invite_token_parse(const uint8_t *p, size_t len, struct proto_invite_token *out)
{
	if (len != PROTO_INVITE_TOKEN_LEN || p[0] != PROTO_INVITE_VERSION || p[17] < 1 ||
	    p[17] > 3 || (p[18] & ~PROTO_INVITE_FLAG_SINGLE_USE))
		return -EBADMSG;
	struct proto_invite_token t;
	memcpy(t.session_id, p + 1, PROTO_INVITE_ID_LEN);
	t.role = p[17];
	t.single_use = p[18] & PROTO_INVITE_FLAG_SINGLE_USE;
	t.expiry_s = th_get_le64(p + 19);
	memcpy(t.nonce, p + 27, PROTO_INVITE_NONCE_LEN);
	memcpy(t.sig, p + PROTO_INVITE_SIGNED_LEN, 64);
	*out = t;
	return 0;
}

int proto_invite_token_verify(const uint8_t *p, size_t len, const uint8_t host_pk[32],
			      uint64_t now_s, struct proto_invite_token *out)
{
	struct proto_invite_token t;
	if (proto_invite_token_parse(p, len, &t) < 0)
		return -EBADMSG;
	uint8_t in[sizeof(PROTO_INVITE_CONTEXT) + PROTO_INVITE_SIGNED_LEN];
	size_t inlen;
	token_sign_input(p, in, &inlen);
	if (crypto_sign_verify_detached(p + PROTO_INVITE_SIGNED_LEN, in, inlen, host_pk) != 0)
		return -EKEYREJECTED;
	if (t.expiry_s && now_s >= t.expiry_s)
		return -EKEYEXPIRED;
	if (out)
		*out = t;
	return 0;
}

/* ---- link ----------------------------------------------------------------- */

enum why {
	OK = 0,
	W_NULL,
	W_TOOLONG,
	W_SCHEME,
	W_HOST,
	W_PORT,
	W_SESSION,
	W_QUERY,
	W_FP,
	W_TOKEN,
	W_MISSING,
	W_DUP,
	W_MISMATCH,
	W_CHARS,
};

static const char *why_text(enum why w)
{
	switch (w) {
	case OK: return NULL;
	case W_NULL: return "The invite link is empty.";
	case W_TOOLONG: return "The invite link is too long.";
	case W_SCHEME: return "An invite link starts with theta://.";
	case W_HOST: return "The host in the invite link is not a valid name or address.";
	case W_PORT: return "The port in the invite link must be a number from 1 to 65535.";
	case W_SESSION: return "The session in the invite link must be 32 hex digits.";
	case W_QUERY: return "The invite link's parameters are malformed.";
	case W_FP: return "The fingerprint (fp=) in the invite link must be 64 hex digits.";
	case W_TOKEN: return "The token in the invite link is damaged.";
	case W_MISSING: return "The invite link lacks its fingerprint or token.";
	case W_DUP: return "The invite link names its fingerprint or token twice.";
	case W_MISMATCH: return "The token in the invite link is for a different session.";
	case W_CHARS: return "The invite link contains characters that do not belong in it.";
	}
	return "The invite link is malformed.";
}

/* Exactly n bytes of hex in s[0..slen). */
static bool parse_hex(const char *s, size_t slen, uint8_t *out, size_t n, bool lower_only)
{
	return th_hex_decode(s, slen, out, n, lower_only) == 0;
}

static bool dns_name_ok(const char *h, size_t n)
{
	if (n == 0 || n > PROTO_INVITE_MAX_HOST)
		return false;
	size_t label = 0;
	bool all_numeric = true;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (!(c >= '0' && c <= '9'))
			all_numeric = false;
		if (++label > 63)
			return false;
	}
	if (label == 0 || h[n - 1] == '-')
		return false;
	if (all_numeric) {
		/* Looks like IPv4: it has to be one. */
		char tmp[16];
		struct in_addr a;
		if (n >= sizeof(tmp))
			return false;
		memcpy(tmp, h, n);
		tmp[n] = '\0';
		return inet_pton(AF_INET, tmp, &a) == 1;
	}
	return true;
}

static enum why parse_link(const char *link, struct proto_invite_link *out)
{
	struct proto_invite_link l;
	memset(&l, 0, sizeof(l));
	if (!link || !*link)
		return W_NULL;
	size_t n = strnlen(link, PROTO_INVITE_MAX_LINK + 1);
	if (n > PROTO_INVITE_MAX_LINK)
		return W_TOOLONG;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)link[i] <= 0x20 || (unsigned char)link[i] >= 0x7f || link[i] == '#')
			return W_CHARS;
	if (strncmp(link, SCHEME, strlen(SCHEME)) != 0)
		return W_SCHEME;
	const char *p = link + strlen(SCHEME);

	/* host */
	const char *hend;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close)
			return W_HOST;
		size_t hl = (size_t)(close - p - 1);
		if (hl == 0 || hl >= 46)
			return W_HOST;
		memcpy(l.host, p + 1, hl);
		l.host[hl] = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, l.host, &a6) != 1)
			return W_HOST;
		l.host_is_ipv6 = true;
		hend = close + 1;
	} else {
		hend = p;
		while (*hend && *hend != ':' && *hend != '/' && *hend != '?')
			hend++;
		size_t hl = (size_t)(hend - p);
		if (!dns_name_ok(p, hl))
			return W_HOST;
		memcpy(l.host, p, hl);
		l.host[hl] = '\0';
	}
	/* port */
	if (*hend != ':')
		return W_PORT;
	p = hend + 1;
	unsigned long port = 0;
	size_t digits = 0;
	while (p[digits] >= '0' && p[digits] <= '9' && digits < 6)
		port = port * 10 + (unsigned long)(p[digits++] - '0');
	if (digits == 0 || digits > 5 || port < 1 || port > 65535 || p[0] == '0')
		return W_PORT;
	l.port = (uint16_t)port;
	p += digits;
	/* session */
	if (*p != '/')
		return *p == '\0' || *p == '?' ? W_SESSION : W_PORT;
	p++;
	const char *send = strchr(p, '?');
	if (!send)
		send = p + strlen(p);
	if (!parse_hex(p, (size_t)(send - p), l.session_id, PROTO_INVITE_ID_LEN, true))
		return W_SESSION;
	/* query */
	if (*send != '?')
		return W_MISSING;
	p = send + 1;
	bool have_fp = false, have_tok = false;
	unsigned nparams = 0;
	while (*p) {
		const char *amp = strchr(p, '&');
		const char *pend = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(pend - p));
		if (!eq || eq == p || ++nparams > PROTO_INVITE_MAX_PARAMS)
			return W_QUERY;
		size_t klen = (size_t)(eq - p), vlen = (size_t)(pend - eq - 1);
		const char *v = eq + 1;
		if (klen == 2 && !memcmp(p, "fp", 2)) {
			if (have_fp)
				return W_DUP;
			if (!parse_hex(v, vlen, l.fp, PROTO_INVITE_FP_LEN, false))
				return W_FP;
			have_fp = true;
		} else if (klen == 5 && !memcmp(p, "token", 5)) {
			if (have_tok)
				return W_DUP;
			size_t bin_len = 0;
			if (vlen != TOKEN_B64_LEN ||
			    sodium_base642bin(l.token, sizeof(l.token), v, vlen, NULL, &bin_len, NULL,
					      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
			    bin_len != PROTO_INVITE_TOKEN_LEN ||
			    proto_invite_token_parse(l.token, bin_len, &l.tok) < 0)
				return W_TOKEN;
			have_tok = true;
		}
		if (!amp)
			break;
		p = amp + 1;
		if (!*p)
			return W_QUERY; /* trailing '&' */
	}
	if (!have_fp || !have_tok)
		return W_MISSING;
	if (memcmp(l.tok.session_id, l.session_id, PROTO_INVITE_ID_LEN) != 0)
		return W_MISMATCH;
	*out = l;
	return OK;
}

int proto_invite_parse(const char *link, struct proto_invite_link *out)
{
	return parse_link(link, out) == OK ? 0 : -EINVAL;
}

const char *proto_invite_check(const char *link)
{
	struct proto_invite_link l;
	return why_text(parse_link(link, &l));
}

int proto_invite_format(const char *host, uint16_t port, const uint8_t fp[PROTO_INVITE_FP_LEN],
			const uint8_t token[PROTO_INVITE_TOKEN_LEN], char *out, size_t cap)
{
	struct proto_invite_token t;
	if (!host || port == 0 || proto_invite_token_parse(token, PROTO_INVITE_TOKEN_LEN, &t) < 0)
		return -EINVAL;
	struct in6_addr a6;
	bool v6 = inet_pton(AF_INET6, host, &a6) == 1;
	if (!v6 && !dns_name_ok(host, strlen(host)))
		return -EINVAL;
	char sid[2 * PROTO_INVITE_ID_LEN + 1], fph[2 * PROTO_INVITE_FP_LEN + 1];
	sodium_bin2hex(sid, sizeof(sid), t.session_id, PROTO_INVITE_ID_LEN);
	sodium_bin2hex(fph, sizeof(fph), fp, PROTO_INVITE_FP_LEN);
	char tok[TOKEN_B64_LEN + 1];
	sodium_bin2base64(tok, sizeof(tok), token, PROTO_INVITE_TOKEN_LEN,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	int n = snprintf(out, cap, SCHEME "%s%s%s:%u/%s?fp=%s&token=%s", v6 ? "[" : "", host,
			 v6 ? "]" : "", (unsigned)port, sid, fph, tok);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}
