/* common/th_id.c: stable 64-bit ids derived from the creating entry
 * (schemas/ids.def). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "th_bench.h"
#include "th_buf.h"
#include "th_id.h"
#include "th_logrec.h"
#include "th_logtest.h"
#include "th_schema.h"

/* The derivation as schemas/ids.def spells it, assembled byte by byte. */
static uint64_t documented(uint8_t kind, const uint8_t author[32], uint64_t seq, uint32_t index)
{
	uint8_t in[12 + 1 + 32 + 8 + 4], out[8];
	memcpy(in, "theta/id/v1", 12); /* with its NUL */
	in[12] = kind;
	memcpy(in + 13, author, 32);
	th_put_le64(in + 45, seq);
	th_put_le32(in + 53, index);
	crypto_generichash(out, sizeof out, in, sizeof in, NULL, 0);
	uint64_t id = th_get_le64(out);
	return id ? id : 1;
}

static void ids_follow_the_documented_derivation(void **state)
{
	uint8_t a[32];
	for (int i = 0; i < 32; i++)
		a[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(TH_ID_ENTITY, 1);
	assert_int_equal(TH_ID_MESH_ELEMENT, 2);
	for (uint32_t idx = 0; idx < 4; idx++) {
		assert_int_equal(th_id_derive(TH_ID_ENTITY, a, 9, idx), documented(1, a, 9, idx));
		assert_int_equal(th_id_derive(TH_ID_MESH_ELEMENT, a, 9, idx), documented(2, a, 9, idx));
	}
	assert_string_equal(th_id_kind_name(TH_ID_ENTITY), "entity");
	assert_string_equal(th_id_kind_name(TH_ID_MESH_ELEMENT), "mesh-element");
	assert_string_equal(th_id_kind_name(99), "?");
}

/* Two replicas hold the same signed entry (one wrote it, the other decoded
 * it from the wire) and derive the same ids from it. */
static void two_replicas_derive_the_same_ids_from_the_creating_entry(void **state)
{
	struct lt_author alice;
	lt_author_init(&alice, 0x41);
	struct th_logrec_entry e, other;
	uint8_t hash[TH_LOGREC_HASH_LEN], body[TH_LOGREC_FIXED_LEN + 64];
	const char pl[8] = "abcdefg";
	for (int i = 0; i < 3; i++)
		lt_entry(&alice, (uint64_t)i + 1, 5, pl, sizeof pl, true, &e, hash);
	int n = th_logrec_encode(&e, body, sizeof body);
	assert_true(n > 0);
	int why = 0;
	assert_int_equal(th_logrec_decode(body, (size_t)n, &other, &why), 0);
	assert_int_equal(other.seq, 3);
	for (uint32_t idx = 0; idx < 8; idx++) {
		assert_int_equal(th_id_derive(TH_ID_ENTITY, e.author, e.seq, idx),
				 th_id_derive(TH_ID_ENTITY, other.author, other.seq, idx));
		assert_int_equal(th_id_derive(TH_ID_MESH_ELEMENT, e.author, e.seq, idx),
				 th_id_derive(TH_ID_MESH_ELEMENT, other.author, other.seq, idx));
	}
}

/* Different authors, seqs, indices and kinds give different non-zero ids. */
static void different_entries_indices_and_kinds_give_different_ids(void **state)
{
	enum { AUTHORS = 3, SEQS = 64, INDICES = 16, KINDS = 2 };
	static uint64_t ids[AUTHORS * SEQS * INDICES * KINDS];
	size_t n = 0;
	for (int a = 0; a < AUTHORS; a++) {
		uint8_t key[32];
		memset(key, 0x10 + a, sizeof key);
		for (uint64_t s = 1; s <= SEQS; s++)
			for (uint32_t i = 0; i < INDICES; i++) {
				ids[n++] = th_id_derive(TH_ID_ENTITY, key, s, i);
				ids[n++] = th_id_derive(TH_ID_MESH_ELEMENT, key, s, i);
			}
	}
	qsort(ids, n, sizeof ids[0], th_bench_cmp_u64);
	assert_true(ids[0] != TH_ID_NONE);
	for (size_t i = 1; i < n; i++)
		assert_true(ids[i] != ids[i - 1]);
	/* One bit of the key is enough to change it. */
	uint8_t k1[32] = { 0 }, k2[32] = { 0 };
	k2[31] = 1;
	assert_true(th_id_derive(TH_ID_ENTITY, k1, 1, 0) != th_id_derive(TH_ID_ENTITY, k2, 1, 0));
}

static void the_id_kinds_and_derivation_are_in_the_schema_hash(void **state)
{
	struct th_wbuf b;
	th_wbuf_init(&b, 0);
	assert_int_equal(th_schema_render(&b), 0);
	th_wbuf_u8(&b, 0);
	const char *t = (const char *)b.data;
	assert_non_null(strstr(t, "\nsource ids blake2b-8 \"theta/id/v1\" kind author seq index\n"
				  "id-kind 1 entity\nid-kind 2 mesh-element\n"));
	/* Selection names its element with the same 64-bit id. */
	assert_non_null(strstr(t, "record Selection REPLICATED 3 20\n"));
	assert_non_null(strstr(t, "field element u64 1\n"));
	th_wbuf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_follow_the_documented_derivation),
		cmocka_unit_test(two_replicas_derive_the_same_ids_from_the_creating_entry),
		cmocka_unit_test(different_entries_indices_and_kinds_give_different_ids),
		cmocka_unit_test(the_id_kinds_and_derivation_are_in_the_schema_hash),
	};
	return cmocka_run_group_tests_name("stable ids", tests, NULL, NULL);
}
