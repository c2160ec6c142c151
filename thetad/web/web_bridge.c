/* A browser peer as a remote client of the IPC server (web_bridge.h,
 * docs/web.md "A browser is a client"). The bridge only moves records:
 * what the browser sends on its channels goes to ipc_server_remote_input
 * as it came (u16 type LE + body: the remote client's record format), and
 * what the server sends goes out on "theta-pose" for POSE_UPDATE, on
 * "theta" otherwise. Validation, roles and everything else are the IPC
 * server's and the sessions module's.
 *
 * web_peer allows web_peer_close from inside its callbacks (it closes when
 * its outermost call returns), so the bridge closes the peer wherever the
 * server lets go of the client. */
#include "web/web_bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "ipc/server.h"
#include "th_log.h"
#include "web/web_peer.h"

/* Bytes the peer may hold unacknowledged before the bridge says -EAGAIN:
 * the IPC server then keeps reliable records in its own queue (bounded
 * there) and drops ephemeral ones. */
#define WEB_BRIDGE_BUFFER_MAX (1024u * 1024u)
#define WEB_BRIDGE_NO_CHAN (~0u)
#define WEB_BRIDGE_USER_MAX 64u

struct web_bridge {
	struct ipc_server *ipc;
	struct web_peer *peer;
	struct ipc_peer who;
	uint8_t session_id[16];
	char user[WEB_BRIDGE_USER_MAX];
	uint64_t client_id;
	unsigned main_chan, pose_chan;
	bool gone; /* the server let go (ops->closed) or attach failed */
};

static uint16_t rec_type(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static int bridge_send(void *user, const uint8_t *rec, size_t len, bool reliable)
{
	struct web_bridge *b = user;
	(void)reliable;
	if (len < WEB_REC_HDR)
		return -EINVAL;
	bool pose = rec_type(rec) == PROTO_IPC_T_POSE_UPDATE;
	unsigned chan = pose ? b->pose_chan : b->main_chan;
	if (chan == WEB_BRIDGE_NO_CHAN)
		return -EAGAIN; /* a pose before "theta-pose" opened: dropped and counted by the server */
	if (!pose && web_peer_buffered(b->peer) + len > WEB_BRIDGE_BUFFER_MAX)
		return -EAGAIN;
	int r = web_peer_send(b->peer, chan, true, rec, len);
	if (r == -EAGAIN || r == -ENOTCONN || r == -ENOENT)
		return -EAGAIN;
	return r;
}

static uint32_t bridge_room(void *user)
{
	struct web_bridge *b = user;
	size_t used = web_peer_buffered(b->peer);
	if (b->main_chan == WEB_BRIDGE_NO_CHAN || web_peer_state(b->peer) != WEB_PEER_OPEN ||
	    used >= WEB_BRIDGE_BUFFER_MAX)
		return 0;
	return (uint32_t)(WEB_BRIDGE_BUFFER_MAX - used);
}

static void bridge_closed(void *user, uint32_t reason, const char *detail)
{
	struct web_bridge *b = user;
	char why[200];
	b->gone = true;
	b->client_id = 0;
	snprintf(why, sizeof why, "%s", detail && *detail ? detail : "the daemon closed this browser's client");
	th_info("browser %s: the IPC server let go of it (reason %u): %s", b->user, (unsigned)reason, why);
	web_peer_close(b->peer, why);
}

static const struct ipc_remote_ops bridge_ops = {
	.send = bridge_send,
	.room = bridge_room,
	.closed = bridge_closed,
};

int web_bridge_create(struct ipc_server *ipc, struct web_peer *peer, const struct ipc_peer *who,
		      struct web_bridge **out)
{
	if (!ipc || !peer || !who || !who->session_id)
		return -EINVAL;
	struct web_bridge *b = calloc(1, sizeof *b);
	if (!b)
		return -ENOMEM;
	b->ipc = ipc;
	b->peer = peer;
	b->who = *who;
	b->who.groups = NULL;
	b->who.n_groups = 0;
	memcpy(b->session_id, who->session_id, sizeof b->session_id);
	snprintf(b->user, sizeof b->user, "%s", who->user ? who->user : "browser");
	b->who.session_id = b->session_id;
	b->who.user = b->user;
	b->who.kind = "browser";
	b->main_chan = b->pose_chan = WEB_BRIDGE_NO_CHAN;
	*out = b;
	return 0;
}

void web_bridge_destroy(struct web_bridge **bp)
{
	struct web_bridge *b = *bp;
	if (!b)
		return;
	if (b->client_id && !b->gone)
		ipc_server_detach(b->ipc, b->client_id);
	free(b);
	*bp = NULL;
}

static void bridge_attach(struct web_bridge *b)
{
	uint32_t reason = 0;
	char why[200] = "";
	uint64_t id = 0;
	int r = ipc_server_attach(b->ipc, &b->who, &bridge_ops, b, &id, &reason, why, sizeof why);
	if (r < 0) {
		b->gone = true;
		if (r != -EPERM || !why[0])
			snprintf(why, sizeof why, "%s",
				 r == -EMFILE ? "The daemon serves as many clients as it takes (ipc.max_clients); try again later."
					      : "The daemon could not take this browser as a client.");
		th_info("browser %s: not attached: %s", b->user, why);
		web_peer_close(b->peer, why);
		return;
	}
	b->client_id = id;
}

void web_bridge_on_channel(struct web_bridge *b, unsigned chan, const char *label, bool unordered, int max_rtx,
			   uint64_t now_ns)
{
	(void)now_ns;
	if (b->gone)
		return;
	if (!strcmp(label, WEB_CHAN_MAIN)) {
		if (b->main_chan != WEB_BRIDGE_NO_CHAN || unordered || max_rtx >= 0) {
			web_peer_close(b->peer, b->main_chan != WEB_BRIDGE_NO_CHAN
							? "The page opened a second \"theta\" channel."
							: "The \"theta\" channel must be reliable and ordered.");
			return;
		}
		b->main_chan = chan;
		bridge_attach(b);
	} else if (!strcmp(label, WEB_CHAN_POSE)) {
		if (b->pose_chan != WEB_BRIDGE_NO_CHAN) {
			web_peer_close(b->peer, "The page opened a second \"theta-pose\" channel.");
			return;
		}
		b->pose_chan = chan;
	}
	/* Other labels stay open and unused; a message on one is refused. */
}

int web_bridge_on_message(struct web_bridge *b, unsigned chan, bool binary, const uint8_t *p, size_t len,
			  uint64_t now_ns)
{
	if (b->gone)
		return -EPROTO;
	if (!b->client_id || (chan != b->main_chan && chan != b->pose_chan) || !binary || len < WEB_REC_HDR)
		return -EPROTO;
	if (chan == b->pose_chan && rec_type(p) != PROTO_IPC_T_POSE_UPDATE)
		return -EPROTO;
	int r = ipc_server_remote_input(b->ipc, b->client_id, p, len, now_ns);
	return r == -EPROTO || r == -ENOENT ? -EPROTO : 0;
}

void web_bridge_on_writable(struct web_bridge *b)
{
	if (b->client_id && !b->gone)
		ipc_server_remote_writable(b->ipc, b->client_id);
}

uint64_t web_bridge_client_id(const struct web_bridge *b)
{
	return b && !b->gone ? b->client_id : 0;
}
