/* The end-to-end tests' browser (th_webpage.h). */
#include "th_webpage.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_browser.h"
#include "th_harness.h"
#include "th_time.h"

#define TH_WEBPAGE_ERR_TAIL 6000u

struct th_webpage {
	pid_t pid, pgid; /* the driver's process group holds its chromium too */
	int to, from; /* the driver's stdin, stdout */
	char dir[80]; /* its stderr file */
	char *buf;    /* what came from its stdout, not a whole line yet */
	size_t have;
	long long next_id;
};

/* One line from the driver, NUL-terminated in w->buf (moved to the front
 * and returned, valid until the next call), or NULL: -ETIMEDOUT / -EPIPE in *err. */
static char *read_line(struct th_webpage *w, uint64_t end_ns, int *err)
{
	static char line[TH_WEBPAGE_LINE_MAX];
	for (;;) {
		char *nl = memchr(w->buf, '\n', w->have);
		if (nl) {
			size_t n = (size_t)(nl - w->buf);
			memcpy(line, w->buf, n);
			line[n] = 0;
			w->have -= n + 1;
			memmove(w->buf, nl + 1, w->have);
			return line;
		}
		if (w->have == TH_WEBPAGE_LINE_MAX - 1) {
			w->have = 0; /* a line past the bound: dropped */
			continue;
		}
		uint64_t now = th_now_ns();
		if (now >= end_ns) {
			*err = -ETIMEDOUT;
			return NULL;
		}
		struct pollfd p = { .fd = w->from, .events = POLLIN };
		int r = poll(&p, 1, (int)((end_ns - now) / TH_NS_PER_MS) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t k = read(w->from, w->buf + w->have, TH_WEBPAGE_LINE_MAX - 1 - w->have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			*err = -EPIPE;
			return NULL;
		}
		w->have += (size_t)k;
	}
}

const char *th_webpage_stderr(struct th_webpage *w)
{
	static char tail[TH_WEBPAGE_ERR_TAIL + 1];
	char p[128];
	tail[0] = 0;
	if (!w)
		return tail;
	snprintf(p, sizeof p, "%s/stderr", w->dir);
	char *s = th_slurp(p);
	if (s) {
		size_t n = strlen(s);
		snprintf(tail, sizeof tail, "%s", s + (n > TH_WEBPAGE_ERR_TAIL ? n - TH_WEBPAGE_ERR_TAIL : 0));
		free(s);
	}
	return tail;
}

static void kill_driver(struct th_webpage *w)
{
	if (w->pgid > 0)
		kill(-w->pgid, SIGKILL); /* node and its chromium */
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		th_wait_pid(w->pid, TH_WEBPAGE_STOP_MS, NULL);
	}
	w->pid = w->pgid = -1;
}

static void free_webpage(struct th_webpage *w)
{
	if (w->to >= 0)
		close(w->to);
	if (w->from >= 0)
		close(w->from);
	if (w->dir[0])
		th_rm_rf(w->dir);
	free(w->buf);
	free(w);
}

int th_webpage_start(struct th_webpage **out, char *why, size_t len)
{
	*out = NULL;
	char node[PATH_MAX], pw[PATH_MAX];
	if (!th_browser_available(why, len) || !th_find_on_path("node", node, sizeof node))
		return -ENOENT;
	const char *e = getenv("THETA_PLAYWRIGHT");
	if (e && *e)
		snprintf(pw, sizeof pw, "%s", e);
	else if (!realpath(TH_BROWSER_PLAYWRIGHT, pw)) {
		snprintf(why, len, "no %s (scripts/setup installs it)", TH_BROWSER_PLAYWRIGHT);
		return -ENOENT;
	}
	if (access(TH_WEBPAGE_DRIVER, R_OK) != 0) {
		snprintf(why, len, "no driver %s (tests run from the repository root)", TH_WEBPAGE_DRIVER);
		return -ENOENT;
	}
	struct th_webpage *w = calloc(1, sizeof *w);
	if (!w || !(w->buf = malloc(TH_WEBPAGE_LINE_MAX))) {
		free(w);
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	w->to = w->from = -1;
	w->pid = w->pgid = -1;
	if (th_mkdtemp(w->dir, sizeof w->dir) < 0) {
		w->dir[0] = 0;
		free_webpage(w);
		snprintf(why, len, "cannot make a folder for the browser's log");
		return -EIO;
	}
	char errpath[128];
	snprintf(errpath, sizeof errpath, "%s/stderr", w->dir);
	int in[2], outp[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		free_webpage(w);
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -EIO;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
		free_webpage(w);
		snprintf(why, len, "fork: %s", strerror(errno));
		return -EIO;
	}
	if (pid == 0) {
		setpgid(0, 0);
		int ef = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (ef < 0 || dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0 || dup2(ef, 2) < 0)
			_exit(127);
		setenv("THETA_CHROMIUM", TH_BROWSER_CHROMIUM, 1);
		setenv("THETA_PLAYWRIGHT", pw, 1);
		char *argv[] = { node, (char *)TH_WEBPAGE_DRIVER, NULL };
		execv(node, argv);
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(outp[1]);
	w->pid = w->pgid = pid;
	w->to = in[1];
	w->from = outp[0];
	/* Its first line says the browser is up. */
	int err = 0;
	char *line = read_line(w, th_now_ns() + (uint64_t)TH_WEBPAGE_START_MS * TH_NS_PER_MS, &err);
	struct json_object *o = line ? json_tokener_parse(line) : NULL, *ok;
	if (!o || !json_object_object_get_ex(o, "ok", &ok) || !json_object_get_boolean(ok)) {
		snprintf(why, len, "the browser did not start (%s); the driver's stderr ends: %s",
			 err ? strerror(-err) : "a first line that is not {\"ok\": true}", th_webpage_stderr(w));
		json_object_put(o);
		kill_driver(w);
		free_webpage(w);
		return -EIO;
	}
	json_object_put(o);
	w->next_id = 1;
	*out = w;
	return 0;
}

int th_webpage_call(struct th_webpage *w, struct json_object *req, int timeout_ms, struct json_object **value,
		    char *why, size_t len)
{
	*value = NULL;
	long long id = w->next_id++;
	json_object_object_add(req, "id", json_object_new_int64(id));
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s), off = 0;
	char *msg = malloc(n + 1);
	if (!msg) {
		json_object_put(req);
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	memcpy(msg, s, n);
	msg[n++] = '\n';
	while (off < n) {
		ssize_t wr = write(w->to, msg + off, n - off);
		if (wr < 0 && errno == EINTR)
			continue;
		if (wr <= 0) {
			free(msg);
			json_object_put(req);
			snprintf(why, len, "the browser's driver is gone; its stderr ends: %s", th_webpage_stderr(w));
			return -EPIPE;
		}
		off += (size_t)wr;
	}
	free(msg);
	char op[64];
	snprintf(op, sizeof op, "%s", json_object_get_string(json_object_object_get(req, "op")));
	json_object_put(req);
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	for (;;) {
		int err = 0;
		char *line = read_line(w, end, &err);
		if (!line) {
			snprintf(why, len, "%s: %s; the driver's stderr ends: %s", op,
				 err == -ETIMEDOUT ? "no answer in time" : "the browser's driver is gone", th_webpage_stderr(w));
			return err;
		}
		struct json_object *a = json_tokener_parse(line), *v;
		if (!a || !json_object_is_type(a, json_type_object) || !json_object_object_get_ex(a, "id", &v) ||
		    json_object_get_int64(v) != id) {
			json_object_put(a); /* an answer to a request that timed out, or not an answer */
			continue;
		}
		if (json_object_object_get_ex(a, "ok", &v) && json_object_get_boolean(v)) {
			if (json_object_object_get_ex(a, "value", &v))
				*value = json_object_get(v);
			json_object_put(a);
			return 0;
		}
		snprintf(why, len, "%s: %s; the page: %s; its console: %s", op,
			 json_object_get_string(json_object_object_get(a, "error")),
			 json_object_to_json_string(json_object_object_get(a, "page")),
			 json_object_to_json_string(json_object_object_get(a, "console")));
		json_object_put(a);
		return -EPROTO;
	}
}

struct json_object *th_webpage_req(const char *op, const char *page)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string(op));
	if (page)
		json_object_object_add(o, "page", json_object_new_string(page));
	return o;
}

struct json_object *th_webpage_arg(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
	return o;
}

void th_webpage_stop(struct th_webpage **wp)
{
	struct th_webpage *w = *wp;
	if (!w)
		return;
	*wp = NULL;
	static const char quit[] = "{\"id\":0,\"op\":\"quit\"}\n";
	if (write(w->to, quit, sizeof quit - 1) == (ssize_t)(sizeof quit - 1)) {
		int st;
		if (th_wait_pid(w->pid, TH_WEBPAGE_STOP_MS, &st) == 0)
			w->pid = -1;
	}
	kill_driver(w); /* what is left of its group, or the whole driver when it did not quit */
	free_webpage(w);
}
