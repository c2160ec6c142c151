/* Invite links and tokens.
 *
 *   theta://HOST:PORT/SESSION?fp=FINGERPRINT&token=TOKEN
 *
 * HOST     a DNS name, a dotted IPv4 address or a bracketed IPv6 address
 *          ("[2001:db8::1]"; zone ids are not accepted)
 * PORT     1..65535, decimal, no leading zeros
 * SESSION  the 16-byte session id as 32 lowercase hex digits
 * fp       SHA-256 of the host's certificate, 64 hex digits (net_cert.h)
 * token    the invite token, base64url without padding (143 characters)
 * Other query keys are ignored (forward compatibility); fp and token must
 * appear exactly once. Links are at most PROTO_INVITE_MAX_LINK bytes.
 *
 * Token (107 bytes, fixed layout, little-endian):
 *   u8  version (1)
 *   u8  session_id[16]
 *   u8  role            (proto_sess_role)
 *   u8  flags           (bit 0: single use; other bits must be 0)
 *   u64 expiry          (Unix seconds; 0 = never)
 *   u8  nonce[16]       (random; names the invite for single-use tracking)
 *   u8  sig[64]         Ed25519 by the host key over
 *                       "theta/1 invite" NUL | the 43 bytes above */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_INVITE_VERSION     1
#define PROTO_INVITE_TOKEN_LEN   107
#define PROTO_INVITE_SIGNED_LEN  43
#define PROTO_INVITE_NONCE_LEN   16
#define PROTO_INVITE_ID_LEN      16
#define PROTO_INVITE_FP_LEN      32
#define PROTO_INVITE_MAX_LINK    512
#define PROTO_INVITE_MAX_HOST    253
#define PROTO_INVITE_MAX_PARAMS  8
#define PROTO_INVITE_FLAG_SINGLE_USE 0x01u
#define PROTO_INVITE_CONTEXT     "theta/1 invite"

struct proto_invite_token {
	uint8_t session_id[PROTO_INVITE_ID_LEN];
	uint8_t role;
	bool single_use;
	uint64_t expiry_s; /* 0: never */
	uint8_t nonce[PROTO_INVITE_NONCE_LEN];
	uint8_t sig[64];
};

struct proto_invite_link {
	char host[PROTO_INVITE_MAX_HOST + 1]; /* without brackets */
	bool host_is_ipv6;
	uint16_t port;
	uint8_t session_id[PROTO_INVITE_ID_LEN];
	uint8_t fp[PROTO_INVITE_FP_LEN];
	uint8_t token[PROTO_INVITE_TOKEN_LEN];
	struct proto_invite_token tok; /* decoded (signature not checked) */
};

/* Makes a signed token (fresh random nonce). seckey: libsodium Ed25519. */
int proto_invite_token_make(const uint8_t session_id[PROTO_INVITE_ID_LEN], unsigned role,
			    uint64_t expiry_s, bool single_use, const uint8_t seckey[64],
			    uint8_t out[PROTO_INVITE_TOKEN_LEN], struct proto_invite_token *tok);
/* Structure only: -EBADMSG unless a well-formed token. */
int proto_invite_token_parse(const uint8_t *p, size_t len, struct proto_invite_token *out);
/* Full check by the host: structure (-EBADMSG), signature by host_pk
 * (-EKEYREJECTED), expiry against now_s (-EKEYEXPIRED). */
int proto_invite_token_verify(const uint8_t *p, size_t len, const uint8_t host_pk[32],
			      uint64_t now_s, struct proto_invite_token *out);

/* Writes the link; returns its length, -ENOSPC if cap is too small,
 * -EINVAL for a bad host or port. */
int proto_invite_format(const char *host, uint16_t port, const uint8_t fp[PROTO_INVITE_FP_LEN],
			const uint8_t token[PROTO_INVITE_TOKEN_LEN], char *out, size_t cap);
/* -EINVAL for any malformed link (out untouched). */
int proto_invite_parse(const char *link, struct proto_invite_link *out);
/* NULL if the link parses, else one sentence saying what is wrong. */
const char *proto_invite_check(const char *link);
