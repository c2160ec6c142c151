/* OpenXR input (docs/input.md, "OpenXR"): one action set for both hands —
 * grip and aim poses, trigger (value and click), squeeze, thumbstick (vector
 * and click), A/B/X/Y and menu, and a haptic output — with suggested
 * bindings for khr/simple_controller, oculus/touch_controller,
 * valve/index_controller, htc/vive_controller and
 * microsoft/motion_controller.
 *
 * The renderer's OpenXR backend (gfx/gfx_xr.c) owns the instance and the
 * session; it hands them to this source as they come and go, so input and
 * frames share one session (the only way OpenXR allows):
 *
 *   xrCreateInstance      -> inp_xr_bind_instance  (action set, actions, suggested bindings)
 *   xrCreateSession+space -> inp_xr_bind_session   (attach, action spaces, VIEW space)
 *   xrPollEvent           -> inp_xr_event          (INTERACTION_PROFILE_CHANGED: reread profiles)
 *   xrWaitFrame           -> inp_xr_frame          (predicted display time, whether focused)
 *   xrDestroySession      -> inp_xr_unbind_session (before it)
 *   xrDestroyInstance     -> inp_xr_unbind_instance (before it)
 *
 * poll (the loop, after wait_frame) calls xrSyncActions and locates the
 * grip and aim spaces and the VIEW space in the session's stage space at
 * the predicted display time: inp_state head, hand[].pose (grip),
 * hand[].aim, buttons with pressed/released edges, trigger, grip (squeeze),
 * thumbstick, and profile[] (xrGetCurrentInteractionProfile). While the
 * session is not focused (or not bound) the hands are untracked and at rest.
 * The tools never see OpenXR: they read the input state the loop also
 * writes into TrackedPose and ControllerState.
 *
 * A profile the runtime refuses (xrSuggestInteractionProfileBindings
 * fails) is said in one line and skipped; the others still bind. A failing
 * call during poll is counted and said once per call and result (the
 * first INP_XR_SAID_MAX such; then one line says the rest are only
 * counted) until the instance is unbound; poll then leaves what it could not read untracked
 * and at rest.
 *
 * Haptics: inp_haptic -> xrApplyHapticFeedback (XrHapticVibration, the
 * runtime's frequency; duration 0: the runtime's shortest pulse) on that
 * hand's subaction path: 0, -EINVAL (amplitude outside [0, 1], duration past
 * INP_XR_HAPTIC_MAX_NS), -ENOTCONN (no session), -EAGAIN (not focused: the
 * runtime ignored it), or the call's failure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openxr/openxr.h>

#include "inp/input.h"

/* Profiles with suggested bindings, in the order suggested. */
#define INP_XR_PROFILES 5u
extern const char *const inp_xr_profiles[INP_XR_PROFILES];

/* The action set's actions (docs/input.md lists them, and its bindings
 * table is checked against inp_xr_bindings by the tests). */
#define INP_XR_ACTIONS 14u
struct inp_xr_action {
	const char *name;      /* XrActionCreateInfo.actionName */
	const char *localized;
	XrActionType type;
	uint32_t button;       /* the TH_BUTTON_* a boolean action holds; 0 for the others */
};
extern const struct inp_xr_action inp_xr_actions[INP_XR_ACTIONS];
struct inp_xr_binding {
	uint8_t action;   /* index into inp_xr_actions */
	const char *path; /* "/user/hand/left/input/x/click" */
};
/* Profile p's (index into inp_xr_profiles) suggested bindings; NULL and 0
 * past the last. */
const struct inp_xr_binding *inp_xr_bindings(unsigned profile, size_t *n);

/* Kinds of failing call (call, result) said per instance; later kinds are counted only. */
#define INP_XR_SAID_MAX 16u

/* The longest pulse inp_haptic takes (longer: -EINVAL). */
#define INP_XR_HAPTIC_MAX_NS (10ull * 1000 * 1000 * 1000)

/* A source not bound to any instance yet (its hands stay untracked). */
int inp_xr_create(struct inp_source **out);
/* Whether src was made by inp_xr_create (the backend binds only those). */
bool inp_xr_is(const struct inp_source *src);

/* Sources made by inp_xr_create only. Negative errno; each OpenXR failure
 * is said in one line (th_err) naming the call and the XrResult. */
int inp_xr_bind_instance(struct inp_source *src, XrInstance instance);
int inp_xr_bind_session(struct inp_source *src, XrSession session, XrSpace stage);
void inp_xr_event(struct inp_source *src, const XrEventDataBuffer *ev);
void inp_xr_frame(struct inp_source *src, XrTime predicted_display_time, bool focused);
void inp_xr_unbind_session(struct inp_source *src);
void inp_xr_unbind_instance(struct inp_source *src);

struct inp_xr_stats {
	uint64_t syncs;          /* xrSyncActions that returned XR_SUCCESS */
	uint64_t unfocused;      /* polls while not focused (or unbound) */
	uint64_t profile_changes; /* INTERACTION_PROFILE_CHANGED events */
	uint64_t haptics;        /* pulses applied */
	uint64_t errors;         /* OpenXR calls that failed (said) */
	uint32_t profiles_suggested; /* profiles whose bindings the runtime took */
};
void inp_xr_stats(struct inp_source *src, struct inp_xr_stats *out);
