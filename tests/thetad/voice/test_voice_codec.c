/* thetad/voice/voice_codec: Opus at 48 kHz mono in 10 and 20 ms frames on
 * synthetic speech (th_voicesig.h): the round trip keeps the waveform, a
 * lost frame comes back from the next packet's in-band FEC closer to the
 * original than concealment gets, DTX sends nothing in silence, concealment
 * fills a gap and fades, and packets from outside are checked before the
 * decoder sees them. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <opus.h>

#include "th_voicesig.h"
#include "voice/voice_codec.h"

#define SIG_S 6u
#define SIG_N (SIG_S * TH_VS_RATE)
#define MAX_FRAMES (SIG_N / VOICE_CHUNK_SAMPLES)

struct enc_run {
	uint8_t pkt[MAX_FRAMES][VOICE_OPUS_MAX];
	int len[MAX_FRAMES];
	unsigned frames, fs;
};

static int16_t *speech(uint32_t seed)
{
	int16_t *x = calloc(SIG_N, sizeof(*x));
	assert_non_null(x);
	struct th_vs_config c = { .seed = seed, .noise = TH_VS_NOISE_PINK, .noise_dbfs = -70 };
	assert_true(th_vs_make(&c, x, SIG_N, NULL) > 0);
	return x;
}

static void encode_all(const struct voice_enc_config *cfg, const int16_t *x, struct enc_run *r, unsigned loss)
{
	struct voice_enc *e = NULL;
	assert_int_equal(voice_enc_create(cfg, &e), 0);
	voice_enc_set_loss(e, loss);
	r->fs = voice_enc_frame_samples(e);
	r->frames = SIG_N / r->fs;
	for (unsigned i = 0; i < r->frames; i++) {
		r->len[i] = voice_enc_frame(e, x + (size_t)i * r->fs, r->pkt[i], sizeof(r->pkt[i]));
		assert_true(r->len[i] >= 0);
		assert_true(r->len[i] <= (int)VOICE_OPUS_MAX);
	}
	voice_enc_destroy(&e);
	assert_null(e);
}

/* Opus' look-ahead at 48 kHz: the decoded signal trails the input by it. */
static int lookahead(const struct voice_enc_config *cfg)
{
	int err;
	OpusEncoder *o = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	assert_non_null(o);
	opus_int32 la = 0;
	assert_int_equal(opus_encoder_ctl(o, OPUS_GET_LOOKAHEAD(&la)), OPUS_OK);
	opus_encoder_destroy(o);
	(void)cfg;
	return la;
}

static void round_trip(unsigned ms)
{
	struct voice_enc_config cfg = { .frame_ms = ms, .complexity = -1, .fec = true, .dtx = false };
	int16_t *x = speech(1), *y = calloc(SIG_N, sizeof(*y));
	struct enc_run *r = calloc(1, sizeof(*r));
	assert_non_null(y);
	assert_non_null(r);
	encode_all(&cfg, x, r, 0);
	assert_int_equal(r->fs, ms * 48u);
	struct voice_dec *d = NULL;
	assert_int_equal(voice_dec_create(&d), 0);
	size_t bytes = 0;
	unsigned with_fec = 0;
	for (unsigned i = 0; i < r->frames; i++) {
		assert_true(r->len[i] > (int)VOICE_DTX_BYTES_MAX); /* DTX off: every frame is sent */
		with_fec += voice_packet_has_fec(r->pkt[i], (size_t)r->len[i]) == 1;
		assert_int_equal(voice_packet_samples(r->pkt[i], (size_t)r->len[i]), (int)r->fs);
		assert_int_equal(voice_dec_frame(d, r->pkt[i], (size_t)r->len[i], y + (size_t)i * r->fs, r->fs),
				 (int)r->fs);
		bytes += (size_t)r->len[i];
	}
	voice_dec_destroy(&d);
	assert_null(d);
	/* The waveform survives: the output, shifted by the look-ahead, follows
	 * the input closely; unshifted by a pitch period's half it does not. */
	int la = lookahead(&cfg);
	size_t skip = TH_VS_RATE / 2u, n = SIG_N - skip - (size_t)la - 1000u;
	double c = th_vs_xcorr(x + skip, y + skip + la, n);
	double off = th_vs_xcorr(x + skip, y + skip + la + 200, n);
	double kbps = (double)bytes * 8.0 / SIG_S / 1000.0;
	printf("# %u ms frames: correlation %.3f (%.3f off by 200 samples), %.1f kbit/s, level in %.1f out %.1f dBFS, "
	       "%u of %u packets carry FEC\n",
	       ms, c, off, kbps, th_vs_dbfs(x + skip, n), th_vs_dbfs(y + skip + la, n), with_fec, r->frames);
	assert_true(c > 0.8);
	assert_true(off < c - 0.3);
	/* Measured loss 0, FEC on: still carried (VOICE_FEC_LOSS_MIN_PCT). */
	assert_true(with_fec > r->frames / 3u);
	/* The bitrate asked for, with VBR's give and take. */
	assert_true(kbps > VOICE_BITRATE_DEFAULT / 1000.0 * 0.5 && kbps < VOICE_BITRATE_DEFAULT / 1000.0 * 1.5);
	free(r);
	free(x);
	free(y);
}

static void speech_round_trips_with_20_ms_frames(void **state)
{
	round_trip(20);
}

static void speech_round_trips_with_10_ms_frames(void **state)
{
	round_trip(10);
}

/* Error energy of y against ref over one frame. */
static double frame_err(const int16_t *ref, const int16_t *y, unsigned fs)
{
	double e = 0;
	for (unsigned i = 0; i < fs; i++) {
		double dd = (double)ref[i] - y[i];
		e += dd * dd;
	}
	return e;
}

static void fec_recovery(unsigned ms)
{
	struct voice_enc_config cfg = { .frame_ms = ms, .complexity = -1, .fec = true, .dtx = false };
	int16_t *x = speech(2);
	struct enc_run *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	encode_all(&cfg, x, r, 5); /* the loss (floored at VOICE_FEC_LOSS_MIN_PCT) */
	unsigned fs = r->fs;
	/* Decoded original, and two receivers losing the same frames: one
	 * recovers each from the next packet's FEC, one conceals it. */
	struct voice_dec *ref = NULL, *fec = NULL, *plc = NULL;
	assert_int_equal(voice_dec_create(&ref), 0);
	assert_int_equal(voice_dec_create(&fec), 0);
	assert_int_equal(voice_dec_create(&plc), 0);
	int16_t yr[VOICE_FRAME_SAMPLES_MAX], yf[VOICE_FRAME_SAMPLES_MAX], yp[VOICE_FRAME_SAMPLES_MAX];
	double ef = 0, ep = 0, er = 0;
	unsigned lost = 0, recovered = 0, with_fec = 0, after_voice = 0;
	for (unsigned i = 0; i < r->frames; i++) {
		const uint8_t *p = r->pkt[i];
		size_t len = (size_t)r->len[i];
		assert_int_equal(voice_dec_frame(ref, p, len, yr, fs), (int)fs);
		/* Opus carries FEC for a frame with voice in it (a pause needs none). */
		bool voiced = th_vs_dbfs(x + (size_t)i * fs, fs) > -40.0;
		if (i > 0 && th_vs_dbfs(x + (size_t)(i - 1u) * fs, fs) > -40.0) {
			after_voice++;
			with_fec += voice_packet_has_fec(p, len) == 1;
		}
		/* Lose every 4th voiced frame. */
		bool lose = voiced && i % 4u == 3u && i + 1u < r->frames;
		if (!lose) {
			assert_int_equal(voice_dec_frame(fec, p, len, yf, fs), (int)fs);
			assert_int_equal(voice_dec_frame(plc, p, len, yp, fs), (int)fs);
			continue;
		}
		const uint8_t *nx = r->pkt[i + 1];
		size_t nlen = (size_t)r->len[i + 1];
		int rv = voice_dec_fec(fec, nx, nlen, yf, fs);
		assert_true(rv == (int)fs || rv == -ENODATA);
		assert_int_equal(rv == (int)fs, voice_packet_has_fec(nx, nlen) == 1);
		recovered += rv == (int)fs;
		assert_int_equal(voice_dec_plc(plc, yp, fs), (int)fs);
		lost++;
		double e = 0;
		for (unsigned k = 0; k < fs; k++)
			e += (double)yr[k] * yr[k];
		er += e;
		ef += frame_err(yr, yf, fs);
		ep += frame_err(yr, yp, fs);
	}
	double snr_f = 10.0 * log10(er / (ef > 0 ? ef : 1)), snr_p = 10.0 * log10(er / (ep > 0 ? ep : 1));
	printf("# %u ms frames: %u of %u packets after a voiced frame carry FEC; %u voiced frames lost, %u recovered "
	       "by FEC: %.1f dB against the decoded original, concealment %.1f dB\n",
	       ms, with_fec, after_voice, lost, recovered, snr_f, snr_p);
	assert_true(lost >= 20);
	assert_true(with_fec >= after_voice * 9u / 10u);
	assert_true(recovered >= lost * 9u / 10u);
	assert_true(snr_f > snr_p + 3.0);
	assert_true(snr_f > 3.0);
	voice_dec_destroy(&ref);
	voice_dec_destroy(&fec);
	voice_dec_destroy(&plc);
	free(r);
	free(x);
}

static void a_lost_20_ms_frame_is_recovered_from_the_next_ones_fec(void **state)
{
	fec_recovery(20);
}

static void a_lost_10_ms_frame_is_recovered_from_the_next_ones_fec(void **state)
{
	fec_recovery(10);
}

static void without_fec_packets_carry_none_and_recovery_says_so(void **state)
{
	struct voice_enc_config cfg = { .frame_ms = 20, .complexity = -1, .fec = false, .dtx = false };
	int16_t *x = speech(3);
	struct enc_run *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	encode_all(&cfg, x, r, 20);
	struct voice_dec *d = NULL;
	assert_int_equal(voice_dec_create(&d), 0);
	int16_t y[VOICE_FRAME_SAMPLES_MAX];
	for (unsigned i = 0; i < r->frames; i++)
		assert_int_equal(voice_packet_has_fec(r->pkt[i], (size_t)r->len[i]), 0);
	/* Still fills the frame (by concealment). */
	memset(y, 0x55, sizeof(y));
	assert_int_equal(voice_dec_fec(d, r->pkt[100], (size_t)r->len[100], y, 960), -ENODATA);
	assert_int_not_equal(y[0], 0x5555);
	voice_dec_destroy(&d);
	free(r);
	free(x);
}

static void dtx_sends_nothing_in_silence_and_resumes_with_speech(void **state)
{
	for (int dtx = 0; dtx <= 1; dtx++) {
		struct voice_enc_config cfg = { .frame_ms = 20, .complexity = -1, .fec = true, .dtx = dtx };
		struct voice_enc *e = NULL;
		assert_int_equal(voice_enc_create(&cfg, &e), 0);
		int16_t quiet[960], *x = speech(4);
		struct th_vs_config qc = { .seed = 9, .noise = TH_VS_NOISE_WHITE, .noise_dbfs = -80, .no_speech = true };
		uint8_t pkt[VOICE_OPUS_MAX];
		unsigned zero = 0, frames = 100; /* 2 s of near silence */
		for (unsigned i = 0; i < frames; i++) {
			th_vs_make(&qc, quiet, 960, NULL);
			qc.seed++;
			int n = voice_enc_frame(e, quiet, pkt, sizeof(pkt));
			assert_true(n >= 0);
			zero += n == 0;
		}
		/* Speech again: frames are sent from the first voiced one on. */
		unsigned sent = 0, voiced = 0;
		for (unsigned i = 0; i < 100; i++) {
			const int16_t *f = x + TH_VS_RATE + (size_t)i * 960u;
			int n = voice_enc_frame(e, f, pkt, sizeof(pkt));
			assert_true(n >= 0);
			bool loud = th_vs_dbfs(f, 960) > -40;
			voiced += loud;
			sent += loud && n > 0;
		}
		printf("# dtx %s: %u of %u silent frames not sent; %u of %u voiced frames sent\n", dtx ? "on" : "off",
		       zero, frames, sent, voiced);
		if (dtx)
			assert_true(zero >= frames * 3u / 4u);
		else
			assert_int_equal(zero, 0);
		assert_true(voiced > 20);
		assert_int_equal(sent, voiced);
		voice_enc_destroy(&e);
		free(x);
	}
}

static void concealment_fills_a_gap_and_fades_out(void **state)
{
	struct voice_enc_config cfg = { .frame_ms = 20, .complexity = -1, .fec = true, .dtx = false };
	int16_t *x = speech(5);
	struct enc_run *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	encode_all(&cfg, x, r, 0);
	struct voice_dec *d = NULL;
	assert_int_equal(voice_dec_create(&d), 0);
	int16_t y[960];
	/* Decode until a loud frame, then lose everything after it. */
	unsigned i = 0;
	double level = -200;
	for (; i < r->frames; i++) {
		assert_int_equal(voice_dec_frame(d, r->pkt[i], (size_t)r->len[i], y, 960), 960);
		level = th_vs_dbfs(y, 960);
		if (i > 60 && level > -32)
			break;
	}
	assert_true(i < r->frames);
	double first = 0, last = 0;
	for (unsigned k = 0; k < 25; k++) {
		assert_int_equal(voice_dec_plc(d, y, 960), 960);
		double l = th_vs_dbfs(y, 960);
		if (k == 0)
			first = l;
		last = l;
	}
	printf("# last decoded frame %.1f dBFS; first concealed %.1f, after 0.5 s %.1f\n", level, first, last);
	assert_true(first > level - 12.0); /* no hole */
	assert_true(last < first - 20.0);  /* no endless buzz */
	/* The next real packet decodes normally. */
	assert_int_equal(voice_dec_frame(d, r->pkt[i + 1], (size_t)r->len[i + 1], y, 960), 960);
	voice_dec_destroy(&d);
	free(r);
	free(x);
}

/* A TOC byte: config (0..31), stereo bit, frame count code (0..3). */
static uint8_t toc(unsigned config, bool stereo, unsigned code)
{
	return (uint8_t)(config << 3 | (stereo ? 4u : 0u) | code);
}

static void packets_from_outside_are_checked_before_decoding(void **state)
{
	uint8_t p[VOICE_OPUS_MAX + 8];
	memset(p, 0x33, sizeof(p));
	assert_int_equal(voice_packet_samples(NULL, 0), -EBADMSG);
	assert_int_equal(voice_packet_samples(p, 0), -EBADMSG);
	/* SILK wideband 10 ms (config 8) and 20 ms (9): one frame each. */
	p[0] = toc(8, false, 0);
	assert_int_equal(voice_packet_samples(p, 40), 480);
	p[0] = toc(9, false, 0);
	assert_int_equal(voice_packet_samples(p, 40), 960);
	assert_int_equal(voice_packet_samples(p, 1), 960); /* a bare TOC is a valid empty frame */
	/* Longer than any voice packet. */
	assert_int_equal(voice_packet_samples(p, VOICE_OPUS_MAX + 1u), -EBADMSG);
	/* Stereo. */
	p[0] = toc(9, true, 0);
	assert_int_equal(voice_packet_samples(p, 40), -EBADMSG);
	/* Odd durations: SILK 40 and 60 ms, CELT 2.5 and 5 ms, hybrid 10 ms x 3. */
	p[0] = toc(10, false, 0);
	assert_int_equal(voice_packet_samples(p, 40), -EBADMSG);
	p[0] = toc(11, false, 0);
	assert_int_equal(voice_packet_samples(p, 40), -EBADMSG);
	p[0] = toc(28, false, 0);
	assert_int_equal(voice_packet_samples(p, 40), -EBADMSG);
	p[0] = toc(29, false, 0);
	assert_int_equal(voice_packet_samples(p, 40), -EBADMSG);
	p[0] = toc(12, false, 3);
	p[1] = 3; /* CBR, 3 frames */
	assert_int_equal(voice_packet_samples(p, 41), -EBADMSG);
	/* Two 10 ms frames of equal size (code 1) make 20 ms; an odd total
	 * cannot be split in two equal frames. */
	p[0] = toc(8, false, 1);
	assert_int_equal(voice_packet_samples(p, 41), 960);
	assert_int_equal(voice_packet_samples(p, 40), -EBADMSG);
	/* Code 2 with a first frame longer than the packet. */
	p[0] = toc(8, false, 2);
	p[1] = 200;
	assert_int_equal(voice_packet_samples(p, 50), -EBADMSG);
	/* Code 3 with zero frames. */
	p[0] = toc(8, false, 3);
	p[1] = 0;
	assert_int_equal(voice_packet_samples(p, 50), -EBADMSG);
	assert_int_equal(voice_packet_has_fec(p, 50), -EBADMSG);
	/* A CELT-only packet never carries FEC. */
	p[0] = toc(31, false, 0);
	p[1] = 0xff;
	assert_int_equal(voice_packet_has_fec(p, 40), 0);

	/* The decoder refuses what the check refuses, and conceals instead. */
	struct voice_dec *d = NULL;
	assert_int_equal(voice_dec_create(&d), 0);
	int16_t y[960];
	p[0] = toc(10, false, 0);
	memset(y, 0x55, sizeof(y));
	assert_int_equal(voice_dec_frame(d, p, 40, y, 960), -EBADMSG);
	assert_int_not_equal(y[0], 0x5555);
	/* A 10 ms packet where a 20 ms frame is due. */
	p[0] = toc(8, false, 0);
	assert_int_equal(voice_dec_frame(d, p, 40, y, 960), -EBADMSG);
	/* Arguments. */
	assert_int_equal(voice_dec_frame(d, p, 40, y, 700), -EINVAL);
	assert_int_equal(voice_dec_plc(d, y, 1920), -EINVAL);
	assert_int_equal(voice_dec_fec(d, NULL, 3, y, 960), -EINVAL);
	voice_dec_destroy(&d);
	voice_dec_destroy(&d); /* NULL-safe */
}

static void random_bytes_never_crash_the_decoder(void **state)
{
	struct voice_dec *d = NULL;
	assert_int_equal(voice_dec_create(&d), 0);
	uint64_t s = 0x1234567;
	uint8_t p[VOICE_OPUS_MAX];
	int16_t y[960];
	unsigned ok = 0;
	for (unsigned i = 0; i < 3000; i++) {
		size_t len = 1 + (size_t)(i % VOICE_OPUS_MAX);
		for (size_t k = 0; k < len; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			p[k] = (uint8_t)s;
		}
		int n = voice_packet_samples(p, len);
		if (n < 0)
			continue;
		ok++;
		int rv = voice_dec_frame(d, p, len, y, (unsigned)n);
		assert_true(rv == n || rv == -EBADMSG);
		(void)voice_dec_fec(d, p, len, y, (unsigned)n);
	}
	assert_true(ok > 0);
	voice_dec_destroy(&d);
}

static void encoder_configs_are_checked(void **state)
{
	struct voice_enc *e = NULL;
	struct voice_enc_config c = { .frame_ms = 15, .complexity = -1 };
	assert_int_equal(voice_enc_create(&c, &e), -EINVAL);
	c = (struct voice_enc_config){ .frame_ms = 40, .complexity = -1 };
	assert_int_equal(voice_enc_create(&c, &e), -EINVAL);
	c = (struct voice_enc_config){ .complexity = 11 };
	assert_int_equal(voice_enc_create(&c, &e), -EINVAL);
	c = (struct voice_enc_config){ .complexity = -2 };
	assert_int_equal(voice_enc_create(&c, &e), -EINVAL);
	c = (struct voice_enc_config){ .complexity = -1, .bitrate = VOICE_BITRATE_MIN - 1 };
	assert_int_equal(voice_enc_create(&c, &e), -EINVAL);
	c = (struct voice_enc_config){ .complexity = -1, .bitrate = VOICE_BITRATE_MAX + 1 };
	assert_int_equal(voice_enc_create(&c, &e), -EINVAL);
	assert_null(e);
	/* Zero means the defaults: 20 ms. */
	c = (struct voice_enc_config){ .complexity = 0 };
	assert_int_equal(voice_enc_create(&c, &e), 0);
	assert_int_equal(voice_enc_frame_samples(e), VOICE_FRAME_MS_DEFAULT * 48u);
	int16_t pcm[960] = { 0 };
	uint8_t out[VOICE_OPUS_MAX];
	assert_int_equal(voice_enc_frame(e, pcm, out, VOICE_DTX_BYTES_MAX), -EINVAL);
	voice_enc_set_loss(e, 1000); /* clamped */
	assert_true(voice_enc_frame(e, pcm, out, sizeof(out)) >= 0);
	voice_enc_destroy(&e);
	voice_enc_destroy(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(speech_round_trips_with_20_ms_frames),
		cmocka_unit_test(speech_round_trips_with_10_ms_frames),
		cmocka_unit_test(a_lost_20_ms_frame_is_recovered_from_the_next_ones_fec),
		cmocka_unit_test(a_lost_10_ms_frame_is_recovered_from_the_next_ones_fec),
		cmocka_unit_test(without_fec_packets_carry_none_and_recovery_says_so),
		cmocka_unit_test(dtx_sends_nothing_in_silence_and_resumes_with_speech),
		cmocka_unit_test(concealment_fills_a_gap_and_fades_out),
		cmocka_unit_test(packets_from_outside_are_checked_before_decoding),
		cmocka_unit_test(random_bytes_never_crash_the_decoder),
		cmocka_unit_test(encoder_configs_are_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
