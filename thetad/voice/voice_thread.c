/* The voice thread and its two rings (voice_thread.h). */
#include "voice/voice_thread.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "th_loop.h"
#include "th_ring.h"
#include "th_time.h"

enum voice_rec {
	/* in: loop -> voice */
	VREC_CLIENT = 1,
	VREC_GONE,
	VREC_STATE,
	VREC_PCM,
	VREC_PACKET,
	VREC_NAME,
	VREC_POSE,
	VREC_ADMIN_MUTE,
	VREC_LOSS,
	VREC_RESET,
	VREC_STATS_REQ,
	/* out: voice -> loop */
	VREC_PLAY = 32,
	VREC_OUT_PACKET,
	VREC_INFO,
	VREC_STATS,
	VREC_TOTALS,
};

/* Records are plain structs: both ends are this process, built together. */
struct vrec_client {
	uint64_t client_id;
	uint8_t speaker[VOICE_KEY_LEN];
	char name[VOICE_NAME_MAX + 1];
};
struct vrec_state {
	uint64_t client_id;
	uint32_t flags;
};
struct vrec_pcm {
	uint64_t client_id, t_ns;
	uint32_t seq;
	int16_t pcm[VOICE_CHUNK_SAMPLES];
};
struct vrec_packet {
	uint8_t speaker[VOICE_KEY_LEN];
	uint32_t seq, ts;
	uint8_t flags;
	uint16_t len;
	uint8_t data[VOICE_OPUS_MAX];
};
struct vrec_name {
	uint8_t speaker[VOICE_KEY_LEN];
	char name[VOICE_NAME_MAX + 1];
};
struct vrec_pose {
	uint64_t entity;
	struct voice_pose head;
};
struct vrec_mute {
	uint8_t speaker[VOICE_KEY_LEN];
	bool muted;
};
struct vrec_u64 {
	uint64_t v;
};
struct vrec_play {
	uint64_t client_id, t_ns;
	int16_t stereo[2 * VOICE_CHUNK_SAMPLES];
};
struct vrec_stats {
	uint64_t tag, now_ns;
	struct voice_engine_totals totals;
	uint32_t n;
	struct voice_speaker_stats sp[]; /* n of them */
};
struct vrec_totals {
	struct voice_engine_totals t;
	struct voice_thread_stats ts;
};

_Static_assert(sizeof(struct vrec_stats) + VOICE_THREAD_STATS_MAX * sizeof(struct voice_speaker_stats) <=
		       VOICE_THREAD_OUT_RECORD,
	       "a stats answer fits one record");
_Static_assert(sizeof(struct voice_thread_info) <= VOICE_THREAD_OUT_RECORD, "SESSION_INFO's voice fields fit");
_Static_assert(sizeof(struct vrec_play) <= VOICE_THREAD_OUT_RECORD, "a mixed chunk fits");

/* The largest in record. */
union vrec_in_any {
	struct vrec_client c;
	struct vrec_state s;
	struct vrec_pcm p;
	struct vrec_packet k;
	struct vrec_name n;
	struct vrec_pose o;
	struct vrec_mute m;
	struct vrec_u64 u;
};
#define VOICE_THREAD_IN_RECORD ((uint32_t)sizeof(union vrec_in_any))

struct voice_ring {
	void *mem;
	struct th_ring_prod prod;
	struct th_ring_cons cons;
	int bell; /* eventfd: the consumer's doorbell */
};

struct voice_thread {
	struct voice_ring in, out;
	int stop_fd, timer_fd;
	pthread_t tid;
	bool started;
	bool stop; /* set by destroy (release), read by the thread each pass (acquire) */
	uint64_t in_drops; /* loop side */
	/* ---- the voice thread's own ---- */
	struct voice_engine *e;
	uint64_t last_now, next_tick, next_totals;
	uint64_t owed[VOICE_THREAD_STATS_OWED];
	unsigned n_owed;
	unsigned n_clients;
	uint64_t clients[VOICE_LISTENERS_MAX];
	struct voice_thread_info info_sent;
	bool info_valid;
	struct voice_thread_stats st;
	bool clock_on;
	bool in_broken; /* the in ring refused a pop: nothing more is taken */
	_Alignas(16) uint8_t scratch[VOICE_THREAD_OUT_RECORD];
	/* ---- the loop's own ---- */
	_Alignas(16) uint8_t rbuf[VOICE_THREAD_OUT_RECORD];
};

/* ---- rings ----------------------------------------------------------------- */

static int ring_init(struct voice_ring *r, uint32_t capacity, uint32_t max_record)
{
	struct th_ring_geom g = { .capacity = capacity, .max_record = max_record };
	size_t size = th_ring_region_size(&g);
	r->bell = -1;
	r->mem = aligned_alloc(TH_RING_SLOT, size);
	if (!r->mem)
		return -ENOMEM;
	memset(r->mem, 0, size);
	int rc = th_ring_format(r->mem, size, &g);
	if (rc < 0)
		return rc;
	r->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->bell < 0)
		return -errno;
	if ((rc = th_ring_prod_init(&r->prod, r->mem, size, &g, r->bell)) < 0 ||
	    (rc = th_ring_cons_init(&r->cons, r->mem, size, &g, r->bell)) < 0)
		return rc;
	/* The consumer starts asleep: the first record rings. */
	th_ring_cons_set_spin(&r->cons, 0);
	th_ring_prepare_sleep(&r->cons);
	return 0;
}

static void ring_fini(struct voice_ring *r)
{
	if (r->bell >= 0)
		close(r->bell);
	r->bell = -1;
	free(r->mem);
	r->mem = NULL;
}

/* Loop side: one record onto the in ring, published at once. */
static int in_push(struct voice_thread *t, uint16_t type, const void *rec, uint32_t len)
{
	int r = th_ring_push(&t->in.prod, type, rec, len);
	if (r == -EAGAIN) {
		th_ring_note_drop(&t->in.prod);
		t->in_drops++;
		return -ENOBUFS;
	}
	return r < 0 ? r : 0;
}

/* Voice side: one record onto the out ring (published at the end of the pass). */
static bool out_send(struct voice_thread *t, uint16_t type, const void *rec, uint32_t len)
{
	if (th_ring_send(&t->out.prod, type, rec, len) < 0) {
		t->st.out_drops++;
		return false;
	}
	return true;
}

/* ---- the engine's output, on the voice thread -------------------------------- */

static void eng_packet(void *user, const struct voice_packet *p)
{
	struct voice_thread *t = user;
	struct vrec_packet k = { .seq = p->seq, .ts = p->ts, .flags = p->flags, .len = p->len };
	if (p->len > VOICE_OPUS_MAX)
		return;
	memcpy(k.speaker, p->speaker, VOICE_KEY_LEN);
	memcpy(k.data, p->data, p->len);
	out_send(t, VREC_OUT_PACKET, &k, (uint32_t)(offsetof(struct vrec_packet, data) + p->len));
}

static void eng_play(void *user, uint64_t client_id, const int16_t *stereo, uint64_t t_ns)
{
	struct voice_thread *t = user;
	struct vrec_play *p = (struct vrec_play *)t->scratch;
	p->client_id = client_id;
	p->t_ns = t_ns;
	memcpy(p->stereo, stereo, sizeof p->stereo);
	out_send(t, VREC_PLAY, p, sizeof *p);
}

static void eng_changed(void *user)
{
	/* SESSION_INFO's fields are compared with what was sent after each
	 * pass (thread_publish_info), which also sees speaking time out. */
	(void)user;
}

/* The voice thread's CPU time, for the engine's encode/decode/mix totals. */
static uint64_t eng_cpu_now(void *user)
{
	struct timespec ts;
	(void)user;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * TH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static const struct voice_engine_out thread_engine_out = {
	.packet = eng_packet,
	.play = eng_play,
	.changed = eng_changed,
	.cpu_now = eng_cpu_now,
};

/* ---- the voice thread's body ---------------------------------------------------- */

static uint64_t thread_now(struct voice_thread *t, uint64_t now)
{
	/* The engine's clock never runs back (ticks run at their scheduled
	 * time, records at the time they are handled). */
	if (now < t->last_now)
		now = t->last_now;
	t->last_now = now;
	return now;
}

/* The clock runs while there is someone to mix for: an idle daemon's
 * voice thread sleeps. */
static void clock_update(struct voice_thread *t)
{
	bool want = t->n_clients > 0;
	if (want == t->clock_on)
		return;
	if (want) {
		t->next_tick = thread_now(t, th_now_ns()) + VOICE_THREAD_TICK_NS;
		th_timerfd_set(t->timer_fd, VOICE_THREAD_TICK_NS, VOICE_THREAD_TICK_NS);
	} else {
		th_timerfd_set(t->timer_fd, 0, 0);
		th_timerfd_drain(t->timer_fd);
	}
	t->clock_on = want;
}

static void client_add(struct voice_thread *t, uint64_t id)
{
	for (unsigned i = 0; i < t->n_clients; i++)
		if (t->clients[i] == id)
			return;
	if (t->n_clients < VOICE_LISTENERS_MAX)
		t->clients[t->n_clients++] = id;
}

static void client_del(struct voice_thread *t, uint64_t id)
{
	for (unsigned i = 0; i < t->n_clients; i++)
		if (t->clients[i] == id) {
			t->clients[i] = t->clients[--t->n_clients];
			return;
		}
}

static bool thread_answer_stats(struct voice_thread *t, uint64_t tag, uint64_t now)
{
	struct vrec_stats *s = (struct vrec_stats *)t->scratch;
	unsigned n = voice_engine_speakers(t->e, s->sp, VOICE_THREAD_STATS_MAX, now);
	s->tag = tag;
	s->now_ns = now;
	s->n = n < VOICE_THREAD_STATS_MAX ? n : VOICE_THREAD_STATS_MAX;
	voice_engine_totals(t->e, &s->totals);
	uint32_t len = (uint32_t)(sizeof *s + s->n * sizeof s->sp[0]);
	return th_ring_send(&t->out.prod, VREC_STATS, s, len) == 0;
}

static void thread_handle(struct voice_thread *t, const struct th_ring_rec *rec, const void *buf)
{
	uint64_t now = thread_now(t, th_now_ns());
	switch (rec->type) {
	case VREC_CLIENT: {
		const struct vrec_client *c = buf;
		if (rec->len != sizeof *c)
			return;
		if (voice_engine_client(t->e, c->client_id, c->speaker, c->name, now) == 0)
			client_add(t, c->client_id);
		clock_update(t);
		return;
	}
	case VREC_GONE: {
		const struct vrec_u64 *u = buf;
		if (rec->len != sizeof *u)
			return;
		voice_engine_client_gone(t->e, u->v);
		client_del(t, u->v);
		clock_update(t);
		return;
	}
	case VREC_STATE: {
		const struct vrec_state *s = buf;
		if (rec->len == sizeof *s)
			voice_engine_client_state(t->e, s->client_id, s->flags, now);
		return;
	}
	case VREC_PCM: {
		const struct vrec_pcm *p = buf;
		if (rec->len == sizeof *p)
			voice_engine_capture(t->e, p->client_id, p->seq, p->t_ns, p->pcm, VOICE_CHUNK_SAMPLES, now);
		return;
	}
	case VREC_PACKET: {
		const struct vrec_packet *k = buf;
		if (rec->len < offsetof(struct vrec_packet, data) || k->len > VOICE_OPUS_MAX ||
		    rec->len != offsetof(struct vrec_packet, data) + k->len)
			return;
		struct voice_packet p = { .seq = k->seq, .ts = k->ts, .flags = k->flags, .len = k->len, .data = k->data };
		memcpy(p.speaker, k->speaker, VOICE_KEY_LEN);
		voice_engine_packet(t->e, &p, now); /* refusals are counted by the engine */
		return;
	}
	case VREC_NAME: {
		const struct vrec_name *n = buf;
		if (rec->len == sizeof *n)
			voice_engine_name(t->e, n->speaker, n->name);
		return;
	}
	case VREC_POSE: {
		const struct vrec_pose *o = buf;
		if (rec->len == sizeof *o)
			voice_engine_pose(t->e, o->entity, &o->head, now);
		return;
	}
	case VREC_ADMIN_MUTE: {
		const struct vrec_mute *m = buf;
		if (rec->len == sizeof *m)
			voice_engine_admin_mute(t->e, m->speaker, m->muted);
		return;
	}
	case VREC_LOSS: {
		const struct vrec_u64 *u = buf;
		if (rec->len == sizeof *u)
			voice_engine_set_loss(t->e, (unsigned)(u->v > 100 ? 100 : u->v));
		return;
	}
	case VREC_RESET:
		voice_engine_reset(t->e);
		t->n_clients = 0;
		clock_update(t);
		return;
	case VREC_STATS_REQ: {
		const struct vrec_u64 *u = buf;
		if (rec->len != sizeof *u)
			return;
		if ((t->n_owed || !thread_answer_stats(t, u->v, now)) && t->n_owed < VOICE_THREAD_STATS_OWED)
			t->owed[t->n_owed++] = u->v;
		return;
	}
	default:
		return;
	}
}

static void thread_ticks(struct voice_thread *t, uint64_t expirations)
{
	uint64_t n = expirations;
	if (n > VOICE_THREAD_CATCHUP_MAX) {
		t->st.skipped_ticks += n - VOICE_THREAD_CATCHUP_MAX;
		t->next_tick += (n - VOICE_THREAD_CATCHUP_MAX) * VOICE_THREAD_TICK_NS;
		n = VOICE_THREAD_CATCHUP_MAX;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t now = thread_now(t, t->next_tick);
		t->next_tick += VOICE_THREAD_TICK_NS;
		uint64_t t0 = th_now_ns();
		voice_engine_tick(t->e, now);
		uint64_t dt = th_now_ns() - t0;
		if (dt > t->st.tick_max_ns)
			t->st.tick_max_ns = dt;
		t->st.ticks++;
		if (i)
			t->st.late_ticks++;
	}
}

/* SESSION_INFO's voice fields: to the loop when they differ from the last sent. */
static void thread_publish_info(struct voice_thread *t, uint64_t now)
{
	struct voice_thread_info *in = (struct voice_thread_info *)t->scratch;
	memset(in, 0, sizeof *in);
	in->speaking = voice_engine_speaking(t->e, in->speakers, sizeof in->speakers, now);
	in->n_clients = t->n_clients;
	for (unsigned i = 0; i < t->n_clients; i++) {
		in->client[i].client_id = t->clients[i]; /* padding stays zero: compared with memcmp */
		in->client[i].info = voice_engine_client_info(t->e, t->clients[i]);
	}
	if (t->info_valid && !memcmp(in, &t->info_sent, sizeof *in))
		return;
	if (out_send(t, VREC_INFO, in, sizeof *in)) {
		t->info_sent = *in;
		t->info_valid = true;
	}
}

static void thread_publish(struct voice_thread *t, uint64_t now)
{
	while (t->n_owed && thread_answer_stats(t, t->owed[0], now))
		memmove(t->owed, t->owed + 1, --t->n_owed * sizeof t->owed[0]);
	thread_publish_info(t, now);
	if (now >= t->next_totals) {
		struct vrec_totals tot = { .ts = t->st };
		voice_engine_totals(t->e, &tot.t);
		if (out_send(t, VREC_TOTALS, &tot, sizeof tot)) {
			t->st.tick_max_ns = 0;
			t->next_totals = now + (uint64_t)VOICE_THREAD_TOTALS_MS * TH_NS_PER_MS;
		}
	}
	th_ring_flush(&t->out.prod);
}

static void *thread_main(void *arg)
{
	struct voice_thread *t = arg;
	union vrec_in_any buf;
	struct th_ring_rec rec;
	t->last_now = 0;
	/* The stop flag pairs with destroy's release store: a thread kept
	 * busy by a full in ring still sees it between two batches. */
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		uint64_t k = t->clock_on ? th_timerfd_drain(t->timer_fd) : 0;
		if (k)
			thread_ticks(t, k);
		unsigned n = 0;
		int r = 0;
		while (!t->in_broken && n < VOICE_THREAD_BATCH &&
		       (r = th_ring_pop(&t->in.cons, &rec, &buf, sizeof buf)) == 1) {
			thread_handle(t, &rec, &buf);
			n++;
		}
		/* Only this process writes the ring: a refusal is a bug here. The
		 * thread then takes no more records (and does not spin on them). */
		if (r < 0)
			t->in_broken = true;
		t->st.records_in += n;
		thread_publish(t, thread_now(t, th_now_ns()));
		if (!t->in_broken && (n == VOICE_THREAD_BATCH || th_ring_prepare_sleep(&t->in.cons)))
			continue; /* more waits: look at the clock, then take it */
		struct pollfd pfd[3] = { { .fd = t->stop_fd, .events = POLLIN },
					 { .fd = t->in.bell, .events = POLLIN },
					 { .fd = t->timer_fd, .events = POLLIN } };
		int pr = poll(pfd, 3, -1);
		th_ring_finish_sleep(&t->in.cons, pr > 0 && (pfd[1].revents & POLLIN));
		if (pr > 0 && (pfd[0].revents & POLLIN))
			break;
	}
	return NULL;
}

/* ---- loop side ---------------------------------------------------------------------- */

int voice_thread_create(const struct voice_engine_config *cfg, struct voice_thread **out)
{
	struct voice_thread *t = calloc(1, sizeof *t);
	int r;
	if (!t)
		return -ENOMEM;
	t->stop_fd = t->timer_fd = -1;
	t->in.bell = t->out.bell = -1;
	if ((r = voice_engine_create(cfg, &thread_engine_out, t, &t->e)) < 0)
		goto fail;
	if ((r = ring_init(&t->in, VOICE_THREAD_IN_CAPACITY, VOICE_THREAD_IN_RECORD)) < 0 ||
	    (r = ring_init(&t->out, VOICE_THREAD_OUT_CAPACITY, VOICE_THREAD_OUT_RECORD)) < 0)
		goto fail;
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->stop_fd < 0) {
		r = -errno;
		goto fail;
	}
	t->timer_fd = th_timerfd_create(0, 0); /* armed by the thread while it has clients */
	if (t->timer_fd < 0) {
		r = t->timer_fd;
		goto fail;
	}
	/* Signals stay with the loop thread's signalfd. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&t->tid, NULL, thread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;
	pthread_setname_np(t->tid, "thetad-voice");
	t->started = true;
	*out = t;
	return 0;
fail:
	voice_thread_destroy(&t);
	return r;
}

void voice_thread_destroy(struct voice_thread **p)
{
	struct voice_thread *t = *p;
	if (!t)
		return;
	if (t->started) {
		uint64_t one = 1;
		__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
		/* Wakes it from poll; a fresh eventfd's counter cannot overflow. */
		ssize_t w = write(t->stop_fd, &one, sizeof one);
		(void)w;
		pthread_join(t->tid, NULL);
	}
	voice_engine_destroy(&t->e);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	if (t->timer_fd >= 0)
		close(t->timer_fd);
	ring_fini(&t->in);
	ring_fini(&t->out);
	free(t);
	*p = NULL;
}

int voice_thread_fd(const struct voice_thread *t)
{
	return t->out.bell;
}

uint64_t voice_thread_in_drops(const struct voice_thread *t)
{
	return t->in_drops;
}

static void sink_one(struct voice_thread *t, const struct th_ring_rec *rec, const struct voice_thread_sink *sk,
		     void *user)
{
	const void *b = t->rbuf;
	switch (rec->type) {
	case VREC_PLAY: {
		const struct vrec_play *p = b;
		if (rec->len == sizeof *p && sk->play)
			sk->play(user, p->client_id, p->stereo, p->t_ns);
		return;
	}
	case VREC_OUT_PACKET: {
		const struct vrec_packet *k = b;
		if (rec->len < offsetof(struct vrec_packet, data) || k->len > VOICE_OPUS_MAX ||
		    rec->len != offsetof(struct vrec_packet, data) + k->len || !sk->packet)
			return;
		struct voice_packet p = { .seq = k->seq, .ts = k->ts, .flags = k->flags, .len = k->len, .data = k->data };
		memcpy(p.speaker, k->speaker, VOICE_KEY_LEN);
		sk->packet(user, &p);
		return;
	}
	case VREC_INFO:
		if (rec->len == sizeof(struct voice_thread_info) && sk->info)
			sk->info(user, b);
		return;
	case VREC_STATS: {
		const struct vrec_stats *s = b;
		if (rec->len >= sizeof *s && s->n <= VOICE_THREAD_STATS_MAX &&
		    rec->len == sizeof *s + s->n * sizeof s->sp[0] && sk->stats)
			sk->stats(user, s->tag, s->sp, s->n, &s->totals, s->now_ns);
		return;
	}
	case VREC_TOTALS: {
		const struct vrec_totals *o = b;
		if (rec->len == sizeof *o && sk->totals)
			sk->totals(user, &o->t, &o->ts);
		return;
	}
	default:
		return;
	}
}

unsigned voice_thread_poll(struct voice_thread *t, const struct voice_thread_sink *sink, void *user)
{
	struct th_ring_rec rec;
	unsigned n = 0;
	int r;
	th_ring_finish_sleep(&t->out.cons, true);
	for (;;) {
		while ((r = th_ring_pop(&t->out.cons, &rec, t->rbuf, sizeof t->rbuf)) == 1) {
			sink_one(t, &rec, sink, user);
			n++;
		}
		/* A refusal (a bug: only the voice thread writes it) ends the
		 * drain rather than spinning the loop on it. */
		if (r < 0 || th_ring_prepare_sleep(&t->out.cons) == 0)
			return n;
	}
}

int voice_thread_client(struct voice_thread *t, uint64_t client_id, const uint8_t speaker[VOICE_KEY_LEN],
			const char *name)
{
	struct vrec_client c = { .client_id = client_id };
	memcpy(c.speaker, speaker, VOICE_KEY_LEN);
	size_t n = strnlen(name, VOICE_NAME_MAX);
	memcpy(c.name, name, n);
	return in_push(t, VREC_CLIENT, &c, sizeof c);
}

int voice_thread_client_gone(struct voice_thread *t, uint64_t client_id)
{
	struct vrec_u64 u = { .v = client_id };
	return in_push(t, VREC_GONE, &u, sizeof u);
}

int voice_thread_client_state(struct voice_thread *t, uint64_t client_id, uint32_t flags)
{
	struct vrec_state s = { .client_id = client_id, .flags = flags };
	return in_push(t, VREC_STATE, &s, sizeof s);
}

int voice_thread_capture(struct voice_thread *t, uint64_t client_id, uint32_t seq, uint64_t t_ns,
			 const int16_t pcm[VOICE_CHUNK_SAMPLES])
{
	struct vrec_pcm p = { .client_id = client_id, .t_ns = t_ns, .seq = seq };
	memcpy(p.pcm, pcm, sizeof p.pcm);
	return in_push(t, VREC_PCM, &p, sizeof p);
}

int voice_thread_packet(struct voice_thread *t, const struct voice_packet *p)
{
	struct vrec_packet k = { .seq = p->seq, .ts = p->ts, .flags = p->flags, .len = p->len };
	if (p->len > VOICE_OPUS_MAX)
		return -EINVAL;
	memcpy(k.speaker, p->speaker, VOICE_KEY_LEN);
	memcpy(k.data, p->data, p->len);
	return in_push(t, VREC_PACKET, &k, (uint32_t)(offsetof(struct vrec_packet, data) + p->len));
}

int voice_thread_name(struct voice_thread *t, const uint8_t speaker[VOICE_KEY_LEN], const char *name)
{
	struct vrec_name n = { 0 };
	memcpy(n.speaker, speaker, VOICE_KEY_LEN);
	memcpy(n.name, name, strnlen(name, VOICE_NAME_MAX));
	return in_push(t, VREC_NAME, &n, sizeof n);
}

int voice_thread_pose(struct voice_thread *t, uint64_t entity, const struct voice_pose *head)
{
	struct vrec_pose o = { .entity = entity, .head = *head };
	return in_push(t, VREC_POSE, &o, sizeof o);
}

int voice_thread_admin_mute(struct voice_thread *t, const uint8_t speaker[VOICE_KEY_LEN], bool muted)
{
	struct vrec_mute m = { .muted = muted };
	memcpy(m.speaker, speaker, VOICE_KEY_LEN);
	return in_push(t, VREC_ADMIN_MUTE, &m, sizeof m);
}

int voice_thread_set_loss(struct voice_thread *t, unsigned pct)
{
	struct vrec_u64 u = { .v = pct > 100 ? 100 : pct };
	return in_push(t, VREC_LOSS, &u, sizeof u);
}

int voice_thread_reset(struct voice_thread *t)
{
	struct vrec_u64 u = { 0 };
	return in_push(t, VREC_RESET, &u, sizeof u);
}

int voice_thread_stats_request(struct voice_thread *t, uint64_t tag)
{
	struct vrec_u64 u = { .v = tag };
	return in_push(t, VREC_STATS_REQ, &u, sizeof u);
}
