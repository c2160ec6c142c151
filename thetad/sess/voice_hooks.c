/* The voice module's view of sessions (module.h, "sess_voice_hooks"): the
 * hooks are set here; module.c calls pose and current, client_info.c info. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "id/id.h"
#include "sess/client_info.h"
#include "sess/module.h"
#include "sess/module_int.h"
#include "th_time.h"

void sess_module_set_voice(void *state, const struct sess_voice_hooks *h, void *user)
{
	struct sess_module *m = state;
	if (h)
		m->voice = *h;
	else
		memset(&m->voice, 0, sizeof m->voice);
	m->voice_user = user;
}

int sess_module_client_voice(void *state, uint64_t client_id, struct sess_session **s, uint8_t author[SESS_KEY_LEN],
			     char *name, size_t cap)
{
	struct sess_module *m = state;
	struct sess_client *c = sess_client_find(m, client_id);
	const struct th_keypair *key;
	if (!c || !c->s || id_user_key(m->ids, c->uid, &key) < 0)
		return -ENOENT;
	*s = c->s;
	memcpy(author, key->pk, SESS_KEY_LEN);
	snprintf(name, cap, "%s", c->user);
	return 0;
}

void sess_module_info_changed(void *state)
{
	struct sess_module *m = state;
	/* Each client's own interval still holds (sess_cinfo_due). */
	sess_cinfo_tick(m, th_now_ns());
}
