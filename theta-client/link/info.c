/* The client's description of itself and the daemon's of the session:
 * INPUT_INFO (input source and interaction profiles, kept and sent after
 * every welcome and on change) and SESSION_INFO (checked, unpacked for the
 * overlay, the newest kept per connection). */
#include "link/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "th_err.h"

/* A profile argument as the wire will carry it. */
static int profile_ok(const char *p)
{
	size_t n = strnlen(p, PROTO_IPC_MAX_PROFILE + 1);
	return n <= PROTO_IPC_MAX_PROFILE && proto_ipc_path_valid(p, n) ? 0 : -EINVAL;
}

int link_set_input(struct link *l, uint32_t source, const char *left, const char *right, uint64_t now_ns)
{
	left = left ? left : "";
	right = right ? right : "";
	/* The owner calls this every frame: the kept value (checked when it
	 * was set) again is one comparison, nothing more. */
	if (l->input_set && l->input.source == source && !strcmp(l->input.left, left) && !strcmp(l->input.right, right))
		return 0;
	if (source > PROTO_IPC_INPUT_MAX || profile_ok(left) < 0 || profile_ok(right) < 0)
		return -EINVAL;
	struct proto_ipc_input_info m = { .source = source };
	snprintf(m.left, sizeof m.left, "%s", left);
	snprintf(m.right, sizeof m.right, "%s", right);
	l->input = m;
	l->input_set = true;
	l->input_pending = true;
	link_io_pump(l, now_ns); /* not connected: the next welcome sends it */
	return 0;
}

int link_info_pump(struct link *l, uint64_t now_ns)
{
	if (!l->input_pending)
		return 0;
	int r = link_io_send(l, PROTO_IPC_T_INPUT_INFO, &l->input, now_ns);
	if (r == 0) {
		l->input_pending = false;
		l->st.inputs_sent++;
	} else if (r == -EINVAL) {
		l->input_pending = false; /* link_set_input checked it: cannot happen */
	}
	return r;
}

int link_info_on_session(struct link *l, const struct proto_ipc_session_info *m, uint64_t now_ns)
{
	/* The decoder checked each field; these are the rules between them. */
	if ((m->host == PROTO_IPC_SINFO_HOST_NONE) != (m->session == 0)) {
		snprintf(l->error, sizeof l->error, "SESSION_INFO names session %016llx with host state %s",
			 (unsigned long long)m->session, proto_ipc_sinfo_host_str(m->host));
		return -EPROTO;
	}
	if (m->host != PROTO_IPC_SINFO_HOST_REMOTE && m->rtt_us != 0) {
		snprintf(l->error, sizeof l->error, "SESSION_INFO has an RTT of %u us with host state %s", m->rtt_us,
			 proto_ipc_sinfo_host_str(m->host));
		return -EPROTO;
	}
	if (m->host == PROTO_IPC_SINFO_HOST_REMOTE && m->rtt_us == 0) {
		/* rtt_us 0 is what link_session_info says for "hosted here". */
		snprintf(l->error, sizeof l->error, "SESSION_INFO has a remote host without an RTT");
		return -EPROTO;
	}
	struct link_session_info si = {
		.session = m->session,
		.host = m->host,
		.rtt_us = m->host == PROTO_IPC_SINFO_HOST_REMOTE ? (int64_t)m->rtt_us
			  : m->host == PROTO_IPC_SINFO_HOST_LOCAL ? 0 : -1,
		.peers = m->peers,
		.log_pos = m->log_pos,
		.speaking = m->speaking,
		.voice = m->voice,
		.received_ns = now_ns,
		.seq = l->sinfo.seq + 1,
	};
	memcpy(si.name, m->name, sizeof si.name);
	const char *cur = m->speakers;
	uint32_t names = 0;
	char name[LINK_SPEAKER_NAME_MAX];
	int r;
	while ((r = proto_ipc_list_next(&cur, name, sizeof name)) == 1) {
		if (++names > m->speaking) {
			snprintf(l->error, sizeof l->error, "SESSION_INFO names more speakers than the %u speaking",
				 m->speaking);
			return -EPROTO;
		}
		if (si.nspeakers < LINK_SPEAKERS_MAX)
			memcpy(si.speakers[si.nspeakers++], name, sizeof name);
	}
	if (r < 0) { /* the decoder's F_LIST rule makes this unreachable */
		snprintf(l->error, sizeof l->error, "SESSION_INFO has an empty speaker name");
		return -EPROTO;
	}
	l->sinfo = si;
	l->sinfo_valid = true;
	l->st.session_infos++;
	if (l->cfg.cb.on_session_info)
		l->cfg.cb.on_session_info(l->cfg.user_data, &l->sinfo);
	return 0;
}

int link_session_info(const struct link *l, struct link_session_info *out)
{
	if (l->state != LINK_ACTIVE || !l->sinfo_valid)
		return -ENODATA;
	*out = l->sinfo;
	return 0;
}
