/* thetad's side of the local IPC (docs/ipc.md): the client.sock listener,
 * the hello/welcome handshake (user from SO_PEERCRED), one sealed memfd with
 * a ring pair and two doorbells per client, validation of everything the
 * client writes, backpressure on the daemon->client ring, and hang-up
 * handling. A client that breaks the protocol in any way is dropped and
 * counted (ipc_protocol_violations); the daemon and the other clients carry
 * on. Runs on the daemon's loop thread. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct th_loop;
struct srv_metrics;
struct json_object;
struct ipc_server;
struct proto_ipc_cmd_submit;
struct proto_ipc_pose_update;
struct proto_ipc_presence;
struct proto_ipc_resync_request;
struct proto_ipc_scene_state;
struct proto_ipc_voice_pcm;
struct proto_ipc_voice_state;
struct proto_ipc_voice_out;

#define IPC_MAX_CLIENTS_DEFAULT   64u
#define IPC_RING_CAPACITY_DEFAULT (256u * 1024u)
/* Reliable daemon->client messages waiting for ring space, per client;
 * past it the queue is discarded and the client told to resync. */
#define IPC_MAX_QUEUE_MSGS_DEFAULT 1024u
#define IPC_MAX_QUEUE_BYTES       (8u * 1024u * 1024u)
/* Records handled per client per loop iteration (fairness). */
#define IPC_BATCH_RECORDS         1024u
/* Supplementary groups of a client kept from SO_PEERGROUPS (more are not
 * looked at). */
#define IPC_MAX_PEER_GROUPS       64u
/* Voice records handled per client per wake-up (the rest on the next). */
#define IPC_VOICE_BATCH_RECORDS   64u
/* A client must say hello this soon after connecting. */
#define IPC_HELLO_TIMEOUT_NS      (5ull * 1000 * 1000 * 1000)

struct ipc_config {
	unsigned max_clients;         /* 0: IPC_MAX_CLIENTS_DEFAULT */
	uint32_t ring_capacity;       /* per direction; 0: IPC_RING_CAPACITY_DEFAULT */
	unsigned max_queue_msgs;      /* 0: IPC_MAX_QUEUE_MSGS_DEFAULT */
};

/* Takes ownership of listen_fd (a listening SOCK_SEQPACKET socket). metrics
 * may be NULL (tests). */
int ipc_server_create(struct th_loop *loop, int listen_fd, const struct ipc_config *cfg,
		      struct srv_metrics *metrics, struct ipc_server **out);
void ipc_server_destroy(struct ipc_server **p);
/* Retries queued sends, expires silent handshakes. */
void ipc_server_tick(struct ipc_server *s, uint64_t now_ns);
unsigned ipc_server_nclients(const struct ipc_server *s);

/* Sends one message (a daemon->client ring type) to a client. Ephemeral
 * messages are dropped (counted) when the ring is full; reliable ones queue
 * up to the bound, past which the client is resynced. 0, -ENOENT (no such
 * client), -EINVAL (not a daemon->client message, or invalid). */
int ipc_server_send(struct ipc_server *s, uint64_t client_id, uint16_t type, const void *msg);

/* As ipc_server_send, but the message is published (made visible to the
 * client, its doorbell rung if it sleeps) only by the next
 * ipc_server_flush, ipc_server_send or tick: a batch of messages to many
 * clients then costs one doorbell per client, not one per message. */
int ipc_server_send_held(struct ipc_server *s, uint64_t client_id, uint16_t type, const void *msg);
/* Publishes what every client was sent and held. */
void ipc_server_flush(struct ipc_server *s);

/* Payload bytes one record to the client could carry right now without
 * queueing (0 while reliable messages wait in its queue, or when there is
 * no such client): senders that can wait (replay from the log) send only
 * what fits, so the ring's backpressure holds them back. */
uint32_t ipc_server_room(struct ipc_server *s, uint64_t client_id);

/* Closes a connected client as a refusal: REFUSE(reason, detail) on its
 * socket, then the hang-up (on_disconnect is called). 0 or -ENOENT. */
int ipc_server_close(struct ipc_server *s, uint64_t client_id, uint32_t reason, const char *detail);

/* Connected clients as a JSON array; when only_uid != (uid_t)-1 only that
 * user's clients are listed. */
struct json_object *ipc_server_clients_json(const struct ipc_server *s, uid_t only_uid, uint64_t now_ns);

/* Who a client is, from the kernel (SO_PEERCRED, SO_PEERGROUPS), never
 * from what it says. */
struct ipc_peer {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	unsigned n_groups;
	const char *user; /* the uid's name, or the uid in decimal */
	/* Remote clients (ipc_server_attach) only; NULL for client.sock ones.
	 * session_id: the 16-byte id of the session the client is pinned to
	 * (it does not follow the daemon's current session); kind: what
	 * `thetactl clients` shows as its transport ("browser"). */
	const uint8_t *session_id;
	const char *kind;
	/* client.sock clients: the session the hello asked for (a name, an id
	 * or an id prefix), NULL when it asked for none. */
	const char *session_want;
};

/* What the owner of the server (the sessions module) hears. All optional. */
struct ipc_callbacks {
	/* A client said a valid hello. Returning a negative errno refuses it:
	 * *reason (a PROTO_IPC_REFUSE_* code) and why[why_len] (one sentence)
	 * go back in REFUSE. Without this callback every client is admitted. */
	int (*admit)(void *user, uint64_t client_id, const struct ipc_peer *peer, uint32_t *reason, char *why,
		     size_t why_len);
	/* A client finished its handshake. */
	void (*on_connect)(void *user, uint64_t client_id, const struct ipc_peer *peer);
	/* A connected client is gone (hang-up, violation, shutdown). */
	void (*on_disconnect)(void *user, uint64_t client_id);
	/* A validated command submit. The owner answers with CMD_ACK or
	 * CMD_REJECT through ipc_server_send, now or later. Without this
	 * callback submits are refused with REJECT_NO_SESSION. */
	void (*on_submit)(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_cmd_submit *m,
			  uint64_t now_ns);
	/* A validated RESYNC_REQUEST from a client: it wants the session's
	 * events from m->next_pos. */
	void (*on_resync)(void *user, uint64_t client_id, const struct proto_ipc_resync_request *m, uint64_t now_ns);
	/* A validated POSE_UPDATE from a client (ephemeral; the latest is
	 * also kept per client as before). */
	void (*on_pose)(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_pose_update *m,
			uint64_t now_ns);
	/* A validated PRESENCE from a client: its cursor, drag preview
	 * (ephemeral, as a pose). */
	void (*on_presence)(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_presence *m,
			    uint64_t now_ns);
	/* A validated SCENE_STATE: the client's scene mirror reports its
	 * position, world hash and entity count. */
	void (*on_scene_state)(void *user, uint64_t client_id, const struct proto_ipc_scene_state *m);
	/* Adds the owner's fields to a client's row of ipc_server_clients_json
	 * (`thetactl clients`). */
	void (*describe)(void *user, uint64_t client_id, struct json_object *row);
};
void ipc_server_set_callbacks(struct ipc_server *s, const struct ipc_callbacks *cb, void *user);

/* The voice rings (docs/ipc.md "Voice rings"): each client's memfd holds a
 * second ring pair, PROTO_IPC_VOICE_RING_CAPACITY bytes each way. The
 * client's VOICE_PCM chunks arrive on its voice ring (drained with the main
 * ring on the same doorbell); VOICE_STATE on its main ring. What the voice
 * module hears, on the loop thread. All optional. */
struct ipc_voice_callbacks {
	/* A validated VOICE_PCM: m->pcm is exactly PROTO_IPC_VOICE_PCM_BYTES
	 * of s16 little-endian mono, valid during the call (a client that
	 * sends another size is dropped as a violation). */
	void (*on_voice_pcm)(void *user, uint64_t client_id, const struct proto_ipc_voice_pcm *m, uint64_t now_ns);
	/* A validated VOICE_STATE (flags PROTO_IPC_VOICE_F_*). */
	void (*on_voice_state)(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_voice_state *m,
			       uint64_t now_ns);
	/* A connected client is gone (after ipc_callbacks.on_disconnect). */
	void (*on_disconnect)(void *user, uint64_t client_id);
};
void ipc_server_set_voice(struct ipc_server *s, const struct ipc_voice_callbacks *cb, void *user);
/* Puts one chunk for the client's speakers onto its voice ring and
 * publishes it (no doorbell: the client polls that ring from its playback
 * thread). m->pcm must be exactly PROTO_IPC_VOICE_OUT_BYTES. When the ring
 * is full the chunk is dropped and counted (ipc_voice_drops). 0, -ENOENT
 * (no such client), -EINVAL (a malformed chunk), -ENOBUFS (dropped). */
int ipc_server_send_voice(struct ipc_server *s, uint64_t client_id, const struct proto_ipc_voice_out *m);
/* The client's latest VOICE_STATE flags: 0 with *flags set, -ENODATA
 * (none on this connection yet), -ENOENT (no such client). */
int ipc_server_voice_state(const struct ipc_server *s, uint64_t client_id, uint32_t *flags);

struct ipc_totals {
	uint64_t connections, refused, violations, ephemeral_drops, resyncs;
	uint64_t voice_in, voice_out, voice_drops; /* VOICE_PCM taken, VOICE_OUT sent, dropped */
};
void ipc_server_totals(const struct ipc_server *s, struct ipc_totals *out);

/* Remote clients (docs/ipc.md "Remote clients"): a client whose records
 * travel on another transport (a browser's data channel, thetad/web/)
 * instead of a memfd ring. Each record is u16 type (LE) + the body as
 * proto_ipc_encode writes it. The server treats it like any client: the
 * same admit/on_connect/on_submit/... callbacks, the same validation (a
 * violation drops it and counts ipc_protocol_violations), the same
 * reliable queue bound; `thetactl clients` lists it with its kind. */
struct ipc_remote_ops {
	/* One record to the client. reliable: the message's class. Returns 0,
	 * or -EAGAIN when the transport cannot take it now: a reliable record
	 * is then queued (and retried on ipc_server_remote_writable and on
	 * tick), an ephemeral one dropped and counted. */
	int (*send)(void *user, const uint8_t *rec, size_t len, bool reliable);
	/* Bytes the transport could take now without -EAGAIN
	 * (ipc_server_room answers min(this, the record cap)). */
	uint32_t (*room)(void *user);
	/* The server let go of the client (a violation, ipc_server_close, a
	 * refusal in attach, shutdown): reason PROTO_IPC_REFUSE_* or 0,
	 * detail one sentence. The transport closes; no call follows. */
	void (*closed)(void *user, uint32_t reason, const char *detail);
};
/* Admits (ipc_callbacks.admit) and connects a remote client: 0 and
 * *client_id, or -EPERM with *reason and why[why_len] when admit refused
 * it (ops->closed is not called then), -EMFILE (max_clients), -ENOMEM. */
int ipc_server_attach(struct ipc_server *s, const struct ipc_peer *peer, const struct ipc_remote_ops *ops,
		      void *user, uint64_t *client_id, uint32_t *reason, char *why, size_t why_len);
/* One record from the remote client, validated as a C2D ring record
 * (types, sizes, fields; a daemon->client or socket type is a
 * violation). 0, or -EPROTO after dropping the client for a violation
 * or for a hard error of ops->send while answering it (not counted as a
 * violation; ops->closed ran either way), -ENOENT (no such client). */
int ipc_server_remote_input(struct ipc_server *s, uint64_t client_id, const uint8_t *rec, size_t len,
			    uint64_t now_ns);
/* The transport has room again: retry the client's queued records. */
void ipc_server_remote_writable(struct ipc_server *s, uint64_t client_id);
/* The transport is gone: on_disconnect runs, ops->closed does not. */
void ipc_server_detach(struct ipc_server *s, uint64_t client_id);
