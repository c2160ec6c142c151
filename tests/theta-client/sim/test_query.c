/* theta-client/sim/query.c: queries, field arrays, change ticks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/query.h"
#include "sim/world.h"

struct fixture {
	struct sim_world *w;
	sim_entity e[30];
};

/* e[i]: Transform always; Velocity when i % 2 == 0; MeshRef when i % 3 == 0. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_int_equal(sim_world_create(NULL, &f->w), 0);
	for (int i = 0; i < 30; i++) {
		struct th_c_transform t = { .position = { (float)i, 0, 0 }, .rotation = { 0, 0, 0, 1 } };
		struct th_c_velocity v = { .linear = { 1, 2, 3 } };
		struct th_c_mesh_ref m = { .mesh = 1000u + (unsigned)i };
		unsigned comps[3];
		const void *vals[3];
		unsigned n = 0;
		comps[n] = TH_COMP_TRANSFORM, vals[n++] = &t;
		if (i % 2 == 0)
			comps[n] = TH_COMP_VELOCITY, vals[n++] = &v;
		if (i % 3 == 0)
			comps[n] = TH_COMP_MESH_REF, vals[n++] = &m;
		assert_int_equal(sim_spawn_with(f->w, n, comps, vals, &f->e[i]), 0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sim_world_destroy(&f->w);
	free(f);
	return 0;
}

static unsigned count_query(struct sim_world *w, uint64_t with, uint64_t without)
{
	struct sim_query *q;
	assert_int_equal(sim_query_create(w, &(struct sim_query_desc){ .with = with, .without = without }, &q), 0);
	unsigned n = 0;
	struct sim_iter it;
	sim_iter_init(&it, w, q);
	while (sim_iter_next(&it))
		n += it.count;
	assert_int_equal(n, sim_query_count(q));
	return n;
}

static void queries_match_with_and_without(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(count_query(f->w, SIM_BIT(TH_COMP_TRANSFORM), 0), 30);
	assert_int_equal(count_query(f->w, SIM_BIT(TH_COMP_VELOCITY), 0), 15);
	assert_int_equal(count_query(f->w, SIM_BIT(TH_COMP_VELOCITY) | SIM_BIT(TH_COMP_MESH_REF), 0), 5);
	assert_int_equal(count_query(f->w, SIM_BIT(TH_COMP_TRANSFORM), SIM_BIT(TH_COMP_VELOCITY)), 15);
	assert_int_equal(count_query(f->w, SIM_BIT(TH_COMP_SELECTION), 0), 0);
	struct sim_query *q;
	assert_int_equal(sim_query_create(f->w, &(struct sim_query_desc){ .with = 1, .without = 1 }, &q), -EINVAL);
}

static void query_sees_tables_created_later(void **state)
{
	struct fixture *f = *state;
	struct sim_query *q;
	assert_int_equal(sim_query_create(f->w, &(struct sim_query_desc){ .with = SIM_BIT(TH_COMP_SELECTION) }, &q), 0);
	assert_int_equal(sim_query_count(q), 0);
	assert_int_equal(sim_add(f->w, f->e[7], TH_COMP_SELECTION, NULL), 0);
	assert_int_equal(sim_query_count(q), 1);
}

static void field_arrays_are_dense_and_writable(void **state)
{
	struct fixture *f = *state;
	struct sim_query *q;
	assert_int_equal(sim_query_create(f->w, &(struct sim_query_desc){
		.with = SIM_BIT(TH_COMP_TRANSFORM) | SIM_BIT(TH_COMP_VELOCITY) }, &q), 0);
	struct sim_iter it;
	sim_iter_init(&it, f->w, q);
	unsigned rows = 0;
	while (sim_iter_next(&it)) {
		const float (*v)[3] = sim_iter_field(&it, TH_COMP_VELOCITY, TH_F(velocity, linear));
		float (*p)[3] = sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		assert_non_null(v);
		assert_non_null(p);
		assert_null(sim_iter_field(&it, TH_COMP_SELECTION, 0));
		assert_null(sim_iter_field(&it, TH_COMP_VELOCITY, 5)); /* no field at offset 5 */
		for (uint32_t i = 0; i < it.count; i++)
			for (int k = 0; k < 3; k++)
				p[i][k] += v[i][k] * 2;
		rows += it.count;
	}
	assert_int_equal(rows, 15);
	for (int i = 0; i < 30; i++) {
		struct th_c_transform t;
		assert_int_equal(sim_get(f->w, f->e[i], TH_COMP_TRANSFORM, &t), 0);
		float want = (float)i + (i % 2 == 0 ? 2.0f : 0.0f);
		assert_true(t.position[0] == want);
		assert_true(t.position[2] == (i % 2 == 0 ? 6.0f : 0.0f));
		assert_true(t.rotation[3] == 1.0f); /* other fields untouched */
	}
}

static void change_ticks_report_writes_since_a_frame(void **state)
{
	struct fixture *f = *state;
	struct sim_world *w = f->w;
	uint32_t t1 = sim_world_tick(w);
	sim_world_advance(w);
	uint32_t t2 = sim_world_tick(w);
	assert_true(sim_tick_after(t2, t1));
	/* Single-entity write at t2. */
	struct th_c_transform t;
	assert_int_equal(sim_get(w, f->e[5], TH_COMP_TRANSFORM, &t), 0);
	t.position[1] = 7;
	assert_int_equal(sim_set(w, f->e[5], TH_COMP_TRANSFORM, &t), 0);
	assert_int_equal(sim_changed_tick(w, f->e[5], TH_COMP_TRANSFORM), t2);
	assert_int_equal(sim_changed_tick(w, f->e[6], TH_COMP_TRANSFORM), t1);

	struct sim_query *q;
	assert_int_equal(sim_query_create(w, &(struct sim_query_desc){ .with = SIM_BIT(TH_COMP_TRANSFORM) }, &q), 0);
	unsigned changed = 0;
	struct sim_iter it;
	sim_iter_init(&it, w, q);
	while (sim_iter_next(&it))
		for (uint32_t i = 0; i < it.count; i++)
			if (sim_iter_changed(&it, TH_COMP_TRANSFORM, i, t1)) {
				changed++;
				assert_int_equal(it.entities[i], f->e[5]);
			}
	assert_int_equal(changed, 1);

	/* Bulk write through a mutable column marks that table's rows at t3,
	 * and survives a later structural move of one of its rows. */
	sim_world_advance(w);
	uint32_t t3 = sim_world_tick(w);
	struct sim_query *qv;
	assert_int_equal(sim_query_create(w, &(struct sim_query_desc){
		.with = SIM_BIT(TH_COMP_TRANSFORM) | SIM_BIT(TH_COMP_VELOCITY),
		.without = SIM_BIT(TH_COMP_MESH_REF) }, &qv), 0);
	sim_iter_init(&it, w, qv);
	while (sim_iter_next(&it))
		assert_non_null(sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, scale)));
	sim_world_advance(w);
	assert_int_equal(sim_add(w, f->e[2], TH_COMP_SELECTION, NULL), 0); /* moves e[2] */
	assert_int_equal(sim_add(w, f->e[4], TH_COMP_SELECTION, NULL), 0);
	assert_int_equal(sim_changed_tick(w, f->e[2], TH_COMP_TRANSFORM), t3);
	assert_int_equal(sim_changed_tick(w, f->e[8], TH_COMP_TRANSFORM), t3);
	assert_int_equal(sim_changed_tick(w, f->e[6], TH_COMP_TRANSFORM), t1); /* has MeshRef */
	assert_int_equal(sim_changed_tick(w, f->e[2], TH_COMP_SELECTION), sim_world_tick(w));
	changed = 0;
	sim_iter_init(&it, w, q);
	while (sim_iter_next(&it))
		for (uint32_t i = 0; i < it.count; i++)
			changed += sim_iter_changed(&it, TH_COMP_TRANSFORM, i, t2);
	/* Velocity without MeshRef: even i not divisible by 3 = 10 entities. */
	assert_int_equal(changed, 10);
	/* Untracked writes plus explicit marks touch only the marked row. */
	sim_world_advance(w);
	uint32_t t5 = sim_world_tick(w);
	sim_iter_init(&it, w, q);
	while (sim_iter_next(&it)) {
		float (*p)[3] = sim_iter_field_mut_untracked(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		for (uint32_t i = 0; i < it.count; i++)
			if (it.entities[i] == f->e[9]) {
				p[i][0] = -1;
				sim_iter_mark_changed(&it, TH_COMP_TRANSFORM, i);
			}
	}
	changed = 0;
	sim_iter_init(&it, w, q);
	while (sim_iter_next(&it))
		for (uint32_t i = 0; i < it.count; i++)
			changed += sim_iter_changed(&it, TH_COMP_TRANSFORM, i, t5 - 1);
	assert_int_equal(changed, 1);
}

static void tick_comparison_is_wrap_safe(void **state)
{
	assert_true(sim_tick_after(5, 3));
	assert_false(sim_tick_after(3, 5));
	assert_false(sim_tick_after(3, 3));
	assert_true(sim_tick_after(2, 0xfffffff0u));
	assert_false(sim_tick_after(0xfffffff0u, 2));
}

static void iter_get_gathers_the_whole_value(void **state)
{
	struct fixture *f = *state;
	struct sim_query *q;
	assert_int_equal(sim_query_create(f->w, &(struct sim_query_desc){ .with = SIM_BIT(TH_COMP_MESH_REF) }, &q), 0);
	struct sim_iter it;
	unsigned seen = 0;
	sim_iter_init(&it, f->w, q);
	while (sim_iter_next(&it))
		for (uint32_t i = 0; i < it.count; i++) {
			struct th_c_mesh_ref m, g;
			assert_int_equal(sim_iter_get(&it, TH_COMP_MESH_REF, i, &m), 0);
			assert_int_equal(sim_get(f->w, it.entities[i], TH_COMP_MESH_REF, &g), 0);
			assert_int_equal(m.mesh, g.mesh);
			assert_true(m.mesh >= 1000 && m.mesh < 1030 && (m.mesh - 1000) % 3 == 0);
			seen++;
		}
	assert_int_equal(seen, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(queries_match_with_and_without, setup, teardown),
		cmocka_unit_test_setup_teardown(query_sees_tables_created_later, setup, teardown),
		cmocka_unit_test_setup_teardown(field_arrays_are_dense_and_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(change_ticks_report_writes_since_a_frame, setup, teardown),
		cmocka_unit_test(tick_comparison_is_wrap_safe),
		cmocka_unit_test_setup_teardown(iter_get_gathers_the_whole_value, setup, teardown),
	};
	return cmocka_run_group_tests_name("sim_query", tests, NULL, NULL);
}
