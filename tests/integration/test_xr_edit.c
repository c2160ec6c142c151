/* Editing in the headset, end to end: a real thetad holding a 20 cm cube
 * (`thetactl import`), and a real theta-client --renderer xr (validation
 * on) on the OpenXR test runtime (tests/xrt/, docs/xr-test-runtime.md)
 * through the Khronos loader, its Touch controllers moved and pressed by an
 * XRT_INPUT script (docs/scripted-input.md). The script:
 *   - presses the history panel's Redo with nothing to redo (refused),
 *   - picks the cube's top face with the right controller (select, face),
 *   - extrudes it 5 cm with the trigger (right a twice: the extrude tool),
 *   - picks red on the colour panel with the aim ray and paints the face,
 *   - undoes the paint with the history panel's Undo,
 *   - snap-turns right and back with the left thumbstick,
 *   - grabs the world with both grips and halves its scale.
 * Checked: `thetactl clients` showing the client's input (openxr touch/touch)
 * while it runs, the daemon's scene (10 faces, 12 vertices) and log (the
 * extrude's and the paint's mesh.patch, the edit.undo, no edit.redo), the client's
 * summary (history, input, renderer with 0 validation messages), the
 * runtime's record of haptic pulses (one refused-edit pulse at the Redo,
 * the selection's, two snaps), and the eye images the runtime captured: a
 * golden of the panels with the aim ray on Redo, the top face red after the
 * paint and not red after the undo, and after the grab where twice the
 * world's size about the hands' midpoint puts it (the nav transform reaching
 * the eye views).
 *
 * Where the panels' buttons are comes from the UI's own layout code
 * (ui_button_centre) run here on the same head and left-hand poses, so the
 * aim ray is pointed at them as a user would. The runtime paces frames at
 * 90 Hz, so the script runs in real time and leaves the daemon over a
 * second to answer each edit before the next one needs it; each capture is
 * taken at the start of a stretch of the script in which nothing changes,
 * and the record's display times say the frame did fall in it. */
#include "editor_fixture.h"

#include <math.h>
#include <sys/stat.h>

#include "edit/edit.h"
#include "gfx/gfx_png.h"
#include "th_golden.h"
#include "th_scene.h"
#include "th_xrt.h"
#include "ui/ui.h"

#define XE_EYE_W 320u
#define XE_EYE_H 180u
#define XE_IPD 0.064f
#define XE_RATE 90.0
#define XE_WAIT_MS 180000 /* the client's whole run on a loaded machine */

/* Where things are (stage = world until the snap and the grab at the end). */
static const float xe_head[3] = { 0, 1.6f, 0 };
static const float xe_head_rot[4] = { -0.24192190f, 0, 0, 0.97029573f }; /* looking 28 degrees down */
static const float xe_left[3] = { -0.25f, 1.25f, -0.35f };
static const float xe_point_from[3] = { 0.2f, 1.3f, -0.3f }; /* the right hand while it points at a panel */
static const float xe_down[4] = { -0.5f, 0, 0, 0.8660254f }; /* the right hand's ray 60 degrees down: off the panels */
#define XE_CUBE_X 0.0f
#define XE_CUBE_Y 1.15f
#define XE_CUBE_Z (-0.45f)
#define XE_CUBE_HALF 0.1f
#define XE_PULL 0.05f /* the extrude */
#define XE_TOP (XE_CUBE_Y + XE_CUBE_HALF)

/* The script's timeline (seconds). The windows are stretches in which
 * what a check looks at does not change; a capture must fall in its own. */
#define XE_T_CUBE 0.8    /* the golden's window opens: the cube is in the client's mirror by now */
#define XE_T_REDO 2.0    /* Redo pressed (refused): the golden's window closes */
#define XE_T_FACE 2.5    /* the tip to the top face, the face option */
#define XE_T_SELECT 3.0  /* the top face picked */
#define XE_T_EXTRUDE 3.4 /* a twice, then the pull */
#define XE_T_RED 5.2     /* the aim ray on red, pressed */
#define XE_T_PAINT 5.9   /* the tip to the face, the paint */
#define XE_T_AWAY 6.6    /* the tip off the face: the painted window opens */
#define XE_T_UNDO 8.6    /* Undo pressed: the painted window closes */
#define XE_T_UNDONE 9.2  /* the undone window opens (the daemon has answered the undo) */
#define XE_T_SNAP1 10.4  /* snap right: the undone window closes */
#define XE_T_SNAP2 10.7  /* snap left */
#define XE_T_GRAB 11.1   /* both grips, the hands apart */
#define XE_T_GRABBED 11.7 /* the grips let go: the grabbed window opens */
#define XE_T_QUIT 13.0
#define XE_WINDOWS 4u
#define XE_CANDIDATES 8u  /* capture frames tried per window (the runtime takes 32) */
#define XE_SKIP_STEP 0.07 /* each candidate allows this much more of the frames skipped */

/* ---- where the panels' buttons are, from the UI's own layout ------------------- */

static int probe_sink(void *ud, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag)
{
	(void)ud, (void)type, (void)scope, (void)payload, (void)len, (void)tag;
	return 0;
}

static void probe_input(struct inp_state *in, const float right[3], const float right_rot[4], float trigger)
{
	inp_state_init(in);
	memcpy(in->head.position, xe_head, sizeof xe_head);
	memcpy(in->head.rotation, xe_head_rot, sizeof xe_head_rot);
	in->head.valid = true;
	memcpy(in->hand[INP_LEFT].pose.position, xe_left, sizeof xe_left);
	in->hand[INP_LEFT].pose.valid = true;
	in->hand[INP_LEFT].aim = in->hand[INP_LEFT].pose;
	memcpy(in->hand[INP_RIGHT].pose.position, right, 3 * sizeof(float));
	memcpy(in->hand[INP_RIGHT].pose.rotation, right_rot, 4 * sizeof(float));
	in->hand[INP_RIGHT].pose.valid = true;
	in->hand[INP_RIGHT].aim = in->hand[INP_RIGHT].pose;
	in->hand[INP_RIGHT].trigger = trigger;
}

struct probe {
	struct edit *ed;
	struct ui *ui;
	struct th_scene *sc;
	struct ui_status st;
};

static void probe_up(struct probe *p)
{
	memset(p, 0, sizeof *p);
	assert_int_equal(edit_create(&(struct edit_config){ .sink = { .submit = probe_sink } }, &p->ed), 0);
	assert_int_equal(ui_create(&p->ui), 0);
	assert_int_equal(th_scene_create(&p->sc), 0);
	p->st = (struct ui_status){ .linked = true, .rtt_us = 0 };
}

static void probe_down(struct probe *p)
{
	ui_destroy(&p->ui);
	edit_destroy(&p->ed);
	th_scene_destroy(&p->sc);
}

/* The centre of panel's button label as the client lays it out for these
 * poses and the probe's editor (its history decides where Undo is). */
static void probe_centre(struct probe *p, enum ui_panel panel, const char *label, float out[3])
{
	struct inp_state in;
	probe_input(&in, xe_point_from, xe_down, 0);
	struct ui_frame_out o;
	assert_int_equal(ui_frame(p->ui, 0, &in, p->ed, &(struct ui_frame_in){ .sc = p->sc, .status = &p->st }, &o), 0);
	if (ui_button_centre(p->ui, panel, label, out) != 0)
		fail_msg("the UI has no button '%s' on panel %d:\n%s", label, (int)panel, ui_panel_text(p->ui, panel));
}

/* Two entries in the probe's history (stamped cubes; nothing folds them),
 * as the client's holds the extrude and the paint when Undo is pressed:
 * the history panel grows a row for each. */
static void probe_two_edits(struct probe *p)
{
	assert_int_equal(edit_set_tool(p->ed, EDIT_TOOL_PRIMITIVE), 0);
	uint64_t t = 0;
	for (int k = 0; k < 2; k++)
		for (int down = 1; down >= 0; down--) {
			struct inp_state in;
			probe_input(&in, (const float[3]){ 2.0f * (float)k, 1, 2 }, xe_down, down ? 1.0f : 0.0f);
			edit_frame(p->ed, t += 100000000ull, &in, p->sc);
		}
	const struct edit_history *h = edit_history(p->ed);
	unsigned edits = 0;
	for (unsigned i = 0; i < h->n; i++)
		edits += h->e[i].kind == EDIT_H_EDIT;
	assert_int_equal(edits, 2);
}

/* The rotation turning -Z (the aim's direction) toward target from `from`. */
static void aim_at(const float from[3], const float target[3], float q[4])
{
	float d[3] = { target[0] - from[0], target[1] - from[1], target[2] - from[2] };
	float n = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
	assert_true(n > 0.01f);
	for (int i = 0; i < 3; i++)
		d[i] /= n;
	/* -Z x d, 1 + (-Z . d), normalised: the shortest arc. */
	float r[4] = { d[1], -d[0], 0, 1 - d[2] };
	float l = sqrtf(r[0] * r[0] + r[1] * r[1] + r[2] * r[2] + r[3] * r[3]);
	assert_true(l > 1e-3f);
	for (int i = 0; i < 4; i++)
		q[i] = r[i] / l;
}

/* ---- the script ------------------------------------------------------------------ */

struct xe_aims {
	float redo[4], red[4], undo[4];
};

static void aims(struct xe_aims *a)
{
	struct probe p;
	probe_up(&p);
	float at[3];
	probe_centre(&p, UI_PANEL_HISTORY, "redo", at);
	aim_at(xe_point_from, at, a->redo);
	probe_centre(&p, UI_PANEL_COLOURS, "red", at);
	aim_at(xe_point_from, at, a->red);
	probe_two_edits(&p);
	probe_centre(&p, UI_PANEL_HISTORY, "undo", at);
	aim_at(xe_point_from, at, a->undo);
	probe_down(&p);
}

#define P3(p) (double)(p)[0], (double)(p)[1], (double)(p)[2]

static void position(FILE *f, double t, const char *hand, const float p[3])
{
	fprintf(f, "%.3fs %s position %.6f %.6f %.6f\n", t, hand, P3(p));
}

static void value(FILE *f, double t, const char *hand, const char *what, double v)
{
	fprintf(f, "%.3fs %s %s %.3f\n", t, hand, what, v);
}

/* A trigger pull (0.1 s), or a thumbstick flick (x, back to 0 after 0.1 s). */
static void pull(FILE *f, double t)
{
	value(f, t, "right", "trigger", 1);
	value(f, t + 0.1, "right", "trigger", 0);
}

static void flick(FILE *f, double t, const char *hand, double x)
{
	fprintf(f, "%.3fs %s thumbstick %.1f 0\n%.3fs %s thumbstick 0 0\n", t, hand, x, t + 0.1, hand);
}

static void write_script(const char *path, const struct xe_aims *a)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	const float *pf = xe_point_from;
	/* The right hand's tip 1 cm above the top face, and above it after the pull. */
	const float tip[3] = { XE_CUBE_X, XE_TOP + 0.01f, XE_CUBE_Z };
	const float tip2[3] = { XE_CUBE_X, XE_TOP + XE_PULL + 0.01f, XE_CUBE_Z };
	fprintf(f, "theta-script 1\n");
	edf_pose(f, 0, "head", xe_head, xe_head_rot);
	edf_pose(f, 0, "left", xe_left, (const float[4]){ 0, 0, 0, 1 });
	/* Redo with nothing to redo: refused. */
	edf_pose(f, 0, "right", pf, a->redo);
	pull(f, XE_T_REDO);
	/* The select tool's face option (thumbstick right), the top face. */
	edf_pose(f, XE_T_FACE, "right", tip, xe_down);
	flick(f, XE_T_FACE + 0.1, "right", 1);
	pull(f, XE_T_SELECT);
	/* a twice (move, extrude), then pull the selected face 5 cm up. The
	 * presses are 0.3 s apart: two in one frame would be one tool step, so
	 * a client frame as slow as 0.25 s on a loaded machine still steps twice. */
	for (int k = 0; k < 2; k++)
		fprintf(f, "%.3fs right press a\n%.3fs right release a\n", XE_T_EXTRUDE + 0.3 * k,
			XE_T_EXTRUDE + 0.3 * k + 0.02);
	value(f, XE_T_EXTRUDE + 0.7, "right", "trigger", 1);
	for (int k = 1; k <= 3; k++)
		position(f, XE_T_EXTRUDE + 0.7 + 0.1 * k,
			 "right", (const float[3]){ tip[0], tip[1] + XE_PULL * (k == 3 ? 1.0f : 0.4f * (float)k), tip[2] });
	value(f, XE_T_EXTRUDE + 1.1, "right", "trigger", 0);
	/* Red from the colour panel, then paint the face; the tip leaves it
	 * (no hover tint on it), the ray off the panels. */
	edf_pose(f, XE_T_RED, "right", pf, a->red);
	pull(f, XE_T_RED + 0.3);
	edf_pose(f, XE_T_PAINT, "right", tip2, xe_down);
	pull(f, XE_T_PAINT + 0.3);
	edf_pose(f, XE_T_AWAY, "right", pf, xe_down);
	/* Undo from the history panel. */
	edf_pose(f, XE_T_UNDO - 0.3, "right", pf, a->undo);
	pull(f, XE_T_UNDO);
	edf_pose(f, XE_T_UNDO + 0.15, "right", pf, xe_down);
	/* Snap right and back. */
	flick(f, XE_T_SNAP1, "left", 1);
	flick(f, XE_T_SNAP2, "left", -1);
	/* Grab the world and pull the hands apart to twice the span: half the scale. */
	value(f, XE_T_GRAB, "left", "grip", 1);
	value(f, XE_T_GRAB, "right", "grip", 1);
	for (int k = 1; k <= 3; k++) {
		float t = (float)k / 3.0f, p[3];
		for (int i = 0; i < 3; i++)
			p[i] = pf[i] + t * (pf[i] - xe_left[i]);
		position(f, XE_T_GRAB + 0.1 * k, "right", p);
	}
	value(f, XE_T_GRAB + 0.5, "left", "grip", 0);
	value(f, XE_T_GRAB + 0.5, "right", "grip", 0);
	fprintf(f, "%.3fs quit\n", XE_T_QUIT);
	assert_int_equal(fclose(f), 0);
}

/* ---- the runtime's record and captures ------------------------------------------- */

/* Haptic pulses of amplitude and duration on hand, and the first one's frame. */
static unsigned pulses(const char *rec, const char *hand, const char *amplitude, const char *duration_ns,
		       long *first_frame)
{
	char want[160];
	snprintf(want, sizeof want, "haptic id=1 hand=%s amplitude=%s duration_ns=%s ", hand, amplitude, duration_ns);
	unsigned n = 0;
	*first_frame = -1;
	for (const char *p = rec; (p = strstr(p, want)) != NULL; p++) {
		if (p != rec && p[-1] != '\n')
			continue;
		const char *fr = strstr(p, " frame=");
		const char *nl = strchr(p, '\n');
		if (fr && (!nl || fr < nl) && *first_frame < 0)
			*first_frame = strtol(fr + 7, NULL, 10);
		n++;
	}
	return n;
}

/* A capture (or a pulse) at frame shows script time in [from, to): the
 * client kept up with the runtime's 90 Hz closely enough. */
static void assert_shows(const char *rec, const char *what, long frame, double from, double to)
{
	double t = th_xrt_frame_time(rec, frame);
	if (!(t >= from && t < to))
		fail_msg("%s: frame %ld is at script time %.3f s, not in [%.3f, %.3f) s (the client fell behind the "
			 "runtime's frames)",
			 what, frame, t, from, to);
}

/* Where a check's capture may come from: the frames that would show the
 * window's start if none, 6 %, 12 %, ... of the runtime's 90 Hz slots
 * were skipped before it (a client that falls behind skips slots), and
 * the one of them the record shows inside the window. */
struct xe_window {
	const char *what;
	double from, to;
	unsigned frame[XE_CANDIDATES];
	long chosen;
};

static void window_frames(struct xe_window *w)
{
	for (unsigned k = 0; k < XE_CANDIDATES; k++)
		w->frame[k] = 2u + (unsigned)(w->from * XE_RATE * (1.0 - XE_SKIP_STEP * k));
}

static void window_choose(struct xe_window *w, const char *rec)
{
	char seen[512] = "";
	size_t n = 0;
	w->chosen = -1;
	for (unsigned k = XE_CANDIDATES; k-- > 0;) { /* earliest frame first */
		double t = th_xrt_frame_time(rec, w->frame[k]);
		if (t >= w->from && t < w->to) {
			w->chosen = w->frame[k];
			return;
		}
		if (n < sizeof seen)
			n += (size_t)snprintf(seen + n, sizeof seen - n, " %u:%.2fs", w->frame[k], t);
	}
	fail_msg("%s: no capture in [%.2f, %.2f) s of the script (frame:time%s): the client fell too far behind the "
		 "runtime's frames",
		 w->what, w->from, w->to, seen);
}

static uint8_t *eye(const char *dir, unsigned frame)
{
	char path[PATH_MAX + 64], why[GFX_PNG_WHY_MAX];
	snprintf(path, sizeof path, "%s/frame-%04u-left.png", dir, frame);
	uint8_t *px = NULL;
	uint32_t w = 0, h = 0;
	if (gfx_png_read(path, &px, &w, &h, why, sizeof why))
		fail_msg("%s: %s", path, why);
	assert_int_equal(w, XE_EYE_W);
	assert_int_equal(h, XE_EYE_H);
	return px;
}

/* Where world point p lands in the left eye (the runtime's default field
 * of view: +-45 degrees across, square pixels). */
/* p is in stage space: where the runtime puts the eyes. */
static void project_left(const float p[3], int *u, int *v)
{
	/* The eye: the head moved IPD/2 along its x axis (x stays x: the head
	 * only pitches). Into the eye's frame: the inverse of the pitch. */
	float e[3] = { p[0] - (xe_head[0] - XE_IPD / 2), p[1] - xe_head[1], p[2] - xe_head[2] };
	float a = 2 * atan2f(xe_head_rot[0], xe_head_rot[3]); /* the pitch about +x */
	float y = cosf(a) * e[1] + sinf(a) * e[2], z = -sinf(a) * e[1] + cosf(a) * e[2];
	float f = (XE_EYE_W / 2.0f) / tanf(45.0f * (float)M_PI / 180.0f);
	*u = (int)lroundf(XE_EYE_W / 2.0f + f * e[0] / -z);
	*v = (int)lroundf(XE_EYE_H / 2.0f - f * y / -z);
}

/* Pixels in a 7 x 7 box around (u, v) of the eye that is(pixel) says yes to. */
static unsigned box_pixels(const uint8_t *px, int u, int v, bool (*is)(const uint8_t *c))
{
	unsigned n = 0;
	for (int y = v - 3; y <= v + 3; y++)
		for (int x = u - 3; x <= u + 3; x++) {
			assert_true(x >= 0 && y >= 0 && x < (int)XE_EYE_W && y < (int)XE_EYE_H);
			n += is(px + ((size_t)y * XE_EYE_W + (size_t)x) * 4);
		}
	return n;
}

/* The palette's red lit: red well above green and blue. */
static bool is_red(const uint8_t *c) { return c[0] > 2 * c[1] && c[0] > 2 * c[2] && c[0] > 80; }

static unsigned red_pixels(const uint8_t *px, int u, int v) { return box_pixels(px, u, v, is_red); }

/* An eye a check failed on, kept for a person to look at:
 * $THETA_BUILD/golden/NAME.actual.png (build/ by default). */
static void keep(const char *name, const uint8_t *px)
{
	const char *b = getenv("THETA_BUILD");
	char path[PATH_MAX], why[GFX_PNG_WHY_MAX];
	snprintf(path, sizeof path, "%s/golden/%s.actual.png", b && *b ? b : "build", name);
	if (gfx_png_write(path, px, XE_EYE_W, XE_EYE_H, why, sizeof why) == 0)
		fprintf(stderr, "the eye is in %s\n", path);
}

/* The cube's light grey (lit, unpainted). */
static bool is_grey(const uint8_t *c)
{
	int lo = c[0] < c[1] ? (c[0] < c[2] ? c[0] : c[2]) : (c[1] < c[2] ? c[1] : c[2]);
	int hi = c[0] > c[1] ? (c[0] > c[2] ? c[0] : c[2]) : (c[1] > c[2] ? c[1] : c[2]);
	return lo > 160 && hi - lo < 24;
}

static unsigned grey_pixels(const uint8_t *px, int u, int v) { return box_pixels(px, u, v, is_grey); }

/* ---- the test ---------------------------------------------------------------------- */

static void pick_extrude_paint_undo_in_the_headset(void **state)
{
	(void)state;
	/* The scene: the cube. */
	struct th_daemon_proc *d = edf_daemon_with_cube((const float[3]){ XE_CUBE_X, XE_CUBE_Y, XE_CUBE_Z }, XE_CUBE_HALF);

	/* The runtime: Touch controllers moved by the script, the record, and
	 * the candidate frames of each capture. */
	struct xe_aims a;
	aims(&a);
	char script[PATH_MAX], record[PATH_MAX], eyes[PATH_MAX];
	snprintf(script, sizeof script, "%s/xr.script", d->dir);
	snprintf(record, sizeof record, "%s/record", d->dir);
	snprintf(eyes, sizeof eyes, "%s/eyes", d->dir);
	assert_int_equal(mkdir(eyes, 0700), 0);
	write_script(script, &a);
	struct xe_window win[] = {
		{ .what = "the panels' capture", .from = XE_T_CUBE, .to = XE_T_REDO },
		{ .what = "the painted capture", .from = XE_T_AWAY, .to = XE_T_UNDO },
		{ .what = "the undone capture", .from = XE_T_UNDONE, .to = XE_T_SNAP1 },
		{ .what = "the grabbed capture", .from = XE_T_GRABBED, .to = XE_T_QUIT },
	};
	char frames[512];
	size_t fl = 0;
	for (unsigned i = 0; i < XE_WINDOWS; i++) {
		window_frames(&win[i]);
		for (unsigned k = XE_CANDIDATES; k-- > 0;)
			fl += (size_t)snprintf(frames + fl, sizeof frames - fl, "%s%u", fl ? "," : "", win[i].frame[k]);
	}
	assert_true(fl < sizeof frames);
	char size[32], ipd[32];
	snprintf(size, sizeof size, "%ux%u", XE_EYE_W, XE_EYE_H);
	snprintf(ipd, sizeof ipd, "%.3f", (double)XE_IPD);
	assert_int_equal(th_xrt_env(record), 0); /* make test builds the runtime */
	unsetenv("XRT_UNPACED"); /* paced at 90 Hz: the script runs in real time, as the daemon does */
	setenv("XRT_PROFILE", "oculus/touch_controller", 1);
	setenv("XRT_INPUT", script, 1);
	setenv("XRT_CAPTURE_DIR", eyes, 1);
	setenv("XRT_CAPTURE_FRAMES", frames, 1);
	setenv("XRT_VIEW_SIZE", size, 1);
	setenv("XRT_IPD", ipd, 1);

	char cout[PATH_MAX], cerr[PATH_MAX];
	pid_t pid = edf_spawn_xr(d, cout, cerr);
	/* While it runs, the daemon knows its input: OpenXR, Touch on both hands. */
	int status;
	bool reaped = false, listed = false;
	const char *cargs[] = { "clients", NULL };
	uint64_t end = th_now_ns() + (uint64_t)XE_WAIT_MS * TH_NS_PER_MS;
	while (!listed && !reaped && th_now_ns() < end) {
		if (th_ctl(d, cargs, edf_out, sizeof edf_out, edf_err, sizeof edf_err) == 0 &&
		    strstr(edf_out, " openxr touch/touch"))
			listed = true;
		else if (waitpid(pid, &status, WNOHANG) == pid)
			reaped = true;
		else
			usleep(100 * 1000);
	}
	if (!reaped)
		assert_int_equal(th_wait_pid(pid, XE_WAIT_MS, &status), 0);
	char *text, *etext;
	edf_client_ended(status, cout, cerr, &text, &etext);
	assert_non_null(etext);

	/* The client: the session ran to the script's end with the Touch
	 * profile on both hands, the renderer clean. */
	assert_non_null(strstr(etext, "OpenXR: the session ended"));
	if (!listed)
		fail_msg("thetactl clients never showed the client's input as 'openxr touch/touch':\n%s", edf_out);
	const char *stats = strstr(text, "renderer xr,");
	assert_non_null(stats);
	assert_non_null(strstr(stats, " 0 validation messages"));
	assert_non_null(strstr(text, "theta-client: input openxr, profiles /interaction_profiles/oculus/touch_controller "
				     "/interaction_profiles/oculus/touch_controller, "));
	assert_non_null(strstr(etext, "left hand: /interaction_profiles/oculus/touch_controller\n"));
	assert_non_null(strstr(etext, "right hand: /interaction_profiles/oculus/touch_controller\n"));
	assert_non_null(strstr(text, " (0 the source could not give), 2 snap turns, world scale 0.50"));
	/* Its history: the extrude stands, the paint undone by the undo. */
	if (!strstr(text, "extrude 1 face of mesh") || !strstr(text, " by 0.050 m (lamport") ||
	    !strstr(text, " red (lamport") || !strstr(text, "): undone") || !strstr(text, "undo #"))
		fail_msg("theta-client's history is not as scripted:\n%s", text);
	assert_non_null(strstr(text, "editor: tool paint, 2 edits, 1 undos, 0 redos"));
	assert_non_null(strstr(text, " 1 refusals, ")); /* the Redo */
	assert_non_null(strstr(text, " entries, 0 refused, "));

	/* The daemon: the extruded cube (the paint undone changes no count),
	 * the two patches, the undo, and no redo (the refused one was not sent). */
	dt_wait_scene(d, "faces", 10);
	struct json_object *o = edf_scene_json(d);
	assert_int_equal(dt_u64(o, "meshes"), 1);
	assert_int_equal(dt_u64(o, "faces"), 10);
	assert_int_equal(dt_u64(o, "vertices"), 12);
	json_object_put(o);
	const char *largs[] = { "log", NULL };
	assert_int_equal(th_ctl(d, largs, edf_out, sizeof edf_out, edf_err, sizeof edf_err), 0);
	assert_int_equal(edf_count(edf_out, "mesh.create"), 1);
	assert_int_equal(edf_count(edf_out, "mesh.patch"), 2);
	assert_int_equal(edf_count(edf_out, "edit.undo"), 1);
	assert_int_equal(edf_count(edf_out, "edit.redo"), 0);

	/* The runtime's record: a clean session, the Touch profile, and the
	 * pulses main.c asked for. */
	char *rec = th_xrt_read(record);
	th_xrt_print_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "error "), 0);
	assert_int_equal(th_xrt_lines(rec, "profile id=1 hand=right path=/interaction_profiles/oculus/touch_controller"), 1);
	assert_int_equal(th_xrt_lines(rec, "script_quit "), 1);
	long f_refused, f_select, f_snap;
	unsigned refused = pulses(rec, "right", "1.000", "80000000", &f_refused);
	unsigned selects = pulses(rec, "right", "0.500", "20000000", &f_select);
	unsigned snaps = pulses(rec, "left", "0.300", "10000000", &f_snap);
	print_message("haptic pulses: %u refused (first at frame %ld), %u selection (%ld), %u snap (%ld)\n", refused,
		      f_refused, selects, f_select, snaps, f_snap);
	assert_int_equal(refused, 1);
	assert_shows(rec, "the refused-edit pulse", f_refused, XE_T_REDO, XE_T_FACE);
	assert_int_equal(selects, 1);
	assert_shows(rec, "the selection pulse", f_select, XE_T_SELECT, XE_T_EXTRUDE);
	assert_int_equal(snaps, 2);
	assert_shows(rec, "the first snap pulse", f_snap, XE_T_SNAP1, XE_T_SNAP2);
	assert_int_equal(th_xrt_lines(rec, "haptic id=1 "), refused + selects + snaps);
	/* The captures that show the moments they are for. */
	for (unsigned i = 0; i < XE_WINDOWS; i++)
		window_choose(&win[i], rec);
	print_message("captures: frames %ld, %ld, %ld and %ld\n", win[0].chosen, win[1].chosen, win[2].chosen,
		      win[3].chosen);
	free(rec);

	/* The eyes: the panels with the ray on Redo (golden); the top face red
	 * after the paint, and not after the undo. */
	uint8_t *g = eye(eyes, (unsigned)win[0].chosen), *painted = eye(eyes, (unsigned)win[1].chosen),
		*undone = eye(eyes, (unsigned)win[2].chosen);
	th_golden_check("xr_edit_panels", g, XE_EYE_W, XE_EYE_H, &TH_GOLDEN_TOLERANCE);
	int u, v;
	project_left((const float[3]){ XE_CUBE_X, XE_TOP + XE_PULL, XE_CUBE_Z }, &u, &v);
	unsigned before = red_pixels(g, u, v), red = red_pixels(painted, u, v), after = red_pixels(undone, u, v);
	print_message("the top face at (%d, %d): %u red pixels before, %u painted, %u undone (of 49)\n", u, v, before,
		      red, after);
	if (before || red < 40 || after) {
		keep("xr_edit_painted", painted);
		keep("xr_edit_undone", undone);
		fail_msg("the top face is not red after the paint only");
	}
	/* After the grab the world is twice as big about the hands' midpoint,
	 * which went to where the right hand pointed from: a world point W is
	 * at stage 2 W - left hand. The top face is there, not where it was. */
	uint8_t *grabbed = eye(eyes, (unsigned)win[3].chosen);
	float w[3] = { XE_CUBE_X, XE_TOP + XE_PULL, XE_CUBE_Z }, st[3];
	for (int i = 0; i < 3; i++)
		st[i] = 2 * w[i] - xe_left[i];
	int gu, gv;
	project_left(st, &gu, &gv);
	unsigned top_before = grey_pixels(undone, gu, gv), top_after = grey_pixels(grabbed, gu, gv);
	print_message("after the grab the top face at (%d, %d): %u grey pixels, %u before the grab\n", gu, gv,
		      top_after, top_before);
	if (top_after < 40 || top_before > 5) {
		keep("xr_edit_undone", undone);
		keep("xr_edit_grabbed", grabbed);
		fail_msg("the grab did not scale the world about the hands' midpoint in the eyes");
	}
	free(grabbed);
	free(g);
	free(painted);
	free(undone);
	free(text);
	free(etext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(pick_extrude_paint_undo_in_the_headset, dt_teardown),
	};
	return cmocka_run_group_tests_name("editing in the headset", tests, NULL, NULL);
}
