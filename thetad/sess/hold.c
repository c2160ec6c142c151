/* Held submits while a session's cut range is repaired from its peers.
 *
 * Recovery may cut the last batch of a log (a torn write or a damaged
 * byte; docs/command-log.md "The cut range"), and those entries may have
 * been acknowledged and forwarded: the host holds them, and its catch-up
 * sends them back. Until then the cut author's chain here ends before
 * them, so a new edit of that author (or a client's resend of an
 * unanswered one) would be signed with a seq the host already holds for
 * another entry: the author would diverge between host and member for
 * good. So, in a member session, a local submit by an author the cut
 * named waits here (not signed, not refused) until
 *   - that author's chain is back to the last seq the cut held (repaired:
 *     a resend of a cut edit is then answered from the entry that came
 *     back, exactly once), or
 *   - the host's SYNC says it holds no more of that author than we do
 *     now (the rest of the cut never reached it: lost everywhere, so a
 *     new entry with those seqs splits nothing; logged and counted),
 * and is then signed, in the order the commands came. Records the cut
 * could not name hold every local author until the log is as long as
 * before the cut, or the host's SYNC says it has nothing more of theirs (in
 * a hosted session: until the bound below).
 *
 * Bounds: SESS_HOLD_MAX commands per session (past it a submit is
 * refused); while the host has not been heard from for SESS_HOLD_WAIT_NS
 * (no SYNC: it is unreachable; tests set another bound through
 * THETAD_TEST_HOLD_WAIT_MS), a command held that long is refused with
 * a sentence saying why, and new ones at once, so a client always gets an
 * answer and never an acknowledgement for an edit that could split the
 * log.
 *
 * A hosted session with members holds the same way: its members hold
 * what it relayed, and one that has the cut pushes it back when it
 * reconnects. An author may go once its chain is back, or once every
 * member has sent a SYNC and none holds more of that author than this
 * log. The host is the session's authority and a member may never come
 * back, so after SESS_HOLD_WAIT_NS the held commands are signed anyway
 * (the risk of a split is logged and counted, sess_hold_expired; a
 * member that still holds the cut then reports the author divergent).
 * A session with no peer at all (a host without members, a member that
 * left) holds nothing: nobody has a copy to wait for (docs/network.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog.h"
#include "id/id.h"
#include "ipc.h"
#include "sess/module_int.h"
#include "session.h"
#include "th_err.h"
#include "th_logrec.h"
#include "th_log.h"
#include "th_time.h"

struct sess_held {
	struct sess_held *next;
	struct sess_cmd cmd; /* cmd.payload points at data */
	uint8_t key[SESS_KEY_LEN];
	uint64_t since_ns;
	uint8_t data[];
};

struct sess_hold {
	struct sess_hold *next;
	struct sess_session *s;
	uint32_t n; /* authors the cut named */
	struct sess_hold_author {
		uint8_t key[SESS_KEY_LEN];
		uint64_t seq_first, seq_last;
		bool settled; /* back, or known lost: logged once */
	} a[TH_LOGSCAN_CUT_AUTHORS_MAX];
	bool any;                   /* the cut held records it could not name */
	uint64_t before;            /* entries the log held before the cut */
	uint64_t started_ns;
	uint64_t heard_ns;          /* the host's last SYNC; 0: none yet */
	struct sess_author_seq *peer; /* its heads then, sorted by key */
	unsigned n_peer;
	bool peer_full;             /* that SYNC listed as many authors as one can */
	struct sess_held *q, **qtail;
	unsigned queued, released;
	bool host;                  /* a hosted session: members' SYNCs, then the bound */
	uint32_t heard[SESS_MAX_MEMBERS]; /* host: the members whose SYNC came */
	unsigned n_heard;
	uint64_t peer_max[TH_LOGSCAN_CUT_AUTHORS_MAX]; /* host: the most of a[i] a member holds */
};

static struct sess_hold *hold_of(struct sess_module *m, const struct sess_session *s)
{
	for (struct sess_hold *h = m->holds; h; h = h->next)
		if (h->s == s)
			return h;
	return NULL;
}

static uint64_t head_of(const struct sess_session *s, const uint8_t key[SESS_KEY_LEN])
{
	uint64_t seq = 0;
	if (!s->log || clog_author_head(s->log, key, &seq, NULL) < 0)
		return 0;
	return seq;
}

/* What the host holds of key: 1 and *seq (0 when it listed none), or 0
 * when its SYNC cannot say (none heard, or one too long to list all). */
static int peer_head(const struct sess_hold *h, const uint8_t key[SESS_KEY_LEN], uint64_t *seq)
{
	if (!h->heard_ns)
		return 0;
	unsigned lo = 0, hi = h->n_peer;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = memcmp(h->peer[mid].key, key, SESS_KEY_LEN);
		if (!c) {
			*seq = h->peer[mid].seq;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (h->peer_full)
		return 0;
	*seq = 0;
	return 1;
}

/* Whether the host has nothing more of key than this log holds now. */
static bool host_has_no_more(const struct sess_hold *h, const uint8_t key[SESS_KEY_LEN], uint64_t head)
{
	uint64_t ph;
	return peer_head(h, key, &ph) == 1 && head >= ph;
}

/* A hosted session: every member it lists has sent a SYNC. */
static bool members_all_heard(const struct sess_hold *h)
{
	for (unsigned i = 0; i < h->s->n_members; i++) {
		const struct sess_member *mb = &h->s->members[i];
		bool heard = mb->kicked;
		for (unsigned k = 0; k < h->n_heard && !heard; k++)
			heard = h->heard[k] == mb->peer_id;
		if (!heard)
			return false;
	}
	return true;
}

/* Whether a submit by key must wait now (queued commands aside). */
static bool hold_waits(const struct sess_hold *h, const uint8_t key[SESS_KEY_LEN])
{
	uint64_t head = head_of(h->s, key);
	for (uint32_t i = 0; i < h->n; i++) {
		if (memcmp(h->a[i].key, key, SESS_KEY_LEN))
			continue;
		if (h->host)
			return head < h->a[i].seq_last && !(members_all_heard(h) && head >= h->peer_max[i]);
		return head < h->a[i].seq_last && !host_has_no_more(h, key, head);
	}
	if (h->any && h->s->log && clog_count(h->s->log) < h->before)
		return h->host || !host_has_no_more(h, key, head);
	return false;
}

/* The host has not been heard from for the bound. */
static bool hold_silent(const struct sess_module *m, const struct sess_hold *h, uint64_t now_ns)
{
	uint64_t since = h->heard_ns ? h->heard_ns : h->started_ns;
	return now_ns >= since && now_ns - since >= m->hold_wait_ns;
}

static void hold_refuse_silent(struct sess_module *m, const struct sess_cmd *cmd)
{
	char why[PROTO_IPC_MAX_DETAIL + 1];
	snprintf(why, sizeof(why),
		 "not saved: your last edits are being recovered from the session's host (this daemon's copy was "
		 "damaged) and the host has not answered for %.1f s; send it again once the host is reachable",
		 (double)m->hold_wait_ns / 1e9);
	(*m->m_held_refused)++;
	sess_reject(m, cmd->client_id, cmd->client_seq, PROTO_IPC_REJECT_RATE_LIMITED, why);
}

void sess_hold_start(struct sess_module *m, struct sess_session *s, uint64_t now_ns)
{
	const struct clog_recovery *r = &s->recovery;
	unsigned members = 0;
	for (unsigned i = 0; i < s->n_members; i++)
		members += !s->members[i].kicked;
	bool peers = s->role == SESS_ROLE_MEMBER ? !s->link.left : members > 0;
	if (!s->log || !peers || !r->repaired || !r->cut_records || r->cut_never_acked || hold_of(m, s))
		return;
	struct sess_hold *h = calloc(1, sizeof(*h));
	if (!h) {
		th_err("session %s: no memory to hold edits while its cut range is repaired; a local author's next "
		       "edit may diverge from the host's copy", s->id);
		return;
	}
	h->s = s;
	h->host = s->role == SESS_ROLE_HOST;
	h->started_ns = now_ns;
	h->qtail = &h->q;
	h->before = r->cut_pos + r->cut_records;
	h->any = r->cut_unknown > 0 || r->cut_authors_more;
	uint32_t n = r->cut_nauthors < TH_LOGSCAN_CUT_AUTHORS_MAX ? r->cut_nauthors : TH_LOGSCAN_CUT_AUTHORS_MAX;
	unsigned waiting = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sess_hold_author *a = &h->a[h->n++];
		memcpy(a->key, r->cut_authors[i].pk, SESS_KEY_LEN);
		a->seq_first = r->cut_authors[i].seq_first;
		a->seq_last = r->cut_authors[i].seq_last;
		a->settled = head_of(s, a->key) >= a->seq_last;
		waiting += !a->settled;
	}
	if (!waiting && !h->any) {
		free(h);
		return;
	}
	h->next = m->holds;
	m->holds = h;
	if (h->host)
		th_warn("session %s: edits by the %u author(s) whose entries recovery cut%s wait until a member sends "
			"those entries back (at most %u commands; signed anyway after %.1f s)",
			s->id, waiting, h->any ? " (and, since some cut records could not be named, every local author)" : "",
			SESS_HOLD_MAX, (double)m->hold_wait_ns / 1e9);
	else
		th_warn("session %s: edits by the %u author(s) whose entries recovery cut%s wait until the host sends "
			"those entries back (at most %u commands; refused after %.1f s without word from the host)",
			s->id, waiting, h->any ? " (and, since some cut records could not be named, every local author)" : "",
			SESS_HOLD_MAX, (double)m->hold_wait_ns / 1e9);
}

bool sess_hold_wants(struct sess_module *m, struct sess_session *s, const uint8_t key[SESS_KEY_LEN])
{
	struct sess_hold *h = m->holds ? hold_of(m, s) : NULL;
	if (!h)
		return false;
	for (struct sess_held *e = h->q; e; e = e->next)
		if (!memcmp(e->key, key, SESS_KEY_LEN))
			return true; /* after the ones before it */
	return hold_waits(h, key);
}

void sess_hold_add(struct sess_module *m, struct sess_session *s, const uint8_t key[SESS_KEY_LEN],
		   const struct sess_cmd *cmd, uint64_t now_ns)
{
	struct sess_hold *h = hold_of(m, s);
	char why[PROTO_IPC_MAX_DETAIL + 1];
	if (!h)
		return;
	if (!h->host && hold_silent(m, h, now_ns)) {
		hold_refuse_silent(m, cmd);
		return;
	}
	if (h->queued >= SESS_HOLD_MAX) {
		snprintf(why, sizeof(why),
			 "not saved: %u edits already wait while your last edits are recovered from the session's "
			 "%s; send it again once those are answered", SESS_HOLD_MAX, h->host ? "members" : "host");
		(*m->m_held_refused)++;
		sess_reject(m, cmd->client_id, cmd->client_seq, PROTO_IPC_REJECT_RATE_LIMITED, why);
		return;
	}
	struct sess_held *e = malloc(sizeof(*e) + cmd->payload_len);
	if (!e) {
		sess_reject(m, cmd->client_id, cmd->client_seq, PROTO_IPC_REJECT_RATE_LIMITED, "daemon is out of memory");
		return;
	}
	e->next = NULL;
	e->cmd = *cmd;
	memcpy(e->data, cmd->payload, cmd->payload_len);
	e->cmd.payload = e->data;
	memcpy(e->key, key, SESS_KEY_LEN);
	e->since_ns = now_ns;
	*h->qtail = e;
	h->qtail = &e->next;
	h->queued++;
	(*m->m_held)++;
}

/* Logs each named author once when it may write again: its entries came
 * back, or the host said it has no more of them. */
static void hold_settle(struct sess_module *m, struct sess_hold *h)
{
	for (uint32_t i = 0; i < h->n; i++) {
		struct sess_hold_author *a = &h->a[i];
		if (a->settled || hold_waits(h, a->key))
			continue;
		a->settled = true;
		uint64_t head = head_of(h->s, a->key);
		if (head >= a->seq_last)
			continue; /* back: the net module logs the repair */
		char fpr[TH_KEY_FPR_LEN];
		th_key_fingerprint(a->key, fpr, sizeof(fpr));
		(*m->m_cut_lost)++;
		th_warn("session %s: the %s author %s's entries only up to seq %" PRIu64 ", so seqs %" PRIu64
			"..%" PRIu64 " that recovery cut are lost (they never reached %s); that author's edits "
			"continue from seq %" PRIu64, h->s->id, h->host ? "members hold" : "host holds", fpr, head,
			head + 1, a->seq_last, h->host ? "them" : "it", head + 1);
	}
}

/* A hosted session after the bound: not every member was heard, and the
 * host cannot wait for one that may never come back. */
static void hold_expire(struct sess_module *m, struct sess_hold *h)
{
	unsigned open = 0;
	for (uint32_t i = 0; i < h->n; i++)
		if (!h->a[i].settled && hold_waits(h, h->a[i].key)) {
			h->a[i].settled = true;
			open++;
		}
	if (!open && !h->any)
		return;
	h->any = false;
	for (uint32_t i = 0; i < h->n; i++)
		h->a[i].seq_last = 0; /* nothing waits any more */
	(*m->m_hold_expired)++;
	th_warn("session %s: no member sent back the entries recovery cut within %.1f s; the held edits are signed "
		"now, and a member that still holds a cut entry will report its author divergent (net_sync_divergent)",
		h->s->id, (double)m->hold_wait_ns / 1e9);
}

static bool hold_done(const struct sess_hold *h)
{
	if (h->q)
		return false;
	if (!h->s->log)
		return true;
	for (uint32_t i = 0; i < h->n; i++)
		if (!h->a[i].settled)
			return false;
	return !h->any || clog_count(h->s->log) >= h->before;
}

static void hold_free(struct sess_hold *h)
{
	while (h->q) {
		struct sess_held *e = h->q;
		h->q = e->next;
		free(e);
	}
	free(h->peer);
	free(h);
}

void sess_hold_poll(struct sess_module *m, uint64_t now_ns)
{
	for (struct sess_hold **pp = &m->holds; *pp;) {
		struct sess_hold *h = *pp;
		if (h->host && hold_silent(m, h, now_ns))
			hold_expire(m, h);
		hold_settle(m, h);
		bool silent = !h->host && hold_silent(m, h, now_ns);
		for (struct sess_held **ep = &h->q; *ep;) {
			struct sess_held *e = *ep;
			/* A log that died meanwhile: sess_sign refuses, saying so. */
			bool go = !h->s->log || !hold_waits(h, e->key);
			bool expired = !go && silent && now_ns - e->since_ns >= m->hold_wait_ns;
			if (!go && !expired) {
				ep = &e->next;
				continue;
			}
			*ep = e->next;
			if (!e->next)
				h->qtail = ep;
			h->queued--;
			if (go) {
				h->released++;
				sess_sign(m, h->s, &e->cmd, now_ns);
			} else {
				hold_refuse_silent(m, &e->cmd);
			}
			free(e);
		}
		if (!hold_done(h)) {
			pp = &h->next;
			continue;
		}
		th_notice("session %s: edits go straight to the log again (%u held while the cut range was repaired, "
			  "signed in order)", h->s->id, h->released);
		*pp = h->next;
		hold_free(h);
	}
}

void sess_hold_stop(struct sess_module *m)
{
	/* Unanswered: their clients send them again (same request ids). */
	while (m->holds) {
		struct sess_hold *h = m->holds;
		m->holds = h->next;
		hold_free(h);
	}
}

/* A hosted session: what member peer_id holds of the cut authors. */
static void hold_member_synced(struct sess_module *m, struct sess_hold *h, uint32_t peer_id,
			       const struct proto_sess_sync *v)
{
	for (uint32_t i = 0; i < v->n; i++) {
		struct proto_sess_sync_head hd;
		proto_sess_sync_item(v, i, &hd);
		for (uint32_t k = 0; k < h->n; k++)
			if (!memcmp(h->a[k].key, hd.key, SESS_KEY_LEN) && hd.seq > h->peer_max[k])
				h->peer_max[k] = hd.seq;
	}
	bool known = false;
	for (unsigned k = 0; k < h->n_heard && !known; k++)
		known = h->heard[k] == peer_id;
	/* One listing as many authors as a SYNC can may have left one out. */
	if (!known && h->n_heard < SESS_MAX_MEMBERS && v->n < PROTO_SESS_SYNC_MAX)
		h->heard[h->n_heard++] = peer_id;
	sess_arm_flush(m);
}

void sess_module_peer_synced(void *state, struct sess_session *s, uint32_t peer_id, const struct proto_sess_sync *v,
			     uint64_t now_ns)
{
	struct sess_module *m = state;
	struct sess_hold *h = m->holds ? hold_of(m, s) : NULL;
	if (!h)
		return;
	if (h->host) {
		hold_member_synced(m, h, peer_id, v);
		return;
	}
	struct sess_author_seq *p = v->n ? malloc(v->n * sizeof(*p)) : NULL;
	if (v->n && !p)
		return; /* the next SYNC comes within NET_SL_SYNC_INTERVAL_NS */
	for (uint32_t i = 0; i < v->n; i++) {
		struct proto_sess_sync_head hd;
		proto_sess_sync_item(v, i, &hd);
		memcpy(p[i].key, hd.key, SESS_KEY_LEN);
		p[i].seq = hd.seq;
	}
	free(h->peer);
	h->peer = p;
	h->n_peer = v->n;
	h->peer_full = v->n >= PROTO_SESS_SYNC_MAX;
	h->heard_ns = now_ns ? now_ns : 1;
	sess_arm_flush(m);
}
