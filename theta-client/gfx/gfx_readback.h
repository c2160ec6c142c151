/* Reading a rendered colour image back to the CPU: the copy of the whole
 * image into a host-visible buffer (gfx_buffer_create(..., true, ...)) and
 * the barrier that makes the copy's writes visible to the host once the
 * frame's fence has signalled. The window's screenshot and the headless
 * backend's readback both record this pair. */
#pragma once
#include <stdint.h>

#include <vulkan/vulkan.h>

/* Records the copy of image's colour (level 0, layer 0, extent, in
 * TRANSFER_SRC_OPTIMAL) into buf at offset bytes, rows row_pixels apart
 * (0: extent.width, tightly packed). */
void gfx_readback_copy(VkCommandBuffer cmd, VkImage image, VkExtent2D extent, VkBuffer buf, VkDeviceSize offset,
		       uint32_t row_pixels);
/* Records the barrier from the copies into buf (COPY, transfer writes) to
 * the host's reads of it. */
void gfx_readback_host_barrier(VkCommandBuffer cmd, VkBuffer buf);
