/* Invites (thetactl invite, invite list, invite revoke): a link signed by
 * the host key for a session this daemon hosts, recorded in the session's
 * `invites` (thetad/sess/invites.c) before it is shown, so that the host
 * can list what it handed out and refuse a revoked one at join
 * (net_link.c hop_refusal). See docs/operator.md, "Sessions between
 * daemons". */
#include <errno.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "invite.h"
#include "net/net_int.h"
#include "sess/module.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_time.h"
#include "web/module.h"

#define NET_INVITE_EXPIRES_MAX_S (366ull * 24 * 3600) /* an invite lives at most a year */
#define NET_INVITE_EXPIRES_DEFAULT_S (24ull * 3600) /* without --expires */

/* The address an invite names when none is given: the first non-loopback
 * IPv4 address that is up, else 127.0.0.1. */
static void net_default_host(char *out, size_t len)
{
	struct ifaddrs *ifa = NULL;
	snprintf(out, len, "127.0.0.1");
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, (socklen_t)len);
		break;
	}
	freeifaddrs(ifa);
}

static int net_cmd_invite(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_session *s = net_pick(nm, args, err, errlen);
	struct json_object *v;
	if (!s)
		return -ENOENT;
	if (s->role != SESS_ROLE_HOST) {
		snprintf(err, errlen, "session %s is hosted by another daemon (%s:%u); invites come from its host", s->id,
			 s->link.host, (unsigned)s->link.port);
		return -EPERM;
	}
	if (s->ended) {
		snprintf(err, errlen, "session %s (%s) was ended; host a new session to invite people", s->name, s->id);
		return -EPERM;
	}
	const char *rs = net_jarg(args, "role");
	int role = rs ? proto_sess_role_parse(rs) : PROTO_SESS_ROLE_EDITOR;
	if (role < 0) {
		snprintf(err, errlen, "'%s' is not a role (viewer, editor, admin)", rs);
		return -EINVAL;
	}
	uint64_t now_s = th_wall_ns() / TH_NS_PER_S, expires_s = NET_INVITE_EXPIRES_DEFAULT_S;
	if (args && json_object_object_get_ex(args, "expires_s", &v)) {
		/* 0 is "never": a value of another type (json-c reads it as 0)
		 * must not make a link that never expires. */
		int64_t x = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
		if (x < 0 || (uint64_t)x > NET_INVITE_EXPIRES_MAX_S) {
			snprintf(err, errlen, "an invite expires after 1 s to 366 days, or never");
			return -EINVAL;
		}
		expires_s = (uint64_t)x; /* 0: never */
	}
	uint64_t expiry = expires_s ? now_s + expires_s : 0;
	bool single = args && json_object_object_get_ex(args, "single_use", &v) && json_object_get_boolean(v);
	char host[PROTO_INVITE_MAX_HOST + 1];
	const char *h = net_jarg(args, "host");
	if (h)
		snprintf(host, sizeof(host), "%s", h);
	else
		net_default_host(host, sizeof(host));
	uint8_t token[PROTO_INVITE_TOKEN_LEN];
	struct proto_invite_token tok;
	int r = proto_invite_token_make(s->id_bytes, (unsigned)role, expiry, single, nm->host_key->sk, token, &tok);
	if (r < 0) {
		snprintf(err, errlen, "cannot make the token: %s", th_strerror(r));
		return r;
	}
	char link[PROTO_INVITE_MAX_LINK + 1];
	r = proto_invite_format(host, net_udp_port(nm->udp), nm->cert->fp, token, link, sizeof(link));
	if (r < 0) {
		snprintf(err, errlen, "cannot write a link for host '%s': %s", host, th_strerror(r));
		return r;
	}
	/* Durable before the link is shown: `invite list` and `invite revoke`
	 * know every link this host handed out. */
	struct sess_invite inv = { .role = (uint8_t)role, .single_use = single, .created_unix = now_s,
				   .expiry_unix = expiry };
	memcpy(inv.nonce, tok.nonce, sizeof(inv.nonce));
	if ((r = sess_invite_add(s, &inv, now_s)) < 0 || (r = sess_invites_save(s)) < 0) {
		if (r == -ENOSPC)
			snprintf(err, errlen, "session %s lists %u invites that have neither expired nor been used (a revoked "
					      "one is kept until it expires); wait for some to expire, or host a new session",
				 s->id, SESS_MAX_INVITES);
		else
			snprintf(err, errlen, "cannot store the invite in %s/invites: %s", s->dir, th_strerror(r));
		if (r != -ENOSPC && sess_invite_find(s, inv.nonce))
			s->n_invites--; /* the link is never shown: forget it here too */
		return r;
	}
	char invid[33];
	th_hex_encode(inv.nonce, sizeof(inv.nonce), invid);
	th_info("invite to session %s (%s) as %s%s issued by uid %u", s->id, s->name, proto_sess_role_name((unsigned)role),
		single ? ", single use" : "", (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "link", json_object_new_string(link));
	/* The browser link beside it when [web] listen is set (docs/web.md). */
	void *web = srv_daemon_module_state(nm->d, "web");
	if (web) {
		char b64[PROTO_INVITE_MAX_LINK], wl[PROTO_INVITE_MAX_LINK + 128];
		sodium_bin2base64(b64, sizeof(b64), token, PROTO_INVITE_TOKEN_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		if (web_module_invite_link(web, host, s->id_bytes, nm->cert->fp_hex, b64, wl, sizeof(wl)) > 0)
			json_object_object_add(*res, "web_link", json_object_new_string(wl));
	}
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "role", json_object_new_string(proto_sess_role_name((unsigned)role)));
	json_object_object_add(*res, "expiry_unix", json_object_new_uint64(expiry));
	json_object_object_add(*res, "single_use", json_object_new_boolean(single));
	json_object_object_add(*res, "invite_id", json_object_new_string(invid));
	return 0;
}

static void net_invite_json(const struct sess_session *s, const struct sess_invite *v, uint64_t now_s,
			    struct json_object *arr)
{
	struct json_object *o = json_object_new_object();
	char hex[33];
	th_hex_encode(v->nonce, sizeof(v->nonce), hex);
	json_object_object_add(o, "id", json_object_new_string(hex));
	json_object_object_add(o, "session", json_object_new_string(s->id));
	json_object_object_add(o, "session_name", json_object_new_string(s->name));
	json_object_object_add(o, "role", json_object_new_string(proto_sess_role_name(v->role)));
	json_object_object_add(o, "created_unix", json_object_new_uint64(v->created_unix));
	json_object_object_add(o, "expiry_unix", json_object_new_uint64(v->expiry_unix));
	json_object_object_add(o, "single_use", json_object_new_boolean(v->single_use));
	json_object_object_add(o, "uses", json_object_new_uint64(v->uses));
	json_object_object_add(o, "state", json_object_new_string(s->ended ? "ended" : sess_invite_state(v, now_s)));
	json_object_array_add(arr, o);
}

/* Every invite of the hosted sessions (or of args.session), oldest first. */
static int net_cmd_invite_list(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			       struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_session *only = NULL;
	if (net_jarg(args, "session") && !(only = net_pick(nm, args, err, errlen)))
		return -ENOENT;
	if (only && only->role != SESS_ROLE_HOST) {
		snprintf(err, errlen, "session %s is hosted by another daemon (%s:%u); its invites are listed there",
			 only->id, only->link.host, (unsigned)only->link.port);
		return -EPERM;
	}
	struct sess_registry *r = sess_module_registry(nm->sess);
	uint64_t now_s = th_wall_ns() / TH_NS_PER_S;
	struct json_object *arr = json_object_new_array();
	for (unsigned i = 0; i < r->n; i++) {
		struct sess_session *s = r->s[i];
		if (s->role != SESS_ROLE_HOST || (only && s != only))
			continue;
		for (unsigned k = 0; k < s->n_invites; k++)
			net_invite_json(s, &s->invites[k], now_s, arr);
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "invites", arr);
	return 0;
}

static int net_cmd_invite_revoke(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
				 struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	const char *id = net_jarg(args, "id");
	if (!id) {
		snprintf(err, errlen, "invite revoke needs an invite ID (see thetactl invite list)");
		return -EINVAL;
	}
	struct sess_session *only = NULL, *at = NULL;
	if (net_jarg(args, "session") && !(only = net_pick(nm, args, err, errlen)))
		return -ENOENT;
	struct sess_registry *r = sess_module_registry(nm->sess);
	struct sess_invite *hit = NULL;
	unsigned hits = 0;
	char why[256] = "";
	for (unsigned i = 0; i < r->n; i++) {
		struct sess_session *s = r->s[i];
		if (s->role != SESS_ROLE_HOST || (only && s != only))
			continue;
		struct sess_invite *v = sess_invite_lookup(s, id, why, sizeof(why));
		if (v) {
			hit = v;
			at = s;
			hits++;
		} else if (strstr(why, "is the start of")) {
			hits += 2; /* ambiguous within one session */
		} else if (strstr(why, "is not an invite id")) {
			snprintf(err, errlen, "%s", why);
			return -EINVAL;
		}
	}
	if (hits != 1) {
		if (hits)
			snprintf(err, errlen, "'%s' is the start of more than one invite id; give more of the id", id);
		else
			snprintf(err, errlen, "no invite '%s' in %s (see thetactl invite list)", id,
				 only ? "that session" : "a session this daemon hosts");
		return -ENOENT;
	}
	bool was = hit->revoked;
	hit->revoked = true;
	int rc = sess_invites_save(at);
	if (rc < 0) {
		hit->revoked = was;
		snprintf(err, errlen, "cannot store the invite list in %s/invites: %s", at->dir, th_strerror(rc));
		return rc;
	}
	char hex[33];
	th_hex_encode(hit->nonce, sizeof(hit->nonce), hex);
	if (!was)
		th_notice("session %s (%s): invite %s revoked by uid %u", at->id, at->name, hex, (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(at->id));
	json_object_object_add(*res, "id", json_object_new_string(hex));
	json_object_object_add(*res, "uses", json_object_new_uint64(hit->uses));
	json_object_object_add(*res, "already", json_object_new_boolean(was));
	return 0;
}

void net_invite_ctl_register(struct net_mod *nm)
{
	struct srv_control *ctl = srv_daemon_control(nm->d);
	srv_control_register(ctl, "invite", SRV_CTL_CHANGE, net_cmd_invite, nm);
	srv_control_register(ctl, "invite_list", SRV_CTL_QUERY, net_cmd_invite_list, nm);
	srv_control_register(ctl, "invite_revoke", SRV_CTL_CHANGE, net_cmd_invite_revoke, nm);
}
