/* thetad/sess/assets_copy: copies between a caller's file and the store on
 * a thread, finished on a real th_loop: a file in becomes a complete asset
 * under the hash of its bytes (from the file's offset; the offset moves
 * for the caller to see), a second copy of it finds it there, a partial
 * download of it gives way, the store's rules still refuse (a hash known
 * with another size); a copy out writes at the file's offset and
 * refuses a stored file that no longer matches its hash; descriptors that
 * are no regular file, or open the wrong way, are refused before anything
 * starts; a staging file left by a crash goes when the store opens; a store
 * closed under a running copy joins it. */
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
#include "th_loop.h"
#include "th_time.h"

#define DONE_WAIT_NS (30 * TH_NS_PER_S)

struct fx {
	char dir[256];
	char file[300];
	uint8_t *data;
	size_t size;
	uint8_t hash[32];
	char hex[65];
	struct th_loop *loop;
	struct sess_assets *st;
	/* what done saw */
	int calls, result;
	enum sess_asset_copy_fault fault;
	const struct sess_asset *a;
	bool existed;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	f->size = 3 * SESS_ASSET_COPY_BUF + 12345; /* several reads, the last one short */
	f->data = malloc(f->size);
	for (size_t i = 0; i < f->size; i++)
		f->data[i] = (uint8_t)(i * 7 + (i >> 11));
	crypto_hash_sha256(f->hash, f->data, f->size);
	sess_asset_hex(f->hash, f->hex);
	snprintf(f->file, sizeof(f->file), "%s/model.glb", f->dir);
	int fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->data, f->size), (ssize_t)f->size);
	close(fd);
	assert_int_equal(th_loop_create(&f->loop), 0);
	assert_int_equal(sess_assets_open(f->dir, &f->st), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sess_assets_close(&f->st);
	th_loop_destroy(&f->loop);
	th_rm_rf(f->dir);
	free(f->data);
	free(f);
	return 0;
}

static void on_done(void *ud, struct sess_asset_copy *cp)
{
	struct fx *f = ud;
	f->calls++;
	f->result = sess_asset_copy_result(cp, &f->fault, &f->a);
	f->existed = sess_asset_copy_in(cp) && sess_asset_copy_existed(cp);
	assert_true(sess_asset_copy_bytes(cp) <= f->size);
}

/* Runs the loop until done was called once more. */
static void wait_done(struct fx *f)
{
	int before = f->calls;
	uint64_t end = th_now_ns() + DONE_WAIT_NS;
	while (f->calls == before && th_now_ns() < end)
		th_loop_run_once(f->loop, 100);
	assert_int_equal(f->calls, before + 1);
}

static void copy_file_in(struct fx *f, int fd, int expect)
{
	assert_int_equal(sess_assets_copy_in(f->st, f->loop, fd, "model.glb", on_done, f), 0);
	wait_done(f);
	assert_int_equal(f->result, expect);
}

static int count_staging(const struct fx *f)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls -a %s/assets | grep -c '^" SESS_ASSET_STAGE_PREFIX "'", f->dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void a_file_in_becomes_an_asset_under_its_hash(void **state)
{
	struct fx *f = *state;
	int fd = open(f->file, O_RDONLY | O_CLOEXEC);
	copy_file_in(f, fd, 0);
	assert_non_null(f->a);
	assert_string_equal(f->a->hex, f->hex);
	assert_int_equal(f->a->state, SESS_ASSET_COMPLETE);
	assert_int_equal(f->a->size, f->size);
	assert_string_equal(f->a->name, "model.glb");
	assert_false(f->existed);
	/* The caller's offset moved over the whole file: that is its progress. */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)f->size);
	uint8_t *back = malloc(f->size);
	assert_int_equal(sess_assets_read(f->st, f->hash, 0, back, f->size), (ssize_t)f->size);
	assert_memory_equal(back, f->data, f->size);
	free(back);
	assert_int_equal(count_staging(f), 0);
	/* Again (from the start): found complete, nothing left behind. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	copy_file_in(f, fd, 0);
	assert_true(f->existed);
	assert_int_equal(sess_assets_count(f->st), 1);
	assert_int_equal(count_staging(f), 0);
	close(fd);
	/* It survives a reopen: metadata and the complete file. */
	sess_assets_close(&f->st);
	assert_int_equal(sess_assets_open(f->dir, &f->st), 0);
	const struct sess_asset *a = sess_assets_find(f->st, f->hash);
	assert_non_null(a);
	assert_int_equal(a->state, SESS_ASSET_COMPLETE);
}

/* Reading starts at the file's offset, as cat(1) would. */
static void a_copy_in_reads_from_the_offset(void **state)
{
	struct fx *f = *state;
	const size_t skip = 1000;
	uint8_t h[32];
	char hex[65];
	crypto_hash_sha256(h, f->data + skip, f->size - skip);
	sess_asset_hex(h, hex);
	int fd = open(f->file, O_RDONLY | O_CLOEXEC);
	assert_int_equal(lseek(fd, (off_t)skip, SEEK_SET), (off_t)skip);
	copy_file_in(f, fd, 0);
	assert_string_equal(f->a->hex, hex);
	assert_int_equal(f->a->size, f->size - skip);
	/* At the end already: nothing to store. */
	copy_file_in(f, fd, -ENODATA);
	assert_int_equal(f->fault, SESS_COPY_FAULT_CALLER);
	close(fd);
	assert_int_equal(count_staging(f), 0);
}

static void a_partial_download_gives_way(void **state)
{
	struct fx *f = *state;
	assert_int_equal(sess_assets_add(f->st, f->hash, f->size, "from a peer", NULL), 0);
	assert_int_equal(sess_assets_write(f->st, f->hash, 0, f->data, 4096), 4096);
	int fd = open(f->file, O_RDONLY | O_CLOEXEC);
	copy_file_in(f, fd, 0);
	close(fd);
	assert_false(f->existed);
	assert_int_equal(f->a->state, SESS_ASSET_COMPLETE);
	assert_string_equal(f->a->name, "from a peer"); /* the known name stays */
	char p[600];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/assets/%s.part", f->dir, f->hex);
	assert_int_not_equal(stat(p, &sb), 0);
	/* A peer's late bytes are refused: it is complete. */
	assert_int_equal(sess_assets_write(f->st, f->hash, 4096, f->data + 4096, 10), -EALREADY);
}

/* The store's own rules still hold: a hash known with another size. */
static void the_store_may_refuse_what_was_copied(void **state)
{
	struct fx *f = *state;
	assert_int_equal(sess_assets_add(f->st, f->hash, f->size + 1, "other", NULL), 0);
	int fd = open(f->file, O_RDONLY | O_CLOEXEC);
	copy_file_in(f, fd, -EBADMSG);
	close(fd);
	assert_int_equal(f->fault, SESS_COPY_FAULT_LIMIT);
	assert_null(f->a);
	assert_int_equal(count_staging(f), 0);
	assert_int_equal(sess_assets_find(f->st, f->hash)->state, SESS_ASSET_MISSING);
}

static void a_copy_out_writes_at_the_offset_and_checks_the_hash(void **state)
{
	struct fx *f = *state;
	int fd = open(f->file, O_RDONLY | O_CLOEXEC);
	copy_file_in(f, fd, 0);
	close(fd);
	const struct sess_asset *a = f->a;
	char out[300];
	snprintf(out, sizeof(out), "%s/out.bin", f->dir);
	int ofd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_int_equal(write(ofd, "head", 4), 4);
	assert_int_equal(sess_assets_copy_out(f->st, f->loop, a, ofd, on_done, f), 0);
	wait_done(f);
	assert_int_equal(f->result, 0);
	assert_ptr_equal(f->a, a);
	assert_int_equal(lseek(ofd, 0, SEEK_CUR), (off_t)(4 + f->size));
	uint8_t *back = malloc(f->size + 4);
	assert_int_equal(pread(ofd, back, f->size + 4, 0), (ssize_t)(f->size + 4));
	assert_memory_equal(back, "head", 4);
	assert_memory_equal(back + 4, f->data, f->size);
	free(back);
	close(ofd);
	/* The stored file damaged on disk (same length): refused. */
	char p[600];
	snprintf(p, sizeof(p), "%s/assets/%s", f->dir, f->hex);
	int sfd = open(p, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(sfd, "X", 1, (off_t)(f->size / 2)), 1);
	close(sfd);
	ofd = open(out, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_int_equal(sess_assets_copy_out(f->st, f->loop, a, ofd, on_done, f), 0);
	wait_done(f);
	assert_int_equal(f->result, -EBADMSG);
	assert_int_equal(f->fault, SESS_COPY_FAULT_STORE);
	assert_null(f->a);
	close(ofd);
}

static void descriptors_of_the_wrong_kind_are_refused(void **state)
{
	struct fx *f = *state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(sess_assets_copy_in(f->st, f->loop, p[0], "x", on_done, f), -EINVAL);
	close(p[0]);
	close(p[1]);
	int wfd = open(f->file, O_WRONLY | O_CLOEXEC), rfd = open(f->file, O_RDONLY | O_CLOEXEC);
	int afd = open(f->file, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_int_equal(sess_assets_copy_in(f->st, f->loop, wfd, "x", on_done, f), -EBADF);
	assert_int_equal(sess_assets_copy_in(f->st, f->loop, rfd, "bad\tname", on_done, f), -EINVAL);
	copy_file_in(f, rfd, 0);
	assert_int_equal(sess_assets_copy_out(f->st, f->loop, f->a, rfd, on_done, f), -EBADF);
	assert_int_equal(sess_assets_copy_out(f->st, f->loop, f->a, afd, on_done, f), -EBADF);
	/* An asset that is not complete has nothing to copy out. */
	uint8_t other[32] = { 1 };
	const struct sess_asset *m;
	assert_int_equal(sess_assets_add(f->st, other, 10, "missing", &m), 0);
	assert_int_equal(sess_assets_copy_out(f->st, f->loop, m, wfd, on_done, f), -ENOENT);
	close(wfd);
	close(rfd);
	close(afd);
	assert_int_equal(f->calls, 1); /* none of the refused ones called done */
	assert_int_equal(count_staging(f), 0);
}

static void at_most_a_few_copies_run_at_once(void **state)
{
	struct fx *f = *state;
	int fd[SESS_ASSET_COPIES_MAX + 1];
	for (unsigned i = 0; i <= SESS_ASSET_COPIES_MAX; i++)
		fd[i] = open(f->file, O_RDONLY | O_CLOEXEC);
	for (unsigned i = 0; i < SESS_ASSET_COPIES_MAX; i++)
		assert_int_equal(sess_assets_copy_in(f->st, f->loop, fd[i], "model.glb", on_done, f), 0);
	/* The threads may have ended, but their ends are the loop's to take. */
	assert_int_equal(sess_assets_copy_in(f->st, f->loop, fd[SESS_ASSET_COPIES_MAX], "m", on_done, f), -EBUSY);
	uint64_t end = th_now_ns() + DONE_WAIT_NS;
	while (f->calls < (int)SESS_ASSET_COPIES_MAX && th_now_ns() < end)
		th_loop_run_once(f->loop, 100);
	assert_int_equal(f->calls, SESS_ASSET_COPIES_MAX);
	assert_int_equal(f->result, 0);
	assert_int_equal(sess_assets_count(f->st), 1);
	for (unsigned i = 0; i <= SESS_ASSET_COPIES_MAX; i++)
		close(fd[i]);
	assert_int_equal(count_staging(f), 0);
}

static void closing_the_store_joins_a_running_copy(void **state)
{
	struct fx *f = *state;
	int fd = open(f->file, O_RDONLY | O_CLOEXEC);
	assert_int_equal(sess_assets_copy_in(f->st, f->loop, fd, "model.glb", on_done, f), 0);
	close(fd); /* the copy holds its own duplicate */
	sess_assets_close(&f->st);
	assert_int_equal(f->calls, 0);
	/* Whatever it staged went with it; its eventfd left the loop. */
	assert_int_equal(th_loop_count(f->loop), 0);
	assert_int_equal(sess_assets_open(f->dir, &f->st), 0);
	assert_int_equal(count_staging(f), 0);
}

static void a_staging_file_left_by_a_crash_goes_at_open(void **state)
{
	struct fx *f = *state;
	char p[600];
	snprintf(p, sizeof(p), "%s/assets/" SESS_ASSET_STAGE_PREFIX "abc123", f->dir);
	FILE *x = fopen(p, "w");
	fputs("half a copy", x);
	fclose(x);
	sess_assets_close(&f->st);
	assert_int_equal(sess_assets_open(f->dir, &f->st), 0);
	struct stat sb;
	assert_int_not_equal(stat(p, &sb), 0);
	assert_int_equal(sess_assets_count(f->st), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_file_in_becomes_an_asset_under_its_hash),
		T(a_copy_in_reads_from_the_offset),
		T(a_partial_download_gives_way),
		T(the_store_may_refuse_what_was_copied),
		T(a_copy_out_writes_at_the_offset_and_checks_the_hash),
		T(descriptors_of_the_wrong_kind_are_refused),
		T(at_most_a_few_copies_run_at_once),
		T(closing_the_store_joins_a_running_copy),
		T(a_staging_file_left_by_a_crash_goes_at_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
