/* The window backend (gfx_backend.h, docs/rendering.md "The window"): a
 * GLFW window without a client API, its Vulkan surface and a FIFO
 * swapchain in an sRGB format when the surface offers one.
 *
 * Lifetimes: the window lives from create to destroy; the surface, the
 * swapchain, its image views, the semaphores and the screenshot buffers
 * from attach to detach (a device loss rebuilds them); the swapchain alone
 * is rebuilt when it is out of date, suboptimal or the framebuffer's size
 * changed.
 *
 * Semaphores: one "acquired" semaphore per frame slot (GFX_FRAMES_IN_FLIGHT)
 * and one "rendered" semaphore per swapchain image. Before a slot's acquire
 * semaphore is used again, begin_frame waits for the fence of the frame
 * that last waited on it (end_frame is handed the fence). The rendered
 * semaphore belongs to the image, not the slot: a present operation signals
 * no fence, so the only moment its wait is known to be over is when the same
 * image is acquired again.
 *
 * Screenshot: with gfx_window_config.screenshot set (and the surface
 * allowing TRANSFER_SRC), every frame's image is left by the draw in
 * TRANSFER_SRC_OPTIMAL, copied into the slot's host-visible buffer in
 * after_record and moved to PRESENT_SRC_KHR; the copy of the last frame
 * presented is what gfx_window_pixels returns and destroy writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>

#include "gfx/gfx_backend.h"
#include "gfx/gfx_png.h"
#include "gfx/gfx_readback.h"
#include "th_log.h"

#define GFX_WINDOW_IMAGES_MAX 8u       /* swapchain images we keep handles for */
#define GFX_WINDOW_FORMATS_MAX 64u     /* surface formats looked at */
#define GFX_WINDOW_DEFAULT_W 1280u
#define GFX_WINDOW_DEFAULT_H 720u
#define GFX_WINDOW_ACQUIRE_TRIES 3u    /* out-of-date acquires in one frame before giving up */
/* A frame's fence that does not signal in this time means the device hung. */
#define GFX_WINDOW_FENCE_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

struct gfx_window_slot {
	VkSemaphore acquired;
	VkFence fence;          /* the draw's fence of the last frame in this slot (not ours) */
	struct gfx_buffer shot; /* the copy of that frame's image (screenshot) */
	VkExtent2D shot_extent;
	bool shot_recorded;     /* after_record copied into shot this frame */
};

struct gfx_window {
	struct gfx_backend base;
	GLFWwindow *win;
	char *screenshot;
	bool want_shot;

	struct gfx_vk *vk;
	VkSurfaceKHR surface;
	VkSurfaceFormatKHR format;
	bool srgb;
	bool can_copy; /* the swapchain images may be TRANSFER_SRC */
	VkSwapchainKHR swapchain;
	VkExtent2D extent;
	uint32_t nimages;
	VkImage image[GFX_WINDOW_IMAGES_MAX];
	VkImageView view[GFX_WINDOW_IMAGES_MAX];
	VkSemaphore rendered[GFX_WINDOW_IMAGES_MAX];
	bool stale; /* rebuild before the next acquire */

	struct gfx_window_slot slot[GFX_FRAMES_IN_FLIGHT];
	uint32_t cur;
	int last_shot; /* slot holding the last presented copy; -1 none */

	uint8_t *pixels; /* RGBA8 of the last presented copy read back */
	uint32_t pixels_w, pixels_h;
	bool pixels_fresh; /* pixels hold last_shot's content */

	struct gfx_window_stats stats;
	uint64_t acquires; /* acquires tried, for fault_at */
	uint64_t fault_at;
	bool fault_present; /* the present after the injected acquire says suboptimal */
};

static const char *const window_device_exts[] = { VK_KHR_SWAPCHAIN_EXTENSION_NAME };
static unsigned window_glfw_users; /* glfwInit / glfwTerminate are process-wide */

static struct gfx_window *window_of(struct gfx_backend *b)
{
	return (struct gfx_window *)b;
}

static const char *glfw_error_text(void)
{
	const char *desc = NULL;
	glfwGetError(&desc);
	return desc ? desc : "no reason given";
}

static void window_glfw_release(void)
{
	if (window_glfw_users && --window_glfw_users == 0)
		glfwTerminate();
}

static int window_vk_config(struct gfx_backend *b, struct gfx_vk_config *c)
{
	uint32_t n = 0;
	const char **exts = glfwGetRequiredInstanceExtensions(&n);
	if (!exts || n == 0) {
		th_err("window: GLFW names no Vulkan surface extensions for this display (%s)", glfw_error_text());
		return -ENOTSUP;
	}
	c->instance_exts = exts; /* GLFW's, valid until glfwTerminate (destroy) */
	c->ninstance_exts = n;
	c->device_exts = window_device_exts;
	c->ndevice_exts = sizeof window_device_exts / sizeof window_device_exts[0];
	return 0;
}

/* The format: an 8-bit sRGB one in the sRGB colour space when offered,
 * else the first. */
static int choose_format(struct gfx_window *gw)
{
	struct gfx_vk *vk = gw->vk;
	VkSurfaceFormatKHR f[GFX_WINDOW_FORMATS_MAX];
	uint32_t n = GFX_WINDOW_FORMATS_MAX;
	VkResult r = vkGetPhysicalDeviceSurfaceFormatsKHR(vk->phys, gw->surface, &n, f);
	if (r < 0)
		return gfx_vk_check(vk, r, "vkGetPhysicalDeviceSurfaceFormatsKHR");
	if (n == 0) {
		th_err("window: the surface offers no image formats");
		return -ENOTSUP;
	}
	static const VkFormat srgb[] = { VK_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_A8B8G8R8_SRGB_PACK32 };
	for (size_t k = 0; k < sizeof srgb / sizeof srgb[0]; k++)
		for (uint32_t i = 0; i < n; i++)
			if (f[i].format == srgb[k] && f[i].colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) {
				gw->format = f[i];
				gw->srgb = true;
				return 0;
			}
	gw->format = f[0];
	gw->srgb = false;
	th_warn("window: the surface offers no sRGB format; using format %d (colours will look darker)", f[0].format);
	return 0;
}

/* Bytes per pixel and whether red is the third byte, for the formats a
 * screenshot can read; 0 for others. */
static unsigned shot_layout(VkFormat f, bool *bgr)
{
	switch (f) {
	case VK_FORMAT_B8G8R8A8_SRGB:
	case VK_FORMAT_B8G8R8A8_UNORM:
		*bgr = true;
		return 4;
	case VK_FORMAT_R8G8B8A8_SRGB:
	case VK_FORMAT_R8G8B8A8_UNORM:
	case VK_FORMAT_A8B8G8R8_SRGB_PACK32:
	case VK_FORMAT_A8B8G8R8_UNORM_PACK32:
		*bgr = false;
		return 4;
	default:
		return 0;
	}
}

static void destroy_images(struct gfx_window *gw)
{
	VkDevice dev = gw->vk->device;
	for (uint32_t i = 0; i < gw->nimages; i++) {
		vkDestroyImageView(dev, gw->view[i], NULL);
		vkDestroySemaphore(dev, gw->rendered[i], NULL);
		gw->view[i] = VK_NULL_HANDLE;
		gw->rendered[i] = VK_NULL_HANDLE;
		gw->image[i] = VK_NULL_HANDLE;
	}
	gw->nimages = 0;
}

/* After the device went idle every frame is done: nothing to wait for. */
static void forget_fences(struct gfx_window *gw)
{
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++)
		gw->slot[i].fence = VK_NULL_HANDLE;
}

/* Waits for a frame's fence (VK_NULL_HANDLE: nothing to wait for); what
 * names the frame in the message of a hung device. */
static int wait_fence(struct gfx_window *gw, VkFence fence, const char *what)
{
	if (fence == VK_NULL_HANDLE)
		return 0;
	VkResult r = vkWaitForFences(gw->vk->device, 1, &fence, VK_TRUE, GFX_WINDOW_FENCE_TIMEOUT_NS);
	if (r == VK_TIMEOUT) {
		th_err("window: %s did not finish in %llu s", what, GFX_WINDOW_FENCE_TIMEOUT_NS / 1000000000ull);
		return -EIO;
	}
	if (r < 0)
		return gfx_vk_check(gw->vk, r, "vkWaitForFences");
	return 0;
}

/* Reads the copy in slot last_shot into pixels (waits for its frame). */
static int read_shot(struct gfx_window *gw)
{
	if (gw->last_shot < 0)
		return -ENOENT;
	if (gw->pixels_fresh)
		return 0;
	struct gfx_window_slot *s = &gw->slot[gw->last_shot];
	int e = wait_fence(gw, s->fence, "the screenshot's frame");
	if (e < 0)
		return e;
	uint32_t w = s->shot_extent.width, h = s->shot_extent.height;
	size_t bytes = (size_t)w * h * 4;
	if (w != gw->pixels_w || h != gw->pixels_h || !gw->pixels) {
		uint8_t *p = realloc(gw->pixels, bytes);
		if (!p)
			return -ENOMEM;
		gw->pixels = p;
		gw->pixels_w = w;
		gw->pixels_h = h;
	}
	bool bgr = false;
	shot_layout(gw->format.format, &bgr);
	const uint8_t *src = s->shot.map;
	for (size_t i = 0; i < (size_t)w * h; i++) {
		const uint8_t *p = src + i * 4;
		uint8_t *o = gw->pixels + i * 4;
		o[0] = bgr ? p[2] : p[0];
		o[1] = p[1];
		o[2] = bgr ? p[0] : p[2];
		o[3] = 255; /* the window is opaque, whatever the alpha written */
	}
	gw->pixels_fresh = true;
	return 0;
}

/* The current size of the framebuffer, the surface's when it says one. */
static void surface_extent(struct gfx_window *gw, const VkSurfaceCapabilitiesKHR *caps, VkExtent2D *out)
{
	if (caps->currentExtent.width != UINT32_MAX) {
		*out = caps->currentExtent;
		return;
	}
	int fw = 0, fh = 0;
	glfwGetFramebufferSize(gw->win, &fw, &fh);
	VkExtent2D e = { (uint32_t)(fw > 0 ? fw : 0), (uint32_t)(fh > 0 ? fh : 0) };
	if (e.width < caps->minImageExtent.width)
		e.width = caps->minImageExtent.width;
	if (e.width > caps->maxImageExtent.width)
		e.width = caps->maxImageExtent.width;
	if (e.height < caps->minImageExtent.height)
		e.height = caps->minImageExtent.height;
	if (e.height > caps->maxImageExtent.height)
		e.height = caps->maxImageExtent.height;
	*out = e;
}

/* (Re)builds the swapchain at the surface's size; 0, 1 (size 0: minimised,
 * nothing built), -errno. Waits for the device first: images of the old one
 * may still be in flight. */
static int build_swapchain(struct gfx_window *gw)
{
	struct gfx_vk *vk = gw->vk;
	VkDevice dev = vk->device;
	VkResult r = vkDeviceWaitIdle(dev);
	if (r < 0)
		return gfx_vk_check(vk, r, "vkDeviceWaitIdle");
	forget_fences(gw);
	/* The copies of the old images go with them (pixels keep the last). */
	if (gw->want_shot && gw->last_shot >= 0) {
		int e = read_shot(gw);
		if (e < 0)
			return e;
	}
	VkSurfaceCapabilitiesKHR caps;
	r = vkGetPhysicalDeviceSurfaceCapabilitiesKHR(vk->phys, gw->surface, &caps);
	if (r < 0)
		return gfx_vk_check(vk, r, "vkGetPhysicalDeviceSurfaceCapabilitiesKHR");
	VkExtent2D extent;
	surface_extent(gw, &caps, &extent);
	if (extent.width == 0 || extent.height == 0)
		return 1;

	VkImageUsageFlags usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT;
	bool bgr;
	gw->can_copy = (caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) &&
		       shot_layout(gw->format.format, &bgr) != 0;
	if (gw->want_shot && gw->can_copy)
		usage |= VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
	uint32_t count = caps.minImageCount + 1;
	if (caps.maxImageCount && count > caps.maxImageCount)
		count = caps.maxImageCount;
	if (count > GFX_WINDOW_IMAGES_MAX)
		count = GFX_WINDOW_IMAGES_MAX;
	VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
	if (!(caps.supportedCompositeAlpha & alpha))
		for (uint32_t bit = 1; bit <= VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR; bit <<= 1)
			if (caps.supportedCompositeAlpha & bit) {
				alpha = (VkCompositeAlphaFlagBitsKHR)bit;
				break;
			}
	VkSwapchainKHR old = gw->swapchain;
	VkSwapchainCreateInfoKHR ci = {
		.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
		.surface = gw->surface,
		.minImageCount = count,
		.imageFormat = gw->format.format,
		.imageColorSpace = gw->format.colorSpace,
		.imageExtent = extent,
		.imageArrayLayers = 1,
		.imageUsage = usage,
		.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
		.preTransform = caps.currentTransform,
		.compositeAlpha = alpha,
		.presentMode = VK_PRESENT_MODE_FIFO_KHR, /* always offered; paces to the display */
		.clipped = VK_TRUE,
		.oldSwapchain = old,
	};
	VkSwapchainKHR sc;
	r = vkCreateSwapchainKHR(dev, &ci, NULL, &sc);
	destroy_images(gw);
	if (old != VK_NULL_HANDLE)
		vkDestroySwapchainKHR(dev, old, NULL);
	gw->swapchain = VK_NULL_HANDLE;
	if (r < 0)
		return gfx_vk_check(vk, r, "vkCreateSwapchainKHR");
	gw->swapchain = sc;

	uint32_t n = 0;
	r = vkGetSwapchainImagesKHR(dev, sc, &n, NULL);
	if (r < 0)
		return gfx_vk_check(vk, r, "vkGetSwapchainImagesKHR");
	if (n > GFX_WINDOW_IMAGES_MAX) {
		th_err("window: the swapchain has %u images, more than the %u this backend keeps", n,
		       GFX_WINDOW_IMAGES_MAX);
		return -ENOTSUP;
	}
	r = vkGetSwapchainImagesKHR(dev, sc, &n, gw->image);
	if (r < 0)
		return gfx_vk_check(vk, r, "vkGetSwapchainImagesKHR");
	for (uint32_t i = 0; i < n; i++) {
		gw->nimages = i + 1;
		int e = gfx_image_view_create(vk, gw->image[i], gw->format.format, VK_IMAGE_ASPECT_COLOR_BIT, &gw->view[i]);
		if (e < 0)
			return e;
		VkSemaphoreCreateInfo si = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
		r = vkCreateSemaphore(dev, &si, NULL, &gw->rendered[i]);
		if (r < 0)
			return gfx_vk_check(vk, r, "vkCreateSemaphore");
	}

	if (gw->want_shot && gw->can_copy) {
		VkDeviceSize bytes = (VkDeviceSize)extent.width * extent.height * 4;
		for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++) {
			struct gfx_window_slot *s = &gw->slot[i];
			s->shot_recorded = false;
			if (s->shot.size >= bytes)
				continue;
			gfx_buffer_destroy(vk, &s->shot);
			int e = gfx_buffer_create(vk, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true, &s->shot);
			if (e < 0)
				return e;
		}
	}
	gw->last_shot = -1; /* pixels (if any) still hold the last one */
	gw->extent = extent;
	gw->base.width = extent.width;
	gw->base.height = extent.height;
	gw->stale = false;
	gw->stats.swapchains++;
	return 0;
}

static void window_detach(struct gfx_backend *b)
{
	struct gfx_window *gw = window_of(b);
	struct gfx_vk *vk = gw->vk;
	if (!vk)
		return;
	/* The draw's fences may be gone already (it is torn down first): idle
	 * the device instead of waiting for them. */
	VkResult r = vkDeviceWaitIdle(vk->device);
	forget_fences(gw);
	if (gw->want_shot && gw->last_shot >= 0 && r == VK_SUCCESS)
		read_shot(gw);
	destroy_images(gw);
	if (gw->swapchain != VK_NULL_HANDLE)
		vkDestroySwapchainKHR(vk->device, gw->swapchain, NULL);
	gw->swapchain = VK_NULL_HANDLE;
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT; i++) {
		struct gfx_window_slot *s = &gw->slot[i];
		vkDestroySemaphore(vk->device, s->acquired, NULL);
		gfx_buffer_destroy(vk, &s->shot);
		memset(s, 0, sizeof *s);
	}
	if (gw->surface != VK_NULL_HANDLE)
		vkDestroySurfaceKHR(vk->instance, gw->surface, NULL);
	gw->surface = VK_NULL_HANDLE;
	gw->last_shot = -1;
	gw->cur = 0;
	gw->vk = NULL;
}

static int window_attach(struct gfx_backend *b, struct gfx_vk *vk, VkFormat *color_format, bool *srgb)
{
	struct gfx_window *gw = window_of(b);
	if (gw->vk)
		return -EBUSY;
	gw->vk = vk;
	VkResult r = glfwCreateWindowSurface(vk->instance, gw->win, NULL, &gw->surface);
	if (r < 0) {
		gw->surface = VK_NULL_HANDLE;
		int e = gfx_vk_check(vk, r, "glfwCreateWindowSurface");
		window_detach(b);
		return e;
	}
	VkBool32 ok = VK_FALSE;
	r = vkGetPhysicalDeviceSurfaceSupportKHR(vk->phys, vk->queue_family, gw->surface, &ok);
	int e = 0;
	if (r < 0) {
		e = gfx_vk_check(vk, r, "vkGetPhysicalDeviceSurfaceSupportKHR");
	} else if (!ok) {
		th_err("window: the device's graphics queue cannot present to this window");
		e = -ENOTSUP;
	}
	for (uint32_t i = 0; i < GFX_FRAMES_IN_FLIGHT && e == 0; i++) {
		VkSemaphoreCreateInfo si = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
		r = vkCreateSemaphore(vk->device, &si, NULL, &gw->slot[i].acquired);
		if (r < 0)
			e = gfx_vk_check(vk, r, "vkCreateSemaphore");
	}
	if (e == 0)
		e = choose_format(gw);
	if (e == 0) {
		e = build_swapchain(gw);
		if (e == 1) {
			e = 0;
			gw->stale = true; /* minimised from the start: built when it has a size */
		}
	}
	if (e == 0 && gw->want_shot && !gw->can_copy)
		th_warn("window: the swapchain images of format %d cannot be copied: no screenshot will be written",
			gw->format.format);
	if (e < 0) {
		window_detach(b);
		return e;
	}
	*color_format = gw->format.format;
	*srgb = gw->srgb;
	return 0;
}

/* Waits for the frame that last used slot s (its acquire semaphore and
 * screenshot buffer are free after it). */
static int wait_slot(struct gfx_window *gw, struct gfx_window_slot *s)
{
	int e = wait_fence(gw, s->fence, "a frame");
	if (e < 0)
		return e;
	s->fence = VK_NULL_HANDLE;
	return 0;
}

/* Iconified (X11 keeps the size then) or a framebuffer of size 0. */
static bool minimised(struct gfx_window *gw, int fw, int fh)
{
	return fw <= 0 || fh <= 0 || glfwGetWindowAttrib(gw->win, GLFW_ICONIFIED);
}

static int window_begin_frame(struct gfx_backend *b, const struct gfx_view *cam, struct gfx_frame *f)
{
	struct gfx_window *gw = window_of(b);
	memset(f, 0, sizeof *f);
	if (!gw->vk)
		return -EINVAL;
	glfwPollEvents();
	if (glfwWindowShouldClose(gw->win))
		return 1;
	/* X11 asks the server: a resize is seen here before its event. */
	int fw = 0, fh = 0;
	glfwGetFramebufferSize(gw->win, &fw, &fh);
	if (minimised(gw, fw, fh)) {
		gw->stats.skipped++;
		return 0; /* f->render false: nothing drawn, nothing presented */
	}
	uint32_t old_w = gw->base.width, old_h = gw->base.height;
	/* The size polled, not GLFW's framebuffer-size event: X11 answers
	 * the query before the event arrives, and the event would then ask for
	 * a second rebuild at the same size. */
	if ((uint32_t)fw != gw->extent.width || (uint32_t)fh != gw->extent.height)
		gw->stale = true;

	struct gfx_window_slot *s = &gw->slot[gw->cur];
	int e = wait_slot(gw, s);
	if (e < 0)
		return e;
	uint32_t index = 0;
	for (uint32_t tries = 0;; tries++) {
		if (gw->stale) {
			e = build_swapchain(gw);
			if (e < 0)
				return e;
			if (e == 1) {
				gw->stats.skipped++;
				return 0;
			}
		}
		/* An injected out-of-date acquire acquires nothing, as a real one. */
		gw->acquires++;
		VkResult r = gw->acquires == gw->fault_at
				     ? VK_ERROR_OUT_OF_DATE_KHR
				     : vkAcquireNextImageKHR(gw->vk->device, gw->swapchain, UINT64_MAX, s->acquired,
							     VK_NULL_HANDLE, &index);
		if (gw->acquires == gw->fault_at)
			gw->fault_present = true;
		if (r == VK_SUCCESS || r == VK_SUBOPTIMAL_KHR) {
			if (r == VK_SUBOPTIMAL_KHR) {
				gw->stats.out_of_date++;
				gw->stale = true; /* present this one, rebuild before the next */
			}
			break;
		}
		if (r == VK_ERROR_OUT_OF_DATE_KHR && tries + 1 < GFX_WINDOW_ACQUIRE_TRIES) {
			gw->stats.out_of_date++;
			gw->stale = true;
			continue;
		}
		return gfx_vk_check(gw->vk, r, "vkAcquireNextImageKHR");
	}

	f->render = true;
	f->nviews = 1;
	if (cam) {
		f->view[0] = *cam;
		/* A camera made for the size before a resize: keep its vertical
		 * field of view, correct the horizontal one to the new aspect. */
		if (old_w && old_h && (old_w != gw->extent.width || old_h != gw->extent.height)) {
			float k = ((float)old_w / (float)old_h) / ((float)gw->extent.width / (float)gw->extent.height);
			f->view[0].proj[0] *= k;
			f->view[0].proj[8] *= k;
		}
	}
	bool copy = gw->want_shot && gw->can_copy;
	f->target[0] = (struct gfx_target){
		.image = gw->image[index],
		.view = gw->view[index],
		.extent = gw->extent,
		.format = gw->format.format,
		.initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
		.final_layout = copy ? VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL : VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
	};
	f->wait = s->acquired;
	f->signal = gw->rendered[index];
	f->wait_stage = VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT;
	f->image_index = index;
	s->shot_recorded = false;
	return 0;
}

static void window_after_record(struct gfx_backend *b, VkCommandBuffer cmd, struct gfx_frame *f)
{
	struct gfx_window *gw = window_of(b);
	if (!f->render || !gw->want_shot || !gw->can_copy)
		return;
	struct gfx_window_slot *s = &gw->slot[gw->cur];
	VkImage img = f->target[0].image;
	gfx_readback_copy(cmd, img, gw->extent, s->shot.buf, 0, 0);
	gfx_readback_host_barrier(cmd, s->shot.buf);
	gfx_cmd_image_barrier(cmd, img, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
			      VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_PIPELINE_STAGE_2_COPY_BIT, 0,
			      VK_PIPELINE_STAGE_2_NONE, 0);
	s->shot_extent = gw->extent;
	s->shot_recorded = true;
}

static int window_end_frame(struct gfx_backend *b, struct gfx_frame *f, VkFence fence)
{
	struct gfx_window *gw = window_of(b);
	if (!gw->vk)
		return -EINVAL;
	if (!f->render)
		return glfwWindowShouldClose(gw->win) ? 1 : 0;
	struct gfx_window_slot *s = &gw->slot[gw->cur];
	s->fence = fence;
	VkPresentInfoKHR pi = {
		.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
		.waitSemaphoreCount = 1,
		.pWaitSemaphores = &f->signal,
		.swapchainCount = 1,
		.pSwapchains = &gw->swapchain,
		.pImageIndices = &f->image_index,
	};
	VkResult r = vkQueuePresentKHR(gw->vk->queue, &pi);
	if (r == VK_SUCCESS && gw->fault_present) {
		gw->fault_present = false;
		r = VK_SUBOPTIMAL_KHR; /* presented, as a real suboptimal one is */
	}
	if (s->shot_recorded) {
		gw->last_shot = (int)gw->cur;
		gw->pixels_fresh = false;
	}
	gw->cur = (gw->cur + 1) % GFX_FRAMES_IN_FLIGHT;
	if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) {
		gw->stats.out_of_date++;
		gw->stale = true;
		r = VK_SUCCESS;
	}
	if (r < 0)
		return gfx_vk_check(gw->vk, r, "vkQueuePresentKHR");
	gw->stats.presented++;
	return glfwWindowShouldClose(gw->win) ? 1 : 0;
}

static void window_destroy(struct gfx_backend *b)
{
	struct gfx_window *gw = window_of(b);
	window_detach(b);
	if (gw->screenshot) {
		if (gw->pixels) {
			char why[GFX_PNG_WHY_MAX];
			if (gfx_png_write(gw->screenshot, gw->pixels, gw->pixels_w, gw->pixels_h, why, sizeof why) < 0)
				th_err("window: cannot write the screenshot %s: %s", gw->screenshot, why);
		} else {
			th_warn("window: no frame was presented, so no screenshot was written to %s", gw->screenshot);
		}
	}
	if (gw->win)
		glfwDestroyWindow(gw->win);
	window_glfw_release();
	free(gw->pixels);
	free(gw->screenshot);
	free(gw);
}

static const struct gfx_backend_ops window_ops = {
	.vk_config = window_vk_config,
	.attach = window_attach,
	.detach = window_detach,
	.begin_frame = window_begin_frame,
	.after_record = window_after_record,
	.end_frame = window_end_frame,
	.destroy = window_destroy,
};

int gfx_window_create(const struct gfx_window_config *c, struct gfx_backend **out)
{
	struct gfx_window *gw = calloc(1, sizeof *gw);
	if (!gw)
		return -ENOMEM;
	gw->base.ops = &window_ops;
	gw->base.name = "window";
	gw->last_shot = -1;
	gw->fault_at = c ? c->fault_at : 0;
	uint32_t w = c && c->width ? c->width : GFX_WINDOW_DEFAULT_W;
	uint32_t h = c && c->height ? c->height : GFX_WINDOW_DEFAULT_H;
	if (w > GFX_PNG_DIM_MAX || h > GFX_PNG_DIM_MAX) {
		th_err("window: %u x %u is larger than %u on a side", w, h, GFX_PNG_DIM_MAX);
		free(gw);
		return -EINVAL;
	}
	if (c && c->screenshot) {
		gw->screenshot = strdup(c->screenshot);
		if (!gw->screenshot) {
			free(gw);
			return -ENOMEM;
		}
		gw->want_shot = true;
	}
	if (window_glfw_users == 0 && !glfwInit()) {
		th_err("window: no display to open a window on (%s)", glfw_error_text());
		free(gw->screenshot);
		free(gw);
		return -ENXIO;
	}
	window_glfw_users++;
	if (!glfwVulkanSupported()) {
		th_err("window: GLFW finds no Vulkan loader with surface support (%s)", glfw_error_text());
		window_glfw_release();
		free(gw->screenshot);
		free(gw);
		return -ENODEV;
	}
	glfwDefaultWindowHints();
	glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
	glfwWindowHint(GLFW_RESIZABLE, GLFW_TRUE);
	gw->win = glfwCreateWindow((int)w, (int)h, c && c->title ? c->title : "Theta", NULL, NULL);
	if (!gw->win) {
		th_err("window: cannot create a %u x %u window (%s)", w, h, glfw_error_text());
		window_glfw_release();
		free(gw->screenshot);
		free(gw);
		return -ENXIO;
	}
	int fw = 0, fh = 0;
	glfwGetFramebufferSize(gw->win, &fw, &fh);
	gw->base.width = fw > 0 ? (uint32_t)fw : w;
	gw->base.height = fh > 0 ? (uint32_t)fh : h;
	*out = &gw->base;
	return 0;
}

const uint8_t *gfx_window_pixels(struct gfx_backend *b, uint32_t *w, uint32_t *h)
{
	struct gfx_window *gw = window_of(b);
	if (gw->vk && gw->last_shot >= 0 && read_shot(gw) < 0)
		return NULL;
	if (!gw->pixels)
		return NULL;
	*w = gw->pixels_w;
	*h = gw->pixels_h;
	return gw->pixels;
}

struct GLFWwindow *gfx_window_glfw(struct gfx_backend *b)
{
	return window_of(b)->win;
}

void gfx_window_stats(struct gfx_backend *b, struct gfx_window_stats *out)
{
	*out = window_of(b)->stats;
}
