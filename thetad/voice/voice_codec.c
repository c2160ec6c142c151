/* Opus for voice (voice_codec.h; docs/voice.md, "Codec").
 *
 * In-band FEC (Opus' LBRR) exists only in the SILK layer, so the encoder
 * runs as OPUS_APPLICATION_VOIP with the voice signal hint, which keeps it in
 * SILK or hybrid mode for speech; LBRR is only produced while the expected
 * loss is above zero, so the loss the link measures is floored at
 * VOICE_FEC_LOSS_MIN_PCT while FEC is on (the first losses of a burst are
 * recovered too). */
#include "voice/voice_codec.h"

#include <errno.h>
#include <opus.h>
#include <stdlib.h>

struct voice_enc {
	OpusEncoder *opus;
	unsigned frame_samples;
	bool fec;
	bool dtx;
};

struct voice_dec {
	OpusDecoder *opus;
};

/* RFC 6716 3.1: the TOC byte's top five bits are the configuration;
 * 0..11 are SILK-only, 12..15 hybrid, 16..31 CELT-only. */
#define TOC_CONFIG_CELT_FIRST 16u
#define TOC_STEREO            0x04u
/* RFC 6716 3.2.5: a code 3 packet holds at most 48 frames (120 ms). */
#define OPUS_FRAMES_MAX       48

static bool frame_ms_ok(unsigned ms)
{
	return ms == 10u || ms == 20u;
}

int voice_enc_create(const struct voice_enc_config *cfg, struct voice_enc **out)
{
	unsigned ms = cfg && cfg->frame_ms ? cfg->frame_ms : VOICE_FRAME_MS_DEFAULT;
	int cx = cfg ? cfg->complexity : -1;
	int rate = cfg && cfg->bitrate ? cfg->bitrate : VOICE_BITRATE_DEFAULT;
	bool fec = cfg ? cfg->fec : true, dtx = cfg ? cfg->dtx : true;
	if (!out || !frame_ms_ok(ms) || cx < -1 || cx > 10 || rate < VOICE_BITRATE_MIN || rate > VOICE_BITRATE_MAX)
		return -EINVAL;
	if (cx == -1)
		cx = VOICE_COMPLEXITY_DEFAULT;

	struct voice_enc *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	int err = 0;
	e->opus = opus_encoder_create((opus_int32)VOICE_RATE, 1, OPUS_APPLICATION_VOIP, &err);
	if (!e->opus || err != OPUS_OK) {
		free(e);
		return err == OPUS_ALLOC_FAIL ? -ENOMEM : -EINVAL;
	}
	e->frame_samples = VOICE_RATE / 1000u * ms;
	e->fec = fec;
	e->dtx = dtx;
	if (opus_encoder_ctl(e->opus, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPUS_OK ||
	    opus_encoder_ctl(e->opus, OPUS_SET_COMPLEXITY(cx)) != OPUS_OK ||
	    opus_encoder_ctl(e->opus, OPUS_SET_BITRATE(rate)) != OPUS_OK ||
	    opus_encoder_ctl(e->opus, OPUS_SET_INBAND_FEC(fec ? 1 : 0)) != OPUS_OK ||
	    opus_encoder_ctl(e->opus, OPUS_SET_PACKET_LOSS_PERC(fec ? (int)VOICE_FEC_LOSS_MIN_PCT : 0)) != OPUS_OK ||
	    opus_encoder_ctl(e->opus, OPUS_SET_DTX(dtx ? 1 : 0)) != OPUS_OK ||
	    opus_encoder_ctl(e->opus, OPUS_SET_LSB_DEPTH(16)) != OPUS_OK) {
		opus_encoder_destroy(e->opus);
		free(e);
		return -EINVAL;
	}
	*out = e;
	return 0;
}

void voice_enc_destroy(struct voice_enc **p)
{
	if (!p || !*p)
		return;
	opus_encoder_destroy((*p)->opus);
	free(*p);
	*p = NULL;
}

unsigned voice_enc_frame_samples(const struct voice_enc *e)
{
	return e->frame_samples;
}

void voice_enc_set_loss(struct voice_enc *e, unsigned pct)
{
	if (pct > 100u)
		pct = 100u;
	if (!e->fec)
		pct = 0;
	else if (pct < VOICE_FEC_LOSS_MIN_PCT)
		pct = VOICE_FEC_LOSS_MIN_PCT;
	(void)opus_encoder_ctl(e->opus, OPUS_SET_PACKET_LOSS_PERC((int)pct));
}

int voice_enc_frame(struct voice_enc *e, const int16_t *pcm, uint8_t *out, size_t cap)
{
	if (!e || !pcm || !out || cap <= VOICE_DTX_BYTES_MAX)
		return -EINVAL;
	if (cap > VOICE_OPUS_MAX)
		cap = VOICE_OPUS_MAX;
	opus_int32 n = opus_encode(e->opus, pcm, (int)e->frame_samples, out, (opus_int32)cap);
	if (n < 0)
		return n == OPUS_BUFFER_TOO_SMALL ? -EINVAL : -EIO;
	if ((size_t)n <= VOICE_DTX_BYTES_MAX)
		return 0;
	return (int)n;
}

int voice_dec_create(struct voice_dec **out)
{
	if (!out)
		return -EINVAL;
	struct voice_dec *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	int err = 0;
	d->opus = opus_decoder_create((opus_int32)VOICE_RATE, 1, &err);
	if (!d->opus || err != OPUS_OK) {
		free(d);
		return err == OPUS_ALLOC_FAIL ? -ENOMEM : -EINVAL;
	}
	*out = d;
	return 0;
}

void voice_dec_destroy(struct voice_dec **p)
{
	if (!p || !*p)
		return;
	opus_decoder_destroy((*p)->opus);
	free(*p);
	*p = NULL;
}

static bool samples_ok(unsigned samples)
{
	return samples == VOICE_CHUNK_SAMPLES || samples == 2u * VOICE_CHUNK_SAMPLES;
}

int voice_dec_plc(struct voice_dec *d, int16_t *pcm, unsigned samples)
{
	if (!d || !pcm || !samples_ok(samples))
		return -EINVAL;
	int n = opus_decode(d->opus, NULL, 0, pcm, (int)samples, 0);
	return n == (int)samples ? n : -EIO;
}

int voice_dec_frame(struct voice_dec *d, const uint8_t *pkt, size_t len, int16_t *pcm, unsigned samples)
{
	if (!d || !pcm || !samples_ok(samples) || (!pkt && len))
		return -EINVAL;
	int want = voice_packet_samples(pkt, len);
	if (want != (int)samples) {
		int r = voice_dec_plc(d, pcm, samples);
		return r < 0 ? r : -EBADMSG;
	}
	int n = opus_decode(d->opus, pkt, (opus_int32)len, pcm, (int)samples, 0);
	if (n != (int)samples) {
		int r = voice_dec_plc(d, pcm, samples);
		return r < 0 ? r : -EBADMSG;
	}
	return n;
}

int voice_dec_fec(struct voice_dec *d, const uint8_t *next, size_t len, int16_t *pcm, unsigned samples)
{
	if (!d || !pcm || !samples_ok(samples) || (!next && len))
		return -EINVAL;
	int has = voice_packet_has_fec(next, len);
	if (has <= 0) {
		int r = voice_dec_plc(d, pcm, samples);
		return r < 0 ? r : -ENODATA;
	}
	/* The LBRR data describes the frame before `next`, of next's duration
	 * when the lost frame was as long; opus_decode with decode_fec = 1 takes
	 * the lost frame's length. */
	int n = opus_decode(d->opus, next, (opus_int32)len, pcm, (int)samples, 1);
	if (n != (int)samples) {
		int r = voice_dec_plc(d, pcm, samples);
		return r < 0 ? r : -ENODATA;
	}
	return n;
}

/* The one parse of a packet from outside: its 48 kHz duration (480 or 960
 * samples; anything else is refused), and its first frame. */
static int packet_check(const uint8_t *pkt, size_t len, const unsigned char **frame0, opus_int16 *size0)
{
	if (!pkt || len < 1u || len > VOICE_OPUS_MAX)
		return -EBADMSG;
	if (pkt[0] & TOC_STEREO)
		return -EBADMSG;   /* every voice encoder here is mono */
	const unsigned char *frames[OPUS_FRAMES_MAX];
	opus_int16 sizes[OPUS_FRAMES_MAX];
	if (opus_packet_parse(pkt, (opus_int32)len, NULL, frames, sizes, NULL) < 1)
		return -EBADMSG;
	int n = opus_packet_get_nb_samples(pkt, (opus_int32)len, (opus_int32)VOICE_RATE);
	if (n != (int)VOICE_CHUNK_SAMPLES && n != 2 * (int)VOICE_CHUNK_SAMPLES)
		return -EBADMSG;
	*frame0 = frames[0];
	*size0 = sizes[0];
	return n;
}

int voice_packet_samples(const uint8_t *pkt, size_t len)
{
	const unsigned char *frame0;
	opus_int16 size0;
	return packet_check(pkt, len, &frame0, &size0);
}

int voice_packet_has_fec(const uint8_t *pkt, size_t len)
{
	const unsigned char *frame0;
	opus_int16 size0;
	if (packet_check(pkt, len, &frame0, &size0) < 0)
		return -EBADMSG;
	if ((unsigned)(pkt[0] >> 3) >= TOC_CONFIG_CELT_FIRST)
		return 0;   /* CELT-only: no SILK layer, no LBRR */
	if (size0 < 1)
		return 0;
	/* RFC 6716 4.2.3-4.2.4: a mono SILK frame of 10 or 20 ms (one SILK
	 * frame per Opus frame) begins with its VAD flag and then the LBRR flag,
	 * each coded with probability 1/2, so they are the first byte's two top
	 * bits. Opus frames are never longer here: packet_check takes 10 or
	 * 20 ms packets only. */
	return (frame0[0] >> 6) & 1u;
}
