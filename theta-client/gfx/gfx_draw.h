/* The renderer's core (docs/rendering.md): pipelines, the GPU copies of
 * meshes, and recording a frame list (gfx_list.h) into one or two views.
 * Backends (gfx_backend.h) own the images; this owns everything drawn.
 *
 * Frames in flight: GFX_FRAMES_IN_FLIGHT slots, each with a command
 * buffer, a fence and its own buffers for per-frame data (the material
 * table, written in the command buffer; staging and overlay vertices,
 * host-visible). gfx_draw_begin waits for the slot's fence
 * (so the CPU runs at most two frames ahead of the GPU), then everything is
 * recorded into that slot's command buffer:
 *   gfx_draw_begin -> gfx_draw_prepare (uploads) -> gfx_draw_record per
 *   view -> [backend records copies] -> gfx_draw_submit.
 *
 * Meshes: one struct gfx_mesh (CPU, gfx_mesh.h) and one device-local vertex,
 * index and wire buffer set per (mesh key, smooth), grown by doubling
 * (a replaced buffer is destroyed once the frames using it finished). prepare
 * updates each instance's gfx_mesh and copies only its dirty ranges through
 * the slot's staging buffer (one barrier before the copies, as earlier
 * frames may still read the buffers, vkCmdCopyBuffer regions, one barrier
 * after), or all of it after a rebuild. Meshes no instance used for GFX_DRAW_EVICT_FRAMES frames
 * are freed.
 *
 * Pipelines (dynamic rendering, colour + depth, 1 sample, no culling):
 * lit triangles (one indexed draw per instance, the model-to-clip and
 * normal matrices in push constants, the material table in a storage
 * buffer; flat or smooth by the vertex normals; the tint), marked faces
 * (selected / hovered: the face's indices drawn again with depth EQUAL,
 * the mark as the tint), wire lines and vertex squares, overlay triangles
 * and lines, thick segments and dots for edge and vertex marks, and last
 * the UI's panels (gfx_list.ui: the font atlas as a sampled image, no depth
 * test, alpha blended; gfx_draw_ui.c, docs/rendering.md "The UI"). Shaders
 * are GLSL under gfx/shaders/, compiled to SPIR-V by glslc at build time
 * and embedded (build/gen/gfx/shaders/NAME.vert.h, gfx_spv_NAME_vert[]). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "gfx/gfx_list.h"
#include "gfx/gfx_vk.h"

#define GFX_FRAMES_IN_FLIGHT 2u
#define GFX_VIEWS_MAX 2u
#define GFX_DRAW_EVICT_FRAMES 120u

/* One eye (or the window's camera). */
struct gfx_view {
	float view[16]; /* world -> eye */
	float proj[16]; /* eye -> clip (Vulkan) */
	float eye[3];   /* world position (lighting) */
};

/* One image to draw into this frame. The colour image arrives in
 * initial_layout and is left in final_layout, with the barrier recorded. */
struct gfx_target {
	VkImage image;
	VkImageView view;
	VkExtent2D extent;
	VkFormat format;
	VkImageLayout initial_layout; /* UNDEFINED: contents discarded */
	VkImageLayout final_layout;   /* PRESENT_SRC_KHR, COLOR_ATTACHMENT_OPTIMAL (XR), TRANSFER_SRC_OPTIMAL */
};

struct gfx_draw_config {
	VkFormat color_format; /* what the backend's images are */
	bool srgb_target;      /* the format is *_SRGB: write linear colour */
};

struct gfx_draw_stats {
	uint64_t frames;
	uint64_t uploads_full, uploads_incremental; /* mesh buffer updates */
	uint64_t bytes_uploaded;
	uint32_t meshes;          /* GPU copies alive */
	uint64_t draws;           /* draw calls recorded, last frame */
	uint64_t triangles;       /* drawn, last frame, all views */
	uint64_t ui_triangles;    /* the UI's, last frame, all views */
	uint64_t atlas_uploads;   /* the UI font atlas copied to the GPU (once per context and font) */
};

struct gfx_draw;

int gfx_draw_create(struct gfx_vk *vk, const struct gfx_draw_config *c, struct gfx_draw **out);
void gfx_draw_destroy(struct gfx_draw **p); /* waits for the device */

/* Waits for this slot's previous frame, resets and begins its command
 * buffer. */
int gfx_draw_begin(struct gfx_draw *d, VkCommandBuffer *cmd);
/* Uploads what the list needs (mesh changes, materials, per-frame data),
 * recorded into cmd before any rendering. 0 or -errno. */
int gfx_draw_prepare(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l);
/* Renders l into t as seen from v (clear, depth, all passes). view_index
 * < GFX_VIEWS_MAX (each view has its own depth image), each at most once
 * per frame (-EINVAL); t->format must be the config's color_format. */
int gfx_draw_record(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l, const struct gfx_target *t,
		    const struct gfx_view *v, uint32_t view_index);
/* Ends cmd and submits it: waits for wait (if not VK_NULL_HANDLE) at
 * wait_stage, signals signal (if any) and the slot's fence; moves to the
 * next slot. */
int gfx_draw_submit(struct gfx_draw *d, VkCommandBuffer cmd, VkSemaphore wait, VkPipelineStageFlags2 wait_stage,
		    VkSemaphore signal);
/* The fence of the frame submitted last (headless readback waits on it). */
VkFence gfx_draw_last_fence(const struct gfx_draw *d);
void gfx_draw_stats(const struct gfx_draw *d, struct gfx_draw_stats *out);

/* The lighting the lit pass applies (frame.glsl's gfx_shade, the same
 * constants): a hemisphere ambient plus one key light, Lambert, on a
 * linear base colour and a unit world normal. For tests and docs. */
void gfx_draw_shade(const float base[3], const float n[3], float out[3]);

/* Changes by uidraw (issue 13): gfx_draw_stats.ui_triangles and
 * .atlas_uploads; the UI drawn from the list (gfx_list.ui).
 *
 * Changes by draw (the implementation's owner):
 * - gfx_draw_shade added (the lit pass's lighting on the CPU, for tests).
 * - gfx_draw_record: one record per view index and frame; the shaders'
 *   headers are build/gen/gfx/shaders/NAME.vert.h. */
