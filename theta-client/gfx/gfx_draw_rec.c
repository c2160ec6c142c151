/* Recording one view of a prepared frame (gfx_draw_record): the target's
 * layout barriers, the view's depth image, then in one dynamic rendering
 * pass: the lit instances (one indexed draw each), the marked faces again
 * (depth EQUAL, the mark as the tint), the wire of edit modes (edges as lines, vertices
 * as squares; others' previews, ghosts, as their wire alone in the previewer's colour), the overlay (triangles, lines), the edge and vertex
 * marks as thick segments, and last the UI (gfx_draw_ui.c: no depth test,
 * so panels show over the scene). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "gfx/gfx_draw_int.h"
#include "gfx/gfx_math.h"
#include "th_log.h"

/* What lies on faces is pulled toward the eye by this fraction of its
 * distance (frame.glsl's gfx_nudge): the wire and marks 4 mm a metre, the
 * grid 1 mm a metre. */
#define GFX_NUDGE_WIRE 0.004f
#define GFX_NUDGE_OVERLAY 0.001f
#define GFX_WIRE_DOT_PX 6.0f
static const float wire_edge_color[4] = { 0.02f, 0.02f, 0.02f, 1.0f };
static const float wire_vertex_color[4] = { 0.95f, 0.55f, 0.05f, 1.0f };

static float srgb_encode(float c)
{
	if (c <= 0.0031308f)
		return c * 12.92f;
	return 1.055f * powf(c, 1.0f / 2.4f) - 0.055f;
}

static int depth_image(struct gfx_draw *d, uint32_t view, VkExtent2D e)
{
	struct gfx_image *img = &d->depth[view];
	if (img->image != VK_NULL_HANDLE && img->extent.width == e.width && img->extent.height == e.height)
		return 0;
	gfx_draw_retire_image(d, img);
	return gfx_image_create(d->vk, e, d->depth_format, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT,
				VK_IMAGE_ASPECT_DEPTH_BIT, img);
}

static void target_begin(VkCommandBuffer cmd, const struct gfx_target *t, VkImage depth)
{
	/* The colour image: whatever wrote or presented it before is done. */
	gfx_cmd_image_barrier(cmd, t->image, VK_IMAGE_ASPECT_COLOR_BIT, t->initial_layout,
			      VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
			      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT | VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT, 0,
			      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
			      VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_2_COLOR_ATTACHMENT_READ_BIT);
	/* The view's depth image, shared by the frames in flight: the previous
	 * frame's depth tests finish before this one clears it. */
	gfx_cmd_image_barrier(cmd, depth, VK_IMAGE_ASPECT_DEPTH_BIT, VK_IMAGE_LAYOUT_UNDEFINED,
			      VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
			      VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
			      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
			      VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
			      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT |
				      VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT);
}

static void target_end(VkCommandBuffer cmd, const struct gfx_target *t)
{
	VkImageLayout to = t->final_layout;
	if (to == VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL)
		return;
	VkPipelineStageFlags2 dst = VK_PIPELINE_STAGE_2_NONE;
	VkAccessFlags2 dst_access = 0;
	if (to == VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL) {
		dst = VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT;
		dst_access = VK_ACCESS_2_TRANSFER_READ_BIT;
	} else if (to == VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL) {
		dst = VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT;
		dst_access = VK_ACCESS_2_SHADER_READ_BIT;
	}
	gfx_cmd_image_barrier(cmd, t->image, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, to,
			      VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT, VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT, dst,
			      dst_access);
}

static void push(VkCommandBuffer cmd, const struct gfx_draw *d, const struct gfx_push *p)
{
	vkCmdPushConstants(cmd, d->layout, VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof *p, p);
}

/* The inverse transpose of m's upper 3x3 (normals model -> world) into
 * nm's columns; a singular matrix gives its own 3x3 (normalised later). */
static void normal_matrix(const float m[16], float nm[3][4])
{
	float a = m[0], b = m[4], c = m[8], dd = m[1], e = m[5], f = m[9], g = m[2], h = m[6], i = m[10];
	float A = e * i - f * h, B = -(dd * i - f * g), C = dd * h - e * g;
	float det = a * A + b * B + c * C;
	if (fabsf(det) < 1e-20f) {
		for (int k = 0; k < 3; k++)
			for (int r = 0; r < 3; r++)
				nm[k][r] = m[k * 4 + r];
		return;
	}
	float s = 1.0f / det;
	/* The cofactor matrix over det is the inverse transpose: column k holds
	 * the cofactors C(0, k), C(1, k), C(2, k) of rows 0 a b c, 1 dd e f,
	 * 2 g h i. */
	nm[0][0] = A * s;
	nm[0][1] = -(b * i - c * h) * s;
	nm[0][2] = (b * f - c * e) * s;
	nm[1][0] = B * s;
	nm[1][1] = (a * i - c * g) * s;
	nm[1][2] = -(a * f - c * dd) * s;
	nm[2][0] = C * s;
	nm[2][1] = -(a * h - b * g) * s;
	nm[2][2] = (a * e - b * dd) * s;
}

/* The lit pass's push constants for instance in and this view. */
static void lit_push(struct gfx_push *p, const float vp[16], const struct gfx_inst *in, const float color[4])
{
	gfx_mat4_mul(p->mvp, vp, in->model);
	normal_matrix(in->model, p->nm);
	uint32_t mat = in->material < GFX_MATERIALS ? in->material : 0;
	memcpy(&p->nm[0][3], &mat, sizeof mat); /* mesh.vert: floatBitsToUint */
	p->nm[1][3] = p->nm[2][3] = 0;
	memcpy(p->color, color, sizeof p->color);
}

static void draw_instances(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l, const float vp[16])
{
	vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->pipe[GFX_PIPE_LIT]);
	struct gfx_push p;
	for (uint32_t i = 0; i < d->ninst; i++) {
		const struct gfx_gpu_mesh *gm = d->inst_mesh[i];
		if (!gm || gm->g.nindex == 0)
			continue;
		const struct gfx_inst *in = &l->inst[i];
		if (in->ghost[3] > 0)
			continue; /* another user's preview: its wire only */
		lit_push(&p, vp, in, in->tint);
		push(cmd, d, &p);
		VkDeviceSize off = 0;
		vkCmdBindVertexBuffers(cmd, 0, 1, &gm->vbuf.buf, &off);
		vkCmdBindIndexBuffer(cmd, gm->ibuf.buf, 0, VK_INDEX_TYPE_UINT32);
		vkCmdDrawIndexed(cmd, gm->g.nindex, 1, 0, 0, 0);
		d->stats.draws++;
		d->stats.triangles += gm->g.nindex / 3;
	}
}

static void draw_face_marks(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l, const float vp[16])
{
	if (d->nfmark == 0)
		return;
	vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->pipe[GFX_PIPE_MARK]);
	struct gfx_push p;
	const struct gfx_gpu_mesh *bound = NULL;
	for (uint32_t i = 0; i < d->nfmark; i++) {
		const struct gfx_face_mark *fm = &d->fmark[i];
		const struct gfx_gpu_mesh *gm = d->inst_mesh[fm->inst];
		/* The same matrix as the lit pass (depth EQUAL); the mark as the tint. */
		lit_push(&p, vp, &l->inst[fm->inst], fm->color);
		push(cmd, d, &p);
		if (gm != bound) {
			VkDeviceSize off = 0;
			vkCmdBindVertexBuffers(cmd, 0, 1, &gm->vbuf.buf, &off);
			vkCmdBindIndexBuffer(cmd, gm->ibuf.buf, 0, VK_INDEX_TYPE_UINT32);
			bound = gm;
		}
		vkCmdDrawIndexed(cmd, fm->nindex, 1, fm->first_index, 0, 0);
		d->stats.draws++;
	}
}

/* Push constants of the unlit pipelines: nm[0] = (pull, size, 1 / w, 1 / h). */
static void flat_push(struct gfx_push *p, const float mvp[16], float pull, float size, VkExtent2D e,
		      const float color[4])
{
	memset(p, 0, sizeof *p);
	memcpy(p->mvp, mvp, sizeof p->mvp);
	p->nm[0][0] = pull;
	p->nm[0][1] = size;
	p->nm[0][2] = 1.0f / (float)e.width;
	p->nm[0][3] = 1.0f / (float)e.height;
	if (color)
		memcpy(p->color, color, sizeof p->color);
}

static void draw_wire(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l, const float vp[16],
		      VkExtent2D e)
{
	struct gfx_push p;
	for (int pass = 0; pass < 2; pass++) {
		bool bound = false;
		for (uint32_t i = 0; i < d->ninst; i++) {
			const struct gfx_gpu_mesh *gm = d->inst_mesh[i];
			if (!gm || !l->inst[i].wire || gm->wbuf.buf == VK_NULL_HANDLE)
				continue;
			uint32_t n = pass == 0 ? gm->g.nedge_index : gm->g.nwire;
			if (n == 0)
				continue;
			if (!bound) {
				vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS,
						  d->pipe[pass == 0 ? GFX_PIPE_WIRE : GFX_PIPE_DOT]);
				bound = true;
			}
			float mvp[16];
			gfx_mat4_mul(mvp, vp, l->inst[i].model);
			const float *ghost = l->inst[i].ghost[3] > 0 ? l->inst[i].ghost : NULL;
			flat_push(&p, mvp, GFX_NUDGE_WIRE, GFX_WIRE_DOT_PX, e,
				  ghost ? ghost : pass == 0 ? wire_edge_color : wire_vertex_color);
			push(cmd, d, &p);
			VkDeviceSize off = 0;
			vkCmdBindVertexBuffers(cmd, 0, 1, &gm->wbuf.buf, &off);
			if (pass == 0) {
				vkCmdBindIndexBuffer(cmd, gm->ebuf.buf, 0, VK_INDEX_TYPE_UINT32);
				vkCmdDrawIndexed(cmd, n, 1, 0, 0, 0);
			} else {
				vkCmdDraw(cmd, 6, n, 0, 0);
			}
			d->stats.draws++;
		}
	}
}

/* One draw of the slot's overlay buffer from off: pipeline, push
 * constants, vertices x instances. */
static void overlay_draw(struct gfx_draw *d, VkCommandBuffer cmd, enum gfx_pipe pipe, const struct gfx_push *p,
			 const VkDeviceSize *off, uint32_t vertices, uint32_t instances)
{
	VkBuffer ob = d->slot[d->cur].overlay.buf;
	vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->pipe[pipe]);
	push(cmd, d, p);
	vkCmdBindVertexBuffers(cmd, 0, 1, &ob, off);
	vkCmdDraw(cmd, vertices, instances, 0, 0);
	d->stats.draws++;
}

static void draw_overlay(struct gfx_draw *d, VkCommandBuffer cmd, const float vp[16], VkExtent2D e)
{
	struct gfx_push p;
	if (d->ntri) {
		flat_push(&p, vp, 0, 0, e, NULL);
		p.nm[1][0] = 1; /* shaded */
		overlay_draw(d, cmd, GFX_PIPE_OTRI, &p, &d->tri_off, d->ntri, 1);
	}
	if (d->nline) {
		flat_push(&p, vp, GFX_NUDGE_OVERLAY, 0, e, NULL);
		overlay_draw(d, cmd, GFX_PIPE_OLINE, &p, &d->line_off, d->nline, 1);
	}
	if (d->nseg) {
		flat_push(&p, vp, GFX_NUDGE_WIRE, 0, e, NULL);
		overlay_draw(d, cmd, GFX_PIPE_SEG, &p, &d->seg_off, 6, d->nseg);
	}
}

int gfx_draw_record(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l, const struct gfx_target *t,
		    const struct gfx_view *v, uint32_t view_index)
{
	if (!d->recording || !d->prepared || !l || !t || !v || view_index >= GFX_VIEWS_MAX ||
	    t->extent.width == 0 || t->extent.height == 0 || l->ninst != d->ninst)
		return -EINVAL;
	/* One record per view and frame (each view has one depth image). */
	if (d->recorded & (1u << view_index))
		return -EINVAL;
	if (t->format != d->cfg.color_format) {
		th_err("gfx: a target of format %d, the pipelines were made for %d", (int)t->format,
		       (int)d->cfg.color_format);
		return -EINVAL;
	}
	int r = depth_image(d, view_index, t->extent);
	if (r < 0)
		return r;
	d->recorded |= 1u << view_index;
	struct gfx_slot *s = &d->slot[d->cur];
	float vp[16];
	gfx_mat4_mul(vp, v->proj, v->view);

	target_begin(cmd, t, d->depth[view_index].image);
	VkClearValue clear = { .color = { .float32 = { l->clear[0], l->clear[1], l->clear[2], l->clear[3] } } };
	if (!d->cfg.srgb_target)
		for (int i = 0; i < 3; i++)
			clear.color.float32[i] = srgb_encode(l->clear[i]);
	VkRenderingAttachmentInfo ca = {
		.sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
		.imageView = t->view,
		.imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
		.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
		.storeOp = VK_ATTACHMENT_STORE_OP_STORE,
		.clearValue = clear,
	};
	VkRenderingAttachmentInfo da = {
		.sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
		.imageView = d->depth[view_index].view,
		.imageLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
		.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
		.storeOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
		.clearValue = { .depthStencil = { 1.0f, 0 } },
	};
	VkRenderingInfo ri = {
		.sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
		.renderArea = { { 0, 0 }, t->extent },
		.layerCount = 1,
		.colorAttachmentCount = 1,
		.pColorAttachments = &ca,
		.pDepthAttachment = &da,
	};
	vkCmdBeginRendering(cmd, &ri);
	VkViewport port = { 0, 0, (float)t->extent.width, (float)t->extent.height, 0.0f, 1.0f };
	VkRect2D sc = { { 0, 0 }, t->extent };
	vkCmdSetViewport(cmd, 0, 1, &port);
	vkCmdSetScissor(cmd, 0, 1, &sc);
	vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, d->layout, 0, 1, &s->set, 0, NULL);
	draw_instances(d, cmd, l, vp);
	draw_face_marks(d, cmd, l, vp);
	draw_wire(d, cmd, l, vp, t->extent);
	draw_overlay(d, cmd, vp, t->extent);
	gfx_draw_ui_record(d, cmd, vp, t->extent, view_index);
	vkCmdEndRendering(cmd);
	target_end(cmd, t);
	return 0;
}
