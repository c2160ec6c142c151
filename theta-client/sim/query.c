/* Queries, iterators, change ticks and access checks (see query.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

int query_reserve(struct sim_query *q)
{
	if (q->ntables < q->cap)
		return 0;
	uint32_t cap = q->cap ? q->cap * 2 : 8;
	uint32_t *n = realloc(q->tables, cap * sizeof *n);
	if (!n)
		return -ENOMEM;
	q->tables = n;
	q->cap = cap;
	return 0;
}

void query_offer(struct sim_query *q, uint32_t tidx, uint64_t mask)
{
	if ((mask & q->with) == q->with && !(mask & q->without))
		q->tables[q->ntables++] = tidx; /* room made by query_reserve */
}

int sim_query_create(struct sim_world *w, const struct sim_query_desc *d, struct sim_query **out)
{
	if (w->in_stage)
		return -EBUSY;
	if (w->nqueries >= SIM_MAX_QUERIES)
		return -ENOSPC;
	if (d->with & d->without)
		return -EINVAL;
	struct sim_query *q = calloc(1, sizeof *q);
	if (!q)
		return -ENOMEM;
	q->w = w;
	q->with = d->with;
	q->without = d->without;
	for (uint32_t i = 0; i < w->ntables; i++) {
		if (query_reserve(q) < 0) {
			free(q->tables);
			free(q);
			return -ENOMEM;
		}
		query_offer(q, i, w->tables[i]->mask);
	}
	w->queries[w->nqueries++] = q;
	*out = q;
	return 0;
}

uint32_t sim_query_count(const struct sim_query *q)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < q->ntables; i++)
		n += q->w->tables[q->tables[i]]->count;
	return n;
}

void sim_iter_init(struct sim_iter *it, struct sim_world *w, const struct sim_query *q)
{
	*it = (struct sim_iter){ .w = w, .q = q, .exec = sim_tls_exec };
	if (it->exec && it->exec->w != w)
		it->exec = NULL;
	if (!w->in_stage) {
		w->iter_depth++;
		it->locked = true;
	}
}

void sim_iter_end(struct sim_iter *it)
{
	if (it->locked) {
		it->w->iter_depth--;
		it->locked = false;
	}
	it->table = NULL;
	it->count = 0;
	it->entities = NULL;
	it->pos = it->q ? it->q->ntables : 0;
}

bool sim_iter_next(struct sim_iter *it)
{
	const struct sim_query *q = it->q;
	while (q && it->pos < q->ntables) {
		struct sim_table *t = it->w->tables[q->tables[it->pos++]];
		if (t->count == 0)
			continue;
		it->table = t;
		it->count = t->count;
		it->entities = t->entities;
		return true;
	}
	sim_iter_end(it);
	return false;
}

void sim_access_violation(struct sim_exec *x, unsigned comp, bool write)
{
	atomic_fetch_add_explicit(&x->violations, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&x->w->violations, 1, memory_order_relaxed);
	int none = -1;
	if (atomic_compare_exchange_strong(&x->first_comp, &none, (int)comp))
		atomic_store(&x->first_write, write);
}

static struct sim_column *iter_column(const struct sim_iter *it, unsigned comp)
{
	if (!it->table || comp >= SIM_MAX_COMPONENTS)
		return NULL;
	int c = it->table->col_of[comp];
	return c < 0 ? NULL : &it->table->cols[c];
}

static void *iter_field(struct sim_iter *it, unsigned comp, unsigned field, bool write)
{
	struct sim_column *col = iter_column(it, comp);
	if (!col)
		return NULL;
	if (it->exec) {
		uint64_t bit = SIM_BIT(comp);
		if (write ? !(it->exec->writes & bit) : !((it->exec->reads | it->exec->writes) & bit))
			sim_access_violation(it->exec, comp, write);
	}
	int f = sim_field_index(it->w, comp, field);
	return f < 0 ? NULL : col->fields[f];
}

const void *sim_iter_field(struct sim_iter *it, unsigned comp, unsigned field)
{
	return iter_field(it, comp, field, false);
}

void *sim_iter_field_mut(struct sim_iter *it, unsigned comp, unsigned field)
{
	void *p = iter_field(it, comp, field, true);
	if (p)
		iter_column(it, comp)->bulk_tick = it->w->tick;
	return p;
}

void *sim_iter_field_mut_untracked(struct sim_iter *it, unsigned comp, unsigned field)
{
	return iter_field(it, comp, field, true);
}

void sim_iter_mark_changed(struct sim_iter *it, unsigned comp, uint32_t row)
{
	struct sim_column *col = iter_column(it, comp);
	if (col && row < it->count)
		col->ticks[row] = it->w->tick;
}

bool sim_iter_changed(const struct sim_iter *it, unsigned comp, uint32_t row, uint32_t since)
{
	const struct sim_column *col = iter_column(it, comp);
	return col && row < it->count && sim_tick_after(sim_column_tick(col, row), since);
}

bool sim_iter_table_changed(const struct sim_iter *it, unsigned comp, uint32_t since)
{
	const struct sim_column *col = iter_column(it, comp);
	if (!col)
		return false;
	if (col->bulk_tick && sim_tick_after(col->bulk_tick, since))
		return true;
	for (uint32_t i = 0; i < it->count; i++)
		if (sim_tick_after(col->ticks[i], since))
			return true;
	return false;
}

int sim_iter_get(struct sim_iter *it, unsigned comp, uint32_t row, void *out)
{
	struct sim_column *col = iter_column(it, comp);
	if (!col || row >= it->count)
		return -ENOENT;
	if (it->exec) {
		uint64_t bit = SIM_BIT(comp);
		if (!((it->exec->reads | it->exec->writes) & bit))
			sim_access_violation(it->exec, comp, false);
	}
	const struct sim_comp_info *ci = &it->w->comps[comp];
	uint8_t *o = out;
	for (uint32_t f = 0; f < ci->nfields; f++)
		memcpy(o + ci->fields[f].offset, col->fields[f] + (size_t)row * ci->fields[f].size, ci->fields[f].size);
	return 0;
}
