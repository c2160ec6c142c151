/* tests/xrt/: the OpenXR test runtime through the real Khronos loader
 * (libopenxr_loader 1.0.20 reading XR_RUNTIME_JSON), with Vulkan on
 * lavapipe under the Khronos validation layer (any message fails), without
 * the theta client: instance, system, views, XR_KHR_vulkan_enable2, a
 * session to FOCUSED, frames, captures, the scripted exit and loss, the
 * refusals a client can cause, and the record. */
#define XR_USE_GRAPHICS_API_VULKAN 1
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <vulkan/vulkan.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include "gfx/gfx_png.h"
#include "th_harness.h"
#include "th_xrt.h"
#include "th_xrtvk.h"

#define XT_FRAMES_MAX 200   /* a session that never stops fails after this many */
#define XT_STATES_MAX 64
#define XT_W 320u
#define XT_H 180u
#define XT_PERIOD_NS 11111111ll
#define XT_SRGB_RED_LEFT 0

static char xt_dir[80];
static char xt_record[160];
static char xt_so[PATH_MAX];

static int xt_setup(void **state)
{
	if (th_tmpdir_setup(state))
		return -1;
	struct th_tmpdir *t = *state;
	snprintf(xt_dir, sizeof xt_dir, "%s", t->path);
	snprintf(xt_record, sizeof xt_record, "%s/record", t->path);
	if (th_xrt_env(xt_record)) {
		fprintf(stderr, "test_xrt: tests/xrt/theta_xrt.json is missing from the build: build it with make (it is "
				"part of make test)\n");
		return -1;
	}
	if (th_xrt_path("libtheta_xrt.so", xt_so, sizeof xt_so))
		return -1;
	return 0;
}

static bool xt_has_line(const char *rec, const char *prefix) { return th_xrt_lines(rec, prefix) > 0; }

#define XT_RECORD_SHOWN 3000 /* the tail of the record a failure prints */

/* Fails with the record's tail when no line starts with prefix. */
#define xt_assert_line(rec, prefix)                                                                          \
	do {                                                                                                 \
		if (!xt_has_line(rec, prefix)) {                                                             \
			size_t len_ = strlen(rec);                                                           \
			fprintf(stderr, "the record ends:\n%s\n",                                             \
				(rec) + (len_ > XT_RECORD_SHOWN ? len_ - XT_RECORD_SHOWN : 0));                \
			fail_msg("the record has no line starting '%s'", prefix);                           \
		}                                                                                            \
	} while (0)

/* ---- OpenXR + Vulkan for one test ---- */

struct xt {
	XrInstance inst;
	XrSystemId sys;
	PFN_xrGetVulkanGraphicsRequirements2KHR reqs;
	struct th_xrtvk vk;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkFence fence;
	XrSession session;
	XrSpace space;
	XrSwapchain sc[2];
	VkImage img[2][4];
	uint32_t nimg;
	XrSessionState states[XT_STATES_MAX];
	unsigned nstates;
	XrSessionState state;
	bool running;
	XrTime displays[XT_FRAMES_MAX];
	XrView views[XT_FRAMES_MAX][2];
	unsigned frames;
};

static XrResult xt_create_instance(XrInstance *out, const char *ext)
{
	XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO};
	snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "test xrt");
	ci.applicationInfo.apiVersion = XR_CURRENT_API_VERSION;
	const char *exts[] = {ext};
	ci.enabledExtensionCount = ext ? 1 : 0;
	ci.enabledExtensionNames = exts;
	return xrCreateInstance(&ci, out);
}

static void xt_open(struct xt *x)
{
	memset(x, 0, sizeof *x);
	assert_int_equal(xt_create_instance(&x->inst, XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME), XR_SUCCESS);
	XrSystemGetInfo gi = {.type = XR_TYPE_SYSTEM_GET_INFO, .formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
	assert_int_equal(xrGetSystem(x->inst, &gi, &x->sys), XR_SUCCESS);
	assert_int_equal(xrGetInstanceProcAddr(x->inst, "xrGetVulkanGraphicsRequirements2KHR",
					       (PFN_xrVoidFunction *)&x->reqs),
			 XR_SUCCESS);
}

static void xt_vulkan(struct xt *x)
{
	XrGraphicsRequirementsVulkan2KHR req = {.type = XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN2_KHR};
	assert_int_equal(x->reqs(x->inst, x->sys, &req), XR_SUCCESS);
	assert_true(req.minApiVersionSupported <= XR_MAKE_VERSION(1, 3, 0));
	assert_true(req.maxApiVersionSupported >= XR_MAKE_VERSION(1, 3, 0));
	char why[200];
	if (th_xrtvk_open(x->inst, x->sys, &x->vk, why, sizeof why))
		fail_msg("%s", why);
	assert_non_null(x->vk.pd);
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = x->vk.qfam,
	};
	assert_int_equal(vkCreateCommandPool(x->vk.dev, &pci, NULL, &x->pool), VK_SUCCESS);
	VkCommandBufferAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = x->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	assert_int_equal(vkAllocateCommandBuffers(x->vk.dev, &ai, &x->cmd), VK_SUCCESS);
	VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	assert_int_equal(vkCreateFence(x->vk.dev, &fci, NULL, &x->fence), VK_SUCCESS);
}

/* The Vulkan context goes (after its session): no validation message came. */
static void xt_vulkan_close(struct xt *x)
{
	if (x->vk.dev) {
		vkDestroyFence(x->vk.dev, x->fence, NULL);
		vkDestroyCommandPool(x->vk.dev, x->pool, NULL);
	}
	th_xrtvk_close(&x->vk); /* x->vk.vi and .dev are null after */
	assert_int_equal(x->vk.messages, 0);
}

static XrResult xt_create_session(struct xt *x)
{
	XrGraphicsBindingVulkan2KHR gb = th_xrtvk_binding(&x->vk);
	XrSessionCreateInfo sci = {.type = XR_TYPE_SESSION_CREATE_INFO, .next = &gb, .systemId = x->sys};
	return xrCreateSession(x->inst, &sci, &x->session);
}

/* Drains the events; returns the last state. */
static XrSessionState xt_poll(struct xt *x)
{
	for (;;) {
		XrEventDataBuffer ev = {.type = XR_TYPE_EVENT_DATA_BUFFER};
		XrResult r = xrPollEvent(x->inst, &ev);
		if (r == XR_EVENT_UNAVAILABLE)
			break;
		assert_int_equal(r, XR_SUCCESS);
		assert_int_equal(ev.type, XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED);
		XrEventDataSessionStateChanged *sc = (XrEventDataSessionStateChanged *)&ev;
		assert_ptr_equal(sc->session, x->session);
		assert_true(x->nstates < XT_STATES_MAX);
		x->states[x->nstates++] = sc->state;
		x->state = sc->state;
	}
	return x->state;
}

static XrResult xt_create_swapchain(struct xt *x, XrSwapchain *out, int64_t format, uint32_t w, uint32_t h,
				    uint32_t array)
{
	XrSwapchainCreateInfo ci = {
		.type = XR_TYPE_SWAPCHAIN_CREATE_INFO,
		.usageFlags = XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT | XR_SWAPCHAIN_USAGE_TRANSFER_DST_BIT,
		.format = format,
		.sampleCount = 1,
		.width = w,
		.height = h,
		.faceCount = 1,
		.arraySize = array,
		.mipCount = 1,
	};
	return xrCreateSwapchain(x->session, &ci, out);
}

/* A new session running with a STAGE (or LOCAL) space and a 320 x 180
 * swapchain per eye in the first format offered. */
static void xt_begin(struct xt *x, XrReferenceSpaceType space)
{
	assert_int_equal(xt_create_session(x), XR_SUCCESS);
	assert_int_equal(xt_poll(x), XR_SESSION_STATE_READY);
	XrSessionBeginInfo bi = {
		.type = XR_TYPE_SESSION_BEGIN_INFO,
		.primaryViewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
	};
	assert_int_equal(xrBeginSession(x->session, &bi), XR_SUCCESS);
	x->running = true;
	XrReferenceSpaceCreateInfo rci = {
		.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
		.referenceSpaceType = space,
		.poseInReferenceSpace = {{0, 0, 0, 1}, {0, 0, 0}},
	};
	assert_int_equal(xrCreateReferenceSpace(x->session, &rci, &x->space), XR_SUCCESS);
	int64_t formats[16];
	uint32_t n = 0;
	assert_int_equal(xrEnumerateSwapchainFormats(x->session, 16, &n, formats), XR_SUCCESS);
	assert_true(n >= 1);
	assert_int_equal(formats[0], VK_FORMAT_R8G8B8A8_SRGB);
	for (int e = 0; e < 2; e++) {
		assert_int_equal(xt_create_swapchain(x, &x->sc[e], formats[0], XT_W, XT_H, 1), XR_SUCCESS);
		XrSwapchainImageVulkan2KHR imgs[4];
		for (int i = 0; i < 4; i++)
			imgs[i] = (XrSwapchainImageVulkan2KHR){.type = XR_TYPE_SWAPCHAIN_IMAGE_VULKAN2_KHR};
		assert_int_equal(xrEnumerateSwapchainImages(x->sc[e], 0, &x->nimg, NULL), XR_SUCCESS);
		assert_int_equal(x->nimg, 3);
		assert_int_equal(xrEnumerateSwapchainImages(x->sc[e], 4, &x->nimg, (XrSwapchainImageBaseHeader *)imgs),
				 XR_SUCCESS);
		for (uint32_t i = 0; i < x->nimg; i++) {
			assert_non_null(imgs[i].image);
			x->img[e][i] = imgs[i].image;
		}
	}
}

/* Clears image layer to c: COLOR_ATTACHMENT_OPTIMAL in and out, as the
 * extension hands images over. */
static void xt_clear(struct xt *x, VkImage img, uint32_t layer, const float c[4])
{
	VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
				       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
	assert_int_equal(vkBeginCommandBuffer(x->cmd, &bi), VK_SUCCESS);
	VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, layer, 1};
	VkImageMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.oldLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		.newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = img,
		.subresourceRange = range,
	};
	vkCmdPipelineBarrier(x->cmd, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
			     NULL, 0, NULL, 1, &b);
	VkClearColorValue cv = {{c[0], c[1], c[2], c[3]}};
	vkCmdClearColorImage(x->cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &cv, 1, &range);
	b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
	b.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
	b.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
	b.newLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
	vkCmdPipelineBarrier(x->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0, 0,
			     NULL, 0, NULL, 1, &b);
	assert_int_equal(vkEndCommandBuffer(x->cmd), VK_SUCCESS);
	VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &x->cmd};
	assert_int_equal(vkQueueSubmit(x->vk.q, 1, &si, x->fence), VK_SUCCESS);
	assert_int_equal(vkWaitForFences(x->vk.dev, 1, &x->fence, VK_TRUE, UINT64_MAX), VK_SUCCESS);
	assert_int_equal(vkResetFences(x->vk.dev, 1, &x->fence), VK_SUCCESS);
}

static void xt_start(struct xt *x, XrReferenceSpaceType space)
{
	xt_open(x);
	xt_vulkan(x);
	xt_begin(x, space);
}

static void xt_draw_eye(struct xt *x, int e, const float c[4])
{
	uint32_t idx = 99;
	assert_int_equal(xrAcquireSwapchainImage(x->sc[e], NULL, &idx), XR_SUCCESS);
	assert_int_equal(idx, x->frames % x->nimg);
	XrSwapchainImageWaitInfo wi = {.type = XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO, .timeout = XR_INFINITE_DURATION};
	assert_int_equal(xrWaitSwapchainImage(x->sc[e], &wi), XR_SUCCESS);
	xt_clear(x, x->img[e][idx], 0, c);
	assert_int_equal(xrReleaseSwapchainImage(x->sc[e], NULL), XR_SUCCESS);
}

/* Colour of eye e at frame f (1-based): left red, right blue; frames after
 * the first add green, so a capture shows which frame it took. */
static void xt_colour(unsigned f, int e, float c[4])
{
	c[0] = e == 0 ? 1.0f : 0.0f;
	c[1] = f > 1 ? 1.0f : 0.0f;
	c[2] = e == 1 ? 1.0f : 0.0f;
	c[3] = 1.0f;
}

/* One frame: wait, begin, locate, draw both eyes, end with a projection
 * layer (no layer when the runtime says not to render). */
static void xt_frame(struct xt *x)
{
	XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
	assert_int_equal(xrWaitFrame(x->session, NULL, &fs), XR_SUCCESS);
	assert_int_equal(fs.predictedDisplayPeriod, XT_PERIOD_NS);
	assert_int_equal(xrBeginFrame(x->session, NULL), XR_SUCCESS);
	assert_true(x->frames < XT_FRAMES_MAX);
	unsigned f = x->frames;
	x->displays[f] = fs.predictedDisplayTime;
	XrViewLocateInfo li = {
		.type = XR_TYPE_VIEW_LOCATE_INFO,
		.viewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
		.displayTime = fs.predictedDisplayTime,
		.space = x->space,
	};
	XrViewState vs = {.type = XR_TYPE_VIEW_STATE};
	XrView *v = x->views[f];
	v[0] = v[1] = (XrView){.type = XR_TYPE_VIEW};
	uint32_t nv = 0;
	assert_int_equal(xrLocateViews(x->session, &li, &vs, 2, &nv, v), XR_SUCCESS);
	assert_int_equal(nv, 2);
	XrCompositionLayerProjectionView pv[2];
	XrCompositionLayerProjection layer = {
		.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION,
		.space = x->space,
		.viewCount = 2,
		.views = pv,
	};
	const XrCompositionLayerBaseHeader *layers[] = {(const XrCompositionLayerBaseHeader *)&layer};
	if (fs.shouldRender) {
		for (int e = 0; e < 2; e++) {
			float c[4];
			xt_colour(f + 1, e, c);
			xt_draw_eye(x, e, c);
			pv[e] = (XrCompositionLayerProjectionView){
				.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW,
				.pose = v[e].pose,
				.fov = v[e].fov,
				.subImage = {x->sc[e], {{0, 0}, {(int32_t)XT_W, (int32_t)XT_H}}, 0},
			};
		}
	}
	XrFrameEndInfo ei = {
		.type = XR_TYPE_FRAME_END_INFO,
		.displayTime = fs.predictedDisplayTime,
		.environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE,
		.layerCount = fs.shouldRender ? 1 : 0,
		.layers = layers,
	};
	assert_int_equal(xrEndFrame(x->session, &ei), XR_SUCCESS);
	x->frames++;
}

static void xt_close(struct xt *x)
{
	for (int e = 0; e < 2; e++)
		if (x->sc[e])
			assert_int_equal(xrDestroySwapchain(x->sc[e]), XR_SUCCESS);
	if (x->space)
		assert_int_equal(xrDestroySpace(x->space), XR_SUCCESS);
	if (x->session)
		assert_int_equal(xrDestroySession(x->session), XR_SUCCESS);
	xt_vulkan_close(x);
	assert_int_equal(xrDestroyInstance(x->inst), XR_SUCCESS);
}

static void xt_check_png(const char *name, const uint8_t want[4])
{
	char path[200];
	snprintf(path, sizeof path, "%s/%s", xt_dir, name);
	uint8_t *px = NULL;
	uint32_t w = 0, h = 0;
	char why[GFX_PNG_WHY_MAX];
	int rc = gfx_png_read(path, &px, &w, &h, why, sizeof why);
	if (rc)
		fail_msg("%s: %s", path, why);
	assert_int_equal(w, XT_W);
	assert_int_equal(h, XT_H);
	static const uint32_t at[][2] = {{0, 0}, {XT_W - 1, XT_H - 1}, {XT_W / 2, XT_H / 2}};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		const uint8_t *p = px + ((size_t)at[i][1] * w + at[i][0]) * 4;
		if (memcmp(p, want, 4))
			fail_msg("%s (%u, %u): %u,%u,%u,%u, want %u,%u,%u,%u", name, at[i][0], at[i][1], p[0], p[1], p[2],
				 p[3], want[0], want[1], want[2], want[3]);
	}
	free(px);
}

/* ---- the cases ---- */

static const char *const xt_core[] = {
	"xrGetInstanceProcAddr", "xrEnumerateApiLayerProperties", "xrEnumerateInstanceExtensionProperties",
	"xrCreateInstance", "xrDestroyInstance", "xrGetInstanceProperties", "xrPollEvent", "xrResultToString",
	"xrStructureTypeToString", "xrGetSystem", "xrGetSystemProperties", "xrEnumerateEnvironmentBlendModes",
	"xrCreateSession", "xrDestroySession", "xrEnumerateReferenceSpaces", "xrCreateReferenceSpace",
	"xrGetReferenceSpaceBoundsRect", "xrCreateActionSpace", "xrLocateSpace", "xrDestroySpace",
	"xrEnumerateViewConfigurations", "xrGetViewConfigurationProperties", "xrEnumerateViewConfigurationViews",
	"xrEnumerateSwapchainFormats", "xrCreateSwapchain", "xrDestroySwapchain", "xrEnumerateSwapchainImages",
	"xrAcquireSwapchainImage", "xrWaitSwapchainImage", "xrReleaseSwapchainImage", "xrBeginSession",
	"xrEndSession", "xrRequestExitSession", "xrWaitFrame", "xrBeginFrame", "xrEndFrame", "xrLocateViews",
	"xrStringToPath", "xrPathToString", "xrCreateActionSet", "xrDestroyActionSet", "xrCreateAction",
	"xrDestroyAction", "xrSuggestInteractionProfileBindings", "xrAttachSessionActionSets",
	"xrGetCurrentInteractionProfile", "xrGetActionStateBoolean", "xrGetActionStateFloat",
	"xrGetActionStateVector2f", "xrGetActionStatePose", "xrSyncActions", "xrEnumerateBoundSourcesForAction",
	"xrGetInputSourceLocalizedName", "xrApplyHapticFeedback", "xrStopHapticFeedback",
};

/* The loader/runtime interface structures (version 1), as the loader fills them. */
struct xt_loader_info {
	int type;
	uint32_t version;
	size_t size;
	uint32_t min_if, max_if;
	XrVersion min_api, max_api;
};
struct xt_runtime_request {
	int type;
	uint32_t version;
	size_t size;
	uint32_t if_version;
	XrVersion api;
	PFN_xrGetInstanceProcAddr gipa;
};
typedef XrResult (*xt_negotiate_fn)(const struct xt_loader_info *, struct xt_runtime_request *);

/* The 1.0.20 loader calls every core function through its table without a
 * NULL check: the runtime must answer each name. Asked of the library
 * directly. */
static void every_core_function_has_a_pointer(void **state)
{
	void *so = dlopen(xt_so, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(so);
	xt_negotiate_fn neg = (xt_negotiate_fn)dlsym(so, "xrNegotiateLoaderRuntimeInterface");
	assert_non_null(neg);
	assert_null(dlsym(so, "xrCreateInstance")); /* nothing else exported */
	struct xt_loader_info li = {1, 1, sizeof li, 1, 1, XR_MAKE_VERSION(1, 0, 0), XR_MAKE_VERSION(1, 0x3ff, 0xfff)};
	struct xt_runtime_request rr = {3, 1, sizeof rr, 0, 0, NULL};
	struct xt_loader_info bad = li;
	bad.size = sizeof li - 1;
	assert_int_equal(neg(&bad, &rr), XR_ERROR_INITIALIZATION_FAILED);
	bad = li;
	bad.min_if = bad.max_if = 2;
	assert_int_equal(neg(&bad, &rr), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(neg(&li, &rr), XR_SUCCESS);
	assert_int_equal(rr.if_version, 1);
	assert_int_equal(XR_VERSION_MAJOR(rr.api), 1);
	assert_non_null(rr.gipa);

	PFN_xrVoidFunction fn = NULL;
	assert_int_equal(rr.gipa(XR_NULL_HANDLE, "xrCreateInstance", &fn), XR_SUCCESS);
	PFN_xrCreateInstance create = (PFN_xrCreateInstance)fn;
	assert_int_equal(rr.gipa(XR_NULL_HANDLE, "xrGetSystem", &fn), XR_ERROR_HANDLE_INVALID);
	XrInstance inst = XR_NULL_HANDLE;
	XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO};
	snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "direct");
	ci.applicationInfo.apiVersion = XR_CURRENT_API_VERSION;
	assert_int_equal(create(&ci, &inst), XR_SUCCESS);
	for (size_t i = 0; i < sizeof xt_core / sizeof xt_core[0]; i++) {
		fn = NULL;
		XrResult r = rr.gipa(inst, xt_core[i], &fn);
		if (r != XR_SUCCESS || !fn)
			fail_msg("%s: %d, %p", xt_core[i], (int)r, (void *)fn);
	}
	/* Not enabled on this instance: the extension's functions are not there. */
	fn = (PFN_xrVoidFunction)1;
	assert_int_equal(rr.gipa(inst, "xrCreateVulkanInstanceKHR", &fn), XR_ERROR_FUNCTION_UNSUPPORTED);
	assert_null(fn);
	assert_int_equal(rr.gipa(inst, "xrNoSuchFunction", &fn), XR_ERROR_FUNCTION_UNSUPPORTED);
	assert_null(fn);
	/* The input functions check their handles; an action set left alive
	 * is freed with the instance (ASan sees a leak otherwise). */
	assert_int_equal(rr.gipa(inst, "xrSyncActions", &fn), XR_SUCCESS);
	XrActionsSyncInfo si = {.type = XR_TYPE_ACTIONS_SYNC_INFO};
	assert_int_equal(((PFN_xrSyncActions)fn)(XR_NULL_HANDLE, &si), XR_ERROR_HANDLE_INVALID);
	assert_int_equal(rr.gipa(inst, "xrCreateActionSet", &fn), XR_SUCCESS);
	XrActionSetCreateInfo asci = {.type = XR_TYPE_ACTION_SET_CREATE_INFO};
	XrActionSet set;
	assert_int_equal(((PFN_xrCreateActionSet)fn)(inst, &asci, &set), XR_ERROR_PATH_FORMAT_INVALID);
	snprintf(asci.actionSetName, sizeof asci.actionSetName, "direct");
	snprintf(asci.localizedActionSetName, sizeof asci.localizedActionSetName, "Direct");
	assert_int_equal(((PFN_xrCreateActionSet)fn)(inst, &asci, &set), XR_SUCCESS);
	assert_int_equal(rr.gipa(inst, "xrCreateAction", &fn), XR_SUCCESS);
	XrActionCreateInfo aci = {.type = XR_TYPE_ACTION_CREATE_INFO, .actionType = XR_ACTION_TYPE_BOOLEAN_INPUT};
	snprintf(aci.actionName, sizeof aci.actionName, "press");
	snprintf(aci.localizedActionName, sizeof aci.localizedActionName, "Press");
	XrAction act;
	assert_int_equal(((PFN_xrCreateAction)fn)(set, &aci, &act), XR_SUCCESS);
	assert_int_equal(rr.gipa(inst, "xrDestroyAction", &fn), XR_SUCCESS);
	assert_int_equal(((PFN_xrDestroyAction)fn)((XrAction)(uintptr_t)1), XR_ERROR_HANDLE_INVALID);
	assert_int_equal(rr.gipa(inst, "xrDestroyInstance", &fn), XR_SUCCESS);
	assert_int_equal(((PFN_xrDestroyInstance)fn)(inst), XR_SUCCESS);
	assert_int_equal(((PFN_xrDestroyInstance)fn)(inst), XR_ERROR_HANDLE_INVALID);
	dlclose(so);
	char *rec = th_xrt_read(xt_record);
	xt_assert_line(rec, "action_set name=direct priority=0");
	xt_assert_line(rec, "action set=direct name=press type=BOOLEAN_INPUT subactions=0");
	free(rec);
}

static void instance_system_views_and_strings(void **state)
{
	uint32_t n = 0;
	XrExtensionProperties ep[8];
	for (int i = 0; i < 8; i++)
		ep[i] = (XrExtensionProperties){.type = XR_TYPE_EXTENSION_PROPERTIES};
	assert_int_equal(xrEnumerateInstanceExtensionProperties(NULL, 8, &n, ep), XR_SUCCESS);
	bool enable2 = false;
	for (uint32_t i = 0; i < n; i++)
		enable2 |= strcmp(ep[i].extensionName, XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME) == 0;
	assert_true(enable2);
	XrInstance inst;
	/* (the loader refuses this one before the runtime sees it) */
	assert_int_equal(xt_create_instance(&inst, "XR_KHR_no_such_extension"), XR_ERROR_EXTENSION_NOT_PRESENT);

	struct xt x;
	xt_open(&x);
	XrInstanceProperties ip = {.type = XR_TYPE_INSTANCE_PROPERTIES};
	assert_int_equal(xrGetInstanceProperties(x.inst, &ip), XR_SUCCESS);
	assert_string_equal(ip.runtimeName, "Theta test runtime (xrt)");
	XrSystemProperties sp = {.type = XR_TYPE_SYSTEM_PROPERTIES};
	assert_int_equal(xrGetSystemProperties(x.inst, x.sys, &sp), XR_SUCCESS);
	assert_true(sp.trackingProperties.positionTracking);
	assert_int_equal(sp.graphicsProperties.maxLayerCount, 16);
	XrSystemId other;
	XrSystemGetInfo gi = {.type = XR_TYPE_SYSTEM_GET_INFO, .formFactor = XR_FORM_FACTOR_HANDHELD_DISPLAY};
	assert_int_equal(xrGetSystem(x.inst, &gi, &other), XR_ERROR_FORM_FACTOR_UNSUPPORTED);

	XrViewConfigurationType vct[4];
	assert_int_equal(xrEnumerateViewConfigurations(x.inst, x.sys, 4, &n, vct), XR_SUCCESS);
	assert_int_equal(n, 1);
	assert_int_equal(vct[0], XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO);
	XrViewConfigurationView vv[2] = {{.type = XR_TYPE_VIEW_CONFIGURATION_VIEW},
					 {.type = XR_TYPE_VIEW_CONFIGURATION_VIEW}};
	assert_int_equal(xrEnumerateViewConfigurationViews(x.inst, x.sys, vct[0], 0, &n, NULL), XR_SUCCESS);
	assert_int_equal(n, 2);
	assert_int_equal(xrEnumerateViewConfigurationViews(x.inst, x.sys, vct[0], 2, &n, vv), XR_SUCCESS);
	assert_int_equal(vv[0].recommendedImageRectWidth, XT_W);
	assert_int_equal(vv[1].recommendedImageRectHeight, XT_H);
	assert_int_equal(xrEnumerateViewConfigurationViews(x.inst, x.sys, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_MONO, 2,
							   &n, vv),
			 XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED);
	XrEnvironmentBlendMode bm[4];
	assert_int_equal(xrEnumerateEnvironmentBlendModes(x.inst, x.sys, vct[0], 4, &n, bm), XR_SUCCESS);
	assert_int_equal(n, 1);
	assert_int_equal(bm[0], XR_ENVIRONMENT_BLEND_MODE_OPAQUE);

	char buf[XR_MAX_RESULT_STRING_SIZE];
	assert_int_equal(xrResultToString(x.inst, XR_ERROR_CALL_ORDER_INVALID, buf), XR_SUCCESS);
	assert_string_equal(buf, "XR_ERROR_CALL_ORDER_INVALID");
	assert_int_equal(xrResultToString(x.inst, (XrResult)-999999, buf), XR_SUCCESS);
	assert_string_equal(buf, "XR_UNKNOWN_FAILURE_-999999");
	char tbuf[XR_MAX_STRUCTURE_NAME_SIZE];
	assert_int_equal(xrStructureTypeToString(x.inst, XR_TYPE_FRAME_END_INFO, tbuf), XR_SUCCESS);
	assert_string_equal(tbuf, "XR_TYPE_FRAME_END_INFO");

	XrPath p1, p2;
	assert_int_equal(xrStringToPath(x.inst, "/user/hand/left", &p1), XR_SUCCESS);
	assert_int_equal(xrStringToPath(x.inst, "/user/hand/left", &p2), XR_SUCCESS);
	assert_true(p1 == p2 && p1 != XR_NULL_PATH);
	char pbuf[XR_MAX_PATH_LENGTH];
	assert_int_equal(xrPathToString(x.inst, p1, sizeof pbuf, &n, pbuf), XR_SUCCESS);
	assert_string_equal(pbuf, "/user/hand/left");
	assert_int_equal(n, strlen("/user/hand/left") + 1);
	assert_int_equal(xrStringToPath(x.inst, "/user//hand", &p2), XR_ERROR_PATH_FORMAT_INVALID);
	assert_int_equal(xrStringToPath(x.inst, "/User/hand", &p2), XR_ERROR_PATH_FORMAT_INVALID);
	assert_int_equal(xrStringToPath(x.inst, "/user/..", &p2), XR_ERROR_PATH_FORMAT_INVALID);
	assert_int_equal(xrPathToString(x.inst, p1 + 100, sizeof pbuf, &n, pbuf), XR_ERROR_PATH_INVALID);
	assert_int_equal(xrDestroyInstance(x.inst), XR_SUCCESS);

	/* Scripted: another size, and the headset unplugged. */
	setenv("XRT_VIEW_SIZE", "640x360", 1);
	setenv("XRT_NO_HMD", "1", 1);
	assert_int_equal(xt_create_instance(&inst, NULL), XR_SUCCESS);
	gi.formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY;
	assert_int_equal(xrGetSystem(inst, &gi, &other), XR_ERROR_FORM_FACTOR_UNAVAILABLE);
	assert_int_equal(xrDestroyInstance(inst), XR_SUCCESS);
	unsetenv("XRT_NO_HMD");
	assert_int_equal(xt_create_instance(&inst, NULL), XR_SUCCESS);
	assert_int_equal(xrGetSystem(inst, &gi, &other), XR_SUCCESS);
	assert_int_equal(xrEnumerateViewConfigurationViews(inst, other, vct[0], 2, &n, vv), XR_SUCCESS);
	assert_int_equal(vv[0].recommendedImageRectWidth, 640);
	assert_int_equal(vv[0].recommendedImageRectHeight, 360);
	assert_int_equal(xrDestroyInstance(inst), XR_SUCCESS);
	/* A malformed variable: no instance. */
	setenv("XRT_IPD", "wide", 1);
	assert_true(XR_FAILED(xt_create_instance(&inst, NULL)));
	char *rec = th_xrt_read(xt_record);
	xt_assert_line(rec, "error fn=xrGetSystem result=XR_ERROR_FORM_FACTOR_UNAVAILABLE");
	free(rec);
}

static const XrSessionState xt_lifecycle[] = {
	XR_SESSION_STATE_IDLE,    XR_SESSION_STATE_READY,        XR_SESSION_STATE_SYNCHRONIZED,
	XR_SESSION_STATE_VISIBLE, XR_SESSION_STATE_FOCUSED,      XR_SESSION_STATE_VISIBLE,
	XR_SESSION_STATE_SYNCHRONIZED, XR_SESSION_STATE_STOPPING, XR_SESSION_STATE_IDLE,
	XR_SESSION_STATE_EXITING,
};

/* Runs frames until the runtime says STOPPING, ends the session, and
 * checks the whole sequence of states. */
static void xt_run_to_exit(struct xt *x)
{
	while (x->state != XR_SESSION_STATE_STOPPING) {
		xt_poll(x);
		if (x->state == XR_SESSION_STATE_STOPPING)
			break;
		xt_frame(x);
	}
	assert_int_equal(xrEndSession(x->session), XR_SUCCESS);
	assert_int_equal(xt_poll(x), XR_SESSION_STATE_EXITING);
	assert_int_equal(x->nstates, sizeof xt_lifecycle / sizeof xt_lifecycle[0]);
	for (unsigned i = 0; i < x->nstates; i++)
		assert_int_equal(x->states[i], xt_lifecycle[i]);
}

/* The whole path a client takes: to FOCUSED, 90 frames with both eyes
 * drawn, captures of frames 1 and 89, the scripted exit after frame 90. */
static void session_focused_frames_capture_exit(void **state)
{
	setenv("XRT_CAPTURE_DIR", xt_dir, 1);
	setenv("XRT_CAPTURE_FRAMES", "1,89", 1);
	setenv("XRT_EXIT_AFTER", "90", 1);
	struct xt x;
	xt_start(&x, XR_REFERENCE_SPACE_TYPE_STAGE);
	xt_run_to_exit(&x);
	assert_int_equal(x.frames, 90);
	/* Display times one period apart (unpaced), the eyes an IPD apart at head height. */
	for (unsigned f = 1; f < x.frames; f++)
		assert_int_equal(x.displays[f] - x.displays[f - 1], XT_PERIOD_NS);
	assert_float_equal(x.views[0][1].pose.position.x - x.views[0][0].pose.position.x, 0.064, 1e-5);
	assert_float_equal(x.views[0][0].pose.position.y, 1.6, 1e-5);
	assert_float_equal(x.views[0][0].fov.angleRight, M_PI / 4, 1e-5);
	assert_float_equal(tan(x.views[0][0].fov.angleUp), tan(M_PI / 4) * XT_H / XT_W, 1e-5);
	xt_close(&x);

	xt_check_png("frame-0001-left.png", (const uint8_t[]){255, 0, 0, 255});
	xt_check_png("frame-0001-right.png", (const uint8_t[]){0, 0, 255, 255});
	xt_check_png("frame-0089-left.png", (const uint8_t[]){255, 255, 0, 255});
	xt_check_png("frame-0089-right.png", (const uint8_t[]){0, 255, 255, 255});
	char path[200];
	snprintf(path, sizeof path, "%s/frame-0002-left.png", xt_dir);
	assert_int_equal(access(path, F_OK), -1);

	char *rec = th_xrt_read(xt_record);
	xt_assert_line(rec, "instance app=test_xrt api=1.");
	xt_assert_line(rec, "state id=1 to=FOCUSED");
	assert_int_equal(th_xrt_lines(rec, "end frame="), 90);
	assert_int_equal(th_xrt_lines(rec, "view frame="), 180);
	xt_assert_line(rec, "layer frame=90 index=0 type=PROJECTION space=1 views=2");
	xt_assert_line(rec, "view frame=1 layer=0 eye=0 swapchain=1 image=0 array=0 rect=0,0,320,180 "
				     "pos=-0.0320,1.6000,0.0000 quat=0.0000,0.0000,0.0000,1.0000");
	xt_assert_line(rec, "view frame=2 layer=0 eye=1 swapchain=2 image=1 ");
	assert_int_equal(th_xrt_lines(rec, "capture frame="), 4);
	xt_assert_line(rec, "exit_after frame=90");
	xt_assert_line(rec, "destroy_session id=1 waited=90 begun=90 ended=90 discarded=0 errors=0");
	xt_assert_line(rec, "syncs id=1 count=0 focused=0");
	assert_false(xt_has_line(rec, "error "));
	free(rec);
}

/* What a client gets wrong, refused as a runtime must, and recorded. */
static void call_order_and_validation_errors(void **state)
{
	struct xt x;
	xt_open(&x);
	XrGraphicsBindingVulkan2KHR none = {.type = XR_TYPE_GRAPHICS_BINDING_VULKAN2_KHR};
	XrSessionCreateInfo sci = {.type = XR_TYPE_SESSION_CREATE_INFO, .next = &none, .systemId = x.sys};
	XrSession s;
	assert_int_equal(xrCreateSession(x.inst, &sci, &s), XR_ERROR_GRAPHICS_REQUIREMENTS_CALL_MISSING);
	xt_vulkan(&x);
	sci.next = NULL;
	assert_int_equal(xrCreateSession(x.inst, &sci, &s), XR_ERROR_GRAPHICS_DEVICE_INVALID);
	assert_int_equal(xt_create_session(&x), XR_SUCCESS);
	XrSessionBeginInfo bi = {.type = XR_TYPE_SESSION_BEGIN_INFO,
				 .primaryViewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
	XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
	assert_int_equal(xrWaitFrame(x.session, NULL, &fs), XR_ERROR_SESSION_NOT_RUNNING);
	assert_int_equal(xt_poll(&x), XR_SESSION_STATE_READY);
	assert_int_equal(xrBeginSession(x.session, &bi), XR_SUCCESS);
	assert_int_equal(xrBeginSession(x.session, &bi), XR_ERROR_SESSION_RUNNING);
	assert_int_equal(xrEndSession(x.session), XR_ERROR_SESSION_NOT_STOPPING);

	XrReferenceSpaceCreateInfo rci = {.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
					  .referenceSpaceType = XR_REFERENCE_SPACE_TYPE_LOCAL,
					  .poseInReferenceSpace = {{0, 0, 0, 2}, {0, 0, 0}}};
	assert_int_equal(xrCreateReferenceSpace(x.session, &rci, &x.space), XR_ERROR_POSE_INVALID);
	rci.poseInReferenceSpace.orientation.w = 1;
	assert_int_equal(xrCreateReferenceSpace(x.session, &rci, &x.space), XR_SUCCESS);

	XrSwapchain sc;
	assert_int_equal(xt_create_swapchain(&x, &sc, VK_FORMAT_R16G16B16A16_SFLOAT, XT_W, XT_H, 1),
			 XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED);
	assert_int_equal(xt_create_swapchain(&x, &sc, VK_FORMAT_R8G8B8A8_SRGB, 0, XT_H, 1), XR_ERROR_VALIDATION_FAILURE);
	assert_int_equal(xt_create_swapchain(&x, &x.sc[0], VK_FORMAT_R8G8B8A8_SRGB, XT_W, XT_H, 2), XR_SUCCESS);
	XrSwapchainImageVulkan2KHR imgs[3];
	uint32_t n;
	for (int i = 0; i < 3; i++)
		imgs[i] = (XrSwapchainImageVulkan2KHR){.type = XR_TYPE_SWAPCHAIN_IMAGE_VULKAN2_KHR};
	imgs[2].type = XR_TYPE_SWAPCHAIN_IMAGE_OPENGL_KHR;
	assert_int_equal(xrEnumerateSwapchainImages(x.sc[0], 3, &n, (XrSwapchainImageBaseHeader *)imgs),
			 XR_ERROR_VALIDATION_FAILURE);
	imgs[2].type = XR_TYPE_SWAPCHAIN_IMAGE_VULKAN2_KHR;
	assert_int_equal(xrEnumerateSwapchainImages(x.sc[0], 3, &n, (XrSwapchainImageBaseHeader *)imgs), XR_SUCCESS);

	/* Swapchain order: wait and release need an acquired image; at most 3 acquired. */
	XrSwapchainImageWaitInfo wi = {.type = XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO, .timeout = XR_INFINITE_DURATION};
	assert_int_equal(xrWaitSwapchainImage(x.sc[0], &wi), XR_ERROR_CALL_ORDER_INVALID);
	assert_int_equal(xrReleaseSwapchainImage(x.sc[0], NULL), XR_ERROR_CALL_ORDER_INVALID);
	uint32_t idx;
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(xrAcquireSwapchainImage(x.sc[0], NULL, &idx), XR_SUCCESS);
		assert_int_equal(idx, i);
	}
	assert_int_equal(xrAcquireSwapchainImage(x.sc[0], NULL, &idx), XR_ERROR_CALL_ORDER_INVALID);
	assert_int_equal(xrReleaseSwapchainImage(x.sc[0], NULL), XR_ERROR_CALL_ORDER_INVALID);
	assert_int_equal(xrWaitSwapchainImage(x.sc[0], &wi), XR_SUCCESS);
	assert_int_equal(xrWaitSwapchainImage(x.sc[0], &wi), XR_ERROR_CALL_ORDER_INVALID);
	const float red[4] = {1, 0, 0, 1}, blue[4] = {0, 0, 1, 1};
	xt_clear(&x, imgs[0].image, 0, red);
	xt_clear(&x, imgs[0].image, 1, blue);
	assert_int_equal(xrReleaseSwapchainImage(x.sc[0], NULL), XR_SUCCESS);

	/* Frame order. */
	assert_int_equal(xrBeginFrame(x.session, NULL), XR_ERROR_CALL_ORDER_INVALID);
	XrFrameEndInfo ei = {.type = XR_TYPE_FRAME_END_INFO,
			     .displayTime = 1,
			     .environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE};
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_CALL_ORDER_INVALID);
	XrFrameState wrong = {.type = XR_TYPE_VIEW_STATE};
	assert_int_equal(xrWaitFrame(x.session, NULL, &wrong), XR_ERROR_VALIDATION_FAILURE);
	assert_int_equal(xrWaitFrame(x.session, NULL, &fs), XR_SUCCESS);
	assert_int_equal(xrWaitFrame(x.session, NULL, &fs), XR_ERROR_CALL_ORDER_INVALID);
	assert_int_equal(xrBeginFrame(x.session, NULL), XR_SUCCESS);
	assert_int_equal(xrWaitFrame(x.session, NULL, &fs), XR_SUCCESS);
	assert_int_equal(xrBeginFrame(x.session, NULL), XR_FRAME_DISCARDED);

	/* Layers: the eyes in the two array layers of one swapchain. */
	XrCompositionLayerProjectionView pv[2];
	for (uint32_t e = 0; e < 2; e++)
		pv[e] = (XrCompositionLayerProjectionView){
			.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW,
			.pose = {{0, 0, 0, 1}, {0, 0, 0}},
			.fov = {-0.7f, 0.7f, 0.5f, -0.5f},
			.subImage = {x.sc[0], {{0, 0}, {(int32_t)XT_W, (int32_t)XT_H}}, e},
		};
	XrCompositionLayerProjection layer = {.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION,
					      .space = x.space,
					      .viewCount = 2,
					      .views = pv};
	const XrCompositionLayerBaseHeader *layers[] = {(const XrCompositionLayerBaseHeader *)&layer};
	ei.displayTime = fs.predictedDisplayTime;
	ei.layerCount = 1;
	ei.layers = layers;
	pv[1].subImage.imageRect.extent.width = XT_W + 1;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_SWAPCHAIN_RECT_INVALID);
	pv[1].subImage.imageRect.extent.width = XT_W;
	pv[1].subImage.imageArrayIndex = 2;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_VALIDATION_FAILURE);
	pv[1].subImage.imageArrayIndex = 1;
	layer.viewCount = 1;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_VALIDATION_FAILURE);
	layer.viewCount = 2;
	pv[0].pose.orientation.w = 0.5f;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_POSE_INVALID);
	pv[0].pose.orientation.w = 1;
	layer.space = (XrSpace)(uintptr_t)0x1234;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_HANDLE_INVALID);
	layer.space = x.space;
	ei.environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_ADDITIVE;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_ENVIRONMENT_BLEND_MODE_UNSUPPORTED);
	ei.environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE;
	ei.layerCount = 17;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_LAYER_LIMIT_EXCEEDED);
	ei.layerCount = 1;
	assert_int_equal(xrEndFrame(x.session, &ei), XR_SUCCESS);
	assert_int_equal(xrEndFrame(x.session, &ei), XR_ERROR_CALL_ORDER_INVALID);

	assert_int_equal(xrRequestExitSession(x.session), XR_SUCCESS);
	assert_int_equal(xt_poll(&x), XR_SESSION_STATE_STOPPING);
	assert_int_equal(xrEndSession(x.session), XR_SUCCESS);
	assert_int_equal(xrRequestExitSession(x.session), XR_ERROR_SESSION_NOT_RUNNING);
	assert_int_equal(xt_poll(&x), XR_SESSION_STATE_EXITING);
	xt_close(&x);

	char *rec = th_xrt_read(xt_record);
	xt_assert_line(rec, "error fn=xrBeginFrame result=XR_ERROR_CALL_ORDER_INVALID why=xrBeginFrame without");
	xt_assert_line(rec, "error fn=xrEndFrame result=XR_ERROR_SWAPCHAIN_RECT_INVALID why=layer 0 view 1's "
				     "imageRect 0,0,321,180 is outside the 320 x 180 swapchain image.");
	xt_assert_line(rec, "error fn=xrAcquireSwapchainImage result=XR_ERROR_CALL_ORDER_INVALID");
	xt_assert_line(rec, "discard frame=1");
	xt_assert_line(rec, "view frame=1 layer=0 eye=1 swapchain=1 image=0 array=1 ");
	xt_assert_line(rec, "request_exit id=1");
	xt_assert_line(rec, "destroy_session id=1 waited=2 begun=2 ended=1 discarded=1 errors=25");
	free(rec);
}

/* No STAGE when scripted so (LOCAL is the fallback), and the session lost
 * at a scripted frame. */
static void no_stage_and_loss_pending(void **state)
{
	setenv("XRT_NO_STAGE", "1", 1);
	setenv("XRT_LOSS_AT", "3", 1);
	struct xt x;
	xt_open(&x);
	xt_vulkan(&x);
	assert_int_equal(xt_create_session(&x), XR_SUCCESS);
	XrReferenceSpaceType t[4];
	uint32_t n;
	assert_int_equal(xrEnumerateReferenceSpaces(x.session, 4, &n, t), XR_SUCCESS);
	assert_int_equal(n, 2);
	for (uint32_t i = 0; i < n; i++)
		assert_int_not_equal(t[i], XR_REFERENCE_SPACE_TYPE_STAGE);
	XrReferenceSpaceCreateInfo rci = {.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
					  .referenceSpaceType = XR_REFERENCE_SPACE_TYPE_STAGE,
					  .poseInReferenceSpace = {{0, 0, 0, 1}, {0, 0, 0}}};
	XrSpace sp;
	assert_int_equal(xrCreateReferenceSpace(x.session, &rci, &sp), XR_ERROR_REFERENCE_SPACE_UNSUPPORTED);
	assert_int_equal(xrDestroySession(x.session), XR_SUCCESS);
	x.session = XR_NULL_HANDLE;
	x.nstates = 0;
	xt_poll(&x); /* the destroyed session's events are gone */
	assert_int_equal(x.nstates, 0);
	/* A second session of the instance, on LOCAL, lost after frame 3. */
	xt_begin(&x, XR_REFERENCE_SPACE_TYPE_LOCAL);
	for (int f = 0; f < 3; f++)
		xt_frame(&x);
	assert_int_equal(xt_poll(&x), XR_SESSION_STATE_LOSS_PENDING);
	XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
	assert_int_equal(xrWaitFrame(x.session, NULL, &fs), XR_SESSION_LOSS_PENDING);
	assert_false(fs.shouldRender);
	assert_int_equal(xrDestroySession(x.session), XR_SUCCESS);
	x.session = XR_NULL_HANDLE;
	x.sc[0] = x.sc[1] = XR_NULL_HANDLE; /* destroyed with their session */
	x.space = XR_NULL_HANDLE;
	xt_close(&x);
	char *rec = th_xrt_read(xt_record);
	xt_assert_line(rec, "state id=2 to=LOSS_PENDING");
	xt_assert_line(rec, "destroy_session id=2 waited=4 begun=3 ended=3 ");
	free(rec);
}

/* The scripted head: moving and turning with display time, in STAGE, and
 * LOCAL where the head started. */
static void head_motion_and_spaces(void **state)
{
	setenv("XRT_HEAD_POS", "1,1.5,2", 1);
	setenv("XRT_HEAD_VEL", "0.9,0,0", 1);
	setenv("XRT_HEAD_YAW_RATE", "90", 1);
	setenv("XRT_IPD", "0.07", 1);
	setenv("XRT_HEAD_YAW", "30", 1);
	setenv("XRT_FOV", "-40,50,30,-20", 1);
	struct xt x;
	xt_start(&x, XR_REFERENCE_SPACE_TYPE_STAGE);
	for (int f = 0; f < 10; f++)
		xt_frame(&x);
	/* Frame 10 is 9 periods (0.1 s) after frame 1: 9 cm along x, 9 degrees of yaw. */
	assert_float_equal(x.views[0][0].fov.angleLeft, -40 * M_PI / 180, 1e-5);
	assert_float_equal(x.views[0][1].fov.angleRight, 50 * M_PI / 180, 1e-5);
	assert_float_equal(x.views[0][1].fov.angleUp, 30 * M_PI / 180, 1e-5);
	assert_float_equal(x.views[0][0].fov.angleDown, -20 * M_PI / 180, 1e-5);
	assert_float_equal(2 * atan2(x.views[0][0].pose.orientation.y, x.views[0][0].pose.orientation.w), M_PI / 6, 1e-5);
	XrView *v = x.views[9];
	double mx = (v[0].pose.position.x + v[1].pose.position.x) / 2;
	assert_float_equal(mx, 1.09, 1e-4);
	assert_float_equal(v[0].pose.position.y, 1.5, 1e-5);
	double yaw = 2 * atan2(v[0].pose.orientation.y, v[0].pose.orientation.w);
	assert_float_equal(yaw, 39 * M_PI / 180, 1e-4);
	double dx = v[1].pose.position.x - v[0].pose.position.x, dz = v[1].pose.position.z - v[0].pose.position.z;
	assert_float_equal(sqrt(dx * dx + dz * dz), 0.07, 1e-5);
	assert_true(dz < 0); /* turned left: the right eye moved forward (-Z) */

	XrSpace view, local;
	XrReferenceSpaceCreateInfo rci = {.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
					  .referenceSpaceType = XR_REFERENCE_SPACE_TYPE_VIEW,
					  .poseInReferenceSpace = {{0, 0, 0, 1}, {0, 0, 0}}};
	assert_int_equal(xrCreateReferenceSpace(x.session, &rci, &view), XR_SUCCESS);
	rci.referenceSpaceType = XR_REFERENCE_SPACE_TYPE_LOCAL;
	assert_int_equal(xrCreateReferenceSpace(x.session, &rci, &local), XR_SUCCESS);
	XrSpaceLocation loc = {.type = XR_TYPE_SPACE_LOCATION};
	assert_int_equal(xrLocateSpace(view, x.space, x.displays[9], &loc), XR_SUCCESS);
	assert_true(loc.locationFlags & XR_SPACE_LOCATION_POSITION_VALID_BIT);
	assert_float_equal(loc.pose.position.x, 1.09, 1e-4);
	assert_float_equal(loc.pose.position.z, 2.0, 1e-5);
	assert_int_equal(xrLocateSpace(local, x.space, x.displays[9], &loc), XR_SUCCESS);
	assert_float_equal(loc.pose.position.x, 1.0, 1e-5);
	assert_float_equal(loc.pose.position.y, 1.5, 1e-5);
	assert_float_equal(2 * atan2(loc.pose.orientation.y, loc.pose.orientation.w), M_PI / 6, 1e-5);
	/* In LOCAL (turned 30 degrees left): the 9 cm along STAGE's x seen from there. */
	assert_int_equal(xrLocateSpace(view, local, x.displays[9], &loc), XR_SUCCESS);
	assert_float_equal(loc.pose.position.x, 0.09 * cos(M_PI / 6), 1e-4);
	assert_float_equal(loc.pose.position.y, 0.0, 1e-5);
	assert_float_equal(loc.pose.position.z, 0.09 * sin(M_PI / 6), 1e-4);
	assert_float_equal(2 * atan2(loc.pose.orientation.y, loc.pose.orientation.w), 9 * M_PI / 180, 1e-4);
	assert_int_equal(xrLocateSpace(view, local, 0, &loc), XR_ERROR_TIME_INVALID);
	assert_int_equal(xrDestroySpace(view), XR_SUCCESS);
	assert_int_equal(xrDestroySpace(view), XR_ERROR_HANDLE_INVALID);
	assert_int_equal(xrRequestExitSession(x.session), XR_SUCCESS);
	xt_run_to_exit(&x);
	xt_close(&x); /* local goes with its session */
}

/* Paced: each xrWaitFrame sleeps to the next 90 Hz slot; the predicted
 * display times lie on that grid, strictly increasing (no timing bound). */
static void paced_display_times_on_the_grid(void **state)
{
	unsetenv("XRT_UNPACED");
	setenv("XRT_EXIT_AFTER", "6", 1);
	struct xt x;
	xt_start(&x, XR_REFERENCE_SPACE_TYPE_STAGE);
	xt_run_to_exit(&x);
	assert_int_equal(x.frames, 6);
	for (unsigned f = 1; f < x.frames; f++) {
		assert_true(x.displays[f] > x.displays[f - 1]);
		assert_int_equal((x.displays[f] - x.displays[0]) % XT_PERIOD_NS, 0);
	}
	xt_close(&x);
}

/* What a client does after losing its device: the session and the Vulkan
 * context go, a new context is made through the runtime again, and a new
 * session on it runs from IDLE. */
static void a_new_vulkan_context_gets_a_new_session(void **state)
{
	setenv("XRT_CAPTURE_DIR", xt_dir, 1);
	setenv("XRT_CAPTURE_FRAMES", "3", 1);
	struct xt x;
	xt_start(&x, XR_REFERENCE_SPACE_TYPE_STAGE);
	for (int f = 0; f < 2; f++)
		xt_frame(&x);
	assert_int_equal(xrDestroySession(x.session), XR_SUCCESS); /* takes its swapchains and space */
	x.session = XR_NULL_HANDLE;
	xt_vulkan_close(&x);
	x.nstates = 0;
	x.frames = 0;
	xt_vulkan(&x);
	xt_begin(&x, XR_REFERENCE_SPACE_TYPE_STAGE);
	assert_int_equal(x.states[0], XR_SESSION_STATE_IDLE);
	for (int f = 0; f < 3; f++)
		xt_frame(&x);
	assert_int_equal(xrRequestExitSession(x.session), XR_SUCCESS);
	assert_int_equal(xt_poll(&x), XR_SESSION_STATE_STOPPING);
	assert_int_equal(xrEndSession(x.session), XR_SUCCESS);
	xt_close(&x);
	xt_check_png("frame-0003-left.png", (const uint8_t[]){255, 255, 0, 255});
	char *rec = th_xrt_read(xt_record);
	xt_assert_line(rec, "destroy_session id=1 waited=2 begun=2 ended=2 discarded=0 errors=0");
	xt_assert_line(rec, "capture frame=3 eye=1 ");
	xt_assert_line(rec, "destroy_session id=2 waited=3 begun=3 ended=3 discarded=0 errors=0");
	free(rec);
}

/* A client slower than the frame period: the runtime skips the slots it
 * missed, so display times stay on the grid and jump (a lower bound only:
 * the client sleeps at least 25 ms a frame, more on a loaded machine). */
#define XT_SLOW_CLIENT_NS 25000000l

static void a_slow_client_skips_slots(void **state)
{
	unsetenv("XRT_UNPACED");
	struct xt x;
	xt_start(&x, XR_REFERENCE_SPACE_TYPE_STAGE);
	for (int f = 0; f < 4; f++) {
		xt_poll(&x);
		xt_frame(&x);
		struct timespec ts = {0, XT_SLOW_CLIENT_NS};
		nanosleep(&ts, NULL);
	}
	for (unsigned f = 1; f < x.frames; f++) {
		assert_int_equal((x.displays[f] - x.displays[0]) % XT_PERIOD_NS, 0);
		assert_true(x.displays[f] - x.displays[f - 1] >= 3 * XT_PERIOD_NS);
	}
	assert_int_equal(xrRequestExitSession(x.session), XR_SUCCESS);
	xt_run_to_exit(&x);
	xt_close(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_core_function_has_a_pointer, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(instance_system_views_and_strings, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(session_focused_frames_capture_exit, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(call_order_and_validation_errors, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(no_stage_and_loss_pending, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(head_motion_and_spaces, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(paced_display_times_on_the_grid, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(a_slow_client_skips_slots, xt_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(a_new_vulkan_context_gets_a_new_session, xt_setup, th_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
