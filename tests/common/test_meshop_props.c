/* The mesh operations' property test: seeded random sequences of the
 * operations of common/th_meshop.h (picked with their parameters by
 * tests/lib/th_meshpick) on small start meshes. After every step:
 *   - the operation did not change the mesh (same canonical encoding);
 *   - it returned 0, -EINVAL with a sentence, or -E2BIG when the patch's
 *     limit was lowered; invalid parameters (a missing or repeated element,
 *     a level or distance out of range) were refused;
 *   - a refusal left the patch exactly as it was (count and ops, including
 *     the ops already in it);
 *   - an accepted patch applies (th_patch_apply through a journal), the
 *     mesh passes th_mesh_check (every half-edge invariant, manifold, no
 *     bowtie) and its Euler characteristic changed as the operation says
 *     (th_meshpick.h: subdivide and Catmull-Clark keep it, a weld may
 *     change it; each free vertex the patch held before adds one);
 *   - now and then the same picks run again give the same ops, bit for bit;
 *   - now and then the journal is undone to a random earlier step, which
 *     must give back that step's canonical encoding exactly; at the end the
 *     whole journal gives back the start mesh.
 * THETA_MESHOP_SEEDS=N runs N sequences (default PROPS_SEEDS),
 * THETA_MESHOP_FIRST_SEED=S starts at seed S. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_buf.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"
#include "th_meshpick.h"

#define PROPS_SEEDS 3000u
#define PROPS_STEPS 8u
#define PROPS_FACE_CAP 600u /* operations that grow the mesh stop above this */
#define PROPS_MESH_ID 0x70726f70u

static uint32_t rng_pick(void *ctx, uint32_t n)
{
	uint64_t *x = ctx;
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 11) % n;
}

static int64_t euler_of(const struct th_mesh *m)
{
	struct th_mesh_stats s;
	th_mesh_stats(m, &s);
	return s.euler;
}

struct props_count {
	uint64_t applied, refused, empty, big;
};

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *e = getenv(name);
	return e && strtoull(e, NULL, 10) > 0 ? strtoull(e, NULL, 10) : dflt;
}

/* One sequence; counts per operation into cnt. */
static void run_sequence(uint64_t seed, struct props_count *cnt)
{
	static const uint8_t author[32] = { 0xa1 };
	uint64_t rs = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
	struct mp_src src = { rng_pick, &rs };
	struct th_mesh m;
	struct th_journal j;
	struct th_patch p, q;
	struct mf_enc enc[PROPS_STEPS + 1];
	size_t mark[PROPS_STEPS + 1]; /* the journal's mark after each applied step */
	unsigned depth = 0;
	th_journal_init(&j, 0);
	th_patch_init(&p);
	th_patch_init(&q);
	assert_int_equal(mp_start(&m, PROPS_MESH_ID, &src), 0);
	mf_mesh_ok(&m);
	enc[0] = mf_enc_of(&m);
	mark[0] = th_journal_mark(&j);
	for (unsigned step = 0; step < PROPS_STEPS; step++) {
		/* the patch may already hold ops (free vertices) and a lower limit */
		th_patch_clear(&p);
		p.max = TH_PATCH_OPS_MAX;
		unsigned pre = rng_pick(&rs, 3);
		for (unsigned k = 0; k < pre; k++) {
			float v[3] = { (float)rng_pick(&rs, 100) / 7, 5, (float)k };
			assert_true(th_patch_vertex_add(&p, v) > 0);
		}
		struct th_pl_mesh_op prefix[2];
		if (pre)
			memcpy(prefix, p.ops, pre * sizeof(*p.ops));
		bool lowered = rng_pick(&rs, 16) == 0;
		if (lowered)
			p.max = pre + rng_pick(&rs, 64);
		uint64_t saved = rs;
		struct mp_call c;
		int64_t chi = euler_of(&m);
		mp_run(&m, &src, PROPS_FACE_CAP, &p, &c);
		struct props_count *k = &cnt[c.op];
		/* the operation only read the mesh */
		mf_assert_unchanged(&m, enc[depth]);
		if (pre)
			assert_memory_equal(p.ops, prefix, pre * sizeof(*p.ops));
		if (c.r < 0) {
			if (!(c.r == -EINVAL || (c.r == -E2BIG && lowered)))
				fail_msg("seed %" PRIu64 " step %u: %s returned %d (%s)", seed, step, c.name, c.r,
					 c.why ? c.why : "?");
			if (c.r == -EINVAL)
				assert_true(c.why && c.why[0]);
			assert_int_equal(p.n, pre);
			c.r == -E2BIG ? k->big++ : k->refused++;
			continue;
		}
		if (c.must_refuse)
			fail_msg("seed %" PRIu64 " step %u: %s accepted invalid parameters", seed, step, c.name);
		if (rng_pick(&rs, 8) == 0) { /* the same picks give the same ops */
			uint64_t again = saved;
			struct mp_src src2 = { rng_pick, &again };
			struct mp_call c2;
			th_patch_clear(&q);
			q.max = p.max;
			for (unsigned i = 0; i < pre; i++)
				assert_true(th_patch_vertex_add(&q, prefix[i].position) > 0);
			mp_run(&m, &src2, PROPS_FACE_CAP, &q, &c2);
			assert_int_equal(c2.r, 0);
			assert_int_equal(q.n, p.n);
			assert_memory_equal(q.ops, p.ops, p.n * sizeof(*p.ops));
		}
		if (p.n == pre) {
			k->empty++;
			continue;
		}
		const char *why = NULL;
		int r = th_patch_apply(&m, &p, author, seed << 8 | step, &j, &why);
		if (r)
			fail_msg("seed %" PRIu64 " step %u: the patch of %s was refused (%d): %s", seed, step, c.name, r,
				 why ? why : "?");
		const char *cwhy = NULL;
		if (th_mesh_check(&m, &cwhy))
			fail_msg("seed %" PRIu64 " step %u: after %s: %s", seed, step, c.name, cwhy);
		if (c.euler_delta != MP_EULER_ANY && euler_of(&m) != chi + c.euler_delta + pre)
			fail_msg("seed %" PRIu64 " step %u: %s changed the Euler characteristic from %" PRId64
				 " to %" PRId64,
				 seed, step, c.name, chi, euler_of(&m));
		k->applied++;
		mark[++depth] = th_journal_mark(&j);
		enc[depth] = mf_enc_of(&m);
		if (rng_pick(&rs, 5) == 0) { /* undo to a random earlier step */
			unsigned to = rng_pick(&rs, depth);
			mf_undo_to(&m, &j, mark[to]);
			mf_assert_unchanged(&m, enc[to]);
			while (depth > to)
				free(enc[depth--].d);
		}
	}
	mf_undo_to(&m, &j, mark[0]);
	mf_assert_unchanged(&m, enc[0]);
	for (unsigned i = 0; i <= depth; i++)
		free(enc[i].d);
	th_patch_fini(&p);
	th_patch_fini(&q);
	th_mesh_fini(&m);
	th_journal_fini(&j);
}

static void random_operation_sequences_keep_every_invariant(void **state)
{
	struct props_count cnt[MP_OPS];
	memset(cnt, 0, sizeof(cnt));
	uint64_t n = env_u64("THETA_MESHOP_SEEDS", PROPS_SEEDS), first = env_u64("THETA_MESHOP_FIRST_SEED", 1);
	for (uint64_t seed = first; seed < first + n; seed++)
		run_sequence(seed, cnt);
	for (unsigned o = 0; o < MP_OPS; o++) {
		print_message("  %-14s %" PRIu64 " applied, %" PRIu64 " refused, %" PRIu64 " empty, %" PRIu64
			      " over the limit\n",
			      mp_op_name((enum mp_op)o), cnt[o].applied, cnt[o].refused, cnt[o].empty, cnt[o].big);
		/* with the default seeds every operation both applied and refused */
		if (n >= PROPS_SEEDS) {
			assert_true(cnt[o].applied > 0);
			assert_true(cnt[o].refused > 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_operation_sequences_keep_every_invariant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
