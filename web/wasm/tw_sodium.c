/* BLAKE2b as RFC 7693 specifies it and SipHash-2-4 as Aumasson and
 * Bernstein's paper does (tw_sodium.h). Plain portable C: the wasm build
 * has no SIMD to choose. */
#include "tw_sodium.h"

#include <string.h>

/* ---- BLAKE2b (RFC 7693) ------------------------------------------------------------------ */

static const uint64_t b2b_iv[8] = {
	0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
	0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

/* Message word schedule of rounds 0..9; rounds 10 and 11 repeat 0 and 1. */
static const uint8_t b2b_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint64_t rotr64(uint64_t x, unsigned n)
{
	return x >> n | x << (64 - n);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void store64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#define B2B_G(a, b, c, d, x, y)                  \
	do {                                     \
		v[a] = v[a] + v[b] + (x);        \
		v[d] = rotr64(v[d] ^ v[a], 32);  \
		v[c] = v[c] + v[d];              \
		v[b] = rotr64(v[b] ^ v[c], 24);  \
		v[a] = v[a] + v[b] + (y);        \
		v[d] = rotr64(v[d] ^ v[a], 16);  \
		v[c] = v[c] + v[d];              \
		v[b] = rotr64(v[b] ^ v[c], 63);  \
	} while (0)

/* F: one 128-byte block into h; last marks the final block. */
static void b2b_compress(TW_NAME(crypto_generichash_state) *st, const uint8_t block[TW_BLAKE2B_BLOCK], int last)
{
	uint64_t v[16], m[16];
	for (int i = 0; i < 16; i++)
		m[i] = load64(block + 8 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = st->h[i];
		v[i + 8] = b2b_iv[i];
	}
	v[12] ^= st->t[0];
	v[13] ^= st->t[1];
	if (last)
		v[14] = ~v[14];
	for (int r = 0; r < 12; r++) {
		const uint8_t *s = b2b_sigma[r % 10];
		B2B_G(0, 4, 8, 12, m[s[0]], m[s[1]]);
		B2B_G(1, 5, 9, 13, m[s[2]], m[s[3]]);
		B2B_G(2, 6, 10, 14, m[s[4]], m[s[5]]);
		B2B_G(3, 7, 11, 15, m[s[6]], m[s[7]]);
		B2B_G(0, 5, 10, 15, m[s[8]], m[s[9]]);
		B2B_G(1, 6, 11, 12, m[s[10]], m[s[11]]);
		B2B_G(2, 7, 8, 13, m[s[12]], m[s[13]]);
		B2B_G(3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (int i = 0; i < 8; i++)
		st->h[i] ^= v[i] ^ v[i + 8];
}

static void b2b_count(TW_NAME(crypto_generichash_state) *st, uint64_t n)
{
	st->t[0] += n;
	if (st->t[0] < n)
		st->t[1]++;
}

int TW_NAME(crypto_generichash_init)(TW_NAME(crypto_generichash_state) *st, const unsigned char *key, size_t keylen,
				     size_t outlen)
{
	if (outlen < TW_BLAKE2B_OUT_MIN || outlen > TW_BLAKE2B_OUT_MAX || keylen > TW_BLAKE2B_KEY_MAX)
		return -1;
	if (!key)
		keylen = 0;
	memset(st, 0, sizeof *st);
	memcpy(st->h, b2b_iv, sizeof st->h);
	/* Parameter block: digest length, key length, fanout 1, depth 1. */
	st->h[0] ^= 0x01010000ull ^ (uint64_t)keylen << 8 ^ (uint64_t)outlen;
	st->outlen = outlen;
	if (keylen) {
		/* The key, zero-padded, is the first block. */
		memcpy(st->buf, key, keylen);
		st->buflen = TW_BLAKE2B_BLOCK;
	}
	return 0;
}

int TW_NAME(crypto_generichash_update)(TW_NAME(crypto_generichash_state) *st, const unsigned char *in,
				       unsigned long long inlen)
{
	while (inlen > 0) {
		if (st->buflen == TW_BLAKE2B_BLOCK) {
			/* A full buffer is compressed only once more input
			 * follows: the last block must carry the final flag. */
			b2b_count(st, TW_BLAKE2B_BLOCK);
			b2b_compress(st, st->buf, 0);
			st->buflen = 0;
		}
		size_t take = TW_BLAKE2B_BLOCK - st->buflen;
		if (take > inlen)
			take = (size_t)inlen;
		memcpy(st->buf + st->buflen, in, take);
		st->buflen += take;
		in += take;
		inlen -= take;
	}
	return 0;
}

int TW_NAME(crypto_generichash_final)(TW_NAME(crypto_generichash_state) *st, unsigned char *out, size_t outlen)
{
	if (outlen != st->outlen)
		return -1;
	b2b_count(st, st->buflen);
	memset(st->buf + st->buflen, 0, TW_BLAKE2B_BLOCK - st->buflen);
	b2b_compress(st, st->buf, 1);
	uint8_t full[64];
	for (int i = 0; i < 8; i++)
		store64(full + 8 * i, st->h[i]);
	memcpy(out, full, outlen);
	memset(st, 0, sizeof *st);
	return 0;
}

int TW_NAME(crypto_generichash)(unsigned char *out, size_t outlen, const unsigned char *in, unsigned long long inlen,
				const unsigned char *key, size_t keylen)
{
	TW_NAME(crypto_generichash_state) st;
	if (TW_NAME(crypto_generichash_init)(&st, key, keylen, outlen) < 0)
		return -1;
	TW_NAME(crypto_generichash_update)(&st, in, inlen);
	return TW_NAME(crypto_generichash_final)(&st, out, outlen);
}

/* ---- SipHash-2-4 ---------------------------------------------------------------------- */

static inline uint64_t rotl64(uint64_t x, unsigned n)
{
	return x << n | x >> (64 - n);
}

#define SIP_ROUND()                               \
	do {                                      \
		v0 += v1;                         \
		v1 = rotl64(v1, 13);              \
		v1 ^= v0;                         \
		v0 = rotl64(v0, 32);              \
		v2 += v3;                         \
		v3 = rotl64(v3, 16);              \
		v3 ^= v2;                         \
		v0 += v3;                         \
		v3 = rotl64(v3, 21);              \
		v3 ^= v0;                         \
		v2 += v1;                         \
		v1 = rotl64(v1, 17);              \
		v1 ^= v2;                         \
		v2 = rotl64(v2, 32);              \
	} while (0)

int TW_NAME(crypto_shorthash)(unsigned char *out, const unsigned char *in, unsigned long long inlen,
			      const unsigned char *k)
{
	uint64_t k0 = load64(k), k1 = load64(k + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	unsigned long long full = inlen & ~7ull;
	for (unsigned long long i = 0; i < full; i += 8) {
		uint64_t m = load64(in + i);
		v3 ^= m;
		SIP_ROUND();
		SIP_ROUND();
		v0 ^= m;
	}
	/* The last word: the remaining bytes, the length's low byte on top. */
	uint64_t b = (uint64_t)(inlen & 0xff) << 56;
	for (unsigned i = 0; i < (unsigned)(inlen & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	v3 ^= b;
	SIP_ROUND();
	SIP_ROUND();
	v0 ^= b;
	v2 ^= 0xff;
	SIP_ROUND();
	SIP_ROUND();
	SIP_ROUND();
	SIP_ROUND();
	store64(out, v0 ^ v1 ^ v2 ^ v3);
	return 0;
}
