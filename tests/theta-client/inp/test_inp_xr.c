/* The OpenXR input source (theta-client/inp/inp_xr.c) as the client runs
 * it: bound by the renderer's OpenXR backend (gfx/gfx_xr.c) through the real
 * Khronos loader (libopenxr-loader1) to the project's test runtime
 * (tests/xrt/, docs/xr-test-runtime.md), whose controllers an XRT_INPUT
 * theta-script moves and presses and whose record shows what the client
 * asked for (attach, profiles, haptic pulses, syncs). The test drives the
 * backend as gfx.c and the loop do: wait_frame, inp_poll, begin_frame,
 * end_frame (nothing is drawn: the source is under test, not the images).
 *
 * With XRT_UNPACED=1 frame k (from 1) of a session has script time
 * (k - 1) * XI_PERIOD_NS; the scripts put their events between frames so
 * each lands on a known frame. Frame 1 is never focused (the runtime's
 * FOCUSED comes with the first xrWaitFrame and the backend sees it at the
 * next), so the hands are first tracked at frame 2. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gfx/gfx_backend.h"
#include "gfx/gfx_vk.h"
#include "inp/inp_xr.h"
#include "th_harness.h"
#include "th_schema.h"
#include "th_stderr.h"
#include "th_xrt.h"

#define XI_PERIOD_NS 11111111ull /* the runtime's 90 Hz */
#define XI_FRAMES_MAX 200u       /* the loop's bound (a runtime that never ends) */
#define XI_EPS 1e-5

struct xi {
	char dir[PATH_MAX];
	char record[PATH_MAX + 16];
	char script[PATH_MAX + 16];
	char err[PATH_MAX + 16];
	struct inp_source *src;
	struct gfx_backend *b;
	struct gfx_vk *vk;
	struct inp_state in;
	uint32_t frames; /* this session's (the runtime's frame numbers) */
	int end;         /* what stopped run() */
	struct inp_state at[XI_FRAMES_MAX + 1]; /* the state after frame k's poll, at[k] */
	/* haptic pulses asked at a frame (after its poll) */
	uint32_t pulse_frame;
	int pulse_rc[4];
};

static void runtime_env(const struct xi *t)
{
	assert_int_equal(th_xrt_env(t->record), 0); /* make test builds the runtime first */
	setenv("XRT_EXIT_AFTER", "20", 1);
	setenv("XRT_PROFILE", "oculus/touch_controller", 1);
}

static int setup(void **state)
{
	struct xi *t = calloc(1, sizeof *t);
	assert_non_null(t);
	assert_int_equal(th_mkdtemp(t->dir, sizeof t->dir), 0);
	snprintf(t->record, sizeof t->record, "%s/record", t->dir);
	snprintf(t->script, sizeof t->script, "%s/input.script", t->dir);
	snprintf(t->err, sizeof t->err, "%s/stderr", t->dir);
	runtime_env(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct xi *t = *state;
	/* What a failed case left up (the runtime takes one instance at a time). */
	if (t->vk) {
		t->b->ops->detach(t->b);
		gfx_vk_destroy(&t->vk);
	}
	if (t->b)
		t->b->ops->destroy(t->b);
	inp_destroy(&t->src);
	th_rm_rf(t->dir);
	free(t);
	return 0;
}

static void script(struct xi *t, const char *text)
{
	FILE *f = fopen(t->script, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	setenv("XRT_INPUT", t->script, 1);
}

/* ---- the backend as gfx.c drives it --------------------------------------------- */

static void context_up(struct xi *t)
{
	struct gfx_vk_config vc = { .validation = true };
	assert_int_equal(t->b->ops->vk_config(t->b, &vc), 0);
	assert_int_equal(gfx_vk_create(&vc, &t->vk), 0);
	VkFormat format;
	bool srgb;
	assert_int_equal(t->b->ops->attach(t->b, t->vk, &format, &srgb), 0);
	t->frames = 0;
}

static void context_down(struct xi *t)
{
	t->b->ops->detach(t->b);
	uint64_t messages = t->vk->validation_messages;
	gfx_vk_destroy(&t->vk);
	assert_int_equal(messages, 0);
}

/* The source, the backend bound to it (its instance: the action set and
 * the suggestions), and a context with the session. */
static void up(struct xi *t)
{
	assert_int_equal(inp_xr_create(&t->src), 0);
	assert_true(inp_xr_is(t->src));
	assert_int_equal(gfx_xr_create(&(struct gfx_xr_config){ .app_name = "theta-client", .input = t->src }, &t->b), 0);
	inp_state_init(&t->in);
	context_up(t);
}

static void down(struct xi *t)
{
	if (t->vk)
		context_down(t);
	t->b->ops->destroy(t->b);
	t->b = NULL;
	inp_destroy(&t->src);
}

/* Frames until the backend says stop (1), something fails, or max ran. */
static void run(struct xi *t, uint32_t max)
{
	t->end = 0;
	for (uint32_t i = 0; i < max; i++) {
		uint64_t display_ns = 0;
		int e = t->b->ops->wait_frame(t->b, &display_ns);
		if (e) {
			t->end = e;
			return;
		}
		t->frames++;
		assert_true(inp_poll(t->src, 0, &t->in) >= 0);
		if (t->frames <= XI_FRAMES_MAX)
			t->at[t->frames] = t->in;
		if (t->pulse_frame && t->frames == t->pulse_frame) {
			t->pulse_rc[0] = inp_haptic(t->src, INP_RIGHT, INP_PULSE_SELECT_AMPLITUDE, INP_PULSE_SELECT_NS);
			t->pulse_rc[1] = inp_haptic(t->src, INP_LEFT, 1.0f, 0);
			t->pulse_rc[2] = inp_haptic(t->src, INP_RIGHT, 1.5f, INP_PULSE_SELECT_NS);
			t->pulse_rc[3] = inp_haptic(t->src, INP_RIGHT, 0.5f, INP_XR_HAPTIC_MAX_NS + 1);
		}
		struct gfx_frame f;
		e = t->b->ops->begin_frame(t->b, NULL, &f);
		if (!e)
			e = t->b->ops->end_frame(t->b, &f, VK_NULL_HANDLE);
		if (e) {
			t->end = e;
			return;
		}
	}
}

/* ---- the record ------------------------------------------------------------------ */

/* No call the runtime refused or lacked (those it did are printed). */
static void assert_no_errors(const char *rec)
{
	th_xrt_print_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "error "), 0);
	assert_int_equal(th_xrt_lines(rec, "unsupported "), 0);
}

/* ---- poses ----------------------------------------------------------------------- */

static void assert_pose(const struct inp_pose *p, const float pos[3], const float q[4])
{
	assert_true(p->valid);
	for (int i = 0; i < 3; i++)
		assert_float_equal(p->position[i], pos[i], XI_EPS);
	float len = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
	float s = p->rotation[3] * q[3] >= 0 ? 1.0f : -1.0f; /* q and -q are one rotation */
	for (int i = 0; i < 4; i++)
		assert_float_equal(p->rotation[i], s * q[i] / len, XI_EPS);
}

/* ---- every profile binds -------------------------------------------------------- */

static const float head_pos[3] = { 0.1f, 1.7f, 0.05f };
static const float head_q[4] = { 0, 0.258819f, 0, 0.9659258f }; /* 30 degrees about +Y */
static const float left_pos[3] = { -0.2f, 1.1f, -0.3f };
static const float left_q[4] = { 0, 0, 0, 1 };
static const float right_pos[3] = { 0.25f, 1.15f, -0.35f };
static const float right_q[4] = { 0.1f, 0.2f, 0.3f, 0.9f }; /* normalised by the script's parser */

/* Every control of both hands pressed at 50 ms (frame 6: 55.6 ms) and let
 * go at 150 ms (frame 15: 155.6 ms). */
#define ALL_PRESS(h)                                                                                             \
	"50ms " h " press a\n50ms " h " press b\n50ms " h " press x\n50ms " h " press y\n50ms " h " press menu\n"  \
	"50ms " h " press thumbstick\n50ms " h " press trigger\n50ms " h " press grip\n50ms " h " trigger 0.8\n"   \
	"50ms " h " grip 0.9\n50ms " h " thumbstick 0.5 -0.25\n"
#define ALL_RELEASE(h)                                                                                           \
	"150ms " h " release a\n150ms " h " release b\n150ms " h " release x\n150ms " h " release y\n"            \
	"150ms " h " release menu\n150ms " h " release thumbstick\n150ms " h " release trigger\n"                 \
	"150ms " h " release grip\n150ms " h " trigger 0\n150ms " h " grip 0\n150ms " h " thumbstick 0 0\n"
static const char all_script[] = "theta-script 1\n"
				 "0s head pose 0.1 1.7 0.05 0 0.258819 0 0.9659258\n"
				 "0s left pose -0.2 1.1 -0.3 0 0 0 1\n"
				 "0s right pose 0.25 1.15 -0.35 0.1 0.2 0.3 0.9\n" ALL_PRESS("left") ALL_PRESS("right")
					 ALL_RELEASE("left") ALL_RELEASE("right");
#define ALL_PRESS_FRAME 6u
#define ALL_RELEASE_FRAME 15u

#define B_CLICKS (TH_BUTTON_THUMBSTICK | TH_BUTTON_TRIGGER | TH_BUTTON_GRIP)
static const struct {
	const char *name; /* XRT_PROFILE */
	unsigned index;   /* in inp_xr_profiles */
	uint32_t buttons[INP_HANDS];
	float trigger, grip; /* both hands */
	bool stick;          /* the thumbstick (or trackpad) reads 0.5, -0.25 */
} profile_case[] = {
	/* select/click is the trigger's click (its value 1); no squeeze, no stick */
	{ "khr/simple_controller", 0, { TH_BUTTON_TRIGGER | TH_BUTTON_MENU, TH_BUTTON_TRIGGER | TH_BUTTON_MENU }, 1.0f, 0, false },
	/* values only: trigger and squeeze click from them */
	{ "oculus/touch_controller", 1,
	  { TH_BUTTON_X | TH_BUTTON_Y | TH_BUTTON_MENU | B_CLICKS, TH_BUTTON_A | TH_BUTTON_B | B_CLICKS }, 0.8f, 0.9f,
	  true },
	/* the left hand's A and B are X and Y */
	{ "valve/index_controller", 2, { TH_BUTTON_X | TH_BUTTON_Y | B_CLICKS, TH_BUTTON_A | TH_BUTTON_B | B_CLICKS },
	  0.8f, 0.9f, true },
	/* the trackpad is the stick; squeeze/click's value is 1 */
	{ "htc/vive_controller", 3, { TH_BUTTON_MENU | B_CLICKS, TH_BUTTON_MENU | B_CLICKS }, 0.8f, 1.0f, true },
	{ "microsoft/motion_controller", 4, { TH_BUTTON_MENU | B_CLICKS, TH_BUTTON_MENU | B_CLICKS }, 0.8f, 1.0f, true },
};

static void each_profile_binds_and_its_controls_arrive(void **state)
{
	struct xi *t = *state;
	script(t, all_script);
	for (size_t c = 0; c < sizeof profile_case / sizeof *profile_case; c++) {
		const char *name = profile_case[c].name;
		fprintf(stderr, "profile %s\n", name);
		setenv("XRT_PROFILE", name, 1);
		unlink(t->record);
		t->pulse_frame = 4;
		up(t);
		run(t, XI_FRAMES_MAX);
		assert_int_equal(t->end, 1); /* the runtime ended the session after 20 frames */
		struct inp_xr_stats st;
		inp_xr_stats(t->src, &st);
		assert_int_equal(st.profiles_suggested, INP_XR_PROFILES);
		assert_int_equal(st.errors, 0);
		assert_int_equal(st.haptics, 2);
		assert_int_equal(t->pulse_rc[0], 0);
		assert_int_equal(t->pulse_rc[1], 0);
		assert_int_equal(t->pulse_rc[2], -EINVAL);
		assert_int_equal(t->pulse_rc[3], -EINVAL);
		char path[INP_PROFILE_MAX];
		snprintf(path, sizeof path, "/interaction_profiles/%s", name);
		assert_string_equal(inp_xr_profiles[profile_case[c].index], path);

		/* Frame 1: not focused yet, the hands untracked, the profile known. */
		assert_false(t->at[1].hand[0].pose.valid);
		assert_false(t->at[1].hand[1].pose.valid);
		for (uint32_t k = 2; k < ALL_PRESS_FRAME; k++) {
			const struct inp_state *s = &t->at[k];
			assert_pose(&s->head, head_pos, head_q);
			assert_pose(&s->hand[INP_LEFT].pose, left_pos, left_q);
			assert_pose(&s->hand[INP_LEFT].aim, left_pos, left_q); /* the runtime's aim is its grip */
			assert_pose(&s->hand[INP_RIGHT].pose, right_pos, right_q);
			assert_pose(&s->hand[INP_RIGHT].aim, right_pos, right_q);
			for (int h = 0; h < INP_HANDS; h++) {
				assert_string_equal(s->profile[h], path);
				assert_int_equal(s->hand[h].buttons, 0);
				assert_int_equal(s->hand[h].pressed, 0);
				assert_float_equal(s->hand[h].trigger, 0, XI_EPS);
			}
		}
		for (int h = 0; h < INP_HANDS; h++) {
			uint32_t want = profile_case[c].buttons[h];
			const struct inp_controller *p = &t->at[ALL_PRESS_FRAME].hand[h];
			fprintf(stderr, "  hand %d: buttons 0x%x (0x%x expected) trigger %.2f grip %.2f stick %.2f %.2f\n", h,
				p->buttons, want, p->trigger, p->grip, p->thumbstick[0], p->thumbstick[1]);
			assert_int_equal(p->buttons, want);
			assert_int_equal(p->pressed, want);
			assert_int_equal(p->released, 0);
			assert_float_equal(p->trigger, profile_case[c].trigger, XI_EPS);
			assert_float_equal(p->grip, profile_case[c].grip, XI_EPS);
			assert_float_equal(p->thumbstick[0], profile_case[c].stick ? 0.5f : 0, XI_EPS);
			assert_float_equal(p->thumbstick[1], profile_case[c].stick ? -0.25f : 0, XI_EPS);
			for (uint32_t k = ALL_PRESS_FRAME + 1; k < ALL_RELEASE_FRAME; k++) {
				assert_int_equal(t->at[k].hand[h].buttons, want);
				assert_int_equal(t->at[k].hand[h].pressed, 0);
				assert_int_equal(t->at[k].hand[h].released, 0);
			}
			const struct inp_controller *r = &t->at[ALL_RELEASE_FRAME].hand[h];
			assert_int_equal(r->buttons, 0);
			assert_int_equal(r->pressed, 0);
			assert_int_equal(r->released, want);
			assert_float_equal(r->trigger, 0, XI_EPS);
			assert_float_equal(r->grip, 0, XI_EPS);
			assert_float_equal(r->thumbstick[0], 0, XI_EPS);
		}
		uint32_t frames = t->frames;
		down(t);

		char *rec = th_xrt_read(t->record);
		assert_no_errors(rec);
		assert_int_equal(th_xrt_lines(rec, "attach id=1 sets=1"), 1);
		char line[256];
		snprintf(line, sizeof line, "profile id=1 hand=left path=%s", path);
		assert_int_equal(th_xrt_lines(rec, line), 1);
		snprintf(line, sizeof line, "profile id=1 hand=right path=%s", path);
		assert_int_equal(th_xrt_lines(rec, line), 1);
		/* The pulses (a select, and the runtime's shortest) reached the runtime. */
		snprintf(line, sizeof line, "haptic id=1 hand=right amplitude=%.3f duration_ns=%llu ",
			 INP_PULSE_SELECT_AMPLITUDE, (unsigned long long)INP_PULSE_SELECT_NS);
		assert_int_equal(th_xrt_lines(rec, line), 1);
		assert_int_equal(th_xrt_value(rec, line, "frame"), 4);
		assert_int_equal(th_xrt_lines(rec, "haptic id=1 hand=left amplitude=1.000 duration_ns=-1 "), 1);
		assert_int_equal(th_xrt_lines(rec, "haptic "), 2);
		/* Synced every focused frame, once each; none after the runtime
		 * began to end the session. */
		assert_int_equal(th_xrt_value(rec, "syncs id=1", "count"), (long long)st.syncs);
		assert_true(st.syncs >= ALL_RELEASE_FRAME - 1 && st.syncs < frames);
		assert_int_equal(st.syncs + st.unfocused, frames);
		assert_int_equal(th_xrt_lines(rec, "destroy_session id=1"), 1);
		free(rec);
	}
}

/* ---- edges ------------------------------------------------------------------------ */

static void edges_come_once_and_values_click_with_hysteresis(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n"
		  "0s right pose 0.2 1.2 -0.3 0 0 0 1\n"
		  "30ms right press a\n"    /* frame 4 (33.3 ms) */
		  "30ms right trigger 0.8\n"
		  "60ms right trigger 0.5\n" /* frame 7: still held (above 0.45) */
		  "90ms right trigger 0.4\n" /* frame 10: let go */
		  "120ms right release a\n"  /* frame 12 */
		  "125ms right press b\n"    /* both before frame 13 (133.3 ms) */
		  "127ms right release b\n");
	up(t);
	/* The loop's filter may rewrite the state (nav hides the grips): edges
	 * come from what the source itself last read. */
	run(t, 5);
	assert_int_equal(t->end, 0);
	t->in.hand[INP_RIGHT].buttons = 0;
	t->in.hand[INP_RIGHT].trigger = 0;
	run(t, 15);
	assert_int_equal(t->end, 0);
	const struct inp_controller *r = NULL;
	for (uint32_t k = 2; k <= 20; k++) {
		r = &t->at[k].hand[INP_RIGHT];
		uint32_t held = 0, pressed = 0, released = 0;
		if (k >= 4 && k < 12)
			held |= TH_BUTTON_A;
		if (k >= 4 && k < 10)
			held |= TH_BUTTON_TRIGGER;
		if (k == 13)
			held |= TH_BUTTON_B; /* pressed and let go between two syncs: held at one */
		if (k == 4)
			pressed = TH_BUTTON_A | TH_BUTTON_TRIGGER;
		if (k == 13)
			pressed = TH_BUTTON_B;
		if (k == 10)
			released = TH_BUTTON_TRIGGER;
		if (k == 12)
			released = TH_BUTTON_A;
		if (k == 14)
			released = TH_BUTTON_B;
		if (r->buttons != held || r->pressed != pressed || r->released != released)
			fail_msg("frame %u: buttons 0x%x pressed 0x%x released 0x%x, expected 0x%x 0x%x 0x%x", k, r->buttons,
				 r->pressed, r->released, held, pressed, released);
		assert_true(r->pose.valid);
	}
	assert_float_equal(t->at[7].hand[INP_RIGHT].trigger, 0.5f, XI_EPS);
	/* The left hand has no pose in the script: untracked, at rest. */
	assert_false(t->at[5].hand[INP_LEFT].pose.valid);
	assert_int_equal(t->at[5].hand[INP_LEFT].buttons, 0);
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	free(rec);
}

/* ---- focus ------------------------------------------------------------------------ */

/* Visible but not focused (another application has the input): the hands
 * are untracked and at rest, what was held is released, pulses are not
 * sent; the head is still where it is. Focused again: all comes back. */
static void unfocused_hands_are_untracked_and_at_rest(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n"
		  "0s head pose 0.1 1.7 0.05 0 0.258819 0 0.9659258\n"
		  "0s right pose 0.25 1.15 -0.35 0.1 0.2 0.3 0.9\n"
		  "0s right press a\n"
		  "0s right grip 0.9\n");
	setenv("XRT_UNFOCUSED", "8,12", 1);
	up(t);
	t->pulse_frame = 10;
	run(t, XI_FRAMES_MAX);
	assert_int_equal(t->end, 1);
	uint32_t first = 0, last = 0;
	for (uint32_t k = 2; k <= 20; k++) {
		const struct inp_controller *r = &t->at[k].hand[INP_RIGHT];
		assert_pose(&t->at[k].head, head_pos, head_q); /* the head is tracked throughout */
		if (r->pose.valid) {
			assert_int_equal(r->buttons, TH_BUTTON_A | TH_BUTTON_GRIP);
			assert_pose(&r->pose, right_pos, right_q);
			continue;
		}
		if (!first) {
			first = k;
			assert_int_equal(r->released, TH_BUTTON_A | TH_BUTTON_GRIP);
		}
		last = k;
		assert_int_equal(r->buttons, 0);
		assert_float_equal(r->grip, 0, XI_EPS);
		assert_false(r->aim.valid);
	}
	fprintf(stderr, "untracked from frame %u to %u\n", first, last);
	assert_true(first >= 8 && first <= 10);
	assert_true(last >= 12 && last <= 14);
	assert_true(last < 19); /* tracked again before the runtime ends the session */
	assert_int_equal(t->at[last + 1].hand[INP_RIGHT].pressed, TH_BUTTON_A | TH_BUTTON_GRIP);
	assert_int_equal(t->pulse_rc[0], -EAGAIN); /* the runtime ignored it */
	struct inp_xr_stats st;
	inp_xr_stats(t->src, &st);
	assert_int_equal(st.haptics, 0);
	assert_true(st.unfocused >= 1 + (last - first + 1));
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "haptic "), 0);
	free(rec);
}

/* ---- profiles ------------------------------------------------------------------- */

static void a_profile_change_is_seen_and_no_controllers_read_as_none(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n0s right pose 0.2 1.2 -0.3 0 0 0 1\n0s right press b\n");
	setenv("XRT_PROFILE_SWITCH", "5:valve/index_controller", 1);
	up(t);
	run(t, XI_FRAMES_MAX);
	assert_int_equal(t->end, 1);
	assert_string_equal(t->at[3].profile[INP_RIGHT], "/interaction_profiles/oculus/touch_controller");
	assert_string_equal(t->at[3].profile[INP_LEFT], "/interaction_profiles/oculus/touch_controller");
	assert_string_equal(t->at[8].profile[INP_RIGHT], "/interaction_profiles/valve/index_controller");
	assert_int_equal(t->at[8].hand[INP_RIGHT].buttons, TH_BUTTON_B); /* index has b on the right too */
	struct inp_xr_stats st;
	inp_xr_stats(t->src, &st);
	assert_int_equal(st.profile_changes, 2); /* at attach, and the switch */
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "profile id=1 hand=right path=/interaction_profiles/valve/index_controller"), 1);
	free(rec);

	/* A headset without controllers: synced, nothing bound, nothing tracked. */
	unsetenv("XRT_PROFILE_SWITCH");
	setenv("XRT_PROFILE", "none", 1);
	up(t);
	run(t, XI_FRAMES_MAX);
	assert_int_equal(t->end, 1);
	for (uint32_t k = 2; k <= 10; k++)
		for (int h = 0; h < INP_HANDS; h++) {
			assert_string_equal(t->at[k].profile[h], "");
			assert_false(t->at[k].hand[h].pose.valid);
			assert_int_equal(t->at[k].hand[h].buttons, 0);
		}
	inp_xr_stats(t->src, &st);
	assert_true(st.syncs > 0);
	assert_int_equal(st.errors, 0);
	down(t);
}

/* ---- the session's space ------------------------------------------------------------ */

/* Without a stage the backend's space is LOCAL (the head's start: 1.6 m
 * up); the poses are located in it, so they read 1.6 m lower. */
static void poses_are_in_the_backends_space(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n0s right pose 0.2 1.2 -0.3 0 0 0 1\n");
	setenv("XRT_NO_STAGE", "1", 1);
	up(t);
	run(t, 4);
	assert_int_equal(t->end, 0);
	assert_pose(&t->at[3].hand[INP_RIGHT].pose, (const float[3]){ 0.2f, 1.2f - 1.6f, -0.3f }, left_q);
	assert_pose(&t->at[3].head, (const float[3]){ 0, 0, 0 }, left_q);
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "space id=1 type=LOCAL"), 1);
	free(rec);
}

/* ---- the device-loss rebuild ---------------------------------------------------------- */

/* What gfx.c does on a device loss: detach (the session goes), a new
 * context, attach (a new session): the source is bound to the new one. */
static void a_rebuilt_context_rebinds_the_controllers(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n0s right pose 0.25 1.15 -0.35 0.1 0.2 0.3 0.9\n0s right press a\n");
	setenv("XRT_EXIT_AFTER", "0", 1);
	up(t);
	run(t, 6);
	assert_int_equal(t->end, 0);
	assert_int_equal(t->at[6].hand[INP_RIGHT].buttons, TH_BUTTON_A);
	context_down(t);
	/* Between the contexts: no session, the hands at rest (A let go). */
	assert_int_equal(inp_haptic(t->src, INP_RIGHT, 0.5f, INP_PULSE_SELECT_NS), -ENOTCONN);
	assert_int_equal(inp_poll(t->src, 0, &t->in), 1);
	assert_false(t->in.hand[INP_RIGHT].pose.valid);
	assert_int_equal(t->in.hand[INP_RIGHT].released, TH_BUTTON_A);
	context_up(t);
	t->pulse_frame = 4;
	run(t, 6);
	assert_int_equal(t->end, 0);
	assert_pose(&t->at[3].hand[INP_RIGHT].pose, right_pos, right_q);
	assert_int_equal(t->at[2].hand[INP_RIGHT].pressed, TH_BUTTON_A);
	assert_int_equal(t->pulse_rc[0], 0);
	down(t); /* detach asks the runtime to end the session */
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "attach id=1 sets=1"), 1);
	assert_int_equal(th_xrt_lines(rec, "attach id=2 sets=1"), 1);
	assert_int_equal(th_xrt_lines(rec, "haptic id=2 hand=right "), 1);
	assert_int_equal(th_xrt_lines(rec, "destroy_session id=2"), 1);
	free(rec);
}

/* ---- session loss ---------------------------------------------------------------------- */

/* The runtime loses the session (LOSS_PENDING after frame 5): the backend
 * destroys it, the source's spaces going first; the hands are at rest (A
 * let go), pulses have no session, and nothing was asked of the lost one. */
static void a_lost_session_leaves_the_hands_at_rest(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n0s right pose 0.25 1.15 -0.35 0.1 0.2 0.3 0.9\n0s right press a\n");
	setenv("XRT_LOSS_AT", "5", 1);
	up(t);
	run(t, XI_FRAMES_MAX);
	assert_int_equal(t->end, -ECONNRESET);
	assert_true(t->frames >= 5 && t->frames < 10);
	assert_int_equal(t->at[5].hand[INP_RIGHT].buttons, TH_BUTTON_A);
	assert_pose(&t->at[5].hand[INP_RIGHT].pose, right_pos, right_q);
	assert_int_equal(inp_poll(t->src, 0, &t->in), 1);
	assert_false(t->in.hand[INP_RIGHT].pose.valid);
	assert_false(t->in.head.valid);
	assert_int_equal(t->in.hand[INP_RIGHT].released, TH_BUTTON_A);
	assert_string_equal(t->in.profile[INP_RIGHT], "");
	assert_int_equal(inp_haptic(t->src, INP_RIGHT, 0.5f, INP_PULSE_SELECT_NS), -ENOTCONN);
	struct inp_xr_stats st;
	inp_xr_stats(t->src, &st);
	assert_int_equal(st.errors, 0);
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	assert_int_equal(th_xrt_lines(rec, "destroy_session id=1"), 1);
	free(rec);
}

/* ---- a runtime's garbage ------------------------------------------------------------------ */

/* XRT_GARBAGE=4: from frame 5 on the runtime's poses (flagged valid) and
 * values are those of a broken runtime, a different kind each frame
 * (docs/xr-test-runtime.md): a NaN or infinite position and a zero-length
 * quaternion are untracked, a quaternion of length 2 is normalised, values
 * past their ranges are clamped and NaN reads as rest. Nothing outside the
 * ranges reaches the state, and none of it is a failed call. */
static void a_runtimes_garbage_never_reaches_the_state(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n"
		  "0s head pose 0.1 1.7 0.05 0 0.258819 0 0.9659258\n"
		  "0s right pose 0.25 1.15 -0.35 0.1 0.2 0.3 0.9\n"
		  "0s right trigger 0.8\n"
		  "0s right thumbstick 0.5 -0.25\n"
		  "0s right press a\n");
	setenv("XRT_GARBAGE", "4", 1);
	up(t);
	run(t, 14);
	assert_int_equal(t->end, 0);
	/* frame k's poll sees k - 1 ended frames: garbage of kind (k - 1) % 4 once k - 1 >= 4 */
	static const struct {
		bool tracked;
		float trigger, stick[2];
	} want[4] = { { false, 0, { 0, 0 } },  /* NaN */
		      { false, 1, { 1, -1 } }, /* zero quaternion; 7, (7, -7) */
		      { false, 0, { -1, 1 } }, /* infinite position; -3, (-inf, inf) */
		      { true, 0.8f, { 0.5f, -0.25f } } }; /* a quaternion of length 2; the script's values */
	for (uint32_t k = 2; k <= 14; k++) {
		const struct inp_state *s = &t->at[k];
		const struct inp_controller *r = &s->hand[INP_RIGHT];
		unsigned kind = k - 1 >= 4 ? (k - 1) % 4 : 3;
		fprintf(stderr, "frame %u kind %u: tracked %d trigger %.2f stick %.2f %.2f\n", k, kind, r->pose.valid,
			r->trigger, r->thumbstick[0], r->thumbstick[1]);
		assert_int_equal(r->pose.valid, want[kind].tracked);
		assert_int_equal(r->aim.valid, want[kind].tracked);
		assert_int_equal(s->head.valid, want[kind].tracked);
		if (want[kind].tracked) {
			assert_pose(&r->pose, right_pos, right_q);
			assert_pose(&r->aim, right_pos, right_q);
			assert_pose(&s->head, head_pos, head_q);
		}
		assert_true(r->trigger >= 0 && r->trigger <= 1);
		assert_true(r->grip >= 0 && r->grip <= 1);
		assert_float_equal(r->trigger, want[kind].trigger, XI_EPS);
		for (int i = 0; i < 2; i++) {
			assert_true(r->thumbstick[i] >= -1 && r->thumbstick[i] <= 1);
			assert_float_equal(r->thumbstick[i], want[kind].stick[i], XI_EPS);
		}
		assert_true(r->buttons & TH_BUTTON_A); /* booleans have no garbage */
	}
	struct inp_xr_stats st;
	inp_xr_stats(t->src, &st);
	assert_int_equal(st.errors, 0);
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	free(rec);
}

/* ---- refusals ------------------------------------------------------------------------ */

static int create_backend(void *arg)
{
	struct xi *t = arg;
	return gfx_xr_create(&(struct gfx_xr_config){ .app_name = "theta-client", .input = t->src }, &t->b);
}

static void a_refused_profile_is_said_in_one_line_and_the_others_bind(void **state)
{
	struct xi *t = *state;
	setenv("XRT_REJECT_PROFILE", "valve/index_controller", 1);
	setenv("XRT_PROFILE", "valve/index_controller", 1);
	assert_int_equal(inp_xr_create(&t->src), 0);
	char err[4096];
	assert_int_equal(th_with_stderr(t->err, create_backend, t, err, sizeof err), 0);
	fprintf(stderr, "said: %s", err);
	assert_int_equal(th_count_lines(err, NULL), 2); /* the refusal and the backend's "OpenXR: RUNTIME, eyes ..." */
	assert_int_equal(th_count_lines(err, "OpenXR: Theta test runtime (xrt), eyes "), 1);
	assert_int_equal(th_count_lines(err, "OpenXR input: the runtime refused the bindings for "
					  "/interaction_profiles/valve/index_controller (xrSuggestInteractionProfileBindings: "
					  "XR_ERROR_PATH_UNSUPPORTED): those controllers will not work"),
			 1);
	struct inp_xr_stats st;
	inp_xr_stats(t->src, &st);
	assert_int_equal(st.profiles_suggested, INP_XR_PROFILES - 1);
	inp_state_init(&t->in);
	context_up(t);
	run(t, 5);
	/* The runtime's controllers are the refused ones: none current. */
	assert_string_equal(t->at[4].profile[INP_RIGHT], "");
	assert_false(t->at[4].hand[INP_RIGHT].pose.valid);
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_int_equal(th_xrt_lines(rec, "error fn=xrSuggestInteractionProfileBindings result=XR_ERROR_PATH_UNSUPPORTED"),
			 1);
	assert_int_equal(th_xrt_lines(rec, "error "), 1); /* nothing else was refused */
	assert_int_equal(th_xrt_lines(rec, "profile id=1 hand=right path=none"), 1);
	free(rec);
}

/* XRT_GARBAGE with a profile switch after it: the runtime names the new
 * profile with no OpenXR path. It reads as none (the log, the daemon and
 * thetactl never see it), said in one line. */
static int run_12(void *arg)
{
	struct xi *t = arg;
	run(t, 12);
	return t->end;
}

static void a_profile_with_a_malformed_path_reads_as_none(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n0s right pose 0.25 1.15 -0.35 0.1 0.2 0.3 0.9\n");
	setenv("XRT_GARBAGE", "3", 1);
	setenv("XRT_PROFILE_SWITCH", "5:valve/index_controller", 1);
	up(t);
	char err[4096];
	assert_int_equal(th_with_stderr(t->err, run_12, t, err, sizeof err), 0);
	fprintf(stderr, "said: %s", err);
	assert_int_equal(th_count_lines(err, NULL), 1);
	assert_int_equal(th_count_lines(err, "OpenXR input: the runtime names the left hand's interaction profile with a "
					  "path of 46 bytes that is no OpenXR path of at most 95 characters: read as none"),
			 1);
	assert_string_equal(t->at[4].profile[INP_RIGHT], "/interaction_profiles/oculus/touch_controller");
	for (uint32_t k = 7; k <= 12; k++)
		for (int h = 0; h < INP_HANDS; h++)
			assert_string_equal(t->at[k].profile[h], "");
	struct inp_xr_stats st;
	inp_xr_stats(t->src, &st);
	assert_int_equal(st.profile_changes, 2);
	assert_int_equal(st.errors, 2); /* both hands */
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_no_errors(rec);
	free(rec);
}

static int run_14(void *arg)
{
	struct xi *t = arg;
	run(t, 14);
	return t->end;
}

/* XRT_FAIL_INPUT=4: from frame 5 on xrSyncActions and xrLocateSpace (the
 * head) fail every frame, in turn. Each is said once, not once a frame;
 * every failure is counted; the hands are at rest, A let go once. */
static void calls_failing_every_frame_are_said_once_each(void **state)
{
	struct xi *t = *state;
	script(t, "theta-script 1\n0s right pose 0.25 1.15 -0.35 0.1 0.2 0.3 0.9\n0s right press a\n");
	setenv("XRT_FAIL_INPUT", "4", 1);
	up(t);
	char err[8192];
	assert_int_equal(th_with_stderr(t->err, run_14, t, err, sizeof err), 0);
	fprintf(stderr, "said: %s", err);
	assert_int_equal(th_count_lines(err, "OpenXR input: xrSyncActions: XR_ERROR_RUNTIME_FAILURE"), 1);
	assert_int_equal(th_count_lines(err, "OpenXR input: xrLocateSpace: XR_ERROR_RUNTIME_FAILURE"), 1);
	assert_int_equal(th_count_lines(err, NULL), 2);
	assert_int_equal(t->at[4].hand[INP_RIGHT].buttons, TH_BUTTON_A);
	assert_true(t->at[4].hand[INP_RIGHT].pose.valid);
	assert_int_equal(t->at[5].hand[INP_RIGHT].released, TH_BUTTON_A);
	for (uint32_t k = 5; k <= 14; k++) {
		assert_false(t->at[k].hand[INP_RIGHT].pose.valid);
		assert_false(t->at[k].head.valid);
		assert_int_equal(t->at[k].hand[INP_RIGHT].buttons, 0);
	}
	struct inp_xr_stats st;
	inp_xr_stats(t->src, &st);
	assert_int_equal(st.errors, 2 * 10); /* frames 5 to 14, two calls each */
	down(t);
	char *rec = th_xrt_read(t->record);
	assert_int_equal(th_xrt_lines(rec, "error fn=xrSyncActions result=XR_ERROR_RUNTIME_FAILURE"), 10);
	assert_int_equal(th_xrt_lines(rec, "error fn=xrLocateSpace result=XR_ERROR_RUNTIME_FAILURE"), 10);
	assert_int_equal(th_xrt_lines(rec, "error "), 20);
	free(rec);
}

static int create_null_input(void *arg)
{
	struct xi *t = arg;
	struct inp_source *null = NULL;
	assert_int_equal(inp_null_create(&null), 0);
	assert_false(inp_xr_is(null));
	int r = gfx_xr_create(&(struct gfx_xr_config){ .app_name = "theta-client", .input = null }, &t->b);
	inp_destroy(&null);
	return r;
}

static void an_input_that_is_not_openxr_is_refused_in_one_line(void **state)
{
	struct xi *t = *state;
	char err[4096];
	assert_int_equal(th_with_stderr(t->err, create_null_input, t, err, sizeof err), -EINVAL);
	assert_null(t->b);
	assert_int_equal(th_count_lines(err, NULL), 1);
	assert_int_equal(th_count_lines(err, "the input handed to the backend (null) is not an OpenXR source"), 1);
}

/* ---- docs/input.md ---------------------------------------------------------------------- */

/* The cell of profile p for action a, as docs/input.md writes it: the
 * component after the hand, once when both hands have the same, else each
 * with its hand; "—" for none. */
static void cell(unsigned p, unsigned a, char *out, size_t len)
{
	size_t n;
	const struct inp_xr_binding *b = inp_xr_bindings(p, &n);
	const char *side[INP_HANDS] = { NULL, NULL };
	static const char *const prefix[INP_HANDS] = { "/user/hand/left/", "/user/hand/right/" };
	for (size_t i = 0; i < n; i++)
		for (int h = 0; h < INP_HANDS; h++)
			if (b[i].action == a && strncmp(b[i].path, prefix[h], strlen(prefix[h])) == 0)
				side[h] = b[i].path + strlen(prefix[h]);
	if (side[0] && side[1] && strcmp(side[0], side[1]) == 0)
		snprintf(out, len, "`%s`", side[0]);
	else if (side[0] && side[1])
		snprintf(out, len, "`%s` (left), `%s` (right)", side[0], side[1]);
	else if (side[0] || side[1])
		snprintf(out, len, "`%s` (%s)", side[0] ? side[0] : side[1], side[0] ? "left" : "right");
	else
		snprintf(out, len, "—");
}

static void docs_list_every_binding(void **state)
{
	char *doc = th_slurp("docs/input.md");
	if (!doc)
		fail_msg("docs/input.md: cannot read it (run from the repository's top)");
	assert_null(inp_xr_bindings(INP_XR_PROFILES, &(size_t){ 1 }));
	for (unsigned a = 0; a < INP_XR_ACTIONS; a++) {
		char row[1024];
		int o = snprintf(row, sizeof row, "| `%s` |", inp_xr_actions[a].name);
		for (unsigned p = 0; p < INP_XR_PROFILES; p++) {
			char c[256];
			cell(p, a, c, sizeof c);
			o += snprintf(row + o, sizeof row - (size_t)o, " %s |", c);
		}
		if (!strstr(doc, row))
			fail_msg("docs/input.md lacks the bindings row\n%s", row);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docs_list_every_binding),
		cmocka_unit_test_setup_teardown(each_profile_binds_and_its_controls_arrive, setup, teardown),
		cmocka_unit_test_setup_teardown(edges_come_once_and_values_click_with_hysteresis, setup, teardown),
		cmocka_unit_test_setup_teardown(unfocused_hands_are_untracked_and_at_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(a_profile_change_is_seen_and_no_controllers_read_as_none, setup, teardown),
		cmocka_unit_test_setup_teardown(poses_are_in_the_backends_space, setup, teardown),
		cmocka_unit_test_setup_teardown(a_rebuilt_context_rebinds_the_controllers, setup, teardown),
		cmocka_unit_test_setup_teardown(a_lost_session_leaves_the_hands_at_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(a_runtimes_garbage_never_reaches_the_state, setup, teardown),
		cmocka_unit_test_setup_teardown(a_profile_with_a_malformed_path_reads_as_none, setup, teardown),
		cmocka_unit_test_setup_teardown(a_refused_profile_is_said_in_one_line_and_the_others_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(calls_failing_every_frame_are_said_once_each, setup, teardown),
		cmocka_unit_test_setup_teardown(an_input_that_is_not_openxr_is_refused_in_one_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
