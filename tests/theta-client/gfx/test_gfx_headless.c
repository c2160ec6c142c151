/* theta-client/gfx/gfx_headless.c on lavapipe with validation: frames
 * recorded here the way the core does (the target's barrier, dynamic
 * rendering with a clear and a scissored rectangle, the final layout),
 * read back lazily through the frame's fence, written as PNG at the shot
 * frame or the last, a stereo pair side by side, a rebuild after a loss. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gfx/gfx_backend.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_png.h"
#include "th_gfxclear.h"
#include "th_golden.h"
#include "th_harness.h"

#define W 64u
#define H 32u

/* What a frame draws into each view: the whole image cleared to bg, a
 * rectangle of fg. Linear colours; the image is sRGB. */
struct paint {
	float bg[4], fg[4];
	VkRect2D rect;
};

struct rig {
	struct gfx_vk *vk;
	struct gfx_backend *b;
	VkCommandBuffer cmd[GFX_FRAMES_IN_FLIGHT];
	VkFence fence[GFX_FRAMES_IN_FLIGHT];
	uint32_t slot;
	char dir[PATH_MAX];
};

static void rig_attach(struct rig *r)
{
	assert_int_equal(gfx_vk_create(&(struct gfx_vk_config){ .validation = true }, &r->vk), 0);
	struct gfx_vk_config extra = { 0 };
	assert_int_equal(r->b->ops->vk_config(r->b, &extra), 0);
	VkFormat fmt = VK_FORMAT_UNDEFINED;
	bool srgb = false;
	assert_int_equal(r->b->ops->attach(r->b, r->vk, &fmt, &srgb), 0);
	assert_int_equal(fmt, VK_FORMAT_R8G8B8A8_SRGB);
	assert_true(srgb);
	VkCommandBufferAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = r->vk->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = GFX_FRAMES_IN_FLIGHT,
	};
	assert_int_equal(vkAllocateCommandBuffers(r->vk->device, &ai, r->cmd), VK_SUCCESS);
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++) {
		VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
					 .flags = VK_FENCE_CREATE_SIGNALED_BIT };
		assert_int_equal(vkCreateFence(r->vk->device, &fi, NULL, &r->fence[i]), VK_SUCCESS);
	}
}

/* The order gfx.c uses: the core's fences go before the backend detaches. */
static void rig_detach(struct rig *r)
{
	vkDeviceWaitIdle(r->vk->device);
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++)
		vkDestroyFence(r->vk->device, r->fence[i], NULL);
	vkFreeCommandBuffers(r->vk->device, r->vk->pool, GFX_FRAMES_IN_FLIGHT, r->cmd);
	r->b->ops->detach(r->b);
	assert_int_equal(r->vk->validation_messages, 0);
	gfx_vk_destroy(&r->vk);
}

static struct rig *rig_new(const struct gfx_headless_config *c)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_int_equal(gfx_headless_create(c, &r->b), 0);
	assert_string_equal(r->b->name, "headless");
	assert_int_equal(r->b->width, c->width);
	assert_int_equal(r->b->height, c->height);
	rig_attach(r);
	return r;
}

static void rig_free(struct rig *r)
{
	if (r->vk)
		rig_detach(r);
	r->b->ops->destroy(r->b);
	free(r);
}

static struct gfx_view camera(void)
{
	struct gfx_view v;
	const float eye[3] = { 0.0f, 1.0f, 3.0f }, target[3] = { 0.0f, 0.0f, 0.0f };
	gfx_mat4_look_at(v.view, eye, target);
	gfx_mat4_perspective(v.proj, 1.0f, (float)W / H, 0.05f, 100.0f);
	memcpy(v.eye, eye, sizeof(eye));
	return v;
}

/* One frame the way the core records it, submitted with the slot's fence
 * and not waited for. */
static int frame(struct rig *r, const struct paint *p, uint32_t npaint, struct gfx_frame *f)
{
	struct gfx_view cam = camera();
	int rc = r->b->ops->begin_frame(r->b, &cam, f);
	if (rc != 0)
		return rc;
	uint32_t s = r->slot;
	r->slot = (r->slot + 1) % GFX_FRAMES_IN_FLIGHT;
	assert_int_equal(vkWaitForFences(r->vk->device, 1, &r->fence[s], VK_TRUE, UINT64_MAX), VK_SUCCESS);
	assert_int_equal(vkResetFences(r->vk->device, 1, &r->fence[s]), VK_SUCCESS);
	VkCommandBuffer cmd = r->cmd[s];
	VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
					.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
	assert_int_equal(vkBeginCommandBuffer(cmd, &bi), VK_SUCCESS);
	for (uint32_t v = 0; v < f->nviews; v++) {
		const struct gfx_target *t = &f->target[v];
		const struct paint *pv = &p[v < npaint ? v : 0];
		gc_record_clear(cmd, t, pv->bg, pv->fg, pv->rect);
	}
	r->b->ops->after_record(r->b, cmd, f);
	assert_int_equal(vkEndCommandBuffer(cmd), VK_SUCCESS);
	VkCommandBufferSubmitInfo cbi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, .commandBuffer = cmd };
	VkSubmitInfo2 si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
			     .commandBufferInfoCount = 1,
			     .pCommandBufferInfos = &cbi };
	assert_int_equal(vkQueueSubmit2(r->vk->queue, 1, &si, r->fence[s]), VK_SUCCESS);
	return r->b->ops->end_frame(r->b, f, r->fence[s]);
}

static const uint8_t *px(const uint8_t *p, uint32_t w, uint32_t x, uint32_t y)
{
	return p + ((size_t)y * w + x) * 4u;
}

/* Linear 0.5 is sRGB 188, 0.25 is 137, 1 is 255, 0 is 0. */
static void assert_rgb(const uint8_t *p, int r, int g, int b)
{
	int want[4] = { r, g, b, 255 };
	for (int c = 0; c < 4; c++)
		if (abs((int)p[c] - want[c]) > 1)
			fail_msg("pixel %u,%u,%u,%u, want %d,%d,%d,255 (within 1)", p[0], p[1], p[2], p[3], r, g, b);
}

static const struct paint BLUE_RED = {
	.bg = { 0.0f, 0.0f, 0.5f, 1.0f },
	.fg = { 1.0f, 0.25f, 0.0f, 1.0f },
	.rect = { { 10, 4 }, { 20, 8 } },
};

static void frame_reads_back_what_was_drawn(void **state)
{
	struct rig *r = rig_new(&(struct gfx_headless_config){ .width = W, .height = H });
	uint32_t w = 0, h = 0;
	assert_null(gfx_headless_pixels(r->b, &w, &h)); /* nothing yet */
	struct gfx_frame f;
	assert_int_equal(frame(r, &BLUE_RED, 1, &f), 0);
	assert_true(f.render);
	assert_int_equal(f.nviews, 1);
	assert_int_equal(f.target[0].format, VK_FORMAT_R8G8B8A8_SRGB);
	assert_int_equal(f.target[0].final_layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
	struct gfx_view cam = camera();
	assert_memory_equal(f.view[0].view, cam.view, sizeof(cam.view));

	const uint8_t *p = gfx_headless_pixels(r->b, &w, &h);
	assert_non_null(p);
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	assert_rgb(px(p, w, 0, 0), 0, 0, 188);
	assert_rgb(px(p, w, 63, 31), 0, 0, 188);
	/* The rectangle: x 10..29, y 4..11 from the top-left corner. */
	assert_rgb(px(p, w, 10, 4), 255, 137, 0);
	assert_rgb(px(p, w, 29, 11), 255, 137, 0);
	assert_rgb(px(p, w, 9, 4), 0, 0, 188);
	assert_rgb(px(p, w, 30, 11), 0, 0, 188);
	assert_rgb(px(p, w, 10, 12), 0, 0, 188);
	th_golden_check("headless_clear_rect", p, w, h, &TH_GOLDEN_TOLERANCE);

	/* More frames through both slots: the last one is what is read. */
	for (int i = 0; i < 5; i++) {
		struct paint q = BLUE_RED;
		q.rect.offset.x = (int32_t)(i * 8);
		assert_int_equal(frame(r, &q, 1, &f), 0);
	}
	p = gfx_headless_pixels(r->b, &w, &h);
	assert_rgb(px(p, w, 32, 4), 255, 137, 0);
	assert_rgb(px(p, w, 31, 4), 0, 0, 188);
	assert_rgb(px(p, w, 10, 4), 0, 0, 188);
	rig_free(r);
}

static void screenshot_at_the_shot_frame_or_the_last(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	assert_int_equal(th_mkdtemp(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/shot.png", dir);
	struct paint green = { .bg = { 0.0f, 1.0f, 0.0f, 1.0f } }, grey = { .bg = { 0.5f, 0.5f, 0.5f, 1.0f } };

	/* Frame 2 of 3. */
	struct rig *r = rig_new(&(struct gfx_headless_config){ .width = W, .height = H, .screenshot = path,
								.shot_frame = 2 });
	struct gfx_frame f;
	assert_int_equal(frame(r, &green, 1, &f), 0);
	assert_int_equal(frame(r, &grey, 1, &f), 0);
	uint8_t *png = NULL;
	uint32_t w, h;
	assert_int_equal(gfx_png_read(path, &png, &w, &h, NULL, 0), 0); /* written at the frame itself */
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	assert_rgb(px(png, w, 5, 5), 188, 188, 188);
	free(png);
	assert_int_equal(frame(r, &green, 1, &f), 0);
	rig_free(r);
	assert_int_equal(gfx_png_read(path, &png, &w, &h, NULL, 0), 0);
	assert_rgb(px(png, w, 5, 5), 188, 188, 188); /* not overwritten at destroy */
	free(png);

	/* 0: the last frame, at destroy (after detach took the pixels). */
	unlink(path);
	r = rig_new(&(struct gfx_headless_config){ .width = W, .height = H, .screenshot = path });
	assert_int_equal(frame(r, &grey, 1, &f), 0);
	assert_int_equal(frame(r, &green, 1, &f), 0);
	assert_int_equal(access(path, F_OK), -1);
	rig_free(r);
	assert_int_equal(gfx_png_read(path, &png, &w, &h, NULL, 0), 0);
	assert_rgb(px(png, w, 5, 5), 0, 255, 0);
	free(png);

	/* A shot frame never reached: the last one. */
	unlink(path);
	r = rig_new(&(struct gfx_headless_config){ .width = W, .height = H, .screenshot = path, .shot_frame = 9 });
	assert_int_equal(frame(r, &grey, 1, &f), 0);
	rig_free(r);
	assert_int_equal(gfx_png_read(path, &png, &w, &h, NULL, 0), 0);
	assert_rgb(px(png, w, 5, 5), 188, 188, 188);
	free(png);

	/* Where it cannot be written: the frame says so. */
	snprintf(path, sizeof(path), "%s/no/such/shot.png", dir);
	r = rig_new(&(struct gfx_headless_config){ .width = W, .height = H, .screenshot = path, .shot_frame = 1 });
	assert_int_equal(frame(r, &grey, 1, &f), -ENOENT);
	rig_free(r);
	th_rm_rf(dir);
}

static void stereo_pair_side_by_side(void **state)
{
	struct rig *r = rig_new(&(struct gfx_headless_config){ .width = W, .height = H, .views = 2, .ipd = 0.07f });
	struct paint two[2] = {
		{ .bg = { 1.0f, 0.0f, 0.0f, 1.0f }, .fg = { 1.0f, 1.0f, 1.0f, 1.0f }, .rect = { { 0, 0 }, { 4, 4 } } },
		{ .bg = { 0.0f, 0.0f, 1.0f, 1.0f }, .fg = { 0.0f, 1.0f, 0.0f, 1.0f }, .rect = { { 0, 0 }, { 4, 4 } } },
	};
	struct gfx_frame f;
	assert_int_equal(frame(r, two, 2, &f), 0);
	assert_int_equal(f.nviews, 2);
	assert_ptr_not_equal(f.target[0].image, f.target[1].image);

	/* The eyes: 7 cm apart along the camera's right (+x here), the left one at -x. */
	struct gfx_view cam = camera();
	assert_float_equal(f.view[0].eye[0], cam.eye[0] - 0.035f, 1e-5);
	assert_float_equal(f.view[1].eye[0], cam.eye[0] + 0.035f, 1e-5);
	assert_float_equal(f.view[0].eye[1], cam.eye[1], 1e-5);
	float o[3], zero[3] = { 0 };
	gfx_mat4_apply_point(f.view[0].view, f.view[0].eye, o); /* each eye at its own origin */
	assert_float_equal(o[0], 0.0f, 1e-5);
	assert_float_equal(o[2], 0.0f, 1e-5);
	gfx_mat4_apply_point(f.view[1].view, f.view[1].eye, o);
	assert_float_equal(o[0], 0.0f, 1e-5);
	float l[3], rr[3];
	gfx_mat4_apply_point(f.view[0].view, zero, l);
	gfx_mat4_apply_point(f.view[1].view, zero, rr);
	assert_float_equal(l[0] - rr[0], 0.07f, 1e-5); /* the left eye sees the target further right */

	uint32_t w, h;
	const uint8_t *p = gfx_headless_pixels(r->b, &w, &h);
	assert_int_equal(w, 2 * W);
	assert_int_equal(h, H);
	assert_rgb(px(p, w, 2, 2), 255, 255, 255);
	assert_rgb(px(p, w, 10, 20), 255, 0, 0);
	assert_rgb(px(p, w, W - 1, H - 1), 255, 0, 0);
	assert_rgb(px(p, w, W + 2, 2), 0, 255, 0);
	assert_rgb(px(p, w, W + 10, 20), 0, 0, 255);
	assert_rgb(px(p, w, 2 * W - 1, H - 1), 0, 0, 255);
	rig_free(r);
}

/* A device loss: gfx.c detaches, rebuilds the context, attaches again. */
static void survives_a_rebuild(void **state)
{
	struct rig *r = rig_new(&(struct gfx_headless_config){ .width = W, .height = H });
	struct gfx_frame f;
	assert_int_equal(frame(r, &BLUE_RED, 1, &f), 0);
	rig_detach(r);
	uint32_t w, h;
	const uint8_t *p = gfx_headless_pixels(r->b, &w, &h); /* taken at detach */
	assert_non_null(p);
	assert_rgb(px(p, w, 12, 6), 255, 137, 0);
	struct gfx_view cam = camera();
	assert_int_equal(r->b->ops->begin_frame(r->b, &cam, &f), -ENODEV); /* detached */
	rig_attach(r);
	struct paint green = { .bg = { 0.0f, 1.0f, 0.0f, 1.0f } };
	assert_int_equal(frame(r, &green, 1, &f), 0);
	p = gfx_headless_pixels(r->b, &w, &h);
	assert_rgb(px(p, w, 12, 6), 0, 255, 0);
	rig_free(r);
}

static void refuses_bad_configs(void **state)
{
	struct gfx_backend *b = NULL;
	assert_int_equal(gfx_headless_create(&(struct gfx_headless_config){ .width = W, .height = H, .views = 3 }, &b),
			 -EINVAL);
	assert_int_equal(gfx_headless_create(&(struct gfx_headless_config){ .width = 0, .height = H }, &b), -EINVAL);
	assert_int_equal(gfx_headless_create(&(struct gfx_headless_config){ .width = GFX_PNG_DIM_MAX / 2 + 1,
									.height = H,
									.views = 2 },
					     &b),
			 -EINVAL);
	assert_null(b);
}

int main(void)
{
	unsetenv("THETA_GFX_DEVICE");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_reads_back_what_was_drawn),
		cmocka_unit_test(screenshot_at_the_shot_frame_or_the_last),
		cmocka_unit_test(stereo_pair_side_by_side),
		cmocka_unit_test(survives_a_rebuild),
		cmocka_unit_test(refuses_bad_configs),
	};
	return cmocka_run_group_tests_name("gfx_headless", tests, NULL, NULL);
}
