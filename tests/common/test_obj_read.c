/* th_obj_read: a cube of quads written with every corner form (v, v/vt,
 * v//vn, v/vt/vn) and negative indices; o / g splitting into objects with
 * their own vertices, free vertices kept; materials by usemtl from the MTL
 * bytes the caller passes (Kd, d, Pr, Pm) or by name alone; and each kind
 * of bad input refused with line:column, the model left empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_mesh.h"
#include "th_model.h"
#include "th_modelcheck.h"

#define CUBE_V                                                                                      \
	"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\n"                  \
	"vt 0 0\nvt 1 0\nvt 1 1\nvn 0 0 1\n"

static int rd(const char *obj, const char *mtl, struct th_model *m, char *why)
{
	return th_obj_read((const uint8_t *)obj, strlen(obj), (const uint8_t *)mtl, mtl ? strlen(mtl) : 0, m, why,
			   TH_MODEL_WHY_LEN);
}

/* obj (and mtl) read into m (the test fails on a refusal). */
static void read_ok(const char *obj, const char *mtl, struct th_model *m)
{
	char why[TH_MODEL_WHY_LEN];
	if (rd(obj, mtl, m, why) < 0)
		fail_msg("refused: %s", why);
}

static void a_cube_in_every_corner_form_reads_as_six_quads(void **state)
{
	(void)state;
	const char *obj = "# a cube\nmtllib cube.mtl\no Cube\n" CUBE_V "s off\n"
			  "f 1 4 3 2\n"
			  "f 5/1 6/2 7/3 8/1\n"
			  "f 1//1 2//1 6//1 5//1\n"
			  "f 2/1/1 3/2/1 7/3/1 6/1/1\n"
			  "f -6 -5 -1 -2\n" /* 3 4 8 7 */
			  "f 4 1 5 8\n";
	struct th_model m;
	read_ok(obj, NULL, &m);
	assert_int_equal(m.n_objects, 1);
	assert_string_equal(m.objects[0].name, "Cube");
	assert_int_equal(m.n_verts, 8);
	assert_int_equal(m.n_faces, 6);
	for (uint32_t f = 0; f < 6; f++)
		assert_int_equal(m.faces[f].n, 4);
	/* f -6 -5 -1 -2 names v 3 4 8 7. */
	const uint32_t *c = &m.corners[m.faces[4].first];
	assert_true(m.pos[c[0]][0] == 1 && m.pos[c[0]][1] == 1 && m.pos[c[0]][2] == 0);
	assert_true(m.pos[c[2]][0] == 0 && m.pos[c[2]][1] == 1 && m.pos[c[2]][2] == 1);
	assert_true(m.objects[0].rotation[3] == 1 && m.objects[0].scale[0] == 1);
	assert_int_equal(m.faces[0].material, TH_MODEL_NO_MATERIAL);
	th_model_fini(&m);
}

static void objects_split_on_o_and_g_with_their_own_and_free_vertices(void **state)
{
	(void)state;
	const char *obj = "o A\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 5 5 5\nf 1 2 3\n"
			  "g B\nv 0 0 1\nf 1 2 5\nf 2 3 5\n"
			  "o C\nv 9 9 9\n";
	struct th_model m;
	read_ok(obj, NULL, &m);
	assert_int_equal(m.n_objects, 3);
	assert_string_equal(m.objects[0].name, "A");
	assert_int_equal(m.objects[0].n_faces, 1);
	assert_int_equal(m.objects[0].n_verts, 4); /* its triangle's and v 5 5 5, free */
	assert_string_equal(m.objects[1].name, "B");
	assert_int_equal(m.objects[1].n_faces, 2);
	assert_int_equal(m.objects[1].n_verts, 4); /* v 1 2 3 again, and its own */
	assert_string_equal(m.objects[2].name, "C");
	assert_int_equal(m.objects[2].n_faces, 0);
	assert_int_equal(m.objects[2].n_verts, 1);
	th_model_fini(&m);
}

static void equal_positions_weld_into_one_connected_mesh(void **state)
{
	(void)state;
	/* Two triangles of a quad written with their own vertices each. */
	const char *obj = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 0 0\nv 1 1 0\nv -0 1 0\nf 1 2 3\nf 4 5 6\n";
	struct th_model m;
	read_ok(obj, NULL, &m);
	assert_int_equal(m.n_verts, 4);
	assert_int_equal(m.n_faces, 2);
	th_model_fini(&m);
}

static void materials_come_from_the_mtl_bytes_or_by_name(void **state)
{
	(void)state;
	const char *mtl = "# materials\nnewmtl glass\nKa 0 0 0\nKd 0.2 0.4 0.6\nd 0.25\nPr 0.1\n"
			  "newmtl steel\nKd 0.5 0.5 0.5\nPm 1\nNs 100\nmap_Kd steel.png\n";
	const char *obj = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nusemtl steel\nf 1 2 3\nusemtl glass\nf 2 4 3\n"
			  "usemtl wood\nv 2 0 0\nf 2 5 4\n";
	struct th_model m;
	read_ok(obj, mtl, &m);
	assert_int_equal(m.n_materials, 3);
	assert_string_equal(m.materials[0].name, "glass");
	assert_true(m.materials[0].base_color[1] == 0.4f && m.materials[0].base_color[3] == 0.25f &&
		    m.materials[0].roughness == 0.1f && m.materials[0].metallic == 0);
	assert_true(m.materials[1].metallic == 1);
	assert_string_equal(m.materials[2].name, "wood"); /* not in the MTL: default values */
	assert_int_equal(m.faces[0].material, 1);
	assert_int_equal(m.faces[1].material, 0);
	assert_int_equal(m.faces[2].material, 2);
	th_model_fini(&m);
}

static void refused(const char *obj, const char *mtl, const char *needle)
{
	struct th_model m;
	char why[TH_MODEL_WHY_LEN] = "";
	mc_refused(rd(obj, mtl, &m, why), why, &m, needle);
}

static void bad_files_are_refused_with_line_and_column(void **state)
{
	(void)state;
	refused("v 0 0 0\nv 1 x 0\n", NULL, "line 2:5: 'x' is not a finite number");
	refused("v 0 0 0\nv 1 0\n", NULL, "line 2:6: a number is missing");
	refused("v 0 0 1e39\n", NULL, "line 1:7: '1e39' is not a finite number");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", NULL, "line 4:7: vertex index 4 names none of the 3 vertices so far");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 -4\n", NULL, "line 4:7: vertex index -4");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/1 2 3\n", NULL, "line 5:7: corner '2' mixes forms");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1/1 2/1 3/1\n", NULL, "texture coordinate index 1 names none of the 0");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 1\n", NULL, "line 4:7: the face uses vertex 1 twice");
	refused("v 0 0 0\nv 1 0 0\nf 1 2\n", NULL, "line 3:1: a face needs at least 3 corners, this one has 2");
	refused("v 0 0 0\ncurv 0 1 1 2\n", NULL, "line 2:1: 'curv' is not a statement this reader takes");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 3\n", NULL, "face 1 (3 corners) cannot join the mesh");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 0\nf 1 2 3\nf 4 1 2\n", NULL, "corners 0 and 1 of face 1 are at the same position");
	refused("# nothing\n", NULL, "nothing to import");
	refused("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "Kd 1 1 1\n", "the MTL file, line 1:1: 'Kd' before any newmtl");
	refused("v 0 0 0\n", "newmtl a\nKd 1 2 1\n", "the MTL file, line 2:1: Kd must lie from 0 to 1");
	char big[TH_MODEL_FACE_VERTS_MAX * 32 + 64];
	size_t n = 0;
	for (unsigned i = 0; i <= TH_MODEL_FACE_VERTS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "v %u 0 0\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "f");
	for (unsigned i = 0; i <= TH_MODEL_FACE_VERTS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, " %u", i + 1);
	refused(big, NULL, "a face has more than 64 corners");
	struct th_model m;
	char why[TH_MODEL_WHY_LEN];
	assert_int_equal(th_obj_read((const uint8_t *)"v", (size_t)TH_MODEL_FILE_MAX + 1, NULL, 0, &m, why, sizeof(why)),
			 -E2BIG);
}

/* th_model_order on a closed torus of 24 x 12 quads and two cubes in one
 * object, faces in a seeded shuffled order (so faces of one piece come
 * before the faces that join them): added one at a time in the reader's
 * order, every face joins the mesh validly, and the result is closed. */
static void faces_in_any_order_join_one_at_a_time(void **state)
{
	(void)state;
	enum { NU = 24, NV = 12, NF = NU * NV + 12 };
	static char obj[64 * 1024];
	uint32_t faces[NF][4];
	size_t n = 0;
	for (unsigned j = 0; j < NV; j++)
		for (unsigned i = 0; i < NU; i++)
			n += (size_t)snprintf(obj + n, sizeof(obj) - n, "v %u %u %u\n", i, j, (i * 31 + j * 17) % 5);
	static const uint32_t q[6][4] = { { 0, 3, 2, 1 }, { 4, 5, 6, 7 }, { 0, 1, 5, 4 },
					  { 1, 2, 6, 5 }, { 2, 3, 7, 6 }, { 3, 0, 4, 7 } };
	for (unsigned c = 0; c < 2; c++)
		for (unsigned k = 0; k < 8; k++)
			n += (size_t)snprintf(obj + n, sizeof(obj) - n, "v %u %u %u\n", 100 + c * 10 + (k == 1 || k == 2 || k == 5 || k == 6),
					      (unsigned)(k == 2 || k == 3 || k == 6 || k == 7), (unsigned)(k >= 4));
	unsigned nf = 0;
	for (unsigned j = 0; j < NV; j++)
		for (unsigned i = 0; i < NU; i++) {
			uint32_t a = j * NU + i, b = j * NU + (i + 1) % NU, c = ((j + 1) % NV) * NU + (i + 1) % NU,
				 d = ((j + 1) % NV) * NU + i;
			uint32_t f[4] = { a, b, c, d };
			memcpy(faces[nf++], f, sizeof(f));
		}
	for (unsigned c = 0; c < 2; c++)
		for (unsigned k = 0; k < 6; k++) {
			uint32_t f[4];
			for (unsigned x = 0; x < 4; x++)
				f[x] = NU * NV + c * 8 + q[k][x];
			memcpy(faces[nf++], f, sizeof(f));
		}
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (unsigned i = nf - 1; i > 0; i--) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		unsigned k = (unsigned)(rng % (i + 1));
		uint32_t t[4];
		memcpy(t, faces[i], sizeof(t));
		memcpy(faces[i], faces[k], sizeof(t));
		memcpy(faces[k], t, sizeof(t));
	}
	for (unsigned i = 0; i < nf; i++)
		n += (size_t)snprintf(obj + n, sizeof(obj) - n, "f %u %u %u %u\n", faces[i][0] + 1, faces[i][1] + 1,
				      faces[i][2] + 1, faces[i][3] + 1);
	struct th_model m;
	read_ok(obj, NULL, &m);
	const struct th_model_object *o = &m.objects[0];
	assert_int_equal(o->n_faces, nf);
	struct th_mesh mesh;
	assert_int_equal(th_mesh_init(&mesh, 1), 0);
	for (uint32_t v = 0; v < o->n_verts; v++) {
		struct th_pl_mesh_op op = { .op = TH_PL_MESH_OP_VERTEX_ADD };
		uint64_t id = 1 + v;
		const char *w;
		memcpy(op.position, m.pos[o->first_vert + v], sizeof(op.position));
		assert_int_equal(th_mesh_apply(&mesh, &op, 1, &id, NULL, &w), 0);
	}
	for (uint32_t k = 0; k < o->n_faces; k++) {
		const struct th_model_face *fc = &m.faces[o->first_face + o->order[k]];
		struct th_pl_mesh_op ops[5] = { { .op = TH_PL_MESH_OP_FACE_ADD } };
		uint64_t ids[5] = { 1000 + k };
		for (uint32_t c = 0; c < fc->n; c++)
			ops[1 + c] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_LOOP,
							     .element = 1 + m.corners[fc->first + c] - o->first_vert };
		const char *w = NULL;
		if (th_mesh_apply(&mesh, ops, 1 + fc->n, ids, NULL, &w) != 0)
			fail_msg("face %u of the order does not join: %s", k, w);
	}
	struct th_mesh_stats st;
	th_mesh_stats(&mesh, &st);
	assert_int_equal(st.boundary_edges, 0);
	assert_int_equal(st.euler, 0 + 2 + 2); /* a torus and two spheres */
	th_mesh_fini(&mesh);
	th_model_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_cube_in_every_corner_form_reads_as_six_quads),
		cmocka_unit_test(objects_split_on_o_and_g_with_their_own_and_free_vertices),
		cmocka_unit_test(equal_positions_weld_into_one_connected_mesh),
		cmocka_unit_test(materials_come_from_the_mtl_bytes_or_by_name),
		cmocka_unit_test(faces_in_any_order_join_one_at_a_time),
		cmocka_unit_test(bad_files_are_refused_with_line_and_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
