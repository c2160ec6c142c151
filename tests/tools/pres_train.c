/* pres_train: trains the presence dictionary (schemas/presence.dict) from
 * frame bodies the real codec (proto/pres.c) codes for simulated sessions
 * (tests/lib/th_pressim.h: users walking with th_walk, a host coding one
 * frame per member by distance, members coding theirs, delay and loss), with
 * zstd's ZDICT_trainFromBuffer. `make presence-dict` runs it.
 *
 *   pres_train OUT [SECONDS]
 *
 * The sessions are fixed (seeds, sizes), so a run gives the same file for
 * the same codec. Bodies are taken raw (PROTO_PRES_CODE_RAW), as zstd sees
 * them. Prints the samples taken, the dictionary's size and its hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zdict.h>

#include "pres.h"
#include "th_buf.h"
#include "th_file.h"
#include "th_pressim.h"

#define TRAIN_DICT_CAP 8192u                 /* the dictionary's size */
#define TRAIN_SAMPLES_MAX 200000u
#define TRAIN_BYTES_MAX (48u * 1024 * 1024)
#define TRAIN_SECONDS_DEFAULT 20u

struct samples {
	uint8_t *buf;
	size_t used;
	size_t *sizes;
	unsigned n;
	unsigned every, seen; /* keep one frame in `every` */
};

static void take(void *ud, const struct th_pressim_frame *f)
{
	struct samples *s = ud;
	if (s->seen++ % s->every || f->body_len == 0 || s->n >= TRAIN_SAMPLES_MAX ||
	    s->used + f->body_len > TRAIN_BYTES_MAX)
		return;
	memcpy(s->buf + s->used, f->body, f->body_len);
	s->used += f->body_len;
	s->sizes[s->n++] = f->body_len;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pres_train OUT [SECONDS]\n");
		return 2;
	}
	unsigned seconds = argc == 3 ? (unsigned)strtoul(argv[2], NULL, 10) : TRAIN_SECONDS_DEFAULT;
	if (seconds == 0 || seconds > 3600) {
		fprintf(stderr, "pres_train: SECONDS must be 1..3600\n");
		return 2;
	}
	struct samples s = { .buf = malloc(TRAIN_BYTES_MAX), .sizes = calloc(TRAIN_SAMPLES_MAX, sizeof(size_t)), .every = 3 };
	if (!s.buf || !s.sizes) {
		fprintf(stderr, "pres_train: out of memory\n");
		return 1;
	}
	/* a crowded room and a spread-out scene, near and far links */
	static const struct th_pressim_config runs[] = {
		{ .users = 64, .spread_m = 30, .seed = 1001, .delay_ticks = 1, .loss_permille = 10, .coding = PROTO_PRES_CODE_RAW },
		{ .users = 64, .spread_m = 120, .seed = 1002, .delay_ticks = 3, .loss_permille = 20, .coding = PROTO_PRES_CODE_RAW },
		{ .users = 16, .spread_m = 12, .seed = 1003, .delay_ticks = 0, .coding = PROTO_PRES_CODE_RAW },
		{ .users = 32, .spread_m = 60, .seed = 1004, .delay_ticks = 5, .loss_permille = 5, .coding = PROTO_PRES_CODE_RAW },
	};
	for (unsigned r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		struct th_pressim *sim;
		int e = th_pressim_new(&runs[r], &sim);
		for (unsigned t = 0; e == 0 && t < seconds * 90; t++)
			e = th_pressim_tick(sim, take, &s);
		th_pressim_free(&sim);
		if (e < 0) {
			fprintf(stderr, "pres_train: the simulated session failed: %s\n", strerror(-e));
			return 1;
		}
	}
	uint8_t dict[TRAIN_DICT_CAP];
	size_t len = ZDICT_trainFromBuffer(dict, sizeof dict, s.buf, s.sizes, s.n);
	if (ZDICT_isError(len)) {
		fprintf(stderr, "pres_train: training failed: %s\n", ZDICT_getErrorName(len));
		return 1;
	}
	int w = th_file_replace(argv[1], dict, len, 0644);
	if (w < 0) {
		fprintf(stderr, "pres_train: cannot write %s: %s\n", argv[1], strerror(-w));
		return 1;
	}
	uint8_t h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, dict, len, NULL, 0);
	uint64_t hash = th_get_le64(h); /* as proto_pres_dict_hash */
	printf("pres_train: %u samples (%zu bytes) -> %s: %zu bytes, hash %016llx; `make` builds it in\n", s.n, s.used,
	       argv[1], len, (unsigned long long)hash);
	free(s.buf);
	free(s.sizes);
	return 0;
}
