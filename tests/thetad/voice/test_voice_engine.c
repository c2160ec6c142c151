/* thetad/voice/voice_engine: the pipeline of two daemons in simulated time,
 * wired packet to packet through a small simulated network (delay, seeded
 * loss): a tone captured at one daemon's client is played at the other's;
 * 10 and 20 ms frames; the mute and push-to-talk gates; admin mute; a
 * flooding speaker and malformed frames dropped and counted while the others
 * are unaffected; nobody hears themself; two local clients hear each other
 * without the codec; panning; statistics and speaking names; reset. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "voice/voice_engine.h"

#define MS      (1000ull * 1000)
#define T0      (5000 * MS)
#define TICK    (VOICE_CHUNK_MS * MS)
#define NODES   2
#define CLIENTS 4
#define WIRE_MAX 4096
#define REC_MAX_FRAMES (VOICE_RATE * 8u) /* 8 s of stereo per listener */
#define TONE_AMP 8000.0

/* ---- the rig: two engines, their clients, the network between them ---- */

struct rec {
	uint64_t id;
	int16_t *pcm;          /* stereo, every chunk played, in order */
	size_t frames;
	unsigned plays;
	uint64_t last_t_ns, last_play_ns;
};

struct src {
	bool used, on;
	uint64_t id;
	double freq;           /* 0: silence */
	uint32_t seq;
	uint64_t phase;
	unsigned per_tick;     /* chunks captured per tick (1; more floods) */
	bool syllables;        /* 200 ms of tone, 100 ms of silence, like speech */
};

struct wire {
	uint64_t at;
	int to;
	struct voice_packet p;
	uint8_t data[VOICE_OPUS_MAX];
};

struct rig;
struct node {
	struct rig *r;
	int idx;
	struct voice_engine *e;
	struct src src[CLIENTS];
	struct rec rec[CLIENTS];
	unsigned changed;
};

struct rig {
	uint64_t now;
	struct node n[NODES];
	struct wire *q;
	unsigned qn;
	unsigned loss_pct;
	uint64_t delay_ns, jitter_ns; /* each packet: delay plus 0..jitter */
	uint32_t rng;
	uint64_t sent, lost;
	int last_rv[NODES];
};

static uint32_t rnd(struct rig *r)
{
	r->rng = r->rng * 1664525u + 1013904223u;
	return r->rng >> 8;
}

static void on_packet(void *user, const struct voice_packet *p)
{
	struct node *n = user;
	struct rig *r = n->r;
	r->sent++;
	assert_true(p->len > 0 && p->len <= VOICE_OPUS_MAX);
	if (r->loss_pct && rnd(r) % 100u < r->loss_pct) {
		r->lost++;
		return;
	}
	assert_true(r->qn < WIRE_MAX);
	struct wire *w = &r->q[r->qn++];
	uint64_t wide = (uint64_t)rnd(r) << 24 | rnd(r);
	w->at = r->now + r->delay_ns + (r->jitter_ns ? wide % (r->jitter_ns + 1) : 0);
	w->to = 1 - n->idx;
	w->p = *p;
	memcpy(w->data, p->data, p->len);
	w->p.data = w->data;
}

static struct rec *rec_of(struct node *n, uint64_t id)
{
	for (unsigned i = 0; i < CLIENTS; i++)
		if (n->rec[i].pcm && n->rec[i].id == id)
			return &n->rec[i];
	return NULL;
}

static void on_play(void *user, uint64_t client_id, const int16_t *stereo, uint64_t t_ns)
{
	struct node *n = user;
	struct rec *rc = rec_of(n, client_id);
	assert_non_null(rc);
	if (rc->frames + VOICE_CHUNK_SAMPLES <= REC_MAX_FRAMES) {
		memcpy(rc->pcm + 2 * rc->frames, stereo, 2 * VOICE_CHUNK_SAMPLES * sizeof(int16_t));
		rc->frames += VOICE_CHUNK_SAMPLES;
	}
	rc->plays++;
	rc->last_t_ns = t_ns;
	rc->last_play_ns = n->r->now;
}

static void on_changed(void *user)
{
	struct node *n = user;
	n->changed++;
}

/* A CPU clock that moves 1 µs a reading: the engine reads no clock of its own. */
static uint64_t fake_cpu_ns;
static uint64_t on_cpu_now(void *user)
{
	return fake_cpu_ns += 1000;
}

static const struct voice_engine_out rig_out = {
	.packet = on_packet, .play = on_play, .changed = on_changed, .cpu_now = on_cpu_now
};

static void key_of(uint8_t key[VOICE_KEY_LEN], uint8_t who)
{
	for (unsigned i = 0; i < VOICE_KEY_LEN; i++)
		key[i] = (uint8_t)(who * 17u + i);
}

/* DTX off unless a test turns it on: Opus takes a steady tone for noise
 * after a while and stops sending it, as it should. */
static bool rig_dtx;

static struct voice_engine_config config(unsigned frame_ms)
{
	return (struct voice_engine_config){
		.enc = { .frame_ms = frame_ms, .complexity = -1, .fec = true, .dtx = rig_dtx },
		.vad = VOICE_VAD_ENERGY,
		.spatial = true,
	};
}

static struct rig *rig_new(unsigned frame_ms)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->q = calloc(WIRE_MAX, sizeof(*r->q));
	assert_non_null(r->q);
	r->now = T0;
	r->rng = 12345;
	r->delay_ns = 15 * MS;
	struct voice_engine_config cfg = config(frame_ms);
	for (int i = 0; i < NODES; i++) {
		r->n[i].r = r;
		r->n[i].idx = i;
		assert_int_equal(voice_engine_create(&cfg, &rig_out, &r->n[i], &r->n[i].e), 0);
	}
	return r;
}

static void rig_free(struct rig *r)
{
	for (int i = 0; i < NODES; i++) {
		voice_engine_destroy(&r->n[i].e);
		assert_null(r->n[i].e);
		for (unsigned k = 0; k < CLIENTS; k++)
			free(r->n[i].rec[k].pcm);
	}
	free(r->q);
	free(r);
}

/* A local client of node `node`, speaking as key `who`, with audio on. */
static struct src *rig_client(struct rig *r, int node, uint64_t id, uint8_t who, const char *name, double freq)
{
	struct node *n = &r->n[node];
	uint8_t key[VOICE_KEY_LEN];
	key_of(key, who);
	assert_int_equal(voice_engine_client(n->e, id, key, name, r->now), 0);
	assert_int_equal(voice_engine_client_state(n->e, id, VOICE_CL_ON, r->now), 0);
	struct src *s = NULL;
	for (unsigned i = 0; i < CLIENTS && !s; i++)
		if (!n->src[i].used) {
			s = &n->src[i];
			n->rec[i].id = id;
			n->rec[i].pcm = calloc(2 * REC_MAX_FRAMES, sizeof(int16_t));
			assert_non_null(n->rec[i].pcm);
		}
	assert_non_null(s);
	*s = (struct src){ .used = true, .on = true, .id = id, .freq = freq, .per_tick = 1 };
	return s;
}

static void make_chunk(struct src *s, int16_t *pcm)
{
	bool quiet = s->syllables && (s->phase / VOICE_CHUNK_SAMPLES) % 30u >= 20u;
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++, s->phase++)
		pcm[i] = s->freq > 0 && !quiet
				 ? (int16_t)lrint(TONE_AMP * sin(2.0 * M_PI * s->freq * (double)s->phase / VOICE_RATE))
				 : 0;
}

/* One 10 ms step: every client captures, the network delivers what is due,
 * both engines tick. */
static void rig_step(struct rig *r)
{
	for (int i = 0; i < NODES; i++)
		for (unsigned k = 0; k < CLIENTS; k++) {
			struct src *s = &r->n[i].src[k];
			if (!s->used || !s->on)
				continue;
			for (unsigned c = 0; c < s->per_tick; c++) {
				int16_t pcm[VOICE_CHUNK_SAMPLES];
				make_chunk(s, pcm);
				int rv = voice_engine_capture(r->n[i].e, s->id, s->seq++, r->now, pcm,
							      VOICE_CHUNK_SAMPLES, r->now);
				assert_true(rv == 0 || rv == -EDQUOT);
			}
		}
	unsigned keep = 0;
	for (unsigned i = 0; i < r->qn; i++) {
		struct wire *w = &r->q[i];
		if (w->at <= r->now) {
			r->last_rv[w->to] = voice_engine_packet(r->n[w->to].e, &w->p, r->now);
		} else {
			if (keep != i)
				r->q[keep] = *w;
			r->q[keep].p.data = r->q[keep].data;
			keep++;
		}
	}
	r->qn = keep;
	for (int i = 0; i < NODES; i++)
		voice_engine_tick(r->n[i].e, r->now);
	r->now += TICK;
}

static void rig_run(struct rig *r, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += VOICE_CHUNK_MS)
		rig_step(r);
}

/* Amplitude of `freq` in one channel of the last `frames` frames played
 * (Goertzel). */
static double tone_amp(const struct rec *rc, unsigned ch, double freq, size_t frames)
{
	if (frames > rc->frames)
		frames = rc->frames;
	if (!frames)
		return 0;
	const int16_t *p = rc->pcm + 2 * (rc->frames - frames);
	double w = 2.0 * M_PI * freq / VOICE_RATE, c = 2.0 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < frames; i++) {
		double s0 = p[2 * i + ch] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double re = s1 - s2 * cos(w), im = s2 * sin(w);
	return 2.0 * sqrt(re * re + im * im) / (double)frames;
}

static void speaker_stats(struct voice_engine *e, uint8_t who, struct voice_speaker_stats *out, uint64_t now)
{
	uint8_t key[VOICE_KEY_LEN];
	key_of(key, who);
	struct voice_speaker_stats st[VOICE_SPEAKERS_MAX];
	unsigned n = voice_engine_speakers(e, st, VOICE_SPEAKERS_MAX, now);
	for (unsigned i = 0; i < n && i < VOICE_SPEAKERS_MAX; i++)
		if (!memcmp(st[i].speaker, key, VOICE_KEY_LEN)) {
			*out = st[i];
			return;
		}
	fail_msg("speaker %u not listed", who);
}

static void assert_hears(const struct rec *rc, double freq, const char *what)
{
	const size_t win = VOICE_RATE; /* the last second */
	assert_true(rc->frames >= win);
	for (unsigned ch = 0; ch < 2; ch++) {
		double a = tone_amp(rc, ch, freq, win);
		double other = tone_amp(rc, ch, freq * 1.77, win);
		printf("  %s: channel %u: %.0f Hz at %.0f, %.0f Hz at %.0f\n", what, ch, freq, a, freq * 1.77, other);
		assert_true(a > TONE_AMP * 0.25);
		assert_true(a > 8 * other);
	}
}

/* ---- tests ------------------------------------------------------------- */

static void a_tone_spoken_at_one_daemon_is_heard_at_the_other(unsigned frame_ms)
{
	struct rig *r = rig_new(frame_ms);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	rig_run(r, 2000);

	struct rec *rc = rec_of(&r->n[1], 2);
	struct voice_engine_totals ta, tb;
	voice_engine_totals(r->n[0].e, &ta);
	voice_engine_totals(r->n[1].e, &tb);
	printf("  %u chunks played; %" PRIu64 " frames encoded, %" PRIu64 " DTX, %" PRIu64 " decoded, %" PRIu64
	       " concealed\n",
	       rc->plays, ta.frames_encoded, ta.frames_dtx, tb.frames_decoded, tb.frames_concealed);
	/* Heard from about the network delay plus the jitter buffer on. */
	assert_true(rc->plays > 150);
	assert_hears(rc, 440, "bob hears alice");

	assert_int_equal(ta.chunks_in, 200);
	assert_int_equal(ta.frames_encoded, 200 / (frame_ms / VOICE_CHUNK_MS));
	assert_int_equal(ta.packets_out + ta.frames_dtx, ta.frames_encoded);
	assert_int_equal(ta.packets_out, r->sent);
	assert_true(ta.bytes_out > ta.packets_out * 10);
	assert_int_equal(tb.packets_in, r->sent - r->qn);
	assert_int_equal(tb.bad_packets + tb.flood_drops + tb.frames_late, 0);
	assert_true(tb.frames_decoded > 150u / (frame_ms / VOICE_CHUNK_MS));
	assert_int_equal(tb.chunks_played, rc->plays);
	/* CPU time is what the module's clock said around each stage. */
	assert_int_equal(ta.encode_ns, 1000 * ta.frames_encoded);
	assert_true(tb.decode_ns >= 1000 * (tb.frames_decoded + tb.frames_fec + tb.frames_concealed));
	assert_true(tb.mix_ns >= 1000 * 150);
	assert_int_equal(tb.encode_ns, 0);
	/* Nothing came back: bob is silent, and alice does not hear herself. */
	assert_int_equal(rec_of(&r->n[0], 1)->plays, 0);
	assert_int_equal(tb.packets_out, 0);
	rig_free(r);
}

static void with_20_ms_frames(void **state)
{
	a_tone_spoken_at_one_daemon_is_heard_at_the_other(20);
}

static void with_10_ms_frames(void **state)
{
	a_tone_spoken_at_one_daemon_is_heard_at_the_other(10);
}

static void a_late_tick_does_not_add_to_the_delay(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	rig_run(r, 1000);
	struct voice_engine_totals t0, t1;
	voice_engine_totals(r->n[1].e, &t0);
	assert_int_equal(t0.samples_skipped, 0);
	/* Bob's voice thread stalls for 80 ms: frames arrive, no tick runs. */
	for (unsigned i = 0; i < 8; i++) {
		/* Capture and deliver as usual; tick only alice's daemon. */
		struct src *s = &r->n[0].src[0];
		int16_t pcm[VOICE_CHUNK_SAMPLES];
		make_chunk(s, pcm);
		int rv = voice_engine_capture(r->n[0].e, s->id, s->seq++, r->now, pcm, VOICE_CHUNK_SAMPLES, r->now);
		assert_int_equal(rv, 0);
		unsigned keep = 0;
		for (unsigned k = 0; k < r->qn; k++) {
			if (r->q[k].at <= r->now) {
				voice_engine_packet(r->n[1].e, &r->q[k].p, r->now);
			} else {
				r->q[keep] = r->q[k];
				r->q[keep].p.data = r->q[keep].data;
				keep++;
			}
		}
		r->qn = keep;
		voice_engine_tick(r->n[0].e, r->now);
		r->now += TICK;
	}
	unsigned plays = rec_of(&r->n[1], 2)->plays;
	rig_run(r, 1000);
	voice_engine_totals(r->n[1].e, &t1);
	printf("  after an 80 ms stall: %" PRIu64 " samples skipped\n", t1.samples_skipped);
	/* Of the 80 ms that came due at once, at most the frame playing now
	 * stays: the rest is skipped, not kept as delay. */
	assert_true(t1.samples_skipped >= (80 - 20) * (VOICE_RATE / 1000u));
	/* One chunk a tick from then on, and alice still heard. */
	assert_true(rec_of(&r->n[1], 2)->plays - plays >= 98);
	assert_hears(rec_of(&r->n[1], 2), 440, "after the stall");
	rig_free(r);
}

static void jitter_and_reordering_on_the_way_are_absorbed(void **state)
{
	struct rig *r = rig_new(20);
	r->jitter_ns = 50 * MS;
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	rig_run(r, 4000);
	struct voice_speaker_stats st;
	speaker_stats(r->n[1].e, 1, &st, r->now);
	printf("  0..50 ms jitter: %" PRIu64 " frames, %" PRIu64 " late, %" PRIu64 " concealed, %" PRIu64
	       " fec; jitter %u us, target %u ms, depth %u ms\n",
	       st.packets, st.late, st.concealed, st.fec_recovered, st.jitter_us, st.jb_target_ms, st.jb_depth_ms);
	assert_int_equal(st.frames_lost, 0);
	assert_true(st.jitter_us > 1000);
	assert_true(st.jb_target_ms >= 20 && st.jb_target_ms <= VOICE_JB_MAX_MS);
	/* The buffer grew to the jitter: the last two seconds play whole. */
	assert_true(st.late + st.concealed < st.packets / 10);
	assert_hears(rec_of(&r->n[1], 2), 440, "through the jitter");
	rig_free(r);
}

static void a_speaker_whose_daemon_restarted_is_heard_again(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	rig_run(r, 1000);
	/* Alice's daemon starts over mid-sentence: her seq and ts begin anew. */
	voice_engine_destroy(&r->n[0].e);
	struct voice_engine_config cfg = config(20);
	assert_int_equal(voice_engine_create(&cfg, &rig_out, &r->n[0], &r->n[0].e), 0);
	uint8_t ka[VOICE_KEY_LEN];
	key_of(ka, 1);
	assert_int_equal(voice_engine_client(r->n[0].e, 1, ka, "alice", r->now), 0);
	assert_int_equal(voice_engine_client_state(r->n[0].e, 1, VOICE_CL_ON, r->now), 0);
	r->n[0].src[0].seq = 0;
	rig_run(r, 500);
	unsigned before = rec_of(&r->n[1], 2)->plays;
	rig_run(r, 1500);
	struct voice_speaker_stats st;
	speaker_stats(r->n[1].e, 1, &st, r->now);
	printf("  restarted: %u chunks in 1.5 s; %" PRIu64 " frames, %" PRIu64 " dropped, %" PRIu64 " late\n",
	       rec_of(&r->n[1], 2)->plays - before, st.packets, st.dropped, st.late);
	assert_true(rec_of(&r->n[1], 2)->plays - before >= 145);
	assert_hears(rec_of(&r->n[1], 2), 440, "after her daemon restarted");
	rig_free(r);
}

static void both_talk_and_each_hears_the_other(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 620);
	rig_run(r, 2000);
	assert_hears(rec_of(&r->n[1], 2), 440, "bob hears alice");
	assert_hears(rec_of(&r->n[0], 1), 620, "alice hears bob");
	/* Neither hears their own tone. */
	assert_true(tone_amp(rec_of(&r->n[1], 2), 0, 620, VOICE_RATE) < TONE_AMP * 0.05);
	assert_true(tone_amp(rec_of(&r->n[0], 1), 0, 440, VOICE_RATE) < TONE_AMP * 0.05);
	rig_free(r);
}

/* Plays counted at bob's after alice's gate changed, once the pipeline drained. */
static unsigned plays_during(struct rig *r, unsigned ms)
{
	rig_run(r, 300); /* what was on the way plays out */
	unsigned before = rec_of(&r->n[1], 2)->plays;
	rig_run(r, ms);
	return rec_of(&r->n[1], 2)->plays - before;
}

static void mute_and_push_to_talk_close_the_gate(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	struct voice_engine *a = r->n[0].e;
	assert_true(plays_during(r, 500) >= 45);
	assert_int_equal(voice_engine_client_info(a, 1), VOICE_INFO_ON | VOICE_INFO_SENDING);

	assert_int_equal(voice_engine_client_state(a, 1, VOICE_CL_ON | VOICE_CL_MUTED, r->now), 0);
	uint64_t sent = r->sent;
	assert_int_equal(plays_during(r, 500), 0);
	assert_int_equal(r->sent, sent);
	assert_int_equal(voice_engine_client_info(a, 1), VOICE_INFO_ON | VOICE_INFO_MUTED);

	/* Push-to-talk: silent until the key is held. */
	assert_int_equal(voice_engine_client_state(a, 1, VOICE_CL_ON | VOICE_CL_PTT, r->now), 0);
	assert_int_equal(plays_during(r, 500), 0);
	assert_int_equal(voice_engine_client_info(a, 1), VOICE_INFO_ON);
	assert_int_equal(voice_engine_client_state(a, 1, VOICE_CL_ON | VOICE_CL_PTT | VOICE_CL_TALK, r->now), 0);
	assert_true(plays_during(r, 500) >= 45);
	assert_int_equal(voice_engine_client_info(a, 1), VOICE_INFO_ON | VOICE_INFO_SENDING);
	assert_hears(rec_of(&r->n[1], 2), 440, "push-to-talk held");
	/* Held, but muted: muted wins. */
	assert_int_equal(voice_engine_client_state(a, 1, VOICE_CL_ALL, r->now), 0);
	assert_int_equal(plays_during(r, 500), 0);
	/* Audio off: nothing goes either way. */
	assert_int_equal(voice_engine_client_state(a, 1, 0, r->now), 0);
	assert_int_equal(plays_during(r, 500), 0);
	assert_int_equal(voice_engine_client_info(a, 1), 0);

	/* Each change of a client's own state was reported. */
	assert_true(r->n[0].changed >= 4);
	assert_int_equal(voice_engine_client_state(a, 1, 16, r->now), -EINVAL);
	assert_int_equal(voice_engine_client_state(a, 9, VOICE_CL_ON, r->now), -ENOENT);
	rig_free(r);
}

/* Muted mid-word and unmuted in silence: not "speaking" (the VAD's hangover
 * from before the mute does not carry over), here nor at the other daemon
 * (the frames sent carry no SPEECH flag). */
static void unmuted_in_silence_a_speaker_is_not_speaking(void **state)
{
	struct rig *r = rig_new(20);
	struct src *a = rig_client(r, 0, 1, 1, "alice", 440);
	a->syllables = true;
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	struct voice_engine *e = r->n[0].e;
	char buf[64];
	rig_run(r, 700); /* in a syllable: chunks 60..79 are tone */
	assert_int_equal(voice_engine_speaking(e, buf, sizeof(buf), r->now), 1);
	assert_int_equal(voice_engine_client_state(e, 1, VOICE_CL_ON | VOICE_CL_MUTED, r->now), 0);
	a->freq = 0;
	rig_run(r, 200);
	assert_int_equal(voice_engine_speaking(e, buf, sizeof(buf), r->now), 0);
	assert_int_equal(voice_engine_client_state(e, 1, VOICE_CL_ON, r->now), 0);
	rig_run(r, 60);
	assert_int_equal(voice_engine_client_info(e, 1), VOICE_INFO_ON | VOICE_INFO_SENDING);
	assert_int_equal(voice_engine_speaking(e, buf, sizeof(buf), r->now), 0);
	rig_run(r, 100);
	assert_int_equal(voice_engine_speaking(e, buf, sizeof(buf), r->now), 0);
	assert_int_equal(voice_engine_speaking(r->n[1].e, buf, sizeof(buf), r->now), 0);
	struct voice_speaker_stats st;
	speaker_stats(e, 1, &st, r->now);
	assert_false(st.speaking);
	/* Speaking again is seen again. */
	a->freq = 440;
	rig_run(r, 300);
	assert_int_equal(voice_engine_speaking(e, buf, sizeof(buf), r->now), 1);
	assert_int_equal(voice_engine_speaking(r->n[1].e, buf, sizeof(buf), r->now), 1);
	rig_free(r);
}

static void an_admin_mute_stops_a_speaker_here_and_there(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	uint8_t alice[VOICE_KEY_LEN];
	key_of(alice, 1);
	assert_true(plays_during(r, 500) >= 45);

	/* Muted at the daemon bob listens on: alice's frames come and are dropped. */
	voice_engine_admin_mute(r->n[1].e, alice, true);
	uint64_t sent = r->sent;
	assert_int_equal(plays_during(r, 500), 0);
	assert_true(r->sent > sent);
	struct voice_speaker_stats st;
	speaker_stats(r->n[1].e, 1, &st, r->now);
	assert_true(st.admin_muted);
	assert_true(st.dropped >= 25);
	assert_false(st.speaking);
	voice_engine_admin_mute(r->n[1].e, alice, false);
	assert_true(plays_during(r, 500) >= 45);

	/* Muted at her own daemon: nothing is sent, and she is told. */
	voice_engine_admin_mute(r->n[0].e, alice, true);
	sent = r->sent;
	assert_int_equal(plays_during(r, 500), 0);
	assert_int_equal(r->sent, sent);
	assert_int_equal(voice_engine_client_info(r->n[0].e, 1), VOICE_INFO_ON | VOICE_INFO_ADMIN_MUTED);
	voice_engine_admin_mute(r->n[0].e, alice, false);
	assert_true(plays_during(r, 500) >= 45);
	assert_int_equal(voice_engine_client_info(r->n[0].e, 1), VOICE_INFO_ON | VOICE_INFO_SENDING);

	/* A mute given before the speaker is heard holds when they speak. */
	uint8_t carol[VOICE_KEY_LEN];
	key_of(carol, 3);
	voice_engine_admin_mute(r->n[0].e, carol, true);
	rig_client(r, 0, 3, 3, "carol", 700);
	assert_int_equal(voice_engine_client_info(r->n[0].e, 3), VOICE_INFO_ON | VOICE_INFO_ADMIN_MUTED);
	rig_run(r, 1000);
	assert_true(tone_amp(rec_of(&r->n[1], 2), 0, 700, VOICE_RATE / 2) < TONE_AMP * 0.02);
	rig_free(r);
}

/* Valid Opus frames of a tone, made by the real encoder, for injection. */
struct forge {
	struct voice_enc *enc;
	uint64_t phase;
	uint32_t seq, ts;
	uint8_t key[VOICE_KEY_LEN];
	uint8_t buf[VOICE_OPUS_MAX];
};

static void forge_init(struct forge *f, uint8_t who)
{
	memset(f, 0, sizeof(*f));
	struct voice_enc_config c = { .frame_ms = 20, .complexity = -1, .fec = true, .dtx = false };
	assert_int_equal(voice_enc_create(&c, &f->enc), 0);
	key_of(f->key, who);
}

static struct voice_packet forge_next(struct forge *f, double freq)
{
	int16_t pcm[2 * VOICE_CHUNK_SAMPLES];
	for (unsigned i = 0; i < 2 * VOICE_CHUNK_SAMPLES; i++, f->phase++)
		pcm[i] = (int16_t)lrint(TONE_AMP * sin(2.0 * M_PI * freq * (double)f->phase / VOICE_RATE));
	int n = voice_enc_frame(f->enc, pcm, f->buf, sizeof(f->buf));
	assert_true(n > 0);
	struct voice_packet p = { .seq = f->seq++, .ts = f->ts, .flags = VOICE_PKT_F_SPEECH, .len = (uint16_t)n,
				  .data = f->buf };
	f->ts += 2 * VOICE_CHUNK_SAMPLES;
	memcpy(p.speaker, f->key, VOICE_KEY_LEN);
	return p;
}

static void a_flooding_speaker_is_dropped_and_counted_and_the_others_are_unaffected(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	struct forge f;
	forge_init(&f, 9);
	struct voice_engine *b = r->n[1].e;
	unsigned refused = 0, sent = 0;
	for (unsigned t = 0; t < 300; t++) {
		/* Ten frames of 20 ms every 10 ms: twenty times real time. */
		for (unsigned k = 0; k < 10; k++, sent++) {
			struct voice_packet p = forge_next(&f, 1000);
			int rv = voice_engine_packet(b, &p, r->now);
			assert_true(rv == 0 || rv == -EDQUOT || rv == -ERANGE || rv == -ETIME);
			refused += rv == -EDQUOT;
		}
		rig_step(r);
	}
	voice_enc_destroy(&f.enc);
	struct voice_engine_totals tb;
	voice_engine_totals(b, &tb);
	struct voice_speaker_stats flood, alice;
	speaker_stats(b, 9, &flood, r->now);
	speaker_stats(b, 1, &alice, r->now);
	printf("  flood: %u frames sent, %u refused, %" PRIu64 " dropped\n", sent, refused, flood.dropped);
	assert_int_equal(tb.flood_drops, refused);
	/* At most twice real time plus one second of burst gets through. */
	assert_true(sent - refused <= 2 * 150 + 50 + 2);
	assert_true(refused > sent / 2);
	assert_true(flood.dropped >= refused);
	/* Alice: every frame taken, none late, none concealed, still heard. */
	assert_int_equal(alice.dropped + alice.late + alice.concealed, 0);
	assert_int_equal(alice.packets, r->sent - r->qn);
	assert_hears(rec_of(&r->n[1], 2), 440, "bob hears alice through the flood");
	rig_free(r);
}

static void a_client_capturing_too_fast_is_cut_to_its_rate(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440)->per_tick = 6;
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	rig_run(r, 3000);
	struct voice_engine_totals ta;
	voice_engine_totals(r->n[0].e, &ta);
	assert_int_equal(ta.chunks_in, 6 * 300);
	assert_true(ta.flood_drops > 6 * 300 / 2);
	/* What was taken: at most twice real time plus one second of burst. */
	assert_true(ta.chunks_in - ta.flood_drops <= 2 * 300 + 100 + 2);
	assert_true(ta.frames_encoded <= (2 * 300 + 100 + 2) / 2);
	rig_free(r);
}

static void malformed_frames_are_dropped_and_counted(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	struct voice_engine *b = r->n[1].e;
	rig_run(r, 500);
	struct voice_engine_totals t0;
	voice_engine_totals(b, &t0);
	unsigned listed = voice_engine_speakers(b, NULL, 0, r->now);

	uint8_t big[VOICE_OPUS_MAX + 1], junk[64];
	memset(big, 0x08, sizeof(big));
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0xff - i * 7);
	struct voice_packet p = { .seq = 1, .ts = 960 };
	key_of(p.speaker, 7);
	p.len = 0;
	p.data = junk;
	assert_int_equal(voice_engine_packet(b, &p, r->now), -EMSGSIZE);
	p.len = sizeof(big);
	p.data = big;
	assert_int_equal(voice_engine_packet(b, &p, r->now), -EMSGSIZE);
	p.len = 5;
	p.data = NULL;
	assert_int_equal(voice_engine_packet(b, &p, r->now), -EMSGSIZE);
	/* Garbage; a code 3 packet claiming 48 frames; a stereo frame. */
	p.data = junk;
	p.len = sizeof(junk);
	assert_int_equal(voice_engine_packet(b, &p, r->now), -EBADMSG);
	uint8_t many[8] = { 0x0b, 0x30, 1, 2, 3, 4, 5, 6 };
	p.data = many;
	p.len = sizeof(many);
	assert_int_equal(voice_engine_packet(b, &p, r->now), -EBADMSG);
	struct forge f;
	forge_init(&f, 7);
	struct voice_packet good = forge_next(&f, 500);
	uint8_t stereo[VOICE_OPUS_MAX];
	memcpy(stereo, good.data, good.len);
	stereo[0] |= 0x04;
	p.data = stereo;
	p.len = good.len;
	assert_int_equal(voice_engine_packet(b, &p, r->now), -EBADMSG);
	/* A good frame with flags nobody defined. */
	good.flags = 0x80;
	assert_int_equal(voice_engine_packet(b, &good, r->now), -EBADMSG);
	voice_enc_destroy(&f.enc);

	struct voice_engine_totals t1;
	voice_engine_totals(b, &t1);
	assert_int_equal(t1.bad_packets - t0.bad_packets, 7);
	assert_int_equal(t1.packets_in - t0.packets_in, 7);
	/* None of it made a speaker, and alice plays on untouched. */
	assert_int_equal(voice_engine_speakers(b, NULL, 0, r->now), listed);
	rig_run(r, 1500);
	struct voice_speaker_stats alice;
	speaker_stats(b, 1, &alice, r->now);
	assert_int_equal(alice.dropped + alice.concealed + alice.late, 0);
	assert_hears(rec_of(&r->n[1], 2), 440, "after the garbage");
	rig_free(r);
}

static void a_frame_of_a_key_that_speaks_here_is_an_echo(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	struct forge f;
	forge_init(&f, 1); /* alice's own key, from elsewhere */
	struct voice_packet p = forge_next(&f, 440);
	assert_int_equal(voice_engine_packet(r->n[0].e, &p, r->now), -EEXIST);
	voice_enc_destroy(&f.enc);
	struct voice_engine_totals t;
	voice_engine_totals(r->n[0].e, &t);
	assert_int_equal(t.echo_drops, 1);
	rig_run(r, 1000);
	/* Alice alone on her daemon: she is never played her own voice. */
	assert_int_equal(rec_of(&r->n[0], 1)->plays, 0);
	rig_free(r);
}

static void two_local_clients_hear_each_other_without_the_codec(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 0, 3, 3, "carol", 620);
	rig_run(r, 1000);
	struct rec *ra = rec_of(&r->n[0], 1), *rcl = rec_of(&r->n[0], 3);
	/* From the first tick on: no jitter buffer, no codec. */
	assert_int_equal(ra->plays, 100);
	assert_int_equal(rcl->plays, 100);
	assert_hears(ra, 620, "alice hears carol");
	assert_hears(rcl, 440, "carol hears alice");
	assert_true(tone_amp(ra, 0, 440, VOICE_RATE) < 1.0);
	assert_true(tone_amp(rcl, 0, 620, VOICE_RATE) < 1.0);
	/* Bit for bit what the mixer makes of carol's chunk alone (both
	 * without poses: centred), and it carries carol's capture time. */
	struct src probe = { .freq = 620, .phase = 99 * VOICE_CHUNK_SAMPLES };
	int16_t chunk[VOICE_CHUNK_SAMPLES], want[2 * VOICE_CHUNK_SAMPLES];
	make_chunk(&probe, chunk);
	float acc[2 * VOICE_CHUNK_SAMPLES] = { 0 };
	struct voice_pose none = { .valid = false };
	struct voice_gains g = voice_pan(&none, &none);
	voice_mix_add(acc, chunk, g, g);
	voice_mix_out(acc, want);
	assert_memory_equal(ra->pcm + 2 * (ra->frames - VOICE_CHUNK_SAMPLES), want, sizeof(want));
	assert_int_equal(ra->last_t_ns, r->now - TICK);
	rig_free(r);
}

static void a_burst_from_a_local_client_leaves_no_standing_delay(void **state)
{
	struct rig *r = rig_new(20);
	struct src *a = rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 0, 3, 3, "carol", 0)->on = false;
	rig_run(r, 1000);
	struct rec *rc = rec_of(&r->n[0], 3);
	struct voice_engine_totals t;
	voice_engine_totals(r->n[0].e, &t);
	/* Steady: carol hears each chunk at the tick after its capture, nothing dropped. */
	assert_int_equal(rc->last_t_ns, r->now - TICK);
	assert_int_equal(t.fifo_overruns, 0);
	/* Alice's client stalls 30 ms, then hands over four chunks at once. */
	a->on = false;
	rig_run(r, 30);
	a->on = true;
	a->per_tick = 4;
	rig_step(r);
	a->per_tick = 1;
	/* For a while carol hears alice 30 ms late; then the fifo is cut back. */
	rig_run(r, 100);
	assert_int_equal(rc->last_t_ns, r->now - TICK - 30 * MS);
	rig_run(r, 500);
	assert_int_equal(rc->last_t_ns, r->now - TICK);
	voice_engine_totals(r->n[0].e, &t);
	assert_int_equal(t.fifo_overruns, 3);
	rig_free(r);
}

static void a_listener_hears_a_local_and_a_remote_speaker_at_once(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 0, 3, 3, "carol", 0)->on = false;
	rig_client(r, 1, 2, 2, "bob", 620);
	rig_run(r, 2000);
	struct rec *rc = rec_of(&r->n[0], 3);
	assert_hears(rc, 440, "carol hears alice (local)");
	assert_hears(rc, 620, "carol hears bob (remote)");
	/* Alice hears bob and not herself; bob hears alice and not himself. */
	assert_hears(rec_of(&r->n[0], 1), 620, "alice hears bob");
	assert_true(tone_amp(rec_of(&r->n[0], 1), 0, 440, VOICE_RATE) < TONE_AMP * 0.05);
	assert_hears(rec_of(&r->n[1], 2), 440, "bob hears alice");
	assert_true(tone_amp(rec_of(&r->n[1], 2), 0, 620, VOICE_RATE) < TONE_AMP * 0.05);
	rig_free(r);
}

static void the_first_client_of_a_user_speaks_and_the_next_takes_over(void **state)
{
	struct rig *r = rig_new(20);
	/* Two clients of alice on one daemon (a desktop and a headset). */
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 0, 4, 1, "alice", 700);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	rig_run(r, 1500);
	assert_int_equal(voice_engine_client_info(r->n[0].e, 1), VOICE_INFO_ON | VOICE_INFO_SENDING);
	assert_int_equal(voice_engine_client_info(r->n[0].e, 4), VOICE_INFO_ON);
	struct rec *rb = rec_of(&r->n[1], 2);
	printf("  bob: %u plays, %zu frames; %" PRIu64 " sent\n", rb->plays, rb->frames, r->sent);
	assert_hears(rb, 440, "bob hears alice's first client");
	assert_true(tone_amp(rb, 0, 700, VOICE_RATE) < TONE_AMP * 0.05);
	/* Neither of alice's clients hears the other: both are alice. */
	assert_int_equal(rec_of(&r->n[0], 1)->plays + rec_of(&r->n[0], 4)->plays, 0);
	assert_int_equal(voice_engine_speakers(r->n[0].e, NULL, 0, r->now), 1);

	voice_engine_client_gone(r->n[0].e, 1);
	r->n[0].src[0].on = false;
	rig_run(r, 1500);
	assert_int_equal(voice_engine_client_info(r->n[0].e, 4), VOICE_INFO_ON | VOICE_INFO_SENDING);
	assert_hears(rb, 700, "bob hears alice's second client");
	rig_free(r);
}

static void a_speaker_on_the_listeners_left_is_louder_on_the_left(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	uint8_t ka[VOICE_KEY_LEN], kb[VOICE_KEY_LEN];
	key_of(ka, 1);
	key_of(kb, 2);
	uint64_t ea = 0, eb = 0;
	for (unsigned i = 0; i < 8; i++) {
		ea |= (uint64_t)ka[i] << (8 * i);
		eb |= (uint64_t)kb[i] << (8 * i);
	}
	/* Bob at the origin looking along -z; alice 2 m to his left. */
	struct voice_pose bob = { .p = { 0, 1.6f, 0 }, .q = { 0, 0, 0, 1 }, .valid = true };
	struct voice_pose left = { .p = { -2, 1.6f, 0 }, .q = { 0, 0, 0, 1 }, .valid = true };
	struct voice_pose right = { .p = { 2, 1.6f, 0 }, .q = { 0, 0, 0, 1 }, .valid = true };
	voice_engine_pose(r->n[1].e, eb, &bob, r->now);
	voice_engine_pose(r->n[1].e, ea, &left, r->now);
	rig_run(r, 1500);
	struct rec *rc = rec_of(&r->n[1], 2);
	double l = tone_amp(rc, 0, 440, VOICE_RATE), rr = tone_amp(rc, 1, 440, VOICE_RATE);
	printf("  alice on the left: L %.0f R %.0f\n", l, rr);
	assert_true(l > 2 * rr);
	voice_engine_pose(r->n[1].e, ea, &right, r->now);
	rig_run(r, 1500);
	l = tone_amp(rc, 0, 440, VOICE_RATE);
	rr = tone_amp(rc, 1, 440, VOICE_RATE);
	printf("  alice on the right: L %.0f R %.0f\n", l, rr);
	assert_true(rr > 2 * l);
	/* Bob turns round (180 degrees about y): she is on his left again. */
	struct voice_pose turned = bob;
	turned.q[1] = 1;
	turned.q[3] = 0;
	voice_engine_pose(r->n[1].e, eb, &turned, r->now);
	rig_run(r, 1500);
	l = tone_amp(rc, 0, 440, VOICE_RATE);
	rr = tone_amp(rc, 1, 440, VOICE_RATE);
	printf("  bob turned round: L %.0f R %.0f\n", l, rr);
	assert_true(l > 2 * rr);
	/* A pose that is not finite is no pose: alice is centred. */
	struct voice_pose bad = left;
	bad.p[0] = NAN;
	voice_engine_pose(r->n[1].e, ea, &bad, r->now);
	rig_run(r, 1500);
	l = tone_amp(rc, 0, 440, VOICE_RATE);
	rr = tone_amp(rc, 1, 440, VOICE_RATE);
	printf("  alice's pose not finite: L %.0f R %.0f\n", l, rr);
	assert_true(l > TONE_AMP * 0.25 && fabs(l - rr) < l * 0.05);
	rig_free(r);
}

static void statistics_and_speaking_names(void **state)
{
	rig_dtx = true;
	struct rig *r = rig_new(20);
	rig_dtx = false;
	struct src *a = rig_client(r, 0, 1, 1, "alice", 0);
	a->syllables = true;
	rig_client(r, 1, 2, 2, "bob", 0)->on = false;
	struct voice_engine *b = r->n[1].e;
	uint8_t ka[VOICE_KEY_LEN];
	key_of(ka, 1);
	char buf[256];

	/* Silence first: DTX sends next to nothing, nobody speaks. */
	rig_run(r, 1000);
	assert_int_equal(voice_engine_speaking(b, buf, sizeof(buf), r->now), 0);
	assert_string_equal(buf, "");
	struct voice_engine_totals ta;
	voice_engine_totals(r->n[0].e, &ta);
	assert_true(ta.frames_dtx > ta.frames_encoded / 2);

	/* Alice speaks: bob's daemon shows her by her key until it learns her name. */
	a->freq = 440;
	unsigned changed = r->n[1].changed;
	rig_run(r, 1000);
	assert_true(r->n[1].changed > changed);
	assert_int_equal(voice_engine_speaking(b, buf, sizeof(buf), r->now), 1);
	assert_int_equal(strncmp(buf, "SHA256:", 7), 0);
	assert_int_equal(strlen(buf), VOICE_NAME_MAX);
	char fpr[sizeof(buf)];
	memcpy(fpr, buf, sizeof(fpr));
	/* Refused, each: not a name (SESSION_INFO splits names at '\n'),
	 * longer than VOICE_NAME_MAX, not UTF-8. She still shows her key. */
	const char *bad[] = { "alice\nroot", "a name of thirty-three bytes, yes", "al\xc3ice", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		voice_engine_name(b, ka, bad[i]);
		assert_int_equal(voice_engine_speaking(b, buf, sizeof(buf), r->now), 1);
		assert_string_equal(buf, fpr);
	}
	voice_engine_name(b, ka, "Alice");
	assert_int_equal(voice_engine_speaking(b, buf, sizeof(buf), r->now), 1);
	assert_string_equal(buf, "Alice");
	/* A bad name does not replace a good one. */
	voice_engine_name(b, ka, "alice\nroot");
	assert_int_equal(voice_engine_speaking(b, buf, sizeof(buf), r->now), 1);
	assert_string_equal(buf, "Alice");
	/* Her own daemon says so too, under the name she joined with. */
	assert_int_equal(voice_engine_speaking(r->n[0].e, buf, sizeof(buf), r->now), 1);
	assert_string_equal(buf, "alice");
	/* A buffer too small for the name: counted, not cut. */
	assert_int_equal(voice_engine_speaking(b, buf, 4, r->now), 1);
	assert_string_equal(buf, "");

	struct voice_speaker_stats st;
	speaker_stats(b, 1, &st, r->now);
	assert_string_equal(st.name, "Alice");
	assert_false(st.local);
	assert_true(st.speaking);
	assert_true(st.packets >= 45);
	assert_true(st.bytes > st.packets * 10);
	printf("  alice at bob's: %" PRIu64 " packets, %" PRIu64 " bytes, %u bit/s\n", st.packets, st.bytes,
	       st.bitrate_bps);
	assert_true(st.bitrate_bps > 8000 && st.bitrate_bps < 100000);
	assert_int_equal(st.loss_permille, 0);
	assert_int_equal(st.frames_lost, 0);
	assert_true(st.jb_depth_ms <= VOICE_JB_MAX_MS + 20);
	speaker_stats(r->n[0].e, 1, &st, r->now);
	assert_true(st.local);
	assert_true(st.packets > 45);
	assert_int_equal(st.packets, r->sent);

	/* She stops: after the hold she is no longer speaking. */
	a->freq = 0;
	changed = r->n[1].changed;
	rig_run(r, 2000);
	assert_int_equal(voice_engine_speaking(b, buf, sizeof(buf), r->now), 0);
	assert_true(r->n[1].changed > changed);
	speaker_stats(b, 1, &st, r->now);
	assert_false(st.speaking);

	/* Loss on the way: measured per speaker, concealed or recovered. */
	a->freq = 440;
	r->loss_pct = 10;
	rig_run(r, 5000);
	speaker_stats(b, 1, &st, r->now);
	printf("  10%% loss: %" PRIu64 " sent, %" PRIu64 " lost; loss %u permille, %" PRIu64 " lost, %" PRIu64
	       " concealed, %" PRIu64 " fec\n",
	       r->sent, r->lost, st.loss_permille, st.frames_lost, st.concealed, st.fec_recovered);
	assert_true(st.frames_lost > 0);
	assert_true(st.loss_permille >= 40 && st.loss_permille <= 200);
	assert_true(st.concealed + st.fec_recovered >= st.frames_lost / 2);
	assert_true(st.fec_recovered > 0); /* FEC on, and the successor there in time */
	rig_free(r);
}

static void reset_forgets_every_speaker_and_listener(void **state)
{
	struct rig *r = rig_new(20);
	rig_client(r, 0, 1, 1, "alice", 440);
	rig_client(r, 1, 2, 2, "bob", 620);
	rig_run(r, 1000);
	struct voice_engine *b = r->n[1].e;
	assert_int_equal(voice_engine_speakers(b, NULL, 0, r->now), 2);
	struct voice_engine_totals t0, t1;
	voice_engine_totals(b, &t0);
	voice_engine_reset(b);
	assert_int_equal(voice_engine_speakers(b, NULL, 0, r->now), 0);
	assert_int_equal(voice_engine_client_info(b, 2), 0);
	int16_t pcm[VOICE_CHUNK_SAMPLES] = { 0 };
	assert_int_equal(voice_engine_capture(b, 2, 0, r->now, pcm, VOICE_CHUNK_SAMPLES, r->now), -ENOENT);
	voice_engine_totals(b, &t1);
	assert_int_equal(t1.unknown_client, t0.unknown_client + 1);
	assert_int_equal(t1.packets_in, t0.packets_in); /* counters are kept */
	/* Bob comes back in the new session and hears alice again. */
	r->n[1].src[0].on = false;
	uint8_t kb[VOICE_KEY_LEN];
	key_of(kb, 2);
	assert_int_equal(voice_engine_client(b, 2, kb, "bob", r->now), 0);
	assert_int_equal(voice_engine_client_state(b, 2, VOICE_CL_ON, r->now), 0);
	rec_of(&r->n[1], 2)->frames = 0;
	rig_run(r, 1500);
	assert_hears(rec_of(&r->n[1], 2), 440, "after the reset");
	rig_free(r);
}

static void bad_calls_are_refused(void **state)
{
	struct rig *r = rig_new(20);
	struct voice_engine *e = r->n[0].e;
	int16_t pcm[VOICE_CHUNK_SAMPLES] = { 0 };
	uint8_t k[VOICE_KEY_LEN];
	key_of(k, 1);
	assert_int_equal(voice_engine_capture(e, 1, 0, r->now, pcm, VOICE_CHUNK_SAMPLES, r->now), -ENOENT);
	assert_int_equal(voice_engine_client(e, 1, k, "alice", r->now), 0);
	assert_int_equal(voice_engine_capture(e, 1, 0, r->now, pcm, VOICE_CHUNK_SAMPLES - 1, r->now), -EINVAL);
	assert_int_equal(voice_engine_capture(e, 1, 0, r->now, NULL, VOICE_CHUNK_SAMPLES, r->now), -EINVAL);
	/* Linked but not on yet: nothing is sent, nothing is said. */
	assert_int_equal(voice_engine_capture(e, 1, 0, r->now, pcm, VOICE_CHUNK_SAMPLES, r->now), 0);
	assert_int_equal(voice_engine_client_info(e, 1), 0);
	assert_int_equal(voice_engine_client_info(e, 77), 0);

	struct voice_engine_config bad = config(15);
	struct voice_engine *x = NULL;
	assert_int_equal(voice_engine_create(&bad, &rig_out, NULL, &x), -EINVAL);
	bad = config(20);
	bad.enc.complexity = 11;
	assert_int_equal(voice_engine_create(&bad, &rig_out, NULL, &x), -EINVAL);
	assert_null(x);
	voice_engine_destroy(&x);
	/* The default detector (VOICE_VAD_DEFAULT: energy) and defaults everywhere. */
	struct voice_engine_config dflt = { .enc.complexity = -1 };
	assert_int_equal(voice_engine_create(&dflt, &rig_out, NULL, &x), 0);
	voice_engine_destroy(&x);
	assert_int_equal(voice_engine_create(NULL, &rig_out, NULL, &x), 0);
	voice_engine_destroy(&x);
	assert_null(x);

	/* The tables are bounded: listeners, then speakers. */
	for (unsigned i = 2; i <= VOICE_LISTENERS_MAX; i++) {
		key_of(k, (uint8_t)(i + 100));
		assert_int_equal(voice_engine_client(e, i, k, NULL, r->now), 0);
	}
	key_of(k, 250);
	assert_int_equal(voice_engine_client(e, 999, k, NULL, r->now), -ENOSPC);
	rig_free(r);
}

static void the_speaker_table_is_bounded(void **state)
{
	struct rig *r = rig_new(20);
	struct voice_engine *e = r->n[0].e;
	struct forge f;
	forge_init(&f, 1);
	struct voice_packet p = forge_next(&f, 300);
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++) {
		p.speaker[0] = (uint8_t)i;
		p.speaker[1] = (uint8_t)(i >> 8);
		assert_int_equal(voice_engine_packet(e, &p, r->now), 0);
	}
	p.speaker[1] = 0xee;
	assert_int_equal(voice_engine_packet(e, &p, r->now), -ENOSPC);
	struct voice_engine_totals t;
	voice_engine_totals(e, &t);
	assert_int_equal(t.speakers_full, 1);
	assert_int_equal(voice_engine_speakers(e, NULL, 0, r->now), VOICE_SPEAKERS_MAX);
	/* Unheard for VOICE_SPEAKER_IDLE_MS, they are forgotten and room is made. */
	r->now += (VOICE_SPEAKER_IDLE_MS + 10) * MS;
	voice_engine_tick(e, r->now);
	assert_int_equal(voice_engine_speakers(e, NULL, 0, r->now), 0);
	assert_int_equal(voice_engine_packet(e, &p, r->now), 0);
	voice_enc_destroy(&f.enc);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(with_20_ms_frames),
		cmocka_unit_test(with_10_ms_frames),
		cmocka_unit_test(both_talk_and_each_hears_the_other),
		cmocka_unit_test(a_late_tick_does_not_add_to_the_delay),
		cmocka_unit_test(jitter_and_reordering_on_the_way_are_absorbed),
		cmocka_unit_test(a_speaker_whose_daemon_restarted_is_heard_again),
		cmocka_unit_test(mute_and_push_to_talk_close_the_gate),
		cmocka_unit_test(unmuted_in_silence_a_speaker_is_not_speaking),
		cmocka_unit_test(an_admin_mute_stops_a_speaker_here_and_there),
		cmocka_unit_test(a_flooding_speaker_is_dropped_and_counted_and_the_others_are_unaffected),
		cmocka_unit_test(a_client_capturing_too_fast_is_cut_to_its_rate),
		cmocka_unit_test(malformed_frames_are_dropped_and_counted),
		cmocka_unit_test(a_frame_of_a_key_that_speaks_here_is_an_echo),
		cmocka_unit_test(two_local_clients_hear_each_other_without_the_codec),
		cmocka_unit_test(a_burst_from_a_local_client_leaves_no_standing_delay),
		cmocka_unit_test(a_listener_hears_a_local_and_a_remote_speaker_at_once),
		cmocka_unit_test(the_first_client_of_a_user_speaks_and_the_next_takes_over),
		cmocka_unit_test(a_speaker_on_the_listeners_left_is_louder_on_the_left),
		cmocka_unit_test(statistics_and_speaking_names),
		cmocka_unit_test(reset_forgets_every_speaker_and_listener),
		cmocka_unit_test(bad_calls_are_refused),
		cmocka_unit_test(the_speaker_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
