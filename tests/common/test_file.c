/* th_file: atomic replace, whole-file read with a limit, mkdir -p, writable dir check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_file.h"
#include "th_harness.h"


static const char *at(const struct th_tmpdir *d, const char *name)
{
	static char buf[4][PATH_MAX];
	static int i;
	char *p = buf[i++ & 3];
	snprintf(p, PATH_MAX, "%s/%s", d->path, name);
	return p;
}

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(dh);
	while ((e = readdir(dh)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dh);
	return n;
}

static void expect_content(const char *path, const char *want, size_t want_len)
{
	char *got = NULL;
	size_t len = 0;
	assert_int_equal(th_file_read(path, 1 << 20, &got, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_int_equal(got[len], 0);
	free(got);
}

static void replace_creates_file_with_exact_mode(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "state.bin");
	struct stat st;
	mode_t old = umask(077); /* the mode must not depend on the umask */

	assert_int_equal(th_file_replace(p, "hello", 5, 0644), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	expect_content(p, "hello", 5);
	assert_int_equal(count_entries(d->path), 1); /* no temporary left */
}

static void replace_overwrites_and_changes_mode(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "f");
	struct stat st, st2;

	assert_int_equal(th_file_replace(p, "a much longer first version", 27, 0644), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(th_file_replace(p, "v2", 2, 0600), 0);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st2.st_mode & 07777, 0600);
	assert_true(st.st_ino != st2.st_ino); /* a new inode renamed in, not rewritten in place */
	expect_content(p, "v2", 2);

	/* Empty content is a valid file. */
	assert_int_equal(th_file_replace(p, NULL, 0, 0640), 0);
	expect_content(p, "", 0);
	assert_int_equal(count_entries(d->path), 1);
}

static void replace_keeps_old_content_visible_to_open_readers(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "f");
	char buf[16] = { 0 };

	assert_int_equal(th_file_replace(p, "old", 3, 0644), 0);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(th_file_replace(p, "new!", 4, 0644), 0);
	/* The reader that opened before sees the whole old file, never a mix. */
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "old");
	close(fd);
	expect_content(p, "new!", 4);
}

static void replace_in_missing_directory_fails_cleanly(void **state)
{
	struct th_tmpdir *d = *state;
	assert_int_equal(th_file_replace(at(d, "nodir/f"), "x", 1, 0644), -ENOENT);
	assert_int_equal(count_entries(d->path), 0);
}

static void replace_over_a_directory_fails_and_removes_temp(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "sub");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(th_file_replace(p, "x", 1, 0644), -EISDIR);
	assert_int_equal(count_entries(d->path), 1); /* just "sub" */
	assert_int_equal(count_entries(p), 0);
}

static void replace_with_too_long_path_is_enametoolong(void **state)
{
	char *p = malloc(PATH_MAX + 16);
	assert_non_null(p);
	memset(p, 'a', PATH_MAX + 15);
	p[0] = '/';
	p[PATH_MAX + 15] = 0;
	assert_int_equal(th_file_replace(p, "x", 1, 0644), -ENAMETOOLONG);
	free(p);
}

static void read_enforces_max_inclusively(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "ten");
	char *out = (char *)0x1;
	size_t len = 12345;

	assert_int_equal(th_file_replace(p, "0123456789", 10, 0644), 0);
	assert_int_equal(th_file_read(p, 10, &out, &len), 0); /* exactly max */
	assert_int_equal(len, 10);
	assert_string_equal(out, "0123456789");
	free(out);

	out = (char *)0x1;
	len = 12345;
	assert_int_equal(th_file_read(p, 9, &out, &len), -EFBIG);
	assert_ptr_equal(out, (char *)0x1); /* untouched on failure */
	assert_int_equal(len, 12345);
	assert_int_equal(th_file_read(p, 0, &out, &len), -EFBIG);

	/* out_len is optional. */
	assert_int_equal(th_file_read(p, 100, &out, NULL), 0);
	assert_string_equal(out, "0123456789");
	free(out);

	/* An empty file gives an empty string, even with max 0. */
	const char *e = at(d, "empty");
	assert_int_equal(th_file_replace(e, "", 0, 0644), 0);
	assert_int_equal(th_file_read(e, 0, &out, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
}

static void read_larger_file_through_several_reallocations(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "big");
	size_t n = 300000;
	char *data = malloc(n), *out;
	size_t len;
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(th_file_replace(p, data, n, 0644), 0);
	assert_int_equal(th_file_read(p, n, &out, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(out, data, n);
	free(out);
	assert_int_equal(th_file_read(p, n - 1, &out, &len), -EFBIG);
	free(data);
}

static void read_file_whose_size_lies(void **state)
{
	/* /proc files report st_size 0: the reader must grow, and enforce max. */
	char *out;
	size_t len;
	int r = th_file_read("/proc/self/status", 1 << 20, &out, &len);
	if (r == -ENOENT)
		skip();
	assert_int_equal(r, 0);
	assert_true(len > 0);
	assert_int_equal(strlen(out), len);
	assert_non_null(strstr(out, "Name:"));
	free(out);
	assert_int_equal(th_file_read("/proc/self/status", 16, &out, &len), -EFBIG);
}

static void read_missing_file_is_enoent(void **state)
{
	struct th_tmpdir *d = *state;
	char *out = NULL;
	assert_int_equal(th_file_read(at(d, "nope"), 100, &out, NULL), -ENOENT);
	assert_null(out);
}

static void mkdir_p_creates_every_component(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "a/b/c");
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(th_mkdir_p(p, 0750), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(stat(at(d, "a"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	/* Existing directories are fine, trailing and doubled slashes too. */
	assert_int_equal(th_mkdir_p(p, 0750), 0);
	assert_int_equal(th_mkdir_p(at(d, "a//b/c/d/"), 0750), 0);
	assert_int_equal(stat(at(d, "a/b/c/d"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void mkdir_p_through_or_onto_a_file_is_enotdir(void **state)
{
	struct th_tmpdir *d = *state;
	assert_int_equal(th_file_replace(at(d, "file"), "x", 1, 0644), 0);
	assert_int_equal(th_mkdir_p(at(d, "file/sub"), 0755), -ENOTDIR);
	assert_int_equal(th_mkdir_p(at(d, "file"), 0755), -ENOTDIR);
}

static void dir_writable_checks_existence_and_type(void **state)
{
	struct th_tmpdir *d = *state;
	assert_int_equal(th_dir_writable(d->path), 0);
	assert_int_equal(th_dir_writable(at(d, "missing")), -ENOENT);
	assert_int_equal(th_file_replace(at(d, "file"), "x", 1, 0644), 0);
	assert_int_equal(th_dir_writable(at(d, "file")), -ENOTDIR);
}

static void dir_writable_refuses_read_only_dir(void **state)
{
	struct th_tmpdir *d = *state;
	const char *p = at(d, "ro");
	assert_int_equal(mkdir(p, 0555), 0);
	assert_int_equal(chmod(p, 0555), 0);
	if (geteuid() != 0) {
		assert_int_equal(th_dir_writable(p), -EACCES);
		return;
	}
	/* Root bypasses permission bits: check as an unprivileged user. */
	assert_int_equal(chmod(d->path, 0755), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		_exit(th_dir_writable(p) == -EACCES ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 100)
		skip(); /* cannot drop privileges here */
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void fsync_dir_works_on_dirs_only(void **state)
{
	struct th_tmpdir *d = *state;
	assert_int_equal(th_fsync_dir(d->path), 0);
	assert_int_equal(th_fsync_dir(at(d, "missing")), -ENOENT);
	assert_int_equal(th_file_replace(at(d, "file"), "x", 1, 0644), 0);
	assert_int_equal(th_fsync_dir(at(d, "file")), -ENOTDIR);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, th_tmpdir_setup, th_tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(replace_creates_file_with_exact_mode),
		T(replace_overwrites_and_changes_mode),
		T(replace_keeps_old_content_visible_to_open_readers),
		T(replace_in_missing_directory_fails_cleanly),
		T(replace_over_a_directory_fails_and_removes_temp),
		cmocka_unit_test(replace_with_too_long_path_is_enametoolong),
		T(read_enforces_max_inclusively),
		T(read_larger_file_through_several_reallocations),
		cmocka_unit_test(read_file_whose_size_lies),
		T(read_missing_file_is_enoent),
		T(mkdir_p_creates_every_component),
		T(mkdir_p_through_or_onto_a_file_is_enotdir),
		T(dir_writable_checks_existence_and_type),
		T(dir_writable_refuses_read_only_dir),
		T(fsync_dir_works_on_dirs_only),
	};
	return cmocka_run_group_tests_name("th_file", tests, NULL, NULL);
}
