/* thetad/sess/assets: the content-addressed store of a session: atomic
 * completion only after the SHA-256 matches, hash mismatches discarded,
 * .part files resumed from their length across a reopen (a daemon
 * restart), overlapping and out-of-order writes, limits, and what a damaged
 * folder turns into on open. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sess/assets.h"
#include "th_harness.h"

struct fx {
	char dir[256];
	uint8_t *data;
	size_t size;
	uint8_t hash[32];
	char hex[65];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	f->size = 300 * 1000 + 17; /* not a multiple of any chunk size */
	f->data = malloc(f->size);
	for (size_t i = 0; i < f->size; i++)
		f->data[i] = (uint8_t)(i * 131 + (i >> 9));
	crypto_hash_sha256(f->hash, f->data, f->size);
	sess_asset_hex(f->hash, f->hex);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	th_rm_rf(f->dir);
	free(f->data);
	free(f);
	return 0;
}

static bool exists(const struct fx *f, const char *suffix)
{
	char p[512];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/assets/%s%s", f->dir, f->hex, suffix);
	return stat(p, &sb) == 0;
}

static void write_range(struct sess_assets *st, const struct fx *f, size_t from, size_t to, size_t chunk)
{
	for (size_t off = from; off < to; off += chunk) {
		size_t n = to - off < chunk ? to - off : chunk;
		assert_int_equal(sess_assets_write(st, f->hash, off, f->data + off, n), (int64_t)(off + n));
	}
}

static void a_verified_asset_appears_atomically_under_its_hash(void **state)
{
	struct fx *f = *state;
	struct sess_assets *st;
	const struct sess_asset *a;
	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	assert_int_equal(sess_assets_add(st, f->hash, f->size, "chair.glb", &a), 0);
	assert_int_equal(a->state, SESS_ASSET_MISSING);
	assert_true(exists(f, ".meta"));
	write_range(st, f, 0, f->size - 1000, 65536);
	assert_int_equal(a->state, SESS_ASSET_PARTIAL);
	/* not all there: no completion, nothing under the final name */
	assert_int_equal(sess_assets_complete(st, f->hash), -EAGAIN);
	assert_false(exists(f, ""));
	assert_true(exists(f, ".part"));
	write_range(st, f, f->size - 1000, f->size, 65536);
	assert_int_equal(sess_assets_complete(st, f->hash), 0);
	assert_int_equal(a->state, SESS_ASSET_COMPLETE);
	assert_true(exists(f, ""));
	assert_false(exists(f, ".part"));
	/* the bytes read back, in pieces and at the end */
	uint8_t *back = malloc(f->size);
	size_t off = 0;
	while (off < f->size) {
		ssize_t n = sess_assets_read(st, f->hash, off, back + off, 70000);
		assert_true(n > 0);
		off += (size_t)n;
	}
	assert_memory_equal(back, f->data, f->size);
	assert_int_equal(sess_assets_read(st, f->hash, f->size, back, 10), 0);
	free(back);
	/* complete assets take no more bytes */
	assert_int_equal(sess_assets_write(st, f->hash, 0, f->data, 10), -EALREADY);
	assert_int_equal(sess_assets_complete(st, f->hash), -EALREADY);
	sess_assets_close(&st);
	assert_null(st);

	/* reopened (a daemon restart): listed complete with name and size */
	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	assert_int_equal(sess_assets_count(st), 1);
	a = sess_assets_at(st, 0);
	assert_int_equal(a->state, SESS_ASSET_COMPLETE);
	assert_int_equal(a->size, f->size);
	assert_string_equal(a->name, "chair.glb");
	assert_string_equal(a->hex, f->hex);
	sess_assets_close(&st);
}

static void bytes_that_do_not_match_the_hash_are_discarded(void **state)
{
	struct fx *f = *state;
	struct sess_assets *st;
	const struct sess_asset *a;
	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	assert_int_equal(sess_assets_add(st, f->hash, f->size, "x", &a), 0);
	f->data[12345] ^= 0x40; /* one flipped bit on the way */
	write_range(st, f, 0, f->size, 50000);
	f->data[12345] ^= 0x40;
	assert_int_equal(sess_assets_complete(st, f->hash), -EBADMSG);
	assert_int_equal(a->state, SESS_ASSET_MISSING);
	assert_int_equal(a->have, 0);
	assert_false(exists(f, ""));
	assert_false(exists(f, ".part"));
	uint8_t b[4];
	assert_int_equal(sess_assets_read(st, f->hash, 0, b, 4), -ENOENT);
	/* a second try with the right bytes works */
	write_range(st, f, 0, f->size, 50000);
	assert_int_equal(sess_assets_complete(st, f->hash), 0);
	sess_assets_close(&st);
}

static void a_partial_download_resumes_from_its_length_after_a_reopen(void **state)
{
	struct fx *f = *state;
	struct sess_assets *st;
	const struct sess_asset *a;
	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	assert_int_equal(sess_assets_add(st, f->hash, f->size, "big", &a), 0);
	write_range(st, f, 0, 131072 + 5, 65536);
	sess_assets_close(&st);

	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	assert_int_equal(sess_assets_lookup(st, f->hex, &a), 0);
	assert_int_equal(a->state, SESS_ASSET_PARTIAL);
	assert_int_equal(a->have, 131072 + 5);
	/* a gap is refused; an overlap only adds the new bytes */
	assert_int_equal(sess_assets_write(st, f->hash, a->have + 1, f->data + a->have + 1, 10), -ESPIPE);
	assert_int_equal(sess_assets_write(st, f->hash, 131072, f->data + 131072, 100), 131072 + 100);
	assert_int_equal(sess_assets_write(st, f->hash, 0, f->data, 50), 131072 + 100); /* all old: no-op */
	/* past the size */
	assert_int_equal(sess_assets_write(st, f->hash, f->size - 2, f->data, 3), -EFBIG);
	write_range(st, f, 131072 + 100, f->size, 65536);
	/* the hash covers the bytes written before the reopen (read from disk) */
	assert_int_equal(sess_assets_complete(st, f->hash), 0);
	uint8_t b[64];
	assert_int_equal(sess_assets_read(st, f->hash, 131000, b, 64), 64);
	assert_memory_equal(b, f->data + 131000, 64);
	sess_assets_close(&st);
}

static void limits_names_and_lookups(void **state)
{
	struct fx *f = *state;
	struct sess_assets *st;
	const struct sess_asset *a;
	uint8_t h[32];
	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	memset(h, 0x5a, 32);
	assert_int_equal(sess_assets_add(st, h, 0, "empty", &a), -EFBIG);
	assert_int_equal(sess_assets_add(st, h, SESS_ASSET_MAX_SIZE + 1, "huge", &a), -EFBIG);
	assert_int_equal(sess_assets_add(st, h, 10, "", &a), -EINVAL);
	assert_int_equal(sess_assets_add(st, h, 10, "line\nbreak", &a), -EINVAL);
	char longname[SESS_ASSET_NAME_MAX + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(sess_assets_add(st, h, 10, longname, &a), -EINVAL);
	longname[SESS_ASSET_NAME_MAX] = 0;
	assert_int_equal(sess_assets_add(st, h, 10, longname, &a), 0);
	/* the same hash with another size is a lie */
	assert_int_equal(sess_assets_add(st, h, 11, "x", &a), -EBADMSG);
	assert_int_equal(sess_assets_add(st, h, 10, "other name", &a), 0);
	assert_string_equal(a->name, longname);
	/* the per-session byte budget: 256 MiB assets until it is spent */
	unsigned added = 1;
	int r = 0;
	for (unsigned i = 1; i < 64 && r == 0; i++) {
		memset(h, (int)i, 32);
		r = sess_assets_add(st, h, SESS_ASSET_MAX_SIZE, "part", NULL);
		added += r == 0;
	}
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(added, 1 + SESS_ASSET_MAX_TOTAL / SESS_ASSET_MAX_SIZE - 1);
	assert_int_equal(sess_assets_count(st), added);
	/* lookups by prefix */
	memset(h, 0x01, 32);
	assert_int_equal(sess_assets_lookup(st, "01010101", &a), 0);
	assert_int_equal(a->hash[0], 0x01);
	assert_int_equal(sess_assets_lookup(st, "0101", &a), -EINVAL);     /* too short */
	assert_int_equal(sess_assets_lookup(st, "zz010101", &a), -EINVAL);
	assert_int_equal(sess_assets_lookup(st, "ffffffff", &a), -ENOENT);
	memset(h, 0x01, 32);
	h[31] = 0x02;
	/* what is left of the budget still takes a small one, which makes
	 * the prefix ambiguous */
	assert_int_equal(sess_assets_add(st, h, SESS_ASSET_MAX_SIZE - 10, "twin", NULL), 0);
	assert_int_equal(sess_assets_lookup(st, "01010101", &a), -EEXIST);
	h[31] = 0x03;
	assert_int_equal(sess_assets_add(st, h, 1, "one byte too many", NULL), -ENOSPC);
	sess_assets_close(&st);
	/* writes to unknown assets */
	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	memset(h, 0xee, 32);
	assert_int_equal(sess_assets_write(st, h, 0, "abc", 3), -ENOENT);
	assert_int_equal(sess_assets_complete(st, h), -ENOENT);
	sess_assets_close(&st);
}

static void a_damaged_folder_opens_as_what_can_be_trusted(void **state)
{
	struct fx *f = *state;
	struct sess_assets *st;
	const struct sess_asset *a;
	char p[512];
	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	assert_int_equal(sess_assets_add(st, f->hash, f->size, "one", &a), 0);
	write_range(st, f, 0, f->size, 65536);
	assert_int_equal(sess_assets_complete(st, f->hash), 0);
	uint8_t h2[32];
	memset(h2, 0x77, 32);
	assert_int_equal(sess_assets_add(st, h2, 100, "two", NULL), 0);
	assert_int_equal(sess_assets_write(st, h2, 0, f->data, 40), 40);
	sess_assets_close(&st);

	/* the complete one loses bytes; the partial one grows past its size;
	 * a meta that is garbage; a stray file */
	snprintf(p, sizeof(p), "%s/assets/%s", f->dir, f->hex);
	assert_int_equal(truncate(p, 100), 0);
	char hex2[65];
	sess_asset_hex(h2, hex2);
	snprintf(p, sizeof(p), "%s/assets/%s.part", f->dir, hex2);
	assert_int_equal(truncate(p, 101), 0);
	snprintf(p, sizeof(p), "%s/assets/%s.meta", f->dir, "ab00000000000000000000000000000000000000000000000000000000000000");
	FILE *fp = fopen(p, "w");
	fputs("size=banana\nname=x\n", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/assets/notes.txt", f->dir);
	fp = fopen(p, "w");
	fputs("hello", fp);
	fclose(fp);

	assert_int_equal(sess_assets_open(f->dir, &st), 0);
	assert_int_equal(sess_assets_count(st), 2);
	assert_non_null(a = sess_assets_find(st, f->hash));
	assert_int_equal(a->state, SESS_ASSET_MISSING); /* fetched again */
	assert_false(exists(f, ""));
	assert_non_null(a = sess_assets_find(st, h2));
	assert_int_equal(a->state, SESS_ASSET_MISSING);
	assert_int_equal(a->have, 0);
	/* and the first comes back whole */
	write_range(st, f, 0, f->size, 65536);
	assert_int_equal(sess_assets_complete(st, f->hash), 0);
	sess_assets_close(&st);
}

static void hex_and_names(void **state)
{
	uint8_t h[32], back[32];
	char hex[65];
	for (int i = 0; i < 32; i++)
		h[i] = (uint8_t)(i * 9);
	sess_asset_hex(h, hex);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(sess_asset_unhex(hex, back), 0);
	assert_memory_equal(h, back, 32);
	hex[5] = 'g';
	assert_int_equal(sess_asset_unhex(hex, back), -EINVAL);
	assert_int_equal(sess_asset_unhex("abcd", back), -EINVAL);
	assert_true(sess_asset_name_ok("a chair (v2).glb"));
	assert_false(sess_asset_name_ok("tab\there"));
	assert_false(sess_asset_name_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_verified_asset_appears_atomically_under_its_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(bytes_that_do_not_match_the_hash_are_discarded, setup, teardown),
		cmocka_unit_test_setup_teardown(a_partial_download_resumes_from_its_length_after_a_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(limits_names_and_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(a_damaged_folder_opens_as_what_can_be_trusted, setup, teardown),
		cmocka_unit_test(hex_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
