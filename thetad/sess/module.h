/* The sessions daemon module: sessions on disk, their command logs, and the
 * path from a client's command submit to a durable, acknowledged entry.
 *
 * The net module (thetad/net/module.c, started after this one) reaches it
 * through srv_daemon_module_state(d, "sessions") and the functions below:
 * it hears every durable entry and every local pose (hooks), hands in
 * entries from other daemons (sess_module_integrate), hosts and joins
 * sessions, and delivers remote poses to local clients. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "clog/clog.h"
#include "sess/sessions.h"

struct srv_module;
struct json_object;
struct proto_ipc_pose_update;
struct proto_ipc_presence;
extern const struct srv_module sess_module;

/* Sources (clog_event.source, sess_module_integrate) at or above this are
 * network peers; below are local client connections. */
#define SESS_SOURCE_PEER_BASE 0x80000000u

/* What the net module knows of a session's links (SESSION_INFO). */
struct sess_link_info {
	unsigned peers;       /* daemons connected for the session (a member: its host) */
	bool host_linked;     /* a member session: linked to its host now */
	uint64_t host_rtt_ns; /* then its smoothed round trip (0: no sample yet) */
};

struct sess_net_hooks {
	/* An entry of session s became durable (local or remote), in log order. */
	void (*durable)(void *user, struct sess_session *s, const struct clog_event *ev);
	/* A group commit of s finished (after all its durable() calls). */
	void (*flushed)(void *user, struct sess_session *s);
	/* s's log may take entries again after sess_module_integrate answered
	 * -EAGAIN or -EINPROGRESS: a group commit finished, a group's
	 * signatures were checked on the worker, or the log failed and was
	 * reopened (or given up). Runs inside the log's completion: integrate later
	 * (the net module retries in its service pass), not in this call. */
	void (*log_room)(void *user, struct sess_session *s);
	/* A local client of s sent a pose; author is its user's key. */
	void (*pose)(void *user, struct sess_session *s, const uint8_t author[SESS_KEY_LEN],
		     const struct proto_ipc_pose_update *p);
	/* A local client of s sent PRESENCE (its cursor and drag preview;
	 * p->flags without SPEAKING, which the voice module knows). */
	void (*presence)(void *user, struct sess_session *s, const uint8_t author[SESS_KEY_LEN],
			 const struct proto_ipc_presence *p);
	/* The last local client of author in s left (its presence ends). */
	void (*user_gone)(void *user, struct sess_session *s, const uint8_t author[SESS_KEY_LEN]);
	/* A remote entry was refused by s's log. */
	void (*rejected)(void *user, struct sess_session *s, uint32_t source, const struct th_logrec_entry *e,
			 int reason);
	/* Adds network fields ("peers", "link_state", ...) to a `sessions` row. */
	void (*describe)(void *user, struct sess_session *s, struct json_object *row);
	/* Fills *out for s (SESSION_INFO to its local clients). */
	void (*link_info)(void *user, struct sess_session *s, struct sess_link_info *out);
};

void sess_module_set_net(void *state, const struct sess_net_hooks *h, void *user);
struct sess_registry *sess_module_registry(void *state);
const struct th_keypair *sess_module_host_key(void *state);
/* The session local clients work in. */
struct sess_session *sess_module_current(void *state);
/* Makes s the session local clients work in (existing clients move to it);
 * remembered across restarts. */
void sess_module_set_current(void *state, struct sess_session *s);
/* Takes s (left or ended: the caller checked) out of the list:
 * sessions.h sess_forget. Refused (-EBUSY, err set) while s is the current
 * session or clients work in it. */
int sess_module_forget(void *state, struct sess_session *s, bool del, char *err, size_t errlen);
/* A new session hosted here; creator (the user who asked) becomes a local
 * member of it. */
int sess_module_host(void *state, const char *name, uid_t creator, struct sess_session **out);
/* A replica of a session hosted elsewhere (created or re-linked); creator
 * becomes a local member of it. */
int sess_module_join(void *state, const uint8_t id[SESS_ID_LEN / 2], const char *name,
		     const struct sess_link *link, uid_t creator, struct sess_session **out);
/* Sends an EVENT of kind PROTO_IPC_EVENT_REJECTED (payload as built by
 * proto_sess_rejected_event_encode) to s's local clients whose user signs
 * as author; returns how many got it. */
unsigned sess_module_notify_rejected(void *state, struct sess_session *s, const uint8_t author[SESS_KEY_LEN],
				     const uint8_t *payload, size_t len);
/* clog refusal reason -> PROTO_IPC_REJECT_* code. */
uint32_t sess_reject_code(int why);
/* The sentence for a refusal of a command of type `type` with clog reason
 * why; detail: clog_reject_detail() (what the payload check found). */
void sess_reject_text(int why, uint16_t type, const char *detail, char *out, size_t cap);
/* Entries from another daemon (chain order per author, signature groups
 * complete). role: what role_of answers for their authors. Queues them
 * and arms the group commit. Returns the number queued, -EAGAIN when the
 * log cannot take the group now (a batch is being written and the queue
 * would pass SESS_LOG_PENDING_PER_SOURCE entries or CLOG_PENDING_BYTES_MAX
 * bytes): nothing was taken, call again after the log_room hook;
 * -EINPROGRESS while the group's signatures are being checked on the
 * clog worker (clog_integrate_remote_async): nothing was taken, call
 * again with the same entries after the log_room hook (the caller holds
 * the source's later groups behind it); or another negative errno for the
 * whole call. Never waits for the disk or a signature check. */
int sess_module_integrate(void *state, struct sess_session *s, uint32_t source, uint8_t role,
			  const struct th_logrec_entry *es, size_t n, uint64_t now_ns);
/* A peer said what it holds (its SYNC): in a member session the host
 * (peer_id 0), in a hosted one member peer_id. A submit held while the
 * session's cut range is repaired may go once the peers have nothing more
 * of its author than this log (thetad/sess/hold.c). */
struct proto_sess_sync;
void sess_module_peer_synced(void *state, struct sess_session *s, uint32_t peer_id, const struct proto_sess_sync *v,
			     uint64_t now_ns);
/* A pose of another daemon's user, to every local client of s. */
void sess_module_deliver_pose(void *state, struct sess_session *s, const struct proto_ipc_pose_update *p);
/* PRESENCE of a user (another daemon's, or a local speaker's speaking
 * flag) to every local client of s but that user's own. */
void sess_module_deliver_presence(void *state, struct sess_session *s, const struct proto_ipc_presence *p);
/* What the voice module (thetad/voice/module.c) hears from sessions, on
 * the loop thread. All optional. */
struct sess_voice_hooks {
	/* Any pose of a user of s: a local client's, or one delivered from
	 * another daemon (entity: sess_entity_of the user's key). */
	void (*pose)(void *user, struct sess_session *s, const struct proto_ipc_pose_update *p);
	/* The session local clients work in changed (NULL: none). */
	void (*current)(void *user, struct sess_session *s);
	/* SESSION_INFO's voice fields for a client: who is speaking (count and
	 * '\n'-separated names into speakers[cap]) and its PROTO_IPC_VINFO_F_*. */
	void (*info)(void *user, uint64_t client_id, uint32_t *speaking, char *speakers, size_t cap, uint32_t *voice);
};
void sess_module_set_voice(void *state, const struct sess_voice_hooks *h, void *user);
/* Who a local client is: its session, its user's key and name (name[cap]).
 * 0, -ENOENT (no such client, or it has no session). */
int sess_module_client_voice(void *state, uint64_t client_id, struct sess_session **s, uint8_t author[SESS_KEY_LEN],
			     char *name, size_t cap);
/* SESSION_INFO is due for every client whose fields changed (still at most
 * about once a second each: SESS_CINFO_INTERVAL_NS). */
void sess_module_info_changed(void *state);

/* The request id (entry field req) of a client's command: SipHash-2-4
 * (project key) of nonce and client_seq, 8 bytes LE each; 0 when nonce is 0
 * (the client asked for no deduplication), and never 0 otherwise. */
uint64_t sess_req_id(uint64_t nonce, uint64_t client_seq);
/* The entity id poses carry for an author: the key's first 8 bytes, LE. */
uint64_t sess_entity_of(const uint8_t key[SESS_KEY_LEN]);

/* Browser members (docs/web.md "Who a browser is"). A browser redeems an
 * invite token of a session hosted here: the token is checked as a native
 * join's is (host signature, expiry, single use: a single-use token's
 * nonce is marked used), a browser identity is minted (id_browser_create),
 * and its uid becomes a local member of the session with the token's
 * role, so its edits are signed under its own key, ordered, durable and
 * relayed like a local user's, its role enforced. */
struct sess_browser {
	uid_t uid;
	uint8_t session_id[SESS_ID_LEN / 2];
	uint8_t role;
	char name[64];          /* its display name */
	char session_name[64];
	uint8_t resume[32];     /* the resume secret (admit only; zero after resume) */
};
/* token: the raw 107 bytes. 0 and *out, or a negative errno with why[cap]
 * one sentence for the page: -EBADMSG (not a token), -EKEYREJECTED (not
 * signed by this host), -EKEYEXPIRED (expired), -ENOENT (no such session
 * hosted here, or not open), -EALREADY (a single-use token already used),
 * -EINVAL (bad name), -ENOSPC (too many browsers). */
int sess_module_browser_admit(void *state, const uint8_t *token, size_t len, const char *name, uint64_t now_s,
			      struct sess_browser *out, char *why, size_t cap);
/* A browser coming back with its resume secret: 0 and *out (resume
 * zeroed), -ENOENT (unknown secret), -EPERM (denied or kicked since, or
 * its session gone). */
int sess_module_browser_resume(void *state, const uint8_t resume[32], struct sess_browser *out, char *why,
			       size_t cap);
