/* The export tests' scene (th_exportscene.h). */
#include "th_exportscene.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "th_cmd.h"
#include "th_id.h"
#include "th_payload.h"
#include "th_schema.h"

int xs_ngon(struct sh_log *l, struct lt_author *by, const struct sh_mesh *on, unsigned sides, float cx, float cy,
	    float z, uint32_t material, uint64_t *face)
{
	if (sides < 3 || sides > TH_PL_FACE_VERTS_MAX)
		return -EINVAL;
	struct th_pl_mesh_patch *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	unsigned o = 0;
	for (unsigned k = 0; k < sides; k++) {
		double t = 2 * M_PI * k / sides;
		p->ops[o].op = TH_PL_MESH_OP_VERTEX_ADD;
		p->ops[o].position[0] = (float)(cx + cos(t));
		p->ops[o].position[1] = (float)(cy + sin(t));
		p->ops[o++].position[2] = z;
	}
	p->ops[o].op = TH_PL_MESH_OP_FACE_ADD;
	p->ops[o++].arg = material;
	for (unsigned k = 0; k < sides; k++) {
		p->ops[o].op = TH_PL_MESH_OP_LOOP;
		p->ops[o].arg = TH_PL_MESH_REF_LOCAL;
		p->ops[o++].element = k + 1;
	}
	p->ops_count = (uint16_t)o;
	uint64_t seq = by->chain.seq + 1;
	int r = sh_add_typed(l, by, TH_CMD_MESH_PATCH, TH_SCOPE_MESH, on->mesh, p);
	free(p);
	if (face)
		*face = th_id_derive(TH_ID_MESH_ELEMENT, by->kp.pk, seq, sides + 1);
	return r;
}

static int transform(struct sh_log *l, struct lt_author *a, uint64_t entity)
{
	struct th_c_transform t = {
		.position = { 5, 0, 0 },
		.rotation = { 0, 0, (float)sin(M_PI / 4), (float)cos(M_PI / 4) },
		.scale = { 2, 2, 2 },
	};
	return sh_transform_write_trs(l, a, entity, &t);
}

int xs_build(struct sh_log *l, struct xs_scene *x)
{
	int r;
	lt_author_init(&x->a, 0x41);
	lt_author_init(&x->b, 0x42);
	if ((r = sh_mesh_strip(l, &x->a, 3, 0, 0, &x->strip_a)) < 0)
		return r;
	x->lamport_a_strip = l->v[l->n - 1].e.lamport;
	if ((r = sh_material_pbr(l, &x->b, 1, "glass", (float[4]){ 0.6f, 0.8f, 1, 0.35f }, 0.05f, 0)) < 0 ||
	    (r = sh_material_pbr(l, &x->b, 2, "brass", (float[4]){ 0.8f, 0.6f, 0.2f, 1 }, 0.3f, 1)) < 0)
		return r;
	/* A regular pentagon of new vertices at z = 1 around (1.5, 3). */
	if ((r = xs_ngon(l, &x->b, &x->strip_a, 5, 1.5f, 3, 1, 1, &x->pentagon)) < 0)
		return r;
	x->lamport_b_patch = l->v[l->n - 1].e.lamport;
	if ((r = sh_mesh_strip(l, &x->b, 2, 2, 2, &x->strip_b)) < 0)
		return r;
	x->lamport_b_strip = l->v[l->n - 1].e.lamport;
	if ((r = transform(l, &x->a, x->strip_b.entity)) < 0)
		return r;
	uint64_t e;
	return sh_entity_create(l, &x->a, (float[3]){ -1, -1, -1 }, &e);
}

int xs_big_strips(struct sh_log *l, struct lt_author *a, uint64_t triangles)
{
	const unsigned quads = (TH_PL_MESH_OPS_MAX - 2) / 7; /* 2 (q + 1) vertices + 5 q ops */
	for (uint64_t done = 0, k = 0; done < triangles; k++) {
		uint64_t left = (triangles - done + 1) / 2;
		unsigned q = left < quads ? (unsigned)left : quads;
		int r = sh_mesh_strip(l, a, q, (float)k * 0.01f, (uint32_t)(k % 3), NULL);
		if (r < 0)
			return r;
		done += 2u * q;
	}
	return 0;
}
