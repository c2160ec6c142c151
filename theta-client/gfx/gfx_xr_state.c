/* The OpenXR session state machine (see gfx_xr_state.h). */
#include "gfx/gfx_xr_state.h"

#include <errno.h>
#include <string.h>

#define BIT(p) (1u << (p))

/* The phases each phase may change to (OpenXR 1.0, "Session Lifecycle");
 * loss pending may follow any phase and is handled apart. */
static const uint32_t next_allowed[GFX_XR_PHASES] = {
	[GFX_XR_UNKNOWN] = BIT(GFX_XR_IDLE),
	[GFX_XR_IDLE] = BIT(GFX_XR_READY) | BIT(GFX_XR_EXITING),
	[GFX_XR_READY] = BIT(GFX_XR_SYNCHRONIZED),
	[GFX_XR_SYNCHRONIZED] = BIT(GFX_XR_VISIBLE) | BIT(GFX_XR_STOPPING),
	[GFX_XR_VISIBLE] = BIT(GFX_XR_FOCUSED) | BIT(GFX_XR_SYNCHRONIZED),
	[GFX_XR_FOCUSED] = BIT(GFX_XR_VISIBLE),
	[GFX_XR_STOPPING] = BIT(GFX_XR_IDLE),
	[GFX_XR_LOSS_PENDING] = 0,
	[GFX_XR_EXITING] = 0,
};

void gfx_xr_state_init(struct gfx_xr_state *s)
{
	memset(s, 0, sizeof *s);
	s->phase = GFX_XR_UNKNOWN;
}

static int destroy(struct gfx_xr_state *s, bool lost)
{
	s->done = true;
	s->lost = lost;
	s->running = false;
	return GFX_XR_DO_DESTROY;
}

static int enter(struct gfx_xr_state *s, enum gfx_xr_phase to)
{
	s->phase = to;
	switch (to) {
	case GFX_XR_READY:
		if (s->quit) /* the runtime ignored the requested exit */
			return destroy(s, false);
		s->running = true;
		return GFX_XR_DO_BEGIN;
	case GFX_XR_STOPPING:
		s->running = false;
		return GFX_XR_DO_END;
	case GFX_XR_EXITING:
		return destroy(s, false);
	case GFX_XR_LOSS_PENDING:
		return destroy(s, true);
	default:
		return 0;
	}
}

int gfx_xr_state_step(struct gfx_xr_state *s, const struct gfx_xr_event *ev, uint64_t now_ns)
{
	switch (ev->kind) {
	case GFX_XR_EV_STATE: {
		if ((unsigned)ev->phase >= GFX_XR_PHASES || ev->phase == GFX_XR_UNKNOWN)
			return -EINVAL;
		if (s->done || ev->phase == s->phase)
			return 0;
		if (ev->phase != GFX_XR_LOSS_PENDING && !(next_allowed[s->phase] & BIT(ev->phase)))
			return -EPROTO;
		return enter(s, ev->phase);
	}
	case GFX_XR_EV_INSTANCE_LOSS:
		if (s->done)
			return 0;
		return destroy(s, true);
	case GFX_XR_EV_QUIT:
		if (s->done || s->quit)
			return 0;
		s->quit = true;
		if (!s->running)
			return destroy(s, false);
		s->exit_requested = true;
		s->quit_deadline_ns = now_ns + GFX_XR_EXIT_TIMEOUT_NS;
		return GFX_XR_DO_REQUEST;
	}
	return -EINVAL;
}

int gfx_xr_state_tick(struct gfx_xr_state *s, uint64_t now_ns)
{
	if (s->done || !s->exit_requested || now_ns < s->quit_deadline_ns)
		return 0;
	int r = s->running ? GFX_XR_DO_END : 0;
	s->timed_out = true;
	return r | destroy(s, false);
}

bool gfx_xr_state_runs_frames(const struct gfx_xr_state *s)
{
	return s->running && !s->done;
}

const char *gfx_xr_phase_name(enum gfx_xr_phase p)
{
	static const char *const names[GFX_XR_PHASES] = {
		"unknown", "idle", "ready", "synchronized", "visible", "focused", "stopping", "loss pending", "exiting",
	};
	return (unsigned)p < GFX_XR_PHASES ? names[p] : "?";
}
