/* libFuzzer target: the scene checkpoint loader (thetad/sess/scene.c
 * sess_scene_ckpt_load: the THCK header and CRC, then the fold snapshot
 * restored and its world hash and set digest compared with the header's).
 * Properties: nothing reads outside the input or leaks; a checkpoint that
 * loads snapshots again into bytes that load to the same world hash.
 *
 * Input: one mode byte, then the file. Mode bit 0 set: the header's
 * snapshot length and CRC are made to match the bytes first, so mutations
 * reach the snapshot decoder instead of stopping at the checksum. The
 * session the file must belong to is the one its header names. Seeds:
 * corpus/scene_ckpt, written by gen_corpus.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sess/scene.h"
#include "sess/scene_ckpt.h"
#include "th_buf.h"
#include "th_fold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++, size--;
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	uint8_t session[SESS_CKPT_ID_LEN] = { 0 };
	if (size >= SESS_CKPT_HEADER_LEN) {
		memcpy(session, p + 8, sizeof(session));
		if (mode & 1) {
			struct sess_ckpt_header h = { .next_pos = th_get_le64(p + 24),
						      .snapshot_len = size - SESS_CKPT_HEADER_LEN };
			memcpy(h.session, session, sizeof(session));
			memcpy(h.world_hash, p + 32, sizeof(h.world_hash));
			memcpy(h.set_digest, p + 64, sizeof(h.set_digest));
			sess_ckpt_header_put(p, &h);
		}
	}
	/* Host key zero, as the corpus was written (gen_corpus.c). */
	struct th_fold_config c = { 0 };
	struct sess_ckpt_header h;
	struct th_fold *f = NULL, *g = NULL;
	const char *why = NULL;
	if (sess_scene_ckpt_load(&c, p, size, session, &h, &f, &why) == 0) {
		uint8_t a[32], b[32];
		struct th_wbuf w;
		th_wbuf_init(&w, 0);
		if (th_fold_snapshot(f, &w) == 0 && th_fold_world_hash(f, a) == 0) {
			if (th_fold_restore(&c, w.data, w.len, &g, &why) != 0 || th_fold_world_hash(g, b) != 0 ||
			    memcmp(a, b, sizeof(a)))
				abort();
		}
		th_wbuf_fini(&w);
		th_fold_destroy(&g);
		th_fold_destroy(&f);
	}
	free(p);
	return 0;
}
