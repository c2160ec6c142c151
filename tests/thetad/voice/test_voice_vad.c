/* thetad/voice/voice_vad: both detectors on labelled synthetic speech and
 * noise (th_voicesig.h): speech is found, silence and steady noise are not
 * speech, a louder room stops being speech, the hangover holds exactly
 * VOICE_VAD_HANGOVER_MS and ends, a click is not speech. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_voicesig.h"
#include "voice/voice_vad.h"

#define SIG_S 12u
#define SIG_N (SIG_S * TH_VS_RATE)
#define CHUNKS (SIG_N / VOICE_CHUNK_SAMPLES)
#define HANG (VOICE_VAD_HANGOVER_MS / VOICE_CHUNK_MS)
#define ADAPT_CHUNKS 50u   /* the first 0.5 s (the lead pause) is not scored */

static const enum voice_vad_kind kinds[] = { VOICE_VAD_WEBRTC, VOICE_VAD_ENERGY };

static struct voice_vad *make(enum voice_vad_kind k)
{
	struct voice_vad *v = NULL;
	int rv = voice_vad_create(k, &v);
#ifdef VOICE_HAVE_WEBRTC
	assert_int_equal(rv, 0);
#else
	if (k == VOICE_VAD_WEBRTC) {
		assert_int_equal(rv, -ENOTSUP);
		return NULL;
	}
	assert_int_equal(rv, 0);
#endif
	assert_non_null(v);
	return v;
}

struct score {
	unsigned speech, found;      /* labelled speech chunks; of them flagged */
	unsigned pause, false_speech; /* pause chunks past the hangover; of them flagged */
};

static struct score run(struct voice_vad *v, const int16_t *x, const uint8_t *lab, size_t chunks)
{
	struct score s = { 0 };
	unsigned since_speech = HANG + 1u;
	for (size_t i = 0; i < chunks; i++) {
		bool d = voice_vad_chunk(v, x + i * VOICE_CHUNK_SAMPLES);
		since_speech = lab[i] ? 0 : since_speech + 1u;
		if (i < ADAPT_CHUNKS)
			continue;
		if (lab[i]) {
			s.speech++;
			s.found += d;
		} else if (since_speech > HANG) {
			s.pause++;
			s.false_speech += d;
		}
	}
	return s;
}

/* Limits per detector: index 0 webrtc, 1 energy (kinds[]). */
struct limits {
	unsigned min_found_pct, max_false_pct;
};

static void check(const char *what, enum th_vs_noise noise, double noise_dbfs, bool speech, struct limits lw,
		  struct limits le)
{
	int16_t *x = calloc(SIG_N, sizeof(*x));
	uint8_t *lab = calloc(CHUNKS, 1);
	assert_non_null(x);
	assert_non_null(lab);
	struct th_vs_config c = { .seed = 11, .noise = noise, .noise_dbfs = noise_dbfs, .no_speech = !speech };
	size_t sp = th_vs_make(&c, x, SIG_N, lab);
	assert_true(speech ? sp > CHUNKS / 4u : sp == 0);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct voice_vad *v = make(kinds[k]);
		if (!v)
			continue;
		struct score s = run(v, x, lab, CHUNKS);
		unsigned found = s.speech ? s.found * 100u / s.speech : 100u;
		unsigned fals = s.pause ? s.false_speech * 100u / s.pause : 0u;
		printf("# %-24s %-6s speech found %3u %% of %u chunks, pause flagged %3u %% of %u\n", what,
		       voice_vad_name(kinds[k]), found, s.speech, fals, s.pause);
		struct limits l = kinds[k] == VOICE_VAD_WEBRTC ? lw : le;
		assert_true(found >= l.min_found_pct);
		assert_true(fals <= l.max_false_pct);
		voice_vad_destroy(&v);
		assert_null(v);
	}
	free(x);
	free(lab);
}

static void digital_silence_is_never_speech(void **state)
{
	struct limits l = { 100, 0 };
	check("silence", TH_VS_NOISE_NONE, 0, false, l, l);
}

static void steady_noise_alone_is_not_speech(void **state)
{
	struct limits l = { 100, 5 };
	check("white noise -50 dBFS", TH_VS_NOISE_WHITE, -50, false, l, l);
	check("pink noise -45 dBFS", TH_VS_NOISE_PINK, -45, false, l, l);
}

/* webrtc calls more of the pauses after speech speech (its own overhang on
 * top of the hangover, and its noise model re-adapting): make bench-voice
 * measures both; these limits catch a detector that broke. */
static void speech_in_a_quiet_room_is_found_and_pauses_are_not(void **state)
{
	check("speech, quiet room", TH_VS_NOISE_PINK, -70, true, (struct limits){ 90, 20 }, (struct limits){ 90, 5 });
}

static void speech_in_noise_is_found(void **state)
{
	/* Speech at -26 dBFS over pink noise at -41: 15 dB SNR. */
	check("speech, pink 15 dB SNR", TH_VS_NOISE_PINK, -41, true, (struct limits){ 90, 50 },
	      (struct limits){ 85, 5 });
}

static void a_louder_room_stops_being_speech_within_two_seconds(void **state)
{
	/* Noise only, 20 dB louder from halfway (a fan starts). */
	int16_t *x = calloc(SIG_N, sizeof(*x));
	assert_non_null(x);
	struct th_vs_config c = { .seed = 14, .noise = TH_VS_NOISE_PINK, .noise_dbfs = -60, .noise_step_db = 20,
				  .no_speech = true };
	th_vs_make(&c, x, SIG_N, NULL);
	struct voice_vad *v = make(VOICE_VAD_ENERGY);
	unsigned late = 0;
	size_t settle = CHUNKS / 2u + 2000u / VOICE_CHUNK_MS;
	for (size_t i = 0; i < CHUNKS; i++) {
		bool d = voice_vad_chunk(v, x + i * VOICE_CHUNK_SAMPLES);
		if (i < CHUNKS / 2u)
			assert_false(d);
		else if (i >= settle)
			late += d;
	}
	assert_int_equal(late, 0);
	voice_vad_destroy(&v);
	free(x);
}

static void the_hangover_holds_then_ends(void **state)
{
	int16_t *x = calloc(SIG_N, sizeof(*x));
	assert_non_null(x);
	struct th_vs_config c = { .seed = 12, .noise = TH_VS_NOISE_NONE };
	th_vs_make(&c, x, SIG_N, NULL);
	/* Cut the signal to silence after the first utterance's first 400 ms. */
	size_t cut = (TH_VS_LEAD_MS + 400u) * 48u;
	memset(x + cut, 0, (SIG_N - cut) * sizeof(*x));
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct voice_vad *v = make(kinds[k]);
		if (!v)
			continue;
		size_t last_raw = 0;
		bool seen = false;
		size_t i = 0;
		bool d[CHUNKS];
		for (; i < CHUNKS; i++) {
			d[i] = voice_vad_chunk(v, x + i * VOICE_CHUNK_SAMPLES);
			if (voice_vad_raw(v)) {
				last_raw = i;
				seen = true;
				assert_true(d[i]); /* raw speech is always speech */
			}
		}
		assert_true(seen);
		assert_true(last_raw * VOICE_CHUNK_SAMPLES < cut + 10u * VOICE_CHUNK_SAMPLES);
		/* Every chunk within the hangover after the last raw decision is
		 * speech, the one after it is not, nor any later. */
		for (size_t j = last_raw + 1u; j <= last_raw + HANG; j++)
			assert_true(d[j]);
		for (size_t j = last_raw + HANG + 1u; j < CHUNKS; j++)
			assert_false(d[j]);
		printf("# %-6s last speech chunk %ld ms from the cut, decision off %u ms later\n", voice_vad_name(kinds[k]),
		       ((long)(last_raw * VOICE_CHUNK_SAMPLES) - (long)cut) / 48l, (unsigned)(HANG + 1u) * VOICE_CHUNK_MS);
		voice_vad_destroy(&v);
	}
	free(x);
}

/* A reset (the gate closed mid-word) ends the hangover at once; the next
 * silent chunk is silence, and speech after it is found again. */
static void a_reset_ends_the_hangover(void **state)
{
	int16_t *x = calloc(SIG_N, sizeof(*x));
	assert_non_null(x);
	struct th_vs_config c = { .seed = 12, .noise = TH_VS_NOISE_NONE };
	th_vs_make(&c, x, SIG_N, NULL);
	size_t cut = (TH_VS_LEAD_MS + 400u) * 48u;
	int16_t zero[VOICE_CHUNK_SAMPLES] = { 0 };
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct voice_vad *v = make(kinds[k]);
		if (!v)
			continue;
		bool raw = false;
		for (size_t i = 0; i * VOICE_CHUNK_SAMPLES < cut; i++) {
			voice_vad_chunk(v, x + i * VOICE_CHUNK_SAMPLES);
			raw |= voice_vad_raw(v);
		}
		assert_true(raw);
		/* Without a reset, silence is speech for the hangover. */
		assert_true(voice_vad_chunk(v, zero));
		voice_vad_reset(v);
		assert_false(voice_vad_raw(v));
		unsigned flagged = 0;
		for (unsigned i = 0; i < 5u; i++)
			flagged += voice_vad_chunk(v, zero);
		assert_int_equal(flagged, 0);
		/* Speech again is found again. */
		bool again = false;
		for (size_t i = cut / VOICE_CHUNK_SAMPLES - 30u; i < cut / VOICE_CHUNK_SAMPLES; i++)
			again |= voice_vad_chunk(v, x + i * VOICE_CHUNK_SAMPLES);
		assert_true(again);
		voice_vad_destroy(&v);
	}
	free(x);
}

static void a_click_in_silence_is_not_speech(void **state)
{
	int16_t *x = calloc(SIG_N, sizeof(*x));
	assert_non_null(x);
	struct th_vs_config c = { .seed = 13, .noise = TH_VS_NOISE_WHITE, .noise_dbfs = -65, .no_speech = true };
	th_vs_make(&c, x, SIG_N, NULL);
	/* A 3 ms full-scale click each second, straddling no chunk boundary. */
	for (size_t s = 1; s < SIG_S; s++)
		for (size_t i = 0; i < 144u; i++)
			x[s * TH_VS_RATE + 100u + i] = (int16_t)((i & 1u) ? 20000 : -20000);
	struct voice_vad *v = make(VOICE_VAD_ENERGY);
	unsigned flagged = 0;
	for (size_t i = 0; i < CHUNKS; i++)
		flagged += voice_vad_chunk(v, x + i * VOICE_CHUNK_SAMPLES);
	assert_int_equal(flagged, 0);
	voice_vad_destroy(&v);
	free(x);
}

static void kinds_have_names_and_unknown_ones_are_refused(void **state)
{
	assert_string_equal(voice_vad_name(VOICE_VAD_WEBRTC), "webrtc");
	assert_string_equal(voice_vad_name(VOICE_VAD_ENERGY), "energy");
	/* voice_vad_built says what create does. */
	assert_true(voice_vad_built(VOICE_VAD_ENERGY));
	for (int k = VOICE_VAD_WEBRTC; k <= VOICE_VAD_ENERGY; k++) {
		struct voice_vad *w = NULL;
		int rv = voice_vad_create((enum voice_vad_kind)k, &w);
		assert_int_equal(rv, voice_vad_built((enum voice_vad_kind)k) ? 0 : -ENOTSUP);
		voice_vad_destroy(&w);
	}
	assert_false(voice_vad_built((enum voice_vad_kind)7));
	struct voice_vad *v = NULL;
	assert_int_equal(voice_vad_create((enum voice_vad_kind)7, &v), -EINVAL);
	assert_null(v);
	voice_vad_destroy(&v);
	voice_vad_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(digital_silence_is_never_speech),
		cmocka_unit_test(steady_noise_alone_is_not_speech),
		cmocka_unit_test(speech_in_a_quiet_room_is_found_and_pauses_are_not),
		cmocka_unit_test(speech_in_noise_is_found),
		cmocka_unit_test(a_louder_room_stops_being_speech_within_two_seconds),
		cmocka_unit_test(the_hangover_holds_then_ends),
		cmocka_unit_test(a_reset_ends_the_hangover),
		cmocka_unit_test(a_click_in_silence_is_not_speech),
		cmocka_unit_test(kinds_have_names_and_unknown_ones_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
