/* glTF 2.0 writer (th_export.h; the layout in docs/export.md): the JSON,
 * and the binary buffer streamed face by face, as a .glb's BIN chunk or
 * as base64 inside a .gltf's data URI. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "th_export_int.h"

#define GLB_MAGIC 0x46546c67u /* "glTF" */
#define GLB_VERSION 2u
#define GLB_CHUNK_JSON 0x4e4f534au /* "JSON" */
#define GLB_CHUNK_BIN 0x004e4942u  /* "BIN\0" */
#define GLB_HEADER 12u
#define GLB_CHUNK_HEADER 8u
#define VERT_STRIDE 24u /* f32 position[3], f32 normal[3] */
#define GL_FLOAT 5126
#define GL_UNSIGNED_INT 5125
#define GL_ARRAY_BUFFER 34962
#define GL_ELEMENT_ARRAY_BUFFER 34963
#define GL_TRIANGLES 4
#define DATA_URI "data:application/octet-stream;base64,"

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void put_f32(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	put_le32(p, u);
}

/* Byte offsets of every primitive's vertices (indices follow them); the
 * buffer's length. */
static uint64_t layout(const struct xmodel *x)
{
	uint64_t off = 0;
	for (uint32_t k = 0; k < x->nmeshes; k++) {
		for (uint32_t i = 0; i < x->meshes[k].nprims; i++) {
			struct xprim *p = &x->meshes[k].prims[i];
			p->view_off = off;
			off += p->nverts * VERT_STRIDE + p->nidx * 4;
		}
	}
	return off;
}

/* ---- binary ---------------------------------------------------------------- */

static void put_vertices(struct xo *o, const struct xmesh *xm, const struct xprim *p)
{
	const struct th_mesh *m = xm->m;
	uint8_t b[TH_MESH_FACE_VERTS_MAX * VERT_STRIDE];
	for (uint32_t i = p->first; i < p->first + p->nfaces && !o->err; i++) {
		int32_t f = (int32_t)xm->order[i];
		const struct th_mesh_face *fc = &m->faces[f];
		float n[3];
		xmodel_face_normal(m, f, n);
		int32_t h = fc->he;
		uint8_t *q = b;
		for (unsigned c = 0; c < fc->n; c++, h = m->hes[h].next, q += VERT_STRIDE) {
			const float *v = m->verts[m->hes[h].vert].pos;
			for (int a = 0; a < 3; a++) {
				put_f32(q + 4 * a, v[a]);
				put_f32(q + 12 + 4 * a, n[a]);
			}
		}
		xo_put(o, b, (size_t)(q - b));
	}
}

/* Each face's n - 2 triangles over its n vertices (xmodel_triangulate:
 * a fan from the first corner when convex, ear-clipped when not). */
static void put_indices(struct xo *o, const struct xmesh *xm, const struct xprim *p)
{
	const struct th_mesh *m = xm->m;
	uint8_t b[3 * (TH_MESH_FACE_VERTS_MAX - 2) * 4], tri[TH_MESH_FACE_VERTS_MAX - 2][3];
	uint32_t base = 0;
	for (uint32_t i = p->first; i < p->first + p->nfaces && !o->err; i++) {
		int32_t f = (int32_t)xm->order[i];
		unsigned n = m->faces[f].n, t = 3;
		float nv[3] = { 0, 0, 1 };
		if (n > 3)
			xmodel_face_normal(m, f, nv);
		t = xmodel_triangulate(m, f, nv, tri);
		uint8_t *q = b;
		for (unsigned c = 0; c < t; c++, q += 12) {
			put_le32(q, base + tri[c][0]);
			put_le32(q + 4, base + tri[c][1]);
			put_le32(q + 8, base + tri[c][2]);
		}
		xo_put(o, b, (size_t)(q - b));
		base += n;
	}
}

static void put_binary(struct xo *o, const struct xmodel *x)
{
	for (uint32_t k = 0; k < x->nmeshes; k++) {
		for (uint32_t i = 0; i < x->meshes[k].nprims; i++) {
			put_vertices(o, &x->meshes[k], &x->meshes[k].prims[i]);
			put_indices(o, &x->meshes[k], &x->meshes[k].prims[i]);
		}
	}
}

/* ---- JSON ------------------------------------------------------------------ */

static void put_id(struct xo *o, uint64_t id)
{
	xo_put(o, "\"", 1);
	xo_hex64(o, id);
	xo_put(o, "\"", 1);
}

static void put_f32s(struct xo *o, const float *v, unsigned n, bool exact)
{
	xo_put(o, "[", 1);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			xo_put(o, ",", 1);
		if (exact)
			xo_f32_exact(o, v[i]);
		else
			xo_f32(o, v[i]);
	}
	xo_put(o, "]", 1);
}

static void put_root_extras(struct xo *o, const struct xmodel *x, const struct th_export_config *c)
{
	xo_str(o, "\"extras\":{\"theta\":{\"format\":1");
	if (c->session) {
		xo_str(o, ",\"session\":");
		xo_json_str(o, c->session);
	}
	xo_str(o, ",\"position\":");
	xo_u64(o, c->position);
	xo_str(o, ",\"authors\":[");
	for (uint32_t i = 0; i < x->nauthors; i++) {
		char fpr[TH_KEY_FPR_LEN];
		if (th_key_fingerprint(x->authors[i], fpr, sizeof(fpr)) < 0)
			fpr[0] = 0;
		if (i)
			xo_put(o, ",", 1);
		xo_json_str(o, fpr);
	}
	xo_str(o, "]}}");
}

static void put_nodes(struct xo *o, const struct xmodel *x)
{
	xo_str(o, ",\"nodes\":[");
	for (uint32_t i = 0; i < x->nnodes; i++) {
		const struct xnode *nd = &x->nodes[i];
		if (i)
			xo_put(o, ",", 1);
		xo_str(o, "{\"name\":\"entity ");
		xo_hex64(o, nd->entity);
		xo_str(o, "\"");
		if (nd->mesh >= 0) {
			xo_str(o, ",\"mesh\":");
			xo_u64(o, (uint64_t)nd->mesh);
		}
		if (nd->has_t) {
			float q[4];
			xmodel_unit_quat(nd->t.rotation, q);
			xo_str(o, ",\"translation\":");
			put_f32s(o, nd->t.position, 3, false);
			xo_str(o, ",\"rotation\":");
			put_f32s(o, q, 4, false);
			xo_str(o, ",\"scale\":");
			put_f32s(o, nd->t.scale, 3, false);
		}
		xo_str(o, ",\"extras\":{\"theta_entity\":");
		put_id(o, nd->entity);
		xo_str(o, "}}");
	}
	xo_str(o, "]");
}

/* Per face, in the order the primitive writes them: its triangles, its
 * author (index into the root's authors, -1: unknown) and the lamport of
 * the entry that created it. */
static void put_face_extras(struct xo *o, const struct xmesh *xm, const struct xprim *p)
{
	const struct th_mesh *m = xm->m;
	xo_str(o, ",\"extras\":{\"theta_faces\":{\"triangles\":[");
	for (uint32_t i = p->first; i < p->first + p->nfaces; i++) {
		if (i != p->first)
			xo_put(o, ",", 1);
		xo_u64(o, m->faces[xm->order[i]].n - 2u);
	}
	xo_str(o, "],\"author\":[");
	for (uint32_t i = p->first; i < p->first + p->nfaces; i++) {
		uint32_t a = m->faces[xm->order[i]].author;
		if (i != p->first)
			xo_put(o, ",", 1);
		xo_i64(o, a && a < xm->namap ? (int64_t)xm->amap[a] - 1 : -1);
	}
	xo_str(o, "],\"lamport\":[");
	for (uint32_t i = p->first; i < p->first + p->nfaces; i++) {
		if (i != p->first)
			xo_put(o, ",", 1);
		xo_u64(o, m->faces[xm->order[i]].lamport);
	}
	xo_str(o, "]}}");
}

static void put_meshes(struct xo *o, const struct xmodel *x)
{
	xo_str(o, ",\"meshes\":[");
	uint64_t acc = 0;
	for (uint32_t k = 0; k < x->nmeshes; k++) {
		const struct xmesh *xm = &x->meshes[k];
		if (k)
			xo_put(o, ",", 1);
		xo_str(o, "{\"name\":\"mesh\",\"primitives\":[");
		for (uint32_t i = 0; i < xm->nprims; i++, acc += 3) {
			if (i)
				xo_put(o, ",", 1);
			xo_str(o, "{\"attributes\":{\"POSITION\":");
			xo_u64(o, acc);
			xo_str(o, ",\"NORMAL\":");
			xo_u64(o, acc + 1);
			xo_str(o, "},\"indices\":");
			xo_u64(o, acc + 2);
			xo_str(o, ",\"material\":");
			xo_u64(o, (uint64_t)x->mat_index[xm->prims[i].material]);
			xo_str(o, ",\"mode\":4");
			put_face_extras(o, xm, &xm->prims[i]);
			xo_str(o, "}");
		}
		xo_str(o, "],\"extras\":{\"theta_mesh\":");
		put_id(o, xm->m->id);
		xo_str(o, "}}");
	}
	xo_str(o, "]");
}

static void put_materials(struct xo *o, const struct xmodel *x)
{
	xo_str(o, ",\"materials\":[");
	for (uint32_t i = 0; i < x->nmats; i++) {
		const struct th_scene_material *m = xmodel_material(x, i);
		char name[TH_PL_MATERIAL_NAME_MAX + 16];
		xmodel_material_name(x, i, name, sizeof(name));
		if (i)
			xo_put(o, ",", 1);
		xo_str(o, "{\"name\":");
		xo_json_str(o, name);
		xo_str(o, ",\"pbrMetallicRoughness\":{\"baseColorFactor\":");
		put_f32s(o, m->base_color, 4, false);
		xo_str(o, ",\"metallicFactor\":");
		xo_f32(o, m->metallic);
		xo_str(o, ",\"roughnessFactor\":");
		xo_f32(o, m->roughness);
		xo_str(o, "}");
		if (m->base_color[3] < 1)
			xo_str(o, ",\"alphaMode\":\"BLEND\"");
		xo_str(o, ",\"extras\":{\"theta_material\":");
		xo_u64(o, x->mats[i]);
		xo_str(o, "}}");
	}
	xo_str(o, "]");
}

static void put_accessors(struct xo *o, const struct xmodel *x)
{
	xo_str(o, ",\"accessors\":[");
	uint64_t view = 0;
	bool first = true;
	for (uint32_t k = 0; k < x->nmeshes; k++) {
		for (uint32_t i = 0; i < x->meshes[k].nprims; i++, view += 2) {
			const struct xprim *p = &x->meshes[k].prims[i];
			if (!first)
				xo_put(o, ",", 1);
			first = false;
			xo_str(o, "{\"bufferView\":");
			xo_u64(o, view);
			xo_str(o, ",\"componentType\":5126,\"count\":");
			xo_u64(o, p->nverts);
			xo_str(o, ",\"type\":\"VEC3\",\"min\":");
			put_f32s(o, p->min, 3, true);
			xo_str(o, ",\"max\":");
			put_f32s(o, p->max, 3, true);
			xo_str(o, "},{\"bufferView\":");
			xo_u64(o, view);
			xo_str(o, ",\"byteOffset\":12,\"componentType\":5126,\"count\":");
			xo_u64(o, p->nverts);
			xo_str(o, ",\"type\":\"VEC3\"},{\"bufferView\":");
			xo_u64(o, view + 1);
			xo_str(o, ",\"componentType\":5125,\"count\":");
			xo_u64(o, p->nidx);
			xo_str(o, ",\"type\":\"SCALAR\"}");
		}
	}
	xo_str(o, "],\"bufferViews\":[");
	first = true;
	for (uint32_t k = 0; k < x->nmeshes; k++) {
		for (uint32_t i = 0; i < x->meshes[k].nprims; i++) {
			const struct xprim *p = &x->meshes[k].prims[i];
			if (!first)
				xo_put(o, ",", 1);
			first = false;
			xo_str(o, "{\"buffer\":0,\"byteOffset\":");
			xo_u64(o, p->view_off);
			xo_str(o, ",\"byteLength\":");
			xo_u64(o, p->nverts * VERT_STRIDE);
			xo_str(o, ",\"byteStride\":24,\"target\":34962},{\"buffer\":0,\"byteOffset\":");
			xo_u64(o, p->view_off + p->nverts * VERT_STRIDE);
			xo_str(o, ",\"byteLength\":");
			xo_u64(o, p->nidx * 4);
			xo_str(o, ",\"target\":34963}");
		}
	}
	xo_str(o, "]");
}

/* The whole JSON; with embed (a .gltf), the buffer inside it as a data URI. */
static void put_json(struct xo *o, const struct xmodel *x, const struct th_export_config *c, uint64_t buf_len,
		     bool embed)
{
	xo_str(o, "{\"asset\":{\"version\":\"2.0\",\"generator\":");
	xo_json_str(o, c->generator ? c->generator : "Theta");
	xo_str(o, "},");
	put_root_extras(o, x, c);
	xo_str(o, ",\"scene\":0,\"scenes\":[{\"name\":\"theta\"");
	if (x->nnodes) {
		xo_str(o, ",\"nodes\":[");
		for (uint32_t i = 0; i < x->nnodes; i++) {
			if (i)
				xo_put(o, ",", 1);
			xo_u64(o, i);
		}
		xo_str(o, "]");
	}
	xo_str(o, "}]");
	if (x->nnodes)
		put_nodes(o, x);
	if (x->nmeshes) {
		put_meshes(o, x);
		put_materials(o, x);
		put_accessors(o, x);
		xo_str(o, ",\"buffers\":[{\"byteLength\":");
		xo_u64(o, buf_len);
		if (embed) {
			xo_str(o, ",\"uri\":\"" DATA_URI);
			xo_b64_begin(o);
			put_binary(o, x);
			xo_b64_end(o);
			xo_str(o, "\"");
		}
		xo_str(o, "}]");
	}
	xo_str(o, "}");
}

int th_gltf_write(const struct xmodel *x, const struct th_export_config *c, int fd, struct th_export_stats *st)
{
	uint64_t buf_len = layout(x);
	struct xo o;
	int r;
	st->vertices = x->corners;
	if (c->format == TH_EXPORT_GLTF) {
		if ((r = xo_init(&o, fd, false)) < 0)
			return r;
		put_json(&o, x, c, buf_len, true);
		r = xo_flush(&o);
		st->bytes = o.bytes;
		xo_fini(&o);
		return r;
	}
	/* .glb: the JSON's length from a dry run, then header, JSON, BIN. */
	struct xo dry;
	xo_init(&dry, -1, true);
	put_json(&dry, x, c, buf_len, false);
	uint64_t json_len = (dry.bytes + 3) & ~(uint64_t)3, bin_len = (buf_len + 3) & ~(uint64_t)3;
	uint64_t total = GLB_HEADER + GLB_CHUNK_HEADER + json_len + (buf_len ? GLB_CHUNK_HEADER + bin_len : 0);
	if (total > TH_EXPORT_GLB_MAX)
		return -EFBIG;
	if ((r = xo_init(&o, fd, false)) < 0)
		return r;
	uint8_t h[GLB_HEADER + GLB_CHUNK_HEADER];
	put_le32(h, GLB_MAGIC);
	put_le32(h + 4, GLB_VERSION);
	put_le32(h + 8, (uint32_t)total);
	put_le32(h + 12, (uint32_t)json_len);
	put_le32(h + 16, GLB_CHUNK_JSON);
	xo_put(&o, h, sizeof(h));
	put_json(&o, x, c, buf_len, false);
	xo_put(&o, "   ", (size_t)(json_len - dry.bytes));
	if (buf_len) {
		put_le32(h, (uint32_t)bin_len);
		put_le32(h + 4, GLB_CHUNK_BIN);
		xo_put(&o, h, GLB_CHUNK_HEADER);
		put_binary(&o, x);
		xo_put(&o, "\0\0\0", (size_t)(bin_len - buf_len));
	}
	r = xo_flush(&o);
	st->bytes = o.bytes;
	xo_fini(&o);
	return r;
}
