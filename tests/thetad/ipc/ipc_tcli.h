/* The ipc server's test environment (test_server.c, test_server_voice.c):
 * a th_loop with a real ipc_server in this thread, and a test client that
 * speaks the protocol directly with th_fdpass and th_ring (main and voice
 * rings). Include after cmocka.h. */
#pragma once
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h" /* proto/ipc.h */
#include "ipc/server.h"
#include "th_fdpass.h"
#include "th_loop.h"
#include "th_ring.h"
#include "th_shm.h"
#include "th_time.h"

struct env {
	char dir[64];
	char path[128];
	struct th_loop *loop;
	struct ipc_server *srv;
};

struct tcli {
	int sock;
	struct th_shm shm;
	int bell_c2d, bell_d2c;
	struct th_ring_prod out;
	struct th_ring_cons in;
	struct th_ring_prod vout; /* voice, client -> daemon */
	struct th_ring_cons vin;  /* voice, daemon -> client */
	uint64_t id;
	uint32_t refuse_reason;
	char refuse_detail[PROTO_IPC_MAX_DETAIL + 1];
};

static inline void pump(struct env *e, int n)
{
	for (int i = 0; i < n; i++)
		th_loop_run_once(e->loop, 0);
}

static inline int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	strcpy(e->dir, "/tmp/theta-ipc-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof e->path, "%s/client.sock", e->dir);
	assert_int_equal(th_loop_create(&e->loop), 0);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, e->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 16), 0);
	struct ipc_config cfg = { .max_queue_msgs = 64, .ring_capacity = 256u * 1024u };
	assert_int_equal(ipc_server_create(e->loop, fd, &cfg, NULL, &e->srv), 0);
	*state = e;
	return 0;
}

static inline int env_teardown(void **state)
{
	struct env *e = *state;
	ipc_server_destroy(&e->srv);
	th_loop_destroy(&e->loop);
	unlink(e->path);
	rmdir(e->dir);
	free(e);
	return 0;
}

static inline int raw_connect(struct env *e)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, e->path);
	assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof sa), 0);
	return s;
}

/* Pumps the server until the client socket is readable (or 200 rounds). */
static inline bool pump_until_readable(struct env *e, int sock)
{
	for (int i = 0; i < 200; i++) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		if (poll(&p, 1, 0) > 0)
			return true;
		th_loop_run_once(e->loop, 5);
	}
	return false;
}

/* Connects and says hello; 0 with the rings attached, or the refusal. */
static inline int tcli_connect(struct env *e, struct tcli *c, uint64_t hash_xor)
{
	memset(c, 0, sizeof *c);
	c->sock = raw_connect(e);
	struct proto_ipc_hello h = { .pid = (uint32_t)getpid() };
	strcpy(h.name, "test-client");
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int n = proto_ipc_sock_encode(PROTO_IPC_T_HELLO, &h, b, sizeof b);
	assert_true(n > 0);
	if (hash_xor) {
		uint64_t v;
		memcpy(&v, b + 8, 8);
		v ^= hash_xor;
		memcpy(b + 8, &v, 8);
	}
	assert_int_equal(th_fdpass_send(c->sock, b, (size_t)n, NULL, 0), 0);
	assert_true(pump_until_readable(e, c->sock));
	int fds[3];
	size_t nfds = 0;
	n = th_fdpass_recv(c->sock, b, sizeof b, fds, 3, &nfds);
	assert_true(n > 0);
	struct proto_ipc_sock_hdr hdr;
	union proto_ipc_any m;
	assert_int_equal(proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &hdr, &m, NULL), 0);
	if (hdr.type == PROTO_IPC_T_REFUSE) {
		assert_int_equal(nfds, 0);
		c->refuse_reason = m.refuse.reason;
		strcpy(c->refuse_detail, m.refuse.detail);
		return -EPROTO;
	}
	assert_int_equal(hdr.type, PROTO_IPC_T_WELCOME);
	assert_int_equal(proto_ipc_sock_check(&hdr), 0);
	assert_int_equal(nfds, 3);
	assert_int_equal(th_fd_kind(fds[0]), TH_FD_MEMFD);
	assert_int_equal(th_fd_kind(fds[1]), TH_FD_EVENTFD);
	assert_int_equal(th_fd_kind(fds[2]), TH_FD_EVENTFD);
	const struct proto_ipc_welcome *w = &m.welcome;
	assert_int_equal(w->uid, getuid());
	assert_int_equal(th_shm_map_received(fds[0], w->shm_size, w->shm_size, &c->shm), 0);
	c->bell_c2d = fds[1];
	c->bell_d2c = fds[2];
	c->id = w->client_id;
	uint8_t *base = c->shm.base;
	struct th_ring_geom g1, g2;
	assert_int_equal(th_ring_read_geom(base + w->c2d_offset, c->shm.size - w->c2d_offset, &g1), 0);
	assert_int_equal(th_ring_read_geom(base + w->d2c_offset, c->shm.size - w->d2c_offset, &g2), 0);
	assert_int_equal(g1.capacity, w->c2d_capacity);
	assert_int_equal(th_ring_prod_init(&c->out, base + w->c2d_offset, th_ring_region_size(&g1), &g1, c->bell_c2d), 0);
	assert_int_equal(th_ring_cons_init(&c->in, base + w->d2c_offset, th_ring_region_size(&g2), &g2, c->bell_d2c), 0);
	/* The voice rings: ours rings the same doorbell; the daemon's has none. */
	struct th_ring_geom gv1, gv2;
	assert_int_equal(th_ring_read_geom(base + w->vc2d_offset, c->shm.size - w->vc2d_offset, &gv1), 0);
	assert_int_equal(th_ring_read_geom(base + w->vd2c_offset, c->shm.size - w->vd2c_offset, &gv2), 0);
	assert_int_equal(gv1.capacity, PROTO_IPC_VOICE_RING_CAPACITY);
	assert_int_equal(gv2.capacity, w->vd2c_capacity);
	assert_int_equal(gv1.max_record, w->vc2d_max_record);
	assert_int_equal(th_ring_prod_init(&c->vout, base + w->vc2d_offset, th_ring_region_size(&gv1), &gv1, c->bell_c2d),
			 0);
	assert_int_equal(th_ring_cons_init(&c->vin, base + w->vd2c_offset, th_ring_region_size(&gv2), &gv2, -1), 0);
	return 0;
}

static inline void tcli_close(struct tcli *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	th_shm_close(&c->shm);
	if (c->bell_c2d > 0)
		close(c->bell_c2d);
	if (c->bell_d2c > 0)
		close(c->bell_d2c);
	c->bell_c2d = c->bell_d2c = -1;
}

static inline void tcli_ping(struct tcli *c, uint64_t seq)
{
	struct proto_ipc_ping p = { .seq = seq, .send_ns = th_now_ns() };
	uint8_t b[64];
	int n = proto_ipc_encode_ping(&p, b, sizeof b);
	assert_int_equal(th_ring_push(&c->out, PROTO_IPC_T_PING, b, (uint32_t)n), 0);
}

/* Pumps until one record arrives from the daemon. */
static inline int tcli_recv(struct env *e, struct tcli *c, struct th_ring_rec *rec, uint8_t *buf)
{
	for (int i = 0; i < 500; i++) {
		int r = th_ring_pop(&c->in, rec, buf, PROTO_IPC_MAX_MSG);
		if (r != 0)
			return r;
		th_loop_run_once(e->loop, 1);
	}
	return 0;
}

static uint8_t rbuf[PROTO_IPC_MAX_MSG];

static inline void expect_pong(struct env *e, struct tcli *c, uint64_t seq)
{
	struct th_ring_rec rec;
	assert_int_equal(tcli_recv(e, c, &rec, rbuf), 1);
	assert_int_equal(rec.type, PROTO_IPC_T_PONG);
	struct proto_ipc_pong p;
	assert_int_equal(proto_ipc_decode_pong(rbuf, rec.len, &p, NULL), 0);
	assert_int_equal(p.seq, seq);
}

