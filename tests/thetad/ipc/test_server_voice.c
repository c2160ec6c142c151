/* thetad/ipc/server: the voice rings (docs/ipc.md "Voice rings"). A test
 * client's VOICE_PCM chunks reach on_voice_pcm through the shared
 * client->daemon doorbell, VOICE_STATE reaches on_voice_state with the
 * client's uid, chunks of another size or on the wrong ring drop the client
 * as a violation, a full daemon->client voice ring drops and counts, and a
 * flooding client is served in bounded batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipc_tcli.h"
#include "th_buf.h"
#include "th_err.h"

#include <json-c/json.h>

#define CHUNKS_MAX 256

struct voice_log {
	unsigned chunks;
	uint32_t seq[CHUNKS_MAX];
	uint64_t t_ns[CHUNKS_MAX];
	int16_t first[CHUNKS_MAX], last[CHUNKS_MAX];
	uint32_t bad_len; /* chunks whose pcm_len was not one chunk's */
	unsigned states;
	uint32_t flags;
	uid_t uid;
	uint64_t client;
	unsigned gone, main_gone;
};

static void on_pcm(void *user, uint64_t id, const struct proto_ipc_voice_pcm *m, uint64_t now_ns)
{
	struct voice_log *v = user;
	if (m->pcm_len != PROTO_IPC_VOICE_PCM_BYTES)
		v->bad_len++;
	if (v->chunks < CHUNKS_MAX) {
		v->seq[v->chunks] = m->seq;
		v->t_ns[v->chunks] = m->t_ns;
		v->first[v->chunks] = (int16_t)th_get_le16(m->pcm);
		v->last[v->chunks] = (int16_t)th_get_le16(m->pcm + PROTO_IPC_VOICE_PCM_BYTES - 2);
	}
	v->chunks++;
	v->client = id;
}

static void on_state(void *user, uint64_t id, uid_t uid, const struct proto_ipc_voice_state *m, uint64_t now_ns)
{
	struct voice_log *v = user;
	v->states++;
	v->flags = m->flags;
	v->uid = uid;
	v->client = id;
}

static void on_gone(void *user, uint64_t id)
{
	((struct voice_log *)user)->gone++;
}

static void on_main_gone(void *user, uint64_t id)
{
	((struct voice_log *)user)->main_gone++;
}

static void listen_voice(struct env *e, struct voice_log *v)
{
	memset(v, 0, sizeof *v);
	struct ipc_voice_callbacks cb = { .on_voice_pcm = on_pcm, .on_voice_state = on_state, .on_disconnect = on_gone };
	ipc_server_set_voice(e->srv, &cb, v);
	struct ipc_callbacks mcb = { .on_disconnect = on_main_gone };
	ipc_server_set_callbacks(e->srv, &mcb, v);
}

/* The log lives on the test's stack: no callback may reach it after. */
static void unlisten(struct env *e)
{
	ipc_server_set_voice(e->srv, NULL, NULL);
	ipc_server_set_callbacks(e->srv, NULL, NULL);
}

/* Writes a record of `type` with `len` payload bytes on the client's voice
 * (voice true) or main ring and publishes it, ringing the doorbell. */
static void put_record(struct tcli *c, bool voice, uint16_t type, const uint8_t *p, uint32_t len)
{
	assert_int_equal(th_ring_send(voice ? &c->vout : &c->out, type, p, len), 0);
	assert_true(th_ring_flush(voice ? &c->vout : &c->out) >= 0);
}

/* A VOICE_PCM chunk whose samples run from `base` upwards. */
static int chunk(uint8_t *buf, size_t cap, uint32_t seq, int16_t base, uint32_t samples)
{
	static uint8_t pcm[PROTO_IPC_VOICE_PCM_BYTES + 64];
	assert_true(samples * 2 <= sizeof pcm);
	for (uint32_t i = 0; i < samples; i++)
		th_put_le16(pcm + 2 * i, (uint16_t)(int16_t)(base + (int16_t)i));
	/* Encoded by hand so that a wrong size can be written too. */
	if (cap < 16 + samples * 2)
		return -ENOBUFS;
	th_put_le32(buf, seq);
	th_put_le64(buf + 4, 1000000ull * seq);
	th_put_le32(buf + 12, samples * 2);
	memcpy(buf + 16, pcm, samples * 2);
	return (int)(16 + samples * 2);
}

static bool pump_until(struct env *e, const unsigned *counter, unsigned want)
{
	uint64_t end = th_now_ns() + 10 * TH_NS_PER_S;
	while (*counter < want && th_now_ns() < end)
		th_loop_run_once(e->loop, 5);
	return *counter >= want;
}

static void voice_chunks_reach_the_callback_on_the_shared_doorbell(void **state)
{
	struct env *e = *state;
	struct voice_log v;
	listen_voice(e, &v);
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	uint8_t b[PROTO_IPC_VOICE_MAX_RECORD];
	/* One at a time: each wakes the sleeping loop through the doorbell the
	 * main ring uses. */
	for (uint32_t s = 0; s < 20; s++) {
		int n = chunk(b, sizeof b, s, (int16_t)(100 * s), PROTO_IPC_VOICE_SAMPLES);
		put_record(&c, true, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n);
		assert_true(pump_until(e, &v.chunks, s + 1));
	}
	/* Mixed with main-ring traffic. */
	for (uint32_t s = 20; s < 40; s++) {
		int n = chunk(b, sizeof b, s, (int16_t)(100 * s), PROTO_IPC_VOICE_SAMPLES);
		put_record(&c, true, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n);
		tcli_ping(&c, s);
		expect_pong(e, &c, s);
	}
	assert_true(pump_until(e, &v.chunks, 40));
	assert_int_equal(v.chunks, 40);
	assert_int_equal(v.bad_len, 0);
	assert_int_equal(v.client, c.id);
	for (uint32_t s = 0; s < 40; s++) {
		assert_int_equal(v.seq[s], s);
		assert_int_equal(v.t_ns[s], 1000000ull * s);
		assert_int_equal(v.first[s], (int16_t)(100 * s));
		assert_int_equal(v.last[s], (int16_t)(100 * s + PROTO_IPC_VOICE_SAMPLES - 1));
	}
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.voice_in, 40);
	assert_int_equal(t.violations, 0);
	tcli_close(&c);
	pump(e, 5);
	assert_int_equal(v.gone, 1);
	assert_int_equal(v.main_gone, 1);
	unlisten(e);
}

static void voice_state_reaches_the_callback_and_clients(void **state)
{
	struct env *e = *state;
	struct voice_log v;
	listen_voice(e, &v);
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	uint32_t flags = 99;
	assert_int_equal(ipc_server_voice_state(e->srv, c.id, &flags), -ENODATA);
	assert_int_equal(ipc_server_voice_state(e->srv, c.id + 100, &flags), -ENOENT);
	struct proto_ipc_voice_state m = { .flags = PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT };
	uint8_t b[16];
	int n = proto_ipc_encode_voice_state(&m, b, sizeof b);
	put_record(&c, false, PROTO_IPC_T_VOICE_STATE, b, (uint32_t)n);
	assert_true(pump_until(e, &v.states, 1));
	assert_int_equal(v.flags, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT);
	assert_int_equal(v.uid, getuid());
	assert_int_equal(v.client, c.id);
	assert_int_equal(ipc_server_voice_state(e->srv, c.id, &flags), 0);
	assert_int_equal(flags, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT);
	struct json_object *a = ipc_server_clients_json(e->srv, (uid_t)-1, th_now_ns());
	struct json_object *o = json_object_array_get_idx(a, 0), *vo, *f;
	assert_true(json_object_object_get_ex(o, "voice", &vo));
	assert_true(json_object_object_get_ex(vo, "flags", &f));
	assert_int_equal(json_object_get_int(f), PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT);
	json_object_put(a);
	tcli_close(&c);
	unlisten(e);
}

enum bad_voice { BV_SHORT, BV_LONG, BV_EMPTY, BV_PCM_ON_MAIN, BV_STATE_ON_VOICE, BV_PING_ON_VOICE, BV_BAD_FLAGS, BV_COUNT };
static const char *const bad_voice_name[BV_COUNT] = {
	"a chunk one sample short", "a chunk one sample long", "an empty chunk", "VOICE_PCM on the main ring",
	"VOICE_STATE on the voice ring", "PING on the voice ring", "VOICE_STATE with unknown flags",
};

static void bad_voice_records_drop_the_client(void **state)
{
	struct env *e = *state;
	struct voice_log v;
	listen_voice(e, &v);
	for (int k = 0; k < BV_COUNT; k++) {
		struct tcli c, other;
		assert_int_equal(tcli_connect(e, &c, 0), 0);
		assert_int_equal(tcli_connect(e, &other, 0), 0);
		struct ipc_totals t0, t1;
		ipc_server_totals(e->srv, &t0);
		uint8_t b[PROTO_IPC_VOICE_MAX_RECORD + 64];
		int n;
		switch ((enum bad_voice)k) {
		case BV_SHORT:
			n = chunk(b, sizeof b, 1, 0, PROTO_IPC_VOICE_SAMPLES - 1);
			put_record(&c, true, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n);
			break;
		case BV_LONG:
			/* The decoder refuses more than one chunk's bytes. */
			n = chunk(b, sizeof b, 1, 0, PROTO_IPC_VOICE_SAMPLES + 1);
			put_record(&c, true, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n);
			break;
		case BV_EMPTY:
			n = chunk(b, sizeof b, 1, 0, 0);
			put_record(&c, true, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n);
			break;
		case BV_PCM_ON_MAIN:
			n = chunk(b, sizeof b, 1, 0, PROTO_IPC_VOICE_SAMPLES);
			put_record(&c, false, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n);
			break;
		case BV_STATE_ON_VOICE: {
			struct proto_ipc_voice_state m = { .flags = PROTO_IPC_VOICE_F_ON };
			n = proto_ipc_encode_voice_state(&m, b, sizeof b);
			put_record(&c, true, PROTO_IPC_T_VOICE_STATE, b, (uint32_t)n);
			break;
		}
		case BV_PING_ON_VOICE: {
			struct proto_ipc_ping m = { .seq = 1 };
			n = proto_ipc_encode_ping(&m, b, sizeof b);
			put_record(&c, true, PROTO_IPC_T_PING, b, (uint32_t)n);
			break;
		}
		case BV_BAD_FLAGS:
			th_put_le32(b, PROTO_IPC_VOICE_F_ALL + 1);
			put_record(&c, false, PROTO_IPC_T_VOICE_STATE, b, 4);
			break;
		case BV_COUNT:
			break;
		}
		unsigned gone = v.gone;
		assert_true(pump_until(e, &v.gone, gone + 1));
		ipc_server_totals(e->srv, &t1);
		print_message("%s: client dropped, %llu violation(s)\n", bad_voice_name[k],
			      (unsigned long long)(t1.violations - t0.violations));
		assert_int_equal(t1.violations, t0.violations + 1);
		assert_int_equal(ipc_server_nclients(e->srv), 1);
		assert_int_equal(v.bad_len, 0); /* never handed to the voice module */
		assert_int_equal(v.states, 0);
		/* The other client carries on, voice included. */
		n = chunk(b, sizeof b, 7, 0, PROTO_IPC_VOICE_SAMPLES);
		unsigned chunks = v.chunks;
		put_record(&other, true, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n);
		assert_true(pump_until(e, &v.chunks, chunks + 1));
		assert_int_equal(v.client, other.id);
		tcli_ping(&other, 5);
		expect_pong(e, &other, 5);
		tcli_close(&c);
		tcli_close(&other);
		pump(e, 5);
		assert_int_equal(ipc_server_nclients(e->srv), 0);
	}
	unlisten(e);
}

static void full_voice_ring_drops_and_counts(void **state)
{
	struct env *e = *state;
	struct voice_log v;
	listen_voice(e, &v);
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	static uint8_t pcm[PROTO_IPC_VOICE_OUT_BYTES];
	struct proto_ipc_voice_out m = { .pcm = pcm, .pcm_len = sizeof pcm };
	/* Nobody reads: the ring holds what fits, the rest is dropped. */
	unsigned sent = 0, dropped = 0;
	for (uint32_t s = 0; s < 100; s++) {
		m.seq = s;
		m.t_ns = s;
		th_put_le16(pcm, (uint16_t)s);
		int r = ipc_server_send_voice(e->srv, c.id, &m);
		if (r == 0)
			assert_int_equal(dropped, 0), sent++; /* drops only once it is full */
		else
			assert_int_equal(r, -ENOBUFS), dropped++;
	}
	uint64_t fits = PROTO_IPC_VOICE_RING_CAPACITY / th_ring_rec_size(PROTO_IPC_MAXSZ_VOICE_OUT);
	print_message("voice ring: %u chunks held (%llu fit), %u dropped\n", sent, (unsigned long long)fits, dropped);
	assert_true(sent >= fits - 1 && sent <= fits);
	assert_int_equal(sent + dropped, 100);
	struct ipc_totals t;
	ipc_server_totals(e->srv, &t);
	assert_int_equal(t.voice_drops, dropped);
	assert_int_equal(t.voice_out, sent);
	/* The client reads them in order, without a doorbell. */
	uint8_t b[PROTO_IPC_VOICE_MAX_RECORD];
	struct th_ring_rec rec;
	for (unsigned i = 0; i < sent; i++) {
		assert_int_equal(th_ring_pop(&c.vin, &rec, b, sizeof b), 1);
		assert_int_equal(rec.type, PROTO_IPC_T_VOICE_OUT);
		struct proto_ipc_voice_out d;
		assert_int_equal(proto_ipc_decode_voice_out(b, rec.len, &d, NULL), 0);
		assert_int_equal(d.seq, i);
		assert_int_equal(th_get_le16(d.pcm), i);
	}
	assert_int_equal(th_ring_pop(&c.vin, &rec, b, sizeof b), 0);
	/* Room again. */
	m.seq = 1000;
	assert_int_equal(ipc_server_send_voice(e->srv, c.id, &m), 0);
	assert_int_equal(th_ring_pop(&c.vin, &rec, b, sizeof b), 1);
	/* The main ring was never involved. */
	tcli_ping(&c, 9);
	expect_pong(e, &c, 9);
	/* What the server refuses to send. */
	m.pcm_len = PROTO_IPC_VOICE_OUT_BYTES - 2;
	assert_int_equal(ipc_server_send_voice(e->srv, c.id, &m), -EINVAL);
	m.pcm_len = PROTO_IPC_VOICE_OUT_BYTES;
	assert_int_equal(ipc_server_send_voice(e->srv, c.id + 100, &m), -ENOENT);
	struct json_object *a = ipc_server_clients_json(e->srv, (uid_t)-1, th_now_ns());
	struct json_object *o = json_object_array_get_idx(a, 0), *vo;
	assert_true(json_object_object_get_ex(o, "voice", &vo));
	assert_null(vo); /* no VOICE_STATE from this client */
	json_object_put(a);
	tcli_close(&c);
	unlisten(e);
}

static void a_flooding_client_is_served_in_batches(void **state)
{
	struct env *e = *state;
	struct voice_log v;
	listen_voice(e, &v);
	struct tcli c;
	assert_int_equal(tcli_connect(e, &c, 0), 0);
	uint8_t b[PROTO_IPC_VOICE_MAX_RECORD];
	/* As many chunks as the ring holds, published at once. */
	unsigned n_put = 0;
	for (uint32_t s = 0;; s++) {
		int n = chunk(b, sizeof b, s, 0, PROTO_IPC_VOICE_SAMPLES);
		if (th_ring_send(&c.vout, PROTO_IPC_T_VOICE_PCM, b, (uint32_t)n) != 0)
			break;
		n_put++;
	}
	assert_true(n_put > IPC_VOICE_BATCH_RECORDS);
	assert_true(th_ring_flush(&c.vout) >= 0);
	th_loop_run_once(e->loop, 1000);
	print_message("flood: %u chunks in the ring, %u taken by the first wake-up\n", n_put, v.chunks);
	assert_true(v.chunks >= 1 && v.chunks <= IPC_VOICE_BATCH_RECORDS);
	/* The loop comes back by itself for the rest. */
	assert_true(pump_until(e, &v.chunks, n_put));
	assert_int_equal(v.chunks, n_put);
	for (unsigned i = 0; i < n_put && i < CHUNKS_MAX; i++)
		assert_int_equal(v.seq[i], i);
	tcli_close(&c);
	unlisten(e);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(voice_chunks_reach_the_callback_on_the_shared_doorbell),
		T(voice_state_reaches_the_callback_and_clients),
		T(bad_voice_records_drop_the_client),
		T(full_voice_ring_drops_and_counts),
		T(a_flooding_client_is_served_in_batches),
	};
	return cmocka_run_group_tests_name("ipc_server_voice", tests, NULL, NULL);
}
