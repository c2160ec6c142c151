/* The IPC daemon module (client.sock). Other modules reach its server with
 * srv_daemon_module_state(d, "ipc") and ipc_module_server(). */
#pragma once

struct ipc_server;
struct srv_module;

extern const struct srv_module ipc_module;
struct ipc_server *ipc_module_server(void *state);
