/* The desktop editor (edit_desk.h, docs/desktop.md): an orbit camera, the
 * mouse ray as a virtual right controller, and the keyboard shortcuts. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <GLFW/glfw3.h>

#include "edit/edit_desk.h"
#include "edit/edit_vec.h"
#include "th_meshop.h"
#include "th_schema.h"

#define DESK_FOVY_DEFAULT 1.0471976f /* 60 degrees */
#define DESK_DIST_DEFAULT 3.0f
#define DESK_FRAME_RADIUS_MIN 0.05f  /* F on a point still backs off a little */
/* Pixels from the window's corner a cursor may be (outside it in a drag);
 * one further, or no number, is a source's garbage: there is no cursor. */
#define DESK_CURSOR_MAX 1e6

struct edit_desk {
	float fovy;
	float target[3];
	float dist, yaw, pitch;
	float q[4]; /* the camera's rotation (its -Z looks at the target) */
	float eye[3];

	double last_cursor[2];
	bool have_cursor;
	uint32_t last_buttons;

	/* A left-button drag: the tip follows the ray on the plane through the
	 * grabbed point facing the camera as it was at the press. */
	bool grabbing;
	float grab_point[3], grab_normal[3];
	double grab_cursor[2];
	float tip[3];
};

/* Shortcuts first, then what the mouse does (key 0). */
const struct edit_desk_key edit_desk_keys[] = {
	{ "1", "select tool", GLFW_KEY_1, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_SELECT },
	{ "2", "move tool", GLFW_KEY_2, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_MOVE },
	{ "3", "extrude tool", GLFW_KEY_3, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_EXTRUDE },
	{ "4", "subdivide tool", GLFW_KEY_4, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_SUBDIVIDE },
	{ "5", "vertex tool", GLFW_KEY_5, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_VERTEX },
	{ "6", "primitive tool", GLFW_KEY_6, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_PRIMITIVE },
	{ "7", "paint tool", GLFW_KEY_7, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_PAINT },
	{ "8", "delete tool", GLFW_KEY_8, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_DELETE },
	{ "9", "mirror tool", GLFW_KEY_9, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_MIRROR },
	{ "0", "shape tool", GLFW_KEY_0, 0, EDIT_DESK_CMD_TOOL, EDIT_TOOL_SHAPE },
	{ "Tab", "next tool", GLFW_KEY_TAB, 0, EDIT_DESK_CMD_TOOL_STEP, 1 },
	{ "Shift+Tab", "previous tool", GLFW_KEY_TAB, INP_MOD_SHIFT, EDIT_DESK_CMD_TOOL_STEP, -1 },
	{ "Right", "next option of the tool (selection mode, primitive, colour, ...)", GLFW_KEY_RIGHT, 0,
	  EDIT_DESK_CMD_OPTION, 1 },
	{ "Left", "previous option of the tool", GLFW_KEY_LEFT, 0, EDIT_DESK_CMD_OPTION, -1 },
	{ "Up", "the tool's parameter up (primitive size, paint face / whole, ...)", GLFW_KEY_UP, 0,
	  EDIT_DESK_CMD_PARAM, 1 },
	{ "Down", "the tool's parameter down", GLFW_KEY_DOWN, 0, EDIT_DESK_CMD_PARAM, -1 },
	{ "Ctrl+Z", "undo your newest standing edit", GLFW_KEY_Z, INP_MOD_CTRL, EDIT_DESK_CMD_UNDO, 0 },
	{ "Ctrl+Y", "redo your newest standing undo", GLFW_KEY_Y, INP_MOD_CTRL, EDIT_DESK_CMD_REDO, 0 },
	{ "Ctrl+Shift+Z", "redo your newest standing undo", GLFW_KEY_Z, INP_MOD_CTRL | INP_MOD_SHIFT,
	  EDIT_DESK_CMD_REDO, 0 },
	{ "Escape", "clear the selection", GLFW_KEY_ESCAPE, 0, EDIT_DESK_CMD_CLEAR, 0 },
	{ "F", "frame the selected entity (or everything) in the view", GLFW_KEY_F, 0, EDIT_DESK_CMD_FRAME, 0 },
	{ "O", "show / hide the overlay (frame time, RTT, peers, log position)", GLFW_KEY_O, 0,
	  EDIT_DESK_CMD_OVERLAY, 0 },
	{ "M", "mute / unmute your microphone (docs/voice.md)", GLFW_KEY_M, 0, EDIT_DESK_CMD_MUTE, 0 },
	{ "V (held)", "push-to-talk (with --ptt): the others hear you while it is held", GLFW_KEY_V, 0,
	  EDIT_DESK_CMD_TALK, 0 },
	{ "Ctrl+Q", "quit", GLFW_KEY_Q, INP_MOD_CTRL, EDIT_DESK_CMD_QUIT, 0 },
	{ "Left click", "the tool acts on what is under the cursor (the controller's trigger)", 0, 0,
	  EDIT_DESK_CMD_MOUSE, 0 },
	{ "Left drag", "drags (move, extrude, duplicate) in the plane facing the camera; extruded faces along their normal",
	  0, 0, EDIT_DESK_CMD_MOUSE, 0 },
	{ "Shift or Ctrl + left click", "select: add to (toggle in) the selection (the controller's grip)", 0, 0,
	  EDIT_DESK_CMD_MOUSE, 0 },
	{ "Right drag", "orbit the camera about its target", 0, 0, EDIT_DESK_CMD_MOUSE, 0 },
	{ "Middle drag, or Shift + right drag", "pan the camera", 0, 0, EDIT_DESK_CMD_MOUSE, 0 },
	{ "Wheel", "zoom towards / away from the target", 0, 0, EDIT_DESK_CMD_MOUSE, 0 },
};
const unsigned edit_desk_nkeys = sizeof edit_desk_keys / sizeof edit_desk_keys[0];

/* ---- small vector helpers ------------------------------------------------------------------------ */

static void axis_angle(const float axis[3], float angle, float q[4])
{
	float s = sinf(0.5f * angle);
	q[0] = axis[0] * s;
	q[1] = axis[1] * s;
	q[2] = axis[2] * s;
	q[3] = cosf(0.5f * angle);
}

static void normalize3(float v[3])
{
	float l = sqrtf(edit_dot3(v, v));
	if (l > 0)
		for (int k = 0; k < 3; k++)
			v[k] /= l;
}

/* The camera's axes in world space: right (+X), up (+Y), forward (-Z). */
static void camera_axes(const struct edit_desk *d, float right[3], float up[3], float fwd[3])
{
	static const float x[3] = { 1, 0, 0 }, y[3] = { 0, 1, 0 }, mz[3] = { 0, 0, -1 };
	if (right)
		edit_quat_rotate(d->q, x, right);
	if (up)
		edit_quat_rotate(d->q, y, up);
	if (fwd)
		edit_quat_rotate(d->q, mz, fwd);
}

/* Rotation and eye from yaw, pitch, distance and target. */
static void camera_update(struct edit_desk *d)
{
	static const float ay[3] = { 0, 1, 0 }, ax[3] = { 1, 0, 0 };
	float qy[4], qx[4];
	axis_angle(ay, d->yaw, qy);
	axis_angle(ax, -d->pitch, qx);
	edit_quat_mul(qy, qx, d->q);
	float fwd[3];
	camera_axes(d, NULL, NULL, fwd);
	for (int k = 0; k < 3; k++)
		d->eye[k] = d->target[k] - d->dist * fwd[k];
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

int edit_desk_create(const struct edit_desk_config *c, struct edit_desk **out)
{
	struct edit_desk_config z = { 0 };
	if (!c)
		c = &z;
	if (!isfinite(c->fovy) || c->fovy < 0 || c->fovy >= 3.1f || !isfinite(c->distance) || c->distance < 0 ||
	    !isfinite(c->yaw) || !isfinite(c->pitch) || !isfinite(c->target[0]) || !isfinite(c->target[1]) ||
	    !isfinite(c->target[2]))
		return -EINVAL;
	struct edit_desk *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->fovy = c->fovy > 0 ? c->fovy : DESK_FOVY_DEFAULT;
	if (c->target[0] == 0 && c->target[1] == 0 && c->target[2] == 0)
		d->target[1] = 0.8f;
	else
		memcpy(d->target, c->target, sizeof d->target);
	d->dist = clampf(c->distance > 0 ? c->distance : DESK_DIST_DEFAULT, EDIT_DESK_DIST_MIN, EDIT_DESK_DIST_MAX);
	d->yaw = c->yaw;
	d->pitch = clampf(c->pitch != 0 ? c->pitch : EDIT_DESK_PITCH_DEFAULT, -EDIT_DESK_PITCH_MAX,
			  EDIT_DESK_PITCH_MAX);
	camera_update(d);
	*out = d;
	return 0;
}

void edit_desk_destroy(struct edit_desk **p)
{
	if (p && *p) {
		free(*p);
		*p = NULL;
	}
}

void edit_desk_camera(const struct edit_desk *d, float eye[3], float target[3], float up[3])
{
	if (eye)
		memcpy(eye, d->eye, sizeof d->eye);
	if (target)
		memcpy(target, d->target, sizeof d->target);
	if (up)
		camera_axes(d, NULL, up, NULL);
}

/* ---- the camera from the mouse ------------------------------------------------------------------- */

static void orbit(struct edit_desk *d, double dx, double dy)
{
	d->yaw -= (float)dx * EDIT_DESK_ORBIT_RAD_PER_PX;
	d->yaw = remainderf(d->yaw, 2.0f * (float)M_PI);
	d->pitch = clampf(d->pitch + (float)dy * EDIT_DESK_ORBIT_RAD_PER_PX, -EDIT_DESK_PITCH_MAX, EDIT_DESK_PITCH_MAX);
}

/* The point under the cursor at the target's depth follows the cursor. */
static void pan(struct edit_desk *d, double dx, double dy, uint32_t height)
{
	if (height == 0)
		return;
	float per_px = 2.0f * d->dist * tanf(0.5f * d->fovy) / (float)height;
	float right[3], up[3];
	camera_axes(d, right, up, NULL);
	for (int k = 0; k < 3; k++)
		d->target[k] += per_px * (-(float)dx * right[k] + (float)dy * up[k]);
}

static void zoom(struct edit_desk *d, double steps)
{
	d->dist = clampf(d->dist * powf(EDIT_DESK_ZOOM_STEP, (float)steps), EDIT_DESK_DIST_MIN, EDIT_DESK_DIST_MAX);
}

static void grow_box(float lo[3], float hi[3], const float p[3])
{
	for (int k = 0; k < 3; k++) {
		lo[k] = fminf(lo[k], p[k]);
		hi[k] = fmaxf(hi[k], p[k]);
	}
}

/* Grows the box by the world positions of entity's mesh; false without one. */
static bool entity_box(const struct th_scene *sc, uint64_t entity, float lo[3], float hi[3])
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_entity_mesh(sc, entity, &t, &m))
		return false;
	bool any = false;
	for (uint32_t v = 0; v < m->nverts; v++) {
		if (!m->verts[v].id)
			continue;
		float w[3];
		edit_xf_point_to_world(t, m->verts[v].pos, w);
		grow_box(lo, hi, w);
		any = true;
	}
	return any;
}

/* F: the target at the middle of the selected entity (or of every mesh),
 * backed off until its bounding sphere fits the view's height. */
static void frame_view(struct edit_desk *d, const struct edit *ed, const struct th_scene *sc)
{
	if (!sc)
		return;
	float lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
	bool any = false;
	const struct edit_selection *sel = ed ? edit_selection(ed) : NULL;
	if (sel && sel->entity)
		any = entity_box(sc, sel->entity, lo, hi);
	if (!any) {
		size_t cur = 0;
		uint64_t id;
		while (th_scene_next_entity(sc, &cur, &id))
			any |= entity_box(sc, id, lo, hi);
	}
	if (!any)
		return;
	float r2 = 0;
	for (int k = 0; k < 3; k++) {
		d->target[k] = 0.5f * (lo[k] + hi[k]);
		r2 += 0.25f * (hi[k] - lo[k]) * (hi[k] - lo[k]);
	}
	float radius = fmaxf(sqrtf(r2), DESK_FRAME_RADIUS_MIN);
	d->dist = clampf(EDIT_DESK_FRAME_MARGIN * radius / sinf(0.5f * d->fovy), EDIT_DESK_DIST_MIN,
			 EDIT_DESK_DIST_MAX);
}

/* ---- keys ---------------------------------------------------------------------------------------- */

static unsigned apply_key(struct edit_desk *d, const struct inp_key *k, struct edit *ed, const struct th_scene *sc)
{
	uint32_t mods = k->mods & (INP_MOD_SHIFT | INP_MOD_CTRL | INP_MOD_ALT | INP_MOD_SUPER);
	for (unsigned i = 0; i < edit_desk_nkeys; i++) {
		const struct edit_desk_key *e = &edit_desk_keys[i];
		if (e->cmd == EDIT_DESK_CMD_MOUSE || e->key != k->key || e->mods != mods)
			continue;
		switch (e->cmd) {
		case EDIT_DESK_CMD_OVERLAY: return EDIT_DESK_TOGGLE_OVERLAY;
		case EDIT_DESK_CMD_QUIT: return EDIT_DESK_QUIT;
		case EDIT_DESK_CMD_MUTE: return k->repeat ? 0 : EDIT_DESK_TOGGLE_MUTE;
		case EDIT_DESK_CMD_TALK: return 0; /* held, not typed: edit_desk_frame */
		case EDIT_DESK_CMD_FRAME: frame_view(d, ed, sc); return 0;
		default: break;
		}
		if (!ed)
			return 0;
		switch (e->cmd) {
		case EDIT_DESK_CMD_TOOL: edit_set_tool(ed, (uint32_t)e->arg); break;
		case EDIT_DESK_CMD_TOOL_STEP: {
			uint32_t t = edit_tool(ed) - 1; /* 0-based, then one step around the cycle */
			t = (t + (e->arg > 0 ? 1u : EDIT_TOOL_MAX - 1u)) % EDIT_TOOL_MAX;
			edit_set_tool(ed, t + 1);
			break;
		}
		case EDIT_DESK_CMD_OPTION: edit_step_option(ed, e->arg); break;
		case EDIT_DESK_CMD_PARAM: edit_step_param(ed, e->arg); break;
		case EDIT_DESK_CMD_UNDO: edit_undo(ed); break;
		case EDIT_DESK_CMD_REDO: edit_redo(ed); break;
		case EDIT_DESK_CMD_CLEAR: edit_clear_selection(ed); break;
		default: break;
		}
		return 0;
	}
	return 0;
}

/* ---- the mouse ray and the virtual controller ---------------------------------------------------- */

/* False for NaN too. */
static bool cursor_known(const struct inp_desktop *k)
{
	return fabs(k->cursor[0]) <= DESK_CURSOR_MAX && fabs(k->cursor[1]) <= DESK_CURSOR_MAX;
}

/* The ray through the cursor (pixels from the top left of a w x h view). */
static void cursor_ray(const struct edit_desk *d, const struct inp_desktop *k, float dir[3])
{
	float tf = tanf(0.5f * d->fovy), aspect = (float)k->width / (float)k->height;
	float x = (float)(2.0 * k->cursor[0] / k->width - 1.0), y = (float)(1.0 - 2.0 * k->cursor[1] / k->height);
	float local[3] = { x * tf * aspect, y * tf, -1.0f };
	edit_quat_rotate(d->q, local, dir);
	normalize3(dir);
}

/* A rotation whose -Z is dir (unit): the camera's turned the shortest way
 * onto dir, so its +Y stays near the camera's up. */
static void look_rotation(const float dir[3], const float cam_q[4], float q[4])
{
	static const float mz[3] = { 0, 0, -1 };
	float from[3];
	edit_quat_rotate(cam_q, mz, from);
	/* The shortest turn from the camera's forward to dir, after the camera's rotation. */
	float c = edit_dot3(from, dir);
	float axis[3] = { from[1] * dir[2] - from[2] * dir[1], from[2] * dir[0] - from[0] * dir[2],
			  from[0] * dir[1] - from[1] * dir[0] };
	float s = sqrtf(edit_dot3(axis, axis));
	if (s < 1e-7f) {
		memcpy(q, cam_q, 4 * sizeof *q);
		return;
	}
	for (int k = 0; k < 3; k++)
		axis[k] /= s;
	float turn[4];
	axis_angle(axis, atan2f(s, c), turn);
	edit_quat_mul(turn, cam_q, q);
}

/* Where the tip goes for a ray that is not dragging: on the element the
 * tool's mode picks (an edge's nearest point to the hit, a vertex), on the
 * surface for the other modes, the vertex tool and a miss of the element;
 * with nothing under the cursor, EDIT_DESK_REACH along the ray (the
 * primitive tool: where the ray crosses the plane through the camera's
 * target facing it, so a stamp lands at the depth the view is about). */
static void ray_tip(struct edit_desk *d, const float origin[3], const float dir[3], float tolerance,
		    struct edit *ed, struct edit_rays *rays, const struct th_scene *sc, float tip[3],
		    struct edit_hit *surface)
{
	if (surface)
		surface->entity = 0;
	uint32_t mode = ed ? edit_tool_mode(ed) : TH_SELECT_FACE;
	bool element = (mode == TH_SELECT_EDGE || mode == TH_SELECT_VERTEX) && edit_tool(ed) != EDIT_TOOL_VERTEX;
	struct edit_ray r = { .tolerance = tolerance, .mode = element ? mode : TH_SELECT_FACE };
	memcpy(r.origin, origin, sizeof r.origin);
	memcpy(r.dir, dir, sizeof r.dir);
	struct edit_hit h;
	if (sc && rays && element && edit_raycast(rays, sc, &r, &h) == 1) {
		float a[3], b[3];
		if (mode == TH_SELECT_VERTEX && edit_vertex_world(sc, h.entity, h.a, tip))
			return;
		if (mode == TH_SELECT_EDGE && edit_vertex_world(sc, h.entity, h.a, a) &&
		    edit_vertex_world(sc, h.entity, h.b, b)) {
			float ab[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] }, ap[3];
			for (int k = 0; k < 3; k++)
				ap[k] = h.point[k] - a[k];
			float l2 = edit_dot3(ab, ab), t = l2 > 0 ? clampf(edit_dot3(ap, ab) / l2, 0, 1) : 0;
			for (int k = 0; k < 3; k++)
				tip[k] = a[k] + t * ab[k];
			return;
		}
	}
	r.mode = TH_SELECT_FACE;
	if (sc && rays && edit_raycast(rays, sc, &r, &h) == 1) {
		memcpy(tip, h.point, 3 * sizeof *tip);
		if (surface)
			*surface = h;
		return;
	}
	float fwd[3];
	camera_axes(d, NULL, NULL, fwd);
	if (mode == EDIT_MODE_NONE && ed && edit_ray_plane(&r, d->target, fwd, tip) == 1)
		return;
	for (int k = 0; k < 3; k++)
		tip[k] = origin[k] + EDIT_DESK_REACH * dir[k];
}

/* The plane a drag from a press on face hit moves in: facing the camera,
 * except for extrude's faces and region, which pull along the face's
 * normal: the plane holding that normal that faces the camera most, so the
 * tip follows the mouse along the normal as the screen shows it (the
 * camera's when it looks along the normal, within EDIT_DESK_NORMAL_VIEW). */
static void drag_plane(const struct edit_desk *d, const struct edit *ed, const struct th_scene *sc,
		       const struct edit_hit *hit, float plane_n[3])
{
	camera_axes(d, NULL, NULL, plane_n);
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!ed || !sc || !hit->entity || edit_tool(ed) != EDIT_TOOL_EXTRUDE || edit_tool_mode(ed) != TH_SELECT_FACE ||
	    !edit_entity_mesh(sc, hit->entity, &t, &m))
		return;
	int32_t f = th_mesh_face_find(m, hit->element);
	float ln[3], c[3], n[3];
	if (f < 0 || th_mesh_face_normal(m, f, ln, c) < 0)
		return;
	edit_xf_normal_to_world(t, ln, n);
	float along = edit_dot3(plane_n, n), p[3];
	for (int k = 0; k < 3; k++)
		p[k] = plane_n[k] - along * n[k];
	if (sqrtf(edit_dot3(p, p)) < EDIT_DESK_NORMAL_VIEW)
		return;
	normalize3(p);
	memcpy(plane_n, p, sizeof p);
}

static bool twisting(const struct edit *ed)
{
	const char *o = ed && edit_tool(ed) == EDIT_TOOL_MOVE ? edit_option_name(ed) : NULL;
	return o && strcmp(o, "rotate") == 0;
}

static void virtual_controller(struct edit_desk *d, struct inp_state *in, struct edit *ed, struct edit_rays *rays,
			       const struct th_scene *sc)
{
	const struct inp_desktop *k = &in->desk;
	struct inp_controller *c = &in->hand[INP_RIGHT];
	bool left_down = (k->buttons | k->pressed) & INP_MOUSE_LEFT;
	c->trigger = left_down ? 1.0f : 0.0f;
	c->grip = (k->mods & (INP_MOD_CTRL | INP_MOD_SHIFT)) ? 1.0f : 0.0f;
	c->buttons = c->pressed = c->released = 0;
	c->thumbstick[0] = c->thumbstick[1] = 0;
	if (k->width == 0 || k->height == 0 || !cursor_known(k)) {
		c->pose.valid = c->aim.valid = false;
		d->grabbing = false;
		return;
	}
	float dir[3];
	cursor_ray(d, k, dir);
	memcpy(c->aim.position, d->eye, sizeof c->aim.position);
	look_rotation(dir, d->q, c->aim.rotation);
	c->aim.valid = true;

	float focal_px = 0.5f * (float)k->height / tanf(0.5f * d->fovy);
	struct edit_ray r = { .tolerance = EDIT_DESK_PICK_PX / focal_px };
	memcpy(r.origin, d->eye, sizeof r.origin);
	memcpy(r.dir, dir, sizeof r.dir);
	/* The frame of the release still drags: the editor ends the drag
	 * where the tip is this frame. */
	bool ending = d->grabbing && !(k->buttons & INP_MOUSE_LEFT);
	if (!d->grabbing && (k->pressed & INP_MOUSE_LEFT)) {
		struct edit_hit hit;
		ray_tip(d, d->eye, dir, r.tolerance, ed, rays, sc, d->tip, &hit);
		memcpy(d->grab_point, d->tip, sizeof d->grab_point);
		drag_plane(d, ed, sc, &hit, d->grab_normal);
		memcpy(d->grab_cursor, k->cursor, sizeof d->grab_cursor);
		d->grabbing = (k->buttons & INP_MOUSE_LEFT) != 0;
	} else if (d->grabbing) {
		float p[3];
		if (edit_ray_plane(&r, d->grab_point, d->grab_normal, p) == 1)
			memcpy(d->tip, p, sizeof d->tip);
	} else {
		ray_tip(d, d->eye, dir, r.tolerance, ed, rays, sc, d->tip, NULL);
	}
	memcpy(c->pose.position, d->tip, sizeof c->pose.position);
	memcpy(c->pose.rotation, d->q, sizeof c->pose.rotation);
	if (d->grabbing && twisting(ed)) {
		static const float z[3] = { 0, 0, 1 };
		float tw[4];
		axis_angle(z, -(float)(k->cursor[0] - d->grab_cursor[0]) * EDIT_DESK_TWIST_RAD_PER_PX, tw);
		edit_quat_mul(d->q, tw, c->pose.rotation);
	}
	c->pose.valid = k->cursor_inside || d->grabbing;
	if (ending)
		d->grabbing = false;
}

/* ---- the frame ----------------------------------------------------------------------------------- */

unsigned edit_desk_frame(struct edit_desk *d, uint64_t now_ns, struct inp_state *in, struct edit *ed,
			 struct edit_rays *rays, const struct th_scene *sc)
{
	const struct inp_desktop *k = &in->desk;
	if (!k->present)
		return 0;
	unsigned flags = 0;
	/* The camera: drags move it by the cursor's motion since the last
	 * frame, for buttons that were already down then. */
	bool known = cursor_known(k);
	double dx = d->have_cursor && known ? k->cursor[0] - d->last_cursor[0] : 0;
	double dy = d->have_cursor && known ? k->cursor[1] - d->last_cursor[1] : 0;
	uint32_t held = k->buttons & d->last_buttons;
	if ((held & INP_MOUSE_MIDDLE) || ((held & INP_MOUSE_RIGHT) && (k->mods & INP_MOD_SHIFT)))
		pan(d, dx, dy, k->height);
	else if (held & INP_MOUSE_RIGHT)
		orbit(d, dx, dy);
	if (k->scroll != 0 && isfinite(k->scroll))
		zoom(d, k->scroll);
	if (known)
		memcpy(d->last_cursor, k->cursor, sizeof d->last_cursor);
	d->have_cursor = known;
	d->last_buttons = k->buttons;

	/* Two O's in one frame (a slow frame, a repeat) show and hide again;
	 * two M's mute and unmute. */
	const unsigned toggles = EDIT_DESK_TOGGLE_OVERLAY | EDIT_DESK_TOGGLE_MUTE;
	for (unsigned i = 0; i < k->nkeys && i < INP_DESK_KEYS_MAX; i++) {
		unsigned a = apply_key(d, &k->keys[i], ed, sc);
		flags = (flags ^ (a & toggles)) | (a & ~toggles);
	}
	for (unsigned i = 0; i < edit_desk_nkeys; i++)
		if (edit_desk_keys[i].cmd == EDIT_DESK_CMD_TALK)
			for (unsigned j = 0; j < k->nheld && j < INP_DESK_HELD_MAX; j++)
				if (k->held[j] == edit_desk_keys[i].key)
					flags |= EDIT_DESK_TALK;
	camera_update(d);

	memcpy(in->head.position, d->eye, sizeof in->head.position);
	memcpy(in->head.rotation, d->q, sizeof in->head.rotation);
	in->head.valid = true;
	struct inp_controller *l = &in->hand[INP_LEFT];
	l->pose.valid = l->aim.valid = false;
	l->buttons = l->pressed = l->released = 0;
	l->trigger = l->grip = 0;
	virtual_controller(d, in, ed, rays, sc);
	return flags;
}
