/* What the backend tests (test_gfx_headless, test_gfx_window) record into a
 * frame's target instead of the core's drawing: the target's barrier from
 * its initial layout, dynamic rendering that clears the whole image to bg
 * and a rectangle of it to fg (a rectangle of width 0: none), and the
 * barrier to its final layout (a copy reads it after when that is
 * TRANSFER_SRC_OPTIMAL). Colours are linear; the image may be sRGB. */
#pragma once
#include <vulkan/vulkan.h>

#include "gfx/gfx_backend.h"

void gc_record_clear(VkCommandBuffer cmd, const struct gfx_target *t, const float bg[4], const float fg[4],
		     VkRect2D rect);
