/* GPU time of a stereo frame through the renderer beside a bare baseline
 * (make bench-gfx; on the NVIDIA H200: scripts/gpu-bench; issue 12's
 * "Figures", docs/rendering-figures.md).
 *
 * The frame: two eyes of EYE_W x EYE_H (R8G8B8A8_SRGB colour, a depth
 * buffer each), both looking at a rippled wall of GRID_100K^2 or GRID_1M^2
 * quads (100 352 and 999 698 triangles) that fills their view. One th_mesh
 * per size; its triangles come from gfx_mesh (flat normals), so the
 * baseline's buffers hold exactly what the renderer's mesh cache uploads.
 *
 *   renderer  gfx_draw (gfx_draw.h): begin -> prepare -> record per eye ->
 *             submit, one instance of the mesh, no grid, no overlay.
 *   baseline  written here on the same context and colour images: its
 *             own depth images, the simplest lit pipeline (position +
 *             normal, one light, a push-constant matrix; shaders in
 *             tests/bench/gfx/shaders/), one indexed draw per eye, one
 *             command buffer.
 *
 * Both are timed the same way: vkCmdWriteTimestamp at TOP_OF_PIPE first in
 * the command buffer and at BOTTOM_OF_PIPE last, each frame submitted and
 * waited for alone (no overlap), validation off. Rounds alternate
 * baseline and renderer so clock changes hit both; the figure is the
 * median frame of all rounds. Before timing, one frame of each is read
 * back: each must cover COVER_MIN of the first eye's pixels and the two
 * within COVER_DIFF of each other (a renderer that draws nothing must not
 * look fast).
 *
 * The device is gfx_vk's choice, by type (discrete first; THETA_GFX_DEVICE
 * names one). Figures are named by device kind: gfx.stereo.DEV.*, DEV =
 * "nvidia" (vendor 0x10de), "lavapipe" (a CPU device) or "gpu":
 *   gfx.stereo.DEV.baseline_{100k,1m}_ms, .renderer_{100k,1m}_ms,
 *   .renderer_{100k,1m}_vs_baseline (goal <= GOAL_RATIO on a GPU), and
 *   .clear_only_ms: the baseline's frame without its draws (clears and
 *   barriers of both eyes), the floor at this size.
 *
 * Options: --devices lists the Vulkan devices (a vulkaninfo --summary of
 * our own, for the GPU machine) and exits; --baseline-only skips the
 * renderer. Environment: THETA_BENCH_GPU_ROUNDS, THETA_BENCH_GPU_FRAMES
 * (timed frames per round), THETA_BENCH_REQUIRE_GPU=1 (fail on a CPU
 * device), THETA_BENCH_VALIDATION=1 (the validation layer on, for
 * checking this file; figures are then not comparable). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_mesh.h"
#include "gfx/gfx_vk.h"
#include "gfx_bench.h"
#include "th_bench.h"
#include "th_mesh.h"
#include "th_time.h"

#include "bench/gfx/base.frag.h"
#include "bench/gfx/base.vert.h"

#define EYES 2u
#define EYE_W 2064u
#define EYE_H 2208u
#define GRID_100K 224u /* quads per side: 100 352 triangles */
#define GRID_1M 707u   /* 999 698 triangles */
#define WALL_HALF 2.6f /* metres: the wall spans +-this around the eyes' centre */
#define WALL_Z (-2.0f)
#define WALL_RIPPLE 0.08f /* metres of relief (lighting varies across it) */
#define WALL_WAVES 9.0f   /* ripple periods across the wall */
#define EYE_HEIGHT 1.6f
#define IPD 0.063f
#define FOV_OUT 50.0f /* degrees, per eye: outward, inward, up, down */
#define FOV_IN 45.0f
#define FOV_UP 48.0f
#define FOV_DOWN 52.0f
#define NEAR_M 0.05f
#define FAR_M 100.0f
#define GOAL_RATIO 1.2
#define COVER_MIN 0.95   /* of the pixels the wall must cover in each pipeline */
#define COVER_DIFF 0.002 /* and the two may differ by this fraction */
/* Rounds x (warm-up + timed) frames per pipeline and size. */
#define GPU_ROUNDS 5u
#define GPU_WARMUP 10u
#define GPU_FRAMES 40u
#define CPU_ROUNDS 1u /* lavapipe: a frame of 1 M triangles takes a second */
#define CPU_WARMUP 1u
#define CPU_FRAMES 2u
#define ROUNDS_MAX 100u
#define FRAMES_MAX 1000u
#define MESH_ID_BASE 0x77616c6cu
#define LIST_MATERIAL 1u
#define LIST_MAX 16u /* devices and queue families --devices shows */

static const float clear_linear[4] = { 0.02f, 0.02f, 0.03f, 1.0f };

/* ---- devices ------------------------------------------------------------- */

static const char *type_name(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
	default: return "other";
	}
}

/* Every device the loader offers: name, type, API and driver version, the
 * timestamp period and the graphics queue's valid timestamp bits. */
static int list_devices(void)
{
	VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "bench_gfx_gpu",
				  .apiVersion = VK_API_VERSION_1_3 };
	VkInstanceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
	VkInstance inst;
	gb_vk_ok(vkCreateInstance(&ci, NULL, &inst), "vkCreateInstance");
	uint32_t n = 0;
	gb_vk_ok(vkEnumeratePhysicalDevices(inst, &n, NULL), "vkEnumeratePhysicalDevices");
	VkPhysicalDevice pd[LIST_MAX];
	if (n > LIST_MAX)
		n = LIST_MAX;
	VkResult r = vkEnumeratePhysicalDevices(inst, &n, pd);
	gb_vk_ok(r == VK_INCOMPLETE ? VK_SUCCESS : r, "vkEnumeratePhysicalDevices");
	printf("%u Vulkan device(s)\n", n);
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceDriverProperties drv = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES };
		VkPhysicalDeviceProperties2 p = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &drv };
		vkGetPhysicalDeviceProperties2(pd[i], &p);
		uint32_t nq = 0, bits = 0;
		vkGetPhysicalDeviceQueueFamilyProperties(pd[i], &nq, NULL);
		VkQueueFamilyProperties q[LIST_MAX];
		if (nq > LIST_MAX)
			nq = LIST_MAX;
		vkGetPhysicalDeviceQueueFamilyProperties(pd[i], &nq, q);
		for (uint32_t k = 0; k < nq; k++)
			if (q[k].queueFlags & VK_QUEUE_GRAPHICS_BIT) {
				bits = q[k].timestampValidBits;
				break;
			}
		uint32_t a = p.properties.apiVersion;
		printf("GPU%u: %s, %s, vendor 0x%04x, Vulkan %u.%u.%u, driver %s %s, timestamp period %.3f ns, "
		       "%u valid bits\n",
		       i, p.properties.deviceName, type_name(p.properties.deviceType), p.properties.vendorID,
		       VK_API_VERSION_MAJOR(a), VK_API_VERSION_MINOR(a), VK_API_VERSION_PATCH(a), drv.driverName,
		       drv.driverInfo, p.properties.limits.timestampPeriod, bits);
	}
	vkDestroyInstance(inst, NULL);
	return 0;
}

/* ---- the scene ----------------------------------------------------------- */

/* The two eyes: at (+-IPD / 2, EYE_HEIGHT, 0), looking down -z. */
static void eye_views(struct gfx_view v[EYES])
{
	const float q[4] = { 0, 0, 0, 1 }, rad = 3.14159265f / 180.0f;
	for (unsigned e = 0; e < EYES; e++) {
		float pos[3] = { e ? IPD / 2 : -IPD / 2, EYE_HEIGHT, 0 };
		gfx_mat4_view_from_pose(v[e].view, pos, q);
		float l = e ? -FOV_IN : -FOV_OUT, r = e ? FOV_OUT : FOV_IN;
		gfx_mat4_perspective_fov(v[e].proj, l * rad, r * rad, FOV_UP * rad, -FOV_DOWN * rad, NEAR_M, FAR_M);
		memcpy(v[e].eye, pos, sizeof(pos));
	}
}

/* ---- targets and readback ------------------------------------------------ */

struct targets {
	struct gfx_image color[EYES];
	struct gfx_buffer readback; /* one eye's pixels */
};

static void targets_init(struct gfx_vk *vk, struct targets *t)
{
	VkExtent2D ext = { EYE_W, EYE_H };
	for (unsigned e = 0; e < EYES; e++) {
		int r = gfx_image_create(vk, ext, VK_FORMAT_R8G8B8A8_SRGB,
					 VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
					 VK_IMAGE_ASPECT_COLOR_BIT, &t->color[e]);
		if (r)
			gb_die("gfx_image_create (colour)", r);
	}
	int r = gfx_buffer_create(vk, (VkDeviceSize)EYE_W * EYE_H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true,
				  &t->readback);
	if (r)
		gb_die("gfx_buffer_create (readback)", r);
}

static void targets_fini(struct gfx_vk *vk, struct targets *t)
{
	for (unsigned e = 0; e < EYES; e++)
		gfx_image_destroy(vk, &t->color[e]);
	gfx_buffer_destroy(vk, &t->readback);
}

/* Records the copy of eye 0 (in TRANSFER_SRC_OPTIMAL) to the readback buffer. */
static void record_readback(const struct targets *t, VkCommandBuffer cmd)
{
	VkBufferImageCopy c = { .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
				.imageExtent = { EYE_W, EYE_H, 1 } };
	vkCmdCopyImageToBuffer(cmd, t->color[0].image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, t->readback.buf, 1, &c);
	VkMemoryBarrier2 mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
				.srcStageMask = VK_PIPELINE_STAGE_2_COPY_BIT,
				.srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
				.dstStageMask = VK_PIPELINE_STAGE_2_HOST_BIT,
				.dstAccessMask = VK_ACCESS_2_HOST_READ_BIT };
	VkDependencyInfo dep = { .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .memoryBarrierCount = 1,
				 .pMemoryBarriers = &mb };
	vkCmdPipelineBarrier2(cmd, &dep);
}

static uint8_t srgb8(float c)
{
	float s = c <= 0.0031308f ? c * 12.92f : 1.055f * powf(c, 1 / 2.4f) - 0.055f;
	return (uint8_t)lrintf(s * 255.0f);
}

/* The fraction of eye 0's pixels that are not the clear colour (+-1). */
static double coverage(const struct targets *t)
{
	const uint8_t *px = t->readback.map;
	uint8_t c[3] = { srgb8(clear_linear[0]), srgb8(clear_linear[1]), srgb8(clear_linear[2]) };
	uint64_t covered = 0, n = (uint64_t)EYE_W * EYE_H;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = px + i * 4;
		if (abs(p[0] - c[0]) > 1 || abs(p[1] - c[1]) > 1 || abs(p[2] - c[2]) > 1)
			covered++;
	}
	return (double)covered / (double)n;
}

/* ---- the bare baseline ----------------------------------------------------- */

struct bare {
	struct gfx_vk *vk;
	VkPipelineLayout layout;
	VkPipeline pipe;
	VkFormat depth_format;
	struct gfx_image depth[EYES];
	struct gfx_buffer vb, ib;
	uint32_t nindex;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkFence fence;
	struct gb_timer timer;
};

static VkShaderModule shader(VkDevice dev, const uint32_t *code, size_t size)
{
	VkShaderModuleCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = size,
					.pCode = code };
	VkShaderModule m;
	gb_vk_ok(vkCreateShaderModule(dev, &ci, NULL, &m), "vkCreateShaderModule");
	return m;
}

static void bare_pipeline(struct bare *b)
{
	VkDevice dev = b->vk->device;
	VkPushConstantRange pc = { VK_SHADER_STAGE_VERTEX_BIT, 0, 64 };
	VkPipelineLayoutCreateInfo lci = { .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					   .pushConstantRangeCount = 1, .pPushConstantRanges = &pc };
	gb_vk_ok(vkCreatePipelineLayout(dev, &lci, NULL, &b->layout), "vkCreatePipelineLayout");
	VkShaderModule vs = shader(dev, bench_spv_base_vert, sizeof(bench_spv_base_vert));
	VkShaderModule fs = shader(dev, bench_spv_base_frag, sizeof(bench_spv_base_frag));
	VkPipelineShaderStageCreateInfo st[2] = {
		{ .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_VERTEX_BIT,
		  .module = vs, .pName = "main" },
		{ .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
		  .module = fs, .pName = "main" },
	};
	VkVertexInputBindingDescription bind = { 0, sizeof(struct gfx_vertex), VK_VERTEX_INPUT_RATE_VERTEX };
	VkVertexInputAttributeDescription attr[2] = {
		{ 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct gfx_vertex, pos) },
		{ 1, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct gfx_vertex, normal) },
	};
	VkPipelineVertexInputStateCreateInfo vi = { .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
						    .vertexBindingDescriptionCount = 1,
						    .pVertexBindingDescriptions = &bind,
						    .vertexAttributeDescriptionCount = 2,
						    .pVertexAttributeDescriptions = attr };
	VkPipelineInputAssemblyStateCreateInfo ia = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
		.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST
	};
	VkPipelineViewportStateCreateInfo vp = { .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
						 .viewportCount = 1, .scissorCount = 1 };
	VkPipelineRasterizationStateCreateInfo rs = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
		.polygonMode = VK_POLYGON_MODE_FILL, .cullMode = VK_CULL_MODE_NONE,
		.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE, .lineWidth = 1.0f
	};
	VkPipelineMultisampleStateCreateInfo ms = { .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
						    .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT };
	VkPipelineDepthStencilStateCreateInfo ds = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO,
		.depthTestEnable = VK_TRUE, .depthWriteEnable = VK_TRUE, .depthCompareOp = VK_COMPARE_OP_LESS
	};
	VkPipelineColorBlendAttachmentState att = { .colorWriteMask = 0xf };
	VkPipelineColorBlendStateCreateInfo cb = { .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
						   .attachmentCount = 1, .pAttachments = &att };
	VkDynamicState dyn[2] = { VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR };
	VkPipelineDynamicStateCreateInfo dy = { .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
						.dynamicStateCount = 2, .pDynamicStates = dyn };
	VkFormat color = VK_FORMAT_R8G8B8A8_SRGB;
	VkPipelineRenderingCreateInfo ri = { .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
					     .colorAttachmentCount = 1, .pColorAttachmentFormats = &color,
					     .depthAttachmentFormat = b->depth_format };
	VkGraphicsPipelineCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO, .pNext = &ri,
					    .stageCount = 2, .pStages = st, .pVertexInputState = &vi,
					    .pInputAssemblyState = &ia, .pViewportState = &vp,
					    .pRasterizationState = &rs, .pMultisampleState = &ms,
					    .pDepthStencilState = &ds, .pColorBlendState = &cb,
					    .pDynamicState = &dy, .layout = b->layout };
	gb_vk_ok(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &ci, NULL, &b->pipe), "vkCreateGraphicsPipelines");
	vkDestroyShaderModule(dev, vs, NULL);
	vkDestroyShaderModule(dev, fs, NULL);
}

/* A device-local buffer holding bytes, through a staging copy. */
static void upload(struct gfx_vk *vk, struct gfx_buffer *dst, const void *bytes, VkDeviceSize size,
		   VkBufferUsageFlags usage)
{
	struct gfx_buffer stage;
	int r = gfx_buffer_create(vk, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true, &stage);
	if (!r)
		r = gfx_buffer_create(vk, size, usage | VK_BUFFER_USAGE_TRANSFER_DST_BIT, false, dst);
	if (r)
		gb_die("gfx_buffer_create (mesh)", r);
	memcpy(stage.map, bytes, size);
	VkCommandBuffer cmd;
	r = gfx_vk_oneshot_begin(vk, &cmd);
	if (r)
		gb_die("gfx_vk_oneshot_begin", r);
	VkBufferCopy c = { 0, 0, size };
	vkCmdCopyBuffer(cmd, stage.buf, dst->buf, 1, &c);
	r = gfx_vk_oneshot_end(vk, cmd);
	if (r)
		gb_die("gfx_vk_oneshot_end", r);
	gfx_buffer_destroy(vk, &stage);
}

static void bare_init(struct bare *b, struct gfx_vk *vk)
{
	memset(b, 0, sizeof(*b));
	b->vk = vk;
	b->depth_format = gfx_vk_depth_format(vk);
	if (b->depth_format == VK_FORMAT_UNDEFINED)
		gb_die("a depth format", -ENOTSUP);
	for (unsigned e = 0; e < EYES; e++) {
		int r = gfx_image_create(vk, (VkExtent2D){ EYE_W, EYE_H }, b->depth_format,
					 VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, VK_IMAGE_ASPECT_DEPTH_BIT,
					 &b->depth[e]);
		if (r)
			gb_die("gfx_image_create (depth)", r);
	}
	bare_pipeline(b);
	VkCommandPoolCreateInfo pci = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
					.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
					.queueFamilyIndex = vk->queue_family };
	gb_vk_ok(vkCreateCommandPool(vk->device, &pci, NULL, &b->pool), "vkCreateCommandPool");
	VkCommandBufferAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					   .commandPool = b->pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
					   .commandBufferCount = 1 };
	gb_vk_ok(vkAllocateCommandBuffers(vk->device, &ai, &b->cmd), "vkAllocateCommandBuffers");
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	gb_vk_ok(vkCreateFence(vk->device, &fci, NULL, &b->fence), "vkCreateFence");
	gb_timer_init(vk, &b->timer);
}

/* The mesh's triangles as gfx_mesh made them, into the baseline's buffers. */
static void bare_mesh(struct bare *b, const struct gfx_mesh *g)
{
	gfx_buffer_destroy(b->vk, &b->vb);
	gfx_buffer_destroy(b->vk, &b->ib);
	upload(b->vk, &b->vb, g->v, (VkDeviceSize)g->nv * sizeof(*g->v), VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);
	upload(b->vk, &b->ib, g->index, (VkDeviceSize)g->nindex * sizeof(*g->index),
	       VK_BUFFER_USAGE_INDEX_BUFFER_BIT);
	b->nindex = g->nindex;
}

static void bare_fini(struct bare *b)
{
	VkDevice dev = b->vk->device;
	vkDeviceWaitIdle(dev);
	gb_timer_fini(b->vk, &b->timer);
	vkDestroyFence(dev, b->fence, NULL);
	vkDestroyCommandPool(dev, b->pool, NULL);
	vkDestroyPipeline(dev, b->pipe, NULL);
	vkDestroyPipelineLayout(dev, b->layout, NULL);
	for (unsigned e = 0; e < EYES; e++)
		gfx_image_destroy(b->vk, &b->depth[e]);
	gfx_buffer_destroy(b->vk, &b->vb);
	gfx_buffer_destroy(b->vk, &b->ib);
}

/* One stereo frame; returns its GPU time (ns). readback: eye 0 ends in
 * TRANSFER_SRC_OPTIMAL and is copied to t->readback. draw false: the
 * clears alone (the floor of any frame at this size). */
static uint64_t bare_frame(struct bare *b, struct targets *t, const struct gfx_view v[EYES], bool readback,
			   bool draw)
{
	VkCommandBuffer cmd = b->cmd;
	gb_vk_ok(vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer");
	VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
					.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
	gb_vk_ok(vkBeginCommandBuffer(cmd, &bi), "vkBeginCommandBuffer");
	gb_timer_begin(&b->timer, cmd);
	for (unsigned e = 0; e < EYES; e++) {
		gfx_cmd_image_barrier(cmd, t->color[e].image, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_UNDEFINED,
				      VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
				      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_2_COPY_BIT, 0,
				      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
				      VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT);
		VkPipelineStageFlags2 zs =
			VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT;
		gfx_cmd_image_barrier(cmd, b->depth[e].image, VK_IMAGE_ASPECT_DEPTH_BIT, VK_IMAGE_LAYOUT_UNDEFINED,
				      VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, zs,
				      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT, zs,
				      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT |
					      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT);
		VkRenderingAttachmentInfo ca = { .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
						 .imageView = t->color[e].view,
						 .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
						 .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
						 .storeOp = VK_ATTACHMENT_STORE_OP_STORE };
		memcpy(ca.clearValue.color.float32, clear_linear, sizeof(clear_linear));
		VkRenderingAttachmentInfo da = { .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
						 .imageView = b->depth[e].view,
						 .imageLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
						 .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
						 .storeOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
						 .clearValue.depthStencil = { 1.0f, 0 } };
		VkRenderingInfo ri = { .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
				       .renderArea = { { 0, 0 }, { EYE_W, EYE_H } }, .layerCount = 1,
				       .colorAttachmentCount = 1, .pColorAttachments = &ca, .pDepthAttachment = &da };
		vkCmdBeginRendering(cmd, &ri);
		if (!draw) {
			vkCmdEndRendering(cmd);
			continue;
		}
		vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, b->pipe);
		VkViewport vpt = { 0, 0, (float)EYE_W, (float)EYE_H, 0, 1 };
		VkRect2D sc = { { 0, 0 }, { EYE_W, EYE_H } };
		vkCmdSetViewport(cmd, 0, 1, &vpt);
		vkCmdSetScissor(cmd, 0, 1, &sc);
		float mvp[16];
		gfx_mat4_mul(mvp, v[e].proj, v[e].view);
		vkCmdPushConstants(cmd, b->layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(mvp), mvp);
		VkDeviceSize off = 0;
		vkCmdBindVertexBuffers(cmd, 0, 1, &b->vb.buf, &off);
		vkCmdBindIndexBuffer(cmd, b->ib.buf, 0, VK_INDEX_TYPE_UINT32);
		vkCmdDrawIndexed(cmd, b->nindex, 1, 0, 0, 0);
		vkCmdEndRendering(cmd);
	}
	if (readback) {
		gfx_cmd_image_barrier(cmd, t->color[0].image, VK_IMAGE_ASPECT_COLOR_BIT,
				      VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
				      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
				      VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_2_COPY_BIT,
				      VK_ACCESS_2_TRANSFER_READ_BIT);
		record_readback(t, cmd);
	}
	gb_timer_end(&b->timer, cmd);
	gb_vk_ok(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
	VkCommandBufferSubmitInfo cs = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, .commandBuffer = cmd };
	VkSubmitInfo2 si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2, .commandBufferInfoCount = 1,
			     .pCommandBufferInfos = &cs };
	gb_vk_ok(vkQueueSubmit2(b->vk->queue, 1, &si, b->fence), "vkQueueSubmit2");
	gb_vk_ok(vkWaitForFences(b->vk->device, 1, &b->fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
	gb_vk_ok(vkResetFences(b->vk->device, 1, &b->fence), "vkResetFences");
	return gb_timer_read(b->vk, &b->timer);
}

/* ---- the renderer ---------------------------------------------------------- */

struct proj {
	struct gfx_vk *vk;
	struct gfx_draw *d;
	struct gfx_list list;
	struct gfx_inst inst;
	struct gb_timer timer;
};

static void proj_init(struct proj *p, struct gfx_vk *vk)
{
	memset(p, 0, sizeof(*p));
	p->vk = vk;
	p->d = gb_draw_create(vk);
	gb_timer_init(vk, &p->timer);
	p->list.inst = &p->inst;
	p->list.ninst = p->list.cap_inst = 1;
	const float grey[4] = { 0.8f, 0.8f, 0.8f, 1.0f };
	memcpy(p->list.material[LIST_MATERIAL], grey, sizeof(grey));
	p->list.roughness[LIST_MATERIAL] = 1.0f;
	memcpy(p->list.clear, clear_linear, sizeof(clear_linear));
}

static void proj_mesh(struct proj *p, const struct th_mesh *m)
{
	p->inst = (struct gfx_inst){ .entity = m->id, .mesh_key = m->id, .mesh = m, .material = LIST_MATERIAL };
	gfx_mat4_identity(p->inst.model);
	struct th_mesh_stats s;
	th_mesh_stats(m, &s);
	p->list.triangles = (uint64_t)s.faces * 2;
}

static void proj_fini(struct proj *p)
{
	gfx_draw_destroy(&p->d);
	gb_timer_fini(p->vk, &p->timer);
}

static uint64_t proj_frame(struct proj *p, struct targets *t, const struct gfx_view v[EYES], bool readback)
{
	VkCommandBuffer cmd;
	int r = gfx_draw_begin(p->d, &cmd);
	if (r)
		gb_die("gfx_draw_begin", r);
	gb_timer_begin(&p->timer, cmd);
	r = gfx_draw_prepare(p->d, cmd, &p->list);
	if (r)
		gb_die("gfx_draw_prepare", r);
	for (unsigned e = 0; e < EYES; e++) {
		struct gfx_target tg = { .image = t->color[e].image, .view = t->color[e].view,
					 .extent = { EYE_W, EYE_H }, .format = VK_FORMAT_R8G8B8A8_SRGB,
					 .initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
					 .final_layout = readback && e == 0 ? VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL
									    : VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
		r = gfx_draw_record(p->d, cmd, &p->list, &tg, &v[e], e);
		if (r)
			gb_die("gfx_draw_record", r);
	}
	if (readback)
		record_readback(t, cmd);
	gb_timer_end(&p->timer, cmd);
	r = gfx_draw_submit(p->d, cmd, VK_NULL_HANDLE, VK_PIPELINE_STAGE_2_NONE, VK_NULL_HANDLE);
	if (r)
		gb_die("gfx_draw_submit", r);
	VkFence f = gfx_draw_last_fence(p->d);
	gb_vk_ok(vkWaitForFences(p->vk->device, 1, &f, VK_TRUE, UINT64_MAX), "vkWaitForFences");
	return gb_timer_read(p->vk, &p->timer);
}

/* ---- the run ------------------------------------------------------------- */

struct plan {
	unsigned rounds, warmup, frames;
	bool renderer;
};

struct result {
	double clear_ms, base_ms, proj_ms, base_min_ms, proj_min_ms, base_cover, proj_cover;
};

static void measure(struct bare *b, struct proj *p, struct targets *t, const struct plan *pl, const char *label,
		    struct result *res)
{
	struct gfx_view v[EYES];
	eye_views(v);
	/* One frame each, read back: the same pixels drawn. */
	bare_frame(b, t, v, true, true);
	res->base_cover = coverage(t);
	if (pl->renderer) {
		proj_frame(p, t, v, true);
		res->proj_cover = coverage(t);
	}
	printf("%s: pixels covered: baseline %.4f, renderer %.4f\n", label, res->base_cover,
	       pl->renderer ? res->proj_cover : 0.0);
	if (res->base_cover < COVER_MIN ||
	    (pl->renderer && (res->proj_cover < COVER_MIN || fabs(res->proj_cover - res->base_cover) > COVER_DIFF))) {
		fprintf(stderr, "bench_gfx_gpu: %s: the pipelines do not draw the wall alike (covered %.4f / %.4f)\n",
			label, res->base_cover, res->proj_cover);
		exit(1);
	}
	unsigned n = pl->rounds * pl->frames;
	uint64_t *bs = calloc(n, sizeof(*bs)), *ps = calloc(n, sizeof(*ps)), *cs = calloc(n, sizeof(*cs));
	if (!bs || !ps || !cs)
		gb_die("calloc", -ENOMEM);
	for (unsigned r = 0; r < pl->rounds; r++) {
		for (unsigned i = 0; i < pl->warmup + pl->frames; i++) {
			uint64_t ns = bare_frame(b, t, v, false, false);
			if (i >= pl->warmup)
				cs[r * pl->frames + i - pl->warmup] = ns;
		}
		for (unsigned i = 0; i < pl->warmup + pl->frames; i++) {
			uint64_t ns = bare_frame(b, t, v, false, true);
			if (i >= pl->warmup)
				bs[r * pl->frames + i - pl->warmup] = ns;
		}
		for (unsigned i = 0; pl->renderer && i < pl->warmup + pl->frames; i++) {
			uint64_t ns = proj_frame(p, t, v, false);
			if (i >= pl->warmup)
				ps[r * pl->frames + i - pl->warmup] = ns;
		}
	}
	res->clear_ms = th_bench_median_ms(cs, n);
	res->base_ms = th_bench_median_ms(bs, n);
	res->base_min_ms = (double)bs[0] / 1e6;
	if (pl->renderer) {
		res->proj_ms = th_bench_median_ms(ps, n);
		res->proj_min_ms = (double)ps[0] / 1e6;
	}
	free(bs);
	free(ps);
	free(cs);
}

int main(int argc, char **argv)
{
	bool renderer = true;
	gb_prog = "bench_gfx_gpu";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--devices"))
			return list_devices();
		if (!strcmp(argv[i], "--baseline-only"))
			renderer = false;
		else {
			fprintf(stderr, "usage: bench_gfx_gpu [--devices] [--baseline-only]\n");
			return 2;
		}
	}
	struct gfx_vk *vk = gb_context();
	bool cpu = gb_cpu_device(vk);
	const char *dev = gb_device_tag(vk);
	struct plan pl = { .rounds = gb_env_count("THETA_BENCH_GPU_ROUNDS", cpu ? CPU_ROUNDS : GPU_ROUNDS, ROUNDS_MAX),
			   .warmup = cpu ? CPU_WARMUP : GPU_WARMUP,
			   .frames = gb_env_count("THETA_BENCH_GPU_FRAMES", cpu ? CPU_FRAMES : GPU_FRAMES, FRAMES_MAX),
			   .renderer = renderer };
	printf("device: %s (%s, figures gfx.stereo.%s.*), %u x %u per eye, %u round(s) of %u + %u frames%s%s\n",
	       vk->props.deviceName, type_name(vk->props.deviceType), dev, EYE_W, EYE_H, pl.rounds, pl.warmup,
	       pl.frames, vk->validation ? ", validation ON (not comparable)" : "",
	       renderer ? "" : ", baseline only");
	struct targets t;
	targets_init(vk, &t);
	struct bare b;
	bare_init(&b, vk);
	struct proj p;
	if (renderer)
		proj_init(&p, vk);
	static const struct {
		unsigned grid;
		const char *tag;
	} sizes[] = { { GRID_100K, "100k" }, { GRID_1M, "1m" } };
	struct result res[2] = { 0 };
	/* Both meshes live until the renderer is gone: its cache keeps the
	 * first one's GPU copy (and the pointer it saw) after the second
	 * replaced it in the list. */
	struct th_mesh m[2];
	for (unsigned s = 0; s < 2; s++) {
		uint64_t t0 = th_now_ns();
		struct gb_wall wall = { .n = sizes[s].grid, .half = WALL_HALF, .center = { 0, EYE_HEIGHT, WALL_Z },
					.ripple = WALL_RIPPLE, .waves = WALL_WAVES };
		gb_wall_build(&m[s], MESH_ID_BASE + s, &wall);
		struct gfx_mesh g;
		gfx_mesh_init(&g, m[s].id);
		int r = gfx_mesh_update(&g, &m[s], false);
		if (r < 0)
			gb_die("gfx_mesh_update", r);
		bare_mesh(&b, &g);
		printf("%s: %u triangles (%u vertices), built in %.0f ms\n", sizes[s].tag, g.nindex / 3, g.nv,
		       (double)(th_now_ns() - t0) / 1e6);
		gfx_mesh_fini(&g);
		if (renderer)
			proj_mesh(&p, &m[s]);
		measure(&b, &p, &t, &pl, sizes[s].tag, &res[s]);
		char name[96];
		if (s == 0) {
			snprintf(name, sizeof(name), "gfx.stereo.%s.clear_only_ms", dev);
			th_bench_figure(name, res[s].clear_ms, "ms");
		}
		snprintf(name, sizeof(name), "gfx.stereo.%s.baseline_%s_ms", dev, sizes[s].tag);
		th_bench_figure(name, res[s].base_ms, "ms");
		if (renderer) {
			snprintf(name, sizeof(name), "gfx.stereo.%s.renderer_%s_ms", dev, sizes[s].tag);
			th_bench_figure(name, res[s].proj_ms, "ms");
			double ratio = res[s].proj_ms / res[s].base_ms;
			snprintf(name, sizeof(name), "gfx.stereo.%s.renderer_%s_vs_baseline", dev, sizes[s].tag);
			if (cpu)
				th_bench_figure(name, ratio, "x");
			else
				th_bench_figure_goal(name, ratio, "x", "<= 1.2", ratio <= GOAL_RATIO);
		}
	}
	printf("\nstereo frame 2 x %u x %u on %s, GPU time (median of %u frames; min):\n", EYE_W, EYE_H,
	       vk->props.deviceName, pl.rounds * pl.frames);
	printf("  clears alone %.3f ms\n", res[0].clear_ms);
	for (unsigned s = 0; s < 2; s++) {
		printf("  %-5s baseline %8.3f ms (%.3f)", sizes[s].tag, res[s].base_ms, res[s].base_min_ms);
		if (renderer)
			printf("   renderer %8.3f ms (%.3f)   ratio %.2f (goal <= %.1f)", res[s].proj_ms,
			       res[s].proj_min_ms, res[s].proj_ms / res[s].base_ms, GOAL_RATIO);
		printf("\n");
	}
	if (renderer)
		proj_fini(&p);
	bare_fini(&b);
	targets_fini(vk, &t);
	for (unsigned s = 0; s < 2; s++)
		th_mesh_fini(&m[s]);
	gb_context_end(&vk);
	return 0;
}
