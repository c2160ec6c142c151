/* thetad/voice/voice_mix: panning gains from head poses (left, right, front,
 * behind, above, a turned head), distance attenuation and its floor,
 * unknown or broken poses centred, gain ramps, the mix and its limiter. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "voice/voice_mix.h"

#define EPS 1e-4f

static struct voice_pose at(float x, float y, float z)
{
	return (struct voice_pose){ .p = { x, y, z }, .q = { 0, 0, 0, 1 }, .valid = true };
}

/* Turned about +y (up) by deg degrees: positive turns left (towards -x). */
static struct voice_pose turned(float deg)
{
	struct voice_pose p = at(0, 0, 0);
	float h = deg * (float)M_PI / 360.0f;
	p.q[1] = sinf(h);
	p.q[3] = cosf(h);
	return p;
}

static void near(float a, float b)
{
	if (fabsf(a - b) > EPS)
		fail_msg("%f is not %f", (double)a, (double)b);
}

static float power(struct voice_gains g)
{
	return g.l * g.l + g.r * g.r;
}

static void a_voice_on_the_right_is_louder_right_and_on_the_left_left(void **state)
{
	struct voice_pose me = at(0, 0, 0);
	struct voice_pose right = at(1, 0, 0), left = at(-1, 0, 0), front_right = at(0.5f, 0, -0.5f);
	struct voice_gains g = voice_pan(&me, &right);
	near(g.l, 0);
	near(g.r, 1);
	g = voice_pan(&me, &left);
	near(g.l, 1);
	near(g.r, 0);
	g = voice_pan(&me, &front_right);
	assert_true(g.r > g.l && g.l > 0.2f);
	/* equal power: the pan moves the sound, not its loudness */
	near(power(g), 1);
}

static void ahead_behind_and_above_are_centred(void **state)
{
	struct voice_pose me = at(1, 2, 3);
	struct voice_pose ahead = at(1, 2, 2), behind = at(1, 2, 4), above = at(1, 3, 3), below = at(1, 1, 3);
	const struct voice_pose *all[] = { &ahead, &behind, &above, &below };
	for (unsigned i = 0; i < 4; i++) {
		struct voice_gains g = voice_pan(&me, all[i]);
		near(g.l, (float)M_SQRT1_2);
		near(g.r, (float)M_SQRT1_2);
	}
}

static void a_turned_head_hears_from_where_it_looks(void **state)
{
	/* turned 90 degrees left, the listener faces -x: a voice at -x is
	 * ahead, one at -z (ahead before the turn) is on the right */
	struct voice_pose me = turned(90);
	struct voice_pose west = at(-2, 0, 0), north = at(0, 0, -1), south = at(0, 0, 1);
	struct voice_gains g = voice_pan(&me, &west);
	near(g.l, g.r);
	g = voice_pan(&me, &north);
	near(g.r, 1);
	near(g.l, 0);
	g = voice_pan(&me, &south);
	near(g.l, 1);
	/* a rotation that is not of unit length means the same turn */
	struct voice_pose scaled = me;
	for (unsigned i = 0; i < 4; i++)
		scaled.q[i] *= 3.0f;
	g = voice_pan(&scaled, &north);
	near(g.r, 1);
	/* the speaker's own rotation does not matter */
	struct voice_pose north_turned = turned(123);
	north_turned.p[2] = -1;
	g = voice_pan(&me, &north_turned);
	near(g.r, 1);
}

static void farther_voices_are_quieter_down_to_a_floor(void **state)
{
	struct voice_pose me = at(0, 0, 0);
	struct voice_pose close = at(0, 0, -0.5f), one = at(0, 0, -1), two = at(0, 0, -2), four = at(0, 0, -4),
			  far = at(0, 0, -100), same = at(0, 0, 0);
	near(power(voice_pan(&me, &close)), 1); /* never louder than at VOICE_MIX_REF_M */
	near(power(voice_pan(&me, &same)), 1);
	near(power(voice_pan(&me, &one)), 1);
	near(sqrtf(power(voice_pan(&me, &two))), 0.5f);
	near(sqrtf(power(voice_pan(&me, &four))), VOICE_MIX_MIN_GAIN);
	near(sqrtf(power(voice_pan(&me, &far))), VOICE_MIX_MIN_GAIN);
	/* attenuated on the side too, still panned */
	struct voice_pose right_far = at(3, 0, 0);
	struct voice_gains g = voice_pan(&me, &right_far);
	near(g.r, 1.0f / 3.0f);
	near(g.l, 0);
}

static void unknown_or_broken_poses_are_centred(void **state)
{
	struct voice_pose me = at(0, 0, 0), right = at(1, 0, 0), unknown = at(1, 0, 0);
	unknown.valid = false;
	struct voice_pose nan_p = at(NAN, 0, 0), inf_p = at(INFINITY, 0, 0), zero_q = at(1, 0, 0),
			  nan_q = at(0, 0, 0), huge = at(3e38f, 3e38f, 3e38f);
	zero_q.q[3] = 0;
	nan_q.q[0] = NAN;
	const struct voice_pose *speakers[] = { &unknown, &nan_p, &inf_p, &zero_q, &huge };
	for (unsigned i = 0; i < 5; i++) {
		struct voice_gains g = voice_pan(&me, speakers[i]);
		near(g.l, (float)M_SQRT1_2);
		near(g.r, (float)M_SQRT1_2);
	}
	const struct voice_pose *listeners[] = { &unknown, &nan_p, &zero_q, &nan_q };
	for (unsigned i = 0; i < 4; i++) {
		struct voice_gains g = voice_pan(listeners[i], &right);
		near(g.l, (float)M_SQRT1_2);
		near(g.r, (float)M_SQRT1_2);
	}
	struct voice_gains g = voice_pan(NULL, &right);
	near(g.l, g.r);
}

static void gains_ramp_across_a_chunk_without_a_step(void **state)
{
	static float acc[2 * VOICE_CHUNK_SAMPLES];
	static int16_t mono[VOICE_CHUNK_SAMPLES];
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++)
		mono[i] = 10000;
	struct voice_gains a = { 1, 0 }, b = { 0, 1 }, c = { 0.5f, 0.5f };
	memset(acc, 0, sizeof(acc));
	voice_mix_add(acc, mono, a, b);
	/* starts next to `from`, ends exactly at `to`, one small step a sample */
	assert_true(fabsf(acc[0] - 10000.0f) <= 10000.0f / VOICE_CHUNK_SAMPLES + 1);
	near(acc[2 * VOICE_CHUNK_SAMPLES - 2], 0);
	near(acc[2 * VOICE_CHUNK_SAMPLES - 1], 10000);
	for (unsigned i = 1; i < VOICE_CHUNK_SAMPLES; i++) {
		float dl = acc[2 * i] - acc[2 * i - 2], dr = acc[2 * i + 1] - acc[2 * i - 1];
		assert_true(dl < 0 && dl > -10000.0f / VOICE_CHUNK_SAMPLES - 0.01f);
		assert_true(dr > 0 && dr < 10000.0f / VOICE_CHUNK_SAMPLES + 0.01f);
	}
	/* the next chunk, from where this one ended, continues smoothly */
	float last_r = acc[2 * VOICE_CHUNK_SAMPLES - 1];
	memset(acc, 0, sizeof(acc));
	voice_mix_add(acc, mono, b, c);
	assert_true(fabsf(acc[1] - last_r) <= 10000.0f / VOICE_CHUNK_SAMPLES);
	/* constant gains: a plain scaled copy; two voices add */
	memset(acc, 0, sizeof(acc));
	voice_mix_add(acc, mono, c, c);
	voice_mix_add(acc, mono, a, a);
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++) {
		near(acc[2 * i], 15000);
		near(acc[2 * i + 1], 5000);
	}
}

static void the_mix_out_is_exact_below_the_knee(void **state)
{
	static float acc[2 * VOICE_CHUNK_SAMPLES];
	static int16_t out[2 * VOICE_CHUNK_SAMPLES];
	for (unsigned i = 0; i < 2 * VOICE_CHUNK_SAMPLES; i++)
		acc[i] = (float)i * 40.0f - 19200.0f + 0.25f; /* -19200 .. 19160, not on integers */
	voice_mix_out(acc, out);
	for (unsigned i = 0; i < 2 * VOICE_CHUNK_SAMPLES; i++)
		assert_int_equal(out[i], (int)lrintf(acc[i]));
}

static void the_limiter_bends_loud_sums_and_never_wraps(void **state)
{
	static float acc[2 * VOICE_CHUNK_SAMPLES];
	static int16_t out[2 * VOICE_CHUNK_SAMPLES];
	/* a ramp from -3x to +3x full scale: monotonic, symmetric, inside */
	for (unsigned i = 0; i < 2 * VOICE_CHUNK_SAMPLES; i++)
		acc[i] = ((float)i / (2 * VOICE_CHUNK_SAMPLES - 1) * 2.0f - 1.0f) * 3.0f * 32767.0f;
	voice_mix_out(acc, out);
	for (unsigned i = 1; i < 2 * VOICE_CHUNK_SAMPLES; i++) {
		assert_true(out[i] >= out[i - 1]);
		/* no flat top within twice full scale: it bends, not clips */
		if (fabsf(acc[i]) < 2.0f * 32767.0f)
			assert_true(out[i] > out[i - 1]);
	}
	assert_true(out[0] >= -32767 && out[0] < -31000);
	assert_true(out[2 * VOICE_CHUNK_SAMPLES - 1] <= 32767 && out[2 * VOICE_CHUNK_SAMPLES - 1] > 31000);
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++)
		assert_in_range(out[i] + out[2 * VOICE_CHUNK_SAMPLES - 1 - i] + 1, 0, 2);
	/* two full-scale voices in phase: loud, below full scale, same sign */
	static int16_t mono[VOICE_CHUNK_SAMPLES];
	memset(acc, 0, sizeof(acc));
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++)
		mono[i] = (int16_t)(32767.0 * sin(2 * M_PI * 440.0 * i / 48000.0));
	struct voice_gains full = { 1, 1 };
	voice_mix_add(acc, mono, full, full);
	voice_mix_add(acc, mono, full, full);
	voice_mix_out(acc, out);
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++) {
		if (mono[i] > 0)
			assert_true(out[2 * i] >= mono[i] || out[2 * i] > 30000);
		if (mono[i] < 0)
			assert_true(out[2 * i] <= mono[i] || out[2 * i] < -30000);
	}
	/* whatever is in the sum: never past full scale, NaN is silence */
	acc[0] = INFINITY;
	acc[1] = -INFINITY;
	acc[2] = NAN;
	acc[3] = 3e38f;
	acc[4] = -3e38f;
	voice_mix_out(acc, out);
	assert_int_equal(out[0], 32767);
	assert_int_equal(out[1], -32767);
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 32767);
	assert_int_equal(out[4], -32767);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_voice_on_the_right_is_louder_right_and_on_the_left_left),
		cmocka_unit_test(ahead_behind_and_above_are_centred),
		cmocka_unit_test(a_turned_head_hears_from_where_it_looks),
		cmocka_unit_test(farther_voices_are_quieter_down_to_a_floor),
		cmocka_unit_test(unknown_or_broken_poses_are_centred),
		cmocka_unit_test(gains_ramp_across_a_chunk_without_a_step),
		cmocka_unit_test(the_mix_out_is_exact_below_the_knee),
		cmocka_unit_test(the_limiter_bends_loud_sums_and_never_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
