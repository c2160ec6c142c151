/* common/th_shm: sealed memfds and the receiver's checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "th_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

static void created_memfd_is_sealed_and_mapped(void **state)
{
	(void)state;
	struct th_shm s;
	assert_int_equal(th_shm_create("test-shm", 10000, &s), 0);
	assert_true(s.fd >= 0);
	assert_non_null(s.base);
	assert_true(s.size >= 10000 && s.size % 4096 == 0);
	int seals = fcntl(s.fd, F_GET_SEALS);
	assert_int_equal(seals & TH_SHM_SEALS_REQUIRED, TH_SHM_SEALS_REQUIRED);
	/* Nobody can resize it or lift the seals. */
	assert_int_equal(ftruncate(s.fd, 4096), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(s.fd, (off_t)s.size * 2), -1);
	assert_int_equal(fcntl(s.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_int_equal(fcntl(s.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	memset(s.base, 0x5a, s.size);
	th_shm_close(&s);
	assert_int_equal(s.fd, -1);
	assert_null(s.base);
	th_shm_close(&s); /* idempotent */
	th_shm_close(NULL);
}

static void create_refuses_bad_sizes(void **state)
{
	(void)state;
	struct th_shm s = { .fd = -7 };
	assert_int_equal(th_shm_create("x", 0, &s), -EINVAL);
	assert_int_equal(th_shm_create("x", TH_SHM_MAX_SIZE + 1, &s), -EINVAL);
	assert_int_equal(s.fd, -7); /* untouched on failure */
}

static void receiver_maps_the_same_pages(void **state)
{
	(void)state;
	struct th_shm a, b;
	assert_int_equal(th_shm_create("test-shm", 8192, &a), 0);
	int fd = dup(a.fd);
	assert_int_equal(th_shm_map_received(fd, 4096, 1 << 20, &b), 0);
	assert_int_equal(b.size, 8192);
	strcpy(a.base, "written by the creator");
	assert_string_equal(b.base, "written by the creator");
	th_shm_close(&b);
	th_shm_close(&a);
}

static void receiver_refuses_unsealed_memfd(void **state)
{
	(void)state;
	int fd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	struct th_shm s = { .fd = -1 };
	assert_int_equal(th_shm_map_received(fd, 0, 1 << 20, &s), -EPERM);
	/* Partially sealed is not enough. */
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	assert_int_equal(th_shm_check(fd, 0, 1 << 20, NULL), -EPERM);
	assert_int_equal(s.fd, -1);
	close(fd);
	/* Without MFD_ALLOW_SEALING it carries F_SEAL_SEAL only. */
	fd = memfd_create("nosealing", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, 8192), 0);
	assert_int_equal(th_shm_check(fd, 0, 1 << 20, NULL), -EPERM);
	close(fd);
}

static void receiver_refuses_other_kinds_of_fd(void **state)
{
	(void)state;
	assert_int_equal(th_shm_check(-1, 0, 1 << 20, NULL), -EBADF);
	int efd = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(th_shm_check(efd, 0, 1 << 20, NULL), -EBADF);
	close(efd);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(th_shm_check(p[0], 0, 1 << 20, NULL), -EBADF);
	close(p[0]);
	close(p[1]);
	FILE *t = tmpfile();
	assert_non_null(t);
	assert_int_equal(ftruncate(fileno(t), 8192), 0);
	assert_int_equal(th_shm_check(fileno(t), 0, 1 << 20, NULL), -EBADF);
	fclose(t);
}

static void receiver_refuses_sizes_out_of_range(void **state)
{
	(void)state;
	struct th_shm a, b = { .fd = -1 };
	assert_int_equal(th_shm_create("test-shm", 8192, &a), 0);
	size_t size = 0;
	assert_int_equal(th_shm_check(a.fd, 8192, 8192, &size), 0);
	assert_int_equal(size, 8192);
	assert_int_equal(th_shm_map_received(a.fd, 8193, 1 << 20, &b), -EMSGSIZE);
	assert_int_equal(th_shm_map_received(a.fd, 0, 8191, &b), -EMSGSIZE);
	assert_int_equal(b.fd, -1);
	th_shm_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(created_memfd_is_sealed_and_mapped),
		cmocka_unit_test(create_refuses_bad_sizes),
		cmocka_unit_test(receiver_maps_the_same_pages),
		cmocka_unit_test(receiver_refuses_unsealed_memfd),
		cmocka_unit_test(receiver_refuses_other_kinds_of_fd),
		cmocka_unit_test(receiver_refuses_sizes_out_of_range),
	};
	return cmocka_run_group_tests_name("th_shm", tests, NULL, NULL);
}
