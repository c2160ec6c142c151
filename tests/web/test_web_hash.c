/* web/wasm/tw_sodium.c, the BLAKE2b (RFC 7693) and SipHash-2-4 that stand
 * in for libsodium in theta.wasm, compiled here natively under the prefix
 * twn_ (beside libsodium itself) and checked against libsodium: every
 * input length 0..1100 (block boundaries), every out length 1..64, keys
 * of 0..64 bytes, streamed in uneven pieces, and SipHash over lengths and
 * keys; the RFC's "abc" vector; the bounds libsodium refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#define TW_SODIUM_NS twn_
#include "../../web/wasm/tw_sodium.c"

#define IN_MAX 1100u

static uint8_t in[IN_MAX], key[64];

static void fill(uint32_t seed)
{
	for (unsigned i = 0; i < IN_MAX; i++) {
		seed = seed * 1103515245u + 12345u;
		in[i] = (uint8_t)(seed >> 16);
	}
	for (unsigned i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 37u + seed);
}

static void test_blake2b_one_shot_matches_libsodium(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	fill(1);
	uint8_t a[64], b[64];
	for (size_t len = 0; len <= IN_MAX; len++) {
		size_t out = 1 + len % 64, kl = (len / 7) % 65;
		const uint8_t *k = kl ? key : NULL;
		assert_int_equal(crypto_generichash(a, out, in, len, k, kl), 0);
		assert_int_equal(twn_crypto_generichash(b, out, in, len, k, kl), 0);
		assert_memory_equal(a, b, out);
	}
	/* The fold's sizes: 32-byte hashes, 8-byte ids, unkeyed. */
	for (size_t out = 1; out <= 64; out++)
		for (size_t len = 0; len < 300; len += 37) {
			assert_int_equal(crypto_generichash(a, out, in, len, NULL, 0), 0);
			assert_int_equal(twn_crypto_generichash(b, out, in, len, NULL, 0), 0);
			assert_memory_equal(a, b, out);
		}
}

static void test_blake2b_streamed_matches_libsodium(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	fill(2);
	uint8_t a[64], b[64];
	for (size_t len = 0; len <= IN_MAX; len += 13) {
		for (size_t piece = 1; piece <= 257; piece = piece * 2 + 1) {
			size_t kl = piece % 3 ? 0 : 32;
			crypto_generichash_state sa;
			twn_crypto_generichash_state sb;
			assert_int_equal(crypto_generichash_init(&sa, kl ? key : NULL, kl, 32), 0);
			assert_int_equal(twn_crypto_generichash_init(&sb, kl ? key : NULL, kl, 32), 0);
			for (size_t off = 0; off < len; off += piece) {
				size_t n = len - off < piece ? len - off : piece;
				crypto_generichash_update(&sa, in + off, n);
				twn_crypto_generichash_update(&sb, in + off, n);
			}
			assert_int_equal(crypto_generichash_final(&sa, a, 32), 0);
			assert_int_equal(twn_crypto_generichash_final(&sb, b, 32), 0);
			assert_memory_equal(a, b, 32);
		}
	}
}

static void test_blake2b_rfc_vector_and_bounds(void **state)
{
	(void)state;
	/* RFC 7693 Appendix A: BLAKE2b-512("abc"). */
	static const uint8_t abc512[64] = {
		0xba, 0x80, 0xa5, 0x3f, 0x98, 0x1c, 0x4d, 0x0d, 0x6a, 0x27, 0x97, 0xb6, 0x9f, 0x12, 0xf6, 0xe9,
		0x4c, 0x21, 0x2f, 0x14, 0x68, 0x5a, 0xc4, 0xb7, 0x4b, 0x12, 0xbb, 0x6f, 0xdb, 0xff, 0xa2, 0xd1,
		0x7d, 0x87, 0xc5, 0x39, 0x2a, 0xab, 0x79, 0x2d, 0xc2, 0x52, 0xd5, 0xde, 0x45, 0x33, 0xcc, 0x95,
		0x18, 0xd3, 0x8a, 0xa8, 0xdb, 0xf1, 0x92, 0x5a, 0xb9, 0x23, 0x86, 0xed, 0xd4, 0x00, 0x99, 0x23,
	};
	uint8_t out[65];
	assert_int_equal(twn_crypto_generichash(out, 64, (const uint8_t *)"abc", 3, NULL, 0), 0);
	assert_memory_equal(out, abc512, 64);
	/* What libsodium refuses, refused too: out 0 or past 64, a key past 64,
	 * a final of another length than the init's. */
	assert_int_equal(twn_crypto_generichash(out, 0, in, 3, NULL, 0), -1);
	assert_int_equal(crypto_generichash(out, 0, in, 3, NULL, 0), -1);
	assert_int_equal(twn_crypto_generichash(out, 65, in, 3, NULL, 0), -1);
	assert_int_equal(crypto_generichash(out, 65, in, 3, NULL, 0), -1);
	assert_int_equal(twn_crypto_generichash(out, 32, in, 3, key, 65), -1);
	twn_crypto_generichash_state st;
	assert_int_equal(twn_crypto_generichash_init(&st, NULL, 0, 32), 0);
	assert_int_equal(twn_crypto_generichash_final(&st, out, 16), -1);
}

static void test_siphash_matches_libsodium(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	uint8_t a[8], b[8];
	for (uint32_t seed = 3; seed < 40; seed++) {
		fill(seed);
		for (size_t len = 0; len <= 130; len++) {
			crypto_shorthash(a, in, len, key);
			twn_crypto_shorthash(b, in, len, key);
			assert_memory_equal(a, b, 8);
		}
	}
	/* The paper's vector: key 00..0f, input 00..0e, 0xa129ca6149be45e5. */
	uint8_t k[16], m[15];
	for (unsigned i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (unsigned i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	twn_crypto_shorthash(b, m, sizeof m, k);
	static const uint8_t want[8] = { 0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1 };
	assert_memory_equal(b, want, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blake2b_one_shot_matches_libsodium),
		cmocka_unit_test(test_blake2b_streamed_matches_libsodium),
		cmocka_unit_test(test_blake2b_rfc_vector_and_bounds),
		cmocka_unit_test(test_siphash_matches_libsodium),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
