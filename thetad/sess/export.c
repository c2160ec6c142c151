/* The `export` control command (`thetactl export`): writes a session's
 * scene as glTF 2.0 (.glb / .gltf) or OBJ + MTL (common/th_export.h,
 * docs/export.md) into the file descriptors thetactl passed with the
 * request (SCM_RIGHTS on control.sock): thetactl opens FILE as the user
 * who runs it, so the daemon writes only where that user may, and never
 * opens a path of its own. The scene is the live fold's, or with "at" the
 * log's positions 0 .. at - 1 folded anew.
 *
 * The file is written by a child process forked from the loop (as a large
 * checkpoint is, scene_ckpt.c): it has the scene copy-on-write as it
 * stood at the fork, the loop carries on, and the answer goes out when the
 * child exits (the control server holds the request: SRV_CTL_LATER). The
 * child keeps only the output descriptors and a pipe for its figures,
 * dies with the daemon, and at most SESS_EXPORT_CHILDREN_MAX run at once.
 * With "at", the loop only checks the position against the log's length
 * (a bad one gets its sentence at once); the child reads and folds the
 * log's first "at" entries itself, so a long log never stalls the loop,
 * and reports a failed rebuild through its pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "clog/clog.h"
#include "sess/module_int.h"
#include "sess/scene.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "th_fdpass.h"
#include "th_err.h"
#include "th_export.h"
#include "th_fold.h"
#include "th_loop.h"

#define SESS_EXPORT_CHILDREN_MAX 4
/* The child's descriptors: output, MTL (or /dev/null's place), figures. */
#define SESS_EXPORT_FD_OUT 3
#define SESS_EXPORT_FD_MTL 4
#define SESS_EXPORT_FD_PIPE 5

/* What the child reports through its pipe: rc of the stage it ended in. */
enum sess_export_stage {
	SESS_EXPORT_STAGE_WRITE = 0, /* th_export_scene */
	SESS_EXPORT_STAGE_FOLD,      /* the rebuild of the scene at "at" */
};

struct sess_export_report {
	int32_t rc;
	int32_t stage; /* enum sess_export_stage */
	struct th_export_stats st;
};

struct sess_export {
	struct sess_export *next;
	struct sess_module *m;
	uint64_t conn;
	pid_t pid;
	int pidfd, pipe_fd;
	char session[64];
	enum th_export_format fmt;
	uint64_t pos;
};

static struct sess_export *sess_exports; /* running children (the loop's thread only) */
static unsigned sess_exports_n;

static bool sess_export_writable(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && ((fl & O_ACCMODE) == O_WRONLY || (fl & O_ACCMODE) == O_RDWR);
}

/* args.format into *fmt, args.at into *at (UINT64_MAX: absent),
 * args.mtl_name into *mtl; -EINVAL with err set. */
static int sess_export_args(struct json_object *args, enum th_export_format *fmt, uint64_t *at, const char **mtl,
			    char *err, size_t errlen)
{
	struct json_object *v;
	*at = UINT64_MAX;
	*mtl = NULL;
	const char *f = args && json_object_object_get_ex(args, "format", &v) && json_object_is_type(v, json_type_string)
				? json_object_get_string(v)
				: NULL;
	*fmt = !f ? 0 : !strcmp(f, "glb") ? TH_EXPORT_GLB : !strcmp(f, "gltf") ? TH_EXPORT_GLTF
		: !strcmp(f, "obj") ? TH_EXPORT_OBJ : 0;
	if (!*fmt) {
		snprintf(err, errlen, "export: \"format\" must be \"glb\", \"gltf\" or \"obj\"");
		return -EINVAL;
	}
	if (args && json_object_object_get_ex(args, "at", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			snprintf(err, errlen, "export: \"at\" must be a log position (a whole number from 0)");
			return -EINVAL;
		}
		*at = (uint64_t)json_object_get_int64(v);
	}
	if (args && json_object_object_get_ex(args, "mtl_name", &v)) {
		const char *n = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (!n || !n[0] || strlen(n) > TH_EXPORT_NAME_MAX || strpbrk(n, "/\n\r")) {
			snprintf(err, errlen, "export: \"mtl_name\" must be a file name (no '/', no line break, at most "
					      "%u bytes)", TH_EXPORT_NAME_MAX);
			return -EINVAL;
		}
		*mtl = n;
	}
	return 0;
}

static const char *sess_export_fmt_name(enum th_export_format f)
{
	return f == TH_EXPORT_GLB ? "glb" : f == TH_EXPORT_GLTF ? "gltf" : "obj";
}

static void sess_export_error(char *err, size_t errlen, const char *session, int r)
{
	if (r == -EFBIG)
		snprintf(err, errlen, "session %s: the scene is too large for this format (a .glb holds at most 4 GiB, "
				      "a primitive at most 2^32 - 1 vertices); try .gltf or .obj", session);
	else if (r == -ENOSPC)
		snprintf(err, errlen, "session %s: the export failed: no space left on the file's device (or more "
				      "than %u authors)", session, TH_EXPORT_AUTHORS_MAX);
	else
		snprintf(err, errlen, "session %s: writing the export failed: %s", session, th_strerror(r));
}

static struct json_object *sess_export_result(const struct sess_export *x, const struct th_export_stats *st)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "session", json_object_new_string(x->session));
	json_object_object_add(o, "format", json_object_new_string(sess_export_fmt_name(x->fmt)));
	json_object_object_add(o, "position", json_object_new_uint64(x->pos));
	json_object_object_add(o, "bytes", json_object_new_uint64(st->bytes));
	if (x->fmt == TH_EXPORT_OBJ)
		json_object_object_add(o, "mtl_bytes", json_object_new_uint64(st->mtl_bytes));
	json_object_object_add(o, "nodes", json_object_new_uint64(st->nodes));
	json_object_object_add(o, "meshes", json_object_new_uint64(st->meshes));
	json_object_object_add(o, "materials", json_object_new_uint64(st->materials));
	json_object_object_add(o, "faces", json_object_new_uint64(st->faces));
	json_object_object_add(o, "triangles", json_object_new_uint64(st->triangles));
	json_object_object_add(o, "vertices", json_object_new_uint64(st->vertices));
	json_object_object_add(o, "authors", json_object_new_uint64(st->authors));
	return o;
}

static void sess_export_free(struct sess_export *x)
{
	for (struct sess_export **pp = &sess_exports; *pp; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			sess_exports_n--;
			break;
		}
	}
	if (x->pidfd >= 0) {
		th_loop_del(srv_daemon_loop(x->m->d), x->pidfd);
		close(x->pidfd);
	}
	if (x->pipe_fd >= 0)
		close(x->pipe_fd);
	free(x);
}

/* The child exited: its figures, then the answer. */
static void sess_export_done(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	(void)loop;
	(void)fd;
	(void)events;
	struct sess_export *x = user;
	struct sess_export_report rep = { .rc = -EIO };
	ssize_t n = read(x->pipe_fd, &rep, sizeof(rep));
	int st = 0;
	while (waitpid(x->pid, &st, 0) < 0 && errno == EINTR)
		;
	char err[512] = "";
	if (n != (ssize_t)sizeof(rep)) {
		rep.rc = -EIO;
		snprintf(err, sizeof(err), "session %s: the export's process ended without a result (%s)", x->session,
			 WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "no report");
	} else if (rep.rc < 0 && rep.stage == SESS_EXPORT_STAGE_FOLD) {
		snprintf(err, sizeof(err), "session %s: the scene at position %" PRIu64 " could not be rebuilt: %s",
			 x->session, x->pos, th_strerror(rep.rc));
	} else if (rep.rc < 0) {
		sess_export_error(err, sizeof(err), x->session, rep.rc);
	}
	struct srv_control *c = srv_daemon_control(x->m->d);
	if (rep.rc < 0)
		srv_control_answer(c, x->conn, rep.rc == -EFBIG ? -EFBIG : -EIO, NULL, err);
	else
		srv_control_answer(c, x->conn, 0, sess_export_result(x, &rep.st), NULL);
	sess_export_free(x);
}

/* The writer: the live fold's scene as it stood at the fork (f), or, with
 * at != UINT64_MAX, the scene of the log's positions 0 .. at - 1 folded
 * here (the log's segments are still open: they are read before the
 * daemon's descriptors are closed). */
static _Noreturn void sess_export_child(struct sess_session *s, struct th_fold *f, uint64_t at,
					const struct th_export_config *c, bool mtl, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(ECHILD);
	struct sess_export_report rep = { 0 };
	if (at != UINT64_MAX) {
		rep.rc = sess_scene_fold_at(s, at, &f);
		if (rep.rc < 0) {
			rep.stage = SESS_EXPORT_STAGE_FOLD;
			ssize_t w = write(SESS_EXPORT_FD_PIPE, &rep, sizeof(rep));
			_exit(w == (ssize_t)sizeof(rep) ? 0 : EIO);
		}
	}
	/* Nothing of the daemon's but its memory and the three descriptors
	 * (moved to 3, 4, 5 by the parent's setup below). */
	close_range(SESS_EXPORT_FD_PIPE + 1, ~0u, 0);
	rep.rc = th_export_scene(th_fold_scene(f), c, SESS_EXPORT_FD_OUT, mtl ? SESS_EXPORT_FD_MTL : -1, &rep.st);
	ssize_t w = write(SESS_EXPORT_FD_PIPE, &rep, sizeof(rep));
	_exit(w == (ssize_t)sizeof(rep) ? 0 : EIO);
}

/* Moves fd to want in the child (dup2 clears O_CLOEXEC on the copy). */
static void sess_export_place(int fd, int want)
{
	if (fd == want) {
		int fl = fcntl(fd, F_GETFD);
		fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	} else if (dup2(fd, want) < 0) {
		_exit(EBADF);
	}
}

/* Forks the writer of f's scene (at == UINT64_MAX) or of s's scene at
 * position at (the child folds it); 0 (the answer comes from
 * sess_export_done) or a negative errno with nothing started. */
static int sess_export_start(struct sess_module *m, const struct srv_ctl_caller *caller, struct sess_session *s,
			     struct th_fold *f, uint64_t at, const struct th_export_config *c, int fd, int mtl_fd,
			     uint64_t pos)
{
	struct sess_export *x = calloc(1, sizeof(*x));
	int p[2];
	if (!x)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(x);
		return -errno;
	}
	*x = (struct sess_export){ .m = m, .conn = caller->conn, .pidfd = -1, .pipe_fd = p[0], .fmt = c->format,
				   .pos = pos };
	snprintf(x->session, sizeof(x->session), "%s", c->session);
	/* The child's three descriptors must not collide with 3..5 while
	 * they are moved: take copies above them first. */
	int fds[3] = { fcntl(fd, F_DUPFD_CLOEXEC, 10), mtl_fd >= 0 ? fcntl(mtl_fd, F_DUPFD_CLOEXEC, 10) : -1,
		       fcntl(p[1], F_DUPFD_CLOEXEC, 10) };
	close(p[1]);
	if (fds[0] < 0 || fds[2] < 0 || (mtl_fd >= 0 && fds[1] < 0)) {
		th_fd_close_all(fds, 3);
		close(p[0]);
		free(x);
		return -EMFILE;
	}
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		sess_export_place(fds[0], SESS_EXPORT_FD_OUT);
		if (fds[1] >= 0)
			sess_export_place(fds[1], SESS_EXPORT_FD_MTL);
		sess_export_place(fds[2], SESS_EXPORT_FD_PIPE);
		sess_export_child(s, f, at, c, fds[1] >= 0, parent);
	}
	int r = pid < 0 ? -errno : 0;
	th_fd_close_all(fds, 3);
	if (r == 0) {
		x->pid = pid;
		x->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (x->pidfd < 0 || (r = th_loop_add(srv_daemon_loop(m->d), x->pidfd, EPOLLIN, sess_export_done, x)) < 0) {
			r = x->pidfd < 0 ? -errno : r;
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			if (x->pidfd >= 0)
				close(x->pidfd);
			x->pidfd = -1;
		}
	}
	if (r < 0) {
		close(p[0]);
		free(x);
		return r;
	}
	x->next = sess_exports;
	sess_exports = x;
	sess_exports_n++;
	return 0;
}

void sess_export_stop(struct sess_module *m)
{
	for (struct sess_export *x = sess_exports, *next; x; x = next) {
		next = x->next;
		if (x->m != m)
			continue;
		kill(x->pid, SIGKILL);
		while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
			;
		sess_export_free(x);
	}
}

int sess_cmd_export(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		    char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s;
	enum th_export_format fmt;
	uint64_t at;
	const char *mtl;
	int r = sess_pick_open(m, caller, args, &s, err, errlen);
	if (r < 0)
		return r;
	if ((r = sess_export_args(args, &fmt, &at, &mtl, err, errlen)) < 0)
		return r;
	if (caller->n_fds < 1 || caller->fds[0] < 0) {
		snprintf(err, errlen, "export needs the output file passed with the request (thetactl export opens "
				      "it and passes it); none came");
		return -EINVAL;
	}
	int fd = caller->fds[0], mtl_fd = fmt == TH_EXPORT_OBJ && caller->n_fds > 1 ? caller->fds[1] : -1;
	if (!sess_export_writable(fd) || (mtl_fd >= 0 && !sess_export_writable(mtl_fd))) {
		snprintf(err, errlen, "the file passed for the export is not open for writing");
		return -EBADF;
	}
	if (sess_exports_n >= SESS_EXPORT_CHILDREN_MAX) {
		snprintf(err, errlen, "%u exports are being written already; try again when one is done",
			 SESS_EXPORT_CHILDREN_MAX);
		return -EAGAIN;
	}
	struct th_fold *f = NULL;
	uint64_t pos;
	if (at == UINT64_MAX) {
		if (!(f = sess_scene_fold(s))) {
			snprintf(err, errlen, "session %s: the scene is not live yet (it is being rebuilt or caught up); "
					      "try again", s->id);
			return -EAGAIN;
		}
		pos = sess_scene_position(s);
	} else {
		r = sess_scene_fold_at_check(s, at);
		if (r == -ERANGE) {
			snprintf(err, errlen, "session %s: position %" PRIu64 " is past the end of the log (%" PRIu64
					      " entries)", s->id, at, clog_count(s->log));
			return -ERANGE;
		}
		if (r < 0) {
			snprintf(err, errlen, "session %s: the scene at position %" PRIu64 " could not be rebuilt: %s",
				 s->id, at, "the session's host key is not known yet");
			return r;
		}
		pos = at;
	}
	struct th_export_config c = { .format = fmt, .session = s->id, .position = pos, .mtl_name = mtl,
				      .generator = "Theta " THETA_VERSION };
	r = sess_export_start(m, caller, s, f, at, &c, fd, mtl_fd, pos);
	if (r < 0) {
		snprintf(err, errlen, "session %s: the export could not be started: %s", s->id, th_strerror(r));
		return r;
	}
	return SRV_CTL_LATER;
}
