/* The window backend (gfx_window.c) on a private Xvfb with lavapipe and
 * the validation layer: frames presented and read back through the
 * screenshot copy, a resize rebuilding the swapchain at the new size, an
 * iconified window rendering nothing, the close button stopping, and a
 * cube drawn by the draw core compared with goldens before and after a
 * resize. Every test fails on any validation message.
 *
 * Xvfb has no window manager, so for iconify and close this test does what
 * an ICCCM window manager does on its own X connection: it answers the
 * window's WM_CHANGE_STATE request by unmapping it and setting WM_STATE,
 * sets WM_STATE back to normal when the window maps itself again, and sends
 * WM_DELETE_WINDOW as a close button does. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

/* From glfw3native.h, whose X11 part wants the Xrandr headers too. */
Window glfwGetX11Window(GLFWwindow *window);

#include "gfx/gfx_backend.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_png.h"
#include "th_gfxclear.h"
#include "th_golden.h"
#include "th_harness.h"
#include "th_meshfix.h"
#include "th_time.h"
#include "th_xvfb.h"

#define W0 160u
#define H0 96u
#define W1 224u
#define H1 128u
#define FRAMES_MAX 400u     /* frames a test waits through for a change */
#define X_WAIT_MS 10000     /* for an X event the test itself caused */
#define FOVY 1.0f


/* The test's own frame recording (the draw core is tested elsewhere): two
 * slots with a command buffer and a fence each, as gfx_draw has. A frame
 * clears the image to BACK and its top-left quarter to MARK. */
static const float BACK[4] = { 0.2f, 0.4f, 0.6f, 1.0f }; /* linear */
static const float MARK[4] = { 1.0f, 0.0f, 0.0f, 1.0f };
/* BACK through the sRGB encoding: 0.2 -> 124, 0.4 -> 170, 0.6 -> 203. */
static const uint8_t BACK8[4] = { 124, 170, 203, 255 };
static const uint8_t MARK8[4] = { 255, 0, 0, 255 };

struct rig {
	struct gfx_backend *b;
	struct gfx_vk *vk;
	VkFormat format;
	bool srgb;
	VkCommandPool pool;
	VkCommandBuffer cmd[GFX_FRAMES_IN_FLIGHT];
	VkFence fence[GFX_FRAMES_IN_FLIGHT];
	uint32_t slot;
	char shot[300];
};

/* The test's command buffers and fences on r->vk. */
static void rig_gpu_open(struct rig *r)
{
	VkCommandPoolCreateInfo pi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = r->vk->queue_family,
	};
	assert_int_equal(vkCreateCommandPool(r->vk->device, &pi, NULL, &r->pool), VK_SUCCESS);
	VkCommandBufferAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = r->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = GFX_FRAMES_IN_FLIGHT,
	};
	assert_int_equal(vkAllocateCommandBuffers(r->vk->device, &ai, r->cmd), VK_SUCCESS);
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++) {
		VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = VK_FENCE_CREATE_SIGNALED_BIT };
		assert_int_equal(vkCreateFence(r->vk->device, &fi, NULL, &r->fence[i]), VK_SUCCESS);
	}
}

static void rig_gpu_close(struct rig *r)
{
	vkDeviceWaitIdle(r->vk->device);
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++)
		vkDestroyFence(r->vk->device, r->fence[i], NULL);
	vkDestroyCommandPool(r->vk->device, r->pool, NULL);
	r->slot = 0;
}

static void rig_open_faulty(struct rig *r, uint32_t w, uint32_t h, uint64_t fault_at)
{
	memset(r, 0, sizeof *r);
	snprintf(r->shot, sizeof r->shot, "%s/window.png", th_xvfb_dir());
	unlink(r->shot);
	struct gfx_window_config wc = {
		.width = w, .height = h, .title = "test_gfx_window", .screenshot = r->shot, .fault_at = fault_at
	};
	assert_int_equal(gfx_window_create(&wc, &r->b), 0);
	assert_string_equal(r->b->name, "window");
	struct gfx_vk_config vc = { .validation = true };
	assert_int_equal(r->b->ops->vk_config(r->b, &vc), 0);
	assert_int_equal(gfx_vk_create(&vc, &r->vk), 0);
	assert_int_equal(r->b->ops->attach(r->b, r->vk, &r->format, &r->srgb), 0);
	/* lavapipe's X11 surface offers B8G8R8A8_SRGB: the window must take it. */
	assert_true(r->srgb);
	rig_gpu_open(r);
}

static void rig_open(struct rig *r, uint32_t w, uint32_t h)
{
	rig_open_faulty(r, w, h, 0);
}

/* Tears everything down; the screenshot is written by destroy. */
static void rig_close(struct rig *r)
{
	if (r->vk)
		rig_gpu_close(r);
	r->b->ops->detach(r->b);
	uint64_t msgs = r->vk ? r->vk->validation_messages : 0;
	gfx_vk_destroy(&r->vk);
	r->b->ops->destroy(r->b);
	r->b = NULL;
	assert_int_equal(msgs, 0);
}

/* One frame through the backend: 0 (f->render says whether it drew), 1 stop. */
static int rig_frame(struct rig *r, struct gfx_frame *f)
{
	/* The camera as gfx.c makes it: for the size the backend said last. */
	struct gfx_view cam;
	memset(&cam, 0, sizeof cam);
	gfx_mat4_identity(cam.view);
	gfx_mat4_perspective(cam.proj, FOVY, (float)r->b->width / (float)r->b->height, 0.1f, 100.0f);
	int rc = r->b->ops->begin_frame(r->b, &cam, f);
	assert_true(rc == 0 || rc == 1);
	if (rc == 1)
		return 1;
	if (f->render) {
		assert_int_equal(f->nviews, 1);
		assert_int_equal(f->target[0].extent.width, r->b->width);
		assert_int_equal(f->target[0].extent.height, r->b->height);
		assert_int_equal(f->target[0].format, r->format);
		VkDevice dev = r->vk->device;
		VkCommandBuffer cmd = r->cmd[r->slot];
		VkFence fence = r->fence[r->slot];
		assert_int_equal(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX), VK_SUCCESS);
		assert_int_equal(vkResetFences(dev, 1, &fence), VK_SUCCESS);
		assert_int_equal(vkResetCommandBuffer(cmd, 0), VK_SUCCESS);
		VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
						.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
		assert_int_equal(vkBeginCommandBuffer(cmd, &bi), VK_SUCCESS);
		const struct gfx_target *t = &f->target[0];
		gc_record_clear(cmd, t, BACK, MARK, (VkRect2D){ { 0, 0 }, { t->extent.width / 2, t->extent.height / 2 } });
		r->b->ops->after_record(r->b, cmd, f);
		assert_int_equal(vkEndCommandBuffer(cmd), VK_SUCCESS);
		VkSemaphoreSubmitInfo wait = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
					       .semaphore = f->wait,
					       .stageMask = f->wait_stage };
		VkSemaphoreSubmitInfo signal = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
						 .semaphore = f->signal,
						 .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT };
		VkCommandBufferSubmitInfo cb = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, .commandBuffer = cmd };
		VkSubmitInfo2 si = {
			.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
			.waitSemaphoreInfoCount = 1,
			.pWaitSemaphoreInfos = &wait,
			.commandBufferInfoCount = 1,
			.pCommandBufferInfos = &cb,
			.signalSemaphoreInfoCount = 1,
			.pSignalSemaphoreInfos = &signal,
		};
		assert_int_equal(vkQueueSubmit2(r->vk->queue, 1, &si, fence), VK_SUCCESS);
		r->slot = (r->slot + 1) % GFX_FRAMES_IN_FLIGHT;
		return r->b->ops->end_frame(r->b, f, fence);
	}
	return r->b->ops->end_frame(r->b, f, VK_NULL_HANDLE);
}

static void assert_pixel(const uint8_t *px, uint32_t w, uint32_t x, uint32_t y, const uint8_t want[4])
{
	const uint8_t *p = px + ((size_t)y * w + x) * 4;
	for (int c = 0; c < 4; c++)
		if (abs((int)p[c] - (int)want[c]) > 1)
			fail_msg("pixel (%u, %u) is %u,%u,%u,%u, want %u,%u,%u,%u", x, y, p[0], p[1], p[2], p[3], want[0],
				 want[1], want[2], want[3]);
}

/* The screenshot copy shows the frame's pattern at w x h. */
static void assert_pattern(struct rig *r, uint32_t w, uint32_t h)
{
	uint32_t pw = 0, ph = 0;
	const uint8_t *px = gfx_window_pixels(r->b, &pw, &ph);
	assert_non_null(px);
	assert_int_equal(pw, w);
	assert_int_equal(ph, h);
	assert_pixel(px, pw, 0, 0, MARK8);
	assert_pixel(px, pw, w / 2 - 1, h / 2 - 1, MARK8);
	assert_pixel(px, pw, w / 2, h / 2 - 1, BACK8);
	assert_pixel(px, pw, w / 2 - 1, h / 2, BACK8);
	assert_pixel(px, pw, w - 1, h - 1, BACK8);
	assert_pixel(px, pw, w - 1, 0, BACK8);
	assert_pixel(px, pw, 0, h - 1, BACK8);
}

static void presents_frames_and_the_screenshot_is_the_last(void **state)
{
	struct rig r;
	rig_open(&r, W0, H0);
	assert_int_equal(r.b->width, W0);
	assert_int_equal(r.b->height, H0);
	assert_null(gfx_window_pixels(r.b, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	struct gfx_frame f;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rig_frame(&r, &f), 0);
		assert_true(f.render);
	}
	assert_pattern(&r, W0, H0);
	struct gfx_window_stats st;
	gfx_window_stats(r.b, &st);
	assert_int_equal(st.presented, 5);
	assert_int_equal(st.swapchains, 1);
	assert_int_equal(st.skipped, 0);
	/* destroy writes the same pixels as a PNG */
	uint32_t pw, ph;
	const uint8_t *px = gfx_window_pixels(r.b, &pw, &ph);
	uint8_t *keep = malloc((size_t)pw * ph * 4);
	assert_non_null(keep);
	memcpy(keep, px, (size_t)pw * ph * 4);
	char shot[sizeof r.shot];
	memcpy(shot, r.shot, sizeof shot);
	rig_close(&r);
	uint8_t *png;
	uint32_t gw, gh;
	char why[GFX_PNG_WHY_MAX];
	assert_int_equal(gfx_png_read(shot, &png, &gw, &gh, why, sizeof why), 0);
	assert_int_equal(gw, W0);
	assert_int_equal(gh, H0);
	assert_memory_equal(png, keep, (size_t)gw * gh * 4);
	free(png);
	free(keep);
}

static void a_resize_rebuilds_the_swapchain_at_the_new_size(void **state)
{
	struct rig r;
	rig_open(&r, W0, H0);
	struct gfx_frame f;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rig_frame(&r, &f), 0);
	assert_pattern(&r, W0, H0);
	glfwSetWindowSize(gfx_window_glfw(r.b), (int)W1, (int)H1);
	/* The server resizes at once (no window manager); GLFW hears of it on
	 * a later poll. Every frame until then is still a whole one. */
	uint32_t n = 0;
	while (r.b->width != W1 && n++ < FRAMES_MAX) {
		assert_int_equal(rig_frame(&r, &f), 0);
		assert_true(f.render);
	}
	assert_int_equal(r.b->width, W1);
	assert_int_equal(r.b->height, H1);
	/* The frame that found the new size had a camera made for the old
	 * one: the window gave it the new aspect, the same vertical field. */
	float want[16];
	gfx_mat4_perspective(want, FOVY, (float)W1 / (float)H1, 0.1f, 100.0f);
	assert_float_equal(f.view[0].proj[0], want[0], 1e-5);
	assert_float_equal(f.view[0].proj[5], want[5], 1e-5);
	/* the frames after it are at the new size */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rig_frame(&r, &f), 0);
		assert_true(f.render);
		assert_int_equal(f.target[0].extent.width, W1);
		assert_int_equal(f.target[0].extent.height, H1);
	}
	assert_pattern(&r, W1, H1);
	struct gfx_window_stats st;
	gfx_window_stats(r.b, &st);
	assert_int_equal(st.swapchains, 2); /* one rebuild for one resize */
	/* and back down */
	glfwSetWindowSize(gfx_window_glfw(r.b), (int)W0, (int)H0);
	n = 0;
	while (r.b->width != W0 && n++ < FRAMES_MAX)
		assert_int_equal(rig_frame(&r, &f), 0);
	assert_int_equal(rig_frame(&r, &f), 0);
	assert_pattern(&r, W0, H0);
	rig_close(&r);
}

/* An out-of-date acquire rebuilds and acquires again in the same frame;
 * a suboptimal present rebuilds before the next. */
static void out_of_date_and_suboptimal_rebuild(void **state)
{
	struct rig r;
	rig_open_faulty(&r, W0, H0, 3);
	struct gfx_frame f;
	struct gfx_window_stats st;
	for (int i = 0; i < 2; i++)
		assert_int_equal(rig_frame(&r, &f), 0);
	gfx_window_stats(r.b, &st);
	assert_int_equal(st.swapchains, 1);
	assert_int_equal(rig_frame(&r, &f), 0); /* out of date, rebuilt, drawn */
	assert_true(f.render);
	gfx_window_stats(r.b, &st);
	assert_int_equal(st.swapchains, 2);
	assert_int_equal(st.out_of_date, 2); /* the acquire and the present */
	assert_int_equal(st.presented, 3);
	assert_int_equal(rig_frame(&r, &f), 0); /* rebuilt after the suboptimal present */
	assert_true(f.render);
	assert_int_equal(rig_frame(&r, &f), 0);
	gfx_window_stats(r.b, &st);
	assert_int_equal(st.swapchains, 3);
	assert_int_equal(st.out_of_date, 2);
	assert_int_equal(st.presented, 5);
	assert_pattern(&r, W0, H0);
	rig_close(&r);
}

/* What gfx.c does after a device loss: detach, a new context, attach. */
static void attaches_again_to_a_new_context(void **state)
{
	struct rig r;
	rig_open(&r, W0, H0);
	struct gfx_frame f;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rig_frame(&r, &f), 0);
	rig_gpu_close(&r);
	r.b->ops->detach(r.b);
	assert_int_equal(r.vk->validation_messages, 0);
	gfx_vk_destroy(&r.vk);
	/* the last frame is kept across it */
	assert_pattern(&r, W0, H0);
	assert_int_equal(r.b->ops->begin_frame(r.b, NULL, &f), -EINVAL);

	struct gfx_backend *b = r.b;
	struct gfx_vk_config vc = { .validation = true };
	assert_int_equal(b->ops->vk_config(b, &vc), 0);
	assert_int_equal(gfx_vk_create(&vc, &r.vk), 0);
	VkFormat fmt;
	bool srgb;
	assert_int_equal(b->ops->attach(b, r.vk, &fmt, &srgb), 0);
	assert_int_equal(fmt, r.format);
	assert_int_equal(b->ops->attach(b, r.vk, &fmt, &srgb), -EBUSY);
	rig_gpu_open(&r);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rig_frame(&r, &f), 0);
		assert_true(f.render);
	}
	assert_pattern(&r, W0, H0);
	rig_close(&r);
}

/* The window manager's side, on a connection of its own. */
struct wm {
	Display *dpy;
	Window win;
	Atom wm_state, change_state, protocols, delete_window;
};

static void wm_open(struct wm *m, struct gfx_backend *b)
{
	m->dpy = XOpenDisplay(NULL);
	assert_non_null(m->dpy);
	m->win = glfwGetX11Window(gfx_window_glfw(b));
	assert_true(m->win != None);
	m->wm_state = XInternAtom(m->dpy, "WM_STATE", False);
	m->change_state = XInternAtom(m->dpy, "WM_CHANGE_STATE", False);
	m->protocols = XInternAtom(m->dpy, "WM_PROTOCOLS", False);
	m->delete_window = XInternAtom(m->dpy, "WM_DELETE_WINDOW", False);
	XSelectInput(m->dpy, DefaultRootWindow(m->dpy), SubstructureNotifyMask);
	XSync(m->dpy, False);
}

static void wm_close(struct wm *m)
{
	XCloseDisplay(m->dpy);
}

static void wm_set_state(struct wm *m, long state)
{
	long data[2] = { state, None };
	XChangeProperty(m->dpy, m->win, m->wm_state, m->wm_state, 32, PropModeReplace, (unsigned char *)data, 2);
	XSync(m->dpy, False);
}

/* Waits for an event about our window that pred accepts; the rig keeps
 * rendering meanwhile (GLFW sends on its own connection). */
static bool wm_wait(struct wm *m, struct rig *r, bool (*pred)(struct wm *, XEvent *))
{
	uint64_t deadline = th_now_ns() + (uint64_t)X_WAIT_MS * TH_NS_PER_MS;
	while (th_now_ns() < deadline) {
		while (XPending(m->dpy)) {
			XEvent ev;
			XNextEvent(m->dpy, &ev);
			if (pred(m, &ev))
				return true;
		}
		struct gfx_frame f;
		assert_int_equal(rig_frame(r, &f), 0);
	}
	return false;
}

static bool is_iconify_request(struct wm *m, XEvent *ev)
{
	return ev->type == ClientMessage && ev->xclient.window == m->win && ev->xclient.message_type == m->change_state &&
	       ev->xclient.data.l[0] == IconicState;
}

static bool is_map(struct wm *m, XEvent *ev)
{
	return ev->type == MapNotify && ev->xmap.window == m->win;
}

static void iconified_renders_nothing_until_restored(void **state)
{
	struct rig r;
	rig_open(&r, W0, H0);
	struct wm m;
	wm_open(&m, r.b);
	wm_set_state(&m, NormalState);
	struct gfx_frame f;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rig_frame(&r, &f), 0);
	glfwIconifyWindow(gfx_window_glfw(r.b));
	assert_true(wm_wait(&m, &r, is_iconify_request));
	XUnmapWindow(m.dpy, m.win);
	wm_set_state(&m, IconicState);

	struct gfx_window_stats before, after;
	gfx_window_stats(r.b, &before);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(rig_frame(&r, &f), 0);
		assert_false(f.render);
		assert_int_equal(f.nviews, 0);
	}
	gfx_window_stats(r.b, &after);
	assert_int_equal(after.presented, before.presented);
	assert_int_equal(after.skipped, before.skipped + 10);

	glfwRestoreWindow(gfx_window_glfw(r.b));
	assert_true(wm_wait(&m, &r, is_map));
	wm_set_state(&m, NormalState);
	uint32_t n = 0;
	do
		assert_int_equal(rig_frame(&r, &f), 0);
	while (!f.render && n++ < FRAMES_MAX);
	assert_true(f.render);
	assert_int_equal(rig_frame(&r, &f), 0);
	assert_true(f.render);
	gfx_window_stats(r.b, &after);
	assert_int_equal(after.presented, before.presented + 2);
	assert_pattern(&r, W0, H0);
	wm_close(&m);
	rig_close(&r);
}

static void the_close_button_stops(void **state)
{
	struct rig r;
	rig_open(&r, W0, H0);
	struct wm m;
	wm_open(&m, r.b);
	struct gfx_frame f;
	assert_int_equal(rig_frame(&r, &f), 0);
	XEvent ev = { 0 };
	ev.xclient.type = ClientMessage;
	ev.xclient.window = m.win;
	ev.xclient.message_type = m.protocols;
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)m.delete_window;
	ev.xclient.data.l[1] = CurrentTime;
	assert_true(XSendEvent(m.dpy, m.win, False, NoEventMask, &ev) != 0);
	XSync(m.dpy, False);
	uint64_t deadline = th_now_ns() + (uint64_t)X_WAIT_MS * TH_NS_PER_MS;
	int rc = 0;
	while (rc == 0 && th_now_ns() < deadline)
		rc = rig_frame(&r, &f);
	assert_int_equal(rc, 1);
	/* and it stays stopped */
	assert_int_equal(r.b->ops->begin_frame(r.b, NULL, &f), 1);
	wm_close(&m);
	rig_close(&r);
}

static void no_display_is_enxio(void **state)
{
	char keep[64];
	snprintf(keep, sizeof keep, "%s", getenv("DISPLAY"));
	unsetenv("DISPLAY");
	struct gfx_backend *b = NULL;
	assert_int_equal(gfx_window_create(&(struct gfx_window_config){ .width = W0, .height = H0 }, &b), -ENXIO);
	assert_null(b);
	setenv("DISPLAY", keep, 1);
}

/* ---- through the draw core: a cube against goldens ---- */

#define CUBE_MATERIAL 6u /* the instance's: faces of material 0 */

/* One instance of the unit cube (th_meshfix), centred and turned so three
 * faces show; the list built by hand (the list builder is tested apart). */
struct cube_scene {
	struct th_mesh m;
	struct gfx_inst inst;
	struct gfx_list l;
};

static void cube_scene_init(struct cube_scene *c)
{
	memset(c, 0, sizeof *c);
	mf_build_cube(&c->m, NULL, 6);
	float centre[16], turn[16];
	const float t[3] = { -0.5f, -0.5f, -0.5f };
	const float none[4] = { 0, 0, 0, 1 };
	gfx_mat4_trs(centre, t, none, NULL);
	/* 35 degrees about +Y, then 20 about +X */
	const float qy[4] = { 0, sinf(0.3054f), 0, cosf(0.3054f) };
	const float qx[4] = { sinf(0.1745f), 0, 0, cosf(0.1745f) };
	float ry[16], rx[16];
	const float zero[3] = { 0, 0, 0 };
	gfx_mat4_trs(ry, zero, qy, NULL);
	gfx_mat4_trs(rx, zero, qx, NULL);
	gfx_mat4_mul(turn, rx, ry);
	c->inst = (struct gfx_inst){ .entity = 1, .mesh_key = c->m.id, .mesh = &c->m, .material = CUBE_MATERIAL };
	gfx_mat4_mul(c->inst.model, turn, centre);
	c->l.inst = &c->inst;
	c->l.ninst = c->l.cap_inst = 1;
	/* The fixture's faces have materials 0..5 (0: the instance's). */
	static const float mat[6][4] = {
		{ 0.8f, 0.25f, 0.1f, 1 }, { 0.2f, 0.7f, 0.25f, 1 }, { 0.15f, 0.3f, 0.8f, 1 },
		{ 0.85f, 0.75f, 0.2f, 1 }, { 0.2f, 0.75f, 0.8f, 1 }, { 0.7f, 0.3f, 0.7f, 1 },
	};
	memcpy(c->l.material, mat, sizeof mat);
	c->l.material[CUBE_MATERIAL][0] = 0.8f;
	c->l.material[CUBE_MATERIAL][1] = 0.25f;
	c->l.material[CUBE_MATERIAL][2] = 0.1f;
	c->l.material[CUBE_MATERIAL][3] = 1.0f;
	c->l.clear[0] = 0.02f;
	c->l.clear[1] = 0.03f;
	c->l.clear[2] = 0.05f;
	c->l.clear[3] = 1.0f;
}

static void cube_scene_fini(struct cube_scene *c)
{
	th_mesh_fini(&c->m);
}

/* One frame the way gfx.c drives a backend and the core. */
static int draw_frame(struct rig *r, struct gfx_draw *d, const struct gfx_list *l, struct gfx_frame *f)
{
	struct gfx_view cam;
	const float eye[3] = { 0.0f, 0.3f, 2.6f }, target[3] = { 0, 0, 0 };
	gfx_mat4_look_at(cam.view, eye, target);
	gfx_mat4_perspective(cam.proj, FOVY, (float)r->b->width / (float)r->b->height, 0.1f, 100.0f);
	memcpy(cam.eye, eye, sizeof eye);
	int rc = r->b->ops->begin_frame(r->b, &cam, f);
	if (rc != 0 || !f->render)
		return rc != 0 ? rc : r->b->ops->end_frame(r->b, f, VK_NULL_HANDLE);
	VkCommandBuffer cmd;
	assert_int_equal(gfx_draw_begin(d, &cmd), 0);
	assert_int_equal(gfx_draw_prepare(d, cmd, l), 0);
	assert_int_equal(gfx_draw_record(d, cmd, l, &f->target[0], &f->view[0], 0), 0);
	r->b->ops->after_record(r->b, cmd, f);
	assert_int_equal(gfx_draw_submit(d, cmd, f->wait, f->wait_stage, f->signal), 0);
	return r->b->ops->end_frame(r->b, f, gfx_draw_last_fence(d));
}

static void draws_a_cube_like_the_golden_before_and_after_a_resize(void **state)
{
	struct rig r;
	rig_open(&r, W0, H0);
	struct gfx_draw *d;
	assert_int_equal(gfx_draw_create(r.vk, &(struct gfx_draw_config){ .color_format = r.format, .srgb_target = r.srgb },
					 &d),
			 0);
	struct cube_scene c;
	cube_scene_init(&c);
	struct gfx_frame f;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(draw_frame(&r, d, &c.l, &f), 0);
		assert_true(f.render);
	}
	uint32_t w, h;
	const uint8_t *px = gfx_window_pixels(r.b, &w, &h);
	assert_non_null(px);
	th_golden_check("window_cube", px, w, h, &TH_GOLDEN_TOLERANCE);

	glfwSetWindowSize(gfx_window_glfw(r.b), (int)W1, (int)H1);
	uint32_t n = 0;
	while (r.b->width != W1 && n++ < FRAMES_MAX)
		assert_int_equal(draw_frame(&r, d, &c.l, &f), 0);
	assert_int_equal(draw_frame(&r, d, &c.l, &f), 0);
	assert_true(f.render);
	px = gfx_window_pixels(r.b, &w, &h);
	assert_non_null(px);
	assert_int_equal(w, W1);
	assert_int_equal(h, H1);
	th_golden_check("window_cube_wide", px, w, h, &TH_GOLDEN_TOLERANCE);

	gfx_draw_destroy(&d);
	cube_scene_fini(&c);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_display_is_enxio),
		cmocka_unit_test(presents_frames_and_the_screenshot_is_the_last),
		cmocka_unit_test(out_of_date_and_suboptimal_rebuild),
		cmocka_unit_test(a_resize_rebuilds_the_swapchain_at_the_new_size),
		cmocka_unit_test(attaches_again_to_a_new_context),
		cmocka_unit_test(iconified_renders_nothing_until_restored),
		cmocka_unit_test(the_close_button_stops),
		cmocka_unit_test(draws_a_cube_like_the_golden_before_and_after_a_resize),
	};
	return th_xvfb_run_group(tests);
}
