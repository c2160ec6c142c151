/* Building patches: the op lists the mesh operations (th_meshop.h) return. */
#include "th_meshop.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "th_array.h"
#include "th_id.h"
#include "th_meshop_int.h"

#define PATCH_CAP_MIN 64u

void th_patch_init(struct th_patch *p)
{
	memset(p, 0, sizeof(*p));
	p->max = TH_PATCH_OPS_MAX;
}

void th_patch_fini(struct th_patch *p)
{
	free(p->ops);
	memset(p, 0, sizeof(*p));
}

int th_patch_reserve(struct th_patch *p, uint32_t k)
{
	uint32_t max = p->max ? p->max : TH_PATCH_OPS_MAX;
	if (k > max || p->n > max - k)
		return -E2BIG;
	if (p->n + k <= p->cap)
		return 0;
	uint64_t cap = p->cap ? p->cap : PATCH_CAP_MIN;
	while (cap < (uint64_t)p->n + k)
		cap *= 2;
	if (cap > max)
		cap = max;
	struct th_pl_mesh_op *o = th_array_realloc(p->ops, cap, sizeof(*o));
	if (!o)
		return -ENOMEM;
	p->ops = o;
	p->cap = (uint32_t)cap;
	return 0;
}

int th_patch_begin(struct th_patch *p, uint64_t total, uint32_t *limit)
{
	uint32_t max = p->max ? p->max : TH_PATCH_OPS_MAX;
	uint64_t room = p->n < max ? max - p->n : 0;
	uint32_t k = (uint32_t)(total < room ? total : room);
	int r = k ? th_patch_reserve(p, k) : 0;
	if (r < 0)
		return r;
	*limit = p->n + k;
	return 0;
}

static struct th_pl_mesh_op *push(struct th_patch *p, uint8_t op, uint64_t element, uint32_t arg)
{
	struct th_pl_mesh_op *o = &p->ops[p->n++];
	memset(o, 0, sizeof(*o));
	o->op = op;
	o->element = element;
	o->arg = arg;
	return o;
}

int th_patch_vertex_add(struct th_patch *p, const float pos[3])
{
	if (!th_finite3(pos))
		return -EINVAL;
	int r = th_patch_reserve(p, 1);
	if (r < 0)
		return r;
	memcpy(push(p, TH_PL_MESH_OP_VERTEX_ADD, 0, 0)->position, pos, 3 * sizeof(float));
	return (int)p->n; /* index + 1 */
}

int th_patch_vertex_move(struct th_patch *p, uint64_t vertex, const float pos[3])
{
	if (!th_finite3(pos) || !vertex)
		return -EINVAL;
	int r = th_patch_reserve(p, 1);
	if (r < 0)
		return r;
	memcpy(push(p, TH_PL_MESH_OP_VERTEX_MOVE, vertex, 0)->position, pos, 3 * sizeof(float));
	return 0;
}

int th_patch_remove(struct th_patch *p, uint64_t element)
{
	if (!element)
		return -EINVAL;
	int r = th_patch_reserve(p, 1);
	if (r < 0)
		return r;
	push(p, TH_PL_MESH_OP_REMOVE, element, 0);
	return 0;
}

int th_patch_face_add(struct th_patch *p, uint32_t material, const struct th_pref *corners, unsigned n)
{
	if (n < 3 || n > TH_MESH_FACE_VERTS_MAX || material >= TH_PL_MATERIALS_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		const struct th_pref *c = &corners[i];
		if (!c->v)
			return -EINVAL;
		if (c->local && (c->v > p->n || p->ops[c->v - 1].op != TH_PL_MESH_OP_VERTEX_ADD))
			return -EINVAL;
	}
	int r = th_patch_reserve(p, n + 1);
	if (r < 0)
		return r;
	push(p, TH_PL_MESH_OP_FACE_ADD, 0, material);
	for (unsigned i = 0; i < n; i++)
		push(p, TH_PL_MESH_OP_LOOP, corners[i].v, corners[i].local ? TH_PL_MESH_REF_LOCAL : TH_PL_MESH_REF_ID);
	return 0;
}

int th_patch_face_material(struct th_patch *p, uint64_t face, uint32_t material)
{
	if (!face || material >= TH_PL_MATERIALS_MAX)
		return -EINVAL;
	int r = th_patch_reserve(p, 1);
	if (r < 0)
		return r;
	push(p, TH_PL_MESH_OP_FACE_MATERIAL, face, material);
	return 0;
}

bool th_patch_fits(const struct th_patch *p)
{
	return p->n >= 1 && p->n <= TH_PATCH_ENTRY_OPS;
}

void th_patch_ids(const struct th_patch *p, const uint8_t author[32], uint64_t seq, uint64_t *new_ids)
{
	for (uint32_t i = 0; i < p->n; i++) {
		uint8_t op = p->ops[i].op;
		bool creates = op == TH_PL_MESH_OP_VERTEX_ADD || op == TH_PL_MESH_OP_FACE_ADD;
		new_ids[i] = creates ? th_id_derive(TH_ID_MESH_ELEMENT, author, seq, i + 1) : 0;
	}
}

int th_patch_apply(struct th_mesh *m, const struct th_patch *p, const uint8_t author[32], uint64_t seq,
		   struct th_journal *j, const char **why)
{
	uint64_t *ids = malloc(((size_t)p->n + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	th_patch_ids(p, author, seq, ids);
	int r = th_mesh_apply(m, p->ops, p->n, ids, j, why);
	free(ids);
	return r;
}

int th_mesh_face_normal(const struct th_mesh *m, int32_t f, float normal[3], float centre[3])
{
	if (f < 0 || (uint32_t)f >= m->nfaces || !m->faces[f].id)
		return -EINVAL;
	double n[3] = { 0, 0, 0 }, c[3] = { 0, 0, 0 };
	int32_t h0 = m->faces[f].he, h = h0;
	unsigned k = 0;
	do {
		const float *a = m->verts[m->hes[h].vert].pos;
		const float *b = m->verts[m->hes[m->hes[h].next].vert].pos;
		n[0] += ((double)a[1] - b[1]) * ((double)a[2] + b[2]);
		n[1] += ((double)a[2] - b[2]) * ((double)a[0] + b[0]);
		n[2] += ((double)a[0] - b[0]) * ((double)a[1] + b[1]);
		for (int i = 0; i < 3; i++)
			c[i] += a[i];
		k++;
		h = m->hes[h].next;
	} while (h != h0 && k <= TH_MESH_FACE_VERTS_MAX);
	double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
	if (!(len > 1e-20) || !k)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (normal)
			normal[i] = (float)(n[i] / len);
		if (centre)
			centre[i] = (float)(c[i] / k);
	}
	return 0;
}
