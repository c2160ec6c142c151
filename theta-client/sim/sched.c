/* Stage scheduler (see sched.h, docs/ecs.md). */
#include "sim/sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/internal.h"
#include "sim/pool.h"
#include "th_time.h"

struct sim_system {
	struct sim_system_desc desc;
	char name[SIM_SYSTEM_NAME_MAX];
	unsigned id;
	int wave;
	struct sim_exec exec;
	struct sim_timing timing;
};

struct stage_plan {
	unsigned n;
	unsigned *order; /* system ids sorted by (wave, id) */
	unsigned nwaves;
	unsigned *wave_start; /* nwaves + 1 offsets into order */
};

struct sim_sched {
	struct sim_world *w;
	struct sim_pool *pool;
	enum sim_access_mode access;
	struct sim_system *systems[SIM_MAX_SYSTEMS];
	unsigned nsystems;
	bool dirty;
	bool started;
	struct stage_plan plan[SIM_STAGE_COUNT];
	struct sim_timing stage_timing[SIM_STAGE_COUNT];
	uint64_t violations;
	bool have_violation;
	struct sim_violation last;
};

const char *sim_stage_name(enum sim_stage s)
{
	switch (s) {
	case SIM_STAGE_STARTUP: return "startup";
	case SIM_STAGE_SIMULATION: return "simulation";
	case SIM_STAGE_RENDER: return "render";
	case SIM_STAGE_EDITOR: return "editor";
	default: return "?";
	}
}

int sim_sched_create(struct sim_world *w, const struct sim_sched_config *cfg, struct sim_sched **out)
{
	struct sim_sched_config c = cfg ? *cfg : (struct sim_sched_config){ 0 };
	if (c.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c.threads = n < 1 ? 1 : n > SIM_MAX_THREADS ? SIM_MAX_THREADS : (unsigned)n;
	}
	if (c.threads > SIM_MAX_THREADS)
		return -EINVAL;
	struct sim_sched *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->w = w;
	s->access = c.access;
	if (s->access == SIM_ACCESS_DEFAULT) {
#ifdef NDEBUG
		s->access = SIM_ACCESS_COUNT;
#else
		s->access = SIM_ACCESS_ERROR;
#endif
	}
	int r = sim_pool_create(c.threads, &s->pool);
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void sim_sched_destroy(struct sim_sched **p)
{
	struct sim_sched *s = p ? *p : NULL;
	if (!s)
		return;
	sim_pool_destroy(&s->pool);
	for (unsigned i = 0; i < s->nsystems; i++) {
		sim_cmdbuf_fini(&s->systems[i]->exec.cmd);
		free(s->systems[i]);
	}
	for (unsigned st = 0; st < SIM_STAGE_COUNT; st++) {
		free(s->plan[st].order);
		free(s->plan[st].wave_start);
	}
	free(s);
	*p = NULL;
}

unsigned sim_sched_threads(const struct sim_sched *s) { return sim_pool_threads(s->pool); }

int sim_sched_add(struct sim_sched *s, const struct sim_system_desc *d, unsigned *out_id)
{
	if (!d || !d->fn || !d->name || (unsigned)d->stage >= SIM_STAGE_COUNT)
		return -EINVAL;
	uint64_t valid = s->w->ncomps >= 64 ? UINT64_MAX : SIM_BIT(s->w->ncomps) - 1;
	if ((d->reads | d->writes) & ~valid)
		return -EINVAL;
	if (d->stage == SIM_STAGE_STARTUP && s->started)
		return -EBUSY;
	if (s->nsystems >= SIM_MAX_SYSTEMS)
		return -ENOSPC;
	struct sim_system *sys = calloc(1, sizeof *sys);
	if (!sys)
		return -ENOMEM;
	sys->desc = *d;
	snprintf(sys->name, sizeof sys->name, "%s", d->name);
	sys->desc.name = sys->name;
	sys->id = s->nsystems;
	sys->wave = -1;
	sys->exec.w = s->w;
	sys->exec.name = sys->name;
	sys->exec.reads = d->reads;
	sys->exec.writes = d->writes;
	atomic_init(&sys->exec.violations, 0);
	atomic_init(&sys->exec.first_comp, -1);
	atomic_init(&sys->exec.first_write, false);
	s->systems[s->nsystems++] = sys;
	s->dirty = true;
	if (out_id)
		*out_id = sys->id;
	return 0;
}

static bool conflicts(const struct sim_system *a, const struct sim_system *b)
{
	uint64_t ra = a->desc.reads | a->desc.writes, rb = b->desc.reads | b->desc.writes;
	return (a->desc.writes & rb) || (b->desc.writes & ra);
}

/* Wave of each system: one past the latest earlier conflicting system of its
 * stage, so conflicting systems keep registration order. */
static int plan_build(struct sim_sched *s)
{
	for (unsigned st = 0; st < SIM_STAGE_COUNT; st++) {
		struct stage_plan *pl = &s->plan[st];
		unsigned n = 0, nwaves = 0;
		for (unsigned i = 0; i < s->nsystems; i++) {
			struct sim_system *a = s->systems[i];
			if (a->desc.stage != st)
				continue;
			int wave = 0;
			for (unsigned j = 0; j < i; j++) {
				struct sim_system *b = s->systems[j];
				if (b->desc.stage == st && conflicts(a, b) && b->wave + 1 > wave)
					wave = b->wave + 1;
			}
			a->wave = wave;
			n++;
			if ((unsigned)wave + 1 > nwaves)
				nwaves = (unsigned)wave + 1;
		}
		unsigned *order = calloc(n ? n : 1, sizeof *order);
		unsigned *starts = calloc(nwaves + 1, sizeof *starts);
		if (!order || !starts) {
			free(order);
			free(starts);
			return -ENOMEM;
		}
		unsigned k = 0;
		for (unsigned wv = 0; wv < nwaves; wv++) {
			starts[wv] = k;
			for (unsigned i = 0; i < s->nsystems; i++)
				if (s->systems[i]->desc.stage == st && s->systems[i]->wave == (int)wv)
					order[k++] = i;
		}
		starts[nwaves] = k;
		free(pl->order);
		free(pl->wave_start);
		pl->order = order;
		pl->wave_start = starts;
		pl->n = n;
		pl->nwaves = nwaves;
	}
	s->dirty = false;
	return 0;
}

struct wave_job {
	struct sim_sched *s;
	const unsigned *ids;
	const struct sim_frame_info *fi;
};

static void timing_add(struct sim_timing *t, uint64_t ns)
{
	t->last_ns = ns;
	t->total_ns += ns;
	if (ns > t->max_ns)
		t->max_ns = ns;
	t->runs++;
}

static void run_system(void *arg, unsigned task)
{
	struct wave_job *job = arg;
	struct sim_system *sys = job->s->systems[job->ids[task]];
	struct sim_ctx ctx = {
		.world = job->s->w,
		.user_data = sys->desc.user_data,
		.frame = job->fi->frame,
		.time_ns = job->fi->time_ns,
		.dt = job->fi->dt,
		.tick = job->s->w->tick,
		.system = sys->id,
	};
	uint64_t t0 = th_now_ns();
	sim_tls_exec = &sys->exec;
	sys->desc.fn(&ctx);
	sim_tls_exec = NULL;
	timing_add(&sys->timing, th_now_ns() - t0);
}

int sim_sched_run_stage(struct sim_sched *s, enum sim_stage stage, const struct sim_frame_info *fi)
{
	if ((unsigned)stage >= SIM_STAGE_COUNT || !fi)
		return -EINVAL;
	if (s->w->iter_depth > 0 || s->w->in_stage)
		return -EBUSY;
	if (s->dirty) {
		int r = plan_build(s);
		if (r < 0)
			return r;
	}
	if (stage == SIM_STAGE_STARTUP)
		s->started = true;
	struct stage_plan *pl = &s->plan[stage];
	uint64_t t0 = th_now_ns();
	s->w->in_stage = true;
	for (unsigned wv = 0; wv < pl->nwaves; wv++) {
		struct wave_job job = { .s = s, .ids = pl->order + pl->wave_start[wv], .fi = fi };
		sim_pool_run(s->pool, pl->wave_start[wv + 1] - pl->wave_start[wv], run_system, &job);
	}
	s->w->in_stage = false;
	/* Sync point: systems' changes in registration order, then the world's. */
	bool violated = false;
	for (unsigned i = 0; i < s->nsystems; i++) {
		struct sim_system *sys = s->systems[i];
		if (sys->desc.stage != stage)
			continue;
		sim_cmdbuf_apply(s->w, &sys->exec.cmd);
		int comp = atomic_exchange(&sys->exec.first_comp, -1);
		if (comp >= 0) {
			violated = true;
			s->have_violation = true;
			snprintf(s->last.system, sizeof s->last.system, "%s", sys->name);
			s->last.comp = (unsigned)comp;
			s->last.write = atomic_load(&sys->exec.first_write);
		}
	}
	sim_cmdbuf_apply(s->w, &s->w->cmd);
	timing_add(&s->stage_timing[stage], th_now_ns() - t0);
	uint64_t total = 0;
	for (unsigned i = 0; i < s->nsystems; i++)
		total += atomic_load(&s->systems[i]->exec.violations);
	s->violations = total;
	return violated && s->access == SIM_ACCESS_ERROR ? -EACCES : 0;
}

int sim_sched_run_frame(struct sim_sched *s, const struct sim_frame_info *fi)
{
	int first = 0;
	for (unsigned st = s->started ? SIM_STAGE_SIMULATION : SIM_STAGE_STARTUP; st < SIM_STAGE_COUNT; st++) {
		int r = sim_sched_run_stage(s, (enum sim_stage)st, fi);
		if (r < 0 && first == 0)
			first = r;
		if (r == -EBUSY || r == -EINVAL || r == -ENOMEM)
			return r;
	}
	return first;
}

int sim_sched_stage_timing(const struct sim_sched *s, enum sim_stage stage, struct sim_timing *out)
{
	if ((unsigned)stage >= SIM_STAGE_COUNT)
		return -EINVAL;
	*out = s->stage_timing[stage];
	return 0;
}

int sim_sched_system_timing(const struct sim_sched *s, unsigned id, struct sim_timing *out)
{
	if (id >= s->nsystems)
		return -ENOENT;
	*out = s->systems[id]->timing;
	return 0;
}

const char *sim_sched_system_name(const struct sim_sched *s, unsigned id)
{
	return id < s->nsystems ? s->systems[id]->name : NULL;
}

unsigned sim_sched_system_count(const struct sim_sched *s) { return s->nsystems; }

int sim_sched_system_wave(struct sim_sched *s, unsigned id)
{
	if (id >= s->nsystems)
		return -ENOENT;
	if (s->dirty) {
		int r = plan_build(s);
		if (r < 0)
			return r;
	}
	return s->systems[id]->wave;
}

uint64_t sim_sched_violations(const struct sim_sched *s) { return s->violations; }

uint64_t sim_sched_system_violations(const struct sim_sched *s, unsigned id)
{
	return id < s->nsystems ? atomic_load(&s->systems[id]->exec.violations) : 0;
}

int sim_sched_last_violation(const struct sim_sched *s, struct sim_violation *out)
{
	if (!s->have_violation)
		return -ENOENT;
	*out = s->last;
	return 0;
}
