/* Queries: the set of archetype tables holding every `with` component and
 * no `without` component, kept up to date as tables appear. An iterator
 * walks the tables and hands out dense field arrays:
 *
 *	struct sim_iter it;
 *	sim_iter_init(&it, w, q);
 *	while (sim_iter_next(&it)) {
 *		const float (*v)[3] = sim_iter_field(&it, TH_COMP_VELOCITY, TH_F(velocity, linear));
 *		float (*p)[3] = sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
 *		for (uint32_t i = 0; i < it.count; i++) ...
 *	}
 *
 * Leaving the loop early requires sim_iter_end(). While an iterator is open
 * (outside a stage), structural changes are deferred. Inside a system every
 * field access is checked against the system's declared reads and writes. */
#pragma once
#include "sim/world.h"

struct sim_query;
struct sim_table;
struct sim_exec;

struct sim_query_desc {
	uint64_t with;    /* SIM_BIT(comp) | ... */
	uint64_t without;
};

/* Queries belong to the world (destroyed with it). Create them at start-up,
 * outside stages. -ENOSPC past SIM_MAX_QUERIES. */
int sim_query_create(struct sim_world *w, const struct sim_query_desc *d, struct sim_query **out);
/* Entities currently matched. */
uint32_t sim_query_count(const struct sim_query *q);

struct sim_iter {
	/* Current table: count rows, entities[count]. */
	uint32_t count;
	const sim_entity *entities;
	/* private */
	struct sim_world *w;
	const struct sim_query *q;
	struct sim_table *table;
	struct sim_exec *exec;
	uint32_t pos;
	bool locked;
};

void sim_iter_init(struct sim_iter *it, struct sim_world *w, const struct sim_query *q);
/* Advances to the next non-empty table; false at the end (iterator closed). */
bool sim_iter_next(struct sim_iter *it);
void sim_iter_end(struct sim_iter *it);

/* Dense array of one field (TH_F(cname, field), or 0 for a registered local
 * component) for the current table's rows; NULL if the query's tables lack
 * the component or the field does not exist. _mut marks every row of the
 * table changed at the current tick (O(1)); _untracked leaves ticks alone,
 * for systems that mark the rows they touch with sim_iter_mark_changed. */
const void *sim_iter_field(struct sim_iter *it, unsigned comp, unsigned field);
void *sim_iter_field_mut(struct sim_iter *it, unsigned comp, unsigned field);
void *sim_iter_field_mut_untracked(struct sim_iter *it, unsigned comp, unsigned field);
void sim_iter_mark_changed(struct sim_iter *it, unsigned comp, uint32_t row);
/* Whether the row's component changed after `since`; table variant is a
 * quick test that any row in the current table may have. */
bool sim_iter_changed(const struct sim_iter *it, unsigned comp, uint32_t row, uint32_t since);
bool sim_iter_table_changed(const struct sim_iter *it, unsigned comp, uint32_t since);
/* Copies row's full component value out as its C struct (gather). */
int sim_iter_get(struct sim_iter *it, unsigned comp, uint32_t row, void *out);
