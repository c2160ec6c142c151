/* Placing voices where the avatars are, and mixing them (docs/voice.md,
 * "Mixing and panning"). Gains come from the speaker's head position in the
 * listener's head frame: equal-power stereo panning by azimuth, inverse
 * distance attenuation beyond VOICE_MIX_REF_M (never below
 * VOICE_MIX_MIN_GAIN, so a far colleague stays audible), centred when either
 * pose is unknown. Gains ramp over a chunk so a turning head does not click.
 * Pure computation. Poses: position x y z (metres), rotation quaternion
 * x y z w; the head looks along -z, +x is its right, +y up (OpenXR). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "voice/voice.h"

#define VOICE_MIX_REF_M    1.0f
#define VOICE_MIX_MIN_GAIN 0.25f

struct voice_pose {
	float p[3], q[4];
	bool valid;
};

struct voice_gains {
	float l, r;
};

/* The gains for a speaker heard by a listener. */
struct voice_gains voice_pan(const struct voice_pose *listener, const struct voice_pose *speaker);

/* acc: VOICE_CHUNK_SAMPLES stereo frames (interleaved L R) of float.
 * Adds one mono chunk, ramping linearly from `from` to `to`. */
void voice_mix_add(float *acc, const int16_t *mono, struct voice_gains from, struct voice_gains to);
/* Converts the sum to s16 with a soft limiter above 0 dBFS: no wrap, no hard
 * clip of ordinary overlaps. out: VOICE_CHUNK_SAMPLES stereo frames. */
void voice_mix_out(const float *acc, int16_t *out);
