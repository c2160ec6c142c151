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

static void pacing_holds_frames_to_the_rate(void **state)
{
	struct app_transport *t;
	struct app *a = make_app(&(struct app_config){ .rate_hz = 200, .max_frames = 11 }, NULL, &t);
	uint64_t t0 = th_now_ns();
	assert_int_equal(app_run(a, NULL), 0);
	/* 10 paced gaps of 5 ms each at least (sleeping never ends early). */
	assert_true(th_now_ns() - t0 >= 10 * 5 * TH_NS_PER_MS - TH_NS_PER_MS);
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
		cmocka_unit_test(undeclared_access_fails_the_frame),
		cmocka_unit_test(null_renderer_counts_drawable_meshes),
		cmocka_unit_test(outbox_commands_are_published_in_the_next_frame),
		cmocka_unit_test(bad_rate_is_rejected),
	};
	return cmocka_run_group_tests_name("app_loop", tests, NULL, NULL);
}
