/* XR_KHR_vulkan_enable2: graphics requirements, the Vulkan instance and
 * device made from the client's create infos plus what the runtime needs,
 * the device choice; and the runtime's own command buffer on the client's
 * device and queue (the initial layouts of swapchain images, captures). */
#include <stdlib.h>
#include <string.h>

#include "xrt.h"

/* What the runtime needs on top of the client's create infos. Its images
 * and copies use core Vulkan 1.1 only, so nothing today; a name put here
 * is appended when the client did not ask for it. */
static const char *const xrt_vk_instance_exts[] = {NULL};
static const char *const xrt_vk_device_exts[] = {NULL};
#define XRT_VK_MIN_API VK_MAKE_API_VERSION(0, 1, 1, 0)
#define XRT_VK_MAX_API VK_MAKE_API_VERSION(0, 1, 3, 0)

XrResult xrt_GetVulkanGraphicsRequirements2KHR(XrInstance instance, XrSystemId id,
					       XrGraphicsRequirementsVulkanKHR *req)
{
	XRT_ENTER_INSTANCE("xrGetVulkanGraphicsRequirements2KHR");
	XrResult r = xrt_check_system(inst, fn_name, id);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (!req || req->type != XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN2_KHR)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "graphicsRequirements is NULL or not XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN2_KHR."));
	req->minApiVersionSupported = XR_MAKE_VERSION(1, 1, 0);
	req->maxApiVersionSupported = XR_MAKE_VERSION(1, 3, 0);
	inst->got_requirements = true;
	XRT_RETURN(XR_SUCCESS);
}

/* names (n of them) plus each of extra not among them, into out. */
static int merge_exts(const char *const *names, uint32_t n, const char *const *extra, uint32_t nextra,
		      const char **out)
{
	if (n > XRT_VK_EXTS_MAX)
		return -1;
	uint32_t m = 0;
	for (uint32_t i = 0; i < n; i++)
		out[m++] = names[i];
	for (uint32_t k = 0; k < nextra; k++) {
		if (!extra[k])
			continue;
		bool have = false;
		for (uint32_t i = 0; i < n; i++)
			have |= names[i] && strcmp(names[i], extra[k]) == 0;
		if (!have) {
			if (m == XRT_VK_EXTS_MAX)
				return -1;
			out[m++] = extra[k];
		}
	}
	return (int)m;
}

/* What xrCreateVulkanInstanceKHR and xrCreateVulkanDeviceKHR check alike:
 * the system, no flags, a pfnGetInstanceProcAddr and a create info. */
static XrResult check_create(struct xrt_instance *inst, const char *fn_name, XrSystemId id, XrFlags64 flags,
			     PFN_vkGetInstanceProcAddr gipa, const void *vk_ci)
{
	XrResult r = xrt_check_system(inst, fn_name, id);
	if (r != XR_SUCCESS)
		return r;
	if (flags != 0 || !gipa || !vk_ci)
		return xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				"createFlags is not 0, or pfnGetInstanceProcAddr or vulkanCreateInfo is NULL.");
	return XR_SUCCESS;
}

/* The Vulkan function name from the client's pfnGetInstanceProcAddr. */
static XrResult vk_proc(struct xrt_instance *inst, const char *fn_name, PFN_vkGetInstanceProcAddr gipa, VkInstance vi,
			const char *name, PFN_vkVoidFunction *out)
{
	*out = gipa(vi, name);
	if (!*out)
		return xrt_fail(inst, NULL, fn_name, XR_ERROR_RUNTIME_FAILURE, "pfnGetInstanceProcAddr gave no %s.", name);
	return XR_SUCCESS;
}

/* The client's extension names plus the runtime's (extra), into names
 * (XRT_VK_EXTS_MAX of them); *n their count. */
static XrResult with_exts(struct xrt_instance *inst, const char *fn_name, const char *const *client, uint32_t nclient,
			  const char *const *extra, uint32_t nextra, const char **names, uint32_t *n)
{
	int m = merge_exts(client, nclient, extra, nextra, names);
	if (m < 0)
		return xrt_fail(inst, NULL, fn_name, XR_ERROR_LIMIT_REACHED, "more than %u Vulkan extensions.",
				XRT_VK_EXTS_MAX);
	*n = (uint32_t)m;
	return XR_SUCCESS;
}

XrResult xrt_CreateVulkanInstanceKHR(XrInstance instance, const XrVulkanInstanceCreateInfoKHR *ci,
				     VkInstance *out, VkResult *vr)
{
	XRT_ENTER_INSTANCE("xrCreateVulkanInstanceKHR");
	if (!ci || ci->type != XR_TYPE_VULKAN_INSTANCE_CREATE_INFO_KHR || !out || !vr)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_VULKAN_INSTANCE_CREATE_INFO_KHR, or an output is NULL."));
	XrResult r = check_create(inst, fn_name, ci->systemId, ci->createFlags, ci->pfnGetInstanceProcAddr,
				  ci->vulkanCreateInfo);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	const VkInstanceCreateInfo *vci = ci->vulkanCreateInfo;
	if (vci->sType != VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "vulkanCreateInfo->sType is not VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO."));
	if (vci->pApplicationInfo && vci->pApplicationInfo->apiVersion &&
	    (vci->pApplicationInfo->apiVersion < XRT_VK_MIN_API ||
	     VK_API_VERSION_MAJOR(vci->pApplicationInfo->apiVersion) != 1))
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "Vulkan apiVersion %u.%u is outside the graphics requirements (1.1 to 1.3).",
				    VK_API_VERSION_MAJOR(vci->pApplicationInfo->apiVersion),
				    VK_API_VERSION_MINOR(vci->pApplicationInfo->apiVersion)));
	PFN_vkCreateInstance create;
	r = vk_proc(inst, fn_name, ci->pfnGetInstanceProcAddr, VK_NULL_HANDLE, "vkCreateInstance",
		    (PFN_vkVoidFunction *)&create);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	const char *names[XRT_VK_EXTS_MAX];
	uint32_t n = 0;
	r = with_exts(inst, fn_name, vci->ppEnabledExtensionNames, vci->enabledExtensionCount, xrt_vk_instance_exts,
		      sizeof xrt_vk_instance_exts / sizeof xrt_vk_instance_exts[0], names, &n);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	VkInstanceCreateInfo mine = *vci;
	mine.enabledExtensionCount = n;
	mine.ppEnabledExtensionNames = n ? names : NULL;
	*vr = create(&mine, ci->vulkanAllocator, out);
	xrt_record(inst, "vk_instance result=%d exts=%u", (int)*vr, n);
	XRT_RETURN(XR_SUCCESS);
}

static int type_rank(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
	default: return 4;
	}
}

XrResult xrt_GetVulkanGraphicsDevice2KHR(XrInstance instance, const XrVulkanGraphicsDeviceGetInfoKHR *info,
					 VkPhysicalDevice *out)
{
	XRT_ENTER_INSTANCE("xrGetVulkanGraphicsDevice2KHR");
	if (!info || info->type != XR_TYPE_VULKAN_GRAPHICS_DEVICE_GET_INFO_KHR || !out || !info->vulkanInstance)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "getInfo is NULL, not XR_TYPE_VULKAN_GRAPHICS_DEVICE_GET_INFO_KHR, or has no vulkanInstance."));
	XrResult r = xrt_check_system(inst, fn_name, info->systemId);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	VkPhysicalDevice devs[XRT_VK_DEVICES_MAX];
	uint32_t n = XRT_VK_DEVICES_MAX;
	VkResult vr = vkEnumeratePhysicalDevices(info->vulkanInstance, &n, devs);
	if (vr != VK_SUCCESS && vr != VK_INCOMPLETE)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_RUNTIME_FAILURE, "vkEnumeratePhysicalDevices: %d.", (int)vr));
	VkPhysicalDevice best = VK_NULL_HANDLE;
	int best_rank = 99;
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceProperties p;
		vkGetPhysicalDeviceProperties(devs[i], &p);
		if (p.apiVersion < XRT_VK_MIN_API)
			continue;
		if (inst->cfg.vk_device[0] && !strstr(p.deviceName, inst->cfg.vk_device))
			continue;
		if (type_rank(p.deviceType) < best_rank) {
			best = devs[i];
			best_rank = type_rank(p.deviceType);
		}
	}
	if (!best)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_RUNTIME_FAILURE,
				    "no Vulkan 1.1 device%s%s among %u.", inst->cfg.vk_device[0] ? " named like " : "",
				    inst->cfg.vk_device, n));
	VkPhysicalDeviceProperties p;
	vkGetPhysicalDeviceProperties(best, &p);
	inst->vk_instance = info->vulkanInstance;
	inst->vk_phys = best;
	*out = best;
	char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
	snprintf(name, sizeof name, "%s", p.deviceName);
	for (char *c = name; *c; c++)
		if (*c == ' ')
			*c = '_';
	xrt_record(inst, "vk_physical_device name=%s", name);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_CreateVulkanDeviceKHR(XrInstance instance, const XrVulkanDeviceCreateInfoKHR *ci, VkDevice *out,
				   VkResult *vr)
{
	XRT_ENTER_INSTANCE("xrCreateVulkanDeviceKHR");
	if (!ci || ci->type != XR_TYPE_VULKAN_DEVICE_CREATE_INFO_KHR || !out || !vr)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_VULKAN_DEVICE_CREATE_INFO_KHR, or an output is NULL."));
	XrResult r = check_create(inst, fn_name, ci->systemId, ci->createFlags, ci->pfnGetInstanceProcAddr,
				  ci->vulkanCreateInfo);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (!inst->vk_phys || ci->vulkanPhysicalDevice != inst->vk_phys)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "vulkanPhysicalDevice is not the one xrGetVulkanGraphicsDevice2KHR returned."));
	const VkDeviceCreateInfo *dci = ci->vulkanCreateInfo;
	if (dci->sType != VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "vulkanCreateInfo->sType is not VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO."));
	PFN_vkCreateDevice create;
	r = vk_proc(inst, fn_name, ci->pfnGetInstanceProcAddr, inst->vk_instance, "vkCreateDevice",
		    (PFN_vkVoidFunction *)&create);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	const char *names[XRT_VK_EXTS_MAX];
	uint32_t n = 0;
	r = with_exts(inst, fn_name, dci->ppEnabledExtensionNames, dci->enabledExtensionCount, xrt_vk_device_exts,
		      sizeof xrt_vk_device_exts / sizeof xrt_vk_device_exts[0], names, &n);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	VkDeviceCreateInfo mine = *dci;
	mine.enabledExtensionCount = n;
	mine.ppEnabledExtensionNames = n ? names : NULL;
	*vr = create(ci->vulkanPhysicalDevice, &mine, ci->vulkanAllocator, out);
	xrt_record(inst, "vk_device result=%d exts=%u", (int)*vr, n);
	XRT_RETURN(XR_SUCCESS);
}

VkResult xrt_vk_session_init(struct xrt_session *s)
{
	vkGetPhysicalDeviceMemoryProperties(s->vk_phys, &s->mem);
	vkGetDeviceQueue(s->device, s->queue_family, s->queue_index, &s->queue);
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = s->queue_family,
	};
	VkResult vr = vkCreateCommandPool(s->device, &pci, NULL, &s->pool);
	if (vr != VK_SUCCESS)
		return vr;
	VkCommandBufferAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = s->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	vr = vkAllocateCommandBuffers(s->device, &ai, &s->cmd);
	if (vr == VK_SUCCESS) {
		VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
		vr = vkCreateFence(s->device, &fci, NULL, &s->fence);
	}
	if (vr != VK_SUCCESS)
		xrt_vk_session_fini(s);
	return vr;
}

void xrt_vk_session_fini(struct xrt_session *s)
{
	if (s->fence)
		vkDestroyFence(s->device, s->fence, NULL);
	if (s->pool)
		vkDestroyCommandPool(s->device, s->pool, NULL);
	s->fence = VK_NULL_HANDLE;
	s->pool = VK_NULL_HANDLE;
	s->cmd = VK_NULL_HANDLE;
}

VkResult xrt_vk_begin(struct xrt_session *s)
{
	VkResult vr = vkResetCommandBuffer(s->cmd, 0);
	if (vr != VK_SUCCESS)
		return vr;
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	return vkBeginCommandBuffer(s->cmd, &bi);
}

/* The runtime waits for its own small submissions (an initial layout, a
 * capture copy); the client's queue is free while an OpenXR call runs. */
#define XRT_VK_WAIT_NS 10000000000ull

VkResult xrt_vk_submit_wait(struct xrt_session *s)
{
	VkResult vr = vkEndCommandBuffer(s->cmd);
	if (vr != VK_SUCCESS)
		return vr;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &s->cmd,
	};
	vr = vkQueueSubmit(s->queue, 1, &si, s->fence);
	if (vr != VK_SUCCESS)
		return vr;
	vr = vkWaitForFences(s->device, 1, &s->fence, VK_TRUE, XRT_VK_WAIT_NS);
	VkResult rr = vkResetFences(s->device, 1, &s->fence);
	return vr != VK_SUCCESS ? vr : rr;
}

int xrt_vk_memory_type(const struct xrt_session *s, uint32_t type_bits, VkMemoryPropertyFlags flags)
{
	for (uint32_t i = 0; i < s->mem.memoryTypeCount; i++)
		if ((type_bits & (1u << i)) && (s->mem.memoryTypes[i].propertyFlags & flags) == flags)
			return (int)i;
	return -1;
}
