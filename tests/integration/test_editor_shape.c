/* The shape tool and move's rotate end to end: a real thetad and a real
 * theta-client driven by a script (docs/scripted-input.md) that stamps a
 * cube, insets its top face with the shape tool, then turns the inset's
 * inner face 45 degrees with the move tool's rotate option (the hand turned
 * 50 degrees about +y, snapped to 15 degree steps). The daemon's scene
 * (`thetactl scene --json`) counts the inset cube (10 faces, 12 vertices);
 * `thetactl export` of the session to OBJ (world positions) has the inner
 * face's corners on the axes through its centre, 0.075 * sqrt 2 from it;
 * the client's --history says what each edit did. Waits poll with generous
 * deadlines; the script leaves the daemon seconds to answer each step. */
#include "editor_fixture.h"

#include <math.h>

/* After edf_stamp_a_cube (the primitive tool, a cube at (0, 1, -0.5) at
 * 1.5 s). Tools cycle with right a: select, move, extrude, subdivide,
 * vertex, primitive, paint, delete, mirror, shape (docs/editor.md). */
static const char script[] =
	/* primitive -> paint -> delete -> mirror -> shape (option inset) */
	"3s      right press     a\n"
	"3.02s   right release   a\n"
	"3.1s    right press     a\n"
	"3.12s   right release   a\n"
	"3.2s    right press     a\n"
	"3.22s   right release   a\n"
	"3.3s    right press     a\n"
	"3.32s   right release   a\n"
	/* inset the top face a quarter of the way in */
	"3.5s    right position  0 1.11 -0.5\n"
	"3.7s    right trigger   1\n"
	"3.8s    right trigger   0\n"
	/* shape -> select -> move, option object -> ... -> rotate */
	"6s      right press     a\n"
	"6.02s   right release   a\n"
	"6.1s    right press     a\n"
	"6.12s   right release   a\n"
	"6.3s    right thumbstick 1 0\n"
	"6.35s   right thumbstick 0 0\n"
	"6.4s    right thumbstick 1 0\n"
	"6.45s   right thumbstick 0 0\n"
	"6.5s    right thumbstick 1 0\n"
	"6.55s   right thumbstick 0 0\n"
	"6.6s    right thumbstick 1 0\n"
	"6.65s   right thumbstick 0 0\n"
	/* grab the inner top face, turn the hand 50 degrees about +y, release */
	"6.8s    right position  0.02 1.11 -0.5\n"
	"7s      right trigger   1\n"
	"7.1s    right rotation  0 0.4226183 0 0.9063078\n"
	"7.3s    right trigger   0\n"
	"10s     quit\n";

/* OBJ "v x y z" lines of text within 1e-4 of (x, y, z). */
static unsigned obj_verts_at(const char *text, double x, double y, double z)
{
	unsigned n = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		double p[3];
		if (l[0] == 'v' && l[1] == ' ' && sscanf(l + 2, "%lf %lf %lf", &p[0], &p[1], &p[2]) == 3 &&
		    fabs(p[0] - x) < 1e-4 && fabs(p[1] - y) < 1e-4 && fabs(p[2] - z) < 1e-4)
			n++;
	}
	return n;
}

static void inset_and_rotate_reach_the_daemons_scene(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);
	char cout[PATH_MAX], cerr[PATH_MAX], *text, *etext;
	pid_t pid = edf_spawn_scripted(d, "shape.script", script, cout, cerr);
	edf_wait_scripted(pid, cout, cerr, &text, &etext);
	if (!strstr(text, "stamp a cube (0.20 m) at (0.00, 1.00, -0.50)") ||
	    !strstr(text, "inset 1 face of mesh") || !strstr(text, "by 0.25 (lamport") ||
	    !strstr(text, "rotate 4 vertices of mesh") || !strstr(text, "by 45 degrees about their centre (lamport"))
		fail_msg("theta-client's history is not as scripted:\n%s\n%s", text, etext ? etext : "");
	assert_non_null(strstr(text, "editor: tool move, 3 edits, 0 undos, 0 redos"));
	assert_non_null(strstr(text, " entries, 0 refused, ")); /* the scene took every entry */

	/* The daemon's scene: the inset cube (the rotate keeps the counts). */
	dt_wait_scene(d, "faces", 10);
	struct json_object *o = edf_scene_json(d);
	assert_int_equal(dt_u64(o, "meshes"), 1);
	assert_int_equal(dt_u64(o, "faces"), 10);
	assert_int_equal(dt_u64(o, "vertices"), 12);
	struct json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, "session", &v));
	char sid[64];
	snprintf(sid, sizeof sid, "%s", json_object_get_string(v));
	json_object_put(o);

	/* Where the vertices are: the session exported as OBJ (world space). */
	char *otext = edf_export_obj(d, sid, "shape.obj");
	double r = 0.075 * sqrt(2.0);
	unsigned inner = obj_verts_at(otext, r, 1.1, -0.5) + obj_verts_at(otext, -r, 1.1, -0.5) +
			 obj_verts_at(otext, 0, 1.1, -0.5 + r) + obj_verts_at(otext, 0, 1.1, -0.5 - r);
	unsigned outer = obj_verts_at(otext, 0.1, 1.1, -0.4) + obj_verts_at(otext, -0.1, 1.1, -0.4) +
			 obj_verts_at(otext, 0.1, 1.1, -0.6) + obj_verts_at(otext, -0.1, 1.1, -0.6);
	if (inner != 4 || outer != 4)
		fail_msg("the exported cube is not inset and turned (inner %u, outer %u of 4):\n%s", inner, outer, otext);

	/* The log: the create and the two patches, by this user. */
	const char *largs[] = { "log", NULL };
	assert_int_equal(th_ctl(d, largs, edf_out, sizeof edf_out, edf_err, sizeof edf_err), 0);
	assert_non_null(strstr(edf_out, "mesh.create"));
	char *p1 = strstr(edf_out, "mesh.patch");
	assert_non_null(p1);
	assert_non_null(strstr(p1 + 1, "mesh.patch"));
	free(otext);
	free(text);
	free(etext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(inset_and_rotate_reach_the_daemons_scene, dt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
