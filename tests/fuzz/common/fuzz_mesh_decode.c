/* libFuzzer target: th_mesh_decode on arbitrary bytes. Traps if a refusal
 * wrote the outputs or gave no reason, or if an accepted mesh fails
 * th_mesh_check, consumed more than it was given, or does not encode back to
 * exactly the bytes it consumed (decode takes only canonical encodings). An
 * accepted mesh must also copy, and take a patch that removes a face (or a
 * free vertex) and its undo. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"
#include "th_journal.h"
#include "th_mesh.h"

static void fz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static bool fz_encodes_to(const struct th_mesh *m, const uint8_t *p, size_t len)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	fz_check(th_mesh_encode(m, &w) == 0);
	bool same = w.len == len && (!len || memcmp(w.data, p, len) == 0);
	th_wbuf_fini(&w);
	return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct th_mesh m;
	size_t used = (size_t)-1;
	const char *why = NULL;
	int r = th_mesh_decode(&m, data, size, &used, &why);
	if (r) {
		fz_check(r == -EBADMSG || r == -ENOMEM);
		fz_check(used == (size_t)-1);
		fz_check(r != -EBADMSG || (why && *why));
		return 0;
	}
	fz_check(used <= size);
	const char *cw = NULL;
	fz_check(th_mesh_check(&m, &cw) == 0);
	fz_check(fz_encodes_to(&m, data, used));

	struct th_mesh c;
	fz_check(th_mesh_copy(&c, &m) == 0);
	fz_check(fz_encodes_to(&c, data, used));

	/* Remove the first face (or vertex) slot's element, then undo it. */
	uint64_t target = 0;
	if (c.nfaces)
		target = c.faces[0].id;
	else if (c.nverts)
		target = c.verts[0].id;
	if (target) {
		struct th_pl_mesh_op op = { .op = TH_PL_MESH_OP_REMOVE, .element = target };
		struct th_journal j;
		th_journal_init(&j, 0);
		r = th_mesh_apply(&c, &op, 1, NULL, &j, &why);
		fz_check(r == 0 || r == -EINVAL);
		fz_check(th_mesh_check(&c, &cw) == 0);
		uint8_t kind;
		const uint8_t *rec;
		size_t len;
		while (th_journal_pop(&j, 0, &kind, &rec, &len) == 1)
			fz_check(th_mesh_undo_record(&c, kind, rec, len) == 0);
		fz_check(th_mesh_check(&c, &cw) == 0);
		fz_check(fz_encodes_to(&c, data, used));
		th_journal_fini(&j);
	}
	th_mesh_fini(&c);
	th_mesh_fini(&m);
	return 0;
}
