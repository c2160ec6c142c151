#include "th_hash.h"

#include <sodium.h>

_Static_assert(sizeof(TH_HASH_KEY) == crypto_shorthash_KEYBYTES, "hash key must be 16 bytes");

uint64_t th_siphash(const void *data, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, data, len, (const unsigned char *)TH_HASH_KEY);
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | out[i];
	return v;
}
