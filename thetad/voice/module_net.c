/* The voice module's glue to the net module (thetad/net/module.h): VOICE
 * datagrams, speaker names and admin mutes from the session come in as
 * copies for the voice thread; local speakers' frames and names go out. A
 * daemon without a net module (it failed to start) has local voice only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/module.h"
#include "session.h"
#include "voice/module_int.h"

_Static_assert(PROTO_SESS_VOICE_OPUS_MAX == VOICE_OPUS_MAX, "a VOICE datagram carries any frame the engine makes");
_Static_assert(PROTO_SESS_VOICE_F_ALL == VOICE_PKT_F_ALL, "VOICE vflags are the engine's");
_Static_assert(PROTO_SESS_KEY_LEN == VOICE_KEY_LEN, "a speaker is a user's key");
_Static_assert(PROTO_SESS_VOICE_NAME_MAX == VOICE_NAME_MAX, "names fit VOICE_NAME");

static void on_net_voice(void *user, struct sess_session *s, const struct proto_sess_dgram *d, uint64_t now_ns)
{
	struct voice_module *m = user;
	(void)now_ns;
	if (s != m->cur) {
		(*m->m_remote_other)++;
		return;
	}
	if (!*m->m_clients)
		return; /* nobody here listens: the engine's clock is off */
	(*m->m_remote_in)++;
	struct voice_packet p = { .seq = (uint32_t)d->seq, .ts = d->ts, .flags = d->vflags, .len = d->opus_len,
				  .data = d->opus };
	memcpy(p.speaker, d->author, VOICE_KEY_LEN);
	voice_thread_packet(m->t, &p); /* -EINVAL past VOICE_OPUS_MAX: net's bound is the same */
}

/* The speaker's entry in what the session said, made if need be (NULL:
 * VOICE_SPEAKERS_MAX of them already; the engine could hold no more). */
static struct voice_mod_speaker *said_get(struct voice_module *m, const uint8_t key[VOICE_KEY_LEN])
{
	for (unsigned i = 0; i < m->n_said; i++)
		if (!memcmp(m->said[i].key, key, VOICE_KEY_LEN))
			return &m->said[i];
	if (m->n_said == VOICE_SPEAKERS_MAX)
		return NULL;
	struct voice_mod_speaker *sp = &m->said[m->n_said++];
	*sp = (struct voice_mod_speaker){ 0 };
	memcpy(sp->key, key, VOICE_KEY_LEN);
	return sp;
}

static void on_net_name(void *user, struct sess_session *s, const uint8_t speaker[32], const char *name)
{
	struct voice_module *m = user;
	if (s != m->cur)
		return;
	struct voice_mod_speaker *sp = said_get(m, speaker);
	if (sp)
		snprintf(sp->name, sizeof sp->name, "%.*s", (int)VOICE_NAME_MAX, name);
	voice_thread_name(m->t, speaker, name);
}

static void on_net_muted(void *user, struct sess_session *s, const uint8_t speaker[32], bool muted)
{
	struct voice_module *m = user;
	if (s != m->cur)
		return;
	struct voice_mod_speaker *sp = said_get(m, speaker);
	if (sp)
		sp->admin_muted = muted;
	voice_thread_admin_mute(m->t, speaker, muted);
}

void voice_net_retell(struct voice_module *m)
{
	for (unsigned i = 0; i < m->n_said; i++) {
		if (m->said[i].name[0])
			voice_thread_name(m->t, m->said[i].key, m->said[i].name);
		if (m->said[i].admin_muted)
			voice_thread_admin_mute(m->t, m->said[i].key, true);
	}
}

void voice_net_forget(struct voice_module *m)
{
	m->n_said = 0;
}

static const struct net_voice_hooks voice_net_hooks = {
	.voice = on_net_voice,
	.name = on_net_name,
	.muted = on_net_muted,
};

void voice_net_attach(struct voice_module *m, bool on)
{
	if (m->net)
		net_module_set_voice(m->net, on ? &voice_net_hooks : NULL, on ? m : NULL);
}

void voice_net_send(struct voice_module *m, const struct voice_packet *p)
{
	if (!m->net || !m->cur)
		return;
	struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_VOICE, .seq = p->seq, .ts = p->ts, .vflags = p->flags,
				      .opus = p->data, .opus_len = p->len };
	memcpy(d.author, p->speaker, VOICE_KEY_LEN);
	int r = net_module_send_voice(m->net, m->cur, &d);
	if (r == -EPERM)
		(*m->m_send_muted)++;
	else if (r < 0 && r != -ENOTCONN)
		(*m->m_send_fail)++; /* -ENOTCONN: a session nobody else is in (yet) */
}

void voice_net_name(struct voice_module *m, const uint8_t key[VOICE_KEY_LEN], const char *name)
{
	if (m->net && m->cur)
		net_module_voice_name(m->net, m->cur, key, name);
}

unsigned voice_net_loss(struct voice_module *m)
{
	return m->net && m->cur ? net_module_loss_pct(m->net, m->cur) : 0;
}
