/* libFuzzer target: sequences of mesh operations (common/th_meshop.h) on a
 * small start mesh, every choice (the start mesh, the operation, its
 * elements and parameters, a lowered patch limit) taken from the input
 * through tests/lib/th_meshpick. Traps if an operation changed the mesh,
 * returned anything but 0, -EINVAL with a sentence or -E2BIG (only under a
 * lowered limit), accepted parameters that must be refused, or changed the
 * patch when it refused; if an accepted patch does not apply, leaves a mesh
 * that fails th_mesh_check or changes the Euler characteristic where the
 * operation keeps it; or if undoing the journal step by step does not give
 * back each earlier canonical encoding and finally the start mesh's.
 *
 * Input: one byte per choice of fewer than 256 options, two (little-endian)
 * for larger ones; the sequence ends when the input does. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_mesh_enc.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshop.h"
#include "th_meshpick.h"

#define FZ_STEPS_MAX 12
#define FZ_FACE_CAP 300u
#define FZ_MESH_ID 0x66757a7au

struct fz_in {
	const uint8_t *p;
	size_t len, at;
};

static uint32_t fz_pick(void *ctx, uint32_t n)
{
	struct fz_in *in = ctx;
	uint32_t v = 0;
	unsigned bytes = n <= 256 ? 1 : 2;
	for (unsigned i = 0; i < bytes && in->at < in->len; i++)
		v |= (uint32_t)in->p[in->at++] << (8 * i);
	return v % n;
}

static int64_t fz_euler(const struct th_mesh *m)
{
	struct th_mesh_stats s;
	th_mesh_stats(m, &s);
	return s.euler;
}

static void fz_undo_to(struct th_mesh *m, struct th_journal *j, size_t mark)
{
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	while (th_journal_pop(j, mark, &kind, &d, &len) == 1)
		fz_check(th_mesh_undo_record(m, kind, d, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t author[32] = { 0xf0 };
	struct fz_in in = { data, size, 0 };
	struct mp_src src = { fz_pick, &in };
	struct th_mesh m;
	struct th_journal j;
	struct th_patch p;
	struct fz_enc enc[FZ_STEPS_MAX + 1];
	size_t mark[FZ_STEPS_MAX + 1];
	unsigned depth = 0;
	const char *why = NULL;
	if (mp_start(&m, FZ_MESH_ID, &src))
		return 0;
	th_journal_init(&j, 0);
	th_patch_init(&p);
	enc[0] = fz_encode(&m);
	mark[0] = th_journal_mark(&j);
	for (unsigned step = 0; step < FZ_STEPS_MAX && in.at < in.len; step++) {
		th_patch_clear(&p);
		p.max = TH_PATCH_OPS_MAX;
		bool lowered = fz_pick(&in, 8) == 0;
		if (lowered)
			p.max = fz_pick(&in, 64);
		struct mp_call c;
		int64_t chi = fz_euler(&m);
		mp_run(&m, &src, FZ_FACE_CAP, &p, &c);
		struct fz_enc now = fz_encode(&m);
		fz_check(fz_same(now, enc[depth]));
		free(now.d);
		if (c.r < 0) {
			fz_check(c.r == -EINVAL || (c.r == -E2BIG && lowered));
			fz_check(c.r != -EINVAL || (c.why && c.why[0]));
			fz_check(p.n == 0);
			continue;
		}
		fz_check(c.r == 0 && !c.must_refuse);
		if (!p.n)
			continue;
		fz_check(th_patch_apply(&m, &p, author, step + 1, &j, &why) == 0);
		fz_check(th_mesh_check(&m, &why) == 0);
		fz_check(c.euler_delta == MP_EULER_ANY || fz_euler(&m) == chi + c.euler_delta);
		mark[++depth] = th_journal_mark(&j);
		enc[depth] = fz_encode(&m);
	}
	for (; depth > 0; depth--) {
		fz_undo_to(&m, &j, mark[depth - 1]);
		struct fz_enc now = fz_encode(&m);
		fz_check(fz_same(now, enc[depth - 1]));
		free(now.d);
		free(enc[depth].d);
	}
	free(enc[0].d);
	th_patch_fini(&p);
	th_journal_fini(&j);
	th_mesh_fini(&m);
	return 0;
}
