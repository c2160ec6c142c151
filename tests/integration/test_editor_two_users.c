/* Selective undo of one's own edit after another user edited, through the
 * real editor tools: two thetad processes on loopback, A hosts a session
 * and B joins it by invite as an editor, so the two users are different
 * authors (each daemon's own user key). A scripted theta-client on A stamps
 * a cube and extrudes its top face; once both are on B, a scripted
 * theta-client on B paints the cube's +x side face; once that paint is on
 * A, A's client (held with SIGSTOP until then, so that the order does not
 * race the clocks) undoes its extrude with left x. Both daemons' scenes
 * then hold the cube as stamped (6 faces, 8 vertices) with B's paint kept
 * (its material.set in the scene, one face of it in `thetactl export`
 * OBJ, nothing refused), and the same world hash. Waits poll with generous
 * deadlines. */
#include "editor_fixture.h"
#include "net_fixture.h"

#include <signal.h>

/* A, after edf_stamp_a_cube (the primitive tool, a cube at (0, 1, -0.5) at
 * 1.5 s): extrude the top face up 5 cm (as test_editor.c), then, at 8 s,
 * undo it. The test stops this client once the extrude is on A and lets it
 * go on once B's paint is on A. */
static const char script_a[] =
	EDF_EXTRUDE_TOP_5CM
	"8s      left  press     x\n"
	"8.02s   left  release   x\n"
	"9s      quit\n";

/* B: select -> move -> extrude -> subdivide -> vertex -> primitive ->
 * paint (first colour, the face); paint the face at (0.11, 1, -0.5): the
 * cube's +x side. */
static const char script_b[] =
	"theta-script 1\n"
	"0s      head  pose      0 1.6 0   0 0 0 1\n"
	"0s      right pose      0.11 1 -0.5  0 0 0 1\n"
	EDF_TO_PRIMITIVE
	"1s      right press     a\n"
	"1.02s   right release   a\n"
	"1.5s    right trigger   1\n"
	"1.6s    right trigger   0\n"
	"3s      quit\n";

static struct nf_daemon da, db;
static char sid[33];
static pid_t client_a = -1, client_b = -1;

/* Stops the clients a failed assertion left behind, then the daemons. */
static int teardown(void **state)
{
	pid_t *pids[] = { &client_a, &client_b };
	for (int i = 0; i < 2; i++)
		if (*pids[i] > 0) {
			kill(*pids[i], SIGKILL);
			waitpid(*pids[i], NULL, 0);
			*pids[i] = -1;
		}
	return nf_teardown(state);
}

/* d's `thetactl scene --session sid --json` (NULL while it has none). */
static struct json_object *scene_of(struct nf_daemon *d)
{
	return nf_ctl_json(d, (const char *const[]){ "scene", "--session", sid, "--json", NULL });
}

/* A field of d's scene (0 while absent). */
static uint64_t scene_u64(struct nf_daemon *d, const char *key)
{
	struct json_object *o = scene_of(d), *v = NULL;
	uint64_t x = 0;
	if (o && json_object_object_get_ex(o, key, &v))
		x = json_object_get_uint64(v);
	json_object_put(o);
	return x;
}

/* Polls d's scene until key == want. */
static void wait_scene(struct nf_daemon *d, const char *who, const char *key, uint64_t want)
{
	uint64_t end = th_now_ns() + (uint64_t)EDF_WAIT_MS * TH_NS_PER_MS, x = 0;
	while ((x = scene_u64(d, key)) != want && th_now_ns() < end)
		usleep(20 * 1000);
	if (x != want)
		fail_msg("%s's scene has %s %llu, not %llu", who, key, (unsigned long long)x, (unsigned long long)want);
}

/* `thetactl export` of the session on d as OBJ into d's dir: its text. */
static char *export_obj(struct nf_daemon *d)
{
	char obj[PATH_MAX];
	snprintf(obj, sizeof obj, "%s/two.obj", d->p.dir);
	if (nf_ctl(d, (const char *const[]){ "export", "--session", sid, obj, NULL }) != 0)
		fail_msg("thetactl export failed: %s", nf_err);
	char *t = th_slurp(obj);
	assert_non_null(t);
	return t;
}

/* Faces of obj text per material (the `usemtl` before them): the number
 * of materials used into *n_mtl, the faces of the least used one returned
 * (the cube's default material on 5 faces, B's paint on 1). */
static unsigned fewest_faces_of_a_material(const char *text, unsigned *n_mtl)
{
	enum { MAX_MTL = 8 };
	char names[MAX_MTL][128];
	unsigned count[MAX_MTL] = { 0 }, n = 0;
	int cur = -1;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, "usemtl ", 7)) {
			int k = (int)strcspn(l + 7, "\n");
			char name[128];
			snprintf(name, sizeof name, "%.*s", k, l + 7);
			for (cur = 0; cur < (int)n && strcmp(names[cur], name); cur++)
				;
			if (cur == (int)n) {
				assert_true(n < MAX_MTL);
				snprintf(names[n++], sizeof names[0], "%s", name);
			}
		} else if (l[0] == 'f' && l[1] == ' ') {
			assert_true(cur >= 0);
			count[cur]++;
		}
	}
	unsigned least = UINT_MAX;
	for (unsigned i = 0; i < n; i++)
		least = count[i] < least ? count[i] : least;
	*n_mtl = n;
	return least;
}

/* The log of the session on d (nf_log_text): the mesh.patch entries by
 * the author of the mesh.create into *same, by another author into *other. */
static void patch_authors(struct nf_daemon *d, unsigned *same, unsigned *other)
{
	static char text[NF_OUT];
	char creator[128] = "";
	*same = *other = 0;
	assert_true(nf_log_text(d, sid, text, sizeof text) > 0);
	for (int pass = 0; pass < 2; pass++)
		for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			char author[128], type[64];
			if (sscanf(l, "%*s %127s %*s %63s", author, type) != 2)
				continue;
			if (pass == 0 && !strcmp(type, "mesh.create"))
				snprintf(creator, sizeof creator, "%s", author);
			else if (pass == 1 && !strcmp(type, "mesh.patch"))
				(*(strcmp(author, creator) ? other : same))++;
		}
	assert_true(creator[0]);
}

static void undo_own_extrude_after_anothers_paint(void **state)
{
	(void)state;
	nf_start(&da, NULL, NULL);
	nf_start(&db, NULL, NULL);
	nf_host(&da, "two-users", sid);
	nf_invite_join(&da, &db, sid, "editor");

	/* A stamps and extrudes; it is held once the extrude is on A. */
	char aout[PATH_MAX], aerr[PATH_MAX], bout[PATH_MAX], berr[PATH_MAX], *text, *etext;
	client_a = edf_spawn_scripted(&da.p, "a.script", script_a, aout, aerr);
	wait_scene(&da, "A", "faces", 10);
	assert_int_equal(kill(client_a, SIGSTOP), 0);
	assert_int_equal(scene_u64(&da, "faces"), 10); /* not undone before the stop */

	/* Both on B (the same log), then B's client paints. */
	struct nf_daemon *both[] = { &da, &db };
	assert_int_equal(nf_wait_logs_equal(both, 2, sid, -1, EDF_WAIT_MS), 0);
	wait_scene(&db, "B", "faces", 10);
	uint64_t materials = scene_u64(&db, "materials");
	client_b = edf_spawn_script(&db.p, "b.script", "", script_b, bout, berr);
	edf_wait_scripted(client_b, bout, berr, &text, &etext);
	client_b = -1;
	if (!strstr(text, "paint 1 face of mesh") || !strstr(text, " entries, 0 refused, "))
		fail_msg("B's theta-client did not paint as scripted:\n%s\n%s", text, etext ? etext : "");
	free(text);
	free(etext);

	/* B's paint on A; then A goes on and undoes its extrude. */
	assert_int_equal(nf_wait_logs_equal(both, 2, sid, -1, EDF_WAIT_MS), 0);
	assert_int_equal(scene_u64(&da, "faces"), 10);
	assert_int_equal(kill(client_a, SIGCONT), 0);
	edf_wait_scripted(client_a, aout, aerr, &text, &etext);
	client_a = -1;
	if (!strstr(text, "stamp a cube (0.20 m) at (0.00, 1.00, -0.50)") || !strstr(text, "extrude 1 face of mesh") ||
	    !strstr(text, "): undone") || !strstr(text, "undo #") ||
	    !strstr(text, "editor: tool extrude, 2 edits, 1 undos, 0 redos") || !strstr(text, " entries, 0 refused, "))
		fail_msg("A's theta-client's history is not as scripted:\n%s\n%s", text, etext ? etext : "");
	free(text);
	free(etext);

	/* Both daemons: the cube as stamped, B's paint kept, one world. */
	assert_int_equal(nf_wait_logs_equal(both, 2, sid, -1, EDF_WAIT_MS), 0);
	wait_scene(&da, "A", "faces", 6);
	wait_scene(&db, "B", "faces", 6);
	struct json_object *sa = scene_of(&da), *sb = scene_of(&db);
	assert_non_null(sa);
	assert_non_null(sb);
	struct nf_daemon *ds[] = { &da, &db };
	struct json_object *ss[] = { sa, sb };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(scene_u64(ds[i], "meshes"), 1);
		assert_int_equal(scene_u64(ds[i], "vertices"), 8);
		assert_int_equal(scene_u64(ds[i], "materials"), materials + 1); /* B's red */
		assert_int_equal(scene_u64(ds[i], "refused"), 0);
	}
	struct json_object *ha = NULL, *hb = NULL;
	assert_true(json_object_object_get_ex(ss[0], "world_hash", &ha));
	assert_true(json_object_object_get_ex(ss[1], "world_hash", &hb));
	if (strcmp(json_object_get_string(ha), json_object_get_string(hb)))
		fail_msg("A and B differ: world hash %s and %s", json_object_get_string(ha), json_object_get_string(hb));
	json_object_put(sa);
	json_object_put(sb);
	/* Two authors: A's extrude (undone) and B's paint. */
	unsigned same, other;
	patch_authors(&db, &same, &other);
	assert_int_equal(same, 1);
	assert_int_equal(other, 1);
	for (int i = 0; i < 2; i++) {
		char *obj = export_obj(ds[i]);
		unsigned n_mtl, least = fewest_faces_of_a_material(obj, &n_mtl);
		if (n_mtl != 2 || least != 1)
			fail_msg("%s's export is not the cube with one face painted:\n%s", i ? "B" : "A", obj);
		free(obj);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(undo_own_extrude_after_anothers_paint, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
