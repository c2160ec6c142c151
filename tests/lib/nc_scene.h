/* Scene edits through a daemon's client.sock for the multi-daemon tests
 * and benchmarks (header-only, on top of net_client.h): mesh.create of a
 * strip of quads, mesh.patch vertex moves and component.write of
 * Transforms, built with th_cmd_payload_encode. The ids an entry creates
 * derive from its author and seq (th_id_derive), which the daemon assigns:
 * they are read from the entry's EVENT when it comes back. */
#pragma once
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net_client.h"
#include "th_id.h"
#include "th_payload.h"
#include "th_schema.h"

#define NCS_MESHES_MAX 4096u

/* A strip mesh that exists: 2 * (quads + 1) vertices, element ids from
 * (author, seq, op index + 1). */
struct ncs_mesh {
	uint64_t entity, mesh;
	uint8_t author[TH_LOGREC_KEY_LEN];
	uint64_t seq;
	unsigned quads;
};

struct ncs {
	struct nc_client c;
	struct ncs_mesh m[NCS_MESHES_MAX];
	unsigned n_m;
	unsigned quads;
};

/* mesh.create: a strip of `quads` quads at height z into buf; its length or -errno. */
static inline int ncs_strip_payload(unsigned quads, float z, uint8_t *buf, size_t cap)
{
	unsigned nv = 2 * (quads + 1);
	if (!quads || nv + 5 * quads > TH_PL_MESH_OPS_MAX)
		return -EINVAL;
	struct th_pl_mesh_create *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	static const float ident[10] = { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(m->transform, ident, sizeof(ident));
	unsigned o = 0;
	for (unsigned k = 0; k < nv; k++) {
		m->ops[o].op = TH_PL_MESH_OP_VERTEX_ADD;
		m->ops[o].position[0] = (float)(k % (quads + 1));
		m->ops[o].position[1] = (float)(k / (quads + 1));
		m->ops[o++].position[2] = z;
	}
	for (unsigned q = 0; q < quads; q++) {
		const unsigned corner[4] = { q, q + 1, quads + 2 + q, quads + 1 + q };
		m->ops[o++].op = TH_PL_MESH_OP_FACE_ADD;
		for (int k = 0; k < 4; k++) {
			m->ops[o].op = TH_PL_MESH_OP_LOOP;
			m->ops[o].arg = TH_PL_MESH_REF_LOCAL;
			m->ops[o++].element = corner[k] + 1;
		}
	}
	m->ops_count = (uint16_t)o;
	int n = th_cmd_payload_encode(TH_CMD_MESH_CREATE, m, buf, cap);
	free(m);
	return n;
}

/* mesh.patch: vertex k of mesh moves to pos. */
static inline int ncs_move_payload(const struct ncs_mesh *mesh, unsigned k, const float pos[3], uint8_t *buf,
				   size_t cap)
{
	struct th_pl_mesh_patch *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ops_count = 1;
	m->ops[0].op = TH_PL_MESH_OP_VERTEX_MOVE;
	m->ops[0].element = th_id_derive(TH_ID_MESH_ELEMENT, mesh->author, mesh->seq, k + 1);
	memcpy(m->ops[0].position, pos, sizeof(m->ops[0].position));
	int n = th_cmd_payload_encode(TH_CMD_MESH_PATCH, m, buf, cap);
	free(m);
	return n;
}

/* component.write of a Transform at pos. */
static inline int ncs_transform_payload(const float pos[3], uint8_t *buf, size_t cap)
{
	struct th_c_transform t = { .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	memcpy(t.position, pos, sizeof(t.position));
	uint8_t val[TH_SCHEMA_MAX_VALUE_SIZE];
	int vn = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &t, val, sizeof(val));
	if (vn < 0)
		return vn;
	struct th_pl_component_write w = { .component = th_component_id(TH_COMP_TRANSFORM), .value = val,
					   .value_len = (uint16_t)vn };
	return th_cmd_payload_encode(TH_CMD_COMPONENT_WRITE, &w, buf, cap);
}

static inline void ncs_on_event(void *ud, const struct th_logrec_entry *e)
{
	struct ncs *s = ud;
	if (e->type != TH_CMD_MESH_CREATE || s->n_m == NCS_MESHES_MAX)
		return;
	struct ncs_mesh *m = &s->m[s->n_m++];
	m->entity = th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0);
	m->mesh = th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, 0);
	memcpy(m->author, e->author, sizeof(m->author));
	m->seq = e->seq;
	m->quads = s->quads;
}

/* Submits until `total` are acknowledged (or refused) with at most window
 * in flight; make(i, buf, cap, &type, &scope) builds entry i. */
static inline int ncs_run(struct ncs *s, uint64_t total, int window, uint64_t deadline_ns,
			  int (*make)(struct ncs *s, uint64_t i, uint8_t *buf, size_t cap, uint16_t *type, uint64_t *scope))
{
	static uint8_t pl[TH_LOGREC_PAYLOAD_MAX];
	uint64_t base = s->c.acks + s->c.rejects, sent = 0;
	while (s->c.acks + s->c.rejects - base < total) {
		if (th_now_ns() > deadline_ns)
			return -ETIMEDOUT;
		while (sent < total && (int64_t)(sent - (s->c.acks + s->c.rejects - base)) < window) {
			uint16_t type;
			uint64_t scope;
			int n = make(s, sent, pl, sizeof(pl), &type, &scope);
			if (n < 0)
				return n;
			if (nc_submit_raw(&s->c, type, scope, pl, (uint32_t)n) < 0)
				break; /* ring full: take acks first */
			sent++;
		}
		if (nc_poll(&s->c, 20) < 0)
			return -ECONNRESET;
	}
	return 0;
}

static inline int ncs_make_strip(struct ncs *s, uint64_t i, uint8_t *buf, size_t cap, uint16_t *type, uint64_t *scope)
{
	*type = TH_CMD_MESH_CREATE;
	*scope = 0;
	return ncs_strip_payload(s->quads, (float)i, buf, cap);
}

/* Edit i after the meshes: mostly vertex moves, every fourth a Transform. */
static inline int ncs_make_edit(struct ncs *s, uint64_t i, uint8_t *buf, size_t cap, uint16_t *type, uint64_t *scope)
{
	const struct ncs_mesh *m = &s->m[i % s->n_m];
	float pos[3] = { (float)(i % 97), (float)(i % 13) * 0.5f, (float)(i / s->n_m) * 0.25f };
	if (i % 4 == 3) {
		*type = TH_CMD_COMPONENT_WRITE;
		*scope = m->entity;
		return ncs_transform_payload(pos, buf, cap);
	}
	*type = TH_CMD_MESH_PATCH;
	*scope = m->mesh;
	return ncs_move_payload(m, (unsigned)((i / s->n_m) % (2 * (m->quads + 1))), pos, buf, cap);
}

/* A scene history through the daemon at runtime_dir: `meshes` strips of
 * `quads` quads, then edits - meshes moves and transforms on them, at most
 * window unacknowledged. Returns how many were refused (0: all taken), or
 * -errno. The daemon's per-author rate (clog.rate_per_s) must allow it. */
static inline int64_t ncs_history(const char *runtime_dir, unsigned meshes, unsigned quads, uint64_t edits, int window,
				  int timeout_ms)
{
	struct ncs *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int r = nc_connect(&s->c, runtime_dir, 5000);
	if (r < 0) {
		free(s);
		return r;
	}
	uint64_t deadline = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	s->quads = quads;
	s->c.on_event = ncs_on_event;
	s->c.ud = s;
	if (meshes > NCS_MESHES_MAX || edits < meshes)
		r = -EINVAL;
	if (r == 0)
		r = ncs_run(s, meshes, window, deadline, ncs_make_strip);
	/* every mesh's EVENT (its author and seq name its elements) */
	while (r == 0 && s->n_m < meshes && th_now_ns() < deadline)
		if (nc_poll(&s->c, 20) < 0)
			r = -ECONNRESET;
	if (r == 0 && s->n_m < meshes)
		r = -ETIMEDOUT;
	if (r == 0)
		r = ncs_run(s, edits - meshes, window, deadline, ncs_make_edit);
	int64_t out = r < 0 ? r : (int64_t)s->c.rejects;
	nc_close(&s->c);
	free(s);
	return out;
}
