/* A browser peer as a client of the local IPC server (docs/web.md "A
 * browser is a client"): the records of proto/ipc_msgs.def travel on its
 * data channels instead of a memfd ring, so the sessions module (and
 * everything behind it: signing, roles, the log, the scene, poses) sees
 * one more client and serves it as it serves theta-client.
 *
 * Wire: one data channel message per record, binary: u16 type (LE), then
 * the message body as proto_ipc_encode writes it (no ring header).
 * Channel WEB_CHAN_MAIN ("theta", reliable, ordered) carries every record
 * but poses; WEB_CHAN_POSE ("theta-pose", unordered, no retransmission)
 * carries POSE_UPDATE both ways. The client attaches when WEB_CHAN_MAIN
 * opens; a record the IPC server refuses drops the browser (counted). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_CHAN_MAIN "theta"
#define WEB_CHAN_POSE "theta-pose"
#define WEB_REC_HDR 2u

struct ipc_server;
struct ipc_peer;
struct web_peer;
struct web_bridge;

/* who: the browser's identity as the IPC server's owner admits it (uid in
 * the browser range, session_id pinned). Nothing attaches until
 * WEB_CHAN_MAIN opens. */
int web_bridge_create(struct ipc_server *ipc, struct web_peer *peer, const struct ipc_peer *who,
		      struct web_bridge **out);
/* Detaches the IPC client (on_disconnect runs) and frees. */
void web_bridge_destroy(struct web_bridge **b);
void web_bridge_on_channel(struct web_bridge *b, unsigned chan, const char *label, bool unordered, int max_rtx,
			   uint64_t now_ns);
/* 0, or -EPROTO when the record was refused (the browser is to be dropped). */
int web_bridge_on_message(struct web_bridge *b, unsigned chan, bool binary, const uint8_t *p, size_t len,
			  uint64_t now_ns);
void web_bridge_on_writable(struct web_bridge *b);
/* The IPC client id once attached (0 before). */
uint64_t web_bridge_client_id(const struct web_bridge *b);
