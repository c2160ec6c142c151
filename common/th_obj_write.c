/* OBJ + MTL writer (th_export.h; the layout in docs/export.md): one object
 * per node, positions in world space, a normal per face, n-gons kept,
 * usemtl per run of one material, provenance in comments. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_export_int.h"
#include "th_meshop_int.h"

struct xform {
	float q[4]; /* unit rotation */
	float t[3], s[3];
	bool any; /* a Transform to apply */
};

/* In double, rounded once: v' = v + w t + q x t, t = 2 q x v. */
static void rotate(const float qf[4], const double v[3], double out[3])
{
	const double q[4] = { qf[0], qf[1], qf[2], qf[3] };
	double t[3] = { 2 * (q[1] * v[2] - q[2] * v[1]), 2 * (q[2] * v[0] - q[0] * v[2]), 2 * (q[0] * v[1] - q[1] * v[0]) };
	out[0] = v[0] + q[3] * t[0] + (q[1] * t[2] - q[2] * t[1]);
	out[1] = v[1] + q[3] * t[1] + (q[2] * t[0] - q[0] * t[2]);
	out[2] = v[2] + q[3] * t[2] + (q[0] * t[1] - q[1] * t[0]);
}

static void to_world(const struct xform *x, const float v[3], float out[3])
{
	if (!x->any) {
		memcpy(out, v, 3 * sizeof(float));
		return;
	}
	double s[3] = { (double)v[0] * x->s[0], (double)v[1] * x->s[1], (double)v[2] * x->s[2] }, r[3];
	rotate(x->q, s, r);
	for (int i = 0; i < 3; i++)
		out[i] = (float)(r[i] + x->t[i]);
}

/* A normal through the transform: the rotation of n / scale, unit length
 * (a zero scale keeps the rotated normal). */
static void normal_to_world(const struct xform *x, const float n[3], float out[3])
{
	if (!x->any) {
		memcpy(out, n, 3 * sizeof(float));
		return;
	}
	double d[3], r[3];
	bool flat = false;
	for (int i = 0; i < 3; i++)
		flat |= x->s[i] == 0;
	for (int i = 0; i < 3; i++)
		d[i] = flat ? n[i] : (double)n[i] / x->s[i];
	rotate(x->q, d, r);
	double l = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
	for (int i = 0; i < 3; i++)
		out[i] = l > 1e-30 ? (float)(r[i] / l) : (i == 2 ? 1.0f : 0.0f);
}

static void put_vec(struct xo *o, const char *tag, const float v[3])
{
	xo_str(o, tag);
	for (int i = 0; i < 3; i++) {
		xo_put(o, " ", 1);
		xo_f32(o, v[i]);
	}
	xo_put(o, "\n", 1);
}

static void put_header(struct xo *o, const struct xmodel *x, const struct th_export_config *c)
{
	xo_str(o, "# ");
	xo_str(o, c->generator ? c->generator : "Theta");
	xo_str(o, " export: OBJ with MTL (docs/export.md)\n# theta-format 1\n");
	if (c->session) {
		xo_str(o, "# theta-session ");
		xo_str(o, c->session);
		xo_put(o, "\n", 1);
	}
	xo_str(o, "# theta-position ");
	xo_u64(o, c->position);
	xo_put(o, "\n", 1);
	for (uint32_t i = 0; i < x->nauthors; i++) {
		char fpr[TH_KEY_FPR_LEN];
		if (th_key_fingerprint(x->authors[i], fpr, sizeof(fpr)) < 0)
			fpr[0] = 0;
		xo_str(o, "# theta-author ");
		xo_u64(o, i);
		xo_put(o, " ", 1);
		xo_str(o, fpr);
		xo_put(o, "\n", 1);
	}
	if (c->mtl_name) {
		xo_str(o, "mtllib ");
		xo_str(o, c->mtl_name);
		xo_put(o, "\n", 1);
	}
}

/* One node: its mesh's live vertices (all of them, free ones too) in
 * ascending id from *base + 1, then per primitive the usemtl and its faces.
 * -ENOMEM when the vertices' order cannot be had. */
static int put_node(struct xo *o, const struct xmodel *x, const struct xnode *nd, uint32_t *vindex,
		    uint64_t *vbase, uint64_t *nbase)
{
	const struct xmesh *xm = &x->meshes[nd->mesh];
	const struct th_mesh *m = xm->m;
	struct xform t = { .any = nd->has_t };
	if (nd->has_t) {
		xmodel_unit_quat(nd->t.rotation, t.q);
		memcpy(t.t, nd->t.position, sizeof(t.t));
		memcpy(t.s, nd->t.scale, sizeof(t.s));
	}
	xo_str(o, "o entity_");
	xo_hex64(o, nd->entity);
	xo_str(o, "\n# theta-mesh ");
	xo_hex64(o, m->id);
	xo_put(o, "\n", 1);
	uint32_t nlive = 0;
	struct th_slot_id *live = th_mesh_live_sorted(m, false, &nlive);
	if (!live)
		return -ENOMEM;
	uint64_t k = *vbase;
	for (uint32_t i = 0; i < nlive; i++) {
		float w[3];
		to_world(&t, m->verts[live[i].slot].pos, w);
		put_vec(o, "v", w);
		vindex[live[i].slot] = (uint32_t)(++k - *vbase);
	}
	free(live);
	uint64_t nk = *nbase;
	for (uint32_t i = 0; i < xm->nprims; i++) {
		const struct xprim *p = &xm->prims[i];
		char name[TH_PL_MATERIAL_NAME_MAX + 16];
		xmodel_material_name(x, (uint32_t)x->mat_index[p->material], name, sizeof(name));
		xo_str(o, "usemtl ");
		xo_str(o, name);
		xo_put(o, "\n", 1);
		for (uint32_t j = p->first; j < p->first + p->nfaces && !o->err; j++) {
			int32_t f = (int32_t)xm->order[j];
			const struct th_mesh_face *fc = &m->faces[f];
			float n[3], wn[3];
			xmodel_face_normal(m, f, n);
			normal_to_world(&t, n, wn);
			put_vec(o, "vn", wn);
			nk++;
			xo_str(o, "# theta-face ");
			xo_i64(o, fc->author && fc->author < xm->namap ? (int64_t)xm->amap[fc->author] - 1 : -1);
			xo_put(o, " ", 1);
			xo_u64(o, fc->lamport);
			xo_str(o, "\nf");
			int32_t h = fc->he;
			for (unsigned c = 0; c < fc->n; c++, h = m->hes[h].next) {
				xo_put(o, " ", 1);
				xo_u64(o, *vbase + vindex[m->hes[h].vert]);
				xo_str(o, "//");
				xo_u64(o, nk);
			}
			xo_put(o, "\n", 1);
		}
	}
	*vbase = k;
	*nbase = nk;
	return 0;
}

static int put_mtl(const struct xmodel *x, const struct th_export_config *c, int mtl_fd, struct th_export_stats *st)
{
	struct xo o;
	int r = xo_init(&o, mtl_fd, false);
	if (r < 0)
		return r;
	xo_str(&o, "# ");
	xo_str(&o, c->generator ? c->generator : "Theta");
	xo_str(&o, " export: materials (Pr roughness, Pm metallic: the PBR extension of MTL)\n");
	for (uint32_t i = 0; i < x->nmats; i++) {
		const struct th_scene_material *m = xmodel_material(x, i);
		char name[TH_PL_MATERIAL_NAME_MAX + 16];
		xmodel_material_name(x, i, name, sizeof(name));
		xo_str(&o, "\nnewmtl ");
		xo_str(&o, name);
		xo_put(&o, "\n", 1);
		put_vec(&o, "Kd", m->base_color);
		xo_str(&o, "d ");
		xo_f32(&o, m->base_color[3]);
		xo_str(&o, "\nPr ");
		xo_f32(&o, m->roughness);
		xo_str(&o, "\nPm ");
		xo_f32(&o, m->metallic);
		xo_str(&o, m->base_color[3] < 1 ? "\nillum 4\n" : "\nillum 2\n");
	}
	r = xo_flush(&o);
	st->mtl_bytes = o.bytes;
	xo_fini(&o);
	return r;
}

int th_obj_write(const struct xmodel *x, const struct th_export_config *c, int fd, int mtl_fd,
		 struct th_export_stats *st)
{
	uint32_t most = 1;
	for (uint32_t k = 0; k < x->nmeshes; k++)
		most = x->meshes[k].m->nverts > most ? x->meshes[k].m->nverts : most;
	uint32_t *vindex = malloc((size_t)most * sizeof(*vindex));
	struct xo o;
	int r = vindex ? xo_init(&o, fd, false) : -ENOMEM;
	if (r < 0) {
		free(vindex);
		return r;
	}
	put_header(&o, x, c);
	uint64_t vbase = 0, nbase = 0;
	for (uint32_t i = 0; i < x->nnodes && !o.err && r == 0; i++)
		if (x->nodes[i].mesh >= 0)
			r = put_node(&o, x, &x->nodes[i], vindex, &vbase, &nbase);
	int fr = xo_flush(&o);
	r = r < 0 ? r : fr;
	st->bytes = o.bytes;
	st->vertices = vbase;
	xo_fini(&o);
	free(vindex);
	if (r == 0 && mtl_fd >= 0)
		r = put_mtl(x, c, mtl_fd, st);
	return r;
}
