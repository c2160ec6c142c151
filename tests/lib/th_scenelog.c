#include "th_scenelog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "th_buf.h"
#include "th_cmd.h"
#include "th_file.h"
#include "th_id.h"
#include "th_logfile.h"
#include "th_payload.h"
#include "th_schema.h"

void sh_init(struct sh_log *l, bool sign)
{
	memset(l, 0, sizeof(*l));
	l->sign = sign;
}

void sh_fini(struct sh_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].payload);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

long sh_add(struct sh_log *l, struct lt_author *a, uint16_t type, uint8_t scope_kind, uint64_t scope_id,
	    const void *payload, size_t len, uint64_t lamport)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct sh_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	struct sh_entry *x = &l->v[l->n];
	x->payload = malloc(len ? len : 1);
	if (!x->payload)
		return -ENOMEM;
	if (len)
		memcpy(x->payload, payload, len);
	if (!lamport)
		lamport = l->lamport_next ? l->lamport_next : l->lamport + 1;
	l->lamport_next = 0;
	if (lamport > l->lamport)
		l->lamport = lamport;
	lt_entry_cmd(a, type, scope_kind, lamport, scope_id, x->payload, (uint32_t)len, l->sign, &x->e, x->hash);
	return (long)l->n++;
}

int sh_add_typed(struct sh_log *l, struct lt_author *a, uint16_t type, uint8_t scope_kind, uint64_t scope_id,
			const void *m)
{
	uint8_t *buf = malloc(TH_LOGREC_PAYLOAD_MAX);
	if (!buf)
		return -ENOMEM;
	int n = th_cmd_payload_encode(type, m, buf, TH_LOGREC_PAYLOAD_MAX);
	long r = n < 0 ? n : sh_add(l, a, type, scope_kind, scope_id, buf, (size_t)n, 0);
	free(buf);
	return r < 0 ? (int)r : 0;
}

static void sh_transform(const float pos[3], struct th_c_transform *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->position, pos, sizeof(t->position));
	t->rotation[3] = 1;
	t->scale[0] = t->scale[1] = t->scale[2] = 1;
}

int sh_entity_create(struct sh_log *l, struct lt_author *a, const float pos[3], uint64_t *id)
{
	struct th_c_transform t;
	uint8_t val[TH_SCHEMA_MAX_VALUE_SIZE];
	sh_transform(pos, &t);
	int n = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &t, val, sizeof(val));
	if (n < 0)
		return n;
	struct th_pl_entity_create *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->components_count = 1;
	m->components[0].component = th_component_id(TH_COMP_TRANSFORM);
	m->components[0].value = val;
	m->components[0].value_len = (uint16_t)n;
	uint64_t seq = a->chain.seq + 1;
	int r = sh_add_typed(l, a, TH_CMD_ENTITY_CREATE, TH_SCOPE_GLOBAL, 0, m);
	free(m);
	if (r == 0 && id)
		*id = th_id_derive(TH_ID_ENTITY, a->kp.pk, seq, 0);
	return r;
}

int sh_transform_write(struct sh_log *l, struct lt_author *a, uint64_t entity, const float pos[3])
{
	struct th_c_transform t;
	sh_transform(pos, &t);
	return sh_transform_write_trs(l, a, entity, &t);
}

int sh_transform_write_trs(struct sh_log *l, struct lt_author *a, uint64_t entity, const struct th_c_transform *t)
{
	uint8_t val[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), t, val, sizeof(val));
	if (n < 0)
		return n;
	struct th_pl_component_write m = { .component = th_component_id(TH_COMP_TRANSFORM), .value = val,
					   .value_len = (uint16_t)n };
	return sh_add_typed(l, a, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, entity, &m);
}

int sh_mesh_strip(struct sh_log *l, struct lt_author *a, unsigned quads, float z, uint32_t material,
		  struct sh_mesh *out)
{
	unsigned nv = 2 * (quads + 1);
	if (quads == 0 || nv + 5 * quads > TH_PL_MESH_OPS_MAX)
		return -EINVAL;
	struct th_pl_mesh_create *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	static const float ident[10] = { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(m->transform, ident, sizeof(ident));
	m->material = material;
	/* Vertices: bottom row k (op k), top row quads + 1 + k. */
	unsigned o = 0;
	for (unsigned k = 0; k < nv; k++) {
		struct th_pl_mesh_op *op = &m->ops[o++];
		op->op = TH_PL_MESH_OP_VERTEX_ADD;
		op->position[0] = (float)(k % (quads + 1));
		op->position[1] = (float)(k / (quads + 1));
		op->position[2] = z;
	}
	for (unsigned q = 0; q < quads; q++) {
		unsigned corner[4] = { q, q + 1, quads + 1 + q + 1, quads + 1 + q };
		m->ops[o].op = TH_PL_MESH_OP_FACE_ADD;
		m->ops[o++].arg = material;
		for (int c = 0; c < 4; c++) {
			m->ops[o].op = TH_PL_MESH_OP_LOOP;
			m->ops[o].arg = TH_PL_MESH_REF_LOCAL;
			m->ops[o++].element = corner[c] + 1;
		}
	}
	m->ops_count = (uint16_t)o;
	uint64_t seq = a->chain.seq + 1;
	int r = sh_add_typed(l, a, TH_CMD_MESH_CREATE, TH_SCOPE_GLOBAL, 0, m);
	free(m);
	if (r == 0 && out) {
		out->entity = th_id_derive(TH_ID_ENTITY, a->kp.pk, seq, 0);
		out->mesh = th_id_derive(TH_ID_MESH_ELEMENT, a->kp.pk, seq, 0);
		memcpy(out->author, a->kp.pk, sizeof(out->author));
		out->seq = seq;
		out->quads = quads;
	}
	return r;
}

uint64_t sh_strip_vertex(const struct sh_mesh *m, unsigned k)
{
	return th_id_derive(TH_ID_MESH_ELEMENT, m->author, m->seq, k + 1);
}

int sh_vertex_move(struct sh_log *l, struct lt_author *a, const struct sh_mesh *mesh, unsigned k, const float pos[3])
{
	struct th_pl_mesh_patch *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ops_count = 1;
	m->ops[0].op = TH_PL_MESH_OP_VERTEX_MOVE;
	m->ops[0].element = sh_strip_vertex(mesh, k);
	memcpy(m->ops[0].position, pos, sizeof(m->ops[0].position));
	int r = sh_add_typed(l, a, TH_CMD_MESH_PATCH, TH_SCOPE_MESH, mesh->mesh, m);
	free(m);
	return r;
}

int sh_material(struct sh_log *l, struct lt_author *a, uint8_t index, const char *name, const float rgba[4])
{
	return sh_material_pbr(l, a, index, name, rgba, 0.5f, 0);
}

int sh_material_pbr(struct sh_log *l, struct lt_author *a, uint8_t index, const char *name, const float rgba[4],
		    float roughness, float metallic)
{
	struct th_pl_material_set m = { .index = index, .roughness_metallic = { roughness, metallic } };
	snprintf(m.name, sizeof(m.name), "%s", name);
	memcpy(m.base_color, rgba, sizeof(m.base_color));
	return sh_add_typed(l, a, TH_CMD_MATERIAL_SET, TH_SCOPE_GLOBAL, 0, &m);
}

int sh_undo(struct sh_log *l, struct lt_author *a, size_t target)
{
	if (target >= l->n)
		return -EINVAL;
	struct th_pl_edit_undo m = { .lamport = l->v[target].e.lamport };
	memcpy(m.author, l->v[target].e.author, sizeof(m.author));
	return sh_add_typed(l, a, TH_CMD_EDIT_UNDO, TH_SCOPE_GLOBAL, 0, &m);
}

int sh_write_log(const struct sh_log *l, size_t n, const char *dir)
{
	struct lt_seg s;
	int r = th_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	lt_seg_begin(&s, 1);
	for (size_t i = 0; i < n && i < l->n; i++)
		lt_seg_add(&s, &l->v[i].e, i + 1, TH_LOGREC_F_BATCH_END);
	return lt_seg_write(&s, dir);
}
