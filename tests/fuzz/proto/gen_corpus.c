/* Writes the seeds of the pres fuzz corpus (tests/fuzz/proto/corpus/pres/):
 * runs of frames that continue pres_fuzz.h's walk after its prefix (delta
 * frames against the prefix's baselines, a whole frame, a GONE, every
 * coding), each as u16 LE length then the frame. Not built by the Makefile
 * (no fuzz_ or test_ prefix); after a change to the frame, run from the
 * repository root:
 *
 *   make build/lib/libthcommon.a build/lib/libthtest.a
 *   cc -std=gnu17 -D_GNU_SOURCE -Iproto -Itests/lib tests/fuzz/proto/gen_corpus.c \
 *      build/lib/libthtest.a build/lib/libthcommon.a -lzstd -lsodium -lm -o /tmp/gen_pres && /tmp/gen_pres */
#include <stdio.h>
#include <stdlib.h>

#include "pres_fuzz.h"

static void put(FILE *f, const uint8_t *b, int n)
{
	if (n < 0) {
		fprintf(stderr, "gen_corpus: coding failed (%d)\n", n);
		exit(1);
	}
	uint8_t h[2] = { (uint8_t)n, (uint8_t)(n >> 8) };
	fwrite(h, 1, 2, f);
	fwrite(b, 1, (size_t)n, f);
}

int main(void)
{
	static const struct {
		const char *name;
		enum proto_pres_coding coding;
		unsigned frames;
		int gone;
	} seeds[] = {
		{ "dict", PROTO_PRES_CODE_DICT, 6, 0 },
		{ "plain", PROTO_PRES_CODE_PLAIN, 3, 0 },
		{ "raw", PROTO_PRES_CODE_RAW, 3, 0 },
		{ "gone", PROTO_PRES_CODE_RAW, 3, 1 },
		{ "whole", PROTO_PRES_CODE_RAW, 1, 0 },
	};
	for (unsigned s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		struct th_walk w;
		struct proto_pres_tx *tx;
		if (proto_pres_tx_new(&tx) || proto_pres_tx_set_coding(tx, seeds[s].coding))
			return 1;
		th_walk_init(&w, PRES_FUZZ_USERS, 10, PRES_FUZZ_SEED);
		uint8_t b[PROTO_PRES_FRAME_MAX];
		/* the prefix the target decodes itself (same acks), then the seed's frames */
		for (unsigned k = 1; k <= PRES_FUZZ_PREFIX; k++)
			if (pres_fuzz_frame(tx, &w, k, k - 1, b, sizeof b) < 0)
				return 1;
		char path[256];
		snprintf(path, sizeof path, "tests/fuzz/proto/corpus/pres/%s", seeds[s].name);
		FILE *f = fopen(path, "wb");
		if (!f) {
			fprintf(stderr, "gen_corpus: cannot write %s (run from the repository root)\n", path);
			return 1;
		}
		if (seeds[s].gone) {
			struct proto_pres_user u;
			th_walk_user(&w, 0, &u);
			unsigned taken;
			proto_pres_tx_on_ack(tx, PRES_FUZZ_PREFIX);
			put(f, b, proto_pres_encode(tx, PRES_FUZZ_T0_NS + 9 * PRES_FUZZ_TICK_NS, NULL, 0,
						    (const uint8_t(*)[PROTO_PRES_KEY_LEN])u.key, 1, 0, b, sizeof b, &taken));
		}
		for (unsigned k = 0; k < seeds[s].frames; k++) {
			uint64_t ack = seeds[s].frames == 1 ? 0 : PRES_FUZZ_PREFIX - 1 + (k & 1);
			put(f, b, pres_fuzz_frame(tx, &w, PRES_FUZZ_PREFIX + 1 + k, ack, b, sizeof b));
		}
		fclose(f);
		proto_pres_tx_free(&tx);
	}
	return 0;
}
