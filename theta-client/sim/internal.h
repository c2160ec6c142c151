/* Private to theta-client/sim/: the world's data structures. */
#pragma once
#include <pthread.h>
#include <stdatomic.h>

#include "sim/query.h"
#include "sim/world.h"

#define SIM_SLOT_PAGE_SHIFT 12
#define SIM_SLOT_PAGE (1u << SIM_SLOT_PAGE_SHIFT)
#define SIM_SLOT_PAGES (SIM_MAX_ENTITIES / SIM_SLOT_PAGE)
#define SIM_TABLE_FREE 0xffffffffu    /* slot not in use */
#define SIM_TABLE_PENDING 0xfffffffeu /* reserved by a deferred spawn */
#define SIM_NO_EDGE 0xffffffffu
#define SIM_FREE_END 0xffffffffu

struct sim_slot {
	uint32_t gen;
	uint32_t table; /* table index, SIM_TABLE_FREE or SIM_TABLE_PENDING */
	uint32_t row;
	uint32_t next_free;
};

struct sim_field_info {
	uint16_t offset; /* in the C struct */
	uint16_t size;   /* bytes per row */
};

struct sim_comp_info {
	uint64_t id;
	char name[SIM_COMPONENT_NAME_MAX];
	uint32_t size;
	uint32_t nfields;
	struct sim_field_info fields[TH_SCHEMA_MAX_FIELDS];
};

struct sim_column {
	unsigned comp;
	uint8_t **fields;  /* nfields arrays of field size * cap bytes */
	uint32_t *ticks;   /* per-row change tick */
	uint32_t bulk_tick; /* every row changed at this tick (0: none) */
};

struct sim_table {
	uint64_t mask;
	uint32_t count, cap;
	sim_entity *entities;
	unsigned ncols;
	struct sim_column *cols;
	int8_t col_of[SIM_MAX_COMPONENTS];
	uint32_t edge_add[SIM_MAX_COMPONENTS];
	uint32_t edge_remove[SIM_MAX_COMPONENTS];
};

struct sim_query {
	struct sim_world *w;
	uint64_t with, without;
	uint32_t *tables;
	uint32_t ntables, cap;
};

/* A growable buffer of deferred commands. */
struct sim_cmdbuf {
	uint8_t *data;
	size_t len, cap;
	bool oom;
};

/* Execution context of a system on some thread (set by the scheduler). */
struct sim_exec {
	struct sim_world *w;
	const char *name;
	uint64_t reads, writes;
	struct sim_cmdbuf cmd;
	_Atomic uint64_t violations;
	/* First violation since the scheduler last looked. */
	_Atomic int first_comp; /* -1: none */
	_Atomic bool first_write;
};

extern _Thread_local struct sim_exec *sim_tls_exec;

struct sim_world {
	struct sim_world_config cfg;
	/* entities */
	struct sim_slot *pages[SIM_SLOT_PAGES];
	/* Written under `lock` (release) when a page slot is first used; read
	 * without it (acquire) by lookups on pool threads. */
	_Atomic uint32_t nslots;
	uint32_t free_head;
	uint32_t alive;
	uint32_t retired;
	pthread_mutex_t lock; /* slot reservation and the main cmd buffer while locked */
	/* components */
	unsigned ncomps;
	struct sim_comp_info comps[SIM_MAX_COMPONENTS];
	/* tables; tables[0] is the empty archetype */
	struct sim_table **tables;
	uint32_t ntables, tables_cap;
	/* queries */
	struct sim_query *queries[SIM_MAX_QUERIES];
	unsigned nqueries;
	/* time and deferral */
	uint32_t tick;
	bool in_stage;        /* set by the scheduler */
	unsigned iter_depth;  /* open iterators outside stages */
	struct sim_cmdbuf cmd; /* deferred changes from outside systems */
	uint64_t dropped;
	_Atomic uint64_t violations;
	/* removal log */
	struct sim_removal *removed;
	size_t nremoved, removed_cap;
	bool removed_overflow;
	/* scratch for value moves */
	uint8_t scratch[TH_SCHEMA_MAX_VALUE_SIZE];
};

static inline struct sim_slot *sim_slot_at(const struct sim_world *w, uint32_t idx)
{
	return &w->pages[idx >> SIM_SLOT_PAGE_SHIFT][idx & (SIM_SLOT_PAGE - 1)];
}

/* The slot of a live (materialised or pending) entity, or NULL. */
static inline struct sim_slot *sim_slot_of(const struct sim_world *w, sim_entity e)
{
	uint32_t idx = sim_entity_slot(e);
	if (idx >= atomic_load_explicit(&w->nslots, memory_order_acquire))
		return NULL;
	struct sim_slot *s = sim_slot_at(w, idx);
	if (s->gen != sim_entity_gen(e) || s->table == SIM_TABLE_FREE)
		return NULL;
	return s;
}

static inline bool sim_world_locked(const struct sim_world *w)
{
	return w->in_stage || w->iter_depth > 0;
}

static inline uint32_t sim_column_tick(const struct sim_column *c, uint32_t row)
{
	uint32_t t = c->ticks[row];
	return (c->bulk_tick && sim_tick_after(c->bulk_tick, t)) ? c->bulk_tick : t;
}

/* Field index of a field offset in comp, or -1. */
int sim_field_index(const struct sim_world *w, unsigned comp, unsigned offset);

/* Records an access by the current system; false (and a counted violation)
 * when undeclared. No-op outside systems or for another world. */
void sim_access_violation(struct sim_exec *x, unsigned comp, bool write);
static inline void sim_access_check(const struct sim_world *w, unsigned comp, bool write)
{
	struct sim_exec *x = sim_tls_exec;
	if (!x || x->w != w)
		return;
	uint64_t bit = SIM_BIT(comp);
	if (write ? !(x->writes & bit) : !((x->reads | x->writes) & bit))
		sim_access_violation(x, comp, write);
}

/* Deferred commands (cmd.c). */
void sim_cmdbuf_fini(struct sim_cmdbuf *b);
int sim_cmdbuf_apply(struct sim_world *w, struct sim_cmdbuf *b);
int sim_defer_spawn(struct sim_world *w, unsigned n, const unsigned *comps, const void *const *values,
		    sim_entity *out);
int sim_defer_despawn(struct sim_world *w, sim_entity e);
int sim_defer_add(struct sim_world *w, sim_entity e, unsigned comp, const void *value);
int sim_defer_remove(struct sim_world *w, sim_entity e, unsigned comp);

/* Immediate operations on an unlocked world (world.c); used by the
 * public API and by cmd.c when applying. */
int sim_reserve_slot(struct sim_world *w, sim_entity *out);
int sim_place(struct sim_world *w, sim_entity e, unsigned n, const unsigned *comps,
	      const void *const *values);
int sim_do_despawn(struct sim_world *w, sim_entity e);
int sim_do_add(struct sim_world *w, sim_entity e, unsigned comp, const void *value);
int sim_do_remove(struct sim_world *w, sim_entity e, unsigned comp);

/* Offers a new table to a query (query.c; called when a table is created,
 * which never happens while a stage runs). */
void query_offer(struct sim_query *q, uint32_t tidx, uint64_t mask);
/* Makes room for one more table in q; 0 or -ENOMEM. */
int query_reserve(struct sim_query *q);
