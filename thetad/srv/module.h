/* A daemon module (IPC, command log, network, voice, ...): started after the
 * control socket exists, stopped in reverse order. Adding one is one line in
 * thetad/srv/modules.c. */
#pragma once

struct srv_daemon;
struct json_object;

struct srv_module {
	const char *name;
	/* Registers fds, timers and control commands; *state is handed back. */
	int (*start)(struct srv_daemon *d, void **state, char *msg, unsigned len);
	void (*stop)(void *state);
	/* Called on each daemon tick (about every 250 ms). Optional. */
	void (*tick)(void *state, unsigned long long now_ns);
	/* Adds/overwrites fields of `thetactl status` (e.g. "clients"). Optional. */
	void (*status)(void *state, struct json_object *status);
	/* Re-reads what it uses from the config after SIGHUP. Optional. */
	void (*reload)(void *state);
	/* A short phrase for systemd's STATUS= line, e.g. "2 clients". Optional. */
	int (*status_line)(void *state, char *buf, unsigned len);
};

/* NULL-terminated, in start order. */
extern const struct srv_module *const srv_modules[];
