/* Which session local clients work in, chosen by a person: `thetactl
 * session use S` (the daemon's current session, remembered in
 * STATE_DIR/sessions/current), and forgetting a session that was left or
 * ended (`session forget`, called by the net module, which knows whether
 * the session is still linked). A client that asked for a session in its
 * hello (`theta-client --session S`) stays in it (members.c, module.c). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "sess/module.h"
#include "sess/module_int.h"
#include "sess/scene.h"
#include "sess/sessions.h"
#include "srv/control.h"
#include "th_err.h"
#include "th_log.h"

const char *sess_unusable(const struct sess_session *s)
{
	if (s->role == SESS_ROLE_MEMBER && s->link.left)
		return "was left; join it again with a new invite first";
	if (s->role == SESS_ROLE_HOST && s->ended)
		return "was ended by this daemon; host a new session instead";
	if (!s->log)
		return s->error[0] ? s->error : "has no open log";
	return NULL;
}

static int sess_cmd_use(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			struct json_object **res, char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct json_object *v;
	if (!args || !json_object_object_get_ex(args, "session", &v) || !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "session use needs a SESSION (its name or id; see thetactl sessions)");
		return -EINVAL;
	}
	struct sess_session *s = sess_lookup(&m->reg, json_object_get_string(v), err, errlen);
	if (!s)
		return -ENOENT;
	const char *why = sess_unusable(s);
	if (why) {
		snprintf(err, errlen, "session %s (%s) %s", s->name, s->id, why);
		return -EPERM; /* the session's state, not the request: exit 1 */
	}
	bool changed = m->current != s;
	sess_module_set_current(m, s);
	if (changed)
		th_notice("session %s (%s) is now the current session (uid %u)", s->id, s->name, (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "name", json_object_new_string(s->name));
	json_object_object_add(*res, "changed", json_object_new_boolean(changed));
	return 0;
}

int sess_module_forget(void *state, struct sess_session *s, bool del, char *err, size_t errlen)
{
	struct sess_module *m = state;
	if (s == m->current) {
		snprintf(err, errlen,
			 "session %s (%s) is the one local clients work in; choose another first (thetactl session use)",
			 s->name, s->id);
		return -EBUSY;
	}
	unsigned clients = 0;
	for (struct sess_client *c = m->clients; c; c = c->next)
		clients += c->s == s;
	if (clients) {
		snprintf(err, errlen, "%u client%s still work%s in session %s (%s) (see thetactl clients)", clients,
			 clients == 1 ? "" : "s", clients == 1 ? "s" : "", s->name, s->id);
		return -EBUSY;
	}
	sess_log_readers_close(m, s);
	sess_scene_close(m, s);
	int r = sess_forget(&m->reg, s, del);
	if (r == -ENOSPC) {
		snprintf(err, errlen, "this daemon forgot %u sessions since it started; restart it to forget more",
			 SESS_FORGOTTEN_MAX);
		return r;
	}
	if (r == -ENOENT) {
		snprintf(err, errlen, "session %s is not listed any more", s->id);
		return r;
	}
	if (r < 0 && sess_find(&m->reg, s->id) == s)
		snprintf(err, errlen, "cannot forget session %s: %s", s->id, th_strerror(r));
	else if (r < 0) /* out of the list all the same; the files say what is left */
		snprintf(err, errlen, "session %s was forgotten, but %s its files failed: %s", s->id,
			 del ? "removing" : "moving", th_strerror(r));
	return r;
}

void sess_choose_register(struct sess_module *m, struct srv_control *ctl)
{
	srv_control_register(ctl, "session_use", SRV_CTL_CHANGE, sess_cmd_use, m);
}
