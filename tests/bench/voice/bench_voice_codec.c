/* Voice codec and voice activity benchmarks (make bench-voice). Prints JSON
 * lines (th_bench.h):
 *
 * Codec, on synthetic speech (th_voicesig.h), CPU time of this thread (not
 * wall time: the machine is shared):
 *   voice.codec.cxN.us_per_10ms     encode + decode of one speaker's 10 ms,
 *                                   20 ms frames, complexity N = 0..10
 *                                   (.encode_us_per_10ms, .decode_us_per_10ms)
 *   voice.codec.cxN.snr_db          the decoded speech against the input
 *                                   (look-ahead aligned): what N buys
 *   voice.codec.complexity_fit      the highest N whose speaker costs fit
 *                                   64 speakers in 3/4 of a core; the goal:
 *                                   VOICE_COMPLEXITY_DEFAULT is not above it
 *   voice.cpu_per_speaker_pct       encode + decode + pan + mix of one speaker
 *                                   at the default complexity, % of one core
 *                                   (20 ms frames; .10ms: 10 ms frames)
 *   voice.speakers_per_core         100 / that (goal >= 64)
 *   voice.baseline.mix_us_per_10ms  the pan + mix alone (the baseline: what a
 *                                   speaker costs without the codec)
 *
 * Voice activity, on labelled synthetic speech in noise (6 scenes x 2 seeds
 * x 20 s; the chunk labels say where utterances are): every detector's raw
 * decisions with the same hangover (VOICE_VAD_HANGOVER_MS):
 *   voice.vad.NAME.missed_speech_pct  labelled speech chunks not flagged
 *   voice.vad.NAME.false_speech_pct   pause chunks (past the hangover) flagged
 * for NAME = webrtc.l0..l3 (likelihood very low .. high), webrtc.ns.l1
 * (webrtc's noise suppression ahead of the detector), energy, speex
 * (speexdsp's preprocessor VAD), and per scene for the default settings.
 *   voice.vad.default_error_pct     missed + false of VOICE_VAD_DEFAULT as
 *                                   voice_vad_create makes it; the goal: no
 *                                   more than the best detector's + 2. */
#include <math.h>
#include <speex/speex_preprocess.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "th_bench.h"
#include "th_voicesig.h"
#include "voice/voice_codec.h"
#include "voice/voice_mix.h"
#include "voice/voice_vad.h"
#ifdef VOICE_HAVE_WEBRTC
#include "voice/voice_vad_webrtc.h"
#endif

#define CODEC_S 10u
#define CODEC_N (CODEC_S * TH_VS_RATE)
#define CODEC_REPS 3
#define SPEAKERS_GOAL 64u
#define CORE_SHARE_FOR_VOICE 0.75  /* of one core, for 64 speakers' codec and mix */

#define VAD_S 20u
#define VAD_N (VAD_S * TH_VS_RATE)
#define VAD_CHUNKS (VAD_N / VOICE_CHUNK_SAMPLES)
#define VAD_SEEDS 2u
#define VAD_SKIP 50u   /* the first 0.5 s is not scored (adaptation) */
#define HANG (VOICE_VAD_HANGOVER_MS / VOICE_CHUNK_MS)
#define DEFAULT_SLACK_PCT 2.0

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int16_t *speech(uint32_t seed, size_t n, enum th_vs_noise noise, double noise_dbfs, double step_db,
		       uint8_t *lab)
{
	int16_t *x = calloc(n, sizeof(*x));
	if (!x) {
		fprintf(stderr, "bench_voice_codec: out of memory\n");
		exit(1);
	}
	struct th_vs_config c = { .seed = seed, .noise = noise, .noise_dbfs = noise_dbfs, .noise_step_db = step_db };
	th_vs_make(&c, x, n, lab);
	return x;
}

/* Encode and decode of x at complexity cx: CPU ns per 10 ms of each (the
 * median of CODEC_REPS runs), and the decoded SNR. */
struct cost {
	double enc_ns, dec_ns, snr_db;
};

static struct cost codec_cost(const int16_t *x, int cx, unsigned ms)
{
	static int16_t y[CODEC_N];
	uint64_t te[CODEC_REPS], td[CODEC_REPS];
	for (int rep = 0; rep < CODEC_REPS; rep++) {
		struct voice_enc_config cfg = { .frame_ms = ms, .complexity = cx, .fec = true, .dtx = true };
		struct voice_enc *e = NULL;
		struct voice_dec *d = NULL;
		if (voice_enc_create(&cfg, &e) < 0 || voice_dec_create(&d) < 0) {
			fprintf(stderr, "bench_voice_codec: cannot create the codec\n");
			exit(1);
		}
		voice_enc_set_loss(e, 5);
		unsigned fs = voice_enc_frame_samples(e);
		uint8_t pkt[VOICE_OPUS_MAX];
		te[rep] = td[rep] = 0;
		for (size_t i = 0; i + fs <= CODEC_N; i += fs) {
			uint64_t t0 = cpu_ns();
			int n = voice_enc_frame(e, x + i, pkt, sizeof(pkt));
			uint64_t t1 = cpu_ns();
			if (n > 0)
				voice_dec_frame(d, pkt, (size_t)n, y + i, fs);
			else
				voice_dec_plc(d, y + i, fs);
			te[rep] += t1 - t0;
			td[rep] += cpu_ns() - t1;
		}
		voice_enc_destroy(&e);
		voice_dec_destroy(&d);
	}
	qsort(te, CODEC_REPS, sizeof(te[0]), th_bench_cmp_u64);
	qsort(td, CODEC_REPS, sizeof(td[0]), th_bench_cmp_u64);
	/* Opus at 48 kHz looks 6.5 ms ahead (312 samples). */
	const size_t la = 312, skip = TH_VS_RATE;
	double chunks = (double)(CODEC_N / VOICE_CHUNK_SAMPLES);
	return (struct cost){
		.enc_ns = (double)te[CODEC_REPS / 2] / chunks,
		.dec_ns = (double)td[CODEC_REPS / 2] / chunks,
		.snr_db = th_vs_snr_db(x + skip, y + skip + la, CODEC_N - skip - la - TH_VS_RATE / 10u),
	};
}

/* Pan + mix of one speaker into one listener's chunk: CPU ns per 10 ms. */
static double mix_cost(const int16_t *x)
{
	static float acc[2 * VOICE_CHUNK_SAMPLES];
	static int16_t out[2 * VOICE_CHUNK_SAMPLES];
	struct voice_pose lis = { .p = { 0, 1.6f, 0 }, .q = { 0, 0, 0, 1 }, .valid = true };
	struct voice_pose spk = { .p = { 1, 1.6f, -2 }, .q = { 0, 0, 0, 1 }, .valid = true };
	struct voice_gains g0 = voice_pan(&lis, &spk);
	uint64_t t[CODEC_REPS];
	size_t chunks = CODEC_N / VOICE_CHUNK_SAMPLES;
	for (int rep = 0; rep < CODEC_REPS; rep++) {
		uint64_t t0 = cpu_ns();
		for (size_t i = 0; i < chunks; i++) {
			spk.p[0] = (float)(i % 100u) * 0.02f - 1.0f;
			struct voice_gains g = voice_pan(&lis, &spk);
			memset(acc, 0, sizeof(acc));
			voice_mix_add(acc, x + i * VOICE_CHUNK_SAMPLES, g0, g);
			g0 = g;
		}
		t[rep] = cpu_ns() - t0;
	}
	voice_mix_out(acc, out);
	qsort(t, CODEC_REPS, sizeof(t[0]), th_bench_cmp_u64);
	return (double)t[CODEC_REPS / 2] / (double)chunks;
}

static void bench_codec(void)
{
	int16_t *x = speech(21, CODEC_N, TH_VS_NOISE_PINK, -60, 0, NULL);
	char name[96];
	double mix = mix_cost(x) / 1000.0;
	th_bench_figure("voice.baseline.mix_us_per_10ms", mix, "us");
	/* Half a core for 64 speakers: each may take this much per 10 ms. */
	double budget_us = CORE_SHARE_FOR_VOICE * 10000.0 / SPEAKERS_GOAL;
	int fit = -1;
	double cost_default = 0;
	for (int cx = 0; cx <= 10; cx++) {
		struct cost c = codec_cost(x, cx, 20);
		double us = (c.enc_ns + c.dec_ns) / 1000.0;
		snprintf(name, sizeof(name), "voice.codec.cx%d.us_per_10ms", cx);
		th_bench_figure(name, us, "us");
		snprintf(name, sizeof(name), "voice.codec.cx%d.encode_us_per_10ms", cx);
		th_bench_figure(name, c.enc_ns / 1000.0, "us");
		snprintf(name, sizeof(name), "voice.codec.cx%d.decode_us_per_10ms", cx);
		th_bench_figure(name, c.dec_ns / 1000.0, "us");
		snprintf(name, sizeof(name), "voice.codec.cx%d.snr_db", cx);
		th_bench_figure(name, c.snr_db, "dB");
		if (us + mix <= budget_us)
			fit = cx;
		if (cx == VOICE_COMPLEXITY_DEFAULT)
			cost_default = us;
	}
	printf("# per-speaker budget %.1f us per 10 ms (64 speakers in %.0f %% of a core); complexity %d fits, "
	       "the default is %d\n",
	       budget_us, CORE_SHARE_FOR_VOICE * 100, fit, VOICE_COMPLEXITY_DEFAULT);
	char goal[64];
	snprintf(goal, sizeof(goal), ">= VOICE_COMPLEXITY_DEFAULT (%d)", VOICE_COMPLEXITY_DEFAULT);
	th_bench_figure_goal("voice.codec.complexity_fit", fit, "", goal, fit >= VOICE_COMPLEXITY_DEFAULT);

	double pct = (cost_default + mix) / 10000.0 * 100.0;
	th_bench_figure("voice.cpu_per_speaker_pct", pct, "%");
	th_bench_figure_goal("voice.speakers_per_core", 100.0 / pct, "speakers", ">= 64", 100.0 / pct >= SPEAKERS_GOAL);
	struct cost c10 = codec_cost(x, VOICE_COMPLEXITY_DEFAULT, 10);
	double us10 = (c10.enc_ns + c10.dec_ns) / 1000.0;
	double pct10 = (us10 + mix) / 10000.0 * 100.0;
	th_bench_figure("voice.cpu_per_speaker_pct.10ms", pct10, "%");
	th_bench_figure_goal("voice.speakers_per_core.10ms", 100.0 / pct10, "speakers", ">= 64",
			     100.0 / pct10 >= SPEAKERS_GOAL);
	free(x);
}

/* ---- voice activity ---------------------------------------------------- */

struct scene {
	const char *name;
	enum th_vs_noise noise;
	double noise_dbfs;   /* speech is at -26 dBFS */
	double step_db;      /* the noise rises by this halfway (a fan starts) */
};

static const struct scene scenes[] = {
	{ "quiet", TH_VS_NOISE_PINK, -70, 0 },
	{ "pink20", TH_VS_NOISE_PINK, -46, 0 },
	{ "pink10", TH_VS_NOISE_PINK, -36, 0 },
	{ "white15", TH_VS_NOISE_WHITE, -41, 0 },
	{ "clicks15", TH_VS_NOISE_CLICKS, -41, 0 },
	{ "step", TH_VS_NOISE_PINK, -60, 20 },
};
#define SCENES (sizeof(scenes) / sizeof(scenes[0]))

enum det_kind { DET_WEBRTC, DET_ENERGY, DET_SPEEX, DET_DEFAULT };

struct det {
	const char *name;
	enum det_kind kind;
	int likelihood;
	bool ns;
	unsigned speech[SCENES], missed[SCENES], pause[SCENES], false_speech[SCENES];
};

static struct det dets[] = {
	{ "webrtc.l0", DET_WEBRTC, 0, false, { 0 }, { 0 }, { 0 }, { 0 } },
	{ "webrtc.l1", DET_WEBRTC, 1, false, { 0 }, { 0 }, { 0 }, { 0 } },
	{ "webrtc.l2", DET_WEBRTC, 2, false, { 0 }, { 0 }, { 0 }, { 0 } },
	{ "webrtc.l3", DET_WEBRTC, 3, false, { 0 }, { 0 }, { 0 }, { 0 } },
	{ "webrtc.ns.l1", DET_WEBRTC, 1, true, { 0 }, { 0 }, { 0 }, { 0 } },
	{ "energy", DET_ENERGY, 0, false, { 0 }, { 0 }, { 0 }, { 0 } },
	{ "speex", DET_SPEEX, 0, false, { 0 }, { 0 }, { 0 }, { 0 } },
	{ "default", DET_DEFAULT, 0, false, { 0 }, { 0 }, { 0 }, { 0 } },
};
#define DETS (sizeof(dets) / sizeof(dets[0]))

/* Raw decisions of one detector over x into raw[VAD_CHUNKS]; 0 or -1 when
 * that detector is not built. The default keeps its own hangover. */
static int decide(struct det *d, const int16_t *x, uint8_t *raw)
{
	if (d->kind == DET_ENERGY || d->kind == DET_DEFAULT) {
		struct voice_vad *v = NULL;
		if (voice_vad_create(d->kind == DET_ENERGY ? VOICE_VAD_ENERGY : VOICE_VAD_DEFAULT, &v) < 0)
			return -1;
		for (size_t i = 0; i < VAD_CHUNKS; i++) {
			bool on = voice_vad_chunk(v, x + i * VOICE_CHUNK_SAMPLES);
			raw[i] = d->kind == DET_DEFAULT ? on : voice_vad_raw(v);
		}
		voice_vad_destroy(&v);
		return 0;
	}
	if (d->kind == DET_SPEEX) {
		SpeexPreprocessState *st = speex_preprocess_state_init((int)VOICE_CHUNK_SAMPLES, (int)VOICE_RATE);
		if (!st)
			return -1;
		int on = 1;
		speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_VAD, &on);
		int16_t buf[VOICE_CHUNK_SAMPLES];
		for (size_t i = 0; i < VAD_CHUNKS; i++) {
			memcpy(buf, x + i * VOICE_CHUNK_SAMPLES, sizeof(buf));
			raw[i] = speex_preprocess_run(st, buf) == 1;
		}
		speex_preprocess_state_destroy(st);
		return 0;
	}
#ifdef VOICE_HAVE_WEBRTC
	struct voice_webrtc_config c = { .likelihood = d->likelihood, .noise_suppression = d->ns };
	struct voice_webrtc *w = NULL;
	if (voice_webrtc_create(&c, &w) < 0)
		return -1;
	for (size_t i = 0; i < VAD_CHUNKS; i++)
		raw[i] = voice_webrtc_chunk(w, x + i * VOICE_CHUNK_SAMPLES) == 1;
	voice_webrtc_destroy(w);
	return 0;
#else
	return -1;
#endif
}

static void score(struct det *d, unsigned sc, const uint8_t *raw, const uint8_t *lab)
{
	unsigned hang = 0, since = HANG + 1u;
	for (size_t i = 0; i < VAD_CHUNKS; i++) {
		bool on = raw[i];
		if (d->kind != DET_DEFAULT) {
			if (raw[i])
				hang = HANG;
			else if (hang) {
				hang--;
				on = true;
			}
		}
		since = lab[i] ? 0 : since + 1u;
		if (i < VAD_SKIP)
			continue;
		if (lab[i]) {
			d->speech[sc]++;
			d->missed[sc] += !on;
		} else if (since > HANG) {
			d->pause[sc]++;
			d->false_speech[sc] += on;
		}
	}
}

static double pct(unsigned a, unsigned b)
{
	return b ? 100.0 * a / b : 0.0;
}

static void bench_vad(void)
{
	uint8_t *lab = calloc(VAD_CHUNKS, 1), *raw = calloc(VAD_CHUNKS, 1);
	bool built[DETS];
	for (size_t k = 0; k < DETS; k++)
		built[k] = true;
	for (unsigned sc = 0; sc < SCENES; sc++)
		for (unsigned seed = 0; seed < VAD_SEEDS; seed++) {
			int16_t *x = speech(100u + seed * 17u + sc, VAD_N, scenes[sc].noise, scenes[sc].noise_dbfs,
					    scenes[sc].step_db, lab);
			for (size_t k = 0; k < DETS; k++) {
				if (!built[k] || decide(&dets[k], x, raw) < 0) {
					built[k] = false;
					continue;
				}
				score(&dets[k], sc, raw, lab);
			}
			free(x);
		}
	char name[128];
	double best = 1e9;
	const char *best_name = "";
	double def_err = 0;
	for (size_t k = 0; k < DETS; k++) {
		if (!built[k]) {
			printf("# %s: not built\n", dets[k].name);
			continue;
		}
		unsigned s = 0, m = 0, p = 0, f = 0;
		for (unsigned sc = 0; sc < SCENES; sc++) {
			s += dets[k].speech[sc];
			m += dets[k].missed[sc];
			p += dets[k].pause[sc];
			f += dets[k].false_speech[sc];
			printf("# %-13s %-9s missed %5.1f %%  false %5.1f %%\n", dets[k].name, scenes[sc].name,
			       pct(dets[k].missed[sc], dets[k].speech[sc]), pct(dets[k].false_speech[sc], dets[k].pause[sc]));
			if (dets[k].kind == DET_DEFAULT || dets[k].kind == DET_ENERGY ||
			    (dets[k].kind == DET_SPEEX)) {
				snprintf(name, sizeof(name), "voice.vad.%s.%s.missed_speech_pct", dets[k].name, scenes[sc].name);
				th_bench_figure(name, pct(dets[k].missed[sc], dets[k].speech[sc]), "%");
				snprintf(name, sizeof(name), "voice.vad.%s.%s.false_speech_pct", dets[k].name, scenes[sc].name);
				th_bench_figure(name, pct(dets[k].false_speech[sc], dets[k].pause[sc]), "%");
			}
		}
		snprintf(name, sizeof(name), "voice.vad.%s.missed_speech_pct", dets[k].name);
		th_bench_figure(name, pct(m, s), "%");
		snprintf(name, sizeof(name), "voice.vad.%s.false_speech_pct", dets[k].name);
		th_bench_figure(name, pct(f, p), "%");
		double err = pct(m, s) + pct(f, p);
		if (dets[k].kind == DET_DEFAULT)
			def_err = err;
		else if (err < best) {
			best = err;
			best_name = dets[k].name;
		}
	}
	printf("# best detector: %s (missed + false %.1f %%); the default (%s) %.1f %%\n", best_name, best,
	       voice_vad_name(VOICE_VAD_DEFAULT), def_err);
	char goal[96];
	snprintf(goal, sizeof(goal), "<= %.1f (best: %s, + %.0f)", best + DEFAULT_SLACK_PCT, best_name, DEFAULT_SLACK_PCT);
	th_bench_figure_goal("voice.vad.default_error_pct", def_err, "%", goal, def_err <= best + DEFAULT_SLACK_PCT);
	free(lab);
	free(raw);
}

int main(void)
{
	bench_codec();
	bench_vad();
	return 0;
}
