/* Sessions (create, begin, request exit, end, destroy and the state events
 * they queue) and reference spaces. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xrt.h"

#define XRT_QUEUE_FAMILIES_MAX 16u

struct xrt_session *xrt_session_get(XrSession session)
{
	return (struct xrt_session *)xrt_handle_get((uint64_t)(uintptr_t)session, XRT_KIND_SESSION);
}

struct xrt_space *xrt_space_get(XrSpace space)
{
	return (struct xrt_space *)xrt_handle_get((uint64_t)(uintptr_t)space, XRT_KIND_SPACE);
}

static const XrGraphicsBindingVulkanKHR *find_binding(const void *next)
{
	for (const XrBaseInStructure *b = next; b; b = b->next)
		if (b->type == XR_TYPE_GRAPHICS_BINDING_VULKAN2_KHR)
			return (const XrGraphicsBindingVulkanKHR *)b;
	return NULL;
}

XrResult xrt_CreateSession(XrInstance instance, const XrSessionCreateInfo *ci, XrSession *out)
{
	XRT_ENTER_INSTANCE("xrCreateSession");
	if (!ci || ci->type != XR_TYPE_SESSION_CREATE_INFO || !out)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_SESSION_CREATE_INFO, or session is NULL."));
	XrResult r = xrt_check_system(inst, fn_name, ci->systemId);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (ci->createFlags != 0)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE, "createFlags must be 0."));
	if (!inst->got_requirements)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_GRAPHICS_REQUIREMENTS_CALL_MISSING,
				    "xrGetVulkanGraphicsRequirements2KHR was not called first."));
	const XrGraphicsBindingVulkanKHR *gb = find_binding(ci->next);
	if (!gb)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_GRAPHICS_DEVICE_INVALID,
				    "next has no XrGraphicsBindingVulkan2KHR (the only graphics API offered)."));
	if (!gb->instance || !gb->physicalDevice || !gb->device)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_GRAPHICS_DEVICE_INVALID,
				    "the graphics binding has a null instance, physical device or device."));
	if (gb->physicalDevice != inst->vk_phys)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_GRAPHICS_DEVICE_INVALID,
				    "the binding's physical device is not the one xrGetVulkanGraphicsDevice2KHR returned."));
	VkQueueFamilyProperties qf[XRT_QUEUE_FAMILIES_MAX];
	uint32_t nqf = XRT_QUEUE_FAMILIES_MAX;
	vkGetPhysicalDeviceQueueFamilyProperties(gb->physicalDevice, &nqf, qf);
	if (gb->queueFamilyIndex >= nqf || !(qf[gb->queueFamilyIndex].queueFlags & VK_QUEUE_GRAPHICS_BIT) ||
	    gb->queueIndex >= qf[gb->queueFamilyIndex].queueCount)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_GRAPHICS_DEVICE_INVALID,
				    "queue family %u / queue %u is not a graphics queue of the device.",
				    gb->queueFamilyIndex, gb->queueIndex));
	if (inst->session)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LIMIT_REACHED,
				    "the instance has a session already (one at a time)."));
	struct xrt_session *s = calloc(1, sizeof *s);
	if (!s)
		XRT_RETURN(XR_ERROR_OUT_OF_MEMORY);
	s->inst = inst;
	s->vk_instance = gb->instance;
	s->vk_phys = gb->physicalDevice;
	s->device = gb->device;
	s->queue_family = gb->queueFamilyIndex;
	s->queue_index = gb->queueIndex;
	VkResult vr = xrt_vk_session_init(s);
	if (vr != VK_SUCCESS) {
		free(s);
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_RUNTIME_FAILURE,
				    "the runtime's command pool on the client's device: VkResult %d.", (int)vr));
	}
	if (xrt_handle_add(&s->base, XRT_KIND_SESSION, &inst->base)) {
		xrt_vk_session_fini(s);
		free(s);
		XRT_RETURN(XR_ERROR_LIMIT_REACHED);
	}
	xrt_pacer_init(&s->pacer, XRT_FRAME_PERIOD_NS, inst->cfg.unpaced);
	s->hw_profile = inst->cfg.profile;
	s->profile = XRT_PROFILE_NONE;
	inp_state_init(&s->sync_st);
	s->id = ++inst->next_session_id;
	inst->session = s;
	xrt_record(inst, "session id=%u", s->id);
	xrt_queue_state(s, XR_SESSION_STATE_IDLE);
	xrt_queue_state(s, XR_SESSION_STATE_READY);
	*out = (XrSession)(uintptr_t)s->base.handle;
	XRT_RETURN(XR_SUCCESS);
}

void xrt_session_destroy(struct xrt_session *s)
{
	struct xrt_obj *o;
	while ((o = xrt_handle_child(&s->base, XRT_KIND_SWAPCHAIN)))
		xrt_swapchain_destroy((struct xrt_swapchain *)o);
	while ((o = xrt_handle_child(&s->base, XRT_KIND_SPACE))) {
		xrt_handle_remove(o);
		free(o);
	}
	xrt_vk_session_fini(s);
	xrt_input_session_end(s);
	xrt_record(s->inst, "syncs id=%u count=%llu focused=%llu", s->id, (unsigned long long)s->syncs,
		   (unsigned long long)s->focused_syncs);
	xrt_record(s->inst,
		   "destroy_session id=%u waited=%llu begun=%llu ended=%llu discarded=%llu errors=%llu", s->id,
		   (unsigned long long)s->waited, (unsigned long long)s->begun, (unsigned long long)s->ended,
		   (unsigned long long)s->discarded, (unsigned long long)s->errors);
	/* Events of this session still queued name a dead handle: drop them. */
	struct xrt_instance *inst = s->inst;
	uint32_t kept = 0;
	struct xrt_event keep[XRT_EVENTS_MAX];
	for (uint32_t i = 0; i < inst->ev_count; i++) {
		struct xrt_event *e = &inst->events[(inst->ev_head + i) % XRT_EVENTS_MAX];
		if (e->session != s->base.handle)
			keep[kept++] = *e;
	}
	memcpy(inst->events, keep, kept * sizeof keep[0]);
	inst->ev_head = 0;
	inst->ev_count = kept;
	inst->session = NULL;
	xrt_handle_remove(&s->base);
	free(s);
}

XrResult xrt_DestroySession(XrSession session)
{
	XRT_ENTER_SESSION("xrDestroySession");
	xrt_session_destroy(s);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_BeginSession(XrSession session, const XrSessionBeginInfo *info)
{
	XRT_ENTER_SESSION("xrBeginSession");
	if (!info || info->type != XR_TYPE_SESSION_BEGIN_INFO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "beginInfo is NULL or not XR_TYPE_SESSION_BEGIN_INFO."));
	if (info->primaryViewConfigurationType != XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED,
				    "primaryViewConfigurationType %d is not PRIMARY_STEREO.",
				    (int)info->primaryViewConfigurationType));
	if (s->loss_pending)
		XRT_RETURN(XR_SESSION_LOSS_PENDING);
	if (s->running)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_SESSION_RUNNING, "the session is running already."));
	if (s->state != XR_SESSION_STATE_READY)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_SESSION_NOT_READY, "the session is %s, not READY.",
				    xrt_state_name(s->state)));
	s->running = true;
	s->exit_requested = false;
	s->frame_open = false;
	s->waited = s->begun = s->ended = s->discarded = 0;
	s->t0 = 0;
	s->script_quit = false;
	s->local_known = false;
	xrt_pacer_init(&s->pacer, XRT_FRAME_PERIOD_NS, inst->cfg.unpaced);
	if (xrt_input_session_begin(s) < 0)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_RUNTIME_FAILURE, "out of memory replaying XRT_INPUT."));
	xrt_record(inst, "begin_session id=%u config=PRIMARY_STEREO", s->id);
	xrt_queue_state(s, XR_SESSION_STATE_SYNCHRONIZED);
	XRT_RETURN(XR_SUCCESS);
}

/* xrRequestExitSession and xrEndSession: a session lost or not running. */
static XrResult check_running(struct xrt_session *s, const char *fn)
{
	if (s->loss_pending)
		return XR_SESSION_LOSS_PENDING;
	if (!s->running)
		return xrt_fail(s->inst, s, fn, XR_ERROR_SESSION_NOT_RUNNING, "the session is not running.");
	return XR_SUCCESS;
}

void xrt_session_stop(struct xrt_session *s)
{
	if (s->state == XR_SESSION_STATE_FOCUSED)
		xrt_queue_state(s, XR_SESSION_STATE_VISIBLE);
	if (s->state == XR_SESSION_STATE_VISIBLE)
		xrt_queue_state(s, XR_SESSION_STATE_SYNCHRONIZED);
	if (s->state == XR_SESSION_STATE_SYNCHRONIZED)
		xrt_queue_state(s, XR_SESSION_STATE_STOPPING);
}

XrResult xrt_RequestExitSession(XrSession session)
{
	XRT_ENTER_SESSION("xrRequestExitSession");
	XrResult r = check_running(s, fn_name);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	xrt_record(inst, "request_exit id=%u", s->id);
	s->exit_requested = true;
	xrt_session_stop(s);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_EndSession(XrSession session)
{
	XRT_ENTER_SESSION("xrEndSession");
	XrResult r = check_running(s, fn_name);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (s->state != XR_SESSION_STATE_STOPPING)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_SESSION_NOT_STOPPING, "the session is %s, not STOPPING.",
				    xrt_state_name(s->state)));
	s->running = false;
	s->frame_open = false;
	xrt_record(inst, "end_session id=%u", s->id);
	xrt_queue_state(s, XR_SESSION_STATE_IDLE);
	xrt_queue_state(s, XR_SESSION_STATE_EXITING);
	XRT_RETURN(XR_SUCCESS);
}

static bool space_offered(const struct xrt_instance *inst, XrReferenceSpaceType t)
{
	return t == XR_REFERENCE_SPACE_TYPE_VIEW || t == XR_REFERENCE_SPACE_TYPE_LOCAL ||
	       (t == XR_REFERENCE_SPACE_TYPE_STAGE && !inst->cfg.no_stage);
}

XrResult xrt_EnumerateReferenceSpaces(XrSession session, uint32_t cap, uint32_t *count, XrReferenceSpaceType *t)
{
	XRT_ENTER_SESSION("xrEnumerateReferenceSpaces");
	static const XrReferenceSpaceType all[] = {XR_REFERENCE_SPACE_TYPE_VIEW, XR_REFERENCE_SPACE_TYPE_LOCAL,
						   XR_REFERENCE_SPACE_TYPE_STAGE};
	uint32_t n = inst->cfg.no_stage ? 2 : 3;
	XrResult r = xrt_two_call(inst, s, fn_name, cap, count, t, n, "spaceCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	memcpy(t, all, n * sizeof all[0]);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_space_new(struct xrt_session *s, const char *fn, struct xrt_space **out)
{
	struct xrt_space *sp = calloc(1, sizeof *sp);
	if (!sp)
		return XR_ERROR_OUT_OF_MEMORY;
	if (xrt_handle_add(&sp->base, XRT_KIND_SPACE, &s->base)) {
		free(sp);
		return xrt_fail(s->inst, s, fn, XR_ERROR_LIMIT_REACHED, "more than %u handles.", XRT_HANDLES_MAX);
	}
	sp->s = s;
	sp->id = ++s->next_space_id;
	*out = sp;
	return XR_SUCCESS;
}

XrResult xrt_CreateReferenceSpace(XrSession session, const XrReferenceSpaceCreateInfo *ci, XrSpace *out)
{
	XRT_ENTER_SESSION("xrCreateReferenceSpace");
	if (!ci || ci->type != XR_TYPE_REFERENCE_SPACE_CREATE_INFO || !out)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_REFERENCE_SPACE_CREATE_INFO, or space is NULL."));
	if (!space_offered(inst, ci->referenceSpaceType))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_REFERENCE_SPACE_UNSUPPORTED,
				    "reference space type %d is not offered.", (int)ci->referenceSpaceType));
	if (!xrt_pose_valid(&ci->poseInReferenceSpace))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_POSE_INVALID,
				    "poseInReferenceSpace has a non-unit orientation or a non-finite value."));
	struct xrt_space *sp;
	XrResult r = xrt_space_new(s, fn_name, &sp);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	sp->type = ci->referenceSpaceType;
	sp->pose = ci->poseInReferenceSpace;
	xrt_record(inst, "space id=%u type=%s", sp->id, xrt_space_name(sp->type));
	*out = (XrSpace)(uintptr_t)sp->base.handle;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetReferenceSpaceBoundsRect(XrSession session, XrReferenceSpaceType t, XrExtent2Df *bounds)
{
	XRT_ENTER_SESSION("xrGetReferenceSpaceBoundsRect");
	if (!bounds)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE, "bounds is NULL."));
	if (!space_offered(inst, t))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_REFERENCE_SPACE_UNSUPPORTED,
				    "reference space type %d is not offered.", (int)t));
	bounds->width = 0;
	bounds->height = 0;
	XRT_RETURN(XR_SPACE_BOUNDS_UNAVAILABLE);
}

bool xrt_space_locate(const struct xrt_space *sp, XrTime t, XrPosef *out)
{
	const struct xrt_session *s = sp->s;
	XrPosef origin = xrt_pose_identity();
	bool located = true;
	if (sp->type == XR_REFERENCE_SPACE_TYPE_VIEW) {
		located = xrt_input_head(s, t, &origin);
	} else if (sp->type == XR_REFERENCE_SPACE_TYPE_LOCAL) {
		/* LOCAL: the head's position and yaw at t0 (script time 0). */
		const struct xrt_script *sc = s->inst->script;
		if (sc && sc->has_head && sc->first_head_ns == 0) {
			/* Kept: a lookup at t0 after later ones would replay the script from its start. */
			struct xrt_session *ms = sp->s;
			if (!ms->local_known) {
				xrt_input_head(s, s->t0 > 0 ? s->t0 : t, &ms->local_origin);
				XrQuaternionf q = ms->local_origin.orientation;
				float yaw = atan2f(2.0f * (q.w * q.y + q.x * q.z), 1.0f - 2.0f * (q.x * q.x + q.y * q.y));
				ms->local_origin.orientation = xrt_quat_yaw(yaw);
				ms->local_known = true;
			}
			origin = ms->local_origin;
		} else {
			origin = xrt_space_origin(&s->inst->cfg, s->t0, sp->type, t);
		}
	} else if (sp->type == 0) {
		int h = xrt_action_space_hand(sp);
		located = h >= 0 && xrt_input_hand(s, t, h, &origin);
	}
	*out = xrt_pose_mul(origin, sp->pose);
	return located;
}

XrPosef xrt_space_in_stage(const struct xrt_space *sp, XrTime t)
{
	XrPosef p;
	xrt_space_locate(sp, t, &p);
	return p;
}

XrResult xrt_LocateSpace(XrSpace space, XrSpace base, XrTime time, XrSpaceLocation *loc)
{
	xrt_lock();
	struct xrt_space *sp = xrt_space_get(space), *bs = xrt_space_get(base);
	if (!sp || !bs) {
		xrt_unlock();
		return XR_ERROR_HANDLE_INVALID;
	}
	struct xrt_session *s = sp->s;
	struct xrt_instance *inst = s->inst;
	static const char fn_name[] = "xrLocateSpace";
	if (bs->s != s)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE, "the two spaces are of different sessions."));
	if (!loc || loc->type != XR_TYPE_SPACE_LOCATION)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "location is NULL or not XR_TYPE_SPACE_LOCATION."));
	if (time <= 0)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_TIME_INVALID, "time %lld is not a time.", (long long)time));
	if (xrt_input_failing(s))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_RUNTIME_FAILURE, "XRT_FAIL_INPUT (a broken runtime)."));
	XrPosef a, b;
	bool located = xrt_space_locate(sp, time, &a);
	located &= xrt_space_locate(bs, time, &b);
	loc->pose = located ? xrt_pose_mul(xrt_pose_inverse(b), a) : xrt_pose_identity();
	if (located && (sp->type == 0 || sp->type == XR_REFERENCE_SPACE_TYPE_VIEW))
		xrt_garbage_pose(xrt_garbage_kind(s), &loc->pose);
	loc->locationFlags = located ? XR_SPACE_LOCATION_ORIENTATION_VALID_BIT | XR_SPACE_LOCATION_POSITION_VALID_BIT |
					       XR_SPACE_LOCATION_ORIENTATION_TRACKED_BIT |
					       XR_SPACE_LOCATION_POSITION_TRACKED_BIT
				     : 0;
	for (XrBaseOutStructure *n = loc->next; n; n = n->next) {
		if (n->type == XR_TYPE_SPACE_VELOCITY) {
			XrSpaceVelocity *v = (XrSpaceVelocity *)n;
			v->velocityFlags = 0;
		}
	}
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_DestroySpace(XrSpace space)
{
	XRT_ENTER_HANDLE(struct xrt_space, sp, xrt_space_get, space)
	xrt_handle_remove(&sp->base);
	free(sp);
	XRT_RETURN(XR_SUCCESS);
}
