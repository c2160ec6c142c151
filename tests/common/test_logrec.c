/* Command-log entries: encoding, hashing, signatures, chain checks, record
 * framing, CRC-32C, the command registry and fingerprints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "th_cmd.h"
#include "th_crc32c.h"
#include "th_logrec.h"
#include "th_logtest.h"
#include "th_schema.h"

static void crc32c_matches_the_standard_check_value(void **state)
{
	assert_int_equal(th_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(th_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(th_crc32c("", 0), 0);
}

static void crc32c_hardware_and_table_paths_agree_at_every_length_and_alignment(void **state)
{
	uint8_t buf[300];
	randombytes_buf(buf, sizeof(buf));
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += 7)
			assert_int_equal(th_crc32c(buf + off, len), th_crc32c_sw(0, buf + off, len));
	/* Incremental equals one-shot. */
	uint32_t c = th_crc32c_update(th_crc32c(buf, 100), buf + 100, 200);
	assert_int_equal(c, th_crc32c(buf, 300));
}

static void make_entry(struct lt_author *a, struct th_logrec_entry *e, uint8_t hash[32], bool sign)
{
	static const uint8_t payload[] = "\x07\x00\x00\x00\x00\x00\x00\x00value";
	lt_entry(a, a->chain.lamport + 5, 42, payload, sizeof(payload) - 1, sign, e, hash);
}

static void encoding_puts_every_field_at_its_documented_offset(void **state)
{
	struct lt_author a;
	struct th_logrec_entry e;
	uint8_t h[32], buf[512];
	lt_author_init(&a, 1);
	make_entry(&a, &e, h, false);
	e.time_ns = 0x1122334455667788ull;
	e.req = 0x0102030405060708ull;
	int n = th_logrec_encode(&e, buf, sizeof(buf));
	assert_int_equal(TH_LOGREC_FIXED_LEN, 120);
	assert_int_equal(n, 120 + e.payload_len);
	assert_int_equal(buf[0], 2);                                     /* version */
	assert_int_equal(buf[1], TH_SCOPE_ENTITY);                       /* scope_kind */
	assert_int_equal(th_get_le16(buf + 2), TH_CMD_COMPONENT_WRITE);  /* type */
	assert_int_equal(th_get_le64(buf + 4), e.lamport);
	assert_int_equal(th_get_le64(buf + 12), 1);                      /* seq */
	assert_int_equal(th_get_le64(buf + 20), e.base);
	assert_int_equal(th_get_le64(buf + 28), 0x1122334455667788ull); /* time_ns */
	assert_int_equal(th_get_le64(buf + 36), 42);                     /* scope_id */
	assert_memory_equal(buf + 44, a.kp.pk, 32);                      /* author */
	assert_memory_equal(buf + 76, e.prev, 32);                       /* prev */
	assert_int_equal(th_get_le32(buf + 108), e.payload_len);
	assert_int_equal(th_get_le64(buf + 112), 0x0102030405060708ull); /* req */
	assert_memory_equal(buf + 120, e.payload, e.payload_len);
	assert_int_equal(th_logrec_encode(&e, buf, 50), -ENOBUFS);
}

/* Logs written before the request id (version 1: 112-byte fixed part, no
 * req) still decode, re-encode to the same bytes and keep their hash, so
 * their signatures verify; a version-1 entry cannot carry a request id. */
static void version_1_entries_still_decode_and_keep_their_hash(void **state)
{
	struct lt_author a;
	struct th_logrec_entry e, d;
	uint8_t h[32], h2[32], v1[512], again[512];
	int why = 0;
	lt_author_init(&a, 9);
	make_entry(&a, &e, h, false);
	/* Byte-for-byte what the version-1 encoder wrote: version 2's first
	 * 112 bytes with version 1, then the payload. */
	uint8_t v2[512];
	int n2 = th_logrec_encode(&e, v2, sizeof(v2));
	assert_true(n2 > 0);
	memcpy(v1, v2, 112);
	v1[0] = 1;
	memcpy(v1 + 112, e.payload, e.payload_len);
	size_t n1 = 112 + e.payload_len;
	assert_int_equal(th_logrec_decode(v1, n1, &d, &why), 0);
	assert_int_equal(d.version, 1);
	assert_int_equal(d.req, 0);
	assert_int_equal(d.payload_len, e.payload_len);
	assert_memory_equal(d.payload, e.payload, e.payload_len);
	assert_int_equal(th_logrec_body_len(&d), n1);
	assert_int_equal(th_logrec_encode(&d, again, sizeof(again)), (int)n1);
	assert_memory_equal(again, v1, n1);
	th_logrec_hash(v1, n1, h);
	assert_int_equal(th_logrec_entry_hash(&d, h2), 0);
	assert_memory_equal(h, h2, 32);
	/* Signed as version 1, verified as decoded. */
	uint8_t sig[64];
	th_logrec_sign(h, a.kp.sk, sig);
	assert_int_equal(th_logrec_verify(h2, a.kp.pk, sig), 0);
	/* A whole record round trips too. */
	uint8_t rec[1024];
	struct th_logrec_frame f;
	d.has_sig = true;
	memcpy(d.sig, sig, 64);
	int rn = th_logrec_record_put(rec, sizeof(rec), &d, 1, TH_LOGREC_F_BATCH_END);
	assert_int_equal(rn, (int)(TH_LOGREC_FRAME_LEN + n1 + 64));
	assert_int_equal(th_logrec_record_decode(rec, (size_t)rn, &f, &e, &why), rn);
	assert_int_equal(e.version, 1);
	/* Version 1 has no req: one set is refused, as is an unknown version. */
	d.req = 5;
	assert_int_equal(th_logrec_check_fields(&d), TH_LR_BAD_FIELD);
	v1[0] = 3;
	assert_int_equal(th_logrec_decode(v1, n1, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_VERSION);
	/* A version-2 body cut to version 1's length is short. */
	assert_int_equal(th_logrec_decode(v2, 115, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_LENGTH);
}

static void decode_round_trips_and_hash_matches(void **state)
{
	struct lt_author a;
	struct th_logrec_entry e, d;
	uint8_t h[32], h2[32], buf[512];
	int why = 0;
	lt_author_init(&a, 2);
	make_entry(&a, &e, h, false);
	make_entry(&a, &e, h, false); /* seq 2: prev is set */
	int n = th_logrec_encode(&e, buf, sizeof(buf));
	assert_int_equal(th_logrec_decode(buf, (size_t)n, &d, &why), 0);
	assert_int_equal(d.seq, 2);
	assert_int_equal(d.lamport, e.lamport);
	assert_memory_equal(d.prev, e.prev, 32);
	assert_memory_equal(d.payload, e.payload, e.payload_len);
	th_logrec_hash(buf, (size_t)n, h2);
	assert_memory_equal(h, h2, 32);
}

static void decode_rejects_each_malformed_field(void **state)
{
	struct lt_author a;
	struct th_logrec_entry e, d;
	uint8_t h[32], buf[512];
	int why;
	lt_author_init(&a, 3);
	make_entry(&a, &e, h, false);
	int n = th_logrec_encode(&e, buf, sizeof(buf));
	uint8_t t[512];

	why = 0;
	assert_int_equal(th_logrec_decode(buf, 100, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_LENGTH);
	assert_int_equal(th_logrec_decode(buf, (size_t)n - 1, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_PAYLOAD);

	memcpy(t, buf, (size_t)n), t[0] = 3;
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_VERSION);
	memcpy(t, buf, (size_t)n), t[0] = 0;
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_VERSION);
	memcpy(t, buf, (size_t)n), th_put_le16(t + 2, 0x7777);
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_UNKNOWN_TYPE);
	memcpy(t, buf, (size_t)n), t[1] = TH_SCOPE_TOOL;
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_SCOPE);
	memcpy(t, buf, (size_t)n), t[1] = 9;
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_FIELD);
	memcpy(t, buf, (size_t)n), th_put_le64(t + 12, 0);
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_FIELD);
	memcpy(t, buf, (size_t)n), t[80] = 1; /* seq 1 with a prev link */
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_CHAIN);
	memcpy(t, buf, (size_t)n), th_put_le64(t + 4, UINT64_MAX);
	assert_int_equal(th_logrec_decode(t, (size_t)n, &d, &why), -EBADMSG);
	assert_int_equal(why, TH_LR_BAD_FIELD);

	/* A global-scope type with a scope id, and a payload above the type's cap. */
	e.type = TH_CMD_SESSION_RENAME;
	e.scope_kind = TH_SCOPE_GLOBAL;
	e.scope_id = 5;
	assert_int_equal(th_logrec_check_fields(&e), TH_LR_BAD_SCOPE);
	e.scope_id = 0;
	uint8_t big[300] = { 0 };
	e.payload = big;
	e.payload_len = sizeof(big);
	assert_int_equal(th_logrec_check_fields(&e), TH_LR_BAD_PAYLOAD);
	e.payload_len = TH_LOGREC_PAYLOAD_MAX + 1;
	assert_int_equal(th_logrec_encode(&e, buf, sizeof(buf)), -EMSGSIZE);
}

static void signature_verifies_only_for_the_signed_hash_and_key(void **state)
{
	struct lt_author a, b;
	struct th_logrec_entry e;
	uint8_t h[32], h2[32];
	lt_author_init(&a, 4);
	lt_author_init(&b, 5);
	make_entry(&a, &e, h, true);
	assert_int_equal(th_logrec_verify(h, a.kp.pk, e.sig), 0);
	/* Wrong author key. */
	assert_int_equal(th_logrec_verify(h, b.kp.pk, e.sig), -EBADMSG);
	/* Bad signature. */
	e.sig[10] ^= 1;
	assert_int_equal(th_logrec_verify(h, a.kp.pk, e.sig), -EBADMSG);
	e.sig[10] ^= 1;
	/* Tampered payload: the hash changes and the signature no longer holds. */
	uint8_t p2[64];
	memcpy(p2, e.payload, e.payload_len);
	p2[9] ^= 0x20;
	e.payload = p2;
	th_logrec_entry_hash(&e, h2);
	assert_memory_not_equal(h, h2, 32);
	assert_int_equal(th_logrec_verify(h2, a.kp.pk, e.sig), -EBADMSG);
	/* Every field is covered: lamport. */
	e.payload = p2, p2[9] ^= 0x20;
	e.lamport++;
	th_logrec_entry_hash(&e, h2);
	assert_int_equal(th_logrec_verify(h2, a.kp.pk, e.sig), -EBADMSG);
	/* And the request id. */
	e.lamport--;
	th_logrec_entry_hash(&e, h2);
	assert_int_equal(th_logrec_verify(h2, a.kp.pk, e.sig), 0);
	e.req ^= 1;
	th_logrec_entry_hash(&e, h2);
	assert_int_equal(th_logrec_verify(h2, a.kp.pk, e.sig), -EBADMSG);
}

static void chain_check_names_replay_gap_link_and_order(void **state)
{
	struct lt_author a;
	struct th_logrec_entry e1, e2, e3;
	uint8_t h1[32], h2[32], h3[32];
	struct th_logrec_chain c = { 0 };
	lt_author_init(&a, 6);
	make_entry(&a, &e1, h1, false);
	make_entry(&a, &e2, h2, false);
	make_entry(&a, &e3, h3, false);
	assert_int_equal(th_logrec_chain_check(&c, &e1), TH_LR_OK);
	assert_int_equal(th_logrec_chain_check(&c, &e2), TH_LR_SEQ_GAP);
	th_logrec_chain_advance(&c, &e1, h1);
	assert_int_equal(th_logrec_chain_check(&c, &e1), TH_LR_REPLAY);
	struct th_logrec_entry f = e2;
	f.prev[0] ^= 1;
	assert_int_equal(th_logrec_chain_check(&c, &f), TH_LR_BAD_CHAIN);
	f = e2;
	f.lamport = e1.lamport;
	assert_int_equal(th_logrec_chain_check(&c, &f), TH_LR_BAD_ORDER);
	assert_int_equal(th_logrec_chain_check(&c, &e2), TH_LR_OK);
}

static void record_framing_detects_flips_truncation_and_garbage(void **state)
{
	struct lt_author a;
	struct th_logrec_entry e, d;
	struct th_logrec_frame f;
	uint8_t h[32], rec[1024];
	int why;
	lt_author_init(&a, 7);
	make_entry(&a, &e, h, true);
	int n = th_logrec_record_put(rec, sizeof(rec), &e, 9, TH_LOGREC_F_BATCH_END);
	assert_int_equal(n, TH_LOGREC_FRAME_LEN + TH_LOGREC_FIXED_LEN + e.payload_len + TH_LOGREC_SIG_LEN);
	assert_int_equal(th_logrec_record_decode(rec, (size_t)n, &f, &d, &why), n);
	assert_int_equal(f.batch, 9);
	assert_int_equal(f.flags, TH_LOGREC_F_BATCH_END | TH_LOGREC_F_SIGNED);
	assert_true(d.has_sig);
	assert_memory_equal(d.sig, e.sig, 64);

	/* Every single flipped bit anywhere in the record is caught. */
	for (int i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			rec[i] ^= (uint8_t)(1 << bit);
			why = 0;
			assert_true(th_logrec_frame_parse(rec, (size_t)n, &f, &why) < 0);
			assert_true(why == TH_LR_BAD_CHECKSUM || why == TH_LR_BAD_MAGIC || why == TH_LR_BAD_LENGTH ||
				    why == TH_LR_TRUNCATED);
			rec[i] ^= (uint8_t)(1 << bit);
		}
	}
	for (int cut = 0; cut < n; cut += 13) {
		assert_true(th_logrec_frame_parse(rec, (size_t)cut, &f, &why) < 0);
		assert_int_equal(why, TH_LR_TRUNCATED);
	}
	/* Unknown flag bits with a valid CRC: a frame fault, not a torn write. */
	rec[17] |= 0x80;
	struct th_logrec_frame g = { .body_len = th_get_le32(rec + 4), .batch = 9, .kind = 1, .flags = rec[17] };
	th_logrec_frame_put(rec, &g, rec + TH_LOGREC_FRAME_LEN);
	assert_true(th_logrec_frame_parse(rec, (size_t)n, &f, &why) < 0);
	assert_int_equal(why, TH_LR_BAD_FRAME);
	/* Oversized length field. */
	th_put_le32(rec + 4, TH_LOGREC_BODY_MAX + 1);
	assert_true(th_logrec_frame_parse(rec, (size_t)n, &f, &why) < 0);
	assert_int_equal(why, TH_LR_BAD_LENGTH);
}

static void registry_is_sorted_and_found_by_id(void **state)
{
	size_t n = th_cmd_count();
	assert_true(n >= 10);
	for (size_t i = 1; i < n; i++)
		assert_true(th_cmd_at(i - 1)->id < th_cmd_at(i)->id);
	for (size_t i = 0; i < n; i++) {
		const struct th_cmd_info *c = th_cmd_at(i);
		assert_ptr_equal(th_cmd_find(c->id), c);
		assert_true(c->role >= TH_ROLE_VIEWER && c->role <= TH_ROLE_ADMIN);
		assert_true(c->max_payload <= TH_LOGREC_PAYLOAD_MAX);
	}
	assert_null(th_cmd_find(0));
	assert_null(th_cmd_find(0xfffe));
	assert_int_equal(th_cmd_find(TH_CMD_SESSION_RENAME)->role, TH_ROLE_ADMIN);
	assert_int_equal(th_cmd_find(TH_CMD_ANNOTATION_ADD)->role, TH_ROLE_VIEWER);
	assert_int_equal(th_role_parse("editor"), TH_ROLE_EDITOR);
	assert_int_equal(th_role_parse("root"), -EINVAL);
}

static void registry_text_for_the_schema_hash_lists_commands_and_fields(void **state)
{
	struct th_wbuf b;
	th_wbuf_init(&b, 0);
	assert_int_equal(th_cmd_render(&b), 0);
	th_wbuf_u8(&b, 0);
	const char *t = (const char *)b.data;
	assert_non_null(strstr(t, "command 3 component.write role=editor scope=entity conflict=lww max=65536 rule=NO_RULE "
				  "payload=P_COMPONENT(component) P_VALUE(value, component)\n"));
	assert_non_null(strstr(t, "payload-const MESH_OPS_MAX 2048\n"));
	assert_non_null(strstr(t, "entry-field lamport u64 8\n"));
	assert_non_null(strstr(t, "entry-field author b32 32\n"));
	assert_non_null(strstr(t, "entry-field payload_len u32 4\nentry-field req u64 8\n"));
	th_wbuf_fini(&b);
	/* And it is part of what the handshake's schema hash covers. */
	th_wbuf_init(&b, 0);
	assert_int_equal(th_schema_render(&b), 0);
	th_wbuf_u8(&b, 0);
	assert_non_null(strstr((const char *)b.data, "\nsource commands "));
	assert_non_null(strstr((const char *)b.data, "entry-field prev b32 32\n"));
	th_wbuf_fini(&b);
}

static void fingerprint_is_sha256_base64_of_the_raw_key(void **state)
{
	uint8_t pk[32] = { 0 };
	char fp[TH_KEY_FPR_LEN];
	assert_int_equal(th_key_fingerprint(pk, fp, sizeof(fp)), 0);
	assert_string_equal(fp, "SHA256:Zmh6rfhivXdsj8GLjp+OIAiXFIVu4jOzkCpZHQ1fKSU");
	assert_int_equal(th_key_fingerprint(pk, fp, 20), -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_matches_the_standard_check_value),
		cmocka_unit_test(crc32c_hardware_and_table_paths_agree_at_every_length_and_alignment),
		cmocka_unit_test(encoding_puts_every_field_at_its_documented_offset),
		cmocka_unit_test(decode_round_trips_and_hash_matches),
		cmocka_unit_test(version_1_entries_still_decode_and_keep_their_hash),
		cmocka_unit_test(decode_rejects_each_malformed_field),
		cmocka_unit_test(signature_verifies_only_for_the_signed_hash_and_key),
		cmocka_unit_test(chain_check_names_replay_gap_link_and_order),
		cmocka_unit_test(record_framing_detects_flips_truncation_and_garbage),
		cmocka_unit_test(registry_is_sorted_and_found_by_id),
		cmocka_unit_test(registry_text_for_the_schema_hash_lists_commands_and_fields),
		cmocka_unit_test(fingerprint_is_sha256_base64_of_the_raw_key),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
