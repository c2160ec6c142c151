/* libFuzzer target: th_scene_apply and th_scene_revert (common/th_scene.c)
 * on arbitrary sequences of entries. Input: records of
 *   u16 LE command type (mapped onto the registry), u8 scope pick, u16 LE
 *   payload length, the payload
 * applied in order by one author (seq 1, 2, ...) with one journal. The
 * scope pick names an entity or mesh created earlier in the input (pick %
 * count), or, at 0xff, the raw id 0xff. Checks: every outcome is 0 or
 * -EINVAL with a reason and no change to the encoding or the journal;
 * every mesh stays valid (th_mesh_check); reverting everything gives back
 * the empty scene's exact encoding. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"
#include "th_cmd.h"
#include "th_id.h"
#include "th_journal.h"
#include "th_logrec.h"
#include "th_mesh.h"
#include "th_scene.h"

#define FZ_IDS_MAX 64
#define FZ_ENTRIES_MAX 64

static struct th_wbuf empty, before, after;

static void encode(const struct th_scene *s, struct th_wbuf *w)
{
	th_wbuf_reset(w);
	if (th_scene_encode(s, w) != 0)
		abort();
}

static bool same(const struct th_wbuf *a, const struct th_wbuf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct th_scene *s;
	if (th_scene_create(&s) < 0)
		abort();
	encode(s, &empty);
	struct th_journal j;
	th_journal_init(&j, 0);
	uint64_t ents[FZ_IDS_MAX], meshes[FZ_IDS_MAX];
	unsigned nents = 0, nmeshes = 0, n = 0;
	struct th_logrec_entry e = { .version = TH_LOGREC_VERSION };
	memset(e.author, 0xa5, sizeof e.author);
	struct th_rbuf r;
	th_rbuf_init(&r, data, size);
	uint16_t type, len;
	uint8_t pick;
	const uint8_t *pl;
	while (n++ < FZ_ENTRIES_MAX && th_rbuf_u16(&r, &type) == 0 && th_rbuf_u8(&r, &pick) == 0 &&
	       th_rbuf_u16(&r, &len) == 0 && th_rbuf_view(&r, &pl, len) == 0) {
		const struct th_cmd_info *c = th_cmd_find(type);
		if (!c)
			c = th_cmd_at(type % th_cmd_count());
		e.type = c->id;
		e.scope_kind = c->scope;
		e.seq++;
		e.lamport = e.seq;
		e.payload = pl;
		e.payload_len = len;
		const uint64_t *from = c->scope == TH_SCOPE_MESH ? meshes : ents;
		unsigned count = c->scope == TH_SCOPE_MESH ? nmeshes : nents;
		e.scope_id = pick == 0xff || !count ? 0xff : from[pick % count];
		encode(s, &before);
		size_t jlen = j.len;
		struct th_scene_refusal ref = { 0 };
		int rv = th_scene_apply(s, &e, &j, &ref);
		if (rv == -EINVAL) {
			encode(s, &after);
			if (!ref.why || !ref.code || ref.code >= TH_REFUSE_COUNT || j.len != jlen || !same(&before, &after))
				abort();
			continue;
		}
		if (rv != 0 || ref.code != TH_REFUSE_NONE)
			abort();
		if (c->id == TH_CMD_ENTITY_CREATE || c->id == TH_CMD_MESH_CREATE) {
			if (nents < FZ_IDS_MAX)
				ents[nents++] = th_id_derive(TH_ID_ENTITY, e.author, e.seq, 0);
			if (c->id == TH_CMD_MESH_CREATE && nmeshes < FZ_IDS_MAX)
				meshes[nmeshes++] = th_id_derive(TH_ID_MESH_ELEMENT, e.author, e.seq, 0);
		}
		size_t cur = 0;
		const struct th_mesh *m;
		const char *why;
		while (th_scene_next_mesh(s, &cur, &m))
			if (th_mesh_check(m, &why) != 0)
				abort();
	}
	th_scene_revert(s, &j, 0);
	encode(s, &after);
	if (j.len != 0 || !same(&empty, &after))
		abort();
	th_journal_fini(&j);
	th_scene_destroy(&s);
	return 0;
}
