/* The desktop's raw devices (docs/input.md, "Desktop"): a GLFW window's
 * keyboard, mouse buttons, cursor and wheel, gathered by GLFW callbacks
 * between polls and handed over in inp_state.desk once per frame. The
 * window belongs to the renderer (gfx/gfx_window.c), which pumps GLFW's
 * events (glfwPollEvents) in its frame; this source only installs the
 * callbacks (chaining any that were there) and reads what they gathered.
 *
 * It fills nothing but inp_state.desk (and quit, never: closing the window
 * is the renderer's stop). The desktop mapping (edit/edit_desk.h) turns it
 * into a camera, a mouse ray and tool commands. */
#pragma once
#include "inp/input.h"

struct GLFWwindow;

/* Installs the callbacks on win (which must outlive the source). */
int inp_desk_create(struct GLFWwindow *win, struct inp_source **out);
