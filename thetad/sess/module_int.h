/* Private to thetad/sess/: the sessions module's state, shared by
 * module.c (life cycle, submits, group commit, the net module's API),
 * events.c (events to clients with their log positions, replay from a
 * position, `log` pages) and members.c (local members: who may connect,
 * `session allow|deny|members`). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "clog/clog.h"
#include "sess/client_info.h"
#include "sess/module.h"
#include "sess/sessions.h"

struct th_loop;
struct json_object;
struct srv_ctl_caller;
struct ipc_peer;
struct proto_ipc_resync_request;

#define SESS_LOG_LIST_DEFAULT 1000u
#define SESS_LOG_LIST_MAX 10000u
#define SESS_MAX_AUTHORS 4096u
/* Replay of a session's log to a client (RESYNC_REQUEST): events one client
 * gets per loop pass, and how soon a replay blocked on a full ring looks
 * again (doubling while the client does not read). */
#define SESS_REPLAY_BATCH 256u
#define SESS_REPLAY_RETRY_MIN_NS (1ull * 1000 * 1000)
#define SESS_REPLAY_RETRY_MAX_NS (128ull * 1000 * 1000)
/* `log` pages: cursors kept between a page and the next (the log reads
 * ahead on the worker, so a page serves what is read and the next request
 * continues from the same cursor); closed when unused this long. */
#define SESS_LOG_READERS 8u
#define SESS_LOG_READER_IDLE_NS (30ull * 1000 * 1000 * 1000)
/* Held submits (hold.c): commands one session holds while the entries
 * its recovery cut come back from a peer, and how long one waits while the
 * host is not heard from (then a member refuses it; a host signs it). */
#define SESS_HOLD_MAX 256u
#define SESS_HOLD_WAIT_NS (10ull * 1000 * 1000 * 1000)

struct sess_log_reader {
	struct sess_session *s; /* NULL: free */
	struct clog_cursor *cur;
	uint64_t pos;           /* where the cursor stands */
	uint64_t used_ns;
};

struct sess_client {
	struct sess_client *next;
	uint64_t id;
	uid_t uid;
	bool admin; /* root, the daemon's user or the admin group: a member of every session */
	bool pinned; /* a remote client (a browser) pinned to s: it does not follow the current session */
	char user[64];
	struct sess_session *s;
	uint64_t last_client_seq; /* replay guard per connection */
	/* Events: the client has (or is sent) every LOG_ENTRY below next_pos.
	 * Live (no cursor): each entry goes out as it becomes durable.
	 * Replaying: the cursor reads them from the log, as the ring has room. */
	uint64_t next_pos;
	struct clog_cursor *cur;
	bool stalled; /* the log cannot be read at next_pos: no events until a resync */
	struct sess_cscene *scene; /* scene mirror state (client_scene.c); NULL until it asks */
	struct sess_cinfo info;    /* its last SESSION_INFO (client_info.c) */
};

struct sess_author {
	uid_t uid;
	uint64_t next_req; /* the log's per-author request sequence, this run */
	uint64_t tokens_milli, tokens_ns; /* rate limit in member sessions */
};

struct sess_ack {
	struct sess_module *m;
	uint64_t client_id, client_seq;
	uint64_t signed_ns; /* when it was signed (the ack latency histogram) */
};

/* A client's command past the checks that need its connection: what
 * signing it takes, now (sess_sign) or after a hold (hold.c). */
struct sess_cmd {
	uint64_t client_id, client_seq, nonce, scope;
	uid_t uid;
	uint8_t role;
	uint16_t type;
	const uint8_t *payload;
	uint32_t payload_len;
};

struct sess_hold;
struct sess_scene_mod;

struct sess_module {
	struct srv_daemon *d;
	struct ipc_server *ipc;
	struct id_store *ids;
	const struct th_keypair *host;
	struct sess_registry reg;
	struct sess_session *current;
	int flush_fd;
	bool flush_armed;
	struct clog_worker *worker; /* group commits and log reads of every session */
	int replay_fd; /* timerfd: the next replay pass */
	uint64_t replay_retry_ns;
	struct sess_log_reader readers[SESS_LOG_READERS];
	struct sess_client *clients;
	struct sess_author authors[SESS_MAX_AUTHORS];
	unsigned n_authors;
	uint8_t integrating_role; /* role_of's answer during sess_module_integrate */
	/* Queued entries (a batch in flight included) past which a remote group
	 * waits (-EAGAIN): SESS_LOG_PENDING_PER_SOURCE; tests lower it with
	 * THETAD_TEST_REMOTE_QUEUE to see the backpressure at work. */
	uint32_t remote_queue_max;
	struct sess_net_hooks net;
	void *net_user;
	struct sess_voice_hooks voice; /* voice_hooks.c */
	void *voice_user;
	struct sess_hold *holds; /* member sessions whose cut range is not repaired yet */
	struct sess_scene_mod *scene; /* every session's scene (scene.c) */
	uint64_t hold_wait_ns;   /* SESS_HOLD_WAIT_NS (tests: THETAD_TEST_HOLD_WAIT_MS) */
	uint8_t enc[TH_LOGREC_BODY_MAX];
	uint64_t *m_submits, *m_acks, *m_rejects, *m_events, *m_flushes, *m_flush_fail, *m_replays;
	struct srv_hist *h_ack, *h_commit; /* metrics: ack latency, group commit fdatasync */
	uint64_t *m_remote_in, *m_remote_rejects, *m_remote_waits, *m_remote_verify_waits, *m_poses_in, *m_poses_out;
	uint64_t *m_presence_in, *m_presence_out;
	uint64_t *m_dups, *m_not_member, *m_replayed, *m_session_infos;
	uint64_t *m_held, *m_held_refused, *m_cut_lost, *m_hold_expired;
};

/* choose.c: `session use` */
struct srv_control;
void sess_choose_register(struct sess_module *m, struct srv_control *ctl);
/* Why local clients cannot work in s (left, ended, no log), or NULL. */
const char *sess_unusable(const struct sess_session *s);

/* module.c */
struct sess_client *sess_client_find(struct sess_module *m, uint64_t id);
/* The session named by args.session, else the current one; NULL with err set. */
struct sess_session *sess_pick(struct sess_module *m, struct json_object *args, char *err, size_t errlen);
/* sess_pick for a command that reads the session: the caller must be a member
 * (or may change the daemon) and its log open. 0, or -ENOENT / -EPERM / -EIO
 * with err set. */
int sess_pick_open(struct sess_module *m, const struct srv_ctl_caller *caller, struct json_object *args,
		   struct sess_session **out, char *err, size_t errlen);

void sess_reject(struct sess_module *m, uint64_t client_id, uint64_t client_seq, uint32_t reason,
		 const char *detail);
/* Signs cmd into s's log and answers the client when it is durable (or
 * refuses it). */
void sess_sign(struct sess_module *m, struct sess_session *s, const struct sess_cmd *cmd, uint64_t now_ns);
/* Wakes the loop for a group-commit pass (which releases held submits). */
void sess_arm_flush(struct sess_module *m);
/* The log's per-author request number for uid's next submit (0: the author
 * table is full). */
uint64_t sess_next_req(struct sess_module *m, uid_t uid);
/* Member sessions: uid's token bucket (false: over the rate). */
bool sess_member_rate_ok(struct sess_module *m, uid_t uid, uint64_t now);

/* export.c: `export` (the scene as glTF or OBJ into the descriptors the
 * caller passed). */
int sess_cmd_export(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		    char *err, size_t errlen);
/* Kills and reaps the export children still running (module stop). */
void sess_export_stop(struct sess_module *m);
/* submit.c: `submit` (a command signed with the caller's own key) and
 * `entry` (an entry of the log and its outcome in the scene). */
int sess_cmd_submit(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		    struct json_object **res, char *err, size_t errlen);
int sess_cmd_entry(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		   struct json_object **res, char *err, size_t errlen);

/* hold.c */
/* After s's log opened (or reopened): a session with peers whose recovery
 * cut entries of authors that are not back holds their local submits. */
void sess_hold_start(struct sess_module *m, struct sess_session *s, uint64_t now_ns);
/* Whether a submit by key in s must be held (its author waits for its cut
 * entries, or has commands held before it). */
bool sess_hold_wants(struct sess_module *m, struct sess_session *s, const uint8_t key[SESS_KEY_LEN]);
/* Holds cmd (a copy), or refuses it: the hold is full, or the host has not
 * been heard from for SESS_HOLD_WAIT_NS. */
void sess_hold_add(struct sess_module *m, struct sess_session *s, const uint8_t key[SESS_KEY_LEN],
		   const struct sess_cmd *cmd, uint64_t now_ns);
/* Signs the held commands that may go now, in order; refuses those that
 * waited SESS_HOLD_WAIT_NS without word from the host; ends finished holds. */
void sess_hold_poll(struct sess_module *m, uint64_t now_ns);
void sess_hold_stop(struct sess_module *m);

/* events.c */
/* The session's tag in RESYNC_REQUEST: its id's first 8 bytes, LE. */
uint64_t sess_tag(const struct sess_session *s);
/* clog on_durable: the net module's hook, then the entry to every client
 * of the session that is live at its position. */
void sess_on_durable(void *user, const struct clog_event *ev);
/* From now on c gets its session's events from pos (live at the end of
 * the log, else replayed from a cursor); stop closes its cursor. */
void sess_replay_start(struct sess_module *m, struct sess_client *c, uint64_t pos);
void sess_replay_stop(struct sess_client *c);
/* Runs the next replay pass (sess_on_replay) in in_ns (0: at once). */
void sess_replay_arm(struct sess_module *m, uint64_t in_ns);
/* Around a reopen of s's log: cursors close first and come back after. */
void sess_replay_suspend(struct sess_module *m, struct sess_session *s);
void sess_replay_resume(struct sess_module *m, struct sess_session *s);
/* The replay timer (m->replay_fd). */
void sess_on_replay(struct th_loop *loop, int fd, uint32_t events, void *user);
/* ipc on_resync: answer where the stream starts, replay from there. */
void sess_on_resync(void *user, uint64_t client_id, const struct proto_ipc_resync_request *rq, uint64_t now_ns);
/* `log` readers of s (all when s is NULL); those unused too long. */
void sess_log_readers_close(struct sess_module *m, struct sess_session *s);
void sess_log_readers_expire(struct sess_module *m, uint64_t now_ns);
int sess_cmd_log(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		 char *err, size_t errlen);

/* browsers.c (besides sess_module_browser_admit / _resume) */
/* A browser identity's display name into buf: 0, or -ENOENT (uid is not one). */
int sess_browser_name(struct sess_module *m, uid_t uid, char *buf, size_t len);
/* The browser member of s with this display name: 0 and *uid, -ENOENT,
 * or -ENOTUNIQ (several: name it by uid). */
int sess_browser_by_name(struct sess_module *m, const struct sess_session *s, const char *name, uid_t *uid);

/* members.c */
/* The session whose 16-byte id this is, or NULL. */
struct sess_session *sess_find_id(struct sess_module *m, const uint8_t id[SESS_ID_LEN / 2]);
bool sess_uid_privileged(uid_t uid);
bool sess_peer_admin(struct sess_module *m, const struct ipc_peer *p);
/* uid's role in s (admin: in the admin set); TH_ROLE_NONE: not a member. */
uint8_t sess_member_role(const struct sess_session *s, uid_t uid, bool admin);
void sess_not_member_msg(const struct sess_session *s, const char *user, char *buf, size_t len);
void sess_user_name(uid_t uid, char *buf, size_t len);
void sess_close_non_members(struct sess_module *m, struct sess_session *s);
/* ipc admit: a client works in the current session only as a member. */
int sess_admit(void *user, uint64_t client_id, const struct ipc_peer *p, uint32_t *reason, char *why,
	       size_t why_len);
int sess_add_creator(struct sess_session *s, uid_t creator);
int sess_cmd_allow(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		   char *err, size_t errlen);
int sess_cmd_deny(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		  char *err, size_t errlen);
int sess_cmd_members(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		     char *err, size_t errlen);
