/* Verified late join: the snapshot stream's state machine (net_snapshot.h). */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_snapshot.h"
#include "th_hex.h"

/* ---- actions ------------------------------------------------------------------ */

static struct net_snap_action *act_new(struct net_snap *sn, enum net_snap_act_kind kind)
{
	if (sn->n_act == NET_SNAP_ACTIONS_MAX) {
		sn->overflow = true;
		return NULL;
	}
	struct net_snap_action *a = &sn->act[sn->n_act];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	sn->act_off[sn->n_act] = SIZE_MAX;
	sn->n_act++;
	return a;
}

static void snap_log(struct net_snap *sn, enum net_snap_log level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void snap_log(struct net_snap *sn, enum net_snap_log level, const char *fmt, ...)
{
	struct net_snap_action *a = act_new(sn, NET_SNAP_A_LOG);
	if (!a)
		return;
	a->level = level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
}

/* Frames appended to out since `from` become one SEND. */
static void send_from(struct net_snap *sn, size_t from)
{
	if (th_wbuf_error(&sn->out) < 0 || sn->out.len == from) {
		sn->out.len = from;
		sn->out.oom = sn->out.overflow = false;
		return;
	}
	struct net_snap_action *a = act_new(sn, NET_SNAP_A_SEND);
	if (!a) {
		sn->out.len = from;
		return;
	}
	sn->act_off[sn->n_act - 1] = from;
	a->len = sn->out.len - from;
}

static void send_msg(struct net_snap *sn, const struct proto_sess_msg *m)
{
	size_t from = sn->out.len;
	if (proto_sess_encode(m, &sn->out) < 0)
		sn->out.len = from;
	send_from(sn, from);
}

static void send_cancel(struct net_snap *sn, uint16_t code, const char *why)
{
	struct proto_sess_msg m = { .type = PROTO_SESS_T_SNAP_CANCEL };
	m.u.scancel.code = code;
	/* text is PRINTABLE on the wire */
	size_t k = 0;
	for (; why[k] && k < PROTO_SESS_SNAP_TEXT_MAX; k++)
		m.u.scancel.text[k] = why[k] >= 0x20 && why[k] <= 0x7e ? why[k] : '?';
	m.u.scancel.text[k] = 0;
	send_msg(sn, &m);
}

int net_snap_poll(struct net_snap *sn, struct net_snap_action *a)
{
	if (sn->next_act == sn->n_act) {
		sn->n_act = sn->next_act = 0;
		sn->out.len = 0;
		return 0;
	}
	unsigned i = sn->next_act++;
	*a = sn->act[i];
	if (sn->act_off[i] != SIZE_MAX)
		a->data = sn->out.data + sn->act_off[i];
	return 1;
}

const char *net_snap_state_name(enum net_snap_state st)
{
	static const char *const names[] = {
		[NET_SNAP_S_IDLE] = "idle", [NET_SNAP_S_REQUESTED] = "requested", [NET_SNAP_S_RECEIVING] = "receiving",
		[NET_SNAP_S_VERIFYING] = "verifying", [NET_SNAP_S_INSTALLED] = "installed", [NET_SNAP_S_NONE] = "none",
		[NET_SNAP_S_REFUSED] = "refused", [NET_SNAP_S_OFFERED] = "offered", [NET_SNAP_S_SENDING] = "sending",
		[NET_SNAP_S_SENT] = "sent", [NET_SNAP_S_CANCELLED] = "cancelled",
	};
	return (unsigned)st < sizeof(names) / sizeof(names[0]) && names[st] ? names[st] : "?";
}

/* ---- create ------------------------------------------------------------------- */

static uint64_t max_size(const struct net_snap *sn)
{
	uint64_t m = sn->cfg.max_size;
	return m && m < PROTO_SESS_SNAP_MAX_SIZE ? m : PROTO_SESS_SNAP_MAX_SIZE;
}

int net_snap_create(const struct net_snap_config *cfg, struct net_snap **out)
{
	if (!cfg->ops || (cfg->side == NET_SNAP_HOST && (!cfg->sk || !cfg->ops->latest || !cfg->ops->count)) ||
	    (cfg->side != NET_SNAP_HOST && cfg->side != NET_SNAP_JOINER))
		return -EINVAL;
	struct net_snap *sn = calloc(1, sizeof(*sn));
	if (!sn)
		return -ENOMEM;
	sn->cfg = *cfg;
	th_wbuf_init(&sn->buf, (size_t)max_size(sn));
	th_wbuf_init(&sn->out, 0);
	*out = sn;
	return 0;
}

void net_snap_destroy(struct net_snap **p)
{
	struct net_snap *sn = *p;
	if (!sn)
		return;
	th_wbuf_fini(&sn->buf);
	th_wbuf_fini(&sn->out);
	free(sn);
	*p = NULL;
}

/* ---- joiner ------------------------------------------------------------------- */

void net_snap_start(struct net_snap *sn, uint64_t now_ns)
{
	if (sn->cfg.side != NET_SNAP_JOINER || sn->st != NET_SNAP_S_IDLE)
		return;
	struct proto_sess_msg m = { .type = PROTO_SESS_T_SNAP_REQUEST };
	memcpy(m.u.sreq.session_id, sn->cfg.session_id, PROTO_SESS_ID_LEN);
	m.u.sreq.flags = sn->cfg.want ? PROTO_SESS_SNAP_F_WANT : 0;
	send_msg(sn, &m);
	sn->st = NET_SNAP_S_REQUESTED;
	sn->stats.started_ns = now_ns;
	sn->deadline_ns = now_ns + NET_SNAP_OFFER_TIMEOUT_NS;
}

/* The joiner will not use this checkpoint: one sentence, a log line, and
 * the host hears it (unless it said it first). Catch-up goes on. */
static void refuse(struct net_snap *sn, bool tell_host, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void refuse(struct net_snap *sn, bool tell_host, uint16_t code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sn->why, sizeof(sn->why), fmt, ap);
	va_end(ap);
	sn->st = NET_SNAP_S_REFUSED;
	sn->deadline_ns = 0;
	th_wbuf_fini(&sn->buf);
	th_wbuf_init(&sn->buf, (size_t)max_size(sn));
	snap_log(sn, NET_SNAP_LOG_WARN, "checkpoint not used: %s; catching up from the whole log instead", sn->why);
	if (tell_host)
		send_cancel(sn, code, sn->why);
}

static void on_offer(struct net_snap *sn, const struct proto_sess_snap_offer *o, uint64_t now_ns)
{
	char a[2 * PROTO_SESS_ID_LEN + 1], b[2 * PROTO_SESS_ID_LEN + 1];
	if (sn->st != NET_SNAP_S_REQUESTED)
		return; /* a second offer: the first one stands */
	sn->offer = *o;
	sn->offered = true;
	sn->deadline_ns = 0;
	if (memcmp(o->session_id, sn->cfg.session_id, PROTO_SESS_ID_LEN)) {
		th_hex_encode(o->session_id, PROTO_SESS_ID_LEN, a);
		th_hex_encode(sn->cfg.session_id, PROTO_SESS_ID_LEN, b);
		sn->offered = false; /* its count is not ours either */
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED, "the host offered a checkpoint of session %s, not of %s", a,
		       b);
		return;
	}
	if (!(o->flags & PROTO_SESS_SNAP_F_HAS)) {
		sn->st = NET_SNAP_S_NONE;
		snprintf(sn->why, sizeof(sn->why), "%s", sn->cfg.want ? "the host has no checkpoint yet"
									: "checkpoints are switched off here");
		snap_log(sn, NET_SNAP_LOG_INFO, "no checkpoint: %s; catching up %" PRIu64 " entries from the log", sn->why,
			 o->log_count);
		return;
	}
	if (proto_sess_snap_verify(o, sn->cfg.host_key) < 0) {
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED,
		       "the signature over the host's checkpoint (position %" PRIu64 ") does not verify under the host key "
		       "pinned at the handshake",
		       o->next_pos);
		return;
	}
	if (o->size > max_size(sn)) {
		refuse(sn, true, PROTO_SESS_SNAP_C_LIMIT,
		       "the host's checkpoint is %" PRIu64 " bytes, more than the %" PRIu64 " this daemon takes", o->size,
		       max_size(sn));
		return;
	}
	if (o->next_pos > o->log_count) {
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED,
		       "the host's checkpoint claims position %" PRIu64 " past its log of %" PRIu64 " entries", o->next_pos,
		       o->log_count);
		return;
	}
	const char *no = sn->cfg.ops->decline ? sn->cfg.ops->decline(sn->cfg.ud, o) : NULL;
	if (no) {
		sn->st = NET_SNAP_S_NONE;
		snprintf(sn->why, sizeof(sn->why), "%s", no);
		snap_log(sn, NET_SNAP_LOG_INFO, "checkpoint at position %" PRIu64 " not needed: %s", o->next_pos, no);
		send_cancel(sn, PROTO_SESS_SNAP_C_REFUSED, no);
		return;
	}
	struct proto_sess_msg m = { .type = PROTO_SESS_T_SNAP_GET };
	m.u.sget.next_pos = o->next_pos;
	m.u.sget.offset = 0;
	send_msg(sn, &m);
	sn->st = NET_SNAP_S_RECEIVING;
	sn->deadline_ns = now_ns + NET_SNAP_STALL_NS;
}

static void on_chunk(struct net_snap *sn, const struct proto_sess_snap_chunk *c, uint64_t now_ns)
{
	if (sn->st != NET_SNAP_S_RECEIVING) {
		sn->stats.ignored++; /* sent before our CANCEL reached the host */
		return;
	}
	if (c->offset != sn->buf.len) {
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED,
		       "the host sent checkpoint bytes at offset %" PRIu64 " where %zu were expected", c->offset, sn->buf.len);
		return;
	}
	if (c->offset + c->len > sn->offer.size) {
		refuse(sn, true, PROTO_SESS_SNAP_C_LIMIT,
		       "the host sent more checkpoint bytes (%" PRIu64 ") than the %" PRIu64 " it signed for",
		       c->offset + c->len, sn->offer.size);
		return;
	}
	th_wbuf_put(&sn->buf, c->data, c->len);
	if (th_wbuf_error(&sn->buf) < 0) {
		refuse(sn, true, PROTO_SESS_SNAP_C_LIMIT, "no memory for a checkpoint of %" PRIu64 " bytes", sn->offer.size);
		return;
	}
	sn->stats.bytes += c->len;
	sn->stats.chunks++;
	sn->deadline_ns = now_ns + NET_SNAP_STALL_NS;
	if (sn->buf.len < sn->offer.size)
		return;
	uint8_t h[PROTO_SESS_SCENE_HASH_LEN];
	crypto_generichash(h, sizeof(h), sn->buf.data, sn->buf.len, NULL, 0);
	if (memcmp(h, sn->offer.snap_hash, sizeof(h))) {
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED,
		       "the %" PRIu64 " checkpoint bytes received do not hash to what the host signed", sn->offer.size);
		return;
	}
	sn->st = NET_SNAP_S_VERIFYING;
	sn->deadline_ns = 0;
	struct net_snap_action *a = act_new(sn, NET_SNAP_A_INSTALL);
	if (a) {
		a->data = sn->buf.data;
		a->len = sn->buf.len;
	} else {
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED, "too many actions at once");
	}
}

void net_snap_installed(struct net_snap *sn, int rc, const char *why, uint64_t now_ns)
{
	if (sn->st != NET_SNAP_S_VERIFYING)
		return;
	if (rc < 0) {
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED, "%s", why && *why ? why : "the checkpoint could not be installed");
		return;
	}
	sn->st = NET_SNAP_S_INSTALLED;
	sn->stats.done_ns = now_ns;
	th_wbuf_fini(&sn->buf);
	th_wbuf_init(&sn->buf, (size_t)max_size(sn));
	snap_log(sn, NET_SNAP_LOG_NOTICE,
		 "installed the host's signed checkpoint at position %" PRIu64 " (%" PRIu64 " bytes in %.3f s; world "
		 "hash and entry set verified); the rest of the log follows in the background",
		 sn->offer.next_pos, sn->offer.size, (double)(now_ns - sn->stats.started_ns) / 1e9);
}

/* ---- host --------------------------------------------------------------------- */

static void host_on_request(struct net_snap *sn, const struct proto_sess_snap_request *r, uint64_t now_ns)
{
	if (sn->st != NET_SNAP_S_IDLE) {
		/* One request per connection (a member asks once per join):
		 * each costs the host a checkpoint's copy, maybe its encoding. */
		send_cancel(sn, PROTO_SESS_SNAP_C_LIMIT, "one checkpoint request per connection");
		return;
	}
	if (memcmp(r->session_id, sn->cfg.session_id, PROTO_SESS_ID_LEN)) {
		sn->st = NET_SNAP_S_CANCELLED;
		send_cancel(sn, PROTO_SESS_SNAP_C_GONE, "this connection belongs to another session");
		return;
	}
	struct proto_sess_msg m = { .type = PROTO_SESS_T_SNAP_OFFER };
	struct proto_sess_snap_offer *o = &m.u.soffer;
	memcpy(o->session_id, sn->cfg.session_id, PROTO_SESS_ID_LEN);
	o->log_count = sn->cfg.ops->count(sn->cfg.ud);
	struct net_snap_source src;
	int rc = (r->flags & PROTO_SESS_SNAP_F_WANT) ? sn->cfg.ops->latest(sn->cfg.ud, &src) : -ENOENT;
	if (rc == 0 && (src.len == 0 || src.len > max_size(sn))) {
		snap_log(sn, NET_SNAP_LOG_WARN, "checkpoint at position %" PRIu64 " not offered: %zu bytes (limit %" PRIu64 ")",
			 src.next_pos, src.len, max_size(sn));
		rc = -EFBIG;
	}
	if (rc == 0) {
		th_wbuf_reset(&sn->buf);
		th_wbuf_put(&sn->buf, src.snap, src.len);
		if (th_wbuf_error(&sn->buf) < 0) {
			th_wbuf_reset(&sn->buf);
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		o->flags = PROTO_SESS_SNAP_F_HAS;
		o->next_pos = src.next_pos;
		memcpy(o->world_hash, src.world_hash, sizeof(o->world_hash));
		memcpy(o->set_digest, src.set_digest, sizeof(o->set_digest));
		o->size = src.len;
		crypto_generichash(o->snap_hash, sizeof(o->snap_hash), sn->buf.data, sn->buf.len, NULL, 0);
		if (proto_sess_snap_sign(o, sn->cfg.sk) < 0) {
			rc = -EIO;
			o->flags = 0;
		}
	}
	if (rc < 0) {
		memset(o, 0, sizeof(*o));
		memcpy(o->session_id, sn->cfg.session_id, PROTO_SESS_ID_LEN);
		o->log_count = sn->cfg.ops->count(sn->cfg.ud);
	}
	sn->offer = *o;
	send_msg(sn, &m);
	sn->st = rc == 0 ? NET_SNAP_S_OFFERED : NET_SNAP_S_CANCELLED;
	sn->stats.offered_ns = now_ns;
}

static int host_on_get(struct net_snap *sn, const struct proto_sess_snap_get *g, uint64_t now_ns)
{
	if (sn->st != NET_SNAP_S_OFFERED || g->next_pos != sn->offer.next_pos || g->offset > sn->offer.size) {
		send_cancel(sn, PROTO_SESS_SNAP_C_GONE, "no such checkpoint offered on this connection");
		return 0;
	}
	sn->st = NET_SNAP_S_SENDING;
	sn->sent = g->offset;
	sn->stats.started_ns = now_ns;
	return 0;
}

int net_snap_pump(struct net_snap *sn, size_t room, uint64_t now_ns)
{
	if (sn->cfg.side != NET_SNAP_HOST || sn->st != NET_SNAP_S_SENDING)
		return 0;
	size_t from = sn->out.len;
	unsigned n = 0;
	while (sn->sent < sn->buf.len && n < NET_SNAP_PUMP_MAX) {
		size_t len = sn->buf.len - sn->sent;
		if (len > NET_SNAP_CHUNK_BYTES)
			len = NET_SNAP_CHUNK_BYTES;
		size_t frame = PROTO_SESS_SNAP_CHUNK_FRAME(len);
		if (room < frame)
			break;
		struct proto_sess_msg m = { .type = PROTO_SESS_T_SNAP_CHUNK };
		m.u.schunk.offset = sn->sent;
		m.u.schunk.data = sn->buf.data + sn->sent;
		m.u.schunk.len = (uint32_t)len;
		size_t before = sn->out.len;
		if (proto_sess_encode(&m, &sn->out) < 0) {
			sn->out.len = before;
			break;
		}
		room -= frame;
		sn->sent += len;
		sn->stats.bytes += len;
		sn->stats.chunks++;
		n++;
	}
	send_from(sn, from);
	if (sn->sent == sn->buf.len) {
		sn->st = NET_SNAP_S_SENT;
		sn->stats.done_ns = now_ns;
		snap_log(sn, NET_SNAP_LOG_INFO, "sent the checkpoint at position %" PRIu64 " (%zu bytes in %.3f s)",
			 sn->offer.next_pos, sn->buf.len, (double)(now_ns - sn->stats.started_ns) / 1e9);
		th_wbuf_fini(&sn->buf);
		th_wbuf_init(&sn->buf, (size_t)max_size(sn));
		return 0;
	}
	return 1;
}

static void host_on_cancel(struct net_snap *sn, const struct proto_sess_snap_cancel *c)
{
	if (sn->st == NET_SNAP_S_OFFERED || sn->st == NET_SNAP_S_SENDING || sn->st == NET_SNAP_S_SENT)
		snap_log(sn, NET_SNAP_LOG_NOTICE, "the joiner does not use the checkpoint at position %" PRIu64 ": %s",
			 sn->offer.next_pos, c->text);
	sn->st = NET_SNAP_S_CANCELLED;
	th_wbuf_fini(&sn->buf);
	th_wbuf_init(&sn->buf, (size_t)max_size(sn));
}

/* ---- inputs ------------------------------------------------------------------- */

int net_snap_on_msg(struct net_snap *sn, const uint8_t *p, size_t len, uint64_t now_ns)
{
	struct proto_sess_msg m;
	if (proto_sess_decode(p, len, &m) < 0 || proto_sess_check_stream(m.type, PROTO_SESS_STREAM_SNAPSHOT) < 0)
		return -EBADMSG;
	bool host = sn->cfg.side == NET_SNAP_HOST;
	switch (m.type) {
	case PROTO_SESS_T_SNAP_REQUEST:
		if (!host)
			return -EPROTO;
		host_on_request(sn, &m.u.sreq, now_ns);
		return 0;
	case PROTO_SESS_T_SNAP_GET:
		if (!host)
			return -EPROTO;
		return host_on_get(sn, &m.u.sget, now_ns);
	case PROTO_SESS_T_SNAP_OFFER:
		if (host)
			return -EPROTO;
		on_offer(sn, &m.u.soffer, now_ns);
		return 0;
	case PROTO_SESS_T_SNAP_CHUNK:
		if (host)
			return -EPROTO;
		on_chunk(sn, &m.u.schunk, now_ns);
		return 0;
	case PROTO_SESS_T_SNAP_CANCEL:
		if (host) {
			host_on_cancel(sn, &m.u.scancel);
		} else if (sn->st == NET_SNAP_S_REQUESTED || sn->st == NET_SNAP_S_RECEIVING) {
			refuse(sn, false, 0, "the host stopped the transfer: %s", m.u.scancel.text);
		}
		return 0;
	default:
		return -EPROTO;
	}
}

void net_snap_on_timer(struct net_snap *sn, uint64_t now_ns)
{
	if (!sn->deadline_ns || now_ns < sn->deadline_ns)
		return;
	if (sn->st == NET_SNAP_S_REQUESTED) {
		sn->st = NET_SNAP_S_NONE;
		sn->deadline_ns = 0;
		snprintf(sn->why, sizeof(sn->why), "the host did not answer the checkpoint request");
		snap_log(sn, NET_SNAP_LOG_NOTICE, "%s within %.0f s; catching up from the whole log", sn->why,
			 (double)NET_SNAP_OFFER_TIMEOUT_NS / 1e9);
	} else if (sn->st == NET_SNAP_S_RECEIVING) {
		refuse(sn, true, PROTO_SESS_SNAP_C_REFUSED,
		       "the checkpoint transfer stalled at %zu of %" PRIu64 " bytes for %.0f s (truncated)", sn->buf.len,
		       sn->offer.size, (double)NET_SNAP_STALL_NS / 1e9);
	}
}

uint64_t net_snap_next_expiry(const struct net_snap *sn)
{
	return sn->deadline_ns ? sn->deadline_ns : UINT64_MAX;
}

void net_snap_on_ended(struct net_snap *sn, uint64_t now_ns)
{
	if (sn->cfg.side == NET_SNAP_JOINER && sn->st == NET_SNAP_S_RECEIVING)
		refuse(sn, false, 0, "the connection ended at %zu of %" PRIu64 " checkpoint bytes (truncated)", sn->buf.len,
		       sn->offer.size);
	else if (sn->cfg.side == NET_SNAP_JOINER && sn->st == NET_SNAP_S_REQUESTED) {
		sn->st = NET_SNAP_S_NONE;
		sn->deadline_ns = 0;
		snprintf(sn->why, sizeof(sn->why), "the connection ended before the host's offer");
	}
}
