/* The Vulkan renderer as the frame loop sees it (app/renderer.h): a
 * backend (headless, window, OpenXR; gfx_backend.h) plus the core
 * (gfx_draw.h) drawing the frame list (gfx_list.h) of the world, the scene
 * mirror and the editor. docs/rendering.md has the whole picture.
 *
 * Choosing (GFX_RENDERER_AUTO): OpenXR when a runtime answers, else a
 * window when a display exists ($DISPLAY or $WAYLAND_DISPLAY and GLFW
 * starts), else -ENXIO after saying so in one line (headless only when
 * asked for). Each fallback is said in one line.
 *
 * Device loss: a frame that finds the device lost destroys the core, the
 * backend's attachments and the context, and builds them again (the world
 * and the scene are the loop's and are not touched); the frame is skipped.
 * After GFX_REBUILDS_MAX losses in a row without a good frame, render
 * fails with -ENODEV. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "app/renderer.h"

struct app_scene;
struct app_avatars;
struct edit;
struct inp_source;
struct ui;
struct edit_reach;

#define GFX_REBUILDS_MAX 3u

enum gfx_renderer_kind {
	GFX_RENDERER_AUTO = 0,
	GFX_RENDERER_XR,
	GFX_RENDERER_WINDOW,
	GFX_RENDERER_HEADLESS,
	GFX_RENDERER_NULL, /* app_null_renderer */
};
/* "auto", "xr" (or "openxr"), "window", "headless", "null"; -EINVAL. */
int gfx_renderer_parse(const char *s, enum gfx_renderer_kind *out);
const char *gfx_renderer_kind_name(enum gfx_renderer_kind k);

enum gfx_shading {
	GFX_SHADING_MESH = 0, /* each MeshRef's flags (GFX_MESHREF_SMOOTH) */
	GFX_SHADING_FLAT,
	GFX_SHADING_SMOOTH,
};

enum gfx_camera_mode {
	GFX_CAMERA_AUTO = 0, /* window / headless: frame every instance from the front, above */
	GFX_CAMERA_HEAD,     /* the local user's head pose (app_view.head) */
	GFX_CAMERA_FIXED,    /* eye and target below */
};

struct gfx_options {
	enum gfx_renderer_kind kind;
	uint32_t width, height;   /* 0: 1280 x 720 (headless: 640 x 360) */
	const char *screenshot;   /* headless (and window): PNG written at the end */
	uint64_t shot_frame;      /* headless: that frame instead of the last */
	bool validation;          /* VK_LAYER_KHRONOS_validation (THETA_GFX_VALIDATION=1 too) */
	bool no_grid;
	enum gfx_shading shading;
	enum gfx_camera_mode camera;
	float eye[3], target[3];  /* GFX_CAMERA_FIXED */
	float fovy;               /* radians; 0: 60 degrees */
	uint32_t stereo_views;    /* headless: 2 renders two eyes side by side (IPD below) */
	float ipd;                /* metres; 0: 0.063 */
	uint64_t lose_device_at;  /* tests: inject a device loss at that frame (0: never) */
	struct inp_source *xr_input; /* optional: an inp_xr source the OpenXR backend binds (gfx_xr_config.input) */
};

/* What the renderer reads each frame besides the world (all may be NULL
 * except w). They must outlive the renderer. */
struct gfx_sources {
	const struct app_scene *scene;
	const struct edit *ed;
	const struct app_avatars *avatars;
	const struct ui *ui; /* the panels (ui_world_mesh / ui_screen_mesh), drawn last */
	const struct edit_reach *reach; /* the controller's ray while it reaches (edit/edit_reach.h) */
};

/* Creates the renderer chosen by o->kind (see above). -ENXIO: nothing to
 * show on (said), -ENODEV: no usable Vulkan device (said), -ENOMEM. */
int gfx_renderer_create(const struct gfx_options *o, struct sim_world *w, const struct gfx_sources *src,
			struct app_renderer **out);

struct gfx_renderer_stats {
	uint64_t frames, skipped, rebuilds;
	uint64_t validation_messages;
	uint64_t uploads_full, uploads_incremental, bytes_uploaded;
	uint64_t triangles; /* last frame */
	uint64_t ui_atlas_uploads; /* the UI's font atlas copied to the GPU: once per context */
	double cpu_ms_last; /* list + record + submit of the last frame */
};
/* r must be one gfx_renderer_create made (not the null renderer): 0 or -EINVAL. */
int gfx_renderer_stats(struct app_renderer *r, struct gfx_renderer_stats *out);
const char *gfx_renderer_backend(struct app_renderer *r); /* "headless", "window", "xr", "null" */
/* The window backend's GLFW window (for the desktop input), NULL for others. */
struct GLFWwindow;
struct GLFWwindow *gfx_renderer_glfw(struct app_renderer *r);
/* The camera follows the local user's head from now on (the desktop
 * editor's orbit camera arrives as the head pose). */
void gfx_renderer_follow_head(struct app_renderer *r);
/* Headless: the last frame read back (RGBA8 sRGB, *w x *h; two views side
 * by side), NULL for other backends or before a frame (tests). */
const uint8_t *gfx_renderer_pixels(struct app_renderer *r, uint32_t *w, uint32_t *h);
