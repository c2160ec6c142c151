/* Commands from thetactl signed as the caller: the `submit` control
 * command takes a command (type, scope, payload) from a local user and
 * signs it with that user's own key (STATE_DIR/keys/users/UID.key), after
 * the checks a theta-client's submit passes (a member of the session, the
 * role the session gives the user and, in a member session, the role the
 * host granted and the per-user rate), so `thetactl import` and `thetactl
 * undo` make entries attributable to the person who ran them, exactly as
 * an edit from their client would be; with "as": "host" a daemon admin
 * signs an edit.undo / edit.redo with the session's host key, which the
 * fold treats as admin (undo of anyone's edit). `entry` finds an entry of the log
 * by lamport and author (as `thetactl log` shows them) and says what the
 * scene made of it. docs/command-log.md, "Commands from thetactl". */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog.h"
#include "id/id.h"
#include "sess/module_int.h"
#include "sess/scene.h"
#include "srv/control.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_fold.h"
#include "th_hex.h"
#include "th_logrec.h"
#include "th_time.h"

/* The pending bound of one log's queue is per source: thetactl submits of
 * a user share one source, apart from every theta-client connection (whose
 * sources are the IPC client ids, small counters). */
#define SESS_SUBMIT_SOURCE_BASE 0x80000000u
/* The request-number slot (sess_next_req) of entries signed with the host
 * key: no user has this uid. */
#define SESS_SUBMIT_HOST_UID ((uid_t)-1)
/* Entries `entry` looks at with the lamport asked for (authors sharing a
 * lamport) before it calls the name ambiguous. */
#define SESS_ENTRY_SAME_LAMPORT_MAX 64u
/* Shortest fingerprint prefix `entry` takes (after "SHA256:"), so a
 * prefix names one author among many. */
#define SESS_ENTRY_FPR_PREFIX_MIN 4u

static const char *sess_jstr(struct json_object *args, const char *key)
{
	struct json_object *v;
	if (!args || !json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A u64 given as a JSON integer or as a decimal / 0x-hex string. */
static int sess_ju64(struct json_object *args, const char *key, uint64_t *out)
{
	struct json_object *v;
	if (!args || !json_object_object_get_ex(args, key, &v))
		return -ENOENT;
	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);
		if (x < 0)
			return -EINVAL;
		*out = json_object_get_uint64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (*end || errno)
		return -EINVAL;
	*out = x;
	return 0;
}

static const struct th_cmd_info *sess_cmd_by_name(const char *name)
{
	for (size_t i = 0; i < th_cmd_count(); i++) {
		const struct th_cmd_info *c = th_cmd_at(i);
		if (!strcmp(c->name, name))
			return c;
	}
	return NULL;
}

/* The payload from args.payload (hex) or args.payload_base64 into out
 * (TH_LOGREC_PAYLOAD_MAX bytes). Returns its length or -EINVAL with err. */
static long sess_payload_arg(struct json_object *args, uint8_t *out, char *err, size_t errlen)
{
	const char *hex = sess_jstr(args, "payload"), *b64 = sess_jstr(args, "payload_base64");
	if (hex && b64) {
		snprintf(err, errlen, "submit takes \"payload\" (hex) or \"payload_base64\", not both");
		return -EINVAL;
	}
	if (hex) {
		size_t n = strlen(hex);
		if (n % 2 || n / 2 > TH_LOGREC_PAYLOAD_MAX || th_hex_decode(hex, n, out, n / 2, false) < 0) {
			snprintf(err, errlen, "the payload is not hex digits of at most %u bytes", TH_LOGREC_PAYLOAD_MAX);
			return -EINVAL;
		}
		return (long)(n / 2);
	}
	if (b64) {
		size_t n = 0;
		if (sodium_base642bin(out, TH_LOGREC_PAYLOAD_MAX, b64, strlen(b64), NULL, &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0) {
			snprintf(err, errlen, "payload_base64 is not standard base64 of at most %u bytes",
				 TH_LOGREC_PAYLOAD_MAX);
			return -EINVAL;
		}
		return (long)n;
	}
	return 0; /* an empty payload (entity.destroy) */
}

static void sess_json_key(struct json_object *o, const uint8_t key[TH_LOGREC_KEY_LEN])
{
	char hex[2 * TH_LOGREC_KEY_LEN + 1], fpr[TH_KEY_FPR_LEN];
	th_hex_encode(key, TH_LOGREC_KEY_LEN, hex);
	th_key_fingerprint(key, fpr, sizeof(fpr));
	json_object_object_add(o, "author", json_object_new_string(hex));
	json_object_object_add(o, "fingerprint", json_object_new_string(fpr));
}

int sess_cmd_submit(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		    struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s;
	uint64_t now = th_now_ns(), scope = 0;
	int r = sess_pick_open(m, caller, args, &s, err, errlen);
	if (r < 0)
		return r;
	const char *tname = sess_jstr(args, "type");
	const struct th_cmd_info *info = tname ? sess_cmd_by_name(tname) : NULL;
	if (!info) {
		snprintf(err, errlen, "submit needs \"type\", a command name as schemas/commands.def spells it (e.g. mesh.create), not '%s'",
			 tname ? tname : "");
		return -EINVAL;
	}
	r = sess_ju64(args, "scope", &scope);
	if (r == -EINVAL || (r == -ENOENT && info->scope != TH_SCOPE_GLOBAL)) {
		snprintf(err, errlen, "%s needs \"scope\", the %s id it applies to (an integer or 0x-hex string)",
			 info->name, th_scope_name(info->scope));
		return -EINVAL;
	}
	if (info->scope == TH_SCOPE_GLOBAL && scope) {
		snprintf(err, errlen, "%s applies to the whole session: its scope must be 0", info->name);
		return -EINVAL;
	}
	uint8_t *payload = malloc(TH_LOGREC_PAYLOAD_MAX);
	if (!payload)
		return -ENOMEM;
	long plen = sess_payload_arg(args, payload, err, errlen);
	if (plen < 0) {
		free(payload);
		return (int)plen;
	}
	const struct th_keypair *key;
	char name[64];
	const char *as = sess_jstr(args, "as");
	bool as_host = as && !strcmp(as, "host");
	if (as && !as_host) {
		snprintf(err, errlen, "\"as\" may only be \"host\" (or left out: your own key), not '%s'", as);
		r = -EINVAL;
		goto out;
	}
	if (as_host) {
		/* The session's host key is admin in the fold throughout: a daemon
		 * admin of the host may undo or redo anyone's edit with it. */
		if (!caller->may_change || s->role != SESS_ROLE_HOST ||
		    (info->id != TH_CMD_EDIT_UNDO && info->id != TH_CMD_EDIT_REDO) || !m->host) {
			snprintf(err, errlen, "%s",
				 !caller->may_change ? "signing with the host key needs root or membership of the admin group"
				 : s->role != SESS_ROLE_HOST ? "this daemon does not host the session: only its host signs with the host key"
							     : "the host key signs only edit.undo and edit.redo");
			r = -EPERM;
			goto out;
		}
		key = m->host;
	} else if ((r = id_user_key(m->ids, caller->uid, &key)) < 0) {
		snprintf(err, errlen, "no signing key for uid %u: %s", (unsigned)caller->uid, th_strerror(r));
		goto out;
	}
	/* As a client's submit (module.c sess_on_submit): the user's own
	 * role in the session, capped by the host's grant in a member one. */
	uint8_t role = as_host ? TH_ROLE_ADMIN : sess_member_role(s, caller->uid, caller->may_change);
	if (!role) {
		sess_user_name(caller->uid, name, sizeof(name));
		sess_not_member_msg(s, name, err, errlen);
		r = -EPERM;
		goto out;
	}
	if (s->role == SESS_ROLE_MEMBER) {
		if (!s->link.granted_role) {
			snprintf(err, errlen, "the host has not admitted this daemon to session %s yet", s->name);
			r = -EAGAIN;
			goto out;
		}
		if (s->link.granted_role < role)
			role = s->link.granted_role;
		if (!sess_member_rate_ok(m, caller->uid, now)) {
			snprintf(err, errlen, "%s", clog_reason_str(CLOG_R_RATE));
			r = -EAGAIN;
			goto out;
		}
	}
	if (sess_hold_wants(m, s, key->pk)) {
		/* Signing now could reuse a seq of an entry coming back (hold.c);
		 * a control request does not wait, so it is refused. */
		snprintf(err, errlen,
			 "your last edits in session %s are being recovered from its peers; submit again in a few seconds",
			 s->name);
		r = -EAGAIN;
		goto out;
	}
	uint64_t req = sess_next_req(m, as_host ? SESS_SUBMIT_HOST_UID : caller->uid);
	if (!req) {
		snprintf(err, errlen, "this daemon signs for at most %u users per run", SESS_MAX_AUTHORS);
		r = -ENOSPC;
		goto out;
	}
	struct clog_submit sub = {
		.source = SESS_SUBMIT_SOURCE_BASE | ((uint32_t)caller->uid & ~SESS_SUBMIT_SOURCE_BASE),
		.role = role,
		.key = key,
		.req_seq = req,
		.type = info->id,
		.scope_kind = info->scope,
		.scope_id = scope,
		.base = clog_lamport(s->log),
		.time_ns = th_wall_ns(),
		.payload = payload,
		.payload_len = (uint32_t)plen,
	};
	struct clog_id id;
	int why = 0;
	(*m->m_submits)++;
	r = clog_submit_local(s->log, &sub, now, &id, &why);
	if (r < 0) {
		(*m->m_rejects)++;
		sess_reject_text(why, info->id, clog_reject_detail(s->log), err, errlen);
		r = why == CLOG_R_RATE || why == CLOG_R_PENDING ? -EAGAIN : r;
		goto out;
	}
	sess_arm_flush(m);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "type", json_object_new_string(info->name));
	json_object_object_add(*res, "lamport", json_object_new_uint64(id.lamport));
	json_object_object_add(*res, "seq", json_object_new_uint64(id.seq));
	sess_json_key(*res, key->pk);
	/* Admitted: signed and queued; durable with the next group commit
	 * (`entry` answers once it is folded). */
	json_object_object_add(*res, "state", json_object_new_string("admitted"));
	r = 0;
out:
	free(payload);
	return r;
}

/* ---- entry ------------------------------------------------------------------ */

struct sess_entry_find {
	uint64_t lamport;
	const uint8_t *key;  /* exact author, or NULL */
	const char *prefix;  /* fingerprint prefix (after "SHA256:"), or NULL */
	unsigned hits;
	struct th_logrec_entry hit; /* its payload pointer is not kept */
	unsigned seen;
};

static int sess_entry_cb(void *user, const struct th_logrec_entry *e)
{
	struct sess_entry_find *q = user;
	if (e->lamport != q->lamport || ++q->seen > SESS_ENTRY_SAME_LAMPORT_MAX)
		return -ECANCELED;
	if (q->key && memcmp(q->key, e->author, TH_LOGREC_KEY_LEN))
		return 0;
	if (q->prefix) {
		char fpr[TH_KEY_FPR_LEN];
		th_key_fingerprint(e->author, fpr, sizeof(fpr));
		if (strncmp(fpr + 7, q->prefix, strlen(q->prefix)))
			return 0;
	}
	if (!q->hits++) {
		q->hit = *e;
		q->hit.payload = NULL; /* valid only in the callback */
	}
	return 0;
}

static const char *sess_status_name(uint8_t st)
{
	switch (st) {
	case TH_FOLD_APPLIED:
		return "applied";
	case TH_FOLD_REFUSED:
		return "refused";
	case TH_FOLD_EXCLUDED:
		return "excluded";
	case TH_FOLD_CONTROL:
		return "control";
	default:
		return "?";
	}
}

int sess_cmd_entry(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		   struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s;
	struct sess_entry_find q = { 0 };
	uint8_t key[TH_LOGREC_KEY_LEN];
	int r = sess_pick_open(m, caller, args, &s, err, errlen);
	if (r < 0)
		return r;
	if (sess_ju64(args, "lamport", &q.lamport) < 0 || !q.lamport) {
		snprintf(err, errlen, "entry needs \"lamport\", the entry's lamport (1 or more) as `thetactl log` shows it");
		return -EINVAL;
	}
	const char *a = sess_jstr(args, "author");
	if (a && strlen(a) == 2 * TH_LOGREC_KEY_LEN && th_hex_decode(a, strlen(a), key, sizeof(key), false) == 0) {
		q.key = key;
	} else if (a && *a) {
		q.prefix = strncmp(a, "SHA256:", 7) ? a : a + 7;
		if (strlen(q.prefix) < SESS_ENTRY_FPR_PREFIX_MIN) {
			snprintf(err, errlen, "'%s' is too short a key fingerprint: give at least %u characters after SHA256:",
				 a, SESS_ENTRY_FPR_PREFIX_MIN);
			return -EINVAL;
		}
	}
	r = clog_entries_since(s->log, q.lamport - 1, 0, sess_entry_cb, &q);
	if (r < 0 && r != -ECANCELED) {
		snprintf(err, errlen, "cannot read the log of session %s: %s", s->id, th_strerror(r));
		return r;
	}
	if (!q.hits) {
		snprintf(err, errlen, "no entry with lamport %" PRIu64 "%s%s in session %s (see thetactl log)", q.lamport,
			 a ? " by " : "", a ? a : "", s->name);
		return -ENOENT;
	}
	if (q.hits > 1) {
		snprintf(err, errlen,
			 "%u entries have lamport %" PRIu64 "%s%s in session %s; name the author too: LAMPORT:FINGERPRINT (see thetactl log)",
			 q.hits, q.lamport, a ? " and match " : "", a ? a : "", s->name);
		return -EINVAL;
	}
	const struct th_cmd_info *info = th_cmd_find(q.hit.type);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "lamport", json_object_new_uint64(q.hit.lamport));
	json_object_object_add(*res, "seq", json_object_new_uint64(q.hit.seq));
	sess_json_key(*res, q.hit.author);
	json_object_object_add(*res, "type", json_object_new_string(info ? info->name : "?"));
	json_object_object_add(*res, "scope_id", json_object_new_uint64(q.hit.scope_id));
	/* What the scene made of it, once folded (the live fold: while the
	 * scene is rebuilt or caught up there is no answer yet). */
	struct th_fold *f = sess_scene_fold(s);
	struct th_fold_outcome o;
	if (f && th_fold_outcome_of(f, q.hit.lamport, q.hit.author, &o) == 0) {
		json_object_object_add(*res, "outcome", json_object_new_string(sess_status_name(o.status)));
		if (o.status == TH_FOLD_REFUSED) {
			json_object_object_add(*res, "reason", json_object_new_string(th_refusal_name(o.reason)));
			json_object_object_add(*res, "why", json_object_new_string(o.why ? o.why : ""));
		}
	} else if (f && th_fold_author_seq(f, q.hit.author) >= q.hit.seq) {
		/* Folded, and past the rollback window: its outcome is gone. */
		json_object_object_add(*res, "outcome", json_object_new_string("folded"));
	} else {
		json_object_object_add(*res, "outcome", json_object_new_string("pending"));
	}
	return 0;
}
