/* A backend test's frame: a clear and a rectangle (th_gfxclear.h). */
#include <stdbool.h>
#include <string.h>

#include "gfx/gfx_vk.h"
#include "th_gfxclear.h"

void gc_record_clear(VkCommandBuffer cmd, const struct gfx_target *t, const float bg[4], const float fg[4],
		     VkRect2D rect)
{
	/* Whatever wrote or copied the image before (the last frame's readback or screenshot) is done. */
	gfx_cmd_image_barrier(cmd, t->image, VK_IMAGE_ASPECT_COLOR_BIT, t->initial_layout,
			      VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
			      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_2_COPY_BIT, 0,
			      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT, VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT);
	VkRenderingAttachmentInfo ca = {
		.sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
		.imageView = t->view,
		.imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
		.storeOp = VK_ATTACHMENT_STORE_OP_STORE,
	};
	memcpy(ca.clearValue.color.float32, bg, sizeof(ca.clearValue.color.float32));
	VkRenderingInfo ri = {
		.sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
		.renderArea = { { 0, 0 }, t->extent },
		.layerCount = 1,
		.colorAttachmentCount = 1,
		.pColorAttachments = &ca,
	};
	vkCmdBeginRendering(cmd, &ri);
	if (rect.extent.width) {
		VkClearAttachment clr = { .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT, .colorAttachment = 0 };
		memcpy(clr.clearValue.color.float32, fg, sizeof(clr.clearValue.color.float32));
		VkClearRect cr = { .rect = rect, .baseArrayLayer = 0, .layerCount = 1 };
		vkCmdClearAttachments(cmd, 1, &clr, 1, &cr);
	}
	vkCmdEndRendering(cmd);
	bool copied = t->final_layout == VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
	gfx_cmd_image_barrier(cmd, t->image, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
			      t->final_layout, VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
			      VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT,
			      copied ? VK_PIPELINE_STAGE_2_COPY_BIT : VK_PIPELINE_STAGE_2_NONE,
			      copied ? VK_ACCESS_2_TRANSFER_READ_BIT : 0);
}
