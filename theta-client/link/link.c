/* The daemon link: connection, hello/welcome, validation of the welcome,
 * liveness and reconnect with backoff (see link.h). Ring traffic: io.c. */
#include "link/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "th_buf.h"
#include "th_err.h"
#include "th_fdpass.h"
#include "th_time.h"

#ifndef THETA_VERSION
#define THETA_VERSION "0.0.0"
#endif

/* Byte offset of the protocol hash in the frozen client.sock header. */
#define LINK_HDR_HASH_OFF 8u

static void report(struct link *l, enum link_event ev)
{
	if (l->cfg.cb.event)
		l->cfg.cb.event(l->cfg.user_data, ev, l->error);
}

static void set_error(struct link *l, const char *fmt, va_list ap)
{
	vsnprintf(l->error, sizeof l->error, fmt, ap);
}

static void set_errorf(struct link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_errorf(struct link *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error(l, fmt, ap);
	va_end(ap);
}

/* Closes socket, mapping and doorbells; the rings become unusable. */
static void drop_connection(struct link *l)
{
	if (l->sock >= 0)
		close(l->sock);
	l->sock = -1;
	link_voice_detach(l); /* no audio thread is in a voice ring after this */
	th_shm_close(&l->shm);
	int bells[2] = { l->bell_c2d, l->bell_d2c };
	th_fd_close_all(bells, 2);
	l->bell_c2d = l->bell_d2c = -1;
	memset(&l->out, 0, sizeof l->out);
	memset(&l->in, 0, sizeof l->in);
}

static void schedule_retry(struct link *l, uint64_t now_ns)
{
	l->next_attempt_ns = now_ns + l->backoff_ns;
	l->backoff_ns = l->backoff_ns * 2 > l->cfg.backoff_max_ns ? l->cfg.backoff_max_ns : l->backoff_ns * 2;
}

/* A connect or handshake attempt failed (the daemon may simply be absent). */
static void attempt_failed(struct link *l, uint64_t now_ns)
{
	drop_connection(l);
	l->state = LINK_IDLE;
	schedule_retry(l, now_ns);
	if (!l->outage_reported) {
		l->outage_reported = true;
		report(l, LINK_EV_UNREACHABLE);
	}
}

void link_lose(struct link *l, uint64_t now_ns, bool violation, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error(l, fmt, ap);
	va_end(ap);
	if (violation)
		l->st.violations++;
	l->st.losses++;
	drop_connection(l);
	l->state = LINK_IDLE;
	l->backoff_ns = l->cfg.backoff_min_ns;
	schedule_retry(l, now_ns);
	if (!l->outage_reported) {
		l->outage_reported = true;
		report(l, LINK_EV_LOST);
	}
}

static void fatal(struct link *l)
{
	drop_connection(l);
	l->state = LINK_FATAL;
	report(l, LINK_EV_FATAL);
}

/* ---- connect and hello --------------------------------------------------- */

static void attempt(struct link *l, uint64_t now_ns)
{
	l->st.attempts++;
	l->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->sock < 0) {
		l->last_err = -errno;
		set_errorf(l, "cannot create a socket: %s", strerror(errno));
		attempt_failed(l, now_ns);
		return;
	}
	/* A Unix-domain connect never waits for the peer: it succeeds, or fails
	 * at once (ENOENT, ECONNREFUSED, EAGAIN when the backlog is full). */
	if (connect(l->sock, (const struct sockaddr *)&l->addr, sizeof l->addr) < 0) {
		l->last_err = -errno;
		set_errorf(l, "cannot connect to %s: %s", l->addr.sun_path, strerror(errno));
		attempt_failed(l, now_ns);
		return;
	}
	struct proto_ipc_hello h = { .pid = (uint32_t)getpid() };
	snprintf(h.name, sizeof h.name, "%s", l->name);
	snprintf(h.session, sizeof h.session, "%s", l->hello_session);
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int n = proto_ipc_sock_encode(PROTO_IPC_T_HELLO, &h, b, sizeof b);
	if (n < (int)PROTO_IPC_SOCK_HDR) {
		set_errorf(l, "cannot encode the hello: %s", th_strerror(n < 0 ? n : -EINVAL));
		attempt_failed(l, now_ns);
		return;
	}
	l->hello_hash = th_get_le64(b + LINK_HDR_HASH_OFF) ^ l->cfg.test_hash_xor;
	th_put_le64(b + LINK_HDR_HASH_OFF, l->hello_hash);
	int r = th_fdpass_send(l->sock, b, (size_t)n, NULL, 0);
	if (r < 0) {
		l->last_err = r;
		set_errorf(l, "cannot send the hello to %s: %s", l->addr.sun_path, th_strerror(r));
		attempt_failed(l, now_ns);
		return;
	}
	l->state = LINK_HELLO_SENT;
	l->hello_deadline_ns = now_ns + LINK_HELLO_TIMEOUT_NS;
}

/* ---- welcome ------------------------------------------------------------- */

int link_check_ring(struct link *l, const char *which, uint32_t off, uint32_t capacity, uint32_t max_record,
		      struct th_ring_geom *g)
{
	*g = (struct th_ring_geom){ .capacity = capacity, .max_record = max_record };
	if (th_ring_geom_check(g) < 0) {
		set_errorf(l, "welcome: %s ring geometry invalid (capacity %" PRIu32 ", max record %" PRIu32 ")",
			   which, capacity, max_record);
		return -EPROTO;
	}
	size_t need = th_ring_region_size(g);
	if (off % LINK_RING_ALIGN || off > l->shm.size || need > l->shm.size - off) {
		set_errorf(l, "welcome: %s ring at offset %" PRIu32 " does not fit the %zu-byte memfd", which, off,
			   l->shm.size);
		return -EPROTO;
	}
	struct th_ring_geom shared;
	if (th_ring_read_geom((uint8_t *)l->shm.base + off, need, &shared) < 0 || shared.capacity != capacity ||
	    shared.max_record != max_record) {
		set_errorf(l, "welcome: %s ring header disagrees with the welcome", which);
		return -EPROTO;
	}
	return 0;
}

/* Maps and attaches the rings; takes ownership of fds[] in every case. */
static int accept_welcome(struct link *l, const struct proto_ipc_welcome *w, int fds[3], size_t nfds)
{
	int r = -EPROTO;
	if (nfds != PROTO_IPC_WELCOME_FDS || w->n_fds != PROTO_IPC_WELCOME_FDS) {
		set_errorf(l, "welcome: %zu descriptors (announced %" PRIu32 "), expected %u", nfds, w->n_fds,
			   PROTO_IPC_WELCOME_FDS);
		goto fail;
	}
	if (th_fd_kind(fds[0]) != TH_FD_MEMFD || th_fd_kind(fds[1]) != TH_FD_EVENTFD ||
	    th_fd_kind(fds[2]) != TH_FD_EVENTFD) {
		set_errorf(l, "welcome: descriptors are not a memfd and two eventfds");
		goto fail;
	}
	if (w->shm_size == 0 || w->shm_size > LINK_MAX_SHM_SIZE) {
		set_errorf(l, "welcome: shared memory size %" PRIu64 " out of range", w->shm_size);
		goto fail;
	}
	r = th_shm_map_received(fds[0], (size_t)w->shm_size, (size_t)w->shm_size, &l->shm);
	if (r < 0) {
		set_errorf(l, "welcome: shared memory refused (%s): %s",
			   r == -EPERM ? "seals missing" : r == -EMSGSIZE ? "size differs" : "cannot map",
			   th_strerror(r));
		r = -EPROTO;
		goto fail;
	}
	fds[0] = -1; /* owned by l->shm now */
	l->bell_c2d = fds[1];
	l->bell_d2c = fds[2];
	fds[1] = fds[2] = -1;

	struct th_ring_geom gc, gd;
	if ((r = link_check_ring(l, "client->daemon", w->c2d_offset, w->c2d_capacity, w->c2d_max_record, &gc)) < 0 ||
	    (r = link_check_ring(l, "daemon->client", w->d2c_offset, w->d2c_capacity, w->d2c_max_record, &gd)) < 0)
		goto fail;
	size_t sc = th_ring_region_size(&gc), sd = th_ring_region_size(&gd);
	if ((uint64_t)w->c2d_offset < (uint64_t)w->d2c_offset + sd && (uint64_t)w->d2c_offset < (uint64_t)w->c2d_offset + sc) {
		set_errorf(l, "welcome: the two rings overlap");
		r = -EPROTO;
		goto fail;
	}
	/* We must be able to send any message and to copy out any record. */
	if (gc.max_record < PROTO_IPC_MAX_MSG || gd.max_record > sizeof l->rec) {
		set_errorf(l, "welcome: record limits %" PRIu32 "/%" PRIu32 " do not fit the protocol (%zu)",
			   gc.max_record, gd.max_record, (size_t)PROTO_IPC_MAX_MSG);
		r = -EPROTO;
		goto fail;
	}
	uint8_t *base = l->shm.base;
	if ((r = th_ring_prod_init(&l->out, base + w->c2d_offset, sc, &gc, l->bell_c2d)) < 0 ||
	    (r = th_ring_cons_init(&l->in, base + w->d2c_offset, sd, &gd, l->bell_d2c)) < 0) {
		set_errorf(l, "welcome: cannot attach the rings: %s", th_strerror(r));
		r = -EPROTO;
		goto fail;
	}
	if ((r = link_voice_attach(l, w)) < 0)
		goto fail; /* l->error says why; the descriptors are l's now */
	return 0;
fail:
	th_fd_close_all(fds, 3);
	return r;
}

static void on_refuse(struct link *l, const struct proto_ipc_sock_hdr *h, const struct proto_ipc_refuse *m,
		      uint64_t now_ns)
{
	l->st.refusals++;
	switch (m->reason) {
	case PROTO_IPC_REFUSE_VERSION:
	case PROTO_IPC_REFUSE_PROTO_HASH:
		set_errorf(l,
			   "thetad (%s) refused this client: IPC protocol mismatch: theta-client speaks v%u hash "
			   "%016" PRIx64 ", thetad speaks v%u hash %016" PRIx64
			   "; install matching theta-client and thetad",
			   l->addr.sun_path, PROTO_IPC_VERSION, l->hello_hash, h->version, h->hash);
		l->fatal_err = m->reason == PROTO_IPC_REFUSE_VERSION ? -TH_EVERSION : -TH_EPROTOHASH;
		fatal(l);
		return;
	case PROTO_IPC_REFUSE_BAD_HELLO:
		set_errorf(l, "thetad (%s) rejected this client's hello: %s", l->addr.sun_path, m->detail);
		l->fatal_err = -EPROTO;
		fatal(l);
		return;
	case PROTO_IPC_REFUSE_NOT_MEMBER:
		/* The daemon's sentence says who may change that; retrying
		 * would only repeat it. */
		set_errorf(l, "thetad refused this client: %s", m->detail);
		l->fatal_err = -EACCES;
		fatal(l);
		return;
	case PROTO_IPC_REFUSE_NO_SESSION:
		set_errorf(l, "thetad refused this client: %s", m->detail);
		l->fatal_err = -ENOENT;
		fatal(l);
		return;
	default:
		/* Too many clients, an internal error: may pass; retry. */
		set_errorf(l, "thetad (%s) refused the connection (%s%s%s); retrying", l->addr.sun_path,
			   proto_ipc_refuse_str(m->reason), m->detail[0] ? ": " : "", m->detail);
		attempt_failed(l, now_ns);
		return;
	}
}

/* Reads the handshake answer. */
static void poll_hello(struct link *l, uint64_t now_ns)
{
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int fds[3] = { -1, -1, -1 };
	size_t nfds = 0;
	int n = th_fdpass_recv(l->sock, b, sizeof b, fds, 3, &nfds);
	if (n == -EAGAIN) {
		if (now_ns >= l->hello_deadline_ns) {
			l->last_err = -ETIMEDOUT;
			set_errorf(l, "thetad (%s) did not answer the hello in time", l->addr.sun_path);
			attempt_failed(l, now_ns);
		}
		return;
	}
	if (n <= 0) {
		l->last_err = n < 0 ? n : -ECONNRESET;
		set_errorf(l, "thetad (%s) closed the connection during the handshake%s%s", l->addr.sun_path,
			   n < 0 ? ": " : "", n < 0 ? th_strerror(n) : "");
		attempt_failed(l, now_ns);
		return;
	}
	struct proto_ipc_sock_hdr h;
	union proto_ipc_any m;
	const char *why = NULL;
	if (proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &h, &m, &why) < 0) {
		th_fd_close_all(fds, 3);
		l->st.violations++;
		set_errorf(l, "thetad (%s) sent a malformed handshake message: %s", l->addr.sun_path,
			   why ? why : "bad header");
		attempt_failed(l, now_ns);
		return;
	}
	if (h.type == PROTO_IPC_T_REFUSE) {
		th_fd_close_all(fds, 3);
		on_refuse(l, &h, &m.refuse, now_ns);
		return;
	}
	if (h.type != PROTO_IPC_T_WELCOME || proto_ipc_sock_check(&h) < 0) {
		th_fd_close_all(fds, 3);
		l->st.violations++;
		set_errorf(l,
			   "thetad (%s) answered the hello with message 0x%02x speaking v%u hash %016" PRIx64
			   " (we speak v%u hash %016" PRIx64 ")",
			   l->addr.sun_path, h.type, h.version, h.hash, PROTO_IPC_VERSION, proto_ipc_hash());
		attempt_failed(l, now_ns);
		return;
	}
	if (accept_welcome(l, &m.welcome, fds, nfds) < 0) {
		l->st.violations++;
		attempt_failed(l, now_ns); /* l->error says why */
		return;
	}
	bool reconnect = l->gen > 0;
	l->gen++;
	l->state = LINK_ACTIVE;
	l->st.connects++;
	if (reconnect)
		l->st.reconnects++;
	l->st.client_id = m.welcome.client_id;
	l->st.uid = m.welcome.uid;
	l->backoff_ns = l->cfg.backoff_min_ns;
	l->outage_reported = false;
	l->next_sock_check_ns = now_ns + LINK_SOCK_CHECK_NS;
	l->next_ping_ns = now_ns; /* a first RTT sample right away */
	set_errorf(l, "connected to thetad (%s) as client %" PRIu64 "%s", l->addr.sun_path, m.welcome.client_id,
		   reconnect ? " again" : "");
	link_io_connected(l, reconnect);
	report(l, LINK_EV_CONNECTED);
	if (link_io_pump(l, now_ns) < 0)
		return; /* lost already */
}

/* Active: the socket carries nothing after the welcome; reading it tells
 * us when the daemon is gone. */
static void check_socket(struct link *l, uint64_t now_ns)
{
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int fds[1] = { -1 };
	size_t nfds = 0;
	int n = th_fdpass_recv(l->sock, b, sizeof b, fds, 1, &nfds);
	if (n == -EAGAIN)
		return;
	if (n == 0) {
		link_lose(l, now_ns, false, "thetad (%s) hung up; reconnecting", l->addr.sun_path);
		return;
	}
	if (n < 0) {
		link_lose(l, now_ns, n == -EBADMSG || n == -EMSGSIZE, "the connection to thetad (%s) failed: %s; reconnecting",
			  l->addr.sun_path, th_strerror(n));
		return;
	}
	th_fd_close_all(fds, 1);
	struct proto_ipc_sock_hdr h;
	union proto_ipc_any m;
	if (proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &h, &m, NULL) == 0 &&
	    h.type == PROTO_IPC_T_REFUSE) {
		link_lose(l, now_ns, false, "thetad (%s) closed the link (%s: %s); reconnecting", l->addr.sun_path,
			  proto_ipc_refuse_str(m.refuse.reason), m.refuse.detail);
		return;
	}
	link_lose(l, now_ns, true, "thetad (%s) sent an unexpected datagram; reconnecting", l->addr.sun_path);
}

void link_poll(struct link *l, uint64_t now_ns)
{
	if (!l->started) {
		l->started = true;
		l->next_attempt_ns = now_ns;
	}
	switch (l->state) {
	case LINK_IDLE:
		if (now_ns >= l->next_attempt_ns)
			attempt(l, now_ns);
		if (l->state == LINK_HELLO_SENT)
			poll_hello(l, now_ns); /* the daemon may have answered already */
		break;
	case LINK_HELLO_SENT:
		poll_hello(l, now_ns);
		break;
	case LINK_ACTIVE:
		link_voice_poll(l, now_ns);
		if (l->state == LINK_ACTIVE && now_ns >= l->next_sock_check_ns) {
			l->next_sock_check_ns = now_ns + LINK_SOCK_CHECK_NS;
			check_socket(l, now_ns);
		}
		break;
	case LINK_FATAL:
		break;
	}
}

int link_wait_active(struct link *l, int timeout_ms, bool fail_fast)
{
	uint64_t end = th_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * TH_NS_PER_MS;
	for (;;) {
		uint64_t now = th_now_ns();
		uint64_t attempts = l->st.attempts;
		link_poll(l, now);
		switch (l->state) {
		case LINK_ACTIVE:
			return 0;
		case LINK_FATAL:
			return l->fatal_err;
		case LINK_IDLE:
			if (fail_fast && l->st.attempts > attempts)
				return l->last_err < 0 ? l->last_err : -ECONNREFUSED;
			break;
		case LINK_HELLO_SENT:
			break;
		}
		if (now >= end) /* never connected: why the last attempt failed (no daemon there) */
			return l->state == LINK_IDLE && l->last_err < 0 && l->last_err != -ETIMEDOUT ? l->last_err
												   : -ETIMEDOUT;
		if (l->state == LINK_HELLO_SENT) {
			struct pollfd p = { .fd = l->sock, .events = POLLIN };
			uint64_t left = (end - now) / TH_NS_PER_MS + 1;
			poll(&p, 1, left > 100 ? 100 : (int)left);
		} else {
			uint64_t wake = l->next_attempt_ns < end ? l->next_attempt_ns : end;
			if (wake > now)
				th_sleep_ns(wake - now);
		}
	}
}

/* ---- lifecycle and accessors ---------------------------------------------- */

int link_create(const struct link_config *cfg, struct link **out)
{
	if (!cfg || !cfg->runtime_dir || !*cfg->runtime_dir || cfg->mode > PROTO_IPC_MODE_MAX)
		return -EINVAL;
	if (cfg->session && strlen(cfg->session) > PROTO_IPC_MAX_NAME)
		return -ENAMETOOLONG;
	struct link *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->cmds = calloc(LINK_MAX_PENDING_CMDS, sizeof *l->cmds);
	if (!l->cmds) {
		free(l);
		return -ENOMEM;
	}
	l->base.ops = &link_ops;
	l->base.name = "link";
	l->base.user_data = l;
	l->cfg = *cfg;
	if (!l->cfg.backoff_min_ns)
		l->cfg.backoff_min_ns = LINK_BACKOFF_MIN_NS;
	if (!l->cfg.backoff_max_ns)
		l->cfg.backoff_max_ns = LINK_BACKOFF_MAX_NS;
	if (l->cfg.backoff_max_ns < l->cfg.backoff_min_ns)
		l->cfg.backoff_max_ns = l->cfg.backoff_min_ns;
	if (!l->cfg.ping_interval_ns)
		l->cfg.ping_interval_ns = LINK_PING_INTERVAL_NS;
	l->cfg.runtime_dir = NULL; /* not kept: the caller's string */
	snprintf(l->name, sizeof l->name, "%s", cfg->name ? cfg->name : "theta-client");
	snprintf(l->hello_session, sizeof l->hello_session, "%s", cfg->session ? cfg->session : "");
	l->cfg.session = NULL;
	snprintf(l->version, sizeof l->version, "%s", cfg->version ? cfg->version : THETA_VERSION);
	l->cfg.name = l->cfg.version = NULL;
	l->addr.sun_family = AF_UNIX;
	int n = snprintf(l->addr.sun_path, sizeof l->addr.sun_path, "%s/%s", cfg->runtime_dir, LINK_SOCKET_NAME);
	if (n < 0 || (size_t)n >= sizeof l->addr.sun_path) {
		free(l->cmds);
		free(l);
		return -ENAMETOOLONG;
	}
	l->sock = l->bell_c2d = l->bell_d2c = -1;
	l->shm = (struct th_shm){ .fd = -1 };
	pthread_mutex_init(&l->vlock, NULL);
	l->state = LINK_IDLE;
	l->backoff_ns = l->cfg.backoff_min_ns;
	l->next_seq = 1;
	/* Random per instance: (nonce, client_seq) names each command across
	 * reconnects and daemon restarts, and never repeats for a new client. */
	if (sodium_init() < 0) {
		pthread_mutex_destroy(&l->vlock);
		free(l->cmds);
		free(l);
		return -ENOSYS;
	}
	do
		randombytes_buf(&l->nonce, sizeof l->nonce);
	while (l->nonce == 0);
	*out = l;
	return 0;
}

void link_destroy(struct link **p)
{
	if (!p || !*p)
		return;
	struct link *l = *p;
	drop_connection(l);
	link_io_fini(l);
	pthread_mutex_destroy(&l->vlock);
	free(l->cmds);
	free(l);
	*p = NULL;
}

struct app_transport *link_transport(struct link *l) { return &l->base; }
enum link_state link_get_state(const struct link *l) { return l->state; }
const struct link_stats *link_get_stats(const struct link *l) { return &l->st; }
size_t link_pending_commands(const struct link *l) { return l->cmd_live; }
uint64_t link_next_seq(const struct link *l) { return l->next_seq; }
uint64_t link_next_pos(const struct link *l) { return l->next_pos; }
uint64_t link_session(const struct link *l) { return l->session; }
uint64_t link_nonce(const struct link *l) { return l->nonce; }
const char *link_socket_path(const struct link *l) { return l->addr.sun_path; }
const char *link_last_error(const struct link *l) { return l->error; }

const char *link_state_name(enum link_state s)
{
	switch (s) {
	case LINK_IDLE: return "idle";
	case LINK_HELLO_SENT: return "hello-sent";
	case LINK_ACTIVE: return "active";
	case LINK_FATAL: return "refused";
	}
	return "?";
}

int link_format_summary(const struct link *l, char *buf, size_t len)
{
	const struct link_stats *s = &l->st;
	return snprintf(buf, len,
			"%s, connects %" PRIu64 ", reconnects %" PRIu64 ", to daemon %" PRIu64 " records/%" PRIu64
			" bytes, from daemon %" PRIu64 " records/%" PRIu64 " bytes, drops %" PRIu64
			", commands %" PRIu64 " (acked %" PRIu64 ", rejected %" PRIu64 ", pending %" PRIu32
			"), violations %" PRIu64 ", log events %" PRIu64 " (next position %" PRIu64 ")",
			link_state_name(l->state), s->connects, s->reconnects, s->tx_records, s->tx_bytes, s->rx_records,
			s->rx_bytes, s->drops, s->cmds_submitted, s->acks, s->rejects, l->cmd_live, s->violations,
			s->log_events, l->next_pos);
}
