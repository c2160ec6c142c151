/* tests/lib/th_walk: the motion model every presence test and benchmark
 * walks with is deterministic (seed, steps), keeps everyone in the scene
 * at human speeds and heights, and shows every kind of presence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "th_walk.h"

#define TICK_NS (1000000000ull / 90)
#define T0_NS 1000000000ull

static struct th_walk *walk_new(unsigned n, float spread, uint64_t seed)
{
	struct th_walk *w = malloc(sizeof(*w));
	assert_non_null(w);
	th_walk_init(w, n, spread, seed);
	th_walk_step(w, T0_NS);
	return w;
}

static void same_seed_and_steps_give_the_same_users(void **state)
{
	struct th_walk *a = walk_new(64, 40, 7), *b = walk_new(64, 40, 7), *c = walk_new(64, 40, 8);
	struct proto_pres_user ua, ub, uc;
	unsigned differ = 0;
	for (unsigned t = 1; t <= 900; t++) {
		th_walk_step(a, T0_NS + t * TICK_NS);
		th_walk_step(b, T0_NS + t * TICK_NS);
		th_walk_step(c, T0_NS + t * TICK_NS);
		for (unsigned i = 0; i < 64; i++) {
			th_walk_user(a, i, &ua);
			th_walk_user(b, i, &ub);
			th_walk_user(c, i, &uc);
			assert_memory_equal(&ua, &ub, sizeof(ua));
			differ += memcmp(ua.pose, uc.pose, sizeof(ua.pose)) != 0;
		}
	}
	assert_int_equal(differ, 900 * 64); /* another seed walks elsewhere */
	free(a);
	free(b);
	free(c);
}

static void keys_depend_on_seed_and_index_only(void **state)
{
	struct th_walk *a = walk_new(200, 100, 42), *b = walk_new(3, 5, 42);
	uint8_t k[PROTO_PRES_KEY_LEN], zero[PROTO_PRES_KEY_LEN] = { 0 };
	struct proto_pres_user u, v;
	for (unsigned i = 0; i < 200; i++) {
		th_walk_user(a, i, &u);
		th_walk_key(42, i, k);
		assert_memory_equal(u.key, k, sizeof(k));
		assert_memory_not_equal(k, zero, sizeof(k));
		if (i < 3) {
			th_walk_user(b, i, &v);
			assert_memory_equal(v.key, k, sizeof(k));
		}
		for (unsigned j = 0; j < i; j++) {
			th_walk_user(a, j, &v);
			assert_memory_not_equal(u.key, v.key, sizeof(k));
		}
		th_walk_key(43, i, k);
		assert_memory_not_equal(u.key, k, sizeof(k));
	}
	/* past n: a zeroed user; n past the maximum is cut */
	th_walk_user(b, 3, &u);
	assert_memory_equal(u.key, zero, sizeof(zero));
	assert_int_equal(u.valid, 0);
	struct th_walk *big = walk_new(TH_WALK_USERS_MAX + 10, 100, 1);
	assert_int_equal(big->n, TH_WALK_USERS_MAX);
	free(a);
	free(b);
	free(big);
}

static void one_long_step_equals_many_short_ones(void **state)
{
	struct th_walk *a = walk_new(16, 30, 3), *b = walk_new(16, 30, 3);
	th_walk_step(a, T0_NS + 2000000000ull);
	for (unsigned k = 1; k <= 40; k++)
		th_walk_step(b, T0_NS + k * TH_WALK_STEP_MAX_NS);
	struct proto_pres_user ua, ub;
	for (unsigned i = 0; i < 16; i++) {
		th_walk_user(a, i, &ua);
		th_walk_user(b, i, &ub);
		assert_memory_equal(&ua, &ub, sizeof(ua));
	}
	/* a time that does not move on changes nothing */
	th_walk_step(a, T0_NS + 1000000000ull);
	th_walk_user(a, 0, &ub);
	th_walk_user(b, 0, &ua);
	assert_memory_equal(&ua, &ub, sizeof(ua));
	free(a);
	free(b);
}

static float dist3(const float *a, const float *b)
{
	float dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
	return sqrtf(dx * dx + dy * dy + dz * dz);
}

static void users_stay_in_range_at_human_speeds(void **state)
{
	const unsigned n = 64, ticks = 90 * 60;
	const float spread = 40, half = spread / 2;
	struct th_walk *w = walk_new(n, spread, 11);
	struct proto_pres_user u, prev[64];
	float travelled[64] = { 0 };
	unsigned cursor = 0, preview = 0, speaking = 0, paused = 0;
	for (unsigned i = 0; i < n; i++)
		th_walk_user(w, i, &prev[i]);
	for (unsigned t = 1; t <= ticks; t++) {
		uint64_t now = T0_NS + t * TICK_NS;
		th_walk_step(w, now);
		for (unsigned i = 0; i < n; i++) {
			th_walk_user(w, i, &u);
			uint32_t body = PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT;
			assert_int_equal(u.valid & body, body);
			assert_int_equal(u.valid & ~PROTO_PRES_F_ALL, 0);
			assert_true(u.t_ns <= now && u.t_ns + 20000000ull > now);
			assert_true(u.t_ns >= prev[i].t_ns);
			for (unsigned p = 0; p < PROTO_PRES_PARTS; p++) {
				const float *q = &u.pose[p][3];
				for (unsigned k = 0; k < 7; k++)
					assert_true(isfinite(u.pose[p][k]));
				float norm = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
				assert_true(fabsf(norm - 1) < 1e-4f);
				assert_true(fabsf(u.pose[p][0]) <= half + 1 && fabsf(u.pose[p][2]) <= half + 1);
			}
			const float *h = u.pose[PROTO_PRES_HEAD];
			assert_true(h[1] > 1.45f && h[1] < 1.85f);
			assert_true(dist3(h, u.pose[PROTO_PRES_LEFT]) < 1.0f);
			assert_true(dist3(h, u.pose[PROTO_PRES_RIGHT]) < 1.0f);
			/* no one runs: at most the fastest pace and a little sway per tick */
			float moved = dist3(h, prev[i].pose[PROTO_PRES_HEAD]);
			assert_true(moved < TH_WALK_SPEED_MPS * 1.15f / 90 + 0.004f);
			travelled[i] += moved;
			paused += moved < 1e-3f;
			if (u.valid & PROTO_PRES_F_CURSOR) {
				cursor++;
				assert_true(u.tool >= 1 && u.tool <= TH_WALK_TOOLS);
				assert_true(dist3(h, u.cursor) < 1.5f);
			}
			if (u.valid & PROTO_PRES_F_PREVIEW) {
				preview++;
				assert_true(u.valid & PROTO_PRES_F_CURSOR);
				assert_true(u.preview_target != 0);
				assert_true(dist3(u.cursor, u.preview) < 0.2f);
			}
			speaking += !!(u.valid & PROTO_PRES_F_SPEAKING);
			prev[i] = u;
		}
	}
	/* everyone walked (about 1.2 m/s with pauses: between 10 and 80 m in a minute) */
	for (unsigned i = 0; i < n; i++)
		assert_true(travelled[i] > 10 && travelled[i] < 80);
	/* and every kind of presence showed up, none all the time */
	unsigned total = n * ticks;
	assert_true(paused > total / 20 && paused < total * 3 / 4);
	assert_true(cursor > total / 100 && cursor < total / 2);
	assert_true(preview > 0 && preview < cursor);
	assert_true(speaking > total / 100 && speaking < total / 2);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_and_steps_give_the_same_users),
		cmocka_unit_test(keys_depend_on_seed_and_index_only),
		cmocka_unit_test(one_long_step_equals_many_short_ones),
		cmocka_unit_test(users_stay_in_range_at_human_speeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
