/* Assets in the net module (docs/network.md "Assets"): each session's store
 * (thetad/sess/assets.h, opened on first use), the ops through which a
 * connection's transfer machine (net_asset.h) reaches the store and the
 * assets stream, who may send what (the host takes uploads from members
 * with role editor or admin and offers every completed asset to all its
 * members; a member takes what its host offers), counters, and the control
 * commands:
 *
 *   asset_begin {session?, hash, size, name}   -> {have, state}
 *   asset_chunk {session?, hash, offset, data} -> {have}   (data: base64)
 *   asset_end   {session?, hash}               -> {hash, name, size, shared}
 *   assets      {session?}                     -> {session, assets: [...]}
 *   asset_read  {session?, hash, offset, len?} -> {hash, size, offset, data}
 *   asset_put_fd {session?, name} + the caller's file (SCM_RIGHTS)
 *                                              -> {session, hash, name, size, shared, existed}
 *   asset_get_fd {session?, hash} + the caller's file (SCM_RIGHTS)
 *                                              -> {session, hash, name, size}
 *
 * Uploads come as bytes over control.sock or as the caller's open file,
 * never as a path: the daemon runs as its own user and must not open files
 * a caller names (thetactl opens the file with the caller's rights and
 * passes the descriptor; the daemon checks it is a regular file open the
 * right way, and copies on a thread of the store's, sess/assets_copy.c,
 * answering when the copy is done). Every request stays under the 64 KiB
 * control request cap; the store bounds sizes and counts. The base64
 * commands stay for `asset get HASH -` into a pipe and for older thetactl. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_asset.h"
#include "net/net_int.h"
#include "sess/assets.h"
#include "sess/module.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_log.h"
#include "th_time.h"

#define NET_ASSET_READ_MAX (512u * 1024) /* bytes one asset_read answers */
#define NET_ASSET_CTL_DATA_MAX (48u * 1024) /* bytes one asset_chunk carries */

struct net_assets {
	struct {
		struct sess_session *s;
		struct sess_assets *st;
	} stores[SESS_MAX_SESSIONS];
	unsigned n;
	struct th_wbuf w;           /* frames are encoded here */
	bool test_corrupt;
	uint64_t *m_bytes_in, *m_bytes_out, *m_resumes, *m_failures, *m_completed;
	uint64_t *m_fd_bytes_in, *m_fd_bytes_out, *m_fd_failures;
};

struct net_asset_conn {
	struct net_asset_xfer x;
	struct net_conn *c;
	struct sess_assets *st;
};

static struct sess_assets *store_of(struct net_mod *nm, struct sess_session *s)
{
	struct net_assets *na = nm->assets;
	if (!na || !s)
		return NULL;
	for (unsigned i = 0; i < na->n; i++)
		if (na->stores[i].s == s)
			return na->stores[i].st;
	if (na->n == SESS_MAX_SESSIONS)
		return NULL;
	struct sess_assets *st;
	int r = sess_assets_open(s->dir, &st);
	if (r < 0) {
		th_warn("session %s: cannot open its asset store under %s: %s", s->id, s->dir, th_strerror(r));
		return NULL;
	}
	na->stores[na->n].s = s;
	na->stores[na->n].st = st;
	na->n++;
	return st;
}

static void info_of(const struct sess_asset *a, struct proto_sess_asset_info *i)
{
	memcpy(i->hash, a->hash, PROTO_SESS_ASSET_HASH_LEN);
	i->size = a->size;
	i->name = (const uint8_t *)a->name;
	i->name_len = (uint16_t)strlen(a->name);
}

/* ---- ops for the transfer machine ---------------------------------------------- */

static int op_lookup(void *ud, const uint8_t hash[32], struct net_asset_local *out)
{
	struct net_asset_conn *ac = ud;
	const struct sess_asset *a = sess_assets_find(ac->st, hash);
	if (!a)
		return -ENOENT;
	out->size = a->size;
	out->have = a->have;
	out->complete = a->state == SESS_ASSET_COMPLETE;
	return 0;
}

static int op_accept(void *ud, const struct proto_sess_asset_info *info)
{
	struct net_asset_conn *ac = ud;
	char name[SESS_ASSET_NAME_MAX + 1];
	const struct sess_asset *a;
	memcpy(name, info->name, info->name_len);
	name[info->name_len] = 0;
	int r = sess_assets_add(ac->st, info->hash, info->size, name, &a);
	if (r < 0) {
		char hex[65];
		sess_asset_hex(info->hash, hex);
		th_warn("session %s: not taking asset %.16s (%s) offered by %s: %s", ac->c->s->id, hex, name, ac->c->addr,
			th_strerror(r));
		return r;
	}
	return a->state == SESS_ASSET_COMPLETE ? 1 : 0;
}

static int64_t op_write(void *ud, const uint8_t hash[32], uint64_t off, const uint8_t *p, size_t n)
{
	struct net_asset_conn *ac = ud;
	return sess_assets_write(ac->st, hash, off, p, n);
}

static int op_complete(void *ud, const uint8_t hash[32])
{
	struct net_asset_conn *ac = ud;
	return sess_assets_complete(ac->st, hash);
}

static void op_release(void *ud, const uint8_t hash[32])
{
	struct net_asset_conn *ac = ud;
	sess_assets_release(ac->st, hash);
}

static ssize_t op_read(void *ud, const uint8_t hash[32], uint64_t off, uint8_t *buf, size_t n)
{
	struct net_asset_conn *ac = ud;
	return sess_assets_read(ac->st, hash, off, buf, n);
}

static int op_send(void *ud, const struct proto_sess_msg *m)
{
	struct net_asset_conn *ac = ud;
	struct net_assets *na = ac->c->nm->assets;
	th_wbuf_reset(&na->w);
	int r = proto_sess_encode(m, &na->w);
	if (r < 0)
		return r;
	if (!net_conn_live(ac->c))
		return -ENOTCONN;
	net_conn_send(ac->c, NET_ST_ASSETS, na->w.data, na->w.len);
	if (m->type == PROTO_SESS_T_ASSET_CHUNK)
		*na->m_bytes_out += m->u.achunk.len;
	return 0;
}

static size_t op_writable(void *ud)
{
	struct net_asset_conn *ac = ud;
	struct net_conn *c = ac->c;
	const struct net_chan *ch = &c->ch[NET_ST_ASSETS];
	if (!net_conn_live(c) || !ch->opened || net_chan_pending(ch))
		return 0;
	return net_quic_stream_writable(c->q, ch->def->sid);
}

static void offer_to_members(struct net_mod *nm, struct sess_session *s, struct net_conn *except,
			     const struct sess_asset *a)
{
	struct proto_sess_asset_info info;
	info_of(a, &info);
	for (struct net_conn *o = nm->conns; o; o = o->next)
		if (o != except && o->s == s && o->st == NC_ACTIVE && o->ax)
			net_asset_offer(&o->ax->x, &info);
}

static void op_event(void *ud, enum net_asset_event ev, const uint8_t hash[32], int err)
{
	struct net_asset_conn *ac = ud;
	struct net_conn *c = ac->c;
	struct net_assets *na = c->nm->assets;
	const struct sess_asset *a = sess_assets_find(ac->st, hash);
	char hex[65];
	sess_asset_hex(hash, hex);
	const char *name = a ? a->name : "?";
	switch (ev) {
	case NET_ASSET_EV_COMPLETED:
		(*na->m_completed)++;
		th_info("session %s: asset %.16s (%s, %" PRIu64 " bytes) received from %s", c->s->id, hex, name,
			a ? a->size : 0, c->addr);
		/* The host passes what a member uploaded to everyone else. */
		if (a && c->incoming && c->s->role == SESS_ROLE_HOST)
			offer_to_members(c->nm, c->s, c, a);
		break;
	case NET_ASSET_EV_RESUMED:
		(*na->m_resumes)++;
		th_info("session %s: resuming asset %.16s (%s) from %s at byte %" PRIu64, c->s->id, hex, name, c->addr,
			a ? a->have : 0);
		break;
	case NET_ASSET_EV_FAILED:
		(*na->m_failures)++;
		th_warn("session %s: transfer of asset %.16s (%s) from %s failed: %s", c->s->id, hex, name, c->addr,
			err == -EBADMSG ? "the bytes do not match its SHA-256; discarded" : th_strerror(err));
		break;
	case NET_ASSET_EV_GAVE_UP:
		th_warn("session %s: giving up on asset %.16s (%s) from %s until the next connection", c->s->id, hex,
			name, c->addr);
		break;
	}
}

static const struct net_asset_ops asset_ops = {
	.lookup = op_lookup,
	.accept = op_accept,
	.write = op_write,
	.complete = op_complete,
	.release = op_release,
	.read = op_read,
	.send = op_send,
	.writable = op_writable,
	.event = op_event,
};

/* ---- connection hooks (net_link.c) ------------------------------------------------ */

static void update_gates(struct net_asset_conn *ac)
{
	struct net_conn *c = ac->c;
	/* A host takes uploads from editors and admins; a member takes what
	 * its host offers. Both serve what they have. */
	ac->x.may_fetch = c->incoming ? c->role >= TH_ROLE_EDITOR : true;
	ac->x.may_serve = true;
}

/* Our complete assets, as LIST pages (an empty one too: it opens the
 * stream for the host to answer on). */
static void send_list(struct net_asset_conn *ac)
{
	struct net_assets *na = ac->c->nm->assets;
	struct proto_sess_asset_info items[PROTO_SESS_ASSET_LIST_MAX];
	unsigned n = 0, count = sess_assets_count(ac->st), sent = 0;
	for (unsigned i = 0; i <= count; i++) {
		const struct sess_asset *a = i < count ? sess_assets_at(ac->st, i) : NULL;
		if (a && a->state == SESS_ASSET_COMPLETE)
			info_of(a, &items[n++]);
		if (n == PROTO_SESS_ASSET_LIST_MAX || (i == count && (n || !sent))) {
			th_wbuf_reset(&na->w);
			if (proto_sess_asset_list_encode(&na->w, items, (uint16_t)n) == 0)
				net_conn_send(ac->c, NET_ST_ASSETS, na->w.data, na->w.len);
			sent++;
			n = 0;
		}
	}
}

void net_assets_conn_active(struct net_conn *c, uint64_t now)
{
	if (!c->nm->assets || c->ax || !(c->caps & PROTO_SESS_CAP_ASSETS))
		return;
	struct sess_assets *st = store_of(c->nm, c->s);
	if (!st)
		return;
	struct net_asset_conn *ac = calloc(1, sizeof(*ac));
	if (!ac || net_asset_init(&ac->x, &asset_ops, ac) < 0) {
		free(ac);
		return;
	}
	ac->c = c;
	ac->st = st;
	ac->x.test_corrupt = c->nm->assets->test_corrupt;
	update_gates(ac);
	c->ax = ac;
	send_list(ac);
	net_mod_kick(c->nm);
}

void net_assets_conn_free(struct net_conn *c)
{
	if (!c->ax)
		return;
	net_asset_fini(&c->ax->x);
	free(c->ax);
	c->ax = NULL;
}

int net_assets_on_msg(struct net_conn *c, const uint8_t *p, size_t len, uint64_t now)
{
	struct proto_sess_msg m;
	if (!c->ax)
		return 0; /* assets not negotiated: nothing is read from this stream */
	if (proto_sess_decode(p, len, &m) < 0)
		return -EBADMSG;
	if (m.type == PROTO_SESS_T_ASSET_CHUNK)
		*c->nm->assets->m_bytes_in += m.u.achunk.len;
	update_gates(c->ax);
	int r = net_asset_on_msg(&c->ax->x, &m, now);
	if (r == -ENOMSG)
		return -EPROTO; /* not an assets-stream message */
	net_mod_kick(c->nm);
	return r;
}

void net_assets_service(struct net_conn *c, uint64_t now)
{
	if (c->ax && c->st == NC_ACTIVE)
		net_asset_pump(&c->ax->x, now);
}

uint64_t net_assets_next(struct net_conn *c, uint64_t now)
{
	return c->ax && c->st == NC_ACTIVE ? net_asset_next(&c->ax->x, now) : UINT64_MAX;
}

/* ---- control commands ---------------------------------------------------------------- */

static int jint(struct json_object *args, const char *k, int64_t *out)
{
	struct json_object *v;
	if (!args || !json_object_object_get_ex(args, k, &v) || !json_object_is_type(v, json_type_int))
		return -ENOENT;
	*out = json_object_get_int64(v);
	return 0;
}

static struct sess_session *pick(struct net_mod *nm, struct json_object *args, struct sess_assets **st, char *err,
				 size_t errlen)
{
	struct sess_session *s = net_pick(nm, args, err, errlen);
	if (!s)
		return NULL;
	if (!(*st = store_of(nm, s))) {
		snprintf(err, errlen, "the asset store of session %s cannot be opened (see the daemon's log)", s->id);
		return NULL;
	}
	return s;
}

static const char *state_name(const struct sess_asset *a)
{
	return a->state == SESS_ASSET_COMPLETE ? "complete" : a->state == SESS_ASSET_PARTIAL ? "partial" : "missing";
}

static const char *store_error(int r)
{
	switch (r) {
	case -EFBIG: return "an asset has 1 byte to 256 MiB";
	case -EINVAL: return "an asset name has 1 to 255 bytes and no control characters";
	case -ENOSPC: return "the session's asset store is full (1024 assets or 8 GiB)";
	case -EBADMSG: return "an asset with that hash and another size is already known";
	case -ESPIPE: return "that offset is past the bytes the daemon has; start again from 'have'";
	default: return th_strerror(r);
	}
}

static int hash_arg(struct json_object *args, uint8_t hash[32], char *err, size_t errlen)
{
	const char *h = net_jarg(args, "hash");
	if (!h || sess_asset_unhex(h, hash) < 0) {
		snprintf(err, errlen, "hash must be 64 hex digits (the SHA-256 of the asset)");
		return -EINVAL;
	}
	return 0;
}

static int cmd_begin(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		     struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_assets *st;
	struct sess_session *s = pick(nm, args, &st, err, errlen);
	uint8_t hash[32];
	int64_t size;
	const char *name = net_jarg(args, "name");
	if (!s)
		return -ENOENT;
	if (hash_arg(args, hash, err, errlen) < 0)
		return -EINVAL;
	if (jint(args, "size", &size) < 0 || size < 1 || !name) {
		snprintf(err, errlen, "asset_begin needs hash, size and name");
		return -EINVAL;
	}
	const struct sess_asset *a;
	int r = sess_assets_add(st, hash, (uint64_t)size, name, &a);
	if (r < 0) {
		snprintf(err, errlen, "%s", store_error(r));
		return r;
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "hash", json_object_new_string(a->hex));
	json_object_object_add(*res, "have", json_object_new_uint64(a->have));
	json_object_object_add(*res, "state", json_object_new_string(state_name(a)));
	return 0;
}

static int cmd_chunk(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		     struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_assets *st;
	struct sess_session *s = pick(nm, args, &st, err, errlen);
	uint8_t hash[32];
	int64_t off;
	const char *b64 = net_jarg(args, "data");
	if (!s)
		return -ENOENT;
	if (hash_arg(args, hash, err, errlen) < 0)
		return -EINVAL;
	if (jint(args, "offset", &off) < 0 || off < 0 || !b64) {
		snprintf(err, errlen, "asset_chunk needs hash, offset and data (base64)");
		return -EINVAL;
	}
	static uint8_t bin[NET_ASSET_CTL_DATA_MAX];
	size_t n = 0;
	if (sodium_base642bin(bin, sizeof(bin), b64, strlen(b64), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n == 0) {
		snprintf(err, errlen, "data must be 1 to %u bytes in base64", NET_ASSET_CTL_DATA_MAX);
		return -EINVAL;
	}
	int64_t have = sess_assets_write(st, hash, (uint64_t)off, bin, n);
	if (have < 0) {
		snprintf(err, errlen, "%s", have == -ENOENT ? "begin the upload with asset_begin first"
					    : have == -EALREADY ? "the asset is complete already"
								 : store_error((int)have));
		return (int)have;
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "have", json_object_new_int64(have));
	return 0;
}

/* Offers a newly stored asset on (a host to its members, a member to its
 * host); the sentence saying where it went. */
static const char *share(struct net_mod *nm, struct sess_session *s, const struct sess_asset *a)
{
	const char *shared;
	if (s->role == SESS_ROLE_HOST) {
		offer_to_members(nm, s, NULL, a);
		shared = "offered to every member";
	} else {
		struct net_join *j = net_join_of(nm, s);
		struct net_conn *host = j && j->conn && j->conn->st == NC_ACTIVE ? j->conn : NULL;
		if (host && host->ax) {
			struct proto_sess_asset_info info;
			info_of(a, &info);
			net_asset_offer(&host->ax->x, &info);
		}
		shared = s->link.granted_role && s->link.granted_role < TH_ROLE_EDITOR
				 ? "kept here: the host granted this daemon a viewer role, it takes no uploads"
			 : host ? "offered to the host"
				: "kept here; offered to the host when it is reachable";
	}
	net_mod_kick(nm);
	return shared;
}

static int cmd_end(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		   struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_assets *st;
	struct sess_session *s = pick(nm, args, &st, err, errlen);
	uint8_t hash[32];
	if (!s)
		return -ENOENT;
	if (hash_arg(args, hash, err, errlen) < 0)
		return -EINVAL;
	const struct sess_asset *a = sess_assets_find(st, hash);
	if (!a) {
		snprintf(err, errlen, "begin the upload with asset_begin first");
		return -ENOENT;
	}
	int r = sess_assets_complete(st, hash);
	if (r == -EAGAIN) {
		snprintf(err, errlen, "the daemon has %" PRIu64 " of %" PRIu64 " bytes; send the rest first", a->have,
			 a->size);
		return r;
	}
	if (r == -EBADMSG) {
		snprintf(err, errlen, "the bytes received do not hash to %s; the upload was discarded", a->hex);
		return r;
	}
	if (r < 0 && r != -EALREADY) {
		snprintf(err, errlen, "cannot store the asset: %s", th_strerror(r));
		return r;
	}
	const char *shared = share(nm, s, a);
	if (r == 0)
		th_info("session %s: asset %.16s (%s, %" PRIu64 " bytes) stored by uid %u; %s", s->id, a->hex, a->name,
			a->size, (unsigned)caller->uid, shared);
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "hash", json_object_new_string(a->hex));
	json_object_object_add(*res, "name", json_object_new_string(a->name));
	json_object_object_add(*res, "size", json_object_new_uint64(a->size));
	json_object_object_add(*res, "shared", json_object_new_string(shared));
	return 0;
}

static int cmd_list(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		    struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_assets *st;
	struct sess_session *s = pick(nm, args, &st, err, errlen);
	if (!s)
		return -ENOENT;
	struct json_object *arr = json_object_new_array();
	for (unsigned i = 0; i < sess_assets_count(st); i++) {
		const struct sess_asset *a = sess_assets_at(st, i);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "hash", json_object_new_string(a->hex));
		json_object_object_add(o, "name", json_object_new_string(a->name));
		json_object_object_add(o, "size", json_object_new_uint64(a->size));
		json_object_object_add(o, "have", json_object_new_uint64(a->have));
		json_object_object_add(o, "state", json_object_new_string(state_name(a)));
		json_object_array_add(arr, o);
	}
	*res = json_object_new_object();
	json_object_object_add(*res, "session", json_object_new_string(s->id));
	json_object_object_add(*res, "assets", arr);
	return 0;
}

/* The complete asset hash h (a prefix of 8 or more hex digits) names in
 * st, for reading it out: 0, or -errno with the sentence in err. */
static int complete_asset(struct sess_assets *st, const char *h, const struct sess_asset **a, char *err,
			  size_t errlen)
{
	int r = h ? sess_assets_lookup(st, h, a) : -EINVAL;
	if (r < 0) {
		snprintf(err, errlen, "%s", r == -EINVAL   ? "give the asset's hash (64 hex digits, or a prefix of 8 or more)"
					    : r == -EEXIST ? "that prefix names more than one asset; give more digits"
							   : "no such asset in this session (see thetactl assets)");
		return r;
	}
	if ((*a)->state != SESS_ASSET_COMPLETE) {
		snprintf(err, errlen, "asset %.16s is not complete here yet (%" PRIu64 " of %" PRIu64 " bytes)", (*a)->hex,
			 (*a)->have, (*a)->size);
		return -EAGAIN;
	}
	return 0;
}

static int cmd_read(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		    struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_assets *st;
	struct sess_session *s = pick(nm, args, &st, err, errlen);
	const char *h = net_jarg(args, "hash");
	int64_t off = 0, len = NET_ASSET_READ_MAX;
	const struct sess_asset *a;
	if (!s)
		return -ENOENT;
	int r = complete_asset(st, h, &a, err, errlen);
	if (r < 0)
		return r;
	if ((jint(args, "offset", &off) == 0 && (off < 0 || (uint64_t)off > a->size)) ||
	    (jint(args, "len", &len) == 0 && (len < 1 || len > NET_ASSET_READ_MAX))) {
		snprintf(err, errlen, "offset must lie within the asset and len be 1 to %u", NET_ASSET_READ_MAX);
		return -EINVAL;
	}
	uint8_t *buf = malloc((size_t)len);
	char *b64 = malloc(sodium_base64_ENCODED_LEN((size_t)len, sodium_base64_VARIANT_ORIGINAL));
	ssize_t n = buf && b64 ? sess_assets_read(st, a->hash, (uint64_t)off, buf, (size_t)len) : -ENOMEM;
	if (n < 0) {
		free(buf);
		free(b64);
		snprintf(err, errlen, "cannot read the asset: %s", th_strerror((int)n));
		return (int)n;
	}
	sodium_bin2base64(b64, sodium_base64_ENCODED_LEN((size_t)len, sodium_base64_VARIANT_ORIGINAL), buf, (size_t)n,
			  sodium_base64_VARIANT_ORIGINAL);
	*res = json_object_new_object();
	json_object_object_add(*res, "hash", json_object_new_string(a->hex));
	json_object_object_add(*res, "name", json_object_new_string(a->name));
	json_object_object_add(*res, "size", json_object_new_uint64(a->size));
	json_object_object_add(*res, "offset", json_object_new_int64(off));
	json_object_object_add(*res, "data", json_object_new_string(b64));
	free(buf);
	free(b64);
	return 0;
}

/* ---- copies with the caller's file ------------------------------------------------------- */

/* What a copy's end needs: who asked and where. */
struct fd_job {
	struct net_mod *nm;
	uint64_t conn;
	uid_t uid;
	char sid[SESS_ID_LEN + 1];
};

static void copy_done(void *ud, struct sess_asset_copy *cp)
{
	struct fd_job *jb = ud;
	struct net_mod *nm = jb->nm;
	struct net_assets *na = nm->assets;
	struct srv_control *ctl = srv_daemon_control(nm->d);
	enum sess_asset_copy_fault fault;
	const struct sess_asset *a;
	bool in = sess_asset_copy_in(cp);
	int r = sess_asset_copy_result(cp, &fault, &a);
	struct sess_session *s = sess_find(sess_module_registry(nm->sess), jb->sid);
	char err[300];
	if (r < 0) {
		(*na->m_fd_failures)++;
		if (in && r == -EFBIG)
			snprintf(err, sizeof(err), "the file is larger than an asset may be (256 MiB)");
		else if (in && r == -ENODATA)
			snprintf(err, sizeof(err), "the file is empty (from its current offset): an asset has 1 byte to 256 MiB");
		else if (!in && r == -EBADMSG)
			snprintf(err, sizeof(err), "the daemon's copy of asset %s does not match its hash (damaged on disk); "
						   "nothing was written",
				 a ? a->hex : "?");
		else if (fault == SESS_COPY_FAULT_CALLER)
			snprintf(err, sizeof(err), "cannot %s your file: %s", in ? "read" : "write", th_strerror(r));
		else if (fault == SESS_COPY_FAULT_LIMIT)
			snprintf(err, sizeof(err), "%s", store_error(r));
		else
			snprintf(err, sizeof(err), "the daemon cannot %s its asset store%s: %s", in ? "write to" : "read",
				 s ? "" : " (the session is gone)", r == -ENOSPC ? "its disk is full" : th_strerror(r));
		th_warn("session %s: asset %s of uid %u (%s) failed: %s", jb->sid, in ? "put" : "get", (unsigned)jb->uid,
			sess_asset_copy_name(cp), err);
		srv_control_answer(ctl, jb->conn, r, NULL, err);
		free(jb);
		return;
	}
	struct json_object *res = json_object_new_object();
	json_object_object_add(res, "session", json_object_new_string(jb->sid));
	json_object_object_add(res, "hash", json_object_new_string(a->hex));
	json_object_object_add(res, "name", json_object_new_string(a->name));
	json_object_object_add(res, "size", json_object_new_uint64(a->size));
	if (in) {
		*na->m_fd_bytes_in += a->size;
		bool existed = sess_asset_copy_existed(cp);
		const char *shared = s ? share(nm, s, a) : "kept here";
		if (!existed)
			th_info("session %s: asset %.16s (%s, %" PRIu64 " bytes) stored by uid %u from its file; %s",
				jb->sid, a->hex, a->name, a->size, (unsigned)jb->uid, shared);
		json_object_object_add(res, "shared", json_object_new_string(shared));
		json_object_object_add(res, "existed", json_object_new_boolean(existed));
	} else {
		*na->m_fd_bytes_out += a->size;
	}
	srv_control_answer(ctl, jb->conn, 0, res, NULL);
	free(jb);
}

static const char *fd_error(int r, bool in)
{
	switch (r) {
	case -EINVAL: return in ? "the file passed is not a regular file (asset put takes files only)"
				: "the file passed is not a regular file (asset get writes into files only)";
	case -EBADF: return in ? "the file passed is not open for reading"
			       : "the file passed is not open for writing (or is open for appending)";
	case -EBUSY: return "the daemon is copying 4 files of this session's assets already; try again when one is done";
	default: return NULL;
	}
}

static struct fd_job *fd_job_new(struct net_mod *nm, const struct srv_ctl_caller *caller, struct sess_session *s)
{
	struct fd_job *jb = calloc(1, sizeof(*jb));
	if (!jb)
		return NULL;
	jb->nm = nm;
	jb->conn = caller->conn;
	jb->uid = caller->uid;
	snprintf(jb->sid, sizeof(jb->sid), "%s", s->id);
	return jb;
}

static int need_fd(const struct srv_ctl_caller *caller, const char *cmd, char *err, size_t errlen)
{
	if (caller->n_fds == 1 && caller->fds[0] >= 0)
		return 0;
	snprintf(err, errlen, "%s needs exactly one file passed with the request (SCM_RIGHTS); %u came", cmd,
		 caller->n_fds);
	return -EINVAL;
}

static int cmd_put_fd(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		      struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_assets *st;
	struct sess_session *s = pick(nm, args, &st, err, errlen);
	const char *name = net_jarg(args, "name");
	if (!s)
		return -ENOENT;
	if (need_fd(caller, "asset_put_fd", err, errlen) < 0)
		return -EINVAL;
	if (!name || !sess_asset_name_ok(name)) {
		snprintf(err, errlen, "%s", store_error(-EINVAL));
		return -EINVAL;
	}
	struct fd_job *jb = fd_job_new(nm, caller, s);
	if (!jb)
		return -ENOMEM;
	int r = sess_assets_copy_in(st, srv_daemon_loop(nm->d), caller->fds[0], name, copy_done, jb);
	if (r < 0) {
		const char *why = fd_error(r, true);
		snprintf(err, errlen, "%s", why ? why : th_strerror(r));
		free(jb);
		return r;
	}
	return SRV_CTL_LATER;
}

static int cmd_get_fd(void *u, const struct srv_ctl_caller *caller, struct json_object *args,
		      struct json_object **res, char *err, size_t errlen)
{
	struct net_mod *nm = u;
	struct sess_assets *st;
	struct sess_session *s = pick(nm, args, &st, err, errlen);
	const char *h = net_jarg(args, "hash");
	const struct sess_asset *a;
	if (!s)
		return -ENOENT;
	if (need_fd(caller, "asset_get_fd", err, errlen) < 0)
		return -EINVAL;
	int r = complete_asset(st, h, &a, err, errlen);
	if (r < 0)
		return r;
	struct fd_job *jb = fd_job_new(nm, caller, s);
	if (!jb)
		return -ENOMEM;
	r = sess_assets_copy_out(st, srv_daemon_loop(nm->d), a, caller->fds[0], copy_done, jb);
	if (r < 0) {
		const char *why = fd_error(r, false);
		if (why)
			snprintf(err, errlen, "%s", why);
		else
			snprintf(err, errlen, "cannot read the asset: %s", th_strerror(r));
		free(jb);
		return r;
	}
	return SRV_CTL_LATER;
}

/* ---- module hooks (module.c) ---------------------------------------------------------- */

int net_assets_start(struct net_mod *nm)
{
	struct net_assets *na = calloc(1, sizeof(*na));
	if (!na)
		return -ENOMEM;
	th_wbuf_init(&na->w, 0);
	struct srv_metrics *mx = srv_daemon_metrics(nm->d);
	na->m_bytes_in = srv_counter(mx, "net_asset_bytes_in", "asset bytes received from peers (CHUNK payloads)");
	na->m_bytes_out = srv_counter(mx, "net_asset_bytes_out", "asset bytes sent to peers (CHUNK payloads)");
	na->m_resumes = srv_counter(mx, "net_asset_resumes", "asset downloads resumed from a partial file");
	na->m_failures = srv_counter(mx, "net_asset_failures",
				     "asset transfers that failed (hash mismatch, stall, storage)");
	na->m_completed = srv_counter(mx, "net_asset_completed", "assets received from peers and verified");
	na->m_fd_bytes_in = srv_counter(mx, "asset_file_bytes_in", "asset bytes copied in from callers' files (asset put)");
	na->m_fd_bytes_out = srv_counter(mx, "asset_file_bytes_out", "asset bytes copied out into callers' files (asset get)");
	na->m_fd_failures = srv_counter(mx, "asset_file_failures", "asset copies with callers' files that failed");
	const char *e = getenv("THETAD_TEST_ASSET_CORRUPT");
	na->test_corrupt = e && *e == '1';
	if (na->test_corrupt)
		th_warn("THETAD_TEST_ASSET_CORRUPT is set: this daemon corrupts the assets it sends (tests only)");
	nm->assets = na;
	struct srv_control *ctl = srv_daemon_control(nm->d);
	srv_control_register(ctl, "asset_begin", SRV_CTL_CHANGE, cmd_begin, nm);
	srv_control_register(ctl, "asset_chunk", SRV_CTL_CHANGE, cmd_chunk, nm);
	srv_control_register(ctl, "asset_end", SRV_CTL_CHANGE, cmd_end, nm);
	srv_control_register(ctl, "assets", SRV_CTL_QUERY, cmd_list, nm);
	srv_control_register(ctl, "asset_read", SRV_CTL_QUERY, cmd_read, nm);
	srv_control_register(ctl, "asset_put_fd", SRV_CTL_CHANGE, cmd_put_fd, nm);
	srv_control_register(ctl, "asset_get_fd", SRV_CTL_QUERY, cmd_get_fd, nm);
	return 0;
}

void net_assets_stop(struct net_mod *nm)
{
	struct net_assets *na = nm->assets;
	if (!na)
		return;
	for (unsigned i = 0; i < na->n; i++)
		sess_assets_close(&na->stores[i].st);
	th_wbuf_fini(&na->w);
	free(na);
	nm->assets = NULL;
}
