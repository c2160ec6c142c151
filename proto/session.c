/* Session protocol messages: canonical LE encoding, validating decoders,
 * HELLO signatures, stream framing. See session.h. */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <sodium.h>

#include "th_logrec.h"

#define HELLO_FIXED (2 + 2 + 8 + PROTO_SESS_NONCE_LEN + 8 + 2 + PROTO_SESS_KEY_LEN + PROTO_SESS_SIG_LEN)

const char *proto_sess_err_text(uint64_t code)
{
	switch (code) {
	case PROTO_SESS_OK:
		return "The session ended normally.";
	case PROTO_SESS_ERR_WRONG_FINGERPRINT:
		return "The host's certificate does not match the fingerprint in the invite link.";
	case PROTO_SESS_ERR_BAD_TOKEN:
		return "The invite token is not valid for this session.";
	case PROTO_SESS_ERR_TOKEN_EXPIRED:
		return "The invite has expired; ask the host for a new one.";
	case PROTO_SESS_ERR_TOKEN_REUSED:
		return "This single-use invite has already been used.";
	case PROTO_SESS_ERR_VERSION:
		return "The host speaks a different session protocol version.";
	case PROTO_SESS_ERR_SCHEMA:
		return "The host uses a different component schema; both daemons need the same Theta version.";
	case PROTO_SESS_ERR_BAD_SIGNATURE:
		return "The identity signature in the handshake did not verify.";
	case PROTO_SESS_ERR_NOT_AUTHORIZED:
		return "Your role in this session does not allow that.";
	case PROTO_SESS_ERR_KICKED:
		return "An admin removed you from the session.";
	case PROTO_SESS_ERR_NO_SESSION:
		return "The host has no such session.";
	case PROTO_SESS_ERR_FULL:
		return "The session has reached its peer limit.";
	case PROTO_SESS_ERR_PROTOCOL:
		return "The other daemon broke the session protocol.";
	case PROTO_SESS_ERR_HOST_ENDED:
		return "The host ended the session.";
	case PROTO_SESS_ERR_LEFT:
		return "The peer left the session.";
	case PROTO_SESS_ERR_HANDSHAKE_TIMEOUT:
		return "The session handshake did not complete in time.";
	case PROTO_SESS_ERR_NO_PEER:
		return "The host has no member with that peer id in the session.";
	default:
		return "The connection was closed with an unknown error code.";
	}
}

const char *proto_sess_role_name(unsigned role)
{
	switch (role) {
	case PROTO_SESS_ROLE_VIEWER: return "viewer";
	case PROTO_SESS_ROLE_EDITOR: return "editor";
	case PROTO_SESS_ROLE_ADMIN: return "admin";
	default: return "unknown";
	}
}

int proto_sess_role_parse(const char *s)
{
	if (!strcmp(s, "viewer"))
		return PROTO_SESS_ROLE_VIEWER;
	if (!strcmp(s, "editor"))
		return PROTO_SESS_ROLE_EDITOR;
	if (!strcmp(s, "admin"))
		return PROTO_SESS_ROLE_ADMIN;
	return -EINVAL;
}

static bool role_ok(unsigned r) { return r >= PROTO_SESS_ROLE_VIEWER && r <= PROTO_SESS_ROLE_ADMIN; }

static bool admin_req_ok(const struct proto_sess_admin_req *a)
{
	if (a->op == PROTO_SESS_ADMIN_KICK)
		return a->role == 0;
	return a->op == PROTO_SESS_ADMIN_ROLE && role_ok(a->role);
}

static bool admin_result_ok(const struct proto_sess_admin_result *a)
{
	return (a->code == 0 || (a->code >= (PROTO_SESS_ERR_WRONG_FINGERPRINT & 0xffff) &&
				 a->code <= (PROTO_SESS_ERR_MAX_ & 0xffff))) &&
	       a->role <= PROTO_SESS_ROLE_ADMIN;
}

static bool reject_text_ok(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] > 0x7e)
			return false;
	return true;
}

static bool rejected_ok(const struct proto_sess_rejected *r)
{
	size_t n = strnlen(r->text, sizeof(r->text));
	return r->seq >= 1 && r->reason <= PROTO_SESS_REJECT_REASON_MAX && n <= PROTO_SESS_REJECT_TEXT_MAX &&
	       reject_text_ok(r->text, n);
}

/* HELLO payload without the signature. */
static void hello_body(const struct proto_sess_hello *h, struct th_wbuf *w)
{
	th_wbuf_u16(w, PROTO_SESS_T_HELLO);
	th_wbuf_u16(w, h->version);
	th_wbuf_u64(w, h->schema_hash);
	th_wbuf_put(w, h->nonce, sizeof(h->nonce));
	th_wbuf_u64(w, h->caps);
	th_wbuf_u16(w, h->token_len);
	if (h->token_len)
		th_wbuf_put(w, h->token, h->token_len);
	th_wbuf_put(w, h->identity_key, sizeof(h->identity_key));
}

bool proto_sess_asset_name_ok(const uint8_t *name, size_t len)
{
	if (!name || len < 1 || len > PROTO_SESS_ASSET_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

const char *proto_sess_asset_err_name(unsigned code)
{
	switch (code) {
	case PROTO_SESS_ASSET_E_UNKNOWN: return "unknown asset";
	case PROTO_SESS_ASSET_E_BUSY: return "busy";
	case PROTO_SESS_ASSET_E_BAD_OFFSET: return "bad offset";
	case PROTO_SESS_ASSET_E_REFUSED: return "refused";
	case PROTO_SESS_ASSET_E_CORRUPT: return "corrupt";
	case PROTO_SESS_ASSET_E_IO: return "storage error";
	case PROTO_SESS_ASSET_E_CANCEL: return "cancelled";
	default: return "unknown error";
	}
}

static bool asset_info_ok(const struct proto_sess_asset_info *a)
{
	return a->size >= 1 && a->size <= PROTO_SESS_ASSET_MAX_SIZE &&
	       proto_sess_asset_name_ok(a->name, a->name_len);
}

static void asset_info_put(struct th_wbuf *w, const struct proto_sess_asset_info *a)
{
	th_wbuf_put(w, a->hash, PROTO_SESS_ASSET_HASH_LEN);
	th_wbuf_u64(w, a->size);
	th_wbuf_u16(w, a->name_len);
	th_wbuf_put(w, a->name, a->name_len);
}

static int encode_payload(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	switch (m->type) {
	case PROTO_SESS_T_HELLO: {
		const struct proto_sess_hello *h = &m->u.hello;
		if (h->token_len > PROTO_SESS_MAX_TOKEN || (h->token_len && !h->token))
			return -EINVAL;
		hello_body(h, w);
		th_wbuf_put(w, h->sig, sizeof(h->sig));
		return 0;
	}
	case PROTO_SESS_T_ACK:
		if (!role_ok(m->u.ack.role) || strnlen(m->u.ack.name, sizeof(m->u.ack.name)) > PROTO_SESS_NAME_MAX)
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_put(w, m->u.ack.session_id, PROTO_SESS_ID_LEN);
		th_wbuf_u8(w, m->u.ack.role);
		th_wbuf_u64(w, m->u.ack.caps);
		th_wbuf_put(w, m->u.ack.host_key, PROTO_SESS_KEY_LEN);
		th_wbuf_u32(w, m->u.ack.peer_id);
		th_wbuf_str16(w, m->u.ack.name);
		return 0;
	case PROTO_SESS_T_MEMBER_JOIN:
		if (!role_ok(m->u.join.role))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_u32(w, m->u.join.peer_id);
		th_wbuf_put(w, m->u.join.key, PROTO_SESS_KEY_LEN);
		th_wbuf_u8(w, m->u.join.role);
		return 0;
	case PROTO_SESS_T_MEMBER_LEAVE:
		th_wbuf_u16(w, m->type);
		th_wbuf_u32(w, m->u.mleave.peer_id);
		th_wbuf_u16(w, m->u.mleave.reason);
		return 0;
	case PROTO_SESS_T_ROLE:
		if (!role_ok(m->u.role.role))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_u32(w, m->u.role.peer_id);
		th_wbuf_u8(w, m->u.role.role);
		return 0;
	case PROTO_SESS_T_KICK:
		th_wbuf_u16(w, m->type);
		th_wbuf_u32(w, m->u.kick.peer_id);
		th_wbuf_u16(w, m->u.kick.reason);
		return 0;
	case PROTO_SESS_T_ADMIN_REQ:
		if (!admin_req_ok(&m->u.areq))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_u32(w, m->u.areq.req_id);
		th_wbuf_u8(w, m->u.areq.op);
		th_wbuf_u32(w, m->u.areq.peer_id);
		th_wbuf_u8(w, m->u.areq.role);
		return 0;
	case PROTO_SESS_T_ADMIN_RESULT:
		if (!admin_result_ok(&m->u.ares))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_u32(w, m->u.ares.req_id);
		th_wbuf_u16(w, m->u.ares.code);
		th_wbuf_u32(w, m->u.ares.peer_id);
		th_wbuf_u8(w, m->u.ares.role);
		return 0;
	case PROTO_SESS_T_REJECTED:
		if (!rejected_ok(&m->u.rej))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_put(w, m->u.rej.author, PROTO_SESS_KEY_LEN);
		th_wbuf_u64(w, m->u.rej.seq);
		th_wbuf_u64(w, m->u.rej.lamport);
		th_wbuf_u16(w, m->u.rej.reason);
		th_wbuf_str16(w, m->u.rej.text);
		return 0;
	case PROTO_SESS_T_PING:
		th_wbuf_u16(w, m->type);
		th_wbuf_u64(w, m->u.ping.seq);
		th_wbuf_u64(w, m->u.ping.t_ns);
		return 0;
	case PROTO_SESS_T_PONG:
		th_wbuf_u16(w, m->type);
		th_wbuf_u64(w, m->u.pong.seq);
		th_wbuf_u64(w, m->u.pong.echo_t_ns);
		th_wbuf_u64(w, m->u.pong.t_ns);
		return 0;
	case PROTO_SESS_T_LEAVE:
		th_wbuf_u16(w, m->type);
		th_wbuf_u16(w, m->u.leave.reason);
		return 0;
	case PROTO_SESS_T_ENTRIES:
		/* Re-encodes a decoded message (the records are canonical). */
		if (!m->u.entries.count || m->u.entries.count > PROTO_SESS_ENTRIES_MAX ||
		    (m->u.entries.flags & ~PROTO_SESS_ENTRIES_F_MORE) || !m->u.entries.recs)
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_u8(w, m->u.entries.flags);
		th_wbuf_u16(w, m->u.entries.count);
		th_wbuf_put(w, m->u.entries.recs, m->u.entries.recs_len);
		return 0;
	case PROTO_SESS_T_SYNC:
		if (m->u.sync.n > PROTO_SESS_SYNC_MAX || (m->u.sync.n && !m->u.sync.items))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_u32(w, m->u.sync.n);
		if (m->u.sync.n)
			th_wbuf_put(w, m->u.sync.items, (size_t)m->u.sync.n * PROTO_SESS_SYNC_ITEM);
		return 0;
	case PROTO_SESS_T_ASSET_OFFER:
		if (!asset_info_ok(&m->u.offer))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		asset_info_put(w, &m->u.offer);
		return 0;
	case PROTO_SESS_T_ASSET_LIST:
		/* Re-encodes a decoded message (its items were validated). */
		if (m->u.alist.n > PROTO_SESS_ASSET_LIST_MAX || (m->u.alist.n && !m->u.alist.items))
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_u16(w, m->u.alist.n);
		if (m->u.alist.n)
			th_wbuf_put(w, m->u.alist.items, m->u.alist.items_len);
		return 0;
	case PROTO_SESS_T_ASSET_GET:
		if (m->u.aget.offset > PROTO_SESS_ASSET_MAX_SIZE)
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_put(w, m->u.aget.hash, PROTO_SESS_ASSET_HASH_LEN);
		th_wbuf_u64(w, m->u.aget.offset);
		return 0;
	case PROTO_SESS_T_ASSET_CHUNK: {
		const struct proto_sess_asset_chunk *c = &m->u.achunk;
		if (c->len < 1 || c->len > PROTO_SESS_ASSET_CHUNK || !c->data || c->offset > PROTO_SESS_ASSET_MAX_SIZE ||
		    c->offset + c->len > PROTO_SESS_ASSET_MAX_SIZE)
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_put(w, c->hash, PROTO_SESS_ASSET_HASH_LEN);
		th_wbuf_u64(w, c->offset);
		th_wbuf_u32(w, c->len);
		th_wbuf_put(w, c->data, c->len);
		return 0;
	}
	case PROTO_SESS_T_ASSET_DONE:
		if (m->u.adone.size < 1 || m->u.adone.size > PROTO_SESS_ASSET_MAX_SIZE)
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_put(w, m->u.adone.hash, PROTO_SESS_ASSET_HASH_LEN);
		th_wbuf_u64(w, m->u.adone.size);
		return 0;
	case PROTO_SESS_T_ASSET_ERROR:
		if (m->u.aerr.code < 1 || m->u.aerr.code > PROTO_SESS_ASSET_E_MAX_)
			return -EINVAL;
		th_wbuf_u16(w, m->type);
		th_wbuf_put(w, m->u.aerr.hash, PROTO_SESS_ASSET_HASH_LEN);
		th_wbuf_u16(w, m->u.aerr.code);
		return 0;
	default:
		return -EINVAL;
	}
}

int proto_sess_encode(const struct proto_sess_msg *m, struct th_wbuf *w)
{
	size_t start = w->len;
	uint8_t *hdr = th_wbuf_extend(w, PROTO_SESS_FRAME_HDR);
	if (!hdr)
		return th_wbuf_error(w);
	int rv = encode_payload(m, w);
	if (rv < 0) {
		w->len = start;
		return rv;
	}
	rv = th_wbuf_error(w);
	if (rv < 0)
		return rv;
	size_t plen = w->len - start - PROTO_SESS_FRAME_HDR;
	if (plen > PROTO_SESS_MAX_FRAME) {
		w->len = start;
		return -EMSGSIZE;
	}
	th_put_le32(w->data + start, (uint32_t)plen);
	return 0;
}

int proto_sess_hello_version(const uint8_t *p, size_t len)
{
	if (len < 4 || th_get_le16(p) != PROTO_SESS_T_HELLO)
		return -EBADMSG;
	return th_get_le16(p + 2);
}

static int decode_hello(struct th_rbuf *r, struct proto_sess_hello *h)
{
	int rv = 0;
	rv |= th_rbuf_u16(r, &h->version);
	if (rv == 0 && h->version != PROTO_SESS_VERSION)
		return -EPROTONOSUPPORT;
	rv |= th_rbuf_u64(r, &h->schema_hash);
	rv |= th_rbuf_bytes(r, h->nonce, sizeof(h->nonce));
	rv |= th_rbuf_u64(r, &h->caps);
	rv |= th_rbuf_u16(r, &h->token_len);
	if (rv)
		return -EBADMSG;
	if (h->token_len > PROTO_SESS_MAX_TOKEN)
		return -EBADMSG;
	h->token = NULL;
	if (h->token_len && th_rbuf_view(r, &h->token, h->token_len) < 0)
		return -EBADMSG;
	rv |= th_rbuf_bytes(r, h->identity_key, sizeof(h->identity_key));
	rv |= th_rbuf_bytes(r, h->sig, sizeof(h->sig));
	return rv ? -EBADMSG : 0;
}

/* One ENTRIES record at r: validates and (when e) decodes it. */
static int entries_rec(struct th_rbuf *r, struct th_logrec_entry *e)
{
	uint32_t blen;
	const uint8_t *body, *sig = NULL;
	uint8_t sflag;
	struct th_logrec_entry tmp;
	int why;
	if (th_rbuf_u32(r, &blen) < 0 || blen < TH_LOGREC_FIXED_LEN_MIN || blen > TH_LOGREC_FIXED_LEN + TH_LOGREC_PAYLOAD_MAX ||
	    th_rbuf_view(r, &body, blen) < 0 || th_rbuf_u8(r, &sflag) < 0 || sflag > 1)
		return -EBADMSG;
	if (sflag && th_rbuf_view(r, &sig, TH_LOGREC_SIG_LEN) < 0)
		return -EBADMSG;
	if (!e)
		e = &tmp;
	if (th_logrec_decode(body, blen, e, &why) < 0)
		return -EBADMSG;
	e->has_sig = sflag;
	if (sig)
		memcpy(e->sig, sig, TH_LOGREC_SIG_LEN);
	return 0;
}

static int decode_entries(struct th_rbuf *r, struct proto_sess_entries *m)
{
	if (th_rbuf_u8(r, &m->flags) < 0 || th_rbuf_u16(r, &m->count) < 0)
		return -EBADMSG;
	if ((m->flags & ~PROTO_SESS_ENTRIES_F_MORE) || m->count == 0 || m->count > PROTO_SESS_ENTRIES_MAX)
		return -EBADMSG;
	m->recs = r->p + r->off;
	size_t start = r->off;
	for (unsigned i = 0; i < m->count; i++)
		if (entries_rec(r, NULL) < 0)
			return -EBADMSG;
	m->recs_len = r->off - start;
	return 0;
}

static int decode_sync(struct th_rbuf *r, struct proto_sess_sync *m)
{
	if (th_rbuf_u32(r, &m->n) < 0 || m->n > PROTO_SESS_SYNC_MAX)
		return -EBADMSG;
	m->items = NULL;
	if (m->n && th_rbuf_view(r, &m->items, (size_t)m->n * PROTO_SESS_SYNC_ITEM) < 0)
		return -EBADMSG;
	for (uint32_t i = 0; i < m->n; i++) {
		const uint8_t *it = m->items + (size_t)i * PROTO_SESS_SYNC_ITEM;
		if (th_get_le64(it + PROTO_SESS_KEY_LEN) == 0)
			return -EBADMSG;
		if (i && memcmp(it - PROTO_SESS_SYNC_ITEM, it, PROTO_SESS_KEY_LEN) >= 0)
			return -EBADMSG;
	}
	return 0;
}

static int decode_asset_info(struct th_rbuf *r, struct proto_sess_asset_info *a)
{
	if (th_rbuf_bytes(r, a->hash, PROTO_SESS_ASSET_HASH_LEN) < 0 || th_rbuf_u64(r, &a->size) < 0 ||
	    th_rbuf_u16(r, &a->name_len) < 0 || a->name_len < 1 || a->name_len > PROTO_SESS_ASSET_NAME_MAX ||
	    th_rbuf_view(r, &a->name, a->name_len) < 0)
		return -EBADMSG;
	return asset_info_ok(a) ? 0 : -EBADMSG;
}

static int decode_asset_list(struct th_rbuf *r, struct proto_sess_asset_list *m)
{
	struct proto_sess_asset_info a;
	if (th_rbuf_u16(r, &m->n) < 0 || m->n > PROTO_SESS_ASSET_LIST_MAX)
		return -EBADMSG;
	size_t start = r->off;
	m->items = m->n ? r->p + r->off : NULL;
	for (unsigned i = 0; i < m->n; i++)
		if (decode_asset_info(r, &a) < 0)
			return -EBADMSG;
	m->items_len = r->off - start;
	return 0;
}

int proto_sess_decode(const uint8_t *p, size_t len, struct proto_sess_msg *out)
{
	struct th_rbuf r;
	struct proto_sess_msg m;
	memset(&m, 0, sizeof(m));
	if (len > PROTO_SESS_MAX_FRAME)
		return -EBADMSG;
	th_rbuf_init(&r, p, len);
	if (th_rbuf_u16(&r, &m.type) < 0)
		return -EBADMSG;
	int rv = 0;
	switch (m.type) {
	case PROTO_SESS_T_HELLO:
		rv = decode_hello(&r, &m.u.hello);
		if (rv < 0)
			return rv;
		break;
	case PROTO_SESS_T_ACK:
		rv |= th_rbuf_bytes(&r, m.u.ack.session_id, PROTO_SESS_ID_LEN);
		rv |= th_rbuf_u8(&r, &m.u.ack.role);
		rv |= th_rbuf_u64(&r, &m.u.ack.caps);
		rv |= th_rbuf_bytes(&r, m.u.ack.host_key, PROTO_SESS_KEY_LEN);
		rv |= th_rbuf_u32(&r, &m.u.ack.peer_id);
		rv |= th_rbuf_str16(&r, m.u.ack.name, sizeof(m.u.ack.name));
		if (rv == 0 && !role_ok(m.u.ack.role))
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_MEMBER_JOIN:
		rv |= th_rbuf_u32(&r, &m.u.join.peer_id);
		rv |= th_rbuf_bytes(&r, m.u.join.key, PROTO_SESS_KEY_LEN);
		rv |= th_rbuf_u8(&r, &m.u.join.role);
		if (rv == 0 && !role_ok(m.u.join.role))
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_MEMBER_LEAVE:
		rv |= th_rbuf_u32(&r, &m.u.mleave.peer_id);
		rv |= th_rbuf_u16(&r, &m.u.mleave.reason);
		break;
	case PROTO_SESS_T_ROLE:
		rv |= th_rbuf_u32(&r, &m.u.role.peer_id);
		rv |= th_rbuf_u8(&r, &m.u.role.role);
		if (rv == 0 && !role_ok(m.u.role.role))
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_KICK:
		rv |= th_rbuf_u32(&r, &m.u.kick.peer_id);
		rv |= th_rbuf_u16(&r, &m.u.kick.reason);
		break;
	case PROTO_SESS_T_ADMIN_REQ:
		rv |= th_rbuf_u32(&r, &m.u.areq.req_id);
		rv |= th_rbuf_u8(&r, &m.u.areq.op);
		rv |= th_rbuf_u32(&r, &m.u.areq.peer_id);
		rv |= th_rbuf_u8(&r, &m.u.areq.role);
		if (rv == 0 && !admin_req_ok(&m.u.areq))
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_ADMIN_RESULT:
		rv |= th_rbuf_u32(&r, &m.u.ares.req_id);
		rv |= th_rbuf_u16(&r, &m.u.ares.code);
		rv |= th_rbuf_u32(&r, &m.u.ares.peer_id);
		rv |= th_rbuf_u8(&r, &m.u.ares.role);
		if (rv == 0 && !admin_result_ok(&m.u.ares))
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_REJECTED:
		rv |= th_rbuf_bytes(&r, m.u.rej.author, PROTO_SESS_KEY_LEN);
		rv |= th_rbuf_u64(&r, &m.u.rej.seq);
		rv |= th_rbuf_u64(&r, &m.u.rej.lamport);
		rv |= th_rbuf_u16(&r, &m.u.rej.reason);
		rv |= th_rbuf_str16(&r, m.u.rej.text, sizeof(m.u.rej.text));
		if (rv == 0 && !rejected_ok(&m.u.rej))
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_PING:
		rv |= th_rbuf_u64(&r, &m.u.ping.seq);
		rv |= th_rbuf_u64(&r, &m.u.ping.t_ns);
		break;
	case PROTO_SESS_T_PONG:
		rv |= th_rbuf_u64(&r, &m.u.pong.seq);
		rv |= th_rbuf_u64(&r, &m.u.pong.echo_t_ns);
		rv |= th_rbuf_u64(&r, &m.u.pong.t_ns);
		break;
	case PROTO_SESS_T_LEAVE:
		rv |= th_rbuf_u16(&r, &m.u.leave.reason);
		break;
	case PROTO_SESS_T_ENTRIES:
		rv = decode_entries(&r, &m.u.entries);
		break;
	case PROTO_SESS_T_SYNC:
		rv = decode_sync(&r, &m.u.sync);
		break;
	case PROTO_SESS_T_ASSET_OFFER:
		rv = decode_asset_info(&r, &m.u.offer);
		break;
	case PROTO_SESS_T_ASSET_LIST:
		rv = decode_asset_list(&r, &m.u.alist);
		break;
	case PROTO_SESS_T_ASSET_GET:
		rv |= th_rbuf_bytes(&r, m.u.aget.hash, PROTO_SESS_ASSET_HASH_LEN);
		rv |= th_rbuf_u64(&r, &m.u.aget.offset);
		if (rv == 0 && m.u.aget.offset > PROTO_SESS_ASSET_MAX_SIZE)
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_ASSET_CHUNK: {
		struct proto_sess_asset_chunk *c = &m.u.achunk;
		rv |= th_rbuf_bytes(&r, c->hash, PROTO_SESS_ASSET_HASH_LEN);
		rv |= th_rbuf_u64(&r, &c->offset);
		rv |= th_rbuf_u32(&r, &c->len);
		if (rv == 0 && (c->len < 1 || c->len > PROTO_SESS_ASSET_CHUNK || c->offset > PROTO_SESS_ASSET_MAX_SIZE ||
				c->offset + c->len > PROTO_SESS_ASSET_MAX_SIZE))
			rv = -EBADMSG;
		if (rv == 0 && th_rbuf_view(&r, &c->data, c->len) < 0)
			rv = -EBADMSG;
		break;
	}
	case PROTO_SESS_T_ASSET_DONE:
		rv |= th_rbuf_bytes(&r, m.u.adone.hash, PROTO_SESS_ASSET_HASH_LEN);
		rv |= th_rbuf_u64(&r, &m.u.adone.size);
		if (rv == 0 && (m.u.adone.size < 1 || m.u.adone.size > PROTO_SESS_ASSET_MAX_SIZE))
			rv = -EBADMSG;
		break;
	case PROTO_SESS_T_ASSET_ERROR:
		rv |= th_rbuf_bytes(&r, m.u.aerr.hash, PROTO_SESS_ASSET_HASH_LEN);
		rv |= th_rbuf_u16(&r, &m.u.aerr.code);
		if (rv == 0 && (m.u.aerr.code < 1 || m.u.aerr.code > PROTO_SESS_ASSET_E_MAX_))
			rv = -EBADMSG;
		break;
	default:
		return -ENOMSG;
	}
	if (rv || th_rbuf_left(&r) != 0)
		return -EBADMSG;
	*out = m;
	return 0;
}

/* ---- IPC EVENT_REJECTED payload ------------------------------------------------ */

int proto_sess_rejected_event_encode(const struct proto_sess_rejected *r, uint8_t *out, size_t cap)
{
	if (!rejected_ok(r))
		return -EINVAL;
	size_t n = strlen(r->text);
	size_t need = PROTO_SESS_KEY_LEN + 8 + 8 + 4 + 2 + n;
	if (need > cap)
		return -ENOSPC;
	memcpy(out, r->author, PROTO_SESS_KEY_LEN);
	th_put_le64(out + 32, r->seq);
	th_put_le64(out + 40, r->lamport);
	th_put_le32(out + 48, r->reason);
	th_put_le16(out + 52, (uint16_t)n);
	memcpy(out + 54, r->text, n);
	return (int)need;
}

int proto_sess_rejected_event_decode(const uint8_t *p, size_t len, struct proto_sess_rejected *out)
{
	struct proto_sess_rejected r;
	memset(&r, 0, sizeof(r));
	if (len < 54 || len > PROTO_SESS_REJECTED_EVENT_MAX)
		return -EBADMSG;
	memcpy(r.author, p, PROTO_SESS_KEY_LEN);
	r.seq = th_get_le64(p + 32);
	r.lamport = th_get_le64(p + 40);
	uint32_t reason = th_get_le32(p + 48);
	uint16_t n = th_get_le16(p + 52);
	if (reason > PROTO_SESS_REJECT_REASON_MAX || n > PROTO_SESS_REJECT_TEXT_MAX || len != 54u + n ||
	    !reject_text_ok((const char *)p + 54, n))
		return -EBADMSG;
	r.reason = (uint16_t)reason;
	memcpy(r.text, p + 54, n);
	r.text[n] = 0;
	if (!rejected_ok(&r))
		return -EBADMSG;
	*out = r;
	return 0;
}

/* ---- ENTRIES and SYNC ------------------------------------------------------ */

void proto_sess_entries_iter_init(struct proto_sess_entries_iter *it, const struct proto_sess_entries *m)
{
	it->p = m->recs;
	it->left = m->recs_len;
}

int proto_sess_entries_next(struct proto_sess_entries_iter *it, struct th_logrec_entry *e)
{
	if (!it->left)
		return 0;
	struct th_rbuf r;
	th_rbuf_init(&r, it->p, it->left);
	if (entries_rec(&r, e) < 0) {
		it->left = 0;
		return 0;
	}
	it->p += r.off;
	it->left -= r.off;
	return 1;
}

int proto_sess_entries_begin(struct proto_sess_entries_build *b, struct th_wbuf *w, uint8_t flags)
{
	if (flags & ~PROTO_SESS_ENTRIES_F_MORE)
		return -EINVAL;
	b->w = w;
	b->start = w->len;
	b->count = 0;
	th_wbuf_u32(w, 0);
	th_wbuf_u16(w, PROTO_SESS_T_ENTRIES);
	th_wbuf_u8(w, flags);
	th_wbuf_u16(w, 0);
	return th_wbuf_error(w);
}

size_t proto_sess_entries_size(const struct proto_sess_entries_build *b)
{
	return b->w->len - b->start - PROTO_SESS_FRAME_HDR;
}

int proto_sess_entries_add(struct proto_sess_entries_build *b, const struct th_logrec_entry *e)
{
	size_t need = 4 + th_logrec_body_len(e) + 1 + (e->has_sig ? TH_LOGREC_SIG_LEN : 0);
	if (b->count >= PROTO_SESS_ENTRIES_MAX || proto_sess_entries_size(b) + need > PROTO_SESS_MAX_FRAME)
		return -ENOSPC;
	size_t at = b->w->len;
	th_wbuf_u32(b->w, (uint32_t)th_logrec_body_len(e));
	uint8_t *body = th_wbuf_extend(b->w, th_logrec_body_len(e));
	if (!body)
		return th_wbuf_error(b->w);
	int n = th_logrec_encode(e, body, th_logrec_body_len(e));
	if (n < 0) {
		b->w->len = at;
		return n;
	}
	th_wbuf_u8(b->w, e->has_sig ? 1 : 0);
	if (e->has_sig)
		th_wbuf_put(b->w, e->sig, TH_LOGREC_SIG_LEN);
	int rv = th_wbuf_error(b->w);
	if (rv < 0)
		return rv;
	b->count++;
	return 0;
}

int proto_sess_entries_end(struct proto_sess_entries_build *b)
{
	if (!b->count) {
		proto_sess_entries_abort(b);
		return -EINVAL;
	}
	int rv = th_wbuf_error(b->w);
	if (rv < 0)
		return rv;
	th_put_le32(b->w->data + b->start, (uint32_t)proto_sess_entries_size(b));
	th_put_le16(b->w->data + b->start + PROTO_SESS_FRAME_HDR + 3, b->count);
	return 0;
}

void proto_sess_entries_abort(struct proto_sess_entries_build *b)
{
	if (b->w && b->w->len >= b->start)
		b->w->len = b->start;
	b->count = 0;
}

void proto_sess_sync_item(const struct proto_sess_sync *m, uint32_t i, struct proto_sess_sync_head *out)
{
	const uint8_t *it = m->items + (size_t)i * PROTO_SESS_SYNC_ITEM;
	memcpy(out->key, it, PROTO_SESS_KEY_LEN);
	out->seq = th_get_le64(it + PROTO_SESS_KEY_LEN);
	memcpy(out->hash, it + PROTO_SESS_KEY_LEN + 8, PROTO_SESS_HASH_LEN);
}

int proto_sess_sync_encode(struct th_wbuf *w, const struct proto_sess_sync_head *heads, uint32_t n)
{
	if (n > PROTO_SESS_SYNC_MAX)
		return -E2BIG;
	for (uint32_t i = 0; i < n; i++)
		if (!heads[i].seq || (i && memcmp(heads[i - 1].key, heads[i].key, PROTO_SESS_KEY_LEN) >= 0))
			return -EINVAL;
	size_t start = w->len;
	th_wbuf_u32(w, (uint32_t)(2 + 4 + (size_t)n * PROTO_SESS_SYNC_ITEM));
	th_wbuf_u16(w, PROTO_SESS_T_SYNC);
	th_wbuf_u32(w, n);
	for (uint32_t i = 0; i < n; i++) {
		th_wbuf_put(w, heads[i].key, PROTO_SESS_KEY_LEN);
		th_wbuf_u64(w, heads[i].seq);
		th_wbuf_put(w, heads[i].hash, PROTO_SESS_HASH_LEN);
	}
	int rv = th_wbuf_error(w);
	if (rv < 0 && w->len >= start)
		w->len = start;
	return rv;
}

/* ---- asset lists ------------------------------------------------------------ */

int proto_sess_asset_list_encode(struct th_wbuf *w, const struct proto_sess_asset_info *items, uint16_t n)
{
	if (n > PROTO_SESS_ASSET_LIST_MAX)
		return -E2BIG;
	size_t body = 2 + 2;
	for (uint16_t i = 0; i < n; i++) {
		if (!asset_info_ok(&items[i]))
			return -EINVAL;
		body += PROTO_SESS_ASSET_INFO_FIXED + items[i].name_len;
	}
	size_t start = w->len;
	th_wbuf_u32(w, (uint32_t)body);
	th_wbuf_u16(w, PROTO_SESS_T_ASSET_LIST);
	th_wbuf_u16(w, n);
	for (uint16_t i = 0; i < n; i++)
		asset_info_put(w, &items[i]);
	int rv = th_wbuf_error(w);
	if (rv < 0 && w->len >= start)
		w->len = start;
	return rv;
}

void proto_sess_asset_list_iter_init(struct proto_sess_asset_list_iter *it, const struct proto_sess_asset_list *m)
{
	it->p = m->items;
	it->left = m->n ? m->items_len : 0;
}

int proto_sess_asset_list_next(struct proto_sess_asset_list_iter *it, struct proto_sess_asset_info *out)
{
	if (!it->left)
		return 0;
	struct th_rbuf r;
	struct proto_sess_asset_info a;
	th_rbuf_init(&r, it->p, it->left);
	if (decode_asset_info(&r, &a) < 0) {
		it->left = 0;
		return 0;
	}
	it->p += r.off;
	it->left -= r.off;
	*out = a;
	return 1;
}

/* ---- datagrams ------------------------------------------------------------ */

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

int proto_sess_dgram_encode(const struct proto_sess_dgram *d, uint8_t *out, size_t cap)
{
	struct th_wbuf w;
	th_wbuf_init(&w, cap);
	th_wbuf_u8(&w, d->kind);
	switch (d->kind) {
	case PROTO_SESS_DG_PING:
		th_wbuf_u64(&w, d->seq);
		th_wbuf_u64(&w, d->t_ns);
		break;
	case PROTO_SESS_DG_PONG:
		th_wbuf_u64(&w, d->seq);
		th_wbuf_u64(&w, d->echo_t_ns);
		th_wbuf_u64(&w, d->t_ns);
		break;
	case PROTO_SESS_DG_POSE:
		if (d->flags > PROTO_SESS_POSE_F_ALL) {
			th_wbuf_fini(&w);
			return -EINVAL;
		}
		th_wbuf_put(&w, d->author, PROTO_SESS_KEY_LEN);
		th_wbuf_u64(&w, d->t_ns);
		for (int i = 0; i < 7; i++) {
			if (!isfinite(d->pose[i])) {
				th_wbuf_fini(&w);
				return -EINVAL;
			}
			th_wbuf_u32(&w, f32_bits(d->pose[i]));
		}
		th_wbuf_u32(&w, d->flags);
		break;
	default:
		th_wbuf_fini(&w);
		return -EINVAL;
	}
	int rv = th_wbuf_error(&w);
	size_t n = w.len;
	if (rv == 0)
		memcpy(out, w.data, n);
	th_wbuf_fini(&w);
	return rv < 0 ? -EINVAL : (int)n;
}

int proto_sess_dgram_decode(const uint8_t *p, size_t len, struct proto_sess_dgram *out)
{
	struct th_rbuf r;
	struct proto_sess_dgram d;
	int rv = 0;
	memset(&d, 0, sizeof(d));
	th_rbuf_init(&r, p, len);
	if (th_rbuf_u8(&r, &d.kind) < 0)
		return -EBADMSG;
	switch (d.kind) {
	case PROTO_SESS_DG_PING:
		rv |= th_rbuf_u64(&r, &d.seq);
		rv |= th_rbuf_u64(&r, &d.t_ns);
		break;
	case PROTO_SESS_DG_PONG:
		rv |= th_rbuf_u64(&r, &d.seq);
		rv |= th_rbuf_u64(&r, &d.echo_t_ns);
		rv |= th_rbuf_u64(&r, &d.t_ns);
		break;
	case PROTO_SESS_DG_POSE:
		rv |= th_rbuf_bytes(&r, d.author, PROTO_SESS_KEY_LEN);
		rv |= th_rbuf_u64(&r, &d.t_ns);
		for (int i = 0; i < 7 && !rv; i++) {
			uint32_t u;
			rv |= th_rbuf_u32(&r, &u);
			memcpy(&d.pose[i], &u, 4);
			if (!rv && !isfinite(d.pose[i]))
				rv = -EBADMSG;
		}
		rv |= th_rbuf_u32(&r, &d.flags);
		if (!rv && d.flags > PROTO_SESS_POSE_F_ALL)
			rv = -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	if (rv || th_rbuf_left(&r))
		return -EBADMSG;
	*out = d;
	return 0;
}

/* context | NUL | binding | HELLO body */
static int hello_sign_input(const struct proto_sess_hello *h, const uint8_t *binding,
			    struct th_wbuf *w)
{
	if (h->token_len > PROTO_SESS_MAX_TOKEN || (h->token_len && !h->token))
		return -EINVAL;
	th_wbuf_put(w, PROTO_SESS_HELLO_CONTEXT, sizeof(PROTO_SESS_HELLO_CONTEXT));
	th_wbuf_put(w, binding, PROTO_SESS_BINDING_LEN);
	hello_body(h, w);
	return th_wbuf_error(w);
}

int proto_sess_hello_sign(struct proto_sess_hello *h, const uint8_t binding[PROTO_SESS_BINDING_LEN],
			  const uint8_t seckey[PROTO_SESS_SECKEY_LEN])
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	int rv = hello_sign_input(h, binding, &w);
	if (rv == 0 && crypto_sign_detached(h->sig, NULL, w.data, w.len, seckey) != 0)
		rv = -EIO;
	th_wbuf_fini(&w);
	return rv;
}

int proto_sess_hello_verify(const struct proto_sess_hello *h,
			    const uint8_t binding[PROTO_SESS_BINDING_LEN])
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	int rv = hello_sign_input(h, binding, &w);
	if (rv == 0 &&
	    crypto_sign_verify_detached(h->sig, w.data, w.len, h->identity_key) != 0)
		rv = -EKEYREJECTED;
	th_wbuf_fini(&w);
	return rv < 0 && rv != -EKEYREJECTED ? -EKEYREJECTED : rv;
}

/* ---- framing -------------------------------------------------------------- */

void proto_sess_reasm_init(struct proto_sess_reasm *r, size_t max_frame)
{
	memset(r, 0, sizeof(*r));
	r->max_frame = max_frame ? max_frame : PROTO_SESS_MAX_FRAME;
}

void proto_sess_reasm_fini(struct proto_sess_reasm *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int stash(struct proto_sess_reasm *r, const uint8_t *p, size_t n)
{
	if (r->len + n > r->cap) {
		size_t nc = r->cap ? r->cap : 256;
		while (nc < r->len + n)
			nc *= 2;
		if (nc > r->max_frame + PROTO_SESS_FRAME_HDR)
			nc = r->max_frame + PROTO_SESS_FRAME_HDR;
		uint8_t *b = realloc(r->buf, nc);
		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = nc;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

int proto_sess_reasm_feed(struct proto_sess_reasm *r, const uint8_t *data, size_t len,
			  int (*fn)(const uint8_t *payload, size_t len, void *ud), void *ud)
{
	if (r->error)
		return r->error;
	while (len > 0) {
		if (r->len > 0) {
			if (r->len < PROTO_SESS_FRAME_HDR) {
				size_t k = PROTO_SESS_FRAME_HDR - r->len;
				k = k < len ? k : len;
				if (stash(r, data, k) < 0)
					return -ENOMEM;
				data += k;
				len -= k;
				if (r->len == PROTO_SESS_FRAME_HDR && th_get_le32(r->buf) > r->max_frame)
					return r->error = -EMSGSIZE;
				continue;
			}
			size_t flen = th_get_le32(r->buf);
			if (flen > r->max_frame)
				return r->error = -EMSGSIZE;
			size_t total = PROTO_SESS_FRAME_HDR + flen;
			size_t k = total - r->len;
			k = k < len ? k : len;
			if (stash(r, data, k) < 0)
				return -ENOMEM;
			data += k;
			len -= k;
			if (r->len == total) {
				r->len = 0;
				int rv = fn(r->buf + PROTO_SESS_FRAME_HDR, flen, ud);
				if (rv < 0)
					return rv;
			}
			continue;
		}
		if (len < PROTO_SESS_FRAME_HDR)
			return stash(r, data, len);
		size_t flen = th_get_le32(data);
		if (flen > r->max_frame)
			return r->error = -EMSGSIZE;
		if (len - PROTO_SESS_FRAME_HDR < flen)
			return stash(r, data, len);
		int rv = fn(data + PROTO_SESS_FRAME_HDR, flen, ud);
		if (rv < 0)
			return rv;
		data += PROTO_SESS_FRAME_HDR + flen;
		len -= PROTO_SESS_FRAME_HDR + flen;
	}
	return 0;
}
