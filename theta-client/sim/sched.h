/* Stage scheduler. Stages run in the order Startup (first frame only) ->
 * Simulation -> Render -> Editor. Each system declares the components it
 * reads and writes; within a stage, systems are split into waves so that no
 * two systems of a wave conflict (one writes what the other reads or
 * writes), waves run in order, and the systems of a wave run in parallel on
 * the pool. Conflicting systems keep their registration order.
 *
 * Every component access made by a system is checked against its
 * declaration. An undeclared access is counted; in SIM_ACCESS_ERROR mode
 * (the default unless NDEBUG) sim_sched_run_stage() also returns -EACCES
 * after finishing the stage. Structural changes made by systems are
 * deferred and applied at the end of the stage, in registration order. */
#pragma once
#include <stdint.h>

#include "sim/world.h"

#define SIM_MAX_SYSTEMS 256
#define SIM_SYSTEM_NAME_MAX 48

enum sim_stage {
	SIM_STAGE_STARTUP,
	SIM_STAGE_SIMULATION,
	SIM_STAGE_RENDER,
	SIM_STAGE_EDITOR,
	SIM_STAGE_COUNT
};
const char *sim_stage_name(enum sim_stage s);

/* What a system is given each run. */
struct sim_ctx {
	struct sim_world *world;
	void *user_data;
	uint64_t frame;   /* frame number, from 0 */
	uint64_t time_ns; /* simulation time of this frame */
	float dt;         /* seconds since the previous frame */
	uint32_t tick;    /* world tick */
	unsigned system;  /* the system's id */
};
typedef void (*sim_system_fn)(struct sim_ctx *ctx);

struct sim_system_desc {
	const char *name;
	enum sim_stage stage;
	uint64_t reads;  /* SIM_BIT(comp) | ... */
	uint64_t writes; /* implies read */
	sim_system_fn fn;
	void *user_data;
};

enum sim_access_mode {
	SIM_ACCESS_DEFAULT, /* ERROR in debug builds, COUNT with NDEBUG */
	SIM_ACCESS_ERROR,
	SIM_ACCESS_COUNT,
};

struct sim_sched_config {
	unsigned threads; /* pool size incl. the caller; 0: online CPUs (max SIM_MAX_THREADS) */
	enum sim_access_mode access;
};

struct sim_frame_info {
	uint64_t frame;
	uint64_t time_ns;
	float dt;
};

struct sim_timing {
	uint64_t last_ns;
	uint64_t total_ns;
	uint64_t max_ns;
	uint64_t runs;
};

struct sim_violation {
	char system[SIM_SYSTEM_NAME_MAX];
	unsigned comp;
	bool write;
};

struct sim_sched;

int sim_sched_create(struct sim_world *w, const struct sim_sched_config *cfg, struct sim_sched **out);
void sim_sched_destroy(struct sim_sched **p);
unsigned sim_sched_threads(const struct sim_sched *s);

/* Registers a system; -EBUSY for a Startup system once Startup ran, -EINVAL
 * for a bad descriptor, -ENOSPC past SIM_MAX_SYSTEMS. */
int sim_sched_add(struct sim_sched *s, const struct sim_system_desc *d, unsigned *out_id);

/* Runs one stage and its sync point. 0, or -EACCES after an undeclared
 * access in ERROR mode (the stage still completed). */
int sim_sched_run_stage(struct sim_sched *s, enum sim_stage stage, const struct sim_frame_info *fi);
/* Startup (first call only), then Simulation, Render, Editor. Returns the
 * first error, after running every stage. */
int sim_sched_run_frame(struct sim_sched *s, const struct sim_frame_info *fi);

/* Introspection: timings, waves, violations. */
int sim_sched_stage_timing(const struct sim_sched *s, enum sim_stage stage, struct sim_timing *out);
int sim_sched_system_timing(const struct sim_sched *s, unsigned id, struct sim_timing *out);
const char *sim_sched_system_name(const struct sim_sched *s, unsigned id);
unsigned sim_sched_system_count(const struct sim_sched *s);
/* The wave (0-based, within its stage) a system runs in; -ENOENT. */
int sim_sched_system_wave(struct sim_sched *s, unsigned id);
uint64_t sim_sched_violations(const struct sim_sched *s);
uint64_t sim_sched_system_violations(const struct sim_sched *s, unsigned id);
/* The most recent violation; -ENOENT when none happened. */
int sim_sched_last_violation(const struct sim_sched *s, struct sim_violation *out);
