#include "srv/control.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ctlproto.h"
#include "srv/metrics.h"
#include "th_fdpass.h"
#include "th_loop.h"
#include "th_time.h"

struct srv_ctl_cmd {
	char name[PROTO_CTL_MAX_CMD_NAME];
	enum srv_ctl_access access;
	srv_ctl_fn fn;
	void *user_data;
};

struct srv_ctl_conn {
	struct srv_control *ctl;
	int fd;
	struct srv_ctl_caller caller;
	int fds[SRV_CTL_MAX_FDS]; /* received, for the next request dispatched */
	unsigned n_fds;
	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	uint64_t last_activity_ns;
	uint64_t id;  /* srv_ctl_caller.conn */
	bool waiting; /* a handler answers later (SRV_CTL_LATER) */
	bool closing; /* close once the output is flushed */
	struct srv_ctl_conn *next;
};

struct srv_control {
	struct th_loop *loop;
	int listen_fd;
	int reserve_fd; /* spare fd to shed connections when out of descriptors */
	struct srv_control_config cfg;
	struct srv_ctl_cmd cmds[SRV_CTL_MAX_COMMANDS];
	unsigned n_cmds;
	struct srv_ctl_conn *conns;
	unsigned n_conns;
	uint64_t next_id;
	uint64_t *m_accepted, *m_rejected, *m_requests, *m_bad, *m_oversized, *m_denied, *m_timeouts,
		*m_unknown, *m_conns;
};

static void srv_ctl_conn_close(struct srv_ctl_conn *cn)
{
	struct srv_control *c = cn->ctl;
	for (struct srv_ctl_conn **pp = &c->conns; *pp; pp = &(*pp)->next) {
		if (*pp == cn) {
			*pp = cn->next;
			break;
		}
	}
	th_loop_del(c->loop, cn->fd);
	close(cn->fd);
	th_fd_close_all(cn->fds, SRV_CTL_MAX_FDS);
	free(cn->in);
	free(cn->out);
	free(cn);
	c->n_conns--;
	*c->m_conns = c->n_conns;
}

static int srv_ctl_queue(struct srv_ctl_conn *cn, const char *json)
{
	size_t n = strlen(json);
	size_t need = cn->out_len - cn->out_off + PROTO_CTL_HEADER_BYTES + n;

	if (need > SRV_CTL_MAX_PENDING_OUT)
		return -ENOBUFS;
	if (cn->out_off) { /* compact */
		memmove(cn->out, cn->out + cn->out_off, cn->out_len - cn->out_off);
		cn->out_len -= cn->out_off;
		cn->out_off = 0;
	}
	if (need > cn->out_cap) {
		size_t cap = cn->out_cap ? cn->out_cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *p = realloc(cn->out, cap);
		if (!p)
			return -ENOMEM;
		cn->out = p;
		cn->out_cap = cap;
	}
	proto_ctl_frame_header(cn->out + cn->out_len, (uint32_t)n);
	memcpy(cn->out + cn->out_len + PROTO_CTL_HEADER_BYTES, json, n);
	cn->out_len += PROTO_CTL_HEADER_BYTES + n;
	return 0;
}

static int srv_ctl_reply_error(struct srv_ctl_conn *cn, int err, const char *msg)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	/* EINVAL means a malformed argument: thetactl exits 2 (a usage error)
	 * on it; a refusal because of the state of things takes another code. */
	const char *code = err == -EPERM ? "EPERM" : err == -ENOENT ? "ENOENT" : err == -EINVAL ? "EINVAL"
		: err == -EMSGSIZE ? "EMSGSIZE" : err == -EBADMSG ? "EBADMSG" : err == -EAGAIN ? "EAGAIN"
		: err == -ERANGE ? "ERANGE" : err == -EBUSY ? "EBUSY" : err == -ENOTCONN ? "ENOTCONN"
		: err == -EEXIST ? "EEXIST" : err == -EFBIG ? "EFBIG" : err == -ENOSPC ? "ENOSPC" : "EIO";
	json_object_object_add(o, "code", json_object_new_string(code));
	int r = srv_ctl_queue(cn, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return r;
}

/* {"ok": true, "result": result} (taken; NULL: {}); a reply that does not
 * fit ends the connection once the rest is sent. */
static void srv_ctl_reply_ok(struct srv_ctl_conn *cn, struct json_object *result)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	if (srv_ctl_queue(cn, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		cn->closing = true;
	json_object_put(o);
}

static void srv_ctl_dispatch(struct srv_ctl_conn *cn, const uint8_t *body, size_t len)
{
	struct srv_control *c = cn->ctl;
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req = NULL, *cmd = NULL, *args = NULL;
	char err[256] = "";

	(*c->m_requests)++;
	if (tok) {
		req = json_tokener_parse_ex(tok, (const char *)body, (int)len);
		if (req && json_tokener_get_parse_end(tok) != len) { /* trailing bytes */
			json_object_put(req);
			req = NULL;
		}
		json_tokener_free(tok);
	}
	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &cmd) || !json_object_is_type(cmd, json_type_string)) {
		(*c->m_bad)++;
		srv_ctl_reply_error(cn, -EBADMSG, "request is not a JSON object with a \"cmd\" string");
		json_object_put(req);
		return;
	}
	if (json_object_object_get_ex(req, "args", &args) && !json_object_is_type(args, json_type_object)) {
		(*c->m_bad)++;
		srv_ctl_reply_error(cn, -EBADMSG, "\"args\" must be a JSON object");
		json_object_put(req);
		return;
	}
	const char *name = json_object_get_string(cmd);
	struct srv_ctl_cmd *h = NULL;
	for (unsigned i = 0; i < c->n_cmds; i++)
		if (!strcmp(c->cmds[i].name, name))
			h = &c->cmds[i];
	if (!h) {
		(*c->m_unknown)++;
		snprintf(err, sizeof(err), "unknown command '%.*s'", PROTO_CTL_MAX_CMD_NAME, name);
		srv_ctl_reply_error(cn, -ENOENT, err);
		json_object_put(req);
		return;
	}
	if ((h->access == SRV_CTL_CHANGE && !cn->caller.may_change) || !cn->caller.may_query) {
		(*c->m_denied)++;
		snprintf(err, sizeof(err), "'%s' needs %s (caller uid %u)", h->name,
			 h->access == SRV_CTL_CHANGE ? "root or membership of the admin group"
						     : "membership of the daemon's query group",
			 (unsigned)cn->caller.uid);
		srv_ctl_reply_error(cn, -EPERM, err);
		json_object_put(req);
		return;
	}
	struct json_object *result = NULL;
	struct srv_ctl_caller caller = cn->caller;
	memcpy(caller.fds, cn->fds, sizeof(caller.fds));
	caller.n_fds = cn->n_fds;
	caller.conn = cn->id;
	int r = h->fn(h->user_data, &caller, args, &result, err, sizeof(err));
	if (r == SRV_CTL_LATER) {
		cn->waiting = true;
	} else if (r < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s failed: %s", h->name, strerror(-r));
		srv_ctl_reply_error(cn, r, err);
	} else {
		srv_ctl_reply_ok(cn, result);
	}
	json_object_put(req);
}

/* Reads into cn->in; descriptors that come with the bytes are kept for the
 * next request (SRV_CTL_MAX_FDS at most: more, a truncated or foreign
 * control message, are closed and end the connection). Returns recv's
 * count, or -1 (error or a bad control message), -2 (nothing now). */
static ssize_t srv_ctl_read(struct srv_ctl_conn *cn, size_t cap)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * SRV_CTL_MAX_FDS)];
	} u;
	struct iovec iov = { .iov_base = cn->in + cn->in_len, .iov_len = cap - cn->in_len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(cn->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -2 : -1;
	size_t n_fds = cn->n_fds;
	bool bad = (mh.msg_flags & MSG_CTRUNC) != 0;
	if (!th_fdpass_collect(&mh, cn->fds, &n_fds, SRV_CTL_MAX_FDS))
		bad = true;
	cn->n_fds = (unsigned)n_fds;
	if (bad) {
		(*cn->ctl->m_bad)++;
		return -1;
	}
	return n;
}

static void srv_ctl_update_events(struct srv_ctl_conn *cn)
{
	uint32_t ev = EPOLLRDHUP;
	if (!cn->closing && !cn->waiting && cn->out_len - cn->out_off < SRV_CTL_MAX_PENDING_OUT / 2)
		ev |= EPOLLIN;
	if (cn->out_len > cn->out_off)
		ev |= EPOLLOUT;
	th_loop_mod(cn->ctl->loop, cn->fd, ev);
}

/* Returns -1 when the connection was closed. */
static int srv_ctl_flush(struct srv_ctl_conn *cn)
{
	while (cn->out_len > cn->out_off) {
		ssize_t n = send(cn->fd, cn->out + cn->out_off, cn->out_len - cn->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			srv_ctl_conn_close(cn);
			return -1;
		}
		cn->out_off += (size_t)n;
	}
	if (cn->out_off == cn->out_len) {
		cn->out_off = cn->out_len = 0;
		if (cn->closing) {
			srv_ctl_conn_close(cn);
			return -1;
		}
	}
	return 0;
}

/* Answers the whole frames in cn->in, in order, until one is answered
 * later or the connection is to close. */
static void srv_ctl_process(struct srv_ctl_conn *cn)
{
	struct srv_control *c = cn->ctl;
	while (!cn->closing && !cn->waiting) {
		size_t flen;
		int r = proto_ctl_frame_check(cn->in, cn->in_len, PROTO_CTL_MAX_REQUEST, &flen);
		if (r == 0)
			break;
		if (r < 0) {
			/* Framing is lost: answer once, then hang up. */
			if (r == -EMSGSIZE) {
				(*c->m_oversized)++;
				srv_ctl_reply_error(cn, r, "request larger than the 65536-byte limit");
			} else {
				(*c->m_bad)++;
				srv_ctl_reply_error(cn, r, "empty request frame");
			}
			cn->closing = true;
			cn->in_len = 0;
			break;
		}
		srv_ctl_dispatch(cn, cn->in + PROTO_CTL_HEADER_BYTES, flen - PROTO_CTL_HEADER_BYTES);
		th_fd_close_all(cn->fds, SRV_CTL_MAX_FDS); /* lent to that request only */
		cn->n_fds = 0;
		memmove(cn->in, cn->in + flen, cn->in_len - flen);
		cn->in_len -= flen;
	}
}

static void srv_ctl_conn_event(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct srv_ctl_conn *cn = user_data;

	if ((events & EPOLLIN) && !cn->waiting) {
		const size_t cap = PROTO_CTL_HEADER_BYTES + PROTO_CTL_MAX_REQUEST;
		ssize_t n = srv_ctl_read(cn, cap);
		if (n == 0 || n == -1) {
			srv_ctl_conn_close(cn); /* hang-up, possibly mid-request: nothing to answer */
			return;
		}
		if (n > 0) {
			cn->in_len += (size_t)n;
			cn->last_activity_ns = th_now_ns();
		}
		srv_ctl_process(cn);
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		srv_ctl_conn_close(cn);
		return;
	}
	if (srv_ctl_flush(cn) < 0)
		return;
	if ((events & EPOLLRDHUP) && !(events & EPOLLIN) && cn->out_len == cn->out_off) {
		srv_ctl_conn_close(cn);
		return;
	}
	srv_ctl_update_events(cn);
}

static bool srv_ctl_has_group(const gid_t *groups, int n, gid_t primary, gid_t want)
{
	if (want == (gid_t)-1)
		return false;
	if (primary == want)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

static void srv_ctl_identify(struct srv_control *c, struct srv_ctl_conn *cn)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	int ng = 0;

	if (getsockopt(cn->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
		cn->caller = (struct srv_ctl_caller){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		return; /* unknown peer: may do nothing */
	}
	if (getsockopt(cn->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		ng = (int)(glen / sizeof(gid_t));
	cn->caller.pid = uc.pid;
	cn->caller.uid = uc.uid;
	cn->caller.gid = uc.gid;
	bool privileged = uc.uid == 0 || uc.uid == geteuid();
	cn->caller.may_change = privileged || srv_ctl_has_group(groups, ng, uc.gid, c->cfg.admin_gid);
	cn->caller.may_query = cn->caller.may_change || srv_ctl_has_group(groups, ng, uc.gid, c->cfg.query_gid);
}

static void srv_ctl_accept(struct th_loop *loop, int fd, uint32_t events, void *user_data)
{
	struct srv_control *c = user_data;

	for (int i = 0; i < 64; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if ((errno == EMFILE || errno == ENFILE) && c->reserve_fd >= 0) {
				/* Out of descriptors: use the spare to accept and shed one. */
				close(c->reserve_fd);
				cfd = accept(fd, NULL, NULL);
				if (cfd >= 0)
					close(cfd);
				c->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				(*c->m_rejected)++;
				continue;
			}
			return; /* EAGAIN or transient: wait for the next event */
		}
		if (c->n_conns >= c->cfg.max_conns) {
			(*c->m_rejected)++;
			close(cfd);
			continue;
		}
		struct srv_ctl_conn *cn = calloc(1, sizeof(*cn));
		uint8_t *in = malloc(PROTO_CTL_HEADER_BYTES + PROTO_CTL_MAX_REQUEST);
		if (!cn || !in || th_loop_add(loop, cfd, EPOLLIN | EPOLLRDHUP, srv_ctl_conn_event, cn) < 0) {
			free(cn);
			free(in);
			close(cfd);
			(*c->m_rejected)++;
			continue;
		}
		cn->ctl = c;
		cn->fd = cfd;
		cn->id = ++c->next_id;
		for (unsigned k = 0; k < SRV_CTL_MAX_FDS; k++)
			cn->fds[k] = -1;
		cn->in = in;
		cn->last_activity_ns = th_now_ns();
		srv_ctl_identify(c, cn);
		cn->next = c->conns;
		c->conns = cn;
		c->n_conns++;
		*c->m_conns = c->n_conns;
		(*c->m_accepted)++;
	}
}

static void srv_ctl_apply_defaults(struct srv_control_config *cfg)
{
	if (!cfg->max_conns)
		cfg->max_conns = 256;
	if (!cfg->idle_timeout_ns)
		cfg->idle_timeout_ns = 10 * TH_NS_PER_S;
}

int srv_control_create(struct th_loop *loop, int listen_fd, const struct srv_control_config *cfg,
		       struct srv_metrics *m, struct srv_control **out)
{
	struct srv_control *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->listen_fd = listen_fd;
	c->cfg = *cfg;
	srv_ctl_apply_defaults(&c->cfg);
	c->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->m_accepted = srv_counter(m, "control_connections_accepted", "control connections accepted");
	c->m_rejected = srv_counter(m, "control_connections_rejected", "control connections refused (limit or no fds)");
	c->m_conns = srv_gauge(m, "control_connections", "open control connections");
	c->m_requests = srv_counter(m, "control_requests", "control requests received");
	c->m_bad = srv_counter(m, "control_bad_requests", "malformed control requests");
	c->m_oversized = srv_counter(m, "control_oversized_requests", "control requests over the size limit");
	c->m_denied = srv_counter(m, "control_denied", "control requests refused for lack of permission");
	c->m_unknown = srv_counter(m, "control_unknown_commands", "control requests naming no known command");
	c->m_timeouts = srv_counter(m, "control_idle_timeouts", "control connections closed for silence");
	int fl = fcntl(listen_fd, F_GETFL);
	if (fl >= 0)
		fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);
	int r = th_loop_add(loop, listen_fd, EPOLLIN, srv_ctl_accept, c);
	if (r < 0) {
		if (c->reserve_fd >= 0)
			close(c->reserve_fd);
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void srv_control_destroy(struct srv_control **p)
{
	if (!p || !*p)
		return;
	struct srv_control *c = *p;
	while (c->conns)
		srv_ctl_conn_close(c->conns);
	th_loop_del(c->loop, c->listen_fd);
	close(c->listen_fd);
	if (c->reserve_fd >= 0)
		close(c->reserve_fd);
	free(c);
	*p = NULL;
}

int srv_control_register(struct srv_control *c, const char *name, enum srv_ctl_access access, srv_ctl_fn fn,
			 void *user_data)
{
	if (c->n_cmds == SRV_CTL_MAX_COMMANDS || strlen(name) >= PROTO_CTL_MAX_CMD_NAME)
		return -ENOSPC;
	for (unsigned i = 0; i < c->n_cmds; i++)
		if (!strcmp(c->cmds[i].name, name))
			return -EEXIST;
	struct srv_ctl_cmd *h = &c->cmds[c->n_cmds++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->access = access;
	h->fn = fn;
	h->user_data = user_data;
	return 0;
}

void srv_control_tick(struct srv_control *c, uint64_t now_ns)
{
	struct srv_ctl_conn *cn = c->conns, *next;
	for (; cn; cn = next) {
		next = cn->next;
		if (!cn->waiting && now_ns - cn->last_activity_ns > c->cfg.idle_timeout_ns) {
			(*c->m_timeouts)++;
			srv_ctl_conn_close(cn);
		}
	}
}

int srv_control_answer(struct srv_control *c, uint64_t conn, int rc, struct json_object *result, const char *err)
{
	struct srv_ctl_conn *cn = c->conns;
	while (cn && cn->id != conn)
		cn = cn->next;
	if (!cn || !cn->waiting) {
		json_object_put(result);
		return -ENOENT;
	}
	cn->waiting = false;
	cn->last_activity_ns = th_now_ns();
	if (rc < 0) {
		json_object_put(result);
		srv_ctl_reply_error(cn, rc, err && err[0] ? err : "the command failed");
	} else {
		srv_ctl_reply_ok(cn, result);
	}
	srv_ctl_process(cn); /* requests that came meanwhile */
	if (srv_ctl_flush(cn) < 0)
		return 0;
	srv_ctl_update_events(cn);
	return 0;
}

void srv_control_set_config(struct srv_control *c, const struct srv_control_config *cfg)
{
	c->cfg = *cfg;
	srv_ctl_apply_defaults(&c->cfg);
}

void srv_control_count_denied(struct srv_control *c)
{
	(*c->m_denied)++;
}

unsigned srv_control_connections(const struct srv_control *c)
{
	return c->n_conns;
}

struct json_object *srv_control_commands(const struct srv_control *c)
{
	struct json_object *a = json_object_new_array();
	for (unsigned i = 0; i < c->n_cmds; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(c->cmds[i].name));
		json_object_object_add(e, "access", json_object_new_string(
							    c->cmds[i].access == SRV_CTL_CHANGE ? "change" : "query"));
		json_object_array_add(a, e);
	}
	return a;
}
