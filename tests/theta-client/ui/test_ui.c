/* The editor's panels (theta-client/ui/): the font atlas FreeType made at
 * build time, the layout in the headset (above the left grip, in front of
 * the head) and on the desktop (window edges), hit tests with the right aim
 * ray and with the cursor, presses applied to a real editor (tool, colour,
 * undo, redo, the overlay toggle) and consumed so the tool under them never
 * sees the trigger, and what each panel says. */
#include "../edit/edit_fix.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edit/edit_palette.h"
#include "th_harness.h"
#include "th_hex.h"
#include "ui/ui.h"
#include "ui/ui_font.h"

/* The headset: head 30 cm behind the cube looking down -z, the left grip
 * at waist height to the left. */
static const float head_at[3] = { 0, 1.6f, 0.3f };
static const float grip_at[3] = { -0.25f, 1.1f, -0.1f };
static const float hand_at[3] = { 0.25f, 1.1f, -0.1f }; /* the right aim's origin */

struct uf {
	struct ef *f;
	struct ui *u;
	struct ui_status st;
	struct ui_frame_in fi;
	struct ui_frame_out out;
	bool trig_was, mouse_was; /* what the devices held last frame (the UI may clear the input's) */
};

static struct uf *uf_new(bool desktop, uint64_t *cube)
{
	struct uf *t = calloc(1, sizeof *t);
	assert_non_null(t);
	t->f = cube ? ef_new_cube(cube) : ef_new(NULL);
	assert_int_equal(ui_create(&t->u), 0);
	t->fi.desktop = desktop;
	t->fi.status = &t->st;
	t->st.rtt_us = -1;
	t->st.peers = -1;
	struct inp_state *in = &t->f->in;
	memcpy(in->head.position, head_at, sizeof head_at);
	in->head.valid = true;
	if (desktop) {
		in->desk.present = in->desk.focused = true;
		in->desk.width = 1280;
		in->desk.height = 720;
	} else {
		memcpy(in->hand[INP_LEFT].pose.position, grip_at, sizeof grip_at);
		in->hand[INP_LEFT].pose.valid = true;
	}
	return t;
}

static void uf_free(struct uf *t)
{
	ui_destroy(&t->u);
	assert_null(t->u);
	ef_free(t->f);
	free(t);
}

/* The right aim ray from hand_at through target (its rotation turns -z
 * onto the direction). */
static void uf_aim(struct uf *t, const float target[3])
{
	struct inp_pose *a = &t->f->in.hand[INP_RIGHT].aim;
	float d[3];
	float l = 0;
	for (int k = 0; k < 3; k++) {
		d[k] = target[k] - hand_at[k];
		l += d[k] * d[k];
	}
	l = sqrtf(l);
	for (int k = 0; k < 3; k++)
		d[k] /= l;
	/* The rotation of (0, 0, -1) onto d: axis (0,0,-1) x d, half angle. */
	float q[4] = { d[1], -d[0], 0, 1 - d[2] };
	float n = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
	for (int k = 0; k < 4; k++)
		a->rotation[k] = q[k] / n;
	memcpy(a->position, hand_at, sizeof hand_at);
	a->valid = true;
}

/* One client frame as main.c runs it: the UI, then the editor, with the
 * right tip at tip, the trigger at trig (and its click held with it), the
 * left hand's pressed buttons. The UI's result in t->out. */
static void uf_frame(struct uf *t, const float tip[3], float trig, uint32_t left_pressed)
{
	struct ef *f = t->f;
	struct inp_controller *r = &f->in.hand[INP_RIGHT];
	memcpy(r->pose.position, tip, 3 * sizeof(float));
	bool was = t->trig_was, held = trig > 0.9f;
	r->trigger = trig;
	r->buttons = held ? TH_BUTTON_TRIGGER : 0;
	r->pressed = !was && held ? TH_BUTTON_TRIGGER : 0;
	r->released = was && !held ? TH_BUTTON_TRIGGER : 0;
	t->trig_was = held;
	f->in.hand[INP_LEFT].pressed = left_pressed;
	uint64_t now = f->frame++ * EF_FRAME_NS;
	t->fi.sc = ef_scene(f);
	assert_int_equal(ui_frame(t->u, now, &f->in, f->ed, &t->fi, &t->out), 0);
	assert_int_equal(edit_frame(f->ed, now, &f->in, ef_scene(f)), 0);
	r->pressed = r->released = 0;
	f->in.hand[INP_LEFT].pressed = 0;
}

/* A trigger click (press, release) at `at`, the grip held through it when
 * add (the editor's "add to the selection"). */
static void uf_tap(struct uf *t, const float at[3], bool add)
{
	struct inp_controller *r = &t->f->in.hand[INP_RIGHT];
	r->grip = add ? 1.0f : 0.0f;
	uf_frame(t, at, 1, 0);
	uf_frame(t, at, 0, 0);
	r->grip = 0;
}

/* The desktop: the cursor at (x, y), the left button held or not. */
static void uf_desk(struct uf *t, float x, float y, bool left)
{
	struct inp_desktop *d = &t->f->in.desk;
	bool was = t->mouse_was;
	t->mouse_was = left;
	d->cursor[0] = x;
	d->cursor[1] = y;
	d->cursor_inside = true;
	d->buttons = left ? INP_MOUSE_LEFT : 0;
	d->pressed = left && !was ? INP_MOUSE_LEFT : 0;
	d->released = !left && was ? INP_MOUSE_LEFT : 0;
	/* edit_desk's virtual controller: the left button is the trigger. */
	uf_frame(t, ef_nowhere, left ? 1 : 0, 0);
	d->pressed = d->released = 0;
}

static void centre(struct uf *t, enum ui_panel p, const char *label, float out[3])
{
	assert_int_equal(ui_button_centre(t->u, p, label, out), 0);
}

/* Aims at panel p's button label and clicks it with the trigger (the
 * tip far from the scene): the UI's actions. */
static unsigned uf_press(struct uf *t, enum ui_panel p, const char *label)
{
	float c[3];
	centre(t, p, label, c);
	uf_aim(t, c);
	uf_frame(t, ef_nowhere, 1, 0);
	unsigned a = t->out.actions;
	assert_true(t->out.consumed);
	assert_int_equal(t->out.hover_panel, p);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(t->out.consumed); /* the release too */
	return a;
}

static unsigned uf_click(struct uf *t, enum ui_panel p, const char *label)
{
	float c[3];
	centre(t, p, label, c);
	assert_float_equal(c[2], 0, 0);
	uf_desk(t, c[0], c[1], true);
	unsigned a = t->out.actions;
	assert_true(t->out.consumed);
	uf_desk(t, c[0], c[1], false);
	return a;
}

static bool has(const struct ui *u, enum ui_panel p, const char *words)
{
	const char *s = ui_panel_text(u, p);
	assert_non_null(s);
	if (!strstr(s, words))
		fprintf(stderr, "panel %d says:\n%s", (int)p, s);
	return strstr(s, words) != NULL;
}

static void the_atlas_is_dejavu_sans_rasterised_by_freetype(void **state)
{
	const struct ui_font *f = ui_font();
	assert_int_equal(f->pixel_size, 16);
	assert_true(f->width >= 64 && f->height >= 16);
	assert_true(f->ascender > 0 && f->descender < 0);
	assert_true(f->line_height >= (int32_t)f->pixel_size);
	/* The white texel is fully covered, and so are its neighbours. */
	unsigned wx = (unsigned)(f->white_uv[0] * (float)f->width), wy = (unsigned)(f->white_uv[1] * (float)f->height);
	for (int dy = -1; dy <= 1; dy++)
		for (int dx = -1; dx <= 1; dx++)
			assert_int_equal(f->pixels[(wy + dy) * f->width + wx + dx], 255);
	/* Every visible glyph lies in the atlas with some full coverage; a
	 * space is only an advance. */
	for (int c = 33; c <= 126; c++) {
		const struct ui_glyph *g = ui_font_glyph(f, (unsigned char)c);
		assert_true(g->w > 0 && g->h > 0);
		assert_true(g->x + g->w <= f->width && g->y + g->h <= f->height);
		assert_true(g->advance > 0 && g->advance <= f->pixel_size + 8);
		unsigned hi = 0;
		for (unsigned y = 0; y < g->h; y++)
			for (unsigned x = 0; x < g->w; x++)
				hi = f->pixels[(g->y + y) * f->width + g->x + x] > hi ? f->pixels[(g->y + y) * f->width + g->x + x] : hi;
		assert_true(hi > 200);
	}
	const struct ui_glyph *sp = ui_font_glyph(f, ' ');
	assert_int_equal(sp->w, 0);
	assert_true(sp->advance > 0);
	/* Proportional, not monospaced: an i is narrower than an M; 'g'
	 * hangs below the baseline, 'A' sits on it. */
	assert_true(ui_font_glyph(f, 'i')->advance < ui_font_glyph(f, 'M')->advance);
	assert_true((int)ui_font_glyph(f, 'g')->h > ui_font_glyph(f, 'g')->bearing_y);
	assert_int_equal(ui_font_glyph(f, 'A')->h, ui_font_glyph(f, 'A')->bearing_y);
	assert_int_equal(ui_font_text_width(f, "Mi"), ui_font_glyph(f, 'M')->advance + ui_font_glyph(f, 'i')->advance);
	/* Outside printable ASCII: '?'. */
	assert_ptr_equal(ui_font_glyph(f, 200), ui_font_glyph(f, '?'));
	assert_ptr_equal(ui_font_glyph(f, '\n'), ui_font_glyph(f, '?'));
	assert_int_equal(ui_font_text_width(f, ""), 0);
	assert_int_equal(ui_font_text_width(f, NULL), 0);
}

/* The generator (tools/ui-font) run by the test: its exit status, its
 * stderr into err. */
static int run_gen(const char *dir, const char *font, const char *px, const char *out, char *err, size_t cap)
{
	const char *b = getenv("THETA_BUILD");
	char cmd[3 * PATH_MAX], errp[PATH_MAX];
	snprintf(errp, sizeof errp, "%s/stderr", dir);
	snprintf(cmd, sizeof cmd, "'%s/tools/ui-font/ui_font_gen' '%s' '%s' '%s' 2>'%s'", b && *b ? b : "build", font,
		 px, out, errp);
	int st = system(cmd);
	FILE *f = fopen(errp, "r");
	assert_non_null(f);
	size_t n = fread(err, 1, cap - 1, f);
	err[n] = 0;
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	char *p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void the_generator_is_deterministic_and_says_what_is_wrong(void **state)
{
	char dir[PATH_MAX], out[PATH_MAX + 16], err[512];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	snprintf(out, sizeof out, "%s/atlas.h", dir);
	/* The build's header is what the font makes now, byte for byte. */
	assert_int_equal(run_gen(dir, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "16", out, err, sizeof err), 0);
	size_t na, nb;
	char *a = slurp(out, &na);
	const char *b = getenv("THETA_BUILD");
	char built[PATH_MAX];
	snprintf(built, sizeof built, "%s/gen/ui/ui_font_atlas.h", b && *b ? b : "build");
	char *c = slurp(built, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(a, c, na);
	assert_non_null(strstr(a, "DejaVu Sans Book"));
	free(a);
	free(c);
	/* A missing font, a size out of range: exit 1, one line, no output. */
	remove(out);
	assert_int_equal(run_gen(dir, "/nonexistent/font.ttf", "16", out, err, sizeof err), 1);
	assert_non_null(strstr(err, "could not open the font"));
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(run_gen(dir, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "2", out, err, sizeof err), 1);
	assert_non_null(strstr(err, "pixel size must be a whole number from 6 to 96"));
	assert_int_equal(access(out, F_OK), -1);
	/* A font whose names (its 'name' table, UTF-16 and Mac Roman) hold
	 * a quote and the end of a comment: they reach the header's string
	 * and comment as '?', so the header neither breaks nor runs code. */
	size_t nf;
	char *font = slurp("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", &nf);
	static const char plain[] = "DejaVu Sans", crafted[] = "DejaVu\"*/ns";
	unsigned patched = 0;
	for (size_t i = 0; i + 2 * (sizeof plain - 1) <= nf; i++) {
		for (int wide = 0; wide < 2; wide++) {
			size_t step = wide ? 2 : 1, k = 0;
			while (k < sizeof plain - 1 && font[i + k * step + (step - 1)] == plain[k] && (!wide || !font[i + 2 * k]))
				k++;
			if (k < sizeof plain - 1)
				continue;
			for (k = 0; k < sizeof plain - 1; k++)
				font[i + k * step + (step - 1)] = crafted[k];
			patched++;
		}
	}
	assert_true(patched >= 2);
	char crafted_path[PATH_MAX + 16];
	snprintf(crafted_path, sizeof crafted_path, "%s/crafted.ttf", dir);
	FILE *cf = fopen(crafted_path, "wb");
	assert_non_null(cf);
	assert_int_equal(fwrite(font, 1, nf, cf), nf);
	assert_int_equal(fclose(cf), 0);
	free(font);
	assert_int_equal(run_gen(dir, crafted_path, "16", out, err, sizeof err), 0);
	a = slurp(out, &na);
	assert_non_null(strstr(a, "#define UI_FONT_ATLAS_FONT \"DejaVu???ns Book\"\n"));
	assert_null(strstr(a, "\"*/"));
	/* The comment is the header's first: it ends where the generator ends it. */
	assert_ptr_equal(strstr(a, "*/"), strstr(a, " * do not edit. */") + strlen(" * do not edit. "));
	free(a);
	th_rm_rf(dir);
}

/* Every vertex of m inside the box lo..hi; the count a multiple of 3. */
static void mesh_inside(struct ui_mesh m, const float lo[3], const float hi[3])
{
	assert_true(m.n > 0);
	assert_int_equal(m.n % 3, 0);
	const struct ui_font *f = ui_font();
	for (uint32_t i = 0; i < m.n; i++) {
		for (int k = 0; k < 3; k++) {
			assert_true(m.v[i].pos[k] >= lo[k] && m.v[i].pos[k] <= hi[k]);
		}
		assert_true(m.v[i].uv[0] >= 0 && m.v[i].uv[0] <= 1 && m.v[i].uv[1] >= 0 && m.v[i].uv[1] <= 1);
	}
	(void)f;
}

static void headset_panels_float_above_the_left_hand_facing_the_head(void **state)
{
	struct uf *t = uf_new(false, NULL);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_false(t->out.hover); /* no aim ray yet */
	assert_int_equal(ui_screen_mesh(t->u).n, 0);
	mesh_inside(ui_world_mesh(t->u), (const float[3]){ -1, 0.9f, -1.2f }, (const float[3]){ 0.6f, 2.2f, 0.3f });
	float sel[3], red[3], undo[3], sel2[3], insp[3];
	centre(t, UI_PANEL_TOOLS, "select", sel);
	centre(t, UI_PANEL_COLOURS, "red", red);
	/* Above the grip, within arm's reach of it. */
	for (const float *c = sel; c; c = c == sel ? red : NULL) {
		assert_true(c[1] > grip_at[1] + 0.06f);
		assert_true(fabsf(c[0] - grip_at[0]) < 0.25f && fabsf(c[2] - grip_at[2]) < 0.25f);
	}
	/* Tools, then colours, left to right as the head sees them: the
	 * panels' row is level and square to the head's line of sight. */
	float toward[3] = { head_at[0] - grip_at[0], 0, head_at[2] - grip_at[2] };
	float rx = toward[2], rz = -toward[0]; /* up x toward: the head's right */
	assert_true(sel[0] * rx + sel[2] * rz < red[0] * rx + red[2] * rz);
	/* Tilted to face the head (below the eyes, a lectern): the tools go
	 * down the panel in one column, toward the head as they go down. */
	centre(t, UI_PANEL_TOOLS, "move", sel2);
	assert_true(sel2[1] < sel[1]);
	assert_float_equal((sel2[0] - sel[0]) * rx + (sel2[2] - sel[2]) * rz, 0, 1e-5);
	float d1 = hypotf(sel[0] - head_at[0], sel[2] - head_at[2]), d2 = hypotf(sel2[0] - head_at[0], sel2[2] - head_at[2]);
	assert_true(d2 < d1);
	/* History left and inspector right, below the gaze, 0.7 m ahead. */
	centre(t, UI_PANEL_HISTORY, "undo", undo);
	assert_true(undo[0] < head_at[0] - 0.05f);
	assert_true(undo[1] < head_at[1] - 0.08f);
	assert_float_equal(undo[2], head_at[2] - 0.7f, 1e-5);
	/* Turning the head turns them along: looking along -x, history is
	 * now on the -z side (the left). */
	float turn[4] = { 0, sinf((float)M_PI / 4), 0, cosf((float)M_PI / 4) };
	memcpy(t->f->in.head.rotation, turn, sizeof turn);
	uf_frame(t, ef_nowhere, 0, 0);
	centre(t, UI_PANEL_HISTORY, "undo", insp);
	assert_float_equal(insp[0], head_at[0] - 0.7f, 1e-5);
	assert_true(insp[2] > head_at[2] + 0.05f);
	memcpy(t->f->in.head.rotation, (const float[4]){ 0, 0, 0, 1 }, sizeof turn);
	uf_frame(t, ef_nowhere, 0, 0);
	/* The inspector in front of the head, a little right and low. */
	assert_null(ui_panel_text(t->u, UI_PANEL_OVERLAY)); /* hidden until toggled */
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "nothing selected"));
	/* The left hand untracked: its panels go, the inspector stays. */
	t->f->in.hand[INP_LEFT].pose.valid = false;
	uf_frame(t, ef_nowhere, 0, 0);
	assert_int_equal(ui_button_centre(t->u, UI_PANEL_TOOLS, "select", sel), -ENOENT);
	assert_true(ui_world_mesh(t->u).n > 0);
	/* Hidden panels are neither drawn nor pressable. */
	t->f->in.hand[INP_LEFT].pose.valid = true;
	uint32_t n_all = ui_world_mesh(t->u).n;
	ui_set_visible(t->u, UI_PANEL_INSPECTOR, false);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(ui_world_mesh(t->u).n > n_all);
	uint32_t n_hands = ui_world_mesh(t->u).n;
	ui_set_visible(t->u, UI_PANEL_INSPECTOR, true);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(ui_world_mesh(t->u).n > n_hands);
	assert_false(ui_visible(t->u, UI_PANEL_OVERLAY));
	assert_true(ui_visible(t->u, UI_PANEL_INSPECTOR));
	uf_free(t);
}

/* A world scaled by the grab (app/nav.h): stage metres are world_scale
 * world metres, and the panels grow with them so the user sees them as
 * before: the same gaps, twice as many world metres at scale 2. */
static void the_panels_keep_their_size_to_the_user_when_the_world_is_scaled(void **state)
{
	struct uf *t = uf_new(false, NULL);
	float sel[2][3], mv[2][3], undo[2][3];
	for (int i = 0; i < 2; i++) {
		t->fi.world_scale = i ? 2.0f : 0.0f; /* 0: 1 */
		uf_frame(t, ef_nowhere, 0, 0);
		centre(t, UI_PANEL_TOOLS, "select", sel[i]);
		centre(t, UI_PANEL_TOOLS, "move", mv[i]);
		centre(t, UI_PANEL_HISTORY, "undo", undo[i]);
	}
	float gap[2];
	for (int i = 0; i < 2; i++)
		gap[i] = sqrtf((sel[i][0] - mv[i][0]) * (sel[i][0] - mv[i][0]) + (sel[i][1] - mv[i][1]) * (sel[i][1] - mv[i][1]) +
			       (sel[i][2] - mv[i][2]) * (sel[i][2] - mv[i][2]));
	assert_true(gap[0] > 0.005f);
	assert_float_equal(gap[1], 2 * gap[0], 1e-4);
	assert_true(sel[1][1] - grip_at[1] > 2 * 0.06f); /* lifted twice as far above the grip */
	assert_float_equal(undo[0][2], head_at[2] - 0.7f, 1e-5);
	assert_float_equal(undo[1][2], head_at[2] - 1.4f, 1e-5);
	/* And the ray still presses them there. */
	uf_aim(t, mv[1]);
	uf_tap(t, ef_nowhere, false);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_MOVE);
	uf_free(t);
}

/* Whether two of the desktop's panels overlap: their backgrounds are the
 * list's solid quads (the white texel) larger than 40 px each way (a
 * button is 27 px high, a framed swatch 32 px). */
static bool desktop_panels_overlap(const struct ui *u)
{
	struct ui_mesh m = ui_screen_mesh(u);
	const struct ui_font *f = ui_font();
	float r[UI_PANELS][4];
	unsigned n = 0;
	for (uint32_t i = 0; i + 6 <= m.n; i += 6) {
		const struct ui_vertex *v = &m.v[i];
		float w = v[2].pos[0] - v[0].pos[0], h = v[2].pos[1] - v[0].pos[1];
		if (v[0].uv[0] != f->white_uv[0] || v[2].uv[0] != f->white_uv[0] || w <= 40 || h <= 40)
			continue;
		assert_true(n < UI_PANELS);
		r[n][0] = v[0].pos[0];
		r[n][1] = v[0].pos[1];
		r[n][2] = v[2].pos[0];
		r[n][3] = v[2].pos[1];
		n++;
	}
	unsigned shown = 0;
	for (int p = 0; p < UI_PANELS; p++)
		shown += ui_visible(u, (enum ui_panel)p);
	assert_int_equal(n, shown);
	for (unsigned a = 0; a < n; a++)
		for (unsigned b = a + 1; b < n; b++)
			if (r[a][0] < r[b][2] && r[b][0] < r[a][2] && r[a][1] < r[b][3] && r[b][1] < r[a][3])
				return true;
	return false;
}

static void desktop_panels_line_the_window_edges(void **state)
{
	struct uf *t = uf_new(true, NULL);
	uf_desk(t, 640, 360, false);
	assert_false(t->out.hover);
	assert_int_equal(ui_world_mesh(t->u).n, 0);
	mesh_inside(ui_screen_mesh(t->u), (const float[3]){ 0, 0, 0 }, (const float[3]){ 1280, 720, 0 });
	float sel[3], red[3], undo[3];
	centre(t, UI_PANEL_TOOLS, "select", sel);
	centre(t, UI_PANEL_COLOURS, "red", red);
	centre(t, UI_PANEL_HISTORY, "undo", undo);
	assert_true(sel[0] < 200 && red[0] < 200 && red[1] > sel[1]);
	assert_true(undo[0] > 1280 - 350);
	/* A wider window: the right side follows. */
	t->f->in.desk.width = 1920;
	uf_desk(t, 640, 360, false);
	float undo2[3];
	centre(t, UI_PANEL_HISTORY, "undo", undo2);
	assert_float_equal(undo2[0] - undo[0], 640, 1e-3);
	/* A short window: colours beside the tools, not under them. */
	t->f->in.desk.width = 640;
	t->f->in.desk.height = 360;
	uf_desk(t, 320, 180, false);
	centre(t, UI_PANEL_COLOURS, "red", red);
	centre(t, UI_PANEL_TOOLS, "select", sel);
	assert_true(red[0] > sel[0] + 65 && red[1] < 100); /* past the tools' right edge, at the top */
	centre(t, UI_PANEL_HISTORY, "undo", undo);
	assert_true(undo[0] > 320);
	/* Pixel-aligned text: every vertex on whole pixels. */
	struct ui_mesh m = ui_screen_mesh(t->u);
	for (uint32_t i = 0; i < m.n; i++)
		assert_float_equal(m.v[i].pos[0], roundf(m.v[i].pos[0]), 1e-3);
	/* docs/ui.md's widths at 720 px high: the panels apart from 550 px
	 * wide, the overlay (when shown) clear of the history from 1140. */
	t->f->in.desk.height = 720;
	static const struct {
		unsigned w;
		bool overlay, overlap;
	} widths[] = { { 550, false, false }, { 540, false, true }, { 1140, true, false }, { 1130, true, true } };
	for (unsigned i = 0; i < sizeof widths / sizeof widths[0]; i++) {
		t->f->in.desk.width = widths[i].w;
		ui_set_visible(t->u, UI_PANEL_OVERLAY, widths[i].overlay);
		uf_desk(t, 0, 0, false);
		assert_int_equal(desktop_panels_overlap(t->u), widths[i].overlap);
	}
	uf_free(t);
}

static void the_aim_ray_presses_a_tool_and_the_editor_never_sees_it(void **state)
{
	uint64_t e;
	struct uf *t = uf_new(false, &e);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SELECT);
	assert_true(has(t->u, UI_PANEL_TOOLS, "[*select]"));
	/* Aiming at the move button, the tip on the cube's top face: the
	 * press is the UI's, the select tool below selects nothing. */
	float c[3];
	centre(t, UI_PANEL_TOOLS, "move", c);
	uf_aim(t, c);
	uf_frame(t, ef_top, 0, 0);
	assert_true(t->out.hover);
	assert_int_equal(t->out.hover_panel, UI_PANEL_TOOLS);
	assert_false(t->out.consumed);
	uf_frame(t, ef_top, 1, 0);
	assert_true(t->out.consumed);
	assert_int_equal(t->out.actions, UI_ACT_TOOL);
	assert_int_equal(t->f->in.hand[INP_RIGHT].trigger, 0);
	assert_int_equal(t->f->in.hand[INP_RIGHT].buttons & TH_BUTTON_TRIGGER, 0);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_MOVE);
	assert_true(has(t->u, UI_PANEL_TOOLS, "[*move]")); /* lit in the same frame */
	/* Held while the ray leaves the panel: still the UI's. */
	uf_aim(t, (const float[3]){ 2, 1, -3 });
	uf_frame(t, ef_top, 1, 0);
	assert_true(t->out.consumed);
	assert_false(t->out.hover);
	uf_frame(t, ef_top, 0, 0);
	assert_true(t->out.consumed);
	assert_false(edit_preview(t->f->ed)->active);
	assert_int_equal(edit_selection(t->f->ed)->entity, 0);
	/* The ray off every panel: the trigger is the tool's (the select
	 * tool picks the cube). */
	assert_int_equal(edit_set_tool(t->f->ed, EDIT_TOOL_SELECT), 0);
	uf_frame(t, ef_top, 1, 0);
	assert_false(t->out.consumed);
	assert_float_equal(t->f->in.hand[INP_RIGHT].trigger, 1, 0);
	uf_frame(t, ef_top, 0, 0);
	assert_int_equal(edit_selection(t->f->ed)->entity, e);
	/* A press that starts on the scene and drags onto a panel stays the
	 * tool's. */
	edit_clear_selection(t->f->ed);
	uf_frame(t, ef_top, 1, 0);
	uf_aim(t, c);
	uf_frame(t, ef_top, 1, 0);
	assert_true(t->out.hover);
	assert_false(t->out.consumed);
	assert_int_equal(t->out.actions, 0);
	uf_frame(t, ef_top, 0, 0);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SELECT);
	/* The panel's background: consumed, nothing pressed. */
	float sel[3], move[3], above[3];
	centre(t, UI_PANEL_TOOLS, "select", sel);
	centre(t, UI_PANEL_TOOLS, "move", move);
	for (int k = 0; k < 3; k++)
		above[k] = 2 * sel[k] - move[k]; /* a button's pitch above select: the title row */
	uf_aim(t, above);
	uf_frame(t, ef_top, 1, 0);
	assert_true(t->out.consumed);
	assert_int_equal(t->out.actions, 0);
	uf_frame(t, ef_top, 0, 0);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SELECT);
	/* The ray through the inspector (no buttons): the press is the
	 * tool's, as if the panel were not there. */
	assert_int_equal(edit_set_tool(t->f->ed, EDIT_TOOL_SELECT), 0);
	edit_clear_selection(t->f->ed);
	const float inspector_at[3] = { head_at[0] + 0.2f, head_at[1] - 0.1f, head_at[2] - 0.7f };
	uf_aim(t, inspector_at);
	uf_frame(t, ef_top, 1, 0);
	assert_false(t->out.hover);
	assert_false(t->out.consumed);
	uf_frame(t, ef_top, 0, 0);
	assert_int_equal(edit_selection(t->f->ed)->entity, e);
	/* Without an aim pose the grip's -z points. */
	uf_aim(t, c);
	struct inp_controller *r = &t->f->in.hand[INP_RIGHT];
	memcpy(r->pose.rotation, r->aim.rotation, sizeof r->pose.rotation);
	r->aim.valid = false;
	float from[3];
	memcpy(from, hand_at, sizeof from);
	uf_frame(t, from, 1, 0);
	assert_int_equal(t->out.actions, UI_ACT_TOOL);
	uf_frame(t, from, 0, 0);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_MOVE);
	uf_free(t);
}

static void a_colour_swatch_picks_paint_with_that_colour(void **state)
{
	uint64_t e;
	struct uf *t = uf_new(false, &e);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_COLOURS, "pick one to paint"));
	assert_int_equal(uf_press(t, UI_PANEL_COLOURS, "blue"), UI_ACT_TOOL | UI_ACT_COLOUR);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_PAINT);
	assert_string_equal(edit_option_name(t->f->ed), "blue");
	assert_true(has(t->u, UI_PANEL_COLOURS, "[*blue]"));
	assert_true(has(t->u, UI_PANEL_COLOURS, "paint: blue"));
	/* Already painting: only the colour changes. */
	assert_int_equal(uf_press(t, UI_PANEL_COLOURS, "metal"), UI_ACT_COLOUR);
	assert_int_equal(edit_option(t->f->ed), EDIT_PALETTE_METAL);
	/* And the paint tool paints the top face with it. */
	uf_aim(t, (const float[3]){ 2, 1, -3 });
	ef_deliver(t->f);
	unsigned n = t->f->n;
	uf_tap(t, ef_top, false);
	assert_true(t->f->n > n);
	ef_deliver(t->f);
	const struct th_mesh *m = ef_mesh_of(t->f, e);
	unsigned metal = 0;
	for (uint32_t i = 0; i < m->nfaces; i++)
		metal += m->faces[i].id && m->faces[i].material == edit_palette_material(EDIT_PALETTE_METAL);
	assert_int_equal(metal, 1);
	uf_free(t);
}

/* A move of the cube by 10 cm along x, delivered. */
static void move_cube(struct uf *t)
{
	assert_int_equal(edit_set_tool(t->f->ed, EDIT_TOOL_MOVE), 0);
	uf_aim(t, (const float[3]){ 2, 1, -3 });
	uf_frame(t, ef_at, 1, 0);
	uf_frame(t, (const float[3]){ ef_at[0] + 0.1f, ef_at[1], ef_at[2] }, 1, 0);
	uf_frame(t, (const float[3]){ ef_at[0] + 0.1f, ef_at[1], ef_at[2] }, 0, 0);
	ef_deliver(t->f);
}

static void undo_and_redo_buttons_on_the_history_panel(void **state)
{
	uint64_t e;
	struct uf *t = uf_new(false, &e);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_HISTORY, "no edits yet"));
	assert_true(has(t->u, UI_PANEL_HISTORY, "[undo] [redo]"));
	/* Nothing to undo: the button says no, and the editor says why. */
	assert_int_equal(uf_press(t, UI_PANEL_HISTORY, "undo"), UI_ACT_REFUSED);
	assert_non_null(strstr(edit_take_message(t->f->ed), "nothing to undo"));
	assert_int_equal(uf_press(t, UI_PANEL_HISTORY, "redo"), UI_ACT_REFUSED);
	move_cube(t);
	const struct th_c_transform *xf = th_scene_component(ef_scene(t->f), e, TH_COMP_TRANSFORM);
	assert_float_equal(xf->position[0], 0.1f, 1e-5);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_HISTORY, "applied: move mesh"));
	unsigned undos = ef_count(t->f, TH_CMD_EDIT_UNDO);
	assert_int_equal(uf_press(t, UI_PANEL_HISTORY, "undo"), UI_ACT_UNDO);
	assert_int_equal(ef_count(t->f, TH_CMD_EDIT_UNDO), undos + 1);
	ef_deliver(t->f);
	xf = th_scene_component(ef_scene(t->f), e, TH_COMP_TRANSFORM);
	assert_float_equal(xf->position[0], 0, 1e-5);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_HISTORY, "undone: move mesh"));
	assert_true(has(t->u, UI_PANEL_HISTORY, "applied: undo #"));
	assert_int_equal(uf_press(t, UI_PANEL_HISTORY, "redo"), UI_ACT_REDO);
	assert_int_equal(ef_count(t->f, TH_CMD_EDIT_REDO), 1);
	ef_deliver(t->f);
	xf = th_scene_component(ef_scene(t->f), e, TH_COMP_TRANSFORM);
	assert_float_equal(xf->position[0], 0.1f, 1e-5);
	uf_frame(t, ef_nowhere, 0, 0);
	/* The newest first, under the title: the redo (its undo revoked). */
	const char *s = ui_panel_text(t->u, UI_PANEL_HISTORY);
	assert_true(strncmp(s, "History\n#", 9) == 0);
	const char *first = strchr(s, ' ');
	assert_true(strncmp(first, " applied: redo #", 16) == 0);
	assert_true(has(t->u, UI_PANEL_HISTORY, "revoked by a redo: undo #"));
	assert_true(has(t->u, UI_PANEL_HISTORY, "applied: move mesh"));
	assert_int_equal(edit_stats(t->f->ed)->undos, 1);
	assert_int_equal(edit_stats(t->f->ed)->redos, 1);
	uf_free(t);
}

static void the_overlay_toggles_and_shows_the_figures(void **state)
{
	struct uf *t = uf_new(false, NULL);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_null(ui_panel_text(t->u, UI_PANEL_OVERLAY));
	uint32_t hidden = ui_world_mesh(t->u).n;
	/* The tools panel's overlay button. */
	assert_true(has(t->u, UI_PANEL_TOOLS, "[overlay]"));
	assert_int_equal(uf_press(t, UI_PANEL_TOOLS, "overlay"), UI_ACT_OVERLAY);
	assert_true(ui_visible(t->u, UI_PANEL_OVERLAY));
	assert_true(has(t->u, UI_PANEL_TOOLS, "[*overlay]"));
	assert_true(ui_world_mesh(t->u).n > hidden);
	assert_true(has(t->u, UI_PANEL_OVERLAY, "frame time not measured yet"));
	assert_true(has(t->u, UI_PANEL_OVERLAY, "not linked to a daemon"));
	assert_true(has(t->u, UI_PANEL_OVERLAY, "speaking: nobody"));
	t->st = (struct ui_status){ .frame_p50_ms = 11.14, .frame_p99_ms = 16.72, .rtt_us = 23456, .peers = 3,
				    .log_pos = 1234, .linked = true, .nspeaking = 2 };
	strcpy(t->st.speaking[0], "ada");
	strcpy(t->st.speaking[1], "grace");
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_OVERLAY, "frame 11.1 ms, p99 16.7 ms"));
	assert_true(has(t->u, UI_PANEL_OVERLAY, "RTT to the host 23.5 ms"));
	assert_true(has(t->u, UI_PANEL_OVERLAY, "peers 3"));
	assert_true(has(t->u, UI_PANEL_OVERLAY, "speaking: ada, grace"));
	assert_true(has(t->u, UI_PANEL_OVERLAY, "log position 1234"));
	/* The voice row follows the client's state and the daemon's. */
	assert_true(has(t->u, UI_PANEL_OVERLAY, "voice off"));
	static const struct {
		uint32_t v;
		const char *line;
	} voice[] = {
		{ UI_VOICE_ON, "voice: open\n" },
		{ UI_VOICE_ON | UI_VOICE_SENDING, "voice: open, heard" },
		{ UI_VOICE_ON | UI_VOICE_MUTED | UI_VOICE_SENDING, "voice: muted\n" },
		{ UI_VOICE_ON | UI_VOICE_MUTED | UI_VOICE_ADMIN_MUTED, "voice: muted by an admin" },
		{ UI_VOICE_ON | UI_VOICE_ADMIN_MUTED | UI_VOICE_PTT | UI_VOICE_TALK, "voice: muted by an admin" },
		{ UI_VOICE_ON | UI_VOICE_PTT, "voice: push-to-talk, not talking" },
		{ UI_VOICE_ON | UI_VOICE_PTT | UI_VOICE_TALK, "voice: push-to-talk, talking\n" },
		{ UI_VOICE_ON | UI_VOICE_PTT | UI_VOICE_TALK | UI_VOICE_SENDING, "voice: push-to-talk, talking, heard" },
		{ UI_VOICE_MUTED | UI_VOICE_PTT, "voice off" },
	};
	for (unsigned i = 0; i < sizeof voice / sizeof voice[0]; i++) {
		t->st.voice = voice[i].v;
		uf_frame(t, ef_nowhere, 0, 0);
		assert_non_null(strstr(ui_panel_text(t->u, UI_PANEL_OVERLAY), voice[i].line));
	}
	t->st.voice = 0;
	/* Too many words for the panel: cut at its edge, marked. */
	t->st.nspeaking = UI_SPEAKERS_MAX + 5; /* more than it holds: the first UI_SPEAKERS_MAX */
	for (unsigned i = 0; i < UI_SPEAKERS_MAX; i++)
		memset(t->st.speaking[i], 'w', UI_NAME_MAX); /* not terminated: 32 bytes at most */
	uf_frame(t, ef_nowhere, 0, 0);
	const char *sp = strstr(ui_panel_text(t->u, UI_PANEL_OVERLAY), "speaking: www");
	assert_non_null(sp);
	const char *eol = strchr(sp, '\n');
	assert_true(eol - sp > 20 && eol - sp < 60);
	assert_memory_equal(eol - 2, "..", 2);
	t->st.rtt_us = 0;
	t->st.peers = -1;
	t->st.nspeaking = 0;
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_OVERLAY, "this daemon hosts"));
	assert_true(has(t->u, UI_PANEL_OVERLAY, "peers unknown"));
	t->st.rtt_us = -1;
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_OVERLAY, "RTT to the host unknown"));
	/* The overlay is pressable too: it is a panel, the press is the UI's. */
	float c[3];
	assert_int_equal(ui_button_centre(t->u, UI_PANEL_OVERLAY, "overlay", c), -ENOENT);
	/* The left thumbstick click hides it, and shows it again. */
	uf_aim(t, (const float[3]){ 2, 1, -3 }); /* no ray dot */
	uf_frame(t, ef_nowhere, 0, TH_BUTTON_THUMBSTICK);
	assert_int_equal(t->out.actions, UI_ACT_OVERLAY);
	assert_null(ui_panel_text(t->u, UI_PANEL_OVERLAY));
	assert_int_equal(ui_world_mesh(t->u).n, hidden);
	uf_frame(t, ef_nowhere, 0, TH_BUTTON_THUMBSTICK);
	assert_true(ui_visible(t->u, UI_PANEL_OVERLAY));
	uf_free(t);
}

static void the_inspector_names_entity_counts_and_the_faces_author(void **state)
{
	uint64_t e;
	struct uf *t = uf_new(false, &e);
	struct ef *f = t->f;
	/* A face of the other user's cube. */
	ef_tool_option(f, EDIT_TOOL_SELECT, 1, "face");
	uf_aim(t, (const float[3]){ 2, 1, -3 });
	uf_tap(t, ef_top, false);
	ef_deliver(f);
	uf_frame(t, ef_nowhere, 0, 0);
	char line[64];
	snprintf(line, sizeof line, "entity %016" PRIx64, e);
	assert_true(has(t->u, UI_PANEL_INSPECTOR, line));
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "6 faces, 12 edges, 8 vertices"));
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "1 face selected"));
	char hex[9];
	th_hex_encode(f->other.kp.pk, 4, hex);
	snprintf(line, sizeof line, "author %s..", hex);
	assert_true(has(t->u, UI_PANEL_INSPECTOR, line));
	/* Extrude it: the counts follow the mesh, and the new top face is
	 * this user's. */
	ef_use_tool(f, EDIT_TOOL_EXTRUDE);
	uf_frame(t, ef_top, 1, 0);
	uf_frame(t, (const float[3]){ ef_top[0], ef_top[1] + 0.05f, ef_top[2] }, 1, 0);
	uf_frame(t, (const float[3]){ ef_top[0], ef_top[1] + 0.05f, ef_top[2] }, 0, 0);
	ef_deliver(f);
	ef_tool_option(f, EDIT_TOOL_SELECT, 1, "face");
	const float new_top[3] = { 0, 1.16f, -0.5f };
	uf_tap(t, new_top, false);
	ef_deliver(f);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "10 faces, 20 edges, 12 vertices"));
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "author you (lamport"));
	/* Two faces: the count says so. */
	uf_tap(t, ef_front, true);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "2 faces selected"));
	/* Vertices: the plural is the word's. */
	ef_tool_option(f, EDIT_TOOL_SELECT, 3, "vertex");
	const float corner[3] = { 0.1f, 0.9f, -0.4f }, corner2[3] = { -0.1f, 0.9f, -0.4f };
	uf_tap(t, corner, false);
	uf_tap(t, corner2, true);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "2 vertices selected"));
	/* The whole object. */
	ef_tool_option(f, EDIT_TOOL_SELECT, 0, "object");
	uf_tap(t, ef_top, false);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "whole object"));
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "select a face to see its author"));
	/* Nothing. */
	edit_clear_selection(f->ed);
	uf_frame(t, ef_nowhere, 0, 0);
	assert_true(has(t->u, UI_PANEL_INSPECTOR, "nothing selected"));
	uf_free(t);
}

static void the_cursor_clicks_panels_on_the_desktop(void **state)
{
	uint64_t e;
	struct uf *t = uf_new(true, &e);
	uf_desk(t, 640, 360, false);
	assert_int_equal(uf_click(t, UI_PANEL_TOOLS, "extrude"), UI_ACT_TOOL);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_EXTRUDE);
	assert_int_equal(uf_click(t, UI_PANEL_COLOURS, "green"), UI_ACT_TOOL | UI_ACT_COLOUR);
	assert_string_equal(edit_option_name(t->f->ed), "green");
	assert_int_equal(uf_click(t, UI_PANEL_HISTORY, "undo"), UI_ACT_REFUSED);
	assert_int_equal(uf_click(t, UI_PANEL_TOOLS, "overlay"), UI_ACT_OVERLAY);
	assert_true(ui_visible(t->u, UI_PANEL_OVERLAY));
	/* The press is taken from the mouse and the virtual controller. */
	float c[3];
	centre(t, UI_PANEL_TOOLS, "select", c);
	uf_desk(t, c[0], c[1], true);
	assert_true(t->out.consumed);
	assert_int_equal(t->f->in.desk.buttons & INP_MOUSE_LEFT, 0);
	assert_int_equal(t->f->in.hand[INP_RIGHT].trigger, 0);
	uf_desk(t, c[0], c[1], false);
	/* Off the panels the click is the editor's. */
	uf_desk(t, 640, 360, true);
	assert_false(t->out.consumed);
	assert_false(t->out.hover);
	assert_int_equal(t->f->in.desk.buttons & INP_MOUSE_LEFT, INP_MOUSE_LEFT);
	uf_desk(t, 640, 360, false);
	/* On the desktop a panel without buttons still takes the click (it
	 * covers the scene under the cursor). */
	centre(t, UI_PANEL_HISTORY, "undo", c);
	uf_desk(t, c[0], c[1] + 60, true); /* on the inspector, under the history */
	assert_int_equal(t->out.hover_panel, UI_PANEL_INSPECTOR);
	assert_true(t->out.consumed);
	uf_desk(t, c[0], c[1] + 60, false);
	/* Panels over each other (a 640-pixel window: the colours column
	 * under the overlay at (320, 40)): the overlay, drawn last, takes the
	 * press. */
	t->f->in.desk.width = 640;
	t->f->in.desk.height = 360;
	uf_desk(t, 320, 180, false);
	uf_desk(t, 320, 40, true);
	assert_int_equal(t->out.hover_panel, UI_PANEL_OVERLAY);
	assert_true(t->out.consumed);
	assert_int_equal(t->out.actions, 0);
	uf_desk(t, 320, 40, false);
	/* The cursor outside the window hovers nothing. */
	t->f->in.desk.cursor_inside = false;
	t->fi.sc = ef_scene(t->f);
	t->f->in.desk.cursor[0] = c[0];
	t->f->in.desk.cursor[1] = c[1];
	assert_int_equal(ui_frame(t->u, 0, &t->f->in, t->f->ed, &t->fi, &t->out), 0);
	assert_false(t->out.hover);
	uf_free(t);
}

static void no_editor_no_scene_still_draws(void **state)
{
	struct ui *u = NULL;
	assert_int_equal(ui_create(&u), 0);
	struct inp_state in;
	inp_state_init(&in);
	struct ui_frame_out out;
	assert_int_equal(ui_frame(u, 0, &in, NULL, NULL, &out), 0);
	assert_true(ui_world_mesh(u).n > 0); /* the inspector in front of the head */
	assert_true(strstr(ui_panel_text(u, UI_PANEL_INSPECTOR), "nothing selected") != NULL);
	assert_int_equal(ui_frame(NULL, 0, &in, NULL, NULL, &out), -EINVAL);
	assert_int_equal(ui_frame(u, 0, NULL, NULL, NULL, &out), -EINVAL);
	ui_destroy(&u);
	ui_destroy(&u);
	ui_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_atlas_is_dejavu_sans_rasterised_by_freetype),
		cmocka_unit_test(the_generator_is_deterministic_and_says_what_is_wrong),
		cmocka_unit_test(headset_panels_float_above_the_left_hand_facing_the_head),
		cmocka_unit_test(the_panels_keep_their_size_to_the_user_when_the_world_is_scaled),
		cmocka_unit_test(desktop_panels_line_the_window_edges),
		cmocka_unit_test(the_aim_ray_presses_a_tool_and_the_editor_never_sees_it),
		cmocka_unit_test(a_colour_swatch_picks_paint_with_that_colour),
		cmocka_unit_test(undo_and_redo_buttons_on_the_history_panel),
		cmocka_unit_test(the_overlay_toggles_and_shows_the_figures),
		cmocka_unit_test(the_inspector_names_entity_counts_and_the_faces_author),
		cmocka_unit_test(the_cursor_clicks_panels_on_the_desktop),
		cmocka_unit_test(no_editor_no_scene_still_draws),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
