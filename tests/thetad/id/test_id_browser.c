/* Browser identities in the id store: minted with a uid from the browser
 * range, a key id_user_key answers for, a record file 0600 written
 * atomically and loaded at open, a resume secret of which only the hash is
 * kept, names checked, the range bounded, damaged records refused with a
 * sentence and skipped (their uid never handed out again). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "id/id.h"
#include "th_cmd.h"
#include "th_file.h"
#include "th_harness.h"
#include "th_log.h"

static const uint8_t SID[16] = { 0xa1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xff };
static const uint8_t NONCE[16] = { 9, 9, 9, 9, 8, 8, 8, 8, 7, 7, 7, 7, 6, 6, 6, 6 };

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void a_browser_gets_a_uid_a_key_and_a_private_record(void **state)
{
	const char *dir = ((struct th_tmpdir *)*state)->path;
	struct id_store *s;
	struct id_browser a, b, g;
	uint8_t ra[ID_RESUME_LEN], rb[ID_RESUME_LEN], zero[ID_RESUME_LEN] = { 0 };
	char path[512];
	assert_int_equal(id_store_open(dir, &s), 0);
	snprintf(path, sizeof path, "%s/keys/browsers", dir);
	assert_int_equal(mode_of(path), 0700);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "Ada", &a, ra), 0);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_VIEWER, "Zoë on a tablet", &b, rb), 0);
	assert_int_equal(a.uid, ID_BROWSER_UID_BASE);
	assert_int_equal(b.uid, ID_BROWSER_UID_BASE + 1);
	assert_true(id_uid_is_browser(a.uid) && id_uid_is_browser(b.uid));
	assert_false(id_uid_is_browser(ID_BROWSER_UID_BASE - 1));
	assert_false(id_uid_is_browser(ID_BROWSER_UID_BASE + ID_BROWSERS_MAX));
	assert_memory_equal(a.session_id, SID, 16);
	assert_memory_equal(a.nonce, NONCE, 16);
	assert_int_equal(a.role, TH_ROLE_EDITOR);
	assert_string_equal(a.name, "Ada");
	assert_true(a.created_s > 1700000000u);
	assert_memory_not_equal(ra, zero, sizeof ra);
	assert_memory_not_equal(ra, rb, sizeof ra);

	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)a.uid);
	assert_int_equal(mode_of(path), 0600);
	/* The record holds the resume secret's hash, never the secret. */
	char *text;
	size_t len;
	char hex[2 * ID_RESUME_LEN + 1];
	assert_int_equal(th_file_read(path, 4096, &text, &len), 0);
	sodium_bin2hex(hex, sizeof hex, ra, sizeof ra);
	assert_null(strstr(text, hex));
	assert_non_null(strstr(text, "\nname Ada\n"));
	assert_non_null(strstr(text, "\nrole editor\n"));
	free(text);

	/* id_user_key answers for browser uids, with distinct keys that sign. */
	const struct th_keypair *ka, *kb;
	assert_int_equal(id_user_key(s, a.uid, &ka), 0);
	assert_int_equal(id_user_key(s, b.uid, &kb), 0);
	assert_memory_not_equal(ka->pk, kb->pk, 32);
	uint8_t sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const uint8_t *)"x", 1, ka->sk);
	assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"x", 1, ka->pk), 0);

	assert_int_equal(id_browser_get(s, b.uid, &g), 0);
	assert_string_equal(g.name, "Zoë on a tablet");
	assert_int_equal(g.role, TH_ROLE_VIEWER);
	assert_int_equal(id_browser_resume(s, rb, &g), 0);
	assert_int_equal(g.uid, b.uid);
	assert_int_equal(id_browser_resume(s, ra, &g), 0);
	assert_int_equal(g.uid, a.uid);
	uint8_t wrong[ID_RESUME_LEN];
	memcpy(wrong, ra, sizeof wrong);
	wrong[0] ^= 1;
	assert_int_equal(id_browser_resume(s, wrong, &g), -ENOENT);
	assert_int_equal(id_browser_get(s, ID_BROWSER_UID_BASE + 7, &g), -ENOENT);
	assert_int_equal(id_browser_get(s, getuid(), &g), -ENOENT);
	id_store_close(&s);
}

static void identities_come_back_after_a_reopen(void **state)
{
	const char *dir = ((struct th_tmpdir *)*state)->path;
	struct id_store *s;
	struct id_browser a, g;
	uint8_t ra[ID_RESUME_LEN], pk[32];
	const struct th_keypair *k;
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_ADMIN, "Grace", &a, ra), 0);
	assert_int_equal(id_user_key(s, a.uid, &k), 0);
	memcpy(pk, k->pk, 32);
	id_store_close(&s);

	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_user_key(s, a.uid, &k), 0);
	assert_memory_equal(k->pk, pk, 32);
	assert_int_equal(id_browser_resume(s, ra, &g), 0);
	assert_int_equal(g.uid, a.uid);
	assert_int_equal(g.role, TH_ROLE_ADMIN);
	assert_string_equal(g.name, "Grace");
	assert_memory_equal(g.session_id, SID, 16);
	assert_memory_equal(g.nonce, NONCE, 16);
	assert_int_equal(g.created_s, a.created_s);
	/* The next one gets the next uid. */
	struct id_browser b;
	uint8_t rb[ID_RESUME_LEN];
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "Linus", &b, rb), 0);
	assert_int_equal(b.uid, a.uid + 1);
	id_store_close(&s);
}

static void names_and_roles_are_checked(void **state)
{
	const char *dir = ((struct th_tmpdir *)*state)->path;
	struct id_store *s;
	struct id_browser b;
	uint8_t r[ID_RESUME_LEN];
	char longname[ID_BROWSER_NAME_MAX + 2];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0; /* 64 bytes: one too many */
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "", &b, r), -EINVAL);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, longname, &b, r), -EINVAL);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "two\nlines", &b, r), -EINVAL);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "tab\there", &b, r), -EINVAL);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "bad \xc3\x28 utf8", &b, r), -EINVAL);
	assert_int_equal(id_browser_create(s, SID, NONCE, 0, "Ada", &b, r), -EINVAL);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_ADMIN + 1, "Ada", &b, r), -EINVAL);
	longname[ID_BROWSER_NAME_MAX] = 0; /* 63 bytes: fits */
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, longname, &b, r), 0);
	assert_int_equal(b.uid, ID_BROWSER_UID_BASE); /* the refusals took no uid */
	id_store_close(&s);
}

static void a_browser_uid_never_gets_a_user_key(void **state)
{
	const char *dir = ((struct th_tmpdir *)*state)->path;
	struct id_store *s;
	const struct th_keypair *k;
	char path[512];
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_user_key(s, ID_BROWSER_UID_BASE + 3, &k), -ENOENT);
	snprintf(path, sizeof path, "%s/keys/users/%u.key", dir, ID_BROWSER_UID_BASE + 3);
	assert_int_equal(access(path, F_OK), -1);
	/* An ordinary uid still gets its key. */
	assert_int_equal(id_user_key(s, getuid(), &k), 0);
	id_store_close(&s);
}

/* Runs id_store_open with stderr captured into log[cap]. */
static void open_capturing(const char *dir, struct id_store **s, char *log, size_t cap)
{
	char path[512];
	snprintf(path, sizeof path, "%s/stderr.txt", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	int r = id_store_open(dir, s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(r, 0);
	char *text;
	size_t len;
	assert_int_equal(th_file_read(path, 1 << 16, &text, &len), 0);
	snprintf(log, cap, "%s", text);
	free(text);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(th_file_replace(path, text, strlen(text), mode), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void damaged_records_are_refused_and_skipped(void **state)
{
	const char *dir = ((struct th_tmpdir *)*state)->path;
	struct id_store *s;
	struct id_browser a, g;
	uint8_t ra[ID_RESUME_LEN];
	char path[512], good[512], log[8192];
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "Ada", &a, ra), 0);
	id_store_close(&s);
	snprintf(good, sizeof good, "%s/keys/browsers/%u.browser", dir, (unsigned)a.uid);
	char *text;
	size_t len;
	assert_int_equal(th_file_read(good, 4096, &text, &len), 0);

	/* uid+1: garbage; uid+2: a good record under another uid's name;
	 * uid+3: readable by others; uid+4: a bad role line; and a name
	 * outside the range. */
	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)a.uid + 1);
	write_file(path, "not a record at all\n", 0600);
	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)a.uid + 2);
	write_file(path, text, 0600);
	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)a.uid + 3);
	write_file(path, text, 0644);
	char *role = strstr(text, "\nrole editor\n");
	assert_non_null(role);
	memcpy(role, "\nrole emperor", 13);
	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)a.uid + 4);
	write_file(path, text, 0600);
	snprintf(path, sizeof path, "%s/keys/browsers/12.browser", dir);
	write_file(path, "x\n", 0600);
	free(text);

	open_capturing(dir, &s, log, sizeof log);
	/* The good one loaded; each bad one named with why. */
	assert_int_equal(id_browser_resume(s, ra, &g), 0);
	assert_int_equal(g.uid, a.uid);
	char want[256];
	snprintf(want, sizeof want, "%u.browser refused: not a theta-browser v1 record", (unsigned)a.uid + 1);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "%u.browser refused: its uid line says %u", (unsigned)a.uid + 2, (unsigned)a.uid);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "%u.browser refused: readable by others", (unsigned)a.uid + 3);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "%u.browser refused: bad role line", (unsigned)a.uid + 4);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "12.browser: not a browser identity's name"));
	for (unsigned i = 1; i <= 4; i++) {
		const struct th_keypair *k;
		assert_int_equal(id_browser_get(s, a.uid + i, &g), -ENOENT);
		assert_int_equal(id_user_key(s, a.uid + i, &k), -ENOENT);
	}
	/* A new browser does not inherit a refused record's uid. */
	struct id_browser b;
	uint8_t rb[ID_RESUME_LEN];
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "Bob", &b, rb), 0);
	assert_int_equal(b.uid, a.uid + 5);
	id_store_close(&s);
}

/* The key lines are read whole: a seed with text after its base64, or a
 * public key that is not the seed's, refuses the record. */
static void a_damaged_key_line_refuses_the_record(void **state)
{
	const char *dir = ((struct th_tmpdir *)*state)->path;
	struct id_store *s;
	struct id_browser a, b, g;
	uint8_t ra[ID_RESUME_LEN], rb[ID_RESUME_LEN];
	char path[512], log[8192];
	assert_int_equal(id_store_open(dir, &s), 0);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "Ada", &a, ra), 0);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "Bob", &b, rb), 0);
	id_store_close(&s);
	char *text, *other;
	size_t len, olen;
	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)b.uid);
	assert_int_equal(th_file_read(path, 4096, &other, &olen), 0);
	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)a.uid);
	assert_int_equal(th_file_read(path, 4096, &text, &len), 0);
	/* a: its seed line gets " junk" after the base64. */
	char *seed = strstr(text, "\nseed "), *eol = seed ? strchr(seed + 1, '\n') : NULL;
	assert_non_null(eol);
	char damaged[4096];
	snprintf(damaged, sizeof damaged, "%.*s junk%s", (int)(eol - text), text, eol);
	write_file(path, damaged, 0600);
	/* b: a's public key line in b's record. */
	char *pa = strstr(text, "\npublic "), *pb = strstr(other, "\npublic ");
	assert_true(pa && pb);
	memcpy(pb, pa, strcspn(pa + 1, "\n") + 1);
	snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, (unsigned)b.uid);
	write_file(path, other, 0600);
	free(text);
	free(other);

	open_capturing(dir, &s, log, sizeof log);
	char want[256];
	snprintf(want, sizeof want, "%u.browser refused: bad seed line", (unsigned)a.uid);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof want, "%u.browser refused: the public key does not match the seed", (unsigned)b.uid);
	assert_non_null(strstr(log, want));
	assert_int_equal(id_browser_resume(s, ra, &g), -ENOENT);
	assert_int_equal(id_browser_resume(s, rb, &g), -ENOENT);
	id_store_close(&s);
}

static void the_uid_range_is_bounded(void **state)
{
	const char *dir = ((struct th_tmpdir *)*state)->path;
	struct id_store *s;
	struct id_browser b;
	uint8_t r[ID_RESUME_LEN];
	char path[512];
	assert_int_equal(id_store_open(dir, &s), 0);
	id_store_close(&s);
	/* Every uid but the last taken (by damaged records: cheap to make). */
	for (unsigned i = 0; i + 1 < ID_BROWSERS_MAX; i++) {
		snprintf(path, sizeof path, "%s/keys/browsers/%u.browser", dir, ID_BROWSER_UID_BASE + i);
		int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	int level = th_log_get_level();
	th_log_set_level(LOG_ERR); /* 4095 warnings */
	assert_int_equal(id_store_open(dir, &s), 0);
	th_log_set_level(level);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "last", &b, r), 0);
	assert_int_equal(b.uid, ID_BROWSER_UID_BASE + ID_BROWSERS_MAX - 1);
	assert_int_equal(id_browser_create(s, SID, NONCE, TH_ROLE_EDITOR, "one too many", &b, r), -ENOSPC);
	id_store_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_browser_gets_a_uid_a_key_and_a_private_record, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(identities_come_back_after_a_reopen, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(names_and_roles_are_checked, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(a_browser_uid_never_gets_a_user_key, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(damaged_records_are_refused_and_skipped, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(a_damaged_key_line_refuses_the_record, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(the_uid_range_is_bounded, th_tmpdir_setup, th_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
