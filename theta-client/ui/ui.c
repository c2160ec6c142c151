/* The editor's panels (ui.h, docs/ui.md): each frame the panels' content
 * is built (ui_panels.c), placed (above the left grip and in front of the
 * head in the headset, along the window's edges on the desktop),
 * hit-tested with the right aim ray or the cursor, a press applied through
 * the editor's API and consumed, and the triangles built (ui_mesh.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit.h"
#include "edit/edit_pick.h"
#include "ui/ui_int.h"

#define UI_DESK_DEFAULT_W 1280u /* the size of a desktop input that gives none */
#define UI_DESK_DEFAULT_H 720u

static const float up_axis[3] = { 0, 1, 0 };

static float dot3(const float a[3], const float b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(const float a[3], const float b[3], float out[3])
{
	float r[3] = { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };
	memcpy(out, r, sizeof r);
}

/* v with y dropped, unit; fallback when it is (nearly) vertical. */
static void level(const float v[3], const float fallback[3], float out[3])
{
	float l = sqrtf(v[0] * v[0] + v[2] * v[2]);
	if (!(l > 1e-4f)) {
		memcpy(out, fallback, 3 * sizeof(float));
		return;
	}
	out[0] = v[0] / l;
	out[1] = 0;
	out[2] = v[2] / l;
}

/* p's corner at c, its pixels along right and down (unit) at s metres. */
static void place_world(struct ui_pane *p, const float c[3], const float right[3], const float down[3], float s)
{
	for (int k = 0; k < 3; k++) {
		p->o[k] = c[k];
		p->ax[k] = right[k] * s;
		p->ay[k] = down[k] * s;
	}
	p->placed = true;
}

static void place_px(struct ui_pane *p, float x, float y)
{
	p->o[0] = roundf(x);
	p->o[1] = roundf(y);
	p->o[2] = 0;
	p->ax[0] = 1;
	p->ax[1] = p->ax[2] = 0;
	p->ay[1] = 1;
	p->ay[0] = p->ay[2] = 0;
	p->placed = true;
}

static void unit3(float v[3])
{
	float l = sqrtf(dot3(v, v));
	if (l > 0)
		for (int k = 0; k < 3; k++)
			v[k] /= l;
}

/* The headset: tools and colours side by side above the left grip, tilted
 * to face the head (their rows level); history, inspector and overlay
 * UI_HEAD_DIST in front of the head along its level heading, upright:
 * history left and below the gaze, the inspector right and below, the
 * overlay above (docs/ui.md, "Layout"). */
static void place_headset(struct ui *u, const struct inp_state *in)
{
	const float *head = in->head.position;
	const struct inp_pose *grip = &in->hand[INP_LEFT].pose;
	const float ws = u->scale; /* the world's scale: panels keep their size to the user */
	if (grip->valid) {
		const float s = UI_M_PER_PX_HAND * ws;
		const float *a = grip->position;
		static const int row[] = { UI_PANEL_TOOLS, UI_PANEL_COLOURS };
		float w = UI_PANEL_GAP, h = 0;
		for (unsigned i = 0; i < 2; i++) {
			w += u->pane[row[i]].w;
			h = fmaxf(h, u->pane[row[i]].h);
		}
		/* The middle of the row's bottom edge, and the way to the head. */
		float b[3] = { a[0], a[1] + UI_HAND_LIFT * ws, a[2] };
		float n[3] = { head[0] - b[0], head[1] - (b[1] + h * s / 2), head[2] - b[2] }, right[3], pup[3], down[3];
		float lvl[3];
		level(n, (const float[3]){ 0, 0, 1 }, lvl);
		cross3(up_axis, lvl, right);
		if (!(dot3(n, n) > 1e-8f))
			memcpy(n, lvl, sizeof n);
		unit3(n);
		cross3(n, right, pup);
		unit3(pup);
		for (int k = 0; k < 3; k++)
			down[k] = -pup[k];
		float x = -w / 2;
		for (unsigned i = 0; i < 2; i++) {
			struct ui_pane *p = &u->pane[row[i]];
			float c[3];
			for (int k = 0; k < 3; k++)
				c[k] = b[k] + pup[k] * h * s + right[k] * x * s;
			if (u->visible[row[i]])
				place_world(p, c, right, down, s);
			x += p->w + UI_PANEL_GAP;
		}
	}
	const float s = UI_M_PER_PX_HEAD * ws;
	const float down[3] = { 0, -1, 0 };
	float fwd[3], f[3], right[3];
	edit_quat_rotate(in->head.rotation, (const float[3]){ 0, 0, -1 }, fwd);
	level(fwd, (const float[3]){ 0, 0, -1 }, f);
	cross3(f, up_axis, right);
	/* Each panel's centre across, and its top edge (below the gaze) or
	 * bottom edge (above it) up from the eyes. */
	struct {
		int which;
		float across, edge;
		bool below;
	} const at[] = {
		{ UI_PANEL_HISTORY, -UI_HEAD_SIDE * ws, -UI_HEAD_BELOW * ws, true },
		{ UI_PANEL_INSPECTOR, UI_HEAD_SIDE * ws, -UI_HEAD_BELOW * ws, true },
		{ UI_PANEL_OVERLAY, 0, UI_HEAD_ABOVE * ws, false },
	};
	for (unsigned i = 0; i < sizeof at / sizeof at[0]; i++) {
		struct ui_pane *p = &u->pane[at[i].which];
		if (!u->visible[at[i].which])
			continue;
		float top = at[i].below ? at[i].edge : at[i].edge + p->h * s, c[3];
		for (int k = 0; k < 3; k++)
			c[k] = head[k] + f[k] * UI_HEAD_DIST * ws + right[k] * (at[i].across - p->w * s / 2) +
			       up_axis[k] * top;
		place_world(p, c, right, down, s);
	}
}

/* Panels stacked down from the top of the window, x in from the left
 * edge or the right one; one that would pass the bottom starts a new
 * column beside the previous one (unless it is the column's first). */
struct ui_stack {
	float x, y, colw;
	bool from_right;
};

static void stack(struct ui *u, struct ui_stack *st, int which, float win_w, float win_h)
{
	struct ui_pane *p = &u->pane[which];
	if (!u->visible[which])
		return;
	if (st->y > UI_MARGIN && st->y + p->h > win_h - UI_MARGIN) {
		st->x += st->colw + UI_PANEL_GAP;
		st->y = UI_MARGIN;
		st->colw = 0;
	}
	place_px(p, st->from_right ? win_w - st->x - p->w : st->x, st->y);
	st->y += p->h + UI_PANEL_GAP;
	st->colw = fmaxf(st->colw, p->w);
}

/* The desktop: tools and colours down the left edge, history and the
 * inspector down the right (a small window: in more columns), the overlay
 * at the top in the middle. */
static void place_desktop(struct ui *u, const struct inp_state *in)
{
	float w = (float)(in->desk.width ? in->desk.width : UI_DESK_DEFAULT_W);
	float h = (float)(in->desk.height ? in->desk.height : UI_DESK_DEFAULT_H);
	struct ui_stack left = { .x = UI_MARGIN, .y = UI_MARGIN };
	struct ui_stack right = { .x = UI_MARGIN, .y = UI_MARGIN, .from_right = true };
	stack(u, &left, UI_PANEL_TOOLS, w, h);
	stack(u, &left, UI_PANEL_COLOURS, w, h);
	stack(u, &right, UI_PANEL_HISTORY, w, h);
	stack(u, &right, UI_PANEL_INSPECTOR, w, h);
	if (u->visible[UI_PANEL_OVERLAY])
		place_px(&u->pane[UI_PANEL_OVERLAY], (w - u->pane[UI_PANEL_OVERLAY].w) / 2, UI_MARGIN);
}

static void lay_out(struct ui *u, const struct edit *ed, const struct ui_frame_in *fi, const struct inp_state *in)
{
	ui_panels_build(u, ed, fi);
	for (int i = 0; i < UI_PANELS; i++)
		u->pane[i].placed = false;
	if (u->desktop)
		place_desktop(u, in);
	else
		place_headset(u, in);
}

/* The item of p with a press at panel pixel (x, y), or -1. */
static int item_at(const struct ui_pane *p, float x, float y)
{
	for (unsigned i = 0; i < p->n; i++) {
		const struct ui_item *it = &p->it[i];
		if (it->press != UI_PRESS_NONE && x >= it->x && x <= it->x + it->w && y >= it->y && y <= it->y + it->h)
			return (int)i;
	}
	return -1;
}

static bool pressable(const struct ui_pane *p)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->it[i].press != UI_PRESS_NONE)
			return true;
	return false;
}

/* The right hand's pointing ray: the aim pose, or the grip pose when the
 * source gives no aim. false when neither is tracked. */
static bool aim_ray(const struct inp_state *in, float o[3], float d[3])
{
	const struct inp_controller *r = &in->hand[INP_RIGHT];
	const struct inp_pose *ray = r->aim.valid ? &r->aim : r->pose.valid ? &r->pose : NULL;
	if (!ray)
		return false;
	memcpy(o, ray->position, 3 * sizeof(float));
	edit_quat_rotate(ray->rotation, (const float[3]){ 0, 0, -1 }, d);
	return true;
}

static void hit_test(struct ui *u, const struct inp_state *in)
{
	u->hover_panel = u->hover_item = -1;
	if (u->desktop) {
		if (!in->desk.present || !in->desk.cursor_inside)
			return;
		float cx = (float)in->desk.cursor[0], cy = (float)in->desk.cursor[1];
		/* The overlay is laid last and on top: the last panel hit wins. */
		for (int i = 0; i < UI_PANELS; i++) {
			const struct ui_pane *p = &u->pane[i];
			float x = cx - p->o[0], y = cy - p->o[1];
			if (p->placed && x >= 0 && y >= 0 && x <= p->w && y <= p->h) {
				u->hover_panel = i;
				u->hover_at[0] = x;
				u->hover_at[1] = y;
			}
		}
	} else {
		float o[3], d[3], best = UI_RAY_MAX * u->scale;
		if (!aim_ray(in, o, d))
			return;
		for (int i = 0; i < UI_PANELS; i++) {
			const struct ui_pane *p = &u->pane[i];
			/* The ray is not the tool (the tip is): it crosses the
			 * panels without a button (inspector, overlay) as if
			 * they were not there, so they never take a press. */
			if (!p->placed || !pressable(p))
				continue;
			float n[3], rel[3];
			cross3(p->ax, p->ay, n);
			float den = dot3(d, n);
			if (fabsf(den) < 1e-12f)
				continue;
			for (int k = 0; k < 3; k++)
				rel[k] = p->o[k] - o[k];
			float t = dot3(rel, n) / den;
			if (!(t >= 0 && t < best))
				continue;
			float q[3];
			for (int k = 0; k < 3; k++)
				q[k] = o[k] + d[k] * t - p->o[k];
			float x = dot3(q, p->ax) / dot3(p->ax, p->ax), y = dot3(q, p->ay) / dot3(p->ay, p->ay);
			if (x < 0 || y < 0 || x > p->w || y > p->h)
				continue;
			best = t;
			u->hover_panel = i;
			u->hover_at[0] = x;
			u->hover_at[1] = y;
		}
	}
	if (u->hover_panel >= 0)
		u->hover_item = item_at(&u->pane[u->hover_panel], u->hover_at[0], u->hover_at[1]);
}

static unsigned apply(struct ui *u, struct edit *ed, const struct ui_item *it)
{
	if (it->press == UI_PRESS_OVERLAY) {
		u->visible[UI_PANEL_OVERLAY] = !u->visible[UI_PANEL_OVERLAY];
		return UI_ACT_OVERLAY;
	}
	if (!ed)
		return UI_ACT_REFUSED;
	switch (it->press) {
	case UI_PRESS_TOOL:
		return edit_set_tool(ed, it->arg) == 0 ? UI_ACT_TOOL : UI_ACT_REFUSED;
	case UI_PRESS_COLOUR: {
		unsigned a = 0;
		if (edit_tool(ed) != EDIT_TOOL_PAINT) {
			if (edit_set_tool(ed, EDIT_TOOL_PAINT) != 0)
				return UI_ACT_REFUSED;
			a |= UI_ACT_TOOL;
		}
		return a | (edit_set_option(ed, it->arg) == 0 ? UI_ACT_COLOUR : UI_ACT_REFUSED);
	}
	case UI_PRESS_UNDO:
		return edit_undo(ed) == 0 ? UI_ACT_UNDO : UI_ACT_REFUSED;
	case UI_PRESS_REDO:
		return edit_redo(ed) == 0 ? UI_ACT_REDO : UI_ACT_REFUSED;
	}
	return 0;
}

/* Clears the right trigger and the left mouse button from the input. */
static void consume(struct inp_state *in)
{
	struct inp_controller *r = &in->hand[INP_RIGHT];
	r->trigger = 0;
	r->buttons &= ~TH_BUTTON_TRIGGER;
	r->pressed &= ~TH_BUTTON_TRIGGER;
	r->released &= ~TH_BUTTON_TRIGGER;
	in->desk.buttons &= ~(uint32_t)INP_MOUSE_LEFT;
	in->desk.pressed &= ~(uint32_t)INP_MOUSE_LEFT;
	in->desk.released &= ~(uint32_t)INP_MOUSE_LEFT;
}

int ui_frame(struct ui *u, uint64_t now_ns, struct inp_state *in, struct edit *ed, const struct ui_frame_in *fi,
	     struct ui_frame_out *out)
{
	struct ui_frame_out o = { .hover_panel = -1 };
	static const struct ui_frame_in none;
	if (!u || !in)
		return -EINVAL;
	if (!fi)
		fi = &none;
	u->desktop = fi->desktop;
	u->scale = fi->world_scale > 0 && isfinite(fi->world_scale) ? fi->world_scale : 1.0f;
	lay_out(u, ed, fi, in);
	hit_test(u, in);

	/* The press: the trigger (with the editor's hysteresis, or its
	 * click) in the headset, the left button on the desktop. */
	bool now, press;
	if (u->desktop) {
		now = in->desk.buttons & INP_MOUSE_LEFT;
		press = !u->down && (now || (in->desk.pressed & INP_MOUSE_LEFT));
	} else {
		const struct inp_controller *r = &in->hand[INP_RIGHT];
		bool click = r->buttons & TH_BUTTON_TRIGGER;
		now = u->down ? (r->trigger > EDIT_TRIGGER_UP || click) : (r->trigger >= EDIT_TRIGGER_DOWN || click);
		press = !u->down && (now || (r->pressed & TH_BUTTON_TRIGGER));
		if (in->hand[INP_LEFT].pressed & TH_BUTTON_THUMBSTICK) {
			u->visible[UI_PANEL_OVERLAY] = !u->visible[UI_PANEL_OVERLAY];
			o.actions |= UI_ACT_OVERLAY;
		}
	}
	u->down = now;
	if (press && u->hover_panel >= 0) {
		u->captured = true;
		if (u->hover_item >= 0)
			o.actions |= apply(u, ed, &u->pane[u->hover_panel].it[u->hover_item]);
	}
	if (u->captured) {
		consume(in);
		o.consumed = true;
		if (!now)
			u->captured = false;
	}
	if (o.actions) {
		/* What the press changed (the lit tool, the history, a panel
		 * shown or hidden) shows this frame. */
		lay_out(u, ed, fi, in);
		hit_test(u, in);
	}
	o.hover = u->hover_panel >= 0;
	o.hover_panel = u->hover_panel;
	int rc = ui_mesh_build(u);
	if (out)
		*out = o;
	(void)now_ns;
	return rc;
}

int ui_create(struct ui **out)
{
	struct ui *u = calloc(1, sizeof *u);
	if (!u)
		return -ENOMEM;
	for (int i = 0; i < UI_PANELS; i++)
		u->visible[i] = i != UI_PANEL_OVERLAY;
	u->hover_panel = u->hover_item = -1;
	*out = u;
	return 0;
}

void ui_destroy(struct ui **p)
{
	if (!p || !*p)
		return;
	free((*p)->world.v);
	free((*p)->screen.v);
	free(*p);
	*p = NULL;
}

void ui_set_visible(struct ui *u, enum ui_panel p, bool on)
{
	if (u && (unsigned)p < UI_PANELS)
		u->visible[p] = on;
}

bool ui_visible(const struct ui *u, enum ui_panel p)
{
	return u && (unsigned)p < UI_PANELS && u->visible[p];
}

struct ui_mesh ui_world_mesh(const struct ui *u)
{
	return u ? (struct ui_mesh){ u->world.v, u->world.n } : (struct ui_mesh){ 0 };
}

struct ui_mesh ui_screen_mesh(const struct ui *u)
{
	return u ? (struct ui_mesh){ u->screen.v, u->screen.n } : (struct ui_mesh){ 0 };
}

const char *ui_panel_text(const struct ui *u, enum ui_panel p)
{
	if (!ui_visible(u, p))
		return NULL;
	return u->pane[p].text;
}

int ui_button_centre(const struct ui *u, enum ui_panel p, const char *label, float out[3])
{
	if (!u || (unsigned)p >= UI_PANELS || !label || !u->pane[p].placed)
		return -ENOENT;
	const struct ui_pane *pn = &u->pane[p];
	for (unsigned i = 0; i < pn->n; i++) {
		const struct ui_item *it = &pn->it[i];
		if (it->press == UI_PRESS_NONE || strcmp(it->label, label) != 0)
			continue;
		float x = it->x + it->w / 2, y = it->y + it->h / 2;
		for (int k = 0; k < 3; k++)
			out[k] = pn->o[k] + x * pn->ax[k] + y * pn->ay[k];
		return 0;
	}
	return -ENOENT;
}
