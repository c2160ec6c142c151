#include "sess/sessions.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_cmd.h"
#include "th_config.h"
#include "th_err.h"
#include "th_file.h"
#include "th_hex.h"
#include "th_sorted.h"
#include "th_time.h"

struct sess_meta {
	char name[SESS_NAME_MAX + 1];
	int64_t created;
	char role[16];
	char host[SESS_HOST_MAX + 1];
	int64_t port;
	char fp[65];
	char token[2 * 107 + 1];
	int64_t granted_role;
	char host_key[2 * SESS_KEY_LEN + 1];
	bool left;
	bool ended;
};

#define M(f) offsetof(struct sess_meta, f), sizeof(((struct sess_meta *)0)->f)
static const struct th_cfg_key sess_meta_keys[] = {
	{ "name", TH_CFG_STRING, M(name), 0, 0, "session name" },
	{ "created", TH_CFG_INT, offsetof(struct sess_meta, created), 0, 0, INT64_MAX, "unix time" },
	{ "role", TH_CFG_STRING, M(role), 0, 0, "host or member" },
	{ "host", TH_CFG_STRING, M(host), 0, 0, "member: the host's address" },
	{ "port", TH_CFG_INT, offsetof(struct sess_meta, port), 0, 0, 65535, "member: the host's UDP port" },
	{ "fp", TH_CFG_STRING, M(fp), 0, 0, "member: the host's certificate fingerprint" },
	{ "token", TH_CFG_STRING, M(token), 0, 0, "member: the invite token (hex)" },
	{ "granted_role", TH_CFG_INT, offsetof(struct sess_meta, granted_role), 0, 0, 3, "member: role from the host" },
	{ "host_key", TH_CFG_STRING, M(host_key), 0, 0, "member: the host's identity key (hex)" },
	{ "left", TH_CFG_BOOL, offsetof(struct sess_meta, left), 0, 0, 0, "member: left the session" },
	{ "ended", TH_CFG_BOOL, offsetof(struct sess_meta, ended), 0, 0, 0, "host: the session was ended" },
};
#undef M

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

static void sess_members_load(struct sess_session *s);
static void sess_local_load(struct sess_session *s);

static int sess_author_each(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32])
{
	(void)hash;
	return sess_author_note(user, key, seq);
}

int sess_log_open(struct sess_registry *r, struct sess_session *s, const struct clog_callbacks *cb)
{
	char path[4200];
	int rc;
	s->error[0] = 0;
	snprintf(path, sizeof(path), "%s/log", s->dir);
	if ((rc = th_mkdir_p(path, 0700)) < 0) {
		snprintf(s->error, sizeof(s->error), "cannot create %s: %s", path, th_strerror(rc));
		return rc;
	}
	/* Peers hand in whole signature groups (up to a remote batch) at
	 * once, and more while a batch syncs. A replica takes what its host
	 * relays without a rate limit (the host applied it); its local users
	 * are limited by the module instead. */
	struct clog_config lc = { .pending_per_source = SESS_LOG_PENDING_PER_SOURCE,
				  .worker = r->worker,
				  .validate = r->cfg.log_validate };
	if (s->role == SESS_ROLE_MEMBER) {
		lc.rate_per_s = lc.rate_burst = SESS_REPLICA_RATE;
	} else { /* config clog.rate_per_s / rate_burst (0: clog's defaults) */
		lc.rate_per_s = r->cfg.log_rate_per_s;
		lc.rate_burst = r->cfg.log_rate_burst;
	}
	rc = clog_open(path, &lc, cb, s, &s->log, &s->recovery);
	if (rc == -TH_ECORRUPT)
		snprintf(s->error, sizeof(s->error),
			 "log is damaged at record %" PRIu64 " (segment %" PRIu64 ", byte %" PRIu64
			 "): %s; `thetactl log verify %s` shows the same",
			 s->recovery.bad_index, s->recovery.bad_segment, s->recovery.bad_offset,
			 th_logrec_fault_str(s->recovery.bad_reason), path);
	else if (rc < 0)
		snprintf(s->error, sizeof(s->error), "cannot open the log in %s: %s", path, th_strerror(rc));
	/* Authors and their last seq from the log's own table (recovery
	 * built it), not by reading the entries back. */
	if (s->log && (rc = clog_authors_each(s->log, sess_author_each, s)) < 0) {
		snprintf(s->error, sizeof(s->error), "cannot list the authors of the log in %s: %s", path,
			 th_strerror(rc));
		clog_close(&s->log);
	}
	return rc < 0 ? rc : 0;
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

	struct sess_meta meta = { .name = SESS_DEFAULT_NAME, .role = "host" };
	char path[4200];
	struct th_cfg_error err;
	th_hex_decode(id, strlen(id), s->id_bytes, sizeof(s->id_bytes), false);
	snprintf(path, sizeof(path), "%s/session.conf", s->dir);
	int rc = th_cfg_load(sess_meta_keys, sizeof(sess_meta_keys) / sizeof(sess_meta_keys[0]), &meta, sizeof(meta),
			     path, &err);
	if (rc < 0 && rc != -ENOENT) {
		char msg[300];
		th_cfg_error_format(&err, msg, sizeof(msg));
		snprintf(s->error, sizeof(s->error), "%s", msg);
	}
	snprintf(s->name, sizeof(s->name), "%s", meta.name);
	s->created_unix = (uint64_t)meta.created;
	if (!strcmp(meta.role, "member")) {
		s->role = SESS_ROLE_MEMBER;
		snprintf(s->link.host, sizeof(s->link.host), "%s", meta.host);
		s->link.port = (uint16_t)meta.port;
		s->link.granted_role = (uint8_t)meta.granted_role;
		s->link.left = meta.left;
		if (th_hex_decode(meta.fp, strlen(meta.fp), s->link.fp, sizeof(s->link.fp), false) < 0 ||
		    th_hex_decode(meta.token, strlen(meta.token), s->link.token, sizeof(s->link.token), false) < 0 || !meta.port || !meta.host[0])
			snprintf(s->error, sizeof(s->error), "session.conf of member session %s lacks a valid host link", id);
		if (meta.host_key[0])
			th_hex_decode(meta.host_key, strlen(meta.host_key), s->link.host_key, sizeof(s->link.host_key), false);
	} else {
		s->role = SESS_ROLE_HOST;
		s->ended = meta.ended;
		sess_members_load(s);
		sess_invites_load(s);
	}
	sess_local_load(s);

	sess_log_open(r, s, cb);
	r->s[r->n++] = s;
	if (out)
		*out = s;
	return 0;
}

int sess_registry_open(struct sess_registry *r, const char *state_dir, const struct clog_callbacks *cb,
		       void *owner, struct clog_worker *worker, const struct sess_registry_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->worker = worker;
	if (cfg)
		r->cfg = *cfg;
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

static void sess_free(struct sess_session *s)
{
	clog_close(&s->log);
	free(s->authors);
	free(s->used_nonces);
	free(s->invites);
	free(s);
}

void sess_registry_close(struct sess_registry *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		sess_free(r->s[i]);
		r->s[i] = NULL;
	}
	r->n = 0;
	for (unsigned i = 0; i < r->n_forgotten; i++) {
		sess_free(r->forgotten[i]);
		r->forgotten[i] = NULL;
	}
	r->n_forgotten = 0;
}

/* rm -r of a session directory we wrote (no links followed: entries are
 * unlinked, directories descended). */
static int sess_remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOTDIR ? (unlink(path) < 0 ? -errno : 0) : -errno;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char sub[4608];
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub)) {
			rc = -ENAMETOOLONG;
			continue;
		}
		struct stat st;
		int r = lstat(sub, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? sess_remove_tree(sub) : unlink(sub) < 0 ? -errno : 0;
		if (r < 0 && rc == 0)
			rc = r;
	}
	closedir(d);
	if (rc == 0 && rmdir(path) < 0)
		rc = -errno;
	return rc;
}

int sess_forget(struct sess_registry *r, struct sess_session *s, bool del)
{
	unsigned i = 0;
	while (i < r->n && r->s[i] != s)
		i++;
	if (i == r->n)
		return -ENOENT;
	if (r->n_forgotten == SESS_FORGOTTEN_MAX)
		return -ENOSPC;
	char to[4200];
	int rc;
	if (del) {
		clog_close(&s->log);
		rc = sess_remove_tree(s->dir);
	} else {
		snprintf(to, sizeof(to), "%s/%s", r->root, SESS_FORGOTTEN_DIR);
		if ((rc = th_mkdir_p(to, 0700)) < 0)
			return rc;
		snprintf(to, sizeof(to), "%s/%s/%s", r->root, SESS_FORGOTTEN_DIR, s->id);
		struct stat st;
		if (lstat(to, &st) == 0 && (rc = sess_remove_tree(to)) < 0) /* forgotten before, joined again */
			return rc;
		clog_close(&s->log);
		rc = rename(s->dir, to) < 0 ? -errno : 0;
	}
	if (rc == 0)
		rc = th_fsync_dir(r->root);
	memmove(&r->s[i], &r->s[i + 1], (r->n - i - 1) * sizeof(r->s[0]));
	r->s[--r->n] = NULL;
	r->forgotten[r->n_forgotten++] = s;
	snprintf(s->error, sizeof(s->error), "the session was forgotten");
	return rc;
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
	th_hex_encode(raw, sizeof(raw), id);
	char dir[4200], conf[4300], text[256];
	snprintf(dir, sizeof(dir), "%s/%s", r->root, id);
	int rc = th_mkdir_p(dir, 0700);
	if (rc < 0)
		return rc;
	int n = snprintf(text, sizeof(text), "# thetad session\nname = %s\ncreated = %" PRIu64 "\nrole = host\n",
			 name, th_wall_ns() / TH_NS_PER_S);
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

struct sess_session *sess_named(struct sess_registry *r, const char *name, const struct sess_session *except)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->s[i] != except && !strcmp(r->s[i]->name, name))
			return r->s[i];
	return NULL;
}

struct sess_session *sess_lookup(struct sess_registry *r, const char *id_or_name, char *err, size_t errlen)
{
	struct sess_session *s = sess_find(r, id_or_name), *hit = NULL;
	if (s)
		return s;
	unsigned named = 0, prefixed = 0;
	size_t n = 0, plen = strlen(id_or_name);
	char ids[3 * (SESS_ID_LEN + 2)] = "";
	for (unsigned i = 0; i < r->n; i++)
		if (!strcmp(r->s[i]->name, id_or_name) && named++ < 3)
			n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%s", n ? ", " : "", r->s[i]->id);
	if (named) {
		snprintf(err, errlen, "'%s' names %u sessions (%s%s); give the id instead", id_or_name, named, ids,
			 named > 3 ? ", ..." : "");
		return NULL;
	}
	for (unsigned i = 0; plen >= SESS_ID_PREFIX_MIN && plen < SESS_ID_LEN && i < r->n; i++)
		if (!strncmp(r->s[i]->id, id_or_name, plen)) {
			hit = r->s[i];
			prefixed++;
		}
	if (prefixed == 1)
		return hit;
	if (prefixed)
		snprintf(err, errlen, "'%s' is the start of %u session ids; give more of the id", id_or_name, prefixed);
	else
		snprintf(err, errlen, "no session '%s' (by id, or by a name only one session has; see thetactl sessions)",
			 id_or_name);
	return NULL;
}

/* ---- member sessions ------------------------------------------------------ */

int sess_save_conf(const struct sess_session *s)
{
	char text[2048], path[4200];
	int n;
	if (s->role == SESS_ROLE_MEMBER) {
		char fp[65], tok[2 * 107 + 1], hk[2 * SESS_KEY_LEN + 1];
		th_hex_encode(s->link.fp, sizeof(s->link.fp), fp);
		th_hex_encode(s->link.token, sizeof(s->link.token), tok);
		th_hex_encode(s->link.host_key, sizeof(s->link.host_key), hk);
		n = snprintf(text, sizeof(text),
			     "# thetad session (a replica of a session hosted elsewhere)\nname = %s\ncreated = %" PRIu64
			     "\nrole = member\nhost = %s\nport = %u\nfp = %s\ntoken = %s\ngranted_role = %u\n"
			     "host_key = %s\nleft = %s\n",
			     s->name, s->created_unix, s->link.host, (unsigned)s->link.port, fp, tok,
			     (unsigned)s->link.granted_role, hk, s->link.left ? "yes" : "no");
	} else {
		n = snprintf(text, sizeof(text), "# thetad session\nname = %s\ncreated = %" PRIu64 "\nrole = host\n%s",
			     s->name, s->created_unix, s->ended ? "ended = yes\n" : "");
	}
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/session.conf", s->dir);
	return th_file_replace(path, text, (size_t)n, 0600);
}

int sess_create_member(struct sess_registry *r, const uint8_t id[SESS_ID_LEN / 2], const char *name,
		       const struct sess_link *link, const struct clog_callbacks *cb, void *owner,
		       struct sess_session **out)
{
	char idhex[SESS_ID_LEN + 1];
	th_hex_encode(id, SESS_ID_LEN / 2, idhex);
	if (!sess_name_valid(name))
		return -EINVAL;
	struct sess_session *s = NULL;
	for (unsigned i = 0; i < r->n; i++)
		if (!strcmp(r->s[i]->id, idhex))
			s = r->s[i];
	if (s && s->role != SESS_ROLE_MEMBER)
		return -EEXIST; /* we host it ourselves */
	if (!s) {
		if (r->n == SESS_MAX_SESSIONS)
			return -ENOSPC;
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s/%s", r->root, idhex);
		int rc = th_mkdir_p(dir, 0700);
		if (rc < 0)
			return rc;
		struct sess_session tmp = { .role = SESS_ROLE_MEMBER, .link = *link,
					    .created_unix = th_wall_ns() / TH_NS_PER_S };
		snprintf(tmp.name, sizeof(tmp.name), "%s", name);
		snprintf(tmp.dir, sizeof(tmp.dir), "%s", dir);
		if ((rc = sess_save_conf(&tmp)) < 0)
			return rc;
		if ((rc = sess_open_one(r, idhex, cb, owner, &s)) < 0)
			return rc;
	} else {
		uint8_t granted = s->link.granted_role;
		uint8_t hk[SESS_KEY_LEN];
		memcpy(hk, s->link.host_key, sizeof(hk));
		s->link = *link;
		if (!s->link.granted_role)
			s->link.granted_role = granted;
		if (!memcmp(s->link.host_key, (uint8_t[SESS_KEY_LEN]){ 0 }, SESS_KEY_LEN))
			memcpy(s->link.host_key, hk, sizeof(hk));
		s->link.left = false;
		int rc = sess_save_conf(s);
		if (rc < 0)
			return rc;
	}
	*out = s;
	return 0;
}

/* ---- members of hosted sessions -------------------------------------------- */

struct sess_member *sess_member_find(struct sess_session *s, const uint8_t key[SESS_KEY_LEN])
{
	for (unsigned i = 0; i < s->n_members; i++)
		if (!memcmp(s->members[i].key, key, SESS_KEY_LEN))
			return &s->members[i];
	return NULL;
}

struct sess_member *sess_member_by_id(struct sess_session *s, uint32_t peer_id)
{
	for (unsigned i = 0; i < s->n_members; i++)
		if (s->members[i].peer_id == peer_id)
			return &s->members[i];
	return NULL;
}

int sess_member_add(struct sess_session *s, const uint8_t key[SESS_KEY_LEN], uint8_t role,
		    struct sess_member **out)
{
	struct sess_member *m = sess_member_find(s, key);
	if (!m) {
		if (s->n_members == SESS_MAX_MEMBERS)
			return -ENOSPC;
		m = &s->members[s->n_members++];
		memcpy(m->key, key, SESS_KEY_LEN);
		m->peer_id = ++s->next_peer_id;
	}
	m->role = role;
	m->kicked = false;
	*out = m;
	return 0;
}

bool sess_nonce_used(const struct sess_session *s, const uint8_t nonce[16])
{
	for (unsigned i = 0; i < s->n_used; i++)
		if (!memcmp(s->used_nonces[i], nonce, 16))
			return true;
	return false;
}

int sess_nonce_mark(struct sess_session *s, const uint8_t nonce[16])
{
	if (sess_nonce_used(s, nonce))
		return 0;
	if (s->n_used == SESS_MAX_USED_NONCES)
		return -ENOSPC;
	if (!s->used_nonces) {
		s->used_nonces = calloc(SESS_MAX_USED_NONCES, 16);
		if (!s->used_nonces)
			return -ENOMEM;
	}
	memcpy(s->used_nonces[s->n_used++], nonce, 16);
	return 0;
}

/* `members` file, one record per line:
 *   member KEYHEX ROLE PEER_ID     (ROLE 1..3)
 *   kicked KEYHEX PEER_ID
 *   used NONCEHEX
 * Unparseable lines are skipped (the file is ours, written atomically). */
int sess_members_save(const struct sess_session *s)
{
	size_t cap = 64 + (size_t)s->n_members * 100 + (size_t)s->n_used * 40, n = 0;
	char *text = malloc(cap), path[4200], hex[2 * SESS_KEY_LEN + 1];
	if (!text)
		return -ENOMEM;
	n += (size_t)snprintf(text + n, cap - n, "# thetad session members\n");
	for (unsigned i = 0; i < s->n_members; i++) {
		const struct sess_member *m = &s->members[i];
		th_hex_encode(m->key, SESS_KEY_LEN, hex);
		if (m->kicked)
			n += (size_t)snprintf(text + n, cap - n, "kicked %s %u\n", hex, m->peer_id);
		else
			n += (size_t)snprintf(text + n, cap - n, "member %s %u %u\n", hex, m->role, m->peer_id);
	}
	for (unsigned i = 0; i < s->n_used; i++) {
		th_hex_encode(s->used_nonces[i], 16, hex);
		n += (size_t)snprintf(text + n, cap - n, "used %s\n", hex);
	}
	snprintf(path, sizeof(path), "%s/members", s->dir);
	int rc = th_file_replace(path, text, n, 0600);
	free(text);
	return rc;
}

static void sess_members_load(struct sess_session *s)
{
	char path[4200], *text = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/members", s->dir);
	if (th_file_read(path, SESS_MEMBERS_FILE_MAX, &text, &len) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char word[16], hex[80];
		unsigned a = 0, b = 0;
		uint8_t key[SESS_KEY_LEN];
		int k = sscanf(line, "%15s %79s %u %u", word, hex, &a, &b);
		if (k >= 3 && !strcmp(word, "member") && a >= 1 && a <= 3 && b &&
		    th_hex_decode(hex, strlen(hex), key, SESS_KEY_LEN, false) == 0 && s->n_members < SESS_MAX_MEMBERS) {
			struct sess_member *m = &s->members[s->n_members++];
			*m = (struct sess_member){ .role = (uint8_t)a, .peer_id = b };
			memcpy(m->key, key, SESS_KEY_LEN);
		} else if (k >= 3 && !strcmp(word, "kicked") && a && th_hex_decode(hex, strlen(hex), key, SESS_KEY_LEN, false) == 0 &&
			   s->n_members < SESS_MAX_MEMBERS) {
			struct sess_member *m = &s->members[s->n_members++];
			*m = (struct sess_member){ .kicked = true, .peer_id = a };
			memcpy(m->key, key, SESS_KEY_LEN);
		} else if (k == 2 && !strcmp(word, "used")) {
			uint8_t nonce[16];
			if (th_hex_decode(hex, strlen(hex), nonce, 16, false) == 0)
				sess_nonce_mark(s, nonce);
		}
	}
	for (unsigned i = 0; i < s->n_members; i++)
		if (s->members[i].peer_id > s->next_peer_id)
			s->next_peer_id = s->members[i].peer_id;
	free(text);
}

/* ---- local members ------------------------------------------------------------ */

uint8_t sess_local_role(const struct sess_session *s, uid_t uid)
{
	for (unsigned i = 0; i < s->n_locals; i++)
		if (s->locals[i].uid == uid)
			return s->locals[i].role;
	return TH_ROLE_NONE;
}

int sess_local_allow(struct sess_session *s, uid_t uid, uint8_t role)
{
	if (role < TH_ROLE_VIEWER || role > TH_ROLE_ADMIN)
		return -EINVAL;
	for (unsigned i = 0; i < s->n_locals; i++)
		if (s->locals[i].uid == uid) {
			s->locals[i].role = role;
			return 0;
		}
	if (s->n_locals == SESS_MAX_LOCAL)
		return -ENOSPC;
	s->locals[s->n_locals++] = (struct sess_local){ .uid = uid, .role = role };
	return 0;
}

int sess_local_deny(struct sess_session *s, uid_t uid)
{
	for (unsigned i = 0; i < s->n_locals; i++)
		if (s->locals[i].uid == uid) {
			s->locals[i] = s->locals[--s->n_locals];
			return 0;
		}
	return -ENOENT;
}

/* `local_members` file, one line per user: `user UID ROLE` (ROLE 1..3).
 * Unparseable lines are skipped (the file is ours, written atomically). */
int sess_local_save(const struct sess_session *s)
{
	char text[64 + SESS_MAX_LOCAL * 32], path[4200];
	size_t n = (size_t)snprintf(text, sizeof(text), "# thetad local members: user UID ROLE (1 viewer, 2 editor, 3 admin)\n");
	for (unsigned i = 0; i < s->n_locals; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "user %u %u\n", (unsigned)s->locals[i].uid,
				      (unsigned)s->locals[i].role);
	snprintf(path, sizeof(path), "%s/local_members", s->dir);
	return th_file_replace(path, text, n, 0600);
}

static void sess_local_load(struct sess_session *s)
{
	char path[4200], *text = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/local_members", s->dir);
	if (th_file_read(path, SESS_LOCAL_FILE_MAX, &text, &len) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned uid, role;
		char tail;
		if (sscanf(line, "user %u %u %c", &uid, &role, &tail) == 2 && uid != (unsigned)-1)
			sess_local_allow(s, (uid_t)uid, (uint8_t)(role > TH_ROLE_ADMIN ? 0 : role));
	}
	free(text);
}

/* ---- author vector ---------------------------------------------------------- */

static long sess_author_pos(const struct sess_session *s, const uint8_t key[SESS_KEY_LEN], bool *found)
{
	return (long)th_sorted_find(s->authors, s->n_authors, sizeof(*s->authors), offsetof(struct sess_author_seq, key),
				    key, SESS_KEY_LEN, found);
}

uint64_t sess_author_seq(const struct sess_session *s, const uint8_t key[SESS_KEY_LEN])
{
	bool found;
	long i = sess_author_pos(s, key, &found);
	return found ? s->authors[i].seq : 0;
}

int sess_author_note(struct sess_session *s, const uint8_t key[SESS_KEY_LEN], uint64_t seq)
{
	bool found;
	long i = sess_author_pos(s, key, &found);
	if (found) {
		if (seq > s->authors[i].seq)
			s->authors[i].seq = seq;
		return 0;
	}
	if (s->n_authors == s->cap_authors) {
		unsigned nc = s->cap_authors ? s->cap_authors * 2 : 16;
		if (nc > CLOG_AUTHORS_MAX)
			return -ENOSPC;
		struct sess_author_seq *t = realloc(s->authors, nc * sizeof(*t));
		if (!t)
			return -ENOMEM;
		s->authors = t;
		s->cap_authors = nc;
	}
	memmove(&s->authors[i + 1], &s->authors[i], (s->n_authors - (unsigned)i) * sizeof(*s->authors));
	memcpy(s->authors[i].key, key, SESS_KEY_LEN);
	s->authors[i].seq = seq;
	s->n_authors++;
	return 0;
}
