/* theta-client/sim/sched.c and pool.c: stage order, waves, parallelism,
 * access checks, sync points, timings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/pool.h"
#include "sim/query.h"
#include "sim/sched.h"
#include "th_time.h"

static const struct sim_frame_info frame0 = { .frame = 0, .dt = 1.0f / 90 };

struct order_log {
	_Atomic unsigned n;
	char names[32][16];
};

struct named {
	struct order_log *log;
	const char *name;
};

static void record(struct sim_ctx *ctx)
{
	struct named *nm = ctx->user_data;
	unsigned i = atomic_fetch_add(&nm->log->n, 1);
	if (i < 32)
		snprintf(nm->log->names[i], sizeof nm->log->names[i], "%s", nm->name);
}

static void stages_run_in_order_and_startup_once(void **state)
{
	struct sim_world *w;
	struct sim_sched *s;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	assert_int_equal(sim_sched_create(w, &(struct sim_sched_config){ .threads = 2 }, &s), 0);
	struct order_log log = { 0 };
	/* Registered out of stage order on purpose. */
	struct named n[4] = { { &log, "editor" }, { &log, "render" }, { &log, "sim" }, { &log, "startup" } };
	enum sim_stage st[4] = { SIM_STAGE_EDITOR, SIM_STAGE_RENDER, SIM_STAGE_SIMULATION, SIM_STAGE_STARTUP };
	for (int i = 0; i < 4; i++)
		assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = n[i].name, .stage = st[i],
			.fn = record, .user_data = &n[i] }, NULL), 0);
	assert_int_equal(sim_sched_run_frame(s, &frame0), 0);
	assert_int_equal(sim_sched_run_frame(s, &frame0), 0);
	assert_int_equal(atomic_load(&log.n), 7);
	const char *want[7] = { "startup", "sim", "render", "editor", "sim", "render", "editor" };
	for (int i = 0; i < 7; i++)
		assert_string_equal(log.names[i], want[i]);
	/* Too late for another startup system. */
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "late", .stage = SIM_STAGE_STARTUP,
		.fn = record, .user_data = &n[0] }, NULL), -EBUSY);
	sim_sched_destroy(&s);
	sim_world_destroy(&w);
}

/* Counts how many systems of a group are inside at once. */
struct overlap {
	_Atomic int inside;
	_Atomic int max_inside;
	_Atomic int arrivals;
	_Atomic int seq;
	int order[8];
	int ids[8];
	_Atomic bool met_partner; /* for the rendezvous test */
};

struct overlap_arg {
	struct overlap *o;
	int id;
};

static void busy(struct sim_ctx *ctx)
{
	struct overlap_arg *a = ctx->user_data;
	struct overlap *o = a->o;
	int now = atomic_fetch_add(&o->inside, 1) + 1;
	int prev = atomic_load(&o->max_inside);
	while (now > prev && !atomic_compare_exchange_weak(&o->max_inside, &prev, now))
		;
	o->order[atomic_fetch_add(&o->seq, 1)] = a->id;
	uint64_t until = th_now_ns() + 2 * TH_NS_PER_MS;
	while (th_now_ns() < until)
		;
	atomic_fetch_sub(&o->inside, 1);
}

static void conflicting_systems_never_overlap_and_keep_order(void **state)
{
	struct sim_world *w;
	struct sim_sched *s;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	assert_int_equal(sim_sched_create(w, &(struct sim_sched_config){ .threads = 4 }, &s), 0);
	struct overlap o = { 0 };
	struct overlap_arg args[4];
	/* 0 writes T; 1 reads T (conflict: after 0); 2 writes T (after 1);
	 * 3 writes Velocity only: independent, wave 0. */
	uint64_t T = SIM_BIT(TH_COMP_TRANSFORM), V = SIM_BIT(TH_COMP_VELOCITY);
	struct sim_system_desc d[4] = {
		{ .name = "w0", .writes = T }, { .name = "r1", .reads = T },
		{ .name = "w2", .writes = T }, { .name = "v3", .writes = V },
	};
	unsigned id[4];
	for (int i = 0; i < 3; i++) {
		args[i] = (struct overlap_arg){ &o, i };
		d[i].stage = SIM_STAGE_SIMULATION;
		d[i].fn = busy;
		d[i].user_data = &args[i];
		assert_int_equal(sim_sched_add(s, &d[i], &id[i]), 0);
	}
	d[3].stage = SIM_STAGE_SIMULATION;
	d[3].fn = record;
	struct order_log log = { 0 };
	struct named nm = { &log, "v3" };
	d[3].user_data = &nm;
	assert_int_equal(sim_sched_add(s, &d[3], &id[3]), 0);
	assert_int_equal(sim_sched_system_wave(s, id[0]), 0);
	assert_int_equal(sim_sched_system_wave(s, id[1]), 1);
	assert_int_equal(sim_sched_system_wave(s, id[2]), 2);
	assert_int_equal(sim_sched_system_wave(s, id[3]), 0);
	for (int f = 0; f < 5; f++) {
		atomic_store(&o.seq, 0);
		assert_int_equal(sim_sched_run_stage(s, SIM_STAGE_SIMULATION, &frame0), 0);
		assert_int_equal(o.order[0], 0);
		assert_int_equal(o.order[1], 1);
		assert_int_equal(o.order[2], 2);
	}
	assert_int_equal(atomic_load(&o.max_inside), 1);
	assert_int_equal(atomic_load(&log.n), 5);
	sim_sched_destroy(&s);
	sim_world_destroy(&w);
}

static void rendezvous(struct sim_ctx *ctx)
{
	struct overlap *o = ctx->user_data;
	atomic_fetch_add(&o->arrivals, 1);
	uint64_t until = th_now_ns() + 5 * TH_NS_PER_S;
	while (atomic_load(&o->arrivals) < 2 && th_now_ns() < until)
		;
	if (atomic_load(&o->arrivals) >= 2)
		o->met_partner = true;
}

static void independent_systems_run_in_parallel(void **state)
{
	struct sim_world *w;
	struct sim_sched *s;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	assert_int_equal(sim_sched_create(w, &(struct sim_sched_config){ .threads = 2 }, &s), 0);
	assert_int_equal(sim_sched_threads(s), 2);
	struct overlap o = { 0 };
	/* Both only read Transform: no conflict, same wave. Each waits for the
	 * other to arrive, which can only happen when they run concurrently. */
	unsigned a, b;
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "a", .stage = SIM_STAGE_RENDER,
		.reads = SIM_BIT(TH_COMP_TRANSFORM), .fn = rendezvous, .user_data = &o }, &a), 0);
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "b", .stage = SIM_STAGE_RENDER,
		.reads = SIM_BIT(TH_COMP_TRANSFORM), .fn = rendezvous, .user_data = &o }, &b), 0);
	assert_int_equal(sim_sched_system_wave(s, a), 0);
	assert_int_equal(sim_sched_system_wave(s, b), 0);
	assert_int_equal(sim_sched_run_stage(s, SIM_STAGE_RENDER, &frame0), 0);
	assert_true(o.met_partner);
	sim_sched_destroy(&s);
	sim_world_destroy(&w);
}

struct sneaky {
	struct sim_query *q;
	sim_entity e;
};

static void reads_velocity_undeclared(struct sim_ctx *ctx)
{
	struct sneaky *sn = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, sn->q);
	while (sim_iter_next(&it)) {
		(void)sim_iter_field(&it, TH_COMP_TRANSFORM, TH_F(transform, position)); /* declared */
		(void)sim_iter_field(&it, TH_COMP_VELOCITY, TH_F(velocity, linear));    /* not */
	}
}

static void writes_declared_read_only(struct sim_ctx *ctx)
{
	struct sneaky *sn = ctx->user_data;
	struct th_c_transform t = { 0 };
	sim_set(ctx->world, sn->e, TH_COMP_TRANSFORM, &t);
}

static void undeclared_access_is_detected(void **state)
{
	for (int mode = 0; mode < 2; mode++) {
		struct sim_world *w;
		struct sim_sched *s;
		assert_int_equal(sim_world_create(NULL, &w), 0);
		enum sim_access_mode am = mode == 0 ? SIM_ACCESS_ERROR : SIM_ACCESS_COUNT;
		assert_int_equal(sim_sched_create(w, &(struct sim_sched_config){ .threads = 2, .access = am }, &s), 0);
		struct sneaky sn;
		assert_int_equal(sim_query_create(w, &(struct sim_query_desc){
			.with = SIM_BIT(TH_COMP_TRANSFORM) | SIM_BIT(TH_COMP_VELOCITY) }, &sn.q), 0);
		unsigned comps[2] = { TH_COMP_TRANSFORM, TH_COMP_VELOCITY };
		assert_int_equal(sim_spawn_with(w, 2, comps, NULL, &sn.e), 0);
		unsigned good, bad;
		assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "honest", .stage = SIM_STAGE_SIMULATION,
			.reads = SIM_BIT(TH_COMP_TRANSFORM) | SIM_BIT(TH_COMP_VELOCITY), .fn = reads_velocity_undeclared,
			.user_data = &sn }, &good), 0);
		assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "sneaky", .stage = SIM_STAGE_SIMULATION,
			.reads = SIM_BIT(TH_COMP_TRANSFORM), .fn = reads_velocity_undeclared, .user_data = &sn }, &bad), 0);
		int r = sim_sched_run_stage(s, SIM_STAGE_SIMULATION, &frame0);
		assert_int_equal(r, mode == 0 ? -EACCES : 0);
		assert_int_equal(sim_sched_system_violations(s, good), 0);
		assert_int_equal(sim_sched_system_violations(s, bad), 1);
		assert_int_equal(sim_sched_violations(s), 1);
		struct sim_violation v;
		assert_int_equal(sim_sched_last_violation(s, &v), 0);
		assert_string_equal(v.system, "sneaky");
		assert_int_equal(v.comp, TH_COMP_VELOCITY);
		assert_false(v.write);
		/* A write through sim_set with only read access. */
		assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "writer", .stage = SIM_STAGE_EDITOR,
			.reads = SIM_BIT(TH_COMP_TRANSFORM), .fn = writes_declared_read_only, .user_data = &sn }, NULL), 0);
		r = sim_sched_run_stage(s, SIM_STAGE_EDITOR, &frame0);
		assert_int_equal(r, mode == 0 ? -EACCES : 0);
		assert_int_equal(sim_sched_last_violation(s, &v), 0);
		assert_string_equal(v.system, "writer");
		assert_true(v.write);
		assert_int_equal(sim_world_violations(w), 2);
		sim_sched_destroy(&s);
		sim_world_destroy(&w);
	}
}

static void spawner(struct sim_ctx *ctx)
{
	struct th_c_selection sel = { .owner = (uint64_t)ctx->system + 1 };
	unsigned comp = TH_COMP_SELECTION;
	const void *vals[1] = { &sel };
	for (int i = 0; i < 100; i++) {
		sim_entity e;
		assert_int_equal(sim_spawn_with(ctx->world, 1, &comp, vals, &e), 1);
		assert_true(sim_alive(ctx->world, e));
		assert_false(sim_has(ctx->world, e, TH_COMP_SELECTION)); /* not yet */
	}
}

struct seen_by_owner {
	unsigned seen[2];
	struct sim_query *q;
};

static void counter(struct sim_ctx *ctx)
{
	struct seen_by_owner *c = ctx->user_data;
	unsigned *seen = c->seen;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, c->q);
	while (sim_iter_next(&it)) {
		const uint64_t *owner = sim_iter_field(&it, TH_COMP_SELECTION, TH_F(selection, owner));
		for (uint32_t i = 0; i < it.count; i++)
			seen[owner[i] - 1]++;
	}
}

static void parallel_spawns_apply_at_the_sync_point(void **state)
{
	struct sim_world *w;
	struct sim_sched *s;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	assert_int_equal(sim_sched_create(w, &(struct sim_sched_config){ .threads = 2 }, &s), 0);
	struct seen_by_owner c = { { 0, 0 }, NULL };
	assert_int_equal(sim_query_create(w, &(struct sim_query_desc){ .with = SIM_BIT(TH_COMP_SELECTION) }, &c.q), 0);
	unsigned a, b;
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "s0", .stage = SIM_STAGE_SIMULATION,
		.writes = SIM_BIT(TH_COMP_SELECTION), .fn = spawner }, &a), 0);
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "s1", .stage = SIM_STAGE_SIMULATION,
		.writes = SIM_BIT(TH_COMP_VELOCITY) | SIM_BIT(TH_COMP_SELECTION), .fn = spawner }, &b), 0);
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "count", .stage = SIM_STAGE_RENDER,
		.reads = SIM_BIT(TH_COMP_SELECTION), .fn = counter, .user_data = &c }, NULL), 0);
	assert_int_equal(sim_sched_run_stage(s, SIM_STAGE_SIMULATION, &frame0), 0);
	assert_int_equal(sim_entity_count(w), 200);
	assert_int_equal(sim_query_count(c.q), 200);
	assert_int_equal(sim_sched_run_stage(s, SIM_STAGE_RENDER, &frame0), 0);
	assert_int_equal(c.seen[0], 100);
	assert_int_equal(c.seen[1], 100);
	sim_sched_destroy(&s);
	sim_world_destroy(&w);
}

static void nop(struct sim_ctx *ctx) { (void)ctx; }

static void timings_are_kept_per_stage_and_system(void **state)
{
	struct sim_world *w;
	struct sim_sched *s;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	assert_int_equal(sim_sched_create(w, &(struct sim_sched_config){ .threads = 1 }, &s), 0);
	unsigned id;
	struct overlap o = { 0 };
	struct overlap_arg arg = { &o, 0 };
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "slow", .stage = SIM_STAGE_SIMULATION,
		.fn = busy, .user_data = &arg }, &id), 0);
	assert_int_equal(sim_sched_add(s, &(struct sim_system_desc){ .name = "nop", .stage = SIM_STAGE_EDITOR,
		.fn = nop }, NULL), 0);
	for (int i = 0; i < 3; i++) {
		atomic_store(&o.seq, 0);
		assert_int_equal(sim_sched_run_frame(s, &frame0), 0);
	}
	struct sim_timing t, st;
	assert_int_equal(sim_sched_system_timing(s, id, &t), 0);
	assert_int_equal(t.runs, 3);
	assert_true(t.last_ns >= 2 * TH_NS_PER_MS); /* busy() spins 2 ms */
	assert_true(t.total_ns >= t.max_ns && t.max_ns >= t.last_ns);
	assert_int_equal(sim_sched_stage_timing(s, SIM_STAGE_SIMULATION, &st), 0);
	assert_int_equal(st.runs, 3);
	assert_true(st.total_ns >= t.total_ns);
	assert_int_equal(sim_sched_stage_timing(s, SIM_STAGE_STARTUP, &st), 0);
	assert_int_equal(st.runs, 1);
	assert_string_equal(sim_sched_system_name(s, id), "slow");
	assert_int_equal(sim_sched_system_timing(s, 99, &t), -ENOENT);
	sim_sched_destroy(&s);
	sim_world_destroy(&w);
}

static void add_task(void *arg, unsigned task)
{
	_Atomic unsigned *sum = arg;
	atomic_fetch_add(sum, task + 1);
}

static void pool_runs_every_task_once(void **state)
{
	struct sim_pool *p;
	assert_int_equal(sim_pool_create(0, &p), -EINVAL);
	assert_int_equal(sim_pool_create(3, &p), 0);
	for (unsigned n = 0; n < 200; n++) {
		_Atomic unsigned sum = 0;
		sim_pool_run(p, n, add_task, &sum);
		assert_int_equal(atomic_load(&sum), n * (n + 1) / 2);
	}
	sim_pool_destroy(&p);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stages_run_in_order_and_startup_once),
		cmocka_unit_test(conflicting_systems_never_overlap_and_keep_order),
		cmocka_unit_test(independent_systems_run_in_parallel),
		cmocka_unit_test(undeclared_access_is_detected),
		cmocka_unit_test(parallel_spawns_apply_at_the_sync_point),
		cmocka_unit_test(timings_are_kept_per_stage_and_system),
		cmocka_unit_test(pool_runs_every_task_once),
	};
	return cmocka_run_group_tests_name("sim_sched", tests, NULL, NULL);
}
