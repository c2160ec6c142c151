/* The editor end to end: a real thetad and a real theta-client driven by a
 * script (docs/scripted-input.md) that switches to the primitive tool,
 * stamps a cube, pulls its top face up 5 cm with the extrude tool and
 * undoes that with left x. The daemon's scene (`thetactl scene --json`)
 * shows the extruded cube (10 faces, 12 vertices) and then the cube as
 * stamped (8 vertices, 6 faces); the log holds the mesh.create, the
 * mesh.patch and the edit.undo naming it, and the client's --history lists
 * the three with what each did. It then selects the cube: the Selection
 * is in the scene, and a second theta-client watching (no script) ends
 * with it in its mirror too. Waits poll with generous
 * deadlines; the script leaves the daemon a second and more to answer each
 * step (its times are simulation time, paced at 90 Hz). */
#include "editor_fixture.h"

#include <signal.h>

/* After edf_stamp_a_cube (the primitive tool, a cube at (0, 1, -0.5) at
 * 1.5 s). Tools cycle with right a in this order: select, move, extrude,
 * subdivide, vertex, primitive, paint, delete (docs/editor.md). */
static const char script[] =
	EDF_EXTRUDE_TOP_5CM
	/* undo it */
	"7s      left  press     x\n"
	"7.02s   left  release   x\n"
	/* back to select (b twice: move, select), select the cube */
	"8s      right press     b\n"
	"8.02s   right release   b\n"
	"8.1s    right press     b\n"
	"8.12s   right release   b\n"
	"8.2s    right position  0 1 -0.5\n"
	"8.5s    right trigger   1\n"
	"8.6s    right trigger   0\n"
	"10s     quit\n";

/* Polls `thetactl clients --json` until the client pid reports its mirror
 * at position pos matching the daemon's world hash. */
static void wait_at(struct th_daemon_proc *d, pid_t pid, uint64_t pos)
{
	const char *args[] = { "clients", "--json", NULL };
	uint64_t end = th_now_ns() + (uint64_t)EDF_WAIT_MS * TH_NS_PER_MS;
	while (th_now_ns() < end) {
		assert_int_equal(th_ctl(d, args, edf_out, sizeof edf_out, edf_err, sizeof edf_err), 0);
		struct json_object *o = json_tokener_parse(edf_out), *list = NULL;
		bool seen = false;
		if (o && json_object_object_get_ex(o, "clients", &list))
			for (size_t i = 0; i < json_object_array_length(list); i++) {
				struct json_object *c = json_object_array_get_idx(list, i), *sc = NULL, *v = NULL, *h = NULL;
				if (json_object_object_get_ex(c, "pid", &v) && json_object_get_int64(v) == pid &&
				    json_object_object_get_ex(c, "scene", &sc) && sc &&
				    json_object_object_get_ex(sc, "next_pos", &v) && json_object_get_uint64(v) == pos &&
				    json_object_object_get_ex(sc, "hash", &h) && !strcmp(json_object_get_string(h), "match"))
					seen = true;
			}
		json_object_put(o);
		if (seen)
			return;
		usleep(50 * 1000);
	}
	fail_msg("the watching client never reached position %llu matching the daemon", (unsigned long long)pos);
}

static void stamp_extrude_and_undo_reach_the_daemons_scene(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);
	/* The watcher: a client without a script, stopped at the end. */
	char wout[PATH_MAX], werr[PATH_MAX];
	snprintf(wout, sizeof wout, "%s/watcher.out", d->dir);
	snprintf(werr, sizeof werr, "%s/watcher.err", d->dir);
	const char *wargv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null",
				"--require-daemon", "--frames", "100000000", NULL };
	pid_t watcher = th_spawn(wargv, NULL, wout, werr);
	assert_true(watcher > 0);
	char cout[PATH_MAX], cerr[PATH_MAX];
	pid_t pid = edf_spawn_scripted(d, "edit.script", script, cout, cerr);
	/* While it runs: the extruded cube (the undo comes 3 s later). */
	uint64_t end = th_now_ns() + (uint64_t)EDF_WAIT_MS * TH_NS_PER_MS;
	struct json_object *o;
	uint64_t faces = 0, verts = 0;
	for (;;) {
		o = edf_scene_json(d);
		struct json_object *v = NULL;
		if (json_object_object_get_ex(o, "faces", &v)) {
			faces = dt_u64(o, "faces");
			verts = dt_u64(o, "vertices");
		}
		json_object_put(o);
		if (faces == 10 || th_now_ns() > end || waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(20 * 1000);
	}
	assert_int_equal(faces, 10);
	assert_int_equal(verts, 12);
	char *text, *etext;
	edf_wait_scripted(pid, cout, cerr, &text, &etext);

	/* The client's history: what each did; the subdivision undone. */
	if (!strstr(text, "stamp a cube (0.20 m) at (0.00, 1.00, -0.50)") ||
	    !strstr(text, "extrude 1 face of mesh") || !strstr(text, "by 0.050 m (lamport") ||
	    !strstr(text, "): undone") || !strstr(text, "undo #"))
		fail_msg("theta-client's history is not as scripted:\n%s\n%s", text, etext ? etext : "");
	assert_non_null(strstr(text, "editor: tool select, 2 edits, 1 undos, 0 redos"));
	assert_non_null(strstr(text, " 1 selections (0 held by others)")); /* its own */
	assert_non_null(strstr(text, " entries, 0 refused, ")); /* the scene took every entry */

	/* The daemon's scene: the cube as stamped. */
	dt_wait_scene(d, "faces", 6);
	o = edf_scene_json(d);
	assert_int_equal(dt_u64(o, "meshes"), 1);
	assert_int_equal(dt_u64(o, "faces"), 6);
	assert_int_equal(dt_u64(o, "vertices"), 8);
	json_object_put(o);

	/* The log: the create, the patch and the undo, by this user. */
	const char *largs[] = { "log", NULL };
	assert_int_equal(th_ctl(d, largs, edf_out, sizeof edf_out, edf_err, sizeof edf_err), 0);
	assert_non_null(strstr(edf_out, "mesh.create"));
	assert_non_null(strstr(edf_out, "mesh.patch"));
	assert_non_null(strstr(edf_out, "edit.undo"));
	assert_non_null(strstr(edf_out, "tool.state"));
	assert_non_null(strstr(edf_out, "component.write"));

	/* The watcher, once at the log's end, has the selection in its mirror. */
	o = edf_scene_json(d);
	uint64_t pos = dt_u64(o, "log_position");
	json_object_put(o);
	wait_at(d, watcher, pos);
	assert_int_equal(kill(watcher, SIGTERM), 0);
	int status;
	assert_int_equal(th_wait_pid(watcher, EDF_WAIT_MS, &status), 0);
	char *wtext = th_slurp(wout);
	assert_non_null(wtext);
	if (!strstr(wtext, "0 edits, 0 undos, 0 redos") || !strstr(wtext, " 1 selections ("))
		fail_msg("the watcher does not see the selection:\n%s", wtext);
	free(wtext);
	free(text);
	free(etext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(stamp_extrude_and_undo_reach_the_daemons_scene, dt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
