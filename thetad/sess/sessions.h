/* Sessions this daemon keeps: each is a directory
 * STATE_DIR/sessions/<id>/ holding session.conf (name, creation time) and
 * log/ (the signed command log, thetad/clog). This file owns the on-disk
 * registry and each session's open log; routing clients and peers to
 * sessions is the module's (module.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "clog/clog.h"

#define SESS_ID_LEN 32        /* hex characters of a session id (16 random bytes) */
#define SESS_NAME_MAX 64
#define SESS_MAX_SESSIONS 256 /* sessions one daemon keeps open */
#define SESS_DEFAULT_NAME "local"

struct sess_session {
	char id[SESS_ID_LEN + 1];
	char name[SESS_NAME_MAX + 1];
	uint64_t created_unix;
	char dir[4096];
	struct clog *log;       /* NULL when the log could not be opened */
	char error[256];        /* why the log is not open */
	struct clog_recovery recovery;
	void *owner;            /* the registry's owner (the module) */
};

struct sess_registry {
	char root[4096]; /* STATE_DIR/sessions */
	struct sess_session *s[SESS_MAX_SESSIONS];
	unsigned n;
};

/* Opens every session under state_dir/sessions (creating the folder),
 * running each log's recovery. A session whose log is damaged stays listed
 * with its error and no log; the others work. Each log's callbacks get the
 * session as user data; session->owner is `owner`. */
int sess_registry_open(struct sess_registry *r, const char *state_dir, const struct clog_callbacks *cb,
		       void *owner);
void sess_registry_close(struct sess_registry *r);
/* Creates a new session (random id) with the given name. */
int sess_create(struct sess_registry *r, const char *name, const struct clog_callbacks *cb, void *owner,
		struct sess_session **out);
/* By id, or by name when unique; NULL otherwise. */
struct sess_session *sess_find(struct sess_registry *r, const char *id_or_name);
/* Checks a session name: 1..64 bytes of [A-Za-z0-9._-]. */
bool sess_name_valid(const char *name);
