/* Sessions this daemon keeps: each is a directory
 * STATE_DIR/sessions/<id>/ holding session.conf (name, creation time, role
 * and, for a member, how to reach its host), log/ (the signed command log,
 * thetad/clog), `local_members` (the local users who may work in it, with
 * their roles) and, for a hosted session, `members` (which daemons joined
 * with which role, kicked keys, used single-use invites). This file owns the on-disk
 * registry, each session's open log, its member table and its per-author
 * sequence vector; routing clients and peers to sessions is the module's
 * (module.c), talking to other daemons the net module's (thetad/net).
 *
 * Roles of a session on this daemon:
 *   host    created here (`thetactl session host`, or the default session);
 *           this daemon orders, persists and relays for its members.
 *   member  joined from another daemon (`thetactl session join LINK`); a
 *           replica of the host's log plus this daemon's local entries. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "clog/clog.h"

#define SESS_ID_LEN 32        /* hex characters of a session id (16 random bytes) */
#define SESS_NAME_MAX 64
#define SESS_MAX_SESSIONS 256 /* sessions one daemon keeps open */
#define SESS_DEFAULT_NAME "local"
#define SESS_MAX_MEMBERS 256  /* member keys a hosted session remembers */
#define SESS_MAX_USED_NONCES 4096 /* single-use invites remembered per session */
#define SESS_MAX_INVITES 1024 /* issued invites a hosted session lists (expired and used single-use ones make room) */
#define SESS_INVITES_FILE_MAX (256u << 10)
#define SESS_INVITE_ID_HEX 12 /* hex digits of an invite id as listed */
#define SESS_HOST_MAX 300     /* "HOST" of a member's link */
#define SESS_KEY_LEN 32
#define SESS_MEMBERS_FILE_MAX (1u << 20)
#define SESS_MAX_LOCAL 256    /* local users a session lists (besides its implicit admins) */
#define SESS_LOCAL_FILE_MAX (64u << 10)
#define SESS_REPLICA_RATE 100000000u /* a replica's log: effectively unlimited */
#define SESS_FORGOTTEN_MAX 256 /* sessions one run may forget (their memory is kept until the daemon stops) */
#define SESS_FORGOTTEN_DIR "forgotten" /* STATE_DIR/sessions/forgotten/<id>: a forgotten session's files */
#define SESS_ID_PREFIX_MIN 8  /* hex digits of an id prefix that names a session */
/* Entries one source (a peer, a client) may have queued in a log, not yet
 * durable: four whole remote calls, so a peer's burst keeps queueing while
 * a batch syncs on the worker (16384 entries, within CLOG_PENDING_*_MAX). */
#define SESS_LOG_PENDING_PER_SOURCE (4u * CLOG_REMOTE_BATCH_MAX)

enum sess_role {
	SESS_ROLE_HOST = 0,
	SESS_ROLE_MEMBER = 1,
};

/* A daemon that joined a hosted session (keyed by its identity key). */
struct sess_member {
	uint8_t key[SESS_KEY_LEN];
	uint8_t role;     /* enum th_role; 0 while kicked */
	bool kicked;      /* refused with KICKED until invited again */
	uint32_t peer_id; /* stable per key, from 1 */
};

/* A local user who may work in the session on this daemon: its clients
 * receive the session's events and submit under that user's key with this
 * role. Root, the daemon's own user and the admin group are members of
 * every session without being listed (the module decides that). */
struct sess_local {
	uid_t uid;
	uint8_t role; /* enum th_role, 1..3 */
};

/* How a member session reaches its host (from the invite link). */
struct sess_link {
	char host[SESS_HOST_MAX + 1];
	uint16_t port;
	uint8_t fp[32];
	uint8_t token[107];
	uint8_t granted_role; /* from the host's ACK; 0 before the first */
	uint8_t host_key[SESS_KEY_LEN];
	bool left;            /* `session leave`: do not reconnect */
};

/* An invite this daemon issued for a hosted session (file `invites`,
 * kept by sess_invites_save): named by its token's nonce. */
struct sess_invite {
	uint8_t nonce[16];
	uint8_t role;           /* proto_sess_role */
	bool single_use;
	bool revoked;           /* `invite revoke`: refused at join */
	uint64_t created_unix;
	uint64_t expiry_unix;   /* 0: never */
	uint32_t uses;          /* daemons admitted with it */
};

/* Last sequence number per author in this daemon's log (sorted by key). */
struct sess_author_seq {
	uint8_t key[SESS_KEY_LEN];
	uint64_t seq;
};

struct sess_session {
	char id[SESS_ID_LEN + 1];
	char name[SESS_NAME_MAX + 1];
	uint64_t created_unix;
	char dir[4096];
	struct clog *log;       /* NULL when the log could not be opened */
	char error[256];        /* why the log is not open (or is dead) */
	bool log_dead;          /* the log failed and could not be reopened: it refuses all work */
	struct clog_recovery recovery;
	void *owner;            /* the registry's owner (the module) */
	uint8_t role;           /* enum sess_role */
	uint8_t id_bytes[SESS_ID_LEN / 2];
	struct sess_link link;  /* member sessions */
	bool ended;             /* hosted: `session leave` ended it (joins refused, its invites invalid) */
	struct sess_member members[SESS_MAX_MEMBERS]; /* hosted sessions */
	unsigned n_members;
	uint32_t next_peer_id;
	struct sess_invite *invites; /* hosted: issued invites, oldest first (SESS_MAX_INVITES) */
	unsigned n_invites;
	uint8_t (*used_nonces)[16];
	unsigned n_used;
	struct sess_local locals[SESS_MAX_LOCAL]; /* every session */
	unsigned n_locals;
	struct sess_author_seq *authors; /* sorted by key */
	unsigned n_authors, cap_authors;
	void *net;              /* the net module's per-session state */
	struct sess_scene *scene; /* its folded scene (thetad/sess/scene.c); NULL before it opens */
};

/* How the registry opens logs; zero fields: clog's defaults. */
struct sess_registry_config {
	uint32_t log_rate_per_s;  /* hosted sessions' per-author rate (config clog.rate_per_s) */
	uint32_t log_rate_burst;  /* and bucket depth (clog.rate_burst) */
	clog_validate_fn log_validate; /* every log's payload check (clog_config.validate) */
};

struct sess_registry {
	char root[4096]; /* STATE_DIR/sessions */
	struct sess_registry_config cfg;
	struct sess_session *s[SESS_MAX_SESSIONS];
	unsigned n;
	/* Forgotten this run (sess_forget): out of the list, their logs
	 * closed; freed with the registry, as modules may still compare the
	 * pointers. */
	struct sess_session *forgotten[SESS_FORGOTTEN_MAX];
	unsigned n_forgotten;
	struct clog_worker *worker; /* every log's group commits and reads */
};

/* Opens every session under state_dir/sessions (creating the folder),
 * running each log's recovery. A session whose log is damaged stays listed
 * with its error and no log; the others work. Each log's callbacks get the
 * session as user data; session->owner is `owner`; worker does every log's
 * group commits and cursor reads (NULL: in the calls); cfg (NULL: defaults)
 * how its logs are opened. */
int sess_registry_open(struct sess_registry *r, const char *state_dir, const struct clog_callbacks *cb,
		       void *owner, struct clog_worker *worker, const struct sess_registry_config *cfg);
/* (Re)opens s->log (closed) with the registry's settings: recovery, the
 * author vector from the log's table; s->error says why not. */
int sess_log_open(struct sess_registry *r, struct sess_session *s, const struct clog_callbacks *cb);
void sess_registry_close(struct sess_registry *r);
/* Creates a new session (random id) with the given name. */
int sess_create(struct sess_registry *r, const char *name, const struct clog_callbacks *cb, void *owner,
		struct sess_session **out);
/* By id, or by name when unique; NULL otherwise. */
struct sess_session *sess_find(struct sess_registry *r, const char *id_or_name);
/* As sess_find, and by a unique prefix of at least SESS_ID_PREFIX_MIN hex
 * digits of the id; NULL with one sentence in err when no session or more
 * than one matches (an ambiguous name lists the ids it names). */
struct sess_session *sess_lookup(struct sess_registry *r, const char *id_or_name, char *err, size_t errlen);
/* A session other than `except` (NULL: any) called name, or NULL. */
struct sess_session *sess_named(struct sess_registry *r, const char *name, const struct sess_session *except);
/* Removes s from the list: its log closes, its directory moves to
 * sessions/forgotten/<id> (the log stays on disk) or, with del, is removed.
 * The caller has detached everything that works in it. */
int sess_forget(struct sess_registry *r, struct sess_session *s, bool del);
/* Checks a session name: 1..64 bytes of [A-Za-z0-9._-]. */
bool sess_name_valid(const char *name);

/* A member session (replica of a session hosted elsewhere): id is the
 * host's session id; name as the host calls it is not known, so `name`
 * is chosen here. Opens the existing one when the id is already here
 * (updating its link), else creates it. */
int sess_create_member(struct sess_registry *r, const uint8_t id[SESS_ID_LEN / 2], const char *name,
		       const struct sess_link *link, const struct clog_callbacks *cb, void *owner,
		       struct sess_session **out);
/* Rewrites session.conf (atomically) from s. */
int sess_save_conf(const struct sess_session *s);

/* Member table of a hosted session (persisted in `members` by
 * sess_members_save). */
struct sess_member *sess_member_find(struct sess_session *s, const uint8_t key[SESS_KEY_LEN]);
struct sess_member *sess_member_by_id(struct sess_session *s, uint32_t peer_id);
/* Adds (or re-admits, clearing a kick) key with role; -ENOSPC when full. */
int sess_member_add(struct sess_session *s, const uint8_t key[SESS_KEY_LEN], uint8_t role,
		    struct sess_member **out);
bool sess_nonce_used(const struct sess_session *s, const uint8_t nonce[16]);
int sess_nonce_mark(struct sess_session *s, const uint8_t nonce[16]);
int sess_members_save(const struct sess_session *s);

/* Issued invites (persisted in `invites` by sess_invites_save). */
/* Records inv; when the list is full the oldest expired or revoked one
 * makes room, else -ENOSPC. */
int sess_invite_add(struct sess_session *s, const struct sess_invite *inv, uint64_t now_s);
struct sess_invite *sess_invite_find(struct sess_session *s, const uint8_t nonce[16]);
/* By its id (a prefix of at least 8 hex digits of the nonce); NULL with a
 * sentence in err when none or more than one matches. */
struct sess_invite *sess_invite_lookup(struct sess_session *s, const char *id, char *err, size_t errlen);
/* "active", "revoked", "expired" or "used" (a single-use invite taken). */
const char *sess_invite_state(const struct sess_invite *inv, uint64_t now_s);
int sess_invites_save(const struct sess_session *s);
/* Reads `invites` into s (sess_open_one, for a hosted session). */
void sess_invites_load(struct sess_session *s);

/* Local members (persisted in `local_members` by sess_local_save). */
/* The listed role of uid (enum th_role), TH_ROLE_NONE when not listed. */
uint8_t sess_local_role(const struct sess_session *s, uid_t uid);
/* Lists uid with role (or changes its role); -ENOSPC when full, -EINVAL
 * for a role outside viewer..admin. */
int sess_local_allow(struct sess_session *s, uid_t uid, uint8_t role);
/* Removes uid from the list; -ENOENT when it was not listed. */
int sess_local_deny(struct sess_session *s, uid_t uid);
int sess_local_save(const struct sess_session *s);

/* Author vector: the last sequence number of each author in the log. */
uint64_t sess_author_seq(const struct sess_session *s, const uint8_t key[SESS_KEY_LEN]);
int sess_author_note(struct sess_session *s, const uint8_t key[SESS_KEY_LEN], uint64_t seq);
