/* Control commands for voice between daemons: `mute` / `unmute` (an admin's,
 * on the host or, through ADMIN_REQ, on an admin member) and, for tests
 * only (THETAD_TEST_VOICE=1), `voice_test`, which makes and inspects voice
 * datagrams before a voice module does (docs/network.md, "Voice"). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/module.h"
#include "net/net_int.h"
#include "net/net_voice.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_logrec.h"
#include "th_time.h"

#define NET_VOICE_TEST_SEND_MAX 100000u /* frames one voice_test send makes */

/* WHO among s's speakers: its exact name, or its key's fingerprint (prefix
 * rules of kick's PEER). 1 found (*out), 0 none, -EEXIST more than one. */
static int find_speaker(struct net_mod *nm, struct sess_session *s, const char *who, struct net_voice_speaker **out)
{
	struct net_voice_sess *v = net_voice_table(nm, s);
	if (!v)
		return 0;
	unsigned n = net_voice_by_name(v, who, out);
	if (n)
		return n == 1 ? 1 : -EEXIST;
	for (unsigned i = 0; i < v->n; i++)
		if (net_fpr_match(v->sp[i].key, who)) {
			if (n++)
				return -EEXIST;
			*out = &v->sp[i];
		}
	return n ? 1 : 0;
}

static void speaker_json(struct json_object *o, const struct net_voice_speaker *sp)
{
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(sp->key, fpr, sizeof(fpr));
	json_object_object_add(o, "speaker", json_object_new_string(fpr));
	if (sp->name[0])
		json_object_object_add(o, "name", json_object_new_string(sp->name));
}

static int cmd_mute(struct net_mod *nm, const struct srv_ctl_caller *caller, struct json_object *args, bool muted,
		    struct json_object **res, char *err, size_t errlen)
{
	const char *op = muted ? "mute" : "unmute";
	const char *who = net_jarg(args, "who");
	if (!who || !*who) {
		snprintf(err, errlen, "%s needs WHO: a speaker's name (as thetactl voice shows it), a key fingerprint, "
			 "or a member PEER (see thetactl peers)", op);
		return -EINVAL;
	}
	struct sess_session *s = net_pick(nm, args, err, errlen);
	if (!s)
		return -ENOENT;
	if (s->role != SESS_ROLE_HOST && s->role != SESS_ROLE_MEMBER) {
		snprintf(err, errlen, "session %s is not shared with other daemons: there is nobody to %s", s->id, op);
		return -ENOTCONN;
	}
	nm->now = th_now_ns();
	struct net_voice_speaker *sp = NULL;
	int f = find_speaker(nm, s, who, &sp);
	if (f == -EEXIST) {
		snprintf(err, errlen, "'%s' names more than one speaker in session %s; use a longer key fingerprint", who,
			 s->id);
		return -EINVAL;
	}
	if (s->role == SESS_ROLE_HOST) {
		struct sess_session *ms = NULL;
		char why[256];
		struct sess_member *mb = f == 1 ? NULL : net_find_member(nm, who, &ms, why, sizeof(why));
		if (f != 1 && (!mb || ms != s)) {
			snprintf(err, errlen, "no speaker or member '%s' in session %s (speakers: thetactl voice; members: "
				 "thetactl peers)", who, s->id);
			return -ENOENT;
		}
		unsigned n;
		int r = net_voice_host_mute(nm, s, sp ? sp->key : NULL, mb ? mb->peer_id : 0, muted, &n);
		if (r == -EBUSY) {
			snprintf(err, errlen, "speaker '%s' is muted with its whole member (peer %u) in session %s; unmute %u first",
				 who, (unsigned)sp->owner, s->id, (unsigned)sp->owner);
			return -EBUSY;
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot %s more speakers in session %s: %u members are muted already", op,
				 s->id, NET_VOICE_MUTED_PEERS_MAX);
			return r;
		}
		*res = json_object_new_object();
		json_object_object_add(*res, "session", json_object_new_string(s->id));
		json_object_object_add(*res, "muted", json_object_new_boolean(muted));
		if (sp) {
			speaker_json(*res, sp);
			char fpr[TH_KEY_FPR_LEN];
			th_key_fingerprint(sp->key, fpr, sizeof(fpr));
			th_notice("session %s: speaker %s (%s) %s by uid %u", s->id, sp->name[0] ? sp->name : "-", fpr,
				  muted ? "muted" : "unmuted", (unsigned)caller->uid);
		} else {
			json_object_object_add(*res, "peer_id", json_object_new_int64(mb->peer_id));
			th_notice("session %s: every speaker of peer %u %s by uid %u (%u now)", s->id, mb->peer_id,
				  muted ? "muted" : "unmuted", (unsigned)caller->uid, n);
		}
		json_object_object_add(*res, "speakers", json_object_new_int((int)n));
		return 0;
	}
	/* A member: the host decides. */
	int id = 0;
	if (f != 1) {
		struct sess_session *ms = NULL;
		id = net_find_remote_peer(nm, args, who, &ms, err, errlen);
		if (id == -ENOENT)
			snprintf(err, errlen, "no speaker or member '%s' in session %s (speakers: thetactl voice; members: "
				 "thetactl peers)", who, s->id);
		if (id < 0)
			return id;
	}
	struct net_admin_req *q;
	int r = net_admin_request(nm, s, muted ? PROTO_SESS_ADMIN_MUTE : PROTO_SESS_ADMIN_UNMUTE, (uint32_t)id, 0,
				  sp ? sp->key : NULL, &q);
	if (r < 0) {
		snprintf(err, errlen, "session %s is not connected to its host now; try again once it is", s->id);
		return r;
	}
	th_notice("session %s: asked the host to %s %s (uid %u)", s->id, op, who, (unsigned)caller->uid);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	if (sp)
		speaker_json(*res, sp);
	else
		json_object_object_add(*res, "peer_id", json_object_new_int64(id));
	json_object_object_add(*res, "request", json_object_new_int64(q->id));
	return 0;
}

static int net_cmd_mute(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			struct json_object **res, char *err, size_t errlen)
{
	return cmd_mute(u, caller, args, true, res, err, errlen);
}

static int net_cmd_unmute(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			  struct json_object **res, char *err, size_t errlen)
{
	return cmd_mute(u, caller, args, false, res, err, errlen);
}

void net_voice_admin_req(struct net_conn *c, const struct proto_sess_admin_req *a, struct proto_sess_msg *res,
			 bool member_known)
{
	struct net_mod *nm = c->nm;
	bool muted = a->op == PROTO_SESS_ADMIN_MUTE;
	unsigned n = 0;
	int r = 0;
	if (a->peer_id && !member_known)
		res->u.ares.code = PROTO_SESS_ERR_NO_PEER & 0xffff;
	else if ((r = net_voice_host_mute(nm, c->s, a->peer_id ? NULL : a->speaker, a->peer_id, muted, &n)) == -EBUSY)
		res->u.ares.code = PROTO_SESS_ERR_MUTED_WITH_MEMBER & 0xffff;
	else if (r < 0)
		res->u.ares.code = PROTO_SESS_ERR_MUTES_FULL & 0xffff; /* every mute slot taken */
	if (res->u.ares.code) {
		(*nm->m_admin_refused)++;
	} else {
		(*nm->m_admin_applied)++;
		char fpr[TH_KEY_FPR_LEN];
		if (a->peer_id) {
			th_notice("session %s: every speaker of peer %u %s by admin peer %u", c->s->id, a->peer_id,
				  muted ? "muted" : "unmuted", c->peer_id);
		} else {
			th_key_fingerprint(a->speaker, fpr, sizeof(fpr));
			th_notice("session %s: speaker %s %s by admin peer %u", c->s->id, fpr, muted ? "muted" : "unmuted",
				  c->peer_id);
		}
	}
	net_conn_send_msg(c, NET_ST_CONTROL, res);
}

/* ---- voice_test (THETAD_TEST_VOICE=1 only) ------------------------------------------------ */

/* "self" (this daemon's identity key), "host" (the session's host's), or 64 hex digits. */
static int test_key(struct net_mod *nm, struct sess_session *s, const char *spec, uint8_t key[32])
{
	if (!spec || !strcmp(spec, "self")) {
		memcpy(key, nm->host_key->pk, 32);
		return 0;
	}
	if (!strcmp(spec, "host")) {
		if (s->role == SESS_ROLE_HOST) {
			memcpy(key, nm->host_key->pk, 32);
			return 0;
		}
		struct net_join *j = net_join_of(nm, s);
		if (!j || !j->conn || j->conn->st != NC_ACTIVE)
			return -ENOTCONN;
		memcpy(key, j->conn->key, 32);
		return 0;
	}
	return strlen(spec) == 64 && th_hex_decode(spec, 64, key, 32, false) == 0 ? 0 : -EINVAL;
}

static int64_t jint(struct json_object *args, const char *k, int64_t dflt)
{
	struct json_object *v;
	return args && json_object_object_get_ex(args, k, &v) ? json_object_get_int64(v) : dflt;
}

static int net_cmd_voice_test(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
			      struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	const char *op = net_jarg(args, "op");
	struct sess_session *s = net_pick(nm, args, err, errlen);
	if (!op || !s) {
		if (!op)
			snprintf(err, errlen, "voice_test needs op: send, raw, name or received");
		return -EINVAL;
	}
	uint8_t key[32];
	if (strcmp(op, "received") && strcmp(op, "raw") && test_key(nm, s, net_jarg(args, "speaker"), key) < 0) {
		snprintf(err, errlen, "speaker is self, host or 64 hex digits (and host needs a link)");
		return -EINVAL;
	}
	*res = json_object_new_object();
	if (!strcmp(op, "send")) {
		int64_t count = jint(args, "count", 1), seq = jint(args, "seq", 1), olen = jint(args, "opus_len", 60);
		uint8_t vflags = jint(args, "speech", 0) ? PROTO_SESS_VOICE_F_SPEECH : 0;
		if (count < 1 || count > NET_VOICE_TEST_SEND_MAX || olen < 0 || olen > PROTO_SESS_VOICE_OPUS_MAX + 1) {
			json_object_put(*res);
			snprintf(err, errlen, "count is 1..%u, opus_len 0..%u", NET_VOICE_TEST_SEND_MAX,
				 PROTO_SESS_VOICE_OPUS_MAX + 1);
			return -EINVAL;
		}
		uint8_t opus[PROTO_SESS_VOICE_OPUS_MAX + 1];
		unsigned ok = 0, eperm = 0, enotconn = 0, emsgsize = 0;
		for (int64_t i = 0; i < count; i++) {
			struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_VOICE, .seq = (uint32_t)(seq + i),
						      .ts = (uint32_t)((seq + i) * 960), .vflags = vflags, .opus = opus,
						      .opus_len = (uint16_t)olen };
			memcpy(d.author, key, 32);
			memset(opus, (int)((seq + i) & 0xff), sizeof(opus));
			int r = net_module_send_voice(nm, s, &d);
			ok += r == 0, eperm += r == -EPERM, enotconn += r == -ENOTCONN, emsgsize += r == -EMSGSIZE;
		}
		json_object_object_add(*res, "sent", json_object_new_int((int)ok));
		json_object_object_add(*res, "eperm", json_object_new_int((int)eperm));
		json_object_object_add(*res, "enotconn", json_object_new_int((int)enotconn));
		json_object_object_add(*res, "emsgsize", json_object_new_int((int)emsgsize));
	} else if (!strcmp(op, "raw")) {
		const char *hex = net_jarg(args, "hex");
		uint8_t b[NET_QUIC_MAX_DGRAM];
		size_t hl = hex ? strlen(hex) : 0;
		if (!hl || hl % 2 || hl / 2 > sizeof(b) || th_hex_decode(hex, hl, b, hl / 2, false) < 0) {
			json_object_put(*res);
			snprintf(err, errlen, "raw needs hex: 1..%u bytes", NET_QUIC_MAX_DGRAM);
			return -EINVAL;
		}
		json_object_object_add(*res, "sent", json_object_new_int((int)net_voice_test_raw(nm, s, b, hl / 2)));
	} else if (!strcmp(op, "name")) {
		const char *name = net_jarg(args, "name");
		int r = name ? net_module_voice_name(nm, s, key, name) : -EINVAL;
		json_object_object_add(*res, "rc", json_object_new_int(r));
	} else if (!strcmp(op, "received")) {
		uint64_t total;
		const uint8_t *sk;
		uint32_t sq;
		uint16_t len;
		uint8_t first;
		struct json_object *arr = json_object_new_array();
		size_t have = net_voice_test_log(nm, &total, &sk, &sq, &len, &first, SIZE_MAX);
		for (size_t i = 0; i < have; i++) {
			net_voice_test_log(nm, &total, &sk, &sq, &len, &first, i);
			struct json_object *o = json_object_new_object();
			char hx[65];
			th_hex_encode(sk, 32, hx);
			json_object_object_add(o, "speaker", json_object_new_string(hx));
			json_object_object_add(o, "seq", json_object_new_int64(sq));
			json_object_object_add(o, "len", json_object_new_int(len));
			json_object_object_add(o, "first", json_object_new_int(first));
			json_object_array_add(arr, o);
		}
		json_object_object_add(*res, "total", json_object_new_uint64(total));
		json_object_object_add(*res, "frames", arr);
		struct json_object *sps = json_object_new_array();
		struct net_voice_sess *v = net_voice_table(nm, s);
		for (unsigned i = 0; v && i < v->n; i++) {
			struct json_object *o = json_object_new_object();
			char hx[65];
			th_hex_encode(v->sp[i].key, 32, hx);
			json_object_object_add(o, "key", json_object_new_string(hx));
			json_object_object_add(o, "name", json_object_new_string(v->sp[i].name));
			json_object_object_add(o, "muted", json_object_new_boolean(v->sp[i].muted));
			json_object_array_add(sps, o);
		}
		json_object_object_add(*res, "speakers", sps);
		json_object_object_add(*res, "loss_pct", json_object_new_int((int)net_module_loss_pct(nm, s)));
	} else {
		json_object_put(*res);
		*res = NULL;
		snprintf(err, errlen, "voice_test op is send, raw, name or received, not '%s'", op);
		return -EINVAL;
	}
	return 0;
}

void net_voice_ctl_register(struct net_mod *nm)
{
	struct srv_control *ctl = srv_daemon_control(nm->d);
	srv_control_register(ctl, "mute", SRV_CTL_CHANGE, net_cmd_mute, nm);
	srv_control_register(ctl, "unmute", SRV_CTL_CHANGE, net_cmd_unmute, nm);
	if (net_voice_test_on(nm))
		srv_control_register(ctl, "voice_test", SRV_CTL_CHANGE, net_cmd_voice_test, nm);
}
