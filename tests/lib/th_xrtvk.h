/* Vulkan for a session of the OpenXR test runtime (tests/xrt/), made the
 * way XR_KHR_vulkan_enable2 asks: the runtime's requirements, then its
 * xrCreateVulkanInstanceKHR (with the Khronos validation layer and a
 * messenger counting warnings and errors), physical device and
 * xrCreateVulkanDeviceKHR with one graphics queue. */
#pragma once
#define XR_USE_GRAPHICS_API_VULKAN 1
#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

struct th_xrtvk {
	VkInstance vi;
	VkDebugUtilsMessengerEXT msgr;
	VkPhysicalDevice pd;
	VkDevice dev;
	uint32_t qfam;
	VkQueue q;
	unsigned messages; /* validation warnings and errors so far (each printed) */
};

/* 0, or -1 with why (one line) filled. */
int th_xrtvk_open(XrInstance inst, XrSystemId sys, struct th_xrtvk *vk, char *why, size_t len);
/* The graphics binding for xrCreateSession (points into nothing of vk's). */
XrGraphicsBindingVulkan2KHR th_xrtvk_binding(const struct th_xrtvk *vk);
void th_xrtvk_close(struct th_xrtvk *vk);
