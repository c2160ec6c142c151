/* Opus for voice: one encoder per local speaker, one decoder per remote
 * speaker (docs/voice.md, "Codec"). 48 kHz mono, 10 or 20 ms frames,
 * in-band FEC with the loss percentage the link measures, DTX in silence.
 * Pure computation: no I/O, no clock, no logging. Negative errno returns. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "voice/voice.h"

/* Complexity (0..10) chosen by measurement so that 64 speakers fit one
 * core (make bench-voice, docs/voice.md "Figures"). */
#define VOICE_COMPLEXITY_DEFAULT 5
#define VOICE_BITRATE_DEFAULT    24000   /* bit/s */
#define VOICE_BITRATE_MIN        8000
#define VOICE_BITRATE_MAX        64000
/* An encoded frame this short is a DTX marker: nothing is sent for it. */
#define VOICE_DTX_BYTES_MAX      2u
/* Opus makes in-band FEC only while it expects loss, and at up to 5 % only
 * when the bitrate suffices at the current bandwidth (at 24 kbit/s it does
 * not at fullband); above 5 % it narrows the bandwidth until FEC fits. With
 * FEC on, the expected loss never goes below this, so FEC is always there
 * (the first losses of a burst are recovered too). */
#define VOICE_FEC_LOSS_MIN_PCT   6u

struct voice_enc_config {
	unsigned frame_ms;   /* 10 or 20; 0: VOICE_FRAME_MS_DEFAULT */
	int complexity;      /* 0..10; -1: VOICE_COMPLEXITY_DEFAULT */
	int bitrate;         /* bit/s; 0: VOICE_BITRATE_DEFAULT */
	bool fec;            /* in-band FEC (LBRR) */
	bool dtx;
};

struct voice_enc;
/* -EINVAL bad config, -ENOMEM. */
int voice_enc_create(const struct voice_enc_config *cfg, struct voice_enc **out);
void voice_enc_destroy(struct voice_enc **p);
unsigned voice_enc_frame_samples(const struct voice_enc *e);
/* The link's measured loss, 0..100 (sets the FEC's expected loss; with FEC
 * on at least VOICE_FEC_LOSS_MIN_PCT, above 100 taken as 100). */
void voice_enc_set_loss(struct voice_enc *e, unsigned pct);
/* Encodes one frame of voice_enc_frame_samples() samples into out[cap]:
 * the packet's length, 0 for a DTX frame (send nothing), -EINVAL, -EIO
 * (the codec failed). */
int voice_enc_frame(struct voice_enc *e, const int16_t *pcm, uint8_t *out, size_t cap);

struct voice_dec;
int voice_dec_create(struct voice_dec **out);
void voice_dec_destroy(struct voice_dec **p);
/* Each writes `samples` samples (a whole frame: 480 or 960) into pcm and
 * returns how many, or -EBADMSG (a packet the decoder refuses, or one whose
 * duration is not `samples`: pcm holds the frame concealed instead; the
 * caller counts it), -EINVAL (nothing written). */
int voice_dec_frame(struct voice_dec *d, const uint8_t *pkt, size_t len, int16_t *pcm, unsigned samples);
/* The frame before `next` recovered from next's in-band FEC (falls back to
 * concealment when next carries none: returns -ENODATA after concealing). */
int voice_dec_fec(struct voice_dec *d, const uint8_t *next, size_t len, int16_t *pcm, unsigned samples);
/* Packet loss concealment for a frame that never came. */
int voice_dec_plc(struct voice_dec *d, int16_t *pcm, unsigned samples);

/* A packet from the network, checked before anything else touches it: the
 * number of 48 kHz samples it decodes to (480 or 960; anything else is
 * refused), or -EBADMSG. */
int voice_packet_samples(const uint8_t *pkt, size_t len);
/* Whether pkt carries in-band FEC for the frame before it (0/1, -EBADMSG). */
int voice_packet_has_fec(const uint8_t *pkt, size_t len);
