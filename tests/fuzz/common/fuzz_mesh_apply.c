/* libFuzzer target: op lists from arbitrary bytes applied to a small mesh
 * (a cube with its top missing and two free vertices), through a journal.
 * Element ids come from a small space so that collisions, missing and
 * existing elements all occur. Traps if th_mesh_check fails after any step,
 * if a refused list changed the canonical encoding or the journal, if a
 * decode of the encoding differs, or if undoing the journal step by step
 * does not give back each earlier encoding and finally the initial one.
 *
 * Input: byte 0 picks the journal's limit (below 64: 16 bytes per unit,
 * so 0 refuses every record; else none), then lists, each a
 * count byte (1..16 ops) and 5 bytes per op: op, element, arg, position,
 * new id. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_mesh_enc.h"
#include "th_journal.h"
#include "th_mesh.h"

#define FZ_LISTS_MAX 48
#define FZ_OPS_MAX 16
#define FZ_OP_BYTES 5
#define FZ_IDS 40 /* element ids 1..FZ_IDS-1, and 0 */

static void fz_valid(const struct th_mesh *m)
{
	const char *why = NULL;
	fz_check(th_mesh_check(m, &why) == 0);
}

static const float fz_values[16] = { 0.0f, 1.0f, -1.0f, 0.5f, 2.0f, -0.0f, 1e-40f, 3e38f,
				     NAN,  INFINITY, -INFINITY, 7.0f, 10.0f, -3.25f, 100.0f, 0.25f };

static void fz_base(struct th_mesh *m)
{
	static const uint64_t quads[5][4] = {
		{ 1, 4, 3, 2 }, { 1, 2, 6, 5 }, { 3, 4, 8, 7 }, { 1, 5, 8, 4 }, { 2, 3, 7, 6 },
	};
	struct th_pl_mesh_op ops[10 + 5 * 5];
	uint64_t ids[10 + 5 * 5];
	unsigned n = 0;
	memset(ops, 0, sizeof(ops));
	memset(ids, 0, sizeof(ids));
	for (unsigned i = 0; i < 10; i++) {
		ops[n] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_VERTEX_ADD,
						 .position = { (float)(i & 1), (float)(i >> 1 & 1), (float)(i >> 2) } };
		ids[n++] = i + 1;
	}
	for (unsigned f = 0; f < 5; f++) {
		ops[n] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_FACE_ADD, .arg = f };
		ids[n++] = 20 + f;
		for (unsigned k = 0; k < 4; k++)
			ops[n++] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_LOOP, .element = quads[f][k] };
	}
	fz_check(th_mesh_init(m, 0x6d657368) == 0);
	const char *why = NULL;
	fz_check(th_mesh_apply(m, ops, n, ids, NULL, &why) == 0);
	fz_valid(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct th_mesh m;
	struct th_journal j;
	struct fz_enc before[FZ_LISTS_MAX + 1];
	size_t marks[FZ_LISTS_MAX + 1];
	unsigned steps = 0;
	fz_base(&m);
	th_journal_init(&j, size && data[0] < 64 ? (size_t)data[0] * 16 : 0);
	struct fz_enc initial = fz_encode(&m);
	size_t off = size ? 1 : 0;
	while (off < size && steps < FZ_LISTS_MAX) {
		unsigned n = data[off++] % FZ_OPS_MAX + 1;
		if ((size - off) / FZ_OP_BYTES < n)
			break;
		struct th_pl_mesh_op ops[FZ_OPS_MAX];
		uint64_t ids[FZ_OPS_MAX];
		for (unsigned i = 0; i < n; i++, off += FZ_OP_BYTES) {
			const uint8_t *b = data + off;
			struct th_pl_mesh_op *o = &ops[i];
			memset(o, 0, sizeof(*o));
			o->op = b[0] & 7;
			o->arg = b[2] & 0x80 ? 256u + (b[2] & 3) : b[2] & 0x7f;
			if (o->op == TH_PL_MESH_OP_LOOP) {
				o->arg = b[2] & 3; /* mostly MESH_REF_ID or MESH_REF_LOCAL */
				o->element = o->arg == TH_PL_MESH_REF_LOCAL ? b[1] % (n + 1) : b[1] % FZ_IDS;
			} else {
				o->element = b[1] % FZ_IDS;
			}
			for (unsigned k = 0; k < 3; k++)
				o->position[k] = fz_values[(b[3] >> (k * 2 + (k == 2))) & 15];
			ids[i] = b[4] % FZ_IDS;
		}
		before[steps] = fz_encode(&m);
		marks[steps] = th_journal_mark(&j);
		const char *why = NULL;
		int r = th_mesh_apply(&m, ops, n, ids, &j, &why);
		fz_valid(&m);
		fz_check(r == 0 || r == -EINVAL || r == -ENOSPC);
		if (r) {
			struct fz_enc now = fz_encode(&m);
			fz_check(fz_same(now, before[steps]));
			fz_check(th_journal_mark(&j) == marks[steps]);
			fz_check(r != -EINVAL || (why && *why));
			free(now.d);
			free(before[steps].d);
			continue;
		}
		/* The encoding decodes to the same mesh. */
		struct fz_enc now = fz_encode(&m);
		struct th_mesh d;
		size_t used = 0;
		fz_check(th_mesh_decode(&d, now.d, now.len, &used, &why) == 0);
		fz_check(used == now.len);
		fz_valid(&d);
		struct fz_enc again = fz_encode(&d);
		fz_check(fz_same(now, again));
		free(again.d);
		free(now.d);
		th_mesh_fini(&d);
		steps++;
	}
	/* Back through the history, newest first. */
	while (steps-- > 0) {
		uint8_t kind;
		const uint8_t *rec;
		size_t len;
		while (th_journal_pop(&j, marks[steps], &kind, &rec, &len) == 1) {
			fz_check(th_mesh_record_mesh(rec, len) == m.id);
			fz_check(th_mesh_undo_record(&m, kind, rec, len) == 0);
		}
		fz_valid(&m);
		struct fz_enc now = fz_encode(&m);
		fz_check(fz_same(now, before[steps]));
		free(now.d);
		free(before[steps].d);
	}
	struct fz_enc end = fz_encode(&m);
	fz_check(fz_same(end, initial));
	free(end.d);
	free(initial.d);
	th_journal_fini(&j);
	th_mesh_fini(&m);
	return 0;
}
