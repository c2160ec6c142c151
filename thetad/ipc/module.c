/* The IPC module: client.sock in the runtime dir, the `clients` control
 * command and the status fields. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc/module.h"
#include "ipc/server.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/module.h"
#include "th_err.h"
#include "th_time.h"

#define IPC_SOCKET_NAME "client.sock"
/* Any local user may connect; each client reaches only its own user's state. */
#define IPC_SOCKET_MODE 0666

struct ipc_module {
	struct srv_daemon *d;
	struct ipc_server *server;
};

static int ipc_cmd_clients(void *user_data, const struct srv_ctl_caller *caller, struct json_object *args,
			   struct json_object **result, char *err, size_t errlen)
{
	struct ipc_module *m = user_data;
	/* Root and the daemon's own user see every client; others their own. */
	uid_t only = caller->uid == 0 || caller->uid == getuid() ? (uid_t)-1 : caller->uid;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "clients", ipc_server_clients_json(m->server, only, th_now_ns()));
	*result = o;
	return 0;
}

static int ipc_module_start(struct srv_daemon *d, void **state, char *msg, unsigned len)
{
	struct ipc_module *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->d = d;
	int fd = srv_daemon_listen_unix(d, IPC_SOCKET_NAME, SOCK_SEQPACKET, IPC_SOCKET_MODE);
	if (fd < 0) {
		snprintf(msg, len, "cannot listen on %s/%s: %s", srv_daemon_runtime_dir(d), IPC_SOCKET_NAME,
			 th_strerror(fd));
		free(m);
		return fd;
	}
	struct ipc_config cfg = { .max_clients = (unsigned)srv_daemon_config(d)->ipc_max_clients };
	int r = ipc_server_create(srv_daemon_loop(d), fd, &cfg, srv_daemon_metrics(d), &m->server);
	if (r < 0) {
		snprintf(msg, len, "cannot start the client IPC: %s", th_strerror(r));
		close(fd);
		free(m);
		return r;
	}
	srv_control_register(srv_daemon_control(d), "clients", SRV_CTL_QUERY, ipc_cmd_clients, m);
	*state = m;
	return 0;
}

static void ipc_module_stop(void *state)
{
	struct ipc_module *m = state;
	if (!m)
		return;
	ipc_server_destroy(&m->server);
	free(m);
}

static void ipc_module_tick(void *state, unsigned long long now_ns)
{
	struct ipc_module *m = state;
	ipc_server_tick(m->server, now_ns);
}

static void ipc_module_status(void *state, struct json_object *status)
{
	struct ipc_module *m = state;
	json_object_object_add(status, "clients", json_object_new_int((int)ipc_server_nclients(m->server)));
}

static int ipc_module_status_line(void *state, char *buf, unsigned len)
{
	struct ipc_module *m = state;
	unsigned n = ipc_server_nclients(m->server);
	return snprintf(buf, len, "%u client%s", n, n == 1 ? "" : "s");
}

struct ipc_server *ipc_module_server(void *state)
{
	struct ipc_module *m = state;
	return m ? m->server : NULL;
}

const struct srv_module ipc_module = {
	.name = "ipc",
	.start = ipc_module_start,
	.stop = ipc_module_stop,
	.tick = ipc_module_tick,
	.status = ipc_module_status,
	.status_line = ipc_module_status_line,
};
