/* th_op_primitive: each primitive applied with th_patch_apply to an empty
 * mesh is valid (th_mesh_check), has exactly the vertex, edge, face and
 * boundary counts and the Euler characteristic of its shape, every face
 * facing outwards (counter-clockwise seen from outside), its vertices where
 * the parameters put them; undo through the journal empties the mesh
 * again; every bad parameter is refused with its sentence and the patch
 * as it was. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop.h"

/* Where "outside" is for a face: away from the centre; for the torus
 * along its corners' mean surface normal (each corner away from the
 * nearest point of the ring circle); for the plane up. */
enum outward { OUT_CENTRE, OUT_TORUS, OUT_UP };

struct built {
	struct th_mesh m;
	struct th_patch p;
};

/* Builds the primitive into a fresh mesh through a journal, checks the
 * counts and the facing, undoes it (the mesh empty again) and applies it
 * once more for the caller to look at. */
static void build(struct built *b, const struct th_prim *pp, uint32_t v, uint32_t e, uint32_t f, uint32_t bnd,
		  int64_t euler, enum outward how)
{
	const char *why = NULL;
	th_patch_init(&b->p);
	int r = th_op_primitive(pp, &b->p, &why);
	if (r)
		fail_msg("th_op_primitive: %d (%s)", r, r == -EINVAL ? why : "");
	for (uint32_t i = 0; i < b->p.n; i++) /* every corner a local reference */
		if (b->p.ops[i].op == TH_PL_MESH_OP_LOOP)
			assert_int_equal(b->p.ops[i].arg, TH_PL_MESH_REF_LOCAL);
	assert_int_equal(th_mesh_init(&b->m, MF_MESH_ID), 0);
	mf_patch_round_trip(&b->m, &b->p, 1);
	mf_stats_are(&b->m, 0, 0, 0, 0, 0);
	mf_patch_applied(&b->m, &b->p, 1, NULL);
	mf_stats_are(&b->m, v, e, f, bnd, euler);
	float ring = pp->radius;
	for (uint32_t s = 0; s < b->m.nfaces; s++) {
		if (!b->m.faces[s].id)
			continue;
		float n[3], c[3], ref[3] = { 0, 0, 0 };
		assert_int_equal(th_mesh_face_normal(&b->m, (int32_t)s, n, c), 0);
		if (how == OUT_UP) {
			assert_true(n[1] > 0.999f);
			continue;
		}
		float out[3] = { c[0], c[1], c[2] };
		if (how == OUT_TORUS) { /* the mean of the corners' surface normals */
			uint64_t ids[TH_MESH_FACE_VERTS_MAX];
			int k = th_mesh_face_loop(&b->m, (int32_t)s, ids, TH_MESH_FACE_VERTS_MAX);
			out[0] = out[1] = out[2] = 0;
			for (int i = 0; i < k; i++) {
				const float *q = b->m.verts[th_mesh_vert_find(&b->m, ids[i])].pos;
				float l = sqrtf(q[0] * q[0] + q[2] * q[2]);
				ref[0] = ring * q[0] / l;
				ref[2] = ring * q[2] / l;
				for (int t = 0; t < 3; t++)
					out[t] += q[t] - ref[t];
			}
		}
		float d = n[0] * out[0] + n[1] * out[1] + n[2] * out[2];
		if (!(d > 0))
			fail_msg("face %u faces inwards (%g)", s, d);
	}
}

static void done(struct built *b)
{
	th_mesh_fini(&b->m);
	th_patch_fini(&b->p);
}

/* build and done, for a primitive with nothing more to look at. */
static void builds(const struct th_prim *pp, uint32_t v, uint32_t e, uint32_t f, uint32_t bnd, int64_t euler,
		   enum outward how)
{
	struct built b;
	build(&b, pp, v, e, f, bnd, euler, how);
	done(&b);
}

/* The defaults of kind. */
static struct th_prim prim(uint32_t kind)
{
	struct th_prim pp;
	th_prim_defaults(&pp, kind);
	assert_int_equal(pp.kind, kind);
	return pp;
}

/* Every vertex within tol of the sphere of radius r about the origin. */
static void on_sphere(const struct th_mesh *m, float r, float tol)
{
	for (uint32_t v = 0; v < m->nverts; v++) {
		if (!m->verts[v].id)
			continue;
		const float *p = m->verts[v].pos;
		assert_float_equal(sqrtf(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]), r, tol);
	}
}

/* The box the vertices span. */
static void extent(const struct th_mesh *m, float lo[3], float hi[3])
{
	for (int i = 0; i < 3; i++)
		lo[i] = INFINITY, hi[i] = -INFINITY;
	for (uint32_t v = 0; v < m->nverts; v++)
		for (int i = 0; m->verts[v].id && i < 3; i++) {
			lo[i] = fminf(lo[i], m->verts[v].pos[i]);
			hi[i] = fmaxf(hi[i], m->verts[v].pos[i]);
		}
}

static void extent_is(const struct th_mesh *m, float x, float y, float z)
{
	float lo[3], hi[3], want[3] = { x, y, z };
	extent(m, lo, hi);
	for (int i = 0; i < 3; i++) {
		assert_float_equal(lo[i], -want[i] / 2, 1e-6);
		assert_float_equal(hi[i], want[i] / 2, 1e-6);
	}
}

static void defaults_are_a_metre_and_sixteen_segments(void **state)
{
	struct th_prim pp;
	pp = prim(TH_PRIM_CUBE);
	assert_true(pp.size[0] == 1 && pp.size[1] == 1 && pp.size[2] == 1 && pp.subdiv == 0 && pp.material == 0);
	pp = prim(TH_PRIM_UVSPHERE);
	assert_true(pp.radius == 0.5f && pp.segments == 16 && pp.rings == 8);
	pp = prim(TH_PRIM_ICOSPHERE);
	assert_int_equal(pp.subdiv, 2);
	pp = prim(TH_PRIM_CONE);
	assert_true(pp.radius == 0.5f && pp.radius2 == 0 && pp.height == 1);
	pp = prim(TH_PRIM_TORUS);
	assert_true(pp.radius == 0.5f && pp.radius2 == 0.125f && pp.segments == 16 && pp.rings == 8);
	/* every default builds and fits one command */
	for (uint32_t k = TH_PRIM_CUBE; k <= TH_PRIM_MAX; k++) {
		struct th_patch p;
		const char *why = NULL;
		th_patch_init(&p);
		pp = prim(k);
		assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
		assert_true(th_patch_fits(&p)); /* one command each */
		th_patch_fini(&p);
	}
}

static void cube_is_six_quads_and_its_size(void **state)
{
	struct th_prim pp = prim(TH_PRIM_CUBE);
	struct built b;
	pp.size[0] = 2, pp.size[1] = 0.5f, pp.size[2] = 3;
	pp.material = 7;
	build(&b, &pp, 8, 12, 6, 0, 2, OUT_CENTRE);
	extent_is(&b.m, 2, 0.5f, 3);
	for (uint32_t s = 0; s < b.m.nfaces; s++)
		if (b.m.faces[s].id)
			assert_true(b.m.faces[s].n == 4 && b.m.faces[s].material == 7);
	assert_int_equal(b.p.n, 8 + 6 * 5);
	done(&b);
}

static void cube_cuts_make_a_grid_on_every_side(void **state)
{
	struct th_prim pp = prim(TH_PRIM_CUBE);
	struct built b;
	static const unsigned cuts[] = { 1, 2, 5, TH_PRIM_SUBDIV_MAX };
	for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		uint32_t n = cuts[i] + 1;
		pp.subdiv = cuts[i];
		build(&b, &pp, 6 * n * n + 2, 12 * n * n, 6 * n * n, 0, 2, OUT_CENTRE);
		extent_is(&b.m, 1, 1, 1);
		done(&b);
	}
}

static void uv_sphere_has_poles_rings_and_segments(void **state)
{
	struct th_prim pp = prim(TH_PRIM_UVSPHERE);
	struct built b;
	pp.radius = 2;
	/* V = 2 + (rings - 1) segments, E = segments (2 rings - 1), F = rings segments */
	build(&b, &pp, 2 + 7 * 16, 16 * 15, 8 * 16, 0, 2, OUT_CENTRE);
	on_sphere(&b.m, 2, 1e-5f);
	done(&b);
	pp.segments = 3, pp.rings = 2; /* the smallest: two pyramids on a triangle */
	builds(&pp, 5, 9, 6, 0, 2, OUT_CENTRE);
	pp.segments = 100, pp.rings = 3;
	build(&b, &pp, 2 + 2 * 100, 100 * 5, 300, 0, 2, OUT_CENTRE);
	on_sphere(&b.m, 2, 1e-5f);
	done(&b);
}

static void icosphere_levels_quadruple_the_triangles(void **state)
{
	struct th_prim pp = prim(TH_PRIM_ICOSPHERE);
	struct built b;
	pp.radius = 0.25f;
	for (unsigned l = 0; l <= 5; l++) {
		uint32_t q = 1u << (2 * l); /* 4^l */
		pp.subdiv = l;
		build(&b, &pp, 10 * q + 2, 30 * q, 20 * q, 0, 2, OUT_CENTRE);
		on_sphere(&b.m, 0.25f, 1e-6f);
		for (uint32_t s = 0; s < b.m.nfaces; s++)
			if (b.m.faces[s].id)
				assert_int_equal(b.m.faces[s].n, 3);
		done(&b);
	}
}

static void cylinder_caps_are_ngons_up_to_the_corner_limit_then_fans(void **state)
{
	struct th_prim pp = prim(TH_PRIM_CYLINDER);
	struct built b;
	pp.radius = 0.3f, pp.height = 2;
	build(&b, &pp, 32, 48, 18, 0, 2, OUT_CENTRE);
	float lo[3], hi[3];
	extent(&b.m, lo, hi);
	assert_float_equal(lo[1], -1, 1e-6);
	assert_float_equal(hi[1], 1, 1e-6);
	assert_float_equal(hi[0], 0.3f, 1e-6);
	done(&b);
	pp.segments = TH_MESH_FACE_VERTS_MAX; /* still one face per cap */
	builds(&pp, 128, 192, 66, 0, 2, OUT_CENTRE);
	pp.segments = TH_MESH_FACE_VERTS_MAX + 1; /* fans: a centre vertex per cap */
	uint32_t s = pp.segments;
	builds(&pp, 2 * s + 2, 5 * s, 3 * s, 0, 2, OUT_CENTRE);
	pp.segments = TH_PRIM_SEGMENTS_MAX;
	s = pp.segments;
	builds(&pp, 2 * s + 2, 5 * s, 3 * s, 0, 2, OUT_CENTRE);
}

static void cone_is_pointed_or_truncated(void **state)
{
	struct th_prim pp = prim(TH_PRIM_CONE);
	struct built b; /* radius2 0: a point */
	build(&b, &pp, 17, 32, 17, 0, 2, OUT_CENTRE);
	float lo[3], hi[3];
	extent(&b.m, lo, hi);
	assert_float_equal(hi[1], 0.5f, 1e-6);
	unsigned apex = 0;
	for (uint32_t v = 0; v < b.m.nverts; v++)
		apex += b.m.verts[v].pos[1] > 0.4f;
	assert_int_equal(apex, 1);
	done(&b);
	pp.segments = 3; /* a tetrahedron */
	builds(&pp, 4, 6, 4, 0, 2, OUT_CENTRE);
	pp.segments = 100; /* a fan under the base */
	builds(&pp, 102, 300, 200, 0, 2, OUT_CENTRE);
	pp.segments = 16, pp.radius2 = 0.2f; /* truncated: a cylinder's counts */
	build(&b, &pp, 32, 48, 18, 0, 2, OUT_CENTRE);
	extent(&b.m, lo, hi);
	assert_float_equal(hi[0], 0.5f, 1e-6);
	done(&b);
	pp.segments = 70;
	builds(&pp, 142, 350, 210, 0, 2, OUT_CENTRE);
}

static void torus_has_euler_characteristic_zero(void **state)
{
	struct th_prim pp = prim(TH_PRIM_TORUS);
	struct built b;
	build(&b, &pp, 128, 256, 128, 0, 0, OUT_TORUS);
	float lo[3], hi[3];
	extent(&b.m, lo, hi);
	assert_float_equal(hi[0], 0.625f, 1e-6);
	assert_float_equal(hi[1], 0.125f, 1e-6);
	done(&b);
	pp.segments = 3, pp.rings = 3;
	builds(&pp, 9, 18, 9, 0, 0, OUT_TORUS);
	pp.segments = 40, pp.rings = 12, pp.radius = 3, pp.radius2 = 2.9f;
	builds(&pp, 480, 960, 480, 0, 0, OUT_TORUS);
}

static void plane_is_a_disk_facing_up(void **state)
{
	struct th_prim pp = prim(TH_PRIM_PLANE);
	struct built b;
	pp.size[0] = 4, pp.size[2] = 2;
	build(&b, &pp, 4, 4, 1, 4, 1, OUT_UP);
	extent_is(&b.m, 4, 0, 2);
	done(&b);
	for (unsigned c = 1; c <= TH_PRIM_SUBDIV_MAX; c += 21) {
		uint32_t n = c + 1;
		pp.subdiv = c;
		build(&b, &pp, (n + 1) * (n + 1), 2 * n * (n + 1), n * n, 4 * n, 1, OUT_UP);
		extent_is(&b.m, 4, 0, 2);
		done(&b);
	}
}

/* Local references name the patch's own ops, so a primitive appended after
 * other ops still builds (its references start past them). */
static void a_primitive_appends_after_ops_already_in_the_patch(void **state)
{
	static const uint32_t kinds[] = { TH_PRIM_CUBE,  TH_PRIM_UVSPHERE, TH_PRIM_ICOSPHERE, TH_PRIM_CYLINDER,
					  TH_PRIM_CONE,  TH_PRIM_TORUS,    TH_PRIM_PLANE };
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct th_prim pp;
		struct th_patch p, alone;
		struct th_mesh m, m2;
		const char *why = NULL;
		float far[3] = { 10, 10, 10 };
		pp = prim(kinds[i]);
		pp.segments = 80; /* fan caps too */
		th_patch_init(&p);
		th_patch_init(&alone);
		assert_true(th_patch_vertex_add(&p, far) == 1);
		assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
		assert_int_equal(th_op_primitive(&pp, &alone, &why), 0);
		assert_int_equal(p.n, alone.n + 1);
		assert_int_equal(th_mesh_init(&m, MF_MESH_ID), 0);
		assert_int_equal(th_mesh_init(&m2, MF_MESH_ID), 0);
		mf_patch_applied(&m, &p, 3, NULL);
		mf_patch_applied(&m2, &alone, 3, NULL);
		struct th_mesh_stats s, s2;
		th_mesh_stats(&m, &s);
		th_mesh_stats(&m2, &s2);
		assert_int_equal(s.vertices, s2.vertices + 1);
		assert_int_equal(s.faces, s2.faces);
		assert_int_equal(s.edges, s2.edges);
		assert_int_equal(s.euler, s2.euler + 1);
		th_mesh_fini(&m);
		th_mesh_fini(&m2);
		th_patch_fini(&p);
		th_patch_fini(&alone);
	}
}

static void the_same_parameters_give_the_same_ops(void **state)
{
	for (uint32_t k = TH_PRIM_CUBE; k <= TH_PRIM_MAX; k++) {
		struct th_prim pp;
		struct th_patch a, b;
		const char *why = NULL;
		pp = prim(k);
		th_patch_init(&a);
		th_patch_init(&b);
		assert_int_equal(th_op_primitive(&pp, &a, &why), 0);
		assert_int_equal(th_op_primitive(&pp, &b, &why), 0);
		assert_int_equal(a.n, b.n);
		assert_memory_equal(a.ops, b.ops, a.n * sizeof(*a.ops));
		th_patch_fini(&a);
		th_patch_fini(&b);
	}
}

struct bad {
	uint32_t kind;
	void (*set)(struct th_prim *);
	const char *why;
};

static void kind_zero(struct th_prim *p) { p->kind = 0; }
static void kind_big(struct th_prim *p) { p->kind = TH_PRIM_MAX + 1; }
static void material_big(struct th_prim *p) { p->material = TH_PL_MATERIALS_MAX; }
static void size_nan(struct th_prim *p) { p->size[1] = NAN; }
static void size_small(struct th_prim *p) { p->size[0] = TH_PRIM_SIZE_MIN / 2; }
static void size_big(struct th_prim *p) { p->size[2] = TH_PRIM_SIZE_MAX * 2; }
static void size_neg(struct th_prim *p) { p->size[0] = -1; }
static void plane_z_zero(struct th_prim *p) { p->size[2] = 0; }
static void radius_zero(struct th_prim *p) { p->radius = 0; }
static void radius_inf(struct th_prim *p) { p->radius = INFINITY; }
static void height_zero(struct th_prim *p) { p->height = 0; }
static void height_nan(struct th_prim *p) { p->height = NAN; }
static void radius2_neg(struct th_prim *p) { p->radius2 = -0.1f; }
static void radius2_tiny(struct th_prim *p) { p->radius2 = TH_PRIM_SIZE_MIN / 2; }
static void tube_fat(struct th_prim *p) { p->radius2 = p->radius; }
static void tube_zero(struct th_prim *p) { p->radius2 = 0; }
static void segments_two(struct th_prim *p) { p->segments = 2; }
static void segments_big(struct th_prim *p) { p->segments = TH_PRIM_SEGMENTS_MAX + 1; }
static void rings_one(struct th_prim *p) { p->rings = 1; }
static void rings_two(struct th_prim *p) { p->rings = 2; }
static void rings_big(struct th_prim *p) { p->rings = TH_PRIM_SEGMENTS_MAX + 1; }
static void levels_six(struct th_prim *p) { p->subdiv = 6; }
static void cuts_big(struct th_prim *p) { p->subdiv = TH_PRIM_SUBDIV_MAX + 1; }

#define WHY_SZ(w) w ": must be finite, 0.0001 to 1000 metres"

static void bad_parameters_are_refused_with_their_sentence(void **state)
{
	static const struct bad bads[] = {
		{ TH_PRIM_CUBE, kind_zero, "kind: not a primitive (cube, UV sphere, icosphere, cylinder, cone, torus or plane)" },
		{ TH_PRIM_CUBE, kind_big, "kind: not a primitive (cube, UV sphere, icosphere, cylinder, cone, torus or plane)" },
		{ TH_PRIM_TORUS, material_big, "material: index out of range (0 to 255)" },
		{ TH_PRIM_CUBE, size_nan, WHY_SZ("size") },
		{ TH_PRIM_CUBE, size_small, WHY_SZ("size") },
		{ TH_PRIM_CUBE, size_big, WHY_SZ("size") },
		{ TH_PRIM_CUBE, size_neg, WHY_SZ("size") },
		{ TH_PRIM_PLANE, plane_z_zero, WHY_SZ("size (x and z)") },
		{ TH_PRIM_PLANE, size_small, WHY_SZ("size (x and z)") },
		{ TH_PRIM_UVSPHERE, radius_zero, WHY_SZ("radius") },
		{ TH_PRIM_ICOSPHERE, radius_inf, WHY_SZ("radius") },
		{ TH_PRIM_CYLINDER, radius_zero, WHY_SZ("radius") },
		{ TH_PRIM_TORUS, radius_zero, WHY_SZ("radius") },
		{ TH_PRIM_CYLINDER, height_zero, WHY_SZ("height") },
		{ TH_PRIM_CONE, height_nan, WHY_SZ("height") },
		{ TH_PRIM_CONE, radius2_neg, "radius2: the cone's top radius must be 0 (a point) or 0.0001 to 1000 metres" },
		{ TH_PRIM_CONE, radius2_tiny, "radius2: the cone's top radius must be 0 (a point) or 0.0001 to 1000 metres" },
		{ TH_PRIM_TORUS, tube_zero, WHY_SZ("radius2") },
		{ TH_PRIM_TORUS, tube_fat, "radius2: the torus's tube radius must be smaller than its ring radius" },
		{ TH_PRIM_UVSPHERE, segments_two, "segments: must be 3 to 256" },
		{ TH_PRIM_CYLINDER, segments_two, "segments: must be 3 to 256" },
		{ TH_PRIM_CONE, segments_big, "segments: must be 3 to 256" },
		{ TH_PRIM_TORUS, segments_big, "segments: must be 3 to 256" },
		{ TH_PRIM_UVSPHERE, rings_one, "rings: a UV sphere needs 2 to 256 rings" },
		{ TH_PRIM_UVSPHERE, rings_big, "rings: a UV sphere needs 2 to 256 rings" },
		{ TH_PRIM_TORUS, rings_two, "rings: a torus needs 3 to 256 rings" },
		{ TH_PRIM_TORUS, rings_big, "rings: a torus needs 3 to 256 rings" },
		{ TH_PRIM_ICOSPHERE, levels_six, "subdiv: an icosphere takes 0 to 5 levels" },
		{ TH_PRIM_CUBE, cuts_big, "subdiv: cuts per edge must be 0 to 64" },
		{ TH_PRIM_PLANE, cuts_big, "subdiv: cuts per edge must be 0 to 64" },
	};
	struct th_patch p;
	float v[3] = { 0, 0, 0 };
	th_patch_init(&p);
	assert_true(th_patch_vertex_add(&p, v) == 1);
	struct th_pl_mesh_op first = p.ops[0];
	for (unsigned i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct th_prim pp;
		const char *why = NULL;
		pp = prim(bads[i].kind);
		bads[i].set(&pp);
		assert_int_equal(th_op_primitive(&pp, &p, &why), -EINVAL);
		assert_non_null(why);
		assert_string_equal(why, bads[i].why);
		assert_int_equal(p.n, 1);
		assert_memory_equal(&p.ops[0], &first, sizeof(first));
	}
	/* what a primitive does not use is not checked: a cube ignores its radius */
	struct th_prim pp;
	const char *why = NULL;
	pp = prim(TH_PRIM_CUBE);
	pp.radius = NAN, pp.segments = 0, pp.rings = 0;
	assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
	th_patch_fini(&p);
}

static void a_patch_limit_refuses_with_e2big_and_the_patch_as_it_was(void **state)
{
	struct th_prim pp;
	struct th_patch p;
	const char *why = NULL;
	pp = prim(TH_PRIM_UVSPHERE);
	th_patch_init(&p);
	p.max = 100;
	assert_int_equal(th_op_primitive(&pp, &p, &why), -E2BIG);
	assert_int_equal(p.n, 0);
	/* the default cube fits one command; a cube of 64 cuts does not */
	p.max = TH_PATCH_OPS_MAX;
	pp = prim(TH_PRIM_CUBE);
	assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
	assert_true(th_patch_fits(&p));
	th_patch_clear(&p);
	pp.subdiv = TH_PRIM_SUBDIV_MAX;
	assert_int_equal(th_op_primitive(&pp, &p, &why), 0);
	assert_false(th_patch_fits(&p));
	th_patch_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_a_metre_and_sixteen_segments),
		cmocka_unit_test(cube_is_six_quads_and_its_size),
		cmocka_unit_test(cube_cuts_make_a_grid_on_every_side),
		cmocka_unit_test(uv_sphere_has_poles_rings_and_segments),
		cmocka_unit_test(icosphere_levels_quadruple_the_triangles),
		cmocka_unit_test(cylinder_caps_are_ngons_up_to_the_corner_limit_then_fans),
		cmocka_unit_test(cone_is_pointed_or_truncated),
		cmocka_unit_test(torus_has_euler_characteristic_zero),
		cmocka_unit_test(plane_is_a_disk_facing_up),
		cmocka_unit_test(a_primitive_appends_after_ops_already_in_the_patch),
		cmocka_unit_test(the_same_parameters_give_the_same_ops),
		cmocka_unit_test(bad_parameters_are_refused_with_their_sentence),
		cmocka_unit_test(a_patch_limit_refuses_with_e2big_and_the_patch_as_it_was),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
