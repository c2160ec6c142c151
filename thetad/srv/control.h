/* control.sock: thetactl's way into the daemon. Length-prefixed JSON frames
 * (proto/ctl.h), one reply per request. The caller is identified with
 * SO_PEERCRED/SO_PEERGROUPS; each command is either a read-only query
 * (root, the daemon's own user, members of the query or admin group) or a
 * change (root, the daemon's own user, members of the admin group).
 *
 * Every way a caller can misbehave (garbage, oversized frames, half a
 * request then silence, a thousand connections) ends in an error reply or a
 * closed connection and a counter; the daemon carries on. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct th_loop;
struct json_object;
struct srv_metrics;
struct srv_control;

enum srv_ctl_access {
	SRV_CTL_QUERY,
	SRV_CTL_CHANGE,
};

/* Descriptors a request may carry (SCM_RIGHTS on the bytes of its frame):
 * `thetactl export` passes the file it opened as the user, and the MTL. */
#define SRV_CTL_MAX_FDS 2

struct srv_ctl_caller {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool may_query;
	bool may_change;
	/* The descriptors that came with this request (O_CLOEXEC, -1 past
	 * n_fds), lent to the handler: the server closes them when it returns
	 * (dup one to keep it). Any that came with an earlier request were
	 * closed after it. */
	int fds[SRV_CTL_MAX_FDS];
	unsigned n_fds;
	uint64_t conn; /* the connection, for srv_control_answer */
};

/* A handler's return for "the answer comes later": it keeps caller->conn
 * and calls srv_control_answer once (the connection takes no further
 * request meanwhile and does not time out; if it closes first, the answer
 * is dropped). */
#define SRV_CTL_LATER 1

/* A handler fills *result (a new JSON object the control server frees) or
 * returns a negative errno and writes one sentence into err[errlen], or
 * returns SRV_CTL_LATER. */
typedef int (*srv_ctl_fn)(void *user_data, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **result, char *err, size_t errlen);

struct srv_control_config {
	unsigned max_conns;        /* 0: 256 */
	uint64_t idle_timeout_ns;  /* 0: 10 s */
	gid_t query_gid;           /* (gid_t)-1: no such group */
	gid_t admin_gid;           /* (gid_t)-1: no such group */
};

#define SRV_CTL_MAX_COMMANDS 64
#define SRV_CTL_MAX_PENDING_OUT (32u * 1024 * 1024) /* unread replies before we hang up */

/* Takes ownership of listen_fd (a listening SOCK_STREAM socket). */
int srv_control_create(struct th_loop *loop, int listen_fd, const struct srv_control_config *cfg,
		       struct srv_metrics *metrics, struct srv_control **out);
void srv_control_destroy(struct srv_control **p);
int srv_control_register(struct srv_control *c, const char *name, enum srv_ctl_access access, srv_ctl_fn fn,
			 void *user_data);
/* The answer to a request its handler returned SRV_CTL_LATER for: rc 0 and
 * result (taken over; NULL: an empty object), or a negative errno and err
 * (one sentence). 0, or -ENOENT when the connection has closed meanwhile
 * (result is freed). */
int srv_control_answer(struct srv_control *c, uint64_t conn, int rc, struct json_object *result, const char *err);
/* Closes connections idle past the timeout. */
void srv_control_tick(struct srv_control *c, uint64_t now_ns);
void srv_control_set_config(struct srv_control *c, const struct srv_control_config *cfg);
unsigned srv_control_connections(const struct srv_control *c);
/* For a handler that refuses part of a command for lack of permission
 * itself (a query whose arguments make it a change): counts it in
 * control_denied, as the server counts the commands it refuses. */
void srv_control_count_denied(struct srv_control *c);
/* Names of registered commands as a JSON array (for `thetactl help`). */
struct json_object *srv_control_commands(const struct srv_control *c);
