/* Browser members (docs/web.md "Who a browser is"): a browser redeems an
 * invite token of a session hosted here and becomes a local member of it
 * under a browser identity of its own (thetad/id: a key, a uid in the
 * browser range); a resume secret brings the same identity back. The web
 * module (thetad/web/module.c) calls these at POST /offer, then attaches
 * the browser to the IPC server pinned to the session (ipc_peer.session_id),
 * where sess_admit checks it is still a member. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "id/id.h"
#include "invite.h" /* proto/invite.h */
#include "sess/module_int.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"

/* The UTC date and time of a Unix second, for sentences. */
static void sess_utc(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%llu", (unsigned long long)t);
}

static void sess_browser_fill(const struct sess_session *s, const struct id_browser *b, uint8_t role,
			      struct sess_browser *out)
{
	memset(out, 0, sizeof(*out));
	out->uid = b->uid;
	memcpy(out->session_id, s->id_bytes, sizeof(out->session_id));
	out->role = role;
	snprintf(out->name, sizeof(out->name), "%s", b->name);
	snprintf(out->session_name, sizeof(out->session_name), "%s", s->name);
}

/* The session a browser may work in: hosted here, its log open. */
static int sess_browser_session(struct sess_module *m, const uint8_t id[SESS_ID_LEN / 2], struct sess_session **out,
				char *why, size_t cap)
{
	char hex[SESS_ID_LEN + 1];
	struct sess_session *s = sess_find_id(m, id);
	th_hex_encode(id, SESS_ID_LEN / 2, hex);
	if (!s || s->role != SESS_ROLE_HOST) {
		snprintf(why, cap, "Session %s is not hosted on this daemon; check the invite link.", hex);
		return -ENOENT;
	}
	if (!s->log) {
		snprintf(why, cap, "Session %s cannot be used on this daemon now: %s.", s->name, s->error);
		return -ENOENT;
	}
	if (s->ended) {
		snprintf(why, cap, "The host ended session %s; ask for an invite to another one.", s->name);
		return -ENOENT;
	}
	*out = s;
	return 0;
}

int sess_module_browser_admit(void *state, const uint8_t *token, size_t len, const char *name, uint64_t now_s,
			      struct sess_browser *out, char *why, size_t cap)
{
	struct sess_module *m = state;
	struct proto_invite_token tok;
	struct sess_session *s;
	char when[64];
	/* The fields first (the expiry for the sentence), then the checks. */
	int r = proto_invite_token_parse(token, len, &tok);
	if (r == 0)
		r = proto_invite_token_verify(token, len, m->host->pk, now_s, NULL);
	switch (r) {
	case 0:
		break;
	case -EKEYREJECTED:
		snprintf(why, cap, "This invite was not made by this daemon (its signature does not match the host key).");
		return r;
	case -EKEYEXPIRED:
		sess_utc(tok.expiry_s, when, sizeof(when));
		snprintf(why, cap, "This invite expired at %s; ask for a new one.", when);
		return r;
	default:
		snprintf(why, cap, "This is not a Theta invite token (%zu bytes; a token is %u).", len,
			 PROTO_INVITE_TOKEN_LEN);
		return -EBADMSG;
	}
	if ((r = sess_browser_session(m, tok.session_id, &s, why, cap)) < 0)
		return r;
	if (tok.single_use && sess_nonce_used(s, tok.nonce)) {
		snprintf(why, cap, "This invite was for one use and has been used; ask for a new one.");
		return -EALREADY;
	}
	struct sess_invite *inv = sess_invite_find(s, tok.nonce); /* NULL: issued before the host kept them */
	if (inv && inv->revoked) {
		snprintf(why, cap, "The host revoked this invite; ask for a new one.");
		return -EKEYREVOKED;
	}
	/* A full member list refuses before an identity is minted: a uid is
	 * never handed out again, so one made for a browser that could not be
	 * listed would be lost for good (and a page could use up the range). */
	if (s->n_locals >= SESS_MAX_LOCAL) {
		snprintf(why, cap, "Session %s already lists %u members on this daemon, the most it keeps.", s->name,
			 SESS_MAX_LOCAL);
		return -ENOSPC;
	}
	struct id_browser b;
	r = id_browser_create(m->ids, s->id_bytes, tok.nonce, tok.role, name, &b, out->resume);
	if (r == -EINVAL) {
		snprintf(why, cap, "Choose a display name of 1 to %u bytes of text without control characters.",
			 ID_BROWSER_NAME_MAX);
		return r;
	}
	if (r == -ENOSPC) {
		snprintf(why, cap, "This daemon already keeps %u browser identities, the most it can.", ID_BROWSERS_MAX);
		return r;
	}
	if (r < 0) {
		snprintf(why, cap, "This daemon cannot store a browser identity: %s.", th_strerror(r));
		return r;
	}
	/* The nonce is used from now on (an identity made and not listed
	 * below is harmless: its uid is a member of nothing). */
	if (tok.single_use) {
		if ((r = sess_nonce_mark(s, tok.nonce)) == 0)
			r = sess_members_save(s);
		if (r < 0) {
			snprintf(why, cap, "This daemon cannot record the invite as used: %s.", th_strerror(r));
			return r;
		}
	}
	if ((r = sess_local_allow(s, b.uid, tok.role)) == 0)
		r = sess_local_save(s);
	if (r < 0) {
		sess_local_deny(s, b.uid);
		if (r == -ENOSPC)
			snprintf(why, cap, "Session %s already lists %u members on this daemon, the most it keeps.", s->name,
				 SESS_MAX_LOCAL);
		else
			snprintf(why, cap, "This daemon cannot record the new member: %s.", th_strerror(r));
		return r;
	}
	if (inv) { /* `invite list` counts the browser's join too */
		inv->uses++;
		if ((r = sess_invites_save(s)) < 0)
			th_warn("session %s: cannot store the invite list: %s", s->id, th_strerror(r));
	}
	uint8_t resume[ID_RESUME_LEN];
	memcpy(resume, out->resume, sizeof(resume));
	sess_browser_fill(s, &b, tok.role, out);
	memcpy(out->resume, resume, sizeof(resume));
	memset(resume, 0, sizeof(resume));
	th_notice("session %s (%s): browser '%s' (uid %u) joined by invite as %s", s->id, s->name, b.name,
		  (unsigned)b.uid, th_role_name(tok.role));
	return 0;
}

int sess_module_browser_resume(void *state, const uint8_t resume[32], struct sess_browser *out, char *why,
			       size_t cap)
{
	struct sess_module *m = state;
	struct id_browser b;
	struct sess_session *s;
	if (id_browser_resume(m->ids, resume, &b) < 0) {
		snprintf(why, cap, "This browser's identity is not known to this daemon; open the invite link again.");
		return -ENOENT;
	}
	if (sess_browser_session(m, b.session_id, &s, why, cap) < 0)
		return -EPERM;
	uint8_t role = sess_local_role(s, b.uid);
	if (!role) {
		snprintf(why, cap, "%s is no longer a member of session %s; ask for a new invite.", b.name, s->name);
		return -EPERM;
	}
	sess_browser_fill(s, &b, role, out); /* the role as it stands now (session allow may change it) */
	return 0;
}

int sess_browser_name(struct sess_module *m, uid_t uid, char *buf, size_t len)
{
	struct id_browser b;
	if (!id_uid_is_browser(uid) || id_browser_get(m->ids, uid, &b) < 0)
		return -ENOENT;
	snprintf(buf, len, "%s", b.name);
	return 0;
}

int sess_browser_by_name(struct sess_module *m, const struct sess_session *s, const char *name, uid_t *uid)
{
	int found = -ENOENT;
	for (unsigned i = 0; i < s->n_locals; i++) {
		struct id_browser b;
		if (!id_uid_is_browser(s->locals[i].uid) || id_browser_get(m->ids, s->locals[i].uid, &b) < 0 ||
		    strcmp(b.name, name) != 0)
			continue;
		if (found == 0)
			return -ENOTUNIQ; /* two browsers of that name: say it by uid */
		*uid = b.uid;
		found = 0;
	}
	return found;
}
