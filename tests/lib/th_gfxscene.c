/* Scenes for the renderer's tests (th_gfxscene.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit.h"
#include "ipc.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_gfxscene.h"
#include "th_id.h"
#include "th_logrec.h"
#include "th_payload.h"
#include "th_schema.h"

#define GS_SESSION 0x6f5c3e11ull
#define GS_CHUNK 60000u /* bytes per snapshot chunk */

static void io_resync(void *ud) { (void)ud; }
static int io_report(void *ud, uint64_t p, const uint8_t h[TH_SCENE_HASH_LEN], uint32_t n)
{
	(void)ud;
	(void)p;
	(void)h;
	(void)n;
	return 0;
}
static uint64_t io_next_seq(void *ud)
{
	(void)ud;
	return 1;
}

int gs_init(struct gs *s)
{
	memset(s, 0, sizeof *s);
	lt_author_init(&s->host, 0x51);
	lt_author_init(&s->a, 0x52);
	lt_author_init(&s->b, 0x53);
	sh_init(&s->log, false);
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, s->host.kp.pk, sizeof c.host_key);
	int r = th_fold_create(&c, &s->fold);
	if (r == 0)
		r = sim_world_create(NULL, &s->w);
	struct app_scene_io io = { .resync = io_resync, .report = io_report, .next_seq = io_next_seq };
	if (r == 0)
		r = app_scene_create(s->w, &io, &s->scene);
	if (r < 0)
		gs_fini(s);
	return r;
}

void gs_fini(struct gs *s)
{
	app_scene_destroy(&s->scene);
	sim_world_destroy(&s->w);
	th_fold_destroy(&s->fold);
	sh_fini(&s->log);
}

static int fold_new(struct gs *s)
{
	for (; s->folded < s->log.n; s->folded++)
		if (th_fold_add(s->fold, &s->log.v[s->folded].e, s->folded) < 0)
			return -EINVAL;
	return 0;
}

int gs_send_snapshot(struct app_scene *m, struct th_fold *fold, uint64_t session, uint64_t next_pos,
		     const uint8_t host[32], uint32_t chunk, uint64_t now_ns)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	int r = th_fold_snapshot(fold, &w);
	if (r < 0) {
		th_wbuf_fini(&w);
		return r;
	}
	struct proto_ipc_resync_request a = { .reason = PROTO_IPC_RESYNC_FROM, .session = session,
					      .next_pos = next_pos, .flags = PROTO_IPC_RESYNC_F_SCENE };
	app_scene_on_resync(m, &a);
	for (size_t off = 0; off < w.len; off += chunk) {
		uint32_t len = w.len - off < chunk ? (uint32_t)(w.len - off) : chunk;
		struct proto_ipc_scene_chunk c = { .session = session, .next_pos = next_pos, .total = (uint32_t)w.len,
						   .offset = (uint32_t)off, .host = host, .host_len = 32,
						   .bytes = w.data + off, .bytes_len = len };
		app_scene_on_chunk(m, &c, now_ns);
	}
	th_wbuf_fini(&w);
	return 0;
}

static int send_snapshot(struct gs *s)
{
	int r = gs_send_snapshot(s->scene, s->fold, GS_SESSION, s->folded, s->host.kp.pk, GS_CHUNK, ++s->now_ns);
	if (r < 0)
		return r;
	s->delivered = s->folded;
	s->snapshot_sent = true;
	return app_scene_ready(s->scene) ? 0 : -EPROTO;
}

int gs_sync(struct gs *s)
{
	int r = fold_new(s);
	if (r < 0)
		return r;
	if (!s->snapshot_sent) {
		if ((r = send_snapshot(s)) < 0)
			return r;
	} else {
		static uint8_t enc[TH_LOGREC_BODY_MAX + TH_LOGREC_SIG_LEN];
		for (; s->delivered < s->log.n; s->delivered++) {
			const struct th_logrec_entry *e = &s->log.v[s->delivered].e;
			int n = th_logrec_encode(e, enc, sizeof enc);
			if (n < 0)
				return n;
			struct proto_ipc_event ev = { .kind = PROTO_IPC_EVENT_LOG_ENTRY, .pos = s->delivered,
						      .lamport = e->lamport, .author = e->author, .author_len = 32,
						      .payload = enc, .payload_len = (uint32_t)n };
			app_scene_on_event(s->scene, &ev, ++s->now_ns);
		}
	}
	return app_scene_sync(s->scene, ++s->now_ns, false);
}

int gs_primitive(struct gs *s, struct lt_author *by, const struct th_prim *pp, const float pos[3],
		 const float rot[4], uint32_t material, uint64_t *entity, uint64_t *mesh)
{
	struct th_patch p;
	th_patch_init(&p);
	const char *why;
	int r = th_op_primitive(pp, &p, &why);
	struct th_pl_mesh_create *mc = r == 0 ? calloc(1, sizeof *mc) : NULL;
	uint8_t *buf = mc ? malloc(TH_LOGREC_PAYLOAD_MAX) : NULL;
	if (r == 0 && (!mc || !buf))
		r = -ENOMEM;
	if (r == 0 && p.n > TH_PL_MESH_OPS_MAX)
		r = -E2BIG;
	if (r == 0) {
		memcpy(mc->transform, pos, 3 * sizeof(float));
		static const float ident[4] = { 0, 0, 0, 1 };
		memcpy(mc->transform + 3, rot ? rot : ident, 4 * sizeof(float));
		mc->transform[7] = mc->transform[8] = mc->transform[9] = 1;
		mc->material = material;
		mc->ops_count = (uint16_t)p.n;
		memcpy(mc->ops, p.ops, p.n * sizeof p.ops[0]);
		int n = th_cmd_payload_encode(TH_CMD_MESH_CREATE, mc, buf, TH_LOGREC_PAYLOAD_MAX);
		long i = n > 0 ? sh_add(&s->log, by, TH_CMD_MESH_CREATE, TH_SCOPE_GLOBAL, 0, buf, (size_t)n, 0) : -EINVAL;
		if (i < 0) {
			r = (int)(i == -EINVAL ? -EINVAL : i);
		} else {
			const struct th_logrec_entry *e = &s->log.v[i].e;
			if (entity)
				*entity = th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0);
			if (mesh)
				*mesh = th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, 0);
		}
	}
	free(buf);
	free(mc);
	th_patch_fini(&p);
	return r;
}

int gs_patch(struct gs *s, struct lt_author *by, uint64_t mesh, const struct th_patch *p)
{
	if (p->n == 0 || p->n > TH_PL_MESH_OPS_MAX)
		return -E2BIG;
	struct th_pl_mesh_patch *mp = calloc(1, sizeof *mp);
	uint8_t *buf = malloc(TH_LOGREC_PAYLOAD_MAX);
	int r = mp && buf ? 0 : -ENOMEM;
	if (r == 0) {
		mp->ops_count = (uint16_t)p->n;
		memcpy(mp->ops, p->ops, p->n * sizeof p->ops[0]);
		int n = th_cmd_payload_encode(TH_CMD_MESH_PATCH, mp, buf, TH_LOGREC_PAYLOAD_MAX);
		long i = n > 0 ? sh_add(&s->log, by, TH_CMD_MESH_PATCH, TH_SCOPE_MESH, mesh, buf, (size_t)n, 0) : -EINVAL;
		r = i < 0 ? (int)i : 0;
	}
	free(buf);
	free(mp);
	if (r == 0)
		r = fold_new(s); /* the next patch reads the mesh as this one left it */
	return r;
}

const struct th_mesh *gs_mesh(struct gs *s, uint64_t mesh)
{
	if (fold_new(s) < 0)
		return NULL;
	return th_scene_mesh(th_fold_scene(s->fold), mesh);
}

uint64_t gs_owner(const struct lt_author *by)
{
	return edit_owner_of(by->kp.pk);
}

int gs_select(struct gs *s, struct lt_author *by, uint64_t entity, uint32_t mode, uint64_t element)
{
	struct th_c_selection sel = { .owner = gs_owner(by), .mode = mode, .element = element };
	uint8_t val[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(th_component_record(TH_COMP_SELECTION), &sel, val, sizeof val);
	if (n < 0)
		return n;
	struct th_pl_component_write m = { .component = th_component_id(TH_COMP_SELECTION), .value = val,
					   .value_len = (uint16_t)n };
	return sh_add_typed(&s->log, by, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, entity, &m);
}

int gs_cube(struct gs *s, struct lt_author *by, const float pos[3], float size, uint64_t *entity, uint64_t *mesh)
{
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.size[0] = pp.size[1] = pp.size[2] = size;
	return gs_primitive(s, by, &pp, pos, NULL, 0, entity, mesh);
}

int gs_create(struct gs **out)
{
	struct gs *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int r = gs_init(s);
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void gs_destroy(struct gs **p)
{
	if (!*p)
		return;
	gs_fini(*p);
	free(*p);
	*p = NULL;
}
