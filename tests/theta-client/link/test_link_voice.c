/* theta-client/link: the voice rings (docs/ipc.md "Voice rings").
 *
 * Group "server": a real link against thetad's real ipc server (thetad/ipc,
 * on its own thread here, with voice callbacks that echo every microphone
 * chunk back as a stereo chunk). A capture thread sends chunks and a
 * playback thread receives them while this thread runs the frame loop:
 * every chunk comes back intact and in order, VOICE_STATE is sent again on
 * every welcome, the server closing the client again and again while both
 * audio threads run never lets them touch an unmapped ring, and a full
 * voice ring drops and counts on both sides.
 *
 * Group "fake": against the fake daemon of link_fake.h: the bytes on the
 * wire (little-endian samples, the c2d doorbell rung for a sleeping
 * daemon), a wrong-size or wrong-type chunk from the daemon is a violation
 * that drops the connection, VOICE_STATE kept across connections and sent
 * once per change, SESSION_INFO's voice flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc/server.h"
#include "link/internal.h"
#include "link/link.h"
#include "app/transport.h"
#include "link_fake.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_link.h"
#include "th_loop.h"
#include "th_ring.h"
#include "th_time.h"

#define WAIT_MS 20000 /* generous: a loaded 2-core machine */
#define WAIT_FOR(l, cond) TH_LINK_WAIT_FOR(l, cond, WAIT_MS)
#define KICKS 12      /* times the server closes the client under the audio threads */
#define IDS_MAX 64

/* ---- the server thread ----------------------------------------------------- */

struct srv {
	char dir[64];
	char path[128];
	struct th_loop *loop;
	struct ipc_server *ipc;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool paused;     /* the loop is not run: nothing is drained */
	atomic_bool idle;       /* the server thread saw `paused` and runs nothing */
	atomic_bool echo;       /* answer each chunk with a VOICE_OUT */
	atomic_int kick;        /* requests to close every client */
	/* What the voice callbacks saw (written by the server thread). */
	atomic_uint_fast64_t chunks, bad_chunks, echoed, echo_drops, states, gone;
	atomic_uint_fast64_t last_client;
	pthread_mutex_t mu; /* ids[] */
	uint64_t state_ids[IDS_MAX];
	uint32_t state_flags[IDS_MAX];
	unsigned n_states;
	uint32_t last_seq;
	bool any_seq;
	uint64_t out_of_order;
};

/* The sample i of chunk seq, as the capture thread makes it. */
static int16_t sample(uint32_t seq, unsigned i)
{
	return (int16_t)((seq * 131u + i * 7u) & 0x7fff) - 0x3fff;
}

static void srv_on_pcm(void *user, uint64_t id, const struct proto_ipc_voice_pcm *m, uint64_t now_ns)
{
	struct srv *s = user;
	bool ok = m->pcm_len == PROTO_IPC_VOICE_PCM_BYTES;
	for (unsigned i = 0; ok && i < PROTO_IPC_VOICE_SAMPLES; i++)
		ok = (int16_t)th_get_le16(m->pcm + 2 * i) == sample(m->seq, i);
	if (!ok)
		atomic_fetch_add(&s->bad_chunks, 1);
	if (s->any_seq && (int32_t)(m->seq - s->last_seq) <= 0)
		s->out_of_order++;
	s->last_seq = m->seq;
	s->any_seq = true;
	atomic_store(&s->last_client, id);
	atomic_fetch_add(&s->chunks, 1);
	if (!atomic_load(&s->echo))
		return;
	/* Left the chunk, right its negation. */
	uint8_t out[PROTO_IPC_VOICE_OUT_BYTES];
	for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++) {
		int16_t v = (int16_t)th_get_le16(m->pcm + 2 * i);
		th_put_le16(out + 4 * i, (uint16_t)v);
		th_put_le16(out + 4 * i + 2, (uint16_t)(int16_t)-v);
	}
	struct proto_ipc_voice_out o = { .seq = m->seq, .t_ns = m->t_ns, .pcm = out, .pcm_len = sizeof out };
	int r = ipc_server_send_voice(s->ipc, id, &o);
	if (r == 0)
		atomic_fetch_add(&s->echoed, 1);
	else if (r == -ENOBUFS)
		atomic_fetch_add(&s->echo_drops, 1);
}

static void srv_on_state(void *user, uint64_t id, uid_t uid, const struct proto_ipc_voice_state *m, uint64_t now_ns)
{
	struct srv *s = user;
	pthread_mutex_lock(&s->mu);
	if (s->n_states < IDS_MAX) {
		s->state_ids[s->n_states] = id;
		s->state_flags[s->n_states] = m->flags;
	}
	s->n_states++;
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add(&s->states, 1);
}

static void srv_on_gone(void *user, uint64_t id)
{
	atomic_fetch_add(&((struct srv *)user)->gone, 1);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	uint64_t next_tick = 0;
	while (!atomic_load(&s->stop)) {
		if (atomic_load(&s->paused)) {
			atomic_store(&s->idle, true);
			th_sleep_ns(TH_NS_PER_MS);
			continue;
		}
		atomic_store(&s->idle, false);
		if (atomic_load(&s->kick) > 0) {
			atomic_fetch_sub(&s->kick, 1);
			uint64_t id = atomic_load(&s->last_client);
			ipc_server_close(s->ipc, id, PROTO_IPC_REFUSE_INTERNAL, "closed by the test");
		}
		th_loop_run_once(s->loop, 2);
		uint64_t now = th_now_ns();
		if (now >= next_tick) {
			ipc_server_tick(s->ipc, now);
			next_tick = now + 50 * TH_NS_PER_MS;
		}
	}
	return NULL;
}

static int srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof *s);
	strcpy(s->dir, "/tmp/theta-lvoice-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof s->path, "%s/client.sock", s->dir);
	assert_int_equal(th_loop_create(&s->loop), 0);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, s->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(ipc_server_create(s->loop, fd, NULL, NULL, &s->ipc), 0);
	struct ipc_voice_callbacks cb = { .on_voice_pcm = srv_on_pcm, .on_voice_state = srv_on_state,
					  .on_disconnect = srv_on_gone };
	ipc_server_set_voice(s->ipc, &cb, s);
	pthread_mutex_init(&s->mu, NULL);
	atomic_store(&s->echo, true);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
	*state = s;
	return 0;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	ipc_server_destroy(&s->ipc);
	th_loop_destroy(&s->loop);
	pthread_mutex_destroy(&s->mu);
	unlink(s->path);
	rmdir(s->dir);
	free(s);
	return 0;
}

/* ---- the audio threads ---------------------------------------------------- */

struct audio {
	struct link *l;
	atomic_bool stop;
	/* capture */
	atomic_uint_fast64_t sent, not_conn, full;
	uint32_t next_seq;
	/* playback */
	atomic_uint_fast64_t received, bad, out_of_order, recv_not_conn;
	pthread_t cap, play;
};

static void *capture_main(void *arg)
{
	struct audio *a = arg;
	int16_t pcm[PROTO_IPC_VOICE_SAMPLES];
	while (!atomic_load(&a->stop)) {
		uint32_t seq = a->next_seq;
		for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++)
			pcm[i] = sample(seq, i);
		int r = link_voice_send(a->l, seq, (uint64_t)seq + 1, pcm);
		a->next_seq++; /* a dropped chunk is gone: the next one has the next number */
		if (r == 0)
			atomic_fetch_add(&a->sent, 1);
		else if (r == -ENOTCONN)
			atomic_fetch_add(&a->not_conn, 1);
		else if (r == -ENOBUFS)
			atomic_fetch_add(&a->full, 1);
		else
			fail_msg("link_voice_send: %d", r);
		th_sleep_ns(TH_NS_PER_MS / 2);
	}
	return NULL;
}

static void *playback_main(void *arg)
{
	struct audio *a = arg;
	int16_t st[2 * PROTO_IPC_VOICE_SAMPLES];
	uint32_t last = 0;
	bool any = false;
	while (!atomic_load(&a->stop)) {
		uint64_t t = 0;
		int r = link_voice_recv(a->l, st, &t);
		if (r == 0 || r == -ENOTCONN) {
			if (r < 0)
				atomic_fetch_add(&a->recv_not_conn, 1);
			th_sleep_ns(TH_NS_PER_MS / 4);
			continue;
		}
		if (r != 1)
			fail_msg("link_voice_recv: %d", r);
		/* The capture thread sends t_ns = seq + 1 and the server echoes
		 * it: every sample must be that chunk's, left == -right. */
		bool ok = t != 0;
		uint32_t seq = (uint32_t)(t - 1);
		for (unsigned i = 0; ok && i < PROTO_IPC_VOICE_SAMPLES; i++)
			ok = st[2 * i] == sample(seq, i) && st[2 * i + 1] == (int16_t)-sample(seq, i);
		if (!ok)
			atomic_fetch_add(&a->bad, 1);
		else if (any && seq <= last)
			atomic_fetch_add(&a->out_of_order, 1);
		if (ok) {
			last = seq;
			any = true;
		}
		atomic_fetch_add(&a->received, 1);
	}
	return NULL;
}

static void audio_start(struct audio *a, struct link *l)
{
	memset(a, 0, sizeof *a);
	a->l = l;
	assert_int_equal(pthread_create(&a->cap, NULL, capture_main, a), 0);
	assert_int_equal(pthread_create(&a->play, NULL, playback_main, a), 0);
}

static void audio_stop(struct audio *a)
{
	atomic_store(&a->stop, true);
	pthread_join(a->cap, NULL);
	pthread_join(a->play, NULL);
}

static struct link *make_link(const char *dir)
{
	struct link_config cfg = { .runtime_dir = dir, .name = "test-voice", .mode = PROTO_IPC_MODE_HEADLESS };
	struct link *l;
	assert_int_equal(link_create(&cfg, &l), 0);
	return l;
}

static unsigned states_for(struct srv *s, uint64_t id, uint32_t *flags)
{
	unsigned n = 0;
	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < s->n_states && i < IDS_MAX; i++) {
		if (s->state_ids[i] == id) {
			n++;
			*flags = s->state_flags[i];
		}
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* ---- group "server" ------------------------------------------------------- */

static void chunks_flow_both_ways_while_the_frame_loop_polls(void **state)
{
	struct srv *s = *state;
	struct link *l = make_link(s->dir);
	/* Set before the first connection: sent with its welcome. */
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON, th_now_ns()), 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	struct audio a;
	audio_start(&a, l);
	WAIT_FOR(l, atomic_load(&a.received) >= 300 && atomic_load(&s->chunks) >= 300);
	audio_stop(&a);
	/* Every chunk sent reaches the server (nothing is in flight for long). */
	struct link_voice_stats vs;
	link_voice_stats(l, &vs);
	WAIT_FOR(l, atomic_load(&s->chunks) == vs.sent);
	print_message("voice: %" PRIu64 " sent, %" PRIu64 " full, %" PRIu64 " echoed, %" PRIu64 " echo drops, %" PRIu64
		      " received\n",
		      vs.sent, (uint64_t)atomic_load(&a.full), (uint64_t)atomic_load(&s->echoed),
		      (uint64_t)atomic_load(&s->echo_drops), (uint64_t)atomic_load(&a.received));
	assert_int_equal(atomic_load(&a.sent), vs.sent);
	assert_int_equal(atomic_load(&s->bad_chunks), 0);
	assert_int_equal(s->out_of_order, 0);
	assert_int_equal(atomic_load(&a.bad), 0);
	assert_int_equal(atomic_load(&a.out_of_order), 0);
	assert_int_equal(vs.violations, 0);
	assert_int_equal(vs.maps, 1);
	/* What the playback thread took and what the ring still holds is
	 * what the server put on it. */
	int16_t st[2 * PROTO_IPC_VOICE_SAMPLES];
	uint64_t rest = 0;
	while (link_voice_recv(l, st, NULL) == 1)
		rest++;
	assert_int_equal(atomic_load(&a.received) + rest, atomic_load(&s->echoed));
	link_voice_stats(l, &vs);
	assert_int_equal(vs.received, atomic_load(&s->echoed));
	/* VOICE_STATE: once, on this connection, with the flags. */
	uint32_t flags = 0;
	assert_int_equal(states_for(s, link_get_stats(l)->client_id, &flags), 1);
	assert_int_equal(flags, PROTO_IPC_VOICE_F_ON);
	assert_int_equal(vs.states_sent, 1);
	/* The same flags again send nothing; a change does. */
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON, th_now_ns()), 0);
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED, th_now_ns()), 0);
	WAIT_FOR(l, atomic_load(&s->states) == 2);
	assert_int_equal(states_for(s, link_get_stats(l)->client_id, &flags), 2);
	assert_int_equal(flags, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED);
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ALL + 1, th_now_ns()), -EINVAL);
	link_destroy(&l);
}

static void reconnects_remap_under_running_audio_threads(void **state)
{
	struct srv *s = *state;
	struct link *l = make_link(s->dir);
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT, th_now_ns()), 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	struct audio a;
	audio_start(&a, l);
	const struct link_stats *st = link_get_stats(l);
	for (int k = 0; k < KICKS; k++) {
		uint64_t connects = st->connects;
		uint64_t chunks = atomic_load(&s->chunks), received = atomic_load(&a.received);
		/* Voice flows on this connection before the server closes it. */
		WAIT_FOR(l, atomic_load(&s->chunks) > chunks + 5 && atomic_load(&a.received) > received + 5);
		uint64_t id = st->client_id;
		WAIT_FOR(l, atomic_load(&s->last_client) == id);
		atomic_fetch_add(&s->kick, 1);
		WAIT_FOR(l, st->connects == connects + 1 && link_get_state(l) == LINK_ACTIVE);
		assert_int_not_equal(st->client_id, id);
	}
	uint64_t chunks = atomic_load(&s->chunks);
	WAIT_FOR(l, atomic_load(&s->chunks) > chunks + 5);
	audio_stop(&a);
	struct link_voice_stats vs;
	link_voice_stats(l, &vs);
	print_message("reconnects: %" PRIu64 " connects, %" PRIu64 " chunks sent, %" PRIu64
		      " offered while not connected, %" PRIu64 " received, %" PRIu64 " polls while not connected\n",
		      st->connects, vs.sent, vs.not_conn, (uint64_t)atomic_load(&a.received),
		      (uint64_t)atomic_load(&a.recv_not_conn));
	assert_int_equal(st->connects, KICKS + 1);
	assert_int_equal(vs.maps, KICKS + 1);
	assert_int_equal(vs.violations, 0);
	assert_int_equal(st->violations, 0);
	assert_int_equal(atomic_load(&a.not_conn), vs.not_conn);
	assert_int_equal(atomic_load(&s->bad_chunks), 0);
	assert_int_equal(atomic_load(&a.bad), 0);
	assert_int_equal(atomic_load(&a.out_of_order), 0);
	assert_int_equal(s->out_of_order, 0);
	/* VOICE_STATE after every welcome: once per connection, the same flags. */
	assert_int_equal(atomic_load(&s->states), KICKS + 1);
	assert_int_equal(vs.states_sent, KICKS + 1);
	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < s->n_states; i++) {
		assert_int_equal(s->state_flags[i], PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(s->state_ids[i], s->state_ids[j]);
	}
	pthread_mutex_unlock(&s->mu);
	WAIT_FOR(l, atomic_load(&s->gone) == KICKS); /* the server forgot every closed client */
	link_destroy(&l);
}

static void full_voice_rings_drop_and_count(void **state)
{
	struct srv *s = *state;
	struct link *l = make_link(s->dir);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	/* The daemon drains nothing: the client->daemon ring fills. */
	atomic_store(&s->paused, true);
	WAIT_FOR(l, atomic_load(&s->idle));
	int16_t pcm[PROTO_IPC_VOICE_SAMPLES];
	unsigned ok = 0, full = 0;
	for (uint32_t seq = 0; seq < 200; seq++) {
		for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++)
			pcm[i] = sample(seq, i);
		int r = link_voice_send(l, seq, 1 + seq, pcm);
		if (r == 0)
			assert_int_equal(full, 0), ok++;
		else
			assert_int_equal(r, -ENOBUFS), full++;
	}
	uint64_t fits = PROTO_IPC_VOICE_RING_CAPACITY / th_ring_rec_size(PROTO_IPC_MAXSZ_VOICE_PCM);
	print_message("client->daemon voice ring: %u held (%" PRIu64 " fit), %u dropped\n", ok, fits, full);
	assert_true(ok >= fits - 1 && ok <= fits);
	struct link_voice_stats vs;
	link_voice_stats(l, &vs);
	assert_int_equal(vs.sent, ok);
	assert_int_equal(vs.drops, full);
	/* The daemon runs again and takes every held chunk; its echoes fill
	 * the daemon->client ring, which nobody reads: dropped there. */
	atomic_store(&s->paused, false);
	WAIT_FOR(l, atomic_load(&s->chunks) == ok);
	uint64_t echoed = atomic_load(&s->echoed), drops = atomic_load(&s->echo_drops);
	fits = PROTO_IPC_VOICE_RING_CAPACITY / th_ring_rec_size(PROTO_IPC_MAXSZ_VOICE_OUT);
	print_message("daemon->client voice ring: %" PRIu64 " held (%" PRIu64 " fit), %" PRIu64 " dropped\n", echoed,
		      fits, drops);
	assert_true(echoed >= fits - 1 && echoed <= fits);
	assert_int_equal(echoed + drops, ok);
	assert_int_equal(atomic_load(&s->bad_chunks), 0);
	/* They come out in order, the first ones. */
	int16_t stv[2 * PROTO_IPC_VOICE_SAMPLES];
	uint64_t t = 0;
	for (uint32_t seq = 0; seq < echoed; seq++) {
		assert_int_equal(link_voice_recv(l, stv, &t), 1);
		assert_int_equal(t, 1 + seq);
		assert_int_equal(stv[0], sample(seq, 0));
		assert_int_equal(stv[1], (int16_t)-sample(seq, 0));
		assert_int_equal(stv[2 * 479], sample(seq, 479));
	}
	assert_int_equal(link_voice_recv(l, stv, &t), 0);
	/* Room again: a new chunk goes through both ways. */
	for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++)
		pcm[i] = sample(500, i);
	assert_int_equal(link_voice_send(l, 500, 77, pcm), 0);
	WAIT_FOR(l, atomic_load(&s->echoed) == echoed + 1);
	assert_int_equal(link_voice_recv(l, stv, &t), 1);
	assert_int_equal(t, 77);
	assert_int_equal(stv[2 * 100], sample(500, 100));
	link_destroy(&l);
}

static void voice_is_refused_while_not_connected(void **state)
{
	struct srv *s = *state;
	char dir[80];
	snprintf(dir, sizeof dir, "%s/nowhere", s->dir);
	struct link *l = make_link(dir);
	int16_t pcm[PROTO_IPC_VOICE_SAMPLES] = { 0 }, st[2 * PROTO_IPC_VOICE_SAMPLES];
	assert_int_equal(link_voice_send(l, 0, 1, pcm), -ENOTCONN);
	assert_int_equal(link_voice_recv(l, st, NULL), -ENOTCONN);
	th_link_step(l); /* a connect attempt that fails */
	assert_int_equal(link_voice_send(l, 1, 1, pcm), -ENOTCONN);
	struct link_voice_stats vs;
	link_voice_stats(l, &vs);
	assert_int_equal(vs.not_conn, 2);
	assert_int_equal(vs.sent, 0);
	assert_int_equal(vs.maps, 0);
	/* The flags are kept for the first welcome: nothing is written. */
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON, th_now_ns()), 0);
	link_voice_stats(l, &vs);
	assert_int_equal(vs.states_sent, 0);
	th_link_step(l); /* still no daemon: still nothing */
	link_voice_stats(l, &vs);
	assert_int_equal(vs.states_sent, 0);
	assert_int_equal(vs.maps, 0);
	link_destroy(&l);
}

/* ---- group "fake" --------------------------------------------------------- */

static unsigned fake_voice_states(struct fake *f, uint32_t *flags)
{
	unsigned n = 0;
	uint16_t type;
	union proto_ipc_any m;
	while (fake_next(f, &type, &m)) {
		if (type == PROTO_IPC_T_VOICE_STATE) {
			n++;
			*flags = m.voice_state.flags;
		}
	}
	return n;
}

static void fake_voice_out(struct fake *f, uint16_t type, uint32_t seq, uint64_t t_ns, uint32_t bytes)
{
	uint8_t pcm[PROTO_IPC_VOICE_OUT_BYTES];
	for (unsigned i = 0; i < PROTO_IPC_VOICE_OUT_BYTES / 2; i++)
		th_put_le16(pcm + 2 * i, (uint16_t)(int16_t)(i % 2 ? -(int)i : (int)i * 3));
	uint8_t b[PROTO_IPC_VOICE_MAX_RECORD];
	th_put_le32(b, seq);
	th_put_le64(b + 4, t_ns);
	th_put_le32(b + 12, bytes);
	memcpy(b + 16, pcm, bytes);
	assert_int_equal(th_ring_push(&f->vout, type, b, 16 + bytes), 0);
}

static void the_wire_carries_little_endian_chunks_and_rings_the_doorbell(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f);
	struct link *l = make_link(f.dir);
	uint64_t now = 1000 * TH_NS_PER_S;
	fake_connect(&f, l, now);
	/* The fake daemon sleeps on its voice ring. */
	assert_int_equal(th_ring_prepare_sleep(&f.vin), 0);
	int16_t pcm[PROTO_IPC_VOICE_SAMPLES];
	for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++)
		pcm[i] = (int16_t)(i * 67 - 16000);
	pcm[0] = -32768;
	pcm[1] = 32767;
	assert_int_equal(link_voice_send(l, 0xabcdef01u, 0x1122334455667788ull, pcm), 0);
	uint64_t bell = 0;
	assert_int_equal(read(f.bells[0], &bell, sizeof bell), (ssize_t)sizeof bell);
	assert_int_equal(bell, 1);
	th_ring_finish_sleep(&f.vin, false);
	uint8_t rec[PROTO_IPC_VOICE_MAX_RECORD];
	struct th_ring_rec rr;
	assert_int_equal(th_ring_pop(&f.vin, &rr, rec, sizeof rec), 1);
	assert_int_equal(rr.type, PROTO_IPC_T_VOICE_PCM);
	struct proto_ipc_voice_pcm m;
	assert_int_equal(proto_ipc_decode_voice_pcm(rec, rr.len, &m, NULL), 0);
	assert_int_equal(m.seq, 0xabcdef01u);
	assert_int_equal(m.t_ns, 0x1122334455667788ull);
	assert_int_equal(m.pcm_len, PROTO_IPC_VOICE_PCM_BYTES);
	assert_int_equal(m.pcm[0], 0x00);
	assert_int_equal(m.pcm[1], 0x80); /* -32768, little-endian */
	assert_int_equal(m.pcm[2], 0xff);
	assert_int_equal(m.pcm[3], 0x7f);
	for (unsigned i = 2; i < PROTO_IPC_VOICE_SAMPLES; i++)
		assert_int_equal((int16_t)th_get_le16(m.pcm + 2 * i), pcm[i]);
	/* An awake daemon is not rung. */
	assert_int_equal(link_voice_send(l, 2, 3, pcm), 0);
	assert_int_equal(read(f.bells[0], &bell, sizeof bell), -1);
	/* Daemon -> client: unpacked from little-endian. */
	fake_voice_out(&f, PROTO_IPC_T_VOICE_OUT, 9, 12345, PROTO_IPC_VOICE_OUT_BYTES);
	int16_t st[2 * PROTO_IPC_VOICE_SAMPLES];
	uint64_t t = 0;
	assert_int_equal(link_voice_recv(l, st, &t), 1);
	assert_int_equal(t, 12345);
	for (unsigned i = 0; i < 2 * PROTO_IPC_VOICE_SAMPLES; i++)
		assert_int_equal(st[i], (int16_t)(i % 2 ? -(int)i : (int)i * 3));
	assert_int_equal(link_voice_recv(l, st, &t), 0);
	link_destroy(&l);
	fake_stop(&f);
}

enum bad_out { BO_SHORT, BO_EMPTY, BO_PCM_TYPE, BO_PING_TYPE, BO_COUNT };
static const char *const bad_out_name[BO_COUNT] = { "a chunk one sample short", "an empty chunk",
						    "VOICE_PCM on the daemon's voice ring",
						    "PING on the daemon's voice ring" };

static void a_bad_chunk_from_the_daemon_is_a_violation(void **state)
{
	(void)state;
	for (int k = 0; k < BO_COUNT; k++) {
		struct fake f;
		fake_start(&f);
		struct link *l = make_link(f.dir);
		uint64_t now = 1000 * TH_NS_PER_S;
		fake_connect(&f, l, now);
		switch ((enum bad_out)k) {
		case BO_SHORT:
			fake_voice_out(&f, PROTO_IPC_T_VOICE_OUT, 1, 1, PROTO_IPC_VOICE_OUT_BYTES - 4);
			break;
		case BO_EMPTY:
			fake_voice_out(&f, PROTO_IPC_T_VOICE_OUT, 1, 1, 0);
			break;
		case BO_PCM_TYPE:
			fake_voice_out(&f, PROTO_IPC_T_VOICE_PCM, 1, 1, PROTO_IPC_VOICE_PCM_BYTES);
			break;
		case BO_PING_TYPE: {
			struct proto_ipc_ping p = { .seq = 1 };
			uint8_t b[32];
			int n = proto_ipc_encode_ping(&p, b, sizeof b);
			assert_int_equal(th_ring_push(&f.vout, PROTO_IPC_T_PING, b, (uint32_t)n), 0);
			break;
		}
		case BO_COUNT:
			break;
		}
		int16_t st[2 * PROTO_IPC_VOICE_SAMPLES], pcm[PROTO_IPC_VOICE_SAMPLES] = { 0 };
		assert_int_equal(link_voice_recv(l, st, NULL), -ENOTCONN);
		/* Both audio threads are told at once, before the frame loop runs. */
		assert_int_equal(link_voice_recv(l, st, NULL), -ENOTCONN);
		assert_int_equal(link_voice_send(l, 1, 1, pcm), -ENOTCONN);
		struct link_voice_stats vs;
		link_voice_stats(l, &vs);
		assert_int_equal(vs.violations, 1);
		/* The frame loop's next poll drops the connection. */
		link_poll(l, now + 1);
		print_message("%s: link %s: %s\n", bad_out_name[k], link_state_name(link_get_state(l)),
			      link_last_error(l));
		assert_int_equal(link_get_state(l), LINK_IDLE);
		assert_int_equal(link_get_stats(l)->violations, 1);
		assert_null(l->shm.base);
		assert_non_null(strstr(link_last_error(l), "voice"));
		link_destroy(&l);
		fake_stop(&f);
	}
}

static void voice_state_is_kept_and_sent_on_every_welcome(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f);
	struct link *l = make_link(f.dir);
	uint64_t now = 1000 * TH_NS_PER_S;
	/* Without link_set_voice no VOICE_STATE is ever sent. */
	fake_connect(&f, l, now);
	uint32_t flags = 0;
	assert_int_equal(fake_voice_states(&f, &flags), 0);
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED, now), 0);
	assert_int_equal(fake_voice_states(&f, &flags), 1);
	assert_int_equal(flags, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED);
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED, now), 0);
	assert_int_equal(fake_voice_states(&f, &flags), 0); /* no change: nothing sent */
	/* SESSION_INFO's voice flags reach link_session_info. */
	struct proto_ipc_session_info si = { .session = 3, .host = PROTO_IPC_SINFO_HOST_LOCAL,
					     .voice = PROTO_IPC_VINFO_F_ON | PROTO_IPC_VINFO_F_ADMIN_MUTED };
	strcpy(si.name, "studio");
	uint8_t b[PROTO_IPC_MAXSZ_SESSION_INFO];
	int n = proto_ipc_encode_session_info(&si, b, sizeof b);
	assert_int_equal(th_ring_push(&f.out, PROTO_IPC_T_SESSION_INFO, b, (uint32_t)n), 0);
	assert_int_equal(app_transport_drain(link_transport(l), NULL, now), 1);
	struct link_session_info got;
	assert_int_equal(link_session_info(l, &got), 0);
	assert_int_equal(got.voice, PROTO_IPC_VINFO_F_ON | PROTO_IPC_VINFO_F_ADMIN_MUTED);
	/* The daemon goes; a change while away is kept; the next welcome sends it. */
	fake_drop_conn(&f);
	link_poll(l, now + 2 * LINK_SOCK_CHECK_NS);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	assert_int_equal(link_set_voice(l, PROTO_IPC_VOICE_F_ON, now), 0);
	now += 2 * LINK_BACKOFF_MAX_NS;
	fake_connect(&f, l, now);
	assert_int_equal(fake_voice_states(&f, &flags), 1);
	assert_int_equal(flags, PROTO_IPC_VOICE_F_ON);
	/* And again on the welcome after that, unchanged. */
	fake_drop_conn(&f);
	link_poll(l, now + 2 * LINK_SOCK_CHECK_NS);
	now += 2 * LINK_BACKOFF_MAX_NS;
	fake_connect(&f, l, now);
	assert_int_equal(fake_voice_states(&f, &flags), 1);
	assert_int_equal(flags, PROTO_IPC_VOICE_F_ON);
	struct link_voice_stats vs;
	link_voice_stats(l, &vs);
	assert_int_equal(vs.states_sent, 3);
	assert_int_equal(vs.maps, 3);
	link_destroy(&l);
	fake_stop(&f);
}

int main(void)
{
	const struct CMUnitTest server[] = {
		cmocka_unit_test_setup_teardown(chunks_flow_both_ways_while_the_frame_loop_polls, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(reconnects_remap_under_running_audio_threads, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(full_voice_rings_drop_and_count, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(voice_is_refused_while_not_connected, srv_setup, srv_teardown),
	};
	const struct CMUnitTest fake[] = {
		cmocka_unit_test(the_wire_carries_little_endian_chunks_and_rings_the_doorbell),
		cmocka_unit_test(a_bad_chunk_from_the_daemon_is_a_violation),
		cmocka_unit_test(voice_state_is_kept_and_sent_on_every_welcome),
	};
	int r = cmocka_run_group_tests_name("server", server, NULL, NULL);
	return r + cmocka_run_group_tests_name("fake", fake, NULL, NULL);
}
