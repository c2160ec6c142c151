/* `thetactl import` into a real daemon: an OBJ with its MTL and a .glb
 * become the caller's entries (one mesh.create per object, material.set per
 * material) and the daemon's scene counts them; the geometry the scene
 * folded (the log's files rebuilt offline) has the file's positions within
 * 1e-6 and its face count, also for a mesh split across many entries; a bad
 * file is one sentence and changes nothing; an import is undone like any
 * edit; with two real uids (root only), an editor's import is undone by
 * the daemon admin only through --as-host; the round trip: the session
 * exported (`thetactl export`) to .glb, .gltf and .obj and each imported
 * into a fresh session gives the same geometry: every entity's world
 * positions within 1e-6 and its faces' corner counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rebuild.h"
#include "th_fold.h"
#include "th_daemontest.h"
#include "th_gltffix.h"
#include "th_harness.h"
#include "th_mesh.h"
#include "th_model.h"
#include "th_scene.h"
#include "th_schema.h"

static char out[1 << 17], errb[1 << 16];

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int ctl(struct th_daemon_proc *d, const char *const *args)
{
	out[0] = errb[0] = 0;
	return th_ctl_wait(d, DT_WAIT_MS, args, out, sizeof(out), errb, sizeof(errb));
}

/* thetactl import PATH --json: its answer (the test fails when it fails). */
static struct json_object *import_ok(struct th_daemon_proc *d, const char *path)
{
	if (ctl(d, (const char *const[]){ "import", path, "--json", NULL }) != 0)
		fail_msg("import %s failed: %s", path, errb);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	assert_int_equal(dt_u64(o, "refused"), 0);
	return o;
}

/* The daemon's log of session sid rebuilt offline (its path in dir). */
static void rebuild_session(struct th_daemon_proc *d, const char *sid, struct ctl_rebuild *rb, char *dir, size_t cap)
{
	snprintf(dir, cap, "%s/sessions/%s/log", d->state_dir, sid);
	*rb = (struct ctl_rebuild){ .path = dir, .at = CTL_REBUILD_ALL, .mark = CTL_REBUILD_ALL };
	if (ctl_rebuild_run(rb) < 0)
		fail_msg("rebuild: %s", rb->err);
	assert_non_null(rb->fold);
}

/* The same of its current session. */
static void rebuild(struct th_daemon_proc *d, struct ctl_rebuild *rb, char *dir, size_t cap)
{
	struct json_object *r = th_ctl_call(d, "{\"cmd\":\"scene\",\"args\":{}}");
	assert_non_null(r);
	char sid[64];
	snprintf(sid, sizeof(sid), "%s", dt_str(r, "session"));
	json_object_put(r);
	rebuild_session(d, sid, rb, dir, cap);
}

static int pos_cmp(const void *a, const void *b)
{
	const float *x = a, *y = b;
	for (int k = 0; k < 3; k++)
		if (x[k] != y[k])
			return x[k] < y[k] ? -1 : 1;
	return 0;
}

/* The scene's mesh `id` has exactly the model object's positions (sorted,
 * each within 1e-6) and faces with the same corner counts. */
static void mesh_matches(const struct th_scene *sc, uint64_t id, const struct th_model *m, uint32_t oi)
{
	const struct th_mesh *me = th_scene_mesh(sc, id);
	const struct th_model_object *o = &m->objects[oi];
	assert_non_null(me);
	assert_int_equal(me->live_verts, o->n_verts);
	assert_int_equal(me->live_faces, o->n_faces);
	float(*a)[3] = malloc(((size_t)o->n_verts + 1) * sizeof(*a)), (*b)[3] = malloc(((size_t)o->n_verts + 1) * sizeof(*b));
	assert_true(a && b);
	uint32_t n = 0;
	for (uint32_t v = 0; v < me->nverts; v++)
		if (me->verts[v].id)
			memcpy(a[n++], me->verts[v].pos, sizeof(a[0]));
	memcpy(b, m->pos + o->first_vert, (size_t)o->n_verts * sizeof(b[0]));
	qsort(a, n, sizeof(a[0]), pos_cmp);
	qsort(b, n, sizeof(b[0]), pos_cmp);
	for (uint32_t v = 0; v < n; v++)
		for (int k = 0; k < 3; k++)
			assert_true(fabsf(a[v][k] - b[v][k]) <= 1e-6f);
	unsigned hist_scene[TH_MODEL_FACE_VERTS_MAX + 1] = { 0 }, hist_file[TH_MODEL_FACE_VERTS_MAX + 1] = { 0 };
	for (uint32_t f = 0; f < me->nfaces; f++)
		if (me->faces[f].id)
			hist_scene[me->faces[f].n]++;
	for (uint32_t f = 0; f < o->n_faces; f++)
		hist_file[m->faces[o->first_face + f].n]++;
	assert_memory_equal(hist_scene, hist_file, sizeof(hist_scene));
	free(a);
	free(b);
}

static void read_model(const char *path, const char *mtl, struct th_model *m)
{
	char *p = th_slurp(path), *q = mtl ? th_slurp(mtl) : NULL, why[TH_MODEL_WHY_LEN];
	assert_non_null(p);
	int r = strstr(path, ".obj") ? th_obj_read((uint8_t *)p, strlen(p), (uint8_t *)q, q ? strlen(q) : 0, m, why, sizeof(why))
				     : -EINVAL;
	free(p);
	free(q);
	if (r < 0)
		fail_msg("%s: %s", path, why);
}

static const char cube_obj[] = "mtllib cube.mtl\no Cube\n"
			       "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\n"
			       "usemtl red\nf 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nusemtl blue\nf 2 3 7 6\nf 3 4 8 7\nf 4 1 5 8\n"
			       "o Tri\nv 3 0 0.125\nv 4 0 0.125\nv 3 1 0.125\nf -3 -2 -1\n";
static const char cube_mtl[] = "newmtl red\nKd 1 0 0\nnewmtl blue\nKd 0 0 1\nd 0.5\nPm 1\n";

static void an_obj_and_a_glb_become_the_callers_entries(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	char obj[PATH_MAX], mtl[PATH_MAX], glb[PATH_MAX], dir[4300];
	snprintf(obj, sizeof(obj), "%s/cube.obj", d->dir);
	snprintf(mtl, sizeof(mtl), "%s/cube.mtl", d->dir);
	snprintf(glb, sizeof(glb), "%s/box.glb", d->dir);
	write_file(obj, cube_obj, strlen(cube_obj));
	write_file(mtl, cube_mtl, strlen(cube_mtl));
	struct json_object *o = import_ok(d, obj), *me = th_ctl_call(d, "{\"cmd\":\"whoami\",\"args\":{}}");
	assert_int_equal(dt_u64(o, "objects"), 2);
	assert_int_equal(dt_u64(o, "faces"), 7);
	assert_int_equal(dt_u64(o, "materials"), 2);
	assert_int_equal(dt_u64(o, "entries"), 4); /* 2 material.set, 2 mesh.create */
	assert_string_equal(dt_str(o, "author"), dt_str(me, "key"));
	/* Done means folded: the scene has it all. */
	assert_int_equal(dt_scene_count(d, "entities"), 2);
	assert_int_equal(dt_scene_count(d, "faces"), 7);
	assert_int_equal(dt_scene_count(d, "vertices"), 11);
	assert_int_equal(dt_scene_count(d, "materials"), 3); /* the default, red, blue */
	assert_int_equal(dt_scene_count(d, "refused"), 0);

	/* The glb: the export's layout (triangles + face_triangles extras). */
	static struct gf_file f;
	gf_cube_glb(&f, ",\"translation\":[5,0,0]", ",\"extras\":{\"theta_faces\":{\"triangles\":[2,2,2,2,2,2]}}");
	write_file(glb, f.out, f.len);
	struct json_object *g = import_ok(d, glb);
	assert_int_equal(dt_u64(g, "faces"), 6);
	assert_int_equal(dt_scene_count(d, "faces"), 13);
	assert_int_equal(dt_scene_count(d, "entities"), 3);

	/* The geometry the scene holds is the file's. */
	struct ctl_rebuild rb;
	struct th_model m;
	rebuild(d, &rb, dir, sizeof(dir));
	read_model(obj, mtl, &m);
	struct json_object *objs, *x;
	assert_true(json_object_object_get_ex(o, "objects_made", &objs));
	for (uint32_t i = 0; i < 2; i++) {
		x = json_object_array_get_idx(objs, i);
		assert_string_equal(dt_str(x, "name"), m.objects[i].name);
		mesh_matches(th_fold_scene(rb.fold), dt_u64(x, "mesh"), &m, i);
	}
	const struct th_scene_material *red = th_scene_material(th_fold_scene(rb.fold), 1);
	assert_non_null(red);
	assert_string_equal(red->name, "red");
	ctl_rebuild_fini(&rb);
	th_model_fini(&m);
	json_object_put(g);
	json_object_put(o);
	json_object_put(me);
}

static void a_large_mesh_spans_entries_and_keeps_its_geometry(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	char obj[PATH_MAX], dir[4300];
	snprintf(obj, sizeof(obj), "%s/grid.obj", d->dir);
	/* 120 x 120 quads on a bumpy grid: 14 400 faces, 14 641 vertices. */
	const unsigned n = 120;
	FILE *fp = fopen(obj, "w");
	assert_non_null(fp);
	for (unsigned j = 0; j <= n; j++)
		for (unsigned i = 0; i <= n; i++)
			fprintf(fp, "v %u.25 %u.5 %.6f\n", i, j, (double)((i * 7 + j * 3) % 11) / 16.0);
	for (unsigned j = 0; j < n; j++)
		for (unsigned i = 0; i < n; i++) {
			unsigned a = j * (n + 1) + i + 1;
			fprintf(fp, "f %u %u %u %u\n", a, a + 1, a + n + 2, a + n + 1);
		}
	assert_int_equal(fclose(fp), 0);
	struct json_object *o = import_ok(d, obj), *objs;
	assert_true(dt_u64(o, "entries") > 10);
	assert_int_equal(dt_scene_count(d, "faces"), (long long)n * n);
	assert_int_equal(dt_scene_count(d, "vertices"), (long long)(n + 1) * (n + 1));
	assert_int_equal(dt_scene_count(d, "applied"), (long long)dt_u64(o, "entries"));
	struct ctl_rebuild rb;
	struct th_model m;
	rebuild(d, &rb, dir, sizeof(dir));
	read_model(obj, NULL, &m);
	assert_true(json_object_object_get_ex(o, "objects_made", &objs));
	mesh_matches(th_fold_scene(rb.fold), dt_u64(json_object_array_get_idx(objs, 0), "mesh"), &m, 0);
	ctl_rebuild_fini(&rb);
	th_model_fini(&m);
	json_object_put(o);
}

static void a_bad_file_is_one_sentence_and_changes_nothing(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	char obj[PATH_MAX], glb[PATH_MAX];
	snprintf(obj, sizeof(obj), "%s/bad.obj", d->dir);
	snprintf(glb, sizeof(glb), "%s/bad.glb", d->dir);
	/* Fine up to its last face, which repeats the first. */
	const char *bad = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 4 3\nf 1 2 3\n";
	write_file(obj, bad, strlen(bad));
	assert_int_equal(ctl(d, (const char *const[]){ "import", obj, NULL }), 1);
	assert_non_null(strstr(errb, "cannot join the mesh"));
	assert_non_null(strstr(errb, "nothing was imported"));
	write_file(obj, "v 0 0 0\nv 1 zero 0\n", 19);
	assert_int_equal(ctl(d, (const char *const[]){ "import", obj, NULL }), 1);
	assert_non_null(strstr(errb, "line 2:5: 'zero' is not a finite number"));
	static struct gf_file f;
	gf_cube_glb(&f, "", "");
	write_file(glb, f.out, f.len - 8); /* cut short */
	assert_int_equal(ctl(d, (const char *const[]){ "import", glb, NULL }), 1);
	assert_non_null(strstr(errb, "byte 8: the header says"));
	assert_int_equal(ctl(d, (const char *const[]){ "import", "/nonexistent/x.obj", NULL }), 1);
	assert_non_null(strstr(errb, "cannot read /nonexistent/x.obj"));
	assert_int_equal(ctl(d, (const char *const[]){ "import", "model.stl", NULL }), 2);
	assert_int_equal(dt_scene_count(d, "log_count"), 0);
}

static void an_import_is_undone_like_any_edit(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	char obj[PATH_MAX];
	snprintf(obj, sizeof(obj), "%s/cube.obj", d->dir);
	write_file(obj, cube_obj, strlen(cube_obj));
	struct json_object *o = import_ok(d, obj), *objs;
	assert_true(json_object_object_get_ex(o, "objects_made", &objs));
	char spec[128];
	snprintf(spec, sizeof(spec), "%llu:%s", dt_u64(json_object_array_get_idx(objs, 0), "create"), dt_str(o, "author"));
	assert_int_equal(ctl(d, (const char *const[]){ "undo", spec, NULL }), 0);
	dt_wait_scene(d, "entities", 1);
	assert_int_equal(dt_scene_count(d, "faces"), 1); /* the triangle object is left */
	json_object_put(o);
}

static void an_editors_import_is_undone_by_an_admin_as_host(void **state)
{
	(void)state;
	int gid;
	struct th_daemon_proc *d = dt_start_two_users(&gid);
	assert_int_equal(ctl(d, (const char *const[]){ "session", "allow", "nobody", "--role", "editor", NULL }), 0);
	char obj[PATH_MAX];
	snprintf(obj, sizeof(obj), "%s/cube.obj", d->dir);
	write_file(obj, cube_obj, strlen(cube_obj));
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", d->runtime_dir, "import", obj, "--json", NULL };
	if (dt_run_as_other(gid, argv, out, sizeof(out), errb, sizeof(errb)) != 0)
		fail_msg("the editor's import failed: %s", errb);
	struct json_object *o = json_tokener_parse(out), *objs, *me = th_ctl_call(d, "{\"cmd\":\"whoami\",\"args\":{}}");
	assert_non_null(o);
	assert_string_not_equal(dt_str(o, "author"), dt_str(me, "key")); /* the editor's key, not root's */
	assert_int_equal(dt_scene_count(d, "entities"), 2);
	assert_true(json_object_object_get_ex(o, "objects_made", &objs));
	char spec[128];
	snprintf(spec, sizeof(spec), "%llu:%s", dt_u64(json_object_array_get_idx(objs, 0), "create"), dt_str(o, "author"));
	assert_int_equal(ctl(d, (const char *const[]){ "undo", spec, NULL }), 1);
	assert_non_null(strstr(errb, "denied"));
	assert_int_equal(ctl(d, (const char *const[]){ "undo", spec, "--as-host", NULL }), 0);
	dt_wait_scene(d, "entities", 1);
	json_object_put(o);
	json_object_put(me);
}

/* ---- round trip ------------------------------------------------------------------------ */

/* What an entity shows: its mesh's positions in world space (sorted) and
 * how many faces of each corner count. */
struct shown {
	float (*pos)[3];
	uint32_t n;
	unsigned faces, hist[TH_MODEL_FACE_VERTS_MAX + 1];
};

static void world(const struct th_c_transform *t, const float *p, float *w)
{
	/* v' = q (s * v) q^-1 + t, exact for the identity rotation */
	float v[3] = { p[0] * t->scale[0], p[1] * t->scale[1], p[2] * t->scale[2] };
	float x = t->rotation[0], y = t->rotation[1], z = t->rotation[2], qw = t->rotation[3];
	float c[3] = { y * v[2] - z * v[1], z * v[0] - x * v[2], x * v[1] - y * v[0] };
	for (int k = 0; k < 3; k++)
		c[k] += qw * v[k];
	float d[3] = { y * c[2] - z * c[1], z * c[0] - x * c[2], x * c[1] - y * c[0] };
	for (int k = 0; k < 3; k++)
		w[k] = v[k] + 2 * d[k] + t->position[k];
}

static int shown_cmp(const void *a, const void *b)
{
	const struct shown *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if (x->faces != y->faces)
		return x->faces < y->faces ? -1 : 1;
	return x->n ? pos_cmp(x->pos[0], y->pos[0]) : 0;
}

static size_t shown_of(const struct th_scene *sc, struct shown *res, size_t cap)
{
	size_t cur = 0, n = 0;
	uint64_t id;
	while (th_scene_next_entity(sc, &cur, &id)) {
		const struct th_c_mesh_ref *mr = th_scene_component(sc, id, TH_COMP_MESH_REF);
		const struct th_c_transform *t = th_scene_component(sc, id, TH_COMP_TRANSFORM);
		const struct th_mesh *me = mr ? th_scene_mesh(sc, mr->mesh) : NULL;
		if (!me || !me->live_faces)
			continue;
		assert_true(n < cap && t);
		struct shown *s = &res[n++];
		memset(s, 0, sizeof(*s));
		s->pos = malloc(((size_t)me->live_verts + 1) * sizeof(*s->pos));
		assert_non_null(s->pos);
		for (uint32_t v = 0; v < me->nverts; v++)
			if (me->verts[v].id)
				world(t, me->verts[v].pos, s->pos[s->n++]);
		qsort(s->pos, s->n, sizeof(s->pos[0]), pos_cmp);
		for (uint32_t f = 0; f < me->nfaces; f++)
			if (me->faces[f].id) {
				s->faces++;
				s->hist[me->faces[f].n]++;
			}
	}
	qsort(res, n, sizeof(res[0]), shown_cmp);
	return n;
}

static void same_geometry(const struct th_scene *a, const struct th_scene *b, const char *what)
{
	static struct shown sa[16], sb[16];
	size_t na = shown_of(a, sa, 16), nb = shown_of(b, sb, 16);
	if (na != nb)
		fail_msg("%s: %zu objects before, %zu after", what, na, nb);
	for (size_t i = 0; i < na; i++) {
		if (sa[i].n != sb[i].n || sa[i].faces != sb[i].faces || memcmp(sa[i].hist, sb[i].hist, sizeof(sa[i].hist)))
			fail_msg("%s: object %zu: %u vertices, %u faces before; %u, %u after", what, i, sa[i].n, sa[i].faces,
				 sb[i].n, sb[i].faces);
		for (uint32_t v = 0; v < sa[i].n; v++)
			for (int k = 0; k < 3; k++)
				if (!(fabsf(sa[i].pos[v][k] - sb[i].pos[v][k]) <= 1e-6f))
					fail_msg("%s: object %zu vertex %u: %g before, %g after", what, i, v, sa[i].pos[v][k],
						 sb[i].pos[v][k]);
		free(sa[i].pos);
		free(sb[i].pos);
	}
}

/* A house: a box with a pentagon at each end and a roof of two quads. */
static const char house_obj[] = "o House\n"
				"v 0 0 0\nv 2 0 0\nv 2 1.5 0\nv 1 2.5 0\nv 0 1.5 0\n"
				"v 0 0 -3\nv 2 0 -3\nv 2 1.5 -3\nv 1 2.5 -3\nv 0 1.5 -3\n"
				"usemtl red\nf 1 2 3 4 5\nf 6 10 9 8 7\n"
				"usemtl blue\nf 1 6 7 2\nf 2 7 8 3\nf 3 8 9 4\nf 4 9 10 5\nf 5 10 6 1\n";

static void export_import_keeps_the_geometry(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	char path[PATH_MAX], mtl[PATH_MAX], dir[4300], glb[PATH_MAX];
	snprintf(path, sizeof(path), "%s/house.obj", d->dir);
	snprintf(mtl, sizeof(mtl), "%s/cube.mtl", d->dir);
	snprintf(glb, sizeof(glb), "%s/box.glb", d->dir);
	write_file(path, house_obj, strlen(house_obj));
	write_file(mtl, cube_mtl, strlen(cube_mtl));
	json_object_put(import_ok(d, path));
	snprintf(path, sizeof(path), "%s/cube.obj", d->dir);
	write_file(path, cube_obj, strlen(cube_obj));
	json_object_put(import_ok(d, path));
	static struct gf_file f;
	gf_cube_glb(&f, ",\"translation\":[5,0.5,-2]", "");
	write_file(glb, f.out, f.len);
	json_object_put(import_ok(d, glb));
	struct json_object *cur = th_ctl_call(d, "{\"cmd\":\"scene\",\"args\":{}}");
	char sid[64];
	snprintf(sid, sizeof(sid), "%s", dt_str(cur, "session"));
	json_object_put(cur);
	struct ctl_rebuild a;
	rebuild_session(d, sid, &a, dir, sizeof(dir));
	const struct th_scene *sa = th_fold_scene(a.fold);
	static const char *const ext[] = { "glb", "gltf", "obj" };
	for (unsigned k = 0; k < 3; k++) {
		char file[PATH_MAX], name[32], json[128];
		snprintf(file, sizeof(file), "%s/rt.%s", d->dir, ext[k]);
		/* thetactl export: the daemon writes the session's scene (an OBJ's
		 * MTL beside it, named by its mtllib line, which import follows). */
		if (ctl(d, (const char *const[]){ "export", "--session", sid, file, NULL }) != 0)
			fail_msg("export to %s failed: %s", file, errb);
		/* Into a fresh session. */
		snprintf(name, sizeof(name), "rt-%s", ext[k]);
		snprintf(json, sizeof(json), "{\"cmd\":\"session_host\",\"args\":{\"name\":\"%s\"}}", name);
		struct json_object *h = th_ctl_call(d, json);
		assert_non_null(h);
		if (ctl(d, (const char *const[]){ "import", file, "--session", name, NULL }) != 0)
			fail_msg("import of the exported %s failed: %s", ext[k], errb);
		struct ctl_rebuild b;
		char bdir[4300];
		rebuild_session(d, dt_str(h, "session"), &b, bdir, sizeof(bdir));
		same_geometry(sa, th_fold_scene(b.fold), ext[k]);
		/* The same face and vertex counts in all (no free vertices here). */
		struct th_scene_stats st, sta;
		th_scene_stats(th_fold_scene(b.fold), &st);
		th_scene_stats(sa, &sta);
		assert_int_equal(st.faces, sta.faces);
		assert_int_equal(st.vertices, sta.vertices);
		assert_int_equal(st.entities, sta.entities);
		/* glTF: each material back at its index with its name. */
		for (unsigned i = 0; k < 2 && i < TH_SCENE_MATERIALS; i++) {
			const struct th_scene_material *x = th_scene_material(sa, i), *y = th_scene_material(th_fold_scene(b.fold), i);
			if (!x->defined || i == 0)
				continue;
			assert_true(y->defined);
			assert_string_equal(x->name, y->name);
			assert_memory_equal(x->base_color, y->base_color, sizeof(x->base_color));
		}
		ctl_rebuild_fini(&b);
		json_object_put(h);
	}
	ctl_rebuild_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(an_obj_and_a_glb_become_the_callers_entries, dt_teardown),
		cmocka_unit_test_teardown(a_large_mesh_spans_entries_and_keeps_its_geometry, dt_teardown),
		cmocka_unit_test_teardown(a_bad_file_is_one_sentence_and_changes_nothing, dt_teardown),
		cmocka_unit_test_teardown(an_import_is_undone_like_any_edit, dt_teardown),
		cmocka_unit_test_teardown(an_editors_import_is_undone_by_an_admin_as_host, dt_teardown),
		cmocka_unit_test_teardown(export_import_keeps_the_geometry, dt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
