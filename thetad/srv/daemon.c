#include "srv/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "srv/control.h"
#include "srv/metrics_http.h"
#include "srv/module.h"
#include "th_file.h"
#include "th_log.h"
#include "th_loop.h"
#include "th_time.h"
#include "web/web_addr.h"

#define SRV_TICK_NS (250 * TH_NS_PER_MS)
#define SRV_MAX_PASSED_FDS 16
#define SRV_MAX_SOCKET_INFO 8
#define SRV_MAX_MODULES 16

struct srv_socket_info {
	char what[32];
	char where[PATH_MAX];
};

struct srv_daemon {
	struct srv_config cfg;
	char config_path[PATH_MAX];
	bool config_explicit;
	int64_t port_override;
	int log_level_override;
	const char *impair_override, *peer_timeout_override;
	char state_dir[PATH_MAX];
	char runtime_dir[PATH_MAX];
	int lock_fd;
	int signal_fd;
	int tick_fd;
	struct th_loop *loop;
	struct srv_control *control;
	struct srv_metrics_http *metrics_http; /* metrics.listen (NULL: off) */
	struct srv_metrics metrics;
	uint64_t start_ns;
	uint64_t watchdog_interval_ns; /* 0: no watchdog */
	uint64_t last_watchdog_ns;
	uint64_t last_status_ns;
	int passed_fds[SRV_MAX_PASSED_FDS];
	int n_passed;
	bool socket_activated;
	char unlink_on_exit[SRV_MAX_SOCKET_INFO][PATH_MAX];
	int n_unlink;
	struct srv_socket_info sockets[SRV_MAX_SOCKET_INFO];
	int n_sockets;
	void *module_state[SRV_MAX_MODULES];
	int n_modules_started;
	uint64_t *m_reloads, *m_reload_failures, *m_uptime;
	uint64_t *m_loop_wakeups, *m_stall_p999, *m_stall_max, *m_stall_recent_p999, *m_stall_recent_max;
};

static gid_t srv_group_id(const char *name)
{
	struct group *g = name && *name ? getgrnam(name) : NULL;
	return g ? g->gr_gid : (gid_t)-1;
}

static void srv_control_cfg(const struct srv_config *cfg, struct srv_control_config *cc)
{
	*cc = (struct srv_control_config){
		.max_conns = (unsigned)cfg->control_max_conns,
		.idle_timeout_ns = cfg->control_idle_timeout_ns,
		.query_gid = srv_group_id(cfg->query_group),
		.admin_gid = srv_group_id(cfg->admin_group),
	};
}

int srv_daemon_options_config(const struct srv_daemon_options *opt, struct srv_config *out, char *msg, size_t len)
{
	struct srv_config c;
	srv_config_defaults(&c);
	int r = srv_config_load(&c, opt->config_path ? opt->config_path : SRV_CONFIG_DEFAULT_PATH,
				!opt->config_explicit, msg, len);
	if (r < 0)
		return r;
	if (opt->port_override >= 0)
		c.port = opt->port_override;
	if (opt->log_level_override >= 0)
		c.log_level = opt->log_level_override;
	if (opt->impair_override &&
	    (r = srv_config_set(&c, "net.impair", opt->impair_override, "--impair", msg, len)) < 0)
		return r;
	if (opt->peer_timeout_override &&
	    (r = srv_config_set(&c, "net.peer_timeout", opt->peer_timeout_override, "--peer-timeout", msg, len)) < 0)
		return r;
	*out = c;
	return 0;
}

static int srv_load_config(struct srv_daemon *d, struct srv_config *out, char *msg, size_t len)
{
	const struct srv_daemon_options opt = {
		.config_path = d->config_path, .config_explicit = d->config_explicit,
		.port_override = d->port_override, .log_level_override = d->log_level_override,
		.impair_override = d->impair_override, .peer_timeout_override = d->peer_timeout_override,
	};
	return srv_daemon_options_config(&opt, out, msg, len);
}

static int srv_take_lock(struct srv_daemon *d, char *msg, size_t len)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/thetad.lock", d->runtime_dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->lock_fd < 0) {
		int r = -errno;
		snprintf(msg, len, "cannot create lock file %s: %s", path, strerror(-r));
		return r;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;
		char pid[32] = "";
		ssize_t n = pread(d->lock_fd, pid, sizeof(pid) - 1, 0);
		if (n > 0)
			pid[strcspn(pid, "\n")] = 0;
		if (r == -EWOULDBLOCK)
			snprintf(msg, len, "another thetad%s%s%s is already running with runtime directory %s",
				 pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", d->runtime_dir);
		else
			snprintf(msg, len, "cannot lock %s: %s", path, strerror(-r));
		close(d->lock_fd);
		d->lock_fd = -1;
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, pid, (size_t)n, 0) != n) {
		/* The lock itself holds; a stale pid text is only cosmetic. */
	}
	return 0;
}

static int srv_prepare_dir(const char *what, const char *dir, char *msg, size_t len)
{
	int r = th_mkdir_p(dir, 0755);
	if (r == 0)
		r = th_dir_writable(dir);
	if (r < 0) {
		snprintf(msg, len, "%s directory %s is not usable: %s", what, dir, strerror(-r));
		return r;
	}
	return 0;
}

int srv_daemon_listen_unix(struct srv_daemon *d, const char *name, int type, mode_t mode)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", d->runtime_dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;

	/* A socket systemd passed: match by the basename of its bound path. */
	for (int i = 0; i < d->n_passed; i++) {
		int fd = d->passed_fds[i];
		struct sockaddr_un sa;
		socklen_t sl = sizeof(sa);
		if (fd < 0 || sd_is_socket_unix(fd, type, 1, NULL, 0) <= 0)
			continue;
		if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 || sa.sun_family != AF_UNIX)
			continue;
		const char *p = sa.sun_path, *slash = strrchr(p, '/');
		if (strcmp(slash ? slash + 1 : p, name))
			continue;
		d->passed_fds[i] = -1;
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0)
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
		srv_daemon_add_socket_info(d, name, sa.sun_path);
		return fd;
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* We hold the runtime lock, so a socket file there is a stale leftover. */
	unlink(path);
	mode_t old = umask(0777 & ~mode);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 128) < 0 || chmod(path, mode) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (d->n_unlink < SRV_MAX_SOCKET_INFO)
		snprintf(d->unlink_on_exit[d->n_unlink++], PATH_MAX, "%s", path);
	srv_daemon_add_socket_info(d, name, path);
	return fd;
}

void srv_daemon_add_socket_info(struct srv_daemon *d, const char *what, const char *where)
{
	if (d->n_sockets == SRV_MAX_SOCKET_INFO)
		return;
	snprintf(d->sockets[d->n_sockets].what, sizeof(d->sockets[0].what), "%s", what);
	snprintf(d->sockets[d->n_sockets].where, sizeof(d->sockets[0].where), "%s", where);
	d->n_sockets++;
}

static void srv_status_line(struct srv_daemon *d)
{
	char line[512];
	int off = snprintf(line, sizeof(line), "Ready: control at %s/control.sock", d->runtime_dir);
	for (int i = 0; i < d->n_modules_started && off < (int)sizeof(line) - 4; i++) {
		char part[128];
		if (srv_modules[i]->status_line &&
		    srv_modules[i]->status_line(d->module_state[i], part, sizeof(part)) > 0)
			off += snprintf(line + off, sizeof(line) - (size_t)off, ", %s", part);
	}
	sd_notifyf(0, "STATUS=%s", line);
}

/* ---- built-in control commands ---- */

static int srv_cmd_status(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **res, char *err, size_t errlen)
{
	struct srv_daemon *d = u;
	struct json_object *o = json_object_new_object();
	uint64_t now = th_now_ns();

	json_object_object_add(o, "version", json_object_new_string(THETA_VERSION));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "uptime_s", json_object_new_double((double)(now - d->start_ns) / 1e9));
	json_object_object_add(o, "state_dir", json_object_new_string(d->state_dir));
	json_object_object_add(o, "runtime_dir", json_object_new_string(d->runtime_dir));
	json_object_object_add(o, "config", json_object_new_string(d->config_path));
	json_object_object_add(o, "config_present", json_object_new_boolean(access(d->config_path, F_OK) == 0));
	json_object_object_add(o, "socket_activated", json_object_new_boolean(d->socket_activated));
	json_object_object_add(o, "watchdog", json_object_new_boolean(d->watchdog_interval_ns != 0));
	struct json_object *socks = json_object_new_array();
	for (int i = 0; i < d->n_sockets; i++) {
		struct json_object *s = json_object_new_object();
		json_object_object_add(s, "name", json_object_new_string(d->sockets[i].what));
		json_object_object_add(s, "address", json_object_new_string(d->sockets[i].where));
		json_object_array_add(socks, s);
	}
	json_object_object_add(o, "sockets", socks);
	json_object_object_add(o, "clients", json_object_new_int(0));
	json_object_object_add(o, "sessions", json_object_new_int(0));
	if (d->metrics_http) {
		struct json_object *mx = json_object_new_object();
		json_object_object_add(mx, "listen", json_object_new_string(d->cfg.metrics_listen));
		json_object_object_add(mx, "port", json_object_new_int((int)srv_metrics_http_port(d->metrics_http)));
		json_object_object_add(o, "metrics_http", mx);
	}
	json_object_object_add(o, "control_connections",
			       json_object_new_int((int)srv_control_connections(d->control)));
	for (int i = 0; i < d->n_modules_started; i++)
		if (srv_modules[i]->status)
			srv_modules[i]->status(d->module_state[i], o);
	*res = o;
	return 0;
}

/* The gauges that are read rather than counted, brought up to date before
 * the metrics are shown or scraped. */
static void srv_metrics_refresh(void *u)
{
	struct srv_daemon *d = u;
	*d->m_uptime = (th_now_ns() - d->start_ns) / TH_NS_PER_S;
	struct th_loop_stall_stats st;
	th_loop_stall_stats(d->loop, th_loop_now(d->loop), &st);
	*d->m_loop_wakeups = st.wakeups;
	*d->m_stall_p999 = st.p999_ns / TH_NS_PER_US;
	*d->m_stall_max = st.max_ns / TH_NS_PER_US;
	*d->m_stall_recent_p999 = st.window_p999_ns / TH_NS_PER_US;
	*d->m_stall_recent_max = st.window_max_ns / TH_NS_PER_US;
}

/* {"format": "prometheus"}: {"text": the exposition}; else the JSON form. */
static int srv_cmd_metrics(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			   struct json_object **res, char *err, size_t errlen)
{
	struct srv_daemon *d = u;
	struct json_object *fmt;
	srv_metrics_refresh(d);
	if (args && json_object_object_get_ex(args, "format", &fmt) && strcmp(json_object_get_string(fmt), "json")) {
		if (strcmp(json_object_get_string(fmt), "prometheus")) {
			snprintf(err, errlen, "metrics come as json or prometheus, not '%s'", json_object_get_string(fmt));
			return -EINVAL;
		}
		char *text = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&text, &n);
		if (!f)
			return -ENOMEM;
		int r = srv_metrics_prometheus(&d->metrics, f);
		if (fclose(f) != 0 || r < 0) {
			free(text);
			snprintf(err, errlen, "the metrics could not be rendered");
			return r < 0 ? r : -EIO;
		}
		*res = json_object_new_object();
		json_object_object_add(*res, "text", json_object_new_string_len(text, (int)n));
		json_object_object_add(*res, "content_type", json_object_new_string(SRV_METRICS_PROM_CONTENT_TYPE));
		free(text);
		return 0;
	}
	*res = srv_metrics_to_json(&d->metrics);
	return 0;
}

static int srv_cmd_commands(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			    struct json_object **res, char *err, size_t errlen)
{
	struct srv_daemon *d = u;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "commands", srv_control_commands(d->control));
	*res = o;
	return 0;
}

/* What a reload did, for `thetactl reload` (and the log). */
struct srv_reload_result {
	bool ok;              /* the new configuration was taken */
	bool file;            /* the configuration file exists */
	char msg[512];        /* !ok: why not */
	struct json_object *changed, *restart; /* key names: taken now / kept until a restart */
};
static void srv_reload(struct srv_daemon *d, struct srv_reload_result *res);

static int srv_cmd_reload(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **res, char *err, size_t errlen)
{
	struct srv_daemon *d = u;
	struct srv_reload_result rr = { .changed = json_object_new_array(), .restart = json_object_new_array() };
	srv_reload(d, &rr);
	if (!rr.ok) {
		json_object_put(rr.changed);
		json_object_put(rr.restart);
		snprintf(err, errlen, "%s (the running configuration stays)", rr.msg);
		return -EBADMSG; /* the file, not the request: thetactl exits 1 */
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "config", json_object_new_string(d->config_path));
	json_object_object_add(*res, "file", json_object_new_boolean(rr.file));
	json_object_object_add(*res, "changed", rr.changed);
	json_object_object_add(*res, "restart_needed", rr.restart);
	return 0;
}

static int srv_cmd_log_level(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			     struct json_object **res, char *err, size_t errlen)
{
	struct srv_daemon *d = u;
	struct json_object *lv;
	static const char *const names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
	if (args && json_object_object_get_ex(args, "level", &lv)) {
		int l = th_log_level_from_string(json_object_get_string(lv));
		if (l < 0) {
			snprintf(err, errlen, "'%s' is not a log level (debug, info, notice, warning, error)",
				 json_object_get_string(lv));
			return -EINVAL;
		}
		if (!caller->may_change) {
			srv_control_count_denied(d->control);
			snprintf(err, errlen, "changing the log level needs root or membership of the admin group (caller uid %u)",
				 (unsigned)caller->uid);
			return -EPERM;
		}
		d->cfg.log_level = l;
		th_log_set_level(l);
		th_notice("log level set to %s by uid %u", names[l], (unsigned)caller->uid);
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "level", json_object_new_string(names[th_log_get_level() & 7]));
	return 0;
}

/* ---- life cycle ---- */

struct srv_reload_diff {
	struct srv_reload_result *res;
	struct srv_config *next;
	const struct srv_config *running;
};

/* One key that differs: a restart-only key keeps its running value. */
static void srv_reload_changed(void *ud, const char *key, const char *was, const char *now)
{
	struct srv_reload_diff *x = ud;
	if (srv_config_needs_restart(key)) {
		th_notice("reload: %s changed to %s; it takes effect at the next restart (still %s)", key, now, was);
		if (x->res->restart)
			json_object_array_add(x->res->restart, json_object_new_string(key));
	} else {
		th_notice("reload: %s = %s (was %s)", key, now, was);
		if (x->res->changed)
			json_object_array_add(x->res->changed, json_object_new_string(key));
	}
}

static void srv_reload(struct srv_daemon *d, struct srv_reload_result *res)
{
	struct srv_config c;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(th_now_ns() / 1000));
	res->file = access(d->config_path, F_OK) == 0;
	if (srv_load_config(d, &c, res->msg, sizeof(res->msg)) < 0) {
		(*d->m_reload_failures)++;
		th_err("reload: keeping the old configuration: %s", res->msg);
	} else {
		res->ok = true;
		struct srv_reload_diff x = { .res = res, .next = &c, .running = &d->cfg };
		srv_config_diff(&d->cfg, &c, srv_reload_changed, &x);
		/* What only a restart applies stays as it runs. */
		srv_config_keep_restart(&c, &d->cfg);
		d->cfg = c;
		th_log_set_level(c.log_level);
		struct srv_control_config cc;
		srv_control_cfg(&d->cfg, &cc);
		srv_control_set_config(d->control, &cc);
		for (int i = 0; i < d->n_modules_started; i++)
			if (srv_modules[i]->reload)
				srv_modules[i]->reload(d->module_state[i]);
		(*d->m_reloads)++;
		if (res->file)
			th_notice("configuration reloaded from %s", d->config_path);
		else
			th_notice("reload: there is no configuration file at %s: the defaults stay", d->config_path);
	}
	sd_notify(0, "READY=1");
	srv_status_line(d);
}

static void srv_on_signal(struct th_loop *loop, int fd, uint32_t events, void *u)
{
	struct srv_daemon *d = u;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			th_notice("received %s, shutting down", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			th_loop_quit(loop);
			break;
		case SIGHUP: {
			struct srv_reload_result rr = { .ok = false };
			srv_reload(d, &rr);
			break;
		}
		}
	}
}

static void srv_on_tick(struct th_loop *loop, int fd, uint32_t events, void *u)
{
	struct srv_daemon *d = u;
	uint64_t now = th_now_ns();
	th_timerfd_drain(fd);
	if (d->watchdog_interval_ns && now - d->last_watchdog_ns >= d->watchdog_interval_ns / 2) {
		sd_notify(0, "WATCHDOG=1");
		d->last_watchdog_ns = now;
	}
	srv_control_tick(d->control, now);
	for (int i = 0; i < d->n_modules_started; i++)
		if (srv_modules[i]->tick)
			srv_modules[i]->tick(d->module_state[i], now);
	if (now - d->last_status_ns >= d->cfg.status_interval_ns) {
		srv_status_line(d);
		d->last_status_ns = now;
	}
}

int srv_daemon_create(const struct srv_daemon_options *opt, struct srv_daemon **out, char *msg, size_t len)
{
	struct srv_daemon *d = calloc(1, sizeof(*d));
	int r;
	if (!d) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	d->lock_fd = d->signal_fd = d->tick_fd = -1;
	d->start_ns = th_now_ns();
	d->port_override = opt->port_override;
	d->log_level_override = opt->log_level_override;
	d->impair_override = opt->impair_override;
	d->peer_timeout_override = opt->peer_timeout_override;
	d->config_explicit = opt->config_explicit;
	snprintf(d->config_path, sizeof(d->config_path), "%s",
		 opt->config_path ? opt->config_path : SRV_CONFIG_DEFAULT_PATH);
	snprintf(d->state_dir, sizeof(d->state_dir), "%s", opt->state_dir);
	snprintf(d->runtime_dir, sizeof(d->runtime_dir), "%s", opt->runtime_dir);
	d->m_reloads = srv_counter(&d->metrics, "daemon_reloads", "successful configuration reloads");
	d->m_reload_failures = srv_counter(&d->metrics, "daemon_reload_failures", "reloads that kept the old configuration");
	d->m_uptime = srv_gauge(&d->metrics, "daemon_uptime_seconds", "seconds since start");
	/* The event loop's stalls (th_loop.h): time spent handling one wake-up. */
	d->m_loop_wakeups = srv_gauge(&d->metrics, "loop_wakeups", "event loop wake-ups handled since start");
	d->m_stall_p999 = srv_gauge(&d->metrics, "loop_stall_p999_us",
				    "p99.9 of the time the event loop spent on one wake-up, since start (us, within 12.5%)");
	d->m_stall_max = srv_gauge(&d->metrics, "loop_stall_max_us",
				   "longest time the event loop spent on one wake-up, since start (us)");
	d->m_stall_recent_p999 = srv_gauge(&d->metrics, "loop_stall_recent_p999_us",
					   "p99.9 of the loop's time per wake-up in the last complete 5 s window (us)");
	d->m_stall_recent_max = srv_gauge(&d->metrics, "loop_stall_recent_max_us",
					  "longest time the loop spent on one wake-up in the last complete 5 s window (us)");

	r = srv_load_config(d, &d->cfg, msg, len);
	if (r < 0)
		goto fail;
	th_log_set_level(d->cfg.log_level);
	if ((r = srv_prepare_dir("state", d->state_dir, msg, len)) < 0 ||
	    (r = srv_prepare_dir("runtime", d->runtime_dir, msg, len)) < 0 || (r = srv_take_lock(d, msg, len)) < 0)
		goto fail;

	int n = sd_listen_fds(1);
	for (int i = 0; i < n && i < SRV_MAX_PASSED_FDS; i++)
		d->passed_fds[d->n_passed++] = SD_LISTEN_FDS_START + i;
	d->socket_activated = n > 0;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit (RLIMIT_FSIZE) makes a write fail with EFBIG,
	 * which the log reports; the default action would kill the daemon. */
	signal(SIGXFSZ, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->tick_fd = th_timerfd_create(SRV_TICK_NS, SRV_TICK_NS);
	if (d->signal_fd < 0 || d->tick_fd < 0) {
		r = d->signal_fd < 0 ? -errno : d->tick_fd;
		snprintf(msg, len, "cannot create signalfd/timerfd: %s", strerror(-r));
		goto fail;
	}
	if ((r = th_loop_create(&d->loop)) < 0 ||
	    (r = th_loop_add(d->loop, d->signal_fd, EPOLLIN, srv_on_signal, d)) < 0 ||
	    (r = th_loop_add(d->loop, d->tick_fd, EPOLLIN, srv_on_tick, d)) < 0) {
		snprintf(msg, len, "cannot set up the event loop: %s", strerror(-r));
		goto fail;
	}

	int cfd = srv_daemon_listen_unix(d, "control.sock", SOCK_STREAM, 0660);
	if (cfd < 0) {
		r = cfd;
		snprintf(msg, len, "cannot listen on %s/control.sock: %s", d->runtime_dir, strerror(-r));
		goto fail;
	}
	gid_t qg = srv_group_id(d->cfg.query_group);
	if (qg != (gid_t)-1 && !d->socket_activated) {
		char p[PATH_MAX + 16];
		snprintf(p, sizeof(p), "%s/control.sock", d->runtime_dir);
		struct stat st;
		/* Under the unit's Group=theta the socket already has the group (and
		 * the seccomp filter forbids chown): only change what differs. */
		if (stat(p, &st) == 0 && st.st_gid != qg && chown(p, (uid_t)-1, qg) < 0)
			th_warn("cannot give %s to group %s: %s", p, d->cfg.query_group, strerror(errno));
	}
	struct srv_control_config cc;
	srv_control_cfg(&d->cfg, &cc);
	if ((r = srv_control_create(d->loop, cfd, &cc, &d->metrics, &d->control)) < 0) {
		close(cfd);
		snprintf(msg, len, "cannot start the control socket: %s", strerror(-r));
		goto fail;
	}
	srv_control_register(d->control, "status", SRV_CTL_QUERY, srv_cmd_status, d);
	srv_control_register(d->control, "metrics", SRV_CTL_QUERY, srv_cmd_metrics, d);
	srv_control_register(d->control, "commands", SRV_CTL_QUERY, srv_cmd_commands, d);
	srv_control_register(d->control, "log-level", SRV_CTL_QUERY, srv_cmd_log_level, d);
	srv_control_register(d->control, "reload", SRV_CTL_CHANGE, srv_cmd_reload, d);
	if (d->cfg.metrics_listen[0]) {
		struct sockaddr_storage ma;
		socklen_t malen;
		const char *why = "";
		char mmsg[256] = "";
		if ((r = web_addr_parse(d->cfg.metrics_listen, &ma, &malen, &why)) < 0 ||
		    (r = srv_metrics_http_start(d->loop, (struct sockaddr *)&ma, malen, &d->metrics, srv_metrics_refresh, d,
						&d->metrics_http, mmsg, sizeof mmsg)) < 0) {
			snprintf(msg, len, "metrics.listen = %s: %s", d->cfg.metrics_listen, mmsg[0] ? mmsg : why);
			goto fail;
		}
		th_info("metrics served at http://%s/metrics (port %u)", d->cfg.metrics_listen,
			srv_metrics_http_port(d->metrics_http));
	}

	for (int i = 0; srv_modules[i]; i++) {
		char mmsg[256] = "";
		if (i == SRV_MAX_MODULES) {
			r = -E2BIG;
			snprintf(msg, len, "too many modules");
			goto fail;
		}
		r = srv_modules[i]->start(d, &d->module_state[i], mmsg, sizeof(mmsg));
		if (r < 0) {
			snprintf(msg, len, "%s: %s", srv_modules[i]->name, mmsg[0] ? mmsg : strerror(-r));
			goto fail;
		}
		d->n_modules_started = i + 1;
	}
	for (int i = 0; i < d->n_passed; i++) {
		if (d->passed_fds[i] >= 0) {
			th_warn("closing a passed socket (fd %d) that no module claimed", d->passed_fds[i]);
			close(d->passed_fds[i]);
			d->passed_fds[i] = -1;
		}
	}
	uint64_t wd_usec = 0;
	if (sd_watchdog_enabled(1, &wd_usec) > 0)
		d->watchdog_interval_ns = wd_usec * 1000;
	*out = d;
	return 0;
fail:
	srv_daemon_destroy(&d);
	return r;
}

int srv_daemon_run(struct srv_daemon *d)
{
	sd_notifyf(0, "READY=1\nMAINPID=%d", (int)getpid());
	srv_status_line(d);
	d->last_status_ns = d->last_watchdog_ns = th_now_ns();
	if (d->watchdog_interval_ns)
		sd_notify(0, "WATCHDOG=1");
	th_notice("thetad %s ready: state %s, runtime %s%s", THETA_VERSION, d->state_dir, d->runtime_dir,
		  d->socket_activated ? " (socket-activated)" : "");
	int r = th_loop_run(d->loop);
	sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
	if (r < 0)
		th_err("event loop failed: %s", strerror(-r));
	return r;
}

void srv_daemon_destroy(struct srv_daemon **p)
{
	if (!p || !*p)
		return;
	struct srv_daemon *d = *p;
	for (int i = d->n_modules_started - 1; i >= 0; i--)
		if (srv_modules[i]->stop)
			srv_modules[i]->stop(d->module_state[i]);
	srv_metrics_http_stop(&d->metrics_http);
	srv_control_destroy(&d->control);
	for (int i = 0; i < d->n_unlink; i++)
		unlink(d->unlink_on_exit[i]);
	for (int i = 0; i < d->n_passed; i++)
		if (d->passed_fds[i] >= 0)
			close(d->passed_fds[i]);
	if (d->loop) {
		if (d->signal_fd >= 0)
			th_loop_del(d->loop, d->signal_fd);
		if (d->tick_fd >= 0)
			th_loop_del(d->loop, d->tick_fd);
	}
	th_loop_destroy(&d->loop);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd); /* releases the flock; the file stays (harmless) */
	free(d);
	*p = NULL;
}

void *srv_daemon_module_state(struct srv_daemon *d, const char *name)
{
	for (int i = 0; i < d->n_modules_started; i++)
		if (!strcmp(srv_modules[i]->name, name))
			return d->module_state[i];
	return NULL;
}

struct th_loop *srv_daemon_loop(struct srv_daemon *d) { return d->loop; }
struct srv_control *srv_daemon_control(struct srv_daemon *d) { return d->control; }
struct srv_metrics *srv_daemon_metrics(struct srv_daemon *d) { return &d->metrics; }
const struct srv_config *srv_daemon_config(const struct srv_daemon *d) { return &d->cfg; }
const char *srv_daemon_state_dir(const struct srv_daemon *d) { return d->state_dir; }
const char *srv_daemon_runtime_dir(const struct srv_daemon *d) { return d->runtime_dir; }
