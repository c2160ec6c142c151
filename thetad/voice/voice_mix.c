/* Panning, distance attenuation and the mix (voice_mix.h; docs/voice.md,
 * "Mixing and panning").
 *
 * The speaker's head is brought into the listener's head frame (the inverse
 * of the listener's rotation applied to the offset between them); its
 * lateral share x / distance, -1 (left) .. +1 (right), pans with equal
 * power: l = cos(a), r = sin(a), a = (pan + 1) pi / 4. Straight ahead,
 * behind, above and below are centred (stereo cannot tell them apart).
 * Poses come from clients: anything not finite, or a rotation of no length,
 * counts as unknown. */
#include "voice/voice_mix.h"

#include <math.h>
#include <string.h>

/* Closer than this the direction means nothing: centred. */
#define VOICE_MIX_NEAR_M   1e-3f
/* A rotation whose squared length is below this is not one. */
#define VOICE_MIX_QUAT_MIN 1e-6f
/* The limiter: samples up to this share of full scale pass unchanged;
 * above, they bend smoothly towards full scale and never reach it. */
#define VOICE_MIX_KNEE     0.75f
#define VOICE_MIX_FULL     32767.0f

static bool pose_ok(const struct voice_pose *p)
{
	if (!p || !p->valid)
		return false;
	float n = 0.0f;
	for (unsigned i = 0; i < 3; i++)
		if (!isfinite(p->p[i]))
			return false;
	for (unsigned i = 0; i < 4; i++) {
		if (!isfinite(p->q[i]))
			return false;
		n += p->q[i] * p->q[i];
	}
	return isfinite(n) && n >= VOICE_MIX_QUAT_MIN;
}

/* v rotated by the inverse of the unit quaternion q (x y z w). */
static void rotate_inverse(const float q[4], const float v[3], float out[3])
{
	float n = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
	float x = -q[0] / n, y = -q[1] / n, z = -q[2] / n, w = q[3] / n;
	/* t = 2 (u x v); v' = v + w t + u x t, u = (x, y, z) */
	float tx = 2.0f * (y * v[2] - z * v[1]);
	float ty = 2.0f * (z * v[0] - x * v[2]);
	float tz = 2.0f * (x * v[1] - y * v[0]);
	out[0] = v[0] + w * tx + (y * tz - z * ty);
	out[1] = v[1] + w * ty + (z * tx - x * tz);
	out[2] = v[2] + w * tz + (x * ty - y * tx);
}

struct voice_gains voice_pan(const struct voice_pose *listener, const struct voice_pose *speaker)
{
	const float centre = (float)M_SQRT1_2;
	struct voice_gains g = { centre, centre };
	if (!pose_ok(listener) || !pose_ok(speaker))
		return g;
	float v[3] = { speaker->p[0] - listener->p[0], speaker->p[1] - listener->p[1], speaker->p[2] - listener->p[2] };
	float local[3];
	rotate_inverse(listener->q, v, local);
	float dist = sqrtf(local[0] * local[0] + local[1] * local[1] + local[2] * local[2]);
	if (!isfinite(dist) || dist < VOICE_MIX_NEAR_M)
		return g;
	float pan = local[0] / dist;
	pan = pan < -1.0f ? -1.0f : pan > 1.0f ? 1.0f : pan;
	float a = (pan + 1.0f) * (float)M_PI_4;
	float att = dist > VOICE_MIX_REF_M ? VOICE_MIX_REF_M / dist : 1.0f;
	if (att < VOICE_MIX_MIN_GAIN)
		att = VOICE_MIX_MIN_GAIN;
	g.l = cosf(a) * att;
	g.r = sinf(a) * att;
	return g;
}

void voice_mix_add(float *acc, const int16_t *mono, struct voice_gains from, struct voice_gains to)
{
	const float n = (float)VOICE_CHUNK_SAMPLES;
	float dl = (to.l - from.l) / n, dr = (to.r - from.r) / n;
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++) {
		/* ends exactly at `to`, where the next chunk starts */
		float k = (float)(i + 1);
		float s = (float)mono[i];
		acc[2 * i] += s * (from.l + dl * k);
		acc[2 * i + 1] += s * (from.r + dr * k);
	}
}

static int16_t limit(float x)
{
	const float knee = VOICE_MIX_KNEE * VOICE_MIX_FULL, room = VOICE_MIX_FULL - knee;
	if (isnan(x))
		return 0;
	float a = fabsf(x);
	if (a > knee) {
		/* y = knee + u room / (u + room), written so that no u (also
		 * infinity) overflows: slope 1 at the knee, below full scale */
		float u = a - knee;
		a = knee + room / (1.0f + room / u);
	}
	long v = lrintf(a);
	if (v > (long)VOICE_MIX_FULL)
		v = (long)VOICE_MIX_FULL;
	return (int16_t)(x < 0 ? -v : v);
}

void voice_mix_out(const float *acc, int16_t *out)
{
	for (unsigned i = 0; i < 2 * VOICE_CHUNK_SAMPLES; i++)
		out[i] = limit(acc[i]);
}
