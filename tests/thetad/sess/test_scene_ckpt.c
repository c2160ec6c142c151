/* thetad/sess/scene_ckpt: checkpoint files of a session's scene (opaque
 * snapshot bytes here; the fold's own are tested in test_scene_daemon):
 * what is written reads back bit for bit, every kind of damage is refused
 * with a sentence, only the newest two are kept, leftovers of a crash and
 * checkpoints past the log's end are tidied away, a child process
 * writes one and reports its result, holding none of its parent's
 * descriptors, and the writer thread writes in order and reports back
 * through its eventfd. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sess/scene_ckpt.h"
#include "th_buf.h"
#include "th_harness.h"

struct fx {
	char dir[256];
	uint8_t session[SESS_CKPT_ID_LEN];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	for (unsigned i = 0; i < SESS_CKPT_ID_LEN; i++)
		f->session[i] = (uint8_t)(0xa0 + i);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	th_rm_rf(f->dir);
	free(f);
	return 0;
}

/* A checkpoint file for next_pos with n snapshot bytes derived from seed. */
static uint8_t *make_file(const struct fx *f, uint64_t next_pos, size_t n, unsigned seed, size_t *len)
{
	uint8_t *file = malloc(SESS_CKPT_HEADER_LEN + n);
	struct sess_ckpt_header h = { .next_pos = next_pos, .snapshot_len = n };
	memcpy(h.session, f->session, sizeof(h.session));
	for (unsigned i = 0; i < SESS_CKPT_HASH_LEN; i++) {
		h.world_hash[i] = (uint8_t)(seed + i);
		h.set_digest[i] = (uint8_t)(seed * 7 + i);
	}
	for (size_t i = 0; i < n; i++)
		file[SESS_CKPT_HEADER_LEN + i] = (uint8_t)(i * 31 + seed + (i >> 8));
	sess_ckpt_header_put(file, &h);
	*len = SESS_CKPT_HEADER_LEN + n;
	return file;
}

static void write_ok(const struct fx *f, uint64_t pos, size_t n, unsigned seed)
{
	size_t len;
	uint8_t *file = make_file(f, pos, n, seed, &len);
	assert_int_equal(sess_ckpt_write(f->dir, pos, file, len), 0);
	free(file);
}

static void a_written_checkpoint_reads_back_with_its_header(void **state)
{
	struct fx *f = *state;
	size_t len, rlen;
	uint8_t *file = make_file(f, 1234, 70000, 5, &len), *back;
	assert_int_equal(sess_ckpt_write(f->dir, 1234, file, len), 0);

	uint64_t pos[4];
	assert_int_equal(sess_ckpt_list(f->dir, pos, 4), 1);
	assert_int_equal(pos[0], 1234);
	assert_int_equal(sess_ckpt_read(f->dir, 1234, &back, &rlen), 0);
	assert_int_equal(rlen, len);
	assert_memory_equal(back, file, len);

	struct sess_ckpt_header h;
	const uint8_t *snap;
	const char *why = NULL;
	assert_int_equal(sess_ckpt_parse(back, rlen, f->session, &h, &snap, &why), 0);
	assert_int_equal(h.next_pos, 1234);
	assert_int_equal(h.snapshot_len, 70000);
	assert_memory_equal(h.session, f->session, SESS_CKPT_ID_LEN);
	assert_int_equal(h.world_hash[3], 5 + 3);
	assert_int_equal(h.set_digest[3], 5 * 7 + 3);
	assert_ptr_equal(snap, back + SESS_CKPT_HEADER_LEN);
	assert_memory_equal(snap, file + SESS_CKPT_HEADER_LEN, 70000);

	/* The file is where the docs say, private to the daemon. */
	char path[512];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/checkpoints/ckpt-00000000000000001234.thck", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(back);
	free(file);
}

static void an_empty_snapshot_is_a_valid_checkpoint(void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *file = make_file(f, 0, 0, 1, &len);
	struct sess_ckpt_header h;
	const uint8_t *snap;
	const char *why;
	assert_int_equal(len, SESS_CKPT_HEADER_LEN);
	assert_int_equal(sess_ckpt_parse(file, len, f->session, &h, &snap, &why), 0);
	assert_int_equal(h.snapshot_len, 0);
	free(file);
}

static void expect_refused(const struct fx *f, const uint8_t *p, size_t len, const char *needle)
{
	struct sess_ckpt_header h = { .next_pos = 77 };
	const uint8_t *snap = NULL;
	const char *why = NULL;
	assert_int_equal(sess_ckpt_parse(p, len, f->session, &h, &snap, &why), -EBADMSG);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("refusal '%s' does not say '%s'", why, needle);
	assert_int_equal(h.next_pos, 77); /* untouched */
	assert_null(snap);
}

static void every_damage_is_refused_with_a_sentence(void **state)
{
	struct fx *f = *state;
	size_t len;
	uint8_t *file = make_file(f, 99, 5000, 9, &len);
	uint8_t *c = malloc(len);

	/* Any single flipped bit, header or snapshot, fails the CRC (or an
	 * earlier check that names the field). */
	for (size_t off = 0; off < len; off += (off < SESS_CKPT_HEADER_LEN ? 1 : 97)) {
		memcpy(c, file, len);
		c[off] ^= 0x10;
		struct sess_ckpt_header h;
		const uint8_t *snap;
		const char *why;
		if (sess_ckpt_parse(c, len, f->session, &h, &snap, &why) != -EBADMSG)
			fail_msg("a flipped bit at offset %zu was not noticed", off);
	}
	memcpy(c, file, len);
	c[len - 1] ^= 1;
	expect_refused(f, c, len, "CRC");
	memcpy(c, file, len);
	c[0] = 'X';
	expect_refused(f, c, len, "magic");
	memcpy(c, file, len);
	c[4] = SESS_CKPT_VERSION + 1;
	expect_refused(f, c, len, "version");
	memcpy(c, file, len);
	c[4] = 1; /* written before faces carried provenance */
	expect_refused(f, c, len, "version");
	/* Truncated (a torn copy) and too long. */
	expect_refused(f, file, len - 1, "length");
	expect_refused(f, file, SESS_CKPT_HEADER_LEN - 1, "shorter");
	expect_refused(f, file, 0, "shorter");
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, file, len);
	longer[len] = 0;
	expect_refused(f, longer, len + 1, "length");
	free(longer);

	/* A valid file of another session. */
	struct fx other = *f;
	other.session[0] ^= 1;
	size_t olen;
	uint8_t *of = make_file(&other, 99, 10, 1, &olen);
	expect_refused(f, of, olen, "another session");
	free(of);
	free(c);
	free(file);
}

static void only_the_newest_two_are_kept(void **state)
{
	struct fx *f = *state;
	uint64_t pos[8];
	write_ok(f, 1000, 100, 1);
	write_ok(f, 2000, 100, 2);
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	write_ok(f, 3000, 100, 3);
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	assert_int_equal(pos[0], 3000);
	assert_int_equal(pos[1], 2000);
	/* Ten more: still two, the newest. */
	for (uint64_t p = 4000; p <= 13000; p += 1000)
		write_ok(f, p, 50 + (size_t)p / 1000, (unsigned)p);
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	assert_int_equal(pos[0], 13000);
	assert_int_equal(pos[1], 12000);
	/* Rewriting the newest position replaces it in place. */
	write_ok(f, 13000, 10, 99);
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	uint8_t *b;
	size_t bl;
	assert_int_equal(sess_ckpt_read(f->dir, 13000, &b, &bl), 0);
	assert_int_equal(bl, SESS_CKPT_HEADER_LEN + 10);
	free(b);
}

static void touch(const struct fx *f, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/checkpoints/%s", f->dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static bool present(const struct fx *f, const char *name)
{
	char p[512];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/checkpoints/%s", f->dir, name);
	return stat(p, &sb) == 0;
}

static void leftovers_and_checkpoints_past_the_log_are_tidied(void **state)
{
	struct fx *f = *state;
	uint64_t pos[8];
	/* No folder yet: nothing to list or tidy. */
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 0);
	assert_int_equal(sess_ckpt_tidy(f->dir, 100), 0);
	write_ok(f, 500, 10, 1);
	write_ok(f, 900, 10, 2);
	/* What a crash during a write leaves, and names that are not ours. */
	touch(f, "ckpt-00000000000000001000.thck.tmp.4242");
	touch(f, "ckpt-12.thck");
	touch(f, "ckpt-0000000000000000x000.thck");
	touch(f, "notes.txt");
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	/* The log holds 600 entries now (recovery cut the rest): the
	 * checkpoint of 900 covers entries it does not have. */
	assert_int_equal(sess_ckpt_tidy(f->dir, 600), 1);
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 1);
	assert_int_equal(pos[0], 500);
	assert_false(present(f, "ckpt-00000000000000001000.thck.tmp.4242"));
	assert_true(present(f, "notes.txt"));
	assert_true(present(f, "ckpt-12.thck"));
}

static void a_folder_that_cannot_be_written_fails_the_write(void **state)
{
	struct fx *f = *state;
	char p[512];
	size_t len;
	uint8_t *file = make_file(f, 10, 10, 1, &len);
	/* A file where the folder should be. */
	snprintf(p, sizeof(p), "%s/checkpoints", f->dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_true(sess_ckpt_write(f->dir, 10, file, len) < 0);
	free(file);
}

/* What the child encodes: a file for next_pos of n bytes, or a failure. */
struct enc {
	const struct fx *f;
	uint64_t pos;
	size_t n;
	int fail;
};

static int encode(void *ud, struct th_wbuf *file)
{
	struct enc *e = ud;
	size_t len;
	if (e->fail)
		return e->fail;
	uint8_t *b = make_file(e->f, e->pos, e->n, 7, &len);
	th_wbuf_init(file, 0);
	th_wbuf_put(file, b, len);
	free(b);
	return th_wbuf_error(file);
}

/* Waits for the child's pidfd, then reaps it; its result. */
static int wait_child(struct sess_ckpt_child *c)
{
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 60000), 1);
	int r = sess_ckpt_reap(c, false);
	assert_int_not_equal(r, -EAGAIN);
	assert_int_equal(c->pid, 0);
	assert_int_equal(c->pidfd, -1);
	return r;
}

static void a_child_process_writes_the_checkpoint_and_reports_back(void **state)
{
	struct fx *f = *state;
	struct sess_ckpt_child c = { .pidfd = -1 };
	struct enc e = { .f = f, .pos = 300, .n = 200000 };
	assert_int_equal(sess_ckpt_reap(&c, false), -ECHILD); /* none yet */
	assert_int_equal(sess_ckpt_fork(f->dir, 300, encode, &e, &c), 0);
	assert_true(c.pid > 0 && c.pidfd >= 0);
	assert_int_equal(wait_child(&c), 0);

	/* Its file is complete and valid; its header reads back alone. */
	uint8_t *b;
	size_t len;
	struct sess_ckpt_header h;
	const uint8_t *snap;
	const char *why;
	assert_int_equal(sess_ckpt_read(f->dir, 300, &b, &len), 0);
	assert_int_equal(len, SESS_CKPT_HEADER_LEN + 200000);
	assert_int_equal(sess_ckpt_parse(b, len, f->session, &h, &snap, &why), 0);
	free(b);
	struct sess_ckpt_header hh;
	assert_int_equal(sess_ckpt_read_header(f->dir, 300, &hh), 0);
	assert_int_equal(hh.next_pos, 300);
	assert_int_equal(hh.snapshot_len, 200000);
	assert_memory_equal(hh.world_hash, h.world_hash, sizeof(h.world_hash));
	assert_int_equal(sess_ckpt_read_header(f->dir, 301, &hh), -ENOENT);

	/* The encoder's failure is the child's result; nothing is written. */
	e = (struct enc){ .f = f, .pos = 400, .n = 10, .fail = -ENOMEM };
	assert_int_equal(sess_ckpt_fork(f->dir, 400, encode, &e, &c), 0);
	assert_int_equal(wait_child(&c), -ENOMEM);
	uint64_t pos[8];
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 1);

	/* So is the write's. */
	e = (struct enc){ .f = f, .pos = 500, .n = 10 };
	assert_int_equal(sess_ckpt_fork("/nonexistent/theta/dir", 500, encode, &e, &c), 0);
	assert_int_equal(wait_child(&c), -ENOENT);

	/* Blocking reap; the rotation keeps two. */
	for (uint64_t p = 600; p < 900; p += 100) {
		e = (struct enc){ .f = f, .pos = p, .n = 10 };
		assert_int_equal(sess_ckpt_fork(f->dir, p, encode, &e, &c), 0);
		assert_int_equal(sess_ckpt_reap(&c, true), 0);
	}
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	assert_int_equal(pos[0], 800);
	assert_int_equal(pos[1], 700);
}

/* The child holds none of the parent's descriptors: a lock the parent
 * holds (the daemon's runtime lock) is not kept alive by it. */
static int lock_fd = -1;
static int encode_checking_fds(void *ud, struct th_wbuf *file)
{
	/* The lock's fd number is not open here. */
	if (fcntl(lock_fd, F_GETFD) != -1 || errno != EBADF)
		return -EEXIST;
	return encode(ud, file);
}

static void the_child_holds_none_of_the_parents_descriptors(void **state)
{
	struct fx *f = *state;
	char path[512];
	snprintf(path, sizeof(path), "%s/lock", f->dir);
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(lock_fd >= 0);
	struct sess_ckpt_child c = { .pidfd = -1 };
	struct enc e = { .f = f, .pos = 10, .n = 10 };
	assert_int_equal(sess_ckpt_fork(f->dir, 10, encode_checking_fds, &e, &c), 0);
	assert_int_equal(wait_child(&c), 0);
	close(lock_fd);
}

struct done_log {
	int n;
	uint64_t pos[16];
	int status[16];
};

static void on_done(void *ud, int status, uint64_t next_pos, uint64_t write_ns)
{
	struct done_log *d = ud;
	(void)write_ns;
	d->pos[d->n] = next_pos;
	d->status[d->n] = status;
	d->n++;
}

static void poll_until(struct sess_ckpt_writer *w, struct done_log *d, int want)
{
	for (int tries = 0; d->n < want && tries < 600; tries++) {
		struct pollfd p = { .fd = sess_ckpt_writer_fd(w), .events = POLLIN };
		poll(&p, 1, 100);
		sess_ckpt_writer_poll(w);
	}
	assert_int_equal(d->n, want);
}

static void the_writer_thread_writes_in_order_and_reports_back(void **state)
{
	struct fx *f = *state;
	struct sess_ckpt_writer *w = NULL;
	struct done_log d = { 0 }, gone = { 0 };
	assert_int_equal(sess_ckpt_writer_create(&w), 0);
	for (uint64_t p = 100; p <= 500; p += 100) {
		size_t len;
		uint8_t *file = make_file(f, p, 3000, (unsigned)p, &len);
		assert_int_equal(sess_ckpt_writer_submit(w, f->dir, p, file, len, on_done, &d), 0);
	}
	poll_until(w, &d, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(d.pos[i], 100 + 100 * (uint64_t)i);
		assert_int_equal(d.status[i], 0);
	}
	uint64_t pos[8];
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	assert_int_equal(pos[0], 500);

	/* A failing write reports its errno. */
	size_t len;
	uint8_t *file = make_file(f, 600, 10, 1, &len);
	assert_int_equal(sess_ckpt_writer_submit(w, "/nonexistent/theta/dir", 600, file, len, on_done, &d), 0);
	poll_until(w, &d, 6);
	assert_true(d.status[5] < 0);

	/* A forgotten owner hears nothing; the write still happens. */
	file = make_file(f, 700, 10, 1, &len);
	assert_int_equal(sess_ckpt_writer_submit(w, f->dir, 700, file, len, on_done, &gone), 0);
	sess_ckpt_writer_forget(w, &gone);
	file = make_file(f, 800, 10, 1, &len);
	assert_int_equal(sess_ckpt_writer_submit(w, f->dir, 800, file, len, on_done, &d), 0);
	poll_until(w, &d, 7);
	assert_int_equal(gone.n, 0);
	assert_int_equal(sess_ckpt_list(f->dir, pos, 8), 2);
	assert_int_equal(pos[0], 800);
	assert_int_equal(pos[1], 700);

	/* Destroy with writes queued: they are done or dropped, nothing leaks. */
	for (uint64_t p = 900; p < 905; p++) {
		file = make_file(f, p, 10, 1, &len);
		assert_int_equal(sess_ckpt_writer_submit(w, f->dir, p, file, len, on_done, &gone), 0);
	}
	sess_ckpt_writer_destroy(&w);
	assert_null(w);
	sess_ckpt_writer_destroy(&w); /* NULL-safe */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_written_checkpoint_reads_back_with_its_header, setup, teardown),
		cmocka_unit_test_setup_teardown(an_empty_snapshot_is_a_valid_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(every_damage_is_refused_with_a_sentence, setup, teardown),
		cmocka_unit_test_setup_teardown(only_the_newest_two_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(leftovers_and_checkpoints_past_the_log_are_tidied, setup, teardown),
		cmocka_unit_test_setup_teardown(a_folder_that_cannot_be_written_fails_the_write, setup, teardown),
		cmocka_unit_test_setup_teardown(a_child_process_writes_the_checkpoint_and_reports_back, setup, teardown),
		cmocka_unit_test_setup_teardown(the_child_holds_none_of_the_parents_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(the_writer_thread_writes_in_order_and_reports_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
