/* The renderer end to end (gfx.h): a scene folded from real entries of two
 * users, mirrored by the client's real scene mirror, drawn by the headless
 * backend on the real Vulkan driver (lavapipe here) with the validation
 * layer on, compared with golden images (tests/golden/gfx_*.png; regenerate
 * with THETA_UPDATE_GOLDENS=1 and look at them). Not one validation message
 * is allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx.h"
#include "app/avatars.h"
#include "gfx/gfx_list.h"
#include "th_gfxscene.h"
#include "th_golden.h"
#include "th_meshop.h"

#define GW 320u
#define GH 180u
#define FRAMES 3u

static struct gfx_options base_options(void)
{
	struct gfx_options o = { .kind = GFX_RENDERER_HEADLESS, .width = GW, .height = GH, .validation = true,
				 .camera = GFX_CAMERA_FIXED, .eye = { 1.2f, 1.05f, 1.6f }, .target = { 0.0f, 0.3f, 0.0f } };
	return o;
}

/* Renders FRAMES frames of s with o; the last frame's pixels copied to
 * *px (w x h). The renderer's stats in *st. */
static const struct app_avatars *the_avatars; /* the test's, or NULL */

static uint8_t *render(struct gs *s, const struct gfx_options *o, uint32_t frames, uint32_t *w, uint32_t *h,
		       struct gfx_renderer_stats *st)
{
	struct app_renderer *r = NULL;
	const struct gfx_sources src = { .scene = s->scene, .avatars = the_avatars };
	assert_int_equal(gfx_renderer_create(o, s->w, &src, &r), 0);
	assert_string_equal(gfx_renderer_backend(r), "headless");
	for (uint32_t f = 0; f < frames; f++) {
		struct app_view v = { .frame = f, .time_ns = f * 11111111ull };
		assert_int_equal(app_render(r, s->w, &v), 0);
	}
	const uint8_t *p = gfx_renderer_pixels(r, w, h);
	assert_non_null(p);
	uint8_t *copy = malloc((size_t)*w * *h * 4);
	assert_non_null(copy);
	memcpy(copy, p, (size_t)*w * *h * 4);
	assert_int_equal(gfx_renderer_stats(r, st), 0);
	app_renderer_destroy(&r);
	assert_int_equal(st->validation_messages, 0);
	return copy;
}

static void check(const char *name, struct gs *s, const struct gfx_options *o)
{
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *px = render(s, o, FRAMES, &w, &h, &st);
	th_golden_check(name, px, w, h, &TH_GOLDEN_TOLERANCE);
	free(px);
}

static void cube(struct gs *s, struct lt_author *by, const float pos[3], float size, uint64_t *entity,
		 uint64_t *mesh)
{
	assert_int_equal(gs_cube(s, by, pos, size, entity, mesh), 0);
}

/* The face of m whose centre is highest (a cube's top). */
static uint64_t top_face(const struct th_mesh *m)
{
	uint64_t best = 0;
	float best_y = -INFINITY;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		if (!m->faces[f].id)
			continue;
		uint64_t ids[TH_MESH_FACE_VERTS_MAX];
		int n = th_mesh_face_loop(m, (int32_t)f, ids, TH_MESH_FACE_VERTS_MAX);
		assert_true(n >= 3);
		float y = 0;
		for (int k = 0; k < n; k++)
			y += m->verts[th_mesh_vert_find(m, ids[k])].pos[1];
		y /= (float)n;
		if (y > best_y) {
			best_y = y;
			best = m->faces[f].id;
		}
	}
	return best;
}

static int setup(void **state)
{
	struct gs *s = NULL;
	int r = gs_create(&s);
	*state = s;
	return r;
}

static int teardown(void **state)
{
	the_avatars = NULL;
	struct gs *s = *state;
	gs_destroy(&s);
	return 0;
}

static void a_cube(void **state)
{
	struct gs *s = *state;
	cube(s, &s->a, (const float[3]){ 0, 0.35f, 0 }, 0.7f, NULL, NULL);
	assert_int_equal(gs_sync(s), 0);
	struct gfx_options o = base_options();
	o.no_grid = true;
	check("gfx_cube", s, &o);
}

/* A cube with its top pulled up, then one level of Catmull-Clark. */
static void an_extruded_and_subdivided_mesh(void **state)
{
	struct gs *s = *state;
	uint64_t e, m;
	cube(s, &s->a, (const float[3]){ 0, 0.3f, 0 }, 0.6f, &e, &m);
	struct th_patch p;
	th_patch_init(&p);
	const char *why = NULL;
	uint64_t top = top_face(gs_mesh(s, m));
	assert_int_equal(th_op_extrude_faces(gs_mesh(s, m), &top, 1, NULL, 0.3f, false, &p, &why), 0);
	assert_int_equal(gs_patch(s, &s->a, m, &p), 0);
	th_patch_fini(&p);
	th_patch_init(&p);
	assert_int_equal(th_op_catmull_clark(gs_mesh(s, m), 1, &p, &why), 0);
	assert_int_equal(gs_patch(s, &s->a, m, &p), 0);
	th_patch_fini(&p);
	assert_int_equal(gs_sync(s), 0);
	assert_int_equal(app_scene_mesh(s->scene, m)->live_faces, 40); /* 6 + 4 walls, each quad into 4 */
	struct gfx_options o = base_options();
	o.no_grid = true;
	check("gfx_extrude_subdivide", s, &o);
}

/* Two users' selections, each in its owner's colour: a's on the whole left
 * cube, b's on the right cube's top face. */
static void two_users_selections(void **state)
{
	struct gs *s = *state;
	uint64_t e1, e2, m2;
	cube(s, &s->a, (const float[3]){ -0.55f, 0.3f, 0 }, 0.6f, &e1, NULL);
	cube(s, &s->b, (const float[3]){ 0.55f, 0.3f, 0 }, 0.6f, &e2, &m2);
	assert_int_equal(gs_select(s, &s->a, e1, TH_SELECT_OBJECT, TH_SELECT_WHOLE), 0);
	assert_int_equal(gs_select(s, &s->b, e2, TH_SELECT_FACE, top_face(gs_mesh(s, m2))), 0);
	assert_int_equal(gs_sync(s), 0);
	struct gfx_options o = base_options();
	o.no_grid = true;
	check("gfx_two_selections", s, &o);
	/* The owners' colours differ, so the highlights do too. */
	float ca[4], cb[4];
	gfx_owner_color(gs_owner(&s->a), ca);
	gfx_owner_color(gs_owner(&s->b), cb);
	assert_true(fabsf(ca[0] - cb[0]) + fabsf(ca[1] - cb[1]) + fabsf(ca[2] - cb[2]) > 0.2f);
}

/* Two eyes side by side, 63 mm apart: the halves differ, and the left eye
 * sees the cube further right than the right eye does. */
static void stereo_eyes_differ_by_the_ipd(void **state)
{
	struct gs *s = *state;
	cube(s, &s->a, (const float[3]){ 0, 0.35f, 0 }, 0.7f, NULL, NULL);
	assert_int_equal(gs_sync(s), 0);
	struct gfx_options o = base_options();
	o.width = GW / 2;
	o.stereo_views = 2;
	o.ipd = 0.063f;
	o.no_grid = true;
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *px = render(s, &o, FRAMES, &w, &h, &st);
	assert_int_equal(w, GW);
	assert_int_equal(h, GH);
	th_golden_check("gfx_stereo", px, w, h, &TH_GOLDEN_TOLERANCE);
	/* The cube's mean column in each half (pixels unlike the corner's). */
	double sum[2] = { 0, 0 }, cnt[2] = { 0, 0 };
	const uint8_t *bg = px;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *q = px + ((size_t)y * w + x) * 4;
			if (abs(q[0] - bg[0]) + abs(q[1] - bg[1]) + abs(q[2] - bg[2]) < 24)
				continue;
			unsigned eye = x >= w / 2;
			sum[eye] += x - eye * (w / 2);
			cnt[eye]++;
		}
	assert_true(cnt[0] > 100 && cnt[1] > 100);
	double left = sum[0] / cnt[0], right = sum[1] / cnt[1];
	assert_true(left - right > 1.0); /* the parallax of 63 mm at about 3 m */
	free(px);
}

/* The ground grid alone (no instances). */
static void the_grid(void **state)
{
	struct gs *s = *state;
	assert_int_equal(gs_sync(s), 0);
	struct gfx_options o = base_options();
	check("gfx_grid", s, &o);
}

/* Flat and smooth shading of one sphere: the same outline, different
 * insides (the flat one shows its facets). */
static void flat_and_smooth_shading(void **state)
{
	struct gs *s = *state;
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_UVSPHERE);
	pp.radius = 0.4f;
	pp.segments = 16;
	pp.rings = 10;
	assert_int_equal(gs_primitive(s, &s->a, &pp, (const float[3]){ 0, 0.4f, 0 }, NULL, 0, NULL, NULL), 0);
	assert_int_equal(gs_sync(s), 0);
	struct gfx_options o = base_options();
	o.no_grid = true;
	o.shading = GFX_SHADING_FLAT;
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *flat = render(s, &o, FRAMES, &w, &h, &st);
	th_golden_check("gfx_sphere_flat", flat, w, h, &TH_GOLDEN_TOLERANCE);
	o.shading = GFX_SHADING_SMOOTH;
	uint8_t *smooth = render(s, &o, FRAMES, &w, &h, &st);
	th_golden_check("gfx_sphere_smooth", smooth, w, h, &TH_GOLDEN_TOLERANCE);
	size_t differ = 0;
	for (size_t i = 0; i < (size_t)w * h * 4; i++)
		differ += abs(flat[i] - smooth[i]) > 8;
	assert_true(differ > 500);
	free(flat);
	free(smooth);
}

/* Two other users on the grid: head boxes and hands in their own hues. */
static void the_grid_and_avatars(void **state)
{
	struct gs *s = *state;
	assert_int_equal(gs_sync(s), 0);
	struct app_avatars *av;
	assert_int_equal(app_avatars_create(&av), 0);
	static const struct {
		uint64_t entity;
		uint32_t part;
		float p[3];
	} poses[] = {
		{ 0x1111, PROTO_IPC_POSE_F_HEAD, { -0.5f, 1.1f, -0.6f } },
		{ 0x1111, PROTO_IPC_POSE_F_LEFT, { -0.75f, 0.8f, -0.45f } },
		{ 0x1111, PROTO_IPC_POSE_F_RIGHT, { -0.25f, 0.8f, -0.45f } },
		{ 0x2222, PROTO_IPC_POSE_F_HEAD, { 0.55f, 1.2f, -0.3f } },
		{ 0x2222, PROTO_IPC_POSE_F_RIGHT, { 0.35f, 0.9f, -0.1f } },
	};
	for (size_t i = 0; i < sizeof poses / sizeof poses[0]; i++) {
		struct proto_ipc_pose_update u = { .entity = poses[i].entity, .t_ns = 1000 + i,
						   .px = poses[i].p[0], .py = poses[i].p[1], .pz = poses[i].p[2],
						   .qw = 1, .flags = poses[i].part | PROTO_IPC_POSE_F_TRACKED };
		assert_int_equal(app_avatars_on_pose(av, &u, 1000 + i), 0);
	}
	app_avatars_frame(av, 2000); /* what is shown: each part's one sample */
	assert_int_equal(app_avatars_count(av), 2);
	the_avatars = av;
	struct gfx_options o = base_options();
	o.eye[0] = 0.2f;
	o.eye[1] = 1.5f;
	o.eye[2] = 2.0f;
	o.target[1] = 0.7f;
	check("gfx_grid_avatars", s, &o);
	the_avatars = NULL;
	app_avatars_destroy(&av);
}

/* The box of the pixels unlike the top-left corner's (the background);
 * false when there are none. */
static bool foreground_box(const uint8_t *px, uint32_t w, uint32_t h, uint32_t box[4])
{
	box[0] = w;
	box[1] = h;
	box[2] = box[3] = 0;
	bool any = false;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *q = px + ((size_t)y * w + x) * 4;
			if (abs(q[0] - px[0]) + abs(q[1] - px[1]) + abs(q[2] - px[2]) < 24)
				continue;
			any = true;
			box[0] = x < box[0] ? x : box[0];
			box[1] = y < box[1] ? y : box[1];
			box[2] = x > box[2] ? x : box[2];
			box[3] = y > box[3] ? y : box[3];
		}
	return any;
}

/* The auto camera (the default of --headless and the window) frames what
 * there is wherever it stands: a small cube far from the origin, then a
 * large one beside it, each time whole (off the image's edges) and large
 * in the image (not a speck), about its middle. */
static void the_auto_camera_frames_the_scene(void **state)
{
	struct gs *s = *state;
	struct gfx_options o = base_options();
	o.camera = GFX_CAMERA_AUTO;
	o.no_grid = true;
	static const struct {
		float pos[3], size;
	} cubes[] = { { { 6.0f, 0.1f, -5.0f }, 0.2f }, { { 4.0f, 1.5f, -5.0f }, 3.0f } };
	for (size_t c = 0; c < sizeof cubes / sizeof cubes[0]; c++) {
		cube(s, &s->a, cubes[c].pos, cubes[c].size, NULL, NULL);
		assert_int_equal(gs_sync(s), 0);
		uint32_t w, h, box[4];
		struct gfx_renderer_stats st;
		uint8_t *px = render(s, &o, FRAMES, &w, &h, &st);
		assert_true(foreground_box(px, w, h, box));
		if (box[0] == 0 || box[1] == 0 || box[2] == w - 1 || box[3] == h - 1 || box[3] - box[1] < h / 3)
			fail_msg("scene %zu: the drawn box (%u,%u)-(%u,%u) of %ux%u is cut off or small", c, box[0],
				 box[1], box[2], box[3], w, h);
		double cx = 0.5 * (box[0] + box[2]), cy = 0.5 * (box[1] + box[3]);
		if (fabs(cx - 0.5 * w) > 0.2 * w || fabs(cy - 0.5 * h) > 0.2 * h)
			fail_msg("scene %zu: the drawn box's middle (%.0f, %.0f) is far from the image's", c, cx, cy);
		free(px);
	}
}

/* A device loss in the middle: the renderer is rebuilt, the world is not
 * touched, and the next frames look as before. */
static void a_lost_device_is_rebuilt(void **state)
{
	struct gs *s = *state;
	cube(s, &s->a, (const float[3]){ 0, 0.35f, 0 }, 0.7f, NULL, NULL);
	assert_int_equal(gs_sync(s), 0);
	uint32_t entities = app_scene_entities(s->scene);
	struct gfx_options o = base_options();
	o.no_grid = true;
	o.lose_device_at = 2;
	uint32_t w, h;
	struct gfx_renderer_stats st;
	uint8_t *px = render(s, &o, FRAMES + 2, &w, &h, &st);
	assert_int_equal(st.rebuilds, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.frames, FRAMES + 1);
	assert_int_equal(app_scene_entities(s->scene), entities);
	th_golden_check("gfx_cube", px, w, h, &TH_GOLDEN_TOLERANCE);
	free(px);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_cube, setup, teardown),
		cmocka_unit_test_setup_teardown(an_extruded_and_subdivided_mesh, setup, teardown),
		cmocka_unit_test_setup_teardown(two_users_selections, setup, teardown),
		cmocka_unit_test_setup_teardown(stereo_eyes_differ_by_the_ipd, setup, teardown),
		cmocka_unit_test_setup_teardown(the_grid, setup, teardown),
		cmocka_unit_test_setup_teardown(flat_and_smooth_shading, setup, teardown),
		cmocka_unit_test_setup_teardown(the_grid_and_avatars, setup, teardown),
		cmocka_unit_test_setup_teardown(a_lost_device_is_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(the_auto_camera_frames_the_scene, setup, teardown),
	};
	return cmocka_run_group_tests_name("gfx golden images", tests, NULL, NULL);
}
