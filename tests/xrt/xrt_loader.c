/* What the Khronos loader sees: xrNegotiateLoaderRuntimeInterface (the only
 * exported symbol) and the xrGetInstanceProcAddr it returns, which answers
 * every core OpenXR 1.0 function (the 1.0.20 loader fills its dispatch
 * table with them and calls through it without checking for NULL). */
#include <string.h>

#include "xrt.h"

/* The loader's negotiation structures, as the loader/runtime interface
 * (version 1) lays them out; 1.0.20 ships no header with them. */
enum {
	XRT_LOADER_STRUCT_LOADER_INFO = 1,
	XRT_LOADER_STRUCT_RUNTIME_REQUEST = 3,
};
#define XRT_LOADER_INFO_STRUCT_VERSION 1u
#define XRT_RUNTIME_INFO_STRUCT_VERSION 1u
#define XRT_LOADER_RUNTIME_INTERFACE 1u

struct xrt_negotiate_loader_info {
	int struct_type;
	uint32_t struct_version;
	size_t struct_size;
	uint32_t min_interface_version;
	uint32_t max_interface_version;
	XrVersion min_api_version;
	XrVersion max_api_version;
};

struct xrt_negotiate_runtime_request {
	int struct_type;
	uint32_t struct_version;
	size_t struct_size;
	uint32_t runtime_interface_version;
	XrVersion runtime_api_version;
	PFN_xrGetInstanceProcAddr get_instance_proc_addr;
};

static XrResult XRAPI_CALL xrt_GetInstanceProcAddr(XrInstance instance, const char *name, PFN_xrVoidFunction *fn);

enum xrt_fn_kind {
	XRT_FN_CORE,      /* any instance */
	XRT_FN_GLOBAL,    /* also without an instance */
	XRT_FN_ENABLE2,   /* instances that enabled XR_KHR_vulkan_enable2 */
};

struct xrt_fn {
	const char *name;
	PFN_xrVoidFunction fn;
	enum xrt_fn_kind kind;
};

#define XRT_FN(name, kind) {"xr" #name, (PFN_xrVoidFunction)xrt_##name, kind}

static const struct xrt_fn xrt_fns[] = {
	XRT_FN(GetInstanceProcAddr, XRT_FN_CORE),
	XRT_FN(EnumerateApiLayerProperties, XRT_FN_GLOBAL),
	XRT_FN(EnumerateInstanceExtensionProperties, XRT_FN_GLOBAL),
	XRT_FN(CreateInstance, XRT_FN_GLOBAL),
	XRT_FN(DestroyInstance, XRT_FN_CORE),
	XRT_FN(GetInstanceProperties, XRT_FN_CORE),
	XRT_FN(PollEvent, XRT_FN_CORE),
	XRT_FN(ResultToString, XRT_FN_CORE),
	XRT_FN(StructureTypeToString, XRT_FN_CORE),
	XRT_FN(GetSystem, XRT_FN_CORE),
	XRT_FN(GetSystemProperties, XRT_FN_CORE),
	XRT_FN(EnumerateEnvironmentBlendModes, XRT_FN_CORE),
	XRT_FN(CreateSession, XRT_FN_CORE),
	XRT_FN(DestroySession, XRT_FN_CORE),
	XRT_FN(EnumerateReferenceSpaces, XRT_FN_CORE),
	XRT_FN(CreateReferenceSpace, XRT_FN_CORE),
	XRT_FN(GetReferenceSpaceBoundsRect, XRT_FN_CORE),
	XRT_FN(CreateActionSpace, XRT_FN_CORE),
	XRT_FN(LocateSpace, XRT_FN_CORE),
	XRT_FN(DestroySpace, XRT_FN_CORE),
	XRT_FN(EnumerateViewConfigurations, XRT_FN_CORE),
	XRT_FN(GetViewConfigurationProperties, XRT_FN_CORE),
	XRT_FN(EnumerateViewConfigurationViews, XRT_FN_CORE),
	XRT_FN(EnumerateSwapchainFormats, XRT_FN_CORE),
	XRT_FN(CreateSwapchain, XRT_FN_CORE),
	XRT_FN(DestroySwapchain, XRT_FN_CORE),
	XRT_FN(EnumerateSwapchainImages, XRT_FN_CORE),
	XRT_FN(AcquireSwapchainImage, XRT_FN_CORE),
	XRT_FN(WaitSwapchainImage, XRT_FN_CORE),
	XRT_FN(ReleaseSwapchainImage, XRT_FN_CORE),
	XRT_FN(BeginSession, XRT_FN_CORE),
	XRT_FN(EndSession, XRT_FN_CORE),
	XRT_FN(RequestExitSession, XRT_FN_CORE),
	XRT_FN(WaitFrame, XRT_FN_CORE),
	XRT_FN(BeginFrame, XRT_FN_CORE),
	XRT_FN(EndFrame, XRT_FN_CORE),
	XRT_FN(LocateViews, XRT_FN_CORE),
	XRT_FN(StringToPath, XRT_FN_CORE),
	XRT_FN(PathToString, XRT_FN_CORE),
	XRT_FN(CreateActionSet, XRT_FN_CORE),
	XRT_FN(DestroyActionSet, XRT_FN_CORE),
	XRT_FN(CreateAction, XRT_FN_CORE),
	XRT_FN(DestroyAction, XRT_FN_CORE),
	XRT_FN(SuggestInteractionProfileBindings, XRT_FN_CORE),
	XRT_FN(AttachSessionActionSets, XRT_FN_CORE),
	XRT_FN(GetCurrentInteractionProfile, XRT_FN_CORE),
	XRT_FN(GetActionStateBoolean, XRT_FN_CORE),
	XRT_FN(GetActionStateFloat, XRT_FN_CORE),
	XRT_FN(GetActionStateVector2f, XRT_FN_CORE),
	XRT_FN(GetActionStatePose, XRT_FN_CORE),
	XRT_FN(SyncActions, XRT_FN_CORE),
	XRT_FN(EnumerateBoundSourcesForAction, XRT_FN_CORE),
	XRT_FN(GetInputSourceLocalizedName, XRT_FN_CORE),
	XRT_FN(ApplyHapticFeedback, XRT_FN_CORE),
	XRT_FN(StopHapticFeedback, XRT_FN_CORE),
	XRT_FN(GetVulkanGraphicsRequirements2KHR, XRT_FN_ENABLE2),
	XRT_FN(CreateVulkanInstanceKHR, XRT_FN_ENABLE2),
	XRT_FN(GetVulkanGraphicsDevice2KHR, XRT_FN_ENABLE2),
	XRT_FN(CreateVulkanDeviceKHR, XRT_FN_ENABLE2),
};
#define XRT_NFNS (sizeof xrt_fns / sizeof xrt_fns[0])

static XrResult XRAPI_CALL xrt_GetInstanceProcAddr(XrInstance instance, const char *name, PFN_xrVoidFunction *fn)
{
	if (!name || !fn)
		return XR_ERROR_VALIDATION_FAILURE;
	*fn = NULL;
	bool enable2 = false;
	if (instance != XR_NULL_HANDLE) {
		xrt_lock();
		struct xrt_instance *inst = xrt_instance_get(instance);
		enable2 = inst && inst->enable2;
		xrt_unlock();
		if (!inst)
			return XR_ERROR_HANDLE_INVALID;
	}
	for (size_t i = 0; i < XRT_NFNS; i++) {
		const struct xrt_fn *f = &xrt_fns[i];
		if (strcmp(f->name, name))
			continue;
		if (instance == XR_NULL_HANDLE && f->kind != XRT_FN_GLOBAL)
			return XR_ERROR_HANDLE_INVALID;
		if (f->kind == XRT_FN_ENABLE2 && !enable2)
			return XR_ERROR_FUNCTION_UNSUPPORTED;
		*fn = f->fn;
		return XR_SUCCESS;
	}
	return XR_ERROR_FUNCTION_UNSUPPORTED;
}

__attribute__((visibility("default"))) XrResult XRAPI_CALL
xrNegotiateLoaderRuntimeInterface(const struct xrt_negotiate_loader_info *li, struct xrt_negotiate_runtime_request *rr);

XrResult XRAPI_CALL xrNegotiateLoaderRuntimeInterface(const struct xrt_negotiate_loader_info *li,
						      struct xrt_negotiate_runtime_request *rr)
{
	if (!li || li->struct_type != XRT_LOADER_STRUCT_LOADER_INFO ||
	    li->struct_version != XRT_LOADER_INFO_STRUCT_VERSION || li->struct_size != sizeof *li)
		return XR_ERROR_INITIALIZATION_FAILED;
	if (!rr || rr->struct_type != XRT_LOADER_STRUCT_RUNTIME_REQUEST ||
	    rr->struct_version != XRT_RUNTIME_INFO_STRUCT_VERSION || rr->struct_size != sizeof *rr)
		return XR_ERROR_INITIALIZATION_FAILED;
	if (li->min_interface_version > XRT_LOADER_RUNTIME_INTERFACE ||
	    li->max_interface_version < XRT_LOADER_RUNTIME_INTERFACE)
		return XR_ERROR_INITIALIZATION_FAILED;
	XrVersion api = XR_MAKE_VERSION(1, 0, 0);
	if (XR_VERSION_MAJOR(li->min_api_version) > 1 || XR_VERSION_MAJOR(li->max_api_version) < 1 ||
	    li->max_api_version < api)
		return XR_ERROR_INITIALIZATION_FAILED;
	rr->runtime_interface_version = XRT_LOADER_RUNTIME_INTERFACE;
	rr->runtime_api_version = XR_CURRENT_API_VERSION;
	rr->get_instance_proc_addr = xrt_GetInstanceProcAddr;
	return XR_SUCCESS;
}
