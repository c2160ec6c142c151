/* Writes the version-2 seeds of the clog fuzz corpora (entries with a
 * request id): tests/fuzz/clog/corpus/record/v2_* and recovery/v2_*. Not
 * built by the Makefile (no fuzz_ or test_ prefix); after a change to the
 * entry encoding, run from the repository root:
 *
 *   make build/lib/libthtest.a build/lib/libthcommon.a
 *   cc -std=gnu17 -D_GNU_SOURCE -Icommon -Iproto -Ischemas -Itests/lib \
 *      tests/fuzz/clog/gen_corpus.c build/lib/libthtest.a build/lib/libthcommon.a \
 *      $(pkg-config --libs libsodium json-c libsystemd) -o /tmp/gen_corpus && /tmp/gen_corpus
 *
 * Every seed starts with the targets' mode byte (1: recompute CRCs, so
 * mutations reach the entry checks). The version-1 seeds next to them
 * (v1_*, hash-named recovery files) stay: version 1 still decodes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_cmd.h"
#include "th_logrec.h"
#include "th_logtest.h"

static void put(const char *path, const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n + 1);
	b[0] = 1;
	memcpy(b + 1, p, n);
	if (lt_write_file(path, b, n + 1) < 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
	free(b);
}

static void record(const char *name, struct th_logrec_entry *e)
{
	uint8_t rec[TH_LOGREC_RECORD_MAX > 4096 ? 4096 : TH_LOGREC_RECORD_MAX];
	char path[256];
	int n = th_logrec_record_put(rec, sizeof(rec), e, 3, TH_LOGREC_F_BATCH_END);
	if (n < 0)
		exit(1);
	snprintf(path, sizeof(path), "tests/fuzz/clog/corpus/record/%s", name);
	put(path, rec, (size_t)n);
}

/* An entry of a chain, with request id req, signed when asked. */
static void entry(struct lt_author *a, uint64_t lamport, uint64_t req, const void *pl, uint32_t len, bool sign,
		  struct th_logrec_entry *e)
{
	uint8_t h[TH_LOGREC_HASH_LEN];
	struct th_logrec_chain before = a->chain;
	lt_entry(a, lamport, 40 + lamport, pl, len, false, e, h);
	/* lt_entry hashed it without req: redo the hash and the chain step. */
	a->chain = before;
	e->req = req;
	th_logrec_entry_hash(e, h);
	if (sign) {
		th_logrec_sign(h, a->kp.sk, e->sig);
		e->has_sig = true;
	}
	th_logrec_chain_advance(&a->chain, e, h);
}

static void segment(const char *name, int batches, int per_batch, int authors, bool torn)
{
	static const uint8_t pl[] = "\x07\x00\x00\x00\x00\x00\x00\x00value";
	struct lt_author a[3];
	struct lt_seg s;
	char path[256];
	uint64_t lamport = 0;
	for (int k = 0; k < authors; k++)
		lt_author_init(&a[k], (uint8_t)(0x31 + k));
	lt_seg_begin(&s, 1);
	for (int b = 0; b < batches; b++) {
		for (int i = 0; i < per_batch; i++) {
			struct lt_author *au = &a[i % authors];
			struct th_logrec_entry e;
			bool last_of_author = i + authors >= per_batch;
			lamport++;
			entry(au, lamport, 0x1000 + lamport, pl, sizeof(pl) - 1, last_of_author, &e);
			lt_seg_add(&s, &e, (uint64_t)b + 1,
				   i + 1 == per_batch ? TH_LOGREC_F_BATCH_END : 0);
		}
	}
	size_t len = s.b.len;
	if (torn)
		len -= 17; /* the final batch cut in its last record */
	snprintf(path, sizeof(path), "tests/fuzz/clog/corpus/recovery/%s", name);
	put(path, s.b.data, len);
	lt_seg_free(&s);
}

int main(void)
{
	static const uint8_t pl[] = "\x07\x00\x00\x00\x00\x00\x00\x00value";
	struct lt_author a;
	struct th_logrec_entry e;
	uint8_t body[512];

	lt_author_init(&a, 0x21);
	entry(&a, 1, 0x1122334455667788ull, pl, sizeof(pl) - 1, true, &e);
	record("v2_signed", &e);
	entry(&a, 2, 0x99, pl, sizeof(pl) - 1, false, &e);
	record("v2_unsigned", &e);
	entry(&a, 3, 0, NULL, 0, false, &e);
	e.type = TH_CMD_ENTITY_DESTROY; /* changes the hash: sign it as it is */
	uint8_t h[TH_LOGREC_HASH_LEN];
	th_logrec_entry_hash(&e, h);
	th_logrec_sign(h, a.kp.sk, e.sig);
	e.has_sig = true;
	record("v2_empty_payload_no_req", &e);
	entry(&a, 4, 7, pl, sizeof(pl) - 1, false, &e);
	int n = th_logrec_encode(&e, body, sizeof(body));
	if (n < 0)
		return 1;
	put("tests/fuzz/clog/corpus/record/v2_body_only", body, (size_t)n);

	segment("v2_one_batch", 1, 4, 1, false);
	segment("v2_three_batches_two_authors", 3, 4, 2, false);
	segment("v2_torn_tail", 2, 3, 2, true);
	segment("v2_two_batches_three_authors", 2, 3, 3, false);
	return 0;
}
