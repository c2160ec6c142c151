/* SipHash-2-4 (libsodium crypto_shorthash) with Theta's fixed, public key.
 * Used for stable component ids and the schema hash: every daemon and client
 * must derive the same values, so the key is a constant, documented in
 * docs/protocol.md ("theta-schema-v1\0" as 16 ASCII bytes). It is not a secret
 * and gives no protection against chosen inputs; it only names things. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TH_HASH_KEY "theta-schema-v1" /* 15 chars + NUL = 16 bytes */

uint64_t th_siphash(const void *data, size_t len);
static inline uint64_t th_siphash_str(const char *s)
{
	return th_siphash(s, strlen(s));
}

/* The 64-bit finalizer of MurmurHash3 (fmix64): every input bit reaches
 * every output bit; a bijection, 0 -> 0. For in-memory tables and
 * signatures, never for names that other programs derive. */
static inline uint64_t th_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}
