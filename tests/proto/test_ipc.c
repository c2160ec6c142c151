/* proto/ipc: every message in ipc_msgs.def has an encoder, a validating
 * decoder and a field table; encodings round-trip; every validator rule
 * rejects what it should; socket framing and the protocol hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipc.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_hash.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Large enough for the largest blob of any message. */
static uint8_t blob_src[PROTO_IPC_MAX_EVENT > PROTO_IPC_MAX_PAYLOAD ? PROTO_IPC_MAX_EVENT : PROTO_IPC_MAX_PAYLOAD];

/* Fills a message struct with valid random content; `maxed` puts every
 * string and blob at its limit. */
static void fill_msg(const struct proto_ipc_desc *d, void *msg, bool maxed)
{
	size_t n;
	const struct proto_ipc_field *f = d->fields(&n);
	memset(msg, 0, d->struct_size);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)msg + f[i].offset;
		switch (f[i].kind) {
		case PROTO_IPC_F_U16: {
			uint16_t v = (uint16_t)rnd();
			memcpy(p, &v, sizeof v);
			break;
		}
		case PROTO_IPC_F_U32: {
			uint32_t v = (uint32_t)rnd();
			memcpy(p, &v, sizeof v);
			break;
		}
		case PROTO_IPC_F_U64: {
			uint64_t v = rnd();
			memcpy(p, &v, sizeof v);
			break;
		}
		case PROTO_IPC_F_F32: {
			float v = (float)((double)(rnd() % 2000000) / 1000.0 - 1000.0);
			memcpy(p, &v, sizeof v);
			break;
		}
		case PROTO_IPC_F_ENUM: {
			uint32_t v = maxed ? f[i].limit : (uint32_t)(rnd() % ((uint64_t)f[i].limit + 1));
			memcpy(p, &v, sizeof v);
			break;
		}
		case PROTO_IPC_F_FLAGS: {
			uint32_t v = maxed ? f[i].limit : (uint32_t)rnd() & f[i].limit;
			memcpy(p, &v, sizeof v);
			break;
		}
		case PROTO_IPC_F_STR: {
			size_t l = maxed ? f[i].limit : rnd() % (f[i].limit + 1);
			for (size_t k = 0; k < l; k++)
				p[k] = (uint8_t)('a' + rnd() % 26);
			p[l] = 0;
			if (!maxed && l >= 2) { /* one two-byte UTF-8 character: "é" */
				p[0] = 0xc3;
				p[1] = 0xa9;
			}
			break;
		}
		case PROTO_IPC_F_PATH: {
			/* "/ab.c/d-e_f...": components of at least two bytes,
			 * each starting with a letter. */
			size_t l = maxed ? f[i].limit : rnd() % (f[i].limit + 1);
			static const char tail[] = "abcxyz0189._-";
			l = l == 1 ? 2 : l;
			for (size_t k = 0; k < l; k++) {
				bool start = k == 0 || (k % 8 == 0 && k + 2 < l);
				p[k] = start ? '/' : p[k - 1] == '/' ? (uint8_t)('a' + rnd() % 26)
								      : (uint8_t)tail[rnd() % (sizeof tail - 1)];
			}
			p[l] = 0;
			break;
		}
		case PROTO_IPC_F_LIST: {
			/* Names of letters (one "é" at the start) one per line. */
			size_t l = maxed ? f[i].limit : rnd() % (f[i].limit + 1);
			for (size_t k = 0; k < l; k++)
				p[k] = k % 7 == 6 && k + 1 < l ? '\n' : (uint8_t)('a' + rnd() % 26);
			p[l] = 0;
			if (!maxed && l >= 2) {
				p[0] = 0xc3;
				p[1] = 0xa9;
			}
			break;
		}
		case PROTO_IPC_F_BLOB: {
			/* Random lengths up to 299 bytes, within the field's limit. */
			uint32_t l = maxed ? f[i].limit : (uint32_t)(rnd() % ((f[i].limit < 299 ? f[i].limit : 299) + 1));
			const uint8_t *src = blob_src;
			memcpy(p, &src, sizeof src);
			memcpy((uint8_t *)msg + f[i].len_offset, &l, sizeof l);
			break;
		}
		}
	}
}

static void assert_msg_equal(const struct proto_ipc_desc *d, const void *a, const void *b)
{
	size_t n;
	const struct proto_ipc_field *f = d->fields(&n);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *pa = (const uint8_t *)a + f[i].offset;
		const uint8_t *pb = (const uint8_t *)b + f[i].offset;
		switch (f[i].kind) {
		case PROTO_IPC_F_U16:
			assert_memory_equal(pa, pb, 2);
			break;
		case PROTO_IPC_F_U64:
			assert_memory_equal(pa, pb, 8);
			break;
		case PROTO_IPC_F_U32:
		case PROTO_IPC_F_F32:
		case PROTO_IPC_F_ENUM:
		case PROTO_IPC_F_FLAGS:
			assert_memory_equal(pa, pb, 4);
			break;
		case PROTO_IPC_F_STR:
		case PROTO_IPC_F_PATH:
		case PROTO_IPC_F_LIST:
			assert_string_equal((const char *)pa, (const char *)pb);
			break;
		case PROTO_IPC_F_BLOB: {
			uint32_t la, lb;
			const uint8_t *xa, *xb;
			memcpy(&la, (const uint8_t *)a + f[i].len_offset, 4);
			memcpy(&lb, (const uint8_t *)b + f[i].len_offset, 4);
			memcpy(&xa, pa, sizeof xa);
			memcpy(&xb, pb, sizeof xb);
			assert_int_equal(la, lb);
			if (la)
				assert_memory_equal(xa, xb, la);
			break;
		}
		}
	}
}

/* Wire offset of field k in an encoding of msg. */
static size_t wire_offset(const struct proto_ipc_desc *d, const void *msg, size_t k)
{
	size_t n, off = 0;
	const struct proto_ipc_field *f = d->fields(&n);
	for (size_t i = 0; i < k; i++) {
		const uint8_t *p = (const uint8_t *)msg + f[i].offset;
		switch (f[i].kind) {
		case PROTO_IPC_F_U16:
			off += 2;
			break;
		case PROTO_IPC_F_U64:
			off += 8;
			break;
		case PROTO_IPC_F_STR:
		case PROTO_IPC_F_PATH:
		case PROTO_IPC_F_LIST:
			off += 2 + strlen((const char *)p);
			break;
		case PROTO_IPC_F_BLOB: {
			uint32_t l;
			memcpy(&l, (const uint8_t *)msg + f[i].len_offset, 4);
			off += 4 + l;
			break;
		}
		default:
			off += 4;
		}
	}
	return off;
}

static uint8_t enc[PROTO_IPC_MAX_MSG + 64];
static union proto_ipc_any msg_a, msg_b;

/* ---- the def and the generated code agree ------------------------------ */

static void every_def_entry_has_encoder_decoder_and_fields(void **state)
{
	(void)state;
	size_t count = 0;
#define IPC_CONST(NAME, value)
#define IPC_MSG(id_, NAME_, name_, cls_, chan_, ...)                                        \
	{                                                                              \
		const struct proto_ipc_desc *d = proto_ipc_desc(id_);                   \
		assert_non_null(d);                                                    \
		assert_string_equal(d->name, #NAME_);                                   \
		assert_int_equal(d->struct_size, sizeof(struct proto_ipc_##name_));     \
		assert_int_equal(d->max_size, PROTO_IPC_MAXSZ_##NAME_);                 \
		assert_true(d->max_size <= PROTO_IPC_MAX_MSG);                         \
		int (*e)(const struct proto_ipc_##name_ *, uint8_t *, size_t) =         \
			proto_ipc_encode_##name_;                                       \
		int (*x)(const uint8_t *, size_t, struct proto_ipc_##name_ *,           \
			 const char **) = proto_ipc_decode_##name_;                     \
		assert_non_null(e);                                                    \
		assert_non_null(x);                                                    \
		count++;                                                               \
	}
#include "ipc_msgs.def"
#undef IPC_MSG
#undef IPC_CONST
	assert_int_equal(count, proto_ipc_n_descs);
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		const struct proto_ipc_desc *d = &proto_ipc_descs[i];
		size_t n;
		assert_non_null(d->fields(&n));
		assert_true(n > 0);
		assert_non_null(d->encode);
		assert_non_null(d->decode);
		assert_int_not_equal(d->type, 0);
		assert_true(d->min_size <= d->max_size);
		assert_true(d->cls == PROTO_IPC_RELIABLE || d->cls == PROTO_IPC_EPHEMERAL);
		for (size_t j = i + 1; j < proto_ipc_n_descs; j++)
			assert_int_not_equal(d->type, proto_ipc_descs[j].type);
	}
	assert_null(proto_ipc_desc(0));
	assert_null(proto_ipc_desc(0xffff));
}

static void every_message_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		const struct proto_ipc_desc *d = &proto_ipc_descs[i];
		for (int rep = 0; rep < 50; rep++) {
			bool maxed = rep == 0;
			fill_msg(d, &msg_a, maxed);
			int need = proto_ipc_encode(d->type, &msg_a, NULL, 0);
			assert_true(need >= (int)d->min_size && need <= (int)d->max_size);
			int n = proto_ipc_encode(d->type, &msg_a, enc, sizeof enc);
			assert_int_equal(n, need);
			if (maxed)
				assert_int_equal(n, d->max_size);
			const char *why = NULL;
			assert_int_equal(proto_ipc_decode(d->type, enc, (size_t)n, &msg_b, &why), 0);
			assert_msg_equal(d, &msg_a, &msg_b);
			/* Re-encoding gives the same bytes: one canonical encoding. */
			static uint8_t enc2[sizeof enc];
			assert_int_equal(proto_ipc_encode(d->type, &msg_b, enc2, sizeof enc2), n);
			assert_memory_equal(enc, enc2, (size_t)n);
		}
	}
}

static void typed_ping_round_trips_with_known_bytes(void **state)
{
	(void)state;
	struct proto_ipc_ping p = { .seq = 0x0102030405060708ull, .send_ns = 9 };
	uint8_t b[32];
	assert_int_equal(proto_ipc_encode_ping(&p, b, sizeof b), 16);
	const uint8_t want[16] = { 8, 7, 6, 5, 4, 3, 2, 1, 9, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(b, want, 16);
	struct proto_ipc_ping q;
	assert_int_equal(proto_ipc_decode_ping(b, 16, &q, NULL), 0);
	assert_int_equal(q.seq, p.seq);
	assert_int_equal(q.send_ns, 9);
}

/* ---- validator rejections ---------------------------------------------- */

static void expect_reject(const struct proto_ipc_desc *d, const uint8_t *b, size_t len, const char *why_part)
{
	const char *why = NULL;
	memset(&msg_b, 0x5a, sizeof msg_b);
	union proto_ipc_any before = msg_b;
	assert_int_equal(proto_ipc_decode(d->type, b, len, &msg_b, &why), -EBADMSG);
	assert_non_null(why);
	if (why_part && !strstr(why, why_part))
		fail_msg("%s: expected rejection '%s', got '%s'", d->name, why_part, why);
	/* Output untouched on failure. */
	assert_memory_equal(&before, &msg_b, sizeof msg_b);
}

static void truncated_messages_are_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		const struct proto_ipc_desc *d = &proto_ipc_descs[i];
		fill_msg(d, &msg_a, false);
		int n = proto_ipc_encode(d->type, &msg_a, enc, sizeof enc);
		assert_true(n > 0);
		for (int cut = 0; cut < n; cut++)
			expect_reject(d, enc, (size_t)cut, "truncated");
	}
}

static void trailing_and_oversized_messages_are_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		const struct proto_ipc_desc *d = &proto_ipc_descs[i];
		fill_msg(d, &msg_a, false);
		int n = proto_ipc_encode(d->type, &msg_a, enc, sizeof enc);
		enc[n] = 0;
		expect_reject(d, enc, (size_t)n + 1, "trailing bytes");
		memset(enc, 0, sizeof enc);
		expect_reject(d, enc, d->max_size + 1, "trailing bytes");
	}
}

static void unknown_type_is_rejected(void **state)
{
	(void)state;
	const char *why = NULL;
	uint8_t b[16] = { 0 };
	assert_int_equal(proto_ipc_decode(0x7777, b, sizeof b, &msg_b, &why), -EBADMSG);
	assert_string_equal(why, "unknown message type");
	assert_int_equal(proto_ipc_decode(0, b, sizeof b, &msg_b, NULL), -EBADMSG);
	assert_int_equal(proto_ipc_encode(0x7777, &msg_a, b, sizeof b), -EINVAL);
}

/* For every field of every message, corrupt it in each way its kind
 * forbids and check the decoder names the rule. */
static void every_field_rule_is_enforced(void **state)
{
	(void)state;
	int checked = 0;
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		const struct proto_ipc_desc *d = &proto_ipc_descs[i];
		size_t nf;
		const struct proto_ipc_field *f = d->fields(&nf);
		for (size_t k = 0; k < nf; k++) {
			fill_msg(d, &msg_a, false);
			if (f[k].kind == PROTO_IPC_F_STR || f[k].kind == PROTO_IPC_F_LIST) /* a known length: 3 ASCII bytes */
				strcpy((char *)&msg_a + f[k].offset, "abc");
			if (f[k].kind == PROTO_IPC_F_PATH)
				strcpy((char *)&msg_a + f[k].offset, "/ab");
			if (f[k].kind == PROTO_IPC_F_BLOB) {
				uint32_t three = 3;
				memcpy((uint8_t *)&msg_a + f[k].len_offset, &three, 4);
			}
			int n = proto_ipc_encode(d->type, &msg_a, enc, sizeof enc);
			assert_true(n > 0);
			size_t off = wire_offset(d, &msg_a, k);
			static uint8_t b[sizeof enc];
			switch (f[k].kind) {
			case PROTO_IPC_F_F32: {
				const uint32_t bad[] = { 0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f800001u };
				for (size_t j = 0; j < 4; j++) {
					memcpy(b, enc, (size_t)n);
					th_put_le32(b + off, bad[j]);
					expect_reject(d, b, (size_t)n, "not a finite number");
					checked++;
				}
				break;
			}
			case PROTO_IPC_F_ENUM:
				memcpy(b, enc, (size_t)n);
				th_put_le32(b + off, f[k].limit + 1);
				expect_reject(d, b, (size_t)n, "out of range");
				th_put_le32(b + off, UINT32_MAX);
				expect_reject(d, b, (size_t)n, "out of range");
				checked++;
				break;
			case PROTO_IPC_F_FLAGS:
				memcpy(b, enc, (size_t)n);
				th_put_le32(b + off, ~f[k].limit);
				expect_reject(d, b, (size_t)n, "unknown flag bits");
				checked++;
				break;
			case PROTO_IPC_F_STR:
			case PROTO_IPC_F_PATH:
			case PROTO_IPC_F_LIST: {
				/* Too long (with the bytes present). */
				size_t l = (size_t)f[k].limit + 1, m = 0;
				memcpy(b, enc, off);
				th_put_le16(b + off, (uint16_t)l);
				memset(b + off + 2, 'x', l);
				m = off + 2 + l;
				memcpy(b + m, enc + off + 5, (size_t)n - off - 5);
				m += (size_t)n - off - 5;
				expect_reject(d, b, m, "string too long");
				/* Embedded NUL, invalid UTF-8: lone continuation,
				 * overlong, surrogate, truncated sequence, > U+10FFFF. */
				const char *bad[] = { "a\0c", "\x80" "bc", "\xc0\x80" "c", "\xed\xa0\x80",
						      "a\xe2\x82", "\xf4\x90\x80" };
				for (size_t j = 0; j < 6; j++) {
					memcpy(b, enc, (size_t)n);
					memcpy(b + off + 2, bad[j], 3);
					expect_reject(d, b, (size_t)n, "not UTF-8");
				}
				/* Length past the end. */
				memcpy(b, enc, (size_t)n);
				if ((size_t)n - off <= f[k].limit) {
					th_put_le16(b + off, (uint16_t)(n - off));
					expect_reject(d, b, (size_t)n, "truncated");
				}
				/* Within the limit, but the bytes end first. */
				expect_reject(d, b, off + 2 + 2, "truncated");
				/* The stricter kinds' own rules (3 bytes each). */
				static const char *const bad_path[] = { "abc", "/a/", "//a", "/A1", "/..", "/a ", "/\xc3\xa9",
									"/a\n", "/./" };
				static const char *const bad_list[] = { "\nab", "ab\n", "a\n\n", "a\tb", "a\x7f" "b", "\x1b[m",
									"\r\na" };
				const char *const *bad_rule = f[k].kind == PROTO_IPC_F_PATH ? bad_path : bad_list;
				size_t n_bad = f[k].kind == PROTO_IPC_F_PATH ? sizeof bad_path / sizeof bad_path[0]
					       : f[k].kind == PROTO_IPC_F_LIST ? sizeof bad_list / sizeof bad_list[0] : 0;
				for (size_t j = 0; j < n_bad; j++) {
					memcpy(b, enc, (size_t)n);
					memcpy(b + off + 2, bad_rule[j], 3);
					expect_reject(d, b, (size_t)n, f[k].kind == PROTO_IPC_F_PATH ? "not a path" : "not a list");
					checked++;
				}
				checked++;
				break;
			}
			case PROTO_IPC_F_BLOB:
				memcpy(b, enc, (size_t)n);
				th_put_le32(b + off, f[k].limit + 1);
				expect_reject(d, b, (size_t)n, "blob too long");
				/* Within the limit, but the bytes end first. */
				th_put_le32(b + off, 3);
				expect_reject(d, b, off + 4 + 2, "truncated");
				th_put_le32(b + off, UINT32_MAX);
				expect_reject(d, b, (size_t)n, "blob too long");
				checked++;
				break;
			default:
				break; /* integers: every value is valid; truncation tested above */
			}
		}
	}
	assert_true(checked > 10);
}

static void encoders_refuse_invalid_messages(void **state)
{
	(void)state;
	uint8_t b[PROTO_IPC_MAX_MSG];
	struct proto_ipc_pose_update p = { .qw = 1.0f };
	assert_true(proto_ipc_encode_pose_update(&p, b, sizeof b) > 0);
	p.px = NAN;
	assert_int_equal(proto_ipc_encode_pose_update(&p, b, sizeof b), -EINVAL);
	p.px = 0;
	p.flags = 0x100;
	assert_int_equal(proto_ipc_encode_pose_update(&p, b, sizeof b), -EINVAL);

	struct proto_ipc_cmd_reject r = { .reason = PROTO_IPC_REJECT_MAX + 1 };
	assert_int_equal(proto_ipc_encode_cmd_reject(&r, b, sizeof b), -EINVAL);

	struct proto_ipc_client_info ci = { .mode = PROTO_IPC_MODE_XR };
	memset(ci.name, 'a', sizeof ci.name); /* no terminator */
	assert_int_equal(proto_ipc_encode_client_info(&ci, b, sizeof b), -EINVAL);
	strcpy(ci.name, "\xff");
	assert_int_equal(proto_ipc_encode_client_info(&ci, b, sizeof b), -EINVAL);
	strcpy(ci.name, "ok");
	assert_true(proto_ipc_encode_client_info(&ci, b, sizeof b) > 0);
	assert_int_equal(proto_ipc_encode_client_info(&ci, b, 5), -ENOBUFS);

	struct proto_ipc_cmd_submit cs = { .payload = NULL, .payload_len = 4 };
	assert_int_equal(proto_ipc_encode_cmd_submit(&cs, b, sizeof b), -EINVAL);
	cs.payload = blob_src;
	cs.payload_len = PROTO_IPC_MAX_PAYLOAD + 1;
	assert_int_equal(proto_ipc_encode_cmd_submit(&cs, b, sizeof b), -EINVAL);
}

static void channels_are_enforced(void **state)
{
	(void)state;
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_CMD_SUBMIT, PROTO_IPC_CHAN_C2D), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_CMD_SUBMIT, PROTO_IPC_CHAN_D2C), -EPROTO);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_CMD_ACK, PROTO_IPC_CHAN_C2D), -EPROTO);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_PING, PROTO_IPC_CHAN_D2C), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_PING, PROTO_IPC_CHAN_C2D), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_HELLO, PROTO_IPC_CHAN_C2D), -EPROTO);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_HELLO, PROTO_IPC_CHAN_SOCK_C2D), 0);
	assert_int_equal(proto_ipc_check_chan(0x7777, PROTO_IPC_CHAN_C2D), -EPROTO);
}

/* ---- socket framing and the hash --------------------------------------- */

static void hello_frames_round_trip_and_check(void **state)
{
	(void)state;
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	struct proto_ipc_hello h = { .pid = 1234 };
	strcpy(h.name, "theta-client");
	int n = proto_ipc_sock_encode(PROTO_IPC_T_HELLO, &h, b, sizeof b);
	assert_true(n > (int)PROTO_IPC_SOCK_HDR);
	struct proto_ipc_sock_hdr hdr;
	union proto_ipc_any m;
	assert_int_equal(proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_C2D, &hdr, &m, NULL), 0);
	assert_int_equal(hdr.type, PROTO_IPC_T_HELLO);
	assert_int_equal(proto_ipc_sock_check(&hdr), 0);
	assert_int_equal(m.hello.pid, 1234);
	assert_string_equal(m.hello.name, "theta-client");
	/* A hello is not a daemon->client message. */
	assert_int_equal(proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &hdr, &m, NULL), -EPROTO);
	/* Ring messages are not socket messages. */
	struct proto_ipc_ping p = { 0 };
	assert_int_equal(proto_ipc_sock_encode(PROTO_IPC_T_PING, &p, b, sizeof b), -EINVAL);
}

static void mismatched_version_or_hash_is_named(void **state)
{
	(void)state;
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	struct proto_ipc_refuse r = { .reason = PROTO_IPC_REFUSE_PROTO_HASH };
	strcpy(r.detail, "daemon speaks another protocol");
	int n = proto_ipc_sock_encode(PROTO_IPC_T_REFUSE, &r, b, sizeof b);
	assert_true(n > 0);
	th_put_le64(b + 8, proto_ipc_hash() ^ 1);
	struct proto_ipc_sock_hdr hdr;
	union proto_ipc_any m;
	/* The frozen REFUSE stays readable from a peer with another hash. */
	assert_int_equal(proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &hdr, &m, NULL), 0);
	assert_int_equal(proto_ipc_sock_check(&hdr), -TH_EPROTOHASH);
	assert_int_equal(m.refuse.reason, PROTO_IPC_REFUSE_PROTO_HASH);
	assert_string_equal(proto_ipc_refuse_str(m.refuse.reason), "protocol hash mismatch");
	th_put_le16(b + 2, PROTO_IPC_VERSION + 1);
	assert_int_equal(proto_ipc_sock_peek(b, (size_t)n, &hdr), 0);
	assert_int_equal(proto_ipc_sock_check(&hdr), -TH_EVERSION);
	th_put_le32(b + 4, 0);
	assert_int_equal(proto_ipc_sock_peek(b, (size_t)n, &hdr), -EBADMSG);
	assert_int_equal(proto_ipc_sock_peek(b, 15, &hdr), -EBADMSG);
}

static void hash_covers_the_canonical_text(void **state)
{
	(void)state;
	const char *t = proto_ipc_canonical_text();
	assert_int_equal(proto_ipc_hash(), th_siphash(t, strlen(t)));
	size_t lines = 0;
	for (const char *p = t; (p = strstr(p, "\nmsg ")); p++)
		lines++;
	assert_int_equal(lines, proto_ipc_n_descs);
	/* Fields, limits and classes are all part of it. */
	assert_non_null(strstr(t, "F_BLOB(payload, PROTO_IPC_MAX_PAYLOAD)"));
	assert_non_null(strstr(t, "const MAX_PAYLOAD 65536"));
	assert_non_null(strstr(t, "POSE_UPDATE pose_update EPHEMERAL BOTH"));
	/* Comments and layout are not. */
	assert_null(strstr(t, "/*"));
	assert_null(strstr(t, "\t"));
	assert_int_not_equal(proto_ipc_hash(), 0);
}

/* ---- scene messages ------------------------------------------------------ */

static void scene_chunk_fits_a_ring_record(void **state)
{
	(void)state;
	/* A full chunk is no larger than the largest message, which is what
	 * both rings' max_record hold (thetad/ipc: max_record = MAX_MSG). */
	assert_true(PROTO_IPC_MAXSZ_SCENE_CHUNK <= PROTO_IPC_MAX_MSG);
	assert_true(PROTO_IPC_MAXSZ_SCENE_CHUNK <= PROTO_IPC_MAXSZ_EVENT);
	static uint8_t bytes[PROTO_IPC_SCENE_CHUNK_MAX + 1];
	uint8_t host[PROTO_IPC_KEY_LEN] = { 7 };
	struct proto_ipc_scene_chunk c = { .session = 0x1122334455667788ull, .next_pos = 42, .total = 3 * 65536,
					   .offset = 65536, .host = host, .host_len = sizeof host,
					   .bytes = bytes, .bytes_len = PROTO_IPC_SCENE_CHUNK_MAX };
	int n = proto_ipc_encode_scene_chunk(&c, enc, sizeof enc);
	assert_int_equal(n, PROTO_IPC_MAXSZ_SCENE_CHUNK);
	struct proto_ipc_scene_chunk d;
	assert_int_equal(proto_ipc_decode_scene_chunk(enc, (size_t)n, &d, NULL), 0);
	assert_int_equal(d.session, c.session);
	assert_int_equal(d.next_pos, 42);
	assert_int_equal(d.total, c.total);
	assert_int_equal(d.offset, 65536);
	assert_int_equal(d.bytes_len, PROTO_IPC_SCENE_CHUNK_MAX);
	assert_int_equal(d.host_len, PROTO_IPC_KEY_LEN);
	/* One byte more than a chunk may carry is refused both ways. */
	c.bytes_len = PROTO_IPC_SCENE_CHUNK_MAX + 1;
	assert_int_equal(proto_ipc_encode_scene_chunk(&c, enc, sizeof enc), -EINVAL);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_SCENE_CHUNK, PROTO_IPC_CHAN_D2C), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_SCENE_CHUNK, PROTO_IPC_CHAN_C2D), -EPROTO);
	assert_int_equal(proto_ipc_desc(PROTO_IPC_T_SCENE_CHUNK)->cls, PROTO_IPC_RELIABLE);
	/* A snapshot's chunk count and offsets fit the u32 fields. */
	assert_true((uint64_t)PROTO_IPC_SCENE_SNAPSHOT_MAX <= UINT32_MAX);
}

static void scene_state_round_trips_and_is_ephemeral(void **state)
{
	(void)state;
	uint8_t h[PROTO_IPC_SCENE_HASH_LEN];
	for (unsigned i = 0; i < sizeof h; i++)
		h[i] = (uint8_t)(0xa0 + i);
	struct proto_ipc_scene_state s = { .next_pos = 1000, .world_hash = h, .world_hash_len = sizeof h, .entities = 12 };
	int n = proto_ipc_encode_scene_state(&s, enc, sizeof enc);
	assert_int_equal(n, 8 + 4 + 32 + 4);
	struct proto_ipc_scene_state d;
	assert_int_equal(proto_ipc_decode_scene_state(enc, (size_t)n, &d, NULL), 0);
	assert_int_equal(d.next_pos, 1000);
	assert_int_equal(d.entities, 12);
	assert_memory_equal(d.world_hash, h, sizeof h);
	assert_int_equal(proto_ipc_desc(PROTO_IPC_T_SCENE_STATE)->cls, PROTO_IPC_EPHEMERAL);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_SCENE_STATE, PROTO_IPC_CHAN_C2D), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_SCENE_STATE, PROTO_IPC_CHAN_D2C), -EPROTO);
	/* A hash longer than 32 bytes is refused. */
	uint8_t big[33] = { 0 };
	s.world_hash = big;
	s.world_hash_len = sizeof big;
	assert_int_equal(proto_ipc_encode_scene_state(&s, enc, sizeof enc), -EINVAL);
}

static void resync_scene_flag_is_checked(void **state)
{
	(void)state;
	struct proto_ipc_resync_request r = { .reason = PROTO_IPC_RESYNC_FROM, .session = 5, .next_pos = 9,
					      .flags = PROTO_IPC_RESYNC_F_SCENE };
	int n = proto_ipc_encode_resync_request(&r, enc, sizeof enc);
	assert_true(n > 0);
	struct proto_ipc_resync_request d;
	assert_int_equal(proto_ipc_decode_resync_request(enc, (size_t)n, &d, NULL), 0);
	assert_int_equal(d.flags, PROTO_IPC_RESYNC_F_SCENE);
	r.flags = 2; /* no such flag */
	assert_int_equal(proto_ipc_encode_resync_request(&r, enc, sizeof enc), -EINVAL);
	th_put_le32(enc + n - 4, 2);
	assert_int_equal(proto_ipc_decode_resync_request(enc, (size_t)n, &d, NULL), -EBADMSG);
}

static void refused_payload_round_trips_and_rejects_bad_ones(void **state)
{
	(void)state;
	struct proto_ipc_refused a = { .seq = 17, .lamport = 99, .reason = 2 }, b;
	memset(a.author, 0x5a, sizeof a.author);
	snprintf(a.text, sizeof a.text, "entity 12 does not exist");
	uint8_t buf[PROTO_IPC_REFUSED_SIZE_MAX];
	int n = proto_ipc_refused_encode(&a, buf, sizeof buf);
	assert_int_equal(n, 32 + 8 + 8 + 1 + 2 + (int)strlen(a.text));
	assert_int_equal(proto_ipc_refused_encode(&a, NULL, 0), n);
	assert_int_equal(proto_ipc_refused_decode(buf, (size_t)n, &b), 0);
	assert_memory_equal(b.author, a.author, sizeof a.author);
	assert_int_equal(b.seq, 17);
	assert_int_equal(b.lamport, 99);
	assert_int_equal(b.reason, 2);
	assert_string_equal(b.text, a.text);
	/* Every shorter prefix and a trailing byte are refused. */
	for (int k = 0; k < n; k++)
		assert_int_equal(proto_ipc_refused_decode(buf, (size_t)k, &b), -EBADMSG);
	uint8_t longer[PROTO_IPC_REFUSED_SIZE_MAX + 1];
	memcpy(longer, buf, (size_t)n);
	longer[n] = 'x';
	assert_int_equal(proto_ipc_refused_decode(longer, (size_t)n + 1, &b), -EBADMSG);
	/* A reason past the range, a control byte in the text, a text past its bound. */
	uint8_t bad[PROTO_IPC_REFUSED_SIZE_MAX + 8];
	memcpy(bad, buf, (size_t)n);
	bad[32 + 16] = PROTO_IPC_REFUSAL_MAX;
	assert_int_equal(proto_ipc_refused_decode(bad, (size_t)n, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)n);
	bad[n - 1] = '\n';
	assert_int_equal(proto_ipc_refused_decode(bad, (size_t)n, &b), -EBADMSG);
	memcpy(bad, buf, (size_t)n);
	th_put_le16(bad + 32 + 17, PROTO_IPC_REFUSED_TEXT_MAX + 1);
	assert_int_equal(proto_ipc_refused_decode(bad, 32 + 19 + PROTO_IPC_REFUSED_TEXT_MAX + 1, &b), -EBADMSG);
	a.reason = PROTO_IPC_REFUSAL_MAX;
	assert_int_equal(proto_ipc_refused_encode(&a, buf, sizeof buf), -EINVAL);
	a.reason = 1;
	a.text[0] = '\t';
	assert_int_equal(proto_ipc_refused_encode(&a, buf, sizeof buf), -EINVAL);
	a.text[0] = 'e';
	assert_int_equal(proto_ipc_refused_encode(&a, buf, 10), -ENOBUFS);
	/* The longest refusal fits an EVENT payload. */
	assert_true(PROTO_IPC_REFUSED_SIZE_MAX <= PROTO_IPC_MAX_EVENT);
}

int main(void)
{
	for (size_t i = 0; i < sizeof blob_src; i++)
		blob_src[i] = (uint8_t)(i * 31 + 7);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_def_entry_has_encoder_decoder_and_fields),
		cmocka_unit_test(every_message_round_trips),
		cmocka_unit_test(typed_ping_round_trips_with_known_bytes),
		cmocka_unit_test(truncated_messages_are_rejected),
		cmocka_unit_test(trailing_and_oversized_messages_are_rejected),
		cmocka_unit_test(unknown_type_is_rejected),
		cmocka_unit_test(every_field_rule_is_enforced),
		cmocka_unit_test(encoders_refuse_invalid_messages),
		cmocka_unit_test(channels_are_enforced),
		cmocka_unit_test(hello_frames_round_trip_and_check),
		cmocka_unit_test(mismatched_version_or_hash_is_named),
		cmocka_unit_test(hash_covers_the_canonical_text),
		cmocka_unit_test(scene_chunk_fits_a_ring_record),
		cmocka_unit_test(scene_state_round_trips_and_is_ephemeral),
		cmocka_unit_test(resync_scene_flag_is_checked),
		cmocka_unit_test(refused_payload_round_trips_and_rejects_bad_ones),
	};
	return cmocka_run_group_tests_name("proto_ipc", tests, NULL, NULL);
}
