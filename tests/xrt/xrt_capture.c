/* The capture hook: one view's sub-image of the image the client released
 * last, copied on the client's queue into a buffer of the runtime's, written
 * as PNG (theta-client/gfx/gfx_png.c, compiled into this library). */
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx_png.h"
#include "xrt.h"

static const char *const xrt_eye_names[XRT_VIEWS] = {"left", "right"};

static void capture_failed(struct xrt_session *s, uint64_t frame, uint32_t eye, const char *why)
{
	xrt_record(s->inst, "capture_failed frame=%llu eye=%u why=%s", (unsigned long long)frame, eye, why);
	fprintf(stderr, "theta test runtime: frame %llu %s eye not captured: %s\n", (unsigned long long)frame,
		xrt_eye_names[eye], why);
}

static VkResult copy_out(struct xrt_session *s, const struct xrt_swapchain *sc, const XrSwapchainSubImage *sub,
			 VkBuffer buf)
{
	VkImage img = sc->images[sc->last_released];
	VkResult vr = xrt_vk_begin(s);
	if (vr != VK_SUCCESS)
		return vr;
	VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, sub->imageArrayIndex, 1};
	VkImageMemoryBarrier to_src = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
		.oldLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		.newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = img,
		.subresourceRange = range,
	};
	vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
			     NULL, 0, NULL, 1, &to_src);
	VkBufferImageCopy region = {
		.bufferOffset = 0,
		.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, sub->imageArrayIndex, 1},
		.imageOffset = {sub->imageRect.offset.x, sub->imageRect.offset.y, 0},
		.imageExtent = {(uint32_t)sub->imageRect.extent.width, (uint32_t)sub->imageRect.extent.height, 1},
	};
	vkCmdCopyImageToBuffer(s->cmd, img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf, 1, &region);
	VkImageMemoryBarrier back = to_src;
	back.srcAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
	back.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_COLOR_ATTACHMENT_READ_BIT;
	back.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
	back.newLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
	VkBufferMemoryBarrier host = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.buffer = buf,
		.offset = 0,
		.size = VK_WHOLE_SIZE,
	};
	vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
			     VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 0, NULL, 1,
			     &host, 1, &back);
	return xrt_vk_submit_wait(s);
}

XrResult xrt_capture_view(struct xrt_session *s, uint64_t frame, uint32_t eye, const XrSwapchainSubImage *sub)
{
	struct xrt_swapchain *sc = xrt_swapchain_get(sub->swapchain);
	char why[XRT_WHY_MAX];
	bool bgra = sc->format == VK_FORMAT_B8G8R8A8_SRGB || sc->format == VK_FORMAT_B8G8R8A8_UNORM;
	if (!bgra && sc->format != VK_FORMAT_R8G8B8A8_SRGB && sc->format != VK_FORMAT_R8G8B8A8_UNORM) {
		snprintf(why, sizeof why, "format %d is not an 8-bit RGBA or BGRA one.", (int)sc->format);
		capture_failed(s, frame, eye, why);
		return XR_SUCCESS;
	}
	uint32_t w = (uint32_t)sub->imageRect.extent.width, h = (uint32_t)sub->imageRect.extent.height;
	VkDeviceSize size = (VkDeviceSize)w * h * 4;
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkBuffer buf = VK_NULL_HANDLE;
	VkDeviceMemory mem = VK_NULL_HANDLE;
	void *map = NULL;
	VkResult vr = vkCreateBuffer(s->device, &bci, NULL, &buf);
	if (vr == VK_SUCCESS) {
		VkMemoryRequirements req;
		vkGetBufferMemoryRequirements(s->device, buf, &req);
		int mt = xrt_vk_memory_type(s, req.memoryTypeBits,
					    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
		VkMemoryAllocateInfo ai = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
			.allocationSize = req.size,
			.memoryTypeIndex = (uint32_t)mt,
		};
		vr = mt < 0 ? VK_ERROR_OUT_OF_DEVICE_MEMORY : vkAllocateMemory(s->device, &ai, NULL, &mem);
	}
	if (vr == VK_SUCCESS)
		vr = vkBindBufferMemory(s->device, buf, mem, 0);
	if (vr == VK_SUCCESS)
		vr = copy_out(s, sc, sub, buf);
	if (vr == VK_SUCCESS)
		vr = vkMapMemory(s->device, mem, 0, size, 0, &map);
	uint8_t *rgba = NULL;
	if (vr == VK_SUCCESS && (rgba = malloc((size_t)size))) {
		memcpy(rgba, map, (size_t)size);
		if (bgra) {
			for (size_t i = 0; i < (size_t)size; i += 4) {
				uint8_t t = rgba[i];
				rgba[i] = rgba[i + 2];
				rgba[i + 2] = t;
			}
		}
	}
	if (map)
		vkUnmapMemory(s->device, mem);
	if (buf)
		vkDestroyBuffer(s->device, buf, NULL);
	if (mem)
		vkFreeMemory(s->device, mem, NULL);
	if (vr != VK_SUCCESS || !rgba) {
		snprintf(why, sizeof why, "reading the image back: VkResult %d%s.", (int)vr, rgba ? "" : " or no memory");
		capture_failed(s, frame, eye, why);
		free(rgba);
		return XR_SUCCESS;
	}
	char path[600];
	snprintf(path, sizeof path, "%s/frame-%04llu-%s.png", s->inst->cfg.capture_dir, (unsigned long long)frame,
		 xrt_eye_names[eye]);
	char pwhy[GFX_PNG_WHY_MAX];
	int rc = gfx_png_write(path, rgba, w, h, pwhy, sizeof pwhy);
	free(rgba);
	if (rc < 0) {
		capture_failed(s, frame, eye, pwhy);
		return XR_SUCCESS;
	}
	xrt_record(s->inst, "capture frame=%llu eye=%u path=%s", (unsigned long long)frame, eye, path);
	return XR_SUCCESS;
}
