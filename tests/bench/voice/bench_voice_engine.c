/* The voice engine's CPU cost per remote speaker, beside a bare decode and
 * mix of the same frames, and its concealment under loss (make bench-voice).
 *
 * BENCH_SPEAKERS remote speakers talk at once into one local listener, with
 * one local speaker talking too (its encoder runs every frame): Opus frames
 * of synthetic speech with its pauses (tests/lib/th_voicesig, BENCH_VOICES
 * voices encoded beforehand with FEC and DTX, not timed) arrive in order,
 * 5 % of them lost (seeded, independent), each speaker at its own phase,
 * for BENCH_SECONDS of simulated time. Timed on this thread's CPU clock:
 * every voice_engine_packet and voice_engine_tick (jitter buffers,
 * decoding, FEC and concealment, panning by pose, mixing, the bookkeeping),
 * and the engine's own split through out.cpu_now. Baseline in the same
 * run: the same frames through voice_dec_frame (voice_dec_plc for a lost
 * one) and voice_mix_add / voice_mix_out with fixed gains, nothing else.
 *
 * Figures, with 20 ms frames: voice.engine.cpu_pct_per_speaker (percent of
 * one core per remote speaker), voice.engine.speakers_per_core (goal >= 64),
 * voice.engine.baseline.cpu_pct_per_speaker, voice.engine.overhead_pct (the
 * engine without the local speaker's encoding over the baseline),
 * voice.engine.{decode,mix,encode}_pct (shares of the engine's time),
 * voice.engine.concealed_pct (frames concealed of those played; goal <= 2
 * at 5 % loss with FEC); then the same with 10 ms frames as
 * voice.engine.10ms.*. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "th_bench.h"
#include "th_voicesig.h"
#include "voice/voice_engine.h"

#define BENCH_SPEAKERS 64u
#define BENCH_VOICES   8u
#define BENCH_SECONDS  5u
#define BENCH_LOSS_PER_MILLE 50u
/* The goals: speakers one core mixes, frames concealed at 5 % loss. */
#define GOAL_SPEAKERS_PER_CORE 64.0
#define GOAL_CONCEALED_PCT     2.0
/* Frames of the shortest duration (10 ms) fill the arrays. */
#define FRAMES_MAX     (BENCH_SECONDS * 1000u / VOICE_FRAME_MS_MIN)
#define SPEECH_SAMPLES (BENCH_SECONDS * VOICE_RATE)
#define TICK_NS        (VOICE_CHUNK_MS * 1000000ull)
#define T0             (1000ull * 1000000000ull)

struct frame {
	uint16_t len;
	uint8_t data[VOICE_OPUS_MAX];
};

static struct frame frames[BENCH_VOICES][FRAMES_MAX];
static int16_t speech[BENCH_VOICES][SPEECH_SAMPLES];
static uint64_t plays;
/* The run's frame length. */
static unsigned frame_ms, frame_samples, n_frames, ticks_per_frame;

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t on_cpu(void *user)
{
	return cpu_ns();
}

static void on_play(void *user, uint64_t id, const int16_t *stereo, uint64_t t_ns)
{
	plays++;
}

static void on_packet(void *user, const struct voice_packet *p)
{
}

static void die(const char *what, int rv)
{
	fprintf(stderr, "bench_voice_engine: %s: %s\n", what, strerror(-rv));
	exit(1);
}

static void make_speech(void)
{
	for (unsigned v = 0; v < BENCH_VOICES; v++) {
		/* Long enough that the 1 s lead-in is skipped. */
		static int16_t pcm[(BENCH_SECONDS + 2) * VOICE_RATE];
		struct th_vs_config c = { .seed = 100 + v, .f0_hz = 100 + 15.0 * v };
		th_vs_make(&c, pcm, sizeof(pcm) / sizeof(pcm[0]), NULL);
		memcpy(speech[v], pcm + VOICE_RATE, sizeof(speech[v]));
	}
}

static void encode_voices(void)
{
	for (unsigned v = 0; v < BENCH_VOICES; v++) {
		struct voice_enc_config ec = { .frame_ms = frame_ms, .complexity = -1, .fec = true, .dtx = true };
		struct voice_enc *enc = NULL;
		int rv = voice_enc_create(&ec, &enc);
		if (rv < 0)
			die("voice_enc_create", rv);
		voice_enc_set_loss(enc, 1);
		for (unsigned f = 0; f < n_frames; f++) {
			int n = voice_enc_frame(enc, speech[v] + f * frame_samples, frames[v][f].data, VOICE_OPUS_MAX);
			if (n < 0)
				die("voice_enc_frame", n);
			frames[v][f].len = (uint16_t)n;
		}
		voice_enc_destroy(&enc);
	}
}

/* Seeded: the same frames are lost in every run. */
static bool lost(unsigned s, unsigned f)
{
	uint32_t x = (s * 2654435761u) ^ (f * 40503u + 17u);
	x ^= x >> 13;
	x *= 0x5bd1e995u;
	x ^= x >> 15;
	return x % 1000u < BENCH_LOSS_PER_MILLE;
}

static void key_of(uint8_t key[VOICE_KEY_LEN], unsigned who)
{
	for (unsigned i = 0; i < VOICE_KEY_LEN; i++)
		key[i] = (uint8_t)(who * 7u + i * 13u + 1u);
}

/* One run with frames of ms; figures named PREFIX.*. Returns 0 or 1. */
static int run(unsigned ms, const char *prefix)
{
	frame_ms = ms;
	frame_samples = VOICE_RATE / 1000u * ms;
	n_frames = BENCH_SECONDS * 1000u / ms;
	ticks_per_frame = ms / VOICE_CHUNK_MS;
	plays = 0;
	encode_voices();

	/* The engine. */
	struct voice_engine_out out = { .packet = on_packet, .play = on_play, .cpu_now = on_cpu };
	struct voice_engine_config cfg = {
		.enc = { .frame_ms = frame_ms, .complexity = -1, .fec = true, .dtx = true },
		.spatial = true,
	};
	struct voice_engine *e = NULL;
	int rv = voice_engine_create(&cfg, &out, NULL, &e);
	if (rv < 0)
		die("voice_engine_create", rv);
	uint8_t key[VOICE_KEY_LEN];
	key_of(key, 1000);
	uint64_t now = T0;
	if ((rv = voice_engine_client(e, 1, key, "listener", now)) < 0 ||
	    (rv = voice_engine_client_state(e, 1, VOICE_CL_ON, now)) < 0)
		die("voice_engine_client", rv);
	struct voice_pose head = { .p = { 0, 1.6f, 0 }, .q = { 0, 0, 0, 1 }, .valid = true };
	uint64_t ent = 0;
	for (unsigned i = 0; i < 8; i++)
		ent |= (uint64_t)key[i] << (8 * i);
	voice_engine_pose(e, ent, &head, now);
	for (unsigned s = 0; s < BENCH_SPEAKERS; s++) {
		key_of(key, s);
		ent = 0;
		for (unsigned i = 0; i < 8; i++)
			ent |= (uint64_t)key[i] << (8 * i);
		float a = 6.2831853f * (float)s / BENCH_SPEAKERS;
		struct voice_pose p = { .p = { 3 * cosf(a), 1.6f, 3 * sinf(a) }, .q = { 0, 0, 0, 1 }, .valid = true };
		voice_engine_pose(e, ent, &p, now);
	}

	const unsigned ticks = BENCH_SECONDS * 1000u / VOICE_CHUNK_MS;
	uint64_t t0 = cpu_ns();
	unsigned sent_f[BENCH_SPEAKERS] = { 0 };
	uint32_t seq[BENCH_SPEAKERS] = { 0 }; /* +1 per packet sent: a DTX frame sends none */
	for (unsigned t = 0; t < ticks; t++) {
		/* The local speaker's chunk. */
		size_t chunk = t % (SPEECH_SAMPLES / VOICE_CHUNK_SAMPLES);
		const int16_t *mic = speech[0] + chunk * VOICE_CHUNK_SAMPLES;
		voice_engine_capture(e, 1, t, now, mic, VOICE_CHUNK_SAMPLES, now);
		/* Speaker s sends frame f at its tick f * ticks_per_frame + s % ticks_per_frame. */
		for (unsigned s = 0; s < BENCH_SPEAKERS; s++) {
			unsigned f = sent_f[s];
			if (f >= n_frames || t < f * ticks_per_frame + s % ticks_per_frame)
				continue;
			sent_f[s]++;
			const struct frame *fr = &frames[s % BENCH_VOICES][f];
			if (!fr->len)
				continue; /* DTX */
			uint32_t q = seq[s]++;
			if (lost(s, f))
				continue;
			struct voice_packet p = { .seq = q, .ts = f * frame_samples, .flags = VOICE_PKT_F_SPEECH,
						  .len = fr->len, .data = fr->data };
			key_of(p.speaker, s);
			voice_engine_packet(e, &p, now);
		}
		voice_engine_tick(e, now);
		now += TICK_NS;
	}
	uint64_t engine_ns = cpu_ns() - t0;
	struct voice_engine_totals tot;
	voice_engine_totals(e, &tot);
	voice_engine_destroy(&e);

	/* The baseline: decode and mix, nothing else. */
	struct voice_dec *dec[BENCH_SPEAKERS];
	for (unsigned s = 0; s < BENCH_SPEAKERS; s++)
		if ((rv = voice_dec_create(&dec[s])) < 0)
			die("voice_dec_create", rv);
	static int16_t pcm[BENCH_SPEAKERS][VOICE_FRAME_SAMPLES_MAX];
	struct voice_gains g = { 0.5f, 0.5f };
	uint64_t base_plays = 0;
	t0 = cpu_ns();
	for (unsigned t = 0; t < ticks; t++) {
		float acc[2 * VOICE_CHUNK_SAMPLES];
		memset(acc, 0, sizeof(acc));
		unsigned f = t / ticks_per_frame, part = t % ticks_per_frame;
		for (unsigned s = 0; s < BENCH_SPEAKERS && f < n_frames; s++) {
			const struct frame *fr = &frames[s % BENCH_VOICES][f];
			if (!fr->len)
				continue; /* DTX: a silent speaker costs nothing */
			if (!part) {
				if (lost(s, f))
					voice_dec_plc(dec[s], pcm[s], frame_samples);
				else
					voice_dec_frame(dec[s], fr->data, fr->len, pcm[s], frame_samples);
			}
			voice_mix_add(acc, pcm[s] + part * VOICE_CHUNK_SAMPLES, g, g);
		}
		int16_t o[2 * VOICE_CHUNK_SAMPLES];
		voice_mix_out(acc, o);
		base_plays += o[0] != 12345;
	}
	uint64_t base_ns = cpu_ns() - t0;
	for (unsigned s = 0; s < BENCH_SPEAKERS; s++)
		voice_dec_destroy(&dec[s]);

	double sim_ns = (double)BENCH_SECONDS * 1e9;
	double pct = 100.0 * (double)engine_ns / sim_ns / BENCH_SPEAKERS;
	double base_pct = 100.0 * (double)base_ns / sim_ns / BENCH_SPEAKERS;
	double frames_all = (double)(tot.frames_decoded + tot.frames_fec + tot.frames_concealed);
	printf("# %u ms frames, %u speakers, %u s: engine %.1f ms CPU (decode %.1f, mix %.1f, encode %.1f), "
	       "baseline %.1f ms; %" PRIu64 " chunks played (%" PRIu64 " baseline); %" PRIu64 " decoded, %" PRIu64
	       " fec, %" PRIu64 " concealed, %" PRIu64 " late\n",
	       frame_ms, BENCH_SPEAKERS, BENCH_SECONDS, engine_ns / 1e6, tot.decode_ns / 1e6, tot.mix_ns / 1e6,
	       tot.encode_ns / 1e6, base_ns / 1e6, plays, base_plays, tot.frames_decoded, tot.frames_fec,
	       tot.frames_concealed, tot.frames_late);
	if (plays < ticks / 2 || !tot.frames_decoded) {
		fprintf(stderr, "bench_voice_engine: the listener heard next to nothing (%" PRIu64 " chunks)\n", plays);
		return 1;
	}
	char name[96];
#define FIG(what) (snprintf(name, sizeof(name), "%s.%s", prefix, what), name)
	th_bench_figure(FIG("cpu_pct_per_speaker"), pct, "%");
	th_bench_figure_goal(FIG("speakers_per_core"), 100.0 / pct, "speakers", ">= 64",
			     100.0 / pct >= GOAL_SPEAKERS_PER_CORE);
	th_bench_figure(FIG("baseline.cpu_pct_per_speaker"), base_pct, "%");
	/* The baseline encodes nothing: the local speaker's encoding is left out. */
	th_bench_figure(FIG("overhead_pct"), 100.0 * ((double)(engine_ns - tot.encode_ns) / (double)base_ns - 1.0),
			"%");
	th_bench_figure(FIG("decode_pct"), 100.0 * (double)tot.decode_ns / (double)engine_ns, "%");
	th_bench_figure(FIG("mix_pct"), 100.0 * (double)tot.mix_ns / (double)engine_ns, "%");
	th_bench_figure(FIG("encode_pct"), 100.0 * (double)tot.encode_ns / (double)engine_ns, "%");
	/* The loss figure (voice.concealed_pct, end to end) has this goal. */
	double conc = frames_all > 0 ? 100.0 * (double)tot.frames_concealed / frames_all : 0;
	th_bench_figure_goal(FIG("concealed_pct"), conc, "%", "<= 2 at 5 % loss", conc <= GOAL_CONCEALED_PCT);
#undef FIG
	return 0;
}

int main(void)
{
	make_speech();
	return run(20, "voice.engine") | run(10, "voice.engine.10ms");
}
