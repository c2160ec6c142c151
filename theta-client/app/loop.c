/* The frame loop (see loop.h). */
#include "app/loop.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/query.h"
#include "th_buf.h"
#include "th_time.h"

struct app {
	struct app_config cfg;
	struct sim_world *w;
	struct sim_sched *sched;
	struct inp_source *input;
	struct app_transport *transport;
	struct app_renderer *renderer;
	struct inp_state in;
	struct app_stats stats;
	uint64_t period_ns;
	uint64_t frame;
	uint64_t next_deadline;
	uint64_t stats_every; /* frames between stats sends */
	uint64_t transport_errors;
	uint32_t pose_published_tick;
	sim_entity user, hand[INP_HANDS];
	struct sim_query *q_follow, *q_move, *q_tool;
	bool quit;
	app_editor_fn *editor;
	void *editor_ud;
	app_input_fn *filter;
	void *filter_ud;
	float nav_position[3], nav_rotation[4], nav_scale;
	/* Outbox: commands and their payload bytes, published in order. */
	struct app_command outbox[APP_OUTBOX_MAX];
	uint32_t outbox_off[APP_OUTBOX_MAX];
	unsigned outbox_n;
	struct th_wbuf outbox_bytes;
};

static uint64_t real_now_ns(void *user)
{
	return th_now_ns();
}

static void real_sleep_until(void *user, uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / TH_NS_PER_S), .tv_nsec = (long)(deadline_ns % TH_NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static const struct app_clock app_real_clock = { .now_ns = real_now_ns, .sleep_until = real_sleep_until };

static inline uint64_t app_now(const struct app *a)
{
	return a->cfg.clock->now_ns(a->cfg.clock->user);
}

/* ---- built-in systems ---------------------------------------------------- */

/* Hands follow their controllers. */
static void sys_controller_follow(struct sim_ctx *ctx)
{
	struct app *a = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, a->q_follow);
	while (sim_iter_next(&it)) {
		const float (*cp)[3] = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE, TH_F(controller_state, position));
		const float (*cr)[4] = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE, TH_F(controller_state, rotation));
		float (*p)[3] = sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		float (*r)[4] = sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, rotation));
		for (uint32_t i = 0; i < it.count; i++) {
			memcpy(p[i], cp[i], sizeof p[i]);
			memcpy(r[i], cr[i], sizeof r[i]);
		}
	}
}

/* Integrates linear velocity (local, never replicated). */
static void sys_movement(struct sim_ctx *ctx)
{
	struct app *a = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, a->q_move);
	while (sim_iter_next(&it)) {
		const float (*v)[3] = sim_iter_field(&it, TH_COMP_VELOCITY, TH_F(velocity, linear));
		float (*p)[3] = sim_iter_field_mut(&it, TH_COMP_TRANSFORM, TH_F(transform, position));
		for (uint32_t i = 0; i < it.count; i++)
			for (int k = 0; k < 3; k++)
				p[i][k] += v[i][k] * ctx->dt;
	}
}

/* The editor's input edge: a pulled trigger activates the hand's tool and
 * the thumbstick adjusts its first parameter. Tools proper come with the
 * editor issue. Only changed rows are marked, so replication sees real
 * changes only. */
static void sys_tool_input(struct sim_ctx *ctx)
{
	struct app *a = ctx->user_data;
	struct sim_iter it;
	sim_iter_init(&it, ctx->world, a->q_tool);
	while (sim_iter_next(&it)) {
		const float *trig = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE, TH_F(controller_state, trigger));
		const float (*stick)[2] = sim_iter_field(&it, TH_COMP_CONTROLLER_STATE,
							 TH_F(controller_state, thumbstick));
		uint32_t *phase = sim_iter_field_mut_untracked(&it, TH_COMP_TOOL_STATE, TH_F(tool_state, phase));
		float (*params)[4] = sim_iter_field_mut_untracked(&it, TH_COMP_TOOL_STATE, TH_F(tool_state, params));
		for (uint32_t i = 0; i < it.count; i++) {
			uint32_t ph = trig[i] > 0.5f;
			float d = stick[i][1] * ctx->dt;
			if (ph != phase[i] || d != 0) {
				phase[i] = ph;
				params[i][0] += d;
				sim_iter_mark_changed(&it, TH_COMP_TOOL_STATE, i);
			}
		}
	}
}

/* ---- set-up -------------------------------------------------------------- */

static int add_systems(struct app *a)
{
	uint64_t T = SIM_BIT(TH_COMP_TRANSFORM), V = SIM_BIT(TH_COMP_VELOCITY),
		 C = SIM_BIT(TH_COMP_CONTROLLER_STATE), TS = SIM_BIT(TH_COMP_TOOL_STATE);
	struct { struct sim_query **q; uint64_t with; } qs[] = {
		{ &a->q_follow, C | T }, { &a->q_move, V | T }, { &a->q_tool, C | TS },
	};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		int r = sim_query_create(a->w, &(struct sim_query_desc){ .with = qs[i].with }, qs[i].q);
		if (r < 0)
			return r;
	}
	const struct sim_system_desc sys[] = {
		{ .name = "controller_follow", .stage = SIM_STAGE_SIMULATION, .reads = C, .writes = T,
		  .fn = sys_controller_follow, .user_data = a },
		{ .name = "movement", .stage = SIM_STAGE_SIMULATION, .reads = V, .writes = T,
		  .fn = sys_movement, .user_data = a },
		{ .name = "tool_input", .stage = SIM_STAGE_EDITOR, .reads = C, .writes = TS,
		  .fn = sys_tool_input, .user_data = a },
	};
	for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
		int r = sim_sched_add(a->sched, &sys[i], NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_entities(struct app *a)
{
	struct th_c_tracked_pose tp = { .head_rotation = { 0, 0, 0, 1 }, .left_rotation = { 0, 0, 0, 1 },
					.right_rotation = { 0, 0, 0, 1 } };
	unsigned uc = TH_COMP_TRACKED_POSE;
	const void *uv[] = { &tp };
	int r = sim_spawn_with(a->w, 1, &uc, uv, &a->user);
	if (r < 0)
		return r;
	for (int h = 0; h < INP_HANDS; h++) {
		struct th_c_transform t = { .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
		struct th_c_controller_state c = { .rotation = { 0, 0, 0, 1 }, .hand = (uint8_t)h };
		unsigned comps[3] = { TH_COMP_TRANSFORM, TH_COMP_CONTROLLER_STATE, TH_COMP_TOOL_STATE };
		const void *vals[3] = { &t, &c, NULL };
		r = sim_spawn_with(a->w, 3, comps, vals, &a->hand[h]);
		if (r < 0)
			return r;
	}
	return 0;
}

int app_create(const struct app_config *cfg, struct app **out)
{
	struct app_config c = cfg ? *cfg : (struct app_config){ 0 };
	if (c.rate_hz == 0)
		c.rate_hz = APP_DEFAULT_RATE_HZ;
	if (!(c.rate_hz >= APP_MIN_RATE_HZ && c.rate_hz <= APP_MAX_RATE_HZ))
		return -EINVAL;
	struct app *a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	if (!c.clock)
		c.clock = &app_real_clock;
	a->cfg = c;
	a->period_ns = (uint64_t)llround(1e9 / c.rate_hz);
	a->stats_every = (uint64_t)llround(c.rate_hz); /* about once a second */
	app_stats_init(&a->stats, (uint32_t)llround(c.rate_hz), a->period_ns);
	inp_state_init(&a->in);
	a->nav_rotation[3] = 1;
	a->nav_scale = 1;
	int r = sim_world_create(NULL, &a->w);
	if (r == 0)
		r = sim_sched_create(a->w, &(struct sim_sched_config){ .threads = c.threads, .access = c.access },
				     &a->sched);
	if (r == 0)
		r = add_systems(a);
	if (r == 0)
		r = add_entities(a);
	if (r == 0)
		r = inp_null_create(&a->input);
	if (r == 0)
		r = app_null_transport_create(&a->transport);
	if (r == 0)
		r = app_null_renderer_create(a->w, &a->renderer);
	if (r < 0) {
		app_destroy(&a);
		return r;
	}
	*out = a;
	return 0;
}

void app_destroy(struct app **p)
{
	struct app *a = p ? *p : NULL;
	if (!a)
		return;
	app_renderer_destroy(&a->renderer);
	app_transport_destroy(&a->transport);
	inp_destroy(&a->input);
	sim_sched_destroy(&a->sched);
	sim_world_destroy(&a->w);
	th_wbuf_fini(&a->outbox_bytes);
	free(a);
	*p = NULL;
}

int app_attach(struct app *a, struct inp_source *in, struct app_transport *t, struct app_renderer *r)
{
	if (in) {
		inp_destroy(&a->input);
		a->input = in;
	}
	if (t) {
		app_transport_destroy(&a->transport);
		a->transport = t;
	}
	if (r) {
		app_renderer_destroy(&a->renderer);
		a->renderer = r;
	}
	return 0;
}

struct sim_world *app_world(struct app *a) { return a->w; }
struct sim_sched *app_sched(struct app *a) { return a->sched; }
const struct app_config *app_config(const struct app *a) { return &a->cfg; }
sim_entity app_user_entity(const struct app *a) { return a->user; }
sim_entity app_hand_entity(const struct app *a, enum inp_hand h) { return h < INP_HANDS ? a->hand[h] : 0; }
uint64_t app_frames(const struct app *a) { return a->frame; }
uint64_t app_transport_errors(const struct app *a) { return a->transport_errors; }
void app_frame_stats(const struct app *a, struct app_frame_stats *out) { app_stats_compute(&a->stats, out); }

/* ---- the frame ----------------------------------------------------------- */

/* Writes this frame's input into the local entities (outside stages). */
static void apply_input(struct app *a)
{
	const struct inp_state *in = &a->in;
	struct th_c_tracked_pose tp;
	if (sim_get(a->w, a->user, TH_COMP_TRACKED_POSE, &tp) == 0) {
		struct th_c_tracked_pose n = tp;
		const struct inp_pose *src[3] = { &in->head, &in->hand[INP_LEFT].pose, &in->hand[INP_RIGHT].pose };
		float *pos[3] = { n.head_position, n.left_position, n.right_position };
		float *rot[3] = { n.head_rotation, n.left_rotation, n.right_rotation };
		n.valid = 0;
		for (int k = 0; k < 3; k++) {
			memcpy(pos[k], src[k]->position, 3 * sizeof(float));
			memcpy(rot[k], src[k]->rotation, 4 * sizeof(float));
			if (src[k]->valid)
				n.valid |= 1u << k;
		}
		if (memcmp(&n, &tp, sizeof n) != 0)
			sim_set(a->w, a->user, TH_COMP_TRACKED_POSE, &n);
	}
	for (int h = 0; h < INP_HANDS; h++) {
		const struct inp_controller *c = &in->hand[h];
		struct th_c_controller_state cs, old;
		if (sim_get(a->w, a->hand[h], TH_COMP_CONTROLLER_STATE, &old) < 0)
			continue;
		memset(&cs, 0, sizeof cs);
		memcpy(cs.position, c->pose.position, sizeof cs.position);
		memcpy(cs.rotation, c->pose.rotation, sizeof cs.rotation);
		cs.buttons = c->buttons;
		cs.trigger = c->trigger;
		cs.grip = c->grip;
		cs.thumbstick[0] = c->thumbstick[0];
		cs.thumbstick[1] = c->thumbstick[1];
		cs.hand = (uint8_t)h;
		if (memcmp(&cs, &old, sizeof cs) != 0)
			sim_set(a->w, a->hand[h], TH_COMP_CONTROLLER_STATE, &cs);
	}
}

static void publish(struct app *a, uint64_t now)
{
	struct app_outgoing o = { .frame = a->frame, .tick = sim_world_tick(a->w) };
	uint32_t t = sim_changed_tick(a->w, a->user, TH_COMP_TRACKED_POSE);
	if (t && (a->pose_published_tick == 0 || sim_tick_after(t, a->pose_published_tick)) &&
	    sim_get(a->w, a->user, TH_COMP_TRACKED_POSE, &o.pose) == 0) {
		o.has_pose = true;
		a->pose_published_tick = t;
	}
	/* Payload pointers are fixed up here: the byte buffer may have moved. */
	for (unsigned i = 0; i < a->outbox_n; i++)
		a->outbox[i].payload = a->outbox_bytes.data + a->outbox_off[i];
	o.ncommands = a->outbox_n;
	o.commands = a->outbox;
	int r = app_transport_publish(a->transport, &o, now);
	if (r == 0) {
		a->outbox_n = 0;
		th_wbuf_reset(&a->outbox_bytes);
	} else if (r != -EAGAIN) {
		a->transport_errors++;
	}
}

int app_submit(struct app *a, uint16_t type, uint64_t scope, const void *payload, uint32_t len)
{
	return app_submit_tagged(a, type, scope, payload, len, 0);
}

void app_set_editor(struct app *a, app_editor_fn *fn, void *ud)
{
	a->editor = fn;
	a->editor_ud = ud;
}

int app_submit_tagged(struct app *a, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag)
{
	if (len > APP_COMMAND_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (a->outbox_n == APP_OUTBOX_MAX || a->outbox_bytes.len + len > APP_OUTBOX_MAX_BYTES)
		return -ENOBUFS;
	size_t off = a->outbox_bytes.len;
	th_wbuf_put(&a->outbox_bytes, payload, len);
	int r = th_wbuf_error(&a->outbox_bytes);
	if (r < 0) {
		a->outbox_bytes.len = off;
		a->outbox_bytes.oom = false;
		return -ENOBUFS;
	}
	a->outbox_off[a->outbox_n] = (uint32_t)off;
	a->outbox[a->outbox_n++] = (struct app_command){ .type = type, .scope = scope, .len = len, .tag = tag };
	return 0;
}

unsigned app_outbox_len(const struct app *a)
{
	return a->outbox_n;
}

void app_set_input_filter(struct app *a, app_input_fn *fn, void *ud)
{
	a->filter = fn;
	a->filter_ud = ud;
}

void app_set_nav(struct app *a, const float position[3], const float rotation[4], float scale)
{
	memcpy(a->nav_position, position, sizeof a->nav_position);
	memcpy(a->nav_rotation, rotation, sizeof a->nav_rotation);
	a->nav_scale = scale;
}

struct inp_source *app_input(struct app *a)
{
	return a->input;
}

static void pace(struct app *a)
{
	uint64_t now = app_now(a);
	if (!a->next_deadline)
		a->next_deadline = now;
	a->next_deadline += a->period_ns;
	if (now >= a->next_deadline) {
		/* Late: don't try to catch up with a burst of frames. */
		if (now - a->next_deadline > a->period_ns)
			a->next_deadline = now;
		return;
	}
	a->cfg.clock->sleep_until(a->cfg.clock->user, a->next_deadline);
}

int app_step(struct app *a)
{
	/* A renderer that paces (OpenXR) blocks here until the runtime wants
	 * the next frame; the loop's own sleep is then skipped. */
	uint64_t display_ns = 0;
	bool renderer_paced = a->renderer->ops->wait_frame != NULL;
	if (renderer_paced) {
		int wr = a->renderer->ops->wait_frame(a->renderer, &display_ns);
		if (wr < 0)
			return wr;
		if (wr > 0)
			a->quit = true;
	}
	uint64_t t0 = app_now(a);
	uint64_t time_ns = a->frame * a->period_ns;
	int r = inp_poll(a->input, time_ns, &a->in);
	if (r < 0)
		return r;
	if (a->filter)
		a->filter(a->filter_ud, a, time_ns, &a->in);
	if (a->in.quit)
		a->quit = true;
	apply_input(a);
	if (app_transport_drain(a->transport, a->w, t0) < 0)
		a->transport_errors++;

	struct sim_frame_info fi = { .frame = a->frame, .time_ns = time_ns, .dt = (float)(a->period_ns / 1e9) };
	int sr = sim_sched_run_frame(a->sched, &fi);
	if (a->editor)
		a->editor(a->editor_ud, a, time_ns, &a->in);

	publish(a, app_now(a));
	struct app_view view = { .frame = a->frame, .time_ns = time_ns, .head = a->in.head,
				 .display_time_ns = display_ns, .nav_scale = a->nav_scale };
	memcpy(view.nav_position, a->nav_position, sizeof view.nav_position);
	memcpy(view.nav_rotation, a->nav_rotation, sizeof view.nav_rotation);
	r = app_render(a->renderer, a->w, &view);
	if (r < 0)
		return r;
	if (r > 0)
		a->quit = true;
	uint32_t tick = sim_world_tick(a->w);
	if (tick > APP_REMOVED_KEEP_TICKS)
		sim_world_trim_removed(a->w, tick - APP_REMOVED_KEEP_TICKS);
	sim_world_advance(a->w);

	uint64_t stage_ns[SIM_STAGE_COUNT] = { 0 };
	for (unsigned st = 0; st < SIM_STAGE_COUNT; st++) {
		struct sim_timing tm;
		/* Startup runs once; later frames report 0 for it. */
		if (sim_sched_stage_timing(a->sched, (enum sim_stage)st, &tm) == 0 &&
		    (st != SIM_STAGE_STARTUP || a->frame == 0))
			stage_ns[st] = tm.last_ns;
	}
	app_stats_add(&a->stats, app_now(a) - t0, stage_ns);
	a->frame++;
	bool done = a->quit || (a->cfg.max_frames && a->frame >= a->cfg.max_frames);
	if (a->frame % a->stats_every == 0 || done) {
		struct app_frame_stats fs;
		app_stats_compute(&a->stats, &fs);
		if (app_transport_send_stats(a->transport, &fs, app_now(a)) < 0)
			a->transport_errors++;
	}
	if (sr < 0)
		return sr;
	if (done)
		return 1;
	if (!a->cfg.no_pacing && !renderer_paced)
		pace(a);
	return 0;
}

int app_run(struct app *a, volatile sig_atomic_t *stop)
{
	for (;;) {
		if (stop && *stop)
			return 0;
		int r = app_step(a);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}
