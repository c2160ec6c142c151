/* The frame list drawn: gfx_list_build over a real scene mirror
 * (tests/lib/th_gfxscene) rendered by gfx_draw into the headless backend
 * on lavapipe with the Khronos validation layer, read back and checked
 * where things project: another user's whole-object selection and face
 * selection change exactly their pixels, towards the owner's colour; an
 * avatar's head shows in its owner's hue; the grid's x axis line is red on
 * the floor; another user's cursor, drag preview (a ghost) and speaking
 * crown show where they are and go when they end. No validation message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/avatars.h"
#include "gfx/gfx_backend.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_vk.h"
#include "th_gfxscene.h"

#define W 160u
#define H 120u

static const float eye[3] = { 0, 1.7f, 1.2f }, target[3] = { 0.3f, 0.8f, -0.6f };
static const float at_a[3] = { 0, 1, -0.5f }, at_b[3] = { 0.6f, 1, -0.6f };
#define CUBE 0.25f

struct fx {
	struct gs s;
	uint64_t ea, ma, eb, mb;
	struct app_avatars *av;
	struct gfx_list l;
	struct gfx_backend *b;
	struct gfx_vk *vk;
	struct gfx_draw *d;
	struct gfx_view cam;
	uint8_t px[W * H * 4];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(gs_init(&f->s), 0);
	assert_int_equal(gs_cube(&f->s, &f->s.a, at_a, CUBE, &f->ea, &f->ma), 0);
	assert_int_equal(gs_cube(&f->s, &f->s.b, at_b, CUBE, &f->eb, &f->mb), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	assert_int_equal(app_avatars_create(&f->av), 0);
	gfx_list_init(&f->l);
	assert_int_equal(gfx_headless_create(&(struct gfx_headless_config){ .width = W, .height = H }, &f->b), 0);
	struct gfx_vk_config vc = { .validation = true };
	assert_int_equal(f->b->ops->vk_config(f->b, &vc), 0);
	assert_int_equal(gfx_vk_create(&vc, &f->vk), 0);
	VkFormat fmt = VK_FORMAT_UNDEFINED;
	bool srgb = false;
	assert_int_equal(f->b->ops->attach(f->b, f->vk, &fmt, &srgb), 0);
	assert_int_equal(gfx_draw_create(f->vk, &(struct gfx_draw_config){ .color_format = fmt, .srgb_target = srgb },
					 &f->d), 0);
	gfx_mat4_look_at(f->cam.view, eye, target);
	gfx_mat4_perspective(f->cam.proj, 1.0f, (float)W / (float)H, 0.05f, 50.0f);
	memcpy(f->cam.eye, eye, sizeof f->cam.eye);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	gfx_draw_destroy(&f->d);
	f->b->ops->detach(f->b);
	uint64_t msgs = f->vk->validation_messages;
	gfx_vk_destroy(&f->vk);
	f->b->ops->destroy(f->b);
	gfx_list_fini(&f->l);
	app_avatars_destroy(&f->av);
	gs_fini(&f->s);
	free(f);
	assert_int_equal(msgs, 0);
	return 0;
}

/* The list built and drawn, the pixels read back into f->px. */
static void draw(struct fx *f, bool grid)
{
	struct gfx_list_input in = { .w = f->s.w, .scene = f->s.scene, .avatars = f->av, .grid = grid };
	assert_int_equal(gfx_list_build(&f->l, &in), 0);
	struct gfx_frame fr;
	assert_int_equal(f->b->ops->begin_frame(f->b, &f->cam, &fr), 0);
	VkCommandBuffer cmd;
	assert_int_equal(gfx_draw_begin(f->d, &cmd), 0);
	assert_int_equal(gfx_draw_prepare(f->d, cmd, &f->l), 0);
	for (uint32_t v = 0; v < fr.nviews; v++)
		assert_int_equal(gfx_draw_record(f->d, cmd, &f->l, &fr.target[v], &fr.view[v], v), 0);
	f->b->ops->after_record(f->b, cmd, &fr);
	assert_int_equal(gfx_draw_submit(f->d, cmd, fr.wait, fr.wait_stage, fr.signal), 0);
	assert_int_equal(f->b->ops->end_frame(f->b, &fr, gfx_draw_last_fence(f->d)), 0);
	uint32_t w = 0, h = 0;
	const uint8_t *p = gfx_headless_pixels(f->b, &w, &h);
	assert_non_null(p);
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	memcpy(f->px, p, sizeof f->px);
	assert_int_equal(f->vk->validation_messages, 0);
}

/* Where world point p lands (pixel column, row). */
static void project(const struct fx *f, const float p[3], int *x, int *y)
{
	float vp[16], c[3];
	gfx_mat4_mul(vp, f->cam.proj, f->cam.view);
	gfx_mat4_apply_point(vp, p, c);
	*x = (int)((c[0] * 0.5f + 0.5f) * (float)W);
	*y = (int)((c[1] * 0.5f + 0.5f) * (float)H);
	assert_true(*x >= 1 && *x < (int)W - 1 && *y >= 1 && *y < (int)H - 1);
}

static const uint8_t *pixel(const uint8_t *px, int x, int y)
{
	return px + ((size_t)y * W + (size_t)x) * 4;
}

/* The pixel at p before and now: how much each channel moved. */
static void change_at(const struct fx *f, const uint8_t *before, const float p[3], int d[3])
{
	int x, y;
	project(f, p, &x, &y);
	for (int k = 0; k < 3; k++)
		d[k] = (int)pixel(f->px, x, y)[k] - (int)pixel(before, x, y)[k];
}

/* The pixel at p moved (by more than rounding) towards the linear colour
 * c: the change has a positive component along c (as sRGB) minus where the
 * pixel was. */
static bool moved_towards(const struct fx *f, const uint8_t *before, const float p[3], const float c[3])
{
	int x, y, d[3];
	project(f, p, &x, &y);
	change_at(f, before, p, d);
	float along = 0, len = 0;
	for (int k = 0; k < 3; k++) {
		float s = c[k] <= 0.0031308f ? c[k] * 12.92f : 1.055f * powf(c[k], 1 / 2.4f) - 0.055f;
		along += (float)d[k] * (s * 255 - (float)pixel(before, x, y)[k]);
		len += (float)(d[k] * d[k]);
	}
	return along > 0 && len > 64;
}

static int largest(const float c[3])
{
	return c[0] >= c[1] && c[0] >= c[2] ? 0 : c[1] >= c[2] ? 1 : 2;
}

static void selections_change_their_pixels_towards_the_owner(void **state)
{
	struct fx *f = *state;
	static uint8_t plain[W * H * 4];
	draw(f, false);
	memcpy(plain, f->px, sizeof plain);
	const float top_a[3] = { at_a[0], at_a[1] + CUBE / 2, at_a[2] }, top_b[3] = { at_b[0], at_b[1] + CUBE / 2, at_b[2] };
	int x, y;
	project(f, top_a, &x, &y);
	/* The cube is there: not the background of the corner. */
	assert_memory_not_equal(pixel(plain, x, y), pixel(plain, 1, 1), 3);

	/* b selects cube a whole. */
	assert_int_equal(gs_select(&f->s, &f->s.b, f->ea, TH_SELECT_OBJECT, TH_SELECT_WHOLE), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	draw(f, false);
	float cb[4];
	gfx_owner_color(gs_owner(&f->s.b), cb);
	int d[3];
	assert_true(moved_towards(f, plain, top_a, cb));
	change_at(f, plain, top_b, d);
	assert_true(abs(d[0]) + abs(d[1]) + abs(d[2]) == 0); /* cube b untouched */
	assert_memory_equal(pixel(f->px, 1, 1), pixel(plain, 1, 1), 4);

	/* a selects cube b's top face instead of nothing. */
	const struct th_mesh *mb = app_scene_mesh(f->s.scene, f->mb);
	uint64_t top = 0;
	for (uint32_t i = 0; i < mb->nfaces && !top; i++) {
		float n[3], c[3];
		if (mb->faces[i].id && th_mesh_face_normal(mb, (int32_t)i, n, c) == 0 && n[1] > 0.99f)
			top = mb->faces[i].id;
	}
	assert_true(top != 0);
	assert_int_equal(gs_select(&f->s, &f->s.a, f->eb, TH_SELECT_FACE, top), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	draw(f, false);
	float ca[4];
	gfx_owner_color(gs_owner(&f->s.a), ca);
	assert_true(moved_towards(f, plain, top_b, ca));
	project(f, top_b, &x, &y);
	const uint8_t *q = pixel(f->px, x, y);
	float now[3] = { q[0], q[1], q[2] };
	assert_int_equal(largest(now), largest(ca)); /* it reads as a's hue */
	/* The side of cube b below it is not marked. */
	const float side_b[3] = { at_b[0], at_b[1], at_b[2] + CUBE / 2 };
	change_at(f, plain, side_b, d);
	assert_true(abs(d[0]) + abs(d[1]) + abs(d[2]) == 0);
}

static void avatars_and_the_grid_show(void **state)
{
	struct fx *f = *state;
	draw(f, false);
	static uint8_t plain[W * H * 4];
	memcpy(plain, f->px, sizeof plain);
	/* Another user's head, left of the cubes, looking at the camera. */
	uint64_t who = gs_owner(&f->s.b);
	const float head[3] = { -0.45f, 1.3f, -0.6f };
	struct proto_ipc_pose_update p = { .entity = who, .t_ns = 1, .px = head[0], .py = head[1], .pz = head[2],
					   .qy = 1, .qw = 0, .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
	assert_int_equal(app_avatars_on_pose(f->av, &p, 1), 0);
	app_avatars_frame(f->av, 2);
	draw(f, true);
	float c[4];
	gfx_owner_color(who, c);
	int x, y;
	/* A point on the head box's upper side, off the visor. */
	const float on_head[3] = { head[0] - 0.06f, head[1] + 0.08f, head[2] + 0.1f };
	project(f, on_head, &x, &y);
	const uint8_t *q = pixel(f->px, x, y);
	float got[3] = { q[0], q[1], q[2] };
	assert_int_equal(largest(got), largest(c));
	assert_memory_not_equal(q, pixel(plain, x, y), 3);

	/* The grid's x axis line on the floor, 1 m right of the origin:
	 * some pixel next to where it projects is red. */
	const float on_x[3] = { 1, 0, 0 };
	project(f, on_x, &x, &y);
	bool red = false;
	for (int dy = -1; dy <= 1; dy++)
		for (int dx = -1; dx <= 1; dx++) {
			const uint8_t *r = pixel(f->px, x + dx, y + dy);
			red |= r[0] > r[1] + 40 && r[0] > r[2] + 40;
		}
	assert_true(red);
}

/* Some pixel within r of where p projects reads as hue c (its largest
 * channel c's) and is not what it was before. */
static bool hue_near(const struct fx *f, const uint8_t *before, const float p[3], const float c[3], int r)
{
	int x, y;
	project(f, p, &x, &y);
	for (int dy = -r; dy <= r; dy++)
		for (int dx = -r; dx <= r; dx++) {
			int px = x + dx, py = y + dy;
			if (px < 0 || py < 0 || px >= (int)W || py >= (int)H)
				continue;
			const uint8_t *q = pixel(f->px, px, py);
			float got[3] = { q[0], q[1], q[2] };
			if (largest(got) == largest(c) && memcmp(q, pixel(before, px, py), 3) != 0)
				return true;
		}
	return false;
}

static void send_presence(struct fx *f, uint64_t who, uint64_t t, uint32_t flags, const float cursor[3],
			  const float ghost_at[3])
{
	struct proto_ipc_presence pr = { .entity = who, .t_ns = t, .flags = flags, .tool = 2 /* move */,
					 .cx = cursor[0], .cy = cursor[1], .cz = cursor[2], .target = f->ea,
					 .tx = ghost_at[0], .ty = ghost_at[1], .tz = ghost_at[2], .rw = 1 };
	assert_int_equal(app_avatars_on_presence(f->av, &pr, t), 0);
	app_avatars_frame(f->av, t);
}

/* Another user's presence: the cursor in the move tool's blue, cube a
 * again where their drag has it as a ghost (edges and corners in their
 * colour, its faces not filled), a crown over their head while they speak;
 * each gone when its flag is cleared. */
static void others_cursor_ghost_and_speaking_show(void **state)
{
	struct fx *f = *state;
	static uint8_t with_head[W * H * 4];
	uint64_t who = gs_owner(&f->s.b);
	/* The head a metre in front of the camera, the cursor half a metre. */
	float dir[3], len = 0;
	for (int k = 0; k < 3; k++)
		len += (target[k] - eye[k]) * (target[k] - eye[k]);
	for (int k = 0; k < 3; k++)
		dir[k] = (target[k] - eye[k]) / sqrtf(len);
	float head[3], cursor[3];
	for (int k = 0; k < 3; k++) {
		head[k] = eye[k] + 1.0f * dir[k];
		cursor[k] = eye[k] + 0.5f * dir[k] + (k == 0 ? 0.1f : k == 1 ? -0.12f : 0);
	}
	head[1] -= 0.25f;
	struct proto_ipc_pose_update hp = { .entity = who, .t_ns = 1, .px = head[0], .py = head[1], .pz = head[2],
					    .qw = 1, .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
	assert_int_equal(app_avatars_on_pose(f->av, &hp, 1), 0);
	app_avatars_frame(f->av, 2);
	draw(f, false);
	memcpy(with_head, f->px, sizeof with_head);

	const float ghost_at[3] = { -0.4f, 1.25f, -0.5f };
	const float h = CUBE / 2;
	send_presence(f, who, 3, PROTO_IPC_PRES_F_CURSOR | PROTO_IPC_PRES_F_PREVIEW | PROTO_IPC_PRES_F_SPEAKING, cursor,
		      ghost_at);
	draw(f, false);
	static const float move_rgb[3] = { 0.1f, 0.6f, 1.0f };
	assert_true(hue_near(f, with_head, cursor, move_rgb, 0));
	/* The ghost: a corner and the middle of a top edge in the owner's hue;
	 * the middle of its front face not filled; cube a itself unmoved. */
	float oc[4];
	gfx_owner_color(who, oc);
	const float corner[3] = { ghost_at[0] + h, ghost_at[1] + h, ghost_at[2] + h };
	const float edge[3] = { ghost_at[0], ghost_at[1] + h, ghost_at[2] + h };
	const float face[3] = { ghost_at[0], ghost_at[1], ghost_at[2] + h };
	assert_true(hue_near(f, with_head, corner, oc, 1));
	assert_true(hue_near(f, with_head, edge, oc, 1));
	int d[3];
	change_at(f, with_head, face, d);
	assert_true(abs(d[0]) + abs(d[1]) + abs(d[2]) == 0);
	const float top_a[3] = { at_a[0], at_a[1] + h, at_a[2] };
	change_at(f, with_head, top_a, d);
	assert_true(abs(d[0]) + abs(d[1]) + abs(d[2]) == 0);
	/* The crown: one of its two dots nearest the camera (72 degrees round
	 * its ring of ten, 13 cm), over the head. */
	const float a72 = 2.0f * (float)M_PI / 5;
	const float crown[3] = { head[0] + 0.13f * cosf(a72), head[1] + 0.2f, head[2] + 0.13f * sinf(a72) };
	int x, y;
	project(f, crown, &x, &y);
	bool warm = false;
	for (int dy = -2; dy <= 2; dy++)
		for (int dx = -2; dx <= 2; dx++) {
			const uint8_t *q = pixel(f->px, x + dx, y + dy);
			warm |= q[0] > 150 && q[1] > 150 && q[0] > q[2] + 30 &&
				memcmp(q, pixel(with_head, x + dx, y + dy), 3) != 0; /* a warm white, new */
		}
	assert_true(warm);

	/* Each ends with its flag: the drag released, the speech over, the
	 * cursor gone: the frame is the one with the head alone. */
	send_presence(f, who, 4, PROTO_IPC_PRES_F_CURSOR, cursor, ghost_at);
	draw(f, false);
	change_at(f, with_head, corner, d);
	assert_true(abs(d[0]) + abs(d[1]) + abs(d[2]) == 0);
	change_at(f, with_head, crown, d);
	assert_true(abs(d[0]) + abs(d[1]) + abs(d[2]) == 0);
	assert_true(hue_near(f, with_head, cursor, move_rgb, 0));
	send_presence(f, who, 5, 0, cursor, ghost_at);
	draw(f, false);
	assert_memory_equal(f->px, with_head, sizeof with_head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(selections_change_their_pixels_towards_the_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(avatars_and_the_grid_show, setup, teardown),
		cmocka_unit_test_setup_teardown(others_cursor_ghost_and_speaking_show, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
