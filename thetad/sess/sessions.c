#include "sess/sessions.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "th_config.h"
#include "th_err.h"
#include "th_file.h"
#include "th_time.h"

struct sess_meta {
	char name[SESS_NAME_MAX + 1];
	int64_t created;
};

static const struct th_cfg_key sess_meta_keys[] = {
	{ "name", TH_CFG_STRING, offsetof(struct sess_meta, name), SESS_NAME_MAX + 1, 0, 0, "session name" },
	{ "created", TH_CFG_INT, offsetof(struct sess_meta, created), 0, 0, INT64_MAX, "unix time" },
};

bool sess_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > SESS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool sess_id_valid(const char *id)
{
	if (strlen(id) != SESS_ID_LEN)
		return false;
	for (int i = 0; i < SESS_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

static int sess_open_one(struct sess_registry *r, const char *id, const struct clog_callbacks *cb, void *owner,
			 struct sess_session **out)
{
	if (r->n == SESS_MAX_SESSIONS)
		return -ENOSPC;
	struct sess_session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->owner = owner;
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->dir, sizeof(s->dir), "%s/%s", r->root, id);

	struct sess_meta meta = { .name = SESS_DEFAULT_NAME };
	char path[4200];
	struct th_cfg_error err;
	snprintf(path, sizeof(path), "%s/session.conf", s->dir);
	int rc = th_cfg_load(sess_meta_keys, 2, &meta, sizeof(meta), path, &err);
	if (rc < 0 && rc != -ENOENT) {
		char msg[300];
		th_cfg_error_format(&err, msg, sizeof(msg));
		snprintf(s->error, sizeof(s->error), "%s", msg);
	}
	snprintf(s->name, sizeof(s->name), "%s", meta.name);
	s->created_unix = (uint64_t)meta.created;

	snprintf(path, sizeof(path), "%s/log", s->dir);
	if ((rc = th_mkdir_p(path, 0700)) < 0) {
		snprintf(s->error, sizeof(s->error), "cannot create %s: %s", path, th_strerror(rc));
	} else {
		rc = clog_open(path, NULL, cb, s, &s->log, &s->recovery);
		if (rc == -TH_ECORRUPT)
			snprintf(s->error, sizeof(s->error),
				 "log is damaged at record %" PRIu64 " (segment %" PRIu64 ", byte %" PRIu64
				 "): %s; `thetactl log verify %s` shows the same",
				 s->recovery.bad_index, s->recovery.bad_segment, s->recovery.bad_offset,
				 th_logrec_fault_str(s->recovery.bad_reason), path);
		else if (rc < 0)
			snprintf(s->error, sizeof(s->error), "cannot open the log in %s: %s", path, th_strerror(rc));
	}
	r->s[r->n++] = s;
	if (out)
		*out = s;
	return 0;
}

int sess_registry_open(struct sess_registry *r, const char *state_dir, const struct clog_callbacks *cb,
		       void *owner)
{
	memset(r, 0, sizeof(*r));
	if (snprintf(r->root, sizeof(r->root), "%s/sessions", state_dir) >= (int)sizeof(r->root))
		return -ENAMETOOLONG;
	int rc = th_mkdir_p(r->root, 0700);
	if (rc < 0)
		return rc;
	DIR *d = opendir(r->root);
	if (!d)
		return -errno;
	struct dirent *de;
	char ids[SESS_MAX_SESSIONS][SESS_ID_LEN + 1];
	unsigned n = 0;
	while ((de = readdir(d)) && n < SESS_MAX_SESSIONS)
		if (sess_id_valid(de->d_name))
			snprintf(ids[n++], sizeof(ids[0]), "%s", de->d_name);
	closedir(d);
	/* Stable order: by id. */
	qsort(ids, n, sizeof(ids[0]), (int (*)(const void *, const void *))strcmp);
	for (unsigned i = 0; i < n; i++)
		if ((rc = sess_open_one(r, ids[i], cb, owner, NULL)) < 0)
			return rc;
	return 0;
}

void sess_registry_close(struct sess_registry *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		clog_close(&r->s[i]->log);
		free(r->s[i]);
		r->s[i] = NULL;
	}
	r->n = 0;
}

int sess_create(struct sess_registry *r, const char *name, const struct clog_callbacks *cb, void *owner,
		struct sess_session **out)
{
	if (!sess_name_valid(name))
		return -EINVAL;
	if (r->n == SESS_MAX_SESSIONS)
		return -ENOSPC;
	uint8_t raw[SESS_ID_LEN / 2];
	char id[SESS_ID_LEN + 1];
	randombytes_buf(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	char dir[4200], conf[4300], text[256];
	snprintf(dir, sizeof(dir), "%s/%s", r->root, id);
	int rc = th_mkdir_p(dir, 0700);
	if (rc < 0)
		return rc;
	int n = snprintf(text, sizeof(text), "# thetad session\nname = %s\ncreated = %" PRIu64 "\n", name,
			 th_wall_ns() / TH_NS_PER_S);
	snprintf(conf, sizeof(conf), "%s/session.conf", dir);
	if ((rc = th_file_replace(conf, text, (size_t)n, 0600)) < 0)
		return rc;
	return sess_open_one(r, id, cb, owner, out);
}

struct sess_session *sess_find(struct sess_registry *r, const char *id_or_name)
{
	struct sess_session *by_name = NULL;
	unsigned named = 0;
	for (unsigned i = 0; i < r->n; i++) {
		if (!strcmp(r->s[i]->id, id_or_name))
			return r->s[i];
		if (!strcmp(r->s[i]->name, id_or_name)) {
			by_name = r->s[i];
			named++;
		}
	}
	return named == 1 ? by_name : NULL;
}
