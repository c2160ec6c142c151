/* OpenXR input (inp_xr.h, docs/input.md "OpenXR"): one action set with
 * both hands as subaction paths, the five profiles' suggested bindings,
 * and per poll xrSyncActions, the action states and the grip, aim and VIEW
 * spaces located in the session's stage space at the frame's predicted
 * display time.
 *
 * Every value the runtime gives is checked before it reaches inp_state:
 * poses must be finite with a non-zero rotation (normalised here), values
 * are clamped to their ranges (NaN reads as rest), a profile path must be
 * a well-formed OpenXR path shorter than INP_PROFILE_MAX. A control a profile has only as a click reads 1 or 0 as
 * its value; one it has only as a value clicks with hysteresis
 * (INP_XR_CLICK_ON / INP_XR_CLICK_OFF), so TH_BUTTON_TRIGGER and
 * TH_BUTTON_GRIP mean the same on every profile. */
#include "inp/inp_xr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "th_log.h"
#include "th_schema.h"

#define INP_XR_CLICK_ON 0.55f  /* a value-only trigger / squeeze clicks at or above */
#define INP_XR_CLICK_OFF 0.45f /* ... and lets go at or below */
#define INP_XR_BINDINGS_MAX 32u /* suggested bindings per profile */
#define INP_XR_SET_NAME "theta"
#define INP_XR_SET_PRIORITY 0

/* ---- the action set and the bindings (docs/input.md's tables) ------------------ */

enum xa {
	XA_GRIP_POSE,
	XA_AIM_POSE,
	XA_TRIGGER,
	XA_TRIGGER_CLICK,
	XA_SQUEEZE,
	XA_SQUEEZE_CLICK,
	XA_THUMBSTICK,
	XA_THUMBSTICK_CLICK,
	XA_A,
	XA_B,
	XA_X,
	XA_Y,
	XA_MENU,
	XA_HAPTIC,
	XA_COUNT
};
_Static_assert(XA_COUNT == INP_XR_ACTIONS, "inp_xr.h counts the actions");

const struct inp_xr_action inp_xr_actions[INP_XR_ACTIONS] = {
	[XA_GRIP_POSE] = { "grip_pose", "Grip pose", XR_ACTION_TYPE_POSE_INPUT, 0 },
	[XA_AIM_POSE] = { "aim_pose", "Aim pose", XR_ACTION_TYPE_POSE_INPUT, 0 },
	[XA_TRIGGER] = { "trigger", "Trigger", XR_ACTION_TYPE_FLOAT_INPUT, 0 },
	[XA_TRIGGER_CLICK] = { "trigger_click", "Trigger click", XR_ACTION_TYPE_BOOLEAN_INPUT, TH_BUTTON_TRIGGER },
	[XA_SQUEEZE] = { "squeeze", "Squeeze", XR_ACTION_TYPE_FLOAT_INPUT, 0 },
	[XA_SQUEEZE_CLICK] = { "squeeze_click", "Squeeze click", XR_ACTION_TYPE_BOOLEAN_INPUT, TH_BUTTON_GRIP },
	[XA_THUMBSTICK] = { "thumbstick", "Thumbstick", XR_ACTION_TYPE_VECTOR2F_INPUT, 0 },
	[XA_THUMBSTICK_CLICK] = { "thumbstick_click", "Thumbstick click", XR_ACTION_TYPE_BOOLEAN_INPUT,
				  TH_BUTTON_THUMBSTICK },
	[XA_A] = { "a", "A", XR_ACTION_TYPE_BOOLEAN_INPUT, TH_BUTTON_A },
	[XA_B] = { "b", "B", XR_ACTION_TYPE_BOOLEAN_INPUT, TH_BUTTON_B },
	[XA_X] = { "x", "X", XR_ACTION_TYPE_BOOLEAN_INPUT, TH_BUTTON_X },
	[XA_Y] = { "y", "Y", XR_ACTION_TYPE_BOOLEAN_INPUT, TH_BUTTON_Y },
	[XA_MENU] = { "menu", "Menu", XR_ACTION_TYPE_BOOLEAN_INPUT, TH_BUTTON_MENU },
	[XA_HAPTIC] = { "haptic", "Haptic", XR_ACTION_TYPE_VIBRATION_OUTPUT, 0 },
};

const char *const inp_xr_profiles[INP_XR_PROFILES] = {
	"/interaction_profiles/khr/simple_controller",
	"/interaction_profiles/oculus/touch_controller",
	"/interaction_profiles/valve/index_controller",
	"/interaction_profiles/htc/vive_controller",
	"/interaction_profiles/microsoft/motion_controller",
};

#define L "/user/hand/left/"
#define R "/user/hand/right/"
/* Both hands: the poses and the haptic output every profile has. */
#define XB_COMMON                                                                                   \
	{ XA_GRIP_POSE, L "input/grip/pose" }, { XA_GRIP_POSE, R "input/grip/pose" },               \
		{ XA_AIM_POSE, L "input/aim/pose" }, { XA_AIM_POSE, R "input/aim/pose" },           \
		{ XA_HAPTIC, L "output/haptic" }, { XA_HAPTIC, R "output/haptic" }
#define XB_BOTH(a, component) { a, L component }, { a, R component }

static const struct inp_xr_binding xb_simple[] = {
	XB_COMMON,
	XB_BOTH(XA_TRIGGER_CLICK, "input/select/click"),
	XB_BOTH(XA_MENU, "input/menu/click"),
};
static const struct inp_xr_binding xb_touch[] = {
	XB_COMMON,
	XB_BOTH(XA_TRIGGER, "input/trigger/value"),
	XB_BOTH(XA_SQUEEZE, "input/squeeze/value"),
	XB_BOTH(XA_THUMBSTICK, "input/thumbstick"),
	XB_BOTH(XA_THUMBSTICK_CLICK, "input/thumbstick/click"),
	{ XA_X, L "input/x/click" },
	{ XA_Y, L "input/y/click" },
	{ XA_MENU, L "input/menu/click" },
	{ XA_A, R "input/a/click" },
	{ XA_B, R "input/b/click" },
};
/* Index has A and B on both hands: the left ones are X and Y, where the
 * Touch has them (undo, redo). Its system button is the runtime's. */
static const struct inp_xr_binding xb_index[] = {
	XB_COMMON,
	XB_BOTH(XA_TRIGGER, "input/trigger/value"),
	XB_BOTH(XA_TRIGGER_CLICK, "input/trigger/click"),
	XB_BOTH(XA_SQUEEZE, "input/squeeze/value"),
	XB_BOTH(XA_THUMBSTICK, "input/thumbstick"),
	XB_BOTH(XA_THUMBSTICK_CLICK, "input/thumbstick/click"),
	{ XA_X, L "input/a/click" },
	{ XA_Y, L "input/b/click" },
	{ XA_A, R "input/a/click" },
	{ XA_B, R "input/b/click" },
};
/* The Vive's trackpad stands in for the thumbstick. */
static const struct inp_xr_binding xb_vive[] = {
	XB_COMMON,
	XB_BOTH(XA_TRIGGER, "input/trigger/value"),
	XB_BOTH(XA_TRIGGER_CLICK, "input/trigger/click"),
	XB_BOTH(XA_SQUEEZE_CLICK, "input/squeeze/click"),
	XB_BOTH(XA_THUMBSTICK, "input/trackpad"),
	XB_BOTH(XA_THUMBSTICK_CLICK, "input/trackpad/click"),
	XB_BOTH(XA_MENU, "input/menu/click"),
};
static const struct inp_xr_binding xb_microsoft[] = {
	XB_COMMON,
	XB_BOTH(XA_TRIGGER, "input/trigger/value"),
	XB_BOTH(XA_SQUEEZE_CLICK, "input/squeeze/click"),
	XB_BOTH(XA_THUMBSTICK, "input/thumbstick"),
	XB_BOTH(XA_THUMBSTICK_CLICK, "input/thumbstick/click"),
	XB_BOTH(XA_MENU, "input/menu/click"),
};
#undef XB_BOTH
#undef XB_COMMON
#undef R
#undef L

#define XB_N(a) (sizeof a / sizeof *a)
static const struct {
	const struct inp_xr_binding *b;
	size_t n;
} xb_profile[INP_XR_PROFILES] = {
	{ xb_simple, XB_N(xb_simple) }, { xb_touch, XB_N(xb_touch) }, { xb_index, XB_N(xb_index) },
	{ xb_vive, XB_N(xb_vive) },     { xb_microsoft, XB_N(xb_microsoft) },
};
_Static_assert(XB_N(xb_touch) <= INP_XR_BINDINGS_MAX && XB_N(xb_index) <= INP_XR_BINDINGS_MAX &&
		       XB_N(xb_vive) <= INP_XR_BINDINGS_MAX && XB_N(xb_microsoft) <= INP_XR_BINDINGS_MAX &&
		       XB_N(xb_simple) <= INP_XR_BINDINGS_MAX,
	       "a profile's bindings fit one suggestion");
#undef XB_N

const struct inp_xr_binding *inp_xr_bindings(unsigned profile, size_t *n)
{
	if (profile >= INP_XR_PROFILES) {
		*n = 0;
		return NULL;
	}
	*n = xb_profile[profile].n;
	return xb_profile[profile].b;
}

/* ---- the source ----------------------------------------------------------------- */

static const char *const hand_path[INP_HANDS] = { "/user/hand/left", "/user/hand/right" };

struct xr_src {
	struct inp_source base;
	XrInstance instance;
	XrActionSet set;
	XrAction act[XA_COUNT];
	XrPath hand[INP_HANDS];
	unsigned profiles; /* suggestions the runtime took */

	XrSession session;
	XrSpace stage; /* the backend's */
	XrSpace view;
	XrSpace grip[INP_HANDS], aim[INP_HANDS];
	bool attached;
	bool profiles_stale; /* reread at the next poll */
	char profile[INP_HANDS][INP_PROFILE_MAX];

	XrTime time; /* this frame's predicted display time (0: none yet) */
	bool focused;

	uint32_t buttons[INP_HANDS]; /* as the last poll gave them (edges; the loop's filter may rewrite the state) */
	struct inp_xr_stats st;
	/* The failures said: a call failing the same way again is counted, not
	 * said (a broken runtime would say it every frame, and two calls
	 * failing in turn would each be said again if only the last one were
	 * remembered). Past INP_XR_SAID_MAX kinds one line says the rest are
	 * counted. */
	struct {
		const char *call;
		XrResult result;
	} said[INP_XR_SAID_MAX];
	unsigned nsaid; /* INP_XR_SAID_MAX + 1: the "counted" line was said */
};

static struct xr_src *to_src(struct inp_source *s)
{
	return (struct xr_src *)s;
}

static int xr_errno(XrResult r)
{
	switch (r) {
	case XR_ERROR_OUT_OF_MEMORY:
	case XR_ERROR_LIMIT_REACHED:
		return -ENOMEM;
	case XR_ERROR_SESSION_LOST:
	case XR_ERROR_INSTANCE_LOST:
		return -ECONNRESET;
	case XR_ERROR_FUNCTION_UNSUPPORTED:
	case XR_ERROR_PATH_UNSUPPORTED:
	case XR_ERROR_FEATURE_UNSUPPORTED:
		return -ENOTSUP;
	default:
		return -EIO;
	}
}

/* The runtime's name for r (xrResultToString), into name. */
static const char *result_name(struct xr_src *s, XrResult r, char name[XR_MAX_RESULT_STRING_SIZE])
{
	if (!s->instance || XR_FAILED(xrResultToString(s->instance, r, name)))
		snprintf(name, XR_MAX_RESULT_STRING_SIZE, "XrResult %d", (int)r);
	return name;
}

/* Counts a failure (call, result); true when it is to be said now: the
 * first time, and while fewer than INP_XR_SAID_MAX kinds were. */
static bool say_failure(struct xr_src *s, const char *call, XrResult r)
{
	s->st.errors++;
	unsigned n = s->nsaid < INP_XR_SAID_MAX ? s->nsaid : INP_XR_SAID_MAX;
	for (unsigned i = 0; i < n; i++)
		if (s->said[i].result == r && strcmp(s->said[i].call, call) == 0)
			return false;
	if (s->nsaid < INP_XR_SAID_MAX) {
		s->said[s->nsaid].call = call;
		s->said[s->nsaid].result = r;
		s->nsaid++;
		return true;
	}
	if (s->nsaid == INP_XR_SAID_MAX) {
		th_err("OpenXR input: more calls fail in other ways: counted (inp_xr_stats errors), not said");
		s->nsaid++;
	}
	return false;
}

/* 0, or says the failure (call, result) once and gives its errno. */
static int xr_check(struct xr_src *s, XrResult r, const char *call)
{
	if (XR_SUCCEEDED(r))
		return 0;
	if (say_failure(s, call, r)) {
		char name[XR_MAX_RESULT_STRING_SIZE];
		th_err("OpenXR input: %s: %s", call, result_name(s, r, name));
	}
	return xr_errno(r);
}

static void profiles_clear(struct xr_src *s)
{
	for (int h = 0; h < INP_HANDS; h++)
		s->profile[h][0] = 0;
}

int inp_xr_bind_instance(struct inp_source *src, XrInstance instance)
{
	struct xr_src *s = to_src(src);
	if (s->instance)
		inp_xr_unbind_instance(src);
	s->instance = instance;
	int e = 0;
	for (int h = 0; !e && h < INP_HANDS; h++)
		e = xr_check(s, xrStringToPath(instance, hand_path[h], &s->hand[h]), "xrStringToPath");
	XrActionSetCreateInfo si = { .type = XR_TYPE_ACTION_SET_CREATE_INFO, .priority = INP_XR_SET_PRIORITY };
	snprintf(si.actionSetName, sizeof si.actionSetName, "%s", INP_XR_SET_NAME);
	snprintf(si.localizedActionSetName, sizeof si.localizedActionSetName, "Theta");
	if (!e)
		e = xr_check(s, xrCreateActionSet(instance, &si, &s->set), "xrCreateActionSet");
	for (unsigned a = 0; !e && a < XA_COUNT; a++) {
		XrActionCreateInfo ai = { .type = XR_TYPE_ACTION_CREATE_INFO,
					  .actionType = inp_xr_actions[a].type,
					  .countSubactionPaths = INP_HANDS,
					  .subactionPaths = s->hand };
		snprintf(ai.actionName, sizeof ai.actionName, "%s", inp_xr_actions[a].name);
		snprintf(ai.localizedActionName, sizeof ai.localizedActionName, "%s", inp_xr_actions[a].localized);
		e = xr_check(s, xrCreateAction(s->set, &ai, &s->act[a]), "xrCreateAction");
	}
	if (e) {
		inp_xr_unbind_instance(src);
		return e;
	}
	/* Each profile on its own: a runtime that refuses one (it lacks the
	 * profile, or a path of it) still gets the others. */
	s->profiles = 0;
	for (unsigned p = 0; p < INP_XR_PROFILES; p++) {
		XrActionSuggestedBinding sb[INP_XR_BINDINGS_MAX];
		XrInteractionProfileSuggestedBinding ps = { .type = XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING,
							    .countSuggestedBindings = (uint32_t)xb_profile[p].n,
							    .suggestedBindings = sb };
		XrResult r = xrStringToPath(instance, inp_xr_profiles[p], &ps.interactionProfile);
		const char *bad = inp_xr_profiles[p];
		for (size_t i = 0; XR_SUCCEEDED(r) && i < xb_profile[p].n; i++) {
			sb[i].action = s->act[xb_profile[p].b[i].action];
			bad = xb_profile[p].b[i].path;
			r = xrStringToPath(instance, bad, &sb[i].binding);
		}
		char name[XR_MAX_RESULT_STRING_SIZE];
		if (XR_FAILED(r)) {
			s->st.errors++;
			th_err("OpenXR input: the runtime refused the path %s (xrStringToPath: %s): no bindings for %s", bad,
			       result_name(s, r, name), inp_xr_profiles[p]);
			continue;
		}
		r = xrSuggestInteractionProfileBindings(instance, &ps);
		if (XR_FAILED(r)) {
			s->st.errors++;
			th_err("OpenXR input: the runtime refused the bindings for %s (xrSuggestInteractionProfileBindings: "
			       "%s): those controllers will not work",
			       inp_xr_profiles[p], result_name(s, r, name));
			continue;
		}
		s->profiles |= 1u << p;
	}
	s->st.profiles_suggested = (uint32_t)__builtin_popcount(s->profiles);
	return 0;
}

static void drop_spaces(struct xr_src *s)
{
	XrSpace *sp[] = { &s->view, &s->grip[0], &s->grip[1], &s->aim[0], &s->aim[1] };
	for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
		if (*sp[i])
			xrDestroySpace(*sp[i]);
		*sp[i] = XR_NULL_HANDLE;
	}
}

static int action_space(struct xr_src *s, XrAction a, XrPath hand, XrSpace *out)
{
	XrActionSpaceCreateInfo ci = { .type = XR_TYPE_ACTION_SPACE_CREATE_INFO,
				       .action = a,
				       .subactionPath = hand,
				       .poseInActionSpace = { .orientation = { 0, 0, 0, 1 } } };
	return xr_check(s, xrCreateActionSpace(s->session, &ci, out), "xrCreateActionSpace");
}

int inp_xr_bind_session(struct inp_source *src, XrSession session, XrSpace stage)
{
	struct xr_src *s = to_src(src);
	if (!s->set)
		return -ENOTCONN; /* no instance bound (or binding it failed) */
	if (s->session)
		inp_xr_unbind_session(src);
	s->session = session;
	s->stage = stage;
	s->time = 0;
	s->focused = false;
	XrSessionActionSetsAttachInfo ai = { .type = XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO,
					     .countActionSets = 1,
					     .actionSets = &s->set };
	int e = xr_check(s, xrAttachSessionActionSets(session, &ai), "xrAttachSessionActionSets");
	if (!e)
		s->attached = true;
	XrReferenceSpaceCreateInfo vi = { .type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
					  .referenceSpaceType = XR_REFERENCE_SPACE_TYPE_VIEW,
					  .poseInReferenceSpace = { .orientation = { 0, 0, 0, 1 } } };
	if (!e)
		e = xr_check(s, xrCreateReferenceSpace(session, &vi, &s->view), "xrCreateReferenceSpace");
	for (int h = 0; !e && h < INP_HANDS; h++) {
		e = action_space(s, s->act[XA_GRIP_POSE], s->hand[h], &s->grip[h]);
		if (!e)
			e = action_space(s, s->act[XA_AIM_POSE], s->hand[h], &s->aim[h]);
	}
	if (e) {
		inp_xr_unbind_session(src);
		return e;
	}
	s->profiles_stale = true; /* the runtime may know them already */
	return 0;
}

void inp_xr_unbind_session(struct inp_source *src)
{
	struct xr_src *s = to_src(src);
	drop_spaces(s);
	s->session = XR_NULL_HANDLE;
	s->stage = XR_NULL_HANDLE;
	s->attached = false;
	s->profiles_stale = false;
	s->time = 0;
	s->focused = false;
	profiles_clear(s);
}

void inp_xr_unbind_instance(struct inp_source *src)
{
	struct xr_src *s = to_src(src);
	inp_xr_unbind_session(src);
	if (s->set)
		xrDestroyActionSet(s->set); /* and its actions */
	s->set = XR_NULL_HANDLE;
	memset(s->act, 0, sizeof s->act);
	memset(s->hand, 0, sizeof s->hand);
	s->profiles = 0;
	s->instance = XR_NULL_HANDLE;
	s->nsaid = 0;
}

void inp_xr_event(struct inp_source *src, const XrEventDataBuffer *ev)
{
	struct xr_src *s = to_src(src);
	if (!ev || ev->type != XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED)
		return;
	const XrEventDataInteractionProfileChanged *pc = (const XrEventDataInteractionProfileChanged *)ev;
	if (!s->session || pc->session != s->session)
		return; /* an older session's */
	s->st.profile_changes++;
	s->profiles_stale = true;
}

void inp_xr_frame(struct inp_source *src, XrTime predicted_display_time, bool focused)
{
	struct xr_src *s = to_src(src);
	s->time = predicted_display_time > 0 ? predicted_display_time : 0;
	s->focused = focused;
}

void inp_xr_stats(struct inp_source *src, struct inp_xr_stats *out)
{
	*out = to_src(src)->st;
}

/* ---- poll ------------------------------------------------------------------------ */

/* Each hand's current interaction profile ("" for none, or one the
 * runtime names with a path it cannot spell, or with one that is no
 * OpenXR path of fewer than INP_PROFILE_MAX characters: the profile goes
 * on to the log, the daemon (INPUT_INFO checks it the same way) and
 * thetactl). */
static void read_profiles(struct xr_src *s)
{
	s->profiles_stale = false;
	for (int h = 0; h < INP_HANDS; h++) {
		s->profile[h][0] = 0;
		XrInteractionProfileState ps = { .type = XR_TYPE_INTERACTION_PROFILE_STATE };
		if (xr_check(s, xrGetCurrentInteractionProfile(s->session, s->hand[h], &ps), "xrGetCurrentInteractionProfile"))
			continue;
		if (ps.interactionProfile == XR_NULL_PATH)
			continue;
		char buf[XR_MAX_PATH_LENGTH];
		uint32_t n = 0;
		if (xr_check(s, xrPathToString(s->instance, ps.interactionProfile, sizeof buf, &n, buf), "xrPathToString"))
			continue;
		buf[sizeof buf - 1] = 0;
		size_t len = strlen(buf);
		if (len >= INP_PROFILE_MAX || !proto_ipc_path_valid(buf, len)) {
			if (say_failure(s, "a profile's path", XR_SUCCESS))
				th_err("OpenXR input: the runtime names the %s hand's interaction profile with a path of %zu "
				       "bytes that is no OpenXR path of at most %u characters: read as none",
				       h == INP_LEFT ? "left" : "right", len, INP_PROFILE_MAX - 1);
			continue;
		}
		memcpy(s->profile[h], buf, len + 1);
	}
}

static float clampf(float v, float lo, float hi)
{
	if (!(v == v))
		return 0; /* NaN: at rest */
	return v < lo ? lo : v > hi ? hi : v;
}

/* *out from an XrPosef, valid when the runtime said both parts are and
 * the numbers are usable. */
static void pose_from(const XrSpaceLocation *loc, struct inp_pose *out)
{
	const XrSpaceLocationFlags need = XR_SPACE_LOCATION_POSITION_VALID_BIT | XR_SPACE_LOCATION_ORIENTATION_VALID_BIT;
	const XrPosef *p = &loc->pose;
	float pos[3] = { p->position.x, p->position.y, p->position.z };
	float q[4] = { p->orientation.x, p->orientation.y, p->orientation.z, p->orientation.w };
	out->valid = false;
	if ((loc->locationFlags & need) != need)
		return;
	float len2 = 0;
	for (int i = 0; i < 4; i++)
		len2 += q[i] * q[i];
	for (int i = 0; i < 3; i++)
		if (!isfinite(pos[i]))
			return;
	if (!isfinite(len2) || len2 < 1e-12f)
		return;
	float inv = 1.0f / sqrtf(len2);
	for (int i = 0; i < 4; i++)
		out->rotation[i] = q[i] * inv;
	memcpy(out->position, pos, sizeof pos);
	out->valid = true;
}

static void locate(struct xr_src *s, XrSpace space, struct inp_pose *out)
{
	out->valid = false;
	if (!space || !s->stage || s->time <= 0)
		return;
	XrSpaceLocation loc = { .type = XR_TYPE_SPACE_LOCATION };
	if (xr_check(s, xrLocateSpace(space, s->stage, s->time, &loc), "xrLocateSpace"))
		return;
	pose_from(&loc, out);
}

static bool get_bool(struct xr_src *s, unsigned a, int h, bool *active)
{
	XrActionStateGetInfo gi = { .type = XR_TYPE_ACTION_STATE_GET_INFO, .action = s->act[a], .subactionPath = s->hand[h] };
	XrActionStateBoolean st = { .type = XR_TYPE_ACTION_STATE_BOOLEAN };
	*active = false;
	if (xr_check(s, xrGetActionStateBoolean(s->session, &gi, &st), "xrGetActionStateBoolean"))
		return false;
	*active = st.isActive;
	return st.isActive && st.currentState;
}

static float get_float(struct xr_src *s, unsigned a, int h, bool *active)
{
	XrActionStateGetInfo gi = { .type = XR_TYPE_ACTION_STATE_GET_INFO, .action = s->act[a], .subactionPath = s->hand[h] };
	XrActionStateFloat st = { .type = XR_TYPE_ACTION_STATE_FLOAT };
	*active = false;
	if (xr_check(s, xrGetActionStateFloat(s->session, &gi, &st), "xrGetActionStateFloat"))
		return 0;
	*active = st.isActive;
	return st.isActive ? st.currentState : 0;
}

static bool pose_active(struct xr_src *s, unsigned a, int h)
{
	XrActionStateGetInfo gi = { .type = XR_TYPE_ACTION_STATE_GET_INFO, .action = s->act[a], .subactionPath = s->hand[h] };
	XrActionStatePose st = { .type = XR_TYPE_ACTION_STATE_POSE };
	if (xr_check(s, xrGetActionStatePose(s->session, &gi, &st), "xrGetActionStatePose"))
		return false;
	return st.isActive;
}

/* A click from a value with hysteresis: held stays held down to OFF. */
static bool click_from(float v, bool held)
{
	return held ? v > INP_XR_CLICK_OFF : v >= INP_XR_CLICK_ON;
}

static void read_hand(struct xr_src *s, int h, struct inp_controller *c)
{
	uint32_t prev = s->buttons[h];
	uint32_t b = 0;
	bool active;
	for (unsigned a = XA_A; a <= XA_MENU; a++)
		if (get_bool(s, a, h, &active))
			b |= inp_xr_actions[a].button;
	if (get_bool(s, XA_THUMBSTICK_CLICK, h, &active))
		b |= TH_BUTTON_THUMBSTICK;

	/* trigger and squeeze: value and click, each standing in for the other */
	static const struct {
		unsigned value, click;
		uint32_t button;
	} pair[2] = { { XA_TRIGGER, XA_TRIGGER_CLICK, TH_BUTTON_TRIGGER }, { XA_SQUEEZE, XA_SQUEEZE_CLICK, TH_BUTTON_GRIP } };
	float val[2];
	for (int i = 0; i < 2; i++) {
		bool vact, cact;
		float v = clampf(get_float(s, pair[i].value, h, &vact), 0, 1);
		bool click = get_bool(s, pair[i].click, h, &cact);
		if (!vact)
			v = click ? 1.0f : 0.0f;
		if (!cact)
			click = click_from(v, (prev & pair[i].button) != 0);
		if (click)
			b |= pair[i].button;
		val[i] = v;
	}
	c->trigger = val[0];
	c->grip = val[1];

	XrActionStateGetInfo gi = { .type = XR_TYPE_ACTION_STATE_GET_INFO,
				    .action = s->act[XA_THUMBSTICK],
				    .subactionPath = s->hand[h] };
	XrActionStateVector2f v2 = { .type = XR_TYPE_ACTION_STATE_VECTOR2F };
	c->thumbstick[0] = c->thumbstick[1] = 0;
	if (!xr_check(s, xrGetActionStateVector2f(s->session, &gi, &v2), "xrGetActionStateVector2f") && v2.isActive) {
		c->thumbstick[0] = clampf(v2.currentState.x, -1, 1);
		c->thumbstick[1] = clampf(v2.currentState.y, -1, 1);
	}

	if (pose_active(s, XA_GRIP_POSE, h))
		locate(s, s->grip[h], &c->pose);
	else
		c->pose.valid = false;
	if (pose_active(s, XA_AIM_POSE, h))
		locate(s, s->aim[h], &c->aim);
	else
		c->aim.valid = false;
	c->buttons = b;
}

/* Untracked, nothing held (what was held is released). */
static void at_rest(struct inp_controller *c)
{
	c->pose.valid = c->aim.valid = false;
	c->buttons = 0;
	c->trigger = c->grip = 0;
	c->thumbstick[0] = c->thumbstick[1] = 0;
}

static int xr_poll(struct inp_source *src, uint64_t time_ns, struct inp_state *st)
{
	struct xr_src *s = to_src(src);
	(void)time_ns; /* the runtime's predicted display time, not the loop's */
	bool synced = false;
	if (s->session && s->attached) {
		if (s->profiles_stale)
			read_profiles(s);
		if (s->focused && s->time > 0) {
			XrActiveActionSet as = { .actionSet = s->set, .subactionPath = XR_NULL_PATH };
			XrActionsSyncInfo si = { .type = XR_TYPE_ACTIONS_SYNC_INFO, .countActiveActionSets = 1,
						 .activeActionSets = &as };
			XrResult r = xrSyncActions(s->session, &si);
			if (r == XR_SUCCESS) {
				s->st.syncs++;
				synced = true;
			} else {
				xr_check(s, r, "xrSyncActions"); /* XR_SESSION_NOT_FOCUSED: unfocused, not said */
			}
		}
	}
	if (!synced)
		s->st.unfocused++;
	locate(s, s->view, &st->head);
	int edges = 0;
	for (int h = 0; h < INP_HANDS; h++) {
		struct inp_controller *c = &st->hand[h];
		if (synced)
			read_hand(s, h, c);
		else
			at_rest(c);
		c->pressed = c->buttons & ~s->buttons[h];
		c->released = s->buttons[h] & ~c->buttons;
		s->buttons[h] = c->buttons;
		edges += __builtin_popcount(c->pressed) + __builtin_popcount(c->released);
		memcpy(st->profile[h], s->profile[h], sizeof st->profile[h]);
	}
	st->events += (uint64_t)edges;
	return edges;
}

static int xr_haptic(struct inp_source *src, enum inp_hand hand, float amplitude, uint64_t duration_ns)
{
	struct xr_src *s = to_src(src);
	if ((unsigned)hand >= INP_HANDS || !(amplitude >= 0 && amplitude <= 1) || duration_ns > INP_XR_HAPTIC_MAX_NS)
		return -EINVAL;
	if (!s->session || !s->attached)
		return -ENOTCONN;
	XrHapticVibration v = { .type = XR_TYPE_HAPTIC_VIBRATION,
				.duration = duration_ns ? (XrDuration)duration_ns : XR_MIN_HAPTIC_DURATION,
				.frequency = XR_FREQUENCY_UNSPECIFIED,
				.amplitude = amplitude };
	XrHapticActionInfo hi = { .type = XR_TYPE_HAPTIC_ACTION_INFO, .action = s->act[XA_HAPTIC], .subactionPath = s->hand[hand] };
	XrResult r = xrApplyHapticFeedback(s->session, &hi, (const XrHapticBaseHeader *)&v);
	int e = xr_check(s, r, "xrApplyHapticFeedback");
	if (e)
		return e;
	if (r != XR_SUCCESS)
		return -EAGAIN; /* XR_SESSION_NOT_FOCUSED: the runtime ignores it */
	s->st.haptics++;
	return 0;
}

static void xr_destroy(struct inp_source *src)
{
	inp_xr_unbind_instance(src);
	free(src);
}

static const struct inp_source_ops xr_ops = { .poll = xr_poll, .haptic = xr_haptic, .destroy = xr_destroy };

int inp_xr_create(struct inp_source **out)
{
	struct xr_src *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->base.ops = &xr_ops;
	s->base.name = "openxr";
	*out = &s->base;
	return 0;
}

bool inp_xr_is(const struct inp_source *src)
{
	return src && src->ops == &xr_ops;
}
