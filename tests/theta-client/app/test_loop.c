/* theta-client/app/loop.c: the frame loop driven by scripted input with the
 * null transport and renderer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "app/loop.h"
#include "inp/script.h"
#include "th_time.h"

static const char script[] =
	"theta-script 1\n"
	"0s     head  pose 0 1.6 0  0 0 0 1\n"
	"0s     right pose 0.3 1.1 -0.4  0 0 0 1\n"
	"100ms  right trigger 0.8\n"
	"200ms  right thumbstick 0 1\n"
	"300ms  right thumbstick 0 0\n"
	"1s     quit\n";

static struct app *make_app(const struct app_config *cfg, const char *text, struct app_transport **t)
{
	struct app *a;
	assert_int_equal(app_create(cfg, &a), 0);
	struct inp_source *in = NULL;
	if (text) {
		struct inp_script *s;
		assert_int_equal(inp_script_parse(text, strlen(text), &s, NULL), 0);
		assert_int_equal(inp_script_source_create(s, &in), 0);
	}
	assert_int_equal(app_null_transport_create(t), 0);
	assert_int_equal(app_attach(a, in, *t, NULL), 0);
	return a;
}

static void scripted_run_is_deterministic_and_quits(void **state)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .no_pacing = true, .threads = 2 }, script, &t);
	assert_int_equal(app_run(a, NULL), 0);
	/* Frame n runs at n * period; quit at 1 s lands on the first frame at
	 * or after it, and that frame completes. */
	uint64_t period = (uint64_t)(1e9 / 90 + 0.5), n = 0;
	while (n * period < 1000000000ull)
		n++;
	assert_int_equal(app_frames(a), n + 1);

	struct sim_world *w = app_world(a);
	struct th_c_tracked_pose tp;
	assert_int_equal(sim_get(w, app_user_entity(a), TH_COMP_TRACKED_POSE, &tp), 0);
	assert_true(tp.head_position[1] == 1.6f);
	assert_int_equal(tp.valid, TH_POSE_VALID_HEAD | TH_POSE_VALID_RIGHT);
	struct th_c_transform hand;
	assert_int_equal(sim_get(w, app_hand_entity(a, INP_RIGHT), TH_COMP_TRANSFORM, &hand), 0);
	assert_true(hand.position[0] == 0.3f && hand.position[2] == -0.4f); /* controller_follow ran */
	struct th_c_tool_state ts, tl;
	assert_int_equal(sim_get(w, app_hand_entity(a, INP_RIGHT), TH_COMP_TOOL_STATE, &ts), 0);
	assert_int_equal(ts.phase, 1); /* trigger 0.8 > 0.5 */
	/* Thumbstick held for 100 ms (9 frames at 90 Hz) at dt = 1/90. */
	assert_true(ts.params[0] > 0.09f && ts.params[0] < 0.11f);
	assert_int_equal(sim_get(w, app_hand_entity(a, INP_LEFT), TH_COMP_TOOL_STATE, &tl), 0);
	assert_int_equal(tl.phase, 0);

	struct app_null_transport *nt = (struct app_null_transport *)t;
	assert_int_equal(nt->drains, app_frames(a));
	assert_int_equal(nt->publishes, app_frames(a));
	assert_int_equal(nt->poses, 1); /* the pose changed only on frame 0 */
	assert_true(nt->last_pose.head_position[1] == 1.6f);
	assert_int_equal(nt->stats, 2); /* after frame 90, and at the end */
	assert_int_equal(nt->last_stats.frames, app_frames(a));
	assert_true(nt->last_stats.frame_p99_ns >= nt->last_stats.frame_p50_ns);
	assert_int_equal(nt->last_stats.rate_hz, 90);
	assert_int_equal(app_transport_errors(a), 0);
	app_destroy(&a);
	assert_null(a);
}

static void max_frames_stops_the_loop(void **state)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .no_pacing = true, .max_frames = 7, .rate_hz = 60 }, NULL, &t);
	assert_int_equal(app_run(a, NULL), 0);
	assert_int_equal(app_frames(a), 7);
	struct app_frame_stats fs;
	app_frame_stats(a, &fs);
	assert_int_equal(fs.frames, 7);
	assert_int_equal(fs.rate_hz, 60);
	app_destroy(&a);
}

static void stop_flag_ends_the_run(void **state)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .no_pacing = true }, NULL, &t);
	volatile sig_atomic_t stop = 1;
	assert_int_equal(app_run(a, &stop), 0);
	assert_int_equal(app_frames(a), 0);
	app_destroy(&a);
}

/* A simulated clock: time moves only when a frame "works" (a system adds
 * its cost) or the loop sleeps until a deadline. */
#define SIM_CLOCK_MAX_SLEEPS 64

struct sim_clock {
	uint64_t now;
	uint64_t work_ns[32]; /* cost of frame i; 0 past the end */
	uint64_t frame;
	uint64_t sleeps[SIM_CLOCK_MAX_SLEEPS]; /* each deadline asked for */
	uint64_t slept_after[SIM_CLOCK_MAX_SLEEPS]; /* which frame slept */
	unsigned n_sleeps;
};

static uint64_t sim_now(void *user)
{
	return ((struct sim_clock *)user)->now;
}

static void sim_sleep_until(void *user, uint64_t deadline)
{
	struct sim_clock *c = user;
	assert_true(deadline > c->now); /* never asked to sleep into the past */
	if (c->n_sleeps < SIM_CLOCK_MAX_SLEEPS) {
		c->slept_after[c->n_sleeps] = c->frame - 1;
		c->sleeps[c->n_sleeps++] = deadline;
	}
	c->now = deadline;
}

static void frame_work(struct sim_ctx *ctx)
{
	struct sim_clock *c = ctx->user_data;
	c->now += c->frame < 32 ? c->work_ns[c->frame] : 0;
	c->frame++;
}

static struct app *paced_app(struct sim_clock *c, const struct app_clock *clk, double rate, uint64_t frames)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .rate_hz = rate, .max_frames = frames, .threads = 1,
						       .clock = clk }, NULL, &t);
	assert_int_equal(sim_sched_add(app_sched(a), &(struct sim_system_desc){ .name = "work",
		.stage = SIM_STAGE_SIMULATION, .fn = frame_work, .user_data = c }, NULL), 0);
	return a;
}

static void pacing_holds_frames_to_the_rate(void **state)
{
	struct sim_clock c = { .now = 7 * TH_NS_PER_S };
	for (int i = 0; i < 32; i++)
		c.work_ns[i] = TH_NS_PER_MS; /* 1 ms of work in a 5 ms period */
	const struct app_clock clk = { .now_ns = sim_now, .sleep_until = sim_sleep_until, .user = &c };
	uint64_t t0 = c.now;
	struct app *a = paced_app(&c, &clk, 200, 11);
	assert_int_equal(app_run(a, NULL), 0);
	assert_int_equal(app_frames(a), 11);
	/* 10 gaps (the last frame ends the run). The grid starts where frame 0
	 * ended (t0 + 1 ms); each deadline is one period after the one before,
	 * whatever the work took. */
	assert_int_equal(c.n_sleeps, 10);
	for (unsigned i = 0; i < c.n_sleeps; i++)
		assert_int_equal(c.sleeps[i], t0 + TH_NS_PER_MS + (i + 1) * 5 * TH_NS_PER_MS);
	assert_int_equal(c.now, t0 + TH_NS_PER_MS + 10 * 5 * TH_NS_PER_MS + TH_NS_PER_MS);
	app_destroy(&a);
}

static void a_late_frame_does_not_cause_a_burst(void **state)
{
	struct sim_clock c = { .now = TH_NS_PER_S };
	for (int i = 0; i < 32; i++)
		c.work_ns[i] = TH_NS_PER_MS;
	c.work_ns[3] = 6 * TH_NS_PER_MS;  /* late by less than a period: the next frame catches up */
	c.work_ns[6] = 17 * TH_NS_PER_MS; /* late by more: the schedule restarts from now */
	const struct app_clock clk = { .now_ns = sim_now, .sleep_until = sim_sleep_until, .user = &c };
	uint64_t t0 = c.now;
	struct app *a = paced_app(&c, &clk, 200, 10);
	assert_int_equal(app_run(a, NULL), 0);
	/* In ms after t0: frame 0 ends at 1 (the grid's origin) and sleeps to 6;
	 * frames 1 and 2 to 11 and 16. Frame 3 (6 ms) ends at 22, 1 ms past its
	 * deadline 21: no sleep, the grid stays. Frame 4 ends at 23 and sleeps
	 * to 26, back on the grid; frame 5 to 31. Frame 6 (17 ms) ends at 48,
	 * 12 ms (more than a period) past 36: no sleep and the grid restarts at
	 * 48, so frames 7 and 8 sleep to 53 and 58 instead of running back to
	 * back to make up for it; frame 9 ends the run. */
	static const uint64_t want_ms[] = { 6, 11, 16, 26, 31, 53, 58 };
	static const uint64_t want_frame[] = { 0, 1, 2, 4, 5, 7, 8 };
	assert_int_equal(c.n_sleeps, 7);
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(c.sleeps[i], t0 + want_ms[i] * TH_NS_PER_MS);
		assert_int_equal(c.slept_after[i], want_frame[i]);
	}
	app_destroy(&a);
}

static void sneaky_system(struct sim_ctx *ctx)
{
	struct th_c_velocity v;
	sim_get(ctx->world, *(sim_entity *)ctx->user_data, TH_COMP_VELOCITY, &v);
}

static void undeclared_access_fails_the_frame(void **state)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .no_pacing = true, .access = SIM_ACCESS_ERROR }, NULL, &t);
	sim_entity e;
	unsigned comp = TH_COMP_VELOCITY;
	assert_int_equal(sim_spawn_with(app_world(a), 1, &comp, NULL, &e), 0);
	assert_int_equal(sim_sched_add(app_sched(a), &(struct sim_system_desc){ .name = "sneaky",
		.stage = SIM_STAGE_RENDER, .fn = sneaky_system, .user_data = &e }, NULL), 0);
	assert_int_equal(app_step(a), -EACCES);
	app_destroy(&a);
}

static void null_renderer_counts_drawable_meshes(void **state)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .no_pacing = true }, NULL, &t);
	struct app_renderer *r;
	assert_int_equal(app_null_renderer_create(app_world(a), &r), 0);
	assert_int_equal(app_attach(a, NULL, NULL, r), 0);
	unsigned comps[2] = { TH_COMP_TRANSFORM, TH_COMP_MESH_REF };
	struct th_c_mesh_ref m = { .mesh = 5 };
	const void *vals[2] = { NULL, &m };
	sim_entity e[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(sim_spawn_with(app_world(a), i == 2 ? 1 : 2, comps, vals, &e[i]), 0);
	assert_int_equal(app_step(a), 0);
	struct app_null_renderer *nr = (struct app_null_renderer *)r;
	assert_int_equal(nr->frames, 1);
	assert_int_equal(nr->last_drawn, 2);
	assert_int_equal(sim_despawn(app_world(a), e[0]), 0);
	assert_int_equal(app_step(a), 0);
	assert_int_equal(nr->last_drawn, 1);
	app_destroy(&a);
}

static void outbox_commands_are_published_in_the_next_frame(void **state)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .no_pacing = true, .max_frames = 10 }, NULL, &t);
	struct app_null_transport *n = (struct app_null_transport *)t;
	uint8_t payload[16] = { 1, 2, 3 };
	assert_int_equal(app_submit(a, 3, 42, payload, sizeof payload), 0);
	assert_int_equal(app_submit(a, 3, 43, payload, 0), 0);
	assert_int_equal(app_outbox_len(a), 2);
	assert_int_equal(app_step(a), 0);
	assert_int_equal(n->commands, 2);
	assert_int_equal(app_outbox_len(a), 0);
	/* Bounded: a full outbox and an oversized payload are refused, not lost silently. */
	for (unsigned i = 0; i < APP_OUTBOX_MAX; i++)
		assert_int_equal(app_submit(a, 3, i, payload, sizeof payload), 0);
	assert_int_equal(app_submit(a, 3, 0, payload, sizeof payload), -ENOBUFS);
	static uint8_t big[APP_COMMAND_MAX_PAYLOAD + 1];
	assert_int_equal(app_submit(a, 3, 0, big, sizeof big), -EMSGSIZE);
	assert_int_equal(app_step(a), 0);
	assert_int_equal(n->commands, 2 + APP_OUTBOX_MAX);
	app_destroy(&a);
}

static void bad_rate_is_rejected(void **state)
{
	struct app *a = NULL;
	assert_int_equal(app_create(&(struct app_config){ .rate_hz = 0.5 }, &a), -EINVAL);
	assert_int_equal(app_create(&(struct app_config){ .rate_hz = 1e6 }, &a), -EINVAL);
	assert_null(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scripted_run_is_deterministic_and_quits),
		cmocka_unit_test(max_frames_stops_the_loop),
		cmocka_unit_test(stop_flag_ends_the_run),
		cmocka_unit_test(pacing_holds_frames_to_the_rate),
		cmocka_unit_test(a_late_frame_does_not_cause_a_burst),
		cmocka_unit_test(undeclared_access_fails_the_frame),
		cmocka_unit_test(null_renderer_counts_drawable_meshes),
		cmocka_unit_test(outbox_commands_are_published_in_the_next_frame),
		cmocka_unit_test(bad_rate_is_rejected),
	};
	return cmocka_run_group_tests_name("app_loop", tests, NULL, NULL);
}
