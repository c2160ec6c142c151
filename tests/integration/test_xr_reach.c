/* Reaching with the ray in the headset, end to end (edit/edit_reach.h,
 * docs/input.md "Reaching with the ray"): a real thetad holding a 20 cm
 * cube (`thetactl import`) 1.7 m in front of the user, and a real
 * theta-client --renderer xr (validation on) on the OpenXR test runtime
 * (tests/xrt/) through the Khronos loader, its Touch controllers moved and
 * pressed by an XRT_INPUT script (docs/scripted-input.md; the scripted aim
 * is the grip pose: its rotation's -Z). The right hand stays at arm's
 * length, about a metre from the cube, far out of the pick radius; only
 * its aim ray can reach it. The script:
 *   - aims into empty space (to the right) and pulls the trigger with the
 *     select tool: nothing is selected;
 *   - aims at the cube's front face and pulls the trigger: the cube is
 *     selected by the ray;
 *   - takes the move tool (right a) and drags with the trigger held while
 *     the hand moves 10 cm to the right: the far cube follows the hand one
 *     to one, 10 cm.
 * Checked: the runtime's record (exactly one selection pulse, in the frames
 * right after the aimed press, none after the empty one, no refused pulse),
 * the client's summary (1 selection, the move's history line "by (0.100,
 * 0.000, 0.000)", 0 validation messages), the daemon's log (the Selection
 * and the Transform written) and the session exported as OBJ: every
 * vertex of the cube 10 cm to the right of where it was imported. */
#include "editor_fixture.h"

#include <math.h>

#include "th_xrt.h"

#define XR_WAIT_MS 120000 /* the client's whole run on a loaded machine */

/* Where things are (stage = world: nothing grabs the world). */
#define XR_CUBE_X 0.0f
#define XR_CUBE_Y 1.3f
#define XR_CUBE_Z (-1.8f)
#define XR_CUBE_HALF 0.1f
#define XR_DRAG 0.10f /* the hand's move while dragging, along +x */
/* The right hand at arm's length, beyond the head's panels (0.7 m ahead,
 * docs/ui.md), so its ray meets no panel on the way to the cube. */
static const float xr_hand[3] = { 0.0f, 1.3f, -0.75f };
static const float xr_ahead[4] = { 0, 0, 0, 1 };                   /* -Z: at the cube's front face */
static const float xr_right[4] = { 0, -0.70710678f, 0, 0.70710678f }; /* -Z turned to +X: empty space */

/* The script's timeline (seconds of script time; the runtime paces it at
 * 90 Hz). Steps are 0.3 s and more apart so that one slow client frame on
 * a loaded machine cannot merge two of them. */
#define XR_T_EMPTY 1.5  /* the trigger pulled aiming at nothing (the cube is in the mirror by now) */
#define XR_T_AIM 2.0    /* the ray onto the cube's front face */
#define XR_T_SELECT 2.5 /* the trigger pulled: the cube selected by the ray */
#define XR_T_MOVE 3.0   /* right a: the move tool */
#define XR_T_GRAB 3.5   /* the trigger held ... */
#define XR_T_DRAG 3.8   /* ... the hand moving in three steps 0.3 s apart ... */
#define XR_T_DROP 4.8   /* ... released */
#define XR_T_QUIT 6.0

static void write_script(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "theta-script 1\n");
	edf_pose(f, 0, "head", (const float[3]){ 0, 1.6f, 0 }, xr_ahead);
	edf_pose(f, 0, "left", (const float[3]){ -0.25f, 1.25f, -0.35f }, xr_ahead);
	/* Into empty space: the select tool's press picks nothing. */
	edf_pose(f, 0, "right", xr_hand, xr_right);
	fprintf(f, "%.3fs right trigger 1\n%.3fs right trigger 0\n", XR_T_EMPTY, XR_T_EMPTY + 0.1);
	/* At the cube: selected by the ray. */
	edf_pose(f, XR_T_AIM, "right", xr_hand, xr_ahead);
	fprintf(f, "%.3fs right trigger 1\n%.3fs right trigger 0\n", XR_T_SELECT, XR_T_SELECT + 0.1);
	/* The move tool; grab through the ray and drag 10 cm to the right. */
	fprintf(f, "%.3fs right press a\n%.3fs right release a\n", XR_T_MOVE, XR_T_MOVE + 0.02);
	fprintf(f, "%.3fs right trigger 1\n", XR_T_GRAB);
	for (int k = 1; k <= 3; k++)
		fprintf(f, "%.3fs right position %.6f %.6f %.6f\n", XR_T_DRAG + 0.3 * (k - 1),
			(double)(xr_hand[0] + XR_DRAG * (float)k / 3.0f), (double)xr_hand[1], (double)xr_hand[2]);
	fprintf(f, "%.3fs right trigger 0\n", XR_T_DROP);
	fprintf(f, "%.3fs quit\n", XR_T_QUIT);
	assert_int_equal(fclose(f), 0);
}

/* How many vertices of the OBJ text are within 2 mm of the cube's corners
 * moved by dx along x. */
static unsigned corners_at(const char *obj, double dx)
{
	unsigned n = 0;
	for (const char *p = obj; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		double x, y, z;
		if (sscanf(p, "v %lf %lf %lf", &x, &y, &z) != 3)
			continue;
		double ex = fabs(x - XR_CUBE_X - dx), ey = fabs(y - XR_CUBE_Y), ez = fabs(z - XR_CUBE_Z);
		n += fabs(ex - XR_CUBE_HALF) < 0.002 && fabs(ey - XR_CUBE_HALF) < 0.002 && fabs(ez - XR_CUBE_HALF) < 0.002;
	}
	return n;
}

static void the_ray_selects_and_drags_a_far_cube(void **state)
{
	(void)state;
	/* The scene: the cube, 1.7 m ahead. */
	struct th_daemon_proc *d = edf_daemon_with_cube((const float[3]){ XR_CUBE_X, XR_CUBE_Y, XR_CUBE_Z }, XR_CUBE_HALF);
	struct json_object *o = edf_scene_json(d);
	struct json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, "session", &v));
	char sid[64];
	snprintf(sid, sizeof sid, "%s", json_object_get_string(v));
	json_object_put(o);
	char *obj = edf_export_obj(d, sid, "before.obj");
	assert_int_equal(corners_at(obj, 0), 8);
	free(obj);

	char script[PATH_MAX], record[PATH_MAX];
	snprintf(script, sizeof script, "%s/xr.script", d->dir);
	snprintf(record, sizeof record, "%s/record", d->dir);
	write_script(script);
	assert_int_equal(th_xrt_env(record), 0); /* make test builds the runtime */
	unsetenv("XRT_UNPACED"); /* paced at 90 Hz: the script runs in real time, as the daemon does */
	setenv("XRT_PROFILE", "oculus/touch_controller", 1);
	setenv("XRT_INPUT", script, 1);
	setenv("XRT_VIEW_SIZE", "160x90", 1);

	char cout[PATH_MAX], cerr[PATH_MAX];
	pid_t pid = edf_spawn_xr(d, cout, cerr);
	int status;
	assert_int_equal(th_wait_pid(pid, XR_WAIT_MS, &status), 0);
	char *text, *etext;
	edf_client_ended(status, cout, cerr, &text, &etext);
	assert_non_null(etext);

	/* The client: the session ran to the script's end on Touch, clean. */
	assert_non_null(strstr(etext, "OpenXR: the session ended"));
	assert_non_null(strstr(etext, "right hand: /interaction_profiles/oculus/touch_controller\n"));
	const char *stats = strstr(text, "renderer xr,");
	assert_non_null(stats);
	assert_non_null(strstr(stats, " 0 validation messages"));
	/* The cube selected (by the ray: the hand was never near it) and moved
	 * as far as the hand went, and the press at nothing refused nothing. */
	if (!strstr(text, "move mesh ") || !strstr(text, " by (0.100, 0.000, 0.000)"))
		fail_msg("theta-client's history has no 10 cm move of the cube:\n%s\n%s", text, etext);
	assert_non_null(strstr(text, "editor: tool move, 1 edits, 0 undos, 0 redos"));
	assert_non_null(strstr(text, " 0 refusals, 1 selections (0 held by others)"));
	assert_non_null(strstr(text, " entries, 0 refused, "));

	/* The runtime's record: one selection pulse, in the frames right
	 * after the aimed press (none for the press at nothing), no other. */
	char *rec = th_xrt_read(record);
	th_xrt_print_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "error "), 0);
	assert_int_equal(th_xrt_lines(rec, "script_quit "), 1);
	const char *sel = "haptic id=1 hand=right amplitude=0.500 duration_ns=20000000 ";
	long long f_select = th_xrt_value(rec, sel, "frame");
	double t_select = th_xrt_frame_time(rec, f_select);
	print_message("haptic pulses: %u selection, first at frame %lld (script time %.3f s); %u in all\n",
		      th_xrt_lines(rec, sel), f_select, t_select, th_xrt_lines(rec, "haptic id=1 "));
	assert_int_equal(th_xrt_lines(rec, sel), 1);
	assert_int_equal(th_xrt_lines(rec, "haptic id=1 "), 1);
	if (!(t_select >= XR_T_SELECT && t_select < XR_T_MOVE))
		fail_msg("the selection pulse is at script time %.3f s, not right after the aimed press (%.1f s)",
			 t_select, XR_T_SELECT);
	free(rec);

	/* The daemon: the cube's every corner 10 cm to the right (the export:
	 * world space), polled until it has folded the move; then its log. */
	uint64_t end = th_now_ns() + (uint64_t)EDF_WAIT_MS * TH_NS_PER_MS;
	unsigned moved = 0;
	for (;;) {
		obj = edf_export_obj(d, sid, "after.obj");
		moved = corners_at(obj, XR_DRAG);
		if (moved == 8 || th_now_ns() > end)
			break;
		free(obj);
		usleep(50 * 1000);
	}
	if (moved != 8)
		fail_msg("the exported cube is not 10 cm to the right (%u of 8 corners there):\n%s", moved, obj);
	free(obj);
	const char *largs[] = { "log", NULL };
	assert_int_equal(th_ctl(d, largs, edf_out, sizeof edf_out, edf_err, sizeof edf_err), 0);
	print_message("%s", edf_out);
	/* The Selection (at the aimed press) and the Transform (at the drop),
	 * both of the one entity. */
	assert_int_equal(edf_count(edf_out, "component.write"), 2);
	char scope[2][64];
	const char *w = edf_out;
	for (int k = 0; k < 2; k++) {
		w = strstr(w, "component.write");
		assert_non_null(w);
		w += strlen("component.write");
		assert_int_equal(sscanf(w, " %63s", scope[k]), 1);
	}
	assert_non_null(strstr(scope[0], "entity:"));
	assert_string_equal(scope[0], scope[1]);
	free(text);
	free(etext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_ray_selects_and_drags_a_far_cube, dt_teardown),
	};
	return cmocka_run_group_tests_name("reaching with the ray in the headset", tests, NULL, NULL);
}
