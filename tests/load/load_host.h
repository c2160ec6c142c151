/* What test_load, bench_presence and soak_presence share (header-only, no
 * cmocka): a real host thetad in a temporary directory with a hosted
 * session, single-use invite links from its control socket, theta-load run
 * against it, and the JSON document it wrote. Functions return 0 or a
 * negative errno and say what failed on stderr. */
#pragma once
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_harness.h"

#define LH_WAIT_MS 30000
#define LH_SESSION "load"

struct lh_host {
	struct th_daemon_proc p;
	char conf[PATH_MAX];
	char session[33];
	char links_path[PATH_MAX];
	char json_path[PATH_MAX];
	char log_path[PATH_MAX];
	bool up;
};

/* theta-load's path: $THETA_BUILD/tests/load/theta-load. */
static inline const char *lh_theta_load(void)
{
	static char p[PATH_MAX];
	const char *b = getenv("THETA_BUILD");
	snprintf(p, sizeof(p), "%s/tests/load/theta-load", b && *b ? b : "build");
	return p;
}

/* Pins pid to CPU cpu when the machine has more than one (the host on one
 * core, the generator on the other); cpu < 0: leaves it. */
static inline void lh_pin(pid_t pid, int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpu < 0 || n < 2)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % n, &set);
	if (sched_setaffinity(pid, sizeof(set), &set) < 0)
		fprintf(stderr, "load: cannot pin process %d to CPU %d: %s\n", (int)pid, cpu, strerror(errno));
}

/* A host thetad with net.max_peers = max_peers (and the config lines in
 * extra_conf, may be NULL) hosting session LH_SESSION. */
static inline int lh_host_start(struct lh_host *h, unsigned max_peers, const char *extra_conf, int cpu)
{
	memset(h, 0, sizeof(*h));
	h->p.pid = -1;
	h->p.notify_fd = -1;
	int r = th_daemon_prepare(&h->p);
	if (r < 0) {
		fprintf(stderr, "load: cannot prepare the host's directories: %s\n", strerror(-r));
		return r;
	}
	snprintf(h->conf, sizeof(h->conf), "%s/thetad.conf", h->p.dir);
	snprintf(h->links_path, sizeof(h->links_path), "%s/invites.txt", h->p.dir);
	snprintf(h->json_path, sizeof(h->json_path), "%s/load.json", h->p.dir);
	snprintf(h->log_path, sizeof(h->log_path), "%s/theta-load.log", h->p.dir);
	FILE *f = fopen(h->conf, "w");
	if (!f)
		return -errno;
	fprintf(f, "[net]\nmax_peers = %u\n%s", max_peers, extra_conf ? extra_conf : "");
	fclose(f);
	const char *args[] = { "--config", h->conf, "--port", "0", NULL };
	if ((r = th_daemon_respawn(&h->p, args, NULL, LH_WAIT_MS)) < 0) {
		fprintf(stderr, "load: the host thetad did not start (%s); its log:\n%s\n", strerror(-r),
			th_daemon_log(&h->p));
		return r;
	}
	h->up = true;
	lh_pin(h->p.pid, cpu);
	struct json_object *res = th_ctl_call(&h->p, "{\"cmd\":\"session_host\",\"args\":{\"name\":\"" LH_SESSION "\"}}");
	const char *id = res ? th_json_path(res, "session") : NULL;
	if (!id || strlen(id) != 32) {
		fprintf(stderr, "load: the host did not host a session; its log:\n%s\n", th_daemon_log(&h->p));
		if (res)
			json_object_put(res);
		return -EIO;
	}
	snprintf(h->session, sizeof(h->session), "%s", id);
	json_object_put(res);
	return 0;
}

/* n single-use editor invites of the host's session, one a line, in
 * h->links_path. */
static inline int lh_invites(struct lh_host *h, unsigned n)
{
	FILE *f = fopen(h->links_path, "w");
	if (!f)
		return -errno;
	char req[256];
	snprintf(req, sizeof(req),
		 "{\"cmd\":\"invite\",\"args\":{\"session\":\"%s\",\"role\":\"editor\",\"host\":\"127.0.0.1\","
		 "\"single_use\":true}}",
		 h->session);
	for (unsigned i = 0; i < n; i++) {
		char err[256] = "";
		struct json_object *res = th_ctl_call_err(&h->p, req, err, sizeof(err));
		const char *link = res ? th_json_path(res, "link") : NULL;
		if (!link || strncmp(link, "theta://", 8)) {
			fprintf(stderr, "load: the host made no invite: %s\n", err[0] ? err : "no link in its answer");
			if (res)
				json_object_put(res);
			fclose(f);
			return -EIO;
		}
		fprintf(f, "%s\n", link);
		json_object_put(res);
	}
	return fclose(f) == 0 ? 0 : -errno;
}

/* The value of metric name on the host (-1 when it has none). */
static inline double lh_metric(struct lh_host *h, const char *name)
{
	return th_ctl_metric(&h->p, name);
}

/* Runs theta-load with args (NULL-terminated; --invites, --host-pid and
 * --json are added) pinned to cpu, for at most timeout_ms. Its exit status
 * in *code; its JSON document into *doc (the caller puts it) when it wrote
 * one. 0, or -ETIMEDOUT / -errno when it could not run. */
static inline int lh_run_load(struct lh_host *h, const char *const *args, int cpu, int timeout_ms, int *code,
			      struct json_object **doc)
{
	const char *argv[48];
	char pid[16];
	unsigned n = 0;
	snprintf(pid, sizeof(pid), "%d", (int)h->p.pid);
	argv[n++] = lh_theta_load();
	for (unsigned i = 0; args && args[i] && n < 40; i++)
		argv[n++] = args[i];
	argv[n++] = "--invites";
	argv[n++] = h->links_path;
	argv[n++] = "--host-pid";
	argv[n++] = pid;
	argv[n++] = "--json";
	argv[n++] = h->json_path;
	argv[n] = NULL;
	unlink(h->json_path);
	*doc = NULL;
	pid_t p = th_spawn(argv, NULL, h->log_path, h->log_path);
	if (p < 0) {
		fprintf(stderr, "load: cannot start %s: %s\n", argv[0], strerror((int)-p));
		return (int)p;
	}
	lh_pin(p, cpu);
	int st = 0, r = 0;
	/* The host's notify socket must not fill while theta-load runs for minutes. */
	for (int waited = 0;; waited += 1000) {
		r = th_wait_pid(p, 1000, &st);
		if (r != -ETIMEDOUT)
			break;
		th_daemon_drain_notify(&h->p);
		if (waited >= timeout_ms) {
			kill(p, SIGKILL);
			th_wait_pid(p, 5000, &st);
			fprintf(stderr, "load: theta-load ran past %d s; killed\n", timeout_ms / 1000);
			return -ETIMEDOUT;
		}
	}
	if (r < 0)
		return r;
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	*doc = json_object_from_file(h->json_path);
	if (*code != 0 || !*doc) {
		char *log = th_slurp(h->log_path);
		fprintf(stderr, "load: theta-load exited with %d; its output:\n%s\n", *code, log ? log : "(none)");
		free(log);
	}
	return 0;
}

static inline void lh_host_stop(struct lh_host *h)
{
	if (h->p.dir[0])
		th_daemon_cleanup(&h->p);
	h->up = false;
}

/* A number at a dotted path of doc (NAN when absent). */
static inline double lh_num(struct json_object *doc, const char *path)
{
	const char *s = th_json_path(doc, path);
	return s ? strtod(s, NULL) : __builtin_nan("");
}
