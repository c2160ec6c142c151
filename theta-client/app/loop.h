/* The client's frame loop:
 *   poll input -> drain the daemon link -> run stages -> publish commands
 *   and the pose -> render -> pace to the frame rate.
 * Simulation time advances by exactly one frame period per frame (frame n
 * runs at n / rate seconds), so a scripted run is deterministic whether or
 * not it is paced. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/renderer.h"
#include "app/stats.h"
#include "app/transport.h"
#include "inp/input.h"
#include "sim/sched.h"

#define APP_DEFAULT_RATE_HZ 90.0
#define APP_MIN_RATE_HZ 1.0
#define APP_MAX_RATE_HZ 1000.0
#define APP_REMOVED_KEEP_TICKS 256 /* removal log kept for the link to read */

/* Where the loop reads the time and waits for a frame's deadline. NULL in
 * app_config: CLOCK_MONOTONIC and clock_nanosleep. Tests pass a simulated
 * clock, so pacing is checked without reading a real one. */
struct app_clock {
	uint64_t (*now_ns)(void *user);
	void (*sleep_until)(void *user, uint64_t deadline_ns); /* returns at or after the deadline */
	void *user;
};

struct app_config {
	double rate_hz;        /* 0: APP_DEFAULT_RATE_HZ */
	bool no_pacing;        /* run frames back to back (tests) */
	uint64_t max_frames;   /* 0: until quit or stop */
	const char *runtime_dir; /* for the daemon link; may be NULL */
	unsigned threads;      /* scheduler pool; 0: online CPUs */
	enum sim_access_mode access;
	const struct app_clock *clock; /* NULL: the real monotonic clock */
};

struct app;

/* Creates the world, the scheduler, the client's built-in systems and the
 * local user's entities (head with TrackedPose, two hands). */
int app_create(const struct app_config *cfg, struct app **out);
void app_destroy(struct app **p);
struct sim_world *app_world(struct app *a);
struct sim_sched *app_sched(struct app *a);
const struct app_config *app_config(const struct app *a);

/* Hands the loop its input source, transport and renderer (ownership moves
 * to the app; NULL keeps the null implementation). */
int app_attach(struct app *a, struct inp_source *in, struct app_transport *t, struct app_renderer *r);

/* The local user's entity (TrackedPose) and hand entities (Transform,
 * ControllerState, ToolState). */
sim_entity app_user_entity(const struct app *a);
sim_entity app_hand_entity(const struct app *a, enum inp_hand h);

/* One frame. 0: go on; 1: stop (input asked to quit, or max_frames
 * reached); -errno: a failure (e.g. -EACCES for an undeclared component
 * access in ERROR mode). */
int app_step(struct app *a);
/* Frames until app_step stops or *stop becomes non-zero (signal handler). */
int app_run(struct app *a, volatile sig_atomic_t *stop);

/* The editor's outbox: commands published with the next frame, in order.
 * Reliable: when the transport cannot take them (-EAGAIN) they stay for the
 * next frame. 0, -ENOBUFS (APP_OUTBOX_MAX queued, or the bytes limit),
 * -EMSGSIZE (payload above APP_COMMAND_MAX_PAYLOAD). */
#define APP_OUTBOX_MAX 256u
#define APP_OUTBOX_MAX_BYTES (4u << 20)
#define APP_COMMAND_MAX_PAYLOAD 65536u
int app_submit(struct app *a, uint16_t type, uint64_t scope, const void *payload, uint32_t len);
/* As app_submit, with a tag the command carries to the transport (struct
 * app_command.tag), so the submitter can learn the sequence number the link
 * gives it (app_scene_io.sent). */
int app_submit_tagged(struct app *a, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag);

/* The editor's hook (theta-client/edit/, wired by main): called once per
 * frame after the stages, before the outbox is published, with the frame's
 * simulation time and input; what it submits goes out with this frame.
 * NULL: none. */
typedef void app_editor_fn(void *ud, struct app *a, uint64_t time_ns, const struct inp_state *in);
void app_set_editor(struct app *a, app_editor_fn *fn, void *ud);
unsigned app_outbox_len(const struct app *a);

/* The input filter (wired by main): called once per frame right after the
 * input is polled, before it is written into the local entities, with the
 * input to change in place (the desktop mapping, edit/edit_desk.h; the
 * world grab, app/nav.h). NULL: none. */
typedef void app_input_fn(void *ud, struct app *a, uint64_t time_ns, struct inp_state *in);
void app_set_input_filter(struct app *a, app_input_fn *fn, void *ud);
/* The stage -> world transform handed to the renderer (app_view.nav_*),
 * identity until set. */
void app_set_nav(struct app *a, const float position[3], const float rotation[4], float scale);
/* The input source attached (main asks it for haptics). */
struct inp_source *app_input(struct app *a);

uint64_t app_frames(const struct app *a);
void app_frame_stats(const struct app *a, struct app_frame_stats *out);
/* Link errors seen by drain/publish/send_stats. */
uint64_t app_transport_errors(const struct app *a);
