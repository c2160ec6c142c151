/* CPU time of one frame of a 100 k-triangle scene (make bench-gfx; issue
 * 12's "Figures"), beside the 90 Hz frame budget of 11.1 ms.
 *
 * The scene: CUBES subdivided cubes (588 triangles each, 100 548 in all,
 * three materials) created by two users' mesh.create entries, folded by a
 * real th_fold and mirrored by the client's real scene mirror into its ECS
 * world (tests/lib/th_gfxscene.h); two of them selected, one by each user;
 * the ground grid on. A stereo pair of VIEW_W x VIEW_H views. Each frame:
 *   sync     gs_sync: one remote edit per frame (another user moves a
 *            cube: a component.write of its Transform) folded by the test
 *            daemon, heard by the mirror as an event and synced into the
 *            world (the daemon's fold of one entry is counted here too:
 *            a few microseconds)
 *   list     gfx_list_build from the world and the scene
 *   prepare  gfx_draw_begin + gfx_draw_prepare (per-frame data; the meshes
 *            were uploaded during the warm-up)
 *   record   gfx_draw_record of both eyes
 *   submit   gfx_draw_submit
 * timed on the wall clock and as this thread's CPU time (the GPU's work,
 * on lavapipe the other threads' work, is not in either: each frame is
 * waited for before the next begins, outside the timed part).
 *
 * Then the same frames through the whole renderer the client runs
 * (gfx.c's app_renderer with the headless backend, stereo, its own
 * camera): sync, then app_render, paced at 90 Hz as the frame loop paces
 * them (a frame starts at its deadline, so a GPU faster than that never
 * makes gfx_draw_begin wait for a frame slot). Waiting inside the driver
 * may spin, so both the wall clock and this thread's CPU time are
 * printed; on lavapipe the GPU's work (the other core) is slower than
 * 90 Hz and the wall clock there includes waiting for it.
 *
 * The baseline, measured in the same run: prepare + record + submit of an
 * empty list on the same renderer and views (the frame's floor).
 *
 * The panels (ui/ui.h), in the same run: the same frames (sync, list,
 * prepare, record, submit) into two headset-sized eyes of EYE_W x EYE_H,
 * one with the headset's panels and one without, alternating frame by
 * frame (so clock changes hit both). The panels are the real UI's
 * (ui_frame over a real editor that has selected a cube, every panel shown,
 * the overlay's figures filled; the left grip in front of the left eye):
 * ui_frame's CPU time is part of the frame with them, and both frames'
 * GPU time is the difference of two timestamps, before prepare's copies
 * and after the second eye. Before timing, the panels' vertices are
 * checked to be in the left eye's view (a UI outside it would cost the
 * GPU nothing).
 *
 * Figures (DEV as gfx_bench.h): gfx.frame.DEV.cpu_100k_ms (goal <= 11.1
 * ms), .cpu_100k_thread_ms, .cpu_100k_max_ms, the median of each part:
 * .sync_ms, .list_ms, .prepare_ms, .record_ms, .submit_ms;
 * .baseline_empty_ms; the panels: .ui_frame_ms (ui_frame alone),
 * .ui_cpu_with_ms / .ui_cpu_without_ms (the frame's CPU, wall clock),
 * .ui_thread_with_ms / .ui_thread_without_ms (this thread's CPU),
 * .ui_gpu_with_ms / .ui_gpu_without_ms, .ui_triangles (both eyes),
 * .ui_pixels_left (the left eye's pixels under the panels' triangles, an
 * overlap counted each time: the fragments they shade); through gfx.c:
 * .renderer_cpu_thread_ms (goal <= 11.1 ms), .renderer_wall_ms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx_bench.h"
#include "th_bench.h"
#include "th_gfxscene.h"
#include "th_meshop.h"
#include "th_schema.h"
#include "th_time.h"
#include "ui/ui.h"
#include "ui/ui_font.h"

#define CUBES 171u        /* x 588 triangles = 100 548 */
#define CUBE_CUTS 6u      /* cuts per edge: 7 x 7 quads a side */
#define CUBE_SIZE 0.2f    /* metres */
#define CUBES_PER_ROW 19u /* 9 rows, 0.3 m apart, 3 m in front of the eyes */
#define CUBE_SPACING 0.3f
#define SCENE_Z (-3.0f)
#define EYE_HEIGHT 1.6f
#define IPD 0.063f
#define FOVY 1.6f /* radians */
#define VIEW_W 640u
#define VIEW_H 720u
#define WARMUP 10u
#define FRAMES 60u
#define BUDGET_MS 11.1
#define FRAME_NS (TH_NS_PER_S / 90) /* the frame loop's default rate */
#define MOVE_DZ 0.05f /* metres a remote user moves a cube each frame */
/* The panels' frames: headset-sized eyes (bench_gfx_gpu's), fewer frames
 * on a CPU device (a frame there takes a fifth of a second). */
#define EYE_W 2064u
#define EYE_H 2208u
#define UI_WARMUP 10u
#define UI_FRAMES 100u /* of each kind */
#define UI_WARMUP_CPU 1u
#define UI_FRAMES_CPU 4u
#define UI_IN_VIEW 0.9 /* at least this fraction of the panels' vertices in the left eye's view */
static const float ui_grip[3] = { -0.2f, 1.3f, -0.4f }; /* the left grip: its panels in view */

enum part { P_SYNC, P_LIST, P_PREPARE, P_RECORD, P_SUBMIT, PARTS };
static const char *const part_name[PARTS] = { "sync", "list", "prepare", "record", "submit" };

struct bench {
	struct gs s;
	struct gfx_vk *vk;
	struct gfx_draw *d;
	struct gfx_image color[2];
	struct gfx_list list;
	struct gfx_list_input in;
	struct gfx_view view[2];
	uint64_t entity[CUBES];
	float pos[CUBES][3];
	uint64_t moves;
	/* The panels' part */
	struct gfx_image eye[2];
	struct gfx_view eye_view[2];
	struct ui *ui;
	struct edit *ed;
	struct inp_state inp;
	struct ui_status status;
	uint64_t ui_now;
};

static void scene(struct bench *b)
{
	int r = gs_init(&b->s);
	if (r)
		gb_die("gs_init", r);
	static const float rgba[3][4] = { { 0.8f, 0.3f, 0.2f, 1 }, { 0.2f, 0.6f, 0.8f, 1 }, { 0.7f, 0.7f, 0.6f, 1 } };
	for (unsigned k = 0; k < 3; k++)
		if ((r = sh_material(&b->s.log, &b->s.a, (uint8_t)(k + 1), "bench", rgba[k])) < 0)
			gb_die("sh_material", r);
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.size[0] = pp.size[1] = pp.size[2] = CUBE_SIZE;
	pp.subdiv = CUBE_CUTS;
	uint64_t first[2] = { 0 };
	for (unsigned i = 0; i < CUBES; i++) {
		float pos[3] = { ((float)(i % CUBES_PER_ROW) - (CUBES_PER_ROW - 1) / 2.0f) * CUBE_SPACING,
				 EYE_HEIGHT + ((float)(i / CUBES_PER_ROW) - 4.0f) * CUBE_SPACING, SCENE_Z };
		r = gs_primitive(&b->s, i % 2 ? &b->s.b : &b->s.a, &pp, pos, NULL, 1 + i % 3, &b->entity[i], NULL);
		if (r)
			gb_die("gs_primitive", r);
		memcpy(b->pos[i], pos, sizeof(pos));
		if (i < 2)
			first[i] = b->entity[i];
	}
	if ((r = gs_select(&b->s, &b->s.a, first[0], TH_SELECT_OBJECT, TH_SELECT_WHOLE)) ||
	    (r = gs_select(&b->s, &b->s.b, first[1], TH_SELECT_OBJECT, TH_SELECT_WHOLE)))
		gb_die("gs_select", r);
	if ((r = gs_sync(&b->s)))
		gb_die("gs_sync", r);
}

static void views(struct bench *b)
{
	const float q[4] = { 0, 0, 0, 1 };
	for (unsigned e = 0; e < 2; e++) {
		float pos[3] = { e ? IPD / 2 : -IPD / 2, EYE_HEIGHT, 0 };
		gfx_mat4_view_from_pose(b->view[e].view, pos, q);
		gfx_mat4_perspective(b->view[e].proj, FOVY, (float)VIEW_W / VIEW_H, 0.05f, 100.0f);
		memcpy(b->view[e].eye, pos, sizeof(pos));
	}
}

/* Where a frame goes: two colour images of one size, their views, and
 * GPU timestamps around the frame's commands (timer NULL: none). */
struct eyes {
	const struct gfx_image *color;
	const struct gfx_view *view;
	VkExtent2D extent;
	const struct gb_timer *timer;
};

/* The renderer's part of a frame from list l: prepare, record both eyes,
 * submit (t[P_PREPARE..P_SUBMIT], wall clock), then the wait for it. */
static void draw_into(struct bench *b, const struct gfx_list *l, const struct eyes *to, uint64_t t[PARTS])
{
	uint64_t t2 = th_now_ns();
	VkCommandBuffer cmd;
	int r;
	if ((r = gfx_draw_begin(b->d, &cmd)))
		gb_die("gfx_draw_begin", r);
	if (to->timer)
		gb_timer_begin(to->timer, cmd);
	if ((r = gfx_draw_prepare(b->d, cmd, l)))
		gb_die("gfx_draw_prepare", r);
	uint64_t t3 = th_now_ns();
	for (unsigned e = 0; e < 2; e++) {
		struct gfx_target tg = { .image = to->color[e].image, .view = to->color[e].view,
					 .extent = to->extent, .format = VK_FORMAT_R8G8B8A8_SRGB,
					 .initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
					 .final_layout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
		if ((r = gfx_draw_record(b->d, cmd, l, &tg, &to->view[e], e)))
			gb_die("gfx_draw_record", r);
	}
	if (to->timer)
		gb_timer_end(to->timer, cmd);
	uint64_t t4 = th_now_ns();
	if ((r = gfx_draw_submit(b->d, cmd, VK_NULL_HANDLE, VK_PIPELINE_STAGE_2_NONE, VK_NULL_HANDLE)))
		gb_die("gfx_draw_submit", r);
	uint64_t t5 = th_now_ns();
	t[P_PREPARE] = t3 - t2;
	t[P_RECORD] = t4 - t3;
	t[P_SUBMIT] = t5 - t4;
}

static void draw(struct bench *b, const struct gfx_list *l, uint64_t t[PARTS])
{
	const struct eyes to = { .color = b->color, .view = b->view, .extent = { VIEW_W, VIEW_H } };
	draw_into(b, l, &to, t);
}

static void wait_frame(struct bench *b)
{
	VkFence f = gfx_draw_last_fence(b->d);
	gb_vk_ok(vkWaitForFences(b->vk->device, 1, &f, VK_TRUE, UINT64_MAX), "vkWaitForFences");
}

/* One frame into `to` (NULL: the VIEW_W x VIEW_H pair); with ui, the
 * panels' ui_frame (its wall time in *ui_ns) and the UI in the list.
 * t[PARTS] and *thread get its parts' wall times and the thread's CPU
 * time (ui_frame's included). */
static void frame_with(struct bench *b, const struct eyes *to, bool ui, uint64_t t[PARTS], uint64_t *thread,
		       uint64_t *ui_ns)
{
	/* User b's next move (the entry made, not yet folded or heard). */
	unsigned k = (unsigned)(b->moves++ % CUBES);
	b->pos[k][2] += b->moves / CUBES % 2 ? -MOVE_DZ : MOVE_DZ;
	int r = sh_transform_write(&b->s.log, &b->s.b, b->entity[k], b->pos[k]);
	if (r)
		gb_die("sh_transform_write", r);
	uint64_t c0 = gb_thread_ns(), t0 = th_now_ns();
	if ((r = gs_sync(&b->s)))
		gb_die("gs_sync", r);
	uint64_t t1 = th_now_ns(), tu = t1;
	b->in.ui = (struct gfx_list_ui){ 0 };
	if (ui) {
		struct ui_frame_in fi = { .sc = app_scene_scene(b->s.scene), .status = &b->status };
		struct ui_frame_out out;
		b->ui_now += FRAME_NS;
		if ((r = ui_frame(b->ui, b->ui_now, &b->inp, b->ed, &fi, &out)))
			gb_die("ui_frame", r);
		b->in.ui = (struct gfx_list_ui){ .world = ui_world_mesh(b->ui), .font = ui_font() };
		tu = th_now_ns();
	}
	if ((r = gfx_list_build(&b->list, &b->in)))
		gb_die("gfx_list_build", r);
	uint64_t t2 = th_now_ns();
	if (to)
		draw_into(b, &b->list, to, t);
	else
		draw(b, &b->list, t);
	*thread = gb_thread_ns() - c0;
	t[P_SYNC] = t1 - t0;
	t[P_LIST] = t2 - tu;
	if (ui_ns)
		*ui_ns = tu - t1;
	wait_frame(b);
}

static void frame(struct bench *b, uint64_t t[PARTS], uint64_t *thread)
{
	frame_with(b, NULL, false, t, thread, NULL);
}

/* ---- the panels ---------------------------------------------------------------- */

/* The real UI over a real editor on this scene: the editor's select tool
 * takes the first cube (its tip on the cube's front face, a trigger
 * click), every panel is shown, the overlay has figures and two speakers;
 * the head between the eyes, the left grip in front of the left eye, the
 * right aim ray pointing at the history panel (a hover). */
static void ui_setup(struct bench *b)
{
	struct edit_config ec = { 0 };
	int r;
	if ((r = edit_create(&ec, &b->ed)))
		gb_die("edit_create", r);
	if ((r = ui_create(&b->ui)))
		gb_die("ui_create", r);
	struct inp_state *in = &b->inp;
	inp_state_init(in);
	in->head.position[1] = EYE_HEIGHT;
	in->head.valid = true;
	memcpy(in->hand[INP_LEFT].pose.position, ui_grip, sizeof ui_grip);
	in->hand[INP_LEFT].pose.valid = true;
	struct inp_pose *tip = &in->hand[INP_RIGHT].pose;
	tip->position[0] = b->pos[0][0];
	tip->position[1] = b->pos[0][1];
	tip->position[2] = b->pos[0][2] + CUBE_SIZE / 2;
	tip->valid = true;
	const struct th_scene *sc = app_scene_scene(b->s.scene);
	for (unsigned i = 0; i < 2; i++) { /* press, release */
		in->hand[INP_RIGHT].trigger = i ? 0.0f : 1.0f;
		in->hand[INP_RIGHT].buttons = i ? 0 : TH_BUTTON_TRIGGER;
		in->hand[INP_RIGHT].pressed = i ? 0 : TH_BUTTON_TRIGGER;
		in->hand[INP_RIGHT].released = i ? TH_BUTTON_TRIGGER : 0;
		b->ui_now += FRAME_NS;
		if ((r = edit_frame(b->ed, b->ui_now, in, sc)))
			gb_die("edit_frame", r);
	}
	in->hand[INP_RIGHT].released = 0;
	if (!edit_selection(b->ed)->entity) {
		fprintf(stderr, "bench_gfx_frame: the editor did not select the first cube\n");
		exit(1);
	}
	/* The right hand near the body, its ray up and ahead (the history panel). */
	const float hand[3] = { 0.2f, 1.2f, -0.2f }, q[4] = { 0.2588f, 0, 0, 0.9659f }; /* 30 degrees up */
	memcpy(tip->position, hand, sizeof hand);
	memcpy(tip->rotation, q, sizeof q);
	in->hand[INP_RIGHT].aim = *tip;
	ui_set_visible(b->ui, UI_PANEL_OVERLAY, true);
	b->status = (struct ui_status){ .frame_p50_ms = 4.2, .frame_p99_ms = 7.9, .rtt_us = 12400, .peers = 2,
					.log_pos = 1234, .linked = true, .nspeaking = 2 };
	snprintf(b->status.speaking[0], UI_NAME_MAX, "alice");
	snprintf(b->status.speaking[1], UI_NAME_MAX, "bob");
	for (unsigned e = 0; e < 2; e++) {
		if ((r = gfx_image_create(b->vk, (VkExtent2D){ EYE_W, EYE_H }, VK_FORMAT_R8G8B8A8_SRGB,
					  VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, VK_IMAGE_ASPECT_COLOR_BIT, &b->eye[e])))
			gb_die("gfx_image_create", r);
		b->eye_view[e] = b->view[e];
		gfx_mat4_perspective(b->eye_view[e].proj, FOVY, (float)EYE_W / EYE_H, 0.05f, 100.0f);
	}
}

/* The fraction of the panels' vertices inside the left eye's view, and
 * in *px the pixels their triangles cover there (the sum of the areas of
 * those wholly in view: text over a panel counts twice, as it is shaded
 * twice). */
static double ui_in_view(const struct bench *b, struct ui_mesh m, double *px)
{
	float vp[16];
	gfx_mat4_mul(vp, b->eye_view[0].proj, b->eye_view[0].view);
	uint32_t in = 0;
	double area = 0, s[3][2];
	bool tri_in = true;
	for (uint32_t i = 0; i < m.n; i++) {
		const float *p = m.v[i].pos;
		float c[4];
		for (int k = 0; k < 4; k++)
			c[k] = vp[k] * p[0] + vp[4 + k] * p[1] + vp[8 + k] * p[2] + vp[12 + k];
		bool v = c[3] > 0 && fabsf(c[0]) <= c[3] && fabsf(c[1]) <= c[3] && c[2] >= 0 && c[2] <= c[3];
		in += v;
		tri_in = (i % 3 == 0 || tri_in) && v;
		if (v) {
			s[i % 3][0] = (c[0] / c[3] + 1) * 0.5 * EYE_W;
			s[i % 3][1] = (c[1] / c[3] + 1) * 0.5 * EYE_H;
		}
		if (i % 3 == 2 && tri_in)
			area += fabs((s[1][0] - s[0][0]) * (s[2][1] - s[0][1]) - (s[2][0] - s[0][0]) * (s[1][1] - s[0][1])) /
				2;
	}
	*px = area;
	return m.n ? (double)in / m.n : 0;
}

static void ui_frames(struct bench *b, const char *dev)
{
	ui_setup(b);
	struct gb_timer timer;
	gb_timer_init(b->vk, &timer);
	const struct eyes to = { .color = b->eye, .view = b->eye_view, .extent = { EYE_W, EYE_H }, .timer = &timer };
	bool cpu = gb_cpu_device(b->vk);
	unsigned warm = cpu ? UI_WARMUP_CPU : UI_WARMUP, n = cpu ? UI_FRAMES_CPU : UI_FRAMES;
	static uint64_t cpu_ns[2][UI_FRAMES], thread_ns[2][UI_FRAMES], gpu_ns[2][UI_FRAMES], ui_ns[UI_FRAMES];
	uint64_t t[PARTS], th, un = 0;
	uint64_t ui_tris = 0;
	double ui_px = 0;
	for (unsigned i = 0; i < warm + n; i++)
		for (unsigned with = 0; with < 2; with++) {
			frame_with(b, &to, with, t, &th, &un);
			uint64_t g = gb_timer_read(b->vk, &timer);
			if (i == 0 && with) { /* the panels are there and in view */
				struct ui_mesh m = ui_world_mesh(b->ui);
				double f = ui_in_view(b, m, &ui_px);
				struct gfx_draw_stats st;
				gfx_draw_stats(b->d, &st);
				ui_tris = st.ui_triangles;
				printf("\npanels: %u vertices (%u triangles), %.0f %% of them in the left eye's view, "
				       "%llu UI triangles drawn (both eyes); their triangles cover %.0f pixels of the "
				       "left eye (%.1f %% of it, overlaps counted each time)\n",
				       m.n, m.n / 3, 100 * f, (unsigned long long)st.ui_triangles, ui_px,
				       100 * ui_px / ((double)EYE_W * EYE_H));
				if (f < UI_IN_VIEW || st.ui_triangles < 2ull * (m.n / 3) || m.n < 3) {
					fprintf(stderr, "bench_gfx_frame: the panels are not drawn in view\n");
					exit(1);
				}
			}
			if (i < warm)
				continue;
			uint64_t total = 0;
			for (unsigned p = 0; p < PARTS; p++)
				total += t[p];
			cpu_ns[with][i - warm] = total + (with ? un : 0);
			thread_ns[with][i - warm] = th;
			gpu_ns[with][i - warm] = g;
			if (with)
				ui_ns[i - warm] = un;
		}
	gb_timer_fini(b->vk, &timer);
	double uf = th_bench_median_ms(ui_ns, n), c[2], tt[2], gg[2];
	for (unsigned w = 0; w < 2; w++) {
		c[w] = th_bench_median_ms(cpu_ns[w], n);
		tt[w] = th_bench_median_ms(thread_ns[w], n);
		gg[w] = th_bench_median_ms(gpu_ns[w], n);
	}
	char name[96];
	static const char *const kind[2] = { "without", "with" };
	snprintf(name, sizeof(name), "gfx.frame.%s.ui_frame_ms", dev);
	th_bench_figure(name, uf, "ms");
	for (unsigned w = 0; w < 2; w++) {
		snprintf(name, sizeof(name), "gfx.frame.%s.ui_cpu_%s_ms", dev, kind[w]);
		th_bench_figure(name, c[w], "ms");
		snprintf(name, sizeof(name), "gfx.frame.%s.ui_thread_%s_ms", dev, kind[w]);
		th_bench_figure(name, tt[w], "ms");
		snprintf(name, sizeof(name), "gfx.frame.%s.ui_gpu_%s_ms", dev, kind[w]);
		th_bench_figure(name, gg[w], "ms");
	}
	snprintf(name, sizeof(name), "gfx.frame.%s.ui_triangles", dev);
	th_bench_figure(name, (double)ui_tris, "triangles");
	snprintf(name, sizeof(name), "gfx.frame.%s.ui_pixels_left", dev);
	th_bench_figure(name, ui_px, "px");
	printf("frame with / without the panels, 2 x %u x %u, %llu triangles (median of %u of each, alternating):\n"
	       "  CPU (wall)      %7.3f / %7.3f ms (ui_frame %.3f ms of it)\n"
	       "  CPU (thread)    %7.3f / %7.3f ms\n"
	       "  GPU             %7.3f / %7.3f ms\n",
	       EYE_W, EYE_H, (unsigned long long)b->list.triangles, n, c[1], c[0], uf, tt[1], tt[0], gg[1], gg[0]);
	for (unsigned e = 0; e < 2; e++)
		gfx_image_destroy(b->vk, &b->eye[e]);
	b->in.ui = (struct gfx_list_ui){ 0 };
	ui_destroy(&b->ui);
	edit_destroy(&b->ed);
}

/* The baseline, in the same run: the renderer's part of a frame with
 * nothing to draw (both eyes cleared; no grid), its floor at this size. */
static double empty_frames(struct bench *b)
{
	struct gfx_list empty;
	gfx_list_init(&empty);
	static uint64_t total[FRAMES];
	uint64_t t[PARTS];
	for (unsigned i = 0; i < WARMUP + FRAMES; i++) {
		draw(b, &empty, t);
		wait_frame(b);
		if (i >= WARMUP)
			total[i - WARMUP] = t[P_PREPARE] + t[P_RECORD] + t[P_SUBMIT];
	}
	gfx_list_fini(&empty);
	return th_bench_median_ms(total, FRAMES);
}

/* The frames through gfx.c (the pieces' context is gone by then). */
static void through_renderer(struct bench *b, const char *dev)
{
	struct gfx_options o = { .kind = GFX_RENDERER_HEADLESS, .width = VIEW_W, .height = VIEW_H,
				 .stereo_views = 2, .validation = gb_env_is_1("THETA_BENCH_VALIDATION") };
	struct gfx_sources src = { .scene = b->s.scene };
	struct app_renderer *r;
	int rc = gfx_renderer_create(&o, b->s.w, &src, &r);
	if (rc)
		gb_die("gfx_renderer_create", rc);
	static uint64_t wall[FRAMES], thread[FRAMES];
	uint64_t deadline = th_now_ns();
	for (unsigned i = 0; i < WARMUP + FRAMES; i++) {
		deadline += FRAME_NS;
		uint64_t now = th_now_ns();
		if (deadline > now)
			th_sleep_ns(deadline - now);
		else
			deadline = now; /* late (lavapipe): start again from now */
		unsigned k = (unsigned)(b->moves++ % CUBES);
		b->pos[k][2] += b->moves / CUBES % 2 ? -MOVE_DZ : MOVE_DZ;
		if ((rc = sh_transform_write(&b->s.log, &b->s.b, b->entity[k], b->pos[k])))
			gb_die("sh_transform_write", rc);
		struct app_view v = { .frame = i, .time_ns = b->s.now_ns };
		uint64_t c0 = gb_thread_ns(), t0 = th_now_ns();
		if ((rc = gs_sync(&b->s)))
			gb_die("gs_sync", rc);
		if ((rc = app_render(r, b->s.w, &v)))
			gb_die("app_render", rc);
		if (i >= WARMUP) {
			wall[i - WARMUP] = th_now_ns() - t0;
			thread[i - WARMUP] = gb_thread_ns() - c0;
		}
	}
	struct gfx_renderer_stats st;
	if ((rc = gfx_renderer_stats(r, &st)))
		gb_die("gfx_renderer_stats", rc);
	app_renderer_destroy(&r);
	if (o.validation && st.validation_messages) {
		fprintf(stderr, "bench_gfx_frame: %llu validation message(s) through gfx.c\n",
			(unsigned long long)st.validation_messages);
		exit(1);
	}
	if (st.triangles < 200000) {
		fprintf(stderr, "bench_gfx_frame: gfx.c drew %llu triangles a frame, not both eyes' 100 k\n",
			(unsigned long long)st.triangles);
		exit(1);
	}
	char name[96];
	double th = th_bench_median_ms(thread, FRAMES), wl = th_bench_median_ms(wall, FRAMES);
	snprintf(name, sizeof(name), "gfx.frame.%s.renderer_cpu_thread_ms", dev);
	th_bench_figure_goal(name, th, "ms", "<= 11.1 ms", th <= BUDGET_MS);
	snprintf(name, sizeof(name), "gfx.frame.%s.renderer_wall_ms", dev);
	th_bench_figure(name, wl, "ms");
	printf("through gfx.c (headless, stereo, paced at 90 Hz): this thread's CPU %.3f ms, wall %.3f ms per "
	       "frame (median of %u)\n",
	       th, wl, FRAMES);
}

int main(void)
{
	gb_prog = "bench_gfx_frame";
	static struct bench b;
	uint64_t t0 = th_now_ns();
	scene(&b);
	double scene_ms = (double)(th_now_ns() - t0) / 1e6;
	b.vk = gb_context();
	const char *dev = gb_device_tag(b.vk);
	b.d = gb_draw_create(b.vk);
	int r;
	for (unsigned e = 0; e < 2; e++)
		if ((r = gfx_image_create(b.vk, (VkExtent2D){ VIEW_W, VIEW_H }, VK_FORMAT_R8G8B8A8_SRGB,
					  VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, VK_IMAGE_ASPECT_COLOR_BIT, &b.color[e])))
			gb_die("gfx_image_create", r);
	views(&b);
	gfx_list_init(&b.list);
	b.in = (struct gfx_list_input){ .w = b.s.w, .scene = b.s.scene, .grid = true };

	static uint64_t parts[PARTS][FRAMES], total[FRAMES], thread[FRAMES];
	uint64_t t[PARTS], th;
	for (unsigned i = 0; i < WARMUP; i++)
		frame(&b, t, &th);
	for (unsigned i = 0; i < FRAMES; i++) {
		frame(&b, t, &thread[i]);
		total[i] = 0;
		for (unsigned p = 0; p < PARTS; p++) {
			parts[p][i] = t[p];
			total[i] += t[p];
		}
	}
	struct gfx_draw_stats st;
	gfx_draw_stats(b.d, &st);
	printf("device: %s; %u instances, %llu triangles drawn per frame (both eyes), %llu draws; scene built in "
	       "%.0f ms\n",
	       b.vk->props.deviceName, b.list.ninst, (unsigned long long)st.triangles, (unsigned long long)st.draws,
	       scene_ms);
	if (b.list.triangles < 100000) {
		fprintf(stderr, "bench_gfx_frame: the list holds %llu triangles, not the scene's 100 k\n",
			(unsigned long long)b.list.triangles);
		return 1;
	}
	char name[96];
	double med = th_bench_median_ms(total, FRAMES), max = (double)total[FRAMES - 1] / 1e6;
	snprintf(name, sizeof(name), "gfx.frame.%s.cpu_100k_ms", dev);
	th_bench_figure_goal(name, med, "ms", "<= 11.1 ms", med <= BUDGET_MS);
	snprintf(name, sizeof(name), "gfx.frame.%s.cpu_100k_thread_ms", dev);
	th_bench_figure(name, th_bench_median_ms(thread, FRAMES), "ms");
	snprintf(name, sizeof(name), "gfx.frame.%s.cpu_100k_max_ms", dev);
	th_bench_figure(name, max, "ms");
	double part_ms[PARTS];
	for (unsigned p = 0; p < PARTS; p++) {
		snprintf(name, sizeof(name), "gfx.frame.%s.%s_ms", dev, part_name[p]);
		part_ms[p] = th_bench_median_ms(parts[p], FRAMES);
		th_bench_figure(name, part_ms[p], "ms");
	}
	printf("\nCPU per frame on %s, %llu triangles, stereo (median of %u frames):\n", b.vk->props.deviceName,
	       (unsigned long long)b.list.triangles, FRAMES);
	for (unsigned p = 0; p < PARTS; p++)
		printf("  %-8s %7.3f ms\n", part_name[p], part_ms[p]);
	printf("  total    %7.3f ms (max %.3f; this thread's CPU %.3f; budget %.1f ms)\n", med, max,
	       th_bench_median_ms(thread, FRAMES), BUDGET_MS);

	double empty = empty_frames(&b);
	snprintf(name, sizeof(name), "gfx.frame.%s.baseline_empty_ms", dev);
	th_bench_figure(name, empty, "ms");
	printf("  baseline %7.3f ms (prepare + record + submit of an empty list, same run)\n", empty);

	ui_frames(&b, dev);

	gfx_draw_destroy(&b.d);
	for (unsigned e = 0; e < 2; e++)
		gfx_image_destroy(b.vk, &b.color[e]);
	gfx_list_fini(&b.list);
	gb_context_end(&b.vk);
	through_renderer(&b, dev);
	gs_fini(&b.s);
	return 0;
}
