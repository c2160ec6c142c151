/* The UI's drawing (gfx_list.h's struct gfx_list_ui, gfx_draw_ui.c): panels
 * and text made here as ui_mesh triangles over an atlas made here (a 5x7
 * bitmap font at 2x, laid out with ui_font.h's glyph metrics as the UI
 * lays its text), drawn by the real core into the real headless backend
 * on lavapipe with the validation layer on, like gfx.c drives them:
 * screen panels in pixels (y down) on view 0 only, world panels in both
 * eyes with each eye's view-projection, over the scene whatever its depth,
 * alpha blended in linear light, a UNORM target giving the same bytes,
 * minified text greyed out evenly (mip levels); the atlas uploaded once per context and
 * again after a device-loss rebuild. Then the whole renderer (gfx.h) with
 * the real UI (ui.h over a real editor, the build's DejaVu Sans atlas)
 * through gfx_sources.ui: the desktop's panels (headless, and in a window
 * on a private Xvfb), the headset's in both eyes (headless stereo, and
 * OpenXR through the test runtime), a device loss. Goldens
 * tests/golden/ui_*.png (THETA_UPDATE_GOLDENS=1 regenerates them: look at
 * them). Not one validation message is allowed. */
#include "../edit/edit_fix.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/renderer.h"
#include "gfx/gfx.h"
#include "gfx/gfx_backend.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_readback.h"
#include "gfx/gfx_vk.h"
#include "th_gfxscene.h"
#include "th_golden.h"
#include "th_harness.h"
#include "th_meshfix.h"
#include "th_xrt.h"
#include "th_xvfb.h"
#include "ui/ui.h"
#include "ui/ui_font.h"

#define W 160u
#define H 120u
#define VMAX 2048u
#define CUBE_KEY 91u

/* ---- the test's font --------------------------------------------------------- */

#define GLYPH_SCALE 2u
#define GLYPH_COLS 5u
#define GLYPH_ROWS 7u
#define GLYPH_W (GLYPH_COLS * GLYPH_SCALE)
#define GLYPH_H (GLYPH_ROWS * GLYPH_SCALE)
#define GLYPH_PITCH (GLYPH_W + 2u) /* a free column each side: linear filtering never reaches a neighbour */
#define WHITE_SIDE 4u
#define ATLAS_W 160u
#define ATLAS_H 16u
/* A stripe pattern beside the glyphs: every third column covered. */
#define STRIPE_X 118u
#define STRIPE_W 30u
#define STRIPE_H 6u

static const char glyph_chars[] = "THEAUNDOR";
static const char *const glyph_bits[][GLYPH_ROWS] = {
	{ "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.." }, /* T */
	{ "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" }, /* H */
	{ "#####", "#....", "#....", "####.", "#....", "#....", "#####" }, /* E */
	{ ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" }, /* A */
	{ "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." }, /* U */
	{ "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#" }, /* N */
	{ "####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####." }, /* D */
	{ ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." }, /* O */
	{ "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#" }, /* R */
};
_Static_assert(sizeof glyph_bits / sizeof glyph_bits[0] == sizeof glyph_chars - 1, "a bitmap per glyph");
_Static_assert(WHITE_SIDE + (sizeof glyph_chars - 1) * GLYPH_PITCH < STRIPE_X - 1, "the glyphs fit the atlas");
_Static_assert(STRIPE_X + STRIPE_W + 1 <= ATLAS_W, "the stripes fit the atlas");

static uint8_t atlas_px[ATLAS_W * ATLAS_H];

/* The atlas as ui_font.h describes one: coverage rows top down, a white
 * block in the corner, glyphs with their metrics; other characters have
 * only an advance. */
static void font_make(struct ui_font *f)
{
	memset(f, 0, sizeof *f);
	memset(atlas_px, 0, sizeof atlas_px);
	for (uint32_t y = 0; y < WHITE_SIDE; y++)
		for (uint32_t x = 0; x < WHITE_SIDE; x++)
			atlas_px[y * ATLAS_W + x] = 255;
	f->width = ATLAS_W;
	f->height = ATLAS_H;
	f->pixels = atlas_px;
	f->pixel_size = GLYPH_H;
	f->ascender = GLYPH_H;
	f->descender = -2;
	f->line_height = GLYPH_H + 4;
	f->white_uv[0] = (WHITE_SIDE / 2 + 0.5f) / ATLAS_W;
	f->white_uv[1] = (WHITE_SIDE / 2 + 0.5f) / ATLAS_H;
	for (unsigned c = 0; c < 95; c++)
		f->glyph[c].advance = GLYPH_PITCH;
	for (unsigned g = 0; g < sizeof glyph_chars - 1; g++) {
		uint32_t gx = WHITE_SIDE + 1 + g * GLYPH_PITCH;
		struct ui_glyph *gl = &f->glyph[glyph_chars[g] - ' '];
		*gl = (struct ui_glyph){ .x = (uint16_t)gx, .y = 1, .w = GLYPH_W, .h = GLYPH_H, .bearing_x = 1,
					 .bearing_y = GLYPH_H, .advance = GLYPH_PITCH };
		for (uint32_t y = 0; y < GLYPH_H; y++)
			for (uint32_t x = 0; x < GLYPH_W; x++)
				if (glyph_bits[g][y / GLYPH_SCALE][x / GLYPH_SCALE] == '#')
					atlas_px[(1 + y) * ATLAS_W + gx + x] = 255;
	}
	for (uint32_t y = 0; y < STRIPE_H; y++)
		for (uint32_t x = 0; x < STRIPE_W; x += 3)
			atlas_px[(1 + y) * ATLAS_W + STRIPE_X + x] = 255;
}

/* ---- building ui_mesh triangles ---------------------------------------------- */

/* A panel's frame: a point in panel pixels (x right, y down) lands at
 * origin + x * right + y * down (the screen: the identity). */
struct frame {
	float origin[3], right[3], down[3];
};
static const struct frame screen_frame = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 } };

struct mesh {
	struct ui_vertex v[VMAX];
	uint32_t n;
};

static uint32_t rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
	return (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16 | (uint32_t)a << 24;
}

static void vert(struct mesh *m, const struct frame *fr, float x, float y, float u, float v, uint32_t c)
{
	assert_true(m->n < VMAX);
	struct ui_vertex *o = &m->v[m->n++];
	for (int k = 0; k < 3; k++)
		o->pos[k] = fr->origin[k] + x * fr->right[k] + y * fr->down[k];
	o->uv[0] = u;
	o->uv[1] = v;
	o->rgba = c;
}

/* A rectangle [x0, x1) x [y0, y1) textured over [u0, u1) x [v0, v1). */
static void quad(struct mesh *m, const struct frame *fr, const float r[4], const float uv[4], uint32_t c)
{
	vert(m, fr, r[0], r[1], uv[0], uv[1], c);
	vert(m, fr, r[2], r[1], uv[2], uv[1], c);
	vert(m, fr, r[2], r[3], uv[2], uv[3], c);
	vert(m, fr, r[0], r[1], uv[0], uv[1], c);
	vert(m, fr, r[2], r[3], uv[2], uv[3], c);
	vert(m, fr, r[0], r[3], uv[0], uv[3], c);
}

static void solid(struct mesh *m, const struct frame *fr, const struct ui_font *f, float x0, float y0, float x1,
		  float y1, uint32_t c)
{
	const float r[4] = { x0, y0, x1, y1 };
	const float uv[4] = { f->white_uv[0], f->white_uv[1], f->white_uv[0], f->white_uv[1] };
	quad(m, fr, r, uv, c);
}

/* s with its baseline at y, from pen x. */
static void text(struct mesh *m, const struct frame *fr, const struct ui_font *f, float x, float y, const char *s,
		 uint32_t c)
{
	for (; *s; s++) {
		const struct ui_glyph *g = &f->glyph[*s - ' '];
		if (g->w && g->h) {
			const float r[4] = { x + g->bearing_x, y - g->bearing_y, x + g->bearing_x + g->w,
					     y - g->bearing_y + g->h };
			const float uv[4] = { (float)g->x / f->width, (float)g->y / f->height,
					      (float)(g->x + g->w) / f->width, (float)(g->y + g->h) / f->height };
			quad(m, fr, r, uv, c);
		}
		x += g->advance;
	}
}

/* ---- the renderer, driven as gfx.c drives it --------------------------------- */

struct ctx {
	struct gfx_backend *be;
	struct gfx_vk *vk;
	struct gfx_draw *d;
	uint32_t views;
	struct ui_font font;
	struct mesh world, screen;
	struct gfx_list l;
	struct gfx_inst inst[1];
	struct th_mesh cube;
	struct gfx_view cam;
	struct gfx_frame f; /* the last frame's views */
	uint64_t validation_messages; /* of contexts already destroyed */
};

static const float clear_rgb[3] = { 0.02f, 0.03f, 0.05f };
static const float eye_at[3] = { 0, 0, 2.5f };

static int ctx_attach(struct ctx *c)
{
	struct gfx_vk_config vc = { .validation = true };
	int r = c->be->ops->vk_config(c->be, &vc);
	if (r == 0)
		r = gfx_vk_create(&vc, &c->vk);
	VkFormat fmt = VK_FORMAT_UNDEFINED;
	bool srgb = false;
	if (r == 0)
		r = c->be->ops->attach(c->be, c->vk, &fmt, &srgb);
	if (r == 0)
		r = gfx_draw_create(c->vk, &(struct gfx_draw_config){ .color_format = fmt, .srgb_target = srgb }, &c->d);
	return r;
}

static void ctx_detach(struct ctx *c)
{
	gfx_draw_destroy(&c->d);
	if (c->vk) {
		c->be->ops->detach(c->be);
		c->validation_messages += c->vk->validation_messages;
		gfx_vk_destroy(&c->vk);
	}
}

static struct ctx *ctx_open(uint32_t views)
{
	struct ctx *c = calloc(1, sizeof *c);
	assert_non_null(c);
	c->views = views;
	assert_int_equal(gfx_headless_create(&(struct gfx_headless_config){ .width = W, .height = H, .views = views,
									    .ipd = 0.3f },
					     &c->be),
			 0);
	assert_int_equal(ctx_attach(c), 0);
	font_make(&c->font);
	const float target[3] = { 0, 0, 0 };
	gfx_mat4_look_at(c->cam.view, eye_at, target);
	gfx_mat4_perspective(c->cam.proj, 0.9f, (float)W / (float)H, 0.05f, 50.0f);
	memcpy(c->cam.eye, eye_at, sizeof c->cam.eye);
	gfx_list_init(&c->l);
	memcpy(c->l.clear, clear_rgb, sizeof clear_rgb);
	c->l.clear[3] = 1;
	for (unsigned i = 0; i < GFX_MATERIALS; i++)
		for (int k = 0; k < 4; k++)
			c->l.material[i][k] = k == 3 ? 1.0f : 0.6f;
	c->l.material[1][0] = 0.8f;
	c->l.material[1][1] = 0.25f;
	c->l.material[1][2] = 0.1f;
	return c;
}

static void ctx_close(struct ctx *c)
{
	ctx_detach(c);
	c->be->ops->destroy(c->be);
	if (c->l.inst == c->inst)
		c->l.inst = NULL;
	c->l.ninst = 0;
	gfx_list_fini(&c->l);
	th_mesh_fini(&c->cube);
	assert_int_equal(c->validation_messages, 0);
	free(c);
}

/* The list's UI: the test's meshes and font (font NULL: none). */
static void list_ui(struct ctx *c, const struct ui_font *font)
{
	c->l.ui.world = (struct ui_mesh){ .v = c->world.v, .n = c->world.n };
	c->l.ui.screen = (struct ui_mesh){ .v = c->screen.v, .n = c->screen.n };
	c->l.ui.font = font;
}

/* A unit cube of material 1 centred on the origin. */
static void add_cube(struct ctx *c)
{
	mf_build_cube(&c->cube, NULL, 6);
	struct gfx_inst *in = &c->inst[0];
	memset(in, 0, sizeof *in);
	in->entity = 1;
	in->mesh_key = CUBE_KEY;
	in->mesh = &c->cube;
	const float t[3] = { -0.5f, -0.5f, -0.5f }, q[4] = { 0, 0, 0, 1 };
	gfx_mat4_trs(in->model, t, q, NULL);
	for (uint32_t i = 0; i < c->cube.nfaces; i++)
		c->cube.faces[i].material = 0;
	in->material = 1;
	c->l.inst = c->inst;
	c->l.ninst = 1;
}

/* One frame as gfx.c's draw_frame: 0 or the first error. */
static int frame(struct ctx *c)
{
	int r = c->be->ops->begin_frame(c->be, &c->cam, &c->f);
	if (r != 0)
		return r;
	VkCommandBuffer cmd;
	r = gfx_draw_begin(c->d, &cmd);
	if (r == 0)
		r = gfx_draw_prepare(c->d, cmd, &c->l);
	for (uint32_t i = 0; r == 0 && i < c->f.nviews; i++)
		r = gfx_draw_record(c->d, cmd, &c->l, &c->f.target[i], &c->f.view[i], i);
	if (r < 0)
		return r;
	c->be->ops->after_record(c->be, cmd, &c->f);
	r = gfx_draw_submit(c->d, cmd, c->f.wait, c->f.wait_stage, c->f.signal);
	if (r == 0)
		r = c->be->ops->end_frame(c->be, &c->f, gfx_draw_last_fence(c->d));
	return r;
}

/* The last frame's pixels (W * views x H), read back. */
static const uint8_t *pixels(struct ctx *c)
{
	uint32_t w = 0, h = 0;
	const uint8_t *p = gfx_headless_pixels(c->be, &w, &h);
	assert_non_null(p);
	assert_int_equal(w, W * c->views);
	assert_int_equal(h, H);
	return p;
}

static const uint8_t *px_at(struct ctx *c, uint32_t view, uint32_t x, uint32_t y)
{
	return pixels(c) + ((size_t)y * W * c->views + view * W + x) * 4;
}

static void assert_px(const uint8_t *p, uint32_t want, int tol, const char *what, uint32_t x, uint32_t y)
{
	for (int k = 0; k < 3; k++) {
		int d = (int)p[k] - (int)((want >> (8 * k)) & 0xff);
		if (d > tol || d < -tol)
			fail_msg("%s at (%u, %u): %u %u %u, expected %u %u %u", what, x, y, p[0], p[1], p[2],
				 want & 0xff, (want >> 8) & 0xff, (want >> 16) & 0xff);
	}
}

static uint8_t enc8(float lin)
{
	float c = lin <= 0 ? 0 : lin >= 1 ? 1 : lin;
	float s = c <= 0.0031308f ? c * 12.92f : 1.055f * powf(c, 1.0f / 2.4f) - 0.055f;
	return (uint8_t)(s * 255.0f + 0.5f);
}

static float dec(uint8_t b)
{
	float c = b / 255.0f;
	return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

static uint32_t clear_px(void)
{
	return rgba(enc8(clear_rgb[0]), enc8(clear_rgb[1]), enc8(clear_rgb[2]), 255);
}

/* World point p through view v to pixel coordinates. */
static void project(const struct gfx_view *v, const float p[3], float *x, float *y)
{
	float vp[16], c[4];
	gfx_mat4_mul(vp, v->proj, v->view);
	for (int i = 0; i < 4; i++)
		c[i] = vp[i] * p[0] + vp[4 + i] * p[1] + vp[8 + i] * p[2] + vp[12 + i];
	*x = (c[0] / c[3] * 0.5f + 0.5f) * W;
	*y = (c[1] / c[3] * 0.5f + 0.5f) * H;
}

/* ---- the panels -------------------------------------------------------------- */

#define PANEL_RGBA rgba(0x3a, 0x46, 0x62, 0xff)
#define TEXT_RGBA rgba(0xf2, 0xd8, 0x3a, 0xff)
#define WORLD_RGBA rgba(0x1c, 0x5a, 0x8c, 0xff)
#define WORLD_TEXT_RGBA rgba(0xff, 0xff, 0xff, 0xff)

/* The screen panel: [6, 76) x [8, 32) with "UNDO" from (10, 26). */
#define SP_X0 6.0f
#define SP_Y0 8.0f
#define SP_X1 76.0f
#define SP_Y1 32.0f
#define ST_X 10.0f
#define ST_Y 26.0f
static const char screen_text[] = "UNDO";

static void screen_panel(struct ctx *c)
{
	solid(&c->screen, &screen_frame, &c->font, SP_X0, SP_Y0, SP_X1, SP_Y1, PANEL_RGBA);
	text(&c->screen, &screen_frame, &c->font, ST_X, ST_Y, screen_text, TEXT_RGBA);
}

/* The world panel: 100 x 40 panel pixels of 2 cm (about one image pixel
 * each from 2.5 m), centred on (0, 0, z), facing +z, with "THETA". */
#define WP_PX 0.02f
#define WP_W 100.0f
#define WP_H 40.0f
static struct frame world_frame(float z)
{
	return (struct frame){ { -0.5f * WP_W * WP_PX, 0.5f * WP_H * WP_PX, z }, { WP_PX, 0, 0 }, { 0, -WP_PX, 0 } };
}

/* Panel pixel (x, y) of the world panel at z, in the world. */
static void world_point(float z, float x, float y, float out[3])
{
	struct frame fr = world_frame(z);
	for (int k = 0; k < 3; k++)
		out[k] = fr.origin[k] + x * fr.right[k] + y * fr.down[k];
}

static void world_panel(struct ctx *c, float z, uint32_t panel_rgba)
{
	struct frame fr = world_frame(z);
	solid(&c->world, &fr, &c->font, 0, 0, WP_W, WP_H, panel_rgba);
	text(&c->world, &fr, &c->font, 12, 28, "THETA", WORLD_TEXT_RGBA);
}

/* Every pixel of the screen text's glyph boxes: text colour where the
 * atlas covers, panel colour where not (1:1 pixels sample texel centres). */
static void assert_screen_text(struct ctx *c)
{
	float x = ST_X;
	unsigned lit = 0;
	for (const char *s = screen_text; *s; s++) {
		const struct ui_glyph *g = &c->font.glyph[*s - ' '];
		uint32_t x0 = (uint32_t)(x + g->bearing_x), y0 = (uint32_t)(ST_Y - g->bearing_y);
		for (uint32_t j = 0; j < g->h; j++)
			for (uint32_t i = 0; i < g->w; i++) {
				bool on = atlas_px[(g->y + j) * ATLAS_W + g->x + i] != 0;
				lit += on;
				assert_px(px_at(c, 0, x0 + i, y0 + j), on ? TEXT_RGBA : PANEL_RGBA, 1,
					  on ? "a glyph's pixel" : "the panel between strokes", x0 + i, y0 + j);
			}
		x += g->advance;
	}
	assert_true(lit > 100); /* the text is there to see */
}

/* ---- cases ------------------------------------------------------------------- */

/* Screen panels in window pixels, y down: the panel's rectangle exactly,
 * the text pixel for pixel from the atlas, the clear colour around. */
static void screen_panel_in_pixels_with_its_text(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(1);
	screen_panel(c);
	list_ui(c, &c->font);
	assert_int_equal(frame(c), 0);
	assert_px(px_at(c, 0, (uint32_t)SP_X0, (uint32_t)SP_Y0), PANEL_RGBA, 1, "the panel's top left pixel",
		  (uint32_t)SP_X0, (uint32_t)SP_Y0);
	assert_px(px_at(c, 0, (uint32_t)SP_X1 - 1, (uint32_t)SP_Y1 - 1), PANEL_RGBA, 1,
		  "the panel's bottom right pixel", (uint32_t)SP_X1 - 1, (uint32_t)SP_Y1 - 1);
	assert_px(px_at(c, 0, (uint32_t)SP_X0 - 1, (uint32_t)SP_Y0), clear_px(), 1, "left of the panel",
		  (uint32_t)SP_X0 - 1, (uint32_t)SP_Y0);
	assert_px(px_at(c, 0, (uint32_t)SP_X0, (uint32_t)SP_Y0 - 1), clear_px(), 1, "above the panel",
		  (uint32_t)SP_X0, (uint32_t)SP_Y0 - 1);
	assert_px(px_at(c, 0, (uint32_t)SP_X1, (uint32_t)SP_Y1 - 1), clear_px(), 1, "right of the panel",
		  (uint32_t)SP_X1, (uint32_t)SP_Y1 - 1);
	assert_px(px_at(c, 0, (uint32_t)SP_X0, (uint32_t)SP_Y1), clear_px(), 1, "below the panel", (uint32_t)SP_X0,
		  (uint32_t)SP_Y1);
	/* y down: the panel is near the top of the image, not the bottom. */
	assert_px(px_at(c, 0, (uint32_t)SP_X0, H - 1 - (uint32_t)SP_Y0), clear_px(), 1, "the panel's mirror row",
		  (uint32_t)SP_X0, H - 1 - (uint32_t)SP_Y0);
	assert_screen_text(c);
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.ui_triangles, c->screen.n / 3);
	assert_int_equal(st.atlas_uploads, 1);
	th_golden_check("ui_screen", pixels(c), W, H, &TH_GOLDEN_TOLERANCE);
	ctx_close(c);
}

/* A world panel in both eyes, each with its own view-projection: its left
 * edge where each eye's projection puts it; the screen panel in view 0
 * only. */
static void world_panel_in_both_eyes_screen_panel_on_view_0(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(2);
	world_panel(c, 0.0f, WORLD_RGBA);
	screen_panel(c);
	list_ui(c, &c->font);
	assert_int_equal(frame(c), 0);
	assert_int_equal(c->f.nviews, 2);
	float xs[2];
	for (uint32_t v = 0; v < 2; v++) {
		/* The panel's left edge, 6 panel pixels below its top (above the text). */
		float at[3], x, y;
		world_point(0.0f, 0, 6, at);
		project(&c->f.view[v], at, &x, &y);
		xs[v] = x;
		uint32_t xi = (uint32_t)lroundf(x), yi = (uint32_t)y;
		assert_true(xi >= 2 && xi + 2 < W && yi < H);
		assert_px(px_at(c, v, xi + 1, yi), WORLD_RGBA, 1, "inside the world panel's left edge", xi + 1, yi);
		assert_px(px_at(c, v, xi - 2, yi), clear_px(), 1, "outside the world panel's left edge", xi - 2, yi);
	}
	assert_true(fabsf(xs[0] - xs[1]) > 4.0f); /* the eyes see it in different places */
	assert_screen_text(c);
	assert_px(px_at(c, 1, (uint32_t)SP_X0 + 1, (uint32_t)SP_Y0 + 1), clear_px(), 1,
		  "the screen panel's place in view 1", (uint32_t)SP_X0 + 1, (uint32_t)SP_Y0 + 1);
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.ui_triangles, 2 * (c->world.n / 3) + c->screen.n / 3);
	th_golden_check("ui_world_stereo", pixels(c), 2 * W, H, &TH_GOLDEN_TOLERANCE);
	ctx_close(c);
}

/* The UI is drawn last without a depth test: a panel behind the cube
 * still covers it; a translucent one blends with it in linear light. */
static void panels_over_the_scene_alpha_blended(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(1);
	add_cube(c);
	/* Panel pixel (40, 36): below the text, inside the panel, on the cube. */
	const float px = 40, py = 36;

	/* Opaque, a metre behind the cube's centre (its back is at -0.5). */
	world_panel(c, -1.0f, WORLD_RGBA);
	float behind[3], x, y;
	world_point(-1.0f, px, py, behind);
	project(&c->cam, behind, &x, &y);
	uint32_t xi = (uint32_t)x, yi = (uint32_t)y;
	list_ui(c, NULL);
	assert_int_equal(frame(c), 0);
	assert_true(abs((int)px_at(c, 0, xi, yi)[0] - (int)enc8(clear_rgb[0])) > 30); /* the cube is there */
	list_ui(c, &c->font);
	assert_int_equal(frame(c), 0);
	assert_px(px_at(c, 0, xi, yi), WORLD_RGBA, 1, "a panel behind the cube, over it", xi, yi);

	/* Translucent, in front. */
	c->world.n = 0;
	const uint8_t a = 0x60;
	world_panel(c, 0.9f, (WORLD_RGBA & 0x00ffffffu) | (uint32_t)a << 24);
	float front[3];
	world_point(0.9f, px, py, front);
	project(&c->cam, front, &x, &y);
	xi = (uint32_t)x;
	yi = (uint32_t)y;
	list_ui(c, NULL);
	assert_int_equal(frame(c), 0);
	uint8_t under[4];
	memcpy(under, px_at(c, 0, xi, yi), 4);
	assert_true(abs((int)under[0] - (int)enc8(clear_rgb[0])) > 30); /* that pixel is the cube's */
	list_ui(c, &c->font);
	assert_int_equal(frame(c), 0);
	float al = a / 255.0f;
	uint32_t want = 0;
	for (int k = 0; k < 3; k++) {
		float p = dec((uint8_t)(WORLD_RGBA >> (8 * k)));
		want |= (uint32_t)enc8(p * al + dec(under[k]) * (1 - al)) << (8 * k);
	}
	assert_px(px_at(c, 0, xi, yi), want, 2, "a translucent panel over the cube", xi, yi);
	th_golden_check("ui_over_scene", pixels(c), W, H, &TH_GOLDEN_TOLERANCE);
	ctx_close(c);
}

/* Once per context: frames after the first do not copy the atlas again;
 * another font does. No font, or a mesh without triangles: nothing of the
 * UI is drawn. A partial triangle is dropped. */
static void the_atlas_is_uploaded_once(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(1);
	screen_panel(c);
	list_ui(c, NULL);
	assert_int_equal(frame(c), 0);
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.atlas_uploads, 0);
	assert_int_equal(st.ui_triangles, 0);
	assert_px(px_at(c, 0, (uint32_t)SP_X0, (uint32_t)SP_Y0), clear_px(), 1, "no font, no panel",
		  (uint32_t)SP_X0, (uint32_t)SP_Y0);

	list_ui(c, &c->font);
	for (int i = 0; i < 3; i++)
		assert_int_equal(frame(c), 0);
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.atlas_uploads, 1);
	assert_screen_text(c);

	struct ui_font other = c->font;
	list_ui(c, &other);
	assert_int_equal(frame(c), 0);
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.atlas_uploads, 2);
	assert_screen_text(c);

	/* 4 vertices: one triangle and a stray vertex. */
	c->l.ui.screen.n = 4;
	c->l.ui.world.n = 0;
	assert_int_equal(frame(c), 0);
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.ui_triangles, 1);
	assert_int_equal(st.atlas_uploads, 2);
	ctx_close(c);
}

/* An atlas that is not one (no pixels, a side 0 or too large): said, and
 * the frame goes on without the UI. */
static void a_bad_atlas_draws_no_ui(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(1);
	screen_panel(c);
	struct ui_font bad[3];
	bad[0] = c->font;
	bad[0].pixels = NULL;
	bad[1] = c->font;
	bad[1].height = 0;
	bad[2] = c->font;
	bad[2].width = 100000;
	for (int i = 0; i < 3; i++) {
		list_ui(c, &bad[i]);
		assert_int_equal(frame(c), 0);
		assert_int_equal(frame(c), 0);
		struct gfx_draw_stats st;
		gfx_draw_stats(c->d, &st);
		assert_int_equal(st.atlas_uploads, 0);
		assert_int_equal(st.ui_triangles, 0);
		assert_px(px_at(c, 0, (uint32_t)SP_X0, (uint32_t)SP_Y0), clear_px(), 1, "a bad atlas, no panel",
			  (uint32_t)SP_X0, (uint32_t)SP_Y0);
	}
	ctx_close(c);
}

/* A device loss, then the rebuild gfx.c does (the core, the backend's
 * attachments and the context destroyed and made again): the new context
 * gets the atlas again and the next frame's panels are the same pixels. */
static void a_device_loss_rebuild_uploads_the_atlas_again(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(1);
	screen_panel(c);
	world_panel(c, 0.0f, WORLD_RGBA);
	list_ui(c, &c->font);
	assert_int_equal(frame(c), 0);
	size_t sz = (size_t)W * H * 4;
	uint8_t *before = malloc(sz);
	assert_non_null(before);
	memcpy(before, pixels(c), sz);

	c->vk->lose_after = c->vk->checks + 1;
	int r = frame(c);
	assert_true(r < 0);
	assert_true(c->vk->lost);
	ctx_detach(c);
	assert_int_equal(ctx_attach(c), 0);
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.atlas_uploads, 0);
	assert_int_equal(frame(c), 0);
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.atlas_uploads, 1);
	assert_screen_text(c);
	assert_memory_equal(pixels(c), before, sz);
	free(before);
	ctx_close(c);
}

/* Text seen smaller than its atlas (a far world panel) greys out evenly
 * (the atlas's mip levels, sampled trilinearly): stripes of every third
 * texel drawn at a third of their size give every pixel part of the
 * coverage, about a third on the whole, where one tap of level 0 at the
 * pixel's centre would find none. At one texel a pixel the stripes stay
 * sharp. */
static void minified_text_greys_out_evenly(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(1);
	solid(&c->screen, &screen_frame, &c->font, 0, 0, W, 40, PANEL_RGBA);
	const float uv[4] = { (float)STRIPE_X / ATLAS_W, 1.0f / ATLAS_H, (float)(STRIPE_X + STRIPE_W) / ATLAS_W,
			      (float)(1 + STRIPE_H) / ATLAS_H };
	const float small[4] = { 10, 10, 10 + STRIPE_W / 3, 10 + STRIPE_H };
	const float full[4] = { 40, 10, 40 + STRIPE_W, 10 + STRIPE_H };
	quad(&c->screen, &screen_frame, small, uv, TEXT_RGBA);
	quad(&c->screen, &screen_frame, full, uv, TEXT_RGBA);
	list_ui(c, &c->font);
	assert_int_equal(frame(c), 0);
	/* Coverage back from the red channel (blended in linear light), inside
	 * the quad (its edge pixels' footprints reach past the stripes). */
	float t = dec((uint8_t)TEXT_RGBA), p = dec((uint8_t)PANEL_RGBA);
	for (uint32_t y = 11; y < 10 + STRIPE_H - 1; y++) {
		float sum = 0;
		for (uint32_t x = 11; x < 10 + STRIPE_W / 3 - 1; x++) {
			float cov = (dec(px_at(c, 0, x, y)[0]) - p) / (t - p);
			if (cov < 0.15f || cov > 0.55f)
				fail_msg("a minified stripe pixel at (%u, %u) has coverage %.2f, not about a third", x, y,
					 (double)cov);
			sum += cov;
		}
		float mean = sum / (STRIPE_W / 3 - 2);
		if (mean < 0.25f || mean > 0.42f)
			fail_msg("row %u of the minified stripes has mean coverage %.2f, not about a third", y,
				 (double)mean);
	}
	for (uint32_t y = 10; y < 10 + STRIPE_H; y++) {
		for (uint32_t x = 0; x < STRIPE_W; x++)
			assert_px(px_at(c, 0, 40 + x, y), x % 3 == 0 ? TEXT_RGBA : PANEL_RGBA, 1, "a stripe at 1:1",
				  40 + x, y);
	}
	ctx_close(c);
}

/* A UNORM target (the shader encodes sRGB itself): the same bytes for the
 * opaque screen panel and its text as the headless sRGB image. */
static void a_unorm_target_gives_the_same_panel(void **state)
{
	(void)state;
	struct ctx *c = ctx_open(1);
	screen_panel(c);
	list_ui(c, &c->font);
	assert_int_equal(frame(c), 0);
	size_t sz = (size_t)W * H * 4;
	uint8_t *srgb = malloc(sz);
	assert_non_null(srgb);
	memcpy(srgb, pixels(c), sz);

	struct gfx_draw *d = NULL;
	assert_int_equal(gfx_draw_create(c->vk, &(struct gfx_draw_config){ .color_format = VK_FORMAT_R8G8B8A8_UNORM },
					 &d),
			 0);
	struct gfx_image img;
	struct gfx_buffer rb;
	assert_int_equal(gfx_image_create(c->vk, (VkExtent2D){ W, H }, VK_FORMAT_R8G8B8A8_UNORM,
					  VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
					  VK_IMAGE_ASPECT_COLOR_BIT, &img),
			 0);
	assert_int_equal(gfx_buffer_create(c->vk, sz, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true, &rb), 0);
	VkCommandBuffer cmd;
	assert_int_equal(gfx_draw_begin(d, &cmd), 0);
	assert_int_equal(gfx_draw_prepare(d, cmd, &c->l), 0);
	struct gfx_target t = { .image = img.image, .view = img.view, .extent = { W, H },
				.format = VK_FORMAT_R8G8B8A8_UNORM, .initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
				.final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL };
	assert_int_equal(gfx_draw_record(d, cmd, &c->l, &t, &c->cam, 0), 0);
	gfx_readback_copy(cmd, img.image, (VkExtent2D){ W, H }, rb.buf, 0, 0);
	gfx_readback_host_barrier(cmd, rb.buf);
	assert_int_equal(gfx_draw_submit(d, cmd, VK_NULL_HANDLE, 0, VK_NULL_HANDLE), 0);
	VkFence f = gfx_draw_last_fence(d);
	assert_int_equal(vkWaitForFences(c->vk->device, 1, &f, VK_TRUE, UINT64_MAX), VK_SUCCESS);
	const uint8_t *u = rb.map;
	unsigned differ = 0;
	for (size_t i = 0; i < sz; i++)
		if (abs((int)u[i] - (int)srgb[i]) > 1)
			differ++;
	assert_int_equal(differ, 0);
	struct gfx_draw_stats st;
	gfx_draw_stats(d, &st);
	assert_int_equal(st.atlas_uploads, 1); /* its own, in the same context */
	gfx_draw_destroy(&d);
	gfx_image_destroy(c->vk, &img);
	gfx_buffer_destroy(c->vk, &rb);
	free(srgb);
	ctx_close(c);
}

/* ---- the renderer with the real UI ------------------------------------------ */

#define RW 1280u
#define RH 720u
#define RFRAMES 3u
#define CROP_W 320u
#define CROP_H 180u

static const float head_pos[3] = { 0, 1.6f, 0.3f };
static const float grip_pos[3] = { -0.25f, 1.1f, -0.1f };

struct rui {
	struct gs *s;   /* the renderer's world and scene (a cube) */
	struct ef *f;   /* the editor the panels show */
	struct ui *u;
	struct ui_status st;
	struct ui_frame_in fi;
	struct ui_frame_out out;
};

static struct rui *rui_new(bool desktop)
{
	struct rui *t = calloc(1, sizeof *t);
	assert_non_null(t);
	assert_int_equal(gs_create(&t->s), 0);
	assert_int_equal(gs_cube(t->s, &t->s->a, (const float[3]){ 0, 1.0f, -0.5f }, 0.3f, NULL, NULL), 0);
	assert_int_equal(gs_sync(t->s), 0);
	t->f = ef_new(NULL);
	assert_int_equal(ui_create(&t->u), 0);
	t->st.rtt_us = -1;
	t->st.peers = -1;
	t->fi.status = &t->st;
	t->fi.desktop = desktop;
	struct inp_state *in = &t->f->in;
	memcpy(in->head.position, head_pos, sizeof head_pos);
	in->head.valid = true;
	if (desktop) {
		in->desk.present = in->desk.focused = true;
		in->desk.width = RW;
		in->desk.height = RH;
	} else {
		memcpy(in->hand[INP_LEFT].pose.position, grip_pos, sizeof grip_pos);
		in->hand[INP_LEFT].pose.valid = true;
	}
	return t;
}

static void rui_free(struct rui *t)
{
	ui_destroy(&t->u);
	ef_free(t->f);
	gs_destroy(&t->s);
	free(t);
}

static struct gfx_options rui_options(void)
{
	return (struct gfx_options){ .kind = GFX_RENDERER_HEADLESS, .width = RW, .height = RH, .validation = true,
				     .camera = GFX_CAMERA_FIXED, .eye = { 0.6f, 1.5f, 0.6f },
				     .target = { 0, 1.0f, -0.5f } };
}

/* frames frames of main.c's order (ui_frame, then the renderer), the UI
 * given to the renderer or not; the last frame's pixels (a copy: *w x *h;
 * a window's from its screenshot, written at destroy) and the renderer's
 * stats. */
static uint8_t *rui_render(struct rui *t, const struct gfx_options *o, bool with_ui, uint32_t frames, uint32_t *w,
			   uint32_t *h, struct gfx_renderer_stats *st)
{
	struct app_renderer *r = NULL;
	const struct gfx_sources src = { .scene = t->s->scene, .ui = with_ui ? t->u : NULL };
	assert_int_equal(gfx_renderer_create(o, t->s->w, &src, &r), 0);
	for (uint32_t i = 0; i < frames; i++) {
		uint64_t now = (uint64_t)i * EF_FRAME_NS;
		t->fi.sc = ef_scene(t->f);
		assert_int_equal(ui_frame(t->u, now, &t->f->in, t->f->ed, &t->fi, &t->out), 0);
		struct app_view v = { .frame = i, .time_ns = now };
		assert_int_equal(app_render(r, t->s->w, &v), 0);
	}
	uint8_t *copy = NULL;
	if (o->kind == GFX_RENDERER_HEADLESS) {
		const uint8_t *p = gfx_renderer_pixels(r, w, h);
		assert_non_null(p);
		copy = malloc((size_t)*w * *h * 4);
		assert_non_null(copy);
		memcpy(copy, p, (size_t)*w * *h * 4);
	}
	assert_int_equal(gfx_renderer_stats(r, st), 0);
	app_renderer_destroy(&r);
	assert_int_equal(st->validation_messages, 0);
	if (!copy) {
		char why[GFX_PNG_WHY_MAX];
		if (!o->screenshot || gfx_png_read(o->screenshot, &copy, w, h, why, sizeof why) < 0)
			fail_msg("the window's screenshot %s: %s", o->screenshot ? o->screenshot : "(none)",
				 o->screenshot ? why : "not asked for");
	}
	return copy;
}

/* The cw x ch rectangle of px (w wide) from (x0, y0). */
static uint8_t *crop(const uint8_t *px, uint32_t w, uint32_t x0, uint32_t y0, uint32_t cw, uint32_t ch)
{
	uint8_t *o = malloc((size_t)cw * ch * 4);
	assert_non_null(o);
	for (uint32_t y = 0; y < ch; y++)
		memcpy(o + (size_t)y * cw * 4, px + ((size_t)(y0 + y) * w + x0) * 4, (size_t)cw * 4);
	return o;
}

/* Pixels of [x0, x1) x [y0, y1) (px w wide) light in all three channels
 * (the UI's text is 232 grey). */
static unsigned light_pixels(const uint8_t *px, uint32_t w, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
	unsigned n = 0;
	for (uint32_t y = y0; y < y1; y++)
		for (uint32_t x = x0; x < x1; x++) {
			const uint8_t *p = px + ((size_t)y * w + x) * 4;
			n += p[0] >= 200 && p[1] >= 200 && p[2] >= 200;
		}
	return n;
}

/* The desktop's panels on the headless renderer, through gfx_sources.ui:
 * the tools and colours at the top left, the history at the top right,
 * with their text; nothing there without the UI. The atlas is copied once
 * in three frames. */
static void desktop_panels_through_the_renderer(void **state)
{
	(void)state;
	struct rui *t = rui_new(true);
	struct gfx_options o = rui_options();
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *bare = rui_render(t, &o, false, RFRAMES, &w, &h, &st);
	assert_int_equal(st.ui_atlas_uploads, 0);
	uint8_t *px = rui_render(t, &o, true, RFRAMES, &w, &h, &st);
	assert_int_equal(w, RW);
	assert_int_equal(h, RH);
	assert_int_equal(st.ui_atlas_uploads, 1);
	float sel[3], undo[3];
	assert_int_equal(ui_button_centre(t->u, UI_PANEL_TOOLS, "select", sel), 0);
	assert_int_equal(ui_button_centre(t->u, UI_PANEL_HISTORY, "undo", undo), 0);
	/* The buttons' words (left-aligned in them): light pixels across the
	 * buttons' rows, none there in the bare frame. */
	uint32_t sx = (uint32_t)sel[0], sy = (uint32_t)sel[1], ux = (uint32_t)undo[0], uy = (uint32_t)undo[1];
	assert_true(sx >= 50 && sy >= 10 && ux >= 90 && uy >= 10 && ux + 90 <= RW && uy + 10 <= RH);
	assert_true(light_pixels(px, w, sx - 50, sy - 10, sx + 50, sy + 10) >= 20);
	assert_true(light_pixels(px, w, ux - 90, uy - 10, ux + 90, uy + 10) >= 15);
	assert_int_equal(light_pixels(bare, w, sx - 50, sy - 10, sx + 50, sy + 10), 0);
	assert_int_equal(light_pixels(bare, w, ux - 90, uy - 10, ux + 90, uy + 10), 0);
	uint8_t *left = crop(px, w, 0, 0, CROP_W, CROP_H), *right = crop(px, w, RW - CROP_W, 0, CROP_W, CROP_H);
	th_golden_check("ui_desktop_left", left, CROP_W, CROP_H, &TH_GOLDEN_TOLERANCE);
	th_golden_check("ui_desktop_right", right, CROP_W, CROP_H, &TH_GOLDEN_TOLERANCE);
	free(left);
	free(right);
	free(px);
	free(bare);
	rui_free(t);
}

/* The same desktop panels in a real window (GLFW on a private Xvfb, the
 * swapchain's format and present): the presented image's corners match
 * the headless goldens. SKIP without Xvfb. */
static void desktop_panels_in_a_window_look_as_headless(void **state)
{
	(void)state;
	if (!th_xvfb_available()) {
		printf("SKIP: Xvfb is not installed (apt-get install xvfb): the window case needs an X server\n");
		skip();
	}
	struct th_xvfb x;
	assert_int_equal(th_xvfb_start(&x, "1280x800x24"), 0);
	char dir[] = "/tmp/test_gfx_ui.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char shot[PATH_MAX];
	snprintf(shot, sizeof shot, "%s/window.png", dir);
	struct rui *t = rui_new(true);
	struct gfx_options o = rui_options();
	o.kind = GFX_RENDERER_WINDOW;
	o.screenshot = shot;
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *px = rui_render(t, &o, true, RFRAMES, &w, &h, &st);
	assert_int_equal(w, RW);
	assert_int_equal(h, RH);
	assert_int_equal(st.ui_atlas_uploads, 1);
	uint8_t *left = crop(px, w, 0, 0, CROP_W, CROP_H), *right = crop(px, w, RW - CROP_W, 0, CROP_W, CROP_H);
	th_golden_check("ui_desktop_left", left, CROP_W, CROP_H, &TH_GOLDEN_TOLERANCE);
	th_golden_check("ui_desktop_right", right, CROP_W, CROP_H, &TH_GOLDEN_TOLERANCE);
	free(left);
	free(right);
	free(px);
	rui_free(t);
	unlink(shot);
	rmdir(dir);
	th_xvfb_stop(&x);
}

/* The headset's panels (above the left grip) in both headless stereo
 * eyes, looked at from the head; the desktop's list is empty. */
static void headset_panels_in_both_eyes_through_the_renderer(void **state)
{
	(void)state;
	struct rui *t = rui_new(false);
	/* Where the tools panel will be: one frame of the UI alone places it. */
	t->fi.sc = ef_scene(t->f);
	assert_int_equal(ui_frame(t->u, 0, &t->f->in, t->f->ed, &t->fi, &t->out), 0);
	assert_int_equal(ui_screen_mesh(t->u).n, 0);
	assert_true(ui_world_mesh(t->u).n > 0);
	float sel[3];
	assert_int_equal(ui_button_centre(t->u, UI_PANEL_TOOLS, "select", sel), 0);
	struct gfx_options o = rui_options();
	o.width = CROP_W / 2;
	o.height = CROP_H;
	o.stereo_views = 2;
	o.fovy = 0.22f;
	memcpy(o.eye, head_pos, sizeof o.eye);
	memcpy(o.target, sel, sizeof o.target);
	o.target[1] -= 0.03f; /* the panel's upper rows */
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *bare = rui_render(t, &o, false, RFRAMES, &w, &h, &st);
	uint8_t *px = rui_render(t, &o, true, RFRAMES, &w, &h, &st);
	assert_int_equal(w, CROP_W);
	assert_int_equal(st.ui_atlas_uploads, 1);
	for (uint32_t v = 0; v < 2; v++) {
		uint32_t x0 = v * (CROP_W / 2), x1 = x0 + CROP_W / 2;
		unsigned changed = 0;
		for (uint32_t y = 0; y < h; y++)
			for (uint32_t x = x0; x < x1; x++)
				changed += memcmp(px + ((size_t)y * w + x) * 4, bare + ((size_t)y * w + x) * 4, 3) != 0;
		assert_true(changed > 2000);                                     /* the panels */
		assert_true(light_pixels(px, w, x0, 0, x1, h) >= 30);          /* their words */
		assert_int_equal(light_pixels(bare, w, x0, 0, x1, h), 0);
	}
	th_golden_check("ui_headset_stereo", px, w, h, &TH_GOLDEN_TOLERANCE);
	free(px);
	free(bare);
	rui_free(t);
}

/* The headset's panels through the OpenXR backend and the test runtime
 * (the real loader): the runtime's captures of both eyes (each eye's own
 * view-projection from xrLocateViews) show them, the same frames without
 * the UI do not. */
#define XR_FRAMES 3u
static uint8_t *xr_eye(const char *dir, const char *eye, uint32_t *w, uint32_t *h)
{
	char path[PATH_MAX + 32], why[GFX_PNG_WHY_MAX];
	snprintf(path, sizeof path, "%s/frame-%04u-%s.png", dir, XR_FRAMES, eye);
	uint8_t *px = NULL;
	if (gfx_png_read(path, &px, w, h, why, sizeof why) < 0)
		fail_msg("%s: %s", path, why);
	return px;
}

static void xr_run(struct rui *t, bool with_ui, const char *dir)
{
	setenv("XRT_CAPTURE_DIR", dir, 1);
	struct gfx_options o = { .kind = GFX_RENDERER_XR, .validation = true };
	struct app_renderer *r = NULL;
	const struct gfx_sources src = { .scene = t->s->scene, .ui = with_ui ? t->u : NULL };
	assert_int_equal(gfx_renderer_create(&o, t->s->w, &src, &r), 0);
	assert_string_equal(gfx_renderer_backend(r), "xr");
	assert_non_null(r->ops->wait_frame);
	for (uint32_t i = 0; i < XR_FRAMES; i++) {
		uint64_t dt = 0;
		assert_int_equal(r->ops->wait_frame(r, &dt), 0);
		t->fi.sc = ef_scene(t->f);
		assert_int_equal(ui_frame(t->u, dt, &t->f->in, t->f->ed, &t->fi, &t->out), 0);
		struct app_view v = { .frame = i, .time_ns = dt, .display_time_ns = dt };
		assert_int_equal(app_render(r, t->s->w, &v), 0);
	}
	struct gfx_renderer_stats st;
	assert_int_equal(gfx_renderer_stats(r, &st), 0);
	app_renderer_destroy(&r);
	assert_int_equal(st.validation_messages, 0);
	assert_int_equal(st.ui_atlas_uploads, with_ui ? 1 : 0);
}

static void headset_panels_in_both_xr_eyes(void **state)
{
	(void)state;
	char json[PATH_MAX], dir[PATH_MAX], ui_dir[PATH_MAX + 8], bare_dir[PATH_MAX + 8];
	assert_int_equal(th_xrt_path("theta_xrt.json", json, sizeof json), 0); /* make test builds the runtime */
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	snprintf(ui_dir, sizeof ui_dir, "%s/ui", dir);
	snprintf(bare_dir, sizeof bare_dir, "%s/bare", dir);
	assert_int_equal(mkdir(ui_dir, 0700), 0);
	assert_int_equal(mkdir(bare_dir, 0700), 0);
	setenv("XR_RUNTIME_JSON", json, 1);
	setenv("XRT_UNPACED", "1", 1);
	char frames[16];
	snprintf(frames, sizeof frames, "%u", XR_FRAMES);
	setenv("XRT_CAPTURE_FRAMES", frames, 1);
	setenv("XRT_FOV", "-30,30,18,-18", 1); /* square pixels at 320 x 180 */
	const char *unset[] = { "XRT_INPUT", "XRT_EXIT_AFTER", "XRT_LOSS_AT", "XRT_HEAD_POS", "XRT_HEAD_YAW",
				"XRT_VIEW_SIZE", "XRT_RECORD", "XRT_NO_STAGE", "XRT_NO_HMD", "XRT_UNFOCUSED" };
	for (size_t i = 0; i < sizeof unset / sizeof *unset; i++)
		unsetenv(unset[i]);
	struct rui *t = rui_new(false);
	/* The runtime's head (its default: 1.6 m up, looking down -z), the left grip in front of it. */
	const float head[3] = { 0, 1.6f, 0 }, grip[3] = { -0.3f, 1.5f, -0.6f };
	memcpy(t->f->in.head.position, head, sizeof head);
	memcpy(t->f->in.hand[INP_LEFT].pose.position, grip, sizeof grip);
	xr_run(t, true, ui_dir);
	xr_run(t, false, bare_dir);
	uint32_t w, h, bw, bh;
	uint8_t *eye[2], *bare[2];
	static const char *const names[2] = { "left", "right" };
	for (int e = 0; e < 2; e++) {
		eye[e] = xr_eye(ui_dir, names[e], &w, &h);
		bare[e] = xr_eye(bare_dir, names[e], &bw, &bh);
		assert_int_equal(w, bw);
		assert_int_equal(h, bh);
		unsigned changed = 0;
		for (size_t i = 0; i < (size_t)w * h; i++)
			changed += memcmp(eye[e] + i * 4, bare[e] + i * 4, 3) != 0;
		assert_true(changed > (unsigned)(w * h / 20)); /* the panels */
		assert_true(light_pixels(eye[e], w, 0, 0, w, h) >= 50); /* their words */
		assert_int_equal(light_pixels(bare[e], w, 0, 0, w, h), 0);
	}
	assert_memory_not_equal(eye[0], eye[1], (size_t)w * h * 4); /* two eyes, two views */
	th_golden_check("ui_xr_left", eye[0], w, h, &TH_GOLDEN_TOLERANCE);
	for (int e = 0; e < 2; e++) {
		free(eye[e]);
		free(bare[e]);
	}
	unsetenv("XRT_CAPTURE_DIR");
	unsetenv("XRT_FOV");
	rui_free(t);
	th_rm_rf(dir);
}

/* A device loss at frame 2: the renderer rebuilds, the new context gets
 * the atlas again, and the last frame is the same as without the loss. */
static void a_device_loss_through_the_renderer_uploads_the_atlas_again(void **state)
{
	(void)state;
	struct rui *t = rui_new(true);
	struct gfx_options o = rui_options();
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *want = rui_render(t, &o, true, RFRAMES + 1, &w, &h, &st);
	assert_int_equal(st.rebuilds, 0);
	assert_int_equal(st.ui_atlas_uploads, 1);
	o.lose_device_at = 2;
	uint8_t *px = rui_render(t, &o, true, RFRAMES + 1, &w, &h, &st);
	assert_int_equal(st.rebuilds, 1);
	assert_int_equal(st.ui_atlas_uploads, 2);
	assert_memory_equal(px, want, (size_t)w * h * 4);
	free(px);
	free(want);
	rui_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(screen_panel_in_pixels_with_its_text),
		cmocka_unit_test(world_panel_in_both_eyes_screen_panel_on_view_0),
		cmocka_unit_test(panels_over_the_scene_alpha_blended),
		cmocka_unit_test(the_atlas_is_uploaded_once),
		cmocka_unit_test(a_bad_atlas_draws_no_ui),
		cmocka_unit_test(a_device_loss_rebuild_uploads_the_atlas_again),
		cmocka_unit_test(a_unorm_target_gives_the_same_panel),
		cmocka_unit_test(minified_text_greys_out_evenly),
		cmocka_unit_test(desktop_panels_through_the_renderer),
		cmocka_unit_test(desktop_panels_in_a_window_look_as_headless),
		cmocka_unit_test(headset_panels_in_both_eyes_through_the_renderer),
		cmocka_unit_test(headset_panels_in_both_xr_eyes),
		cmocka_unit_test(a_device_loss_through_the_renderer_uploads_the_atlas_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
