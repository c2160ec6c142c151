/* SESSION_INFO to local clients (client_info.h). */
#include "sess/client_info.h"

#include <stdio.h>
#include <string.h>

#include "ipc/server.h"
#include "sess/module_int.h"

/* A session's name always fits the message (so every one can be sent). */
_Static_assert(SESS_NAME_MAX <= PROTO_IPC_MAX_NAME, "session names fit SESSION_INFO.name");

void sess_cinfo_build(const struct sess_session *s, const struct sess_link_info *li,
		      struct proto_ipc_session_info *out)
{
	memset(out, 0, sizeof *out);
	out->host = PROTO_IPC_SINFO_HOST_NONE;
	if (!s)
		return;
	out->session = sess_tag(s);
	snprintf(out->name, sizeof out->name, "%s", s->name);
	out->log_pos = s->log ? clog_count(s->log) : 0;
	out->peers = li ? li->peers : 0;
	if (s->role != SESS_ROLE_MEMBER) {
		out->host = PROTO_IPC_SINFO_HOST_LOCAL;
	} else if (li && li->host_linked && li->host_rtt_ns) {
		uint64_t us = (li->host_rtt_ns + 500) / 1000;
		out->host = PROTO_IPC_SINFO_HOST_REMOTE;
		out->rtt_us = us == 0 ? 1 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	} else {
		out->host = PROTO_IPC_SINFO_HOST_UNKNOWN;
	}
	/* Who is speaking, and the client's own voice flags, are per client:
	 * the voice module's hook fills them in (sess_cinfo_tick). */
}

static bool rtt_moved(uint32_t a, uint32_t b)
{
	uint32_t d = a > b ? a - b : b - a;
	uint64_t pct = (uint64_t)(a > b ? a : b) * SESS_CINFO_RTT_STEP_PCT / 100;
	return d >= SESS_CINFO_RTT_STEP_US || d > pct;
}

bool sess_cinfo_changed(const struct proto_ipc_session_info *a, const struct proto_ipc_session_info *b)
{
	return a->session != b->session || a->host != b->host || a->peers != b->peers || a->log_pos != b->log_pos ||
	       a->speaking != b->speaking || a->voice != b->voice || strcmp(a->name, b->name) ||
	       strcmp(a->speakers, b->speakers) ||
	       rtt_moved(a->rtt_us, b->rtt_us);
}

bool sess_cinfo_due(const struct sess_cinfo *ci, const struct proto_ipc_session_info *cur, uint64_t now_ns)
{
	if (!ci->sent)
		return true;
	return now_ns - ci->sent_ns >= SESS_CINFO_INTERVAL_NS && sess_cinfo_changed(&ci->last, cur);
}

void sess_cinfo_sent(struct sess_cinfo *ci, const struct proto_ipc_session_info *cur, uint64_t now_ns)
{
	ci->last = *cur;
	ci->sent = true;
	ci->sent_ns = now_ns;
}

void sess_cinfo_tick(struct sess_module *m, uint64_t now_ns)
{
	if (!m->ipc)
		return;
	/* Clients of one session get the same figures: ask the net module once per session. */
	const struct sess_session *have = NULL;
	struct sess_link_info li;
	struct proto_ipc_session_info base, cur;
	bool built = false;
	struct sess_client *next;
	for (struct sess_client *c = m->clients; c; c = next) {
		next = c->next; /* a send that breaks the ring drops the client (and frees c) */
		if (!built || c->s != have) {
			if (c->s && m->net.link_info)
				m->net.link_info(m->net_user, c->s, &li);
			sess_cinfo_build(c->s, c->s && m->net.link_info ? &li : NULL, &base);
			have = c->s;
			built = true;
		}
		cur = base;
		if (c->s && m->voice.info) {
			uint32_t voice = 0;
			m->voice.info(m->voice_user, c->id, &cur.speaking, cur.speakers, sizeof cur.speakers, &voice);
			cur.speakers[sizeof cur.speakers - 1] = 0;
			cur.voice = voice & PROTO_IPC_VINFO_F_ALL;
		}
		if (!sess_cinfo_due(&c->info, &cur, now_ns))
			continue;
		if (ipc_server_room(m->ipc, c->id) < PROTO_IPC_MAXSZ_SESSION_INFO)
			continue; /* a full ring (or a queue): the next tick tries again */
		uint64_t id = c->id;
		if (ipc_server_send(m->ipc, id, PROTO_IPC_T_SESSION_INFO, &cur) < 0)
			continue;
		(*m->m_session_infos)++;
		if ((c = sess_client_find(m, id)))
			sess_cinfo_sent(&c->info, &cur, now_ns);
	}
}
