/* What the renderer's benchmarks (tests/bench/gfx/bench_gfx_*.c) share:
 * ending the run on a failed step, counts from the environment, the device
 * tag figures are named by, GPU timestamps (vkCmdWriteTimestamp), the
 * thread's CPU clock and the rippled wall of quads they draw. */
#pragma once
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vulkan/vulkan.h>

#include "gfx/gfx_draw.h"
#include "gfx/gfx_vk.h"
#include "th_bench.h"
#include "th_mesh.h"
#include "th_meshop.h"

#define GB_VENDOR_NVIDIA 0x10deu
#define GB_TIMESTAMPS 2u

static const char *gb_prog = "bench_gfx";

/* Prints "PROG: WHAT failed (R: strerror)" and exits 1. */
static inline void gb_die(const char *what, int r)
{
	fprintf(stderr, "%s: %s failed (%d: %s)\n", gb_prog, what, r, strerror(r < 0 ? -r : r));
	exit(1);
}

static inline void gb_vk_ok(VkResult r, const char *what)
{
	if (r != VK_SUCCESS) {
		fprintf(stderr, "%s: %s: %s\n", gb_prog, what, gfx_vk_result_name(r));
		exit(1);
	}
}

/* $name as a count in 1..max, dflt when unset; exits 2 on anything else. */
static inline unsigned gb_env_count(const char *name, unsigned dflt, unsigned max)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return dflt;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > max) {
		fprintf(stderr, "%s: %s=%s is not a count in 1..%u\n", gb_prog, name, s, max);
		exit(2);
	}
	return (unsigned)v;
}

static inline bool gb_env_is_1(const char *name)
{
	const char *s = getenv(name);
	return s && !strcmp(s, "1");
}

static inline bool gb_cpu_device(const struct gfx_vk *vk)
{
	return vk->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

/* What figures are named by: "nvidia", "lavapipe" (any CPU device) or "gpu". */
static inline const char *gb_device_tag(const struct gfx_vk *vk)
{
	return vk->props.vendorID == GB_VENDOR_NVIDIA ? "nvidia" : gb_cpu_device(vk) ? "lavapipe" : "gpu";
}

/* The context every benchmark draws with: validation off (figures) unless
 * THETA_BENCH_VALIDATION=1 (for checking the benchmark itself); the device
 * by type, or $THETA_GFX_DEVICE. THETA_BENCH_REQUIRE_GPU=1 refuses a CPU
 * device (the GPU machine's script sets it). */
static inline struct gfx_vk *gb_context(void)
{
	struct gfx_vk_config vc = { .validation = gb_env_is_1("THETA_BENCH_VALIDATION") };
	struct gfx_vk *vk;
	int r = gfx_vk_create(&vc, &vk);
	if (r)
		gb_die("gfx_vk_create", r);
	if (gb_cpu_device(vk) && gb_env_is_1("THETA_BENCH_REQUIRE_GPU")) {
		fprintf(stderr, "%s: the device is %s, a CPU, and THETA_BENCH_REQUIRE_GPU=1\n", gb_prog,
			vk->props.deviceName);
		exit(1);
	}
	return vk;
}

/* Ends the context; with validation on, any message fails the run. */
static inline void gb_context_end(struct gfx_vk **vk)
{
	bool val = (*vk)->validation;
	uint64_t msgs = (*vk)->validation_messages;
	gfx_vk_destroy(vk);
	if (val && msgs) {
		fprintf(stderr, "%s: %llu validation message(s)\n", gb_prog, (unsigned long long)msgs);
		exit(1);
	}
}

/* ---- timestamps ------------------------------------------------------------ */

struct gb_timer {
	VkQueryPool pool;
	double period_ns;
	uint64_t mask;
};

static inline void gb_timer_init(struct gfx_vk *vk, struct gb_timer *t)
{
	uint32_t nq = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(vk->phys, &nq, NULL);
	VkQueueFamilyProperties *q = calloc(nq ? nq : 1, sizeof(*q));
	if (!q)
		gb_die("calloc", -ENOMEM);
	vkGetPhysicalDeviceQueueFamilyProperties(vk->phys, &nq, q);
	uint32_t bits = vk->queue_family < nq ? q[vk->queue_family].timestampValidBits : 0;
	free(q);
	if (!bits || vk->props.limits.timestampPeriod <= 0) {
		fprintf(stderr, "%s: the device's graphics queue has no timestamps\n", gb_prog);
		exit(1);
	}
	t->mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
	t->period_ns = vk->props.limits.timestampPeriod;
	VkQueryPoolCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
				     .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = GB_TIMESTAMPS };
	gb_vk_ok(vkCreateQueryPool(vk->device, &ci, NULL, &t->pool), "vkCreateQueryPool");
}

static inline void gb_timer_fini(struct gfx_vk *vk, struct gb_timer *t)
{
	vkDestroyQueryPool(vk->device, t->pool, NULL);
	t->pool = VK_NULL_HANDLE;
}

/* First in cmd (outside any rendering): resets the queries and stamps the start. */
static inline void gb_timer_begin(const struct gb_timer *t, VkCommandBuffer cmd)
{
	vkCmdResetQueryPool(cmd, t->pool, 0, GB_TIMESTAMPS);
	vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, t->pool, 0);
}

/* Stamps the end once everything recorded before it has finished. */
static inline void gb_timer_end(const struct gb_timer *t, VkCommandBuffer cmd)
{
	vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, t->pool, 1);
}

/* After the command buffer's fence: the GPU time between the stamps (ns). */
static inline uint64_t gb_timer_read(struct gfx_vk *vk, const struct gb_timer *t)
{
	uint64_t ts[GB_TIMESTAMPS];
	gb_vk_ok(vkGetQueryPoolResults(vk->device, t->pool, 0, GB_TIMESTAMPS, sizeof(ts), ts, sizeof(ts[0]),
				       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
		 "vkGetQueryPoolResults");
	return (uint64_t)((double)((ts[1] - ts[0]) & t->mask) * t->period_ns);
}

/* The renderer every benchmark measures: sRGB colour targets, encoded by
 * the format (what the window and headless backends draw into). */
static inline struct gfx_draw *gb_draw_create(struct gfx_vk *vk)
{
	struct gfx_draw_config dc = { .color_format = VK_FORMAT_R8G8B8A8_SRGB, .srgb_target = true };
	struct gfx_draw *d;
	int r = gfx_draw_create(vk, &dc, &d);
	if (r)
		gb_die("gfx_draw_create", r);
	return d;
}

/* ---- clocks ---------------------------------------------------------------- */

/* This thread's CPU time (ns): what the frame's own work cost, whatever
 * else the two shared cores ran meanwhile. */
static inline uint64_t gb_thread_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the wall ---------------------------------------------------------------- */

struct gb_wall {
	unsigned n;       /* quads per side */
	float half;       /* metres: x and y span centre +- half */
	float center[3];  /* z is the plane's */
	float ripple;     /* relief along z (metres) */
	float waves;      /* ripple periods across */
};

/* m (uninitialised) becomes an n x n grid of quads facing +z, shared
 * vertices, counter-clockwise from the front, applied as entry 1 of a
 * fixed author. Face slot y * n + x is the quad at column x, row y. */
static inline void gb_wall_build(struct th_mesh *m, uint64_t id, const struct gb_wall *w)
{
	static const uint8_t author[32] = { 0x67 };
	unsigned n = w->n;
	struct th_patch p;
	th_patch_init(&p);
	uint32_t *ref = malloc((size_t)(n + 1) * (n + 1) * sizeof(*ref));
	int r = th_mesh_init(m, id);
	if (!ref || r)
		gb_die("allocating the wall", r ? r : -ENOMEM);
	r = th_patch_reserve(&p, (n + 1) * (n + 1) + n * n * 5);
	if (r)
		gb_die("th_patch_reserve", r);
	const float tau = 6.2831853f;
	for (unsigned y = 0; y <= n; y++)
		for (unsigned x = 0; x <= n; x++) {
			float u = (float)x / (float)n, v = (float)y / (float)n;
			float q[3] = { w->center[0] + (2 * u - 1) * w->half, w->center[1] + (2 * v - 1) * w->half,
				       w->center[2] + w->ripple * sinf(u * w->waves * tau) * cosf(v * w->waves * tau) };
			r = th_patch_vertex_add(&p, q);
			if (r < 0)
				gb_die("th_patch_vertex_add", r);
			ref[y * (n + 1) + x] = (uint32_t)r;
		}
	for (unsigned y = 0; y < n; y++)
		for (unsigned x = 0; x < n; x++) {
			unsigned a = y * (n + 1) + x;
			struct th_pref c[4] = { th_pref_local(ref[a]), th_pref_local(ref[a + 1]),
						th_pref_local(ref[a + n + 2]), th_pref_local(ref[a + n + 1]) };
			r = th_patch_face_add(&p, 0, c, 4);
			if (r < 0)
				gb_die("th_patch_face_add", r);
		}
	const char *why = NULL;
	r = th_patch_apply(m, &p, author, 1, NULL, &why);
	if (r) {
		fprintf(stderr, "%s: building the wall: %s\n", gb_prog, why ? why : "");
		gb_die("th_patch_apply", r);
	}
	free(ref);
	th_patch_fini(&p);
}
