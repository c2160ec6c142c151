/* The OpenXR session's life as a pure function (docs/rendering.md,
 * "OpenXR"): the runtime's state changes, its instance loss and the
 * client's own wish to stop go in; what the client must do comes out. No
 * OpenXR calls here, so every transition is tested without a runtime.
 *
 *   idle -> ready            begin the session (xrBeginSession)
 *   ready -> synchronized    frames run (wait / begin / end), nothing shown
 *   synchronized -> visible  frames are shown (xrWaitFrame's shouldRender)
 *   visible -> focused       shown, and the input is ours
 *   focused -> visible -> synchronized -> stopping
 *   stopping -> idle         after ending the session (xrEndSession)
 *   idle -> exiting          destroy the session: the client stops (clean)
 *   any -> loss pending      destroy the session: the client stops (lost)
 *
 * A state change the OpenXR 1.0 lifecycle does not allow (ready ->
 * focused, idle -> stopping, ...) is the runtime breaking the protocol:
 * -EPROTO, and the state is left as it was; a repeat of the current phase
 * changes nothing. Once the session is to be destroyed (done), every event
 * is ignored. The client's
 * stop (GFX_XR_EV_QUIT) while the session runs asks the runtime to end it
 * (xrRequestExitSession) and waits for the walk down to exiting, at most
 * GFX_XR_EXIT_TIMEOUT_NS (gfx_xr_state_tick); without a running session
 * it stops at once. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "th_time.h"

/* How long a requested exit may take before the client stops anyway. */
#define GFX_XR_EXIT_TIMEOUT_NS (5 * TH_NS_PER_S)

/* The same numbers as XrSessionState (checked in gfx_xr.c). */
enum gfx_xr_phase {
	GFX_XR_UNKNOWN = 0, /* created, no event yet */
	GFX_XR_IDLE = 1,
	GFX_XR_READY = 2,
	GFX_XR_SYNCHRONIZED = 3,
	GFX_XR_VISIBLE = 4,
	GFX_XR_FOCUSED = 5,
	GFX_XR_STOPPING = 6,
	GFX_XR_LOSS_PENDING = 7,
	GFX_XR_EXITING = 8,
};
#define GFX_XR_PHASES 9u

enum gfx_xr_event_kind {
	GFX_XR_EV_STATE = 1,    /* XrEventDataSessionStateChanged: phase */
	GFX_XR_EV_INSTANCE_LOSS, /* XrEventDataInstanceLossPending */
	GFX_XR_EV_QUIT,         /* the client wants to stop */
};

struct gfx_xr_event {
	enum gfx_xr_event_kind kind;
	enum gfx_xr_phase phase; /* GFX_XR_EV_STATE */
};

/* What to do, as bits of gfx_xr_state_step's result. */
#define GFX_XR_DO_BEGIN   0x1u /* xrBeginSession */
#define GFX_XR_DO_END     0x2u /* xrEndSession */
#define GFX_XR_DO_REQUEST 0x4u /* xrRequestExitSession */
#define GFX_XR_DO_DESTROY 0x8u /* xrDestroySession; the client stops */

struct gfx_xr_state {
	enum gfx_xr_phase phase;
	bool running;        /* between xrBeginSession and xrEndSession */
	bool quit;           /* the client asked to stop */
	bool exit_requested; /* xrRequestExitSession was asked for */
	uint64_t quit_deadline_ns;
	bool done;           /* the session is to be (or was) destroyed */
	bool lost;           /* ... because the runtime lost it (loss pending) */
	bool timed_out;      /* ... because a requested exit took too long */
};

void gfx_xr_state_init(struct gfx_xr_state *s);
/* Applies ev at now_ns: the GFX_XR_DO_* bits to act on (0: nothing), or
 * -EPROTO (a transition the lifecycle does not allow; s unchanged) or
 * -EINVAL (an event kind or phase out of range). */
int gfx_xr_state_step(struct gfx_xr_state *s, const struct gfx_xr_event *ev, uint64_t now_ns);
/* A requested exit that passed its deadline: GFX_XR_DO_END (if running) |
 * GFX_XR_DO_DESTROY, else 0. */
int gfx_xr_state_tick(struct gfx_xr_state *s, uint64_t now_ns);
/* Frames run (xrWaitFrame / xrBeginFrame / xrEndFrame) while the session
 * does; whether one is rendered is xrWaitFrame's shouldRender. */
bool gfx_xr_state_runs_frames(const struct gfx_xr_state *s);
/* "idle", "ready", ..., "loss pending", "exiting"; "?" out of range. */
const char *gfx_xr_phase_name(enum gfx_xr_phase p);
