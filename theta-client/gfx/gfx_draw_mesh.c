/* The GPU mesh cache of gfx_draw (gfx_draw.h, "Meshes"): one struct
 * gfx_mesh and its device-local buffers per (mesh key, smooth), updated
 * in prepare from the instance's th_mesh; only the dirty ranges gfx_mesh
 * recorded are copied, through the slot's staging buffer, with one barrier
 * before the copies (earlier frames may still read the buffers) and one
 * after. Buffers grow by doubling; a replaced one is retired until the
 * frames that used it finished. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx_draw_int.h"
#include "th_hash.h"
#include "th_log.h"

/* (key, smooth) through th_mix64: the table takes the low bits. */
static uint32_t slot_hash(uint64_t key, bool smooth)
{
	return (uint32_t)th_mix64(key * 2 + (smooth ? 1 : 0));
}

static int table_rebuild(struct gfx_draw *d, uint32_t cap)
{
	uint32_t *t = calloc(cap, sizeof *t);
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->nmesh; i++) {
		uint32_t h = slot_hash(d->mesh[i]->key, d->mesh[i]->smooth) & (cap - 1);
		while (t[h])
			h = (h + 1) & (cap - 1);
		t[h] = i + 1;
	}
	free(d->table);
	d->table = t;
	d->cap_table = cap;
	return 0;
}

static struct gfx_gpu_mesh *mesh_find(const struct gfx_draw *d, uint64_t key, bool smooth)
{
	if (!d->cap_table)
		return NULL;
	uint32_t h = slot_hash(key, smooth) & (d->cap_table - 1);
	while (d->table[h]) {
		struct gfx_gpu_mesh *gm = d->mesh[d->table[h] - 1];
		if (gm->key == key && gm->smooth == smooth)
			return gm;
		h = (h + 1) & (d->cap_table - 1);
	}
	return NULL;
}

static int mesh_add(struct gfx_draw *d, uint64_t key, bool smooth, uint64_t id, struct gfx_gpu_mesh **out)
{
	if (d->nmesh >= GFX_DRAW_MESHES_MAX) {
		th_err("gfx: more than %u meshes to draw", GFX_DRAW_MESHES_MAX);
		return -ENOMEM;
	}
	int r = gfx_draw_grow((void **)&d->mesh, &d->cap_mesh, d->nmesh + 1, sizeof *d->mesh);
	if (r < 0)
		return r;
	struct gfx_gpu_mesh *gm = calloc(1, sizeof *gm);
	if (!gm)
		return -ENOMEM;
	gm->key = key;
	gm->smooth = smooth;
	gfx_mesh_init(&gm->g, id);
	d->mesh[d->nmesh++] = gm;
	uint32_t cap = d->cap_table ? d->cap_table : 64;
	while ((uint64_t)d->nmesh * 2 >= cap)
		cap *= 2;
	if (cap != d->cap_table) {
		r = table_rebuild(d, cap);
	} else {
		uint32_t h = slot_hash(key, smooth) & (cap - 1);
		while (d->table[h])
			h = (h + 1) & (cap - 1);
		d->table[h] = d->nmesh;
	}
	if (r < 0) {
		d->nmesh--;
		gfx_mesh_fini(&gm->g);
		free(gm);
		return r;
	}
	*out = gm;
	return 0;
}

static void mesh_free(struct gfx_draw *d, struct gfx_gpu_mesh *gm)
{
	gfx_buffer_destroy(d->vk, &gm->vbuf);
	gfx_buffer_destroy(d->vk, &gm->ibuf);
	gfx_buffer_destroy(d->vk, &gm->wbuf);
	gfx_buffer_destroy(d->vk, &gm->ebuf);
	gfx_mesh_fini(&gm->g);
	free(gm);
}

void gfx_draw_meshes_free(struct gfx_draw *d)
{
	for (uint32_t i = 0; i < d->nmesh; i++)
		mesh_free(d, d->mesh[i]);
	free(d->mesh);
	free(d->table);
	d->mesh = NULL;
	d->table = NULL;
	d->nmesh = d->cap_mesh = d->cap_table = 0;
}

/* Frees the meshes no instance drew for GFX_DRAW_EVICT_FRAMES frames (far
 * more frames than are in flight, so nothing uses their buffers). */
void gfx_draw_meshes_evict(struct gfx_draw *d)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < d->nmesh; i++) {
		struct gfx_gpu_mesh *gm = d->mesh[i];
		if (d->frame - gm->used_frame > GFX_DRAW_EVICT_FRAMES)
			mesh_free(d, gm);
		else
			d->mesh[k++] = gm;
	}
	if (k == d->nmesh)
		return;
	d->nmesh = k;
	/* Same capacity: the table cannot fail to fit fewer entries, but a
	 * failed allocation leaves it stale, so clear it in place instead. */
	memset(d->table, 0, (size_t)d->cap_table * sizeof *d->table);
	for (uint32_t i = 0; i < d->nmesh; i++) {
		uint32_t h = slot_hash(d->mesh[i]->key, d->mesh[i]->smooth) & (d->cap_table - 1);
		while (d->table[h])
			h = (h + 1) & (d->cap_table - 1);
		d->table[h] = i + 1;
	}
}

/* ---- uploads -------------------------------------------------------------- */

enum { BUF_V, BUF_I, BUF_W, BUF_E, BUFS };

/* Makes sure gm's buffer k holds n elements; a new buffer loses the old
 * contents (*fresh set: upload everything). */
static int ensure_buffer(struct gfx_draw *d, struct gfx_gpu_mesh *gm, int k, uint32_t n, bool *fresh)
{
	static const VkBufferUsageFlags usage[BUFS] = {
		VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
		VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
	};
	static const size_t elem[BUFS] = { sizeof(struct gfx_vertex), sizeof(uint32_t), sizeof(float[3]),
					   sizeof(uint32_t) };
	struct gfx_buffer *b[BUFS] = { &gm->vbuf, &gm->ibuf, &gm->wbuf, &gm->ebuf };
	uint32_t *cap[BUFS] = { &gm->cap_v, &gm->cap_i, &gm->cap_w, &gm->cap_e };
	if (b[k]->buf != VK_NULL_HANDLE && *cap[k] >= n)
		return 0;
	uint64_t c = *cap[k] ? *cap[k] : GFX_DRAW_MIN_ELEMS;
	while (c < n)
		c *= 2;
	gfx_draw_retire_buffer(d, b[k]);
	*cap[k] = 0;
	*fresh = true;
	int r = gfx_buffer_create(d->vk, c * elem[k], usage[k] | VK_BUFFER_USAGE_TRANSFER_DST_BIT, false, b[k]);
	if (r < 0)
		return r;
	*cap[k] = (uint32_t)c;
	return 0;
}

/* What gm needs copied this frame (gm->up_*; bytes of staging), its
 * buffers made to fit. */
static int plan_mesh(struct gfx_draw *d, struct gfx_gpu_mesh *gm, VkDeviceSize *bytes)
{
	const struct gfx_mesh *g = &gm->g;
	bool fresh = false;
	int r = ensure_buffer(d, gm, BUF_V, g->nv, &fresh);
	if (r == 0)
		r = ensure_buffer(d, gm, BUF_I, g->nindex, &fresh);
	if (fresh)
		gm->uploaded = false;
	if (r < 0)
		return r;
	gm->up_full = !gm->uploaded || g->full;
	if (gm->up_full) {
		*bytes += (VkDeviceSize)g->nv * sizeof(struct gfx_vertex) + (VkDeviceSize)g->nindex * sizeof(uint32_t);
	} else {
		for (uint32_t i = 0; i < g->ndirty_v; i++)
			*bytes += (VkDeviceSize)g->dirty_v[i].count * sizeof(struct gfx_vertex);
		for (uint32_t i = 0; i < g->ndirty_index; i++)
			*bytes += (VkDeviceSize)g->dirty_index[i].count * sizeof(uint32_t);
	}
	gm->up_wire = gm->wire_frame == d->frame && (gm->wire_stale || gm->wbuf.buf == VK_NULL_HANDLE);
	if (gm->up_wire) {
		r = ensure_buffer(d, gm, BUF_W, g->nwire, &fresh);
		if (r == 0)
			r = ensure_buffer(d, gm, BUF_E, g->nedge_index, &fresh);
		if (r < 0) {
			gm->wire_stale = true;
			return r;
		}
		*bytes += (VkDeviceSize)g->nwire * sizeof(float[3]) + (VkDeviceSize)g->nedge_index * sizeof(uint32_t);
	}
	return 0;
}

struct upload {
	struct gfx_draw *d;
	VkCommandBuffer cmd;
	VkBuffer staging;
	uint8_t *map;
	VkDeviceSize used;
	uint32_t nreg;
};

/* Adds a region copying src's elements [first, first + n) of `size` bytes
 * through staging. */
static void add_range(struct upload *u, const void *src, uint32_t first, uint32_t n, size_t size)
{
	if (n == 0)
		return;
	VkDeviceSize bytes = (VkDeviceSize)n * size;
	memcpy(u->map + u->used, (const uint8_t *)src + (size_t)first * size, bytes);
	u->d->regions[u->nreg++] = (VkBufferCopy){ .srcOffset = u->used, .dstOffset = (VkDeviceSize)first * size,
						  .size = bytes };
	u->used += bytes;
}

static void flush_ranges(struct upload *u, VkBuffer dst)
{
	if (u->nreg)
		vkCmdCopyBuffer(u->cmd, u->staging, dst, u->nreg, u->d->regions);
	u->nreg = 0;
}

/* Copies src's n elements of `size` bytes into dst: all of them when full,
 * else only the dirty ranges. */
static void upload_array(struct upload *u, VkBuffer dst, const void *src, uint32_t n, size_t size, bool full,
			 const struct gfx_range *dirty, uint32_t ndirty)
{
	if (full) {
		add_range(u, src, 0, n, size);
	} else {
		for (uint32_t i = 0; i < ndirty; i++)
			add_range(u, src, dirty[i].first, dirty[i].count, size);
	}
	flush_ranges(u, dst);
}

static void record_mesh(struct upload *u, struct gfx_gpu_mesh *gm)
{
	struct gfx_draw *d = u->d;
	const struct gfx_mesh *g = &gm->g;
	upload_array(u, gm->vbuf.buf, g->v, g->nv, sizeof *g->v, gm->up_full, g->dirty_v, g->ndirty_v);
	upload_array(u, gm->ibuf.buf, g->index, g->nindex, sizeof *g->index, gm->up_full, g->dirty_index,
		     g->ndirty_index);
	if (gm->up_wire) {
		upload_array(u, gm->wbuf.buf, g->wire_pos, g->nwire, sizeof *g->wire_pos, true, NULL, 0);
		upload_array(u, gm->ebuf.buf, g->edge_index, g->nedge_index, sizeof *g->edge_index, true, NULL, 0);
		gm->wire_stale = false;
	}
	if (gm->up_full)
		d->stats.uploads_full++;
	else if (g->ndirty_v || g->ndirty_index)
		d->stats.uploads_incremental++;
	gm->uploaded = true;
}

static void barrier(VkCommandBuffer cmd, VkPipelineStageFlags2 src, VkAccessFlags2 src_access,
		    VkPipelineStageFlags2 dst, VkAccessFlags2 dst_access)
{
	VkMemoryBarrier2 mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER_2, .srcStageMask = src,
				.srcAccessMask = src_access, .dstStageMask = dst, .dstAccessMask = dst_access };
	VkDependencyInfo di = { .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO, .memoryBarrierCount = 1,
				.pMemoryBarriers = &mb };
	vkCmdPipelineBarrier2(cmd, &di);
}

static bool needs_upload(const struct gfx_draw *d, const struct gfx_gpu_mesh *gm)
{
	const struct gfx_mesh *g = &gm->g;
	if (!gm->uploaded || g->full || g->ndirty_v || g->ndirty_index)
		return true;
	return gm->wire_frame == d->frame && (gm->wire_stale || gm->wbuf.buf == VK_NULL_HANDLE);
}

int gfx_draw_meshes_prepare(struct gfx_draw *d, VkCommandBuffer cmd, const struct gfx_list *l)
{
	/* Pass 1: every instance's mesh brought up to date on the CPU. */
	for (uint32_t i = 0; i < l->ninst; i++) {
		const struct gfx_inst *in = &l->inst[i];
		d->inst_mesh[i] = NULL;
		if (!in->mesh)
			continue;
		struct gfx_gpu_mesh *gm = mesh_find(d, in->mesh_key, in->smooth);
		if (!gm) {
			int r = mesh_add(d, in->mesh_key, in->smooth, in->mesh->id, &gm);
			if (r < 0)
				return r;
		}
		gm->used_frame = d->frame;
		d->inst_mesh[i] = gm;
		if (in->wire)
			gm->wire_frame = d->frame;
		if (gm->prepared_frame == d->frame)
			continue; /* another instance of the same mesh */
		gm->prepared_frame = d->frame;
		gm->pending = false;
		if (gm->g.id != in->mesh->id) {
			gfx_mesh_fini(&gm->g);
			gfx_mesh_init(&gm->g, in->mesh->id);
			gm->uploaded = false;
		}
		int r = gfx_mesh_update(&gm->g, in->mesh, in->smooth);
		if (r < 0)
			return r;
		if (gm->g.wire_dirty || gm->g.full)
			gm->wire_stale = true;
	}
	/* Pass 2: buffers sized, staging bytes counted. */
	VkDeviceSize bytes = 0;
	uint32_t nup = 0;
	for (uint32_t i = 0; i < d->nmesh; i++) {
		struct gfx_gpu_mesh *gm = d->mesh[i];
		if (gm->prepared_frame != d->frame)
			continue;
		if (!needs_upload(d, gm)) {
			gfx_mesh_take_dirty(&gm->g);
			continue;
		}
		int r = plan_mesh(d, gm, &bytes);
		if (r < 0)
			return r;
		gm->pending = true;
		nup++;
	}
	if (nup == 0)
		return 0;
	struct gfx_slot *s = &d->slot[d->cur];
	int r = gfx_draw_slot_buffer(d, &s->staging, bytes ? bytes : 1, GFX_DRAW_STAGING_MAX,
				     VK_BUFFER_USAGE_TRANSFER_SRC_BIT, "mesh uploads");
	if (r == 0)
		r = gfx_draw_grow((void **)&d->regions, &d->cap_regions, GFX_MESH_DIRTY_MAX + 1, sizeof *d->regions);
	if (r < 0)
		return r;
	/* Pass 3: the copies. Earlier frames may still read these buffers
	 * (write after read), then the draws wait for the copies. */
	barrier(cmd, VK_PIPELINE_STAGE_2_VERTEX_ATTRIBUTE_INPUT_BIT | VK_PIPELINE_STAGE_2_INDEX_INPUT_BIT, 0,
		VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT);
	struct upload u = { .d = d, .cmd = cmd, .staging = s->staging.buf, .map = s->staging.map };
	for (uint32_t i = 0; i < d->nmesh; i++) {
		struct gfx_gpu_mesh *gm = d->mesh[i];
		if (gm->prepared_frame != d->frame || !gm->pending)
			continue;
		record_mesh(&u, gm);
		gfx_mesh_take_dirty(&gm->g);
		gm->pending = false;
	}
	d->stats.bytes_uploaded += u.used;
	barrier(cmd, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT,
		VK_PIPELINE_STAGE_2_VERTEX_ATTRIBUTE_INPUT_BIT | VK_PIPELINE_STAGE_2_INDEX_INPUT_BIT,
		VK_ACCESS_2_VERTEX_ATTRIBUTE_READ_BIT | VK_ACCESS_2_INDEX_READ_BIT);
	return 0;
}
