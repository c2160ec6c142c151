/* SESSION_INFO to local clients (docs/ipc.md, "Session info"): what the
 * daemon knows of each client's session for the in-headset overlay (the
 * session, where its host is and the RTT to it, peers connected, the log
 * position, who is speaking), sent soon after the welcome, then on change
 * and at most every SESS_CINFO_INTERVAL_NS, only while the client's ring
 * has room (ephemeral: nothing is queued; a skipped one goes on the next
 * tick). The building and the "is it due" decision are pure (now_ns in,
 * no I/O); sess_cinfo_tick does the sending. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "ipc.h"

struct sess_module;
struct sess_session;
struct sess_link_info;

#define SESS_CINFO_INTERVAL_NS (1000ull * 1000 * 1000) /* at most one SESSION_INFO per client this often */
/* An RTT change smaller than both of these is not a change (the smoothed
 * RTT moves a little with every sample). */
#define SESS_CINFO_RTT_STEP_US 1000u
#define SESS_CINFO_RTT_STEP_PCT 10u

/* Per client: what it was sent last. */
struct sess_cinfo {
	struct proto_ipc_session_info last;
	bool sent;
	uint64_t sent_ns;
};

/* The SESSION_INFO for a client of s (NULL: the daemon has no session),
 * from the net module's view li (NULL: no net module: no peers, a member's
 * host unknown). */
void sess_cinfo_build(const struct sess_session *s, const struct sess_link_info *li,
		      struct proto_ipc_session_info *out);
/* Whether cur differs from what was sent (an RTT within the step counts as
 * the same). */
bool sess_cinfo_changed(const struct proto_ipc_session_info *sent, const struct proto_ipc_session_info *cur);
/* Whether cur should go now: never sent, or changed and the interval since
 * the last one has passed. */
bool sess_cinfo_due(const struct sess_cinfo *ci, const struct proto_ipc_session_info *cur, uint64_t now_ns);
/* Notes that cur went out at now_ns. */
void sess_cinfo_sent(struct sess_cinfo *ci, const struct proto_ipc_session_info *cur, uint64_t now_ns);

/* Every client whose SESSION_INFO is due and whose ring has room gets it. */
void sess_cinfo_tick(struct sess_module *m, uint64_t now_ns);
