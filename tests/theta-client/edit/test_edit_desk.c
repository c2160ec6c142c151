/* The desktop editor (edit/edit_desk.c) on a real scene and a real editor
 * (edit_fix.h: a folded log, the recording sink): the orbit camera's math
 * (orbit, pan, zoom, clamps, F; a cursor that is no number or past any
 * screen, a window of no size), the camera written as the head, the mouse
 * ray turned into the virtual right controller (aim = the ray; the tip on
 * the face, edge or vertex under the cursor; a miss), drags (a move on the
 * plane facing the camera, extrudes along the face's normal as the mouse
 * goes, the release frame ending them), shift-click adding
 * to the selection, a primitive stamped at the view's depth, every keyboard
 * shortcut through the editor, and docs/desktop.md listing every row of
 * edit_desk_keys. */
#include "edit_fix.h"

#include <stdio.h>

#include <GLFW/glfw3.h>

#include "edit/edit_desk.h"
#include "edit/edit_ray.h"

#define W 640u
#define H 480u
#define DOC "docs/desktop.md"

struct df {
	struct ef *f;
	struct edit_desk *d;
	struct edit_rays *rays;
	float fovy;
	unsigned flags; /* the last frame's */
};

static struct df *df_new(struct ef *f, const struct edit_desk_config *c)
{
	struct df *t = calloc(1, sizeof *t);
	assert_non_null(t);
	t->f = f;
	assert_int_equal(edit_desk_create(c, &t->d), 0);
	assert_int_equal(edit_rays_create(&t->rays), 0);
	t->fovy = c && c->fovy > 0 ? c->fovy : 1.0471976f;
	struct inp_desktop *k = &f->in.desk;
	k->present = k->focused = k->cursor_inside = true;
	k->width = W;
	k->height = H;
	k->cursor[0] = W / 2.0;
	k->cursor[1] = H / 2.0;
	return t;
}

static void df_free(struct df *t)
{
	edit_rays_destroy(&t->rays);
	edit_desk_destroy(&t->d);
	ef_free(t->f);
	free(t);
}

/* One frame: the desktop mapping, then the editor, on the same input;
 * the frame's edges cleared after. */
static void df_frame(struct df *t)
{
	struct ef *f = t->f;
	t->flags = edit_desk_frame(t->d, f->frame * EF_FRAME_NS, &f->in, f->ed, t->rays, ef_scene(f));
	assert_int_equal(edit_frame(f->ed, f->frame++ * EF_FRAME_NS, &f->in, ef_scene(f)), 0);
	struct inp_desktop *k = &f->in.desk;
	k->pressed = k->released = 0;
	k->scroll = 0;
	k->nkeys = 0;
}

static void df_move(struct df *t, double x, double y)
{
	t->f->in.desk.cursor[0] = x;
	t->f->in.desk.cursor[1] = y;
	df_frame(t);
}

static void df_press(struct df *t, uint32_t button)
{
	t->f->in.desk.buttons |= button;
	t->f->in.desk.pressed |= button;
	df_frame(t);
}

static void df_release(struct df *t, uint32_t button)
{
	t->f->in.desk.buttons &= ~button;
	t->f->in.desk.released |= button;
	df_frame(t);
}

static void df_click_at(struct df *t, const double c[2])
{
	df_move(t, c[0], c[1]);
	df_press(t, INP_MOUSE_LEFT);
	df_release(t, INP_MOUSE_LEFT);
}

static void df_key(struct df *t, int key, uint32_t mods)
{
	struct inp_desktop *k = &t->f->in.desk;
	k->keys[0] = (struct inp_key){ .key = key, .mods = mods };
	k->nkeys = 1;
	df_frame(t);
}

static float len3(const float v[3]) { return sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

static void sub3(const float a[3], const float b[3], float out[3])
{
	for (int k = 0; k < 3; k++)
		out[k] = a[k] - b[k];
}

static float dot(const float a[3], const float b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* The cursor that points at world point p (the camera now, W x H). */
static void df_project(struct df *t, const float p[3], double c[2])
{
	float eye[3], target[3], up[3], fwd[3], rel[3];
	edit_desk_camera(t->d, eye, target, up);
	sub3(target, eye, fwd);
	float l = len3(fwd);
	for (int k = 0; k < 3; k++)
		fwd[k] /= l;
	float right[3] = { fwd[1] * up[2] - fwd[2] * up[1], fwd[2] * up[0] - fwd[0] * up[2],
			   fwd[0] * up[1] - fwd[1] * up[0] };
	sub3(p, eye, rel);
	float z = dot(rel, fwd), tf = tanf(0.5f * t->fovy), aspect = (float)W / (float)H;
	c[0] = (dot(rel, right) / (z * tf * aspect) + 1.0) * 0.5 * W;
	c[1] = (1.0 - dot(rel, up) / (z * tf)) * 0.5 * H;
}

/* The camera looks at the tests' cube from 1 m, in front and a little above. */
static struct df *df_cube(uint64_t *e)
{
	struct edit_desk_config c = { .distance = 1.0f, .pitch = 0.35f };
	memcpy(c.target, ef_at, sizeof c.target);
	return df_new(ef_new_cube(e), &c);
}

/* ---- the camera ---------------------------------------------------------------------------------- */

static void the_camera_starts_in_front_above_and_is_the_head(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	float eye[3], target[3], up[3];
	edit_desk_camera(t->d, eye, target, up);
	assert_float_equal(target[0], 0, 1e-6);
	assert_float_equal(target[1], 0.8f, 1e-6);
	assert_float_equal(target[2], 0, 1e-6);
	/* 3 m away, on +Z, EDIT_DESK_PITCH_DEFAULT above the horizontal. */
	float rel[3];
	sub3(eye, target, rel);
	assert_float_equal(len3(rel), 3.0f, 1e-4);
	assert_float_equal(rel[0], 0, 1e-4);
	assert_float_equal(asinf(rel[1] / 3.0f), EDIT_DESK_PITCH_DEFAULT, 1e-4);
	assert_true(rel[2] > 0);
	assert_true(up[1] > 0.9f);
	df_frame(t);
	const struct inp_pose *h = &t->f->in.head;
	assert_true(h->valid);
	for (int k = 0; k < 3; k++)
		assert_float_equal(h->position[k], eye[k], 1e-5);
	/* The head's -Z looks at the target. */
	float fwd[3];
	edit_quat_rotate(h->rotation, (float[3]){ 0, 0, -1 }, fwd);
	for (int k = 0; k < 3; k++)
		assert_float_equal(fwd[k], -rel[k] / 3.0f, 1e-4);
	/* The left hand is not tracked; the right one is the mouse. */
	assert_false(t->f->in.hand[INP_LEFT].pose.valid);
	assert_true(t->f->in.hand[INP_RIGHT].aim.valid);
	df_free(t);
}

static void a_right_drag_orbits_and_the_pitch_stops_short_of_the_pole(void **state)
{
	struct df *t = df_new(ef_new(NULL), &(struct edit_desk_config){ .pitch = 0.2f });
	float e0[3], e1[3], target[3];
	edit_desk_camera(t->d, e0, target, NULL);
	/* Pressing orbits nothing; 100 px right turns the camera 1 rad about +Y
	 * (to the left of the target: yaw -1). */
	df_press(t, INP_MOUSE_RIGHT);
	edit_desk_camera(t->d, e1, NULL, NULL);
	for (int k = 0; k < 3; k++)
		assert_float_equal(e1[k], e0[k], 1e-6);
	df_move(t, W / 2.0 + 100, H / 2.0);
	edit_desk_camera(t->d, e1, NULL, NULL);
	float r0[3], r1[3];
	sub3(e0, target, r0);
	sub3(e1, target, r1);
	assert_float_equal(r1[1], r0[1], 1e-5);
	assert_float_equal(len3(r1), len3(r0), 1e-4);
	float yaw = atan2f(r1[0], r1[2]);
	assert_float_equal(yaw, -100 * EDIT_DESK_ORBIT_RAD_PER_PX, 1e-4);
	/* Down by a lot: the pitch ends at its limit, not over the top. */
	df_move(t, W / 2.0 + 100, H / 2.0 + 1000);
	edit_desk_camera(t->d, e1, NULL, NULL);
	sub3(e1, target, r1);
	assert_float_equal(asinf(r1[1] / len3(r1)), EDIT_DESK_PITCH_MAX, 1e-3);
	/* Released: moving the mouse leaves the camera be. */
	df_release(t, INP_MOUSE_RIGHT);
	float e2[3];
	df_move(t, 10, 10);
	edit_desk_camera(t->d, e2, NULL, NULL);
	for (int k = 0; k < 3; k++)
		assert_float_equal(e2[k], e1[k], 1e-6);
	df_free(t);
}

static void middle_drag_and_shift_right_drag_pan_with_the_cursor(void **state)
{
	struct df *t = df_new(ef_new(NULL), &(struct edit_desk_config){ .distance = 2.0f });
	float t0[3], t1[3], up[3], eye[3];
	edit_desk_camera(t->d, eye, t0, up);
	float fwd[3];
	sub3(t0, eye, fwd);
	float dist = len3(fwd);
	/* 48 px right at 2 m with a 60 degree view 480 px high: the target
	 * moves left by 48 * (2 * 2 * tan 30 / 480) metres. */
	float per_px = 2.0f * dist * tanf(0.5f * t->fovy) / (float)H;
	df_press(t, INP_MOUSE_MIDDLE);
	df_move(t, W / 2.0 + 48, H / 2.0);
	edit_desk_camera(t->d, NULL, t1, NULL);
	assert_float_equal(t1[0] - t0[0], -48 * per_px, 1e-4);
	assert_float_equal(t1[1], t0[1], 1e-5);
	df_release(t, INP_MOUSE_MIDDLE);
	/* Shift + right drag, 30 px down: the target moves up the view. */
	t->f->in.desk.mods = INP_MOD_SHIFT;
	df_press(t, INP_MOUSE_RIGHT);
	df_move(t, W / 2.0 + 48, H / 2.0 + 30);
	float t2[3], e2[3];
	edit_desk_camera(t->d, e2, t2, NULL);
	for (int k = 0; k < 3; k++)
		assert_float_equal(t2[k] - t1[k], 30 * per_px * up[k], 1e-4);
	/* Panning keeps the view's direction and distance. */
	float d2[3];
	sub3(t2, e2, d2);
	assert_float_equal(len3(d2), dist, 1e-4);
	df_release(t, INP_MOUSE_RIGHT);
	t->f->in.desk.mods = 0;
	df_free(t);
}

static void the_wheel_zooms_within_the_limits(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	float eye[3], target[3], rel[3];
	t->f->in.desk.scroll = 1;
	df_frame(t);
	edit_desk_camera(t->d, eye, target, NULL);
	sub3(eye, target, rel);
	assert_float_equal(len3(rel), 3.0f * EDIT_DESK_ZOOM_STEP, 1e-4);
	t->f->in.desk.scroll = -2;
	df_frame(t);
	edit_desk_camera(t->d, eye, target, NULL);
	sub3(eye, target, rel);
	assert_float_equal(len3(rel), 3.0f / EDIT_DESK_ZOOM_STEP, 1e-3);
	t->f->in.desk.scroll = 200;
	df_frame(t);
	edit_desk_camera(t->d, eye, target, NULL);
	sub3(eye, target, rel);
	assert_float_equal(len3(rel), EDIT_DESK_DIST_MIN, 1e-5);
	t->f->in.desk.scroll = -400;
	df_frame(t);
	edit_desk_camera(t->d, eye, target, NULL);
	sub3(eye, target, rel);
	assert_float_equal(len3(rel), EDIT_DESK_DIST_MAX, 1e-2);
	df_free(t);
}

static void f_frames_the_selection_or_everything(void **state)
{
	struct ef *f = ef_new(NULL);
	uint64_t a = ef_cube(f, &f->other, ef_at, EF_CUBE_SIZE);
	ef_cube(f, &f->other, (float[3]){ 2, 1, -0.5f }, EF_CUBE_SIZE);
	struct df *t = df_new(f, NULL);
	float target[3], eye[3], rel[3];
	/* Nothing selected: both cubes, centred between them. */
	df_key(t, GLFW_KEY_F, 0);
	edit_desk_camera(t->d, eye, target, NULL);
	assert_float_equal(target[0], 1.0f, 1e-5);
	assert_float_equal(target[1], 1.0f, 1e-5);
	assert_float_equal(target[2], -0.5f, 1e-5);
	sub3(eye, target, rel);
	float r = sqrtf(1.1f * 1.1f + 0.1f * 0.1f + 0.1f * 0.1f);
	assert_float_equal(len3(rel), EDIT_DESK_FRAME_MARGIN * r / sinf(0.5f * t->fovy), 1e-3);
	/* The first cube selected (select tool, object): that one. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_frame(f, ef_at, 1, 0, 0);
	ef_frame(f, ef_at, 0, 0, 0);
	assert_int_equal(edit_selection(f->ed)->entity, a);
	df_key(t, GLFW_KEY_F, 0);
	edit_desk_camera(t->d, eye, target, NULL);
	for (int k = 0; k < 3; k++)
		assert_float_equal(target[k], ef_at[k], 1e-5);
	sub3(eye, target, rel);
	r = sqrtf(3 * 0.1f * 0.1f);
	assert_float_equal(len3(rel), EDIT_DESK_FRAME_MARGIN * r / sinf(0.5f * t->fovy), 1e-3);
	df_free(t);
}

/* ---- the mouse ray ------------------------------------------------------------------------------- */

static void the_ray_puts_the_tip_on_the_face_under_the_cursor(void **state)
{
	uint64_t e;
	struct df *t = df_cube(&e);
	struct ef *f = t->f;
	/* The front face's middle, seen from the front, above. */
	const float front_mid[3] = { 0.03f, 1.02f, -0.4f };
	double c[2];
	df_project(t, front_mid, c);
	df_move(t, c[0], c[1]);
	const struct inp_controller *r = &f->in.hand[INP_RIGHT];
	assert_true(r->pose.valid);
	for (int k = 0; k < 3; k++)
		assert_float_equal(r->pose.position[k], front_mid[k], 2e-3);
	/* The aim is the ray: from the eye, its -Z through the tip. */
	float eye[3], dir[3], to_tip[3];
	edit_desk_camera(t->d, eye, NULL, NULL);
	for (int k = 0; k < 3; k++)
		assert_float_equal(r->aim.position[k], eye[k], 1e-5);
	edit_quat_rotate(r->aim.rotation, (float[3]){ 0, 0, -1 }, dir);
	sub3(r->pose.position, eye, to_tip);
	float l = len3(to_tip);
	for (int k = 0; k < 3; k++)
		assert_float_equal(dir[k], to_tip[k] / l, 1e-4);
	/* The editor hovers that face, and a click selects it (face option). */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	edit_step_option(f->ed, 1);
	assert_string_equal(edit_option_name(f->ed), "face");
	df_frame(t);
	const struct edit_hover *hv = edit_hover(f->ed);
	assert_true(hv->hit);
	assert_int_equal(hv->h.mode, TH_SELECT_FACE);
	df_click_at(t, c);
	const struct edit_selection *sel = edit_selection(f->ed);
	assert_int_equal(sel->entity, e);
	assert_int_equal(sel->n, 1);
	/* It is the +z face: its corners are at z = +0.1 in the mesh. */
	const struct th_mesh *m = ef_mesh_of(f, e);
	int32_t fs = th_mesh_face_find(m, sel->el[0].id);
	assert_true(fs >= 0);
	int32_t he = m->faces[fs].he;
	for (unsigned i = 0; i < m->faces[fs].n; i++, he = m->hes[he].next)
		assert_float_equal(m->verts[m->hes[he].vert].pos[2], 0.1f, 1e-6);
	/* A click on nothing clears it; the tip is EDIT_DESK_REACH along the ray. */
	df_click_at(t, (double[2]){ 5, 5 });
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	sub3(r->pose.position, eye, to_tip);
	assert_float_equal(len3(to_tip), EDIT_DESK_REACH, 1e-4);
	df_free(t);
}

static void edges_and_vertices_put_the_tip_on_the_element(void **state)
{
	uint64_t e;
	struct df *t = df_cube(&e);
	struct ef *f = t->f;
	const struct inp_controller *r = &f->in.hand[INP_RIGHT];
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	for (int i = 0; i < 3; i++)
		edit_step_option(f->ed, 1);
	assert_string_equal(edit_option_name(f->ed), "vertex");
	/* Three pixels beside the front face's top-right corner: the tip is
	 * on the corner, which the click selects. */
	const float corner[3] = { 0.1f, 1.1f, -0.4f };
	double c[2];
	df_project(t, corner, c);
	df_move(t, c[0] - 3, c[1] + 2);
	for (int k = 0; k < 3; k++)
		assert_float_equal(r->pose.position[k], corner[k], 1e-5);
	/* 30 px inside the face from it: no vertex that close, the tip is
	 * where the ray meets the face. */
	df_move(t, c[0] - 30, c[1] + 30);
	assert_float_equal(r->pose.position[2], -0.4f, 1e-5);
	assert_true(r->pose.position[0] < 0.09f && r->pose.position[1] < 1.09f);
	df_click_at(t, (double[2]){ c[0] - 3, c[1] + 2 });
	const struct edit_selection *sel = edit_selection(f->ed);
	assert_int_equal(sel->n, 1);
	assert_int_equal(sel->mode, TH_SELECT_VERTEX);
	const struct th_mesh *m = ef_mesh_of(f, e);
	int32_t v = th_mesh_vert_find(m, sel->el[0].id);
	assert_true(v >= 0);
	assert_float_equal(m->verts[v].pos[0], 0.1f, 1e-6);
	assert_float_equal(m->verts[v].pos[1], 0.1f, 1e-6);
	assert_float_equal(m->verts[v].pos[2], 0.1f, 1e-6);
	/* Edges: two pixels below the front face's top edge, a third of the
	 * way along: the tip on the edge itself. */
	edit_step_option(f->ed, -1);
	assert_string_equal(edit_option_name(f->ed), "edge");
	const float on_edge[3] = { -0.03f, 1.1f, -0.4f };
	df_project(t, on_edge, c);
	df_move(t, c[0], c[1] + 2);
	assert_float_equal(r->pose.position[1], 1.1f, 1e-5);
	assert_float_equal(r->pose.position[2], -0.4f, 1e-5);
	assert_float_equal(r->pose.position[0], -0.03f, 5e-3);
	df_click_at(t, (double[2]){ c[0], c[1] + 2 });
	sel = edit_selection(f->ed);
	assert_int_equal(sel->mode, TH_SELECT_EDGE);
	assert_int_equal(sel->n, 1);
	df_free(t);
}

static void shift_click_adds_to_the_selection(void **state)
{
	uint64_t e;
	struct df *t = df_cube(&e);
	struct ef *f = t->f;
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	edit_step_option(f->ed, 1);
	double c1[2], c2[2];
	df_project(t, (float[3]){ 0, 1.0f, -0.4f }, c1);   /* the front face */
	df_project(t, (float[3]){ 0, 1.1f, -0.45f }, c2);  /* the top face */
	df_click_at(t, c1);
	assert_int_equal(edit_selection(f->ed)->n, 1);
	t->f->in.desk.mods = INP_MOD_SHIFT;
	df_click_at(t, c2);
	t->f->in.desk.mods = 0;
	assert_int_equal(edit_selection(f->ed)->n, 2);
	/* Without the shift a click replaces the selection. */
	df_click_at(t, c1);
	assert_int_equal(edit_selection(f->ed)->n, 1);
	df_free(t);
}

/* The camera's unit forward, right and up now. */
static void df_axes(struct df *t, float eye[3], float fwd[3], float right[3], float up[3])
{
	float target[3];
	edit_desk_camera(t->d, eye, target, up);
	sub3(target, eye, fwd);
	float l = len3(fwd);
	for (int k = 0; k < 3; k++)
		fwd[k] /= l;
	right[0] = fwd[1] * up[2] - fwd[2] * up[1];
	right[1] = fwd[2] * up[0] - fwd[0] * up[2];
	right[2] = fwd[0] * up[1] - fwd[1] * up[0];
}

/* Where the ray through cursor c crosses the plane through p with normal n. */
static void df_cross(struct df *t, const double c[2], const float p[3], const float n[3], float out[3])
{
	float eye[3], fwd[3], right[3], up[3], dir[3], rel[3];
	df_axes(t, eye, fwd, right, up);
	float f = 0.5f * (float)H / tanf(0.5f * t->fovy), x = (float)(c[0] - W / 2.0) / f, y = (float)(H / 2.0 - c[1]) / f;
	for (int k = 0; k < 3; k++)
		dir[k] = fwd[k] + x * right[k] + y * up[k];
	sub3(p, eye, rel);
	float s = dot(rel, n) / dot(dir, n);
	for (int k = 0; k < 3; k++)
		out[k] = eye[k] + s * dir[k];
}

static void a_move_drag_keeps_the_tip_on_the_plane_facing_the_camera(void **state)
{
	uint64_t e;
	struct df *t = df_cube(&e);
	struct ef *f = t->f;
	ef_use_tool(f, EDIT_TOOL_MOVE);
	assert_string_equal(edit_option_name(f->ed), "object");
	const struct inp_controller *r = &f->in.hand[INP_RIGHT];
	const float front_mid[3] = { 0, 1.0f, -0.4f };
	double c[2];
	df_project(t, front_mid, c);
	df_move(t, c[0], c[1]);
	unsigned n = f->n;
	df_press(t, INP_MOUSE_LEFT);
	float grab[3], eye[3], fwd[3], right[3], up[3];
	memcpy(grab, r->pose.position, sizeof grab);
	for (int k = 0; k < 3; k++)
		assert_float_equal(grab[k], front_mid[k], 2e-3);
	df_axes(t, eye, fwd, right, up);
	double to[2] = { c[0] + 50, c[1] - 30 };
	for (int i = 1; i <= 5; i++) {
		df_move(t, c[0] + 10 * i, c[1] - 6 * i);
		float d[3];
		sub3(r->pose.position, grab, d);
		assert_float_equal(dot(d, fwd), 0, 1e-4);
	}
	/* The tip is where the ray crosses that plane; the rotation is the
	 * camera's, so the object does not turn. */
	float want[3];
	df_cross(t, to, grab, fwd, want);
	for (int k = 0; k < 3; k++)
		assert_float_equal(r->pose.position[k], want[k], 1e-4);
	df_release(t, INP_MOUSE_LEFT);
	assert_true(ef_count(f, TH_CMD_COMPONENT_WRITE) >= 1);
	assert_true(f->n > n);
	ef_deliver(f);
	const struct th_c_transform *tr = th_scene_component(ef_scene(f), e, TH_COMP_TRANSFORM);
	assert_non_null(tr);
	for (int k = 0; k < 3; k++)
		assert_float_equal(tr->position[k], ef_at[k] + roundf((want[k] - grab[k]) * 100) / 100, 1e-4);
	assert_float_equal(tr->rotation[3], 1.0f, 1e-5);
	df_free(t);
}

static void an_extrude_drag_pulls_along_the_normal_as_the_mouse_goes(void **state)
{
	uint64_t e;
	struct df *t = df_cube(&e);
	struct ef *f = t->f;
	ef_use_tool(f, EDIT_TOOL_EXTRUDE);
	const struct inp_controller *r = &f->in.hand[INP_RIGHT];
	/* The top face's middle, 60 px up: the tip moves in the vertical plane
	 * through the grab facing the camera (it holds the normal, +y). */
	const float top_mid[3] = { 0, 1.1f, -0.5f };
	double c[2];
	df_project(t, top_mid, c);
	df_move(t, c[0], c[1]);
	unsigned n = f->n;
	df_press(t, INP_MOUSE_LEFT);
	assert_true(edit_preview(f->ed)->active);
	float grab[3];
	memcpy(grab, r->pose.position, sizeof grab);
	for (int k = 0; k < 3; k++)
		assert_float_equal(grab[k], top_mid[k], 2e-3);
	for (int i = 1; i <= 6; i++) {
		df_move(t, c[0] + 2 * i, c[1] - 10 * i);
		assert_float_equal(r->pose.position[2], grab[2], 1e-4);
	}
	float want[3];
	df_cross(t, (double[2]){ c[0] + 12, c[1] - 60 }, grab, (float[3]){ 0, 0, 1 }, want);
	for (int k = 0; k < 3; k++)
		assert_float_equal(r->pose.position[k], want[k], 1e-4);
	/* The release frame ends the drag where the tip is. */
	df_release(t, INP_MOUSE_LEFT);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_MESH_PATCH);
	ef_deliver(f);
	ef_mesh_is(f, e, 12, 10, NULL);
	float pulled = ef_max_coord(ef_mesh_of(f, e), 1) - 0.1f;
	assert_true(pulled >= 0.02f);
	assert_float_equal(pulled, roundf((want[1] - grab[1]) * 100) / 100, 1e-4);
	/* After the release the tip is on the surface again. */
	df_move(t, c[0], c[1] + 40);
	float eye[3], d[3];
	edit_desk_camera(t->d, eye, NULL, NULL);
	sub3(r->pose.position, eye, d);
	assert_true(len3(d) < 1.0f);

	/* The front face, seen from above: the mouse going down pulls it
	 * towards the camera (the plane is horizontal, through the grab). */
	const float front_mid[3] = { 0.03f, 1.0f, -0.4f };
	df_project(t, front_mid, c);
	df_move(t, c[0], c[1]);
	n = f->n;
	df_press(t, INP_MOUSE_LEFT);
	memcpy(grab, r->pose.position, sizeof grab);
	assert_float_equal(grab[2], -0.4f, 1e-4);
	df_move(t, c[0], c[1] + 40);
	df_cross(t, (double[2]){ c[0], c[1] + 40 }, grab, (float[3]){ 0, 1, 0 }, want);
	assert_float_equal(r->pose.position[1], grab[1], 1e-4);
	assert_float_equal(r->pose.position[2], want[2], 1e-4);
	assert_true(want[2] - grab[2] > 0.02f);
	df_release(t, INP_MOUSE_LEFT);
	assert_int_equal(f->n, n + 1);
	ef_deliver(f);
	ef_mesh_is(f, e, 16, 14, NULL);
	assert_float_equal(ef_max_coord(ef_mesh_of(f, e), 2) - 0.1f, roundf((want[2] - grab[2]) * 100) / 100, 1e-4);
	df_free(t);
}

static void moves_rotate_turns_about_the_view_axis_with_the_mouse(void **state)
{
	uint64_t e;
	struct df *t = df_cube(&e);
	struct ef *f = t->f;
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	while (strcmp(edit_option_name(f->ed), "rotate") != 0)
		edit_step_option(f->ed, 1);
	ef_settle(f);
	const struct inp_controller *r = &f->in.hand[INP_RIGHT];
	double c[2];
	df_project(t, (float[3]){ 0, 1.0f, -0.4f }, c);
	df_move(t, c[0], c[1]);
	float q0[4];
	memcpy(q0, r->pose.rotation, sizeof q0);
	unsigned n = f->n;
	df_press(t, INP_MOUSE_LEFT);
	/* 79 px right: 0.79 rad (45.3 degrees) clockwise about the view axis. */
	df_move(t, c[0] + 79, c[1]);
	float eye[3], fwd[3], right[3], up[3], turn[4], q0c[4] = { -q0[0], -q0[1], -q0[2], q0[3] };
	df_axes(t, eye, fwd, right, up);
	edit_quat_mul(r->pose.rotation, q0c, turn);
	float s = sqrtf(turn[0] * turn[0] + turn[1] * turn[1] + turn[2] * turn[2]);
	assert_float_equal(2 * atan2f(s, turn[3]), 79 * EDIT_DESK_TWIST_RAD_PER_PX, 1e-4);
	/* About the view's forward axis: clockwise as the camera sees it. */
	for (int k = 0; k < 3; k++)
		assert_float_equal(turn[k] / s, fwd[k], 1e-4);
	unsigned patches = ef_count(f, TH_CMD_MESH_PATCH);
	df_release(t, INP_MOUSE_LEFT);
	assert_true(f->n > n);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), patches + 1);
	ef_deliver(f);
	assert_non_null(strstr(ef_last_edit(f), "rotate 4 vertices of mesh"));
	assert_non_null(strstr(ef_last_edit(f), "by 45 degrees"));
	df_free(t);
}

static void a_primitive_lands_at_the_view_depth(void **state)
{
	struct df *t = df_new(ef_new(NULL), &(struct edit_desk_config){ .target = { 0.5f, 1.0f, -1.0f } });
	struct ef *f = t->f;
	ef_use_tool(f, EDIT_TOOL_PRIMITIVE);
	unsigned n = f->n;
	df_click_at(t, (double[2]){ W / 2.0, H / 2.0 });
	const float *tip = f->in.hand[INP_RIGHT].pose.position;
	assert_float_equal(tip[0], 0.5f, 1e-4);
	assert_float_equal(tip[1], 1.0f, 1e-4);
	assert_float_equal(tip[2], -1.0f, 1e-4);
	assert_true(ef_count(f, TH_CMD_MESH_CREATE) == 1);
	unsigned i = n;
	while (f->cmds[i].type != TH_CMD_MESH_CREATE)
		i++;
	union th_pl_any pl;
	ef_decode(f, i, TH_CMD_MESH_CREATE, &pl);
	assert_float_equal(pl.mesh_create.transform[0], 0.5f, 1e-4);
	assert_float_equal(pl.mesh_create.transform[1], 1.0f, 1e-4);
	assert_float_equal(pl.mesh_create.transform[2], -1.0f, 1e-4);
	df_free(t);
}

static void without_a_desktop_nothing_is_touched(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	struct inp_state before = t->f->in;
	t->f->in.desk.present = false;
	before.desk.present = false;
	t->f->in.desk.keys[0] = (struct inp_key){ .key = GLFW_KEY_Q, .mods = INP_MOD_CTRL };
	t->f->in.desk.nkeys = 1;
	before.desk = t->f->in.desk;
	assert_int_equal(edit_desk_frame(t->d, 0, &t->f->in, t->f->ed, t->rays, ef_scene(t->f)), 0);
	assert_memory_equal(&before, &t->f->in, sizeof before);
	/* No editor and no scene: the camera still answers. */
	t->f->in.desk.present = true;
	t->f->in.desk.nkeys = 0;
	t->f->in.desk.scroll = 1;
	edit_desk_frame(t->d, 0, &t->f->in, NULL, t->rays, NULL);
	assert_true(t->f->in.head.valid);
	assert_true(t->f->in.hand[INP_RIGHT].aim.valid);
	t->f->in.desk.keys[0] = (struct inp_key){ .key = GLFW_KEY_1, .mods = 0 };
	t->f->in.desk.nkeys = 1;
	edit_desk_frame(t->d, 0, &t->f->in, NULL, t->rays, NULL);
	assert_int_equal(edit_desk_create(&(struct edit_desk_config){ .fovy = NAN }, &(struct edit_desk *){ 0 }),
			 -EINVAL);
	/* Garbage from a source: a cursor that is no number, a wheel of
	 * infinite steps, more keys than a frame holds. The camera stays
	 * finite, the tip untracked. */
	struct inp_desktop *k = &t->f->in.desk;
	k->cursor[0] = NAN;
	k->buttons = INP_MOUSE_RIGHT;
	k->scroll = INFINITY;
	k->nkeys = 1000;
	edit_desk_frame(t->d, 0, &t->f->in, t->f->ed, t->rays, ef_scene(t->f));
	edit_desk_frame(t->d, 0, &t->f->in, t->f->ed, t->rays, ef_scene(t->f));
	float eye[3];
	edit_desk_camera(t->d, eye, NULL, NULL);
	for (int i = 0; i < 3; i++)
		assert_true(isfinite(eye[i]));
	assert_false(t->f->in.hand[INP_RIGHT].pose.valid);
	assert_false(t->f->in.hand[INP_RIGHT].aim.valid);
	df_free(t);
}

/* A cursor no screen has (finite as a double, past a float's range: a
 * source's garbage) during an orbit and a pan: the camera stays finite and
 * where it was, the tip untracked; back on the window, no jump from it. */
static void a_cursor_beyond_any_screen_moves_nothing(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	const struct inp_controller *c = &t->f->in.hand[INP_RIGHT];
	float e0[3], t0[3], e1[3], t1[3];
	edit_desk_camera(t->d, e0, t0, NULL);
	df_press(t, INP_MOUSE_RIGHT);
	df_move(t, 1e39, -1e39);
	assert_false(c->pose.valid);
	assert_false(c->aim.valid);
	df_move(t, W / 2.0, H / 2.0);
	assert_true(c->aim.valid);
	df_release(t, INP_MOUSE_RIGHT);
	df_press(t, INP_MOUSE_MIDDLE);
	df_move(t, -1e300, 1e300);
	df_move(t, W / 2.0, H / 2.0);
	df_release(t, INP_MOUSE_MIDDLE);
	edit_desk_camera(t->d, e1, t1, NULL);
	for (int k = 0; k < 3; k++) {
		assert_true(isfinite(e1[k]) && isfinite(t1[k]));
		assert_float_equal(e1[k], e0[k], 1e-6);
		assert_float_equal(t1[k], t0[k], 1e-6);
	}
	df_free(t);
}

/* A window of no size (minimised): no ray and no tip, and a middle drag
 * pans nothing (a pixel has no size); the size back, both are tracked. */
static void a_window_of_no_size_has_no_ray(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	struct inp_desktop *k = &t->f->in.desk;
	const struct inp_controller *c = &t->f->in.hand[INP_RIGHT];
	float t0[3], t1[3], e1[3];
	edit_desk_camera(t->d, NULL, t0, NULL);
	k->width = k->height = 0;
	df_press(t, INP_MOUSE_MIDDLE);
	df_move(t, W / 2.0 + 50, H / 2.0 + 50);
	assert_false(c->pose.valid);
	assert_false(c->aim.valid);
	assert_true(t->f->in.head.valid);
	edit_desk_camera(t->d, e1, t1, NULL);
	for (int i = 0; i < 3; i++) {
		assert_true(isfinite(e1[i]));
		assert_float_equal(t1[i], t0[i], 0);
	}
	df_release(t, INP_MOUSE_MIDDLE);
	k->width = W;
	k->height = H;
	df_frame(t);
	assert_true(c->pose.valid);
	assert_true(c->aim.valid);
	df_free(t);
}

/* ---- the shortcuts -------------------------------------------------------------------------------- */

static void number_keys_and_tab_choose_tools(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	static const int keys[] = { GLFW_KEY_1, GLFW_KEY_2, GLFW_KEY_3, GLFW_KEY_4, GLFW_KEY_5,
				    GLFW_KEY_6, GLFW_KEY_7, GLFW_KEY_8, GLFW_KEY_9, GLFW_KEY_0 };
	for (unsigned i = 0; i < 10; i++) {
		df_key(t, keys[i], 0);
		assert_int_equal(edit_tool(t->f->ed), i + 1);
	}
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SHAPE);
	df_key(t, GLFW_KEY_TAB, 0); /* around to select */
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SELECT);
	df_key(t, GLFW_KEY_TAB, INP_MOD_SHIFT);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SHAPE);
	df_key(t, GLFW_KEY_TAB, INP_MOD_SHIFT);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_MIRROR);
	df_key(t, GLFW_KEY_TAB, 0);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SHAPE);
	/* Modifiers must match: shift+3 and ctrl+3 are not the extrude tool. */
	df_key(t, GLFW_KEY_3, INP_MOD_SHIFT);
	df_key(t, GLFW_KEY_3, INP_MOD_CTRL);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_SHAPE);
	/* Several keys in one frame apply in order. */
	struct inp_desktop *k = &t->f->in.desk;
	k->keys[0] = (struct inp_key){ .key = GLFW_KEY_7 };
	k->keys[1] = (struct inp_key){ .key = GLFW_KEY_RIGHT };
	k->keys[2] = (struct inp_key){ .key = GLFW_KEY_RIGHT };
	k->nkeys = 3;
	df_frame(t);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_PAINT);
	assert_int_equal(edit_option(t->f->ed), 2);
	df_free(t);
}

static void arrows_step_the_option_and_the_parameter(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	df_key(t, GLFW_KEY_6, 0);
	assert_string_equal(edit_option_name(t->f->ed), "cube");
	df_key(t, GLFW_KEY_RIGHT, 0);
	assert_string_equal(edit_option_name(t->f->ed), "uv sphere");
	df_key(t, GLFW_KEY_LEFT, 0);
	df_key(t, GLFW_KEY_LEFT, 0);
	assert_string_equal(edit_option_name(t->f->ed), "plane");
	df_key(t, GLFW_KEY_UP, 0);
	df_key(t, GLFW_KEY_UP, 0);
	assert_int_equal(edit_param(t->f->ed), 2);
	df_key(t, GLFW_KEY_DOWN, 0);
	assert_int_equal(edit_param(t->f->ed), 1);
	/* The change is announced (tool.state) as a flick's is. */
	ef_settle(t->f);
	struct th_pl_tool_state ts;
	ef_last_tool_state(t->f, &ts);
	assert_int_equal(ts.tool, EDIT_TOOL_PRIMITIVE);
	assert_int_equal((int8_t)ts.settings[2], 1);
	df_free(t);
}

static void ctrl_z_undoes_ctrl_y_redoes_escape_clears(void **state)
{
	uint64_t e;
	struct df *t = df_cube(&e);
	struct ef *f = t->f;
	/* An edit of ours, logged: paint the front face. */
	df_key(t, GLFW_KEY_7, 0);
	ef_settle(f);
	double c[2];
	df_project(t, (float[3]){ 0, 1.0f, -0.4f }, c);
	unsigned n = f->n;
	df_click_at(t, c);
	assert_true(f->n > n);
	ef_deliver(f);
	assert_non_null(strstr(ef_last_edit(f), "paint 1 face"));
	/* Z alone does nothing; Ctrl+Z sends the undo. */
	n = f->n;
	df_key(t, GLFW_KEY_Z, 0);
	assert_int_equal(f->n, n);
	df_key(t, GLFW_KEY_Z, INP_MOD_CTRL);
	assert_int_equal(f->n, n + 1);
	assert_int_equal(f->cmds[n].type, TH_CMD_EDIT_UNDO);
	ef_deliver(f);
	df_key(t, GLFW_KEY_Y, INP_MOD_CTRL);
	assert_int_equal(f->n, n + 2);
	assert_int_equal(f->cmds[n + 1].type, TH_CMD_EDIT_REDO);
	ef_deliver(f);
	/* Ctrl+Shift+Z redoes too: undo once more, then redo that. */
	df_key(t, GLFW_KEY_Z, INP_MOD_CTRL);
	ef_deliver(f);
	df_key(t, GLFW_KEY_Z, INP_MOD_CTRL | INP_MOD_SHIFT);
	assert_int_equal(f->cmds[f->n - 1].type, TH_CMD_EDIT_REDO);
	assert_int_equal(edit_stats(f->ed)->undos, 2);
	assert_int_equal(edit_stats(f->ed)->redos, 2);
	ef_deliver(f);
	/* Escape drops the selection. */
	df_key(t, GLFW_KEY_1, 0);
	df_click_at(t, c);
	assert_int_equal(edit_selection(f->ed)->entity, e);
	df_key(t, GLFW_KEY_ESCAPE, 0);
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	df_free(t);
}

static void o_toggles_the_overlay_and_ctrl_q_quits(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	df_key(t, GLFW_KEY_O, 0);
	assert_int_equal(t->flags, EDIT_DESK_TOGGLE_OVERLAY);
	df_frame(t);
	assert_int_equal(t->flags, 0);
	df_key(t, GLFW_KEY_Q, 0);
	assert_int_equal(t->flags, 0);
	df_key(t, GLFW_KEY_Q, INP_MOD_CTRL);
	assert_int_equal(t->flags, EDIT_DESK_QUIT);
	df_free(t);
}

/* M mutes and unmutes (a repeat of it held does nothing; twice in a frame
 * is no toggle); V acts while held, with any modifiers, and not while
 * only typed. */
static void m_toggles_mute_and_v_held_talks(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	struct inp_desktop *k = &t->f->in.desk;
	df_key(t, GLFW_KEY_M, 0);
	assert_int_equal(t->flags, EDIT_DESK_TOGGLE_MUTE);
	k->keys[0] = (struct inp_key){ .key = GLFW_KEY_M, .repeat = true };
	k->nkeys = 1;
	df_frame(t);
	assert_int_equal(t->flags, 0);
	k->keys[0] = k->keys[1] = (struct inp_key){ .key = GLFW_KEY_M };
	k->nkeys = 2;
	df_frame(t);
	assert_int_equal(t->flags, 0);
	df_key(t, GLFW_KEY_M, INP_MOD_CTRL);
	assert_int_equal(t->flags, 0);
	/* V typed but not held (released within the frame): no talk. */
	df_key(t, GLFW_KEY_V, 0);
	assert_int_equal(t->flags, 0);
	k->held[0] = GLFW_KEY_LEFT_SHIFT;
	k->held[1] = GLFW_KEY_V;
	k->nheld = 2;
	df_frame(t);
	assert_int_equal(t->flags, EDIT_DESK_TALK);
	df_key(t, GLFW_KEY_M, 0); /* V still held */
	assert_int_equal(t->flags, EDIT_DESK_TALK | EDIT_DESK_TOGGLE_MUTE);
	k->nheld = 1;
	df_frame(t);
	assert_int_equal(t->flags, 0);
	df_free(t);
}

/* Super (the Windows / Command key) is a modifier like the others: with
 * it held a key is no shortcut (Super+3 is not the extrude tool). */
static void a_key_with_super_held_is_no_shortcut(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	df_key(t, GLFW_KEY_2, 0);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_MOVE);
	df_key(t, GLFW_KEY_3, INP_MOD_SUPER);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_MOVE);
	df_key(t, GLFW_KEY_TAB, INP_MOD_SUPER);
	assert_int_equal(edit_tool(t->f->ed), EDIT_TOOL_MOVE);
	df_key(t, GLFW_KEY_O, INP_MOD_SUPER);
	assert_int_equal(t->flags, 0);
	df_key(t, GLFW_KEY_Q, INP_MOD_CTRL | INP_MOD_SUPER);
	assert_int_equal(t->flags, 0);
	df_free(t);
}

/* O twice in one frame (a slow frame, or O held and repeating) shows and
 * hides again: no toggle; three times, one. Ctrl+Q among them still quits. */
static void o_typed_twice_in_a_frame_toggles_twice(void **state)
{
	struct df *t = df_new(ef_new(NULL), NULL);
	struct inp_desktop *k = &t->f->in.desk;
	k->keys[0] = k->keys[1] = (struct inp_key){ .key = GLFW_KEY_O };
	k->nkeys = 2;
	df_frame(t);
	assert_int_equal(t->flags, 0);
	k->keys[0] = k->keys[1] = k->keys[3] = (struct inp_key){ .key = GLFW_KEY_O };
	k->keys[2] = (struct inp_key){ .key = GLFW_KEY_Q, .mods = INP_MOD_CTRL };
	k->nkeys = 4;
	df_frame(t);
	assert_int_equal(t->flags, EDIT_DESK_TOGGLE_OVERLAY | EDIT_DESK_QUIT);
	df_free(t);
}

/* Every key row has a key no other row has (with its modifiers), and every
 * tool has its key. */
static void the_table_has_one_row_per_key_and_a_key_per_tool(void **state)
{
	bool tool[EDIT_TOOL_MAX + 1] = { false };
	unsigned mouse = 0;
	for (unsigned i = 0; i < edit_desk_nkeys; i++) {
		const struct edit_desk_key *a = &edit_desk_keys[i];
		assert_non_null(a->keys);
		assert_non_null(a->what);
		assert_true(a->keys[0] && a->what[0]);
		if (a->cmd == EDIT_DESK_CMD_MOUSE) {
			assert_int_equal(a->key, 0);
			mouse++;
			continue;
		}
		assert_true(a->key != 0);
		if (a->cmd == EDIT_DESK_CMD_TOOL) {
			assert_true(a->arg >= 1 && a->arg <= EDIT_TOOL_MAX);
			tool[a->arg] = true;
		}
		for (unsigned j = i + 1; j < edit_desk_nkeys; j++)
			assert_false(edit_desk_keys[j].key == a->key && edit_desk_keys[j].mods == a->mods &&
				     edit_desk_keys[j].cmd != EDIT_DESK_CMD_MOUSE);
	}
	for (unsigned k = 1; k <= EDIT_TOOL_MAX; k++)
		assert_true(tool[k]);
	assert_true(mouse >= 4);
}

/* docs/desktop.md's table holds "| keys | what |" for every row, in the
 * table's order, and no other row: the page and the code never drift. */
static void docs_desktop_lists_every_row(void **state)
{
	FILE *fp = fopen(DOC, "r");
	assert_non_null(fp);
	char line[512];
	unsigned i = 0, rows = 0;
	bool in_table = false;
	while (fgets(line, sizeof line, fp)) {
		if (strstr(line, "<!-- edit_desk_keys begin -->")) {
			in_table = true;
			continue;
		}
		if (strstr(line, "<!-- edit_desk_keys end -->"))
			break;
		if (!in_table || line[0] != '|' || strncmp(line, "| keys", 6) == 0 || strncmp(line, "|---", 4) == 0)
			continue;
		rows++;
		assert_true(i < edit_desk_nkeys);
		char want[512];
		snprintf(want, sizeof want, "| %s | %s |\n", edit_desk_keys[i].keys, edit_desk_keys[i].what);
		if (strcmp(line, want) != 0)
			fail_msg("%s has\n  %s where edit_desk_keys[%u] says\n  %s", DOC, line, i, want);
		i++;
	}
	fclose(fp);
	assert_true(in_table);
	assert_int_equal(rows, edit_desk_nkeys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_camera_starts_in_front_above_and_is_the_head),
		cmocka_unit_test(a_right_drag_orbits_and_the_pitch_stops_short_of_the_pole),
		cmocka_unit_test(middle_drag_and_shift_right_drag_pan_with_the_cursor),
		cmocka_unit_test(the_wheel_zooms_within_the_limits),
		cmocka_unit_test(f_frames_the_selection_or_everything),
		cmocka_unit_test(the_ray_puts_the_tip_on_the_face_under_the_cursor),
		cmocka_unit_test(edges_and_vertices_put_the_tip_on_the_element),
		cmocka_unit_test(shift_click_adds_to_the_selection),
		cmocka_unit_test(a_move_drag_keeps_the_tip_on_the_plane_facing_the_camera),
		cmocka_unit_test(an_extrude_drag_pulls_along_the_normal_as_the_mouse_goes),
		cmocka_unit_test(moves_rotate_turns_about_the_view_axis_with_the_mouse),
		cmocka_unit_test(a_primitive_lands_at_the_view_depth),
		cmocka_unit_test(without_a_desktop_nothing_is_touched),
		cmocka_unit_test(a_cursor_beyond_any_screen_moves_nothing),
		cmocka_unit_test(a_window_of_no_size_has_no_ray),
		cmocka_unit_test(number_keys_and_tab_choose_tools),
		cmocka_unit_test(arrows_step_the_option_and_the_parameter),
		cmocka_unit_test(ctrl_z_undoes_ctrl_y_redoes_escape_clears),
		cmocka_unit_test(o_toggles_the_overlay_and_ctrl_q_quits),
		cmocka_unit_test(m_toggles_mute_and_v_held_talks),
		cmocka_unit_test(o_typed_twice_in_a_frame_toggles_twice),
		cmocka_unit_test(a_key_with_super_held_is_no_shortcut),
		cmocka_unit_test(the_table_has_one_row_per_key_and_a_key_per_tool),
		cmocka_unit_test(docs_desktop_lists_every_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
