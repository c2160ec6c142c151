/* Sealed shared memory (memfd) for the client IPC rings.
 *
 * The creator makes a memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING), sizes it and
 * seals it against shrinking, growing and further sealing, so that neither
 * side can make the other's mapping fault (SIGBUS) by truncating it. The
 * receiver of such a descriptor checks that it really is a sealed memfd of
 * an acceptable size (fcntl F_GET_SEALS, fstat) before mapping it. */
#pragma once
#include <stddef.h>

#define TH_SHM_SEALS_REQUIRED 0x7 /* F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW */
#define TH_SHM_MAX_SIZE ((size_t)256 << 20)

struct th_shm {
	int fd;      /* -1 when absent */
	void *base;  /* NULL when not mapped */
	size_t size;
};

/* Creates, sizes, seals and maps a memfd of `size` bytes (rounded up to the
 * page size) named `name` (shown in /proc/PID/fd as "memfd:NAME"). */
int th_shm_create(const char *name, size_t size, struct th_shm *out);
/* Checks a received descriptor: a memfd carrying at least the required
 * seals, with a size in [min_size, max_size]; stores the size in
 * *size_out (may be NULL). 0, or -EBADF (not a memfd/regular file), -EPERM
 * (seals missing), -EMSGSIZE (size out of range). */
int th_shm_check(int fd, size_t min_size, size_t max_size, size_t *size_out);
/* th_shm_check then mmap shared read/write. Takes ownership of fd only on
 * success. */
int th_shm_map_received(int fd, size_t min_size, size_t max_size, struct th_shm *out);
/* Unmaps and closes; NULL-safe; leaves fd -1, base NULL. */
void th_shm_close(struct th_shm *s);
