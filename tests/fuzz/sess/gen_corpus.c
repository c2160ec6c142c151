/* Writes the seeds of the scene checkpoint fuzz corpus
 * (tests/fuzz/sess/corpus/scene_ckpt/): checkpoint files of real folds
 * (an empty one, a quad with a material, an undone edit), host key zero as
 * the target restores them. Not built by the Makefile (no fuzz_ or test_
 * prefix); after a change to the checkpoint or snapshot format, run from
 * the repository root:
 *
 *   make build/lib/libthcommon.a build/lib/libthetad.a build/lib/libthtest.a
 *   cc -std=gnu17 -D_GNU_SOURCE -Icommon -Iproto -Ischemas -Ithetad -Itests/lib \
 *      tests/fuzz/sess/gen_corpus.c build/lib/libthtest.a build/lib/libthetad.a build/lib/libthcommon.a \
 *      $(pkg-config --libs libsodium libzstd json-c libsystemd) -lm -o /tmp/gen_ckpt && /tmp/gen_ckpt
 *
 * Every seed starts with the target's mode byte (1: make length and CRC
 * match, so mutations reach the snapshot). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sess/scene_ckpt.h"
#include "th_buf.h"
#include "th_fold.h"
#include "th_foldfix.h"

static void write_seed(const char *name, struct th_fold *f)
{
	struct th_wbuf w;
	struct sess_ckpt_header h = { .next_pos = 0 };
	struct th_fold_stats st;
	th_wbuf_init(&w, 0);
	th_wbuf_u8(&w, 1);
	th_wbuf_extend(&w, SESS_CKPT_HEADER_LEN);
	if (th_fold_snapshot(f, &w) < 0 || th_fold_world_hash(f, h.world_hash) < 0)
		abort();
	th_fold_set_digest(f, h.set_digest);
	th_fold_stats(f, &st);
	memset(h.session, 0xa5, sizeof(h.session));
	h.next_pos = st.next_pos;
	h.snapshot_len = w.len - 1 - SESS_CKPT_HEADER_LEN;
	sess_ckpt_header_put(w.data + 1, &h);
	char path[256];
	snprintf(path, sizeof(path), "tests/fuzz/sess/corpus/scene_ckpt/%s", name);
	FILE *o = fopen(path, "wb");
	if (!o || fwrite(w.data, 1, w.len, o) != w.len || fclose(o))
		abort();
	th_wbuf_fini(&w);
}

int main(void)
{
	struct th_fold_config c = { 0 };
	struct th_fold *f;
	struct lt_author a, b;
	lt_author_init(&a, 1);
	lt_author_init(&b, 2);
	if (th_fold_create(&c, &f) < 0)
		abort();
	write_seed("empty", f);
	size_t q = ff_make(&a, TH_CMD_MESH_CREATE, 0, 1, ff_mesh_create(0));
	size_t m = ff_make(&b, TH_CMD_MATERIAL_SET, 0, 2, ff_material(1, 0.5f));
	if (th_fold_add(f, ff_e(q), 0) < 0 || th_fold_add(f, ff_e(m), 1) < 0)
		abort();
	write_seed("quad_material", f);
	size_t w = ff_make(&a, TH_CMD_COMPONENT_WRITE, ff_entity_of(q), 3, ff_component_write(2));
	size_t u = ff_make(&a, TH_CMD_EDIT_UNDO, 0, 4, ff_target(ff_e(w)->lamport, ff_e(w)->author));
	if (th_fold_add(f, ff_e(w), 2) < 0 || th_fold_add(f, ff_e(u), 3) < 0)
		abort();
	write_seed("undone_write", f);
	th_fold_destroy(&f);
	ff_free_all();
	return 0;
}
