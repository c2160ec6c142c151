/* Offline scene rebuild (rebuild.h): th_logscan verifies, th_fold folds. */
#include "rebuild.h"

#include <errno.h>
#include <json-c/json.h>
#include <inttypes.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_file.h"
#include "th_hex.h"

/* The -ERANGE fallback's window: every folded entry, bytes unbounded in
 * practice (memory grows with the log, as reading it does). */
#define CTL_REBUILD_FALLBACK_BYTES ((size_t)1 << 40)

int ctl_rebuild_parse_key(const char *hex, uint8_t key[TH_LOGREC_KEY_LEN])
{
	if (strlen(hex) != 2 * TH_LOGREC_KEY_LEN)
		return -EINVAL;
	return th_hex_decode(hex, strlen(hex), key, TH_LOGREC_KEY_LEN, false);
}

bool ctl_rebuild_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (*end || errno)
		return false;
	*out = x;
	return true;
}

const char *ctl_host_from_text(int from)
{
	switch (from) {
	case CTL_HOST_GIVEN:
		return "given with --host-key";
	case CTL_HOST_MEMBER_CONF:
		return "session.conf of the member session";
	case CTL_HOST_KEY_FILE:
		return "the hosting daemon's keys/host.key";
	case CTL_HOST_FIRST_AUTHOR:
		return "the author at position 0: no session directory around the log";
	default:
		return "none (no entry)";
	}
}

/* The value of `key = value` in a session.conf text, into out[cap]; false
 * when absent. */
static bool rb_conf_value(const char *text, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (strncmp(l, key, klen) != 0)
			continue;
		const char *p = l + klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t\r\n#");
		if (n >= cap)
			return false;
		memcpy(out, p, n);
		out[n] = 0;
		return true;
	}
	return false;
}

/* The public key from a key file ("public <base64>" line); the seed line
 * is never decoded and the text is wiped. */
static int rb_key_file_public(const char *path, uint8_t key[TH_LOGREC_KEY_LEN])
{
	char *text = NULL;
	size_t len, bin = 0;
	int r = th_file_read(path, CTL_REBUILD_HOST_FILE_MAX, &text, &len);
	if (r < 0)
		return r;
	r = -EBADMSG;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, "public ", 7) != 0)
			continue;
		const char *b = l + 7, *end;
		size_t blen = strcspn(b, "\n");
		if (sodium_base642bin(key, TH_LOGREC_KEY_LEN, b, blen, NULL, &bin, &end,
				      sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    bin == TH_LOGREC_KEY_LEN && end == b + blen)
			r = 0;
		break;
	}
	sodium_memzero(text, len);
	free(text);
	return r;
}

/* The host key from the session directory around the log, if there is
 * one: 0 (found, rb->host set), 1 (no session directory), or an error
 * with rb->err. */
static int rb_host_from_dir(struct ctl_rebuild *rb, bool is_dir)
{
	char logdir[4096], conf[4200], role[16] = "host", hex[2 * TH_LOGREC_KEY_LEN + 2], *text = NULL;
	size_t len;
	snprintf(logdir, sizeof(logdir), "%s", rb->log_path);
	if (!is_dir) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", rb->log_path);
		snprintf(logdir, sizeof(logdir), "%s", dirname(tmp));
	}
	snprintf(conf, sizeof(conf), "%s/../session.conf", logdir);
	int r = th_file_read(conf, CTL_REBUILD_HOST_FILE_MAX, &text, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return 1;
	if (r < 0) {
		snprintf(rb->err, sizeof(rb->err), "cannot read %s (for the session's host key): %s; pass --host-key HEX",
			 conf, th_strerror(r));
		return r;
	}
	rb_conf_value(text, "role", role, sizeof(role));
	bool have_hex = rb_conf_value(text, "host_key", hex, sizeof(hex));
	free(text);
	if (!strcmp(role, "member")) {
		snprintf(rb->host_path, sizeof(rb->host_path), "%s", conf);
		if (!have_hex || ctl_rebuild_parse_key(hex, rb->host) < 0) {
			snprintf(rb->err, sizeof(rb->err),
				 "%s names no valid host_key for this member session; pass --host-key HEX", conf);
			return -EBADMSG;
		}
		rb->host_from = CTL_HOST_MEMBER_CONF;
		return 0;
	}
	/* Hosted here: STATE/sessions/ID/log -> STATE/keys/host.key. */
	snprintf(rb->host_path, sizeof(rb->host_path), "%s/../../../keys/host.key", logdir);
	r = rb_key_file_public(rb->host_path, rb->host);
	if (r == -ENOENT || r == -ENOTDIR)
		return 1;
	if (r < 0) {
		snprintf(rb->err, sizeof(rb->err),
			 "cannot read the session's host key from %s: %s (run as the daemon's user, or pass --host-key HEX)",
			 rb->host_path, th_strerror(r));
		return r;
	}
	rb->host_from = CTL_HOST_KEY_FILE;
	return 0;
}

/* Records between two progress calls. */
#define CTL_REBUILD_PROGRESS_RECORDS 4096u

struct rb_state {
	struct ctl_rebuild *rb;
	uint64_t seg_base, seg_size; /* bytes of the segments before this one; this one's */
	uint32_t window_entries;
	size_t window_bytes;
	bool stopped; /* -ERANGE: fold no more in this pass */
	bool range;
};

static void rb_on_outcome(void *ud, const struct th_fold_outcome *o)
{
	struct ctl_rebuild *rb = ud;
	if (o->pos >= rb->out_cap) {
		size_t cap = rb->out_cap ? rb->out_cap : 1024;
		while (cap <= o->pos)
			cap *= 2;
		struct ctl_outcome *v = realloc(rb->out, cap * sizeof(*v));
		if (!v) {
			rb->out_failed = true;
			return;
		}
		memset(v + rb->out_cap, 0, (cap - rb->out_cap) * sizeof(*v));
		rb->out = v;
		rb->out_cap = cap;
	}
	struct ctl_outcome *x = &rb->out[o->pos];
	x->status = o->status;
	x->reason = o->reason;
	x->type = o->type;
	x->seq = o->seq;
	x->why = o->why;
	memcpy(x->author, o->author, sizeof(x->author));
}

static int rb_fold_create(struct rb_state *st)
{
	struct ctl_rebuild *rb = st->rb;
	struct th_fold_config c = { .window_entries = st->window_entries, .window_bytes = st->window_bytes,
				    .on_outcome = rb->outcomes ? rb_on_outcome : NULL, .ud = rb };
	memcpy(c.host_key, rb->host, sizeof(c.host_key));
	int r = th_fold_create(&c, &rb->fold);
	if (r < 0)
		snprintf(rb->err, sizeof(rb->err), "cannot create the fold: %s", th_strerror(r));
	return r;
}

static int rb_capture(struct rb_state *st)
{
	struct ctl_rebuild *rb = st->rb;
	int r = 0;
	if (!rb->fold && (r = rb_fold_create(st)) < 0)
		return r;
	th_wbuf_reset(&rb->marked);
	if ((r = th_scene_encode(th_fold_scene(rb->fold), &rb->marked)) < 0) {
		snprintf(rb->err, sizeof(rb->err), "cannot encode the scene at position %" PRIu64 ": %s", rb->mark,
			 th_strerror(r));
		return r;
	}
	rb->have_mark = true;
	return 0;
}

static int rb_record(void *user, const struct th_logscan_rec *rec)
{
	struct rb_state *st = user;
	struct ctl_rebuild *rb = st->rb;
	int r;
	if (rb->progress && rec->index % CTL_REBUILD_PROGRESS_RECORDS == 0)
		rb->progress(rb->progress_ud, st->seg_base + rec->offset, rb->log_bytes);
	if (!rb->host_from && rec->index == 0) {
		memcpy(rb->host, rec->entry.author, sizeof(rb->host));
		rb->host_from = CTL_HOST_FIRST_AUTHOR;
	}
	if (rec->index == rb->mark && !st->stopped && (r = rb_capture(st)) < 0)
		return r;
	if (rec->index >= rb->at || st->stopped)
		return 0;
	if (!rb->fold && (r = rb_fold_create(st)) < 0)
		return r;
	r = th_fold_add(rb->fold, &rec->entry, rec->index);
	if (r == -ERANGE) {
		st->stopped = st->range = true;
		return 0;
	}
	if (r == -EPROTO) {
		char fpr[TH_KEY_FPR_LEN];
		th_key_fingerprint(rec->entry.author, fpr, sizeof(fpr));
		snprintf(rb->err, sizeof(rb->err),
			 "position %" PRIu64 ": author %s's entries start at seq %" PRIu64
			 " here (earlier ones are in other segments): rebuild from the whole log directory",
			 rec->index, fpr, rec->entry.seq);
		return r;
	}
	if (r == -ENOSPC) {
		snprintf(rb->err, sizeof(rb->err), "position %" PRIu64 ": the log has more than %u authors, the fold's limit",
			 rec->index, TH_FOLD_AUTHORS_MAX);
		return r;
	}
	if (r < 0) {
		snprintf(rb->err, sizeof(rb->err), "cannot fold the entry at position %" PRIu64 ": %s", rec->index,
			 th_strerror(r));
		return r;
	}
	rb->folded_to = rec->index + 1;
	return 0;
}

static int rb_segment(void *user, uint64_t index, uint64_t size)
{
	struct rb_state *st = user;
	struct ctl_rebuild *rb = st->rb;
	st->seg_base += st->seg_size;
	st->seg_size = size;
	if (rb->progress)
		rb->progress(rb->progress_ud, st->seg_base, rb->log_bytes);
	return 0;
}

static int rb_pass(struct ctl_rebuild *rb, struct rb_state *st, bool is_dir)
{
	const struct th_logscan_ops ops = { .record = rb_record, .segment = rb_segment };
	int r = is_dir ? th_logscan_dir(rb->log_path, &ops, st, &rb->scan)
		       : th_logscan_file(rb->log_path, &ops, st, &rb->scan);
	if (r < 0 && !rb->err[0])
		snprintf(rb->err, sizeof(rb->err), "%s: %s", rb->log_path, th_strerror(r));
	return r;
}

/* The segment files in dir: how many and their bytes; -errno. */
static int rb_dir_segments(const char *dir, uint64_t *count, uint64_t *bytes)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	*count = *bytes = 0;
	for (struct dirent *de; (de = readdir(d));) {
		uint64_t idx;
		struct stat sb;
		if (!th_logseg_name_parse(de->d_name, &idx))
			continue;
		(*count)++;
		if (fstatat(dirfd(d), de->d_name, &sb, 0) == 0)
			*bytes += (uint64_t)sb.st_size;
	}
	closedir(d);
	return 0;
}

/* What rb->path names: a log directory, a session directory around one
 * (its log/), or one segment file; anything else is refused with a
 * sentence. Sets rb->log_path, rb->log_bytes and *is_dir. */
static int rb_resolve(struct ctl_rebuild *rb, const struct stat *sb, bool *is_dir)
{
	const char *p = rb->path;
	uint64_t n = 0;
	int r;
	if (snprintf(rb->log_path, sizeof(rb->log_path), "%s", p) >= (int)sizeof(rb->log_path) - 8) {
		snprintf(rb->err, sizeof(rb->err), "the path is too long");
		return -ENAMETOOLONG;
	}
	if (S_ISREG(sb->st_mode)) {
		*is_dir = false;
		rb->log_bytes = (uint64_t)sb->st_size;
		if (sb->st_size == 0) {
			snprintf(rb->err, sizeof(rb->err), "%s is an empty file, not a command log segment", p);
			return -ENODATA;
		}
		char magic[sizeof(TH_LOGSEG_MAGIC) - 1];
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		ssize_t got = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;
		r = got < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		if (r < 0) {
			snprintf(rb->err, sizeof(rb->err), "cannot read %s: %s", p, th_strerror(r));
			return r;
		}
		if ((size_t)got < sizeof(magic) || memcmp(magic, TH_LOGSEG_MAGIC, sizeof(magic)) != 0) {
			snprintf(rb->err, sizeof(rb->err),
				 "%s is not a command log segment (it does not start with \"" TH_LOGSEG_MAGIC "\")", p);
			return -EBADMSG;
		}
		return 0;
	}
	if (!S_ISDIR(sb->st_mode)) {
		snprintf(rb->err, sizeof(rb->err), "%s is neither a log directory nor a segment file", p);
		return -EINVAL;
	}
	*is_dir = true;
	if ((r = rb_dir_segments(p, &n, &rb->log_bytes)) < 0) {
		snprintf(rb->err, sizeof(rb->err), "cannot list %s: %s", p, th_strerror(r));
		return r;
	}
	if (n)
		return 0;
	/* A session directory: STATE/sessions/ID holds log/ and session.conf. */
	char sub[4200];
	struct stat ls;
	snprintf(sub, sizeof(sub), "%s/log", p);
	if (stat(sub, &ls) == 0 && S_ISDIR(ls.st_mode)) {
		snprintf(rb->log_path, sizeof(rb->log_path), "%s", sub);
		if ((r = rb_dir_segments(sub, &n, &rb->log_bytes)) < 0) {
			snprintf(rb->err, sizeof(rb->err), "cannot list %s: %s", sub, th_strerror(r));
			return r;
		}
		if (n)
			return 0;
		snprintf(rb->err, sizeof(rb->err), "%s holds no log segments (files named 0000000000000001.seg and on)",
			 sub);
		return -ENOENT;
	}
	snprintf(sub, sizeof(sub), "%s/session.conf", p);
	if (stat(sub, &ls) == 0) {
		snprintf(rb->err, sizeof(rb->err), "%s is a session directory without a log (no %s/log)", p, p);
		return -ENOENT;
	}
	snprintf(rb->err, sizeof(rb->err),
		 "%s is not a command log: it holds no segment files (0000000000000001.seg and on); give a "
		 "session's log directory (STATE/sessions/ID/log), its session directory or one segment file",
		 p);
	return -ENOENT;
}

int ctl_rebuild_run(struct ctl_rebuild *rb)
{
	struct stat sb;
	int r;
	rb->fold = NULL;
	rb->folded_to = 0;
	rb->have_mark = false;
	rb->rebuilt = false;
	rb->err[0] = 0;
	rb->host_from = 0;
	rb->out = NULL;
	rb->out_cap = 0;
	rb->out_failed = false;
	th_wbuf_init(&rb->marked, 0);
	memset(&rb->scan, 0, sizeof(rb->scan));
	if (stat(rb->path, &sb) < 0) {
		r = -errno;
		snprintf(rb->err, sizeof(rb->err), "%s: %s", rb->path, th_strerror(r));
		return r;
	}
	bool is_dir = false;
	if ((r = rb_resolve(rb, &sb, &is_dir)) < 0)
		return r;
	if (rb->host_given) {
		rb->host_from = CTL_HOST_GIVEN;
	} else if ((r = rb_host_from_dir(rb, is_dir)) < 0) {
		return r;
	}
	struct rb_state st = { .rb = rb, .window_entries = rb->window };
	if ((r = rb_pass(rb, &st, is_dir)) < 0)
		return r;
	if (!rb->scan.ok && !rb->scan.torn) {
		th_fold_destroy(&rb->fold);
		return 0;
	}
	if (st.range) {
		/* An entry sorted below the window: fold everything again with a
		 * window that holds the whole prefix. */
		uint64_t n = rb->at < rb->scan.records ? rb->at : rb->scan.records;
		if (n >= UINT32_MAX) {
			snprintf(rb->err, sizeof(rb->err), "%" PRIu64 " entries are too many to fold again in one window", n);
			return -E2BIG;
		}
		th_fold_destroy(&rb->fold);
		rb->folded_to = 0;
		rb->have_mark = false;
		rb->rebuilt = true;
		if (rb->out)
			memset(rb->out, 0, rb->out_cap * sizeof(*rb->out));
		if (rb->host_from == CTL_HOST_FIRST_AUTHOR)
			rb->host_from = 0;
		st = (struct rb_state){ .rb = rb, .window_entries = (uint32_t)n + 1, .window_bytes = CTL_REBUILD_FALLBACK_BYTES };
		if ((r = rb_pass(rb, &st, is_dir)) < 0)
			return r;
		if ((!rb->scan.ok && !rb->scan.torn) || st.range) {
			snprintf(rb->err, sizeof(rb->err), "the log changed while it was read; run the command again");
			return -EAGAIN;
		}
	}
	if (rb->at != CTL_REBUILD_ALL && rb->at > rb->scan.records) {
		snprintf(rb->err, sizeof(rb->err), "position %" PRIu64 " is past the end of the log (%" PRIu64 " entries, positions 0 to %" PRIu64 ")",
			 rb->at, rb->scan.records, rb->scan.records ? rb->scan.records - 1 : 0);
		return -ERANGE;
	}
	if (rb->mark != CTL_REBUILD_ALL && rb->mark > rb->scan.records) {
		snprintf(rb->err, sizeof(rb->err), "position %" PRIu64 " is past the end of the log (%" PRIu64 " entries, positions 0 to %" PRIu64 ")",
			 rb->mark, rb->scan.records, rb->scan.records ? rb->scan.records - 1 : 0);
		return -ERANGE;
	}
	if (!rb->fold && (r = rb_fold_create(&st)) < 0)
		return r;
	if (rb->mark != CTL_REBUILD_ALL && !rb->have_mark && (r = rb_capture(&st)) < 0)
		return r;
	if (rb->out_failed) {
		snprintf(rb->err, sizeof(rb->err), "no memory to keep the entries' outcomes");
		return -ENOMEM;
	}
	return 0;
}

void ctl_rebuild_fini(struct ctl_rebuild *rb)
{
	th_fold_destroy(&rb->fold);
	free(rb->out);
	rb->out = NULL;
	rb->out_cap = 0;
	th_wbuf_fini(&rb->marked);
	rb->have_mark = false;
}

struct json_object *ctl_rebuild_json(struct ctl_rebuild *rb)
{
	uint8_t h[TH_SCENE_HASH_LEN];
	char hex[2 * TH_SCENE_HASH_LEN + 1], key[2 * TH_LOGREC_KEY_LEN + 1];
	struct th_scene_stats ss;
	struct th_fold_stats fs;
	int r = th_fold_world_hash(rb->fold, h);
	if (r < 0) {
		snprintf(rb->err, sizeof(rb->err), "cannot hash the scene: %s", th_strerror(r));
		return NULL;
	}
	th_hex_encode(h, sizeof(h), hex);
	th_hex_encode(rb->host, sizeof(rb->host), key);
	th_scene_stats(th_fold_scene(rb->fold), &ss);
	th_fold_stats(rb->fold, &fs);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "position", json_object_new_uint64(rb->folded_to));
	json_object_object_add(o, "records", json_object_new_uint64(rb->scan.records));
	json_object_object_add(o, "world_hash", json_object_new_string(hex));
	json_object_object_add(o, "entities", json_object_new_uint64(ss.entities));
	json_object_object_add(o, "meshes", json_object_new_uint64(ss.meshes));
	json_object_object_add(o, "faces", json_object_new_uint64(ss.faces));
	json_object_object_add(o, "vertices", json_object_new_uint64(ss.vertices));
	json_object_object_add(o, "edges", json_object_new_uint64(ss.edges));
	json_object_object_add(o, "materials", json_object_new_uint64(ss.materials));
	json_object_object_add(o, "folded", json_object_new_uint64(fs.entries));
	json_object_object_add(o, "applied", json_object_new_uint64(fs.applied));
	json_object_object_add(o, "refused", json_object_new_uint64(fs.refused));
	json_object_object_add(o, "excluded", json_object_new_uint64(fs.excluded));
	json_object_object_add(o, "control", json_object_new_uint64(fs.control));
	json_object_object_add(o, "rollbacks", json_object_new_uint64(fs.rollbacks));
	json_object_object_add(o, "refolded", json_object_new_boolean(rb->rebuilt));
	json_object_object_add(o, "host_key", json_object_new_string(key));
	json_object_object_add(o, "host_key_source", json_object_new_string(ctl_host_from_text(rb->host_from)));
	return o;
}

int ctl_rebuild_print(struct ctl_rebuild *rb)
{
	struct json_object *o = ctl_rebuild_json(rb);
	if (!o)
		return -ENOMEM;
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(rb->host, fpr, sizeof(fpr));
	printf("scene at position %" PRIu64 " of %" PRIu64 ": world hash %s\n", rb->folded_to, rb->scan.records,
	       json_object_get_string(json_object_object_get(o, "world_hash")));
	printf("  %s entities, %s meshes, %s faces, %s vertices, %s edges, %s materials\n",
	       json_object_get_string(json_object_object_get(o, "entities")),
	       json_object_get_string(json_object_object_get(o, "meshes")),
	       json_object_get_string(json_object_object_get(o, "faces")),
	       json_object_get_string(json_object_object_get(o, "vertices")),
	       json_object_get_string(json_object_object_get(o, "edges")),
	       json_object_get_string(json_object_object_get(o, "materials")));
	printf("  %s folded: %s applied, %s refused, %s excluded by undo, %s control%s\n",
	       json_object_get_string(json_object_object_get(o, "folded")),
	       json_object_get_string(json_object_object_get(o, "applied")),
	       json_object_get_string(json_object_object_get(o, "refused")),
	       json_object_get_string(json_object_object_get(o, "excluded")),
	       json_object_get_string(json_object_object_get(o, "control")),
	       rb->rebuilt ? " (an entry sorted below the rollback window: folded again in one window)" : "");
	printf("  host key %s (%s)\n", fpr, ctl_host_from_text(rb->host_from));
	json_object_put(o);
	return 0;
}

struct json_object *ctl_rebuild_refusals_json(const struct ctl_rebuild *rb)
{
	struct json_object *a = json_object_new_array();
	char key[2 * TH_LOGREC_KEY_LEN + 1];
	for (uint64_t p = 0; p < rb->folded_to && p < rb->out_cap; p++) {
		const struct ctl_outcome *x = &rb->out[p];
		if (x->status != TH_FOLD_REFUSED)
			continue;
		const struct th_cmd_info *ci = th_cmd_find(x->type);
		struct json_object *o = json_object_new_object();
		th_hex_encode(x->author, sizeof(x->author), key);
		json_object_object_add(o, "position", json_object_new_uint64(p));
		json_object_object_add(o, "author", json_object_new_string(key));
		json_object_object_add(o, "seq", json_object_new_uint64(x->seq));
		json_object_object_add(o, "type", json_object_new_string(ci ? ci->name : "?"));
		json_object_object_add(o, "reason", json_object_new_string(th_refusal_name(x->reason)));
		json_object_object_add(o, "why", json_object_new_string(x->why ? x->why : ""));
		json_object_array_add(a, o);
	}
	return a;
}

void ctl_rebuild_refusals_print(const struct ctl_rebuild *rb)
{
	static const char *const hdr[] = { "POS", "AUTHOR", "SEQ", "TYPE", "REASON", "WHY" };
	struct json_object *a = ctl_rebuild_refusals_json(rb);
	size_t n = json_object_array_length(a);
	printf("refused entries: %zu\n", n);
	if (n) {
		struct ctl_table *t = ctl_table_new(6, hdr);
		for (size_t k = 0; k < n; k++) {
			struct json_object *o = json_object_array_get_idx(a, k);
			uint8_t pk[TH_LOGREC_KEY_LEN];
			char fpr[TH_KEY_FPR_LEN] = "?";
			const char *hex = json_object_get_string(json_object_object_get(o, "author"));
			if (ctl_rebuild_parse_key(hex, pk) == 0)
				th_key_fingerprint(pk, fpr, sizeof(fpr));
			const char *row[] = { json_object_get_string(json_object_object_get(o, "position")), fpr,
					      json_object_get_string(json_object_object_get(o, "seq")),
					      json_object_get_string(json_object_object_get(o, "type")),
					      json_object_get_string(json_object_object_get(o, "reason")),
					      json_object_get_string(json_object_object_get(o, "why")) };
			ctl_table_row(t, row);
		}
		ctl_table_print(t);
		ctl_table_free(t);
	}
	json_object_put(a);
}
