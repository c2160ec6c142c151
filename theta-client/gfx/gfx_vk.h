/* The Vulkan context the renderer runs on (docs/rendering.md): instance,
 * the physical device chosen by type, one device with one graphics queue,
 * memory, buffers, images and one-shot command submission.
 *
 * Vulkan 1.3 is required, with dynamicRendering and synchronization2
 * (lavapipe offers 1.3.230; every desktop driver since 2022 does). With
 * validation on, VK_LAYER_KHRONOS_validation is enabled with a debug
 * messenger that prints every warning and error message (one line each)
 * and counts it in validation_messages: render tests fail on any.
 *
 * OpenXR (XR_KHR_vulkan_enable2) creates the instance and device itself:
 * the XR backend passes hooks that are called instead of vkCreateInstance,
 * the by-type choice of device and vkCreateDevice, with the create infos
 * this file built.
 *
 * Errors are negative errno: -ENODEV (no Vulkan 1.3 device, or the device
 * was lost), -ENOMEM (host or device memory), -ENOTSUP (a feature or
 * extension is missing), -EIO (anything else). Each failure is said once
 * with th_err naming the call and the VkResult. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

struct gfx_vk_hooks {
	/* 0 or -errno; *out set. */
	int (*create_instance)(void *ud, const VkInstanceCreateInfo *ci, VkInstance *out);
	int (*physical_device)(void *ud, VkInstance inst, VkPhysicalDevice *out);
	int (*create_device)(void *ud, VkPhysicalDevice pd, const VkDeviceCreateInfo *ci, VkDevice *out);
	void *ud;
};

struct gfx_vk_config {
	bool validation;              /* the Khronos layer + messenger (tests: always) */
	const char *const *instance_exts; /* more instance extensions (GLFW's surface ones) */
	uint32_t ninstance_exts;
	const char *const *device_exts;   /* more device extensions (VK_KHR_swapchain) */
	uint32_t ndevice_exts;
	/* NULL: $THETA_GFX_DEVICE when set, else by type, discrete >
	 * integrated > virtual > cpu, then index; else the first device whose
	 * name contains this. */
	const char *device_name;
	const struct gfx_vk_hooks *hooks; /* NULL: Vulkan's own calls */
};

struct gfx_vk {
	VkInstance instance;
	VkDebugUtilsMessengerEXT messenger; /* VK_NULL_HANDLE without validation */
	VkPhysicalDevice phys;
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceMemoryProperties mem;
	VkDevice device;
	VkQueue queue;
	uint32_t queue_family;
	VkCommandPool pool;        /* one-shot transfers (gfx_vk_oneshot_*) */
	bool validation;
	uint64_t validation_messages; /* warnings + errors the messenger saw */
	bool lost;                 /* a call returned VK_ERROR_DEVICE_LOST (or one was injected) */
	uint64_t lose_after;       /* tests: gfx_vk_check reports a loss at its lose_after-th call (0: never) */
	uint64_t checks;
	void *keep_lvp;            /* dlopen(libvulkan_lvp.so, RTLD_NODELETE) under ASan */
};

int gfx_vk_create(const struct gfx_vk_config *c, struct gfx_vk **out);
/* Waits for the device to be idle, then destroys everything (NULL-safe). */
void gfx_vk_destroy(struct gfx_vk **p);

/* VkResult to errno as above; VK_SUCCESS and other non-negative codes
 * (VK_SUBOPTIMAL_KHR, VK_TIMEOUT, VK_NOT_READY) give 0. Sets vk->lost on
 * VK_ERROR_DEVICE_LOST. gfx_vk_check also counts calls for lose_after and
 * says the failure with th_err("%s: %s", what, gfx_vk_result_name(r)). */
int gfx_vk_errno(VkResult r);
int gfx_vk_check(struct gfx_vk *vk, VkResult r, const char *what);
const char *gfx_vk_result_name(VkResult r);

/* A memory type index with every bit of want among type_bits; -ENOMEM. */
int gfx_vk_memory_type(const struct gfx_vk *vk, uint32_t type_bits, VkMemoryPropertyFlags want, uint32_t *out);

/* A buffer with its own memory; host_visible: HOST_VISIBLE | HOST_COHERENT
 * and persistently mapped at map; else DEVICE_LOCAL. */
struct gfx_buffer {
	VkBuffer buf;
	VkDeviceMemory mem;
	VkDeviceSize size;
	void *map;
};
int gfx_buffer_create(struct gfx_vk *vk, VkDeviceSize size, VkBufferUsageFlags usage, bool host_visible,
		      struct gfx_buffer *out);
void gfx_buffer_destroy(struct gfx_vk *vk, struct gfx_buffer *b); /* zeroes *b; a zero one is fine */

/* A 2D image (one level unless made with levels; layers 1) with a view of aspect. */
struct gfx_image {
	VkImage image;
	VkDeviceMemory mem;
	VkImageView view;
	VkFormat format;
	VkExtent2D extent;
};
int gfx_image_create(struct gfx_vk *vk, VkExtent2D extent, VkFormat format, VkImageUsageFlags usage,
		     VkImageAspectFlags aspect, struct gfx_image *out);
/* The same with `levels` mip levels (1 .. what the format allows), the
 * view over all of them (the UI's font atlas). */
int gfx_image_create_levels(struct gfx_vk *vk, VkExtent2D extent, VkFormat format, VkImageUsageFlags usage,
			    VkImageAspectFlags aspect, uint32_t levels, struct gfx_image *out);
void gfx_image_destroy(struct gfx_vk *vk, struct gfx_image *img);
/* A view of an image someone else owns (swapchain images). */
int gfx_image_view_create(struct gfx_vk *vk, VkImage image, VkFormat format, VkImageAspectFlags aspect,
			  VkImageView *out);

/* A command buffer from vk->pool, begun (ONE_TIME_SUBMIT); end submits it
 * and waits for it to finish. */
int gfx_vk_oneshot_begin(struct gfx_vk *vk, VkCommandBuffer *cmd);
int gfx_vk_oneshot_end(struct gfx_vk *vk, VkCommandBuffer cmd);

/* One synchronization2 image barrier, whole image: every level, one layer. */
void gfx_cmd_image_barrier(VkCommandBuffer cmd, VkImage image, VkImageAspectFlags aspect, VkImageLayout from,
			   VkImageLayout to, VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
			   VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access);

/* The first of D32_SFLOAT, D32_SFLOAT_S8_UINT, D24_UNORM_S8_UINT,
 * D16_UNORM the device supports as a depth attachment; UNDEFINED if none. */
VkFormat gfx_vk_depth_format(const struct gfx_vk *vk);

/* The choice of physical device as a pure function (gfx_vk_create calls
 * it on what the devices report; tests call it on made-up lists). */
#define GFX_VK_DEVICES_MAX 16u
struct gfx_vk_device_info {
	char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
	VkPhysicalDeviceType type;
	uint32_t api_version;
	bool graphics_queue;     /* a queue family with GRAPHICS */
	bool dynamic_rendering;  /* VkPhysicalDeviceVulkan13Features */
	bool synchronization2;
	const char *missing_ext; /* the first wanted device extension it lacks, or NULL */
};
/* The index of the device to use: the first whose name contains name when
 * name is not NULL, else the best by type (then the lowest index) among
 * the usable ones. -ENODEV (no device, no name matches, or none has Vulkan
 * 1.3) or -ENOTSUP (a feature or extension is missing) with one sentence
 * in why naming the devices and what they lack. */
int gfx_vk_pick_device(const struct gfx_vk_device_info *d, uint32_t n, const char *name, char *why, size_t whylen);
