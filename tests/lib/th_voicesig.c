/* Synthetic labelled speech in noise (th_voicesig.h). */
#include "th_voicesig.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VS_PI 3.14159265358979323846
#define VS_FORMANTS 3
#define VS_SYL_MIN_MS 120u
#define VS_SYL_MAX_MS 320u
#define VS_GAP_MIN_MS 20u
#define VS_GAP_MAX_MS 90u
#define VS_SYLS_MIN 3u
#define VS_SYLS_MAX 10u
#define VS_PAUSE_MIN_MS 400u
#define VS_PAUSE_MAX_MS 1800u
#define VS_ATTACK_MS 25.0
#define VS_DECAY_MS 50.0
#define VS_FRIC_MS 45u
#define VS_CLICK_MS 5u
#define VS_CLICKS_PER_S 3u
#define VS_PINK_POLES 8
#define VS_GLIDE_PER_SAMPLE 0.004   /* formant glide toward the vowel's target */

struct vs_rng {
	uint64_t s;
};

static uint64_t vs_next(struct vs_rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static double vs_unit(struct vs_rng *r) /* [0, 1) */
{
	return (double)(vs_next(r) >> 11) / 9007199254740992.0;
}

static unsigned vs_range(struct vs_rng *r, unsigned lo, unsigned hi) /* [lo, hi] */
{
	return lo + (unsigned)(vs_unit(r) * (double)(hi - lo + 1u));
}

static double vs_gauss(struct vs_rng *r)
{
	double u = vs_unit(r), v = vs_unit(r);
	if (u < 1e-12)
		u = 1e-12;
	return sqrt(-2.0 * log(u)) * cos(2.0 * VS_PI * v);
}

/* Vowel formants F1..F3 (Hz), men's averages of the classic measurements. */
static const double vs_vowels[][VS_FORMANTS] = {
	{ 730, 1090, 2440 }, /* a */
	{ 270, 2290, 3010 }, /* i */
	{ 300, 870, 2240 },  /* u */
	{ 530, 1840, 2480 }, /* e */
	{ 570, 840, 2410 },  /* o */
	{ 660, 1720, 2410 }, /* ae */
};
static const double vs_bw[VS_FORMANTS] = { 70, 100, 160 };

/* One resonator of the cascade (unity gain at 0 Hz). */
struct vs_res {
	double y1, y2;
};

static double vs_res_step(struct vs_res *s, double x, double f, double bw)
{
	double r = exp(-VS_PI * bw / TH_VS_RATE);
	double b = 2.0 * r * cos(2.0 * VS_PI * f / TH_VS_RATE), c = -r * r;
	double y = (1.0 - b - c) * x + b * s->y1 + c * s->y2;
	s->y2 = s->y1;
	s->y1 = y;
	return y;
}

static double vs_env(size_t i, size_t len)
{
	double t = (double)i * 1000.0 / TH_VS_RATE, end = (double)len * 1000.0 / TH_VS_RATE;
	double a = t < VS_ATTACK_MS ? t / VS_ATTACK_MS : 1.0;
	double d = end - t < VS_DECAY_MS ? (end - t) / VS_DECAY_MS : 1.0;
	double e = a < d ? a : d;
	return e * e;
}

/* Speech into out[n] (doubles, unscaled) and labels; returns the RMS of the
 * voiced samples. */
static double vs_speech(const struct th_vs_config *c, struct vs_rng *r, double *out, size_t n, uint8_t *lab)
{
	double f0 = c->f0_hz > 0 ? c->f0_hz : 120.0;
	double fm[VS_FORMANTS] = { 500, 1500, 2500 };
	struct vs_res res[VS_FORMANTS];
	memset(res, 0, sizeof(res));
	double phase = 0, tilt = 0, hp = 0, sum2 = 0;
	size_t voiced = 0;
	size_t pos = (size_t)TH_VS_LEAD_MS * TH_VS_RATE / 1000u;
	while (pos < n) {
		unsigned syls = vs_range(r, VS_SYLS_MIN, VS_SYLS_MAX);
		size_t start = pos;
		for (unsigned k = 0; k < syls && pos < n; k++) {
			size_t len = (size_t)vs_range(r, VS_SYL_MIN_MS, VS_SYL_MAX_MS) * TH_VS_RATE / 1000u;
			const double *v = vs_vowels[vs_range(r, 0, sizeof(vs_vowels) / sizeof(vs_vowels[0]) - 1u)];
			double amp = 0.6 + 0.4 * vs_unit(r);
			double pitch = f0 * (0.9 + 0.2 * vs_unit(r)) * (k + 1u == syls ? 0.85 : 1.0);
			bool fric = vs_unit(r) < 0.5;
			size_t fric_len = fric ? (size_t)VS_FRIC_MS * TH_VS_RATE / 1000u : 0;
			for (size_t i = 0; i < len && pos + i < n; i++) {
				/* Glottal source: a pulse each period, slightly jittered, tilted. */
				double f = pitch * (1.0 + 0.01 * vs_gauss(r));
				phase += f / TH_VS_RATE;
				double src = 0;
				if (phase >= 1.0) {
					phase -= 1.0;
					src = 1.0;
				}
				tilt = 0.92 * tilt + src;
				double x = tilt - (f / TH_VS_RATE) / (1.0 - 0.92); /* without its mean */
				for (int j = 0; j < VS_FORMANTS; j++) {
					fm[j] += (v[j] - fm[j]) * VS_GLIDE_PER_SAMPLE;
					x = vs_res_step(&res[j], x, fm[j], vs_bw[j]);
				}
				double s = x * amp * vs_env(i, len);
				if (i < fric_len) {
					double w = vs_gauss(r);
					double hf = w - hp; /* first difference: a hiss */
					hp = w;
					double fe = sin(VS_PI * (double)i / (double)fric_len);
					s += hf * 0.25 * fe * amp;
				}
				out[pos + i] += s;
				if (vs_env(i, len) > 0.25) {
					sum2 += s * s;
					voiced++;
				}
			}
			pos += len;
			if (k + 1u < syls)
				pos += (size_t)vs_range(r, VS_GAP_MIN_MS, VS_GAP_MAX_MS) * TH_VS_RATE / 1000u;
		}
		size_t end = pos < n ? pos : n;
		for (size_t ch = start / TH_VS_CHUNK; ch * TH_VS_CHUNK < end && ch < n / TH_VS_CHUNK; ch++)
			lab[ch] = 1;
		pos += (size_t)vs_range(r, VS_PAUSE_MIN_MS, VS_PAUSE_MAX_MS) * TH_VS_RATE / 1000u;
	}
	return voiced ? sqrt(sum2 / (double)voiced) : 0.0;
}

static void vs_noise(const struct th_vs_config *c, struct vs_rng *r, double *out, size_t n)
{
	if (c->noise == TH_VS_NOISE_NONE)
		return;
	double *w = calloc(n, sizeof(*w));
	if (!w)
		return;
	double pole[VS_PINK_POLES] = { 0 }, sum2 = 0;
	for (size_t i = 0; i < n; i++) {
		double g = vs_gauss(r), x = g;
		if (c->noise != TH_VS_NOISE_WHITE) {
			/* Octave-spaced one-pole low-passes summed: about 1/f. */
			x = 0;
			for (int k = 0; k < VS_PINK_POLES; k++) {
				double fc = 20000.0 / (double)(1u << k);
				double a = exp(-2.0 * VS_PI * fc / TH_VS_RATE);
				pole[k] = a * pole[k] + (1.0 - a) * g * sqrt((double)(1u << k));
				x += pole[k];
			}
		}
		w[i] = x;
		sum2 += x * x;
	}
	double rms = sqrt(sum2 / (double)n), want = pow(10.0, c->noise_dbfs / 20.0) * 32768.0;
	double k = rms > 0 ? want / rms : 0;
	double step = pow(10.0, c->noise_step_db / 20.0);
	for (size_t i = 0; i < n; i++)
		out[i] += w[i] * k * (i >= n / 2u ? step : 1.0);
	if (c->noise == TH_VS_NOISE_CLICKS) {
		size_t clen = (size_t)VS_CLICK_MS * TH_VS_RATE / 1000u;
		size_t clicks = n / TH_VS_RATE * VS_CLICKS_PER_S;
		for (size_t j = 0; j < clicks; j++) {
			size_t at = (size_t)(vs_unit(r) * (double)(n - clen));
			double a = want * 8.0 * (0.5 + vs_unit(r));
			for (size_t i = 0; i < clen; i++)
				out[at + i] += a * vs_gauss(r) * exp(-(double)i / (double)(clen / 4u));
		}
	}
	free(w);
}

size_t th_vs_make(const struct th_vs_config *c, int16_t *pcm, size_t n, uint8_t *label)
{
	struct vs_rng r = { .s = 0x9e3779b97f4a7c15ull ^ ((uint64_t)c->seed * 0xbf58476d1ce4e5b9ull) };
	if (!r.s)
		r.s = 1;
	size_t chunks = n / TH_VS_CHUNK;
	uint8_t *own = label ? NULL : calloc(chunks ? chunks : 1u, 1);
	if (!label)
		label = own;
	double *buf = calloc(n ? n : 1u, sizeof(*buf));
	if (!buf || !label) {
		free(buf);
		free(own);
		return 0;
	}
	memset(label, 0, chunks);
	if (!c->no_speech) {
		double rms = vs_speech(c, &r, buf, n, label);
		double want = pow(10.0, (c->speech_dbfs != 0 ? c->speech_dbfs : -26.0) / 20.0) * 32768.0;
		double k = rms > 0 ? want / rms : 0;
		for (size_t i = 0; i < n; i++)
			buf[i] *= k;
	}
	vs_noise(c, &r, buf, n);
	for (size_t i = 0; i < n; i++) {
		double v = buf[i];
		pcm[i] = (int16_t)(v > 32767.0 ? 32767 : v < -32768.0 ? -32768 : lrint(v));
	}
	free(buf);
	size_t sp = 0;
	for (size_t i = 0; i < chunks; i++)
		sp += label[i];
	free(own);
	return sp;
}

double th_vs_dbfs(const int16_t *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	if (!n || s <= 0)
		return -200.0;
	return 10.0 * log10(s / (double)n / (32768.0 * 32768.0));
}

double th_vs_xcorr(const int16_t *a, const int16_t *b, size_t n)
{
	double ab = 0, aa = 0, bb = 0;
	for (size_t i = 0; i < n; i++) {
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

double th_vs_snr_db(const int16_t *ref, const int16_t *x, size_t n)
{
	double s = 0, e = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)ref[i] - x[i];
		s += (double)ref[i] * ref[i];
		e += d * d;
	}
	if (s <= 0)
		return -200.0;
	if (e <= 0)
		return 200.0;
	return 10.0 * log10(s / e);
}
