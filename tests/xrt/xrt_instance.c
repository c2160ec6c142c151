/* Instance, system, view configurations, blend modes, events, paths and
 * the to-string functions. */
#include <errno.h>
#include <openxr/openxr_reflection.h>
#include <stdlib.h>
#include <string.h>

#include "xrt.h"

#define XRT_RUNTIME_VERSION XR_MAKE_VERSION(0, 1, 0)

static const char *const xrt_extensions[] = {XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME};
#define XRT_NEXTENSIONS (sizeof xrt_extensions / sizeof xrt_extensions[0])
static const uint32_t xrt_extension_versions[] = {XR_KHR_vulkan_enable2_SPEC_VERSION};

struct xrt_instance *xrt_instance_get(XrInstance instance)
{
	return (struct xrt_instance *)xrt_handle_get((uint64_t)(uintptr_t)instance, XRT_KIND_INSTANCE);
}

XrResult xrt_check_system(struct xrt_instance *inst, const char *fn, XrSystemId id)
{
	if (id != XRT_SYSTEM_ID || !inst->got_system)
		return xrt_fail(inst, NULL, fn, XR_ERROR_SYSTEM_INVALID,
				"systemId %llu is not the system xrGetSystem returned.", (unsigned long long)id);
	return XR_SUCCESS;
}

XrResult xrt_EnumerateApiLayerProperties(uint32_t cap, uint32_t *count, XrApiLayerProperties *props)
{
	if (!count)
		return XR_ERROR_VALIDATION_FAILURE;
	*count = 0;
	return XR_SUCCESS;
}

XrResult xrt_EnumerateInstanceExtensionProperties(const char *layer, uint32_t cap, uint32_t *count,
						  XrExtensionProperties *props)
{
	if (layer)
		return XR_ERROR_API_LAYER_NOT_PRESENT;
	if (!count || (cap && !props))
		return XR_ERROR_VALIDATION_FAILURE;
	*count = XRT_NEXTENSIONS;
	if (cap == 0)
		return XR_SUCCESS;
	if (cap < XRT_NEXTENSIONS)
		return XR_ERROR_SIZE_INSUFFICIENT;
	for (uint32_t i = 0; i < XRT_NEXTENSIONS; i++) {
		if (props[i].type != XR_TYPE_EXTENSION_PROPERTIES)
			return XR_ERROR_VALIDATION_FAILURE;
		snprintf(props[i].extensionName, sizeof props[i].extensionName, "%s", xrt_extensions[i]);
		props[i].extensionVersion = xrt_extension_versions[i];
	}
	return XR_SUCCESS;
}

static XrResult instance_free(struct xrt_instance *inst, XrResult r)
{
	xrt_script_close(inst);
	if (inst->record)
		fclose(inst->record);
	free(inst->paths);
	free(inst);
	return r;
}

XrResult xrt_CreateInstance(const XrInstanceCreateInfo *ci, XrInstance *out)
{
	static const char fn[] = "xrCreateInstance";
	if (!ci || !out)
		return XR_ERROR_VALIDATION_FAILURE;
	struct xrt_instance *inst = calloc(1, sizeof *inst);
	if (!inst)
		return XR_ERROR_OUT_OF_MEMORY;
	inst->paths = calloc(XRT_PATHS_MAX, sizeof inst->paths[0]);
	if (!inst->paths)
		return instance_free(inst, XR_ERROR_OUT_OF_MEMORY);
	char why[XRT_WHY_MAX];
	if (xrt_config_read(&inst->cfg, why, sizeof why)) {
		fprintf(stderr, "theta test runtime: %s\n", why);
		return instance_free(inst, XR_ERROR_INITIALIZATION_FAILED);
	}
	if (inst->cfg.record[0]) {
		inst->record = fopen(inst->cfg.record, "ae");
		if (!inst->record) {
			fprintf(stderr, "theta test runtime: cannot open XRT_RECORD=%s: %s\n", inst->cfg.record,
				strerror(errno));
			return instance_free(inst, XR_ERROR_INITIALIZATION_FAILED);
		}
	}
	if (xrt_script_open(inst, why, sizeof why)) {
		fprintf(stderr, "theta test runtime: %s\n", why);
		xrt_record(inst, "error fn=%s result=XR_ERROR_INITIALIZATION_FAILED why=%s", fn, why);
		return instance_free(inst, XR_ERROR_INITIALIZATION_FAILED);
	}
	XrResult r = XR_SUCCESS;
	if (ci->type != XR_TYPE_INSTANCE_CREATE_INFO)
		r = xrt_fail(inst, NULL, fn, XR_ERROR_VALIDATION_FAILURE, "createInfo->type is %d, not XR_TYPE_INSTANCE_CREATE_INFO.",
			     (int)ci->type);
	else if (ci->createFlags != 0)
		r = xrt_fail(inst, NULL, fn, XR_ERROR_VALIDATION_FAILURE, "createFlags must be 0.");
	else if (XR_VERSION_MAJOR(ci->applicationInfo.apiVersion) != 1)
		r = xrt_fail(inst, NULL, fn, XR_ERROR_API_VERSION_UNSUPPORTED, "apiVersion major %u: this runtime is OpenXR 1.0.",
			     (unsigned)XR_VERSION_MAJOR(ci->applicationInfo.apiVersion));
	else if (!memchr(ci->applicationInfo.applicationName, 0, XR_MAX_APPLICATION_NAME_SIZE) ||
		 !ci->applicationInfo.applicationName[0])
		r = xrt_fail(inst, NULL, fn, XR_ERROR_NAME_INVALID, "applicationName is empty or not terminated.");
	else if (ci->enabledExtensionCount && !ci->enabledExtensionNames)
		r = xrt_fail(inst, NULL, fn, XR_ERROR_VALIDATION_FAILURE, "enabledExtensionNames is NULL.");
	for (uint32_t i = 0; r == XR_SUCCESS && i < ci->enabledExtensionCount; i++) {
		const char *e = ci->enabledExtensionNames[i];
		bool known = false;
		for (uint32_t k = 0; e && k < XRT_NEXTENSIONS; k++)
			known |= strcmp(e, xrt_extensions[k]) == 0;
		if (!known)
			r = xrt_fail(inst, NULL, fn, XR_ERROR_EXTENSION_NOT_PRESENT, "extension %s is not offered.",
				     e ? e : "(null)");
		else
			inst->enable2 = true;
	}
	if (r != XR_SUCCESS)
		return instance_free(inst, r);
	snprintf(inst->app_name, sizeof inst->app_name, "%s", ci->applicationInfo.applicationName);
	xrt_lock();
	if (xrt_handle_add(&inst->base, XRT_KIND_INSTANCE, NULL)) {
		xrt_unlock();
		return instance_free(inst, XR_ERROR_LIMIT_REACHED);
	}
	xrt_set_last_instance(inst);
	char name[XR_MAX_APPLICATION_NAME_SIZE];
	snprintf(name, sizeof name, "%s", inst->app_name);
	for (char *c = name; *c; c++)
		if (*c == ' ')
			*c = '_';
	xrt_record(inst, "instance app=%s api=%u.%u.%u exts=%s", name,
		   (unsigned)XR_VERSION_MAJOR(ci->applicationInfo.apiVersion),
		   (unsigned)XR_VERSION_MINOR(ci->applicationInfo.apiVersion),
		   (unsigned)XR_VERSION_PATCH(ci->applicationInfo.apiVersion), inst->enable2 ? xrt_extensions[0] : "-");
	*out = (XrInstance)(uintptr_t)inst->base.handle;
	xrt_unlock();
	return XR_SUCCESS;
}

XrResult xrt_DestroyInstance(XrInstance instance)
{
	XRT_ENTER_HANDLE(struct xrt_instance, inst, xrt_instance_get, instance)
	if (inst->session)
		xrt_session_destroy(inst->session);
	xrt_actions_free(inst);
	xrt_record(inst, "destroy_instance");
	xrt_handle_remove(&inst->base);
	if (xrt_last_instance() == inst)
		xrt_set_last_instance(NULL);
	xrt_unlock();
	return instance_free(inst, XR_SUCCESS);
}

XrResult xrt_GetInstanceProperties(XrInstance instance, XrInstanceProperties *props)
{
	XRT_ENTER_INSTANCE("xrGetInstanceProperties");
	if (!props || props->type != XR_TYPE_INSTANCE_PROPERTIES)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "instanceProperties is NULL or not XR_TYPE_INSTANCE_PROPERTIES."));
	props->runtimeVersion = XRT_RUNTIME_VERSION;
	snprintf(props->runtimeName, sizeof props->runtimeName, "%s", XRT_RUNTIME_NAME);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_PollEvent(XrInstance instance, XrEventDataBuffer *ev)
{
	XRT_ENTER_INSTANCE("xrPollEvent");
	if (!ev || ev->type != XR_TYPE_EVENT_DATA_BUFFER)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "eventData is NULL or its type is not XR_TYPE_EVENT_DATA_BUFFER."));
	if (inst->ev_overflow) {
		inst->ev_overflow = false;
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_RUNTIME_FAILURE,
				    "more than %u events waited: events were lost (poll every frame).", XRT_EVENTS_MAX));
	}
	if (inst->ev_count == 0)
		XRT_RETURN(XR_EVENT_UNAVAILABLE);
	struct xrt_event e = inst->events[inst->ev_head];
	inst->ev_head = (inst->ev_head + 1) % XRT_EVENTS_MAX;
	inst->ev_count--;
	memset(ev, 0, sizeof *ev);
	if (e.type == XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED) {
		XrEventDataInteractionProfileChanged *pc = (XrEventDataInteractionProfileChanged *)ev;
		pc->type = XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED;
		pc->session = (XrSession)(uintptr_t)e.session;
		XRT_RETURN(XR_SUCCESS);
	}
	XrEventDataSessionStateChanged *sc = (XrEventDataSessionStateChanged *)ev;
	sc->type = XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED;
	sc->session = (XrSession)(uintptr_t)e.session;
	sc->state = e.state;
	sc->time = e.time;
	XRT_RETURN(XR_SUCCESS);
}

static void queue_event(struct xrt_session *s, XrStructureType type, XrSessionState st)
{
	struct xrt_instance *inst = s->inst;
	if (inst->ev_count == XRT_EVENTS_MAX) {
		inst->ev_overflow = true;
		return;
	}
	struct xrt_event *e = &inst->events[(inst->ev_head + inst->ev_count) % XRT_EVENTS_MAX];
	e->type = type;
	e->session = s->base.handle;
	e->state = st;
	e->time = xrt_now_ns();
	inst->ev_count++;
}

void xrt_queue_state(struct xrt_session *s, XrSessionState st)
{
	s->state = st;
	xrt_record(s->inst, "state id=%u to=%s", s->id, xrt_state_name(st));
	queue_event(s, XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED, st);
}

void xrt_queue_profile_changed(struct xrt_session *s)
{
	queue_event(s, XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED, XR_SESSION_STATE_UNKNOWN);
}

XrResult xrt_ResultToString(XrInstance instance, XrResult value, char buffer[XR_MAX_RESULT_STRING_SIZE])
{
	XRT_ENTER_INSTANCE("xrResultToString");
	if (!buffer)
		XRT_RETURN(XR_ERROR_VALIDATION_FAILURE);
	const char *n = xrt_result_name(value);
	if (n && value != XR_RESULT_MAX_ENUM)
		snprintf(buffer, XR_MAX_RESULT_STRING_SIZE, "%s", n);
	else
		snprintf(buffer, XR_MAX_RESULT_STRING_SIZE, "XR_UNKNOWN_%s_%d", value >= 0 ? "SUCCESS" : "FAILURE",
			 (int)value);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_StructureTypeToString(XrInstance instance, XrStructureType value,
				   char buffer[XR_MAX_STRUCTURE_NAME_SIZE])
{
	XRT_ENTER_INSTANCE("xrStructureTypeToString");
	if (!buffer)
		XRT_RETURN(XR_ERROR_VALIDATION_FAILURE);
	const char *n = NULL;
	switch (value) {
#define XRT_TYPE_CASE(name, v) \
	case name:             \
		n = #name;     \
		break;
		XR_LIST_ENUM_XrStructureType(XRT_TYPE_CASE)
#undef XRT_TYPE_CASE
	default:
		break;
	}
	if (n && value != XR_STRUCTURE_TYPE_MAX_ENUM)
		snprintf(buffer, XR_MAX_STRUCTURE_NAME_SIZE, "%s", n);
	else
		snprintf(buffer, XR_MAX_STRUCTURE_NAME_SIZE, "XR_UNKNOWN_STRUCTURE_TYPE_%d", (int)value);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetSystem(XrInstance instance, const XrSystemGetInfo *info, XrSystemId *id)
{
	XRT_ENTER_INSTANCE("xrGetSystem");
	if (!info || info->type != XR_TYPE_SYSTEM_GET_INFO || !id)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "getInfo is NULL or not XR_TYPE_SYSTEM_GET_INFO, or systemId is NULL."));
	if (info->formFactor != XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY &&
	    info->formFactor != XR_FORM_FACTOR_HANDHELD_DISPLAY)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE, "formFactor %d is not a form factor.",
				    (int)info->formFactor));
	if (info->formFactor != XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_FORM_FACTOR_UNSUPPORTED,
				    "only XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY is offered."));
	if (inst->cfg.no_hmd)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_FORM_FACTOR_UNAVAILABLE,
				    "the headset is not connected (XRT_NO_HMD=1)."));
	inst->got_system = true;
	*id = XRT_SYSTEM_ID;
	xrt_record(inst, "system id=%u", XRT_SYSTEM_ID);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetSystemProperties(XrInstance instance, XrSystemId id, XrSystemProperties *props)
{
	XRT_ENTER_INSTANCE("xrGetSystemProperties");
	XrResult r = xrt_check_system(inst, fn_name, id);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (!props || props->type != XR_TYPE_SYSTEM_PROPERTIES)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "properties is NULL or not XR_TYPE_SYSTEM_PROPERTIES."));
	props->systemId = XRT_SYSTEM_ID;
	props->vendorId = XRT_VENDOR_ID;
	snprintf(props->systemName, sizeof props->systemName, "%s", XRT_SYSTEM_NAME);
	props->graphicsProperties.maxSwapchainImageWidth = XRT_IMAGE_DIM_MAX;
	props->graphicsProperties.maxSwapchainImageHeight = XRT_IMAGE_DIM_MAX;
	props->graphicsProperties.maxLayerCount = XRT_LAYERS_MAX;
	props->trackingProperties.orientationTracking = XR_TRUE;
	props->trackingProperties.positionTracking = XR_TRUE;
	XRT_RETURN(XR_SUCCESS);
}

/* The system, then the view configuration (PRIMARY_STEREO only). */
static XrResult check_system_vct(struct xrt_instance *inst, const char *fn, XrSystemId id,
				 XrViewConfigurationType vct)
{
	XrResult r = xrt_check_system(inst, fn, id);
	if (r != XR_SUCCESS)
		return r;
	if (vct != XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO)
		return xrt_fail(inst, NULL, fn, XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED,
				"view configuration %d is not offered (only PRIMARY_STEREO).", (int)vct);
	return XR_SUCCESS;
}

XrResult xrt_EnumerateEnvironmentBlendModes(XrInstance instance, XrSystemId id, XrViewConfigurationType vct,
					    uint32_t cap, uint32_t *count, XrEnvironmentBlendMode *modes)
{
	XRT_ENTER_INSTANCE("xrEnumerateEnvironmentBlendModes");
	XrResult r = check_system_vct(inst, fn_name, id, vct);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	r = xrt_two_call(inst, NULL, fn_name, cap, count, modes, 1, "environmentBlendModeCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	modes[0] = XR_ENVIRONMENT_BLEND_MODE_OPAQUE;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_EnumerateViewConfigurations(XrInstance instance, XrSystemId id, uint32_t cap, uint32_t *count,
					 XrViewConfigurationType *types)
{
	XRT_ENTER_INSTANCE("xrEnumerateViewConfigurations");
	XrResult r = xrt_check_system(inst, fn_name, id);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	r = xrt_two_call(inst, NULL, fn_name, cap, count, types, 1, "viewConfigurationTypeCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	types[0] = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetViewConfigurationProperties(XrInstance instance, XrSystemId id, XrViewConfigurationType vct,
					    XrViewConfigurationProperties *props)
{
	XRT_ENTER_INSTANCE("xrGetViewConfigurationProperties");
	XrResult r = check_system_vct(inst, fn_name, id, vct);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (!props || props->type != XR_TYPE_VIEW_CONFIGURATION_PROPERTIES)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "configurationProperties is NULL or not XR_TYPE_VIEW_CONFIGURATION_PROPERTIES."));
	props->viewConfigurationType = vct;
	props->fovMutable = XR_FALSE;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_EnumerateViewConfigurationViews(XrInstance instance, XrSystemId id, XrViewConfigurationType vct,
					     uint32_t cap, uint32_t *count, XrViewConfigurationView *views)
{
	XRT_ENTER_INSTANCE("xrEnumerateViewConfigurationViews");
	XrResult r = check_system_vct(inst, fn_name, id, vct);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	r = xrt_two_call(inst, NULL, fn_name, cap, count, views, XRT_VIEWS, "viewCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	for (uint32_t i = 0; i < XRT_VIEWS; i++) {
		if (views[i].type != XR_TYPE_VIEW_CONFIGURATION_VIEW)
			XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
					    "views[%u].type is not XR_TYPE_VIEW_CONFIGURATION_VIEW.", i));
		views[i].recommendedImageRectWidth = inst->cfg.view_w;
		views[i].recommendedImageRectHeight = inst->cfg.view_h;
		views[i].maxImageRectWidth = XRT_IMAGE_DIM_MAX;
		views[i].maxImageRectHeight = XRT_IMAGE_DIM_MAX;
		views[i].recommendedSwapchainSampleCount = 1;
		views[i].maxSwapchainSampleCount = 1;
	}
	XRT_RETURN(XR_SUCCESS);
}

/* A well-formed path: "/" then components of [a-z0-9-_.] separated by
 * single slashes, none of them only dots, no trailing slash. */
static bool path_ok(const char *s)
{
	size_t len = strnlen(s, XR_MAX_PATH_LENGTH);
	if (len == 0 || len >= XR_MAX_PATH_LENGTH || s[0] != '/' || s[len - 1] == '/')
		return false;
	const char *comp = s + 1;
	for (const char *c = s + 1;; c++) {
		if (*c == '/' || *c == '\0') {
			size_t n = (size_t)(c - comp);
			if (n == 0)
				return false;
			bool dots = true;
			for (size_t i = 0; i < n; i++)
				dots &= comp[i] == '.';
			if (dots)
				return false;
			if (*c == '\0')
				return true;
			comp = c + 1;
			continue;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return false;
	}
}

XrResult xrt_StringToPath(XrInstance instance, const char *str, XrPath *path)
{
	XRT_ENTER_INSTANCE("xrStringToPath");
	if (!str || !path)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE, "pathString or path is NULL."));
	if (!path_ok(str))
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_FORMAT_INVALID, "'%.64s' is not a well-formed path.",
				    str));
	XrPath p = xrt_path_intern(inst, str);
	if (p == XR_NULL_PATH)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_COUNT_EXCEEDED, "more than %u paths.", XRT_PATHS_MAX));
	*path = p;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_PathToString(XrInstance instance, XrPath path, uint32_t cap, uint32_t *count, char *buf)
{
	XRT_ENTER_INSTANCE("xrPathToString");
	if (path == XR_NULL_PATH || path > inst->npaths)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_INVALID, "path %llu was not made by xrStringToPath.",
				    (unsigned long long)path));
	if (!count || (cap && !buf))
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE, "a NULL output."));
	const char *s = inst->paths[path - 1];
	uint32_t need = (uint32_t)strlen(s) + 1;
	XrResult r = xrt_two_call(inst, NULL, fn_name, cap, count, buf, need, "bufferCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	memcpy(buf, s, need);
	XRT_RETURN(XR_SUCCESS);
}
