/* libFuzzer target: th_fold_restore on arbitrary bytes. The first byte picks
 * what the rest is: even, a whole snapshot as read from a file or the wire
 * (header, zstd frame); odd, the uncompressed content, sealed here with a
 * right header, checksum and zstd frame, so the fuzzer reaches the content
 * checks behind them. Checks the contract: a refusal is -EBADMSG with a
 * sentence (or -ENOMEM) and no fold; a restored fold's snapshot restores to
 * the same world hash, set digest and snapshot bytes. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "th_buf.h"
#include "th_fold.h"

static void fz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/* The host key the corpus was written with (32 bytes of 0x10 as seed). */
static struct th_fold_config fz_config(void)
{
	static struct th_fold_config c;
	static bool done;
	if (!done) {
		uint8_t seed[32];
		struct th_keypair kp;
		memset(seed, 0x10, sizeof seed);
		th_keypair_from_seed(seed, &kp);
		memcpy(c.host_key, kp.pk, 32);
		done = true;
	}
	return c;
}

static uint8_t *fz_seal(const uint8_t *content, size_t len, size_t *out_len)
{
	size_t bound = ZSTD_compressBound(len);
	uint8_t *p = malloc(48 + bound);
	if (!p)
		return NULL;
	th_put_le32(p, TH_FOLD_SNAPSHOT_MAGIC);
	th_put_le32(p + 4, TH_FOLD_SNAPSHOT_VERSION);
	th_put_le64(p + 8, len);
	crypto_generichash(p + 16, 32, content, len, NULL, 0);
	size_t z = ZSTD_compress(p + 48, bound, content, len, 1);
	if (ZSTD_isError(z)) {
		free(p);
		return NULL;
	}
	*out_len = 48 + z;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct th_fold_config c = fz_config();
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	uint8_t *sealed = NULL;
	if (data[0] & 1) {
		sealed = fz_seal(p, len, &len);
		if (!sealed)
			return 0;
		p = sealed;
	}
	struct th_fold *f = NULL;
	const char *why = NULL;
	int rc = th_fold_restore(&c, p, len, &f, &why);
	if (rc < 0) {
		fz_check(rc == -EBADMSG || rc == -ENOMEM);
		fz_check(rc != -EBADMSG || (why && why[0]));
		fz_check(f == NULL);
		free(sealed);
		return 0;
	}
	fz_check(rc == 0 && f != NULL);
	uint8_t h1[32], h2[32], d1[32], d2[32];
	fz_check(th_fold_world_hash(f, h1) == 0);
	th_fold_set_digest(f, d1);
	struct th_wbuf w1, w2;
	th_wbuf_init(&w1, 0);
	th_wbuf_init(&w2, 0);
	fz_check(th_fold_snapshot(f, &w1) == 0);
	struct th_fold *g = NULL;
	fz_check(th_fold_restore(&c, w1.data, w1.len, &g, &why) == 0);
	fz_check(th_fold_world_hash(g, h2) == 0);
	th_fold_set_digest(g, d2);
	fz_check(memcmp(h1, h2, 32) == 0 && memcmp(d1, d2, 32) == 0);
	fz_check(th_fold_snapshot(g, &w2) == 0);
	fz_check(w1.len == w2.len && memcmp(w1.data, w2.data, w1.len) == 0);
	struct th_fold_stats a, b;
	th_fold_stats(f, &a);
	th_fold_stats(g, &b);
	fz_check(a.entries == b.entries && a.applied == b.applied && a.next_pos == b.next_pos);
	th_wbuf_fini(&w1);
	th_wbuf_fini(&w2);
	th_fold_destroy(&f);
	th_fold_destroy(&g);
	free(sealed);
	return 0;
}
