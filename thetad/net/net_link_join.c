/* The member side of sessions between daemons (see net_link.c, the glue
 * of the session layer): the link to the host with reconnects and
 * backoff, what the host's ACK means for the session here, the roster of
 * other members the host announces, admin requests sent to the host and
 * its answers, entries the host refused told to their author's clients. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "net/net_int.h"
#include "net/net_udp.h"
#include "sess/module.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_log.h"
#include "th_schema.h"
#include "th_time.h"


static const char *key_fpr(const uint8_t key[32], char buf[TH_KEY_FPR_LEN])
{
	th_key_fingerprint(key, buf, TH_KEY_FPR_LEN);
	return buf;
}

/* ---- joiner ------------------------------------------------------------------- */

struct net_join *net_join_of(struct net_mod *nm, struct sess_session *s)
{
	for (unsigned i = 0; i < nm->n_joins; i++)
		if (nm->joins[i]->s == s)
			return nm->joins[i];
	return NULL;
}

static void join_detach(struct net_join *j)
{
	if (j->conn) {
		j->conn->join = NULL;
		j->conn = NULL;
	}
}

void net_join_failed(struct net_join *j, uint64_t code, const char *desc, uint64_t now)
{
	if (j->conn && j->conn->sl && j->conn->sl->hb.srtt_ns)
		j->srtt_ns = j->conn->sl->hb.srtt_ns;
	join_detach(j);
	j->code = code;
	if (j->stopping)
		return; /* net_module_stop said goodbye; nothing is lost */
	if (code && net_peer_end_permanent(code)) {
		j->st = NJ_FAILED;
		snprintf(j->error, sizeof(j->error), "%s", proto_sess_err_text(code));
		th_warn("session %s: the host %s:%u refused us: %s", j->s->id, j->s->link.host, (unsigned)j->s->link.port,
			j->error);
		return;
	}
	/* A refusal that may pass (the session is full, the host is stopping)
	 * is said in its sentence too; other ends in the transport's words. */
	if (code >= PROTO_SESS_ERR_WRONG_FINGERPRINT && code <= PROTO_SESS_ERR_MAX_)
		snprintf(j->error, sizeof(j->error), "%s", proto_sess_err_text(code));
	else if (desc)
		snprintf(j->error, sizeof(j->error), "%s", desc);
	bool was_active = j->st == NJ_ACTIVE;
	j->st = NJ_WAIT;
	/* A host that answered before and now does not (a partition, a
	 * restart) is tried again often; one that refuses, at the usual pace. */
	j->bo.max_ns = j->joins && !code ? NET_REJOIN_BACKOFF_MAX_NS : NET_BACKOFF_MAX_DEFAULT_NS;
	if (j->bo.cur_ns > j->bo.max_ns)
		j->bo.cur_ns = j->bo.max_ns;
	uint64_t at = net_backoff_fail(&j->bo, now, randombytes_random());
	if (was_active)
		th_warn("session %s: lost the host %s:%u (%s); reconnecting in %.1f s", j->s->id, j->s->link.host,
			(unsigned)j->s->link.port, j->error, (double)(at - now) / 1e9);
}

/* NET_CONNECT_TIMEOUT_NS, or, rejoining, max(NET_REJOIN_ATTEMPT_MIN_NS,
 * NET_REJOIN_ATTEMPT_RTTS x the last srtt) while the host has sent nothing
 * at all on the attempt (a partition: a fresh attempt sends its Initial at
 * once). */
uint64_t net_join_attempt_limit(const struct net_join *j)
{
	if (!j->joins)
		return NET_CONNECT_TIMEOUT_NS;
	if (j->conn && j->conn->q) {
		struct net_quic_stats st;
		net_quic_get_stats(j->conn->q, &st);
		if (st.pkts_in)
			return NET_CONNECT_TIMEOUT_NS;
	}
	uint64_t t = NET_REJOIN_ATTEMPT_RTTS * j->srtt_ns;
	if (t < NET_REJOIN_ATTEMPT_MIN_NS)
		t = NET_REJOIN_ATTEMPT_MIN_NS;
	return t < NET_CONNECT_TIMEOUT_NS ? t : NET_CONNECT_TIMEOUT_NS;
}

void net_join_attempt(struct net_mod *nm, struct net_join *j, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct sess_session *s = j->s;
	char why[256];
	int r = net_join_address(nm, j, &ss, &sl, why, sizeof(why));
	if (r == -EINPROGRESS) { /* looked up off the loop; attempted again when it ends */
		j->st = NJ_RESOLVING;
		return;
	}
	j->attempts++;
	j->last_attempt_ns = now;
	if (j->joins)
		(*nm->m_rejoins)++;
	if (r < 0) {
		net_join_failed(j, 0, why, now);
		return;
	}
	struct net_conn *c = net_conn_new(nm, false, now);
	if (!c) {
		net_join_failed(j, 0, "out of memory", now);
		return;
	}
	c->s = s;
	c->join = j;
	net_udp_addr_str((struct sockaddr *)&ss, c->addr, sizeof(c->addr));
	struct net_sl_config cfg = {
		.side = NET_SL_JOINER, .pk = nm->host_key->pk, .sk = nm->host_key->sk,
		.schema_hash = proto_sess_handshake_hash() ^ nm->test_schema_xor, .version = nm->test_version, .caps = NET_OUR_CAPS,
		.lost_after_ns = nm->lost_after_ns, .token = s->link.token, .token_len = PROTO_INVITE_TOKEN_LEN,
		.test_bad_sig = nm->test_bad_sig,
	};
	memcpy(cfg.session_id, s->id_bytes, PROTO_SESS_ID_LEN);
	randombytes_buf(cfg.nonce, sizeof(cfg.nonce));
	if ((r = net_sl_create(&cfg, now, &c->sl)) < 0) {
		net_conn_unlink(nm, c);
		net_conn_free(c);
		net_join_failed(j, 0, "out of memory", now);
		return;
	}
	r = net_server_connect(nm->srv, s->link.fp, (struct sockaddr *)&ss, sl, c, now, &c->q);
	if (r < 0) {
		net_conn_unlink(nm, c);
		net_conn_free(c);
		char d[200];
		snprintf(d, sizeof(d), "cannot connect to %s:%u: %s", s->link.host, (unsigned)s->link.port,
			 th_strerror(r));
		j->conn = NULL;
		net_join_failed(j, 0, d, now);
		return;
	}
	j->conn = c;
	j->st = NJ_CONNECTING;
	net_mod_kick(nm);
}

/* "HOST:PORT" as the invite named it, with the address when it differs. */
static void join_where(const struct net_join *j, const char *addr, char *out, size_t len)
{
	char named[300];
	const char *host = j->s->link.host;
	if (strchr(host, ':'))
		snprintf(named, sizeof(named), "[%s]:%u", host, (unsigned)j->s->link.port);
	else
		snprintf(named, sizeof(named), "%s:%u", host, (unsigned)j->s->link.port);
	if (addr && addr[0] && strcmp(addr, named))
		snprintf(out, len, "%s (%s)", named, addr);
	else
		snprintf(out, len, "%s", named);
}

void net_join_on_icmp(struct net_mod *nm, const struct net_udp_icmp *icmp, uint64_t now)
{
	char to[64];
	net_udp_addr_str((const struct sockaddr *)&icmp->to, to, sizeof(to));
	for (unsigned i = 0; i < nm->n_joins; i++) {
		struct net_join *j = nm->joins[i];
		struct net_conn *c = j->conn;
		if (j->st != NJ_CONNECTING || !c || strcmp(c->addr, to))
			continue;
		char where[400], why[600];
		join_where(j, c->addr, where, sizeof(where));
		switch (icmp->err) {
		case ECONNREFUSED:
			snprintf(why, sizeof(why),
				 "nothing answers at %s: the port is unreachable (is thetad running there, on that port?)",
				 where);
			break;
		case EHOSTUNREACH:
		case EHOSTDOWN:
			snprintf(why, sizeof(why), "%s cannot be reached: the host is unreachable", where);
			break;
		case ENETUNREACH:
		case ENETDOWN:
			snprintf(why, sizeof(why), "%s cannot be reached: the network is unreachable", where);
			break;
		default:
			snprintf(why, sizeof(why), "%s cannot be reached: %s (ICMP%s type %u code %u)", where,
				 th_strerror(-icmp->err), icmp->v6 ? "v6" : "", icmp->type, icmp->code);
			break;
		}
		/* A session never admitted (a join just asked for) fails for good:
		 * `session join` says so at once. One admitted before (a rejoin, a
		 * restart) tries again: the host may be restarting. */
		bool first = !j->joins && !j->s->link.granted_role;
		(*nm->m_join_unreachable)++;
		net_join_failed(j, 0, why, now);
		if (first) {
			j->st = NJ_FAILED;
			th_warn("session %s: the join failed: %s", j->s->id, why);
		} else {
			th_info("session %s: %s; trying again in %.1f s", j->s->id, why,
				(double)(j->bo.next_ns > now ? j->bo.next_ns - now : 0) / 1e9);
		}
		net_conn_close(c, PROTO_SESS_ERR_HANDSHAKE_TIMEOUT, NULL, now);
	}
}

/* How long the host may be silent on an attempt before the row says so. */
#define NET_JOIN_SILENT_NOTE_NS (1000ull * 1000 * 1000)

void net_join_describe(const struct net_join *j, uint64_t now, struct json_object *row)
{
	char where[400], note[700] = "";
	const struct net_conn *c = j->conn;
	join_where(j, c ? c->addr : NULL, where, sizeof(where));
	bool answered = false;
	if (c && c->q) {
		struct net_quic_stats st;
		net_quic_get_stats(c->q, &st);
		answered = st.pkts_in > 0;
	}
	uint64_t age = j->last_attempt_ns && now > j->last_attempt_ns ? now - j->last_attempt_ns : 0;
	switch (j->st) {
	case NJ_RESOLVING:
		snprintf(note, sizeof(note), "looking up %s", j->s->link.host);
		break;
	case NJ_CONNECTING:
		if (answered)
			snprintf(note, sizeof(note), "%s answers; handshake under way", where);
		else if (age >= NET_JOIN_SILENT_NOTE_NS || j->attempts > 1)
			snprintf(note, sizeof(note), "no answer from %s yet, retrying\u2026 (attempt %" PRIu64 ")", where,
				 j->attempts);
		else
			snprintf(note, sizeof(note), "connecting to %s", where);
		break;
	case NJ_WAIT:
		if (j->error[0])
			snprintf(note, sizeof(note), "%s; trying %s again in %.0f s", j->error, where,
				 (double)(j->bo.next_ns > now ? j->bo.next_ns - now : 0) / 1e9 + 0.5);
		else
			snprintf(note, sizeof(note), "about to connect to %s", where);
		break;
	case NJ_ACTIVE:
		snprintf(note, sizeof(note), "joined through %s", where);
		break;
	case NJ_FAILED:
		snprintf(note, sizeof(note), "%s", j->error[0] ? j->error : "the join failed");
		break;
	default:
		break;
	}
	if (note[0])
		json_object_object_add(row, "link_note", json_object_new_string(note));
	json_object_object_add(row, "link_where", json_object_new_string(where));
	json_object_object_add(row, "link_answered", json_object_new_boolean(answered));
	if (j->st == NJ_CONNECTING)
		json_object_object_add(row, "link_attempt_s", json_object_new_double((double)(age / 1000000) / 1e3));
}

int net_join_start(struct net_mod *nm, struct sess_session *s, struct net_join **out)
{
	if (nm->n_joins == NET_MAX_JOINS)
		return -ENOSPC;
	struct net_join *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	uint64_t now = nm->now = th_now_ns();
	j->s = s;
	j->st = NJ_WAIT;
	net_backoff_init(&j->bo, 0, 0, now);
	nm->joins[nm->n_joins++] = j;
	s->net = j;
	*out = j;
	net_mod_kick(nm);
	return 0;
}

void net_join_leave(struct net_mod *nm, struct net_join *j)
{
	uint64_t now = nm->now = th_now_ns();
	if (j->conn) {
		struct net_conn *c = j->conn;
		join_detach(j);
		if (c->sl) {
			net_sl_leave(c->sl); /* LEAVE when active, then the close with LEFT */
			net_conn_run(c);
		}
		net_conn_close(c, PROTO_SESS_ERR_LEFT, "left", now);
	}
	for (unsigned i = 0; i < nm->n_joins; i++)
		if (nm->joins[i] == j) {
			nm->joins[i] = nm->joins[--nm->n_joins];
			break;
		}
	if (j->s->net == j)
		j->s->net = NULL;
	net_snaps_session_gone(nm, j->s);
	net_voice_session_gone(nm, j->s);
	net_pres_session_gone(nm, j->s);
	free(j);
}

/* The session layer took the host's ACK. */
void net_joiner_on_joined(struct net_conn *c, const struct proto_sess_ack *a, uint64_t now)
{
	struct net_mod *nm = c->nm;
	struct net_join *j = c->join;
	struct sess_session *s = c->s;
	c->st = NC_ACTIVE;
	c->role = c->sl->role;
	c->caps = c->sl->caps;
	c->peer_id = c->sl->peer_id;
	memcpy(c->key, c->sl->key, sizeof(c->key));
	bool save = false;
	if (s->link.granted_role != a->role || memcmp(s->link.host_key, a->host_key, SESS_KEY_LEN)) {
		s->link.granted_role = a->role;
		memcpy(s->link.host_key, a->host_key, SESS_KEY_LEN);
		save = true;
	}
	/* A replica named after its id ("joined-…") takes the host's name,
	 * unless another session here already has it. */
	if (!strncmp(s->name, NET_JOINED_NAME_PREFIX, strlen(NET_JOINED_NAME_PREFIX)) && sess_name_valid(a->name) &&
	    !sess_named(sess_module_registry(nm->sess), a->name, s)) {
		snprintf(s->name, sizeof(s->name), "%s", a->name);
		save = true;
	}
	if (save)
		sess_save_conf(s);
	(*nm->m_joins)++;
	if (j) {
		bool rejoin = j->joins > 0;
		j->st = NJ_ACTIVE;
		j->joins++;
		j->code = 0;
		j->error[0] = 0;
		net_backoff_reset(&j->bo);
		char fpr[TH_KEY_FPR_LEN];
		th_notice("session %s: %s host %s (%s) as %s, peer %u", s->id, rejoin ? "rejoined" : "joined", c->addr,
			  key_fpr(a->host_key, fpr), th_role_name(a->role), a->peer_id);
	}
	/* Every registered stream, in the order of their ids (control is open). */
	for (unsigned i = 0; i < c->n_ch; i++)
		if (c->ch[i].def->type == NET_CHAN_STREAM && net_conn_open(c, (enum net_stream)i) < 0)
			break;
	net_assets_conn_active(c, now);
	net_snaps_conn_active(c, now);
	net_voice_conn_active(c);
	net_pres_conn_active(c);
}

/* ---- member side: roster, admin requests, rejections ---------------------------- */

void net_roster_set(struct net_conn *c, uint32_t peer_id, const uint8_t *key, uint8_t role)
{
	for (unsigned i = 0; i < c->n_roster; i++)
		if (c->roster[i].peer_id == peer_id) {
			if (key)
				memcpy(c->roster[i].key, key, 32);
			c->roster[i].role = role;
			return;
		}
	if (!key || c->n_roster >= NET_ROSTER_MAX)
		return;
	struct net_roster_item *it = &c->roster[c->n_roster++];
	it->peer_id = peer_id;
	memcpy(it->key, key, 32);
	it->role = role;
}

void net_roster_drop(struct net_conn *c, uint32_t peer_id)
{
	for (unsigned i = 0; i < c->n_roster; i++)
		if (c->roster[i].peer_id == peer_id) {
			c->roster[i] = c->roster[--c->n_roster];
			return;
		}
}

int net_admin_request(struct net_mod *nm, struct sess_session *s, uint8_t op, uint32_t peer_id, uint8_t role,
		      const uint8_t *speaker, struct net_admin_req **out)
{
	struct net_join *j = net_join_of(nm, s);
	if (!j || j->st != NJ_ACTIVE || !j->conn || j->conn->st != NC_ACTIVE)
		return -ENOTCONN;
	/* A free slot, else the oldest one. */
	struct net_admin_req *q = NULL;
	for (unsigned i = 0; i < NET_ADMIN_REQ_MAX; i++) {
		struct net_admin_req *x = &nm->reqs[i];
		if (!x->id) {
			q = x;
			break;
		}
		if (!q || x->sent_ns < q->sent_ns)
			q = x;
	}
	if (++nm->next_req_id == 0)
		nm->next_req_id = 1;
	*q = (struct net_admin_req){ .id = nm->next_req_id, .s = s, .op = op, .peer_id = peer_id, .role = role,
				     .sent_ns = nm->now = th_now_ns() };
	snprintf(q->sid, sizeof(q->sid), "%s", s->id);
	if (speaker)
		memcpy(q->speaker, speaker, sizeof(q->speaker));
	struct proto_sess_msg m = { .type = PROTO_SESS_T_ADMIN_REQ };
	m.u.areq.req_id = q->id;
	m.u.areq.op = op;
	m.u.areq.peer_id = peer_id;
	m.u.areq.role = op == PROTO_SESS_ADMIN_ROLE ? role : 0;
	if (speaker)
		memcpy(m.u.areq.speaker, speaker, sizeof(m.u.areq.speaker));
	net_conn_send_msg(j->conn, NET_ST_CONTROL, &m);
	net_mod_kick(nm);
	*out = q;
	return 0;
}

void net_joiner_on_admin_result(struct net_conn *c, const struct proto_sess_admin_result *a)
{
	struct net_mod *nm = c->nm;
	for (unsigned i = 0; i < NET_ADMIN_REQ_MAX; i++) {
		struct net_admin_req *q = &nm->reqs[i];
		if (q->id && q->id == a->req_id && q->s == c->s && !q->done) {
			q->done = true;
			q->code = a->code;
			q->role = a->role;
			return;
		}
	}
	/* An answer nobody waits for any more: ignore it. */
}

void net_joiner_on_rejected(struct net_conn *c, const struct proto_sess_rejected *r)
{
	struct net_mod *nm = c->nm;
	uint8_t ev[PROTO_SESS_REJECTED_EVENT_MAX];
	int n = proto_sess_rejected_event_encode(r, ev, sizeof(ev));
	if (n < 0)
		return;
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(r->author, fpr, sizeof(fpr));
	th_info("session %s: the host refused entry %" PRIu64 " of %s: %s", c->s->id, r->seq, fpr, r->text);
	*nm->m_rejects_delivered += sess_module_notify_rejected(nm->sess, c->s, r->author, ev, (size_t)n);
}

