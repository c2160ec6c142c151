/* Ray picking over a scene (edit/edit_ray.h): the nearest face crossed
 * through each entity's transform (rotation, non-uniform and negative
 * scale, a flattening zero scale), checked against a reference in world
 * space and double precision on random rays; edges and vertices within the
 * angular tolerance; ties; the empty scene; rays refused; the plane. */
#include "edit_fix.h"

#include <float.h>
#include <math.h>

#include "edit/edit_ray.h"
#include "th_allocfail.h"
#include "th_meshfix.h"

/* ---- the reference: world space, double precision ------------------------------ */

struct ref_hit {
	double t;
	double margin; /* the hit's barycentric distance to the polygon's boundary */
};

/* Face slot f of m shown with xf against the ray: the nearest crossing of
 * its fan of triangles (world space) with t in [0, tmax]. */
static bool ref_face(const struct th_mesh *m, const struct th_c_transform *xf, int32_t f, const double o[3],
		     const double d[3], double tmax, struct ref_hit *out)
{
	double c[TH_MESH_FACE_VERTS_MAX][3];
	unsigned n = 0;
	int32_t h0 = m->faces[f].he, h = h0;
	do {
		float w[3];
		edit_xf_point_to_world(xf, m->verts[m->hes[h].vert].pos, w);
		for (int k = 0; k < 3; k++)
			c[n][k] = w[k];
		n++;
		h = m->hes[h].next;
	} while (h != h0 && n < TH_MESH_FACE_VERTS_MAX);
	bool got = false;
	for (unsigned i = 1; i + 1 < n; i++) {
		double e1[3], e2[3], p[3], s[3], q[3];
		for (int k = 0; k < 3; k++) {
			e1[k] = c[i][k] - c[0][k];
			e2[k] = c[i + 1][k] - c[0][k];
			s[k] = o[k] - c[0][k];
		}
		p[0] = d[1] * e2[2] - d[2] * e2[1];
		p[1] = d[2] * e2[0] - d[0] * e2[2];
		p[2] = d[0] * e2[1] - d[1] * e2[0];
		double det = e1[0] * p[0] + e1[1] * p[1] + e1[2] * p[2];
		if (fabs(det) < 1e-15)
			continue;
		double u = (s[0] * p[0] + s[1] * p[1] + s[2] * p[2]) / det;
		q[0] = s[1] * e1[2] - s[2] * e1[1];
		q[1] = s[2] * e1[0] - s[0] * e1[2];
		q[2] = s[0] * e1[1] - s[1] * e1[0];
		double v = (d[0] * q[0] + d[1] * q[1] + d[2] * q[2]) / det;
		double t = (e2[0] * q[0] + e2[1] * q[1] + e2[2] * q[2]) / det;
		double w = 1 - u - v;
		/* The boundary: edge i, i+1 always (w); 0, 1 for the first
		 * triangle (v), n-1, 0 for the last (u). */
		double margin = w;
		if (i == 1)
			margin = fmin(margin, v);
		if (i + 2 == n)
			margin = fmin(margin, u);
		if (u < -1e-9 || v < -1e-9 || w < -1e-9 || t < 0 || t > tmax)
			continue;
		if (!got || t < out->t) {
			out->t = t;
			out->margin = margin;
			got = true;
		}
	}
	return got;
}

/* ---- scenes ----------------------------------------------------------------------- */

static uint64_t prim_entity(struct ef *f, uint32_t kind, const struct th_c_transform *xf)
{
	struct th_prim pp;
	th_prim_defaults(&pp, kind);
	if (kind == TH_PRIM_CUBE)
		pp.subdiv = 2;
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
	uint64_t e = ef_create(f, &f->other, xf->position, &p);
	th_patch_fini(&p);
	assert_int_equal(sh_transform_write_trs(&f->log, &f->other, e, xf), 0);
	ef_fold(f);
	return e;
}

static const struct th_c_transform identity = { .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };

static uint64_t cube_at(struct ef *f, const float pos[3], float size)
{
	return ef_cube(f, &f->other, pos, size);
}

/* ---- cases ------------------------------------------------------------------------ */

static struct edit_rays *rays_new(void)
{
	struct edit_rays *c;
	assert_int_equal(edit_rays_create(&c), 0);
	return c;
}

static void the_nearest_face_of_a_cube(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	struct edit_rays *c = rays_new();
	const struct th_mesh *m = ef_mesh_of(f, e);
	/* From 1 m in front of the cube (centre 0 1 -0.5, 20 cm) towards it. */
	struct edit_ray r = { .origin = { 0.03f, 1.02f, 0.5f }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_FACE };
	struct edit_hit h;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_int_equal(h.entity, e);
	assert_int_equal(h.mesh, m->id);
	assert_int_equal(h.mode, TH_SELECT_FACE);
	int32_t fs = th_mesh_face_find(m, h.element);
	assert_true(fs >= 0);
	float n[3], ctr[3];
	assert_int_equal(th_mesh_face_normal(m, fs, n, ctr), 0);
	assert_float_equal(n[2], 1, 1e-6); /* the +z face, not the -z one behind it */
	assert_float_equal(h.dist, 0.9f, 1e-5);
	assert_float_equal(h.point[0], 0.03f, 1e-6);
	assert_float_equal(h.point[2], -0.4f, 1e-5);
	/* Not normalised: the same answer. */
	r.dir[2] = -7;
	struct edit_hit h2;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h2), 1);
	assert_int_equal(h2.element, h.element);
	assert_float_equal(h2.dist, h.dist, 1e-6);
	/* The object: the whole. */
	r.mode = TH_SELECT_OBJECT;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h2), 1);
	assert_int_equal(h2.mode, TH_SELECT_OBJECT);
	assert_int_equal(h2.element, TH_SELECT_WHOLE);
	assert_int_equal(h2.entity, e);
	/* From inside: the face ahead (both sides count). */
	r = (struct edit_ray){ .origin = { 0, 1, -0.5f }, .dir = { 0, 1, 0 }, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_float_equal(h.dist, 0.1f, 1e-6);
	/* Away from it, past it, short of it: nothing. */
	r = (struct edit_ray){ .origin = { 0, 1, 0.5f }, .dir = { 0, 0, 1 }, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	r = (struct edit_ray){ .origin = { 0.2f, 1, 0.5f }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	r = (struct edit_ray){ .origin = { 0, 1, 0.5f }, .dir = { 0, 0, -1 }, .max_dist = 0.85f, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	r.max_dist = 0.95f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	/* Beyond EDIT_RAY_MAX_DIST by default. */
	r = (struct edit_ray){ .origin = { 0, 1, 2000 }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	r.max_dist = 3000;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	edit_rays_destroy(&c);
	assert_null(c);
	ef_free(f);
}

static void the_nearest_of_several_entities_and_ties(void **state)
{
	struct ef *f = ef_new(NULL);
	struct edit_rays *c = rays_new();
	uint64_t near = cube_at(f, (float[3]){ 0, 0, -1 }, 0.2f);
	uint64_t far = cube_at(f, (float[3]){ 0, 0, -2 }, 0.2f);
	struct edit_ray r = { .origin = { 0, 0, 0 }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_OBJECT };
	struct edit_hit h;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_int_equal(h.entity, near);
	assert_float_equal(h.dist, 0.9f, 1e-6);
	r.origin[2] = -3;
	r.dir[2] = 1;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_int_equal(h.entity, far);
	/* Two cubes in the same place: the lower entity id, every time. */
	uint64_t twin = cube_at(f, (float[3]){ 0, 0, -2 }, 0.2f);
	uint64_t lo = twin < far ? twin : far;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
		assert_int_equal(h.entity, lo);
		assert_float_equal(h.dist, 0.9f, 1e-6);
	}
	/* Within one mesh: two quads at the same place (their own vertices)
	 * cross the ray at the same t: the lower face id. */
	struct th_patch p;
	th_patch_init(&p);
	uint64_t dup_e;
	{
		int v[8];
		for (int i = 0; i < 8; i++)
			v[i] = th_patch_vertex_add(&p, (float[3]){ (i & 1) ? 0.1f : -0.1f, (i & 2) ? 0.1f : -0.1f, 0 });
		for (int q = 0; q < 2; q++) {
			struct th_pref cs[4] = { th_pref_local((uint32_t)v[4 * q]), th_pref_local((uint32_t)v[4 * q + 1]),
						 th_pref_local((uint32_t)v[4 * q + 3]), th_pref_local((uint32_t)v[4 * q + 2]) };
			assert_int_equal(th_patch_face_add(&p, 0, cs, 4), 0);
		}
		dup_e = ef_create(f, &f->other, (float[3]){ 5, 0, 0 }, &p);
	}
	th_patch_fini(&p);
	r = (struct edit_ray){ .origin = { 5.02f, 0.01f, 1 }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_int_equal(h.entity, dup_e);
	const struct th_mesh *m = ef_mesh_of(f, dup_e);
	uint64_t lowest = UINT64_MAX;
	unsigned faces = 0;
	for (uint32_t s = 0; s < m->nfaces; s++)
		if (m->faces[s].id) {
			faces++;
			lowest = m->faces[s].id < lowest ? m->faces[s].id : lowest;
		}
	assert_int_equal(faces, 2);
	assert_int_equal(h.element, lowest);
	assert_float_equal(h.dist, 1, 1e-6);
	edit_rays_destroy(&c);
	ef_free(f);
}

static void rotation_and_non_uniform_scale(void **state)
{
	struct ef *f = ef_new(NULL);
	struct edit_rays *c = rays_new();
	uint64_t e = cube_at(f, (float[3]){ 0, 0, 0 }, 0.2f);
	/* Turned 90 degrees about y, stretched 3x along its x (to world -z). */
	struct th_c_transform t = { .position = { 1, 0, 0 }, .rotation = { 0, sinf((float)M_PI / 4), 0,
									   cosf((float)M_PI / 4) },
				    .scale = { 3, 1, 1 } };
	assert_int_equal(sh_transform_write_trs(&f->log, &f->other, e, &t), 0);
	ef_fold(f);
	const struct th_mesh *m = ef_mesh_of(f, e);
	/* Along -z at x = 1 from z = 1: the stretched side is at z = 0.3. */
	struct edit_ray r = { .origin = { 1, 0, 1 }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_FACE };
	struct edit_hit h;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_float_equal(h.dist, 0.7f, 1e-5);
	int32_t fs = th_mesh_face_find(m, h.element);
	float n[3], ctr[3];
	assert_int_equal(th_mesh_face_normal(m, fs, n, ctr), 0);
	assert_float_equal(n[0], -1, 1e-6); /* mesh -x turns to world +z */
	/* At x = 1.15 it misses (the unstretched side is 10 cm wide). */
	r.origin[0] = 1.15f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	/* But along x at z = -0.25 (inside the stretch) it hits the side at x = 0.9. */
	r = (struct edit_ray){ .origin = { 0, 0, -0.25f }, .dir = { 1, 0, 0 }, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_float_equal(h.dist, 0.9f, 1e-5);
	assert_float_equal(h.point[2], -0.25f, 1e-6);
	/* A zero scale flattens it to a square in the plane y = 0: still hit. */
	t = identity;
	t.scale[1] = 0;
	assert_int_equal(sh_transform_write_trs(&f->log, &f->other, e, &t), 0);
	ef_fold(f);
	r = (struct edit_ray){ .origin = { 0.05f, 2, 0.05f }, .dir = { 0, -1, 0 }, .mode = TH_SELECT_FACE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_float_equal(h.dist, 2, 1e-5);
	r.origin[0] = 0.2f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	edit_rays_destroy(&c);
	ef_free(f);
}

/* Extreme scales a peer may send (any finite float): a 20 cm cube at the
 * origin squashed along y by a tiny factor (or 0) is a thin square, hit
 * where it lies; one blown up or shrunk
 * uniformly is hit at its (scaled) side. Seen from above, along the
 * squashed axis, and from the side of the blown-up one. */
static void tiny_and_huge_scales(void **state)
{
	struct ef *f = ef_new(NULL);
	struct edit_rays *c = rays_new();
	uint64_t e = cube_at(f, (float[3]){ 0, 0, 0 }, 0.2f);
	static const float squash[] = { 1e-5f, 1e-12f, 1e-20f, 1e-25f, 1e-30f, 1e-37f, 1e-40f, 0.0f, -0.0f };
	struct edit_hit h;
	/* A zero scale goes through the mesh's tree like any other (built
	 * once, then kept), not face by face each query. */
	{
		struct th_c_transform t = identity;
		t.scale[1] = 0;
		assert_int_equal(sh_transform_write_trs(&f->log, &f->other, e, &t), 0);
		ef_fold(f);
		struct edit_rays *c0 = rays_new();
		struct edit_ray r = { .origin = { 0.05f, 2, 0.05f }, .dir = { 0, -1, 0 }, .mode = TH_SELECT_FACE };
		for (int i = 0; i < 3; i++) {
			assert_int_equal(edit_raycast(c0, ef_scene(f), &r, &h), 1);
			assert_float_equal(h.dist, 2, 1e-5);
		}
		struct edit_rays_stats st;
		edit_rays_stats(c0, &st);
		assert_int_equal(st.trees, 1);
		assert_int_equal(st.builds, 1);
		assert_int_equal(st.brute, 0);
		/* From 1e9 m away its mesh-space origin would overflow: the
		 * faces in world space answer. */
		r.origin[1] = 1e9f;
		r.max_dist = 2e9f;
		assert_int_equal(edit_raycast(c0, ef_scene(f), &r, &h), 1);
		assert_float_equal(h.dist / 1e9f, 1, 1e-6);
		r.origin[0] = 0.2f;
		assert_int_equal(edit_raycast(c0, ef_scene(f), &r, &h), 0);
		edit_rays_destroy(&c0);
	}
	for (unsigned i = 0; i < sizeof squash / sizeof squash[0]; i++) {
		struct th_c_transform t = identity;
		t.scale[1] = squash[i];
		assert_int_equal(sh_transform_write_trs(&f->log, &f->other, e, &t), 0);
		ef_fold(f);
		struct edit_ray r = { .origin = { 0.05f, 2, 0.05f }, .dir = { 0, -1, 0 }, .mode = TH_SELECT_FACE };
		assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
		assert_int_equal(h.entity, e);
		assert_float_equal(h.dist, 2, 1e-4);
		assert_float_equal(h.point[1], 0, 1e-4);
		r.origin[0] = 0.2f;
		assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
		/* Tilted, so the mesh-space ray is nearly along the squashed axis. */
		r = (struct edit_ray){ .origin = { 0, 1, 0 }, .dir = { 0.03f, -1, 0.02f }, .mode = TH_SELECT_FACE };
		assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
		assert_float_equal(h.point[0], 0.03f, 1e-4);
		assert_float_equal(h.point[2], 0.02f, 1e-4);
	}
	static const float uniform[] = { 1e-6f, 1e6f, 1e12f, 1e18f, 1e24f, 1e30f };
	for (unsigned i = 0; i < sizeof uniform / sizeof uniform[0]; i++) {
		float s = uniform[i];
		struct th_c_transform t = identity;
		t.scale[0] = t.scale[1] = t.scale[2] = s;
		assert_int_equal(sh_transform_write_trs(&f->log, &f->other, e, &t), 0);
		ef_fold(f);
		/* From 1 m (or one cube side, when larger) outside its +z face. */
		float gap = fmaxf(1.0f, 0.2f * s), face = 0.1f * s;
		struct edit_ray r = { .origin = { 0.05f * s, 0.02f * s, face + gap }, .dir = { 0, 0, -1 },
				      .max_dist = fminf(2 * gap, 3e38f), .mode = TH_SELECT_FACE };
		assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
		assert_int_equal(h.entity, e);
		assert_float_equal(h.dist / gap, 1, 1e-4);
		r.origin[0] = 0.2f * s;
		assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	}
	edit_rays_destroy(&c);
	ef_free(f);
}

/* The vertex at (0.1, 0.1, 0.1) of a 20 cm cube at the origin, from (1, 1, 1)
 * minus a small offset in x: the ray aims just inside the top face. */
static void edges_and_vertices_within_the_tolerance(void **state)
{
	struct ef *f = ef_new(NULL);
	struct edit_rays *c = rays_new();
	uint64_t e = cube_at(f, (float[3]){ 0, 0, 0 }, 0.2f);
	const struct th_mesh *m = ef_mesh_of(f, e);
	/* Aim at (0.1 - a, 0.1, 0.1 - a) on the top face from 1 m above it. */
	float a = 0.004f, o[3] = { 0.1f - a, 1.1f, 0.1f - a };
	struct edit_ray r = { .origin = { o[0], o[1], o[2] }, .dir = { 0, -1, 0 }, .mode = TH_SELECT_VERTEX };
	/* The corner is a sqrt 2 off at 1 m: 5.66 mrad. */
	float ang = atanf(a * sqrtf(2) / 1.0f);
	struct edit_hit h;
	r.tolerance = ang * 1.05f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_int_equal(h.mode, TH_SELECT_VERTEX);
	int32_t v = th_mesh_vert_find(m, h.element);
	assert_true(v >= 0);
	assert_int_equal(h.a, h.element);
	assert_float_equal(m->verts[v].pos[0], 0.1f, 1e-6);
	assert_float_equal(m->verts[v].pos[1], 0.1f, 1e-6);
	assert_float_equal(m->verts[v].pos[2], 0.1f, 1e-6);
	assert_float_equal(h.dist, 1, 1e-5);
	assert_float_equal(h.point[1], 0.1f, 1e-6); /* where the ray meets the surface */
	r.tolerance = ang * 0.95f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	/* The default (10 mrad) takes it. */
	r.tolerance = 0;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	/* Edges: the nearer of the two at the corner is 4 mm = 4 mrad away;
	 * move along x so the +z edge (z = 0.1) is 2 mm away and x's is 6. */
	r.origin[2] = 0.1f - 0.002f;
	r.origin[0] = 0.1f - 0.006f;
	r.mode = TH_SELECT_EDGE;
	r.tolerance = 0.003f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_int_equal(h.mode, TH_SELECT_EDGE);
	assert_int_equal(h.element, th_mesh_edge_id(h.a, h.b));
	assert_true(h.a < h.b);
	int32_t va = th_mesh_vert_find(m, h.a), vb = th_mesh_vert_find(m, h.b);
	assert_float_equal(m->verts[va].pos[2], 0.1f, 1e-6);
	assert_float_equal(m->verts[vb].pos[2], 0.1f, 1e-6);
	assert_float_equal(m->verts[va].pos[1], 0.1f, 1e-6);
	assert_float_equal(m->verts[vb].pos[1], 0.1f, 1e-6);
	/* t: where x = 0.094 lies along a -> b. */
	float want = (0.094f - m->verts[va].pos[0]) / (m->verts[vb].pos[0] - m->verts[va].pos[0]);
	assert_float_equal(h.t, want, 1e-3);
	r.tolerance = 0.0015f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	/* A vertex mode ray there: the corner is sqrt(40) mm away: out of 3 mrad. */
	r.mode = TH_SELECT_VERTEX;
	r.tolerance = 0.003f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	/* A ray that misses the mesh picks no edge, however near. */
	r = (struct edit_ray){ .origin = { 0.101f, 1.1f, 0 }, .dir = { 0, -1, 0 }, .tolerance = 0.01f,
			       .mode = TH_SELECT_EDGE };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	edit_rays_destroy(&c);
	ef_free(f);
}

static void empty_scenes_and_refused_rays(void **state)
{
	struct ef *f = ef_new(NULL);
	struct edit_rays *c = rays_new();
	struct edit_ray r = { .origin = { 0, 0, 0 }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_FACE };
	struct edit_hit h = { .entity = 77 };
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	assert_int_equal(edit_raycast(c, NULL, &r, &h), 0);
	assert_int_equal(h.entity, 77); /* untouched */
	/* An entity without a mesh is no candidate. */
	uint64_t bare;
	assert_int_equal(sh_entity_create(&f->log, &f->other, (float[3]){ 0, 0, -1 }, &bare), 0);
	ef_fold(f);
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 0);
	/* Bad rays. */
	struct edit_ray bad = r;
	bad.dir[2] = 0;
	assert_int_equal(edit_raycast(c, ef_scene(f), &bad, &h), -EINVAL);
	bad = r;
	bad.origin[1] = NAN;
	assert_int_equal(edit_raycast(c, ef_scene(f), &bad, &h), -EINVAL);
	bad = r;
	bad.dir[0] = INFINITY;
	assert_int_equal(edit_raycast(c, ef_scene(f), &bad, &h), -EINVAL);
	bad = r;
	bad.max_dist = -1;
	assert_int_equal(edit_raycast(c, ef_scene(f), &bad, &h), -EINVAL);
	bad = r;
	bad.tolerance = -0.1f;
	assert_int_equal(edit_raycast(c, ef_scene(f), &bad, &h), -EINVAL);
	bad = r;
	bad.mode = 9;
	assert_int_equal(edit_raycast(c, ef_scene(f), &bad, &h), -EINVAL);
	assert_int_equal(h.entity, 77);
	struct edit_rays_stats st;
	edit_rays_stats(c, &st);
	assert_int_equal(st.queries, 3);
	edit_rays_destroy(&c);
	edit_rays_destroy(&c); /* twice: nothing */
	ef_free(f);
}

static void the_plane(void **state)
{
	struct edit_ray r = { .origin = { 0, 1, 0 }, .dir = { 0, -1, -1 } };
	float p[3] = { 0, 0, 0 }, n[3] = { 0, 2, 0 }, out[3];
	assert_int_equal(edit_ray_plane(&r, p, n, out), 1);
	assert_float_equal(out[0], 0, 1e-6);
	assert_float_equal(out[1], 0, 1e-6);
	assert_float_equal(out[2], -1, 1e-6);
	/* From below the plane, same answer (either side). */
	r.origin[1] = -1;
	r.dir[1] = 1;
	assert_int_equal(edit_ray_plane(&r, p, n, out), 1);
	assert_float_equal(out[2], -1, 1e-6);
	/* Behind the origin, parallel, a zero normal: none. */
	r.dir[1] = -1;
	assert_int_equal(edit_ray_plane(&r, p, n, out), 0);
	r.dir[1] = 0;
	assert_int_equal(edit_ray_plane(&r, p, n, out), 0);
	r.dir[1] = 1;
	assert_int_equal(edit_ray_plane(&r, p, (float[3]){ 0, 0, 0 }, out), 0);
}

/* Random rays at a scene of primitives with random transforms: every hit
 * is a real crossing of that face at that distance, nothing robustly
 * nearer was missed, and where the reference's nearest is clear (no other
 * face within 1e-4 m, away from the polygon's boundary) the same entity
 * and face come back. */
#define RANDOM_ENTITIES 6
#define RANDOM_RAYS 3000
#define REF_EPS 1e-4
#define REF_MARGIN 1e-3

static void random_rays_against_the_reference(void **state)
{
	mf_rng = 0x7a1c0ffee;
	struct ef *f = ef_new(NULL);
	struct edit_rays *c = rays_new();
	static const uint32_t kinds[RANDOM_ENTITIES] = { TH_PRIM_CUBE,	   TH_PRIM_UVSPHERE, TH_PRIM_TORUS,
							 TH_PRIM_CYLINDER, TH_PRIM_CONE,     TH_PRIM_PLANE };
	uint64_t ents[RANDOM_ENTITIES];
	struct th_c_transform xfs[RANDOM_ENTITIES];
	for (int i = 0; i < RANDOM_ENTITIES; i++) {
		struct th_c_transform *t = &xfs[i];
		*t = identity;
		for (int k = 0; k < 3; k++) {
			t->position[k] = mf_frand(-1.5f, 1.5f);
			t->scale[k] = mf_frand(0.3f, 1.5f);
		}
		if (i == 2)
			t->scale[1] = -t->scale[1]; /* a mirror */
		mf_rand_quat(t->rotation);
		ents[i] = prim_entity(f, kinds[i], t);
	}
	const struct th_scene *sc = ef_scene(f);
	unsigned hits = 0, clear = 0;
	for (int i = 0; i < RANDOM_RAYS; i++) {
		/* From a sphere of radius 5 towards a point near a random entity. */
		float o[3], aim[3], d[3];
		for (int k = 0; k < 3; k++)
			o[k] = mf_frand(-1, 1);
		float ol = sqrtf(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]) + 1e-6f;
		const struct th_c_transform *at = &xfs[mf_rn(RANDOM_ENTITIES)];
		for (int k = 0; k < 3; k++) {
			o[k] = o[k] / ol * 5;
			aim[k] = at->position[k] + mf_frand(-0.8f, 0.8f);
			d[k] = aim[k] - o[k];
		}
		float dl = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
		uint32_t mode = mf_rn(2) ? TH_SELECT_FACE : TH_SELECT_OBJECT;
		struct edit_ray r = { .origin = { o[0], o[1], o[2] }, .dir = { d[0], d[1], d[2] }, .mode = mode };
		if (i % 7 == 0)
			r.max_dist = mf_frand(3, 6);
		double tmax = r.max_dist ? r.max_dist : EDIT_RAY_MAX_DIST;
		double od[3] = { o[0], o[1], o[2] }, dd[3] = { d[0] / dl, d[1] / dl, d[2] / dl };
		/* The reference over every face of every entity: the nearest
		 * crossing away from a polygon's boundary (robust), and the two
		 * nearest of all. */
		double robust = INFINITY, a1 = INFINITY, a2 = INFINITY, a1_margin = 0;
		uint64_t a1_e = 0, a1_f = 0;
		for (int j = 0; j < RANDOM_ENTITIES; j++) {
			const struct th_mesh *m = ef_mesh_of(f, ents[j]);
			for (uint32_t s = 0; s < m->nfaces; s++) {
				struct ref_hit rh;
				if (!m->faces[s].id || !ref_face(m, &xfs[j], (int32_t)s, od, dd, tmax, &rh))
					continue;
				if (rh.margin >= REF_MARGIN && rh.t < robust)
					robust = rh.t;
				if (rh.t < a1) {
					a2 = a1;
					a1 = rh.t;
					a1_margin = rh.margin;
					a1_e = ents[j];
					a1_f = m->faces[s].id;
				} else if (rh.t < a2) {
					a2 = rh.t;
				}
			}
		}
		bool must_hit = robust < tmax - REF_EPS;
		struct edit_hit h;
		int got = edit_raycast(c, sc, &r, &h);
		assert_true(got == 0 || got == 1);
		if (got) {
			hits++;
			assert_int_equal(h.mode, mode);
			/* A real crossing of that face at that distance... */
			int j = 0;
			while (j < RANDOM_ENTITIES && ents[j] != h.entity)
				j++;
			assert_true(j < RANDOM_ENTITIES);
			const struct th_mesh *m = ef_mesh_of(f, h.entity);
			assert_int_equal(h.mesh, m->id);
			if (mode == TH_SELECT_FACE) {
				struct ref_hit rh;
				int32_t s = th_mesh_face_find(m, h.element);
				assert_true(s >= 0);
				assert_true(ref_face(m, &xfs[j], s, od, dd, tmax + REF_EPS, &rh));
				assert_true(fabs(rh.t - h.dist) < REF_EPS * (1 + h.dist));
			}
			for (int k = 0; k < 3; k++)
				assert_float_equal(h.point[k], o[k] + h.dist * dd[k], 1e-4);
			/* ...and nothing robustly nearer. */
			assert_true(h.dist <= robust + REF_EPS);
		} else {
			assert_false(must_hit);
		}
		if (must_hit && a1_margin >= REF_MARGIN && a2 - a1 > REF_EPS) {
			clear++;
			assert_int_equal(got, 1);
			assert_int_equal(h.entity, a1_e);
			if (mode == TH_SELECT_FACE)
				assert_int_equal(h.element, a1_f);
		}
	}
	/* The rays were aimed: most hit something. */
	assert_true(hits > RANDOM_RAYS / 3);
	assert_true(clear > RANDOM_RAYS / 4);
	edit_rays_destroy(&c);
	ef_free(f);
}


/* The cache: a tree per mesh built on first use, refitted when the mesh's
 * vertices move (the ray sees the moved faces), kept while nothing
 * changes, dropped with the entity; out of memory at any allocation of a
 * query still gives the same answer (face by face). */
static void the_cache_follows_the_scene(void **state)
{
	struct ef *f = ef_new(NULL);
	struct edit_rays *c = rays_new();
	struct sh_mesh strip;
	assert_int_equal(sh_mesh_strip(&f->log, &f->other, 4, -2, 0, &strip), 0);
	ef_fold(f);
	uint64_t cube = cube_at(f, (float[3]){ 10, 0, 0 }, 0.2f);
	struct edit_ray r = { .origin = { 0.5f, 0.5f, 3 }, .dir = { 0, 0, -1 }, .mode = TH_SELECT_FACE };
	struct edit_hit h, h0;
	struct edit_rays_stats st;
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h0), 1);
	assert_int_equal(h0.entity, strip.entity);
	assert_float_equal(h0.dist, 5, 1e-5);
	edit_rays_stats(c, &st);
	assert_int_equal(st.builds, 2); /* the strip's and the cube's */
	assert_int_equal(st.trees, 2);
	assert_int_equal(st.refits + st.rebuilds + st.brute, 0);
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	edit_rays_stats(c, &st);
	assert_int_equal(st.builds, 2);
	assert_int_equal(st.refits, 0);
	/* The first quad's top corners (vertices 5 and 0 + quads + 1) pulled
	 * 1 m towards the ray's origin: the quad leans, the hit comes nearer. */
	assert_int_equal(sh_vertex_move(&f->log, &f->other, &strip, 5, (float[3]){ 0, 1, -1 }), 0);
	assert_int_equal(sh_vertex_move(&f->log, &f->other, &strip, 6, (float[3]){ 1, 1, -1 }), 0);
	ef_fold(f);
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	assert_int_equal(h.element, h0.element);
	assert_float_equal(h.dist, 4.5f, 1e-5);
	edit_rays_stats(c, &st);
	assert_int_equal(st.refits, 1);
	assert_int_equal(st.builds, 2);
	/* The cube's entity destroyed: its tree dropped at the next query. */
	assert_true(sh_add(&f->log, &f->other, TH_CMD_ENTITY_DESTROY, TH_SCOPE_ENTITY, cube, NULL, 0, 0) >= 0);
	ef_fold(f);
	assert_false(th_scene_has_entity(ef_scene(f), cube));
	assert_int_equal(edit_raycast(c, ef_scene(f), &r, &h), 1);
	edit_rays_stats(c, &st);
	assert_int_equal(st.trees, 1);
	assert_int_equal(st.queries, 4);
	edit_rays_destroy(&c);
#ifdef TH_AF_CAN_FAIL
	/* Every allocation of a first query failing in turn. */
	bool brute = false;
	for (long k = 0; k < 64; k++) {
		struct edit_rays *d = rays_new();
		long live = th_af_live;
		th_af_countdown = k;
		int got = edit_raycast(d, ef_scene(f), &r, &h0);
		th_af_countdown = -1;
		assert_int_equal(got, 1);
		assert_int_equal(h0.element, h.element);
		assert_true(h0.dist == h.dist);
		edit_rays_stats(d, &st);
		brute |= st.brute > 0;
		assert_true(th_af_live >= live);
		edit_rays_destroy(&d);
		assert_true(th_af_live <= live);
	}
	assert_true(brute);
#endif
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_nearest_face_of_a_cube),
		cmocka_unit_test(the_nearest_of_several_entities_and_ties),
		cmocka_unit_test(rotation_and_non_uniform_scale),
		cmocka_unit_test(tiny_and_huge_scales),
		cmocka_unit_test(edges_and_vertices_within_the_tolerance),
		cmocka_unit_test(empty_scenes_and_refused_rays),
		cmocka_unit_test(the_plane),
		cmocka_unit_test(random_rays_against_the_reference),
		cmocka_unit_test(the_cache_follows_the_scene),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
