/* Synthetic, labelled speech in noise for the voice tests and benchmarks
 * (test_voice_codec, test_voice_vad, bench_voice_codec): 48 kHz mono s16.
 *
 * Speech: utterances of 3..10 syllables separated by pauses. Each syllable
 * is a vowel: a glottal pulse train (f0 with intonation and jitter, a
 * spectral tilt) through three cascaded formant resonators whose
 * frequencies glide from vowel to vowel, under a syllable envelope (attack,
 * sustain, decay, a short gap before the next); some begin with a noise
 * burst (a fricative). Noise: white, pink (about -3 dB per octave), or pink
 * with keyboard-like clicks, at its own level. Everything follows from the
 * seed: the same config gives the same samples.
 *
 * Each 10 ms chunk is labelled: 1 when any of its samples lies inside an
 * utterance (from its first syllable's onset to its last one's end: the
 * gaps between syllables are speech), else 0. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TH_VS_RATE  48000u
#define TH_VS_CHUNK 480u      /* samples per 10 ms label */
#define TH_VS_LEAD_MS 1000u   /* the signal starts with this long a pause */

enum th_vs_noise {
	TH_VS_NOISE_NONE = 0,
	TH_VS_NOISE_WHITE,
	TH_VS_NOISE_PINK,
	TH_VS_NOISE_CLICKS,   /* pink, plus 5 ms clicks about 3 times a second */
};

struct th_vs_config {
	uint32_t seed;
	double speech_dbfs;          /* RMS over the voiced samples; 0: -26 */
	enum th_vs_noise noise;
	double noise_dbfs;           /* the noise's RMS (clicks not counted) */
	double noise_step_db;        /* from halfway through, the noise is this much louder */
	double f0_hz;                /* mean pitch; 0: 120 */
	bool no_speech;              /* noise only (every label 0) */
};

/* Fills pcm[n] (n a multiple of TH_VS_CHUNK) and, when label is not NULL,
 * label[n / TH_VS_CHUNK]; returns how many chunks are labelled speech. */
size_t th_vs_make(const struct th_vs_config *c, int16_t *pcm, size_t n, uint8_t *label);

/* RMS of x[n] in dBFS (-inf for silence gives -200). */
double th_vs_dbfs(const int16_t *x, size_t n);
/* Normalised cross-correlation of a[n] and b[n] (0 when either is silent). */
double th_vs_xcorr(const int16_t *a, const int16_t *b, size_t n);
/* 10 log10(sum ref^2 / sum (ref - x)^2): how close x is to ref, in dB. */
double th_vs_snr_db(const int16_t *ref, const int16_t *x, size_t n);
