/* theta-client/gfx/gfx_xr_state.c: the OpenXR session lifecycle as a pure
 * function: every transition (allowed or not) from every phase, loss
 * pending, instance loss, the client's quit and its timeout, and in which
 * phases frames run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openxr/openxr.h>

#include "gfx/gfx_xr_state.h"

static int step_phase(struct gfx_xr_state *s, enum gfx_xr_phase p)
{
	return gfx_xr_state_step(s, &(struct gfx_xr_event){ .kind = GFX_XR_EV_STATE, .phase = p }, 0);
}

static int quit_at(struct gfx_xr_state *s, uint64_t now)
{
	return gfx_xr_state_step(s, &(struct gfx_xr_event){ .kind = GFX_XR_EV_QUIT }, now);
}

/* Drives a fresh state along the normal path up to p (as a runtime would). */
static void reach(struct gfx_xr_state *s, enum gfx_xr_phase p)
{
	static const enum gfx_xr_phase path[] = { GFX_XR_IDLE, GFX_XR_READY, GFX_XR_SYNCHRONIZED, GFX_XR_VISIBLE,
						  GFX_XR_FOCUSED };
	static const enum gfx_xr_phase down[] = { GFX_XR_VISIBLE, GFX_XR_SYNCHRONIZED, GFX_XR_STOPPING };
	gfx_xr_state_init(s);
	if (p == GFX_XR_UNKNOWN)
		return;
	if (p == GFX_XR_LOSS_PENDING) {
		assert_int_equal(step_phase(s, GFX_XR_LOSS_PENDING), GFX_XR_DO_DESTROY);
		return;
	}
	if (p == GFX_XR_EXITING) {
		assert_true(step_phase(s, GFX_XR_IDLE) >= 0);
		assert_int_equal(step_phase(s, GFX_XR_EXITING), GFX_XR_DO_DESTROY);
		return;
	}
	for (size_t i = 0; i < sizeof path / sizeof *path; i++) {
		assert_true(step_phase(s, path[i]) >= 0);
		if (path[i] == p)
			return;
	}
	for (size_t i = 0; i < sizeof down / sizeof *down; i++) {
		assert_true(step_phase(s, down[i]) >= 0);
		if (down[i] == p)
			return;
	}
	fail_msg("phase %d not reached", p);
}

static void phases_have_xr_numbers(void **state)
{
	assert_int_equal(GFX_XR_IDLE, XR_SESSION_STATE_IDLE);
	assert_int_equal(GFX_XR_READY, XR_SESSION_STATE_READY);
	assert_int_equal(GFX_XR_SYNCHRONIZED, XR_SESSION_STATE_SYNCHRONIZED);
	assert_int_equal(GFX_XR_VISIBLE, XR_SESSION_STATE_VISIBLE);
	assert_int_equal(GFX_XR_FOCUSED, XR_SESSION_STATE_FOCUSED);
	assert_int_equal(GFX_XR_STOPPING, XR_SESSION_STATE_STOPPING);
	assert_int_equal(GFX_XR_LOSS_PENDING, XR_SESSION_STATE_LOSS_PENDING);
	assert_int_equal(GFX_XR_EXITING, XR_SESSION_STATE_EXITING);
	assert_string_equal(gfx_xr_phase_name(GFX_XR_LOSS_PENDING), "loss pending");
	assert_string_equal(gfx_xr_phase_name(GFX_XR_FOCUSED), "focused");
	assert_string_equal(gfx_xr_phase_name((enum gfx_xr_phase)42), "?");
}

static void the_normal_life_begins_runs_frames_ends_and_exits(void **state)
{
	struct gfx_xr_state s;
	gfx_xr_state_init(&s);
	assert_false(gfx_xr_state_runs_frames(&s));
	assert_int_equal(step_phase(&s, GFX_XR_IDLE), 0);
	assert_false(gfx_xr_state_runs_frames(&s));
	assert_int_equal(step_phase(&s, GFX_XR_READY), GFX_XR_DO_BEGIN);
	assert_true(s.running);
	assert_true(gfx_xr_state_runs_frames(&s)); /* frames run from the begin on */
	assert_int_equal(step_phase(&s, GFX_XR_SYNCHRONIZED), 0);
	assert_true(gfx_xr_state_runs_frames(&s));
	assert_int_equal(step_phase(&s, GFX_XR_VISIBLE), 0);
	assert_true(gfx_xr_state_runs_frames(&s));
	assert_int_equal(step_phase(&s, GFX_XR_FOCUSED), 0);
	assert_true(gfx_xr_state_runs_frames(&s));
	/* The runtime walks it down (the user quit from its menu). */
	assert_int_equal(step_phase(&s, GFX_XR_VISIBLE), 0);
	assert_true(gfx_xr_state_runs_frames(&s));
	assert_int_equal(step_phase(&s, GFX_XR_SYNCHRONIZED), 0);
	assert_true(gfx_xr_state_runs_frames(&s));
	assert_false(s.done);
	assert_int_equal(step_phase(&s, GFX_XR_STOPPING), GFX_XR_DO_END);
	assert_false(s.running);
	assert_false(gfx_xr_state_runs_frames(&s));
	assert_int_equal(step_phase(&s, GFX_XR_IDLE), 0);
	assert_false(s.done);
	assert_int_equal(step_phase(&s, GFX_XR_EXITING), GFX_XR_DO_DESTROY);
	assert_true(s.done);
	assert_false(s.lost);
	assert_false(s.timed_out);
	assert_false(gfx_xr_state_runs_frames(&s));
	/* After the end nothing matters any more. */
	assert_int_equal(step_phase(&s, GFX_XR_READY), 0);
	assert_int_equal(quit_at(&s, 0), 0);
	assert_int_equal(gfx_xr_state_tick(&s, UINT64_MAX), 0);
}

static void idle_after_stopping_may_begin_again(void **state)
{
	struct gfx_xr_state s;
	reach(&s, GFX_XR_STOPPING);
	assert_int_equal(step_phase(&s, GFX_XR_IDLE), 0);
	assert_int_equal(step_phase(&s, GFX_XR_READY), GFX_XR_DO_BEGIN);
	assert_true(gfx_xr_state_runs_frames(&s));
}

/* The whole table: from every phase to every phase, what the lifecycle
 * allows and what the client does. */
static void every_transition_from_every_phase(void **state)
{
	enum { NO = -EPROTO, BEGIN = GFX_XR_DO_BEGIN, END = GFX_XR_DO_END, DESTROY = GFX_XR_DO_DESTROY };
	/* want[from][to]; the diagonal is a repeat (0); after loss pending and
	 * exiting every event is ignored (0). */
	static const int want[GFX_XR_PHASES][GFX_XR_PHASES] = {
		/*              unknown idle ready  sync  visible focused stopping loss     exiting */
		[GFX_XR_UNKNOWN] = { 0, 0, NO, NO, NO, NO, NO, DESTROY, NO },
		[GFX_XR_IDLE] = { 0, 0, BEGIN, NO, NO, NO, NO, DESTROY, DESTROY },
		[GFX_XR_READY] = { 0, NO, 0, 0, NO, NO, NO, DESTROY, NO },
		[GFX_XR_SYNCHRONIZED] = { 0, NO, NO, 0, 0, NO, END, DESTROY, NO },
		[GFX_XR_VISIBLE] = { 0, NO, NO, 0, 0, 0, NO, DESTROY, NO },
		[GFX_XR_FOCUSED] = { 0, NO, NO, NO, 0, 0, NO, DESTROY, NO },
		[GFX_XR_STOPPING] = { 0, 0, NO, NO, NO, NO, 0, DESTROY, NO },
		[GFX_XR_LOSS_PENDING] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		[GFX_XR_EXITING] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	};
	for (unsigned from = 0; from < GFX_XR_PHASES; from++)
		for (unsigned to = 1; to < GFX_XR_PHASES; to++) {
			struct gfx_xr_state s;
			reach(&s, from);
			struct gfx_xr_state before = s;
			int r = step_phase(&s, to);
			if (r != want[from][to])
				fail_msg("%s -> %s: got %d, want %d", gfx_xr_phase_name(from), gfx_xr_phase_name(to), r,
					 want[from][to]);
			if (r == -EPROTO) {
				assert_int_equal(s.phase, before.phase);
				assert_int_equal(s.running, before.running);
				assert_int_equal(s.done, before.done);
			} else if (!before.done) {
				assert_int_equal(s.phase, to);
			}
			if (to == GFX_XR_LOSS_PENDING && !before.done) {
				assert_true(s.done);
				assert_true(s.lost);
				assert_false(gfx_xr_state_runs_frames(&s));
			}
		}
}

static void out_of_range_events_are_refused(void **state)
{
	struct gfx_xr_state s;
	reach(&s, GFX_XR_FOCUSED);
	assert_int_equal(step_phase(&s, (enum gfx_xr_phase)GFX_XR_PHASES), -EINVAL);
	assert_int_equal(step_phase(&s, GFX_XR_UNKNOWN), -EINVAL);
	assert_int_equal(gfx_xr_state_step(&s, &(struct gfx_xr_event){ .kind = 99 }, 0), -EINVAL);
	assert_int_equal(s.phase, GFX_XR_FOCUSED);
	assert_true(gfx_xr_state_runs_frames(&s));
}

static void loss_pending_while_focused_destroys_without_ending(void **state)
{
	struct gfx_xr_state s;
	reach(&s, GFX_XR_FOCUSED);
	assert_int_equal(step_phase(&s, GFX_XR_LOSS_PENDING), GFX_XR_DO_DESTROY);
	assert_true(s.lost);
	assert_true(s.done);
	assert_false(s.running);
	assert_false(gfx_xr_state_runs_frames(&s));
}

static void instance_loss_destroys_from_any_phase(void **state)
{
	for (unsigned from = 0; from < GFX_XR_PHASES; from++) {
		struct gfx_xr_state s;
		reach(&s, from);
		bool was_done = s.done;
		int r = gfx_xr_state_step(&s, &(struct gfx_xr_event){ .kind = GFX_XR_EV_INSTANCE_LOSS }, 0);
		assert_int_equal(r, was_done ? 0 : GFX_XR_DO_DESTROY);
		assert_true(s.done);
		assert_false(gfx_xr_state_runs_frames(&s));
		if (!was_done)
			assert_true(s.lost);
	}
}

static void quit_while_running_requests_exit_and_waits_for_exiting(void **state)
{
	struct gfx_xr_state s;
	reach(&s, GFX_XR_FOCUSED);
	assert_int_equal(quit_at(&s, 1000), GFX_XR_DO_REQUEST);
	assert_true(s.exit_requested);
	assert_int_equal(quit_at(&s, 2000), 0); /* asked once */
	assert_true(gfx_xr_state_runs_frames(&s));  /* frames go on until the runtime walks down */
	assert_int_equal(gfx_xr_state_tick(&s, 1000 + GFX_XR_EXIT_TIMEOUT_NS - 1), 0);
	assert_int_equal(step_phase(&s, GFX_XR_VISIBLE), 0);
	assert_int_equal(step_phase(&s, GFX_XR_SYNCHRONIZED), 0);
	assert_int_equal(step_phase(&s, GFX_XR_STOPPING), GFX_XR_DO_END);
	assert_int_equal(step_phase(&s, GFX_XR_IDLE), 0);
	assert_false(s.done);
	assert_int_equal(step_phase(&s, GFX_XR_EXITING), GFX_XR_DO_DESTROY);
	assert_true(s.done);
	assert_false(s.lost);
	assert_false(s.timed_out);
}

static void quit_before_ready_destroys_at_once(void **state)
{
	struct gfx_xr_state s;
	reach(&s, GFX_XR_IDLE);
	assert_int_equal(quit_at(&s, 0), GFX_XR_DO_DESTROY);
	assert_true(s.done);
	assert_false(s.exit_requested);
	struct gfx_xr_state u;
	gfx_xr_state_init(&u);
	assert_int_equal(quit_at(&u, 0), GFX_XR_DO_DESTROY);
}

static void ready_after_a_requested_exit_is_not_begun(void **state)
{
	/* A runtime that goes back to ready instead of exiting. */
	struct gfx_xr_state s;
	reach(&s, GFX_XR_SYNCHRONIZED);
	assert_int_equal(quit_at(&s, 0), GFX_XR_DO_REQUEST);
	assert_int_equal(step_phase(&s, GFX_XR_STOPPING), GFX_XR_DO_END);
	assert_int_equal(step_phase(&s, GFX_XR_IDLE), 0);
	assert_int_equal(step_phase(&s, GFX_XR_READY), GFX_XR_DO_DESTROY);
	assert_true(s.done);
	assert_false(s.running);
}

static void a_requested_exit_that_never_comes_times_out(void **state)
{
	struct gfx_xr_state s;
	reach(&s, GFX_XR_FOCUSED);
	assert_int_equal(gfx_xr_state_tick(&s, UINT64_MAX), 0); /* nothing requested */
	assert_int_equal(quit_at(&s, 5000), GFX_XR_DO_REQUEST);
	assert_int_equal(gfx_xr_state_tick(&s, 5000 + GFX_XR_EXIT_TIMEOUT_NS), GFX_XR_DO_END | GFX_XR_DO_DESTROY);
	assert_true(s.timed_out);
	assert_true(s.done);
	assert_false(s.lost);
	assert_int_equal(gfx_xr_state_tick(&s, UINT64_MAX), 0);

	/* Stopping already ended it: only the destroy is left. */
	reach(&s, GFX_XR_SYNCHRONIZED);
	assert_int_equal(quit_at(&s, 0), GFX_XR_DO_REQUEST);
	assert_int_equal(step_phase(&s, GFX_XR_STOPPING), GFX_XR_DO_END);
	assert_int_equal(gfx_xr_state_tick(&s, GFX_XR_EXIT_TIMEOUT_NS), GFX_XR_DO_DESTROY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(phases_have_xr_numbers),
		cmocka_unit_test(the_normal_life_begins_runs_frames_ends_and_exits),
		cmocka_unit_test(idle_after_stopping_may_begin_again),
		cmocka_unit_test(every_transition_from_every_phase),
		cmocka_unit_test(out_of_range_events_are_refused),
		cmocka_unit_test(loss_pending_while_focused_destroys_without_ending),
		cmocka_unit_test(instance_loss_destroys_from_any_phase),
		cmocka_unit_test(quit_while_running_requests_exit_and_waits_for_exiting),
		cmocka_unit_test(quit_before_ready_destroys_at_once),
		cmocka_unit_test(ready_after_a_requested_exit_is_not_begun),
		cmocka_unit_test(a_requested_exit_that_never_comes_times_out),
	};
	return cmocka_run_group_tests_name("gfx_xr_state", tests, NULL, NULL);
}
