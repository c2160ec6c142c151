/* The Vulkan renderer as the loop sees it (gfx.h): a backend, the core and
 * the frame list, the camera, and the rebuild after a device loss. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gfx/gfx.h"
#include "edit/edit.h"
#include "gfx/gfx_backend.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_vk.h"
#include "th_hash.h"
#include "th_log.h"
#include "th_schema.h"
#include "ui/ui.h"
#include "ui/ui_font.h"

#define GFX_DEFAULT_W 1280u
#define GFX_DEFAULT_H 720u
#define GFX_HEADLESS_DEFAULT_W 640u
#define GFX_HEADLESS_DEFAULT_H 360u
#define GFX_DEFAULT_FOVY 1.0471976f /* 60 degrees */
#define GFX_DEFAULT_IPD 0.063f
#define GFX_NEAR 0.05f
#define GFX_FAR 200.0f
#define GFX_MIN_RADIUS 0.25f /* the auto camera frames at least this much */
#define GFX_BOUNDS_MIN 64u       /* slots of the bounds table at least */
#define GFX_BOUNDS_MAX (1u << 20) /* and at most */

/* The auto camera's memory of each mesh's box, by mesh id (open
 * addressing): a mesh's vertices are read again only when it changed. */
struct gfx_bounds_entry {
	uint64_t id; /* 0: a free slot */
	const struct th_mesh *m;
	uint64_t version;
	float lo[3], hi[3];
	bool empty;
};

struct gfx_renderer {
	struct app_renderer base;
	struct gfx_options o;
	struct sim_world *w;
	struct gfx_sources src;
	struct gfx_backend *be;
	struct gfx_vk *vk;
	struct gfx_draw *draw;
	struct gfx_list list;
	struct sim_query *hands;
	uint32_t losses_in_row;
	uint64_t frame;
	struct gfx_renderer_stats st;
	struct gfx_bounds_entry *bounds;
	uint32_t bounds_cap, bounds_used;
};

static const struct app_renderer_ops gfx_ops;

int gfx_renderer_parse(const char *s, enum gfx_renderer_kind *out)
{
	static const struct {
		const char *name;
		enum gfx_renderer_kind k;
	} names[] = { { "auto", GFX_RENDERER_AUTO },         { "xr", GFX_RENDERER_XR },
		      { "openxr", GFX_RENDERER_XR },         { "window", GFX_RENDERER_WINDOW },
		      { "headless", GFX_RENDERER_HEADLESS }, { "null", GFX_RENDERER_NULL } };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (s && strcmp(s, names[i].name) == 0) {
			*out = names[i].k;
			return 0;
		}
	return -EINVAL;
}

const char *gfx_renderer_kind_name(enum gfx_renderer_kind k)
{
	switch (k) {
	case GFX_RENDERER_AUTO: return "auto";
	case GFX_RENDERER_XR: return "xr";
	case GFX_RENDERER_WINDOW: return "window";
	case GFX_RENDERER_HEADLESS: return "headless";
	case GFX_RENDERER_NULL: return "null";
	}
	return "?";
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- context, core and backend attachments ------------------------------------- */

static void teardown(struct gfx_renderer *g)
{
	if (g->draw) {
		struct gfx_draw_stats ds;
		gfx_draw_stats(g->draw, &ds);
		g->st.ui_atlas_uploads += ds.atlas_uploads; /* the next context uploads it again */
	}
	gfx_draw_destroy(&g->draw); /* waits for the device */
	if (g->be && g->vk)
		g->be->ops->detach(g->be);
	if (g->vk) {
		g->st.validation_messages += g->vk->validation_messages;
		gfx_vk_destroy(&g->vk);
	}
}

static int setup(struct gfx_renderer *g)
{
	struct gfx_vk_config c = { .validation = g->o.validation }; /* gfx_vk reads THETA_GFX_DEVICE */
	int r = g->be->ops->vk_config(g->be, &c);
	if (r < 0)
		return r;
	r = gfx_vk_create(&c, &g->vk);
	if (r < 0)
		return r;
	VkFormat fmt = VK_FORMAT_UNDEFINED;
	bool srgb = false;
	r = g->be->ops->attach(g->be, g->vk, &fmt, &srgb);
	if (r < 0) {
		g->st.validation_messages += g->vk->validation_messages;
		gfx_vk_destroy(&g->vk);
		return r;
	}
	r = gfx_draw_create(g->vk, &(struct gfx_draw_config){ .color_format = fmt, .srgb_target = srgb }, &g->draw);
	if (r < 0) {
		teardown(g);
		return r;
	}
	return 0;
}

/* After a loss: everything Vulkan again; the world is the loop's. */
static int rebuild(struct gfx_renderer *g)
{
	g->st.rebuilds++;
	if (++g->losses_in_row > GFX_REBUILDS_MAX) {
		th_err("the GPU device was lost %u times in a row: giving up", g->losses_in_row);
		return -ENODEV;
	}
	th_warn("the GPU device was lost: rebuilding the renderer (%u of at most %u in a row)", g->losses_in_row,
		GFX_REBUILDS_MAX);
	teardown(g);
	int r = setup(g);
	if (r < 0)
		th_err("the renderer could not be rebuilt after a device loss (%s)", strerror(-r));
	return r;
}

/* ---- the camera ------------------------------------------------------------------ */

/* A table with room for `need` meshes at half load, emptied (the boxes
 * are taken again as they are asked for). false: no memory (no cache). */
static bool bounds_reset(struct gfx_renderer *g, uint32_t need)
{
	uint32_t cap = GFX_BOUNDS_MIN;
	while (cap < 2 * (uint64_t)need && cap < GFX_BOUNDS_MAX)
		cap *= 2;
	if (cap != g->bounds_cap) {
		struct gfx_bounds_entry *e = calloc(cap, sizeof *e);
		if (!e)
			return false;
		free(g->bounds);
		g->bounds = e;
		g->bounds_cap = cap;
	} else {
		memset(g->bounds, 0, cap * sizeof *g->bounds);
	}
	g->bounds_used = 0;
	return true;
}

static void bounds_of(const struct th_mesh *m, struct gfx_bounds_entry *b)
{
	b->m = m;
	b->version = m->version;
	b->empty = true;
	for (int k = 0; k < 3; k++) {
		b->lo[k] = FLT_MAX;
		b->hi[k] = -FLT_MAX;
	}
	for (uint32_t i = 0; i < m->nverts; i++) {
		if (!m->verts[i].id)
			continue;
		b->empty = false;
		for (int k = 0; k < 3; k++) {
			b->lo[k] = fminf(b->lo[k], m->verts[i].pos[k]);
			b->hi[k] = fmaxf(b->hi[k], m->verts[i].pos[k]);
		}
	}
}

/* The box of m, from the table when m has not changed since. */
static const struct gfx_bounds_entry *mesh_bounds(struct gfx_renderer *g, const struct th_mesh *m,
						  struct gfx_bounds_entry *scratch)
{
	if (!g->bounds_cap || 2 * (uint64_t)(g->bounds_used + 1) > g->bounds_cap) {
		/* Full of meshes that may be gone: start again, sized for today's. */
		if (!bounds_reset(g, g->list.ninst + 1)) {
			bounds_of(m, scratch);
			return scratch;
		}
	}
	uint32_t mask = g->bounds_cap - 1;
	for (uint32_t i = (uint32_t)th_mix64(m->id) & mask;; i = (i + 1) & mask) {
		struct gfx_bounds_entry *b = &g->bounds[i];
		if (b->id == m->id) {
			if (b->m != m || b->version != m->version)
				bounds_of(m, b);
			return b;
		}
		if (b->id == 0) {
			b->id = m->id;
			g->bounds_used++;
			bounds_of(m, b);
			return b;
		}
	}
}

/* The auto camera: every instance's box, seen from the front, above. */
static void auto_camera(struct gfx_renderer *g, float eye[3], float target[3])
{
	float lo[3] = { FLT_MAX, FLT_MAX, FLT_MAX }, hi[3] = { -FLT_MAX, -FLT_MAX, -FLT_MAX };
	bool any = false;
	for (uint32_t i = 0; i < g->list.ninst; i++) {
		const struct gfx_inst *in = &g->list.inst[i];
		if (!in->mesh)
			continue;
		struct gfx_bounds_entry scratch;
		const struct gfx_bounds_entry *b = mesh_bounds(g, in->mesh, &scratch);
		if (b->empty)
			continue;
		for (int c = 0; c < 8; c++) {
			float p[3] = { c & 1 ? b->hi[0] : b->lo[0], c & 2 ? b->hi[1] : b->lo[1], c & 4 ? b->hi[2] : b->lo[2] };
			float q[3];
			gfx_mat4_apply_point(in->model, p, q);
			for (int k = 0; k < 3; k++) {
				lo[k] = fminf(lo[k], q[k]);
				hi[k] = fmaxf(hi[k], q[k]);
			}
		}
		any = true;
	}
	if (!any) {
		static const float e[3] = { 0.0f, 1.6f, 2.5f }, t[3] = { 0.0f, 0.8f, 0.0f };
		memcpy(eye, e, sizeof e);
		memcpy(target, t, sizeof t);
		return;
	}
	float radius = 0.0f;
	for (int k = 0; k < 3; k++) {
		target[k] = 0.5f * (lo[k] + hi[k]);
		radius += (hi[k] - lo[k]) * (hi[k] - lo[k]);
	}
	radius = fmaxf(0.5f * sqrtf(radius), GFX_MIN_RADIUS);
	float fovy = g->o.fovy > 0 ? g->o.fovy : GFX_DEFAULT_FOVY;
	float dist = 1.15f * radius / sinf(0.5f * fovy);
	static const float dir[3] = { 0.42f, 0.5f, 0.757f }; /* unit: right, up, towards the viewer */
	for (int k = 0; k < 3; k++)
		eye[k] = target[k] + dir[k] * dist;
}

static void camera(struct gfx_renderer *g, const struct app_view *v, struct gfx_view *cam)
{
	float aspect = g->be->height ? (float)g->be->width / (float)g->be->height : 16.0f / 9.0f;
	gfx_mat4_perspective(cam->proj, g->o.fovy > 0 ? g->o.fovy : GFX_DEFAULT_FOVY, aspect, GFX_NEAR, GFX_FAR);
	if (g->o.camera == GFX_CAMERA_HEAD && v->head.valid) {
		gfx_mat4_view_from_pose(cam->view, v->head.position, v->head.rotation);
		memcpy(cam->eye, v->head.position, sizeof cam->eye);
		return;
	}
	float eye[3], target[3];
	if (g->o.camera == GFX_CAMERA_FIXED) {
		memcpy(eye, g->o.eye, sizeof eye);
		memcpy(target, g->o.target, sizeof target);
	} else {
		auto_camera(g, eye, target);
	}
	gfx_mat4_look_at(cam->view, eye, target);
	memcpy(cam->eye, eye, sizeof cam->eye);
}

/* ---- one frame --------------------------------------------------------------------- */

static void right_tip(struct gfx_renderer *g, struct gfx_list_input *in)
{
	if (g->src.ed) {
		/* The tip the editor used this frame, and whether the hand was
		 * tracked (ControllerState has no flag: a cursor that left the
		 * desktop window leaves its last point there). */
		const struct edit_hover *h = edit_hover(g->src.ed);
		in->right_valid = h->tracked;
		memcpy(in->right_tip, h->tip, sizeof in->right_tip);
		return;
	}
	struct sim_iter it;
	sim_iter_init(&it, g->w, g->hands);
	while (sim_iter_next(&it)) {
		const uint8_t *hand = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE, TH_F(controller_state, hand));
		const float(*pos)[3] = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE, TH_F(controller_state, position));
		for (uint32_t i = 0; i < it.count; i++)
			if (hand[i] == INP_RIGHT) {
				memcpy(in->right_tip, pos[i], sizeof in->right_tip);
				in->right_valid = true;
			}
	}
}

/* The runtime's eye views are in the stage; the world is where the user
 * moved it (app/nav.h): world = position + rotation * (scale * stage), so
 * each view gains the world -> stage map and each eye its world place. */
static void views_to_world(const struct app_view *v, struct gfx_frame *f)
{
	if (!(v->nav_scale > 0) || !isfinite(v->nav_scale)) /* 0: a view zero-initialised, the identity */
		return;
	for (int k = 0; k < 4; k++)
		if (!isfinite(v->nav_rotation[k]) || (k < 3 && !isfinite(v->nav_position[k])))
			return;
	float tr[16], inv[16];
	gfx_mat4_trs(tr, v->nav_position, v->nav_rotation, NULL);
	gfx_mat4_rigid_inverse(inv, tr);
	for (int c = 0; c < 4; c++)
		for (int r = 0; r < 3; r++)
			inv[c * 4 + r] /= v->nav_scale;
	for (uint32_t i = 0; i < f->nviews; i++) {
		float view[16];
		gfx_mat4_mul(view, f->view[i].view, inv);
		memcpy(f->view[i].view, view, sizeof view);
		float scaled[3] = { f->view[i].eye[0] * v->nav_scale, f->view[i].eye[1] * v->nav_scale,
				    f->view[i].eye[2] * v->nav_scale };
		gfx_mat4_apply_point(tr, scaled, f->view[i].eye);
	}
}

static int draw_frame(struct gfx_renderer *g, const struct app_view *v)
{
	struct gfx_view cam = { 0 };
	if (!g->be->own_views)
		camera(g, v, &cam);
	struct gfx_frame f = { 0 };
	f.display_time_ns = v->display_time_ns;
	int r = g->be->ops->begin_frame(g->be, &cam, &f);
	if (r != 0)
		return r;
	if (g->be->own_views)
		views_to_world(v, &f);
	if (!f.render) {
		g->st.skipped++;
		return g->be->ops->end_frame(g->be, &f, VK_NULL_HANDLE);
	}
	VkCommandBuffer cmd;
	r = gfx_draw_begin(g->draw, &cmd);
	if (r < 0)
		return r;
	r = gfx_draw_prepare(g->draw, cmd, &g->list);
	for (uint32_t i = 0; r == 0 && i < f.nviews; i++)
		r = gfx_draw_record(g->draw, cmd, &g->list, &f.target[i], &f.view[i], i);
	if (r < 0)
		return r;
	if (g->be->ops->after_record)
		g->be->ops->after_record(g->be, cmd, &f);
	r = gfx_draw_submit(g->draw, cmd, f.wait, f.wait_stage, f.signal);
	if (r < 0)
		return r;
	return g->be->ops->end_frame(g->be, &f, gfx_draw_last_fence(g->draw));
}

static int gfx_render(struct app_renderer *base, struct sim_world *w, const struct app_view *v)
{
	struct gfx_renderer *g = (struct gfx_renderer *)base;
	uint64_t t0 = mono_ns();
	g->frame++;
	if (!g->vk) { /* a rebuild failed: try again each frame until the limit */
		int r = rebuild(g);
		if (r < 0) {
			g->st.skipped++;
			return g->losses_in_row > GFX_REBUILDS_MAX ? r : 0;
		}
	}
	if (g->o.lose_device_at && g->frame == g->o.lose_device_at)
		g->vk->lose_after = g->vk->checks + 1;

	struct gfx_list_input in = { .w = w, .scene = g->src.scene, .ed = g->src.ed, .avatars = g->src.avatars,
				     .reach = g->src.reach,
				     .grid = !g->o.no_grid };
	right_tip(g, &in);
	if (g->src.ui) { /* the panels: the headset's in every view, the desktop's on a window / headless */
		in.ui.world = ui_world_mesh(g->src.ui);
		if (!g->be->own_views)
			in.ui.screen = ui_screen_mesh(g->src.ui);
		in.ui.font = ui_font();
	}
	int r = gfx_list_build(&g->list, &in);
	if (r < 0)
		return r;
	if (g->o.shading != GFX_SHADING_MESH)
		for (uint32_t i = 0; i < g->list.ninst; i++)
			g->list.inst[i].smooth = g->o.shading == GFX_SHADING_SMOOTH;
	r = draw_frame(g, v);
	if (r == -ENODEV || (r < 0 && g->vk && g->vk->lost)) {
		g->st.skipped++;
		r = rebuild(g);
		return r < 0 && g->losses_in_row > GFX_REBUILDS_MAX ? r : 0;
	}
	if (r < 0)
		return r;
	g->losses_in_row = 0;
	g->st.frames++;
	g->st.cpu_ms_last = (double)(mono_ns() - t0) / 1e6;
	return r; /* 1: the backend says stop */
}

static int gfx_wait_frame(struct app_renderer *base, uint64_t *display_time_ns)
{
	struct gfx_renderer *g = (struct gfx_renderer *)base;
	return g->be->ops->wait_frame(g->be, display_time_ns);
}

static void gfx_destroy(struct app_renderer *base)
{
	struct gfx_renderer *g = (struct gfx_renderer *)base;
	teardown(g);
	if (g->be)
		g->be->ops->destroy(g->be);
	gfx_list_fini(&g->list);
	free(g->bounds);
	free(g);
}

static const struct app_renderer_ops gfx_ops = { .render = gfx_render, .destroy = gfx_destroy };
static const struct app_renderer_ops gfx_paced_ops = { .render = gfx_render,
						       .wait_frame = gfx_wait_frame,
						       .destroy = gfx_destroy };

/* ---- choosing ---------------------------------------------------------------------- */

static bool display_present(void)
{
	const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
	return (x && *x) || (wl && *wl);
}

static int open_backend(const struct gfx_options *o, struct gfx_backend **out)
{
	uint32_t w = o->width, h = o->height;
	if (o->kind == GFX_RENDERER_HEADLESS) {
		struct gfx_headless_config hc = { .width = w ? w : GFX_HEADLESS_DEFAULT_W,
						  .height = h ? h : GFX_HEADLESS_DEFAULT_H,
						  .screenshot = o->screenshot,
						  .shot_frame = o->shot_frame,
						  .views = o->stereo_views == 2 ? 2 : 1,
						  .ipd = o->ipd > 0 ? o->ipd : GFX_DEFAULT_IPD };
		return gfx_headless_create(&hc, out);
	}
	struct gfx_window_config wc = { .width = w ? w : GFX_DEFAULT_W, .height = h ? h : GFX_DEFAULT_H,
					.title = "Theta", .screenshot = o->screenshot };
	if (o->kind == GFX_RENDERER_WINDOW)
		return gfx_window_create(&wc, out);
	struct gfx_xr_config xc = { .app_name = "theta-client", .input = o->xr_input };
	if (o->kind == GFX_RENDERER_XR) {
		int r = gfx_xr_create(&xc, out);
		if (r == -ENXIO)
			th_err("--renderer xr needs an OpenXR runtime, and none answered");
		return r;
	}
	/* auto */
	int r = gfx_xr_create(&xc, out);
	if (r != -ENXIO)
		return r;
	if (!display_present()) {
		th_err("no OpenXR runtime and no display: nothing to show the scene on (give --headless to render "
		       "offscreen)");
		return -ENXIO;
	}
	th_notice("showing the scene in a window instead of a headset");
	r = gfx_window_create(&wc, out);
	if (r == -ENXIO)
		th_err("no OpenXR runtime and the window could not open: nothing to show the scene on (give "
		       "--headless to render offscreen)");
	return r;
}

int gfx_renderer_create(const struct gfx_options *o, struct sim_world *w, const struct gfx_sources *src,
			struct app_renderer **out)
{
	if (o->kind == GFX_RENDERER_NULL)
		return app_null_renderer_create(w, out);
	struct gfx_renderer *g = calloc(1, sizeof *g);
	if (!g)
		return -ENOMEM;
	g->o = *o;
	const char *val = getenv("THETA_GFX_VALIDATION");
	if (val && strcmp(val, "1") == 0)
		g->o.validation = true;
	g->w = w;
	if (src)
		g->src = *src;
	gfx_list_init(&g->list);
	int r = sim_query_create(w, &(struct sim_query_desc){ .with = SIM_BIT(TH_COMP_CONTROLLER_STATE) }, &g->hands);
	if (r == 0)
		r = open_backend(&g->o, &g->be);
	if (r == 0)
		r = setup(g);
	if (r < 0) {
		gfx_destroy(&g->base);
		return r;
	}
	g->base.ops = g->be->ops->wait_frame ? &gfx_paced_ops : &gfx_ops;
	g->base.name = g->be->name;
	*out = &g->base;
	return 0;
}

static bool is_gfx(struct app_renderer *r)
{
	return r && (r->ops == &gfx_ops || r->ops == &gfx_paced_ops);
}

int gfx_renderer_stats(struct app_renderer *r, struct gfx_renderer_stats *out)
{
	if (!is_gfx(r))
		return -EINVAL;
	struct gfx_renderer *g = (struct gfx_renderer *)r;
	*out = g->st;
	if (g->vk)
		out->validation_messages += g->vk->validation_messages;
	if (g->draw) {
		struct gfx_draw_stats ds;
		gfx_draw_stats(g->draw, &ds);
		out->uploads_full = ds.uploads_full;
		out->uploads_incremental = ds.uploads_incremental;
		out->bytes_uploaded = ds.bytes_uploaded;
		out->triangles = ds.triangles;
		out->ui_atlas_uploads += ds.atlas_uploads;
	}
	return 0;
}

const char *gfx_renderer_backend(struct app_renderer *r)
{
	if (!is_gfx(r))
		return r ? r->name : "null";
	return ((struct gfx_renderer *)r)->be->name;
}

const uint8_t *gfx_renderer_pixels(struct app_renderer *r, uint32_t *w, uint32_t *h)
{
	if (!is_gfx(r))
		return NULL;
	struct gfx_renderer *g = (struct gfx_renderer *)r;
	if (!g->be || strcmp(g->be->name, "headless") != 0)
		return NULL;
	return gfx_headless_pixels(g->be, w, h);
}

struct GLFWwindow *gfx_renderer_glfw(struct app_renderer *r)
{
	if (!is_gfx(r))
		return NULL;
	struct gfx_renderer *g = (struct gfx_renderer *)r;
	if (!g->be || strcmp(g->be->name, "window") != 0)
		return NULL;
	return gfx_window_glfw(g->be);
}

void gfx_renderer_follow_head(struct app_renderer *r)
{
	if (is_gfx(r))
		((struct gfx_renderer *)r)->o.camera = GFX_CAMERA_HEAD;
}
