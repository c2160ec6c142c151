/* Voice activity detection on 10 ms chunks of 48 kHz mono (docs/voice.md,
 * "Who is speaking"). Two detectors behind one interface, chosen by
 * measurement (make bench-voice: voice.vad.*): Debian's
 * webrtc-audio-processing through a small C++ shim (voice_vad_webrtc.cc;
 * its noise suppression can run ahead of the detector, off: it did not
 * help; the audio sent is never touched), and an energy detector with an adaptive
 * noise floor written here. The decision carries a hangover so that the gaps
 * between words are not silence. No I/O, no clock. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "voice/voice.h"

enum voice_vad_kind {
	VOICE_VAD_WEBRTC = 1,
	VOICE_VAD_ENERGY = 2,
};
/* Measured (make bench-voice, voice.vad.*; docs/voice.md "Who is speaking"):
 * on synthetic speech in six noise scenes the energy detector flags no steady
 * noise and misses 9 % at 10 dB SNR (3 % over all scenes); webrtc misses less but calls 6-28 %
 * of pauses speech (its own overhang and noise). */
#define VOICE_VAD_DEFAULT   VOICE_VAD_ENERGY
#define VOICE_VAD_HANGOVER_MS 300u

struct voice_vad;
/* -ENOTSUP: that detector is not built in; -ENOMEM. */
int voice_vad_create(enum voice_vad_kind kind, struct voice_vad **out);
void voice_vad_destroy(struct voice_vad **p);
const char *voice_vad_name(enum voice_vad_kind kind); /* "webrtc", "energy" */
/* Whether this build has that detector (webrtc needs webrtc-audio-processing). */
bool voice_vad_built(enum voice_vad_kind kind);
/* One chunk of VOICE_CHUNK_SAMPLES: true while speech (or its hangover). */
bool voice_vad_chunk(struct voice_vad *v, const int16_t *pcm);
/* The speaker's voice stopped going anywhere (a closed gate: mute,
 * push-to-talk released): the hangover and the last decision go, so the
 * first chunks after the gate reopens are judged on their own; the noise
 * floor the detector learnt stays. */
void voice_vad_reset(struct voice_vad *v);
/* The raw decision of the last chunk, without hangover (for measurement). */
bool voice_vad_raw(const struct voice_vad *v);
