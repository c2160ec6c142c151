/* proto/session: the commands-stream messages (ENTRIES with real signed
 * log entries, SYNC vectors) and the DATAGRAM payloads (heartbeats, poses):
 * round trips, canonical re-encoding, and refusal of malformed bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "session.h"
#include "th_cmd.h"
#include "th_logrec.h"

static void make_entry(struct th_logrec_entry *e, const struct th_keypair *kp, uint64_t seq, const uint8_t *payload,
		       uint32_t len, bool sign)
{
	memset(e, 0, sizeof(*e));
	e->version = TH_LOGREC_VERSION;
	e->type = TH_CMD_COMPONENT_WRITE;
	e->scope_kind = th_cmd_find(TH_CMD_COMPONENT_WRITE)->scope;
	e->scope_id = 9;
	e->lamport = 10 + seq;
	e->seq = seq;
	e->base = 1;
	e->time_ns = 123;
	memcpy(e->author, kp->pk, 32);
	if (seq > 1)
		memset(e->prev, 0x33, 32);
	e->payload = payload;
	e->payload_len = len;
	if (sign) {
		uint8_t h[32];
		th_logrec_entry_hash(e, h);
		th_logrec_sign(h, kp->sk, e->sig);
		e->has_sig = true;
	}
}

static void entries_round_trip_with_signatures_and_flags(void **state)
{
	struct th_keypair kp;
	th_keypair_generate(&kp);
	uint8_t pl[3][40];
	struct th_logrec_entry es[3];
	for (int i = 0; i < 3; i++) {
		memset(pl[i], 'a' + i, sizeof(pl[i]));
		make_entry(&es[i], &kp, (uint64_t)i + 1, pl[i], (uint32_t)(10 + i), i == 2);
	}
	struct th_wbuf w;
	struct proto_sess_entries_build b;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_entries_begin(&b, &w, PROTO_SESS_ENTRIES_F_MORE), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(proto_sess_entries_add(&b, &es[i]), 0);
	assert_int_equal(proto_sess_entries_end(&b), 0);

	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &m), 0);
	assert_int_equal(m.type, PROTO_SESS_T_ENTRIES);
	assert_int_equal(m.u.entries.count, 3);
	assert_int_equal(m.u.entries.flags, PROTO_SESS_ENTRIES_F_MORE);
	struct proto_sess_entries_iter it;
	struct th_logrec_entry e;
	proto_sess_entries_iter_init(&it, &m.u.entries);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(proto_sess_entries_next(&it, &e), 1);
		assert_int_equal(e.seq, (uint64_t)i + 1);
		assert_int_equal(e.payload_len, 10 + i);
		assert_memory_equal(e.payload, pl[i], e.payload_len);
		assert_int_equal(e.has_sig, i == 2);
		if (i == 2) {
			uint8_t h[32];
			th_logrec_entry_hash(&e, h);
			assert_int_equal(th_logrec_verify(h, kp.pk, e.sig), 0);
		}
	}
	assert_int_equal(proto_sess_entries_next(&it, &e), 0);

	/* Canonical: decode then encode gives the same bytes. */
	struct th_wbuf w2;
	th_wbuf_init(&w2, 0);
	assert_int_equal(proto_sess_encode(&m, &w2), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.data, w.data, w.len);
	th_wbuf_fini(&w2);
	th_wbuf_fini(&w);
}

static void malformed_entries_are_refused(void **state)
{
	struct th_keypair kp;
	th_keypair_generate(&kp);
	uint8_t pl[8] = { 0 };
	struct th_logrec_entry e;
	make_entry(&e, &kp, 1, pl, sizeof(pl), true);
	struct th_wbuf w;
	struct proto_sess_entries_build b;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_entries_begin(&b, &w, 0), 0);
	assert_int_equal(proto_sess_entries_end(&b), -EINVAL); /* empty */
	assert_int_equal(proto_sess_entries_begin(&b, &w, 0), 0);
	assert_int_equal(proto_sess_entries_add(&b, &e), 0);
	assert_int_equal(proto_sess_entries_end(&b), 0);
	uint8_t *p = w.data + 4;
	size_t n = w.len - 4;
	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(p, n, &m), 0);
	/* Every truncation fails. */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(proto_sess_decode(p, k, &m), -EBADMSG);
	/* Unknown flag bits, a zero count, a bad signed marker, an unknown
	 * command type inside the entry. */
	p[2] = 0x80;
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	p[2] = 0;
	p[3] = 0, p[4] = 0;
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	p[3] = 1;
	size_t sflag = 2 + 1 + 2 + 4 + TH_LOGREC_FIXED_LEN + sizeof(pl);
	p[sflag] = 2;
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	p[sflag] = 1;
	p[2 + 1 + 2 + 4 + 2] = 0xee; /* type low byte */
	p[2 + 1 + 2 + 4 + 3] = 0xee;
	assert_int_equal(proto_sess_decode(p, n, &m), -EBADMSG);
	th_wbuf_fini(&w);
}

static void sync_vectors_are_sorted_and_positive(void **state)
{
	struct proto_sess_sync_head heads[3] = { { .seq = 5 }, { .seq = 1 }, { .seq = 99 } };
	for (int i = 0; i < 3; i++) {
		memset(heads[i].key, i + 1, 32);
		memset(heads[i].hash, 0xa0 + i, 32);
	}
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_sync_encode(&w, heads, 3), 0);
	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &m), 0);
	assert_int_equal(m.type, PROTO_SESS_T_SYNC);
	assert_int_equal(m.u.sync.n, 3);
	struct proto_sess_sync_head h;
	proto_sess_sync_item(&m.u.sync, 2, &h);
	assert_memory_equal(h.key, heads[2].key, 32);
	assert_int_equal(h.seq, 99);
	assert_memory_equal(h.hash, heads[2].hash, 32);
	proto_sess_sync_item(&m.u.sync, 0, &h);
	assert_memory_equal(h.hash, heads[0].hash, 32);
	struct th_wbuf w2;
	th_wbuf_init(&w2, 0);
	assert_int_equal(proto_sess_encode(&m, &w2), 0);
	assert_memory_equal(w2.data, w.data, w.len);
	th_wbuf_fini(&w2);
	/* A truncated item is refused. */
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4 - 1, &m), -EBADMSG);
	/* Out of order, duplicate or zero entries are refused both ways. */
	uint8_t *p = w.data + 4;
	memcpy(p + 6 + PROTO_SESS_SYNC_ITEM, heads[0].key, 32);
	assert_int_equal(proto_sess_decode(p, w.len - 4, &m), -EBADMSG);
	heads[1].seq = 0;
	assert_int_equal(proto_sess_sync_encode(&w, heads, 3), -EINVAL);
	memcpy(heads[1].key, heads[0].key, 32);
	heads[1].seq = 1;
	assert_int_equal(proto_sess_sync_encode(&w, heads, 3), -EINVAL);
	assert_int_equal(proto_sess_sync_encode(&w, NULL, PROTO_SESS_SYNC_MAX + 1), -E2BIG);
	/* An empty vector is fine: "I have nothing". */
	th_wbuf_reset(&w);
	assert_int_equal(proto_sess_sync_encode(&w, NULL, 0), 0);
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &m), 0);
	assert_int_equal(m.u.sync.n, 0);
	th_wbuf_fini(&w);
}

static void datagrams_round_trip_and_refuse_bad_voice(void **state)
{
	uint8_t b[PROTO_SESS_DGRAM_MAX];
	const uint8_t opus[3] = { 0xf8, 0xff, 0xfe };
	struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_VOICE, .seq = 9, .ts = 960, .vflags = PROTO_SESS_VOICE_F_SPEECH,
				      .opus = opus, .opus_len = sizeof opus }, o;
	memset(d.author, 0xab, 32);
	int n = proto_sess_dgram_encode(&d, b, sizeof(b));
	assert_int_equal(n, 1 + 32 + 4 + 4 + 1 + 2 + 3);
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &o), 0);
	assert_int_equal(o.kind, PROTO_SESS_DG_VOICE);
	assert_memory_equal(o.author, d.author, 32);
	assert_int_equal(o.seq, 9);
	assert_int_equal(o.vflags, PROTO_SESS_VOICE_F_SPEECH);
	assert_int_equal(o.opus_len, 3);
	for (int k = 0; k < n; k++)
		assert_int_equal(proto_sess_dgram_decode(b, (size_t)k, &o), -EBADMSG);
	uint8_t big[PROTO_SESS_DGRAM_MAX + 1];
	memcpy(big, b, (size_t)n);
	assert_int_equal(proto_sess_dgram_decode(big, (size_t)n + 1, &o), -EBADMSG);
	d.vflags = PROTO_SESS_VOICE_F_ALL + 1;
	assert_int_equal(proto_sess_dgram_encode(&d, b, sizeof(b)), -EINVAL);
	d.vflags = 0;
	d.opus_len = PROTO_SESS_VOICE_OPUS_MAX + 1;
	assert_true(proto_sess_dgram_encode(&d, b, sizeof(b)) < 0);

	struct proto_sess_dgram ping = { .kind = PROTO_SESS_DG_PONG, .seq = 7, .echo_t_ns = 8, .t_ns = 9 };
	n = proto_sess_dgram_encode(&ping, b, sizeof(b));
	assert_int_equal(n, 25);
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &o), 0);
	assert_int_equal(o.seq, 7);
	assert_int_equal(o.echo_t_ns, 8);
	b[0] = 77;
	assert_int_equal(proto_sess_dgram_decode(b, (size_t)n, &o), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_round_trip_with_signatures_and_flags),
		cmocka_unit_test(malformed_entries_are_refused),
		cmocka_unit_test(sync_vectors_are_sorted_and_positive),
		cmocka_unit_test(datagrams_round_trip_and_refuse_bad_voice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
