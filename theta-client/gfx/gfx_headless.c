/* The headless backend (gfx_backend.h): one R8G8B8A8_SRGB colour image
 * per view, left in TRANSFER_SRC_OPTIMAL by the core and copied after the
 * views into a host-visible readback buffer, one per frame slot, so the
 * CPU never waits for the GPU unless it wants the pixels: at the shot
 * frame, when a test asks (gfx_headless_pixels) and at detach. Two views
 * (a stereo pair) sit side by side in one buffer and one PNG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx_backend.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_png.h"
#include "gfx/gfx_readback.h"
#include "th_log.h"

#define GFX_HEADLESS_FORMAT VK_FORMAT_R8G8B8A8_SRGB
#define GFX_HEADLESS_VIEWS_MAX 2u
#define GFX_HEADLESS_IPD_DEFAULT 0.063f
/* How long reading back a frame may wait for the GPU (lavapipe at the
 * largest size is far below this). */
#define GFX_HEADLESS_WAIT_NS (60ull * 1000000000ull)

struct headless {
	struct gfx_backend base;
	uint32_t views;
	float ipd;
	char *screenshot;
	uint64_t shot_frame;
	uint64_t frames;   /* begun */
	bool shot_done; /* written, or tried at the shot frame */

	struct gfx_vk *vk; /* between attach and detach */
	struct gfx_image img[GFX_HEADLESS_VIEWS_MAX];
	struct gfx_buffer rb[GFX_FRAMES_IN_FLIGHT];

	/* The frame submitted last whose pixels were not yet copied out. */
	bool pending;
	uint32_t pending_slot;
	uint64_t pending_frame;
	VkFence pending_fence;

	uint8_t *pixels;   /* width * views x height RGBA8, the last frame read back */
	uint64_t pixels_frame;
};

static struct headless *hl(struct gfx_backend *b)
{
	return (struct headless *)b;
}

static size_t frame_bytes(const struct headless *h)
{
	return (size_t)h->base.width * h->views * h->base.height * 4u;
}

static int hl_vk_config(struct gfx_backend *b, struct gfx_vk_config *c)
{
	return 0; /* no surface, no extension */
}

static void hl_detach_images(struct headless *h)
{
	for (uint32_t i = 0; i < GFX_HEADLESS_VIEWS_MAX; i++)
		gfx_image_destroy(h->vk, &h->img[i]);
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++)
		gfx_buffer_destroy(h->vk, &h->rb[i]);
}

static int hl_attach(struct gfx_backend *b, struct gfx_vk *vk, VkFormat *color_format, bool *srgb)
{
	struct headless *h = hl(b);
	h->vk = vk;
	h->pending = false;
	VkExtent2D ext = { b->width, b->height };
	int rc = 0;
	for (uint32_t i = 0; i < h->views && rc == 0; i++)
		rc = gfx_image_create(vk, ext, GFX_HEADLESS_FORMAT,
				      VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
				      VK_IMAGE_ASPECT_COLOR_BIT, &h->img[i]);
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT && rc == 0; i++)
		rc = gfx_buffer_create(vk, frame_bytes(h), VK_BUFFER_USAGE_TRANSFER_DST_BIT, true, &h->rb[i]);
	if (rc < 0) {
		th_err("gfx: headless: cannot make its %ux%u images: %s", b->width, b->height, strerror(-rc));
		hl_detach_images(h);
		h->vk = NULL;
		return rc;
	}
	*color_format = GFX_HEADLESS_FORMAT;
	*srgb = true;
	return 0;
}

/* Copies the pending frame's pixels out, waiting for its fence (or the
 * device when it had none). */
static int collect(struct headless *h)
{
	if (!h->pending || !h->vk)
		return 0;
	h->pending = false;
	if (h->vk->lost)
		return -ENODEV;
	int rc;
	if (h->pending_fence) {
		VkResult r = vkWaitForFences(h->vk->device, 1, &h->pending_fence, VK_TRUE, GFX_HEADLESS_WAIT_NS);
		if (r == VK_TIMEOUT) {
			th_err("gfx: headless: frame %llu did not finish in %llu s", (unsigned long long)h->pending_frame,
			       GFX_HEADLESS_WAIT_NS / 1000000000ull);
			return -ETIMEDOUT;
		}
		rc = gfx_vk_check(h->vk, r, "vkWaitForFences (headless readback)");
	} else {
		rc = gfx_vk_check(h->vk, vkQueueWaitIdle(h->vk->queue), "vkQueueWaitIdle (headless readback)");
	}
	if (rc < 0)
		return rc;
	memcpy(h->pixels, h->rb[h->pending_slot].map, frame_bytes(h));
	h->pixels_frame = h->pending_frame;
	return 0;
}

static int write_shot(struct headless *h)
{
	char why[GFX_PNG_WHY_MAX];
	int rc = gfx_png_write(h->screenshot, h->pixels, h->base.width * h->views, h->base.height, why,
			       sizeof(why));
	if (rc < 0) {
		th_err("gfx: headless: the screenshot was not written: %s", why);
		return rc;
	}
	th_info("gfx: headless: frame %llu written to %s", (unsigned long long)h->pixels_frame, h->screenshot);
	return 0;
}

static void hl_detach(struct gfx_backend *b)
{
	struct headless *h = hl(b);
	if (!h->vk)
		return;
	if (h->pending) {
		/* The core's fences may be gone already: wait for the device. */
		h->pending_fence = VK_NULL_HANDLE;
		if (!h->vk->lost)
			vkDeviceWaitIdle(h->vk->device);
		collect(h);
	}
	hl_detach_images(h);
	h->vk = NULL;
}

/* view moved by dx along its own x axis: the eye at -dx sees the world shifted by +dx. */
static void eye_view(const struct gfx_view *cam, float dx, struct gfx_view *out)
{
	*out = *cam;
	float t[16];
	gfx_mat4_identity(t);
	t[12] = dx;
	gfx_mat4_mul(out->view, t, cam->view);
	/* The camera's right axis in the world is the view's first row. */
	for (int i = 0; i < 3; i++)
		out->eye[i] = cam->eye[i] - dx * cam->view[i * 4];
}

static int hl_begin_frame(struct gfx_backend *b, const struct gfx_view *cam, struct gfx_frame *f)
{
	struct headless *h = hl(b);
	if (!h->vk)
		return -ENODEV;
	memset(f, 0, sizeof(*f));
	h->frames++;
	f->render = true;
	f->nviews = h->views;
	f->image_index = (uint32_t)(h->frames % GFX_FRAMES_IN_FLIGHT);
	if (h->views == 1) {
		f->view[0] = *cam;
	} else {
		eye_view(cam, +0.5f * h->ipd, &f->view[0]); /* left eye */
		eye_view(cam, -0.5f * h->ipd, &f->view[1]);
	}
	for (uint32_t i = 0; i < h->views; i++)
		f->target[i] = (struct gfx_target){
			.image = h->img[i].image,
			.view = h->img[i].view,
			.extent = h->img[i].extent,
			.format = GFX_HEADLESS_FORMAT,
			.initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
			.final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
		};
	f->wait_stage = VK_PIPELINE_STAGE_2_NONE;
	return 0;
}

static void hl_after_record(struct gfx_backend *b, VkCommandBuffer cmd, struct gfx_frame *f)
{
	struct headless *h = hl(b);
	struct gfx_buffer *rb = &h->rb[f->image_index];
	for (uint32_t i = 0; i < f->nviews; i++) {
		/* The core left the image in TRANSFER_SRC: make its colour writes
		 * visible to the copy (a barrier that keeps the layout). */
		gfx_cmd_image_barrier(cmd, h->img[i].image, VK_IMAGE_ASPECT_COLOR_BIT,
				      VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
				      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
				      VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_2_TRANSFER_WRITE_BIT,
				      VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_READ_BIT);
		if (i > 0) {
			/* The views' rows interleave in the buffer: order the copies
			 * (synchronization validation counts the ranges as overlapping). */
			VkMemoryBarrier2 mb = {
				.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
				.srcStageMask = VK_PIPELINE_STAGE_2_COPY_BIT,
				.srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
				.dstStageMask = VK_PIPELINE_STAGE_2_COPY_BIT,
				.dstAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
			};
			vkCmdPipelineBarrier2(cmd, &(VkDependencyInfo){ .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
									 .memoryBarrierCount = 1,
									 .pMemoryBarriers = &mb });
		}
		gfx_readback_copy(cmd, h->img[i].image, (VkExtent2D){ b->width, b->height }, rb->buf,
				  (VkDeviceSize)i * b->width * 4u, b->width * f->nviews);
	}
	gfx_readback_host_barrier(cmd, rb->buf);
}

static int hl_end_frame(struct gfx_backend *b, struct gfx_frame *f, VkFence fence)
{
	struct headless *h = hl(b);
	h->pending = true;
	h->pending_slot = f->image_index;
	h->pending_frame = h->frames;
	h->pending_fence = fence;
	if (h->screenshot && h->shot_frame && h->frames == h->shot_frame) {
		h->shot_done = true;
		int rc = collect(h);
		if (rc < 0)
			return rc;
		return write_shot(h);
	}
	return 0;
}

static void hl_destroy(struct gfx_backend *b)
{
	struct headless *h = hl(b);
	if (h->vk)
		hl_detach(b);
	if (h->screenshot && !h->shot_done) {
		if (h->pixels_frame == 0) {
			th_err("gfx: headless: no frame was rendered, so %s was not written", h->screenshot);
		} else {
			if (h->shot_frame)
				th_warn("gfx: headless: the client stopped after %llu frames, before frame %llu: "
					"%s gets the last one",
					(unsigned long long)h->pixels_frame, (unsigned long long)h->shot_frame,
					h->screenshot);
			h->shot_done = true;
			write_shot(h);
		}
	}
	free(h->pixels);
	free(h->screenshot);
	free(h);
}

static const struct gfx_backend_ops hl_ops = {
	.vk_config = hl_vk_config,
	.attach = hl_attach,
	.detach = hl_detach,
	.begin_frame = hl_begin_frame,
	.after_record = hl_after_record,
	.end_frame = hl_end_frame,
	.destroy = hl_destroy,
};

int gfx_headless_create(const struct gfx_headless_config *c, struct gfx_backend **out)
{
	uint32_t views = c->views ? c->views : 1u;
	if (views > GFX_HEADLESS_VIEWS_MAX) {
		th_err("gfx: headless renders 1 or 2 views, not %u", views);
		return -EINVAL;
	}
	if (c->width == 0 || c->height == 0 || c->width * views > GFX_PNG_DIM_MAX || c->height > GFX_PNG_DIM_MAX) {
		th_err("gfx: headless size %ux%u (%u view%s) is outside 1..%u pixels a side", c->width, c->height,
		       views, views == 1 ? "" : "s", GFX_PNG_DIM_MAX);
		return -EINVAL;
	}
	struct headless *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->base.ops = &hl_ops;
	h->base.name = "headless";
	h->base.width = c->width;
	h->base.height = c->height;
	h->views = views;
	h->ipd = c->ipd > 0.0f ? c->ipd : GFX_HEADLESS_IPD_DEFAULT;
	h->shot_frame = c->shot_frame;
	h->pixels = malloc(frame_bytes(h));
	h->screenshot = c->screenshot ? strdup(c->screenshot) : NULL;
	if (!h->pixels || (c->screenshot && !h->screenshot)) {
		free(h->pixels);
		free(h->screenshot);
		free(h);
		return -ENOMEM;
	}
	*out = &h->base;
	return 0;
}

const uint8_t *gfx_headless_pixels(struct gfx_backend *b, uint32_t *w, uint32_t *h)
{
	struct headless *hd = hl(b);
	if (collect(hd) < 0 || hd->pixels_frame == 0)
		return NULL;
	if (w)
		*w = b->width * hd->views;
	if (h)
		*h = b->height;
	return hd->pixels;
}
