/* A th_mesh as the triangles and wire the GPU draws (gfx_mesh.h): ear
 * clipping, flat or smooth normals, one span of vertices and indices per
 * face slot, rewritten only where a face's signature changed. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx_mesh.h"
#include "th_array.h"
#include "th_hash.h"

#define FACE_MAX TH_MESH_FACE_VERTS_MAX
#define TRI_MAX ((FACE_MAX - 2) * 3)
#define GROW_MIN 64u /* elements an array starts with */
/* Where a free vertex slot's wire point sits: past any far plane, finite. */
#define WIRE_FAR 1e9f
/* The normal of a face or vertex whose own is zero (a degenerate loop). */
static const float normal_default[3] = { 0, 0, 1 };

/* Signatures: every word goes through its own lane (a bijection keyed by
 * the word's place), and the lanes are summed, so the corners hash in
 * parallel rather than as one long chain; a change to one word always
 * changes the sum. One finaliser per signature. */
#define SIG_MUL UINT64_C(0x9e3779b97f4a7c15)
#define SIG_KEY_TOPO UINT64_C(0x632be59bd9b4e019)
#define SIG_KEY_XY UINT64_C(0x8cb92ba72f3d8dd7)
#define SIG_KEY_Z UINT64_C(0xd6e8feb86659fd93)
#define SIG_KEY_N UINT64_C(0xa0761d6478bd642f)
#define SIG_SEED_FLAT UINT64_C(0x666c6174)
#define SIG_SEED_SMOOTH UINT64_C(0x736d6f6f)

/* ---- small helpers ------------------------------------------------------------ */

static int grow(void **p, uint32_t *cap, uint64_t need, size_t size)
{
	return th_array_grow(p, cap, need, GROW_MIN, UINT32_MAX, size);
}

static inline uint64_t lane(uint64_t w, uint64_t key)
{
	w = (w + key) * SIG_MUL;
	return w ^ (w >> 31);
}

static inline uint64_t sig_end(uint64_t h)
{
	h = th_mix64(h);
	return h ? h : 1; /* 0 is a free slot's */
}

static inline uint64_t fbits(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

static inline uint64_t fpair(float a, float b) { return fbits(a) | fbits(b) << 32; }

static void add_range(struct gfx_range *r, uint32_t *n, uint32_t first, uint32_t count)
{
	if (!count)
		return;
	uint32_t end = first + count;
	if (*n) {
		struct gfx_range *l = &r[*n - 1];
		uint32_t lend = l->first + l->count;
		if (first <= lend && end >= l->first) { /* touches the last one: widen it */
			uint32_t a = first < l->first ? first : l->first, b = end > lend ? end : lend;
			*l = (struct gfx_range){ a, b - a };
			return;
		}
		if (*n == GFX_MESH_DIRTY_MAX) { /* all into one covering range */
			uint32_t a = first, b = end;
			for (uint32_t i = 0; i < *n; i++) {
				a = r[i].first < a ? r[i].first : a;
				b = r[i].first + r[i].count > b ? r[i].first + r[i].count : b;
			}
			r[0] = (struct gfx_range){ a, b - a };
			*n = 1;
			return;
		}
	}
	r[(*n)++] = (struct gfx_range){ first, count };
}

/* Newell's normal of a loop (length twice its area), corners taken
 * relative to the first so a mesh far from the origin keeps its precision. */
static void newell(const float (*p)[3], unsigned n, float out[3])
{
	float x = 0, y = 0, z = 0;
	for (unsigned i = 0; i < n; i++) {
		const float *a = p[i], *b = p[i + 1 < n ? i + 1 : 0];
		float ax = a[0] - p[0][0], ay = a[1] - p[0][1], az = a[2] - p[0][2];
		float bx = b[0] - p[0][0], by = b[1] - p[0][1], bz = b[2] - p[0][2];
		x += (ay - by) * (az + bz);
		y += (az - bz) * (ax + bx);
		z += (ax - bx) * (ay + by);
	}
	out[0] = x;
	out[1] = y;
	out[2] = z;
}

static void normalize_or_default(float v[3])
{
	float l = sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	if (l > 0 && isfinite(l)) {
		v[0] /= l;
		v[1] /= l;
		v[2] /= l;
	} else {
		memcpy(v, normal_default, sizeof(normal_default));
	}
}

/* ---- triangulation -------------------------------------------------------------- */

static void fan(unsigned n, uint32_t *tri)
{
	for (unsigned k = 0; k + 2 < n; k++) {
		tri[3 * k] = 0;
		tri[3 * k + 1] = k + 1;
		tri[3 * k + 2] = k + 2;
	}
}

static inline double cross2(const double *a, const double *b, const double *c)
{
	return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

/* Whether corner i of the remaining loop idx[0..m-1] is an ear: convex,
 * and no other remaining corner inside or on its triangle (corners at the
 * same place as one of the triangle's are not in the way). */
static bool is_ear(const double (*q)[2], const uint32_t *idx, unsigned m, unsigned i)
{
	unsigned ip = (i + m - 1) % m, in = (i + 1) % m;
	const double *a = q[idx[ip]], *b = q[idx[i]], *c = q[idx[in]];
	if (!(cross2(a, b, c) > 0))
		return false;
	for (unsigned j = 0; j < m; j++) {
		if (j == ip || j == i || j == in)
			continue;
		const double *p = q[idx[j]];
		if ((p[0] == a[0] && p[1] == a[1]) || (p[0] == b[0] && p[1] == b[1]) || (p[0] == c[0] && p[1] == c[1]))
			continue;
		if (cross2(a, b, p) >= 0 && cross2(b, c, p) >= 0 && cross2(c, a, p) >= 0)
			return false;
	}
	return true;
}

/* Ear clipping of pts in the plane of normal nrm (any length, not zero). */
static void ear_clip(const float (*pts)[3], unsigned n, const float nrm[3], uint32_t *tri)
{
	double q[FACE_MAX][2];
	uint32_t idx[FACE_MAX];
	float ax = fabsf(nrm[0]), ay = fabsf(nrm[1]), az = fabsf(nrm[2]);
	unsigned u, v;
	float s;
	if (az >= ax && az >= ay)
		u = 0, v = 1, s = nrm[2];
	else if (ax >= ay)
		u = 1, v = 2, s = nrm[0];
	else
		u = 2, v = 0, s = nrm[1];
	/* The plane (u, v) with u mirrored when the normal points down the
	 * dropped axis: the loop is counter-clockwise in q. */
	for (unsigned k = 0; k < n; k++) {
		double du = (double)pts[k][u] - pts[0][u], dv = (double)pts[k][v] - pts[0][v];
		q[k][0] = s < 0 ? -du : du;
		q[k][1] = dv;
		idx[k] = k;
	}
	unsigned m = n, i = 0, miss = 0, out = 0;
	while (m > 3) {
		unsigned c = i;
		bool ear = is_ear(q, idx, m, i);
		if (!ear && ++miss < m) {
			i = (i + 1) % m;
			continue;
		}
		if (!ear) { /* no ear left (a loop crossing itself, or flat): the most convex corner */
			double best = -INFINITY;
			for (unsigned k = 0; k < m; k++) {
				double cr = cross2(q[idx[(k + m - 1) % m]], q[idx[k]], q[idx[(k + 1) % m]]);
				if (cr > best)
					best = cr, c = k;
			}
		}
		tri[out++] = idx[(c + m - 1) % m];
		tri[out++] = idx[c];
		tri[out++] = idx[(c + 1) % m];
		memmove(&idx[c], &idx[c + 1], (m - c - 1) * sizeof(idx[0]));
		m--;
		i = (c + m - 1) % m; /* the corner before: it may have become an ear */
		miss = 0;
	}
	tri[out++] = idx[0];
	tri[out++] = idx[1];
	tri[out++] = idx[2];
}

static void triangulate(const float (*pts)[3], unsigned n, const float nrm[3], uint32_t *tri)
{
	if (n == 3 || !(fabsf(nrm[0]) + fabsf(nrm[1]) + fabsf(nrm[2]) > 0) || n > FACE_MAX)
		fan(n, tri);
	else
		ear_clip(pts, n, nrm, tri);
}

void gfx_triangulate(const float (*pts)[3], unsigned n, uint32_t *tri)
{
	float nrm[3];
	if (n < 3)
		return;
	newell(pts, n, nrm);
	triangulate(pts, n, nrm, tri);
}

/* ---- faces ---------------------------------------------------------------------- */

unsigned gfx_face_corners(const struct th_mesh *m, uint32_t f, int32_t *vs, float (*pts)[3])
{
	unsigned n = m->faces[f].n;
	int32_t h = m->faces[f].he;
	for (unsigned k = 0; k < n; k++, h = m->hes[h].next) {
		vs[k] = m->hes[h].vert;
		memcpy(pts[k], m->verts[vs[k]].pos, sizeof(pts[k]));
	}
	return n;
}

static bool face_live(const struct th_mesh *m, uint32_t f)
{
	return f < m->nfaces && m->faces[f].id && m->faces[f].n >= 3 && m->faces[f].n <= FACE_MAX;
}

/* Area-weighted vertex normals (the sum of the faces' Newell normals, in
 * face slot order, normalised) into g->vnormal. */
static void vertex_normals(struct gfx_mesh *g, const struct th_mesh *m)
{
	int32_t vs[FACE_MAX];
	float pts[FACE_MAX][3], nrm[3];
	memset(g->vnormal, 0, (size_t)m->nverts * sizeof(g->vnormal[0]));
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (!face_live(m, f))
			continue;
		unsigned n = gfx_face_corners(m, f, vs, pts);
		newell((const float (*)[3])pts, n, nrm);
		for (unsigned k = 0; k < n; k++) {
			float *o = g->vnormal[vs[k]];
			o[0] += nrm[0];
			o[1] += nrm[1];
			o[2] += nrm[2];
		}
	}
	for (uint32_t v = 0; v < m->nverts; v++)
		normalize_or_default(g->vnormal[v]);
}

/* The topology and full signatures of face slot f (0, 0 when free). */
static void face_sig(const struct gfx_mesh *g, const struct th_mesh *m, uint32_t f, bool smooth, uint64_t out[2])
{
	if (!face_live(m, f)) {
		out[0] = out[1] = 0;
		return;
	}
	const struct th_mesh_face *fc = &m->faces[f];
	uint64_t t = lane(fc->id, fc->n), s = lane(fc->material, smooth ? SIG_SEED_SMOOTH : SIG_SEED_FLAT);
	int32_t h = fc->he;
	for (unsigned k = 0; k < fc->n; k++, h = m->hes[h].next) {
		int32_t v = m->hes[h].vert;
		const float *p = m->verts[v].pos;
		uint64_t key = (uint64_t)(k + 1) * SIG_MUL;
		t += lane((uint32_t)v, key ^ SIG_KEY_TOPO);
		s += lane(fpair(p[0], p[1]), key ^ SIG_KEY_XY);
		if (smooth) {
			const float *nv = g->vnormal[v];
			s += lane(fpair(p[2], nv[0]), key ^ SIG_KEY_Z) + lane(fpair(nv[1], nv[2]), key ^ SIG_KEY_N);
		} else {
			s += lane(fbits(p[2]), key ^ SIG_KEY_Z);
		}
	}
	out[0] = sig_end(t);
	out[1] = sig_end(s ^ out[0]);
}

/* Writes face slot f's corners at g->v[fv..] and its triangles at
 * g->index[fi..], recording both ranges dirty. */
static void write_face(struct gfx_mesh *g, const struct th_mesh *m, uint32_t f, uint32_t fv, uint32_t fi, bool smooth)
{
	int32_t vs[FACE_MAX];
	float pts[FACE_MAX][3], nrm[3];
	uint32_t tri[TRI_MAX];
	const struct th_mesh_face *fc = &m->faces[f];
	unsigned n = gfx_face_corners(m, f, vs, pts);
	newell((const float (*)[3])pts, n, nrm);
	triangulate((const float (*)[3])pts, n, nrm, tri);
	normalize_or_default(nrm);
	for (unsigned k = 0; k < n; k++) {
		struct gfx_vertex *o = &g->v[fv + k];
		memcpy(o->pos, pts[k], sizeof(o->pos));
		memcpy(o->normal, smooth ? g->vnormal[vs[k]] : nrm, sizeof(o->normal));
		o->material = fc->material;
		o->face = f;
	}
	unsigned ni = (n - 2) * 3;
	for (unsigned t = 0; t < ni; t++)
		g->index[fi + t] = fv + tri[t];
	add_range(g->dirty_v, &g->ndirty_v, fv, n);
	add_range(g->dirty_index, &g->ndirty_index, fi, ni);
	g->faces_rewritten++;
}

/* A span's triangles become degenerate (every index its first vertex). */
static void kill_span(struct gfx_mesh *g, const struct gfx_face_span *s)
{
	for (uint32_t t = 0; t < s->nindex; t++)
		g->index[s->first_index + t] = s->first_vertex;
	add_range(g->dirty_index, &g->ndirty_index, s->first_index, s->nindex);
	g->dead_v += s->nvertex;
	g->dead_index += s->nindex;
}

static void set_key(struct gfx_mesh *g, const struct th_mesh *m, uint32_t f)
{
	const struct th_mesh_face *fc = &m->faces[f];
	g->key[f] = fc->id ? (struct gfx_face_key){ fc->id, fc->material, fc->n } : (struct gfx_face_key){ 0 };
}

/* Marks the faces around the vertex whose outgoing half-edge is h0 (one
 * fan: the mesh is manifold). */
static void mark_fan(uint8_t *mark, const struct th_mesh *m, int32_t h0)
{
	int32_t h = h0;
	for (uint32_t k = 0; k < m->nhes; k++) { /* one way round, to a boundary or back */
		mark[m->hes[h].face] = 1;
		int32_t t = m->hes[m->hes[h].prev].twin;
		if (t == h0)
			return;
		if (t == TH_MESH_NONE)
			break;
		h = t;
	}
	int32_t t = m->hes[h0].twin;
	for (uint32_t k = 0; k < m->nhes && t != TH_MESH_NONE; k++) { /* and the other way */
		h = m->hes[t].next;
		mark[m->hes[h].face] = 1;
		t = m->hes[h].twin;
	}
}

/* With the last mesh known (and, smooth, its vertex normals): signatures
 * of the faces that may have changed (gfx_mesh.h), the stored ones for the
 * rest. A face whose slot holds the same (id, n, material) has the same
 * corners by id; when none of their vertex slots holds another id,
 * position or normal, they are the same slots at the same places with the
 * same normals, so the face is what it was. */
static void quick_sigs(struct gfx_mesh *g, const struct th_mesh *m, bool smooth)
{
	memset(g->mark, 0, m->nfaces);
	for (uint32_t f = 0; f < m->nfaces; f++) {
		const struct th_mesh_face *fc = &m->faces[f];
		const struct gfx_face_key *k = &g->key[f];
		if (f >= g->nface || k->id != fc->id || (fc->id && (k->n != fc->n || k->material != fc->material)))
			g->mark[f] = 1;
	}
	for (uint32_t v = 0; v < m->nverts; v++) {
		const struct th_mesh_vert *mv = &m->verts[v];
		if (!mv->id || mv->he == TH_MESH_NONE)
			continue; /* no faces */
		if (v < g->nwire && g->vid[v] == mv->id && !memcmp(g->wire_pos[v], mv->pos, sizeof(mv->pos)) &&
		    (!smooth || !memcmp(g->vnormal[v], g->vnormal_last[v], sizeof(g->vnormal[v]))))
			continue;
		mark_fan(g->mark, m, mv->he);
	}
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (g->mark[f]) {
			face_sig(g, m, f, smooth, g->next[f]);
		} else {
			g->next[f][0] = g->face[f].topo;
			g->next[f][1] = g->face[f].sig;
		}
	}
}

/* Every face again, packed from 0 (the arrays hold room for all). */
static void rebuild(struct gfx_mesh *g, const struct th_mesh *m, bool smooth)
{
	g->nv = g->nindex = 0;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		struct gfx_face_span *s = &g->face[f];
		*s = (struct gfx_face_span){ 0 };
		if (!g->next[f][1])
			continue;
		unsigned n = m->faces[f].n;
		*s = (struct gfx_face_span){ .first_vertex = g->nv,
					     .nvertex = n,
					     .first_index = g->nindex,
					     .nindex = (n - 2) * 3,
					     .topo = g->next[f][0],
					     .sig = g->next[f][1] };
		write_face(g, m, f, s->first_vertex, s->first_index, smooth);
		g->nv += s->nvertex;
		g->nindex += s->nindex;
	}
	for (uint32_t f = 0; f < m->nfaces; f++)
		set_key(g, m, f);
	g->nface = m->nfaces;
	g->dead_v = g->dead_index = 0;
	g->ndirty_v = g->ndirty_index = 0;
	g->full = true;
	g->rebuilds++;
}

/* The faces whose signature changed: freed, rewritten in place or
 * appended (room reserved). */
static void patch_faces(struct gfx_mesh *g, const struct th_mesh *m, uint32_t nf, bool smooth)
{
	static const uint64_t none[2];
	for (uint32_t f = g->nface; f < m->nfaces; f++)
		g->face[f] = (struct gfx_face_span){ 0 };
	for (uint32_t f = 0; f < nf; f++) {
		const uint64_t *nx = f < m->nfaces ? g->next[f] : none;
		struct gfx_face_span *s = &g->face[f];
		if (s->sig == nx[1])
			continue;
		unsigned n = nx[1] ? m->faces[f].n : 0;
		if (s->nvertex && s->nvertex != n) {
			kill_span(g, s);
			*s = (struct gfx_face_span){ 0 };
		}
		if (n && !s->nvertex) {
			*s = (struct gfx_face_span){
				.first_vertex = g->nv, .nvertex = n, .first_index = g->nindex, .nindex = (n - 2) * 3
			};
			g->nv += n;
			g->nindex += s->nindex;
		}
		if (n)
			write_face(g, m, f, s->first_vertex, s->first_index, smooth);
		s->topo = nx[0];
		s->sig = nx[1];
		if (f < m->nfaces)
			set_key(g, m, f);
	}
	g->nface = m->nfaces;
}

/* ---- wire ----------------------------------------------------------------------- */

static bool wire_update(struct gfx_mesh *g, const struct th_mesh *m, bool edges)
{
	static const float far[3] = { WIRE_FAR, WIRE_FAR, WIRE_FAR };
	bool ch = g->nwire != m->nverts;
	for (uint32_t v = 0; v < m->nverts; v++) {
		const float *p = m->verts[v].id ? m->verts[v].pos : far;
		if (ch || memcmp(g->wire_pos[v], p, sizeof(g->wire_pos[v]))) {
			memcpy(g->wire_pos[v], p, sizeof(g->wire_pos[v]));
			ch = true;
		}
		g->vid[v] = m->verts[v].id;
	}
	g->nwire = m->nverts;
	if (edges) {
		uint32_t k = 0;
		for (uint32_t h = 0; h < m->nhes; h++) {
			const struct th_mesh_he *e = &m->hes[h];
			if (e->vert == TH_MESH_NONE)
				continue;
			int32_t b = m->hes[e->next].vert;
			if (e->twin == TH_MESH_NONE || e->vert < b) {
				g->edge_index[k++] = (uint32_t)e->vert;
				g->edge_index[k++] = (uint32_t)b;
			}
		}
		g->nedge_index = k;
		ch = true;
	}
	if (ch)
		g->wire_dirty = true;
	return ch;
}

/* ---- the API -------------------------------------------------------------------- */

void gfx_mesh_init(struct gfx_mesh *g, uint64_t id)
{
	*g = (struct gfx_mesh){ .id = id };
}

void gfx_mesh_fini(struct gfx_mesh *g)
{
	free(g->v);
	free(g->index);
	free(g->face);
	free(g->wire_pos);
	free(g->edge_index);
	free(g->next);
	free(g->vnormal);
	free(g->vnormal_last);
	free(g->key);
	free(g->vid);
	free(g->mark);
	*g = (struct gfx_mesh){ .id = g->id };
}

void gfx_mesh_take_dirty(struct gfx_mesh *g)
{
	g->full = false;
	g->ndirty_v = g->ndirty_index = 0;
	g->wire_dirty = false;
}

int gfx_mesh_update(struct gfx_mesh *g, const struct th_mesh *m, bool smooth)
{
	if (m == g->seen && m->version == g->seen_version && smooth == g->smooth)
		return 0;
	if (m->id != g->id)
		return -EINVAL;
	g->updates++;
	if (grow((void **)&g->next, &g->cap_next, m->nfaces, sizeof(g->next[0])) ||
	    grow((void **)&g->key, &g->cap_key, m->nfaces, sizeof(g->key[0])) ||
	    grow((void **)&g->mark, &g->cap_mark, m->nfaces, sizeof(g->mark[0])) ||
	    grow((void **)&g->vid, &g->cap_vid, m->nverts, sizeof(g->vid[0])) ||
	    (smooth && (grow((void **)&g->vnormal, &g->cap_vnormal, m->nverts, sizeof(g->vnormal[0])) ||
			grow((void **)&g->vnormal_last, &g->cap_vnormal_last, m->nverts, sizeof(g->vnormal_last[0])))))
		goto nomem;
	/* Known: the last update succeeded with this shading (smooth: its
	 * normals are in vnormal_last). */
	bool quick = g->known && smooth == g->smooth;
	if (smooth)
		vertex_normals(g, m);
	if (quick)
		quick_sigs(g, m, smooth);
	/* What changed, and the room it needs. */
	uint32_t nf = g->nface > m->nfaces ? g->nface : m->nfaces, changed = 0;
	uint64_t need_v = 0, need_i = 0, free_v = 0, free_i = 0, tot_v = 0, tot_i = 0;
	bool topo = false;
	for (uint32_t f = 0; f < nf; f++) {
		static const struct gfx_face_span none;
		uint64_t nx[2] = { 0, 0 };
		if (f < m->nfaces) {
			if (!quick)
				face_sig(g, m, f, smooth, g->next[f]);
			memcpy(nx, g->next[f], sizeof(nx));
		}
		unsigned n = nx[1] ? m->faces[f].n : 0;
		tot_v += n;
		tot_i += n ? (n - 2) * 3 : 0;
		const struct gfx_face_span *s = f < g->nface ? &g->face[f] : &none;
		if (s->sig == nx[1])
			continue;
		changed++;
		topo |= s->topo != nx[0];
		if (s->nvertex && s->nvertex != n)
			free_v += s->nvertex, free_i += s->nindex;
		if (n && s->nvertex != n)
			need_v += n, need_i += (n - 2) * 3;
	}
	bool full = !g->rebuilds || smooth != g->smooth || 2 * (g->dead_v + free_v) > g->nv + need_v ||
		    2 * (g->dead_index + free_i) > g->nindex + need_i;
	topo |= full;
	uint64_t want_v = full ? tot_v : g->nv + need_v, want_i = full ? tot_i : g->nindex + need_i;
	if (grow((void **)&g->v, &g->cap_v, want_v, sizeof(g->v[0])) ||
	    grow((void **)&g->index, &g->cap_index, want_i, sizeof(g->index[0])) ||
	    grow((void **)&g->face, &g->cap_face, m->nfaces, sizeof(g->face[0])) ||
	    grow((void **)&g->wire_pos, &g->cap_wire, m->nverts, sizeof(g->wire_pos[0])) ||
	    (topo && grow((void **)&g->edge_index, &g->cap_edge_index, 2 * (uint64_t)m->live_hes,
			  sizeof(g->edge_index[0]))))
		goto nomem;
	if (full)
		rebuild(g, m, smooth);
	else if (changed)
		patch_faces(g, m, nf, smooth);
	bool wire = wire_update(g, m, topo);
	if (smooth) { /* these normals are the next update's last */
		float (*t)[3] = g->vnormal;
		uint32_t c = g->cap_vnormal;
		g->vnormal = g->vnormal_last;
		g->cap_vnormal = g->cap_vnormal_last;
		g->vnormal_last = t;
		g->cap_vnormal_last = c;
	}
	g->known = true;
	g->seen = m;
	g->seen_version = m->version;
	g->smooth = smooth;
	return full || changed || wire;
nomem:
	g->full = true;
	g->known = false;
	g->seen = NULL;
	return -ENOMEM;
}
