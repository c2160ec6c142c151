/* What the frame loop needs from a renderer. The Vulkan renderers (OpenXR
 * stereo, GLFW window, headless offscreen) implement this later; the null
 * renderer walks what would be drawn and counts it. Implementations embed
 * struct app_renderer first. Called from the loop's thread, outside stages:
 * the renderer may read the world freely but must not change it. */
#pragma once
#include <stdint.h>

#include "inp/input.h"
#include "sim/query.h"

struct app_view {
	uint64_t frame;
	uint64_t time_ns;
	struct inp_pose head; /* the viewer */
	uint64_t display_time_ns; /* from wait_frame (XR), else 0 */
	/* Stage -> world (app/nav.h's transform, app_set_nav): the runtime's
	 * eye views are in stage space; world = position + rotation * (scale * stage). */
	float nav_position[3];
	float nav_rotation[4];
	float nav_scale; /* 0 (a view zero-initialised): the identity */
};

struct app_renderer;

struct app_renderer_ops {
	/* Draws one frame (and, for the headset, submits it). 0; 1: stop
	 * (the window was closed, the headset session ended); -errno on a
	 * failure the loop must stop for. */
	int (*render)(struct app_renderer *r, struct sim_world *w, const struct app_view *v);
	/* Optional: a renderer that owns the frame's pacing (OpenXR's
	 * xrWaitFrame). The loop calls it at the start of each frame instead
	 * of sleeping to its own deadline. 0, 1 (stop), -errno. */
	int (*wait_frame)(struct app_renderer *r, uint64_t *display_time_ns);
	void (*destroy)(struct app_renderer *r);
};

struct app_renderer {
	const struct app_renderer_ops *ops;
	const char *name;
	void *user_data;
};

static inline int app_render(struct app_renderer *r, struct sim_world *w, const struct app_view *v)
{
	return r->ops->render(r, w, v);
}

static inline void app_renderer_destroy(struct app_renderer **p)
{
	if (p && *p) {
		(*p)->ops->destroy(*p);
		*p = NULL;
	}
}

/* The null renderer: counts frames and the mesh instances (MeshRef +
 * Transform) it would draw. */
struct app_null_renderer {
	struct app_renderer base;
	struct sim_query *drawable;
	uint64_t frames;
	uint32_t last_drawn;
};

int app_null_renderer_create(struct sim_world *w, struct app_renderer **out);
