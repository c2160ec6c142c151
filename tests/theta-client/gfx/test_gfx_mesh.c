/* gfx_mesh: the triangles and wire the renderer draws, built from a th_mesh
 * and kept up to date by face. Known meshes (the primitives) give the
 * counts; every triangle lies in its face with the face's orientation and
 * the face's area; concave loops triangulate right; one moved vertex
 * rewrites exactly its faces and the dirty ranges cover exactly them;
 * removed faces leave degenerate triangles until a compaction; smooth
 * normals agree on shared vertices; an unchanged mesh (or a copy of it)
 * gives 0; and a seeded sequence of random patches, undos, copies and
 * shading changes keeps the incremental build equal to a fresh one up to
 * where the ranges sit, with a shadow "GPU" copy fed only the dirty ranges
 * equal to the arrays; every allocation failing in turn is -ENOMEM with the
 * arrays as they were and nothing leaked. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gfx/gfx_mesh.h"
#include "th_allocfail.h"
#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"

#define AREA_EPS 1e-4

/* ---- fixtures ------------------------------------------------------------------- */

static void prim_mesh(struct th_mesh *m, uint32_t kind, void (*tweak)(struct th_prim *))
{
	struct th_prim pp;
	struct th_patch p;
	const char *why = NULL;
	th_prim_defaults(&pp, kind);
	if (tweak)
		tweak(&pp);
	th_patch_init(&p);
	assert_int_equal(th_mesh_init(m, MF_MESH_ID), 0);
	int r = th_op_primitive(&pp, &p, &why);
	if (r)
		fail_msg("th_op_primitive: %d (%s)", r, why ? why : "");
	mf_patch_applied(m, &p, 1, NULL);
	th_patch_fini(&p);
}

static void upd(struct gfx_mesh *g, const struct th_mesh *m, bool smooth, int want)
{
	int r = gfx_mesh_update(g, m, smooth);
	if (r != want)
		fail_msg("gfx_mesh_update: %d, expected %d", r, want);
}

/* m: a primitive (prim_mesh), g: its first build. */
static void built(struct th_mesh *m, struct gfx_mesh *g, uint32_t kind, void (*tweak)(struct th_prim *), bool smooth)
{
	prim_mesh(m, kind, tweak);
	gfx_mesh_init(g, MF_MESH_ID);
	upd(g, m, smooth, 1);
}

static void vsub(const float *a, const float *b, double *o)
{
	for (int k = 0; k < 3; k++)
		o[k] = (double)a[k] - b[k];
}

static void vcross(const double *a, const double *b, double *o)
{
	o[0] = a[1] * b[2] - a[2] * b[1];
	o[1] = a[2] * b[0] - a[0] * b[2];
	o[2] = a[0] * b[1] - a[1] * b[0];
}

static double vdot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* Twice the vector area of a loop (Newell, in double). */
static void loop_normal(const float (*p)[3], unsigned n, double *o)
{
	o[0] = o[1] = o[2] = 0;
	for (unsigned i = 0; i < n; i++) {
		double a[3], b[3], c[3];
		vsub(p[i], p[0], a);
		vsub(p[(i + 1) % n], p[0], b);
		vcross(a, b, c);
		for (int k = 0; k < 3; k++)
			o[k] += c[k];
	}
}

/* Even-odd point in polygon, in the plane that drops the normal's largest axis. */
static bool inside(const float (*p)[3], unsigned n, const double *nrm, const double *q)
{
	int ax = fabs(nrm[0]) > fabs(nrm[1]) ? (fabs(nrm[0]) > fabs(nrm[2]) ? 0 : 2) : (fabs(nrm[1]) > fabs(nrm[2]) ? 1 : 2);
	int u = (ax + 1) % 3, v = (ax + 2) % 3;
	bool in = false;
	for (unsigned i = 0, j = n - 1; i < n; j = i++) {
		double yi = p[i][v], yj = p[j][v], xi = p[i][u], xj = p[j][u];
		if ((yi > q[v]) != (yj > q[v]) && q[u] < (xj - xi) * (q[v] - yi) / (yj - yi) + xi)
			in = !in;
	}
	return in;
}

/* The triangles tri[(n - 2) * 3] of loop p: local indices, each facing
 * the loop's way, with centroids inside the loop, their areas summing to
 * the loop's. */
static void triangles_fill_loop(const float (*p)[3], unsigned n, const uint32_t *tri)
{
	double nrm[3], sum = 0;
	loop_normal(p, n, nrm);
	double area = sqrt(vdot(nrm, nrm)) / 2;
	assert_true(area > 0);
	for (unsigned t = 0; t + 2 < n; t++) {
		const uint32_t *k = tri + 3 * t;
		assert_true(k[0] < n && k[1] < n && k[2] < n);
		assert_true(k[0] != k[1] && k[1] != k[2] && k[0] != k[2]);
		double a[3], b[3], c[3];
		vsub(p[k[1]], p[k[0]], a);
		vsub(p[k[2]], p[k[0]], b);
		vcross(a, b, c);
		double ta = vdot(c, nrm) / sqrt(vdot(nrm, nrm)) / 2;
		if (ta < -AREA_EPS * area)
			fail_msg("triangle %u (%u %u %u) faces away from its loop", t, k[0], k[1], k[2]);
		sum += ta;
		double q[3];
		for (int d = 0; d < 3; d++)
			q[d] = ((double)p[k[0]][d] + p[k[1]][d] + p[k[2]][d]) / 3;
		if (ta > AREA_EPS * area && !inside(p, n, nrm, q))
			fail_msg("triangle %u (%u %u %u) lies outside its loop", t, k[0], k[1], k[2]);
	}
	if (fabs(sum - area) > AREA_EPS * area)
		fail_msg("triangle areas sum to %g, the loop's area is %g", sum, area);
}

/* g describes m: a span per live face slot with the face's corners (in loop
 * order, its slot and material), triangles over its own corners; spans
 * apart; every index in range; every index outside a span degenerate; the
 * dead counts right; unit normals. geometry: also the triangles fill the
 * face (the loop must be simple seen along its normal) and flat normals
 * are the face's. */
static void mesh_check(const struct gfx_mesh *g, const struct th_mesh *m, bool smooth, bool geometry)
{
	int32_t vs[TH_MESH_FACE_VERTS_MAX];
	float pts[TH_MESH_FACE_VERTS_MAX][3];
	uint32_t tri[(TH_MESH_FACE_VERTS_MAX - 2) * 3];
	uint8_t *vused = calloc(g->nv + 1, 1), *iused = calloc(g->nindex + 1, 1);
	assert_non_null(vused);
	assert_non_null(iused);
	assert_int_equal(g->nface, m->nfaces);
	uint64_t live_v = 0, live_i = 0;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		const struct gfx_face_span *s = &g->face[f];
		if (!m->faces[f].id) {
			assert_int_equal(s->nvertex, 0);
			assert_int_equal(s->nindex, 0);
			continue;
		}
		unsigned n = gfx_face_corners(m, f, vs, pts);
		assert_int_equal(s->nvertex, n);
		assert_int_equal(s->nindex, (n - 2) * 3);
		assert_true(s->first_vertex + n <= g->nv && s->first_index + s->nindex <= g->nindex);
		double nrm[3];
		loop_normal((const float (*)[3])pts, n, nrm);
		double len = sqrt(vdot(nrm, nrm));
		for (unsigned k = 0; k < n; k++) {
			const struct gfx_vertex *v = &g->v[s->first_vertex + k];
			assert_false(vused[s->first_vertex + k]);
			vused[s->first_vertex + k] = 1;
			assert_memory_equal(v->pos, pts[k], sizeof(v->pos));
			assert_int_equal(v->face, f);
			assert_int_equal(v->material, m->faces[f].material);
			double vn[3] = { v->normal[0], v->normal[1], v->normal[2] };
			assert_true(fabs(vdot(vn, vn) - 1) < 1e-4);
			if (geometry && !smooth && len > 0)
				assert_true(vdot(vn, nrm) / len > 1 - 1e-4);
		}
		for (unsigned t = 0; t < s->nindex; t++) {
			uint32_t i = g->index[s->first_index + t];
			assert_false(iused[s->first_index + t]);
			iused[s->first_index + t] = 1;
			assert_true(i >= s->first_vertex && i < s->first_vertex + n);
			tri[t] = i - s->first_vertex;
		}
		if (geometry && len > 1e-9)
			triangles_fill_loop((const float (*)[3])pts, n, tri);
		live_v += n;
		live_i += s->nindex;
	}
	for (uint32_t t = 0; t < g->nindex; t += 3) {
		assert_true(g->index[t] < g->nv && g->index[t + 1] < g->nv && g->index[t + 2] < g->nv);
		if (!iused[t])
			assert_true(g->index[t] == g->index[t + 1] && g->index[t + 1] == g->index[t + 2]);
	}
	assert_int_equal(g->nindex % 3, 0);
	assert_int_equal(g->nv - g->dead_v, live_v);
	assert_int_equal(g->nindex - g->dead_index, live_i);
	assert_true(2 * (uint64_t)g->dead_v <= g->nv && 2 * (uint64_t)g->dead_index <= g->nindex);
	free(vused);
	free(iused);
}

static void mesh_ok(const struct gfx_mesh *g, const struct th_mesh *m, bool smooth)
{
	mesh_check(g, m, smooth, true);
}

static uint32_t count_faces(const struct th_mesh *m, uint64_t *tv, uint64_t *ti)
{
	uint32_t c = 0;
	*tv = *ti = 0;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (m->faces[f].id) {
			c++;
			*tv += m->faces[f].n;
			*ti += (m->faces[f].n - 2) * 3u;
		}
	}
	return c;
}

/* ---- known meshes ---------------------------------------------------------------- */

struct known {
	uint32_t kind;
	uint32_t nv, nindex, nwire, nedge;
};

static void cylinder16(struct th_prim *pp) { pp->segments = 16; }

static void primitives_give_the_known_counts(void **state)
{
	/* Cube: 6 quads over 8 vertices, 12 edges. Cylinder of 16 segments:
	 * 16 side quads and two 16-gon caps over 32 vertices, 48 edges. */
	const struct known k[] = {
		{ TH_PRIM_CUBE, 24, 36, 8, 12 },
		{ TH_PRIM_CYLINDER, 16 * 4 + 2 * 16, 16 * 6 + 2 * 14 * 3, 32, 48 },
	};
	for (unsigned i = 0; i < 2; i++) {
		struct th_mesh m;
		struct gfx_mesh g;
		built(&m, &g, k[i].kind, i ? cylinder16 : NULL, false);
		assert_int_equal(g.nv, k[i].nv);
		assert_int_equal(g.nindex, k[i].nindex);
		assert_int_equal(g.nwire, k[i].nwire);
		assert_int_equal(g.nedge_index, 2 * k[i].nedge);
		assert_true(g.full && g.wire_dirty);
		assert_int_equal(g.rebuilds, 1);
		assert_int_equal(g.dead_v, 0);
		mesh_ok(&g, &m, false);
		/* Every edge once, between two vertices a face has side by side. */
		for (uint32_t e = 0; e < g.nedge_index; e += 2) {
			uint32_t a = g.edge_index[e], b = g.edge_index[e + 1];
			assert_true(a < m.nverts && b < m.nverts);
			assert_true(th_mesh_he_find(&m, (int32_t)a, (int32_t)b) != TH_MESH_NONE ||
				    th_mesh_he_find(&m, (int32_t)b, (int32_t)a) != TH_MESH_NONE);
			for (uint32_t e2 = 0; e2 < e; e2 += 2) {
				uint32_t c = g.edge_index[e2], d = g.edge_index[e2 + 1];
				assert_false((a == c && b == d) || (a == d && b == c));
			}
		}
		for (uint32_t v = 0; v < m.nverts; v++)
			assert_memory_equal(g.wire_pos[v], m.verts[v].pos, sizeof(g.wire_pos[v]));
		gfx_mesh_take_dirty(&g);
		assert_false(g.full || g.wire_dirty || g.ndirty_v || g.ndirty_index);
		gfx_mesh_fini(&g);
		th_mesh_fini(&m);
	}
}

static void sphere(struct th_prim *pp)
{
	pp->segments = 12;
	pp->rings = 6;
}

static void every_triangle_lies_in_its_face(void **state)
{
	const uint32_t kinds[] = { TH_PRIM_CUBE, TH_PRIM_UVSPHERE, TH_PRIM_ICOSPHERE, TH_PRIM_CYLINDER,
				   TH_PRIM_CONE, TH_PRIM_TORUS, TH_PRIM_PLANE };
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		for (int smooth = 0; smooth < 2; smooth++) {
			struct th_mesh m;
			struct gfx_mesh g;
			uint64_t tv, ti;
			built(&m, &g, kinds[i], kinds[i] == TH_PRIM_UVSPHERE ? sphere : NULL, smooth);
			count_faces(&m, &tv, &ti);
			assert_int_equal(g.nv, tv);
			assert_int_equal(g.nindex, ti);
			mesh_ok(&g, &m, smooth);
			gfx_mesh_fini(&g);
			th_mesh_fini(&m);
		}
	}
}

/* ---- triangulation ----------------------------------------------------------------- */

/* A loop from 2D points placed in a tilted plane (origin o, axes ex, ey). */
static void place(const float (*xy)[2], unsigned n, const float *o, const float *ex, const float *ey, bool flip,
		  float (*out)[3])
{
	for (unsigned k = 0; k < n; k++) {
		unsigned s = flip ? n - 1 - k : k;
		for (int d = 0; d < 3; d++)
			out[k][d] = o[d] + xy[s][0] * ex[d] + xy[s][1] * ey[d];
	}
}

static void triangulate_ok(const float (*xy)[2], unsigned n)
{
	const float o[3] = { 10, -3, 250 };
	const float axes[][2][3] = {
		{ { 1, 0, 0 }, { 0, 1, 0 } },          /* facing +z */
		{ { 0, 1, 0 }, { 1, 0, 0 } },          /* facing -z */
		{ { 0, 0, 1 }, { 1, 0, 0 } },          /* facing +y */
		{ { 0.6f, 0.8f, 0 }, { 0, 0.6f, 0.8f } }, /* tilted */
	};
	float p[TH_MESH_FACE_VERTS_MAX][3];
	uint32_t tri[(TH_MESH_FACE_VERTS_MAX - 2) * 3];
	for (unsigned a = 0; a < sizeof(axes) / sizeof(axes[0]); a++) {
		for (int flip = 0; flip < 2; flip++) {
			/* flip: the loop the other way round, seen from the other side. */
			const float *ey = axes[a][1];
			float ney[3] = { -ey[0], -ey[1], -ey[2] };
			float (*xyf)[2] = malloc(n * sizeof(*xyf));
			assert_non_null(xyf);
			for (unsigned k = 0; k < n; k++)
				xyf[k][0] = xy[k][0], xyf[k][1] = xy[k][1];
			place((const float (*)[2])xyf, n, o, axes[a][0], flip ? ney : ey, flip, p);
			free(xyf);
			memset(tri, 0xff, sizeof(tri));
			gfx_triangulate((const float (*)[3])p, n, tri);
			triangles_fill_loop((const float (*)[3])p, n, tri);
		}
	}
}

static void concave_loops_triangulate_right(void **state)
{
	const float l_shape[][2] = { { 0, 0 }, { 2, 0 }, { 2, 1 }, { 1, 1 }, { 1, 2 }, { 0, 2 } };
	/* A comb: five teeth up from a bar. */
	const float comb[][2] = { { 0, 0 }, { 9, 0 }, { 9, 3 }, { 8, 3 }, { 8, 1 }, { 7, 1 }, { 7, 3 }, { 6, 3 },
				  { 6, 1 }, { 5, 1 }, { 5, 3 }, { 4, 3 }, { 4, 1 }, { 3, 1 }, { 3, 3 }, { 2, 3 },
				  { 2, 1 }, { 1, 1 }, { 1, 3 }, { 0, 3 } };
	/* A corner on an edge (a vertex split onto it): 180 degrees. */
	const float on_edge[][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 2, 2 }, { 0, 2 } };
	/* A spiral-ish hook whose first corner is reflex. */
	const float hook[][2] = { { 1, 1 }, { 3, 1 }, { 3, 0 }, { 4, 0 }, { 4, 4 }, { 0, 4 }, { 0, 0 }, { 1, 0 } };
	float star[10][2], big[TH_MESH_FACE_VERTS_MAX][2];
	for (unsigned k = 0; k < 10; k++) {
		float r = k % 2 ? 0.4f : 1.0f, a = (float)k * 6.2831853f / 10;
		star[k][0] = r * cosf(a);
		star[k][1] = r * sinf(a);
	}
	for (unsigned k = 0; k < TH_MESH_FACE_VERTS_MAX; k++) { /* the largest loop: a 64-point star */
		float r = k % 2 ? 0.3f + 0.01f * (float)(k % 7) : 1.0f, a = (float)k * 6.2831853f / TH_MESH_FACE_VERTS_MAX;
		big[k][0] = r * cosf(a);
		big[k][1] = r * sinf(a);
	}
	triangulate_ok(l_shape, 6);
	triangulate_ok(comb, 20);
	triangulate_ok(on_edge, 5);
	triangulate_ok(hook, 8);
	triangulate_ok((const float (*)[2])star, 10);
	triangulate_ok((const float (*)[2])big, TH_MESH_FACE_VERTS_MAX);
	/* A degenerate loop (all on a line) still gives n - 2 triangles over
	 * its corners. */
	const float line[5][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 2, 0, 0 }, { 3, 0, 0 }, { 4, 0, 0 } };
	uint32_t tri[9];
	memset(tri, 0xff, sizeof(tri));
	gfx_triangulate(line, 5, tri);
	for (unsigned t = 0; t < 9; t++)
		assert_true(tri[t] < 5);
}

/* A concave face in a mesh: a star of ten corners, beside a triangle. */
static void a_concave_face_in_a_mesh_draws_right(void **state)
{
	struct th_mesh m;
	struct gfx_mesh g;
	struct mf_patch *p = mf_patch_new();
	uint64_t ids[10];
	assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
	for (unsigned k = 0; k < 10; k++) {
		float r = k % 2 ? 0.3f : 1.0f, a = (float)k * 6.2831853f / 10;
		ids[k] = 1 + k;
		mf_p_vert(p, ids[k], r * cosf(a), 0.5f, -r * sinf(a)); /* facing +y */
	}
	mf_p_face(p, 100, 2, 10, ids);
	mf_expect_applied(&m, p, NULL);
	gfx_mesh_init(&g, MF_MESH_ID);
	upd(&g, &m, false, 1);
	assert_int_equal(g.nv, 10);
	assert_int_equal(g.nindex, 24);
	assert_true(g.v[0].normal[1] > 0.999f);
	assert_int_equal(g.v[0].material, 2);
	mesh_ok(&g, &m, false);
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
	free(p);
}

/* ---- incremental ---------------------------------------------------------------- */

/* The element set of ranges r[n] as a bitmap over [0, size). */
static uint8_t *range_set(const struct gfx_range *r, uint32_t n, uint32_t size)
{
	uint8_t *b = calloc(size + 1, 1);
	assert_non_null(b);
	for (uint32_t i = 0; i < n; i++) {
		assert_true(r[i].first + r[i].count <= size);
		memset(b + r[i].first, 1, r[i].count);
	}
	return b;
}

/* The dirty ranges of g cover exactly the spans of faces want[nw] (slots). */
static void dirty_is_exactly(const struct gfx_mesh *g, const uint32_t *want, unsigned nw)
{
	assert_false(g->full);
	uint8_t *dv = range_set(g->dirty_v, g->ndirty_v, g->nv), *di = range_set(g->dirty_index, g->ndirty_index, g->nindex);
	uint8_t *ev = calloc(g->nv + 1, 1), *ei = calloc(g->nindex + 1, 1);
	assert_non_null(ev);
	assert_non_null(ei);
	for (unsigned k = 0; k < nw; k++) {
		const struct gfx_face_span *s = &g->face[want[k]];
		memset(ev + s->first_vertex, 1, s->nvertex);
		memset(ei + s->first_index, 1, s->nindex);
	}
	assert_memory_equal(dv, ev, g->nv);
	assert_memory_equal(di, ei, g->nindex);
	free(dv);
	free(di);
	free(ev);
	free(ei);
}

static uint32_t slot_of(const struct th_mesh *m, uint64_t face)
{
	int32_t f = th_mesh_face_find(m, face);
	assert_true(f >= 0);
	return (uint32_t)f;
}

static void moving_one_vertex_rewrites_only_its_faces(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	struct gfx_mesh g;
	struct mf_patch *p = mf_cube_setup(&m, &j, 6);
	size_t mark = th_journal_mark(&j);
	gfx_mesh_init(&g, MF_MESH_ID);
	upd(&g, &m, false, 1);
	gfx_mesh_take_dirty(&g);
	struct gfx_vertex v0[24];
	memcpy(v0, g.v, sizeof(v0));
	struct gfx_face_span before[6];
	memcpy(before, g.face, sizeof(before));
	uint64_t written = g.faces_rewritten;
	uint32_t nedge = g.nedge_index, edges[24];
	memcpy(edges, g.edge_index, sizeof(edges));
	/* Vertex 7 (top, back, right) is a corner of the top, back and right faces. */
	mf_p_move(p, 7, 0.7f, 0.8f, 0.9f);
	mf_expect_applied(&m, p, &j);
	upd(&g, &m, false, 1);
	assert_int_equal(g.faces_rewritten - written, 3);
	uint32_t want[3], nw = 0;
	for (unsigned f = 0; f < 6; f++) {
		bool has7 = false;
		for (unsigned k = 0; k < 4; k++)
			has7 |= mf_cube_faces[f][k] == 7;
		uint32_t s = slot_of(&m, 101 + f);
		if (has7)
			want[nw++] = s;
		/* In place: no span moved. */
		assert_int_equal(g.face[s].first_vertex, before[s].first_vertex);
		assert_int_equal(g.face[s].first_index, before[s].first_index);
		if (!has7)
			assert_true(g.face[s].sig == before[s].sig);
	}
	assert_int_equal(nw, 3);
	dirty_is_exactly(&g, want, nw);
	assert_int_equal(g.nv, 24);
	assert_int_equal(g.dead_v, 0);
	/* The wire's points changed, its edges did not. */
	assert_true(g.wire_dirty);
	assert_int_equal(g.nedge_index, nedge);
	assert_memory_equal(g.edge_index, edges, sizeof(edges));
	float at[3] = { 0.7f, 0.8f, 0.9f };
	assert_memory_equal(g.wire_pos[th_mesh_vert_find(&m, 7)], at, sizeof(at));
	mesh_ok(&g, &m, false);
	/* A material change rewrites that face alone. */
	gfx_mesh_take_dirty(&g);
	mf_p_material(p, 102, 9);
	mf_expect_applied(&m, p, &j);
	written = g.faces_rewritten;
	upd(&g, &m, false, 1);
	assert_int_equal(g.faces_rewritten - written, 1);
	uint32_t top = slot_of(&m, 102);
	dirty_is_exactly(&g, &top, 1);
	assert_false(g.wire_dirty);
	assert_int_equal(g.v[g.face[top].first_vertex].material, 9);
	/* Undo both: the three faces again, back to what they were. */
	gfx_mesh_take_dirty(&g);
	mf_undo_to(&m, &j, mark);
	written = g.faces_rewritten;
	upd(&g, &m, false, 1);
	assert_int_equal(g.faces_rewritten - written, 3);
	dirty_is_exactly(&g, want, 3);
	assert_memory_equal(g.v, v0, sizeof(v0));
	gfx_mesh_fini(&g);
	mf_teardown(&m, &j, p);
}

static void cube4(struct th_prim *pp) { pp->subdiv = 3; } /* 4 x 4 quads a side */

static void smooth_shading_rewrites_the_faces_whose_normals_changed(void **state)
{
	struct th_mesh m;
	struct gfx_mesh g, fresh;
	built(&m, &g, TH_PRIM_CUBE, cube4, true);
	mesh_ok(&g, &m, true);
	gfx_mesh_take_dirty(&g);
	struct gfx_vertex *v0 = malloc(g.nv * sizeof(*v0));
	assert_non_null(v0);
	memcpy(v0, g.v, g.nv * sizeof(*v0));
	/* The centre of the top: its four faces change shape, so the normals
	 * of their nine vertices change, so every face with one of those as a
	 * corner: the 4 x 4 block around it. */
	uint64_t centre = 0;
	for (uint32_t v = 0; v < m.nverts; v++)
		if (m.verts[v].pos[0] == 0 && m.verts[v].pos[1] == 0.5f && m.verts[v].pos[2] == 0)
			centre = m.verts[v].id;
	assert_true(centre != 0);
	struct th_patch tp;
	th_patch_init(&tp);
	const float to[3] = { 0.05f, 0.6f, 0.02f };
	assert_int_equal(th_patch_vertex_move(&tp, centre, to), 0);
	mf_patch_applied(&m, &tp, 2, NULL);
	th_patch_fini(&tp);
	uint64_t written = g.faces_rewritten;
	upd(&g, &m, true, 1);
	/* Which faces hold other vertices than before, from a fresh build. */
	gfx_mesh_init(&fresh, MF_MESH_ID);
	upd(&fresh, &m, true, 1);
	uint32_t want[96], nw = 0;
	for (uint32_t f = 0; f < m.nfaces; f++) {
		const struct gfx_face_span *s = &g.face[f], *t = &fresh.face[f];
		assert_memory_equal(g.v + s->first_vertex, fresh.v + t->first_vertex, s->nvertex * sizeof(*g.v));
		if (memcmp(v0 + s->first_vertex, fresh.v + t->first_vertex, s->nvertex * sizeof(*g.v)))
			want[nw++] = f;
	}
	assert_int_equal(nw, 16);
	assert_int_equal(g.faces_rewritten - written, 16);
	dirty_is_exactly(&g, want, nw);
	mesh_ok(&g, &m, true);
	free(v0);
	gfx_mesh_fini(&fresh);
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
}

static void removed_faces_leave_degenerate_triangles_and_added_ones_append(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	struct gfx_mesh g;
	struct mf_patch *p = mf_cube_setup(&m, &j, 6);
	gfx_mesh_init(&g, MF_MESH_ID);
	upd(&g, &m, false, 1);
	gfx_mesh_take_dirty(&g);
	uint32_t s = slot_of(&m, 102);
	struct gfx_face_span old = g.face[s];
	uint32_t nedge = g.nedge_index;
	mf_p_remove(p, 102);
	mf_expect_applied(&m, p, &j);
	upd(&g, &m, false, 1);
	assert_int_equal(g.face[s].nvertex, 0);
	assert_int_equal(g.nv, 24);
	assert_int_equal(g.nindex, 36);
	assert_int_equal(g.dead_v, 4);
	assert_int_equal(g.dead_index, 6);
	for (uint32_t t = 0; t < old.nindex; t++)
		assert_int_equal(g.index[old.first_index + t], old.first_vertex);
	/* Only the freed index range is dirty; no vertex. */
	assert_int_equal(g.ndirty_v, 0);
	assert_int_equal(g.ndirty_index, 1);
	assert_int_equal(g.dirty_index[0].first, old.first_index);
	assert_int_equal(g.dirty_index[0].count, old.nindex);
	/* The top's four edges are boundaries now: still 12 edges. */
	assert_true(g.wire_dirty);
	assert_int_equal(g.nedge_index, nedge);
	mesh_ok(&g, &m, false);
	/* The top again (a new id): appended at the end. */
	gfx_mesh_take_dirty(&g);
	mf_p_face(p, 202, 0, 4, mf_cube_faces[1]);
	mf_expect_applied(&m, p, &j);
	upd(&g, &m, false, 1);
	uint32_t s2 = slot_of(&m, 202);
	assert_int_equal(g.face[s2].first_vertex, 24);
	assert_int_equal(g.face[s2].first_index, 36);
	assert_int_equal(g.nv, 28);
	assert_int_equal(g.nindex, 42);
	dirty_is_exactly(&g, &s2, 1);
	mesh_ok(&g, &m, false);
	/* A face replaced by one of another corner count in the same slot (a
	 * corner put on the front's bottom edge makes the front and bottom
	 * pentagons): both move to the end. */
	gfx_mesh_take_dirty(&g);
	struct th_patch tp;
	const char *why = NULL;
	th_patch_init(&tp);
	assert_int_equal(th_op_vertex_on_edge(&m, 1, 2, 0.5f, &tp, &why), 0);
	mf_patch_applied(&m, &tp, 7, &j);
	th_patch_fini(&tp);
	uint32_t nv = g.nv;
	upd(&g, &m, false, 1);
	assert_int_equal(g.nv, nv + 10);
	assert_int_equal(g.dead_v, 4 + 8);
	mesh_ok(&g, &m, false);
	gfx_mesh_fini(&g);
	mf_teardown(&m, &j, p);
}

static void grid(struct th_prim *pp) { pp->subdiv = 8; } /* 9 x 9 quads */

static int by_row(const void *a, const void *b)
{
	const float *p = a, *q = b; /* z, x, slot */
	return p[0] != q[0] ? (p[0] < q[0] ? -1 : 1) : p[1] != q[1] ? (p[1] < q[1] ? -1 : 1) : 0;
}

static void many_removals_compact(void **state)
{
	struct th_mesh m;
	struct gfx_mesh g;
	built(&m, &g, TH_PRIM_PLANE, grid, false);
	uint64_t tv, ti;
	uint32_t nf = count_faces(&m, &tv, &ti), removed = 0;
	assert_true(nf >= 64);
	gfx_mesh_take_dirty(&g);
	/* The faces row by row (so no vertex is left a bowtie), one patch each. */
	float (*order)[3] = malloc(nf * sizeof(*order));
	assert_non_null(order);
	for (uint32_t f = 0; f < nf; f++) {
		float nrm[3], c[3];
		assert_int_equal(th_mesh_face_normal(&m, (int32_t)f, nrm, c), 0);
		order[f][0] = c[2];
		order[f][1] = c[0];
		order[f][2] = (float)f;
	}
	qsort(order, nf, sizeof(*order), by_row);
	struct mf_patch *p = mf_patch_new();
	uint64_t rebuilds = g.rebuilds;
	for (uint32_t k = 0; k < nf && g.rebuilds == rebuilds; k++) {
		mf_p_remove(p, m.faces[(uint32_t)order[k][2]].id);
		mf_expect_applied(&m, p, NULL);
		removed++;
		upd(&g, &m, false, 1);
		mesh_ok(&g, &m, false);
		if (g.rebuilds == rebuilds) {
			assert_false(g.full);
			assert_int_equal(g.dead_v, 4 * removed);
			assert_int_equal(g.nv, 4 * nf);
		}
	}
	/* The update that would have left more than half dead packed the
	 * arrays instead. */
	assert_int_equal(g.rebuilds, rebuilds + 1);
	assert_true(g.full);
	assert_int_equal(removed, nf / 2 + 1);
	assert_int_equal(g.dead_v, 0);
	assert_int_equal(g.dead_index, 0);
	count_faces(&m, &tv, &ti);
	assert_int_equal(g.nv, tv);
	assert_int_equal(g.nindex, ti);
	assert_int_equal(g.nv, 4 * (nf - removed));
	mesh_ok(&g, &m, false);
	free(order);
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
	free(p);
}

static void grid17(struct th_prim *pp) { pp->subdiv = 16; }

static void more_scattered_faces_than_ranges_merge(void **state)
{
	struct th_mesh m;
	struct gfx_mesh g;
	built(&m, &g, TH_PRIM_PLANE, grid17, false);
	gfx_mesh_take_dirty(&g);
	/* Every other face slot gets a material: more faces apart from each
	 * other than GFX_MESH_DIRTY_MAX ranges. */
	struct th_patch tp;
	th_patch_init(&tp);
	uint32_t n = 0;
	for (uint32_t f = 0; f < m.nfaces; f += 2, n++)
		assert_int_equal(th_patch_face_material(&tp, m.faces[f].id, 3), 0);
	assert_true(n > GFX_MESH_DIRTY_MAX);
	mf_patch_applied(&m, &tp, 2, NULL);
	th_patch_fini(&tp);
	uint64_t written = g.faces_rewritten;
	upd(&g, &m, false, 1);
	assert_int_equal(g.faces_rewritten - written, n);
	assert_true(g.ndirty_v >= 1 && g.ndirty_v <= GFX_MESH_DIRTY_MAX);
	assert_true(g.ndirty_index >= 1 && g.ndirty_index <= GFX_MESH_DIRTY_MAX);
	/* Every rewritten element is covered. */
	uint8_t *dv = range_set(g.dirty_v, g.ndirty_v, g.nv), *di = range_set(g.dirty_index, g.ndirty_index, g.nindex);
	for (uint32_t f = 0; f < m.nfaces; f += 2) {
		for (unsigned k = 0; k < 4; k++)
			assert_true(dv[g.face[f].first_vertex + k]);
		for (unsigned k = 0; k < 6; k++)
			assert_true(di[g.face[f].first_index + k]);
	}
	free(dv);
	free(di);
	mesh_ok(&g, &m, false);
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
}

static void smooth_normals_agree_on_shared_vertices(void **state)
{
	struct th_mesh m;
	struct gfx_mesh g;
	built(&m, &g, TH_PRIM_ICOSPHERE, NULL, true);
	mesh_ok(&g, &m, true);
	/* Every corner of a vertex carries one normal, close to the sphere's. */
	float (*seen)[3] = calloc(m.nverts, sizeof(*seen));
	uint8_t *has = calloc(m.nverts, 1);
	assert_non_null(seen);
	assert_non_null(has);
	for (uint32_t f = 0; f < m.nfaces; f++) {
		int32_t vs[TH_MESH_FACE_VERTS_MAX];
		float pts[TH_MESH_FACE_VERTS_MAX][3];
		unsigned n = gfx_face_corners(&m, f, vs, pts);
		for (unsigned k = 0; k < n; k++) {
			const float *nv = g.v[g.face[f].first_vertex + k].normal;
			if (has[vs[k]])
				assert_memory_equal(seen[vs[k]], nv, sizeof(seen[0]));
			memcpy(seen[vs[k]], nv, sizeof(seen[0]));
			has[vs[k]] = 1;
			double l = sqrt((double)pts[k][0] * pts[k][0] + pts[k][1] * pts[k][1] + pts[k][2] * pts[k][2]);
			double d = (nv[0] * pts[k][0] + nv[1] * pts[k][1] + nv[2] * pts[k][2]) / l;
			assert_true(d > 0.99);
		}
	}
	free(seen);
	free(has);
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
	/* A cube's corners point along its diagonals; flat, along the axes. */
	mf_build_cube(&m, NULL, 6);
	gfx_mesh_init(&g, MF_MESH_ID);
	upd(&g, &m, true, 1);
	for (uint32_t i = 0; i < g.nv; i++) {
		const struct gfx_vertex *v = &g.v[i];
		for (int d = 0; d < 3; d++) {
			float want = (v->pos[d] > 0.5f ? 1 : -1) / sqrtf(3);
			assert_true(fabsf(v->normal[d] - want) < 1e-6f);
		}
	}
	upd(&g, &m, false, 1);
	for (uint32_t i = 0; i < g.nv; i++) {
		const float *nv = g.v[i].normal;
		assert_true(fabsf(fabsf(nv[0]) + fabsf(nv[1]) + fabsf(nv[2]) - 1) < 1e-6f);
	}
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
}

static void an_unchanged_mesh_gives_0(void **state)
{
	struct th_mesh m, copy;
	struct gfx_mesh g;
	struct th_journal j;
	struct mf_patch *p = mf_cube_setup(&m, &j, 6);
	gfx_mesh_init(&g, MF_MESH_ID);
	upd(&g, &m, false, 1);
	gfx_mesh_take_dirty(&g);
	uint64_t written = g.faces_rewritten, updates = g.updates;
	upd(&g, &m, false, 0);
	assert_int_equal(g.updates, updates); /* same pointer and version: not even compared */
	/* A copy (another pointer, another version, the same contents). */
	assert_int_equal(th_mesh_copy(&copy, &m), 0);
	upd(&g, &copy, false, 0);
	assert_int_equal(g.updates, updates + 1);
	/* A change that changes nothing: a vertex moved onto itself. */
	const float *at = m.verts[th_mesh_vert_find(&m, 3)].pos;
	mf_p_move(p, 3, at[0], at[1], at[2]);
	mf_expect_applied(&m, p, &j);
	upd(&g, &m, false, 0);
	assert_int_equal(g.faces_rewritten, written);
	assert_false(g.full || g.wire_dirty || g.ndirty_v || g.ndirty_index);
	/* Smooth is another build. */
	upd(&g, &m, true, 1);
	assert_true(g.full);
	upd(&g, &m, true, 0);
	/* Another mesh's id is refused. */
	struct th_mesh other;
	assert_int_equal(th_mesh_init(&other, MF_MESH_ID + 1), 0);
	upd(&g, &other, true, -EINVAL);
	th_mesh_fini(&other);
	/* An empty mesh: nothing to draw. */
	struct gfx_mesh e;
	struct th_mesh em;
	assert_int_equal(th_mesh_init(&em, 5), 0);
	gfx_mesh_init(&e, 5);
	upd(&e, &em, false, 1);
	assert_int_equal(e.nv, 0);
	assert_int_equal(e.nindex, 0);
	upd(&e, &em, false, 0);
	gfx_mesh_fini(&e);
	th_mesh_fini(&em);
	th_mesh_fini(&copy);
	gfx_mesh_fini(&g);
	mf_teardown(&m, &j, p);
}

/* ---- random patches ----------------------------------------------------------------- */

/* What an uploader holds: the arrays as of the last copy, fed only what
 * the dirty record names. */
struct shadow {
	struct gfx_vertex *v;
	uint32_t *index;
	uint32_t nv, nindex;
};

static void shadow_upload(struct shadow *sh, struct gfx_mesh *g)
{
	sh->v = realloc(sh->v, (g->nv + 1) * sizeof(*sh->v));
	sh->index = realloc(sh->index, (g->nindex + 1) * sizeof(*sh->index));
	assert_non_null(sh->v);
	assert_non_null(sh->index);
	if (g->full) {
		memcpy(sh->v, g->v, g->nv * sizeof(*sh->v));
		memcpy(sh->index, g->index, g->nindex * sizeof(*sh->index));
	} else {
		for (uint32_t i = 0; i < g->ndirty_v; i++) {
			assert_true(g->dirty_v[i].first + g->dirty_v[i].count <= g->nv);
			memcpy(sh->v + g->dirty_v[i].first, g->v + g->dirty_v[i].first, g->dirty_v[i].count * sizeof(*sh->v));
		}
		for (uint32_t i = 0; i < g->ndirty_index; i++) {
			assert_true(g->dirty_index[i].first + g->dirty_index[i].count <= g->nindex);
			memcpy(sh->index + g->dirty_index[i].first, g->index + g->dirty_index[i].first,
			       g->dirty_index[i].count * sizeof(*sh->index));
		}
	}
	sh->nv = g->nv;
	sh->nindex = g->nindex;
	gfx_mesh_take_dirty(g);
}

/* What the GPU draws from the shadow equals what g holds: every index, and
 * every vertex a live span holds. */
static void shadow_matches(const struct shadow *sh, const struct gfx_mesh *g)
{
	assert_int_equal(sh->nindex, g->nindex);
	assert_memory_equal(sh->index, g->index, g->nindex * sizeof(*g->index));
	for (uint32_t f = 0; f < g->nface; f++) {
		const struct gfx_face_span *s = &g->face[f];
		if (s->nvertex)
			assert_memory_equal(sh->v + s->first_vertex, g->v + s->first_vertex, s->nvertex * sizeof(*g->v));
	}
}

/* a (incremental) and b (fresh) agree face by face, wherever their spans sit. */
static void same_up_to_placement(const struct gfx_mesh *a, const struct gfx_mesh *b)
{
	assert_int_equal(a->nface, b->nface);
	assert_int_equal(a->nv - a->dead_v, b->nv);
	assert_int_equal(a->nindex - a->dead_index, b->nindex);
	for (uint32_t f = 0; f < a->nface; f++) {
		const struct gfx_face_span *s = &a->face[f], *t = &b->face[f];
		assert_int_equal(s->nvertex, t->nvertex);
		assert_int_equal(s->nindex, t->nindex);
		assert_true(s->sig == t->sig && s->topo == t->topo);
		if (!s->nvertex)
			continue;
		assert_memory_equal(a->v + s->first_vertex, b->v + t->first_vertex, s->nvertex * sizeof(*a->v));
		for (uint32_t k = 0; k < s->nindex; k++)
			assert_int_equal(a->index[s->first_index + k] - s->first_vertex, b->index[t->first_index + k] - t->first_vertex);
	}
	assert_int_equal(a->nwire, b->nwire);
	assert_memory_equal(a->wire_pos, b->wire_pos, a->nwire * sizeof(*a->wire_pos));
	assert_int_equal(a->nedge_index, b->nedge_index);
	assert_memory_equal(a->edge_index, b->edge_index, a->nedge_index * sizeof(*a->edge_index));
}

static uint64_t random_face(const struct th_mesh *m)
{
	if (!m->live_faces)
		return 0;
	for (;;) {
		uint32_t f = mf_rn(m->nfaces);
		if (m->faces[f].id)
			return m->faces[f].id;
	}
}

static uint64_t random_vert(const struct th_mesh *m)
{
	for (;;) {
		uint32_t v = mf_rn(m->nverts);
		if (m->verts[v].id)
			return m->verts[v].id;
	}
}

/* One random patch of the kinds the editor sends: moves, materials,
 * deletions, a corner on an edge or in a face, extrusion, subdivision. */
static int random_patch(const struct th_mesh *m, struct th_patch *tp)
{
	const char *why = NULL;
	uint64_t f = random_face(m);
	switch (mf_rn(11)) {
	case 0:
	case 1: { /* a few vertices moved */
		for (unsigned k = 1 + mf_rn(4); k; k--) {
			uint64_t v = random_vert(m);
			const float *p = m->verts[th_mesh_vert_find(m, v)].pos;
			float to[3];
			for (int d = 0; d < 3; d++)
				to[d] = p[d] + (float)mf_rn(100) / 400 - 0.125f;
			th_patch_vertex_move(tp, v, to);
		}
		return 0;
	}
	case 2:
		return f ? th_patch_face_material(tp, f, mf_rn(4)) : -EINVAL;
	case 3:
		return f && m->live_faces > 8 ? th_op_delete(m, NULL, 0, NULL, NULL, 0, &f, 1, tp, &why) : -EINVAL;
	case 4: {
		int32_t s = f ? th_mesh_face_find(m, f) : TH_MESH_NONE;
		if (s == TH_MESH_NONE)
			return -EINVAL;
		int32_t h = m->faces[s].he;
		return th_op_vertex_on_edge(m, m->verts[m->hes[h].vert].id, m->verts[m->hes[m->hes[h].next].vert].id,
					    0.25f + 0.5f * (float)mf_rn(2), tp, &why);
	}
	case 5: {
		int32_t s = f ? th_mesh_face_find(m, f) : TH_MESH_NONE;
		float c[3], nrm[3];
		if (s == TH_MESH_NONE || th_mesh_face_normal(m, s, nrm, c))
			return -EINVAL;
		return th_op_vertex_on_face(m, f, c, tp, &why);
	}
	case 6: { /* a quarter of the faces (up to 64) deleted at once */
		uint64_t fs[64];
		unsigned n = 0;
		for (unsigned k = m->live_faces / 4; k && n < 64 && m->live_faces > 8; k--) {
			uint64_t id = random_face(m);
			bool dup = false;
			for (unsigned i = 0; i < n; i++)
				dup |= fs[i] == id;
			if (!dup)
				fs[n++] = id;
		}
		return n ? th_op_delete(m, NULL, 0, NULL, NULL, 0, fs, n, tp, &why) : -EINVAL;
	}
	case 7:
		return f ? th_op_extrude_faces(m, &f, 1, NULL, 0.1f, false, tp, &why) : -EINVAL;
	default:
		return f ? th_op_subdivide(m, &f, 1, tp, &why) : -EINVAL;
	}
}

#define RANDOM_STEPS 1000u

static void random_patches_keep_the_incremental_build_equal_to_a_fresh_one(void **state)
{
	struct th_mesh m;
	struct th_journal j;
	struct gfx_mesh g;
	struct shadow sh = { 0 };
	size_t marks[RANDOM_STEPS];
	unsigned nmarks = 0, applied = 0, undone = 0, copies = 0, toggles = 0;
	th_journal_init(&j, 0);
	prim_mesh(&m, TH_PRIM_CUBE, NULL);
	gfx_mesh_init(&g, MF_MESH_ID);
	mf_rng = 0x67667820u;
	bool smooth = false;
	for (unsigned step = 0; step < RANDOM_STEPS; step++) {
		struct th_mesh copy;
		const struct th_mesh *show = &m;
		unsigned what = mf_rn(24);
		if (what == 0) {
			smooth = !smooth;
			toggles++;
		} else if (what <= 2 && nmarks) { /* undo the newest patches */
			for (unsigned k = 1 + mf_rn(3); k && nmarks; k--)
				mf_undo_to(&m, &j, marks[--nmarks]);
			undone++;
		} else {
			struct th_patch tp;
			th_patch_init(&tp);
			if (!random_patch(&m, &tp) && tp.n) {
				marks[nmarks++] = th_journal_mark(&j);
				mf_patch_applied(&m, &tp, 10 + step, &j);
				applied++;
			}
			th_patch_fini(&tp);
		}
		if (mf_rn(8) == 0) { /* a preview's copy: another mesh, the same id */
			assert_int_equal(th_mesh_copy(&copy, &m), 0);
			show = &copy;
			copies++;
		}
		int r = gfx_mesh_update(&g, show, smooth);
		assert_true(r == 0 || r == 1);
		struct gfx_mesh fresh;
		gfx_mesh_init(&fresh, MF_MESH_ID);
		upd(&fresh, show, smooth, 1);
		/* Random moves can fold a face over itself: no geometry checks. */
		mesh_check(&g, show, smooth, false);
		same_up_to_placement(&g, &fresh);
		shadow_upload(&sh, &g);
		shadow_matches(&sh, &g);
		gfx_mesh_fini(&fresh);
		if (show == &copy)
			th_mesh_fini(&copy);
	}
	/* The sequence did what it is for. */
	print_message("%u patches, %u undos, %u copies, %u shading changes; %u faces; %" PRIu64 " rebuilds, %" PRIu64
		      " faces written\n",
		      applied, undone, copies, toggles, m.live_faces, g.rebuilds, g.faces_rewritten);
	assert_true(applied > RANDOM_STEPS / 2);
	assert_true(undone > 10 && copies > 20 && toggles > 5);
	assert_true(g.rebuilds > toggles + 1); /* compactions too */
	free(sh.v);
	free(sh.index);
	gfx_mesh_fini(&g);
	th_mesh_fini(&m);
	th_journal_fini(&j);
}

/* ---- running out of memory ---------------------------------------------------------- */

/* What must not change when an update fails. */
struct snap {
	struct gfx_vertex *v;
	uint32_t *index;
	struct gfx_face_span *face;
	uint32_t nv, nindex, nface, nwire, nedge_index;
};

static void *dup_of(const void *p, size_t n)
{
	void *q = malloc(n + 1);
	assert_non_null(q);
	memcpy(q, p, n);
	return q;
}

static struct snap snap_of(const struct gfx_mesh *g)
{
	return (struct snap){ .v = dup_of(g->v, g->nv * sizeof(*g->v)),
			      .index = dup_of(g->index, g->nindex * sizeof(*g->index)),
			      .face = dup_of(g->face, g->nface * sizeof(*g->face)),
			      .nv = g->nv,
			      .nindex = g->nindex,
			      .nface = g->nface,
			      .nwire = g->nwire,
			      .nedge_index = g->nedge_index };
}

static void snap_same(const struct snap *s, const struct gfx_mesh *g)
{
	assert_int_equal(g->nv, s->nv);
	assert_int_equal(g->nindex, s->nindex);
	assert_int_equal(g->nface, s->nface);
	assert_int_equal(g->nwire, s->nwire);
	assert_int_equal(g->nedge_index, s->nedge_index);
	assert_memory_equal(g->v, s->v, s->nv * sizeof(*g->v));
	assert_memory_equal(g->index, s->index, s->nindex * sizeof(*g->index));
	assert_memory_equal(g->face, s->face, s->nface * sizeof(*g->face));
}

static void snap_free(struct snap *s)
{
	free(s->v);
	free(s->index);
	free(s->face);
}

static void an_allocation_failure_keeps_the_old_contents(void **state)
{
	const char *no_af = th_af_unavailable();
	if (no_af) {
		printf("SKIP: %s\n", no_af);
		skip();
	}
	struct th_mesh small, big;
	mf_build_cube(&small, NULL, 6);
	/* The cube grown past every array's first capacity: 16 x 16 quads
	 * subdivided from its top, smooth. */
	assert_int_equal(th_mesh_copy(&big, &small), 0);
	for (unsigned k = 0; k < 4; k++) {
		struct th_patch tp;
		const char *why = NULL;
		uint64_t ids[1024];
		unsigned n = 0;
		for (uint32_t f = 0; f < big.nfaces && n < 1024; f++)
			if (big.faces[f].id)
				ids[n++] = big.faces[f].id;
		th_patch_init(&tp);
		assert_int_equal(th_op_subdivide(&big, ids, n, &tp, &why), 0);
		mf_patch_applied(&big, &tp, 1 + k, NULL);
		th_patch_fini(&tp);
	}
	assert_true(big.live_faces > 1000);
	long failures = 0;
	for (long n = 0;; n++) {
		struct gfx_mesh g;
		long live = th_af_live;
		gfx_mesh_init(&g, MF_MESH_ID);
		upd(&g, &small, false, 1);
		gfx_mesh_take_dirty(&g);
		struct snap before = snap_of(&g);
		th_af_countdown = n;
		int r = gfx_mesh_update(&g, &big, true);
		th_af_countdown = -1;
		if (r == 1) {
			mesh_ok(&g, &big, true);
			snap_free(&before);
			gfx_mesh_fini(&g);
			assert_int_equal(th_af_live, live);
			break;
		}
		failures++;
		assert_int_equal(r, -ENOMEM);
		snap_same(&before, &g);
		assert_true(g.full); /* the next success uploads everything */
		/* The same call again succeeds and is right. */
		upd(&g, &big, true, 1);
		assert_true(g.full);
		mesh_ok(&g, &big, true);
		snap_free(&before);
		gfx_mesh_fini(&g);
		assert_int_equal(th_af_live, live); /* nothing leaked */
	}
	print_message("%ld allocation failures injected, each -ENOMEM with the arrays as they were\n", failures);
	assert_true(failures >= 5);
	th_mesh_fini(&small);
	th_mesh_fini(&big);
}

/* Two meshes of the same id whose vertex slots hold the same positions but
 * other vertices: the triangle over them is the same, its corners' slots
 * (the wire's edges) are not. */
static void another_vertex_in_a_slot_at_the_same_place_is_noticed(void **state)
{
	struct th_mesh a, b;
	struct gfx_mesh g, fresh;
	struct mf_patch *p = mf_patch_new();
	const uint64_t tri[3] = { 1, 3, 4 };
	assert_int_equal(th_mesh_init(&a, MF_MESH_ID), 0);
	assert_int_equal(th_mesh_init(&b, MF_MESH_ID), 0);
	/* a: 1 (the corner) in slot 0 and 2 (free, at the same place) in slot
	 * 1; b the other way round. */
	mf_p_vert(p, 1, 0, 0, 0);
	mf_p_vert(p, 2, 0, 0, 0);
	mf_p_vert(p, 3, 1, 0, 0);
	mf_p_vert(p, 4, 0, 1, 0);
	mf_p_face(p, 100, 0, 3, tri);
	mf_expect_applied(&a, p, NULL);
	mf_p_vert(p, 2, 0, 0, 0);
	mf_p_vert(p, 1, 0, 0, 0);
	mf_p_vert(p, 3, 1, 0, 0);
	mf_p_vert(p, 4, 0, 1, 0);
	mf_p_face(p, 100, 0, 3, tri);
	mf_expect_applied(&b, p, NULL);
	assert_true(th_mesh_vert_find(&a, 1) != th_mesh_vert_find(&b, 1));
	assert_int_equal(th_mesh_face_find(&a, 100), th_mesh_face_find(&b, 100));
	gfx_mesh_init(&g, MF_MESH_ID);
	upd(&g, &a, false, 1);
	gfx_mesh_take_dirty(&g);
	upd(&g, &b, false, 1);
	assert_true(g.wire_dirty);
	gfx_mesh_init(&fresh, MF_MESH_ID);
	upd(&fresh, &b, false, 1);
	same_up_to_placement(&g, &fresh);
	mesh_ok(&g, &b, false);
	gfx_mesh_fini(&fresh);
	gfx_mesh_fini(&g);
	th_mesh_fini(&a);
	th_mesh_fini(&b);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(primitives_give_the_known_counts),
		cmocka_unit_test(every_triangle_lies_in_its_face),
		cmocka_unit_test(concave_loops_triangulate_right),
		cmocka_unit_test(a_concave_face_in_a_mesh_draws_right),
		cmocka_unit_test(moving_one_vertex_rewrites_only_its_faces),
		cmocka_unit_test(smooth_shading_rewrites_the_faces_whose_normals_changed),
		cmocka_unit_test(removed_faces_leave_degenerate_triangles_and_added_ones_append),
		cmocka_unit_test(many_removals_compact),
		cmocka_unit_test(more_scattered_faces_than_ranges_merge),
		cmocka_unit_test(smooth_normals_agree_on_shared_vertices),
		cmocka_unit_test(an_unchanged_mesh_gives_0),
		cmocka_unit_test(another_vertex_in_a_slot_at_the_same_place_is_noticed),
		cmocka_unit_test(random_patches_keep_the_incremental_build_equal_to_a_fresh_one),
		cmocka_unit_test(an_allocation_failure_keeps_the_old_contents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
