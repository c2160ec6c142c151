/* th_snap: grid (default 1 cm, configurable, from an origin), angle and
 * rotation steps (default 15 degrees, the axis kept), the nearest vertex /
 * edge midpoint / face centre of a mesh within a radius with deterministic
 * ties, and every refusal with its sentence. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_journal.h"
#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_snap.h"

static const double PI = 3.14159265358979323846;

static void near3(const float *a, float x, float y, float z, double tol)
{
	assert_float_equal(a[0], x, tol);
	assert_float_equal(a[1], y, tol);
	assert_float_equal(a[2], z, tol);
}

static void refused(int r, const char **why, const char *want)
{
	assert_int_equal(r, -EINVAL);
	assert_non_null(*why);
	assert_string_equal(*why, want);
	*why = NULL;
}

static void grid_defaults_to_a_centimetre(void **state)
{
	(void)state;
	const char *why = NULL;
	float p[3] = { 0.1234f, -0.0041f, 1.0051f }, q[3];
	assert_int_equal(th_snap_grid(p, 0, NULL, q, &why), 0);
	near3(q, 0.12f, 0, 1.01f, 1e-7);
	/* a coarser grid counted from an origin; in place */
	float o[3] = { 0.1f, 0.1f, 0.1f };
	assert_int_equal(th_snap_grid(p, 0.25f, o, p, &why), 0);
	near3(p, 0.1f, 0.1f, 1.1f, 1e-6);
	/* a point on the grid stays */
	float on[3] = { 0.5f, -2, 3.25f };
	assert_int_equal(th_snap_grid(on, 0.25f, NULL, q, &why), 0);
	assert_memory_equal(q, on, sizeof(q));
	/* the smallest grid */
	float fine[3] = { 0.00012f, 0, 0 };
	assert_int_equal(th_snap_grid(fine, TH_SNAP_GRID_MIN, NULL, q, &why), 0);
	assert_float_equal(q[0], 0.0001f, 1e-9);
}

static void grid_refusals(void **state)
{
	(void)state;
	const char *why = NULL;
	float p[3] = { 1, 2, 3 }, q[3] = { 7, 7, 7 }, bad[3] = { NAN, 0, 0 };
	const char *size = "grid: the grid size must be 0.0001 to 100 metres";
	refused(th_snap_grid(p, -0.01f, NULL, q, &why), &why, size);
	refused(th_snap_grid(p, TH_SNAP_GRID_MIN / 2, NULL, q, &why), &why, size);
	refused(th_snap_grid(p, TH_SNAP_GRID_MAX * 2, NULL, q, &why), &why, size);
	refused(th_snap_grid(p, NAN, NULL, q, &why), &why, size);
	refused(th_snap_grid(bad, 0, NULL, q, &why), &why, "point: must be finite");
	refused(th_snap_grid(p, 0, bad, q, &why), &why, "point: must be finite");
	assert_true(q[0] == 7 && q[1] == 7 && q[2] == 7); /* untouched */
}

static void angle_snaps_to_fifteen_degrees(void **state)
{
	(void)state;
	const char *why = NULL;
	float a;
	assert_int_equal(th_snap_angle((float)(17.2 * PI / 180), 0, &a, &why), 0);
	assert_float_equal(a, 15 * PI / 180, 1e-6);
	assert_int_equal(th_snap_angle((float)(23 * PI / 180), 0, &a, &why), 0);
	assert_float_equal(a, 30 * PI / 180, 1e-6);
	assert_int_equal(th_snap_angle((float)(-50 * PI / 180), 0, &a, &why), 0);
	assert_float_equal(a, -45 * PI / 180, 1e-6);
	assert_int_equal(th_snap_angle((float)(50 * PI / 180), 90, &a, &why), 0);
	assert_float_equal(a, PI / 2, 1e-6);
	const char *step = "angle: the angle step must be 0.1 to 180 degrees";
	refused(th_snap_angle(1, -15, &a, &why), &why, step);
	refused(th_snap_angle(1, 0.05f, &a, &why), &why, step);
	refused(th_snap_angle(1, 181, &a, &why), &why, step);
	refused(th_snap_angle(1, NAN, &a, &why), &why, step);
	refused(th_snap_angle(INFINITY, 15, &a, &why), &why, "angle: must be finite");
}

/* q for angle (degrees) about the unit axis. */
static void quat(float q[4], double deg, float ax, float ay, float az)
{
	double h = deg * PI / 360;
	q[0] = (float)(ax * sin(h));
	q[1] = (float)(ay * sin(h));
	q[2] = (float)(az * sin(h));
	q[3] = (float)cos(h);
}

static void quat_near(const float a[4], const float b[4])
{
	double dot = 0;
	for (int i = 0; i < 4; i++)
		dot += (double)a[i] * b[i];
	assert_float_equal(fabs(dot), 1, 1e-6); /* the same rotation (q and -q alike) */
}

static void rotation_snaps_its_angle_about_its_own_axis(void **state)
{
	(void)state;
	const char *why = NULL;
	float q[4], r[4], want[4];
	float s = (float)sqrt(1.0 / 3);
	quat(q, 20, s, s, s);
	assert_int_equal(th_snap_rotation(q, 0, r, &why), 0);
	quat(want, 15, s, s, s);
	quat_near(r, want);
	assert_float_equal(r[0], want[0], 1e-6); /* the axis kept, not flipped */
	/* 350 degrees about z is 10 about -z: snaps to 15 about -z */
	quat(q, 350, 0, 0, 1);
	assert_int_equal(th_snap_rotation(q, 0, r, &why), 0);
	quat(want, 345, 0, 0, 1);
	quat_near(r, want);
	/* small rotations snap to the identity */
	quat(q, 7, 1, 0, 0);
	assert_int_equal(th_snap_rotation(q, 0, q, &why), 0);
	assert_true(q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 1);
	/* not normalised: normalised first */
	quat(q, 44, 0, 1, 0);
	for (int i = 0; i < 4; i++)
		q[i] *= 3;
	assert_int_equal(th_snap_rotation(q, 45, r, &why), 0);
	quat(want, 45, 0, 1, 0);
	quat_near(r, want);
	float zero[4] = { 0, 0, 0, 0 }, nan4[4] = { 0, NAN, 0, 1 };
	const char *bad = "rotation: the quaternion must be finite and not zero";
	refused(th_snap_rotation(zero, 0, r, &why), &why, bad);
	refused(th_snap_rotation(nan4, 0, r, &why), &why, bad);
	refused(th_snap_rotation(want, 200, r, &why), &why, "angle: the angle step must be 0.1 to 180 degrees");
}

static void mesh_snap_finds_the_nearest_feature(void **state)
{
	(void)state;
	struct th_mesh m;
	struct th_snap_hit h;
	const char *why = NULL;
	mf_build_cube(&m, NULL, 6);
	float p[3] = { 1.01f, 1, 0.98f };
	assert_int_equal(th_snap_mesh(&m, p, 0.1f, TH_SNAP_ALL, &h, &why), 1);
	assert_int_equal(h.kind, TH_SNAP_VERTEX);
	assert_int_equal(h.vertex, 7);
	near3(h.pos, 1, 1, 1, 0);
	assert_float_equal(h.dist, sqrt(0.0001 + 0.0004), 1e-6);
	float e[3] = { 0.52f, 0, 0.03f };
	assert_int_equal(th_snap_mesh(&m, e, 0.1f, TH_SNAP_ALL, &h, &why), 1);
	assert_int_equal(h.kind, TH_SNAP_EDGE_MID);
	assert_true(h.vertex == 1 && h.vertex2 == 2);
	near3(h.pos, 0.5f, 0, 0, 0);
	float f[3] = { 0.45f, 0.5f, 1.05f };
	assert_int_equal(th_snap_mesh(&m, f, 0.1f, TH_SNAP_ALL, &h, &why), 1);
	assert_int_equal(h.kind, TH_SNAP_FACE_CENTRE);
	assert_int_equal(h.face, 102);
	near3(h.pos, 0.5f, 0.5f, 1, 0);
	/* only the kinds asked for */
	struct th_snap_hit keep = h;
	assert_int_equal(th_snap_mesh(&m, f, 0.1f, TH_SNAP_VERTEX | TH_SNAP_EDGE_MID, &h, &why), 0);
	assert_memory_equal(&h, &keep, sizeof(h)); /* untouched */
	assert_int_equal(th_snap_mesh(&m, f, 0.6f, TH_SNAP_EDGE_MID, &h, &why), 1);
	assert_int_equal(h.kind, TH_SNAP_EDGE_MID);
	/* outside the radius: nothing; the radius is inclusive */
	float far[3] = { 3, 3, 3 };
	assert_int_equal(th_snap_mesh(&m, far, 1, TH_SNAP_ALL, &h, &why), 0);
	float on[3] = { 1, 1, 1 };
	assert_int_equal(th_snap_mesh(&m, on, 0, TH_SNAP_ALL, &h, &why), 1);
	assert_int_equal(h.vertex, 7);
	/* an empty mesh has nothing to snap to */
	struct th_mesh empty;
	assert_int_equal(th_mesh_init(&empty, 5), 0);
	assert_int_equal(th_snap_mesh(&empty, on, 10, TH_SNAP_ALL, &h, &why), 0);
	th_mesh_fini(&empty);
	th_mesh_fini(&m);
}

/* Ties go to a vertex, then an edge midpoint, then the lowest ids, however
 * the mesh was built (slot order is not id order). */
static void mesh_snap_ties_are_deterministic(void **state)
{
	(void)state;
	struct th_mesh a, b;
	struct th_snap_hit h;
	const char *why = NULL;
	mf_build_cube(&a, NULL, 6);
	mf_build_cube_reversed(&b); /* other slots */
	const struct th_mesh *ms[2] = { &a, &b };
	for (int k = 0; k < 2; k++) {
		float mid[3] = { 0.25f, 0, 0 }; /* as far from vertex 1 as from the midpoint of 1-2 */
		assert_int_equal(th_snap_mesh(ms[k], mid, 1, TH_SNAP_ALL, &h, &why), 1);
		assert_int_equal(h.kind, TH_SNAP_VERTEX);
		assert_int_equal(h.vertex, 1);
		float half[3] = { 0.5f, 0, 0 }; /* vertices 1 and 2 tie */
		assert_int_equal(th_snap_mesh(ms[k], half, 1, TH_SNAP_VERTEX, &h, &why), 1);
		assert_int_equal(h.vertex, 1);
		float centre[3] = { 0.5f, 0.5f, 0.5f }; /* six face centres tie */
		assert_int_equal(th_snap_mesh(ms[k], centre, 1, TH_SNAP_FACE_CENTRE, &h, &why), 1);
		assert_int_equal(h.face, 101);
		float corner_mid[3] = { 1, 1, 0.5f }; /* the midpoint of 3-7 exactly */
		assert_int_equal(th_snap_mesh(ms[k], corner_mid, 1, TH_SNAP_ALL, &h, &why), 1);
		assert_int_equal(h.kind, TH_SNAP_EDGE_MID);
		assert_true(h.vertex == 3 && h.vertex2 == 7);
	}
	th_mesh_fini(&a);
	th_mesh_fini(&b);
}

static void mesh_snap_refusals(void **state)
{
	(void)state;
	struct th_mesh m;
	struct th_snap_hit h;
	const char *why = NULL;
	float p[3] = { 0, 0, 0 }, bad[3] = { 0, INFINITY, 0 };
	mf_build_cube(&m, NULL, 6);
	const char *radius = "radius: the snap radius must be 0 to 1000 metres";
	refused(th_snap_mesh(&m, p, -1, TH_SNAP_ALL, &h, &why), &why, radius);
	refused(th_snap_mesh(&m, p, NAN, TH_SNAP_ALL, &h, &why), &why, radius);
	refused(th_snap_mesh(&m, p, 2000, TH_SNAP_ALL, &h, &why), &why, radius);
	const char *kinds = "kinds: snap to vertices, edge midpoints or face centres (a mask of TH_SNAP_*)";
	refused(th_snap_mesh(&m, p, 1, 0, &h, &why), &why, kinds);
	refused(th_snap_mesh(&m, p, 1, TH_SNAP_ALL + 1, &h, &why), &why, kinds);
	refused(th_snap_mesh(&m, bad, 1, TH_SNAP_ALL, &h, &why), &why, "point: must be finite");
	th_mesh_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grid_defaults_to_a_centimetre),
		cmocka_unit_test(grid_refusals),
		cmocka_unit_test(angle_snaps_to_fifteen_degrees),
		cmocka_unit_test(rotation_snaps_its_angle_about_its_own_axis),
		cmocka_unit_test(mesh_snap_finds_the_nearest_feature),
		cmocka_unit_test(mesh_snap_ties_are_deterministic),
		cmocka_unit_test(mesh_snap_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
