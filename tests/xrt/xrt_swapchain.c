/* Swapchains: VkImages the runtime allocates on the client's device, handed
 * over in the attachment layout XR_KHR_vulkan_enable2 promises, and the
 * acquire / wait / release order checked. */
#include <stdlib.h>
#include <string.h>

#include "xrt.h"

struct xrt_format {
	VkFormat format;
	bool depth;
};

/* sRGB first: the order is the runtime's preference. */
static const struct xrt_format xrt_formats[] = {
	{VK_FORMAT_R8G8B8A8_SRGB, false}, {VK_FORMAT_B8G8R8A8_SRGB, false}, {VK_FORMAT_R8G8B8A8_UNORM, false},
	{VK_FORMAT_B8G8R8A8_UNORM, false}, {VK_FORMAT_D32_SFLOAT, true},     {VK_FORMAT_D16_UNORM, true},
};
#define XRT_NFORMATS (sizeof xrt_formats / sizeof xrt_formats[0])

struct xrt_swapchain *xrt_swapchain_get(XrSwapchain swapchain)
{
	return (struct xrt_swapchain *)xrt_handle_get((uint64_t)(uintptr_t)swapchain, XRT_KIND_SWAPCHAIN);
}

static bool format_supported(const struct xrt_session *s, const struct xrt_format *f)
{
	VkFormatProperties p;
	vkGetPhysicalDeviceFormatProperties(s->vk_phys, f->format, &p);
	VkFormatFeatureFlags need = f->depth ? VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT
					     : VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT | VK_FORMAT_FEATURE_TRANSFER_SRC_BIT;
	return (p.optimalTilingFeatures & need) == need;
}

XrResult xrt_EnumerateSwapchainFormats(XrSession session, uint32_t cap, uint32_t *count, int64_t *formats)
{
	XRT_ENTER_SESSION("xrEnumerateSwapchainFormats");
	uint32_t n = 0;
	for (uint32_t i = 0; i < XRT_NFORMATS; i++)
		n += format_supported(s, &xrt_formats[i]);
	XrResult r = xrt_two_call(inst, s, fn_name, cap, count, formats, n, "formatCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	n = 0;
	for (uint32_t i = 0; i < XRT_NFORMATS; i++)
		if (format_supported(s, &xrt_formats[i]))
			formats[n++] = xrt_formats[i].format;
	XRT_RETURN(XR_SUCCESS);
}

/* Each XR usage bit and the Vulkan one it asks for. */
static const struct {
	XrSwapchainUsageFlags xr;
	VkImageUsageFlags vk;
} xrt_usages[] = {
	{XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT, VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT},
	{XR_SWAPCHAIN_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT},
	{XR_SWAPCHAIN_USAGE_UNORDERED_ACCESS_BIT, VK_IMAGE_USAGE_STORAGE_BIT},
	{XR_SWAPCHAIN_USAGE_TRANSFER_SRC_BIT, VK_IMAGE_USAGE_TRANSFER_SRC_BIT},
	{XR_SWAPCHAIN_USAGE_TRANSFER_DST_BIT, VK_IMAGE_USAGE_TRANSFER_DST_BIT},
	{XR_SWAPCHAIN_USAGE_SAMPLED_BIT, VK_IMAGE_USAGE_SAMPLED_BIT},
	{XR_SWAPCHAIN_USAGE_INPUT_ATTACHMENT_BIT_KHR, VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT},
};

static VkImageUsageFlags vk_usage(XrSwapchainUsageFlags u, bool depth)
{
	VkImageUsageFlags v = 0;
	for (size_t i = 0; i < sizeof xrt_usages / sizeof xrt_usages[0]; i++)
		if (u & xrt_usages[i].xr)
			v |= xrt_usages[i].vk;
	if (!depth)
		v |= VK_IMAGE_USAGE_TRANSFER_SRC_BIT; /* the capture copy */
	return v;
}

static void images_free(struct xrt_swapchain *sc)
{
	for (uint32_t i = 0; i < XRT_SWAPCHAIN_IMAGES; i++) {
		if (sc->images[i])
			vkDestroyImage(sc->s->device, sc->images[i], NULL);
		if (sc->memory[i])
			vkFreeMemory(sc->s->device, sc->memory[i], NULL);
		sc->images[i] = VK_NULL_HANDLE;
		sc->memory[i] = VK_NULL_HANDLE;
	}
}

/* Every image from UNDEFINED to the layout the client gets it in. */
static VkResult initial_layouts(struct xrt_swapchain *sc)
{
	struct xrt_session *s = sc->s;
	VkResult vr = xrt_vk_begin(s);
	if (vr != VK_SUCCESS)
		return vr;
	VkImageMemoryBarrier b[XRT_SWAPCHAIN_IMAGES];
	for (uint32_t i = 0; i < sc->nimages; i++) {
		b[i] = (VkImageMemoryBarrier){
			.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
			.srcAccessMask = 0,
			.dstAccessMask = sc->depth ? VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT
						   : VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
			.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
			.newLayout = sc->depth ? VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL
					       : VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
			.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
			.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
			.image = sc->images[i],
			.subresourceRange = {sc->depth ? VK_IMAGE_ASPECT_DEPTH_BIT : VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0,
					     sc->array},
		};
	}
	vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
			     sc->depth ? VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT
				       : VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
			     0, 0, NULL, 0, NULL, sc->nimages, b);
	return xrt_vk_submit_wait(s);
}

static XrResult images_make(struct xrt_swapchain *sc, const XrSwapchainCreateInfo *ci, const char *fn)
{
	struct xrt_session *s = sc->s;
	VkImageCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.flags = (ci->usageFlags & XR_SWAPCHAIN_USAGE_MUTABLE_FORMAT_BIT) ? VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT : 0,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = sc->format,
		.extent = {sc->w, sc->h, 1},
		.mipLevels = 1,
		.arrayLayers = sc->array,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = vk_usage(ci->usageFlags, sc->depth),
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	VkImageFormatProperties ifp;
	VkResult vr = vkGetPhysicalDeviceImageFormatProperties(s->vk_phys, ici.format, ici.imageType, ici.tiling,
							       ici.usage, ici.flags, &ifp);
	if (vr != VK_SUCCESS || ifp.maxExtent.width < sc->w || ifp.maxExtent.height < sc->h ||
	    ifp.maxArrayLayers < sc->array)
		return xrt_fail(s->inst, s, fn, XR_ERROR_FEATURE_UNSUPPORTED,
				"the device cannot make a %u x %u x %u image of format %d with usage 0x%llx.", sc->w,
				sc->h, sc->array, (int)sc->format, (unsigned long long)ci->usageFlags);
	for (uint32_t i = 0; i < sc->nimages; i++) {
		vr = vkCreateImage(s->device, &ici, NULL, &sc->images[i]);
		if (vr != VK_SUCCESS)
			break;
		VkMemoryRequirements req;
		vkGetImageMemoryRequirements(s->device, sc->images[i], &req);
		int mt = xrt_vk_memory_type(s, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
		if (mt < 0)
			mt = xrt_vk_memory_type(s, req.memoryTypeBits, 0);
		if (mt < 0) {
			vr = VK_ERROR_OUT_OF_DEVICE_MEMORY;
			break;
		}
		VkMemoryAllocateInfo ai = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
			.allocationSize = req.size,
			.memoryTypeIndex = (uint32_t)mt,
		};
		vr = vkAllocateMemory(s->device, &ai, NULL, &sc->memory[i]);
		if (vr != VK_SUCCESS)
			break;
		vr = vkBindImageMemory(s->device, sc->images[i], sc->memory[i], 0);
		if (vr != VK_SUCCESS)
			break;
	}
	if (vr == VK_SUCCESS)
		vr = initial_layouts(sc);
	if (vr != VK_SUCCESS) {
		images_free(sc);
		return xrt_fail(s->inst, s, fn,
				vr == VK_ERROR_OUT_OF_DEVICE_MEMORY || vr == VK_ERROR_OUT_OF_HOST_MEMORY
					? XR_ERROR_OUT_OF_MEMORY
					: XR_ERROR_RUNTIME_FAILURE,
				"making the swapchain images: VkResult %d.", (int)vr);
	}
	return XR_SUCCESS;
}

XrResult xrt_CreateSwapchain(XrSession session, const XrSwapchainCreateInfo *ci, XrSwapchain *out)
{
	XRT_ENTER_SESSION("xrCreateSwapchain");
	if (!ci || ci->type != XR_TYPE_SWAPCHAIN_CREATE_INFO || !out)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_SWAPCHAIN_CREATE_INFO, or swapchain is NULL."));
	if (ci->createFlags & XR_SWAPCHAIN_CREATE_PROTECTED_CONTENT_BIT)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_FEATURE_UNSUPPORTED, "protected content is not offered."));
	if (ci->createFlags & ~(XrSwapchainCreateFlags)XR_SWAPCHAIN_CREATE_STATIC_IMAGE_BIT)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE, "unknown createFlags 0x%llx.",
				    (unsigned long long)ci->createFlags));
	const struct xrt_format *f = NULL;
	for (uint32_t i = 0; i < XRT_NFORMATS; i++)
		if (xrt_formats[i].format == (VkFormat)ci->format && format_supported(s, &xrt_formats[i]))
			f = &xrt_formats[i];
	if (!f)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED,
				    "format %lld is not one xrEnumerateSwapchainFormats lists.", (long long)ci->format));
	if (ci->width == 0 || ci->height == 0 || ci->width > XRT_IMAGE_DIM_MAX || ci->height > XRT_IMAGE_DIM_MAX ||
	    ci->arraySize == 0 || ci->arraySize > XRT_ARRAY_MAX || ci->faceCount != 1 || ci->mipCount != 1 ||
	    ci->sampleCount != 1)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "%u x %u, %u layers, %u faces, %u mips, %u samples: this runtime makes 1 to %u "
				    "pixels a side, 1 to %u layers, 1 face, 1 mip, 1 sample.",
				    ci->width, ci->height, ci->arraySize, ci->faceCount, ci->mipCount, ci->sampleCount,
				    XRT_IMAGE_DIM_MAX, XRT_ARRAY_MAX));
	XrSwapchainUsageFlags attach = f->depth ? XR_SWAPCHAIN_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT
						: XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT;
	XrSwapchainUsageFlags wrong = f->depth ? XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT
					       : XR_SWAPCHAIN_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT;
	if (ci->usageFlags & wrong)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_FEATURE_UNSUPPORTED,
				    "usage 0x%llx asks for a %s attachment of a %s format.",
				    (unsigned long long)ci->usageFlags, f->depth ? "colour" : "depth",
				    f->depth ? "depth" : "colour"));
	if (!(ci->usageFlags & attach))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_FEATURE_UNSUPPORTED,
				    "usage 0x%llx: this runtime hands images over as %s attachments, so that bit is needed.",
				    (unsigned long long)ci->usageFlags, f->depth ? "depth" : "colour"));
	struct xrt_swapchain *sc = calloc(1, sizeof *sc);
	if (!sc)
		XRT_RETURN(XR_ERROR_OUT_OF_MEMORY);
	sc->s = s;
	sc->format = f->format;
	sc->depth = f->depth;
	sc->is_static = ci->createFlags & XR_SWAPCHAIN_CREATE_STATIC_IMAGE_BIT;
	sc->w = ci->width;
	sc->h = ci->height;
	sc->array = ci->arraySize;
	sc->usage = ci->usageFlags;
	sc->nimages = sc->is_static ? 1 : XRT_SWAPCHAIN_IMAGES;
	sc->last_released = -1;
	XrResult r = images_make(sc, ci, fn_name);
	if (r != XR_SUCCESS) {
		free(sc);
		XRT_RETURN(r);
	}
	if (xrt_handle_add(&sc->base, XRT_KIND_SWAPCHAIN, &s->base)) {
		images_free(sc);
		free(sc);
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_LIMIT_REACHED, "more than %u handles.", XRT_HANDLES_MAX));
	}
	sc->id = ++s->next_swapchain_id;
	xrt_record(inst, "swapchain id=%u format=%d size=%ux%u array=%u images=%u usage=0x%llx", sc->id,
		   (int)sc->format, sc->w, sc->h, sc->array, sc->nimages, (unsigned long long)sc->usage);
	*out = (XrSwapchain)(uintptr_t)sc->base.handle;
	XRT_RETURN(XR_SUCCESS);
}

void xrt_swapchain_destroy(struct xrt_swapchain *sc)
{
	images_free(sc);
	xrt_handle_remove(&sc->base);
	free(sc);
}

#define XRT_ENTER_SWAPCHAIN(fn)                                                 \
	XRT_ENTER_HANDLE(struct xrt_swapchain, sc, xrt_swapchain_get, swapchain) \
	struct xrt_session *s = sc->s;                                          \
	struct xrt_instance *inst = s->inst;                                    \
	static const char fn_name[] = fn

XrResult xrt_DestroySwapchain(XrSwapchain swapchain)
{
	XRT_ENTER_SWAPCHAIN("xrDestroySwapchain");
	(void)inst;
	(void)fn_name;
	xrt_swapchain_destroy(sc);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_EnumerateSwapchainImages(XrSwapchain swapchain, uint32_t cap, uint32_t *count,
				      XrSwapchainImageBaseHeader *images)
{
	XRT_ENTER_SWAPCHAIN("xrEnumerateSwapchainImages");
	XrResult r = xrt_two_call(inst, s, fn_name, cap, count, images, sc->nimages, "imageCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	XrSwapchainImageVulkanKHR *vi = (XrSwapchainImageVulkanKHR *)images;
	for (uint32_t i = 0; i < sc->nimages; i++)
		if (vi[i].type != XR_TYPE_SWAPCHAIN_IMAGE_VULKAN2_KHR)
			XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
					    "images[%u].type is %d, not XR_TYPE_SWAPCHAIN_IMAGE_VULKAN2_KHR.", i,
					    (int)vi[i].type));
	for (uint32_t i = 0; i < sc->nimages; i++)
		vi[i].image = sc->images[i];
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_AcquireSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageAcquireInfo *info,
				   uint32_t *index)
{
	XRT_ENTER_SWAPCHAIN("xrAcquireSwapchainImage");
	if ((info && info->type != XR_TYPE_SWAPCHAIN_IMAGE_ACQUIRE_INFO) || !index)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "acquireInfo is not XR_TYPE_SWAPCHAIN_IMAGE_ACQUIRE_INFO, or index is NULL."));
	if (sc->is_static && sc->acquires > 0)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "swapchain %u is static: its image can be acquired once.", sc->id));
	if (sc->nacquired == sc->nimages)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "all %u images of swapchain %u are acquired: release one first.", sc->nimages, sc->id));
	uint32_t i = sc->next;
	sc->acquired[sc->nacquired++] = i;
	sc->next = (sc->next + 1) % sc->nimages;
	sc->acquires++;
	*index = i;
	xrt_record(inst, "acquire swapchain=%u image=%u", sc->id, i);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_WaitSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageWaitInfo *info)
{
	XRT_ENTER_SWAPCHAIN("xrWaitSwapchainImage");
	if (!info || info->type != XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "waitInfo is NULL or not XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO."));
	if (sc->nacquired == 0)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "swapchain %u has no acquired image to wait for.", sc->id));
	if (sc->head_waited)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "image %u of swapchain %u was waited for already: release it first.", sc->acquired[0],
				    sc->id));
	/* The runtime reads an image only inside xrEndFrame and waits for its
	 * copy there, so an acquired image is always ready: no timeout. */
	sc->head_waited = true;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_ReleaseSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageReleaseInfo *info)
{
	XRT_ENTER_SWAPCHAIN("xrReleaseSwapchainImage");
	if (info && info->type != XR_TYPE_SWAPCHAIN_IMAGE_RELEASE_INFO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "releaseInfo is not XR_TYPE_SWAPCHAIN_IMAGE_RELEASE_INFO."));
	if (!sc->head_waited)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_CALL_ORDER_INVALID,
				    "swapchain %u has no image that was acquired and waited for.", sc->id));
	uint32_t i = sc->acquired[0];
	memmove(sc->acquired, sc->acquired + 1, (sc->nacquired - 1) * sizeof sc->acquired[0]);
	sc->nacquired--;
	sc->head_waited = false;
	sc->last_released = (int32_t)i;
	xrt_record(inst, "release swapchain=%u image=%u", sc->id, i);
	XRT_RETURN(XR_SUCCESS);
}
