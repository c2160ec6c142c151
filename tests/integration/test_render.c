/* What people see, end to end: a real thetad, a real theta-client driven by
 * the editor script of test_editor (stamp a cube, pull its top face up
 * 5 cm) rendering with the real headless Vulkan renderer (lavapipe here,
 * validation on), and a second client that joins afterwards and renders
 * the scene it gets from the daemon's snapshot. The first client's frame
 * in the middle of the drag shows the local preview (nothing committed
 * yet); the second shows the committed, extruded cube. Both match goldens
 * (tests/golden/render_*.png) and neither has a validation message. */
#include "editor_fixture.h"

#include "th_golden.h"

static const char drag[] = EDF_EXTRUDE_TOP_5CM "5s      quit\n";

#define VIEW "--camera", "0.3,1.28,-0.12:0,1.06,-0.5", "--size", "320x180", "--no-grid", "--validation"
#define DRAG_FRAME "327" /* 3.63 s: the top face held 2 cm up, the trigger still down */

static void check_png(const char *golden, const char *path)
{
	uint8_t *px = NULL;
	uint32_t w = 0, h = 0;
	char why[256];
	if (gfx_png_read(path, &px, &w, &h, why, sizeof why) < 0)
		fail_msg("%s: %s", path, why);
	th_golden_check(golden, px, w, h, &TH_GOLDEN_TOLERANCE);
	free(px);
}

static void the_drag_preview_and_the_joiners_view(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);

	char a_png[PATH_MAX], b_png[PATH_MAX], cout[PATH_MAX], cerr[PATH_MAX];
	snprintf(a_png, sizeof a_png, "%s/drag.png", d->dir);
	snprintf(b_png, sizeof b_png, "%s/joiner.png", d->dir);
	const char *extra[] = { "--renderer", "headless", VIEW, "--shot-frame", DRAG_FRAME, "--screenshot", a_png, NULL };
	pid_t a = edf_spawn_script_with(d, "drag.script", edf_stamp_a_cube, drag, extra, cout, cerr);
	char *text, *etext;
	edf_wait_scripted(a, cout, cerr, &text, &etext);
	assert_non_null(strstr(text, "renderer headless"));
	assert_non_null(strstr(text, " 0 validation messages"));
	free(text);
	free(etext);
	dt_wait_scene(d, "faces", 10);
	check_png("render_drag_preview", a_png);

	static char out[65536], err[65536];
	const char *bargv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--require-daemon",
				"--frames", "45", VIEW, "--screenshot", b_png, NULL };
	int rc = th_run(bargv, NULL, -1, out, sizeof out, err, sizeof err, EDF_WAIT_MS);
	if (rc != 0)
		fail_msg("the joining client failed (%d):\n%s\n%s", rc, out, err);
	assert_non_null(strstr(out, " 0 validation messages"));
	assert_non_null(strstr(out, "1 full and"));
	check_png("render_extruded", b_png);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_drag_preview_and_the_joiners_view, dt_teardown),
	};
	return cmocka_run_group_tests_name("rendering with a daemon", tests, NULL, NULL);
}
