/* libFuzzer: session protocol decoders generated from proto/session_msgs.def
 * (every control, commands-stream and assets-stream message, HELLO's
 * version peek, DATAGRAM payloads, the IPC EVENT_REJECTED payload), stream
 * framing and the invite token parser. A decoded message must re-encode to
 * the same bytes and hold every bounded field of its description within
 * its bounds; a refused one must say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "session.h"
#include "th_logrec.h"

static int on_frame(const uint8_t *p, size_t len, void *ud)
{
	struct proto_sess_msg m;
	(void)ud;
	(void)proto_sess_decode(p, len, &m);
	return 0;
}

/* Every range, mask and version field of the decoded message's description
 * holds a value within its bounds. */
static void check_bounds(const struct proto_sess_msg *m)
{
	const struct proto_sess_desc *d = proto_sess_desc(m->type);
	if (!d)
		abort();
	size_t n;
	const struct proto_sess_field *f = d->fields(&n);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		if (f[i].kind < PROTO_SESS_F_VERSION || f[i].kind > PROTO_SESS_F_MASK32)
			continue;
		memcpy(&v, (const uint8_t *)&m->u + f[i].offset, f[i].wire); /* little-endian host */
		if (f[i].kind == PROTO_SESS_F_MASK8 || f[i].kind == PROTO_SESS_F_MASK32 ? (v & ~f[i].hi) != 0
											 : v < f[i].lo || v > f[i].hi)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_sess_msg m;
	const char *why = NULL;
	int rv = proto_sess_decode_why(data, size, &m, &why);
	if (rv < 0 && !why)
		abort(); /* every refusal names its reason */
	if (rv == 0) {
		check_bounds(&m);
		struct th_wbuf w;
		th_wbuf_init(&w, 0);
		if (proto_sess_encode(&m, &w) != 0 || w.len != size + 4 ||
		    memcmp(w.data + 4, data, size) != 0)
			abort(); /* canonical encoding: decode then encode is identity */
		th_wbuf_fini(&w);
	}
	(void)proto_sess_hello_version(data, size);

	/* datagram payloads: canonical too */
	struct proto_sess_dgram d;
	if (proto_sess_dgram_decode(data, size, &d) == 0) {
		uint8_t out[PROTO_SESS_DGRAM_MAX];
		int n = proto_sess_dgram_encode(&d, out, sizeof(out));
		if (n != (int)size || memcmp(out, data, size) != 0)
			abort();
	}
	/* EVENT_REJECTED payloads: canonical, text printable */
	struct proto_sess_rejected rj;
	if (proto_sess_rejected_event_decode(data, size, &rj) == 0) {
		uint8_t out[PROTO_SESS_REJECTED_EVENT_MAX];
		int n = proto_sess_rejected_event_encode(&rj, out, sizeof(out));
		if (n != (int)size || memcmp(out, data, size) != 0 || rj.seq == 0)
			abort();
	}
	/* an admin request is a kick without a role, a role change to a role, or
	 * a mute without a role naming a speaker or a peer (not both) */
	static const uint8_t zero_key[PROTO_SESS_KEY_LEN];
	if (proto_sess_decode(data, size, &m) == 0 && m.type == PROTO_SESS_T_ADMIN_REQ) {
		bool speaker = memcmp(m.u.areq.speaker, zero_key, sizeof zero_key) != 0;
		bool mute = m.u.areq.op == PROTO_SESS_ADMIN_MUTE || m.u.areq.op == PROTO_SESS_ADMIN_UNMUTE;
		if (mute ? m.u.areq.role != 0 || speaker == (m.u.areq.peer_id != 0)
			 : speaker || (m.u.areq.op == PROTO_SESS_ADMIN_KICK
					       ? m.u.areq.role != 0
					       : m.u.areq.role < PROTO_SESS_ROLE_VIEWER || m.u.areq.role > PROTO_SESS_ROLE_ADMIN))
			abort();
	}

	/* an ENTRIES message iterates to exactly its count */
	if (proto_sess_decode(data, size, &m) == 0 && m.type == PROTO_SESS_T_ENTRIES) {
		struct proto_sess_entries_iter it;
		struct th_logrec_entry e;
		unsigned k = 0;
		proto_sess_entries_iter_init(&it, &m.u.entries);
		while (proto_sess_entries_next(&it, &e) == 1)
			k++;
		if (k != m.u.entries.count)
			abort();
	}

	/* an asset LIST iterates to exactly its count, each item valid */
	if (proto_sess_decode(data, size, &m) == 0 && m.type == PROTO_SESS_T_ASSET_LIST) {
		struct proto_sess_asset_list_iter it;
		struct proto_sess_asset_info a;
		unsigned k = 0;
		proto_sess_asset_list_iter_init(&it, &m.u.alist);
		while (proto_sess_asset_list_next(&it, &a) == 1) {
			if (!proto_sess_asset_name_ok(a.name, a.name_len) || !a.size || a.size > PROTO_SESS_ASSET_MAX_SIZE)
				abort();
			k++;
		}
		if (k != m.u.alist.n)
			abort();
	}
	/* a CHUNK stays inside the largest asset */
	if (proto_sess_decode(data, size, &m) == 0 && m.type == PROTO_SESS_T_ASSET_CHUNK &&
	    (m.u.achunk.offset + m.u.achunk.len > PROTO_SESS_ASSET_MAX_SIZE || m.u.achunk.len > PROTO_SESS_ASSET_CHUNK))
		abort();

	/* the same bytes as a stream, split at a data-dependent point */
	struct proto_sess_reasm r;
	proto_sess_reasm_init(&r, 4096);
	size_t cut = size ? data[0] % (size + 1) : 0;
	if (proto_sess_reasm_feed(&r, data, cut, on_frame, NULL) == 0)
		(void)proto_sess_reasm_feed(&r, data + cut, size - cut, on_frame, NULL);
	if (r.cap > 4096 + 4)
		abort(); /* never buffers more than one frame */
	proto_sess_reasm_fini(&r);

	struct proto_invite_token t;
	(void)proto_invite_token_parse(data, size, &t);
	return 0;
}
