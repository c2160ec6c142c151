/* ECS benchmarks (make bench-ecs). Prints JSON lines:
 *   ecs.create_1m_ns            spawn 1M entities with Transform + Velocity
 *   ecs.update_1m_ns            one system: position += linear * dt, 1M entities
 *   ecs.baseline.soa_loop_1m_ns the same arithmetic, hand-written loop over a
 *                               struct of arrays (px, py, pz, vx, vy, vz)
 *   ecs.update_vs_soa_ratio     update / baseline (goal <= 1.3)
 *   ecs.destroy_1m_ns           despawn the 1M entities
 *   ecs.mixed_7_systems_1m_ns   one frame of 7 systems over 1M mixed entities, 1 thread
 *   ecs.mixed_7_systems_1m_2t_ns the same on 2 threads
 *   ecs.parallel_speedup_2_threads  1-thread / 2-thread frame time
 *   ecs.alt.aos_update_1m_ns    the update over arrays of whole component structs
 *   ecs.alt.sparse_set_update_1m_ns the update through two sparse sets
 * Each figure is the median of several runs. The alt.* figures are the
 * storage comparison docs/ecs.md cites. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/query.h"
#include "sim/sched.h"
#include "th_bench.h"
#include "th_time.h"

#define N 1000000u
#define UPDATE_RUNS 21
#define STRUCT_RUNS 3
#define MIXED_RUNS 11
static const float DT = 1.0f / 90.0f;

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof *v, th_bench_cmp_u64);
	return v[n / 2];
}

static void die(const char *what, int r)
{
	fprintf(stderr, "bench_ecs: %s failed (%d)\n", what, r);
	exit(1);
}

/* ---- the ECS update ------------------------------------------------------ */

struct move_ctx {
	struct sim_query *q;
};

static void movement(struct sim_ctx *ctx)
{
	struct move_ctx *m = ctx->user_data;
	struct sim_iter it;
	float dt = ctx->dt;
	sim_iter_init(&it, ctx->world, m->q);
	while (sim_iter_next(&it)) {
		float (*restrict p)[3] = sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		const float (*restrict v)[3] = sim_iter_field(&it, TH_COMP_VELOCITY, TH_F(velocity, linear));
		for (uint32_t i = 0; i < it.count; i++) {
			p[i][0] += v[i][0] * dt;
			p[i][1] += v[i][1] * dt;
			p[i][2] += v[i][2] * dt;
		}
	}
}

static double checksum_positions(struct sim_world *w, struct sim_query *q)
{
	double s = 0;
	struct sim_iter it;
	sim_iter_init(&it, w, q);
	while (sim_iter_next(&it)) {
		const float (*p)[3] = sim_iter_field(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		for (uint32_t i = 0; i < it.count; i += 4096)
			s += p[i][0] + p[i][1] + p[i][2];
	}
	return s;
}

static void bench_core(void)
{
	uint64_t create[STRUCT_RUNS], destroy[STRUCT_RUNS], update[UPDATE_RUNS], base[UPDATE_RUNS];
	sim_entity *ents = malloc(N * sizeof *ents);
	if (!ents)
		die("malloc", -1);
	double sink = 0;
	for (unsigned run = 0; run < STRUCT_RUNS; run++) {
		struct sim_world *w;
		int r = sim_world_create(NULL, &w);
		if (r < 0)
			die("sim_world_create", r);
		unsigned comps[2] = { TH_COMP_TRANSFORM, TH_COMP_VELOCITY };
		uint64_t t0 = th_now_ns();
		for (uint32_t i = 0; i < N; i++) {
			struct th_c_transform t = { .position = { (float)i, 0, 0 }, .rotation = { 0, 0, 0, 1 },
						    .scale = { 1, 1, 1 } };
			struct th_c_velocity v = { .linear = { 1, 0.5f, -1 } };
			const void *vals[2] = { &t, &v };
			r = sim_spawn_with(w, 2, comps, vals, &ents[i]);
			if (r < 0)
				die("sim_spawn_with", r);
		}
		create[run] = th_now_ns() - t0;

		if (run == 0) {
			/* The update through the scheduler, one thread. */
			struct sim_sched *s;
			struct move_ctx m;
			r = sim_sched_create(w, &(struct sim_sched_config){ .threads = 1 }, &s);
			if (r < 0)
				die("sim_sched_create", r);
			r = sim_query_create(w, &(struct sim_query_desc){
				.with = SIM_BIT(TH_COMP_TRANSFORM) | SIM_BIT(TH_COMP_VELOCITY) }, &m.q);
			if (r < 0)
				die("sim_query_create", r);
			sim_sched_add(s, &(struct sim_system_desc){ .name = "movement", .stage = SIM_STAGE_SIMULATION,
				.reads = SIM_BIT(TH_COMP_VELOCITY), .writes = SIM_BIT(TH_COMP_TRANSFORM),
				.fn = movement, .user_data = &m }, NULL);

			/* Baseline: struct of arrays, same arithmetic and values. */
			struct { float *px, *py, *pz, *vx, *vy, *vz; } soa;
			float **arrs[6] = { &soa.px, &soa.py, &soa.pz, &soa.vx, &soa.vy, &soa.vz };
			for (int k = 0; k < 6; k++)
				if (!(*arrs[k] = malloc(N * sizeof(float))))
					die("malloc", -1);
			for (uint32_t i = 0; i < N; i++) {
				soa.px[i] = (float)i, soa.py[i] = 0, soa.pz[i] = 0;
				soa.vx[i] = 1, soa.vy[i] = 0.5f, soa.vz[i] = -1;
			}
			struct sim_frame_info fi = { .dt = DT };
			/* Interleave the two so both see the same machine state. */
			for (unsigned k = 0; k < UPDATE_RUNS + 2; k++) {
				uint64_t a = th_now_ns();
				r = sim_sched_run_stage(s, SIM_STAGE_SIMULATION, &fi);
				uint64_t b = th_now_ns();
				if (r < 0)
					die("run_stage", r);
				sim_world_advance(w);
				float *restrict px = soa.px, *restrict py = soa.py, *restrict pz = soa.pz;
				const float *restrict vx = soa.vx, *restrict vy = soa.vy, *restrict vz = soa.vz;
				float dt = fi.dt;
				uint64_t c = th_now_ns();
				for (uint32_t i = 0; i < N; i++) {
					px[i] += vx[i] * dt;
					py[i] += vy[i] * dt;
					pz[i] += vz[i] * dt;
				}
				uint64_t d = th_now_ns();
				if (k >= 2) { /* first two warm up */
					update[k - 2] = b - a;
					base[k - 2] = d - c;
				}
				sink += px[k] + py[N - 1 - k];
			}
			sink += checksum_positions(w, m.q);
			for (int k = 0; k < 6; k++)
				free(*arrs[k]);
			sim_sched_destroy(&s);
		}

		t0 = th_now_ns();
		for (uint32_t i = 0; i < N; i++) {
			r = sim_despawn(w, ents[i]);
			if (r < 0)
				die("sim_despawn", r);
		}
		destroy[run] = th_now_ns() - t0;
		sim_world_destroy(&w);
	}
	free(ents);
	double u = (double)median(update, UPDATE_RUNS), b = (double)median(base, UPDATE_RUNS);
	th_bench_figure("ecs.create_1m_ns", (double)median(create, STRUCT_RUNS), "ns");
	th_bench_figure("ecs.update_1m_ns", u, "ns");
	th_bench_figure("ecs.baseline.soa_loop_1m_ns", b, "ns");
	th_bench_figure("ecs.update_vs_soa_ratio", u / b, "ratio");
	th_bench_figure("ecs.destroy_1m_ns", (double)median(destroy, STRUCT_RUNS), "ns");
	if (sink == 12345.678)
		puts("unlikely");
}

/* ---- storage alternatives (for docs/ecs.md) ------------------------------ */

static void bench_alternatives(void)
{
	uint64_t aos[UPDATE_RUNS], sparse[UPDATE_RUNS];
	struct th_c_transform *t = malloc(N * sizeof *t);
	struct th_c_velocity *v = malloc(N * sizeof *v);
	/* Sparse sets (EnTT style): sparse[entity] -> dense index, dense data. */
	uint32_t *t_sparse = malloc(N * sizeof(uint32_t)), *v_dense_ent = malloc(N * sizeof(uint32_t));
	struct th_c_transform *st = malloc(N * sizeof *st);
	struct th_c_velocity *sv = malloc(N * sizeof *sv);
	if (!t || !v || !t_sparse || !v_dense_ent || !st || !sv)
		die("malloc", -1);
	for (uint32_t i = 0; i < N; i++) {
		t[i] = st[i] = (struct th_c_transform){ .position = { (float)i, 0, 0 }, .rotation = { 0, 0, 0, 1 },
							.scale = { 1, 1, 1 } };
		v[i] = sv[i] = (struct th_c_velocity){ .linear = { 1, 0.5f, -1 } };
		t_sparse[i] = i;
		v_dense_ent[i] = i;
	}
	double sink = 0;
	for (unsigned k = 0; k < UPDATE_RUNS + 2; k++) {
		uint64_t a = th_now_ns();
		for (uint32_t i = 0; i < N; i++)
			for (int c = 0; c < 3; c++)
				t[i].position[c] += v[i].linear[c] * DT;
		uint64_t b = th_now_ns();
		for (uint32_t i = 0; i < N; i++) {
			struct th_c_transform *tt = &st[t_sparse[v_dense_ent[i]]];
			for (int c = 0; c < 3; c++)
				tt->position[c] += sv[i].linear[c] * DT;
		}
		uint64_t c = th_now_ns();
		if (k >= 2) {
			aos[k - 2] = b - a;
			sparse[k - 2] = c - b;
		}
		sink += t[k].position[0] + st[k].position[1];
	}
	th_bench_figure("ecs.alt.aos_update_1m_ns", (double)median(aos, UPDATE_RUNS), "ns");
	th_bench_figure("ecs.alt.sparse_set_update_1m_ns", (double)median(sparse, UPDATE_RUNS), "ns");
	free(t), free(v), free(t_sparse), free(v_dense_ent), free(st), free(sv);
	if (sink == 12345.678)
		puts("unlikely");
}

/* ---- mixed workload: 7 systems over 1M entities --------------------------- */

struct mixed {
	struct sim_query *move, *ctl, *sel, *pose, *extract, *highlight, *tool;
	double extract_sum, highlight_sum;
};

static void sys_move(struct sim_ctx *ctx)
{
	struct mixed *m = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, m->move);
	while (sim_iter_next(&it)) {
		float (*restrict p)[3] = sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		const float (*restrict v)[3] = sim_iter_field(&it, TH_COMP_VELOCITY, TH_F(velocity, linear));
		for (uint32_t i = 0; i < it.count; i++)
			for (int k = 0; k < 3; k++)
				p[i][k] += v[i][k] * ctx->dt;
	}
}

/* Controllers drive tools: trigger above half activates, thumbstick scales. */
static void sys_controller(struct sim_ctx *ctx)
{
	struct mixed *m = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, m->ctl);
	while (sim_iter_next(&it)) {
		const float *trig = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE, TH_F(controller_state, trigger));
		const float (*stick)[2] = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE, TH_F(controller_state, thumbstick));
		uint32_t *phase = sim_iter_field_mut(&it, TH_COMP_TOOL_STATE, TH_F(tool_state, phase));
		float (*params)[4] = sim_iter_field_mut(&it, TH_COMP_TOOL_STATE, TH_F(tool_state, params));
		for (uint32_t i = 0; i < it.count; i++) {
			phase[i] = trig[i] > 0.5f;
			params[i][0] += stick[i][1] * ctx->dt;
		}
	}
}

static void sys_selection(struct sim_ctx *ctx)
{
	struct mixed *m = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, m->sel);
	while (sim_iter_next(&it)) {
		uint32_t *el = sim_iter_field_mut(&it, TH_COMP_SELECTION, TH_F(selection, element));
		for (uint32_t i = 0; i < it.count; i++)
			el[i] = (el[i] + 1) & 0xffff;
	}
}

static void normalize4(float q[4])
{
	float n = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
	float inv = n > 0 ? 1.0f / sqrtf(n) : 0;
	for (int k = 0; k < 4; k++)
		q[k] *= inv;
}

static void sys_pose(struct sim_ctx *ctx)
{
	struct mixed *m = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, m->pose);
	while (sim_iter_next(&it)) {
		float (*h)[4] = sim_iter_field_mut(&it, TH_COMP_TRACKED_POSE, TH_F(tracked_pose, head_rotation));
		float (*l)[4] = sim_iter_field_mut(&it, TH_COMP_TRACKED_POSE, TH_F(tracked_pose, left_rotation));
		float (*r)[4] = sim_iter_field_mut(&it, TH_COMP_TRACKED_POSE, TH_F(tracked_pose, right_rotation));
		for (uint32_t i = 0; i < it.count; i++) {
			normalize4(h[i]);
			normalize4(l[i]);
			normalize4(r[i]);
		}
	}
}

/* Render extraction: model transform of each mesh instance applied to a point. */
static void sys_extract(struct sim_ctx *ctx)
{
	struct mixed *m = ctx->user_data;
	struct sim_iter it;
	double sum = 0;
	sim_iter_init(&it, ctx->world, m->extract);
	while (sim_iter_next(&it)) {
		const float (*p)[3] = sim_iter_field(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		const float (*q)[4] = sim_iter_field(&it, TH_COMP_TRANSFORM, TH_F(transform, rotation));
		const float (*s)[3] = sim_iter_field(&it, TH_COMP_TRANSFORM, TH_F(transform, scale));
		const uint32_t *mat = sim_iter_field(&it, TH_COMP_MESH_REF, TH_F(mesh_ref, material));
		for (uint32_t i = 0; i < it.count; i++) {
			float x = q[i][0], y = q[i][1], z = q[i][2], w = q[i][3];
			float r0 = 1 - 2 * (y * y + z * z), r1 = 2 * (x * y - z * w), r2 = 2 * (x * z + y * w);
			sum += (r0 * s[i][0] + r1 * s[i][1] + r2 * s[i][2]) + p[i][0] + (float)mat[i];
		}
	}
	m->extract_sum += sum;
}

static void sys_highlight(struct sim_ctx *ctx)
{
	struct mixed *m = ctx->user_data;
	struct sim_iter it;
	double sum = 0;
	sim_iter_init(&it, ctx->world, m->highlight);
	while (sim_iter_next(&it)) {
		const float (*p)[3] = sim_iter_field(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		const uint64_t *owner = sim_iter_field(&it, TH_COMP_SELECTION, TH_F(selection, owner));
		for (uint32_t i = 0; i < it.count; i++)
			sum += owner[i] ? p[i][1] : 0;
	}
	m->highlight_sum += sum;
}

/* Active tools push the velocity of what they hold. */
static void sys_tool(struct sim_ctx *ctx)
{
	struct mixed *m = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, m->tool);
	while (sim_iter_next(&it)) {
		const uint32_t *phase = sim_iter_field(&it, TH_COMP_TOOL_STATE, TH_F(tool_state, phase));
		float (*v)[3] = sim_iter_field_mut(&it, TH_COMP_VELOCITY, TH_F(velocity, linear));
		for (uint32_t i = 0; i < it.count; i++)
			v[i][1] = phase[i] ? v[i][1] * 0.5f : v[i][1];
	}
}

static uint64_t bench_mixed(unsigned threads, double *sink)
{
	struct sim_world *w;
	struct sim_sched *s;
	struct mixed m = { 0 };
	int r = sim_world_create(NULL, &w);
	if (r < 0)
		die("sim_world_create", r);
	r = sim_sched_create(w, &(struct sim_sched_config){ .threads = threads }, &s);
	if (r < 0)
		die("sim_sched_create", r);
	for (uint32_t i = 0; i < N; i++) {
		unsigned comps[8], n = 0;
		comps[n++] = TH_COMP_TRANSFORM;
		if (i % 2 == 0)
			comps[n++] = TH_COMP_VELOCITY;
		if (i % 4 == 1)
			comps[n++] = TH_COMP_MESH_REF;
		if (i % 8 == 3)
			comps[n++] = TH_COMP_SELECTION;
		if (i % 4 == 2)
			comps[n++] = TH_COMP_CONTROLLER_STATE, comps[n++] = TH_COMP_TOOL_STATE;
		if (i % 32 == 7)
			comps[n++] = TH_COMP_TRACKED_POSE;
		struct th_c_transform t = { .position = { (float)i, 1, 2 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
		struct th_c_velocity v = { .linear = { 1, 1, 1 } };
		struct th_c_controller_state c = { .trigger = (i % 3) * 0.4f, .thumbstick = { 0, 0.5f } };
		struct th_c_selection sel = { .owner = i };
		struct th_c_tracked_pose tp = { .head_rotation = { 0, 0, 0, 2 }, .left_rotation = { 1, 0, 0, 0 },
						.right_rotation = { 0, 1, 0, 0 } };
		const void *vals[8];
		for (unsigned k = 0; k < n; k++)
			vals[k] = comps[k] == TH_COMP_TRANSFORM ? (const void *)&t
				: comps[k] == TH_COMP_VELOCITY ? (const void *)&v
				: comps[k] == TH_COMP_CONTROLLER_STATE ? (const void *)&c
				: comps[k] == TH_COMP_SELECTION ? (const void *)&sel
				: comps[k] == TH_COMP_TRACKED_POSE ? (const void *)&tp : NULL;
		sim_entity e;
		r = sim_spawn_with(w, n, comps, vals, &e);
		if (r < 0)
			die("sim_spawn_with", r);
	}
	uint64_t T = SIM_BIT(TH_COMP_TRANSFORM), V = SIM_BIT(TH_COMP_VELOCITY), C = SIM_BIT(TH_COMP_CONTROLLER_STATE),
		 TS = SIM_BIT(TH_COMP_TOOL_STATE), S = SIM_BIT(TH_COMP_SELECTION), P = SIM_BIT(TH_COMP_TRACKED_POSE),
		 M = SIM_BIT(TH_COMP_MESH_REF);
	struct { struct sim_query **q; uint64_t with; } qs[] = {
		{ &m.move, T | V }, { &m.ctl, C | TS }, { &m.sel, S }, { &m.pose, P },
		{ &m.extract, T | M }, { &m.highlight, T | S }, { &m.tool, TS | V },
	};
	for (unsigned k = 0; k < sizeof qs / sizeof qs[0]; k++)
		if ((r = sim_query_create(w, &(struct sim_query_desc){ .with = qs[k].with }, qs[k].q)) < 0)
			die("sim_query_create", r);
	const struct sim_system_desc sys[] = {
		{ "move", SIM_STAGE_SIMULATION, V, T, sys_move, &m },
		{ "controller", SIM_STAGE_SIMULATION, C, TS, sys_controller, &m },
		{ "selection", SIM_STAGE_SIMULATION, 0, S, sys_selection, &m },
		{ "pose", SIM_STAGE_SIMULATION, 0, P, sys_pose, &m },
		{ "extract", SIM_STAGE_RENDER, T | M, 0, sys_extract, &m },
		{ "highlight", SIM_STAGE_RENDER, T | S, 0, sys_highlight, &m },
		{ "tool", SIM_STAGE_EDITOR, TS, V, sys_tool, &m },
	};
	for (unsigned k = 0; k < sizeof sys / sizeof sys[0]; k++)
		if ((r = sim_sched_add(s, &sys[k], NULL)) < 0)
			die("sim_sched_add", r);
	uint64_t times[MIXED_RUNS];
	for (unsigned k = 0; k < MIXED_RUNS + 2; k++) {
		struct sim_frame_info fi = { .frame = k, .dt = DT };
		uint64_t a = th_now_ns();
		r = sim_sched_run_frame(s, &fi);
		uint64_t b = th_now_ns();
		if (r < 0)
			die("run_frame", r);
		sim_world_advance(w);
		if (k >= 2)
			times[k - 2] = b - a;
	}
	*sink += m.extract_sum + m.highlight_sum;
	sim_sched_destroy(&s);
	sim_world_destroy(&w);
	return median(times, MIXED_RUNS);
}

int main(void)
{
	printf("bench_ecs: %u entities, medians of %u (update) / %u (mixed) runs\n", N, UPDATE_RUNS, MIXED_RUNS);
	bench_core();
	bench_alternatives();
	double sink = 0;
	uint64_t m1 = bench_mixed(1, &sink);
	th_bench_figure("ecs.mixed_7_systems_1m_ns", (double)m1, "ns");
	uint64_t m2 = bench_mixed(2, &sink);
	th_bench_figure("ecs.mixed_7_systems_1m_2t_ns", (double)m2, "ns");
	th_bench_figure("ecs.parallel_speedup_2_threads", (double)m1 / (double)m2, "ratio");
	if (sink == 12345.678)
		puts("unlikely");
	return 0;
}
