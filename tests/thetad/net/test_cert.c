/* net_cert: self-signed certificate generation, storage, fingerprints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_cert.h"
#include "th_file.h"
#include "th_harness.h"

static void generated_certificate_has_a_stable_sha256_fingerprint(void **state)
{
	struct net_cert *c;
	assert_int_equal(net_cert_generate(&c), 0);
	assert_non_null(c->cred);
	uint8_t fp[32];
	assert_int_equal(net_cert_fingerprint_pem(c->cert_pem, c->cert_pem_len, fp), 0);
	assert_memory_equal(fp, c->fp, 32);
	assert_int_equal(strlen(c->fp_hex), 64);
	for (int i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", c->fp_hex[i]));
	struct net_cert *d;
	assert_int_equal(net_cert_generate(&d), 0);
	assert_memory_not_equal(c->fp, d->fp, 32);
	net_cert_destroy(&c);
	net_cert_destroy(&d);
	assert_null(c);
	net_cert_destroy(&c); /* NULL-safe */
}

static void first_start_creates_files_and_restart_reuses_them(void **state)
{
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	struct net_cert *a, *b;
	bool created = false;
	assert_int_equal(net_cert_load_or_create(dir, &a, &created), 0);
	assert_true(created);
	char path[PATH_MAX + 32];
	struct stat st;
	snprintf(path, sizeof(path), "%s/tls/key.pem", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/tls/cert.pem", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/tls", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_int_equal(net_cert_load_or_create(dir, &b, &created), 0);
	assert_false(created);
	assert_memory_equal(a->fp, b->fp, 32);
	net_cert_destroy(&a);
	net_cert_destroy(&b);
	th_rm_rf(dir);
}

static void missing_certificate_is_reissued_for_the_existing_key(void **state)
{
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	struct net_cert *a, *b;
	assert_int_equal(net_cert_load_or_create(dir, &a, NULL), 0);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/tls/cert.pem", dir);
	assert_int_equal(unlink(path), 0);
	bool created = true;
	assert_int_equal(net_cert_load_or_create(dir, &b, &created), 0);
	assert_false(created); /* same key, new certificate */
	assert_int_equal(access(path, R_OK), 0);
	net_cert_destroy(&a);
	net_cert_destroy(&b);
	th_rm_rf(dir);
}

static void corrupt_or_mismatched_files_are_refused(void **state)
{
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	struct net_cert *a, *b;
	assert_int_equal(net_cert_load_or_create(dir, &a, NULL), 0);
	/* Another key's certificate: mismatch. */
	struct net_cert *other;
	assert_int_equal(net_cert_generate(&other), 0);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/tls/cert.pem", dir);
	assert_int_equal(th_file_replace(path, other->cert_pem, other->cert_pem_len, 0644), 0);
	assert_int_equal(net_cert_load_or_create(dir, &b, NULL), -EKEYREJECTED);
	/* Garbage certificate. */
	assert_int_equal(th_file_replace(path, "not a pem", 9, 0644), 0);
	assert_true(net_cert_load_or_create(dir, &b, NULL) < 0);
	net_cert_destroy(&a);
	net_cert_destroy(&other);
	th_rm_rf(dir);
}

static void fingerprint_text_round_trips_and_rejects_junk(void **state)
{
	uint8_t fp[32], back[32];
	for (int i = 0; i < 32; i++)
		fp[i] = (uint8_t)(i * 37 + 1);
	char hex[65];
	net_cert_fp_format(fp, hex);
	assert_int_equal(net_cert_fp_parse(hex, back), 0);
	assert_memory_equal(fp, back, 32);
	/* Upper case and colon-separated forms are accepted. */
	char up[65], col[96];
	for (int i = 0; i < 65; i++)
		up[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
	assert_int_equal(net_cert_fp_parse(up, back), 0);
	assert_memory_equal(fp, back, 32);
	size_t n = 0;
	for (int i = 0; i < 32; i++) {
		if (i)
			col[n++] = ':';
		col[n++] = hex[2 * i];
		col[n++] = hex[2 * i + 1];
	}
	col[n] = '\0';
	assert_int_equal(net_cert_fp_parse(col, back), 0);
	assert_memory_equal(fp, back, 32);
	memset(back, 0xee, 32);
	assert_int_equal(net_cert_fp_parse("abc", back), -EINVAL);
	char longer[70];
	snprintf(longer, sizeof(longer), "%s00", hex);
	assert_int_equal(net_cert_fp_parse(longer, back), -EINVAL);
	hex[10] = 'g';
	assert_int_equal(net_cert_fp_parse(hex, back), -EINVAL);
	assert_int_equal(back[0], 0xee); /* untouched on failure */
	assert_int_equal(net_cert_fp_parse("", back), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generated_certificate_has_a_stable_sha256_fingerprint),
		cmocka_unit_test(first_start_creates_files_and_restart_reuses_them),
		cmocka_unit_test(missing_certificate_is_reissued_for_the_existing_key),
		cmocka_unit_test(corrupt_or_mismatched_files_are_refused),
		cmocka_unit_test(fingerprint_text_round_trips_and_rejects_junk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
