/* Local members of sessions: who may work in a session on this daemon
 * (the admit check at a client's hello, closing clients whose user stops
 * being a member) and the `session_allow`, `session_deny` and
 * `session_members` control commands. docs/operator.md, "Who may use a
 * session". */
#include <grp.h>
#include <pwd.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "id/id.h"
#include "ipc.h"
#include "ipc/server.h"
#include "sess/module_int.h"
#include "srv/control.h"
#include "th_err.h"
#include "th_log.h"
#include "srv/daemon.h"
#include "th_cmd.h"

/* ---- local members ---------------------------------------------------------- */

/* Root, the daemon's own user and the admin group (control.admin_group)
 * administer this daemon: they are members of every session, as admins.
 * Everyone else is a member of the sessions that list them
 * (sess_local_role): the creator, and the users an admin allowed. */
bool sess_uid_privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

bool sess_peer_admin(struct sess_module *m, const struct ipc_peer *p)
{
	if (sess_uid_privileged(p->uid))
		return true;
	const char *name = srv_daemon_config(m->d)->admin_group;
	struct group gr, *g = NULL;
	char buf[4096];
	if (!name[0] || getgrnam_r(name, &gr, buf, sizeof(buf), &g) != 0 || !g)
		return false;
	if (p->gid == g->gr_gid)
		return true;
	for (unsigned i = 0; i < p->n_groups; i++)
		if (p->groups[i] == g->gr_gid)
			return true;
	return false;
}

uint8_t sess_member_role(const struct sess_session *s, uid_t uid, bool admin)
{
	return admin ? TH_ROLE_ADMIN : sess_local_role(s, uid);
}

/* The one sentence a refused client (and thetactl) prints. */
void sess_not_member_msg(const struct sess_session *s, const char *user, char *buf, size_t len)
{
	snprintf(buf, len, "user %s is not a member of session %s; ask an admin: thetactl session allow %s --role editor",
		 user, s->name, user);
}

void sess_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
}

/* Closes the clients in s whose user is not (or no longer) a member. */
void sess_close_non_members(struct sess_module *m, struct sess_session *s)
{
	struct sess_client *c = m->clients;
	while (c) {
		struct sess_client *next = c->next;
		if (c->s == s && !sess_member_role(s, c->uid, c->admin)) {
			char why[PROTO_IPC_MAX_DETAIL + 1];
			if (id_uid_is_browser(c->uid)) /* its user cannot run thetactl */
				snprintf(why, sizeof(why),
					 "%s is not a member of session %s any more (an admin denied it); open a new "
					 "invite link",
					 c->user, s->name);
			else
				sess_not_member_msg(s, c->user, why, sizeof(why));
			(*m->m_not_member)++;
			ipc_server_close(m->ipc, c->id, PROTO_IPC_REFUSE_NOT_MEMBER, why); /* frees c */
		}
		c = next;
	}
}

struct sess_session *sess_find_id(struct sess_module *m, const uint8_t id[SESS_ID_LEN / 2])
{
	for (unsigned i = 0; i < m->reg.n; i++)
		if (!memcmp(m->reg.s[i]->id_bytes, id, SESS_ID_LEN / 2))
			return m->reg.s[i];
	return NULL;
}

/* A client works in the current session only if its user is a member. A
 * remote client (a browser, thetad/web/) works in the session it is pinned
 * to, only as a listed member of it (its uid is a browser identity's). A
 * client.sock client never has a browser uid. */
int sess_admit(void *user, uint64_t client_id, const struct ipc_peer *p, uint32_t *reason, char *why,
		      size_t why_len)
{
	struct sess_module *m = user;
	struct sess_session *s = m->current;
	if (p->session_id) {
		s = sess_find_id(m, p->session_id);
		if (!s || !s->log) {
			(*m->m_not_member)++;
			*reason = PROTO_IPC_REFUSE_NOT_MEMBER;
			snprintf(why, why_len, "%s", s ? "the session's log is not open on this daemon"
						 : "the session is not kept on this daemon any more");
			return -ENOENT;
		}
		if (sess_local_role(s, p->uid))
			return 0;
		(*m->m_not_member)++;
		*reason = PROTO_IPC_REFUSE_NOT_MEMBER;
		snprintf(why, why_len, "%s is not a member of session %s (denied?); open a new invite link",
			 p->user, s->name);
		return -EACCES;
	}
	if (p->session_want) { /* theta-client --session S */
		s = sess_lookup(&m->reg, p->session_want, why, why_len);
		const char *bad = s ? sess_unusable(s) : NULL;
		if (!s || bad) {
			if (bad)
				snprintf(why, why_len, "session %s (%s) %s", s->name, s->id, bad);
			*reason = PROTO_IPC_REFUSE_NO_SESSION;
			return -ENOENT;
		}
	}
	if (id_uid_is_browser(p->uid)) {
		(*m->m_not_member)++;
		*reason = PROTO_IPC_REFUSE_NOT_MEMBER;
		snprintf(why, why_len,
			 "uid %u is in the range of browser identities (%u..%u) and may not use client.sock",
			 (unsigned)p->uid, ID_BROWSER_UID_BASE, ID_BROWSER_UID_BASE + ID_BROWSERS_MAX - 1);
		return -EACCES;
	}
	if (!s || sess_member_role(s, p->uid, sess_peer_admin(m, p)))
		return 0;
	(*m->m_not_member)++;
	*reason = PROTO_IPC_REFUSE_NOT_MEMBER;
	sess_not_member_msg(s, p->user, why, why_len);
	return -EACCES;
}

/* The user who hosted or joined a session is a member of it (as admin,
 * capped by the role the host grants in a member session) even when it
 * later leaves the admin group. Root and the daemon's user need no entry. */
int sess_add_creator(struct sess_session *s, uid_t creator)
{
	if (sess_uid_privileged(creator) || sess_local_role(s, creator) == TH_ROLE_ADMIN)
		return 0;
	int r = sess_local_allow(s, creator, TH_ROLE_ADMIN);
	return r < 0 ? r : sess_local_save(s);
}

/* A member's name for sentences and `session members`: a browser's
 * display name, else the user's. */
static void sess_member_name(struct sess_module *m, uid_t uid, char *buf, size_t len)
{
	if (sess_browser_name(m, uid, buf, len) < 0)
		sess_user_name(uid, buf, len);
}

/* USER as a name, a decimal uid, or the display name of a browser member
 * of s; 0 and *uid, or -ENOENT with err set. */
static int sess_parse_user(struct sess_module *m, const struct sess_session *s, struct json_object *args, uid_t *uid,
			   char *name, size_t nlen, char *err, size_t errlen)
{
	struct json_object *v;
	const char *u = args && json_object_object_get_ex(args, "user", &v) ? json_object_get_string(v) : NULL;
	if (!u || !*u) {
		snprintf(err, errlen, "say which user (a name or a uid)");
		return -EINVAL;
	}
	struct passwd pw, *res = NULL;
	char tmp[1024], *end;
	int br;
	if (getpwnam_r(u, &pw, tmp, sizeof(tmp), &res) == 0 && res) {
		*uid = res->pw_uid;
	} else if ((br = sess_browser_by_name(m, s, u, uid)) != -ENOENT) {
		if (br < 0) {
			snprintf(err, errlen, "several browsers in session %s are called '%.64s'; name one by its uid "
					      "(thetactl session members)", s->name, u);
			return -ENOENT;
		}
	} else {
		unsigned long x = strtoul(u, &end, 10);
		if (*end || end == u || u[0] == '-' || x >= (unsigned long)(uid_t)-1) {
			snprintf(err, errlen, "no user '%.64s' on this machine (nor a browser of session %s)", u, s->name);
			return -ENOENT;
		}
		*uid = (uid_t)x;
	}
	sess_member_name(m, *uid, name, nlen);
	return 0;
}

/* The session (--session, else the current one) and the user an allow or
 * deny names; 0, or negative errno with err set. */
static int sess_pick_user(struct sess_module *m, struct json_object *args, bool allowing, struct sess_session **s,
			  uid_t *uid, char name[64], char *err, size_t errlen)
{
	*s = sess_pick(m, args, err, errlen);
	if (!*s)
		return -ENOENT;
	int r = sess_parse_user(m, *s, args, uid, name, 64, err, errlen);
	if (r < 0 || !id_uid_is_browser(*uid))
		return r;
	/* A browser uid is a member of its own session only, and only while
	 * its identity exists (a uid whose record was refused may still be
	 * denied). */
	struct id_browser b;
	if (id_browser_get(m->ids, *uid, &b) < 0) {
		if (!allowing)
			return 0;
		snprintf(err, errlen, "uid %u is in the range of browser identities but no browser has it", (unsigned)*uid);
		return -ENOENT;
	}
	if (memcmp(b.session_id, (*s)->id_bytes, sizeof(b.session_id)) != 0) {
		snprintf(err, errlen, "browser %s (uid %u) belongs to another session than %s", b.name, (unsigned)*uid,
			 (*s)->name);
		return -EBUSY;
	}
	return 0;
}

/* What allow and deny answer: the session and the user. */
static struct json_object *sess_user_result(const struct sess_session *s, const char *name, uid_t uid)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "session", json_object_new_string(s->id));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "user", json_object_new_string(name));
	json_object_object_add(o, "uid", json_object_new_int64((int64_t)uid));
	return o;
}

int sess_cmd_allow(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **res, char *err, size_t errlen)
{
	struct sess_session *s;
	struct json_object *v;
	char name[64];
	uid_t uid;
	int r = sess_pick_user(u, args, true, &s, &uid, name, err, errlen);
	if (r < 0)
		return r;
	const char *rs = args && json_object_object_get_ex(args, "role", &v) ? json_object_get_string(v) : "editor";
	int role = th_role_parse(rs);
	if (role < TH_ROLE_VIEWER || role > TH_ROLE_ADMIN) {
		snprintf(err, errlen, "'%.32s' is not a role (viewer, editor, admin)", rs);
		return -EINVAL;
	}
	if (sess_uid_privileged(uid)) {
		snprintf(err, errlen, "%s administers this daemon and is a member of every session", name);
		return -EEXIST;
	}
	uint8_t before = sess_local_role(s, uid);
	if ((r = sess_local_allow(s, uid, (uint8_t)role)) < 0) {
		snprintf(err, errlen, "session %s already lists %u users, the most it keeps", s->name, SESS_MAX_LOCAL);
		return r;
	}
	if ((r = sess_local_save(s)) < 0) {
		if (before)
			sess_local_allow(s, uid, before);
		else
			sess_local_deny(s, uid);
		snprintf(err, errlen, "cannot write %s/local_members: %s", s->dir, th_strerror(r));
		return r;
	}
	th_notice("session %s (%s): user %s (uid %u) allowed as %s by uid %u", s->id, s->name, name, (unsigned)uid,
		  th_role_name((unsigned)role), (unsigned)caller->uid);
	*res = sess_user_result(s, name, uid);
	json_object_object_add(*res, "role", json_object_new_string(th_role_name((unsigned)role)));
	return 0;
}

int sess_cmd_deny(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			 struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s;
	char name[64];
	uid_t uid;
	int r = sess_pick_user(m, args, false, &s, &uid, name, err, errlen);
	if (r < 0)
		return r;
	if (sess_uid_privileged(uid)) {
		snprintf(err, errlen, "%s administers this daemon and is a member of every session", name);
		return -EPERM;
	}
	uint8_t before = sess_local_role(s, uid);
	if (sess_local_deny(s, uid) < 0) {
		snprintf(err, errlen, "user %s is not a member of session %s", name, s->name);
		return -ENOENT;
	}
	if ((r = sess_local_save(s)) < 0) {
		sess_local_allow(s, uid, before);
		snprintf(err, errlen, "cannot write %s/local_members: %s", s->dir, th_strerror(r));
		return r;
	}
	sess_close_non_members(m, s);
	th_notice("session %s (%s): user %s (uid %u) denied by uid %u", s->id, s->name, name, (unsigned)uid,
		  (unsigned)caller->uid);
	*res = sess_user_result(s, name, uid);
	return 0;
}

int sess_cmd_members(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			    struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s = sess_pick(m, args, err, errlen);
	if (!s)
		return -ENOENT;
	struct json_object *arr = json_object_new_array();
	for (unsigned i = 0; i < s->n_locals; i++) {
		char name[64];
		unsigned clients = 0;
		for (struct sess_client *c = m->clients; c; c = c->next)
			clients += c->s == s && c->uid == s->locals[i].uid;
		bool browser = sess_browser_name(m, s->locals[i].uid, name, sizeof(name)) == 0;
		if (!browser)
			sess_user_name(s->locals[i].uid, name, sizeof(name));
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "user", json_object_new_string(name));
		json_object_object_add(o, "kind", json_object_new_string(browser ? "browser" : "user"));
		json_object_object_add(o, "uid", json_object_new_int64((int64_t)s->locals[i].uid));
		json_object_object_add(o, "role", json_object_new_string(th_role_name(s->locals[i].role)));
		json_object_object_add(o, "clients", json_object_new_int((int)clients));
		json_object_array_add(arr, o);
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "name", json_object_new_string(s->name));
	json_object_object_add(*res, "admin_group", json_object_new_string(srv_daemon_config(m->d)->admin_group));
	json_object_object_add(*res, "members", arr);
	return 0;
}
