/* th_export: the glTF (.glb, .gltf) and OBJ + MTL files of a known scene
 * of two authors (tests/lib/th_exportscene.h), read back byte by byte:
 * the GLB framing, nodes with their TRS, one primitive per material with
 * fanned triangles, flat unit normals, POSITION bounds, materials as PBR
 * (glass blends, brass is metal), per-face provenance in the extras as
 * docs/export.md describes it, the .gltf's base64 buffer equal to the
 * .glb's BIN chunk, OBJ n-gons and comments; each glTF file passes the
 * Khronos validator when it is installed (else that check says why not). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>

#include "th_buf.h"
#include "th_cmd.h"
#include "th_payload.h"
#include "th_export.h"
#include "th_exportscene.h"
#include "th_gltfcheck.h"
#include "th_harness.h"
#include "th_scene.h"

struct fx {
	struct sh_log l;
	struct xs_scene x;
	struct th_scene *s;
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	sh_init(&f->l, false);
	assert_int_equal(xs_build(&f->l, &f->x), 0);
	assert_int_equal(th_scene_create(&f->s), 0);
	for (size_t i = 0; i < f->l.n; i++) {
		struct th_scene_refusal r = { 0 };
		if (th_scene_apply(f->s, &f->l.v[i].e, NULL, &r) != 0)
			fail_msg("entry %zu refused: %s", i, r.why ? r.why : "?");
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/theta-export-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	th_scene_destroy(&f->s);
	sh_fini(&f->l);
	if (!getenv("THETA_KEEP_EXPORT"))
		th_rm_rf(f->dir);
	free(f);
	return 0;
}

struct blob {
	uint8_t *d;
	size_t len;
};

/* Exports f's scene as `format` into dir/name (and dir/name.mtl for OBJ). */
static struct blob export_to(struct fx *f, enum th_export_format format, const char *name,
			     struct th_export_stats *st, struct blob *mtl)
{
	char path[160], mpath[170];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	snprintf(mpath, sizeof(mpath), "%s/%s.mtl", f->dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int mfd = format == TH_EXPORT_OBJ ? open(mpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	assert_true(fd >= 0);
	char mtl_name[64];
	snprintf(mtl_name, sizeof(mtl_name), "%s.mtl", name);
	struct th_export_config c = { .format = format, .session = "0123456789abcdef0123456789abcdef",
				      .position = f->l.n, .mtl_name = mtl_name, .generator = "Theta test" };
	assert_int_equal(th_export_scene(f->s, &c, fd, mfd, st), 0);
	struct blob b = { 0 };
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, st->bytes);
	b.len = (size_t)sb.st_size;
	b.d = malloc(b.len + 1);
	assert_int_equal(pread(fd, b.d, b.len, 0), (ssize_t)b.len);
	b.d[b.len] = 0;
	close(fd);
	if (mfd >= 0) {
		assert_int_equal(fstat(mfd, &sb), 0);
		assert_int_equal((uint64_t)sb.st_size, st->mtl_bytes);
		mtl->len = (size_t)sb.st_size;
		mtl->d = malloc(mtl->len + 1);
		assert_int_equal(pread(mfd, mtl->d, mtl->len, 0), (ssize_t)mtl->len);
		mtl->d[mtl->len] = 0;
		close(mfd);
	}
	return b;
}

static struct json_object *jat(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

static struct json_object *jidx(struct json_object *a, size_t i)
{
	assert_true(json_object_is_type(a, json_type_array));
	assert_true(i < json_object_array_length(a));
	return json_object_array_get_idx(a, i);
}

static int64_t jint(struct json_object *o, const char *key) { return json_object_get_int64(jat(o, key)); }

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static float lef(const uint8_t *p)
{
	uint32_t u = le32(p);
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static void fingerprint(const uint8_t *key, char out[TH_KEY_FPR_LEN])
{
	assert_int_equal(th_key_fingerprint(key, out, TH_KEY_FPR_LEN), 0);
}

/* The checks every glTF file of the scene passes, JSON + its buffer. */
static void check_gltf(struct fx *f, struct json_object *j, const uint8_t *bin, size_t bin_len)
{
	assert_string_equal(json_object_get_string(jat(jat(j, "asset"), "version")), "2.0");
	struct json_object *theta = jat(jat(j, "extras"), "theta");
	assert_int_equal(jint(theta, "format"), 1);
	assert_int_equal(jint(theta, "position"), f->l.n);
	struct json_object *authors = jat(theta, "authors");
	assert_int_equal(json_object_array_length(authors), 2);
	char fa[TH_KEY_FPR_LEN], fb[TH_KEY_FPR_LEN];
	fingerprint(f->x.a.kp.pk, fa);
	fingerprint(f->x.b.kp.pk, fb);
	/* Both, once each, in the order faces name them first. */
	int64_t ia = strcmp(json_object_get_string(jidx(authors, 0)), fa) ? 1 : 0, ib = 1 - ia;
	assert_string_equal(json_object_get_string(jidx(authors, (size_t)ia)), fa);
	assert_string_equal(json_object_get_string(jidx(authors, (size_t)ib)), fb);

	struct json_object *nodes = jat(j, "nodes"), *meshes = jat(j, "meshes"), *mats = jat(j, "materials");
	assert_int_equal(json_object_array_length(nodes), XS_NODES);
	assert_int_equal(json_object_array_length(meshes), XS_MESHES);
	assert_int_equal(json_object_array_length(mats), XS_MATERIALS);
	assert_int_equal(json_object_array_length(jat(jidx(jat(j, "scenes"), 0), "nodes")), XS_NODES);
	/* B's strip: rotated 90 degrees about z, at (5, 0, 0), scale 2. */
	int found = 0;
	for (size_t i = 0; i < XS_NODES; i++) {
		struct json_object *n = jidx(nodes, i), *m;
		if (!json_object_object_get_ex(n, "mesh", &m))
			continue;
		struct json_object *rot = jat(n, "rotation"), *tr = jat(n, "translation"), *sc = jat(n, "scale");
		struct json_object *mesh = jidx(meshes, (size_t)json_object_get_int(m));
		char hex[17];
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)f->x.strip_b.mesh);
		if (strcmp(json_object_get_string(jat(jat(mesh, "extras"), "theta_mesh")), hex))
			continue;
		found++;
		assert_true(fabs(json_object_get_double(jidx(rot, 2)) - sin(M_PI / 4)) < 1e-6);
		assert_true(fabs(json_object_get_double(jidx(rot, 3)) - cos(M_PI / 4)) < 1e-6);
		assert_true(json_object_get_double(jidx(tr, 0)) == 5);
		assert_true(json_object_get_double(jidx(sc, 1)) == 2);
	}
	assert_int_equal(found, 1);
	/* Materials: glass blends, brass is metal. */
	int glass = 0, brass = 0;
	for (size_t i = 0; i < XS_MATERIALS; i++) {
		struct json_object *m = jidx(mats, i), *am = NULL;
		const char *name = json_object_get_string(jat(m, "name"));
		struct json_object *pbr = jat(m, "pbrMetallicRoughness");
		bool blend = json_object_object_get_ex(m, "alphaMode", &am);
		if (!strcmp(name, "m1_glass")) {
			glass++;
			assert_true(blend && !strcmp(json_object_get_string(am), "BLEND"));
			assert_true(fabs(json_object_get_double(jidx(jat(pbr, "baseColorFactor"), 3)) - 0.35) < 1e-6);
		} else if (!strcmp(name, "m2_brass")) {
			brass++;
			assert_false(blend);
			assert_true(json_object_get_double(jat(pbr, "metallicFactor")) == 1);
		} else {
			assert_string_equal(name, "m0_default");
		}
	}
	assert_int_equal(glass + brass, 2);

	/* Primitives: counts, provenance, bounds, normals, the fan. */
	struct json_object *acc = jat(j, "accessors"), *views = jat(j, "bufferViews");
	uint64_t faces = 0, tris = 0, verts = 0, faces_a = 0, pentagons = 0;
	for (size_t k = 0; k < XS_MESHES; k++) {
		struct json_object *prims = jat(jidx(meshes, k), "primitives");
		for (size_t i = 0; i < json_object_array_length(prims); i++) {
			struct json_object *p = jidx(prims, i), *attr = jat(p, "attributes");
			assert_int_equal(jint(p, "mode"), 4);
			struct json_object *pos = jidx(acc, (size_t)jint(attr, "POSITION"));
			struct json_object *nor = jidx(acc, (size_t)jint(attr, "NORMAL"));
			struct json_object *idx = jidx(acc, (size_t)jint(p, "indices"));
			struct json_object *xf = jat(jat(p, "extras"), "theta_faces");
			struct json_object *ft = jat(xf, "triangles"), *fa_ = jat(xf, "author"), *fl = jat(xf, "lamport");
			size_t nf = json_object_array_length(ft);
			assert_int_equal(json_object_array_length(fa_), nf);
			assert_int_equal(json_object_array_length(fl), nf);
			uint64_t ptris = 0;
			for (size_t q = 0; q < nf; q++) {
				int64_t t = json_object_get_int64(jidx(ft, q)), a = json_object_get_int64(jidx(fa_, q));
				uint64_t lam = (uint64_t)json_object_get_int64(jidx(fl, q));
				ptris += (uint64_t)t;
				assert_true(a == ia || a == ib);
				if (a == ia) {
					faces_a++;
					assert_int_equal(t, 2);
					assert_int_equal(lam, f->x.lamport_a_strip);
				} else if (t == 3) {
					pentagons++;
					assert_int_equal(lam, f->x.lamport_b_patch);
				} else {
					assert_int_equal(lam, f->x.lamport_b_strip);
				}
			}
			faces += nf;
			tris += ptris;
			uint64_t nv = (uint64_t)jint(pos, "count");
			verts += nv;
			assert_int_equal(jint(nor, "count"), nv);
			assert_int_equal(jint(idx, "count"), 3 * ptris);
			assert_int_equal(jint(idx, "componentType"), 5125);
			/* The bytes: vertices interleaved, then the indices. */
			struct json_object *vv = jidx(views, (size_t)jint(pos, "bufferView"));
			struct json_object *iv = jidx(views, (size_t)jint(idx, "bufferView"));
			assert_int_equal(jint(vv, "byteStride"), 24);
			uint64_t vo = (uint64_t)jint(vv, "byteOffset"), io = (uint64_t)jint(iv, "byteOffset");
			assert_true(vo + nv * 24 <= bin_len && io + 12 * ptris <= bin_len);
			float mn[3] = { INFINITY, INFINITY, INFINITY }, mx[3] = { -INFINITY, -INFINITY, -INFINITY };
			for (uint64_t v = 0; v < nv; v++) {
				const uint8_t *b = bin + vo + 24 * v;
				double len = 0;
				for (int c = 0; c < 3; c++) {
					float x = lef(b + 4 * c), n = lef(b + 12 + 4 * c);
					mn[c] = fminf(mn[c], x);
					mx[c] = fmaxf(mx[c], x);
					len += (double)n * n;
				}
				assert_true(fabs(len - 1) < 1e-6);
			}
			for (int c = 0; c < 3; c++) {
				assert_true((float)json_object_get_double(jidx(jat(pos, "min"), (size_t)c)) == mn[c]);
				assert_true((float)json_object_get_double(jidx(jat(pos, "max"), (size_t)c)) == mx[c]);
			}
			/* Fan per face: (first, first + c, first + c + 1). */
			uint64_t first = 0, t = 0;
			for (size_t q = 0; q < nf; q++) {
				int64_t ft_q = json_object_get_int64(jidx(ft, q));
				for (int64_t c = 1; c <= ft_q; c++, t++) {
					const uint8_t *b = bin + io + 12 * t;
					assert_int_equal(le32(b), first);
					assert_int_equal(le32(b + 4), first + (uint64_t)c);
					assert_int_equal(le32(b + 8), first + (uint64_t)c + 1);
				}
				first += (uint64_t)ft_q + 2;
			}
			assert_int_equal(first, nv);
		}
	}
	assert_int_equal(faces, XS_FACES);
	assert_int_equal(tris, XS_TRIANGLES);
	assert_int_equal(verts, XS_GLTF_VERTICES);
	assert_int_equal(faces_a, 3);
	assert_int_equal(pentagons, 1);
}

static void a_glb_holds_the_scene_with_provenance(void **state)
{
	struct fx *f = *state;
	struct th_export_stats st;
	struct blob g = export_to(f, TH_EXPORT_GLB, "scene.glb", &st, NULL);
	assert_int_equal(st.faces, XS_FACES);
	assert_int_equal(st.triangles, XS_TRIANGLES);
	assert_int_equal(st.vertices, XS_GLTF_VERTICES);
	assert_int_equal(st.nodes, XS_NODES);
	assert_int_equal(st.authors, 2);
	/* Header, JSON chunk, BIN chunk, each 4-aligned. */
	assert_true(g.len > 28);
	assert_memory_equal(g.d, "glTF", 4);
	assert_int_equal(le32(g.d + 4), 2);
	assert_int_equal(le32(g.d + 8), g.len);
	uint32_t jl = le32(g.d + 12);
	assert_memory_equal(g.d + 16, "JSON", 4);
	assert_int_equal(jl % 4, 0);
	assert_true(20 + jl + 8 <= g.len);
	const uint8_t *bc = g.d + 20 + jl;
	uint32_t bl = le32(bc);
	assert_memory_equal(bc + 4, "BIN\0", 4);
	assert_int_equal(20 + jl + 8 + bl, g.len);
	struct json_tokener *tok = json_tokener_new();
	struct json_object *j = json_tokener_parse_ex(tok, (const char *)g.d + 20, (int)jl);
	assert_non_null(j);
	json_tokener_free(tok);
	struct json_object *buffers = jat(j, "buffers");
	assert_int_equal(json_object_array_length(buffers), 1);
	uint64_t blen = (uint64_t)jint(jidx(buffers, 0), "byteLength");
	assert_true(blen <= bl && bl - blen < 4);
	check_gltf(f, j, bc + 8, blen);
	json_object_put(j);
	gv_assert_valid(f->dir, "scene.glb");
	free(g.d);
}

static void a_gltf_embeds_the_same_buffer_as_base64(void **state)
{
	struct fx *f = *state;
	struct th_export_stats st, sg;
	struct blob g = export_to(f, TH_EXPORT_GLB, "same.glb", &sg, NULL);
	struct blob t = export_to(f, TH_EXPORT_GLTF, "scene.gltf", &st, NULL);
	struct json_object *j = json_tokener_parse((const char *)t.d);
	assert_non_null(j);
	struct json_object *b0 = jidx(jat(j, "buffers"), 0);
	const char *uri = json_object_get_string(jat(b0, "uri"));
	const char *pre = "data:application/octet-stream;base64,";
	assert_int_equal(strncmp(uri, pre, strlen(pre)), 0);
	size_t blen = (size_t)jint(b0, "byteLength"), got = 0;
	uint8_t *bin = malloc(blen + 4);
	assert_int_equal(sodium_base642bin(bin, blen + 4, uri + strlen(pre), strlen(uri) - strlen(pre), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(got, blen);
	/* The same bytes as the .glb's BIN chunk. */
	uint32_t jl = le32(g.d + 12);
	assert_memory_equal(bin, g.d + 20 + jl + 8, blen);
	check_gltf(f, j, bin, blen);
	json_object_put(j);
	gv_assert_valid(f->dir, "scene.gltf");
	free(bin);
	free(t.d);
	free(g.d);
}

static size_t count_lines(const char *s, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);
	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += !strncmp(p, prefix, pl);
	return n;
}

/* The index of an author's "# theta-author K FPR" line. */
static int obj_author(const char *s, const uint8_t *key)
{
	char fpr[TH_KEY_FPR_LEN], want[128];
	fingerprint(key, fpr);
	for (int k = 0; k < 2; k++) {
		snprintf(want, sizeof(want), "# theta-author %d %s\n", k, fpr);
		if (strstr(s, want))
			return k;
	}
	fail_msg("no theta-author line for %s", fpr);
	return -1;
}

static void obj_keeps_ngons_materials_and_provenance(void **state)
{
	struct fx *f = *state;
	struct th_export_stats st;
	struct blob mtl = { 0 };
	struct blob o = export_to(f, TH_EXPORT_OBJ, "scene.obj", &st, &mtl);
	const char *s = (const char *)o.d;
	assert_int_equal(count_lines(s, "v "), XS_OBJ_VERTICES);
	assert_int_equal(count_lines(s, "vn "), XS_FACES);
	assert_int_equal(count_lines(s, "f "), XS_FACES);
	assert_int_equal(count_lines(s, "o entity_"), 2);
	assert_int_equal(count_lines(s, "usemtl "), 3);
	assert_int_equal(count_lines(s, "# theta-face "), XS_FACES);
	assert_int_equal(count_lines(s, "# theta-author "), 2);
	assert_non_null(strstr(s, "mtllib scene.obj.mtl\n"));
	char want[128];
	int ia = obj_author(s, f->x.a.kp.pk), ib = obj_author(s, f->x.b.kp.pk);
	assert_int_equal(ia + ib, 1);
	/* The pentagon stays one face of 5 corners, B's, at the patch's lamport. */
	snprintf(want, sizeof(want), "# theta-face %d %llu\nf ", ib, (unsigned long long)f->x.lamport_b_patch);
	const char *p = strstr(s, want);
	assert_non_null(p);
	p += strlen(want) - 2;
	size_t corners = 0;
	for (const char *q = p; *q && *q != '\n'; q++)
		corners += *q == ' ';
	assert_int_equal(corners, 5);
	/* B's strip in world space: rotated about z by 90 degrees, scale 2, at
	 * x = 5: its vertex (1, 0, 2) lands at (5, 2, 4). */
	bool near = false;
	for (const char *q = strstr(s, "\nv "); q && !near; q = strstr(q + 1, "\nv ")) {
		float v[3];
		assert_int_equal(sscanf(q + 3, "%f %f %f", &v[0], &v[1], &v[2]), 3);
		near = fabsf(v[0] - 5) < 1e-5f && fabsf(v[1] - 2) < 1e-5f && fabsf(v[2] - 4) < 1e-5f;
	}
	assert_true(near);
	/* MTL: three materials, glass translucent, brass metal. */
	const char *m = (const char *)mtl.d;
	assert_int_equal(count_lines(m, "newmtl "), 3);
	assert_non_null(strstr(m, "newmtl m1_glass\nKd 0.6 0.8 1\nd 0.35\n"));
	assert_non_null(strstr(m, "newmtl m2_brass\n"));
	assert_non_null(strstr(strstr(m, "newmtl m2_brass\n"), "Pm 1\n"));
	free(o.d);
	free(mtl.d);
}

static void an_empty_scene_is_a_valid_file_and_bad_calls_are_refused(void **state)
{
	struct fx *f = *state;
	struct th_scene *empty;
	assert_int_equal(th_scene_create(&empty), 0);
	char path[160];
	snprintf(path, sizeof(path), "%s/empty.glb", f->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct th_export_config c = { .format = TH_EXPORT_GLB };
	struct th_export_stats st;
	assert_int_equal(th_export_scene(empty, &c, fd, -1, &st), 0);
	assert_int_equal(st.meshes, 0);
	close(fd);
	gv_assert_valid(f->dir, "empty.glb");
	snprintf(path, sizeof(path), "%s/empty.gltf", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	c.format = TH_EXPORT_GLTF;
	assert_int_equal(th_export_scene(empty, &c, fd, -1, &st), 0);
	close(fd);
	gv_assert_valid(f->dir, "empty.gltf");
	/* A closed descriptor: write(2)'s error; an unknown format: -EINVAL. */
	assert_int_equal(th_export_scene(f->s, &c, fd, -1, &st), -EBADF);
	c.format = 9;
	assert_int_equal(th_export_scene(f->s, &c, 1, -1, &st), -EINVAL);
	/* A read-only descriptor. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	c.format = TH_EXPORT_OBJ;
	assert_int_equal(th_export_scene(f->s, &c, fd, -1, &st), -EBADF);
	close(fd);
	assert_int_equal(th_export_format_of("a/b.GLB"), TH_EXPORT_GLB);
	assert_int_equal(th_export_format_of("x.gltf"), TH_EXPORT_GLTF);
	assert_int_equal(th_export_format_of("x.obj"), TH_EXPORT_OBJ);
	assert_int_equal(th_export_format_of("x.fbx"), 0);
	assert_int_equal(th_export_format_of("dir.glb/x"), 0);
	th_scene_destroy(&empty);
}

/* An L-shaped hexagon (concave at (1, 1)): its triangles stay inside it,
 * each counter-clockwise about the face's normal, their areas summing to
 * the L's, and the file still validates. */
static void a_concave_face_is_ear_clipped_inside_its_outline(void **state)
{
	struct fx *f = *state;
	static const float L[6][2] = { { 0, 0 }, { 2, 0 }, { 2, 1 }, { 1, 1 }, { 1, 2 }, { 0, 2 } };
	struct th_pl_mesh_create *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->transform[6] = c->transform[7] = c->transform[8] = c->transform[9] = 1;
	unsigned o = 0;
	for (unsigned k = 0; k < 6; k++) {
		c->ops[o].op = TH_PL_MESH_OP_VERTEX_ADD;
		c->ops[o].position[0] = L[k][0];
		c->ops[o++].position[1] = L[k][1];
	}
	c->ops[o++].op = TH_PL_MESH_OP_FACE_ADD;
	for (unsigned k = 0; k < 6; k++) {
		/* Start the loop at corner 2, so a fan from the first corner
		 * would cross the notch. */
		c->ops[o].op = TH_PL_MESH_OP_LOOP;
		c->ops[o].arg = TH_PL_MESH_REF_LOCAL;
		c->ops[o++].element = (k + 2) % 6 + 1;
	}
	c->ops_count = (uint16_t)o;
	struct sh_log l;
	struct lt_author a;
	lt_author_init(&a, 0x61);
	sh_init(&l, false);
	assert_int_equal(sh_add_typed(&l, &a, TH_CMD_MESH_CREATE, TH_SCOPE_GLOBAL, 0, c), 0);
	free(c);
	struct th_scene *s;
	assert_int_equal(th_scene_create(&s), 0);
	struct th_scene_refusal r = { 0 };
	assert_int_equal(th_scene_apply(s, &l.v[0].e, NULL, &r), 0);
	th_scene_destroy(&f->s);
	f->s = s;
	struct th_export_stats st;
	struct blob g = export_to(f, TH_EXPORT_GLB, "concave.glb", &st, NULL);
	assert_int_equal(st.triangles, 4);
	uint32_t jl = le32(g.d + 12);
	const uint8_t *bin = g.d + 20 + jl + 8;
	/* One primitive: 6 vertices (24 bytes each), then 4 triangles. */
	double area = 0;
	for (unsigned t = 0; t < 4; t++) {
		const uint8_t *ix = bin + 6 * 24 + 12 * t;
		float p[3][2];
		for (int k = 0; k < 3; k++) {
			uint32_t v = le32(ix + 4 * k);
			assert_true(v < 6);
			p[k][0] = lef(bin + 24 * v);
			p[k][1] = lef(bin + 24 * v + 4);
		}
		double cr = (double)(p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (double)(p[1][1] - p[0][1]) * (p[2][0] - p[0][0]);
		assert_true(cr > 0);
		/* Inside the L: the centroid is not in the notch [1, 2] x [1, 2]. */
		double cx = (p[0][0] + p[1][0] + p[2][0]) / 3.0, cy = (p[0][1] + p[1][1] + p[2][1]) / 3.0;
		assert_false(cx > 1 && cy > 1);
		area += cr / 2;
	}
	assert_true(fabs(area - 3) < 1e-9);
	gv_assert_valid(f->dir, "concave.glb");
	free(g.d);
	sh_fini(&l);
}

/* The live face slots of the mesh `id` of s, in slot order (their ids). */
static size_t slot_order(const struct th_scene *s, uint64_t id, uint64_t *out, size_t cap)
{
	const struct th_mesh *m = th_scene_mesh(s, id);
	size_t n = 0;
	assert_non_null(m);
	for (uint32_t i = 0; i < m->nfaces; i++)
		if (m->faces[i].id && n < cap)
			out[n++] = m->faces[i].id;
	return n;
}

static void export_same(struct fx *f, struct th_scene *other, enum th_export_format fmt, const char *name)
{
	struct th_export_stats st;
	struct blob m1 = { 0 }, m2 = { 0 };
	/* The same file name (the OBJ names its MTL), written over. */
	struct blob b1 = export_to(f, fmt, name, &st, &m1);
	struct th_scene *keep = f->s;
	f->s = other;
	struct blob b2 = export_to(f, fmt, name, &st, &m2);
	f->s = keep;
	if (b1.len != b2.len || memcmp(b1.d, b2.d, b1.len))
		fail_msg("%s: the same scene through another history wrote other bytes (%zu and %zu bytes)", name,
			 b1.len, b2.len);
	assert_int_equal(m1.len, m2.len);
	if (m1.len)
		assert_memory_equal(m1.d, m2.d, m1.len);
	free(b1.d);
	free(b2.d);
	free(m1.d);
	free(m2.d);
}

/* One scene (the same world hash) reached three ways: its history in
 * append order; the same entries in another order (two authors' polygons
 * patched onto A's strip the other way round, the meshes and materials
 * before or after each other), which lays the mesh's slots out
 * differently; and a snapshot restore (th_scene_decode of its encoding).
 * The .glb, .gltf and .obj + .mtl of each are byte-identical: faces and
 * vertices are written in ascending id, nodes in ascending entity id. */
static void the_same_scene_through_other_histories_writes_the_same_bytes(void **state)
{
	struct fx *f = *state;
	size_t first = f->l.n;
	assert_int_equal(xs_ngon(&f->l, &f->x.a, &f->x.strip_a, 6, -3, 3, 1, 1, NULL), 0);
	assert_int_equal(xs_ngon(&f->l, &f->x.b, &f->x.strip_a, 3, 1.5f, -3, 1, 1, NULL), 0);
	for (size_t i = first; i < f->l.n; i++) {
		struct th_scene_refusal r = { 0 };
		if (th_scene_apply(f->s, &f->l.v[i].e, NULL, &r) != 0)
			fail_msg("entry %zu refused: %s", i, r.why ? r.why : "?");
	}
	/* 0 A strip, 1-2 B materials, 3 B pentagon, 4 B strip, 5 A transform,
	 * 6 A entity, 7 A hexagon, 8 B triangle: another order that folds to
	 * the same scene. */
	static const size_t order[] = { 0, 8, 6, 4, 7, 2, 5, 3, 1 };
	assert_int_equal(f->l.n, sizeof(order) / sizeof(order[0]));
	struct th_scene *other, *restored;
	assert_int_equal(th_scene_create(&other), 0);
	assert_int_equal(th_scene_create(&restored), 0);
	for (size_t i = 0; i < f->l.n; i++) {
		struct th_scene_refusal r = { 0 };
		if (th_scene_apply(other, &f->l.v[order[i]].e, NULL, &r) != 0)
			fail_msg("entry %zu refused in the other order: %s", order[i], r.why ? r.why : "?");
	}
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_scene_encode(f->s, &w), 0);
	const char *why = NULL;
	assert_int_equal(th_scene_decode(restored, w.data, w.len, &why), 0);
	th_wbuf_fini(&w);
	uint8_t h1[TH_SCENE_HASH_LEN], h2[TH_SCENE_HASH_LEN], h3[TH_SCENE_HASH_LEN];
	assert_int_equal(th_scene_hash(f->s, h1), 0);
	assert_int_equal(th_scene_hash(other, h2), 0);
	assert_int_equal(th_scene_hash(restored, h3), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	assert_memory_equal(h1, h3, sizeof(h1));
	/* The histories did lay A's mesh out differently (else this proves
	 * nothing). */
	uint64_t s1[16], s2[16];
	size_t n1 = slot_order(f->s, f->x.strip_a.mesh, s1, 16), n2 = slot_order(other, f->x.strip_a.mesh, s2, 16);
	assert_int_equal(n1, 6);
	assert_int_equal(n2, 6);
	assert_memory_not_equal(s1, s2, n1 * sizeof(s1[0]));
	static const struct {
		enum th_export_format fmt;
		const char *name;
	} files[] = { { TH_EXPORT_GLB, "same.glb" }, { TH_EXPORT_GLTF, "same.gltf" }, { TH_EXPORT_OBJ, "same.obj" } };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		export_same(f, other, files[i].fmt, files[i].name);
		export_same(f, restored, files[i].fmt, files[i].name);
	}
	gv_assert_valid(f->dir, "same.glb");
	th_scene_destroy(&other);
	th_scene_destroy(&restored);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_glb_holds_the_scene_with_provenance, setup, teardown),
		cmocka_unit_test_setup_teardown(a_gltf_embeds_the_same_buffer_as_base64, setup, teardown),
		cmocka_unit_test_setup_teardown(obj_keeps_ngons_materials_and_provenance, setup, teardown),
		cmocka_unit_test_setup_teardown(an_empty_scene_is_a_valid_file_and_bad_calls_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_concave_face_is_ear_clipped_inside_its_outline, setup, teardown),
		cmocka_unit_test_setup_teardown(the_same_scene_through_other_histories_writes_the_same_bytes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
