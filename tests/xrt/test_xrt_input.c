/* tests/xrt/: the OpenXR test runtime's input through the real Khronos
 * loader (XR_RUNTIME_JSON), without the theta client: each of the five
 * interaction profiles binds and a wrong path is refused, the current
 * profile and its event, action states and their edges from an XRT_INPUT
 * script, poses at given times (action spaces and the reference spaces
 * against each other), haptics in the record, the profile switch and the
 * unfocused window, and a script error in one line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "th_harness.h"
#include "th_stderr.h"
#include "th_xrt.h"
#include "th_xrtvk.h"

#define XI_PERIOD_NS 11111111ll
#define XI_BINDINGS_MAX 32
#define XI_EPS 1e-5

static char xi_dir[80];
static char xi_record[160];

static int xi_setup(void **state)
{
	if (th_tmpdir_setup(state))
		return -1;
	struct th_tmpdir *t = *state;
	snprintf(xi_dir, sizeof xi_dir, "%s", t->path);
	snprintf(xi_record, sizeof xi_record, "%s/record", t->path);
	if (th_xrt_env(xi_record)) {
		fprintf(stderr, "test_xrt_input: tests/xrt/theta_xrt.json is missing from the build: build it with make\n");
		return -1;
	}
	return 0;
}

#define xi_assert_line(rec, prefix)                                                       \
	do {                                                                              \
		if (th_xrt_lines(rec, prefix) == 0) {                                     \
			fprintf(stderr, "the record:\n%s\n", rec);                         \
			fail_msg("the record has no line starting '%s'", prefix);         \
		}                                                                         \
	} while (0)

static void xi_write(const char *name, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", xi_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- an instance, its actions, a session -------------------------------- */

enum { XI_GRIP, XI_AIM, XI_SELECT, XI_TRIGGER, XI_STICK, XI_A, XI_X, XI_MENU, XI_HAPTIC, XI_ACTIONS };
static const struct {
	const char *name;
	XrActionType type;
} xi_actions[XI_ACTIONS] = {
	{"grip", XR_ACTION_TYPE_POSE_INPUT},      {"aim", XR_ACTION_TYPE_POSE_INPUT},
	{"select", XR_ACTION_TYPE_BOOLEAN_INPUT}, {"trigger", XR_ACTION_TYPE_FLOAT_INPUT},
	{"stick", XR_ACTION_TYPE_VECTOR2F_INPUT}, {"button-a", XR_ACTION_TYPE_BOOLEAN_INPUT},
	{"button-x", XR_ACTION_TYPE_BOOLEAN_INPUT}, {"menu", XR_ACTION_TYPE_BOOLEAN_INPUT},
	{"haptic", XR_ACTION_TYPE_VIBRATION_OUTPUT},
};

struct xi {
	XrInstance inst;
	XrSystemId sys;
	struct th_xrtvk vk;
	XrSession session;
	XrSpace stage, local, view;
	XrActionSet set;
	XrAction act[XI_ACTIONS];
	XrPath hand[2];
	XrSessionState state;
	unsigned profile_events;
	XrTime t0, t; /* first and last predicted display times */
	unsigned frames;
};

static XrResult xi_instance(struct xi *x)
{
	memset(x, 0, sizeof *x);
	XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO};
	snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "test xrt input");
	ci.applicationInfo.apiVersion = XR_CURRENT_API_VERSION;
	const char *exts[] = {XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME};
	ci.enabledExtensionCount = 1;
	ci.enabledExtensionNames = exts;
	return xrCreateInstance(&ci, &x->inst);
}

static XrPath xi_path(struct xi *x, const char *s)
{
	XrPath p = XR_NULL_PATH;
	assert_int_equal(xrStringToPath(x->inst, s, &p), XR_SUCCESS);
	return p;
}

/* The instance, the action set with every action on both hands. */
static void xi_open(struct xi *x)
{
	assert_int_equal(xi_instance(x), XR_SUCCESS);
	XrSystemGetInfo gi = {.type = XR_TYPE_SYSTEM_GET_INFO, .formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
	assert_int_equal(xrGetSystem(x->inst, &gi, &x->sys), XR_SUCCESS);
	x->hand[0] = xi_path(x, "/user/hand/left");
	x->hand[1] = xi_path(x, "/user/hand/right");
	XrActionSetCreateInfo sci = {.type = XR_TYPE_ACTION_SET_CREATE_INFO};
	snprintf(sci.actionSetName, sizeof sci.actionSetName, "theta");
	snprintf(sci.localizedActionSetName, sizeof sci.localizedActionSetName, "Theta");
	assert_int_equal(xrCreateActionSet(x->inst, &sci, &x->set), XR_SUCCESS);
	for (int i = 0; i < XI_ACTIONS; i++) {
		XrActionCreateInfo aci = {
			.type = XR_TYPE_ACTION_CREATE_INFO,
			.actionType = xi_actions[i].type,
			.countSubactionPaths = 2,
			.subactionPaths = x->hand,
		};
		snprintf(aci.actionName, sizeof aci.actionName, "%s", xi_actions[i].name);
		snprintf(aci.localizedActionName, sizeof aci.localizedActionName, "The %s", xi_actions[i].name);
		assert_int_equal(xrCreateAction(x->set, &aci, &x->act[i]), XR_SUCCESS);
	}
}

/* Suggests bindings[]: "ACTION-INDEX PATH" pairs, n of them. */
struct xi_binding {
	int action;
	const char *path;
};

static XrResult xi_suggest(struct xi *x, const char *profile, const struct xi_binding *b, unsigned n)
{
	XrActionSuggestedBinding sb[XI_BINDINGS_MAX];
	assert_true(n <= XI_BINDINGS_MAX);
	for (unsigned i = 0; i < n; i++)
		sb[i] = (XrActionSuggestedBinding){x->act[b[i].action], xi_path(x, b[i].path)};
	XrInteractionProfileSuggestedBinding ps = {
		.type = XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING,
		.interactionProfile = xi_path(x, profile),
		.countSuggestedBindings = n,
		.suggestedBindings = sb,
	};
	return xrSuggestInteractionProfileBindings(x->inst, &ps);
}

static void xi_poll(struct xi *x)
{
	for (;;) {
		XrEventDataBuffer ev = {.type = XR_TYPE_EVENT_DATA_BUFFER};
		XrResult r = xrPollEvent(x->inst, &ev);
		if (r == XR_EVENT_UNAVAILABLE)
			return;
		assert_int_equal(r, XR_SUCCESS);
		if (ev.type == XR_TYPE_EVENT_DATA_INTERACTION_PROFILE_CHANGED) {
			assert_ptr_equal(((XrEventDataInteractionProfileChanged *)&ev)->session, x->session);
			x->profile_events++;
			continue;
		}
		assert_int_equal(ev.type, XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED);
		x->state = ((XrEventDataSessionStateChanged *)&ev)->state;
	}
}

static XrSpace xi_ref_space(struct xi *x, XrReferenceSpaceType t)
{
	XrReferenceSpaceCreateInfo rci = {
		.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
		.referenceSpaceType = t,
		.poseInReferenceSpace = {{0, 0, 0, 1}, {0, 0, 0}},
	};
	XrSpace sp;
	assert_int_equal(xrCreateReferenceSpace(x->session, &rci, &sp), XR_SUCCESS);
	return sp;
}

/* Vulkan, the session begun, the three reference spaces. */
static void xi_session(struct xi *x)
{
	char why[200];
	if (th_xrtvk_open(x->inst, x->sys, &x->vk, why, sizeof why))
		fail_msg("%s", why);
	XrGraphicsBindingVulkan2KHR gb = th_xrtvk_binding(&x->vk);
	XrSessionCreateInfo sci = {.type = XR_TYPE_SESSION_CREATE_INFO, .next = &gb, .systemId = x->sys};
	assert_int_equal(xrCreateSession(x->inst, &sci, &x->session), XR_SUCCESS);
	xi_poll(x);
	assert_int_equal(x->state, XR_SESSION_STATE_READY);
	XrSessionBeginInfo bi = {
		.type = XR_TYPE_SESSION_BEGIN_INFO,
		.primaryViewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
	};
	assert_int_equal(xrBeginSession(x->session, &bi), XR_SUCCESS);
	x->stage = xi_ref_space(x, XR_REFERENCE_SPACE_TYPE_STAGE);
	x->local = xi_ref_space(x, XR_REFERENCE_SPACE_TYPE_LOCAL);
	x->view = xi_ref_space(x, XR_REFERENCE_SPACE_TYPE_VIEW);
}

static XrResult xi_attach(struct xi *x)
{
	XrSessionActionSetsAttachInfo ai = {
		.type = XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, .countActionSets = 1, .actionSets = &x->set};
	return xrAttachSessionActionSets(x->session, &ai);
}

static XrResult xi_sync(struct xi *x)
{
	XrActiveActionSet as = {x->set, XR_NULL_PATH};
	XrActionsSyncInfo si = {.type = XR_TYPE_ACTIONS_SYNC_INFO, .countActiveActionSets = 1, .activeActionSets = &as};
	return xrSyncActions(x->session, &si);
}

/* xrWaitFrame, then the sync (its result), then an empty frame. */
static XrResult xi_frame(struct xi *x)
{
	XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
	assert_int_equal(xrWaitFrame(x->session, NULL, &fs), XR_SUCCESS);
	x->t = fs.predictedDisplayTime;
	if (!x->t0)
		x->t0 = x->t;
	XrResult r = xi_sync(x);
	assert_int_equal(xrBeginFrame(x->session, NULL), XR_SUCCESS);
	XrFrameEndInfo ei = {
		.type = XR_TYPE_FRAME_END_INFO,
		.displayTime = fs.predictedDisplayTime,
		.environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE,
	};
	assert_int_equal(xrEndFrame(x->session, &ei), XR_SUCCESS);
	x->frames++;
	xi_poll(x);
	return r;
}

static void xi_close(struct xi *x)
{
	if (x->session)
		assert_int_equal(xrDestroySession(x->session), XR_SUCCESS);
	th_xrtvk_close(&x->vk);
	assert_int_equal(x->vk.messages, 0);
	assert_int_equal(xrDestroyInstance(x->inst), XR_SUCCESS);
}

static XrActionStateBoolean xi_bool(struct xi *x, int a, int hand)
{
	XrActionStateGetInfo gi = {.type = XR_TYPE_ACTION_STATE_GET_INFO, .action = x->act[a],
				   .subactionPath = hand < 0 ? XR_NULL_PATH : x->hand[hand]};
	XrActionStateBoolean st = {.type = XR_TYPE_ACTION_STATE_BOOLEAN};
	assert_int_equal(xrGetActionStateBoolean(x->session, &gi, &st), XR_SUCCESS);
	return st;
}

static XrActionStateFloat xi_float(struct xi *x, int a, int hand)
{
	XrActionStateGetInfo gi = {.type = XR_TYPE_ACTION_STATE_GET_INFO, .action = x->act[a],
				   .subactionPath = hand < 0 ? XR_NULL_PATH : x->hand[hand]};
	XrActionStateFloat st = {.type = XR_TYPE_ACTION_STATE_FLOAT};
	assert_int_equal(xrGetActionStateFloat(x->session, &gi, &st), XR_SUCCESS);
	return st;
}

static XrActionStateVector2f xi_vec(struct xi *x, int a, int hand)
{
	XrActionStateGetInfo gi = {.type = XR_TYPE_ACTION_STATE_GET_INFO, .action = x->act[a],
				   .subactionPath = hand < 0 ? XR_NULL_PATH : x->hand[hand]};
	XrActionStateVector2f st = {.type = XR_TYPE_ACTION_STATE_VECTOR2F};
	assert_int_equal(xrGetActionStateVector2f(x->session, &gi, &st), XR_SUCCESS);
	return st;
}

static XrSpace xi_action_space(struct xi *x, int a, int hand)
{
	XrActionSpaceCreateInfo ci = {
		.type = XR_TYPE_ACTION_SPACE_CREATE_INFO,
		.action = x->act[a],
		.subactionPath = hand < 0 ? XR_NULL_PATH : x->hand[hand],
		.poseInActionSpace = {{0, 0, 0, 1}, {0, 0, 0}},
	};
	XrSpace sp;
	assert_int_equal(xrCreateActionSpace(x->session, &ci, &sp), XR_SUCCESS);
	return sp;
}

static XrSpaceLocation xi_locate(XrSpace sp, XrSpace base, XrTime t)
{
	XrSpaceLocation loc = {.type = XR_TYPE_SPACE_LOCATION};
	assert_int_equal(xrLocateSpace(sp, base, t, &loc), XR_SUCCESS);
	return loc;
}

#define XI_TRACKED                                                                                      \
	(XR_SPACE_LOCATION_ORIENTATION_VALID_BIT | XR_SPACE_LOCATION_POSITION_VALID_BIT |               \
	 XR_SPACE_LOCATION_ORIENTATION_TRACKED_BIT | XR_SPACE_LOCATION_POSITION_TRACKED_BIT)

static void xi_assert_pos(const XrSpaceLocation *l, float x, float y, float z)
{
	assert_int_equal(l->locationFlags, XI_TRACKED);
	assert_float_equal(l->pose.position.x, x, XI_EPS);
	assert_float_equal(l->pose.position.y, y, XI_EPS);
	assert_float_equal(l->pose.position.z, z, XI_EPS);
}

static void xi_profile_is(struct xi *x, int hand, const char *want)
{
	XrInteractionProfileState ps = {.type = XR_TYPE_INTERACTION_PROFILE_STATE};
	assert_int_equal(xrGetCurrentInteractionProfile(x->session, x->hand[hand], &ps), XR_SUCCESS);
	if (!want) {
		assert_int_equal(ps.interactionProfile, XR_NULL_PATH);
		return;
	}
	char buf[XR_MAX_PATH_LENGTH];
	uint32_t n = 0;
	assert_int_equal(xrPathToString(x->inst, ps.interactionProfile, sizeof buf, &n, buf), XR_SUCCESS);
	assert_string_equal(buf, want);
}

/* ---- the five profiles -------------------------------------------------- */

#define XI_PROFILE_BINDINGS 12
struct xi_profile {
	const char *name;
	struct xi_binding b[XI_PROFILE_BINDINGS];
	const char *wrong;      /* a path the profile does not have (or not on that hand) */
	const char *wrong_why;  /* what the error line says about it */
};

#define L "/user/hand/left"
#define R "/user/hand/right"
static const struct xi_profile xi_profiles[] = {
	{"khr/simple_controller",
	 {{XI_GRIP, L "/input/grip/pose"}, {XI_GRIP, R "/input/grip/pose"}, {XI_AIM, L "/input/aim/pose"},
	  {XI_AIM, R "/input/aim/pose"}, {XI_SELECT, L "/input/select/click"}, {XI_SELECT, R "/input/select/click"},
	  {XI_TRIGGER, R "/input/select"}, {XI_MENU, L "/input/menu/click"}, {XI_HAPTIC, L "/output/haptic"},
	  {XI_HAPTIC, R "/output/haptic"}},
	 R "/input/trigger/value", "is not a path of /interaction_profiles/khr/simple_controller"},
	{"oculus/touch_controller",
	 {{XI_GRIP, L "/input/grip/pose"}, {XI_GRIP, R "/input/grip/pose"}, {XI_AIM, R "/input/aim/pose"},
	  {XI_SELECT, R "/input/trigger/value"}, {XI_TRIGGER, R "/input/trigger/value"},
	  {XI_TRIGGER, L "/input/trigger"}, {XI_STICK, L "/input/thumbstick"}, {XI_A, R "/input/a/click"},
	  {XI_X, L "/input/x/click"}, {XI_MENU, L "/input/menu/click"}, {XI_HAPTIC, L "/output/haptic"},
	  {XI_HAPTIC, R "/output/haptic"}},
	 L "/input/a/click", "has a on the right hand only"},
	{"valve/index_controller",
	 {{XI_GRIP, L "/input/grip/pose"}, {XI_GRIP, R "/input/grip/pose"}, {XI_AIM, R "/input/aim/pose"},
	  {XI_SELECT, R "/input/trigger/click"}, {XI_TRIGGER, R "/input/trigger/value"},
	  {XI_STICK, L "/input/thumbstick"}, {XI_A, R "/input/a/click"}, {XI_A, L "/input/a/touch"},
	  {XI_MENU, L "/input/b/click"}, {XI_HAPTIC, R "/output/haptic"}},
	 R "/input/trigger/pull", "has no component 'pull'"},
	{"htc/vive_controller",
	 {{XI_GRIP, L "/input/grip/pose"}, {XI_GRIP, R "/input/grip/pose"}, {XI_AIM, R "/input/aim/pose"},
	  {XI_SELECT, R "/input/trigger/click"}, {XI_TRIGGER, R "/input/trigger/value"},
	  {XI_STICK, L "/input/trackpad"}, {XI_MENU, L "/input/menu/click"}, {XI_HAPTIC, R "/output/haptic"}},
	 L "/input/thumbstick", "is not a path of /interaction_profiles/htc/vive_controller"},
	{"microsoft/motion_controller",
	 {{XI_GRIP, L "/input/grip/pose"}, {XI_GRIP, R "/input/grip/pose"}, {XI_AIM, R "/input/aim/pose"},
	  {XI_SELECT, R "/input/trigger/value"}, {XI_TRIGGER, R "/input/trigger/value"},
	  {XI_STICK, L "/input/thumbstick"}, {XI_MENU, L "/input/menu/click"}, {XI_HAPTIC, R "/output/haptic"}},
	 R "/input/a/click", "is not a path of /interaction_profiles/microsoft/motion_controller"},
};
#define XI_NPROFILES (sizeof xi_profiles / sizeof xi_profiles[0])

static unsigned xi_count(const struct xi_profile *p)
{
	unsigned n = 0;
	while (n < XI_PROFILE_BINDINGS && p->b[n].path)
		n++;
	return n;
}

/* Every profile's bindings are accepted, one wrong path each is refused
 * with the reason in the record, and with XRT_PROFILE naming it the
 * profile is current after attach, with its event. */
static void each_profile_binds_and_refuses_a_wrong_path(void **state)
{
	for (size_t i = 0; i < XI_NPROFILES; i++) {
		const struct xi_profile *p = &xi_profiles[i];
		char full[128];
		snprintf(full, sizeof full, "/interaction_profiles/%s", p->name);
		setenv("XRT_PROFILE", p->name, 1);
		struct xi x;
		xi_open(&x);
		struct xi_binding bad[XI_PROFILE_BINDINGS + 1];
		unsigned n = xi_count(p);
		memcpy(bad, p->b, n * sizeof bad[0]);
		bad[n] = (struct xi_binding){XI_SELECT, p->wrong};
		assert_int_equal(xi_suggest(&x, full, bad, n + 1), XR_ERROR_PATH_UNSUPPORTED);
		/* Refused as a whole; the good ones alone are taken. */
		assert_int_equal(xi_suggest(&x, full, p->b, n), XR_SUCCESS);
		xi_session(&x);
		assert_int_equal(xi_attach(&x), XR_SUCCESS);
		xi_poll(&x);
		assert_int_equal(x.profile_events, 1);
		xi_profile_is(&x, 0, full);
		xi_profile_is(&x, 1, full);
		assert_int_equal(xi_frame(&x), XR_SUCCESS);
		/* Bound on the right: active there; the grip pose on both hands. */
		assert_true(xi_float(&x, XI_TRIGGER, 1).isActive);
		assert_true(xi_bool(&x, XI_SELECT, 1).isActive);
		assert_int_equal(xi_bool(&x, XI_SELECT, 0).isActive, i == 0); /* simple binds select on both */
		XrActionStatePose ps = {.type = XR_TYPE_ACTION_STATE_POSE};
		XrActionStateGetInfo gi = {.type = XR_TYPE_ACTION_STATE_GET_INFO, .action = x.act[XI_GRIP]};
		assert_int_equal(xrGetActionStatePose(x.session, &gi, &ps), XR_SUCCESS);
		assert_true(ps.isActive);
		/* Bound sources: the right trigger value (or simple's select click). */
		XrBoundSourcesForActionEnumerateInfo bi = {.type = XR_TYPE_BOUND_SOURCES_FOR_ACTION_ENUMERATE_INFO,
							   .action = x.act[XI_TRIGGER]};
		XrPath src[8];
		uint32_t ns = 0;
		assert_int_equal(xrEnumerateBoundSourcesForAction(x.session, &bi, 8, &ns, src), XR_SUCCESS);
		assert_true(ns >= 1);
		char buf[XR_MAX_PATH_LENGTH];
		uint32_t len = 0;
		assert_int_equal(xrPathToString(x.inst, src[0], sizeof buf, &len, buf), XR_SUCCESS);
		assert_string_equal(buf, i == 0 ? R "/input/select/click" : R "/input/trigger/value");
		XrInputSourceLocalizedNameGetInfo li = {.type = XR_TYPE_INPUT_SOURCE_LOCALIZED_NAME_GET_INFO,
							.sourcePath = src[0],
							.whichComponents = XR_INPUT_SOURCE_LOCALIZED_NAME_USER_PATH_BIT |
									   XR_INPUT_SOURCE_LOCALIZED_NAME_COMPONENT_BIT};
		char name[256];
		assert_int_equal(xrGetInputSourceLocalizedName(x.session, &li, sizeof name, &len, name), XR_SUCCESS);
		assert_string_equal(name, i == 0 ? "Right Hand Select Click" : "Right Hand Trigger Value");
		xi_close(&x);
		char *rec = th_xrt_read(xi_record);
		char want[300];
		snprintf(want, sizeof want,
			 "error fn=xrSuggestInteractionProfileBindings result=XR_ERROR_PATH_UNSUPPORTED why=binding %u: %s",
			 n, p->wrong);
		xi_assert_line(rec, want);
		if (!strstr(rec, p->wrong_why))
			fail_msg("%s: the record does not say '%s':\n%s", p->name, p->wrong_why, rec);
		snprintf(want, sizeof want, "bindings profile=%s count=%u", full, n);
		xi_assert_line(rec, want);
		snprintf(want, sizeof want, "profile id=1 hand=right path=%s", full);
		xi_assert_line(rec, want);
		xi_assert_line(rec, "attach id=1 sets=1");
		free(rec);
		unlink(xi_record);
	}
}

/* Binding rules a conformant runtime checks, and the call order. */
static void bindings_and_call_order_refused(void **state)
{
	setenv("XRT_REJECT_PROFILE", "valve/index_controller", 1);
	struct xi x;
	xi_open(&x);
	struct xi_binding b = {XI_TRIGGER, R "/input/trigger/value"};
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/acme/wand", &b, 1), XR_ERROR_PATH_UNSUPPORTED);
	/* A runtime without the Index (XRT_REJECT_PROFILE) refuses a good binding of it. */
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/valve/index_controller", &b, 1),
			 XR_ERROR_PATH_UNSUPPORTED);
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/oculus/touch_controller", &b, 1), XR_SUCCESS);
	b.path = "/user/head/input/trigger/value";
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/oculus/touch_controller", &b, 1),
			 XR_ERROR_PATH_UNSUPPORTED);
	b.path = R "/input/trigger/click"; /* touch's trigger has value and touch only */
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/oculus/touch_controller", &b, 1),
			 XR_ERROR_PATH_UNSUPPORTED);
	XrInteractionProfileSuggestedBinding none = {
		.type = XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING,
		.interactionProfile = xi_path(&x, "/interaction_profiles/khr/simple_controller"),
	};
	assert_int_equal(xrSuggestInteractionProfileBindings(x.inst, &none), XR_ERROR_VALIDATION_FAILURE);
	/* An action for the left hand only cannot be bound on the right. */
	XrActionCreateInfo aci = {.type = XR_TYPE_ACTION_CREATE_INFO, .actionType = XR_ACTION_TYPE_BOOLEAN_INPUT,
				  .countSubactionPaths = 1, .subactionPaths = &x.hand[0]};
	snprintf(aci.actionName, sizeof aci.actionName, "left-only");
	snprintf(aci.localizedActionName, sizeof aci.localizedActionName, "Left only");
	XrAction left_only;
	assert_int_equal(xrCreateAction(x.set, &aci, &left_only), XR_SUCCESS);
	XrActionSuggestedBinding sb = {left_only, xi_path(&x, R "/input/select/click")};
	XrInteractionProfileSuggestedBinding one = none;
	one.countSuggestedBindings = 1;
	one.suggestedBindings = &sb;
	assert_int_equal(xrSuggestInteractionProfileBindings(x.inst, &one), XR_ERROR_PATH_UNSUPPORTED);
	/* Names: duplicated, badly formed. */
	assert_int_equal(xrCreateAction(x.set, &aci, &left_only), XR_ERROR_NAME_DUPLICATED);
	snprintf(aci.actionName, sizeof aci.actionName, "Upper");
	assert_int_equal(xrCreateAction(x.set, &aci, &left_only), XR_ERROR_PATH_FORMAT_INVALID);
	XrPath bogus = xi_path(&x, "/user/hand/left/input");
	aci.subactionPaths = &bogus;
	snprintf(aci.actionName, sizeof aci.actionName, "other");
	snprintf(aci.localizedActionName, sizeof aci.localizedActionName, "Other");
	assert_int_equal(xrCreateAction(x.set, &aci, &left_only), XR_ERROR_PATH_UNSUPPORTED);

	b = (struct xi_binding){XI_SELECT, R "/input/select/click"};
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/khr/simple_controller", &b, 1), XR_SUCCESS);
	xi_session(&x);
	XrActionStateGetInfo gi = {.type = XR_TYPE_ACTION_STATE_GET_INFO, .action = x.act[XI_SELECT]};
	XrActionStateBoolean bs = {.type = XR_TYPE_ACTION_STATE_BOOLEAN};
	assert_int_equal(xrGetActionStateBoolean(x.session, &gi, &bs), XR_ERROR_ACTIONSET_NOT_ATTACHED);
	assert_int_equal(xi_sync(&x), XR_ERROR_ACTIONSET_NOT_ATTACHED);
	XrInteractionProfileState ps = {.type = XR_TYPE_INTERACTION_PROFILE_STATE};
	assert_int_equal(xrGetCurrentInteractionProfile(x.session, x.hand[0], &ps), XR_ERROR_ACTIONSET_NOT_ATTACHED);
	assert_int_equal(xi_attach(&x), XR_SUCCESS);
	assert_int_equal(xi_attach(&x), XR_ERROR_ACTIONSETS_ALREADY_ATTACHED);
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/khr/simple_controller", &b, 1),
			 XR_ERROR_ACTIONSETS_ALREADY_ATTACHED);
	snprintf(aci.actionName, sizeof aci.actionName, "late");
	snprintf(aci.localizedActionName, sizeof aci.localizedActionName, "Late");
	aci.subactionPaths = &x.hand[0];
	XrAction late;
	assert_int_equal(xrCreateAction(x.set, &aci, &late), XR_ERROR_ACTIONSETS_ALREADY_ATTACHED);
	XrActionStateFloat fs = {.type = XR_TYPE_ACTION_STATE_FLOAT};
	assert_int_equal(xrGetActionStateFloat(x.session, &gi, &fs), XR_ERROR_ACTION_TYPE_MISMATCH);
	gi.subactionPath = xi_path(&x, "/user/head");
	assert_int_equal(xrGetActionStateBoolean(x.session, &gi, &bs), XR_ERROR_PATH_UNSUPPORTED);
	assert_int_equal(xrGetCurrentInteractionProfile(x.session, gi.subactionPath, &ps), XR_ERROR_PATH_UNSUPPORTED);
	XrActionSpaceCreateInfo sci = {.type = XR_TYPE_ACTION_SPACE_CREATE_INFO, .action = x.act[XI_SELECT],
				       .poseInActionSpace = {{0, 0, 0, 1}, {0, 0, 0}}};
	XrSpace sp;
	assert_int_equal(xrCreateActionSpace(x.session, &sci, &sp), XR_ERROR_ACTION_TYPE_MISMATCH);
	/* Before the first sync every action is inactive; the session is not focused yet either. */
	gi.subactionPath = XR_NULL_PATH;
	assert_int_equal(xrGetActionStateBoolean(x.session, &gi, &bs), XR_SUCCESS);
	assert_false(bs.isActive);
	assert_int_equal(xi_sync(&x), XR_SESSION_NOT_FOCUSED);
	xi_close(&x);
	char *rec = th_xrt_read(xi_record);
	xi_assert_line(rec, "error fn=xrSuggestInteractionProfileBindings result=XR_ERROR_PATH_UNSUPPORTED "
			    "why=interactionProfile /interaction_profiles/acme/wand is not one this runtime offers.");
	xi_assert_line(rec, "error fn=xrSuggestInteractionProfileBindings result=XR_ERROR_PATH_UNSUPPORTED "
			    "why=binding 0: /user/hand/right/input/trigger/click: "
			    "/interaction_profiles/oculus/touch_controller's trigger has no component 'click'.");
	xi_assert_line(rec, "error fn=xrSuggestInteractionProfileBindings result=XR_ERROR_PATH_UNSUPPORTED "
			    "why=binding 0: /user/hand/right/input/select/click: action 'left-only' has no subaction "
			    "path /user/hand/right.");
	xi_assert_line(rec, "error fn=xrSuggestInteractionProfileBindings result=XR_ERROR_PATH_UNSUPPORTED "
			    "why=interactionProfile /interaction_profiles/valve/index_controller is refused "
			    "(XRT_REJECT_PROFILE).");
	xi_assert_line(rec, "bindings profile=/interaction_profiles/oculus/touch_controller count=1");
	xi_assert_line(rec, "syncs id=1 count=1 focused=0");
	free(rec);
}

/* ---- states, edges and poses from a script ------------------------------ */

static const char xi_script[] = "theta-script 1\n"
				"0s     head  pose  0 1.7 0.1  0 0 0 1\n"
				"0s     left  pose  -0.2 1.2 -0.3  0 0 0 1\n"
				"0s     right pose  0.2 1.1 -0.4  0 0 0 1\n"
				"50ms   right trigger 0.8\n"
				"50ms   right press a\n"
				"52ms   right release a\n"
				"52ms   left  press a\n"
				"60ms   left  thumbstick 0.25 -1\n"
				"100ms  right position 0.3 1.1 -0.4\n"
				"150ms  right lost\n"
				"200ms  right pose 0.25 1.0 -0.5  0 0.7071068 0 0.7071068\n"
				"250ms  head position 1 1.5 0\n"
				"300ms  quit\n";

#define XI_MS 1000000ll

/* Touch controllers driven by the script: values, edges (a press and
 * release between two syncs shows once), hands a profile lacks, poses of
 * the action spaces and the head at given times, haptics, the quit. */
static void script_drives_states_edges_and_poses(void **state)
{
	char path[200];
	xi_write("touch.script", xi_script, path, sizeof path);
	setenv("XRT_INPUT", path, 1);
	setenv("XRT_PROFILE", "/interaction_profiles/oculus/touch_controller", 1);
	struct xi x;
	xi_open(&x);
	const struct xi_profile *touch = &xi_profiles[1];
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/oculus/touch_controller", touch->b, xi_count(touch)),
			 XR_SUCCESS);
	xi_session(&x);
	assert_int_equal(xi_attach(&x), XR_SUCCESS);
	XrSpace grip_l = xi_action_space(&x, XI_GRIP, 0), grip_r = xi_action_space(&x, XI_GRIP, 1);
	XrSpace aim_any = xi_action_space(&x, XI_AIM, -1);

	/* Frame 1, script time 0: tracked, at rest. */
	assert_int_equal(xi_frame(&x), XR_SUCCESS);
	XrActionStateFloat tr = xi_float(&x, XI_TRIGGER, 1);
	assert_true(tr.isActive);
	assert_float_equal(tr.currentState, 0, 0);
	assert_false(tr.changedSinceLastSync);
	XrActionStateBoolean a = xi_bool(&x, XI_A, 1);
	assert_true(a.isActive);
	assert_false(a.currentState);
	assert_false(xi_bool(&x, XI_A, 0).isActive); /* touch has no a on the left */
	XrSpaceLocation l = xi_locate(grip_r, x.stage, x.t0);
	xi_assert_pos(&l, 0.2f, 1.1f, -0.4f);
	l = xi_locate(grip_l, x.stage, x.t0);
	xi_assert_pos(&l, -0.2f, 1.2f, -0.3f);
	l = xi_locate(aim_any, x.stage, x.t0); /* bound on the right only */
	xi_assert_pos(&l, 0.2f, 1.1f, -0.4f);
	l = xi_locate(x.view, x.stage, x.t0);
	xi_assert_pos(&l, 0, 1.7f, 0.1f);
	l = xi_locate(x.local, x.stage, x.t0);
	xi_assert_pos(&l, 0, 1.7f, 0.1f);
	l = xi_locate(grip_r, x.view, x.t0); /* the hand seen from the head */
	xi_assert_pos(&l, 0.2f, -0.6f, -0.5f);

	/* Frames 2..5 (to 44.4 ms): nothing yet. Frame 6 (55.6 ms): the trigger, and a
	 * pressed at 50 ms and released at 52 ms still shows held. */
	for (int f = 2; f <= 5; f++)
		assert_int_equal(xi_frame(&x), XR_SUCCESS);
	assert_false(xi_bool(&x, XI_A, 1).currentState);
	assert_int_equal(xi_frame(&x), XR_SUCCESS);
	assert_int_equal(x.t - x.t0, 5 * XI_PERIOD_NS);
	tr = xi_float(&x, XI_TRIGGER, 1);
	assert_float_equal(tr.currentState, 0.8, XI_EPS);
	assert_true(tr.changedSinceLastSync);
	assert_int_equal(tr.lastChangeTime, x.t);
	XrActionStateBoolean sel = xi_bool(&x, XI_SELECT, -1); /* trigger value 0.8 >= 0.5 */
	assert_true(sel.currentState);
	assert_true(sel.changedSinceLastSync);
	a = xi_bool(&x, XI_A, 1);
	assert_true(a.currentState);
	assert_true(a.changedSinceLastSync);
	XrTime t6 = x.t;
	/* Frame 7 (66.7 ms): a is up again; the trigger held, unchanged since frame 6; the stick. */
	assert_int_equal(xi_frame(&x), XR_SUCCESS);
	a = xi_bool(&x, XI_A, 1);
	assert_false(a.currentState);
	assert_true(a.changedSinceLastSync);
	tr = xi_float(&x, XI_TRIGGER, -1);
	assert_float_equal(tr.currentState, 0.8, XI_EPS);
	assert_false(tr.changedSinceLastSync);
	assert_int_equal(tr.lastChangeTime, t6);
	XrActionStateVector2f st = xi_vec(&x, XI_STICK, 0);
	assert_true(st.isActive);
	assert_float_equal(st.currentState.x, 0.25, XI_EPS);
	assert_float_equal(st.currentState.y, -1, XI_EPS);
	assert_false(xi_vec(&x, XI_STICK, 1).isActive);
	/* Frame 8: nothing changed. */
	assert_int_equal(xi_frame(&x), XR_SUCCESS);
	assert_false(xi_bool(&x, XI_A, 1).changedSinceLastSync);
	assert_false(xi_vec(&x, XI_STICK, -1).changedSinceLastSync);

	/* Poses at given times, forwards and back. */
	l = xi_locate(grip_r, x.stage, x.t0 + 99 * XI_MS);
	xi_assert_pos(&l, 0.2f, 1.1f, -0.4f);
	l = xi_locate(grip_r, x.stage, x.t0 + 100 * XI_MS);
	xi_assert_pos(&l, 0.3f, 1.1f, -0.4f);
	l = xi_locate(grip_r, x.stage, x.t0 + 160 * XI_MS);
	assert_int_equal(l.locationFlags, 0); /* lost */
	l = xi_locate(grip_r, x.stage, x.t0 + 200 * XI_MS);
	xi_assert_pos(&l, 0.25f, 1.0f, -0.5f);
	assert_float_equal(l.pose.orientation.y, 0.7071068, XI_EPS);
	assert_float_equal(l.pose.orientation.w, 0.7071068, XI_EPS);
	l = xi_locate(grip_r, x.stage, x.t0 + 10 * XI_MS);
	xi_assert_pos(&l, 0.2f, 1.1f, -0.4f);
	l = xi_locate(x.view, x.local, x.t0 + 260 * XI_MS); /* the head moved; LOCAL stayed */
	xi_assert_pos(&l, 1, -0.2f, -0.1f);
	l = xi_locate(x.stage, x.view, x.t0 + 260 * XI_MS);
	xi_assert_pos(&l, -1, -1.5f, 0);
	XrViewLocateInfo vli = {.type = XR_TYPE_VIEW_LOCATE_INFO,
				.viewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
				.displayTime = x.t0 + 260 * XI_MS,
				.space = x.stage};
	XrViewState vs = {.type = XR_TYPE_VIEW_STATE};
	XrView views[2] = {{.type = XR_TYPE_VIEW}, {.type = XR_TYPE_VIEW}};
	uint32_t nv = 0;
	assert_int_equal(xrLocateViews(x.session, &vli, &vs, 2, &nv, views), XR_SUCCESS);
	assert_float_equal(views[0].pose.position.x, 1 - 0.032, XI_EPS);
	assert_float_equal(views[1].pose.position.y, 1.5, XI_EPS);

	/* Haptics: one hand, both, stop; a bad amplitude refused. */
	XrHapticVibration vib = {.type = XR_TYPE_HAPTIC_VIBRATION, .duration = 20 * XI_MS, .amplitude = 0.5f};
	XrHapticActionInfo hi = {.type = XR_TYPE_HAPTIC_ACTION_INFO, .action = x.act[XI_HAPTIC], .subactionPath = x.hand[1]};
	assert_int_equal(xrApplyHapticFeedback(x.session, &hi, (XrHapticBaseHeader *)&vib), XR_SUCCESS);
	hi.subactionPath = XR_NULL_PATH;
	vib.amplitude = 1.0f;
	vib.duration = XR_MIN_HAPTIC_DURATION;
	vib.frequency = 160.0f;
	assert_int_equal(xrApplyHapticFeedback(x.session, &hi, (XrHapticBaseHeader *)&vib), XR_SUCCESS);
	hi.subactionPath = x.hand[0];
	assert_int_equal(xrStopHapticFeedback(x.session, &hi), XR_SUCCESS);
	vib.amplitude = 1.5f;
	assert_int_equal(xrApplyHapticFeedback(x.session, &hi, (XrHapticBaseHeader *)&vib), XR_ERROR_VALIDATION_FAILURE);
	hi.action = x.act[XI_TRIGGER];
	assert_int_equal(xrStopHapticFeedback(x.session, &hi), XR_ERROR_ACTION_TYPE_MISMATCH);

	/* Frame 15 (155.6 ms): the right hand is lost: its grip space untracked
	 * at the sync time, the pose action still active (it is bound). */
	while (x.frames < 15)
		assert_int_equal(xi_frame(&x), XR_SUCCESS);
	l = xi_locate(grip_r, x.stage, x.t);
	assert_int_equal(l.locationFlags, 0);
	/* The quit at 300 ms: frame 28 is at 299.99999 ms, so after frame 29 the session stops. */
	while (x.state == XR_SESSION_STATE_FOCUSED && x.frames < 40)
		xi_frame(&x);
	assert_int_equal(x.frames, 29);
	assert_int_equal(x.state, XR_SESSION_STATE_STOPPING);
	assert_int_equal(xrEndSession(x.session), XR_SUCCESS);
	xi_close(&x);

	char *rec = th_xrt_read(xi_record);
	xi_assert_line(rec, "script path=");
	xi_assert_line(rec, "haptic id=1 hand=right amplitude=0.500 duration_ns=20000000 frequency=0 frame=9");
	xi_assert_line(rec, "haptic id=1 hand=left amplitude=1.000 duration_ns=-1 frequency=160 frame=9");
	xi_assert_line(rec, "haptic id=1 hand=right amplitude=1.000 duration_ns=-1 frequency=160 frame=9");
	xi_assert_line(rec, "haptic_stop id=1 hand=left frame=9");
	assert_int_equal(th_xrt_lines(rec, "haptic "), 3);
	assert_int_equal(th_xrt_lines(rec, "haptic_stop "), 1);
	xi_assert_line(rec, "script_quit frame=29");
	xi_assert_line(rec, "syncs id=1 count=29 focused=29");
	free(rec);
}

/* A trigger pull and a thumbstick flick that end before the next sync (a
 * client frame slower than them) still show once, at their farthest, and
 * are let go at the sync after; a value that moved and stays shows where it
 * is. Frames are 11.1 ms apart: the pull (20-21 ms) and the flick (24-25
 * ms) fall between the syncs of frames 2 and 3 (11.1 and 22.2 ms) and 3
 * and 4 (22.2 and 33.3 ms). */
static void a_pull_shorter_than_a_frame_still_shows_once(void **state)
{
	char path[200];
	xi_write("short.script",
		 "theta-script 1\n"
		 "0s    right pose  0.2 1.1 -0.4  0 0 0 1\n"
		 "0s    left  pose  -0.2 1.2 -0.3  0 0 0 1\n"
		 "20ms  right trigger 1\n"
		 "21ms  right trigger 0\n"
		 "24ms  left  thumbstick 1 0\n"
		 "25ms  left  thumbstick 0 0\n"
		 "40ms  right trigger 0.9\n"
		 "41ms  right trigger 0.6\n"
		 "1s    quit\n",
		 path, sizeof path);
	setenv("XRT_INPUT", path, 1);
	setenv("XRT_PROFILE", "/interaction_profiles/oculus/touch_controller", 1);
	struct xi x;
	xi_open(&x);
	const struct xi_profile *touch = &xi_profiles[1];
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/oculus/touch_controller", touch->b, xi_count(touch)),
			 XR_SUCCESS);
	xi_session(&x);
	assert_int_equal(xi_attach(&x), XR_SUCCESS);
	for (int f = 1; f <= 2; f++)
		assert_int_equal(xi_frame(&x), XR_SUCCESS);
	assert_float_equal(xi_float(&x, XI_TRIGGER, 1).currentState, 0, 0);
	assert_int_equal(xi_frame(&x), XR_SUCCESS); /* 22.2 ms: the pull of 20-21 ms */
	assert_float_equal(xi_float(&x, XI_TRIGGER, 1).currentState, 1, XI_EPS);
	assert_true(xi_bool(&x, XI_SELECT, -1).currentState);
	assert_float_equal(xi_vec(&x, XI_STICK, 0).currentState.x, 0, 0);
	assert_int_equal(xi_frame(&x), XR_SUCCESS); /* 33.3 ms: let go; the flick of 24-25 ms */
	assert_float_equal(xi_float(&x, XI_TRIGGER, 1).currentState, 0, 0);
	assert_true(xi_float(&x, XI_TRIGGER, 1).changedSinceLastSync);
	assert_float_equal(xi_vec(&x, XI_STICK, 0).currentState.x, 1, XI_EPS);
	assert_int_equal(xi_frame(&x), XR_SUCCESS); /* 44.4 ms: the stick back; 0.9 then 0.6 stays: 0.6 */
	assert_float_equal(xi_vec(&x, XI_STICK, 0).currentState.x, 0, 0);
	assert_float_equal(xi_float(&x, XI_TRIGGER, 1).currentState, 0.6, XI_EPS);
	assert_int_equal(xi_frame(&x), XR_SUCCESS);
	assert_float_equal(xi_float(&x, XI_TRIGGER, 1).currentState, 0.6, XI_EPS);
	assert_false(xi_float(&x, XI_TRIGGER, 1).changedSinceLastSync);
	xi_close(&x);
}

/* XRT_PROFILE names controllers the application has no bindings for:
 * no current profile, no event, everything inactive, no haptics. */
static void an_unsuggested_profile_leaves_input_inactive(void **state)
{
	setenv("XRT_PROFILE", "valve/index_controller", 1);
	struct xi x;
	xi_open(&x);
	const struct xi_profile *simple = &xi_profiles[0];
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/khr/simple_controller", simple->b, xi_count(simple)),
			 XR_SUCCESS);
	xi_session(&x);
	assert_int_equal(xi_attach(&x), XR_SUCCESS);
	assert_int_equal(xi_frame(&x), XR_SUCCESS);
	assert_int_equal(x.profile_events, 0);
	xi_profile_is(&x, 0, NULL);
	assert_false(xi_bool(&x, XI_SELECT, -1).isActive);
	XrSpace grip = xi_action_space(&x, XI_GRIP, 1);
	assert_int_equal(xi_locate(grip, x.stage, x.t).locationFlags, 0);
	XrHapticVibration vib = {.type = XR_TYPE_HAPTIC_VIBRATION, .duration = XI_MS, .amplitude = 0.5f};
	XrHapticActionInfo hi = {.type = XR_TYPE_HAPTIC_ACTION_INFO, .action = x.act[XI_HAPTIC]};
	assert_int_equal(xrApplyHapticFeedback(x.session, &hi, (XrHapticBaseHeader *)&vib), XR_SUCCESS);
	xi_close(&x);
	char *rec = th_xrt_read(xi_record);
	xi_assert_line(rec, "profile id=1 hand=left path=none");
	assert_int_equal(th_xrt_lines(rec, "haptic "), 0);
	free(rec);
}

/* XRT_PROFILE_SWITCH swaps the controllers after a frame (event, new
 * profile); XRT_UNFOCUSED takes focus away for a while (syncs say so,
 * everything inactive, haptics not played), without a script. */
static void profile_switch_and_unfocused_frames(void **state)
{
	setenv("XRT_PROFILE_SWITCH", "3:microsoft/motion_controller", 1);
	setenv("XRT_UNFOCUSED", "5,7", 1);
	struct xi x;
	xi_open(&x);
	const struct xi_profile *simple = &xi_profiles[0], *wmr = &xi_profiles[4];
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/khr/simple_controller", simple->b, xi_count(simple)),
			 XR_SUCCESS);
	assert_int_equal(xi_suggest(&x, "/interaction_profiles/microsoft/motion_controller", wmr->b, xi_count(wmr)),
			 XR_SUCCESS);
	xi_session(&x);
	assert_int_equal(xi_attach(&x), XR_SUCCESS);
	XrSpace grip = xi_action_space(&x, XI_GRIP, 0);
	for (int f = 1; f <= 3; f++)
		assert_int_equal(xi_frame(&x), XR_SUCCESS);
	/* Without a script the hands rest where the docs say. */
	XrSpaceLocation l = xi_locate(grip, x.stage, x.t);
	xi_assert_pos(&l, -0.2f, 1.2f, -0.3f);
	assert_true(xi_bool(&x, XI_MENU, 0).isActive);
	assert_false(xi_vec(&x, XI_STICK, 0).isActive); /* simple has no stick */
	assert_int_equal(x.profile_events, 2);          /* attach, then the switch after frame 3 */
	xi_profile_is(&x, 1, "/interaction_profiles/microsoft/motion_controller");
	assert_int_equal(xi_frame(&x), XR_SUCCESS); /* frame 4 */
	assert_true(xi_vec(&x, XI_STICK, 0).isActive);
	assert_int_equal(xi_frame(&x), XR_SUCCESS); /* frame 5, then VISIBLE */
	assert_int_equal(x.state, XR_SESSION_STATE_VISIBLE);
	assert_int_equal(xi_frame(&x), XR_SESSION_NOT_FOCUSED); /* frame 6 */
	assert_false(xi_vec(&x, XI_STICK, 0).isActive);
	assert_int_equal(xi_locate(grip, x.stage, x.t).locationFlags, 0);
	XrHapticVibration vib = {.type = XR_TYPE_HAPTIC_VIBRATION, .duration = XI_MS, .amplitude = 0.5f};
	XrHapticActionInfo hi = {.type = XR_TYPE_HAPTIC_ACTION_INFO, .action = x.act[XI_HAPTIC]};
	assert_int_equal(xrApplyHapticFeedback(x.session, &hi, (XrHapticBaseHeader *)&vib), XR_SESSION_NOT_FOCUSED);
	assert_int_equal(xi_frame(&x), XR_SESSION_NOT_FOCUSED); /* frame 7, then FOCUSED */
	assert_int_equal(x.state, XR_SESSION_STATE_FOCUSED);
	assert_int_equal(xi_frame(&x), XR_SUCCESS);
	assert_true(xi_vec(&x, XI_STICK, 0).isActive);
	assert_int_equal(xrApplyHapticFeedback(x.session, &hi, (XrHapticBaseHeader *)&vib), XR_SUCCESS);
	xi_close(&x);
	char *rec = th_xrt_read(xi_record);
	xi_assert_line(rec, "profile id=1 hand=left path=/interaction_profiles/khr/simple_controller");
	xi_assert_line(rec, "profile id=1 hand=left path=/interaction_profiles/microsoft/motion_controller");
	xi_assert_line(rec, "haptic id=1 hand=right amplitude=0.500 duration_ns=1000000 frequency=0 frame=9");
	assert_int_equal(th_xrt_lines(rec, "haptic "), 1); /* wmr's haptic is bound on the right only */
	xi_assert_line(rec, "syncs id=1 count=8 focused=6");
	free(rec);
}

/* ---- errors in the environment ------------------------------------------ */

static int xi_instance_result(void *x)
{
	return (int)xi_instance(x);
}

/* xrCreateInstance with stderr in a file: its result, and the runtime's
 * lines ("theta test runtime: ...") into lines. */
static XrResult xi_create_capturing(char *lines, size_t len, unsigned *nlines)
{
	char path[200], said[4096];
	snprintf(path, sizeof path, "%s/stderr", xi_dir);
	struct xi x;
	XrResult r = (XrResult)th_with_stderr(path, xi_instance_result, &x, said, sizeof said);
	*nlines = 0;
	lines[0] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(said, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "theta test runtime: ", 20))
			continue;
		(*nlines)++;
		snprintf(lines + strlen(lines), len - strlen(lines), "%s\n", line);
	}
	if (r == XR_SUCCESS)
		xrDestroyInstance(x.inst);
	return r;
}

static void a_bad_script_or_profile_is_one_line(void **state)
{
	char path[200], lines[1024], want[400];
	unsigned n;
	xi_write("bad.script", "theta-script 1\n0s right press q\n", path, sizeof path);
	setenv("XRT_INPUT", path, 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	snprintf(want, sizeof want,
		 "theta test runtime: XRT_INPUT=%s: line 2, column 16: unknown button 'q' (a b x y menu thumbstick "
		 "trigger grip)\n",
		 path);
	assert_string_equal(lines, want);

	snprintf(path, sizeof path, "%s/missing.script", xi_dir);
	setenv("XRT_INPUT", path, 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	snprintf(want, sizeof want, "theta test runtime: XRT_INPUT=%s: cannot read it: No such file or directory\n", path);
	assert_string_equal(lines, want);
	unsetenv("XRT_INPUT");

	setenv("XRT_PROFILE", "oculus/touch", 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	assert_string_equal(lines, "theta test runtime: XRT_PROFILE=oculus/touch: expected khr/simple_controller, "
				   "oculus/touch_controller, valve/index_controller, htc/vive_controller, "
				   "microsoft/motion_controller or none\n");
	unsetenv("XRT_PROFILE");
	setenv("XRT_UNFOCUSED", "7,3", 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	assert_string_equal(lines, "theta test runtime: XRT_UNFOCUSED=7,3: expected FROM or FROM,TO frame numbers "
				   "(0 < FROM < TO)\n");
	unsetenv("XRT_UNFOCUSED");
	setenv("XRT_PROFILE_SWITCH", "0:none", 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	assert_string_equal(lines, "theta test runtime: XRT_PROFILE_SWITCH=0:none: '0' is not a frame number (1 or more)\n");
	setenv("XRT_PROFILE_SWITCH", "5:acme/wand", 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	assert_string_equal(lines, "theta test runtime: XRT_PROFILE_SWITCH=5:acme/wand: the profile must be "
				   "khr/simple_controller, oculus/touch_controller, valve/index_controller, "
				   "htc/vive_controller, microsoft/motion_controller or none\n");
	unsetenv("XRT_PROFILE_SWITCH");
	setenv("XRT_REJECT_PROFILE", "none", 1); /* a profile, not the absence of one */
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	assert_string_equal(lines, "theta test runtime: XRT_REJECT_PROFILE=none: expected khr/simple_controller, "
				   "oculus/touch_controller, valve/index_controller, htc/vive_controller or "
				   "microsoft/motion_controller\n");
	unsetenv("XRT_REJECT_PROFILE");
	setenv("XRT_GARBAGE", "0", 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	assert_string_equal(lines, "theta test runtime: XRT_GARBAGE=0: expected a frame number (1 or more)\n");
	unsetenv("XRT_GARBAGE");
	setenv("XRT_FAIL_INPUT", "soon", 1);
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_ERROR_INITIALIZATION_FAILED);
	assert_int_equal(n, 1);
	assert_string_equal(lines, "theta test runtime: XRT_FAIL_INPUT=soon: expected a frame number (1 or more)\n");
	unsetenv("XRT_FAIL_INPUT");
	assert_int_equal(xi_create_capturing(lines, sizeof lines, &n), XR_SUCCESS);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(each_profile_binds_and_refuses_a_wrong_path, xi_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(bindings_and_call_order_refused, xi_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(script_drives_states_edges_and_poses, xi_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(an_unsuggested_profile_leaves_input_inactive, xi_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(profile_switch_and_unfocused_frames, xi_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(a_bad_script_or_profile_is_one_line, xi_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(a_pull_shorter_than_a_frame_still_shows_once, xi_setup, th_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
