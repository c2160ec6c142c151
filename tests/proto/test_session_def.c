/* proto/session_msgs.def, generically: every message of the description
 * round-trips canonically, every truncation and a trailing byte are
 * refused, every bounded field (range, mask, version) refuses a value out
 * of its bounds in both the decoder and the encoder, and the protocol hash
 * is the def's own text and feeds the handshake hash. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pres.h"
#include "session.h"
#include "th_cmd.h"
#include "th_hash.h"
#include "th_logrec.h"
#include "th_schema.h"

static uint8_t token[] = "invite-token-bytes";
static uint8_t chunk[300];
static const uint8_t asset_name[] = "mesh.glb";
static struct th_wbuf keep[3]; /* bytes that sample views point into */

static void one_entry(struct th_logrec_entry *e, const struct th_keypair *kp)
{
	static const uint8_t pl[4] = { 1, 2, 3, 4 };
	memset(e, 0, sizeof(*e));
	e->version = TH_LOGREC_VERSION;
	e->type = TH_CMD_COMPONENT_REMOVE;
	e->scope_kind = TH_SCOPE_ENTITY;
	e->scope_id = 9;
	e->lamport = 3;
	e->seq = 1;
	memcpy(e->author, kp->pk, 32);
	e->payload = pl;
	e->payload_len = 4;
	uint8_t h[32];
	th_logrec_entry_hash(e, h);
	th_logrec_sign(h, kp->sk, e->sig);
	e->has_sig = true;
}

/* Decodes the one frame in w (a builder's output) into m. */
static void decode_frame(struct th_wbuf *w, struct proto_sess_msg *m)
{
	assert_true(w->len > PROTO_SESS_FRAME_HDR);
	assert_int_equal(proto_sess_decode(w->data + PROTO_SESS_FRAME_HDR, w->len - PROTO_SESS_FRAME_HDR, m), 0);
}

/* A valid message of every type. */
static void sample(uint16_t type, struct proto_sess_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case PROTO_SESS_T_HELLO:
		m->u.hello = (struct proto_sess_hello){ .version = PROTO_SESS_VERSION, .schema_hash = 77, .caps = 5,
							.token = token, .token_len = sizeof token - 1 };
		memset(m->u.hello.nonce, 1, sizeof m->u.hello.nonce);
		memset(m->u.hello.identity_key, 2, sizeof m->u.hello.identity_key);
		memset(m->u.hello.sig, 3, sizeof m->u.hello.sig);
		break;
	case PROTO_SESS_T_ACK:
		m->u.ack = (struct proto_sess_ack){ .role = PROTO_SESS_ROLE_EDITOR, .caps = 4, .peer_id = 7, .name = "studio" };
		memset(m->u.ack.session_id, 4, sizeof m->u.ack.session_id);
		break;
	case PROTO_SESS_T_MEMBER_JOIN:
		m->u.join = (struct proto_sess_member_join){ .peer_id = 3, .role = PROTO_SESS_ROLE_ADMIN };
		break;
	case PROTO_SESS_T_MEMBER_LEAVE: m->u.mleave = (struct proto_sess_member_leave){ 3, 0x10e }; break;
	case PROTO_SESS_T_ROLE: m->u.role = (struct proto_sess_role_change){ 3, PROTO_SESS_ROLE_VIEWER }; break;
	case PROTO_SESS_T_KICK: m->u.kick = (struct proto_sess_kick){ 3, 0x109 }; break;
	case PROTO_SESS_T_PING: m->u.ping = (struct proto_sess_ping){ 1, 2 }; break;
	case PROTO_SESS_T_PONG: m->u.pong = (struct proto_sess_pong){ 1, 2, 3 }; break;
	case PROTO_SESS_T_LEAVE: m->u.leave.reason = 0x10e; break;
	case PROTO_SESS_T_ENTRIES: {
		struct th_keypair kp;
		struct th_logrec_entry e;
		struct proto_sess_entries_build b;
		th_keypair_generate(&kp);
		one_entry(&e, &kp);
		th_wbuf_reset(&keep[0]);
		assert_int_equal(proto_sess_entries_begin(&b, &keep[0], 0), 0);
		assert_int_equal(proto_sess_entries_add(&b, &e), 0);
		assert_int_equal(proto_sess_entries_end(&b), 0);
		decode_frame(&keep[0], m);
		break;
	}
	case PROTO_SESS_T_SYNC: {
		struct proto_sess_sync_head h[2] = { { .seq = 4 }, { .seq = 9 } };
		memset(h[0].key, 1, sizeof h[0].key);
		memset(h[1].key, 2, sizeof h[1].key);
		memset(h[1].hash, 0xee, sizeof h[1].hash);
		th_wbuf_reset(&keep[1]);
		assert_int_equal(proto_sess_sync_encode(&keep[1], h, 2), 0);
		decode_frame(&keep[1], m);
		break;
	}
	case PROTO_SESS_T_ASSET_OFFER:
		m->u.offer = (struct proto_sess_asset_info){ .size = 1000, .name = asset_name, .name_len = 8 };
		break;
	case PROTO_SESS_T_ASSET_LIST: {
		struct proto_sess_asset_info it[2] = { { .size = 5, .name = asset_name, .name_len = 8 },
						       { .size = 6, .name = asset_name, .name_len = 4 } };
		it[1].hash[0] = 1;
		th_wbuf_reset(&keep[2]);
		assert_int_equal(proto_sess_asset_list_encode(&keep[2], it, 2), 0);
		decode_frame(&keep[2], m);
		break;
	}
	case PROTO_SESS_T_ASSET_GET: m->u.aget.offset = 4096; break;
	case PROTO_SESS_T_ASSET_CHUNK:
		m->u.achunk = (struct proto_sess_asset_chunk){ .offset = 8, .len = sizeof chunk, .data = chunk };
		break;
	case PROTO_SESS_T_ASSET_DONE: m->u.adone.size = 308; break;
	case PROTO_SESS_T_ASSET_ERROR: m->u.aerr.code = PROTO_SESS_ASSET_E_BUSY; break;
	case PROTO_SESS_T_ADMIN_REQ:
		m->u.areq = (struct proto_sess_admin_req){ .req_id = 1, .op = PROTO_SESS_ADMIN_ROLE, .peer_id = 2,
							   .role = PROTO_SESS_ROLE_EDITOR };
		break;
	case PROTO_SESS_T_ADMIN_RESULT:
		m->u.ares = (struct proto_sess_admin_result){ .req_id = 1, .code = 0x110, .peer_id = 2, .role = 0 };
		break;
	case PROTO_SESS_T_REJECTED:
		m->u.rej = (struct proto_sess_rejected){ .seq = 2, .lamport = 9, .reason = 1, .text = "denied" };
		break;
	case PROTO_SESS_T_SNAP_REQUEST: m->u.sreq.flags = PROTO_SESS_SNAP_F_WANT; break;
	case PROTO_SESS_T_SNAP_OFFER:
		m->u.soffer = (struct proto_sess_snap_offer){ .flags = PROTO_SESS_SNAP_F_HAS, .log_count = 90, .next_pos = 80,
							       .size = 1234 };
		m->u.soffer.world_hash[0] = 7;
		break;
	case PROTO_SESS_T_SNAP_GET: m->u.sget = (struct proto_sess_snap_get){ .next_pos = 80, .offset = 65536 }; break;
	case PROTO_SESS_T_SNAP_CHUNK:
		m->u.schunk = (struct proto_sess_snap_chunk){ .offset = 8, .len = sizeof chunk, .data = chunk };
		break;
	case PROTO_SESS_T_SNAP_CANCEL:
		m->u.scancel = (struct proto_sess_snap_cancel){ .code = PROTO_SESS_SNAP_C_REFUSED, .text = "bad signature" };
		break;
	case PROTO_SESS_T_VOICE_NAME:
		m->u.vname = (struct proto_sess_voice_name){ .name = "Ada Lovelace" };
		memset(m->u.vname.speaker, 5, sizeof m->u.vname.speaker);
		break;
	case PROTO_SESS_T_VOICE_MUTE:
		m->u.vmute = (struct proto_sess_voice_mute){ .muted = 1 };
		memset(m->u.vmute.speaker, 6, sizeof m->u.vmute.speaker);
		break;
	default:
		fail_msg("no sample for type %u", type);
	}
}

static int setup(void **state)
{
	for (int i = 0; i < 3; i++)
		th_wbuf_init(&keep[i], 0);
	memset(chunk, 0xcd, sizeof chunk);
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < 3; i++)
		th_wbuf_fini(&keep[i]);
	return 0;
}

static void every_message_round_trips_canonically_and_refuses_truncation_and_trailing_bytes(void **state)
{
	for (size_t i = 0; i < proto_sess_n_descs; i++) {
		const struct proto_sess_desc *d = &proto_sess_descs[i];
		struct proto_sess_msg m, out, before;
		struct th_wbuf w, again;
		th_wbuf_init(&w, 0);
		th_wbuf_init(&again, 0);
		sample(d->type, &m);
		assert_int_equal(proto_sess_encode(&m, &w), 0);
		const uint8_t *p = w.data + PROTO_SESS_FRAME_HDR;
		size_t n = w.len - PROTO_SESS_FRAME_HDR;
		assert_int_equal(th_get_le32(w.data), n);
		assert_int_equal(th_get_le16(p), d->type);
		assert_int_equal(proto_sess_decode(p, n, &out), 0);
		assert_int_equal(out.type, d->type);
		assert_int_equal(proto_sess_encode(&out, &again), 0);
		assert_int_equal(again.len, w.len);
		assert_memory_equal(again.data, w.data, w.len);
		assert_string_equal(proto_sess_type_name(d->type), d->name);
		assert_ptr_equal(proto_sess_desc(d->type), d);
		assert_int_equal(proto_sess_check_stream(d->type, d->stream), 0);
		assert_int_equal(proto_sess_check_stream(d->type, d->stream % 3 + 1), -EPROTO);
		/* Every proper prefix is refused and leaves *out alone. */
		for (size_t k = 0; k < n; k++) {
			memset(&out, 0xa5, sizeof out);
			before = out;
			const char *why = NULL;
			int rv = proto_sess_decode_why(p, k, &out, &why);
			if (rv != -EBADMSG)
				fail_msg("%s cut to %zu bytes: %d", d->name, k, rv);
			assert_non_null(why);
			assert_memory_equal(&out, &before, sizeof out);
		}
		/* One byte more is refused. */
		uint8_t *x = th_wbuf_extend(&w, 1);
		*x = 0;
		const char *why = NULL;
		assert_int_equal(proto_sess_decode_why(w.data + PROTO_SESS_FRAME_HDR, n + 1, &out, &why), -EBADMSG);
		assert_string_equal(why, "trailing bytes after the last field");
		th_wbuf_fini(&w);
		th_wbuf_fini(&again);
	}
	struct proto_sess_msg out;
	uint8_t unknown[2] = { PROTO_SESS_T_MAX_ + 1, 0 };
	assert_int_equal(proto_sess_decode(unknown, 2, &out), -ENOMSG);
	assert_null(proto_sess_desc(PROTO_SESS_T_MAX_ + 1));
	assert_string_equal(proto_sess_type_name(0), "?");
}

/* Wire size of field f in message struct s. */
static size_t field_wire(const struct proto_sess_field *f, const uint8_t *s)
{
	switch (f->kind) {
	case PROTO_SESS_F_STR16: return 2 + strlen((const char *)s + f->offset);
	case PROTO_SESS_F_VIEW16: { uint16_t v; memcpy(&v, s + f->len_offset, 2); return 2 + (size_t)v; }
	case PROTO_SESS_F_VIEW32: { uint32_t v; memcpy(&v, s + f->len_offset, 4); return 4 + (size_t)v; }
	case PROTO_SESS_F_ITEMS: { size_t v; memcpy(&v, s + f->len_offset, sizeof v); return v; }
	default: return f->wire;
	}
}

/* A value of this bounded field outside its bounds, or false if every value
 * of its width is allowed. */
static bool out_of_bounds(const struct proto_sess_field *f, uint64_t *v)
{
	if (f->kind < PROTO_SESS_F_VERSION || f->kind > PROTO_SESS_F_MASK32)
		return false;
	uint64_t top = f->wire == 8 ? UINT64_MAX : (1ull << (8 * f->wire)) - 1;
	switch (f->kind) {
	case PROTO_SESS_F_MASK8:
	case PROTO_SESS_F_MASK32:
		if ((f->hi & top) == top)
			return false;
		*v = ~f->hi & top & (~(~f->hi & top) + 1); /* lowest bit outside the mask */
		return true;
	case PROTO_SESS_F_RANGE8:
	case PROTO_SESS_F_RANGE16:
	case PROTO_SESS_F_RANGE32:
	case PROTO_SESS_F_RANGE64:
	case PROTO_SESS_F_VERSION:
		if (f->hi < top)
			*v = f->hi + 1;
		else if (f->lo > 0)
			*v = f->lo - 1;
		else
			return false;
		return true;
	default:
		return false;
	}
}

static void every_bounded_field_refuses_a_value_outside_its_bounds(void **state)
{
	unsigned checked = 0;
	for (size_t i = 0; i < proto_sess_n_descs; i++) {
		const struct proto_sess_desc *d = &proto_sess_descs[i];
		size_t nf;
		const struct proto_sess_field *fs = d->fields(&nf);
		for (size_t k = 0; k < nf; k++) {
			uint64_t bad;
			if (!out_of_bounds(&fs[k], &bad))
				continue;
			struct proto_sess_msg m, out;
			struct th_wbuf w;
			sample(d->type, &m);
			th_wbuf_init(&w, 0);
			assert_int_equal(proto_sess_encode(&m, &w), 0);
			uint8_t *p = w.data + PROTO_SESS_FRAME_HDR;
			size_t at = 2;
			for (size_t j = 0; j < k; j++)
				at += field_wire(&fs[j], (const uint8_t *)&m.u);
			for (uint32_t b = 0; b < fs[k].wire; b++)
				p[at + b] = (uint8_t)(bad >> (8 * b));
			int want = fs[k].kind == PROTO_SESS_F_VERSION ? -EPROTONOSUPPORT : -EBADMSG;
			if (proto_sess_decode(p, w.len - PROTO_SESS_FRAME_HDR, &out) != want)
				fail_msg("%s.%s = %llu was accepted", d->name, fs[k].name, (unsigned long long)bad);
			/* The encoder refuses the same value (the version is sent as it is). */
			if (fs[k].kind != PROTO_SESS_F_VERSION) {
				memcpy((uint8_t *)&m.u + fs[k].offset, &bad, fs[k].wire); /* little-endian host */
				size_t len = w.len;
				assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
				assert_int_equal(w.len, len);
			}
			th_wbuf_fini(&w);
			checked++;
		}
	}
	assert_true(checked >= 18); /* every ranged or masked field in the def today */
}

static void rules_refuse_what_the_fields_alone_allow(void **state)
{
	struct proto_sess_msg m;
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	sample(PROTO_SESS_T_ADMIN_REQ, &m);
	m.u.areq.op = PROTO_SESS_ADMIN_KICK; /* a kick carries no role */
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	m.u.areq.op = PROTO_SESS_ADMIN_ROLE;
	m.u.areq.role = 0; /* a role change needs one */
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	sample(PROTO_SESS_T_ADMIN_RESULT, &m);
	m.u.ares.code = 0x100;
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	sample(PROTO_SESS_T_ASSET_CHUNK, &m);
	m.u.achunk.offset = PROTO_SESS_ASSET_MAX_SIZE - 10;
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	sample(PROTO_SESS_T_SNAP_CHUNK, &m);
	m.u.schunk.offset = PROTO_SESS_SNAP_MAX_SIZE - 10;
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	sample(PROTO_SESS_T_SNAP_OFFER, &m);
	m.u.soffer.size = 0; /* an offered checkpoint has bytes */
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	m.u.soffer.flags = 0; /* no checkpoint: but a world hash */
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	memset(m.u.soffer.world_hash, 0, sizeof(m.u.soffer.world_hash));
	m.u.soffer.next_pos = 0;
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	th_wbuf_reset(&w);
	sample(PROTO_SESS_T_REJECTED, &m);
	strcpy(m.u.rej.text, "tab\there");
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	sample(PROTO_SESS_T_ASSET_OFFER, &m);
	m.u.offer.name = (const uint8_t *)"a\x7f";
	m.u.offer.name_len = 2;
	assert_int_equal(proto_sess_encode(&m, &w), -EINVAL);
	assert_int_equal(w.len, 0);

	/* The same breaks, on the wire. */
	sample(PROTO_SESS_T_SYNC, &m);
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	uint8_t *items = w.data + PROTO_SESS_FRAME_HDR + 2 + 4;
	memset(items, 2, PROTO_SESS_KEY_LEN); /* first key == second key */
	const char *why = NULL;
	assert_int_equal(proto_sess_decode_why(w.data + PROTO_SESS_FRAME_HDR, w.len - PROTO_SESS_FRAME_HDR, &m, &why),
			 -EBADMSG);
	assert_string_equal(why, "items: authors not strictly increasing");
	th_put_le64(items + PROTO_SESS_KEY_LEN, 0); /* seq 0 */
	memset(items, 1, PROTO_SESS_KEY_LEN);
	assert_int_equal(proto_sess_decode_why(w.data + PROTO_SESS_FRAME_HDR, w.len - PROTO_SESS_FRAME_HDR, &m, &why),
			 -EBADMSG);
	assert_string_equal(why, "seq: value out of range");
	th_wbuf_fini(&w);
}

static void datagrams_and_the_rejected_event_come_from_the_description_too(void **state)
{
	/* A PRES datagram: kind, u16 length, the frame's bytes. */
	const uint8_t frame[5] = { 1, 2, 3, 4, 5 };
	struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_PRES, .frame = frame, .frame_len = sizeof frame }, out;
	uint8_t b[PROTO_SESS_DGRAM_MAX], again[PROTO_SESS_DGRAM_MAX];
	int n = proto_sess_dgram_encode(&d, b, sizeof b);
	assert_int_equal(n, 1 + 2 + 5);
	for (int k = 0; k < n; k++)
		assert_int_equal(proto_sess_dgram_decode(b, (size_t)k, &out), -EBADMSG);
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &out), 0);
	assert_int_equal(out.frame_len, 5);
	assert_memory_equal(out.frame, frame, 5);
	assert_int_equal(proto_sess_dgram_encode(&out, again, sizeof again), n);
	assert_memory_equal(again, b, (size_t)n);
	/* The largest frame fits PROTO_SESS_DGRAM_MAX; one byte more does not. */
	static uint8_t big[PROTO_SESS_PRES_FRAME_MAX + 1];
	d.frame = big;
	d.frame_len = PROTO_SESS_PRES_FRAME_MAX;
	assert_true(proto_sess_dgram_encode(&d, b, sizeof b) > 0);
	d.frame_len = PROTO_SESS_PRES_FRAME_MAX + 1;
	assert_true(proto_sess_dgram_encode(&d, b, sizeof b) < 0);
	d.frame_len = 0; /* a frame is never empty */
	assert_true(proto_sess_dgram_encode(&d, b, sizeof b) < 0);
	b[0] = 3; /* kind 3 (POSE) is gone */
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &out), -EBADMSG);
	struct proto_sess_dgram pong = { .kind = PROTO_SESS_DG_PONG, .seq = 1, .echo_t_ns = 2, .t_ns = 3 };
	assert_int_equal(proto_sess_dgram_encode(&pong, b, sizeof b), 25);
	assert_int_equal(proto_sess_dgram_encode(&pong, b, 24), -EINVAL); /* does not fit */
	b[0] = 6; /* no such kind */
	assert_int_equal(proto_sess_dgram_decode(b, 25, &out), -EBADMSG);

	struct proto_sess_rejected r = { .seq = 3, .lamport = 4, .reason = 2, .text = "conflicts" }, ro;
	uint8_t e[PROTO_SESS_REJECTED_EVENT_MAX];
	n = proto_sess_rejected_event_encode(&r, e, sizeof e);
	assert_int_equal(n, 32 + 8 + 8 + 4 + 2 + 9);
	assert_int_equal(th_get_le32(e + 48), 2); /* reason: a u32 here */
	for (int k = 0; k < n; k++)
		assert_int_equal(proto_sess_rejected_event_decode(e, (size_t)k, &ro), -EBADMSG);
	assert_int_equal(proto_sess_rejected_event_decode(e, (size_t)n, &ro), 0);
	assert_string_equal(ro.text, "conflicts");
	th_put_le32(e + 48, PROTO_SESS_REJECT_REASON_MAX + 1);
	assert_int_equal(proto_sess_rejected_event_decode(e, (size_t)n, &ro), -EBADMSG);
	assert_int_equal(proto_sess_rejected_event_encode(&r, e, (size_t)n - 1), -ENOSPC);
}

/* The def, stringized here the same way: the hash covers exactly it. */
#define SESS_CONST(NAME, value) "const " #NAME " " #value "\n"
#define SESS_ERR(code, NAME, text) "err " #code " " #NAME "\n"
#define SESS_ASSET_ERR(code, NAME, text) "asset-err " #code " " #NAME "\n"
#define SESS_MSG(id, NAME, sname, uname, STREAM, RULE, FIELDS) \
	"msg " #id " " #NAME " " #STREAM " " #RULE " " #FIELDS "\n"
#define SESS_ITEM(iname, RULE, FIELDS) "item " #iname " " #RULE " " #FIELDS "\n"
#define SESS_RECORD(rname, sname, RULE, FIELDS) "record " #rname " " #sname " " #RULE " " #FIELDS "\n"
#define SESS_DGRAM(kind, NAME, FIELDS) "dgram " #kind " " #NAME " " #FIELDS "\n"
static const char def_text[] =
#include "session_msgs.def"
	;

static void the_protocol_hash_is_the_def_and_goes_into_the_handshake(void **state)
{
	const char *t = proto_sess_canonical_text();
	assert_int_equal(proto_sess_hash(), th_siphash(t, strlen(t)));
	assert_non_null(strstr(t, def_text));
	assert_non_null(strstr(t, "msg 20 REJECTED CONTROL NO_RULE S_BYTES(author, PROTO_SESS_KEY_LEN) "
				  "S_RANGE64(seq, 1, UINT64_MAX) S_U64(lamport) S_RANGE16(reason, 0, "
				  "PROTO_SESS_REJECT_REASON_MAX) S_STR16(text, PROTO_SESS_REJECT_TEXT_MAX, PRINTABLE)\n"));
	assert_non_null(strstr(t, "const REJECT_TEXT_MAX 120\n"));
	/* Changing one described field (text: max 120 -> 121) changes the hash. */
	char copy[16384];
	size_t n = strlen(t);
	assert_true(n < sizeof copy);
	memcpy(copy, t, n + 1);
	char *at = strstr(copy, "const REJECT_TEXT_MAX 120");
	at[strlen("const REJECT_TEXT_MAX 12")] = '1';
	assert_int_not_equal(th_siphash(copy, n), proto_sess_hash());
	/* The handshake hash covers the schema, this protocol and the presence dictionary. */
	uint8_t b[24];
	th_put_le64(b, th_schema_hash());
	th_put_le64(b + 8, proto_sess_hash());
	th_put_le64(b + 16, proto_pres_dict_hash());
	assert_int_equal(proto_sess_handshake_hash(), th_siphash(b, 24));
	th_put_le64(b + 8, th_siphash(copy, n));
	assert_int_not_equal(proto_sess_handshake_hash(), th_siphash(b, 24));
	th_put_le64(b + 8, proto_sess_hash());
	th_put_le64(b + 16, proto_pres_dict_hash() ^ 1);
	assert_int_not_equal(proto_sess_handshake_hash(), th_siphash(b, 24));
	assert_int_not_equal(proto_sess_handshake_hash(), th_schema_hash());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_message_round_trips_canonically_and_refuses_truncation_and_trailing_bytes),
		cmocka_unit_test(every_bounded_field_refuses_a_value_outside_its_bounds),
		cmocka_unit_test(rules_refuse_what_the_fields_alone_allow),
		cmocka_unit_test(datagrams_and_the_rejected_event_come_from_the_description_too),
		cmocka_unit_test(the_protocol_hash_is_the_def_and_goes_into_the_handshake),
	};
	return cmocka_run_group_tests_name("session protocol description", tests, setup, teardown);
}
