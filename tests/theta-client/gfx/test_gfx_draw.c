/* gfx_draw on lavapipe with the Khronos validation layer: a unit cube
 * (tests/lib/th_meshfix.h: faces of materials 0..5) drawn into an
 * offscreen image and read back, checked at known pixels: the background
 * is the clear colour, face centres have their material's colour shaded
 * as gfx_draw_shade says, flat faces are even and smooth ones are not,
 * tints, marked faces / edges / vertices, the wire of edit modes, the
 * overlay; incremental uploads of a mesh edit, two views, eviction, a
 * UNORM target encoding sRGB itself. Every case ends with no validation
 * message. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_mesh.h"
#include "gfx/gfx_readback.h"
#include "gfx/gfx_vk.h"
#include "th_meshfix.h"

#define W 160u
#define H 120u
#define CUBE_KEY 77u

struct rt {
	struct gfx_image img;
	struct gfx_buffer rb;
	VkFormat format;
};

struct ctx {
	struct gfx_vk *vk;
	struct gfx_draw *d;
	struct rt rt[2];
	struct th_mesh cube;
	struct gfx_list l;
	struct gfx_inst inst[4];
	struct gfx_mark mark[8];
	struct gfx_overlay_vertex tri[6], line[4];
	struct gfx_view view;
	uint8_t px[W * H * 4];
};

static const float clear_color[4] = { 0.05f, 0.10f, 0.20f, 1.0f };
static const float eye_pos[3] = { 2.2f, 1.8f, 2.6f };

static int rt_create(struct gfx_vk *vk, VkFormat f, struct rt *rt)
{
	rt->format = f;
	int r = gfx_image_create(vk, (VkExtent2D){ W, H }, f,
				 VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
				 VK_IMAGE_ASPECT_COLOR_BIT, &rt->img);
	if (r == 0)
		r = gfx_buffer_create(vk, W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true, &rt->rb);
	return r;
}

static void rt_destroy(struct gfx_vk *vk, struct rt *rt)
{
	gfx_image_destroy(vk, &rt->img);
	gfx_buffer_destroy(vk, &rt->rb);
}

static void camera(struct gfx_view *v, const float eye[3])
{
	const float target[3] = { 0, 0, 0 };
	gfx_mat4_look_at(v->view, eye, target);
	gfx_mat4_perspective(v->proj, 0.9f, (float)W / (float)H, 0.05f, 50.0f);
	memcpy(v->eye, eye, sizeof v->eye);
}

/* The cube centred on the origin (the fixture's is [0, 1]^3). */
static void cube_inst(struct gfx_inst *in, const struct th_mesh *m)
{
	memset(in, 0, sizeof *in);
	in->entity = 1;
	in->mesh_key = CUBE_KEY;
	in->mesh = m;
	const float t[3] = { -0.5f, -0.5f, -0.5f }, q[4] = { 0, 0, 0, 1 };
	gfx_mat4_trs(in->model, t, q, NULL);
	in->material = 7;
}

static void list_reset(struct ctx *c)
{
	struct gfx_list *l = &c->l;
	memset(l, 0, sizeof *l);
	l->inst = c->inst;
	l->mark = c->mark;
	l->tri = c->tri;
	l->line = c->line;
	memcpy(l->clear, clear_color, sizeof l->clear);
	/* Material k: a distinct colour per cube face. */
	static const float mat[8][4] = {
		{ 0.8f, 0.2f, 0.2f, 1 }, { 0.2f, 0.8f, 0.2f, 1 }, { 0.2f, 0.2f, 0.8f, 1 }, { 0.8f, 0.8f, 0.2f, 1 },
		{ 0.2f, 0.8f, 0.8f, 1 }, { 0.8f, 0.6f, 0.4f, 1 }, { 0.5f, 0.5f, 0.5f, 1 }, { 0.6f, 0.3f, 0.7f, 1 },
	};
	memcpy(l->material, mat, sizeof mat);
	cube_inst(&c->inst[0], &c->cube);
	l->ninst = 1;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	if (gfx_vk_create(&(struct gfx_vk_config){ .validation = true }, &c->vk) < 0)
		return -1;
	if (gfx_draw_create(c->vk, &(struct gfx_draw_config){ .color_format = VK_FORMAT_R8G8B8A8_SRGB,
							      .srgb_target = true }, &c->d) < 0)
		return -1;
	if (rt_create(c->vk, VK_FORMAT_R8G8B8A8_SRGB, &c->rt[0]) < 0 ||
	    rt_create(c->vk, VK_FORMAT_R8G8B8A8_SRGB, &c->rt[1]) < 0)
		return -1;
	mf_build_cube(&c->cube, NULL, 6);
	camera(&c->view, eye_pos);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	gfx_draw_destroy(&c->d);
	rt_destroy(c->vk, &c->rt[0]);
	rt_destroy(c->vk, &c->rt[1]);
	th_mesh_fini(&c->cube);
	gfx_vk_destroy(&c->vk);
	free(c);
	return 0;
}

static int case_setup(void **state)
{
	struct ctx *c = *state;
	list_reset(c);
	camera(&c->view, eye_pos);
	return 0;
}

static int case_teardown(void **state)
{
	struct ctx *c = *state;
	if (c->vk->validation_messages != 0) {
		fprintf(stderr, "validation messages: %llu\n", (unsigned long long)c->vk->validation_messages);
		return -1;
	}
	return 0;
}

/* Records views[0..n) of l into c->rt[0..n), copies them back, submits and
 * waits; the pixels of rt[0] land in c->px. */
static void render_views(struct ctx *c, struct gfx_draw *d, struct rt *rts, const struct gfx_view *views,
			 unsigned n)
{
	VkCommandBuffer cmd;
	assert_int_equal(gfx_draw_begin(d, &cmd), 0);
	assert_int_equal(gfx_draw_prepare(d, cmd, &c->l), 0);
	for (unsigned i = 0; i < n; i++) {
		struct gfx_target t = {
			.image = rts[i].img.image,
			.view = rts[i].img.view,
			.extent = { W, H },
			.format = rts[i].format,
			.initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
			.final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
		};
		assert_int_equal(gfx_draw_record(d, cmd, &c->l, &t, &views[i], i), 0);
		gfx_readback_copy(cmd, rts[i].img.image, (VkExtent2D){ W, H }, rts[i].rb.buf, 0, 0);
		gfx_readback_host_barrier(cmd, rts[i].rb.buf);
	}
	assert_int_equal(gfx_draw_submit(d, cmd, VK_NULL_HANDLE, 0, VK_NULL_HANDLE), 0);
	VkFence f = gfx_draw_last_fence(d);
	assert_int_equal(vkWaitForFences(c->vk->device, 1, &f, VK_TRUE, UINT64_MAX), VK_SUCCESS);
	memcpy(c->px, rts[0].rb.map, sizeof c->px);
}

static void render(struct ctx *c)
{
	render_views(c, c->d, c->rt, &c->view, 1);
}

/* ---- expectations ---------------------------------------------------------- */

static uint8_t enc8(float lin)
{
	float c = lin <= 0 ? 0 : lin >= 1 ? 1 : lin;
	float s = c <= 0.0031308f ? c * 12.92f : 1.055f * powf(c, 1.0f / 2.4f) - 0.055f;
	return (uint8_t)(s * 255.0f + 0.5f);
}

/* Where world point p lands (pixel centre coordinates). */
static void project(const struct gfx_view *v, const float p[3], int *x, int *y)
{
	float vp[16], ndc[3];
	gfx_mat4_mul(vp, v->proj, v->view);
	gfx_mat4_apply_point(vp, p, ndc);
	*x = (int)floorf((ndc[0] * 0.5f + 0.5f) * (float)W);
	*y = (int)floorf((ndc[1] * 0.5f + 0.5f) * (float)H);
}

static const uint8_t *pixel(const struct ctx *c, int x, int y)
{
	assert_true(x >= 0 && x < (int)W && y >= 0 && y < (int)H);
	return &c->px[((size_t)y * W + (size_t)x) * 4];
}

static void expect_rgb(const struct ctx *c, int x, int y, const float lin[3], int tol, const char *what)
{
	const uint8_t *p = pixel(c, x, y);
	for (int i = 0; i < 3; i++) {
		int want = enc8(lin[i]);
		if (abs((int)p[i] - want) > tol)
			fail_msg("%s at (%d, %d): got %u %u %u, want %u %u %u (+-%d)", what, x, y, p[0], p[1], p[2],
				 enc8(lin[0]), enc8(lin[1]), enc8(lin[2]), tol);
	}
}

/* Some pixel within r of (x, y) is within tol of lin. */
static void expect_near(const struct ctx *c, int x, int y, int r, const float lin[3], int tol, const char *what)
{
	for (int dy = -r; dy <= r; dy++)
		for (int dx = -r; dx <= r; dx++) {
			int px = x + dx, py = y + dy;
			if (px < 0 || py < 0 || px >= (int)W || py >= (int)H)
				continue;
			const uint8_t *p = pixel(c, px, py);
			bool ok = true;
			for (int i = 0; i < 3; i++)
				ok = ok && abs((int)p[i] - enc8(lin[i])) <= tol;
			if (ok)
				return;
		}
	fail_msg("%s: no pixel near (%d, %d) is %u %u %u", what, x, y, enc8(lin[0]), enc8(lin[1]), enc8(lin[2]));
}

/* Face f of the fixture cube (in world space, the cube centred): its
 * centre, a point off-centre and its outward normal. */
struct face_geo {
	float centre[3], off[3], n[3];
};
static struct face_geo face_geo(unsigned f, float u, float v)
{
	struct face_geo g = { 0 };
	float p[4][3];
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 3; i++)
			p[k][i] = mf_cube_pos[mf_cube_faces[f][k] - 1][i] - 0.5f;
	for (int i = 0; i < 3; i++) {
		g.centre[i] = (p[0][i] + p[1][i] + p[2][i] + p[3][i]) / 4;
		/* bilinear at (u, v) of the loop's corners */
		g.off[i] = (1 - u) * (1 - v) * p[0][i] + u * (1 - v) * p[1][i] + u * v * p[2][i] + (1 - u) * v * p[3][i];
		g.n[i] = g.centre[i] * 2; /* a unit cube centred: the centre is half the normal */
	}
	return g;
}

/* The fixture's faces the camera at eye_pos sees: +z (1), +y (3), +x (5). */
static const unsigned seen_faces[3] = { 1, 3, 5 };

static void shaded(const struct ctx *c, unsigned material, const float n[3], float out[3])
{
	gfx_draw_shade(c->l.material[material], n, out);
}

/* ---- cases ----------------------------------------------------------------- */

static void background_is_the_clear_colour(void **state)
{
	struct ctx *c = *state;
	render(c);
	expect_rgb(c, 2, 2, clear_color, 1, "corner");
	expect_rgb(c, W - 3, H - 3, clear_color, 1, "other corner");
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.draws, 1); /* one indexed draw for the instance */
	assert_int_equal(st.triangles, 12);
	assert_true(st.meshes >= 1);
}

static void flat_faces_have_their_material_shaded_evenly(void **state)
{
	struct ctx *c = *state;
	render(c);
	for (unsigned k = 0; k < 3; k++) {
		unsigned f = seen_faces[k];
		struct face_geo g = face_geo(f, 0.2f, 0.3f);
		float want[3];
		shaded(c, f, g.n, want);
		int x, y;
		project(&c->view, g.centre, &x, &y);
		expect_rgb(c, x, y, want, 3, "face centre");
		project(&c->view, g.off, &x, &y);
		expect_rgb(c, x, y, want, 3, "off-centre point of a flat face");
	}
	/* The lighting model tells the faces apart: above is brighter. */
	float top[3], side[3];
	struct face_geo gt = face_geo(3, 0.5f, 0.5f), gs = face_geo(5, 0.5f, 0.5f);
	const float grey[3] = { 0.5f, 0.5f, 0.5f };
	gfx_draw_shade(grey, gt.n, top);
	gfx_draw_shade(grey, gs.n, side);
	assert_true(top[0] > side[0]);
	/* And the sides facing +x and +z differ too (a cube's corner reads). */
	struct face_geo gz = face_geo(1, 0.5f, 0.5f);
	float front[3];
	gfx_draw_shade(grey, gz.n, front);
	assert_true(fabsf(front[0] - side[0]) > 0.05f);
}

static void material_zero_faces_use_the_instances_material(void **state)
{
	struct ctx *c = *state;
	/* Face 101 (material 0) faces -z, away from the camera: look from behind. */
	const float behind[3] = { -1.6f, -1.2f, -2.8f };
	camera(&c->view, behind);
	render(c);
	struct face_geo g = face_geo(0, 0.5f, 0.5f);
	float want[3];
	shaded(c, c->inst[0].material, g.n, want);
	int x, y;
	project(&c->view, g.centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "material-0 face");
}

static void turned_and_stretched_instances_are_lit_by_their_turned_normals(void **state)
{
	struct ctx *c = *state;
	/* Turned 70 degrees about y and 40 about x, stretched 1.4 x 0.7 x 1.1
	 * along its own axes, the cube centred first. */
	const float t[3] = { 0.1f, 0.0f, -0.1f }, s[3] = { 1.4f, 0.7f, 1.1f }, centre_t[3] = { -0.5f, -0.5f, -0.5f };
	const float qy[4] = { 0, sinf(0.611f), 0, cosf(0.611f) }, qx[4] = { sinf(0.349f), 0, 0, cosf(0.349f) };
	float q[4] = { /* qy * qx */
		qy[3] * qx[0] + qy[0] * qx[3] + qy[1] * qx[2] - qy[2] * qx[1],
		qy[3] * qx[1] - qy[0] * qx[2] + qy[1] * qx[3] + qy[2] * qx[0],
		qy[3] * qx[2] + qy[0] * qx[1] - qy[1] * qx[0] + qy[2] * qx[3],
		qy[3] * qx[3] - qy[0] * qx[0] - qy[1] * qx[1] - qy[2] * qx[2],
	};
	const float q0[4] = { 0, 0, 0, 1 };
	float trs[16], centre[16], rot[16];
	gfx_mat4_trs(trs, t, q, s);
	gfx_mat4_trs(centre, centre_t, q0, NULL);
	gfx_mat4_mul(c->inst[0].model, trs, centre);
	gfx_mat4_trs(rot, t, q, NULL);
	render(c);
	unsigned checked = 0;
	for (unsigned f = 0; f < 6; f++) {
		struct face_geo g = face_geo(f, 0.5f, 0.5f);
		/* The local face centre (fixture coordinates) to world; its normal
		 * turned by the rotation alone (scaling along the cube's own axes
		 * keeps a face's normal). */
		float local[3] = { g.centre[0] + 0.5f, g.centre[1] + 0.5f, g.centre[2] + 0.5f }, w[3], n[3];
		gfx_mat4_apply_point(c->inst[0].model, local, w);
		for (int r = 0; r < 3; r++)
			n[r] = rot[r] * g.n[0] + rot[4 + r] * g.n[1] + rot[8 + r] * g.n[2];
		float to_eye[3] = { eye_pos[0] - w[0], eye_pos[1] - w[1], eye_pos[2] - w[2] };
		float len = sqrtf(to_eye[0] * to_eye[0] + to_eye[1] * to_eye[1] + to_eye[2] * to_eye[2]);
		if ((n[0] * to_eye[0] + n[1] * to_eye[1] + n[2] * to_eye[2]) / len < 0.3f)
			continue; /* seen edge on or from behind */
		float want[3];
		shaded(c, f, n, want);
		int x, y;
		project(&c->view, w, &x, &y);
		expect_rgb(c, x, y, want, 3, "face of the turned cube");
		checked++;
	}
	assert_true(checked >= 2);
}

static void open_mesh_is_lit_alike_from_behind(void **state)
{
	struct ctx *c = *state;
	/* Only the fixture's first face: z = 0, facing -z, material 0. The
	 * camera at +z sees its back, lit as if it faced the camera. */
	struct th_mesh m;
	mf_build_cube(&m, NULL, 1);
	c->inst[0].mesh = &m;
	c->inst[0].mesh_key = CUBE_KEY + 2;
	render(c);
	const float centre[3] = { 0, 0, -0.5f }, toward[3] = { 0, 0, 1 };
	float want[3];
	shaded(c, c->inst[0].material, toward, want);
	int x, y;
	project(&c->view, centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "the back of an open face");
	c->inst[0].mesh = &c->cube;
	th_mesh_fini(&m);
}

static void smooth_shading_varies_across_a_face(void **state)
{
	struct ctx *c = *state;
	c->inst[0].smooth = true;
	render(c);
	struct face_geo a = face_geo(5, 0.15f, 0.15f), b = face_geo(5, 0.85f, 0.85f);
	int xa, ya, xb, yb;
	project(&c->view, a.off, &xa, &ya);
	project(&c->view, b.off, &xb, &yb);
	const uint8_t *pa = pixel(c, xa, ya), *pb = pixel(c, xb, yb);
	int diff = 0;
	for (int i = 0; i < 3; i++)
		diff += abs((int)pa[i] - (int)pb[i]);
	if (diff < 12)
		fail_msg("smooth face: (%d, %d) %u %u %u vs (%d, %d) %u %u %u", xa, ya, pa[0], pa[1], pa[2], xb, yb,
			 pb[0], pb[1], pb[2]);
	/* Still the face's material hue, not the background. */
	assert_true(pa[0] > pa[2] && pb[0] > pb[2]); /* material 5 is orange */
}

static void tint_blends_the_whole_object(void **state)
{
	struct ctx *c = *state;
	const float red[4] = { 1, 0, 0, 0.5f };
	memcpy(c->inst[0].tint, red, sizeof red);
	render(c);
	struct face_geo g = face_geo(3, 0.5f, 0.5f);
	float s[3], want[3];
	shaded(c, 3, g.n, s);
	for (int i = 0; i < 3; i++)
		want[i] = s[i] * 0.5f + red[i] * 0.5f;
	int x, y;
	project(&c->view, g.centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "tinted face");
}

static void marked_face_has_the_mark_colour(void **state)
{
	struct ctx *c = *state;
	c->mark[0] = (struct gfx_mark){ .inst = 0, .kind = GFX_MARK_FACE, .element = 102, .color = { 0, 1, 0, 1 } };
	c->mark[1] = (struct gfx_mark){ .inst = 0, .kind = GFX_MARK_FACE, .element = 106, .color = { 1, 1, 1, 0.5f } };
	c->mark[2] = (struct gfx_mark){ .inst = 0, .kind = GFX_MARK_FACE, .element = 999, .color = { 1, 0, 0, 1 } };
	c->l.nmark = 3;
	render(c);
	int x, y;
	struct face_geo g = face_geo(1, 0.5f, 0.5f); /* face 102 */
	project(&c->view, g.centre, &x, &y);
	const float green[3] = { 0, 1, 0 };
	expect_rgb(c, x, y, green, 1, "marked face");
	g = face_geo(1, 0.1f, 0.1f);
	project(&c->view, g.off, &x, &y);
	expect_rgb(c, x, y, green, 1, "marked face near a corner");
	/* Half-transparent white over face 106 (material 5). */
	g = face_geo(5, 0.5f, 0.5f);
	float s[3], want[3];
	shaded(c, 5, g.n, s);
	for (int i = 0; i < 3; i++)
		want[i] = s[i] * 0.5f + 0.5f;
	project(&c->view, g.centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "half-marked face");
	/* The unmarked face keeps its shading; a missing face marks nothing. */
	g = face_geo(3, 0.5f, 0.5f);
	shaded(c, 3, g.n, s);
	project(&c->view, g.centre, &x, &y);
	expect_rgb(c, x, y, s, 3, "unmarked face");
}

static void marked_edge_and_vertex_are_drawn_over_the_faces(void **state)
{
	struct ctx *c = *state;
	/* Vertex 7 is (1, 1, 1): the corner nearest the camera. Edge 6-7 runs
	 * along +x +z, between the two faces the camera sees on the right. */
	c->mark[0] = (struct gfx_mark){ .inst = 0, .kind = GFX_MARK_VERTEX, .element = 7, .color = { 1, 0, 1, 1 } };
	c->mark[1] = (struct gfx_mark){ .inst = 0, .kind = GFX_MARK_EDGE, .a = 6, .b = 7, .color = { 0, 1, 1, 1 } };
	c->l.nmark = 2;
	render(c);
	const float p7[3] = { 0.5f, 0.5f, 0.5f }, mid67[3] = { 0.5f, 0.0f, 0.5f };
	const float magenta[3] = { 1, 0, 1 }, cyan[3] = { 0, 1, 1 };
	int x, y;
	project(&c->view, p7, &x, &y);
	expect_rgb(c, x, y, magenta, 1, "marked vertex");
	project(&c->view, mid67, &x, &y);
	expect_near(c, x, y, 1, cyan, 1, "marked edge");
	/* The mark is thick: a pixel beside the edge centre is covered too. */
	const uint8_t *p = pixel(c, x, y);
	assert_true(p[1] > 200 && p[2] > 200);
}

static void wire_draws_edges_and_vertices(void **state)
{
	struct ctx *c = *state;
	c->inst[0].wire = true;
	render(c);
	const float near_black[3] = { 0.02f, 0.02f, 0.02f };
	const float orange[3] = { 0.95f, 0.55f, 0.05f };
	int x, y;
	/* Vertex 6 at (1, 0, 1): a visible corner. */
	const float p6[3] = { 0.5f, -0.5f, 0.5f }, mid67[3] = { 0.5f, 0.0f, 0.5f };
	project(&c->view, p6, &x, &y);
	expect_rgb(c, x, y, orange, 2, "wire vertex");
	project(&c->view, mid67, &x, &y);
	expect_near(c, x, y, 1, near_black, 4, "wire edge");
	/* A hidden edge (1-4, at the back) stays hidden: pulled toward the eye
	 * by a fraction of its distance, not through the cube. */
	const float mid14[3] = { -0.5f, 0.0f, -0.5f };
	project(&c->view, mid14, &x, &y);
	for (int dy = -1; dy <= 1; dy++)
		for (int dx = -1; dx <= 1; dx++) {
			const uint8_t *q = pixel(c, x + dx, y + dy);
			if (q[0] < 40 && q[1] < 40 && q[2] < 40)
				fail_msg("a hidden wire edge shows at (%d, %d)", x + dx, y + dy);
		}
	/* Away from edges the face shows. */
	struct face_geo g = face_geo(5, 0.5f, 0.5f);
	float s[3];
	shaded(c, 5, g.n, s);
	project(&c->view, g.centre, &x, &y);
	expect_rgb(c, x, y, s, 3, "face inside the wire");
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.draws, 3); /* triangles, edges, vertices */
}

static void overlay_triangles_and_lines(void **state)
{
	struct ctx *c = *state;
	/* A triangle facing +z in front of the cube's +z side, and a line in
	 * the empty sky above the cube. */
	uint32_t yellow = gfx_rgba8(1.0f, 1.0f, 0.0f, 1.0f), white = gfx_rgba8(1, 1, 1, 1);
	const float t[3][3] = { { -0.3f, -0.3f, 1.0f }, { 0.3f, -0.3f, 1.0f }, { 0.0f, 0.3f, 1.0f } };
	for (int k = 0; k < 3; k++) {
		memcpy(c->tri[k].pos, t[k], sizeof t[k]);
		c->tri[k].rgba = yellow;
	}
	c->l.ntri = 3;
	const float la[3] = { -1.5f, 1.2f, 0 }, lb[3] = { 1.5f, 1.2f, 0 };
	memcpy(c->line[0].pos, la, sizeof la);
	memcpy(c->line[1].pos, lb, sizeof lb);
	c->line[0].rgba = c->line[1].rgba = white;
	c->l.nline = 2;
	render(c);
	const float centroid[3] = { 0, -0.1f, 1.0f }, n[3] = { 0, 0, 1 };
	const float ylin[3] = { 1, 1, 0 }, wlin[3] = { 1, 1, 1 };
	float want[3];
	gfx_draw_shade(ylin, n, want);
	int x, y;
	project(&c->view, centroid, &x, &y);
	expect_rgb(c, x, y, want, 3, "overlay triangle");
	const float lm[3] = { 0, 1.2f, 0 };
	project(&c->view, lm, &x, &y);
	expect_near(c, x, y, 1, wlin, 2, "overlay line");
}

static void a_line_running_behind_the_eye_is_clipped_not_lost(void **state)
{
	struct ctx *c = *state;
	/* A floor line beside the cube from far in front of the camera to far
	 * behind it (as the grid's lines run under the viewer): the part near
	 * the camera still shows. */
	uint32_t white = gfx_rgba8(1, 1, 1, 1);
	const float a[3] = { 1.0f, -0.5f, -10.0f }, b[3] = { 1.0f, -0.5f, 10.0f };
	memcpy(c->line[0].pos, a, sizeof a);
	memcpy(c->line[1].pos, b, sizeof b);
	c->line[0].rgba = c->line[1].rgba = white;
	c->l.nline = 2;
	render(c);
	const float wlin[3] = { 1, 1, 1 };
	unsigned seen = 0;
	for (int k = 0; k < 8; k++) {
		const float p[3] = { 1.0f, -0.5f, 0.6f + 0.2f * (float)k };
		int x, y;
		project(&c->view, p, &x, &y);
		if (x < 1 || y < 1 || x >= (int)W - 1 || y >= (int)H - 1)
			continue;
		expect_near(c, x, y, 1, wlin, 2, "a line running behind the eye");
		seen++;
	}
	assert_true(seen >= 3);
}

static void edit_uploads_only_what_changed(void **state)
{
	struct ctx *c = *state;
	render(c);
	struct gfx_draw_stats before, after;
	gfx_draw_stats(c->d, &before);
	/* Nothing changed: nothing uploaded. */
	render(c);
	gfx_draw_stats(c->d, &after);
	assert_int_equal(after.bytes_uploaded, before.bytes_uploaded);
	/* Paint the +x face (106) with material 2. */
	struct mf_patch *p = mf_patch_new();
	mf_p_material(p, 106, 2);
	const char *why = NULL;
	assert_int_equal(mf_apply(&c->cube, p, NULL, &why), 0);
	free(p);
	render(c);
	gfx_draw_stats(c->d, &after);
	assert_int_equal(after.uploads_incremental, before.uploads_incremental + 1);
	assert_int_equal(after.uploads_full, before.uploads_full);
	uint64_t sent = after.bytes_uploaded - before.bytes_uploaded;
	assert_true(sent > 0 && sent < 24 * sizeof(struct gfx_vertex)); /* less than the whole mesh */
	struct face_geo g = face_geo(5, 0.5f, 0.5f);
	float want[3];
	shaded(c, 2, g.n, want);
	int x, y;
	project(&c->view, g.centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "repainted face");
	/* And back, for the other cases. */
	p = mf_patch_new();
	mf_p_material(p, 106, 5);
	assert_int_equal(mf_apply(&c->cube, p, NULL, &why), 0);
	free(p);
	render(c);
	shaded(c, 5, g.n, want);
	expect_rgb(c, x, y, want, 3, "face painted back");
}

/* Replaces cube face side (fixture index) by a pyramid of material-1
 * triangles to an apex 0.5 out along the face's normal. */
static void add_roof(struct th_mesh *m, unsigned side, uint64_t apex_id, uint64_t first_face)
{
	struct face_geo g = face_geo(side, 0.5f, 0.5f);
	struct mf_patch *p = mf_patch_new();
	mf_p_remove(p, 101 + side);
	unsigned apex = mf_p_vert(p, apex_id, g.centre[0] + 0.5f + g.n[0] * 0.5f, g.centre[1] + 0.5f + g.n[1] * 0.5f,
				  g.centre[2] + 0.5f + g.n[2] * 0.5f);
	mf_p_roof(p, side, first_face, apex);
	const char *why = NULL;
	int r = mf_apply(m, p, NULL, &why);
	free(p);
	if (r < 0)
		fail_msg("roof on side %u: %s", side, why ? why : "?");
}

static void grown_mesh_is_uploaded_and_drawn(void **state)
{
	struct ctx *c = *state;
	struct th_mesh m;
	mf_build_cube(&m, NULL, 6);
	c->inst[0].mesh = &m;
	c->inst[0].mesh_key = CUBE_KEY + 1;
	render(c);
	/* Points inside where the pyramids will be (on +x, +y, +z), seen
	 * beside the cube: background now. */
	static const float inside[3][3] = { { 0.9f, -0.05f, -0.05f }, { -0.05f, 0.9f, -0.05f },
					    { -0.05f, -0.05f, 0.92f } };
	int x, y;
	for (int k = 0; k < 3; k++) {
		project(&c->view, inside[k], &x, &y);
		expect_rgb(c, x, y, clear_color, 1, "beside the cube");
	}
	struct gfx_draw_stats a, b;
	gfx_draw_stats(c->d, &a);
	/* One roof: the new faces are appended, sent as dirty ranges. */
	add_roof(&m, 5, 901, 1001);
	render(c);
	gfx_draw_stats(c->d, &b);
	assert_int_equal(b.uploads_full, a.uploads_full);
	assert_int_equal(b.uploads_incremental, a.uploads_incremental + 1);
	project(&c->view, inside[0], &x, &y);
	const uint8_t *p = pixel(c, x, y);
	if (!(p[1] > p[0] && p[1] > p[2]))
		fail_msg("the pyramid (material 1, green) at (%d, %d): %u %u %u", x, y, p[0], p[1], p[2]);
	/* Two more: past the buffers' first capacity, so they grow and the
	 * whole mesh goes up again, still drawn right. */
	add_roof(&m, 3, 902, 1011);
	add_roof(&m, 1, 903, 1021);
	render(c);
	gfx_draw_stats(c->d, &a);
	assert_int_equal(a.uploads_full, b.uploads_full + 1);
	for (int k = 0; k < 3; k++) {
		project(&c->view, inside[k], &x, &y);
		p = pixel(c, x, y);
		if (!(p[1] > p[0] && p[1] > p[2]))
			fail_msg("pyramid %d (material 1) at (%d, %d): %u %u %u", k, x, y, p[0], p[1], p[2]);
	}
	c->inst[0].mesh = &c->cube;
	th_mesh_fini(&m);
}

static void many_meshes_one_draw_each(void **state)
{
	struct ctx *c = *state;
	/* 12 x 12 small cubes, each under a key of its own (the cache's table
	 * grows past its first size), two of them sharing one key. */
	enum { N = 12 };
	struct gfx_inst *in = calloc(N * N, sizeof *in);
	assert_non_null(in);
	const float q[4] = { 0, 0, 0, 1 }, sc[3] = { 0.1f, 0.1f, 0.1f };
	for (unsigned k = 0; k < N * N; k++) {
		cube_inst(&in[k], &c->cube);
		in[k].mesh_key = 1000 + (k == N * N - 1 ? 0 : k);
		const float t[3] = { -1.2f + 0.2f * (float)(k % N), -0.05f, -1.2f + 0.2f * (float)(k / N) };
		gfx_mat4_trs(in[k].model, t, q, sc);
	}
	c->l.inst = in;
	c->l.ninst = N * N;
	render(c);
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.draws, N * N);
	assert_int_equal(st.triangles, 12 * N * N);
	assert_true(st.meshes >= N * N - 1);
	/* The top of a cube in the middle of the grid (y up: the fixture's back
	 * face, material 3). */
	const unsigned k = N / 2 * N + N / 2;
	const float top[3] = { in[k].model[12] + 0.05f, in[k].model[13] + 0.1f, in[k].model[14] + 0.05f };
	const float up[3] = { 0, 1, 0 };
	float want[3];
	shaded(c, 3, up, want);
	int x, y;
	project(&c->view, top, &x, &y);
	expect_rgb(c, x, y, want, 3, "top of a small cube");
	c->l.inst = c->inst;
	free(in);
}

static void two_views_each_get_their_own_image(void **state)
{
	struct ctx *c = *state;
	struct gfx_view v[2];
	camera(&v[0], eye_pos);
	const float other[3] = { -2.2f, 1.8f, 2.6f }; /* sees -x (face 104) instead of +x */
	camera(&v[1], other);
	render_views(c, c->d, c->rt, v, 2);
	struct face_geo g = face_geo(4, 0.5f, 0.5f);
	float want[3];
	shaded(c, 4, g.n, want);
	memcpy(c->px, c->rt[1].rb.map, sizeof c->px);
	int x, y;
	project(&v[1], g.centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "second view's face");
	g = face_geo(5, 0.5f, 0.5f);
	shaded(c, 5, g.n, want);
	memcpy(c->px, c->rt[0].rb.map, sizeof c->px);
	project(&v[0], g.centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "first view's face");
}

static void a_view_recorded_twice_in_a_frame_is_refused(void **state)
{
	struct ctx *c = *state;
	VkCommandBuffer cmd;
	assert_int_equal(gfx_draw_begin(c->d, &cmd), 0);
	struct gfx_target t = { .image = c->rt[0].img.image, .view = c->rt[0].img.view, .extent = { W, H },
				.format = c->rt[0].format, .initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
				.final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL };
	assert_int_equal(gfx_draw_record(c->d, cmd, &c->l, &t, &c->view, 0), -EINVAL); /* before prepare */
	assert_int_equal(gfx_draw_prepare(c->d, cmd, &c->l), 0);
	/* A target the pipelines were not made for, or of no size: refused,
	 * and the view stays free for a good one. */
	struct gfx_target bad = t;
	bad.format = t.format == VK_FORMAT_R8G8B8A8_UNORM ? VK_FORMAT_B8G8R8A8_UNORM : VK_FORMAT_R8G8B8A8_UNORM;
	assert_int_equal(gfx_draw_record(c->d, cmd, &c->l, &bad, &c->view, 0), -EINVAL);
	bad = t;
	bad.extent.height = 0;
	assert_int_equal(gfx_draw_record(c->d, cmd, &c->l, &bad, &c->view, 0), -EINVAL);
	assert_int_equal(gfx_draw_record(c->d, cmd, &c->l, &t, &c->view, 0), 0);
	assert_int_equal(gfx_draw_record(c->d, cmd, &c->l, &t, &c->view, 0), -EINVAL);
	assert_int_equal(gfx_draw_record(c->d, cmd, &c->l, &t, &c->view, GFX_VIEWS_MAX), -EINVAL);
	assert_int_equal(gfx_draw_submit(c->d, cmd, VK_NULL_HANDLE, 0, VK_NULL_HANDLE), 0);
	assert_int_equal(gfx_draw_submit(c->d, cmd, VK_NULL_HANDLE, 0, VK_NULL_HANDLE), -EINVAL); /* not begun */
}

static void unorm_target_matches_srgb_target(void **state)
{
	struct ctx *c = *state;
	render(c);
	uint8_t *want = malloc(sizeof c->px);
	assert_non_null(want);
	memcpy(want, c->px, sizeof c->px);
	struct gfx_draw *d;
	struct rt rt;
	assert_int_equal(gfx_draw_create(c->vk, &(struct gfx_draw_config){ .color_format = VK_FORMAT_R8G8B8A8_UNORM },
					 &d), 0);
	assert_int_equal(rt_create(c->vk, VK_FORMAT_R8G8B8A8_UNORM, &rt), 0);
	render_views(c, d, &rt, &c->view, 1);
	size_t off = 0;
	for (size_t i = 0; i < sizeof c->px; i++)
		if (abs((int)c->px[i] - (int)want[i]) > 2)
			off++;
	free(want);
	gfx_draw_destroy(&d);
	rt_destroy(c->vk, &rt);
	assert_true(off < sizeof c->px / 200); /* edges may round differently */
}

static void unused_meshes_are_evicted(void **state)
{
	struct ctx *c = *state;
	render(c);
	struct gfx_draw_stats st;
	gfx_draw_stats(c->d, &st);
	assert_true(st.meshes >= 1);
	c->l.ninst = 0;
	for (unsigned i = 0; i <= GFX_DRAW_EVICT_FRAMES + 1; i++) {
		VkCommandBuffer cmd;
		assert_int_equal(gfx_draw_begin(c->d, &cmd), 0);
		assert_int_equal(gfx_draw_prepare(c->d, cmd, &c->l), 0);
		assert_int_equal(gfx_draw_submit(c->d, cmd, VK_NULL_HANDLE, 0, VK_NULL_HANDLE), 0);
	}
	gfx_draw_stats(c->d, &st);
	assert_int_equal(st.meshes, 0);
	/* Drawn again: uploaded again, right. */
	list_reset(c);
	render(c);
	struct face_geo g = face_geo(5, 0.5f, 0.5f);
	float want[3];
	shaded(c, 5, g.n, want);
	int x, y;
	project(&c->view, g.centre, &x, &y);
	expect_rgb(c, x, y, want, 3, "face after eviction");
}

static void device_loss_is_an_error(void **state)
{
	struct ctx *c = *state;
	struct gfx_draw *d;
	assert_int_equal(gfx_draw_create(c->vk, &(struct gfx_draw_config){ .color_format = VK_FORMAT_R8G8B8A8_SRGB,
									 .srgb_target = true }, &d), 0);
	c->vk->lose_after = c->vk->checks + 1; /* the next check reports a loss */
	VkCommandBuffer cmd;
	assert_int_equal(gfx_draw_begin(d, &cmd), -ENODEV);
	assert_true(c->vk->lost);
	c->vk->lose_after = 0;
	c->vk->lost = false;
	gfx_draw_destroy(&d);
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(background_is_the_clear_colour, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(flat_faces_have_their_material_shaded_evenly, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(material_zero_faces_use_the_instances_material, case_setup,
						case_teardown),
		cmocka_unit_test_setup_teardown(turned_and_stretched_instances_are_lit_by_their_turned_normals, case_setup,
						case_teardown),
		cmocka_unit_test_setup_teardown(open_mesh_is_lit_alike_from_behind, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(smooth_shading_varies_across_a_face, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(tint_blends_the_whole_object, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(marked_face_has_the_mark_colour, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(marked_edge_and_vertex_are_drawn_over_the_faces, case_setup,
						case_teardown),
		cmocka_unit_test_setup_teardown(wire_draws_edges_and_vertices, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(overlay_triangles_and_lines, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(a_line_running_behind_the_eye_is_clipped_not_lost, case_setup,
						case_teardown),
		cmocka_unit_test_setup_teardown(edit_uploads_only_what_changed, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(grown_mesh_is_uploaded_and_drawn, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(many_meshes_one_draw_each, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(two_views_each_get_their_own_image, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(a_view_recorded_twice_in_a_frame_is_refused, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(unorm_target_matches_srgb_target, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(unused_meshes_are_evicted, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(device_loss_is_an_error, case_setup, case_teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
