/* The desktop's raw devices (inp_desk.h): GLFW callbacks on the renderer's
 * window gather keys, mouse buttons, the cursor and the wheel between polls;
 * a poll hands them over in inp_state.desk.
 *
 * GLFW calls the callbacks from glfwPollEvents on the thread that pumps
 * events (the frame loop's, through the renderer), the same thread that
 * polls this source, so nothing here locks. Callbacks find their source
 * through a small table keyed by the window (the window's user pointer is
 * left to its owner), and call the callbacks that were installed before. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <GLFW/glfw3.h>

#include "inp/inp_desk.h"

#define INP_DESK_WINDOWS_MAX 4u /* windows with a desktop source at once */

struct inp_desk {
	struct inp_source base;
	GLFWwindow *win;
	/* Gathered since the last poll. */
	uint32_t buttons, pressed, released;
	double scroll;
	double cursor[2]; /* window coordinates */
	bool inside;
	unsigned nkeys;
	struct inp_key keys[INP_DESK_KEYS_MAX];
	uint64_t keys_dropped;
	unsigned nheld;
	int held[INP_DESK_HELD_MAX];
	uint64_t events;
	/* Chained. */
	GLFWkeyfun prev_key;
	GLFWmousebuttonfun prev_button;
	GLFWcursorposfun prev_cursor;
	GLFWcursorenterfun prev_enter;
	GLFWscrollfun prev_scroll;
};

static struct inp_desk *desk_windows[INP_DESK_WINDOWS_MAX];

static struct inp_desk *desk_of(GLFWwindow *win)
{
	for (unsigned i = 0; i < INP_DESK_WINDOWS_MAX; i++)
		if (desk_windows[i] && desk_windows[i]->win == win)
			return desk_windows[i];
	return NULL;
}

static uint32_t mods_of(int glfw_mods)
{
	return ((glfw_mods & GLFW_MOD_SHIFT) ? INP_MOD_SHIFT : 0) | ((glfw_mods & GLFW_MOD_CONTROL) ? INP_MOD_CTRL : 0) |
	       ((glfw_mods & GLFW_MOD_ALT) ? INP_MOD_ALT : 0) | ((glfw_mods & GLFW_MOD_SUPER) ? INP_MOD_SUPER : 0);
}

/* GLFW releases every key held when the window loses the focus, so a
 * key's press and release always pair up here. */
static void track_held(struct inp_desk *d, int key, int action)
{
	unsigned i = 0;
	while (i < d->nheld && d->held[i] != key)
		i++;
	if (action == GLFW_PRESS && i == d->nheld && d->nheld < INP_DESK_HELD_MAX)
		d->held[d->nheld++] = key;
	else if (action == GLFW_RELEASE && i < d->nheld)
		d->held[i] = d->held[--d->nheld];
}

static void on_key(GLFWwindow *win, int key, int scancode, int action, int mods)
{
	struct inp_desk *d = desk_of(win);
	if (d) {
		if ((action == GLFW_PRESS || action == GLFW_REPEAT) && key != GLFW_KEY_UNKNOWN) {
			if (d->nkeys < INP_DESK_KEYS_MAX)
				d->keys[d->nkeys++] = (struct inp_key){ .key = key, .mods = mods_of(mods),
									.repeat = action == GLFW_REPEAT };
			else
				d->keys_dropped++;
		}
		if (key != GLFW_KEY_UNKNOWN)
			track_held(d, key, action);
		d->events++;
		if (d->prev_key)
			d->prev_key(win, key, scancode, action, mods);
	}
}

static uint32_t button_bit(int button)
{
	switch (button) {
	case GLFW_MOUSE_BUTTON_LEFT: return INP_MOUSE_LEFT;
	case GLFW_MOUSE_BUTTON_RIGHT: return INP_MOUSE_RIGHT;
	case GLFW_MOUSE_BUTTON_MIDDLE: return INP_MOUSE_MIDDLE;
	default: return 0;
	}
}

static void on_button(GLFWwindow *win, int button, int action, int mods)
{
	struct inp_desk *d = desk_of(win);
	if (!d)
		return;
	uint32_t bit = button_bit(button);
	if (action == GLFW_PRESS && bit) {
		d->buttons |= bit;
		d->pressed |= bit;
	} else if (action == GLFW_RELEASE && bit) {
		d->buttons &= ~bit;
		d->released |= bit;
	}
	d->events++;
	if (d->prev_button)
		d->prev_button(win, button, action, mods);
}

static void on_cursor(GLFWwindow *win, double x, double y)
{
	struct inp_desk *d = desk_of(win);
	if (!d)
		return;
	d->cursor[0] = x;
	d->cursor[1] = y;
	d->events++;
	if (d->prev_cursor)
		d->prev_cursor(win, x, y);
}

static void on_enter(GLFWwindow *win, int entered)
{
	struct inp_desk *d = desk_of(win);
	if (!d)
		return;
	d->inside = entered != 0;
	d->events++;
	if (d->prev_enter)
		d->prev_enter(win, entered);
}

static void on_scroll(GLFWwindow *win, double xoff, double yoff)
{
	struct inp_desk *d = desk_of(win);
	if (!d)
		return;
	d->scroll += yoff;
	d->events++;
	if (d->prev_scroll)
		d->prev_scroll(win, xoff, yoff);
}

static bool key_down(GLFWwindow *win, int a, int b)
{
	return glfwGetKey(win, a) == GLFW_PRESS || glfwGetKey(win, b) == GLFW_PRESS;
}

static int desk_poll(struct inp_source *src, uint64_t time_ns, struct inp_state *st)
{
	struct inp_desk *d = (struct inp_desk *)src;
	for (int h = 0; h < INP_HANDS; h++)
		st->hand[h].pressed = st->hand[h].released = 0;
	struct inp_desktop *k = &st->desk;
	k->present = true;
	k->focused = glfwGetWindowAttrib(d->win, GLFW_FOCUSED) != 0;
	int fw = 0, fh = 0, ww = 0, wh = 0;
	glfwGetFramebufferSize(d->win, &fw, &fh);
	glfwGetWindowSize(d->win, &ww, &wh);
	k->width = fw > 0 ? (uint32_t)fw : 0;
	k->height = fh > 0 ? (uint32_t)fh : 0;
	/* The cursor in framebuffer pixels (a scaled display has more of them). */
	k->cursor[0] = ww > 0 ? d->cursor[0] * fw / ww : d->cursor[0];
	k->cursor[1] = wh > 0 ? d->cursor[1] * fh / wh : d->cursor[1];
	k->cursor_inside = d->inside;
	k->buttons = d->buttons;
	k->pressed = d->pressed;
	k->released = d->released;
	k->mods = (key_down(d->win, GLFW_KEY_LEFT_SHIFT, GLFW_KEY_RIGHT_SHIFT) ? INP_MOD_SHIFT : 0) |
		  (key_down(d->win, GLFW_KEY_LEFT_CONTROL, GLFW_KEY_RIGHT_CONTROL) ? INP_MOD_CTRL : 0) |
		  (key_down(d->win, GLFW_KEY_LEFT_ALT, GLFW_KEY_RIGHT_ALT) ? INP_MOD_ALT : 0) |
		  (key_down(d->win, GLFW_KEY_LEFT_SUPER, GLFW_KEY_RIGHT_SUPER) ? INP_MOD_SUPER : 0);
	k->scroll = d->scroll;
	k->nkeys = d->nkeys;
	memcpy(k->keys, d->keys, d->nkeys * sizeof d->keys[0]);
	k->keys_dropped += d->keys_dropped;
	k->nheld = k->focused ? d->nheld : 0;
	memcpy(k->held, d->held, k->nheld * sizeof d->held[0]);
	uint64_t n = d->events;
	st->events += n;
	d->pressed = d->released = 0;
	d->scroll = 0;
	d->nkeys = 0;
	d->keys_dropped = 0;
	d->events = 0;
	return n > (uint64_t)INT32_MAX ? INT32_MAX : (int)n;
}

static void desk_destroy(struct inp_source *src)
{
	struct inp_desk *d = (struct inp_desk *)src;
	/* Put back what was there when ours are still the ones installed;
	 * one installed after ours stays. */
	GLFWkeyfun key = glfwSetKeyCallback(d->win, d->prev_key);
	if (key != on_key)
		glfwSetKeyCallback(d->win, key);
	GLFWmousebuttonfun button = glfwSetMouseButtonCallback(d->win, d->prev_button);
	if (button != on_button)
		glfwSetMouseButtonCallback(d->win, button);
	GLFWcursorposfun cursor = glfwSetCursorPosCallback(d->win, d->prev_cursor);
	if (cursor != on_cursor)
		glfwSetCursorPosCallback(d->win, cursor);
	GLFWcursorenterfun enter = glfwSetCursorEnterCallback(d->win, d->prev_enter);
	if (enter != on_enter)
		glfwSetCursorEnterCallback(d->win, enter);
	GLFWscrollfun scroll = glfwSetScrollCallback(d->win, d->prev_scroll);
	if (scroll != on_scroll)
		glfwSetScrollCallback(d->win, scroll);
	for (unsigned i = 0; i < INP_DESK_WINDOWS_MAX; i++)
		if (desk_windows[i] == d)
			desk_windows[i] = NULL;
	free(d);
}

static const struct inp_source_ops desk_ops = { .poll = desk_poll, .destroy = desk_destroy };

int inp_desk_create(struct GLFWwindow *win, struct inp_source **out)
{
	if (!win || !out)
		return -EINVAL;
	if (desk_of(win))
		return -EEXIST;
	unsigned slot = 0;
	while (slot < INP_DESK_WINDOWS_MAX && desk_windows[slot])
		slot++;
	if (slot == INP_DESK_WINDOWS_MAX)
		return -EMFILE;
	struct inp_desk *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->base.ops = &desk_ops;
	d->base.name = "desktop";
	d->win = win;
	glfwGetCursorPos(win, &d->cursor[0], &d->cursor[1]);
	d->inside = glfwGetWindowAttrib(win, GLFW_HOVERED) != 0;
	desk_windows[slot] = d;
	d->prev_key = glfwSetKeyCallback(win, on_key);
	d->prev_button = glfwSetMouseButtonCallback(win, on_button);
	d->prev_cursor = glfwSetCursorPosCallback(win, on_cursor);
	d->prev_enter = glfwSetCursorEnterCallback(win, on_enter);
	d->prev_scroll = glfwSetScrollCallback(win, on_scroll);
	*out = &d->base;
	return 0;
}
