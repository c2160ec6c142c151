/* Host and user keys: created on first use with safe modes, stable across
 * reopen, refused when readable by others or malformed; fingerprints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "id/id.h"
#include "th_harness.h"
#include "th_logtest.h"

static int setup(void **state)
{
	char *dir = malloc(256);
	assert_int_equal(th_mkdtemp(dir, 256), 0);
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	th_rm_rf(*state);
	free(*state);
	return 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void host_key_is_created_once_with_private_modes(void **state)
{
	const char *dir = *state;
	struct id_store *s;
	const struct th_keypair *k;
	char path[512];
	uint8_t pk[32];
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_host_key(s, &k), 0);
	memcpy(pk, k->pk, 32);
	snprintf(path, sizeof(path), "%s/keys/host.key", dir);
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(mode_of(path), 0700);
	id_store_close(&s);
	assert_null(s);
	/* Reopened: the same key, and it signs what its public half verifies. */
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_host_key(s, &k), 0);
	assert_memory_equal(k->pk, pk, 32);
	uint8_t h[32] = { 1, 2, 3 }, sig[64];
	th_logrec_sign(h, k->sk, sig);
	assert_int_equal(th_logrec_verify(h, pk, sig), 0);
	id_store_close(&s);
}

static void each_user_gets_a_distinct_key_on_first_use(void **state)
{
	const char *dir = *state;
	struct id_store *s;
	const struct th_keypair *k1, *k2, *k1b, *host;
	char path[512];
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_user_key(s, 1000, &k1), 0);
	assert_int_equal(id_user_key(s, 1001, &k2), 0);
	assert_int_equal(id_host_key(s, &host), 0);
	assert_memory_not_equal(k1->pk, k2->pk, 32);
	assert_memory_not_equal(k1->pk, host->pk, 32);
	/* Earlier pointers stay valid as more users arrive. */
	uint8_t pk1[32];
	memcpy(pk1, k1->pk, 32);
	for (uid_t u = 2000; u < 2020; u++) {
		const struct th_keypair *k;
		assert_int_equal(id_user_key(s, u, &k), 0);
	}
	assert_memory_equal(k1->pk, pk1, 32);
	assert_int_equal(id_user_key(s, 1000, &k1b), 0);
	assert_ptr_equal(k1, k1b);
	snprintf(path, sizeof(path), "%s/keys/users/1000.key", dir);
	assert_int_equal(mode_of(path), 0600);
	id_store_close(&s);
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_user_key(s, 1000, &k1), 0);
	assert_memory_equal(k1->pk, pk1, 32);
	id_store_close(&s);
}

static void key_readable_by_others_is_refused(void **state)
{
	const char *dir = *state;
	char path[512];
	struct th_keypair kp;
	snprintf(path, sizeof(path), "%s/k.key", dir);
	assert_int_equal(id_key_create(path, &kp), 0);
	assert_int_equal(id_key_create(path, &kp), -EEXIST);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(id_key_load(path, &kp), -EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(id_key_load(path, &kp), 0);
}

static void malformed_or_mismatched_key_file_is_refused(void **state)
{
	const char *dir = *state;
	char path[512];
	struct th_keypair kp;
	uint8_t *d;
	size_t len;
	snprintf(path, sizeof(path), "%s/k.key", dir);
	assert_int_equal(id_key_load(path, &kp), -ENOENT);
	assert_int_equal(id_key_create(path, &kp), 0);
	assert_int_equal(lt_read_file(path, &d, &len), 0);
	/* Change one character of the public key line. */
	char *pub = strstr((char *)d, "public ");
	assert_non_null(pub);
	pub[10] = pub[10] == 'A' ? 'B' : 'A';
	assert_int_equal(lt_write_file(path, d, len), 0);
	assert_int_equal(id_key_load(path, &kp), -EBADMSG);
	assert_int_equal(lt_write_file(path, "theta-ed25519-key v1\nseed xyz\n", 30), 0);
	assert_int_equal(id_key_load(path, &kp), -EBADMSG);
	assert_int_equal(lt_write_file(path, "", 0), 0);
	assert_int_equal(id_key_load(path, &kp), -EBADMSG);
	free(d);
}

static void fingerprint_has_the_documented_form(void **state)
{
	struct th_keypair kp;
	char fp[TH_KEY_FPR_LEN];
	assert_int_equal(th_keypair_generate(&kp), 0);
	assert_int_equal(id_fingerprint(kp.pk, fp, sizeof(fp)), 0);
	assert_int_equal(strlen(fp), 50);
	assert_memory_equal(fp, "SHA256:", 7);
	for (int i = 7; i < 50; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", fp[i]));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(host_key_is_created_once_with_private_modes),
		T(each_user_gets_a_distinct_key_on_first_use),
		T(key_readable_by_others_is_refused),
		T(malformed_or_mismatched_key_file_is_refused),
		T(fingerprint_has_the_documented_form),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
