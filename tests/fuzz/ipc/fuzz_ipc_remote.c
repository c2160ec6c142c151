/* libFuzzer target: the IPC server's remote clients (a browser's records,
 * docs/ipc.md "Remote clients") against a hostile page.
 *
 * Input: a program run against one ipc_server with one remote client
 * attached through a stand-in transport:
 *   0 len:u16 bytes[len]  one record from the client (ipc_server_remote_input)
 *   1                     the transport fills up / drains (toggles -EAGAIN)
 *   2                     the transport has room again (remote_writable)
 *   3                     a daemon tick
 *   4 k:u8                the daemon sends the client one of a few messages
 *   5                     the transport goes (detach) and a new client attaches
 * The owner answers every CMD_SUBMIT with a CMD_ACK at once and closes the
 * client on a SCENE_STATE of 0xdead entities (a deny from inside a callback).
 * Invariants checked: every record the transport is given is a whole
 * daemon->client record that decodes; a refused record drops the client
 * with closed() called exactly once and nothing after it; the server ends
 * with no client. */
#include "ipc.h" /* proto/ipc.h */
#include "ipc/server.h"
#include "th_loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct tp {
	bool full, closed, gone;
	uint64_t id;
};

static struct th_loop *loop;
static struct ipc_server *srv;
static struct tp tp;

static int tp_send(void *user, const uint8_t *rec, size_t len, bool reliable)
{
	struct tp *t = user;
	if (t->closed || t->gone || len < 2)
		abort(); /* nothing after closed/detach; never a record without its type */
	uint16_t type = (uint16_t)(rec[0] | rec[1] << 8);
	union proto_ipc_any m;
	if (proto_ipc_check_chan(type, PROTO_IPC_CHAN_D2C) < 0 || proto_ipc_decode(type, rec + 2, len - 2, &m, NULL) < 0)
		abort();
	const struct proto_ipc_desc *d = proto_ipc_desc(type);
	if (reliable != (d->cls == PROTO_IPC_RELIABLE))
		abort();
	return t->full ? -EAGAIN : 0;
}

static uint32_t tp_room(void *user)
{
	return ((struct tp *)user)->full ? 0 : 4096;
}

static void tp_closed(void *user, uint32_t reason, const char *detail)
{
	struct tp *t = user;
	if (t->closed || t->gone || !detail)
		abort();
	t->closed = true;
}

static const struct ipc_remote_ops ops = { .send = tp_send, .room = tp_room, .closed = tp_closed };

static void own_submit(void *user, uint64_t id, uid_t uid, const struct proto_ipc_cmd_submit *m, uint64_t now)
{
	struct proto_ipc_cmd_ack ack = { .client_seq = m->client_seq, .lamport = 1 };
	ipc_server_send(srv, id, PROTO_IPC_T_CMD_ACK, &ack);
}

static void own_info(void *user, uint64_t id, const struct proto_ipc_scene_state *m)
{
	if (m->entities == 0xdead)
		ipc_server_close(srv, id, PROTO_IPC_REFUSE_NOT_MEMBER, "closed from inside a callback");
}

static const struct ipc_callbacks cb = { .on_submit = own_submit, .on_scene_state = own_info };

static void attach(void)
{
	static const uint8_t sid[16] = { 1 };
	struct ipc_peer p = { .uid = 0xC0000001u, .user = "fuzz", .session_id = sid, .kind = "browser" };
	uint32_t reason;
	char why[64];
	memset(&tp, 0, sizeof tp);
	if (ipc_server_attach(srv, &p, &ops, &tp, &tp.id, &reason, why, sizeof why) < 0)
		abort();
}

static bool live(void)
{
	return !tp.closed && !tp.gone;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!srv) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); /* stands in for client.sock: never readable */
		struct ipc_config cfg = { .max_queue_msgs = 16 };
		if (th_loop_create(&loop) < 0 || ipc_server_create(loop, fd, &cfg, NULL, &srv) < 0)
			abort();
		ipc_server_set_callbacks(srv, &cb, NULL);
	}
	attach();
	static uint8_t rec[2 + PROTO_IPC_MAX_MSG + 16];
	size_t i = 0;
	while (i < n) {
		uint8_t op = d[i++] % 6;
		switch (op) {
		case 0: {
			if (i + 2 > n)
				goto out;
			size_t len = (size_t)(d[i] | d[i + 1] << 8) % sizeof rec;
			i += 2;
			if (len > n - i)
				len = n - i;
			memcpy(rec, d + i, len);
			i += len;
			if (!live())
				break;
			int r = ipc_server_remote_input(srv, tp.id, rec, len, 1000);
			if (r == -EPROTO && !tp.closed)
				abort(); /* dropped without telling the transport */
			if (r == 0 && !live() && ipc_server_nclients(srv) != 0)
				abort();
			break;
		}
		case 1:
			tp.full = !tp.full;
			break;
		case 2:
			if (live())
				ipc_server_remote_writable(srv, tp.id);
			break;
		case 3:
			ipc_server_tick(srv, 1000);
			break;
		case 4: {
			if (i >= n)
				goto out;
			uint8_t k = d[i++] % 3;
			struct proto_ipc_pong pong = { .seq = k };
			struct proto_ipc_pose_update pu = { .entity = 7, .qw = 1.0f };
			struct proto_ipc_cmd_reject rej = { .client_seq = 1, .reason = PROTO_IPC_REJECT_DENIED };
			int r = k == 0 ? ipc_server_send(srv, tp.id, PROTO_IPC_T_PONG, &pong)
			      : k == 1 ? ipc_server_send_held(srv, tp.id, PROTO_IPC_T_POSE_UPDATE, &pu)
				       : ipc_server_send(srv, tp.id, PROTO_IPC_T_CMD_REJECT, &rej);
			if (live() ? r < 0 : r != -ENOENT)
				abort();
			ipc_server_flush(srv);
			break;
		}
		case 5:
			if (live()) {
				tp.gone = true;
				ipc_server_detach(srv, tp.id);
			}
			if (ipc_server_nclients(srv) != 0)
				abort();
			attach();
			break;
		}
	}
out:
	if (live()) {
		tp.gone = true;
		ipc_server_detach(srv, tp.id);
	}
	if (ipc_server_nclients(srv) != 0)
		abort();
	return 0;
}
