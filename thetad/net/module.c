/* The net daemon module: thetad's one UDP port, the QUIC endpoint on it
 * (net_server: incoming members and outgoing joins), the daemon's
 * certificate, an optional impairment layer in the datagram path, and the
 * control commands for sessions between daemons (session host/join/leave/
 * forget, peers, kick, role, impair; invites in net_invite.c). The session protocol itself is
 * net_link.c. Everything runs on the daemon's loop: the socket's fd and one
 * timerfd armed to the earliest deadline (QUIC timers, heartbeats,
 * reconnects, impaired datagrams due). See docs/network.md. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "invite.h"
#include "net/net_int.h"
#include "sess/module.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "srv/module.h"
#include "th_cmd.h"
#include "net/net_resolve.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_loop.h"
#include "th_time.h"


/* One counter per refusal code, named from the protocol's one description
 * (proto/session_msgs.def): net_refused_<NAME without ERR_, in lower case>,
 * e.g. net_refused_no_peer for ERR_NO_PEER (0x110). Every code from
 * NET_REFUSAL_FIRST to PROTO_SESS_ERR_MAX_ has one, so refuse() never bumps
 * an empty slot. */
#define NET_REFUSAL_FIRST PROTO_SESS_ERR_WRONG_FINGERPRINT
#define NET_REFUSAL_CODES (PROTO_SESS_ERR_MAX_ - NET_REFUSAL_FIRST + 1)
#define NET_REFUSAL_NAME_MAX 64

static const struct {
	uint64_t code;
	const char *name;
} net_refusal_def[] = {
/* Only the SESS_ERR lines; the macros' state is restored after. */
#pragma push_macro("SESS_CONST")
#pragma push_macro("SESS_ERR")
#pragma push_macro("SESS_ASSET_ERR")
#pragma push_macro("SESS_MSG")
#pragma push_macro("SESS_ITEM")
#pragma push_macro("SESS_RECORD")
#pragma push_macro("SESS_DGRAM")
#undef SESS_CONST
#undef SESS_ERR
#undef SESS_ASSET_ERR
#undef SESS_MSG
#undef SESS_ITEM
#undef SESS_RECORD
#undef SESS_DGRAM
#define SESS_CONST(...)
#define SESS_ASSET_ERR(...)
#define SESS_MSG(...)
#define SESS_ITEM(...)
#define SESS_RECORD(...)
#define SESS_DGRAM(...)
#define SESS_ERR(code, NAME, text) { (code), #NAME },
#include "session_msgs.def"
#pragma pop_macro("SESS_DGRAM")
#pragma pop_macro("SESS_RECORD")
#pragma pop_macro("SESS_ITEM")
#pragma pop_macro("SESS_MSG")
#pragma pop_macro("SESS_ASSET_ERR")
#pragma pop_macro("SESS_ERR")
#pragma pop_macro("SESS_CONST")
};

static char net_refusal_names[NET_REFUSAL_CODES][NET_REFUSAL_NAME_MAX];
static pthread_once_t net_refusal_once = PTHREAD_ONCE_INIT;

static void net_refusal_names_init(void)
{
	for (size_t i = 0; i < sizeof(net_refusal_def) / sizeof(net_refusal_def[0]); i++) {
		uint64_t c = net_refusal_def[i].code;
		if (c < NET_REFUSAL_FIRST || c > PROTO_SESS_ERR_MAX_)
			continue;
		const char *n = net_refusal_def[i].name;
		if (!strncmp(n, "ERR_", 4))
			n += 4;
		char *out = net_refusal_names[c - NET_REFUSAL_FIRST];
		int k = snprintf(out, NET_REFUSAL_NAME_MAX, "net_refused_%s", n);
		for (int j = 12; j < k && j < NET_REFUSAL_NAME_MAX; j++)
			out[j] = (char)(out[j] >= 'A' && out[j] <= 'Z' ? out[j] - 'A' + 'a' : out[j]);
	}
}

const char *net_refusal_metric_name(uint64_t code)
{
	if (code < NET_REFUSAL_FIRST || code > PROTO_SESS_ERR_MAX_)
		return NULL;
	pthread_once(&net_refusal_once, net_refusal_names_init);
	const char *n = net_refusal_names[code - NET_REFUSAL_FIRST];
	return n[0] ? n : "net_refused_other";
}

/* ---- the datagram path ------------------------------------------------------ */

static void net_send_one(struct net_mod *nm, const uint8_t *p, size_t len, size_t seg, const struct sockaddr *to,
			 socklen_t tl)
{
	size_t sent = 0;
	int r = net_udp_send(nm->udp, p, len, seg, to, tl, &sent);
	if (r < 0)
		(*nm->m_udp_drops)++; /* QUIC retransmits what mattered */
}

static void net_flush_out(struct net_mod *nm, uint64_t now)
{
	for (int guard = 0; guard < 4096; guard++) {
		size_t len = 0, seg = 0;
		struct sockaddr_storage to;
		socklen_t tl = sizeof(to);
		int r = net_server_produce(nm->srv, now, nm->txbuf, sizeof(nm->txbuf), nm->imp_out ? 1 : 32, &len, &seg,
					   &to, &tl);
		if (r < 0 || len == 0)
			break;
		if (nm->imp_out) {
			const struct sockaddr *local;
			socklen_t ll;
			local = net_udp_local(nm->udp, &ll);
			net_impair_submit(nm->imp_out, nm->txbuf, len, local, ll, (struct sockaddr *)&to, tl, now);
		} else {
			net_send_one(nm, nm->txbuf, len, seg, (struct sockaddr *)&to, tl);
		}
	}
	if (nm->imp_out) {
		struct net_impair_dgram d;
		while (net_impair_pop(nm->imp_out, now, &d) == 1)
			net_send_one(nm, d.data, d.len, d.len, (struct sockaddr *)&d.to, d.to_len);
	}
}

static void net_arm(struct net_mod *nm, uint64_t now)
{
	uint64_t next = net_server_next_expiry(nm->srv);
	uint64_t t = net_link_next(nm);
	if (t < next)
		next = t;
	if (nm->imp_in && (t = net_impair_next(nm->imp_in)) < next)
		next = t;
	if (nm->imp_out && (t = net_impair_next(nm->imp_out)) < next)
		next = t;
	if (nm->kick)
		next = now;
	if (next == UINT64_MAX) {
		th_timerfd_set(nm->timer_fd, 0, 0);
		return;
	}
	th_timerfd_set(nm->timer_fd, next > now ? next - now : 1, 0);
}

static void net_service(struct net_mod *nm)
{
	uint64_t now = th_now_ns();
	nm->in_service = true;
	for (int round = 0; round < 4; round++) {
		nm->kick = false;
		if (nm->imp_in) {
			struct net_impair_dgram d;
			while (net_impair_pop(nm->imp_in, now, &d) == 1)
				net_server_feed(nm->srv, d.data, d.len, (struct sockaddr *)&d.from, d.from_len, now);
		}
		net_link_service(nm, now);
		net_flush_out(nm, now);
		if (!nm->kick)
			break;
	}
	nm->in_service = false;
	net_arm(nm, now);
}

void net_mod_kick(struct net_mod *nm)
{
	/* Outside a service pass, kick set means the timer is already armed to
	 * fire at once (here or by net_arm): no second syscall per kick (one
	 * per durable entry under load). */
	if (nm->kick && !nm->in_service)
		return;
	nm->kick = true;
	if (!nm->in_service)
		th_timerfd_set(nm->timer_fd, 1, 0);
}

static void net_on_udp(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct net_mod *nm = user;
	struct net_udp_msg msgs[NET_UDP_RX_BATCH];
	uint64_t now = th_now_ns();
	struct net_udp_icmp icmp;
	for (int k = 0; (events & EPOLLERR) && k < NET_UDP_ERRQ_BATCH && net_udp_recv_error(nm->udp, &icmp) == 1; k++)
		net_join_on_icmp(nm, &icmp, now);
	for (int rounds = 0; rounds < 8; rounds++) {
		int n = net_udp_recv(nm->udp, msgs, NET_UDP_RX_BATCH);
		if (n <= 0)
			break;
		const struct sockaddr *local;
		socklen_t ll;
		local = net_udp_local(nm->udp, &ll);
		for (int i = 0; i < n; i++) {
			if (nm->imp_in)
				net_impair_submit(nm->imp_in, msgs[i].data, msgs[i].len, (struct sockaddr *)&msgs[i].from,
						  msgs[i].from_len, local, ll, now);
			else
				net_server_feed(nm->srv, msgs[i].data, msgs[i].len, (struct sockaddr *)&msgs[i].from,
						msgs[i].from_len, now);
		}
		if (n < NET_UDP_RX_BATCH)
			break;
	}
	net_service(nm);
}

static void net_on_timer(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct net_mod *nm = user;
	th_timerfd_drain(fd);
	net_service(nm);
}

/* ---- impairment (operators and tests) ---------------------------------------- */

static int net_set_impair(struct net_mod *nm, const char *spec, char *err, size_t errlen)
{
	struct net_impair_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (strlen(spec) > NET_IMPAIR_SPEC_MAX || net_impair_parse(spec, &cfg) < 0) {
		snprintf(err, errlen, "'%s' is not an impairment spec (e.g. loss=10%%,delay=50ms,jitter=10ms,"
				      "reorder=0.05,dup=0.01,partition=2s-4s)", spec);
		return -EINVAL;
	}
	uint64_t now = th_now_ns();
	struct net_impair *in = NULL, *out = NULL;
	if (spec[0]) {
		struct net_impair_config cin = cfg;
		cin.seed = cfg.seed ? cfg.seed * 2 + 1 : 2; /* the two directions decide independently */
		int r = net_impair_create(&cfg, now, &out);
		if (r == 0)
			r = net_impair_create(&cin, now, &in);
		if (r < 0) {
			net_impair_destroy(&out);
			snprintf(err, errlen, "cannot apply '%s': %s", spec, th_strerror(r));
			return r;
		}
	}
	/* Whatever the old layer held is delivered at once, not lost. */
	struct net_impair_dgram d;
	if (nm->imp_in)
		while (net_impair_pop(nm->imp_in, UINT64_MAX, &d) == 1)
			net_server_feed(nm->srv, d.data, d.len, (struct sockaddr *)&d.from, d.from_len, now);
	if (nm->imp_out)
		while (net_impair_pop(nm->imp_out, UINT64_MAX, &d) == 1)
			net_send_one(nm, d.data, d.len, d.len, (struct sockaddr *)&d.to, d.to_len);
	net_impair_destroy(&nm->imp_in);
	net_impair_destroy(&nm->imp_out);
	nm->imp_in = in;
	nm->imp_out = out;
	snprintf(nm->impair_spec, sizeof(nm->impair_spec), "%s", spec);
	net_mod_kick(nm);
	return 0;
}

static const char *net_join_state_name(enum net_join_state st)
{
	static const char *const names[] = { [NJ_WAIT] = "waiting", [NJ_CONNECTING] = "connecting", [NJ_ACTIVE] = "active",
					     [NJ_FAILED] = "failed", [NJ_LEFT] = "left", [NJ_RESOLVING] = "resolving" };
	return (unsigned)st < sizeof(names) / sizeof(names[0]) && names[st] ? names[st] : "?";
}

/* ---- host names of joins ------------------------------------------------------ */

int net_join_address(struct net_mod *nm, struct net_join *j, struct sockaddr_storage *ss, socklen_t *sl, char *why,
		     size_t whylen)
{
	const char *host = j->s->link.host;
	if (net_resolve_numeric(host, j->s->link.port, ss, sl) == 0)
		return 0;
	if (j->looked_up) { /* used once: the next attempt asks again */
		j->looked_up = false;
		if (j->lookup_err < 0) {
			snprintf(why, whylen, "cannot resolve the host name '%s' (%s); retrying", host, j->lookup_why);
			return j->lookup_err;
		}
		*ss = j->lookup_addr;
		*sl = j->lookup_addr_len;
		return 0;
	}
	if (j->lookup_id)
		return -EINPROGRESS;
	uint64_t id;
	int r = net_resolve_start(nm->resolver, host, j->s->link.port, &id);
	if (r == -EAGAIN) {
		snprintf(why, whylen, "too many host names are being looked up at once (%u); retrying",
			 NET_RESOLVE_MAX_PENDING);
		return r;
	}
	if (r < 0) {
		snprintf(why, whylen, "cannot look up the host name '%s': %s; retrying", host, th_strerror(r));
		return r;
	}
	j->lookup_id = id;
	return -EINPROGRESS;
}

/* On the loop thread: a lookup ended. Its join (if still there) takes the
 * result on its next attempt, which is due now. */
static void net_on_resolved(void *user, const struct net_resolve_result *res)
{
	struct net_mod *nm = user;
	for (unsigned i = 0; i < nm->n_joins; i++) {
		struct net_join *j = nm->joins[i];
		if (j->lookup_id != res->id)
			continue;
		j->lookup_id = 0;
		j->looked_up = true;
		j->lookup_err = res->err;
		snprintf(j->lookup_why, sizeof(j->lookup_why), "%s", res->why);
		j->lookup_addr = res->addr;
		j->lookup_addr_len = res->addr_len;
		if (j->st == NJ_RESOLVING) {
			j->st = NJ_WAIT;
			j->bo.next_ns = 0;
		}
		net_mod_kick(nm);
		return;
	}
}

/* ---- control commands ------------------------------------------------------ */

const char *net_jarg(struct json_object *args, const char *k)
{
	struct json_object *v;
	return args && json_object_object_get_ex(args, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

struct sess_session *net_pick(struct net_mod *nm, struct json_object *args, char *err, size_t errlen)
{
	const char *name = net_jarg(args, "session");
	if (!name) {
		struct sess_session *s = sess_module_current(nm->sess);
		if (!s)
			snprintf(err, errlen, "no session is open");
		return s;
	}
	return sess_lookup(sess_module_registry(nm->sess), name, err, errlen);
}

/* "hosted here" or "a replica of HOST:PORT", for sentences about s. */
static const char *net_session_where(const struct sess_session *s, char *buf, size_t len)
{
	if (s->role == SESS_ROLE_HOST)
		snprintf(buf, len, "%s here", s->ended ? "ended" : "hosted");
	else
		snprintf(buf, len, "a replica of %s:%u%s", s->link.host, (unsigned)s->link.port, s->link.left ? ", left" : "");
	return buf;
}

/* -EEXIST with a sentence when another session than `self` is called name. */
static int net_name_free(struct net_mod *nm, const char *name, const struct sess_session *self, const char *hint,
			 char *err, size_t errlen)
{
	struct sess_session *o = sess_named(sess_module_registry(nm->sess), name, self);
	if (!o)
		return 0;
	char where[360];
	snprintf(err, errlen, "a session named '%s' exists already (%s, %s); %s", name, o->id,
		 net_session_where(o, where, sizeof(where)), hint);
	return -EEXIST;
}

static struct sess_session *net_default_session(struct net_mod *nm)
{
	struct sess_registry *r = sess_module_registry(nm->sess);
	for (unsigned i = 0; i < r->n; i++)
		if (r->s[i]->role == SESS_ROLE_HOST && !strcmp(r->s[i]->name, SESS_DEFAULT_NAME))
			return r->s[i];
	return NULL;
}

static int net_cmd_host(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	const char *name = net_jarg(args, "name");
	char gen[SESS_NAME_MAX + 1];
	if (!name) {
		uint8_t rnd[4];
		randombytes_buf(rnd, sizeof(rnd));
		snprintf(gen, sizeof(gen), "session-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
		name = gen;
	}
	if (!sess_name_valid(name)) {
		snprintf(err, errlen, "'%s' is not a session name (1 to 64 of A-Z a-z 0-9 . _ -)", name);
		return -EINVAL;
	}
	int r = net_name_free(nm, name, NULL, "pick another name with --name (or forget that one first)", err, errlen);
	if (r < 0)
		return r;
	struct sess_session *s;
	r = sess_module_host(nm->sess, name, caller->uid, &s);
	if (r < 0) {
		snprintf(err, errlen, "cannot create session '%s': %s", name, th_strerror(r));
		return r;
	}
	sess_module_set_current(nm->sess, s);
	th_notice("session %s (%s) created by uid %u; this daemon hosts it", s->id, s->name, (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "name", json_object_new_string(s->name));
	return 0;
}

static int net_cmd_join(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	const char *text = net_jarg(args, "link");
	struct proto_invite_link link;
	if (!text) {
		snprintf(err, errlen, "session join needs an invite link (theta://HOST:PORT/SESSION?fp=...&token=...)");
		return -EINVAL;
	}
	if (proto_invite_parse(text, &link) < 0) {
		const char *why = proto_invite_check(text);
		snprintf(err, errlen, "%s", why ? why : "The invite link is malformed.");
		return -EINVAL;
	}
	const char *name = net_jarg(args, "name");
	char gen[SESS_NAME_MAX + 1];
	if (!name) {
		snprintf(gen, sizeof(gen), NET_JOINED_NAME_PREFIX "%02x%02x%02x%02x", link.session_id[0], link.session_id[1],
			 link.session_id[2], link.session_id[3]);
		name = gen;
	}
	if (!sess_name_valid(name)) {
		snprintf(err, errlen, "'%s' is not a session name (1 to 64 of A-Z a-z 0-9 . _ -)", name);
		return -EINVAL;
	}
	char idhex[SESS_ID_LEN + 1];
	th_hex_encode(link.session_id, sizeof(link.session_id), idhex);
	struct sess_session *same = sess_find(sess_module_registry(nm->sess), idhex);
	if (same && strcmp(same->id, idhex))
		same = NULL; /* a session named like the id: not this one */
	if (same && same->role == SESS_ROLE_HOST) {
		snprintf(err, errlen, "this daemon hosts that session itself");
		return -EEXIST;
	}
	/* Joining again keeps the replica's name; a new one must not take
	 * another session's. */
	if (!same || net_jarg(args, "name")) {
		int nr = net_name_free(nm, name, same, "give this one another name with --name", err, errlen);
		if (nr < 0)
			return nr;
	}
	struct sess_link sl;
	memset(&sl, 0, sizeof(sl));
	snprintf(sl.host, sizeof(sl.host), "%s", link.host);
	sl.port = link.port;
	memcpy(sl.fp, link.fp, sizeof(sl.fp));
	memcpy(sl.token, link.token, sizeof(sl.token));
	struct sess_session *s;
	int r = sess_module_join(nm->sess, link.session_id, name, &sl, caller->uid, &s);
	if (r == -EEXIST) {
		snprintf(err, errlen, "this daemon hosts that session itself");
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot create the replica of the session: %s", th_strerror(r));
		return r;
	}
	struct net_join *j = net_join_of(nm, s);
	if (j)
		net_join_leave(nm, j);
	s->link.left = false;
	if ((r = net_join_start(nm, s, &j)) < 0) {
		snprintf(err, errlen, "cannot start joining: %s", th_strerror(r));
		return r;
	}
	sess_module_set_current(nm->sess, s);
	th_notice("joining session %s at %s:%u (requested by uid %u)", s->id, s->link.host, (unsigned)s->link.port,
		  (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "name", json_object_new_string(s->name));
	return 0;
}

static int net_cmd_leave(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			 struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_session *s = net_pick(nm, args, err, errlen);
	if (!s)
		return -ENOENT;
	const char *what;
	if (s->role == SESS_ROLE_MEMBER) {
		struct net_join *j = net_join_of(nm, s);
		if (j)
			net_join_leave(nm, j);
		s->link.left = true;
		sess_save_conf(s);
		what = "left";
	} else {
		/* Durable first: a member reconnecting after a restart of this
		 * daemon is refused too, and so is every invite to it. */
		s->ended = true;
		int r = sess_save_conf(s);
		if (r < 0) {
			s->ended = false;
			snprintf(err, errlen, "cannot record that session %s ended: %s", s->id, th_strerror(r));
			return r;
		}
		net_host_end(nm, s, PROTO_SESS_ERR_HOST_ENDED);
		what = "ended";
	}
	struct sess_session *def = net_default_session(nm);
	if (sess_module_current(nm->sess) == s && def)
		sess_module_set_current(nm->sess, def);
	th_notice("session %s (%s): %s (uid %u)", s->id, s->name, what, (unsigned)caller->uid);
	net_mod_kick(nm);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "result", json_object_new_string(what));
	return 0;
}

/* `session forget S [--delete]`: a left member session, or one whose host
 * ended it or refused us for good, or a session this daemon ended. */
static int net_cmd_forget(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct json_object *v;
	if (!net_jarg(args, "session")) {
		snprintf(err, errlen, "session forget needs a SESSION (its name or id; see thetactl sessions)");
		return -EINVAL;
	}
	struct sess_session *s = net_pick(nm, args, err, errlen);
	if (!s)
		return -ENOENT;
	bool del = args && json_object_object_get_ex(args, "delete", &v) && json_object_get_boolean(v);
	struct net_join *j = s->role == SESS_ROLE_MEMBER ? net_join_of(nm, s) : NULL;
	if (s->role == SESS_ROLE_HOST && !s->ended) {
		snprintf(err, errlen, "this daemon still hosts session %s (%s); end it first (thetactl session leave %s)",
			 s->name, s->id, s->id);
		return -EBUSY;
	}
	if (s->role == SESS_ROLE_MEMBER && !s->link.left && j && j->st != NJ_FAILED) {
		snprintf(err, errlen, "session %s (%s) is still joined; leave it first (thetactl session leave %s)", s->name,
			 s->id, s->id);
		return -EBUSY;
	}
	if (j) { /* refused for good by its host: nothing more to try */
		net_join_leave(nm, j);
		s->link.left = true;
		sess_save_conf(s);
	}
	/* As `session leave` does: clients go back to the default session. */
	struct sess_session *def = net_default_session(nm);
	bool moved = sess_module_current(nm->sess) == s && def && def != s;
	if (moved)
		sess_module_set_current(nm->sess, def);
	char id[SESS_ID_LEN + 1], name[SESS_NAME_MAX + 1];
	snprintf(id, sizeof(id), "%s", s->id);
	snprintf(name, sizeof(name), "%s", s->name);
	int r = sess_module_forget(nm->sess, s, del, err, errlen);
	if (r < 0 && sess_find(sess_module_registry(nm->sess), id) == s) {
		if (moved) /* refused (clients pinned to it): nothing changed, the current session neither */
			sess_module_set_current(nm->sess, s);
		return r; /* still listed */
	}
	th_notice("session %s (%s) forgotten%s (uid %u)", id, name, del ? " and its files removed" : "",
		  (unsigned)caller->uid);
	if (r < 0)
		return r;
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(id));
	json_object_object_add(*res, "name", json_object_new_string(name));
	json_object_object_add(*res, "deleted", json_object_new_boolean(del));
	if (!del) {
		char kept[4200];
		snprintf(kept, sizeof(kept), "%s/%s/%s", sess_module_registry(nm->sess)->root, SESS_FORGOTTEN_DIR, id);
		json_object_object_add(*res, "kept_in", json_object_new_string(kept));
	}
	return 0;
}

static void net_peer_json(struct net_conn *c, uint64_t now, struct json_object *arr)
{
	static const char *const stname[] = { "handshake", "hello", "active", "closed" };
	char fpr[TH_KEY_FPR_LEN] = "-";
	struct json_object *o = json_object_new_object(), *b = json_object_new_object();
	if (c->st >= NC_HELLO || c->incoming == false)
		th_key_fingerprint(c->key, fpr, sizeof(fpr));
	json_object_object_add(o, "session", json_object_new_string(c->s ? c->s->id : "-"));
	json_object_object_add(o, "peer_id", json_object_new_int64(c->peer_id));
	json_object_object_add(o, "key", json_object_new_string(c->st >= NC_ACTIVE ? fpr : "-"));
	json_object_object_add(o, "address", json_object_new_string(c->addr));
	json_object_object_add(o, "is", json_object_new_string(c->incoming ? "member" : "host"));
	json_object_object_add(o, "role", json_object_new_string(c->role ? th_role_name(c->role) : "-"));
	json_object_object_add(o, "state", json_object_new_string(c->lost ? "lost" : stname[c->st]));
	static const struct net_hb none;
	const struct net_hb *hb = c->sl ? &c->sl->hb : &none;
	json_object_object_add(o, "rtt_ms", json_object_new_double(hb->samples ? hb->srtt_ns / 1e6 : 0));
	json_object_object_add(o, "jitter_ms", json_object_new_double(hb->jitter_ns / 1e6));
	json_object_object_add(o, "loss", json_object_new_double(net_hb_loss(hb, now)));
	json_object_object_add(o, "connected_s", json_object_new_double((double)(now - c->created_ns) / 1e9));
	/* Bytes per channel (and all datagram channels together as
	 * "datagrams"), and every counter of every channel. */
	struct json_object *chs = json_object_new_object();
	uint64_t dg_in = 0, dg_out = 0;
	for (unsigned i = 0; i < c->n_ch; i++) {
		const struct net_chan *ch = &c->ch[i];
		struct json_object *x = json_object_new_object(), *y = json_object_new_object();
		json_object_object_add(x, "in", json_object_new_uint64(ch->st[NET_CHAN_BYTES_IN]));
		json_object_object_add(x, "out", json_object_new_uint64(ch->st[NET_CHAN_BYTES_OUT]));
		json_object_object_add(b, ch->def->name, x);
		for (int k = 0; k < NET_CHAN_NSTAT; k++)
			json_object_object_add(y, net_chan_stat_name[k], json_object_new_uint64(ch->st[k]));
		json_object_object_add(chs, ch->def->name, y);
		if (ch->def->type == NET_CHAN_DGRAM) {
			dg_in += ch->st[NET_CHAN_BYTES_IN];
			dg_out += ch->st[NET_CHAN_BYTES_OUT];
		}
	}
	struct json_object *dg = json_object_new_object();
	json_object_object_add(dg, "in", json_object_new_uint64(dg_in));
	json_object_object_add(dg, "out", json_object_new_uint64(dg_out));
	json_object_object_add(b, "datagrams", dg);
	json_object_object_add(o, "bytes", b);
	json_object_object_add(o, "channels", chs);
	json_object_object_add(o, "entries_in", json_object_new_uint64(c->entries_in));
	json_object_object_add(o, "entries_out", json_object_new_uint64(c->entries_out));
	json_object_object_add(o, "entries_waits", json_object_new_uint64(c->waits));
	json_object_object_add(o, "entries_waiting", json_object_new_boolean(c->sl && net_sl_entries_waiting(c->sl)));
	json_object_object_add(o, "poses_refused", json_object_new_uint64(c->poses_refused));
	json_object_array_add(arr, o);
}

/* Labelled samples per connected peer (srv_metrics_add_collector): its
 * session, peer id and side; RTT, jitter, loss, and bytes per channel each
 * way. */
static void net_collect(void *u, struct srv_sample_sink *sink)
{
	struct net_mod *nm = u;
	uint64_t now = th_now_ns();
	for (struct net_conn *c = nm->conns; c; c = c->next) {
		if (!c->s || c->st != NC_ACTIVE)
			continue;
		char peer[16];
		snprintf(peer, sizeof peer, "%u", (unsigned)c->peer_id);
		const char *is = c->incoming ? "member" : "host";
		const char *const lab[] = { "session", c->s->id, "peer", peer, "is", is, NULL };
		if (c->sl && c->sl->hb.samples) {
			srv_sample(sink, "net_peer_rtt_seconds", "smoothed round-trip time to the peer (heartbeats)",
				   SRV_METRIC_GAUGE, lab, (double)c->sl->hb.srtt_ns / 1e9);
			srv_sample(sink, "net_peer_jitter_seconds", "round-trip jitter to the peer", SRV_METRIC_GAUGE, lab,
				   (double)c->sl->hb.jitter_ns / 1e9);
			srv_sample(sink, "net_peer_loss_ratio", "heartbeats lost recently (0..1)", SRV_METRIC_GAUGE, lab,
				   net_hb_loss(&c->sl->hb, now));
		}
		for (unsigned i = 0; i < c->n_ch; i++) {
			const struct net_chan *ch = &c->ch[i];
			const char *const in[] = { "session", c->s->id, "peer", peer, "is", is, "channel", ch->def->name,
						   "direction", "in", NULL };
			const char *const out[] = { "session", c->s->id, "peer", peer, "is", is, "channel", ch->def->name,
						    "direction", "out", NULL };
			srv_sample(sink, "net_peer_bytes", "bytes on a channel of the peer's connection", SRV_METRIC_COUNTER,
				   in, (double)ch->st[NET_CHAN_BYTES_IN]);
			srv_sample(sink, "net_peer_bytes", "bytes on a channel of the peer's connection", SRV_METRIC_COUNTER,
				   out, (double)ch->st[NET_CHAN_BYTES_OUT]);
		}
	}
}

static int net_cmd_peers(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			 struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	uint64_t now = th_now_ns();
	struct sess_session *only = NULL;
	if (net_jarg(args, "session") && !(only = net_pick(nm, args, err, errlen)))
		return -ENOENT;
	struct json_object *arr = json_object_new_array();
	struct json_object *others = json_object_new_array();
	for (struct net_conn *c = nm->conns; c; c = c->next) {
		if (c->st == NC_CLOSED || (only && c->s != only))
			continue;
		net_peer_json(c, now, arr);
		for (unsigned i = 0; !c->incoming && i < c->n_roster; i++) {
			struct json_object *o = json_object_new_object();
			char fpr[TH_KEY_FPR_LEN];
			th_key_fingerprint(c->roster[i].key, fpr, sizeof(fpr));
			json_object_object_add(o, "session", json_object_new_string(c->s ? c->s->id : "-"));
			json_object_object_add(o, "peer_id", json_object_new_int64(c->roster[i].peer_id));
			json_object_object_add(o, "key", json_object_new_string(fpr));
			json_object_object_add(o, "role", json_object_new_string(th_role_name(c->roster[i].role)));
			json_object_array_add(others, o);
		}
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "peers", arr);
	/* Member daemons: the session's other members, as the host announced them. */
	json_object_object_add(*res, "members", others);
	/* And each joined session's link to its host, with why it is down. */
	struct json_object *links = json_object_new_array();
	for (unsigned i = 0; i < nm->n_joins; i++) {
		const struct net_join *j = nm->joins[i];
		if (only && j->s != only)
			continue;
		struct json_object *o = json_object_new_object();
		char host[320];
		snprintf(host, sizeof(host), "%s:%u", j->s->link.host, (unsigned)j->s->link.port);
		json_object_object_add(o, "session", json_object_new_string(j->s->id));
		json_object_object_add(o, "host", json_object_new_string(host));
		json_object_object_add(o, "state", json_object_new_string(net_join_state_name(j->st)));
		json_object_object_add(o, "attempts", json_object_new_uint64(j->attempts));
		if (j->error[0])
			json_object_object_add(o, "error", json_object_new_string(j->error));
		json_object_array_add(links, o);
	}
	json_object_object_add(*res, "links", links);
	return 0;
}

bool net_fpr_match(const uint8_t key[32], const char *str)
{
	char fpr[TH_KEY_FPR_LEN];
	size_t plen = strlen(str);
	th_key_fingerprint(key, fpr, sizeof(fpr));
	return (plen >= 15 && !strncmp(fpr, str, plen)) || (plen >= 8 && !strncmp(fpr + 7, str, plen));
}

/* PEER: a peer id, or a key fingerprint (SHA256:..., a unique prefix of at
 * least 8 characters after "SHA256:" will do), in a hosted session. */
struct sess_member *net_find_member(struct net_mod *nm, const char *peer, struct sess_session **sout,
					   char *err, size_t errlen)
{
	struct sess_registry *r = sess_module_registry(nm->sess);
	char *end;
	unsigned long id = strtoul(peer, &end, 10);
	bool numeric = *peer && !*end;
	struct sess_member *hit = NULL;
	unsigned hits = 0;
	for (unsigned i = 0; i < r->n; i++) {
		struct sess_session *s = r->s[i];
		if (s->role != SESS_ROLE_HOST)
			continue;
		for (unsigned k = 0; k < s->n_members; k++) {
			struct sess_member *mb = &s->members[k];
			char fpr[TH_KEY_FPR_LEN];
			th_key_fingerprint(mb->key, fpr, sizeof(fpr));
			bool match = numeric ? mb->peer_id == id : net_fpr_match(mb->key, peer);
			if (match) {
				hit = mb;
				*sout = s;
				hits++;
			}
		}
	}
	if (hits == 1)
		return hit;
	snprintf(err, errlen, hits ? "'%s' names more than one peer; use the full key fingerprint"
				   : "no member '%s' in a session this daemon hosts (see thetactl peers)",
		 peer);
	return NULL;
}

/* On a member daemon: PEER names another member of session s (the named or
 * current one) as the host announced it: its peer id, or its key
 * fingerprint (same prefix rules as above). Returns the peer id. */
int net_find_remote_peer(struct net_mod *nm, struct json_object *args, const char *peer, struct sess_session **sout,
			 char *err, size_t errlen)
{
	char why[200];
	struct sess_session *s = net_pick(nm, args, why, sizeof(why));
	if (!s || s->role != SESS_ROLE_MEMBER)
		return -ENOENT;
	struct net_join *j = net_join_of(nm, s);
	if (!j || !j->conn || j->conn->st != NC_ACTIVE) {
		snprintf(err, errlen, "session %s is not connected to its host now; try again once it is", s->id);
		return -ENOTCONN;
	}
	struct net_conn *c = j->conn;
	char *end;
	unsigned long id = strtoul(peer, &end, 10);
	*sout = s;
	if (*peer && !*end && id <= INT32_MAX)
		return (int)id; /* the host decides whether it exists */
	int hit = -ENOENT;
	unsigned hits = 0;
	for (unsigned i = 0; i < c->n_roster; i++) {
		if (net_fpr_match(c->roster[i].key, peer)) {
			hit = (int)c->roster[i].peer_id;
			hits++;
		}
	}
	if (hits == 1)
		return hit;
	snprintf(err, errlen, hits ? "'%s' names more than one peer; use the full key fingerprint"
				   : "no member '%s' in session %s (see thetactl peers)",
		 peer, s->id);
	return -ENOENT;
}

/* Sends an admin request to the host of a joined session; thetactl polls
 * `admin_request` for the answer. */
static int net_remote_admin(struct net_mod *nm, const struct srv_ctl_caller *caller, struct json_object *args,
			    const char *peer, uint8_t op, uint8_t role, struct json_object **res, char *err,
			    size_t errlen)
{
	struct sess_session *s = NULL;
	char why[256];
	snprintf(why, sizeof(why), "%s", err); /* the hosted-session lookup's sentence */
	int id = net_find_remote_peer(nm, args, peer, &s, err, errlen);
	if (id == -ENOENT && !s) {
		snprintf(err, errlen, "%s", why);
		return -ENOENT;
	}
	if (id < 0)
		return id;
	struct net_admin_req *q;
	int r = net_admin_request(nm, s, op, (uint32_t)id, role, NULL, &q);
	if (r < 0) {
		snprintf(err, errlen, "session %s is not connected to its host now; try again once it is", s->id);
		return r;
	}
	th_notice("session %s: asked the host to %s peer %d (uid %u)", s->id,
		  op == PROTO_SESS_ADMIN_KICK ? "kick" : "change the role of", id, (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "peer_id", json_object_new_int64(id));
	json_object_object_add(*res, "request", json_object_new_int64(q->id));
	return 0;
}

static int net_cmd_admin_request(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
				 struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct json_object *v;
	int64_t id = args && json_object_object_get_ex(args, "id", &v) ? json_object_get_int64(v) : 0;
	struct net_admin_req *q = NULL;
	for (unsigned i = 0; i < NET_ADMIN_REQ_MAX && id > 0; i++)
		if (nm->reqs[i].id == (uint64_t)id)
			q = &nm->reqs[i];
	if (!q) {
		snprintf(err, errlen, "no admin request %" PRId64 " (answers are kept for the last %u)", id,
			 NET_ADMIN_REQ_MAX);
		return -ENOENT;
	}
	bool timeout = !q->done && th_now_ns() - q->sent_ns > NET_ADMIN_REQ_TIMEOUT_NS;
	*res = json_object_new_object();
	json_object_object_add(*res, "state", json_object_new_string(q->done ? "done" : timeout ? "timeout" : "pending"));
	json_object_object_add(*res, "session", json_object_new_string(q->sid));
	json_object_object_add(*res, "peer_id", json_object_new_int64(q->peer_id));
	static const char *const ops[] = { [PROTO_SESS_ADMIN_KICK] = "kick", [PROTO_SESS_ADMIN_ROLE] = "role",
					   [PROTO_SESS_ADMIN_MUTE] = "mute", [PROTO_SESS_ADMIN_UNMUTE] = "unmute" };
	json_object_object_add(*res, "op", json_object_new_string(q->op <= PROTO_SESS_ADMIN_UNMUTE && ops[q->op] ? ops[q->op] : "?"));
	if (q->done) {
		json_object_object_add(*res, "code", json_object_new_int(q->code));
		if (q->code)
			json_object_object_add(*res, "error", json_object_new_string(proto_sess_err_text(q->code)));
		if (q->role)
			json_object_object_add(*res, "role", json_object_new_string(th_role_name(q->role)));
	} else if (timeout) {
		json_object_object_add(*res, "error", json_object_new_string("The host did not answer in time."));
	}
	return 0;
}

static int net_cmd_kick(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	const char *peer = net_jarg(args, "peer");
	struct sess_session *s;
	if (!peer) {
		snprintf(err, errlen, "kick needs a PEER (id or key fingerprint)");
		return -EINVAL;
	}
	struct sess_member *mb = net_find_member(nm, peer, &s, err, errlen);
	if (!mb)
		return net_remote_admin(nm, caller, args, peer, PROTO_SESS_ADMIN_KICK, 0, res, err, errlen);
	net_host_kick(nm, s, mb);
	th_notice("session %s: peer %u kicked by uid %u", s->id, mb->peer_id, (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "peer_id", json_object_new_int64(mb->peer_id));
	return 0;
}

static int net_cmd_role(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	const char *peer = net_jarg(args, "peer"), *rs = net_jarg(args, "role");
	struct sess_session *s;
	int role = rs ? proto_sess_role_parse(rs) : -EINVAL;
	if (!peer || role < 0) {
		snprintf(err, errlen, "role needs a PEER and a ROLE (viewer, editor, admin)");
		return -EINVAL;
	}
	struct sess_member *mb = net_find_member(nm, peer, &s, err, errlen);
	if (!mb)
		return net_remote_admin(nm, caller, args, peer, PROTO_SESS_ADMIN_ROLE, (uint8_t)role, res, err, errlen);
	int r = net_host_set_role(nm, s, mb, (uint8_t)role);
	if (r < 0) {
		snprintf(err, errlen, "cannot store the member table: %s", th_strerror(r));
		return r;
	}
	th_notice("session %s: peer %u is now %s (uid %u)", s->id, mb->peer_id, th_role_name(mb->role),
		  (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "peer_id", json_object_new_int64(mb->peer_id));
	json_object_object_add(*res, "role", json_object_new_string(th_role_name(mb->role)));
	return 0;
}

static int net_cmd_impair(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	const char *spec = net_jarg(args, "spec"), *part = net_jarg(args, "partition");
	int r;
	if (spec && (r = net_set_impair(nm, !strcmp(spec, "off") ? "" : spec, err, errlen)) < 0)
		return r;
	if (part) {
		bool on = !strcmp(part, "on");
		if (!on && strcmp(part, "off")) {
			snprintf(err, errlen, "partition is 'on' or 'off'");
			return -EINVAL;
		}
		if (!nm->imp_in && (r = net_set_impair(nm, "loss=0", err, errlen)) < 0)
			return r;
		net_impair_set_partition(nm->imp_in, on);
		net_impair_set_partition(nm->imp_out, on);
		th_notice("network partition %s (uid %u)", on ? "on" : "off", (unsigned)caller->uid);
	}
	if (spec)
		th_notice("network impairment %s%s (uid %u)", nm->impair_spec[0] ? "set to " : "off",
			  nm->impair_spec, (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "spec", json_object_new_string(nm->impair_spec));
	if (nm->imp_in) {
		struct net_impair_stats a, b;
		net_impair_get_stats(nm->imp_in, &a);
		net_impair_get_stats(nm->imp_out, &b);
		json_object_object_add(*res, "in_dropped", json_object_new_uint64(a.dropped_loss + a.dropped_partition));
		json_object_object_add(*res, "out_dropped", json_object_new_uint64(b.dropped_loss + b.dropped_partition));
	}
	return 0;
}

/* ---- sessions-module hooks -------------------------------------------------- */

static void net_hook_durable(void *u, struct sess_session *s, const struct clog_event *ev)
{
	net_link_on_durable(u, s, ev);
}

static void net_hook_flushed(void *u, struct sess_session *s)
{
	net_link_on_flushed(u, s);
}

static void net_hook_log_room(void *u, struct sess_session *s)
{
	net_link_on_log_room(u, s);
}

static void net_hook_pose(void *u, struct sess_session *s, const uint8_t author[SESS_KEY_LEN],
			  const struct proto_ipc_pose_update *p)
{
	net_pres_local_pose(u, s, author, p);
}

static void net_hook_presence(void *u, struct sess_session *s, const uint8_t author[SESS_KEY_LEN],
			      const struct proto_ipc_presence *p)
{
	net_pres_local_presence(u, s, author, p);
}

static void net_hook_user_gone(void *u, struct sess_session *s, const uint8_t author[SESS_KEY_LEN])
{
	net_pres_local_gone(u, s, author);
}

static void net_hook_rejected(void *u, struct sess_session *s, uint32_t source, const struct th_logrec_entry *e,
			      int reason)
{
	net_link_on_rejected(u, s, source, e, reason);
}

static void net_hook_describe(void *u, struct sess_session *s, struct json_object *row)
{
	struct net_mod *nm = u;
	json_object_object_add(row, "peers", json_object_new_int((int)net_peers_of(nm, s)));
	if (s->role != SESS_ROLE_MEMBER)
		return;
	struct net_join *j = net_join_of(nm, s);
	json_object_object_add(row, "link_state", json_object_new_string(j ? net_join_state_name(j->st) : s->link.left ? "left" : "idle"));
	if (j)
		json_object_object_add(row, "link_attempts", json_object_new_uint64(j->attempts));
	if (j && j->code) {
		json_object_object_add(row, "error_code", json_object_new_uint64(j->code));
	}
	if (j && j->error[0])
		json_object_object_add(row, "error", json_object_new_string(j->error));
	if (j)
		json_object_object_add(row, "joins", json_object_new_uint64(j->joins));
	if (j)
		net_join_describe(j, th_now_ns(), row);
	net_snaps_describe(nm, s, row);
}

static void net_hook_link_info(void *u, struct sess_session *s, struct sess_link_info *out)
{
	struct net_mod *nm = u;
	*out = (struct sess_link_info){ .peers = net_peers_of(nm, s) };
	if (s->role != SESS_ROLE_MEMBER)
		return;
	struct net_join *j = net_join_of(nm, s);
	const struct net_conn *c = j && j->st == NJ_ACTIVE ? j->conn : NULL;
	if (!c || c->st != NC_ACTIVE || c->lost)
		return;
	out->host_linked = true;
	if (c->sl && c->sl->hb.samples)
		out->host_rtt_ns = c->sl->hb.srtt_ns;
}

static const struct sess_net_hooks net_hooks = {
	.durable = net_hook_durable,
	.flushed = net_hook_flushed,
	.log_room = net_hook_log_room,
	.pose = net_hook_pose,
	.presence = net_hook_presence,
	.user_gone = net_hook_user_gone,
	.rejected = net_hook_rejected,
	.describe = net_hook_describe,
	.link_info = net_hook_link_info,
};

/* ---- module ---------------------------------------------------------------- */

static void net_module_stop(void *state);

static int net_module_start(struct srv_daemon *d, void **state, char *msg, unsigned len)
{
	struct net_mod *nm = calloc(1, sizeof(*nm));
	int r;
	if (!nm)
		return -ENOMEM;
	nm->d = d;
	nm->timer_fd = -1;
	nm->lost_after_ns = NET_HB_LOST_DEFAULT_NS;
	nm->sess = srv_daemon_module_state(d, "sessions");
	if (!nm->sess || !(nm->host_key = sess_module_host_key(nm->sess))) {
		snprintf(msg, len, "the net module needs the sessions module");
		free(nm);
		return -ENOENT;
	}
	struct srv_metrics *mx = srv_daemon_metrics(d);
	nm->m_refusals = srv_counter(mx, "net_refusals", "joins refused by this host (any reason)");
	/* refuse() bumps m_refused[code - first] for every code in range. */
	_Static_assert(sizeof(nm->m_refused) / sizeof(nm->m_refused[0]) >= NET_REFUSAL_CODES,
		       "a refusal counter slot per code");
	for (uint64_t code = NET_REFUSAL_FIRST; code <= PROTO_SESS_ERR_MAX_; code++)
		nm->m_refused[code - NET_REFUSAL_FIRST] =
			srv_counter(mx, net_refusal_metric_name(code), "joins refused for this reason");
	srv_metrics_add_collector(mx, net_collect, nm);
	nm->h_rtt = srv_histogram(mx, "net_rtt_seconds", "round-trip times measured by heartbeats, every peer",
				  srv_hist_fast_s, SRV_HIST_FAST_N);
	nm->h_catchup = srv_histogram(mx, "net_catchup_seconds",
				      "host: a catch-up round, from a member's SYNC to the end of the log sent",
				      srv_hist_slow_s, SRV_HIST_SLOW_N);
	nm->m_peers_lost = srv_counter(mx, "net_peers_lost", "peers declared lost after silence");
	nm->m_joins = srv_counter(mx, "net_joins", "members admitted (host) or admissions (joiner)");
	nm->m_rejoins = srv_counter(mx, "net_rejoin_attempts", "reconnect attempts of joined sessions");
	nm->m_join_unreachable = srv_counter(mx, "net_join_unreachable",
					     "join attempts ended by an ICMP error (port, host or network unreachable)");
	nm->m_entries_in = srv_counter(mx, "net_entries_in", "log entries received from peers");
	nm->m_entries_out = srv_counter(mx, "net_entries_out", "log entries sent to peers");
	nm->m_udp_drops = srv_counter(mx, "net_udp_send_drops", "datagrams the socket would not take");
	nm->m_protocol = srv_counter(mx, "net_protocol_violations", "peers that broke the session protocol");
	nm->m_admin_applied = srv_counter(mx, "net_admin_requests_applied", "kicks / role changes admin members asked for");
	nm->m_admin_refused = srv_counter(mx, "net_admin_requests_refused",
					  "admin requests refused (not an admin: NOT_AUTHORIZED, or no such peer)");
	nm->m_rejects_fwd = srv_counter(mx, "net_rejects_forwarded", "refusals of relayed entries sent to members");
	nm->m_rejects_delivered = srv_counter(mx, "net_rejects_delivered",
					      "refusals from the host delivered to local clients as EVENT_REJECTED");
	nm->m_sync_ignored = srv_counter(mx, "net_sync_ignored", "SYNC requests ignored for coming too often");
	nm->m_send_failed = srv_counter(mx, "net_send_failed", "connections closed because a frame could not be queued");
	nm->m_catchup_rounds = srv_counter(mx, "net_catchup_rounds", "catch-up rounds started for peers");
	nm->m_catchup_entries = srv_counter(mx, "net_catchup_entries", "entries sent to peers by catch-up rounds");
	nm->m_cut_repaired = srv_counter(mx, "net_cut_repaired",
					 "logs whose records cut by recovery came back from a peer");
	nm->m_sync_divergent = srv_counter(mx, "net_sync_divergent",
					   "authors whose chain differs from a peer's at the same sequence number");
	nm->m_backpressure = srv_counter(mx, "net_backpressure",
					 "times a peer's entries waited for the log to take them (its commands stream paused)");
	nm->m_member_leaves = srv_counter(mx, "net_member_leaves",
					  "members the host announced as gone (on a member daemon; one per departure)");

	const char *e;
	nm->lost_after_ns = srv_daemon_config(d)->net_peer_timeout_ns;
	nm->max_peers = (unsigned)srv_daemon_config(d)->net_max_peers;
	if ((e = getenv("THETAD_TEST_SESSION_VERSION")) && *e)
		nm->test_version = (uint16_t)strtoul(e, NULL, 10);
	if ((e = getenv("THETAD_TEST_SCHEMA_XOR")) && *e)
		nm->test_schema_xor = strtoull(e, NULL, 0);
	if ((e = getenv("THETAD_TEST_BAD_HELLO_SIG")) && *e == '1')
		nm->test_bad_sig = true;
	if ((e = getenv("THETAD_TEST_QUEUE_FAIL")) && *e)
		nm->test_queue_fail = strtoull(e, NULL, 10);

	bool created = false;
	if ((r = net_cert_load_or_create(srv_daemon_state_dir(d), &nm->cert, &created)) < 0) {
		snprintf(msg, len, "cannot load or create the TLS certificate under %s/%s: %s", srv_daemon_state_dir(d),
			 NET_CERT_DIR, th_strerror(r));
		goto fail;
	}
	if (created)
		th_notice("created this daemon's TLS certificate, fingerprint %s", nm->cert->fp_hex);
	int64_t port = srv_daemon_config(d)->port;
	if ((r = net_udp_open(NULL, (uint16_t)port, &nm->udp)) < 0) {
		snprintf(msg, len, "cannot bind UDP port %" PRId64 ": %s%s", port, th_strerror(r),
			 r == -EADDRINUSE ? " (another daemon uses it; pick another with --port or net.port)" : "");
		goto fail;
	}
	socklen_t ll;
	const struct sockaddr *local = net_udp_local(nm->udp, &ll);
	struct net_server_config sc = { .quic = { .keepalive_ns = 0, .initial_rtt_ns = NET_INITIAL_RTT_NS } };
	if ((r = net_link_start(nm)) < 0 ||
	    (r = net_server_create(&sc, nm->cert->cred, &net_link_server_cb, nm, local, ll, &nm->srv)) < 0) {
		snprintf(msg, len, "cannot start the QUIC endpoint: %s", th_strerror(r));
		goto fail;
	}
	nm->timer_fd = th_timerfd_create(0, 0);
	if (nm->timer_fd < 0) {
		r = nm->timer_fd;
		snprintf(msg, len, "cannot create the network timer: %s", th_strerror(r));
		goto fail;
	}
	if ((r = th_loop_add(srv_daemon_loop(d), net_udp_fd(nm->udp), EPOLLIN, net_on_udp, nm)) < 0 ||
	    (r = th_loop_add(srv_daemon_loop(d), nm->timer_fd, EPOLLIN, net_on_timer, nm)) < 0) {
		snprintf(msg, len, "cannot watch the UDP socket: %s", th_strerror(r));
		goto fail;
	}
	if ((r = net_resolver_create(srv_daemon_loop(d), net_on_resolved, nm, &nm->resolver)) < 0) {
		snprintf(msg, len, "cannot start the host name resolver: %s", th_strerror(r));
		goto fail;
	}
	if (*(e = srv_daemon_config(d)->net_impair)) {
		char why[256];
		if ((r = net_set_impair(nm, e, why, sizeof(why))) < 0) {
			snprintf(msg, len, "--impair / net.impair: %s", why);
			goto fail;
		}
		th_warn("network impairment active: %s (for rehearsals; never in production)", e);
	}
	char where[96];
	snprintf(where, sizeof(where), "%s:%u", net_udp_is_dual_stack(nm->udp) ? "[::]" : "0.0.0.0",
		 (unsigned)net_udp_port(nm->udp));
	srv_daemon_add_socket_info(d, "udp", where);

	struct srv_control *ctl = srv_daemon_control(d);
	srv_control_register(ctl, "session_host", SRV_CTL_CHANGE, net_cmd_host, nm);
	srv_control_register(ctl, "session_join", SRV_CTL_CHANGE, net_cmd_join, nm);
	srv_control_register(ctl, "session_leave", SRV_CTL_CHANGE, net_cmd_leave, nm);
	srv_control_register(ctl, "session_forget", SRV_CTL_CHANGE, net_cmd_forget, nm);
	net_invite_ctl_register(nm);
	srv_control_register(ctl, "peers", SRV_CTL_QUERY, net_cmd_peers, nm);
	srv_control_register(ctl, "kick", SRV_CTL_CHANGE, net_cmd_kick, nm);
	srv_control_register(ctl, "role", SRV_CTL_CHANGE, net_cmd_role, nm);
	srv_control_register(ctl, "admin_request", SRV_CTL_QUERY, net_cmd_admin_request, nm);
	srv_control_register(ctl, "impair", SRV_CTL_CHANGE, net_cmd_impair, nm);
	net_voice_ctl_register(nm);
	if ((r = net_assets_start(nm)) < 0) {
		snprintf(msg, len, "cannot set up asset transfers: %s", th_strerror(r));
		goto fail;
	}
	sess_module_set_net(nm->sess, &net_hooks, nm);

	/* Resume the sessions this daemon had joined. */
	struct sess_registry *reg = sess_module_registry(nm->sess);
	for (unsigned i = 0; i < reg->n; i++) {
		struct sess_session *s = reg->s[i];
		struct net_join *j;
		if (s->role == SESS_ROLE_MEMBER && !s->link.left && s->log && !s->error[0] &&
		    net_join_start(nm, s, &j) == 0)
			th_info("session %s: rejoining its host %s:%u", s->id, s->link.host, (unsigned)s->link.port);
	}
	th_info("UDP port %u, certificate fingerprint %s", (unsigned)net_udp_port(nm->udp), nm->cert->fp_hex);
	*state = nm;
	net_mod_kick(nm);
	return 0;
fail:
	net_module_stop(nm);
	return r;
}

static void net_module_stop(void *state)
{
	struct net_mod *nm = state;
	if (!nm)
		return;
	if (nm->sess)
		sess_module_set_net(nm->sess, NULL, NULL);
	/* Say goodbye: members and hosts learn at once rather than by silence.
	 * A joined session's link ends because we stop, not because the host
	 * was lost: the log says so, and no reconnect is planned. */
	for (unsigned i = 0; i < nm->n_joins; i++) {
		struct net_join *j = nm->joins[i];
		if (j->st == NJ_ACTIVE)
			th_notice("session %s: leaving the host %s:%u for now: this daemon is stopping (it rejoins when it starts)",
				  j->s->id, j->s->link.host, (unsigned)j->s->link.port);
		j->stopping = true;
	}
	if (nm->srv) {
		uint64_t now = th_now_ns();
		for (struct net_conn *c = nm->conns; c; c = c->next)
			if (c->q && c->st != NC_CLOSED)
				net_conn_close(c, PROTO_SESS_ERR_LEFT, "daemon stopping", now);
		net_impair_destroy(&nm->imp_out); /* the goodbyes go straight out */
		net_flush_out(nm, now);
	}
	while (nm->n_joins)
		net_join_leave(nm, nm->joins[nm->n_joins - 1]);
	net_resolver_destroy(&nm->resolver); /* lookups still running end on their own */
	net_server_destroy(&nm->srv); /* conn_gone frees each net_conn */
	while (nm->conns) {
		struct net_conn *c = nm->conns;
		nm->conns = c->next;
		net_conn_free(c);
	}
	net_assets_stop(nm); /* after the connections: their transfers use the stores */
	net_link_stop(nm);
	net_snaps_stop(nm);
	net_voice_stop(nm);
	net_pres_stop(nm);
	if (nm->timer_fd >= 0) {
		th_loop_del(srv_daemon_loop(nm->d), nm->timer_fd);
		close(nm->timer_fd);
	}
	if (nm->udp) {
		th_loop_del(srv_daemon_loop(nm->d), net_udp_fd(nm->udp));
		net_udp_close(&nm->udp);
	}
	net_impair_destroy(&nm->imp_in);
	net_impair_destroy(&nm->imp_out);
	net_cert_destroy(&nm->cert);
	free(nm);
}

static void net_module_status(void *state, struct json_object *status)
{
	struct net_mod *nm = state;
	unsigned peers = 0;
	for (struct net_conn *c = nm->conns; c; c = c->next)
		peers += c->st == NC_ACTIVE;
	json_object_object_add(status, "udp_port", json_object_new_int(net_udp_port(nm->udp)));
	json_object_object_add(status, "cert_fingerprint", json_object_new_string(nm->cert->fp_hex));
	json_object_object_add(status, "peers", json_object_new_int((int)peers));
	if (nm->impair_spec[0])
		json_object_object_add(status, "impair", json_object_new_string(nm->impair_spec));
}

static int net_module_status_line(void *state, char *buf, unsigned len)
{
	struct net_mod *nm = state;
	unsigned peers = 0;
	for (struct net_conn *c = nm->conns; c; c = c->next)
		peers += c->st == NC_ACTIVE;
	return snprintf(buf, len, "UDP %u, %u peer%s", (unsigned)net_udp_port(nm->udp), peers, peers == 1 ? "" : "s");
}

static void net_module_reload(void *state)
{
	net_pres_configure(state);
}

const struct srv_module net_module = {
	.name = "net",
	.start = net_module_start,
	.stop = net_module_stop,
	.reload = net_module_reload,
	.status = net_module_status,
	.status_line = net_module_status_line,
};
