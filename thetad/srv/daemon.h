/* thetad's process: one epoll loop, signals through signalfd, a periodic
 * timerfd tick, systemd's notify protocol, the runtime lock, the control
 * socket and the modules (thetad/srv/modules.c) that hang off it. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "srv/config.h"
#include "srv/metrics.h"

struct th_loop;
struct srv_control;
struct srv_daemon;
struct json_object;

struct srv_daemon_options {
	const char *state_dir;   /* resolved by main: flag, $STATE_DIRECTORY, /var/lib/thetad */
	const char *runtime_dir; /* flag, $RUNTIME_DIRECTORY, /run/thetad */
	const char *config_path; /* NULL: SRV_CONFIG_DEFAULT_PATH, optional */
	bool config_explicit;    /* --config given: the file must exist */
	int64_t port_override;   /* -1: from config */
	int log_level_override;  /* -1: from config */
	const char *impair_override;       /* --impair SPEC; NULL: from config */
	const char *peer_timeout_override; /* --peer-timeout D; NULL: from config */
};

/* The configuration opt makes (state_dir and runtime_dir unused): the
 * file, then the flags over it, as the daemon takes it at start and on a
 * reload; thetad --print-config prints it. Fails with a message in msg[len]. */
struct srv_config;
int srv_daemon_options_config(const struct srv_daemon_options *opt, struct srv_config *out, char *msg, size_t len);
/* Fails with a message in msg[len] a person can act on. */
int srv_daemon_create(const struct srv_daemon_options *opt, struct srv_daemon **out, char *msg, size_t len);
void srv_daemon_destroy(struct srv_daemon **p);
/* Runs until SIGTERM/SIGINT; returns 0 after a clean shutdown. */
int srv_daemon_run(struct srv_daemon *d);

/* For modules. */
struct th_loop *srv_daemon_loop(struct srv_daemon *d);
struct srv_control *srv_daemon_control(struct srv_daemon *d);
struct srv_metrics *srv_daemon_metrics(struct srv_daemon *d);
const struct srv_config *srv_daemon_config(const struct srv_daemon *d);
const char *srv_daemon_state_dir(const struct srv_daemon *d);
const char *srv_daemon_runtime_dir(const struct srv_daemon *d);
/* A listening AF_UNIX socket named `name` in the runtime dir: the one systemd
 * passed (matched by path basename) or a freshly bound one with `mode`.
 * Returns the fd (caller owns it) or a negative errno. */
int srv_daemon_listen_unix(struct srv_daemon *d, const char *name, int type, mode_t mode);
/* The state of a started module by name (for modules started after it), or NULL. */
void *srv_daemon_module_state(struct srv_daemon *d, const char *name);
/* Records a listening socket for `thetactl status` ("control", path). */
void srv_daemon_add_socket_info(struct srv_daemon *d, const char *what, const char *where);
