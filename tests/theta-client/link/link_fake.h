/* A fake, hostile thetad for the link's tests (test_link.c,
 * test_link_voice.c): a listening client.sock, a welcome built the way
 * thetad builds one (main and voice rings in one sealed memfd), and the
 * fake's ends of the four rings, so a test can send well-formed or broken
 * records. Include after cmocka.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"
#include "link/link.h"
#include "th_fdpass.h"
#include "th_ring.h"
#include "th_shm.h"

struct fake {
	char dir[64];
	char path[128];
	int lfd, conn;
	struct th_shm shm;
	int bells[2];
	uint32_t off2;
	struct th_ring_geom g;
	struct th_ring_prod out; /* daemon -> client */
	struct th_ring_cons in;  /* client -> daemon */
	uint32_t voff1, voff2;   /* the voice rings, as thetad places them */
	struct th_ring_geom gv;
	struct th_ring_cons vin;  /* client -> daemon voice */
	struct th_ring_prod vout; /* daemon -> client voice */
};

static inline void fake_start(struct fake *f)
{
	memset(f, 0, sizeof *f);
	f->conn = f->bells[0] = f->bells[1] = -1;
	f->shm.fd = -1;
	strcpy(f->dir, "/tmp/theta-link-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/client.sock", f->dir);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
}

static inline void fake_drop_conn(struct fake *f)
{
	if (f->conn >= 0)
		close(f->conn);
	f->conn = -1;
	th_shm_close(&f->shm);
	th_fd_close_all(f->bells, 2);
}

static inline void fake_stop(struct fake *f)
{
	fake_drop_conn(f);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}

/* Lets the link connect and reads its hello. */
static inline void fake_accept(struct fake *f, struct link *l, uint64_t now)
{
	link_poll(l, now);
	assert_int_equal(link_get_state(l), LINK_HELLO_SENT);
	f->conn = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->conn >= 0);
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	size_t n = 0;
	int r = th_fdpass_recv(f->conn, b, sizeof b, NULL, 0, &n);
	assert_true(r > 0);
	struct proto_ipc_sock_hdr h;
	union proto_ipc_any m;
	assert_int_equal(proto_ipc_sock_decode(b, (size_t)r, PROTO_IPC_CHAN_SOCK_C2D, &h, &m, NULL), 0);
	assert_int_equal(h.type, PROTO_IPC_T_HELLO);
	assert_int_equal(proto_ipc_sock_check(&h), 0);
	assert_int_equal(m.hello.pid, getpid());
}

/* A well-formed welcome the way thetad builds one: the main ring pair, then
 * the voice ring pair, each ring on its own pages of one memfd. */
static inline void fake_welcome(struct fake *f, struct proto_ipc_welcome *w, int fds[3])
{
	f->g = (struct th_ring_geom){ .capacity = 256 * 1024, .max_record = PROTO_IPC_MAX_MSG };
	f->gv = (struct th_ring_geom){ .capacity = PROTO_IPC_VOICE_RING_CAPACITY,
				       .max_record = PROTO_IPC_VOICE_MAX_RECORD };
	size_t region = th_ring_region_size(&f->g), vregion = th_ring_region_size(&f->gv);
	f->off2 = (uint32_t)((region + 4095) & ~(size_t)4095);
	f->voff1 = 2 * f->off2;
	f->voff2 = f->voff1 + (uint32_t)((vregion + 4095) & ~(size_t)4095);
	assert_int_equal(th_shm_create("fake-ipc", f->voff2 + vregion, &f->shm), 0);
	uint8_t *b = f->shm.base;
	assert_int_equal(th_ring_format(b, region, &f->g), 0);
	assert_int_equal(th_ring_format(b + f->off2, region, &f->g), 0);
	assert_int_equal(th_ring_format(b + f->voff1, vregion, &f->gv), 0);
	assert_int_equal(th_ring_format(b + f->voff2, vregion, &f->gv), 0);
	f->bells[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->bells[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(th_ring_cons_init(&f->in, b, region, &f->g, f->bells[0]), 0);
	assert_int_equal(th_ring_prod_init(&f->out, b + f->off2, region, &f->g, f->bells[1]), 0);
	assert_int_equal(th_ring_cons_init(&f->vin, b + f->voff1, vregion, &f->gv, f->bells[0]), 0);
	assert_int_equal(th_ring_prod_init(&f->vout, b + f->voff2, vregion, &f->gv, -1), 0);
	*w = (struct proto_ipc_welcome){ .client_id = 42, .uid = getuid(), .shm_size = f->shm.size,
					 .c2d_offset = 0, .c2d_capacity = f->g.capacity,
					 .c2d_max_record = f->g.max_record, .d2c_offset = f->off2,
					 .d2c_capacity = f->g.capacity, .d2c_max_record = f->g.max_record,
					 .n_fds = 3,
					 .vc2d_offset = f->voff1, .vc2d_capacity = f->gv.capacity,
					 .vc2d_max_record = f->gv.max_record, .vd2c_offset = f->voff2,
					 .vd2c_capacity = f->gv.capacity, .vd2c_max_record = f->gv.max_record };
	fds[0] = f->shm.fd;
	fds[1] = f->bells[0];
	fds[2] = f->bells[1];
}

static inline void fake_send(struct fake *f, uint16_t type, const void *msg, const int *fds, size_t nfds)
{
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int n = proto_ipc_sock_encode(type, msg, b, sizeof b);
	assert_true(n > 0);
	assert_int_equal(th_fdpass_send(f->conn, b, (size_t)n, fds, nfds), 0);
}

/* The next record the fake daemon finds in the ring from the link, decoded
 * (it must be well formed): false when the ring is empty. */
static inline bool fake_next(struct fake *f, uint16_t *type, union proto_ipc_any *m)
{
	uint8_t rec[PROTO_IPC_MAX_MSG];
	struct th_ring_rec rr;
	if (th_ring_pop(&f->in, &rr, rec, sizeof rec) != 1)
		return false;
	assert_int_equal(proto_ipc_decode(rr.type, rec, rr.len, m, NULL), 0);
	*type = rr.type;
	return true;
}

/* The link connected to the fake at now: its hello accepted, a
 * well-formed welcome sent, and the link active after one poll. */
static inline void fake_connect(struct fake *f, struct link *l, uint64_t now)
{
	fake_accept(f, l, now);
	struct proto_ipc_welcome w;
	int fds[3];
	fake_welcome(f, &w, fds);
	fake_send(f, PROTO_IPC_T_WELCOME, &w, fds, 3);
	link_poll(l, now);
	assert_int_equal(link_get_state(l), LINK_ACTIVE);
}

