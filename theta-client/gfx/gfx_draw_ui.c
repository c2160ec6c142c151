/* The UI's part of the core (gfx_draw.h, gfx_list.h's struct gfx_list_ui;
 * docs/rendering.md, "The UI"): the font atlas as a sampled R8 image, its
 * sampler and descriptor set, the UI's vertices in the slot's overlay
 * buffer, and its draws after everything else: the world mesh in every
 * view with the view's view-projection, the screen mesh on view 0 through
 * an orthographic projection in the target's pixels (y down).
 *
 * The atlas is copied once per context (a one-shot transfer the first
 * frame that has a font; a device-loss rebuild makes a new core and so
 * copies it again) and again only if a frame names another font. It has
 * GFX_DRAW_ATLAS_LEVELS mip levels, each the 2 x 2 box mean of the one
 * above (made here, on the CPU), sampled trilinearly: text seen smaller
 * than the atlas (world panels from afar) greys out evenly instead of
 * breaking up; text on whole pixels at the atlas's size (the desktop's)
 * samples level 0 at texel centres, exactly. */
#include <errno.h>
#include <string.h>

#include "gfx/gfx_draw_int.h"
#include "th_log.h"

_Static_assert(sizeof(struct ui_vertex) == 24, "ui.vert's inputs (pos, uv, rgba)");

int gfx_draw_ui_create(struct gfx_draw *d)
{
	VkDevice dev = d->vk->device;
	int r = gfx_draw_set_layout(d, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, &d->ui_set_layout);
	if (r < 0)
		return r;
	/* Set 0 as every other pipeline has it (and the same push constants),
	 * so the frame's set bound with d->layout stays bound when set 1 is
	 * bound with this one. */
	VkDescriptorSetLayout sets[2] = { d->set_layout, d->ui_set_layout };
	if ((r = gfx_draw_pipeline_layout(d, sets, 2, &d->ui_layout)) < 0)
		return r;
	VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1 };
	VkDescriptorPoolCreateInfo dp = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
					  .poolSizeCount = 1, .pPoolSizes = &ps };
	r = gfx_vk_check(d->vk, vkCreateDescriptorPool(dev, &dp, NULL, &d->ui_pool), "vkCreateDescriptorPool");
	if (r < 0)
		return r;
	VkDescriptorSetAllocateInfo dai = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
					    .descriptorPool = d->ui_pool, .descriptorSetCount = 1,
					    .pSetLayouts = &d->ui_set_layout };
	r = gfx_vk_check(d->vk, vkAllocateDescriptorSets(dev, &dai, &d->ui_set), "vkAllocateDescriptorSets");
	if (r < 0)
		return r;
	/* Trilinear: world panels are seen at any size; screen text lies on
	 * whole pixels and samples level 0's texel centres, so it comes out exact. */
	VkSamplerCreateInfo si = {
		.sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
		.magFilter = VK_FILTER_LINEAR,
		.minFilter = VK_FILTER_LINEAR,
		.mipmapMode = VK_SAMPLER_MIPMAP_MODE_LINEAR,
		.addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
		.addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
		.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
		.maxLod = (float)(GFX_DRAW_ATLAS_LEVELS - 1),
	};
	return gfx_vk_check(d->vk, vkCreateSampler(dev, &si, NULL, &d->ui_sampler), "vkCreateSampler");
}

void gfx_draw_ui_destroy(struct gfx_draw *d)
{
	VkDevice dev = d->vk->device;
	gfx_image_destroy(d->vk, &d->atlas);
	d->atlas_of = NULL;
	if (d->ui_sampler != VK_NULL_HANDLE)
		vkDestroySampler(dev, d->ui_sampler, NULL);
	if (d->ui_layout != VK_NULL_HANDLE)
		vkDestroyPipelineLayout(dev, d->ui_layout, NULL);
	if (d->ui_pool != VK_NULL_HANDLE)
		vkDestroyDescriptorPool(dev, d->ui_pool, NULL); /* frees ui_set */
	if (d->ui_set_layout != VK_NULL_HANDLE)
		vkDestroyDescriptorSetLayout(dev, d->ui_set_layout, NULL);
	d->ui_sampler = VK_NULL_HANDLE;
	d->ui_layout = VK_NULL_HANDLE;
	d->ui_pool = VK_NULL_HANDLE;
	d->ui_set_layout = VK_NULL_HANDLE;
	d->ui_set = VK_NULL_HANDLE;
}

/* The levels of an atlas w x h: the atlas, then halvings (a side rounds
 * down, never below 1) while a side is at least 2, at most
 * GFX_DRAW_ATLAS_LEVELS. */
static uint32_t atlas_levels(uint32_t w, uint32_t h)
{
	uint32_t n = 1;
	while (n < GFX_DRAW_ATLAS_LEVELS && (w > 1 || h > 1)) {
		w = w > 1 ? w / 2 : 1;
		h = h > 1 ? h / 2 : 1;
		n++;
	}
	return n;
}

/* Level src (sw x sh, rows packed) halved into dst: each texel the mean of
 * the 2 x 2 block above it (clamped at an odd edge), rounded. */
static void halve(const uint8_t *src, uint32_t sw, uint32_t sh, uint8_t *dst, uint32_t dw, uint32_t dh)
{
	for (uint32_t y = 0; y < dh; y++)
		for (uint32_t x = 0; x < dw; x++) {
			uint32_t x0 = 2 * x < sw ? 2 * x : sw - 1, y0 = 2 * y < sh ? 2 * y : sh - 1;
			uint32_t x1 = x0 + 1 < sw ? x0 + 1 : x0, y1 = y0 + 1 < sh ? y0 + 1 : y0;
			uint32_t s = src[y0 * sw + x0] + src[y0 * sw + x1] + src[y1 * sw + x0] + src[y1 * sw + x1];
			dst[y * dw + x] = (uint8_t)((s + 2) / 4);
		}
}

/* f's coverage and its halvings into a new R8 image (one-shot transfer:
 * staging buffer, a copy per level, then SHADER_READ_ONLY for the
 * fragment shader), bound to ui_set. */
static int atlas_upload(struct gfx_draw *d, const struct ui_font *f)
{
	if (!f->pixels || f->width == 0 || f->height == 0 || f->width > GFX_DRAW_ATLAS_DIM_MAX ||
	    f->height > GFX_DRAW_ATLAS_DIM_MAX) {
		th_err("gfx: the UI font atlas is %ux%u%s; it must have pixels and be 1 to %u on a side", f->width,
		       f->height, f->pixels ? "" : " without pixels", GFX_DRAW_ATLAS_DIM_MAX);
		return -EINVAL;
	}
	if (d->atlas.image != VK_NULL_HANDLE) {
		/* Another font: frames in flight sample the old image through
		 * ui_set, which may not change under them. Rare (the client has
		 * one font). */
		vkDeviceWaitIdle(d->vk->device);
		gfx_image_destroy(d->vk, &d->atlas);
		d->atlas_of = NULL;
	}
	VkExtent2D e = { f->width, f->height };
	uint32_t levels = atlas_levels(f->width, f->height);
	VkBufferImageCopy c[GFX_DRAW_ATLAS_LEVELS];
	VkDeviceSize size = 0;
	for (uint32_t i = 0, w = f->width, h = f->height; i < levels; i++) {
		c[i] = (VkBufferImageCopy){
			.bufferOffset = size,
			.bufferRowLength = 0, /* tightly packed rows, top down */
			.imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, i, 0, 1 },
			.imageExtent = { w, h, 1 },
		};
		size += (VkDeviceSize)w * h;
		w = w > 1 ? w / 2 : 1;
		h = h > 1 ? h / 2 : 1;
	}
	struct gfx_buffer st = { 0 };
	int r = gfx_image_create_levels(d->vk, e, VK_FORMAT_R8_UNORM,
					VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
					VK_IMAGE_ASPECT_COLOR_BIT, levels, &d->atlas);
	if (r == 0)
		r = gfx_buffer_create(d->vk, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true, &st);
	VkCommandBuffer cmd = VK_NULL_HANDLE;
	if (r == 0)
		r = gfx_vk_oneshot_begin(d->vk, &cmd);
	if (r == 0) {
		uint8_t *p = st.map;
		memcpy(p, f->pixels, (size_t)f->width * f->height);
		for (uint32_t i = 1; i < levels; i++)
			halve(p + c[i - 1].bufferOffset, c[i - 1].imageExtent.width, c[i - 1].imageExtent.height,
			      p + c[i].bufferOffset, c[i].imageExtent.width, c[i].imageExtent.height);
		gfx_cmd_image_barrier(cmd, d->atlas.image, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_UNDEFINED,
				      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_2_NONE, 0,
				      VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT);
		vkCmdCopyBufferToImage(cmd, st.buf, d->atlas.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, levels, c);
		gfx_cmd_image_barrier(cmd, d->atlas.image, VK_IMAGE_ASPECT_COLOR_BIT,
				      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
				      VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
				      VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT, VK_ACCESS_2_SHADER_SAMPLED_READ_BIT);
		r = gfx_vk_oneshot_end(d->vk, cmd); /* waits: the staging buffer can go */
	}
	gfx_buffer_destroy(d->vk, &st);
	if (r < 0) {
		gfx_image_destroy(d->vk, &d->atlas);
		return r;
	}
	VkDescriptorImageInfo ii = { .sampler = d->ui_sampler, .imageView = d->atlas.view,
				     .imageLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
	VkWriteDescriptorSet w = { .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = d->ui_set,
				   .descriptorCount = 1,
				   .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, .pImageInfo = &ii };
	vkUpdateDescriptorSets(d->vk->device, 1, &w, 0, NULL);
	d->atlas_of = f;
	d->stats.atlas_uploads++;
	return 0;
}

/* The vertices of m to draw: whole triangles, at most GFX_UI_VERTICES_MAX. */
static uint32_t mesh_count(const struct ui_mesh *m)
{
	if (!m->v)
		return 0;
	uint32_t n = m->n < GFX_UI_VERTICES_MAX ? m->n : GFX_UI_VERTICES_MAX;
	return n - n % 3;
}

int gfx_draw_ui_prepare(struct gfx_draw *d, const struct gfx_list *l)
{
	d->ui_nworld = d->ui_nscreen = 0;
	const struct gfx_list_ui *u = &l->ui;
	uint32_t nw = mesh_count(&u->world), ns = mesh_count(&u->screen);
	if (!u->font || nw + ns == 0)
		return 0;
	if (u->font == d->atlas_refused)
		return 0;
	if (u->font != d->atlas_of) {
		int r = atlas_upload(d, u->font);
		if (r == -EINVAL) {
			d->atlas_refused = u->font; /* said once; the frame goes on without the UI */
			return 0;
		}
		if (r < 0)
			return r;
	}
	d->ui_nworld = nw;
	d->ui_nscreen = ns;
	return 0;
}

void gfx_draw_ui_write(struct gfx_draw *d, const struct gfx_list *l, uint8_t *p)
{
	if (d->ui_nworld)
		memcpy(p + d->ui_world_off, l->ui.world.v, (size_t)d->ui_nworld * sizeof(struct ui_vertex));
	if (d->ui_nscreen)
		memcpy(p + d->ui_screen_off, l->ui.screen.v, (size_t)d->ui_nscreen * sizeof(struct ui_vertex));
}

/* Window pixels (x right, y down, z 0) to Vulkan clip space over e:
 * x' = 2 x / w - 1, y' = 2 y / h - 1 (Vulkan's y is down too), depth 0. */
static void pixel_ortho(float m[16], VkExtent2D e)
{
	memset(m, 0, 16 * sizeof *m);
	m[0] = 2.0f / (float)e.width;
	m[5] = 2.0f / (float)e.height;
	m[12] = -1.0f;
	m[13] = -1.0f;
	m[15] = 1.0f;
}

static void ui_draw(struct gfx_draw *d, VkCommandBuffer cmd, const float mvp[16], const VkDeviceSize *off,
		    uint32_t n)
{
	struct gfx_push p;
	memset(&p, 0, sizeof p);
	memcpy(p.mvp, mvp, sizeof p.mvp);
	vkCmdPushConstants(cmd, d->ui_layout, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof p,
			   &p);
	vkCmdBindVertexBuffers(cmd, 0, 1, &d->slot[d->cur].overlay.buf, off);
	vkCmdDraw(cmd, n, 1, 0, 0);
	d->stats.draws++;
	d->stats.ui_triangles += n / 3;
}

void gfx_draw_ui_record(struct gfx_draw *d, VkCommandBuffer cmd, const float vp[16], VkExtent2D e,
			uint32_t view_index)
{
	uint32_t ns = view_index == 0 ? d->ui_nscreen : 0;
	if (d->ui_nworld == 0 && ns == 0)
		return;
	vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->pipe[GFX_PIPE_UI]);
	vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->ui_layout, 1, 1, &d->ui_set, 0, NULL);
	if (d->ui_nworld)
		ui_draw(d, cmd, vp, &d->ui_world_off, d->ui_nworld);
	if (ns) {
		float ortho[16];
		pixel_ortho(ortho, e);
		ui_draw(d, cmd, ortho, &d->ui_screen_off, ns);
	}
}
