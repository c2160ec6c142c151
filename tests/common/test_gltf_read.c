/* th_gltf_read: .glb and .gltf (data: URI) files built here byte by byte:
 * a cube of 12 indexed triangles with the export's face_triangles extras
 * comes back as 6 quads on 8 welded vertices with the node's TRS bit for
 * bit; unindexed triangles weld; u8 / u16 / u32 indices; a node tree's
 * rotation becomes the transform, a shear is baked into the positions;
 * materials' factors; and each kind of bad input is one sentence naming
 * where, with the model left empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_gltffix.h"
#include "th_model.h"
#include "th_modelcheck.h"

static int read_glb(struct gf_file *f, struct th_model *m, char *why)
{
	gf_glb(f);
	return th_gltf_read(f->out, f->len, m, why, TH_MODEL_WHY_LEN);
}

/* f as a .glb read into m (the test fails on a refusal). */
static void glb_ok(struct gf_file *f, struct th_model *m)
{
	char why[TH_MODEL_WHY_LEN];
	if (read_glb(f, m, why) < 0)
		fail_msg("refused: %s", why);
}

static void positions_equal(const struct th_model *m, uint32_t v, const float *p)
{
	for (int k = 0; k < 3; k++)
		assert_true(m->pos[v][k] == p[k]);
}

static void a_glb_cube_with_extras_comes_back_as_six_quads(void **state)
{
	(void)state;
	static struct gf_file f;
	struct th_model m;
	gf_cube_bin(&f, 2);
	gf_cube_json(&f, 2, ",\"translation\":[1.5,-2,0.25],\"rotation\":[0,0.6,0,0.8],\"scale\":[2,2,3]",
		     ",\"extras\":{\"theta_faces\":{\"triangles\":[2,2,2,2,2,2],\"author\":[0,0,0,0,0,-1],\"lamport\":[7,7,7,7,7,9]}}");
	glb_ok(&f, &m);
	assert_int_equal(m.n_objects, 1);
	assert_string_equal(m.objects[0].name, "Box");
	assert_int_equal(m.n_verts, 8);
	assert_int_equal(m.n_faces, 6);
	for (uint32_t i = 0; i < 6; i++) {
		assert_int_equal(m.faces[i].n, 4);
		assert_int_equal(m.faces[i].material, 0);
		/* The quad's corners as written (the loop may start elsewhere). */
		const uint32_t *c = &m.corners[m.faces[i].first];
		unsigned s = 0;
		while (s < 4 && !(m.pos[c[s]][0] == gf_cube_pos[gf_cube_quads[i][0]][0] &&
				  m.pos[c[s]][1] == gf_cube_pos[gf_cube_quads[i][0]][1] &&
				  m.pos[c[s]][2] == gf_cube_pos[gf_cube_quads[i][0]][2]))
			s++;
		assert_true(s < 4);
		for (unsigned k = 0; k < 4; k++)
			positions_equal(&m, c[(s + k) % 4], gf_cube_pos[gf_cube_quads[i][k]]);
	}
	const struct th_model_object *o = &m.objects[0];
	assert_true(o->position[0] == 1.5f && o->position[1] == -2 && o->position[2] == 0.25f);
	assert_true(o->rotation[1] == 0.6f && o->rotation[3] == 0.8f && o->scale[2] == 3);
	assert_int_equal(m.n_materials, 1);
	assert_string_equal(m.materials[0].name, "red");
	assert_true(m.materials[0].base_color[3] == 0.5f && m.materials[0].metallic == 0.25f &&
		    m.materials[0].roughness == 0.75f);
	assert_non_null(o->order);
	assert_int_equal(m.materials[0].source_index, TH_MODEL_NO_MATERIAL);
	th_model_fini(&m);

	/* A Theta export's material names its table entry. */
	gf_with(&f, "\"name\":\"red\"", "\"name\":\"m7_red\",\"extras\":{\"theta_material\":7}");
	glb_ok(&f, &m);
	assert_string_equal(m.materials[0].name, "red");
	assert_int_equal(m.materials[0].source_index, 7);
	th_model_fini(&m);
}

static void every_index_width_reads_and_triangles_stay_without_extras(void **state)
{
	(void)state;
	static struct gf_file f;
	struct th_model m;
	char why[TH_MODEL_WHY_LEN];
	for (unsigned w = 1; w <= 4; w *= 2) {
		gf_cube_bin(&f, w);
		gf_cube_json(&f, w, "", "");
		if (read_glb(&f, &m, why) < 0)
			fail_msg("width %u refused: %s", w, why);
		assert_int_equal(m.n_faces, 12);
		assert_int_equal(m.n_verts, 8);
		th_model_fini(&m);
	}
}

/* A .gltf whose buffer is a data: URI, triangles unindexed (36 vertices). */
static void unindexed_triangles_in_a_data_uri_are_welded(void **state)
{
	(void)state;
	float tri[36][3];
	for (unsigned q = 0, n = 0; q < 6; q++) {
		const uint32_t *c = gf_cube_quads[q];
		uint32_t t[6] = { c[0], c[1], c[2], c[0], c[2], c[3] };
		for (unsigned k = 0; k < 6; k++, n++)
			memcpy(tri[n], gf_cube_pos[t[k]], sizeof(tri[0]));
	}
	char b64[1024], json[4096];
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)tri, sizeof(tri), sodium_base64_VARIANT_ORIGINAL);
	snprintf(json, sizeof(json),
		 "{\"asset\":{\"version\":\"2.0\"},\"nodes\":[{\"mesh\":0}],"
		 "\"meshes\":[{\"name\":\"m\",\"primitives\":[{\"attributes\":{\"POSITION\":0}}]}],"
		 "\"buffers\":[{\"byteLength\":432,\"uri\":\"data:application/octet-stream;base64,%s\"}],"
		 "\"bufferViews\":[{\"buffer\":0,\"byteLength\":432}],"
		 "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":36,\"type\":\"VEC3\"}]}",
		 b64);
	struct th_model m;
	char why[TH_MODEL_WHY_LEN];
	if (th_gltf_read((const uint8_t *)json, strlen(json), &m, why, sizeof(why)) < 0)
		fail_msg("refused: %s", why);
	assert_int_equal(m.n_objects, 1);
	assert_string_equal(m.objects[0].name, "m"); /* the mesh's name when the node has none */
	assert_int_equal(m.n_verts, 8);
	assert_int_equal(m.n_faces, 12);
	assert_int_equal(m.faces[0].material, TH_MODEL_NO_MATERIAL);
	th_model_fini(&m);
}

static void a_rotation_in_the_tree_becomes_the_transform_and_a_shear_is_baked(void **state)
{
	(void)state;
	static struct gf_file f;
	struct th_model m;
	gf_cube_bin(&f, 2);
	/* Parent: translation (0,0,5); child: 90 degrees about z as a matrix. */
	gf_cube_json(&f, 2, "", "");
	gf_with(&f, "\"nodes\":[{\"name\":\"Box\",\"mesh\":0}]",
		"\"nodes\":[{\"translation\":[0,0,5],\"children\":[1]},"
		"{\"name\":\"Box\",\"mesh\":0,\"matrix\":[0,1,0,0,-1,0,0,0,0,0,1,0,0,0,0,1]}]");
	glb_ok(&f, &m);
	const struct th_model_object *o = &m.objects[0];
	assert_true(fabsf(o->position[2] - 5) < 1e-6f && fabsf(o->position[0]) < 1e-6f);
	assert_true(fabsf(o->rotation[2] - sqrtf(0.5f)) < 1e-6f && fabsf(o->rotation[3] - sqrtf(0.5f)) < 1e-6f);
	assert_true(fabsf(o->scale[0] - 1) < 1e-6f);
	positions_equal(&m, m.corners[m.faces[0].first], gf_cube_pos[gf_cube_quads[0][0]]); /* local positions kept */
	th_model_fini(&m);

	/* A shear: x' = x + y. Baked: identity transform, positions sheared. */
	gf_cube_json(&f, 2, ",\"matrix\":[1,0,0,0,1,1,0,0,0,0,1,0,0,0,0,1]", "");
	glb_ok(&f, &m);
	o = &m.objects[0];
	assert_true(o->position[0] == 0 && o->rotation[3] == 1 && o->scale[0] == 1);
	bool seen = false;
	for (uint32_t v = 0; v < m.n_verts; v++)
		seen |= m.pos[v][0] == 2 && m.pos[v][1] == 1 && m.pos[v][2] == 1; /* (1,1,1) sheared */
	assert_true(seen);
	th_model_fini(&m);
}

/* Refusals: each a sentence with where; m is empty afterwards. */
static void refused(struct gf_file *f, bool as_glb, const char *needle)
{
	struct th_model m;
	char why[TH_MODEL_WHY_LEN] = "";
	int r;
	if (as_glb) {
		r = read_glb(f, &m, why);
	} else {
		r = th_gltf_read((const uint8_t *)f->json, strlen(f->json), &m, why, sizeof(why));
	}
	mc_refused(r, why, &m, needle);
}

/* The cube's JSON with node / primitive extras and from replaced by to
 * (no replacement when from is NULL): refused as a .glb with needle. */
static const struct json_edit {
	const char *node, *prim, *from, *to, *needle;
} json_edits[] = {
	/* Accessors and views. */
	{ "", "", "\"count\":8", "\"count\":9", "accessor 0: 9 elements from byte 0 run past the end of bufferView 0" },
	{ "", "", "\"componentType\":5126", "\"componentType\":5123",
	  "accessor 0: componentType must be 5126 (float)" },
	{ "", "", "\"byteLength\":72}", "\"byteLength\":900}",
	  "bufferView 1: bytes 96 to 996 lie past the end of buffer 0" },
	/* Primitive and node. */
	{ "", "", "\"material\":0", "\"material\":0,\"mode\":1", "mesh 0 primitive 0: mode 1 is not 4 (triangles)" },
	{ ",\"children\":[0]", "", NULL, NULL, "node 0 appears twice in the node tree" },
	{ ",\"rotation\":[0,0,0,2]", "", NULL, NULL, "node 0: rotation is not a unit quaternion" },
	/* Materials. */
	{ "", "", "\"metallicFactor\":0.25", "\"metallicFactor\":1.25",
	  "material 0: metallicFactor is not a number from 0 to 1" },
	/* Buffers. */
	{ "", "", "\"buffers\":[{\"byteLength\":168}]", "\"buffers\":[{\"byteLength\":168,\"uri\":\"cube.bin\"}]",
	  "buffer 0: uri 'cube.bin' is not a base64 data: URI" },
	/* The export's extras. */
	{ "", ",\"extras\":{\"theta_faces\":{\"triangles\":[2,2,2,2,2]}}", NULL, NULL,
	  "the faces' triangle counts add up to 10, but there are 12 triangles" },
	{ "", ",\"extras\":{\"theta_faces\":{\"triangles\":[3,1,2,2,2,2]}}", NULL, NULL, "do not form one polygon" },
};

static void bad_files_are_one_sentence_naming_where(void **state)
{
	(void)state;
	static struct gf_file f;
	gf_cube_glb(&f, "", "");
	struct th_model m;
	char why[TH_MODEL_WHY_LEN];
	/* The container. */
	gf_put32(f.out + 8, (uint32_t)f.len + 4);
	assert_true(th_gltf_read(f.out, f.len, &m, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "byte 8: the header says"));
	assert_true(th_gltf_read(f.out, 17, &m, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "shorter than its header"));
	/* JSON. */
	snprintf(f.json, sizeof(f.json), "{\"asset\":{\"version\":\"2.0\"},\"nodes\":[}");
	refused(&f, false, "byte 36: the JSON is not valid");
	snprintf(f.json, sizeof(f.json), "{\"asset\":{\"version\":\"1.0\"}}");
	refused(&f, false, "only glTF 2.x is read");
	/* Valid, but no node holds a mesh (th_model_finish's refusal). */
	snprintf(f.json, sizeof(f.json), "{\"asset\":{\"version\":\"2.0\"},\"nodes\":[{\"name\":\"empty\"}]}");
	refused(&f, false, "the scene has no node with a mesh: nothing to import");
	/* The cube's JSON edited. */
	for (size_t i = 0; i < sizeof(json_edits) / sizeof(json_edits[0]); i++) {
		const struct json_edit *e = &json_edits[i];
		gf_cube_json(&f, 2, e->node, e->prim);
		if (e->from)
			gf_with(&f, e->from, e->to);
		refused(&f, true, e->needle);
	}
	/* Its bytes edited. */
	gf_cube_bin(&f, 2);
	gf_cube_json(&f, 2, "", "");
	f.bin[96] = 9; /* the first index names vertex 9 of 8 */
	refused(&f, true, "mesh 0 primitive 0: index 0 is 9, past the 8 vertices");
	gf_cube_bin(&f, 2);
	float nan = NAN;
	memcpy(f.bin + 4, &nan, 4);
	refused(&f, true, "accessor 0: vertex 0 has a coordinate that is not a finite number");
	/* Not manifold: the same triangle twice. */
	gf_cube_bin(&f, 2);
	f.bin[96 + 6] = f.bin[96], f.bin[96 + 8] = f.bin[96 + 2], f.bin[96 + 10] = f.bin[96 + 4];
	refused(&f, true, "object 0 'Box': face");
	/* Too large. */
	assert_int_equal(th_gltf_read(f.out, (size_t)TH_MODEL_FILE_MAX + 1, &m, why, sizeof(why)), -E2BIG);
	assert_non_null(strstr(why, "at most"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_glb_cube_with_extras_comes_back_as_six_quads),
		cmocka_unit_test(every_index_width_reads_and_triangles_stay_without_extras),
		cmocka_unit_test(unindexed_triangles_in_a_data_uri_are_welded),
		cmocka_unit_test(a_rotation_in_the_tree_becomes_the_transform_and_a_shear_is_baked),
		cmocka_unit_test(bad_files_are_one_sentence_naming_where),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
