/* The scripted controllers and head (XRT_INPUT, a theta-script replayed by
 * the client's own parser and source, theta-client/inp/script.c): poses by
 * time for xrLocateSpace / xrLocateViews, values and buttons for
 * xrSyncActions, and what happens after a frame (the script's quit,
 * XRT_UNFOCUSED, XRT_PROFILE_SWITCH). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inp/script.h"
#include "th_file.h"
#include "xrt.h"

/* Without a script the hands rest here (STAGE, metres). */
#define XRT_REST_HAND_X 0.2f
#define XRT_REST_HAND_Y 1.2f
#define XRT_REST_HAND_Z (-0.3f)

static int source_from_text(const struct xrt_script *sc, struct inp_source **out, struct inp_script_error *err)
{
	struct inp_script *parsed;
	int r = inp_script_parse(sc->text, sc->len, &parsed, err);
	if (r < 0)
		return r;
	return inp_script_source_create(parsed, out);
}

int xrt_script_open(struct xrt_instance *inst, char *why, size_t whylen)
{
	const char *path = inst->cfg.input;
	if (!path[0])
		return 0;
	struct xrt_script *sc = calloc(1, sizeof *sc);
	if (!sc) {
		snprintf(why, whylen, "XRT_INPUT=%s: out of memory", path);
		return -1;
	}
	int r = th_file_read(path, INP_SCRIPT_MAX_BYTES, &sc->text, &sc->len);
	if (r < 0) {
		snprintf(why, whylen, "XRT_INPUT=%s: cannot read it: %s", path,
			 r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
		free(sc);
		return -1;
	}
	struct inp_script *parsed;
	struct inp_script_error err;
	r = inp_script_parse(sc->text, sc->len, &parsed, &err);
	if (r < 0) {
		char msg[XRT_WHY_MAX];
		if (r == -EBADMSG)
			inp_script_error_format(&err, msg, sizeof msg);
		else
			snprintf(msg, sizeof msg, "%s", strerror(-r));
		snprintf(why, whylen, "XRT_INPUT=%s: %s", path, msg);
		free(sc->text);
		free(sc);
		return -1;
	}
	sc->events = inp_script_count(parsed);
	sc->duration_ns = inp_script_duration_ns(parsed);
	for (size_t i = 0; i < sc->events; i++) {
		const struct inp_script_event *ev = inp_script_event(parsed, i);
		if (ev->kind == INP_EV_QUIT && !sc->has_quit) {
			sc->has_quit = true;
			sc->quit_ns = ev->time_ns;
		} else if (ev->kind != INP_EV_QUIT && ev->target == INP_TARGET_HEAD && !sc->has_head) {
			sc->has_head = true;
			sc->first_head_ns = ev->time_ns;
		}
	}
	if (inp_script_source_create(parsed, &sc->pose_src) < 0) {
		snprintf(why, whylen, "XRT_INPUT=%s: out of memory", path);
		free(sc->text);
		free(sc);
		return -1;
	}
	inp_state_init(&sc->pose_st);
	inst->script = sc;
	xrt_record(inst, "script path=%s events=%zu duration_ns=%llu", path, sc->events,
		   (unsigned long long)sc->duration_ns);
	return 0;
}

void xrt_script_close(struct xrt_instance *inst)
{
	struct xrt_script *sc = inst->script;
	if (!sc)
		return;
	inp_destroy(&sc->pose_src);
	free(sc->text);
	free(sc);
	inst->script = NULL;
}

uint64_t xrt_script_time(const struct xrt_session *s, XrTime t)
{
	return s->t0 > 0 && t > s->t0 ? (uint64_t)(t - s->t0) : 0;
}

/* The script's state at script time st (re-parsed when st goes back). */
static const struct inp_state *pose_state(struct xrt_script *sc, uint64_t st)
{
	if (sc->pose_src && st < sc->pose_t)
		inp_destroy(&sc->pose_src);
	if (!sc->pose_src) {
		inp_state_init(&sc->pose_st);
		sc->pose_t = 0;
		if (source_from_text(sc, &sc->pose_src, NULL) < 0)
			return NULL;
	}
	inp_poll(sc->pose_src, st, &sc->pose_st);
	sc->pose_t = st;
	return &sc->pose_st;
}

static XrPosef pose_of(const struct inp_pose *p)
{
	XrPosef o;
	o.position = (XrVector3f){p->position[0], p->position[1], p->position[2]};
	o.orientation = (XrQuaternionf){p->rotation[0], p->rotation[1], p->rotation[2], p->rotation[3]};
	return o;
}

bool xrt_input_head(const struct xrt_session *s, XrTime t, XrPosef *out)
{
	struct xrt_script *sc = s->inst->script;
	uint64_t st = xrt_script_time(s, t);
	if (!sc || !sc->has_head || st < sc->first_head_ns) {
		*out = xrt_head_pose(&s->inst->cfg, s->t0, t);
		return true;
	}
	const struct inp_state *ps = pose_state(sc, st);
	if (!ps) {
		*out = xrt_head_pose(&s->inst->cfg, s->t0, t);
		return false;
	}
	*out = pose_of(&ps->head);
	return ps->head.valid;
}

bool xrt_input_hand(const struct xrt_session *s, XrTime t, int hand, XrPosef *out)
{
	struct xrt_script *sc = s->inst->script;
	*out = xrt_pose_identity();
	if (!sc) {
		out->position = (XrVector3f){hand ? XRT_REST_HAND_X : -XRT_REST_HAND_X, XRT_REST_HAND_Y, XRT_REST_HAND_Z};
		return true;
	}
	const struct inp_state *ps = pose_state(sc, xrt_script_time(s, t));
	if (!ps)
		return false;
	*out = pose_of(&ps->hand[hand].pose);
	return ps->hand[hand].pose.valid;
}

int xrt_input_session_begin(struct xrt_session *s)
{
	inp_destroy(&s->sync_src);
	inp_state_init(&s->sync_st);
	s->sync_t = 0;
	memset(s->sync_last, 0, sizeof s->sync_last);
	if (!s->inst->script)
		return 0;
	return source_from_text(s->inst->script, &s->sync_src, NULL);
}

void xrt_input_session_end(struct xrt_session *s) { inp_destroy(&s->sync_src); }

/* A value that left what the last sync reported and came back before this
 * one (a trigger pull shorter than a slow frame) still shows once: its
 * farthest point. v: now; last: the last sync's; far: the farthest seen
 * between them. */
static float came_back(float v, float last, float far)
{
	return v == last && far != last ? far : v;
}

static void farthest(float *far, float v, float last)
{
	if (fabsf(v - last) > fabsf(*far - last))
		*far = v;
}

void xrt_input_sample(struct xrt_session *s, XrTime t, struct xrt_hand_input in[XRT_HANDS])
{
	memset(in, 0, XRT_HANDS * sizeof in[0]);
	if (!s->sync_src)
		return;
	/* The script is replayed up to now in steps of XRT_SAMPLE_STEP_NS, so
	 * what it held between two syncs is seen (at most the last
	 * XRT_SAMPLE_SPAN_NS of a long gap). */
	uint64_t to = xrt_script_time(s, t), u = s->sync_t;
	if (u > to) /* a sync at an earlier time: the script does not go back */
		u = to;
	if (to - u > XRT_SAMPLE_SPAN_NS)
		u = to - XRT_SAMPLE_SPAN_NS;
	struct xrt_hand_input far[XRT_HANDS];
	uint32_t pressed[XRT_HANDS] = { 0 };
	memcpy(far, s->sync_last, sizeof far);
	do {
		u = to - u > XRT_SAMPLE_STEP_NS ? u + XRT_SAMPLE_STEP_NS : to;
		inp_poll(s->sync_src, u, &s->sync_st);
		for (uint32_t h = 0; h < XRT_HANDS; h++) {
			const struct inp_controller *c = &s->sync_st.hand[h];
			const struct xrt_hand_input *l = &s->sync_last[h];
			pressed[h] |= c->pressed;
			farthest(&far[h].trigger, c->trigger, l->trigger);
			farthest(&far[h].grip, c->grip, l->grip);
			for (int k = 0; k < 2; k++)
				farthest(&far[h].stick[k], c->thumbstick[k], l->stick[k]);
		}
	} while (u < to);
	if (to > s->sync_t)
		s->sync_t = to;
	for (uint32_t h = 0; h < XRT_HANDS; h++) {
		const struct inp_controller *c = &s->sync_st.hand[h];
		const struct xrt_hand_input *l = &s->sync_last[h];
		in[h].trigger = came_back(c->trigger, l->trigger, far[h].trigger);
		in[h].grip = came_back(c->grip, l->grip, far[h].grip);
		for (int k = 0; k < 2; k++)
			in[h].stick[k] = came_back(c->thumbstick[k], l->stick[k], far[h].stick[k]);
		/* A press released again before this sync still shows once. */
		in[h].buttons = c->buttons | pressed[h];
		s->sync_last[h] = in[h];
		s->sync_last[h].buttons = c->buttons;
	}
}

void xrt_input_end_frame(struct xrt_session *s, uint64_t frame)
{
	struct xrt_instance *inst = s->inst;
	const struct xrt_config *cfg = &inst->cfg;
	struct xrt_script *sc = inst->script;
	if (sc && sc->has_quit && !s->script_quit &&
	    xrt_script_time(s, s->pacer.last_display_ns) >= sc->quit_ns) {
		s->script_quit = true;
		xrt_record(inst, "script_quit frame=%llu", (unsigned long long)frame);
		xrt_session_stop(s);
	}
	if (cfg->unfocus_from && frame == cfg->unfocus_from && s->state == XR_SESSION_STATE_FOCUSED)
		xrt_queue_state(s, XR_SESSION_STATE_VISIBLE);
	if (cfg->unfocus_to && frame == cfg->unfocus_to && s->state == XR_SESSION_STATE_VISIBLE)
		xrt_queue_state(s, XR_SESSION_STATE_FOCUSED);
	if (cfg->switch_frame && frame == cfg->switch_frame) {
		s->hw_profile = cfg->switch_profile;
		xrt_profile_update(s);
	}
}

int xrt_garbage_kind(const struct xrt_session *s)
{
	uint64_t from = s->inst->cfg.garbage_from;
	return from && s->ended >= from ? (int)(s->ended % XRT_GARBAGE_KINDS) : -1;
}

void xrt_garbage_pose(int kind, XrPosef *p)
{
	XrQuaternionf *q = &p->orientation;
	switch (kind) {
	case 0: p->position.y = NAN; break;
	case 1: *q = (XrQuaternionf){ 0, 0, 0, 0 }; break;
	case 2: p->position.x = INFINITY; break;
	case 3: *q = (XrQuaternionf){ 2 * q->x, 2 * q->y, 2 * q->z, 2 * q->w }; break; /* usable, not unit */
	default: break;
	}
}

void xrt_garbage_state(int kind, XrActionType type, struct xrt_action_state *st)
{
	static const float f[XRT_GARBAGE_KINDS] = { NAN, 7.0f, -3.0f, 0 };
	static const XrVector2f v[XRT_GARBAGE_KINDS] = { { NAN, NAN }, { 7.0f, -7.0f }, { -INFINITY, INFINITY }, { 0, 0 } };
	if (!st->active || kind < 0 || kind >= (int)XRT_GARBAGE_KINDS - 1)
		return; /* the last kind leaves the values alone */
	if (type == XR_ACTION_TYPE_FLOAT_INPUT)
		st->f = f[kind];
	else if (type == XR_ACTION_TYPE_VECTOR2F_INPUT)
		st->v = v[kind];
}

bool xrt_input_failing(const struct xrt_session *s)
{
	uint64_t from = s->inst->cfg.fail_input_from;
	return from && s->ended >= from;
}
