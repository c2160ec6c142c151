/* Uploading a mesh edit to the GPU through the renderer (make bench-gfx;
 * issue 12's "Figures"): a 1 k-face edit of a 100 k-face mesh, copied
 * incrementally, beside a full upload of the same mesh, measured in the
 * same run.
 *
 * The mesh: a GRID x GRID wall of quads (99 856 faces, flat shading), one
 * instance in the list, drawn into one 640 x 360 view each frame. The
 * edit: the (BLOCK - 1)^2 inner vertices of a BLOCK x BLOCK block of faces
 * at the centre move along z (up, then back down on the next edit), so
 * exactly BLOCK^2 = 1 024 faces change (th_patch_apply on the mesh, as the
 * scene mirror applies an entry). The full upload: the same mesh under a
 * key the cache has not seen (what a rebuild uploads: every vertex and
 * index). Each measured frame:
 *   CPU  gfx_draw_prepare: gfx_mesh's update, the staging copy and the
 *        copy commands (wall clock, and this thread's CPU time);
 *   GPU  vkCmdWriteTimestamp at TOP_OF_PIPE before prepare's commands and
 *        at BOTTOM_OF_PIPE after them: the copies and their barrier;
 *   bytes what gfx_draw_stats counted as uploaded.
 * Frames are waited for one by one (no overlap), validation off.
 *
 * Figures (DEV as gfx_bench.h: nvidia, lavapipe, gpu):
 *   gfx.upload.DEV.edit_1k_cpu_ms, .edit_1k_cpu_thread_ms, .edit_1k_gpu_ms, .edit_1k_kib
 *   gfx.upload.DEV.full_100k_cpu_ms, .full_100k_cpu_thread_ms, .full_100k_gpu_ms, .full_100k_kib
 *   gfx.upload.DEV.edit_vs_full_cpu, .edit_vs_full_gpu (fractions of the full upload) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx_draw.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "gfx_bench.h"
#include "th_bench.h"
#include "th_mesh.h"
#include "th_meshop.h"
#include "th_time.h"

#define GRID 316u  /* 99 856 faces */
#define BLOCK 32u  /* 1 024 faces edited */
#define EDIT_DZ 0.05f
#define EDITS 20u  /* measured incremental uploads */
#define FULLS 5u   /* measured full uploads (a wall each) */
#define WARMUP 3u  /* frames before any measurement */
#define VIEW_W 640u
#define VIEW_H 360u
#define MESH_ID 0x75706c64u
#define LIST_MATERIAL 1u

struct bench {
	struct gfx_vk *vk;
	struct gfx_draw *d;
	struct gfx_image color;
	struct gfx_list list;
	struct gfx_inst inst;
	struct gfx_view view;
	struct gb_timer timer;
};

struct sample {
	uint64_t cpu_ns, thread_ns, gpu_ns, bytes;
};

/* One frame: prepare (timed), the view, submit, wait. */
static struct sample frame(struct bench *b)
{
	struct gfx_draw_stats before, after;
	gfx_draw_stats(b->d, &before);
	VkCommandBuffer cmd;
	int r = gfx_draw_begin(b->d, &cmd);
	if (r)
		gb_die("gfx_draw_begin", r);
	gb_timer_begin(&b->timer, cmd);
	struct sample s;
	uint64_t t0 = th_now_ns(), c0 = gb_thread_ns();
	r = gfx_draw_prepare(b->d, cmd, &b->list);
	s.thread_ns = gb_thread_ns() - c0;
	s.cpu_ns = th_now_ns() - t0;
	if (r)
		gb_die("gfx_draw_prepare", r);
	gb_timer_end(&b->timer, cmd);
	struct gfx_target t = { .image = b->color.image, .view = b->color.view, .extent = { VIEW_W, VIEW_H },
				.format = VK_FORMAT_R8G8B8A8_SRGB, .initial_layout = VK_IMAGE_LAYOUT_UNDEFINED,
				.final_layout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
	r = gfx_draw_record(b->d, cmd, &b->list, &t, &b->view, 0);
	if (r)
		gb_die("gfx_draw_record", r);
	r = gfx_draw_submit(b->d, cmd, VK_NULL_HANDLE, VK_PIPELINE_STAGE_2_NONE, VK_NULL_HANDLE);
	if (r)
		gb_die("gfx_draw_submit", r);
	VkFence f = gfx_draw_last_fence(b->d);
	gb_vk_ok(vkWaitForFences(b->vk->device, 1, &f, VK_TRUE, UINT64_MAX), "vkWaitForFences");
	s.gpu_ns = gb_timer_read(b->vk, &b->timer);
	gfx_draw_stats(b->d, &after);
	s.bytes = after.bytes_uploaded - before.bytes_uploaded;
	return s;
}

/* Moves the inner vertices of the centre block by dz: BLOCK^2 faces change. */
static void edit(struct th_mesh *m, float dz, uint64_t seq)
{
	static const uint8_t author[32] = { 0x65 };
	struct th_patch p;
	th_patch_init(&p);
	unsigned x0 = (GRID - BLOCK) / 2, y0 = x0;
	for (unsigned y = y0 + 1; y < y0 + BLOCK; y++)
		for (unsigned x = x0 + 1; x < x0 + BLOCK; x++) {
			const struct th_mesh_vert *v = &m->verts[y * (GRID + 1) + x];
			float q[3] = { v->pos[0], v->pos[1], v->pos[2] + dz };
			int r = th_patch_vertex_move(&p, v->id, q);
			if (r < 0)
				gb_die("th_patch_vertex_move", r);
		}
	const char *why = NULL;
	int r = th_patch_apply(m, &p, author, seq, NULL, &why);
	if (r) {
		fprintf(stderr, "bench_gfx_upload: the edit: %s\n", why ? why : "");
		gb_die("th_patch_apply", r);
	}
	th_patch_fini(&p);
}

static void show(struct bench *b, const struct th_mesh *m)
{
	b->inst.entity = m->id;
	b->inst.mesh_key = m->id;
	b->inst.mesh = m;
}

struct figures {
	double cpu_ms, thread_ms, gpu_ms, kib;
};

static struct figures summarize(struct sample *s, unsigned n)
{
	uint64_t *v = calloc(n, sizeof(*v));
	if (!v)
		gb_die("calloc", -ENOMEM);
	struct figures f;
	for (unsigned i = 0; i < n; i++)
		v[i] = s[i].cpu_ns;
	f.cpu_ms = th_bench_median_ms(v, n);
	for (unsigned i = 0; i < n; i++)
		v[i] = s[i].thread_ns;
	f.thread_ms = th_bench_median_ms(v, n);
	for (unsigned i = 0; i < n; i++)
		v[i] = s[i].gpu_ns;
	f.gpu_ms = th_bench_median_ms(v, n);
	for (unsigned i = 0; i < n; i++)
		v[i] = s[i].bytes;
	qsort(v, n, sizeof(*v), th_bench_cmp_u64);
	f.kib = (double)v[n / 2] / 1024.0;
	free(v);
	return f;
}

static void print(const char *dev, const char *what, const struct figures *f)
{
	char name[96];
	snprintf(name, sizeof(name), "gfx.upload.%s.%s_cpu_ms", dev, what);
	th_bench_figure(name, f->cpu_ms, "ms");
	snprintf(name, sizeof(name), "gfx.upload.%s.%s_cpu_thread_ms", dev, what);
	th_bench_figure(name, f->thread_ms, "ms");
	snprintf(name, sizeof(name), "gfx.upload.%s.%s_gpu_ms", dev, what);
	th_bench_figure(name, f->gpu_ms, "ms");
	snprintf(name, sizeof(name), "gfx.upload.%s.%s_kib", dev, what);
	th_bench_figure(name, f->kib, "KiB");
}

int main(void)
{
	gb_prog = "bench_gfx_upload";
	struct bench b = { 0 };
	b.vk = gb_context();
	const char *dev = gb_device_tag(b.vk);
	b.d = gb_draw_create(b.vk);
	int r = gfx_image_create(b.vk, (VkExtent2D){ VIEW_W, VIEW_H }, VK_FORMAT_R8G8B8A8_SRGB,
			     VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, VK_IMAGE_ASPECT_COLOR_BIT, &b.color);
	if (r)
		gb_die("gfx_image_create", r);
	gb_timer_init(b.vk, &b.timer);
	const float eye[3] = { 0, 0, 2.5f }, target[3] = { 0, 0, 0 };
	gfx_mat4_look_at(b.view.view, eye, target);
	gfx_mat4_perspective(b.view.proj, 1.0f, (float)VIEW_W / VIEW_H, 0.05f, 100.0f);
	memcpy(b.view.eye, eye, sizeof(eye));
	b.list.inst = &b.inst;
	b.list.ninst = b.list.cap_inst = 1;
	const float grey[4] = { 0.8f, 0.8f, 0.8f, 1.0f }, clear[4] = { 0.02f, 0.02f, 0.03f, 1.0f };
	memcpy(b.list.material[LIST_MATERIAL], grey, sizeof(grey));
	b.list.roughness[LIST_MATERIAL] = 1.0f;
	memcpy(b.list.clear, clear, sizeof(clear));
	b.list.triangles = 2ull * GRID * GRID;
	b.inst.material = LIST_MATERIAL;
	gfx_mat4_identity(b.inst.model);

	/* The edited mesh, and one wall per full upload (each a key the
	 * cache has not seen). All live until the renderer is gone. */
	struct gb_wall wall = { .n = GRID, .half = 1.0f, .ripple = 0.02f, .waves = 7.0f };
	struct th_mesh m, full[FULLS];
	gb_wall_build(&m, MESH_ID, &wall);
	for (unsigned i = 0; i < FULLS; i++)
		gb_wall_build(&full[i], MESH_ID + 1 + i, &wall);
	printf("device: %s; a %u x %u wall (%u faces), edits of %u faces\n", b.vk->props.deviceName, GRID, GRID,
	       GRID * GRID, BLOCK * BLOCK);

	show(&b, &m);
	for (unsigned i = 0; i < WARMUP; i++)
		frame(&b);
	struct sample es[EDITS], fs[FULLS];
	for (unsigned i = 0; i < EDITS; i++) {
		edit(&m, i % 2 ? -EDIT_DZ : EDIT_DZ, 2 + i);
		es[i] = frame(&b);
		if (!es[i].bytes) {
			fprintf(stderr, "bench_gfx_upload: edit %u uploaded nothing\n", i);
			return 1;
		}
	}
	for (unsigned i = 0; i < FULLS; i++) {
		show(&b, &full[i]);
		fs[i] = frame(&b);
		/* At least the triangles' indices: a full upload that copied
		 * less would look fast. */
		if (fs[i].bytes < 2ull * 3 * GRID * GRID * sizeof(uint32_t)) {
			fprintf(stderr, "bench_gfx_upload: full upload %u copied %llu bytes, less than the mesh's indices\n",
				i, (unsigned long long)fs[i].bytes);
			return 1;
		}
	}
	struct figures fe = summarize(es, EDITS), ff = summarize(fs, FULLS);
	print(dev, "edit_1k", &fe);
	print(dev, "full_100k", &ff);
	char name[96];
	snprintf(name, sizeof(name), "gfx.upload.%s.edit_vs_full_cpu", dev);
	th_bench_figure(name, fe.cpu_ms / ff.cpu_ms, "x");
	snprintf(name, sizeof(name), "gfx.upload.%s.edit_vs_full_gpu", dev);
	th_bench_figure(name, fe.gpu_ms / ff.gpu_ms, "x");
	printf("\nupload on %s (median; edit of %u faces over %u, full %u):\n", b.vk->props.deviceName, BLOCK * BLOCK,
	       EDITS, FULLS);
	printf("  edit 1k    CPU %7.3f ms (thread %7.3f)  GPU %7.3f ms  %9.1f KiB\n", fe.cpu_ms, fe.thread_ms, fe.gpu_ms,
	       fe.kib);
	printf("  full 100k  CPU %7.3f ms (thread %7.3f)  GPU %7.3f ms  %9.1f KiB\n", ff.cpu_ms, ff.thread_ms, ff.gpu_ms,
	       ff.kib);

	gfx_draw_destroy(&b.d);
	gb_timer_fini(b.vk, &b.timer);
	gfx_image_destroy(b.vk, &b.color);
	th_mesh_fini(&m);
	for (unsigned i = 0; i < FULLS; i++)
		th_mesh_fini(&full[i]);
	gb_context_end(&b.vk);
	return 0;
}
