/* Entities, components and archetype tables (see world.h, docs/ecs.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"
#include "th_hash.h"

_Thread_local struct sim_exec *sim_tls_exec;

#define TABLE_MIN_CAP 64u

/* ---- components ---------------------------------------------------------- */

static void comp_from_record(struct sim_comp_info *c, unsigned idx)
{
	const struct th_schema_record *r = th_component_record(idx);
	c->id = th_component_id(idx);
	snprintf(c->name, sizeof c->name, "%s", r->name);
	c->size = r->c_size;
	c->nfields = r->nfields;
	for (uint32_t i = 0; i < r->nfields; i++) {
		c->fields[i].offset = r->fields[i].offset;
		c->fields[i].size = (uint16_t)(th_ftype_size(r->fields[i].type) * r->fields[i].count);
	}
}

int sim_component_register(struct sim_world *w, const char *name, size_t size, size_t align,
			   unsigned *out_comp)
{
	if (!name || !*name || strlen(name) >= SIM_COMPONENT_NAME_MAX || size == 0 ||
	    size > TH_SCHEMA_MAX_VALUE_SIZE || (align && (align & (align - 1))))
		return -EINVAL;
	if (w->in_stage)
		return -EBUSY;
	uint64_t id = th_siphash_str(name);
	for (unsigned i = 0; i < w->ncomps; i++)
		if (w->comps[i].id == id || strcmp(w->comps[i].name, name) == 0)
			return -EEXIST;
	if (w->ncomps >= SIM_MAX_COMPONENTS)
		return -ENOSPC;
	struct sim_comp_info *c = &w->comps[w->ncomps];
	memset(c, 0, sizeof *c);
	c->id = id;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->size = (uint32_t)size;
	c->nfields = 1;
	c->fields[0] = (struct sim_field_info){ .offset = 0, .size = (uint16_t)size };
	*out_comp = w->ncomps++;
	return 0;
}

unsigned sim_component_count(const struct sim_world *w) { return w->ncomps; }

uint64_t sim_component_id(const struct sim_world *w, unsigned comp)
{
	return comp < w->ncomps ? w->comps[comp].id : 0;
}

const char *sim_component_name(const struct sim_world *w, unsigned comp)
{
	return comp < w->ncomps ? w->comps[comp].name : NULL;
}

size_t sim_component_size(const struct sim_world *w, unsigned comp)
{
	return comp < w->ncomps ? w->comps[comp].size : 0;
}

int sim_component_find(const struct sim_world *w, uint64_t id)
{
	for (unsigned i = 0; i < w->ncomps; i++)
		if (w->comps[i].id == id)
			return (int)i;
	return -ENOENT;
}

int sim_field_index(const struct sim_world *w, unsigned comp, unsigned offset)
{
	const struct sim_comp_info *c = &w->comps[comp];
	for (uint32_t i = 0; i < c->nfields; i++)
		if (c->fields[i].offset == offset)
			return (int)i;
	return -1;
}

/* ---- tables -------------------------------------------------------------- */

static void table_free(struct sim_world *w, struct sim_table *t)
{
	if (!t)
		return;
	for (unsigned c = 0; c < t->ncols; c++) {
		struct sim_column *col = &t->cols[c];
		if (col->fields)
			for (uint32_t f = 0; f < w->comps[col->comp].nfields; f++)
				free(col->fields[f]);
		free(col->fields);
		free(col->ticks);
	}
	free(t->cols);
	free(t->entities);
	free(t);
}


static int table_create(struct sim_world *w, uint64_t mask, uint32_t *out)
{
	if (w->ntables >= SIM_MAX_TABLES)
		return -ENOSPC;
	if (w->ntables == w->tables_cap) {
		uint32_t cap = w->tables_cap ? w->tables_cap * 2 : 16;
		struct sim_table **n = realloc(w->tables, cap * sizeof *n);
		if (!n)
			return -ENOMEM;
		w->tables = n;
		w->tables_cap = cap;
	}
	for (unsigned q = 0; q < w->nqueries; q++)
		if (query_reserve(w->queries[q]) < 0)
			return -ENOMEM;
	struct sim_table *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->mask = mask;
	t->ncols = (unsigned)__builtin_popcountll(mask);
	t->cols = calloc(t->ncols ? t->ncols : 1, sizeof *t->cols);
	if (!t->cols)
		goto oom;
	memset(t->col_of, -1, sizeof t->col_of);
	for (unsigned c = 0; c < SIM_MAX_COMPONENTS; c++)
		t->edge_add[c] = t->edge_remove[c] = SIM_NO_EDGE;
	unsigned ci = 0;
	for (unsigned c = 0; c < w->ncomps; c++) {
		if (!(mask & SIM_BIT(c)))
			continue;
		t->col_of[c] = (int8_t)ci;
		t->cols[ci].comp = c;
		t->cols[ci].fields = calloc(w->comps[c].nfields, sizeof(uint8_t *));
		if (!t->cols[ci].fields)
			goto oom;
		ci++;
	}
	uint32_t idx = w->ntables++;
	w->tables[idx] = t;
	for (unsigned q = 0; q < w->nqueries; q++)
		query_offer(w->queries[q], idx, mask);
	*out = idx;
	return 0;
oom:
	table_free(w, t);
	return -ENOMEM;
}

static int table_find(struct sim_world *w, uint64_t mask, uint32_t *out)
{
	for (uint32_t i = 0; i < w->ntables; i++)
		if (w->tables[i]->mask == mask) {
			*out = i;
			return 0;
		}
	return table_create(w, mask, out);
}

static int table_edge(struct sim_world *w, uint32_t from, unsigned comp, bool add, uint32_t *out)
{
	struct sim_table *t = w->tables[from];
	uint32_t *edge = add ? &t->edge_add[comp] : &t->edge_remove[comp];
	if (*edge == SIM_NO_EDGE) {
		uint64_t mask = add ? t->mask | SIM_BIT(comp) : t->mask & ~SIM_BIT(comp);
		uint32_t to;
		int r = table_find(w, mask, &to);
		if (r < 0)
			return r;
		/* table_find may have grown w->tables; t itself does not move. */
		*edge = to;
	}
	*out = *edge;
	return 0;
}

static int table_reserve(struct sim_world *w, struct sim_table *t, uint32_t need)
{
	if (need <= t->cap)
		return 0;
	uint32_t cap = t->cap ? t->cap : TABLE_MIN_CAP;
	while (cap < need)
		cap *= 2;
	sim_entity *e = realloc(t->entities, (size_t)cap * sizeof *e);
	if (!e)
		return -ENOMEM;
	t->entities = e;
	for (unsigned c = 0; c < t->ncols; c++) {
		struct sim_column *col = &t->cols[c];
		const struct sim_comp_info *ci = &w->comps[col->comp];
		uint32_t *ticks = realloc(col->ticks, (size_t)cap * sizeof *ticks);
		if (!ticks)
			return -ENOMEM;
		col->ticks = ticks;
		for (uint32_t f = 0; f < ci->nfields; f++) {
			uint8_t *d = realloc(col->fields[f], (size_t)cap * ci->fields[f].size);
			if (!d)
				return -ENOMEM;
			col->fields[f] = d;
		}
	}
	t->cap = cap;
	return 0;
}

/* Appends a row (field data left for the caller). A column's bulk tick is
 * folded into its row ticks first so the new row does not inherit it. */
static int table_push(struct sim_world *w, struct sim_table *t, sim_entity e, uint32_t *row)
{
	int r = table_reserve(w, t, t->count + 1);
	if (r < 0)
		return r;
	for (unsigned c = 0; c < t->ncols; c++) {
		struct sim_column *col = &t->cols[c];
		if (!col->bulk_tick)
			continue;
		for (uint32_t i = 0; i < t->count; i++)
			col->ticks[i] = sim_column_tick(col, i);
		col->bulk_tick = 0;
	}
	*row = t->count++;
	t->entities[*row] = e;
	return 0;
}

static void column_write(const struct sim_world *w, struct sim_column *col, uint32_t row, const void *value)
{
	const struct sim_comp_info *ci = &w->comps[col->comp];
	for (uint32_t f = 0; f < ci->nfields; f++) {
		uint8_t *dst = col->fields[f] + (size_t)row * ci->fields[f].size;
		if (value)
			memcpy(dst, (const uint8_t *)value + ci->fields[f].offset, ci->fields[f].size);
		else
			memset(dst, 0, ci->fields[f].size);
	}
	col->ticks[row] = w->tick;
}

static void column_read(const struct sim_world *w, const struct sim_column *col, uint32_t row, void *out)
{
	const struct sim_comp_info *ci = &w->comps[col->comp];
	memset(out, 0, ci->size); /* padding */
	for (uint32_t f = 0; f < ci->nfields; f++)
		memcpy((uint8_t *)out + ci->fields[f].offset,
		       col->fields[f] + (size_t)row * ci->fields[f].size, ci->fields[f].size);
}

static void column_copy_row(const struct sim_world *w, struct sim_column *dst, uint32_t drow,
			    const struct sim_column *src, uint32_t srow)
{
	const struct sim_comp_info *ci = &w->comps[src->comp];
	for (uint32_t f = 0; f < ci->nfields; f++) {
		size_t sz = ci->fields[f].size;
		memcpy(dst->fields[f] + (size_t)drow * sz, src->fields[f] + (size_t)srow * sz, sz);
	}
	dst->ticks[drow] = sim_column_tick(src, srow);
}

/* Removes row by moving the last row into it. */
static void table_swap_remove(struct sim_world *w, struct sim_table *t, uint32_t row)
{
	uint32_t last = t->count - 1;
	if (row != last) {
		for (unsigned c = 0; c < t->ncols; c++) {
			struct sim_column *col = &t->cols[c];
			const struct sim_comp_info *ci = &w->comps[col->comp];
			for (uint32_t f = 0; f < ci->nfields; f++) {
				size_t sz = ci->fields[f].size;
				memcpy(col->fields[f] + (size_t)row * sz, col->fields[f] + (size_t)last * sz, sz);
			}
			col->ticks[row] = col->ticks[last];
		}
		sim_entity moved = t->entities[last];
		t->entities[row] = moved;
		sim_slot_at(w, sim_entity_slot(moved))->row = row;
	}
	t->count--;
}

/* Moves a materialised entity to table `to`, keeping shared columns. The
 * new columns' data is left for the caller (row returned). */
static int entity_move(struct sim_world *w, struct sim_slot *s, sim_entity e, uint32_t to, uint32_t *out_row)
{
	struct sim_table *src = w->tables[s->table];
	struct sim_table *dst = w->tables[to];
	uint32_t row;
	int r = table_push(w, dst, e, &row);
	if (r < 0)
		return r;
	for (unsigned c = 0; c < dst->ncols; c++) {
		struct sim_column *dc = &dst->cols[c];
		int sc = src->col_of[dc->comp];
		if (sc >= 0)
			column_copy_row(w, dc, row, &src->cols[sc], s->row);
	}
	table_swap_remove(w, src, s->row);
	s->table = to;
	s->row = row;
	*out_row = row;
	return 0;
}

/* ---- removal log --------------------------------------------------------- */

static void log_removal(struct sim_world *w, sim_entity e, unsigned comp)
{
	if (w->nremoved == w->removed_cap) {
		if (w->removed_cap >= SIM_REMOVED_LOG_MAX) {
			w->removed_overflow = true;
			return;
		}
		size_t cap = w->removed_cap ? w->removed_cap * 2 : 256;
		struct sim_removal *n = realloc(w->removed, cap * sizeof *n);
		if (!n) {
			w->removed_overflow = true;
			return;
		}
		w->removed = n;
		w->removed_cap = cap;
	}
	w->removed[w->nremoved++] = (struct sim_removal){ .entity = e, .tick = w->tick, .comp = (uint16_t)comp };
}

const struct sim_removal *sim_world_removed_since(const struct sim_world *w, uint32_t since, size_t *n)
{
	/* Records are appended in tick order: binary search the first newer. */
	size_t lo = 0, hi = w->nremoved;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sim_tick_after(w->removed[mid].tick, since))
			hi = mid;
		else
			lo = mid + 1;
	}
	*n = w->nremoved - lo;
	return w->removed + lo;
}

void sim_world_trim_removed(struct sim_world *w, uint32_t upto)
{
	size_t n;
	const struct sim_removal *keep = sim_world_removed_since(w, upto, &n);
	if (n) /* memmove's pointers must be valid even for 0 bytes */
		memmove(w->removed, keep, n * sizeof *keep);
	w->nremoved = n;
	w->removed_overflow = false;
}

bool sim_world_removed_overflow(const struct sim_world *w) { return w->removed_overflow; }

/* ---- world --------------------------------------------------------------- */

int sim_world_create(const struct sim_world_config *cfg, struct sim_world **out)
{
	struct sim_world *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	if (cfg)
		w->cfg = *cfg;
	if (!w->cfg.max_generation)
		w->cfg.max_generation = UINT32_MAX;
	if (!w->cfg.max_entities || w->cfg.max_entities > SIM_MAX_ENTITIES)
		w->cfg.max_entities = SIM_MAX_ENTITIES;
	w->free_head = SIM_FREE_END;
	w->tick = 1;
	pthread_mutex_init(&w->lock, NULL);
	_Static_assert(TH_COMP_COUNT <= SIM_MAX_COMPONENTS, "too many schema components");
	for (unsigned i = 0; i < TH_COMP_COUNT; i++)
		comp_from_record(&w->comps[i], i);
	w->ncomps = TH_COMP_COUNT;
	uint32_t empty;
	int r = table_create(w, 0, &empty);
	if (r < 0) {
		sim_world_destroy(&w);
		return r;
	}
	*out = w;
	return 0;
}

void sim_world_destroy(struct sim_world **p)
{
	struct sim_world *w = p ? *p : NULL;
	if (!w)
		return;
	for (uint32_t i = 0; i < w->ntables; i++)
		table_free(w, w->tables[i]);
	free(w->tables);
	for (unsigned q = 0; q < w->nqueries; q++) {
		free(w->queries[q]->tables);
		free(w->queries[q]);
	}
	for (unsigned i = 0; i < SIM_SLOT_PAGES; i++)
		free(w->pages[i]);
	sim_cmdbuf_fini(&w->cmd);
	free(w->removed);
	pthread_mutex_destroy(&w->lock);
	free(w);
	*p = NULL;
}

uint32_t sim_world_tick(const struct sim_world *w) { return w->tick; }

void sim_world_advance(struct sim_world *w)
{
	if (++w->tick == 0) /* 0 means "never" in bulk ticks */
		w->tick = 1;
}

uint32_t sim_entity_count(const struct sim_world *w) { return w->alive; }
uint32_t sim_retired_slots(const struct sim_world *w) { return w->retired; }
uint64_t sim_world_dropped_commands(const struct sim_world *w) { return w->dropped; }
uint64_t sim_world_violations(const struct sim_world *w) { return atomic_load(&w->violations); }

/* Takes a slot off the free list (or a fresh one) and marks it pending.
 * Callers serialise (w->lock while a stage runs). */
int sim_reserve_slot(struct sim_world *w, sim_entity *out)
{
	uint32_t idx;
	struct sim_slot *s;
	if (w->free_head != SIM_FREE_END) {
		idx = w->free_head;
		s = sim_slot_at(w, idx);
		w->free_head = s->next_free;
	} else {
		idx = atomic_load_explicit(&w->nslots, memory_order_relaxed);
		if (idx >= w->cfg.max_entities)
			return -ENOSPC;
		uint32_t page = idx >> SIM_SLOT_PAGE_SHIFT;
		if (!w->pages[page]) {
			w->pages[page] = calloc(SIM_SLOT_PAGE, sizeof(struct sim_slot));
			if (!w->pages[page])
				return -ENOMEM;
		}
		s = sim_slot_at(w, idx);
		s->gen = 1;
		s->table = SIM_TABLE_PENDING;
		/* Publishes the page and the slot to lookups on other threads. */
		atomic_store_explicit(&w->nslots, idx + 1, memory_order_release);
	}
	s->table = SIM_TABLE_PENDING;
	s->row = 0;
	s->next_free = SIM_FREE_END;
	w->alive++;
	*out = (sim_entity)s->gen << 32 | idx;
	return 0;
}

static void release_slot(struct sim_world *w, sim_entity e)
{
	uint32_t idx = sim_entity_slot(e);
	struct sim_slot *s = sim_slot_at(w, idx);
	s->table = SIM_TABLE_FREE;
	w->alive--;
	if (s->gen >= w->cfg.max_generation) {
		/* Retire: never reused, so no old handle can alias a new entity. */
		s->gen = 0;
		w->retired++;
		return;
	}
	s->gen++;
	s->next_free = w->free_head;
	w->free_head = idx;
}

/* Materialises a pending entity in the table of its components. */
int sim_place(struct sim_world *w, sim_entity e, unsigned n, const unsigned *comps, const void *const *values)
{
	struct sim_slot *s = sim_slot_of(w, e);
	if (!s || s->table != SIM_TABLE_PENDING)
		return -ESTALE;
	uint64_t mask = 0;
	for (unsigned i = 0; i < n; i++) {
		if (comps[i] >= w->ncomps)
			return -EINVAL;
		mask |= SIM_BIT(comps[i]);
	}
	uint32_t tidx, row;
	int r = table_find(w, mask, &tidx);
	if (r < 0)
		return r;
	struct sim_table *t = w->tables[tidx];
	r = table_push(w, t, e, &row);
	if (r < 0)
		return r;
	/* Zero first: a component listed twice keeps its last value. */
	for (unsigned c = 0; c < t->ncols; c++)
		column_write(w, &t->cols[c], row, NULL);
	for (unsigned i = 0; i < n; i++)
		if (values && values[i])
			column_write(w, &t->cols[t->col_of[comps[i]]], row, values[i]);
	s->table = tidx;
	s->row = row;
	return 0;
}

int sim_do_despawn(struct sim_world *w, sim_entity e)
{
	struct sim_slot *s = sim_slot_of(w, e);
	if (!s)
		return -ESTALE;
	if (s->table != SIM_TABLE_PENDING)
		table_swap_remove(w, w->tables[s->table], s->row);
	log_removal(w, e, SIM_COMP_NONE);
	release_slot(w, e);
	return 0;
}

int sim_do_add(struct sim_world *w, sim_entity e, unsigned comp, const void *value)
{
	struct sim_slot *s = sim_slot_of(w, e);
	if (!s)
		return -ESTALE;
	if (comp >= w->ncomps)
		return -EINVAL;
	if (s->table == SIM_TABLE_PENDING) {
		int r = sim_place(w, e, 0, NULL, NULL);
		if (r < 0)
			return r;
	}
	struct sim_table *t = w->tables[s->table];
	int col = t->col_of[comp];
	if (col >= 0) {
		column_write(w, &t->cols[col], s->row, value);
		return 0;
	}
	uint32_t to, row;
	int r = table_edge(w, s->table, comp, true, &to);
	if (r < 0)
		return r;
	/* value may point into a table column that the move reallocates. */
	if (value) {
		memcpy(w->scratch, value, w->comps[comp].size);
		value = w->scratch;
	}
	r = entity_move(w, s, e, to, &row);
	if (r < 0)
		return r;
	t = w->tables[to];
	column_write(w, &t->cols[t->col_of[comp]], row, value);
	return 0;
}

int sim_do_remove(struct sim_world *w, sim_entity e, unsigned comp)
{
	struct sim_slot *s = sim_slot_of(w, e);
	if (!s)
		return -ESTALE;
	if (comp >= w->ncomps)
		return -EINVAL;
	if (s->table == SIM_TABLE_PENDING || w->tables[s->table]->col_of[comp] < 0)
		return -ENOENT;
	uint32_t to, row;
	int r = table_edge(w, s->table, comp, false, &to);
	if (r < 0)
		return r;
	r = entity_move(w, s, e, to, &row);
	if (r < 0)
		return r;
	log_removal(w, e, comp);
	return 0;
}

/* ---- public structural API ----------------------------------------------- */

int sim_spawn(struct sim_world *w, sim_entity *out)
{
	return sim_spawn_with(w, 0, NULL, NULL, out);
}

int sim_spawn_with(struct sim_world *w, unsigned n, const unsigned *comps, const void *const *values,
		   sim_entity *out)
{
	if (n > SIM_MAX_COMPONENTS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (comps[i] >= w->ncomps)
			return -EINVAL;
		sim_access_check(w, comps[i], true);
	}
	if (sim_world_locked(w))
		return sim_defer_spawn(w, n, comps, values, out);
	sim_entity e;
	int r = sim_reserve_slot(w, &e);
	if (r < 0)
		return r;
	r = sim_place(w, e, n, comps, values);
	if (r < 0) {
		release_slot(w, e);
		return r;
	}
	*out = e;
	return 0;
}

int sim_despawn(struct sim_world *w, sim_entity e)
{
	if (!sim_slot_of(w, e))
		return -ESTALE;
	if (sim_world_locked(w))
		return sim_defer_despawn(w, e);
	return sim_do_despawn(w, e);
}

int sim_add(struct sim_world *w, sim_entity e, unsigned comp, const void *value)
{
	if (comp >= w->ncomps)
		return -EINVAL;
	if (!sim_slot_of(w, e))
		return -ESTALE;
	sim_access_check(w, comp, true);
	if (sim_world_locked(w))
		return sim_defer_add(w, e, comp, value);
	return sim_do_add(w, e, comp, value);
}

int sim_remove(struct sim_world *w, sim_entity e, unsigned comp)
{
	if (comp >= w->ncomps)
		return -EINVAL;
	struct sim_slot *s = sim_slot_of(w, e);
	if (!s)
		return -ESTALE;
	sim_access_check(w, comp, true);
	if (sim_world_locked(w))
		return sim_defer_remove(w, e, comp);
	return sim_do_remove(w, e, comp);
}

bool sim_alive(const struct sim_world *w, sim_entity e) { return sim_slot_of(w, e) != NULL; }

static struct sim_column *column_of(const struct sim_world *w, sim_entity e, unsigned comp, uint32_t *row, int *err)
{
	const struct sim_slot *s = sim_slot_of(w, e);
	if (!s) {
		*err = -ESTALE;
		return NULL;
	}
	if (comp >= w->ncomps) {
		*err = -EINVAL;
		return NULL;
	}
	if (s->table == SIM_TABLE_PENDING || w->tables[s->table]->col_of[comp] < 0) {
		*err = -ENOENT;
		return NULL;
	}
	struct sim_table *t = w->tables[s->table];
	*row = s->row;
	return &t->cols[t->col_of[comp]];
}

bool sim_has(const struct sim_world *w, sim_entity e, unsigned comp)
{
	uint32_t row;
	int err;
	if (comp < w->ncomps)
		sim_access_check(w, comp, false);
	return column_of(w, e, comp, &row, &err) != NULL;
}

int sim_get(const struct sim_world *w, sim_entity e, unsigned comp, void *out)
{
	uint32_t row;
	int err;
	struct sim_column *col = column_of(w, e, comp, &row, &err);
	if (!col)
		return err;
	sim_access_check(w, comp, false);
	column_read(w, col, row, out);
	return 0;
}

int sim_set(struct sim_world *w, sim_entity e, unsigned comp, const void *value)
{
	uint32_t row;
	int err;
	struct sim_column *col = column_of(w, e, comp, &row, &err);
	if (!col)
		return err;
	sim_access_check(w, comp, true);
	column_write(w, col, row, value);
	return 0;
}

uint32_t sim_changed_tick(const struct sim_world *w, sim_entity e, unsigned comp)
{
	uint32_t row;
	int err;
	struct sim_column *col = column_of(w, e, comp, &row, &err);
	return col ? sim_column_tick(col, row) : 0;
}
