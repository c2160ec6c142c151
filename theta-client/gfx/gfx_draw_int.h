/* gfx_draw's own structures, shared by its files: gfx_draw.c (lifetime,
 * pipelines, frame slots, submit), gfx_draw_mesh.c (the GPU mesh cache and
 * the uploads of prepare) and gfx_draw_rec.c (recording a view). Nothing
 * outside gfx_draw*.c includes this. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_mesh.h"
#include "gfx/gfx_vk.h"

/* Limits (each a resource the frame list's size controls). */
#define GFX_DRAW_STAGING_MAX (1024ull << 20) /* one frame's uploads */
#define GFX_DRAW_OVERLAY_MAX (256ull << 20)  /* one frame's overlay vertices and segments */
#define GFX_DRAW_MESHES_MAX (1u << 20)       /* GPU meshes alive */
#define GFX_DRAW_FENCE_TIMEOUT_NS 20000000000ull /* a frame slower than 20 s: the GPU hangs */
#define GFX_DRAW_MIN_ELEMS 64u               /* smallest mesh buffer, elements */
#define GFX_DRAW_GROW_MIN 16u                /* smallest CPU array (th_array_grow), elements */
#define GFX_DRAW_ATLAS_DIM_MAX 8192u         /* the UI font atlas's width and height at most */
#define GFX_DRAW_ATLAS_LEVELS 4u             /* its mip levels: to 1/8 (glyphs 2 texels apart bleed past that) */

/* The push constants of every pipeline (frame.glsl's gfx_push): the
 * model -> clip matrix of the view, three vec4 the pipeline reads its own
 * way (frame.glsl says which), a colour. */
struct gfx_push {
	float mvp[16];
	float nm[3][4];
	float color[4];
};
_Static_assert(sizeof(struct gfx_push) == 128, "frame.glsl's gfx_push (128 bytes: every device has them)");

/* The frame's storage buffer (frame.glsl's gfx_frame, std430). */
struct gfx_frame_gpu {
	float material[GFX_MATERIALS][4];
};
_Static_assert(GFX_MATERIALS == 256, "frame.glsl's material table");

/* One thick segment or dot (edge and vertex marks; seg.vert, instance rate). */
struct gfx_seg {
	float a[3], b[3];
	uint32_t rgba;
	float width; /* pixels */
};
_Static_assert(sizeof(struct gfx_seg) == 32, "seg.vert's inputs");

/* A marked face to draw again: an index range of an instance's mesh. */
struct gfx_face_mark {
	uint32_t inst;
	uint32_t first_index, nindex;
	float color[4];
};

/* One mesh's GPU copy, by (mesh key, smooth). */
struct gfx_gpu_mesh {
	uint64_t key;
	bool smooth;
	struct gfx_mesh g;
	struct gfx_buffer vbuf, ibuf; /* triangles: struct gfx_vertex, uint32 indices */
	struct gfx_buffer wbuf, ebuf; /* wire: positions, edge index pairs */
	uint32_t cap_v, cap_i, cap_w, cap_e; /* elements the buffers hold */
	bool uploaded;     /* vbuf / ibuf hold g's triangles */
	bool wire_stale;   /* g's wire changed since wbuf / ebuf were written */
	uint64_t used_frame;     /* the last frame an instance drew it */
	uint64_t prepared_frame; /* the frame whose prepare updated it */
	uint64_t wire_frame;     /* the last frame an instance drew its wire */
	bool pending, up_full, up_wire; /* this frame's copies: due, everything, the wire */
};

/* A buffer or image retired while frames up to `serial` may still use it. */
struct gfx_garbage {
	uint64_t serial;
	struct gfx_buffer buf;
	struct gfx_image img;
};

struct gfx_slot {
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkFence fence;
	uint64_t serial; /* of the frame submitted last from this slot (0: none) */
	struct gfx_buffer frame; /* struct gfx_frame_gpu, device-local, written by vkCmdUpdateBuffer */
	VkDescriptorSet set;
	struct gfx_buffer staging; /* this frame's uploads */
	struct gfx_buffer overlay; /* this frame's overlay triangles, lines, segments */
};

enum gfx_pipe {
	GFX_PIPE_LIT,     /* mesh triangles, shaded */
	GFX_PIPE_MARK,    /* a face again: depth EQUAL, the mark as lit.frag's tint */
	GFX_PIPE_WIRE,    /* wire edges: lines */
	GFX_PIPE_DOT,     /* wire vertices: squares */
	GFX_PIPE_OTRI,    /* overlay triangles */
	GFX_PIPE_OLINE,   /* overlay lines */
	GFX_PIPE_SEG,     /* thick segments and dots */
	GFX_PIPE_UI,      /* the UI's triangles: the atlas, alpha blended, no depth test (its own layout) */
	GFX_PIPES
};

struct gfx_draw {
	struct gfx_vk *vk;
	struct gfx_draw_config cfg;
	VkFormat depth_format;
	VkDescriptorSetLayout set_layout;
	VkDescriptorPool desc_pool;
	VkPipelineLayout layout;
	VkPipeline pipe[GFX_PIPES];

	/* The UI (gfx_draw_ui.c): set 1 of ui_layout is the font atlas (a
	 * combined image sampler), set 0 and the push constants as layout. */
	VkDescriptorSetLayout ui_set_layout;
	VkDescriptorPool ui_pool;
	VkPipelineLayout ui_layout;
	VkSampler ui_sampler;
	VkDescriptorSet ui_set;
	struct gfx_image atlas;         /* R8_UNORM, SHADER_READ_ONLY_OPTIMAL once uploaded */
	const struct ui_font *atlas_of; /* the font atlas holds (NULL: none yet) */
	const struct ui_font *atlas_refused; /* a font found unusable (said once) */
	uint32_t ui_nworld, ui_nscreen; /* this frame's vertices (0 without an atlas) */
	VkDeviceSize ui_world_off, ui_screen_off; /* in the slot's overlay buffer */

	struct gfx_slot slot[GFX_FRAMES_IN_FLIGHT];
	uint32_t cur;        /* the slot begin uses */
	bool recording;      /* begun, not yet submitted */
	uint64_t frame;      /* frames begun (the current one's number) */
	uint64_t submitted;  /* serial of the last submitted frame */
	uint64_t completed;  /* every frame up to this serial finished */
	VkFence last_fence;

	struct gfx_image depth[GFX_VIEWS_MAX];

	/* GPU meshes: an array of pointers (stable entries) and an open
	 * addressing table of index + 1 by (key, smooth). */
	struct gfx_gpu_mesh **mesh;
	uint32_t nmesh, cap_mesh;
	uint32_t *table;
	uint32_t cap_table; /* a power of two, > 2 * nmesh */

	struct gfx_garbage *garbage;
	uint32_t ngarbage, cap_garbage;

	/* What prepare found for record (this frame). */
	struct gfx_gpu_mesh **inst_mesh; /* by instance; NULL: nothing to draw */
	uint32_t cap_inst_mesh, ninst;
	struct gfx_face_mark *fmark;
	uint32_t nfmark, cap_fmark;
	struct gfx_seg *seg;
	uint32_t nseg, cap_seg;
	VkDeviceSize tri_off, line_off, seg_off; /* in the slot's overlay buffer */
	uint32_t ntri, nline;
	bool prepared;
	uint32_t recorded; /* bit v: view v recorded this frame (each view once: it has one depth image) */
	VkBufferCopy *regions;
	uint32_t cap_regions;

	struct gfx_draw_stats stats;
};

/* gfx_draw.c */
/* th_array_grow from GFX_DRAW_GROW_MIN elements: 0 or -ENOMEM. */
int gfx_draw_grow(void **p, uint32_t *cap, uint32_t need, size_t elem);
void gfx_draw_retire_buffer(struct gfx_draw *d, struct gfx_buffer *b);
void gfx_draw_retire_image(struct gfx_draw *d, struct gfx_image *img);
/* A descriptor set layout of one binding (0, `type`, the fragment stage)
 * into *out: 0 or gfx_vk_check's error. */
int gfx_draw_set_layout(struct gfx_draw *d, VkDescriptorType type, VkDescriptorSetLayout *out);
/* A pipeline layout over sets[n] with every pipeline's push constants
 * (struct gfx_push, vertex and fragment): layouts made here are compatible
 * for the leading sets they share, so set 0 bound with one stays bound under the
 * other. 0 or gfx_vk_check's error. */
int gfx_draw_pipeline_layout(struct gfx_draw *d, const VkDescriptorSetLayout *sets, uint32_t n,
			     VkPipelineLayout *out);
/* A host-visible buffer of the slot (not in use: its fence was waited)
 * with at least `size` bytes, grown by doubling up to `max`. */
int gfx_draw_slot_buffer(struct gfx_draw *d, struct gfx_buffer *b, VkDeviceSize size, VkDeviceSize max,
			 VkBufferUsageFlags usage, const char *what);

/* gfx_draw_ui.c */
/* The UI's layouts, sampler and descriptor set (before the pipelines). */
int gfx_draw_ui_create(struct gfx_draw *d);
void gfx_draw_ui_destroy(struct gfx_draw *d);
/* Uploads l->ui.font's atlas when it is not the one uploaded (the first
 * time in this context), validates the meshes and sets this frame's
 * vertex counts. 0 or -errno; an atlas that is not one (no pixels, a
 * side 0 or over GFX_DRAW_ATLAS_DIM_MAX) is said once and the UI not drawn. */
int gfx_draw_ui_prepare(struct gfx_draw *d, const struct gfx_list *l);
/* The UI's vertices of this frame into p (the overlay buffer) from off. */
void gfx_draw_ui_write(struct gfx_draw *d, const struct gfx_list *l, uint8_t *p);
/* The world mesh with vp, then on view 0 the screen mesh in e's pixels. */
void gfx_draw_ui_record(struct gfx_draw *d, VkCommandBuffer cmd, const float vp[16], VkExtent2D e,
			uint32_t view_index);

/* gfx_draw_mesh.c */
void gfx_draw_meshes_free(struct gfx_draw *d);
void gfx_draw_meshes_evict(struct gfx_draw *d);
int gfx_draw_meshes_prepare(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l);
