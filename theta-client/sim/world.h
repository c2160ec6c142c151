/* ECS world: generational entities, archetype tables stored field by field
 * (struct of arrays), change ticks, deferred structural changes.
 *
 * Components 0..TH_COMP_COUNT-1 are the schema components (index = TH_COMP_*,
 * id = th_component_id()); client-local components may be registered after.
 * A component value is handed in and out as its C struct (struct th_c_*);
 * inside a table every field lives in its own dense array, so systems
 * iterate exactly the bytes they use (docs/ecs.md says why).
 *
 * Threading: the world is driven from one thread, except while the scheduler
 * runs a stage, when systems on pool threads iterate and read/write through
 * the API below. While a stage runs or an iterator is open, structural
 * changes (spawn, despawn, add, remove) are deferred and applied at the next
 * sync point (end of stage, or sim_world_flush). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_schema.h"

/* (generation << 32) | slot. Generation starts at 1, so 0 is never valid. */
typedef uint64_t sim_entity;
#define SIM_ENTITY_NULL ((sim_entity)0)
static inline uint32_t sim_entity_slot(sim_entity e) { return (uint32_t)e; }
static inline uint32_t sim_entity_gen(sim_entity e) { return (uint32_t)(e >> 32); }

#define SIM_MAX_COMPONENTS 64         /* component masks are uint64_t */
#define SIM_MAX_ENTITIES (1u << 24)   /* slots, alive or retired */
#define SIM_MAX_TABLES 4096           /* distinct archetypes */
#define SIM_MAX_QUERIES 1024
#define SIM_COMPONENT_NAME_MAX 64
#define SIM_REMOVED_LOG_MAX (1u << 22) /* removal records kept before overflow */
#define SIM_COMP_NONE 0xffffu          /* removal record of a despawn */

#define SIM_BIT(comp) (UINT64_C(1) << (comp))

struct sim_world;

struct sim_world_config {
	/* A slot whose generation reaches this value is retired instead of
	 * reused, so no handle can ever alias a later entity. 0: UINT32_MAX. */
	uint32_t max_generation;
	/* 0: SIM_MAX_ENTITIES. */
	uint32_t max_entities;
};

int sim_world_create(const struct sim_world_config *cfg, struct sim_world **out);
void sim_world_destroy(struct sim_world **p);

/* Registers a client-local component (not in schemas/, never replicated),
 * stored as one opaque field of `size` bytes. Only while no stage runs.
 * -EEXIST for a name already used, -ENOSPC past SIM_MAX_COMPONENTS. */
int sim_component_register(struct sim_world *w, const char *name, size_t size, size_t align,
			   unsigned *out_comp);
unsigned sim_component_count(const struct sim_world *w);
uint64_t sim_component_id(const struct sim_world *w, unsigned comp);
const char *sim_component_name(const struct sim_world *w, unsigned comp);
size_t sim_component_size(const struct sim_world *w, unsigned comp);
/* Component index of a stable id, or -ENOENT. */
int sim_component_find(const struct sim_world *w, uint64_t id);

/* Structural changes. Each returns 0 when applied now, 1 when deferred to
 * the next sync point, or a negative errno: -ESTALE for a handle whose entity
 * is gone (despawned, or never existed), -EINVAL for a bad component,
 * -ENOSPC when out of entity slots, -ENOMEM. A spawned entity's handle is
 * valid at once even when its creation is deferred. */
int sim_spawn(struct sim_world *w, sim_entity *out);
/* Spawns with n components at once (no intermediate tables); values[i] may
 * be NULL for a zeroed value. */
int sim_spawn_with(struct sim_world *w, unsigned n, const unsigned *comps, const void *const *values,
		   sim_entity *out);
int sim_despawn(struct sim_world *w, sim_entity e);
/* Adds comp, or overwrites its value when present. value NULL: zeroed. */
int sim_add(struct sim_world *w, sim_entity e, unsigned comp, const void *value);
/* -ENOENT when the entity lacks comp. */
int sim_remove(struct sim_world *w, sim_entity e, unsigned comp);

bool sim_alive(const struct sim_world *w, sim_entity e);
bool sim_has(const struct sim_world *w, sim_entity e, unsigned comp);
/* Copies the value out as its C struct. -ESTALE, -ENOENT (component absent
 * or entity not yet materialised). */
int sim_get(const struct sim_world *w, sim_entity e, unsigned comp, void *out);
/* Overwrites an existing component value and marks it changed now. */
int sim_set(struct sim_world *w, sim_entity e, unsigned comp, const void *value);
/* Change tick of one entity's component, 0 when absent. */
uint32_t sim_changed_tick(const struct sim_world *w, sim_entity e, unsigned comp);

/* Live (materialised or pending) entities. */
uint32_t sim_entity_count(const struct sim_world *w);
/* Slots retired because their generation reached max_generation. */
uint32_t sim_retired_slots(const struct sim_world *w);

/* Ticks: the world tick starts at 1 and advances once per frame. Every write
 * stamps the current tick; "changed since t" means stamped later than t.
 * Comparisons are wrap-safe (window 2^31 ticks). */
uint32_t sim_world_tick(const struct sim_world *w);
void sim_world_advance(struct sim_world *w);
static inline bool sim_tick_after(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* Applies deferred structural changes made outside systems (systems' own
 * buffers are applied by the scheduler). -EBUSY while an iterator is open or
 * a stage runs. Returns the number of commands applied. */
int sim_world_flush(struct sim_world *w);
/* Deferred commands dropped because their entity was gone at apply time. */
uint64_t sim_world_dropped_commands(const struct sim_world *w);

/* Removal log for replication: components removed and entities despawned,
 * in order. comp is SIM_COMP_NONE for a despawn. */
struct sim_removal {
	sim_entity entity;
	uint32_t tick;
	uint16_t comp;
};
/* Records with tick after `since`; *n set to their count. The pointer is
 * valid until the next structural change or trim. */
const struct sim_removal *sim_world_removed_since(const struct sim_world *w, uint32_t since, size_t *n);
/* Drops records with tick <= upto. */
void sim_world_trim_removed(struct sim_world *w, uint32_t upto);
/* True when records were lost (log full): the consumer must resync. Reset
 * by sim_world_trim_removed. */
bool sim_world_removed_overflow(const struct sim_world *w);

/* Access violations seen by the world (undeclared reads/writes in systems). */
uint64_t sim_world_violations(const struct sim_world *w);
