/* web/js/ipc.js, the browser's codec of the local IPC's records, against
 * proto/ipc.c's: records of every message encoded in C (random valid
 * values) decode in node and encode back to the same bytes; records that
 * break a rule (truncated, trailing bytes, an enum past its max, a flag
 * outside its mask, a NaN, bad UTF-8, a NUL, a bad path, a length past its
 * limit) are refused by both; records node encodes from random values
 * decode in C and encode back alike; node refuses to encode a value past
 * its limit; EVENT_REFUSED and EVENT_REJECTED payloads (valid and broken)
 * read alike by ipc.js's decodeRefused / decodeRejected and C's decoders.
 * SKIP with the reason when node is missing. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "ipc.h"
#include "session.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_logtest.h"
#include "tw_node.h"

#define SCRIPT "tests/web/ipc_check.mjs"
#define ROUNDS 4u
#define REC_MAX (2u + PROTO_IPC_MAX_MSG)

static uint32_t seed = 12345;

static uint32_t rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8 ^ seed << 13;
}

/* Random valid UTF-8 of at most max bytes, no NUL. */
static size_t text(char *s, size_t max)
{
	static const char *const pieces[] = { "a", "Q", "9", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	size_t want = rnd() % (max + 1), n = 0;
	for (;;) {
		const char *p = pieces[rnd() % 7];
		size_t l = strlen(p);
		if (n + l > want)
			break;
		memcpy(s + n, p, l);
		n += l;
	}
	s[n] = 0;
	return n;
}

static uint8_t blob_store[64][PROTO_IPC_MAX_EVENT];

/* A message of desc d with random valid fields in msg. */
static void fill(const struct proto_ipc_desc *d, void *msg)
{
	memset(msg, 0, d->struct_size);
	size_t n;
	const struct proto_ipc_field *f = d->fields(&n);
	uint8_t *m = msg;
	for (size_t i = 0; i < n; i++) {
		uint8_t *at = m + f[i].offset;
		switch (f[i].kind) {
		case PROTO_IPC_F_U16: {
			uint16_t v = (uint16_t)rnd();
			memcpy(at, &v, 2);
			break;
		}
		case PROTO_IPC_F_U32: {
			uint32_t v = rnd();
			memcpy(at, &v, 4);
			break;
		}
		case PROTO_IPC_F_U64: {
			uint64_t v = (uint64_t)rnd() << 40 ^ (uint64_t)rnd() << 16 ^ rnd();
			memcpy(at, &v, 8);
			break;
		}
		case PROTO_IPC_F_F32: {
			float v = (float)((int32_t)rnd()) / 1024.0f;
			memcpy(at, &v, 4);
			break;
		}
		case PROTO_IPC_F_ENUM: {
			uint32_t v = rnd() % (f[i].limit + 1u);
			memcpy(at, &v, 4);
			break;
		}
		case PROTO_IPC_F_FLAGS: {
			uint32_t v = rnd() & f[i].limit;
			memcpy(at, &v, 4);
			break;
		}
		case PROTO_IPC_F_STR:
			text((char *)at, f[i].limit);
			break;
		case PROTO_IPC_F_PATH:
			snprintf((char *)at, f[i].limit + 1, "%s", rnd() % 3 ? "/interaction_profiles/khr/simple_controller" : "");
			break;
		case PROTO_IPC_F_LIST:
			snprintf((char *)at, f[i].limit + 1, "%s", rnd() % 3 ? "alice\nbob\nzo\xc3\xab" : "");
			break;
		case PROTO_IPC_F_BLOB: {
			uint8_t *b = blob_store[i % 64];
			uint32_t len = rnd() % 8 == 0 ? f[i].limit : rnd() % (f[i].limit < 300 ? f[i].limit + 1 : 300);
			for (uint32_t k = 0; k < len; k++)
				b[k] = (uint8_t)rnd();
			memcpy(at, &b, sizeof b);
			memcpy(m + f[i].len_offset, &len, 4);
			break;
		}
		}
	}
}

/* Wire offset of field k in an encoded body (the fields before it walked). */
static size_t field_offset(const struct proto_ipc_desc *d, const uint8_t *body, size_t k)
{
	size_t n, off = 0;
	const struct proto_ipc_field *f = d->fields(&n);
	for (size_t i = 0; i < k; i++) {
		switch (f[i].kind) {
		case PROTO_IPC_F_U16: off += 2; break;
		case PROTO_IPC_F_U64: off += 8; break;
		case PROTO_IPC_F_STR:
		case PROTO_IPC_F_PATH:
		case PROTO_IPC_F_LIST: off += 2 + (size_t)(body[off] | body[off + 1] << 8); break;
		case PROTO_IPC_F_BLOB: off += 4 + (size_t)th_get_le32(body + off); break;
		default: off += 4; break;
		}
	}
	return off;
}

struct recs {
	struct th_wbuf w;
	unsigned n, valid;
	uint8_t expect[4096];
};

static void put(struct recs *r, const uint8_t *rec, size_t len, bool valid)
{
	th_wbuf_u32(&r->w, (uint32_t)len);
	th_wbuf_put(&r->w, rec, len);
	th_wbuf_u8(&r->w, valid);
	assert_true(r->n < sizeof r->expect);
	r->expect[r->n++] = valid;
	r->valid += valid;
}

/* rec[len] (type + body) that C's decoder must refuse, listed as invalid. */
static void put_bad(struct recs *r, uint8_t *rec, size_t len)
{
	union proto_ipc_any *any = malloc(sizeof *any);
	const char *why = NULL;
	assert_non_null(any);
	int d = proto_ipc_decode((uint16_t)(rec[0] | rec[1] << 8), rec + 2, len - 2, any, &why);
	free(any);
	if (d == 0)
		fprintf(stderr, "C accepted a bad record of type %u\n", rec[0] | rec[1] << 8);
	assert_int_not_equal(d, 0);
	put(r, rec, len, false);
}

static void bad_variants(struct recs *r, const struct proto_ipc_desc *d, const uint8_t *rec, size_t len)
{
	static uint8_t b[REC_MAX + 8];
	size_t n;
	const struct proto_ipc_field *f = d->fields(&n);
	if (len > 2) { /* one byte short */
		memcpy(b, rec, len - 1);
		put_bad(r, b, len - 1);
	}
	memcpy(b, rec, len); /* one byte too many */
	b[len] = 0;
	put_bad(r, b, len + 1);
	for (size_t k = 0; k < n; k++) {
		memcpy(b, rec, len);
		size_t off = 2 + field_offset(d, rec + 2, k);
		switch (f[k].kind) {
		case PROTO_IPC_F_ENUM:
			if (f[k].limit == UINT32_MAX)
				continue;
			th_put_le32(b + off, f[k].limit + 1);
			break;
		case PROTO_IPC_F_FLAGS:
			if (f[k].limit == UINT32_MAX)
				continue;
			th_put_le32(b + off, ~f[k].limit);
			break;
		case PROTO_IPC_F_F32:
			th_put_le32(b + off, 0x7fc00000u); /* NaN */
			break;
		case PROTO_IPC_F_STR:
		case PROTO_IPC_F_PATH:
		case PROTO_IPC_F_LIST: {
			size_t sl = b[off] | b[off + 1] << 8;
			if (sl == 0)
				continue;
			b[off + 2] = 0xff; /* not UTF-8 */
			put_bad(r, b, len);
			b[off + 2] = 0; /* a NUL */
			put_bad(r, b, len);
			if (f[k].kind == PROTO_IPC_F_PATH) {
				b[off + 2] = 'A'; /* not a path's character */
				put_bad(r, b, len);
			}
			b[off + 2] = rec[off + 2];
			b[off] = (uint8_t)(f[k].limit + 1), b[off + 1] = (uint8_t)((f[k].limit + 1) >> 8); /* too long */
			break;
		}
		case PROTO_IPC_F_BLOB:
			th_put_le32(b + off, f[k].limit + 1);
			break;
		default:
			continue;
		}
		put_bad(r, b, len);
	}
}

static char *node_out(const char *const *argv)
{
	char *out = NULL;
	int st = twn_run(argv, &out);
	assert_non_null(out);
	if (st != 0)
		fprintf(stderr, "ipc_check said:\n%s", out);
	assert_int_equal(st, 0);
	return out;
}

static void test_c_records_decode_in_js(void **state)
{
	const char *why = twn_missing(false);
	if (why) {
		printf("SKIP: %s\n", why);
		skip();
	}
	struct th_tmpdir *td = *state;
	struct recs *r = calloc(1, sizeof *r);
	assert_non_null(r);
	th_wbuf_init(&r->w, 0);
	union proto_ipc_any *msg = malloc(sizeof *msg);
	static uint8_t rec[REC_MAX];
	assert_non_null(msg);
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		const struct proto_ipc_desc *d = &proto_ipc_descs[i];
		for (unsigned k = 0; k < ROUNDS; k++) {
			fill(d, msg);
			int n = d->encode(msg, rec + 2, sizeof rec - 2);
			assert_true(n >= 0);
			th_put_le16(rec, d->type);
			put(r, rec, (size_t)n + 2, true);
			if (k == 0)
				bad_variants(r, d, rec, (size_t)n + 2);
		}
	}
	free(msg);
	char path[4200];
	snprintf(path, sizeof path, "%s/records", td->path);
	assert_int_equal(lt_write_file(path, r->w.data, r->w.len), 0);
	const char *argv[] = { SCRIPT, "decode", path, NULL };
	char *out = node_out(argv);
	/* Line by line: valid ones come back as the same bytes, bad ones refused. */
	const uint8_t *p = r->w.data;
	const char *line = out;
	for (unsigned i = 0; i < r->n; i++) {
		assert_non_null(line);
		uint32_t len = th_get_le32(p);
		const uint8_t *recp = p + 4;
		p += 4 + len + 1;
		if (r->expect[i]) {
			if (strncmp(line, "ok ", 3))
				fprintf(stderr, "record %u (type %u): %.*s\n", i, recp[0] | recp[1] << 8, (int)strcspn(line, "\n"),
					line);
			assert_int_equal(strncmp(line, "ok ", 3), 0);
			size_t hl = strcspn(line + 3, "\n");
			assert_int_equal(hl, 2u * len);
			static uint8_t back[REC_MAX];
			assert_int_equal(th_hex_decode(line + 3, hl, back, len, true), 0);
			assert_memory_equal(back, recp, len);
		} else {
			if (strncmp(line, "bad ", 4))
				fprintf(stderr, "record %u (type %u) should be refused: %.60s\n", i, recp[0] | recp[1] << 8,
					line);
			assert_int_equal(strncmp(line, "bad ", 4), 0);
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	printf("%u records decoded alike in C and JS (%u valid, %u refused by both)\n", r->n, r->valid,
	       r->n - r->valid);
	free(out);
	th_wbuf_fini(&r->w);
	free(r);
}

static void test_js_records_decode_in_c(void **state)
{
	(void)state;
	const char *why = twn_missing(false);
	if (why) {
		printf("SKIP: %s\n", why);
		skip();
	}
	const char *argv[] = { SCRIPT, "gen", "777", "4", NULL };
	char *out = node_out(argv);
	union proto_ipc_any *msg = malloc(sizeof *msg);
	assert_non_null(msg);
	static uint8_t rec[REC_MAX], again[REC_MAX];
	unsigned nrec = 0, refused = 0;
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, "accepted ", 9)) {
			fprintf(stderr, "ipc.js encoded a value past its limit: %.80s\n", l);
			fail();
		}
		if (!strncmp(l, "refused ", 8)) {
			refused++;
			continue;
		}
		assert_int_equal(strncmp(l, "rec ", 4), 0);
		const char *h = strchr(l + 4, ' ') + 1;
		size_t hl = strcspn(h, "\n");
		assert_true(hl / 2 <= sizeof rec && hl >= 4);
		assert_int_equal(th_hex_decode(h, hl, rec, hl / 2, true), 0);
		uint16_t type = (uint16_t)(rec[0] | rec[1] << 8);
		const char *dwhy = NULL;
		int r = proto_ipc_decode(type, rec + 2, hl / 2 - 2, msg, &dwhy);
		if (r != 0)
			fprintf(stderr, "C refused ipc.js's %.*s: %s\n", (int)(h - l - 5), l + 4, dwhy ? dwhy : "?");
		assert_int_equal(r, 0);
		int n = proto_ipc_encode(type, msg, again, sizeof again);
		assert_int_equal((size_t)n, hl / 2 - 2);
		assert_memory_equal(again, rec + 2, (size_t)n);
		nrec++;
	}
	assert_int_equal(nrec, 4 * proto_ipc_n_descs);
	assert_true(refused > 0);
	printf("%u records from ipc.js decoded in C; %u over-limit values refused by ipc.js\n", nrec, refused);
	free(msg);
	free(out);
}

/* ---- EVENT_REFUSED / EVENT_REJECTED payloads ---------------------------------------------- */

#define PL_KIND_REFUSED 1
#define PL_KIND_REJECTED 2
#define PL_MAX (PROTO_IPC_REFUSED_SIZE_MAX > PROTO_SESS_REJECTED_EVENT_MAX ? PROTO_IPC_REFUSED_SIZE_MAX \
									    : PROTO_SESS_REJECTED_EVENT_MAX)

struct pl_case {
	uint8_t kind;
	uint32_t len;
	uint8_t p[PL_MAX + 1];
};

static void printable_text(char *t, size_t max)
{
	size_t n = rnd() % (max + 1);
	for (size_t i = 0; i < n; i++)
		t[i] = (char)(0x20 + rnd() % 95);
	t[n] = 0;
}

/* What C's decoder reads of c: "ok ..." as ipc_check.mjs prints it, or "bad". */
static void pl_expect(const struct pl_case *c, char *out, size_t cap)
{
	const uint8_t *author;
	uint64_t seq, lamport;
	unsigned reason;
	const char *text;
	struct proto_ipc_refused rf;
	struct proto_sess_rejected rj;
	if (c->kind == PL_KIND_REFUSED) {
		if (proto_ipc_refused_decode(c->p, c->len, &rf) < 0) {
			snprintf(out, cap, "bad");
			return;
		}
		author = rf.author, seq = rf.seq, lamport = rf.lamport, reason = rf.reason, text = rf.text;
	} else {
		if (proto_sess_rejected_event_decode(c->p, c->len, &rj) < 0) {
			snprintf(out, cap, "bad");
			return;
		}
		author = rj.author, seq = rj.seq, lamport = rj.lamport, reason = rj.reason, text = rj.text;
	}
	char ah[2 * PROTO_IPC_KEY_LEN + 1], th[2 * PL_MAX + 1];
	th_hex_encode(author, PROTO_IPC_KEY_LEN, ah);
	th_hex_encode((const uint8_t *)text, strlen(text), th);
	snprintf(out, cap, "ok %s %" PRIu64 " %" PRIu64 " %u %s", ah, seq, lamport, reason, th);
}

static void test_event_payloads_decode_alike(void **state)
{
	const char *why = twn_missing(false);
	if (why) {
		printf("SKIP: %s\n", why);
		skip();
	}
	struct th_tmpdir *td = *state;
	enum { GOOD = 24, VARIANTS = 6 };
	struct pl_case *cs = calloc(2 * GOOD * VARIANTS, sizeof *cs);
	assert_non_null(cs);
	size_t n = 0;
	for (unsigned i = 0; i < 2 * GOOD; i++) {
		struct pl_case c = { .kind = i < GOOD ? PL_KIND_REFUSED : PL_KIND_REJECTED };
		int len;
		size_t fixed, reason_at, reason_width;
		if (c.kind == PL_KIND_REFUSED) {
			struct proto_ipc_refused m = { .seq = 1 + rnd(), .lamport = (uint64_t)rnd() << 32 | rnd(),
						       .reason = (uint8_t)(rnd() % PROTO_IPC_REFUSAL_MAX) };
			for (unsigned k = 0; k < PROTO_IPC_KEY_LEN; k++)
				m.author[k] = (uint8_t)rnd();
			printable_text(m.text, PROTO_IPC_REFUSED_TEXT_MAX);
			len = proto_ipc_refused_encode(&m, c.p, sizeof c.p);
			fixed = PROTO_IPC_KEY_LEN + 8 + 8 + 1 + 2, reason_at = PROTO_IPC_KEY_LEN + 16, reason_width = 1;
		} else {
			struct proto_sess_rejected m = { .seq = 1 + rnd(), .lamport = (uint64_t)rnd() << 32 | rnd(),
							 .reason = (uint16_t)(rnd() % (PROTO_SESS_REJECT_REASON_MAX + 1)) };
			for (unsigned k = 0; k < PROTO_SESS_KEY_LEN; k++)
				m.author[k] = (uint8_t)rnd();
			printable_text(m.text, PROTO_SESS_REJECT_TEXT_MAX);
			len = proto_sess_rejected_event_encode(&m, c.p, sizeof c.p);
			fixed = PROTO_SESS_KEY_LEN + 8 + 8 + 4 + 2, reason_at = PROTO_SESS_KEY_LEN + 16, reason_width = 4;
		}
		assert_true(len > 0);
		c.len = (uint32_t)len;
		cs[n++] = c; /* as encoded */
		struct pl_case b = c;
		b.len--; /* one byte short */
		cs[n++] = b;
		b = c;
		b.p[b.len++] = 'x'; /* one byte too many */
		cs[n++] = b;
		b = c; /* a reason past the last */
		if (reason_width == 1)
			b.p[reason_at] = PROTO_IPC_REFUSAL_MAX;
		else
			th_put_le32(b.p + reason_at, PROTO_SESS_REJECT_REASON_MAX + 1);
		cs[n++] = b;
		b = c; /* seq 0: EVENT_REJECTED's decoder refuses it, EVENT_REFUSED's does not */
		memset(b.p + PROTO_IPC_KEY_LEN, 0, 8);
		cs[n++] = b;
		if (c.len > fixed) { /* a control character in the text */
			b = c;
			b.p[fixed] = 0x07;
			cs[n++] = b;
		}
	}
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	for (size_t i = 0; i < n; i++) {
		th_wbuf_u8(&w, cs[i].kind);
		th_wbuf_u32(&w, cs[i].len);
		th_wbuf_put(&w, cs[i].p, cs[i].len);
	}
	assert_int_equal(th_wbuf_error(&w), 0);
	char path[4200];
	snprintf(path, sizeof path, "%s/payloads", td->path);
	assert_int_equal(lt_write_file(path, w.data, w.len), 0);
	th_wbuf_fini(&w);
	const char *argv[] = { SCRIPT, "payloads", path, NULL };
	char *out = node_out(argv);
	unsigned good = 0, bad = 0;
	const char *line = out;
	for (size_t i = 0; i < n; i++) {
		assert_non_null(line);
		static char want[64 + 2 * PL_MAX + 128];
		pl_expect(&cs[i], want, sizeof want);
		size_t ll = strcspn(line, "\n");
		bool same = !strcmp(want, "bad") ? !strncmp(line, "bad ", 4)
						 : ll == strlen(want) && !strncmp(line, want, ll);
		if (!same)
			fprintf(stderr, "payload %zu (kind %u): C read %.80s, ipc.js %.*s\n", i, cs[i].kind, want, (int)ll,
				line);
		assert_true(same);
		if (!strcmp(want, "bad"))
			bad++;
		else
			good++;
		line = line[ll] ? line + ll + 1 : NULL;
	}
	assert_int_equal(good, 3 * GOOD);  /* as encoded, and EVENT_REFUSED with seq 0 (its decoder has no rule on it) */
	assert_true(bad >= 7 * GOOD); /* short, long, reason (both), seq 0 (rejected), and most control characters */
	printf("%zu EVENT_REFUSED/REJECTED payloads read alike (%u valid, %u refused by both)\n", n, good, bad);
	free(out);
	free(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_c_records_decode_in_js, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test(test_js_records_decode_in_c),
		cmocka_unit_test_setup_teardown(test_event_payloads_decode_alike, th_tmpdir_setup, th_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
