#include "th_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ftw.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "th_time.h"

const char *th_bin(const char *name)
{
	static char buf[4][PATH_MAX];
	static int next;
	const char *b = getenv("THETA_BUILD");
	char *p = buf[next++ & 3];
	snprintf(p, PATH_MAX, "%s/bin/%s", b && *b ? b : "build", name);
	return p;
}

bool th_is_root(void)
{
	return geteuid() == 0;
}

bool th_find_on_path(const char *name, char *found, size_t foundlen)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	char buf[4096];
	const char *p = path;
	while (*p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 0 && (size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, name) < sizeof buf &&
		    access(buf, X_OK) == 0) {
			if (found)
				snprintf(found, foundlen, "%s", buf);
			return true;
		}
		p += n + (end ? 1 : 0);
	}
	return false;
}

int th_mkdtemp(char *out, size_t len)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, len, "%s/theta-test-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(out) ? 0 : -errno;
}

static int th_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p) < 0 ? 0 : 0;
}

void th_rm_rf(const char *dir)
{
	if (dir && *dir)
		nftw(dir, th_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int th_daemon_prepare(struct th_daemon_proc *d)
{
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	d->notify_fd = -1;
	int r = th_mkdtemp(d->dir, sizeof(d->dir));
	if (r < 0)
		return r;
	snprintf(d->state_dir, sizeof(d->state_dir), "%s/state", d->dir);
	snprintf(d->runtime_dir, sizeof(d->runtime_dir), "%s/run", d->dir);
	snprintf(d->log_path, sizeof(d->log_path), "%s/thetad.log", d->dir);
	snprintf(d->notify_path, sizeof(d->notify_path), "%s/notify.sock", d->dir);
	d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->notify_fd < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->notify_path);
	if (bind(d->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

int th_daemon_spawn(struct th_daemon_proc *d, const char *const *args, const char *const *env,
		    const int *pass_fds, int n_pass)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const char *argv[64];
		int n = 0;
		argv[n++] = th_bin("thetad");
		argv[n++] = "--state-dir";
		argv[n++] = d->state_dir;
		argv[n++] = "--runtime-dir";
		argv[n++] = d->runtime_dir;
		bool port = false;
		for (int i = 0; args && args[i] && n < 60; i++) {
			port |= !strcmp(args[i], "--port");
			argv[n++] = args[i];
		}
		if (!port) { /* tests never take the real port: several daemons run at once */
			argv[n++] = "--port";
			argv[n++] = "0";
		}
		argv[n] = NULL;
		int log = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (log >= 0) {
			dup2(log, 2);
			close(log);
		}
		setenv("NOTIFY_SOCKET", d->notify_path, 1);
		unsetenv("JOURNAL_STREAM");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("WATCHDOG_USEC");
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		if (n_pass > 0) {
			/* Move the fds out of the way, then into 3.. */
			int tmp[16];
			for (int i = 0; i < n_pass && i < 16; i++)
				tmp[i] = fcntl(pass_fds[i], F_DUPFD, 100);
			for (int i = 0; i < n_pass && i < 16; i++) {
				dup2(tmp[i], 3 + i);
				close(tmp[i]);
			}
			char buf[32];
			snprintf(buf, sizeof(buf), "%d", n_pass);
			setenv("LISTEN_FDS", buf, 1);
			snprintf(buf, sizeof(buf), "%d", (int)getpid());
			setenv("LISTEN_PID", buf, 1);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	d->pid = pid;
	return 0;
}

void th_daemon_drain_notify(struct th_daemon_proc *d)
{
	char buf[4096];
	ssize_t n;
	while ((n = recv(d->notify_fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = 0;
		size_t l = (size_t)n;
		if (d->notify_len + l + 2 < sizeof(d->notify_log)) {
			memcpy(d->notify_log + d->notify_len, buf, l);
			d->notify_len += l;
			d->notify_log[d->notify_len++] = '\n';
			d->notify_log[d->notify_len] = 0;
		}
	}
}

bool th_daemon_alive(struct th_daemon_proc *d)
{
	return d->pid > 0 && kill(d->pid, 0) == 0 && waitpid(d->pid, NULL, WNOHANG) == 0;
}

int th_daemon_wait_notify(struct th_daemon_proc *d, const char *needle, int timeout_ms)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	for (;;) {
		th_daemon_drain_notify(d);
		if (strstr(d->notify_log, needle))
			return 0;
		if (d->pid > 0) {
			int st;
			if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
				d->pid = -1;
				th_daemon_drain_notify(d);
				return strstr(d->notify_log, needle) ? 0 : -ECHILD;
			}
		}
		uint64_t now = th_now_ns();
		if (now >= end)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = d->notify_fd, .events = POLLIN };
		poll(&p, 1, 20);
	}
}

int th_daemon_start(struct th_daemon_proc *d, const char *const *args)
{
	int r = th_daemon_prepare(d);
	if (r == 0)
		r = th_daemon_spawn(d, args, NULL, NULL, 0);
	if (r == 0)
		r = th_daemon_wait_notify(d, "READY=1", 10000);
	if (r < 0)
		fprintf(stderr, "thetad did not become ready (%s); its log:\n%s\n", strerror(-r), th_daemon_log(d));
	return r;
}

int th_daemon_respawn(struct th_daemon_proc *d, const char *const *args, const char *const *env, int timeout_ms)
{
	d->notify_len = 0;
	d->notify_log[0] = 0;
	int r = th_daemon_spawn(d, args, env, NULL, 0);
	return r < 0 ? r : th_daemon_wait_notify(d, "READY=1", timeout_ms);
}

int th_daemon_start_query_group(struct th_daemon_proc *d, const char *group, char *conf, size_t conf_len,
				int timeout_ms)
{
	if ((size_t)snprintf(conf, conf_len, "%s/thetad.conf", d->dir) >= conf_len)
		return -ENAMETOOLONG;
	FILE *f = fopen(conf, "w");
	if (!f)
		return -errno;
	int w = fprintf(f, "[control]\nquery_group = %s\n", group);
	if (fclose(f) != 0 || w < 0)
		return -EIO;
	const char *args[] = { "--port", "0", "--config", conf, NULL };
	int r = th_daemon_spawn(d, args, NULL, NULL, 0);
	if (r == 0)
		r = th_daemon_wait_notify(d, "READY=1", timeout_ms);
	if (r == 0 && (chmod(d->dir, 0755) < 0 || chmod(d->runtime_dir, 0755) < 0))
		r = -errno;
	return r;
}

int th_daemon_wait_exit(struct th_daemon_proc *d, int timeout_ms, int *status)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	if (d->pid <= 0)
		return -ECHILD;
	for (;;) {
		int st;
		pid_t p = waitpid(d->pid, &st, WNOHANG);
		if (p == d->pid) {
			d->pid = -1;
			th_daemon_drain_notify(d);
			if (status)
				*status = st;
			return 0;
		}
		if (th_now_ns() >= end)
			return -ETIMEDOUT;
		th_sleep_ns(5 * TH_NS_PER_MS);
	}
}

int th_daemon_stop(struct th_daemon_proc *d, int sig, int timeout_ms, int *status)
{
	if (d->pid <= 0)
		return -ECHILD;
	kill(d->pid, sig);
	return th_daemon_wait_exit(d, timeout_ms, status);
}

void th_daemon_cleanup(struct th_daemon_proc *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	d->notify_fd = -1;
	if (!getenv("THETA_KEEP_TEST_DIRS"))
		th_rm_rf(d->dir);
}

const char *th_daemon_log(struct th_daemon_proc *d)
{
	static char buf[65536];
	buf[0] = 0;
	int fd = open(d->log_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	return buf;
}

static void th_read_into(int fd, char *buf, size_t cap, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n <= 0)
		return;
	size_t room = cap - 1 - *len;
	size_t c = (size_t)n < room ? (size_t)n : room;
	memcpy(buf + *len, tmp, c);
	*len += c;
	buf[*len] = 0;
}

int th_run(const char *const *argv, const char *const *env, int uid, char *out, size_t outlen, char *err,
	   size_t errlen, int timeout_ms)
{
	int po[2], pe[2];
	char dummy_o[1], dummy_e[1];
	if (!out)
		out = dummy_o, outlen = 1;
	if (!err)
		err = dummy_e, errlen = 1;
	out[0] = err[0] = 0;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		if (uid >= 0) {
			if (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0)
				_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	size_t ol = 0, el = 0;
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	bool o_open = true, e_open = true;
	while (o_open || e_open) {
		struct pollfd p[2] = { { .fd = o_open ? po[0] : -1, .events = POLLIN },
				       { .fd = e_open ? pe[0] : -1, .events = POLLIN } };
		int left = (int)((end - th_now_ns()) / TH_NS_PER_MS);
		if (th_now_ns() >= end) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 2, left) <= 0)
			continue;
		if (p[0].revents) {
			size_t before = ol;
			th_read_into(po[0], out, outlen, &ol);
			if (ol == before && !(p[0].revents & POLLIN))
				o_open = false;
			else if (ol == before) {
				char t[256];
				if (read(po[0], t, sizeof(t)) <= 0)
					o_open = false;
			}
		}
		if (p[1].revents) {
			size_t before = el;
			th_read_into(pe[0], err, errlen, &el);
			if (el == before && !(p[1].revents & POLLIN))
				e_open = false;
			else if (el == before) {
				char t[256];
				if (read(pe[0], t, sizeof(t)) <= 0)
					e_open = false;
			}
		}
	}
	close(po[0]);
	close(pe[0]);
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int th_print_config(const char *text, char *out, size_t outlen, char *err, size_t errlen, int timeout_ms)
{
	char dir[128], path[256];
	int r = th_mkdtemp(dir, sizeof dir);
	if (r < 0)
		return r;
	snprintf(path, sizeof path, "%s/thetad.conf", dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		r = -errno;
		th_rm_rf(dir);
		return r;
	}
	fputs(text, f);
	if (fclose(f) != 0) {
		r = -errno;
		th_rm_rf(dir);
		return r;
	}
	r = th_run_bin("thetad", (const char *const[]){ "--config", path, "--print-config", NULL }, NULL, out, outlen,
		       err, errlen, timeout_ms);
	th_rm_rf(dir);
	return r;
}

int th_run_bin(const char *name, const char *const *args, const char *const *env, char *out, size_t outlen, char *err,
	       size_t errlen, int timeout_ms)
{
	const char *argv[TH_RUN_ARGS_MAX + 2];
	int n = 0;
	argv[n++] = th_bin(name);
	for (int i = 0; args && args[i] && n <= TH_RUN_ARGS_MAX; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return th_run(argv, env, -1, out, outlen, err, errlen, timeout_ms);
}

int th_ctl_wait(struct th_daemon_proc *d, int timeout_ms, const char *const *args, char *out, size_t outlen,
		char *err, size_t errlen)
{
	const char *argv[64];
	int n = 0;
	th_daemon_drain_notify(d);
	argv[n++] = th_bin("thetactl");
	argv[n++] = "--runtime-dir";
	argv[n++] = d->runtime_dir;
	for (int i = 0; args && args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return th_run(argv, NULL, -1, out, outlen, err, errlen, timeout_ms);
}

int th_ctl_tty(struct th_daemon_proc *d, int timeout_ms, const char *const *args, char *out, size_t outlen)
{
	const char *argv[64];
	int n = 0, master = -1;
	th_daemon_drain_notify(d);
	argv[n++] = th_bin("thetactl");
	argv[n++] = "--runtime-dir";
	argv[n++] = d->runtime_dir;
	for (int i = 0; args && args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	out[0] = 0;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	size_t got = 0;
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	for (;;) {
		if (th_now_ns() >= end) {
			kill(pid, SIGKILL);
			break;
		}
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		char t[4096];
		ssize_t k = read(master, t, sizeof(t));
		if (k <= 0)
			break; /* EIO: the child closed its side */
		size_t take = got + (size_t)k < outlen ? (size_t)k : outlen - 1 - got;
		memcpy(out + got, t, take);
		got += take;
		out[got] = 0;
	}
	close(master);
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int th_ctl(struct th_daemon_proc *d, const char *const *args, char *out, size_t outlen, char *err,
	   size_t errlen)
{
	return th_ctl_wait(d, TH_CTL_TIMEOUT_MS, args, out, outlen, err, errlen);
}

#define TH_METRICS_OUT 262144

long long th_daemon_metric(struct th_daemon_proc *d, const char *name)
{
	static char out[TH_METRICS_OUT], err[4096];
	const char *args[] = { "metrics", "--json", NULL };
	int rc = th_ctl(d, args, out, sizeof(out), err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "thetactl metrics failed (%d): %s\n", rc, err);
		return -1;
	}
	struct json_object *o = json_tokener_parse(out), *m, *v;
	if (!o) {
		fprintf(stderr, "thetactl metrics --json printed no JSON object: %.200s\n", out);
		return -1;
	}
	long long x = -1;
	if (json_object_object_get_ex(o, name, &m) && json_object_object_get_ex(m, "value", &v))
		x = (long long)json_object_get_int64(v);
	json_object_put(o);
	return x;
}

struct json_object *th_ctl_call_err(struct th_daemon_proc *d, const char *json, char *err, size_t errlen)
{
	int fd = ctl_connect(d->runtime_dir);
	char *reply = NULL;
	size_t len;
	if (err && errlen)
		snprintf(err, errlen, "no answer from the daemon");
	if (fd < 0)
		return NULL;
	if (ctl_send_frame(fd, json, strlen(json)) < 0 || ctl_recv_frame(fd, &reply, &len) < 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	struct json_object *o = json_tokener_parse(reply), *v, *res = NULL;
	free(reply);
	if (o && json_object_object_get_ex(o, "result", &v))
		res = json_object_get(v);
	else if (err && errlen)
		snprintf(err, errlen, "%s", o && json_object_object_get_ex(o, "error", &v) ? json_object_get_string(v) : "");
	json_object_put(o);
	return res;
}

struct json_object *th_ctl_call(struct th_daemon_proc *d, const char *json)
{
	return th_ctl_call_err(d, json, NULL, 0);
}

double th_ctl_metric(struct th_daemon_proc *d, const char *name)
{
	struct json_object *r = th_ctl_call(d, "{\"cmd\":\"metrics\",\"args\":{}}"), *m, *v;
	double x = -1;
	struct json_object *root = r;
	if (r && json_object_object_get_ex(r, "metrics", &m))
		root = m;
	if (root && json_object_object_get_ex(root, name, &m) && json_object_object_get_ex(m, "value", &v))
		x = json_object_get_double(v);
	json_object_put(r);
	return x;
}

const char *th_json_path(struct json_object *o, const char *path)
{
	char buf[TH_JSON_PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	struct json_object *v = o;
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(v, k, &v))
			return NULL;
	return json_object_get_string(v);
}

pid_t th_spawn(const char *const *argv, const char *const *env, const char *out_path, const char *err_path)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int o = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
		int e = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
		int devnull = open("/dev/null", O_RDONLY);
		if (o >= 0)
			dup2(o, 1);
		if (e >= 0)
			dup2(e, 2);
		if (devnull >= 0)
			dup2(devnull, 0);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int th_wait_pid(pid_t pid, int timeout_ms, int *status)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	for (;;) {
		int st;
		pid_t p = waitpid(pid, &st, WNOHANG);
		if (p == pid) {
			if (status)
				*status = st;
			return 0;
		}
		if (p < 0)
			return -errno;
		if (th_now_ns() >= end)
			return -ETIMEDOUT;
		th_sleep_ns(5 * TH_NS_PER_MS);
	}
}

char *th_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[len] = 0;
	return buf;
}

static struct th_daemon_proc th_slot_proc;
static bool th_slot_used;

void th_daemon_slot_release(void)
{
	if (th_slot_used)
		th_daemon_cleanup(&th_slot_proc);
	th_slot_used = false;
}

struct th_daemon_proc *th_daemon_slot(void)
{
	th_daemon_slot_release();
	memset(&th_slot_proc, 0, sizeof(th_slot_proc));
	th_slot_proc.pid = -1;
	th_slot_proc.notify_fd = -1;
	th_slot_used = true;
	return &th_slot_proc;
}

int th_tmpdir_setup(void **state)
{
	struct th_tmpdir *d = calloc(1, sizeof(*d));
	if (!d || th_mkdtemp(d->path, sizeof(d->path)) < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

int th_tmpdir_teardown(void **state)
{
	struct th_tmpdir *d = *state;
	th_rm_rf(d->path);
	free(d);
	return 0;
}

long long th_session_entries(struct th_daemon_proc *d, const char *id)
{
	enum { OUT_MAX = 1 << 18 };
	char *out = malloc(OUT_MAX), err[4096];
	long long n = -1;
	if (!out)
		return -1;
	if (th_ctl(d, (const char *const[]){ "sessions", "--json", NULL }, out, OUT_MAX, err, sizeof(err)) == 0) {
		struct json_object *o = json_tokener_parse(out), *arr, *v;
		if (o && json_object_object_get_ex(o, "sessions", &arr))
			for (size_t k = 0; k < json_object_array_length(arr); k++) {
				struct json_object *s = json_object_array_get_idx(arr, k);
				if (json_object_object_get_ex(s, "id", &v) && !strcmp(json_object_get_string(v), id) &&
				    json_object_object_get_ex(s, "entries", &v))
					n = json_object_get_int64(v);
			}
		json_object_put(o);
	}
	free(out);
	return n;
}
