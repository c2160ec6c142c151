/* libFuzzer target: th_scene_decode on arbitrary bytes (common/th_scene.c).
 * Checks the documented contract: a refused encoding is -EBADMSG with a
 * reason and leaves the scene byte-for-byte as it was; an accepted one is
 * canonical (th_scene_encode gives back exactly the input), every mesh in it
 * passes th_mesh_check, its stats agree with its content, and a second
 * scene decodes the same bytes to the same world hash. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"
#include "th_mesh.h"
#include "th_scene.h"

static struct th_scene *s, *t;
static struct th_wbuf before, after;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!s && (th_scene_create(&s) < 0 || th_scene_create(&t) < 0))
		abort();
	/* s holds whatever the last accepted input left: what a refusal must keep. */
	th_wbuf_reset(&before);
	if (th_scene_encode(s, &before) < 0)
		abort();
	const char *why = NULL;
	int rv = th_scene_decode(s, data, size, &why);
	th_wbuf_reset(&after);
	if (th_scene_encode(s, &after) < 0)
		abort();
	if (rv < 0) {
		if (rv != -EBADMSG || !why || !*why)
			abort();
		if (after.len != before.len || memcmp(after.data, before.data, after.len) != 0)
			abort();
		return 0;
	}
	if (rv != 0 || after.len != size || memcmp(after.data, data, size) != 0)
		abort();
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	size_t cur = 0, n = 0;
	uint64_t id;
	while (th_scene_next_entity(s, &cur, &id))
		n++;
	if (n != st.entities)
		abort();
	const struct th_mesh *m;
	cur = n = 0;
	while (th_scene_next_mesh(s, &cur, &m)) {
		if (th_mesh_check(m, &why) != 0 || th_scene_mesh(s, m->id) != m)
			abort();
		n++;
	}
	if (n != st.meshes)
		abort();
	uint8_t h1[TH_SCENE_HASH_LEN], h2[TH_SCENE_HASH_LEN];
	if (th_scene_decode(t, data, size, &why) != 0 || th_scene_hash(s, h1) != 0 || th_scene_hash(t, h2) != 0 ||
	    memcmp(h1, h2, sizeof h1) != 0)
		abort();
	return 0;
}
