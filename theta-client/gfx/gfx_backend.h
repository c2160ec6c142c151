/* Where frames go (docs/rendering.md, "Backends"): headless offscreen
 * images written to PNG, a GLFW window's swapchain, or the OpenXR
 * runtime's per-eye swapchains. Implementations embed struct gfx_backend
 * first; gfx.c drives them:
 *
 *   create (gfx_*_backend_create) -> vk_config -> [gfx_vk_create] -> attach
 *   per frame: [wait_frame] -> begin_frame -> gfx_draw_* -> after_record
 *              -> gfx_draw_submit -> end_frame
 *   device lost: detach -> [gfx_vk_destroy, gfx_vk_create] -> attach
 *   destroy (after detach)
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "app/renderer.h"
#include "gfx/gfx_draw.h"
#include "gfx/gfx_vk.h"

struct gfx_frame {
	bool render;    /* false: draw nothing this frame (minimised, XR not visible); end_frame still runs */
	uint32_t nviews; /* 1 or 2 */
	struct gfx_view view[GFX_VIEWS_MAX];
	struct gfx_target target[GFX_VIEWS_MAX];
	VkSemaphore wait, signal; /* for gfx_draw_submit (window: acquire / present) */
	VkPipelineStageFlags2 wait_stage;
	uint64_t display_time_ns; /* XR: the predicted display time; else 0 */
	uint32_t image_index;     /* the backend's own */
};

struct gfx_backend;

struct gfx_backend_ops {
	/* Adds what the backend needs to the context's config (extensions,
	 * OpenXR's hooks). The arrays it points to live as long as b. */
	int (*vk_config)(struct gfx_backend *b, struct gfx_vk_config *c);
	/* With the context: surface, swapchains, images. Sets *color_format. */
	int (*attach)(struct gfx_backend *b, struct gfx_vk *vk, VkFormat *color_format, bool *srgb);
	/* Drops everything made in attach (the context is about to go). */
	void (*detach)(struct gfx_backend *b);
	/* Optional (XR): blocks until the runtime wants the next frame; 0, 1
	 * (the session ended: stop), -errno. */
	int (*wait_frame)(struct gfx_backend *b, uint64_t *display_time_ns);
	/* The frame's views and targets; 0, 1 (stop: the window was closed, the
	 * XR session exited), -errno (-ENODEV: device lost). cam is the
	 * renderer's camera for a backend without its own views. */
	int (*begin_frame)(struct gfx_backend *b, const struct gfx_view *cam, struct gfx_frame *f);
	/* Optional: records after the views, before submit (headless copies the
	 * image to its readback buffer). */
	void (*after_record)(struct gfx_backend *b, VkCommandBuffer cmd, struct gfx_frame *f);
	/* After submit: present / release and xrEndFrame / write the PNG when
	 * due. fence: the frame's. 0, 1 (stop), -errno. */
	int (*end_frame)(struct gfx_backend *b, struct gfx_frame *f, VkFence fence);
	void (*destroy)(struct gfx_backend *b);
};

struct gfx_backend {
	const struct gfx_backend_ops *ops;
	const char *name; /* "headless", "window", "xr" */
	uint32_t width, height; /* the view's size (XR: the recommended one) */
	bool own_views;         /* XR: the eyes come from the runtime; begin_frame ignores cam */
};

/* Headless: renders into its own images (RGBA8 sRGB); writes the frame
 * numbered `shot_frame` (0: the last before destroy) to `screenshot` as a
 * PNG when it is not NULL. */
struct gfx_headless_config {
	uint32_t width, height;
	const char *screenshot;
	uint64_t shot_frame;
	uint32_t views; /* 1; 2 renders a stereo pair side by side into one PNG */
	float ipd;      /* views 2: the eyes are this far apart along the camera's right (metres) */
};
int gfx_headless_create(const struct gfx_headless_config *c, struct gfx_backend **out);
/* The last frame read back (RGBA8, width * views x height), for tests;
 * NULL before one was. */
const uint8_t *gfx_headless_pixels(struct gfx_backend *b, uint32_t *w, uint32_t *h);

/* A GLFW window with a swapchain (FIFO), recreated on resize; minimised
 * (size 0) renders nothing; closing it stops the client. -ENXIO: no
 * display (glfwInit failed, said in one line). */
struct gfx_window_config {
	uint32_t width, height;
	const char *title;
	const char *screenshot; /* optional: the last presented frame, as PNG, at destroy */
	/* Tests (lavapipe's X11 surface never goes out of date): the acquire
	 * numbered fault_at (1: the first) says VK_ERROR_OUT_OF_DATE_KHR
	 * without acquiring, and the present after it VK_SUBOPTIMAL_KHR. 0: never. */
	uint64_t fault_at;
};
int gfx_window_create(const struct gfx_window_config *c, struct gfx_backend **out);
/* With a screenshot configured: the last presented frame (RGBA8, w x h,
 * waits for it to finish), NULL before one was. For tests. */
const uint8_t *gfx_window_pixels(struct gfx_backend *b, uint32_t *w, uint32_t *h);
/* The GLFW window (tests resize, iconify and close it). */
struct GLFWwindow;
struct GLFWwindow *gfx_window_glfw(struct gfx_backend *b);
struct gfx_window_stats {
	uint64_t presented;  /* images presented */
	uint64_t skipped;    /* frames with nothing to render (minimised) */
	uint64_t swapchains; /* swapchains built: 1 + recreations */
	uint64_t out_of_date; /* acquires / presents that said OUT_OF_DATE or SUBOPTIMAL */
};
void gfx_window_stats(struct gfx_backend *b, struct gfx_window_stats *out);

/* OpenXR stereo (XR_KHR_vulkan_enable2): -ENXIO when no runtime answers
 * (xrCreateInstance fails: said in one line). gfx_xr.c. */
struct gfx_xr_config {
	const char *app_name;
	/* Optional: an inp_xr_create source (inp/inp_xr.h) this backend binds
	 * to its instance and session as they come and go (bind/unbind, events,
	 * the frame's predicted display time). It must outlive the backend. */
	struct inp_source *input;
};
int gfx_xr_create(const struct gfx_xr_config *c, struct gfx_backend **out);
