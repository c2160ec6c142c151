#include "th_xrtvk.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Under ASan the Vulkan loader's dlclose of lavapipe at vkDestroyInstance
 * turns lavapipe's live allocations into "leaks" of an unmapped module
 * (as gfx_vk does): keep it mapped for the process. */
#if defined(__SANITIZE_ADDRESS__)
#define TH_XRTVK_KEEP_LAVAPIPE 1
#else
#define TH_XRTVK_KEEP_LAVAPIPE 0
#endif

#define TH_XRTVK_QUEUE_FAMILIES_MAX 16u

static VKAPI_ATTR VkBool32 VKAPI_CALL th_xrtvk_message(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
							VkDebugUtilsMessageTypeFlagsEXT type,
							const VkDebugUtilsMessengerCallbackDataEXT *d, void *ud)
{
	struct th_xrtvk *vk = ud;
	if (sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
		vk->messages++;
		fprintf(stderr, "validation: %s\n", d->pMessage);
	}
	return VK_FALSE;
}

static int fail(char *why, size_t len, const char *what, long code)
{
	snprintf(why, len, "%s failed (%ld)", what, code);
	return -1;
}

int th_xrtvk_open(XrInstance inst, XrSystemId sys, struct th_xrtvk *vk, char *why, size_t len)
{
	memset(vk, 0, sizeof *vk);
	if (TH_XRTVK_KEEP_LAVAPIPE) {
		void *lvp = dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_NODELETE);
		if (lvp)
			dlclose(lvp); /* RTLD_NODELETE: it stays mapped */
	}
	PFN_xrGetVulkanGraphicsRequirements2KHR reqs;
	PFN_xrCreateVulkanInstanceKHR mkinst;
	PFN_xrGetVulkanGraphicsDevice2KHR getdev;
	PFN_xrCreateVulkanDeviceKHR mkdev;
	XrResult r;
	if ((r = xrGetInstanceProcAddr(inst, "xrGetVulkanGraphicsRequirements2KHR", (PFN_xrVoidFunction *)&reqs)) ||
	    (r = xrGetInstanceProcAddr(inst, "xrCreateVulkanInstanceKHR", (PFN_xrVoidFunction *)&mkinst)) ||
	    (r = xrGetInstanceProcAddr(inst, "xrGetVulkanGraphicsDevice2KHR", (PFN_xrVoidFunction *)&getdev)) ||
	    (r = xrGetInstanceProcAddr(inst, "xrCreateVulkanDeviceKHR", (PFN_xrVoidFunction *)&mkdev)))
		return fail(why, len, "xrGetInstanceProcAddr (XR_KHR_vulkan_enable2 enabled?)", r);
	XrGraphicsRequirementsVulkan2KHR req = {.type = XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN2_KHR};
	if ((r = reqs(inst, sys, &req)))
		return fail(why, len, "xrGetVulkanGraphicsRequirements2KHR", r);
	VkDebugUtilsMessengerCreateInfoEXT mci = {
		.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
		.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
				   VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
		.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
			       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
		.pfnUserCallback = th_xrtvk_message,
		.pUserData = vk,
	};
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "theta test",
		.apiVersion = VK_API_VERSION_1_3,
	};
	const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
	const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pNext = &mci,
		.pApplicationInfo = &app,
		.enabledLayerCount = 1,
		.ppEnabledLayerNames = layers,
		.enabledExtensionCount = 1,
		.ppEnabledExtensionNames = exts,
	};
	XrVulkanInstanceCreateInfoKHR xci = {
		.type = XR_TYPE_VULKAN_INSTANCE_CREATE_INFO_KHR,
		.systemId = sys,
		.pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
		.vulkanCreateInfo = &ici,
	};
	VkResult vr = VK_ERROR_UNKNOWN;
	if ((r = mkinst(inst, &xci, &vk->vi, &vr)) || vr)
		return fail(why, len, "xrCreateVulkanInstanceKHR", r ? (long)r : (long)vr);
	PFN_vkCreateDebugUtilsMessengerEXT mk =
		(PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(vk->vi, "vkCreateDebugUtilsMessengerEXT");
	if (!mk || (vr = mk(vk->vi, &mci, NULL, &vk->msgr))) {
		th_xrtvk_close(vk);
		return fail(why, len, "vkCreateDebugUtilsMessengerEXT", vr);
	}
	XrVulkanGraphicsDeviceGetInfoKHR dgi = {
		.type = XR_TYPE_VULKAN_GRAPHICS_DEVICE_GET_INFO_KHR,
		.systemId = sys,
		.vulkanInstance = vk->vi,
	};
	if ((r = getdev(inst, &dgi, &vk->pd))) {
		th_xrtvk_close(vk);
		return fail(why, len, "xrGetVulkanGraphicsDevice2KHR", r);
	}
	VkQueueFamilyProperties qf[TH_XRTVK_QUEUE_FAMILIES_MAX];
	uint32_t nqf = TH_XRTVK_QUEUE_FAMILIES_MAX;
	vkGetPhysicalDeviceQueueFamilyProperties(vk->pd, &nqf, qf);
	vk->qfam = UINT32_MAX;
	for (uint32_t i = 0; i < nqf && vk->qfam == UINT32_MAX; i++)
		if (qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)
			vk->qfam = i;
	if (vk->qfam == UINT32_MAX) {
		th_xrtvk_close(vk);
		snprintf(why, len, "the device has no graphics queue");
		return -1;
	}
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = vk->qfam,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
	};
	XrVulkanDeviceCreateInfoKHR xdci = {
		.type = XR_TYPE_VULKAN_DEVICE_CREATE_INFO_KHR,
		.systemId = sys,
		.pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
		.vulkanPhysicalDevice = vk->pd,
		.vulkanCreateInfo = &dci,
	};
	vr = VK_ERROR_UNKNOWN;
	if ((r = mkdev(inst, &xdci, &vk->dev, &vr)) || vr) {
		vk->dev = VK_NULL_HANDLE;
		th_xrtvk_close(vk);
		return fail(why, len, "xrCreateVulkanDeviceKHR", r ? (long)r : (long)vr);
	}
	vkGetDeviceQueue(vk->dev, vk->qfam, 0, &vk->q);
	return 0;
}

XrGraphicsBindingVulkan2KHR th_xrtvk_binding(const struct th_xrtvk *vk)
{
	return (XrGraphicsBindingVulkan2KHR){
		.type = XR_TYPE_GRAPHICS_BINDING_VULKAN2_KHR,
		.instance = vk->vi,
		.physicalDevice = vk->pd,
		.device = vk->dev,
		.queueFamilyIndex = vk->qfam,
		.queueIndex = 0,
	};
}

void th_xrtvk_close(struct th_xrtvk *vk)
{
	if (vk->dev)
		vkDestroyDevice(vk->dev, NULL);
	if (vk->msgr) {
		PFN_vkDestroyDebugUtilsMessengerEXT rm =
			(PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(vk->vi, "vkDestroyDebugUtilsMessengerEXT");
		if (rm)
			rm(vk->vi, vk->msgr, NULL);
	}
	if (vk->vi)
		vkDestroyInstance(vk->vi, NULL);
	vk->dev = VK_NULL_HANDLE;
	vk->msgr = VK_NULL_HANDLE;
	vk->vi = VK_NULL_HANDLE;
}
