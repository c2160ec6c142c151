/* Copies between a caller's file and a session's asset store, off the loop
 * (see assets.h, "Copies with a caller's file").
 *
 * One thread per copy reads, hashes (SHA-256 through GnuTLS, which uses the
 * CPU's SHA instructions) and writes in SESS_ASSET_COPY_BUF pieces, at the
 * caller's file offset (read(2) / write(2) on the descriptor the caller
 * passed, which shares its open file description, so the caller sees the
 * offset move); the loop learns the end through an eventfd and does every
 * change to the store itself (adopt, counters, the answer). */
#include "sess/assets.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_fdpass.h"
#include "th_loop.h"

struct sess_asset_copy {
	struct sess_assets *st;
	struct th_loop *loop;
	bool in;          /* into the store (put) or out of it (get) */
	int fd;           /* the caller's file (our duplicate) */
	int efd;          /* eventfd: the thread ended */
	int sfd;          /* the store's side: staging file (in) or the asset (out) */
	char staging[SESS_ASSET_PATH_MAX];
	char name[SESS_ASSET_NAME_MAX + 1];
	uint8_t want[SESS_ASSET_HASH_LEN]; /* out: the asset's hash */
	uint64_t limit;   /* out: the asset's size; in: SESS_ASSET_MAX_SIZE */
	pthread_t th;
	atomic_bool stop;
	atomic_uint_least64_t moved;
	/* Set by the thread before it signals efd, read on the loop after. */
	int err;
	enum sess_asset_copy_fault fault;
	uint8_t hash[SESS_ASSET_HASH_LEN];
	uint64_t bytes;
	/* The loop's. */
	int result;
	bool existed; /* in: the asset was complete in the store already */
	const struct sess_asset *asset;
	sess_asset_copy_done_fn done;
	void *ud;
	struct sess_asset_copy *next;
};

/* ---- the thread ------------------------------------------------------------------------ */

static int copy_write_all(int fd, const uint8_t *p, size_t n, off_t *at)
{
	while (n) {
		ssize_t w = at ? pwrite(fd, p, n, *at) : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		if (at)
			*at += w;
	}
	return 0;
}

/* Reads src until its end (or limit bytes, or one more for "too large"),
 * hashing, writing each piece to dst. */
static void *copy_thread(void *arg)
{
	struct sess_asset_copy *cp = arg;
	uint8_t *buf = malloc(SESS_ASSET_COPY_BUF);
	gnutls_hash_hd_t h = NULL;
	int src = cp->in ? cp->fd : cp->sfd, dst = cp->in ? cp->sfd : cp->fd;
	off_t wat = 0; /* the staging file is written by position; the caller's file at its offset */
	int r = 0;
	if (!buf || gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		r = -ENOMEM;
		cp->fault = SESS_COPY_FAULT_STORE;
		goto out;
	}
	uint64_t total = 0, flushed = 0;
	for (;;) {
		if (atomic_load(&cp->stop)) {
			r = -ECANCELED;
			cp->fault = SESS_COPY_FAULT_STORE;
			break;
		}
		size_t want = SESS_ASSET_COPY_BUF;
		if (cp->limit - total + 1 < want) /* one byte past the limit tells "too large" */
			want = (size_t)(cp->limit - total + 1);
		ssize_t n = read(src, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			cp->fault = cp->in ? SESS_COPY_FAULT_CALLER : SESS_COPY_FAULT_STORE;
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > cp->limit) {
			r = -EFBIG;
			cp->fault = cp->in ? SESS_COPY_FAULT_CALLER : SESS_COPY_FAULT_STORE;
			break;
		}
		gnutls_hash(h, buf, (size_t)n);
		if ((r = copy_write_all(dst, buf, (size_t)n, cp->in ? &wat : NULL)) < 0) {
			cp->fault = cp->in ? SESS_COPY_FAULT_STORE : SESS_COPY_FAULT_CALLER;
			break;
		}
		/* The staging file goes to disk while the rest is read, so the
		 * fdatasync at the end has little left to wait for. */
		if (cp->in && (uint64_t)wat - flushed >= SESS_ASSET_COPY_FLUSH) {
			(void)sync_file_range(cp->sfd, (off_t)flushed, wat - (off_t)flushed, SYNC_FILE_RANGE_WRITE);
			flushed = (uint64_t)wat;
		}
		atomic_store(&cp->moved, total);
	}
	if (r == 0 && cp->in && total == 0) {
		r = -ENODATA;
		cp->fault = SESS_COPY_FAULT_CALLER;
	}
	if (r == 0 && !cp->in && total != cp->limit) {
		r = -EIO; /* the stored file is shorter than the asset it holds */
		cp->fault = SESS_COPY_FAULT_STORE;
	}
	/* The store's copy is durable before the loop renames it into place. */
	if (r == 0 && cp->in && fdatasync(cp->sfd) < 0) {
		r = -errno;
		cp->fault = SESS_COPY_FAULT_STORE;
	}
	cp->bytes = total;
	gnutls_hash_deinit(h, cp->hash);
	h = NULL;
	if (r == 0 && !cp->in && memcmp(cp->hash, cp->want, SESS_ASSET_HASH_LEN) != 0) {
		r = -EBADMSG;
		cp->fault = SESS_COPY_FAULT_STORE;
	}
out:
	if (h)
		gnutls_hash_deinit(h, NULL);
	free(buf);
	cp->err = r;
	uint64_t one = 1;
	/* The eventfd is ours and never full: this write does not fail. */
	(void)!write(cp->efd, &one, sizeof(one));
	return NULL;
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void copy_unlink(struct sess_asset_copy *cp)
{
	struct sess_asset_copy **pp = sess_assets_copies_head(cp->st);
	for (; *pp; pp = &(*pp)->next)
		if (*pp == cp) {
			*pp = cp->next;
			break;
		}
}

static void copy_free(struct sess_asset_copy *cp)
{
	if (cp->efd >= 0) {
		th_loop_del(cp->loop, cp->efd);
		close(cp->efd);
	}
	if (cp->fd >= 0)
		close(cp->fd);
	if (cp->sfd >= 0)
		close(cp->sfd);
	if (cp->staging[0])
		unlink(cp->staging);
	free(cp);
}

static void copy_ended(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sess_asset_copy *cp = user;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno == EAGAIN)
		return;
	pthread_join(cp->th, NULL);
	copy_unlink(cp);
	cp->result = cp->err;
	if (cp->result == 0 && cp->in) {
		close(cp->sfd);
		cp->sfd = -1;
		const struct sess_asset *prev = sess_assets_find(cp->st, cp->hash);
		cp->existed = prev && prev->state == SESS_ASSET_COMPLETE;
		cp->result = sess_assets_adopt(cp->st, cp->staging, cp->hash, cp->bytes, cp->name, &cp->asset);
		if (cp->result == -ENOSPC || cp->result == -EFBIG || cp->result == -EINVAL || cp->result == -EBADMSG)
			cp->fault = SESS_COPY_FAULT_LIMIT;
		else if (cp->result < 0)
			cp->fault = SESS_COPY_FAULT_STORE;
		else
			cp->staging[0] = 0; /* renamed into place, or removed as a duplicate */
	} else if (cp->result == 0) {
		cp->asset = sess_assets_find(cp->st, cp->want);
	}
	cp->done(cp->ud, cp);
	copy_free(cp);
}

/* What the caller's descriptor must be: a regular file, open for reading
 * (in) or for writing and not appending (out). */
static int check_caller_fd(int fd, bool in)
{
	int kind = th_fd_kind(fd);
	if (kind < 0)
		return kind;
	if (kind != TH_FD_REGULAR && kind != TH_FD_MEMFD)
		return -EINVAL;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	int acc = fl & O_ACCMODE;
	if (in ? acc == O_WRONLY : (acc == O_RDONLY || (fl & O_APPEND)))
		return -EBADF;
	return 0;
}

static unsigned copies_running(struct sess_assets *st)
{
	unsigned n = 0;
	for (struct sess_asset_copy *c = *sess_assets_copies_head(st); c; c = c->next)
		n++;
	return n;
}

static int copy_start(struct sess_assets *st, struct th_loop *loop, struct sess_asset_copy *cp, int fd)
{
	int r;
	if (copies_running(st) >= SESS_ASSET_COPIES_MAX) {
		r = -EBUSY;
		goto fail;
	}
	cp->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (cp->fd < 0) {
		r = -errno;
		goto fail;
	}
	cp->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cp->efd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = th_loop_add(loop, cp->efd, EPOLLIN, copy_ended, cp)) < 0) {
		close(cp->efd);
		cp->efd = -1;
		goto fail;
	}
	if ((r = -pthread_create(&cp->th, NULL, copy_thread, cp)) < 0)
		goto fail;
	struct sess_asset_copy **head = sess_assets_copies_head(st);
	cp->next = *head;
	*head = cp;
	return 0;
fail:
	copy_free(cp);
	return r;
}

static struct sess_asset_copy *copy_new(struct sess_assets *st, struct th_loop *loop, bool in,
					sess_asset_copy_done_fn done, void *ud)
{
	struct sess_asset_copy *cp = calloc(1, sizeof(*cp));
	if (!cp)
		return NULL;
	cp->st = st;
	cp->loop = loop;
	cp->in = in;
	cp->fd = cp->efd = cp->sfd = -1;
	cp->done = done;
	cp->ud = ud;
	atomic_init(&cp->stop, false);
	atomic_init(&cp->moved, 0);
	return cp;
}

int sess_assets_copy_in(struct sess_assets *st, struct th_loop *loop, int fd, const char *name,
			sess_asset_copy_done_fn done, void *ud)
{
	if (!sess_asset_name_ok(name))
		return -EINVAL;
	int r = check_caller_fd(fd, true);
	if (r < 0)
		return r;
	struct sess_asset_copy *cp = copy_new(st, loop, true, done, ud);
	if (!cp)
		return -ENOMEM;
	snprintf(cp->name, sizeof(cp->name), "%s", name);
	cp->limit = SESS_ASSET_MAX_SIZE;
	if ((r = sess_assets_stage(st, cp->staging, sizeof(cp->staging))) < 0) {
		copy_free(cp);
		return r;
	}
	cp->sfd = r;
	return copy_start(st, loop, cp, fd);
}

int sess_assets_copy_out(struct sess_assets *st, struct th_loop *loop, const struct sess_asset *a, int fd,
			 sess_asset_copy_done_fn done, void *ud)
{
	if (a->state != SESS_ASSET_COMPLETE)
		return -ENOENT;
	int r = check_caller_fd(fd, false);
	if (r < 0)
		return r;
	struct sess_asset_copy *cp = copy_new(st, loop, false, done, ud);
	if (!cp)
		return -ENOMEM;
	memcpy(cp->want, a->hash, SESS_ASSET_HASH_LEN);
	snprintf(cp->name, sizeof(cp->name), "%s", a->name);
	cp->limit = a->size;
	char path[SESS_ASSET_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", sess_assets_dir(st), a->hex);
	cp->sfd = open(path, O_RDONLY | O_CLOEXEC);
	if (cp->sfd < 0) {
		r = -errno;
		copy_free(cp);
		return r;
	}
	return copy_start(st, loop, cp, fd);
}

int sess_asset_copy_result(const struct sess_asset_copy *cp, enum sess_asset_copy_fault *fault,
			   const struct sess_asset **a)
{
	if (fault)
		*fault = cp->result < 0 ? cp->fault : SESS_COPY_FAULT_NONE;
	if (a)
		*a = cp->result < 0 ? NULL : cp->asset;
	return cp->result;
}

uint64_t sess_asset_copy_bytes(const struct sess_asset_copy *cp)
{
	return atomic_load(&cp->moved);
}

bool sess_asset_copy_in(const struct sess_asset_copy *cp)
{
	return cp->in;
}

bool sess_asset_copy_existed(const struct sess_asset_copy *cp)
{
	return cp->existed;
}

const char *sess_asset_copy_name(const struct sess_asset_copy *cp)
{
	return cp->name;
}

void sess_assets_copies_cancel(struct sess_assets *st)
{
	struct sess_asset_copy **head = sess_assets_copies_head(st);
	while (*head) {
		struct sess_asset_copy *cp = *head;
		atomic_store(&cp->stop, true);
		pthread_join(cp->th, NULL);
		*head = cp->next;
		copy_free(cp); /* nobody is told: the store goes away */
	}
}
