/* The OpenXR backend (gfx_backend.h, docs/rendering.md "OpenXR"): an
 * instance with XR_KHR_vulkan_enable2 whose runtime creates the Vulkan
 * instance and device (gfx_vk_hooks), a head-mounted system with the
 * primary stereo view configuration, one session per Vulkan context, its
 * lifecycle in gfx_xr_state.c, a stage space (local when the runtime has
 * none), one swapchain per eye, and per frame xrWaitFrame (wait_frame, the
 * loop's pacing), xrBeginFrame + xrLocateViews + acquire (begin_frame) and
 * release + xrEndFrame with one projection layer (end_frame).
 *
 * With gfx_xr_config.input (an inp_xr source) the controllers share the
 * instance and the session (inp/inp_xr.h): bound after xrCreateInstance and
 * after each session's space (so a device-loss rebuild rebinds to the new
 * session), every polled event passed on, each xrWaitFrame's predicted
 * display time and focus handed over, unbound before xrDestroySession and
 * xrDestroyInstance. Input that fails to bind is said in one line and the
 * headset renders without it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>
#define XR_USE_GRAPHICS_API_VULKAN
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>
#include <openxr/openxr_reflection.h>

#include "gfx/gfx_backend.h"
#include "gfx/gfx_math.h"
#include "gfx/gfx_xr_state.h"
#include "inp/inp_xr.h"
#include "th_log.h"
#include "th_time.h"

#define GFX_XR_EYES 2u
#define GFX_XR_IMAGES_MAX 8u          /* swapchain images per eye accepted from a runtime */
#define GFX_XR_FORMATS_MAX 64u        /* swapchain formats read */
#define GFX_XR_SPACES_MAX 16u         /* reference space types read */
#define GFX_XR_BLEND_MAX 8u           /* environment blend modes read */
#define GFX_XR_EVENTS_PER_POLL 64u    /* events handled per frame (the rest wait for the next) */
#define GFX_XR_IDLE_WAIT_NS (10 * TH_NS_PER_MS) /* the loop's pace while no session runs */
#define GFX_XR_IMAGE_WAIT_NS ((XrDuration)TH_NS_PER_S) /* xrWaitSwapchainImage's timeout */
#define GFX_XR_EXIT_FRAMES_MAX 1000u  /* frames run while a session ends at detach */
#define GFX_XR_NEAR 0.05f             /* metres */
#define GFX_XR_FAR 200.0f

_Static_assert(GFX_XR_EYES <= GFX_VIEWS_MAX, "two eyes fit a frame");
_Static_assert((int)GFX_XR_FOCUSED == (int)XR_SESSION_STATE_FOCUSED &&
		       (int)GFX_XR_EXITING == (int)XR_SESSION_STATE_EXITING &&
		       (int)GFX_XR_LOSS_PENDING == (int)XR_SESSION_STATE_LOSS_PENDING,
	       "gfx_xr_phase numbers XrSessionState");

struct gfx_xr_eye {
	XrViewConfigurationView cfg;
	XrSwapchain swapchain;
	uint32_t nimages;
	VkImage image[GFX_XR_IMAGES_MAX];
	VkImageView view[GFX_XR_IMAGES_MAX];
	uint32_t index; /* acquired */
	bool held;      /* acquired and not released */
};

struct gfx_xr {
	struct gfx_backend base;
	XrInstance instance;
	XrSystemId system;
	XrEnvironmentBlendMode blend;
	char runtime[XR_MAX_RUNTIME_NAME_SIZE];
	PFN_xrCreateVulkanInstanceKHR create_vk_instance;
	PFN_xrGetVulkanGraphicsDevice2KHR graphics_device;
	PFN_xrCreateVulkanDeviceKHR create_vk_device;
	struct gfx_vk_hooks hooks;
	struct inp_source *input; /* bound to the instance (NULL: none, or binding it failed) */

	struct gfx_vk *vk; /* attached */
	XrSession session;
	XrSpace space;
	VkFormat format;
	struct gfx_xr_eye eye[GFX_XR_EYES];
	struct gfx_xr_state st;
	bool said_end;      /* the session's end was said */

	/* This frame. */
	XrFrameState fs;
	bool paced;         /* wait_frame ran for this frame (begin_frame does not wait again) */
	bool waited;        /* xrWaitFrame returned, xrBeginFrame not called yet */
	bool begun;         /* xrBeginFrame returned, xrEndFrame not called yet */
	bool rendering;     /* the views were located and the images acquired */
	XrView views[GFX_XR_EYES];
};

/* ---- results --------------------------------------------------------------- */

static const char *xr_result_name(XrResult r)
{
	switch (r) {
#define GFX_XR_RESULT_CASE(name, value) \
	case name:                     \
		return #name;
		XR_LIST_ENUM_XrResult(GFX_XR_RESULT_CASE)
#undef GFX_XR_RESULT_CASE
	default:
		return "XR_RESULT_UNKNOWN";
	}
}

static int xr_errno(XrResult r)
{
	switch (r) {
	case XR_ERROR_RUNTIME_UNAVAILABLE:
	case XR_ERROR_RUNTIME_FAILURE:
	case XR_ERROR_FORM_FACTOR_UNAVAILABLE:
	case XR_ERROR_FORM_FACTOR_UNSUPPORTED:
		return -ENXIO;
	case XR_ERROR_OUT_OF_MEMORY:
	case XR_ERROR_LIMIT_REACHED:
		return -ENOMEM;
	case XR_ERROR_SESSION_LOST:
	case XR_ERROR_INSTANCE_LOST:
		return -ECONNRESET;
	case XR_ERROR_FUNCTION_UNSUPPORTED:
	case XR_ERROR_EXTENSION_NOT_PRESENT:
	case XR_ERROR_FEATURE_UNSUPPORTED:
	case XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED:
	case XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED:
		return -ENOTSUP;
	default:
		return XR_FAILED(r) ? -EIO : 0;
	}
}

/* 0, or says the failure (naming the call) and gives its errno. */
static int xr_check(XrResult r, const char *what)
{
	if (XR_SUCCEEDED(r))
		return 0;
	th_err("OpenXR: %s: %s", what, xr_result_name(r));
	return xr_errno(r);
}

static struct gfx_xr *to_xr(struct gfx_backend *b)
{
	return (struct gfx_xr *)b;
}

/* ---- Vulkan through the runtime (XR_KHR_vulkan_enable2) ------------------------- */

/* 0, or says which failed, the OpenXR call or the Vulkan one it made. */
static int xr_vk_check(XrResult r, const char *what, VkResult vr, const char *vk_what)
{
	int e = xr_check(r, what);
	if (e)
		return e;
	if (vr != VK_SUCCESS) {
		th_err("OpenXR: %s: %s: %s", what, vk_what, gfx_vk_result_name(vr));
		return gfx_vk_errno(vr) ? gfx_vk_errno(vr) : -EIO;
	}
	return 0;
}

static int hook_instance(void *ud, const VkInstanceCreateInfo *ci, VkInstance *out)
{
	struct gfx_xr *x = ud;
	XrVulkanInstanceCreateInfoKHR info = {
		.type = XR_TYPE_VULKAN_INSTANCE_CREATE_INFO_KHR,
		.systemId = x->system,
		.pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
		.vulkanCreateInfo = ci,
	};
	VkResult vr = VK_SUCCESS;
	VkInstance inst = VK_NULL_HANDLE;
	XrResult r = x->create_vk_instance(x->instance, &info, &inst, &vr); /* sets vr */
	int e = xr_vk_check(r, "xrCreateVulkanInstanceKHR", vr, "vkCreateInstance");
	if (!e)
		*out = inst;
	return e;
}

static int hook_physical(void *ud, VkInstance inst, VkPhysicalDevice *out)
{
	struct gfx_xr *x = ud;
	XrVulkanGraphicsDeviceGetInfoKHR info = {
		.type = XR_TYPE_VULKAN_GRAPHICS_DEVICE_GET_INFO_KHR,
		.systemId = x->system,
		.vulkanInstance = inst,
	};
	VkPhysicalDevice pd = VK_NULL_HANDLE;
	int e = xr_check(x->graphics_device(x->instance, &info, &pd), "xrGetVulkanGraphicsDevice2KHR");
	if (e)
		return e;
	if (pd == VK_NULL_HANDLE) {
		th_err("OpenXR: xrGetVulkanGraphicsDevice2KHR gave no device");
		return -ENODEV;
	}
	*out = pd;
	return 0;
}

static int hook_device(void *ud, VkPhysicalDevice pd, const VkDeviceCreateInfo *ci, VkDevice *out)
{
	struct gfx_xr *x = ud;
	XrVulkanDeviceCreateInfoKHR info = {
		.type = XR_TYPE_VULKAN_DEVICE_CREATE_INFO_KHR,
		.systemId = x->system,
		.pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
		.vulkanPhysicalDevice = pd,
		.vulkanCreateInfo = ci,
	};
	VkResult vr = VK_SUCCESS;
	VkDevice dev = VK_NULL_HANDLE;
	XrResult r = x->create_vk_device(x->instance, &info, &dev, &vr); /* sets vr */
	int e = xr_vk_check(r, "xrCreateVulkanDeviceKHR", vr, "vkCreateDevice");
	if (!e)
		*out = dev;
	return e;
}

/* ---- the session ----------------------------------------------------------------- */

/* Everything of the session, then the session (idempotent). */
static void drop_session(struct gfx_xr *x)
{
	if (x->vk && x->vk->device)
		vkDeviceWaitIdle(x->vk->device); /* the last frames may still draw into the images */
	for (uint32_t e = 0; e < GFX_XR_EYES; e++) {
		struct gfx_xr_eye *eye = &x->eye[e];
		for (uint32_t i = 0; i < eye->nimages; i++)
			if (eye->view[i])
				vkDestroyImageView(x->vk->device, eye->view[i], NULL);
		if (eye->swapchain)
			xrDestroySwapchain(eye->swapchain);
		XrViewConfigurationView cfg = eye->cfg;
		memset(eye, 0, sizeof *eye);
		eye->cfg = cfg;
	}
	if (x->input && x->session)
		inp_xr_unbind_session(x->input); /* its spaces go before the session */
	if (x->space)
		xrDestroySpace(x->space);
	if (x->session)
		xrDestroySession(x->session);
	x->space = XR_NULL_HANDLE;
	x->session = XR_NULL_HANDLE;
	x->waited = x->begun = x->rendering = false;
}

/* Carries out what the state machine said (GFX_XR_DO_* bits). */
static int act(struct gfx_xr *x, int what)
{
	int e = 0;
	if (what & GFX_XR_DO_BEGIN) {
		XrSessionBeginInfo bi = { .type = XR_TYPE_SESSION_BEGIN_INFO,
					  .primaryViewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO };
		e = xr_check(xrBeginSession(x->session, &bi), "xrBeginSession");
	}
	if (!e && (what & GFX_XR_DO_REQUEST))
		e = xr_check(xrRequestExitSession(x->session), "xrRequestExitSession");
	if (!e && (what & GFX_XR_DO_END))
		e = xr_check(xrEndSession(x->session), "xrEndSession");
	if (what & GFX_XR_DO_DESTROY)
		drop_session(x);
	return e;
}

static void say_end(struct gfx_xr *x)
{
	if (x->said_end)
		return;
	x->said_end = true;
	if (x->st.lost)
		th_err("OpenXR: the runtime lost the session (%s): stopping", x->runtime);
	else if (x->st.timed_out)
		th_warn("OpenXR: the runtime did not end the session within %llu s of the request: stopping anyway",
			(unsigned long long)(GFX_XR_EXIT_TIMEOUT_NS / TH_NS_PER_S));
	else
		th_info("OpenXR: the session ended");
}

/* 1: the session is over (exited), -ECONNRESET: it was lost, else 0. */
static int session_over(struct gfx_xr *x)
{
	if (!x->st.done)
		return 0;
	say_end(x);
	return x->st.lost ? -ECONNRESET : 1;
}

static int step(struct gfx_xr *x, const struct gfx_xr_event *ev)
{
	enum gfx_xr_phase from = x->st.phase;
	int what = gfx_xr_state_step(&x->st, ev, th_now_ns());
	if (what == -EINVAL) { /* a state number outside XrSessionState's */
		th_err("OpenXR: the runtime moved the session from %s to state %d, which OpenXR 1.0 does not define",
		       gfx_xr_phase_name(from), (int)ev->phase);
		return -EPROTO;
	}
	if (what == -EPROTO) {
		th_err("OpenXR: the runtime moved the session from %s to %s, which the OpenXR lifecycle does not allow",
		       gfx_xr_phase_name(from), gfx_xr_phase_name(ev->phase));
		return -EPROTO;
	}
	if (ev->kind == GFX_XR_EV_STATE && x->st.phase != from)
		th_debug("OpenXR: session %s -> %s", gfx_xr_phase_name(from), gfx_xr_phase_name(x->st.phase));
	return act(x, what);
}

/* Drains the runtime's events (at most GFX_XR_EVENTS_PER_POLL) and acts
 * on them; then a requested exit's deadline. 0, 1 (over), -errno. */
static int pump(struct gfx_xr *x)
{
	int over = session_over(x);
	if (over)
		return over;
	for (uint32_t n = 0; n < GFX_XR_EVENTS_PER_POLL; n++) {
		XrEventDataBuffer ev = { .type = XR_TYPE_EVENT_DATA_BUFFER };
		XrResult r = xrPollEvent(x->instance, &ev);
		if (r == XR_EVENT_UNAVAILABLE)
			break;
		int e = xr_check(r, "xrPollEvent");
		if (e)
			return e;
		if (x->input)
			inp_xr_event(x->input, &ev);
		if (ev.type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED) {
			const XrEventDataSessionStateChanged *sc = (const XrEventDataSessionStateChanged *)&ev;
			if (sc->session != x->session || !x->session)
				continue; /* an older session's */
			e = step(x, &(struct gfx_xr_event){ .kind = GFX_XR_EV_STATE, .phase = (enum gfx_xr_phase)sc->state });
		} else if (ev.type == XR_TYPE_EVENT_DATA_INSTANCE_LOSS_PENDING) {
			e = step(x, &(struct gfx_xr_event){ .kind = GFX_XR_EV_INSTANCE_LOSS });
		} else if (ev.type == XR_TYPE_EVENT_DATA_EVENTS_LOST) {
			const XrEventDataEventsLost *el = (const XrEventDataEventsLost *)&ev;
			th_warn("OpenXR: the runtime dropped %u events", el->lostEventCount);
		}
		if (e)
			return e;
		if (x->st.done)
			break;
	}
	int e = act(x, gfx_xr_state_tick(&x->st, th_now_ns()));
	if (e)
		return e;
	return session_over(x);
}

/* ---- frames ------------------------------------------------------------------- */

static int close_open_frame(struct gfx_xr *x);

/* The predicted display time as the loop takes it (0: none). */
static uint64_t display_ns(const XrFrameState *fs)
{
	return fs->predictedDisplayTime > 0 ? (uint64_t)fs->predictedDisplayTime : 0;
}

static int xr_wait_frame(struct gfx_backend *b, uint64_t *display_time_ns)
{
	struct gfx_xr *x = to_xr(b);
	*display_time_ns = 0;
	if (!x->session)
		return x->st.done ? session_over(x) : -ENODEV;
	if (x->waited) { /* already waited for this frame */
		*display_time_ns = display_ns(&x->fs);
		return 0;
	}
	int e = close_open_frame(x);
	if (!e)
		e = pump(x);
	if (e)
		return e;
	x->paced = true;
	if (x->input)
		inp_xr_frame(x->input, 0, false); /* until this frame's wait says otherwise */
	if (!gfx_xr_state_runs_frames(&x->st)) {
		th_sleep_ns(GFX_XR_IDLE_WAIT_NS); /* no session running: nothing paces the loop */
		return 0;
	}
	XrFrameWaitInfo wi = { .type = XR_TYPE_FRAME_WAIT_INFO };
	XrFrameState fs = { .type = XR_TYPE_FRAME_STATE };
	e = xr_check(xrWaitFrame(x->session, &wi, &fs), "xrWaitFrame");
	if (e)
		return e;
	if (x->input)
		inp_xr_frame(x->input, fs.predictedDisplayTime, x->st.phase == GFX_XR_FOCUSED);
	x->fs = fs;
	x->waited = true;
	*display_time_ns = display_ns(&fs);
	return 0;
}

static void eye_view(const XrView *v, struct gfx_view *out)
{
	const float pos[3] = { v->pose.position.x, v->pose.position.y, v->pose.position.z };
	const float q[4] = { v->pose.orientation.x, v->pose.orientation.y, v->pose.orientation.z,
			     v->pose.orientation.w };
	gfx_mat4_view_from_pose(out->view, pos, q);
	gfx_mat4_perspective_fov(out->proj, v->fov.angleLeft, v->fov.angleRight, v->fov.angleUp, v->fov.angleDown,
				 GFX_XR_NEAR, GFX_XR_FAR);
	memcpy(out->eye, pos, sizeof pos);
}

/* Locates the eyes at the predicted display time; false: no valid
 * orientation (nothing is rendered this frame). */
static int locate(struct gfx_xr *x, bool *valid)
{
	XrViewLocateInfo li = { .type = XR_TYPE_VIEW_LOCATE_INFO,
				.viewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
				.displayTime = x->fs.predictedDisplayTime,
				.space = x->space };
	XrViewState vs = { .type = XR_TYPE_VIEW_STATE };
	for (uint32_t i = 0; i < GFX_XR_EYES; i++)
		x->views[i] = (XrView){ .type = XR_TYPE_VIEW };
	uint32_t n = 0;
	int e = xr_check(xrLocateViews(x->session, &li, &vs, GFX_XR_EYES, &n, x->views), "xrLocateViews");
	if (e)
		return e;
	if (n != GFX_XR_EYES) {
		th_err("OpenXR: xrLocateViews gave %u views for the stereo configuration", n);
		return -EPROTO;
	}
	*valid = (vs.viewStateFlags & XR_VIEW_STATE_ORIENTATION_VALID_BIT) != 0;
	return 0;
}

static int acquire(struct gfx_xr *x, struct gfx_xr_eye *eye)
{
	XrSwapchainImageAcquireInfo ai = { .type = XR_TYPE_SWAPCHAIN_IMAGE_ACQUIRE_INFO };
	uint32_t index = 0;
	int e = xr_check(xrAcquireSwapchainImage(eye->swapchain, &ai, &index), "xrAcquireSwapchainImage");
	if (e)
		return e;
	if (index >= eye->nimages) {
		th_err("OpenXR: xrAcquireSwapchainImage gave image %u of %u", index, eye->nimages);
		return -EPROTO;
	}
	eye->index = index;
	eye->held = true;
	XrSwapchainImageWaitInfo wi = { .type = XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO, .timeout = GFX_XR_IMAGE_WAIT_NS };
	XrResult r = xrWaitSwapchainImage(eye->swapchain, &wi);
	if (r == XR_TIMEOUT_EXPIRED) {
		th_err("OpenXR: xrWaitSwapchainImage: the runtime kept the image past %lld ms",
		       (long long)(GFX_XR_IMAGE_WAIT_NS / (XrDuration)TH_NS_PER_MS));
		return -ETIMEDOUT;
	}
	return xr_check(r, "xrWaitSwapchainImage");
}

static int release_images(struct gfx_xr *x)
{
	int first = 0;
	for (uint32_t i = 0; i < GFX_XR_EYES; i++) {
		struct gfx_xr_eye *eye = &x->eye[i];
		if (!eye->held)
			continue;
		eye->held = false;
		XrSwapchainImageReleaseInfo ri = { .type = XR_TYPE_SWAPCHAIN_IMAGE_RELEASE_INFO };
		int e = xr_check(xrReleaseSwapchainImage(eye->swapchain, &ri), "xrReleaseSwapchainImage");
		if (e && !first)
			first = e;
	}
	return first;
}

/* xrEndFrame for the frame begun: the projection layer when it was
 * rendered, else no layer. */
static int end_xr_frame(struct gfx_xr *x, bool with_layer)
{
	XrCompositionLayerProjectionView pv[GFX_XR_EYES];
	for (uint32_t i = 0; i < GFX_XR_EYES; i++) {
		struct gfx_xr_eye *eye = &x->eye[i];
		pv[i] = (XrCompositionLayerProjectionView){
			.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW,
			.pose = x->views[i].pose,
			.fov = x->views[i].fov,
			.subImage = { .swapchain = eye->swapchain,
				      .imageRect = { .offset = { 0, 0 },
						     .extent = { (int32_t)eye->cfg.recommendedImageRectWidth,
								 (int32_t)eye->cfg.recommendedImageRectHeight } },
				      .imageArrayIndex = 0 },
		};
	}
	XrCompositionLayerProjection layer = {
		.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION,
		.space = x->space,
		.viewCount = GFX_XR_EYES,
		.views = pv,
	};
	const XrCompositionLayerBaseHeader *layers[1] = { (const XrCompositionLayerBaseHeader *)&layer };
	XrFrameEndInfo ei = {
		.type = XR_TYPE_FRAME_END_INFO,
		.displayTime = x->fs.predictedDisplayTime,
		.environmentBlendMode = x->blend,
		.layerCount = with_layer ? 1 : 0,
		.layers = with_layer ? layers : NULL,
	};
	x->begun = false;
	x->rendering = false;
	return xr_check(xrEndFrame(x->session, &ei), "xrEndFrame");
}

/* A frame a failed one left open (begun, never ended): ended empty. */
static int close_open_frame(struct gfx_xr *x)
{
	if (!x->begun)
		return 0;
	int e = release_images(x);
	int e2 = end_xr_frame(x, false);
	return e ? e : e2;
}

/* xrBeginFrame for the frame waited for (XR_FRAME_DISCARDED is a success). */
static int begin_xr_frame(struct gfx_xr *x)
{
	x->waited = false;
	XrFrameBeginInfo bi = { .type = XR_TYPE_FRAME_BEGIN_INFO };
	int e = xr_check(xrBeginFrame(x->session, &bi), "xrBeginFrame");
	if (!e)
		x->begun = true;
	return e;
}

static int xr_begin_frame(struct gfx_backend *b, const struct gfx_view *cam, struct gfx_frame *f)
{
	struct gfx_xr *x = to_xr(b);
	memset(f, 0, sizeof *f);
	if (!x->paced) { /* driven without wait_frame */
		uint64_t t;
		int e = xr_wait_frame(b, &t);
		if (e)
			return e;
	}
	x->paced = false;
	if (!x->waited) /* no session running: nothing to draw into */
		return 0;
	f->display_time_ns = display_ns(&x->fs);
	int e = begin_xr_frame(x);
	if (e)
		return e;
	/* The runtime's word on whether the frame is shown (the state
	 * changes that came with this xrWaitFrame are seen at the next). */
	if (!x->fs.shouldRender)
		return 0;
	bool valid = false;
	e = locate(x, &valid);
	if (e || !valid)
		return e;
	for (uint32_t i = 0; i < GFX_XR_EYES; i++) {
		struct gfx_xr_eye *eye = &x->eye[i];
		e = acquire(x, eye);
		if (e)
			return e;
		eye_view(&x->views[i], &f->view[i]);
		f->target[i] = (struct gfx_target){
			.image = eye->image[eye->index],
			.view = eye->view[eye->index],
			.extent = { eye->cfg.recommendedImageRectWidth, eye->cfg.recommendedImageRectHeight },
			.format = x->format,
			.initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
			.final_layout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		};
	}
	x->rendering = true;
	f->render = true;
	f->nviews = GFX_XR_EYES;
	f->image_index = x->eye[0].index;
	f->wait_stage = VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT;
	return 0;
}

static int xr_end_frame(struct gfx_backend *b, struct gfx_frame *f, VkFence fence)
{
	struct gfx_xr *x = to_xr(b);
	if (!x->begun)
		return session_over(x);
	/* The frame's commands were submitted on the binding's queue: the
	 * runtime waits for them before it reads the images. */
	int e = release_images(x);
	bool layer = x->rendering && f->render && !e;
	int e2 = end_xr_frame(x, layer);
	return e ? e : e2;
}

/* ---- attach / detach -------------------------------------------------------------- */

static int pick_format(struct gfx_xr *x, bool *srgb)
{
	int64_t formats[GFX_XR_FORMATS_MAX];
	uint32_t n = 0;
	int e = xr_check(xrEnumerateSwapchainFormats(x->session, GFX_XR_FORMATS_MAX, &n, formats),
			 "xrEnumerateSwapchainFormats");
	if (e)
		return e;
	static const struct {
		VkFormat f;
		bool srgb;
	} want[] = {
		{ VK_FORMAT_R8G8B8A8_SRGB, true },
		{ VK_FORMAT_B8G8R8A8_SRGB, true },
		{ VK_FORMAT_R8G8B8A8_UNORM, false },
		{ VK_FORMAT_B8G8R8A8_UNORM, false },
	};
	for (size_t w = 0; w < sizeof want / sizeof *want; w++)
		for (uint32_t i = 0; i < n && i < GFX_XR_FORMATS_MAX; i++)
			if (formats[i] == (int64_t)want[w].f) {
				x->format = want[w].f;
				*srgb = want[w].srgb;
				return 0;
			}
	th_err("OpenXR: the runtime offers no 8-bit RGBA swapchain format (%u formats)", n);
	return -ENOTSUP;
}

static int pick_space(struct gfx_xr *x)
{
	XrReferenceSpaceType types[GFX_XR_SPACES_MAX];
	uint32_t n = 0;
	int e = xr_check(xrEnumerateReferenceSpaces(x->session, GFX_XR_SPACES_MAX, &n, types),
			 "xrEnumerateReferenceSpaces");
	if (e)
		return e;
	XrReferenceSpaceType t = XR_REFERENCE_SPACE_TYPE_LOCAL;
	for (uint32_t i = 0; i < n && i < GFX_XR_SPACES_MAX; i++)
		if (types[i] == XR_REFERENCE_SPACE_TYPE_STAGE)
			t = XR_REFERENCE_SPACE_TYPE_STAGE;
	if (t != XR_REFERENCE_SPACE_TYPE_STAGE)
		th_notice("OpenXR: the runtime has no stage space: using the local space (the floor is at the head's start)");
	XrReferenceSpaceCreateInfo ci = {
		.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
		.referenceSpaceType = t,
		.poseInReferenceSpace = { .orientation = { 0, 0, 0, 1 }, .position = { 0, 0, 0 } },
	};
	return xr_check(xrCreateReferenceSpace(x->session, &ci, &x->space), "xrCreateReferenceSpace");
}

/* A swapchain's image count as this backend takes it: 1 to GFX_XR_IMAGES_MAX. */
static int image_count_ok(uint32_t n)
{
	if (n == 0 || n > GFX_XR_IMAGES_MAX) {
		th_err("OpenXR: the runtime's swapchain has %u images (1 to %u accepted)", n, GFX_XR_IMAGES_MAX);
		return -EPROTO;
	}
	return 0;
}

static int make_swapchain(struct gfx_xr *x, struct gfx_xr_eye *eye)
{
	XrSwapchainCreateInfo ci = {
		.type = XR_TYPE_SWAPCHAIN_CREATE_INFO,
		.usageFlags = XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT,
		.format = x->format,
		.sampleCount = 1,
		.width = eye->cfg.recommendedImageRectWidth,
		.height = eye->cfg.recommendedImageRectHeight,
		.faceCount = 1,
		.arraySize = 1,
		.mipCount = 1,
	};
	int e = xr_check(xrCreateSwapchain(x->session, &ci, &eye->swapchain), "xrCreateSwapchain");
	if (e)
		return e;
	uint32_t n = 0;
	e = xr_check(xrEnumerateSwapchainImages(eye->swapchain, 0, &n, NULL), "xrEnumerateSwapchainImages");
	if (!e)
		e = image_count_ok(n);
	if (e)
		return e;
	XrSwapchainImageVulkan2KHR img[GFX_XR_IMAGES_MAX];
	for (uint32_t i = 0; i < n; i++)
		img[i] = (XrSwapchainImageVulkan2KHR){ .type = XR_TYPE_SWAPCHAIN_IMAGE_VULKAN2_KHR };
	e = xr_check(xrEnumerateSwapchainImages(eye->swapchain, n, &n, (XrSwapchainImageBaseHeader *)img),
		     "xrEnumerateSwapchainImages");
	if (!e)
		e = image_count_ok(n);
	if (e)
		return e;
	for (uint32_t i = 0; i < n; i++) {
		eye->image[i] = img[i].image;
		eye->nimages = i + 1;
		e = gfx_image_view_create(x->vk, img[i].image, x->format, VK_IMAGE_ASPECT_COLOR_BIT, &eye->view[i]);
		if (e)
			return e;
	}
	return 0;
}

/* The controllers on this session (a failure was said by inp_xr; the
 * headset renders without them). */
static void bind_input_session(struct gfx_xr *x)
{
	if (x->input && inp_xr_bind_session(x->input, x->session, x->space) < 0)
		th_warn("OpenXR: the controllers are off for this session (the runtime refused their actions)");
}

static int xr_vk_config(struct gfx_backend *b, struct gfx_vk_config *c)
{
	c->hooks = &to_xr(b)->hooks;
	return 0;
}

static int xr_attach(struct gfx_backend *b, struct gfx_vk *vk, VkFormat *color_format, bool *srgb)
{
	struct gfx_xr *x = to_xr(b);
	x->vk = vk;
	gfx_xr_state_init(&x->st);
	x->said_end = false;
	XrGraphicsBindingVulkan2KHR binding = {
		.type = XR_TYPE_GRAPHICS_BINDING_VULKAN2_KHR,
		.instance = vk->instance,
		.physicalDevice = vk->phys,
		.device = vk->device,
		.queueFamilyIndex = vk->queue_family,
		.queueIndex = 0,
	};
	XrSessionCreateInfo ci = { .type = XR_TYPE_SESSION_CREATE_INFO, .next = &binding, .systemId = x->system };
	int e = xr_check(xrCreateSession(x->instance, &ci, &x->session), "xrCreateSession");
	if (!e)
		e = pick_space(x);
	if (!e)
		bind_input_session(x);
	if (!e)
		e = pick_format(x, srgb);
	for (uint32_t i = 0; !e && i < GFX_XR_EYES; i++)
		e = make_swapchain(x, &x->eye[i]);
	if (e) {
		drop_session(x);
		x->vk = NULL;
		return e;
	}
	*color_format = x->format;
	return 0;
}

/* Ends a running session the way the lifecycle wants: ask to exit, then
 * run empty frames until the runtime walks it down to exiting (at most
 * GFX_XR_EXIT_FRAMES_MAX frames or the state's timeout). */
static void end_session(struct gfx_xr *x)
{
	if (x->begun && release_images(x) == 0)
		end_xr_frame(x, false);
	if (step(x, &(struct gfx_xr_event){ .kind = GFX_XR_EV_QUIT }))
		return;
	for (uint32_t n = 0; n < GFX_XR_EXIT_FRAMES_MAX && x->session && !x->st.done; n++) {
		uint64_t t;
		if (xr_wait_frame(&x->base, &t) != 0)
			return;
		x->paced = false;
		if (!x->waited)
			continue;
		if (begin_xr_frame(x) || end_xr_frame(x, false))
			return;
	}
}

static void xr_detach(struct gfx_backend *b)
{
	struct gfx_xr *x = to_xr(b);
	if (!x->vk)
		return;
	if (x->session && !x->vk->lost && !x->st.done)
		end_session(x);
	drop_session(x);
	x->vk = NULL;
}

static void xr_destroy(struct gfx_backend *b)
{
	struct gfx_xr *x = to_xr(b);
	xr_detach(b);
	if (x->input)
		inp_xr_unbind_instance(x->input);
	if (x->instance)
		xrDestroyInstance(x->instance);
	free(x);
}

static const struct gfx_backend_ops xr_ops = {
	.vk_config = xr_vk_config,
	.attach = xr_attach,
	.detach = xr_detach,
	.wait_frame = xr_wait_frame,
	.begin_frame = xr_begin_frame,
	.end_frame = xr_end_frame,
	.destroy = xr_destroy,
};

/* ---- create ----------------------------------------------------------------------- */

static int get_proc(struct gfx_xr *x, const char *name, PFN_xrVoidFunction *out)
{
	return xr_check(xrGetInstanceProcAddr(x->instance, name, out), name);
}

/* The system, its views, blend mode, the extension's functions and the
 * Vulkan version it needs. */
static int open_system(struct gfx_xr *x)
{
	XrSystemGetInfo gi = { .type = XR_TYPE_SYSTEM_GET_INFO, .formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY };
	XrResult r = xrGetSystem(x->instance, &gi, &x->system);
	if (r == XR_ERROR_FORM_FACTOR_UNAVAILABLE) {
		th_notice("OpenXR: %s answered but no headset is connected", x->runtime);
		return -ENXIO;
	}
	int e = xr_check(r, "xrGetSystem");
	if (e)
		return e;
	XrViewConfigurationView cfg[GFX_XR_EYES];
	for (uint32_t i = 0; i < GFX_XR_EYES; i++)
		cfg[i] = (XrViewConfigurationView){ .type = XR_TYPE_VIEW_CONFIGURATION_VIEW };
	uint32_t n = 0;
	e = xr_check(xrEnumerateViewConfigurationViews(x->instance, x->system, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
						       GFX_XR_EYES, &n, cfg),
		     "xrEnumerateViewConfigurationViews");
	if (e)
		return e;
	if (n != GFX_XR_EYES) {
		th_err("OpenXR: the stereo view configuration has %u views", n);
		return -EPROTO;
	}
	for (uint32_t i = 0; i < GFX_XR_EYES; i++) {
		if (cfg[i].recommendedImageRectWidth == 0 || cfg[i].recommendedImageRectHeight == 0 ||
		    cfg[i].recommendedImageRectWidth > cfg[i].maxImageRectWidth ||
		    cfg[i].recommendedImageRectHeight > cfg[i].maxImageRectHeight) {
			th_err("OpenXR: eye %u's recommended size %ux%u is not usable", i, cfg[i].recommendedImageRectWidth,
			       cfg[i].recommendedImageRectHeight);
			return -EPROTO;
		}
		x->eye[i].cfg = cfg[i];
	}
	x->base.width = cfg[0].recommendedImageRectWidth;
	x->base.height = cfg[0].recommendedImageRectHeight;

	XrEnvironmentBlendMode modes[GFX_XR_BLEND_MAX];
	n = 0;
	r = xrEnumerateEnvironmentBlendModes(x->instance, x->system, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
					     GFX_XR_BLEND_MAX, &n, modes);
	x->blend = XR_SUCCEEDED(r) && n > 0 ? modes[0] : XR_ENVIRONMENT_BLEND_MODE_OPAQUE;

	PFN_xrGetVulkanGraphicsRequirements2KHR reqs_fn = NULL;
	if ((e = get_proc(x, "xrCreateVulkanInstanceKHR", (PFN_xrVoidFunction *)&x->create_vk_instance)) ||
	    (e = get_proc(x, "xrGetVulkanGraphicsDevice2KHR", (PFN_xrVoidFunction *)&x->graphics_device)) ||
	    (e = get_proc(x, "xrCreateVulkanDeviceKHR", (PFN_xrVoidFunction *)&x->create_vk_device)) ||
	    (e = get_proc(x, "xrGetVulkanGraphicsRequirements2KHR", (PFN_xrVoidFunction *)&reqs_fn)))
		return e;
	/* Required before xrCreateSession; Vulkan 1.3 is what gfx_vk asks for. */
	XrGraphicsRequirementsVulkan2KHR req = { .type = XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN2_KHR };
	e = xr_check(reqs_fn(x->instance, x->system, &req), "xrGetVulkanGraphicsRequirements2KHR");
	if (e)
		return e;
	if (req.minApiVersionSupported > XR_MAKE_VERSION(1, 3, 0)) {
		th_err("OpenXR: %s needs Vulkan %u.%u or later; the renderer uses 1.3", x->runtime,
		       (unsigned)XR_VERSION_MAJOR(req.minApiVersionSupported),
		       (unsigned)XR_VERSION_MINOR(req.minApiVersionSupported));
		return -ENOTSUP;
	}
	return 0;
}

int gfx_xr_create(const struct gfx_xr_config *c, struct gfx_backend **out)
{
	if (c && c->input && !inp_xr_is(c->input)) {
		th_err("OpenXR: the input handed to the backend (%s) is not an OpenXR source", c->input->name);
		return -EINVAL;
	}
	struct gfx_xr *x = calloc(1, sizeof *x);
	if (!x)
		return -ENOMEM;
	x->base.ops = &xr_ops;
	x->base.name = "xr";
	x->base.own_views = true;
	x->hooks = (struct gfx_vk_hooks){ .create_instance = hook_instance, .physical_device = hook_physical,
					  .create_device = hook_device, .ud = x };
	const char *exts[] = { XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME };
	XrInstanceCreateInfo ci = {
		.type = XR_TYPE_INSTANCE_CREATE_INFO,
		.applicationInfo = { .applicationVersion = 1, .engineVersion = 1, .apiVersion = XR_CURRENT_API_VERSION },
		.enabledExtensionCount = 1,
		.enabledExtensionNames = exts,
	};
	snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "%s",
		 c && c->app_name ? c->app_name : "theta-client");
	snprintf(ci.applicationInfo.engineName, sizeof ci.applicationInfo.engineName, "theta");
	/* The loader prints its own errors on stderr unless told otherwise;
	 * one line of ours says it (XR_LOADER_DEBUG set by the user wins). */
	setenv("XR_LOADER_DEBUG", "none", 0);
	XrResult r = xrCreateInstance(&ci, &x->instance);
	if (XR_FAILED(r)) {
		if (r == XR_ERROR_EXTENSION_NOT_PRESENT)
			th_notice("OpenXR: the runtime lacks %s (Vulkan): not using it", XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME);
		else
			th_notice("OpenXR: no runtime answered (xrCreateInstance: %s)", xr_result_name(r));
		free(x);
		return -ENXIO;
	}
	XrInstanceProperties ip = { .type = XR_TYPE_INSTANCE_PROPERTIES };
	if (XR_SUCCEEDED(xrGetInstanceProperties(x->instance, &ip)))
		snprintf(x->runtime, sizeof x->runtime, "%s", ip.runtimeName);
	else
		snprintf(x->runtime, sizeof x->runtime, "the OpenXR runtime");
	int e = open_system(x);
	if (e) {
		xrDestroyInstance(x->instance);
		free(x);
		return e;
	}
	if (c && c->input) {
		if (inp_xr_bind_instance(c->input, x->instance) == 0)
			x->input = c->input;
		else
			th_warn("OpenXR: the controllers are off (%s refused their actions): rendering without them",
				x->runtime);
	}
	th_info("OpenXR: %s, eyes %ux%u", x->runtime, x->base.width, x->base.height);
	*out = &x->base;
	return 0;
}
