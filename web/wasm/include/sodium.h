/* The wasm build's <sodium.h> (web/wasm/): the libsodium names common/'s
 * fold, scene, ids and hashes use, implemented by web/wasm/tw_sodium.c
 * (BLAKE2b, SipHash-2-4). Nothing else of libsodium exists here: a source
 * that calls something more does not compile into theta.wasm. */
#pragma once
#include "../tw_sodium.h"

#define crypto_generichash_BYTES 32u
#define crypto_generichash_BYTES_MIN 16u
#define crypto_generichash_BYTES_MAX TW_BLAKE2B_OUT_MAX
#define crypto_generichash_KEYBYTES 32u
#define crypto_generichash_KEYBYTES_MIN 16u
#define crypto_generichash_KEYBYTES_MAX TW_BLAKE2B_KEY_MAX
#define crypto_shorthash_BYTES TW_SIPHASH_OUT
#define crypto_shorthash_KEYBYTES TW_SIPHASH_KEY
