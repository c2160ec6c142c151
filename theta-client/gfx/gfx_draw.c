/* The renderer's core (gfx_draw.h): device-lifetime objects (shaders,
 * layouts, the pipelines, built once at create and failing there), the
 * ring of frame slots, the frame's storage buffer and overlay data, and
 * submission. The GPU mesh cache is gfx_draw_mesh.c, recording a view
 * gfx_draw_rec.c, the UI (its atlas, layout and draws) gfx_draw_ui.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx_draw_int.h"
#include "gfx/gfx_math.h"
#include "gfx/shaders/dot.vert.h"
#include "gfx/shaders/flat.frag.h"
#include "gfx/shaders/lit.frag.h"
#include "gfx/shaders/mesh.vert.h"
#include "gfx/shaders/overlay.frag.h"
#include "gfx/shaders/overlay.vert.h"
#include "gfx/shaders/seg.vert.h"
#include "gfx/shaders/ui.frag.h"
#include "gfx/shaders/ui.vert.h"
#include "gfx/shaders/wire.vert.h"
#include "th_array.h"
#include "th_log.h"

/* The lighting of frame.glsl's gfx_shade, the same constants
 * (docs/rendering.md, "Drawing"; test_gfx_draw compares pixels with
 * gfx_draw_shade): towards the key light (above, in front, to the right),
 * its strength, and the hemisphere ambient from below to above. */
static const float key_light[3] = { 0.25f, 0.85f, 0.46f }; /* +x and +z faces apart */
#define GFX_KEY_STRENGTH 0.65f
#define GFX_AMBIENT_BELOW 0.20f
#define GFX_AMBIENT_ABOVE 0.40f

/* Edge and vertex marks (pixels) and the wire's look. */
#define GFX_MARK_EDGE_PX 4.0f
#define GFX_MARK_VERTEX_PX 11.0f

int gfx_draw_grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	return th_array_grow(p, cap, need, GFX_DRAW_GROW_MIN, UINT32_MAX, elem);
}

static int retire(struct gfx_draw *d, const struct gfx_buffer *b, const struct gfx_image *img)
{
	if (gfx_draw_grow((void **)&d->garbage, &d->cap_garbage, d->ngarbage + 1, sizeof *d->garbage) < 0) {
		/* No room to defer it: wait for the device instead. */
		vkDeviceWaitIdle(d->vk->device);
		struct gfx_buffer bb = b ? *b : (struct gfx_buffer){ 0 };
		struct gfx_image ii = img ? *img : (struct gfx_image){ 0 };
		gfx_buffer_destroy(d->vk, &bb);
		gfx_image_destroy(d->vk, &ii);
		return 0;
	}
	struct gfx_garbage *g = &d->garbage[d->ngarbage++];
	memset(g, 0, sizeof *g);
	g->serial = d->submitted; /* frames up to the last submitted may use it; this one does not */
	if (b)
		g->buf = *b;
	if (img)
		g->img = *img;
	return 0;
}

void gfx_draw_retire_buffer(struct gfx_draw *d, struct gfx_buffer *b)
{
	if (b->buf != VK_NULL_HANDLE)
		retire(d, b, NULL);
	memset(b, 0, sizeof *b);
}

void gfx_draw_retire_image(struct gfx_draw *d, struct gfx_image *img)
{
	if (img->image != VK_NULL_HANDLE)
		retire(d, NULL, img);
	memset(img, 0, sizeof *img);
}

static void sweep_garbage(struct gfx_draw *d, bool all)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < d->ngarbage; i++) {
		struct gfx_garbage *g = &d->garbage[i];
		if (all || g->serial <= d->completed) {
			gfx_buffer_destroy(d->vk, &g->buf);
			gfx_image_destroy(d->vk, &g->img);
		} else {
			d->garbage[k++] = *g;
		}
	}
	d->ngarbage = k;
}

int gfx_draw_slot_buffer(struct gfx_draw *d, struct gfx_buffer *b, VkDeviceSize size, VkDeviceSize max,
			 VkBufferUsageFlags usage, const char *what)
{
	if (b->buf != VK_NULL_HANDLE && b->size >= size)
		return 0;
	if (size > max) {
		th_err("gfx: this frame's %s need %llu bytes, more than the limit of %llu", what,
		       (unsigned long long)size, (unsigned long long)max);
		return -ENOMEM;
	}
	VkDeviceSize n = b->size ? b->size : 64 * 1024;
	while (n < size)
		n *= 2;
	if (n > max)
		n = max;
	/* The slot's fence was waited: nothing in flight reads this buffer. */
	gfx_buffer_destroy(d->vk, b);
	return gfx_buffer_create(d->vk, n, usage, true, b);
}

/* ---- pipelines ------------------------------------------------------------ */

struct pipe_desc {
	const uint32_t *vs;
	size_t vs_size;
	const uint32_t *fs;
	size_t fs_size;
	VkPrimitiveTopology topology;
	const VkVertexInputBindingDescription *binding;
	const VkVertexInputAttributeDescription *attr;
	uint32_t nattr;
	VkCompareOp depth_op;
	bool depth_write;
	bool blend;
	bool no_depth_test;      /* the UI: drawn over everything */
	VkPipelineLayout layout; /* VK_NULL_HANDLE: d->layout */
};

static int shader_module(struct gfx_draw *d, const uint32_t *code, size_t size, VkShaderModule *out)
{
	VkShaderModuleCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
					.pCode = code };
	return gfx_vk_check(d->vk, vkCreateShaderModule(d->vk->device, &ci, NULL, out), "vkCreateShaderModule");
}

static int make_pipeline(struct gfx_draw *d, const struct pipe_desc *p, VkPipeline *out)
{
	VkShaderModule vs = VK_NULL_HANDLE, fs = VK_NULL_HANDLE;
	int r = shader_module(d, p->vs, p->vs_size, &vs);
	if (r == 0)
		r = shader_module(d, p->fs, p->fs_size, &fs);
	if (r < 0)
		goto out;
	/* frame.glsl's GFX_ENCODE_SRGB: a UNORM target gets sRGB from the shader. */
	uint32_t encode = d->cfg.srgb_target ? 0 : 1;
	VkSpecializationMapEntry se = { .constantID = 0, .offset = 0, .size = sizeof encode };
	VkSpecializationInfo spec = { .mapEntryCount = 1, .pMapEntries = &se, .dataSize = sizeof encode,
				      .pData = &encode };
	VkPipelineShaderStageCreateInfo stages[2] = {
		{ .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_VERTEX_BIT,
		  .module = vs, .pName = "main" },
		{ .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
		  .module = fs, .pName = "main", .pSpecializationInfo = &spec },
	};
	VkPipelineVertexInputStateCreateInfo vi = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
		.vertexBindingDescriptionCount = 1,
		.pVertexBindingDescriptions = p->binding,
		.vertexAttributeDescriptionCount = p->nattr,
		.pVertexAttributeDescriptions = p->attr,
	};
	VkPipelineInputAssemblyStateCreateInfo ia = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO, .topology = p->topology };
	VkPipelineViewportStateCreateInfo vp = { .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
						 .viewportCount = 1, .scissorCount = 1 };
	VkPipelineRasterizationStateCreateInfo rs = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
		.polygonMode = VK_POLYGON_MODE_FILL,
		.cullMode = VK_CULL_MODE_NONE, /* open meshes show their inside; lit.frag lights both sides */
		.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
		.lineWidth = 1.0f,
	};
	VkPipelineMultisampleStateCreateInfo ms = { .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
						    .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT };
	VkPipelineDepthStencilStateCreateInfo ds = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO,
		.depthTestEnable = p->no_depth_test ? VK_FALSE : VK_TRUE,
		.depthWriteEnable = p->depth_write,
		.depthCompareOp = p->depth_op,
	};
	VkPipelineColorBlendAttachmentState att = {
		.blendEnable = p->blend,
		.srcColorBlendFactor = VK_BLEND_FACTOR_SRC_ALPHA,
		.dstColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
		.colorBlendOp = VK_BLEND_OP_ADD,
		.srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE,
		.dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
		.alphaBlendOp = VK_BLEND_OP_ADD,
		.colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT | VK_COLOR_COMPONENT_B_BIT |
				  VK_COLOR_COMPONENT_A_BIT,
	};
	VkPipelineColorBlendStateCreateInfo cb = { .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
						   .attachmentCount = 1, .pAttachments = &att };
	static const VkDynamicState dyn[] = { VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR };
	VkPipelineDynamicStateCreateInfo dy = { .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
						.dynamicStateCount = 2, .pDynamicStates = dyn };
	VkPipelineRenderingCreateInfo ri = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
		.colorAttachmentCount = 1,
		.pColorAttachmentFormats = &d->cfg.color_format,
		.depthAttachmentFormat = d->depth_format,
	};
	VkGraphicsPipelineCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
		.pNext = &ri,
		.stageCount = 2,
		.pStages = stages,
		.pVertexInputState = &vi,
		.pInputAssemblyState = &ia,
		.pViewportState = &vp,
		.pRasterizationState = &rs,
		.pMultisampleState = &ms,
		.pDepthStencilState = &ds,
		.pColorBlendState = &cb,
		.pDynamicState = &dy,
		.layout = p->layout != VK_NULL_HANDLE ? p->layout : d->layout,
	};
	r = gfx_vk_check(d->vk, vkCreateGraphicsPipelines(d->vk->device, VK_NULL_HANDLE, 1, &ci, NULL, out),
			 "vkCreateGraphicsPipelines");
out:
	if (vs != VK_NULL_HANDLE)
		vkDestroyShaderModule(d->vk->device, vs, NULL);
	if (fs != VK_NULL_HANDLE)
		vkDestroyShaderModule(d->vk->device, fs, NULL);
	return r;
}

#define SPV(name) gfx_spv_##name, sizeof gfx_spv_##name

static int make_pipelines(struct gfx_draw *d)
{
	static const VkVertexInputBindingDescription b_mesh = { 0, sizeof(struct gfx_vertex),
								 VK_VERTEX_INPUT_RATE_VERTEX };
	static const VkVertexInputAttributeDescription a_mesh[] = {
		{ 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct gfx_vertex, pos) },
		{ 1, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct gfx_vertex, normal) },
		{ 2, 0, VK_FORMAT_R32_UINT, offsetof(struct gfx_vertex, material) },
	};
	static const VkVertexInputBindingDescription b_wire = { 0, sizeof(float[3]), VK_VERTEX_INPUT_RATE_VERTEX };
	static const VkVertexInputBindingDescription b_dot = { 0, sizeof(float[3]), VK_VERTEX_INPUT_RATE_INSTANCE };
	static const VkVertexInputAttributeDescription a_pos = { 0, 0, VK_FORMAT_R32G32B32_SFLOAT, 0 };
	static const VkVertexInputBindingDescription b_over = { 0, sizeof(struct gfx_overlay_vertex),
								 VK_VERTEX_INPUT_RATE_VERTEX };
	static const VkVertexInputAttributeDescription a_over[] = {
		{ 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct gfx_overlay_vertex, pos) },
		{ 1, 0, VK_FORMAT_R8G8B8A8_UNORM, offsetof(struct gfx_overlay_vertex, rgba) },
	};
	static const VkVertexInputBindingDescription b_seg = { 0, sizeof(struct gfx_seg),
								VK_VERTEX_INPUT_RATE_INSTANCE };
	static const VkVertexInputAttributeDescription a_seg[] = {
		{ 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct gfx_seg, a) },
		{ 1, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct gfx_seg, b) },
		{ 2, 0, VK_FORMAT_R8G8B8A8_UNORM, offsetof(struct gfx_seg, rgba) },
		{ 3, 0, VK_FORMAT_R32_SFLOAT, offsetof(struct gfx_seg, width) },
	};
	static const VkVertexInputBindingDescription b_ui = { 0, sizeof(struct ui_vertex), VK_VERTEX_INPUT_RATE_VERTEX };
	static const VkVertexInputAttributeDescription a_ui[] = {
		{ 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct ui_vertex, pos) },
		{ 1, 0, VK_FORMAT_R32G32_SFLOAT, offsetof(struct ui_vertex, uv) },
		{ 2, 0, VK_FORMAT_R8G8B8A8_UNORM, offsetof(struct ui_vertex, rgba) },
	};
	const struct pipe_desc desc[GFX_PIPES] = {
		[GFX_PIPE_LIT] = { SPV(mesh_vert), SPV(lit_frag), VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, &b_mesh, a_mesh,
				   3, VK_COMPARE_OP_LESS, true, false },
		[GFX_PIPE_MARK] = { SPV(mesh_vert), SPV(lit_frag), VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, &b_mesh,
				    a_mesh, 3, VK_COMPARE_OP_EQUAL, false, false },
		[GFX_PIPE_WIRE] = { SPV(wire_vert), SPV(flat_frag), VK_PRIMITIVE_TOPOLOGY_LINE_LIST, &b_wire, &a_pos, 1,
				    VK_COMPARE_OP_LESS_OR_EQUAL, false, false },
		[GFX_PIPE_DOT] = { SPV(dot_vert), SPV(flat_frag), VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, &b_dot, &a_pos, 1,
				   VK_COMPARE_OP_LESS_OR_EQUAL, false, false },
		[GFX_PIPE_OTRI] = { SPV(overlay_vert), SPV(overlay_frag), VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, &b_over,
				    a_over, 2, VK_COMPARE_OP_LESS, true, true },
		[GFX_PIPE_OLINE] = { SPV(overlay_vert), SPV(overlay_frag), VK_PRIMITIVE_TOPOLOGY_LINE_LIST, &b_over,
				     a_over, 2, VK_COMPARE_OP_LESS_OR_EQUAL, false, true },
		[GFX_PIPE_SEG] = { SPV(seg_vert), SPV(overlay_frag), VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, &b_seg, a_seg,
				   4, VK_COMPARE_OP_LESS_OR_EQUAL, false, true },
		[GFX_PIPE_UI] = { SPV(ui_vert), SPV(ui_frag), VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST, &b_ui, a_ui, 3,
				  VK_COMPARE_OP_ALWAYS, false, true, .no_depth_test = true, .layout = d->ui_layout },
	};
	for (unsigned i = 0; i < GFX_PIPES; i++) {
		int r = make_pipeline(d, &desc[i], &d->pipe[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int gfx_draw_set_layout(struct gfx_draw *d, VkDescriptorType type, VkDescriptorSetLayout *out)
{
	VkDescriptorSetLayoutBinding b = { .binding = 0, .descriptorType = type, .descriptorCount = 1,
					   .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT };
	VkDescriptorSetLayoutCreateInfo sl = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
					       .bindingCount = 1, .pBindings = &b };
	return gfx_vk_check(d->vk, vkCreateDescriptorSetLayout(d->vk->device, &sl, NULL, out),
			    "vkCreateDescriptorSetLayout");
}

int gfx_draw_pipeline_layout(struct gfx_draw *d, const VkDescriptorSetLayout *sets, uint32_t n,
			     VkPipelineLayout *out)
{
	VkPushConstantRange pr = { VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0,
				   sizeof(struct gfx_push) };
	VkPipelineLayoutCreateInfo pl = { .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					  .setLayoutCount = n, .pSetLayouts = sets,
					  .pushConstantRangeCount = 1, .pPushConstantRanges = &pr };
	return gfx_vk_check(d->vk, vkCreatePipelineLayout(d->vk->device, &pl, NULL, out), "vkCreatePipelineLayout");
}

static int make_layouts(struct gfx_draw *d)
{
	VkDevice dev = d->vk->device;
	int r = gfx_draw_set_layout(d, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, &d->set_layout);
	if (r < 0 || (r = gfx_draw_pipeline_layout(d, &d->set_layout, 1, &d->layout)) < 0)
		return r;
	VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, GFX_FRAMES_IN_FLIGHT };
	VkDescriptorPoolCreateInfo dp = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
					  .maxSets = GFX_FRAMES_IN_FLIGHT, .poolSizeCount = 1, .pPoolSizes = &ps };
	return gfx_vk_check(d->vk, vkCreateDescriptorPool(dev, &dp, NULL, &d->desc_pool), "vkCreateDescriptorPool");
}

static int make_slot(struct gfx_draw *d, struct gfx_slot *s)
{
	VkDevice dev = d->vk->device;
	VkCommandPoolCreateInfo pc = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
				       .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
				       .queueFamilyIndex = d->vk->queue_family };
	int r = gfx_vk_check(d->vk, vkCreateCommandPool(dev, &pc, NULL, &s->pool), "vkCreateCommandPool");
	if (r < 0)
		return r;
	VkCommandBufferAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					   .commandPool = s->pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
					   .commandBufferCount = 1 };
	r = gfx_vk_check(d->vk, vkAllocateCommandBuffers(dev, &ai, &s->cmd), "vkAllocateCommandBuffers");
	if (r < 0)
		return r;
	VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = VK_FENCE_CREATE_SIGNALED_BIT };
	r = gfx_vk_check(d->vk, vkCreateFence(dev, &fi, NULL, &s->fence), "vkCreateFence");
	if (r < 0)
		return r;
	/* Device-local: every lit fragment reads it (host-visible memory of a
	 * discrete GPU is across the bus). */
	r = gfx_buffer_create(d->vk, sizeof(struct gfx_frame_gpu),
			      VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, false, &s->frame);
	if (r < 0)
		return r;
	VkDescriptorSetAllocateInfo dai = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
					    .descriptorPool = d->desc_pool, .descriptorSetCount = 1,
					    .pSetLayouts = &d->set_layout };
	r = gfx_vk_check(d->vk, vkAllocateDescriptorSets(dev, &dai, &s->set), "vkAllocateDescriptorSets");
	if (r < 0)
		return r;
	VkDescriptorBufferInfo bi = { s->frame.buf, 0, sizeof(struct gfx_frame_gpu) };
	VkWriteDescriptorSet w = { .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = s->set,
				   .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
				   .pBufferInfo = &bi };
	vkUpdateDescriptorSets(dev, 1, &w, 0, NULL);
	return 0;
}

int gfx_draw_create(struct gfx_vk *vk, const struct gfx_draw_config *c, struct gfx_draw **out)
{
	if (!vk || !c || c->color_format == VK_FORMAT_UNDEFINED)
		return -EINVAL;
	struct gfx_draw *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->vk = vk;
	d->cfg = *c;
	d->depth_format = gfx_vk_depth_format(vk);
	int r = 0;
	if (d->depth_format == VK_FORMAT_UNDEFINED) {
		th_err("gfx: the device offers no depth attachment format");
		r = -ENOTSUP;
		goto fail;
	}
	r = make_layouts(d);
	if (r == 0)
		r = gfx_draw_ui_create(d);
	if (r == 0)
		r = make_pipelines(d);
	for (unsigned i = 0; r == 0 && i < GFX_FRAMES_IN_FLIGHT; i++)
		r = make_slot(d, &d->slot[i]);
	if (r < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	gfx_draw_destroy(&d);
	return r;
}

void gfx_draw_destroy(struct gfx_draw **p)
{
	struct gfx_draw *d = p ? *p : NULL;
	if (!d)
		return;
	VkDevice dev = d->vk->device;
	vkDeviceWaitIdle(dev);
	gfx_draw_meshes_free(d);
	sweep_garbage(d, true);
	free(d->garbage);
	for (unsigned i = 0; i < GFX_VIEWS_MAX; i++)
		gfx_image_destroy(d->vk, &d->depth[i]);
	for (unsigned i = 0; i < GFX_FRAMES_IN_FLIGHT; i++) {
		struct gfx_slot *s = &d->slot[i];
		gfx_buffer_destroy(d->vk, &s->frame);
		gfx_buffer_destroy(d->vk, &s->staging);
		gfx_buffer_destroy(d->vk, &s->overlay);
		if (s->fence != VK_NULL_HANDLE)
			vkDestroyFence(dev, s->fence, NULL);
		if (s->pool != VK_NULL_HANDLE)
			vkDestroyCommandPool(dev, s->pool, NULL);
	}
	for (unsigned i = 0; i < GFX_PIPES; i++)
		if (d->pipe[i] != VK_NULL_HANDLE)
			vkDestroyPipeline(dev, d->pipe[i], NULL);
	gfx_draw_ui_destroy(d);
	if (d->layout != VK_NULL_HANDLE)
		vkDestroyPipelineLayout(dev, d->layout, NULL);
	if (d->desc_pool != VK_NULL_HANDLE)
		vkDestroyDescriptorPool(dev, d->desc_pool, NULL);
	if (d->set_layout != VK_NULL_HANDLE)
		vkDestroyDescriptorSetLayout(dev, d->set_layout, NULL);
	free(d->inst_mesh);
	free(d->fmark);
	free(d->seg);
	free(d->regions);
	free(d);
	*p = NULL;
}

/* ---- a frame -------------------------------------------------------------- */

int gfx_draw_begin(struct gfx_draw *d, VkCommandBuffer *cmd)
{
	struct gfx_slot *s = &d->slot[d->cur];
	VkResult vr = vkWaitForFences(d->vk->device, 1, &s->fence, VK_TRUE, GFX_DRAW_FENCE_TIMEOUT_NS);
	if (vr == VK_TIMEOUT) {
		th_err("gfx: the GPU did not finish a frame in %llu s", GFX_DRAW_FENCE_TIMEOUT_NS / 1000000000ull);
		return -ETIMEDOUT;
	}
	int r = gfx_vk_check(d->vk, vr, "vkWaitForFences");
	if (r < 0)
		return r;
	/* A fence signal covers every earlier submission on the queue. */
	if (s->serial > d->completed)
		d->completed = s->serial;
	sweep_garbage(d, false);
	r = gfx_vk_check(d->vk, vkResetCommandPool(d->vk->device, s->pool, 0), "vkResetCommandPool");
	if (r < 0)
		return r;
	VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
					.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
	r = gfx_vk_check(d->vk, vkBeginCommandBuffer(s->cmd, &bi), "vkBeginCommandBuffer");
	if (r < 0)
		return r;
	d->frame++;
	d->recording = true;
	d->prepared = false;
	d->recorded = 0;
	d->stats.draws = 0;
	d->stats.triangles = 0;
	d->stats.ui_triangles = 0;
	gfx_draw_meshes_evict(d);
	*cmd = s->cmd;
	return 0;
}

/* One mark of this pass (0: faces, 1: edges, 2: vertices) into the face
 * marks or the segments. */
static int prepare_mark(struct gfx_draw *d, const struct gfx_list *l, const struct gfx_mark *mk, int pass)
{
	static const uint32_t kind_of_pass[3] = { GFX_MARK_FACE, GFX_MARK_EDGE, GFX_MARK_VERTEX };
	if (mk->kind != kind_of_pass[pass] || mk->inst >= l->ninst || !d->inst_mesh[mk->inst])
		return 0;
	const struct gfx_inst *in = &l->inst[mk->inst];
	const struct gfx_gpu_mesh *gm = d->inst_mesh[mk->inst];
	const struct th_mesh *m = in->mesh;
	if (mk->kind == GFX_MARK_FACE) {
		int32_t f = th_mesh_face_find(m, mk->element);
		if (f < 0 || (uint32_t)f >= gm->g.nface || gm->g.face[f].nindex == 0)
			return 0;
		int r = gfx_draw_grow((void **)&d->fmark, &d->cap_fmark, d->nfmark + 1, sizeof *d->fmark);
		if (r < 0)
			return r;
		struct gfx_face_mark *fm = &d->fmark[d->nfmark++];
		fm->inst = mk->inst;
		fm->first_index = gm->g.face[f].first_index;
		fm->nindex = gm->g.face[f].nindex;
		memcpy(fm->color, mk->color, sizeof fm->color);
		return 0;
	}
	int32_t a, b;
	if (mk->kind == GFX_MARK_EDGE) {
		a = th_mesh_vert_find(m, mk->a);
		b = th_mesh_vert_find(m, mk->b);
	} else {
		a = b = th_mesh_vert_find(m, mk->element);
	}
	if (a < 0 || b < 0)
		return 0;
	int r = gfx_draw_grow((void **)&d->seg, &d->cap_seg, d->nseg + 1, sizeof *d->seg);
	if (r < 0)
		return r;
	struct gfx_seg *sg = &d->seg[d->nseg++];
	gfx_mat4_apply_point(in->model, m->verts[a].pos, sg->a);
	gfx_mat4_apply_point(in->model, m->verts[b].pos, sg->b);
	sg->rgba = gfx_rgba8(mk->color[0], mk->color[1], mk->color[2], mk->color[3]);
	sg->width = mk->kind == GFX_MARK_EDGE ? GFX_MARK_EDGE_PX : GFX_MARK_VERTEX_PX;
	return 0;
}

/* The overlay and marks of this frame into the slot's overlay buffer:
 * triangles, lines, segments (edge and vertex marks, in world space), then
 * the UI's world and screen vertices. */
static int prepare_overlay(struct gfx_draw *d, const struct gfx_list *l)
{
	d->nseg = 0;
	d->nfmark = 0;
	/* Faces; then edges, then vertices, so a vertex's dot shows over its edges. */
	for (int pass = 0; pass < 3; pass++)
		for (uint32_t i = 0; i < l->nmark; i++) {
			int r = prepare_mark(d, l, &l->mark[i], pass);
			if (r < 0)
				return r;
		}
	d->ntri = l->ntri;
	d->nline = l->nline;
	VkDeviceSize vsz = sizeof(struct gfx_overlay_vertex);
	d->tri_off = 0;
	d->line_off = d->tri_off + (VkDeviceSize)l->ntri * vsz;
	d->seg_off = d->line_off + (VkDeviceSize)l->nline * vsz;
	VkDeviceSize usz = sizeof(struct ui_vertex);
	d->ui_world_off = d->seg_off + (VkDeviceSize)d->nseg * sizeof(struct gfx_seg);
	d->ui_screen_off = d->ui_world_off + (VkDeviceSize)d->ui_nworld * usz;
	VkDeviceSize total = d->ui_screen_off + (VkDeviceSize)d->ui_nscreen * usz;
	if (total == 0)
		return 0;
	struct gfx_slot *s = &d->slot[d->cur];
	int r = gfx_draw_slot_buffer(d, &s->overlay, total, GFX_DRAW_OVERLAY_MAX, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
				     "overlay vertices");
	if (r < 0)
		return r;
	uint8_t *p = s->overlay.map;
	if (l->ntri)
		memcpy(p + d->tri_off, l->tri, (size_t)l->ntri * vsz);
	if (l->nline)
		memcpy(p + d->line_off, l->line, (size_t)l->nline * vsz);
	if (d->nseg)
		memcpy(p + d->seg_off, d->seg, (size_t)d->nseg * sizeof(struct gfx_seg));
	gfx_draw_ui_write(d, l, p);
	return 0;
}

/* The frame's materials into the slot's frame buffer in cmd, then made
 * visible to the fragment shaders. */
static void frame_write(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l)
{
	VkDeviceSize size = sizeof(struct gfx_frame_gpu);
	_Static_assert(sizeof(struct gfx_frame_gpu) == sizeof(l->material), "gfx_list's material table is the frame's");
	vkCmdUpdateBuffer(cmd, d->slot[d->cur].frame.buf, 0, size, l->material);
	VkBufferMemoryBarrier2 b = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER_2,
		.srcStageMask = VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
		.srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
		.dstStageMask = VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT,
		.dstAccessMask = VK_ACCESS_2_SHADER_STORAGE_READ_BIT,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.buffer = d->slot[d->cur].frame.buf,
		.offset = 0,
		.size = size,
	};
	vkCmdPipelineBarrier2(cmd, &(VkDependencyInfo){ .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
							 .bufferMemoryBarrierCount = 1, .pBufferMemoryBarriers = &b });
}

int gfx_draw_prepare(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l)
{
	if (!d->recording || !l)
		return -EINVAL;
	frame_write(d, cmd, l);
	int r = gfx_draw_grow((void **)&d->inst_mesh, &d->cap_inst_mesh, l->ninst, sizeof *d->inst_mesh);
	if (r < 0)
		return r;
	d->ninst = l->ninst;
	r = gfx_draw_meshes_prepare(d, cmd, l);
	if (r < 0)
		return r;
	r = gfx_draw_ui_prepare(d, l);
	if (r < 0)
		return r;
	r = prepare_overlay(d, l);
	if (r < 0)
		return r;
	d->prepared = true;
	return 0;
}

int gfx_draw_submit(struct gfx_draw *d, VkCommandBuffer cmd, VkSemaphore wait, VkPipelineStageFlags2 wait_stage,
		    VkSemaphore signal)
{
	if (!d->recording)
		return -EINVAL;
	struct gfx_slot *s = &d->slot[d->cur];
	d->recording = false;
	int r = gfx_vk_check(d->vk, vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
	if (r < 0)
		return r;
	r = gfx_vk_check(d->vk, vkResetFences(d->vk->device, 1, &s->fence), "vkResetFences");
	if (r < 0)
		return r;
	VkSemaphoreSubmitInfo wi = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, .semaphore = wait,
				     .stageMask = wait_stage };
	VkSemaphoreSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, .semaphore = signal,
				     .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT };
	VkCommandBufferSubmitInfo ci = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, .commandBuffer = cmd };
	VkSubmitInfo2 sub = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
		.waitSemaphoreInfoCount = wait != VK_NULL_HANDLE,
		.pWaitSemaphoreInfos = &wi,
		.commandBufferInfoCount = 1,
		.pCommandBufferInfos = &ci,
		.signalSemaphoreInfoCount = signal != VK_NULL_HANDLE,
		.pSignalSemaphoreInfos = &si,
	};
	r = gfx_vk_check(d->vk, vkQueueSubmit2(d->vk->queue, 1, &sub, s->fence), "vkQueueSubmit2");
	if (r < 0) {
		/* Nothing will signal it: leave it signalled so begin does not wait forever. */
		VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
					 .flags = VK_FENCE_CREATE_SIGNALED_BIT };
		VkFence f;
		if (vkCreateFence(d->vk->device, &fi, NULL, &f) == VK_SUCCESS) {
			vkDestroyFence(d->vk->device, s->fence, NULL);
			s->fence = f;
		}
		return r;
	}
	s->serial = ++d->submitted;
	d->last_fence = s->fence;
	d->cur = (d->cur + 1) % GFX_FRAMES_IN_FLIGHT;
	d->stats.frames++;
	return 0;
}

void gfx_draw_shade(const float base[3], const float n[3], float out[3])
{
	float len = sqrtf(key_light[0] * key_light[0] + key_light[1] * key_light[1] + key_light[2] * key_light[2]);
	float dot = (n[0] * key_light[0] + n[1] * key_light[1] + n[2] * key_light[2]) / len;
	float amb = GFX_AMBIENT_BELOW + (GFX_AMBIENT_ABOVE - GFX_AMBIENT_BELOW) * (n[1] * 0.5f + 0.5f);
	float k = (dot > 0 ? dot : 0) * GFX_KEY_STRENGTH;
	for (int i = 0; i < 3; i++)
		out[i] = base[i] * (amb + k);
}

VkFence gfx_draw_last_fence(const struct gfx_draw *d)
{
	return d->last_fence;
}

void gfx_draw_stats(const struct gfx_draw *d, struct gfx_draw_stats *out)
{
	*out = d->stats;
	out->meshes = d->nmesh;
}
