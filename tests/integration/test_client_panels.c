/* theta-client's panels (docs/ui.md) and --no-ui, end to end: a real
 * thetad, a real theta-client linked to it (so it has an editor, and the
 * panels with it) rendering an empty scene without the grid headless
 * (lavapipe, validation on) from a scripted head. With the panels the
 * picture has them (the history and inspector panels float in front of
 * the head, docs/ui.md "Layout"); with --no-ui every pixel is the clear
 * colour. */
#include "editor_fixture.h"

#include "gfx/gfx_png.h"

/* The history and inspector panels below the eyes cover about 1300 of
 * the 320 x 180 pixels from this head. */
#define PANELS_MIN_PX 500u

static const char script[] = "theta-script 1\n"
			     "0s      head  pose  0 1.6 0   0 0 0 1\n"
			     "0.3s    quit\n";

/* The client's screenshot: the number of pixels that are not the first
 * pixel's colour (an empty scene without the grid is all clear colour). */
static size_t client_shot(struct th_daemon_proc *d, const char *script_path, bool no_ui, const char *png)
{
	static char out[65536], err[65536];
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--require-daemon",
			       "--headless", "--no-pacing", "--camera", "head", "--size", "320x180", "--no-grid",
			       "--validation", "--script", script_path, "--screenshot", png,
			       no_ui ? "--no-ui" : NULL, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, EDF_WAIT_MS);
	if (rc != 0)
		fail_msg("theta-client%s failed (%d):\n%s\n%s", no_ui ? " --no-ui" : "", rc, out, err);
	assert_non_null(strstr(out, "renderer headless"));
	assert_non_null(strstr(out, " 0 validation messages"));
	const char *input = strstr(out, "theta-client: input script,");
	assert_non_null(input);
	/* Dropped keys are the desktop's alone. */
	assert_null(strstr(input, "keys dropped"));
	assert_non_null(strstr(input, " snap turns, world scale 1.00\n"));
	uint8_t *px = NULL;
	uint32_t w = 0, h = 0;
	char why[GFX_PNG_WHY_MAX];
	if (gfx_png_read(png, &px, &w, &h, why, sizeof why) < 0)
		fail_msg("%s: %s", png, why);
	assert_int_equal(w, 320);
	assert_int_equal(h, 180);
	size_t other = 0;
	for (size_t i = 0; i < (size_t)w * h; i++)
		other += memcmp(px + i * 4, px, 3) != 0;
	free(px);
	return other;
}

static void panels_drawn_and_gone_with_no_ui(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);
	char path[PATH_MAX], with[PATH_MAX], without[PATH_MAX];
	snprintf(path, sizeof path, "%s/head.script", d->dir);
	snprintf(with, sizeof with, "%s/panels.png", d->dir);
	snprintf(without, sizeof without, "%s/no-ui.png", d->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(script, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);

	size_t panels = client_shot(d, path, false, with);
	if (panels < PANELS_MIN_PX)
		fail_msg("with the panels only %zu pixels are not the clear colour", panels);
	assert_int_equal(client_shot(d, path, true, without), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(panels_drawn_and_gone_with_no_ui, dt_teardown),
	};
	return cmocka_run_group_tests_name("theta-client's panels", tests, NULL, NULL);
}
