#include "th_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(TH_SHM_SEALS_REQUIRED == (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW),
	       "seal mask must match the kernel's");

static size_t page_round(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t p = pg > 0 ? (size_t)pg : 4096;
	return (n + p - 1) / p * p;
}

int th_shm_create(const char *name, size_t size, struct th_shm *out)
{
	if (!name || !size || size > TH_SHM_MAX_SIZE)
		return -EINVAL;
	size = page_round(size);
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = (struct th_shm){ .fd = fd, .base = base, .size = size };
	return 0;
}

int th_shm_check(int fd, size_t min_size, size_t max_size, size_t *size_out)
{
	if (fd < 0)
		return -EBADF;
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EBADF : -errno; /* not a memfd/shmem file */
	if ((seals & TH_SHM_SEALS_REQUIRED) != TH_SHM_SEALS_REQUIRED)
		return -EPERM;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADF;
	if (st.st_size < 0 || (size_t)st.st_size < min_size || (size_t)st.st_size > max_size ||
	    (size_t)st.st_size > TH_SHM_MAX_SIZE)
		return -EMSGSIZE;
	if (size_out)
		*size_out = (size_t)st.st_size;
	return 0;
}

int th_shm_map_received(int fd, size_t min_size, size_t max_size, struct th_shm *out)
{
	size_t size;
	int r = th_shm_check(fd, min_size, max_size, &size);
	if (r < 0)
		return r;
	if (!size)
		return -EMSGSIZE;
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	*out = (struct th_shm){ .fd = fd, .base = base, .size = size };
	return 0;
}

void th_shm_close(struct th_shm *s)
{
	if (!s)
		return;
	if (s->base)
		munmap(s->base, s->size);
	if (s->fd >= 0)
		close(s->fd);
	*s = (struct th_shm){ .fd = -1 };
}
