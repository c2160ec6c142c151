/* What drawing the editor's panels costs (make bench-gfx; docs/rendering.md,
 * "The UI"): the real UI (ui_frame over a real editor, every panel shown,
 * the overlay too; the build's DejaVu Sans atlas) drawn by gfx_draw, beside
 * the same frame without the UI, measured in the same run (the baseline):
 *   desktop  ui_screen_mesh on one 1280 x 720 view
 *   headset  ui_world_mesh in both eyes of 1280 x 1440 each, looked at
 *            from the head (the panels fill part of the view)
 * Each frame is prepare + record + submit (the thread's CPU time) and its
 * GPU time (timestamps around the whole command buffer; on lavapipe the
 * rasterisation is the other core's CPU), waited for before the next.
 * Also the first frame with the UI, whose prepare copies the atlas (a
 * one-shot transfer), beside the steady prepare.
 *
 * Figures (DEV as gfx_bench.h): gfx.ui.DEV.desktop_cpu_ms and
 * .desktop_baseline_cpu_ms, .desktop_gpu_ms and .desktop_baseline_gpu_ms,
 * the same for headset_, .desktop_vertices, .headset_vertices,
 * .atlas_first_prepare_ms and .steady_prepare_ms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx_bench.h"
#include "inp/input.h"
#include "th_bench.h"
#include "th_time.h"
#include "ui/ui.h"
#include "ui/ui_font.h"

#define DESK_W 1280u
#define DESK_H 720u
#define EYE_W 1280u
#define EYE_H 1440u
#define EYE_FOVY 1.6f /* radians */
#define IPD 0.063f
#define WARMUP 5u
#define FRAMES 40u

static const float head_pos[3] = { 0, 1.6f, 0 };
static const float grip_pos[3] = { -0.2f, 1.3f, -0.35f };

struct bench {
	struct gfx_vk *vk;
	struct gfx_draw *d;
	struct gb_timer timer;
	struct gfx_image color[2];
	struct edit *ed;
	struct ui *u;
	struct ui_status st;
	struct inp_state in;
};

static int sink(void *ud, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag)
{
	(void)ud, (void)type, (void)scope, (void)payload, (void)len, (void)tag;
	return 0;
}

/* The UI laid out once for the desktop or the headset. */
static void layout(struct bench *b, bool desktop)
{
	inp_state_init(&b->in);
	memcpy(b->in.head.position, head_pos, sizeof head_pos);
	b->in.head.valid = true;
	if (desktop) {
		b->in.desk.present = b->in.desk.focused = true;
		b->in.desk.width = DESK_W;
		b->in.desk.height = DESK_H;
	} else {
		memcpy(b->in.hand[INP_LEFT].pose.position, grip_pos, sizeof grip_pos);
		b->in.hand[INP_LEFT].pose.valid = true;
	}
	struct ui_frame_in fi = { .status = &b->st, .desktop = desktop };
	struct ui_frame_out out;
	int r = ui_frame(b->u, 0, &b->in, b->ed, &fi, &out);
	if (r)
		gb_die("ui_frame", r);
}

/* One frame of l into n views: the thread's CPU time of prepare + record +
 * submit in *cpu, the GPU time in *gpu, the prepare alone in *prep. */
static void frame(struct bench *b, const struct gfx_list *l, const struct gfx_view *v, unsigned n, VkExtent2D e,
		  uint64_t *cpu, uint64_t *gpu, uint64_t *prep)
{
	uint64_t c0 = gb_thread_ns(), w0 = th_now_ns();
	VkCommandBuffer cmd;
	int r;
	if ((r = gfx_draw_begin(b->d, &cmd)))
		gb_die("gfx_draw_begin", r);
	gb_timer_begin(&b->timer, cmd);
	if ((r = gfx_draw_prepare(b->d, cmd, l)))
		gb_die("gfx_draw_prepare", r);
	uint64_t w1 = th_now_ns();
	for (unsigned i = 0; i < n; i++) {
		struct gfx_target t = { .image = b->color[i].image, .view = b->color[i].view, .extent = e,
					.format = VK_FORMAT_R8G8B8A8_SRGB, .initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
					.final_layout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
		if ((r = gfx_draw_record(b->d, cmd, l, &t, &v[i], i)))
			gb_die("gfx_draw_record", r);
	}
	gb_timer_end(&b->timer, cmd);
	if ((r = gfx_draw_submit(b->d, cmd, VK_NULL_HANDLE, VK_PIPELINE_STAGE_2_NONE, VK_NULL_HANDLE)))
		gb_die("gfx_draw_submit", r);
	*cpu = gb_thread_ns() - c0;
	*prep = w1 - w0;
	VkFence f = gfx_draw_last_fence(b->d);
	gb_vk_ok(vkWaitForFences(b->vk->device, 1, &f, VK_TRUE, UINT64_MAX), "vkWaitForFences");
	*gpu = gb_timer_read(b->vk, &b->timer);
}

/* FRAMES frames after WARMUP: the medians of the CPU, GPU and prepare times (ms). */
static void measure(struct bench *b, const struct gfx_list *l, const struct gfx_view *v, unsigned n, VkExtent2D e,
		    double *cpu_ms, double *gpu_ms, double *prep_ms)
{
	static uint64_t cpu[FRAMES], gpu[FRAMES], prep[FRAMES];
	for (unsigned i = 0; i < WARMUP + FRAMES; i++) {
		uint64_t c, g, p;
		frame(b, l, v, n, e, &c, &g, &p);
		if (i >= WARMUP) {
			cpu[i - WARMUP] = c;
			gpu[i - WARMUP] = g;
			prep[i - WARMUP] = p;
		}
	}
	*cpu_ms = th_bench_median_ms(cpu, FRAMES);
	*gpu_ms = th_bench_median_ms(gpu, FRAMES);
	if (prep_ms)
		*prep_ms = th_bench_median_ms(prep, FRAMES);
}

static void figure(const char *dev, const char *name, double v, const char *unit)
{
	char n[128];
	snprintf(n, sizeof n, "gfx.ui.%s.%s", dev, name);
	th_bench_figure(n, v, unit);
}

/* One view's figures: its frame without and with the UI, CPU and GPU, and
 * the UI's vertices (where: "desktop" or "headset"). */
static void view_figures(const char *dev, const char *where, double base_cpu, double ui_cpu, double base_gpu,
			 double ui_gpu, uint32_t vertices)
{
	const struct {
		const char *what, *unit;
		double v;
	} f[] = {
		{ "baseline_cpu_ms", "ms", base_cpu }, { "cpu_ms", "ms", ui_cpu },
		{ "baseline_gpu_ms", "ms", base_gpu }, { "gpu_ms", "ms", ui_gpu },
		{ "vertices", "vertices", vertices },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s_%s", where, f[i].what);
		figure(dev, name, f[i].v, f[i].unit);
	}
}

int main(void)
{
	gb_prog = "bench_gfx_ui";
	struct bench b = { 0 };
	b.vk = gb_context();
	b.d = gb_draw_create(b.vk);
	gb_timer_init(b.vk, &b.timer);
	const char *dev = gb_device_tag(b.vk);
	for (unsigned i = 0; i < 2; i++) {
		int r = gfx_image_create(b.vk, (VkExtent2D){ EYE_W, EYE_H }, VK_FORMAT_R8G8B8A8_SRGB,
					 VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, VK_IMAGE_ASPECT_COLOR_BIT, &b.color[i]);
		if (r)
			gb_die("gfx_image_create", r);
	}
	int r = edit_create(&(struct edit_config){ .sink = { .submit = sink } }, &b.ed);
	if (r == 0)
		r = ui_create(&b.u);
	if (r)
		gb_die("edit_create / ui_create", r);
	ui_set_visible(b.u, UI_PANEL_OVERLAY, true);
	b.st.rtt_us = 1200;
	b.st.peers = 3;
	b.st.linked = true;
	b.st.frame_p50_ms = 4.2;
	b.st.frame_p99_ms = 7.9;

	struct gfx_list l;
	gfx_list_init(&l);
	l.clear[3] = 1;

	/* The desktop: one view; the camera does not matter to the screen list. */
	struct gfx_view desk = { 0 };
	gfx_mat4_identity(desk.view);
	gfx_mat4_perspective(desk.proj, 1.0f, (float)DESK_W / DESK_H, 0.05f, 100.0f);
	VkExtent2D de = { DESK_W, DESK_H };
	layout(&b, true);
	struct ui_mesh sm = ui_screen_mesh(b.u);
	double base_cpu, base_gpu, ui_cpu, ui_gpu, steady_prep;
	measure(&b, &l, &desk, 1, de, &base_cpu, &base_gpu, NULL);
	l.ui = (struct gfx_list_ui){ .screen = sm, .font = ui_font() };
	uint64_t c, g, first_prep;
	frame(&b, &l, &desk, 1, de, &c, &g, &first_prep); /* copies the atlas */
	measure(&b, &l, &desk, 1, de, &ui_cpu, &ui_gpu, &steady_prep);
	struct gfx_draw_stats ds;
	gfx_draw_stats(b.d, &ds);
	if (ds.atlas_uploads != 1 || ds.ui_triangles != sm.n / 3)
		gb_die("the desktop's UI was not drawn as given", -EIO);
	view_figures(dev, "desktop", base_cpu, ui_cpu, base_gpu, ui_gpu, sm.n);
	figure(dev, "atlas_first_prepare_ms", (double)first_prep / 1e6, "ms");
	figure(dev, "steady_prepare_ms", steady_prep, "ms");

	/* The headset: both eyes from the head, looking at the hand's panels. */
	layout(&b, false);
	struct ui_mesh wm = ui_world_mesh(b.u);
	struct gfx_view eyes[2];
	const float target[3] = { grip_pos[0], grip_pos[1] + 0.2f, grip_pos[2] };
	for (unsigned i = 0; i < 2; i++) {
		float eye[3] = { head_pos[0] + (i ? IPD / 2 : -IPD / 2), head_pos[1], head_pos[2] };
		gfx_mat4_look_at(eyes[i].view, eye, target);
		gfx_mat4_perspective(eyes[i].proj, EYE_FOVY, (float)EYE_W / EYE_H, 0.05f, 100.0f);
		memcpy(eyes[i].eye, eye, sizeof eye);
	}
	VkExtent2D ee = { EYE_W, EYE_H };
	l.ui = (struct gfx_list_ui){ 0 };
	measure(&b, &l, eyes, 2, ee, &base_cpu, &base_gpu, NULL);
	l.ui = (struct gfx_list_ui){ .world = wm, .font = ui_font() };
	measure(&b, &l, eyes, 2, ee, &ui_cpu, &ui_gpu, NULL);
	gfx_draw_stats(b.d, &ds);
	if (ds.ui_triangles != 2 * (wm.n / 3))
		gb_die("the headset's UI was not drawn as given", -EIO);
	view_figures(dev, "headset", base_cpu, ui_cpu, base_gpu, ui_gpu, wm.n);

	gfx_list_fini(&l);
	ui_destroy(&b.u);
	edit_destroy(&b.ed);
	for (unsigned i = 0; i < 2; i++)
		gfx_image_destroy(b.vk, &b.color[i]);
	gb_timer_fini(b.vk, &b.timer);
	gfx_draw_destroy(&b.d);
	gb_context_end(&b.vk);
	return 0;
}
