/* The desktop input source (inp/inp_desk.c) on a real GLFW window on a
 * private Xvfb, fed real X input by xdotool (XTEST, as a person's mouse
 * and keyboard): pointer motion and entering the window, the three
 * buttons pressed and released, the wheel, keys with their modifiers and
 * in their order, modifiers held, more keys in one frame than a frame
 * keeps, the callbacks that were on the window before still called and
 * put back when the source goes (one installed after it left in place),
 * and th_xdo refusing a command longer than it holds.
 * SKIPs with one line when Xvfb or xdotool is not installed.
 *
 * This test pumps GLFW's events itself (in theta-client the window
 * renderer does, each frame). xdotool has exited when th_xdo returns, so
 * its input is in the server; an XSync on GLFW's connection then brings
 * every event it caused into this process before the pump. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <GLFW/glfw3.h>
#include <X11/Xlib.h>

/* From glfw3native.h, whose X11 part wants the Xrandr headers too. */
Display *glfwGetX11Display(void);
Window glfwGetX11Window(GLFWwindow *window);

#include "inp/inp_desk.h"
#include "th_time.h"
#include "th_xvfb.h"

#define WIN_W 320
#define WIN_H 240
#define WAIT_MS 10000 /* for input this test sent */

struct rig {
	GLFWwindow *win;
	char wid[32];
	struct inp_source *src;
	struct inp_state st;
	/* Seen over the polls since the last rig_reset. */
	uint32_t pressed, released;
	double scroll;
	unsigned nkeys;
	struct inp_key keys[256];
	uint64_t dropped;
	unsigned prev_keys; /* the callback installed before ours */
};

static struct rig *current;

static void prev_key_cb(GLFWwindow *w, int key, int sc, int action, int mods)
{
	if (current && action == GLFW_PRESS)
		current->prev_keys++;
}

static void xsync(void)
{
	XSync(glfwGetX11Display(), False);
}

/* One poll after pumping: the frame's desk state, gathered into the rig. */
static void rig_poll(struct rig *r)
{
	xsync();
	glfwPollEvents();
	assert_true(inp_poll(r->src, 0, &r->st) >= 0);
	const struct inp_desktop *k = &r->st.desk;
	r->pressed |= k->pressed;
	r->released |= k->released;
	r->scroll += k->scroll;
	for (unsigned i = 0; i < k->nkeys && r->nkeys < 256; i++)
		r->keys[r->nkeys++] = k->keys[i];
	r->dropped = k->keys_dropped;
}

static void rig_reset(struct rig *r)
{
	r->pressed = r->released = 0;
	r->scroll = 0;
	r->nkeys = 0;
}

typedef bool rig_pred(const struct rig *r, const void *arg);

/* Polls until pred holds (true) or WAIT_MS pass (false). */
static bool rig_wait(struct rig *r, rig_pred *pred, const void *arg)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	do {
		rig_poll(r);
		if (pred(r, arg))
			return true;
		glfwWaitEventsTimeout(0.01);
	} while (th_now_ns() < end);
	return false;
}

static void xdo(const char *const *args)
{
	assert_int_equal(th_xdo(args), 0);
}

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof *r);
	if (!r || !glfwInit())
		return -1;
	glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
	r->win = glfwCreateWindow(WIN_W, WIN_H, "test_inp_desk", NULL, NULL);
	if (!r->win)
		return -1;
	snprintf(r->wid, sizeof r->wid, "%lu", (unsigned long)glfwGetX11Window(r->win));
	current = r;
	glfwSetKeyCallback(r->win, prev_key_cb);
	inp_state_init(&r->st);
	if (inp_desk_create(r->win, &r->src) < 0)
		return -1;
	/* Mapped and focused before any input is sent (no window manager). */
	const char *focus[] = { "windowfocus", "--sync", r->wid, NULL };
	if (th_xdo(focus) != 0)
		return -1;
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;
	inp_destroy(&r->src);
	glfwDestroyWindow(r->win);
	glfwTerminate();
	current = NULL;
	free(r);
	return 0;
}

static bool cursor_at(const struct rig *r, const void *arg)
{
	const double *c = arg;
	return r->st.desk.cursor_inside && r->st.desk.cursor[0] == c[0] && r->st.desk.cursor[1] == c[1];
}

/* The pointer moved to window pixel (x, y), and seen there. */
static void rig_move(struct rig *r, int x, int y)
{
	char xs[16], ys[16];
	snprintf(xs, sizeof xs, "%d", x);
	snprintf(ys, sizeof ys, "%d", y);
	xdo((const char *[]){ "mousemove", "--window", r->wid, xs, ys, NULL });
	assert_true(rig_wait(r, cursor_at, (double[2]){ x, y }));
}

static void the_pointer_moves_inside_the_window(void **state)
{
	struct rig *r = *state;
	rig_move(r, 40, 30);
	const struct inp_desktop *k = &r->st.desk;
	assert_true(k->present);
	assert_int_equal(k->width, WIN_W);
	assert_int_equal(k->height, WIN_H);
	uint64_t events = r->st.events;
	rig_move(r, 250, 199);
	assert_true(r->st.events > events);
	/* Out of the window (the screen is larger): no longer inside. */
	xdo((const char *[]){ "mousemove", "600", "450", NULL });
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (r->st.desk.cursor_inside && th_now_ns() < end) {
		rig_poll(r);
		glfwWaitEventsTimeout(0.01);
	}
	assert_false(r->st.desk.cursor_inside);
}

static bool seen_buttons(const struct rig *r, const void *arg)
{
	const uint32_t *want = arg; /* pressed, released, held */
	return (r->pressed & want[0]) == want[0] && (r->released & want[1]) == want[1] &&
	       r->st.desk.buttons == want[2];
}

static void buttons_press_and_release(void **state)
{
	struct rig *r = *state;
	rig_move(r, 100, 100);
	rig_reset(r);
	xdo((const char *[]){ "mousedown", "1", NULL });
	assert_true(rig_wait(r, seen_buttons, (uint32_t[3]){ INP_MOUSE_LEFT, 0, INP_MOUSE_LEFT }));
	assert_int_equal(r->released, 0);
	/* Held across polls: pressed only in the first. */
	rig_poll(r);
	assert_int_equal(r->st.desk.pressed, 0);
	assert_int_equal(r->st.desk.buttons, INP_MOUSE_LEFT);
	xdo((const char *[]){ "mousedown", "3", NULL });
	assert_true(rig_wait(r, seen_buttons,
			     (uint32_t[3]){ INP_MOUSE_RIGHT, 0, INP_MOUSE_LEFT | INP_MOUSE_RIGHT }));
	rig_reset(r);
	xdo((const char *[]){ "mouseup", "1", NULL });
	xdo((const char *[]){ "mouseup", "3", NULL });
	assert_true(rig_wait(r, seen_buttons, (uint32_t[3]){ 0, INP_MOUSE_LEFT | INP_MOUSE_RIGHT, 0 }));
	/* A middle click: down and up. */
	rig_reset(r);
	xdo((const char *[]){ "click", "2", NULL });
	assert_true(rig_wait(r, seen_buttons, (uint32_t[3]){ INP_MOUSE_MIDDLE, INP_MOUSE_MIDDLE, 0 }));
	assert_int_equal(r->pressed, INP_MOUSE_MIDDLE);
}

static bool scrolled(const struct rig *r, const void *arg)
{
	return r->scroll == *(const double *)arg;
}

static void the_wheel_counts_steps_up_positive(void **state)
{
	struct rig *r = *state;
	rig_move(r, 120, 80);
	rig_reset(r);
	xdo((const char *[]){ "click", "4", NULL });
	assert_true(rig_wait(r, scrolled, (double[1]){ 1 }));
	rig_reset(r);
	xdo((const char *[]){ "click", "--repeat", "3", "--delay", "20", "5", NULL });
	assert_true(rig_wait(r, scrolled, (double[1]){ -3 }));
	/* The wheel is no button. */
	assert_int_equal(r->pressed, 0);
	/* Each poll hands over only what came since the last one. */
	rig_poll(r);
	assert_true(r->st.desk.scroll == 0);
}

static bool nkeys_at_least(const struct rig *r, const void *arg)
{
	return r->nkeys >= *(const unsigned *)arg;
}

static void keys_arrive_in_order_with_their_modifiers(void **state)
{
	struct rig *r = *state;
	rig_move(r, 10, 10);
	rig_reset(r);
	/* The private server repeats no key (th_xvfb.c: -r), so the keys
	 * counted below are the keys sent, however slowly xdotool runs. */
	XKeyboardState ks;
	XGetKeyboardControl(glfwGetX11Display(), &ks);
	assert_int_equal(ks.global_auto_repeat, AutoRepeatModeOff);
	unsigned before = r->prev_keys;
	xdo((const char *[]){ "key", "a", "ctrl+z", "shift+Tab", "Escape", "Left", "1", "ctrl+shift+z", NULL });
	assert_true(rig_wait(r, nkeys_at_least, (unsigned[1]){ 7 }));
	static const struct inp_key want[] = {
		{ .key = GLFW_KEY_A },	  { .key = GLFW_KEY_Z, .mods = INP_MOD_CTRL },
		{ .key = GLFW_KEY_TAB, .mods = INP_MOD_SHIFT }, { .key = GLFW_KEY_ESCAPE },
		{ .key = GLFW_KEY_LEFT }, { .key = GLFW_KEY_1 },
		{ .key = GLFW_KEY_Z, .mods = INP_MOD_CTRL | INP_MOD_SHIFT },
	};
	/* The modifier keys themselves are keys too: compare what is not one. */
	unsigned j = 0;
	for (unsigned i = 0; i < r->nkeys; i++) {
		int k = r->keys[i].key;
		if (k == GLFW_KEY_LEFT_CONTROL || k == GLFW_KEY_LEFT_SHIFT || k == GLFW_KEY_RIGHT_CONTROL ||
		    k == GLFW_KEY_RIGHT_SHIFT)
			continue;
		assert_true(j < 7);
		assert_int_equal(k, want[j].key);
		assert_int_equal(r->keys[i].mods, want[j].mods);
		j++;
	}
	assert_int_equal(j, 7);
	/* The callback that was there before still saw every press. */
	assert_int_equal(r->prev_keys - before, r->nkeys);
	/* Modifiers held now: shift down, then up. */
	xdo((const char *[]){ "keydown", "shift", NULL });
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	do
		rig_poll(r);
	while (!(r->st.desk.mods & INP_MOD_SHIFT) && th_now_ns() < end);
	assert_int_equal(r->st.desk.mods, INP_MOD_SHIFT);
	xdo((const char *[]){ "keyup", "shift", NULL });
	end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	do
		rig_poll(r);
	while (r->st.desk.mods && th_now_ns() < end);
	assert_int_equal(r->st.desk.mods, 0);
	assert_true(r->st.desk.focused);
}

static bool held_has(const struct rig *r, const void *arg)
{
	int key = *(const int *)arg;
	for (unsigned i = 0; i < r->st.desk.nheld; i++)
		if (r->st.desk.held[i] == key)
			return true;
	return false;
}

static bool held_lacks(const struct rig *r, const void *arg)
{
	return !held_has(r, arg);
}

/* A key held down is in held[] from its press to its release (V is
 * push-to-talk); its press is no repeat. */
static void a_key_held_is_held_until_released(void **state)
{
	struct rig *r = *state;
	rig_move(r, 12, 12);
	rig_reset(r);
	const int v = GLFW_KEY_V;
	xdo((const char *[]){ "keydown", "v", NULL });
	assert_true(rig_wait(r, held_has, &v));
	bool pressed = false;
	for (unsigned i = 0; i < r->nkeys; i++)
		if (r->keys[i].key == v) {
			pressed = true;
			assert_false(r->keys[i].repeat);
		}
	assert_true(pressed);
	rig_poll(r); /* still held a poll later */
	assert_true(held_has(r, &v));
	xdo((const char *[]){ "keyup", "v", NULL });
	assert_true(rig_wait(r, held_lacks, &v));
}

/* Super held is a modifier of the key, and of the ones held now. */
static void super_is_a_modifier(void **state)
{
	struct rig *r = *state;
	rig_move(r, 14, 14);
	rig_reset(r);
	xdo((const char *[]){ "keydown", "super", "key", "2", NULL });
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	bool two = false;
	while (!two && th_now_ns() < end) {
		rig_poll(r);
		for (unsigned i = 0; i < r->nkeys && !two; i++)
			if (r->keys[i].key == GLFW_KEY_2) {
				assert_int_equal(r->keys[i].mods, INP_MOD_SUPER);
				two = true;
			}
	}
	assert_true(two);
	assert_int_equal(r->st.desk.mods, INP_MOD_SUPER);
	xdo((const char *[]){ "keyup", "super", NULL });
	end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	do
		rig_poll(r);
	while (r->st.desk.mods && th_now_ns() < end);
	assert_int_equal(r->st.desk.mods, 0);
}

static void a_frame_keeps_32_keys_and_counts_the_rest(void **state)
{
	struct rig *r = *state;
	rig_move(r, 12, 12);
	rig_poll(r);
	/* 40 presses of b..., all in the server before the one pump. */
	const char *args[48] = { "key", "--delay", "1" };
	unsigned n = 3;
	for (unsigned i = 0; i < 40; i++)
		args[n++] = i % 2 ? "b" : "c";
	args[n] = NULL;
	xdo(args);
	rig_reset(r);
	rig_poll(r);
	assert_int_equal(r->st.desk.nkeys, INP_DESK_KEYS_MAX);
	assert_int_equal(r->st.desk.keys_dropped, 40 - INP_DESK_KEYS_MAX);
	for (unsigned i = 0; i < INP_DESK_KEYS_MAX; i++)
		assert_int_equal(r->st.desk.keys[i].key, i % 2 ? GLFW_KEY_B : GLFW_KEY_C);
	rig_poll(r);
	assert_int_equal(r->st.desk.nkeys, 0);
}

static void a_second_source_on_the_window_is_refused(void **state)
{
	struct rig *r = *state;
	struct inp_source *s = NULL;
	assert_int_equal(inp_desk_create(r->win, &s), -EEXIST);
	assert_int_equal(inp_desk_create(NULL, &s), -EINVAL);
	assert_null(s);
}

/* th_xdo sends all of a command or none: past TH_XDO_ARGS_MAX it refuses
 * (a cut one would send less input than the test means). */
static void xdo_refuses_more_arguments_than_it_holds(void **state)
{
	struct rig *r = *state;
	const char *args[TH_XDO_ARGS_MAX + 2] = { "key" };
	for (unsigned i = 1; i <= TH_XDO_ARGS_MAX; i++)
		args[i] = "d";
	rig_poll(r);
	rig_reset(r);
	assert_int_equal(th_xdo(args), -E2BIG);
	rig_poll(r);
	assert_int_equal(r->nkeys, 0);
}

static void later_scroll_cb(GLFWwindow *w, double x, double y) { (void)w, (void)x, (void)y; }

/* Destroyed, the source puts back the callbacks it found, and leaves one
 * installed after its own where it is. */
static void destroying_puts_back_the_callbacks(void **state)
{
	struct rig *r = *state;
	glfwSetScrollCallback(r->win, later_scroll_cb);
	inp_destroy(&r->src);
	assert_ptr_equal(glfwSetKeyCallback(r->win, prev_key_cb), prev_key_cb);
	assert_ptr_equal(glfwSetMouseButtonCallback(r->win, NULL), NULL);
	assert_ptr_equal(glfwSetScrollCallback(r->win, NULL), later_scroll_cb);
	/* A new source on the window works as the first did. */
	assert_int_equal(inp_desk_create(r->win, &r->src), 0);
	rig_move(r, 60, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_pointer_moves_inside_the_window, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(buttons_press_and_release, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(the_wheel_counts_steps_up_positive, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(keys_arrive_in_order_with_their_modifiers, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(super_is_a_modifier, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(a_key_held_is_held_until_released, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(a_frame_keeps_32_keys_and_counts_the_rest, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(a_second_source_on_the_window_is_refused, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(destroying_puts_back_the_callbacks, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(xdo_refuses_more_arguments_than_it_holds, rig_setup, rig_teardown),
	};
	if (th_xdo_skip())
		return 0;
	return cmocka_run_group_tests(tests, th_xvfb_group_setup, th_xvfb_group_teardown);
}
