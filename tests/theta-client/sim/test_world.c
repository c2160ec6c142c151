/* theta-client/sim/world.c: entity life cycle, components, deferral. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "sim/query.h"
#include "sim/world.h"

static struct th_c_transform tf(float x)
{
	return (struct th_c_transform){ .position = { x, 2 * x, 3 * x }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
}

static void spawn_get_despawn_round_trip(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	sim_entity e;
	struct th_c_transform t = tf(1.5f), out;
	unsigned comp = TH_COMP_TRANSFORM;
	const void *vals[] = { &t };
	assert_int_equal(sim_spawn_with(w, 1, &comp, vals, &e), 0);
	assert_true(sim_alive(w, e));
	assert_int_equal(sim_entity_count(w), 1);
	assert_int_equal(sim_get(w, e, TH_COMP_TRANSFORM, &out), 0);
	assert_memory_equal(&out, &t, sizeof t);
	assert_int_equal(sim_get(w, e, TH_COMP_VELOCITY, &out), -ENOENT);
	assert_int_equal(sim_despawn(w, e), 0);
	assert_false(sim_alive(w, e));
	assert_int_equal(sim_entity_count(w), 0);
	sim_world_destroy(&w);
	assert_null(w);
	sim_world_destroy(&w); /* NULL-safe */
}

static void stale_handle_is_an_error_not_the_new_entity(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	sim_entity a, b;
	assert_int_equal(sim_spawn(w, &a), 0);
	assert_int_equal(sim_despawn(w, a), 0);
	assert_int_equal(sim_spawn(w, &b), 0);
	/* The slot is reused with a new generation. */
	assert_int_equal(sim_entity_slot(a), sim_entity_slot(b));
	assert_int_not_equal(sim_entity_gen(a), sim_entity_gen(b));
	struct th_c_transform t = tf(1);
	assert_int_equal(sim_add(w, a, TH_COMP_TRANSFORM, &t), -ESTALE);
	assert_int_equal(sim_despawn(w, a), -ESTALE);
	assert_int_equal(sim_remove(w, a, TH_COMP_TRANSFORM), -ESTALE);
	assert_int_equal(sim_get(w, a, TH_COMP_TRANSFORM, &t), -ESTALE);
	assert_int_equal(sim_set(w, a, TH_COMP_TRANSFORM, &t), -ESTALE);
	assert_false(sim_has(w, a, TH_COMP_TRANSFORM));
	assert_true(sim_alive(w, b));
	assert_false(sim_has(w, b, TH_COMP_TRANSFORM));
	/* Handles never issued and the null handle are stale too. */
	assert_false(sim_alive(w, SIM_ENTITY_NULL));
	assert_int_equal(sim_despawn(w, (sim_entity)1 << 32 | 12345), -ESTALE);
	sim_world_destroy(&w);
}

static void generation_wrap_retires_the_slot(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(&(struct sim_world_config){ .max_generation = 3 }, &w), 0);
	sim_entity seen[3], e;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sim_spawn(w, &seen[i]), 0);
		assert_int_equal(sim_entity_slot(seen[i]), 0);
		assert_int_equal(sim_entity_gen(seen[i]), (uint32_t)i + 1);
		assert_int_equal(sim_despawn(w, seen[i]), 0);
	}
	assert_int_equal(sim_retired_slots(w), 1);
	/* Slot 0 is never handed out again, so no old handle can alias. */
	assert_int_equal(sim_spawn(w, &e), 0);
	assert_int_equal(sim_entity_slot(e), 1);
	for (int i = 0; i < 3; i++)
		assert_false(sim_alive(w, seen[i]));
	sim_world_destroy(&w);
}

static void add_remove_moves_between_tables_keeping_values(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	sim_entity e[10];
	for (int i = 0; i < 10; i++) {
		struct th_c_transform t = tf((float)i);
		assert_int_equal(sim_spawn(w, &e[i]), 0);
		assert_int_equal(sim_add(w, e[i], TH_COMP_TRANSFORM, &t), 0);
	}
	struct th_c_velocity v = { .linear = { 1, 0, 0 } }, vo;
	for (int i = 0; i < 10; i += 2)
		assert_int_equal(sim_add(w, e[i], TH_COMP_VELOCITY, &v), 0);
	assert_int_equal(sim_remove(w, e[4], TH_COMP_TRANSFORM), 0);
	assert_int_equal(sim_remove(w, e[4], TH_COMP_TRANSFORM), -ENOENT);
	assert_int_equal(sim_despawn(w, e[0]), 0);
	for (int i = 1; i < 10; i++) {
		struct th_c_transform t, want = tf((float)i);
		if (i == 4) {
			assert_false(sim_has(w, e[i], TH_COMP_TRANSFORM));
			assert_int_equal(sim_get(w, e[i], TH_COMP_VELOCITY, &vo), 0);
			assert_memory_equal(&vo, &v, sizeof v);
			continue;
		}
		assert_int_equal(sim_get(w, e[i], TH_COMP_TRANSFORM, &t), 0);
		assert_memory_equal(&t, &want, sizeof t);
		assert_int_equal(sim_has(w, e[i], TH_COMP_VELOCITY), i % 2 == 0);
	}
	/* Adding an existing component overwrites it. */
	struct th_c_transform t2 = tf(99), got;
	assert_int_equal(sim_add(w, e[1], TH_COMP_TRANSFORM, &t2), 0);
	assert_int_equal(sim_get(w, e[1], TH_COMP_TRANSFORM, &got), 0);
	assert_memory_equal(&got, &t2, sizeof got);
	assert_int_equal(sim_add(w, e[1], 63, NULL), -EINVAL);
	sim_world_destroy(&w);
}

static void local_component_registration(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	assert_int_equal(sim_component_count(w), TH_COMP_COUNT);
	assert_int_equal(sim_component_id(w, TH_COMP_MESH_REF), th_component_id(TH_COMP_MESH_REF));
	assert_int_equal(sim_component_find(w, th_component_id(TH_COMP_SELECTION)), TH_COMP_SELECTION);
	unsigned c;
	assert_int_equal(sim_component_register(w, "Health", sizeof(int), _Alignof(int), &c), 0);
	assert_int_equal(c, TH_COMP_COUNT);
	assert_int_equal(sim_component_register(w, "Health", 4, 4, &c), -EEXIST);
	assert_int_equal(sim_component_register(w, "Transform", 4, 4, &c), -EEXIST);
	sim_entity e;
	int hp = 42, out = 0;
	assert_int_equal(sim_spawn(w, &e), 0);
	assert_int_equal(sim_add(w, e, TH_COMP_COUNT, &hp), 0);
	assert_int_equal(sim_get(w, e, TH_COMP_COUNT, &out), 0);
	assert_int_equal(out, 42);
	sim_world_destroy(&w);
}

static void changes_during_iteration_are_deferred_to_flush(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	struct sim_query *q;
	assert_int_equal(sim_query_create(w, &(struct sim_query_desc){ .with = SIM_BIT(TH_COMP_TRANSFORM) }, &q), 0);
	for (int i = 0; i < 100; i++) {
		sim_entity e;
		struct th_c_transform t = tf((float)i);
		assert_int_equal(sim_spawn(w, &e), 0);
		assert_int_equal(sim_add(w, e, TH_COMP_TRANSFORM, &t), 0);
	}
	struct sim_iter it;
	unsigned visited = 0;
	sim_entity spawned = 0;
	sim_iter_init(&it, w, q);
	while (sim_iter_next(&it)) {
		for (uint32_t i = 0; i < it.count; i++, visited++) {
			sim_entity e = it.entities[i];
			if (i % 2 == 0)
				assert_int_equal(sim_despawn(w, e), 1);
			else
				assert_int_equal(sim_add(w, e, TH_COMP_VELOCITY, NULL), 1);
			/* Nothing moved under the iterator. */
			assert_true(sim_alive(w, e));
		}
		assert_int_equal(sim_spawn(w, &spawned), 1);
	}
	assert_int_equal(visited, 100);
	assert_true(sim_alive(w, spawned));
	assert_false(sim_has(w, spawned, TH_COMP_TRANSFORM));
	assert_int_equal(sim_query_count(q), 100);
	assert_int_equal(sim_world_flush(w), 50 + 50 + 1);
	assert_int_equal(sim_query_count(q), 50);
	assert_int_equal(sim_entity_count(w), 51);
	/* Despawn of an entity already gone at apply time is dropped. */
	sim_entity e;
	assert_int_equal(sim_spawn(w, &e), 0);
	sim_iter_init(&it, w, q);
	assert_int_equal(sim_despawn(w, e), 1);
	assert_int_equal(sim_despawn(w, e), 1);
	assert_int_equal(sim_world_flush(w), -EBUSY);
	sim_iter_end(&it);
	assert_int_equal(sim_world_flush(w), 1);
	assert_int_equal(sim_world_dropped_commands(w), 1);
	sim_world_destroy(&w);
}

static void removal_log_records_despawns_and_removes(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(NULL, &w), 0);
	sim_entity a, b;
	assert_int_equal(sim_spawn(w, &a), 0);
	assert_int_equal(sim_spawn(w, &b), 0);
	assert_int_equal(sim_add(w, a, TH_COMP_SELECTION, NULL), 0);
	sim_world_advance(w); /* tick 2 */
	assert_int_equal(sim_remove(w, a, TH_COMP_SELECTION), 0);
	sim_world_advance(w); /* tick 3 */
	assert_int_equal(sim_despawn(w, b), 0);
	size_t n;
	const struct sim_removal *r = sim_world_removed_since(w, 1, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].entity, a);
	assert_int_equal(r[0].comp, TH_COMP_SELECTION);
	assert_int_equal(r[0].tick, 2);
	assert_int_equal(r[1].entity, b);
	assert_int_equal(r[1].comp, SIM_COMP_NONE);
	r = sim_world_removed_since(w, 2, &n);
	assert_int_equal(n, 1);
	sim_world_trim_removed(w, 2);
	r = sim_world_removed_since(w, 0, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].entity, b);
	assert_false(sim_world_removed_overflow(w));
	sim_world_destroy(&w);
}

static void entity_limit_is_enforced(void **state)
{
	struct sim_world *w;
	assert_int_equal(sim_world_create(&(struct sim_world_config){ .max_entities = 5 }, &w), 0);
	sim_entity e[6];
	for (int i = 0; i < 5; i++)
		assert_int_equal(sim_spawn(w, &e[i]), 0);
	assert_int_equal(sim_spawn(w, &e[5]), -ENOSPC);
	assert_int_equal(sim_despawn(w, e[2]), 0);
	assert_int_equal(sim_spawn(w, &e[5]), 0);
	sim_world_destroy(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn_get_despawn_round_trip),
		cmocka_unit_test(stale_handle_is_an_error_not_the_new_entity),
		cmocka_unit_test(generation_wrap_retires_the_slot),
		cmocka_unit_test(add_remove_moves_between_tables_keeping_values),
		cmocka_unit_test(local_component_registration),
		cmocka_unit_test(changes_during_iteration_are_deferred_to_flush),
		cmocka_unit_test(removal_log_records_despawns_and_removes),
		cmocka_unit_test(entity_limit_is_enforced),
	};
	return cmocka_run_group_tests_name("sim_world", tests, NULL, NULL);
}
