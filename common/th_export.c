/* Scene export (th_export.h): the output sink and the export model both
 * writers share; the formats are th_gltf_write.c and th_obj_write.c. */
#include "th_export.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "th_export_int.h"
#include "th_ftoa.h"
#include "th_hex.h"
#include "th_meshop.h"
#include "th_meshop_int.h"

/* ---- the sink ----------------------------------------------------------- */

int xo_init(struct xo *o, int fd, bool count_only)
{
	*o = (struct xo){ .fd = fd, .count_only = count_only };
	if (count_only)
		return 0;
	o->buf = malloc(TH_EXPORT_BUF_BYTES);
	o->in = malloc(XO_B64_IN);
	if (!o->buf || !o->in) {
		xo_fini(o);
		return -ENOMEM;
	}
	return 0;
}

void xo_fini(struct xo *o)
{
	free(o->buf);
	free(o->in);
	o->buf = o->in = NULL;
}

int xo_flush(struct xo *o)
{
	size_t off = 0;
	while (!o->err && off < o->n) {
		ssize_t w = write(o->fd, o->buf + off, o->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	o->n = 0;
	return o->err;
}

/* Copies p[0..n) into buf (cap bytes, *used of them filled), calling
 * full(o) each time buf fills; stops early when full returns nonzero. */
static void xo_fill(struct xo *o, uint8_t *buf, size_t cap, size_t *used, const uint8_t *p, size_t n,
		    int (*full)(struct xo *))
{
	while (n) {
		size_t room = cap - *used, k = n < room ? n : room;
		memcpy(buf + *used, p, k);
		*used += k;
		p += k;
		n -= k;
		if (*used == cap && full(o))
			return;
	}
}

static void xo_raw(struct xo *o, const uint8_t *p, size_t n)
{
	o->bytes += n;
	if (o->count_only || o->err)
		return;
	xo_fill(o, o->buf, TH_EXPORT_BUF_BYTES, &o->n, p, n, xo_flush);
}

/* Base64 of in[0..nin) (a multiple of 3 unless final) to the output;
 * returns 0 (an error stays in o->err: later output is dropped). */
static int xo_b64_drain(struct xo *o)
{
	uint8_t enc[XO_B64_IN / 3 * 4 + 1];
	if (!o->nin)
		return 0;
	sodium_bin2base64((char *)enc, sizeof(enc), o->in, o->nin, sodium_base64_VARIANT_ORIGINAL);
	xo_raw(o, enc, sodium_base64_encoded_len(o->nin, sodium_base64_VARIANT_ORIGINAL) - 1);
	o->nin = 0;
	return 0;
}

void xo_put_slow(struct xo *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	if (!o->b64) {
		xo_raw(o, b, n);
		return;
	}
	if (o->count_only) { /* 4 characters per 3 bytes, the last group padded */
		o->nin += n;
		o->bytes += o->nin / 3 * 4;
		o->nin %= 3;
		return;
	}
	xo_fill(o, o->in, XO_B64_IN, &o->nin, b, n, xo_b64_drain);
}

void xo_b64_begin(struct xo *o)
{
	o->b64 = true;
	o->nin = 0;
}

void xo_b64_end(struct xo *o)
{
	if (o->count_only)
		o->bytes += o->nin ? 4 : 0;
	else
		xo_b64_drain(o);
	o->nin = 0;
	o->b64 = false;
}

void xo_str(struct xo *o, const char *s) { xo_put(o, s, strlen(s)); }

void xo_json_str(struct xo *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	xo_put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p };
			xo_put(o, e, 2);
		} else if (*p < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
			xo_put(o, e, 6);
		} else {
			xo_put(o, p, 1);
		}
	}
	xo_put(o, "\"", 1);
}

void xo_u64(struct xo *o, uint64_t v)
{
	char b[24];
	unsigned i = sizeof(b);
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	xo_put(o, b + i, sizeof(b) - i);
}

void xo_i64(struct xo *o, int64_t v)
{
	if (v < 0) {
		xo_put(o, "-", 1);
		xo_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		xo_u64(o, (uint64_t)v);
	}
}

void xo_hex64(struct xo *o, uint64_t v)
{
	uint8_t b[8];
	char hex[17];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	th_hex_encode(b, sizeof(b), hex);
	xo_put(o, hex, 16);
}

void xo_f32(struct xo *o, float v)
{
	/* The fewest digits that read back as v (th_ftoa.h: "%.6g"'s text
	 * wherever that round-trips). */
	char b[TH_F32_TEXT_MAX];
	xo_put(o, b, th_f32_text(v, b));
}

void xo_f32_exact(struct xo *o, float v)
{
	char b[40];
	int n = snprintf(b, sizeof(b), "%.17g", (double)v);
	xo_put(o, b, (size_t)n);
}

/* ---- the model ----------------------------------------------------------- */

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int author_add(struct xmodel *x, const uint8_t *key, uint32_t *out)
{
	for (uint32_t i = 0; i < x->nauthors; i++) {
		if (!memcmp(x->authors[i], key, TH_LOGREC_KEY_LEN)) {
			*out = i + 1;
			return 0;
		}
	}
	if (x->nauthors >= TH_EXPORT_AUTHORS_MAX)
		return -ENOSPC;
	if (x->nauthors == x->cap_authors) {
		uint32_t cap = x->cap_authors ? 2 * x->cap_authors : 8;
		void *p = realloc(x->authors, (size_t)cap * sizeof(*x->authors));
		if (!p)
			return -ENOMEM;
		x->authors = p;
		x->cap_authors = cap;
	}
	memcpy(x->authors[x->nauthors++], key, TH_LOGREC_KEY_LEN);
	*out = x->nauthors;
	return 0;
}

void xmodel_unit_quat(const float in[4], float out[4])
{
	double l = 0;
	for (int i = 0; i < 4; i++)
		l += (double)in[i] * in[i];
	l = sqrt(l);
	for (int i = 0; i < 4; i++)
		out[i] = l > 1e-12 ? (float)(in[i] / l) : (i == 3 ? 1.0f : 0.0f);
}

/* The face's corners in its plane: the two axes other than the normal's
 * largest, ordered so that the loop turns counter-clockwise. */
static void project(const struct th_mesh *m, int32_t f, const float n[3], double (*p)[2])
{
	int ax = fabsf(n[0]) > fabsf(n[1]) ? (fabsf(n[0]) > fabsf(n[2]) ? 0 : 2) : (fabsf(n[1]) > fabsf(n[2]) ? 1 : 2);
	int u = (ax + 1) % 3, v = (ax + 2) % 3;
	bool flip = n[ax] < 0;
	int32_t h = m->faces[f].he;
	for (unsigned c = 0; c < m->faces[f].n; c++, h = m->hes[h].next) {
		const float *q = m->verts[m->hes[h].vert].pos;
		p[c][0] = flip ? q[v] : q[u];
		p[c][1] = flip ? q[u] : q[v];
	}
}

static double cross2(const double *a, const double *b, const double *c)
{
	return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

unsigned xmodel_triangulate(const struct th_mesh *m, int32_t f, const float n[3], uint8_t (*tri)[3])
{
	unsigned k = m->faces[f].n, t = 0;
	double p[TH_MESH_FACE_VERTS_MAX][2];
	uint8_t idx[TH_MESH_FACE_VERTS_MAX];
	bool convex = true;
	if (k > 3) {
		project(m, f, n, p);
		for (unsigned c = 0; c < k && convex; c++)
			convex = cross2(p[c], p[(c + 1) % k], p[(c + 2) % k]) >= 0;
	}
	if (convex) {
		for (unsigned c = 1; c + 1 < k; c++, t++)
			tri[t][0] = 0, tri[t][1] = (uint8_t)c, tri[t][2] = (uint8_t)(c + 1);
		return t;
	}
	for (unsigned c = 0; c < k; c++)
		idx[c] = (uint8_t)c;
	unsigned left = k;
	for (unsigned i = 0, miss = 0; left > 3 && miss < left;) {
		unsigned a = idx[(i + left - 1) % left], b = idx[i % left], c = idx[(i + 1) % left];
		bool ear = cross2(p[a], p[b], p[c]) > 0;
		for (unsigned j = 0; j < left && ear; j++) {
			unsigned q = idx[j];
			if (q != a && q != b && q != c && cross2(p[a], p[b], p[q]) >= 0 && cross2(p[b], p[c], p[q]) >= 0 &&
			    cross2(p[c], p[a], p[q]) >= 0)
				ear = false;
		}
		if (!ear) {
			i = (i + 1) % left;
			miss++;
			continue;
		}
		tri[t][0] = (uint8_t)a, tri[t][1] = (uint8_t)b, tri[t][2] = (uint8_t)c;
		t++;
		memmove(idx + i % left, idx + i % left + 1, left - i % left - 1);
		left--;
		i = i % left;
		miss = 0;
	}
	for (unsigned c = 1; c + 1 < left; c++, t++)
		tri[t][0] = idx[0], tri[t][1] = idx[c], tri[t][2] = idx[c + 1];
	return t;
}

void xmodel_face_normal(const struct th_mesh *m, int32_t f, float n[3])
{
	if (th_mesh_face_normal(m, f, n, NULL) < 0) {
		n[0] = n[1] = 0;
		n[2] = 1;
	}
}

/* The faces of xm->m grouped by material (a counting sort of the faces in
 * ascending id, which it keeps within a material: the order depends only
 * on the mesh's content, not on the history that laid out its slots), one
 * primitive per material, with counts and bounds. */
static int mesh_build(struct xmodel *x, struct xmesh *xm)
{
	const struct th_mesh *m = xm->m;
	uint32_t count[TH_SCENE_MATERIALS] = { 0 }, start[TH_SCENE_MATERIALS], nlive = 0;
	struct th_slot_id *live = th_mesh_live_sorted(m, true, &nlive);
	xm->order = malloc(((size_t)nlive + 1) * sizeof(*xm->order));
	if (!live || !xm->order) {
		free(live);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nlive; i++)
		count[m->faces[live[i].slot].material]++;
	uint32_t sum = 0, nprims = 0;
	for (unsigned k = 0; k < TH_SCENE_MATERIALS; k++) {
		start[k] = sum;
		sum += count[k];
		nprims += count[k] > 0;
	}
	for (uint32_t i = 0; i < nlive; i++)
		xm->order[start[m->faces[live[i].slot].material]++] = (uint32_t)live[i].slot;
	free(live);
	xm->prims = calloc(nprims ? nprims : 1, sizeof(*xm->prims));
	if (!xm->prims)
		return -ENOMEM;
	/* Authors: mesh index -> file index (th_mesh_author is NULL past the list). */
	uint32_t na = 0;
	while (th_mesh_author(m, na + 1))
		na++;
	xm->amap = calloc((size_t)na + 1, sizeof(*xm->amap));
	if (!xm->amap)
		return -ENOMEM;
	xm->namap = na + 1;
	uint32_t first = 0;
	for (unsigned k = 0; k < TH_SCENE_MATERIALS; k++) {
		if (!count[k])
			continue;
		struct xprim *p = &xm->prims[xm->nprims++];
		*p = (struct xprim){ .material = k, .first = first, .nfaces = count[k] };
		for (int i = 0; i < 3; i++) {
			p->min[i] = INFINITY;
			p->max[i] = -INFINITY;
		}
		for (uint32_t i = first; i < first + count[k]; i++) {
			const struct th_mesh_face *fc = &m->faces[xm->order[i]];
			p->nverts += fc->n;
			p->nidx += 3u * (fc->n - 2u);
			int32_t h = fc->he;
			for (unsigned c = 0; c < fc->n; c++, h = m->hes[h].next) {
				const float *v = m->verts[m->hes[h].vert].pos;
				for (int a = 0; a < 3; a++) {
					p->min[a] = v[a] < p->min[a] ? v[a] : p->min[a];
					p->max[a] = v[a] > p->max[a] ? v[a] : p->max[a];
				}
			}
			uint32_t ak = fc->author;
			if (ak && ak <= na && !xm->amap[ak]) {
				int r = author_add(x, th_mesh_author(m, ak), &xm->amap[ak]);
				if (r < 0)
					return r;
			}
		}
		if (p->nverts > UINT32_MAX || p->nidx > UINT32_MAX)
			return -EFBIG;
		if (x->mat_index[k] < 0) {
			x->mat_index[k] = (int16_t)x->nmats;
			x->mats[x->nmats++] = (uint16_t)k;
		}
		x->faces += count[k];
		x->triangles += p->nidx / 3;
		x->corners += p->nverts;
		first += count[k];
	}
	return 0;
}

int xmodel_build(struct xmodel *x, const struct th_scene *s)
{
	*x = (struct xmodel){ .s = s };
	for (unsigned k = 0; k < TH_SCENE_MATERIALS; k++)
		x->mat_index[k] = -1;
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	uint64_t *ids = malloc(((size_t)st.entities + 1) * sizeof(*ids));
	int r = -ENOMEM;
	if (!ids)
		return r;
	size_t cur = 0, n = 0;
	uint64_t id;
	while (n < st.entities && th_scene_next_entity(s, &cur, &id))
		ids[n++] = id;
	qsort(ids, n, sizeof(*ids), u64_cmp);
	x->nodes = calloc(n ? n : 1, sizeof(*x->nodes));
	x->meshes = calloc(n ? n : 1, sizeof(*x->meshes));
	if (!x->nodes || !x->meshes)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct th_c_transform *t = th_scene_component(s, ids[i], TH_COMP_TRANSFORM);
		const struct th_c_mesh_ref *mr = th_scene_component(s, ids[i], TH_COMP_MESH_REF);
		if (!t && !mr)
			continue;
		struct xnode *nd = &x->nodes[x->nnodes++];
		*nd = (struct xnode){ .entity = ids[i], .has_t = t != NULL, .mesh = -1 };
		if (t)
			nd->t = *t;
		const struct th_mesh *m = mr ? th_scene_mesh(s, mr->mesh) : NULL;
		if (!m || !m->live_faces)
			continue;
		nd->material = mr->material;
		for (uint32_t k = 0; k < x->nmeshes && nd->mesh < 0; k++)
			if (x->meshes[k].m == m)
				nd->mesh = (int32_t)k;
		if (nd->mesh >= 0)
			continue;
		struct xmesh *xm = &x->meshes[x->nmeshes];
		*xm = (struct xmesh){ .m = m };
		nd->mesh = (int32_t)x->nmeshes++;
		if ((r = mesh_build(x, xm)) < 0)
			goto out;
	}
	r = 0;
out:
	free(ids);
	if (r < 0)
		xmodel_fini(x);
	return r;
}

void xmodel_fini(struct xmodel *x)
{
	for (uint32_t k = 0; x->meshes && k < x->nmeshes; k++) {
		free(x->meshes[k].order);
		free(x->meshes[k].amap);
		free(x->meshes[k].prims);
	}
	free(x->meshes);
	free(x->nodes);
	free(x->authors);
	*x = (struct xmodel){ 0 };
}

const struct th_scene_material *xmodel_material(const struct xmodel *x, uint32_t file_index)
{
	const struct th_scene_material *m = th_scene_material(x->s, x->mats[file_index]);
	return m && m->defined ? m : th_scene_material(x->s, 0);
}

void xmodel_material_name(const struct xmodel *x, uint32_t file_index, char *out, size_t cap)
{
	const struct th_scene_material *m = th_scene_material(x->s, x->mats[file_index]);
	int n = snprintf(out, cap, "m%u", (unsigned)x->mats[file_index]);
	if (n < 0 || (size_t)n + 1 >= cap || !m || !m->defined || !m->name[0])
		return;
	size_t k = (size_t)n;
	out[k++] = '_';
	for (const char *p = m->name; *p && k + 1 < cap; p++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
			  ch == '-';
		out[k++] = ok ? ch : '_';
	}
	out[k] = 0;
}

/* ---- entry point ----------------------------------------------------------- */

enum th_export_format th_export_format_of(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	if (!dot || strchr(dot, '/'))
		return 0;
	if (!strcasecmp(dot, ".glb"))
		return TH_EXPORT_GLB;
	if (!strcasecmp(dot, ".gltf"))
		return TH_EXPORT_GLTF;
	if (!strcasecmp(dot, ".obj"))
		return TH_EXPORT_OBJ;
	return 0;
}

int th_export_scene(const struct th_scene *s, const struct th_export_config *c, int fd, int mtl_fd,
		    struct th_export_stats *st)
{
	struct th_export_stats z = { 0 };
	if (!s || !c || fd < 0 || (c->session && strlen(c->session) > TH_EXPORT_NAME_MAX) ||
	    (c->mtl_name && strlen(c->mtl_name) > TH_EXPORT_NAME_MAX) ||
	    (c->format != TH_EXPORT_GLB && c->format != TH_EXPORT_GLTF && c->format != TH_EXPORT_OBJ))
		return -EINVAL;
	struct xmodel x;
	int r = xmodel_build(&x, s);
	if (r < 0)
		return r;
	z.nodes = x.nnodes;
	z.meshes = x.nmeshes;
	z.materials = x.nmats;
	z.authors = x.nauthors;
	z.faces = x.faces;
	z.triangles = x.triangles;
	for (uint32_t k = 0; k < x.nmeshes; k++)
		z.primitives += x.meshes[k].nprims;
	r = c->format == TH_EXPORT_OBJ ? th_obj_write(&x, c, fd, mtl_fd, &z) : th_gltf_write(&x, c, fd, &z);
	xmodel_fini(&x);
	if (r == 0 && st)
		*st = z;
	return r;
}
