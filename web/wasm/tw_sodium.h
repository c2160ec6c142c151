/* BLAKE2b (RFC 7693) and SipHash-2-4, our own, in the shape of the
 * libsodium calls common/ makes (crypto_generichash*, crypto_shorthash):
 * the browser's fold (theta.wasm) has no libsodium, and these give the
 * same bytes (tests/web/test_web_hash.c checks them against libsodium on
 * many lengths and keys). include/sodium.h maps libsodium's names onto
 * them for the wasm build.
 *
 * The names are TW_NAME(x): x itself, or, with TW_SODIUM_NS defined (the
 * native test defines it), x with that prefix, so that a native binary
 * holds these beside libsodium. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define TW_CAT_(a, b) a##b
#define TW_CAT(a, b) TW_CAT_(a, b)
#ifdef TW_SODIUM_NS
#define TW_NAME(n) TW_CAT(TW_SODIUM_NS, n)
#else
#define TW_NAME(n) n
#endif

#define TW_BLAKE2B_BLOCK 128u
/* What libsodium's BLAKE2b accepts (its _BYTES_MIN and _KEYBYTES_MIN, 16,
 * are advice: th_id.c asks for 8 bytes). */
#define TW_BLAKE2B_OUT_MIN 1u
#define TW_BLAKE2B_OUT_MAX 64u
#define TW_BLAKE2B_KEY_MAX 64u
#define TW_SIPHASH_KEY 16u
#define TW_SIPHASH_OUT 8u

typedef struct TW_NAME(crypto_generichash_state) {
	uint64_t h[8];
	uint64_t t[2]; /* bytes compressed so far, 128-bit */
	uint8_t buf[TW_BLAKE2B_BLOCK];
	size_t buflen;
	size_t outlen;
} TW_NAME(crypto_generichash_state);

/* 0, or -1 for an out length outside 1..64 or a key longer than 64 bytes
 * (libsodium's bounds); key NULL or keylen 0: unkeyed, as libsodium. */
int TW_NAME(crypto_generichash_init)(TW_NAME(crypto_generichash_state) *st, const unsigned char *key, size_t keylen,
				     size_t outlen);
int TW_NAME(crypto_generichash_update)(TW_NAME(crypto_generichash_state) *st, const unsigned char *in,
				       unsigned long long inlen);
/* outlen must be the init's; -1 otherwise (out untouched). */
int TW_NAME(crypto_generichash_final)(TW_NAME(crypto_generichash_state) *st, unsigned char *out, size_t outlen);
int TW_NAME(crypto_generichash)(unsigned char *out, size_t outlen, const unsigned char *in, unsigned long long inlen,
				const unsigned char *key, size_t keylen);
/* SipHash-2-4 of in under key[16]: 8 bytes, little-endian. */
int TW_NAME(crypto_shorthash)(unsigned char *out, const unsigned char *in, unsigned long long inlen,
			      const unsigned char *k);
