/* Scene checkpoint files, the child process and the writer thread that
 * write them (scene_ckpt.h). */
#include "sess/scene_ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_buf.h"
#include "th_crc32c.h"
#include "th_file.h"
#include "th_time.h"

#define SESS_CKPT_PREFIX "ckpt-"
#define SESS_CKPT_SUFFIX ".thck"
#define SESS_CKPT_POS_DIGITS 20
#define SESS_CKPT_NAME_LEN (sizeof(SESS_CKPT_PREFIX) - 1 + SESS_CKPT_POS_DIGITS + sizeof(SESS_CKPT_SUFFIX) - 1)
#define SESS_CKPT_CRC_OFF 104u

/* ---- bytes ------------------------------------------------------------------ */

void sess_ckpt_header_put(uint8_t *file, const struct sess_ckpt_header *h)
{
	memcpy(file, SESS_CKPT_MAGIC, 4);
	th_put_le32(file + 4, SESS_CKPT_VERSION);
	memcpy(file + 8, h->session, SESS_CKPT_ID_LEN);
	th_put_le64(file + 24, h->next_pos);
	memcpy(file + 32, h->world_hash, SESS_CKPT_HASH_LEN);
	memcpy(file + 64, h->set_digest, SESS_CKPT_HASH_LEN);
	th_put_le64(file + 96, h->snapshot_len);
	uint32_t crc = th_crc32c_update(0, file, SESS_CKPT_CRC_OFF);
	crc = th_crc32c_update(crc, file + SESS_CKPT_HEADER_LEN, (size_t)h->snapshot_len);
	th_put_le32(file + SESS_CKPT_CRC_OFF, crc);
}

int sess_ckpt_parse(const uint8_t *p, size_t len, const uint8_t session[SESS_CKPT_ID_LEN],
		    struct sess_ckpt_header *h, const uint8_t **snap, const char **why)
{
	struct sess_ckpt_header x;
	if (len < SESS_CKPT_HEADER_LEN) {
		*why = "the file is shorter than a checkpoint header";
		return -EBADMSG;
	}
	if (memcmp(p, SESS_CKPT_MAGIC, 4)) {
		*why = "the file does not start with the checkpoint magic THCK";
		return -EBADMSG;
	}
	if (th_get_le32(p + 4) != SESS_CKPT_VERSION) {
		*why = "the checkpoint is of another format version than this build writes (the scene is rebuilt "
		       "from the log)";
		return -EBADMSG;
	}
	memcpy(x.session, p + 8, SESS_CKPT_ID_LEN);
	x.next_pos = th_get_le64(p + 24);
	memcpy(x.world_hash, p + 32, SESS_CKPT_HASH_LEN);
	memcpy(x.set_digest, p + 64, SESS_CKPT_HASH_LEN);
	x.snapshot_len = th_get_le64(p + 96);
	if (x.snapshot_len > SESS_CKPT_SNAPSHOT_MAX || x.snapshot_len != len - SESS_CKPT_HEADER_LEN) {
		*why = "the snapshot length in the header does not match the file's size";
		return -EBADMSG;
	}
	uint32_t crc = th_crc32c_update(0, p, SESS_CKPT_CRC_OFF);
	crc = th_crc32c_update(crc, p + SESS_CKPT_HEADER_LEN, (size_t)x.snapshot_len);
	if (crc != th_get_le32(p + SESS_CKPT_CRC_OFF)) {
		*why = "the checkpoint's CRC-32C does not match its bytes (damaged)";
		return -EBADMSG;
	}
	if (memcmp(x.session, session, SESS_CKPT_ID_LEN)) {
		*why = "the checkpoint belongs to another session";
		return -EBADMSG;
	}
	*h = x;
	*snap = p + SESS_CKPT_HEADER_LEN;
	return 0;
}

/* ---- files ------------------------------------------------------------------ */

int sess_ckpt_path(const char *dir, uint64_t pos, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/" SESS_CKPT_DIR "/" SESS_CKPT_PREFIX "%020" PRIu64 SESS_CKPT_SUFFIX, dir, pos);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The position a checkpoint file's name says, or -EINVAL for any other name. */
static int sess_ckpt_name_pos(const char *name, uint64_t *pos)
{
	const size_t pl = sizeof(SESS_CKPT_PREFIX) - 1;
	if (strlen(name) != SESS_CKPT_NAME_LEN || strncmp(name, SESS_CKPT_PREFIX, pl) ||
	    strcmp(name + pl + SESS_CKPT_POS_DIGITS, SESS_CKPT_SUFFIX))
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = pl; i < pl + SESS_CKPT_POS_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -EINVAL;
		uint64_t d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*pos = v;
	return 0;
}

static int sess_pos_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Every checkpoint position in dir's folder (at most SESS_CKPT_LIST_MAX),
 * newest first; cb for every temporary file left there. */
static int sess_ckpt_scan(const char *dir, uint64_t *pos, size_t max, void (*tmp)(const char *folder, const char *name))
{
	char folder[4200];
	if (snprintf(folder, sizeof(folder), "%s/" SESS_CKPT_DIR, dir) >= (int)sizeof(folder))
		return -ENAMETOOLONG;
	DIR *d = opendir(folder);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t p;
		if (sess_ckpt_name_pos(de->d_name, &p) == 0) {
			if (n < max)
				pos[n++] = p;
		} else if (tmp && !strncmp(de->d_name, SESS_CKPT_PREFIX, sizeof(SESS_CKPT_PREFIX) - 1) &&
			   strstr(de->d_name, SESS_CKPT_SUFFIX ".tmp.")) {
			tmp(folder, de->d_name);
		}
	}
	closedir(d);
	qsort(pos, n, sizeof(*pos), sess_pos_desc);
	return (int)n;
}

int sess_ckpt_list(const char *dir, uint64_t *pos, size_t max)
{
	return sess_ckpt_scan(dir, pos, max, NULL);
}

int sess_ckpt_read(const char *dir, uint64_t pos, uint8_t **out, size_t *len)
{
	char path[4300];
	char *buf;
	int r = sess_ckpt_path(dir, pos, path, sizeof(path));
	if (r < 0)
		return r;
	r = th_file_read(path, SESS_CKPT_HEADER_LEN + SESS_CKPT_SNAPSHOT_MAX, &buf, len);
	if (r < 0)
		return r;
	*out = (uint8_t *)buf;
	return 0;
}

static int sess_ckpt_unlink(const char *dir, uint64_t pos)
{
	char path[4300];
	int r = sess_ckpt_path(dir, pos, path, sizeof(path));
	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int sess_ckpt_write(const char *dir, uint64_t next_pos, const uint8_t *file, size_t len)
{
	char folder[4200], path[4300];
	if (snprintf(folder, sizeof(folder), "%s/" SESS_CKPT_DIR, dir) >= (int)sizeof(folder))
		return -ENAMETOOLONG;
	int r = sess_ckpt_path(dir, next_pos, path, sizeof(path));
	if (r < 0)
		return r;
	if (mkdir(folder, 0700) == 0) {
		if ((r = th_fsync_dir(dir)) < 0)
			return r;
	} else if (errno != EEXIST) {
		return -errno;
	}
	if ((r = th_file_replace(path, file, len, 0600)) < 0)
		return r;
	/* Rotation: the newest SESS_CKPT_KEEP stay. A removal that fails
	 * leaves an extra file, which the next write removes. */
	uint64_t pos[SESS_CKPT_LIST_MAX];
	int n = sess_ckpt_list(dir, pos, SESS_CKPT_LIST_MAX);
	for (int i = (int)SESS_CKPT_KEEP; i < n; i++)
		sess_ckpt_unlink(dir, pos[i]);
	if (n > (int)SESS_CKPT_KEEP)
		th_fsync_dir(folder);
	return 0;
}

static void sess_ckpt_unlink_tmp(const char *folder, const char *name)
{
	char path[4400];
	if (snprintf(path, sizeof(path), "%s/%s", folder, name) < (int)sizeof(path))
		unlink(path);
}

int sess_ckpt_tidy(const char *dir, uint64_t pos_max)
{
	uint64_t pos[SESS_CKPT_LIST_MAX];
	int n = sess_ckpt_scan(dir, pos, SESS_CKPT_LIST_MAX, sess_ckpt_unlink_tmp), removed = 0;
	for (int i = 0; i < n; i++)
		if (pos[i] > pos_max && sess_ckpt_unlink(dir, pos[i]) == 0)
			removed++;
	return removed;
}

int sess_ckpt_read_header(const char *dir, uint64_t pos, struct sess_ckpt_header *h)
{
	char path[4300];
	uint8_t b[SESS_CKPT_HEADER_LEN];
	int r = sess_ckpt_path(dir, pos, path, sizeof(path));
	if (r < 0)
		return r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, b, sizeof(b), 0);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	if (n != (ssize_t)sizeof(b) || memcmp(b, SESS_CKPT_MAGIC, 4))
		return -EBADMSG;
	memcpy(h->session, b + 8, SESS_CKPT_ID_LEN);
	h->next_pos = th_get_le64(b + 24);
	memcpy(h->world_hash, b + 32, SESS_CKPT_HASH_LEN);
	memcpy(h->set_digest, b + 64, SESS_CKPT_HASH_LEN);
	h->snapshot_len = th_get_le64(b + 96);
	return 0;
}

/* ---- writing in a child process -------------------------------------------------- */

/* The child's exit status for errno e (a negative errno): e's value, or
 * EIO when it does not fit. */
static int sess_ckpt_exit_code(int e)
{
	return e >= 0 ? 0 : -e < 256 ? -e : EIO;
}

static void sess_ckpt_child_run(const char *dir, uint64_t next_pos, sess_ckpt_encode_fn *fn, void *ud,
				pid_t parent)
{
	/* Nothing of the daemon's but its memory: the runtime lock, sockets
	 * and eventfds stay the parent's alone. */
	close_range(3, ~0u, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(ECHILD);
	struct th_wbuf w;
	int r = fn(ud, &w);
	if (r == 0) {
		r = sess_ckpt_write(dir, next_pos, w.data, w.len);
		th_wbuf_fini(&w);
	}
	_exit(sess_ckpt_exit_code(r));
}

int sess_ckpt_fork(const char *dir, uint64_t next_pos, sess_ckpt_encode_fn *fn, void *ud,
		   struct sess_ckpt_child *c)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		sess_ckpt_child_run(dir, next_pos, fn, ud, parent);
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		int r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	c->pid = pid;
	c->pidfd = fd;
	return 0;
}

int sess_ckpt_reap(struct sess_ckpt_child *c, bool block)
{
	int st;
	if (!c->pid)
		return -ECHILD;
	pid_t r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
	if (r == 0)
		return -EAGAIN;
	if (r < 0 && errno == EINTR)
		return -EAGAIN;
	int res = r < 0                ? -errno
		  : WIFEXITED(st)      ? -WEXITSTATUS(st)
		  : WIFSIGNALED(st)    ? -EINTR
				       : -EIO;
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pid = 0;
	c->pidfd = -1;
	return res;
}

/* ---- writer thread ------------------------------------------------------------ */

struct sess_ckpt_job {
	struct sess_ckpt_job *next;
	char dir[4096];
	uint64_t next_pos;
	uint8_t *file;
	size_t len;
	sess_ckpt_done_fn *done;
	void *ud;
	int status;
	uint64_t write_ns;
};

struct sess_ckpt_writer {
	pthread_t thread;
	bool started;
	int efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* Guarded by mu: queued (FIFO), the one being written, finished. */
	struct sess_ckpt_job *queue, **queue_tail, *busy, *done, **done_tail;
	unsigned queued;
};

static void *sess_ckpt_thread(void *arg)
{
	struct sess_ckpt_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->queue && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->queue)
			break; /* stopping, nothing left */
		struct sess_ckpt_job *j = w->queue;
		w->queue = j->next;
		if (!w->queue)
			w->queue_tail = &w->queue;
		w->queued--;
		w->busy = j;
		pthread_mutex_unlock(&w->mu);

		uint64_t t0 = th_now_ns();
		j->status = sess_ckpt_write(j->dir, j->next_pos, j->file, j->len);
		j->write_ns = th_now_ns() - t0;
		free(j->file);
		j->file = NULL;

		pthread_mutex_lock(&w->mu);
		w->busy = NULL;
		j->next = NULL;
		*w->done_tail = j;
		w->done_tail = &j->next;
		pthread_cond_broadcast(&w->cv);
		uint64_t one = 1;
		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow in practice; a failed
			 * write leaves the completion for the next poll. */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int sess_ckpt_writer_create(struct sess_ckpt_writer **out)
{
	struct sess_ckpt_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->queue_tail = &w->queue;
	w->done_tail = &w->done;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		int r = -errno;
		free(w);
		return r;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	int r = pthread_create(&w->thread, NULL, sess_ckpt_thread, w);
	if (r) {
		close(w->efd);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return -r;
	}
	w->started = true;
	*out = w;
	return 0;
}

static void sess_ckpt_free_list(struct sess_ckpt_job *j)
{
	while (j) {
		struct sess_ckpt_job *n = j->next;
		free(j->file);
		free(j);
		j = n;
	}
}

void sess_ckpt_writer_destroy(struct sess_ckpt_writer **pw)
{
	struct sess_ckpt_writer *w = *pw;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started)
		pthread_join(w->thread, NULL);
	sess_ckpt_free_list(w->queue);
	sess_ckpt_free_list(w->done);
	close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	*pw = NULL;
}

int sess_ckpt_writer_fd(const struct sess_ckpt_writer *w)
{
	return w->efd;
}

int sess_ckpt_writer_submit(struct sess_ckpt_writer *w, const char *dir, uint64_t next_pos, uint8_t *file,
			    size_t len, sess_ckpt_done_fn *done, void *ud)
{
	if (strlen(dir) >= sizeof(((struct sess_ckpt_job *)0)->dir))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&w->mu);
	bool full = w->queued >= SESS_CKPT_JOBS_MAX;
	pthread_mutex_unlock(&w->mu);
	if (full)
		return -EAGAIN;
	struct sess_ckpt_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	j->next_pos = next_pos;
	j->file = file;
	j->len = len;
	j->done = done;
	j->ud = ud;
	pthread_mutex_lock(&w->mu);
	*w->queue_tail = j;
	w->queue_tail = &j->next;
	w->queued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int sess_ckpt_writer_poll(struct sess_ckpt_writer *w)
{
	uint64_t v;
	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&w->mu);
	struct sess_ckpt_job *list = w->done;
	w->done = NULL;
	w->done_tail = &w->done;
	pthread_mutex_unlock(&w->mu);
	int n = 0;
	while (list) {
		struct sess_ckpt_job *j = list;
		list = j->next;
		if (j->done)
			j->done(j->ud, j->status, j->next_pos, j->write_ns);
		free(j);
		n++;
	}
	return n;
}

void sess_ckpt_writer_forget(struct sess_ckpt_writer *w, void *ud)
{
	pthread_mutex_lock(&w->mu);
	for (struct sess_ckpt_job *j = w->queue; j; j = j->next)
		if (j->ud == ud)
			j->done = NULL;
	if (w->busy && w->busy->ud == ud)
		w->busy->done = NULL;
	for (struct sess_ckpt_job *j = w->done; j; j = j->next)
		if (j->ud == ud)
			j->done = NULL;
	pthread_mutex_unlock(&w->mu);
}
