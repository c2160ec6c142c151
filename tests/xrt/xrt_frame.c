/* The frame calls: xrWaitFrame (the pacer), xrBeginFrame, xrEndFrame (every
 * layer checked, recorded, captured at the scripted frames; the scripted
 * exit and loss), and xrLocateViews. */
#include <errno.h>
#include <time.h>

#include "xrt.h"

/* The frame calls run while the session runs or its loss is pending. */
static XrResult check_frames_run(struct xrt_session *s, const char *fn)
{
	if (!s->running && !s->loss_pending)
		return xrt_fail(s->inst, s, fn, XR_ERROR_SESSION_NOT_RUNNING, "the session is not running.");
	return XR_SUCCESS;
}

XrResult xrt_WaitFrame(XrSession session, const XrFrameWaitInfo *info, XrFrameState *state)
{
	XRT_ENTER_SESSION("xrWaitFrame");
	if ((info && info->type != XR_TYPE_FRAME_WAIT_INFO) || !state || state->type != XR_TYPE_FRAME_STATE)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "frameWaitInfo is not XR_TYPE_FRAME_WAIT_INFO, or frameState is NULL or not "
				    "XR_TYPE_FRAME_STATE."));
	XrResult r = check_frames_run(s, fn_name);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (s->wait_pending)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "xrWaitFrame again before xrBeginFrame (a runtime would block here for ever)."));
	int64_t wake, display;
	xrt_pacer_next(&s->pacer, xrt_now_ns(), &wake, &display);
	s->waited++;
	s->wait_pending = true;
	if (s->t0 == 0)
		s->t0 = display;
	if (s->waited == 1 && s->state == XR_SESSION_STATE_SYNCHRONIZED) {
		xrt_queue_state(s, XR_SESSION_STATE_VISIBLE);
		xrt_queue_state(s, XR_SESSION_STATE_FOCUSED);
	}
	bool render = !s->loss_pending &&
		      (s->state == XR_SESSION_STATE_VISIBLE || s->state == XR_SESSION_STATE_FOCUSED);
	state->predictedDisplayTime = display;
	state->predictedDisplayPeriod = s->pacer.period_ns;
	state->shouldRender = render ? XR_TRUE : XR_FALSE;
	xrt_record(inst, "wait frame=%llu display_ns=%lld period_ns=%lld render=%d", (unsigned long long)(s->ended + 1),
		   (long long)display, (long long)s->pacer.period_ns, render);
	r = s->loss_pending ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
	xrt_unlock();
	struct timespec ts = {.tv_sec = wake / 1000000000ll, .tv_nsec = wake % 1000000000ll};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	return r;
}

XrResult xrt_BeginFrame(XrSession session, const XrFrameBeginInfo *info)
{
	XRT_ENTER_SESSION("xrBeginFrame");
	if (info && info->type != XR_TYPE_FRAME_BEGIN_INFO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "frameBeginInfo is not XR_TYPE_FRAME_BEGIN_INFO."));
	XrResult r = check_frames_run(s, fn_name);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (!s->wait_pending)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "xrBeginFrame without a xrWaitFrame before it."));
	s->wait_pending = false;
	s->begun++;
	unsigned long long frame = (unsigned long long)(s->ended + 1);
	if (s->frame_open) {
		s->discarded++;
		xrt_record(inst, "discard frame=%llu", frame);
		xrt_record(inst, "begin frame=%llu", frame);
		XRT_RETURN(XR_FRAME_DISCARDED);
	}
	s->frame_open = true;
	xrt_record(inst, "begin frame=%llu", frame);
	XRT_RETURN(s->loss_pending ? XR_SESSION_LOSS_PENDING : XR_SUCCESS);
}

/* A sub-image: a live colour swapchain of this session with a released
 * image, the rectangle inside it, the layer there. */
static XrResult check_sub(struct xrt_session *s, const char *fn, const XrSwapchainSubImage *sub, uint32_t layer,
			  uint32_t view, struct xrt_swapchain **out)
{
	struct xrt_instance *inst = s->inst;
	struct xrt_swapchain *sc = xrt_swapchain_get(sub->swapchain);
	if (!sc || sc->s != s)
		return xrt_fail(inst, s, fn, XR_ERROR_HANDLE_INVALID, "layer %u view %u: the swapchain is not a live one of this session.",
				layer, view);
	if (sc->depth)
		return xrt_fail(inst, s, fn, XR_ERROR_LAYER_INVALID, "layer %u view %u: swapchain %u is a depth one.", layer,
				view, sc->id);
	if (sc->last_released < 0)
		return xrt_fail(inst, s, fn, XR_ERROR_LAYER_INVALID,
				"layer %u view %u: swapchain %u has no released image.", layer, view, sc->id);
	const XrRect2Di *r = &sub->imageRect;
	if (r->offset.x < 0 || r->offset.y < 0 || r->extent.width <= 0 || r->extent.height <= 0 ||
	    (int64_t)r->offset.x + r->extent.width > (int64_t)sc->w ||
	    (int64_t)r->offset.y + r->extent.height > (int64_t)sc->h)
		return xrt_fail(inst, s, fn, XR_ERROR_SWAPCHAIN_RECT_INVALID,
				"layer %u view %u's imageRect %d,%d,%d,%d is outside the %u x %u swapchain image.", layer,
				view, r->offset.x, r->offset.y, r->extent.width, r->extent.height, sc->w, sc->h);
	if (sub->imageArrayIndex >= sc->array)
		return xrt_fail(inst, s, fn, XR_ERROR_VALIDATION_FAILURE,
				"layer %u view %u: imageArrayIndex %u but swapchain %u has %u layers.", layer, view,
				sub->imageArrayIndex, sc->id, sc->array);
	*out = sc;
	return XR_SUCCESS;
}

static XrResult check_space(struct xrt_session *s, const char *fn, XrSpace space, uint32_t layer,
			    struct xrt_space **out)
{
	struct xrt_space *sp = xrt_space_get(space);
	if (!sp || sp->s != s)
		return xrt_fail(s->inst, s, fn, XR_ERROR_HANDLE_INVALID, "layer %u: the space is not a live one of this session.",
				layer);
	*out = sp;
	return XR_SUCCESS;
}

static XrResult check_layer(struct xrt_session *s, const char *fn, const XrCompositionLayerBaseHeader *l,
			    uint32_t i)
{
	struct xrt_instance *inst = s->inst;
	struct xrt_space *sp;
	struct xrt_swapchain *sc;
	XrResult r;
	if (!l)
		return xrt_fail(inst, s, fn, XR_ERROR_LAYER_INVALID, "layer %u is NULL.", i);
	if (l->type == XR_TYPE_COMPOSITION_LAYER_QUAD) {
		const XrCompositionLayerQuad *q = (const XrCompositionLayerQuad *)l;
		if ((r = check_space(s, fn, q->space, i, &sp)) != XR_SUCCESS ||
		    (r = check_sub(s, fn, &q->subImage, i, 0, &sc)) != XR_SUCCESS)
			return r;
		if (!xrt_pose_valid(&q->pose))
			return xrt_fail(inst, s, fn, XR_ERROR_POSE_INVALID, "layer %u's pose is not a pose.", i);
		return XR_SUCCESS;
	}
	if (l->type != XR_TYPE_COMPOSITION_LAYER_PROJECTION)
		return xrt_fail(inst, s, fn, XR_ERROR_LAYER_INVALID,
				"layer %u has type %d (this runtime composes projection and quad layers).", i, (int)l->type);
	const XrCompositionLayerProjection *p = (const XrCompositionLayerProjection *)l;
	if ((r = check_space(s, fn, p->space, i, &sp)) != XR_SUCCESS)
		return r;
	if (p->viewCount != XRT_VIEWS || !p->views)
		return xrt_fail(inst, s, fn, XR_ERROR_VALIDATION_FAILURE,
				"projection layer %u has %u views: PRIMARY_STEREO has %u.", i, p->viewCount, XRT_VIEWS);
	for (uint32_t v = 0; v < XRT_VIEWS; v++) {
		const XrCompositionLayerProjectionView *pv = &p->views[v];
		if (pv->type != XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW)
			return xrt_fail(inst, s, fn, XR_ERROR_VALIDATION_FAILURE,
					"layer %u view %u's type is %d, not XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW.", i, v,
					(int)pv->type);
		if (!xrt_pose_valid(&pv->pose))
			return xrt_fail(inst, s, fn, XR_ERROR_POSE_INVALID,
					"layer %u view %u's pose has a non-unit orientation or a non-finite value.", i, v);
		if (!(pv->fov.angleLeft < pv->fov.angleRight && pv->fov.angleDown < pv->fov.angleUp))
			return xrt_fail(inst, s, fn, XR_ERROR_VALIDATION_FAILURE,
					"layer %u view %u's fov is empty or inverted.", i, v);
		if ((r = check_sub(s, fn, &pv->subImage, i, v, &sc)) != XR_SUCCESS)
			return r;
	}
	return XR_SUCCESS;
}

static bool capture_frame(const struct xrt_config *cfg, uint64_t frame)
{
	if (!cfg->capture_dir[0])
		return false;
	for (uint32_t i = 0; i < cfg->ncapture_frames; i++)
		if (cfg->capture_frames[i] == frame)
			return true;
	return false;
}

static void record_layers(struct xrt_session *s, uint64_t frame, const XrFrameEndInfo *info, bool capture)
{
	struct xrt_instance *inst = s->inst;
	unsigned long long f = (unsigned long long)frame;
	for (uint32_t i = 0; i < info->layerCount; i++) {
		const XrCompositionLayerBaseHeader *l = info->layers[i];
		if (l->type == XR_TYPE_COMPOSITION_LAYER_QUAD) {
			const XrCompositionLayerQuad *q = (const XrCompositionLayerQuad *)l;
			xrt_record(inst, "layer frame=%llu index=%u type=QUAD space=%u swapchain=%u", f, i,
				   xrt_space_get(q->space)->id, xrt_swapchain_get(q->subImage.swapchain)->id);
			continue;
		}
		const XrCompositionLayerProjection *p = (const XrCompositionLayerProjection *)l;
		xrt_record(inst, "layer frame=%llu index=%u type=PROJECTION space=%u views=%u", f, i,
			   xrt_space_get(p->space)->id, p->viewCount);
		for (uint32_t v = 0; v < p->viewCount; v++) {
			const XrCompositionLayerProjectionView *pv = &p->views[v];
			const struct xrt_swapchain *sc = xrt_swapchain_get(pv->subImage.swapchain);
			const XrRect2Di *r = &pv->subImage.imageRect;
			xrt_record(inst,
				   "view frame=%llu layer=%u eye=%u swapchain=%u image=%d array=%u rect=%d,%d,%d,%d "
				   "pos=%.4f,%.4f,%.4f quat=%.4f,%.4f,%.4f,%.4f fov=%.4f,%.4f,%.4f,%.4f",
				   f, i, v, sc->id, sc->last_released, pv->subImage.imageArrayIndex, r->offset.x,
				   r->offset.y, r->extent.width, r->extent.height, (double)pv->pose.position.x,
				   (double)pv->pose.position.y, (double)pv->pose.position.z,
				   (double)pv->pose.orientation.x, (double)pv->pose.orientation.y,
				   (double)pv->pose.orientation.z, (double)pv->pose.orientation.w,
				   (double)pv->fov.angleLeft, (double)pv->fov.angleRight, (double)pv->fov.angleUp,
				   (double)pv->fov.angleDown);
		}
		if (capture) {
			for (uint32_t v = 0; v < p->viewCount; v++)
				xrt_capture_view(s, frame, v, &p->views[v].subImage);
			capture = false; /* the first projection layer is the eyes */
		}
	}
}

XrResult xrt_EndFrame(XrSession session, const XrFrameEndInfo *info)
{
	XRT_ENTER_SESSION("xrEndFrame");
	if (!info || info->type != XR_TYPE_FRAME_END_INFO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "frameEndInfo is NULL or not XR_TYPE_FRAME_END_INFO."));
	XrResult r = check_frames_run(s, fn_name);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (!s->frame_open)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "xrEndFrame without a xrBeginFrame before it."));
	if (info->displayTime <= 0)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_TIME_INVALID, "displayTime %lld is not a time.",
				    (long long)info->displayTime));
	if (info->environmentBlendMode != XR_ENVIRONMENT_BLEND_MODE_OPAQUE)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_ENVIRONMENT_BLEND_MODE_UNSUPPORTED,
				    "environmentBlendMode %d: only OPAQUE is offered.", (int)info->environmentBlendMode));
	if (info->layerCount > XRT_LAYERS_MAX)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_LAYER_LIMIT_EXCEEDED, "%u layers: at most %u.",
				    info->layerCount, XRT_LAYERS_MAX));
	if (info->layerCount && !info->layers)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE, "layers is NULL."));
	for (uint32_t i = 0; i < info->layerCount; i++) {
		r = check_layer(s, fn_name, info->layers[i], i);
		if (r != XR_SUCCESS)
			XRT_RETURN(r);
	}
	s->frame_open = false;
	uint64_t frame = ++s->ended;
	xrt_record(inst, "end frame=%llu layers=%u blend=OPAQUE display_ns=%lld", (unsigned long long)frame,
		   info->layerCount, (long long)info->displayTime);
	record_layers(s, frame, info, capture_frame(&inst->cfg, frame));
	if (s->loss_pending)
		XRT_RETURN(XR_SESSION_LOSS_PENDING);
	if (inst->cfg.loss_at && frame == inst->cfg.loss_at) {
		s->loss_pending = true;
		s->running = false;
		xrt_queue_state(s, XR_SESSION_STATE_LOSS_PENDING);
	} else if (inst->cfg.exit_after && frame == inst->cfg.exit_after && !s->exit_requested) {
		xrt_record(inst, "exit_after frame=%llu", (unsigned long long)frame);
		xrt_session_stop(s);
	}
	if (!s->loss_pending)
		xrt_input_end_frame(s, frame);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_LocateViews(XrSession session, const XrViewLocateInfo *info, XrViewState *state, uint32_t cap,
			 uint32_t *count, XrView *views)
{
	XRT_ENTER_SESSION("xrLocateViews");
	if (!info || info->type != XR_TYPE_VIEW_LOCATE_INFO || !state || state->type != XR_TYPE_VIEW_STATE || !count ||
	    (cap && !views))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "viewLocateInfo or viewState is NULL or of the wrong type, or an output is NULL."));
	if (info->viewConfigurationType != XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED,
				    "view configuration %d is not PRIMARY_STEREO.", (int)info->viewConfigurationType));
	if (info->displayTime <= 0)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_TIME_INVALID, "displayTime %lld is not a time.",
				    (long long)info->displayTime));
	struct xrt_space *sp = xrt_space_get(info->space);
	if (!sp || sp->s != s)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_HANDLE_INVALID, "the space is not a live one of this session."));
	XrResult r = xrt_two_call(inst, s, fn_name, cap, count, views, XRT_VIEWS, "viewCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	for (uint32_t v = 0; v < XRT_VIEWS; v++)
		if (views[v].type != XR_TYPE_VIEW)
			XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE, "views[%u].type is not XR_TYPE_VIEW.",
					    v));
	XrPosef base_pose, head;
	bool located = xrt_space_locate(sp, info->displayTime, &base_pose);
	located &= xrt_input_head(s, info->displayTime, &head);
	XrPosef base = xrt_pose_inverse(base_pose);
	for (uint32_t v = 0; v < XRT_VIEWS; v++) {
		views[v].pose = xrt_pose_mul(base, xrt_eye_of_head(&inst->cfg, head, v));
		views[v].fov = (XrFovf){inst->cfg.fov[0], inst->cfg.fov[1], inst->cfg.fov[2], inst->cfg.fov[3]};
	}
	state->viewStateFlags = located ? XR_VIEW_STATE_ORIENTATION_VALID_BIT | XR_VIEW_STATE_POSITION_VALID_BIT |
						  XR_VIEW_STATE_ORIENTATION_TRACKED_BIT | XR_VIEW_STATE_POSITION_TRACKED_BIT
					: 0;
	XRT_RETURN(XR_SUCCESS);
}
